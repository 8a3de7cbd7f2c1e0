use archbench_oci::{LayerInput, LayoutWriter};
use archbench_platform::Platform;

use crate::support::{
    archbench, docker_ok, json, layout_with_attestations, probe, tar_of, BinfmtLock,
};

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
    let archive = archbench_oci::docker_save::of_files(
        &tag,
        &Platform::linux_arm64(),
        &[("app", 0o755, &arm)],
        &["/app"],
    );
    let engine = archbench_engine::Engine::connect(None, std::time::Duration::from_secs(30))
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

/// `verify --json` of a linux/amd64 image whose one file, `/app`, is `bin`.
fn verify_amd64_image_holding(bin: &[u8]) -> (tempfile::TempDir, std::process::Output) {
    let dir = tempfile::tempdir().unwrap();
    let mut w = LayoutWriter::create(dir.path()).unwrap();
    let p = Platform::linux_amd64();
    let m = w.image(&p, &[LayerInput::tar(tar_of(&[("app", 0o755, bin)]))], &["/app"]).unwrap();
    let idx = w.index(&[(m, p)], &Default::default()).unwrap();
    w.tag(&idx, "v1").unwrap();
    let out = archbench()
        .args(["verify", "--json"])
        .arg(format!("oci:{}:v1", dir.path().display()))
        .output()
        .unwrap();
    (dir, out)
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

    let (_dir, out) = verify_amd64_image_holding(&bin);
    assert_eq!(out.status.code(), Some(4), "{}", String::from_utf8_lossy(&out.stdout));
    let v = &json(&out)["payload"]["platforms"][0];
    assert_eq!(v["binaries"], 1, "{v:#}");
    assert_eq!(v["mismatches"][0]["path"], "app");
    assert!(v["mismatches"][0]["found"].as_str().unwrap().contains("arm64"), "{v:#}");
    assert!(v["warnings"][0].as_str().unwrap().contains("section headers unreadable"), "{v:#}");

    // With the program headers wrecked too, nothing can say what it is: a finding, not silence.
    bin[0x20..0x28].copy_from_slice(&(u64::MAX / 2).to_le_bytes());
    let (_dir, out) = verify_amd64_image_holding(&bin);
    assert_eq!(out.status.code(), Some(4));
    let v = &json(&out)["payload"]["platforms"][0];
    assert!(v["mismatches"][0]["found"].as_str().unwrap().starts_with("unidentifiable"), "{v:#}");
}

/// A tar entry for the union-filesystem test: its raw name is written as given (the tar crate
/// would normalise `./` and `//` away, and those are part of what is tested).
enum Member<'a> {
    File(&'a str, &'a [u8]),
    HardLink(&'a str, &'a str),
    Symlink(&'a str, &'a str),
    Dir(&'a str),
}

fn raw_tar(members: &[Member]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for m in members {
        let mut h = tar::Header::new_gnu();
        let (name, kind, data, link): (&str, tar::EntryType, &[u8], Option<&str>) = match m {
            Member::File(n, d) => (n, tar::EntryType::Regular, d, None),
            Member::HardLink(n, t) => (n, tar::EntryType::Link, b"", Some(t)),
            Member::Symlink(n, t) => (n, tar::EntryType::Symlink, b"", Some(t)),
            Member::Dir(n) => (n, tar::EntryType::Directory, b"", None),
        };
        assert!(name.len() < 100);
        h.as_old_mut().name[..name.len()].copy_from_slice(name.as_bytes());
        h.set_entry_type(kind);
        h.set_mode(0o755);
        h.set_size(data.len() as u64);
        h.set_mtime(0);
        if let Some(t) = link {
            h.as_old_mut().linkname[..t.len()].copy_from_slice(t.as_bytes());
        }
        h.set_cksum();
        b.append(&h, data).unwrap();
    }
    b.into_inner().unwrap()
}

/// (path, identity label) of every candidate `identify --all` lists for `target`.
fn identified(target: &str) -> std::collections::BTreeSet<(String, String)> {
    let out = archbench().args(["identify", "--all", "--json", target]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let r = json(&out);
    let mut set = std::collections::BTreeSet::new();
    for s in r["payload"][0]["sections"].as_array().unwrap() {
        for f in s["files"].as_array().unwrap() {
            let label = f["identity"]["platform"].as_str().unwrap_or("?").to_owned();
            set.insert((f["path"].as_str().unwrap().trim_start_matches('/').to_owned(), label));
        }
    }
    set
}

/// Issue 18: the image's final filesystem is modelled as a runtime unpacks it, checked against
/// umoci's unpack of the same image.
#[test]
fn layers_are_applied_as_umoci_unpacks_them() {
    let arm = probe("linux/arm64");
    let amd = probe("linux/amd64");
    let lower = raw_tar(&[
        Member::Dir("bin/"),
        Member::File("bin/evil", &arm),
        Member::Dir("usr/"),
        Member::Dir("usr/bin/"),
        Member::File("usr/bin/tool", &amd),
        Member::Dir("opt/"),
        Member::Dir("opt/x/"),
        Member::File("opt/x/a", &arm),
        Member::Dir("lib/"),
        Member::File("lib/replaced", &arm),
        Member::Dir("dir/"),
        Member::Dir("dir/d/"),
        Member::File("dir/d/inner", &arm),
        Member::Dir("same/"),
    ]);
    let upper = raw_tar(&[
        // A second name for bin/evil, then its first name whited out: the file lives on.
        Member::Dir("app/"),
        Member::HardLink("app/keep", "bin/evil"),
        Member::File("bin/.wh.evil", b""),
        // Everything below opt/ from lower layers is hidden.
        Member::File("opt/.wh..wh..opq", b""),
        // A binary replaced by a symlink, a directory of binaries replaced by a symlink.
        Member::Symlink("lib/replaced", "/usr/bin/tool"),
        Member::Symlink("dir/d", "/tmp"),
        // Paths with ./ and // in them.
        Member::File("./usr/./bin//new", &amd),
        // A whiteout next to a file of its own layer hides nothing of that layer.
        Member::File("same/.wh.kept", b""),
        Member::File("same/kept", &arm),
    ]);
    let dir = tempfile::tempdir().unwrap();
    let mut w = LayoutWriter::create(dir.path()).unwrap();
    let p = Platform::linux_amd64();
    let m =
        w.image(&p, &[LayerInput::tar(lower), LayerInput::tar(upper)], &["/usr/bin/tool"]).unwrap();
    w.tag(&m, "v1").unwrap();
    let image = format!("oci:{}:v1", dir.path().display());

    let ours = identified(&image);
    let want: std::collections::BTreeSet<(String, String)> = [
        ("app/keep", "linux/arm64"),
        ("same/kept", "linux/arm64"),
        ("usr/bin/new", "linux/amd64"),
        ("usr/bin/tool", "linux/amd64"),
    ]
    .iter()
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .collect();
    assert_eq!(ours, want);

    let bundle = tempfile::tempdir().unwrap();
    let rootfs_parent = bundle.path().join("b");
    let out = std::process::Command::new("umoci")
        .args(["unpack", "--image", &format!("{}:v1", dir.path().display())])
        .arg(&rootfs_parent)
        .output()
        .expect("umoci is missing: install umoci (scripts/setup does)");
    assert!(out.status.success(), "umoci: {}", String::from_utf8_lossy(&out.stderr));
    let theirs = identified(&rootfs_parent.join("rootfs").display().to_string());
    assert_eq!(ours, theirs, "archbench's view of the layers differs from umoci's unpack");

    // And verify names the two arm64 binaries the amd64 image really holds.
    let out = archbench().args(["verify", "--json", &image]).output().unwrap();
    assert_eq!(out.status.code(), Some(4));
    let v = &json(&out)["payload"]["platforms"][0];
    let paths: Vec<&str> =
        v["mismatches"].as_array().unwrap().iter().map(|m| m["path"].as_str().unwrap()).collect();
    assert_eq!(paths, ["app/keep", "same/kept"], "{v:#}");
}

/// buildx's default push: an attestation manifest (provenance, SBOM; platform
/// `unknown/unknown`) beside each image. verify and identify skip each with one line naming
/// the platform it describes, and pass.
#[test]
fn attestation_manifests_are_skipped_with_one_line_each() {
    let dir = tempfile::tempdir().unwrap();
    let (_, images, attestations) = layout_with_attestations(dir.path());
    let image = format!("oci:{}:v1", dir.path().display());
    let skipped = |platform: &str, i: usize| {
        format!("skipped: attestation manifest for {platform} ({})", &attestations[i][..19])
    };

    let out = archbench().args(["verify", &image]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(text.matches("ok  ").count(), 2, "{text}");
    assert!(text.contains(&format!("\n  {}\n", skipped("linux/amd64", 0))), "{text}");
    assert!(text.contains(&format!("\n  {}\n", skipped("linux/arm64", 1))), "{text}");
    assert!(!text.contains("unknown/unknown") && !text.contains("FAIL"), "{text}");

    let out = archbench().args(["verify", "--json", &image]).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let report = json(&out);
    let p = &report["payload"];
    assert_eq!(p["platforms"].as_array().unwrap().len(), 2, "{p:#}");
    assert_eq!(p["skipped"].as_array().unwrap().len(), 2, "{p:#}");
    assert_eq!(p["skipped"][0]["manifest_digest"], attestations[0].as_str());
    assert_eq!(p["skipped"][0]["attestation"]["of"], images[0].digest.as_str());
    assert_eq!(p["skipped"][0]["attestation"]["of_platform"], "linux/amd64");
    assert_eq!(
        p["skipped"][0]["attestation"]["predicate_types"],
        serde_json::json!(["https://slsa.dev/provenance/v0.2", "https://spdx.dev/Document"])
    );

    // One platform: its attestation is skipped, the other's not mentioned.
    let out = archbench().args(["verify", "--platform", "linux/arm64", &image]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert_eq!(text.matches("skipped:").count(), 1, "{text}");
    assert!(text.contains(&skipped("linux/arm64", 1)), "{text}");

    // identify reads the two images and skips the attestations (their in-toto layers are no
    // tars, so reading them would be an unreadable layer and exit 6).
    let out = archbench().args(["identify", &image]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}{}", String::from_utf8_lossy(&out.stderr));
    assert!(text.contains(&format!("{image}: {}", skipped("linux/amd64", 0))), "{text}");
    assert!(text.contains(&format!("{image}: {}", skipped("linux/arm64", 1))), "{text}");
    assert!(!text.contains("error"), "{text}");
    let out = archbench().args(["identify", "--json", &image]).output().unwrap();
    let r = json(&out);
    let declared: Vec<&str> = r["payload"][0]["sections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["declared"].as_str().unwrap())
        .collect();
    assert_eq!(declared, ["linux/amd64", "linux/arm64"]);
    assert_eq!(r["payload"][0]["skipped"].as_array().unwrap().len(), 2);
}

/// What Engine 26's containerd store met in an exporter that gzipped every layer: a layer
/// compressed twice. It is unreadable (exit 6, saying why), never binaries of the wrong
/// architecture (exit 4); so is a layer cut short.
#[test]
fn a_layer_compressed_twice_or_cut_short_is_unreadable_not_a_mismatch() {
    let gzip = |b: &[u8]| {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        std::io::Write::write_all(&mut gz, b).unwrap();
        gz.finish().unwrap()
    };
    let tar = tar_of(&[("app", 0o755, &probe("linux/arm64"))]);
    let mut cut = gzip(&tar);
    cut.truncate(cut.len() - 40);
    for (blob, why) in [
        (
            gzip(&gzip(&tar)),
            "the layer is compressed twice: once its gzip is undone it is gzip, not a tar",
        ),
        (cut, "reading <tar stream>"),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let mut w = LayoutWriter::create(dir.path()).unwrap();
        let p = Platform::linux_arm64();
        let layer = LayerInput {
            diff_id: archbench_oci::Digest::of(&tar),
            blob,
            media_type: archbench_oci::layout::media::LAYER_TAR_GZIP.into(),
        };
        let m = w.image(&p, &[layer], &["/app"]).unwrap();
        let idx = w.index(&[(m, p)], &Default::default()).unwrap();
        w.tag(&idx, "v1").unwrap();
        let image = format!("oci:{}:v1", dir.path().display());
        let out = archbench().args(["verify", &image]).output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(6), "{text}");
        assert!(text.contains("FAIL linux/arm64"), "{text}");
        assert!(
            text.contains("unreadable: layer 1 (blobs/sha256/") && text.contains(why),
            "{text}"
        );
        assert!(
            String::from_utf8_lossy(&out.stderr)
                .contains("could not be read completely, so it is not verified"),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let out = archbench().args(["identify", &image]).output().unwrap();
        assert_eq!(out.status.code(), Some(6), "{}", String::from_utf8_lossy(&out.stdout));
        assert!(String::from_utf8_lossy(&out.stdout).contains(why));
    }
}
