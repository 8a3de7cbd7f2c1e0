//! Running artifacts and probing the host.
//!
//! * [`process::run_measured`]: one execution of a child process with wall, user, sys, max RSS,
//!   exit status or signal, captured output, and a timeout that kills the whole process group.
//! * [`wasm::WasmModule`]: a WASI module compiled once for a wasmtime tier (Cranelift, Winch,
//!   Pulley) and run many times, with compile, instantiate and run timed separately.
//! * [`runner`]: the runners the bench suite uses (native, QEMU, wasmtime tiers).
//! * [`registry::LocalRegistry`]: Debian's docker-registry on a free loopback port.
//! * [`binfmt::Binfmt`] and [`tiny::probe_elf`]: binfmt_misc entries, and tiny static programs
//!   per architecture that prove emulation actually executes.
//!
//! The Docker Engine client is `archbench-engine`, and doctor's checks are `archbench-doctor`:
//! this crate measures processes and runs artifacts, and needs neither bollard nor tokio.
//!
//! ```
//! use std::process::Command;
//! use std::time::Duration;
//! use archbench_exec::process::{run_measured, Outcome};
//!
//! let m = run_measured(Command::new("true").arg("x"), Duration::from_secs(5)).unwrap();
//! assert_eq!(m.outcome, Outcome::Exited { code: 0 });
//! ```
#![deny(missing_docs)]

pub mod binfmt;
mod error;
pub mod host;
pub mod process;
pub mod registry;
pub mod runner;
pub mod tiny;
pub mod wasm;

pub use error::{Error, Result};
