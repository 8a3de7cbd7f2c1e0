//! Building one Dockerfile per platform × strategy, timing every step, and assembling the index.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use archbench_engine::{BuildEvent, BuildRequest, EngineInfo};
use archbench_oci::layout::LayoutWriter;
use archbench_platform::{Arch, Platform};
use archbench_results::build::{BuildReport, BuildRun, Builder, StrategyKind, StrategyRatio};

use crate::context::context_with;
use crate::export::export;
use crate::spec::cache_note;
use crate::steps::StepTracker;
use crate::world::{engine_platform, Real};
use crate::{Error, Result};

pub use crate::spec::{platform_args, BuildSpec, Event, Progress, Strategy, Targets, REWRITTEN};
pub use crate::world::{BuildEngine, Surroundings};

/// Run every applicable platform × strategy, write each image to the layout, then an index
/// (one manifest per platform: the first strategy in `spec.strategies` that built it).
pub fn build_all(spec: &BuildSpec, progress: &mut dyn FnMut(Progress)) -> Result<BuildReport> {
    build_with(&mut Real::connect()?, spec, progress)
}

/// What a strategy means for one platform on an engine of platform `host`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Build with `$BUILDPLATFORM` = `build_platform`; `note` says what the strategy means.
    Build {
        /// The platform the build-platform stages run as.
        build_platform: Platform,
        /// In words.
        note: String,
        /// Whether the build needs QEMU for `platform`.
        needs_qemu: bool,
    },
    /// Does not apply, for this reason.
    Skip(String),
}

/// The strategies tried for `platform`: the ones asked for, except that a Wasm entry is always
/// compiled on the build platform, so it gets `cross` alone.
///
/// How a Wasm entry is built on an engine that stores only linux images (Engine 20.10 refuses to
/// export a `wasi/wasm` image: "operating system is not supported"): the job is sent for the
/// build platform with the `TARGET*` arguments set to the Wasm platform, which BuildKit lets a
/// build argument override, so the Dockerfile picks its Wasm stages as buildx would; the
/// exported config is then labelled with the Wasm platform ([`crate::export`]), and `verify`
/// checks that the entry holds Wasm and no native code. Where the engine stores non-Linux
/// images (the probe's `non-linux-images`; Engine 26 with the containerd store), the job is sent
/// as the Wasm platform itself, as buildx sends it, and nothing is relabelled; the run's note
/// says which.
pub fn strategies_for(platform: &Platform, asked: &[Strategy]) -> Vec<Strategy> {
    if platform.arch == Arch::Wasm {
        vec![Strategy::Cross]
    } else {
        asked.to_vec()
    }
}

/// Decide what `strategy` does for `platform` on an engine of platform `host` at `engine_host`;
/// `same_engine` says that a remote address reaches the local engine itself (their IDs agree),
/// so its times are this machine's.
pub fn decide(
    strategy: &Strategy,
    platform: &Platform,
    host: &Platform,
    engine_host: &str,
    same_engine: bool,
) -> Decision {
    if platform.arch == Arch::Wasm {
        // A Wasm entry is compiled, never run, while building: its stages run on the build
        // platform, so it is a cross build whatever else was asked for (see strategies_for).
        return match strategy {
            Strategy::Cross => Decision::Build {
                build_platform: host.clone(),
                note: format!(
                    "compiled to Wasm on {host} (sent as {host} with TARGETPLATFORM={platform}: the engine stores only linux images)"
                ),
                needs_qemu: false,
            },
            _ => Decision::Skip(format!(
                "a {platform} entry is compiled on the build platform (cross); {strategy} does not apply to it"
            )),
        };
    }
    let native_here = platform == host || (host.arch == platform.arch && host.os == platform.os);
    let build = |build_platform: &Platform, note: String, needs_qemu| Decision::Build {
        build_platform: build_platform.clone(),
        note,
        needs_qemu,
    };
    match strategy {
        Strategy::Native | Strategy::Remote(_) if !native_here => Decision::Skip(format!(
            "the engine at {engine_host} is {host}, so {platform} would not be native there"
        )),
        Strategy::Multi => Decision::Skip(format!(
            "{platform} is built in the one solve of every platform (see crate::multi)"
        )),
        Strategy::Native => build(host, format!("native on {host}"), false),
        Strategy::Remote(h) => build(
            host,
            format!(
                "native worker at {h} ({host}); {}",
                if same_engine {
                    "that is the local engine itself (same engine ID and data directory), so its times are this machine's"
                } else {
                    "another engine, so its times are that engine's host's"
                }
            ),
            false,
        ),
        Strategy::Emulated | Strategy::Cross if native_here => {
            Decision::Skip(format!("{platform} is the engine's own platform; use native"))
        }
        Strategy::Emulated => {
            build(platform, format!("every stage runs as {platform} under QEMU on {host}"), true)
        }
        Strategy::Cross => build(
            host,
            format!("$BUILDPLATFORM stages run natively on {host}; the rest as {platform}"),
            false,
        ),
    }
}

/// [`build_all`] in any [`Surroundings`]: each platform × strategy is decided, built, timed
/// and exported in turn ([`build_one`]); the index is written only when every build succeeded.
// Long (about 110 lines): the orchestration in its order (checks, the one solve first or last,
// each combination, the failure kept for the report, the index); each part is a call already.
pub fn build_with(
    world: &mut dyn Surroundings,
    spec: &BuildSpec,
    progress: &mut dyn FnMut(Progress),
) -> Result<BuildReport> {
    let local_info = world.local().info()?;
    let original = std::fs::read_to_string(spec.context.join(&spec.dockerfile)).map_err(|e| {
        Error::Io { action: "reading", path: spec.context.join(&spec.dockerfile), source: e }
    })?;
    let mut runs: Vec<BuildRun> = Vec::new();
    let mut per_platform: BTreeMap<Platform, archbench_oci::layout::Written> = BTreeMap::new();
    let mut first_error: Option<Error> = None;
    crate::multi::check_cache_to(world, spec, &local_info)?;
    // A multi-platform solve is checked before anything is built, and runs first when it is
    // the preferred strategy (its manifests then give the index), else after the others.
    let multi_note = match spec.strategies.contains(&Strategy::Multi) {
        true => Some(crate::multi::check(world, &local_info, spec)?),
        false => None,
    };
    // A Wasm entry goes to BuildKit as wasi/wasm itself where the engine stores non-Linux
    // images (probed; see strategies_for); elsewhere it is sent for the build platform.
    let wasm_direct = spec.platforms.iter().any(|p| p.arch == Arch::Wasm)
        && crate::buildkit::choose(spec.builder, &local_info).0 == Builder::Buildkit
        && world.local().buildkit_facts().ok().flatten().is_some_and(|f| {
            f.capabilities.iter().any(|c| c.name == "non-linux-images" && c.available)
        });
    let mut multi: Option<crate::multi::Built> = None;
    if spec.strategies.first() == Some(&Strategy::Multi) {
        multi = run_multi(
            world,
            spec,
            &local_info,
            &original,
            multi_note.as_deref(),
            &mut runs,
            &mut per_platform,
            &mut first_error,
            progress,
        )?;
    }
    'platforms: for platform in &spec.platforms {
        for strategy in &strategies_for(platform, &spec.strategies) {
            if *strategy == Strategy::Multi {
                continue;
            }
            // After an interrupt, nothing more is started; what ran is reported, no index made.
            if archbench_results::cleanup::interrupt_requested() {
                first_error.get_or_insert(Error::Unsupported("interrupted by the user".into()));
                break 'platforms;
            }
            let Some((run, manifest, error)) = build_combination(
                world,
                spec,
                &local_info,
                &original,
                platform,
                strategy,
                wasm_direct,
                progress,
            )?
            else {
                continue;
            };
            if let Some(m) = manifest {
                // The first strategy that built a platform gives its index entry.
                per_platform.entry(platform.clone()).or_insert(m);
            }
            if let Some(e) = error {
                first_error.get_or_insert(e);
            }
            runs.push(run);
        }
    }
    if multi.is_none() && !archbench_results::cleanup::interrupt_requested() {
        multi = run_multi(
            world,
            spec,
            &local_info,
            &original,
            multi_note.as_deref(),
            &mut runs,
            &mut per_platform,
            &mut first_error,
            progress,
        )?;
    }
    let ratios = ratios(&runs);
    let mut report = BuildReport {
        context: spec.context.display().to_string(),
        dockerfile: spec.dockerfile.clone(),
        runs,
        ratios,
        destination: None,
        index_digest: None,
        verified: None,
        layers: None,
        warm: false,
    };
    if let Some(e) = first_error {
        // No index is written when any build failed: a half-built index is what we must not
        // leave behind. The runs so far are still reported through the error path's caller.
        return Err(Error::Failed { report: Box::new(report), cause: Box::new(e) });
    }
    let digest = write_index(spec, &per_platform, multi.as_ref())?;
    report.destination = Some(format!("oci:{}:{}", spec.layout.display(), spec.tag));
    report.index_digest = Some(digest.to_string());
    Ok(report)
}

/// What one platform × strategy gave: its run, the image it wrote, and the error that ended it
/// (the build goes on with the other combinations).
type Combination = (BuildRun, Option<archbench_oci::layout::Written>, Option<Error>);

/// One platform × strategy within [`build_with`]: decided ([`decide`]; `None` when it does not
/// apply, said through `progress`), built and exported ([`build_one`]). `wasm_direct`: the
/// engine stores non-Linux images.
#[allow(clippy::too_many_arguments)]
fn build_combination(
    world: &mut dyn Surroundings,
    spec: &BuildSpec,
    local_info: &EngineInfo,
    original: &str,
    platform: &Platform,
    strategy: &Strategy,
    wasm_direct: bool,
    progress: &mut dyn FnMut(Progress),
) -> Result<Option<Combination>> {
    let ev =
        |event: Event| Progress { targets: platform.into(), strategy: strategy.clone(), event };
    let remote = match strategy {
        Strategy::Remote(h) => Some(world.remote(h)?),
        _ => None,
    };
    let info = match &remote {
        Some(r) => r.info()?,
        None => local_info.clone(),
    };
    let host = engine_platform(&info)?;
    let same_engine = info.same_engine(local_info);
    let (build_platform, note) = match decide(strategy, platform, &host, &info.host, same_engine) {
        Decision::Skip(why) => {
            progress(ev(Event::Skip(why)));
            return Ok(None);
        }
        Decision::Build { build_platform, note, needs_qemu } => {
            if needs_qemu {
                world.can_emulate(platform)?;
            }
            (build_platform, note)
        }
    };
    let (builder, why) = crate::buildkit::choose(spec.builder, &info);
    let wasm_direct = wasm_direct && builder == Builder::Buildkit && platform.arch == Arch::Wasm;
    let note = match wasm_direct {
        true => format!(
            "compiled to Wasm on {host}, sent as {platform} (the engine stores non-Linux images, probed)"
        ),
        false => note,
    };
    let note = format!("{note}; {why}{}", cache_note(spec, builder));
    let (args, dockerfile) = sent(spec, builder, platform, &build_platform, &host, original, world);
    let job = Job {
        wasm_direct,
        spec,
        platform,
        strategy,
        host: &host,
        build_platform: &build_platform,
        builder,
        args,
        dockerfile,
        note,
    };
    let engine: &dyn BuildEngine = match &remote {
        Some(r) => r.as_ref(),
        None => world.local(),
    };
    let (mut run, manifest, error) = build_one(engine, &info.host, &job, &mut |e| progress(ev(e)))?;
    run.work_seconds = work_seconds(&run);
    progress(ev(Event::Done(run.seconds, run.ok)));
    Ok(Some((run, manifest, error)))
}

/// The multi-platform solve within [`build_with`] (when `note`, from [`crate::multi::check`],
/// says it was asked for): its runs, its manifests for the index, its failure.
#[allow(clippy::too_many_arguments)]
fn run_multi(
    world: &mut dyn Surroundings,
    spec: &BuildSpec,
    local_info: &EngineInfo,
    original: &str,
    note: Option<&str>,
    runs: &mut Vec<BuildRun>,
    per_platform: &mut BTreeMap<Platform, archbench_oci::layout::Written>,
    first_error: &mut Option<Error>,
    progress: &mut dyn FnMut(Progress),
) -> Result<Option<crate::multi::Built>> {
    let Some(note) = note else { return Ok(None) };
    let all = crate::multi::platforms(spec);
    let targets = Targets(all.clone());
    let mut ev = |event: Event| {
        progress(Progress { targets: targets.clone(), strategy: Strategy::Multi, event })
    };
    let mut built = crate::multi::build(world.local(), local_info, spec, original, note, &mut ev)?;
    for (p, m) in &built.entries {
        per_platform.entry(p.clone()).or_insert(m.clone());
    }
    if let Some(e) = built.error.take() {
        first_error.get_or_insert(e);
    }
    for r in &mut built.runs {
        r.work_seconds = work_seconds(r);
    }
    let seconds = built.runs.first().map_or(0.0, |r| r.seconds);
    ev(Event::Done(seconds, built.runs.iter().all(|r| r.ok)));
    runs.append(&mut built.runs);
    Ok(Some(built))
}

/// The build arguments and the Dockerfile text sent for one job: for the classic builder the
/// buildx arguments and exact `FROM` lines ([`rewrite_dockerfile`]); for BuildKit the file as
/// written, except under emulation (see [`crate::buildkit`]).
fn sent(
    spec: &BuildSpec,
    builder: Builder,
    platform: &Platform,
    build_platform: &Platform,
    host: &Platform,
    original: &str,
    world: &mut dyn Surroundings,
) -> (BTreeMap<String, String>, String) {
    let (mut args, dockerfile) = match builder {
        Builder::Classic => {
            let mut args = platform_args(platform, build_platform);
            args.extend(spec.build_args.clone());
            let dockerfile =
                rewrite_dockerfile(original, &args, &mut |image, p| world.resolve(image, p));
            (args, dockerfile)
        }
        Builder::Buildkit if platform.arch == Arch::Wasm => {
            // Sent as the build platform; the Dockerfile sees the Wasm target (see strategies_for).
            let mut args: BTreeMap<String, String> = platform_args(platform, build_platform)
                .into_iter()
                .filter(|(k, _)| k.starts_with("TARGET"))
                .collect();
            args.extend(spec.build_args.clone());
            (args, original.to_owned())
        }
        Builder::Buildkit if build_platform == platform && platform != host => {
            // Emulated: the one rewrite BuildKit still needs (see crate::buildkit).
            let mut args: BTreeMap<String, String> = platform_args(platform, platform)
                .into_iter()
                .filter(|(k, _)| k.starts_with("BUILD"))
                .collect();
            args.extend(spec.build_args.clone());
            (args, crate::buildkit::emulated_dockerfile(original, platform))
        }
        Builder::Buildkit => (spec.build_args.clone(), original.to_owned()),
    };
    if spec.cache_inline && builder == Builder::Buildkit {
        args.insert("BUILDKIT_INLINE_CACHE".into(), "1".into());
    }
    (args, dockerfile)
}

/// One platform × strategy, decided and ready to send.
struct Job<'a> {
    spec: &'a BuildSpec,
    platform: &'a Platform,
    strategy: &'a Strategy,
    host: &'a Platform,
    build_platform: &'a Platform,
    builder: Builder,
    args: BTreeMap<String, String>,
    dockerfile: String,
    note: String,
    /// A Wasm entry sent to BuildKit as its own platform (see [`strategies_for`]).
    wasm_direct: bool,
}
// Long (about 115 lines): one build, timed, by either builder; the run record is filled field by field for the success and
// the two failure paths.

/// Build one job on `engine`, time its steps, and export the image to the layout. The run is
/// always returned; a failed build or export also returns its error (after the run is filled
/// in), so the caller can report every run and still write no index.
fn build_one(
    engine: &dyn BuildEngine,
    engine_host: &str,
    job: &Job<'_>,
    progress: &mut dyn FnMut(Event),
) -> Result<(BuildRun, Option<archbench_oci::layout::Written>, Option<Error>)> {
    let Job { spec, platform, strategy, host, .. } = *job;
    let context = context_with(&spec.context, REWRITTEN, job.dockerfile.as_bytes())?;
    let tag = format!("{}:{}-{}", spec.name, platform.short().replace('/', "-"), strategy.name());
    let buildkit = job.builder == Builder::Buildkit;
    let req = BuildRequest {
        context,
        dockerfile: REWRITTEN.to_owned(),
        // The classic builder gets exact FROM lines instead (see rewrite_dockerfile).
        platform: buildkit.then(|| match platform.arch {
            Arch::Wasm if !job.wasm_direct => job.build_platform.clone(),
            _ => platform.clone(),
        }),
        build_args: job.args.clone(),
        tag: tag.clone(),
        no_cache: spec.no_cache && spec.cache_from.is_empty(),
        timeout: spec.timeout,
        builder: job.builder,
        cache_from: spec.cache_from.clone(),
        // A registry cache, attestations and rewritten file times belong to the multi-platform
        // solve alone (see crate::multi).
        cache_to: None,
        attest: BTreeMap::new(),
        source_date_epoch: None,
    };
    progress(Event::Start);
    let mut tracker = StepTracker::new(platform, host, job.args.clone());
    let mut vertices = crate::buildkit::VertexTracker::default();
    let started = Instant::now();
    let mut last_step = String::new();
    let result = engine.build(&req, &mut |e| {
        if let Some(name) = vertices.on(&e) {
            progress(Event::Step(name));
        }
        if let BuildEvent::Output(text) = e {
            tracker.output(&text, Instant::now());
            let step = tracker.current_step();
            if step != last_step {
                last_step = step.clone();
                progress(Event::Step(step));
            }
        }
    });
    let seconds = started.elapsed().as_secs_f64();
    let (step, log) = if buildkit {
        let (name, lines) = vertices.failed().unwrap_or_else(|| vertices.last_started());
        (name, lines.iter().map(|l| format!("  | {l}")).collect::<Vec<_>>().join("\n"))
    } else {
        (format!("step {}", tracker.current_step()), tracker.last_lines())
    };
    let (stages, vertices, timeline) = if buildkit {
        let stage_platforms =
            crate::buildkit::stage_platforms(&job.dockerfile, platform, job.build_platform);
        let (v, t, stages) = vertices.finish(&stage_platforms, host);
        (stages, v, t)
    } else {
        (tracker.finish(Instant::now()), Vec::new(), None)
    };
    let mut run = BuildRun {
        platform: platform.clone(),
        strategy: strategy.kind(),
        builder: job.builder,
        engine: engine_host.to_owned(),
        note: job.note.clone(),
        ok: false,
        error: None,
        seconds,
        work_seconds: 0.0,
        stages,
        image_id: None,
        manifest_digest: None,
        image_bytes: 0,
        vertices,
        timeline,
    };
    let id = match result {
        Ok(id) => id,
        Err(e) => {
            let err = Error::Step {
                targets: platform.into(),
                strategy: strategy.clone(),
                step,
                message: e.detail(),
                log,
            };
            run.error = Some(err.to_string());
            return Ok((run, None, Some(err)));
        }
    };
    run.image_id = Some(id);
    match export(engine, &tag, platform, &spec.layout) {
        Ok(x) => {
            run.ok = true;
            run.manifest_digest = Some(x.manifest.digest.to_string());
            run.image_bytes = x.size;
            match x.relabelled_from {
                Some(from) if platform.arch == Arch::Wasm => {
                    run.note.push_str(&format!("; built as {from}, labelled {platform}"))
                }
                Some(from) => run.note.push_str(&format!(
                    "; the classic builder labelled the image {from}, corrected to {platform}"
                )),
                None => {}
            }
            Ok((run, Some(x.manifest), None))
        }
        Err(e) => {
            run.error = Some(archbench_results::error_line(&e));
            Ok((run, None, Some(e)))
        }
    }
}

/// The steps' time without `FROM` steps (base image pulls): the build's own work.
fn work_seconds(run: &BuildRun) -> f64 {
    run.stages
        .iter()
        .flat_map(|s| &s.steps)
        .filter(|s| !s.instruction.to_ascii_uppercase().starts_with("FROM "))
        .map(|s| s.seconds)
        .sum()
}

/// The index of the built platforms, in the order asked for, tagged in the layout; its digest.
fn write_index(
    spec: &BuildSpec,
    per_platform: &BTreeMap<Platform, archbench_oci::layout::Written>,
    multi: Option<&crate::multi::Built>,
) -> Result<archbench_oci::Digest> {
    let entries: Vec<(archbench_oci::layout::Written, Platform)> = spec
        .platforms
        .iter()
        .filter_map(|p| per_platform.get(p).map(|w| (w.clone(), p.clone())))
        .collect();
    if entries.is_empty() {
        return Err(Error::Unsupported(
            "nothing was built: no strategy applies to the platforms given (see the skipped lines)"
                .into(),
        ));
    }
    let mut w = LayoutWriter::create(&spec.layout)?;
    // BuildKit's own index, attestations and all, when it names exactly these manifests.
    let idx = match multi.and_then(|m| m.index.clone().filter(|_| m.covers(&entries))) {
        Some(idx) => idx,
        None => w.index(&entries, &Default::default())?,
    };
    w.tag(&idx, &spec.tag)?;
    Ok(idx.digest)
}

/// Make a buildx Dockerfile build per stage platform on the classic builder.
///
/// Given a build-level platform, Engine 20.10's classic builder refuses `COPY` in any stage of
/// another platform ("failed to get destination image … does not match the specified
/// platform"), which breaks every `FROM --platform=$BUILDPLATFORM` stage; without one, it takes
/// whatever local image has the name, whatever `FROM --platform=` says. So the build is sent
/// without a platform and each `FROM` is made exact: its platform expanded (default
/// `$TARGETPLATFORM`, as BuildKit does), and its image, when `resolve` knows it (a registry
/// index), pinned to that platform's manifest digest (`repo@sha256:…`), which the engine pulls
/// as a distinct image. Stage names and unresolvable images are left as written. Nothing else
/// in the file changes.
pub fn rewrite_dockerfile(
    text: &str,
    args: &BTreeMap<String, String>,
    resolve: &mut dyn FnMut(&str, &str) -> Option<String>,
) -> String {
    let mut meta = args.clone();
    let mut seen_from = false;
    let mut stages: Vec<String> = Vec::new();
    let mut out = String::new();
    for line in text.lines() {
        let t = line.trim_start();
        let upper = t.to_ascii_uppercase();
        if !seen_from && upper.starts_with("ARG ") {
            // Global ARG defaults, expanded in order; a build arg overrides a default.
            let decl = t[4..].trim();
            if let Some((name, default)) = decl.split_once('=') {
                let name = name.trim().to_owned();
                if !args.contains_key(&name) {
                    let v = crate::steps::expand(default.trim().trim_matches('"'), &meta);
                    meta.insert(name, v);
                }
            }
        }
        if upper.starts_with("FROM ") {
            seen_from = true;
            let words: Vec<&str> = t[5..].split_whitespace().collect();
            let platform = words
                .iter()
                .find_map(|w| w.strip_prefix("--platform="))
                .unwrap_or("$TARGETPLATFORM");
            let platform = crate::steps::expand(platform, &meta);
            let rest: Vec<&str> =
                words.iter().copied().filter(|w| !w.starts_with("--platform=")).collect();
            if let Some(image) = rest.first() {
                let image = crate::steps::expand(image, &meta);
                let pinned = if stages.contains(&image) || image == "scratch" {
                    image.clone()
                } else {
                    resolve(&image, &platform).unwrap_or(image.clone())
                };
                let tail = rest[1..].join(" ");
                if let Some(i) = rest.iter().position(|w| w.eq_ignore_ascii_case("as")) {
                    if let Some(n) = rest.get(i + 1) {
                        stages.push((*n).to_owned());
                    }
                }
                out.push_str(&format!(
                    "FROM --platform={platform} {pinned}{}{tail}\n",
                    if tail.is_empty() { "" } else { " " }
                ));
                continue;
            }
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// Work-time ratios (steps without base pulls) against the native build of the host platform.
pub fn ratios(runs: &[BuildRun]) -> Vec<StrategyRatio> {
    let Some(native) = runs.iter().find(|r| r.ok && r.strategy == StrategyKind::Native) else {
        return Vec::new();
    };
    runs.iter()
        // A multi run's steps include the stages it shared with the other platforms.
        .filter(|r| r.ok && r.strategy != StrategyKind::Native && r.strategy != StrategyKind::Multi)
        .map(|r| StrategyRatio {
            platform: r.platform.clone(),
            strategy: r.strategy,
            against: native.platform.clone(),
            ratio: r.work_seconds / native.work_seconds,
        })
        .collect()
}

/// Where the default output goes.
pub fn default_layout(root: &Path) -> PathBuf {
    root.join("reports/images")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rewrite_expands_platforms_and_pins_images() {
        let src = "ARG BASE=debian\nARG BUILDER=${BASE}\nFROM --platform=$BUILDPLATFORM ${BUILDER} AS build\nRUN make\n  from ${BASE}\nCOPY --from=build /a /a\nFROM build\n";
        let args = platform_args(&Platform::linux_arm64(), &Platform::linux_amd64());
        let mut asked = Vec::new();
        let out = rewrite_dockerfile(src, &args, &mut |image, p| {
            asked.push(format!("{image} {p}"));
            (p == "linux/arm64").then(|| format!("{image}@sha256:aa"))
        });
        assert_eq!(
            out,
            "ARG BASE=debian\nARG BUILDER=${BASE}\nFROM --platform=linux/amd64 debian AS build\nRUN make\nFROM --platform=linux/arm64 debian@sha256:aa\nCOPY --from=build /a /a\nFROM --platform=linux/arm64 build\n"
        );
        assert_eq!(
            asked,
            ["debian linux/amd64", "debian linux/arm64"],
            "stage names are never resolved"
        );
    }

    #[test]
    fn strategies_parse_and_refuse() {
        assert_eq!("qemu".parse::<Strategy>().unwrap(), Strategy::Emulated);
        assert!("remote=127.0.0.1:2375".parse::<Strategy>().unwrap_err().contains("tcp://"));
        assert!("fast".parse::<Strategy>().is_err());
    }
}

/// The orchestration against a scripted engine (issue 13, item 7): no dockerd, no QEMU, no root.
#[cfg(test)]
mod orchestration {
    use std::cell::RefCell;
    use std::time::Duration;

    use archbench_oci::{ImageRef, ImageSource};

    use super::*;

    /// An amd64 engine whose builds print classic-builder steps and whose images are small
    /// docker-save archives labelled amd64 (as the classic builder labels every image).
    struct FakeEngine {
        platform: &'static str,
        /// Builds whose tag contains this fail at their RUN step.
        fail: Option<&'static str>,
        built: RefCell<Vec<BuildRequest>>,
        /// Its BuildKit exports OCI indexes of several platforms (Engine 26), or not (20.10).
        multi: bool,
    }

    impl BuildEngine for FakeEngine {
        fn info(&self) -> archbench_engine::Result<EngineInfo> {
            Ok(EngineInfo {
                host: "fake://engine".into(),
                version: "20.10.24".into(),
                api_version: "1.41".into(),
                platform: self.platform.into(),
                storage_driver: None,
                id: Some("fake-engine".into()),
                root_dir: Some("/var/lib/docker".into()),
                containerd_store: false,
            })
        }
        fn build(
            &self,
            req: &BuildRequest,
            on_event: &mut dyn FnMut(BuildEvent),
        ) -> archbench_engine::Result<String> {
            self.built.borrow_mut().push(req.clone());
            for line in ["Step 1/3 : FROM scratch\n", "Step 2/3 : RUN make\n", "compiling\n"] {
                on_event(BuildEvent::Output(line.into()));
            }
            if self.fail.is_some_and(|f| req.tag.contains(f)) {
                return Err(archbench_engine::Error::Docker {
                    host: "fake://engine".into(),
                    action: "building".into(),
                    message: "The command '/bin/sh -c make' returned a non-zero code: 2".into(),
                });
            }
            on_event(BuildEvent::Output("Step 3/3 : COPY a /a\n".into()));
            on_event(BuildEvent::Output(" ---> Using cache\n".into()));
            Ok(format!("sha256:{}", "1".repeat(64)))
        }
        fn save(&self, image: &str, out: &mut dyn std::io::Write) -> archbench_engine::Result<u64> {
            let p: Platform = self.platform.parse().unwrap();
            let bytes = archbench_oci::docker_save::of_files(
                image,
                &p,
                &[("hello", 0o755, image.as_bytes())],
                &["/hello"],
            );
            out.write_all(&bytes).unwrap();
            Ok(bytes.len() as u64)
        }
        /// Vertices named as BuildKit names them, then an OCI tar whose index holds one small
        /// image per platform (each holding an ELF binary of its platform).
        fn build_multi(
            &self,
            req: &BuildRequest,
            platforms: &[Platform],
            oci_tar: &Path,
            on_event: &mut dyn FnMut(BuildEvent),
        ) -> archbench_engine::Result<String> {
            self.built.borrow_mut().push(req.clone());
            let t0 = 1_700_000_000_000_000_000i128;
            let mut vx = |d: &str, name: &str, inputs: &[&str], a: i128, b: i128| {
                on_event(BuildEvent::Vertex(archbench_engine::Vertex {
                    digest: d.into(),
                    inputs: inputs.iter().map(|s| (*s).to_owned()).collect(),
                    name: name.into(),
                    cached: false,
                    started: Some(t0 + a * 100_000_000),
                    completed: Some(t0 + b * 100_000_000),
                    error: None,
                }))
            };
            vx("from", "[linux/amd64 build 1/2] FROM scratch", &[], 0, 1);
            for (i, p) in platforms.iter().enumerate() {
                let i = i as i128;
                let arch = p.short().replace("linux/", "");
                let prefix = if p.arch == Platform::linux_amd64().arch {
                    "linux/amd64".to_owned()
                } else {
                    format!("linux/amd64->{arch}")
                };
                vx(
                    &format!("make-{i}"),
                    &format!("[{prefix} build 2/2] RUN make"),
                    &["from"],
                    1,
                    3 + i,
                );
                vx(
                    &format!("copy-{i}"),
                    &format!("[{p} stage-1 1/1] COPY --from=build /x /x"),
                    &[&format!("make-{i}")],
                    3 + i,
                    4 + i,
                );
            }
            let dir = tempfile::tempdir().unwrap();
            let mut w = LayoutWriter::create(dir.path()).unwrap();
            let mut entries = Vec::new();
            for p in platforms {
                let elf = p.to_string().into_bytes();
                let layer = crate::base::gzip_layer(tar_of(&[("hello", &elf)])).unwrap();
                entries.push((w.image(p, &[layer], &["/hello"]).unwrap(), p.clone()));
            }
            let idx = w.index(&entries, &Default::default()).unwrap();
            w.tag(&idx, "latest").unwrap();
            let mut b = tar::Builder::new(std::fs::File::create(oci_tar).unwrap());
            // Named as BuildKit names them: `index.json`, `blobs/sha256/…`, no `./`.
            for name in ["oci-layout", "index.json"] {
                b.append_path_with_name(dir.path().join(name), name).unwrap();
            }
            for blob in std::fs::read_dir(dir.path().join("blobs/sha256")).unwrap() {
                let blob = blob.unwrap();
                let name = format!("blobs/sha256/{}", blob.file_name().to_string_lossy());
                b.append_path_with_name(blob.path(), name).unwrap();
            }
            b.finish().unwrap();
            Ok(idx.digest.to_string())
        }
        fn buildkit_facts(
            &self,
        ) -> archbench_engine::Result<Option<archbench_engine::buildkit::Facts>> {
            let cap = |name: &str| archbench_engine::buildkit::Capability {
                name: name.into(),
                available: self.multi,
                detail: if self.multi {
                    "worked".into()
                } else {
                    "exporter \"oci\" could not be found".into()
                },
            };
            Ok(Some(archbench_engine::buildkit::Facts {
                version: None,
                workers: Vec::new(),
                capabilities: vec![cap("oci-export"), cap("multi-platform")],
            }))
        }
    }

    /// A tar of `files`.
    fn tar_of(files: &[(&str, &[u8])]) -> Vec<u8> {
        let mut b = tar::Builder::new(Vec::new());
        for (name, bytes) in files {
            let mut h = tar::Header::new_gnu();
            h.set_size(bytes.len() as u64);
            h.set_mode(0o755);
            h.set_cksum();
            b.append_data(&mut h, name, *bytes).unwrap();
        }
        b.into_inner().unwrap()
    }

    struct FakeWorld {
        engine: FakeEngine,
        qemu: bool,
        remotes: RefCell<Vec<String>>,
    }

    impl Surroundings for FakeWorld {
        fn local(&self) -> &dyn BuildEngine {
            &self.engine
        }
        fn remote(&self, host: &str) -> Result<Box<dyn BuildEngine>> {
            self.remotes.borrow_mut().push(host.to_owned());
            Ok(Box::new(FakeEngine {
                platform: "linux/amd64",
                fail: None,
                built: Default::default(),
                multi: false,
            }))
        }
        fn can_emulate(&self, p: &Platform) -> Result<()> {
            if self.qemu {
                Ok(())
            } else {
                Err(Error::Unsupported(format!("no QEMU for {p} in this test")))
            }
        }
        fn resolve(&mut self, _: &str, _: &str) -> Option<String> {
            None
        }
    }

    fn world(fail: Option<&'static str>, qemu: bool) -> FakeWorld {
        FakeWorld {
            engine: FakeEngine {
                platform: "linux/amd64",
                fail,
                built: Default::default(),
                multi: false,
            },
            qemu,
            remotes: Default::default(),
        }
    }

    fn spec(dir: &Path, strategies: &[&str]) -> BuildSpec {
        std::fs::write(dir.join("Dockerfile"), "FROM scratch\nRUN make\nCOPY a /a\n").unwrap();
        std::fs::write(dir.join("a"), "a").unwrap();
        BuildSpec {
            context: dir.to_owned(),
            dockerfile: "Dockerfile".into(),
            platforms: vec![Platform::linux_amd64(), Platform::linux_arm64()],
            strategies: strategies.iter().map(|s| s.parse().unwrap()).collect(),
            build_args: BTreeMap::new(),
            name: "archbench/test".into(),
            layout: dir.join("layout"),
            tag: "t".into(),
            no_cache: true,
            timeout: Duration::from_secs(5),
            // The fake engine prints classic-builder output; BuildKit is tested for real in
            // tests/cli/build.rs and its stream folding in crate::buildkit.
            builder: Some(Builder::Classic),
            cache_from: Vec::new(),
            cache_inline: false,
            cache_to: None,
            provenance: None,
            source_date_epoch: None,
        }
    }

    /// `multi`: checked before anything is built (refused where the engine's BuildKit cannot
    /// export an OCI index of several platforms, with the fix), then one solve whose index is
    /// imported and tagged as BuildKit made it, and a run per platform from its vertices.
    #[test]
    fn one_solve_for_every_platform_is_checked_split_and_indexed_as_buildkit_made_it() {
        let dir = tempfile::tempdir().unwrap();
        let mut spec = spec(dir.path(), &["multi", "emulated"]);
        spec.builder = Some(Builder::Buildkit);
        let mut w = world(None, true);
        let e = build_with(&mut w, &spec, &mut |_| {}).unwrap_err().to_string();
        assert!(
            e.contains("needs BuildKit's oci-export") && e.contains("could not be found"),
            "{e}"
        );
        assert!(e.contains("containerd image store") && e.contains("native,emulated"), "{e}");
        assert!(w.engine.built.borrow().is_empty(), "refused before building");

        w.engine.multi = true;
        let one = BuildSpec { platforms: vec![Platform::linux_arm64()], ..spec.clone() };
        let e = build_with(&mut w, &one, &mut |_| {}).unwrap_err().to_string();
        assert!(e.contains("has only linux/arm64") && e.contains("use native, cross"), "{e}");
        let cache = archbench_engine::RegistryCache { reference: "r/c:1".into(), max: true };
        let apart = BuildSpec {
            strategies: vec![Strategy::Native, Strategy::Emulated],
            cache_to: Some(cache),
            ..spec.clone()
        };
        let e = build_with(&mut w, &apart, &mut |_| {}).unwrap_err().to_string();
        assert!(e.contains("would each overwrite") && e.contains("--cache-to inline"), "{e}");
        assert!(w.engine.built.borrow().is_empty(), "refused before building");
        spec.strategies = vec![Strategy::Multi];
        spec.source_date_epoch = Some(7);
        let mut seen = Vec::new();
        let r =
            build_with(&mut w, &spec, &mut |p| seen.push(format!("{} {}", p.targets, p.strategy)))
                .unwrap();
        assert_eq!(seen[0], "linux/amd64,linux/arm64 multi");
        let sent = w.engine.built.borrow()[0].clone();
        assert_eq!(sent.source_date_epoch, Some(7));
        assert_eq!(sent.platform, None);
        assert_eq!(r.runs.len(), 2);
        assert!(r.ratios.is_empty(), "a multi run is not compared with native: {:?}", r.ratios);
        for (run, p) in r.runs.iter().zip([Platform::linux_amd64(), Platform::linux_arm64()]) {
            assert!(run.ok, "{run:?}");
            assert_eq!(run.platform, p);
            assert_eq!(run.strategy, StrategyKind::Multi);
            assert_eq!(run.seconds, r.runs[0].seconds, "the runs share one solve");
            assert!(
                run.note.contains("one BuildKit solve for linux/amd64, linux/arm64"),
                "{}",
                run.note
            );
            assert!(run.image_bytes > 0 && run.manifest_digest.is_some());
            assert!(run.stages.iter().any(|s| s.name == "stage-1" && s.runs_as == p));
        }
        // The arm64 run's build stage is the cross one, run as amd64 (no QEMU).
        let arm_build = r.runs[1].stages.iter().find(|s| s.name == "build").unwrap();
        assert_eq!(arm_build.runs_as, Platform::linux_amd64());
        // The tag names BuildKit's own index, which the layout also keeps under `t-multi`.
        let src = |tag: &str| {
            ImageSource::open(&ImageRef::Layout { dir: spec.layout.clone(), tag: Some(tag.into()) })
                .unwrap()
        };
        assert_eq!(src("t").root().unwrap().digest, src("t-multi").root().unwrap().digest);
        assert_eq!(r.index_digest.as_deref(), Some(src("t").root().unwrap().digest.as_str()));
    }

    /// Native for the host, emulated and cross for arm64; the combinations that do not apply
    /// are skipped with the reason; the arm64 images the engine labelled amd64 are relabelled;
    /// the index holds one entry per platform, from the first strategy that built it.
    #[test]
    fn every_applicable_combination_is_built_timed_exported_and_indexed() {
        let dir = tempfile::tempdir().unwrap();
        let spec = spec(dir.path(), &["native", "emulated", "cross"]);
        let mut w = world(None, true);
        let mut events = Vec::new();
        let report = build_with(&mut w, &spec, &mut |p| events.push(p)).unwrap();
        let got: Vec<(String, StrategyKind)> =
            report.runs.iter().map(|r| (r.platform.to_string(), r.strategy)).collect();
        assert_eq!(
            got,
            [
                ("linux/amd64".into(), StrategyKind::Native),
                ("linux/arm64".into(), StrategyKind::Emulated),
                ("linux/arm64".into(), StrategyKind::Cross),
            ]
        );
        let skips: Vec<&String> = events
            .iter()
            .filter_map(|p| match &p.event {
                Event::Skip(why) => Some(why),
                _ => None,
            })
            .collect();
        assert_eq!(skips.len(), 3, "{skips:?}");
        assert!(skips[0].contains("use native"));
        assert!(skips[2].contains("would not be native there"));
        let built = w.engine.built.borrow();
        assert_eq!(built[1].build_args["BUILDPLATFORM"], "linux/arm64", "emulated: all as target");
        assert_eq!(
            built[2].build_args["BUILDPLATFORM"], "linux/amd64",
            "cross: build stages on host"
        );
        assert_eq!(built[2].build_args["TARGETPLATFORM"], "linux/arm64");
        let arm = &report.runs[1];
        assert!(
            arm.ok && arm.note.contains("labelled the image linux/amd64, corrected to linux/arm64")
        );
        assert_eq!(arm.stages.len(), 1);
        assert_eq!(arm.stages[0].steps.len(), 3);
        assert!(arm.stages[0].steps[2].cached);
        assert_eq!(report.ratios.len(), 2);
        // The index: amd64 from native, arm64 from emulated (the first that built it).
        let json = |p: PathBuf| -> serde_json::Value {
            serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap()
        };
        let top = json(spec.layout.join("index.json"));
        let tagged = top["manifests"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["annotations"]["org.opencontainers.image.ref.name"] == "t")
            .unwrap();
        let digest = tagged["digest"].as_str().unwrap().strip_prefix("sha256:").unwrap();
        let index = json(spec.layout.join("blobs/sha256").join(digest));
        let entries: Vec<(String, String)> = index["manifests"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| {
                (
                    m["platform"]["architecture"].as_str().unwrap().to_owned(),
                    m["digest"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        assert_eq!(entries[0].0, "amd64");
        assert_eq!(entries[1], ("arm64".to_owned(), arm.manifest_digest.clone().unwrap()));
    }

    /// A failing step names platform, strategy, step and log; every run is still reported and
    /// no index is written.
    #[test]
    fn a_failed_build_reports_its_step_and_writes_no_index() {
        let dir = tempfile::tempdir().unwrap();
        let spec = spec(dir.path(), &["native", "emulated"]);
        let mut w = world(Some("arm64-emulated"), true);
        let err = build_with(&mut w, &spec, &mut |_| {}).unwrap_err();
        let Error::Failed { report, cause } = err else { panic!("{err}") };
        let msg = cause.to_string();
        assert!(msg.contains("linux/arm64") && msg.contains("emulated"), "{msg}");
        assert!(msg.contains("2/3 RUN make"), "{msg}");
        assert!(msg.contains("compiling"), "the last log lines: {msg}");
        assert_eq!(report.runs.len(), 2);
        assert!(report.runs[0].ok && !report.runs[1].ok);
        assert!(
            !spec.layout.join("index.json").exists() || {
                let idx = std::fs::read_to_string(spec.layout.join("index.json")).unwrap();
                !idx.contains("\"t\"")
            }
        );
    }

    /// Without QEMU an emulated build stops before anything is sent; a remote strategy
    /// connects to its own engine.
    #[test]
    fn missing_qemu_stops_and_remote_connects() {
        let dir = tempfile::tempdir().unwrap();
        let spec = spec(dir.path(), &["emulated"]);
        let mut w = world(None, false);
        let err = build_with(&mut w, &spec, &mut |_| {}).unwrap_err().to_string();
        assert!(err.contains("no QEMU for linux/arm64"), "{err}");
        assert!(w.engine.built.borrow().is_empty());

        let mut spec = spec;
        spec.strategies = vec!["remote=tcp://127.0.0.1:2375".parse().unwrap()];
        spec.platforms = vec![Platform::linux_amd64()];
        let report = build_with(&mut w, &spec, &mut |_| {}).unwrap();
        assert_eq!(*w.remotes.borrow(), ["tcp://127.0.0.1:2375"]);
        assert_eq!(report.runs[0].strategy, StrategyKind::Remote);
        assert!(report.runs[0].note.contains("the local engine itself"));
    }

    /// A Wasm entry (issue 19): built once, as a cross build whatever was asked, sent for the
    /// engine's platform with the TARGET arguments of the Wasm platform, and labelled
    /// `wasi/wasm` in the index although the engine labelled it amd64.
    #[test]
    fn a_wasm_entry_is_compiled_on_the_build_platform_and_labelled_wasm() {
        let dir = tempfile::tempdir().unwrap();
        let mut spec = spec(dir.path(), &["native", "emulated"]);
        spec.platforms = vec![Platform::linux_amd64(), "wasip1/wasm".parse().unwrap()];
        spec.builder = Some(Builder::Buildkit);
        let mut w = world(None, false);
        let report = build_with(&mut w, &spec, &mut |_| {}).unwrap();
        let got: Vec<(String, StrategyKind)> =
            report.runs.iter().map(|r| (r.platform.to_string(), r.strategy)).collect();
        assert_eq!(
            got,
            [
                ("linux/amd64".into(), StrategyKind::Native),
                ("wasi/wasm".into(), StrategyKind::Cross)
            ]
        );
        let built = w.engine.built.borrow();
        assert_eq!(built[1].platform.as_ref().unwrap().to_string(), "linux/amd64");
        assert_eq!(built[1].build_args["TARGETPLATFORM"], "wasi/wasm");
        assert_eq!(built[1].build_args["TARGETOS"], "wasi");
        assert_eq!(built[1].build_args["TARGETARCH"], "wasm");
        assert!(!built[1].build_args.contains_key("BUILDPLATFORM"), "BuildKit sets it");
        let wasm = &report.runs[1];
        assert!(wasm.note.contains("compiled to Wasm on linux/amd64"), "{}", wasm.note);
        assert!(wasm.note.contains("built as linux/amd64, labelled wasi/wasm"), "{}", wasm.note);
        let r =
            archbench_oci::ImageRef::parse(&format!("oci:{}:t", spec.layout.display())).unwrap();
        let declared: Vec<String> = archbench_oci::ImageSource::open(&r)
            .unwrap()
            .images()
            .unwrap()
            .iter()
            .map(|i| i.declared().to_string())
            .collect();
        assert_eq!(declared, ["linux/amd64", "wasi/wasm"]);
        // Asked for alone, a Wasm entry still needs no QEMU and no native engine.
        assert!(matches!(
            decide(&Strategy::Emulated, &Platform::wasi_wasm(), &Platform::linux_amd64(), "e", false),
            Decision::Skip(why) if why.contains("compiled on the build platform")
        ));
    }

    #[test]
    fn decisions_in_words() {
        let (amd, arm) = (Platform::linux_amd64(), Platform::linux_arm64());
        let d = decide(&Strategy::Cross, &arm, &amd, "e", false);
        assert!(
            matches!(d, Decision::Build { ref build_platform, needs_qemu: false, .. } if *build_platform == amd)
        );
        let d = decide(&Strategy::Emulated, &arm, &amd, "e", false);
        assert!(matches!(d, Decision::Build { needs_qemu: true, .. }));
        assert!(matches!(decide(&Strategy::Native, &arm, &amd, "e", false), Decision::Skip(_)));
    }
}
