//! One measured execution of a child process.
//!
//! The child runs in its own process group so a timeout can kill everything it started (QEMU
//! and whatever the guest forked). The parent watches a pidfd, which reports the exit without
//! reaping the child: the group can therefore never be a recycled one when it is signalled, and
//! `wait4` afterwards collects the child's resource usage (user, sys, max RSS).
//!
//! What the parent does while the child runs is in the measured time, and on a pinned CPU it
//! is the child's CPU. Waking for every write to the output pipes cost about 10 µs per run of a
//! program that prints two lines and exits (2 vCPU KVM guest, pinned: 122 µs against 111 µs
//! for a pidfd alone and 108 µs for spawn and wait with output to /dev/null, hyperfine's `-N`
//! way). So the pipes are made as large as the output archbench keeps (1 MiB, `F_SETPIPE_SZ`)
//! and, for the first [`QUIET`] of a run, only the pidfd is watched: a short program is woken
//! for once, at its exit. After that window the pipes are drained as they fill. The price: a
//! program that writes more than 1 MiB within its first 10 ms waits, once, for the rest of those
//! 10 ms. Where the kernel refuses the larger pipe (`pipe-user-pages-soft` spent), the pipes are
//! watched from the start, as before. The pipes are made before the spawn so that setting them
//! up is not timed.
//!
//! Peak memory comes from `wait4`'s `ru_maxrss`, which the kernel takes as the larger of the
//! child's own peak and the peak of the memory it ran in before its `exec`. std spawns with
//! `vfork` semantics, so that memory is archbench's: a `/bin/true` spawned after archbench once
//! held 600 MiB reported 600 MiB. Before each spawn archbench therefore resets its own peak to
//! what it holds now (`/proc/self/clear_refs`, value 5, Linux 4.0 or later), so a sample's
//! `max_rss` is the child's peak or archbench's resident size at the spawn, whichever is larger
//! (GNU time has the same floor: its own size).

use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// How much of stdout and stderr is kept (the rest is read and dropped so the child never blocks).
pub const OUTPUT_LIMIT: usize = 1 << 20;

pub use archbench_results::bench::Outcome;

/// What one execution cost and produced.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Measured {
    /// Wall-clock time from spawn to exit, seconds.
    pub wall: f64,
    /// CPU time in user mode of the child and its reaped descendants, seconds.
    pub user: f64,
    /// CPU time in the kernel, seconds.
    pub sys: f64,
    /// Peak resident set size, bytes: the child's, or archbench's resident size at the spawn
    /// if that is larger (see the module note).
    pub max_rss: u64,
    /// How it ended.
    pub outcome: Outcome,
    /// Standard output (first [`OUTPUT_LIMIT`] bytes, lossy UTF-8).
    pub stdout: String,
    /// Standard error (first [`OUTPUT_LIMIT`] bytes, lossy UTF-8).
    pub stderr: String,
    /// Bytes of stdout past [`OUTPUT_LIMIT`], read and dropped.
    #[serde(default)]
    pub stdout_dropped: u64,
    /// Bytes of stderr past [`OUTPUT_LIMIT`], read and dropped.
    #[serde(default)]
    pub stderr_dropped: u64,
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

/// One captured output stream: read without blocking, the first [`OUTPUT_LIMIT`] bytes kept.
struct Capture {
    pipe: Option<std::os::fd::OwnedFd>,
    kept: Vec<u8>,
    dropped: u64,
}

impl Capture {
    /// `fd` is the read end of an [`output_pipe`] (already non-blocking).
    fn new(fd: std::os::fd::OwnedFd) -> Capture {
        Capture { pipe: Some(fd), kept: Vec::new(), dropped: 0 }
    }

    /// Read what is there now; on end of file (or a read error) the pipe is closed.
    fn drain(&mut self) {
        let Some(fd) = &self.pipe else { return };
        let mut buf = [0u8; 16 * 1024];
        loop {
            match rustix::io::read(fd, &mut buf) {
                Ok(0) => break,
                Ok(n) => {
                    let room = OUTPUT_LIMIT.saturating_sub(self.kept.len());
                    let keep = n.min(room);
                    self.kept.extend_from_slice(&buf[..keep]);
                    self.dropped += (n - keep) as u64;
                }
                Err(rustix::io::Errno::AGAIN) => return,
                Err(rustix::io::Errno::INTR) => continue,
                Err(_) => break,
            }
        }
        self.pipe = None;
    }

    /// The kept bytes as lossy UTF-8, and how many were dropped.
    fn text(self) -> (String, u64) {
        (String::from_utf8_lossy(&self.kept).into_owned(), self.dropped)
    }
}

/// After the child exits, how long its output pipes may stay open (held by a descendant that
/// left the process group) before archbench stops reading them.
const DRAIN_GRACE: Duration = Duration::from_secs(2);

/// How long after the spawn only the child's exit is watched, its output left in pipes large
/// enough to hold what is kept (see the module note).
pub const QUIET: Duration = Duration::from_millis(10);

/// A pipe for one output stream, made before the spawn: the read end non-blocking and, when
/// the kernel allows, as large as [`OUTPUT_LIMIT`]; the write end for the child.
fn output_pipe() -> std::io::Result<(std::os::fd::OwnedFd, std::os::fd::OwnedFd, bool)> {
    let (read, write) = rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC)?;
    // Non-blocking on the read end's open file only: the child's end stays blocking.
    rustix::io::ioctl_fionbio(&read, true)?;
    let large = rustix::pipe::fcntl_setpipe_size(&read, OUTPUT_LIMIT)
        .is_ok_and(|size| size >= OUTPUT_LIMIT);
    Ok((read, write, large))
}

/// Reset this process's peak resident size to its current one, so a child spawned next is not
/// charged with a peak archbench reached earlier (see the module note). Where the kernel has no
/// such reset the measure keeps that floor, which is all a failure costs: it is not an error.
fn reset_peak_rss() {
    use std::io::Write;
    let reset = std::fs::OpenOptions::new()
        .write(true)
        .open("/proc/self/clear_refs")
        .and_then(|mut f| f.write_all(b"5"));
    if let Err(e) = reset {
        tracing::debug!("peak RSS not reset before a spawn: {e}");
    }
}

/// Run `cmd` to completion (or until `timeout`), measuring it, with standard input closed.
pub fn run_measured(cmd: &mut Command, timeout: Duration) -> Result<Measured> {
    run_measured_with(cmd, timeout, None)
}

/// [`run_measured`], with standard input read from `stdin` when given (a file, so no thread
/// is needed to feed it).
///
/// stdout and stderr are captured. One thread does everything: it polls a pidfd of the child
/// and, after the quiet window (see the module note), the two pipes, so no helper thread is
/// started per run (each one would be charged to the sample, and on a 2-core host they compete
/// with the child).
// Long (about 170 lines) on purpose: spawn, wait4 with rusage, the timeout, the group kill and
// the interrupt stopper all share one child's state and its SAFETY invariants; split, they
// would be argued in pieces.
pub fn run_measured_with(
    cmd: &mut Command,
    timeout: Duration,
    stdin: Option<&std::path::Path>,
) -> Result<Measured> {
    use rustix::event::{poll, PollFd, PollFlags, Timespec};

    let program = cmd.get_program().to_string_lossy().into_owned();
    // A regular file only: a FIFO would block this open (or the child's read) past the
    // timeout, which starts at the spawn.
    let input = match stdin {
        Some(path) => Stdio::from(archbench_input::open(
            path,
            archbench_input::Kind::Stdin,
            archbench_input::Named::ByUser,
        )?),
        None => Stdio::null(),
    };
    let spawn_err = |source| Error::Spawn { program: program.clone(), source };
    let (out_read, out_write, out_large) = output_pipe().map_err(spawn_err)?;
    let (err_read, err_write, err_large) = output_pipe().map_err(spawn_err)?;
    let quiet_until = (out_large && err_large).then_some(QUIET);
    cmd.stdin(input).stdout(Stdio::from(out_write)).stderr(Stdio::from(err_write)).process_group(0);
    reset_peak_rss();
    let start = Instant::now();
    let spawned = cmd.spawn();
    // The command holds the write ends until it is given others: closed here, so the pipes end
    // when the child's (and its descendants') copies close.
    cmd.stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null());
    let mut child = spawned.map_err(spawn_err)?;
    let pid = child.id() as libc::pid_t;
    let quiet_until = quiet_until.map(|q| start + q);
    let wait_err = |source: std::io::Error| Error::Wait { program: program.clone(), source };
    // Until the child is reaped by wait4 below its pid (and process group id) cannot be reused,
    // so signalling the group is always safe.
    let kill_group = || {
        // SAFETY: killpg has no memory-safety preconditions.
        unsafe { libc::killpg(pid, libc::SIGKILL) };
    };
    // Measuring cannot go on: take the group down, reap the child, and report why.
    let abandon = |child: &mut std::process::Child, source: std::io::Error| {
        kill_group();
        let _ = child.wait();
        wait_err(source)
    };
    let opened = rustix::process::pidfd_open(
        rustix::process::Pid::from_raw(pid).expect("a spawned child has a positive pid"),
        rustix::process::PidfdFlags::empty(),
    );
    let pidfd = match opened {
        Ok(fd) => fd,
        Err(e) => {
            let why = format!("pidfd_open: {e} (archbench needs Linux 5.3 or later)");
            return Err(abandon(
                &mut child,
                std::io::Error::new(std::io::ErrorKind::Unsupported, why),
            ));
        }
    };
    let (mut out, mut err) = (Capture::new(out_read), Capture::new(err_read));
    // An interrupt (SIGINT, SIGTERM) kills the group at once rather than waiting out the
    // timeout. Taken out of the registry before the child is reaped (every path below that
    // reaps drops it first), so the group id is still this child's when it is killed.
    let mut stopper = Some(archbench_results::cleanup::Stopper::new(move || {
        // SAFETY: killpg has no memory-safety preconditions; the group is our unreaped child's
        // (see the stopper's note above).
        unsafe { libc::killpg(pid, libc::SIGKILL) };
    }));

    // Set when the exit is seen: the wall time, and until when the pipes may still be read.
    let mut exit: Option<(f64, Instant)> = None;
    let mut killed = false;
    let deadline = start + timeout;
    let wall = loop {
        // In the quiet window only the exit is watched (see the module note).
        let quiet = quiet_until.filter(|q| exit.is_none() && !killed && Instant::now() < *q);
        let until = match exit {
            Some((wall, _)) if out.pipe.is_none() && err.pipe.is_none() => break wall,
            Some((_, drain_until)) => Some(drain_until),
            None if killed => None, // SIGKILL sent: the exit is imminent.
            None => Some(quiet.map_or(deadline, |q| q.min(deadline))),
        };
        let remaining = until.map(|u| u.saturating_duration_since(Instant::now()));
        if remaining == Some(Duration::ZERO) {
            match exit {
                // Pipes held open past the grace period: keep what was read.
                Some((wall, _)) => break wall,
                // The quiet window is over: watch the pipes too.
                None if Instant::now() < deadline => continue,
                None => {
                    kill_group();
                    killed = true;
                    continue;
                }
            }
        }
        let ts = remaining.map(|d| Timespec {
            tv_sec: d.as_secs().try_into().unwrap_or(i64::MAX),
            tv_nsec: d.subsec_nanos().into(),
        });
        let watch_exit = exit.is_none();
        let mut fds = Vec::with_capacity(3);
        if watch_exit {
            fds.push(PollFd::new(&pidfd, PollFlags::IN));
        }
        for c in [&out, &err].into_iter().filter(|_| quiet.is_none()) {
            if let Some(fd) = &c.pipe {
                fds.push(PollFd::new(fd, PollFlags::IN));
            }
        }
        match poll(&mut fds, ts.as_ref()) {
            Ok(_) | Err(rustix::io::Errno::INTR) => {}
            Err(e) => {
                stopper.take();
                return Err(abandon(&mut child, e.into()));
            }
        }
        let exited = watch_exit && !fds[0].revents().is_empty();
        drop(fds);
        if exited {
            let wall = start.elapsed().as_secs_f64();
            // Whatever the group left behind (a daemonised grandchild) goes with it.
            kill_group();
            exit = Some((wall, Instant::now() + DRAIN_GRACE));
        }
        out.drain();
        err.drain();
    };

    drop(stopper.take());
    let mut status: libc::c_int = 0;
    // SAFETY: zeroed rusage is a valid value to be overwritten.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let rc = loop {
        // SAFETY: pointers are valid for the duration of the call; pid is our unreaped child.
        let rc = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
        if rc >= 0 || std::io::Error::last_os_error().kind() != std::io::ErrorKind::Interrupted {
            break rc;
        }
    };
    if rc < 0 {
        return Err(wait_err(std::io::Error::last_os_error()));
    }
    // std's Child must not wait again; forget its handle (the pid is reaped).
    std::mem::forget(child);

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
    let ((stdout, stdout_dropped), (stderr, stderr_dropped)) = (out.text(), err.text());
    Ok(Measured {
        wall,
        user: tv(usage.ru_utime),
        sys: tv(usage.ru_stime),
        max_rss: (usage.ru_maxrss as u64) * 1024,
        outcome,
        stdout,
        stderr,
        stdout_dropped,
        stderr_dropped,
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

    /// A child is not charged with what archbench held before it: after this process touched
    /// and freed 384 MiB, `true` peaks far below that (without the reset it reported ≥ 384 MiB).
    #[test]
    fn a_child_is_not_charged_with_the_parents_earlier_peak() {
        let mut big = vec![0u8; 384 << 20];
        for page in big.chunks_mut(4096) {
            page[0] = 1;
        }
        std::hint::black_box(&big);
        drop(big);
        let m = run_measured(&mut Command::new("true"), Duration::from_secs(10)).unwrap();
        assert!(m.max_rss < 128 << 20, "true peaked at {} bytes", m.max_rss);
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
    fn output_held_open_outside_the_group_does_not_hang_the_run() {
        // The setsid'd sleeper leaves the process group with stdout still open: the run ends
        // once the child has exited and the grace period has passed, keeping what was read.
        let m = run_measured(
            Command::new("sh").args(["-c", "echo kept; setsid sleep 6 & exit 0"]),
            Duration::from_secs(30),
        )
        .unwrap();
        assert_eq!(m.outcome, Outcome::Exited { code: 0 });
        assert_eq!(m.stdout, "kept\n");
        assert!(m.wall < 1.0, "wall is the child's, not the drain's: {}", m.wall);
    }

    #[test]
    fn large_output_is_truncated_without_blocking_the_child() {
        let m = run_measured(
            Command::new("sh").args(["-c", "head -c 3000000 /dev/zero; echo done >&2"]),
            Duration::from_secs(30),
        )
        .unwrap();
        assert_eq!(m.outcome, Outcome::Exited { code: 0 });
        assert_eq!(m.stdout.len(), OUTPUT_LIMIT);
        assert_eq!(m.stdout_dropped, 3_000_000 - OUTPUT_LIMIT as u64);
        assert_eq!((m.stderr.as_str(), m.stderr_dropped), ("done\n", 0));
    }

    /// Output before, across and after the quiet window is all kept, in order.
    #[test]
    fn output_around_the_quiet_window_is_kept() {
        let m = run_measured(
            Command::new("sh").args(["-c", "echo early; sleep 0.05; echo late; echo err >&2"]),
            Duration::from_secs(10),
        )
        .unwrap();
        assert!(m.wall >= 0.05, "{m:?}");
        assert_eq!((m.stdout.as_str(), m.stderr.as_str()), ("early\nlate\n", "err\n"));
    }

    /// A timeout shorter than the quiet window still kills at the timeout.
    #[test]
    fn a_timeout_inside_the_quiet_window_kills() {
        let m = run_measured(Command::new("sleep").arg("5"), Duration::from_millis(3)).unwrap();
        assert_eq!(m.outcome, Outcome::TimedOut { limit_seconds: 0.003 });
        assert!(m.wall < 1.0, "{m:?}");
    }

    /// The write ends are the child's alone: the command that spawned it keeps none open, so
    /// the pipes end when the child exits (a copy left open would hold the run for the whole
    /// drain grace, 2 s).
    #[test]
    fn the_pipes_end_with_the_child() {
        let mut cmd = Command::new("true");
        let t = Instant::now();
        run_measured(&mut cmd, Duration::from_secs(10)).unwrap();
        assert!(t.elapsed() < DRAIN_GRACE, "{:?}", t.elapsed());
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
