//! One reader for a results directory, shared by `plan` and `report`.
//!
//! Rule: every `*.json` file directly in the directory (not below it), in name order. A `bench`
//! or `build` envelope of this schema is a measurement; a `plan` or `report` envelope is
//! archbench's own output and is passed over quietly. Anything else — a file that cannot be
//! read, is not JSON, is an envelope of another kind or schema version, or whose payload does
//! not parse — is skipped *and listed with the reason*, so that a corrupt file never turns
//! silently into "no results". A directory that does not exist is an error.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::bench::Cell;
use crate::build::BuildReport;
use crate::{Envelope, Error, Kind, Result};

/// A file the reader passed over, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Skipped {
    /// The file.
    pub path: PathBuf,
    /// Why it was not used.
    pub why: String,
}

/// What a results directory holds.
#[derive(Debug, Default)]
pub struct Results {
    /// Bench envelopes, in name order.
    pub benches: Vec<(PathBuf, Envelope<Vec<Cell>>)>,
    /// Build envelopes, in name order.
    pub builds: Vec<(PathBuf, Envelope<BuildReport>)>,
    /// Files that were not used, with the reason.
    pub skipped: Vec<Skipped>,
}

/// Every run of `b` used the classic builder.
fn classic_only(b: &BuildReport) -> bool {
    !b.runs.is_empty() && b.runs.iter().all(|r| r.builder == crate::build::Builder::Classic)
}

impl Results {
    /// The last bench envelope in name order (what a single-host report shows).
    pub fn bench(&self) -> Option<&Envelope<Vec<Cell>>> {
        self.benches.last().map(|(_, e)| e)
    }

    /// The last cold build envelope in name order, preferring one BuildKit ran (the builder
    /// users run) over a classic-builder-only one.
    pub fn build(&self) -> Option<&Envelope<BuildReport>> {
        let cold = || self.builds.iter().rev().filter(|(_, e)| !e.payload.warm);
        cold().find(|(_, e)| !classic_only(&e.payload)).or_else(|| cold().next()).map(|(_, e)| e)
    }

    /// A cold classic-builder-only envelope beside the one [`Results::build`] picks, for the
    /// side-by-side of the two builders; `None` when there is no such pair.
    pub fn classic_build(&self) -> Option<&Envelope<BuildReport>> {
        let main = self.build()?;
        if classic_only(&main.payload) {
            return None;
        }
        self.builds
            .iter()
            .rev()
            .find(|(_, e)| !e.payload.warm && classic_only(&e.payload))
            .map(|(_, e)| e)
    }

    /// The last cold build with a Wasm entry (`build --platform ...,wasi/wasm`) in name order:
    /// the report's Wasm build chart and "which entry runs where" table.
    pub fn wasm_build(&self) -> Option<&Envelope<BuildReport>> {
        self.builds
            .iter()
            .rev()
            .filter(|(_, e)| !e.payload.warm)
            .find(|(_, e)| {
                e.payload.runs.iter().any(|r| r.platform.arch == archbench_platform::Arch::Wasm)
            })
            .map(|(_, e)| e)
    }

    /// The last warm rebuild envelope (`build --warm`) in name order.
    pub fn warm_build(&self) -> Option<&Envelope<BuildReport>> {
        self.builds.iter().rev().find(|(_, e)| e.payload.warm).map(|(_, e)| e)
    }

    /// One line per skipped file: `skipped bad.json: not JSON (…)`.
    pub fn skip_notes(&self) -> Vec<String> {
        self.skipped.iter().map(|s| format!("skipped {}: {}", s.path.display(), s.why)).collect()
    }
}

/// Kinds that are archbench's own outputs, or runs the plan and the report do not price (`run`
/// records one program's runs, not a suite's cells), passed over without a note.
const OUTPUTS: [Kind; 3] = [Kind::Plan, Kind::Report, Kind::Run];

fn reason(e: &Error) -> String {
    // The path is already in the line that names the file; keep the cause only.
    match e {
        Error::Parse { source, .. } => format!("not a valid results file ({source})"),
        Error::Schema { found_kind, found_version, expected_version, .. } => format!(
            "a {found_kind} file of schema {found_version}; this archbench reads schema {expected_version} and older"
        ),
        Error::Io { source, .. } => format!("cannot be read ({source})"),
        Error::Migrate { from, why, .. } => format!("schema {from}, and it could not be upgraded: {why}"),
        Error::Range { why, .. } => format!("a number out of range: {why}"),
        other => other.to_string(),
    }
}

/// Load every results file in `dir` by the rule above.
pub fn load(dir: &Path) -> Result<Results> {
    let entries = std::fs::read_dir(dir).map_err(|source| Error::Io {
        action: "reading the results directory",
        path: dir.to_owned(),
        source,
    })?;
    let mut paths = Vec::new();
    let mut out = Results::default();
    for entry in entries {
        match entry {
            Ok(e) if e.path().extension().is_some_and(|x| x == "json") => paths.push(e.path()),
            Ok(_) => {}
            Err(e) => out.skipped.push(Skipped {
                path: dir.to_owned(),
                why: format!("an entry could not be listed ({e})"),
            }),
        }
    }
    paths.sort();
    for p in paths {
        #[derive(Deserialize)]
        struct Head {
            kind: Option<Kind>,
        }
        // Found inside the directory, not named: a link, a FIFO or a device is skipped with
        // its reason rather than followed or waited on (archbench_input).
        let bytes = archbench_input::read(
            &p,
            archbench_input::Kind::Results,
            archbench_input::Named::Inside,
        );
        let head = bytes.map_err(Error::from).and_then(|b| {
            serde_json::from_slice::<Head>(&b)
                .map(|h| (h, b))
                .map_err(|source| Error::Parse { path: p.clone(), source })
        });
        let (kind, bytes) = match head {
            Ok((h, b)) => (h.kind.unwrap_or(Kind::Other(String::new())), b),
            Err(e) => {
                out.skipped.push(Skipped { why: reason(&e), path: p });
                continue;
            }
        };
        match kind {
            Kind::Bench => match crate::io::parse(&p, &bytes, Kind::Bench) {
                Ok(e) => out.benches.push((p, e)),
                Err(e) => out.skipped.push(Skipped { why: reason(&e), path: p }),
            },
            Kind::Build => match crate::io::parse(&p, &bytes, Kind::Build) {
                Ok(e) => out.builds.push((p, e)),
                Err(e) => out.skipped.push(Skipped { why: reason(&e), path: p }),
            },
            k if OUTPUTS.contains(&k) => {}
            Kind::Other(k) if k.is_empty() => out.skipped.push(Skipped {
                path: p,
                why: "JSON without a \"kind\": not an archbench results file".into(),
            }),
            other => out.skipped.push(Skipped {
                path: p,
                why: format!("kind {:?} is not bench or build", other.as_str()),
            }),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{write_atomic, HostFacts};

    // Long (about 120 lines) because it is a table: one file per reason a results file is
    // skipped, written and then checked against the listing in one directory scan.
    #[test]
    fn every_skip_is_listed_with_its_reason() {
        let _serial = crate::cleanup::test_lock();
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let bench: Envelope<Vec<Cell>> =
            Envelope::begin(Kind::Bench, HostFacts::default(), vec![]).finish();
        write_atomic(&d.join("a-bench.json"), &bench).unwrap();
        write_atomic(&d.join("plan.json"), &Envelope::begin(Kind::Plan, HostFacts::default(), 1))
            .unwrap();
        std::fs::write(d.join("truncated.json"), b"{\"schema_version\": 1, \"kind\": \"bui")
            .unwrap();
        std::fs::write(d.join("other.json"), b"{\"name\": \"package\"}").unwrap();
        std::fs::write(d.join("notes.txt"), b"ignored: not json").unwrap();
        let mut future = serde_json::to_value(&bench).unwrap();
        future["schema_version"] = 99.into();
        std::fs::write(d.join("future.json"), future.to_string()).unwrap();
        let wrong_payload = br#"{"schema_version":1,"kind":"build","archbench_version":"x","command_line":[],"started_at":"","finished_at":"","host":{},"payload":[1,2]}"#;
        std::fs::write(d.join("z-build.json"), wrong_payload).unwrap();

        let r = load(d).unwrap();
        assert_eq!(r.benches.len(), 1);
        assert!(r.builds.is_empty());
        let why = |name: &str| {
            r.skipped
                .iter()
                .find(|s| s.path.ends_with(name))
                .map(|s| s.why.clone())
                .unwrap_or_default()
        };
        assert!(why("truncated.json").starts_with("not a valid results file"), "{r:?}");
        assert!(why("other.json").contains("without a \"kind\""));
        assert!(why("future.json").contains("schema 99"), "{}", why("future.json"));
        assert!(
            why("z-build.json").starts_with("not a valid results file"),
            "{}",
            why("z-build.json")
        );
        assert_eq!(r.skipped.len(), 4, "plan.json and notes.txt pass quietly: {r:?}");
        assert!(r.skip_notes()[0].starts_with("skipped "));
    }

    fn bench_with_wall(wall: f64) -> Envelope<Vec<Cell>> {
        use crate::bench::{CellStatus, Outcome, Sample};
        let sample = Sample {
            wall,
            user: 0.1,
            sys: 0.0,
            max_rss: None,
            outcome: Outcome::Exited { code: 0 },
            stdout: String::new(),
            stdout_dropped: 0,
            stderr_tail: String::new(),
            wasm: None,
            startup: None,
        };
        let cell = Cell {
            workload: "sha256".into(),
            class: "integer".into(),
            size: 1,
            runner: "native".parse().unwrap(),
            via: String::new(),
            runner_version: None,
            profile: "release".into(),
            compile_seconds: None,
            checksum: None,
            wall: None,
            slowdown: None,
            status: CellStatus::Ok,
            samples: vec![sample],
            conditions: None,
        };
        Envelope::begin(Kind::Bench, HostFacts::default(), vec![cell]).finish()
    }

    /// Issue 25 (items 3, 7, 9): what is not a regular file inside the directory is skipped at
    /// once (a FIFO used to hang the reader, a link to /dev/zero to fill memory), and so is a
    /// file whose times are out of range (1e308 became "$NaN/month" in the plan; a negative one
    /// was dropped without a word).
    #[test]
    fn pipes_links_devices_and_numbers_out_of_range_are_skipped_with_their_reason() {
        let _serial = crate::cleanup::test_lock();
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        write_atomic(&d.join("a-bench.json"), &bench_with_wall(0.25)).unwrap();
        write_atomic(&d.join("huge.json"), &bench_with_wall(1e308)).unwrap();
        write_atomic(&d.join("negative.json"), &bench_with_wall(-3.0)).unwrap();
        let fifo =
            std::ffi::CString::new(d.join("fifo.json").into_os_string().into_encoded_bytes())
                .unwrap();
        // SAFETY: a NUL-terminated path that lives across the call.
        assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o600) }, 0);
        std::os::unix::fs::symlink("/dev/zero", d.join("zero.json")).unwrap();
        std::os::unix::fs::symlink(d.join("a-bench.json"), d.join("link.json")).unwrap();

        let r = load(d).unwrap();
        assert_eq!(r.benches.len(), 1, "{r:?}");
        let why = |name: &str| {
            r.skipped
                .iter()
                .find(|s| s.path.ends_with(name))
                .map(|s| s.why.clone())
                .unwrap_or_else(|| panic!("{name} not skipped: {r:?}"))
        };
        assert!(why("huge.json").contains("sample 1: wall is 1e308, outside 0 to 1e7"), "{r:?}");
        assert!(why("negative.json").contains("wall is -3"), "{r:?}");
        assert!(why("fifo.json").contains("FIFO"), "{r:?}");
        assert!(why("zero.json").contains("symbolic link"), "{r:?}");
        assert!(why("link.json").contains("symbolic link"), "{r:?}");
        // Named by the user, a link is followed and a FIFO is still refused.
        assert!(crate::read::<Vec<Cell>>(&d.join("link.json"), Kind::Bench).is_ok());
        let e = crate::read::<Vec<Cell>>(&d.join("fifo.json"), Kind::Bench).unwrap_err();
        assert!(e.to_string().contains("FIFO"), "{e}");
        let e = crate::read::<Vec<Cell>>(&d.join("huge.json"), Kind::Bench).unwrap_err();
        assert!(e.to_string().contains("regenerate the file"), "{e}");
    }

    #[test]
    fn a_missing_directory_is_an_error() {
        let _serial = crate::cleanup::test_lock();
        let e = load(Path::new("/nonexistent/results")).unwrap_err().to_string();
        assert!(e.contains("/nonexistent/results"), "{e}");
    }
}
