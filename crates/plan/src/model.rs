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

/// The pricing id of the provider's per-minute charge for self-hosted jobs that a profile uses
/// unless told otherwise: GitHub's (pending).
pub const DEFAULT_SELF_HOSTED_CHARGE: &str = "github-self-hosted";

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
    /// Included runner minutes per month; `None`: the CI plan's allowance (`ci_plan`), or none.
    pub free_minutes: Option<f64>,
    /// The CI plan (a `[plans.ID]` of the catalog) whose included minutes apply, and which
    /// runners they pay for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ci_plan: Option<String>,
    /// Price pending changes (announced, no date in force) as if they applied.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub assume_pending: bool,
    /// The provider's per-minute charge for jobs on self-hosted workers (pricing id of a
    /// runner entry); `None`: no such charge.
    pub self_hosted_charge: Option<String>,
    /// A public repository: runners marked `free_for_public` cost nothing.
    pub public_repo: bool,
    /// The project builds for wasm32-wasip1 and can ship as Wasm.
    pub wasm_ready: bool,
    /// Only options whose wall time per build is at most this are recommended.
    pub max_minutes_per_build: Option<f64>,
    /// Options whose monthly cost is within this fraction of the cheapest's (or within
    /// `margin_usd` of it, whichever is more) are even, and the fastest of them is recommended.
    pub margin: f64,
    /// The margin's floor in USD a month, so that $0.00 against $0.50 is even.
    pub margin_usd: f64,
    /// USD per engineer-hour spent waiting for a build; 0: waiting is not priced.
    pub engineer_hourly: f64,
    /// Engineers waiting on each build.
    pub waits_per_build: f64,
    /// The team's CI keeps a build cache: use the build ratios of warm rebuilds (`build
    /// --warm`, a rebuild after a one-line change) instead of cold builds, where there are any.
    pub warm: bool,
    /// Factors the user gives (`--factor NAME=VALUE[:LOW..HIGH]`), used in place of measured or
    /// modelled ones.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub given: Vec<Given>,
}

/// A factor the user gives, from their own measurements (`--factor`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Given {
    /// Which factor.
    pub factor: FactorId,
    /// Its value.
    pub value: f64,
    /// A range the user thinks it lies in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval: Option<(f64, f64)>,
}

impl Given {
    /// The largest factor a user may give: far past any slowdown seen (QEMU is 5–40×).
    pub const MAX: f64 = 1e3;
    /// The smallest: a thousandth of the native time, far below any build or run seen.
    pub const MIN: f64 = 1e-3;

    /// Parse `NAME=VALUE` or `NAME=VALUE:LOW..HIGH` (`emulated=6.2:5..8`).
    pub fn parse(s: &str) -> std::result::Result<Given, String> {
        let names = FactorId::ALL.map(FactorId::name).join(", ");
        let (name, rest) = s.split_once('=').ok_or_else(|| {
            format!("--factor {s:?}: give NAME=VALUE or NAME=VALUE:LOW..HIGH, NAME one of {names}")
        })?;
        let factor = FactorId::ALL
            .into_iter()
            .find(|f| f.name() == name.trim())
            .ok_or_else(|| format!("--factor {s:?}: no factor {name:?}; factors: {names}"))?;
        let number = |t: &str| -> std::result::Result<f64, String> {
            let v: f64 = t.trim().parse().map_err(|_| {
                format!("--factor {s:?}: {t:?} is not a number; give a ratio such as 1.2")
            })?;
            if v.is_finite() && (Given::MIN..=Given::MAX).contains(&v) {
                Ok(v)
            } else {
                Err(format!(
                    "--factor {s:?}: {t} is not a ratio from {} to {}",
                    Given::MIN,
                    Given::MAX
                ))
            }
        };
        let (value, interval) = match rest.split_once(':') {
            None => (number(rest)?, None),
            Some((v, range)) => {
                let (lo, hi) = range.split_once("..").ok_or_else(|| {
                    format!("--factor {s:?}: give the range as LOW..HIGH, such as 5..8")
                })?;
                let (v, lo, hi) = (number(v)?, number(lo)?, number(hi)?);
                if !(lo <= v && v <= hi) {
                    return Err(format!(
                        "--factor {s:?}: the range {lo}..{hi} must hold the value {v}"
                    ));
                }
                (v, Some((lo, hi)))
            }
        };
        Ok(Given { factor, value, interval })
    }

    /// As the user wrote it, for the factor's label.
    pub fn text(&self) -> String {
        match self.interval {
            Some((lo, hi)) => format!("--factor {}={}:{lo}..{hi}", self.factor.name(), self.value),
            None => format!("--factor {}={}", self.factor.name(), self.value),
        }
    }
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
            free_minutes: None,
            ci_plan: None,
            assume_pending: false,
            self_hosted_charge: Some(DEFAULT_SELF_HOSTED_CHARGE.into()),
            public_repo: false,
            wasm_ready: false,
            max_minutes_per_build: None,
            margin: 0.05,
            margin_usd: 1.0,
            engineer_hourly: 0.0,
            waits_per_build: 1.0,
            warm: false,
            given: Vec::new(),
        }
    }
}

/// Which factor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
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

    /// The name `--factor` takes.
    pub fn name(self) -> &'static str {
        match self {
            FactorId::Emulated => "emulated",
            FactorId::Cross => "cross",
            FactorId::Arm64Build => "arm64-build",
            FactorId::WasmBuild => "wasm-build",
            FactorId::WasmRuntime => "wasm-runtime",
            FactorId::Arm64Runtime => "arm64-runtime",
        }
    }

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
    /// Given by the user (`--factor`), from their own figures.
    Given {
        /// The flag as given.
        from: String,
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
    /// ` (measured)`, ` (modelled)` or ` (given)`, for sentences.
    pub fn label(&self) -> &'static str {
        match self.basis {
            Basis::Measured { .. } => " (measured)",
            Basis::Modelled { .. } => " (modelled)",
            Basis::Given { .. } => " (given)",
        }
    }
    /// `measured`, `modelled` or `given`, as a word.
    pub fn basis_word(&self) -> &'static str {
        match self.basis {
            Basis::Measured { .. } => "measured",
            Basis::Modelled { .. } => "modelled",
            Basis::Given { .. } => "given",
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

    fn slot(&mut self, id: FactorId) -> &mut Factor {
        match id {
            FactorId::Emulated => &mut self.emulated,
            FactorId::Cross => &mut self.cross,
            FactorId::Arm64Build => &mut self.arm64_build,
            FactorId::WasmBuild => &mut self.wasm_build,
            FactorId::WasmRuntime => &mut self.wasm_runtime,
            FactorId::Arm64Runtime => &mut self.arm64_runtime,
        }
    }

    /// A copy with one factor's value replaced.
    pub fn with_value(&self, id: FactorId, value: f64) -> Factors {
        let mut f = self.clone();
        f.slot(id).value = value;
        f
    }

    /// A copy with the user's factors in place of the measured or modelled ones; each is
    /// labelled given, with the flag.
    pub fn with_given(&self, given: &[Given]) -> Factors {
        let mut f = self.clone();
        for g in given {
            *f.slot(g.factor) = Factor {
                value: g.value,
                basis: Basis::Given { from: g.text() },
                interval: g.interval,
                workloads: Vec::new(),
                excluded: Vec::new(),
            };
        }
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
    /// The total at list prices: no included minutes, no free public runners. Breaks ties.
    #[serde(default)]
    pub list_monthly: f64,
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
    /// The fastest option within the margin of the cheapest that meets the limits; `None`
    /// when none does.
    pub recommended: Option<BuildOption>,
    /// The cheapest candidate (the recommended one unless a faster one is within the margin).
    #[serde(default)]
    pub cheapest: Option<BuildOption>,
    /// Options within the margin of the cheapest, other than the recommended one.
    pub within_margin: Vec<BuildOption>,
    /// How a tie among the options within the margin was broken, when there was one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tie_rule: Option<String>,
    /// The included minutes applied, and the runners they pay for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub included: Option<crate::pricing::Included>,
    /// Pending price changes of the entries used: priced only with `--assume-pending`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pending: Vec<Pending>,
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

/// A pending change of a price the plan uses.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Pending {
    /// The entry.
    pub id: String,
    /// Its price now.
    pub price: f64,
    /// The announced price.
    pub pending_price: f64,
    /// What the prices are per (`minute`, `hour`).
    pub unit: crate::pricing::Unit,
    /// Where the announcement is.
    pub source: String,
    /// Whether this plan priced it (`--assume-pending`).
    pub assumed: bool,
}

/// What `plan` needs besides the factors: the profile and the prices in force on its day.
#[derive(Debug, Clone)]
pub struct Context {
    /// The profile.
    pub profile: Profile,
    /// Per-unit prices, after a public repository's free runners.
    pub prices: Prices,
    /// List prices (no free public runners): the tie-break.
    pub list: Prices,
    /// Included minutes a month (spent on the runners `prices` marks included).
    pub free_minutes: f64,
}

/// Cost every option at `n` builds a month (descriptions left empty; [`plan`] fills them).
pub fn evaluate(ctx: &Context, f: &Factors, n: f64) -> Vec<OptionCost> {
    let p = &ctx.profile;
    BuildOption::ALL
        .iter()
        .map(|&option| {
            let (jobs, wall) = jobs(option, p, f);
            let (count, utilisation) = workers(&jobs, n);
            let build = build_monthly(&jobs, n, &ctx.prices, ctx.free_minutes);
            let list = build_monthly(&jobs, n, &ctx.list, 0.0);
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
                list_monthly: list + waiting + runtime,
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
