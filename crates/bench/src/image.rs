//! `bench --image REF -- CMD`: a command inside each platform of a multi-arch image, through the
//! Docker Engine. Each platform's image is pulled by its manifest digest, one container is
//! created per platform and started once per run. A run's time is the command's own, by the
//! engine's clock (`StartedAt` to `FinishedAt`). The time around it (start request, the
//! runtime setting the container up, the exit being reported) is recorded apart as the
//! sample's `startup`. The entry of this machine's platform is `native`; the others run under
//! QEMU through binfmt (the engine's own emulation), and are labelled `qemu:<platform>`.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use archbench_engine::Engine;
use archbench_exec::runner::{Prepared, Runner, RunnerSpec};
use archbench_oci::{ImageRef, ImageSource, RegistryOptions};
use archbench_platform::Platform;
use archbench_results::bench::{Outcome, Sample};

use crate::suite::Toolbox;

/// One platform entry of the image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The entry's platform.
    pub platform: Platform,
    /// The runner label its cells get.
    pub runner: RunnerSpec,
    /// `registry/repo@sha256:…` of its manifest.
    pub pinned: String,
}

/// The runnable entries of `reference` (a registry image): one per platform this machine can
/// run (natively, or through binfmt QEMU), and the others with the reason they cannot.
pub fn entries(
    reference: &str,
    options: &RegistryOptions,
) -> crate::Result<(Vec<Entry>, Vec<String>)> {
    let image = |source| crate::Error::Image { what: reference.to_owned(), source };
    let r = ImageRef::parse(reference).map_err(image)?;
    let ImageRef::Registry(reg) = &r else {
        return Err(crate::Error::NotPullable(format!(
            "{reference}: --image runs containers through the engine, which pulls from a registry; push the image first (archbench image copy)"
        )));
    };
    let src = ImageSource::open_with(&r, options).map_err(image)?;
    let images = src.images().map_err(image)?;
    let host = Platform::host();
    let binfmt = archbench_exec::binfmt::Binfmt::default();
    let (mut ok, mut skipped) = (Vec::new(), Vec::new());
    // Attestation manifests (provenance, SBOM) describe entries and are none: not listed.
    for i in images.into_iter().filter(|i| !i.is_attestation()) {
        let Some(platform) = i.declared_platform().cloned() else {
            skipped.push(format!("{}: not a platform archbench knows", i.declared()));
            continue;
        };
        let Some(digest) = i.manifest_digest.clone() else {
            skipped.push(format!("{platform}: no manifest digest to pull by"));
            continue;
        };
        let runner = if platform.runs_natively_on(&host) {
            RunnerSpec::Native
        } else {
            match binfmt.check(&platform) {
                Ok(_) => RunnerSpec::Qemu(platform.clone()),
                Err(e) => {
                    skipped.push(format!("{platform}: {e}"));
                    continue;
                }
            }
        };
        let pinned = format!("{}/{}@{digest}", reg.registry, reg.repository);
        ok.push(Entry { platform, runner, pinned });
    }
    Ok((ok, skipped))
}

/// The toolbox for `--image`: containers of each entry on `engine`, running `cmd`.
pub struct ImageTools {
    /// The engine.
    pub engine: Arc<Engine>,
    /// The entries.
    pub entries: Vec<Entry>,
    /// The command (the image's own when empty).
    pub cmd: Vec<String>,
    /// Its environment.
    pub env: Vec<(String, String)>,
    /// Each container's memory limit, swap included (`--max-memory`; none: the engine's).
    pub memory: Option<u64>,
}

impl Toolbox for ImageTools {
    fn artifact(&mut self, spec: &RunnerSpec) -> crate::Result<PathBuf> {
        self.entries
            .iter()
            .find(|e| e.runner == *spec)
            .map(|e| PathBuf::from(&e.pinned))
            .ok_or_else(|| crate::Error::NoProgram(spec.clone()))
    }

    fn runner(&mut self, spec: &RunnerSpec) -> Box<dyn Runner> {
        let platform = self.entries.iter().find(|e| e.runner == *spec).map(|e| e.platform.clone());
        Box::new(ContainerRunner {
            spec: spec.clone(),
            platform: platform.unwrap_or_else(|| spec.platform()),
            engine: self.engine.clone(),
            cmd: self.cmd.clone(),
            env: self.env.clone(),
            memory: self.memory,
            id: None,
        })
    }
}

/// One container, created at `prepare` and started once per run; removed when dropped.
pub struct ContainerRunner {
    spec: RunnerSpec,
    platform: Platform,
    engine: Arc<Engine>,
    cmd: Vec<String>,
    env: Vec<(String, String)>,
    memory: Option<u64>,
    id: Option<String>,
}

impl Runner for ContainerRunner {
    fn spec(&self) -> &RunnerSpec {
        &self.spec
    }

    fn prepare(&mut self, artifact: &Path) -> archbench_exec::Result<Prepared> {
        let image = artifact.display().to_string();
        let fail = |e: archbench_engine::Error| archbench_exec::Error::Runner {
            action: "preparing a container of",
            what: image.clone(),
            source: Box::new(e),
        };
        self.engine.pull(&image, &self.platform).map_err(fail)?;
        let id = self
            .engine
            .create_container(&image, &self.platform, &self.cmd, &self.env, self.memory)
            .map_err(fail)?;
        self.id = Some(id.clone());
        let version = self.engine.info().ok().map(|i| format!("docker engine {}", i.version));
        Ok(Prepared {
            via: format!("container {} on {}", &id[..12.min(id.len())], self.engine.host()),
            compile_seconds: None,
            version,
        })
    }

    fn run(
        &mut self,
        _args: &[String],
        _env: &[(String, String)],
        timeout: Duration,
    ) -> archbench_exec::Result<Sample> {
        let id = self.id.clone().expect("prepare() before run()");
        let r =
            self.engine.run_container(&id, timeout).map_err(|e| archbench_exec::Error::Runner {
                action: "running container",
                what: id.clone(),
                source: Box::new(e),
            })?;
        let outcome = if r.timed_out {
            Outcome::TimedOut { limit_seconds: timeout.as_secs_f64() }
        } else {
            Outcome::Exited { code: r.exit_code as i32 }
        };
        // Without a usable engine time (a command shorter than the engine's bookkeeping), the
        // sample is the whole start-to-exit time and has no start-up figure.
        let command = r.command_seconds.unwrap_or(r.wall).min(r.wall);
        let startup = r.command_seconds.map(|_| r.wall - command);
        Ok(Sample {
            wall: command,
            user: 0.0,
            sys: 0.0,
            max_rss: None,
            stderr_tail: if r.oom_killed {
                format!("out of memory: {}", archbench_run::oom_reason(self.memory))
            } else if outcome.success() {
                String::new()
            } else {
                archbench_exec::runner::tail(&r.stderr)
            },
            outcome,
            stdout: r.stdout,
            stdout_dropped: r.stdout_dropped,
            wasm: None,
            startup,
        })
    }
}

impl Drop for ContainerRunner {
    fn drop(&mut self) {
        if let Some(id) = &self.id {
            self.engine.remove_container(id);
        }
    }
}
