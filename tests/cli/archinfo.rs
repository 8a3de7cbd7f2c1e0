//! The seed lab end to end: fixtures/apps/archinfo built for amd64 and arm64 by its
//! build-multiarch.sh (through archbench), pushed as two indexes to a real registry, inspected,
//! verified, pulled and run; the arm64 page opened in headless Chromium.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::registry_support::{RegistrySpec, TestRegistry};
use crate::support::{archbench, docker, docker_ok, json, BinfmtLock};

/// Debian's bookworm has all three; arm/v7 is the lab's "where the base allows".
const PLATFORMS: &str = "linux/amd64,linux/arm64,linux/arm/v7";

fn lab() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/apps/archinfo")
}

/// Bootstrap (or take from archbench's cache) a Debian base with `packages` into `reg`.
fn base(reg: &TestRegistry, name: &str, packages: &str) -> String {
    let target = format!("{}/archbench/{name}:bookworm", reg.host());
    let out = archbench()
        .args(["base", "bootstrap", "--platform", PLATFORMS, "--include", packages, "-t", &target])
        .output()
        .unwrap();
    assert!(out.status.success(), "bootstrapping {name}: {}", String::from_utf8_lossy(&out.stderr));
    target
}

/// GET `path` from 127.0.0.1:`port`, retrying until it answers 200 or `wait` passes.
fn get(port: u16, path: &str, wait: Duration) -> String {
    let deadline = Instant::now() + wait;
    loop {
        let attempt = (|| -> std::io::Result<String> {
            let mut s = std::net::TcpStream::connect(("127.0.0.1", port))?;
            s.set_read_timeout(Some(Duration::from_secs(10)))?;
            write!(s, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")?;
            let mut text = String::new();
            s.read_to_string(&mut text)?;
            Ok(text)
        })();
        if let Ok(t) = &attempt {
            if t.starts_with("HTTP/1.1 200") || t.starts_with("HTTP/1.0 200") {
                return t.split("\r\n\r\n").nth(1).unwrap_or("").to_owned();
            }
        }
        assert!(
            Instant::now() < deadline,
            "127.0.0.1:{port}{path} never answered 200: {attempt:?}"
        );
        std::thread::sleep(Duration::from_millis(500));
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Containers and a network, removed on drop.
struct Cleanup {
    containers: Vec<String>,
    network: String,
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        for c in &self.containers {
            let _ = docker().args(["rm", "-f", c]).output();
        }
        let _ = docker().args(["network", "rm", &self.network]).output();
    }
}

fn run_detached(
    name: &str,
    network: &str,
    alias: Option<&str>,
    platform: &str,
    port: u16,
    inner: u16,
    image: &str,
) {
    let mut c = docker();
    c.args(["run", "-d", "--name", name, "--network", network, "--platform", platform]);
    if let Some(a) = alias {
        c.args(["--network-alias", a]);
    }
    c.args(["-p", &format!("127.0.0.1:{port}:{inner}"), image]);
    let out = c.output().unwrap();
    assert!(out.status.success(), "docker run {image}: {}", String::from_utf8_lossy(&out.stderr));
}

// Long (about 140 lines): the lab's steps as a student takes them, in order (build and push
// the index, inspect and verify it, pull each platform and ask the running app its
// architecture); split, each part would need the state the one before left behind.
#[test]
fn archinfo_lab_builds_pushes_pulls_and_answers_per_architecture() {
    let _emu = BinfmtLock::shared();
    let reg = TestRegistry::start(RegistrySpec { htpasswd: None, tls: false });
    let python = base(&reg, "python", "python3");
    let node = base(&reg, "node", "nodejs,esbuild");
    let nginx = base(&reg, "nginx", "nginx");
    let out = tempfile::tempdir().unwrap();
    let script = Command::new(lab().join("build-multiarch.sh"))
        .env("REGISTRY", reg.host())
        .env("DOCKER_USERNAME", "student")
        .env("VERSION", "test")
        .env("PLATFORMS", PLATFORMS)
        .env("PYTHON_BASE", &python)
        .env("DEPS", "debian")
        .env("NODE_BASE", &node)
        .env("NGINX_BASE", &nginx)
        .env("ARCHBENCH", assert_cmd::cargo::cargo_bin("archbench"))
        .env("OUT", out.path())
        .output()
        .unwrap();
    let log = format!(
        "{}{}",
        String::from_utf8_lossy(&script.stdout),
        String::from_utf8_lossy(&script.stderr)
    );
    assert!(script.status.success(), "{}", failed("build-multiarch.sh", &script, &log));
    assert!(log.contains("== inspect archinfo-frontend") && log.contains("largest:"), "{log}");

    // Timings: the frontend's JS build stage natively (cross) and under QEMU (emulated).
    let fe: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.path().join("frontend-build.json")).unwrap())
            .unwrap();
    let runs = fe["payload"]["runs"].as_array().unwrap();
    let stage = |strategy: &str| {
        runs.iter().find(|r| r["strategy"] == strategy).unwrap()["stages"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["name"] == "build")
            .unwrap()
            .clone()
    };
    assert_eq!(stage("cross")["emulated"], false);
    assert_eq!(stage("emulated")["emulated"], true);
    let be: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.path().join("backend-build.json")).unwrap())
            .unwrap();
    // Kept as test artifacts: the lab README quotes these timings.
    let artifacts = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/test-artifacts");
    std::fs::create_dir_all(&artifacts).unwrap();
    for f in ["frontend-build.json", "backend-build.json"] {
        std::fs::copy(out.path().join(f), artifacts.join(format!("archinfo-{f}"))).unwrap();
    }
    std::fs::write(artifacts.join("archinfo-build-multiarch.log"), &log).unwrap();
    assert_eq!(
        be["payload"]["runs"].as_array().unwrap().len(),
        3,
        "native amd64, emulated arm64 and arm/v7"
    );

    for image in ["backend", "frontend"] {
        let r = format!("{}/student/archinfo-{image}:test", reg.host());
        let ins = json(&archbench().args(["image", "inspect", &r, "--json"]).output().unwrap());
        let plats: Vec<&str> = ins["payload"]["platforms"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["platform"].as_str().unwrap())
            .collect();
        assert_eq!(plats, ["linux/amd64", "linux/arm64", "linux/arm/v7"], "{image}");
        assert!(ins["payload"]["platforms"]
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p["size"].as_u64().unwrap() > 10_000_000));
        archbench().args(["verify", &r]).assert().success();
    }

    // Pull each backend by platform and ask it.
    let backend = format!("{}/student/archinfo-backend:test", reg.host());
    let frontend = format!("{}/student/archinfo-frontend:test", reg.host());
    let id = std::process::id();
    let network = format!("archinfo-{id}");
    docker_ok(&["network", "create", &network]);
    let mut cleanup = Cleanup { containers: Vec::new(), network: network.clone() };
    for (platform, machine) in
        [("linux/amd64", "x86_64"), ("linux/arm64", "aarch64"), ("linux/arm/v7", "armv7l")]
    {
        docker_ok(&["pull", "--platform", platform, &backend]);
        let name = format!("archinfo-backend-{}-{id}", machine);
        let port = free_port();
        let alias = (machine == "aarch64").then_some("backend");
        run_detached(&name, &network, alias, platform, port, 8000, &backend);
        cleanup.containers.push(name);
        let body = get(port, "/api/info", Duration::from_secs(120));
        let info: serde_json::Value =
            serde_json::from_str(&body).unwrap_or_else(|e| panic!("{e}: {body}"));
        assert_eq!(info["machine"], machine, "{info}");
        assert_eq!(info["platform"], platform);
        assert_eq!(info["build"]["TARGETPLATFORM"], platform);
    }

    // The arm64 frontend in front of the arm64 backend, in Chromium.
    docker_ok(&["pull", "--platform", "linux/arm64", &frontend]);
    let name = format!("archinfo-frontend-arm64-{id}");
    let port = free_port();
    run_detached(&name, &network, None, "linux/arm64", port, 80, &frontend);
    cleanup.containers.push(name);
    let proxied = get(port, "/api/info", Duration::from_secs(60));
    assert!(proxied.contains("\"machine\":\"aarch64\""), "{proxied}");
    let flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--virtual-time-budget=10000",
    ];
    let url = format!("http://127.0.0.1:{port}/");
    let dom = Command::new("chromium")
        .args(flags)
        .arg("--dump-dom")
        .arg(&url)
        .output()
        .expect("chromium is missing: install chromium");
    let dom = String::from_utf8_lossy(&dom.stdout);
    let shown = dom
        .split("id=\"machine\"")
        .nth(1)
        .and_then(|rest| rest.split("</strong>").next())
        .unwrap_or("");
    assert!(shown.ends_with(">aarch64"), "the page does not show aarch64:\n{dom}");
    let shot = artifacts.join("archinfo-arm64.png");
    Command::new("chromium")
        .args(flags)
        .arg(format!("--screenshot={}", shot.display()))
        .arg("--window-size=900,600")
        .arg(&url)
        .output()
        .unwrap();
    assert!(shot.is_file(), "no screenshot");
    drop(cleanup);
    docker().args(["rmi", "-f", &backend, &frontend]).output().unwrap();
}

/// The seed lab's own commands (issue 24, item 10): `build-multiarch.sh` with `BUILD_WITH=buildx`
/// runs `docker buildx build --platform linux/amd64,linux/arm64,linux/arm/v7 --push` and
/// `docker buildx imagetools inspect` for both images on the engine with the containerd image
/// store, then `archbench verify` passes what buildx pushed, provenance attestations included.
#[test]
fn the_seed_labs_buildx_commands_push_what_archbench_verifies_on_the_modern_engine() {
    let _cache = crate::modern::CACHE.read().unwrap_or_else(|e| e.into_inner());
    let _emu = BinfmtLock::shared();
    let engine = crate::modern::modern_engine();
    let reg = TestRegistry::start(RegistrySpec { htpasswd: None, tls: false });
    let python = base(&reg, "python", "python3");
    let node = base(&reg, "node", "nodejs,esbuild");
    let nginx = base(&reg, "nginx", "nginx");
    let out = tempfile::tempdir().unwrap();
    let script = Command::new(lab().join("build-multiarch.sh"))
        .env("BUILD_WITH", "buildx")
        .env("DOCKER", "/usr/bin/docker")
        .env("DOCKER_HOST", engine)
        .env("REGISTRY", reg.host())
        .env("DOCKER_USERNAME", "student")
        .env("VERSION", "buildx")
        .env("PLATFORMS", PLATFORMS)
        .env("PYTHON_BASE", &python)
        .env("DEPS", "debian")
        .env("NODE_BASE", &node)
        .env("NGINX_BASE", &nginx)
        .env("ARCHBENCH", assert_cmd::cargo::cargo_bin("archbench"))
        .env("OUT", out.path())
        .output()
        .unwrap();
    let log = format!(
        "{}{}",
        String::from_utf8_lossy(&script.stdout),
        String::from_utf8_lossy(&script.stderr)
    );
    assert!(script.status.success(), "{}", failed("build-multiarch.sh with buildx", &script, &log));
    assert!(log.contains("== archbench verify archinfo-frontend"), "{log}");
    for image in ["backend", "frontend"] {
        let r = format!("{}/student/archinfo-{image}:buildx", reg.host());
        let ins = json(&archbench().args(["image", "inspect", &r, "--json"]).output().unwrap());
        let plats: Vec<&str> = ins["payload"]["platforms"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["platform"].as_str().unwrap())
            .collect();
        assert_eq!(plats, ["linux/amd64", "linux/arm64", "linux/arm/v7"], "{image}");
        assert_eq!(ins["payload"]["attestations"].as_array().map(Vec::len), Some(3), "{ins:#}");
        archbench().args(["verify", &r]).assert().success();
    }
}

/// A failed script's message with the end of its log first: a CI summary keeps only the start
/// of a panic message, and a long build log's reason is at its end.
fn failed(what: &str, out: &std::process::Output, log: &str) -> String {
    let lines: Vec<&str> = log.lines().collect();
    let tail = lines[lines.len().saturating_sub(40)..].join("\n");
    format!("{what} failed ({}); its last lines:\n{tail}\n\nthe whole log:\n{log}", out.status)
}
