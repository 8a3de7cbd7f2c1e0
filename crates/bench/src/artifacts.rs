//! Building the workload program for each platform a runner needs.
//!
//! The recipe per platform is the platform table's (`archbench_platform::table::STATIC_BUILDS`).
//! cargo decides staleness, so an up-to-date artifact costs one no-op cargo call.

use std::path::{Path, PathBuf};
use std::process::Command;

use archbench_platform::{Platform, StaticBuild};

use crate::{Error, Result};

/// The build recipe for `platform` (from the platform table), or an error naming what is
/// supported.
pub fn target_for(platform: &Platform) -> Result<StaticBuild> {
    platform.static_build().copied().ok_or_else(|| {
        let ok: Vec<String> = Platform::known()
            .filter(|p| p.static_build().is_some())
            .map(|p| p.to_string())
            .collect();
        Error::NoRecipe { platform: platform.clone(), supported: ok.join(", ") }
    })
}

/// The workload program's sources, compiled into archbench so that an installed or copied
/// binary benches from any directory: (path inside the crate, contents).
const SOURCES: [(&str, &str); 4] = [
    ("Cargo.toml", include_str!("../../../fixtures/workloads/Cargo.toml")),
    ("Cargo.lock", include_str!("../../../fixtures/workloads/Cargo.lock")),
    ("src/main.rs", include_str!("../../../fixtures/workloads/src/main.rs")),
    ("src/kernels.rs", include_str!("../../../fixtures/workloads/src/kernels.rs")),
];

/// Where `bench` finds the workload sources, by this rule:
/// 1. `explicit` (the hidden `--workloads-dir`, for development), as given;
/// 2. else the sources embedded in this binary, written once to
///    `<cache>/workloads/<hash of the sources>/` (see `archbench_exec::host::cache_root`). The
///    directory is named by content, so two archbench versions never share one, and the
///    compiled workloads stay there between runs (`target/` inside it).
///
/// Building them needs `cargo` and the Rust targets (scripts/setup installs them).
pub fn source_dir(explicit: Option<&Path>) -> Result<PathBuf> {
    if let Some(p) = explicit {
        return Ok(p.to_owned());
    }
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    for (name, text) in SOURCES {
        h.update(name.as_bytes());
        h.update([0]);
        h.update(text.as_bytes());
        h.update([0]);
    }
    let key = hex::encode(&h.finalize()[..8]);
    let dir = archbench_exec::host::cache_root().join("workloads").join(key);
    for (name, text) in SOURCES {
        let path = dir.join(name);
        if std::fs::read(&path).is_ok_and(|b| b == text.as_bytes()) {
            continue;
        }
        // Written atomically: two benches starting together must not see a half-written file.
        archbench_results::write_bytes_atomic(&path, text.as_bytes()).map_err(|e| Error::Io {
            action: "writing the workload sources to",
            path: dir.clone(),
            source: std::io::Error::other(e),
        })?;
    }
    Ok(dir)
}

/// How the workloads for `platform` are built, as recorded in each cell: the cargo profile and
/// the target (`release x86_64-unknown-linux-musl`, `+crt-static` where forced).
pub fn profile(platform: &Platform) -> String {
    match target_for(platform) {
        Ok(t) if t.crt_static => format!("release {} +crt-static", t.triple),
        Ok(t) => format!("release {}", t.triple),
        Err(_) => "release".to_owned(),
    }
}

/// Build (or confirm up to date) the workloads in `source` for `platform`; returns the artifact.
pub fn build(source: &Path, platform: &Platform) -> Result<PathBuf> {
    build_bin(source, platform, "workloads")
}

/// Build the binary `bin` of the cargo project in `source` for `platform` with the platform
/// table's recipe (static where it can be); returns the artifact (`bin.wasm` for Wasm).
pub fn build_bin(source: &Path, platform: &Platform, bin: &str) -> Result<PathBuf> {
    let t = target_for(platform)?;
    let env_triple = t.triple.to_uppercase().replace('-', "_");
    let mut cmd = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    cmd.current_dir(source).args(["build", "--release", "--quiet", "--target", t.triple]);
    // The workloads have their own target dir; an outer CARGO_TARGET_DIR must not redirect them.
    cmd.env("CARGO_TARGET_DIR", source.join("target"));
    if let Some((l, _)) = t.linker {
        cmd.env(format!("CARGO_TARGET_{env_triple}_LINKER"), l);
    }
    if t.crt_static {
        cmd.env(format!("CARGO_TARGET_{env_triple}_RUSTFLAGS"), "-C target-feature=+crt-static");
    }
    let out = cmd.output().map_err(|source| Error::Cargo { triple: t.triple, source })?;
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        let tail: Vec<&str> = stderr.lines().rev().take(8).collect();
        let log = tail.into_iter().rev().collect::<Vec<_>>().join("\n");
        return Err(Error::Build { platform: platform.clone(), triple: t.triple, log });
    }
    let name = if t.triple.starts_with("wasm32") { format!("{bin}.wasm") } else { bin.to_owned() };
    let artifact = source.join("target").join(t.triple).join("release").join(name);
    artifact.is_file().then_some(artifact.clone()).ok_or(Error::Missing { path: artifact })
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use archbench_exec::runner::{make_runner, RunnerSpec};

    use super::*;

    /// Every default runner runs its own build of the workloads, and all print the same checksum.
    #[test]
    fn every_runner_builds_runs_and_agrees_on_the_checksum() {
        let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/workloads");
        let scratch = tempfile::tempdir().unwrap();
        let mut seen: Vec<(String, String)> = Vec::new();
        for spec in RunnerSpec::default_set() {
            let artifact = build(&source, &spec.platform())
                .unwrap_or_else(|e| panic!("{spec}: {}", archbench_results::error_line(&e)));
            let mut r = make_runner(&spec, scratch.path());
            r.prepare(&artifact).unwrap_or_else(|e| panic!("{spec}: {e}"));
            let env = [("WORKLOAD_TMP".to_owned(), scratch.path().display().to_string())];
            for (kernel, size) in [("sha256", "64"), ("nbody", "2000"), ("syscall", "20")] {
                let s =
                    r.run(&[kernel.into(), size.into()], &env, Duration::from_secs(60)).unwrap();
                assert!(s.outcome.success(), "{spec} {kernel}: {:?} {}", s.outcome, s.stderr_tail);
                seen.push((format!("{spec} {kernel}"), s.stdout.trim().to_owned()));
            }
        }
        for kernel in ["sha256", "nbody", "syscall"] {
            let outs: Vec<&(String, String)> =
                seen.iter().filter(|(k, _)| k.ends_with(kernel)).collect();
            assert_eq!(outs.len(), 7);
            assert!(
                outs.iter().all(|(_, o)| *o == outs[0].1),
                "{kernel} checksums differ: {outs:#?}"
            );
        }
    }
}
