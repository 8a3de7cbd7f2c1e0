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

/// The CPU family /proc/cpuinfo describes, from the fields each architecture's kernel writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CpuFamily {
    /// `vendor_id: GenuineIntel` / `AuthenticAMD`, or x86 `flags`.
    X86,
    /// `CPU implementer` / `Features` (arm and arm64 kernels).
    Arm,
    /// `isa : rv64…` (riscv kernels).
    Riscv,
}

/// Which CPU family a /proc/cpuinfo text describes, if it says.
pub fn cpu_family(cpuinfo: &str) -> Option<CpuFamily> {
    let has =
        |key: &str| cpuinfo.lines().any(|l| l.split(':').next().is_some_and(|k| k.trim() == key));
    if has("vendor_id") || cpuinfo.lines().any(|l| l.starts_with("flags") && l.contains(" sse")) {
        Some(CpuFamily::X86)
    } else if has("CPU implementer") || has("Features") {
        Some(CpuFamily::Arm)
    } else if has("isa") {
        Some(CpuFamily::Riscv)
    } else {
        None
    }
}

/// Whether a program built for `arch` (`std::env::consts::ARCH`) runs under emulation on the
/// CPU `cpuinfo` describes. QEMU user-mode passes the host's /proc/cpuinfo through (7.2 does
/// for arm64), so an arm64 archbench on an x86 machine sees an x86 CPU. `None` when the text
/// does not say which CPU it is.
pub fn emulated(arch: &str, cpuinfo: &str) -> Option<bool> {
    let own = match arch {
        "x86_64" | "x86" => CpuFamily::X86,
        "aarch64" | "arm" => CpuFamily::Arm,
        "riscv64" => CpuFamily::Riscv,
        _ => return None,
    };
    cpu_family(cpuinfo).map(|f| f != own)
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
        emulated: std::fs::read_to_string("/proc/cpuinfo")
            .ok()
            .and_then(|t| emulated(std::env::consts::ARCH, &t)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const X86: &str = "processor\t: 0\nvendor_id\t: GenuineIntel\nmodel name\t: Intel(R) Xeon(R)\nflags\t\t: fpu vme sse sse2\n";
    const ARM64: &str = "processor\t: 0\nBogoMIPS\t: 243.75\nFeatures\t: fp asimd evtstrm aes\nCPU implementer\t: 0x41\nCPU part\t: 0xd0c\n";

    /// An arm64 archbench on an x86 CPU is emulated; on an arm64 CPU it is native; a cpuinfo
    /// that names no CPU family leaves it unknown (never native).
    #[test]
    fn emulation_is_told_from_the_cpu_the_kernel_describes() {
        assert_eq!(emulated("aarch64", X86), Some(true));
        assert_eq!(emulated("aarch64", ARM64), Some(false));
        assert_eq!(emulated("x86_64", X86), Some(false));
        assert_eq!(emulated("x86_64", ARM64), Some(true));
        assert_eq!(emulated("aarch64", "processor : 0\n"), None);
        assert_eq!(emulated("s390x", X86), None);
        // This machine: the facts say what it is.
        let here = host_facts(None);
        assert!(here.emulated.is_some(), "{here:?}");
    }
}
