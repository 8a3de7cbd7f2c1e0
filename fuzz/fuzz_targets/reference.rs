//! Any string: parsing an image reference returns Ok or Err, never panics, and what parses
//! prints back as something that parses to the same reference.
#![no_main]

use archbench_oci::Reference;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|s: &str| {
    if let Ok(r) = Reference::parse(s) {
        let again = Reference::parse(&r.to_string()).expect("a printed reference parses");
        assert_eq!(again.to_string(), r.to_string());
    }
});
