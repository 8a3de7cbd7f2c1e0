//! Combining results directories from several hosts into one (`archbench results merge`).
//!
//! Each bench and build file of every input directory (and of the output directory, when it
//! has some already) is read by the one reader ([`crate::dir::load`]), so older schema versions
//! are upgraded and unreadable files are listed with their reason. Every file is identified by
//! its kind, its host (name and platform) and when its run started. Two files that claim the
//! same host and run are refused, with both named: they are either one run copied twice or two
//! runs whose clocks agree to the nanosecond, and counting either twice would weigh that host
//! double. The merged files are written at the current schema version, named by kind, platform,
//! host and start time.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::dir::{load, Skipped};
use crate::{write_atomic, Envelope, Error, HostFacts, Result};

/// What a merge did.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Merged {
    /// The files written, with the file each came from.
    pub written: Vec<(PathBuf, PathBuf)>,
    /// Files not used, with the reason.
    pub skipped: Vec<Skipped>,
    /// Input files already in the output from an earlier merge (the same host and run).
    pub already: Vec<PathBuf>,
}

impl Merged {
    /// Whether the merge read nothing usable: no file was written and none was there already.
    /// The command then fails, listing why each file was skipped.
    pub fn found_nothing(&self) -> bool {
        self.written.is_empty() && self.already.is_empty()
    }
}

fn slug(s: &str) -> String {
    s.chars().map(|c| if c.is_ascii_alphanumeric() || c == '.' { c } else { '-' }).collect()
}

/// The file name a merged envelope gets, and the identity two files may not share.
fn identity<T>(e: &Envelope<T>) -> (String, String) {
    let kind = &e.kind;
    let host = |h: &HostFacts| {
        format!(
            "{}-{}",
            h.platform.as_ref().map(|p| p.to_string()).unwrap_or_else(|| "unknown".into()),
            h.hostname.as_deref().unwrap_or("unknown")
        )
    };
    let id = format!("{kind} from {} started {}", host(&e.host), e.started_at);
    let name = format!("{kind}-{}-{}.json", slug(&host(&e.host)), slug(&e.started_at));
    (id, name)
}

/// Writes one loaded envelope to a path.
type Writer = Box<dyn Fn(&Path) -> Result<()>>;

/// Merge the bench and build files of `inputs` into `out`.
pub fn merge(inputs: &[PathBuf], out: &Path) -> Result<Merged> {
    // The output directory first: its files are an earlier merge, and an input file of the
    // same host and run is that file again, not a second claim.
    let mut dirs: Vec<&Path> = Vec::new();
    if out.is_dir() {
        dirs.push(out);
    }
    dirs.extend(inputs.iter().map(PathBuf::as_path));
    let mut seen: BTreeMap<String, PathBuf> = BTreeMap::new();
    let mut merged = Merged::default();
    let mut plan: Vec<(PathBuf, String, Writer)> = Vec::new();
    for dir in dirs {
        let r = load(dir)?;
        merged.skipped.extend(r.skipped);
        let benches = r.benches.into_iter().map(|(p, e)| {
            let (id, name) = identity(&e);
            let write: Writer = Box::new(move |to| write_atomic(to, &e));
            (p, id, name, write)
        });
        let builds = r.builds.into_iter().map(|(p, e)| {
            let (id, name) = identity(&e);
            let write: Writer = Box::new(move |to| write_atomic(to, &e));
            (p, id, name, write)
        });
        for (path, id, name, write) in benches.chain(builds) {
            if let Some(first) = seen.get(&id) {
                if *first == out.join(&name) {
                    merged.already.push(path);
                    continue;
                }
                return Err(Error::Duplicate { id, first: first.clone(), second: path });
            }
            seen.insert(id, path.clone());
            plan.push((path, name, write));
        }
    }
    std::fs::create_dir_all(out).map_err(|source| Error::Io {
        action: "creating the merged results directory",
        path: out.to_owned(),
        source,
    })?;
    for (from, name, write) in plan {
        let to = out.join(&name);
        if from != to {
            write(&to)?;
            merged.written.push((to, from));
        }
    }
    Ok(merged)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::Cell;

    fn bench(dir: &Path, file: &str, host: &str, started: &str) {
        let mut e: Envelope<Vec<Cell>> = Envelope::begin(
            crate::Kind::Bench,
            HostFacts {
                hostname: Some(host.into()),
                platform: Some(archbench_platform::Platform::linux_arm64()),
                ..Default::default()
            },
            vec![],
        );
        e.started_at = started.into();
        write_atomic(&dir.join(file), &e).unwrap();
    }

    #[test]
    fn hosts_merge_and_a_run_claimed_twice_is_refused() {
        let _serial = crate::cleanup::test_lock();
        let (a, b, out) = (
            tempfile::tempdir().unwrap(),
            tempfile::tempdir().unwrap(),
            tempfile::tempdir().unwrap(),
        );
        bench(a.path(), "bench.json", "graviton", "2026-11-28T10:00:00Z");
        bench(b.path(), "bench.json", "x86-box", "2026-11-28T10:00:00Z");
        std::fs::write(b.path().join("notes.json"), "{}").unwrap();
        let o = out.path().join("merged");
        let m = merge(&[a.path().into(), b.path().into()], &o).unwrap();
        assert_eq!(m.written.len(), 2);
        assert_eq!(m.skipped.len(), 1, "{m:?}");
        assert_eq!(load(&o).unwrap().benches.len(), 2);
        // Merging again into the same output changes nothing and is not a duplicate.
        let again = merge(&[a.path().into()], &o).unwrap();
        assert!(again.written.is_empty(), "{again:?}");
        assert_eq!(again.already.len(), 1);
        assert!(!again.found_nothing());
        // A directory with no bench or build file merges nothing, and says so.
        let empty = tempfile::tempdir().unwrap();
        std::fs::write(empty.path().join("notes.json"), "{}").unwrap();
        let none = merge(&[empty.path().into()], &out.path().join("other")).unwrap();
        assert!(none.found_nothing() && none.skipped.len() == 1, "{none:?}");

        bench(b.path(), "copy.json", "graviton", "2026-11-28T10:00:00Z");
        let e = merge(&[a.path().into(), b.path().into()], &out.path().join("m2")).unwrap_err();
        let msg = e.to_string();
        assert!(
            msg.contains("bench from linux/arm64-graviton started 2026-11-28T10:00:00Z"),
            "{msg}"
        );
        assert!(
            msg.contains("copy.json")
                && msg.contains(&a.path().join("bench.json").display().to_string()),
            "{msg}"
        );
    }
}
