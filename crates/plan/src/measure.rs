//! Factors from results files: `build` envelopes give the emulated and cross ratios, `bench`
//! envelopes the Wasm slowdown and (from an arm64 host) the arm64 speed. What no file gives is
//! modelled, and says so. The files come from [`archbench_results::dir::load`].

use std::path::Path;

use archbench_platform::Arch;
use archbench_results::bench::{Cell, Method, RunnerSpec, WasmTier};
use archbench_results::build::StrategyKind;

use crate::inputs::{Excluded, Factor, Factors};

/// The results a plan reads: [`archbench_results::dir::load`] gives them, by the one rule
/// `plan` and `report` share.
pub type Inputs = archbench_results::dir::Results;

fn geomean(values: &[f64]) -> Option<f64> {
    let v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite() && *x > 0.0).collect();
    (!v.is_empty()).then(|| (v.iter().map(|x| x.ln()).sum::<f64>() / v.len() as f64).exp())
}

fn name(p: &Path) -> String {
    p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
}

/// A cell's slowdown against native and its 95% CI.
type Slowdown = (f64, (f64, f64));

/// The geometric mean of `runner`'s slowdowns in one bench file, over the workloads measured
/// the same way as native; and the band the cells' 95% CIs give.
///
/// A runner timed in process against native timed as a process spawn compares like with like
/// only where the work dominates the launch. The `startup` class measures the launch itself,
/// so for an in-process runner it compares an instantiation with a process spawn: it is left
/// out, and the factor says so. `path` names the file in the factor's source; the report uses
/// the same rule for its "which entry runs where" table.
pub fn like_with_like(
    path: &Path,
    cells: &[Cell],
    runner: &RunnerSpec,
) -> Option<(Factor, String)> {
    let mut used: Vec<&Cell> = Vec::new();
    let mut excluded = Vec::new();
    for c in cells.iter().filter(|c| c.runner == *runner) {
        if !c.ok() || c.slowdown.is_none() {
            excluded
                .push(Excluded { workload: c.workload.clone(), why: "did not complete".into() });
        } else if runner.method() == Method::InProcess && c.class == "startup" {
            excluded.push(Excluded {
                workload: c.workload.clone(),
                why: format!("measures start-up: {runner} instantiates in archbench's process, native spawns a process; not the same method"),
            });
        } else {
            used.push(c);
        }
    }
    let slow = |pick: &dyn Fn(&Slowdown) -> f64| -> Option<f64> {
        geomean(&used.iter().filter_map(|c| c.slowdown.as_ref().map(pick)).collect::<Vec<_>>())
    };
    let value = slow(&|s| s.0)?;
    let from = format!(
        "{} (geometric mean of {} workloads on {runner}: {})",
        name(path),
        used.len(),
        used.iter().map(|c| c.workload.as_str()).collect::<Vec<_>>().join(", ")
    );
    let mut f = Factor::measured(value, from.clone());
    if let (Some(lo), Some(hi)) = (slow(&|s| s.1 .0), slow(&|s| s.1 .1)) {
        f = f.with_interval(lo, hi);
    }
    f.workloads = used.iter().map(|c| c.workload.clone()).collect();
    f.excluded = excluded;
    Some((f, from))
}
/// `runner`'s slowdown against native from the newest bench file that measured it (like with
/// like, see [`like_with_like`]), and that file's description; `None` when no file did.
/// `plan` prices with it and `run` tells the user what an entry will cost.
pub fn runtime_slowdown(inputs: &Inputs, runner: &RunnerSpec) -> Option<(Factor, String)> {
    inputs.benches.iter().rev().find_map(|(p, e)| like_with_like(p, &e.payload, runner))
}

/// The arm64 bench files that were there but may not stand for native arm64, each with the
/// reason, so the reader of a modelled factor sees why.
fn not_native_arm64(inputs: &Inputs) -> Vec<String> {
    inputs
        .benches
        .iter()
        .filter(|(_, e)| {
            !e.host.known_native()
                && e.host.platform.as_ref().is_some_and(|p| p.arch == Arch::Arm64)
        })
        .map(|(p, e)| match e.host.emulated {
            Some(true) => format!("{} (its archbench ran under emulation)", name(p)),
            _ => format!("{} (its host facts do not say it ran natively)", name(p)),
        })
        .collect()
}

/// The factors from `inputs`, modelled where nothing was measured; build ratios from warm
/// rebuilds when `warm` and there are any, else from cold builds (and the source says which).
pub fn factors(inputs: &Inputs, warm: bool) -> Factors {
    let ratio = |strategy, wasm| build_ratio(inputs, warm, strategy, wasm);
    let bench_geomean = |runner: &RunnerSpec| runtime_slowdown(inputs, runner);
    let emulated = match (
        ratio(StrategyKind::Emulated, false),
        bench_geomean(&RunnerSpec::Qemu(archbench_platform::Platform::linux_arm64())),
    ) {
        (Some((v, from)), _) => Factor::measured(v, from),
        (None, Some((f, from))) => Factor {
            basis: crate::inputs::Basis::Modelled {
                why: format!("no build results; the runtime slowdown under QEMU stands in for the build's: {from}"),
            },
            ..f
        },
        (None, None) => Factor::modelled(8.0, "no build or bench results; 8× is the C++ build slowdown users report (docker/buildx#2810)"),
    };
    let cross = match ratio(StrategyKind::Cross, false) {
        Some((v, from)) => Factor::measured(v, from),
        None => Factor::modelled(
            1.05,
            "no build results; a cross build costs about a native one plus toolchain setup",
        ),
    };
    let wasm_runtime = match bench_geomean(&RunnerSpec::Wasm(WasmTier::Cranelift)) {
        Some((f, _)) => f,
        None => Factor::modelled(1.5, "no bench results; Jangda et al. (USENIX ATC 2019) measured 1.45–1.55× for SPEC in browsers"),
    };
    let arm64_runtime = arm64_runtime(inputs);
    Factors {
        emulated,
        cross,
        arm64_build: Factor::modelled(
            arm64_runtime.value,
            "a native arm64 build is assumed to scale like the arm64 runtime factor",
        ),
        wasm_build: match ratio(StrategyKind::Cross, true) {
            Some((v, from)) => Factor::measured(v, from),
            None => Factor::modelled(
                1.0,
                "no build of a wasi/wasm entry in the results; a wasm32-wasip1 build is assumed to cost about a native one (archbench build --platform linux/amd64,wasi/wasm measures it)",
            ),
        },
        wasm_runtime,
        arm64_runtime,
    }
}

/// The geometric mean of one strategy's build ratios and where it comes from: from warm
/// rebuilds when `warm` and there is one with this ratio, else from the cold build, which the
/// source then says. A Wasm entry is built as a cross build (compiled on the build platform),
/// but its ratio is the Wasm build factor, never the cross one: `wasm` picks which.
fn build_ratio(
    inputs: &Inputs,
    warm: bool,
    strategy: StrategyKind,
    wasm: bool,
) -> Option<(f64, String)> {
    let ratio_in = |warm_files: bool| {
        inputs.builds.iter().rev().filter(|(_, e)| e.payload.warm == warm_files).find_map(
            |(p, e)| {
                let r: Vec<f64> = e
                    .payload
                    .ratios
                    .iter()
                    .filter(|r| r.strategy == strategy && (r.platform.arch == Arch::Wasm) == wasm)
                    .map(|r| r.ratio)
                    .collect();
                geomean(&r).map(|g| (g, p, e))
            },
        )
    };
    let found = warm.then(|| ratio_in(true)).flatten();
    let (kind, (g, p, e)) = match found {
        Some(f) => ("warm rebuild", f),
        None if warm => {
            ("cold build: no warm rebuild with this ratio in the results", ratio_in(false)?)
        }
        None => ("cold build", ratio_in(false)?),
    };
    let what = if wasm { "wasi/wasm entry's" } else { strategy.name() };
    Some((g, format!("{} ({what} {kind}, {})", name(p), e.host.summary())))
}

/// arm64 speed: native medians from an arm64 host against an amd64 host, per workload, with
/// a band pairing each side's CI ends the wide way. Only a host known to run its own
/// architecture may stand for that architecture's speed: a file from an arm64 archbench under
/// QEMU, or from a host whose facts do not say, is never native arm64 (the modelled reason
/// names the files refused).
fn arm64_runtime(inputs: &Inputs) -> Factor {
    let on = |arch: Arch| {
        inputs.benches.iter().rev().find(|(_, e)| {
            e.host.known_native() && e.host.platform.as_ref().is_some_and(|p| p.arch == arch)
        })
    };
    let (Some((pa, a)), Some((px, x))) = (on(Arch::Arm64), on(Arch::Amd64)) else {
        let refused = not_native_arm64(inputs);
        let mut why = "no bench results from a native arm64 host: arm64 is assumed as fast as x86 per vCPU; run `archbench bench -o` on an arm64 machine and put the file beside these to measure it".to_owned();
        if !refused.is_empty() {
            why.push_str(&format!("; not counted as native arm64: {}", refused.join(", ")));
        }
        return Factor::modelled(1.0, why);
    };
    // (median ratio, low, high).
    let ratios: Vec<(f64, f64, f64)> = a
        .payload
        .iter()
        .filter(|c| c.runner == RunnerSpec::Native && c.ok())
        .filter_map(|c| {
            // Same workload at the same size and build profile; the two hosts' natives are the
            // comparison itself, so only the host may differ.
            let ax = x.payload.iter().find(|d| {
                d.runner == RunnerSpec::Native && d.ok() && d.differs_from(c).is_none()
            })?;
            let (wa, wx) = (c.wall.as_ref()?, ax.wall.as_ref()?);
            Some((
                wa.median / wx.median,
                wa.median_ci.0 / wx.median_ci.1,
                wa.median_ci.1 / wx.median_ci.0,
            ))
        })
        .collect();
    let pick = |k: usize| geomean(&ratios.iter().map(|r| [r.0, r.1, r.2][k]).collect::<Vec<_>>());
    let Some(g) = pick(0) else {
        return Factor::modelled(1.0, "the arm64 and amd64 bench files share no workload");
    };
    let f = Factor::measured(
        g,
        format!(
            "native medians of {} ({}) over {} ({}), {} workloads",
            name(pa),
            a.host.summary(),
            name(px),
            x.host.summary(),
            ratios.len()
        ),
    );
    match (pick(1), pick(2)) {
        (Some(lo), Some(hi)) => f.with_interval(lo, hi),
        _ => f,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn example() -> Inputs {
        archbench_results::dir::load(
            &Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/results/v1-2026-11"),
        )
        .unwrap()
    }

    /// The Wasm runtime factor compares like with like: `startup` times an in-process
    /// instantiation against a process spawn, so it is left out with the reason, and the four
    /// work-bound workloads give 1.47× (issue 14: 0.87× with start-up mixed in).
    #[test]
    fn wasm_runtime_leaves_out_startup_and_says_why() {
        let f = factors(&example(), false);
        let w = &f.wasm_runtime;
        assert!(!w.is_modelled());
        assert_eq!(w.workloads, ["sha256", "nbody", "sort", "syscall"]);
        assert_eq!(w.excluded.len(), 1);
        assert_eq!(w.excluded[0].workload, "startup");
        assert!(w.excluded[0].why.contains("not the same method"));
        let by_hand =
            (1.104644003641003f64 * 1.625988122498164 * 1.403454712182451 * 1.8566093113656137)
                .powf(0.25);
        assert!((w.value - by_hand).abs() < 1e-9, "{} != {by_hand}", w.value);
        let (lo, hi) = w.interval.unwrap();
        assert!(lo < w.value && w.value < hi);
        // The emulation and cross factors come from the build file, without an interval (one
        // build per strategy).
        assert!((f.emulated.value - 6.350056186416477).abs() < 1e-12);
        assert!(f.emulated.interval.is_none());
    }

    /// Issue 19: a build with a wasi/wasm entry makes the Wasm build factor measured, naming
    /// the file; the Wasm entry's ratio (a cross build by kind) never enters the cross factor.
    #[test]
    fn a_built_wasm_entry_measures_the_wasm_build_factor() {
        let mut inputs = example();
        let before = factors(&inputs, false);
        assert!(before.wasm_build.is_modelled());
        let (p, env) = inputs.builds.last_mut().unwrap();
        env.payload.ratios.push(archbench_results::build::StrategyRatio {
            platform: archbench_platform::Platform::wasi_wasm(),
            strategy: StrategyKind::Cross,
            against: archbench_platform::Platform::linux_amd64(),
            ratio: 0.5,
        });
        let file = name(p);
        let after = factors(&inputs, false);
        assert!(!after.wasm_build.is_modelled());
        assert_eq!(after.wasm_build.value, 0.5);
        let from = format!("{:?}", after.wasm_build.basis);
        assert!(from.contains(&file) && from.contains("wasi/wasm entry's cold build"), "{from}");
        assert_eq!(after.cross.value, before.cross.value);
        // A warm rebuild without a Wasm entry leaves the Wasm factor to the cold build, said so.
        let (p, mut warm) = inputs.builds[0].clone();
        warm.payload.warm = true;
        warm.payload.ratios.retain(|r| r.platform.arch != Arch::Wasm);
        inputs.builds.push((p.with_file_name("build-warm.json"), warm));
        let w = factors(&inputs, true).wasm_build;
        assert_eq!(w.value, 0.5);
        assert!(format!("{:?}", w.basis).contains("no warm rebuild with this ratio"), "{w:?}");
    }

    /// QEMU runs every workload as a process, as native does: nothing is left out.
    #[test]
    fn process_runners_keep_startup() {
        let inputs = example();
        let (_, env) = &inputs.benches[0];
        let (f, _) = like_with_like(
            Path::new("bench.json"),
            &env.payload,
            &"qemu:linux/arm64".parse().unwrap(),
        )
        .unwrap();
        assert_eq!(f.workloads.len(), 5);
        assert!(f.excluded.is_empty());
    }

    /// A bench file from an arm64 host that ran under emulation, or whose facts do not say,
    /// never makes the arm64 factor measured (issue 15).
    #[test]
    fn an_emulated_or_unknown_arm64_host_is_never_native() {
        let mut inputs = example();
        let (p, mut arm) = inputs.benches[0].clone();
        arm.host.platform = Some(archbench_platform::Platform::linux_arm64());
        inputs.benches[0].1.host.emulated = Some(false);
        for (emulated, measured) in [(Some(true), false), (None, false), (Some(false), true)] {
            let mut i = Inputs { benches: inputs.benches.clone(), ..Default::default() };
            arm.host.emulated = emulated;
            i.benches.push((p.with_file_name("arm.json"), arm.clone()));
            let f = factors(&i, false);
            assert_eq!(
                !f.arm64_runtime.is_modelled(),
                measured,
                "{emulated:?}: {:?}",
                f.arm64_runtime
            );
            // The file that was there and did not count is named, with the reason.
            let why = format!("{:?}", f.arm64_runtime.basis);
            let reason = match emulated {
                Some(true) => Some("arm.json (its archbench ran under emulation)"),
                None => Some("arm.json (its host facts do not say it ran natively)"),
                Some(false) => None,
            };
            if let Some(reason) = reason {
                assert!(why.contains(&format!("not counted as native arm64: {reason}")), "{why}");
            }
        }
    }

    /// Issue 16 (item 4): `--warm` takes the build ratios from a warm rebuild when the results
    /// have one, and says when they have none; without it, a warm file is never used.
    #[test]
    fn warm_ratios_only_when_asked_and_present() {
        let mut inputs = example();
        let cold = factors(&inputs, true);
        assert!((cold.emulated.value - 6.350056186416477).abs() < 1e-12);
        assert!(format!("{:?}", cold.emulated.basis)
            .contains("no warm rebuild with this ratio in the results"));
        let (p, mut warm) = inputs.builds[0].clone();
        warm.payload.warm = true;
        for r in &mut warm.payload.ratios {
            r.ratio = 2.0;
        }
        inputs.builds.push((p.with_file_name("build-warm.json"), warm));
        let f = factors(&inputs, true);
        assert_eq!(f.emulated.value, 2.0);
        assert!(format!("{:?}", f.emulated.basis).contains("warm rebuild"), "{:?}", f.emulated);
        let f = factors(&inputs, false);
        assert!((f.emulated.value - 6.350056186416477).abs() < 1e-12, "cold unless asked");
    }
}
