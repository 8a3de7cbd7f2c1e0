//! What collecting BuildKit's vertices costs archbench: one build's status stream folded by
//! `VertexTracker` and turned into stages, a timeline and vertex records. The stream is shaped
//! like the compute fixture's real one (12 vertices, each reported when it starts and when it
//! completes, plus a progress update) with 500 log messages, and a bigger one ten times that.

use std::collections::BTreeMap;
use std::hint::black_box;

use archbench_builder::buildkit::{stage_platforms, VertexTracker};
use archbench_engine::{BuildEvent, Vertex};
use archbench_platform::Platform;
use criterion::{criterion_group, criterion_main, Criterion};

const DOCKERFILE: &str = "ARG B\nFROM --platform=$BUILDPLATFORM ${B} AS build\nRUN make\nFROM scratch\nCOPY --from=build /x /x\n";

fn stream(vertices: usize, logs: usize) -> Vec<BuildEvent> {
    let t0 = 1_790_000_000_000_000_000i128;
    let mut out = Vec::new();
    for i in 0..vertices {
        let name = match i % 4 {
            0 => format!("[internal] load metadata {i}"),
            1 => format!("[build {}/{}] RUN make part {i}", i % 9 + 1, 9),
            2 => format!("[stage-1 1/1] COPY --from=build /x /x{i}"),
            _ => format!("[build {}/{}] COPY . .", i % 9 + 1, 9),
        };
        let v = |started: bool, completed: bool| {
            BuildEvent::Vertex(Vertex {
                digest: format!("sha256:{i:064x}"),
                inputs: if i == 0 { vec![] } else { vec![format!("sha256:{:064x}", i - 1)] },
                name: name.clone(),
                cached: i % 3 == 0,
                started: started.then_some(t0 + i as i128 * 1_000_000),
                completed: completed.then_some(t0 + (i as i128 + 1) * 1_000_000),
                error: None,
            })
        };
        out.extend([v(false, false), v(true, false), v(true, true)]);
    }
    for j in 0..logs {
        out.push(BuildEvent::Log {
            vertex: format!("sha256:{:064x}", j % vertices),
            text: format!("cc -O2 -c kernels_{j}.c -o kernels_{j}.o\n"),
        });
    }
    out
}

fn bench_vertices(c: &mut Criterion) {
    let (target, build) = (Platform::linux_arm64(), Platform::linux_amd64());
    let platforms: BTreeMap<String, Platform> = stage_platforms(DOCKERFILE, &target, &build);
    let mut g = c.benchmark_group("buildkit-vertices");
    for (label, v, l) in [("compute-fixture", 12, 500), ("ten-times", 120, 5000)] {
        let events = stream(v, l);
        g.bench_function(label, |b| {
            b.iter(|| {
                let mut t = VertexTracker::default();
                for e in black_box(&events) {
                    black_box(t.on(e));
                }
                black_box(t.finish(&platforms, &build))
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench_vertices);
criterion_main!(benches);
