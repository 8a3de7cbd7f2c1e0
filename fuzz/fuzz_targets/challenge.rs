//! Any `WWW-Authenticate` value: the challenge parser never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|s: &str| {
    let _ = archbench_oci::registry::auth::parse_challenge(s);
});
