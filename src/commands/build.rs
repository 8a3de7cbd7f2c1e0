//! `archbench build`: one Dockerfile per platform × strategy, every step timed, one index.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{bail, Context};
use archbench_archid::image::{outcome, scan, verdict, Outcome};
use archbench_archid::walk::Limits;
use archbench_builder::run::{build_all, default_layout, BuildSpec, Event, Strategy};
use archbench_exec::host::host_facts;
use archbench_oci::{copy, CopyOptions, Destination, ImageRef, ImageSource, Reference};
use archbench_platform::Platform;
use archbench_results::build::BuildReport;
use archbench_results::Envelope;
use clap::Args;

use super::flags::RegistryFlags;
use crate::output::print_json;

/// Build a Dockerfile for each platform with each strategy (native, emulated under QEMU, cross,
/// remote=DOCKER_HOST) through the Docker Engine, timing every step; write the images and an
/// index (one manifest per platform, from the first strategy listed that built it) to an OCI
/// layout, push it with --push, and verify it.
#[derive(Args)]
pub struct BuildCommand {
    /// Build context directory.
    #[arg(value_name = "CONTEXT")]
    context: PathBuf,
    /// Dockerfile, relative to the context.
    #[arg(short = 'f', long = "file", default_value = "Dockerfile")]
    dockerfile: String,
    /// Target platforms, comma-separated (default: the engine's own).
    #[arg(long, value_delimiter = ',', value_name = "P,P")]
    platform: Vec<Platform>,
    /// Strategies, comma-separated, in order of preference for the index: native, emulated,
    /// cross, remote=DOCKER_HOST, or multi (one BuildKit solve for every platform, as
    /// `docker buildx build --platform a,b` sends it; needs an engine whose BuildKit exports OCI,
    /// e.g. the containerd image store).
    #[arg(long, value_delimiter = ',', default_value = "native,emulated", value_name = "S,S")]
    strategy: Vec<Strategy>,
    /// Build argument KEY=VALUE (repeatable), e.g. BUILDER=127.0.0.1:5000/archbench/builder:bookworm.
    #[arg(long = "build-arg", value_name = "K=V")]
    build_args: Vec<String>,
    /// Name of the result: a registry reference (pushed with --push) or just a name:tag.
    #[arg(short = 't', long = "tag", default_value = "archbench/build:latest", value_name = "REF")]
    tag: String,
    /// Push the index to the registry named by --tag.
    #[arg(long, conflicts_with = "push_by_digest")]
    push: bool,
    /// Push each platform's manifest to the repository of --tag without a tag (by digest) and
    /// write which digest each platform got to FILE, for `archbench image create --digests`
    /// in a later job: one native build per runner, then a merge.
    #[arg(long, value_name = "FILE")]
    push_by_digest: Option<PathBuf>,
    /// OCI layout for the images and the index (default: reports/images).
    #[arg(long, value_name = "oci:DIR")]
    output: Option<String>,
    /// Let the builder use its cache (timings then measure the cache, not the build).
    #[arg(long)]
    cache: bool,
    /// A warm rebuild: use the cache of an earlier build of this context (after your change to
    /// it) and record the runs as warm, for `plan --warm`. Implies --cache.
    #[arg(long)]
    warm: bool,
    /// Give up on one build after this many seconds.
    #[arg(long, default_value_t = 3600, value_name = "SECONDS")]
    timeout: u64,
    /// The engine's builder: buildkit (the default where the engine has it, API 1.39+) or
    /// classic. Each run's note says which ran and why.
    #[arg(long, value_name = "buildkit|classic", value_parser = parse_builder)]
    builder: Option<archbench_results::build::Builder>,
    /// Reuse the cache of this image (repeatable): its layers, and with BuildKit the cache
    /// records an earlier `--cache-to inline` build wrote into it. Implies using the cache.
    #[arg(long = "cache-from", value_name = "REF")]
    cache_from: Vec<String>,
    /// Where BuildKit writes its cache: `inline` (the records go into each image's config and
    /// travel with the pushed image), or `type=registry,ref=REF[,mode=min|max]` (a cache
    /// manifest of its own; engines with the containerd image store).
    #[arg(long = "cache-to", value_name = "inline|type=registry,ref=REF", value_parser = parse_cache_to)]
    cache_to: Option<CacheTo>,
    /// BuildKit's provenance attestation in the index: mode=min, mode=max or false (the
    /// default). Kept only with --strategy multi first and no wasi/wasm platform, where the
    /// index is BuildKit's own.
    #[arg(long, value_name = "mode=min|mode=max|false", value_parser = parse_provenance)]
    provenance: Option<String>,
    /// SOURCE_DATE_EPOCH for the multi solve: seconds since 1970, `git` (the context's last
    /// commit time) or `off`. Its layers then carry that file time wherever the engine can
    /// rewrite it, so a rebuild of the same files gives the same layers. Default: `git` when the
    /// context is in a git work tree, else off.
    #[arg(long = "source-date-epoch", value_name = "SECONDS|git|off")]
    source_date_epoch: Option<String>,
    /// Also write the results envelope (kind "build") to this file, atomically.
    #[arg(short = 'o', long = "results", value_name = "FILE")]
    results: Option<PathBuf>,
    /// Print JSON (the results envelope).
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    registry: RegistryFlags,
}

impl BuildCommand {
    // Long (about 175 lines, the verify outcome kept under --json included): CLI glue, parsing flags into a BuildSpec and printing the runs,
    // stages and ratios; the work is archbench_builder::build_all.
    pub fn execute(self) -> anyhow::Result<()> {
        if !self.context.is_dir() {
            bail!(
                "build context {} does not exist or is not a directory; pass the directory that holds the Dockerfile",
                self.context.display()
            );
        }
        if !self.context.join(&self.dockerfile).is_file() {
            bail!(
                "{} has no {}; pass the context directory and -f if the Dockerfile is elsewhere",
                self.context.display(),
                self.dockerfile
            );
        }
        let mut build_args = BTreeMap::new();
        for kv in &self.build_args {
            let (k, v) = kv
                .split_once('=')
                .with_context(|| format!("--build-arg {kv:?} is not KEY=VALUE"))?;
            build_args.insert(k.to_owned(), v.to_owned());
        }
        let reference =
            Reference::parse(&self.tag).with_context(|| format!("--tag {}", self.tag))?;
        let layout = match &self.output {
            Some(o) => PathBuf::from(o.strip_prefix("oci:").unwrap_or(o)),
            None => default_layout(&std::env::current_dir()?),
        };
        let platforms =
            if self.platform.is_empty() { vec![Platform::host()] } else { self.platform.clone() };
        let spec = BuildSpec {
            context: self.context.clone(),
            dockerfile: self.dockerfile.clone(),
            platforms,
            strategies: self.strategy.clone(),
            build_args,
            name: format!(
                "archbench-builder/{}",
                reference.repository.rsplit('/').next().unwrap_or("image")
            ),
            layout: layout.clone(),
            tag: reference.tag.clone().unwrap_or_else(|| "latest".into()),
            no_cache: !(self.cache || self.warm),
            timeout: Duration::from_secs(self.timeout),
            builder: self.builder,
            cache_from: self.cache_from.clone(),
            cache_inline: self.cache_to == Some(CacheTo::Inline),
            cache_to: match &self.cache_to {
                Some(CacheTo::Registry(c)) => Some(c.clone()),
                _ => None,
            },
            provenance: self.provenance.clone().filter(|p| !p.is_empty()),
            source_date_epoch: self.source_date_epoch()?,
        };
        // Attestations are kept only when BuildKit's own index is the build's: multi first,
        // and no Wasm entry (which is built apart, so archbench makes the index).
        let buildkit_index = self.strategy.first() == Some(&Strategy::Multi)
            && !spec.platforms.iter().any(|p| p.arch == archbench_platform::Arch::Wasm);
        if spec.provenance.is_some() && !buildkit_index {
            bail!(
                "--provenance is kept only in an index BuildKit exports itself: put multi first in --strategy, with no wasi/wasm platform (per-platform builds leave the engine through docker save, which drops attestations, and an index archbench assembles has none)"
            );
        }
        if self.source_date_epoch.is_some() && !self.strategy.contains(&Strategy::Multi) {
            bail!(
                "--source-date-epoch applies to --strategy multi, whose OCI exporter rewrites file times; add multi to --strategy"
            );
        }
        let started = Envelope::begin(archbench_results::Kind::Build, host_facts(None), ());
        // Ctrl-C cancels the build in progress; the runs so far are saved, and no index is made.
        archbench_results::cleanup::defer_interrupts();
        let quiet = self.json;
        let bar = crate::output::spinner(!quiet, "building");
        let result = build_all(&spec, &mut |p| {
            let who = format!("[{} {}]", p.targets, p.strategy);
            let line = match p.event {
                Event::Start => Some(format!("{who} building")),
                Event::Step(s) => {
                    bar.set_message(format!("{who} {s}"));
                    None
                }
                Event::Done(secs, ok) => {
                    Some(format!("{who} {} in {secs:.1} s", if ok { "built" } else { "FAILED" }))
                }
                Event::Skip(why) => Some(format!("{who} skipped: {why}")),
            };
            // Lines go to stderr whether or not it is a terminal (the spinner hides itself).
            if let (Some(l), false) = (line, quiet) {
                bar.suspend(|| eprintln!("{l}"));
            }
        });
        bar.finish_and_clear();
        let mut report = match result {
            Ok(mut r) => {
                r.warm = self.warm;
                r
            }
            Err(archbench_builder::Error::Failed { mut report, cause }) => {
                report.warm = self.warm;
                self.save(&started, &report)?;
                if archbench_results::cleanup::interrupt_requested() {
                    let done = report.runs.iter().filter(|r| r.ok).count();
                    return Err(crate::exit::Findings {
                        code: crate::exit::Code::Interrupted,
                        message: format!(
                            "interrupted: {done} completed build(s){}; no index was written",
                            match &self.results {
                                Some(o) => format!(" saved to {}", o.display()),
                                None => String::new(),
                            }
                        ),
                    }
                    .into());
                }
                return Err(
                    anyhow::Error::new(*cause).context("the build failed; no index was written")
                );
            }
            Err(e) => return Err(e.into()),
        };
        // Verify what was written before anything is pushed.
        let src = ImageSource::open(&ImageRef::Layout {
            dir: layout.clone(),
            tag: Some(spec.tag.clone()),
        })?;
        let verdicts: Vec<_> =
            scan(&src, &[], Limits::default())?.platforms.iter().map(verdict).collect();
        report.verified = Some(verdicts.iter().all(|v| v.ok));
        let ins = archbench_oci::inspect::inspect(&src, &[])?;
        report.layers = Some(archbench_results::build::LayerSharing {
            platform_bytes: ins.platforms.iter().map(|p| p.size).sum(),
            stored_bytes: ins.unique_bytes,
            shared: ins
                .shared_layers
                .iter()
                .map(|l| archbench_results::build::SharedLayer {
                    digest: l.digest.clone(),
                    size: l.size,
                    platforms: l.platforms.clone(),
                })
                .collect(),
        });
        if self.push {
            let options = self.registry.options()?;
            let dst = Destination::parse(&self.tag, &options)?;
            let c = copy(&src, &dst, &CopyOptions::default())
                .with_context(|| format!("pushing to {}", self.tag))?;
            report.destination = Some(c.destination);
            report.index_digest = Some(c.digest.to_string());
        }
        if let Some(file) = &self.push_by_digest {
            self.push_by_digest(&src, &layout, file)?;
        }
        self.save(&started, &report)?;
        if self.json {
            print_json(&finish(&started, &report))?;
        } else {
            print_report(&report, &verdicts);
        }
        // The same exit status with --json: a script reading the JSON still sees the verdict.
        match outcome(&verdicts) {
            Outcome::Verified => Ok(()),
            Outcome::Mismatch => Err(crate::exit::Findings {
                code: crate::exit::Code::VerifyMismatch,
                message: "verify found binaries of the wrong architecture in the built image"
                    .into(),
            }
            .into()),
            // A layer that cannot be read is no wrong architecture: say which, exit 6.
            Outcome::Incomplete => Err(crate::exit::Findings {
                code: crate::exit::Code::Incomplete,
                message: "verify could not read a layer of the built image, so it is not verified (see above)".into(),
            }
            .into()),
        }
    }

    /// Push every platform of `src` by digest to --tag's repository; write the digests file.
    fn push_by_digest(
        &self,
        src: &ImageSource,
        layout: &std::path::Path,
        file: &std::path::Path,
    ) -> anyhow::Result<()> {
        let options = self.registry.options()?;
        let reference = archbench_oci::Reference::parse(&self.tag).with_context(|| {
            format!("--push-by-digest needs --tag naming a registry repository, not {:?}", self.tag)
        })?;
        let repository = format!("{}/{}", reference.registry, reference.repository);
        let mut manifests = Vec::new();
        for image in src.images()? {
            let platform: Platform = image.declared().known().cloned().map_err(|e| {
                anyhow::anyhow!("the built image declares {:?}: {e}", image.declared().text())
            })?;
            let digest = image
                .manifest_digest
                .clone()
                .with_context(|| format!("the {platform} image has no manifest digest"))?;
            let dst = Destination::parse(&format!("{repository}@{digest}"), &options)?;
            // The manifest itself is the top document to push (a one-platform index would be
            // pushed whole): tag it in the layout for the copy, and untag it after.
            let part = format!("archbench-by-digest-{}", &digest.hex()[..12]);
            let mut w = archbench_oci::layout::LayoutWriter::create(layout)?;
            let manifest = archbench_oci::layout::Written {
                digest: digest.clone(),
                size: image.manifest_size,
                media_type: archbench_oci::layout::media::MANIFEST.into(),
            };
            w.tag(&manifest, &part)?;
            let one = ImageSource::open(&ImageRef::Layout {
                dir: layout.to_owned(),
                tag: Some(part.clone()),
            })?;
            let c = copy(&one, &dst, &CopyOptions::default())
                .with_context(|| format!("pushing {platform} to {repository} by digest"));
            w.untag(&part)?;
            let c = c?;
            anyhow::ensure!(
                c.digest == digest,
                "the registry stored the {platform} manifest as {}, not {digest}",
                c.digest
            );
            manifests.push(archbench_oci::digests::PushedManifest { platform, digest });
        }
        let d = archbench_oci::digests::Digests::new(&repository, manifests);
        archbench_results::write_atomic(file, &d)
            .with_context(|| format!("writing {}", file.display()))?;
        eprintln!(
            "pushed {} manifest(s) to {repository} by digest; digests in {}",
            d.manifests.len(),
            file.display()
        );
        Ok(())
    }

    /// `--source-date-epoch`, or its default: the context's last commit time for a multi build
    /// in a git work tree, else none.
    fn source_date_epoch(&self) -> anyhow::Result<Option<i64>> {
        let git = || -> Option<i64> {
            let out = std::process::Command::new("git")
                .arg("-C")
                .arg(&self.context)
                .args(["log", "-1", "--format=%ct", "--", "."])
                .output()
                .ok()
                .filter(|o| o.status.success())?;
            String::from_utf8_lossy(&out.stdout).trim().parse().ok()
        };
        match self.source_date_epoch.as_deref() {
            None if self.strategy.contains(&Strategy::Multi) => Ok(git()),
            None | Some("off") => Ok(None),
            Some("git") => git().map(Some).with_context(|| {
                format!(
                    "--source-date-epoch git: {} has no commit in a git work tree (is git installed?); give the seconds, or off",
                    self.context.display()
                )
            }),
            Some(n) => n.parse::<i64>().ok().filter(|t| *t >= 0).map(Some).with_context(|| {
                format!("--source-date-epoch {n:?}: give seconds since 1970, git or off")
            }),
        }
    }

    fn save(&self, started: &Envelope<()>, report: &BuildReport) -> anyhow::Result<()> {
        if let Some(path) = &self.results {
            archbench_results::write_atomic(path, &finish(started, report))
                .with_context(|| format!("writing {}", path.display()))?;
        }
        Ok(())
    }
}

fn finish(started: &Envelope<()>, report: &BuildReport) -> Envelope<BuildReport> {
    let mut env =
        Envelope::begin(archbench_results::Kind::Build, started.host.clone(), report.clone());
    env.started_at = started.started_at.clone();
    env.finish()
}

fn print_report(r: &BuildReport, verdicts: &[archbench_archid::image::PlatformVerdict]) {
    for run in &r.runs {
        println!(
            "{} {} — {:.1} s ({:.1} s without base pulls), {:.1} MiB  ({})",
            run.platform,
            run.strategy,
            run.seconds,
            run.work_seconds,
            run.image_bytes as f64 / 1048576.0,
            run.note
        );
        for st in &run.stages {
            println!(
                "    stage {:<10} as {:<13}{} {:>7.1} s",
                st.name,
                st.runs_as,
                if st.emulated { " (QEMU)" } else { "       " },
                st.seconds
            );
            for s in st.steps.iter().filter(|s| s.seconds >= 0.05) {
                let instr: String = s.instruction.chars().take(60).collect();
                println!(
                    "        {:>3} {:<60} {:>7.1} s{}",
                    s.number,
                    instr,
                    s.seconds,
                    if s.cached { " cached" } else { "" }
                );
            }
        }
    }
    for ratio in &r.ratios {
        println!("{}: {:.2}×", ratio.label(), ratio.ratio);
    }
    if let Some(one) = r.one_solve() {
        println!("{}", one.sentence());
    }
    for v in verdicts {
        match (v.outcome(), &v.layer_error) {
            (Outcome::Verified, _) => println!("verify {}: ok", v.declared),
            (Outcome::Incomplete, Some(e)) => println!("verify {}: UNREADABLE: {e}", v.declared),
            _ => println!("verify {}: MISMATCH", v.declared),
        }
    }
    if let Some(l) = &r.layers {
        let mib = |b: u64| b as f64 / (1u64 << 20) as f64;
        println!(
            "layers: {} shared between platforms; stored once {:.1} MiB, the platforms' sizes add up to {:.1} MiB",
            l.shared.len(),
            mib(l.stored_bytes),
            mib(l.platform_bytes)
        );
    }
    if let (Some(d), Some(i)) = (&r.destination, &r.index_digest) {
        println!("index {d} -> {i}");
    }
}

fn parse_builder(s: &str) -> Result<archbench_results::build::Builder, String> {
    match s {
        "buildkit" => Ok(archbench_results::build::Builder::Buildkit),
        "classic" => Ok(archbench_results::build::Builder::Classic),
        _ => Err(format!("unknown builder {s:?}: use buildkit or classic")),
    }
}

/// Where `--cache-to` sends BuildKit's cache.
#[derive(Debug, Clone, PartialEq, Eq)]
enum CacheTo {
    /// Into each image's config.
    Inline,
    /// A cache manifest in a registry.
    Registry(archbench_engine::RegistryCache),
}

fn parse_cache_to(s: &str) -> Result<CacheTo, String> {
    if matches!(s, "inline" | "type=inline") {
        return Ok(CacheTo::Inline);
    }
    let fields: Vec<(&str, &str)> =
        s.split(',').map(|kv| kv.split_once('=').unwrap_or((kv, ""))).collect();
    let get = |k: &str| fields.iter().find(|(key, _)| *key == k).map(|(_, v)| *v);
    match get("type") {
        Some("registry") => {
            let reference = get("ref").filter(|r| !r.is_empty()).ok_or_else(|| {
                format!("{s:?}: a registry cache needs ref=REGISTRY/REPO:TAG")
            })?;
            archbench_oci::Reference::parse(reference)
                .map_err(|e| format!("{s:?}: ref {reference:?}: {e}"))?;
            let max = match get("mode") {
                None | Some("min") => false,
                Some("max") => true,
                Some(m) => return Err(format!("{s:?}: mode={m} is not min or max")),
            };
            for (k, _) in &fields {
                if !matches!(*k, "type" | "ref" | "mode") {
                    return Err(format!("{s:?}: archbench passes type, ref and mode; not {k}"));
                }
            }
            Ok(CacheTo::Registry(archbench_engine::RegistryCache {
                reference: reference.to_owned(),
                max,
            }))
        }
        Some(t @ ("local" | "gha" | "s3" | "azblob")) => Err(format!(
            "{s:?}: archbench writes inline and registry caches, not {t} (a local cache goes to the client's disk, the others to a cloud service with credentials of their own)"
        )),
        _ => Err(format!("{s:?}: use --cache-to inline or type=registry,ref=REF[,mode=max]")),
    }
}

fn parse_provenance(s: &str) -> Result<String, String> {
    match s {
        "mode=min" | "min" | "true" | "1" => Ok("mode=min".into()),
        "mode=max" | "max" => Ok("mode=max".into()),
        "false" | "0" => Ok(String::new()),
        _ => Err(format!("{s:?}: use --provenance mode=min, mode=max or false")),
    }
}
