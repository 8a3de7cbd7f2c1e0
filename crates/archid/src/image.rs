//! Whole images: apply each platform's layers in order (with whiteouts), identify what the
//! final filesystem holds, and verify it against the platform the image declares.

use std::collections::BTreeMap;

use archbench_oci::{Attestation, Digest, ImageSource, PlatformImage};
use archbench_platform::{Arch, Declared, Platform};
use archbench_results::error_line;
use serde::{Deserialize, Serialize};

use crate::identity::Format;
use crate::walk::{walk_tar, Found, Limits, Scanned, TarEvent};
use crate::{Error, Result};

/// What one platform image holds after its layers are applied.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PlatformScan {
    /// The platform the image declares (index entry, else config).
    pub declared: Declared,
    /// The platform its config says.
    pub config_platform: Declared,
    /// Manifest digest, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub manifest_digest: Option<Digest>,
    /// Number of layers.
    pub layers: usize,
    /// Candidate files in the final filesystem, sorted by path.
    pub files: Vec<Found>,
    /// Totals over every layer entry read.
    pub scanned: Scanned,
    /// A layer that could not be read to the end (corrupt, digest mismatch, over a limit).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub layer_error: Option<String>,
}

fn under(path: &str, dir: &str) -> bool {
    dir.is_empty() || path.strip_prefix(dir).is_some_and(|rest| rest.starts_with('/'))
}

/// Apply one layer's entries to the files of the layers below, as a runtime unpacks it.
///
/// The rules (OCI image spec, "Representing Changes"; the same as containerd's and umoci's):
/// a whiteout or an opaque marker hides files of *lower* layers only, never files this layer
/// adds; an entry replaces whatever its path held (a file replaced by a symlink or a directory
/// is gone); a hard link is the same file under a second name, so it keeps a lower binary
/// alive even when this layer whites out the first name. Entries are taken in stream order,
/// so a link sees the files as they stand at that point of the layer.
pub fn apply_layer(lower: &mut BTreeMap<String, Found>, events: Vec<TarEvent>) {
    let mut added: BTreeMap<String, Option<Found>> = BTreeMap::new();
    // Something that is not a directory lands on `p`: a file or a whole tree there is gone.
    fn replace(
        lower: &mut BTreeMap<String, Found>,
        added: &mut BTreeMap<String, Option<Found>>,
        p: &str,
        with: Option<Found>,
    ) {
        lower.retain(|k, _| k != p && !under(k, p));
        added.retain(|k, _| !under(k, p));
        added.insert(p.to_owned(), with);
    }
    for e in events {
        match e {
            TarEvent::Whiteout(p) => lower.retain(|k, _| k != &p && !under(k, &p)),
            TarEvent::Opaque(d) => lower.retain(|k, _| !under(k, &d)),
            TarEvent::File(f) => {
                let p = f.path.clone();
                replace(lower, &mut added, &p, Some(f));
            }
            // A data file, a symlink, a device: not a candidate, and it replaces the path.
            TarEvent::Data(p) | TarEvent::Other(p) => replace(lower, &mut added, &p, None),
            // A directory replaces a file at its path only.
            TarEvent::Dir(p) => {
                lower.remove(&p);
                if matches!(added.get(&p), Some(Some(_))) {
                    added.remove(&p);
                }
            }
            TarEvent::HardLink(path, target) => {
                let same = match added.get(&target) {
                    Some(f) => f.clone(),
                    None => lower.get(&target).cloned(),
                };
                replace(lower, &mut added, &path, same.map(|f| Found { path: path.clone(), ..f }));
            }
        }
    }
    for (path, f) in added {
        if let Some(f) = f {
            lower.insert(path, f);
        }
    }
}

/// Apply one platform image's layers in order and identify the result.
pub fn scan_platform(src: &ImageSource, image: &PlatformImage, limits: Limits) -> PlatformScan {
    let mut files: BTreeMap<String, Found> = BTreeMap::new();
    let mut scanned = Scanned::default();
    let mut layer_error = None;
    for (i, layer) in image.layers.iter().enumerate() {
        let mut events = Vec::new();
        let result = read_layer(src, layer, limits, &mut events)
            .map_err(|m| format!("layer {} ({}): {m}", i + 1, layer.path));
        apply_layer(&mut files, events);
        match result {
            Ok(s) => {
                scanned.files += s.files;
                scanned.bytes += s.bytes;
            }
            Err(e) => {
                layer_error = Some(e);
                break;
            }
        }
    }
    PlatformScan {
        declared: image.declared().clone(),
        config_platform: image.config_platform.clone(),
        manifest_digest: image.manifest_digest.clone(),
        layers: image.layers.len(),
        files: files.into_values().collect(),
        scanned,
        layer_error,
    }
}

/// Walk one layer, then read the raw stream to its end: the tar reader stops at the end-of-archive
/// marker, and only at EOF can the verifying reader underneath compare digests. A digest failure
/// is the root cause of any tar error it produced, so it wins.
fn read_layer(
    src: &ImageSource,
    layer: &archbench_oci::LayerRef,
    limits: Limits,
    events: &mut Vec<TarEvent>,
) -> Result<Scanned, String> {
    if layer.media_type.as_deref().is_some_and(archbench_oci::layout::media::is_wasm_layer) {
        return read_module_layer(src, layer, limits, events);
    }
    let mut raw = src.open_layer(layer).map_err(|e| error_line(&e))?;
    let walked = walk_tar(&mut raw, limits, |e| events.push(e));
    let drained = std::io::copy(&mut raw, &mut std::io::sink());
    match (walked, drained) {
        (_, Err(e)) if e.kind() == std::io::ErrorKind::InvalidData => Err(error_line(&e)),
        (Err(e), _) => Err(error_line(&e)),
        (Ok(_), Err(e)) => Err(error_line(&e)),
        (Ok(s), Ok(_)) => Ok(s),
    }
}

/// A Wasm artifact's layer is the module itself, not a tar: it is one file, named after its
/// digest, read whole (held to the entry limit) and identified like any candidate, so a layer
/// that claims to be Wasm and is not is reported as what it is.
fn read_module_layer(
    src: &ImageSource,
    layer: &archbench_oci::LayerRef,
    limits: Limits,
    events: &mut Vec<TarEvent>,
) -> Result<Scanned, String> {
    if layer.size > limits.max_entry_bytes {
        return Err(format!(
            "a Wasm layer of {} bytes is over the {}-byte limit for one file",
            layer.size, limits.max_entry_bytes
        ));
    }
    let bytes = src.read_layer(layer).map_err(|e| error_line(&e))?;
    let name = layer
        .verify_digest
        .as_ref()
        .map(|d| format!("sha256-{}.wasm", d.hex()))
        .unwrap_or_else(|| "module.wasm".into());
    let (identity, error) = match crate::identify_opt(&bytes) {
        Ok(Some(id)) => (Some(id), None),
        Ok(None) => (None, Some("neither Wasm nor any binary format archbench knows".to_owned())),
        Err(e) => (None, Some(e.to_string())),
    };
    events.push(TarEvent::File(Found {
        path: name,
        size: bytes.len() as u64,
        identity,
        error,
        unreadable: false,
    }));
    Ok(Scanned { files: 1, bytes: bytes.len() as u64 })
}

/// An index entry that is not a platform's image, so it was not scanned: an attestation
/// manifest (buildx's provenance and SBOM), which holds in-toto statements, not binaries.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Skipped {
    /// Its manifest digest.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub manifest_digest: Option<Digest>,
    /// What it describes and holds.
    pub attestation: Attestation,
}

impl std::fmt::Display for Skipped {
    /// `attestation manifest for linux/amd64 (sha256:0123456789ab)`, its own digest in brackets.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "attestation manifest for {}", self.attestation.subject())?;
        match &self.manifest_digest {
            Some(d) => write!(f, " ({})", d.short()),
            None => Ok(()),
        }
    }
}

/// What [`scan`] read: each platform's image, and the entries that are no platform's image.
#[derive(Debug, Clone)]
pub struct ImageScan {
    /// One per platform image, in index order.
    pub platforms: Vec<PlatformScan>,
    /// Attestation manifests, not scanned.
    pub skipped: Vec<Skipped>,
}

/// Scan every platform of `src` (or only those in `only`, with their attestations skipped).
pub fn scan(src: &ImageSource, only: &[Platform], limits: Limits) -> Result<ImageScan> {
    let images = src.images().map_err(|e| Error::Image(error_line(&e)))?;
    let (attestations, selected): (Vec<&PlatformImage>, Vec<&PlatformImage>) =
        images.iter().filter(|i| i.selected_by(only)).partition(|i| i.is_attestation());
    if selected.is_empty() {
        let have: Vec<&str> =
            images.iter().filter(|i| !i.is_attestation()).map(|i| i.declared().text()).collect();
        return Err(Error::Image(if have.is_empty() {
            format!(
                "{} holds no platform's image, only {} attestation manifests",
                src.describe(),
                attestations.len()
            )
        } else {
            format!(
                "{} has no image for {:?}; it has: {}",
                src.describe(),
                only.iter().map(|p| p.to_string()).collect::<Vec<_>>(),
                have.join(", ")
            )
        }));
    }
    let skipped = attestations
        .into_iter()
        .filter_map(|i| {
            Some(Skipped {
                manifest_digest: i.manifest_digest.clone(),
                attestation: i.attestation.clone()?,
            })
        })
        .collect();
    let platforms = selected.into_iter().map(|i| scan_platform(src, i, limits)).collect();
    Ok(ImageScan { platforms, skipped })
}

/// A binary whose architecture is not the one its image declares.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Mismatch {
    /// Path in the image.
    pub path: String,
    /// What the binary is (`linux/amd64`).
    pub found: String,
}

/// The verdict for one platform image.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PlatformVerdict {
    /// The platform the image declares.
    pub declared: Declared,
    /// The platform the config says.
    pub config_platform: Declared,
    /// Manifest digest.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub manifest_digest: Option<Digest>,
    /// Binaries (executables, libraries, objects) checked.
    pub binaries: u64,
    /// Of those, built for the declared platform.
    pub matching: u64,
    /// Arch-neutral files (scripts, Wasm) seen; never a mismatch.
    pub neutral: u64,
    /// Binaries of another architecture.
    pub mismatches: Vec<Mismatch>,
    /// The architecture most binaries are, when they agree on one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub binaries_platform: Option<String>,
    /// The config's platform disagrees with the index entry or with the binaries.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub config_problem: Option<String>,
    /// What the entry holds cannot be what it declares: a Wasm entry without a Wasm module or
    /// component.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_problem: Option<String>,
    /// Notes that are not failures: binaries needing a newer x86-64 level, unreadable candidates.
    pub warnings: Vec<String>,
    /// A layer could not be read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub layer_error: Option<String>,
    /// No mismatch, no config problem, every layer read.
    pub ok: bool,
}

/// What a verdict, or a set of them, comes to; it decides `verify`'s exit status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// Every layer read, and everything agrees with the declared platform.
    Verified,
    /// Not every layer could be read, and what was read holds no finding: not verified, and
    /// no mismatch either.
    Incomplete,
    /// A binary of another architecture, or a config or content that contradicts the
    /// declared platform.
    Mismatch,
}

impl PlatformVerdict {
    /// What this verdict comes to.
    pub fn outcome(&self) -> Outcome {
        if self.ok {
            Outcome::Verified
        } else if !self.mismatches.is_empty()
            || self.config_problem.is_some()
            || self.content_problem.is_some()
        {
            Outcome::Mismatch
        } else {
            Outcome::Incomplete
        }
    }
}

/// What a set of verdicts comes to: the worst of them (a mismatch over an unread layer).
pub fn outcome(verdicts: &[PlatformVerdict]) -> Outcome {
    verdicts.iter().map(PlatformVerdict::outcome).max().unwrap_or(Outcome::Verified)
}

/// Does a binary of `found` belong in an image of `declared`?
/// Arch must agree; for 32-bit Arm the binary's ISA level must not exceed the image's.
fn compatible(found: &Platform, declared: &Platform) -> bool {
    if found.arch != declared.arch {
        return false;
    }
    match (&found.arch, &found.variant, &declared.variant) {
        (Arch::Arm, Some(f), Some(d)) => f <= d,
        _ => true,
    }
}

/// Whether the config's platform disagrees with the index entry, or with what most binaries are.
fn config_problem(
    scan: &PlatformScan,
    declared: Option<&Platform>,
    binaries_platform: Option<&str>,
) -> Option<String> {
    let config: Option<Platform> = scan.config_platform.platform().cloned();
    if scan.config_platform != scan.declared
        && config.as_ref().zip(declared).is_none_or(|(c, d)| c.arch != d.arch)
    {
        return Some(format!(
            "index declares {} but the image config says {}",
            scan.declared, scan.config_platform
        ));
    }
    let (c, bp) = (config?, binaries_platform?);
    let majority: Option<Platform> = bp.parse().ok();
    majority
        .is_some_and(|m| m.arch != c.arch)
        .then(|| format!("the config says {} but most binaries are {bp}", scan.config_platform))
}
// Long (about 115 lines, attestations and unreadable layers included): one decision per finding kind, in the order the verdict reports them;
// the config check is already apart (config_problem).

/// Judge one scanned platform image.
pub fn verdict(scan: &PlatformScan) -> PlatformVerdict {
    let declared: Option<Platform> = scan.declared.platform().cloned();
    let mut v = PlatformVerdict {
        declared: scan.declared.clone(),
        config_platform: scan.config_platform.clone(),
        manifest_digest: scan.manifest_digest.clone(),
        binaries: 0,
        matching: 0,
        neutral: 0,
        mismatches: Vec::new(),
        binaries_platform: None,
        config_problem: None,
        content_problem: None,
        warnings: Vec::new(),
        layer_error: scan.layer_error.clone(),
        ok: false,
    };
    let mut wasm = 0u64;
    let mut arches: BTreeMap<String, u64> = BTreeMap::new();
    for f in &scan.files {
        let Some(id) = &f.identity else {
            let why = f.error.as_deref().unwrap_or("unreadable");
            if f.unreadable {
                v.warnings.push(format!("{}: {why}", f.path));
            } else {
                // It has an executable's magic and nothing could say what it is: it could be a
                // binary of any architecture, so it is a finding, never silence.
                v.mismatches.push(Mismatch {
                    path: f.path.clone(),
                    found: format!("unidentifiable ({why})"),
                });
            }
            continue;
        };
        if let Some(why) = id.elf.as_ref().and_then(|e| e.sections_unreadable.as_deref()) {
            v.warnings.push(format!(
                "{}: section headers unreadable ({why}); identified from its ELF and program headers, as the loader reads it",
                f.path
            ));
        }
        if id.arch_neutral() {
            v.neutral += 1;
            if matches!(id.format, Format::WasmModule | Format::WasmComponent) {
                wasm += 1;
            }
            continue;
        }
        let platforms = id.platforms();
        if platforms.is_empty() {
            continue;
        }
        v.binaries += 1;
        for p in &platforms {
            *arches.entry(Platform::new(p.os.clone(), p.arch.clone()).to_string()).or_default() +=
                1;
        }
        let fits = declared.as_ref().is_some_and(|d| platforms.iter().any(|p| compatible(p, d)));
        // A 32-bit Arm binary whose attributes name a later ISA than declared (Debian's armhf
        // libgcrypt says ARMv8 because it carries v8 crypto code it selects at run time) is the
        // right architecture; whether it runs on the older CPU depends on that check, so it is
        // a warning, like an x86-64 ISA level above the declared one.
        let later_arm = !fits
            && declared.as_ref().is_some_and(|d| {
                d.arch == Arch::Arm && platforms.iter().any(|p| p.arch == d.arch && p.os == d.os)
            });
        if later_arm {
            v.matching += 1;
            v.warnings.push(format!(
                "{}: {} in a {} image; it fails with SIGILL on older CPUs unless it checks the CPU at run time",
                f.path,
                id.label(),
                scan.declared
            ));
        } else if fits {
            v.matching += 1;
        } else {
            v.mismatches.push(Mismatch { path: f.path.clone(), found: id.label() });
        }
        if let (Some(level), Some(d)) =
            (id.elf.as_ref().and_then(|e| e.x86_isa_needed.as_deref()), &declared)
        {
            let declared_level = d.variant.as_deref().unwrap_or("v1");
            if level.starts_with("x86-64-v") && level["x86-64-".len()..] > *declared_level {
                v.warnings
                    .push(format!("{}: needs {level}; CPUs below it fail with SIGILL", f.path));
            }
        }
    }
    v.binaries_platform = arches.iter().max_by_key(|(_, n)| **n).map(|(p, _)| p.clone());
    v.config_problem = config_problem(scan, declared.as_ref(), v.binaries_platform.as_deref());
    // A Wasm entry must hold Wasm: without a module a runtime has nothing to run, and native
    // code in it is already a mismatch above.
    // An unread layer may hold the module, so its absence is no finding then.
    if declared.as_ref().is_some_and(|d| d.arch == Arch::Wasm)
        && wasm == 0
        && scan.layer_error.is_none()
    {
        v.content_problem = Some(format!(
            "a {} entry holds no Wasm module or component ({} files, {} native binaries)",
            scan.declared,
            scan.files.len(),
            v.binaries
        ));
    }
    v.ok = v.mismatches.is_empty()
        && v.config_problem.is_none()
        && v.content_problem.is_none()
        && v.layer_error.is_none()
        && declared.is_some();
    if declared.is_none() {
        v.config_problem.get_or_insert_with(|| {
            format!("the declared platform {:?} is not one archbench knows", scan.declared.text())
        });
    }
    v
}

#[cfg(test)]
mod union_tests {
    use super::*;

    fn f(p: &str) -> Found {
        Found { path: p.into(), size: 1, identity: None, error: None, unreadable: false }
    }

    /// The OCI rule, in the order a careless writer might use: a whiteout after a file of its
    /// own layer hides only the lower layers' file.
    #[test]
    fn a_whiteout_hides_lower_layers_only() {
        let mut lower = BTreeMap::from([("a/x".to_owned(), f("a/x"))]);
        apply_layer(
            &mut lower,
            vec![
                TarEvent::File(f("a/y")),
                TarEvent::Whiteout("a/y".into()),
                TarEvent::Whiteout("a/x".into()),
            ],
        );
        assert_eq!(lower.keys().collect::<Vec<_>>(), ["a/y"]);
    }

    #[test]
    fn a_directory_replaces_a_file_but_keeps_a_tree() {
        let mut lower =
            BTreeMap::from([("f".to_owned(), f("f")), ("d/inner".to_owned(), f("d/inner"))]);
        apply_layer(&mut lower, vec![TarEvent::Dir("f".into()), TarEvent::Dir("d".into())]);
        assert_eq!(lower.keys().collect::<Vec<_>>(), ["d/inner"]);
        apply_layer(&mut lower, vec![TarEvent::Other("d".into())]);
        assert!(lower.is_empty());
    }
}
