//! `--strategy multi`: one BuildKit solve for every platform, as `docker buildx build --platform
//! linux/amd64,linux/arm64` sends it, with the index made by BuildKit's `oci` exporter.
//!
//! Decisions recorded here:
//! - What the engine can do is probed before anything is built ([`check`]): the solve needs
//!   the `oci` exporter and a worker that puts several platforms in one result, which Engine
//!   20.10's BuildKit v0.8 lacks (its exporter is `moby` alone, one platform per image). The
//!   refusal quotes the probe and names the fix (the containerd image store, or per-platform
//!   strategies). The probe is three tiny `FROM scratch` solves, about a second.
//! - The exporter's tar is an OCI layout holding one index; it is copied into archbench's
//!   layout with the same code as `image copy` (the tar is read in place, digests kept), so
//!   BuildKit's index and its attestations arrive as BuildKit made them.
//! - Each platform gets a run of its own (strategy `multi`), with the vertices named for it and
//!   those they waited for (see [`crate::buildkit::VertexTracker::finish_multi`]). The runs
//!   share one solve: each run's `seconds` is the whole solve's wall time, and the ratios
//!   against native leave `multi` out (a shared `$BUILDPLATFORM` stage is in every platform's
//!   steps). What one solve saves is compared against the per-platform builds' sum by BuildKit's
//!   time without base pulls (see `BuildReport::one_solve`), in `build` and the report.
//! - A registry cache export needs BuildKit's registry cache exporter, which the engine's
//!   BuildKit has only with the containerd image store (probed, not inferred from the store),
//!   and one solve to hold (per-platform builds would overwrite each other's);
//!   [`check_cache_to`] refuses it otherwise before building.
//! - `SOURCE_DATE_EPOCH` and provenance go to this solve alone: only the `oci` exporter rewrites
//!   file times, and only BuildKit's own index carries attestations.

use std::path::Path;
use std::time::Instant;

use archbench_engine::{BuildEvent, BuildRequest, EngineInfo};
use archbench_oci::layout::Written;
use archbench_oci::{copy, CopyOptions, Destination, ImageRef, ImageSource};
use archbench_platform::{Arch, Platform};
use archbench_results::build::{BuildRun, Builder, StrategyKind};

use crate::context::context_with;
use crate::spec::{BuildSpec, Event, Strategy, Targets, REWRITTEN};
use crate::world::{engine_platform, BuildEngine, Surroundings};
use crate::{Error, Result};

/// The platforms one solve builds: every one asked for except Wasm entries, which are compiled
/// on the build platform as before (see [`crate::run::strategies_for`]).
pub fn platforms(spec: &BuildSpec) -> Vec<Platform> {
    spec.platforms.iter().filter(|p| p.arch != Arch::Wasm).cloned().collect()
}

/// What the multi-platform solve needs of the engine, probed before anything is built; the
/// note for its runs. Refused with the engine's own words and the fix when it cannot.
pub fn check(world: &mut dyn Surroundings, info: &EngineInfo, spec: &BuildSpec) -> Result<String> {
    let targets = platforms(spec);
    if targets.len() < 2 {
        let have = match targets.first() {
            None => "none".to_owned(),
            Some(one) => format!("only {one}"),
        };
        return Err(Error::Unsupported(format!(
            "--strategy multi is one solve for several platforms, and this build has {have} besides any Wasm entry; for one platform use native, cross or emulated"
        )));
    }
    let (builder, why) = crate::buildkit::choose(spec.builder, info);
    if builder != Builder::Buildkit {
        return Err(Error::Unsupported(format!(
            "--strategy multi is one BuildKit solve, and this build would use the {why}; drop --builder classic or use per-platform strategies (native,emulated)"
        )));
    }
    let host = engine_platform(info)?;
    for p in targets.iter().filter(|p| p.arch != host.arch) {
        world.can_emulate(p)?;
    }
    let fix = "start an engine whose BuildKit has them (Docker Engine 24+ with the containerd image store; scripts/setup starts one at unix:///run/archbench/modern.sock) and point DOCKER_HOST at it, or build per platform with --strategy native,emulated";
    let facts = world.local().buildkit_facts()?.ok_or_else(|| {
        Error::Unsupported(format!(
            "--strategy multi runs archbench's own BuildKit session, which it cannot open to the engine at {} (TLS); {fix}",
            info.host
        ))
    })?;
    let has = |name: &str| facts.capabilities.iter().find(|c| c.name == name);
    for name in ["oci-export", "multi-platform"] {
        match has(name) {
            Some(c) if c.available => {}
            Some(c) => {
                return Err(Error::Unsupported(format!(
                    "--strategy multi needs BuildKit's {name}, which the engine at {} lacks (probed: {}); {fix}",
                    info.host, c.detail
                )))
            }
            None => {
                return Err(Error::Unsupported(format!(
                    "--strategy multi needs BuildKit's {name}, which the engine at {} did not report; {fix}",
                    info.host
                )))
            }
        }
    }
    let mut note = format!(
        "one BuildKit solve for {} on {} ({}), the index exported by BuildKit; seconds are the whole solve's",
        platforms(spec).iter().map(ToString::to_string).collect::<Vec<_>>().join(", "),
        info.host,
        facts.version.as_deref().unwrap_or("version not reported")
    );
    if let Some(t) = spec.source_date_epoch {
        match has("rewrite-timestamp") {
            Some(c) if c.available => {
                note.push_str(&format!("; SOURCE_DATE_EPOCH={t}, file times rewritten to it"))
            }
            _ => note.push_str(&format!(
                "; SOURCE_DATE_EPOCH={t}, file times kept: the exporter cannot rewrite them here"
            )),
        }
    }
    if let Some(p) = &spec.provenance {
        note.push_str(&format!("; provenance {p}"));
    }
    note.push_str(&crate::spec::cache_note(spec, Builder::Buildkit));
    if let Some(c) = &spec.cache_to {
        note.push_str(&format!(
            "; cache written to {} (mode={})",
            c.reference,
            if c.max { "max" } else { "min" }
        ));
    }
    Ok(note)
}

/// A registry cache export is refused before building where it would not hold: without the
/// multi-platform solve (one cache manifest holds one solve's records, so per-platform builds
/// would each overwrite the last), or on an engine whose BuildKit lacks the registry cache
/// exporter (probed: Docker Engine has it only with the containerd image store).
pub fn check_cache_to(
    world: &mut dyn Surroundings,
    spec: &BuildSpec,
    info: &EngineInfo,
) -> Result<()> {
    if spec.cache_to.is_none() {
        return Ok(());
    }
    if !spec.strategies.contains(&Strategy::Multi) {
        return Err(Error::Unsupported(
            "--cache-to type=registry holds the records of one solve, and per-platform builds would each overwrite the last's: add --strategy multi (one solve for every platform), or use --cache-to inline".into(),
        ));
    }
    let facts = world.local().buildkit_facts()?;
    let probed =
        facts.as_ref().and_then(|f| f.capabilities.iter().find(|c| c.name == "registry-cache"));
    let why = match probed {
        Some(c) if c.available => return Ok(()),
        Some(c) => format!("probed: {}", c.detail),
        None => "archbench cannot open its own BuildKit session to it (TLS)".to_owned(),
    };
    Err(Error::Unsupported(format!(
        "--cache-to type=registry needs the engine's BuildKit to write a cache of its own, which the engine at {} (storage {}) cannot ({why}); Docker Engine does so with the containerd image store: use --cache-to inline there, or an engine with the containerd store (scripts/setup starts one at unix:///run/archbench/modern.sock)",
        info.host,
        info.storage_driver.as_deref().unwrap_or("unknown")
    )))
}

/// What the solve made.
pub struct Built {
    /// One run per platform.
    pub runs: Vec<BuildRun>,
    /// Each platform's manifest in the layout.
    pub entries: Vec<(Platform, Written)>,
    /// BuildKit's index, in the layout under a tag of its own.
    pub index: Option<Written>,
    /// The failure, after the runs are filled in.
    pub error: Option<Error>,
}

impl Built {
    /// Whether BuildKit's index holds exactly the manifests the build's index would name, so it
    /// can be tagged as it is (keeping its attestations).
    pub fn covers(&self, chosen: &[(Written, Platform)]) -> bool {
        self.index.is_some()
            && chosen.len() == self.entries.len()
            && chosen.iter().all(|(w, _)| self.entries.iter().any(|(_, e)| e.digest == w.digest))
    }
}

/// The tag BuildKit's own index gets in the layout.
pub fn index_tag(spec: &BuildSpec) -> String {
    format!("{}-multi", spec.tag)
}

// Long (about 105 lines): the request, the solve with its progress, the import of the exporter's
// tar, and one run per platform filled from the vertices and the imported manifests.

/// Build every platform of `spec` in one solve on `engine` (checked with [`check`]; `note`
/// is what it returned) and import BuildKit's index into the layout.
pub fn build(
    engine: &dyn BuildEngine,
    info: &EngineInfo,
    spec: &BuildSpec,
    original: &str,
    note: &str,
    progress: &mut dyn FnMut(Event),
) -> Result<Built> {
    let host = engine_platform(info)?;
    let targets = platforms(spec);
    let mut build_args = spec.build_args.clone();
    if spec.cache_inline {
        build_args.insert("BUILDKIT_INLINE_CACHE".into(), "1".into());
    }
    let req = BuildRequest {
        context: context_with(&spec.context, REWRITTEN, original.as_bytes())?,
        dockerfile: REWRITTEN.to_owned(),
        platform: None,
        build_args,
        tag: format!("{}:multi", spec.name),
        no_cache: spec.no_cache && spec.cache_from.is_empty(),
        timeout: spec.timeout,
        builder: Builder::Buildkit,
        cache_from: spec.cache_from.clone(),
        cache_to: spec.cache_to.clone(),
        attest: spec.provenance.iter().map(|p| ("provenance".to_owned(), p.clone())).collect(),
        source_date_epoch: spec.source_date_epoch,
    };
    let scratch =
        tempfile::Builder::new().prefix("archbench-multi-").tempdir().map_err(|e| Error::Io {
            action: "creating a scratch directory in",
            path: std::env::temp_dir(),
            source: e,
        })?;
    let tar = scratch.path().join("oci.tar");
    progress(Event::Start);
    let mut vertices = crate::buildkit::VertexTracker::default();
    let started = Instant::now();
    let result = engine.build_multi(&req, &targets, &tar, &mut |e: BuildEvent| {
        if let Some(name) = vertices.on(&e) {
            progress(Event::Step(name));
        }
    });
    let seconds = started.elapsed().as_secs_f64();
    let failed = vertices.failed().unwrap_or_else(|| vertices.last_started());
    let mut runs: Vec<BuildRun> = vertices
        .finish_multi(&targets, &host)
        .into_iter()
        .zip(&targets)
        .map(|((vertices, timeline, stages), p)| BuildRun {
            platform: p.clone(),
            strategy: StrategyKind::Multi,
            builder: Builder::Buildkit,
            engine: info.host.clone(),
            note: note.to_owned(),
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
        })
        .collect();
    let fail = |runs: &mut Vec<BuildRun>, e: Error| {
        for r in runs.iter_mut() {
            r.error = Some(archbench_results::error_line(&e));
        }
        Ok(Built { runs: std::mem::take(runs), entries: Vec::new(), index: None, error: Some(e) })
    };
    if let Err(e) = result {
        let (step, lines) = failed;
        let err = Error::Step {
            targets: Targets(targets.to_vec()),
            strategy: Strategy::Multi,
            step,
            message: e.detail(),
            log: lines.iter().map(|l| format!("  | {l}")).collect::<Vec<_>>().join("\n"),
        };
        return fail(&mut runs, err);
    }
    match import(&tar, spec) {
        Ok((index, images)) => {
            let mut entries = Vec::new();
            for run in &mut runs {
                let Some(img) = images.iter().find(|i| i.platform == run.platform) else {
                    run.error = Some(format!("BuildKit's index has no {} manifest", run.platform));
                    continue;
                };
                run.ok = true;
                run.manifest_digest = Some(img.manifest.digest.to_string());
                run.image_id = img.config_digest.as_ref().map(ToString::to_string);
                run.image_bytes = img.size;
                entries.push((run.platform.clone(), img.manifest.clone()));
            }
            let error = runs.iter().find_map(|r| r.error.clone()).map(Error::Unsupported);
            Ok(Built { runs, entries, index: Some(index), error })
        }
        Err(e) => fail(&mut runs, e),
    }
}

/// One platform's image in BuildKit's index.
struct Imported {
    platform: Platform,
    manifest: Written,
    config_digest: Option<archbench_oci::Digest>,
    size: u64,
}

/// Copy the exporter's tar (an OCI layout with one index) into the layout under
/// [`index_tag`]; the index and each platform's image.
fn import(tar: &Path, spec: &BuildSpec) -> Result<(Written, Vec<Imported>)> {
    let src = ImageSource::open(&ImageRef::Archive { file: tar.to_owned() })?;
    let dst = Destination::Layout { dir: spec.layout.clone(), tag: index_tag(spec) };
    let c = copy(&src, &dst, &CopyOptions::default())?;
    let index = Written { digest: c.digest, size: 0, media_type: c.media_type };
    let ours = ImageSource::open(&ImageRef::Layout {
        dir: spec.layout.clone(),
        tag: Some(index_tag(spec)),
    })?;
    let index = Written { size: ours.root()?.bytes.len() as u64, ..index };
    let sizes = archbench_oci::inspect::inspect(&ours, &[])?;
    let mut images = Vec::new();
    for img in ours.images()? {
        if img.is_attestation() {
            continue;
        }
        let Some(platform) = img.declared_platform() else { continue };
        let Some(digest) = img.manifest_digest.clone() else { continue };
        let size = sizes
            .platforms
            .iter()
            .find(|p| p.manifest_digest.as_ref() == Some(&digest))
            .map_or(0, |p| p.size);
        images.push(Imported {
            platform: platform.clone(),
            manifest: Written {
                digest,
                size: img.manifest_size,
                media_type: archbench_oci::layout::media::MANIFEST.into(),
            },
            config_digest: img.config_digest.clone(),
            size,
        });
    }
    Ok((index, images))
}
