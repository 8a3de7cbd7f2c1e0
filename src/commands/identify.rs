//! `archbench identify`: what architectures do these files, trees, tarballs or images hold?

use std::path::Path;

use archbench_archid::image::{scan, Skipped};
use archbench_archid::summary::{summarise, Group};
use archbench_archid::walk::{is_tar_like, walk_dir, walk_tar_file, Found, Limits, Scanned};
use archbench_exec::host::host_facts;
use archbench_oci::{ImageRef, ImageSource, RegistryOptions};
use archbench_platform::Platform;
use archbench_results::Envelope;
use clap::Args;
use serde::Serialize;

use crate::exit::{Code, Findings};
use crate::output::{print_json, spinner, Align, Table};

/// Identify binary architectures in files, directories, tar layers (.tar, .tar.gz, .tar.zst),
/// OCI image layouts (oci:DIR[:tag]) and `docker save` archives.
#[derive(Args)]
pub struct IdentifyCommand {
    /// Files, directories, tarballs or images.
    #[arg(required = true, value_name = "PATH|IMAGE")]
    inputs: Vec<String>,

    /// Print JSON (a results envelope of kind "identify").
    #[arg(long)]
    json: bool,

    /// List every binary, not only the per-platform summary.
    #[arg(long)]
    all: bool,

    /// For images: only these platforms (repeatable, buildx spelling).
    #[arg(long, value_name = "P")]
    platform: Vec<Platform>,

    #[command(flatten)]
    registry: super::flags::RegistryFlags,
}

/// What one input held.
#[derive(Serialize)]
pub struct InputReport {
    /// The input as given.
    pub input: String,
    /// `file`, `directory`, `tar`, `image`.
    pub kind: &'static str,
    /// One section per platform image for images; one section otherwise.
    pub sections: Vec<Section>,
    /// Entries of an image that are no platform's image (attestation manifests), not read.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub skipped: Vec<Skipped>,
    /// Why the input could not be read at all (then `sections` is empty).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl InputReport {
    /// Whether anything in it could not be read.
    pub fn incomplete(&self) -> bool {
        self.error.is_some()
            || self
                .sections
                .iter()
                .any(|s| s.error.is_some() || s.files.iter().any(|f| f.unreadable))
    }
}

/// A set of files with its summary.
#[derive(Serialize)]
pub struct Section {
    /// The platform the image declares (images only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub declared: Option<String>,
    /// Totals.
    pub scanned: Scanned,
    /// Per-platform groups.
    pub groups: Vec<Group>,
    /// Every candidate (with --all), else only those that failed to identify.
    pub files: Vec<Found>,
    /// A layer that could not be read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

fn section(
    declared: Option<String>,
    found: Vec<Found>,
    scanned: Scanned,
    all: bool,
    error: Option<String>,
) -> Section {
    let groups = summarise(&found);
    let files = if all { found } else { found.into_iter().filter(|f| f.error.is_some()).collect() };
    Section { declared, scanned, groups, files, error }
}

fn image_ref(input: &str) -> Option<ImageRef> {
    if input.starts_with("oci:")
        || input.starts_with("docker-archive:")
        || input.starts_with("docker://")
        || Path::new(input).join("oci-layout").is_file()
    {
        return ImageRef::parse(input).ok();
    }
    let p = Path::new(input);
    // A plain tar holding manifest.json or index.json is a saved image, not a layer.
    if p.is_file() && is_tar_like(p) {
        if let Ok(src) = ImageSource::open(&ImageRef::Archive { file: p.to_owned() }) {
            if src.images().is_ok() {
                return Some(ImageRef::Archive { file: p.to_owned() });
            }
        }
    }
    None
}

/// Identify one input: an image (per platform), a tar stream, a directory or a single file.
pub fn identify_input(
    input: &str,
    platforms: &[Platform],
    all: bool,
    options: &RegistryOptions,
) -> anyhow::Result<InputReport> {
    let limits = Limits::default();
    let p = Path::new(input);
    let looks_remote = !p.exists()
        && !input.starts_with('/')
        && !input.starts_with('.')
        && (input.contains(':') || input.contains('/'));
    let image =
        image_ref(input).or_else(|| looks_remote.then(|| ImageRef::parse(input).ok()).flatten());
    if let Some(r) = image {
        let src = ImageSource::open_with(&r, options)?;
        let scanned = scan(&src, platforms, limits)?;
        let sections = scanned
            .platforms
            .into_iter()
            .map(|s| section(Some(s.declared.to_string()), s.files, s.scanned, all, s.layer_error))
            .collect();
        return Ok(InputReport {
            input: input.to_owned(),
            kind: "image",
            sections,
            skipped: scanned.skipped,
            error: None,
        });
    }
    if !p.exists() {
        if looks_remote {
            anyhow::bail!("{input}: no such file, and not a valid registry reference either");
        }
        anyhow::bail!("{input}: no such file or directory");
    }
    let (kind, (found, scanned)) = if p.is_file() && is_tar_like(p) {
        ("tar", walk_tar_file(p, limits)?)
    } else if p.is_dir() {
        ("directory", walk_dir(p)?)
    } else {
        ("file", walk_dir(p)?)
    };
    Ok(InputReport {
        input: input.to_owned(),
        kind,
        sections: vec![section(None, found, scanned, all, None)],
        skipped: Vec::new(),
        error: None,
    })
}

fn details(f: &Found) -> String {
    let Some(id) = &f.identity else { return f.error.clone().unwrap_or_default() };
    let mut parts =
        vec![format!("{:?}", id.format).to_lowercase(), format!("{:?}", id.kind).to_lowercase()];
    if let Some(e) = &id.elf {
        if let Some(l) = e.linkage {
            parts.push(format!("{l:?}").to_lowercase());
        }
        if let Some(i) = &e.interpreter {
            parts.push(format!("interp {i}"));
        }
        if let Some(a) = &e.arm_arch {
            parts.push(format!("arm {a}"));
        }
        if let Some(h) = e.arm_hard_float {
            parts.push(if h { "hard-float" } else { "soft-float" }.into());
        }
        if let Some(r) = &e.riscv_float_abi {
            parts.push(format!("float-abi {r}"));
        }
        if let Some(x) = &e.x86_isa_needed {
            parts.push(format!("needs {x}"));
        }
        if e.stripped {
            parts.push("stripped".into());
        }
    }
    if let Some(p) = &id.pe {
        parts.push(format!("{} {}", p.magic, p.subsystem));
    }
    if let Some(w) = &id.wasm {
        parts.push(format!("wasi {}", w.wasi.as_deref().unwrap_or("none")));
    }
    if let Some(i) = &id.interpreter {
        parts.push(format!("#!{i}"));
    }
    parts.join(", ")
}

pub fn print_report(r: &InputReport, all: bool) {
    for s in &r.sections {
        let head = match &s.declared {
            Some(d) => format!("{} [{d}]", r.input),
            None => r.input.clone(),
        };
        let binaries: u64 = s.groups.iter().filter(|g| g.label != "error").map(|g| g.count).sum();
        println!(
            "{head}: {} files ({}) scanned, {binaries} identified",
            s.scanned.files,
            archbench_input::show_bytes(s.scanned.bytes)
        );
        let mut groups =
            Table::headless(2, &[Align::Left, Align::Right, Align::Right, Align::Left]);
        for g in &s.groups {
            groups.row([
                g.label.clone(),
                g.count.to_string(),
                archbench_input::show_bytes(g.bytes),
                format!(" e.g. {}", g.examples.join(", ")),
            ]);
        }
        groups.print();
        if let Some(e) = &s.error {
            println!("  error: {e}");
        }
        for f in &s.files {
            let label = f.identity.as_ref().map(|i| i.label()).unwrap_or_else(|| "error".into());
            if all || f.error.is_some() {
                println!("    {:<50} {:<22} {}", f.path, label, details(f));
            }
        }
    }
    for skipped in &r.skipped {
        println!("{}: skipped: {skipped}", r.input);
    }
}

impl IdentifyCommand {
    pub fn execute(self) -> anyhow::Result<()> {
        let bar = spinner(!self.json, "identifying");
        let options = self.registry.options()?;
        let mut reports = Vec::new();
        // One input that cannot be read never hides the others: each is reported, and the exit
        // status says that something was incomplete.
        for input in &self.inputs {
            bar.set_message(format!("identifying {input}"));
            let r = identify_input(input, &self.platform, self.all, &options).unwrap_or_else(|e| {
                InputReport {
                    input: input.clone(),
                    kind: "unreadable",
                    sections: Vec::new(),
                    skipped: Vec::new(),
                    error: Some(archbench_results::error_line(e.as_ref())),
                }
            });
            reports.push(r);
        }
        bar.finish_and_clear();
        if self.json {
            print_json(
                &Envelope::begin(archbench_results::Kind::Identify, host_facts(None), &reports)
                    .finish(),
            )?;
        } else {
            for r in reports.iter().filter(|r| r.error.is_none()) {
                print_report(r, self.all);
            }
        }
        // An input that could not be opened at all is an error (1); one that opened but had a
        // layer or a file that could not be read is incomplete (6).
        let failed: Vec<&InputReport> = reports.iter().filter(|r| r.error.is_some()).collect();
        for r in &failed {
            eprintln!("error: {}", r.error.as_deref().unwrap_or_default());
        }
        if !failed.is_empty() {
            anyhow::bail!(
                "{} of {} inputs could not be opened (the others are reported above)",
                failed.len(),
                reports.len()
            );
        }
        let incomplete: Vec<&str> =
            reports.iter().filter(|r| r.incomplete()).map(|r| r.input.as_str()).collect();
        if incomplete.is_empty() {
            return Ok(());
        }
        Err(Findings {
            code: Code::Incomplete,
            message: format!(
                "{} of {} inputs could not be read completely: {} (the errors are listed above)",
                incomplete.len(),
                reports.len(),
                incomplete.join(", ")
            ),
        }
        .into())
    }
}
