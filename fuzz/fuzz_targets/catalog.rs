//! Any text as a pricing catalog: refused with a message or accepted, never a panic; an
//! accepted catalog prices every entry on any day.
#![no_main]

use archbench_plan::pricing::Catalog;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|s: &str| {
    if let Ok(c) = Catalog::parse(s, "fuzz.toml") {
        let day = "2026-06-01".parse().unwrap();
        for (id, e) in &c.entries {
            let q = c.price_on(id, e.kind, day).expect("an accepted entry has a price");
            assert!(q.price.is_finite() && q.price >= 0.0);
        }
        let _ = c.stale(day, 12);
    }
});
