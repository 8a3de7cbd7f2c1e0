//! Writing OCI image layouts: content-addressed blobs, manifests, configs and a tagged index.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use archbench_platform::Platform;
use oci_spec::image::Descriptor;
use serde_json::json;

use crate::document;

use crate::Digest;
use crate::{Error, Result};

pub use crate::media;

/// A blob written to the layout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    /// Its digest.
    pub digest: Digest,
    /// Bytes.
    pub size: u64,
    /// Media type.
    pub media_type: String,
}

impl Written {
    /// Its descriptor.
    pub fn descriptor(&self) -> Descriptor {
        document::descriptor(&self.media_type, &self.digest, self.size)
    }
}

/// A layer to put in an image: its bytes as stored, its media type, and its uncompressed digest.
pub struct LayerInput {
    /// The blob (a tar, or a gzip of one).
    pub blob: Vec<u8>,
    /// Its media type.
    pub media_type: String,
    /// The digest of the uncompressed tar (the config's diff ID).
    pub diff_id: Digest,
}

impl LayerInput {
    /// An uncompressed tar layer.
    pub fn tar(tar: Vec<u8>) -> Self {
        let diff_id = Digest::of(&tar);
        Self { blob: tar, media_type: media::LAYER_TAR.to_owned(), diff_id }
    }
}

/// `root/index.json` as it is, every field kept (annotations, `subject`, fields archbench does
/// not know); a new empty index when there is none yet. An index that exists but cannot be read
/// is an error: replacing it would lose every tag it holds (skopeo refuses likewise).
///
/// The index is read by `archbench_input`'s rules: a regular file of at most 16 MiB, never
/// through a symbolic link (a link to `/dev/zero` filled memory, a FIFO hung, a link to
/// `/etc/shadow` was parsed).
fn read_index(root: &Path) -> Result<serde_json::Value> {
    let path = root.join("index.json");
    let bytes = match archbench_input::read(
        &path,
        archbench_input::Kind::LayoutIndex,
        archbench_input::Named::Inside,
    ) {
        Ok(b) => b,
        Err(archbench_input::Error::Io { source, .. })
            if source.kind() == std::io::ErrorKind::NotFound =>
        {
            let empty = document::index(Vec::new(), &Default::default());
            return Ok(serde_json::to_value(empty).expect("an index serialises"));
        }
        Err(e) => return Err(e.into()),
    };
    let refuse = |why: String| Error::Invalid {
        what: path.display().to_string(),
        message: format!(
            "{why}; refusing to replace it, which would lose its tags: move it aside or repair it"
        ),
    };
    let v: serde_json::Value =
        serde_json::from_slice(&bytes).map_err(|e| refuse(format!("not JSON ({e})")))?;
    if !v.get("manifests").is_some_and(serde_json::Value::is_array) {
        return Err(refuse("not an OCI index (no \"manifests\" list)".into()));
    }
    // Checked as an index, but kept as the JSON it is, so writing it back loses nothing.
    serde_json::from_value::<oci_spec::image::ImageIndex>(v.clone())
        .map_err(|e| refuse(format!("not an OCI index ({e})")))?;
    Ok(v)
}

/// The tag (`org.opencontainers.image.ref.name`) of an entry of `index.json`.
fn tag_of_entry(e: &serde_json::Value) -> Option<&str> {
    e.get("annotations")?.get(document::REF_NAME)?.as_str()
}

/// Builds an OCI layout directory. Blobs are written as they are added (content-addressed, so
/// rewriting is harmless); `index.json` is written atomically last, so a reader never sees an
/// index naming a blob that is not there yet.
pub struct LayoutWriter {
    root: PathBuf,
    /// `index.json` as last read or written, whole.
    index: serde_json::Value,
}

impl LayoutWriter {
    /// Create (or reuse) a layout at `root`. Existing index entries with other tags are kept.
    pub fn create(root: impl Into<PathBuf>) -> Result<Self> {
        let root = root.into();
        let io = |action, path: &Path, source| Error::Io { action, path: path.to_owned(), source };
        std::fs::create_dir_all(root.join("blobs/sha256")).map_err(|e| io("creating", &root, e))?;
        let layout = root.join("oci-layout");
        if !layout.exists() {
            std::fs::write(&layout, br#"{"imageLayoutVersion":"1.0.0"}"#)
                .map_err(|e| io("writing", &layout, e))?;
        }
        let index = read_index(&root)?;
        Ok(Self { root, index })
    }

    /// Write a blob; returns its descriptor fields.
    pub fn blob(&mut self, bytes: &[u8], media_type: &str) -> Result<Written> {
        let digest = Digest::of(bytes);
        let path = self.root.join(digest.blob_path());
        if !path.exists() {
            archbench_results::write_bytes_atomic(&path, bytes).map_err(|e| Error::Io {
                action: "writing blob",
                path: path.clone(),
                source: std::io::Error::other(e.to_string()),
            })?;
        }
        Ok(Written { digest, size: bytes.len() as u64, media_type: media_type.to_owned() })
    }

    /// Write one single-platform image: layers, a config whose os/architecture/variant are
    /// `config_platform`, and its manifest. Returns the manifest blob.
    pub fn image(
        &mut self,
        config_platform: &Platform,
        layers: &[LayerInput],
        entrypoint: &[&str],
    ) -> Result<Written> {
        self.image_with_config(config_platform, layers, crate::config::entrypoint(entrypoint))
    }

    /// [`Self::image`] with the container config (`Env`, `Cmd`, `Entrypoint`, `Labels`, …) given.
    pub fn image_with_config(
        &mut self,
        config_platform: &Platform,
        layers: &[LayerInput],
        container_config: oci_spec::image::Config,
    ) -> Result<Written> {
        let written: Vec<Written> =
            layers.iter().map(|l| self.blob(&l.blob, &l.media_type)).collect::<Result<_>>()?;
        let diff_ids = layers.iter().map(|l| l.diff_id.clone()).collect();
        let config = crate::config::new(config_platform, diff_ids, container_config);
        let config = self.blob(&crate::config::to_bytes(&config), media::CONFIG)?;
        self.manifest(&config, &written)
    }

    /// Write a manifest for a config and layers already in the layout.
    pub fn manifest(&mut self, config: &Written, layers: &[Written]) -> Result<Written> {
        let manifest = document::manifest(
            config.descriptor(),
            layers.iter().map(Written::descriptor).collect(),
        );
        self.blob(&document::to_bytes(&manifest), media::MANIFEST)
    }

    /// Write a Wasm OCI artifact (the Bytecode Alliance's layout, as `oci-wasm` writes it):
    /// `module` as a bare [`media::WASM_LAYER`], a [`media::WASM_CONFIG`] config, a manifest,
    /// and an index with one entry declaring `os` (`wasip1` for a module, `wasip2` for a
    /// component) and architecture `wasm`. Returns the index, to tag.
    pub fn wasm_artifact(&mut self, module: &[u8], os: &str) -> Result<Written> {
        let layer = self.blob(module, media::WASM_LAYER)?;
        // Not an image config (no rootfs; oci-spec has no type for it): written as the
        // oci-wasm crate writes one.
        let config = json!({
            "created": "1970-01-01T00:00:00Z",
            "architecture": "wasm",
            "os": os,
            "layerDigests": [layer.digest],
        });
        let config = self.blob(&serde_json::to_vec(&config).expect("json"), media::WASM_CONFIG)?;
        let manifest = self.manifest(&config, &[layer])?;
        let index = json!({
            "schemaVersion": 2,
            "mediaType": media::INDEX,
            "manifests": [{
                "mediaType": media::MANIFEST,
                "digest": manifest.digest,
                "size": manifest.size,
                "platform": {"architecture": "wasm", "os": os},
            }],
        });
        self.blob(&serde_json::to_vec(&index).expect("json"), media::INDEX)
    }

    /// Write an index of `manifests`, each with the platform it declares.
    pub fn index(
        &mut self,
        manifests: &[(Written, Platform)],
        annotations: &HashMap<String, String>,
    ) -> Result<Written> {
        let list: Vec<Descriptor> =
            manifests.iter().map(|(m, p)| document::with_platform(m.descriptor(), p)).collect();
        let annotations: std::collections::BTreeMap<String, String> =
            annotations.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        self.blob(&document::to_bytes(&document::index(list, &annotations)), media::INDEX)
    }

    /// Write an index of these entries as they are (platforms and annotations included).
    pub fn index_of(&mut self, entries: Vec<Descriptor>) -> Result<Written> {
        self.blob(&document::to_bytes(&document::index(entries, &Default::default())), media::INDEX)
    }

    /// Write an attestation manifest for the image manifest `of`, as buildx pushes one by
    /// default: one [`media::IN_TOTO`] layer per `(predicate type, statement)`, annotated with
    /// its predicate type, and a config of platform `unknown/unknown`. Returns its index entry
    /// (platform `unknown/unknown`, annotated as an attestation of `of`), for
    /// [`Self::index_of`].
    pub fn attestation(
        &mut self,
        of: &Written,
        statements: &[(&str, &[u8])],
    ) -> Result<Descriptor> {
        use crate::attestation::{
            ATTESTATION_MANIFEST, PREDICATE_TYPE, REFERENCE_DIGEST, REFERENCE_TYPE,
        };
        let mut layers = Vec::new();
        let mut diff_ids = Vec::new();
        for (predicate, statement) in statements {
            let w = self.blob(statement, media::IN_TOTO)?;
            diff_ids.push(w.digest.clone());
            let mut d = w.descriptor();
            d.set_annotations(Some(HashMap::from([(
                PREDICATE_TYPE.to_owned(),
                (*predicate).to_owned(),
            )])));
            layers.push(d);
        }
        let config = crate::config::unknown_platform(diff_ids);
        let config = self.blob(&crate::config::to_bytes(&config), media::CONFIG)?;
        let manifest = document::manifest(config.descriptor(), layers);
        let written = self.blob(&document::to_bytes(&manifest), media::MANIFEST)?;
        let mut entry = written.descriptor();
        entry.set_platform(Some(
            serde_json::from_value(json!({"architecture": "unknown", "os": "unknown"}))
                .expect("os and architecture are strings"),
        ));
        entry.set_annotations(Some(HashMap::from([
            (REFERENCE_TYPE.to_owned(), ATTESTATION_MANIFEST.to_owned()),
            (REFERENCE_DIGEST.to_owned(), of.digest.to_string()),
        ])));
        Ok(entry)
    }

    /// Name `target` (an index or manifest) with `tag` in `index.json`, replacing any entry with
    /// that tag, and write `index.json` atomically.
    pub fn tag(&mut self, target: &Written, tag: &str) -> Result<()> {
        let d = serde_json::to_value(document::tagged(target.descriptor(), tag))
            .expect("a descriptor serialises");
        self.update_index(|entries| {
            entries.retain(|e| tag_of_entry(e) != Some(tag));
            entries.push(d);
        })
    }

    /// Remove the entry named `tag` from `index.json` (its blobs stay).
    pub fn untag(&mut self, tag: &str) -> Result<()> {
        self.update_index(|entries| entries.retain(|e| tag_of_entry(e) != Some(tag)))
    }

    /// Change `index.json` as one step among concurrent writers: under an exclusive lock on the
    /// layout's `oci-layout` file, re-read the index (another process may have tagged since),
    /// apply `change` to its `manifests` and write it atomically. Without this, two copies into
    /// one layout each wrote the index they had read at the start, and one's tags were lost.
    /// Only `manifests` is archbench's to change: every other field of the index, and every
    /// field of the entries it keeps, is written back as read.
    fn update_index(&mut self, change: impl FnOnce(&mut Vec<serde_json::Value>)) -> Result<()> {
        let lock_path = self.root.join("oci-layout");
        let io = |action, source| Error::Io { action, path: lock_path.clone(), source };
        let lock = std::fs::File::open(&lock_path).map_err(|e| io("opening", e))?;
        lock.lock().map_err(|e| io("locking", e))?;
        let mut index = read_index(&self.root)?;
        if let Some(serde_json::Value::Array(entries)) = index.get_mut("manifests") {
            change(entries);
        }
        self.index = index;
        self.write_index()
        // The lock is released when `lock` is dropped, after the rename.
    }

    fn write_index(&mut self) -> Result<()> {
        let path = self.root.join("index.json");
        let bytes = serde_json::to_vec(&self.index).expect("a JSON value serialises");
        archbench_results::write_bytes_atomic(&path, &bytes).map_err(|e| Error::Io {
            action: "writing",
            path,
            source: std::io::Error::other(e.to_string()),
        })
    }
}
