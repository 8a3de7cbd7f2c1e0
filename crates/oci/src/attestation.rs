//! Attestation manifests: the provenance and SBOM documents that Docker buildx (and GitHub's
//! build-push-action) push beside an index's images by default. Each is an index entry with
//! platform `unknown/unknown` whose layers are in-toto statements; it describes one image of
//! the index and is not one itself, so nothing archbench does per platform (compare sizes,
//! verify binaries, run) applies to it. This module is the one place that tells them apart.

use archbench_platform::{Declared, Platform};
use oci_spec::image::{Descriptor, ImageManifest};
use serde::{Deserialize, Serialize};

use crate::media;
use crate::Digest;

/// The annotation on an index entry saying what the entry is; BuildKit writes
/// [`ATTESTATION_MANIFEST`].
pub const REFERENCE_TYPE: &str = "vnd.docker.reference.type";
/// [`REFERENCE_TYPE`]'s value for an attestation manifest.
pub const ATTESTATION_MANIFEST: &str = "attestation-manifest";
/// The annotation on an attestation's index entry naming the manifest it describes.
pub const REFERENCE_DIGEST: &str = "vnd.docker.reference.digest";
/// The annotation on an attestation layer naming its in-toto predicate
/// (`https://slsa.dev/provenance/v0.2`, `https://spdx.dev/Document`).
pub const PREDICATE_TYPE: &str = "in-toto.io/predicate-type";

/// What an attestation manifest describes and holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attestation {
    /// The digest of the image manifest it describes, when its index entry names one (a
    /// malformed annotation names none, with a warning).
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "lenient")]
    pub of: Option<Digest>,
    /// The platform that manifest declares, when the same index holds it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub of_platform: Option<Declared>,
    /// The in-toto predicate types its layers carry, in layer order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub predicate_types: Vec<String>,
}

/// `of` as a file holds it; one an older archbench wrote kept the annotation as it was, so a
/// malformed one reads as none rather than failing the whole file.
fn lenient<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Digest>, D::Error> {
    let text: Option<String> = Option::deserialize(d)?;
    Ok(text.and_then(|t| Digest::parse(&t).ok()))
}

impl Attestation {
    /// The attestation an index entry (and its manifest, when read) makes, if it makes one:
    /// by the entry's annotations as BuildKit writes them, or, without those, by every layer
    /// of the manifest being an in-toto statement. With `manifest` `None` (only the index at
    /// hand) the annotations alone decide.
    pub fn classify(entry: &Descriptor, manifest: Option<&ImageManifest>) -> Option<Self> {
        let annotation = |key: &str| entry.annotations().as_ref()?.get(key).cloned();
        let by_annotation = annotation(REFERENCE_TYPE).as_deref() == Some(ATTESTATION_MANIFEST);
        let layers = manifest.map(|m| m.layers().as_slice()).unwrap_or_default();
        let by_layers = !layers.is_empty()
            && layers.iter().all(|l| l.media_type().to_string() == media::IN_TOTO);
        if !by_annotation && !by_layers {
            return None;
        }
        Some(Attestation {
            of: annotation(REFERENCE_DIGEST).and_then(|text| match Digest::parse(&text) {
                Ok(d) => Some(d),
                Err(e) => {
                    tracing::warn!("an attestation's {REFERENCE_DIGEST} is unusable ({e}); it is taken to name no image");
                    None
                }
            }),
            of_platform: None,
            predicate_types: layers
                .iter()
                .filter_map(|l| l.annotations().as_ref()?.get(PREDICATE_TYPE).cloned())
                .collect(),
        })
    }

    /// What it describes, for messages: `linux/amd64`, or the manifest's digest when the index
    /// does not hold it.
    pub fn subject(&self) -> String {
        match (&self.of_platform, &self.of) {
            (Some(p), _) => p.to_string(),
            (None, Some(d)) => format!("{}, not in this index", d.short()),
            (None, None) => "an image it does not name".to_owned(),
        }
    }

    /// `attestation of linux/amd64 (sha256:0123456789ab)`: what it describes, with that
    /// manifest's short digest.
    pub fn label(&self) -> String {
        match (&self.of_platform, &self.of) {
            (Some(p), Some(d)) => format!("attestation of {p} ({})", d.short()),
            _ => format!("attestation of {}", self.subject()),
        }
    }

    /// Whether it goes with a selection of platforms (empty: every platform): it does when the
    /// image it describes is selected.
    pub fn selected_by(&self, only: &[Platform]) -> bool {
        only.is_empty()
            || self
                .of_platform
                .as_ref()
                .and_then(Declared::platform)
                .is_some_and(|p| only.contains(p))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const IMAGE: &str = "sha256:1111111111111111111111111111111111111111111111111111111111111111";
    const BLOB: &str = "sha256:2222222222222222222222222222222222222222222222222222222222222222";

    fn blob() -> Digest {
        Digest::parse(BLOB).unwrap()
    }

    fn entry(annotations: &[(&str, &str)]) -> Descriptor {
        let mut d = crate::document::descriptor(media::MANIFEST, &blob(), 10);
        if !annotations.is_empty() {
            d.set_annotations(Some(
                annotations.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            ));
        }
        d
    }

    fn manifest(layer_type: &str, predicate: Option<&str>) -> ImageManifest {
        let mut layer = crate::document::descriptor(layer_type, &blob(), 10);
        if let Some(p) = predicate {
            layer.set_annotations(Some([(PREDICATE_TYPE.to_owned(), p.to_owned())].into()));
        }
        crate::document::manifest(
            crate::document::descriptor(media::CONFIG, &blob(), 2),
            vec![layer],
        )
    }

    #[test]
    fn annotations_or_in_toto_layers_make_an_attestation() {
        let buildkit = entry(&[(REFERENCE_TYPE, ATTESTATION_MANIFEST), (REFERENCE_DIGEST, IMAGE)]);
        let provenance = manifest(media::IN_TOTO, Some("https://slsa.dev/provenance/v0.2"));
        let a = Attestation::classify(&buildkit, Some(&provenance)).unwrap();
        assert_eq!(a.of.as_ref().map(Digest::as_str), Some(IMAGE));
        assert_eq!(a.predicate_types, ["https://slsa.dev/provenance/v0.2"]);
        assert_eq!(a.label(), "attestation of sha256:111111111111, not in this index");
        let a = Attestation { of_platform: Some(Declared::new("linux/amd64")), ..a };
        assert_eq!(a.label(), "attestation of linux/amd64 (sha256:111111111111)");
        assert!(a.selected_by(&[Platform::linux_amd64()]));
        assert!(!a.selected_by(&[Platform::linux_arm64()]));
        assert!(a.selected_by(&[]));
        // The index alone is enough when it is annotated.
        assert!(Attestation::classify(&buildkit, None).is_some());

        // No annotations: in-toto layers say it, and it names no image.
        let bare = Attestation::classify(&entry(&[]), Some(&provenance)).unwrap();
        assert_eq!(bare.of, None);
        assert_eq!(bare.label(), "attestation of an image it does not name");
        assert!(!bare.selected_by(&[Platform::linux_amd64()]));

        // An image is not one, whatever its platform.
        let image = manifest(media::LAYER_TAR_GZIP, None);
        assert_eq!(Attestation::classify(&entry(&[]), Some(&image)), None);
        assert_eq!(Attestation::classify(&entry(&[(REFERENCE_TYPE, "other")]), None), None);
    }
}
