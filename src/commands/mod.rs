//! One module per subcommand.

mod base;
mod bench;
mod build;
mod doctor;
pub mod flags;
mod identify;
pub mod image;
pub mod plan;
mod report;
mod results;
mod run;
mod verify;

use clap::Subcommand;

/// The subcommands.
#[derive(Subcommand)]
pub enum Command {
    /// Check that this machine can emulate, build and run what archbench measures.
    Doctor(doctor::DoctorCommand),
    /// Run the workload suite natively, under QEMU and under wasmtime's tiers.
    Bench(Box<bench::BenchCommand>),
    /// Identify binary architectures in files, trees, tarballs and images.
    Identify(identify::IdentifyCommand),
    /// Verify that each platform of a multi-arch image holds binaries of that platform.
    Verify(verify::VerifyCommand),
    /// Inspect, assemble and copy multi-arch images in registries and OCI layouts.
    Image(image::ImageCommand),
    /// Build a Dockerfile per platform × strategy through the Docker Engine, timing every step.
    Build(build::BuildCommand),
    /// The main job: doctor, bench, builds, plan, and a report directory with charts and HTML.
    Report(report::ReportCommand),
    /// Price the build strategies and a Graviton migration from the results.
    Plan(plan::PlanCommand),
    /// Make base images (Debian, per platform, with mmdebstrap) without Docker Hub.
    Base(base::BaseCommand),
    /// Combine results from several hosts or runners into one directory.
    Results(results::ResultsCommand),
    /// Run the entry of a multi-arch image this host should use: native, else Wasm, else emulated.
    Run(Box<run::RunCommand>),
}

impl Command {
    /// Run the chosen subcommand.
    pub fn execute(self) -> anyhow::Result<()> {
        match self {
            Command::Doctor(c) => c.execute(),
            Command::Bench(c) => c.execute(),
            Command::Identify(c) => c.execute(),
            Command::Verify(c) => c.execute(),
            Command::Image(c) => c.execute(),
            Command::Base(c) => c.execute(),
            Command::Plan(c) => c.execute(),
            Command::Report(c) => c.execute(),
            Command::Build(c) => c.execute(),
            Command::Results(c) => c.execute(),
            Command::Run(c) => c.execute(),
        }
    }
}
