/// What can go wrong running or probing something.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The program could not be started.
    #[error("could not start {program}")]
    Spawn {
        /// Program path or name.
        program: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// Waiting for the child failed.
    #[error("waiting for {program}")]
    Wait {
        /// Program path or name.
        program: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A runner's own component failed (the Docker Engine of an image runner), its error kept
    /// as the source so the whole chain is printed.
    #[error("{action} {what}")]
    Runner {
        /// What was being done (`preparing a container of`).
        action: &'static str,
        /// What to (the image, the container).
        what: String,
        /// The component's error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// wasmtime refused at some stage.
    #[error("wasm:{tier}: {stage}: {message}")]
    Wasm {
        /// The tier.
        tier: &'static str,
        /// Configuring, compiling, instantiating, running.
        stage: &'static str,
        /// wasmtime's message (its error type is not exposed through ours).
        message: String,
    },
    /// A file operation failed.
    #[error("{action} {path}")]
    Io {
        /// What we were doing.
        action: &'static str,
        /// The path involved.
        path: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A file a run reads (its standard input) broke the opener's rules (not a regular file,
    /// too large).
    #[error(transparent)]
    Input(#[from] archbench_input::Error),
}

/// Result alias for this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
