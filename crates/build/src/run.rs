//! Building one Dockerfile per platform × strategy, timing every step, and assembling the index.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::{Duration, Instant};

use archbench_exec::binfmt::Binfmt;
use archbench_exec::engine::{BuildEvent, BuildRequest, Engine};
use archbench_oci::layout::LayoutWriter;
use archbench_platform::Platform;
use archbench_results::build::{BuildReport, BuildRun, Builder, StrategyKind, StrategyRatio};

use crate::context::context_with;
use crate::export::export;
use crate::steps::StepTracker;
use crate::{Error, Result};

/// How a platform's image is built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Strategy {
    /// Target = the engine's platform.
    Native,
    /// Target ≠ host; every stage, `--platform=$BUILDPLATFORM` ones included, runs as the target
    /// under QEMU (BUILDPLATFORM is set to the target, as a Dockerfile without cross support
    /// would behave).
    Emulated,
    /// `--platform=$BUILDPLATFORM` stages run on the host with a cross toolchain; only the
    /// other stages are per target.
    Cross,
    /// A native worker at this `DOCKER_HOST`.
    Remote(String),
}

impl fmt::Display for Strategy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Strategy::Native => f.write_str("native"),
            Strategy::Emulated => f.write_str("emulated"),
            Strategy::Cross => f.write_str("cross"),
            Strategy::Remote(h) => write!(f, "remote={h}"),
        }
    }
}

impl FromStr for Strategy {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "native" => Ok(Strategy::Native),
            "emulated" | "qemu" => Ok(Strategy::Emulated),
            "cross" => Ok(Strategy::Cross),
            _ => match s.strip_prefix("remote=") {
                Some(h) if h.starts_with("tcp://") || h.starts_with("ssh://") || h.starts_with("unix://") => {
                    Ok(Strategy::Remote(h.to_owned()))
                }
                _ => Err(format!(
                    "unknown strategy {s:?}: use native, emulated, cross or remote=DOCKER_HOST (tcp://, ssh://, unix://)"
                )),
            },
        }
    }
}

impl Strategy {
    /// The kind recorded in results files (a remote worker's address goes in `engine`).
    pub fn kind(&self) -> StrategyKind {
        match self {
            Strategy::Native => StrategyKind::Native,
            Strategy::Emulated => StrategyKind::Emulated,
            Strategy::Cross => StrategyKind::Cross,
            Strategy::Remote(_) => StrategyKind::Remote,
        }
    }

    fn name(&self) -> &'static str {
        self.kind().name()
    }
}

/// What to build.
#[derive(Debug, Clone)]
pub struct BuildSpec {
    /// Context directory.
    pub context: PathBuf,
    /// Dockerfile path relative to the context.
    pub dockerfile: String,
    /// Target platforms.
    pub platforms: Vec<Platform>,
    /// Strategies, in order of preference for the index.
    pub strategies: Vec<Strategy>,
    /// Extra build args (`BASE=…`).
    pub build_args: BTreeMap<String, String>,
    /// Local image name (`archbench/fixture`); tags get `:<platform>-<strategy>`.
    pub name: String,
    /// Layout the images and the index are written to.
    pub layout: PathBuf,
    /// Tag of the index in the layout.
    pub tag: String,
    /// Ignore the build cache (default for honest timings).
    pub no_cache: bool,
    /// Per-build timeout.
    pub timeout: Duration,
}

/// Progress while building: which platform × strategy, and what happened.
#[derive(Debug, Clone)]
pub struct Progress {
    /// Target platform.
    pub platform: String,
    /// Strategy.
    pub strategy: String,
    /// What happened.
    pub event: Event,
}

/// A progress event.
#[derive(Debug, Clone)]
pub enum Event {
    /// A build starts.
    Start,
    /// A step starts (`3/9 RUN make`).
    Step(String),
    /// A build ended after this many seconds; whether it succeeded.
    Done(f64, bool),
    /// The combination is skipped, for this reason.
    Skip(String),
}

/// Build arguments buildx defines, for the classic builder: TARGET* for `target`, BUILD* for
/// `build`.
pub fn platform_args(target: &Platform, build: &Platform) -> BTreeMap<String, String> {
    let mut m = BTreeMap::new();
    for (prefix, p) in [("TARGET", target), ("BUILD", build)] {
        m.insert(format!("{prefix}PLATFORM"), p.to_string());
        m.insert(format!("{prefix}OS"), p.os.to_string());
        m.insert(format!("{prefix}ARCH"), p.arch.to_string());
        m.insert(format!("{prefix}VARIANT"), p.variant.clone().unwrap_or_default());
    }
    m
}

fn binfmt_check(p: &Platform) -> Result<()> {
    let b = Binfmt::default();
    let entry = p.binfmt_entry().unwrap_or_default();
    if !b.mounted() {
        return Err(Error::Unsupported(format!(
            "emulated builds for {p} need binfmt_misc: mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc && update-binfmts --enable (archbench doctor checks this)"
        )));
    }
    match b.entry_for(p) {
        None => Err(Error::Unsupported(format!(
            "emulated builds for {p} need {entry} in binfmt_misc: install qemu-user-static (apt-get install qemu-user-static binfmt-support; archbench doctor checks this)"
        ))),
        Some(e) if !e.enabled => Err(Error::Unsupported(format!(
            "emulated builds for {p} need {entry}, which is disabled: echo 1 > /proc/sys/fs/binfmt_misc/{entry} (archbench doctor checks this)"
        ))),
        Some(_) => Ok(()),
    }
}

// Long (about 190 lines: connect, decide, build, time, export, index): its split into steps
// is issue 13 (item 6), which moves the orchestration behind a fake-able engine trait first.
/// Run every applicable platform × strategy, write each image to the layout, then an index
/// (one manifest per platform: the first strategy in `spec.strategies` that built it).
pub fn build_all(spec: &BuildSpec, progress: &mut dyn FnMut(Progress)) -> Result<BuildReport> {
    let local = Engine::connect(None, Duration::from_secs(30))?;
    let local_info = local.info()?;
    let original = std::fs::read_to_string(spec.context.join(&spec.dockerfile)).map_err(|e| {
        Error::Io { action: "reading", path: spec.context.join(&spec.dockerfile), source: e }
    })?;
    let mut pins = BTreeMap::new();
    let mut runs: Vec<BuildRun> = Vec::new();
    let mut per_platform: BTreeMap<String, (usize, archbench_oci::layout::Written)> =
        BTreeMap::new();
    let mut first_error: Option<Error> = None;
    'platforms: for platform in &spec.platforms {
        for (rank, strategy) in spec.strategies.iter().enumerate() {
            // After an interrupt, nothing more is started; what ran is reported, no index made.
            if archbench_results::cleanup::interrupt_requested() {
                first_error.get_or_insert(Error::Unsupported("interrupted by the user".into()));
                break 'platforms;
            }
            let ev = |event: Event| Progress {
                platform: platform.to_string(),
                strategy: strategy.to_string(),
                event,
            };
            let skip = |why: String| ev(Event::Skip(why));
            let remote;
            let (engine, info) = match strategy {
                Strategy::Remote(h) => {
                    remote = Engine::connect(Some(h), Duration::from_secs(30))?;
                    let i = remote.info()?;
                    (&remote, i)
                }
                _ => (&local, local_info.clone()),
            };
            let host: Platform = info.platform.parse().map_err(|_| {
                Error::Unsupported(format!(
                    "the engine at {} reports platform {:?}",
                    info.host, info.platform
                ))
            })?;
            let native_here =
                platform == &host || (host.arch == platform.arch && host.os == platform.os);
            let (build_platform, note) = match strategy {
                Strategy::Native | Strategy::Remote(_) if !native_here => {
                    progress(skip(format!("the engine at {} is {host}, so {platform} would not be native there", info.host)));
                    continue;
                }
                Strategy::Native => (host.clone(), format!("native on {host}")),
                Strategy::Remote(h) => (host.clone(), format!(
                    "native worker at {h} ({host}); on this machine that endpoint is {}, so its times are this machine's",
                    if h.contains("127.0.0.1") || h.contains("localhost") { "the local daemon over TCP loopback" } else { "another daemon" }
                )),
                Strategy::Emulated | Strategy::Cross if native_here => {
                    progress(skip(format!("{platform} is the engine's own platform; use native")));
                    continue;
                }
                Strategy::Emulated => {
                    binfmt_check(platform)?;
                    (platform.clone(), format!("every stage runs as {platform} under QEMU on {host}"))
                }
                Strategy::Cross => (host.clone(), format!("$BUILDPLATFORM stages run natively on {host}; the rest as {platform}")),
            };
            let mut args = platform_args(platform, &build_platform);
            args.extend(spec.build_args.clone());
            let dockerfile =
                rewrite_dockerfile(&original, &args, &mut |image, p| pin(image, p, &mut pins));
            let context = context_with(&spec.context, REWRITTEN, dockerfile.as_bytes())?;
            let tag =
                format!("{}:{}-{}", spec.name, platform.short().replace('/', "-"), strategy.name());
            let req = BuildRequest {
                context,
                dockerfile: REWRITTEN.to_owned(),
                platform: None,
                build_args: args.clone(),
                tag: tag.clone(),
                no_cache: spec.no_cache,
                timeout: spec.timeout,
            };
            progress(ev(Event::Start));
            let mut tracker = StepTracker::new(platform, &host, args);
            let started = Instant::now();
            let mut last_step = String::new();
            let result = engine.build(&req, &mut |e| {
                if let BuildEvent::Output(text) = e {
                    tracker.output(&text, Instant::now());
                    let step = tracker.current_step();
                    if step != last_step {
                        last_step = step.clone();
                        progress(ev(Event::Step(step)));
                    }
                }
            });
            let seconds = started.elapsed().as_secs_f64();
            let mut run = BuildRun {
                platform: platform.clone(),
                strategy: strategy.kind(),
                builder: Builder::Classic,
                engine: info.host.clone(),
                note,
                ok: false,
                error: None,
                seconds,
                work_seconds: 0.0,
                stages: Vec::new(),
                image_id: None,
                manifest_digest: None,
                image_bytes: 0,
            };
            match result {
                Ok(id) => {
                    run.stages = tracker.finish(Instant::now());
                    run.image_id = Some(id);
                    match export(engine, &tag, platform, &spec.layout) {
                        Ok(x) => {
                            run.ok = true;
                            run.manifest_digest = Some(x.manifest.digest.clone());
                            run.image_bytes = x.size;
                            if let Some(from) = x.relabelled_from {
                                run.note.push_str(&format!(
                                    "; the classic builder labelled the image {from}, corrected to {platform}"
                                ));
                            }
                            per_platform.entry(platform.to_string()).or_insert((rank, x.manifest));
                        }
                        Err(e) => {
                            run.error = Some(e.to_string());
                            first_error.get_or_insert(e);
                        }
                    }
                }
                Err(e) => {
                    let message = match &e {
                        archbench_exec::Error::Docker { message, .. } => message.clone(),
                        other => other.to_string(),
                    };
                    let err = Error::Step {
                        platform: platform.to_string(),
                        strategy: strategy.to_string(),
                        step: tracker.current_step(),
                        message,
                        log: tracker.last_lines(),
                    };
                    run.stages = tracker.finish(Instant::now());
                    run.error = Some(err.to_string());
                    first_error.get_or_insert(err);
                }
            }
            run.work_seconds = run
                .stages
                .iter()
                .flat_map(|s| &s.steps)
                .filter(|s| !s.instruction.to_ascii_uppercase().starts_with("FROM "))
                .map(|s| s.seconds)
                .sum();
            progress(ev(Event::Done(seconds, run.ok)));
            runs.push(run);
        }
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
    };
    if let Some(e) = first_error {
        // No index is written when any build failed: a half-built index is what we must not
        // leave behind. The runs so far are still reported through the error path's caller.
        return Err(Error::Failed { report: Box::new(report), cause: Box::new(e) });
    }
    let entries: Vec<(archbench_oci::layout::Written, Platform)> = spec
        .platforms
        .iter()
        .filter_map(|p| per_platform.get(&p.to_string()).map(|(_, w)| (w.clone(), p.clone())))
        .collect();
    if entries.is_empty() {
        return Err(Error::Unsupported(
            "nothing was built: no strategy applies to the platforms given (see the skipped lines)"
                .into(),
        ));
    }
    let mut w = LayoutWriter::create(&spec.layout)?;
    let idx = w.index(&entries, &Default::default())?;
    w.tag(&idx, &spec.tag)?;
    report.destination = Some(format!("oci:{}:{}", spec.layout.display(), spec.tag));
    report.index_digest = Some(idx.digest);
    Ok(report)
}

/// Name of the rewritten Dockerfile inside the context sent to the engine.
pub const REWRITTEN: &str = ".archbench.Dockerfile";

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

/// Resolve `image` (a registry reference) to the manifest of `platform` in its index, through
/// archbench's registry client (loopback registries over plain HTTP, like the engine).
fn pin(
    image: &str,
    platform: &str,
    cache: &mut BTreeMap<(String, String), Option<String>>,
) -> Option<String> {
    let key = (image.to_owned(), platform.to_owned());
    if let Some(hit) = cache.get(&key) {
        return hit.clone();
    }
    let found = (|| {
        let r = archbench_oci::Reference::parse(image).ok()?;
        let reg = archbench_oci::Registry::connect(r.api_host(), &Default::default()).ok()?;
        let root = reg.manifest(&r.repository, r.target()).ok()?;
        let index: serde_json::Value = serde_json::from_slice(&root.bytes).ok()?;
        let want: Platform = platform.parse().ok()?;
        let digest = index["manifests"].as_array()?.iter().find_map(|d| {
            let p = &d["platform"];
            let s = match p["variant"].as_str() {
                Some(v) => format!("{}/{}/{v}", p["os"].as_str()?, p["architecture"].as_str()?),
                None => format!("{}/{}", p["os"].as_str()?, p["architecture"].as_str()?),
            };
            (s.parse::<Platform>().ok()? == want)
                .then(|| d["digest"].as_str().map(str::to_owned))
                .flatten()
        })?;
        Some(format!("{}/{}@{digest}", r.registry, r.repository))
    })();
    tracing::info!(
        "FROM {image} for {platform}: {}",
        found.as_deref().unwrap_or("left as written")
    );
    cache.insert(key, found.clone());
    found
}

/// Work-time ratios (steps without base pulls) against the native build of the host platform.
pub fn ratios(runs: &[BuildRun]) -> Vec<StrategyRatio> {
    let Some(native) = runs.iter().find(|r| r.ok && r.strategy == StrategyKind::Native) else {
        return Vec::new();
    };
    runs.iter()
        .filter(|r| r.ok && r.strategy != StrategyKind::Native)
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
