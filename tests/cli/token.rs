//! The registry token flow against real components (issue 18): Debian's docker-registry with
//! `auth: token`, a token server in Python (python3-jwt, RS256 with an `x5c` header, a
//! certificate made by openssl), and blob downloads redirected to another loopback host.

use std::path::Path;
use std::process::Command;

use archbench_platform::Platform;

use crate::registry_support::{archinfo_layout, PyServer, RegistrySpec, TestRegistry};
use crate::support::archbench;

/// Grants per user: alice may pull and push, bob may only pull. Every request is logged as a
/// JSON line (user, scopes asked, access granted).
const TOKEN_SERVER: &str = r#"
import base64, http.server, json, sys, time, uuid
from urllib.parse import urlparse, parse_qs
import jwt
from cryptography import x509
from cryptography.hazmat.primitives import serialization
key = serialization.load_pem_private_key(open(sys.argv[1], "rb").read(), None)
cert = x509.load_pem_x509_certificate(open(sys.argv[2], "rb").read())
x5c = [base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode()]
log = open(sys.argv[3], "a")
USERS = {"alice": ("wonderland", {"pull", "push"}), "bob": ("builder", {"pull"})}
class H(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a): pass
    def do_GET(self):
        q = parse_qs(urlparse(self.path).query)
        user = None
        auth = self.headers.get("Authorization", "")
        if auth.startswith("Basic "):
            name, _, password = base64.b64decode(auth[6:]).decode().partition(":")
            if USERS.get(name, (None,))[0] != password:
                self.send_response(401); self.send_header("Content-Length", "0"); self.end_headers(); return
            user = name
        access = []
        for scope in q.get("scope", []):
            kind, name, actions = scope.split(":")
            allowed = [a for a in actions.split(",") if user and a in USERS[user][1]]
            access.append({"type": kind, "name": name, "actions": allowed})
        now = int(time.time())
        claims = {"iss": "archbench-test-issuer", "sub": user or "", "aud": q.get("service", [""])[0],
                  "exp": now + 300, "nbf": now - 10, "iat": now, "jti": uuid.uuid4().hex, "access": access}
        token = jwt.encode(claims, key, algorithm="RS256", headers={"x5c": x5c})
        log.write(json.dumps({"user": user, "scopes": q.get("scope", []), "granted": access}) + "\n"); log.flush()
        body = json.dumps({"token": token, "access_token": token, "expires_in": 300}).encode()
        self.send_response(200); self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body))); self.end_headers(); self.wfile.write(body)
s = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
print(s.server_address[1], flush=True)
s.serve_forever()
"#;

/// Serves the registry's storage directory on 127.0.0.2 (where the registry redirects blob
/// downloads), logging whether each request carried an Authorization header.
const BLOB_HOST: &str = r#"
import functools, http.server, sys
log = open(sys.argv[2], "a")
class H(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *a): pass
    def do_GET(self):
        log.write("%s authorization=%s\n" % (self.path, "Authorization" in self.headers)); log.flush()
        return super().do_GET()
s = http.server.ThreadingHTTPServer(("127.0.0.2", 0), functools.partial(H, directory=sys.argv[1]))
print(s.server_address[1], flush=True)
s.serve_forever()
"#;

/// A Docker config for `host` with `user:password`.
fn docker_config(dir: &Path, host: &str, user: &str, password: &str) {
    use base64::Engine as _;
    let auth = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    let config = serde_json::json!({ "auths": { host: { "auth": auth } } });
    std::fs::write(dir.join("config.json"), config.to_string()).unwrap();
}

// Long (about 85 lines): one token server, registry and blob host, then alice's push, bob's
// refused push and bob's redirected pull, each on the state the previous one left.
#[test]
fn bearer_tokens_scopes_and_redirects_without_credentials() {
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    let openssl = Command::new("openssl")
        .current_dir(w)
        .args(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "token.key"])
        .args(["-out", "token.crt", "-days", "1", "-subj", "/CN=archbench token issuer"])
        .output()
        .expect("openssl is missing: install openssl (scripts/setup does)");
    assert!(openssl.status.success(), "{}", String::from_utf8_lossy(&openssl.stderr));
    let token_log = w.join("token.log");
    let tokens =
        PyServer::start(TOKEN_SERVER, &[&w.join("token.key"), &w.join("token.crt"), &token_log]);

    // The registry, its storage served again on 127.0.0.2 for the redirect.
    let storage = w.join("storage");
    std::fs::create_dir(&storage).unwrap();
    let blob_log = w.join("blobs.log");
    let blobs = PyServer::start(BLOB_HOST, &[&storage, &blob_log]);
    let extra = format!(
        "auth:\n  token:\n    realm: http://127.0.0.1:{}/token\n    service: archbench-registry\n    issuer: archbench-test-issuer\n    rootcertbundle: {}\nmiddleware:\n  storage:\n    - name: redirect\n      options:\n        baseurl: http://127.0.0.2:{}/\n",
        tokens.port(),
        w.join("token.crt").display(),
        blobs.port()
    );
    let reg = TestRegistry::start_with(RegistrySpec { htpasswd: None, tls: false }, &extra);
    // The registry keeps its blobs in its own directory; the blob host serves `storage`, which
    // becomes a link to it (the file server resolves paths on every request).
    std::fs::remove_dir(&storage).unwrap();
    std::fs::create_dir_all(reg.dir.path().join("data")).unwrap();
    std::os::unix::fs::symlink(reg.dir.path().join("data"), &storage).unwrap();
    let host = reg.host();

    let layout = tempfile::tempdir().unwrap();
    archinfo_layout(layout.path(), "v1", &[Platform::linux_amd64()], 0);
    let src = format!("oci:{}:v1", layout.path().display());

    // alice pushes: a Bearer challenge, a token for pull,push on lab/app.
    let alice = tempfile::tempdir().unwrap();
    docker_config(alice.path(), &host, "alice", "wonderland");
    let out = archbench()
        .env("DOCKER_CONFIG", alice.path())
        .args(["image", "copy", &src, &format!("{host}/lab/app:v1")])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}\n{}", String::from_utf8_lossy(&out.stderr), reg.log());
    let log = std::fs::read_to_string(&token_log).unwrap();
    assert!(
        // docker-registry lists the actions of a challenge in either order (a Go map).
        log.lines().any(|l| l.contains("\"alice\"")
            && (l.contains("repository:lab/app:pull,push")
                || l.contains("repository:lab/app:push,pull"))),
        "{log}"
    );

    // bob may pull but not push: the push is refused, and the message says it was the scope.
    let bob = tempfile::tempdir().unwrap();
    docker_config(bob.path(), &host, "bob", "builder");
    let out = archbench()
        .env("DOCKER_CONFIG", bob.path())
        .args(["image", "copy", &src, &format!("{host}/lab/other:v1")])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success()
            && (err.contains("did not grant repository:lab/other:pull,push to user \"bob\"")
                || err.contains("did not grant repository:lab/other:push,pull to user \"bob\"")),
        "{err}"
    );

    // bob pulls: the registry redirects each blob to 127.0.0.2, and no credential goes there.
    let dst = tempfile::tempdir().unwrap();
    let out = archbench()
        .env("DOCKER_CONFIG", bob.path())
        .args(["image", "copy", &format!("{host}/lab/app:v1")])
        .arg(format!("oci:{}:v1", dst.path().display()))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let fetched = std::fs::read_to_string(&blob_log).unwrap_or_default();
    assert!(fetched.lines().count() >= 2, "the blobs came through the redirect: {fetched:?}");
    assert!(fetched.lines().all(|l| l.ends_with("authorization=False")), "{fetched}");
}
