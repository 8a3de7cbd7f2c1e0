//! The cost model: every way to build priced per month, break-even volumes, the Graviton
//! migration, a recommendation derived from those numbers, and how far each factor may move
//! before the recommendation changes.
//!
//! [`plan`] resolves the catalog's prices for the plan's date, costs every
//! [`BuildOption`] ([`crate::options`] says how each is billed), lets [`crate::choose`] pick the
//! cheapest option that meets the wall-time limit, and asks [`crate::sensitivity`] over which
//! range of each factor that choice holds. Every factor says whether it was measured (and from
//! which results) or modelled (and why); every output repeats that label.

use jiff::civil::Date;

use crate::choose::{choose, Choice};
use crate::options::{describe, Prices};
use crate::pricing::{parse_date, Catalog, Kind, Quote, Stale};
use crate::sensitivity::sensitivity;
use crate::{Error, Result};

pub use crate::inputs::*;
pub use crate::outcome::{BreakEven, CurvePoint, Migration, OptionCost, Pending, Plan};
pub use crate::price::{evaluate, Context};
/// Every flag finite and from 0 to [`MAX_FLAG`] (issue 25: `--builds-per-month 1e308` made the
/// monthly figures infinite).
fn check(p: &Profile) -> Result<()> {
    for (what, v) in [
        ("--builds-per-month", p.builds_per_month),
        ("--minutes-per-build", p.minutes_per_build),
        ("--service-hours", p.service_hours_per_month),
        ("--free-minutes", p.free_minutes.unwrap_or(0.0)),
        ("--margin", p.margin),
        ("--margin-usd", p.margin_usd),
        ("--engineer-hourly", p.engineer_hourly),
        ("--waits-per-build", p.waits_per_build),
        ("--merge-minutes", p.merge_minutes),
        ("--max-minutes-per-build", p.max_minutes_per_build.unwrap_or(0.0)),
    ] {
        if !(v.is_finite() && (0.0..=MAX_FLAG).contains(&v)) {
            return Err(Error::Input(format!(
                "{what} must be a number from 0 to {MAX_FLAG:e}, not {}",
                archbench_results::check::shown(v)
            )));
        }
    }
    for (k, g) in p.given.iter().enumerate() {
        if p.given[..k].iter().any(|h| h.factor == g.factor) {
            return Err(Error::Input(format!(
                "--factor {} is given twice; give each factor once",
                g.factor.name()
            )));
        }
    }
    Ok(())
}

/// The largest value a volume, minute or price flag may take: far past any real CI (ten million
/// builds a month), and small enough that no product of flags, catalog prices (at most
/// [`crate::pricing::MAX_PRICE`]) and measured factors overflows into `inf` or `NaN`.
pub const MAX_FLAG: f64 = 1e7;

/// The day a profile prices on.
pub fn priced_on(p: &Profile) -> Result<Date> {
    match &p.date {
        Some(d) => parse_date(d)
            .ok_or_else(|| Error::Input(format!("--date {d:?} is not a YYYY-MM-DD date"))),
        None => Ok(jiff::tz::Offset::UTC.to_datetime(jiff::Timestamp::now()).date()),
    }
}

/// The prices a plan uses: after a public repository's free runners, and at list price; the
/// quotes they come from; the included minutes; the pending changes of the entries used.
struct Priced {
    prices: Prices,
    list: Prices,
    used: Vec<Quote>,
    included: crate::pricing::Included,
    pending: Vec<Pending>,
}

fn quotes(p: &Profile, catalog: &Catalog, day: Date) -> Result<Priced> {
    let quote = |id: &str, kind: Kind| catalog.price_assuming(id, kind, day, p.assume_pending);
    let runner = |id: &str| -> Result<(f64, Quote)> {
        let q = quote(id, Kind::Runner)?;
        let free = p.public_repo && catalog.get(id, Kind::Runner)?.free_for_public;
        Ok((if free { 0.0 } else { q.price }, q))
    };
    let (x64_minute, qx) = runner(&p.x64_runner)?;
    let (arm64_minute, qa) = runner(&p.arm64_runner)?;
    let (qw, qi, qg) = (
        quote(&p.arm64_worker, Kind::Instance)?,
        quote(&p.x86_instance, Kind::Instance)?,
        quote(&p.arm64_instance, Kind::Instance)?,
    );
    let mut used = vec![qx.clone(), qa.clone(), qw.clone(), qi.clone(), qg.clone()];
    // The default charge is GitHub's: it applies to GitHub's runners only, and a catalog
    // without it (one written before it existed) means no charge; a charge named with
    // --self-hosted-charge must exist.
    let charge = p.self_hosted_charge.as_deref().filter(|id| {
        *id != DEFAULT_SELF_HOSTED_CHARGE
            || catalog.entries.get(*id).is_some_and(|e| {
                catalog.entries.get(&p.x64_runner).is_some_and(|r| r.provider == e.provider)
            })
    });
    let (worker_minute, list_worker_minute) = match charge {
        Some(id) => {
            let (price, q) = runner(id)?;
            let list = q.price;
            used.push(q);
            (price, list)
        }
        None => (0.0, 0.0),
    };
    let included = catalog.included(p.ci_plan.as_deref(), p.free_minutes)?;
    let prices = Prices {
        x64_minute,
        arm64_minute,
        worker_hour: qw.price,
        worker_minute,
        x64_included: included.covers(&p.x64_runner),
        arm64_included: included.covers(&p.arm64_runner),
        x86_hour: qi.price,
        arm64_hour: qg.price,
    };
    let list = Prices {
        x64_minute: qx.price,
        arm64_minute: qa.price,
        worker_minute: list_worker_minute,
        ..prices
    };
    used.sort_by(|a, b| a.id.cmp(&b.id));
    used.dedup_by(|a, b| a.id == b.id);
    let pending = used
        .iter()
        .filter_map(|q| {
            let c = catalog.pending(&q.id)?;
            let now = if q.pending {
                catalog.price_on(&q.id, catalog.entries[&q.id].kind, day).ok()?.price
            } else {
                q.price
            };
            Some(Pending {
                id: q.id.clone(),
                price: now,
                pending_price: c.price,
                unit: catalog.entries[&q.id].unit,
                source: c.source.clone(),
                assumed: q.pending,
            })
        })
        .collect();
    Ok(Priced { prices, list, used, included, pending })
}

/// Break-evens between available options: the first volume, up to ten times the profile's
/// (at least 10,000), at which the cheaper of two changes.
fn break_even(ctx: &Context, f: &Factors) -> Vec<BreakEven> {
    let top = (ctx.profile.builds_per_month * 10.0).max(10_000.0) as u64;
    let base = evaluate(ctx, f, 0.0);
    let avail: Vec<usize> = (0..base.len()).filter(|&i| base[i].unavailable.is_none()).collect();
    // Money in whole cents: float noise (1e-14) between equal totals is no crossing.
    let cents = |v: &[OptionCost]| -> Vec<i64> {
        v.iter().map(|c| crate::choose::cents(c.total_monthly)).collect()
    };
    // The sign of each pair's difference where it was last non-zero: in whole cents two totals
    // are often equal exactly at the crossing, and the flip is seen on the far side of it.
    let first = cents(&base);
    let mut last = vec![vec![0i64; base.len()]; base.len()];
    for &i in &avail {
        for &j in &avail {
            last[i][j] = first[i].saturating_sub(first[j]).signum();
        }
    }
    let mut found: Vec<BreakEven> = Vec::new();
    let mut done = vec![vec![false; base.len()]; base.len()];
    for v in 1..=top {
        let now = cents(&evaluate(ctx, f, v as f64));
        for (x, &i) in avail.iter().enumerate() {
            for &j in &avail[x + 1..] {
                let d = now[i].saturating_sub(now[j]).signum();
                if d == 0 {
                    continue;
                }
                let before = std::mem::replace(&mut last[i][j], d);
                // "Cheaper below 1 build a month" says nothing (only at zero builds): such a
                // crossing is passed over, and a later one of the pair still counts.
                if done[i][j] || before == 0 || before == d || v < MIN_BREAK_EVEN {
                    continue;
                }
                done[i][j] = true;
                let (below, from) = if before < 0 { (i, j) } else { (j, i) };
                found.push(BreakEven {
                    cheaper_below: base[below].option,
                    cheaper_from: base[from].option,
                    builds_per_month: v as f64,
                });
            }
        }
    }
    found
}

fn migration(ctx: &Context, f: &Factors, catalog: &Catalog) -> Migration {
    let p = &ctx.profile;
    let x86_monthly = p.service_hours_per_month * ctx.prices.x86_hour;
    let arm = |factor: f64| p.service_hours_per_month * factor * ctx.prices.arm64_hour;
    let arm64_monthly = arm(f.arm64_runtime.value);
    let claim = catalog
        .entries
        .values()
        .find(|e| e.kind == Kind::Claim && e.arch == crate::pricing::Arch::Arm64)
        .map(|e| {
            format!(
                "{} ({}, {}) — a claim, not used in these figures",
                e.description, e.source, e.date
            )
        });
    Migration {
        x86_instance: p.x86_instance.clone(),
        arm64_instance: p.arm64_instance.clone(),
        x86_monthly,
        arm64_monthly,
        arm64_monthly_range: f.arm64_runtime.interval.map(|(lo, hi)| (arm(lo), arm(hi))),
        saving_monthly: x86_monthly - arm64_monthly,
        saving_fraction: if x86_monthly > 0.0 {
            (x86_monthly - arm64_monthly) / x86_monthly
        } else {
            0.0
        },
        break_even_arm64_runtime: if ctx.prices.arm64_hour > 0.0 {
            ctx.prices.x86_hour / ctx.prices.arm64_hour
        } else {
            f64::INFINITY
        },
        modelled: f.arm64_runtime.is_modelled(),
        claim,
    }
}

/// Break-evens below this volume are not kept: "cheaper below 1 build a month" holds only at
/// none.
pub const MIN_BREAK_EVEN: u64 = 2;

/// Compute the plan, with the user's factors (`profile.given`) in place of `factors`' own.
pub fn plan(profile: &Profile, factors: &Factors, catalog: &Catalog) -> Result<Plan> {
    check(profile)?;
    let factors = &factors.with_given(&profile.given);
    let day = priced_on(profile)?;
    let Priced { prices, list, used, included, pending } = quotes(profile, catalog, day)?;
    let ctx = Context { profile: profile.clone(), prices, list, free_minutes: included.minutes };
    let n = profile.builds_per_month;
    let mut options = evaluate(&ctx, factors, n);
    for o in &mut options {
        o.description = describe(o.option, profile);
    }
    let Choice { recommended, cheapest, within_margin, tie_rule } =
        choose(&options, profile.margin, profile.margin_usd);
    let break_even = break_even(&ctx, factors);
    // The chart spans twice the volume, or further to show where the recommendation stops
    // being cheapest (up to ten times the volume).
    let next_edge = break_even
        .iter()
        .filter(|b| Some(b.cheaper_below) == recommended && b.builds_per_month > n)
        .map(|b| b.builds_per_month * 1.25)
        .fold(0.0, f64::max);
    let max_n = (n * 2.0).max(50.0).max(next_edge.min(n * 10.0));
    let steps = 40;
    let curve = (0..=steps)
        .map(|k| {
            let v = max_n * k as f64 / steps as f64;
            let monthly = evaluate(&ctx, factors, v).iter().map(|c| c.total_monthly).collect();
            CurvePoint { builds_per_month: v, monthly }
        })
        .collect();
    let migration = migration(&ctx, factors, catalog);
    let stale: Vec<Stale> = catalog
        .stale(day, STALE_MONTHS)
        .into_iter()
        .filter(|s| used.iter().any(|q| q.id == s.id))
        .collect();
    let mut plan = Plan {
        profile: profile.clone(),
        priced_on: day.to_string(),
        prices: used,
        stale_prices: stale,
        factors: factors.clone(),
        break_even,
        sensitivity: sensitivity(&ctx, factors),
        options,
        recommended,
        cheapest,
        within_margin,
        tie_rule,
        included: Some(included),
        pending,
        curve,
        migration,
        recommendation: Vec::new(),
        skipped_inputs: Vec::new(),
    };
    plan.recommendation = crate::choose::sentences(&plan);
    Ok(plan)
}

#[cfg(test)]
mod tests;
