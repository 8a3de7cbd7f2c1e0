//! Any bytes as the `manifest.json` of a `docker save` archive: reading its images returns Ok
//! or Err, never panics.
#![no_main]

use archbench_oci::{ImageRef, ImageSource};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let dir = archbench_fuzz::scratch("archive");
    let file = dir.join("image.tar");
    let mut b = tar::Builder::new(Vec::new());
    let mut h = tar::Header::new_gnu();
    h.set_size(data.len() as u64);
    h.set_mode(0o644);
    h.set_cksum();
    b.append_data(&mut h, "manifest.json", data).unwrap();
    let config = br#"{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}"#;
    let mut h = tar::Header::new_gnu();
    h.set_size(config.len() as u64);
    h.set_mode(0o644);
    h.set_cksum();
    b.append_data(&mut h, "config.json", &config[..]).unwrap();
    std::fs::write(&file, b.into_inner().unwrap()).unwrap();
    let Ok(src) = ImageSource::open(&ImageRef::Archive { file }) else { return };
    let _ = src.images();
});
