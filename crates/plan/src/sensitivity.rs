//! How far each factor may move before the decision it feeds changes.
//!
//! For every factor, the plan is re-decided with that factor alone changed, over a range from
//! a twentieth to twenty times its value. Walking out from the value on a logarithmic grid
//! finds the first value that changes the decision; bisection then narrows that edge to 0.1%.
//! The build factors feed the build recommendation; the arm64 runtime factor feeds the
//! migration (move the service to arm64 or not). A factor whose decision never changes over
//! the range tried says so instead of inventing an edge.

use crate::choose::choose;
use crate::inputs::{FactorId, Factors};
use crate::price::{evaluate, Context};

pub use crate::outcome::{Decision, Sensitivity};

/// Spread of the range tried on each side of the value.
const SPAN: f64 = 20.0;
/// Grid points on each side.
const STEPS: usize = 120;

fn decide(ctx: &Context, f: &Factors, id: FactorId, value: f64) -> String {
    let f = f.with_value(id, value);
    match decision_of(id) {
        Decision::Build => {
            let options = evaluate(ctx, &f, ctx.profile.builds_per_month);
            choose(&options, ctx.profile.margin, ctx.profile.margin_usd)
                .recommended
                .map_or_else(|| "no option".to_owned(), |o| o.name().to_owned())
        }
        Decision::Migration => {
            let arm = f.arm64_runtime.value * ctx.prices.arm64_hour;
            if arm < ctx.prices.x86_hour { "move to arm64" } else { "stay on x86" }.to_owned()
        }
    }
}

fn decision_of(id: FactorId) -> Decision {
    if id == FactorId::Arm64Runtime {
        Decision::Migration
    } else {
        Decision::Build
    }
}

/// Walk from `value` towards `end` (log grid), and return the last value with the same
/// decision and, if the decision changed, what it changed to.
fn edge(
    decide_at: &dyn Fn(f64) -> String,
    base: &str,
    value: f64,
    end: f64,
) -> (f64, Option<String>) {
    let ratio = (end / value).powf(1.0 / STEPS as f64);
    let mut same = value;
    for k in 1..=STEPS {
        let v = value * ratio.powi(k as i32);
        let d = decide_at(v);
        if d != base {
            // Bisect (in log space) between `same` and `v` to 0.1%.
            let (mut a, mut b, mut other) = (same, v, d);
            while (b / a).ln().abs() > 1e-3 {
                let mid = (a * b).sqrt();
                let dm = decide_at(mid);
                if dm == base {
                    a = mid;
                } else {
                    b = mid;
                    other = dm;
                }
            }
            return (a, Some(other));
        }
        same = v;
    }
    (same, None)
}

/// Every factor's range.
pub fn sensitivity(ctx: &Context, f: &Factors) -> Vec<Sensitivity> {
    FactorId::ALL
        .iter()
        .map(|&id| {
            let factor = f.get(id);
            let value =
                if factor.value.is_finite() && factor.value > 0.0 { factor.value } else { 1.0 };
            let decide_at = |v: f64| decide(ctx, f, id, v);
            let holds = decide_at(value);
            let (low, below) = edge(&decide_at, &holds, value, value / SPAN);
            let (high, above) = edge(&decide_at, &holds, value, value * SPAN);
            Sensitivity {
                factor: id,
                decision: decision_of(id),
                holds,
                value,
                modelled: factor.is_modelled(),
                interval: factor.interval,
                low,
                high,
                below,
                above,
                interval_inside: factor.interval.map(|(lo, hi)| lo >= low && hi <= high),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{plan, Factor, Profile};
    use crate::pricing::Catalog;

    fn factors() -> Factors {
        Factors {
            emulated: Factor::measured(6.0, "t"),
            cross: Factor::measured(1.0, "t"),
            arm64_build: Factor::modelled(1.0, "t"),
            wasm_build: Factor::modelled(1.0, "t"),
            wasm_runtime: Factor::measured(1.5, "t"),
            arm64_runtime: Factor::modelled(1.0, "t"),
        }
    }

    #[test]
    fn the_migration_edge_is_the_price_ratio() {
        let p = Profile { date: Some("2026-06-01".into()), ..Profile::default() };
        let plan = plan(&p, &factors(), &Catalog::builtin()).unwrap();
        let s = plan.sensitivity.iter().find(|s| s.factor == FactorId::Arm64Runtime).unwrap();
        assert_eq!(s.holds, "move to arm64");
        // c7i.large / c7g.large = 0.08925 / 0.0725 = 1.2310…
        assert!((s.high - 0.08925 / 0.0725).abs() < 0.002, "{s:?}");
        assert_eq!(s.above.as_deref(), Some("stay on x86"));
        assert_eq!(s.below, None, "cheaper arm64 never stops paying");
        assert_eq!(s.range_text(), format!("up to {:.2}×", s.high));
    }

    #[test]
    fn every_build_edge_really_flips_the_choice() {
        let p = Profile { date: Some("2026-06-01".into()), ..Profile::default() };
        let f = factors();
        let catalog = Catalog::builtin();
        let plan = plan(&p, &f, &catalog).unwrap();
        let best = plan.recommended.unwrap().name().to_owned();
        for s in plan.sensitivity.iter().filter(|s| s.decision == Decision::Build) {
            assert_eq!(s.holds, best);
            assert!(s.low <= s.value && s.value <= s.high, "{s:?}");
            // Just inside each edge the choice stands; just outside it changes, to what is said.
            for (edge, beyond, past) in [(s.low, &s.below, 0.99), (s.high, &s.above, 1.01)] {
                let inside =
                    crate::model::plan(&p, &f.with_value(s.factor, edge), &catalog).unwrap();
                assert_eq!(inside.recommended.unwrap().name(), best, "{s:?}");
                if let Some(other) = beyond {
                    let out =
                        crate::model::plan(&p, &f.with_value(s.factor, edge * past), &catalog)
                            .unwrap();
                    assert_eq!(
                        out.recommended.map(|o| o.name().to_owned()).as_ref(),
                        Some(other),
                        "{s:?}"
                    );
                }
            }
        }
    }
}
