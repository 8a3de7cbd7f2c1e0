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

/// Issue 18: a symlink named on the command line is followed; one missing input does not stop
/// the others, and the exit status (1) still says it was missing.
#[test]
fn symlinks_are_followed_and_a_missing_input_hides_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let elf = dir.path().join("arm64");
    std::fs::write(&elf, probe("linux/arm64")).unwrap();
    let link = dir.path().join("link");
    std::os::unix::fs::symlink(&elf, &link).unwrap();
    let out = archbench().args(["identify", "--json"]).arg(&link).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let r = json(&out);
    assert_eq!(r["payload"][0]["sections"][0]["groups"][0]["count"], 1, "{r:#}");

    let out = archbench().args(["identify"]).arg("/no/such/file").arg(&elf).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "an input that cannot be opened is an error");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("1 identified"), "the second input is still reported: {stdout}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("/no/such/file: no such file"), "{stderr}");
    assert!(stderr.contains("1 of 2 inputs could not be opened"), "{stderr}");
}

/// An unreadable directory is listed with the operating system's reason, never dropped. Root
/// reads every directory, so archbench runs as nobody here (setpriv, from util-linux).
#[test]
fn an_unreadable_directory_is_listed_with_the_reason() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::write(dir.path().join("arm64"), probe("linux/arm64")).unwrap();
    std::fs::set_permissions(dir.path().join("arm64"), std::fs::Permissions::from_mode(0o644))
        .unwrap();
    let locked = dir.path().join("locked");
    std::fs::create_dir(&locked).unwrap();
    std::fs::write(locked.join("hidden"), probe("linux/amd64")).unwrap();
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o000)).unwrap();
    // The checkout may sit below a directory nobody cannot enter: run a copy.
    let bin = tempfile::tempdir().unwrap();
    std::fs::set_permissions(bin.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let exe = bin.path().join("archbench");
    std::fs::copy(env!("CARGO_BIN_EXE_archbench"), &exe).unwrap();
    let out = std::process::Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
        .arg(&exe)
        .args(["identify", "--json"])
        .arg(dir.path())
        .output()
        .expect("setpriv is missing: install util-linux");
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o755)).unwrap();
    assert_eq!(out.status.code(), Some(6), "{}", String::from_utf8_lossy(&out.stderr));
    let r = json(&out);
    let files = r["payload"][0]["sections"][0]["files"].as_array().unwrap();
    let locked_row =
        files.iter().find(|f| f["path"] == "locked").unwrap_or_else(|| panic!("{r:#}"));
    assert!(locked_row["error"].as_str().unwrap().contains("Permission denied"), "{locked_row}");
    assert_eq!(locked_row["unreadable"], true);
}
