//! `archbench report` (the main job) and `plan`, end to end, with the page opened in Chromium.

use std::path::Path;
use std::process::Command;

use crate::support::{archbench, json, BinfmtLock};

/// Open `index.html` in headless Chromium: every chart image must have loaded and no resource
/// may have come from anywhere but the page itself. A copy of the page gets a probe script (the
/// report's own policy forbids scripts); the screenshot of the real page is kept.
fn check_in_chromium(dir: &Path) {
    let chromium = ["chromium", "chromium-browser"]
        .into_iter()
        .find(|c| Command::new(c).arg("--version").output().is_ok_and(|o| o.status.success()))
        .expect("chromium is missing: install chromium (scripts/setup does)");
    let html = std::fs::read_to_string(dir.join("index.html")).unwrap();
    let probe = r#"<script>addEventListener('load', () => {
  const imgs = [...document.images];
  const ok = imgs.length > 0 && imgs.every(i => i.complete && i.naturalWidth > 0);
  const external = performance.getEntriesByType('resource').map(e => e.name).filter(n => !n.startsWith('data:'));
  document.body.setAttribute('data-probe', JSON.stringify({ images: imgs.length, ok, external }));
});</script></body>"#;
    let probed = html
        .replace("default-src 'none';", "default-src 'none'; script-src 'unsafe-inline';")
        .replace("</body>", probe);
    std::fs::write(dir.join("probe.html"), probed).unwrap();
    let flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--virtual-time-budget=5000",
    ];
    let out = Command::new(chromium)
        .args(flags)
        .arg("--dump-dom")
        .arg(format!("file://{}", dir.join("probe.html").display()))
        .output()
        .unwrap();
    let dom = String::from_utf8_lossy(&out.stdout);
    let start = dom.find("data-probe=\"").unwrap_or_else(|| {
        panic!("the probe did not run:\n{}", String::from_utf8_lossy(&out.stderr))
    });
    let rest = &dom[start + 12..];
    let probe: serde_json::Value =
        serde_json::from_str(&rest[..rest.find('"').unwrap()].replace("&quot;", "\"")).unwrap();
    assert_eq!(probe["ok"], true, "every chart image loads: {probe}");
    assert!(probe["images"].as_u64().unwrap() >= 5, "{probe}");
    assert_eq!(probe["external"], serde_json::json!([]), "no request leaves the page: {probe}");
    // The screenshot of the page as shipped, kept as a test artifact.
    let artifacts = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/test-artifacts");
    std::fs::create_dir_all(&artifacts).unwrap();
    let shot = artifacts.join("report.png");
    let _ = std::fs::remove_file(&shot);
    let out = Command::new(chromium)
        .args(flags)
        .arg(format!("--screenshot={}", shot.display()))
        .arg("--window-size=1000,3000")
        .arg(format!("file://{}", dir.join("index.html").display()))
        .output()
        .unwrap();
    assert!(
        shot.is_file() && std::fs::metadata(&shot).unwrap().len() > 10_000,
        "no screenshot: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn quick_main_job_writes_a_complete_report() {
    let _emu = BinfmtLock::shared();
    let dir = tempfile::tempdir().unwrap();
    let out = archbench()
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["report", "--quick", "-o"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "report failed:\n{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(!stdout.contains("note: bench skipped") && !stdout.contains("note: build"), "{stdout}");
    for chart in [
        "slowdown",
        "wasm-split",
        "build-stages",
        "build-timeline",
        "build-stages-wasm",
        "cost-curves",
        "sensitivity",
        "runtime-cost",
    ] {
        for ext in ["svg", "png"] {
            let f = dir.path().join(format!("charts/{chart}.{ext}"));
            assert!(f.is_file() && std::fs::metadata(&f).unwrap().len() > 1000, "{}", f.display());
        }
    }
    let plan: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("plan.json")).unwrap()).unwrap();
    let names: Vec<&str> = plan["payload"]["options"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["option"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "emulate",
            "emulate-matrix",
            "cross",
            "cross-matrix",
            "native-arm64-hosted",
            "native-arm64-self-hosted",
            "wasm"
        ]
    );
    assert!(plan["payload"]["recommendation"][0].as_str().unwrap().starts_with("build with"));
    // The build factors were measured by this run, the arm64 runtime speed cannot be.
    assert_eq!(plan["payload"]["factors"]["emulated"]["basis"], "measured");
    assert_eq!(plan["payload"]["factors"]["arm64_runtime"]["basis"], "modelled");
    let summary = std::fs::read_to_string(dir.path().join("summary.md")).unwrap();
    assert!(summary.contains("Modelled, not measured"), "{summary}");
    // Issue 16: BuildKit ran the builds, and a warm rebuild after a one-line change followed.
    assert!(summary.contains("| linux/arm64 | emulated | BuildKit |"), "{summary}");
    assert!(summary.contains("Cold builds against warm rebuilds"), "{summary}");
    assert!(summary.contains("The classic builder against BuildKit"), "{summary}");
    // Issue 19: an index with a Wasm entry was built; the Wasm build factor is measured from
    // it, and each host kind's entry is named, measured here (amd64) or labelled modelled.
    assert_eq!(plan["payload"]["factors"]["wasm_build"]["basis"], "measured");
    assert!(
        plan["payload"]["factors"]["wasm_build"]["from"]
            .as_str()
            .unwrap()
            .contains("build-wasm.json"),
        "{}",
        plan["payload"]["factors"]["wasm_build"]
    );
    assert!(summary.contains("| linux/amd64 | linux/amd64 | native | 1× |"), "{summary}");
    // --quick builds no arm64 entry: the arm64 and arm/v7 hosts run the Wasm module, at a
    // slowdown measured on this amd64 host and labelled modelled for theirs.
    for host in ["linux/arm64", "linux/arm/v7"] {
        let row =
            summary.lines().find(|l| l.starts_with(&format!("| {host} | wasi/wasm | wasm |")));
        assert!(
            row.is_some_and(|r| r.contains("modelled: measured on linux/amd64")),
            "{host}: {summary}"
        );
    }
    let warm: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("build-warm.json")).unwrap())
            .unwrap();
    assert_eq!(warm["payload"]["warm"], true);
    // Before the changed file everything came from the cache; the compile ran again.
    let run = &warm["payload"]["runs"][0];
    let vertex = |needle: &str| {
        run["vertices"]
            .as_array()
            .unwrap()
            .iter()
            .find(|v| v["name"].as_str().unwrap().contains(needle))
            .unwrap_or_else(|| panic!("no {needle} vertex: {run:#}"))
            .clone()
    };
    assert_eq!(vertex("apt-get")["cached"], true, "{run:#}");
    assert_eq!(vertex("make -j")["cached"], false, "{run:#}");
    check_in_chromium(dir.path());
}

#[test]
fn missing_results_are_said_and_modelled() {
    let dir = tempfile::tempdir().unwrap();
    let out = archbench().args(["report", "--render-only", "-o"]).arg(dir.path()).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("note: no bench results") && stdout.contains("note: no build results"),
        "{stdout}"
    );
    assert!(dir.path().join("charts/cost-curves.svg").is_file());
    assert!(!dir.path().join("charts/slowdown.svg").exists());
    let html = std::fs::read_to_string(dir.path().join("index.html")).unwrap();
    assert!(html.contains("no build results"));
}

#[test]
fn plan_json_and_a_changed_price_file() {
    let dir = tempfile::tempdir().unwrap();
    let plan = |pricing: Option<&Path>| {
        let mut c = archbench();
        c.args(["plan", "--json", "--builds-per-month", "3000", "--results"]).arg(dir.path());
        if let Some(p) = pricing {
            c.arg("--pricing").arg(p);
        }
        json(&c.output().unwrap())
    };
    let base = plan(None);
    assert_eq!(base["kind"], "plan");
    let first = base["payload"]["recommendation"][0].as_str().unwrap().to_owned();
    assert!(first.starts_with("build with native-arm64-self-hosted"), "{first}");
    // Make the self-hosted Graviton worker dear: hosted arm64 runners win instead.
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/pricing.toml"),
    )
    .unwrap();
    let dear = dir.path().join("dear.toml");
    std::fs::write(&dear, text.replace("price = 0.0725", "price = 2.0")).unwrap();
    let other = plan(Some(&dear));
    assert!(
        other["payload"]["recommendation"][0]
            .as_str()
            .unwrap()
            .starts_with("build with native-arm64-hosted"),
        "{other}"
    );
    // A broken price file is an error naming the file.
    std::fs::write(&dear, "[entries.x]\nkind = 'runner'\n").unwrap();
    let out = archbench().args(["plan", "--pricing"]).arg(&dear).output().unwrap();
    assert!(!out.status.success() && String::from_utf8_lossy(&out.stderr).contains("dear.toml"));
    // A negative price is refused with its line.
    std::fs::write(&dear, text.replace("price = 0.0725", "price = -0.0725")).unwrap();
    let out = archbench().args(["plan", "--pricing"]).arg(&dear).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && err.contains("line 26: entry c7g-large: price -0.0725"),
        "{err}"
    );
}

/// Issue 26 through the CLI: a CI plan's included minutes pay for the runners it covers only,
/// a factor of the user's is labelled given, a pending charge is named and priced on request,
/// and bad flags are refused with what to give.
#[test]
fn billing_flags_given_factors_and_pending_changes() {
    let empty = tempfile::tempdir().unwrap();
    let plan = |extra: &[&str]| {
        let mut c = archbench();
        c.args(["plan", "--json", "--date", "2026-06-01", "--results"]).arg(empty.path());
        json(&c.args(extra).output().unwrap())
    };
    let total = |p: &serde_json::Value, o: &str| {
        p["payload"]["options"].as_array().unwrap().iter().find(|c| c["option"] == o).unwrap()
            ["total_monthly"]
            .as_f64()
            .unwrap()
    };
    // 50 builds, GitHub Free: hosted arm64 pays its 500 arm64 minutes ($2.50), x64 included.
    let p = plan(&["--builds-per-month", "50", "--ci-plan", "github-free"]);
    assert!((total(&p, "native-arm64-hosted") - 2.5).abs() < 1e-9, "{p:#}");
    assert_eq!(p["payload"]["included"]["minutes"], 2000.0);
    // --free-minutes alone: the catalog's plans say which runners (x64 only).
    let p = plan(&["--builds-per-month", "50", "--free-minutes", "100000"]);
    assert!((total(&p, "native-arm64-hosted") - 2.5).abs() < 1e-9, "{p:#}");
    // A given factor replaces the modelled one and says so.
    let p = plan(&["--factor", "arm64-build=1.5:1.2..1.9"]);
    let f = &p["payload"]["factors"]["arm64_build"];
    assert_eq!((f["basis"].as_str(), f["value"].as_f64()), (Some("given"), Some(1.5)), "{f}");
    // The pending self-hosted charge: named, and $8 more at 400 builds when assumed.
    let now = plan(&[]);
    let assumed = plan(&["--assume-pending"]);
    let d = total(&assumed, "native-arm64-self-hosted") - total(&now, "native-arm64-self-hosted");
    assert!((d - 8.0).abs() < 1e-9, "{d}");
    let out = archbench()
        .args(["plan", "--date", "2026-06-01", "--results"])
        .arg(empty.path())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("pending change not priced: github-self-hosted"), "{text}");
    for (args, want) in [
        (&["--factor", "speed=2"][..], "no factor \"speed\""),
        (
            &["--ci-plan", "github-gold"][..],
            "no CI plan github-gold in the pricing catalog; plans: github-enterprise-cloud",
        ),
        (&["--margin-usd=-1"][..], "--margin-usd must be a number from 0"),
    ] {
        let out =
            archbench().arg("plan").args(args).arg("--results").arg(empty.path()).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success() && err.contains(want), "{args:?}: {err}");
    }
    let out =
        archbench().args(["plan", "--check-prices", "--date", "2026-06-01"]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("pending") && text.contains("plan github-free"), "{text}");
}

/// The regression of issue 14 through the CLI: from the example report of November 2026
/// (`fixtures/results/v1-2026-11`, schema version 1), the plan recommends the
/// hosted native arm64 runners (cheaper and faster than cross), prices every option, and the
/// report renders the cost curves and the sensitivity chart, which load in Chromium.
#[test]
fn example_results_render_every_option_and_the_sensitivity_chart() {
    let dir = tempfile::tempdir().unwrap();
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/results/v1-2026-11");
    for f in ["bench.json", "build.json"] {
        std::fs::copy(example.join(f), dir.path().join(f)).unwrap();
    }
    let out = archbench()
        .args(["report", "--render-only", "--date", "2026-11-28", "-o"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("→ build with native-arm64-hosted at 400 builds/month: $46.40/month, 10.5 min per build"),
        "{stdout}"
    );
    assert!(stdout.contains("cross is within 5% ($48.00/month)"), "{stdout}");
    let plan: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("plan.json")).unwrap()).unwrap();
    let wasm = &plan["payload"]["factors"]["wasm_runtime"];
    assert_eq!(wasm["excluded"][0]["workload"], "startup", "{wasm}");
    assert_eq!(plan["payload"]["sensitivity"].as_array().unwrap().len(), 6);
    for chart in ["cost-curves", "sensitivity"] {
        let svg = std::fs::read_to_string(dir.path().join(format!("charts/{chart}.svg"))).unwrap();
        assert!(svg.contains("native-arm64-hosted"), "{chart} names the recommended option");
    }
    let html = std::fs::read_to_string(dir.path().join("index.html")).unwrap();
    for want in [
        "Every way to build",
        "Sensitivity",
        "native-arm64-self-hosted",
        "unavailable",
        "<h2>Bench results per host</h2>",
        "<h2>Builds</h2>",
        "<td class=\"n\">6.35× linux/amd64</td>",
    ] {
        assert!(html.contains(want), "{want}");
    }
    check_in_chromium(dir.path());
}

#[test]
fn check_prices_lists_entries_and_warns_about_old_ones() {
    let out =
        archbench().args(["plan", "--check-prices", "--date", "2026-11-28"]).output().unwrap();
    assert!(out.status.success());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("github-linux-2core-x64") && stdout.contains("2026-01-01"), "{stdout}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("warning: c7i-large was read 2025-01 (22 months before 2026-11-28)"),
        "{stderr}"
    );
    let out =
        archbench().args(["plan", "--check-prices", "--date", "2025-06-01"]).output().unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).is_empty());
}

/// Issue 18 (silent skips): a missing results directory is an error, and a corrupt results file
/// is named with the reason by `plan` and in the report, never read as "no results".
#[test]
fn missing_and_corrupt_results_are_said() {
    let out = archbench().args(["plan", "--results", "/nonexistent/results"]).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("/nonexistent/results"), "{err}");

    let dir = tempfile::tempdir().unwrap();
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/results/v1-2026-11");
    std::fs::copy(example.join("build.json"), dir.path().join("build.json")).unwrap();
    let bench = std::fs::read(example.join("bench.json")).unwrap();
    std::fs::write(dir.path().join("bench.json"), &bench[..bench.len() / 2]).unwrap();
    let out = archbench().args(["plan", "--json", "--results"]).arg(dir.path()).output().unwrap();
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bench.json: not a valid results file"), "{err}");
    let plan = json(&out);
    let skipped = plan["payload"]["skipped_inputs"].as_array().unwrap();
    assert_eq!(skipped.len(), 1, "{skipped:?}");
    // The build file was still read: its factors are measured.
    assert_eq!(plan["payload"]["factors"]["emulated"]["basis"], "measured");

    let out = archbench().args(["report", "--render-only", "-o"]).arg(dir.path()).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("note: skipped") && stdout.contains("bench.json: not a valid results file"),
        "{stdout}"
    );
    // A second render reads the first one's plan.json and report.json quietly: they are
    // archbench's outputs, not broken inputs.
    let out = archbench().args(["report", "--render-only", "-o"]).arg(dir.path()).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(stdout.matches("note: skipped").count(), 1, "{stdout}");

    // Rendering without -o renders reports/latest, and says so when there is none.
    let empty = tempfile::tempdir().unwrap();
    let out =
        archbench().current_dir(empty.path()).args(["report", "--render-only"]).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("nothing to render: reports/latest"), "{err}");
    assert!(!empty.path().join("reports").exists(), "no empty report directory is made");
}

/// Issue 18 (interrupts): an interrupted report passes the interrupt to the step in progress
/// (bench saves what it has), starts no further step, renders what exists and exits 130.
/// The interrupt goes to the report's whole process group, as a Ctrl-C at a terminal does: the
/// step, in a group of its own, must get it once (from the report), not twice (a second
/// interrupt would stop it without saving).
#[test]
fn an_interrupted_report_renders_what_it_has() {
    use std::os::unix::process::CommandExt as _;
    let _emu = BinfmtLock::shared();
    let dir = tempfile::tempdir().unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_archbench"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["report", "--quick", "-o"])
        .arg(dir.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .process_group(0)
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(300);
    while !dir.path().join("logs/bench.log").exists() {
        assert!(std::time::Instant::now() < deadline, "the bench step never started");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    std::thread::sleep(std::time::Duration::from_secs(1));
    // SAFETY: signalling our own child's group, the child not yet waited for, so the group
    // id (its pid) is still its own.
    unsafe { libc::killpg(child.id() as i32, libc::SIGINT) };
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(130), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("note: interrupted"), "{stdout}");
    assert!(dir.path().join("index.html").is_file(), "the partial report is rendered");
    assert!(!dir.path().join("logs/build.log").exists(), "no step starts after the interrupt");
    let bench_log = std::fs::read_to_string(dir.path().join("logs/bench.log")).unwrap();
    assert!(bench_log.contains("interrupted"), "the bench step was interrupted: {bench_log}");
    // Once: the step saved its cells (a second interrupt would have stopped it before this).
    assert!(bench_log.contains("completed cells written to"), "{bench_log}");
    assert!(dir.path().join("bench.json").is_file(), "{bench_log}");
}

/// Issue 15 (item 1): results from two hosts merge into one directory plan reads; the same run
/// claimed twice is refused with both files named.
#[test]
fn results_from_two_hosts_merge_and_a_run_claimed_twice_is_refused() {
    let example =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/results/v1-2026-11/bench.json");
    let (a, b, out) =
        (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    std::fs::copy(&example, a.path().join("bench.json")).unwrap();
    let mut other: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&example).unwrap()).unwrap();
    other["host"]["hostname"] = "graviton".into();
    other["host"]["platform"] = "linux/arm64".into();
    other["host"]["emulated"] = false.into();
    std::fs::write(b.path().join("bench.json"), other.to_string()).unwrap();
    let merged = out.path().join("merged");
    let o = archbench()
        .args(["results", "merge"])
        .arg(a.path())
        .arg(b.path())
        .arg("-o")
        .arg(&merged)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let names: Vec<String> = std::fs::read_dir(&merged)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names.len(), 2, "{names:?}");
    assert!(names.iter().any(|n| n.starts_with("bench-linux-arm64-graviton-")), "{names:?}");
    let plan = archbench().args(["plan", "--json", "--results"]).arg(&merged).output().unwrap();
    assert!(plan.status.success());

    std::fs::copy(&example, b.path().join("again.json")).unwrap();
    let o = archbench()
        .args(["results", "merge"])
        .arg(a.path())
        .arg(b.path())
        .arg("-o")
        .arg(out.path().join("m2"))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains("again.json") && err.contains("are both the bench from linux/amd64-vm"),
        "{err}"
    );
}
