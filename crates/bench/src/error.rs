//! What can stop a bench before or between its cells. A cell that fails is not an error here:
//! it is recorded in the results with its reason ([`archbench_results::CellStatus`]).

use std::path::PathBuf;

use archbench_platform::Platform;

/// Why a bench could not start or go on.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The platform table has no recipe to build the workloads for this platform.
    #[error("no workload build for {platform}; supported: {supported}")]
    NoRecipe {
        /// The platform asked for.
        platform: Platform,
        /// The platforms that have one, comma-separated.
        supported: String,
    },
    /// A file or directory could not be written or made.
    #[error("{action} {}", path.display())]
    Io {
        /// What we were doing.
        action: &'static str,
        /// Where.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// cargo did not start.
    #[error("running cargo for {triple}")]
    Cargo {
        /// The target it was to build.
        triple: &'static str,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// cargo ran and failed; `log` is the end of its output.
    #[error("building the workloads for {platform} ({triple}) failed; scripts/setup installs the target and linker:\n{log}")]
    Build {
        /// The platform.
        platform: Platform,
        /// Its Rust target.
        triple: &'static str,
        /// The last lines cargo wrote.
        log: String,
    },
    /// cargo succeeded and the program is not where it builds it.
    #[error("cargo succeeded but {} is missing", path.display())]
    Missing {
        /// Where it should be.
        path: PathBuf,
    },
    /// The CPU asked for is not one this process may use.
    #[error("CPU {cpu} is not available to this process (allowed: {allowed}); choose another with --cpu or measure unpinned with --no-pin")]
    Cpu {
        /// The CPU asked for.
        cpu: usize,
        /// The CPUs allowed, as ranges.
        allowed: String,
    },
    /// Reading or setting the thread's CPU affinity failed.
    #[error("{action}")]
    Affinity {
        /// What we were doing.
        action: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A runner has no program: the toolbox was not given one for it.
    #[error("no program for {0}")]
    NoProgram(archbench_exec::runner::RunnerSpec),
    /// The image to bench could not be read.
    #[error("{what}")]
    Image {
        /// Which image.
        what: String,
        /// The cause.
        #[source]
        source: archbench_oci::Error,
    },
    /// `--image` was given something the engine cannot pull.
    #[error("{0}")]
    NotPullable(String),
}

/// A bench's result.
pub type Result<T, E = Error> = std::result::Result<T, E>;
