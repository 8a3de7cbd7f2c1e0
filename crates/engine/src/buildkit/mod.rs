//! BuildKit through the engine's own gRPC endpoints, as buildx's `docker` driver drives it: a
//! session (`/session`) that serves the build context and the Dockerfile by file sync, and
//! BuildKit's control API (`/grpc`) for the solve and its status stream.
//!
//! Why not the HTTP build endpoint (`POST /build?version=2`) that bollard offers: it sends the
//! context as the request body, and the engine hands it to BuildKit as a "remote" context
//! (`http://build-context-<id>`) that only the graph-driver image store resolves. On the
//! containerd image store (Docker Engine 24+ with `containerd-snapshotter`, the default for new
//! installs since 29.0) every such build fails at once with `lookup build-context-…: no such
//! host`. File sync works on both stores, so it is used wherever archbench can dial the engine
//! (a Unix socket, an ssh forward, TCP without TLS); a TLS engine keeps the HTTP endpoint.
//!
//! What the HTTP endpoint did for us and the solve request now says itself (moby's
//! `builder-next` translation, read for this): build arguments as `build-arg:K`, the platform,
//! `no-cache`, cache imports as registry entries, `BUILDKIT_INLINE_CACHE` as an inline cache
//! export, and the `moby` exporter naming the image.

mod dial;
pub mod filesync;
mod probe;

pub use probe::{probe, Capability, Facts, WASM_PROBE_TAG};

/// Why a BuildKit session, solve or probe failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The engine did not upgrade a connection to `/session` or `/grpc`, or broke it.
    #[error("opening {what} ({path})")]
    Upgrade {
        /// `a BuildKit session`.
        what: &'static str,
        /// The endpoint.
        path: &'static str,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// tonic could not open the control API over the upgraded connection.
    #[error("opening BuildKit's control API (/grpc)")]
    Control(#[source] tonic::transport::Error),
    /// BuildKit answered a call with an error. Its message is what BuildKit says went wrong
    /// (for a solve, the failed step and its exit code) and is shown as it is; the status
    /// (`code()`) is kept, not chained, as its own text repeats the message with metadata.
    #[error("{}{}", .call.map(|c| format!("{c}: ")).unwrap_or_default(), .status.message())]
    Refused {
        /// What was asked (`listing BuildKit's workers`); `None` for the solve itself, whose
        /// message says which step failed.
        call: Option<&'static str>,
        /// BuildKit's answer.
        status: tonic::Status,
    },
    /// The build context (a tar) could not be read.
    #[error("{what}")]
    Context {
        /// `reading the context tar`, `reading app/main.py from the context tar`.
        what: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The tar an exporter streamed to archbench could not be read.
    #[error("reading the {exporter} exporter's output {}", .path.display())]
    Output {
        /// `oci`.
        exporter: &'static str,
        /// The tar.
        path: std::path::PathBuf,
        /// The cause (a JSON document that does not parse is `InvalidData`).
        #[source]
        source: std::io::Error,
    },
}

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use bollard::health::health_check_response::ServingStatus;
use bollard::health::{
    HealthCheckRequest, HealthCheckResponse, HealthListRequest, HealthListResponse,
};
use bollard::moby::buildkit::v1::control_client::ControlClient;
use bollard::moby::buildkit::v1::{CacheOptions, CacheOptionsEntry, SolveRequest, StatusRequest};
use tokio_stream::StreamExt;

pub use dial::Dial;

use crate::{BuildEvent, BuildRequest};

/// What a build solve gives back.
pub struct Solved {
    /// `containerimage.config.digest` (the image ID on both stores), else the tag.
    pub image_id: String,
}

/// The session's gRPC methods, announced to the engine when the session opens.
const METHODS: [&str; 5] = [
    "/moby.filesync.v1.FileSync/DiffCopy",
    "/moby.filesync.v1.FileSync/TarStream",
    "/moby.filesync.v1.FileSend/DiffCopy",
    "/grpc.health.v1.Health/Check",
    "/grpc.health.v1.Health/Watch",
];

/// A process-unique name (sessions and build refs only have to be unique on the engine).
fn unique(prefix: &str) -> String {
    static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!("{prefix}{}x{n}x{t:x}", std::process::id())
}

/// One solve of the Dockerfile frontend: what the session serves, what the frontend and the
/// exporter are told, and where an exporter that streams a tar (`oci`, `docker`) writes it.
pub struct Solve {
    /// The context; the Dockerfile is the entry `frontend_attrs["filename"]` names in it.
    pub context: Arc<filesync::Tree>,
    /// The Dockerfile frontend's attributes (`platform`, `build-arg:K`, `no-cache`, …).
    pub frontend_attrs: HashMap<String, String>,
    /// `moby` (into the engine's image store), `oci`, `docker`, …
    pub exporter: String,
    /// The exporter's attributes (`name`, `rewrite-timestamp`, …).
    pub exporter_attrs: HashMap<String, String>,
    /// Cache imports and exports.
    pub cache: CacheOptions,
    /// Where the exporter's tar goes, for exporters that stream one to the client.
    pub output: Option<std::path::PathBuf>,
}

impl Solve {
    /// The solve a [`BuildRequest`] asks for (see the module note).
    pub fn from_request(req: &BuildRequest) -> Result<Solve, Error> {
        let mut attrs: HashMap<String, String> = HashMap::new();
        attrs.insert("filename".into(), req.dockerfile.clone());
        if let Some(p) = &req.platform {
            attrs.insert("platform".into(), p.to_string());
        }
        for (k, v) in &req.build_args {
            attrs.insert(format!("build-arg:{k}"), v.clone());
        }
        if req.no_cache {
            attrs.insert("no-cache".into(), String::new());
        }
        let imports: Vec<CacheOptionsEntry> = req
            .cache_from
            .iter()
            .map(|r| CacheOptionsEntry {
                r#type: "registry".into(),
                attrs: HashMap::from([("ref".to_owned(), r.clone())]),
            })
            .collect();
        if !req.cache_from.is_empty() {
            // The frontend resolves base images with the same imports (inline cache records).
            let json: Vec<serde_json::Value> = req
                .cache_from
                .iter()
                .map(|r| serde_json::json!({"Type": "registry", "Attrs": {"ref": r}}))
                .collect();
            attrs.insert("cache-imports".into(), serde_json::Value::from(json).to_string());
        }
        let mut exports = if req.build_args.get("BUILDKIT_INLINE_CACHE").is_some_and(|v| v == "1") {
            vec![CacheOptionsEntry { r#type: "inline".into(), attrs: HashMap::new() }]
        } else {
            Vec::new()
        };
        if let Some(c) = &req.cache_to {
            let mode = if c.max { "max" } else { "min" };
            exports.push(CacheOptionsEntry {
                r#type: "registry".into(),
                attrs: HashMap::from([
                    ("ref".to_owned(), c.reference.clone()),
                    ("mode".to_owned(), mode.to_owned()),
                ]),
            });
        }
        for (k, v) in &req.attest {
            attrs.insert(format!("attest:{k}"), v.clone());
        }
        if let Some(t) = req.source_date_epoch {
            attrs.insert("build-arg:SOURCE_DATE_EPOCH".into(), t.to_string());
        }
        Ok(Solve {
            context: Arc::new(filesync::Tree::from_tar(&req.context)?),
            frontend_attrs: attrs,
            exporter: "moby".into(),
            exporter_attrs: HashMap::from([("name".to_owned(), req.tag.clone())]),
            cache: CacheOptions { exports, imports, ..Default::default() },
            output: None,
        })
    }

    fn request(&self, session: &str, build_ref: &str) -> SolveRequest {
        SolveRequest {
            r#ref: build_ref.to_owned(),
            // The fields BuildKit v0.8 (Engine 20.10) reads; later versions still honour them.
            exporter_deprecated: self.exporter.clone(),
            exporter_attrs_deprecated: self.exporter_attrs.clone(),
            session: session.to_owned(),
            frontend: "dockerfile.v0".into(),
            frontend_attrs: self.frontend_attrs.clone(),
            cache: Some(self.cache.clone()),
            ..Default::default()
        }
    }
}

/// Serve the session on `conn` until the engine closes it.
fn serve_session(conn: dial::Conn, tree: Arc<filesync::Tree>, output: Option<std::path::PathBuf>) {
    let dirs =
        BTreeMap::from([("context".to_owned(), tree.clone()), ("dockerfile".to_owned(), tree)]);
    let fs = bollard::moby::filesync::packet::file_sync_server::FileSyncServer::new(
        filesync::FileSync { dirs },
    )
    .max_decoding_message_size(16 << 20)
    .max_encoding_message_size(16 << 20);
    let send =
        bollard::moby::filesync::v1::file_send_server::FileSendServer::new(filesync::FileSend {
            path: output,
        })
        .max_decoding_message_size(16 << 20)
        .max_encoding_message_size(16 << 20);
    let health = bollard::health::health_server::HealthServer::new(Healthy);
    tokio::spawn(async move {
        let _ = tonic::transport::Server::builder()
            .add_service(health)
            .add_service(fs)
            .add_service(send)
            .serve_with_incoming(tokio_stream::iter([Ok::<_, std::io::Error>(conn)]))
            .await;
    });
}

/// The control API over `/grpc`, dialled anew whenever tonic connects.
async fn control(dial: &Dial) -> Result<ControlClient<tonic::transport::Channel>, Error> {
    let d = dial.clone();
    let channel = tonic::transport::Endpoint::from_static("http://buildkit.invalid")
        .connect_with_connector(tower::service_fn(move |_: tonic::transport::Uri| {
            let d = d.clone();
            async move {
                let conn = d.upgrade("/grpc", &[]).await?;
                Ok::<_, std::io::Error>(hyper_util::rt::TokioIo::new(conn))
            }
        }))
        .await
        .map_err(Error::Control)?;
    Ok(ControlClient::new(channel)
        .max_decoding_message_size(16 << 20)
        .max_encoding_message_size(16 << 20))
}

/// Run `solve` through a session and the control API, calling `on_event` with every vertex and
/// log line as BuildKit reports them; the exporter's response.
pub async fn run(
    dial: &Dial,
    solve: &Solve,
    on_event: &mut dyn FnMut(BuildEvent),
) -> Result<HashMap<String, String>, Error> {
    let session = unique("archbench");
    let build_ref = unique("archbenchbuild");
    let mut headers = vec![
        ("X-Docker-Expose-Session-Uuid", session.clone()),
        ("X-Docker-Expose-Session-Name", "archbench".to_owned()),
        ("X-Docker-Expose-Session-Sharedkey", session.clone()),
    ];
    headers
        .extend(METHODS.iter().map(|m| ("X-Docker-Expose-Session-Grpc-Method", (*m).to_owned())));
    let conn = dial.upgrade("/session", &headers).await.map_err(|source| Error::Upgrade {
        what: "a BuildKit session",
        path: "/session",
        source,
    })?;
    serve_session(conn, solve.context.clone(), solve.output.clone());
    let mut client = control(dial).await?;
    let mut status = client.clone();
    let status_ref = build_ref.clone();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let statuses = tokio::spawn(async move {
        let Ok(resp) = status.status(StatusRequest { r#ref: status_ref }).await else { return };
        let mut stream = resp.into_inner();
        while let Some(Ok(s)) = stream.next().await {
            if tx.send(s).is_err() {
                return;
            }
        }
    });
    let call = client.solve(solve.request(&session, &build_ref));
    tokio::pin!(call);
    let result = loop {
        tokio::select! {
            r = &mut call => break r,
            Some(s) = rx.recv() => crate::buildkit_events(s, on_event),
        }
    };
    // The status stream ends with the job; what it still holds is the last vertices' ends.
    let drain = async {
        while let Some(s) = rx.recv().await {
            crate::buildkit_events(s, on_event);
        }
    };
    let _ = tokio::time::timeout(std::time::Duration::from_secs(5), drain).await;
    statuses.abort();
    let resp = result.map_err(|status| Error::Refused { call: None, status })?;
    Ok(resp.into_inner().exporter_response)
}

/// Build `req` (a [`BuildRequest`] for the `moby` exporter) and return the image ID.
pub async fn solve(
    dial: &Dial,
    req: &BuildRequest,
    on_event: &mut dyn FnMut(BuildEvent),
) -> Result<Solved, Error> {
    let solve = Solve::from_request(req)?;
    let resp = run(dial, &solve, on_event).await?;
    let image_id = resp
        .get("containerimage.config.digest")
        .or_else(|| resp.get("containerimage.digest"))
        .cloned()
        .unwrap_or_else(|| req.tag.clone());
    Ok(Solved { image_id })
}

/// The session's health service: the engine checks it while the build runs and closes a
/// session that does not answer.
struct Healthy;

type WatchStream = std::pin::Pin<
    Box<dyn tokio_stream::Stream<Item = Result<HealthCheckResponse, tonic::Status>> + Send>,
>;

#[tonic::async_trait]
impl bollard::health::health_server::Health for Healthy {
    async fn check(
        &self,
        _: tonic::Request<HealthCheckRequest>,
    ) -> Result<tonic::Response<HealthCheckResponse>, tonic::Status> {
        Ok(tonic::Response::new(HealthCheckResponse { status: ServingStatus::Serving as i32 }))
    }

    async fn list(
        &self,
        _: tonic::Request<HealthListRequest>,
    ) -> Result<tonic::Response<HealthListResponse>, tonic::Status> {
        Err(tonic::Status::unimplemented("archbench's session answers Check"))
    }

    type WatchStream = WatchStream;

    async fn watch(
        &self,
        _: tonic::Request<HealthCheckRequest>,
    ) -> Result<tonic::Response<WatchStream>, tonic::Status> {
        let serving = HealthCheckResponse { status: ServingStatus::Serving as i32 };
        let stream = tokio_stream::iter([Ok(serving)]).chain(tokio_stream::pending());
        Ok(tonic::Response::new(Box::pin(stream)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req() -> BuildRequest {
        BuildRequest {
            context: Vec::new(),
            dockerfile: ".archbench.Dockerfile".into(),
            platform: Some("linux/arm64".parse().unwrap()),
            build_args: BTreeMap::from([
                ("BUILDKIT_INLINE_CACHE".to_owned(), "1".to_owned()),
                ("N".to_owned(), "5".to_owned()),
            ]),
            tag: "app:arm64-native".into(),
            no_cache: true,
            timeout: std::time::Duration::from_secs(1),
            builder: archbench_results::build::Builder::Buildkit,
            cache_from: vec!["127.0.0.1:5000/app:cache".into()],
            cache_to: Some(crate::RegistryCache {
                reference: "127.0.0.1:5000/app:buildcache".into(),
                max: true,
            }),
            attest: BTreeMap::from([("provenance".to_owned(), "mode=min".to_owned())]),
            source_date_epoch: Some(1_700_000_000),
        }
    }

    #[test]
    fn the_solve_says_what_the_http_endpoint_translated() {
        let r = Solve::from_request(&req()).unwrap().request("s1", "b1");
        assert_eq!(r.session, "s1");
        assert_eq!(r.r#ref, "b1");
        assert_eq!(r.frontend, "dockerfile.v0");
        assert_eq!(r.frontend_attrs["filename"], ".archbench.Dockerfile");
        assert_eq!(r.frontend_attrs["platform"], "linux/arm64");
        assert_eq!(r.frontend_attrs["build-arg:N"], "5");
        assert_eq!(r.frontend_attrs["no-cache"], "");
        assert!(r.frontend_attrs["cache-imports"].contains("127.0.0.1:5000/app:cache"));
        assert_eq!(r.exporter_deprecated, "moby");
        assert_eq!(r.exporter_attrs_deprecated["name"], "app:arm64-native");
        let cache = r.cache.unwrap();
        assert_eq!(cache.imports[0].attrs["ref"], "127.0.0.1:5000/app:cache");
        assert_eq!(cache.exports[0].r#type, "inline");
        assert_eq!(cache.exports[1].r#type, "registry");
        assert_eq!(cache.exports[1].attrs["ref"], "127.0.0.1:5000/app:buildcache");
        assert_eq!(cache.exports[1].attrs["mode"], "max");
        assert_eq!(r.frontend_attrs["attest:provenance"], "mode=min");
        assert_eq!(r.frontend_attrs["build-arg:SOURCE_DATE_EPOCH"], "1700000000");
    }
}
