//! The one way archbench opens a file it reads whole: results, pricing catalogs, layout
//! indexes, the programs `bench` runs.
//!
//! [`read`] takes a path, the [`Kind`] of file (which sets the size limit) and whether the
//! user named the file itself ([`Named`]). It refuses:
//! - what is not a regular file (a FIFO, a device, a socket, a directory): such a file can block
//!   the reader forever (a FIFO with no writer) or never end (`/dev/zero`). The file is opened
//!   with `O_NONBLOCK`, so opening a FIFO returns at once, and its type is read from the open
//!   descriptor (`fstat`), so nothing can be swapped in between a check and the open;
//! - a symbolic link, unless the user named the file itself (`--pricing FILE`): a link inside a
//!   results directory or a layout could point anywhere (`/etc/shadow`, `/dev/zero`), and
//!   `O_NOFOLLOW` makes the open fail on it;
//! - more bytes than the kind's limit, checked from the size `fstat` gives and again while
//!   reading (a file may grow while it is read).
//!
//! Hand-written rather than a crate: what it does is three open flags and an `fstat`, and the
//! errors must name the kind and its limit.
//!
//! ```
//! use archbench_input::{read, Kind, Named};
//! let dir = std::env::temp_dir().join(format!("archbench-input-doc-{}", std::process::id()));
//! std::fs::create_dir_all(&dir).unwrap();
//! let file = dir.join("bench.json");
//! std::fs::write(&file, b"{}").unwrap();
//! assert_eq!(read(&file, Kind::Results, Named::Inside).unwrap(), b"{}");
//! assert!(read(Path::new("/dev/zero"), Kind::Results, Named::ByUser).is_err());
//! # use std::path::Path;
//! # std::fs::remove_dir_all(&dir).unwrap();
//! ```
#![deny(missing_docs)]

mod error;

use std::io::Read;
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::Path;

pub use error::{Error, Result};

/// What a file is, for its size limit and the words of an error. The README's table of limits
/// lists these.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Kind {
    /// A results envelope (`bench.json`, `build.json`, `plan.json`, …).
    Results,
    /// A pricing catalog (`--pricing FILE`).
    Catalog,
    /// An OCI layout's `index.json` or `oci-layout`.
    LayoutIndex,
    /// A program `bench FILE` runs (an ELF, a Wasm module, a script), read to identify it.
    Program,
    /// The file `bench --stdin FILE` gives every run as its standard input: a process reads it
    /// from the open file, a Wasm guest from memory.
    Stdin,
}

impl Kind {
    /// The most bytes archbench reads of a file of this kind.
    pub const fn limit(self) -> u64 {
        match self {
            // The largest results file the full suite writes is under 2 MiB; a hundred suites'
            // worth of samples still fits.
            Kind::Results => 256 << 20,
            // The built-in catalog is 8 KiB.
            Kind::Catalog => 16 << 20,
            // An index of ten thousand manifests is about 3 MiB.
            Kind::LayoutIndex => 16 << 20,
            // A statically linked debug build of a large project is a few hundred MiB.
            Kind::Program => 1 << 30,
            // Held in memory once for Wasm guests; every run reads the same bytes.
            Kind::Stdin => 1 << 30,
        }
    }

    /// The kind as errors name it.
    pub const fn name(self) -> &'static str {
        match self {
            Kind::Results => "results file",
            Kind::Catalog => "pricing catalog",
            Kind::LayoutIndex => "layout index",
            Kind::Program => "program",
            Kind::Stdin => "standard input file",
        }
    }
}

/// Whether the user named this file on the command line (a link to it is then followed), or
/// archbench found it inside a directory the user named (a link is refused).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Named {
    /// The user gave this path: follow a symbolic link, as any tool does for a file it is given.
    ByUser,
    /// Found inside a results directory or a layout: a symbolic link is refused.
    Inside,
}

/// Open `path` under the rules of the module note (a regular file, a link only where the user
/// named it, at most the kind's limit as it stands now), for a reader that streams it, such as
/// a child process given it as standard input. The descriptor is in blocking mode again.
pub fn open(path: &Path, kind: Kind, named: Named) -> Result<std::fs::File> {
    let (file, _) = open_checked(path, kind, named)?;
    // O_NONBLOCK was only for the open; a regular file ignores it, but a child that inherits
    // the descriptor should see the flags it would get from a shell's `<`.
    let cleared = rustix::fs::fcntl_getfl(&file)
        .and_then(|f| rustix::fs::fcntl_setfl(&file, f - rustix::fs::OFlags::NONBLOCK));
    cleared.map_err(|e| Error::Io {
        action: "setting blocking mode on",
        path: path.to_owned(),
        source: e.into(),
    })?;
    Ok(file)
}

/// Read the whole of `path` under the rules of the module note.
pub fn read(path: &Path, kind: Kind, named: Named) -> Result<Vec<u8>> {
    let (file, meta) = open_checked(path, kind, named)?;
    let limit = kind.limit();
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    file.take(limit + 1).read_to_end(&mut bytes).map_err(|source| Error::Io {
        action: "reading",
        path: path.to_owned(),
        source,
    })?;
    if bytes.len() as u64 > limit {
        return Err(Error::TooLarge {
            path: path.to_owned(),
            kind,
            limit,
            size: bytes.len() as u64,
        });
    }
    Ok(bytes)
}

/// The open file and its metadata, once the type, link and size rules hold.
fn open_checked(
    path: &Path,
    kind: Kind,
    named: Named,
) -> Result<(std::fs::File, std::fs::Metadata)> {
    let mut flags = libc::O_NONBLOCK | libc::O_CLOEXEC;
    if named == Named::Inside {
        flags |= libc::O_NOFOLLOW;
    }
    let file = std::fs::OpenOptions::new().read(true).custom_flags(flags).open(path).map_err(
        |source| {
            // O_NOFOLLOW on a link fails with ELOOP.
            if source.raw_os_error() == Some(libc::ELOOP) && named == Named::Inside {
                Error::Link { path: path.to_owned(), kind }
            } else {
                Error::Io { action: "opening", path: path.to_owned(), source }
            }
        },
    )?;
    let meta = file.metadata().map_err(|source| Error::Io {
        action: "reading the type of",
        path: path.to_owned(),
        source,
    })?;
    let t = meta.file_type();
    if !t.is_file() {
        let what = if t.is_fifo() {
            "a FIFO (named pipe)"
        } else if t.is_char_device() {
            "a character device"
        } else if t.is_block_device() {
            "a block device"
        } else if t.is_socket() {
            "a socket"
        } else if t.is_dir() {
            "a directory"
        } else {
            "not a regular file"
        };
        return Err(Error::NotAFile { path: path.to_owned(), kind, what });
    }
    let limit = kind.limit();
    if meta.len() > limit {
        return Err(Error::TooLarge { path: path.to_owned(), kind, limit, size: meta.len() });
    }
    Ok((file, meta))
}

/// [`read`], as UTF-8 text.
pub fn read_to_string(path: &Path, kind: Kind, named: Named) -> Result<String> {
    String::from_utf8(read(path, kind, named)?).map_err(|e| Error::NotText {
        path: path.to_owned(),
        kind,
        at: e.utf8_error().valid_up_to(),
    })
}

/// Bytes as people read them, in binary units ("512 B", "1.5 GiB"): the one format of sizes in
/// archbench's messages and tables.
pub fn show_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = n as f64;
    let mut unit = 0;
    while v >= 1024.0 && unit + 1 < UNITS.len() {
        v /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fifo(at: &Path) {
        let c = std::ffi::CString::new(at.as_os_str().as_encoded_bytes()).unwrap();
        // SAFETY: `c` is a NUL-terminated path that lives across the call.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    }

    #[test]
    fn sizes_are_shown_in_binary_units() {
        assert_eq!(show_bytes(512), "512 B");
        assert_eq!(show_bytes(1 << 30), "1.0 GiB");
        assert_eq!(show_bytes(1536 << 20), "1.5 GiB");
    }

    #[test]
    fn a_regular_file_is_read_whole() {
        let d = tempfile::tempdir().unwrap();
        let f = d.path().join("bench.json");
        std::fs::write(&f, b"{\"a\": 1}").unwrap();
        assert_eq!(read(&f, Kind::Results, Named::Inside).unwrap(), b"{\"a\": 1}");
        assert_eq!(read_to_string(&f, Kind::Catalog, Named::ByUser).unwrap(), "{\"a\": 1}");
    }

    #[test]
    fn a_fifo_is_refused_at_once_not_waited_on() {
        let d = tempfile::tempdir().unwrap();
        let f = d.path().join("bench.json");
        fifo(&f);
        for named in [Named::Inside, Named::ByUser] {
            let e = read(&f, Kind::Results, named).unwrap_err();
            assert!(matches!(e, Error::NotAFile { what: "a FIFO (named pipe)", .. }), "{e}");
            assert!(
                e.to_string().contains("results file") && e.to_string().contains("FIFO"),
                "{e}"
            );
        }
    }

    #[test]
    fn devices_and_directories_are_refused() {
        let e = read(Path::new("/dev/zero"), Kind::Catalog, Named::ByUser).unwrap_err();
        assert!(matches!(e, Error::NotAFile { what: "a character device", .. }), "{e}");
        let d = tempfile::tempdir().unwrap();
        let e = read(d.path(), Kind::Results, Named::ByUser).unwrap_err();
        assert!(matches!(e, Error::NotAFile { what: "a directory", .. }), "{e}");
    }

    #[test]
    fn a_link_is_followed_only_where_the_user_named_the_file() {
        let d = tempfile::tempdir().unwrap();
        let real = d.path().join("real.json");
        std::fs::write(&real, b"[]").unwrap();
        let link = d.path().join("index.json");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        assert_eq!(read(&link, Kind::LayoutIndex, Named::ByUser).unwrap(), b"[]");
        let e = read(&link, Kind::LayoutIndex, Named::Inside).unwrap_err();
        assert!(matches!(e, Error::Link { .. }), "{e}");
        assert!(e.to_string().contains("symbolic link"), "{e}");
        // A link to a device is refused either way, by what it points at or by being a link.
        let zero = d.path().join("zero.json");
        std::os::unix::fs::symlink("/dev/zero", &zero).unwrap();
        assert!(matches!(
            read(&zero, Kind::Results, Named::ByUser).unwrap_err(),
            Error::NotAFile { .. }
        ));
        assert!(matches!(
            read(&zero, Kind::Results, Named::Inside).unwrap_err(),
            Error::Link { .. }
        ));
    }

    #[test]
    fn more_than_the_limit_is_refused_before_reading() {
        let d = tempfile::tempdir().unwrap();
        let f = d.path().join("big.toml");
        let file = std::fs::File::create(&f).unwrap();
        // Sparse: the size is over the limit without writing it.
        file.set_len(Kind::Catalog.limit() + 1).unwrap();
        let e = read(&f, Kind::Catalog, Named::ByUser).unwrap_err();
        assert!(matches!(e, Error::TooLarge { .. }), "{e}");
        assert!(e.to_string().contains("16 MiB"), "{e}");
        file.set_len(Kind::Catalog.limit()).unwrap();
        assert_eq!(
            read(&f, Kind::Catalog, Named::ByUser).unwrap().len() as u64,
            Kind::Catalog.limit()
        );
    }

    #[test]
    fn text_that_is_not_utf8_says_where() {
        let d = tempfile::tempdir().unwrap();
        let f = d.path().join("p.toml");
        std::fs::write(&f, b"ab\xffc").unwrap();
        let e = read_to_string(&f, Kind::Catalog, Named::ByUser).unwrap_err();
        assert!(e.to_string().contains("byte 2"), "{e}");
    }
}
