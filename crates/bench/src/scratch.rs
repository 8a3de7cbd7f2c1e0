//! Where workloads write their files.
//!
//! The syscall workload creates, truncates, reads and removes one small file over and over. On a
//! disk filesystem such as ext4 that pattern makes the kernel start writeback on every truncate
//! (ext4's `auto_da_alloc`), so the run waits on the disk and its time says more about the
//! storage than about system calls: on the reference machine 200 rounds take about 40 ms on ext4
//! with ±15% run-to-run noise, and 4 ms on tmpfs with ±8%. The suite therefore runs workloads in
//! a RAM-backed directory when one is available, and records which filesystem it used.

use std::path::{Path, PathBuf};

use tempfile::TempDir;

/// A private scratch directory for one suite run, removed on drop.
#[derive(Debug)]
pub struct Scratch {
    dir: TempDir,
    /// Removes the directory if the process is interrupted (TempDir's drop never runs then).
    _guard: archbench_results::cleanup::Guard,
    /// Filesystem type of the directory (`tmpfs`, `ext4`, …, or `0x…` for one not named here).
    pub fs: String,
    /// True when the filesystem keeps its files in memory (tmpfs, ramfs).
    pub ram_backed: bool,
}

// Superblock magic numbers from the kernel's include/uapi/linux/magic.h (f_type of statfs).
const FS_NAMES: &[(u64, &str, bool)] = &[
    (0x0102_1994, "tmpfs", true),
    (0x8584_58f6, "ramfs", true),
    (0xef53, "ext4", false), // ext2, ext3 and ext4 share one magic number.
    (0x5846_5342, "xfs", false),
    (0x9123_683e, "btrfs", false),
    (0x794c_7630, "overlay", false),
    (0x6969, "nfs", false),
    (0x6573_5546, "fuse", false),
    (0x2fc1_2fc1, "zfs", false),
    (0x0102_1997, "9p", false),
];

/// Filesystem type of `path` and whether it is RAM-backed.
pub fn filesystem(path: &Path) -> std::io::Result<(String, bool)> {
    let st = rustix::fs::statfs(path)?;
    // f_type is a signed word on most targets; the magic numbers are 32-bit patterns.
    let magic = (st.f_type as i64 as u64) & 0xffff_ffff;
    Ok(FS_NAMES
        .iter()
        .find(|(m, _, _)| *m == magic)
        .map(|(_, name, ram)| ((*name).to_owned(), *ram))
        .unwrap_or_else(|| (format!("0x{magic:x}"), false)))
}

impl Scratch {
    /// A fresh directory inside `parent`, or, when `parent` is `None`, inside the first
    /// RAM-backed candidate that accepts one (`/dev/shm`, `$XDG_RUNTIME_DIR`), falling back to
    /// the system temporary directory.
    pub fn create(parent: Option<&Path>) -> crate::Result<Scratch> {
        if let Some(p) = parent {
            return Scratch::inside(p);
        }
        let mut candidates: Vec<PathBuf> = vec![PathBuf::from("/dev/shm")];
        if let Some(x) = std::env::var_os("XDG_RUNTIME_DIR") {
            candidates.push(PathBuf::from(x));
        }
        for c in &candidates {
            if matches!(filesystem(c), Ok((_, true))) {
                if let Ok(s) = Scratch::inside(c) {
                    return Ok(s);
                }
            }
        }
        Scratch::inside(&std::env::temp_dir())
    }

    fn inside(parent: &Path) -> crate::Result<Scratch> {
        let made = || -> std::io::Result<Scratch> {
            let dir = tempfile::Builder::new().prefix("archbench-bench-").tempdir_in(parent)?;
            let (fs, ram_backed) = filesystem(dir.path())?;
            let _guard = archbench_results::cleanup::Guard::new(dir.path());
            Ok(Scratch { dir, _guard, fs, ram_backed })
        };
        made().map_err(|source| crate::Error::Io {
            action: "cannot create a scratch directory in",
            path: parent.to_owned(),
            source,
        })
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// `/dev/shm/archbench-bench-x (tmpfs)`.
    pub fn describe(&self) -> String {
        format!("{} ({})", self.path().display(), self.fs)
    }

    /// A warning for humans when the directory is on a disk filesystem, `None` otherwise.
    pub fn warning(&self) -> Option<String> {
        (!self.ram_backed).then(|| {
            format!(
                "scratch directory {} is on {}, not in memory: the syscall workload's times \
                 include disk writeback; pass --scratch with a tmpfs directory (e.g. /dev/shm) \
                 to time the system calls alone",
                self.path().display(),
                self.fs
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_the_filesystems_it_knows() {
        // /proc is procfs, not in the table: reported by its magic number.
        let (fs, ram) = filesystem(Path::new("/proc")).unwrap();
        assert_eq!(fs, "0x9fa0");
        assert!(!ram);
        assert!(filesystem(Path::new("/nonexistent/dir")).is_err());
    }

    #[test]
    fn explicit_parent_is_used_and_described() {
        let parent = tempfile::tempdir().unwrap();
        let s = Scratch::create(Some(parent.path())).unwrap();
        assert!(s.path().starts_with(parent.path()));
        assert!(s.describe().contains(&s.fs));
        let (fs, ram) = filesystem(parent.path()).unwrap();
        assert_eq!((s.fs.clone(), s.ram_backed), (fs, ram));
        assert_eq!(s.warning().is_some(), !ram);
        let path = s.path().to_owned();
        drop(s);
        assert!(!path.exists(), "scratch directory left behind");
    }

    #[test]
    fn unusable_parent_is_a_clear_error() {
        let e = Scratch::create(Some(Path::new("/nonexistent/parent"))).unwrap_err();
        assert!(e.to_string().contains("/nonexistent/parent"), "{e}");
        // The cause travels as the source, for the CLI to print after the context.
        let cause = std::error::Error::source(&e).expect("the io error as its source");
        assert!(cause.to_string().contains("No such file"), "{cause}");
    }

    #[test]
    fn default_prefers_memory_when_the_host_has_it() {
        let s = Scratch::create(None).unwrap();
        let shm_is_tmpfs = matches!(filesystem(Path::new("/dev/shm")), Ok((_, true)));
        if shm_is_tmpfs {
            assert!(s.path().starts_with("/dev/shm"), "{}", s.describe());
            assert!(s.ram_backed && s.warning().is_none());
        } else {
            assert_eq!(s.warning().is_some(), !s.ram_backed);
        }
    }
}
