//! `archbench bench FILE...` on the user's own programs (issue 17): a real program
//! (fixtures/programs/primes) built for amd64, arm64 and wasm32-wasip1, run natively, under QEMU
//! and on wasmtime, and every bad input the issue lists.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use archbench_platform::Platform;

use crate::support::{archbench, docker_ok, json, BinfmtLock, DisabledEntry};

/// The three builds of the fixture: amd64 (static musl), arm64 (static musl), Wasm.
pub fn builds() -> &'static [PathBuf; 3] {
    static B: OnceLock<[PathBuf; 3]> = OnceLock::new();
    B.get_or_init(|| {
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/programs/primes");
        let build = |p: Platform| {
            archbench_bench::artifacts::build_bin(&src, &p, "primes")
                .unwrap_or_else(|e| panic!("building primes for {p}: {:#}", anyhow::Error::from(e)))
        };
        [
            build(Platform::linux_amd64()),
            build(Platform::linux_arm64()),
            build(Platform::wasi_wasm()),
        ]
    })
}

fn cell<'a>(v: &'a serde_json::Value, runner: &str) -> &'a serde_json::Value {
    v["payload"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["runner"] == runner)
        .unwrap_or_else(|| panic!("no {runner} cell in {v:#}"))
}

/// One command benches the three builds; the cells are typed results plan reads, and the
/// hyperfine exports have hyperfine's fields.
#[test]
fn three_builds_of_one_program_in_one_command() {
    let _emu = BinfmtLock::shared();
    let [amd, arm, wasm] = builds();
    let out_dir = tempfile::tempdir().unwrap();
    let o = out_dir.path();
    // The exports go elsewhere: in the results directory they would be files plan skips.
    let x = o.join("exports");
    let out = archbench()
        .arg("bench")
        .args([amd, arm, wasm])
        .args(["--runs", "3", "--runner", "wasm:cranelift", "--json", "-o"])
        .arg(o.join("bench.json"))
        .arg("--export-json")
        .arg(x.join("hf.json"))
        .arg("--export-csv")
        .arg(x.join("hf.csv"))
        .arg("--export-markdown")
        .arg(x.join("hf.md"))
        .args(["--", "200000"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v = json(&out);
    for r in ["native", "qemu:linux/arm64", "wasm:cranelift"] {
        let c = cell(&v, r);
        assert_eq!(c["status"]["kind"], "ok", "{c:#}");
        assert_eq!(c["workload"], "primes");
        assert_eq!(c["samples"].as_array().unwrap().len(), 3);
    }
    let q = cell(&v, "qemu:linux/arm64");
    assert!(q["slowdown"][0].as_f64().unwrap() > 1.0, "{q:#}");
    assert!(q["runner_version"].as_str().unwrap().starts_with("qemu-"));
    let first = &cell(&v, "native")["samples"][0]["stdout"];
    assert!(first.as_str().unwrap().contains("primes below 200000: 17984"), "{first}");
    let hf: serde_json::Value =
        serde_json::from_slice(&std::fs::read(x.join("hf.json")).unwrap()).unwrap();
    assert_eq!(hf["results"].as_array().unwrap().len(), 3);
    assert_eq!(hf["results"][1]["command"], "primes [qemu:linux/arm64]");
    assert_eq!(hf["results"][0]["times"].as_array().unwrap().len(), 3);
    let csv = std::fs::read_to_string(x.join("hf.csv")).unwrap();
    assert!(csv.starts_with("command,mean,stddev,median,user,system,min,max\n"));
    assert_eq!(csv.lines().count(), 4);
    assert!(std::fs::read_to_string(x.join("hf.md")).unwrap().contains("| `primes [native]` |"));
    // plan reads the file like any bench results: nothing skipped.
    let plan = archbench().args(["plan", "--json", "--results"]).arg(o).output().unwrap();
    assert!(plan.status.success(), "{}", String::from_utf8_lossy(&plan.stderr));
    let p = json(&plan);
    assert_eq!(p["payload"]["skipped_inputs"].as_array().map(Vec::len).unwrap_or(0), 0, "{p:#}");
}

/// `--command` names each platform's build with placeholders.
#[test]
fn a_command_template_names_the_build_per_platform() {
    let _emu = BinfmtLock::shared();
    let [amd, arm, _] = builds();
    let d = tempfile::tempdir().unwrap();
    for (arch, f) in [("amd64", amd), ("arm64", arm)] {
        std::fs::create_dir_all(d.path().join(arch)).unwrap();
        std::os::unix::fs::symlink(f, d.path().join(arch).join("primes")).unwrap();
    }
    let template = format!("{}/{{arch}}/primes 50000", d.path().display());
    let out = archbench()
        .args(["bench", "--runs", "2", "--json", "--command", &template])
        .args(["--platform", "linux/amd64,linux/arm64"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v = json(&out);
    assert_eq!(cell(&v, "qemu:linux/arm64")["status"]["kind"], "ok");
    assert!(cell(&v, "native")["samples"][0]["stdout"].as_str().unwrap().contains("below 50000"));
    let bad = archbench()
        .args([
            "bench",
            "--command",
            "{arch}/primes {arch}",
            "--platform",
            "linux/amd64,linux/arm64",
        ])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("arguments differ between platforms"));
}

/// A data file, a script without a shebang and a dynamic arm64 binary without a sysroot are
/// refused with the reason and the fix, and the native build still runs (exit 6). With `-L`
/// the dynamic binary runs.
#[test]
fn files_that_cannot_run_are_explained_and_the_others_run() {
    let _emu = BinfmtLock::shared();
    let [amd, ..] = builds();
    let d = tempfile::tempdir().unwrap();
    let data = d.path().join("numbers.csv");
    std::fs::write(&data, "1,2,3\n").unwrap();
    let script = d.path().join("run.sh");
    std::fs::write(&script, "echo hi\n").unwrap();
    let c = d.path().join("hello.c");
    std::fs::write(&c, "#include <stdio.h>\nint main(void){puts(\"hello\");return 0;}\n").unwrap();
    let dynamic = d.path().join("hello-arm64");
    let cc = std::process::Command::new("aarch64-linux-gnu-gcc")
        .arg("-O2")
        .arg(&c)
        .arg("-o")
        .arg(&dynamic)
        .status()
        .expect("aarch64-linux-gnu-gcc (scripts/setup installs gcc-aarch64-linux-gnu)");
    assert!(cc.success());
    let out = archbench()
        .arg("bench")
        .args([amd, &data, &script, &dynamic])
        .args(["--runs", "2", "--", "1000"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(6), "{err}");
    assert!(err.contains("numbers.csv: not a program archbench can run"), "{err}");
    assert!(err.contains("run.sh: not a program"), "{err}");
    assert!(err.contains("hello-arm64: dynamically linked for linux/arm64"), "{err}");
    assert!(err.contains("-L /usr/aarch64-linux-gnu (Debian package libc6-arm64-cross)"), "{err}");
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(table.contains("native"), "the native build still ran: {table}");

    let out = archbench()
        .arg("bench")
        .arg(&dynamic)
        .args(["-L", "/usr/aarch64-linux-gnu", "--runs", "2", "--json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v = json(&out);
    let q = cell(&v, "qemu:linux/arm64");
    assert_eq!(q["status"]["kind"], "ok");
    assert!(q["samples"][0]["stdout"].as_str().unwrap().starts_with("hello"));
}

/// A program that hangs is killed at the timeout with its process group, and never counted;
/// one that crashes only under QEMU is recorded with its signal. Both fail the run (exit 5).
#[test]
fn a_hang_times_out_and_a_crash_under_qemu_is_recorded() {
    let _emu = BinfmtLock::shared();
    let [amd, arm, _] = builds();
    let started = std::time::Instant::now();
    let out = archbench()
        .arg("bench")
        .arg(amd)
        .args(["--runs", "2", "--timeout", "1", "--json", "--", "--hang"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(5), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(started.elapsed().as_secs() < 30);
    let v = json(&out);
    let n = cell(&v, "native");
    assert_eq!(n["status"]["kind"], "failed");
    assert!(n["status"]["reason"].as_str().unwrap().contains("timed out after 1.0 s"), "{n:#}");
    assert!(n["samples"].as_array().unwrap().is_empty() && n["wall"].is_null());

    let out = archbench()
        .arg("bench")
        .args([amd, arm])
        .args(["--runs", "2", "--json", "--", "1000", "--crash-on", "aarch64"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(5));
    let v = json(&out);
    assert_eq!(cell(&v, "native")["status"]["kind"], "ok");
    let q = cell(&v, "qemu:linux/arm64");
    assert_eq!(q["status"]["kind"], "failed");
    assert!(q["status"]["reason"].as_str().unwrap().contains("SIGILL"), "{q:#}");
}

/// Outputs that differ fail the run (exit 5) and the first differing line is named;
/// `--check-regex` and `--no-check` accept programs whose output varies. Standard input reaches
/// the native program and the Wasm guest alike.
#[test]
fn different_outputs_fail_unless_told_what_to_compare() {
    let _emu = BinfmtLock::shared();
    let [amd, arm, wasm] = builds();
    let run = |extra: &[&str]| {
        archbench()
            .arg("bench")
            .args([amd, arm])
            .args(["--runs", "2"])
            .args(extra)
            .args(["--", "1000", "--arch"])
            .output()
            .unwrap()
    };
    let out = run(&[]);
    assert_eq!(out.status.code(), Some(5));
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(
        table.contains(
            r#"OUTPUT DIFFERS: line 3: native printed "arch: x86_64", this runner "arch: aarch64""#
        ),
        "{table}"
    );
    let out = run(&["--check-regex", r"checksum: (\w+)"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));
    assert!(run(&["--no-check"]).status.success());

    let d = tempfile::tempdir().unwrap();
    let input = d.path().join("in.txt");
    std::fs::write(&input, "a\nb\nc\n").unwrap();
    let out = archbench()
        .arg("bench")
        .args([amd, wasm])
        .args(["--runs", "2", "--runner", "wasm:winch", "--json", "--stdin"])
        .arg(&input)
        .args(["--", "1000", "--stdin"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v = json(&out);
    assert!(cell(&v, "native")["samples"][0]["stdout"]
        .as_str()
        .unwrap()
        .contains("stdin lines: 3"));
    assert_eq!(cell(&v, "wasm:winch")["status"]["kind"], "ok");
}

/// A binary for a platform with no emulator here: its binfmt entry disabled and no explicit
/// QEMU on PATH. The reason names the entry and the fix.
#[test]
fn a_platform_without_an_emulator_is_refused_with_the_fix() {
    let [_, arm, _] = builds();
    let _off = DisabledEntry::new("qemu-aarch64");
    let empty = tempfile::tempdir().unwrap();
    let out = archbench().env("PATH", empty.path()).arg("bench").arg(arm).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("qemu-aarch64 is registered but disabled"), "{err}");
    assert!(err.contains("update-binfmts --enable qemu-aarch64"), "{err}");
    assert!(err.contains("none of the files can run here"), "{err}");
}

/// `--image`: a command inside each platform of a multi-arch image in a real registry, through
/// the engine. amd64 runs natively and arm64 under QEMU; each sample's time is the command's
/// own and its container start-up is recorded apart; outputs are checked as for files.
/// The command runs about 0.3 s natively: the engine stamps `StartedAt` after the runtime's start
/// returns, and CI once ran the old 20 ms command to its end before that stamp (the sample then
/// has no start-up figure, as `bench/src/image.rs` says).
#[test]
fn a_command_in_each_platform_of_a_multi_arch_image() {
    use crate::registry_support::{gzip_layer, RegistrySpec, TestRegistry};
    let _emu = BinfmtLock::shared();
    let [amd, arm, _] = builds();
    let reg = TestRegistry::start(RegistrySpec { htpasswd: None, tls: false });
    let layout = tempfile::tempdir().unwrap();
    let mut w = archbench_oci::layout::LayoutWriter::create(layout.path()).unwrap();
    let mut entries = Vec::new();
    for (p, f) in [(Platform::linux_amd64(), amd), (Platform::linux_arm64(), arm)] {
        let bytes = std::fs::read(f).unwrap();
        let layer = gzip_layer(&[("primes", 0o755, &bytes)]);
        entries.push((w.image(&p, &[layer], &["/primes"]).unwrap(), p));
    }
    let idx = w.index(&entries, &Default::default()).unwrap();
    w.tag(&idx, "v1").unwrap();
    let image = format!("{}/primes:v1", reg.host());
    let copy = archbench()
        .args(["image", "copy"])
        .arg(format!("oci:{}:v1", layout.path().display()))
        .arg(&image)
        .output()
        .unwrap();
    assert!(copy.status.success(), "{}", String::from_utf8_lossy(&copy.stderr));

    let out = archbench()
        .args(["bench", "--image", &image, "--runs", "3", "--json", "--", "/primes", "50000000"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v = json(&out);
    for r in ["native", "qemu:linux/arm64"] {
        let c = cell(&v, r);
        assert_eq!(c["status"]["kind"], "ok", "{c:#}");
        assert_eq!(c["workload"], "/primes");
        assert!(c["via"].as_str().unwrap().starts_with("container "), "{c:#}");
        let samples = c["samples"].as_array().unwrap();
        for s in samples {
            assert!(s["wall"].as_f64().unwrap() > 0.0, "{s:#}");
            if let Some(startup) = s["startup"].as_f64() {
                assert!(startup > 0.0, "{s:#}");
            }
        }
        // A loaded machine may stamp `StartedAt` late for one sample; start-up must still be
        // measured apart in the rest.
        assert!(
            samples.iter().filter(|s| s["startup"].as_f64().is_some()).count() >= 2,
            "start-up is measured apart: {c:#} {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let first = cell(&v, "native")["samples"][0]["stdout"].as_str().unwrap().to_owned();
    assert!(first.contains("primes below 50000000: 3001134"), "{first}");

    let out = archbench()
        .args(["bench", "--image", &image, "--runs", "2", "--", "/primes", "1000", "--arch"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(5), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("OUTPUT DIFFERS"));

    // Issue 25: --max-memory is each container's limit. A sieve of 200 MB is killed past
    // 32 MiB; the cell and `run` say why instead of a bare 137.
    let out = archbench()
        .args(["bench", "--image", &image, "--runs", "1", "--max-memory", "32MiB", "--json"])
        .args(["--", "/primes", "200000000"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(5), "{}", String::from_utf8_lossy(&out.stderr));
    let reason = cell(&json(&out), "native")["status"]["reason"].as_str().unwrap().to_owned();
    assert!(
        reason.contains("out of memory: killed for passing its memory limit of 32.0 MiB"),
        "{reason}"
    );
    let o = archbench()
        .args(["run", &image, "--max-memory", "32MiB", "--", "/primes", "200000000"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(137), "{err}");
    assert!(err.contains("container was killed for passing its memory limit of 32.0 MiB"), "{err}");

    // An interrupt removes the running container at once, in `bench` (which saves what it
    // finished) and in `run` (which exits): without it both waited out a 600 s timeout and
    // `run` left the container behind.
    for (args, code) in [
        (&["bench", "--image", &image, "--runs", "2", "--", "/primes", "--hang"][..], 130),
        (&["run", &image, "--", "/primes", "--hang"][..], 143),
    ] {
        let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("archbench"))
            .args(args)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        // This test's containers are the ones running `/primes --hang`.
        let hanging = |all: bool| {
            let mut ps = vec!["ps", "--no-trunc", "--format", "{{.ID}} {{.Command}}"];
            ps.extend(all.then_some("-a"));
            docker_ok(&ps).lines().filter(|l| l.contains("/primes --hang")).count()
        };
        let running = || hanging(false) > 0;
        let t = std::time::Instant::now();
        while !running() {
            assert!(t.elapsed().as_secs() < 120, "{args:?}: no container started");
            std::thread::sleep(std::time::Duration::from_millis(200));
        }
        // SAFETY: kill has no memory-safety preconditions; the pid is our unreaped child.
        unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGTERM) };
        let t = std::time::Instant::now();
        let status = loop {
            if let Some(s) = child.try_wait().unwrap() {
                break s;
            }
            assert!(t.elapsed().as_secs() < 30, "{args:?}: still running 30 s after SIGTERM");
            std::thread::sleep(std::time::Duration::from_millis(100));
        };
        let mut err = String::new();
        std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut err).unwrap();
        assert_eq!(status.code(), Some(code), "{args:?}: {err}");
        assert_eq!(hanging(true), 0, "{args:?} left its container behind");
    }
}

/// Issue 15 (host facts): what an arm64 program sees of the CPU when QEMU runs it on this
/// x86 machine. QEMU 7.2 passes the host's /proc/cpuinfo through, so the detection archbench
/// records in every results file's host facts says "emulated" for an arm64 archbench here.
#[test]
fn an_arm64_program_under_qemu_sees_the_x86_cpu_and_counts_as_emulated() {
    let _emu = BinfmtLock::shared();
    let d = tempfile::tempdir().unwrap();
    let c = d.path().join("cpuinfo.c");
    std::fs::write(
        &c,
        "#include <stdio.h>\nint main(void){FILE*f=fopen(\"/proc/cpuinfo\",\"r\");int ch;while(f&&(ch=fgetc(f))!=EOF)putchar(ch);return 0;}\n",
    )
    .unwrap();
    let exe = d.path().join("cpuinfo-arm64");
    let cc = std::process::Command::new("aarch64-linux-gnu-gcc")
        .args(["-static", "-O2"])
        .arg(&c)
        .arg("-o")
        .arg(&exe)
        .status()
        .expect("aarch64-linux-gnu-gcc (scripts/setup installs gcc-aarch64-linux-gnu)");
    assert!(cc.success());
    let out = std::process::Command::new(&exe).output().unwrap();
    assert!(out.status.success());
    let seen = String::from_utf8_lossy(&out.stdout);
    let host_arch = std::env::consts::ARCH;
    assert_eq!(
        archbench_exec::host::emulated("aarch64", &seen),
        Some(host_arch != "aarch64"),
        "{seen}"
    );
    assert_eq!(
        archbench_exec::host::emulated(
            host_arch,
            &std::fs::read_to_string("/proc/cpuinfo").unwrap()
        ),
        Some(false)
    );
}

/// The stripped aarch64 archbench that `scripts/build-dist` makes (the `DIST_PROFILE` it was
/// given: `dist` by default, `dist-test` from scripts/test), or a failure that says how to make
/// it. scripts/test builds it beside the tests and names, in `ARCHBENCH_DIST_DONE`, the file
/// where that build leaves its exit status: the test waits for it (up to an hour).
fn aarch64_archbench() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target"));
    if let Some(done) = std::env::var_os("ARCHBENCH_DIST_DONE").map(PathBuf::from) {
        let log = target.join("build-dist-aarch64.log");
        let until = std::time::Instant::now() + std::time::Duration::from_secs(3600);
        while !done.exists() {
            assert!(
                std::time::Instant::now() < until,
                "scripts/build-dist has not finished in an hour; see {}",
                log.display()
            );
            std::thread::sleep(std::time::Duration::from_secs(2));
        }
        let status = std::fs::read_to_string(&done).unwrap_or_default();
        assert_eq!(
            status.trim(),
            "0",
            "scripts/build-dist aarch64-unknown-linux-musl failed; its log ({}):\n{}",
            log.display(),
            std::fs::read_to_string(&log).unwrap_or_default()
        );
    }
    // scripts/test builds the dist-test profile (the dist binary at opt-level 1).
    let profile = std::env::var("DIST_PROFILE").unwrap_or_else(|_| "dist".into());
    let bin = target.join(format!("aarch64-unknown-linux-musl/{profile}/archbench"));
    assert!(
        bin.is_file(),
        "{} is missing: run scripts/build-dist (scripts/test runs it before the tests)",
        bin.display()
    );
    bin
}

/// Issue 15 (item 4): archbench itself for aarch64, run under QEMU here, benches the arm64
/// build of a program and writes a results file whose host is linux/arm64 and emulated. Merged
/// with this machine's own results, the report gives it a column marked "(emulated)", and the
/// plan does not take it for native arm64: it names the file and says why.
#[test]
fn archbench_for_aarch64_under_qemu_is_an_emulated_host_in_the_merged_report() {
    let _emu = BinfmtLock::shared();
    let bin = aarch64_archbench();
    // What was built is what is meant for copying: a static aarch64 ELF without symbols.
    let id = archbench().args(["identify", "--json"]).arg(&bin).output().unwrap();
    assert!(id.status.success(), "{}", String::from_utf8_lossy(&id.stderr));
    let id = json(&id);
    let text = id.to_string();
    assert!(text.contains("linux/arm64"), "{text}");
    let file = std::process::Command::new("file").arg("-b").arg(&bin).output().unwrap();
    let file = String::from_utf8_lossy(&file.stdout);
    assert!(file.contains("statically linked") && file.contains("stripped"), "{file}");
    assert!(!file.contains("not stripped"), "{file}");

    let [amd, arm, _] = builds();
    let d = tempfile::tempdir().unwrap();
    let (on_arm, on_x86, merged) =
        (d.path().join("arm"), d.path().join("x86"), d.path().join("all"));
    let o = std::process::Command::new(&bin)
        .arg("bench")
        .arg(arm)
        .args(["--runs", "3", "-o"])
        .arg(on_arm.join("bench.json"))
        .args(["--", "200000"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value =
        serde_json::from_slice(&std::fs::read(on_arm.join("bench.json")).unwrap()).unwrap();
    assert_eq!(v["host"]["platform"], "linux/arm64", "{:#}", v["host"]);
    assert_eq!(v["host"]["emulated"], true, "{:#}", v["host"]);
    assert_eq!(cell(&v, "native")["status"]["kind"], "ok");

    let o = archbench()
        .arg("bench")
        .args([amd, arm])
        .args(["--runs", "3", "-o"])
        .arg(on_x86.join("bench.json"))
        .args(["--", "200000"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let o = archbench()
        .args(["results", "merge"])
        .args([&on_arm, &on_x86])
        .arg("-o")
        .arg(&merged)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let o = archbench().args(["report", "--render-only", "-o"]).arg(&merged).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let md = std::fs::read_to_string(merged.join("summary.md")).unwrap();
    let header = md.lines().find(|l| l.starts_with("| workload | size | runner |")).expect(&md);
    assert!(header.contains("linux/arm64") && header.contains("(emulated)"), "{header}");
    assert!(header.contains("linux/amd64"), "{header}");
    let plan: serde_json::Value =
        serde_json::from_slice(&std::fs::read(merged.join("plan.json")).unwrap()).unwrap();
    let factor = plan["payload"]["factors"]["arm64_runtime"].to_string();
    assert!(factor.contains("modelled") || factor.contains("Modelled"), "{factor}");
    assert!(factor.contains("its archbench ran under emulation"), "{factor}");
}

/// Issue 25 (items 1, 9): a FIFO or a device given to `bench` or `identify` is refused at once.
/// `bench` used to read /dev/zero whole (15.6 GB in 60 s, past `--timeout`) and hang on a FIFO;
/// `identify` said "0 files" and exited 0.
#[test]
fn pipes_and_devices_are_refused_by_bench_and_identify() {
    let d = tempfile::tempdir().unwrap();
    let fifo = d.path().join("prog");
    assert!(std::process::Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    for (input, what) in [(fifo.as_path(), "FIFO"), (Path::new("/dev/zero"), "character device")] {
        let o = archbench()
            .arg("bench")
            .arg(input)
            .args(["--runs", "1", "--timeout", "5"])
            .timeout(std::time::Duration::from_secs(60))
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(!o.status.success() && err.contains(what), "bench {}: {err}", input.display());
        assert!(err.contains("none of the files can run here"), "{err}");
        let o = archbench()
            .arg("identify")
            .arg(input)
            .timeout(std::time::Duration::from_secs(60))
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            !o.status.success() && err.contains("not a regular file or a directory"),
            "identify {}: {err}",
            input.display()
        );
    }
}

/// `bench --stdin FIFO` is refused before any run (it used to hang past --timeout in the open).
#[test]
fn a_fifo_as_standard_input_is_refused_before_any_run() {
    let d = tempfile::tempdir().unwrap();
    let fifo = d.path().join("input");
    assert!(std::process::Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    let o = archbench()
        .args(["bench", "/bin/true", "--runs", "1", "--timeout", "5", "--stdin"])
        .arg(&fifo)
        .timeout(std::time::Duration::from_secs(60))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success(), "{err}");
    assert!(err.contains("--stdin") && err.contains("FIFO"), "{err}");
}

/// SIGTERM during a run that would take 30 s: the run is stopped at once, the command exits as
/// interrupted (130) having written what finished, and its scratch directory is gone.
/// A program that prints more than archbench keeps: the runs succeed, the dropped bytes are in
/// the samples, and stderr says the output was compared on the kept part only.
#[test]
fn output_past_the_limit_is_counted_and_said() {
    let out = archbench()
        .args(["bench", "/bin/sh", "--runs", "2", "--no-pin", "--json", "--"])
        .args(["-c", "head -c 3000000 /dev/zero"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    let v = json(&out);
    let c = cell(&v, "native");
    for s in c["samples"].as_array().unwrap() {
        assert_eq!(s["stdout_dropped"], 3_000_000 - (1u64 << 20), "{s:#}");
    }
    assert!(err.contains("printed up to 1.9 MiB past the 1.0 MiB of output"), "{err}");
    assert!(err.contains("on the first 1.0 MiB only"), "{err}");
}

/// A large program is mapped to identify it, never read whole: `identify` and `bench` of a
/// 900 MiB sparse copy of /bin/true peak far below its size (read whole, bench took all of it).
/// Named bare (`prog`, no `./`), as a user in its directory would: it runs from there, not PATH.
/// A child's peak is at least what this test process holds at the spawn (the kernel charges it
/// with the memory it was spawned from, see archbench-exec's process note), and tests beside
/// this one hold buffers: the bound is 200 MiB above the most this process held around the run.
#[test]
fn a_large_program_is_mapped_not_read_and_a_bare_name_runs() {
    fn resident() -> u64 {
        let status = std::fs::read_to_string("/proc/self/status").unwrap();
        let kib = status.lines().find_map(|l| l.strip_prefix("VmRSS:")).unwrap();
        kib.trim().trim_end_matches("kB").trim().parse::<u64>().unwrap() * 1024
    }
    use archbench_exec::process::{run_measured, Outcome};
    let d = tempfile::tempdir().unwrap();
    let prog = d.path().join("prog");
    std::fs::copy("/bin/true", &prog).unwrap();
    std::fs::OpenOptions::new().write(true).open(&prog).unwrap().set_len(900 << 20).unwrap();
    let bin = assert_cmd::cargo::cargo_bin("archbench");
    for args in
        [&["identify", "prog"][..], &["bench", "prog", "--runs", "1", "--no-pin", "--no-check"][..]]
    {
        let mut cmd = std::process::Command::new(&bin);
        cmd.args(args).current_dir(d.path());
        let before = resident();
        let m = run_measured(&mut cmd, std::time::Duration::from_secs(120)).unwrap();
        let floor = before.max(resident());
        assert_eq!(m.outcome, Outcome::Exited { code: 0 }, "{args:?}: {}{}", m.stdout, m.stderr);
        assert!(
            m.max_rss < floor + (200 << 20),
            "{args:?} peaked at {} bytes, this process holding {floor}",
            m.max_rss
        );
    }
}

#[test]
fn sigterm_stops_the_run_in_progress_and_removes_the_scratch() {
    let d = tempfile::tempdir().unwrap();
    let out = d.path().join("bench.json");
    let scratch_parent = d.path().join("scratch");
    std::fs::create_dir(&scratch_parent).unwrap();
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("archbench"))
        .args(["bench", "/bin/sleep", "--runs", "3", "--no-check", "--no-pin", "-o"])
        .arg(&out)
        .arg("--scratch")
        .arg(&scratch_parent)
        .args(["--", "30"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id() as libc::pid_t;
    // Until the first run has started: bench has made its scratch directory.
    let started = std::time::Instant::now();
    let scratch = loop {
        let made = std::fs::read_dir(&scratch_parent).unwrap().flatten().next();
        if let Some(e) = made {
            break e.path();
        }
        assert!(started.elapsed().as_secs() < 60, "bench never created its scratch directory");
        std::thread::sleep(std::time::Duration::from_millis(100));
    };
    // ...and its first `sleep 30` is running (a child of bench's, by /proc's parent ids).
    let sleeping = || {
        std::fs::read_dir("/proc").unwrap().flatten().any(|e| {
            let stat = std::fs::read_to_string(e.path().join("stat")).unwrap_or_default();
            // pid (comm) state ppid ...
            let after = stat.rsplit_once(") ").map(|(_, rest)| rest).unwrap_or("");
            stat.contains("(sleep)")
                && after.split(' ').nth(1).and_then(|p| p.parse::<i32>().ok()) == Some(pid)
        })
    };
    while !sleeping() {
        assert!(started.elapsed().as_secs() < 60, "bench never started its first run");
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    // SAFETY: kill has no memory-safety preconditions; pid is our unreaped child.
    unsafe { libc::kill(pid, libc::SIGTERM) };
    let signalled = std::time::Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        // A behaviour bound, not a speed target: without the stop it takes the run's 30 s.
        assert!(signalled.elapsed().as_secs() < 20, "bench did not end after SIGTERM");
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    let mut err = String::new();
    std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut err).unwrap();
    assert_eq!(status.code(), Some(130), "{err}");
    assert!(err.contains("stopped the current run"), "{err}");
    assert!(!scratch.exists(), "{} was left behind", scratch.display());
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    let status = &v["payload"][0]["status"];
    assert!(status.to_string().contains("interrupted"), "{status}");
    assert_eq!(v["payload"][0]["samples"].as_array().map(Vec::len), Some(0), "{v:#}");
}

/// A WebAssembly module that grows its memory by 1 MiB forever (`(loop (drop (memory.grow
/// (i32.const 16))) (br 0))`), encoded by hand so the test needs no Wasm toolchain.
const GROW_WASM: &[u8] = &[
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // magic, version 1
    0x01, 0x04, 0x01, 0x60, 0x00, 0x00, // type section: () -> ()
    0x03, 0x02, 0x01, 0x00, // function section: one function of type 0
    0x05, 0x03, 0x01, 0x00, 0x01, // memory section: one memory, 1 page
    0x07, 0x0a, 0x01, 0x06, b'_', b's', b't', b'a', b'r', b't', 0x00, 0x00, // export _start
    0x0a, 0x0e, 0x01, 0x0c, 0x00, // code section: one body of 12 bytes, no locals
    0x03, 0x40, 0x41, 0x10, 0x40, 0x00, 0x1a, 0x0c, 0x00, 0x0b, 0x0b, // loop..end end
];

/// `--max-memory` caps a Wasm guest: the cell fails with the cap as its reason.
#[test]
fn a_wasm_guest_past_max_memory_fails_its_cell_naming_the_cap() {
    let d = tempfile::tempdir().unwrap();
    let module = d.path().join("grow.wasm");
    std::fs::write(&module, GROW_WASM).unwrap();
    let o = archbench()
        .arg("bench")
        .arg(&module)
        .args(["--runs", "1", "--timeout", "60", "--max-memory", "32MiB", "--json"])
        .timeout(std::time::Duration::from_secs(120))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(5), "{}", String::from_utf8_lossy(&o.stderr));
    let v = json(&o);
    let reason = v["payload"][0]["status"].to_string();
    assert!(reason.contains("memory limit") && reason.contains("32.0 MiB"), "{reason}");
    let o = archbench().arg("bench").arg(&module).args(["--max-memory", "lots"]).output().unwrap();
    assert_eq!(o.status.code(), Some(2));
}

/// `results merge` of directories without a results file fails instead of merging nothing.
#[test]
fn merging_nothing_is_an_error() {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(d.path().join("notes.json"), "{}").unwrap();
    let o = archbench()
        .args(["results", "merge"])
        .arg(d.path())
        .arg("-o")
        .arg(d.path().join("merged"))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("nothing merged") && err.contains("skipped"), "{err}");
}

/// The envelope's timestamps span the work: a bench of a 1 s program records at least 1 s (it
/// recorded microseconds, stamped when the payload was wrapped).
#[test]
fn the_envelope_spans_the_work_it_records() {
    let d = tempfile::tempdir().unwrap();
    let out = d.path().join("bench.json");
    let o = archbench()
        .args(["bench", "/bin/sleep", "--runs", "1", "--no-check", "--no-pin", "-o"])
        .arg(&out)
        .args(["--", "1"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    let at = |k: &str| v[k].as_str().unwrap().parse::<jiff::Timestamp>().unwrap();
    let span = at("finished_at").duration_since(at("started_at")).as_secs_f64();
    let walls: f64 = v["payload"][0]["samples"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["wall"].as_f64().unwrap())
        .sum();
    assert!(walls >= 1.0 && span >= walls, "span {span} s, runs {walls} s");
}
