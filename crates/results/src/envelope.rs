use serde::{Deserialize, Serialize};

use crate::HostFacts;

/// The schema version this build writes. Bump on any incompatible change, and add the step from
/// the previous version to [`crate::migrate`] so files already written keep reading.
pub const SCHEMA_VERSION: u32 = 2;

/// What a results file holds: the command that wrote it. Read from a file, a kind this build
/// does not know (a newer archbench's, or another tool's) is kept as written in
/// [`Kind::Other`], so readers can name it in their message rather than fail to parse.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(from = "String", into = "String")]
pub enum Kind {
    /// `archbench base`.
    Base,
    /// `archbench bench`: bench cells (read by `plan` and `report`).
    Bench,
    /// `archbench build`: build runs (read by `plan` and `report`).
    Build,
    /// `archbench doctor`.
    Doctor,
    /// `archbench identify`.
    Identify,
    /// `archbench image copy`.
    ImageCopy,
    /// `archbench image create`.
    ImageCreate,
    /// `archbench image inspect`.
    ImageInspect,
    /// `archbench plan`.
    Plan,
    /// `archbench report`'s `report.json`.
    Report,
    /// `archbench run`.
    Run,
    /// `archbench verify`.
    Verify,
    /// Any other kind, as the file wrote it (empty when the file has none).
    Other(String),
}

impl Kind {
    /// Every kind archbench writes, in the order of the variants.
    pub const WRITTEN: [Kind; 12] = [
        Kind::Base,
        Kind::Bench,
        Kind::Build,
        Kind::Doctor,
        Kind::Identify,
        Kind::ImageCopy,
        Kind::ImageCreate,
        Kind::ImageInspect,
        Kind::Plan,
        Kind::Report,
        Kind::Run,
        Kind::Verify,
    ];

    /// The name in the file (`image-copy`).
    pub fn as_str(&self) -> &str {
        match self {
            Kind::Base => "base",
            Kind::Bench => "bench",
            Kind::Build => "build",
            Kind::Doctor => "doctor",
            Kind::Identify => "identify",
            Kind::ImageCopy => "image-copy",
            Kind::ImageCreate => "image-create",
            Kind::ImageInspect => "image-inspect",
            Kind::Plan => "plan",
            Kind::Report => "report",
            Kind::Run => "run",
            Kind::Verify => "verify",
            Kind::Other(s) => s,
        }
    }
}

impl From<String> for Kind {
    fn from(s: String) -> Self {
        Kind::WRITTEN.into_iter().find(|k| k.as_str() == s).unwrap_or(Kind::Other(s))
    }
}

impl From<Kind> for String {
    fn from(k: Kind) -> Self {
        k.as_str().to_owned()
    }
}

impl std::fmt::Display for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One results file: metadata around a payload.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Envelope<T> {
    /// Schema version of the whole file ([`SCHEMA_VERSION`] when written by this build).
    pub schema_version: u32,
    /// What the payload is.
    pub kind: Kind,
    /// The archbench version that wrote the file.
    pub archbench_version: String,
    /// The command line, one argument per element.
    pub command_line: Vec<String>,
    /// When the work started, RFC 3339 in UTC.
    pub started_at: String,
    /// When the work finished, RFC 3339 in UTC (equal to `started_at` until [`Envelope::finish`]).
    pub finished_at: String,
    /// The machine the work ran on.
    pub host: HostFacts,
    /// The results themselves.
    pub payload: T,
}

fn now() -> String {
    jiff::Timestamp::now().to_string()
}

/// When this command started, once [`mark_command_start`] has been called.
static COMMAND_START: std::sync::OnceLock<jiff::Timestamp> = std::sync::OnceLock::new();

/// Record now as the start of the command (the binary calls this first thing in `main`), so
/// every envelope's `started_at` is when the work began, not when its payload was ready: a
/// bench that measured for ten minutes records ten minutes, not the microseconds spent
/// wrapping its cells. Later calls keep the first time.
pub fn mark_command_start() {
    COMMAND_START.get_or_init(jiff::Timestamp::now);
}

/// The command's start time if it was marked, else now (a library caller that never marked one).
fn started() -> String {
    COMMAND_START.get().map(|t| t.to_string()).unwrap_or_else(now)
}

/// The command line as recorded: every `--build-arg` value is replaced by `<redacted>`, since
/// build arguments carry tokens often enough (`--build-arg NPM_TOKEN=…`) and a results file is
/// meant to be shared. The names stay, so the run can still be read and repeated.
pub fn redact(args: impl IntoIterator<Item = String>) -> Vec<String> {
    let hide = |kv: &str| match kv.split_once('=') {
        Some((k, _)) => format!("{k}=<redacted>"),
        None => kv.to_owned(),
    };
    let mut out: Vec<String> = Vec::new();
    let mut next_is_value = false;
    for a in args {
        if next_is_value {
            out.push(hide(&a));
            next_is_value = false;
        } else if a == "--build-arg" {
            out.push(a);
            next_is_value = true;
        } else if let Some(kv) = a.strip_prefix("--build-arg=") {
            out.push(format!("--build-arg={}", hide(kv)));
        } else {
            out.push(a);
        }
    }
    out
}

impl<T> Envelope<T> {
    /// Start an envelope, recording this process's command line; `started_at` is the command's
    /// start ([`mark_command_start`]) where it was marked, else now.
    pub fn begin(kind: Kind, host: HostFacts, payload: T) -> Self {
        let started_at = started();
        Self {
            schema_version: SCHEMA_VERSION,
            kind,
            archbench_version: env!("CARGO_PKG_VERSION").to_owned(),
            command_line: redact(std::env::args()),
            finished_at: started_at.clone(),
            started_at,
            host,
            payload,
        }
    }

    /// Stamp the finish time (now).
    pub fn finish(mut self) -> Self {
        self.finished_at = now();
        self
    }
}

#[cfg(test)]
mod tests {
    use super::{redact, Kind};

    #[test]
    fn kinds_read_back_as_written_and_unknown_ones_are_kept() {
        for k in Kind::WRITTEN {
            let json = serde_json::to_string(&k).unwrap();
            assert_eq!(json, format!("\"{}\"", k.as_str()));
            assert_eq!(serde_json::from_str::<Kind>(&json).unwrap(), k);
        }
        assert_eq!(serde_json::to_string(&Kind::ImageCopy).unwrap(), "\"image-copy\"");
        let other: Kind = serde_json::from_str("\"bench-v9\"").unwrap();
        assert_eq!(other, Kind::Other("bench-v9".into()));
        assert_eq!(serde_json::to_string(&other).unwrap(), "\"bench-v9\"");
    }

    #[test]
    fn build_arg_values_are_redacted_in_both_spellings() {
        let args = [
            "archbench",
            "build",
            ".",
            "--build-arg",
            "TOKEN=s3cret",
            "--build-arg=PASS=x=y",
            "-t",
            "a=b",
        ];
        let out = redact(args.iter().map(|s| s.to_string()));
        assert_eq!(
            out,
            [
                "archbench",
                "build",
                ".",
                "--build-arg",
                "TOKEN=<redacted>",
                "--build-arg=PASS=<redacted>",
                "-t",
                "a=b"
            ]
        );
        assert!(!out.join(" ").contains("s3cret"));
    }
}
