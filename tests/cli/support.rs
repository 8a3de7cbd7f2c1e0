//! Shared helpers: the archbench command, and a lock that keeps tests which switch binfmt
//! entries off from running beside tests that need emulation.

use std::fs::File;
use std::path::Path;

use assert_cmd::Command;

/// `archbench` from this build.
pub fn archbench() -> Command {
    let mut c = Command::cargo_bin("archbench").expect("archbench binary");
    c.env_remove("RUST_LOG");
    c
}

const LOCK: &str = "/tmp/archbench-tests-binfmt.lock";

/// Held by tests that need emulation to work (shared) or that disable it (exclusive).
pub struct BinfmtLock(#[allow(dead_code)] File);

impl BinfmtLock {
    /// Emulation must stay as it is while this is held.
    pub fn shared() -> Self {
        let f = File::create(LOCK).expect("lock file");
        f.lock_shared().expect("shared lock");
        BinfmtLock(f)
    }
    /// Nobody else may rely on emulation while this is held.
    pub fn exclusive() -> Self {
        let f = File::create(LOCK).expect("lock file");
        f.lock().expect("exclusive lock");
        BinfmtLock(f)
    }
}

/// Disables a binfmt entry and re-enables it when dropped (also on panic).
pub struct DisabledEntry {
    path: std::path::PathBuf,
    _lock: BinfmtLock,
}

impl DisabledEntry {
    pub fn new(name: &str) -> Self {
        let lock = BinfmtLock::exclusive();
        let path = Path::new("/proc/sys/fs/binfmt_misc").join(name);
        assert!(path.exists(), "{} is not registered: run scripts/setup (installs qemu-user-static, mounts binfmt_misc)", path.display());
        std::fs::write(&path, "0")
            .unwrap_or_else(|e| panic!("disabling {}: {e} (needs root)", path.display()));
        DisabledEntry { path, _lock: lock }
    }
}

impl Drop for DisabledEntry {
    fn drop(&mut self) {
        if let Err(e) = std::fs::write(&self.path, "1") {
            eprintln!(
                "could not re-enable {}: {e}; run: echo 1 > {}",
                self.path.display(),
                self.path.display()
            );
        }
    }
}

/// Parse stdout as JSON, showing stdout and stderr when it is not.
pub fn json(out: &std::process::Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}):\nstdout:\n{}\nstderr:\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

/// The Docker CLI that matches Debian's engine (falls back to whatever `docker` is on PATH).
pub fn docker() -> std::process::Command {
    let bin = if Path::new("/usr/bin/docker").exists() { "/usr/bin/docker" } else { "docker" };
    std::process::Command::new(bin)
}

/// Run a docker CLI command, panicking with its output (and the fix) when it fails.
pub fn docker_ok(args: &[&str]) -> String {
    let out = docker()
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("docker {args:?}: {e}; install docker.io (scripts/setup)"));
    assert!(
        out.status.success(),
        "docker {args:?} failed: {}{}\n(is dockerd running? scripts/setup starts it)",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `docker buildx ARGS` through Debian's 20.10 client and the trixie buildx plugin that
/// scripts/setup installs; panics with its output and the fix when it fails.
pub fn buildx_ok(args: &[&str]) -> String {
    let plugin = std::env::var_os("HOME")
        .map(|h| Path::new(&h).join(".docker/cli-plugins/docker-buildx"))
        .filter(|p| p.is_file());
    assert!(
        plugin.is_some(),
        "~/.docker/cli-plugins/docker-buildx is missing: run scripts/setup (it fetches Debian trixie's docker-buildx)"
    );
    let out = std::process::Command::new("/usr/bin/docker")
        .arg("buildx")
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("/usr/bin/docker buildx {args:?}: {e}; install docker.io"));
    assert!(
        out.status.success(),
        "docker buildx {args:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A tar with the given (path, mode, bytes) entries.
pub fn tar_of(entries: &[(&str, u32, &[u8])]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (path, mode, data) in entries {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(*mode);
        b.append_data(&mut h, path, *data).unwrap();
    }
    b.into_inner().unwrap()
}

/// The doctor's probe executable for a platform.
pub fn probe(platform: &str) -> Vec<u8> {
    archbench_exec::tiny::probe_elf(&platform.parse().unwrap()).unwrap()
}

/// What buildx pushes by default, as an OCI layout tagged `v1` in `dir`: a linux/amd64 and a
/// linux/arm64 image (each a probe executable and a script), then an attestation manifest per
/// image (SLSA provenance and an SPDX SBOM as in-toto layers, platform `unknown/unknown`,
/// annotated with the image it describes). Returns the index, the two image manifests and the
/// digests of the two attestation manifests, in that order.
pub fn layout_with_attestations(
    dir: &Path,
) -> (archbench_oci::Written, Vec<archbench_oci::Written>, Vec<String>) {
    let mut w = archbench_oci::LayoutWriter::create(dir).unwrap();
    let (mut entries, mut images, mut attestations) = (Vec::new(), Vec::new(), Vec::new());
    for platform in ["linux/amd64", "linux/arm64"] {
        let p: archbench_platform::Platform = platform.parse().unwrap();
        let layer = tar_of(&[
            ("app", 0o755, &probe(platform)),
            ("start.sh", 0o755, b"#!/bin/sh\nexec /app\n"),
        ]);
        let m = w.image(&p, &[archbench_oci::LayerInput::tar(layer)], &["/app"]).unwrap();
        entries.push(archbench_oci::document::with_platform(m.descriptor(), &p));
        let provenance = format!(
            r#"{{"_type":"https://in-toto.io/Statement/v0.1","predicateType":"https://slsa.dev/provenance/v0.2","subject":[{{"digest":{{"sha256":"{}"}}}}]}}"#,
            &m.digest.hex()
        );
        let sbom: &[u8] = br#"{"_type":"https://in-toto.io/Statement/v0.1","predicateType":"https://spdx.dev/Document","predicate":{"spdxVersion":"SPDX-2.3"}}"#;
        let statements = [
            ("https://slsa.dev/provenance/v0.2", provenance.as_bytes()),
            ("https://spdx.dev/Document", sbom),
        ];
        attestations.push(w.attestation(&m, &statements).unwrap());
        images.push(m);
    }
    let digests = attestations.iter().map(|a| a.digest().to_string()).collect();
    entries.extend(attestations);
    let idx = w.index_of(entries).unwrap();
    w.tag(&idx, "v1").unwrap();
    (idx, images, digests)
}
