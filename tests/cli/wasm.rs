//! Wasm as a fourth way to ship (issue 19): a `wasi/wasm` entry built beside the native one from
//! one Dockerfile, pushed, verified and run (`archbench run`); the Wasm OCI artifact layout read
//! and run; and each bad input the issue lists.

use std::path::Path;

use archbench_oci::{LayerInput, LayoutWriter};
use archbench_platform::Platform;

use crate::registry_support::{RegistrySpec, TestRegistry};
use crate::support::{archbench, json, tar_of};

fn primes_wasm() -> Vec<u8> {
    std::fs::read(&crate::programs::builds()[2]).unwrap()
}

/// A layout tagged `t` holding what `write` puts in it (the index it returns).
fn layout(
    write: impl FnOnce(&mut LayoutWriter) -> archbench_oci::layout::Written,
) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let mut w = LayoutWriter::create(dir.path()).unwrap();
    let idx = write(&mut w);
    w.tag(&idx, "t").unwrap();
    dir
}

fn oci(dir: &Path) -> String {
    format!("oci:{}:t", dir.display())
}

/// The artifact layout (os `wasip1`, the layer is the module) is inspected, verified and run in
/// process; a trap exits 134 with wasmtime's message and is never a result.
#[test]
fn a_wasm_artifact_is_inspected_verified_and_run_in_process() {
    let dir = layout(|w| w.wasm_artifact(&primes_wasm(), "wasip1").unwrap());
    let img = oci(dir.path());
    let ins = json(&archbench().args(["image", "inspect", &img, "--json"]).output().unwrap());
    let p = &ins["payload"]["platforms"][0];
    assert_eq!(
        (p["platform"].as_str(), p["kind"].as_str()),
        (Some("wasip1/wasm"), Some("wasm-artifact"))
    );
    archbench().args(["verify", &img]).assert().success();

    let o = archbench().args(["run", &img, "--", "100000"]).output().unwrap();
    let (out, err) = (String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
    assert!(o.status.success(), "{err}");
    assert_eq!(out, "primes below 100000: 9592\nchecksum: cd0adc404f45071b\n");
    assert!(err.contains("running wasip1/wasm in process on wasmtime (Cranelift)"), "{err}");
    assert!(err.contains("no linux/amd64 entry"), "{err}");
    // Without bench results the slowdown is modelled, and says so.
    assert!(err.contains("modelled"), "{err}");

    // WASI preopens: the module writes into the host directory given, under its guest name;
    // a path outside every preopen is the program's own error, passed on with its status.
    let work = tempfile::tempdir().unwrap();
    let o = archbench()
        .args(["run", &img, "--dir"])
        .arg(format!("{}:/work", work.path().display()))
        .args(["--", "1000", "--out", "/work/count.txt"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(
        std::fs::read_to_string(work.path().join("count.txt")).unwrap(),
        "primes below 1000: 168\n"
    );
    let o = archbench()
        .args(["run", &img, "--", "1000", "--out", "/elsewhere/count.txt"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("primes: writing /elsewhere/count.txt"));

    // A module that never ends is stopped at --timeout: 124, as timeout(1) says it.
    let o = archbench().args(["run", &img, "--timeout", "1", "--", "--hang"]).output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(124), "{err}");
    assert!(err.contains("stopped after --timeout 1 s"), "{err}");

    let saved = tempfile::tempdir().unwrap();
    let f = saved.path().join("run.json");
    let o = archbench()
        .args(["run", &img, "-o"])
        .arg(&f)
        .args(["--", "--crash-on", "wasm32"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(134), "{err}");
    assert!(err.contains("trapped") && err.contains("unreachable"), "{err}");
    let env: serde_json::Value = serde_json::from_slice(&std::fs::read(&f).unwrap()).unwrap();
    let run = &env["payload"]["runs"][0];
    assert!(run["trap"].as_str().unwrap().contains("unreachable"), "{run}");
    assert!(run["exit_code"].is_null(), "a trap is not an exit status: {run}");
}

/// Bad input: a module that fails to validate gives wasmtime's reason; a `wasi/wasm` entry
/// holding an ELF is refused by verify; an index with nothing runnable here lists every entry
/// with its fix.
#[test]
fn bad_wasm_entries_and_unrunnable_indexes_are_refused_with_the_reason() {
    // "\0asm", version 1, then a section id with a length running past the end.
    let broken = layout(|w| w.wasm_artifact(b"\0asm\x01\0\0\0\x01\x7f", "wasip1").unwrap());
    let o = archbench().args(["run", &oci(broken.path())]).output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("module does not load") && err.contains("compiling"), "{err}");
    assert!(err.to_lowercase().contains("unexpected end"), "wasmtime's reason: {err}");

    let elf = std::fs::read(&crate::programs::builds()[0]).unwrap();
    let mislabelled = layout(|w| {
        let layer = LayerInput::tar(tar_of(&[("primes.wasm", 0o755, &elf)]));
        let m = w.image(&Platform::wasi_wasm(), &[layer], &["/primes.wasm"]).unwrap();
        w.index(&[(m, Platform::wasi_wasm())], &Default::default()).unwrap()
    });
    let o = archbench().args(["verify", &oci(mislabelled.path())]).output().unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(4), "{out}");
    assert!(out.contains("primes.wasm: linux/amd64"), "{out}");
    assert!(out.contains("holds no Wasm module or component"), "{out}");
    let o = archbench().args(["run", &oci(mislabelled.path())]).output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("module does not load"), "{err}");

    let foreign = layout(|w| {
        let entries: Vec<_> = ["windows/amd64", "darwin/arm64"]
            .iter()
            .map(|p| {
                let p: Platform = p.parse().unwrap();
                let layer = LayerInput::tar(tar_of(&[("app", 0o755, b"#!/bin/sh\n")]));
                (w.image(&p, &[layer], &["/app"]).unwrap(), p)
            })
            .collect();
        w.index(&entries, &Default::default()).unwrap()
    });
    let o = archbench().args(["run", &oci(foreign.path())]).output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains("no entry of") && err.contains("can run on this linux/amd64 host"),
        "{err}"
    );
    for p in ["windows/amd64:", "darwin/arm64:"] {
        assert!(err.contains(p), "{p} listed: {err}");
    }
    assert!(err.contains("fix: build an entry this host runs"), "{err}");
}

/// The Rust builder image (rustc, the wasm32 standard library, wasm-ld) in `reg`: bootstrapped
/// once per machine into archbench's cache, then copied.
fn rust_builder_in(reg: &TestRegistry) -> String {
    let target = format!("{}/archbench/rust-builder:bookworm", reg.host());
    let o = archbench()
        .args(["base", "bootstrap", "--platform", "linux/amd64"])
        .args(["--include", "rustc,libstd-rust-dev-wasm32,lld-14", "-t", &target])
        .output()
        .unwrap();
    assert!(o.status.success(), "bootstrap: {}", String::from_utf8_lossy(&o.stderr));
    target
}

// Long (about 110 lines): one build of both entries, then everything that reads its index in
// turn (verify, inspect, run each way, compare, plan), each on what the build left.
/// One Dockerfile builds the native and the Wasm entry of one index; both are verified, run
/// and compared, and the plan's Wasm build factor is measured from the build file.
#[test]
fn a_wasm_entry_built_beside_the_native_one_is_pushed_run_and_priced() {
    let reg = TestRegistry::start(RegistrySpec { htpasswd: None, tls: false });
    let builder = rust_builder_in(&reg);
    let (results, images) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let target = format!("{}/primes:v1", reg.host());
    let o = archbench()
        .arg("build")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/programs/primes"))
        .args(["--platform", "linux/amd64,wasip1/wasm", "--strategy", "native"])
        .args(["--build-arg", &format!("BUILDER={builder}")])
        .args(["-t", &target, "--push", "--json", "-o"])
        .arg(results.path().join("build.json"))
        .arg("--output")
        .arg(format!("oci:{}", images.path().display()))
        .output()
        .unwrap();
    assert!(o.status.success(), "build: {}", String::from_utf8_lossy(&o.stderr));
    let p = &json(&o)["payload"];
    let runs = p["runs"].as_array().unwrap();
    let combos: Vec<String> = runs
        .iter()
        .map(|r| format!("{} {}", r["platform"].as_str().unwrap(), r["strategy"].as_str().unwrap()))
        .collect();
    assert_eq!(combos, ["linux/amd64 native", "wasi/wasm cross"]);
    let wasm = &runs[1];
    assert!(wasm["note"].as_str().unwrap().contains("compiled to Wasm on linux/amd64"), "{wasm}");
    assert!(wasm["note"].as_str().unwrap().contains("labelled wasi/wasm"), "{wasm}");
    let compile = wasm["stages"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["steps"].as_array().unwrap())
        .find(|s| s["instruction"].as_str().unwrap().contains("build.sh \"wasi\" \"wasm\""))
        .unwrap_or_else(|| panic!("the Wasm compile step: {wasm:#}"));
    assert!(compile["seconds"].as_f64().unwrap() > 0.0 && compile["cached"] == false, "{compile}");
    assert_eq!(p["verified"], true);
    let ratio = p["ratios"].as_array().unwrap().iter().find(|r| r["platform"] == "wasi/wasm");
    assert!(ratio.is_some_and(|r| r["ratio"].as_f64().unwrap() > 0.0), "{p:#}");

    // The index: both entries, the Wasm one holding a module and nothing native.
    let o = archbench().args(["verify", &target, "--json"]).output().unwrap();
    assert!(o.status.success());
    let v = json(&o);
    let w = v["payload"]["platforms"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["declared"] == "wasi/wasm")
        .unwrap();
    assert_eq!((w["neutral"].as_u64(), w["binaries"].as_u64()), (Some(1), Some(0)), "{w}");

    // run: this host's own entry, then the Wasm one forced, then both compared.
    let o = archbench().args(["run", &target, "--", "100000"]).output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{err}");
    assert_eq!(
        String::from_utf8_lossy(&o.stdout),
        "primes below 100000: 9592\nchecksum: cd0adc404f45071b\n"
    );
    assert!(
        err.contains("running linux/amd64 natively") && err.contains("preferred over wasi/wasm"),
        "{err}"
    );
    let o = archbench().args(["run", &target, "--dir", "/tmp", "--", "100000"]).output().unwrap();
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("runs as a container, which gets no host directories"), "{err}");
    let o = archbench()
        .args(["run", &target, "--platform", "wasi/wasm", "--", "100000"])
        .output()
        .unwrap();
    assert!(o.status.success());
    assert!(String::from_utf8_lossy(&o.stdout).starts_with("primes below 100000: 9592\n"));
    let o =
        archbench().args(["run", &target, "--compare", "--json", "--", "300000"]).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let c = json(&o);
    assert_eq!(c["kind"], "run");
    assert_eq!(c["payload"]["agree"], true);
    let how: Vec<&str> = c["payload"]["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["how"].as_str().unwrap())
        .collect();
    assert_eq!(how, ["native", "wasm"]);
    // The layout `build` wrote runs too: its native entry is handed to the engine as an archive.
    let o = archbench()
        .args(["run", &format!("oci:{}:v1", images.path().display()), "--compare", "--", "1000"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stdout).contains("outputs agree (2 entries)"));
    // Outputs that differ between entries (--arch prints the architecture) fail the comparison.
    let o =
        archbench().args(["run", &target, "--compare", "--", "1000", "--arch"]).output().unwrap();
    assert_eq!(o.status.code(), Some(5), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stderr).contains("outputs differ"));

    // The plan's Wasm build factor is measured now, from the build file.
    let o = archbench().args(["plan", "--json", "--results"]).arg(results.path()).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let f = &json(&o)["payload"]["factors"]["wasm_build"];
    assert_eq!(f["basis"], "measured", "{f}");
    assert!(
        f["from"].as_str().unwrap().contains("build.json (wasi/wasm entry's cold build"),
        "{f}"
    );
}
