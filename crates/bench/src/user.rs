//! The user's own programs: which runner runs each file, or why none can here.
//!
//! Each file is identified with archid. An ELF for the host's platform runs natively; an ELF
//! for another platform runs under QEMU (through binfmt, or the explicit `qemu-<arch>-static`),
//! and, when it is dynamically linked, needs its loader: either installed on this machine or
//! under a sysroot given with `-L` (Debian's cross libc lives in `/usr/<triple>`). A Wasm
//! module runs in process on every wasmtime tier (or the tiers asked for). A script with a
//! shebang runs as the host runs it. Anything else is refused with the reason and the fix, and
//! the other files still run.

use std::path::{Path, PathBuf};

use archbench_archid::{Format, Identity, Kind, Linkage};
use archbench_exec::binfmt::Binfmt;
use archbench_exec::host::which_any;
use archbench_exec::runner::{make_runner_with, Io, Runner, RunnerSpec};
use archbench_platform::Platform;
use archbench_results::bench::WasmTier;

use crate::suite::Toolbox;

/// A file and the runner that runs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Program {
    /// The file.
    pub path: PathBuf,
    /// Its runner.
    pub runner: RunnerSpec,
    /// What it is, in words (`ELF aarch64, static`).
    pub what: String,
}

/// A file that cannot run here, why, and what to do about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    /// The file.
    pub path: PathBuf,
    /// Why not.
    pub why: String,
    /// The fix.
    pub fix: String,
}

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}; {}", self.path.display(), self.why, self.fix)
    }
}

/// Debian's cross C library for a platform: the sysroot QEMU needs for dynamic binaries, and
/// the package that installs it.
pub fn cross_libc(p: &Platform) -> Option<(PathBuf, String)> {
    let (triple, deb) = match (p.debian_arch()?, p.variant.as_deref()) {
        ("arm64", _) => ("aarch64-linux-gnu", "arm64"),
        ("armhf", _) => ("arm-linux-gnueabihf", "armhf"),
        ("armel", _) => ("arm-linux-gnueabi", "armel"),
        ("riscv64", _) => ("riscv64-linux-gnu", "riscv64"),
        ("ppc64el", _) => ("powerpc64le-linux-gnu", "ppc64el"),
        ("s390x", _) => ("s390x-linux-gnu", "s390x"),
        ("i386", _) => ("i686-linux-gnu", "i386"),
        ("amd64", _) => ("x86_64-linux-gnu", "amd64"),
        ("mips64el", _) => ("mips64el-linux-gnuabi64", "mips64el"),
        _ => return None,
    };
    Some((PathBuf::from(format!("/usr/{triple}")), format!("libc6-{deb}-cross")))
}

/// What to run each file with. `tiers` picks the Wasm tiers (all when empty); `sysroot` is the
/// `-L` directory for dynamic foreign binaries.
pub fn plan(
    files: &[PathBuf],
    tiers: &[WasmTier],
    sysroot: Option<&Path>,
) -> (Vec<Program>, Vec<Refused>) {
    let mut ok = Vec::new();
    let mut refused = Vec::new();
    for f in files {
        match classify(f, tiers, sysroot, &Binfmt::default()) {
            Ok(mut ps) => ok.append(&mut ps),
            Err((why, fix)) => refused.push(Refused { path: f.clone(), why, fix }),
        }
    }
    // Two files for one runner would make two cells of one name and runner.
    let mut seen: Vec<(RunnerSpec, PathBuf)> = Vec::new();
    ok.retain(|p| {
        if let Some((_, first)) = seen.iter().find(|(r, _)| *r == p.runner) {
            refused.push(Refused {
                path: p.path.clone(),
                why: format!("{} already runs {} on {}", first.display(), p.what, p.runner),
                fix: "give one program per platform".into(),
            });
            return false;
        }
        seen.push((p.runner.clone(), p.path.clone()));
        true
    });
    (ok, refused)
}

type Why = (String, String);

fn classify(
    f: &Path,
    tiers: &[WasmTier],
    sysroot: Option<&Path>,
    binfmt: &Binfmt,
) -> Result<Vec<Program>, Why> {
    // A FIFO or a device is refused at once (reading /dev/zero whole grew without end; a FIFO
    // hung before --timeout applied), a program may be up to 1 GiB (archbench_input), and it
    // is mapped rather than read, so identifying it costs its headers' pages, not its size.
    let unreadable = |source: std::io::Error| {
        (format!("cannot be read ({source})"), "check the path and its permissions".to_owned())
    };
    let file =
        archbench_input::open(f, archbench_input::Kind::Program, archbench_input::Named::ByUser)
            .map_err(|e| match e {
                archbench_input::Error::Io { source, .. } => unreadable(source),
                other => (other.to_string(), "pass the program's file itself".to_owned()),
            })?;
    let not_a_program = || {
        (
            "not a program archbench can run: no ELF, Wasm or #! script header".to_owned(),
            "pass an executable built for a platform (an ELF binary, a .wasm module, or a script starting with #!)".to_owned(),
        )
    };
    let id = archbench_archid::walk::identify_open(&file)
        .map_err(unreadable)?
        .map_err(|e| (format!("unreadable as a binary ({e})"), "rebuild it".to_owned()))?
        .ok_or_else(not_a_program)?;
    let program = |runner: RunnerSpec, what: String| Program { path: f.to_owned(), runner, what };
    match (id.format, id.kind) {
        (Format::WasmComponent, _) => Err((
            "a Wasm component: archbench runs WASI preview 1 core modules".into(),
            "build it for wasm32-wasip1".into(),
        )),
        (Format::WasmModule, _) => {
            let tiers = if tiers.is_empty() { WasmTier::ALL.to_vec() } else { tiers.to_vec() };
            Ok(tiers
                .into_iter()
                .map(|t| program(RunnerSpec::Wasm(t), "Wasm module".into()))
                .collect())
        }
        (_, Kind::Script) => Ok(vec![program(
            RunnerSpec::Native,
            format!("script for {}", id.interpreter.as_deref().unwrap_or("its interpreter")),
        )]),
        (Format::Elf, Kind::Executable) => {
            elf(&id, sysroot, binfmt).map(|(r, w)| vec![program(r, w)])
        }
        (Format::Elf, kind) => Err((
            format!("an ELF {kind:?} file, not an executable").to_lowercase(),
            "pass the program, not a library or object file".into(),
        )),
        (format, _) => Err((
            format!(
                "a {format:?} binary{}: archbench runs Linux ELF programs and Wasm",
                id.platform.as_ref().map(|p| format!(" for {p}")).unwrap_or_default()
            ),
            "run it on its own operating system, or build it for Linux or wasm32-wasip1".into(),
        )),
    }
}

fn elf(
    id: &Identity,
    sysroot: Option<&Path>,
    binfmt: &Binfmt,
) -> Result<(RunnerSpec, String), Why> {
    let Some(p) = id.platform.clone() else {
        let machine = id.elf.as_ref().map(|e| e.machine.clone()).unwrap_or_default();
        return Err((
            format!("an ELF for machine {machine:?}, which archbench has no platform for"),
            "build it for linux/amd64, linux/arm64, linux/arm/v7 or linux/riscv64".into(),
        ));
    };
    let details = id.elf.clone().unwrap_or_default();
    let dynamic = details.linkage == Some(Linkage::Dynamic);
    let what = format!("ELF {p}, {}", if dynamic { "dynamically linked" } else { "static" });
    let host = Platform::host();
    if p.runs_natively_on(&host) {
        return Ok((RunnerSpec::Native, what));
    }
    if p.qemu_arch().is_none() {
        return Err((
            format!("built for {p}, which QEMU user-mode cannot emulate"),
            "run it on a machine of that platform".into(),
        ));
    }
    if let Err(why) = binfmt.check(&p) {
        if which_any(&p.qemu_binaries()).is_none() {
            return Err((
                format!("built for {p}: {}", why.problem),
                format!("{}; or put {} on PATH", why.fix, p.qemu_binaries().join(" or ")),
            ));
        }
    }
    if dynamic && sysroot.is_none() {
        let interp = details.interpreter.clone().unwrap_or_default();
        if !Path::new(&interp).exists() {
            let (dir, package) = cross_libc(&p)
                .map(|(d, pkg)| (d.display().to_string(), pkg))
                .unwrap_or_else(|| ("<sysroot>".into(), "the C library of that platform".into()));
            return Err((
                format!("dynamically linked for {p} against {interp}, which this machine lacks"),
                format!("pass -L {dir} (Debian package {package}), or link it statically"),
            ));
        }
    }
    Ok((RunnerSpec::Qemu(p), what))
}

/// The toolbox for the user's programs: each runner's file as given, and runners with the
/// user's standard input, environment and sysroot.
pub struct UserTools<'a> {
    /// The programs.
    pub programs: &'a [Program],
    /// Where runners may write (preopened as /tmp for Wasm).
    pub scratch: &'a Path,
    /// What every program gets.
    pub io: Io,
}

impl Toolbox for UserTools<'_> {
    fn artifact(&mut self, spec: &RunnerSpec) -> crate::Result<PathBuf> {
        self.programs
            .iter()
            .find(|p| p.runner == *spec)
            .map(|p| p.path.clone())
            .ok_or_else(|| crate::Error::NoProgram(spec.clone()))
    }

    fn runner(&mut self, spec: &RunnerSpec) -> Box<dyn Runner> {
        let mut io = self.io.clone();
        if let Some(p) = self.programs.iter().find(|p| p.runner == *spec) {
            io.argv0 = p.path.file_name().map(|n| n.to_string_lossy().into_owned());
        }
        make_runner_with(spec, self.scratch, io)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, bytes).unwrap();
        p
    }

    /// Files that are not programs are refused with the reason and a fix; the rest get runners.
    #[test]
    fn each_file_gets_a_runner_or_the_reason_it_has_none() {
        let d = tempfile::tempdir().unwrap();
        let native = archbench_exec::tiny::probe_elf(&Platform::host()).unwrap();
        let arm = archbench_exec::tiny::probe_elf(&Platform::linux_arm64()).unwrap();
        let files = [
            write(d.path(), "app-amd64", &native),
            write(d.path(), "app-arm64", &arm),
            write(d.path(), "app.wasm", b"\0asm\x01\0\0\0"),
            write(d.path(), "data.csv", b"a,b\n1,2\n"),
            write(d.path(), "noshebang.sh", b"echo hi\n"),
            write(d.path(), "run.sh", b"#!/bin/sh\necho hi\n"),
            write(d.path(), "again-amd64", &native),
        ];
        let (ok, refused) = plan(&files, &[WasmTier::Winch], None);
        let runners: Vec<String> = ok.iter().map(|p| p.runner.to_string()).collect();
        assert_eq!(runners, ["native", "qemu:linux/arm64", "wasm:winch"], "{ok:?}");
        let why = |n: &str| refused.iter().find(|r| r.path.ends_with(n)).unwrap().to_string();
        assert!(why("data.csv").contains("not a program"), "{}", why("data.csv"));
        assert!(why("noshebang.sh").contains("#!"), "{}", why("noshebang.sh"));
        assert!(why("run.sh").contains("app-amd64 already runs"), "{}", why("run.sh"));
        assert!(why("again-amd64").contains("one program per platform"));
        assert_eq!(cross_libc(&Platform::linux_arm64()).unwrap().1, "libc6-arm64-cross");
    }
}
