//! In-process cost of the statistics (per cell) and of one Wasm workload run through wasmtime.

use std::hint::black_box;
use std::path::Path;
use std::time::Duration;

use archbench_bench::stats::{ratio_ci, summarize};
use archbench_exec::wasm::{WasmModule, WasmTier};
use criterion::{criterion_group, criterion_main, Criterion};

fn samples(n: usize, scale: f64) -> Vec<f64> {
    (0..n).map(|i| scale * (1.0 + ((i * 7919) % 97) as f64 / 1000.0)).collect()
}

fn bench_stats(c: &mut Criterion) {
    let a = samples(50, 0.1);
    let b = samples(50, 0.8);
    c.bench_function("stats/summary-50", |x| x.iter(|| summarize(black_box(&a)).unwrap()));
    c.bench_function("stats/ratio-ci-50x50", |x| {
        x.iter(|| ratio_ci(black_box(&b), black_box(&a)).unwrap())
    });
}

fn bench_wasm(c: &mut Criterion) {
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/workloads");
    let artifact = archbench_bench::artifacts::build(&source, &"wasi/wasm".parse().unwrap())
        .expect("building workloads.wasm (scripts/setup adds wasm32-wasip1)");
    let bytes = std::fs::read(artifact).unwrap();
    let mut g = c.benchmark_group("wasm");
    g.sample_size(10);
    for tier in [WasmTier::Cranelift, WasmTier::Winch] {
        let m = WasmModule::compile(tier, &bytes).unwrap();
        let args: Vec<String> = ["workloads", "sha256", "512"].map(String::from).to_vec();
        g.bench_function(format!("sha256-512/{}", tier.name()), |x| {
            x.iter(|| m.run(black_box(&args), Duration::from_secs(30)).unwrap())
        });
    }
    g.bench_function("compile/cranelift", |x| {
        x.iter(|| WasmModule::compile(WasmTier::Cranelift, black_box(&bytes)).unwrap())
    });
    g.finish();
}

criterion_group!(benches, bench_stats, bench_wasm);
criterion_main!(benches);
