//! `archbench base bootstrap` and `archbench build` against the real Docker Engine, QEMU,
//! mmdebstrap and a registry on loopback.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::registry_support::{issue_cert, test_ca, RegistrySpec, TestRegistry};
use crate::support::{archbench, buildx_ok, docker, docker_ok, json, BinfmtLock, DisabledEntry};

pub fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/build/compute")
}

/// The fixture's builder image (gcc, make; cross compilers in the amd64 variant) in `reg`.
/// Bootstrapped once per machine into archbench's cache (minutes), then copied from it (seconds).
pub fn base_in(reg: &TestRegistry) -> String {
    let target = format!("{}/archbench/builder:bookworm", reg.host());
    let out = archbench()
        .args([
            "base",
            "bootstrap",
            "--platform",
            "linux/amd64,linux/arm64",
            "--include",
            "gcc,make,libc6-dev",
            "--extra",
            "linux/amd64=gcc-aarch64-linux-gnu,libc6-dev-arm64-cross",
            "-t",
            &target,
            "--json",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "base bootstrap failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let base = json(&out);
    let images = base["payload"]["images"].as_array().unwrap();
    assert_eq!(images.len(), 2);
    // The configs say the true architecture (docker import would have said amd64 for both).
    let ins = json(&archbench().args(["image", "inspect", &target, "--json"]).output().unwrap());
    for p in ins["payload"]["platforms"].as_array().unwrap() {
        assert_eq!(p["platform"], p["config_platform"]);
    }
    target
}

fn small_build(
    reg: &TestRegistry,
    base: &str,
    strategies: &str,
    platforms: &str,
    out: &Path,
    tag: &str,
    scale: u32,
) -> std::process::Output {
    archbench()
        .args(["build"])
        .arg(fixture())
        .args(["--platform", platforms, "--strategy", strategies])
        .args(["--build-arg", &format!("BUILDER={base}")])
        .args(["--build-arg", &format!("SCALE={scale}")])
        .args(["-t", &format!("{}/compute:{tag}", reg.host()), "--push"])
        .arg("--output")
        .arg(format!("oci:{}", out.join("images").display()))
        .arg("-o")
        .arg(out.join("build.json"))
        .arg("--json")
        .output()
        .unwrap()
}

// Long (about 125 lines): one build of three strategies, then everything that reads its index in
// turn (verify, pull and run, buildx's imagetools both ways), each on what the build left.
#[test]
fn native_cross_and_emulated_build_push_verify_and_run() {
    let _emu = BinfmtLock::shared();
    let reg = TestRegistry::start(RegistrySpec { htpasswd: None, tls: false });
    let base = base_in(&reg);
    let out = tempfile::tempdir().unwrap();
    let o = small_build(
        &reg,
        &base,
        "native,cross,emulated",
        "linux/amd64,linux/arm64",
        out.path(),
        "v1",
        // A scale no other test builds. BuildKit merges a step with the same cache key in a
        // build running at the same time (even under --no-cache) and reports it as cached in the
        // build that did not run it; the other tests build this fixture concurrently at 24.
        23,
    );
    assert!(o.status.success(), "build failed: {}", String::from_utf8_lossy(&o.stderr));
    let env = json(&o);
    assert_eq!(env["kind"], "build");
    let p = &env["payload"];
    let runs = p["runs"].as_array().unwrap();
    let combos: Vec<String> = runs
        .iter()
        .map(|r| format!("{} {}", r["platform"].as_str().unwrap(), r["strategy"].as_str().unwrap()))
        .collect();
    assert_eq!(combos, ["linux/amd64 native", "linux/arm64 cross", "linux/arm64 emulated"]);
    for r in runs {
        assert_eq!(r["ok"], true, "{r}");
        let stages = r["stages"].as_array().unwrap();
        let build = stages.iter().find(|s| s["name"] == "build").expect("a build stage");
        let emulated = r["strategy"] == "emulated";
        assert_eq!(build["emulated"], emulated, "{} {}", r["platform"], r["strategy"]);
        let make = build["steps"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["instruction"].as_str().unwrap().contains("make -j"))
            .expect("the make step");
        assert!(make["seconds"].as_f64().unwrap() > 0.0 && make["cached"] == false, "{make}");
        assert!(r["image_bytes"].as_u64().unwrap() > 100_000);
        // BuildKit is the default here, and its own vertices time the build.
        assert_eq!(r["builder"], "buildkit", "{r}");
        assert!(r["note"].as_str().unwrap().contains("BuildKit, the default"), "{r}");
        let vertices = r["vertices"].as_array().expect("vertices");
        assert!(vertices.iter().any(|v| v["name"].as_str().unwrap().contains("RUN CC=")), "{r:#}");
        assert!(vertices.iter().all(|v| v["end"].as_f64() >= v["start"].as_f64()));
        let t = &r["timeline"];
        let (wall, sum, cp) = (
            t["wall"].as_f64().unwrap(),
            t["steps_sum"].as_f64().unwrap(),
            t["critical_path"].as_f64().unwrap(),
        );
        // The longest chain fits in the wall time and in the sum; the wall can exceed the sum
        // when BuildKit idles between vertices.
        assert!(cp > 0.0 && cp <= wall + 1e-6 && cp <= sum + 1e-6, "{t}");
    }
    let ratios = p["ratios"].as_array().unwrap();
    assert_eq!(ratios.len(), 2);
    assert_eq!(p["verified"], true);
    // What the index's platforms share (issue 16, item 3): never more stored than their sum.
    let layers = &p["layers"];
    assert!(layers["stored_bytes"].as_u64().unwrap() > 0, "{layers}");
    assert!(layers["stored_bytes"].as_u64() <= layers["platform_bytes"].as_u64(), "{layers}");
    // The results file is the same envelope.
    let saved: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.path().join("build.json")).unwrap()).unwrap();
    assert_eq!(saved["payload"]["runs"].as_array().unwrap().len(), 3);
    // The pushed index: two platforms; the arm64 one is the cross build (first listed).
    let target = format!("{}/compute:v1", reg.host());
    let ins = json(&archbench().args(["image", "inspect", &target, "--json"]).output().unwrap());
    let plats = ins["payload"]["platforms"].as_array().unwrap();
    assert_eq!(plats.len(), 2);
    assert_eq!(plats[1]["manifest_digest"], runs[1]["manifest_digest"]);
    archbench().args(["verify", &target]).assert().success();
    let pulled = docker().args(["pull", "--platform", "linux/arm64", &target]).output().unwrap();
    assert!(pulled.status.success(), "{}", String::from_utf8_lossy(&pulled.stderr));
    let run = docker_ok(&["run", "--rm", "--platform", "linux/arm64", &target]);
    assert!(run.starts_with("machine=aarch64 "), "{run}");
    docker_ok(&["rmi", "-f", &target]);
    // `archbench run` (issue 19): this host's entry by default, the arm64 one under QEMU when
    // asked for, each through the engine.
    let o = archbench().args(["run", &target, "--platform", "linux/arm64"]).output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{err}");
    assert!(String::from_utf8_lossy(&o.stdout).starts_with("machine=aarch64 "), "{err}");
    assert!(err.contains("running linux/arm64 under QEMU (binfmt)"), "{err}");
    let o = archbench().args(["run", &target]).output().unwrap();
    assert!(String::from_utf8_lossy(&o.stdout).starts_with("machine=x86_64 "));

    // Issue 16 (item 9): interop with the seed's own tool, both ways. buildx reads archbench's
    // index; an index buildx makes (`imagetools create`) is inspected, verified and copied by
    // archbench.
    let raw = buildx_ok(&["imagetools", "inspect", "--raw", &target]);
    let index: serde_json::Value = serde_json::from_str(&raw).unwrap();
    let listed: Vec<&str> = index["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["digest"].as_str().unwrap())
        .collect();
    assert_eq!(
        listed,
        [
            runs[0]["manifest_digest"].as_str().unwrap(),
            runs[1]["manifest_digest"].as_str().unwrap()
        ]
    );
    let made = format!("{}/compute:by-buildx", reg.host());
    buildx_ok(&["imagetools", "create", "-t", &made, &target]);
    let ins = json(&archbench().args(["image", "inspect", &made, "--json"]).output().unwrap());
    let plats: Vec<&str> = ins["payload"]["platforms"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["manifest_digest"].as_str().unwrap())
        .collect();
    assert_eq!(plats, listed, "buildx's index lists the same manifests");
    archbench().args(["verify", &made]).assert().success();
    let copied = out.path().join("copied");
    archbench()
        .args(["image", "copy", &made])
        .arg(format!("oci:{}:v1", copied.display()))
        .assert()
        .success();
}

/// A TCP port on loopback that forwards to the local engine's socket: the "remote" worker.
fn tcp_engine() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for conn in listener.incoming().flatten() {
            let Ok(unix) = std::os::unix::net::UnixStream::connect("/var/run/docker.sock") else {
                continue;
            };
            let (mut a, mut b) = (conn.try_clone().unwrap(), unix.try_clone().unwrap());
            let (mut c, mut d) = (conn, unix);
            std::thread::spawn(move || {
                let _ = std::io::copy(&mut a, &mut b);
                let _ = b.shutdown(std::net::Shutdown::Write);
            });
            std::thread::spawn(move || {
                let _ = std::io::copy(&mut d, &mut c);
                let _ = c.shutdown(std::net::Shutdown::Write);
            });
        }
    });
    port
}

#[test]
fn remote_strategy_builds_on_an_engine_over_tcp() {
    let reg = TestRegistry::start(RegistrySpec { htpasswd: None, tls: false });
    let base = base_in(&reg);
    let port = tcp_engine();
    let out = tempfile::tempdir().unwrap();
    let o = small_build(
        &reg,
        &base,
        &format!("remote=tcp://127.0.0.1:{port}"),
        "linux/amd64",
        out.path(),
        "remote",
        24,
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let run = &json(&o)["payload"]["runs"][0];
    assert_eq!(run["strategy"], "remote");
    assert_eq!(run["engine"], format!("tcp://127.0.0.1:{port}"));
    assert!(run["note"].as_str().unwrap().contains("the local engine itself"), "{run}");
}

#[test]
fn a_failing_step_is_reported_and_nothing_is_pushed() {
    let reg = TestRegistry::start(RegistrySpec { htpasswd: None, tls: false });
    let base = base_in(&reg);
    let ctx = tempfile::tempdir().unwrap();
    std::fs::write(
        ctx.path().join("Dockerfile"),
        "ARG BASE\nFROM ${BASE}\nRUN echo preparing && echo the-last-words >&2 && exit 3\nRUN echo never\n",
    )
    .unwrap();
    // Each builder names the failing step its own way: BuildKit by its vertex, the classic
    // builder by its step count (which counts the ARG).
    for (builder, step) in
        [("buildkit", "[2/3] RUN echo preparing"), ("classic", "3/4 RUN echo preparing")]
    {
        let o = archbench()
            .arg("build")
            .arg(ctx.path())
            .args(["--builder", builder])
            .args([
                "--platform",
                "linux/amd64",
                "--strategy",
                "native",
                "--build-arg",
                &format!("BASE={base}"),
            ])
            .args(["-t", &format!("{}/broken:v1", reg.host()), "--push", "--output"])
            .arg(format!("oci:{}", ctx.path().join("out").display()))
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(!o.status.success());
        assert!(err.contains("linux/amd64") && err.contains(step), "{builder}: {err}");
        assert!(err.contains("the-last-words") && err.contains("no index was written"), "{err}");
    }
    let inspect = archbench()
        .args(["image", "inspect", &format!("{}/broken:v1", reg.host())])
        .output()
        .unwrap();
    assert!(!inspect.status.success(), "no index may exist after a failed build");
}

#[test]
fn emulated_build_without_binfmt_gives_the_fix() {
    let _off = DisabledEntry::new("qemu-aarch64");
    let out = tempfile::tempdir().unwrap();
    let o = archbench()
        .arg("build")
        .arg(fixture())
        .args(["--platform", "linux/arm64", "--strategy", "emulated", "--output"])
        .arg(format!("oci:{}", out.path().display()))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success());
    assert!(err.contains("echo 1 > /proc/sys/fs/binfmt_misc/qemu-aarch64"), "{err}");
    assert!(!err.contains("exec format error"), "{err}");
}

#[test]
fn an_interrupted_build_leaves_no_index() {
    let reg = TestRegistry::start(RegistrySpec { htpasswd: None, tls: false });
    let base = base_in(&reg);
    let out = tempfile::tempdir().unwrap();
    let bin = assert_cmd::cargo::cargo_bin("archbench");
    let mut child = Command::new(bin)
        .arg("build")
        .arg(fixture())
        .args([
            "--platform",
            "linux/amd64",
            "--strategy",
            "native",
            "--build-arg",
            &format!("BUILDER={base}"),
        ])
        .args([
            "--build-arg",
            "SCALE=2000",
            "-t",
            &format!("{}/interrupted:v1", reg.host()),
            "--push",
            "--output",
        ])
        .arg(format!("oci:{}", out.path().display()))
        .arg("-o")
        .arg(out.path().join("build.json"))
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Interrupt once the compile step is running.
    use std::io::BufRead;
    let mut lines = std::io::BufReader::new(child.stderr.take().unwrap()).lines();
    let mut before = Vec::new();
    for line in lines.by_ref() {
        let line = line.unwrap();
        let started = line.contains("building");
        before.push(line);
        if started {
            break;
        }
    }
    std::thread::sleep(std::time::Duration::from_secs(3));
    // SAFETY: kill(2) on our own child, which is not reaped yet, so its pid is not reused.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let status = child.wait().unwrap();
    before.extend(lines.map_while(Result::ok));
    // The build in progress is cancelled, the run is saved as failed by the interrupt, and
    // the exit status says it was interrupted (130).
    assert_eq!(status.code(), Some(130), "{}", before.join("\n"));
    let saved: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.path().join("build.json")).unwrap()).unwrap();
    let run = &saved["payload"]["runs"][0];
    assert_eq!(run["ok"], false, "{run}");
    assert!(run["error"].as_str().unwrap().contains("interrupted by the user"), "{run}");
    let inspect = archbench()
        .args(["image", "inspect", &format!("{}/interrupted:v1", reg.host())])
        .output()
        .unwrap();
    assert!(!inspect.status.success(), "no index may exist after an interrupted build");
    assert!(
        !out.path().join("index.json").exists()
            || !std::fs::read_to_string(out.path().join("index.json")).unwrap().contains("\"v1\"")
    );
}

#[test]
fn a_missing_context_is_named() {
    let out = archbench()
        .args(["build", "/nonexistent/ctx", "--platform", "linux/amd64", "--strategy", "native"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && err.contains("build context /nonexistent/ctx does not exist"),
        "{err}"
    );
}

/// Issue 18: a context holding a sparse file (as aarch64-linux-gnu-gcc's static binaries are)
/// builds through the real engine, whose tar reader refuses sparse headers.
#[test]
fn a_sparse_file_in_the_context_builds() {
    use std::io::{Seek, SeekFrom, Write};
    let ctx = tempfile::tempdir().unwrap();
    let mut f = std::fs::File::create(ctx.path().join("sparse.bin")).unwrap();
    f.write_all(b"head").unwrap();
    f.seek(SeekFrom::Start(8 << 20)).unwrap();
    f.write_all(b"tail").unwrap();
    drop(f);
    std::fs::write(ctx.path().join("Dockerfile"), "FROM scratch\nCOPY sparse.bin /sparse.bin\n")
        .unwrap();
    let out_dir = tempfile::tempdir().unwrap();
    let out = archbench()
        .arg("build")
        .arg(ctx.path())
        .args(["--platform", "linux/amd64", "--strategy", "native", "-t", "archbench/sparse:test"])
        .arg("--output")
        .arg(format!("oci:{}", out_dir.path().display()))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(!err.contains("header type 83"), "{err}");
}

/// Issue 15 (item 2): one build per "runner", each pushed by digest, then a merge job. Two
/// runners on this machine: amd64 built natively, arm64 cross-compiled (on a real arm64 runner
/// it would be native). The merge assembles the index from the two digests files, and verify
/// passes on it. A digests file naming a manifest the registry lacks is refused before any
/// index is pushed.
#[test]
fn per_runner_builds_pushed_by_digest_merge_into_one_verified_index() {
    let _emu = BinfmtLock::shared();
    let reg = TestRegistry::start(RegistrySpec { htpasswd: None, tls: false });
    let base = base_in(&reg);
    let work = tempfile::tempdir().unwrap();
    let repo = format!("{}/compute", reg.host());
    for (platform, strategy, file) in
        [("linux/amd64", "native", "amd64.json"), ("linux/arm64", "cross", "arm64.json")]
    {
        let out = work.path().join(file.trim_end_matches(".json"));
        let o = archbench()
            .args(["build"])
            .arg(fixture())
            .args(["--platform", platform, "--strategy", strategy])
            .args(["--build-arg", &format!("BUILDER={base}"), "--build-arg", "SCALE=24"])
            .args(["-t", &repo, "--push-by-digest"])
            .arg(work.path().join(file))
            .arg("--output")
            .arg(format!("oci:{}", out.display()))
            .output()
            .unwrap();
        assert!(o.status.success(), "{platform}: {}", String::from_utf8_lossy(&o.stderr));
        let d: serde_json::Value =
            serde_json::from_slice(&std::fs::read(work.path().join(file)).unwrap()).unwrap();
        assert_eq!(d["kind"], "archbench-digests");
        assert_eq!(d["manifests"][0]["platform"], platform);
    }
    // Nothing was tagged by the runners.
    let tags = registry_tags(&reg, "compute");
    assert!(tags.is_empty(), "{tags:?}");

    let merged = format!("{repo}:v1");
    let o = archbench()
        .args(["image", "create", "-t", &merged, "--digests"])
        .arg(work.path().join("amd64.json"))
        .arg("--digests")
        .arg(work.path().join("arm64.json"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v = archbench().args(["verify", &merged]).output().unwrap();
    assert!(v.status.success(), "{}", String::from_utf8_lossy(&v.stdout));
    let ins = json(&archbench().args(["image", "inspect", &merged, "--json"]).output().unwrap());
    let platforms: Vec<&str> = ins["payload"]["platforms"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["platform"].as_str().unwrap())
        .collect();
    assert_eq!(platforms, ["linux/amd64", "linux/arm64"]);

    // A manifest the registry lacks: refused, and no index is pushed.
    let mut d: serde_json::Value =
        serde_json::from_slice(&std::fs::read(work.path().join("arm64.json")).unwrap()).unwrap();
    d["manifests"][0]["digest"] = format!("sha256:{}", "0".repeat(64)).into();
    let bad = work.path().join("bad.json");
    std::fs::write(&bad, d.to_string()).unwrap();
    let o = archbench()
        .args(["image", "create", "-t", &format!("{repo}:v2"), "--digests"])
        .arg(work.path().join("amd64.json"))
        .arg("--digests")
        .arg(&bad)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success());
    assert!(err.contains("bad.json names") && err.contains("has no manifest"), "{err}");
    assert!(!registry_tags(&reg, "compute").contains(&"v2".to_owned()));
}

/// The tags of `repo` in `reg`, from the registry's tag list endpoint (none when the
/// repository has no tags).
fn registry_tags(reg: &TestRegistry, repo: &str) -> Vec<String> {
    let url = format!("http://{}/v2/{repo}/tags/list", reg.host());
    let out = std::process::Command::new("/usr/bin/python3")
        .args([
            "-c",
            "import json,sys,urllib.request as u\ntry:\n d=json.load(u.urlopen(sys.argv[1]))\nexcept Exception:\n d={}\nprint('\\n'.join(d.get('tags') or []))",
            &url,
        ])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_owned)
        .filter(|l| !l.is_empty())
        .collect()
}

/// A second Docker Engine on loopback that only speaks TLS with client certificates
/// (`dockerd --tlsverify`), with a CA made by the test; stopped when dropped.
struct TlsEngine {
    dir: tempfile::TempDir,
    port: u16,
    child: std::process::Child,
    bridge: String,
}

impl TlsEngine {
    fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        test_ca(d);
        issue_cert(
            d,
            "server",
            "127.0.0.1",
            "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n",
        );
        issue_cert(d, "client", "client", "extendedKeyUsage=clientAuth\n");
        // The Docker CLI's names in DOCKER_CERT_PATH.
        std::fs::create_dir(d.join("client")).unwrap();
        for (from, to) in
            [("ca.crt", "ca.pem"), ("client.crt", "cert.pem"), ("client.key", "key.pem")]
        {
            std::fs::copy(d.join(from), d.join("client").join(to)).unwrap();
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        // A bridge of its own: with `--bridge none` dockerd deletes the host's docker0 at start
        // (moby's removeDefaultBridgeInterface), which takes the main engine's networking down.
        let bridge = format!("abt{port}");
        let ip = std::process::Command::new("ip")
            .args(["link", "add", &bridge, "type", "bridge"])
            .output()
            .expect("ip (iproute2)");
        assert!(
            ip.status.success(),
            "ip link add {bridge}: {}",
            String::from_utf8_lossy(&ip.stderr)
        );
        let log = std::fs::File::create(d.join("dockerd.log")).unwrap();
        let child = std::process::Command::new("dockerd")
            .arg("--data-root")
            .arg(d.join("data"))
            .arg("--exec-root")
            .arg(d.join("exec"))
            .arg("--pidfile")
            .arg(d.join("pid"))
            .arg("-H")
            .arg(format!("unix://{}", d.join("sock").display()))
            .arg("-H")
            .arg(format!("tcp://127.0.0.1:{port}"))
            .args(["--tlsverify", "--tlscacert"])
            .arg(d.join("ca.crt"))
            .arg("--tlscert")
            .arg(d.join("server.crt"))
            .arg("--tlskey")
            .arg(d.join("server.key"))
            .args(["--bridge", &bridge, "--iptables=false", "--ip-masq=false"])
            .stdout(std::process::Stdio::null())
            .stderr(log)
            .spawn()
            .expect("dockerd (scripts/setup installs docker.io)");
        let e = TlsEngine { dir, port, child, bridge };
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        while !std::fs::read_to_string(e.dir.path().join("dockerd.log"))
            .unwrap_or_default()
            .contains("API listen on 127.0.0.1")
        {
            assert!(
                std::time::Instant::now() < deadline,
                "the TLS dockerd did not start: {}",
                e.log()
            );
            std::thread::sleep(std::time::Duration::from_millis(200));
        }
        e
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("dockerd.log")).unwrap_or_default()
    }
}

impl Drop for TlsEngine {
    fn drop(&mut self) {
        // SIGTERM lets dockerd stop its containerd and unmount its layers before the directory goes.
        // SAFETY: kill(2) on our own child, which is not reaped yet, so its pid is not reused.
        unsafe { libc::kill(self.child.id() as i32, libc::SIGTERM) };
        let _ = self.child.wait();
        let _ = std::process::Command::new("ip").args(["link", "del", &self.bridge]).output();
    }
}

/// Issue 15 (item 3): `remote=tcp://` with TLS. A second engine on loopback speaks only TLS with
/// client certificates; with DOCKER_TLS_VERIFY and DOCKER_CERT_PATH (the Docker CLI's
/// variables) archbench builds there, and without them it says what is missing.
#[test]
fn a_remote_engine_over_tcp_with_tls_client_certificates() {
    let reg = TestRegistry::start(RegistrySpec { htpasswd: None, tls: false });
    let base = base_in(&reg);
    let engine = TlsEngine::start();
    let remote = format!("remote=tcp://127.0.0.1:{}", engine.port);
    let out = tempfile::tempdir().unwrap();
    // Issue 16 (item 4): this machine's engine builds and pushes with its BuildKit cache
    // written inline; the second engine, whose cache is empty, then builds from that image.
    let cached = format!("{}/compute:cache", reg.host());
    // Through the HTTP build endpoint, as the TLS engine below builds: a cache written with the
    // context sent by file sync was not hit there (the compile ran again), although its records
    // are in the config either way.
    let o = archbench()
        .env("ARCHBENCH_BUILDKIT_ENDPOINT", "http")
        .args(["build"])
        .arg(fixture())
        .args(["--platform", "linux/amd64", "--strategy", "native", "--cache-to", "inline"])
        .args(["--build-arg", &format!("BUILDER={base}"), "--build-arg", "SCALE=24"])
        .args(["-t", &cached, "--push", "--output"])
        .arg(format!("oci:{}", out.path().join("cache").display()))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let o = archbench()
        .args(["build", "--cache-to", "type=registry,ref=x/y:cache", "--strategy", "multi"])
        .args(["--platform", "linux/amd64,linux/arm64"])
        .arg(fixture())
        .output()
        .unwrap();
    // A registry cache: Engine 20.10's BuildKit has no such exporter (the graph-driver store);
    // refused before building, with the probe's evidence and the fix.
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success(), "{err}");
    assert!(err.contains("probed: unknown cache exporter"), "{err}");
    assert!(err.contains("containerd image store") && err.contains("--cache-to inline"), "{err}");
    let build = |tls: bool| {
        let mut c = archbench();
        c.args(["build"])
            .arg(fixture())
            .args(["--platform", "linux/amd64", "--strategy", &remote, "--cache-from", &cached])
            .args(["--build-arg", &format!("BUILDER={base}"), "--build-arg", "SCALE=24"])
            .arg("--output")
            .arg(format!("oci:{}", out.path().join("images").display()))
            .arg("--json");
        if tls {
            c.env("DOCKER_TLS_VERIFY", "1")
                .env("DOCKER_CERT_PATH", engine.dir.path().join("client"));
        } else {
            c.env_remove("DOCKER_TLS_VERIFY").env_remove("DOCKER_CERT_PATH");
        }
        c.output().unwrap()
    };
    let o = build(false);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains(&format!("tcp://127.0.0.1:{}", engine.port)), "{err}");
    assert!(err.contains("set DOCKER_TLS_VERIFY=1 and DOCKER_CERT_PATH"), "{err}");

    let o = build(true);
    assert!(o.status.success(), "{}\n{}", String::from_utf8_lossy(&o.stderr), engine.log());
    let v = json(&o);
    let run = &v["payload"]["runs"][0];
    assert_eq!(run["strategy"], "remote");
    assert_eq!(run["engine"], format!("tcp://127.0.0.1:{}", engine.port));
    assert_eq!(run["ok"], true, "{run:#}");
    assert!(run["note"].as_str().unwrap().contains("another engine"), "{run}");
    // The compile step came from the imported cache: the second engine never ran it.
    let make = run["vertices"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["name"].as_str().unwrap().contains("make -j"))
        .unwrap_or_else(|| panic!("no make vertex: {run:#}"));
    assert_eq!(make["cached"], true, "{run:#}");
    assert!(run["note"].as_str().unwrap().contains(&format!("cache from {cached}")), "{run}");
    drop(engine);
    // The main engine's bridge is untouched.
    let docker0 =
        std::process::Command::new("ip").args(["link", "show", "docker0"]).output().unwrap();
    assert!(docker0.status.success(), "the second dockerd removed docker0");
}

/// An OpenSSH server on loopback for one test: its own host key, a client key allowed to log
/// in as root, and an ssh_config (`Host worker`) for archbench through ARCHBENCH_SSH_CONFIG, so
/// nothing in ~/.ssh is read or changed. Stopped when dropped.
struct TestSshd {
    dir: tempfile::TempDir,
    port: u16,
    child: std::process::Child,
}

impl TestSshd {
    fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        for key in ["host_key", "client_key"] {
            let o = std::process::Command::new("ssh-keygen")
                .args(["-q", "-t", "ed25519", "-N", "", "-f"])
                .arg(d.join(key))
                .output()
                .expect("ssh-keygen (scripts/setup installs openssh-server)");
            assert!(o.status.success(), "ssh-keygen: {}", String::from_utf8_lossy(&o.stderr));
        }
        std::fs::copy(d.join("client_key.pub"), d.join("authorized_keys")).unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let p = |f: &str| d.join(f).display().to_string();
        std::fs::write(
            d.join("sshd_config"),
            format!(
                "Port {port}\nListenAddress 127.0.0.1\nHostKey {}\nAuthorizedKeysFile {}\n\
                 PermitRootLogin prohibit-password\nPasswordAuthentication no\n\
                 KbdInteractiveAuthentication no\nUsePAM no\nStrictModes no\nPidFile {}\n",
                p("host_key"),
                p("authorized_keys"),
                p("sshd.pid")
            ),
        )
        .unwrap();
        let host_key = std::fs::read_to_string(d.join("host_key.pub")).unwrap();
        let host_key: Vec<&str> = host_key.split_whitespace().take(2).collect();
        std::fs::write(
            d.join("known_hosts"),
            format!("[127.0.0.1]:{port} {}\n", host_key.join(" ")),
        )
        .unwrap();
        std::fs::write(d.join("empty_known_hosts"), "").unwrap();
        for (name, known) in
            [("ssh_config", "known_hosts"), ("ssh_config_unknown", "empty_known_hosts")]
        {
            std::fs::write(
                d.join(name),
                format!(
                    "Host worker\n  HostName 127.0.0.1\n  Port {port}\n  User root\n\
                     Host *\n  IdentityFile {}\n  IdentitiesOnly yes\n  UserKnownHostsFile {}\n\
                     StrictHostKeyChecking yes\n",
                    p("client_key"),
                    p(known)
                ),
            )
            .unwrap();
        }
        // sshd refuses to start without its privilege-separation directory, which the init
        // script would create.
        std::fs::create_dir_all("/run/sshd").unwrap();
        let log = std::fs::File::create(d.join("sshd.log")).unwrap();
        let child = std::process::Command::new("/usr/sbin/sshd")
            .args(["-D", "-e", "-f"])
            .arg(d.join("sshd_config"))
            .stdout(std::process::Stdio::null())
            .stderr(log)
            .spawn()
            .expect("/usr/sbin/sshd (scripts/setup installs openssh-server)");
        let s = TestSshd { dir, port, child };
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while !s.log().contains("Server listening") {
            assert!(std::time::Instant::now() < deadline, "sshd did not start: {}", s.log());
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        s
    }

    fn config(&self, name: &str) -> std::path::PathBuf {
        self.dir.path().join(name)
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("sshd.log")).unwrap_or_default()
    }
}

impl Drop for TestSshd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Issue 15 (item 3): `remote=ssh://`. A real sshd on loopback with key authentication; the
/// engine behind it is the local one, and archbench says so. A port in the URL works, an unknown
/// host key is refused with ssh's words and the fix, and a build runs through a `Host` alias.
#[test]
fn a_remote_engine_over_ssh_with_key_authentication() {
    let sshd = TestSshd::start();
    let doctor = |url: &str, config: &str| {
        archbench()
            .args(["doctor", "--docker-host", url])
            .env("ARCHBENCH_SSH_CONFIG", sshd.config(config))
            .output()
            .unwrap()
    };
    let url = format!("ssh://root@127.0.0.1:{}", sshd.port);
    let o = doctor(&url, "ssh_config");
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        text.contains("Docker Engine 20.10") && text.contains(&format!("at {url}")),
        "{text}\n{}",
        sshd.log()
    );
    let o = doctor(&url, "ssh_config_unknown");
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("Host key verification failed"), "{text}");
    assert!(text.contains("not in known_hosts"), "{text}");
    let o = doctor(&format!("{url}/run/archbench-no-such.sock"), "ssh_config");
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("open failed") && text.contains("socket path"), "{text}");

    let reg = TestRegistry::start(RegistrySpec { htpasswd: None, tls: false });
    let base = base_in(&reg);
    let out = tempfile::tempdir().unwrap();
    let o = archbench()
        .args(["build"])
        .arg(fixture())
        .args(["--platform", "linux/amd64", "--strategy", "remote=ssh://worker"])
        .args(["--build-arg", &format!("BUILDER={base}"), "--build-arg", "SCALE=24"])
        .arg("--output")
        .arg(format!("oci:{}", out.path().join("images").display()))
        .arg("--json")
        .env("ARCHBENCH_SSH_CONFIG", sshd.config("ssh_config"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}\n{}", String::from_utf8_lossy(&o.stderr), sshd.log());
    let run = &json(&o)["payload"]["runs"][0];
    assert_eq!(run["strategy"], "remote");
    assert_eq!(run["engine"], "ssh://worker");
    assert_eq!(run["ok"], true, "{run:#}");
    assert!(run["note"].as_str().unwrap().contains("the local engine itself"), "{run}");
    // The forward's private directory is gone with the process.
    let left = std::fs::read_dir(std::env::temp_dir())
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with("archbench-ssh-"))
        .count();
    assert_eq!(left, 0, "archbench left ssh forward directories in the temp dir");
}

/// Issue 16 (item 6): an engine reached at an API older than BuildKit's sessions (here the real
/// engine, spoken to at 1.38 through DOCKER_API_VERSION as the Docker CLI does) gets the
/// classic builder even when BuildKit is asked for, and the run's note says why. A Dockerfile
/// syntax error is reported with its line by BuildKit.
#[test]
fn an_old_api_falls_back_to_classic_and_a_syntax_error_names_its_line() {
    let ctx = tempfile::tempdir().unwrap();
    std::fs::write(ctx.path().join("Dockerfile"), "FROM scratch\nCOPY Dockerfile /Dockerfile\n")
        .unwrap();
    let build = |api: Option<&str>| {
        let mut c = archbench();
        c.arg("build")
            .arg(ctx.path())
            .args(["--builder", "buildkit", "--platform", "linux/amd64", "--strategy", "native"])
            .args(["-t", "archbench-test/fallback:v1", "--json", "--output"])
            .arg(format!("oci:{}", ctx.path().join("out").display()));
        match api {
            Some(v) => c.env("DOCKER_API_VERSION", v),
            None => c.env_remove("DOCKER_API_VERSION"),
        };
        c.output().unwrap()
    };
    let o = build(Some("1.38"));
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let run = &json(&o)["payload"]["runs"][0];
    assert_eq!(run["builder"], "classic", "{run:#}");
    let note = run["note"].as_str().unwrap();
    assert!(
        note.contains("classic builder instead of BuildKit") && note.contains("API 1.38"),
        "{note}"
    );
    assert!(note.contains("needs API 1.39"), "{note}");
    let o = build(Some("one"));
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("DOCKER_API_VERSION"));

    std::fs::write(ctx.path().join("Dockerfile"), "FROM scratch\nCOPY Dockerfile /\nRUNN oops\n")
        .unwrap();
    let o = build(None);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("line 3") && err.contains("RUNN"), "{err}");
    assert!(err.contains("the Dockerfile frontend (before any step) failed"), "{err}");
    assert!(err.contains("no index was written"), "{err}");
}

/// Issue 16 (item 4): `RUN --mount=type=cache` works through archbench's BuildKit builds: a
/// file the first build leaves in the cache mount is there in the second, whose changed build
/// argument makes the step run again. Both use `--cache`: without it (archbench's default, for
/// honest timings) Engine 20.10's BuildKit starts every cache mount empty. The step's log lines
/// are kept with its vertex.
#[test]
fn a_cache_mount_keeps_its_files_between_builds() {
    let reg = TestRegistry::start(RegistrySpec { htpasswd: None, tls: false });
    let base = base_in(&reg);
    let ctx = tempfile::tempdir().unwrap();
    let id = format!("archbench-test-{}", std::process::id());
    std::fs::write(
        ctx.path().join("Dockerfile"),
        format!(
            "ARG BASE\nFROM ${{BASE}}\nARG N\nRUN --mount=type=cache,id={id},target=/cache \
             echo run $N && ls /cache && touch /cache/seen-$N\n"
        ),
    )
    .unwrap();
    let build = |n: u32| {
        let o = archbench()
            .arg("build")
            .arg(ctx.path())
            .args(["--builder", "buildkit", "--cache", "--platform", "linux/amd64"])
            .args(["--strategy", "native", "--build-arg", &format!("N={n}")])
            .args(["--build-arg", &format!("BASE={base}"), "-t", "archbench-test/mount:v1"])
            .arg("--output")
            .arg(format!("oci:{}", ctx.path().join("out").display()))
            .arg("--json")
            .output()
            .unwrap();
        // The builder image's amd64 variant carries the aarch64 cross toolchain and its libc,
        // which verify reports as foreign binaries (exit 4, with --json as without). The build
        // itself must have succeeded.
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            o.status.success()
                || (o.status.code() == Some(4) && err.contains("wrong architecture")),
            "{err}"
        );
        let v = json(&o);
        let run = v["payload"]["runs"][0].clone();
        let step = run["vertices"]
            .as_array()
            .unwrap()
            .iter()
            .find(|v| v["name"].as_str().unwrap().contains("--mount=type=cache"))
            .cloned()
            .unwrap_or_else(|| panic!("no cache-mount step: {run:#}"));
        assert_eq!(step["cached"], false, "the step ran: {step}");
        step["log"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l.as_str().unwrap().to_owned())
            .collect::<Vec<_>>()
    };
    let (a, b) = (100 + std::process::id() % 1000, 2000 + std::process::id() % 1000);
    let first = build(a);
    assert_eq!(first, [format!("run {a}")]);
    let second = build(b);
    assert_eq!(
        second,
        [format!("run {b}"), format!("seen-{a}")],
        "the mount kept the first build's file"
    );
}
