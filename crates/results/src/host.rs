use archbench_platform::Platform;
use serde::{Deserialize, Serialize};

/// Facts about the machine a result was measured on. Every field is optional: a fact that could
/// not be read is absent rather than guessed.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct HostFacts {
    /// The host platform in buildx spelling (`linux/amd64`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub platform: Option<Platform>,
    /// CPU model name from /proc/cpuinfo.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cpu_model: Option<String>,
    /// Logical CPUs available to this process.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cores: Option<u32>,
    /// Total memory in bytes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub memory_bytes: Option<u64>,
    /// Kernel release (`uname -r`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kernel: Option<String>,
    /// Distribution (`PRETTY_NAME` from /etc/os-release).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub distro: Option<String>,
    /// QEMU user-mode version, first line of `qemu-<arch> --version`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub qemu_version: Option<String>,
    /// wasmtime version linked into archbench.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wasmtime_version: Option<String>,
    /// Docker Engine version, when one answered.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub docker_version: Option<String>,
    /// Host name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hostname: Option<String>,
    /// Whether archbench itself ran under emulation (an arm64 build under QEMU on an x86 CPU):
    /// detected from the CPU the kernel describes, never assumed. `None` when it could not be
    /// told, which counts as "not known to be native".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub emulated: Option<bool>,
}

impl HostFacts {
    /// True only when the host is known to run its own architecture natively: measurements from
    /// it may stand for that architecture's speed.
    pub fn known_native(&self) -> bool {
        self.emulated == Some(false)
    }
}

impl HostFacts {
    /// A short name for a table column or chart panel: `linux/arm64 on runner-7 (emulated)`.
    /// A host whose emulation is unknown says so, so it is never read as native.
    pub fn label(&self) -> String {
        let mut s =
            self.platform.as_ref().map_or_else(|| "unknown platform".to_owned(), |p| p.to_string());
        if let Some(h) = self.hostname.as_deref().filter(|h| !h.is_empty()) {
            s.push_str(&format!(" on {h}"));
        }
        match self.emulated {
            Some(true) => s.push_str(" (emulated)"),
            None => s.push_str(" (native or emulated: unknown)"),
            Some(false) => {}
        }
        s
    }

    /// One line for humans: `linux/amd64, 2 × Intel Xeon …, Debian GNU/Linux 12, kernel 6.1`.
    pub fn summary(&self) -> String {
        let mut parts = Vec::new();
        if let Some(p) = &self.platform {
            parts.push(p.to_string());
        }
        match (&self.cores, &self.cpu_model) {
            (Some(n), Some(m)) => parts.push(format!("{n} × {m}")),
            (None, Some(m)) => parts.push(m.clone()),
            (Some(n), None) => parts.push(format!("{n} cores")),
            _ => {}
        }
        if let Some(mem) = self.memory_bytes {
            parts.push(format!("{:.0} GiB", mem as f64 / (1u64 << 30) as f64));
        }
        if let Some(d) = &self.distro {
            parts.push(d.clone());
        }
        if let Some(k) = &self.kernel {
            parts.push(format!("kernel {k}"));
        }
        match self.emulated {
            Some(true) => parts.push("EMULATED (this archbench ran under QEMU)".into()),
            None => parts.push("native or emulated: unknown".into()),
            Some(false) => {}
        }
        parts.join(", ")
    }
}
