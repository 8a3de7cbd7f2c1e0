use std::path::PathBuf;

/// What can go wrong reading or writing a results file.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The file could not be read or written.
    #[error("{action} {path}")]
    Io {
        /// What we were doing (`reading`, `writing`, `renaming into place`).
        action: &'static str,
        /// The file involved.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The file is not one archbench reads: not a regular file, a link inside a directory, or
    /// past the size limit (see `archbench_input`).
    #[error(transparent)]
    Input(#[from] archbench_input::Error),
    /// A number in the file is out of its range (see [`crate::check`]).
    #[error("{path}: {why}; archbench never writes such a number: regenerate the file, or correct that field")]
    Range {
        /// The file involved.
        path: PathBuf,
        /// Which field, and its value.
        why: String,
    },
    /// The file is not valid JSON of the expected shape.
    #[error("{path} is not a valid archbench results file")]
    Parse {
        /// The file involved.
        path: PathBuf,
        /// The cause.
        #[source]
        source: serde_json::Error,
    },
    /// The file was written by a newer archbench or holds another kind of result.
    #[error("{path} holds {found_kind} schema {found_version}; expected {expected_kind} schema {expected_version} (regenerate it with this archbench)")]
    Schema {
        /// The file involved.
        path: PathBuf,
        /// The kind in the file.
        found_kind: String,
        /// The version in the file.
        found_version: u32,
        /// The kind asked for.
        expected_kind: String,
        /// The version this build reads.
        expected_version: u32,
    },
    /// An older file could not be brought to this schema version.
    #[error("{path} is schema {from} and could not be upgraded: {why} (regenerate it with this archbench)")]
    Migrate {
        /// The file involved.
        path: PathBuf,
        /// Its version.
        from: u32,
        /// What did not fit.
        why: String,
    },
    /// Two results files claim the same host and run.
    #[error("{first} and {second} are both the {id}; merge one of them")]
    Duplicate {
        /// Kind, host and start time.
        id: String,
        /// The first file.
        first: PathBuf,
        /// The second.
        second: PathBuf,
    },
    /// Serialising a value failed (a map with non-string keys, a NaN in strict mode).
    #[error("serialising results")]
    Serialize(#[source] serde_json::Error),
}

/// Result alias for this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
