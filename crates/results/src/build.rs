//! The payload of a `build` results file: per platform × strategy, the time of every Dockerfile
//! step, grouped by stage, and the image it produced.

use archbench_platform::Platform;
use serde::{Deserialize, Serialize};

/// How a platform's image was built. The `remote` worker's address is in [`BuildRun::engine`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StrategyKind {
    /// On an engine of the target's own architecture, here.
    Native,
    /// Every stage runs as the target, through QEMU.
    Emulated,
    /// `--platform=$BUILDPLATFORM` stages run natively with a cross toolchain.
    Cross,
    /// On a native worker reached through another `DOCKER_HOST`.
    Remote,
    /// One BuildKit solve for every platform at once, as `docker buildx build --platform a,b`
    /// does: each stage runs as its `FROM --platform` says (natively, or under QEMU). The
    /// platforms' runs share the solve, so each run's `seconds` is the whole solve's.
    Multi,
}

impl StrategyKind {
    /// Every kind, in the order the CLI lists them.
    pub const ALL: [StrategyKind; 5] = [
        StrategyKind::Native,
        StrategyKind::Emulated,
        StrategyKind::Cross,
        StrategyKind::Remote,
        StrategyKind::Multi,
    ];

    /// The lowercase name (`emulated`).
    pub fn name(self) -> &'static str {
        match self {
            StrategyKind::Native => "native",
            StrategyKind::Emulated => "emulated",
            StrategyKind::Cross => "cross",
            StrategyKind::Remote => "remote",
            StrategyKind::Multi => "multi",
        }
    }
}

impl std::fmt::Display for StrategyKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.name())
    }
}

/// Which builder of the engine ran the build.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Builder {
    /// The engine's classic (pre-BuildKit) builder.
    #[default]
    Classic,
    /// BuildKit, through a session.
    Buildkit,
}

/// Seconds.
pub type Seconds = f64;

/// One Dockerfile instruction as the builder ran it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepTiming {
    /// 1-based step number across the whole Dockerfile.
    pub number: usize,
    /// The instruction as the builder printed it (`RUN make -j2`).
    pub instruction: String,
    /// Wall time from this step's start to the next one's.
    pub seconds: Seconds,
    /// Whether the builder reused a cached result.
    pub cached: bool,
}

/// One `FROM` stage.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StageTiming {
    /// The stage's name (`AS build`), or its index.
    pub name: String,
    /// The platform the stage's commands ran as (`linux/amd64` for `--platform=$BUILDPLATFORM`
    /// stages under the cross strategy).
    pub runs_as: Platform,
    /// Whether it has `RUN` steps and they went through QEMU.
    pub emulated: bool,
    /// Sum of its steps.
    pub seconds: Seconds,
    /// Its steps.
    pub steps: Vec<StepTiming>,
}

/// One platform built with one strategy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BuildRun {
    /// Target platform.
    pub platform: Platform,
    /// How it was built.
    pub strategy: StrategyKind,
    /// The builder that ran it.
    #[serde(default)]
    pub builder: Builder,
    /// The engine that built it (`unix:///var/run/docker.sock`, `tcp://…`).
    pub engine: String,
    /// What the strategy means on this machine, in words (e.g. that `remote` reached the local
    /// daemon over TCP).
    pub note: String,
    /// Whether it succeeded.
    pub ok: bool,
    /// The failure: step, platform and the last log lines.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Wall time of the whole build (context upload to image ID).
    pub seconds: Seconds,
    /// The steps' time without `FROM` steps (base image pulls): the build's own work, which the
    /// ratios compare.
    #[serde(default)]
    pub work_seconds: Seconds,
    /// Per stage.
    pub stages: Vec<StageTiming>,
    /// Image ID.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image_id: Option<String>,
    /// Manifest digest in the output index.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub manifest_digest: Option<String>,
    /// Compressed size of the image's layers + config + manifest.
    pub image_bytes: u64,
    /// BuildKit only: every vertex of the build graph as BuildKit timed it, in the order it
    /// first reported them. Stages overlap under BuildKit, so see also `timeline`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub vertices: Vec<VertexTiming>,
    /// BuildKit only: wall time, the sum of the vertices and the critical path.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeline: Option<Timeline>,
}

/// Layers shared between the platforms of one index.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LayerSharing {
    /// Each platform's manifest, config and layers, added up over the platforms.
    pub platform_bytes: u64,
    /// Bytes stored once for the whole index (what a first push uploads).
    pub stored_bytes: u64,
    /// The layers more than one platform uses: digest, size and the platforms.
    pub shared: Vec<SharedLayer>,
}

/// One layer more than one platform uses.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SharedLayer {
    /// `sha256:…`.
    pub digest: String,
    /// Compressed bytes.
    pub size: u64,
    /// The platforms that use it.
    pub platforms: Vec<String>,
}

/// One BuildKit vertex of one run (its platform and strategy are the run's).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VertexTiming {
    /// BuildKit's name for it (`[build 4/6] RUN make`, `[internal] load build context`).
    pub name: String,
    /// The Dockerfile stage it belongs to (`build`, `stage-1`), `None` for BuildKit's own work
    /// (`[internal] …`, `exporting to image`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stage: Option<String>,
    /// Its digest in the build graph.
    pub digest: String,
    /// The digests it waited for.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub inputs: Vec<String>,
    /// Seconds from the first vertex's start to this one's start.
    pub start: Seconds,
    /// Seconds from the first vertex's start to this one's end.
    pub end: Seconds,
    /// Its result came from the cache.
    pub cached: bool,
    /// Why it failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Its last log lines (at most 10).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub log: Vec<String>,
}

/// Three ways to total a BuildKit build whose vertices overlap.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Timeline {
    /// First vertex start to last vertex end.
    pub wall: Seconds,
    /// Every vertex's duration added up (more than `wall` when stages ran in parallel).
    pub steps_sum: Seconds,
    /// The longest chain of dependent vertices, by duration: no amount of parallelism makes
    /// the build shorter than this.
    pub critical_path: Seconds,
}

impl Timeline {
    /// The three totals of `vertices`.
    pub fn of(vertices: &[VertexTiming]) -> Option<Timeline> {
        let first = vertices.iter().map(|v| v.start).fold(f64::INFINITY, f64::min);
        let last = vertices.iter().map(|v| v.end).fold(f64::NEG_INFINITY, f64::max);
        if !first.is_finite() || !last.is_finite() {
            return None;
        }
        let dur = |v: &VertexTiming| (v.end - v.start).max(0.0);
        // Longest path by duration, inputs first; a graph has no cycles, and a vertex that
        // names an input nobody reported just starts a chain. Memoised by index; the vertex
        // lists are tens long, so the quadratic lookup is fine.
        let mut memo: Vec<Option<f64>> = vec![None; vertices.len()];
        fn path(i: usize, vs: &[VertexTiming], memo: &mut Vec<Option<f64>>, depth: usize) -> f64 {
            if let Some(p) = memo[i] {
                return p;
            }
            let before = if depth > vs.len() {
                0.0 // a cycle in hostile input: cut it
            } else {
                vs[i]
                    .inputs
                    .iter()
                    .filter_map(|d| vs.iter().position(|v| &v.digest == d))
                    .map(|j| path(j, vs, memo, depth + 1))
                    .fold(0.0, f64::max)
            };
            let p = before + (vs[i].end - vs[i].start).max(0.0);
            memo[i] = Some(p);
            p
        }
        let critical_path =
            (0..vertices.len()).map(|i| path(i, vertices, &mut memo, 0)).fold(0.0, f64::max);
        Some(Timeline {
            wall: last - first,
            steps_sum: vertices.iter().map(dur).sum(),
            critical_path,
        })
    }
}

/// The work time of one strategy's build over the native build of the host's platform.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StrategyRatio {
    /// Platform of the numerator.
    pub platform: Platform,
    /// Strategy of the numerator.
    pub strategy: StrategyKind,
    /// Platform of the native build in the denominator.
    pub against: Platform,
    /// Numerator time / denominator time.
    pub ratio: f64,
}

impl BuildReport {
    /// The multi-platform solve against the same platforms built apart ([`OneSolve`]), when the
    /// runs hold both: every platform of the solve built natively or cross, on the same engine
    /// with the same builder. `None` otherwise: no comparison of unlike builds is made.
    pub fn one_solve(&self) -> Option<OneSolve> {
        let multi: Vec<&BuildRun> =
            self.runs.iter().filter(|r| r.strategy == StrategyKind::Multi).collect();
        if multi.is_empty() || multi.iter().any(|r| !r.ok) {
            return None;
        }
        // A RUN step from the cache means one side reused the other's work (`--cache`): no
        // figure. (BuildKit marks a step it ran once for two platforms cached in the second.)
        let ran_from_cache =
            |r: &BuildRun| r.vertices.iter().any(|v| v.cached && v.name.contains("] RUN "));
        let apart = multi
            .iter()
            .map(|m| {
                self.runs
                    .iter()
                    .find(|r| {
                        r.ok && r.platform == m.platform
                            && matches!(r.strategy, StrategyKind::Native | StrategyKind::Cross)
                            && r.engine == m.engine
                            && r.builder == m.builder
                    })
                    .filter(|r| !ran_from_cache(r))
                    .and_then(|r| {
                        Some((r.platform.clone(), r.strategy, busy_without_pulls(&r.vertices)?))
                    })
            })
            .collect::<Option<Vec<_>>>()?;
        if multi.iter().any(|r| ran_from_cache(r)) {
            return None;
        }
        // The solve's runs share one clock, so their vertices together are the solve's.
        let seconds = busy_without_pulls(multi.iter().flat_map(|r| &r.vertices))?;
        Some(OneSolve {
            platforms: multi.iter().map(|r| r.platform.clone()).collect(),
            seconds,
            apart,
        })
    }
}

impl StrategyRatio {
    /// In words: `linux/arm64 emulated / native linux/amd64`.
    pub fn label(&self) -> String {
        format!("{} {} / native {}", self.platform, self.strategy, self.against)
    }
}

/// A multi-platform solve against the same platforms built apart, on the same engine with the
/// same builder: what one solve saves (or costs) in BuildKit's time without base pulls.
#[derive(Debug, Clone, PartialEq)]
pub struct OneSolve {
    /// The platforms the solve built.
    pub platforms: Vec<Platform>,
    /// The solve's time without base pulls ([`busy_without_pulls`]).
    pub seconds: Seconds,
    /// Each platform's build apart (`native` for the engine's platform, `cross` for the rest:
    /// the stages then run as in the solve), with its time measured the same way.
    pub apart: Vec<(Platform, StrategyKind, Seconds)>,
}

/// The time some vertex other than a base pull (`FROM`, `load metadata for`) was running: the
/// union of those vertices' intervals. The first build of a series pulls its base and later
/// ones find it stored, so only this time compares builds run one after another.
pub fn busy_without_pulls<'a>(
    vertices: impl IntoIterator<Item = &'a VertexTiming>,
) -> Option<Seconds> {
    let mut spans: Vec<(f64, f64)> = vertices
        .into_iter()
        .filter(|v| !v.name.contains("] FROM ") && !v.name.contains("load metadata for"))
        .map(|v| (v.start, v.end.max(v.start)))
        .collect();
    if spans.is_empty() {
        return None;
    }
    spans.sort_by(|a, b| a.0.total_cmp(&b.0));
    let (mut total, mut cur) = (0.0, spans[0]);
    for &(a, b) in &spans[1..] {
        if a > cur.1 {
            total += cur.1 - cur.0;
            cur = (a, b);
        } else {
            cur.1 = cur.1.max(b);
        }
    }
    Some(total + cur.1 - cur.0)
}

impl OneSolve {
    /// The builds apart added up.
    pub fn apart_seconds(&self) -> Seconds {
        self.apart.iter().map(|a| a.2).sum()
    }

    /// In words: the two totals and the difference.
    pub fn sentence(&self) -> String {
        let apart = self.apart_seconds();
        let diff = apart - self.seconds;
        let list: Vec<String> = self.apart.iter().map(|(p, k, _)| format!("{k} {p}")).collect();
        format!(
            "one solve for {} took {:.1} s; built apart ({}) {:.1} s; one solve {} {:.1} s ({:.0}%) (BuildKit's times without base pulls)",
            self.platforms.iter().map(ToString::to_string).collect::<Vec<_>>().join(", "),
            self.seconds,
            list.join(", "),
            apart,
            if diff >= 0.0 { "saves" } else { "costs" },
            diff.abs(),
            if apart > 0.0 { diff.abs() / apart * 100.0 } else { 0.0 }
        )
    }
}

/// The `build` payload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BuildReport {
    /// Build context directory.
    pub context: String,
    /// Dockerfile inside it.
    pub dockerfile: String,
    /// Every build, in the order run.
    pub runs: Vec<BuildRun>,
    /// Ratios of work times (steps without base pulls) against the native build of the host.
    pub ratios: Vec<StrategyRatio>,
    /// Where the index went (`oci:DIR:tag` or a registry reference).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub destination: Option<String>,
    /// Its digest.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub index_digest: Option<String>,
    /// Whether `verify` passed on it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verified: Option<bool>,
    /// What the platforms of the written index share: their sizes added up against the bytes
    /// a registry stores (shared layers once). `None` when no index was written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub layers: Option<LayerSharing>,
    /// A warm rebuild (`build --warm`): the cache of an earlier build was used, after a change
    /// to the sources. Cold (false) builds use no cache.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub warm: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(digest: &str, inputs: &[&str], start: f64, end: f64) -> VertexTiming {
        VertexTiming {
            name: digest.into(),
            stage: None,
            digest: digest.into(),
            inputs: inputs.iter().map(|s| (*s).to_owned()).collect(),
            start,
            end,
            cached: false,
            error: None,
            log: vec![],
        }
    }

    /// Two stages in parallel (a: 0–4 s, b: 0–3 s) feed c (4–5 s): the wall is 5 s, the steps
    /// add up to 8 s, and the critical path is a then c, 5 s.
    #[test]
    fn wall_sum_and_critical_path() {
        let t = Timeline::of(&[
            v("a", &[], 0.0, 4.0),
            v("b", &[], 0.0, 3.0),
            v("c", &["a", "b", "missing"], 4.0, 5.0),
        ])
        .unwrap();
        assert_eq!((t.wall, t.steps_sum, t.critical_path), (5.0, 8.0, 5.0));
        assert!(Timeline::of(&[]).is_none());
        // A cycle (hostile input) ends instead of recursing forever.
        let t = Timeline::of(&[v("x", &["y"], 0.0, 1.0), v("y", &["x"], 1.0, 2.0)]).unwrap();
        assert!(t.critical_path.is_finite());
    }

    /// `multi` against the same platforms built apart: base pulls left out on both sides (the
    /// first build pulled, the solve found the base stored), and no comparison without a build
    /// apart of every platform on the same engine.
    #[test]
    fn one_solve_against_the_platforms_built_apart() {
        let named = |name: &str, start: f64, end: f64| VertexTiming {
            name: name.into(),
            ..v(name, &[], start, end)
        };
        let run = |p: Platform, strategy: StrategyKind, vertices: Vec<VertexTiming>| BuildRun {
            platform: p,
            strategy,
            builder: Builder::Buildkit,
            engine: "unix:///run/archbench/modern.sock".into(),
            note: String::new(),
            ok: true,
            error: None,
            seconds: vertices.iter().map(|v| v.end).fold(0.0, f64::max),
            work_seconds: 0.0,
            stages: Vec::new(),
            image_id: None,
            manifest_digest: None,
            image_bytes: 0,
            vertices,
            timeline: None,
        };
        let (amd, arm) = (Platform::linux_amd64(), Platform::linux_arm64());
        let native = vec![
            named("[internal] load build context", 0.0, 0.5),
            named("[build 1/3] FROM base", 1.0, 5.0),
            named("[build 2/3] RUN make", 5.0, 8.0),
        ];
        let cross = vec![named("[build 2/3] RUN make", 0.0, 3.0)];
        let multi = [
            named("[linux/amd64 build 1/3] FROM base", 0.0, 0.5),
            named("[linux/amd64 build 2/3] RUN make", 0.5, 3.5),
            named("[linux/amd64->arm64 build 2/3] RUN make", 0.5, 4.0),
        ];
        let mut report = BuildReport {
            context: ".".into(),
            dockerfile: "Dockerfile".into(),
            runs: vec![
                run(amd.clone(), StrategyKind::Native, native),
                run(arm.clone(), StrategyKind::Cross, cross),
                run(amd.clone(), StrategyKind::Multi, multi[..2].to_vec()),
                run(arm.clone(), StrategyKind::Multi, vec![multi[0].clone(), multi[2].clone()]),
            ],
            ratios: Vec::new(),
            destination: None,
            index_digest: None,
            verified: None,
            layers: None,
            warm: false,
        };
        let one = report.one_solve().unwrap();
        assert_eq!(one.seconds, 3.5, "0.5 to 4.0, the pull left out");
        assert_eq!(one.apart_seconds(), 3.5 + 3.0, "0.5 of context and 3 of make; 3 of make");
        let said = one.sentence();
        assert!(
            said.contains("saves 3.0 s (46%)")
                && said.contains("native linux/amd64, cross linux/arm64"),
            "{said}"
        );
        report.runs[1].vertices[0].cached = true;
        assert_eq!(
            report.one_solve(),
            None,
            "the arm64 build apart took its compile from the cache"
        );
        report.runs[1].vertices[0].cached = false;
        report.runs[1].engine = "tcp://elsewhere:2375".into();
        assert_eq!(report.one_solve(), None, "the arm64 build apart ran on another engine");
        report.runs.remove(1);
        assert_eq!(report.one_solve(), None, "no arm64 build apart");
    }
}
