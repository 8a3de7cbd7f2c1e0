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
        expected: crate::Digest,
        /// What the bytes hash to.
        actual: crate::Digest,
    },
    /// A blob's stream is longer or shorter than its descriptor declares.
    #[error("{}", if read > declared {
        format!("{what} is longer than the {declared} bytes its descriptor declares (the source sent more; it is broken or hostile)")
    } else {
        format!("{what} ended after {read} of the {declared} bytes its descriptor declares")
    })]
    Size {
        /// Which blob.
        what: String,
        /// The descriptor's size.
        declared: u64,
        /// Bytes read before the stream was stopped.
        read: u64,
    },
    /// A file of a layout is not one archbench reads (not a regular file, a symbolic link,
    /// past the size limit; see `archbench_input`).
    #[error(transparent)]
    Input(#[from] archbench_input::Error),
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
    /// A registry refused us: no credentials, wrong credentials, or no token.
    #[error("registry {registry}: {message}")]
    Auth {
        /// The registry host.
        registry: String,
        /// What happened and how to fix it (never the secret).
        message: String,
    },
    /// A registry answered with an unexpected status.
    #[error("registry {registry} answered {status} to {request}: {message}")]
    Registry {
        /// The registry host.
        registry: String,
        /// HTTP status.
        status: u16,
        /// Method and path.
        request: String,
        /// The registry's error text, shortened.
        message: String,
    },
    /// A registry could not be reached, or the connection broke.
    #[error("cannot talk to registry {registry} ({request}); is it running and reachable?")]
    Transport {
        /// The registry host.
        registry: String,
        /// Method and path.
        request: String,
        /// The cause.
        #[source]
        source: reqwest::Error,
    },
}

/// Result alias for this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
