use archbench_oci::{LayerInput, LayoutWriter};
use archbench_platform::Platform;

use crate::support::{archbench, docker_ok, json, probe, tar_of, BinfmtLock};

fn layout(entries: &[(&str, &str)]) -> tempfile::TempDir {
    // (declared platform, platform of the binary inside)
    let dir = tempfile::tempdir().unwrap();
    let mut w = LayoutWriter::create(dir.path()).unwrap();
    let mut manifests = Vec::new();
    for (declared, inside) in entries {
        let p: Platform = declared.parse().unwrap();
        let layer = tar_of(&[
            ("app", 0o755, &probe(inside)),
            ("start.sh", 0o755, b"#!/bin/sh\nexec /app\n"),
        ]);
        let m = w.image(&p, &[LayerInput::tar(layer)], &["/app"]).unwrap();
        manifests.push((m, p));
    }
    let idx = w.index(&manifests, &Default::default()).unwrap();
    w.tag(&idx, "v1").unwrap();
    dir
}

#[test]
fn verify_passes_a_correct_three_platform_layout_that_skopeo_reads() {
    let dir = layout(&[
        ("linux/amd64", "linux/amd64"),
        ("linux/arm64", "linux/arm64"),
        ("linux/arm/v7", "linux/arm/v7"),
    ]);
    let image = format!("oci:{}:v1", dir.path().display());
    let out = archbench().args(["verify", &image]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(text.matches("ok  ").count(), 3, "{text}");
    // An independent OCI client reads the same layout.
    let raw = std::process::Command::new("skopeo")
        .args(["inspect", "--raw", &image])
        .output()
        .expect("skopeo (scripts/setup installs it)");
    assert!(raw.status.success(), "{}", String::from_utf8_lossy(&raw.stderr));
    let index: serde_json::Value = serde_json::from_slice(&raw.stdout).unwrap();
    assert_eq!(index["manifests"].as_array().unwrap().len(), 3);
}

#[test]
fn verify_reports_an_amd64_binary_in_the_arm64_entry() {
    let dir = layout(&[("linux/amd64", "linux/amd64"), ("linux/arm64", "linux/amd64")]);
    let out = archbench()
        .args(["verify", "--json"])
        .arg(format!("oci:{}:v1", dir.path().display()))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(4));
    let report = json(&out);
    let arm64 = report["payload"]["platforms"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["declared"] == "linux/arm64")
        .unwrap();
    assert_eq!(arm64["ok"], false);
    assert_eq!(arm64["mismatches"][0]["path"], "app");
    assert_eq!(arm64["mismatches"][0]["found"], "linux/amd64");
    assert_eq!(arm64["neutral"], 1, "the script is arch-neutral");
    let amd64 = report["payload"]["platforms"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["declared"] == "linux/amd64")
        .unwrap();
    assert_eq!(amd64["ok"], true);
}

/// The Engine 20.10 bug from the issue: `docker import --platform linux/arm64` of an arm64
/// rootfs. Whatever the engine writes into the config, verify must agree with the truth.
#[test]
fn verify_judges_a_docker_import_by_the_binaries_not_the_label() {
    let _lock = BinfmtLock::shared();
    let dir = tempfile::tempdir().unwrap();
    let rootfs = dir.path().join("rootfs.tar");
    let arm = probe("linux/arm64");
    std::fs::write(&rootfs, tar_of(&[("bin/app", 0o755, &arm), ("bin/sh", 0o755, &arm)])).unwrap();
    let tag = format!("archbench-test-import:{}", std::process::id());
    docker_ok(&["import", "--platform", "linux/arm64", rootfs.to_str().unwrap(), &tag]);
    let recorded =
        docker_ok(&["image", "inspect", "-f", "{{.Architecture}}", &tag]).trim().to_owned();
    let saved = dir.path().join("saved.tar");
    docker_ok(&["save", "-o", saved.to_str().unwrap(), &tag]);
    docker_ok(&["rmi", &tag]);
    let out = archbench().args(["verify", "--json"]).arg(&saved).output().unwrap();
    let report = json(&out);
    let p = &report["payload"]["platforms"][0];
    if recorded == "arm64" {
        assert_eq!(out.status.code(), Some(0), "{report:#}");
    } else {
        eprintln!("engine recorded {recorded} for an arm64 import; verify must fail");
        assert_eq!(out.status.code(), Some(4), "{report:#}");
        assert!(
            p["config_problem"].as_str().unwrap().contains("most binaries are linux/arm64"),
            "{p:#}"
        );
    }
}

#[test]
fn verify_passes_an_image_saved_by_the_engine_when_labelled_right() {
    let dir = tempfile::tempdir().unwrap();
    let tag = format!("archbench-test-good:{}", std::process::id());
    let arm = probe("linux/arm64");
    let archive = archbench_exec::engine::docker_archive(
        &tag,
        &Platform::linux_arm64(),
        &[("app", 0o755, &arm)],
        &["/app"],
    );
    let engine = archbench_exec::engine::Engine::connect(None, std::time::Duration::from_secs(30))
        .expect("Docker Engine (scripts/setup starts dockerd)");
    engine.load_archive(archive).unwrap();
    let saved = dir.path().join("saved.tar");
    docker_ok(&["save", "-o", saved.to_str().unwrap(), &tag]);
    engine.remove_image(&tag);
    let out = archbench()
        .args(["verify", "--json"])
        .arg(format!("docker-archive:{}", saved.display()))
        .output()
        .unwrap();
    let report = json(&out);
    assert_eq!(out.status.code(), Some(0), "{report:#}");
    assert_eq!(report["payload"]["platforms"][0]["matching"], 1);
}

#[test]
fn verify_refuses_a_tampered_layer_and_an_oversized_manifest() {
    let dir = layout(&[("linux/arm64", "linux/arm64")]);
    // Flip a byte in the (only) layer blob.
    let index: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("index.json")).unwrap()).unwrap();
    let blobs = dir.path().join("blobs/sha256");
    let idx_digest =
        index["manifests"][0]["digest"].as_str().unwrap().trim_start_matches("sha256:").to_owned();
    let idx: serde_json::Value =
        serde_json::from_slice(&std::fs::read(blobs.join(&idx_digest)).unwrap()).unwrap();
    let man_digest =
        idx["manifests"][0]["digest"].as_str().unwrap().trim_start_matches("sha256:").to_owned();
    let man: serde_json::Value =
        serde_json::from_slice(&std::fs::read(blobs.join(&man_digest)).unwrap()).unwrap();
    let layer =
        blobs.join(man["layers"][0]["digest"].as_str().unwrap().trim_start_matches("sha256:"));
    let mut bytes = std::fs::read(&layer).unwrap();
    bytes[600] ^= 0xff;
    std::fs::write(&layer, bytes).unwrap();
    let out =
        archbench().arg("verify").arg(format!("oci:{}:v1", dir.path().display())).output().unwrap();
    // Not read is not verified, and not a mismatch either: exit 6, distinct from 4.
    assert_eq!(out.status.code(), Some(6));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("tampered"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("could not be read completely"));
    // identify says the same, and exits 6 rather than 0.
    let out = archbench()
        .arg("identify")
        .arg(format!("oci:{}:v1", dir.path().display()))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(6), "{}", String::from_utf8_lossy(&out.stdout));
    assert!(String::from_utf8_lossy(&out.stdout).contains("tampered"));

    // A 5 MiB "manifest" is refused before parsing.
    std::fs::write(blobs.join(&man_digest), vec![b' '; 5 << 20]).unwrap();
    let out =
        archbench().arg("verify").arg(format!("oci:{}:v1", dir.path().display())).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("over the 4194304-byte limit"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Issue 18: an aarch64 executable whose section-header fields are wrecked still runs under
/// QEMU (the loader reads only the ELF and program headers). In a linux/amd64 image it must be
/// found as the aarch64 binary it is, not counted as "0 binaries".
#[test]
fn a_foreign_binary_with_corrupt_section_headers_is_still_caught() {
    let _emu = BinfmtLock::shared();
    let work = tempfile::tempdir().unwrap();
    let mut bin = crate::registry_support::archinfo_binary(&Platform::linux_arm64(), work.path());
    // e_shoff far past the end and e_shnum at its maximum: goblin's full parse gives up.
    bin[0x28..0x30].copy_from_slice(&(u64::MAX / 2).to_le_bytes());
    bin[0x3c..0x3e].copy_from_slice(&0xffffu16.to_le_bytes());
    // It still runs: binfmt hands it to qemu-aarch64, which loads it by its program headers.
    let exe = work.path().join("wrecked");
    std::fs::write(&exe, &bin).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&exe, std::fs::Permissions::from_mode(0o755)).unwrap();
    let ran = std::process::Command::new(&exe).output().expect("run through binfmt");
    assert!(
        String::from_utf8_lossy(&ran.stdout).contains("aarch64"),
        "{}",
        String::from_utf8_lossy(&ran.stdout)
    );

    let dir = tempfile::tempdir().unwrap();
    let mut w = LayoutWriter::create(dir.path()).unwrap();
    let p = Platform::linux_amd64();
    let layer = tar_of(&[("app", 0o755, &bin)]);
    let m = w.image(&p, &[LayerInput::tar(layer)], &["/app"]).unwrap();
    let idx = w.index(&[(m, p)], &Default::default()).unwrap();
    w.tag(&idx, "v1").unwrap();
    let out = archbench()
        .args(["verify", "--json"])
        .arg(format!("oci:{}:v1", dir.path().display()))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(4), "{}", String::from_utf8_lossy(&out.stdout));
    let v = &json(&out)["payload"]["platforms"][0];
    assert_eq!(v["binaries"], 1, "{v:#}");
    assert_eq!(v["mismatches"][0]["path"], "app");
    assert!(v["mismatches"][0]["found"].as_str().unwrap().contains("arm64"), "{v:#}");
    assert!(v["warnings"][0].as_str().unwrap().contains("section headers unreadable"), "{v:#}");

    // With the program headers wrecked too, nothing can say what it is: a finding, not silence.
    bin[0x20..0x28].copy_from_slice(&(u64::MAX / 2).to_le_bytes());
    let dir = tempfile::tempdir().unwrap();
    let mut w = LayoutWriter::create(dir.path()).unwrap();
    let p = Platform::linux_amd64();
    let m = w.image(&p, &[LayerInput::tar(tar_of(&[("app", 0o755, &bin)]))], &["/app"]).unwrap();
    let idx = w.index(&[(m, p)], &Default::default()).unwrap();
    w.tag(&idx, "v1").unwrap();
    let out = archbench()
        .args(["verify", "--json"])
        .arg(format!("oci:{}:v1", dir.path().display()))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(4));
    let v = &json(&out)["payload"]["platforms"][0];
    assert!(v["mismatches"][0]["found"].as_str().unwrap().starts_with("unidentifiable"), "{v:#}");
}
