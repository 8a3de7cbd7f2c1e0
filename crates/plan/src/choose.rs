//! The recommendation, derived from the priced options and nothing else.
//!
//! The rule: among the options that can build the project and meet the wall-time limit
//! (candidates), find the cheapest by total monthly cost (builds, waiting, runtime change).
//! Every candidate within the margin of it (the profile's percentage of its cost, or its
//! floor in dollars, whichever is more) is even on cost, and the fastest of those is
//! recommended: a near tie on money is broken by time, and the output says what the minutes
//! saved cost per hour of waiting saved. Equal time is broken by cost, then by list price (no
//! included minutes, no free public runners), then by the order of [`BuildOption::ALL`]; the
//! rule that broke the tie is said.
//!
//! Decision: money is compared in whole cents and time in tenths of a minute, the units the
//! output prints, so that float noise (two totals 1e-14 apart) never decides, and two options
//! printed alike are treated alike.
//!
//! So no candidate is both cheaper and faster than the recommended one (a property test checks
//! this): those outside the margin are dearer, and none inside it is faster.

use crate::inputs::FactorId;
use crate::options::BuildOption;
use crate::outcome::{OptionCost, Plan};

/// The choice among the options.
#[derive(Debug, Clone, PartialEq)]
pub struct Choice {
    /// The recommended option; `None` when no option is a candidate.
    pub recommended: Option<BuildOption>,
    /// The cheapest candidate.
    pub cheapest: Option<BuildOption>,
    /// Other candidates within the margin of the cheapest (the cheapest among them when it is
    /// not the recommended one).
    pub within_margin: Vec<BuildOption>,
    /// The rule that broke a tie on cost and time, when there was one.
    pub tie_rule: Option<String>,
}

/// USD as whole cents, the unit money is compared in.
pub fn cents(usd: f64) -> i64 {
    (usd * 100.0).round() as i64
}

/// Minutes as whole tenths, the unit wall times are compared in.
pub fn tenths(minutes: f64) -> i64 {
    (minutes * 10.0).round() as i64
}

/// The highest cost, in cents, that is even with `cheapest` USD: within `margin` of it or
/// within `floor` USD, whichever is more.
pub fn margin_limit(cheapest: f64, margin: f64, floor: f64) -> i64 {
    // Saturating: at the flags' limits (1e7 builds of 1e7 minutes waited on at $1e7 an hour)
    // a total in cents reaches i64::MAX.
    cents(cheapest * (1.0 + margin)).max(cents(cheapest).saturating_add(cents(floor)))
}

/// Pick the fastest candidate within the margin of the cheapest (ties by cost, list price, the
/// order of the options), and name the others within the margin.
pub fn choose(options: &[OptionCost], margin: f64, floor: f64) -> Choice {
    let order = |o: BuildOption| BuildOption::ALL.iter().position(|&x| x == o);
    let mut candidates: Vec<&OptionCost> = options.iter().filter(|c| c.candidate()).collect();
    candidates
        .sort_by_key(|c| (cents(c.total_monthly), tenths(c.minutes_per_build), order(c.option)));
    let Some(cheapest) = candidates.first() else {
        return Choice {
            recommended: None,
            cheapest: None,
            within_margin: Vec::new(),
            tie_rule: None,
        };
    };
    let limit = margin_limit(cheapest.total_monthly, margin, floor);
    let mut even: Vec<&OptionCost> =
        candidates.iter().copied().filter(|c| cents(c.total_monthly) <= limit).collect();
    even.sort_by_key(|c| {
        (
            tenths(c.minutes_per_build),
            cents(c.total_monthly),
            cents(c.list_monthly),
            order(c.option),
        )
    });
    let best = even[0];
    let name = best.option;
    // The options that tie with the best on the first key(s) say which rule decided.
    let same_time: Vec<&OptionCost> = even[1..]
        .iter()
        .copied()
        .filter(|c| tenths(c.minutes_per_build) == tenths(best.minutes_per_build))
        .collect();
    // Each rule names only the options that tie with the best on every key before it.
    let names =
        |v: &[&OptionCost]| v.iter().map(|c| c.option.name()).collect::<Vec<_>>().join(", ");
    let same_cost: Vec<&OptionCost> = same_time
        .iter()
        .copied()
        .filter(|c| cents(c.total_monthly) == cents(best.total_monthly))
        .collect();
    let same_list: Vec<&OptionCost> = same_cost
        .iter()
        .copied()
        .filter(|c| cents(c.list_monthly) == cents(best.list_monthly))
        .collect();
    let tie_rule = (!same_time.is_empty()).then(|| {
        let time = format!("{:.1} min per build", best.minutes_per_build);
        if same_cost.is_empty() {
            format!(
                "{name} and {} take {time}: {name} is named for its lower cost ({}/month)",
                names(&same_time),
                money(best.total_monthly)
            )
        } else if same_list.is_empty() {
            format!(
                "{name} and {} take {time} and cost {}/month: {name} is named for its lower list price ({} against {}, before included minutes and free public runners)",
                names(&same_cost),
                money(best.total_monthly),
                money(best.list_monthly),
                money(same_cost[0].list_monthly)
            )
        } else {
            let head = format!("{name} and {} take {time}", names(&same_list));
            format!(
                "{head}, cost {}/month and list at {}: {name} is named as the first in archbench's order of options",
                money(best.total_monthly),
                money(best.list_monthly)
            )
        }
    });
    let within_margin = even.iter().filter(|c| c.option != best.option).map(|c| c.option).collect();
    // Of options that cost the same, the recommended one is the cheapest.
    let cheapest =
        if cents(cheapest.total_monthly) == cents(best.total_monthly) { best } else { cheapest };
    Choice {
        recommended: Some(best.option),
        cheapest: Some(cheapest.option),
        within_margin,
        tie_rule,
    }
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
    let cheapest = plan.cheapest.and_then(|o| plan.option(o)).filter(|c| c.option != best.option);
    let margin_text = format!("{:.0}% or {}", 100.0 * p.margin, money(p.margin_usd));
    if let Some(c) = cheapest {
        // What the faster option costs more to build (and run), waiting left out: the price
        // of the hours of waiting it saves.
        let own = |o: &OptionCost| o.total_monthly - o.waiting_monthly;
        let dearer = (own(best) - own(c)).max(0.0);
        let minutes = c.minutes_per_build - best.minutes_per_build;
        let hours = p.builds_per_month * minutes / 60.0 * p.waits_per_build;
        let per_hour = if hours > 0.0 {
            format!(": {} per hour of waiting saved ({hours:.0} h a month)", money(dearer / hours))
        } else {
            String::new()
        };
        out.push(format!(
            "the cheapest, {} at {}/month and {:.1} min per build, is within the margin ({margin_text}): the faster is named, {minutes:.1} min faster per build for {} a month more in builds{per_hour}",
            c.option,
            money(c.total_monthly),
            c.minutes_per_build,
            money(dearer),
        ));
    }
    if let Some(rule) = &plan.tie_rule {
        out.push(format!("tie: {rule}"));
    }
    if let Some(s) = holds_line(plan) {
        out.push(s);
    }
    let base = cheapest.unwrap_or(best);
    for o in &plan.within_margin {
        let c = plan.option(*o).expect("a priced option");
        if Some(c.option) == cheapest.map(|x| x.option) {
            continue;
        }
        let by_share = cents(c.total_monthly) <= cents(base.total_monthly * (1.0 + p.margin));
        let slower = c.minutes_per_build - best.minutes_per_build;
        out.push(format!(
            "{} is within {} ({}/month){}",
            c.option,
            if by_share { format!("{:.0}%", 100.0 * p.margin) } else { money(p.margin_usd) },
            money(c.total_monthly),
            if slower >= 0.05 {
                format!(" but {slower:.1} min slower per build")
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
        match plan.factors.arm64_runtime.basis {
            crate::inputs::Basis::Modelled { .. } => {
                ", at a MODELLED arm64 speed; merge bench results from an arm64 host to measure it"
            }
            crate::inputs::Basis::Given { .. } => ", at the arm64 speed given with --factor",
            crate::inputs::Basis::Measured { .. } => ", at the measured arm64 speed",
        },
        m.break_even_arm64_runtime
    ));
    if !plan.stale_prices.is_empty() {
        out.push(format!(
            "prices older than {} months: {}; check their sources (`archbench plan --check-prices`)",
            crate::inputs::STALE_MONTHS,
            plan.stale_prices.iter().map(|s| format!("{} ({})", s.id, s.date)).collect::<Vec<_>>().join(", ")
        ));
    }
}

/// `holds while …`: every factor whose change within the range tried changes the choice
/// (whether or not the options it prices are candidates now: a faster emulation can bring an
/// option under the time limit), each with its edges, and a warning where its likely range
/// crosses one.
fn holds_line(plan: &Plan) -> Option<String> {
    let best = plan.recommended?;
    let mut parts = Vec::new();
    for s in &plan.sensitivity {
        if s.factor == FactorId::Arm64Runtime || (s.below.is_none() && s.above.is_none()) {
            continue;
        }
        let crosses = match (s.interval, s.interval_inside) {
            (Some((lo, hi)), Some(false)) => {
                format!(", though its likely range {lo:.2}–{hi:.2} crosses an edge")
            }
            _ => String::new(),
        };
        parts.push(format!(
            "{} {}{}{crosses}",
            s.factor.label(),
            s.range_text(),
            plan.factors.get(s.factor).label()
        ));
    }
    Some(if parts.is_empty() {
        format!("{best} stays the choice at any value of each factor tried (1/20 to 20 times)")
    } else {
        format!("{best} stays the choice while {}", parts.join("; "))
    })
}
