use std::path::PathBuf;

/// What can go wrong building images.
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
    /// The Docker Engine failed or refused.
    #[error(transparent)]
    Engine(#[from] archbench_engine::Error),
    /// An image or registry operation failed.
    #[error(transparent)]
    Oci(#[from] archbench_oci::Error),
    /// A Dockerfile step failed.
    #[error("{targets} ({strategy}): {step} failed: {message}{}", if log.is_empty() { String::new() } else { format!("\nlast lines of the build log:\n{log}") })]
    Step {
        /// Target platforms.
        targets: crate::spec::Targets,
        /// Strategy.
        strategy: crate::spec::Strategy,
        /// `3/9 RUN make`.
        step: String,
        /// The builder's message.
        message: String,
        /// The last lines of output.
        log: String,
    },
    /// A line of the context's `.dockerignore` is not a pattern archbench can follow.
    #[error("{}: line {line}", .path.display())]
    Dockerignore {
        /// The `.dockerignore`.
        path: PathBuf,
        /// Its line, from 1.
        line: usize,
        /// What is wrong with it.
        #[source]
        source: BadRule,
    },
    /// The machine cannot do what was asked; the message says how to fix it.
    #[error("{0}")]
    Unsupported(String),
    /// A build failed; the runs made so far are kept for the report.
    #[error("{cause}")]
    Failed {
        /// Every run, the failed one included.
        report: Box<archbench_results::build::BuildReport>,
        /// The first failure.
        #[source]
        cause: Box<Error>,
    },
    /// A tool we run (mmdebstrap) failed.
    #[error("{tool} failed: {message}")]
    Tool {
        /// The program.
        tool: String,
        /// Its status and last output.
        message: String,
    },
}

/// Why a `.dockerignore` line is refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BadRule {
    /// `!` alone: an exception of nothing.
    #[error("\"!\" without a pattern")]
    BareException,
    /// Not a glob (an unclosed `[`, a class `[z-a]`).
    #[error(transparent)]
    Glob(#[from] globset::Error),
}

/// Result alias for this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
