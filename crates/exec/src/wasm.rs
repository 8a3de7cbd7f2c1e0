//! WebAssembly in process with wasmtime, on each of its three execution tiers.
//!
//! * **Cranelift**: the optimising compiler, wasmtime's default.
//! * **Winch**: the single-pass baseline compiler: fast to compile, slower code.
//! * **Pulley**: wasmtime's portable interpreter (modules are compiled to Pulley bytecode).
//!
//! Compile, instantiate and run are timed separately (as Sightglass does). A [`WasmModule`] is
//! compiled once and run many times, so compile cost is not charged to every sample. Timeouts use
//! epoch interruption: a watchdog bumps the engine's epoch when the limit passes and the guest
//! traps at its next check.
//!
//! Every instance runs under a memory cap ([`DEFAULT_MAX_MEMORY`], or
//! [`WasmModule::with_max_memory`]): a guest may otherwise grow a memory64 memory until the
//! machine runs out, far faster than any timeout. The cap is a [`wasmtime::ResourceLimiter`] of
//! our own rather than wasmtime's `StoreLimits`, so that a guest that reaches it traps with a
//! reason that names the cap, the size asked for and the flag that raises it. Tables are capped
//! too (their elements cost host memory), at one element per 8 bytes of the cap.

use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use wasmtime::{Config, Engine, Linker, Module, ResourceLimiter, Store, Strategy};
use wasmtime_wasi::p1::WasiP1Ctx;
use wasmtime_wasi::WasiCtxBuilder;

use crate::{Error, Result};

/// The wasmtime version linked in.
pub const WASMTIME_VERSION: &str = "48.0.8";

/// The most linear memory (all memories together) and table space a guest may have unless told
/// otherwise: 1 GiB. Enough for the suite (its largest workload stays under 10 MiB) and for
/// most programs; a quarter of wasm32's 4 GiB; small beside the machines archbench runs on.
pub const DEFAULT_MAX_MEMORY: u64 = 1 << 30;

/// What a guest's store holds: its WASI context and its memory cap.
struct Guest {
    wasi: WasiP1Ctx,
    cap: MemoryCap,
}

/// The per-instance cap on linear memory and tables (see the module note).
struct MemoryCap {
    /// Bytes of linear memory allowed, all memories together.
    limit: u64,
    /// Bytes granted so far, all memories together: the sum of every growth (a memory's first
    /// allocation is a growth from 0), which is exact whatever the number of memories.
    granted: u64,
    /// Table elements allowed (each table).
    table_elements: u64,
}

/// The trap a guest gets when it asks for more memory than its cap.
#[derive(Debug, thiserror::Error)]
#[error(
    "memory limit: the guest asked for {} of linear memory in all, more than the {} allowed (raise it with --max-memory)",
    archbench_input::show_bytes(*asked),
    archbench_input::show_bytes(*limit)
)]
pub struct MemoryLimitHit {
    /// Bytes asked for, all memories together.
    pub asked: u64,
    /// The cap.
    pub limit: u64,
}

impl ResourceLimiter for MemoryCap {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        // wasmtime calls this for a memory's first allocation (current 0) and every growth.
        let grow = (desired as u64).saturating_sub(current as u64);
        let asked = self.granted.saturating_add(grow);
        if asked > self.limit {
            return Err(MemoryLimitHit { asked, limit: self.limit }.into());
        }
        self.granted = asked;
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired as u64 > self.table_elements {
            wasmtime::bail!(
                "table limit: the guest asked for a table of {desired} elements, more than the {} allowed by the memory cap of {} (raise it with --max-memory)",
                self.table_elements,
                archbench_input::show_bytes(self.limit)
            );
        }
        Ok(true)
    }
}

pub use archbench_results::bench::WasmTier;

fn wasm_err(tier: WasmTier, stage: &'static str, e: impl std::fmt::Display) -> Error {
    // `{:#}` keeps the cause chain: wasmtime puts the validator's reason (offset and what was
    // expected) below "failed to parse WebAssembly module".
    Error::Wasm { tier: tier.name(), stage, message: format!("{e:#}") }
}

/// An engine configured for `tier`, with epoch interruption on.
pub fn engine(tier: WasmTier) -> Result<Engine> {
    let mut config = Config::new();
    config.epoch_interruption(true);
    match tier {
        WasmTier::Cranelift => {
            config.strategy(Strategy::Cranelift);
        }
        WasmTier::Winch => {
            config.strategy(Strategy::Winch);
        }
        WasmTier::Pulley => {
            let target = if cfg!(target_pointer_width = "64") { "pulley64" } else { "pulley32" };
            config.target(target).map_err(|e| wasm_err(tier, "configuring", e))?;
        }
    }
    Engine::new(&config).map_err(|e| wasm_err(tier, "configuring", e))
}

pub use archbench_results::bench::WasmTimings;

/// The result of running a WASI command module once.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WasmRun {
    /// Timings of each stage.
    pub timings: WasmTimings,
    /// Exit status (`proc_exit` value, or 0 when `_start` returned).
    pub exit_code: Option<i32>,
    /// A trap message, when the guest trapped.
    pub trap: Option<String>,
    /// The run hit the timeout.
    pub timed_out: bool,
    /// Captured stdout (first [`crate::process::OUTPUT_LIMIT`] bytes, lossy UTF-8).
    pub stdout: String,
    /// Captured stderr.
    pub stderr: String,
    /// Bytes of stdout past the limit, dropped.
    #[serde(default)]
    pub stdout_dropped: u64,
    /// Bytes of stderr past the limit, dropped.
    #[serde(default)]
    pub stderr_dropped: u64,
}

/// A guest's stdout or stderr: the first [`crate::process::OUTPUT_LIMIT`] bytes are kept, the
/// rest counted and dropped, as for a process. wasmtime-wasi's `MemoryOutputPipe` instead fails
/// the guest's write once it is full, which would turn a chatty program into a trap of
/// archbench's making.
#[derive(Clone, Default)]
struct KeptOutput(std::sync::Arc<std::sync::Mutex<Kept>>);

#[derive(Default)]
struct Kept {
    bytes: Vec<u8>,
    dropped: u64,
}

impl KeptOutput {
    fn keep(&self, buf: &[u8]) {
        let mut k = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let room = crate::process::OUTPUT_LIMIT.saturating_sub(k.bytes.len());
        let n = buf.len().min(room);
        k.bytes.extend_from_slice(&buf[..n]);
        k.dropped += (buf.len() - n) as u64;
    }

    /// The kept bytes as lossy UTF-8, and how many were dropped.
    fn take(&self) -> (String, u64) {
        let mut k = self.0.lock().unwrap_or_else(|e| e.into_inner());
        (String::from_utf8_lossy(&std::mem::take(&mut k.bytes)).into_owned(), k.dropped)
    }
}

impl wasmtime_wasi::cli::IsTerminal for KeptOutput {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl wasmtime_wasi::cli::StdoutStream for KeptOutput {
    fn p2_stream(&self) -> Box<dyn wasmtime_wasi::p2::OutputStream> {
        Box::new(self.clone())
    }
    fn async_stream(&self) -> Box<dyn tokio::io::AsyncWrite + Send + Sync> {
        Box::new(self.clone())
    }
}

impl wasmtime_wasi::p2::OutputStream for KeptOutput {
    fn write(&mut self, bytes: bytes::Bytes) -> wasmtime_wasi::p2::StreamResult<()> {
        self.keep(&bytes);
        Ok(())
    }
    fn flush(&mut self) -> wasmtime_wasi::p2::StreamResult<()> {
        Ok(())
    }
    fn check_write(&mut self) -> wasmtime_wasi::p2::StreamResult<usize> {
        // Always ready, for any amount: what is past the limit is counted, not refused.
        Ok(1 << 20)
    }
}

#[wasmtime_wasi::async_trait]
impl wasmtime_wasi::p2::Pollable for KeptOutput {
    async fn ready(&mut self) {}
}

impl tokio::io::AsyncWrite for KeptOutput {
    fn poll_write(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        self.keep(buf);
        std::task::Poll::Ready(Ok(buf.len()))
    }
    fn poll_flush(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::task::Poll::Ready(Ok(()))
    }
    fn poll_shutdown(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::task::Poll::Ready(Ok(()))
    }
}

/// A module compiled for one tier, ready to run many times.
pub struct WasmModule {
    tier: WasmTier,
    engine: Engine,
    module: Module,
    linker: Linker<Guest>,
    /// Linear memory and tables allowed per run, in bytes.
    max_memory: u64,
    /// Time spent compiling, seconds.
    pub compile_seconds: f64,
}

impl WasmModule {
    /// Compile `bytes` (binary or, with the `wat` feature, text) for `tier`.
    pub fn compile(tier: WasmTier, bytes: &[u8]) -> Result<Self> {
        let engine = engine(tier)?;
        let start = Instant::now();
        let module = Module::new(&engine, bytes).map_err(|e| wasm_err(tier, "compiling", e))?;
        let compile_seconds = start.elapsed().as_secs_f64();
        let mut linker: Linker<Guest> = Linker::new(&engine);
        wasmtime_wasi::p1::add_to_linker_sync(&mut linker, |g: &mut Guest| &mut g.wasi)
            .map_err(|e| wasm_err(tier, "linking WASI", e))?;
        Ok(Self { tier, engine, module, linker, max_memory: DEFAULT_MAX_MEMORY, compile_seconds })
    }

    /// Cap each run's linear memory (all memories together) at `bytes`, in place of
    /// [`DEFAULT_MAX_MEMORY`].
    pub fn with_max_memory(mut self, bytes: u64) -> Self {
        self.max_memory = bytes;
        self
    }

    /// The memory cap each run gets, in bytes.
    pub fn max_memory(&self) -> u64 {
        self.max_memory
    }

    /// The tier this module was compiled for.
    pub fn tier(&self) -> WasmTier {
        self.tier
    }

    /// Run the module's `_start` with `args` (argv[0] included), capturing output.
    pub fn run(&self, args: &[String], timeout: Duration) -> Result<WasmRun> {
        self.run_with(args, &[], None, timeout)
    }

    /// Run with environment variables and, optionally, a host directory preopened at a guest path.
    pub fn run_with(
        &self,
        args: &[String],
        env: &[(String, String)],
        preopen: Option<(&std::path::Path, &str)>,
        timeout: Duration,
    ) -> Result<WasmRun> {
        self.run_io(args, env, preopen.as_slice(), None, timeout)
    }

    /// Run with environment variables, `dirs` preopened (host directory, guest path) and
    /// standard input from `stdin`.
    pub fn run_io(
        &self,
        args: &[String],
        env: &[(String, String)],
        dirs: &[(&std::path::Path, &str)],
        stdin: Option<&[u8]>,
        timeout: Duration,
    ) -> Result<WasmRun> {
        let tier = self.tier;
        let (stdout, stderr) = (KeptOutput::default(), KeptOutput::default());
        let mut builder = WasiCtxBuilder::new();
        builder.args(args).envs(env).stdout(stdout.clone()).stderr(stderr.clone());
        // One instance runs at a time on this thread, so WASI's blocking calls (open, read,
        // stat) may block it in place, as in the wasmtime CLI. Without this every such call
        // is handed to a tokio blocking thread and back: on the reference machine that made
        // the syscall workload about 20x native instead of about 2x.
        builder.allow_blocking_current_thread(true);
        for (host, guest) in dirs {
            builder
                .preopened_dir(host, guest, wasmtime_wasi::FsPerms::ReadWrite)
                .map_err(|e| wasm_err(tier, "preopening a directory", e))?;
        }
        if let Some(bytes) = stdin {
            builder.stdin(wasmtime_wasi::p2::pipe::MemoryInputPipe::new(bytes.to_vec()));
        }
        let wasi = builder.build_p1();
        let cap =
            MemoryCap { limit: self.max_memory, granted: 0, table_elements: self.max_memory / 8 };

        let start = Instant::now();
        let mut store = Store::new(&self.engine, Guest { wasi, cap });
        store.limiter(|g| &mut g.cap);
        store.set_epoch_deadline(1);
        let instance = self
            .linker
            .instantiate(&mut store, &self.module)
            .map_err(|e| wasm_err(tier, "instantiating", e))?;
        let entry = instance
            .get_typed_func::<(), ()>(&mut store, "_start")
            .map_err(|e| wasm_err(tier, "finding _start", e))?;
        let instantiate = start.elapsed().as_secs_f64();

        let (done, wait) = mpsc::channel::<()>();
        let watchdog = {
            let engine = self.engine.clone();
            std::thread::spawn(move || {
                if let Err(mpsc::RecvTimeoutError::Timeout) = wait.recv_timeout(timeout) {
                    engine.increment_epoch();
                }
            })
        };
        // An interrupt bumps the epoch as the watchdog does: the guest traps at its next check.
        let stopper = {
            let engine = self.engine.clone();
            archbench_results::cleanup::Stopper::new(move || engine.increment_epoch())
        };
        let start = Instant::now();
        let result = entry.call(&mut store, ());
        let run = start.elapsed().as_secs_f64();
        drop(stopper);
        drop(done);
        let _ = watchdog.join();

        let (exit_code, trap, timed_out) = match result {
            Ok(()) => (Some(0), None, false),
            Err(e) => {
                if let Some(exit) = e.downcast_ref::<wasmtime_wasi::I32Exit>() {
                    (Some(exit.0), None, false)
                } else if matches!(
                    e.downcast_ref::<wasmtime::Trap>(),
                    Some(wasmtime::Trap::Interrupt)
                ) {
                    (None, None, true)
                } else if let Some(hit) = e.downcast_ref::<MemoryLimitHit>() {
                    // Said in one line, without wasmtime's backtrace: the cause is the cap.
                    (None, Some(hit.to_string()), false)
                } else {
                    (None, Some(format!("{e:#}")), false)
                }
            }
        };
        let (stdout, stdout_dropped) = stdout.take();
        let (stderr, stderr_dropped) = stderr.take();
        Ok(WasmRun {
            timings: WasmTimings { compile: 0.0, instantiate, run },
            exit_code,
            trap,
            timed_out,
            stdout,
            stderr,
            stdout_dropped,
            stderr_dropped,
        })
    }
}

/// A module the doctor compiles and calls on each tier: `answer()` returns 6 × 7.
const PROBE_WAT: &str =
    r#"(module (func (export "answer") (result i32) i32.const 6 i32.const 7 i32.mul))"#;

/// Compile and call the embedded probe module on `tier`; returns what `answer()` returned.
pub fn probe(tier: WasmTier) -> Result<i32> {
    let engine = engine(tier)?;
    let module = Module::new(&engine, PROBE_WAT).map_err(|e| wasm_err(tier, "compiling", e))?;
    let mut store = Store::new(&engine, ());
    store.set_epoch_deadline(u64::MAX);
    let instance = wasmtime::Instance::new(&mut store, &module, &[])
        .map_err(|e| wasm_err(tier, "instantiating", e))?;
    let f = instance
        .get_typed_func::<(), i32>(&mut store, "answer")
        .map_err(|e| wasm_err(tier, "finding answer", e))?;
    f.call(&mut store, ()).map_err(|e| wasm_err(tier, "running", e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_tier_runs_the_probe() {
        for tier in WasmTier::ALL {
            assert_eq!(probe(tier).unwrap(), 42, "{}", tier.name());
        }
    }

    /// A WASI command written in text: prints a line, then exits with status 7.
    const HELLO: &str = r#"(module
      (import "wasi_snapshot_preview1" "fd_write" (func $w (param i32 i32 i32 i32) (result i32)))
      (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
      (memory (export "memory") 1)
      (data (i32.const 16) "hello\n")
      (func (export "_start")
        (i32.store (i32.const 0) (i32.const 16))
        (i32.store (i32.const 4) (i32.const 6))
        (drop (call $w (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))
        (call $exit (i32.const 7))))"#;

    const SPIN: &str = r#"(module (func (export "_start") (loop $l (br $l))))"#;

    /// Grows its memory by 1 MiB (16 pages) forever, touching each new page.
    const GROW: &str = r#"(module
      (memory 1)
      (func (export "_start") (local $p i32)
        (loop $l
          (local.set $p (memory.grow (i32.const 16)))
          (i32.store (i32.mul (local.get $p) (i32.const 65536)) (i32.const 1))
          (br $l))))"#;

    #[test]
    fn a_guest_that_grows_past_the_cap_traps_naming_it_on_every_tier() {
        for tier in WasmTier::ALL {
            let m = WasmModule::compile(tier, GROW.as_bytes()).unwrap().with_max_memory(32 << 20);
            let r = m.run(&["grow".into()], Duration::from_secs(60)).unwrap();
            let trap = r.trap.unwrap_or_default();
            assert!(!r.timed_out, "{}", tier.name());
            assert!(
                trap.starts_with("memory limit:") && trap.contains("32.0 MiB allowed"),
                "{}: {trap}",
                tier.name()
            );
            assert!(trap.contains("--max-memory"), "{trap}");
        }
    }

    #[test]
    fn a_memory64_guest_is_capped_and_an_initial_memory_over_the_cap_is_refused() {
        // The hostile pass's case: a 64-bit memory has no 4 GiB ceiling of its own.
        let grow64 = r#"(module
          (memory i64 1)
          (func (export "_start")
            (loop $l (drop (memory.grow (i64.const 4096))) (br $l))))"#;
        let m = WasmModule::compile(WasmTier::Cranelift, grow64.as_bytes())
            .unwrap()
            .with_max_memory(64 << 20);
        let r = m.run(&["grow64".into()], Duration::from_secs(60)).unwrap();
        assert!(r.trap.as_deref().unwrap_or("").starts_with("memory limit:"), "{:?}", r.trap);

        let big = r#"(module (memory 2048) (func (export "_start")))"#; // 128 MiB
        let m = WasmModule::compile(WasmTier::Cranelift, big.as_bytes()).unwrap();
        assert_eq!(m.max_memory(), DEFAULT_MAX_MEMORY);
        assert!(m.run(&["big".into()], Duration::from_secs(10)).unwrap().exit_code == Some(0));
        let m = m.with_max_memory(64 << 20);
        let err = m.run(&["big".into()], Duration::from_secs(10)).unwrap_err().to_string();
        assert!(err.contains("instantiating") && err.contains("memory limit"), "{err}");
    }

    #[test]
    fn output_past_the_limit_is_counted_not_a_trap() {
        // Writes the same 64 KiB 20 times (1.25 MiB) to stdout, then exits 0.
        let chatty = r#"(module
          (import "wasi_snapshot_preview1" "fd_write" (func $w (param i32 i32 i32 i32) (result i32)))
          (memory (export "memory") 2)
          (func (export "_start") (local $i i32)
            (i32.store (i32.const 0) (i32.const 65536))
            (i32.store (i32.const 4) (i32.const 65536))
            (loop $l
              (drop (call $w (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))
              (local.set $i (i32.add (local.get $i) (i32.const 1)))
              (br_if $l (i32.lt_u (local.get $i) (i32.const 20))))))"#;
        let m = WasmModule::compile(WasmTier::Cranelift, chatty.as_bytes()).unwrap();
        let r = m.run(&["chatty".into()], Duration::from_secs(30)).unwrap();
        assert_eq!((r.exit_code, r.trap.as_deref()), (Some(0), None));
        assert_eq!(r.stdout.len(), crate::process::OUTPUT_LIMIT);
        assert_eq!(r.stdout_dropped, 20 * 65536 - crate::process::OUTPUT_LIMIT as u64);
    }

    #[test]
    fn wasi_output_exit_and_timeout_on_every_tier() {
        for tier in WasmTier::ALL {
            let m = WasmModule::compile(tier, HELLO.as_bytes()).unwrap();
            let r = m.run(&["hello".into()], Duration::from_secs(10)).unwrap();
            assert_eq!(r.stdout, "hello\n", "{}", tier.name());
            assert_eq!(r.exit_code, Some(7));
            let spin = WasmModule::compile(tier, SPIN.as_bytes()).unwrap();
            let r = spin.run(&["spin".into()], Duration::from_millis(200)).unwrap();
            assert!(r.timed_out, "{}: {:?}", tier.name(), r.trap);
        }
    }
}
