//! One measured execution of a child process.
//!
//! The child runs in its own process group so a timeout can kill everything it started (QEMU
//! and whatever the guest forked). The parent waits with `waitid(WNOWAIT)` first, which observes
//! the exit without reaping: the timeout thread can therefore never signal a recycled process
//! group, and `wait4` afterwards collects the child's resource usage (user, sys, max RSS).

use std::io::Read;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{Command, Stdio};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// How much of stdout and stderr is kept (the rest is read and dropped so the child never blocks).
pub const OUTPUT_LIMIT: usize = 1 << 20;

/// How a measured process ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Outcome {
    /// It exited with this status.
    Exited {
        /// The exit status.
        code: i32,
    },
    /// It was killed by a signal it did not ask for (SIGSEGV, SIGILL under emulation, ...).
    Signaled {
        /// Signal number.
        signal: i32,
        /// Signal name (`SIGILL`).
        name: String,
    },
    /// It ran past the timeout and its process group was killed.
    TimedOut {
        /// The limit that was exceeded, in seconds.
        limit_seconds: f64,
    },
}

impl Outcome {
    /// True for a zero exit status.
    pub fn success(&self) -> bool {
        matches!(self, Outcome::Exited { code: 0 })
    }
}

impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Outcome::Exited { code } => write!(f, "exit status {code}"),
            Outcome::Signaled { name, .. } => write!(f, "killed by {name}"),
            Outcome::TimedOut { limit_seconds } => {
                write!(f, "timed out after {limit_seconds:.1} s")
            }
        }
    }
}

/// What one execution cost and produced.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Measured {
    /// Wall-clock time from spawn to exit, seconds.
    pub wall: f64,
    /// CPU time in user mode of the child and its reaped descendants, seconds.
    pub user: f64,
    /// CPU time in the kernel, seconds.
    pub sys: f64,
    /// Peak resident set size, bytes.
    pub max_rss: u64,
    /// How it ended.
    pub outcome: Outcome,
    /// Standard output (first [`OUTPUT_LIMIT`] bytes, lossy UTF-8).
    pub stdout: String,
    /// Standard error (first [`OUTPUT_LIMIT`] bytes, lossy UTF-8).
    pub stderr: String,
}

fn read_limited(mut r: impl Read + Send + 'static) -> std::thread::JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut kept = Vec::new();
        let mut buf = [0u8; 16 * 1024];
        loop {
            match r.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    let room = OUTPUT_LIMIT.saturating_sub(kept.len());
                    kept.extend_from_slice(&buf[..n.min(room)]);
                }
            }
        }
        kept
    })
}

/// Signal name for a number (`SIGSEGV`); `SIG<n>` when it is not a standard Linux signal.
pub fn signal_name(signal: i32) -> String {
    const NAMES: &[(i32, &str)] = &[
        (libc::SIGHUP, "SIGHUP"),
        (libc::SIGINT, "SIGINT"),
        (libc::SIGQUIT, "SIGQUIT"),
        (libc::SIGILL, "SIGILL"),
        (libc::SIGTRAP, "SIGTRAP"),
        (libc::SIGABRT, "SIGABRT"),
        (libc::SIGBUS, "SIGBUS"),
        (libc::SIGFPE, "SIGFPE"),
        (libc::SIGKILL, "SIGKILL"),
        (libc::SIGUSR1, "SIGUSR1"),
        (libc::SIGSEGV, "SIGSEGV"),
        (libc::SIGUSR2, "SIGUSR2"),
        (libc::SIGPIPE, "SIGPIPE"),
        (libc::SIGALRM, "SIGALRM"),
        (libc::SIGTERM, "SIGTERM"),
        (libc::SIGXCPU, "SIGXCPU"),
        (libc::SIGSYS, "SIGSYS"),
    ];
    NAMES
        .iter()
        .find(|(n, _)| *n == signal)
        .map(|(_, s)| (*s).to_owned())
        .unwrap_or_else(|| format!("SIG{signal}"))
}

#[derive(Default)]
struct Shared {
    exited: bool,
    killed: bool,
}

/// Run `cmd` to completion (or until `timeout`), measuring it.
///
/// Standard input is closed; stdout and stderr are captured.
pub fn run_measured(cmd: &mut Command, timeout: Duration) -> Result<Measured> {
    let program = cmd.get_program().to_string_lossy().into_owned();
    cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).process_group(0);
    let start = Instant::now();
    let mut child =
        cmd.spawn().map_err(|source| Error::Spawn { program: program.clone(), source })?;
    let pid = child.id() as libc::pid_t;
    let out = read_limited(child.stdout.take().expect("piped"));
    let err = read_limited(child.stderr.take().expect("piped"));

    let shared = Arc::new((Mutex::new(Shared::default()), Condvar::new()));
    let killer = {
        let shared = Arc::clone(&shared);
        std::thread::spawn(move || {
            let (lock, cv) = &*shared;
            let guard = lock.lock().unwrap_or_else(|e| e.into_inner());
            let (mut state, _) = cv
                .wait_timeout_while(guard, timeout, |s| !s.exited)
                .unwrap_or_else(|e| e.into_inner());
            if !state.exited {
                // The child has not been reaped (we wait with WNOWAIT), so `pid` is still ours.
                // SAFETY: killpg has no memory-safety preconditions.
                unsafe { libc::killpg(pid, libc::SIGKILL) };
                state.killed = true;
            }
        })
    };

    // Observe the exit without reaping it.
    // SAFETY: `info` is a plain C struct that waitid fills in.
    let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
    loop {
        // SAFETY: valid pointer to `info`; pid is our child.
        let rc = unsafe {
            libc::waitid(libc::P_PID, pid as libc::id_t, &mut info, libc::WEXITED | libc::WNOWAIT)
        };
        if rc == 0 {
            break;
        }
        let e = std::io::Error::last_os_error();
        if e.kind() != std::io::ErrorKind::Interrupted {
            return Err(Error::Wait { program, source: e });
        }
    }
    let wall = start.elapsed().as_secs_f64();
    let killed = {
        let (lock, cv) = &*shared;
        let mut s = lock.lock().unwrap_or_else(|e| e.into_inner());
        s.exited = true;
        cv.notify_all();
        s.killed
    };
    let _ = killer.join();
    // Whatever the group left behind (a daemonised grandchild) goes with it.
    // SAFETY: see above; the leader is still unreaped so the group id cannot be recycled.
    unsafe { libc::killpg(pid, libc::SIGKILL) };

    let mut status: libc::c_int = 0;
    // SAFETY: zeroed rusage is a valid value to be overwritten.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: pointers are valid for the duration of the call.
    let rc = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    if rc < 0 {
        return Err(Error::Wait { program, source: std::io::Error::last_os_error() });
    }
    // std's Child must not wait again; forget its handle (the pid is reaped).
    std::mem::forget(child);

    let stdout = String::from_utf8_lossy(&out.join().unwrap_or_default()).into_owned();
    let stderr = String::from_utf8_lossy(&err.join().unwrap_or_default()).into_owned();
    let tv = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    let es = std::process::ExitStatus::from_raw(status);
    let outcome = if killed {
        Outcome::TimedOut { limit_seconds: timeout.as_secs_f64() }
    } else if let Some(code) = es.code() {
        Outcome::Exited { code }
    } else {
        let signal = es.signal().unwrap_or(0);
        Outcome::Signaled { signal, name: signal_name(signal) }
    };
    Ok(Measured {
        wall,
        user: tv(usage.ru_utime),
        sys: tv(usage.ru_stime),
        max_rss: (usage.ru_maxrss as u64) * 1024,
        outcome,
        stdout,
        stderr,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_status_output_and_usage() {
        let m = run_measured(
            Command::new("sh").args(["-c", "echo hi; echo err >&2; exit 3"]),
            Duration::from_secs(10),
        )
        .unwrap();
        assert_eq!(m.outcome, Outcome::Exited { code: 3 });
        assert_eq!(m.stdout, "hi\n");
        assert_eq!(m.stderr, "err\n");
        assert!(m.max_rss > 0);
    }

    #[test]
    fn timeout_kills_the_whole_group() {
        let dir = tempfile::tempdir().unwrap();
        let marker = dir.path().join("grandchild-alive");
        // The grandchild would create the marker after 3 s if it survived the group kill.
        let script = format!("(sleep 3; touch {}) & sleep 100", marker.display());
        let m = run_measured(Command::new("sh").args(["-c", &script]), Duration::from_millis(300))
            .unwrap();
        assert!(matches!(m.outcome, Outcome::TimedOut { .. }), "{:?}", m.outcome);
        assert!(m.wall < 5.0, "{}", m.wall);
        std::thread::sleep(Duration::from_millis(3500));
        assert!(!marker.exists(), "a grandchild outlived the timeout");
    }

    #[test]
    fn death_by_signal_is_named() {
        let m =
            run_measured(Command::new("sh").args(["-c", "kill -SEGV $$"]), Duration::from_secs(10))
                .unwrap();
        assert_eq!(m.outcome, Outcome::Signaled { signal: libc::SIGSEGV, name: "SIGSEGV".into() });
        assert_eq!(signal_name(libc::SIGILL), "SIGILL");
    }

    #[test]
    fn missing_program_is_a_spawn_error() {
        let e = run_measured(&mut Command::new("/nonexistent/prog"), Duration::from_secs(1))
            .unwrap_err();
        assert!(e.to_string().contains("/nonexistent/prog"), "{e}");
    }
}
