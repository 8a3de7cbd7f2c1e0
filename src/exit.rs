//! Exit codes, decided in one place (as ripgrep and nextest do).

use std::process::ExitCode;

/// A failure whose meaning is carried by the exit status rather than by an error message:
/// the command already printed its findings.
#[derive(Debug)]
pub struct Findings {
    /// The status to exit with.
    pub code: Code,
    /// One line for stderr.
    pub message: String,
}

/// Named exit statuses. 2 is clap's usage error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Code {
    /// Any error not listed below.
    Error = 1,
    /// `doctor` found a required check failing.
    DoctorFailed = 3,
    /// `verify` found binaries of the wrong architecture.
    VerifyMismatch = 4,
    /// `bench` found a runner computing a different checksum, or a failed cell.
    BenchInvalid = 5,
    /// `identify` or `verify` could not read an input or a layer completely; what could be read
    /// was reported.
    Incomplete = 6,
    /// `run`: the program was stopped by `--timeout` (as timeout(1) exits).
    TimedOut = 124,
    /// Interrupted by SIGINT after saving what was done (128 + 2, as a shell reports it).
    Interrupted = 130,
    /// `run`: the Wasm module trapped (128 + SIGABRT, as a crashed native program reports).
    Trapped = 134,
}

/// `run`: the program ended with this status of its own, which archbench exits with. Nothing is
/// printed: the program spoke for itself.
#[derive(Debug)]
pub struct ProgramStatus(pub u8);

impl std::fmt::Display for ProgramStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "the program exited with status {}", self.0)
    }
}

impl std::error::Error for ProgramStatus {}

impl std::fmt::Display for Findings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Findings {}

/// End the process for the signal `sig` (SIGINT, SIGTERM), as the signal itself would have
/// (130, 143). Called from the interrupt handler's thread once the half-written files are
/// removed: the main thread is mid-command and cannot be unwound from there, so this is the one
/// exit that does not return through `main`.
pub fn on_signal(sig: i32) -> ! {
    std::process::exit(128 + sig)
}

/// Print an error chain and choose the exit status.
pub fn report(err: &anyhow::Error) -> ExitCode {
    // A closed pipe (`archbench identify / | head`) is the reader's choice, not our failure.
    if err.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
    }) {
        return ExitCode::SUCCESS;
    }
    if let Some(ProgramStatus(code)) = err.downcast_ref::<ProgramStatus>() {
        return ExitCode::from(*code);
    }
    if let Some(f) = err.downcast_ref::<Findings>() {
        eprintln!("archbench: {}", f.message);
        return ExitCode::from(f.code as u8);
    }
    eprintln!("error: {}", archbench_results::error_line(err.as_ref()));
    ExitCode::from(Code::Error as u8)
}
