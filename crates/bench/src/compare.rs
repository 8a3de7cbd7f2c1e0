//! Comparing two bench runs cell by cell, possibly from different hosts.

use serde::{Deserialize, Serialize};

use crate::stats::ratio_ci;
use crate::suite::{Cell, CellStatus};

/// What changed in one cell.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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

/// A pair of cells with the same workload and runner that measure different things.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Refused {
    /// Workload.
    pub workload: String,
    /// Runner.
    pub runner: String,
    /// What differs (`size 512 against 4096`).
    pub why: String,
}

/// What two runs have in common, and what could not be compared.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Comparison {
    /// Cells valid in both runs and comparable, in the new run's order.
    pub changes: Vec<Change>,
    /// Cells present in both whose [`Cell::comparable`] keys differ: a ratio of their times
    /// would mix a change in what was measured with a change in speed.
    pub refused: Vec<Refused>,
}

/// Match cells by workload and runner; compare those valid in both whose sizes, runner
/// versions and build profiles agree, and list the others with the difference.
pub fn compare(old: &[Cell], new: &[Cell]) -> Comparison {
    let mut out = Comparison::default();
    for n in new.iter().filter(|c| c.status == CellStatus::Ok) {
        let Some(o) = old.iter().find(|o| {
            o.workload == n.workload && o.runner == n.runner && o.status == CellStatus::Ok
        }) else {
            continue;
        };
        if let Some(why) = o.differs_from(n) {
            out.refused.push(Refused {
                workload: n.workload.clone(),
                runner: n.runner.to_string(),
                why,
            });
            continue;
        }
        let (Some(ow), Some(nw)) = (&o.wall, &n.wall) else { continue };
        let Some(ratio) = ratio_ci(&n.walls(), &o.walls()) else { continue };
        let verdict = if ratio.1 .0 > 1.0 {
            "slower"
        } else if ratio.1 .1 < 1.0 {
            "faster"
        } else {
            "no change"
        };
        out.changes.push(Change {
            workload: n.workload.clone(),
            runner: n.runner.to_string(),
            old_median: ow.median,
            new_median: nw.median,
            ratio,
            verdict: verdict.into(),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::suite::tests::cell;

    /// Issue 13: a `--quick` file against a full one used to print "7.67× slower" for every
    /// cell. The sizes differ, so nothing is compared and the difference is named.
    #[test]
    fn cells_of_different_sizes_are_refused_not_compared() {
        let old = [cell("native", "x", &[0.010, 0.011, 0.012])];
        let mut new = [cell("native", "x", &[0.080, 0.081, 0.082])];
        new[0].size = 8;
        let c = compare(&old, &new);
        assert!(c.changes.is_empty());
        assert_eq!(c.refused.len(), 1);
        assert_eq!(c.refused[0].why, "size 1 against 8");

        new[0].size = 1;
        let c = compare(&old, &new);
        assert!(c.refused.is_empty());
        assert_eq!(c.changes[0].verdict, "slower");
        assert!((c.changes[0].ratio.0 - 81.0 / 11.0).abs() < 1e-9);
    }
}
