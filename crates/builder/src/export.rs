//! Built images out of the engine: `docker save`, then into an OCI layout as a manifest whose
//! config is the engine's own bytes (so the image ID is the config digest) and whose layers are
//! stored compressed, their diff IDs unchanged: a plain tar layer is gzipped, and a layer the
//! engine already gives compressed (Docker Engine 26 with the containerd image store saves
//! gzip or zstd layers as it stores them) is kept as it is, never compressed twice.

use std::io::Read;
use std::path::Path;

use archbench_oci::docker_save;
use archbench_oci::layout::{media, LayerInput, LayoutWriter, Written};
use archbench_oci::store::{Store, TarStore};
use archbench_oci::Compression;
use archbench_platform::Platform;
use sha2::{Digest, Sha256};

use crate::base::gzip_layer;
use crate::{Error, Result};

/// A layer as `docker save` gave it, ready for the layout. Its compression is read from its
/// magic bytes: a plain tar is gzipped; a gzip or zstd layer is stored as it is, with the media
/// type of its compression, and its diff ID is the digest of the decompressed stream.
pub fn saved_layer(saved: Vec<u8>, name: &str) -> Result<LayerInput> {
    let compression = Compression::peek(&saved);
    if compression == Compression::None {
        return gzip_layer(saved);
    }
    let diff_id = diff_id_of(&saved).map_err(|e| Error::Io {
        action: "decompressing the saved layer",
        path: name.into(),
        source: e,
    })?;
    Ok(LayerInput { diff_id, media_type: compression.layer_media_type().to_owned(), blob: saved })
}

/// The sha256 of `blob` decompressed: a compressed layer's diff ID.
fn diff_id_of(blob: &[u8]) -> std::io::Result<archbench_oci::Digest> {
    let (mut tar, _) = archbench_oci::compression::decompress(blob)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 256 * 1024];
    loop {
        match tar.read(&mut buf)? {
            0 => break,
            n => hasher.update(&buf[..n]),
        }
    }
    Ok(archbench_oci::Digest::finish(hasher))
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
    engine: &dyn crate::world::BuildEngine,
    image: &str,
    platform: &Platform,
    layout: &Path,
) -> Result<Exported> {
    // A named file: the archive is then read through archbench-oci's one docker-save reader,
    // one layer at a time, never the whole image in memory.
    let mut tmp = tempfile::NamedTempFile::new().map_err(|e| Error::Io {
        action: "creating a temp file for",
        path: image.into(),
        source: e,
    })?;
    engine.save(image, tmp.as_file_mut())?;
    let store = TarStore::open(tmp.path())?;
    let bad = |m: String| {
        Error::Oci(archbench_oci::Error::Invalid {
            what: format!("docker save of {image}"),
            message: m,
        })
    };
    let (entry, mut config) = docker_save::only_image(&store)?;
    let declared = archbench_oci::config::declared(&config, &format!("the config of {image}"))?;
    let claimed = declared.platform();
    let mut relabelled_from = None;
    if !archbench_platform::Declared::new(claimed.as_str()).is(platform) {
        config =
            archbench_oci::config::relabel(&config, platform, &format!("the config of {image}"))?;
        relabelled_from = Some(claimed);
    }
    let mut w = LayoutWriter::create(layout)?;
    let config_w = w.blob(&config, media::CONFIG)?;
    let mut layers = Vec::new();
    let mut size = config_w.size;
    let diff_ids = declared.diff_ids();
    for (i, l) in entry.layers.iter().enumerate() {
        let (mut r, len) = store.open(l)?;
        let mut saved = Vec::with_capacity(len.min(1 << 30) as usize);
        r.read_to_end(&mut saved).map_err(|e| Error::Io {
            action: "reading the docker save of",
            path: image.into(),
            source: e,
        })?;
        let layer = saved_layer(saved, l)?;
        if let Some(want) = diff_ids.get(i).filter(|d| layer.diff_id != d.as_str()) {
            return Err(bad(format!(
                "layer {} ({l}) is {} once uncompressed, but the config's diff ID is {want}",
                i + 1,
                layer.diff_id
            )));
        }
        let written = w.blob(&layer.blob, &layer.media_type)?;
        size += written.size;
        layers.push(written);
    }
    let m = w.manifest(&config_w, &layers)?;
    size += m.size;
    Ok(Exported { manifest: m, size, relabelled_from })
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use archbench_engine::{BuildEvent, BuildRequest, EngineInfo};
    use archbench_oci::{ImageRef, ImageSource};

    use super::*;

    /// An engine whose `docker save` gives these bytes.
    struct Saves(Vec<u8>);

    impl crate::world::BuildEngine for Saves {
        fn info(&self) -> archbench_engine::Result<EngineInfo> {
            panic!("export calls only save")
        }
        fn build(
            &self,
            _: &BuildRequest,
            _: &mut dyn FnMut(BuildEvent),
        ) -> archbench_engine::Result<String> {
            panic!("export calls only save")
        }
        fn save(&self, _: &str, out: &mut dyn Write) -> archbench_engine::Result<u64> {
            out.write_all(&self.0).unwrap();
            Ok(self.0.len() as u64)
        }
    }

    fn tar_with(path: &str) -> Vec<u8> {
        let mut b = tar::Builder::new(Vec::new());
        let mut h = tar::Header::new_gnu();
        h.set_size(5);
        h.set_mode(0o644);
        b.append_data(&mut h, path, &b"hello"[..]).unwrap();
        b.into_inner().unwrap()
    }

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(bytes).unwrap();
        gz.finish().unwrap()
    }

    /// A `docker save` of an arm64 image with these layers as saved, its config listing
    /// `diff_ids`.
    fn saved(layers: &[Vec<u8>], diff_ids: &[String]) -> Vec<u8> {
        let mut config = serde_json::json!({
            "config": {},
            "rootfs": { "type": "layers", "diff_ids": diff_ids },
        });
        Platform::linux_arm64().write_oci_fields(config.as_object_mut().unwrap());
        let config = serde_json::to_vec(&config).unwrap();
        let layers = layers.iter().cloned().map(Ok::<_, std::convert::Infallible>);
        archbench_oci::docker_save::write("t:1", &config, layers).unwrap()
    }

    /// Engine 26 with the containerd store saves layers compressed: they are kept as given
    /// (gzip and zstd, with their media types), never compressed twice, and a plain tar is
    /// gzipped; every diff ID is the tar's.
    #[test]
    fn compressed_layers_are_kept_as_saved_and_plain_ones_gzipped() {
        let tars = [tar_with("plain"), tar_with("gzipped"), tar_with("zstd")];
        let saved_layers =
            vec![tars[0].clone(), gzip(&tars[1]), zstd::encode_all(&tars[2][..], 3).unwrap()];
        let diff_ids: Vec<String> =
            tars.iter().map(|t| archbench_oci::Digest::of(t).to_string()).collect();
        let dir = tempfile::tempdir().unwrap();
        let engine = Saves(saved(&saved_layers, &diff_ids));
        let out = export(&engine, "t:1", &Platform::linux_arm64(), dir.path()).unwrap();
        assert_eq!(out.relabelled_from, None);
        let mut w = LayoutWriter::create(dir.path()).unwrap();
        w.tag(&out.manifest, "t").unwrap();

        let src = ImageSource::open(&ImageRef::Layout {
            dir: dir.path().to_owned(),
            tag: Some("t".into()),
        })
        .unwrap();
        let image = src.images().unwrap().remove(0);
        let types: Vec<&str> =
            image.layers.iter().map(|l| l.media_type.as_deref().unwrap()).collect();
        assert_eq!(types, [media::LAYER_TAR_GZIP, media::LAYER_TAR_GZIP, media::LAYER_TAR_ZSTD]);
        // The compressed layers are the engine's own bytes.
        for i in [1, 2] {
            assert_eq!(
                image.layers[i].verify_digest,
                Some(archbench_oci::Digest::of(&saved_layers[i]))
            );
        }
        // One decompression gives each tar back, so a reader finds its file.
        for (layer, want) in image.layers.iter().zip(["plain", "gzipped", "zstd"]) {
            let (plain, _) =
                archbench_oci::compression::decompress(src.open_layer(layer).unwrap()).unwrap();
            let mut archive = tar::Archive::new(plain);
            let names: Vec<String> = archive
                .entries()
                .unwrap()
                .map(|e| e.unwrap().path().unwrap().display().to_string())
                .collect();
            assert_eq!(names, [want]);
        }
        let config: serde_json::Value = serde_json::from_slice(
            &src.document_by_digest(image.config_digest.as_ref().unwrap()).unwrap(),
        )
        .unwrap();
        assert_eq!(config["rootfs"]["diff_ids"], serde_json::json!(diff_ids));
    }

    #[test]
    fn a_layer_that_is_not_the_config_says_is_refused() {
        let tar = tar_with("app");
        let other = archbench_oci::Digest::of(b"something else").to_string();
        let dir = tempfile::tempdir().unwrap();
        let engine = Saves(saved(&[gzip(&tar)], std::slice::from_ref(&other)));
        let err = export(&engine, "t:1", &Platform::linux_arm64(), dir.path()).unwrap_err();
        let text = format!("{err:#}");
        assert!(text.contains("once uncompressed") && text.contains(&other), "{text}");
    }
}
