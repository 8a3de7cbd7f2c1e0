//! Multi-arch image builds through the Docker Engine, timed per step.
//!
//! * [`run::build_all`] builds one Dockerfile for each platform × [`run::Strategy`] (native,
//!   emulated under QEMU, cross with `--platform=$BUILDPLATFORM` stages on the host, remote on
//!   another engine) with BuildKit where the engine has it ([`buildkit`]: its vertices timed into
//!   stages and a timeline) or the classic builder (its `Step N/M` stream timed by
//!   [`steps::StepTracker`], the `TARGET*`/`BUILD*` build args buildx defines passed so
//!   Dockerfiles written for buildx build unchanged). Each image is exported into an OCI layout
//!   ([`export::export`]) and one index per build names a manifest per platform.
//! * [`multi`] is the `multi` strategy: one BuildKit solve for every platform, as `docker buildx
//!   build --platform a,b` sends it, with BuildKit's own OCI index imported as it made it.
//! * [`base::bootstrap`] makes Debian base images per platform with mmdebstrap, correctly
//!   labelled, cached between runs.
//!
//! ```
//! use archbench_builder::run::{platform_args, Strategy};
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
pub mod spec;
pub mod steps;
pub mod world;

pub use error::{BadRule, Error, Result};
