//! Built images out of the engine: `docker save`, then into an OCI layout as a manifest whose
//! config is the engine's own bytes (so the image ID is the config digest) and whose layers are
//! gzip-compressed (their diff IDs unchanged).

use std::collections::HashMap;
use std::io::Read;
use std::path::Path;

use archbench_oci::layout::{media, LayoutWriter, Written};
use archbench_platform::Platform;
use serde::Deserialize;

use crate::base::gzip_layer;
use crate::{Error, Result};

#[derive(Deserialize)]
struct SaveEntry {
    #[serde(rename = "Config")]
    config: String,
    #[serde(rename = "Layers")]
    layers: Vec<String>,
}

/// What [`export`] wrote.
#[derive(Debug, Clone)]
pub struct Exported {
    /// The manifest.
    pub manifest: Written,
    /// Manifest + config + compressed layers, in bytes.
    pub size: u64,
    /// The platform the engine's config claimed, when archbench had to correct it.
    pub relabelled_from: Option<String>,
}

/// Save `image` from `engine` and write it to `layout` as an image of `platform`.
///
/// The classic builder, run without a build-level platform (which it needs to allow `COPY` in
/// stages of another platform), labels every image with the engine's own architecture although
/// the final stage's base is the target's. The config is then corrected to `platform` and the
/// original label reported; `verify` checks the binaries agree.
pub fn export(
    engine: &dyn crate::run::BuildEngine,
    image: &str,
    platform: &Platform,
    layout: &Path,
) -> Result<Exported> {
    let mut tmp = tempfile::tempfile().map_err(|e| Error::Io {
        action: "creating a temp file for",
        path: image.into(),
        source: e,
    })?;
    engine.save(image, &mut tmp)?;
    use std::io::Seek;
    tmp.rewind().map_err(|e| Error::Io {
        action: "rewinding the saved",
        path: image.into(),
        source: e,
    })?;
    let mut files: HashMap<String, Vec<u8>> = HashMap::new();
    let mut archive = tar::Archive::new(tmp);
    let io = |e| Error::Io { action: "reading the docker save of", path: image.into(), source: e };
    for entry in archive.entries().map_err(io)? {
        let mut entry = entry.map_err(io)?;
        if !entry.header().entry_type().is_file() {
            continue;
        }
        let name = entry.path().map_err(io)?.to_string_lossy().trim_start_matches("./").to_owned();
        let mut bytes = Vec::with_capacity(entry.size() as usize);
        entry.read_to_end(&mut bytes).map_err(io)?;
        files.insert(name, bytes);
    }
    let bad = |m: String| {
        Error::Oci(archbench_oci::Error::Invalid {
            what: format!("docker save of {image}"),
            message: m,
        })
    };
    let manifest: Vec<SaveEntry> = serde_json::from_slice(
        files.get("manifest.json").ok_or_else(|| bad("no manifest.json".into()))?,
    )
    .map_err(|e| bad(e.to_string()))?;
    let entry = manifest.first().ok_or_else(|| bad("empty manifest.json".into()))?;
    let mut config =
        files.get(&entry.config).ok_or_else(|| bad(format!("no {}", entry.config)))?.clone();
    let claimed = archbench_oci::image::config_platform(&config)?;
    let mut relabelled_from = None;
    if claimed.parse::<Platform>().ok().as_ref() != Some(platform) {
        let mut v: serde_json::Value =
            serde_json::from_slice(&config).map_err(|e| bad(e.to_string()))?;
        if let Some(o) = v.as_object_mut() {
            platform.write_oci_fields(o);
        }
        config = serde_json::to_vec(&v).expect("json");
        relabelled_from = Some(claimed);
    }
    let mut w = LayoutWriter::create(layout)?;
    let config_w = w.blob(&config, media::CONFIG)?;
    let mut layers = Vec::new();
    let mut size = config_w.size;
    for l in &entry.layers {
        let tar = files.remove(l).ok_or_else(|| bad(format!("no layer {l}")))?;
        let layer = gzip_layer(tar)?;
        let written = w.blob(&layer.blob, &layer.media_type)?;
        size += written.size;
        layers.push(written);
    }
    let m = w.manifest(&config_w, &layers)?;
    size += m.size;
    Ok(Exported { manifest: m, size, relabelled_from })
}
