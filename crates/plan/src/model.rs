//! The cost model.
//!
//! A multi-arch build of amd64 + arm64 costs, per build, with `m` the minutes of one native
//! amd64 build of the user's project:
//! * emulate on amd64: `m·(1 + e)` runner minutes at the x64 price (`e` = emulated/native);
//! * cross-compile on amd64: `m·(1 + c)` at the x64 price (`c` = cross/native);
//! * native arm64 workers: `m + merge` at the x64 price for the amd64 half and the index merge,
//!   plus self-hosted arm64 worker instances as a fixed monthly cost (as many as the arm64 build
//!   minutes need, `a` = arm64/amd64 build speed);
//! * ship Wasm: one build, `m·w` at the x64 price, and a runtime cost `s` (Wasm/native) on the
//!   service.
//!
//! A break-even is the smallest monthly build count at which a cheaper-at-low-volume strategy
//! stops being cheaper. The Graviton projection prices the service's instance hours on x86 and
//! on arm64 scaled by the arm64/x86 speed ratio. Every factor says whether it was measured (and
//! from which results) or modelled (and why).

use serde::{Deserialize, Serialize};

use crate::pricing::Catalog;
use crate::{Error, Result};

/// Hours in a month (365 × 24 / 12).
pub const HOURS_PER_MONTH: f64 = 730.0;

/// The user's situation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Profile {
    /// Multi-arch builds per month.
    pub builds_per_month: f64,
    /// Minutes of one native amd64 build of the project.
    pub minutes_per_build: f64,
    /// Service instance-hours per month on x86 today.
    pub service_hours_per_month: f64,
    /// Hosted x64 runner (pricing id).
    pub x64_runner: String,
    /// Hosted arm64 runner (pricing id), for the alternative to a self-hosted worker.
    pub arm64_runner: String,
    /// Self-hosted arm64 build worker instance (pricing id).
    pub arm64_worker: String,
    /// x86 service instance (pricing id).
    pub x86_instance: String,
    /// arm64 service instance (pricing id).
    pub arm64_instance: String,
    /// Minutes to merge the per-platform images into one index (native workers).
    pub merge_minutes: f64,
}

impl Default for Profile {
    fn default() -> Self {
        Self {
            builds_per_month: 400.0,
            minutes_per_build: 10.0,
            service_hours_per_month: 4.0 * HOURS_PER_MONTH,
            x64_runner: "github-linux-2core-x64".into(),
            arm64_runner: "github-linux-2core-arm64".into(),
            arm64_worker: "c7g-large".into(),
            x86_instance: "c7i-large".into(),
            arm64_instance: "c7g-large".into(),
            merge_minutes: 0.5,
        }
    }
}

/// Where a factor comes from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "basis", rename_all = "snake_case")]
pub enum Basis {
    /// Measured on this or a merged host.
    Measured {
        /// From what.
        from: String,
    },
    /// Not measurable here; the value and why.
    Modelled {
        /// Why this value.
        why: String,
    },
}

/// A ratio the model uses.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Factor {
    /// The ratio.
    pub value: f64,
    /// Measured or modelled.
    #[serde(flatten)]
    pub basis: Basis,
}

impl Factor {
    /// A measured factor.
    pub fn measured(value: f64, from: impl Into<String>) -> Self {
        Self { value, basis: Basis::Measured { from: from.into() } }
    }
    /// A modelled factor.
    pub fn modelled(value: f64, why: impl Into<String>) -> Self {
        Self { value, basis: Basis::Modelled { why: why.into() } }
    }
    /// Whether modelled.
    pub fn is_modelled(&self) -> bool {
        matches!(self.basis, Basis::Modelled { .. })
    }
}

/// The ratios that turn an amd64 build into each strategy's cost.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Factors {
    /// Emulated arm64 build time / native amd64 build time.
    pub emulated: Factor,
    /// Cross-compiled arm64 build time / native amd64 build time.
    pub cross: Factor,
    /// Native arm64 build time / native amd64 build time.
    pub arm64_build: Factor,
    /// Wasm build time / native build time.
    pub wasm_build: Factor,
    /// Wasm (Cranelift) run time / native run time of the service.
    pub wasm_runtime: Factor,
    /// Service run time on arm64 / on x86 (instance-hours needed).
    pub arm64_runtime: Factor,
}

impl Factors {
    /// Each factor with a name for people, in a fixed order.
    pub fn named(&self) -> [(&'static str, &Factor); 6] {
        [
            ("emulated / native build", &self.emulated),
            ("cross / native build", &self.cross),
            ("arm64 / amd64 build", &self.arm64_build),
            ("wasm / native build", &self.wasm_build),
            ("wasm / native runtime", &self.wasm_runtime),
            ("arm64 / x86 runtime", &self.arm64_runtime),
        ]
    }
}

/// One build strategy's cost.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StrategyCost {
    /// `emulate`, `cross`, `native-arm64`, `wasm`.
    pub name: String,
    /// In words.
    pub description: String,
    /// Wall minutes until both platforms are built (parallel where the strategy allows).
    pub minutes_per_build: f64,
    /// Fixed USD per month (self-hosted workers).
    pub fixed_monthly: f64,
    /// USD per build.
    pub per_build: f64,
    /// USD per month at the profile's volume.
    pub monthly: f64,
    /// Runtime cost change per month this strategy brings (Wasm), USD.
    pub runtime_monthly_delta: f64,
    /// The factors it used, by name.
    pub uses: Vec<String>,
}

/// Two strategies' costs cross.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BreakEven {
    /// Cheaper below the volume.
    pub cheaper_below: String,
    /// Cheaper from the volume on.
    pub cheaper_from: String,
    /// Builds per month.
    pub builds_per_month: f64,
}

/// The service on x86 vs arm64.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Migration {
    /// x86 instance.
    pub x86_instance: String,
    /// arm64 instance.
    pub arm64_instance: String,
    /// USD per month on x86.
    pub x86_monthly: f64,
    /// USD per month on arm64 at the arm64 speed factor.
    pub arm64_monthly: f64,
    /// x86 − arm64 (positive: arm64 saves).
    pub saving_monthly: f64,
    /// Saving as a fraction of the x86 cost.
    pub saving_fraction: f64,
    /// Whether the speed factor is modelled.
    pub modelled: bool,
    /// A vendor claim shown beside the result (never used in it).
    pub claim: Option<String>,
}

/// A point of the cost curves.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CurvePoint {
    /// Builds per month.
    pub builds_per_month: f64,
    /// USD per month per strategy, in the order of `strategies`.
    pub monthly: Vec<f64>,
}

/// The plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    /// Inputs.
    pub profile: Profile,
    /// Factors used.
    pub factors: Factors,
    /// The four strategies.
    pub strategies: Vec<StrategyCost>,
    /// Where they cross.
    pub break_even: Vec<BreakEven>,
    /// Monthly cost against volume (for the chart).
    pub curve: Vec<CurvePoint>,
    /// What hosted arm64 runners would cost instead of self-hosted workers, per month.
    pub native_arm64_hosted_monthly: f64,
    /// The service migration.
    pub migration: Migration,
    /// The recommendation, first line the choice.
    pub recommendation: Vec<String>,
}

struct Prices {
    x64_min: f64,
    arm_min: f64,
    worker_hour: f64,
    x86_hour: f64,
    arm_hour: f64,
}

fn cost_at(p: &Profile, f: &Factors, pr: &Prices, name: &str, n: f64) -> (f64, f64, f64) {
    // (fixed monthly, per build, wall minutes per build)
    let m = p.minutes_per_build;
    match name {
        "emulate" => (0.0, m * (1.0 + f.emulated.value) * pr.x64_min, m * (1.0 + f.emulated.value)),
        "cross" => (0.0, m * (1.0 + f.cross.value) * pr.x64_min, m * (1.0 + f.cross.value)),
        "native-arm64" => {
            let arm_minutes = n * m * f.arm64_build.value;
            let workers = (arm_minutes / (HOURS_PER_MONTH * 60.0)).ceil().max(1.0);
            (
                workers * pr.worker_hour * HOURS_PER_MONTH,
                (m + p.merge_minutes) * pr.x64_min,
                m.max(m * f.arm64_build.value) + p.merge_minutes,
            )
        }
        _ => (0.0, m * f.wasm_build.value * pr.x64_min, m * f.wasm_build.value),
    }
}

/// The strategy names, in output order.
pub const STRATEGIES: [&str; 4] = ["emulate", "cross", "native-arm64", "wasm"];

/// Compute the plan.
pub fn plan(profile: &Profile, factors: &Factors, catalog: &Catalog) -> Result<Plan> {
    for (what, v) in [
        ("--builds-per-month", profile.builds_per_month),
        ("--minutes-per-build", profile.minutes_per_build),
        ("--service-hours", profile.service_hours_per_month),
    ] {
        if !(v.is_finite() && v >= 0.0) {
            return Err(Error::Input(format!("{what} must be a non-negative number, not {v}")));
        }
    }
    let pr = Prices {
        x64_min: catalog.get(&profile.x64_runner, "runner")?.price,
        arm_min: catalog.get(&profile.arm64_runner, "runner")?.price,
        worker_hour: catalog.get(&profile.arm64_worker, "instance")?.price,
        x86_hour: catalog.get(&profile.x86_instance, "instance")?.price,
        arm_hour: catalog.get(&profile.arm64_instance, "instance")?.price,
    };
    let n = profile.builds_per_month;
    let x86_monthly = profile.service_hours_per_month * pr.x86_hour;
    let descriptions = [
        "every arm64 RUN under QEMU on the amd64 runner",
        "arm64 compiled on the amd64 runner with a cross toolchain",
        "amd64 on the hosted runner, arm64 on self-hosted arm64 workers, index merged after",
        "one wasm32-wasip1 build for every platform, run under a Wasm runtime",
    ];
    let uses: [&[&str]; 4] =
        [&["emulated"], &["cross"], &["arm64_build"], &["wasm_build", "wasm_runtime"]];
    let strategies: Vec<StrategyCost> = STRATEGIES
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let (fixed, per_build, minutes) = cost_at(profile, factors, &pr, name, n);
            let runtime = if *name == "wasm" {
                x86_monthly * (factors.wasm_runtime.value - 1.0)
            } else {
                0.0
            };
            StrategyCost {
                name: (*name).into(),
                description: descriptions[i].into(),
                minutes_per_build: minutes,
                fixed_monthly: fixed,
                per_build,
                monthly: fixed + per_build * n,
                runtime_monthly_delta: runtime,
                uses: uses[i].iter().map(|s| (*s).to_owned()).collect(),
            }
        })
        .collect();
    let monthly_at = |name: &str, v: f64| {
        let (fixed, per, _) = cost_at(profile, factors, &pr, name, v);
        fixed + per * v
    };
    // Break-even between the build strategies (Wasm changes the product, so it is left out).
    let mut break_even = Vec::new();
    let builds = ["emulate", "cross", "native-arm64"];
    let top = (n * 10.0).max(10_000.0) as u64;
    for (i, a) in builds.iter().enumerate() {
        for b in &builds[i + 1..] {
            let mut prev = monthly_at(a, 0.0) - monthly_at(b, 0.0);
            for v in 1..=top {
                let d = monthly_at(a, v as f64) - monthly_at(b, v as f64);
                if prev.signum() != d.signum() && d != 0.0 && prev != 0.0 {
                    let (below, from) = if prev < 0.0 { (a, b) } else { (b, a) };
                    break_even.push(BreakEven {
                        cheaper_below: (*below).into(),
                        cheaper_from: (*from).into(),
                        builds_per_month: v as f64,
                    });
                    break;
                }
                prev = d;
            }
        }
    }
    let steps = 40;
    let max_n = (n * 2.0).max(50.0);
    let curve = (0..=steps)
        .map(|k| {
            let v = max_n * k as f64 / steps as f64;
            CurvePoint {
                builds_per_month: v,
                monthly: STRATEGIES.iter().map(|s| monthly_at(s, v)).collect(),
            }
        })
        .collect();
    let native_arm64_hosted_monthly = n
        * ((profile.minutes_per_build + profile.merge_minutes) * pr.x64_min
            + profile.minutes_per_build * factors.arm64_build.value * pr.arm_min);
    let arm64_monthly = profile.service_hours_per_month * factors.arm64_runtime.value * pr.arm_hour;
    let claim =
        catalog.entries.values().find(|e| e.kind == "claim" && e.arch == "arm64").map(|e| {
            format!(
                "{} ({}, {}) — a claim, not used in these figures",
                e.description, e.source, e.date
            )
        });
    let migration = Migration {
        x86_instance: profile.x86_instance.clone(),
        arm64_instance: profile.arm64_instance.clone(),
        x86_monthly,
        arm64_monthly,
        saving_monthly: x86_monthly - arm64_monthly,
        saving_fraction: if x86_monthly > 0.0 {
            (x86_monthly - arm64_monthly) / x86_monthly
        } else {
            0.0
        },
        modelled: factors.arm64_runtime.is_modelled(),
        claim,
    };
    let recommendation = recommend(
        profile,
        factors,
        &strategies,
        &break_even,
        &migration,
        native_arm64_hosted_monthly,
    );
    Ok(Plan {
        profile: profile.clone(),
        factors: factors.clone(),
        strategies,
        break_even,
        curve,
        native_arm64_hosted_monthly,
        migration,
        recommendation,
    })
}

fn label(f: &Factor) -> &'static str {
    if f.is_modelled() {
        " (modelled)"
    } else {
        " (measured)"
    }
}

fn recommend(
    p: &Profile,
    f: &Factors,
    s: &[StrategyCost],
    be: &[BreakEven],
    m: &Migration,
    hosted: f64,
) -> Vec<String> {
    let builds: Vec<&StrategyCost> = s.iter().filter(|c| c.name != "wasm").collect();
    let best =
        builds.iter().min_by(|a, b| a.monthly.total_cmp(&b.monthly)).expect("three strategies");
    let emulate = &s[0];
    let mut out = vec![format!(
        "build with {} at {:.0} builds/month: ${:.2}/month, {:.1} min per build",
        best.name, p.builds_per_month, best.monthly, best.minutes_per_build
    )];
    out.push(format!(
        "emulating costs {:.1}× native per arm64 build{}; cross-compiling {:.2}×{}",
        f.emulated.value,
        label(&f.emulated),
        f.cross.value,
        label(&f.cross)
    ));
    for c in &builds {
        if c.name != best.name {
            out.push(format!(
                "{}: ${:.2}/month, {:.1} min per build",
                c.name, c.monthly, c.minutes_per_build
            ));
        }
    }
    if best.name != "emulate" && emulate.monthly > 0.0 {
        out.push(format!(
            "saves ${:.2}/month ({:.0}%) against emulating",
            emulate.monthly - best.monthly,
            100.0 * (emulate.monthly - best.monthly) / emulate.monthly
        ));
    }
    for b in
        be.iter().filter(|b| b.cheaper_from == "native-arm64" || b.cheaper_below == "native-arm64")
    {
        out.push(format!(
            "{} is cheaper below {:.0} builds/month, {} from there on (self-hosted {} at a fixed monthly price)",
            b.cheaper_below, b.builds_per_month, b.cheaper_from, p.arm64_worker
        ));
    }
    out.push(format!(
        "hosted {} runners instead of a self-hosted worker: ${hosted:.2}/month",
        p.arm64_runner
    ));
    let wasm = &s[3];
    out.push(format!(
        "shipping Wasm: ${:.2}/month to build, but the service runs {:.2}×{} as long: {}${:.2}/month at runtime",
        wasm.monthly,
        f.wasm_runtime.value,
        label(&f.wasm_runtime),
        if wasm.runtime_monthly_delta >= 0.0 { "+" } else { "−" },
        wasm.runtime_monthly_delta.abs()
    ));
    out.push(format!(
        "moving the service from {} to {}: ${:.2} → ${:.2}/month ({:+.0}%){}",
        m.x86_instance,
        m.arm64_instance,
        m.x86_monthly,
        m.arm64_monthly,
        -100.0 * m.saving_fraction,
        if m.modelled {
            ", at a MODELLED arm64 speed; merge bench results from an arm64 host to measure it"
        } else {
            ", at the measured arm64 speed"
        }
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn factors(e: f64, c: f64) -> Factors {
        Factors {
            emulated: Factor::measured(e, "test"),
            cross: Factor::measured(c, "test"),
            arm64_build: Factor::modelled(1.0, "test"),
            wasm_build: Factor::modelled(1.0, "test"),
            wasm_runtime: Factor::measured(1.5, "test"),
            arm64_runtime: Factor::modelled(1.0, "test"),
        }
    }

    #[test]
    fn hand_computed_costs_and_break_even() {
        let c = Catalog::builtin();
        let p = Profile {
            builds_per_month: 100.0,
            minutes_per_build: 10.0,
            service_hours_per_month: 730.0,
            ..Profile::default()
        };
        let plan = plan(&p, &factors(5.0, 1.0), &c).unwrap();
        let by = |n: &str| plan.strategies.iter().find(|s| s.name == n).unwrap().clone();
        // emulate: 10 min × (1 + 5) × $0.006 = $0.36 per build; × 100 = $36.
        assert!((by("emulate").per_build - 0.36).abs() < 1e-9);
        assert!((by("emulate").monthly - 36.0).abs() < 1e-9);
        // cross: 10 × 2 × 0.006 = $0.12; $12/month.
        assert!((by("cross").monthly - 12.0).abs() < 1e-9);
        // native-arm64: worker c7g.large 0.0725 × 730 = $52.925 fixed + 100 × 10.5 × 0.006 = $6.30.
        assert!((by("native-arm64").fixed_monthly - 52.925).abs() < 1e-9);
        assert!((by("native-arm64").monthly - 59.225).abs() < 1e-9);
        // emulate vs native-arm64: 0.36 N = 52.925 + 0.063 N → N = 178.2, so 179 builds.
        let be = plan
            .break_even
            .iter()
            .find(|b| b.cheaper_below == "emulate" && b.cheaper_from == "native-arm64")
            .unwrap();
        assert_eq!(be.builds_per_month, 179.0);
        // cross (0.12 N) vs native (52.925 + 0.063 N): N = 928.5 → 929.
        let be = plan.break_even.iter().find(|b| b.cheaper_below == "cross").unwrap();
        assert_eq!(be.builds_per_month, 929.0);
        assert!(plan.recommendation[0].starts_with("build with cross"));
        // Wasm runtime: 730 h × $0.08925 × 0.5 more.
        assert!((by("wasm").runtime_monthly_delta - 730.0 * 0.08925 * 0.5).abs() < 1e-9);
        // Migration at a modelled speed of 1: 730 × (0.08925 − 0.0725).
        assert!((plan.migration.saving_monthly - 730.0 * (0.08925 - 0.0725)).abs() < 1e-9);
        assert!(plan.migration.modelled);
        assert!(plan.recommendation.iter().any(|l| l.contains("MODELLED")));
    }

    #[test]
    fn a_changed_price_changes_the_recommendation() {
        let p = Profile { builds_per_month: 2000.0, ..Profile::default() };
        let f = factors(5.0, 1.5);
        let base = plan(&p, &f, &Catalog::builtin()).unwrap();
        assert!(
            base.recommendation[0].starts_with("build with native-arm64"),
            "{:?}",
            base.recommendation
        );
        // Make the arm64 worker expensive: cross wins.
        let text = crate::pricing::BUILTIN.replace("price = 0.0725", "price = 0.9");
        let dear = Catalog::parse(&text, "test").unwrap();
        let other = plan(&p, &f, &dear).unwrap();
        assert!(
            other.recommendation[0].starts_with("build with cross"),
            "{:?}",
            other.recommendation
        );
    }

    #[test]
    fn bad_inputs_are_refused() {
        let p = Profile { builds_per_month: -1.0, ..Profile::default() };
        assert!(plan(&p, &factors(5.0, 1.0), &Catalog::builtin())
            .unwrap_err()
            .to_string()
            .contains("--builds-per-month"));
        let p = Profile { x64_runner: "c7i-large".into(), ..Profile::default() };
        assert!(plan(&p, &factors(5.0, 1.0), &Catalog::builtin()).is_err());
    }
}
