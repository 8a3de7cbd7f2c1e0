//! Any bytes: identify must return Ok or Err, never panic (the catch_unwind guard inside
//! `identify` is disabled here by checking for ParserPanic, so a parser panic is a finding).
#![no_main]

use archbench_archid::{identify_opt, Error};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Err(Error::ParserPanic { format, message }) = identify_opt(data) {
        panic!("{format} parser panicked: {message}");
    }
});
