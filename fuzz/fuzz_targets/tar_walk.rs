//! Any bytes as a (possibly compressed) layer stream: walking must end, within the limits.
#![no_main]

use archbench_archid::walk::{walk_tar, Limits};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let limits = Limits { max_entry_bytes: 1 << 20, max_stream_bytes: 16 << 20 };
    let _ = walk_tar(data, limits, |_| {});
});
