//! The kernel's binfmt_misc registrations: is a platform's QEMU entry there, enabled, and does
//! it carry the `F` (fix binary) flag that lets containers use it without QEMU inside them?

use std::path::{Path, PathBuf};

use archbench_platform::Platform;
use serde::{Deserialize, Serialize};

/// Where binfmt_misc lives on Linux.
pub const BINFMT_DIR: &str = "/proc/sys/fs/binfmt_misc";

/// The state of one binfmt_misc entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BinfmtEntry {
    /// Entry name (`qemu-aarch64`).
    pub name: String,
    /// `enabled` line present.
    pub enabled: bool,
    /// The interpreter path the kernel runs.
    pub interpreter: String,
    /// Flag letters (`PF`, `POCF`).
    pub flags: String,
}

impl BinfmtEntry {
    /// True when the `F` flag is set: the kernel opened the interpreter at registration, so it
    /// works inside containers and chroots that do not contain it.
    pub fn fix_binary(&self) -> bool {
        self.flags.contains('F')
    }
}

/// A view of binfmt_misc rooted at a directory (the real one, or a copy in tests).
#[derive(Debug, Clone)]
pub struct Binfmt {
    dir: PathBuf,
}

impl Default for Binfmt {
    fn default() -> Self {
        Self { dir: PathBuf::from(BINFMT_DIR) }
    }
}

impl Binfmt {
    /// A view rooted elsewhere.
    pub fn at(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// binfmt_misc is mounted when its `register` file exists.
    pub fn mounted(&self) -> bool {
        self.dir.join("register").exists()
    }

    /// The global switch (`/proc/sys/fs/binfmt_misc/status`).
    pub fn globally_enabled(&self) -> bool {
        std::fs::read_to_string(self.dir.join("status"))
            .map(|s| s.trim() == "enabled")
            .unwrap_or(false)
    }

    /// Read one entry by name; `None` when it is not registered.
    pub fn entry(&self, name: &str) -> Option<BinfmtEntry> {
        let text = std::fs::read_to_string(self.dir.join(name)).ok()?;
        Some(parse_entry(name, &text))
    }

    /// The entry for a platform's QEMU, if the platform has one and it is registered.
    pub fn entry_for(&self, platform: &Platform) -> Option<BinfmtEntry> {
        self.entry(&platform.binfmt_entry()?)
    }

    /// Enable or disable an entry (`echo 1|0 > entry`). Needs root.
    pub fn set_enabled(&self, name: &str, enabled: bool) -> std::io::Result<()> {
        std::fs::write(self.dir.join(name), if enabled { "1" } else { "0" })
    }
}

fn parse_entry(name: &str, text: &str) -> BinfmtEntry {
    let mut e = BinfmtEntry {
        name: name.to_owned(),
        enabled: false,
        interpreter: String::new(),
        flags: String::new(),
    };
    for line in text.lines() {
        if line.trim() == "enabled" {
            e.enabled = true;
        } else if let Some(v) = line.strip_prefix("interpreter ") {
            e.interpreter = v.trim().to_owned();
        } else if let Some(v) = line.strip_prefix("flags:") {
            e.flags = v.trim().to_owned();
        }
    }
    e
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_kernel_format() {
        let text = "enabled\ninterpreter /usr/libexec/qemu-binfmt/aarch64-binfmt-P\nflags: PF\noffset 0\nmagic 7f454c46\n";
        let e = parse_entry("qemu-aarch64", text);
        assert!(e.enabled && e.fix_binary());
        assert_eq!(e.interpreter, "/usr/libexec/qemu-binfmt/aarch64-binfmt-P");
        let d = parse_entry("qemu-arm", "disabled\ninterpreter /x\nflags: P\n");
        assert!(!d.enabled && !d.fix_binary());
    }

    #[test]
    fn a_copy_of_the_directory_reads_the_same() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("register"), "").unwrap();
        std::fs::write(dir.path().join("status"), "enabled\n").unwrap();
        std::fs::write(dir.path().join("qemu-riscv64"), "enabled\ninterpreter /q\nflags: F\n")
            .unwrap();
        let b = Binfmt::at(dir.path());
        assert!(b.mounted() && b.globally_enabled());
        assert!(b.entry_for(&Platform::linux_riscv64()).unwrap().fix_binary());
        assert!(b.entry_for(&Platform::linux_arm64()).is_none());
    }
}
