//! Per-step timing from the classic builder's output stream.
//!
//! The builder prints `Step N/M : INSTRUCTION` as each step starts, then the step's output, then
//! ` ---> <id>`. A step's time is from its `Step` line to the next one (or the end of the build);
//! a `FROM` opens a stage. This is the data buildkit#1292 asks for, taken from the stream the
//! engine already sends.

use std::collections::{BTreeMap, VecDeque};
use std::time::Instant;

use archbench_platform::Platform;
use archbench_results::build::{StageTiming, StepTiming};

const KEEP_LINES: usize = 30;

/// Follows one build's output.
pub struct StepTracker {
    target: Platform,
    host: Platform,
    args: BTreeMap<String, String>,
    pending: String,
    current: Option<(usize, usize, String, Instant, bool)>,
    stages: Vec<StageTiming>,
    last_lines: VecDeque<String>,
}

/// Expand `$NAME` and `${NAME}` from `args` (what the classic builder does for `FROM` with
/// meta `ARG`s; unknown names expand to nothing, as there).
pub fn expand(text: &str, args: &BTreeMap<String, String>) -> String {
    let mut out = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '$' {
            out.push(c);
            continue;
        }
        let braced = chars.peek() == Some(&'{');
        if braced {
            chars.next();
        }
        let mut name = String::new();
        while let Some(&n) = chars.peek() {
            if n.is_ascii_alphanumeric() || n == '_' {
                name.push(n);
                chars.next();
            } else {
                break;
            }
        }
        if braced && chars.peek() == Some(&'}') {
            chars.next();
        }
        if name.is_empty() {
            out.push('$');
        } else if let Some(v) = args.get(&name) {
            out.push_str(v);
        }
    }
    out
}

impl StepTracker {
    /// A build for `target` on an engine whose platform is `host`, with `args` as build args.
    pub fn new(target: &Platform, host: &Platform, args: BTreeMap<String, String>) -> Self {
        Self {
            target: target.clone(),
            host: host.clone(),
            args,
            pending: String::new(),
            current: None,
            stages: Vec::new(),
            last_lines: VecDeque::new(),
        }
    }

    /// Feed a chunk of output received at `now`.
    pub fn output(&mut self, chunk: &str, now: Instant) {
        self.pending.push_str(chunk);
        while let Some(i) = self.pending.find('\n') {
            let line: String = self.pending.drain(..=i).collect();
            self.line(line.trim_end(), now);
        }
    }

    fn line(&mut self, line: &str, now: Instant) {
        if !line.trim().is_empty() {
            if self.last_lines.len() == KEEP_LINES {
                self.last_lines.pop_front();
            }
            self.last_lines.push_back(line.to_owned());
        }
        if let Some(rest) = line.strip_prefix("Step ") {
            let Some((counter, instruction)) = rest.split_once(" : ") else { return };
            let number = counter.split('/').next().and_then(|n| n.parse().ok()).unwrap_or(0);
            let total = counter.split('/').nth(1).and_then(|n| n.parse().ok()).unwrap_or(0);
            self.close(now);
            if instruction.trim_start().to_ascii_uppercase().starts_with("FROM ") {
                self.open_stage(instruction);
            }
            self.current = Some((number, total, instruction.trim().to_owned(), now, false));
        } else if line.trim() == "---> Using cache" {
            if let Some(c) = self.current.as_mut() {
                c.4 = true;
            }
        }
    }

    fn open_stage(&mut self, from: &str) {
        let words: Vec<&str> = from.split_whitespace().collect();
        let platform = words
            .iter()
            .find_map(|w| w.strip_prefix("--platform="))
            .map(|p| expand(p, &self.args))
            .filter(|p| !p.is_empty())
            // A `--platform=` the table does not know cannot run here at all: the build fails
            // on it, and the stage is filed under the target meanwhile.
            .and_then(|p| p.parse::<Platform>().ok())
            .unwrap_or_else(|| self.target.clone());
        let name = match words.iter().position(|w| w.eq_ignore_ascii_case("as")) {
            Some(i) if i + 1 < words.len() => words[i + 1].to_owned(),
            _ => format!("stage {}", self.stages.len()),
        };
        let emulated = platform != self.host;
        self.stages.push(StageTiming {
            name,
            runs_as: platform,
            emulated,
            seconds: 0.0,
            steps: Vec::new(),
        });
    }

    fn close(&mut self, now: Instant) {
        if let Some((number, _, instruction, start, cached)) = self.current.take() {
            let seconds = now.duration_since(start).as_secs_f64();
            if self.stages.is_empty() {
                // Steps before the first FROM (global ARGs) belong to a preamble.
                self.stages.push(StageTiming {
                    name: "preamble".into(),
                    runs_as: self.host.clone(),
                    emulated: false,
                    seconds: 0.0,
                    steps: Vec::new(),
                });
            }
            let stage = self.stages.last_mut().expect("a stage");
            stage.seconds += seconds;
            stage.steps.push(StepTiming { number, instruction, seconds, cached });
        }
    }

    /// `3/9 RUN make`, for messages.
    pub fn current_step(&self) -> String {
        match &self.current {
            Some((n, total, instr, ..)) => format!("{n}/{total} {instr}"),
            None => "(before the first step)".into(),
        }
    }

    /// The last lines of output, for error messages.
    pub fn last_lines(&self) -> String {
        self.last_lines.iter().map(|l| format!("  | {l}")).collect::<Vec<_>>().join("\n")
    }

    /// Close the last step at `now` and return the stages.
    pub fn finish(mut self, now: Instant) -> Vec<StageTiming> {
        if !self.pending.is_empty() {
            let rest = std::mem::take(&mut self.pending);
            self.line(rest.trim_end(), now);
        }
        self.close(now);
        // A stage without RUN executes nothing, so nothing of it is emulated.
        for st in &mut self.stages {
            st.emulated &=
                st.steps.iter().any(|s| s.instruction.to_ascii_uppercase().starts_with("RUN "));
        }
        self.stages
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn stages_steps_and_platforms() {
        let args: BTreeMap<String, String> =
            [("BUILDPLATFORM".to_owned(), "linux/amd64".to_owned())].into();
        let mut t = StepTracker::new(&Platform::linux_arm64(), &Platform::linux_amd64(), args);
        let t0 = Instant::now();
        let at = |s: u64| t0 + Duration::from_secs(s);
        t.output("Step 1/5 : ARG BASE\n", at(0));
        t.output("Step 2/5 : FROM --platform=$BUILDPLATFORM ${BASE} AS build\n ---> 1a2b\n", at(1));
        t.output("Step 3/5 : RUN make\n ---> Running in 9f\ncc -O2 -c a.c\n", at(2));
        t.output("cc -O2 -c b", at(10));
        t.output(".c\n ---> 3c4d\nStep 4/5 : FROM $BASE\n", at(12));
        t.output("Step 5/5 : COPY --from=build /out /out\n ---> Using cache\n", at(13));
        assert_eq!(t.current_step(), "5/5 COPY --from=build /out /out");
        assert!(t.last_lines().contains("cc -O2 -c b.c"));
        let stages = t.finish(at(14));
        let names: Vec<&str> = stages.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["preamble", "build", "stage 2"]);
        assert_eq!(stages[1].runs_as, Platform::linux_amd64());
        assert!(!stages[1].emulated);
        assert_eq!(stages[1].steps.len(), 2);
        assert_eq!(stages[1].steps[1].seconds, 10.0, "RUN make ran from 2 s to 12 s");
        assert_eq!(stages[2].runs_as, Platform::linux_arm64());
        assert!(!stages[2].emulated, "no RUN in the final stage");
        assert!(stages[2].steps[1].cached);
        assert_eq!(stages[2].seconds, 2.0);
    }

    #[test]
    fn expansion() {
        let args: BTreeMap<String, String> = [("A".to_owned(), "x".to_owned())].into();
        assert_eq!(expand("$A/${A}-$B-$", &args), "x/x--$");
    }
}
