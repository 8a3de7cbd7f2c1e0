use serde::{Deserialize, Serialize};

use crate::HostFacts;

/// The schema version this build writes and reads. Bump on any incompatible change.
pub const SCHEMA_VERSION: u32 = 1;

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

impl<T> Envelope<T> {
    /// Start an envelope now, recording this process's command line.
    pub fn begin(kind: &str, host: HostFacts, payload: T) -> Self {
        let started_at = now();
        Self {
            schema_version: SCHEMA_VERSION,
            kind: kind.to_owned(),
            archbench_version: env!("CARGO_PKG_VERSION").to_owned(),
            command_line: std::env::args().collect(),
            finished_at: started_at.clone(),
            started_at,
            host,
            payload,
        }
    }

    /// Stamp the finish time.
    pub fn finish(mut self) -> Self {
        self.finished_at = now();
        self
    }
}
