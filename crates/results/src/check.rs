//! What a results file's numbers may be. A file is JSON anyone can edit, and a time of `1e308`
//! or `-3` passes the parser; added up or divided later it became `inf` and `NaN` and reached a
//! recommendation ("$NaN/month"). [`Checked::check`] runs when a file is read, so a file with
//! such a number is refused (or skipped, in a results directory) naming the field.
//!
//! The ranges: every time is within 0 to [`MAX_SECONDS`] (about 116 days: no bench sample or
//! build runs longer), every ratio within 0 to [`MAX_RATIO`].

use crate::bench::{Cell, Sample, Summary};
use crate::build::{BuildReport, BuildRun};

/// The longest time a results file may hold, seconds.
pub const MAX_SECONDS: f64 = 1e7;
/// The largest ratio (slowdown, work over native) a results file may hold.
pub const MAX_RATIO: f64 = 1e6;

/// A payload whose numbers can be checked against the ranges above.
pub trait Checked {
    /// `Err` names the first field out of range, as `where: name value`.
    fn check(&self) -> Result<(), String>;
}

/// A number as an error shows it: `1e308` rather than its 309 digits.
pub fn shown(v: f64) -> String {
    if v != 0.0 && v.is_finite() && !(1e-3..1e6).contains(&v.abs()) {
        format!("{v:e}")
    } else {
        v.to_string()
    }
}

fn in_range(name: &str, v: f64, max: f64, unit: &str) -> Result<(), String> {
    if v.is_finite() && (0.0..=max).contains(&v) {
        Ok(())
    } else {
        Err(format!("{name} is {}, outside 0 to {max:e}{unit}", shown(v)))
    }
}

fn seconds(name: &str, v: f64) -> Result<(), String> {
    in_range(name, v, MAX_SECONDS, " seconds")
}

fn sample(s: &Sample) -> Result<(), String> {
    seconds("wall", s.wall)?;
    seconds("user", s.user)?;
    seconds("sys", s.sys)?;
    if let Some(v) = s.startup {
        seconds("startup", v)?;
    }
    if let Some(w) = &s.wasm {
        seconds("wasm.compile", w.compile)?;
        seconds("wasm.instantiate", w.instantiate)?;
        seconds("wasm.run", w.run)?;
    }
    Ok(())
}

fn summary(s: &Summary) -> Result<(), String> {
    for (name, v) in [
        ("median", s.median),
        ("mean", s.mean),
        ("stddev", s.stddev),
        ("mad", s.mad),
        ("min", s.min),
        ("max", s.max),
    ] {
        seconds(&format!("wall.{name}"), v)?;
    }
    Ok(())
}

fn cell(c: &Cell) -> Result<(), String> {
    if let Some(v) = c.compile_seconds {
        seconds("compile_seconds", v)?;
    }
    if let Some(w) = &c.wall {
        summary(w)?;
    }
    if let Some((r, (lo, hi))) = c.slowdown {
        for (name, v) in [("slowdown", r), ("slowdown low", lo), ("slowdown high", hi)] {
            in_range(name, v, MAX_RATIO, "")?;
        }
    }
    for (i, s) in c.samples.iter().enumerate() {
        sample(s).map_err(|e| format!("sample {}: {e}", i + 1))?;
    }
    Ok(())
}

impl Checked for Vec<Cell> {
    fn check(&self) -> Result<(), String> {
        for (i, c) in self.iter().enumerate() {
            cell(c).map_err(|e| {
                format!("cell {} ({} {}, {}): {e}", i + 1, c.workload, c.size, c.runner)
            })?;
        }
        Ok(())
    }
}

fn run(r: &BuildRun) -> Result<(), String> {
    seconds("seconds", r.seconds)?;
    seconds("work_seconds", r.work_seconds)?;
    for st in &r.stages {
        seconds(&format!("stage {} seconds", st.name), st.seconds)?;
        for step in &st.steps {
            seconds(&format!("stage {} step {} seconds", st.name, step.number), step.seconds)?;
        }
    }
    for v in &r.vertices {
        seconds(&format!("vertex {:?} start", v.name), v.start)?;
        seconds(&format!("vertex {:?} end", v.name), v.end)?;
    }
    if let Some(t) = &r.timeline {
        seconds("timeline wall", t.wall)?;
        seconds("timeline steps_sum", t.steps_sum)?;
        seconds("timeline critical_path", t.critical_path)?;
    }
    Ok(())
}

impl Checked for BuildReport {
    fn check(&self) -> Result<(), String> {
        for r in &self.runs {
            run(r).map_err(|e| format!("run {} {}: {e}", r.platform, r.strategy))?;
        }
        for r in &self.ratios {
            in_range(&format!("ratio of {} {}", r.platform, r.strategy), r.ratio, MAX_RATIO, "")?;
        }
        Ok(())
    }
}

/// Payloads without times (tests, the plan and report outputs read back as JSON).
macro_rules! unchecked {
    ($($t:ty),*) => { $(impl Checked for $t { fn check(&self) -> Result<(), String> { Ok(()) } })* };
}
unchecked!((), serde_json::Value, Vec<u32>, Vec<f64>);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_take_zero_and_the_limit_and_refuse_the_rest() {
        assert!(seconds("wall", 0.0).is_ok());
        assert!(seconds("wall", MAX_SECONDS).is_ok());
        for bad in [-0.5, 1e308, f64::INFINITY, f64::NAN, MAX_SECONDS * 1.01] {
            let e = seconds("wall", bad).unwrap_err();
            assert!(e.starts_with("wall is ") && e.contains("outside 0 to 1e7 seconds"), "{e}");
        }
    }
}
