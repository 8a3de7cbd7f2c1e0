use std::path::PathBuf;

/// What can go wrong reading or writing images.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A file could not be read or written.
    #[error("{action} {path}")]
    Io {
        /// What we were doing.
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A blob's bytes do not hash to the digest that names it.
    #[error("blob {expected} hashes to {actual}: the image is corrupt or was tampered with")]
    Digest {
        /// What the manifest or index says.
        expected: String,
        /// What the bytes hash to.
        actual: String,
    },
    /// JSON that should be an index, manifest or config is not.
    #[error("{what} is not valid: {message}")]
    Invalid {
        /// Which document.
        what: String,
        /// The parser's complaint.
        message: String,
    },
    /// A document is larger than we accept (manifests and configs are small; a huge one is hostile).
    #[error("{what} is {size} bytes, over the {limit}-byte limit for manifests and configs")]
    TooLarge {
        /// Which document.
        what: String,
        /// Its size.
        size: u64,
        /// The limit.
        limit: u64,
    },
    /// A reference or digest is not written correctly.
    #[error("{0}")]
    BadReference(String),
    /// The image has no entry for what was asked.
    #[error("{0}")]
    NotFound(String),
}

/// Result alias for this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
