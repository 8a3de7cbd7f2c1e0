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

/// hyperfine's CSV: `command,mean,stddev,median,user,system,min,max`.
pub fn csv(export: &HyperfineExport) -> String {
    let mut out = String::from("command,mean,stddev,median,user,system,min,max\n");
    for r in &export.results {
        let command = if r.command.contains([',', '"', '\n']) {
            format!("\"{}\"", r.command.replace('"', "\"\""))
        } else {
            r.command.clone()
        };
        out.push_str(&format!(
            "{command},{},{},{},{},{},{},{}\n",
            r.mean, r.stddev, r.median, r.user, r.system, r.min, r.max
        ));
    }
    out
}

/// hyperfine's Markdown table: mean ± σ, min and max in one unit (ms below a second, else s),
/// and each command relative to the fastest, with the error propagated as hyperfine does.
pub fn markdown(export: &HyperfineExport) -> String {
    let slowest = export.results.iter().map(|r| r.mean).fold(0.0, f64::max);
    let (unit, scale) = if slowest < 1.0 { ("ms", 1e3) } else { ("s", 1.0) };
    let mut out = format!(
        "| Command | Mean [{unit}] | Min [{unit}] | Max [{unit}] | Relative |\n|:---|---:|---:|---:|---:|\n"
    );
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
        out.push_str(&format!(
            "| `{}` | {:.1} ± {:.1} | {:.1} | {:.1} | {relative} |\n",
            r.command,
            r.mean * scale,
            r.stddev * scale,
            r.min * scale,
            r.max * scale
        ));
    }
    out
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
}
