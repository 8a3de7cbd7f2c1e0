use std::path::PathBuf;

/// What can go wrong identifying or walking.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The magic matched but the structure is broken (truncated, absurd counts, bad offsets).
    #[error("malformed {format}: {message}")]
    Malformed {
        /// The format the magic promised.
        format: &'static str,
        /// The parser's complaint.
        message: String,
    },
    /// A parser panicked on hostile input; caught so one file cannot end a scan.
    #[error("{format} parser failed on this input (please report it): {message}")]
    ParserPanic {
        /// Which parser.
        format: &'static str,
        /// The panic payload.
        message: String,
    },
    /// An entry or stream is larger than the configured limit.
    #[error("{what} exceeds the limit of {limit} bytes")]
    TooLarge {
        /// Which entry or stream.
        what: String,
        /// The limit.
        limit: u64,
    },
    /// Reading failed.
    #[error("reading {path}")]
    Io {
        /// The path or stream.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// An image or layout is not in a form we can read.
    #[error("{0}")]
    Image(String),
    /// A blob's content does not hash to its digest.
    #[error("blob {expected} hashes to {actual}: the image is corrupt or was tampered with")]
    Digest {
        /// The digest the manifest names.
        expected: String,
        /// What the bytes hash to.
        actual: String,
    },
}

/// Result alias for this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
