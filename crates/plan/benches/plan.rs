//! In-process cost of a plan: every option priced, break-even volumes scanned, and each factor's
//! sensitivity found by re-deciding the plan (a few thousand evaluations in all).

use std::hint::black_box;

use archbench_plan::model::{plan, Factor, Factors, Profile};
use archbench_plan::pricing::Catalog;
use criterion::{criterion_group, criterion_main, Criterion};

fn bench_plan(c: &mut Criterion) {
    // The factors of the November 2026 example report (fixtures/results/v1-2026-11): emulation and cross measured, arm64 and Wasm build modelled.
    let f = Factors {
        emulated: Factor::measured(6.35, "build.json"),
        cross: Factor::measured(0.98, "build.json"),
        arm64_build: Factor::modelled(1.0, "modelled"),
        wasm_build: Factor::modelled(1.0, "modelled"),
        wasm_runtime: Factor::measured(1.47, "bench.json").with_interval(1.39, 1.62),
        arm64_runtime: Factor::modelled(1.0, "modelled"),
    };
    let catalog = Catalog::builtin();
    let mut g = c.benchmark_group("plan");
    for n in [400.0, 5000.0] {
        let p =
            Profile { builds_per_month: n, date: Some("2026-11-28".into()), ..Profile::default() };
        g.bench_function(format!("{n:.0}-builds"), |b| {
            b.iter(|| plan(black_box(&p), black_box(&f), &catalog).unwrap())
        });
    }
    g.bench_function("catalog-parse", |b| {
        b.iter(|| Catalog::parse(black_box(archbench_plan::pricing::BUILTIN), "builtin").unwrap())
    });
    g.finish();
    // Issue 25 (item 8): a catalog of about 10 MB (the built-in one's entries repeated under new
    // names) loads in linear time. Line numbers used to be counted from the start of the text for
    // each entry: 2, 5 and 10 MB took 4.9, 14 and 52 s.
    let mut g = c.benchmark_group("catalog");
    g.sample_size(10);
    for mb in [1usize, 10] {
        let text = big_catalog(mb << 20);
        g.bench_function(format!("parse-{mb}MB"), |b| {
            b.iter(|| Catalog::parse(black_box(&text), "big").unwrap())
        });
    }
    g.finish();
}

/// The built-in catalog's entries and CI plans, renamed `xN-…` (and the runners a plan covers
/// with them), repeated until the text is `bytes` long.
fn big_catalog(bytes: usize) -> String {
    let builtin = archbench_plan::pricing::BUILTIN;
    let mut text = String::with_capacity(bytes + builtin.len());
    let mut n = 0;
    while text.len() < bytes {
        text.push_str(
            &builtin
                .replace("[entries.", &format!("[entries.x{n}-"))
                .replace("[plans.", &format!("[plans.x{n}-"))
                .replace("covers = [\"", &format!("covers = [\"x{n}-")),
        );
        n += 1;
    }
    text
}

criterion_group!(benches, bench_plan);
criterion_main!(benches);
