//! Every way to produce the amd64 + arm64 images (and Wasm instead), as the jobs a CI provider
//! bills.
//!
//! With `m` the minutes of one native amd64 build of the user's project, `g` the minutes of the
//! job that merges per-platform images into one index, and the factors `e` (emulated/native),
//! `c` (cross/native), `a` (arm64/amd64 build) and `w` (Wasm/native build):
//!
//! | option | jobs per build | wall minutes |
//! |---|---|---|
//! | `emulate` | one x64 job of `m·(1+e)` | `m·(1+e)` |
//! | `emulate-matrix` | x64 jobs of `m` and `m·e`, then an x64 merge job of `g` | `max(m, m·e) + g` |
//! | `cross` | one x64 job of `m·(1+c)` | `m·(1+c)` |
//! | `cross-matrix` | x64 jobs of `m` and `m·c`, then a merge job | `max(m, m·c) + g` |
//! | `native-arm64-hosted` | an x64 job of `m`, a hosted arm64 job of `m·a`, a merge job | `max(m, m·a) + g` |
//! | `native-arm64-self-hosted` | an x64 job of `m`, `m·a` on a self-hosted worker, a merge job | `max(m, m·a) + g` |
//! | `wasm` | one x64 job of `m·w` | `m·w` |
//!
//! Billing follows the providers: each hosted job is rounded up to a whole minute, a CI plan's
//! included minutes pay only for the runners the plan covers (GitHub's standard runners: its
//! larger runners, Linux arm64 2-core among them, are billed from the first minute) and are
//! spent on the dearest covered minutes first, standard runners of a public repository cost
//! nothing, a self-hosted worker costs its instance price all month whatever it does, and a
//! provider's per-minute charge for self-hosted jobs (GitHub's, pending) is billed per job
//! rounded up, from the first minute.
//! A self-hosted worker's queue is not modelled: its wall time assumes it is free when a build
//! starts, and the output states its utilisation so a reader can judge that.

use serde::{Deserialize, Serialize};

use crate::inputs::{FactorId, Factors, Profile, HOURS_PER_MONTH};

/// One way to build.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum BuildOption {
    /// Both platforms on one x64 runner, arm64 `RUN` steps under QEMU.
    Emulate,
    /// One x64 runner per platform in parallel (arm64 under QEMU), then a merge job.
    EmulateMatrix,
    /// Both platforms on one x64 runner, arm64 with a cross toolchain.
    Cross,
    /// One x64 runner per platform in parallel (arm64 cross-compiled), then a merge job.
    CrossMatrix,
    /// amd64 on a hosted x64 runner, arm64 on a hosted arm64 runner, then a merge job.
    NativeArm64Hosted,
    /// amd64 on a hosted x64 runner, arm64 on self-hosted arm64 workers, then a merge job.
    NativeArm64SelfHosted,
    /// One wasm32-wasip1 build for every platform, run under a Wasm runtime.
    Wasm,
}

impl BuildOption {
    /// Every option, in output order.
    pub const ALL: [BuildOption; 7] = [
        BuildOption::Emulate,
        BuildOption::EmulateMatrix,
        BuildOption::Cross,
        BuildOption::CrossMatrix,
        BuildOption::NativeArm64Hosted,
        BuildOption::NativeArm64SelfHosted,
        BuildOption::Wasm,
    ];

    /// The option's name, as on the command line and in JSON.
    pub fn name(self) -> &'static str {
        match self {
            BuildOption::Emulate => "emulate",
            BuildOption::EmulateMatrix => "emulate-matrix",
            BuildOption::Cross => "cross",
            BuildOption::CrossMatrix => "cross-matrix",
            BuildOption::NativeArm64Hosted => "native-arm64-hosted",
            BuildOption::NativeArm64SelfHosted => "native-arm64-self-hosted",
            BuildOption::Wasm => "wasm",
        }
    }

    /// The factors its cost depends on.
    pub fn uses(self) -> &'static [FactorId] {
        match self {
            BuildOption::Emulate | BuildOption::EmulateMatrix => &[FactorId::Emulated],
            BuildOption::Cross | BuildOption::CrossMatrix => &[FactorId::Cross],
            BuildOption::NativeArm64Hosted | BuildOption::NativeArm64SelfHosted => {
                &[FactorId::Arm64Build]
            }
            BuildOption::Wasm => &[FactorId::WasmBuild, FactorId::WasmRuntime],
        }
    }
}

impl std::fmt::Display for BuildOption {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Where a job runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Host {
    /// The hosted x64 runner (`Profile::x64_runner`).
    X64Runner,
    /// The hosted arm64 runner (`Profile::arm64_runner`).
    Arm64Runner,
    /// A self-hosted arm64 worker (`Profile::arm64_worker`), paid by the month.
    Arm64Worker,
}

/// One CI job of a build.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Job {
    /// What it does (`amd64 + arm64 (emulated)`, `merge`).
    pub what: String,
    /// Where it runs.
    pub host: Host,
    /// Its minutes.
    pub minutes: f64,
    /// The minutes billed: rounded up to a whole minute on a hosted runner, 0 on a worker.
    pub billed_minutes: f64,
}

/// The prices one plan uses, per unit, resolved for the plan's date.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Prices {
    /// USD per x64 runner minute (0 for a public repository on a standard runner).
    pub x64_minute: f64,
    /// USD per arm64 runner minute (likewise).
    pub arm64_minute: f64,
    /// USD per self-hosted worker hour.
    pub worker_hour: f64,
    /// The provider's USD per minute of a job on a self-hosted worker (0 unless a charge is in
    /// force or assumed).
    pub worker_minute: f64,
    /// Whether the plan's included minutes pay for the x64 runner.
    pub x64_included: bool,
    /// Whether they pay for the arm64 runner.
    pub arm64_included: bool,
    /// USD per x86 service instance hour.
    pub x86_hour: f64,
    /// USD per arm64 service instance hour.
    pub arm64_hour: f64,
}

impl Prices {
    fn per_minute(&self, host: Host) -> f64 {
        match host {
            Host::X64Runner => self.x64_minute,
            Host::Arm64Runner => self.arm64_minute,
            Host::Arm64Worker => 0.0,
        }
    }
}

fn job(what: &str, host: Host, minutes: f64) -> Job {
    let billed = if host == Host::Arm64Worker { 0.0 } else { minutes.max(0.0).ceil() };
    Job { what: what.to_owned(), host, minutes, billed_minutes: billed }
}

/// The jobs of one build with `option`, and its wall minutes (parallel jobs overlap).
pub fn jobs(option: BuildOption, p: &Profile, f: &Factors) -> (Vec<Job>, f64) {
    let m = p.minutes_per_build;
    let g = p.merge_minutes;
    let one = |what: &str, minutes: f64| (vec![job(what, Host::X64Runner, minutes)], minutes);
    let matrix = |what: &str, arm: f64, arm_host: Host| {
        let jobs = vec![
            job("amd64", Host::X64Runner, m),
            job(what, arm_host, arm),
            job("merge", Host::X64Runner, g),
        ];
        (jobs, m.max(arm) + g)
    };
    match option {
        BuildOption::Emulate => one("amd64 + arm64 (emulated)", m * (1.0 + f.emulated.value)),
        BuildOption::EmulateMatrix => {
            matrix("arm64 (emulated)", m * f.emulated.value, Host::X64Runner)
        }
        BuildOption::Cross => one("amd64 + arm64 (cross)", m * (1.0 + f.cross.value)),
        BuildOption::CrossMatrix => matrix("arm64 (cross)", m * f.cross.value, Host::X64Runner),
        BuildOption::NativeArm64Hosted => {
            matrix("arm64 (native)", m * f.arm64_build.value, Host::Arm64Runner)
        }
        BuildOption::NativeArm64SelfHosted => {
            matrix("arm64 (native)", m * f.arm64_build.value, Host::Arm64Worker)
        }
        BuildOption::Wasm => one("wasm32-wasip1", m * f.wasm_build.value),
    }
}

/// Self-hosted workers needed for `n` builds a month, and their utilisation (0–1).
pub fn workers(jobs: &[Job], n: f64) -> (f64, f64) {
    let minutes: f64 =
        jobs.iter().filter(|j| j.host == Host::Arm64Worker).map(|j| j.minutes).sum::<f64>() * n;
    if minutes <= 0.0 && !jobs.iter().any(|j| j.host == Host::Arm64Worker) {
        return (0.0, 0.0);
    }
    let capacity = HOURS_PER_MONTH * 60.0;
    let count = (minutes / capacity).ceil().max(1.0);
    (count, minutes / (count * capacity))
}

/// The monthly USD of `n` builds with these jobs: self-hosted workers all month (and the
/// provider's charge per self-hosted minute), plus hosted minutes after the included ones
/// (spent on the dearest minutes of the runners they cover first).
pub fn build_monthly(jobs: &[Job], n: f64, prices: &Prices, free_minutes: f64) -> f64 {
    let (count, _) = workers(jobs, n);
    let worker_minutes: f64 = jobs
        .iter()
        .filter(|j| j.host == Host::Arm64Worker)
        .map(|j| j.minutes.max(0.0).ceil())
        .sum::<f64>()
        * n;
    let fixed =
        count * prices.worker_hour * HOURS_PER_MONTH + worker_minutes * prices.worker_minute;
    let mut by_price: Vec<(f64, f64, bool)> = Vec::new();
    for (host, included) in
        [(Host::X64Runner, prices.x64_included), (Host::Arm64Runner, prices.arm64_included)]
    {
        let minutes: f64 =
            jobs.iter().filter(|j| j.host == host).map(|j| j.billed_minutes).sum::<f64>() * n;
        if minutes > 0.0 {
            by_price.push((prices.per_minute(host), minutes, included));
        }
    }
    by_price.sort_by(|a, b| b.0.total_cmp(&a.0));
    let mut free = free_minutes.max(0.0);
    let mut hosted = 0.0;
    for (price, minutes, included) in by_price {
        let covered = if included { free.min(minutes) } else { 0.0 };
        free -= covered;
        hosted += (minutes - covered) * price;
    }
    fixed + hosted
}

/// In words, with the runner and worker ids of the profile.
pub fn describe(option: BuildOption, p: &Profile) -> String {
    match option {
        BuildOption::Emulate => {
            format!("both platforms on one {} runner, every arm64 RUN under QEMU", p.x64_runner)
        }
        BuildOption::EmulateMatrix => format!(
            "one {} runner per platform in parallel (arm64 under QEMU), then a merge job",
            p.x64_runner
        ),
        BuildOption::Cross => format!(
            "both platforms on one {} runner, arm64 compiled with a cross toolchain",
            p.x64_runner
        ),
        BuildOption::CrossMatrix => format!(
            "one {} runner per platform in parallel (arm64 cross-compiled), then a merge job",
            p.x64_runner
        ),
        BuildOption::NativeArm64Hosted => format!(
            "amd64 on {}, arm64 natively on hosted {} runners, then a merge job",
            p.x64_runner, p.arm64_runner
        ),
        BuildOption::NativeArm64SelfHosted => format!(
            "amd64 on {}, arm64 natively on self-hosted {} workers (paid all month), then a merge job",
            p.x64_runner, p.arm64_worker
        ),
        BuildOption::Wasm => format!(
            "one wasm32-wasip1 build on {} for every platform, run under a Wasm runtime",
            p.x64_runner
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inputs::Factor;

    fn factors(e: f64, c: f64, a: f64) -> Factors {
        Factors {
            emulated: Factor::measured(e, "t"),
            cross: Factor::measured(c, "t"),
            arm64_build: Factor::modelled(a, "t"),
            wasm_build: Factor::modelled(1.0, "t"),
            wasm_runtime: Factor::measured(1.5, "t"),
            arm64_runtime: Factor::modelled(a, "t"),
        }
    }

    const PRICES: Prices = Prices {
        x64_minute: 0.006,
        arm64_minute: 0.005,
        worker_hour: 0.0725,
        worker_minute: 0.0,
        x64_included: true,
        arm64_included: true,
        x86_hour: 0.0,
        arm64_hour: 0.0,
    };

    /// (option, e, c, a, minutes per build, merge) → (billed x64 minutes, billed arm64
    /// minutes, wall minutes), worked out by hand from the table in the module docs.
    #[test]
    fn jobs_round_each_job_up_and_overlap_parallel_ones() {
        use BuildOption::*;
        type Row = (BuildOption, f64, f64, f64, f64, f64, (f64, f64, f64));
        let cases: &[Row] = &[
            (Emulate, 6.35, 1.0, 1.0, 10.0, 0.5, (74.0, 0.0, 73.5)),
            (EmulateMatrix, 6.35, 1.0, 1.0, 10.0, 0.5, (10.0 + 64.0 + 1.0, 0.0, 64.0)),
            (Cross, 6.0, 0.983, 1.0, 10.0, 0.5, (20.0, 0.0, 19.83)),
            (CrossMatrix, 6.0, 0.983, 1.0, 10.0, 0.5, (10.0 + 10.0 + 1.0, 0.0, 10.5)),
            (NativeArm64Hosted, 6.0, 1.0, 1.2, 10.0, 0.5, (11.0, 12.0, 12.5)),
            (NativeArm64SelfHosted, 6.0, 1.0, 0.8, 10.0, 0.5, (11.0, 0.0, 10.5)),
            (Wasm, 6.0, 1.0, 1.0, 2.2, 0.5, (3.0, 0.0, 2.2)),
        ];
        for &(option, e, c, a, m, g, (x64, arm, wall)) in cases {
            let p = Profile { minutes_per_build: m, merge_minutes: g, ..Profile::default() };
            let (js, w) = jobs(option, &p, &factors(e, c, a));
            let billed =
                |h: Host| js.iter().filter(|j| j.host == h).map(|j| j.billed_minutes).sum::<f64>();
            assert_eq!(billed(Host::X64Runner), x64, "{option} x64");
            assert_eq!(billed(Host::Arm64Runner), arm, "{option} arm64");
            assert!((w - wall).abs() < 1e-9, "{option} wall {w} != {wall}");
        }
    }

    #[test]
    fn free_minutes_go_to_the_dearest_minutes_first() {
        let p = Profile { minutes_per_build: 10.0, merge_minutes: 0.5, ..Profile::default() };
        let (js, _) = jobs(BuildOption::NativeArm64Hosted, &p, &factors(6.0, 1.0, 1.0));
        // Per build: 11 x64 minutes at 0.006, 10 arm64 minutes at 0.005. 100 builds.
        let full = build_monthly(&js, 100.0, &PRICES, 0.0);
        assert!((full - (1100.0 * 0.006 + 1000.0 * 0.005)).abs() < 1e-9);
        // 1,500 free minutes: all 1,100 x64 minutes, then 400 of the arm64 ones.
        let some = build_monthly(&js, 100.0, &PRICES, 1500.0);
        assert!((some - 600.0 * 0.005).abs() < 1e-9, "{some}");
        assert_eq!(build_monthly(&js, 100.0, &PRICES, 1e9), 0.0);
    }

    /// Billing rules, one hand-worked row each: 50 builds of 10 minutes a month with hosted
    /// native arm64 (11 x64 minutes and 10 arm64 minutes a build) or a self-hosted worker.
    #[test]
    fn included_minutes_pay_only_for_the_runners_they_cover() {
        let p = Profile { minutes_per_build: 10.0, merge_minutes: 0.5, ..Profile::default() };
        let f = factors(6.0, 1.0, 1.0);
        let (hosted, _) = jobs(BuildOption::NativeArm64Hosted, &p, &f);
        let (own, _) = jobs(BuildOption::NativeArm64SelfHosted, &p, &f);
        let standard_only = Prices { arm64_included: false, ..PRICES };
        let charged = Prices { worker_minute: 0.002, ..standard_only };
        let worker_month = 0.0725 * HOURS_PER_MONTH;
        type Row<'a> = (&'static str, &'a [Job], Prices, f64, f64);
        let rows: [Row; 6] = [
            // 550 x64 minutes covered by 2,000; 500 arm64 minutes × $0.005: the issue's $2.50.
            ("arm64 is a larger runner", &hosted, standard_only, 2000.0, 500.0 * 0.005),
            // Both covered: 1,050 minutes in 2,000.
            ("both covered", &hosted, PRICES, 2000.0, 0.0),
            // 300 included minutes: x64 is the dearer covered minute, 250 x64 minutes remain.
            ("few included minutes", &hosted, standard_only, 300.0, 250.0 * 0.006 + 2.5),
            // No allowance: everything at list price.
            ("none included", &hosted, standard_only, 0.0, 550.0 * 0.006 + 2.5),
            // Self-hosted, no charge: the worker's month; x64 covered.
            ("self-hosted", &own, standard_only, 2000.0, worker_month),
            // With the per-minute charge: 10 minutes a job × 50 builds × $0.002 = $1.
            ("self-hosted, charged", &own, charged, 2000.0, worker_month + 1.0),
        ];
        for (name, js, prices, free, want) in rows {
            let got = build_monthly(js, 50.0, &prices, free);
            assert!((got - want).abs() < 1e-9, "{name}: {got} != {want}");
        }
    }

    #[test]
    fn self_hosted_workers_are_paid_all_month_and_added_when_full() {
        let p = Profile { minutes_per_build: 10.0, merge_minutes: 0.5, ..Profile::default() };
        let (js, _) = jobs(BuildOption::NativeArm64SelfHosted, &p, &factors(6.0, 1.0, 1.0));
        let (count, util) = workers(&js, 100.0);
        assert_eq!(count, 1.0);
        assert!((util - 1000.0 / 43_800.0).abs() < 1e-12);
        // 43,800 worker minutes fill one worker; one more build needs a second.
        assert_eq!(workers(&js, 4380.0).0, 1.0);
        assert_eq!(workers(&js, 4381.0).0, 2.0);
        let monthly = build_monthly(&js, 100.0, &PRICES, 0.0);
        assert!((monthly - (0.0725 * 730.0 + 1100.0 * 0.006)).abs() < 1e-9);
        // No builds: the worker still costs its month.
        assert!((build_monthly(&js, 0.0, &PRICES, 0.0) - 0.0725 * 730.0).abs() < 1e-9);
    }
}
