//! Multi-arch image builds through the Docker Engine, timed per step.
//!
//! * [`run::build_all`] builds one Dockerfile for each platform × [`run::Strategy`] (native,
//!   emulated under QEMU, cross with `--platform=$BUILDPLATFORM` stages on the host, remote on
//!   another engine) with the engine's classic builder, passing the `TARGET*`/`BUILD*` build args
//!   buildx defines, so Dockerfiles written for buildx build unchanged. Every step is timed from
//!   the builder's stream ([`steps::StepTracker`]), each image is exported into an OCI layout
//!   ([`export::export`]) and one index per build names a manifest per platform.
//! * [`base::bootstrap`] makes Debian base images per platform with mmdebstrap, correctly
//!   labelled, cached between runs.
//!
//! Why the classic builder: bollard reaches BuildKit only through its gRPC session support,
//! which Engine 20.10's API 1.41 on this machine does not carry for multi-platform output;
//! the classic builder with the build args set explicitly gives the same stages and, unlike
//! BuildKit's API, a plain text stream whose `Step N/M` lines time every instruction.
//!
//! ```
//! use archbench_build::run::{platform_args, Strategy};
//! use archbench_platform::Platform;
//!
//! let args = platform_args(&Platform::linux_arm64(), &Platform::linux_amd64());
//! assert_eq!(args["TARGETARCH"], "arm64");
//! assert_eq!(args["BUILDPLATFORM"], "linux/amd64");
//! assert_eq!("remote=tcp://127.0.0.1:2375".parse::<Strategy>().unwrap().to_string(), "remote=tcp://127.0.0.1:2375");
//! ```
#![deny(missing_docs)]

pub mod base;
pub mod buildkit;
pub mod context;
mod error;
pub mod export;
pub mod multi;
pub mod run;
pub mod steps;

pub use error::{Error, Result};
