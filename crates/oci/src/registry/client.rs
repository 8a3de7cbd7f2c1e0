//! One registry host: scheme detection, authentication, manifests and blobs.

use std::collections::HashMap;
use std::io::Read;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Duration;

use reqwest::blocking::{Client, RequestBuilder, Response};
use reqwest::header::{HeaderMap, ACCEPT, AUTHORIZATION, CONTENT_TYPE, LOCATION, WWW_AUTHENTICATE};
use reqwest::StatusCode;

use super::auth::{self, basic_header, Challenge, Credentials};
use crate::limits::MAX_DOCUMENT_BYTES;
use crate::reference::is_loopback;
use crate::Digest;
use crate::{Error, Result};

/// Media types we accept for manifests, newest first.
pub const MANIFEST_ACCEPT: &str = "application/vnd.oci.image.index.v1+json, \
application/vnd.oci.image.manifest.v1+json, \
application/vnd.docker.distribution.manifest.list.v2+json, \
application/vnd.docker.distribution.manifest.v2+json";

/// How to reach registries.
#[derive(Debug, Clone, Default)]
pub struct RegistryOptions {
    /// Allow plain HTTP and unverified TLS for non-loopback hosts.
    pub insecure: bool,
    /// Extra CA certificates (PEM) to trust. `/etc/docker/certs.d/<host>/ca.crt` is also read.
    pub ca_certs: Vec<PathBuf>,
    /// Use these instead of looking in the Docker config.
    pub credentials: Option<Credentials>,
    /// How long to wait for a response, or for the next bytes of a body, before giving up
    /// (`None`: [`DEFAULT_IDLE_TIMEOUT`]). Uploads get [`UPLOAD_TIMEOUT`] as a whole.
    pub idle_timeout: Option<Duration>,
}

/// The default wait for a response or for the next bytes of a body. skopeo gave up on a
/// silent server in 20 s here; a registry that says nothing for 30 s is not going to.
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(30);

/// An upload's whole time: a blob may be gigabytes, and reqwest's blocking client bounds a
/// request with a body as one wait.
pub const UPLOAD_TIMEOUT: Duration = Duration::from_secs(60 * 60);

/// Attempts for an idempotent request (GET, HEAD) that timed out or could not connect, with
/// 0.5 s, then 1 s between them.
const ATTEMPTS: u32 = 3;

/// A manifest or index as fetched.
#[derive(Debug, Clone)]
pub struct Fetched {
    /// The bytes, exactly as served (their digest is the manifest's identity).
    pub bytes: Vec<u8>,
    /// Content type.
    pub media_type: String,
    /// `sha256:…` of the bytes.
    pub digest: Digest,
}

/// How a blob got to the registry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Put {
    /// It was there already (HEAD said so).
    Skipped,
    /// Cross-repository mount: no bytes sent.
    Mounted,
    /// Uploaded.
    Uploaded,
}

/// A client for one registry host.
pub struct Registry {
    host: String,
    base: String,
    http: Client,
    credentials: Option<Credentials>,
    /// Authorization header per scope (bearer) or for everything (`*`, basic).
    auth: Mutex<HashMap<String, String>>,
}

fn short(text: &str) -> String {
    let t = text.trim();
    if t.len() > 300 {
        let cut = t.char_indices().map(|(i, _)| i).take_while(|i| *i <= 300).last().unwrap_or(0);
        format!("{}…", &t[..cut])
    } else {
        t.to_owned()
    }
}

impl Registry {
    // Long (about 95 lines): TLS roots, loopback plain HTTP, credentials and timeouts are read in
    // the order the connection needs them, each a few lines.
    /// Connect to `host` (`127.0.0.1:5000`, `ghcr.io`): choose HTTPS, or plain HTTP when TLS
    /// fails and the host is loopback or `insecure` is set, and learn how it wants auth.
    pub fn connect(host: &str, options: &RegistryOptions) -> Result<Self> {
        // reqwest's blocking client applies `timeout` to the wait for the response and then to
        // each read of the body, so it is an idle timeout for streamed blobs.
        let idle = options.idle_timeout.unwrap_or(DEFAULT_IDLE_TIMEOUT);
        let mut builder = Client::builder()
            .connect_timeout(Duration::from_secs(10).min(idle))
            .timeout(idle)
            .user_agent(concat!("archbench/", env!("CARGO_PKG_VERSION")))
            .danger_accept_invalid_certs(options.insecure);
        let mut cas = options.ca_certs.clone();
        let certs_d = PathBuf::from("/etc/docker/certs.d").join(host).join("ca.crt");
        if certs_d.is_file() {
            cas.push(certs_d);
        }
        for path in &cas {
            let pem = std::fs::read(path).map_err(|source| Error::Io {
                action: "reading CA certificate",
                path: path.clone(),
                source,
            })?;
            let certs =
                reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| Error::Invalid {
                    what: path.display().to_string(),
                    message: format!("not a PEM certificate: {e}"),
                })?;
            for c in certs {
                builder = builder.add_root_certificate(c);
            }
        }
        let http = builder.build().map_err(|source| Error::Transport {
            registry: host.to_owned(),
            request: "building the HTTP client".into(),
            source,
        })?;
        let credentials = match &options.credentials {
            Some(c) => Some(c.clone()),
            None => auth::lookup(host)?,
        };
        let mut reg = Registry {
            host: host.to_owned(),
            base: format!("https://{host}"),
            http,
            credentials,
            auth: Mutex::new(HashMap::new()),
        };
        let ping = format!("{}/v2/", reg.base);
        let https_err = match reg.http.get(&ping).send() {
            Ok(_) => return Ok(reg),
            Err(e) => e,
        };
        if !(is_loopback(host) || options.insecure) {
            return Err(Error::Transport {
                registry: host.to_owned(),
                request: format!("GET {ping}"),
                source: https_err,
            });
        }
        let plain = format!("http://{host}");
        match reg.http.get(format!("{plain}/v2/")).send() {
            Ok(r)
                if r.headers().get("docker-distribution-api-version").is_some()
                    || r.status().is_success()
                    || r.status() == StatusCode::UNAUTHORIZED =>
            {
                tracing::info!(
                    "{host}: HTTPS failed ({https_err}); using plain HTTP (loopback or --insecure)"
                );
                reg.base = plain;
                Ok(reg)
            }
            // Nothing listens at all: say so rather than suggest TLS options.
            Err(e) if e.is_connect() => Err(Error::Transport {
                registry: host.to_owned(),
                request: "GET /v2/ over HTTPS and plain HTTP: nothing accepted the connection"
                    .into(),
                source: e,
            }),
            // It accepts connections and then says nothing, over either protocol.
            Err(e) if e.is_timeout() && https_err.is_timeout() => Err(Error::Transport {
                registry: host.to_owned(),
                request: format!(
                    "GET /v2/ over HTTPS and plain HTTP: the connection was accepted but nothing answered within the idle timeout of {} s (--registry-timeout sets it)",
                    idle.as_secs()
                ),
                source: e,
            }),
            // Plain HTTP answered, but not as a registry: the HTTPS error is the useful one
            // (a TLS registry whose CA we do not trust answers plain HTTP with 400).
            Ok(_) | Err(_) => Err(Error::Transport {
                registry: host.to_owned(),
                request: format!(
                    "GET {ping} (pass --ca-cert FILE for a private CA, or --insecure)"
                ),
                source: https_err,
            }),
        }
    }

    /// The host as given.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// `https://host` or `http://host`.
    pub fn base(&self) -> &str {
        &self.base
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Send a request built by `build` (called again after authenticating), with the auth for
    /// `scope`. On 401, answer the challenge once and retry.
    fn send(
        &self,
        what: &str,
        scope: &str,
        build: &dyn Fn(&Client) -> Result<RequestBuilder>,
    ) -> Result<Response> {
        for attempt in 0..2 {
            let header = {
                let auth = self.auth.lock().expect("auth lock");
                auth.get(scope).or_else(|| auth.get("*")).cloned()
            };
            let resp = self.send_retrying(what, build, header.as_deref())?;
            if resp.status() != StatusCode::UNAUTHORIZED {
                return Ok(resp);
            }
            // A token was issued and the registry still says no: the token server did not grant
            // the scope (the credentials themselves were accepted to get the token).
            let insufficient = resp
                .headers()
                .get(WWW_AUTHENTICATE)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.contains("insufficient_scope"));
            if attempt == 1
                && self.has_bearer(scope)
                && (insufficient || self.credentials.is_some())
            {
                return Err(self.not_granted(scope));
            }
            if attempt == 1 || (header.is_some() && !self.has_bearer(scope)) {
                return Err(self.refused(header.is_some()));
            }
            self.answer(resp.headers(), scope)?;
        }
        unreachable!("the loop returns on its second pass")
    }

    /// One request; a GET or HEAD that timed out or could not connect is sent again (it changes
    /// nothing on the server), up to [`ATTEMPTS`] times with a growing pause. Other requests are
    /// sent once: a PUT or POST that timed out may have taken effect.
    fn send_retrying(
        &self,
        what: &str,
        build: &dyn Fn(&Client) -> Result<RequestBuilder>,
        header: Option<&str>,
    ) -> Result<Response> {
        let mut pause = Duration::from_millis(500);
        for attempt in 1..=ATTEMPTS {
            let mut req = build(&self.http)?;
            if let Some(h) = header {
                req = req.header(AUTHORIZATION, h);
            }
            let req = req.build().map_err(|source| Error::Transport {
                registry: self.host.clone(),
                request: what.to_owned(),
                source,
            })?;
            let idempotent = matches!(*req.method(), reqwest::Method::GET | reqwest::Method::HEAD);
            match self.http.execute(req) {
                Ok(resp) => return Ok(resp),
                Err(e)
                    if idempotent && attempt < ATTEMPTS && (e.is_timeout() || e.is_connect()) =>
                {
                    tracing::warn!("{what} on {}: {e}; trying again in {pause:?}", self.host);
                    std::thread::sleep(pause);
                    pause *= 2;
                }
                Err(source) => {
                    return Err(Error::Transport {
                        registry: self.host.clone(),
                        request: if source.is_timeout() {
                            format!("{what} (no answer within the idle timeout, after {attempt} attempt(s); --registry-timeout sets it)")
                        } else {
                            what.to_owned()
                        },
                        source,
                    })
                }
            }
        }
        unreachable!("the last attempt returns")
    }

    fn has_bearer(&self, scope: &str) -> bool {
        self.auth.lock().expect("auth lock").get(scope).is_some_and(|h| h.starts_with("Bearer"))
    }

    fn not_granted(&self, scope: &str) -> Error {
        let who = self
            .credentials
            .as_ref()
            .map_or_else(|| "anonymous pulls".to_owned(), |c| format!("user {:?}", c.username));
        Error::Auth {
            registry: self.host.clone(),
            message: format!(
                "the token server accepted the credentials but did not grant {scope} to {who}; ask for those rights, or use credentials that have them"
            ),
        }
    }

    fn refused(&self, had_credentials: bool) -> Error {
        let message = match (&self.credentials, had_credentials) {
            (Some(c), true) => format!(
                "refused the credentials for user {:?} (from {}); check the password, e.g. with `docker login {}`",
                c.username, c.source, self.host
            ),
            _ => format!(
                "requires authentication and no credentials were found for it; run `docker login {}` or add it to $DOCKER_CONFIG/config.json",
                self.host
            ),
        };
        Error::Auth { registry: self.host.clone(), message }
    }

    fn answer(&self, headers: &HeaderMap, scope: &str) -> Result<()> {
        let challenge = headers
            .get(WWW_AUTHENTICATE)
            .and_then(|v| v.to_str().ok())
            .and_then(auth::parse_challenge);
        match challenge {
            Some(Challenge::Basic) => {
                let c = self.credentials.as_ref().ok_or_else(|| self.refused(false))?;
                self.auth.lock().expect("auth lock").insert("*".into(), basic_header(c));
                Ok(())
            }
            Some(Challenge::Bearer { realm, service, scope: asked }) => {
                let scope_param = asked.unwrap_or_else(|| scope.to_owned());
                let mut req = self.http.get(&realm).query(&[("scope", scope_param.as_str())]);
                if let Some(s) = &service {
                    req = req.query(&[("service", s.as_str())]);
                }
                if let Some(c) = &self.credentials {
                    req = req.header(AUTHORIZATION, basic_header(c));
                }
                let resp = req.send().map_err(|source| Error::Transport {
                    registry: self.host.clone(),
                    request: format!("GET {realm} (token)"),
                    source,
                })?;
                if !resp.status().is_success() {
                    return Err(self.refused(self.credentials.is_some()));
                }
                #[derive(serde::Deserialize)]
                struct Token {
                    token: Option<String>,
                    access_token: Option<String>,
                }
                let t: Token = serde_json::from_slice(&read_limited(resp, 1 << 20, &self.host)?)
                    .map_err(|e| Error::Auth {
                        registry: self.host.clone(),
                        message: format!("token endpoint {realm} answered non-JSON: {e}"),
                    })?;
                let token = t.token.or(t.access_token).ok_or_else(|| Error::Auth {
                    registry: self.host.clone(),
                    message: format!("token endpoint {realm} gave no token"),
                })?;
                self.auth
                    .lock()
                    .expect("auth lock")
                    .insert(scope.to_owned(), format!("Bearer {token}"));
                Ok(())
            }
            None => Err(Error::Auth {
                registry: self.host.clone(),
                message: "answered 401 with no challenge we understand (expected Basic or Bearer)"
                    .into(),
            }),
        }
    }

    fn fail(&self, what: &str, resp: Response) -> Error {
        let status = resp.status().as_u16();
        // Only the start of an error page is quoted (300 characters), so only that much is
        // read: a huge or endless error body neither fills memory nor hides the message.
        let mut body = Vec::new();
        let _ = resp.take(4 << 10).read_to_end(&mut body);
        Error::Registry {
            registry: self.host.clone(),
            status,
            request: what.to_owned(),
            message: short(&String::from_utf8_lossy(&body)),
        }
    }

    fn scope(repo: &str, push: bool) -> String {
        format!("repository:{repo}:{}", if push { "pull,push" } else { "pull" })
    }

    /// Fetch a manifest or index by tag or digest, verifying its digest (against the reference
    /// when it is one, else against `Docker-Content-Digest`) and refusing oversized ones.
    pub fn manifest(&self, repo: &str, reference: &str) -> Result<Fetched> {
        let what = format!("GET /v2/{repo}/manifests/{reference}");
        let url = self.url(&format!("/v2/{repo}/manifests/{reference}"));
        let resp = self.send(&what, &Self::scope(repo, false), &|c| {
            Ok(c.get(&url).header(ACCEPT, MANIFEST_ACCEPT))
        })?;
        if resp.status() == StatusCode::NOT_FOUND {
            return Err(Error::NotFound(format!(
                "{}/{repo} has no manifest {reference}",
                self.host
            )));
        }
        if !resp.status().is_success() {
            return Err(self.fail(&what, resp));
        }
        let media_type = header_str(resp.headers(), CONTENT_TYPE.as_str()).unwrap_or_default();
        let served = header_str(resp.headers(), "docker-content-digest");
        let status = resp.status().as_u16();
        if let Some(len) = resp.content_length() {
            if len > MAX_DOCUMENT_BYTES {
                return Err(Error::TooLarge {
                    what: format!("{}/{repo} manifest {reference}", self.host),
                    size: len,
                    limit: MAX_DOCUMENT_BYTES,
                });
            }
        }
        let bytes = read_limited(resp, MAX_DOCUMENT_BYTES, &self.host).map_err(|e| match e {
            Error::TooLarge { size, limit, .. } => Error::TooLarge {
                what: format!("{}/{repo} manifest {reference}", self.host),
                size,
                limit,
            },
            e => e,
        })?;
        let digest = Digest::of(&bytes);
        let expected = if reference.starts_with("sha256:") {
            Some(Digest::parse(reference)?)
        } else {
            served.map(|d| self.served_digest(&what, status, &d)).transpose()?
        };
        if let Some(expected) = expected {
            if expected != digest {
                return Err(Error::Digest { expected, actual: digest });
            }
        }
        let media_type = if media_type.is_empty() || media_type == "application/json" {
            sniff_media_type(&bytes)
        } else {
            media_type.split(';').next().unwrap_or_default().trim().to_owned()
        };
        Ok(Fetched { bytes, media_type, digest })
    }

    /// Whether the registry has a blob in `repo`.
    pub fn has_blob(&self, repo: &str, digest: &Digest) -> Result<bool> {
        let what = format!("HEAD /v2/{repo}/blobs/{digest}");
        let url = self.url(&format!("/v2/{repo}/blobs/{digest}"));
        let resp = self.send(&what, &Self::scope(repo, false), &|c| Ok(c.head(&url)))?;
        match resp.status() {
            s if s.is_success() => Ok(true),
            StatusCode::NOT_FOUND => Ok(false),
            _ => Err(self.fail(&what, resp)),
        }
    }

    /// Stream a blob (not yet verified: wrap in [`crate::digest::VerifyingReader`]), with its size.
    pub fn blob(&self, repo: &str, digest: &Digest) -> Result<(Response, Option<u64>)> {
        let what = format!("GET /v2/{repo}/blobs/{digest}");
        let url = self.url(&format!("/v2/{repo}/blobs/{digest}"));
        let resp = self.send(&what, &Self::scope(repo, false), &|c| Ok(c.get(&url)))?;
        if resp.status() == StatusCode::NOT_FOUND {
            return Err(Error::NotFound(format!("{}/{repo} has no blob {digest}", self.host)));
        }
        if !resp.status().is_success() {
            return Err(self.fail(&what, resp));
        }
        let len = resp.content_length();
        Ok((resp, len))
    }

    /// Put a blob: skip it when present, mount it from `mount_from` (a repository on this
    /// registry) when possible, otherwise upload the stream `open` yields in one PUT. `open`
    /// may be called twice (once more after an auth challenge).
    pub fn push_blob(
        &self,
        repo: &str,
        digest: &Digest,
        size: u64,
        mount_from: Option<&str>,
        open: &(dyn Fn() -> Result<Box<dyn Read + Send>> + Sync),
    ) -> Result<Put> {
        if self.has_blob(repo, digest)? {
            return Ok(Put::Skipped);
        }
        let scope = Self::scope(repo, true);
        let mut start = self.url(&format!("/v2/{repo}/blobs/uploads/"));
        if let Some(from) = mount_from.filter(|f| *f != repo) {
            start = format!("{start}?mount={digest}&from={from}");
        }
        let what = format!("POST /v2/{repo}/blobs/uploads/");
        let resp =
            self.send(&what, &scope, &|c| Ok(c.post(&start).header("content-length", "0")))?;
        if resp.status() == StatusCode::CREATED && mount_from.is_some() {
            return Ok(Put::Mounted);
        }
        if resp.status() != StatusCode::ACCEPTED {
            return Err(self.fail(&what, resp));
        }
        let location =
            header_str(resp.headers(), LOCATION.as_str()).ok_or_else(|| Error::Registry {
                registry: self.host.clone(),
                status: 202,
                request: what.clone(),
                message: "no Location header for the upload".into(),
            })?;
        let location = if location.starts_with("http://") || location.starts_with("https://") {
            location
        } else {
            self.url(&location)
        };
        let sep = if location.contains('?') { '&' } else { '?' };
        let put = format!("{location}{sep}digest={digest}");
        let what = format!("PUT /v2/{repo}/blobs/uploads/… ({digest})");
        let resp = self.send(&what, &scope, &|c| {
            let body = reqwest::blocking::Body::sized(open()?, size);
            Ok(c.put(&put)
                .timeout(UPLOAD_TIMEOUT)
                .header(CONTENT_TYPE, "application/octet-stream")
                .body(body))
        })?;
        if resp.status() != StatusCode::CREATED {
            return Err(self.fail(&what, resp));
        }
        Ok(Put::Uploaded)
    }

    /// Put a manifest or index under `reference` (a tag, or its digest), checking the digest
    /// the registry computed.
    pub fn put_manifest(
        &self,
        repo: &str,
        reference: &str,
        bytes: &[u8],
        media_type: &str,
    ) -> Result<Digest> {
        let what = format!("PUT /v2/{repo}/manifests/{reference}");
        let url = self.url(&format!("/v2/{repo}/manifests/{reference}"));
        let resp = self.send(&what, &Self::scope(repo, true), &|c| {
            Ok(c.put(&url).header(CONTENT_TYPE, media_type).body(bytes.to_vec()))
        })?;
        if resp.status() != StatusCode::CREATED {
            return Err(self.fail(&what, resp));
        }
        let ours = Digest::of(bytes);
        if let Some(theirs) = header_str(resp.headers(), "docker-content-digest") {
            let theirs = self.served_digest(&what, resp.status().as_u16(), &theirs)?;
            if theirs != ours {
                return Err(Error::Digest { expected: ours, actual: theirs });
            }
        }
        Ok(ours)
    }

    /// The `Docker-Content-Digest` a registry sent, which must be one archbench reads.
    fn served_digest(&self, request: &str, status: u16, header: &str) -> Result<Digest> {
        Digest::parse(header).map_err(|e| Error::Registry {
            registry: self.host.clone(),
            status,
            request: request.to_owned(),
            message: format!("its Docker-Content-Digest header is not usable: {e}"),
        })
    }
}

fn header_str(h: &HeaderMap, name: &str) -> Option<String> {
    h.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned)
}

/// Read a response body, refusing more than `limit` bytes.
fn read_limited(resp: Response, limit: u64, host: &str) -> Result<Vec<u8>> {
    let mut bytes = Vec::new();
    resp.take(limit + 1).read_to_end(&mut bytes).map_err(|source| Error::Io {
        action: "reading a response from",
        path: PathBuf::from(host),
        source,
    })?;
    if bytes.len() as u64 > limit {
        return Err(Error::TooLarge {
            what: format!("a response from {host}"),
            size: bytes.len() as u64,
            limit,
        });
    }
    Ok(bytes)
}

/// The media type a document declares, when the server did not say.
pub fn sniff_media_type(bytes: &[u8]) -> String {
    #[derive(serde::Deserialize)]
    struct Head {
        #[serde(rename = "mediaType")]
        media_type: Option<String>,
        manifests: Option<serde_json::Value>,
    }
    match serde_json::from_slice::<Head>(bytes) {
        Ok(Head { media_type: Some(m), .. }) => m,
        Ok(Head { manifests: Some(_), .. }) => crate::layout::media::INDEX.to_owned(),
        _ => crate::layout::media::MANIFEST.to_owned(),
    }
}
