//! `archbench run IMAGE`: run the entry of a multi-arch index this host should use.
//!
//! Design:
//! - **Which entry.** Native first (the host's own platform, no translation), then Wasm (one
//!   module for every host, compiled by wasmtime's Cranelift in archbench's process), then an
//!   emulated entry (QEMU through binfmt). The order is the cost order the bench suite measures
//!   (native 1×, Wasm about 1.5×, QEMU 5–20×); [`choose`] is pure, so the report's "which entry
//!   runs where" table uses the same rule for hosts archbench is not on.
//! - **Wasm in process.** The module comes out of the image itself: from a Wasm OCI artifact
//!   (the layer is the module) or from a container-style entry (the file the config's
//!   `Entrypoint` names, read from the layers in order, so an upper layer's copy wins and a
//!   whiteout removes it). It gets WASI with the arguments and preopens given; a trap is
//!   reported with wasmtime's message and is never a result.
//! - **Containers through the engine.** Native and emulated entries are pulled by manifest
//!   digest and run by the engine, so the image's root filesystem, libraries and environment
//!   are what the program sees. The engine pulls from registries only, so an entry of an OCI
//!   layout (what `archbench build` writes) is handed to it as a `docker save` archive.

use std::collections::BTreeMap;
use std::io::Read;
use std::time::{Duration, Instant};

use archbench_archid::image::apply_layer;
use archbench_archid::walk::{clean, decompress, walk_tar, Limits, TarEvent};
use archbench_exec::binfmt::Binfmt;
use archbench_exec::wasm::WasmModule;
use archbench_oci::{ImageRef, ImageSource, PlatformImage};
use archbench_platform::Platform;
use archbench_results::bench::WasmTier;
use archbench_results::run::{EntryRun, RunHow};

mod choice;
mod error;

pub use choice::{choose, classify, nothing_runs};
pub use error::{Error, Result};

/// binfmt's answer for this machine, in the form [`classify`] takes.
pub fn binfmt_here(p: &Platform) -> std::result::Result<(), String> {
    Binfmt::default().check(p).map(|_| ()).map_err(|e| format!("{}; fix: {}", e.problem, e.fix))
}

/// What running an entry needs.
pub struct RunSpec<'a> {
    /// Arguments after the entrypoint (the config's `Cmd` when empty).
    pub args: &'a [String],
    /// Host directories preopened for a Wasm module: (host path, guest path).
    pub dirs: &'a [(std::path::PathBuf, String)],
    /// Longest a run may take before it is stopped.
    pub timeout: Duration,
    /// `--max-memory`: a Wasm module's memory cap in bytes (without it,
    /// [`archbench_exec::wasm::DEFAULT_MAX_MEMORY`]); a container's memory limit, swap included
    /// (without it, the engine's default: none).
    pub max_memory: Option<u64>,
}

/// A Wasm entry's module, its argv\[0\], its default arguments and environment.
pub struct ModuleEntry {
    /// The module's bytes.
    pub bytes: Vec<u8>,
    /// argv\[0\] and the entrypoint's own arguments.
    pub argv: Vec<String>,
    /// The config's `Cmd`, used when no arguments are given.
    pub cmd: Vec<String>,
    /// The config's `Env`.
    pub env: Vec<(String, String)>,
}

/// The module of a Wasm entry: the artifact's layer, or the file the config's entrypoint names.
pub fn module_of(src: &ImageSource, image: &PlatformImage) -> Result<ModuleEntry> {
    // A Wasm artifact's config is no image config (no rootfs, no container config): its
    // module runs with no default arguments or environment.
    let body = match &image.config_digest {
        Some(d) if !image.is_wasm_artifact() => {
            let bytes = src.document_by_digest(d)?;
            let what = format!("the {} entry's config {d}", image.declared());
            let config = archbench_oci::config::parse(&bytes, &what)?;
            config.config().clone().unwrap_or_default()
        }
        _ => archbench_oci::config::Config::default(),
    };
    let env = body
        .env()
        .clone()
        .unwrap_or_default()
        .iter()
        .filter_map(|kv| kv.split_once('=').map(|(k, v)| (k.to_owned(), v.to_owned())))
        .collect();
    let cmd = body.cmd().clone().unwrap_or_default();
    if image.is_wasm_artifact() {
        let layer = image
            .layers
            .first()
            .ok_or_else(|| Error::Image("the Wasm artifact has no layer".into()))?;
        if layer.size > MODULE_LIMIT {
            return Err(Error::Image(format!("the module layer is over {MODULE_LIMIT} bytes")));
        }
        let bytes = src
            .read_layer(layer)
            .map_err(|source| Error::Oci { what: "the module layer".into(), source })?;
        return Ok(ModuleEntry { bytes, argv: vec!["module.wasm".into()], cmd, env });
    }
    let entrypoint = body.entrypoint().clone().filter(|e| !e.is_empty()).ok_or_else(|| {
        Error::Image(format!(
            "the {} entry's config has no Entrypoint naming its module (a Dockerfile's ENTRYPOINT [\"/app.wasm\"])",
            image.declared()
        ))
    })?;
    let path = entrypoint[0].trim_start_matches('/').to_owned();
    let bytes = file_in_layers(src, image, &path)?.ok_or_else(|| {
        Error::Image(format!(
            "the entrypoint {} is not a file in the {} entry's layers",
            entrypoint[0],
            image.declared()
        ))
    })?;
    Ok(ModuleEntry { bytes, argv: entrypoint, cmd, env })
}

/// The largest module `run` reads into memory (archid's limit for one file).
const MODULE_LIMIT: u64 = 1 << 30;

/// The bytes of `path` as the image's layers leave it. Which copy stands (an upper layer's
/// copy, a whiteout or an opaque directory above it, a directory or link put in its place) is
/// decided by archid's overlay rules, the ones `verify` applies ([`apply_layer`]); the bytes
/// are then read from the layer that added the standing copy.
fn file_in_layers(src: &ImageSource, image: &PlatformImage, path: &str) -> Result<Option<Vec<u8>>> {
    let limits = Limits { max_entry_bytes: MODULE_LIMIT, ..Limits::default() };
    let mut files = BTreeMap::new();
    let mut added_by = None;
    for (i, layer) in image.layers.iter().enumerate() {
        let mut events = Vec::new();
        let raw = src.open_layer(layer)?;
        walk_tar(raw, limits, |e| events.push(e))
            .map_err(|source| Error::Walk { layer: i + 1, source })?;
        if events.iter().any(|e| matches!(e, TarEvent::File(f) if f.path == path)) {
            added_by = Some(i);
        }
        apply_layer(&mut files, events);
    }
    let (Some(_), Some(i)) = (files.get(path), added_by) else { return Ok(None) };
    let raw = src.open_layer(&image.layers[i])?;
    let (plain, _) = decompress(raw).map_err(|source| Error::Walk { layer: i + 1, source })?;
    let bad = |source: std::io::Error| Error::Layer { layer: i + 1, source };
    let mut found = None;
    for entry in tar::Archive::new(plain).entries().map_err(bad)? {
        let mut entry = entry.map_err(bad)?;
        if clean(&entry.path().map_err(bad)?.to_string_lossy()) == path
            && entry.header().entry_type().is_file()
        {
            let mut bytes = Vec::with_capacity(entry.size() as usize);
            entry.read_to_end(&mut bytes).map_err(bad)?;
            found = Some(bytes);
        }
    }
    Ok(found)
}

/// Run a Wasm entry's module in process on Cranelift. Compile and instantiate count as
/// start-up; a module that fails to validate is an error carrying wasmtime's reason.
pub fn run_module(declared: &str, entry: &ModuleEntry, spec: &RunSpec<'_>) -> Result<EntryRun> {
    let started = Instant::now();
    let module = WasmModule::compile(WasmTier::Cranelift, &entry.bytes)
        .map_err(|source| Error::Module {
            what: format!("the {declared} entry's module does not load"),
            source,
        })?
        .with_max_memory(spec.max_memory.unwrap_or(archbench_exec::wasm::DEFAULT_MAX_MEMORY));
    let mut argv = entry.argv.clone();
    argv.extend(if spec.args.is_empty() { entry.cmd.clone() } else { spec.args.to_vec() });
    let dirs: Vec<(&std::path::Path, &str)> =
        spec.dirs.iter().map(|(h, g)| (h.as_path(), g.as_str())).collect();
    let compiled = started.elapsed().as_secs_f64();
    let run = module.run_io(&argv, &entry.env, &dirs, None, spec.timeout).map_err(|source| {
        Error::Module { what: format!("the {declared} entry's module"), source }
    })?;
    Ok(EntryRun {
        declared: declared.to_owned(),
        how: RunHow::Wasm,
        exit_code: run.exit_code.map(i64::from),
        trap: run.trap,
        timed_out: run.timed_out,
        seconds: run.timings.run,
        startup_seconds: compiled + run.timings.instantiate,
        stdout: run.stdout,
        stderr: run.stderr,
        stdout_dropped: run.stdout_dropped,
        stderr_dropped: run.stderr_dropped,
        out_of_memory: None,
    })
}

/// Where a container entry's image comes from.
pub enum ContainerImage {
    /// A registry reference pinned by digest, which the engine pulls.
    Pull(String),
    /// A `docker save` archive ([`save_archive`]) loaded into the engine under this tag, and
    /// removed after the run.
    Load(Vec<u8>, String),
}

/// Run a native or emulated entry as a container: pulled by digest (or loaded), created with
/// `args` as its command, started once, removed.
pub fn run_container(
    engine: &archbench_engine::Engine,
    image: ContainerImage,
    platform: &Platform,
    how: RunHow,
    declared: &str,
    spec: &RunSpec<'_>,
) -> Result<EntryRun> {
    let started = Instant::now();
    let (pinned, loaded) = match image {
        ContainerImage::Pull(r) => {
            engine.pull(&r, platform)?;
            (r, false)
        }
        ContainerImage::Load(archive, tag) => {
            engine.load_archive(archive)?;
            (tag, true)
        }
    };
    let result = start_and_wait(engine, &pinned, platform, how, declared, spec, started);
    if loaded {
        engine.remove_image(&pinned);
    }
    result
}

fn start_and_wait(
    engine: &archbench_engine::Engine,
    pinned: &str,
    platform: &Platform,
    how: RunHow,
    declared: &str,
    spec: &RunSpec<'_>,
    started: Instant,
) -> Result<EntryRun> {
    let id = engine.create_container(pinned, platform, spec.args, &[], spec.max_memory)?;
    let run = engine.run_container(&id, spec.timeout);
    engine.remove_container(&id);
    let run = run?;
    let total = started.elapsed().as_secs_f64();
    let seconds = run.command_seconds.unwrap_or(run.wall);
    Ok(EntryRun {
        declared: declared.to_owned(),
        how,
        exit_code: (!run.timed_out).then_some(run.exit_code),
        trap: None,
        timed_out: run.timed_out,
        seconds,
        startup_seconds: (total - seconds).max(0.0),
        stdout: run.stdout,
        stderr: run.stderr,
        stdout_dropped: run.stdout_dropped,
        stderr_dropped: run.stderr_dropped,
        out_of_memory: run.oom_killed.then(|| oom_reason(spec.max_memory)),
    })
}

/// Why a container the kernel killed for its memory ended, and how to give it more.
pub fn oom_reason(limit: Option<u64>) -> String {
    match limit {
        Some(l) => format!(
            "killed for passing its memory limit of {} (raise it with --max-memory)",
            archbench_input::show_bytes(l)
        ),
        None => {
            "killed by the kernel for its memory (the engine's limit, or the host's)".to_owned()
        }
    }
}

/// How the engine gets an entry: a registry image is pulled by digest; an entry of an OCI
/// layout (what `archbench build` writes) is handed over as a `docker save` archive, since the
/// engine pulls from registries only. `given` is the reference as the user wrote it.
pub fn container_image(
    src: &ImageSource,
    reference: &ImageRef,
    given: &str,
    image: &PlatformImage,
) -> Result<ContainerImage> {
    let digest = image.manifest_digest.as_ref().ok_or_else(|| {
        Error::Image(format!("{}: no manifest digest to run it by", image.declared()))
    })?;
    match reference {
        ImageRef::Registry(r) => {
            Ok(ContainerImage::Pull(format!("{}/{}@{digest}", r.registry, r.repository)))
        }
        _ => {
            let tag = format!("archbench-run:{}", &digest.hex()[..16]);
            let archive = save_archive(src, image, &tag).map_err(|e| Error::Context {
                what: format!("{given} ({})", image.declared()),
                source: Box::new(e),
            })?;
            Ok(ContainerImage::Load(archive, tag))
        }
    }
}

/// The most a layout's entry may weigh to be handed to the engine in memory.
const SAVE_LIMIT: u64 = 4 << 30;

/// One entry as a `docker save` archive tagged `tag`: the config's own bytes (so the image ID
/// is its digest) and the layers as stored; the engine decompresses gzip layers as it loads
/// them, and checks them against the config's diff IDs.
pub fn save_archive(src: &ImageSource, image: &PlatformImage, tag: &str) -> Result<Vec<u8>> {
    let config_digest = image.config_digest.as_ref().ok_or_else(|| {
        Error::Image(
            "a docker archive's entry has no content-addressed config: load it with docker load instead"
                .into(),
        )
    })?;
    let stored: u64 = image.layers.iter().map(|l| l.size).sum();
    if stored > SAVE_LIMIT {
        return Err(Error::Image(format!(
            "{stored} bytes of layers is over the {SAVE_LIMIT}-byte limit for handing an image to the engine from memory; push it and run the registry reference"
        )));
    }
    let config = src.document_by_digest(config_digest)?;
    let layers = image.layers.iter().enumerate().map(|(i, l)| {
        src.read_layer(l).map_err(|source| Error::Oci { what: format!("layer {}", i + 1), source })
    });
    archbench_oci::docker_save::write(tag, &config, layers)
}

/// Whether every run succeeded and printed the same standard output; the differences in words.
pub fn agreement(runs: &[EntryRun]) -> (bool, Vec<String>) {
    let mut problems = Vec::new();
    for r in runs.iter().filter(|r| !r.ok()) {
        problems.push(match (&r.trap, r.timed_out, r.exit_code) {
            (Some(t), _, _) => format!("{} trapped: {}", r.declared, first_line(t)),
            (_, true, _) => format!("{} timed out", r.declared),
            (_, _, c) => format!(
                "{} exited with {}",
                r.declared,
                c.map_or("no status".into(), |c| c.to_string())
            ),
        });
    }
    let mut outputs: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for r in runs.iter().filter(|r| r.ok()) {
        outputs.entry(r.stdout.as_str()).or_default().push(&r.declared);
    }
    if outputs.len() > 1 {
        let groups: Vec<String> = outputs
            .iter()
            .map(|(out, who)| format!("{} printed {:?}", who.join(" and "), first_line(out)))
            .collect();
        problems.push(format!("outputs differ: {}", groups.join("; ")));
    }
    (problems.is_empty(), problems)
}

fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_qemu(p: &Platform) -> std::result::Result<(), String> {
        Err(format!("no QEMU for {p}; fix: apt-get install qemu-user-static"))
    }

    fn with_qemu(_: &Platform) -> std::result::Result<(), String> {
        Ok(())
    }

    fn entries(
        list: &[&str],
        host: &Platform,
        emu: &dyn Fn(&Platform) -> std::result::Result<(), String>,
    ) -> Vec<(String, std::result::Result<RunHow, String>)> {
        list.iter().map(|d| (d.to_string(), classify(&d.parse().unwrap(), host, emu))).collect()
    }

    /// Native before Wasm before emulated, on each host kind the report's table shows.
    #[test]
    fn native_then_wasm_then_emulated() {
        let amd = Platform::linux_amd64();
        let arm = Platform::linux_arm64();
        let armv7: Platform = "linux/arm/v7".parse().unwrap();
        let index = ["linux/amd64", "linux/arm64", "wasi/wasm"];
        let pick = |host: &Platform,
                    list: &[&str],
                    emu: &dyn Fn(&Platform) -> std::result::Result<(), String>| {
            let e = entries(list, host, emu);
            choose(&e, host).map(|(i, why)| (e[i].0.clone(), why))
        };
        let (d, why) = pick(&amd, &index, &with_qemu).unwrap();
        assert_eq!(d, "linux/amd64");
        assert!(why.contains("own platform") && why.contains("wasi/wasm (wasm)"), "{why}");
        assert_eq!(pick(&arm, &index, &no_qemu).unwrap().0, "linux/arm64");
        let (d, why) = pick(&armv7, &index, &with_qemu).unwrap();
        assert_eq!(d, "wasi/wasm");
        assert!(why.contains("preferred over linux/amd64 (emulated)"), "{why}");
        let (d, why) = pick(&armv7, &["linux/amd64", "linux/arm64"], &with_qemu).unwrap();
        assert_eq!(d, "linux/amd64");
        assert!(why.contains("under QEMU"), "{why}");
        // Nothing runs: every entry is listed with its fix.
        let e = entries(&["linux/s390x", "linux/riscv64"], &amd, &no_qemu);
        assert!(choose(&e, &amd).is_none());
        let msg = nothing_runs("img", &amd, &e);
        assert!(msg.contains("linux/s390x: no QEMU for linux/s390x; fix: apt-get"), "{msg}");
        assert!(msg.contains("linux/riscv64:") && msg.contains("--platform linux/amd64,wasi/wasm"));
    }

    /// The module as the layers leave it, under the OCI rules: its own whiteout, a parent's,
    /// an opaque parent hide the lower copy; an upper copy replaces it, even beside its own
    /// whiteout; unrelated whiteouts do not touch it.
    #[test]
    fn the_module_is_the_copy_the_layers_leave() {
        use archbench_oci::{LayerInput, LayoutWriter};
        let p = "app/bin/m.wasm";
        let module = b"\0asm\x01\0\0\0".to_vec();
        let upper = b"\0asm\x01\0\0\0\0".to_vec();
        let tar = |entries: &[(&str, &[u8])]| {
            let mut b = tar::Builder::new(Vec::new());
            for (name, data) in entries {
                let mut h = tar::Header::new_gnu();
                h.set_size(data.len() as u64);
                h.set_mode(0o755);
                h.set_cksum();
                b.append_data(&mut h, name, *data).unwrap();
            }
            b.into_inner().unwrap()
        };
        let look = |top: Vec<u8>| {
            let dir = tempfile::tempdir().unwrap();
            let mut w = LayoutWriter::create(dir.path()).unwrap();
            let layers = [LayerInput::tar(tar(&[(p, &module)])), LayerInput::tar(top)];
            let m = w.image(&Platform::wasi_wasm(), &layers, &["/app/bin/m.wasm"]).unwrap();
            w.tag(&m, "t").unwrap();
            let r = ImageRef::parse(&format!("oci:{}:t", dir.path().display())).unwrap();
            let src = ImageSource::open(&r).unwrap();
            let image = src.images().unwrap().remove(0);
            file_in_layers(&src, &image, p).unwrap()
        };
        for w in
            ["app/bin/.wh.m.wasm", "app/.wh.bin", ".wh.app", "app/bin/.wh..wh..opq", ".wh..wh..opq"]
        {
            assert_eq!(look(tar(&[(w, b"")])), None, "{w}");
        }
        for w in ["app/bin/.wh.m.was", "app/.wh.bi", "other/.wh..wh..opq", ".wh.ap"] {
            assert_eq!(look(tar(&[(w, b"")])).as_ref(), Some(&module), "{w}");
        }
        assert_eq!(look(tar(&[(p, &upper), ("app/bin/.wh.m.wasm", b"")])), Some(upper));
    }

    fn run(declared: &str, exit: Option<i64>, out: &str, trap: Option<&str>) -> EntryRun {
        EntryRun {
            declared: declared.into(),
            how: RunHow::Native,
            exit_code: exit,
            trap: trap.map(Into::into),
            timed_out: false,
            seconds: 1.0,
            startup_seconds: 0.1,
            stdout: out.into(),
            stderr: String::new(),
            stdout_dropped: 0,
            stderr_dropped: 0,
            out_of_memory: None,
        }
    }

    /// Runs agree only when each exited 0 with the same output; a trap is never a result.
    #[test]
    fn agreement_needs_equal_outputs_and_no_trap() {
        assert!(agreement(&[run("a", Some(0), "x\n", None), run("b", Some(0), "x\n", None)]).0);
        let (ok, why) =
            agreement(&[run("a", Some(0), "x\n", None), run("b", Some(0), "y\n", None)]);
        assert!(!ok && why[0].contains("outputs differ"), "{why:?}");
        let (ok, why) = agreement(&[
            run("a", Some(0), "x\n", None),
            run("w", None, "", Some("wasm trap: unreachable\nmore")),
        ]);
        assert!(!ok);
        assert_eq!(why, ["w trapped: wasm trap: unreachable"]);
    }
}
