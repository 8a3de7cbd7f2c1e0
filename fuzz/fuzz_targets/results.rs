//! Any bytes as a results file in a results directory: the shared reader loads it or lists it
//! as skipped with a reason, never panics, and never both; what it loads keeps every number in
//! its range (finite, no negative or huge time: issue 25).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let dir = archbench_fuzz::scratch("results");
    std::fs::write(dir.join("bench.json"), data).unwrap();
    let r = archbench_results::dir::load(&dir).expect("the directory exists");
    let used = r.benches.len() + r.builds.len();
    assert!(used + r.skipped.len() <= 1, "one file is used or skipped, not both");
    use archbench_results::check::Checked;
    for (_, e) in &r.benches {
        assert_eq!(e.payload.check(), Ok(()), "a loaded bench file is in range");
    }
    for (_, e) in &r.builds {
        assert_eq!(e.payload.check(), Ok(()), "a loaded build file is in range");
    }
});
