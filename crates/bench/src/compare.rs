//! Comparing two bench runs cell by cell, possibly from different hosts.

use serde::{Deserialize, Serialize};

use crate::stats::ratio_ci;
use crate::suite::{Cell, CellStatus};

/// What changed in one cell.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Change {
    /// Workload.
    pub workload: String,
    /// Runner.
    pub runner: String,
    /// Old median, seconds.
    pub old_median: f64,
    /// New median, seconds.
    pub new_median: f64,
    /// New over old, with a bootstrap 95% interval.
    pub ratio: (f64, (f64, f64)),
    /// `faster` or `slower` when the interval excludes 1, else `no change`.
    pub verdict: String,
}

/// Cells present and valid in both runs, matched by workload and runner.
pub fn compare(old: &[Cell], new: &[Cell]) -> Vec<Change> {
    let walls = |c: &Cell| c.samples.iter().map(|s| s.wall).collect::<Vec<f64>>();
    let mut out = Vec::new();
    for n in new.iter().filter(|c| c.status == CellStatus::Ok) {
        let Some(o) = old.iter().find(|o| {
            o.workload == n.workload && o.runner == n.runner && o.status == CellStatus::Ok
        }) else {
            continue;
        };
        let (Some(ow), Some(nw)) = (&o.wall, &n.wall) else { continue };
        let Some(ratio) = ratio_ci(&walls(n), &walls(o)) else { continue };
        let verdict = if ratio.1 .0 > 1.0 {
            "slower"
        } else if ratio.1 .1 < 1.0 {
            "faster"
        } else {
            "no change"
        };
        out.push(Change {
            workload: n.workload.clone(),
            runner: n.runner.clone(),
            old_median: ow.median,
            new_median: nw.median,
            ratio,
            verdict: verdict.into(),
        });
    }
    out
}
