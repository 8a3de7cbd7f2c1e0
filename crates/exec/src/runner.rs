//! The [`Runner`] trait: one way of executing a workload artifact, and its implementations.
//!
//! * `native`: the host's own binary, executed directly.
//! * `qemu:<platform>`: a foreign binary under QEMU user-mode, through binfmt_misc when the entry
//!   is enabled, else through the explicit `qemu-<arch>-static` binary (which one is recorded).
//! * `wasm:<tier>`: a WASI module in process under wasmtime; compiled once per runner.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::binfmt::Binfmt;
use crate::host::which_any;
use crate::process::{run_measured_with, Outcome};
use crate::wasm::{WasmModule, WasmTier};
use crate::{Error, Result};

pub use archbench_results::bench::{RunnerSpec, Sample};

/// What preparing a runner found out.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Prepared {
    /// How the runner executes (`binfmt qemu-aarch64`, `/usr/bin/qemu-arm-static`, `wasmtime 48.0.8 winch`).
    pub via: String,
    /// Seconds spent compiling (Wasm), charged once.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub compile_seconds: Option<f64>,
    /// The runner's version (`qemu-aarch64 version 7.2.22 …`, `wasmtime 48.0.8`); `None` for
    /// native.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
}

/// A way to execute an artifact.
pub trait Runner: Send {
    /// The spec it was made from.
    fn spec(&self) -> &RunnerSpec;
    /// Get ready to run `artifact` (check it, compile it). Called once before samples.
    fn prepare(&mut self, artifact: &Path) -> Result<Prepared>;
    /// Run once with `args` (without argv[0]) and extra environment.
    fn run(
        &mut self,
        args: &[String],
        env: &[(String, String)],
        timeout: Duration,
    ) -> Result<Sample>;
}

/// The last five lines of `s` (a failed run's stderr, as results keep it).
pub fn tail(s: &str) -> String {
    let lines: Vec<&str> = s.lines().collect();
    lines[lines.len().saturating_sub(5)..].join("\n")
}

/// Native and QEMU runners: a child process per sample.
pub struct ProcessRunner {
    spec: RunnerSpec,
    artifact: PathBuf,
    /// `Some(qemu)` to run through an explicit emulator instead of executing directly.
    emulator: Option<PathBuf>,
    binfmt: Binfmt,
    io: Io,
}

/// What a user's program gets besides its arguments, the same on every runner: standard input,
/// extra environment, and the name it is called by. The suite's workloads use the defaults.
#[derive(Debug, Clone, Default)]
pub struct Io {
    /// Standard input is read from this file (else it is closed).
    pub stdin: Option<PathBuf>,
    /// Set in the program's environment. A process also inherits archbench's environment; a
    /// Wasm guest sees only these (WASI has no inherited environment).
    pub env: Vec<(String, String)>,
    /// Preopen the current directory as `.` for Wasm guests, so relative paths mean what they
    /// mean for the native program.
    pub wasm_cwd: bool,
    /// `argv[0]` for Wasm guests (processes get their path, as a shell would give it).
    pub argv0: Option<String>,
    /// For QEMU: the sysroot of a dynamically linked program (`QEMU_LD_PREFIX`), such as
    /// `/usr/aarch64-linux-gnu`.
    pub sysroot: Option<PathBuf>,
    /// For Wasm guests: the memory cap in bytes (default [`crate::wasm::DEFAULT_MAX_MEMORY`]).
    pub max_memory: Option<u64>,
}

impl ProcessRunner {
    /// A runner for `spec` (native or qemu).
    pub fn new(spec: RunnerSpec) -> Self {
        Self::with_io(spec, Io::default())
    }

    /// A runner for `spec` with `io`.
    pub fn with_io(spec: RunnerSpec, io: Io) -> Self {
        Self { spec, artifact: PathBuf::new(), emulator: None, binfmt: Binfmt::default(), io }
    }
}

impl Runner for ProcessRunner {
    fn spec(&self) -> &RunnerSpec {
        &self.spec
    }

    fn prepare(&mut self, artifact: &Path) -> Result<Prepared> {
        if !artifact.is_file() {
            return Err(Error::Io {
                action: "finding the artifact",
                path: artifact.display().to_string(),
                source: std::io::ErrorKind::NotFound.into(),
            });
        }
        // A bare name (`prog`) would be looked up on PATH by exec, not in the current
        // directory, where `is_file` just found it: spawn it as `./prog`.
        self.artifact = if artifact.components().count() == 1 && artifact.is_relative() {
            Path::new(".").join(artifact)
        } else {
            artifact.to_owned()
        };
        let via = match &self.spec {
            RunnerSpec::Qemu(p) => match self.binfmt.check(p) {
                Ok(e) => format!("binfmt {} ({})", e.name, e.interpreter),
                Err(why) => {
                    let qemu = which_any(&p.qemu_binaries()).ok_or_else(|| Error::Io {
                        action: "finding QEMU for",
                        path: format!(
                            "{p}: {why}; and no {} on PATH to run it explicitly",
                            p.qemu_binaries().join(" or ")
                        ),
                        source: std::io::ErrorKind::NotFound.into(),
                    })?;
                    self.emulator = Some(qemu.clone());
                    format!("explicit {}", qemu.display())
                }
            },
            _ => "direct".to_owned(),
        };
        let version = match &self.spec {
            RunnerSpec::Qemu(p) => {
                let qemu = self.emulator.clone().or_else(|| which_any(&p.qemu_binaries()));
                qemu.and_then(|q| crate::host::version_line(&q))
            }
            _ => None,
        };
        Ok(Prepared { via, compile_seconds: None, version })
    }

    fn run(
        &mut self,
        args: &[String],
        env: &[(String, String)],
        timeout: Duration,
    ) -> Result<Sample> {
        let mut cmd = match &self.emulator {
            Some(q) => {
                let mut c = Command::new(q);
                c.arg(&self.artifact);
                c
            }
            None => Command::new(&self.artifact),
        };
        cmd.args(args).envs(env.iter().chain(&self.io.env).map(|(k, v)| (k, v)));
        if let (RunnerSpec::Qemu(_), Some(root)) = (&self.spec, &self.io.sysroot) {
            // Read by QEMU whether it runs through binfmt or explicitly.
            cmd.env("QEMU_LD_PREFIX", root);
        }
        let m = run_measured_with(&mut cmd, timeout, self.io.stdin.as_deref())?;
        Ok(Sample {
            wall: m.wall,
            user: m.user,
            sys: m.sys,
            max_rss: Some(m.max_rss),
            stderr_tail: if m.outcome.success() { String::new() } else { tail(&m.stderr) },
            outcome: m.outcome,
            stdout: m.stdout,
            stdout_dropped: m.stdout_dropped,
            wasm: None,
            startup: None,
        })
    }
}

/// A Wasm tier in process.
pub struct WasmRunner {
    spec: RunnerSpec,
    tier: WasmTier,
    module: Option<WasmModule>,
    /// Host directory preopened as `/tmp` in the guest.
    pub scratch: PathBuf,
    io: Io,
    stdin: Option<Vec<u8>>,
}

impl WasmRunner {
    /// A runner for one tier; `scratch` is preopened as `/tmp`.
    pub fn new(tier: WasmTier, scratch: PathBuf) -> Self {
        Self::with_io(tier, scratch, Io::default())
    }

    /// A runner for one tier with `io`.
    pub fn with_io(tier: WasmTier, scratch: PathBuf, io: Io) -> Self {
        Self { spec: RunnerSpec::Wasm(tier), tier, module: None, scratch, io, stdin: None }
    }
}

fn thread_cpu() -> (f64, f64) {
    // SAFETY: getrusage fills a plain struct.
    let mut u: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: valid pointer; RUSAGE_THREAD measures only the calling thread, which runs the guest.
    unsafe { libc::getrusage(libc::RUSAGE_THREAD, &mut u) };
    let tv = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    (tv(u.ru_utime), tv(u.ru_stime))
}

impl Runner for WasmRunner {
    fn spec(&self) -> &RunnerSpec {
        &self.spec
    }

    fn prepare(&mut self, artifact: &Path) -> Result<Prepared> {
        // Compiled from memory: read under the program rules (a regular file, at most 1 GiB).
        let bytes = archbench_input::read(
            artifact,
            archbench_input::Kind::Program,
            archbench_input::Named::ByUser,
        )?;
        if let Some(path) = &self.io.stdin {
            self.stdin = Some(archbench_input::read(
                path,
                archbench_input::Kind::Stdin,
                archbench_input::Named::ByUser,
            )?);
        }
        let module = WasmModule::compile(self.tier, &bytes)?
            .with_max_memory(self.io.max_memory.unwrap_or(crate::wasm::DEFAULT_MAX_MEMORY));
        let compile = module.compile_seconds;
        self.module = Some(module);
        Ok(Prepared {
            via: format!("wasmtime {} {}", crate::wasm::WASMTIME_VERSION, self.tier.name()),
            compile_seconds: Some(compile),
            version: Some(format!("wasmtime {}", crate::wasm::WASMTIME_VERSION)),
        })
    }

    fn run(
        &mut self,
        args: &[String],
        env: &[(String, String)],
        timeout: Duration,
    ) -> Result<Sample> {
        let module = self.module.as_ref().expect("prepare() before run()");
        let mut argv = vec![self.io.argv0.clone().unwrap_or_else(|| "workloads".to_owned())];
        argv.extend_from_slice(args);
        let mut env: Vec<(String, String)> = env.iter().chain(&self.io.env).cloned().collect();
        for (k, v) in env.iter_mut() {
            if k == "WORKLOAD_TMP" {
                *v = "/tmp".into();
            }
        }
        let cwd = std::env::current_dir().ok().filter(|_| self.io.wasm_cwd);
        let mut dirs: Vec<(&Path, &str)> = vec![(&self.scratch, "/tmp")];
        if let Some(c) = &cwd {
            dirs.push((c, "."));
        }
        let (u0, s0) = thread_cpu();
        let r = module.run_io(&argv, &env, &dirs, self.stdin.as_deref(), timeout)?;
        let (u1, s1) = thread_cpu();
        let outcome = if r.timed_out {
            Outcome::TimedOut { limit_seconds: timeout.as_secs_f64() }
        } else if let Some(code) = r.exit_code {
            Outcome::Exited { code }
        } else {
            // A trap is the guest's crash: record it like a fatal signal.
            Outcome::Signaled {
                signal: 0,
                // wasmtime's first line is a generic header; the cause comes last.
                name: format!(
                    "trap: {}",
                    r.trap
                        .as_deref()
                        .unwrap_or("")
                        .lines()
                        .map(str::trim)
                        .rfind(|l| !l.is_empty())
                        .unwrap_or("")
                ),
            }
        };
        Ok(Sample {
            wall: r.timings.instantiate + r.timings.run,
            user: u1 - u0,
            sys: s1 - s0,
            max_rss: None,
            stderr_tail: if outcome.success() { String::new() } else { tail(&r.stderr) },
            outcome,
            stdout: r.stdout,
            stdout_dropped: r.stdout_dropped,
            wasm: Some(r.timings),
            startup: None,
        })
    }
}

/// Make the runner for a spec; `scratch` is the directory workloads may write to.
pub fn make_runner(spec: &RunnerSpec, scratch: &Path) -> Box<dyn Runner> {
    make_runner_with(spec, scratch, Io::default())
}

/// [`make_runner`] for a user's program, with its standard input, environment and sysroot.
pub fn make_runner_with(spec: &RunnerSpec, scratch: &Path, io: Io) -> Box<dyn Runner> {
    match spec {
        RunnerSpec::Wasm(t) => Box::new(WasmRunner::with_io(*t, scratch.to_owned(), io)),
        other => Box::new(ProcessRunner::with_io(other.clone(), io)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use archbench_platform::Platform;

    #[test]
    fn specs_parse_and_print() {
        for s in ["native", "qemu:linux/arm64", "qemu:linux/arm/v7", "wasm:winch"] {
            assert_eq!(s.parse::<RunnerSpec>().unwrap().to_string(), s);
        }
        assert_eq!("qemu:armhf".parse::<RunnerSpec>().unwrap().to_string(), "qemu:linux/arm/v7");
        assert!("qemu:wasi/wasm".parse::<RunnerSpec>().unwrap_err().contains("cannot emulate"));
        assert!("docker".parse::<RunnerSpec>().unwrap_err().contains("accepted"));
        assert_eq!(RunnerSpec::default_set().len(), 7);
    }

    /// Native and QEMU runners execute the doctor's probes through binfmt and report the status.
    #[test]
    fn process_runners_execute_native_and_foreign_probes() {
        let dir = tempfile::tempdir().unwrap();
        for spec in [
            RunnerSpec::Native,
            RunnerSpec::Qemu(Platform::linux_arm64()),
            RunnerSpec::Qemu(Platform::linux_riscv64()),
        ] {
            let path = dir.path().join(spec.platform().short().replace('/', "-"));
            std::fs::write(&path, crate::tiny::probe_elf(&spec.platform()).unwrap()).unwrap();
            std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o755))
                .unwrap();
            let mut r = make_runner(&spec, dir.path());
            let prepared =
                r.prepare(&path).unwrap_or_else(|e| panic!("{spec}: {e} (run scripts/setup)"));
            if matches!(spec, RunnerSpec::Qemu(_)) {
                let v = prepared.version.as_deref().unwrap_or_default();
                assert!(v.starts_with("qemu-"), "the QEMU version is recorded: {v:?}");
                assert!(
                    prepared.via.starts_with("binfmt") || prepared.via.starts_with("explicit"),
                    "{}",
                    prepared.via
                );
            }
            let s = r.run(&[], &[], Duration::from_secs(20)).unwrap();
            assert_eq!(s.outcome, Outcome::Exited { code: 42 }, "{spec}");
            assert!(s.max_rss.is_some());
        }
    }

    /// The Wasm runner preopens the scratch directory as /tmp and reports stage timings.
    #[test]
    fn wasm_runner_writes_into_the_preopened_scratch_dir() {
        let dir = tempfile::tempdir().unwrap();
        let wat = r#"(module
          (import "wasi_snapshot_preview1" "path_open" (func $open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
          (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
          (memory (export "memory") 1)
          (data (i32.const 0) "made")
          (func (export "_start")
            ;; fd 3 is the first preopen; O_CREAT = 1; rights: all.
            (call $exit (call $open (i32.const 3) (i32.const 0) (i32.const 0) (i32.const 4) (i32.const 1)
                                    (i64.const 0x1fffffff) (i64.const 0x1fffffff) (i32.const 0) (i32.const 16)))))"#;
        let module = dir.path().join("m.wat");
        std::fs::write(&module, wat).unwrap();
        let scratch = tempfile::tempdir().unwrap();
        let mut r = make_runner(&RunnerSpec::Wasm(WasmTier::Cranelift), scratch.path());
        let p = r.prepare(&module).unwrap();
        assert!(p.compile_seconds.unwrap() > 0.0);
        let s = r.run(&[], &[], Duration::from_secs(10)).unwrap();
        assert_eq!(s.outcome, Outcome::Exited { code: 0 }, "errno from path_open");
        assert!(scratch.path().join("made").exists());
        assert!(s.wasm.unwrap().run >= 0.0);
    }
}
