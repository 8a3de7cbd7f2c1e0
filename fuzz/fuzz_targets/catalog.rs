//! Any text as a pricing catalog: refused with a message or accepted, never a panic; an
//! accepted catalog prices every entry on any day (pending changes assumed or not), and its CI
//! plans cover runners it has.
#![no_main]

use archbench_plan::pricing::Catalog;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|s: &str| {
    if let Ok(c) = Catalog::parse(s, "fuzz.toml") {
        let day = "2026-06-01".parse().unwrap();
        for (id, e) in &c.entries {
            let q = c.price_on(id, e.kind, day).expect("an accepted entry has a price");
            assert!(q.price.is_finite() && q.price >= 0.0);
            // A pending change, when assumed, is a price too.
            let p = c.price_assuming(id, e.kind, day, true).expect("and an assumed one");
            assert!(p.price.is_finite() && p.price >= 0.0);
        }
        // Every CI plan names its minutes and runners that exist.
        for id in c.plans.keys() {
            let inc = c.included(Some(id), None).expect("an accepted plan is usable");
            assert!(inc.minutes.is_finite() && inc.minutes >= 0.0);
            for r in inc.covers.iter().flatten() {
                assert!(c.entries.contains_key(r), "{id} covers {r}");
            }
        }
        let _ = c.stale(day, 12);
    }
});
