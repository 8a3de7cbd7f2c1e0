//! Images on disk: what platforms an OCI layout or `docker save` archive holds, with their
//! manifests, configs and layers, and digest-verified access to each layer.

use std::io::Read;
use std::path::{Path, PathBuf};

use archbench_platform::{Declared, Platform};
use oci_spec::image::{Descriptor, ImageIndex, ImageManifest};
use serde::{Deserialize, Serialize};

use crate::attestation::Attestation;
use crate::digest::{Digest, SizedReader, VerifyingReader};
use crate::reference::Reference;
use crate::registry::{sniff_media_type, RegistryOptions, RegistryStore};
use crate::store::{DirStore, Store, TarStore};
use crate::{Error, Result};

pub use crate::limits::MAX_DOCUMENT_BYTES;

/// Where an image is, as the user wrote it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImageRef {
    /// `oci:DIR[:tag]`.
    Layout {
        /// The layout directory.
        dir: PathBuf,
        /// The tag (`org.opencontainers.image.ref.name`), if given.
        tag: Option<String>,
    },
    /// `docker-archive:FILE` or a plain path to a tar (`docker save` output).
    Archive {
        /// The tar file.
        file: PathBuf,
    },
    /// `docker://REF` or a reference such as `127.0.0.1:5000/app:v1`.
    Registry(Reference),
}

impl ImageRef {
    /// Parse `oci:DIR[:tag]`, `docker-archive:FILE`, or a path (a directory holding `oci-layout`
    /// is a layout, a file is an archive).
    pub fn parse(s: &str) -> Result<Self> {
        if let Some(rest) = s.strip_prefix("oci:") {
            // skopeo's spelling: the tag follows the last ':' unless that is part of the path.
            let (dir, tag) = match rest.rsplit_once(':') {
                Some((d, t)) if !t.contains('/') && !d.is_empty() => (d, Some(t.to_owned())),
                _ => (rest, None),
            };
            if dir.is_empty() {
                return Err(Error::BadReference(format!("{s:?}: write oci:DIR or oci:DIR:TAG")));
            }
            return Ok(ImageRef::Layout { dir: PathBuf::from(dir), tag });
        }
        if let Some(rest) = s.strip_prefix("docker-archive:") {
            return Ok(ImageRef::Archive { file: PathBuf::from(rest) });
        }
        if s.starts_with("docker://") {
            return Ok(ImageRef::Registry(Reference::parse(s)?));
        }
        let p = Path::new(s);
        if p.join("oci-layout").is_file() {
            Ok(ImageRef::Layout { dir: p.to_owned(), tag: None })
        } else if p.is_file() {
            Ok(ImageRef::Archive { file: p.to_owned() })
        } else if p.is_dir() || s.starts_with('/') || s.starts_with('.') || s.starts_with('~') {
            Err(Error::BadReference(format!(
                "{s:?} is neither an OCI layout directory (no oci-layout file) nor an archive file; \
                 write oci:DIR[:tag], docker-archive:FILE or a registry reference"
            )))
        } else {
            Reference::parse(s).map(ImageRef::Registry).map_err(|e| {
                Error::BadReference(format!(
                    "{e}; no file or directory {s:?} exists either (for those write oci:DIR[:tag] or docker-archive:FILE)"
                ))
            })
        }
    }
}

/// One layer of one platform's image.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LayerRef {
    /// Path of the blob inside the store.
    pub path: String,
    /// Media type, when a manifest gives one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    /// Size in bytes as stored (compressed for OCI layers).
    pub size: u64,
    /// The digest the stream must hash to (`sha256:…`): the blob digest in an OCI layout, the
    /// uncompressed diff ID in a `docker save` archive (none when the config's is not sha256).
    pub verify_digest: Option<Digest>,
}

/// One platform's image within a source.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PlatformImage {
    /// The platform the index entry declares (absent for single manifests and docker archives).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub index_platform: Option<Declared>,
    /// The platform the image config declares (`os/architecture[/variant]`, as written).
    pub config_platform: Declared,
    /// Manifest digest, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub manifest_digest: Option<Digest>,
    /// Manifest size in bytes (0 for docker archives, which have none).
    #[serde(default)]
    pub manifest_size: u64,
    /// Config digest, when the config is content-addressed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub config_digest: Option<Digest>,
    /// Config size in bytes.
    #[serde(default)]
    pub config_size: u64,
    /// Tags that name this image (`RepoTags`, or the ref.name annotation).
    pub tags: Vec<String>,
    /// Layers, bottom first.
    pub layers: Vec<LayerRef>,
    /// The config's media type, when a manifest gives one (a Wasm artifact's is
    /// [`crate::layout::media::WASM_CONFIG`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config_media_type: Option<String>,
    /// Set when this entry is an attestation manifest (provenance, SBOM) rather than a
    /// platform's image: what it describes. Its declared platform is then `unknown/unknown`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attestation: Option<Attestation>,
}

impl PlatformImage {
    /// The platform this image claims to be: the index entry if there is one, else the config.
    pub fn declared(&self) -> &Declared {
        self.index_platform.as_ref().unwrap_or(&self.config_platform)
    }

    /// [`Self::declared`]'s platform, when it is one archbench knows.
    pub fn declared_platform(&self) -> Option<&Platform> {
        self.declared().platform()
    }

    /// Whether this entry is an attestation manifest, not a platform's image.
    pub fn is_attestation(&self) -> bool {
        self.attestation.is_some()
    }

    /// Whether it goes with a selection of platforms (empty: all): an image when it declares
    /// one of them, an attestation when the image it describes does.
    pub fn selected_by(&self, only: &[Platform]) -> bool {
        match &self.attestation {
            Some(a) => a.selected_by(only),
            None => only.is_empty() || self.declared_platform().is_some_and(|p| only.contains(p)),
        }
    }

    /// Whether this is a Wasm OCI artifact (a Wasm config and bare module layers) rather than
    /// a container image.
    pub fn is_wasm_artifact(&self) -> bool {
        self.config_media_type.as_deref() == Some(crate::layout::media::WASM_CONFIG)
            || (!self.layers.is_empty()
                && self.layers.iter().all(|l| {
                    l.media_type.as_deref().is_some_and(crate::layout::media::is_wasm_layer)
                }))
    }

    /// Bytes a registry stores for this image: manifest, config and (compressed) layers.
    pub fn stored_size(&self) -> u64 {
        self.manifest_size + self.config_size + self.layers.iter().map(|l| l.size).sum::<u64>()
    }
}

/// Give each attestation the platform of the image it describes, when `images` holds it.
fn name_attested_platforms(images: &mut [PlatformImage]) {
    let platforms: std::collections::HashMap<Digest, Declared> = images
        .iter()
        .filter(|i| !i.is_attestation())
        .filter_map(|i| Some((i.manifest_digest.clone()?, i.declared().to_owned())))
        .collect();
    for i in images.iter_mut() {
        if let Some(a) = &mut i.attestation {
            a.of_platform = a.of.as_ref().and_then(|d| platforms.get(d)).cloned();
        }
    }
}

/// The document a reference names: an index or a manifest, as stored.
#[derive(Debug, Clone)]
pub struct Root {
    /// Its bytes (their sha256 is `digest`).
    pub bytes: Vec<u8>,
    /// Media type.
    pub media_type: String,
    /// Its digest.
    pub digest: Digest,
}

impl Root {
    /// Whether it is an index (OCI index or Docker manifest list).
    pub fn is_index(&self) -> bool {
        is_index(&self.media_type)
    }
}

/// An opened image source.
pub struct ImageSource {
    store: Box<dyn Store>,
    reference: ImageRef,
}

fn oci_platform(d: &Descriptor) -> Option<String> {
    crate::document::declared(d)
}

fn is_index(media_type: &str) -> bool {
    media_type.contains("image.index") || media_type.contains("manifest.list")
}

/// The platform an image config declares, `os/architecture[/variant]` as written.
pub fn config_platform(config: &[u8]) -> Result<String> {
    Ok(crate::config::declared(config, "image config")?.platform())
}

impl ImageSource {
    /// Open what `reference` names, with default registry options.
    pub fn open(reference: &ImageRef) -> Result<Self> {
        Self::open_with(reference, &RegistryOptions::default())
    }

    /// Open what `reference` names; `options` apply to registry references.
    pub fn open_with(reference: &ImageRef, options: &RegistryOptions) -> Result<Self> {
        let store: Box<dyn Store> = match reference {
            ImageRef::Registry(r) => Box::new(RegistryStore::open(r, options)?),
            ImageRef::Layout { dir, .. } => {
                if !dir.join("oci-layout").is_file() {
                    return Err(Error::BadReference(format!(
                        "{} is not an OCI image layout (no oci-layout file)",
                        dir.display()
                    )));
                }
                Box::new(DirStore::new(dir))
            }
            ImageRef::Archive { file } => Box::new(TarStore::open(file)?),
        };
        Ok(Self { store, reference: reference.clone() })
    }

    /// A description for messages.
    pub fn describe(&self) -> String {
        match &self.reference {
            ImageRef::Layout { tag: Some(t), .. } => format!("{}:{t}", self.store.describe()),
            _ => self.store.describe(),
        }
    }

    /// Read a small JSON document, refusing oversized ones and checking its digest if given.
    fn document(&self, path: &str, digest: Option<&Digest>) -> Result<Vec<u8>> {
        let bytes = crate::store::read_document(&*self.store, path)?;
        if let Some(d) = digest {
            let actual = Digest::of(&bytes);
            if actual != *d {
                return Err(Error::Digest { expected: d.clone(), actual });
            }
        }
        Ok(bytes)
    }

    /// The index or manifest the reference names (for a layout: the entry with the tag, or the
    /// only entry). Docker archives have none.
    pub fn root(&self) -> Result<Root> {
        if !self.store.exists("index.json") {
            return Err(Error::BadReference(format!(
                "{} is a docker-save archive, which has no manifests to copy; load it with `docker load` or convert it with `skopeo copy`",
                self.describe()
            )));
        }
        let (index, tag) = self.layout_index()?;
        let tag_of = |d: &Descriptor| crate::document::tag_of(d).map(str::to_owned);
        let chosen: Vec<&Descriptor> =
            index.manifests().iter().filter(|d| tag.is_none() || tag_of(d) == tag).collect();
        let d = match chosen.as_slice() {
            [one] => *one,
            [] => {
                return Err(Error::NotFound(format!(
                    "{} has no image tagged {:?}",
                    self.describe(),
                    tag.unwrap_or_default()
                )))
            }
            _ => {
                return Err(Error::BadReference(format!(
                    "{} holds {} images; name one with oci:DIR:TAG",
                    self.describe(),
                    chosen.len()
                )))
            }
        };
        let digest = Digest::try_from(d.digest())?;
        let bytes = self.document(&digest.blob_path(), Some(&digest))?;
        let declared = d.media_type().to_string();
        let media_type = if declared.is_empty() { sniff_media_type(&bytes) } else { declared };
        Ok(Root { bytes, media_type, digest })
    }

    /// A manifest, index or config by digest, verified and size-limited.
    pub fn document_by_digest(&self, digest: &Digest) -> Result<Vec<u8>> {
        self.document(&digest.blob_path(), Some(digest))
    }

    /// Stream a blob by digest as stored, held to `size` (its descriptor's) and verified as it
    /// is read.
    pub fn open_blob(&self, digest: &Digest, size: u64) -> Result<Box<dyn Read + Send>> {
        let (r, _) = self.store.open(&digest.blob_path())?;
        Ok(Box::new(VerifyingReader::new(SizedReader::new(r, size, digest.as_str()), digest)))
    }

    /// Where the image lives, when it is a registry.
    pub fn registry_store(&self) -> Option<&RegistryStore> {
        match &self.reference {
            ImageRef::Registry(_) => {
                // Only registry references build a RegistryStore.
                let any: &dyn std::any::Any = self.store.as_any();
                any.downcast_ref::<RegistryStore>()
            }
            _ => None,
        }
    }

    fn declared(&self, what: &str, bytes: &[u8]) -> Result<crate::config::Declared> {
        crate::config::declared(bytes, &format!("{what} in {}", self.describe()))
    }

    fn parse<T: serde::de::DeserializeOwned>(&self, what: &str, bytes: &[u8]) -> Result<T> {
        serde_json::from_slice(bytes).map_err(|e| Error::Invalid {
            what: format!("{what} in {}", self.describe()),
            message: e.to_string(),
        })
    }

    /// Every platform image the reference selects.
    pub fn images(&self) -> Result<Vec<PlatformImage>> {
        if self.store.exists("index.json") {
            self.oci_images()
        } else if self.store.exists("manifest.json") {
            self.docker_images()
        } else {
            Err(Error::BadReference(format!(
                "{} has neither index.json (OCI layout) nor manifest.json (docker save)",
                self.describe()
            )))
        }
    }

    /// A layout's `index.json` and the tag the reference names, if any.
    fn layout_index(&self) -> Result<(ImageIndex, Option<String>)> {
        let index: ImageIndex = self.parse("index.json", &self.document("index.json", None)?)?;
        let tag = match &self.reference {
            ImageRef::Layout { tag, .. } => tag.clone(),
            _ => None,
        };
        Ok((index, tag))
    }

    fn oci_images(&self) -> Result<Vec<PlatformImage>> {
        let (index, tag) = self.layout_index()?;
        let tag_of = |d: &Descriptor| crate::document::tag_of(d).map(str::to_owned);
        let selected: Vec<&Descriptor> = match &tag {
            Some(t) => index
                .manifests()
                .iter()
                .filter(|d| tag_of(d).as_deref() == Some(t.as_str()))
                .collect(),
            None => index.manifests().iter().collect(),
        };
        if selected.is_empty() {
            let tags: Vec<String> = index.manifests().iter().filter_map(tag_of).collect();
            return Err(Error::NotFound(format!(
                "{} has no image tagged {:?}; tags present: {}",
                self.store.describe(),
                tag.unwrap_or_default(),
                if tags.is_empty() { "none".to_owned() } else { tags.join(", ") }
            )));
        }
        let mut out = Vec::new();
        for d in selected {
            let tags: Vec<String> = tag_of(d).into_iter().collect();
            self.descend(d, tags, 0, &mut out)?;
        }
        name_attested_platforms(&mut out);
        Ok(out)
    }

    fn descend(
        &self,
        d: &Descriptor,
        tags: Vec<String>,
        depth: usize,
        out: &mut Vec<PlatformImage>,
    ) -> Result<()> {
        if depth > 4 {
            return Err(Error::Invalid {
                what: self.describe(),
                message: "indexes nested more than 4 deep".into(),
            });
        }
        let digest = Digest::try_from(d.digest())?;
        let bytes = self.document(&digest.blob_path(), Some(&digest))?;
        let media = d.media_type().to_string();
        if is_index(&media) {
            let index: ImageIndex = self.parse(&format!("index {digest}"), &bytes)?;
            for child in index.manifests() {
                self.descend(child, tags.clone(), depth + 1, out)?;
            }
            return Ok(());
        }
        let manifest: ImageManifest = self.parse(&format!("manifest {digest}"), &bytes)?;
        let config_digest = Digest::try_from(manifest.config().digest())?;
        let config_bytes = self.document(&config_digest.blob_path(), Some(&config_digest))?;
        let config = self.declared(&format!("config {config_digest}"), &config_bytes)?;
        let layers = manifest
            .layers()
            .iter()
            .map(|l| {
                let ld = Digest::try_from(l.digest())?;
                Ok(LayerRef {
                    path: ld.blob_path(),
                    media_type: Some(l.media_type().to_string()),
                    size: l.size(),
                    verify_digest: Some(ld),
                })
            })
            .collect::<Result<Vec<_>>>()?;
        out.push(PlatformImage {
            index_platform: oci_platform(d).map(Declared::new),
            config_platform: Declared::new(config.platform()),
            manifest_digest: Some(digest),
            manifest_size: bytes.len() as u64,
            config_digest: Some(config_digest),
            config_size: config_bytes.len() as u64,
            tags,
            layers,
            config_media_type: Some(manifest.config().media_type().to_string()),
            attestation: Attestation::classify(d, Some(&manifest)),
        });
        Ok(())
    }

    fn docker_images(&self) -> Result<Vec<PlatformImage>> {
        let entries = crate::docker_save::entries(&*self.store)?;
        let mut out = Vec::new();
        for e in entries {
            let config = self.declared(&e.config, &self.document(&e.config, None)?)?;
            let diff_ids = config.diff_ids().to_vec();
            let mut layers = Vec::new();
            for (i, path) in e.layers.iter().enumerate() {
                let (_, size) = self.store.open(path)?;
                // A sha256 diff ID is checked as the layer streams; one that claims sha256 and
                // is malformed is an error, not a layer read unchecked. Other algorithms, which
                // archbench does not hash, are read unchecked as before.
                let verify_digest = match diff_ids.get(i) {
                    Some(d) if d.starts_with("sha256:") => {
                        Some(Digest::parse(d).map_err(|why| Error::Invalid {
                            what: format!("config {} in {}", e.config, self.describe()),
                            message: format!("diff ID {} (layer {path}): {why}", i + 1),
                        })?)
                    }
                    _ => None,
                };
                layers.push(LayerRef { path: path.clone(), media_type: None, size, verify_digest });
            }
            out.push(PlatformImage {
                index_platform: None,
                config_platform: Declared::new(config.platform()),
                manifest_digest: None,
                manifest_size: 0,
                config_digest: None,
                config_size: 0,
                tags: e.repo_tags,
                layers,
                config_media_type: None,
                attestation: None,
            });
        }
        Ok(out)
    }

    /// One layer as stored, read whole (held to its declared size, its digest verified): a
    /// Wasm artifact's module, or a layer handed on as it is. Callers check `layer.size` against
    /// their own limit first; the read never goes past it.
    pub fn read_layer(&self, layer: &LayerRef) -> Result<Vec<u8>> {
        let mut bytes = Vec::with_capacity(layer.size.min(1 << 30) as usize);
        self.open_layer(layer)?.read_to_end(&mut bytes).map_err(|e| Error::Io {
            action: "reading the layer",
            path: layer.path.clone().into(),
            source: e,
        })?;
        Ok(bytes)
    }

    /// Stream one layer as stored (possibly compressed), held to its declared size and
    /// verifying its digest at the end.
    pub fn open_layer(&self, layer: &LayerRef) -> Result<Box<dyn Read + Send + '_>> {
        let (r, _) = self.store.open(&layer.path)?;
        let r = SizedReader::new(r, layer.size, &layer.path);
        Ok(match &layer.verify_digest {
            Some(d) => Box::new(VerifyingReader::new(r, d)),
            None => Box::new(r),
        })
    }
}
