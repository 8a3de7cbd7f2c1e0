//! One option priced at one volume: the inner step of the plan, its break-even scan and its
//! sensitivity scans.

use crate::inputs::{Factors, Profile};
use crate::options::{build_monthly, jobs, workers, BuildOption, Prices};
use crate::outcome::OptionCost;

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
