//! What the engine's BuildKit can do, found by asking it and by trying, never from version
//! numbers: its version and workers (control API), then three tiny solves of a two-line
//! Dockerfile (`FROM scratch`, `COPY f /f`):
//! - two platforms into the `oci` exporter with `rewrite-timestamp` and `SOURCE_DATE_EPOCH=0`:
//!   OCI export, a multi-platform solve into one index, and whether the copied file's time
//!   (2001-09-09 in the context) came out as the epoch;
//! - where the OCI export fails, two platforms into the engine's store (`moby`), which says
//!   whether one solve can hold several platforms at all;
//! - `wasi/wasm` into the engine's store: whether it keeps non-Linux images;
//! - one platform with no image export and a registry cache export to a loopback port where
//!   nothing listens: an engine without that cache exporter refuses the solve naming it; one
//!   with it solves and then fails to push (the evidence that the exporter ran). Nothing is
//!   written anywhere.
//!
//! Nothing is pulled: the Dockerfile starts from `scratch`.

use std::collections::HashMap;
use std::io::Read;
use std::path::Path;
use std::sync::Arc;

use archbench_results::error_line;
use bollard::moby::buildkit::v1::{
    CacheOptions, CacheOptionsEntry, InfoRequest, ListWorkersRequest,
};
use serde::Serialize;

use super::filesync::{Entry, Kind, Tree};
use super::{control, run, Dial, Error, Solve};

/// The time the probe file carries in the context (2001-09-09T01:46:40Z).
const PROBE_MTIME: i64 = 1_000_000_000;

/// The tag the `wasi/wasm` probe stores, for the caller to remove.
pub const WASM_PROBE_TAG: &str = "archbench-probe:wasi-wasm";

/// One thing the engine's BuildKit can or cannot do, as tried.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Capability {
    /// `oci-export`, `multi-platform`, `rewrite-timestamp`, `non-linux-images`,
    /// `registry-cache`.
    pub name: String,
    /// It worked.
    pub available: bool,
    /// What was seen: the evidence, or the engine's own words when it refused.
    pub detail: String,
}

/// What the engine's BuildKit says about itself and what the probes found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct Facts {
    /// `v0.13.2`, when BuildKit reports it (the `Info` call exists from v0.11).
    pub version: Option<String>,
    /// Each worker's platforms and snapshotter.
    pub workers: Vec<String>,
    /// The probes' outcomes, in the order above.
    pub capabilities: Vec<Capability>,
}

fn tree() -> Arc<Tree> {
    let mut t = Tree::default();
    let file = |bytes: &[u8], mtime| Entry {
        mode: 0o644,
        uid: 0,
        gid: 0,
        mtime,
        kind: Kind::File(Arc::new(bytes.to_vec())),
    };
    t.insert("Dockerfile".into(), file(b"FROM scratch\nCOPY f /f\n", 0));
    t.insert("f".into(), file(b"probe\n", PROBE_MTIME));
    Arc::new(t)
}

fn solve(platforms: &str, exporter: &str, exporter_attrs: &[(&str, &str)]) -> Solve {
    Solve {
        context: tree(),
        frontend_attrs: HashMap::from([
            ("filename".to_owned(), "Dockerfile".to_owned()),
            ("platform".to_owned(), platforms.to_owned()),
            ("build-arg:SOURCE_DATE_EPOCH".to_owned(), "0".to_owned()),
        ]),
        exporter: exporter.to_owned(),
        exporter_attrs: exporter_attrs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
        cache: CacheOptions::default(),
        output: None,
    }
}

fn cap(name: &str, available: bool, detail: impl Into<String>) -> Capability {
    Capability { name: name.to_owned(), available, detail: detail.into() }
}

/// Ask and try (see the module note); `scratch` holds the OCI probe's tar.
pub async fn probe(dial: &Dial, scratch: &Path) -> Result<Facts, Error> {
    let mut client = control(dial).await?;
    let mut facts = Facts::default();
    if let Ok(info) = client.info(InfoRequest {}).await {
        facts.version = info.into_inner().buildkit_version.map(|v| v.version);
    }
    let workers = client
        .list_workers(ListWorkersRequest { filter: vec![] })
        .await
        .map_err(|status| Error::Refused { call: Some("listing BuildKit's workers"), status })?;
    for w in workers.into_inner().record {
        let mut platforms: Vec<String> = Vec::new();
        for p in &w.platforms {
            let v = if p.variant.is_empty() { String::new() } else { format!("/{}", p.variant) };
            let name = format!("{}/{}{v}", p.os, p.architecture);
            // A worker lists its own platform once per feature set (amd64 and amd64 with
            // `osfeatures`); a name is said once.
            if !platforms.contains(&name) {
                platforms.push(name);
            }
        }
        let snapshotter = w.labels.get("org.mobyproject.buildkit.worker.snapshotter");
        facts.workers.push(format!(
            "{} (snapshotter {})",
            platforms.join(","),
            snapshotter.map_or("unknown", String::as_str)
        ));
    }
    let quiet = &mut |_| {};
    let tar = scratch.join("probe-oci.tar");
    let mut oci = solve("linux/amd64,linux/arm64", "oci", &[("rewrite-timestamp", "true")]);
    oci.output = Some(tar.clone());
    let read = |source| Error::Output { exporter: "oci", path: tar.clone(), source };
    match run(dial, &oci, quiet).await.and_then(|_| read_oci(&tar).map_err(read)) {
        Ok(seen) => {
            facts.capabilities.push(cap(
                "oci-export",
                true,
                format!("the oci exporter wrote an index of {} manifests", seen.platforms.len()),
            ));
            facts.capabilities.push(cap(
                "multi-platform",
                seen.platforms.len() == 2,
                format!("one solve for linux/amd64,linux/arm64 gave {}", seen.platforms.join(", ")),
            ));
            facts.capabilities.push(match seen.mtime {
                Some(0) => cap(
                    "rewrite-timestamp",
                    true,
                    "a 2001 file time came out as SOURCE_DATE_EPOCH=0",
                ),
                Some(t) => cap(
                    "rewrite-timestamp",
                    false,
                    format!("the exporter kept the file time {t} under SOURCE_DATE_EPOCH=0"),
                ),
                None => {
                    cap("rewrite-timestamp", false, "the probe file was not in the exported layer")
                }
            });
        }
        Err(why) => {
            facts.capabilities.push(cap("oci-export", false, error_line(&why)));
            let multi =
                solve("linux/amd64,linux/arm64", "moby", &[("name", "archbench-probe:multi")]);
            facts.capabilities.push(match run(dial, &multi, quiet).await {
                Ok(_) => cap(
                    "multi-platform",
                    true,
                    "two platforms went into the engine's store in one solve",
                ),
                Err(e) => cap("multi-platform", false, error_line(&e)),
            });
            facts.capabilities.push(cap(
                "rewrite-timestamp",
                false,
                "not tried: it is an option of the oci exporter, which this engine lacks",
            ));
        }
    }
    let wasm = solve("wasi/wasm", "moby", &[("name", WASM_PROBE_TAG)]);
    facts.capabilities.push(match run(dial, &wasm, quiet).await {
        Ok(_) => cap("non-linux-images", true, "a wasi/wasm image went into the engine's store"),
        Err(e) => cap("non-linux-images", false, error_line(&e)),
    });
    facts.capabilities.push(registry_cache(dial, quiet).await);
    let _ = std::fs::remove_file(&tar);
    Ok(facts)
}

/// The registry cache probe (see the module note). The port is one the system just handed out
/// and this process closed again, so nothing answers there.
async fn registry_cache(dial: &Dial, quiet: &mut dyn FnMut(super::BuildEvent)) -> Capability {
    let addr = match std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()) {
        Ok(a) => a.to_string(),
        Err(e) => return cap("registry-cache", false, format!("not tried: no loopback port: {e}")),
    };
    let mut s = solve("linux/amd64", "", &[]);
    s.cache.exports.push(CacheOptionsEntry {
        r#type: "registry".into(),
        attrs: HashMap::from([
            ("ref".to_owned(), format!("{addr}/archbench-probe:cache")),
            ("mode".to_owned(), "min".to_owned()),
        ]),
    });
    match run(dial, &s, quiet).await.map_err(|e| error_line(&e)) {
        Ok(_) => cap("registry-cache", true, "a registry cache export finished"),
        Err(e) if e.contains(&addr) => cap(
            "registry-cache",
            true,
            format!("the registry cache exporter ran: its push to {addr} (nothing listens there) failed as meant"),
        ),
        Err(e) => cap("registry-cache", false, e),
    }
}

/// What the OCI probe's tar holds: each image manifest's platform, and the probe file's time.
struct Seen {
    platforms: Vec<String>,
    mtime: Option<u64>,
}

fn read_oci(tar: &Path) -> std::io::Result<Seen> {
    let file = std::fs::File::open(tar)?;
    let mut blobs: HashMap<String, Vec<u8>> = HashMap::new();
    let mut archive = tar::Archive::new(file);
    for e in archive.entries()? {
        let mut e = e?;
        let path = e.path()?.to_string_lossy().into_owned();
        let mut bytes = Vec::new();
        e.read_to_end(&mut bytes)?;
        blobs.insert(path, bytes);
    }
    let blob = |digest: &str| blobs.get(&format!("blobs/{}", digest.replacen(':', "/", 1)));
    let parse =
        |b: &[u8]| serde_json::from_slice::<serde_json::Value>(b).map_err(std::io::Error::from);
    let mut seen = Seen { platforms: Vec::new(), mtime: None };
    let index = blobs.get("index.json").ok_or_else(|| {
        std::io::Error::new(std::io::ErrorKind::InvalidData, "the oci tar has no index.json")
    })?;
    let mut queue: Vec<serde_json::Value> = vec![parse(index)?];
    while let Some(doc) = queue.pop() {
        for m in doc["manifests"].as_array().into_iter().flatten() {
            let Some(bytes) = m["digest"].as_str().and_then(blob) else { continue };
            let inner = parse(bytes)?;
            if inner["manifests"].is_array() {
                queue.push(inner);
                continue;
            }
            let p = &m["platform"];
            if p.is_object() {
                seen.platforms.push(format!(
                    "{}/{}",
                    p["os"].as_str().unwrap_or("?"),
                    p["architecture"].as_str().unwrap_or("?")
                ));
            }
            for layer in inner["layers"].as_array().into_iter().flatten() {
                let Some(gz) = layer["digest"].as_str().and_then(blob) else { continue };
                let mut t = tar::Archive::new(flate2::read::GzDecoder::new(&gz[..]));
                for e in t.entries()?.flatten() {
                    let is_f =
                        e.path().is_ok_and(|p| p.to_string_lossy().trim_start_matches("./") == "f");
                    if is_f {
                        seen.mtime = e.header().mtime().ok();
                    }
                }
            }
        }
    }
    Ok(seen)
}
