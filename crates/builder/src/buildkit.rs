//! Builds through the engine's BuildKit (issue 16): which builder runs, what Dockerfile it is
//! sent, and the vertex stream turned into stages, a timeline and per-vertex records.
//!
//! Decisions recorded here:
//! - BuildKit needs the session API, Engine API 1.39 or newer (Engine 18.09). An older engine,
//!   or `--builder classic`, gets the classic builder, and the run's note says why.
//! - BuildKit honours the build-level platform and `FROM --platform=`, so for native, cross and
//!   remote builds the Dockerfile is sent as written, with no pinning of base images: the
//!   classic builder's two workarounds (see `run::rewrite_dockerfile`) are not needed.
//! - The emulated strategy is the one place a rewrite still applies. BuildKit always sets
//!   `BUILDPLATFORM` to the worker's platform, so "every stage as the target" is had by writing
//!   the target into each `FROM --platform=` that names `$BUILDPLATFORM`, and passing the
//!   `BUILD*` arguments as the target's (BuildKit v0.8 in Engine 20.10 lets a build argument
//!   override them; checked by hand with `docker build --build-arg BUILDARCH=arm64`).

use std::collections::BTreeMap;

use archbench_engine::{BuildEvent, EngineInfo, Vertex};
use archbench_platform::Platform;
use archbench_results::build::{Builder, StageTiming, StepTiming, Timeline, VertexTiming};

/// The oldest Engine API with BuildKit sessions.
pub const MIN_API: (u32, u32) = (1, 39);

/// Which builder runs on this engine, and why, in words for the run's note.
pub fn choose(asked: Option<Builder>, info: &EngineInfo) -> (Builder, String) {
    let api = parse_api(&info.api_version);
    let supported = api.is_some_and(|v| v >= MIN_API) && info.platform.starts_with("linux/");
    match (asked, supported) {
        (Some(Builder::Classic), _) => (Builder::Classic, "classic builder, as asked".into()),
        (_, true) => (
            Builder::Buildkit,
            format!(
                "BuildKit{} (engine API {})",
                if asked.is_some() { ", as asked" } else { ", the default where the engine has it" },
                info.api_version
            ),
        ),
        (asked, false) => (
            Builder::Classic,
            format!(
                "classic builder{}: the engine at {} speaks API {} ({}), and BuildKit needs API {}.{} or newer on Linux",
                if asked.is_some() { " instead of BuildKit" } else { "" },
                info.host,
                if info.api_version.is_empty() { "unknown" } else { &info.api_version },
                info.platform,
                MIN_API.0,
                MIN_API.1
            ),
        ),
    }
}

fn parse_api(v: &str) -> Option<(u32, u32)> {
    let (a, b) = v.split_once('.')?;
    Some((a.parse().ok()?, b.parse().ok()?))
}

/// The Dockerfile BuildKit is sent for `target` under the emulated strategy: every
/// `FROM --platform=$BUILDPLATFORM` (or `${BUILDPLATFORM}`) names the target instead. Other
/// lines are unchanged.
pub fn emulated_dockerfile(text: &str, target: &Platform) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        let t = line.trim_start();
        if t.len() > 5 && t[..5].eq_ignore_ascii_case("FROM ") {
            out.push_str(
                &line
                    .replace("--platform=$BUILDPLATFORM", &format!("--platform={target}"))
                    .replace("--platform=${BUILDPLATFORM}", &format!("--platform={target}")),
            );
        } else {
            out.push_str(line);
        }
        out.push('\n');
    }
    out
}

/// Each stage's name as BuildKit prints it (`build` for `AS build`, `stage-N` for the N-th
/// unnamed one, counted from 0) and the platform its commands run as.
pub fn stage_platforms(
    text: &str,
    target: &Platform,
    build_platform: &Platform,
) -> BTreeMap<String, Platform> {
    let mut out = BTreeMap::new();
    let mut index = 0;
    for line in text.lines() {
        let t = line.trim_start();
        if !(t.len() > 5 && t[..5].eq_ignore_ascii_case("FROM ")) {
            continue;
        }
        let words: Vec<&str> = t[5..].split_whitespace().collect();
        let platform = match words.iter().find_map(|w| w.strip_prefix("--platform=")) {
            Some("$BUILDPLATFORM" | "${BUILDPLATFORM}") => build_platform.clone(),
            Some(p) => p.parse().unwrap_or_else(|_| target.clone()),
            None => target.clone(),
        };
        let name = words
            .iter()
            .position(|w| w.eq_ignore_ascii_case("as"))
            .and_then(|i| words.get(i + 1))
            .map_or_else(|| format!("stage-{index}"), |n| n.to_ascii_lowercase());
        out.insert(name, platform);
        index += 1;
    }
    out
}

/// `[build 4/6] RUN make` → (`build`, 4, `RUN make`); `None` for BuildKit's own vertices. In a
/// multi-platform solve the name starts with the platform (`[linux/amd64->arm64 build 4/6]`),
/// which is dropped here (see [`name_platforms`]).
fn split_name(name: &str) -> Option<(String, usize, String)> {
    let rest = name.strip_prefix('[')?;
    let (head, instruction) = rest.split_once("] ")?;
    let head = match head.split_once(' ') {
        Some((first, rest)) if first.contains('/') && rest.contains('/') => rest,
        _ => head,
    };
    let (stage, pos) = head.rsplit_once(' ').unwrap_or(("stage-0", head));
    let (n, _) = pos.split_once('/')?;
    Some((stage.to_owned(), n.parse().ok()?, instruction.to_owned()))
}

/// The platforms a multi-platform solve's vertex name carries: `[linux/amd64 build 2/5]` ran as
/// and for linux/amd64; `[linux/amd64->arm64 build 4/5]` ran as linux/amd64 for the linux/arm64
/// image (BuildKit writes the target's OS only when it differs from the stage's). `None` for a
/// name without a platform (`[internal] load build context`, any single-platform build).
pub fn name_platforms(name: &str) -> Option<(Platform, Platform)> {
    let head = name.strip_prefix('[')?.split_once(']')?.0;
    let first = head.split(' ').next()?;
    let (runs_as, target) = match first.split_once("->") {
        Some((base, target)) => (base, Some(target)),
        None => (first, None),
    };
    let runs_as: Platform = runs_as.parse().ok()?;
    let target = match target {
        None => runs_as.clone(),
        Some(t) => format!("{}/{t}", runs_as.os).parse().or_else(|_| t.parse()).ok()?,
    };
    Some((runs_as, target))
}

/// The vertex stream of one build, folded into the last state of each vertex.
#[derive(Default)]
pub struct VertexTracker {
    order: Vec<String>,
    vertices: BTreeMap<String, Vertex>,
    logs: BTreeMap<String, Vec<String>>,
}

/// Log lines kept per vertex.
const LOG_LINES: usize = 10;

impl VertexTracker {
    /// Take one event; returns the name of a vertex that has just started, for progress.
    pub fn on(&mut self, e: &BuildEvent) -> Option<String> {
        match e {
            BuildEvent::Vertex(v) => {
                let started_now = v.started.is_some()
                    && self.vertices.get(&v.digest).is_none_or(|old| old.started.is_none());
                if !self.vertices.contains_key(&v.digest) {
                    self.order.push(v.digest.clone());
                }
                self.vertices.insert(v.digest.clone(), v.clone());
                started_now.then(|| v.name.clone())
            }
            BuildEvent::Log { vertex, text } => {
                let lines = self.logs.entry(vertex.clone()).or_default();
                lines.extend(text.lines().filter(|l| !l.trim().is_empty()).map(str::to_owned));
                let extra = lines.len().saturating_sub(LOG_LINES);
                lines.drain(..extra);
                None
            }
            _ => None,
        }
    }

    /// The vertex that failed, with its last log lines.
    pub fn failed(&self) -> Option<(String, Vec<String>)> {
        self.order.iter().filter_map(|d| self.vertices.get(d)).find(|v| v.error.is_some()).map(
            |v| (format!("step {}", v.name), self.logs.get(&v.digest).cloned().unwrap_or_default()),
        )
    }

    /// What failed when no vertex says it did: the Dockerfile step that started last, or
    /// "the Dockerfile frontend" when no step had started (a parse error fails there).
    pub fn last_started(&self) -> (String, Vec<String>) {
        self.order
            .iter()
            .filter_map(|d| self.vertices.get(d))
            .filter(|v| v.started.is_some() && split_name(&v.name).is_some())
            .max_by_key(|v| v.started)
            .map(|v| {
                (format!("step {}", v.name), self.logs.get(&v.digest).cloned().unwrap_or_default())
            })
            .unwrap_or_else(|| ("the Dockerfile frontend (before any step)".to_owned(), Vec::new()))
    }

    /// Every vertex with times relative to the first start, the timeline, and the stages
    /// (steps numbered as BuildKit numbers them within each stage; a stage's time is its
    /// steps' sum, as for the classic builder).
    pub fn finish(
        self,
        stage_platforms: &BTreeMap<String, Platform>,
        host: &Platform,
    ) -> (Vec<VertexTiming>, Option<Timeline>, Vec<StageTiming>) {
        let runs_as = |stage: &str, _: &str| {
            stage_platforms.get(stage).cloned().unwrap_or_else(|| host.clone())
        };
        self.finish_with(&|_| true, &runs_as, host)
    }

    /// [`Self::finish`] for each platform of one multi-platform solve. A platform's run holds
    /// the vertices named for it, every vertex they waited for (a `$BUILDPLATFORM` stage that
    /// BuildKit ran once for all platforms is in each platform's run), and BuildKit's own
    /// vertices; each stage runs as the platform its vertices name. Times stay relative to the
    /// solve's first vertex, so the platforms' lanes share one clock.
    pub fn finish_multi(
        &self,
        targets: &[Platform],
        host: &Platform,
    ) -> Vec<(Vec<VertexTiming>, Option<Timeline>, Vec<StageTiming>)> {
        let runs_as =
            |_: &str, name: &str| name_platforms(name).map_or_else(|| host.clone(), |p| p.0);
        targets
            .iter()
            .map(|t| {
                let mut keep: std::collections::BTreeSet<&str> = std::collections::BTreeSet::new();
                let mut todo: Vec<&str> = self
                    .vertices
                    .values()
                    .filter(|v| name_platforms(&v.name).is_some_and(|(_, target)| &target == t))
                    .map(|v| v.digest.as_str())
                    .collect();
                while let Some(d) = todo.pop() {
                    if keep.insert(d) {
                        if let Some(v) = self.vertices.get(d) {
                            todo.extend(v.inputs.iter().map(String::as_str));
                        }
                    }
                }
                let keep = |v: &Vertex| {
                    keep.contains(v.digest.as_str()) || name_platforms(&v.name).is_none()
                };
                self.finish_with(&keep, &runs_as, host)
            })
            .collect()
    }

    // Long (about 65 lines): one pass over the vertices building three views of them (records,
    // steps by stage, the timeline).
    fn finish_with(
        &self,
        keep: &dyn Fn(&Vertex) -> bool,
        runs_as: &dyn Fn(&str, &str) -> Platform,
        host: &Platform,
    ) -> (Vec<VertexTiming>, Option<Timeline>, Vec<StageTiming>) {
        let t0 = self.vertices.values().filter_map(|v| v.started).min();
        let secs = |t: Option<i128>| match (t, t0) {
            (Some(t), Some(t0)) => (t - t0) as f64 / 1e9,
            _ => 0.0,
        };
        let mut vertices = Vec::new();
        let mut stages: Vec<StageTiming> = Vec::new();
        for d in &self.order {
            let Some(v) = self.vertices.get(d).filter(|v| keep(v)) else { continue };
            let start = secs(v.started);
            let end = if v.completed.is_some() { secs(v.completed) } else { start };
            let parsed = split_name(&v.name);
            vertices.push(VertexTiming {
                name: v.name.clone(),
                stage: parsed.as_ref().map(|(s, _, _)| s.clone()),
                digest: v.digest.clone(),
                inputs: v.inputs.clone(),
                start,
                end,
                cached: v.cached,
                error: v.error.clone(),
                log: self.logs.get(d).cloned().unwrap_or_default(),
            });
            let Some((stage, number, instruction)) = parsed else { continue };
            let runs_as = runs_as(&stage, &v.name);
            let step = StepTiming {
                number,
                instruction,
                seconds: (end - start).max(0.0),
                cached: v.cached,
            };
            // A multi-platform solve has a `build` stage per platform it ran as.
            match stages.iter_mut().find(|s| s.name == stage && s.runs_as == runs_as) {
                Some(s) => s.steps.push(step),
                None => stages.push(StageTiming {
                    name: stage,
                    emulated: false,
                    runs_as,
                    seconds: 0.0,
                    steps: vec![step],
                }),
            }
        }
        for s in &mut stages {
            s.steps.sort_by_key(|st| st.number);
            s.seconds = s.steps.iter().map(|st| st.seconds).sum();
            s.emulated = s.runs_as.arch != host.arch
                && s.steps.iter().any(|st| st.instruction.to_ascii_uppercase().starts_with("RUN "));
        }
        let timeline = Timeline::of(&vertices);
        (vertices, timeline, stages)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(api: &str) -> EngineInfo {
        EngineInfo {
            host: "unix:///var/run/docker.sock".into(),
            version: "20.10.24".into(),
            api_version: api.into(),
            platform: "linux/amd64".into(),
            storage_driver: None,
            id: None,
            root_dir: None,
            containerd_store: false,
        }
    }

    #[test]
    fn the_builder_and_why() {
        assert_eq!(choose(None, &info("1.41")).0, Builder::Buildkit);
        let (b, why) = choose(Some(Builder::Buildkit), &info("1.38"));
        assert_eq!(b, Builder::Classic);
        assert!(why.contains("instead of BuildKit") && why.contains("API 1.38"), "{why}");
        assert!(why.contains("needs API 1.39"), "{why}");
        assert_eq!(choose(Some(Builder::Classic), &info("1.41")).0, Builder::Classic);
        assert_eq!(choose(None, &info("")).0, Builder::Classic);
    }

    #[test]
    fn only_buildplatform_froms_are_rewritten_for_emulation() {
        let d = "ARG B=x\nFROM --platform=$BUILDPLATFORM ${B} AS build\nRUN echo $BUILDPLATFORM\nFROM scratch\n";
        let arm = Platform::linux_arm64();
        let out = emulated_dockerfile(d, &arm);
        assert!(out.contains("FROM --platform=linux/arm64 ${B} AS build"), "{out}");
        assert!(out.contains("RUN echo $BUILDPLATFORM"), "{out}");
        let stages = stage_platforms(d, &arm, &Platform::linux_amd64());
        assert_eq!(stages["build"], Platform::linux_amd64());
        assert_eq!(stages["stage-1"], arm);
    }

    #[test]
    fn vertices_become_stages_a_timeline_and_a_failure() {
        let mut t = VertexTracker::default();
        let s = 1_700_000_000_000_000_000i128;
        let vx =
            |d: &str, name: &str, inputs: &[&str], a: i128, b: Option<i128>, err: Option<&str>| {
                BuildEvent::Vertex(Vertex {
                    digest: d.into(),
                    inputs: inputs.iter().map(|s| (*s).to_owned()).collect(),
                    name: name.into(),
                    cached: false,
                    started: Some(s + a * 1_000_000_000),
                    completed: b.map(|b| s + b * 1_000_000_000),
                    error: err.map(str::to_owned),
                })
            };
        assert_eq!(
            t.on(&vx("a", "[internal] load build context", &[], 0, None, None)),
            Some("[internal] load build context".into())
        );
        assert_eq!(t.on(&vx("a", "[internal] load build context", &[], 0, Some(1), None)), None);
        t.on(&vx("b", "[build 2/3] RUN make", &["a"], 1, Some(4), None));
        t.on(&BuildEvent::Log { vertex: "b".into(), text: "cc -O2 x.c\nok\n".into() });
        t.on(&vx("c", "[stage-1 1/1] COPY --from=build /x /x", &["b"], 4, Some(5), Some("boom")));
        let (name, log) = t.failed().unwrap();
        assert_eq!(name, "step [stage-1 1/1] COPY --from=build /x /x");
        assert!(log.is_empty());
        let platforms: BTreeMap<String, Platform> =
            [("build".to_owned(), Platform::linux_arm64())].into_iter().collect();
        let (vs, tl, stages) = t.finish(&platforms, &Platform::linux_amd64());
        assert_eq!(vs.len(), 3);
        assert_eq!(vs[1].log, ["cc -O2 x.c", "ok"]);
        assert_eq!(vs[0].stage, None);
        let tl = tl.unwrap();
        assert_eq!((tl.wall, tl.steps_sum, tl.critical_path), (5.0, 5.0, 5.0));
        assert_eq!(stages.len(), 2);
        assert_eq!(stages[0].name, "build");
        assert!(stages[0].emulated, "a RUN stage as arm64 on amd64");
        assert_eq!(stages[0].steps[0].seconds, 3.0);
        assert!(!stages[1].emulated);
        assert_eq!(split_name("[2/3] RUN x"), Some(("stage-0".into(), 2, "RUN x".into())));
        assert_eq!(split_name("[internal] load build context"), None);
    }

    /// A multi-platform solve as BuildKit names it (seen on Engine 26.1 with buildx): each
    /// platform's run holds its own vertices, the `$BUILDPLATFORM` vertices it waited for (run
    /// once for both), and BuildKit's own; stages run as their names say.
    #[test]
    fn a_multi_platform_solve_splits_into_a_run_per_platform() {
        let amd = Platform::linux_amd64();
        let arm = Platform::linux_arm64();
        assert_eq!(
            name_platforms("[linux/amd64 build 2/5] WORKDIR /src"),
            Some((amd.clone(), amd.clone()))
        );
        assert_eq!(
            name_platforms("[linux/amd64->arm64 build 4/5] RUN make"),
            Some((amd.clone(), arm.clone()))
        );
        assert_eq!(
            name_platforms("[linux/amd64->arm/v7 build 4/5] RUN make"),
            Some((amd.clone(), "linux/arm/v7".parse().unwrap()))
        );
        assert_eq!(name_platforms("[internal] load build context"), None);
        assert_eq!(name_platforms("[build 2/3] RUN make"), None);
        assert_eq!(split_name("[linux/amd64->arm64 build 4/5] RUN make").unwrap().0, "build");
        assert_eq!(split_name("[linux/arm64 stage-1 1/1] COPY a /a").unwrap().1, 1);
        assert_eq!(split_name("[linux/amd64 1/2] RUN x").unwrap().0, "stage-0");
        assert_eq!(split_name("[linux/amd64 internal] load metadata for x"), None);

        let mut t = VertexTracker::default();
        let s = 1_700_000_000_000_000_000i128;
        let mut vx = |d: &str, name: &str, inputs: &[&str], a: i128, b: i128| {
            t.on(&BuildEvent::Vertex(Vertex {
                digest: d.into(),
                inputs: inputs.iter().map(|s| (*s).to_owned()).collect(),
                name: name.into(),
                cached: false,
                started: Some(s + a * 1_000_000_000),
                completed: Some(s + b * 1_000_000_000),
                error: None,
            }));
        };
        vx("ctx", "[internal] load build context", &[], 0, 1);
        vx("from", "[linux/amd64 build 1/3] FROM builder", &[], 0, 2);
        vx("make-amd", "[linux/amd64 build 3/3] RUN make", &["from", "ctx"], 2, 5);
        vx("make-arm", "[linux/amd64->arm64 build 3/3] RUN make", &["from", "ctx"], 2, 6);
        vx("copy-amd", "[linux/amd64 stage-1 1/1] COPY --from=build /x /x", &["make-amd"], 5, 6);
        vx("copy-arm", "[linux/arm64 stage-1 1/1] COPY --from=build /x /x", &["make-arm"], 6, 7);
        vx("export", "exporting to oci image format", &[], 7, 8);
        let runs = t.finish_multi(&[amd.clone(), arm.clone()], &amd);
        let names = |i: usize| runs[i].0.iter().map(|v| v.digest.clone()).collect::<Vec<_>>();
        assert_eq!(names(0), ["ctx", "from", "make-amd", "copy-amd", "export"]);
        assert_eq!(names(1), ["ctx", "from", "make-arm", "copy-arm", "export"]);
        let arm_stages = &runs[1].2;
        assert_eq!(arm_stages[0].name, "build");
        assert_eq!(arm_stages[0].runs_as, amd, "cross: the build stage ran as amd64");
        assert_eq!(arm_stages[0].steps.iter().map(|s| s.number).collect::<Vec<_>>(), [1, 3]);
        assert!(!arm_stages[0].emulated);
        assert_eq!(arm_stages[1].runs_as, arm);
        assert!(!arm_stages[1].emulated, "a COPY-only stage needs no QEMU");
        // One clock for both lanes: the arm64 run starts where the solve started.
        assert_eq!(runs[1].1.unwrap().wall, 8.0);
    }
}
