//! Facts about this machine for the results envelope, and finding programs on PATH.

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use archbench_platform::Platform;
use archbench_results::HostFacts;

use crate::process::run_measured;

/// The first match for `name` in `PATH`.
pub fn which(name: &str) -> Option<PathBuf> {
    // The `which` crate: PATH search with the executable-bit check a shell does.
    ::which::which(name).ok()
}

/// The first of `names` found on PATH.
pub fn which_any(names: &[String]) -> Option<PathBuf> {
    names.iter().find_map(|n| which(n))
}

/// archbench's cache directory: `$XDG_CACHE_HOME/archbench`, else `~/.cache/archbench`, else
/// `/tmp/archbench`. Base images and the extracted workload sources live below it.
pub fn cache_root() -> std::path::PathBuf {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .filter(|v| !v.is_empty())
        .map(std::path::PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| std::path::PathBuf::from(h).join(".cache")))
        .unwrap_or_else(|| std::path::PathBuf::from("/tmp"));
    base.join("archbench")
}

/// First line of `program --version`, with a timeout so a wedged binary cannot hang us.
pub fn version_line(program: &std::path::Path) -> Option<String> {
    let m = run_measured(Command::new(program).arg("--version"), Duration::from_secs(10)).ok()?;
    m.stdout.lines().next().map(|l| l.trim().to_owned()).filter(|l| !l.is_empty())
}

/// The QEMU user-mode version, read from the arm64 emulator (all share one version).
pub fn qemu_version() -> Option<String> {
    which_any(&Platform::linux_arm64().qemu_binaries()).and_then(|p| version_line(&p))
}

fn cpuinfo_model() -> Option<String> {
    let text = std::fs::read_to_string("/proc/cpuinfo").ok()?;
    text.lines()
        .find(|l| {
            l.starts_with("model name")
                || l.starts_with("Model")
                || l.starts_with("uarch")
                || l.starts_with("cpu model")
        })
        .and_then(|l| l.split_once(':'))
        .map(|(_, v)| v.trim().to_owned())
}

fn meminfo_total() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

fn os_release() -> Option<String> {
    let text = std::fs::read_to_string("/etc/os-release").ok()?;
    let line = text.lines().find(|l| l.starts_with("PRETTY_NAME="))?;
    Some(line["PRETTY_NAME=".len()..].trim_matches('"').to_owned())
}

/// Collect what can be read cheaply; `docker_version` comes from a caller that already asked.
pub fn host_facts(docker_version: Option<String>) -> HostFacts {
    let uname = rustix::system::uname();
    HostFacts {
        platform: Some(Platform::host()),
        cpu_model: cpuinfo_model(),
        cores: std::thread::available_parallelism().ok().map(|n| n.get() as u32),
        memory_bytes: meminfo_total(),
        kernel: Some(uname.release().to_string_lossy().into_owned()),
        distro: os_release(),
        qemu_version: qemu_version(),
        wasmtime_version: Some(crate::wasm::WASMTIME_VERSION.to_owned()),
        docker_version,
        hostname: Some(uname.nodename().to_string_lossy().into_owned()),
    }
}
