//! Any bytes as an OCI layout's `index.json`, or as the manifest it points to: reading the
//! layout's images returns Ok or Err, never panics, and never reads past a limit.
#![no_main]

use archbench_oci::{ImageRef, ImageSource};
use libfuzzer_sys::fuzz_target;

const MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";

fuzz_target!(|data: &[u8]| {
    let Some((&mode, doc)) = data.split_first() else { return };
    let dir = archbench_fuzz::scratch("layout");
    let blobs = dir.join("blobs/sha256");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&blobs).unwrap();
    std::fs::write(dir.join("oci-layout"), br#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
    if mode % 2 == 0 {
        // The index itself.
        std::fs::write(dir.join("index.json"), doc).unwrap();
    } else {
        // A well-formed index naming one manifest whose bytes are the input.
        let digest = archbench_oci::Digest::of(doc);
        std::fs::write(blobs.join(digest.hex()), doc).unwrap();
        let index = serde_json::json!({
            "schemaVersion": 2,
            "manifests": [{ "mediaType": MANIFEST, "digest": digest, "size": doc.len(),
                            "annotations": { "org.opencontainers.image.ref.name": "t" } }],
        });
        std::fs::write(dir.join("index.json"), index.to_string()).unwrap();
    }
    let Ok(src) = ImageSource::open(&ImageRef::Layout { dir, tag: None }) else { return };
    let _ = src.root();
    let _ = src.images();
});
