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

    /// The one answer to "can this kernel run `platform`'s binaries through QEMU": its entry,
    /// registered and enabled; else what is wrong and the command that fixes it. `doctor`,
    /// `build` and the bench runners all ask here, so they say the same thing.
    pub fn check(&self, platform: &Platform) -> Result<BinfmtEntry, NotEmulated> {
        let bad = |problem: String, fix: String| Err(NotEmulated { problem, fix });
        let Some(name) = platform.binfmt_entry() else {
            return bad(
                format!("no QEMU emulator exists for {platform}"),
                "choose another platform".into(),
            );
        };
        let install = "apt-get install qemu-user-static binfmt-support (or run scripts/setup)";
        if !self.mounted() {
            return bad(
                "binfmt_misc is not mounted".into(),
                format!(
                    "mount -t binfmt_misc binfmt_misc {} && update-binfmts --enable",
                    self.dir.display()
                ),
            );
        }
        let Some(entry) = self.entry(&name) else {
            return bad(
                format!("{name} is not registered in binfmt_misc"),
                format!("{install}; then update-binfmts --enable {name}"),
            );
        };
        if !entry.enabled {
            return bad(
                format!("{name} is registered but disabled"),
                format!(
                    "echo 1 > {}/{name}   (or: update-binfmts --enable {name})",
                    self.dir.display()
                ),
            );
        }
        Ok(entry)
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
}

/// Why a platform's binaries cannot run through binfmt here, and the fix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotEmulated {
    /// What is wrong (`qemu-aarch64 is registered but disabled`).
    pub problem: String,
    /// The command or step that fixes it.
    pub fix: String,
}

impl std::fmt::Display for NotEmulated {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}; fix: {}", self.problem, self.fix)
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

    /// The one "can emulate" check gives each problem with its fix, for every caller.
    #[test]
    fn the_emulation_check_names_the_problem_and_the_fix() {
        let dir = tempfile::tempdir().unwrap();
        let b = Binfmt::at(dir.path());
        let e = b.check(&Platform::linux_arm64()).unwrap_err();
        assert_eq!(e.problem, "binfmt_misc is not mounted");
        assert!(e.fix.starts_with("mount -t binfmt_misc"));
        std::fs::write(dir.path().join("register"), "").unwrap();
        let e = b.check(&Platform::linux_arm64()).unwrap_err();
        assert!(e.problem.contains("qemu-aarch64 is not registered"), "{e}");
        assert!(e.fix.contains("qemu-user-static"), "{e}");
        std::fs::write(dir.path().join("qemu-aarch64"), "disabled\ninterpreter /q\nflags: F\n")
            .unwrap();
        let e = b.check(&Platform::linux_arm64()).unwrap_err();
        assert!(e.problem.contains("disabled") && e.fix.contains("update-binfmts --enable"));
        std::fs::write(dir.path().join("qemu-aarch64"), "enabled\ninterpreter /q\nflags: F\n")
            .unwrap();
        assert_eq!(b.check(&Platform::linux_arm64()).unwrap().interpreter, "/q");
        let e = b.check(&Platform::wasi_wasm()).unwrap_err();
        assert!(e.to_string().contains("no QEMU emulator exists for wasi/wasm"), "{e}");
    }
}
