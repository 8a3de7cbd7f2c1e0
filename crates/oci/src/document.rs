//! OCI documents on oci-spec types: the one module that builds and parses descriptors,
//! manifests and indexes, and converts platforms between archbench and OCI.
//!
//! Everything archbench writes goes through [`to_bytes`], which serialises through a JSON value
//! so that object keys come out sorted: oci-spec keeps annotations in a `HashMap`, whose order
//! changes from process to process, and a document's digest must not.

use std::collections::{BTreeMap, HashMap};

use archbench_platform::Platform;
use oci_spec::image::{
    Descriptor, ImageIndex, ImageIndexBuilder, ImageManifest, ImageManifestBuilder, MediaType,
};
use serde::Serialize;

use crate::{Digest, Error, Result};

/// The annotation that names an entry of a layout's `index.json`.
pub const REF_NAME: &str = "org.opencontainers.image.ref.name";

/// A descriptor; `digest` must be `algorithm:hex` (checked).
pub fn descriptor(media_type: &str, digest: &Digest, size: u64) -> Descriptor {
    Descriptor::new(MediaType::from(media_type), size, oci_spec::image::Digest::from(digest))
}

/// The OCI platform object of `p` (the fields archbench_platform::oci writes).
pub fn platform(p: &Platform) -> oci_spec::image::Platform {
    // Os and Arch have an `Other` variant, so any os/architecture string converts.
    serde_json::from_value(p.oci_json()).expect("os and architecture are strings")
}

/// `d` with its platform set to `p`.
pub fn with_platform(mut d: Descriptor, p: &Platform) -> Descriptor {
    d.set_platform(Some(platform(p)));
    d
}

/// The platform a descriptor declares, `os/architecture[/variant]` as written; `None` without one.
pub fn declared(d: &Descriptor) -> Option<String> {
    let p = d.platform().as_ref()?;
    Some(archbench_platform::oci::spell(
        &p.os().to_string(),
        &p.architecture().to_string(),
        p.variant().as_deref(),
    ))
}

/// `d` named `tag` for a layout's `index.json`.
pub fn tagged(mut d: Descriptor, tag: &str) -> Descriptor {
    d.set_annotations(Some(HashMap::from([(REF_NAME.to_owned(), tag.to_owned())])));
    d
}

/// The tag of an `index.json` entry.
pub fn tag_of(d: &Descriptor) -> Option<&str> {
    d.annotations().as_ref()?.get(REF_NAME).map(String::as_str)
}

/// An OCI image index of `manifests`, with `annotations` when there are any.
pub fn index(manifests: Vec<Descriptor>, annotations: &BTreeMap<String, String>) -> ImageIndex {
    let mut b = ImageIndexBuilder::default()
        .schema_version(2u32)
        .media_type(MediaType::ImageIndex)
        .manifests(manifests);
    if !annotations.is_empty() {
        b = b.annotations(
            annotations.iter().map(|(k, v)| (k.clone(), v.clone())).collect::<HashMap<_, _>>(),
        );
    }
    b.build().expect("every required field is set")
}

/// An OCI image manifest.
pub fn manifest(config: Descriptor, layers: Vec<Descriptor>) -> ImageManifest {
    ImageManifestBuilder::default()
        .schema_version(2u32)
        .media_type(MediaType::ImageManifest)
        .config(config)
        .layers(layers)
        .build()
        .expect("every required field is set")
}

/// Parse an index (OCI or Docker manifest list); `what` names it in the error.
pub fn parse_index(bytes: &[u8], what: &str) -> Result<ImageIndex> {
    serde_json::from_slice(bytes).map_err(|e| Error::Invalid {
        what: what.to_owned(),
        message: format!("not an image index: {e}"),
    })
}

/// The bytes of a document, keys sorted (see the module docs).
pub fn to_bytes(doc: &impl Serialize) -> Vec<u8> {
    let v = serde_json::to_value(doc).expect("OCI documents serialise");
    serde_json::to_vec(&v).expect("a JSON value serialises")
}

#[cfg(test)]
mod tests {
    use super::*;

    const D: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    #[test]
    fn platforms_round_trip_and_bytes_are_stable() {
        for p in Platform::known() {
            let d = with_platform(descriptor("application/x", &Digest::parse(D).unwrap(), 1), &p);
            assert_eq!(declared(&d).unwrap().parse::<Platform>().unwrap(), p);
        }
        let ann: BTreeMap<String, String> =
            (0..20).map(|i| (format!("k{i}"), format!("v{i}"))).collect();
        let d = tagged(descriptor("application/x", &Digest::parse(D).unwrap(), 1), "t");
        assert_eq!(tag_of(&d), Some("t"));
        let a = to_bytes(&index(vec![d.clone()], &ann));
        for _ in 0..5 {
            assert_eq!(to_bytes(&index(vec![d.clone()], &ann)), a, "HashMap order leaks");
        }
        let back = parse_index(&a, "x").unwrap();
        assert_eq!(back.manifests().len(), 1);
        assert!(parse_index(b"{}", "the index").unwrap_err().to_string().contains("the index"));
    }
}
