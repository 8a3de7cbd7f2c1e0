use crate::support::{archbench, json, BinfmtLock, DisabledEntry};

fn check<'a>(report: &'a serde_json::Value, id: &str) -> &'a serde_json::Value {
    report["payload"]["checks"]
        .as_array()
        .expect("checks array")
        .iter()
        .find(|c| c["id"] == id)
        .unwrap_or_else(|| panic!("no check {id} in {report:#}"))
}

#[test]
fn doctor_executes_a_probe_per_architecture_and_runs_containers() {
    let _lock = BinfmtLock::shared();
    let out = archbench().args(["doctor", "--json"]).output().unwrap();
    let report = json(&out);
    assert!(
        out.status.success(),
        "doctor failed (exit {:?}); run scripts/setup:\n{report:#}",
        out.status.code()
    );
    assert_eq!(report["kind"], "doctor");
    assert_eq!(report["schema_version"], archbench_results::SCHEMA_VERSION);
    assert!(
        report["host"]["qemu_version"].as_str().unwrap_or("").contains("qemu"),
        "{:#}",
        report["host"]
    );
    for p in ["linux/arm64", "linux/arm/v7", "linux/riscv64", "linux/ppc64le", "linux/s390x"] {
        let c = check(&report, &format!("emulation:{p}"));
        assert_eq!(c["status"], "ok", "{c:#}");
        assert!(c["summary"].as_str().unwrap().contains("exit 42"), "{c:#}");
    }
    for tier in ["cranelift", "winch", "pulley"] {
        assert_eq!(check(&report, &format!("wasm:{tier}"))["status"], "ok");
    }
    // The engine is started by scripts/setup; a container of each platform must run the probe.
    assert_eq!(
        check(&report, "docker:engine")["status"],
        "ok",
        "no Docker Engine: run scripts/setup"
    );
    // Engine 20.10 (API 1.41) builds with BuildKit, and doctor says which builder `build` uses.
    let b = check(&report, "docker:builder");
    assert_eq!(b["status"], "ok", "{b:#}");
    assert!(b["summary"].as_str().unwrap().starts_with("BuildKit"), "{b:#}");
    for p in ["linux/amd64", "linux/arm64", "linux/arm/v7", "linux/riscv64"] {
        let c = check(&report, &format!("docker:run:{p}"));
        assert_eq!(c["status"], "ok", "{c:#}");
    }
}

#[test]
fn doctor_reports_disabled_arm64_emulation_with_the_fix_and_fails() {
    let _off = DisabledEntry::new("qemu-aarch64");
    let out = archbench().args(["doctor", "--json", "--no-docker"]).output().unwrap();
    let report = json(&out);
    assert_eq!(out.status.code(), Some(3), "expected the doctor-failed status\n{report:#}");
    let arm64 = check(&report, "emulation:linux/arm64");
    assert_eq!(arm64["status"], "fail");
    assert!(arm64["summary"].as_str().unwrap().contains("disabled"), "{arm64:#}");
    assert!(
        arm64["fix"].as_str().unwrap().contains("echo 1 > /proc/sys/fs/binfmt_misc/qemu-aarch64"),
        "{arm64:#}"
    );
    // The others are untouched.
    assert_eq!(check(&report, "emulation:linux/arm/v7")["status"], "ok");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("emulation:linux/arm64"), "{stderr}");
}

#[test]
fn doctor_names_the_package_when_nothing_is_registered() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("register"), "").unwrap();
    std::fs::write(dir.path().join("status"), "enabled\n").unwrap();
    let out = archbench()
        .args(["doctor", "--no-docker", "--platform", "linux/riscv64", "--binfmt-dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text.lines().position(|l| l.contains("emulation:linux/riscv64")).expect(&text);
    assert!(text.lines().nth(line).unwrap().starts_with("fail"), "{text}");
    assert!(
        text.lines().nth(line + 1).unwrap().contains("apt-get install qemu-user-static"),
        "{text}"
    );
}

#[test]
fn unknown_platform_is_a_usage_error_listing_spellings() {
    let out = archbench().args(["doctor", "--platform", "linux/sparc"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("unknown platform") && err.contains("linux/arm64"), "{err}");
}

/// Issue 24 (item 9): doctor names each engine's image store and what its BuildKit can do, by
/// trying: the system engine (20.10, graph driver) cannot export OCI, store a wasi/wasm image
/// or write a registry cache, and says so in the engine's words; the modern one (containerd
/// store) can.
#[test]
fn doctor_probes_what_each_engines_buildkit_can_do() {
    // Its probes are solves on the modern engine, kept clear of the test that empties its cache.
    let _cache = crate::modern::CACHE.read().unwrap_or_else(|e| e.into_inner());
    let system =
        archbench().args(["doctor", "--json", "--platform", "linux/amd64"]).output().unwrap();
    let system = json(&system);
    let engine = check(&system, "docker:engine")["summary"].as_str().unwrap().to_owned();
    assert!(engine.contains("its own image store (graph driver overlay2)"), "{engine}");
    let c = check(&system, "buildkit:oci-export");
    assert_eq!(c["status"], "warn", "{c:#}");
    assert!(c["summary"].as_str().unwrap().contains("\"oci\""), "{c:#}");
    assert!(c["fix"].as_str().unwrap().contains("containerd image store"), "{c:#}");
    let c = check(&system, "buildkit:non-linux-images");
    assert!(c["summary"].as_str().unwrap().contains("operating system is not supported"), "{c:#}");
    assert_eq!(check(&system, "buildkit:multi-platform")["status"], "warn");
    let c = check(&system, "buildkit:registry-cache");
    assert_eq!(c["status"], "warn", "{c:#}");
    assert!(c["summary"].as_str().unwrap().contains("unknown cache exporter"), "{c:#}");

    let modern = archbench()
        .env("DOCKER_HOST", crate::modern::modern_engine())
        .args(["doctor", "--json", "--platform", "linux/amd64"])
        .output()
        .unwrap();
    let modern = json(&modern);
    let engine = check(&modern, "docker:engine")["summary"].as_str().unwrap().to_owned();
    assert!(
        engine.contains("Docker Engine 26.") && engine.contains("containerd image store"),
        "{engine}"
    );
    let bk = check(&modern, "docker:buildkit")["summary"].as_str().unwrap().to_owned();
    assert!(bk.contains("linux/arm64") && bk.contains("snapshotter overlayfs"), "{bk}");
    for cap in
        ["oci-export", "multi-platform", "rewrite-timestamp", "non-linux-images", "registry-cache"]
    {
        let c = check(&modern, &format!("buildkit:{cap}"));
        assert_eq!(c["status"], "ok", "{c:#}");
    }
    assert!(check(&modern, "buildkit:multi-platform")["summary"]
        .as_str()
        .unwrap()
        .contains("linux/amd64, linux/arm64"));
}

/// An engine that cannot be reached is a check that warns and says why, in the client's words
/// (the cause below "docker engine at …: connecting"), with the fix.
#[test]
fn an_unreachable_engine_is_a_warning_with_its_cause() {
    let dir = tempfile::tempdir().unwrap();
    let host = format!("unix://{}", dir.path().join("no.sock").display());
    let out = archbench()
        .args(["doctor", "--json", "--platform", "linux/arm64", "--docker-host", &host])
        .output()
        .unwrap();
    let report = json(&out);
    let c = check(&report, "docker:engine");
    assert_eq!(c["status"], "warn", "not required, so a warning: {c:#}");
    let summary = c["summary"].as_str().unwrap();
    assert!(summary.starts_with(&format!("docker engine at {host}: connecting: ")), "{c:#}");
    assert!(summary.contains("Socket not found"), "{c:#}");
    assert!(c["fix"].as_str().unwrap().contains("scripts/setup"), "{c:#}");
}
