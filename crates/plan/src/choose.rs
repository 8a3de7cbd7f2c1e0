//! The recommendation, derived from the priced options and nothing else.
//!
//! The rule: among the options that can build the project and meet the wall-time limit, the
//! one with the lowest total monthly cost (builds, waiting, runtime change); on equal cost, the
//! faster. So no other candidate is both cheaper and faster than the recommended one (a
//! property test checks this). Options within the profile's margin of that cost are named as
//! even, with how much faster each is.

use crate::model::OptionCost;
use crate::model::{FactorId, Plan};
use crate::options::BuildOption;

/// The choice among the options.
#[derive(Debug, Clone, PartialEq)]
pub struct Choice {
    /// The recommended option; `None` when no option is a candidate.
    pub recommended: Option<BuildOption>,
    /// Other candidates whose total is within the margin of the recommended one's.
    pub within_margin: Vec<BuildOption>,
}

/// Pick the cheapest candidate (then the fastest), and the ones within `margin` of it.
pub fn choose(options: &[OptionCost], margin: f64) -> Choice {
    let mut candidates: Vec<&OptionCost> = options.iter().filter(|c| c.candidate()).collect();
    candidates.sort_by(|a, b| {
        a.total_monthly
            .total_cmp(&b.total_monthly)
            .then(a.minutes_per_build.total_cmp(&b.minutes_per_build))
    });
    let Some(best) = candidates.first() else {
        return Choice { recommended: None, within_margin: Vec::new() };
    };
    // A cent absolute as well, so that $0.00 against $0.004 counts as even.
    let limit = best.total_monthly * (1.0 + margin) + 0.01;
    let within_margin =
        candidates[1..].iter().filter(|c| c.total_monthly <= limit).map(|c| c.option).collect();
    Choice { recommended: Some(best.option), within_margin }
}

fn money(v: f64) -> String {
    if v < 0.0 {
        format!("−${:.2}", -v)
    } else {
        format!("${v:.2}")
    }
}

/// One option in a phrase: `$46.40/month, 10.5 min per build`.
pub fn priced(c: &OptionCost) -> String {
    let mut s =
        format!("{}/month, {:.1} min per build", money(c.total_monthly), c.minutes_per_build);
    if c.waiting_monthly > 0.0 {
        s.push_str(&format!(" (of which {} waiting)", money(c.waiting_monthly)));
    }
    if c.runtime_monthly_delta != 0.0 {
        s.push_str(&format!(" (of which {} runtime)", money(c.runtime_monthly_delta)));
    }
    s
}

/// The recommendation in sentences; the first is the choice.
pub fn sentences(plan: &Plan) -> Vec<String> {
    let p = &plan.profile;
    let mut out = Vec::new();
    let Some(best) = plan.recommended.and_then(|o| plan.option(o)) else {
        let fastest = plan
            .options
            .iter()
            .filter(|c| c.unavailable.is_none())
            .min_by(|a, b| a.minutes_per_build.total_cmp(&b.minutes_per_build));
        out.push(match (p.max_minutes_per_build, fastest) {
            (Some(max), Some(f)) => format!(
                "no option builds within --max-minutes-per-build {max:.1}: the fastest, {}, takes {:.1} min per build",
                f.option, f.minutes_per_build
            ),
            _ => "no option can build this project with the given inputs".to_owned(),
        });
        push_options(plan, None, &mut out);
        return out;
    };
    out.push(format!(
        "build with {} at {:.0} builds/month: {}",
        best.option,
        p.builds_per_month,
        priced(best)
    ));
    if let Some(s) = holds_line(plan) {
        out.push(s);
    }
    for o in &plan.within_margin {
        let c = plan.option(*o).expect("a priced option");
        let faster = best.minutes_per_build - c.minutes_per_build;
        out.push(format!(
            "{} is within {:.0}% ({}/month){}",
            c.option,
            100.0 * p.margin,
            money(c.total_monthly),
            if faster > 0.05 {
                format!(" and {faster:.1} min faster per build: the faster of the two")
            } else {
                String::new()
            }
        ));
    }
    push_options(plan, Some(best), &mut out);
    push_factors(plan, &mut out);
    out
}

fn push_options(plan: &Plan, best: Option<&OptionCost>, out: &mut Vec<String>) {
    for c in &plan.options {
        if best.is_some_and(|b| b.option == c.option) {
            continue;
        }
        let tail = match (&c.unavailable, c.meets_time_limit) {
            (Some(why), _) => format!(" — {why}"),
            (None, false) => " — over --max-minutes-per-build".to_owned(),
            _ => String::new(),
        };
        out.push(format!("{}: {}{tail}", c.option, priced(c)));
    }
    if let Some(b) = best {
        if let Some(emulate) = plan.option(BuildOption::Emulate) {
            let save = emulate.total_monthly - b.total_monthly;
            if b.option != BuildOption::Emulate && save > 0.0 && emulate.total_monthly > 0.0 {
                out.push(format!(
                    "saves {}/month ({:.0}%) against emulating on one runner",
                    money(save),
                    100.0 * save / emulate.total_monthly
                ));
            }
        }
        for be in plan
            .break_even
            .iter()
            .filter(|x| x.cheaper_below == b.option || x.cheaper_from == b.option)
        {
            out.push(format!(
                "{} is cheaper below {:.0} builds/month, {} from there on",
                be.cheaper_below, be.builds_per_month, be.cheaper_from
            ));
        }
    }
}

fn push_factors(plan: &Plan, out: &mut Vec<String>) {
    let f = &plan.factors;
    out.push(format!(
        "emulating costs {:.1}× native per arm64 build{}; cross-compiling {:.2}×{}; a native arm64 build {:.2}×{}",
        f.emulated.value,
        f.emulated.label(),
        f.cross.value,
        f.cross.label(),
        f.arm64_build.value,
        f.arm64_build.label()
    ));
    let m = &plan.migration;
    out.push(format!(
        "moving the service from {} to {}: {} → {}/month ({:+.0}%){}; moving pays while arm64 needs less than {:.2}× x86's instance-hours",
        m.x86_instance,
        m.arm64_instance,
        money(m.x86_monthly),
        money(m.arm64_monthly),
        -100.0 * m.saving_fraction,
        if m.modelled {
            ", at a MODELLED arm64 speed; merge bench results from an arm64 host to measure it"
        } else {
            ", at the measured arm64 speed"
        },
        m.break_even_arm64_runtime
    ));
    if !plan.stale_prices.is_empty() {
        out.push(format!(
            "prices older than {} months: {}; check their sources (`archbench plan --check-prices`)",
            crate::model::STALE_MONTHS,
            plan.stale_prices.iter().map(|s| format!("{} ({})", s.id, s.date)).collect::<Vec<_>>().join(", ")
        ));
    }
}

/// `holds while …`: the ranges of the factors the recommendation depends on.
fn holds_line(plan: &Plan) -> Option<String> {
    let best = plan.recommended?;
    let mut parts = Vec::new();
    for s in &plan.sensitivity {
        if s.factor == FactorId::Arm64Runtime {
            continue;
        }
        // Only factors that move some candidate's cost matter to the choice.
        let matters =
            plan.options.iter().any(|c| c.candidate() && c.option.uses().contains(&s.factor));
        if !matters {
            continue;
        }
        parts.push(format!(
            "{} {}{}",
            s.factor.label(),
            s.range_text(),
            plan.factors.get(s.factor).label()
        ));
    }
    (!parts.is_empty()).then(|| format!("{best} stays the choice while {}", parts.join("; ")))
}
