use std::path::PathBuf;

/// What can go wrong planning.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A file could not be read.
    #[error("reading {path}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The pricing file is not one archbench reads (not a regular file, past the size limit).
    #[error(transparent)]
    File(#[from] archbench_input::Error),
    /// The pricing file is not valid.
    #[error("{path}: {message}")]
    Pricing {
        /// The file.
        path: String,
        /// What is wrong and how to fix it.
        message: String,
    },
    /// An input is out of range.
    #[error("{0}")]
    Input(String),
}

/// Result alias for this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
