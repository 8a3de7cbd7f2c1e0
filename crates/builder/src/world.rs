//! The world a build runs in, behind two traits so the orchestration is tested without
//! dockerd: the Docker Engine ([`BuildEngine`]) and the machine around it ([`Surroundings`]:
//! remote engines, QEMU through binfmt_misc, registries that pin base images).

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use archbench_engine::{BuildEvent, BuildRequest, Engine, EngineInfo};
use archbench_exec::binfmt::Binfmt;
use archbench_platform::Platform;

use crate::{Error, Result};

fn binfmt_check(p: &Platform) -> Result<()> {
    Binfmt::default().check(p).map(|_| ()).map_err(|e| {
        Error::Unsupported(format!(
            "emulated builds for {p} need QEMU through binfmt_misc: {e} (archbench doctor checks this)"
        ))
    })
}

/// What the orchestration needs from a Docker Engine. [`Engine`] is the real one; the unit
/// tests give a scripted engine, so deciding, timing, failure handling, export and the index
/// are tested without dockerd.
pub trait BuildEngine {
    /// Version, API and platform.
    fn info(&self) -> archbench_engine::Result<EngineInfo>;
    /// Build `req`, streaming output to `on_event`; the image ID.
    fn build(
        &self,
        req: &BuildRequest,
        on_event: &mut dyn FnMut(BuildEvent),
    ) -> archbench_engine::Result<String>;
    /// Write `image` as a `docker save` archive to `out`.
    fn save(&self, image: &str, out: &mut dyn std::io::Write) -> archbench_engine::Result<u64>;
    /// One solve for every platform into the `oci` exporter's tar at `oci_tar`; the index
    /// digest (see [`Engine::build_multi`]). An engine that cannot is refused by
    /// [`crate::multi::check`] first (its facts are `None`), so the default is never reached.
    fn build_multi(
        &self,
        req: &BuildRequest,
        _platforms: &[Platform],
        _oci_tar: &Path,
        _on_event: &mut dyn FnMut(BuildEvent),
    ) -> archbench_engine::Result<String> {
        Err(archbench_engine::Error::Failed {
            host: self.info()?.host,
            action: format!("building {}", req.tag),
            source: Box::new(archbench_engine::Cause::Unsupported(
                "this engine cannot run a multi-platform solve",
            )),
        })
    }
    /// What the engine's BuildKit can do, probed; `None` where archbench cannot dial it.
    fn buildkit_facts(
        &self,
    ) -> archbench_engine::Result<Option<archbench_engine::buildkit::Facts>> {
        Ok(None)
    }
}

impl BuildEngine for Engine {
    fn info(&self) -> archbench_engine::Result<EngineInfo> {
        Engine::info(self)
    }
    fn build(
        &self,
        req: &BuildRequest,
        on_event: &mut dyn FnMut(BuildEvent),
    ) -> archbench_engine::Result<String> {
        Engine::build(self, req, on_event)
    }
    fn save(&self, image: &str, out: &mut dyn std::io::Write) -> archbench_engine::Result<u64> {
        Engine::save(self, image, out)
    }
    fn build_multi(
        &self,
        req: &BuildRequest,
        platforms: &[Platform],
        oci_tar: &Path,
        on_event: &mut dyn FnMut(BuildEvent),
    ) -> archbench_engine::Result<String> {
        Engine::build_multi(self, req, platforms, oci_tar, on_event)
    }
    fn buildkit_facts(
        &self,
    ) -> archbench_engine::Result<Option<archbench_engine::buildkit::Facts>> {
        Engine::buildkit_facts(self)
    }
}

/// The machine around the builds: engines, QEMU, and registries for pinning base images.
pub trait Surroundings {
    /// The engine at `DOCKER_HOST` (or the default socket).
    fn local(&self) -> &dyn BuildEngine;
    /// The engine of a `remote=` strategy.
    fn remote(&self, host: &str) -> Result<Box<dyn BuildEngine>>;
    /// `Ok` when binaries of `platform` can run here under QEMU; else how to make them.
    fn can_emulate(&self, platform: &Platform) -> Result<()>;
    /// `image` pinned to `platform`'s manifest (`repo@sha256:…`), when a registry knows it.
    fn resolve(&mut self, image: &str, platform: &str) -> Option<String>;
}

/// The real surroundings: the engine at `DOCKER_HOST`, binfmt_misc, registries.
pub struct Real {
    local: Engine,
    pins: BTreeMap<(String, String), Option<String>>,
}

impl Real {
    /// Connect to the local engine.
    pub fn connect() -> Result<Self> {
        Ok(Real { local: Engine::connect(None, Duration::from_secs(30))?, pins: BTreeMap::new() })
    }
}

impl Surroundings for Real {
    fn local(&self) -> &dyn BuildEngine {
        &self.local
    }
    fn remote(&self, host: &str) -> Result<Box<dyn BuildEngine>> {
        Ok(Box::new(Engine::connect(Some(host), Duration::from_secs(30))?))
    }
    fn can_emulate(&self, platform: &Platform) -> Result<()> {
        binfmt_check(platform)
    }
    fn resolve(&mut self, image: &str, platform: &str) -> Option<String> {
        pin(image, platform, &mut self.pins)
    }
}

/// The platform an engine reports, parsed.
pub(crate) fn engine_platform(info: &EngineInfo) -> Result<Platform> {
    info.platform.parse().map_err(|_| {
        Error::Unsupported(format!(
            "the engine at {} reports platform {:?}",
            info.host, info.platform
        ))
    })
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
        let index = archbench_oci::document::parse_index(&root.bytes, image).ok()?;
        let want: Platform = platform.parse().ok()?;
        let digest = index.manifests().iter().find_map(|d| {
            let declared = archbench_platform::Declared::new(archbench_oci::document::declared(d)?);
            declared.is(&want).then(|| d.digest().to_string())
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
