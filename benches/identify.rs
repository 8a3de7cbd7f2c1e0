//! In-process cost of identification: magic peek, full ELF parse (small static probe and a
//! real dynamically linked executable), a universal-style walk over a gzip tar layer.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};

fn real_elf() -> Vec<u8> {
    std::fs::read("/bin/ls")
        .unwrap_or_else(|_| std::fs::read(std::env::current_exe().unwrap()).unwrap())
}

fn bench_identify(c: &mut Criterion) {
    let probe = archbench_exec::tiny::probe_elf(&"linux/arm64".parse().unwrap()).unwrap();
    let ls = real_elf();
    let text = vec![b'x'; 4096];
    let mut g = c.benchmark_group("identify");
    g.bench_function("peek/elf", |b| b.iter(|| archbench_archid::peek(black_box(&ls))));
    g.bench_function("peek/text", |b| b.iter(|| archbench_archid::peek(black_box(&text))));
    for (name, bytes) in [("probe-arm64", &probe), ("bin-ls", &ls)] {
        g.throughput(Throughput::Bytes(bytes.len() as u64));
        g.bench_with_input(BenchmarkId::new("elf", name), bytes, |b, bytes| {
            b.iter(|| archbench_archid::identify(black_box(bytes)).unwrap())
        });
    }
    g.finish();
}

fn bench_tar(c: &mut Criterion) {
    // A layer of 200 copies of a real executable plus 200 text files, gzip level 6.
    let ls = real_elf();
    let mut b = tar::Builder::new(Vec::new());
    for i in 0..200 {
        for (name, data) in [
            (format!("bin/tool{i}"), &ls[..]),
            (format!("share/doc{i}.txt"), &b"some text\n".repeat(100)[..]),
        ] {
            let mut h = tar::Header::new_gnu();
            h.set_size(data.len() as u64);
            h.set_mode(0o755);
            b.append_data(&mut h, name, data).unwrap();
        }
    }
    let tar = b.into_inner().unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut gz, &tar).unwrap();
    let gz = gz.finish().unwrap();
    let mut g = c.benchmark_group("walk_tar");
    g.throughput(Throughput::Bytes(tar.len() as u64));
    g.sample_size(20);
    g.bench_function("gzip-layer", |b| {
        b.iter(|| {
            archbench_archid::walk::walk_tar(black_box(&gz[..]), Default::default(), |e| {
                drop(black_box(e))
            })
            .unwrap()
        })
    });
    g.finish();
}

criterion_group!(benches, bench_identify, bench_tar);
criterion_main!(benches);
