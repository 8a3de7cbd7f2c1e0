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

/// An error and its causes on one line (`reading x: Permission denied (os error 13)`), as a
/// record keeps it (a run's or a file's `error` field) and as the CLI prints it.
///
/// A cause whose text the error just above it already quotes is said once: bollard's and
/// tonic's errors put their source into their own message and return it as the source too,
/// so a plain walk of the chain would print the same words twice. A cause counts as quoted
/// when the error directly above begins or ends with its text (`client error: {source}`,
/// `{source}; a hint`); a short cause ("permission denied") that merely appears somewhere
/// higher up is still said.
pub fn error_line(e: &dyn std::error::Error) -> String {
    let mut line = e.to_string();
    let mut above = line.clone();
    let mut cause = e.source();
    while let Some(c) = cause {
        let text = c.to_string();
        let quoted = above.ends_with(&text) || above.starts_with(&text);
        if !text.is_empty() && !quoted {
            line.push_str(": ");
            line.push_str(&text);
        }
        above = text;
        cause = c.source();
    }
    line
}

#[cfg(test)]
mod tests {
    use super::error_line;

    #[derive(Debug, thiserror::Error)]
    #[error("reading {0}")]
    struct Reading(&'static str, #[source] std::io::Error);

    /// Quotes its source in its own text, as bollard's errors do.
    #[derive(Debug, thiserror::Error)]
    #[error("client error: {0}")]
    struct Quoting(#[source] Reading);

    #[test]
    fn causes_follow_and_a_quoted_one_is_said_once() {
        let io = std::io::Error::from(std::io::ErrorKind::PermissionDenied);
        let e = Reading("x", io);
        assert_eq!(error_line(&e), "reading x: permission denied");
        let e = Quoting(e);
        assert_eq!(error_line(&e), "client error: reading x: permission denied");
        // Words that appear higher up, but not in the error directly above, are still said.
        let io = std::io::Error::from(std::io::ErrorKind::PermissionDenied);
        let e = Reading("permission denied.txt", io);
        assert_eq!(error_line(&e), "reading permission denied.txt: permission denied");
    }
}
