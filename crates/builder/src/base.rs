//! Base images without Docker Hub: a Debian rootfs per platform from mmdebstrap, written as a
//! correctly labelled OCI image (Engine 20.10's `docker import --platform` would label every one
//! of them amd64), all platforms in one index.
//!
//! Each platform's image is cached under `$XDG_CACHE_HOME/archbench/base` (else
//! `~/.cache/archbench/base`), keyed by suite, architecture, packages and mirror, so a rerun
//! takes seconds. The mirror defaults to the host's apt source, which is also what the image's
//! own apt configuration then uses.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use archbench_oci::layout::{media, LayerInput, LayoutWriter, Written};
use archbench_oci::{ImageRef, ImageSource};
use archbench_platform::Platform;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::{Error, Result};

/// What to bootstrap.
#[derive(Debug, Clone)]
pub struct BaseSpec {
    /// Debian suite (`bookworm`).
    pub suite: String,
    /// Extra packages for every platform (`gcc,make`).
    pub include: Vec<String>,
    /// Extra packages for one platform (`linux/amd64` → cross compilers).
    pub extra: std::collections::BTreeMap<String, Vec<String>>,
    /// Archive URL; `None` reads the host's apt sources.
    pub mirror: Option<String>,
    /// Cache directory; `None` for the default.
    pub cache: Option<PathBuf>,
}

/// One platform's base image, built or found in the cache.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BaseImage {
    /// The platform.
    pub platform: String,
    /// Manifest digest.
    pub manifest_digest: archbench_oci::Digest,
    /// Compressed layer size.
    pub layer_bytes: u64,
    /// Seconds mmdebstrap took (0 when cached).
    pub bootstrap_seconds: f64,
    /// Whether it came from the cache.
    pub cached: bool,
}

/// The cache directory.
pub fn cache_dir(spec: &BaseSpec) -> PathBuf {
    if let Some(c) = &spec.cache {
        return c.clone();
    }
    archbench_exec::host::cache_root().join("base")
}

/// The host's Debian mirror: the first `URIs:` of a deb822 source, else the first `deb` line.
pub fn host_mirror() -> Option<String> {
    let deb822 = Path::new("/etc/apt/sources.list.d/debian.sources");
    if let Ok(text) = std::fs::read_to_string(deb822) {
        if let Some(uri) = text
            .lines()
            .filter_map(|l| l.strip_prefix("URIs:"))
            .flat_map(|u| u.split_whitespace())
            .find(|u| !u.contains("security"))
        {
            return Some(uri.to_owned());
        }
    }
    let list = std::fs::read_to_string("/etc/apt/sources.list").ok()?;
    list.lines()
        .filter(|l| l.starts_with("deb "))
        .filter_map(|l| l.split_whitespace().find(|w| w.starts_with("http")))
        .find(|u| !u.contains("security"))
        .map(str::to_owned)
}

fn packages(spec: &BaseSpec, platform: &Platform) -> Vec<String> {
    let mut include = spec.include.clone();
    include.extend(spec.extra.get(&platform.to_string()).cloned().unwrap_or_default());
    include.sort();
    include.dedup();
    include
}

fn key(spec: &BaseSpec, platform: &Platform, mirror: &str) -> String {
    let include = packages(spec, platform);
    let text = format!("v1|{}|{}|{}|{mirror}", spec.suite, platform, include.join(","));
    hex::encode(&Sha256::digest(text.as_bytes())[..8])
}
// Long (about 130 lines): the mmdebstrap steps per platform in order (cache key, bootstrap,
// import, push), each logged; issue 16 revisits base images for BuildKit.

/// Bootstrap (or reuse) a base image for each platform into the cache layout; returns the
/// layout, the per-platform images, the index written there, and its tag in the layout (one per
/// spec and platform list, so concurrent bootstraps of different bases never share it).
pub fn bootstrap(
    spec: &BaseSpec,
    platforms: &[Platform],
    progress: &mut dyn FnMut(&str),
) -> Result<(PathBuf, Vec<BaseImage>, Written, String)> {
    // No archive host is written into archbench: the one the system's apt sources name, or
    // the one given.
    let mirror = spec.mirror.clone().or_else(host_mirror).ok_or_else(|| {
        Error::Unsupported(
            "no Debian archive in this system's apt sources (/etc/apt/sources.list.d/debian.sources, /etc/apt/sources.list); pass --mirror URI".into(),
        )
    })?;
    let cache = cache_dir(spec);
    let layout = cache.join("layout");
    let io = |action, path: &Path, source| Error::Io { action, path: path.to_owned(), source };
    std::fs::create_dir_all(&layout).map_err(|e| io("creating", &layout, e))?;
    // One bootstrap at a time per cache: two would run mmdebstrap twice for the same key and
    // race on the layout's index.json.
    let lock_path = cache.join(".lock");
    let lock = std::fs::File::create(&lock_path).map_err(|e| io("creating", &lock_path, e))?;
    rustix::fs::flock(&lock, rustix::fs::FlockOperation::LockExclusive)
        .map_err(|e| io("locking", &lock_path, e.into()))?;
    let mut images = Vec::new();
    let mut entries = Vec::new();
    for p in platforms {
        let debarch = p.debian_arch().ok_or_else(|| {
            Error::Unsupported(format!(
                "{p} has no Debian architecture; mmdebstrap cannot bootstrap it"
            ))
        })?;
        let k = format!("base-{}", key(spec, p, &mirror));
        let r = ImageRef::Layout { dir: layout.clone(), tag: Some(k.clone()) };
        if let Ok(src) = ImageSource::open(&r) {
            if let (Ok(root), Ok(imgs)) = (src.root(), src.images()) {
                let layer_bytes = imgs.iter().flat_map(|i| &i.layers).map(|l| l.size).sum();
                progress(&format!("{p}: cached ({})", root.digest.short()));
                let w = Written {
                    digest: root.digest.clone(),
                    size: root.bytes.len() as u64,
                    media_type: root.media_type.clone(),
                };
                images.push(BaseImage {
                    platform: p.to_string(),
                    manifest_digest: root.digest,
                    layer_bytes,
                    bootstrap_seconds: 0.0,
                    cached: true,
                });
                entries.push((w, p.clone()));
                continue;
            }
        }
        progress(&format!(
            "{p}: mmdebstrap --arch={debarch} {} (under QEMU when foreign; minutes)",
            spec.suite
        ));
        let started = Instant::now();
        let tmp = tempfile::Builder::new()
            .prefix("rootfs-")
            .suffix(".tar")
            .tempfile_in(&cache)
            .map_err(|e| io("creating a temp file in", &cache, e))?;
        let mut cmd = Command::new("mmdebstrap");
        cmd.args(["--variant=minbase", "--quiet", "--mode=root", "--format=tar"])
            .arg(format!("--architectures={debarch}"))
            .arg("--aptopt=Acquire::Retries \"3\"")
            .arg("--dpkgopt=path-exclude=/usr/share/doc/*")
            .arg("--dpkgopt=path-exclude=/usr/share/man/*")
            .arg("--dpkgopt=path-exclude=/usr/share/locale/*");
        let include = packages(spec, p);
        if !include.is_empty() {
            cmd.arg(format!("--include={}", include.join(",")));
        }
        cmd.arg(&spec.suite).arg(tmp.path()).arg(&mirror);
        let out = cmd.output().map_err(|e| Error::Tool {
            tool: "mmdebstrap".into(),
            message: format!("cannot run it ({e}); install mmdebstrap (scripts/setup does)"),
        })?;
        if !out.status.success() {
            let err = String::from_utf8_lossy(&out.stderr);
            let tail: Vec<&str> =
                err.lines().rev().take(12).collect::<Vec<_>>().into_iter().rev().collect();
            return Err(Error::Tool {
                tool: format!("mmdebstrap --arch={debarch}"),
                message: format!("{}\n{}\n(for a foreign architecture, qemu-user-static must be registered in binfmt_misc: archbench doctor)", out.status, tail.join("\n")),
            });
        }
        let tar = std::fs::read(tmp.path()).map_err(|e| io("reading", tmp.path(), e))?;
        let layer = gzip_layer(tar)?;
        let layer_bytes = layer.blob.len() as u64;
        let mut w = LayoutWriter::create(&layout)?;
        let mut config = archbench_oci::config::Config::default();
        config.set_env(Some(vec![
            "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin".to_owned(),
        ]));
        config.set_cmd(Some(vec!["bash".to_owned()]));
        config.set_labels(Some(std::collections::HashMap::from([
            (
                "org.opencontainers.image.description".to_owned(),
                format!(
                    "Debian {} minbase for {p}, bootstrapped by archbench with mmdebstrap",
                    spec.suite
                ),
            ),
            ("org.archbench.include".to_owned(), include.join(",")),
        ])));
        let m = w.image_with_config(p, &[layer], config)?;
        w.tag(&m, &k)?;
        let seconds = started.elapsed().as_secs_f64();
        progress(&format!("{p}: done in {seconds:.0} s ({} MiB compressed)", layer_bytes >> 20));
        images.push(BaseImage {
            platform: p.to_string(),
            manifest_digest: m.digest.clone(),
            layer_bytes,
            bootstrap_seconds: seconds,
            cached: false,
        });
        entries.push((m, p.clone()));
    }
    let mut w = LayoutWriter::create(&layout)?;
    let idx = w.index(&entries, &Default::default())?;
    let keys: Vec<String> = platforms.iter().map(|p| key(spec, p, &mirror)).collect();
    let tag = format!(
        "index-{}",
        key(&BaseSpec { include: keys, ..spec.clone() }, &Platform::linux_amd64(), &mirror)
    );
    w.tag(&idx, &tag)?;
    drop(lock);
    Ok((layout, images, idx, tag))
}

/// A gzip layer from an uncompressed tar (diff ID of the tar, digest of the gzip).
pub fn gzip_layer(tar: Vec<u8>) -> Result<LayerInput> {
    let diff_id = archbench_oci::Digest::of(&tar);
    let mut gz = flate2::write::GzEncoder::new(
        Vec::with_capacity(tar.len() / 3),
        flate2::Compression::fast(),
    );
    gz.write_all(&tar)
        .and_then(|_| gz.finish())
        .map(|blob| LayerInput { blob, media_type: media::LAYER_TAR_GZIP.into(), diff_id })
        .map_err(|e| Error::Io {
            action: "compressing a layer",
            path: PathBuf::from("(memory)"),
            source: e,
        })
}
