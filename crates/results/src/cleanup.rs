//! Files to remove if the process is interrupted.
//!
//! A half-written file (a blob being copied into a layout, a scratch directory) is removed by
//! its owner's `Drop` on every error path, but a signal ends the process without unwinding. So
//! an owner also registers the path here for as long as it exists; the binary's signal handler
//! calls [`remove_registered`] before it exits. Registration is a [`Guard`]: dropping it
//! unregisters the path, so a file that was renamed into place is never touched.
//!
//! A command that can save partial work instead asks for the first interrupt to be deferred
//! ([`defer_interrupts`]); a second one still ends the process at once.
//!
//! Deferring must not mean waiting for a run that may never end (a program blocked on a pipe,
//! a Wasm guest in a loop, each with a timeout of minutes). So whatever is running registers a
//! way to stop it ([`Stopper`]: a child's process group is killed, a Wasm engine's epoch is
//! bumped), and the handler calls [`stop_running`] on every interrupt: the run ends at once,
//! counts as interrupted rather than as a result, and the command saves what finished before it.
//!
//! Decision: it lives here, beside the atomic writes, because it is their other half (no
//! half-written file survives, whether the writer fails or is interrupted), and because every
//! crate that registers a path or a run (oci, exec, bench) already sits above this one. A crate
//! of its own would hold these 180 lines and nothing else.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

static PATHS: Mutex<Vec<(u64, PathBuf)>> = Mutex::new(Vec::new());
static DEFER: AtomicBool = AtomicBool::new(false);
static REQUESTED: AtomicBool = AtomicBool::new(false);

/// A command that can stop cleanly and save what it finished (`bench`) asks for interrupts to
/// set a flag instead of ending the process; it polls [`interrupt_requested`] between steps.
pub fn defer_interrupts() {
    DEFER.store(true, Ordering::SeqCst);
}

/// Whether an interrupt was deferred and is waiting to be honoured.
pub fn interrupt_requested() -> bool {
    REQUESTED.load(Ordering::SeqCst)
}

/// For the signal handler: `true` when the interrupt was deferred (the first one, in a command
/// that asked); `false` when the process should clean up and exit now (no deferral, or a
/// second interrupt).
pub fn defer_signal() -> bool {
    DEFER.load(Ordering::SeqCst) && !REQUESTED.swap(true, Ordering::SeqCst)
}
static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// Keeps `path` registered for removal on interrupt until dropped.
#[derive(Debug)]
pub struct Guard(u64);

impl Guard {
    /// Register `path` (a file or a directory).
    pub fn new(path: &Path) -> Self {
        let id = NEXT.fetch_add(1, Ordering::Relaxed);
        PATHS.lock().unwrap_or_else(|e| e.into_inner()).push((id, path.to_owned()));
        Guard(id)
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        PATHS.lock().unwrap_or_else(|e| e.into_inner()).retain(|(id, _)| *id != self.0);
    }
}

/// How to stop one running thing, registered while it runs.
type Stop = Box<dyn Fn() + Send>;
static STOPPERS: Mutex<Vec<(u64, Stop)>> = Mutex::new(Vec::new());

/// Keeps a way to stop a running child or guest registered until dropped. Dropping takes the
/// registry's lock, so once `drop` returns the stop function is not running and will not run:
/// a process runner drops its stopper before it reaps the child, so the process group it kills
/// is never one whose id was reused.
pub struct Stopper(u64);

impl Stopper {
    /// Register `stop`; it must be quick and must not take this module's locks.
    pub fn new(stop: impl Fn() + Send + 'static) -> Self {
        let id = NEXT.fetch_add(1, Ordering::Relaxed);
        STOPPERS.lock().unwrap_or_else(|e| e.into_inner()).push((id, Box::new(stop)));
        Stopper(id)
    }
}

impl Drop for Stopper {
    fn drop(&mut self) {
        STOPPERS.lock().unwrap_or_else(|e| e.into_inner()).retain(|(id, _)| *id != self.0);
    }
}

impl std::fmt::Debug for Stopper {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Stopper").field(&self.0).finish()
    }
}

/// Stop everything running (see [`Stopper`]); returns how many were stopped. Called from the
/// signal handler's thread on every interrupt, deferred or not.
pub fn stop_running() -> usize {
    let stoppers = STOPPERS.lock().unwrap_or_else(|e| e.into_inner());
    for (_, stop) in stoppers.iter() {
        stop();
    }
    stoppers.len()
}

/// Remove every registered path (files and directory trees); returns how many were removed.
/// Called from the signal handler's thread, never from a signal context.
pub fn remove_registered() -> usize {
    let paths: Vec<PathBuf> =
        PATHS.lock().unwrap_or_else(|e| e.into_inner()).drain(..).map(|(_, p)| p).collect();
    paths
        .iter()
        .filter(|p| {
            let meta = std::fs::symlink_metadata(p);
            match meta {
                Ok(m) if m.is_dir() => std::fs::remove_dir_all(p).is_ok(),
                Ok(_) => std::fs::remove_file(p).is_ok(),
                Err(_) => false,
            }
        })
        .count()
}

/// Tests in this crate that register paths (every atomic write does) hold this lock, because
/// [`remove_registered`] empties the one process-wide registry: run beside another test it
/// would remove that test's temporary file mid-write.
#[cfg(test)]
pub(crate) fn test_lock() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registered_paths_are_removed_and_dropped_guards_forgotten() {
        let _serial = test_lock();
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a.partial"), dir.path().join("scratch"));
        std::fs::write(&a, b"half").unwrap();
        std::fs::create_dir(&b).unwrap();
        std::fs::write(b.join("f"), b"x").unwrap();
        let kept = dir.path().join("done");
        std::fs::write(&kept, b"renamed into place").unwrap();
        let _ga = Guard::new(&a);
        let _gb = Guard::new(&b);
        drop(Guard::new(&kept));
        assert_eq!(remove_registered(), 2);
        assert!(!a.exists() && !b.exists() && kept.exists());
    }

    #[test]
    fn registered_stoppers_run_and_dropped_ones_do_not() {
        let _serial = test_lock();
        use std::sync::atomic::AtomicUsize;
        use std::sync::Arc;
        let hits = Arc::new(AtomicUsize::new(0));
        let counter = |n: usize| {
            let hits = hits.clone();
            move || {
                hits.fetch_add(n, Ordering::SeqCst);
            }
        };
        let kept = Stopper::new(counter(1));
        drop(Stopper::new(counter(100)));
        assert_eq!(stop_running(), 1);
        assert_eq!(hits.load(Ordering::SeqCst), 1);
        drop(kept);
        assert_eq!(stop_running(), 0);
        assert_eq!(hits.load(Ordering::SeqCst), 1);
    }
}
