//! What an image holds, per platform, and the questions the multi-arch lab asks of it: which
//! platform is largest and why, and which layers the platforms share.

use std::collections::BTreeMap;

use archbench_platform::Platform;
use serde::{Deserialize, Serialize};

use crate::attestation::Attestation;
use crate::image::{ImageSource, PlatformImage};
use crate::{Digest, Result};

/// One platform's manifest.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PlatformSummary {
    /// What the index entry (or config) declares.
    pub platform: String,
    /// What the config says (`os/architecture[/variant]`).
    pub config_platform: String,
    /// Manifest digest.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub manifest_digest: Option<Digest>,
    /// Manifest + config + compressed layers, in bytes.
    pub size: u64,
    /// Number of layers.
    pub layers: usize,
    /// Layers as (digest, compressed size), bottom first.
    pub layer_sizes: Vec<LayerSize>,
    /// A container image, or a Wasm OCI artifact (a Wasm config and the module as its layer).
    #[serde(default)]
    pub kind: EntryKind,
}

/// What a platform's entry holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum EntryKind {
    /// A container image, Wasm entries in container layout included.
    #[default]
    Image,
    /// A Wasm OCI artifact: a Wasm config, and the module itself as the layer.
    WasmArtifact,
}

/// An attestation manifest of the index (provenance, SBOM): listed apart from the platforms,
/// and left out of the size comparison and the shared layers, since it is no platform's image.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AttestationSummary {
    /// `attestation of linux/amd64 (sha256:…)`, the described manifest's digest in brackets.
    pub label: String,
    /// Its own manifest digest.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub manifest_digest: Option<Digest>,
    /// Manifest + config + layers, in bytes.
    pub size: u64,
    /// Number of layers (in-toto statements).
    pub layers: usize,
    /// What it describes and holds.
    #[serde(flatten)]
    pub attestation: Attestation,
}

/// A layer's size.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LayerSize {
    /// `sha256:…` (or the archive path for docker archives).
    pub digest: String,
    /// Compressed bytes as stored.
    pub size: u64,
}

/// A layer present in more than one platform.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SharedLayer {
    /// Its digest.
    pub digest: String,
    /// Its size (stored once in a registry).
    pub size: u64,
    /// The platforms that use it.
    pub platforms: Vec<String>,
}

/// The answer to "which platform is biggest, and why".
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Largest {
    /// The platform.
    pub platform: String,
    /// Its size.
    pub size: u64,
    /// Bytes more than the smallest platform.
    pub over_smallest: u64,
    /// Its layers that no other platform has, biggest first: where the difference lives.
    pub own_layers: Vec<LayerSize>,
}

/// An inspected image.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Inspection {
    /// The source, as described.
    pub source: String,
    /// Media type of the root document.
    pub media_type: String,
    /// Digest of the root document; empty for a docker archive, which has none.
    pub digest: String,
    /// Per platform (attestations are not platforms: see `attestations`).
    pub platforms: Vec<PlatformSummary>,
    /// The attestation manifests, with what each describes.
    #[serde(default)]
    pub attestations: Vec<AttestationSummary>,
    /// The largest platform (absent for an empty image).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub largest: Option<Largest>,
    /// Layers used by more than one platform.
    pub shared_layers: Vec<SharedLayer>,
    /// Bytes the platforms store once between them (shared layers counted once; attestations
    /// not counted).
    pub unique_bytes: u64,
}

fn layer_key(img: &PlatformImage, i: usize) -> String {
    let l = &img.layers[i];
    l.verify_digest.as_ref().map_or_else(|| l.path.clone(), Digest::to_string)
}

/// Inspect `src`, optionally only some platforms (and the attestations of those).
pub fn inspect(src: &ImageSource, only: &[Platform]) -> Result<Inspection> {
    let root = src.root().ok();
    let (attested, images): (Vec<PlatformImage>, Vec<PlatformImage>) =
        src.images()?.into_iter().filter(|i| i.selected_by(only)).partition(|i| i.is_attestation());
    let mut platforms = Vec::new();
    let mut users: BTreeMap<String, (u64, Vec<String>)> = BTreeMap::new();
    for img in &images {
        let layer_sizes: Vec<LayerSize> = (0..img.layers.len())
            .map(|i| LayerSize { digest: layer_key(img, i), size: img.layers[i].size })
            .collect();
        for l in &layer_sizes {
            let e = users.entry(l.digest.clone()).or_insert((l.size, Vec::new()));
            if !e.1.iter().any(|p| img.declared() == p.as_str()) {
                e.1.push(img.declared().to_string());
            }
        }
        platforms.push(PlatformSummary {
            platform: img.declared().to_string(),
            kind: if img.is_wasm_artifact() { EntryKind::WasmArtifact } else { EntryKind::Image },
            config_platform: img.config_platform.to_string(),
            manifest_digest: img.manifest_digest.clone(),
            size: img.stored_size(),
            layers: img.layers.len(),
            layer_sizes,
        });
    }
    let attestations = attested
        .iter()
        .filter_map(|img| {
            let a = img.attestation.clone()?;
            Some(AttestationSummary {
                label: a.label(),
                manifest_digest: img.manifest_digest.clone(),
                size: img.stored_size(),
                layers: img.layers.len(),
                attestation: a,
            })
        })
        .collect();
    let shared_layers: Vec<SharedLayer> = users
        .iter()
        .filter(|(_, (_, p))| p.len() > 1)
        .map(|(d, (size, p))| SharedLayer { digest: d.clone(), size: *size, platforms: p.clone() })
        .collect();
    let largest = largest(&platforms, &users);
    let unique_bytes = users.values().map(|(s, _)| s).sum::<u64>()
        + images.iter().map(|i| i.manifest_size + i.config_size).sum::<u64>();
    Ok(Inspection {
        source: src.describe(),
        media_type: root
            .as_ref()
            .map(|r| r.media_type.clone())
            .unwrap_or_else(|| "docker-archive".into()),
        digest: root.map(|r| r.digest.to_string()).unwrap_or_default(),
        platforms,
        attestations,
        largest,
        shared_layers,
        unique_bytes,
    })
}

/// The largest platform, how much larger than the smallest, and its layers no other has.
fn largest(
    platforms: &[PlatformSummary],
    users: &BTreeMap<String, (u64, Vec<String>)>,
) -> Option<Largest> {
    let big = platforms.iter().max_by_key(|p| p.size)?;
    let smallest = platforms.iter().map(|p| p.size).min().unwrap_or(0);
    let mut own: Vec<LayerSize> = big
        .layer_sizes
        .iter()
        .filter(|l| users.get(&l.digest).is_some_and(|(_, p)| p.len() == 1))
        .cloned()
        .collect();
    own.sort_by_key(|l| std::cmp::Reverse(l.size));
    Some(Largest {
        platform: big.platform.clone(),
        size: big.size,
        over_smallest: big.size - smallest,
        own_layers: own,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layout::{LayerInput, LayoutWriter};
    use crate::ImageRef;

    #[test]
    fn largest_and_shared_layers() {
        let dir = tempfile::tempdir().unwrap();
        let mut w = LayoutWriter::create(dir.path()).unwrap();
        let shared = vec![7u8; 2048];
        let amd = w
            .image(
                &Platform::linux_amd64(),
                &[LayerInput::tar(shared.clone()), LayerInput::tar(vec![1; 4096])],
                &[],
            )
            .unwrap();
        let arm = w
            .image(
                &Platform::linux_arm64(),
                &[LayerInput::tar(shared), LayerInput::tar(vec![2; 10240])],
                &[],
            )
            .unwrap();
        let idx = w
            .index(
                &[(amd, Platform::linux_amd64()), (arm, Platform::linux_arm64())],
                &Default::default(),
            )
            .unwrap();
        w.tag(&idx, "v1").unwrap();
        let src = ImageSource::open(
            &ImageRef::parse(&format!("oci:{}:v1", dir.path().display())).unwrap(),
        )
        .unwrap();
        let i = inspect(&src, &[]).unwrap();
        assert_eq!(i.digest, idx.digest.as_str());
        assert_eq!(i.platforms.len(), 2);
        assert_eq!(i.shared_layers.len(), 1);
        assert_eq!(i.shared_layers[0].size, 2048);
        let big = i.largest.unwrap();
        assert_eq!(big.platform, "linux/arm64");
        assert_eq!(
            big.over_smallest,
            10240 - 4096 + (i.platforms[1].size - 10240 - 2048)
                - (i.platforms[0].size - 4096 - 2048)
        );
        assert_eq!(big.own_layers.len(), 1);
        assert_eq!(big.own_layers[0].size, 10240);
        let only = inspect(&src, &[Platform::linux_amd64()]).unwrap();
        assert_eq!(only.platforms.len(), 1);
        assert!(only.shared_layers.is_empty());
    }

    /// buildx's default push: each image with an attestation manifest (provenance and an
    /// SBOM). The attestations are listed apart, never taken for the smallest platform, and the
    /// layer they share (the same SBOM) is no shared layer of the platforms.
    #[test]
    fn attestations_are_listed_apart_and_left_out_of_the_comparison() {
        let dir = tempfile::tempdir().unwrap();
        let mut w = LayoutWriter::create(dir.path()).unwrap();
        let (amd64, arm64) = (Platform::linux_amd64(), Platform::linux_arm64());
        let amd = w.image(&amd64, &[LayerInput::tar(vec![1; 4096])], &[]).unwrap();
        let arm = w.image(&arm64, &[LayerInput::tar(vec![2; 10240])], &[]).unwrap();
        let sbom: &[u8] = br#"{"_type":"https://in-toto.io/Statement/v0.1"}"#;
        let mut entries = vec![
            crate::document::with_platform(amd.descriptor(), &amd64),
            crate::document::with_platform(arm.descriptor(), &arm64),
        ];
        for (of, provenance) in [(&amd, &b"{\"a\":1}"[..]), (&arm, &b"{\"a\":2}"[..])] {
            let statements = [
                ("https://slsa.dev/provenance/v0.2", provenance),
                ("https://spdx.dev/Document", sbom),
            ];
            entries.push(w.attestation(of, &statements).unwrap());
        }
        let idx = w.index_of(entries).unwrap();
        w.tag(&idx, "v1").unwrap();
        let src = ImageSource::open(
            &ImageRef::parse(&format!("oci:{}:v1", dir.path().display())).unwrap(),
        )
        .unwrap();

        let i = inspect(&src, &[]).unwrap();
        let names: Vec<&str> = i.platforms.iter().map(|p| p.platform.as_str()).collect();
        assert_eq!(names, ["linux/amd64", "linux/arm64"]);
        let labels: Vec<&str> = i.attestations.iter().map(|a| a.label.as_str()).collect();
        assert_eq!(
            labels,
            [
                format!("attestation of linux/amd64 ({})", amd.digest.short()),
                format!("attestation of linux/arm64 ({})", arm.digest.short()),
            ]
        );
        assert_eq!(i.attestations[0].attestation.of.as_ref(), Some(&amd.digest));
        assert_eq!(i.attestations[0].layers, 2);
        assert!(i.attestations[0].size < i.platforms[0].size, "the attestation is the smallest");
        let big = i.largest.unwrap();
        assert_eq!(big.platform, "linux/arm64");
        assert_eq!(big.over_smallest, i.platforms[1].size - i.platforms[0].size);
        assert!(i.shared_layers.is_empty(), "{:?}", i.shared_layers);

        // --platform keeps the attestations of the platforms chosen.
        let only = inspect(&src, &[amd64]).unwrap();
        assert_eq!(only.platforms.len(), 1);
        assert_eq!(only.attestations.len(), 1);
        assert_eq!(
            only.attestations[0]
                .attestation
                .of_platform
                .as_ref()
                .map(archbench_platform::Declared::text),
            Some("linux/amd64")
        );
    }
}
