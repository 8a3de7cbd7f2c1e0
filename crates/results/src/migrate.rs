//! Reading files written by earlier schema versions.
//!
//! A migration is a function from one version's JSON to the next one's, applied in order until
//! the file is at [`SCHEMA_VERSION`](crate::SCHEMA_VERSION). Migrations work on the JSON tree,
//! not on old Rust types, so the old types need not be kept. A file of a *newer* version than
//! this build knows is refused: guessing at fields it does not know would be worse.
//!
//! Version 2 (this build) changed, against version 1:
//! * bench cells gained `runner_version` and `profile`. A version-1 file took its runner
//!   versions from the host facts (`qemu_version`, `wasmtime_version`), which the migration
//!   copies into each cell, and always built the workloads with `--release`.
//! * a bench cell's `status` is always the tagged object (`{"kind":"ok"}`); very early files
//!   wrote the string `"ok"`.
//! * build runs gained `builder` (version 1 only had the classic builder), and a ratio's
//!   free-text `label` (`linux/arm64 emulated / native linux/amd64`) became the typed fields
//!   `strategy` and `against`.

use serde_json::Value;

/// Bring `file` (a whole envelope of `kind`) from `version` to the current version.
pub fn upgrade(kind: &crate::Kind, version: u32, mut file: Value) -> Result<Value, String> {
    let mut v = version;
    while v < crate::SCHEMA_VERSION {
        match (v, kind) {
            (1, crate::Kind::Bench) => bench_1_to_2(&mut file)?,
            (1, crate::Kind::Build) => build_1_to_2(&mut file)?,
            // Other kinds (plan, report, identify, …) are outputs nobody reads back as input.
            (1, _) => {}
            _ => return Err(format!("no migration from schema {v} for {kind} files")),
        }
        v += 1;
    }
    file["schema_version"] = crate::SCHEMA_VERSION.into();
    Ok(file)
}

fn bench_1_to_2(file: &mut Value) -> Result<(), String> {
    let host = file.get("host").cloned().unwrap_or(Value::Null);
    let fact = |k: &str| host.get(k).and_then(Value::as_str).map(str::to_owned);
    let cells = file
        .get_mut("payload")
        .and_then(Value::as_array_mut)
        .ok_or("a bench payload is a list of cells")?;
    for c in cells {
        let runner = c.get("runner").and_then(Value::as_str).unwrap_or("").to_owned();
        let version = if runner.starts_with("qemu:") {
            fact("qemu_version")
        } else if runner.starts_with("wasm:") {
            fact("wasmtime_version").map(|v| format!("wasmtime {v}"))
        } else {
            None
        };
        let Some(obj) = c.as_object_mut() else { return Err("a bench cell is an object".into()) };
        obj.entry("runner_version").or_insert(version.map_or(Value::Null, Value::String));
        obj.entry("profile").or_insert("release".into());
        if obj.get("status").and_then(Value::as_str) == Some("ok") {
            obj.insert("status".into(), serde_json::json!({ "kind": "ok" }));
        }
    }
    Ok(())
}

fn build_1_to_2(file: &mut Value) -> Result<(), String> {
    let payload = file.get_mut("payload").ok_or("a build file has a payload")?;
    if let Some(runs) = payload.get_mut("runs").and_then(Value::as_array_mut) {
        for r in runs.iter_mut().filter_map(Value::as_object_mut) {
            r.entry("builder").or_insert("classic".into());
        }
    }
    if let Some(ratios) = payload.get_mut("ratios").and_then(Value::as_array_mut) {
        for r in ratios.iter_mut() {
            let label = r.get("label").and_then(Value::as_str).unwrap_or("").to_owned();
            // `<platform> <strategy> / native <platform>`, as version 1 wrote it.
            let parsed = label.split_once(" / native ").and_then(|(num, against)| {
                let (platform, strategy) = num.rsplit_once(' ')?;
                Some((platform.to_owned(), strategy.to_owned(), against.to_owned()))
            });
            let (platform, strategy, against) =
                parsed.ok_or_else(|| format!("a build ratio label {label:?} is not \"<platform> <strategy> / native <platform>\""))?;
            let obj = r.as_object_mut().ok_or("a build ratio is an object")?;
            obj.remove("label");
            obj.insert("platform".into(), platform.into());
            obj.insert("strategy".into(), strategy.into());
            obj.insert("against".into(), against.into());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::{Cell, CellStatus, RunnerSpec};
    use crate::build::{BuildReport, Builder, StrategyKind};
    use crate::Envelope;

    fn example(name: &str) -> Value {
        let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../fixtures/results/v1-2026-11")
            .join(name);
        serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap()
    }

    /// The example report's files of November 2026 (fixtures/results/v1-2026-11) are version 1; they come out typed, with nothing lost.
    #[test]
    fn version_1_bench_and_build_files_read_as_version_2() {
        let old = example("bench.json");
        assert_eq!(old["schema_version"], 1);
        let new = upgrade(&crate::Kind::Bench, 1, old.clone()).unwrap();
        let env: Envelope<Vec<Cell>> = serde_json::from_value(new).unwrap();
        assert_eq!(env.schema_version, crate::SCHEMA_VERSION);
        assert_eq!(env.payload.len(), old["payload"].as_array().unwrap().len());
        let q = env.payload.iter().find(|c| matches!(c.runner, RunnerSpec::Qemu(_))).unwrap();
        assert!(q.runner_version.as_deref().unwrap().starts_with("qemu-aarch64 version 7.2"));
        let w = env.payload.iter().find(|c| matches!(c.runner, RunnerSpec::Wasm(_))).unwrap();
        assert_eq!(w.runner_version.as_deref(), Some("wasmtime 48.0.8"));
        assert!(env.payload.iter().all(|c| c.profile == "release"));
        assert_eq!(env.payload[0].status, CellStatus::Ok);

        let env: Envelope<BuildReport> =
            serde_json::from_value(upgrade(&crate::Kind::Build, 1, example("build.json")).unwrap())
                .unwrap();
        assert!(env.payload.runs.iter().all(|r| r.builder == Builder::Classic));
        let labels: Vec<String> = env.payload.ratios.iter().map(|r| r.label()).collect();
        assert_eq!(
            labels,
            ["linux/arm64 cross / native linux/amd64", "linux/arm64 emulated / native linux/amd64"]
        );
        assert_eq!(env.payload.ratios[1].strategy, StrategyKind::Emulated);
    }

    #[test]
    fn a_label_that_does_not_parse_is_an_error_naming_it() {
        let mut f = example("build.json");
        f["payload"]["ratios"][0]["label"] = "emulated/native".into();
        let e = upgrade(&crate::Kind::Build, 1, f).unwrap_err();
        assert!(e.contains("\"emulated/native\""), "{e}");
    }

    #[test]
    fn a_very_old_string_status_becomes_the_tagged_one() {
        let mut f = example("bench.json");
        f["payload"][0]["status"] = "ok".into();
        let new = upgrade(&crate::Kind::Bench, 1, f).unwrap();
        assert_eq!(new["payload"][0]["status"], serde_json::json!({"kind": "ok"}));
    }
}
