//! What can stop `archbench run`, each with its source kept: the CLI prints the whole chain
//! (`layer 2: reading …: unexpected end of file`), so nothing is flattened into a string here.

/// A run's error.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The image is not what `run` needs; the message says what and how to fix it.
    #[error("{0}")]
    Image(String),
    /// Reading the image failed.
    #[error(transparent)]
    Read(#[from] archbench_oci::Error),
    /// Reading part of the image failed (`the module layer`, `layer 2`).
    #[error("{what}")]
    Oci {
        /// Which part.
        what: String,
        /// Why.
        #[source]
        source: archbench_oci::Error,
    },
    /// A layer could not be walked as a tar.
    #[error("reading layer {layer}")]
    Walk {
        /// 1-based.
        layer: usize,
        /// Why.
        #[source]
        source: archbench_archid::Error,
    },
    /// A layer's tar could not be read.
    #[error("reading layer {layer}")]
    Layer {
        /// 1-based.
        layer: usize,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The Wasm module does not load or its run failed.
    #[error("{what}")]
    Module {
        /// Which module, and what failed.
        what: String,
        /// wasmtime's reason.
        #[source]
        source: archbench_exec::Error,
    },
    /// The Docker Engine failed or refused.
    #[error(transparent)]
    Engine(#[from] archbench_engine::Error),
    /// An error of the entry `what` names.
    #[error("{what}")]
    Context {
        /// The image and entry (`oci:dir (linux/arm64)`).
        what: String,
        /// The error.
        #[source]
        source: Box<Error>,
    },
}

/// A run's result.
pub type Result<T> = std::result::Result<T, Error>;
