//! `archbench plan`: price the build strategies and a Graviton migration from the results.

use std::path::PathBuf;

use anyhow::Context;
use archbench_exec::host::host_facts;
use archbench_plan::measure::{factors, load};
use archbench_plan::model::{plan, Basis, Plan, Profile};
use archbench_plan::pricing::Catalog;
use archbench_results::Envelope;
use clap::Args;

use crate::output::print_json;

/// What emulating, cross-compiling, native arm64 workers and Wasm would cost per month at your
/// volume, where they break even, and what moving your service to Graviton would cost, from
/// the `build` and `bench` results in a directory. Factors nothing measured are modelled and
/// labelled so.
#[derive(Args)]
pub struct PlanCommand {
    /// Directory of results files (`archbench build -o`, `archbench bench -o`).
    #[arg(long, default_value = "reports/latest", value_name = "DIR")]
    results: PathBuf,
    #[command(flatten)]
    plan: PlanFlags,
    /// Also write the plan envelope (kind "plan") to this file, atomically.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    output: Option<PathBuf>,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

/// The plan's inputs besides the results: prices and the user's volumes. Shared with `report`.
#[derive(Args)]
pub struct PlanFlags {
    /// Pricing catalog (default: the built-in fixtures/pricing.toml).
    #[arg(long, value_name = "FILE")]
    pub pricing: Option<PathBuf>,
    /// Multi-arch builds per month.
    #[arg(long, default_value_t = 400.0, value_name = "N")]
    builds_per_month: f64,
    /// Minutes of one native amd64 build of your project.
    #[arg(long, default_value_t = 10.0, value_name = "MIN")]
    minutes_per_build: f64,
    /// Service instance-hours per month (default: 4 instances all month).
    #[arg(long, default_value_t = 2920.0, value_name = "H")]
    service_hours: f64,
    /// x86 service instance (pricing id).
    #[arg(long, default_value = "c7i-large", value_name = "ID")]
    x86_instance: String,
    /// arm64 service instance (pricing id).
    #[arg(long, default_value = "c7g-large", value_name = "ID")]
    arm64_instance: String,
    /// Self-hosted arm64 build worker (pricing id).
    #[arg(long, default_value = "c7g-large", value_name = "ID")]
    arm64_worker: String,
    /// Hosted x64 runner (pricing id).
    #[arg(long, default_value = "github-linux-2core-x64", value_name = "ID")]
    x64_runner: String,
    /// Hosted arm64 runner (pricing id).
    #[arg(long, default_value = "github-linux-2core-arm64", value_name = "ID")]
    arm64_runner: String,
}

impl PlanFlags {
    /// The profile these flags describe.
    pub fn profile(&self) -> Profile {
        Profile {
            builds_per_month: self.builds_per_month,
            minutes_per_build: self.minutes_per_build,
            service_hours_per_month: self.service_hours,
            x64_runner: self.x64_runner.clone(),
            arm64_runner: self.arm64_runner.clone(),
            arm64_worker: self.arm64_worker.clone(),
            x86_instance: self.x86_instance.clone(),
            arm64_instance: self.arm64_instance.clone(),
            merge_minutes: 0.5,
        }
    }
}

impl PlanCommand {
    pub fn execute(self) -> anyhow::Result<()> {
        let env = compute(&self.results, self.plan.pricing.as_deref(), &self.plan.profile())?;
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

/// Load results and pricing, and compute the plan envelope.
pub fn compute(
    results: &std::path::Path,
    pricing: Option<&std::path::Path>,
    profile: &Profile,
) -> anyhow::Result<Envelope<Plan>> {
    let catalog = match pricing {
        Some(p) => Catalog::load(p)?,
        None => Catalog::builtin(),
    };
    let inputs = if results.is_dir() {
        load(results)?
    } else {
        tracing::warn!("{} does not exist: every factor will be modelled", results.display());
        Default::default()
    };
    let f = factors(&inputs);
    let p = plan(profile, &f, &catalog)?;
    Ok(Envelope::begin("plan", host_facts(None), p).finish())
}

pub fn print_plan(p: &Plan) {
    println!("factors:");
    for (n, f) in p.factors.named() {
        let how = match &f.basis {
            Basis::Measured { from } => format!("measured: {from}"),
            Basis::Modelled { why } => format!("MODELLED: {why}"),
        };
        println!("  {n:<24} {:>6.2}×  {how}", f.value);
    }
    println!(
        "\nat {:.0} builds/month of {:.1} min:",
        p.profile.builds_per_month, p.profile.minutes_per_build
    );
    for s in &p.strategies {
        println!(
            "  {:<13} ${:>9.2}/month  (${:.2} fixed + ${:.4}/build), {:>6.1} min/build{}",
            s.name,
            s.monthly,
            s.fixed_monthly,
            s.per_build,
            s.minutes_per_build,
            if s.runtime_monthly_delta != 0.0 {
                format!(", runtime {:+.2} $/month", s.runtime_monthly_delta)
            } else {
                String::new()
            }
        );
    }
    for b in &p.break_even {
        println!(
            "  break-even: {} is cheaper below {:.0} builds/month, {} above",
            b.cheaper_below, b.builds_per_month, b.cheaper_from
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
