//! The on-disk schema of everything archbench writes.
//!
//! Every output file is an [`Envelope`]: a `schema_version`, the `kind` of payload, the command
//! line that produced it, start and end times, the [`HostFacts`] of the machine, and the payload
//! itself. These are plain serde types with no dependency on the runtimes that produced them, so
//! `plan` and `report` read results without pulling in wasmtime or bollard.
//!
//! Files are written with [`write_atomic`]: a temporary file in the same directory, flushed and
//! renamed over the target, so an interrupted run leaves the previous file intact.
//!
//! ```
//! use archbench_results::{Envelope, HostFacts, Kind, write_atomic, read};
//!
//! let dir = tempfile::tempdir().unwrap();
//! let path = dir.path().join("out.json");
//! let env = Envelope::begin(Kind::Bench, HostFacts::default(), vec![1, 2, 3]).finish();
//! write_atomic(&path, &env).unwrap();
//! let back: Envelope<Vec<u32>> = read(&path, Kind::Bench).unwrap();
//! assert_eq!(back.payload, vec![1, 2, 3]);
//! ```
#![deny(missing_docs)]

pub mod bench;
pub mod build;
pub mod check;
pub mod cleanup;
pub mod dir;
mod envelope;
mod error;
mod host;
mod io;
pub mod markdown;
pub mod merge;
pub mod migrate;
pub mod run;

pub use envelope::{mark_command_start, redact, Envelope, Kind, SCHEMA_VERSION};
pub use error::{error_line, Error, Result};
pub use host::HostFacts;
pub use io::{read, write_atomic, write_bytes_atomic};

/// Durations in seconds.
pub type Seconds = f64;
/// Sizes in bytes.
pub type Bytes = u64;
