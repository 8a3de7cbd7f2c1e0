//! The Docker Engine, through bollard, behind a small blocking API.
//!
//! archbench's commands are synchronous; each call here runs on a private current-thread tokio
//! runtime with a timeout, so a daemon that accepts the connection and never answers cannot hang
//! the caller. bollard types stay inside this module (its error is a source behind
//! [`ApiError`]).
//!
//! Errors come in two kinds. [`Error::Docker`] is the engine saying no, in its own words (a
//! build step's failure, a missing image): that message is what a user needs, and a failed
//! build shows it as the step's failure. [`Error::Failed`] is archbench failing to reach or talk
//! to the engine; its [`Cause`] is the source, typed (the API client's error, the ssh forward's,
//! a BuildKit session's, a file's), so the whole chain reaches the CLI and the records
//! (`archbench_results::error_line`) and a caller can tell a timeout from a refused connection.
#![deny(missing_docs)]

pub mod buildkit;
pub mod ssh;

use std::time::Duration;

use archbench_platform::Platform;
use bollard::query_parameters::{
    CreateContainerOptions, ImportImageOptionsBuilder, RemoveContainerOptionsBuilder,
};
use bollard::Docker;
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};

/// One run of a container made by [`Engine::create_container`].
#[derive(Debug, Clone, PartialEq)]
pub struct ContainerRun {
    /// Its exit status (137 when killed).
    pub exit_code: i64,
    /// It ran past the limit and was killed.
    pub timed_out: bool,
    /// Seconds from the start request to the exit, seen from archbench.
    pub wall: f64,
    /// Seconds the command ran by the engine's clock (`StartedAt` to `FinishedAt`); `None`
    /// when the engine did not say, or said `FinishedAt` before `StartedAt`: Engine 20.10 records
    /// `StartedAt` after the runtime reports the start, so a command of a millisecond or two can
    /// end "before" it began.
    pub command_seconds: Option<f64>,
    /// What it wrote to stdout: the first [`OUTPUT_LIMIT`] bytes.
    pub stdout: String,
    /// What it wrote to stderr: the first [`OUTPUT_LIMIT`] bytes.
    pub stderr: String,
    /// Bytes of stdout past the limit, read and dropped.
    pub stdout_dropped: u64,
    /// Bytes of stderr past the limit, read and dropped.
    pub stderr_dropped: u64,
    /// The kernel killed it for passing its memory limit (the engine's `OOMKilled`).
    pub oom_killed: bool,
}

/// The most bytes of a container's stdout, and of its stderr, that [`Engine::run_container`]
/// keeps (as archbench keeps of a process's); the rest is read, counted and dropped, so a
/// container that writes without end cannot fill archbench's memory before its timeout.
pub const OUTPUT_LIMIT: usize = 1 << 20;

/// Append what fits under [`OUTPUT_LIMIT`] to `kept`; count the rest in `dropped`.
fn keep_output(kept: &mut Vec<u8>, dropped: &mut u64, bytes: &[u8]) {
    let n = bytes.len().min(OUTPUT_LIMIT.saturating_sub(kept.len()));
    kept.extend_from_slice(&bytes[..n]);
    *dropped += (bytes.len() - n) as u64;
}

/// The Docker Engine could not be reached or refused a request.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The engine said no, in its own words: a failed build step (classic or BuildKit), a
    /// missing image, a refused request (an HTTP error status with the engine's message).
    #[error("docker engine at {host}: {action}: {message}")]
    Docker {
        /// Where we tried to connect.
        host: String,
        /// What we asked.
        action: String,
        /// The engine's message.
        message: String,
    },
    /// Reaching the engine, or talking to it, failed; the cause is the source.
    #[error("docker engine at {host}: {action}")]
    Failed {
        /// Where we tried to connect.
        host: String,
        /// What we asked.
        action: String,
        /// What went wrong below (boxed: a BuildKit status is large, and `Result<T, Error>`
        /// is returned everywhere).
        #[source]
        source: Box<Cause>,
    },
}

impl Error {
    /// What went wrong, without where and what was asked: the engine's words, or the cause
    /// and its causes on one line. A build step's failure is shown this way.
    pub fn detail(&self) -> String {
        match self {
            Error::Docker { message, .. } => message.clone(),
            Error::Failed { source, .. } => archbench_results::error_line(source.as_ref()),
        }
    }

    fn new(host: &str, action: impl Into<String>, cause: Cause) -> Error {
        let (host, action) = (host.to_owned(), action.into());
        match cause {
            Cause::Said(message) => Error::Docker { host, action, message },
            source => Error::Failed { host, action, source: Box::new(source) },
        }
    }
}

/// A request to the engine's API failed: bollard's error, kept as the source (reached through
/// `source()` and `downcast_ref`) without bollard's types in this crate's signatures.
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct ApiError(bollard::errors::Error);

impl From<bollard::errors::Error> for Cause {
    fn from(e: bollard::errors::Error) -> Cause {
        match e {
            // The engine answered, and said no ("No such image", a refused pull): its words.
            bollard::errors::Error::DockerResponseServerError { .. } => Cause::Said(e.to_string()),
            e => Cause::Api(ApiError(e)),
        }
    }
}

impl From<buildkit::Error> for Cause {
    fn from(e: buildkit::Error) -> Cause {
        match e {
            // The solve's own failure (a step's exit code): BuildKit's words.
            buildkit::Error::Refused { call: None, status } => {
                Cause::Said(status.message().to_owned())
            }
            e => Cause::BuildKit(e),
        }
    }
}

/// What went wrong below an [`Error::Failed`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Cause {
    /// The engine's answer carried an error message (a pull's or a build's `errorDetail`);
    /// it becomes an [`Error::Docker`].
    #[error("{0}")]
    Said(String),
    /// The engine's API: a refused request, a broken connection.
    #[error(transparent)]
    Api(#[from] ApiError),
    /// A request through an ssh forward failed; ssh's own words and the usual fix follow.
    #[error("{}", ssh::explain(&.source.to_string(), .ssh_said))]
    ThroughSsh {
        /// The failed request.
        source: ApiError,
        /// The last lines ssh wrote to stderr.
        ssh_said: String,
    },
    /// A `tcp://` engine did not answer as an engine without TLS does.
    #[error("{source}; if that engine requires TLS (dockerd --tlsverify), set DOCKER_TLS_VERIFY=1 and DOCKER_CERT_PATH to a directory with ca.pem, cert.pem and key.pem, as for the Docker CLI")]
    MaybeTls {
        /// The failed request.
        source: ApiError,
    },
    /// The ssh forward to an `ssh://` engine.
    #[error(transparent)]
    Ssh(#[from] ssh::Error),
    /// A BuildKit session or probe (see [`buildkit`]); a solve's own failure is [`Cause::Said`].
    #[error(transparent)]
    BuildKit(buildkit::Error),
    /// A local file or the I/O runtime.
    #[error("{what}")]
    Io {
        /// `writing the image archive`, `creating /tmp/archbench-probe-1`.
        what: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// No answer within the time limit.
    #[error("no answer within {0:?}")]
    Timeout(Duration),
    /// An interrupt the command deferred (see `archbench_results::cleanup`) cancelled a build.
    #[error("interrupted by the user; the build was cancelled")]
    Interrupted,
    /// `DOCKER_API_VERSION` is set to something that is not a version.
    #[error("DOCKER_API_VERSION {0:?} is not an API version like 1.41")]
    ApiVersion(String),
    /// The engine's answer ended early (`the wait stream ended without a status`).
    #[error("{0}")]
    Incomplete(&'static str),
    /// archbench cannot ask this of this engine; the message says what to do instead.
    #[error("{0}")]
    Unsupported(&'static str),
}

/// Result alias for this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What the engine says about itself.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EngineInfo {
    /// Where we connected (`unix:///var/run/docker.sock`, `tcp://127.0.0.1:2375`).
    pub host: String,
    /// Engine version (`20.10.24+dfsg1`).
    pub version: String,
    /// The API version archbench speaks to it: the engine's highest, or `DOCKER_API_VERSION`
    /// when that is lower (as with the Docker CLI).
    pub api_version: String,
    /// The engine's own platform (`linux/amd64`).
    pub platform: String,
    /// Storage driver (`overlay2`, `vfs`).
    pub storage_driver: Option<String>,
    /// The engine's ID (`/info`'s `ID`). Engine 20.10 derives it from `/etc/docker/key.json`,
    /// so two daemons on one machine share it: see [`EngineInfo::same_engine`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Where the engine keeps its data (`/info`'s `DockerRootDir`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub root_dir: Option<String>,
    /// The engine keeps images in containerd's store (`driver-type` `io.containerd.snapshotter.v1`
    /// in `/info`'s `DriverStatus`), as Docker Engine 29+ and Docker Desktop do by default;
    /// otherwise in a graph driver (`overlay2`) of its own.
    #[serde(default)]
    pub containerd_store: bool,
}

impl EngineInfo {
    /// Whether two addresses reach one engine: same ID and same data directory (two daemons
    /// cannot share a data directory, and daemons on one machine share the ID). Unknown is no.
    pub fn same_engine(&self, other: &EngineInfo) -> bool {
        self.id.is_some()
            && self.id == other.id
            && self.root_dir.is_some()
            && self.root_dir == other.root_dir
    }
}

/// One image build through the engine's classic builder.
#[derive(Debug, Clone)]
pub struct BuildRequest {
    /// The build context as a tar.
    pub context: Vec<u8>,
    /// Dockerfile path inside the context.
    pub dockerfile: String,
    /// Build-level platform; `None` lets each `FROM --platform=` decide (see archbench-builder).
    pub platform: Option<Platform>,
    /// `--build-arg`s.
    pub build_args: std::collections::BTreeMap<String, String>,
    /// Tag for the result.
    pub tag: String,
    /// Ignore the build cache (for honest timings).
    pub no_cache: bool,
    /// Give up after this long.
    pub timeout: Duration,
    /// Which of the engine's builders runs it.
    pub builder: archbench_results::build::Builder,
    /// Images whose layers (and, for BuildKit, inline cache records) may be reused.
    pub cache_from: Vec<String>,
    /// BuildKit only: a registry cache to write (`--cache-to type=registry,ref=R`).
    pub cache_to: Option<RegistryCache>,
    /// BuildKit only: the Dockerfile frontend's attestations (`provenance` → `mode=min`), which
    /// only an exporter that writes an index (`oci`) keeps.
    pub attest: std::collections::BTreeMap<String, String>,
    /// BuildKit only: `SOURCE_DATE_EPOCH` for the build, and with the `oci` exporter every file
    /// time in the layers rewritten to it (`rewrite-timestamp`).
    pub source_date_epoch: Option<i64>,
}

/// A BuildKit cache export to a registry (`type=registry,ref=R,mode=min|max`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistryCache {
    /// The image reference the cache manifest is pushed as.
    pub reference: String,
    /// `mode=max`: the cache of every stage, not only the final image's layers.
    pub max: bool,
}

/// One BuildKit vertex (an operation of the build graph) as the engine last reported it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vertex {
    /// Its digest, which names it in the graph.
    pub digest: String,
    /// The digests of the vertices it depends on.
    pub inputs: Vec<String>,
    /// What BuildKit calls it (`[build 4/6] RUN make`, `[internal] load metadata for …`).
    pub name: String,
    /// Its result came from the cache.
    pub cached: bool,
    /// Start and completion, in nanoseconds since the Unix epoch by the engine's clock.
    pub started: Option<i128>,
    /// See `started`.
    pub completed: Option<i128>,
    /// Why it failed, when it did.
    pub error: Option<String>,
}

/// One message of the build stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BuildEvent {
    /// Builder output (`Step 2/9 : RUN make`, command output, ` ---> abc123`).
    Output(String),
    /// Pull or progress status.
    Status(String),
    /// BuildKit: a vertex started, finished or failed (a vertex is reported several times; the
    /// last report is its state).
    Vertex(Vertex),
    /// BuildKit: what a vertex printed.
    Log {
        /// The vertex's digest.
        vertex: String,
        /// The text.
        text: String,
    },
}

/// A connection to one Docker Engine.
pub struct Engine {
    docker: Docker,
    host: String,
    runtime: tokio::runtime::Runtime,
    timeout: Duration,
    /// For `ssh://` hosts, the forward `docker` talks through (see [`ssh`]); dropped after it.
    tunnel: Option<ssh::SshTunnel>,
    /// How to reach BuildKit's session and control endpoints, where archbench can dial the
    /// engine itself (see [`buildkit`]).
    dial: Option<buildkit::Dial>,
    /// What the probe found, kept for the life of this handle (a build asks once per reason).
    facts: std::sync::Mutex<Option<Option<buildkit::Facts>>>,
}

impl Engine {
    /// Connect to `host` (`unix://…`, `tcp://…`, `ssh://[user@]host[:port]`), or to
    /// `DOCKER_HOST`, or to the local socket, and negotiate the API version down to what the
    /// engine speaks (Engine 20.10 stops at 1.41).
    pub fn connect(host: Option<&str>, timeout: Duration) -> Result<Self> {
        let host = host
            .map(str::to_owned)
            .or_else(|| std::env::var("DOCKER_HOST").ok().filter(|h| !h.is_empty()))
            .unwrap_or_else(|| "unix:///var/run/docker.sock".to_owned());
        let err = |action: &str, cause: Cause| Error::new(&host, action, cause);
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(
            |source| err("starting", Cause::Io { what: "starting the I/O runtime".into(), source }),
        )?;
        let tunnel = if host.starts_with("ssh://") {
            let target =
                ssh::SshTarget::parse(&host).map_err(|e| err("reading the address", e.into()))?;
            Some(
                ssh::SshTunnel::open(&target, timeout)
                    .map_err(|e| err("connecting over ssh", e.into()))?,
            )
        } else {
            None
        };
        let address = tunnel.as_ref().map_or_else(|| host.clone(), ssh::SshTunnel::local_url);
        let pinned = api_version_from_env().map_err(|e| err("reading DOCKER_API_VERSION", e))?;
        let docker =
            connect_at(&address, pinned.as_ref()).map_err(|e| err("connecting", e.into()))?;
        let docker = runtime
            .block_on(async { tokio::time::timeout(timeout, docker.negotiate_version()).await })
            .map_err(|_| err("negotiating the API version", Cause::Timeout(timeout)))?
            .map_err(|source| {
                let plain_tcp =
                    host.starts_with("tcp://") && std::env::var_os("DOCKER_TLS_VERIFY").is_none();
                let cause = match &tunnel {
                    Some(t) => Cause::ThroughSsh { source: ApiError(source), ssh_said: t.log() },
                    None if plain_tcp => Cause::MaybeTls { source: ApiError(source) },
                    None => source.into(),
                };
                err("negotiating the API version", cause)
            })?;
        let tls = std::env::var_os("DOCKER_TLS_VERIFY").is_some_and(|v| !v.is_empty());
        // `ARCHBENCH_BUILDKIT_ENDPOINT=http` keeps BuildKit builds on the HTTP endpoint (graph
        // driver engines only), to compare the two transports or to match a cache written
        // through it: a build's cache keys depend on how its context arrived.
        let http_only = std::env::var("ARCHBENCH_BUILDKIT_ENDPOINT").is_ok_and(|v| v == "http");
        let dial = buildkit::Dial::from_address(&address, tls).filter(|_| !http_only);
        Ok(Self { docker, host, runtime, timeout, tunnel, dial, facts: Default::default() })
    }

    /// Where this engine was reached.
    pub fn host(&self) -> &str {
        &self.host
    }

    fn block<T, E: Into<Cause>>(
        &self,
        action: &str,
        fut: impl std::future::Future<Output = Result<T, E>>,
    ) -> Result<T> {
        self.block_for(action, self.timeout, async { fut.await.map_err(Into::into) })
    }

    /// Run `fut` for at most `limit`; a failure is `action`'s, explained through ssh where the
    /// engine is reached that way. Every call to the engine ends here.
    fn block_for<T>(
        &self,
        action: &str,
        limit: Duration,
        fut: impl std::future::Future<Output = Result<T, Cause>>,
    ) -> Result<T> {
        self.runtime
            .block_on(async { tokio::time::timeout(limit, fut).await })
            .map_err(|_| Error::new(&self.host, action, Cause::Timeout(limit)))?
            .map_err(|e| Error::new(&self.host, action, self.through_ssh(e)))
    }

    /// Through ssh, a failed request is explained by what ssh said.
    fn through_ssh(&self, cause: Cause) -> Cause {
        match (cause, self.tunnel.as_ref().map(ssh::SshTunnel::log).filter(|l| !l.is_empty())) {
            (Cause::Api(source), Some(ssh_said)) => Cause::ThroughSsh { source, ssh_said },
            (cause, _) => cause,
        }
    }

    /// Version, API version, platform and storage driver.
    pub fn info(&self) -> Result<EngineInfo> {
        let v = self.block("reading /version", self.docker.version())?;
        let i = self.block("reading /info", self.docker.info())?;
        let talk = self.docker.client_version();
        Ok(EngineInfo {
            host: self.host.clone(),
            version: v.version.unwrap_or_default(),
            api_version: format!("{}.{}", talk.major_version, talk.minor_version),
            platform: format!("{}/{}", v.os.unwrap_or_default(), v.arch.unwrap_or_default()),
            storage_driver: i.driver,
            id: i.id.filter(|s| !s.is_empty()),
            root_dir: i.docker_root_dir.filter(|s| !s.is_empty()),
            containerd_store: i.driver_status.iter().flatten().any(|kv| {
                kv.first().is_some_and(|k| k == "driver-type")
                    && kv.get(1).is_some_and(|v| v.starts_with("io.containerd.snapshotter"))
            }),
        })
    }

    /// Load a `docker save`-format tarball into the engine.
    pub fn load_archive(&self, archive: Vec<u8>) -> Result<()> {
        let opts = ImportImageOptionsBuilder::new().quiet(true).build();
        let body = bollard::body_full(bytes::Bytes::from(archive));
        let docker = &self.docker;
        self.block("loading an image archive", async move {
            let mut stream = docker.import_image(opts, body, None);
            while let Some(item) = stream.next().await {
                if let Some(e) = item?.error_detail.and_then(|d| d.message) {
                    return Err(Cause::Said(e));
                }
            }
            Ok::<(), Cause>(())
        })
    }

    /// Create, start and wait for a container of `image` on `platform`; returns its exit status.
    /// The container is removed afterwards whatever happened.
    pub fn run_to_exit(&self, image: &str, platform: &Platform) -> Result<i64> {
        let name =
            format!("archbench-{}-{}", platform.short().replace('/', "-"), std::process::id());
        let docker = &self.docker;
        let create =
            CreateContainerOptions { name: Some(name.clone()), platform: platform.to_string() };
        let body = bollard::models::ContainerCreateBody {
            image: Some(image.to_owned()),
            network_disabled: Some(true),
            ..Default::default()
        };
        let id =
            self.block("creating a container", docker.create_container(Some(create), body))?.id;
        let result = self.block("running the container", async {
            docker.start_container(&id, None).await?;
            let mut wait = docker.wait_container(&id, None);
            match wait.next().await {
                Some(Ok(r)) => Ok(r.status_code),
                // bollard reports a non-zero exit as an error carrying the code.
                Some(Err(bollard::errors::Error::DockerContainerWaitError { code, .. })) => {
                    Ok(code)
                }
                Some(Err(e)) => Err(e.into()),
                None => Err(Cause::Incomplete("the wait stream ended without a status")),
            }
        });
        let rm = RemoveContainerOptionsBuilder::new().force(true).build();
        let _ = self.block("removing the container", docker.remove_container(&id, Some(rm)));
        result
    }

    /// Pull `image` (a registry reference, by digest or tag) for `platform` into the engine.
    pub fn pull(&self, image: &str, platform: &Platform) -> Result<()> {
        let opts = bollard::query_parameters::CreateImageOptions {
            from_image: Some(image.to_owned()),
            platform: platform.to_string(),
            ..Default::default()
        };
        let docker = &self.docker;
        self.block(&format!("pulling {image} for {platform}"), async move {
            let mut stream = docker.create_image(Some(opts), None, None);
            while let Some(item) = stream.next().await {
                if let Some(e) = item?.error_detail.and_then(|d| d.message) {
                    return Err(Cause::Said(e));
                }
            }
            Ok::<(), Cause>(())
        })
    }

    /// Create (not start) a container of `image` on `platform` that runs `cmd` with `env`;
    /// its ID. It can be started again and again ([`Engine::run_container`]). With `memory`,
    /// the container may use at most that many bytes of memory, swap included (the engine's
    /// `Memory` and `MemorySwap`): past it the kernel kills it, and the run says so.
    pub fn create_container(
        &self,
        image: &str,
        platform: &Platform,
        cmd: &[String],
        env: &[(String, String)],
        memory: Option<u64>,
    ) -> Result<String> {
        let create = CreateContainerOptions { name: None, platform: platform.to_string() };
        let memory = memory.map(|m| i64::try_from(m).unwrap_or(i64::MAX));
        let body = bollard::models::ContainerCreateBody {
            image: Some(image.to_owned()),
            cmd: (!cmd.is_empty()).then(|| cmd.to_vec()),
            env: Some(env.iter().map(|(k, v)| format!("{k}={v}")).collect()),
            attach_stdout: Some(true),
            attach_stderr: Some(true),
            host_config: memory.map(|m| bollard::models::HostConfig {
                memory: Some(m),
                memory_swap: Some(m),
                ..Default::default()
            }),
            ..Default::default()
        };
        Ok(self.block("creating a container", self.docker.create_container(Some(create), body))?.id)
    }

    /// Start the container `id` once and wait for it (at most `limit`, then it is killed):
    /// its output, exit status, the wall time seen from here (start request to exit), and the
    /// command's own time by the engine's clock (`StartedAt` to `FinishedAt`), so that
    /// container start-up can be told apart from the command.
    ///
    /// An interrupt (SIGINT, SIGTERM; see `archbench_results::cleanup`) removes the container
    /// at once, as a process group is killed: the run then ends with an error or a killed
    /// status, which the caller, seeing the interrupt, does not count.
    // Long (about 90 lines): attach, start, the bounded read, the kill at the timeout, the
    // wait and the inspect share one container's state.
    pub fn run_container(&self, id: &str, limit: Duration) -> Result<ContainerRun> {
        let docker = &self.docker;
        let _stopper = {
            let (docker, id, runtime) =
                (self.docker.clone(), id.to_owned(), self.runtime.handle().clone());
            archbench_results::cleanup::Stopper::new(move || {
                // The runtime is current-thread: the task runs while this command's thread is
                // inside `block_on` below (it is, for as long as the stopper is registered).
                // Waited for, boundedly, so a command that exits on the interrupt does not
                // leave the container running.
                let (done, finished) = std::sync::mpsc::channel();
                let (docker, id) = (docker.clone(), id.clone());
                runtime.spawn(async move {
                    let rm = RemoveContainerOptionsBuilder::new().force(true).build();
                    let _ = docker.remove_container(&id, Some(rm)).await;
                    let _ = done.send(());
                });
                let _ = finished.recv_timeout(Duration::from_secs(5));
            })
        };
        let attach = bollard::query_parameters::AttachContainerOptions {
            stdout: true,
            stderr: true,
            stream: true,
            ..Default::default()
        };
        let started = std::time::Instant::now();
        let run = self.runtime.block_on(async {
            let mut attached = docker.attach_container(id, Some(attach)).await?;
            docker.start_container(id, None).await?;
            let (mut out, mut err) = (Vec::new(), Vec::new());
            let (mut out_dropped, mut err_dropped) = (0u64, 0u64);
            let read = async {
                while let Some(chunk) = attached.output.next().await {
                    match chunk? {
                        bollard::container::LogOutput::StdOut { message } => {
                            keep_output(&mut out, &mut out_dropped, &message)
                        }
                        bollard::container::LogOutput::StdErr { message } => {
                            keep_output(&mut err, &mut err_dropped, &message)
                        }
                        _ => {}
                    }
                }
                Ok::<(), bollard::errors::Error>(())
            };
            let timed_out = match tokio::time::timeout(limit, read).await {
                Ok(r) => {
                    r?;
                    false
                }
                Err(_) => {
                    let kill = bollard::query_parameters::KillContainerOptions {
                        signal: "SIGKILL".into(),
                    };
                    let _ = docker.kill_container(id, Some(kill)).await;
                    true
                }
            };
            let mut wait = docker.wait_container(id, None);
            let code = match wait.next().await {
                Some(Ok(r)) => r.status_code,
                Some(Err(bollard::errors::Error::DockerContainerWaitError { code, .. })) => code,
                Some(Err(e)) => return Err(e.into()),
                None => return Err(Cause::Incomplete("the wait stream ended without a status")),
            };
            Ok::<_, Cause>((code, timed_out, (out, out_dropped), (err, err_dropped)))
        });
        let wall = started.elapsed().as_secs_f64();
        let (exit_code, timed_out, (out, stdout_dropped), (err, stderr_dropped)) =
            run.map_err(|e| {
                Error::new(&self.host, format!("running container {id}"), self.through_ssh(e))
            })?;
        let state = self
            .block("inspecting a container", docker.inspect_container(id, None))?
            .state
            .unwrap_or_default();
        let stamp = |s: Option<String>| s.and_then(|s| s.parse::<jiff::Timestamp>().ok());
        let command_seconds = match (stamp(state.started_at), stamp(state.finished_at)) {
            (Some(a), Some(b)) if b >= a => Some(b.duration_since(a).as_secs_f64()),
            _ => None,
        };
        let oom_killed = state.oom_killed.unwrap_or(false);
        Ok(ContainerRun {
            exit_code,
            timed_out,
            oom_killed,
            wall,
            command_seconds,
            stdout: String::from_utf8_lossy(&out).into_owned(),
            stderr: String::from_utf8_lossy(&err).into_owned(),
            stdout_dropped,
            stderr_dropped,
        })
    }

    /// Remove a container, ignoring "no such container".
    pub fn remove_container(&self, id: &str) {
        let rm = RemoveContainerOptionsBuilder::new().force(true).build();
        let _ = self.block("removing a container", self.docker.remove_container(id, Some(rm)));
    }

    /// Build an image with the classic builder or BuildKit (`req.builder`; bollard runs the
    /// BuildKit session), calling `on_event` for every message as it arrives (BuildKit's as
    /// vertices and logs). Returns the image ID; a failed step is an error carrying the
    /// builder's message.
    ///
    /// BuildKit builds go through a session with file sync wherever archbench can dial the
    /// engine (see [`buildkit`]); otherwise (a TLS engine, or the classic builder) through the
    /// HTTP build endpoint.
    // Long (about 80 lines): one request, its stream read to the end (classic output, BuildKit
    // status, the image ID).
    pub fn build(
        &self,
        req: &BuildRequest,
        on_event: &mut dyn FnMut(BuildEvent),
    ) -> Result<String> {
        let buildkit = req.builder == archbench_results::build::Builder::Buildkit;
        if let (true, Some(dial)) = (buildkit, &self.dial) {
            let fut = async { Ok(buildkit::solve(dial, req, on_event).await?.image_id) };
            return self.finish_build(req, fut);
        }
        let args: std::collections::HashMap<String, String> =
            req.build_args.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        let mut opts = bollard::query_parameters::BuildImageOptionsBuilder::new()
            .dockerfile(&req.dockerfile)
            .t(&req.tag)
            .platform(&req.platform.as_ref().map(ToString::to_string).unwrap_or_default())
            .buildargs(&args)
            .nocache(req.no_cache)
            .cachefrom(&req.cache_from)
            .rm(true)
            .forcerm(true);
        if buildkit {
            // bollard runs the session (file sync, auth) itself; the id only has to be unique.
            opts = opts
                .version(bollard::query_parameters::BuilderVersion::BuilderBuildKit)
                .session(&format!("archbench-{}-{}", std::process::id(), session_counter()));
        }
        let opts = opts.build();
        let body = bollard::body_full(bytes::Bytes::from(req.context.clone()));
        let docker = &self.docker;
        let fut = async {
            let mut stream = docker.build_image(opts, None, Some(body));
            let mut id = None;
            while let Some(item) = stream.next().await {
                let info = item.map_err(|e| match e {
                    // The build's own failure, streamed: the engine's words.
                    bollard::errors::Error::DockerStreamError { error } => Cause::Said(error),
                    e => e.into(),
                })?;
                if let Some(e) = info.error_detail.and_then(|d| d.message) {
                    return Err(Cause::Said(e));
                }
                if let Some(s) = info.stream {
                    on_event(BuildEvent::Output(s));
                }
                if let Some(s) = info.status {
                    on_event(BuildEvent::Status(s));
                }
                match info.aux {
                    Some(bollard::models::BuildInfoAux::Default(img)) if img.id.is_some() => {
                        id = img.id;
                    }
                    Some(bollard::models::BuildInfoAux::BuildKit(status)) => {
                        buildkit_events(status, on_event)
                    }
                    _ => {}
                }
            }
            id.ok_or(Cause::Incomplete("the build ended without an image ID"))
        };
        self.finish_build(req, fut)
    }

    /// One BuildKit solve for every platform in `platforms` (as `docker buildx build
    /// --platform a,b` sends it) into the `oci` exporter, whose tar (an OCI layout holding one
    /// index, and the attestations `req.attest` asks for) is written to `oci_tar`. Returns the
    /// index digest. `req.platform` is not used. Needs archbench's own session: refused on an
    /// engine it cannot dial (TLS). Whether the engine's BuildKit can do it at all is the
    /// caller's to probe first ([`Engine::buildkit_facts`]).
    pub fn build_multi(
        &self,
        req: &BuildRequest,
        platforms: &[Platform],
        oci_tar: &std::path::Path,
        on_event: &mut dyn FnMut(BuildEvent),
    ) -> Result<String> {
        let Some(dial) = &self.dial else {
            return Err(Error::new(
                &self.host,
                format!("building {}", req.tag),
                Cause::Unsupported("a multi-platform solve needs archbench's own BuildKit session, which it cannot open to a TLS engine; build per platform (--strategy native,emulated) there"),
            ));
        };
        let fut = async {
            let mut solve = buildkit::Solve::from_request(req)?;
            let list: Vec<String> = platforms.iter().map(ToString::to_string).collect();
            solve.frontend_attrs.insert("platform".into(), list.join(","));
            solve.exporter = "oci".into();
            if req.source_date_epoch.is_some() {
                solve.exporter_attrs.insert("rewrite-timestamp".into(), "true".into());
            }
            solve.output = Some(oci_tar.to_owned());
            let resp = buildkit::run(dial, &solve, on_event).await?;
            Ok::<_, Cause>(resp.get("containerimage.digest").cloned().unwrap_or_default())
        };
        self.finish_build(req, fut)
    }

    /// Run a build future with the interrupt and the timeout around it.
    fn finish_build(
        &self,
        req: &BuildRequest,
        fut: impl std::future::Future<Output = std::result::Result<String, Cause>>,
    ) -> Result<String> {
        let action = format!("building {}", req.tag);
        // An interrupt the command deferred (see archbench_results::cleanup) cancels the build:
        // dropping the stream (or the solve) closes the connection, and the engine stops the
        // build.
        let interrupted = async {
            while !archbench_results::cleanup::interrupt_requested() {
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
        };
        let fut = async {
            tokio::select! {
                r = fut => r,
                _ = interrupted => Err(Cause::Interrupted),
            }
        };
        self.block_for(&action, req.timeout, fut)
    }

    /// What the engine's BuildKit is and can do, probed (see [`buildkit::probe`]); `None` where
    /// archbench cannot dial the engine's BuildKit endpoints itself (a TLS engine).
    /// The probe runs once per handle; later calls give what it found.
    pub fn buildkit_facts(&self) -> Result<Option<buildkit::Facts>> {
        let mut kept = self.facts.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(f) = kept.as_ref() {
            return Ok(f.clone());
        }
        let found = self.probe_buildkit()?;
        *kept = Some(found.clone());
        Ok(found)
    }

    fn probe_buildkit(&self) -> Result<Option<buildkit::Facts>> {
        let Some(dial) = &self.dial else { return Ok(None) };
        let scratch = std::env::temp_dir().join(format!("archbench-probe-{}", std::process::id()));
        std::fs::create_dir_all(&scratch).map_err(|source| {
            let what = format!("creating {}", scratch.display());
            Error::new(&self.host, "probing BuildKit", Cause::Io { what, source })
        })?;
        let facts = self.block("probing BuildKit", buildkit::probe(dial, &scratch));
        let _ = std::fs::remove_dir_all(&scratch);
        for tag in [buildkit::WASM_PROBE_TAG, "archbench-probe:multi"] {
            self.remove_image(tag);
        }
        facts.map(Some)
    }

    /// Write `docker save` of `image` to `out`; returns the bytes written.
    pub fn save(&self, image: &str, out: &mut dyn std::io::Write) -> Result<u64> {
        let docker = &self.docker;
        let fut = async {
            let mut stream = docker.export_image(image);
            let mut n = 0u64;
            while let Some(chunk) = stream.next().await {
                let chunk = chunk?;
                out.write_all(&chunk).map_err(|source| Cause::Io {
                    what: "writing the image archive".into(),
                    source,
                })?;
                n += chunk.len() as u64;
            }
            Ok::<u64, Cause>(n)
        };
        self.block_for(&format!("saving {image}"), Duration::from_secs(3600), fut)
    }

    /// Remove an image by reference, ignoring "no such image".
    pub fn remove_image(&self, image: &str) {
        let _ = self.block(
            "removing an image",
            self.docker.remove_image(
                image,
                None::<bollard::query_parameters::RemoveImageOptions>,
                None,
            ),
        );
    }
}

/// `DOCKER_API_VERSION` (`1.38`), which pins the API version as for the Docker CLI.
fn api_version_from_env() -> Result<Option<bollard::ClientVersion>, Cause> {
    let Some(v) = std::env::var("DOCKER_API_VERSION").ok().filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    let parsed = v.split_once('.').and_then(|(a, b)| Some((a.parse().ok()?, b.parse().ok()?)));
    match parsed {
        Some((major_version, minor_version)) => {
            Ok(Some(bollard::ClientVersion { major_version, minor_version }))
        }
        None => Err(Cause::ApiVersion(v)),
    }
}

/// bollard's `connect_with_host`, but speaking `pinned` when given (negotiation then only
/// lowers it further, for an engine older still).
fn connect_at(
    address: &str,
    pinned: Option<&bollard::ClientVersion>,
) -> Result<Docker, bollard::errors::Error> {
    const TIMEOUT: u64 = 120; // bollard's default request timeout; ours wraps every call anyway
    let Some(version) = pinned else { return Docker::connect_with_host(address) };
    if address.starts_with("unix://") {
        Docker::connect_with_unix(address, TIMEOUT, version)
    } else if address.starts_with("tcp://") && std::env::var_os("DOCKER_TLS_VERIFY").is_some() {
        let dir =
            std::env::var_os("DOCKER_CERT_PATH").map(std::path::PathBuf::from).unwrap_or_default();
        Docker::connect_with_ssl(
            address,
            &dir.join("key.pem"),
            &dir.join("cert.pem"),
            &dir.join("ca.pem"),
            TIMEOUT,
            version,
        )
    } else if address.starts_with("tcp://") || address.starts_with("http://") {
        Docker::connect_with_http(address, TIMEOUT, version)
    } else {
        Docker::connect_with_host(address)
    }
}

/// A number for each BuildKit session this process opens.
fn session_counter() -> u64 {
    static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    N.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

/// One BuildKit status message as events: its vertices, then its logs.
fn buildkit_events(
    status: bollard::moby::buildkit::v1::StatusResponse,
    on_event: &mut dyn FnMut(BuildEvent),
) {
    // bollard does not re-export the protobuf Timestamp type, so this is a macro, not a fn.
    macro_rules! nanos {
        ($t:expr) => {
            $t.map(|t| i128::from(t.seconds) * 1_000_000_000 + i128::from(t.nanos))
        };
    }
    for v in status.vertexes {
        on_event(BuildEvent::Vertex(Vertex {
            digest: v.digest,
            inputs: v.inputs,
            name: v.name,
            cached: v.cached,
            started: nanos!(v.started),
            completed: nanos!(v.completed),
            error: Some(v.error).filter(|e| !e.is_empty()),
        }));
    }
    for l in status.logs {
        on_event(BuildEvent::Log {
            vertex: l.vertex,
            text: String::from_utf8_lossy(&l.msg).into_owned(),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_engines_words_are_a_refusal_and_a_failure_keeps_its_cause() {
        let said =
            Error::new("unix:///x.sock", "pulling a", Cause::Said("manifest unknown".into()));
        assert!(matches!(said, Error::Docker { .. }), "{said:?}");
        assert_eq!(
            said.to_string(),
            "docker engine at unix:///x.sock: pulling a: manifest unknown"
        );
        assert_eq!(said.detail(), "manifest unknown");

        let io = std::io::Error::from(std::io::ErrorKind::BrokenPipe);
        let what = "writing the image archive".to_owned();
        let failed = Error::new("unix:///x.sock", "saving a", Cause::Io { what, source: io });
        assert_eq!(failed.to_string(), "docker engine at unix:///x.sock: saving a");
        let cause = std::error::Error::source(&failed).expect("a cause");
        assert_eq!(cause.to_string(), "writing the image archive");
        assert!(cause.source().and_then(|s| s.downcast_ref::<std::io::Error>()).is_some());
        assert_eq!(failed.detail(), "writing the image archive: broken pipe");
    }

    #[test]
    fn an_engine_that_is_not_there_is_a_failure_with_the_clients_error_below() {
        let dir = tempfile::tempdir().unwrap();
        let host = format!("unix://{}", dir.path().join("no.sock").display());
        let e = Engine::connect(Some(&host), Duration::from_secs(5)).err().expect("no engine");
        let Error::Failed { action, source, .. } = &e else { panic!("{e:?}") };
        // bollard looks for the socket before it connects.
        assert_eq!(action, "connecting");
        assert!(matches!(**source, Cause::Api(_)), "{source:?}");
        let line = archbench_results::error_line(&e);
        assert!(line.starts_with(&format!("docker engine at {host}: connecting: ")), "{line}");
        assert!(line.contains("Socket not found"), "{line}");
    }

    #[test]
    fn a_bad_ssh_address_says_what_is_wrong() {
        let e = Engine::connect(Some("ssh://host:ssh"), Duration::from_secs(5)).err().unwrap();
        assert!(matches!(&e, Error::Failed { source, .. } if matches!(**source, Cause::Ssh(_))));
        let line = archbench_results::error_line(&e);
        assert!(line.contains("reading the address") && line.contains("is not a number"), "{line}");
    }
}
