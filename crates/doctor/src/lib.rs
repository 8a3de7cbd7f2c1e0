//! The checks behind `archbench doctor`: can this machine emulate, build and run what archbench
//! measures? Each check says ok, warn or fail, and every failure carries the exact fix.
//!
//! Nothing here trusts a registration alone: emulation counts as working only when an embedded
//! probe binary of that architecture actually executes and returns the expected status.
#![deny(missing_docs)]

use std::os::unix::fs::PermissionsExt;
use std::process::Command;
use std::time::{Duration, Instant};

use archbench_platform::Platform;
use archbench_platform::StaticBuild;
use serde::{Deserialize, Serialize};

use archbench_engine::{Engine, EngineInfo};
use archbench_exec::binfmt::Binfmt;
use archbench_exec::host::{qemu_version, which, which_any};
use archbench_exec::process::{run_measured, Outcome};
use archbench_exec::tiny::{probe_elf, PROBE_EXIT_CODE};
use archbench_exec::wasm::{self, WasmTier};
use archbench_oci::docker_save::of_files as docker_archive;

/// The verdict of one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Works.
    Ok,
    /// Missing or degraded, but archbench can go on without it (the feature that needs it will say so).
    Warn,
    /// Broken.
    Fail,
}

/// One line of the doctor's report.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Check {
    /// Stable identifier (`emulation:linux/arm64`).
    pub id: String,
    /// The verdict.
    pub status: Status,
    /// Whether a failure here makes `doctor` exit non-zero.
    pub required: bool,
    /// What was found.
    pub summary: String,
    /// The exact command or step that fixes a warning or failure.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
}

impl Check {
    fn ok(id: impl Into<String>, required: bool, summary: impl Into<String>) -> Self {
        Self { id: id.into(), status: Status::Ok, required, summary: summary.into(), fix: None }
    }
    fn bad(
        id: impl Into<String>,
        required: bool,
        summary: impl Into<String>,
        fix: impl Into<String>,
    ) -> Self {
        let status = if required { Status::Fail } else { Status::Warn };
        Self { id: id.into(), status, required, summary: summary.into(), fix: Some(fix.into()) }
    }
}

/// What to check.
#[derive(Debug, Clone)]
pub struct DoctorOptions {
    /// Platforms whose emulation must work (failures are required failures).
    pub required_platforms: Vec<Platform>,
    /// Platforms checked but only warned about.
    pub optional_platforms: Vec<Platform>,
    /// Docker host to probe (`None`: `DOCKER_HOST` or the local socket).
    pub docker_host: Option<String>,
    /// Skip the Docker Engine checks entirely.
    pub skip_docker: bool,
    /// Time limit of each probe.
    pub probe_timeout: Duration,
    /// binfmt_misc view (the real one unless testing).
    pub binfmt: Binfmt,
}

impl Default for DoctorOptions {
    fn default() -> Self {
        Self {
            required_platforms: vec![
                Platform::linux_arm64(),
                Platform::linux_arm_v7(),
                Platform::linux_riscv64(),
            ],
            optional_platforms: vec![
                "linux/ppc64le".parse().expect("table"),
                "linux/s390x".parse().expect("table"),
            ],
            docker_host: None,
            skip_docker: false,
            probe_timeout: Duration::from_secs(15),
            binfmt: Binfmt::default(),
        }
    }
}

/// The full report.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Report {
    /// Every check, in the order run.
    pub checks: Vec<Check>,
    /// The Docker Engine, when one answered.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub engine: Option<EngineInfo>,
}

impl Report {
    /// True when no required check failed.
    pub fn passed(&self) -> bool {
        !self.checks.iter().any(|c| c.required && c.status == Status::Fail)
    }
}

/// Write the probe for `platform` to a private temp file and execute it directly (through
/// binfmt when it is foreign). Returns how it ended.
/// Why a probe program did not run (its outcome, when it ran, is a result, not this).
#[derive(Debug, thiserror::Error)]
enum ProbeError {
    #[error("no probe binary for {0}")]
    NoBinary(Platform),
    #[error("{what}")]
    Io {
        what: String,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Run(#[from] archbench_exec::Error),
}

fn execute_probe(platform: &Platform, timeout: Duration) -> Result<(Outcome, f64), ProbeError> {
    let io = |what: String| move |source| ProbeError::Io { what, source };
    let elf = probe_elf(platform).ok_or_else(|| ProbeError::NoBinary(platform.clone()))?;
    let dir = tempfile::tempdir().map_err(io("creating a temporary directory".into()))?;
    let path = dir.path().join(format!("probe-{}", platform.short().replace('/', "-")));
    std::fs::write(&path, &elf).map_err(io(format!("writing {}", path.display())))?;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))
        .map_err(io(format!("making {} executable", path.display())))?;
    let m = run_measured(&mut Command::new(&path), timeout)?;
    Ok((m.outcome, m.wall))
}

fn emulation_check(opts: &DoctorOptions, platform: &Platform, required: bool) -> Check {
    let id = format!("emulation:{platform}");
    let entry = match opts.binfmt.check(platform) {
        Ok(e) => e,
        Err(e) => return Check::bad(id, required, e.problem, e.fix),
    };
    let entry_name = entry.name.clone();
    let qemu = platform.qemu_arch().unwrap_or_default();
    let install = "apt-get install qemu-user-static binfmt-support (or run scripts/setup)";
    match execute_probe(platform, opts.probe_timeout) {
        Ok((Outcome::Exited { code }, wall)) if code == PROBE_EXIT_CODE => {
            let mut summary = format!(
                "{entry_name} (flags {}) ran the {qemu} probe: exit {code} in {:.0} ms",
                entry.flags,
                wall * 1e3
            );
            if !entry.fix_binary() {
                summary.push_str("; no F flag: containers cannot use it");
                return Check {
                    id,
                    status: Status::Warn,
                    required,
                    summary,
                    fix: Some(format!("re-register {entry_name} with the F flag: update-binfmts --disable {entry_name}; set 'fix_binary yes' in /usr/share/binfmts/{entry_name}; update-binfmts --import {entry_name}")),
                };
            }
            Check::ok(id, required, summary)
        }
        Ok((outcome, _)) => Check::bad(
            id,
            required,
            format!(
                "the {qemu} probe ran but ended with {outcome} (expected exit {PROBE_EXIT_CODE})"
            ),
            format!("check the interpreter {} ({install})", entry.interpreter),
        ),
        Err(e) => Check::bad(
            id,
            required,
            format!("the {qemu} probe did not execute: {}", archbench_results::error_line(&e)),
            format!("{install}; check {}/{entry_name}", opts.binfmt.dir().display()),
        ),
    }
}

fn native_check() -> Check {
    let host = Platform::host();
    let id = format!("native:{host}");
    match execute_probe(&host, Duration::from_secs(10)) {
        Ok((Outcome::Exited { code: PROBE_EXIT_CODE }, wall)) => Check::ok(
            id,
            true,
            format!("native probe: exit {PROBE_EXIT_CODE} in {:.1} ms", wall * 1e3),
        ),
        Ok((o, _)) => Check::bad(
            id,
            true,
            format!("native probe ended with {o}"),
            "report this as a bug in archbench",
        ),
        Err(e) => Check::bad(
            id,
            true,
            format!("native probe did not run: {}", archbench_results::error_line(&e)),
            "make the temp directory executable (not mounted noexec) or set TMPDIR",
        ),
    }
}

fn docker_checks(
    opts: &DoctorOptions,
    platforms: &[Platform],
    checks: &mut Vec<Check>,
) -> Option<EngineInfo> {
    let fix = "start the engine: scripts/setup (or: dockerd &); or point DOCKER_HOST at one";
    let engine = match Engine::connect(opts.docker_host.as_deref(), Duration::from_secs(10)) {
        Ok(e) => e,
        Err(e) => {
            checks.push(Check::bad("docker:engine", false, archbench_results::error_line(&e), fix));
            return None;
        }
    };
    let info = match engine.info() {
        Ok(i) => i,
        Err(e) => {
            checks.push(Check::bad("docker:engine", false, archbench_results::error_line(&e), fix));
            return None;
        }
    };
    checks.push(Check::ok(
        "docker:engine",
        false,
        format!(
            "Docker Engine {} (API {}, {}) at {}, {}",
            info.version,
            info.api_version,
            info.platform,
            info.host,
            match (info.containerd_store, info.storage_driver.as_deref()) {
                (true, d) =>
                    format!("containerd image store (snapshotter {})", d.unwrap_or("unknown")),
                (false, d) =>
                    format!("its own image store (graph driver {})", d.unwrap_or("unknown")),
            }
        ),
    ));
    // Which builder `archbench build` will use here, by the rule the build itself follows.
    let (builder, why) = archbench_builder::buildkit::choose(None, &info);
    checks.push(match builder {
        archbench_results::build::Builder::Buildkit => Check::ok("docker:builder", false, why),
        archbench_results::build::Builder::Classic => Check::bad(
            "docker:builder",
            false,
            why,
            "builds fall back to the classic builder, which times steps from its output; an engine of API 1.39 or newer (Docker 18.09+) builds with BuildKit, as buildx does",
        ),
    });
    if builder == archbench_results::build::Builder::Buildkit {
        buildkit_checks(&engine, checks);
    }
    for p in platforms {
        let Some(elf) = probe_elf(p) else { continue };
        let id = format!("docker:run:{p}");
        let tag = format!("archbench-probe:{}", p.short().replace('/', "-"));
        let archive = docker_archive(&tag, p, &[("probe", 0o755, &elf)], &["/probe"]);
        let started = Instant::now();
        let result = engine.load_archive(archive).and_then(|_| engine.run_to_exit(&tag, p));
        checks.push(match result {
            Ok(code) if code == i64::from(PROBE_EXIT_CODE) => Check::ok(
                &id,
                false,
                format!(
                    "container of {p} ran the probe: exit {code} in {:.2} s",
                    started.elapsed().as_secs_f64()
                ),
            ),
            Ok(code) => Check::bad(
                &id,
                false,
                format!("container of {p} exited {code} (expected {PROBE_EXIT_CODE})"),
                format!("check emulation:{p} above; binfmt entries need the F flag for containers"),
            ),
            Err(e) => Check::bad(
                &id,
                false,
                archbench_results::error_line(&e),
                format!("check emulation:{p} above and the engine log"),
            ),
        });
        engine.remove_image(&tag);
    }
    Some(info)
}

/// The engine's BuildKit: its version and workers, then one line per capability, each found by
/// a tiny solve (see `archbench_engine::buildkit::probe`). None is required: `build` refuses
/// what the engine cannot do, naming the limit.
fn buildkit_checks(engine: &Engine, checks: &mut Vec<Check>) {
    let facts = match engine.buildkit_facts() {
        Ok(Some(f)) => f,
        Ok(None) => {
            checks.push(Check::ok(
                "docker:buildkit",
                false,
                "not probed: archbench reaches BuildKit's own endpoints only over a Unix socket, ssh or TCP without TLS",
            ));
            return;
        }
        Err(e) => {
            checks.push(Check::bad(
                "docker:buildkit",
                false,
                archbench_results::error_line(&e),
                "check the engine log; builds may still run through the HTTP build endpoint",
            ));
            return;
        }
    };
    checks.push(Check::ok(
        "docker:buildkit",
        false,
        format!(
            "BuildKit {}; workers: {}",
            facts
                .version
                .as_deref()
                .unwrap_or("(version not reported: the Info call came in v0.11)"),
            if facts.workers.is_empty() {
                "none listed".to_owned()
            } else {
                facts.workers.join("; ")
            }
        ),
    ));
    for c in facts.capabilities {
        let id = format!("buildkit:{}", c.name);
        checks.push(if c.available {
            Check::ok(id, false, c.detail)
        } else {
            let fix = match c.name.as_str() {
                "oci-export" | "multi-platform" | "non-linux-images" | "registry-cache" => {
                    "an engine with the containerd image store can (Docker Engine 24+ with features.containerd-snapshotter; scripts/setup starts one at unix:///run/archbench/modern.sock)"
                }
                _ => "BuildKit 0.13 or newer rewrites layer times (the containerd image store's engines have it)",
            };
            Check::bad(id, false, format!("no: {}", first_line(&c.detail)), fix)
        });
    }
}

/// The first line of an engine message, at most 200 characters.
fn first_line(s: &str) -> String {
    let line = s.lines().next().unwrap_or_default();
    line.chars().take(200).collect()
}

fn toolchain_checks(checks: &mut Vec<Check>) {
    for (gcc, pkg) in StaticBuild::all().filter_map(|b| b.linker) {
        let id = format!("cross:{gcc}");
        checks.push(match which(gcc) {
            Some(p) => Check::ok(id, false, format!("{}", p.display())),
            None => {
                Check::bad(id, false, format!("{gcc} not found"), format!("apt-get install {pkg}"))
            }
        });
    }
    let installed = which("rustup").and_then(|r| {
        run_measured(
            Command::new(r).args(["target", "list", "--installed"]),
            Duration::from_secs(20),
        )
        .ok()
    });
    match installed {
        Some(m) if m.outcome.success() => {
            let have: Vec<&str> = m.stdout.lines().map(str::trim).collect();
            let missing: Vec<&str> =
                StaticBuild::all().map(|b| b.triple).filter(|t| !have.contains(t)).collect();
            checks.push(if missing.is_empty() {
                Check::ok(
                    "rustup:targets",
                    false,
                    format!(
                        "installed: {}",
                        StaticBuild::all().map(|b| b.triple).collect::<Vec<_>>().join(", ")
                    ),
                )
            } else {
                Check::bad(
                    "rustup:targets",
                    false,
                    format!("missing: {}", missing.join(", ")),
                    format!("rustup target add {}", missing.join(" ")),
                )
            });
        }
        _ => checks.push(Check::bad(
            "rustup:targets",
            false,
            "rustup not found or failed",
            "install rustup, then run scripts/setup",
        )),
    }
}
// Long (about 85 lines): the checks in the order doctor prints them, one short block each.

/// Run every check.
pub fn run(opts: &DoctorOptions) -> Report {
    let mut checks = Vec::new();
    let host = Platform::host();
    let uname = rustix::system::uname();
    let kernel = uname.release().to_string_lossy().into_owned();
    let emulated = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|t| archbench_exec::host::emulated(std::env::consts::ARCH, &t));
    checks.push(match emulated {
        Some(true) => Check::bad(
            "host",
            false,
            format!("{host}, kernel {kernel}: EMULATED, this archbench runs under QEMU on another CPU, so what it measures is not {host} speed (results files say emulated: true)"),
            "for native figures run the archbench built for this CPU's own architecture",
        ),
        Some(false) => Check::ok("host", true, format!("{host}, kernel {kernel}")),
        None => Check::ok("host", true, format!("{host}, kernel {kernel}; /proc/cpuinfo does not say whether it runs natively")),
    });
    checks.push(native_check());
    if opts.binfmt.mounted() {
        let status = if opts.binfmt.globally_enabled() { "enabled" } else { "disabled" };
        if opts.binfmt.globally_enabled() {
            checks.push(Check::ok(
                "binfmt",
                true,
                format!("binfmt_misc mounted at {}, {status}", opts.binfmt.dir().display()),
            ));
        } else {
            checks.push(Check::bad(
                "binfmt",
                true,
                "binfmt_misc is globally disabled",
                format!("echo 1 > {}/status", opts.binfmt.dir().display()),
            ));
        }
    } else {
        checks.push(Check::bad(
            "binfmt",
            true,
            "binfmt_misc is not mounted",
            format!("mount -t binfmt_misc binfmt_misc {}", opts.binfmt.dir().display()),
        ));
    }
    for p in &opts.required_platforms {
        checks.push(emulation_check(opts, p, true));
    }
    for p in &opts.optional_platforms {
        checks.push(emulation_check(opts, p, false));
    }
    let all_platforms: Vec<Platform> =
        std::iter::once(host.clone()).chain(opts.required_platforms.iter().cloned()).collect();
    let qemu = which_any(&Platform::linux_arm64().qemu_binaries());
    checks.push(match (qemu, qemu_version()) {
        (Some(p), Some(v)) => Check::ok("qemu:version", false, format!("{v} ({})", p.display())),
        _ => Check::bad(
            "qemu:version",
            false,
            "qemu-aarch64-static not found on PATH",
            "apt-get install qemu-user-static",
        ),
    });
    let engine =
        if opts.skip_docker { None } else { docker_checks(opts, &all_platforms, &mut checks) };
    toolchain_checks(&mut checks);
    for tier in WasmTier::ALL {
        let id = format!("wasm:{}", tier.name());
        let started = Instant::now();
        checks.push(match wasm::probe(tier) {
            Ok(42) => Check::ok(
                id,
                true,
                format!(
                    "wasmtime {} compiled and ran the probe module in {:.0} ms",
                    wasm::WASMTIME_VERSION,
                    started.elapsed().as_secs_f64() * 1e3
                ),
            ),
            Ok(v) => Check::bad(
                id,
                true,
                format!("the probe module returned {v}, expected 42"),
                "report this as a bug in archbench",
            ),
            Err(e) => Check::bad(
                id,
                true,
                e.to_string(),
                "report this as a bug in archbench (wasmtime is built in)",
            ),
        });
    }
    Report { checks, engine }
}
