use crate::support::{archbench, json, probe, tar_of};

#[test]
fn identifies_the_probe_binary_of_every_architecture() {
    let dir = tempfile::tempdir().unwrap();
    let platforms = archbench_exec::tiny::probe_platforms();
    for p in &platforms {
        let name = p.to_string();
        std::fs::write(dir.path().join(name.replace('/', "_")), probe(&name)).unwrap();
    }
    let out = archbench().args(["identify", "--json", "--all"]).arg(dir.path()).output().unwrap();
    assert!(out.status.success());
    let report = json(&out);
    let files = report["payload"][0]["sections"][0]["files"].as_array().unwrap();
    assert_eq!(files.len(), platforms.len());
    for f in files {
        let want = f["path"].as_str().unwrap().replace('_', "/");
        assert_eq!(f["identity"]["platform"], want.as_str(), "{f:#}");
        assert_eq!(f["identity"]["elf"]["linkage"], "static");
        assert_eq!(f["identity"]["kind"], "executable");
    }
}

#[test]
fn identifies_a_gzip_layer_without_extracting() {
    let dir = tempfile::tempdir().unwrap();
    let arm = probe("linux/arm64");
    let tar = tar_of(&[
        ("usr/bin/app", 0o755, &arm),
        ("usr/bin/tool", 0o755, &arm),
        ("entry.sh", 0o755, b"#!/bin/sh\nexec app\n"),
        ("etc/conf", 0o644, b"x=1"),
    ]);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut gz, &tar).unwrap();
    let layer = dir.path().join("layer.tar.gz");
    std::fs::write(&layer, gz.finish().unwrap()).unwrap();
    let out = archbench().arg("identify").arg(&layer).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("4 files"), "{text}");
    let arm_line = text.lines().find(|l| l.trim_start().starts_with("linux/arm64")).expect(&text);
    assert!(arm_line.split_whitespace().nth(1) == Some("2"), "{arm_line}");
    assert!(text.lines().any(|l| l.trim_start().starts_with("script")), "{text}");
}

#[test]
fn corrupt_binaries_are_error_rows_not_crashes() {
    let dir = tempfile::tempdir().unwrap();
    let mut bad = probe("linux/arm64");
    bad.truncate(40);
    std::fs::write(dir.path().join("truncated"), &bad).unwrap();
    std::fs::write(dir.path().join("good"), probe("linux/arm64")).unwrap();
    let out = archbench().args(["identify", "--json"]).arg(dir.path()).output().unwrap();
    assert!(out.status.success());
    let report = json(&out);
    let section = &report["payload"][0]["sections"][0];
    let errors = section["files"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{section:#}");
    assert_eq!(errors[0]["path"], "truncated");
    assert!(errors[0]["error"].as_str().unwrap().contains("malformed ELF"), "{:#}", errors[0]);
}

#[test]
fn missing_inputs_and_registry_refs_explain_themselves() {
    let out = archbench().args(["identify", "/no/such/dir"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/no/such/dir: no such file"));
    // A registry reference with nothing listening: the registry is named, and why it failed.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let out =
        archbench().args(["identify", &format!("localhost:{port}/app:1.0")]).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        err.contains(&format!("cannot talk to registry localhost:{port}"))
            && err.contains("nothing accepted"),
        "{err}"
    );
}
