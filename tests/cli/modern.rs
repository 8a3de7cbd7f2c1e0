//! The engine users run today (issue 24): Docker Engine 26 with the containerd image store and
//! its BuildKit, started by scripts/setup at `unix:///run/archbench/modern.sock` beside the
//! system's Engine 20.10.

use std::path::Path;
use std::process::Command;

use crate::build::{base_in, fixture};
use crate::registry_support::{RegistrySpec, TestRegistry};
use crate::support::{archbench, json, BinfmtLock};

/// Where scripts/setup starts the modern engine.
pub const MODERN: &str = "unix:///run/archbench/modern.sock";

/// The modern engine's address, after checking it answers and uses the containerd store;
/// panics with the fix when it does not.
pub fn modern_engine() -> &'static str {
    let out = Command::new("/usr/bin/docker")
        .args(["-H", MODERN, "info", "--format", "{{.ServerVersion}} {{json .DriverStatus}}"])
        .output()
        .unwrap_or_else(|e| panic!("/usr/bin/docker: {e}; run scripts/setup"));
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "the modern engine does not answer at {MODERN}: {}; run scripts/setup (it starts Debian trixie's dockerd with the containerd image store there)",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(said.contains("io.containerd.snapshotter"), "not the containerd store: {said}");
    MODERN
}

/// `archbench` talking to the modern engine.
fn on_modern() -> assert_cmd::Command {
    let mut c = archbench();
    c.env("DOCKER_HOST", modern_engine());
    c
}

// Long (about 70 lines): one BuildKit build of three strategies on the containerd store, then
// what reads its index (verify, inspect, run under QEMU through that engine).
#[test]
fn buildkit_builds_every_strategy_on_the_containerd_store() {
    let _cache = CACHE.read().unwrap_or_else(|e| e.into_inner());
    let _emu = BinfmtLock::shared();
    let reg = TestRegistry::start(RegistrySpec { htpasswd: None, tls: false });
    let base = base_in(&reg);
    let out = tempfile::tempdir().unwrap();
    let target = format!("{}/compute:modern", reg.host());
    let o = on_modern()
        .args(["build"])
        .arg(fixture())
        .args(["--platform", "linux/amd64,linux/arm64", "--strategy", "native,cross,emulated"])
        .args(["--build-arg", &format!("BUILDER={base}")])
        // A scale no other test builds (see build::native_cross_and_emulated_…).
        .args(["--build-arg", "SCALE=21"])
        .args(["-t", &target, "--push"])
        .arg("--output")
        .arg(format!("oci:{}", out.path().join("images").display()))
        .arg("--json")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "build on the modern engine failed: {err}");
    let env = json(&o);
    let runs = env["payload"]["runs"].as_array().unwrap();
    let combos: Vec<String> = runs
        .iter()
        .map(|r| format!("{} {}", r["platform"].as_str().unwrap(), r["strategy"].as_str().unwrap()))
        .collect();
    assert_eq!(combos, ["linux/amd64 native", "linux/arm64 cross", "linux/arm64 emulated"]);
    for r in runs {
        assert_eq!(r["ok"], true, "{r}");
        assert_eq!(r["builder"], "buildkit", "{r}");
        let vertices = r["vertices"].as_array().expect("vertices");
        assert!(vertices.iter().any(|v| v["name"].as_str().unwrap().contains("RUN CC=")), "{r:#}");
        let build = r["stages"].as_array().unwrap().iter().find(|s| s["name"] == "build").unwrap();
        assert_eq!(build["emulated"], r["strategy"] == "emulated", "{r}");
        let make = build["steps"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["instruction"].as_str().unwrap().contains("make -j"))
            .expect("the make step");
        assert!(make["seconds"].as_f64().unwrap() > 0.0 && make["cached"] == false, "{make}");
    }
    assert_eq!(env["payload"]["verified"], true);
    archbench().args(["verify", &target]).assert().success();
    let o = on_modern().args(["run", &target, "--platform", "linux/arm64"]).output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{err}");
    assert!(String::from_utf8_lossy(&o.stdout).starts_with("machine=aarch64 "), "{err}");
}

/// Every name in the gzip tar layers of an OCI layout.
fn layer_names(layout: &Path) -> Vec<String> {
    let mut names = Vec::new();
    for blob in std::fs::read_dir(layout.join("blobs/sha256")).unwrap() {
        let out = Command::new("tar").arg("-tzf").arg(blob.unwrap().path()).output().unwrap();
        if out.status.success() {
            names.extend(String::from_utf8_lossy(&out.stdout).lines().map(str::to_owned));
        }
    }
    names
}

/// The context and Dockerfile reach BuildKit through the session's file sync: a `.dockerignore`
/// keeps a file out, a nested directory and a symlink arrive, and a syntax error still names
/// its line.
#[test]
fn the_context_arrives_by_file_sync_and_errors_name_their_line() {
    let _cache = CACHE.read().unwrap_or_else(|e| e.into_inner());
    let ctx = tempfile::tempdir().unwrap();
    let d = ctx.path();
    std::fs::create_dir_all(d.join("a/b")).unwrap();
    std::fs::write(d.join("a/b/c.txt"), "deep\n").unwrap();
    std::fs::write(d.join("secret.txt"), "never sent\n").unwrap();
    std::fs::write(d.join(".dockerignore"), "secret.txt\n").unwrap();
    std::os::unix::fs::symlink("a/b/c.txt", d.join("link")).unwrap();
    let out = tempfile::tempdir().unwrap();
    let layout = out.path().join("images");
    // One of these builds failed once in three runs of the whole suite (under its load, on a
    // 2-core machine) and never alone or beside the other modern-engine tests; its output was
    // not kept. A build whose outcome is not the expected one is therefore run once more, and
    // the first outcome is printed, so the next occurrence names its cause.
    let build = |dockerfile: &str, expect: &dyn Fn(&std::process::Output) -> bool| {
        std::fs::write(d.join("Dockerfile"), dockerfile).unwrap();
        let once = || {
            on_modern()
                .args(["build"])
                .arg(d)
                .args(["--platform", "linux/amd64", "--strategy", "native"])
                .arg("--output")
                .arg(format!("oci:{}", layout.display()))
                .output()
                .unwrap()
        };
        let first = once();
        if expect(&first) {
            return first;
        }
        eprintln!(
            "unexpected outcome (exit {:?}), building again: {}",
            first.status.code(),
            String::from_utf8_lossy(&first.stderr)
        );
        once()
    };
    let says = |o: &std::process::Output, words: &[&str]| {
        let err = String::from_utf8_lossy(&o.stderr);
        !o.status.success() && words.iter().all(|w| err.contains(w))
    };
    // secret.txt is ignored, so BuildKit does not find it.
    let o = build("FROM scratch\nCOPY secret.txt /\n", &|o| says(o, &["secret.txt", "not found"]));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success(), "{err}");
    assert!(err.contains("secret.txt") && err.contains("not found"), "{err}");
    let o =
        build("FROM scratch\nCOPY a /a\nCOPY link /link\nCOPY . /all/\n", &|o| o.status.success());
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let names = layer_names(&layout);
    for want in ["a/b/c.txt", "link", "all/a/b/c.txt", "all/Dockerfile"] {
        assert!(
            names.iter().any(|n| n.trim_start_matches("./") == want),
            "{want} not in {names:?}"
        );
    }
    assert!(!names.iter().any(|n| n.contains("secret")), "{names:?}");
    let o = build("FROM scratch\nCOPY a /a\nRUNN true\n", &|o| says(o, &["line 3", "RUNN"]));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success());
    assert!(err.contains("line 3") && err.contains("RUNN"), "{err}");
}

/// What `docker buildx build --platform … --push` pushes on today's engine, provenance
/// attestations included (buildx's default, as GitHub's build-push-action's), is inspected,
/// verified (exit 0) and copied by archbench (issue 24, item 4).
#[test]
fn a_buildx_pushed_index_with_attestations_verifies() {
    let _cache = CACHE.read().unwrap_or_else(|e| e.into_inner());
    let reg = TestRegistry::start(RegistrySpec { htpasswd: None, tls: false });
    let ctx = tempfile::tempdir().unwrap();
    for arch in ["amd64", "arm64"] {
        let bin = crate::support::probe(&format!("linux/{arch}"));
        let path = ctx.path().join(format!("probe-{arch}"));
        std::fs::write(&path, bin).unwrap();
    }
    std::fs::write(
        ctx.path().join("Dockerfile"),
        "FROM scratch\nARG TARGETARCH\nCOPY --chmod=755 probe-${TARGETARCH} /probe\n",
    )
    .unwrap();
    let target = format!("{}/probe:buildx", reg.host());
    // buildx's docker driver pushes twice on this store (BuildKit's exporter, then the engine);
    // under the full suite's load docker-registry once answered the second push's HEAD with a
    // 500. That is the registry's flake, not what this test checks, so the push is tried again.
    let push = || {
        Command::new("/usr/bin/docker")
            .env("DOCKER_HOST", modern_engine())
            .args(["buildx", "build", "--platform", "linux/amd64,linux/arm64"])
            .args(["--provenance", "mode=min", "-t", &target, "--push"])
            .arg(ctx.path())
            .output()
            .unwrap()
    };
    let mut out = push();
    for _ in 0..2 {
        if out.status.success() || !String::from_utf8_lossy(&out.stderr).contains("500 Internal") {
            break;
        }
        out = push();
    }
    assert!(out.status.success(), "buildx: {}", String::from_utf8_lossy(&out.stderr));
    let ins = json(&archbench().args(["image", "inspect", &target, "--json"]).output().unwrap());
    let p = &ins["payload"];
    let plats: Vec<&str> = p["platforms"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["platform"].as_str().unwrap())
        .collect();
    assert_eq!(plats, ["linux/amd64", "linux/arm64"], "{p:#}");
    assert_eq!(p["attestations"].as_array().unwrap().len(), 2, "{p:#}");
    let v = archbench().args(["verify", &target]).output().unwrap();
    let text = String::from_utf8_lossy(&v.stdout);
    assert!(v.status.success(), "{text}{}", String::from_utf8_lossy(&v.stderr));
    assert_eq!(text.matches("skipped: attestation manifest for linux/").count(), 2, "{text}");
    let copied = tempfile::tempdir().unwrap();
    archbench()
        .args(["image", "copy", &target])
        .arg(format!("oci:{}:v1", copied.path().display()))
        .assert()
        .success();
    archbench().args(["verify", &format!("oci:{}:v1", copied.path().display())]).assert().success();
}

/// Serialises the one test that empties the modern engine's build cache (to show a registry
/// cache at work) against the other builds on that engine. No test holding it waits for a lock
/// that a test waiting for it holds: binfmt's shared lock never waits for a shared holder.
pub static CACHE: std::sync::RwLock<()> = std::sync::RwLock::new(());

// Long (about 100 lines): one multi-platform solve read four ways (runs, index, attestations,
// verify), a warm rebuild from the registry cache alone, file times, and the refusals on 20.10.
/// `--strategy multi` (issue 24, items 3, 4, 6, 7): one BuildKit solve for amd64 and arm64 on
/// the modern engine, a run per platform on one clock, BuildKit's own index with its
/// provenance attestations, a registry cache that a rebuild uses after the engine's cache is
/// emptied, and file times rewritten to SOURCE_DATE_EPOCH. Engine 20.10 refuses `multi` and a
/// registry cache before building, naming what it lacks and the fix.
#[test]
fn one_solve_for_every_platform_with_provenance_a_registry_cache_and_fixed_file_times() {
    let _emu = BinfmtLock::shared();
    let reg = TestRegistry::start(RegistrySpec { htpasswd: None, tls: false });
    let base = base_in(&reg);
    let out = tempfile::tempdir().unwrap();
    let target = format!("{}/compute:multi", reg.host());
    let cache = format!("{}/compute:buildcache", reg.host());
    let multi = |layout: &str, extra: &[&str]| {
        let o = on_modern()
            .args(["build"])
            .arg(fixture())
            .args(["--platform", "linux/amd64,linux/arm64", "--strategy", "multi"])
            .args(["--build-arg", &format!("BUILDER={base}")])
            // A scale no other test builds (see build::native_cross_and_emulated_…).
            .args(["--build-arg", "SCALE=23"])
            .arg("--output")
            .arg(format!("oci:{}", out.path().join(layout).display()))
            .args(extra)
            .arg("--json")
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&o.stderr).into_owned();
        assert!(o.status.success(), "multi build failed: {err}");
        json(&o)
    };
    let to = format!("type=registry,ref={cache},mode=max");
    let cold = {
        let _shared = CACHE.read().unwrap_or_else(|e| e.into_inner());
        multi("cold", &["--provenance", "mode=min", "--cache-to", &to, "-t", &target, "--push"])
    };
    let runs = cold["payload"]["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 2, "{cold:#}");
    for (r, p) in runs.iter().zip(["linux/amd64", "linux/arm64"]) {
        assert_eq!(r["platform"], p);
        assert_eq!(r["strategy"], "multi");
        assert_eq!(r["ok"], true, "{r:#}");
        assert_eq!(r["seconds"], runs[0]["seconds"], "one solve, one wall time");
        let note = r["note"].as_str().unwrap();
        assert!(note.contains("provenance mode=min") && note.contains(&cache), "{note}");
        let build = r["stages"].as_array().unwrap().iter().find(|s| s["name"] == "build").unwrap();
        // The cross stage ran as the engine's platform for both images.
        assert_eq!(build["runs_as"], "linux/amd64", "{r:#}");
        let make = r["vertices"].as_array().unwrap().iter().find(|v| {
            let n = v["name"].as_str().unwrap();
            n.contains("make -j") && n.contains(&format!("cc-for.sh \"{}\"", &p[6..]))
        });
        assert!(make.is_some_and(|m| m["cached"] == false), "{r:#}");
    }
    assert!(cold["payload"]["ratios"].as_array().unwrap().is_empty(), "{cold:#}");
    assert_eq!(cold["payload"]["verified"], true);
    let ins = archbench().args(["image", "inspect", &target, "--json"]).output().unwrap();
    let ins = json(&ins);
    assert_eq!(ins["payload"]["attestations"].as_array().map(Vec::len), Some(2), "{ins:#}");
    archbench().args(["verify", &target]).assert().success();

    // The engine's own cache emptied, a rebuild takes every step from the registry cache.
    let warm = {
        let _alone = CACHE.write().unwrap_or_else(|e| e.into_inner());
        let prune = Command::new("/usr/bin/docker")
            .args(["-H", modern_engine(), "builder", "prune", "-af"])
            .output()
            .unwrap();
        assert!(prune.status.success(), "{}", String::from_utf8_lossy(&prune.stderr));
        multi("warm", &["--cache-from", &cache, "--warm"])
    };
    for r in warm["payload"]["runs"].as_array().unwrap() {
        let make = r["vertices"]
            .as_array()
            .unwrap()
            .iter()
            .find(|v| v["name"].as_str().unwrap().contains("make -j"));
        assert!(make.is_some_and(|m| m["cached"] == true), "not from the cache: {r:#}");
    }

    // SOURCE_DATE_EPOCH=86400 given: every file in both platforms' layer carries that time
    // (the context's file is from today), and the two platforms' layers are one.
    let ctx = tempfile::tempdir().unwrap();
    std::fs::write(ctx.path().join("Dockerfile"), "FROM scratch\nCOPY f /f\n").unwrap();
    std::fs::write(ctx.path().join("f"), "same on every platform\n").unwrap();
    let layout = out.path().join("epoch");
    let o = on_modern()
        .args(["build"])
        .arg(ctx.path())
        .args(["--platform", "linux/amd64,linux/arm64", "--strategy", "multi"])
        .args(["--source-date-epoch", "86400", "--json", "--output"])
        .arg(format!("oci:{}", layout.display()))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v = json(&o);
    assert_eq!(v["payload"]["layers"]["shared"].as_array().map(Vec::len), Some(1), "{v:#}");
    let mut times = Vec::new();
    for blob in std::fs::read_dir(layout.join("blobs/sha256")).unwrap() {
        let o = Command::new("tar")
            .env("TZ", "UTC")
            .args(["--numeric-owner", "--full-time", "-tvzf"])
            .arg(blob.unwrap().path())
            .output()
            .unwrap();
        if o.status.success() {
            times.extend(String::from_utf8_lossy(&o.stdout).lines().map(str::to_owned));
        }
    }
    assert!(
        !times.is_empty() && times.iter().all(|l| l.contains("1970-01-02 00:00:00")),
        "{times:?}"
    );

    // Engine 20.10 (the system engine): both refused before building.
    for extra in [&["--strategy", "multi"][..], &["--strategy", "multi", "--cache-to", &to][..]] {
        let o = archbench()
            .args(["build"])
            .arg(ctx.path())
            .args(["--platform", "linux/amd64,linux/arm64"])
            .args(extra)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(!o.status.success(), "{err}");
        assert!(err.contains("containerd image store") && !err.contains("] building"), "{err}");
    }
}

/// A `wasi/wasm` entry goes to the modern engine's BuildKit as `wasi/wasm` itself, as buildx
/// sends it, because that engine stores non-Linux images (probed): nothing is relabelled, and the
/// entry verifies as a module with no native code (issue 24, item 8). On Engine 20.10 the same
/// entry is sent for the build platform and relabelled (`wasm::a_wasm_entry_built_beside_…`).
#[test]
fn a_wasm_entry_is_sent_as_wasi_wasm_where_the_engine_stores_it() {
    let _cache = CACHE.read().unwrap_or_else(|e| e.into_inner());
    let module = &crate::programs::builds()[2];
    let ctx = tempfile::tempdir().unwrap();
    std::fs::copy(module, ctx.path().join("primes.wasm")).unwrap();
    std::fs::write(
        ctx.path().join("Dockerfile"),
        "FROM scratch\nCOPY primes.wasm /primes.wasm\nENTRYPOINT [\"/primes.wasm\"]\n",
    )
    .unwrap();
    let out = tempfile::tempdir().unwrap();
    let o = on_modern()
        .args(["build"])
        .arg(ctx.path())
        .args(["--platform", "wasi/wasm", "--json", "--output"])
        .arg(format!("oci:{}", out.path().display()))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v = json(&o);
    let run = &v["payload"]["runs"][0];
    let note = run["note"].as_str().unwrap();
    assert!(note.contains("sent as wasi/wasm") && !note.contains("labelled"), "{note}");
    assert_eq!(v["payload"]["verified"], true, "{v:#}");
    let layout = format!("oci:{}:latest", out.path().display());
    let o = archbench().args(["verify", &layout, "--json"]).output().unwrap();
    assert!(o.status.success());
    let w = &json(&o)["payload"]["platforms"][0];
    assert_eq!(w["declared"], "wasi/wasm", "{w}");
    assert_eq!((w["neutral"].as_u64(), w["binaries"].as_u64()), (Some(1), Some(0)), "{w}");
}
