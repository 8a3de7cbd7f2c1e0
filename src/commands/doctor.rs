//! `archbench doctor`: one check per line, ok / warn / fail, and the fix for every failure.

use std::path::PathBuf;
use std::time::Duration;

use archbench_doctor::{self as doctor, DoctorOptions, Status};
use archbench_exec::binfmt::Binfmt;
use archbench_exec::host::host_facts;
use archbench_platform::Platform;
use archbench_results::Envelope;
use clap::Args;

use crate::exit::{Code, Findings};
use crate::output::{paint, print_json, stdout_is_tty};

/// Check binfmt/QEMU emulation (by executing a probe per architecture), the Docker Engine,
/// cross toolchains, rustup targets and wasmtime's three tiers.
#[derive(Args)]
pub struct DoctorCommand {
    /// Print the report as JSON (a results envelope of kind "doctor").
    #[arg(long)]
    json: bool,

    /// Platforms whose emulation must work, comma-separated, buildx spelling.
    #[arg(long, value_name = "P,P", default_value = "linux/arm64,linux/arm/v7,linux/riscv64", value_parser = parse_list)]
    platform: Vec<Vec<Platform>>,

    /// Docker host to check (default: DOCKER_HOST, then the local socket).
    #[arg(long, value_name = "URL")]
    docker_host: Option<String>,

    /// Skip the Docker Engine checks.
    #[arg(long)]
    no_docker: bool,

    /// Seconds each probe may run before it counts as hung.
    #[arg(long, default_value_t = 15.0, value_name = "SECONDS",
          value_parser = super::flags::parse_seconds)]
    timeout: f64,

    /// Read binfmt_misc from another directory (for testing).
    #[arg(long, hide = true, value_name = "DIR")]
    binfmt_dir: Option<PathBuf>,
}

fn parse_list(s: &str) -> Result<Vec<Platform>, String> {
    Platform::parse_list(s).map_err(|e| e.to_string())
}

impl DoctorCommand {
    pub fn execute(self) -> anyhow::Result<()> {
        let required: Vec<Platform> = self.platform.into_iter().flatten().collect();
        let defaults = DoctorOptions::default();
        let optional =
            defaults.optional_platforms.iter().filter(|p| !required.contains(p)).cloned().collect();
        let opts = DoctorOptions {
            required_platforms: required,
            optional_platforms: optional,
            docker_host: self.docker_host,
            skip_docker: self.no_docker,
            probe_timeout: Duration::from_secs_f64(self.timeout.max(0.1)),
            binfmt: self.binfmt_dir.map(Binfmt::at).unwrap_or_default(),
        };
        let report = doctor::run(&opts);
        let passed = report.passed();
        if self.json {
            let facts = host_facts(report.engine.as_ref().map(|e| e.version.clone()));
            print_json(&Envelope::begin(archbench_results::Kind::Doctor, facts, &report).finish())?;
        } else {
            let colour = stdout_is_tty();
            for c in &report.checks {
                let (word, col) = match c.status {
                    Status::Ok => ("ok", "green"),
                    Status::Warn => ("warn", "yellow"),
                    Status::Fail => ("fail", "red"),
                };
                println!(
                    "{} {:<28} {}",
                    paint(&format!("{word:<4}"), col, colour),
                    c.id,
                    c.summary
                );
                if let Some(fix) = &c.fix {
                    println!("     {:<28} {}", "", paint(&format!("fix: {fix}"), "dim", colour));
                }
            }
            let fails = report.checks.iter().filter(|c| c.status == Status::Fail).count();
            let warns = report.checks.iter().filter(|c| c.status == Status::Warn).count();
            println!("\n{} checks: {fails} failed, {warns} warnings", report.checks.len());
        }
        if passed {
            Ok(())
        } else {
            let failed: Vec<&str> = report
                .checks
                .iter()
                .filter(|c| c.required && c.status == Status::Fail)
                .map(|c| c.id.as_str())
                .collect();
            Err(Findings {
                code: Code::DoctorFailed,
                message: format!("required checks failed: {}", failed.join(", ")),
            }
            .into())
        }
    }
}
