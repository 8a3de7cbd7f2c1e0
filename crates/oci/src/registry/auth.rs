//! Credentials the way the Docker CLI stores them, and the registry's `WWW-Authenticate`
//! challenge.
//!
//! `~/.docker/config.json` (or `$DOCKER_CONFIG/config.json`) holds `auths` (base64
//! `user:password`), a default `credsStore`, and per-registry `credHelpers`; a helper is the
//! program `docker-credential-<name>`, asked with `get` and the server on stdin, answering
//! `{"Username":…,"Secret":…}`.

use std::collections::HashMap;
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use base64::Engine as _;
use serde::Deserialize;

use crate::{Error, Result};

/// A username and secret. `Debug` never prints the secret.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    /// User name (`<token>` for identity tokens).
    pub username: String,
    /// Password or token.
    pub secret: String,
    /// Where they came from, for messages (`config.json auths`, `docker-credential-pass`).
    pub source: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Credentials({} from {}, secret hidden)", self.username, self.source)
    }
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct DockerConfig {
    #[serde(default)]
    auths: HashMap<String, AuthEntry>,
    #[serde(default)]
    creds_store: Option<String>,
    #[serde(default)]
    cred_helpers: HashMap<String, String>,
}

#[derive(Deserialize, Default)]
struct AuthEntry {
    #[serde(default)]
    auth: Option<String>,
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    password: Option<String>,
}

#[derive(Deserialize)]
struct HelperAnswer {
    #[serde(rename = "Username")]
    username: String,
    #[serde(rename = "Secret")]
    secret: String,
}

/// The Docker CLI's config file: `$DOCKER_CONFIG/config.json`, else `$HOME/.docker/config.json`.
pub fn docker_config_path() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("DOCKER_CONFIG") {
        return Some(PathBuf::from(dir).join("config.json"));
    }
    std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".docker/config.json"))
}

/// Keys a registry may be stored under in `auths` (Docker writes Docker Hub as a URL).
fn keys_for(registry: &str) -> Vec<String> {
    let mut keys = vec![
        registry.to_owned(),
        format!("https://{registry}"),
        format!("http://{registry}"),
        format!("https://{registry}/v1/"),
        format!("https://{registry}/v2/"),
    ];
    if registry == "docker.io" || registry == "registry-1.docker.io" {
        keys.push("https://index.docker.io/v1/".to_owned());
        keys.push("index.docker.io".to_owned());
    }
    keys
}

/// Look up credentials for `registry` (as written in references, `host[:port]`).
pub fn lookup(registry: &str) -> Result<Option<Credentials>> {
    let Some(path) = docker_config_path() else { return Ok(None) };
    let bytes = match std::fs::read(&path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => return Err(Error::Io { action: "reading", path, source }),
    };
    let config: DockerConfig = serde_json::from_slice(&bytes)
        .map_err(|e| Error::Invalid { what: path.display().to_string(), message: e.to_string() })?;
    let keys = keys_for(registry);
    if let Some(helper) = keys.iter().find_map(|k| config.cred_helpers.get(k)) {
        return helper_get(helper, registry);
    }
    for k in &keys {
        if let Some(entry) = config.auths.get(k) {
            if let Some(c) = decode_entry(entry, &path)? {
                return Ok(Some(c));
            }
        }
    }
    match &config.creds_store {
        Some(store) if !store.is_empty() => helper_get(store, registry),
        _ => Ok(None),
    }
}

fn decode_entry(entry: &AuthEntry, path: &std::path::Path) -> Result<Option<Credentials>> {
    let source = format!("{} auths", path.display());
    if let Some(auth) = entry.auth.as_deref().filter(|a| !a.is_empty()) {
        let raw = base64::engine::general_purpose::STANDARD.decode(auth.trim()).map_err(|_| {
            Error::Invalid { what: source.clone(), message: "an auth value is not base64".into() }
        })?;
        let text = String::from_utf8(raw).map_err(|_| Error::Invalid {
            what: source.clone(),
            message: "an auth value is not UTF-8".into(),
        })?;
        let (u, p) = text.split_once(':').ok_or_else(|| Error::Invalid {
            what: source.clone(),
            message: "an auth value is not user:password".into(),
        })?;
        return Ok(Some(Credentials { username: u.into(), secret: p.into(), source }));
    }
    match (&entry.username, &entry.password) {
        (Some(u), Some(p)) => {
            Ok(Some(Credentials { username: u.clone(), secret: p.clone(), source }))
        }
        _ => Ok(None),
    }
}

/// How long a credential helper may take to answer.
const HELPER_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

fn helper_get(helper: &str, registry: &str) -> Result<Option<Credentials>> {
    let program = format!("docker-credential-{helper}");
    let mut child = Command::new(&program)
        .arg("get")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| Error::Auth {
            registry: registry.to_owned(),
            message: format!("cannot run credential helper {program} ({e}); install it or remove it from config.json"),
        })?;
    if let Some(mut stdin) = child.stdin.take() {
        // A helper that exits without reading is reported below through its status.
        let _ = stdin.write_all(registry.as_bytes());
    }
    // A helper that hangs (waiting on a locked keychain, say) must not hang archbench.
    let deadline = std::time::Instant::now() + HELPER_TIMEOUT;
    loop {
        match child.try_wait() {
            Ok(Some(_)) => break,
            Ok(None) if std::time::Instant::now() < deadline => {
                std::thread::sleep(std::time::Duration::from_millis(20))
            }
            Ok(None) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(Error::Auth {
                    registry: registry.to_owned(),
                    message: format!(
                        "credential helper {program} did not answer within {} s; check it with `echo {registry} | {program} get`",
                        HELPER_TIMEOUT.as_secs()
                    ),
                });
            }
            Err(e) => {
                return Err(Error::Auth {
                    registry: registry.to_owned(),
                    message: format!("credential helper {program} failed: {e}"),
                })
            }
        }
    }
    // Its answer is a few hundred bytes, well within a pipe's buffer, so it could exit before
    // anything was read.
    let out = child.wait_with_output().map_err(|e| Error::Auth {
        registry: registry.to_owned(),
        message: format!("credential helper {program} failed: {e}"),
    })?;
    if !out.status.success() {
        let msg = String::from_utf8_lossy(&out.stdout).trim().to_owned();
        // Helpers answer "credentials not found in native keychain" for unknown servers.
        if msg.contains("not found") {
            return Ok(None);
        }
        return Err(Error::Auth {
            registry: registry.to_owned(),
            message: format!("credential helper {program} exited with {}: {msg}", out.status),
        });
    }
    let a: HelperAnswer = serde_json::from_slice(&out.stdout).map_err(|e| Error::Auth {
        registry: registry.to_owned(),
        message: format!(
            "credential helper {program} answered something that is not its JSON: {e}"
        ),
    })?;
    Ok(Some(Credentials { username: a.username, secret: a.secret, source: program }))
}

/// A parsed `WWW-Authenticate` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Challenge {
    /// `Basic realm=…`.
    Basic,
    /// `Bearer realm=…,service=…,scope=…`.
    Bearer {
        /// Token endpoint.
        realm: String,
        /// `service` parameter, when given.
        service: Option<String>,
        /// `scope` parameter, when given.
        scope: Option<String>,
    },
}

/// Parse a challenge; `None` for schemes we do not speak.
pub fn parse_challenge(header: &str) -> Option<Challenge> {
    let (scheme, rest) = header.trim().split_once(' ').unwrap_or((header.trim(), ""));
    let params = parse_params(rest);
    match scheme.to_ascii_lowercase().as_str() {
        "basic" => Some(Challenge::Basic),
        "bearer" => Some(Challenge::Bearer {
            realm: params.get("realm")?.clone(),
            service: params.get("service").cloned(),
            scope: params.get("scope").cloned(),
        }),
        _ => None,
    }
}

/// `k="v",k2=v2` with commas allowed inside quotes (scopes contain them).
fn parse_params(s: &str) -> HashMap<String, String> {
    let mut out = HashMap::new();
    let mut chars = s.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| *c == ',' || c.is_whitespace()) {
            chars.next();
        }
        let key: String = chars.by_ref().take_while(|c| *c != '=').collect();
        if key.is_empty() {
            break;
        }
        let mut value = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            while let Some(c) = chars.next() {
                match c {
                    '\\' => value.extend(chars.next()),
                    '"' => break,
                    c => value.push(c),
                }
            }
        } else {
            value = chars.by_ref().take_while(|c| *c != ',').collect();
        }
        out.insert(key.trim().to_ascii_lowercase(), value.trim().to_owned());
    }
    out
}

/// The `Authorization` value for basic auth.
pub fn basic_header(c: &Credentials) -> String {
    let raw = format!("{}:{}", c.username, c.secret);
    format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(raw))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn challenges() {
        assert_eq!(parse_challenge(r#"Basic realm="Registry Realm""#), Some(Challenge::Basic));
        assert_eq!(
            parse_challenge(
                r#"Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull,push""#
            ),
            Some(Challenge::Bearer {
                realm: "https://auth.example/token".into(),
                service: Some("registry.example".into()),
                scope: Some("repository:a/b:pull,push".into()),
            })
        );
        assert_eq!(parse_challenge("Bearer service=x"), None, "bearer without realm");
        assert_eq!(parse_challenge("Negotiate abc"), None);
    }

    #[test]
    fn config_auths_and_helpers() {
        let dir = tempfile::tempdir().unwrap();
        let helper_dir = dir.path().join("bin");
        std::fs::create_dir(&helper_dir).unwrap();
        let helper = helper_dir.join("docker-credential-archtest");
        std::fs::write(
            &helper,
            "#!/bin/sh\nread host\n[ \"$host\" = helped.example ] || { echo 'credentials not found'; exit 1; }\necho '{\"Username\":\"hu\",\"Secret\":\"hs\"}'\n",
        )
        .unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&helper, std::fs::Permissions::from_mode(0o755)).unwrap();
        let hung = helper_dir.join("docker-credential-archhang");
        std::fs::write(&hung, "#!/bin/sh\nexec sleep 60\n").unwrap();
        std::fs::set_permissions(&hung, std::fs::Permissions::from_mode(0o755)).unwrap();
        let config = serde_json::json!({
            "auths": { "127.0.0.1:5000": { "auth": base64::engine::general_purpose::STANDARD.encode("alice:s3cret") } },
            "credHelpers": { "helped.example": "archtest", "missing.example": "archtest", "hung.example": "archhang" },
        });
        std::fs::write(dir.path().join("config.json"), config.to_string()).unwrap();
        // The environment is process-wide: this is the only test in the crate that sets these.
        std::env::set_var("DOCKER_CONFIG", dir.path());
        let path = std::env::var("PATH").unwrap_or_default();
        std::env::set_var("PATH", format!("{}:{path}", helper_dir.display()));
        let c = lookup("127.0.0.1:5000").unwrap().unwrap();
        assert_eq!((c.username.as_str(), c.secret.as_str()), ("alice", "s3cret"));
        assert!(!format!("{c:?}").contains("s3cret"), "Debug must hide the secret");
        let h = lookup("helped.example").unwrap().unwrap();
        assert_eq!((h.username.as_str(), h.secret.as_str()), ("hu", "hs"));
        assert_eq!(lookup("missing.example").unwrap(), None);
        assert_eq!(lookup("other.example").unwrap(), None);
        assert_eq!(basic_header(&c), "Basic YWxpY2U6czNjcmV0");
        // A helper that never answers is given up on, and killed.
        let started = std::time::Instant::now();
        let e = lookup("hung.example").unwrap_err().to_string();
        assert!(e.contains("did not answer within 10 s"), "{e}");
        assert!(started.elapsed() < std::time::Duration::from_secs(20));
    }
}
