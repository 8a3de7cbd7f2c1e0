//! `archbench image inspect|create|copy`: multi-arch images in registries and OCI layouts.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{bail, Context};
use archbench_exec::host::host_facts;
use archbench_oci::copy::ProgressFn;
use archbench_oci::digest::short;
use archbench_oci::inspect::EntryKind;
use archbench_oci::{
    copy, create_index, inspect, CopyOptions, Destination, ImageRef, ImageSource, IndexSource,
    Inspection, RegistryOptions,
};
use archbench_platform::Platform;
use archbench_results::Envelope;
use clap::{Args, Subcommand};

use super::flags::RegistryFlags;
use crate::output::{print_json, stdout_is_tty, Align, Table};

/// Inspect, assemble and copy multi-arch images (registries and OCI layouts).
#[derive(Args)]
pub struct ImageCommand {
    #[command(subcommand)]
    action: ImageAction,

    #[command(flatten)]
    registry: RegistryFlags,

    /// Parallel blob transfers.
    #[arg(long, default_value_t = 4, value_name = "N", global = true)]
    jobs: usize,
}

#[derive(Subcommand)]
enum ImageAction {
    /// Show an image's platforms, sizes and layers, and which layers the platforms share.
    Inspect(InspectArgs),
    /// Assemble an index from existing manifests and push it.
    Create(CreateArgs),
    /// Copy an image between registries and OCI layouts, keeping every digest.
    Copy(CopyArgs),
}

#[derive(Args)]
struct InspectArgs {
    /// Registry reference, oci:DIR[:tag] or docker-archive:FILE.
    #[arg(value_name = "REF")]
    image: String,
    /// Print the index or manifest exactly as stored.
    #[arg(long)]
    raw: bool,
    /// Only these platforms (repeatable).
    #[arg(long, value_name = "P")]
    platform: Vec<Platform>,
    /// Print JSON (a results envelope of kind "image-inspect").
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
struct CreateArgs {
    /// Where to put the index: a registry reference or oci:DIR[:tag].
    #[arg(short = 't', long = "tag", value_name = "REF")]
    target: String,
    /// Manifests (or indexes) to list; each SRC may be a registry reference or oci:DIR[:tag].
    #[arg(value_name = "SRC", required_unless_present = "digests")]
    sources: Vec<String>,
    /// Digests files from `archbench build --push-by-digest` (repeatable): their manifests, each
    /// with its platform, are added after the SRCs. A manifest the registry lacks is refused
    /// before anything is pushed.
    #[arg(long, value_name = "FILE")]
    digests: Vec<PathBuf>,
    /// Platform for each SRC, in order (default: read from each image's config).
    #[arg(long, value_name = "P")]
    platform: Vec<Platform>,
    /// Index annotation KEY=VALUE (repeatable).
    #[arg(long, value_name = "K=V")]
    annotation: Vec<String>,
    /// Keep the entries of the index already at the target (replacing same platforms).
    #[arg(long)]
    append: bool,
    /// Print the index and write nothing.
    #[arg(long)]
    dry_run: bool,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
struct CopyArgs {
    /// Source: registry reference or oci:DIR[:tag].
    #[arg(value_name = "SRC")]
    source: String,
    /// Destination: registry reference or oci:DIR[:tag].
    #[arg(value_name = "DST")]
    destination: String,
    /// Only these platforms (repeatable); one platform copies that manifest alone.
    #[arg(long, value_name = "P")]
    platform: Vec<Platform>,
    /// Copy every platform (the default; accepted for skopeo users).
    #[arg(long, conflicts_with = "platform")]
    all: bool,
    /// Print JSON (a results envelope of kind "image-copy").
    #[arg(long)]
    json: bool,
}

/// A byte progress bar on stderr (hidden for JSON or when stderr is not a terminal).
fn byte_bar(show: bool, message: &str) -> (indicatif::ProgressBar, ProgressFn) {
    use std::io::IsTerminal;
    let bar = if show && std::io::stderr().is_terminal() {
        let b = indicatif::ProgressBar::new(0);
        b.set_style(
            indicatif::ProgressStyle::with_template("{msg} [{bar:30}] {bytes} {bytes_per_sec}")
                .expect("template")
                .progress_chars("=> "),
        );
        b.set_message(message.to_owned());
        b
    } else {
        indicatif::ProgressBar::hidden()
    };
    let b = bar.clone();
    (bar, Arc::new(move |n| b.inc(n)))
}

impl ImageCommand {
    pub fn execute(self) -> anyhow::Result<()> {
        let options = self.registry.options()?;
        match self.action {
            ImageAction::Inspect(a) => run_inspect(a, &options),
            ImageAction::Create(a) => run_create(a, &options, self.jobs),
            ImageAction::Copy(a) => run_copy(a, &options, self.jobs),
        }
    }
}

fn open(s: &str, options: &RegistryOptions) -> anyhow::Result<ImageSource> {
    let r = ImageRef::parse(s)?;
    ImageSource::open_with(&r, options).with_context(|| format!("opening {s}"))
}

fn run_inspect(a: InspectArgs, options: &RegistryOptions) -> anyhow::Result<()> {
    let src = open(&a.image, options)?;
    if a.raw {
        let root = src.root()?;
        use std::io::Write;
        let mut out = std::io::stdout().lock();
        out.write_all(&root.bytes)?;
        if !root.bytes.ends_with(b"\n") {
            writeln!(out)?;
        }
        return Ok(());
    }
    let report = inspect(&src, &a.platform)?;
    if a.json {
        return print_json(
            &Envelope::begin(archbench_results::Kind::ImageInspect, host_facts(None), &report)
                .finish(),
        );
    }
    print_inspection(&report);
    Ok(())
}

fn print_inspection(i: &Inspection) {
    let _ = stdout_is_tty();
    println!("{}", i.source);
    println!("  media type  {}", i.media_type);
    if !i.digest.is_empty() {
        println!("  digest      {}", i.digest);
    }
    println!();
    let manifest = |d: &Option<archbench_oci::Digest>| {
        d.as_ref().map_or("-", archbench_oci::Digest::short).to_owned()
    };
    let columns = |first, last| {
        [
            (first, Align::Left),
            ("MANIFEST", Align::Left),
            ("SIZE", Align::Right),
            ("LAYERS", Align::Right),
            (last, Align::Left),
        ]
    };
    let mut table = Table::new(2, &columns("PLATFORM", "config"));
    for p in &i.platforms {
        let mismatch = if p.platform != p.config_platform {
            "  (differs from the index!)"
        } else if p.kind == EntryKind::WasmArtifact {
            "  (Wasm artifact: the layer is the module)"
        } else {
            ""
        };
        table.row([
            p.platform.clone(),
            manifest(&p.manifest_digest),
            archbench_input::show_bytes(p.size),
            p.layers.to_string(),
            format!("{}{mismatch}", p.config_platform),
        ]);
    }
    table.print();
    if !i.attestations.is_empty() {
        println!();
        println!("  attestations (provenance, SBOM; no platform's image, so not compared below):");
        let mut table = Table::new(2, &columns("PLATFORM", "describes"));
        for a in &i.attestations {
            table.row([
                "unknown/unknown".to_owned(),
                manifest(&a.manifest_digest),
                archbench_input::show_bytes(a.size),
                a.layers.to_string(),
                a.label.clone(),
            ]);
        }
        table.print();
    }
    if let Some(big) = &i.largest {
        println!();
        if i.platforms.len() > 1 {
            println!(
                "  largest: {} at {}, {} more than the smallest",
                big.platform,
                archbench_input::show_bytes(big.size),
                archbench_input::show_bytes(big.over_smallest)
            );
            for l in big.own_layers.iter().take(3) {
                println!(
                    "    its own layer {} is {}",
                    short(&l.digest),
                    archbench_input::show_bytes(l.size)
                );
            }
        }
    }
    if i.platforms.len() > 1 {
        if i.shared_layers.is_empty() {
            println!("  no layers are shared between platforms");
        } else {
            println!("  shared layers (stored once):");
            for l in &i.shared_layers {
                println!(
                    "    {} {:>10}  {}",
                    short(&l.digest),
                    archbench_input::show_bytes(l.size),
                    l.platforms.join(", ")
                );
            }
        }
        println!(
            "  stored once for all platforms: {}",
            archbench_input::show_bytes(i.unique_bytes)
        );
    }
}

fn run_copy(a: CopyArgs, options: &RegistryOptions, jobs: usize) -> anyhow::Result<()> {
    let src = open(&a.source, options)?;
    let dst = Destination::parse(&a.destination, options)
        .with_context(|| format!("opening destination {}", a.destination))?;
    let (bar, progress) = byte_bar(!a.json, &format!("copying to {}", dst.describe()));
    let started = std::time::Instant::now();
    let opts = CopyOptions { platforms: a.platform.clone(), jobs, progress: Some(progress) };
    let report = copy(&src, &dst, &opts);
    bar.finish_and_clear();
    let report = report.with_context(|| format!("copying {} to {}", a.source, a.destination))?;
    if a.json {
        return print_json(
            &Envelope::begin(archbench_results::Kind::ImageCopy, host_facts(None), &report)
                .finish(),
        );
    }
    println!(
        "{} -> {}\n  {} ({}){}\n  blobs: {} copied ({}), {} already there, {} mounted; {:.2} s",
        report.source,
        report.destination,
        report.digest,
        report.media_type,
        if report.digest_preserved {
            ", digest preserved"
        } else {
            ", new index of the chosen platforms"
        },
        report.blobs_copied,
        archbench_input::show_bytes(report.bytes_copied),
        report.blobs_skipped,
        report.blobs_mounted,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

fn run_create(a: CreateArgs, options: &RegistryOptions, jobs: usize) -> anyhow::Result<()> {
    if !a.platform.is_empty() && a.platform.len() != a.sources.len() {
        bail!(
            "--platform was given {} times for {} sources; give it once per SRC, in order, or not at all",
            a.platform.len(),
            a.sources.len()
        );
    }
    let mut annotations = BTreeMap::new();
    for kv in &a.annotation {
        let (k, v) =
            kv.split_once('=').with_context(|| format!("--annotation {kv:?} is not KEY=VALUE"))?;
        annotations.insert(k.to_owned(), v.to_owned());
    }
    let mut sources = a
        .sources
        .iter()
        .enumerate()
        .map(|(i, s)| {
            Ok(IndexSource { source: open(s, options)?, platform: a.platform.get(i).cloned() })
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    for f in &a.digests {
        let d = archbench_oci::digests::Digests::read(f)?;
        for (reference, platform) in d.references() {
            // Fetch each manifest now: one the registry lacks stops the merge before any push.
            let what = || format!("{} names {reference} for {platform}", f.display());
            let source = open(&reference, options).with_context(what)?;
            source.root().with_context(what)?;
            sources.push(IndexSource { source, platform: Some(platform) });
        }
    }
    let dst = Destination::parse(&a.target, options)
        .with_context(|| format!("opening destination {}", a.target))?;
    let (bar, progress) =
        byte_bar(!a.json && !a.dry_run, &format!("assembling {}", dst.describe()));
    let opts = CopyOptions { platforms: Vec::new(), jobs, progress: Some(progress) };
    let result = create_index(
        &sources,
        &dst,
        &annotations,
        archbench_oci::IndexMode { append: a.append, dry_run: a.dry_run },
        &opts,
    );
    bar.finish_and_clear();
    let (root, reports) = result.with_context(|| format!("creating {}", a.target))?;
    if a.dry_run {
        println!("{}", String::from_utf8_lossy(&root.bytes));
        return Ok(());
    }
    if a.json {
        let payload = serde_json::json!({
            "target": dst.describe(),
            "digest": root.digest,
            "media_type": root.media_type,
            "index": serde_json::from_slice::<serde_json::Value>(&root.bytes)?,
            "copies": reports,
        });
        return print_json(
            &Envelope::begin(archbench_results::Kind::ImageCreate, host_facts(None), &payload)
                .finish(),
        );
    }
    let index = archbench_oci::document::parse_index(&root.bytes, &dst.describe())?;
    println!("{} -> {}", dst.describe(), root.digest);
    for d in index.manifests() {
        let plat = archbench_oci::document::declared(d).unwrap_or_default();
        println!("  {:<16} {}", plat, d.digest());
    }
    Ok(())
}
