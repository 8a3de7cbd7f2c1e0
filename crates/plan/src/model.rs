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
use serde::{Deserialize, Serialize};

use crate::choose::{choose, Choice};
use crate::options::{build_monthly, describe, jobs, workers, BuildOption, Job, Prices};
use crate::pricing::{parse_date, Catalog, Kind, Quote, Stale};
use crate::sensitivity::{sensitivity, Sensitivity};
use crate::{Error, Result};

/// Hours in a month (365 × 24 / 12).
pub const HOURS_PER_MONTH: f64 = 730.0;

/// Prices whose figure is older than this many months are flagged.
pub const STALE_MONTHS: i64 = 12;

/// The user's situation and what they ask of a build.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Profile {
    /// Multi-arch builds per month.
    pub builds_per_month: f64,
    /// Minutes of one native amd64 build of the project.
    pub minutes_per_build: f64,
    /// Service instance-hours per month on x86 today.
    pub service_hours_per_month: f64,
    /// Hosted x64 runner (pricing id).
    pub x64_runner: String,
    /// Hosted arm64 runner (pricing id).
    pub arm64_runner: String,
    /// Self-hosted arm64 build worker instance (pricing id).
    pub arm64_worker: String,
    /// x86 service instance (pricing id).
    pub x86_instance: String,
    /// arm64 service instance (pricing id).
    pub arm64_instance: String,
    /// Minutes of the job that merges per-platform images into one index (matrix options).
    pub merge_minutes: f64,
    /// The day whose prices apply (`YYYY-MM-DD`); `None`: today.
    pub date: Option<String>,
    /// Included runner minutes per month (the plan's free allowance).
    pub free_minutes: f64,
    /// A public repository: runners marked `free_for_public` cost nothing.
    pub public_repo: bool,
    /// The project builds for wasm32-wasip1 and can ship as Wasm.
    pub wasm_ready: bool,
    /// Only options whose wall time per build is at most this are recommended.
    pub max_minutes_per_build: Option<f64>,
    /// Options whose monthly cost is within this fraction of the cheapest are called even.
    pub margin: f64,
    /// USD per engineer-hour spent waiting for a build; 0: waiting is not priced.
    pub engineer_hourly: f64,
    /// Engineers waiting on each build.
    pub waits_per_build: f64,
    /// The team's CI keeps a build cache: use the build ratios of warm rebuilds (`build
    /// --warm`, a rebuild after a one-line change) instead of cold builds, where there are any.
    pub warm: bool,
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
            date: None,
            free_minutes: 0.0,
            public_repo: false,
            wasm_ready: false,
            max_minutes_per_build: None,
            margin: 0.05,
            engineer_hourly: 0.0,
            waits_per_build: 1.0,
            warm: false,
        }
    }
}

/// Which factor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FactorId {
    /// Emulated arm64 build time / native amd64 build time.
    Emulated,
    /// Cross-compiled arm64 build time / native amd64 build time.
    Cross,
    /// Native arm64 build time / native amd64 build time.
    Arm64Build,
    /// Wasm build time / native build time.
    WasmBuild,
    /// Wasm run time / native run time.
    WasmRuntime,
    /// Service run time on arm64 / on x86.
    Arm64Runtime,
}

impl FactorId {
    /// Every factor, in output order.
    pub const ALL: [FactorId; 6] = [
        FactorId::Emulated,
        FactorId::Cross,
        FactorId::Arm64Build,
        FactorId::WasmBuild,
        FactorId::WasmRuntime,
        FactorId::Arm64Runtime,
    ];

    /// A name for people.
    pub fn label(self) -> &'static str {
        match self {
            FactorId::Emulated => "emulated / native build",
            FactorId::Cross => "cross / native build",
            FactorId::Arm64Build => "arm64 / amd64 build",
            FactorId::WasmBuild => "wasm / native build",
            FactorId::WasmRuntime => "wasm / native runtime",
            FactorId::Arm64Runtime => "arm64 / x86 runtime",
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

/// A workload a factor left out, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Excluded {
    /// The workload.
    pub workload: String,
    /// Why it is not comparable.
    pub why: String,
}

/// A ratio the model uses.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Factor {
    /// The ratio.
    pub value: f64,
    /// Measured or modelled.
    #[serde(flatten)]
    pub basis: Basis,
    /// A range the true value is likely in (from the cells' 95% CIs), when one is known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval: Option<(f64, f64)>,
    /// The workloads it combines.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub workloads: Vec<String>,
    /// The workloads it left out, with the reason.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub excluded: Vec<Excluded>,
}

impl Factor {
    /// A measured factor.
    pub fn measured(value: f64, from: impl Into<String>) -> Self {
        Self {
            value,
            basis: Basis::Measured { from: from.into() },
            interval: None,
            workloads: Vec::new(),
            excluded: Vec::new(),
        }
    }
    /// A modelled factor.
    pub fn modelled(value: f64, why: impl Into<String>) -> Self {
        Self {
            value,
            basis: Basis::Modelled { why: why.into() },
            interval: None,
            workloads: Vec::new(),
            excluded: Vec::new(),
        }
    }
    /// With a likely range.
    pub fn with_interval(mut self, lo: f64, hi: f64) -> Self {
        self.interval = Some((lo, hi));
        self
    }
    /// Whether modelled.
    pub fn is_modelled(&self) -> bool {
        matches!(self.basis, Basis::Modelled { .. })
    }
    /// ` (measured)` or ` (modelled)`, for sentences.
    pub fn label(&self) -> &'static str {
        if self.is_modelled() {
            " (modelled)"
        } else {
            " (measured)"
        }
    }
}

/// The ratios that turn an amd64 build into each option's cost.
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
    /// One factor.
    pub fn get(&self, id: FactorId) -> &Factor {
        match id {
            FactorId::Emulated => &self.emulated,
            FactorId::Cross => &self.cross,
            FactorId::Arm64Build => &self.arm64_build,
            FactorId::WasmBuild => &self.wasm_build,
            FactorId::WasmRuntime => &self.wasm_runtime,
            FactorId::Arm64Runtime => &self.arm64_runtime,
        }
    }

    /// A copy with one factor's value replaced.
    pub fn with_value(&self, id: FactorId, value: f64) -> Factors {
        let mut f = self.clone();
        let slot = match id {
            FactorId::Emulated => &mut f.emulated,
            FactorId::Cross => &mut f.cross,
            FactorId::Arm64Build => &mut f.arm64_build,
            FactorId::WasmBuild => &mut f.wasm_build,
            FactorId::WasmRuntime => &mut f.wasm_runtime,
            FactorId::Arm64Runtime => &mut f.arm64_runtime,
        };
        slot.value = value;
        f
    }

    /// Each factor with a name for people, in a fixed order.
    pub fn named(&self) -> [(&'static str, &Factor); 6] {
        FactorId::ALL.map(|id| (id.label(), self.get(id)))
    }
}

/// One way to build, priced.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OptionCost {
    /// Which option.
    pub option: BuildOption,
    /// In words.
    pub description: String,
    /// Why it cannot build this project (then it is shown, never recommended).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unavailable: Option<String>,
    /// The CI jobs of one build.
    pub jobs: Vec<Job>,
    /// Wall minutes until both platforms are pushed (parallel jobs overlap).
    pub minutes_per_build: f64,
    /// Hosted runner minutes billed per build (each job rounded up).
    pub billed_minutes_per_build: f64,
    /// Self-hosted workers needed at the profile's volume.
    pub workers: f64,
    /// Their utilisation (0–1), when there are any.
    pub worker_utilisation: f64,
    /// USD per month for the builds: runners after free minutes, plus workers.
    pub build_monthly: f64,
    /// USD per month of engineers waiting on builds (0 unless `engineer_hourly` is set).
    pub waiting_monthly: f64,
    /// Change in the service's monthly cost this option brings (Wasm's slower runtime), USD.
    pub runtime_monthly_delta: f64,
    /// Build + waiting + runtime change: what the recommendation compares.
    pub total_monthly: f64,
    /// Whether its wall time meets `max_minutes_per_build` (true when there is no limit).
    pub meets_time_limit: bool,
}

impl OptionCost {
    /// Whether the recommendation may pick it.
    pub fn candidate(&self) -> bool {
        self.unavailable.is_none() && self.meets_time_limit
    }
}

/// Two options' costs cross.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BreakEven {
    /// Cheaper below the volume.
    pub cheaper_below: BuildOption,
    /// Cheaper from the volume on.
    pub cheaper_from: BuildOption,
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
    /// USD per month on arm64 at the arm64 runtime factor.
    pub arm64_monthly: f64,
    /// arm64 monthly at the ends of the factor's interval, when it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arm64_monthly_range: Option<(f64, f64)>,
    /// x86 − arm64 (positive: arm64 saves).
    pub saving_monthly: f64,
    /// Saving as a fraction of the x86 cost.
    pub saving_fraction: f64,
    /// The arm64/x86 run-time ratio at which moving stops paying (the price ratio).
    pub break_even_arm64_runtime: f64,
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
    /// Total USD per month per option, in the order of `options`.
    pub monthly: Vec<f64>,
}

/// The plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    /// Inputs.
    pub profile: Profile,
    /// The day whose prices were used.
    pub priced_on: String,
    /// The prices used, with source and date.
    pub prices: Vec<Quote>,
    /// Prices used whose figure is older than [`STALE_MONTHS`].
    pub stale_prices: Vec<Stale>,
    /// Factors used.
    pub factors: Factors,
    /// Every way to build, priced.
    pub options: Vec<OptionCost>,
    /// The cheapest option that meets the limits; `None` when none does.
    pub recommended: Option<BuildOption>,
    /// Options within the margin of the recommended one.
    pub within_margin: Vec<BuildOption>,
    /// Where options' costs cross.
    pub break_even: Vec<BreakEven>,
    /// Monthly cost against volume (for the chart).
    pub curve: Vec<CurvePoint>,
    /// For each factor, the range over which the decision it feeds stays the same.
    pub sensitivity: Vec<Sensitivity>,
    /// The service migration.
    pub migration: Migration,
    /// The recommendation in sentences, the first one the choice.
    pub recommendation: Vec<String>,
    /// Results files the reader passed over, each with the reason (set by the caller).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub skipped_inputs: Vec<String>,
}

impl Plan {
    /// One option's cost.
    pub fn option(&self, o: BuildOption) -> Option<&OptionCost> {
        self.options.iter().find(|c| c.option == o)
    }
}

/// What `plan` needs besides the factors: the profile and the prices in force on its day.
#[derive(Debug, Clone)]
pub struct Context {
    /// The profile.
    pub profile: Profile,
    /// Per-unit prices.
    pub prices: Prices,
}

/// Cost every option at `n` builds a month (descriptions left empty; [`plan`] fills them).
pub fn evaluate(ctx: &Context, f: &Factors, n: f64) -> Vec<OptionCost> {
    let p = &ctx.profile;
    BuildOption::ALL
        .iter()
        .map(|&option| {
            let (jobs, wall) = jobs(option, p, f);
            let (count, utilisation) = workers(&jobs, n);
            let build = build_monthly(&jobs, n, &ctx.prices, p.free_minutes);
            let waiting = n * wall / 60.0 * p.engineer_hourly * p.waits_per_build;
            let runtime = if option == BuildOption::Wasm {
                p.service_hours_per_month * ctx.prices.x86_hour * (f.wasm_runtime.value - 1.0)
            } else {
                0.0
            };
            let unavailable = (option == BuildOption::Wasm && !p.wasm_ready).then(|| {
                "not Wasm-ready: pass --wasm-ready if the project builds for wasm32-wasip1 and runs under a Wasm runtime".to_owned()
            });
            OptionCost {
                option,
                // Filled once by `plan`: the scans evaluate thousands of times and need none.
                description: String::new(),
                unavailable,
                billed_minutes_per_build: jobs.iter().map(|j| j.billed_minutes).sum(),
                jobs,
                minutes_per_build: wall,
                workers: count,
                worker_utilisation: utilisation,
                build_monthly: build,
                waiting_monthly: waiting,
                runtime_monthly_delta: runtime,
                total_monthly: build + waiting + runtime,
                meets_time_limit: p.max_minutes_per_build.is_none_or(|max| wall <= max),
            }
        })
        .collect()
}

/// Every flag finite and from 0 to [`MAX_FLAG`] (issue 25: `--builds-per-month 1e308` made the
/// monthly figures infinite).
fn check(p: &Profile) -> Result<()> {
    for (what, v) in [
        ("--builds-per-month", p.builds_per_month),
        ("--minutes-per-build", p.minutes_per_build),
        ("--service-hours", p.service_hours_per_month),
        ("--free-minutes", p.free_minutes),
        ("--margin", p.margin),
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

fn quotes(p: &Profile, catalog: &Catalog, day: Date) -> Result<(Prices, Vec<Quote>)> {
    let runner = |id: &str| -> Result<(f64, Quote)> {
        let q = catalog.price_on(id, Kind::Runner, day)?;
        let free = p.public_repo && catalog.get(id, Kind::Runner)?.free_for_public;
        Ok((if free { 0.0 } else { q.price }, q))
    };
    let instance = |id: &str| catalog.price_on(id, Kind::Instance, day);
    let (x64_minute, qx) = runner(&p.x64_runner)?;
    let (arm64_minute, qa) = runner(&p.arm64_runner)?;
    let (qw, qi, qg) =
        (instance(&p.arm64_worker)?, instance(&p.x86_instance)?, instance(&p.arm64_instance)?);
    let prices = Prices {
        x64_minute,
        arm64_minute,
        worker_hour: qw.price,
        x86_hour: qi.price,
        arm64_hour: qg.price,
    };
    let mut used = vec![qx, qa, qw, qi, qg];
    used.sort_by(|a, b| a.id.cmp(&b.id));
    used.dedup_by(|a, b| a.id == b.id);
    Ok((prices, used))
}

/// Break-evens between available options: the first volume, up to ten times the profile's
/// (at least 10,000), at which the cheaper of two changes.
fn break_even(ctx: &Context, f: &Factors) -> Vec<BreakEven> {
    let top = (ctx.profile.builds_per_month * 10.0).max(10_000.0) as u64;
    let base = evaluate(ctx, f, 0.0);
    let avail: Vec<usize> = (0..base.len()).filter(|&i| base[i].unavailable.is_none()).collect();
    let mut prev: Vec<f64> = base.iter().map(|c| c.total_monthly).collect();
    let mut found: Vec<BreakEven> = Vec::new();
    let mut done = vec![vec![false; base.len()]; base.len()];
    for v in 1..=top {
        let now: Vec<f64> = evaluate(ctx, f, v as f64).iter().map(|c| c.total_monthly).collect();
        for (x, &i) in avail.iter().enumerate() {
            for &j in &avail[x + 1..] {
                let (d0, d1) = (prev[i] - prev[j], now[i] - now[j]);
                if !done[i][j] && d0 != 0.0 && d1 != 0.0 && d0.signum() != d1.signum() {
                    done[i][j] = true;
                    let (below, from) = if d0 < 0.0 { (i, j) } else { (j, i) };
                    found.push(BreakEven {
                        cheaper_below: base[below].option,
                        cheaper_from: base[from].option,
                        builds_per_month: v as f64,
                    });
                }
            }
        }
        prev = now;
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

/// Compute the plan.
pub fn plan(profile: &Profile, factors: &Factors, catalog: &Catalog) -> Result<Plan> {
    check(profile)?;
    let day = priced_on(profile)?;
    let (prices, used) = quotes(profile, catalog, day)?;
    let ctx = Context { profile: profile.clone(), prices };
    let n = profile.builds_per_month;
    let mut options = evaluate(&ctx, factors, n);
    for o in &mut options {
        o.description = describe(o.option, profile);
    }
    let Choice { recommended, within_margin } = choose(&options, profile.margin);
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
        within_margin,
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
