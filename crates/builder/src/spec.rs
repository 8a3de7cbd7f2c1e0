//! What a build is asked to do and what it reports while it runs: the strategies, the
//! specification, progress events, and the names every part of the build shares.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use archbench_platform::Platform;
use archbench_results::build::{Builder, StrategyKind};

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
    /// One BuildKit solve for every platform, as `docker buildx build --platform a,b` sends
    /// it: each stage as its `FROM --platform` says, QEMU for the target's own stages, the
    /// index exported by BuildKit (see [`crate::multi`]).
    Multi,
}

impl fmt::Display for Strategy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Strategy::Native => f.write_str("native"),
            Strategy::Emulated => f.write_str("emulated"),
            Strategy::Cross => f.write_str("cross"),
            Strategy::Remote(h) => write!(f, "remote={h}"),
            Strategy::Multi => f.write_str("multi"),
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
            "multi" => Ok(Strategy::Multi),
            _ => match s.strip_prefix("remote=") {
                Some(h) if h.starts_with("tcp://") || h.starts_with("ssh://") || h.starts_with("unix://") => {
                    Ok(Strategy::Remote(h.to_owned()))
                }
                _ => Err(format!(
                    "unknown strategy {s:?}: use native, emulated, cross, multi or remote=DOCKER_HOST (tcp://, ssh://, unix://)"
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
            Strategy::Multi => StrategyKind::Multi,
        }
    }

    /// Its name in tags and messages (`native`, `emulated`, …).
    pub(crate) fn name(&self) -> &'static str {
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
    /// The builder asked for; `None` picks BuildKit where the engine has it (see
    /// [`crate::buildkit::choose`]).
    pub builder: Option<Builder>,
    /// `--cache-from`: images whose cache the build may use (implies using the cache).
    pub cache_from: Vec<String>,
    /// `--cache-to inline`: BuildKit writes its cache records into each image's config
    /// (`BUILDKIT_INLINE_CACHE=1`), so a later `--cache-from` of the pushed image can reuse them.
    pub cache_inline: bool,
    /// `--cache-to type=registry,ref=R`: BuildKit pushes its cache to a registry (engines whose
    /// BuildKit has that exporter, probed; see [`crate::multi::check_cache_to`]).
    pub cache_to: Option<archbench_engine::RegistryCache>,
    /// `--provenance`: BuildKit's provenance attestation (`mode=min`, `mode=max`), kept in the
    /// index of a `multi` build.
    pub provenance: Option<String>,
    /// `--source-date-epoch`: `SOURCE_DATE_EPOCH` for the build; a `multi` build's layers get
    /// their file times rewritten to it where the engine can.
    pub source_date_epoch: Option<i64>,
}

/// The target platforms of one build: one, or every platform of a `multi` solve. Shown as
/// buildx writes `--platform` (`linux/amd64,linux/arm64`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Targets(pub Vec<Platform>);

impl fmt::Display for Targets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, p) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{p}")?;
        }
        Ok(())
    }
}

impl From<&Platform> for Targets {
    fn from(p: &Platform) -> Self {
        Targets(vec![p.clone()])
    }
}

/// Progress while building: which platform × strategy, and what happened.
#[derive(Debug, Clone)]
pub struct Progress {
    /// Target platforms.
    pub targets: Targets,
    /// Strategy.
    pub strategy: Strategy,
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

/// What the run's note adds about the cache.
pub(crate) fn cache_note(spec: &BuildSpec, builder: Builder) -> String {
    let mut note = String::new();
    if !spec.cache_from.is_empty() {
        note.push_str(&format!("; cache from {}", spec.cache_from.join(", ")));
    }
    if spec.cache_inline {
        note.push_str(match builder {
            Builder::Buildkit => "; inline cache written into the image",
            Builder::Classic => "; no inline cache: the classic builder cannot write one",
        });
    }
    note
}

/// Name of the rewritten Dockerfile inside the context sent to the engine.
pub const REWRITTEN: &str = ".archbench.Dockerfile";
