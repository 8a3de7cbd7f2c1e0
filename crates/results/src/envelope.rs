use serde::{Deserialize, Serialize};

use crate::HostFacts;

/// The schema version this build writes. Bump on any incompatible change, and add the step from
/// the previous version to [`crate::migrate`] so files already written keep reading.
pub const SCHEMA_VERSION: u32 = 2;

/// One results file: metadata around a payload.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Envelope<T> {
    /// Schema version of the whole file ([`SCHEMA_VERSION`] when written by this build).
    pub schema_version: u32,
    /// What the payload is: `doctor`, `bench`, `build`, `plan`, `identify`, `verify`.
    pub kind: String,
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
    pub fn begin(kind: &str, host: HostFacts, payload: T) -> Self {
        let started_at = started();
        Self {
            schema_version: SCHEMA_VERSION,
            kind: kind.to_owned(),
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
    use super::redact;

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
