//! `archbench plan`: price every way to build and a Graviton migration from the results.

use std::path::{Path, PathBuf};

use anyhow::Context;
use archbench_exec::host::host_facts;
use archbench_plan::model::{priced_on, Basis, Plan, Profile, STALE_MONTHS};
use archbench_plan::pricing::Catalog;
use archbench_results::Envelope;
use clap::Args;

use super::flags::PlanFlags;
use crate::output::{print_json, Align, Table};

/// What each way of building amd64 + arm64 images would cost per month at your volume
/// (emulated or cross-compiled on one runner or as a matrix, native arm64 on hosted runners or
/// a self-hosted worker, Wasm), which one to use and how far the figures may move before that
/// changes, and what moving your service to Graviton would cost; from the `build` and `bench`
/// results in a directory. Factors nothing measured are modelled and labelled so.
#[derive(Args)]
pub struct PlanCommand {
    /// Directory of results files (`archbench build -o`, `archbench bench -o`); default
    /// reports/latest when it exists, else every factor is modelled.
    #[arg(long, value_name = "DIR")]
    results: Option<PathBuf>,
    #[command(flatten)]
    plan: PlanFlags,
    /// List the pricing catalog's entries with their age, warn about any older than 12 months,
    /// and stop.
    #[arg(long)]
    check_prices: bool,
    /// Also write the plan envelope (kind "plan") to this file, atomically.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    output: Option<PathBuf>,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

impl PlanCommand {
    pub fn execute(self) -> anyhow::Result<()> {
        if self.check_prices {
            return check_prices(&self.plan, self.json);
        }
        let env =
            compute(self.results.as_deref(), self.plan.pricing.as_deref(), &self.plan.profile())?;
        if let Some(out) = &self.output {
            archbench_results::write_atomic(out, &env)
                .with_context(|| format!("writing {}", out.display()))?;
        }
        if self.json {
            return print_json(&env);
        }
        print_plan(&env.payload);
        Ok(())
    }
}

fn check_prices(flags: &PlanFlags, json: bool) -> anyhow::Result<()> {
    let catalog = flags.catalog()?;
    let day = priced_on(&flags.profile())?;
    let stale = catalog.stale(day, STALE_MONTHS);
    if json {
        return print_json(
            &serde_json::json!({ "priced_on": day.to_string(), "entries": catalog.entries, "stale": stale }),
        );
    }
    println!("prices in force on {day} are marked *");
    let mut table = Table::new(
        0,
        &[
            ("entry", Align::Left),
            ("kind", Align::Left),
            ("price", Align::Right),
            ("per", Align::Left),
            ("from", Align::Left),
            ("read", Align::Left),
            ("source", Align::Left),
        ],
    );
    for (id, e) in &catalog.entries {
        let q = catalog.price_on(id, e.kind, day)?;
        let per = e.kind.unit().to_string();
        let mark = |from: Option<&String>| {
            if q.effective_from.as_ref() == from && !q.pending {
                "*"
            } else {
                " "
            }
        };
        table.row([
            id.clone(),
            e.kind.to_string(),
            // The mark after the number: right-aligned, both stay in their columns.
            format!("{:.5}{}", e.price, mark(None)),
            per.clone(),
            String::new(),
            e.date.clone(),
            e.source.clone(),
        ]);
        for c in &e.changes {
            let (m, from) = match &c.from {
                Some(f) => (mark(Some(f)), f.as_str()),
                None => (" ", "pending"),
            };
            table.row([
                String::new(),
                String::new(),
                format!("{:.5}{m}", c.price),
                per.clone(),
                from.to_owned(),
                c.date.clone(),
                c.source.clone(),
            ]);
        }
    }
    table.print();
    for (id, plan) in &catalog.plans {
        println!(
            "plan {id:<29} {:>7.0} included minutes a month, for {}  ({}, read {})",
            plan.included_minutes,
            plan.covers.join(", "),
            plan.source,
            plan.date
        );
    }
    for s in &stale {
        eprintln!(
            "warning: {} was read {} ({} months before {day}); check its source and update price and date",
            s.id, s.date, s.months
        );
    }
    if stale.is_empty() {
        println!("\nevery price was read within {STALE_MONTHS} months of {day}");
    }
    Ok(())
}

/// Load results and pricing, and compute the plan envelope. `results`: a directory that must
/// exist; `None`: reports/latest when it exists, else no results (every factor modelled).
/// Results files that are skipped are warned about and listed in the plan.
pub fn compute(
    results: Option<&Path>,
    pricing: Option<&Path>,
    profile: &Profile,
) -> anyhow::Result<Envelope<Plan>> {
    let catalog = match pricing {
        Some(p) => Catalog::load(p)?,
        None => Catalog::builtin(),
    };
    let latest = Path::new("reports/latest");
    let inputs = match results {
        Some(dir) => archbench_results::dir::load(dir).with_context(|| {
            format!("--results {}: pass a directory written by `archbench bench -o` or `archbench build -o`", dir.display())
        })?,
        None if latest.is_dir() => archbench_results::dir::load(latest)?,
        None => {
            tracing::warn!("no --results and no reports/latest: every factor will be modelled");
            Default::default()
        }
    };
    for s in inputs.skip_notes() {
        tracing::warn!("{s}");
    }
    compute_from(&inputs, &catalog, profile)
}

/// The plan envelope from results already loaded (the report loads them once for the charts
/// and the plan alike): [`archbench_plan::compute`] with this machine's facts around it.
pub fn compute_from(
    inputs: &archbench_results::dir::Results,
    catalog: &Catalog,
    profile: &Profile,
) -> anyhow::Result<Envelope<Plan>> {
    let p = archbench_plan::compute(inputs, catalog, profile)?;
    Ok(Envelope::begin(archbench_results::Kind::Plan, host_facts(None), p).finish())
}

pub fn print_plan(p: &Plan) {
    println!("factors:");
    for (n, f) in p.factors.named() {
        let how = match &f.basis {
            Basis::Measured { from } => format!("measured: {from}"),
            Basis::Modelled { why } => format!("MODELLED: {why}"),
            Basis::Given { from } => format!("given: {from}"),
        };
        let band = f.interval.map(|(lo, hi)| format!(" [{lo:.2}–{hi:.2}]")).unwrap_or_default();
        println!("  {n:<24} {:>6.2}×{band}  {how}", f.value);
        for x in &f.excluded {
            println!("  {:<24}         left out {}: {}", "", x.workload, x.why);
        }
    }
    println!(
        "\nat {:.0} builds/month of {:.1} min, prices of {}:",
        p.profile.builds_per_month, p.profile.minutes_per_build, p.priced_on
    );
    let mut table = Table::new(
        0,
        &[
            ("", Align::Left),
            ("option", Align::Left),
            ("USD/month", Align::Right),
            ("min/build", Align::Right),
            ("billed", Align::Right),
            ("jobs", Align::Left),
        ],
    );
    for c in &p.options {
        let mark = if Some(c.option) == p.recommended { "→" } else { " " };
        let jobs: Vec<String> =
            c.jobs.iter().map(|j| format!("{} {:.1} min", j.what, j.minutes)).collect();
        let mut tail = String::new();
        if c.workers > 0.0 {
            tail.push_str(&format!(
                "; {:.0} worker(s), {:.0}% used",
                c.workers,
                100.0 * c.worker_utilisation
            ));
        }
        if let Some(why) = &c.unavailable {
            tail.push_str(&format!("; UNAVAILABLE: {why}"));
        } else if !c.meets_time_limit {
            tail.push_str("; over --max-minutes-per-build");
        }
        table.row([
            mark.to_owned(),
            c.option.name().to_owned(),
            format!("{:.2}", c.total_monthly),
            format!("{:.1}", c.minutes_per_build),
            format!("{:.0}", c.billed_minutes_per_build),
            format!("{}{tail}", jobs.join(" | ")),
        ]);
    }
    table.print();
    for b in &p.break_even {
        println!(
            "  break-even: {} is cheaper below {:.0} builds/month, {} from there on",
            b.cheaper_below, b.builds_per_month, b.cheaper_from
        );
    }
    print_billing_notes(p);
    println!("\nsensitivity (each factor alone, from 1/20 to 20 times its value):");
    for s in &p.sensitivity {
        let f = p.factors.get(s.factor);
        let ci = match (s.interval, s.interval_inside) {
            (Some((lo, hi)), Some(true)) => format!("; its range {lo:.2}–{hi:.2} lies inside"),
            (Some((lo, hi)), _) => format!("; its range {lo:.2}–{hi:.2} CROSSES an edge"),
            _ => String::new(),
        };
        println!(
            "  {:<24} {} holds {}{}{ci}",
            s.factor.label(),
            s.holds,
            s.range_text(),
            f.label()
        );
    }
    println!("\nrecommendation:");
    for (i, l) in p.recommendation.iter().enumerate() {
        println!("  {}{l}", if i == 0 { "→ " } else { "  " });
    }
    if let Some(c) = &p.migration.claim {
        println!("  note: {c}");
    }
}

/// Under the options table: which runners the included minutes pay for, and each pending
/// price change, priced or not.
fn print_billing_notes(p: &Plan) {
    if let Some(inc) = p.included.as_ref().filter(|i| i.minutes > 0.0) {
        let from = inc.plan.as_deref().map(|id| format!(" ({id})")).unwrap_or_default();
        match &inc.covers {
            Some(c) => println!(
                "  included minutes: {:.0} a month{from}, spent on {} only; other runners are billed from the first minute",
                inc.minutes,
                c.join(", ")
            ),
            None => println!(
                "  included minutes: {:.0} a month{from}, spent on every runner (the pricing catalog names no CI plan to say which)",
                inc.minutes
            ),
        }
    }
    for x in &p.pending {
        let per = x.unit.to_string();
        if x.assumed {
            println!(
                "  pending change ASSUMED (--assume-pending): {} at ${} a {per} instead of ${} ({})",
                x.id, x.pending_price, x.price, x.source
            );
        } else {
            println!(
                "  pending change not priced: {} would go from ${} to ${} a {per} ({}); price it with --assume-pending",
                x.id, x.price, x.pending_price, x.source
            );
        }
    }
}
