//! What a plan finds: every option priced, break-evens, the migration, each factor's range,
//! and the plan that holds them. Plain data, written by [`crate::model`] and read by
//! [`crate::choose`], the CLI and the report.

use serde::{Deserialize, Serialize};

use crate::inputs::FactorId;
use crate::inputs::{Factors, Profile};
use crate::options::{BuildOption, Job};
use crate::pricing::{Quote, Stale};

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

/// Which decision a factor feeds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    /// The recommended way to build.
    Build,
    /// Whether moving the service to arm64 saves money.
    Migration,
}

/// The range of one factor over which its decision holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sensitivity {
    /// The factor.
    pub factor: FactorId,
    /// The decision it feeds.
    pub decision: Decision,
    /// That decision at the factor's value (`cross`, `move to arm64`).
    pub holds: String,
    /// The factor's value.
    pub value: f64,
    /// Whether the value is modelled.
    pub modelled: bool,
    /// The factor's likely range, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval: Option<(f64, f64)>,
    /// The decision holds from this value…
    pub low: f64,
    /// …to this one.
    pub high: f64,
    /// What it becomes below `low`; `None`: it holds down to the end of the range tried.
    pub below: Option<String>,
    /// What it becomes above `high`; `None`: it holds up to the end of the range tried.
    pub above: Option<String>,
    /// Whether the whole likely range lies inside `low..=high` (when there is one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval_inside: Option<bool>,
}

impl Sensitivity {
    /// `0.62×–1.90×`, `up to 1.90×`, `from 0.62×`, or `any value tried (0.05×–20.00×)`.
    pub fn range_text(&self) -> String {
        match (&self.below, &self.above) {
            (Some(_), Some(_)) => format!("{:.2}×–{:.2}×", self.low, self.high),
            (None, Some(_)) => format!("up to {:.2}×", self.high),
            (Some(_), None) => format!("from {:.2}×", self.low),
            (None, None) => format!("at any value tried ({:.2}×–{:.2}×)", self.low, self.high),
        }
    }
}
