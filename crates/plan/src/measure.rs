//! Factors from results files: `build` envelopes give the emulated and cross ratios, `bench`
//! envelopes the Wasm slowdown and (from an arm64 host) the arm64 speed. What no file gives is
//! modelled, and says so.

use std::path::{Path, PathBuf};

use archbench_results::bench::BenchCell;
use archbench_results::build::BuildReport;
use archbench_results::Envelope;

use crate::model::{Factor, Factors};
use crate::{Error, Result};

/// Results found in a directory.
#[derive(Debug, Default)]
pub struct Inputs {
    /// Build results, with their file.
    pub builds: Vec<(PathBuf, Envelope<BuildReport>)>,
    /// Bench results, with their file.
    pub benches: Vec<(PathBuf, Envelope<Vec<BenchCell>>)>,
}

/// Read every `*.json` results envelope under `dir` (not recursing); other files are skipped.
pub fn load(dir: &Path) -> Result<Inputs> {
    let mut inputs = Inputs::default();
    let entries =
        std::fs::read_dir(dir).map_err(|source| Error::Io { path: dir.to_owned(), source })?;
    let mut paths: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    paths.sort();
    for p in paths {
        let Ok(bytes) = std::fs::read(&p) else { continue };
        let Ok(head) = serde_json::from_slice::<serde_json::Value>(&bytes) else { continue };
        match head["kind"].as_str() {
            Some("build") => {
                if let Ok(e) = serde_json::from_value(head) {
                    inputs.builds.push((p, e));
                }
            }
            Some("bench") => {
                if let Ok(e) = serde_json::from_value(head) {
                    inputs.benches.push((p, e));
                }
            }
            _ => {}
        }
    }
    Ok(inputs)
}

fn geomean(values: &[f64]) -> Option<f64> {
    let v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite() && *x > 0.0).collect();
    (!v.is_empty()).then(|| (v.iter().map(|x| x.ln()).sum::<f64>() / v.len() as f64).exp())
}

fn name(p: &Path) -> String {
    p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
}

/// The factors from `inputs`, modelled where nothing was measured.
pub fn factors(inputs: &Inputs) -> Factors {
    let ratio = |strategy: &str| -> Option<(f64, String)> {
        inputs.builds.iter().rev().find_map(|(p, e)| {
            let r: Vec<f64> = e
                .payload
                .ratios
                .iter()
                .filter(|r| r.label.contains(&format!(" {strategy} ")))
                .map(|r| r.ratio)
                .collect();
            geomean(&r)
                .map(|g| (g, format!("{} ({} build, {})", name(p), strategy, e.host.summary())))
        })
    };
    let bench_geomean = |runner: &str| -> Option<(f64, String)> {
        inputs.benches.iter().rev().find_map(|(p, e)| {
            let r: Vec<f64> = e
                .payload
                .iter()
                .filter(|c| c.runner == runner && c.ok())
                .filter_map(|c| c.slowdown.map(|s| s.0))
                .collect();
            geomean(&r).map(|g| {
                (g, format!("{} (geometric mean of {} workloads on {runner})", name(p), r.len()))
            })
        })
    };
    let emulated = match (ratio("emulated"), bench_geomean("qemu:linux/arm64")) {
        (Some((v, from)), _) => Factor::measured(v, from),
        (None, Some((v, from))) => Factor::modelled(v, format!("no build results; the runtime slowdown under QEMU stands in for the build's: {from}")),
        (None, None) => Factor::modelled(8.0, "no build or bench results; 8× is the C++ build slowdown users report (docker/buildx#2810)"),
    };
    let cross = match ratio("cross") {
        Some((v, from)) => Factor::measured(v, from),
        None => Factor::modelled(
            1.05,
            "no build results; a cross build costs about a native one plus toolchain setup",
        ),
    };
    let wasm_runtime = match bench_geomean("wasm:cranelift") {
        Some((v, from)) => Factor::measured(v, from),
        None => Factor::modelled(1.5, "no bench results; Jangda et al. (USENIX ATC 2019) measured 1.45–1.55× for SPEC in browsers"),
    };
    // arm64 speed: native medians from an arm64 host against an amd64 host, per workload.
    let on = |arch: &str| {
        inputs
            .benches
            .iter()
            .rev()
            .find(|(_, e)| e.host.platform.as_deref().is_some_and(|p| p.ends_with(arch)))
    };
    let arm64_runtime = match (on("arm64"), on("amd64")) {
        (Some((pa, a)), Some((px, x))) => {
            let ratios: Vec<f64> = a
                .payload
                .iter()
                .filter(|c| c.runner == "native" && c.ok())
                .filter_map(|c| {
                    let ax = x.payload.iter().find(|d| d.runner == "native" && d.workload == c.workload && d.ok())?;
                    Some(c.wall.as_ref()?.median / ax.wall.as_ref()?.median)
                })
                .collect();
            match geomean(&ratios) {
                Some(g) => Factor::measured(g, format!("native medians of {} ({}) over {} ({}), {} workloads", name(pa), a.host.summary(), name(px), x.host.summary(), ratios.len())),
                None => Factor::modelled(1.0, "the arm64 and amd64 bench files share no workload"),
            }
        }
        _ => Factor::modelled(1.0, "no bench results from an arm64 host: arm64 is assumed as fast as x86 per vCPU; run `archbench bench -o` on an arm64 machine and put the file beside these to measure it"),
    };
    Factors {
        emulated,
        cross,
        arm64_build: Factor::modelled(
            arm64_runtime.value,
            "a native arm64 build is assumed to scale like the arm64 runtime factor",
        ),
        wasm_build: Factor::modelled(1.0, "a wasm32-wasip1 build costs about a native one"),
        wasm_runtime,
        arm64_runtime,
    }
}
