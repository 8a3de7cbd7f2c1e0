use std::path::PathBuf;

use crate::Kind;

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Why a file was not read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The system refused.
    #[error("{action} {}", path.display())]
    Io {
        /// What was being done.
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// The system's error.
        #[source]
        source: std::io::Error,
    },
    /// A FIFO, device, socket or directory where a file was expected.
    #[error("{} is {what}, not a regular file: archbench reads a {} only from a regular file (it could wait forever on a pipe, or never reach the end of a device); write it to a file first", path.display(), kind.name())]
    NotAFile {
        /// The file.
        path: PathBuf,
        /// Its kind.
        kind: Kind,
        /// What it is instead.
        what: &'static str,
    },
    /// A symbolic link archbench found inside a directory rather than was given.
    #[error("{} is a symbolic link: archbench does not follow links it finds inside a directory (a {} there could point anywhere); replace it with the file itself, or name the file on the command line", path.display(), kind.name())]
    Link {
        /// The link.
        path: PathBuf,
        /// Its kind.
        kind: Kind,
    },
    /// Larger than the kind's limit.
    #[error("{} is {size} bytes, more than the {} MiB archbench reads of a {}: not one archbench wrote; check the path", path.display(), limit >> 20, kind.name())]
    TooLarge {
        /// The file.
        path: PathBuf,
        /// Its kind.
        kind: Kind,
        /// The limit in bytes.
        limit: u64,
        /// Its size, or at least the bytes read before stopping.
        size: u64,
    },
    /// Not UTF-8.
    #[error("{} is not UTF-8 text (byte {at} is not), as a {} must be", path.display(), kind.name())]
    NotText {
        /// The file.
        path: PathBuf,
        /// Its kind.
        kind: Kind,
        /// The first byte that is not.
        at: usize,
    },
}
