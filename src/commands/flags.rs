//! Flags more than one command takes, in one place: registry access (`image`, `verify`,
//! `identify`, `build`, `base`), the plan's inputs (`plan`, `report`) and the Wasm memory cap
//! (`run`, `bench`).

use std::path::PathBuf;

use anyhow::Context;
use archbench_oci::registry::auth::Credentials;
use archbench_oci::RegistryOptions;
use archbench_plan::model::{Given, Profile};
use archbench_plan::pricing::Catalog;
use clap::Args;

/// Flags for reaching registries.
#[derive(Args, Clone)]
pub struct RegistryFlags {
    /// Allow plain HTTP and unverified TLS for registries that are not on loopback.
    #[arg(long, global = true)]
    insecure: bool,

    /// Trust this CA certificate (PEM) for registry TLS; repeatable.
    /// `/etc/docker/certs.d/HOST/ca.crt` is read as well.
    #[arg(long, value_name = "FILE", global = true)]
    ca_cert: Vec<PathBuf>,

    /// Registry user (with ARCHBENCH_REGISTRY_PASSWORD); default: the Docker config's credentials.
    #[arg(long, value_name = "USER", global = true)]
    username: Option<String>,

    /// Seconds to wait for a registry's answer, or for the next bytes of a download, before
    /// giving up (GET and HEAD are tried 3 times); uploads may take up to an hour.
    #[arg(long, value_name = "SECS", default_value_t = 30, global = true,
          value_parser = clap::value_parser!(u64).range(1..))]
    registry_timeout: u64,
}

impl RegistryFlags {
    pub fn options(&self) -> anyhow::Result<RegistryOptions> {
        let credentials = match &self.username {
            Some(u) => Some(Credentials {
                username: u.clone(),
                secret: std::env::var("ARCHBENCH_REGISTRY_PASSWORD").context(
                    "--username needs the password in ARCHBENCH_REGISTRY_PASSWORD (never on the command line)",
                )?,
                source: "--username".into(),
            }),
            None => None,
        };
        Ok(RegistryOptions {
            insecure: self.insecure,
            ca_certs: self.ca_cert.clone(),
            credentials,
            idle_timeout: Some(std::time::Duration::from_secs(self.registry_timeout)),
        })
    }
}

/// The plan's inputs besides the results: prices and the user's volumes. Shared with `report`.
#[derive(Args)]
pub struct PlanFlags {
    /// Pricing catalog (default: the built-in fixtures/pricing.toml).
    #[arg(long, value_name = "FILE")]
    pub pricing: Option<PathBuf>,
    /// Multi-arch builds per month.
    #[arg(long, default_value_t = 400.0, value_name = "N")]
    pub builds_per_month: f64,
    /// Minutes of one native amd64 build of your project.
    #[arg(long, default_value_t = 10.0, value_name = "MIN")]
    minutes_per_build: f64,
    /// Recommend only options whose wall time per build is at most this.
    #[arg(long, value_name = "MIN")]
    max_minutes_per_build: Option<f64>,
    /// Options whose monthly cost is within this percentage of the cheapest (or within
    /// --margin-usd of it, whichever is more) are even, and the fastest of them is recommended.
    #[arg(long, default_value_t = 5.0, value_name = "PERCENT")]
    margin: f64,
    /// The margin's floor in USD a month, so that $0.00 against $0.50 counts as even.
    #[arg(long, default_value_t = 1.0, value_name = "USD")]
    margin_usd: f64,
    /// Use your own figure for a factor, e.g. from your CI logs: NAME=VALUE or
    /// NAME=VALUE:LOW..HIGH (the range it likely lies in), NAME one of emulated, cross,
    /// arm64-build, wasm-build, wasm-runtime, arm64-runtime. Labelled "given". Repeatable.
    #[arg(long = "factor", value_name = "NAME=VALUE[:LOW..HIGH]", value_parser = Given::parse)]
    factors: Vec<Given>,
    /// Price the time engineers wait for builds at this many USD an hour.
    #[arg(long, default_value_t = 0.0, value_name = "USD")]
    engineer_hourly: f64,
    /// Engineers waiting on each build (with --engineer-hourly).
    #[arg(long, default_value_t = 1.0, value_name = "N")]
    waits_per_build: f64,
    /// Your CI keeps a build cache: price builds from warm rebuilds (`archbench build --warm`,
    /// which `report` measures after a one-line change) where the results have them.
    #[arg(long)]
    warm: bool,
    /// Runner minutes your CI plan includes each month (default: --ci-plan's allowance, else
    /// none). They pay for the runners the catalog's plans cover (GitHub's standard runners);
    /// larger runners, such as GitHub's Linux arm64 2-core, are billed from the first minute.
    #[arg(long, value_name = "MIN")]
    free_minutes: Option<f64>,
    /// Your CI plan, from the catalog's [plans.ID] tables (github-free, github-pro,
    /// github-team, github-enterprise-cloud): its included minutes and the runners they cover.
    #[arg(long, value_name = "ID")]
    ci_plan: Option<String>,
    /// Price pending changes (announced without a date in force, such as GitHub's per-minute
    /// charge for self-hosted runners) as if they applied.
    #[arg(long)]
    assume_pending: bool,
    /// The provider's per-minute charge for jobs on self-hosted workers (pricing id), or
    /// `none`.
    #[arg(long, default_value = "github-self-hosted", value_name = "ID")]
    self_hosted_charge: String,
    /// A public repository: standard hosted runners cost nothing.
    #[arg(long)]
    public_repo: bool,
    /// The project builds for wasm32-wasip1 and can ship as Wasm (otherwise Wasm is shown, not
    /// recommended).
    #[arg(long)]
    wasm_ready: bool,
    /// Minutes of the job that merges per-platform images into one index (matrix options).
    #[arg(long, default_value_t = 0.5, value_name = "MIN")]
    merge_minutes: f64,
    /// Price as on this day (YYYY-MM-DD; default: today), so dated price changes apply.
    #[arg(long, value_name = "DATE")]
    date: Option<String>,
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
            merge_minutes: self.merge_minutes,
            date: self.date.clone(),
            free_minutes: self.free_minutes,
            ci_plan: self.ci_plan.clone(),
            assume_pending: self.assume_pending,
            self_hosted_charge: (self.self_hosted_charge != "none")
                .then(|| self.self_hosted_charge.clone()),
            public_repo: self.public_repo,
            wasm_ready: self.wasm_ready,
            max_minutes_per_build: self.max_minutes_per_build,
            margin: self.margin / 100.0,
            margin_usd: self.margin_usd,
            engineer_hourly: self.engineer_hourly,
            waits_per_build: self.waits_per_build,
            warm: self.warm,
            given: self.factors.clone(),
        }
    }

    /// The catalog these flags name.
    pub fn catalog(&self) -> anyhow::Result<Catalog> {
        Ok(match &self.pricing {
            Some(p) => Catalog::load(p)?,
            None => Catalog::builtin(),
        })
    }
}

/// `--max-memory SIZE` (`run`, `bench`): a size with a unit, binary (`512MiB`, `2GiB`) or
/// decimal (`500MB`), or bytes; at least one 64 KiB Wasm page. Parsed by the bytesize crate.
pub fn parse_memory(s: &str) -> Result<u64, String> {
    let size: bytesize::ByteSize =
        s.trim().parse().map_err(|e| format!("{e}; give a size such as 512MiB, 2GiB or 500MB"))?;
    let bytes = size.as_u64();
    if bytes < 64 << 10 {
        return Err(format!(
            "{s} is less than one 64 KiB WebAssembly page; give a size such as 512MiB"
        ));
    }
    Ok(bytes)
}

/// A time limit in seconds (`run --timeout`, `doctor --timeout`): finite, above 0 and at most
/// 1e7 (116 days), so it always makes a `Duration` (which panics on a negative, infinite or NaN
/// number of seconds).
pub fn parse_seconds(s: &str) -> Result<f64, String> {
    let v: f64 =
        s.trim().parse().map_err(|e| format!("{s}: {e}; give seconds such as 30 or 2.5"))?;
    if v.is_finite() && v > 0.0 && v <= 1e7 {
        Ok(v)
    } else {
        Err(format!("{s} is not a time limit: give seconds above 0 and at most 10000000"))
    }
}

#[cfg(test)]
mod memory_tests {
    use super::parse_memory;

    #[test]
    fn sizes_parse_in_binary_and_decimal_units_and_nonsense_is_refused() {
        assert_eq!(parse_memory("512MiB"), Ok(512 << 20));
        assert_eq!(parse_memory("2GiB"), Ok(2 << 30));
        assert_eq!(parse_memory("500MB"), Ok(500_000_000));
        assert_eq!(parse_memory("1048576"), Ok(1 << 20));
        for bad in ["", "lots", "-1MiB", "1KiB", "0"] {
            assert!(parse_memory(bad).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn time_limits_are_positive_finite_seconds() {
        use super::parse_seconds;
        assert_eq!(parse_seconds("2.5"), Ok(2.5));
        for bad in ["-1", "0", "NaN", "inf", "1e300", "soon"] {
            assert!(parse_seconds(bad).is_err(), "{bad:?} was accepted");
        }
    }
}
