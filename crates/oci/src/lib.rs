//! OCI images on disk: image layouts (read and write) and `docker save` archives (read).
//!
//! * [`ImageRef`] parses `oci:DIR[:tag]`, `docker-archive:FILE` or a plain path.
//! * [`ImageSource`] lists the platform images a reference selects — descending through nested
//!   indexes — with each one's declared platform (index entry and config) and layers, and streams
//!   a layer with its digest verified as it is read. Manifests and configs over
//!   [`image::MAX_DOCUMENT_BYTES`] are refused. An entry that is an [`Attestation`] (buildx's
//!   provenance and SBOM manifests) says so, and names the image it describes.
//! * [`Compression`] tells a layer's compression by its magic bytes and undoes it.
//! * [`LayoutWriter`] writes blobs, single-platform images, indexes and tags.
//!
//! * [`Digest`] is a checked `sha256:<hex>`; [`Registry`] pushes, pulls and authenticates;
//!   [`copy`] moves images between layouts and registries.
//!
//! ```
//! use archbench_oci::{ImageRef, ImageSource, LayoutWriter, LayerInput};
//! use archbench_platform::Platform;
//!
//! let dir = tempfile::tempdir().unwrap();
//! let mut w = LayoutWriter::create(dir.path()).unwrap();
//! let arm64 = Platform::linux_arm64();
//! let m = w.image(&arm64, &[LayerInput::tar(vec![0; 1024])], &["/app"]).unwrap();
//! let idx = w.index(&[(m, arm64)], &Default::default()).unwrap();
//! w.tag(&idx, "v1").unwrap();
//!
//! let r = ImageRef::parse(&format!("oci:{}:v1", dir.path().display())).unwrap();
//! let images = ImageSource::open(&r).unwrap().images().unwrap();
//! assert_eq!(images[0].declared(), "linux/arm64");
//! ```
#![deny(missing_docs)]

pub mod attestation;
pub mod compression;
pub mod config;
pub mod copy;
pub mod digest;
pub mod digests;
pub mod docker_save;
pub mod document;
mod error;
pub mod image;
pub mod inspect;
pub mod layout;
pub mod limits;
pub mod media;
pub mod reference;
pub mod registry;
pub mod store;

pub use attestation::Attestation;
pub use compression::Compression;
pub use copy::{copy, create_index, CopyOptions, CopyReport, Destination, IndexMode, IndexSource};
pub use digest::Digest;
pub use error::{Error, Result};
pub use image::{ImageRef, ImageSource, LayerRef, PlatformImage, Root};
pub use inspect::{inspect, Inspection};
pub use layout::{LayerInput, LayoutWriter, Written};
pub use reference::Reference;
pub use registry::{Registry, RegistryOptions};
