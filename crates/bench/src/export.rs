//! Results in hyperfine's export formats (`--export-json`, `--export-csv`, `--export-markdown`),
//! field for field as hyperfine 1.15 writes them, so scripts written for hyperfine read
//! archbench's runs. A command is named `<program> [<runner>]`. Only cells that measured
//! something are exported: hyperfine stops at a failing command, so its files never hold one.

use serde::Serialize;

use archbench_results::bench::{Cell, Outcome};

/// One command, as hyperfine's JSON has it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HyperfineResult {
    /// `sha256 [qemu:linux/arm64]`.
    pub command: String,
    /// Mean wall seconds.
    pub mean: f64,
    /// Sample standard deviation.
    pub stddev: f64,
    /// Median.
    pub median: f64,
    /// Mean user CPU seconds.
    pub user: f64,
    /// Mean system CPU seconds.
    pub system: f64,
    /// Smallest.
    pub min: f64,
    /// Largest.
    pub max: f64,
    /// Every wall time.
    pub times: Vec<f64>,
    /// Every exit code.
    pub exit_codes: Vec<i32>,
}

/// hyperfine's JSON document: `{"results": [...]}`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HyperfineExport {
    /// One entry per exported cell.
    pub results: Vec<HyperfineResult>,
}

/// The exported commands, in cell order.
pub fn results(cells: &[Cell]) -> HyperfineExport {
    let results = cells
        .iter()
        .filter(|c| c.ok())
        .filter_map(|c| {
            let w = c.wall.as_ref()?;
            let n = c.samples.len().max(1) as f64;
            Some(HyperfineResult {
                command: format!("{} [{}]", c.workload, c.runner),
                mean: w.mean,
                stddev: w.stddev,
                median: w.median,
                user: c.samples.iter().map(|s| s.user).sum::<f64>() / n,
                system: c.samples.iter().map(|s| s.sys).sum::<f64>() / n,
                min: w.min,
                max: w.max,
                times: c.walls(),
                exit_codes: c
                    .samples
                    .iter()
                    .map(|s| match s.outcome {
                        Outcome::Exited { code } => code,
                        _ => -1,
                    })
                    .collect(),
            })
        })
        .collect();
    HyperfineExport { results }
}

/// hyperfine's CSV: `command,mean,stddev,median,user,system,min,max`, written (and quoted
/// where a field needs it) by the csv crate, as hyperfine does.
pub fn csv(export: &HyperfineExport) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut put = |fields: &[String]| {
        // Writing to a Vec cannot fail.
        let _ = w.write_record(fields);
    };
    put(&["command", "mean", "stddev", "median", "user", "system", "min", "max"].map(String::from));
    for r in &export.results {
        let numbers = [r.mean, r.stddev, r.median, r.user, r.system, r.min, r.max];
        let mut fields = vec![r.command.clone()];
        fields.extend(numbers.iter().map(f64::to_string));
        put(&fields);
    }
    let bytes = w.into_inner().unwrap_or_default();
    String::from_utf8(bytes).unwrap_or_default()
}

/// hyperfine's Markdown table: mean ± σ, min and max in one unit (ms below a second, else s),
/// and each command relative to the fastest, with the error propagated as hyperfine does.
pub fn markdown(export: &HyperfineExport) -> String {
    let slowest = export.results.iter().map(|r| r.mean).fold(0.0, f64::max);
    let (unit, scale) = if slowest < 1.0 { ("ms", 1e3) } else { ("s", 1.0) };
    let headers = [
        "Command".to_owned(),
        format!("Mean [{unit}]"),
        format!("Min [{unit}]"),
        format!("Max [{unit}]"),
        "Relative".to_owned(),
    ];
    let mut rows = Vec::new();
    let fastest = export.results.iter().min_by(|a, b| a.mean.total_cmp(&b.mean));
    for r in &export.results {
        let relative = match fastest {
            Some(f) if std::ptr::eq(f, r) => "1.00".to_owned(),
            Some(f) => {
                let ratio = r.mean / f.mean;
                let err =
                    ratio * ((r.stddev / r.mean).powi(2) + (f.stddev / f.mean).powi(2)).sqrt();
                format!("{ratio:.2} ± {err:.2}")
            }
            None => String::new(),
        };
        rows.push(vec![
            format!("`{}`", r.command),
            format!("{:.1} ± {:.1}", r.mean * scale, r.stddev * scale),
            format!("{:.1}", r.min * scale),
            format!("{:.1}", r.max * scale),
            relative,
        ]);
    }
    let headers: Vec<&str> = headers.iter().map(String::as_str).collect();
    archbench_results::markdown::table(&headers, &[false, true, true, true, true], &rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::suite::tests::cell;

    /// The fields and layouts hyperfine 1.15 writes (checked against its own exports of
    /// `true` and `sleep 0.01`).
    #[test]
    fn hyperfine_formats() {
        let cells = [
            cell("native", "s", &[0.001, 0.002, 0.003]),
            cell("wasm:winch", "s", &[0.004, 0.004, 0.004]),
        ];
        let e = results(&cells);
        let json = serde_json::to_value(&e).unwrap();
        let keys: Vec<&String> = json["results"][0].as_object().unwrap().keys().collect();
        for k in [
            "command",
            "mean",
            "stddev",
            "median",
            "user",
            "system",
            "min",
            "max",
            "times",
            "exit_codes",
        ] {
            assert!(keys.iter().any(|x| *x == k), "{k} in {keys:?}");
        }
        assert_eq!(json["results"][0]["command"], "sha256 [native]");
        assert_eq!(json["results"][1]["exit_codes"], serde_json::json!([0, 0, 0]));
        let c = csv(&e);
        assert!(
            c.starts_with("command,mean,stddev,median,user,system,min,max\nsha256 [native],0.002,"),
            "{c}"
        );
        let m = markdown(&e);
        assert!(m.starts_with("| Command | Mean [ms] | Min [ms] | Max [ms] | Relative |\n|:---|---:|---:|---:|---:|\n"), "{m}");
        assert!(m.contains("| `sha256 [native]` | 2.0 ± 1.0 | 1.0 | 3.0 | 1.00 |"), "{m}");
        assert!(
            m.contains("| `sha256 [wasm:winch]` | 4.0 ± 0.0 | 4.0 | 4.0 | 2.00 ± 1.00 |"),
            "{m}"
        );
    }

    /// A command holding a comma, a quote or a pipe stays one field and one cell.
    #[test]
    fn awkward_commands_are_quoted_and_escaped() {
        let mut e = results(&[cell("native", "s", &[0.001, 0.002, 0.003])]);
        e.results[0].command = "sh -c \"a, b | c\"".into();
        let c = csv(&e);
        assert!(c.contains("\n\"sh -c \"\"a, b | c\"\"\",0.002,"), "{c}");
        let m = markdown(&e);
        assert!(m.contains("| `sh -c \"a, b \\| c\"` | 2.0 ± 1.0 |"), "{m}");
    }
}
