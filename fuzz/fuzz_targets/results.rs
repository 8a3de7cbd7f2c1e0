//! Any bytes as a results file in a results directory: the shared reader loads it or lists it
//! as skipped with a reason, never panics, and never both.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let dir = archbench_fuzz::scratch("results");
    std::fs::write(dir.join("bench.json"), data).unwrap();
    let r = archbench_results::dir::load(&dir).expect("the directory exists");
    let used = r.benches.len() + r.builds.len();
    assert!(used + r.skipped.len() <= 1, "one file is used or skipped, not both");
});
