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

use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use wasmtime::{Config, Engine, Linker, Module, Store, Strategy};
use wasmtime_wasi::p1::WasiP1Ctx;
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::WasiCtxBuilder;

use crate::{Error, Result};

/// The wasmtime version linked in.
pub const WASMTIME_VERSION: &str = "48.0.8";

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
}

/// A module compiled for one tier, ready to run many times.
pub struct WasmModule {
    tier: WasmTier,
    engine: Engine,
    module: Module,
    linker: Linker<WasiP1Ctx>,
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
        let mut linker: Linker<WasiP1Ctx> = Linker::new(&engine);
        wasmtime_wasi::p1::add_to_linker_sync(&mut linker, |t| t)
            .map_err(|e| wasm_err(tier, "linking WASI", e))?;
        Ok(Self { tier, engine, module, linker, compile_seconds })
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
        let stdout = MemoryOutputPipe::new(crate::process::OUTPUT_LIMIT);
        let stderr = MemoryOutputPipe::new(crate::process::OUTPUT_LIMIT);
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

        let start = Instant::now();
        let mut store = Store::new(&self.engine, wasi);
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
        let start = Instant::now();
        let result = entry.call(&mut store, ());
        let run = start.elapsed().as_secs_f64();
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
                } else {
                    (None, Some(format!("{e:#}")), false)
                }
            }
        };
        Ok(WasmRun {
            timings: WasmTimings { compile: 0.0, instantiate, run },
            exit_code,
            trap,
            timed_out,
            stdout: String::from_utf8_lossy(&stdout.contents()).into_owned(),
            stderr: String::from_utf8_lossy(&stderr.contents()).into_owned(),
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
