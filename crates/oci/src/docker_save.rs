//! The `docker save` archive, read and written in one place: a tar holding each image's config
//! (`<hex>.json`), its layers (`<n>/layer.tar`, plain or compressed) and a `manifest.json`
//! listing, per image, the config, the tags and the layers in order. [`crate::image`] reads
//! archives through it (`docker-archive:FILE`), the builder's export reads what the engine
//! saved, and the engine and `run` write archives to load.

use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use crate::store::Store;
use crate::{Error, Result};

/// The name of the archive's index of images.
pub const MANIFEST: &str = "manifest.json";

/// One image of an archive, as `manifest.json` lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// The config's path in the archive.
    #[serde(rename = "Config")]
    pub config: String,
    /// The tags that name it.
    #[serde(rename = "RepoTags", default, deserialize_with = "null_as_empty")]
    pub repo_tags: Vec<String>,
    /// Its layers' paths, first to last.
    #[serde(rename = "Layers")]
    pub layers: Vec<String>,
}

/// `"RepoTags": null` is what `docker save` writes for an untagged image.
fn null_as_empty<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> std::result::Result<Vec<String>, D::Error> {
    Ok(Option::<Vec<String>>::deserialize(d)?.unwrap_or_default())
}

/// The images `store` (an archive) lists; `describe` names it in errors.
pub fn entries(store: &dyn Store) -> Result<Vec<Entry>> {
    let bytes = read(store, MANIFEST)?;
    serde_json::from_slice(&bytes).map_err(|e| Error::Invalid {
        what: format!("{MANIFEST} in {}", store.describe()),
        message: e.to_string(),
    })
}

/// A file of the archive, read whole, held to the size of a document
/// ([`crate::limits::MAX_DOCUMENT_BYTES`]): configs and `manifest.json`, never layers.
pub fn read(store: &dyn Store, path: &str) -> Result<Vec<u8>> {
    crate::store::read_document(store, path)
}

/// The one image of an archive the engine saved for one reference, and its config's bytes.
pub fn only_image(store: &dyn Store) -> Result<(Entry, Vec<u8>)> {
    let entry = entries(store)?.into_iter().next().ok_or_else(|| Error::Invalid {
        what: format!("{MANIFEST} in {}", store.describe()),
        message: "it lists no image".into(),
    })?;
    let config = read(store, &entry.config)?;
    Ok((entry, config))
}

/// An archive of one image tagged `tag`: its config's own bytes (so the image ID is their
/// digest) and its layers in order (tar, or compressed: the engine decompresses on load and
/// checks each against the config's diff IDs). Layers are taken one at a time, so only one is
/// held beside the archive; the first that fails to come stops it with that error.
pub fn write<E>(
    tag: &str,
    config: &[u8],
    layers: impl IntoIterator<Item = std::result::Result<Vec<u8>, E>>,
) -> std::result::Result<Vec<u8>, E> {
    let mut out = tar::Builder::new(Vec::new());
    let mut add = |name: &str, data: &[u8]| {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_mtime(0);
        out.append_data(&mut h, name, data).expect("in-memory tar");
    };
    let config_name = format!("{}.json", hex::encode(Sha256::digest(config)));
    add(&config_name, config);
    let mut names = Vec::new();
    for (i, layer) in layers.into_iter().enumerate() {
        let name = format!("{i}/layer.tar");
        add(&name, &layer?);
        names.push(name);
    }
    let manifest =
        vec![Entry { config: config_name, repo_tags: vec![tag.to_owned()], layers: names }];
    add(MANIFEST, &serde_json::to_vec(&manifest).expect("a manifest serialises"));
    Ok(out.into_inner().expect("in-memory tar"))
}

/// An archive of one image of `platform` tagged `tag`: a single layer with `files` (path,
/// mode, contents) and a config with `entrypoint`.
///
/// Written here rather than through `docker import`, whose `--platform` Engine 20.10 ignores
/// when writing the config: the label must be the true architecture (or, in verify tests, a
/// deliberately false one).
pub fn of_files(
    tag: &str,
    platform: &archbench_platform::Platform,
    files: &[(&str, u32, &[u8])],
    entrypoint: &[&str],
) -> Vec<u8> {
    let mut layer = tar::Builder::new(Vec::new());
    for (path, mode, data) in files {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(*mode);
        h.set_mtime(0);
        h.set_entry_type(tar::EntryType::Regular);
        layer.append_data(&mut h, path, *data).expect("in-memory tar");
    }
    let layer = layer.into_inner().expect("in-memory tar");
    let diff_id = crate::Digest::of(&layer);
    let config = crate::config::new(platform, vec![diff_id], crate::config::entrypoint(entrypoint));
    write(tag, &crate::config::to_bytes(&config), [Ok::<_, std::convert::Infallible>(layer)])
        .unwrap_or_else(|e| match e {})
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::TarStore;

    #[test]
    fn an_archive_written_reads_back_and_a_null_tag_list_is_none() {
        let tar = write::<std::convert::Infallible>("t:1", b"{}", [Ok(vec![1, 2, 3])]).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.tar");
        std::fs::write(&path, tar).unwrap();
        let store = TarStore::open(&path).unwrap();
        let (entry, config) = only_image(&store).unwrap();
        assert_eq!(config, b"{}");
        assert_eq!(entry.repo_tags, ["t:1"]);
        assert_eq!(entry.layers, ["0/layer.tar"]);
        let e: Vec<Entry> =
            serde_json::from_str(r#"[{"Config":"c.json","RepoTags":null,"Layers":[]}]"#).unwrap();
        assert!(e[0].repo_tags.is_empty());
    }
}
