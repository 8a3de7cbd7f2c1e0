//! `archbench verify`: does every platform of an image hold binaries of that platform?

use archbench_archid::image::{outcome, scan, verdict, Outcome, PlatformVerdict, Skipped};
use archbench_archid::walk::Limits;
use archbench_exec::host::host_facts;
use archbench_oci::{ImageRef, ImageSource};
use archbench_platform::Platform;
use archbench_results::Envelope;
use clap::Args;
use serde::Serialize;

use crate::exit::{Code, Findings};
use crate::output::{paint, print_json, spinner, stdout_is_tty};

/// Check each platform of an image: stream its layers in order (honouring whiteouts), identify
/// every executable, and report binaries of another architecture and configs that disagree with
/// the index or the binaries. Attestation manifests (provenance, SBOM) are skipped, each named.
/// Exits 4 on any mismatch, 6 when a layer could not be read.
#[derive(Args)]
pub struct VerifyCommand {
    /// A registry reference, oci:DIR[:tag], docker-archive:FILE, or a path to either.
    #[arg(value_name = "IMAGE")]
    image: String,

    #[command(flatten)]
    registry: super::flags::RegistryFlags,

    /// Only these platforms (repeatable).
    #[arg(long, value_name = "P")]
    platform: Vec<Platform>,

    /// Print JSON (a results envelope of kind "verify").
    #[arg(long)]
    json: bool,

    /// List at most this many mismatching files per platform in text output.
    #[arg(long, default_value_t = 20, value_name = "N")]
    show: usize,
}

/// The verify payload.
#[derive(Serialize)]
pub struct VerifyReport {
    /// The image as given.
    pub image: String,
    /// One verdict per platform.
    pub platforms: Vec<PlatformVerdict>,
    /// Entries that are no platform's image (attestation manifests), not verified.
    pub skipped: Vec<Skipped>,
    /// True when every platform passed.
    pub ok: bool,
}

impl VerifyCommand {
    pub fn execute(self) -> anyhow::Result<()> {
        let r = ImageRef::parse(&self.image)?;
        let src = ImageSource::open_with(&r, &self.registry.options()?)?;
        let bar = spinner(!self.json, &format!("verifying {}", src.describe()));
        let scanned = scan(&src, &self.platform, Limits::default())?;
        bar.finish_and_clear();
        let platforms: Vec<PlatformVerdict> = scanned.platforms.iter().map(verdict).collect();
        let ok = platforms.iter().all(|p| p.ok);
        let report =
            VerifyReport { image: self.image.clone(), platforms, skipped: scanned.skipped, ok };
        if self.json {
            print_json(
                &Envelope::begin(archbench_results::Kind::Verify, host_facts(None), &report)
                    .finish(),
            )?;
        } else {
            self.print(&src.describe(), &report);
        }
        let (code, what) = match outcome(&report.platforms) {
            Outcome::Verified => return Ok(()),
            Outcome::Mismatch => (Code::VerifyMismatch, "failed verification"),
            // A platform that could not be read, with no mismatch found, is an incomplete
            // verification (6), not a mismatch.
            Outcome::Incomplete => {
                (Code::Incomplete, "could not be read completely, so it is not verified,")
            }
        };
        let bad: Vec<&str> =
            report.platforms.iter().filter(|p| !p.ok).map(|p| p.declared.text()).collect();
        Err(Findings { code, message: format!("{} {what} for {}", self.image, bad.join(", ")) }
            .into())
    }

    /// The report as text: a line per platform, its findings under it, then the skipped.
    fn print(&self, source: &str, report: &VerifyReport) {
        let colour = stdout_is_tty();
        println!("{source}");
        for p in &report.platforms {
            let word =
                if p.ok { paint("ok  ", "green", colour) } else { paint("FAIL", "red", colour) };
            println!(
                "  {word} {:<16} {} binaries: {} {}, {} other; {} arch-neutral (config: {})",
                p.declared,
                p.binaries,
                p.matching,
                p.declared,
                p.mismatches.len(),
                p.neutral,
                p.config_platform
            );
            for m in p.mismatches.iter().take(self.show) {
                println!("         {}: {}", m.path, m.found);
            }
            if p.mismatches.len() > self.show {
                println!("         … {} more (--show N or --json)", p.mismatches.len() - self.show);
            }
            if let Some(c) = &p.config_problem {
                println!("         config: {c}");
            }
            if let Some(c) = &p.content_problem {
                println!("         content: {c}");
            }
            if let Some(e) = &p.layer_error {
                println!("         unreadable: {e}");
            }
            for w in p.warnings.iter().take(self.show) {
                println!("         note: {w}");
            }
        }
        for s in &report.skipped {
            println!("  skipped: {s}");
        }
    }
}
