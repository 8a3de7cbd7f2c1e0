//! `archbench image` against a real registry, the real Docker Engine and QEMU.

use std::path::Path;
use std::process::Command;

use archbench_platform::Platform;

use crate::registry_support::{archinfo_layout, PyServer, RegistrySpec, TestRegistry};
use crate::support::{archbench, docker, docker_ok, json, layout_with_attestations, BinfmtLock};

fn three() -> Vec<Platform> {
    vec![Platform::linux_amd64(), Platform::linux_arm64(), Platform::linux_arm_v7()]
}

/// An archbench command whose Docker config is `config_dir` (never the machine's own).
fn ab(config_dir: &Path) -> assert_cmd::Command {
    let mut c = archbench();
    c.env("DOCKER_CONFIG", config_dir);
    c
}

fn skopeo_raw(reference: &str, extra: &[&str]) -> serde_json::Value {
    let out = Command::new("skopeo")
        .arg("inspect")
        .arg("--raw")
        .args(extra)
        .arg(format!("docker://{reference}"))
        .output()
        .expect("skopeo is missing: install skopeo (scripts/setup does)");
    assert!(
        out.status.success(),
        "skopeo inspect failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn docker_run_arm64(image: &str, docker_config: Option<&Path>) -> String {
    let mut pull = docker();
    if let Some(c) = docker_config {
        pull.arg("--config").arg(c);
    }
    let out = pull.args(["pull", "--platform", "linux/arm64", image]).output().unwrap();
    assert!(out.status.success(), "docker pull {image}: {}", String::from_utf8_lossy(&out.stderr));
    let out = docker_ok(&["run", "--rm", "--platform", "linux/arm64", image]);
    docker_ok(&["rmi", "-f", image]);
    out.trim().to_owned()
}

// Long (about 140 lines): one user's session end to end (push, inspect, pull, run, copy back),
// each step asserting on what the previous one left; split, the state would be passed around.
#[test]
fn push_inspect_pull_run_and_copy_back_preserve_digests() {
    let _emu = BinfmtLock::shared();
    let reg = TestRegistry::start(RegistrySpec { htpasswd: None, tls: false });
    let cfg = tempfile::tempdir().unwrap();
    let layout = tempfile::tempdir().unwrap();
    let (idx, manifests) = archinfo_layout(layout.path(), "v1", &three(), 4096);
    let target = format!("{}/archinfo:v1", reg.host());

    let out = ab(cfg.path())
        .args(["image", "copy", &format!("oci:{}:v1", layout.path().display()), &target, "--json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let copy = json(&out);
    assert_eq!(copy["kind"], "image-copy");
    let p = &copy["payload"];
    assert_eq!(p["digest"], idx.digest.as_str());
    assert_eq!(p["digest_preserved"], true);
    // 3 configs + 3 own layers + 1 shared layer.
    assert_eq!(p["blobs_copied"], 7);

    // An independent client sees the index with our three platforms.
    let raw = skopeo_raw(&target, &["--tls-verify=false"]);
    let plats: Vec<String> = raw["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            let p = &m["platform"];
            format!(
                "{}/{}{}",
                p["os"].as_str().unwrap(),
                p["architecture"].as_str().unwrap(),
                p["variant"].as_str().map(|v| format!("/{v}")).unwrap_or_default()
            )
        })
        .collect();
    assert_eq!(plats, ["linux/amd64", "linux/arm64", "linux/arm/v7"]);

    // inspect: sizes as written, one shared layer, whatever the host platform.
    let out = ab(cfg.path()).args(["image", "inspect", &target, "--json"]).output().unwrap();
    let ins = json(&out);
    let ps = ins["payload"]["platforms"].as_array().unwrap().clone();
    assert_eq!(ps.len(), 3);
    for (entry, (m, plat)) in ps.iter().zip(&manifests) {
        assert_eq!(entry["platform"], plat.to_string());
        assert_eq!(entry["config_platform"], plat.to_string());
        assert_eq!(entry["manifest_digest"], m.digest.as_str());
        assert_eq!(entry["layers"], 2);
        let manifest: serde_json::Value = serde_json::from_slice(
            &std::fs::read(layout.path().join("blobs/sha256").join(m.digest.hex())).unwrap(),
        )
        .unwrap();
        let expect = m.size
            + manifest["config"]["size"].as_u64().unwrap()
            + manifest["layers"]
                .as_array()
                .unwrap()
                .iter()
                .map(|l| l["size"].as_u64().unwrap())
                .sum::<u64>();
        assert_eq!(entry["size"], expect, "{plat}");
    }
    let shared = ins["payload"]["shared_layers"].as_array().unwrap();
    assert_eq!(shared.len(), 1, "{shared:?}");
    assert_eq!(shared[0]["platforms"].as_array().unwrap().len(), 3);
    let text = ab(cfg.path()).args(["image", "inspect", &target]).output().unwrap();
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains("largest:") && text.contains("shared layers"), "{text}");

    // verify and identify read the registry directly.
    ab(cfg.path()).args(["verify", &target]).assert().success();
    let out = ab(cfg.path()).args(["identify", &target, "--json"]).output().unwrap();
    let id = json(&out);
    let sections = id["payload"][0]["sections"].as_array().unwrap();
    let found: Vec<String> = sections
        .iter()
        .map(|s| s["groups"][0]["label"].as_str().unwrap_or("?").to_owned())
        .collect();
    assert_eq!(found, ["linux/amd64", "linux/arm64", "linux/arm/v7"], "{id}");

    // The real engine pulls the arm64 variant and runs it under QEMU.
    assert_eq!(docker_run_arm64(&target, None), "aarch64");

    // Unchanged re-push: every blob is skipped.
    let out = ab(cfg.path())
        .args(["image", "copy", &format!("oci:{}:v1", layout.path().display()), &target, "--json"])
        .output()
        .unwrap();
    let again = json(&out);
    assert_eq!(again["payload"]["blobs_copied"], 0);
    assert_eq!(again["payload"]["blobs_skipped"], 7);

    // Registry -> another repository of the same registry: blobs are mounted.
    let out = ab(cfg.path())
        .args(["image", "copy", &target, &format!("{}/mirror:v1", reg.host()), "--json"])
        .output()
        .unwrap();
    let mirror = json(&out);
    assert_eq!(mirror["payload"]["blobs_mounted"], 7, "{mirror}");

    // Registry -> layout: the same digests; umoci and skopeo read the layout.
    let back = tempfile::tempdir().unwrap();
    let back_ref = format!("oci:{}:v1", back.path().display());
    let out =
        ab(cfg.path()).args(["image", "copy", &target, &back_ref, "--json"]).output().unwrap();
    assert_eq!(json(&out)["payload"]["digest"], idx.digest.as_str());
    for (m, _) in &manifests {
        assert!(back.path().join("blobs/sha256").join(m.digest.hex()).is_file());
    }
    let out =
        Command::new("skopeo").args(["inspect", "--raw", &back_ref]).output().expect("skopeo");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(archbench_oci::Digest::of(&out.stdout), idx.digest);
    let out = Command::new("umoci")
        .args(["ls", "--layout"])
        .arg(back.path())
        .output()
        .expect("umoci is missing: install umoci");
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("v1"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // One platform only: that manifest, digest kept.
    let out = ab(cfg.path())
        .args([
            "image",
            "copy",
            &target,
            &format!("{}/only-arm:v1", reg.host()),
            "--platform",
            "linux/arm64",
            "--json",
        ])
        .output()
        .unwrap();
    assert_eq!(json(&out)["payload"]["digest"], manifests[1].0.digest.as_str());
}

// Long (about 90 lines): one layout, then each way `image create` must refuse or accept it,
// in order, on the state the previous step left.
#[test]
fn create_assembles_an_index_from_manifests() {
    let reg = TestRegistry::start(RegistrySpec { htpasswd: None, tls: false });
    let cfg = tempfile::tempdir().unwrap();
    let layout = tempfile::tempdir().unwrap();
    let (_, manifests) = archinfo_layout(layout.path(), "v1", &three(), 0);
    let repo = format!("{}/parts", reg.host());
    ab(cfg.path())
        .args([
            "image",
            "copy",
            &format!("oci:{}:v1", layout.path().display()),
            &format!("{repo}:all"),
        ])
        .assert()
        .success();
    let by_digest = |i: usize| format!("{repo}@{}", manifests[i].0.digest);
    // Platforms taken from each config.
    let dry = ab(cfg.path())
        .args([
            "image",
            "create",
            "-t",
            &format!("{repo}:two"),
            &by_digest(0),
            &by_digest(1),
            "--annotation",
            "org.example=lab",
            "--dry-run",
        ])
        .output()
        .unwrap();
    assert!(dry.status.success(), "{}", String::from_utf8_lossy(&dry.stderr));
    let idx: serde_json::Value = serde_json::from_slice(&dry.stdout).unwrap();
    assert_eq!(idx["manifests"][1]["platform"]["architecture"], "arm64");
    assert_eq!(idx["annotations"]["org.example"], "lab");
    assert!(
        ab(cfg.path())
            .args(["image", "inspect", &format!("{repo}:two")])
            .output()
            .unwrap()
            .status
            .code()
            != Some(0),
        "dry run wrote nothing"
    );
    ab(cfg.path())
        .args(["image", "create", "-t", &format!("{repo}:two"), &by_digest(0), &by_digest(1)])
        .assert()
        .success();
    ab(cfg.path())
        .args(["image", "create", "-t", &format!("{repo}:two"), "--append", &by_digest(2)])
        .assert()
        .success();
    let raw = skopeo_raw(&format!("{repo}:two"), &["--tls-verify=false"]);
    assert_eq!(raw["manifests"].as_array().unwrap().len(), 3, "{raw}");
    // A wrong platform count is a usage error that says what to do.
    let out = ab(cfg.path())
        .args([
            "image",
            "create",
            "-t",
            &format!("{repo}:x"),
            &by_digest(0),
            &by_digest(1),
            "--platform",
            "linux/amd64",
        ])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains("once per SRC"));
    // Issue 18: two entries for one platform, or a --platform that contradicts the config, are
    // refused before anything is pushed.
    let create = |extra: &[&str]| {
        let mut c = ab(cfg.path());
        c.args(["image", "create", "-t", &format!("{repo}:bad"), "--dry-run"]).args(extra);
        c.output().unwrap()
    };
    let out = create(&[&by_digest(0), &by_digest(0)]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("two entries for linux/amd64"), "{err}");
    let out = create(&[&by_digest(1), "--platform", "linux/amd64"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success()
            && err
                .contains("--platform linux/amd64 contradicts its config, which says linux/arm64"),
        "{err}"
    );
}

#[test]
fn htpasswd_registry_uses_docker_config_and_hides_the_secret() {
    let _emu = BinfmtLock::shared();
    let reg = TestRegistry::start(RegistrySpec {
        htpasswd: Some(("student", "c0rrect-h0rse")),
        tls: false,
    });
    let layout = tempfile::tempdir().unwrap();
    archinfo_layout(layout.path(), "v1", &three(), 0);
    let src = format!("oci:{}:v1", layout.path().display());
    let target = format!("{}/private/archinfo:v1", reg.host());
    let write_cfg = |dir: &Path, pass: &str| {
        use base64::Engine as _;
        let auth = base64::engine::general_purpose::STANDARD.encode(format!("student:{pass}"));
        std::fs::write(
            dir.join("config.json"),
            serde_json::json!({ "auths": { reg.host(): { "auth": auth } } }).to_string(),
        )
        .unwrap();
    };
    // No credentials.
    let empty = tempfile::tempdir().unwrap();
    let out = ab(empty.path()).args(["image", "copy", &src, &target]).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success()
            && err.contains("requires authentication")
            && err.contains(&reg.host()),
        "{err}"
    );
    // Wrong password: named registry, no secret.
    let wrong = tempfile::tempdir().unwrap();
    write_cfg(wrong.path(), "wr0ng-s3cret");
    let out = ab(wrong.path()).args(["image", "copy", &src, &target]).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success()
            && err.contains("refused the credentials")
            && err.contains(&reg.host()),
        "{err}"
    );
    assert!(
        !err.contains("wr0ng-s3cret")
            && !String::from_utf8_lossy(&out.stdout).contains("wr0ng-s3cret")
    );
    // Right password from config.json.
    let good = tempfile::tempdir().unwrap();
    write_cfg(good.path(), "c0rrect-h0rse");
    ab(good.path()).args(["image", "copy", &src, &target]).assert().success();
    let out = ab(good.path()).args(["image", "inspect", &target, "--json"]).output().unwrap();
    assert_eq!(json(&out)["payload"]["platforms"].as_array().unwrap().len(), 3);
    // The engine pulls with the same config.json and runs arm64 under QEMU.
    assert_eq!(docker_run_arm64(&target, Some(good.path())), "aarch64");
}

#[test]
fn tls_registry_with_a_generated_ca() {
    let _emu = BinfmtLock::shared();
    let reg = TestRegistry::start(RegistrySpec { htpasswd: None, tls: true });
    let cfg = tempfile::tempdir().unwrap();
    let layout = tempfile::tempdir().unwrap();
    let (idx, _) = archinfo_layout(layout.path(), "v1", &three(), 0);
    let src = format!("oci:{}:v1", layout.path().display());
    let target = format!("{}/tls/archinfo:v1", reg.host());
    // Untrusted CA: refused, with the fix in the message.
    let out = ab(cfg.path()).args(["image", "copy", &src, &target]).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("--ca-cert"), "{err}");
    let ca = reg.ca();
    let out = ab(cfg.path())
        .args(["image", "copy", &src, &target, "--json", "--ca-cert", ca.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(json(&out)["payload"]["digest"], idx.digest.as_str());
    let raw = skopeo_raw(&target, &["--cert-dir", reg.trust_dir().to_str().unwrap()]);
    assert_eq!(raw["manifests"].as_array().unwrap().len(), 3);
    // The engine trusts the CA through certs.d, as Docker documents.
    let certs_d = Path::new("/etc/docker/certs.d").join(reg.host());
    std::fs::create_dir_all(&certs_d).unwrap();
    std::fs::copy(&ca, certs_d.join("ca.crt")).unwrap();
    struct Cleanup(std::path::PathBuf);
    impl Drop for Cleanup {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
    let _c = Cleanup(certs_d);
    assert_eq!(docker_run_arm64(&target, None), "aarch64");
}

#[test]
fn tampered_blob_fails_the_pull_and_verify() {
    let reg = TestRegistry::start(RegistrySpec { htpasswd: None, tls: false });
    let cfg = tempfile::tempdir().unwrap();
    let layout = tempfile::tempdir().unwrap();
    let (_, manifests) = archinfo_layout(layout.path(), "v1", &three(), 0);
    let target = format!("{}/tamper:v1", reg.host());
    ab(cfg.path())
        .args(["image", "copy", &format!("oci:{}:v1", layout.path().display()), &target])
        .assert()
        .success();
    let manifest: serde_json::Value = serde_json::from_slice(
        &std::fs::read(layout.path().join("blobs/sha256").join(manifests[1].0.digest.hex()))
            .unwrap(),
    )
    .unwrap();
    let layer = manifest["layers"][1]["digest"].as_str().unwrap();
    let file = reg.blob_file(layer);
    let mut bytes = std::fs::read(&file).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0xff;
    std::fs::write(&file, bytes).unwrap();
    let out_dir = tempfile::tempdir().unwrap();
    let out = ab(cfg.path())
        .args(["image", "copy", &target, &format!("oci:{}:v1", out_dir.path().display())])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains(layer) && err.contains("tampered"), "{err}");
    assert!(
        !out_dir.path().join("blobs/sha256").join(&layer[7..]).exists(),
        "no corrupt blob is kept"
    );
    let out = ab(cfg.path()).args(["verify", &target]).output().unwrap();
    assert!(!out.status.success(), "verify must fail on a tampered layer");
}

#[test]
fn registry_dying_mid_push_fails_and_a_rerun_completes() {
    let mut reg = TestRegistry::start(RegistrySpec { htpasswd: None, tls: false });
    let cfg = tempfile::tempdir().unwrap();
    let layout = tempfile::tempdir().unwrap();
    // One 96 MiB layer of incompressible bytes, so the upload is still running when we stop it.
    let mut big = vec![0u8; 96 << 20];
    let mut x: u64 = 0x9e3779b97f4a7c15;
    for chunk in big.chunks_mut(8) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        chunk.copy_from_slice(&x.to_le_bytes()[..chunk.len()]);
    }
    let mut w = archbench_oci::LayoutWriter::create(layout.path()).unwrap();
    let m = w
        .image(
            &Platform::linux_amd64(),
            &[archbench_oci::LayerInput {
                diff_id: archbench_oci::Digest::of(&big),
                blob: big,
                media_type: archbench_oci::layout::media::LAYER_TAR.into(),
            }],
            &[],
        )
        .unwrap();
    w.tag(&m, "big").unwrap();
    let src = format!("oci:{}:big", layout.path().display());
    let target = format!("{}/big:v1", reg.host());
    let bin = assert_cmd::cargo::cargo_bin("archbench");
    let child = Command::new(&bin)
        .args(["image", "copy", &src, &target, "--jobs", "1"])
        .env("DOCKER_CONFIG", cfg.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until the registry has received part of the upload, then stop it.
    let uploads = reg.dir.path().join("data/docker/registry/v2/repositories/big/_uploads");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let received: u64 = std::fs::read_dir(&uploads)
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|e| std::fs::metadata(e.path().join("data")).ok())
            .map(|m| m.len())
            .sum();
        if received > 1 << 20 {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "the upload never started: {}", reg.log());
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    reg.stop();
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "push must fail when the registry dies");
    assert!(err.contains(&reg.host()), "the error names the registry: {err}");
    reg.restart();
    let out = ab(cfg.path()).args(["image", "copy", &src, &target, "--json"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(json(&out)["payload"]["digest"], m.digest.as_str());
}

/// Registry 2.8 refuses oversized manifests in both directions (413 on PUT, 500 on GET of one
/// planted in its storage), so a hostile server that serves one is a few lines of Python's
/// http.server: the test is of our limit, with and without a Content-Length.
const HOSTILE: &str = r#"
import http.server, sys
BODY = b'{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","annotations":{"p":"' + b'p' * (5 << 20) + b'"}}'
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a): pass
    def do_GET(self):
        if self.path == "/v2/":
            self.send_response(200); self.send_header("Content-Length", "2"); self.end_headers(); self.wfile.write(b"{}"); return
        if "/err500/" in self.path:
            body = b"internal trouble " * 8000
            self.send_response(500); self.send_header("Content-Length", str(len(body))); self.end_headers(); self.wfile.write(body); return
        self.send_response(200)
        self.send_header("Content-Type", "application/vnd.oci.image.manifest.v1+json")
        if "chunked" in self.path:
            self.send_header("Transfer-Encoding", "chunked"); self.end_headers()
            for i in range(0, len(BODY), 65536):
                part = BODY[i:i+65536]
                self.wfile.write(b"%x\r\n" % len(part) + part + b"\r\n")
            self.wfile.write(b"0\r\n\r\n")
        else:
            self.send_header("Content-Length", str(len(BODY))); self.end_headers(); self.wfile.write(BODY)
s = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
print(s.server_address[1], flush=True)
s.serve_forever()
"#;

#[test]
fn oversized_manifest_is_refused() {
    let server = PyServer::start(HOSTILE, &[]);
    let port = server.port();
    let cfg = tempfile::tempdir().unwrap();
    for repo in ["huge", "chunked"] {
        let out = ab(cfg.path())
            .args(["image", "inspect", &format!("127.0.0.1:{port}/{repo}:v1")])
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success() && err.contains("limit"), "{repo}: {err}");
    }
    // A 136 kB error page is quoted, not echoed whole.
    let out = ab(cfg.path())
        .args(["image", "inspect", &format!("127.0.0.1:{port}/err500:v1")])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && err.contains("500") && err.contains("internal trouble"),
        "{err}"
    );
    assert!(err.len() < 1500, "{} bytes of error", err.len());
    drop(server);
}

#[test]
fn bad_references_are_explained() {
    for r in ["Bad/Upper:tag", "127.0.0.1:5000/app@sha256:123"] {
        let out = archbench().args(["image", "inspect", r]).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success() && err.contains("not an image reference"), "{r}: {err}");
    }
}

/// A registry whose layer, declared as 313,000 bytes, streams without end (issue 18); in the
/// repository `slow`, declared as 10 MB, it trickles (64 KiB every 50 ms).
const ENDLESS: &str = r#"
import hashlib, http.server, json, time
CONFIG = json.dumps({"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": []}}).encode()
CFG = "sha256:" + hashlib.sha256(CONFIG).hexdigest()
LAYER = "sha256:" + "ab" * 32
def manifest(size):
    return json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": CFG, "size": len(CONFIG)},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": LAYER, "size": size}]}).encode()
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a): pass
    def send(self, body, ctype="application/json"):
        self.send_response(200); self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body))); self.end_headers(); self.wfile.write(body)
    def size(self):
        return 10_000_000 if "/slow/" in self.path else 313000
    def do_HEAD(self):
        if "/manifests/" in self.path: body, ctype = manifest(self.size()), "application/vnd.oci.image.manifest.v1+json"
        elif self.path.endswith(CFG): body, ctype = CONFIG, "application/octet-stream"
        else: body, ctype = b"\0" * self.size(), "application/octet-stream"
        self.send_response(200); self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body))); self.end_headers()
    def do_GET(self):
        if self.path == "/v2/": return self.send(b"{}")
        if "/manifests/" in self.path: return self.send(manifest(self.size()), "application/vnd.oci.image.manifest.v1+json")
        if self.path.endswith(CFG): return self.send(CONFIG, "application/octet-stream")
        self.send_response(200); self.send_header("Transfer-Encoding", "chunked"); self.end_headers()
        chunk = b"\0" * 65536
        try:
            while True:
                self.wfile.write(b"%x\r\n" % len(chunk) + chunk + b"\r\n")
                if "/slow/" in self.path: time.sleep(0.05)
        except (BrokenPipeError, ConnectionResetError):
            pass
s = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
print(s.server_address[1], flush=True)
s.serve_forever()
"#;

fn partials(dir: &Path) -> Vec<std::path::PathBuf> {
    walk(dir)
        .into_iter()
        .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with(".partial-"))
        .collect()
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[test]
fn a_blob_longer_than_its_descriptor_is_cut_off_and_leaves_nothing() {
    let server = PyServer::start(ENDLESS, &[]);
    let port = server.port();
    let cfg = tempfile::tempdir().unwrap();
    let dst = tempfile::tempdir().unwrap();
    let out = ab(cfg.path())
        .args(["image", "copy", &format!("127.0.0.1:{port}/endless:v1")])
        .arg(format!("oci:{}:v1", dst.path().display()))
        .timeout(std::time::Duration::from_secs(60))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success()
            && err.contains("longer than the 313000 bytes its descriptor declares"),
        "{err}"
    );
    assert!(partials(dst.path()).is_empty(), "{:?}", partials(dst.path()));
    let bytes: u64 = walk(dst.path()).iter().map(|p| std::fs::metadata(p).unwrap().len()).sum();
    assert!(bytes < 1 << 20, "{bytes} bytes written");
    // verify reads the same layer: it stops too, and says the image could not be read.
    let out = ab(cfg.path())
        .args(["verify", &format!("127.0.0.1:{port}/endless:v1")])
        .timeout(std::time::Duration::from_secs(60))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(6), "{}", String::from_utf8_lossy(&out.stdout));

    // Interrupted while a blob streams in: the partial file goes too.
    let dst = tempfile::tempdir().unwrap();
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_archbench"))
        .env("DOCKER_CONFIG", cfg.path())
        .args(["image", "copy", &format!("127.0.0.1:{port}/slow:v1")])
        .arg(format!("oci:{}:v1", dst.path().display()))
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    // The config blob passes through a partial file too, for an instant: wait for the layer's,
    // which grows past 64 KiB while it trickles in.
    let big =
        |d: &Path| partials(d).iter().any(|p| std::fs::metadata(p).is_ok_and(|m| m.len() > 65536));
    while !big(dst.path()) {
        assert!(std::time::Instant::now() < deadline, "no partial file appeared");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    // SAFETY: signalling our own child, which has not been waited for, so its pid is its own.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130), "{}", String::from_utf8_lossy(&out.stderr));
    // The layer's partial file, and the config's too when the signal lands while that one is
    // still being synced (seen on a loaded machine): one or two, never none.
    let err = String::from_utf8_lossy(&out.stderr);
    let removed = err
        .split("interrupted; removed ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse::<u32>().ok());
    assert!(matches!(removed, Some(1 | 2)), "{err}");
    assert!(partials(dst.path()).is_empty(), "{:?}", partials(dst.path()));
    drop(server);
}

#[test]
fn a_layout_blob_linking_outside_the_layout_is_refused() {
    let layout = tempfile::tempdir().unwrap();
    let (_, manifests) = archinfo_layout(layout.path(), "v1", &[Platform::linux_amd64()], 0);
    let blobs = layout.path().join("blobs/sha256");
    let man: serde_json::Value =
        serde_json::from_slice(&std::fs::read(blobs.join(manifests[0].0.digest.hex())).unwrap())
            .unwrap();
    let layer = blobs.join(&man["layers"][1]["digest"].as_str().unwrap()[7..]);
    std::fs::remove_file(&layer).unwrap();
    std::os::unix::fs::symlink("/dev/zero", &layer).unwrap();
    let src = format!("oci:{}:v1", layout.path().display());
    let out = archbench()
        .args(["verify", &src])
        .timeout(std::time::Duration::from_secs(60))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(6));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("outside the layout"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let dst = tempfile::tempdir().unwrap();
    let out = archbench()
        .args(["image", "copy", &src])
        .arg(format!("oci:{}:v1", dst.path().display()))
        .timeout(std::time::Duration::from_secs(60))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && err.contains("is a link to /dev/zero, outside the layout"),
        "{err}"
    );
    assert!(partials(dst.path()).is_empty());
}

/// An index.json archbench cannot read is refused, not replaced (its tags would be lost); and
/// parallel copies into one layout keep every tag.
#[test]
fn a_layout_index_is_never_lost() {
    let layout = tempfile::tempdir().unwrap();
    archinfo_layout(layout.path(), "v1", &[Platform::linux_amd64()], 0);
    let src = format!("oci:{}:v1", layout.path().display());
    let dst = tempfile::tempdir().unwrap();
    std::fs::write(dst.path().join("oci-layout"), br#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
    std::fs::write(dst.path().join("index.json"), b"{\"schemaVersion\": 2, \"manif").unwrap();
    let out = archbench()
        .args(["image", "copy", &src])
        .arg(format!("oci:{}:a", dst.path().display()))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("refusing to replace it"), "{err}");
    assert_eq!(
        std::fs::read(dst.path().join("index.json")).unwrap(),
        b"{\"schemaVersion\": 2, \"manif"
    );

    std::fs::remove_file(dst.path().join("index.json")).unwrap();
    let children: Vec<_> = (0..8)
        .map(|i| {
            std::process::Command::new(env!("CARGO_BIN_EXE_archbench"))
                .args(["image", "copy", &src])
                .arg(format!("oci:{}:t{i}", dst.path().display()))
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for c in children {
        let out = c.wait_with_output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }
    let index: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dst.path().join("index.json")).unwrap()).unwrap();
    let mut tags: Vec<String> = index["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["annotations"]["org.opencontainers.image.ref.name"].as_str().unwrap().to_owned())
        .collect();
    tags.sort();
    assert_eq!(tags, (0..8).map(|i| format!("t{i}")).collect::<Vec<_>>());
}

/// Issue 25 (items 4, 6): a copy into an existing layout changes only the entry it tags: the
/// index's own annotations, `subject` and `artifactType`, and the other entries with their
/// platforms' `os.version` and `os.features`, are written back as they were. An index.json
/// that is a FIFO or a link is refused at once (a FIFO hung the copy, a link to /dev/zero filled
/// memory, a link to /etc/shadow was parsed).
#[test]
fn a_copy_into_a_layout_keeps_every_field_of_its_index() {
    let layout = tempfile::tempdir().unwrap();
    archinfo_layout(layout.path(), "v1", &[Platform::linux_amd64()], 0);
    let src = format!("oci:{}:v1", layout.path().display());
    let dst = tempfile::tempdir().unwrap();
    let d = dst.path();
    std::fs::write(d.join("oci-layout"), br#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
    let other = serde_json::json!({
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "digest": format!("sha256:{}", "ab".repeat(32)),
        "size": 10,
        "platform": {"os": "windows", "architecture": "amd64",
                     "os.version": "10.0.17763.1234", "os.features": ["win32k"]},
        "annotations": {"org.opencontainers.image.ref.name": "win"},
        "x-not-oci": 1
    });
    let index = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [other],
        "annotations": {"org.example.owner": "team"},
        "subject": {"mediaType": "application/vnd.oci.image.manifest.v1+json",
                    "digest": format!("sha256:{}", "cd".repeat(32)), "size": 5},
        "artifactType": "application/x.example"
    });
    std::fs::write(d.join("index.json"), index.to_string()).unwrap();
    let copy = || {
        archbench()
            .args(["image", "copy", &src])
            .arg(format!("oci:{}:a", d.display()))
            .timeout(std::time::Duration::from_secs(60))
            .output()
            .unwrap()
    };
    let out = copy();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let after: serde_json::Value =
        serde_json::from_slice(&std::fs::read(d.join("index.json")).unwrap()).unwrap();
    for field in ["annotations", "subject", "artifactType", "mediaType"] {
        assert_eq!(after[field], index[field], "{field}: {after:#}");
    }
    let entries = after["manifests"].as_array().unwrap();
    assert_eq!(entries.len(), 2, "{after:#}");
    assert_eq!(entries[0], other, "the entry it did not tag is kept byte for byte");
    assert_eq!(entries[1]["annotations"]["org.opencontainers.image.ref.name"], "a");

    std::fs::remove_file(d.join("index.json")).unwrap();
    let made = std::process::Command::new("mkfifo").arg(d.join("index.json")).status().unwrap();
    assert!(made.success());
    let out = copy();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("FIFO"), "{err}");
    std::fs::remove_file(d.join("index.json")).unwrap();
    for target in ["/dev/zero", "/etc/hostname"] {
        std::os::unix::fs::symlink(target, d.join("index.json")).unwrap();
        let out = copy();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success() && err.contains("symbolic link"), "{target}: {err}");
        std::fs::remove_file(d.join("index.json")).unwrap();
    }
}

/// A server that accepts and never answers, and one that stops in the middle of a blob
/// (issue 18): both are given up on after the idle timeout, with a message that says so.
const STALLING: &str = r#"
import hashlib, json, socket, threading, time
CONFIG = json.dumps({"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": []}}).encode()
CFG = "sha256:" + hashlib.sha256(CONFIG).hexdigest()
LAYER = "sha256:" + "cd" * 32
MANIFEST = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
    "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": CFG, "size": len(CONFIG)},
    "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": LAYER, "size": 1000000}]}).encode()
def reply(c, body, ctype, send=None):
    c.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n" % (ctype, len(body)) + body[:send])
SEEN = {True: 0, False: 0, None: 0}  # manifest requests per listener
def serve(c, silent):
    try:
        while True:
            req = b""
            while b"\r\n\r\n" not in req:
                d = c.recv(65536)
                if not d: return
                req += d
            if silent: time.sleep(3600)
            line = req.split(b"\r\n")[0].decode()
            head = line.startswith("HEAD")
            path = line.split()[1]
            if path == "/v2/": reply(c, b"{}", b"application/json")
            elif "/manifests/" in path:
                SEEN[silent] += 1
                if silent is None and SEEN[silent] == 1: time.sleep(3600)
                reply(c, b"" if head else MANIFEST, b"application/vnd.oci.image.manifest.v1+json")
            elif path.endswith(CFG): reply(c, CONFIG, b"application/octet-stream")
            else:
                c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\n\r\n" + b"\0" * 1000)
                time.sleep(3600)
    except OSError:
        pass
def listen(silent):
    s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(16)
    def loop():
        while True:
            c, _ = s.accept()
            threading.Thread(target=serve, args=(c, silent), daemon=True).start()
    threading.Thread(target=loop, daemon=True).start()
    return s.getsockname()[1]
# The third ignores the first manifest request and answers the next (silent=None: flaky).
print(listen(True), listen(False), listen(None), flush=True)
while True: time.sleep(3600)
"#;

#[test]
fn silent_and_stalling_registries_time_out() {
    let server = PyServer::start(STALLING, &[]);
    let ports = server.ports.clone();
    let cfg = tempfile::tempdir().unwrap();
    let inspect = |port: u16| {
        ab(cfg.path())
            .args(["image", "inspect", &format!("127.0.0.1:{port}/x:v1")])
            .args(["--registry-timeout", "2"])
            .timeout(std::time::Duration::from_secs(60))
            .output()
            .unwrap()
    };
    let started = std::time::Instant::now();
    let out = inspect(ports[0]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && err.contains("nothing answered within the idle timeout of 2 s"),
        "{err}"
    );
    // One wait of 2 s per protocol (loopback falls back to plain HTTP), no retries on top.
    assert!(started.elapsed() < std::time::Duration::from_secs(8), "{:?}", started.elapsed());

    let dst = tempfile::tempdir().unwrap();
    let started = std::time::Instant::now();
    let out = ab(cfg.path())
        .args(["image", "copy", &format!("127.0.0.1:{}/x:v1", ports[1])])
        .arg(format!("oci:{}:v1", dst.path().display()))
        .args(["--registry-timeout", "2"])
        .timeout(std::time::Duration::from_secs(60))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success()
            && err.contains("the source stopped sending for longer than the idle timeout"),
        "{err}"
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(30), "{:?}", started.elapsed());
    assert!(partials(dst.path()).is_empty());

    // A GET that went unanswered is tried again (it changes nothing), and then succeeds.
    let out = inspect(ports[2]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("trying again in 500ms"), "{err}");
    drop(server);
}

/// buildx's default push, from a layout: `inspect` labels each attestation manifest with the
/// platform it describes and leaves it out of the size comparison and the shared layers;
/// `copy` keeps every attestation and every digest; `create` takes the index as a source.
#[test]
fn attestations_are_labelled_by_inspect_and_kept_by_copy() {
    let dir = tempfile::tempdir().unwrap();
    let (idx, images, attestations) = layout_with_attestations(dir.path());
    let src = format!("oci:{}:v1", dir.path().display());

    let out = archbench().args(["image", "inspect", &src]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}{}", String::from_utf8_lossy(&out.stderr));
    for (i, platform) in ["linux/amd64", "linux/arm64"].iter().enumerate() {
        let label = format!("attestation of {platform} ({})", images[i].digest.short());
        let row = text.lines().find(|l| l.contains(&attestations[i][..19])).unwrap_or("");
        assert!(row.ends_with(&label), "{text}");
    }
    assert!(text.contains("no layers are shared between platforms"), "{text}");

    let out = archbench().args(["image", "inspect", "--json", &src]).output().unwrap();
    let p = json(&out)["payload"].clone();
    let sizes: Vec<u64> =
        p["platforms"].as_array().unwrap().iter().map(|x| x["size"].as_u64().unwrap()).collect();
    assert_eq!(sizes.len(), 2, "{p:#}");
    let smallest = *sizes.iter().min().unwrap();
    let big = &p["largest"];
    assert_eq!(big["over_smallest"].as_u64().unwrap(), big["size"].as_u64().unwrap() - smallest);
    // Counted as platforms, the attestations would have been the smallest.
    for a in p["attestations"].as_array().unwrap() {
        assert!(a["size"].as_u64().unwrap() < smallest, "{a:#}");
    }
    assert_eq!(
        p["attestations"][1]["label"],
        format!("attestation of linux/arm64 ({})", images[1].digest.short())
    );
    assert_eq!(p["attestations"][1]["of"], images[1].digest.as_str());
    assert_eq!(p["shared_layers"], serde_json::json!([]));

    // copy: the index digest kept, and every blob (attestations', their in-toto layers and
    // configs included) at the destination.
    let blobs = |d: &Path| -> std::collections::BTreeSet<String> {
        std::fs::read_dir(d.join("blobs/sha256"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect()
    };
    for extra in [&[][..], &["--platform", "linux/amd64", "--platform", "linux/arm64"][..]] {
        let back = tempfile::tempdir().unwrap();
        let dst = format!("oci:{}:v1", back.path().display());
        let out =
            archbench().args(["image", "copy", &src, &dst, "--json"]).args(extra).output().unwrap();
        let c = json(&out);
        assert_eq!(c["payload"]["digest"], idx.digest.as_str(), "{extra:?}: {c:#}");
        assert_eq!(c["payload"]["digest_preserved"], true);
        assert_eq!(blobs(back.path()), blobs(dir.path()), "{extra:?}");
        for a in &attestations {
            assert!(back.path().join("blobs/sha256").join(&a[7..]).is_file());
        }
    }

    // create: an index holding attestations is a source like any other (two unknown/unknown
    // entries are not two images of one platform).
    let made = tempfile::tempdir().unwrap();
    let out = archbench()
        .args(["image", "create", "--json", "-t"])
        .arg(format!("oci:{}:v2", made.path().display()))
        .arg(&src)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(json(&out)["payload"]["index"]["manifests"].as_array().unwrap().len(), 4);

    // run lists the entries it could run: the two images, no attestation.
    let out = archbench().args(["run", "--platform", "linux/riscv64", &src]).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("has no linux/riscv64 entry; it has: linux/amd64, linux/arm64\n"),
        "{err}"
    );
}
