use crate::support::{archbench, BinfmtLock};

#[test]
fn quick_bench_runs_native_qemu_and_wasm_with_equal_checksums() {
    let _lock = BinfmtLock::shared();
    let dir = tempfile::tempdir().unwrap();
    let out_file = dir.path().join("bench.json");
    let out = archbench()
        .args(["bench", "--quick", "--runs", "3", "--workload", "sha256", "--workload", "syscall"])
        .args([
            "--runner",
            "native",
            "--runner",
            "qemu:linux/arm64",
            "--runner",
            "wasm:pulley",
            "-o",
        ])
        .arg(&out_file)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}\n{}", String::from_utf8_lossy(&out.stderr));
    let env: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&out_file).unwrap()).unwrap();
    assert_eq!(env["kind"], "bench");
    let cells = env["payload"].as_array().unwrap();
    assert_eq!(cells.len(), 6);
    for c in cells {
        assert_eq!(c["status"]["kind"], "ok", "{c:#}");
        assert_eq!(c["samples"].as_array().unwrap().len(), 3);
        let native = cells
            .iter()
            .find(|n| n["runner"] == "native" && n["workload"] == c["workload"])
            .unwrap();
        assert_eq!(c["checksum"], native["checksum"]);
    }
    // Emulated sha256 is slower than native, and the table shows it.
    let qemu = cells
        .iter()
        .find(|c| c["runner"] == "qemu:linux/arm64" && c["workload"] == "sha256")
        .unwrap();
    assert!(qemu["slowdown"][0].as_f64().unwrap() > 1.0, "{qemu:#}");
    assert!(qemu["via"].as_str().unwrap().contains("qemu-aarch64"));
    assert!(text.contains("qemu:linux/arm64"), "{text}");
    // By default the runs are pinned to one CPU and the files go to a RAM-backed directory when
    // the host has one; both are recorded with every cell and stated under the table.
    let cond = &cells[0]["conditions"];
    let cpu = cond["cpu"].as_u64().expect("pinned by default");
    assert!(text.contains(&format!("runs pinned to CPU {cpu}")), "{text}");
    let scratch = cond["scratch"].as_str().unwrap();
    if fs_type(std::path::Path::new("/dev/shm")) == "tmpfs" {
        assert!(scratch.starts_with("/dev/shm/") && scratch.ends_with("(tmpfs)"), "{scratch}");
    }
}

/// `stat -f` type name of the filesystem holding `p` (`tmpfs`, `ext2/ext3`, …).
fn fs_type(p: &std::path::Path) -> String {
    let out = std::process::Command::new("stat").args(["-f", "-c", "%T"]).arg(p).output().unwrap();
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

#[test]
fn scratch_directory_and_pinning_are_chosen_by_flags_and_recorded() {
    let parent = tempfile::tempdir().unwrap();
    let out_file = parent.path().join("bench.json");
    let out = archbench()
        .args(["bench", "--runs", "2", "--quick", "--workload", "syscall", "--runner", "native"])
        .args(["--no-pin", "--scratch"])
        .arg(parent.path())
        .arg("-o")
        .arg(&out_file)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let env: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&out_file).unwrap()).unwrap();
    let cond = &env["payload"][0]["conditions"];
    assert!(cond["cpu"].is_null(), "{cond}");
    let scratch = cond["scratch"].as_str().unwrap();
    assert!(scratch.starts_with(&parent.path().display().to_string()), "{scratch}");
    // On a disk filesystem the user is told what that does to the syscall workload.
    let on_disk = fs_type(parent.path()) != "tmpfs";
    assert_eq!(stderr.contains("include disk writeback"), on_disk, "{stderr}");
    // The private subdirectory is gone; only the results file is left.
    let left: Vec<_> =
        std::fs::read_dir(parent.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(left, vec![std::ffi::OsString::from("bench.json")]);

    let out = archbench().args(["bench", "--cpu", "100000"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("CPU 100000 is not available") && stderr.contains("--no-pin"),
        "{stderr}"
    );
    let out = archbench().args(["bench", "--cpu", "0", "--no-pin"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = archbench().args(["bench", "--scratch", "/nonexistent/dir"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/dir"));
}

#[test]
fn unknown_workload_and_runner_are_explained() {
    let out = archbench().args(["bench", "--workload", "doom"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("choose from sha256"));
    let out = archbench().args(["bench", "--runner", "docker"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("accepted"));
}

/// Two runs of the same cells are compared; a `--quick` run against a full one is refused,
/// naming the size that differs (issue 13: it used to print "7.67× slower" for every cell).
#[test]
fn compare_matches_like_cells_and_refuses_different_sizes() {
    let _lock = BinfmtLock::shared();
    let dir = tempfile::tempdir().unwrap();
    let run = |quick: bool, file: &str| {
        let mut c = archbench();
        c.args(["bench", "--runs", "5", "--workload", "sha256", "--runner", "native", "-o"])
            .arg(dir.path().join(file));
        if quick {
            c.arg("--quick");
        }
        let out = c.output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    };
    run(true, "a.json");
    run(true, "b.json");
    run(false, "full.json");
    let compare = |old: &str, new: &str| {
        archbench()
            .args(["bench", "compare", "--json"])
            .arg(dir.path().join(old))
            .arg(dir.path().join(new))
            .output()
            .unwrap()
    };
    let out = compare("a.json", "b.json");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let changes: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(changes[0]["workload"], "sha256", "{changes:#}");
    assert!(["slower", "faster", "no change"].contains(&changes[0]["verdict"].as_str().unwrap()));

    let out = compare("a.json", "full.json");
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("not compared: sha256 on native: size 512 against 4096"), "{err}");
    assert!(out.stdout.is_empty());

    // A file of another kind is refused with the schema named.
    let bogus = dir.path().join("doctor.json");
    std::fs::write(&bogus, r#"{"schema_version":2,"kind":"doctor"}"#).unwrap();
    let out = archbench()
        .args(["bench", "compare"])
        .arg(&bogus)
        .arg(dir.path().join("b.json"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("expected bench schema 2"));
}

/// Issue 18 (interrupts): an interrupted bench stops after the run in progress, writes what
/// it has with the cell it was in marked interrupted, removes its scratch directory and exits
/// 130.
#[test]
fn an_interrupted_bench_saves_its_cells_and_leaves_no_scratch_directory() {
    // Build the workload program first (a fresh checkout compiles it on first use), so that the
    // interrupt below lands while cells are being measured, not while it compiles.
    let warm = archbench()
        .args(["bench", "--runs", "1", "--quick", "--runner", "native", "--workload", "sha256"])
        .output()
        .unwrap();
    assert!(warm.status.success(), "{}", String::from_utf8_lossy(&warm.stderr));
    let parent = tempfile::tempdir().unwrap();
    let results = tempfile::tempdir().unwrap();
    let out_file = results.path().join("bench.json");
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_archbench"))
        .args(["bench", "--runs", "100000", "--quick", "--runner", "native"])
        .args(["--workload", "sha256", "--workload", "syscall", "-o"])
        .arg(&out_file)
        .arg("--scratch")
        .arg(parent.path())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(300);
    while std::fs::read_dir(parent.path()).unwrap().next().is_none() {
        assert!(std::time::Instant::now() < deadline, "bench never made its scratch directory");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    std::thread::sleep(std::time::Duration::from_millis(1500));
    // SAFETY: signalling our own child, not yet waited for, so its pid is still its own.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{stderr}");
    assert!(stderr.contains("saving what is done"), "{stderr}");
    let left: Vec<_> = std::fs::read_dir(parent.path()).unwrap().collect();
    assert!(left.is_empty(), "{left:?}");
    let env: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&out_file).expect("the results were written"))
            .unwrap();
    let cells = env["payload"].as_array().unwrap();
    assert_eq!(cells.len(), 1, "nothing after the interrupted cell ran: {cells:?}");
    assert_eq!(cells[0]["workload"], "sha256");
    assert_eq!(cells[0]["status"]["kind"], "interrupted");
    assert!(cells[0]["status"]["recorded"].as_u64().unwrap() > 0);
    assert_eq!(
        cells[0]["samples"].as_array().unwrap().len() as u64,
        cells[0]["status"]["recorded"].as_u64().unwrap()
    );
}

#[test]
fn runs_zero_is_a_usage_error() {
    let out = archbench().args(["bench", "--runs", "0"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--runs"));
}

/// Issue 13 (item 4): the workload sources are embedded, so a copy of the binary outside the
/// checkout benches from any directory. They are written to the cache directory, named by
/// their hash, and built there.
#[test]
fn a_copied_binary_benches_from_any_directory() {
    let bin = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    let copy = bin.path().join("archbench");
    std::fs::copy(env!("CARGO_BIN_EXE_archbench"), &copy).unwrap();
    let elsewhere = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(&copy)
        .current_dir(elsewhere.path())
        .env("XDG_CACHE_HOME", cache.path())
        .args(["bench", "--quick", "--runs", "1", "--runner", "native", "--workload", "sha256"])
        .args(["--json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["payload"][0]["status"]["kind"], "ok", "{v:#}");
    let sources: Vec<_> = std::fs::read_dir(cache.path().join("archbench/workloads"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(sources.len(), 1, "{sources:?}");
    assert!(sources[0].join("src/kernels.rs").is_file());
    assert!(sources[0].join("target/x86_64-unknown-linux-musl/release/workloads").is_file());
}
