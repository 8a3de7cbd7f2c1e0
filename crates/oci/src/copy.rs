//! Copying images between layouts and registries, preserving every digest, and assembling
//! indexes from existing manifests.
//!
//! Writes go blobs → platform manifests → the root (index), so a reader of the destination never
//! sees an index naming something absent. Blobs already at the destination are skipped (HEAD);
//! between repositories of one registry they are mounted; the rest stream concurrently.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use archbench_platform::{Declared, Platform};
use oci_spec::image::Descriptor;
use serde::{Deserialize, Serialize};

use crate::attestation::Attestation;
use crate::document;

use crate::digest::VerifyingReader;
use crate::image::{ImageRef, ImageSource, Root};
use crate::layout::LayoutWriter;
use crate::reference::Reference;
use crate::registry::{Put, Registry, RegistryOptions};
use crate::{Digest, Error, Result};

/// Called with the number of blob bytes just moved.
pub type ProgressFn = Arc<dyn Fn(u64) + Send + Sync>;

/// Where to copy to.
pub enum Destination {
    /// An OCI layout directory and the tag to give the image.
    Layout {
        /// The directory (created if missing).
        dir: PathBuf,
        /// Tag in `index.json`.
        tag: String,
    },
    /// A registry repository and tag (or digest).
    Registry {
        /// The client.
        registry: Arc<Registry>,
        /// Repository and tag.
        reference: Reference,
    },
}

impl Destination {
    /// Parse `oci:DIR[:tag]` or a registry reference (`docker://` optional). A layout without a
    /// tag gets `latest`.
    pub fn parse(s: &str, options: &RegistryOptions) -> Result<Self> {
        if let Some(rest) = s.strip_prefix("oci:") {
            let r = ImageRef::parse(&format!("oci:{rest}"))?;
            if let ImageRef::Layout { dir, tag } = r {
                return Ok(Destination::Layout {
                    dir,
                    tag: tag.unwrap_or_else(|| "latest".into()),
                });
            }
        }
        let reference = Reference::parse(s)?;
        let registry = Arc::new(Registry::connect(reference.api_host(), options)?);
        Ok(Destination::Registry { registry, reference })
    }

    /// For messages.
    pub fn describe(&self) -> String {
        match self {
            Destination::Layout { dir, tag } => format!("oci:{}:{tag}", dir.display()),
            Destination::Registry { reference, .. } => format!("docker://{reference}"),
        }
    }
}

/// What [`copy`] should do.
#[derive(Clone, Default)]
pub struct CopyOptions {
    /// Only these platforms of an index (empty: all). One platform copies that manifest alone
    /// (its digest is kept); several make a new index of those entries and their attestations.
    pub platforms: Vec<Platform>,
    /// Parallel blob transfers (0 means 4).
    pub jobs: usize,
    /// Byte progress.
    pub progress: Option<ProgressFn>,
}

/// What a copy did.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CopyReport {
    /// Source as given.
    pub source: String,
    /// Destination as given.
    pub destination: String,
    /// Digest of what the destination tag now names.
    pub digest: Digest,
    /// Its media type.
    pub media_type: String,
    /// Whether `digest` equals the source's digest (false when `--platform` made a new index).
    pub digest_preserved: bool,
    /// Platform manifests written.
    pub manifests: usize,
    /// Blobs uploaded or written.
    pub blobs_copied: usize,
    /// Blobs already present.
    pub blobs_skipped: usize,
    /// Blobs mounted from another repository.
    pub blobs_mounted: usize,
    /// Bytes moved.
    pub bytes_copied: u64,
    /// Total blob bytes referenced.
    pub bytes_total: u64,
}

#[derive(Deserialize)]
struct Desc {
    digest: Digest,
    size: u64,
}

#[derive(Deserialize)]
struct ManifestBlobs {
    config: Desc,
    #[serde(default)]
    layers: Vec<Desc>,
}

fn platform_of(d: &Descriptor) -> Option<String> {
    document::declared(d)
}

fn wants(platforms: &[Platform], d: &Descriptor) -> bool {
    platforms.is_empty()
        || platform_of(d).map(Declared::new).is_some_and(|d| platforms.iter().any(|p| d.is(p)))
}

/// The entries of an index to copy for `platforms` (all when empty): the images of those
/// platforms and, when there are several, their attestations (a single manifest copied alone
/// has no index to carry them).
fn chosen_entries(all: &[Descriptor], platforms: &[Platform]) -> Vec<Descriptor> {
    if platforms.is_empty() {
        return all.to_vec();
    }
    let images: Vec<&Descriptor> = all
        .iter()
        .filter(|d| Attestation::classify(d, None).is_none() && wants(platforms, d))
        .collect();
    let digests: Vec<String> = images.iter().map(|d| d.digest().to_string()).collect();
    all.iter()
        .filter(|d| match Attestation::classify(d, None) {
            Some(a) => {
                images.len() > 1 && a.of.is_some_and(|of| digests.iter().any(|d| of == d.as_str()))
            }
            None => images.iter().any(|i| i.digest() == d.digest()),
        })
        .cloned()
        .collect()
}

/// A manifest to write, with the blobs it needs.
struct Planned {
    digest: Digest,
    media_type: String,
    bytes: Vec<u8>,
}

/// Copy what `src` names to `dst`: choose the manifests ([`select`]), list their blobs
/// ([`blobs_of`]), transfer the blobs, put the manifests, then tag the top document.
pub fn copy(src: &ImageSource, dst: &Destination, options: &CopyOptions) -> Result<CopyReport> {
    let root = src.root()?;
    let (manifests, top) = select(src, &root, &options.platforms)?;
    let leaves: Vec<&[u8]> = if top.is_index() {
        manifests.iter().map(|m| m.bytes.as_slice()).collect()
    } else {
        vec![top.bytes.as_slice()]
    };
    let blobs = blobs_of(&leaves, src)?;
    let bytes_total = blobs.values().sum();
    let sink = sink_for(src, dst)?;
    let tally = transfer(src, sink.as_ref(), &blobs, options)?;
    for m in &manifests {
        sink.put_manifest(&m.digest, &m.bytes, &m.media_type)?;
    }
    let digest = match dst {
        Destination::Layout { tag, .. } => sink.tag(&top, tag)?,
        Destination::Registry { reference, .. } => {
            let target = reference.tag.clone().unwrap_or_else(|| top.digest.to_string());
            sink.tag(&top, &target)?
        }
    };
    Ok(CopyReport {
        source: src.describe(),
        destination: dst.describe(),
        digest_preserved: digest == root.digest,
        digest,
        media_type: top.media_type.clone(),
        manifests: manifests.len().max(usize::from(!top.is_index())),
        blobs_copied: tally.copied,
        blobs_skipped: tally.skipped,
        blobs_mounted: tally.mounted,
        bytes_copied: tally.bytes,
        bytes_total,
    })
}

/// The manifests to copy under `root` for `platforms` (all when empty), and the document to
/// tag: `root` itself when nothing was filtered out, the one manifest when one platform of an
/// index was asked for, else a new index of the chosen entries.
fn select(src: &ImageSource, root: &Root, platforms: &[Platform]) -> Result<(Vec<Planned>, Root)> {
    if !root.is_index() {
        if !platforms.is_empty() {
            // A single manifest: check the platform asked for is the one it holds.
            let images = src.images()?;
            let declared =
                images.first().map_or_else(Declared::default, |i| i.config_platform.clone());
            if !platforms.iter().any(|p| declared.is(p)) {
                return Err(Error::NotFound(format!(
                    "{} is a single {declared} image",
                    src.describe()
                )));
            }
        }
        return Ok((Vec::new(), root.clone()));
    }
    let index = document::parse_index(&root.bytes, &format!("index {}", root.digest))?;
    let all = index.manifests().clone();
    let chosen = chosen_entries(&all, platforms);
    if chosen.is_empty() {
        let have: Vec<String> = all
            .iter()
            .filter(|d| Attestation::classify(d, None).is_none())
            .filter_map(platform_of)
            .collect();
        return Err(Error::NotFound(format!(
            "{} has no manifest for {}; it has {}",
            src.describe(),
            platforms.iter().map(ToString::to_string).collect::<Vec<_>>().join(", "),
            have.join(", ")
        )));
    }
    let mut manifests = Vec::new();
    for d in &chosen {
        let digest = Digest::try_from(d.digest())?;
        let media_type = d.media_type().to_string();
        if media_type.contains("index") || media_type.contains("manifest.list") {
            return Err(Error::Invalid {
                what: src.describe(),
                message: "nested indexes are not copied; copy the inner index by digest".into(),
            });
        }
        let bytes = src.document_by_digest(&digest)?;
        manifests.push(Planned { digest, media_type, bytes });
    }
    if chosen.len() == all.len() {
        return Ok((manifests, root.clone()));
    }
    if let [m] = manifests.as_slice() {
        let top = Root {
            bytes: m.bytes.clone(),
            media_type: m.media_type.clone(),
            digest: m.digest.clone(),
        };
        return Ok((Vec::new(), top));
    }
    let mut filtered = index;
    filtered.set_manifests(chosen);
    let bytes = document::to_bytes(&filtered);
    let top = Root { digest: Digest::of(&bytes), bytes, media_type: root.media_type.clone() };
    Ok((manifests, top))
}

/// Every blob (config and layers) the manifests in `leaves` name, with its size.
fn blobs_of(leaves: &[&[u8]], src: &ImageSource) -> Result<BTreeMap<Digest, u64>> {
    let mut blobs: BTreeMap<Digest, u64> = BTreeMap::new();
    for bytes in leaves {
        let m: ManifestBlobs = serde_json::from_slice(bytes).map_err(|e| Error::Invalid {
            what: format!("a manifest in {}", src.describe()),
            message: e.to_string(),
        })?;
        for d in std::iter::once(m.config).chain(m.layers) {
            blobs.insert(d.digest, d.size);
        }
    }
    Ok(blobs)
}

/// Where blobs and manifests go; a registry destination mounts blobs from the source
/// repository when both are on one registry.
fn sink_for(src: &ImageSource, dst: &Destination) -> Result<Box<dyn Sink>> {
    Ok(match dst {
        Destination::Layout { dir, .. } => Box::new(LayoutSink::new(dir)?),
        Destination::Registry { registry, reference } => {
            let mount_from = src.registry_store().and_then(|s| {
                (s.registry().host() == registry.host()).then(|| s.reference().repository.clone())
            });
            Box::new(RegistrySink {
                registry: registry.clone(),
                repo: reference.repository.clone(),
                mount_from,
            })
        }
    })
}

#[derive(Default)]
struct Tally {
    copied: usize,
    skipped: usize,
    mounted: usize,
    bytes: u64,
}

/// Move every blob, `options.jobs` at a time; the first error stops the rest.
fn transfer(
    src: &ImageSource,
    sink: &dyn Sink,
    blobs: &BTreeMap<Digest, u64>,
    options: &CopyOptions,
) -> Result<Tally> {
    let queue: Mutex<Vec<(&Digest, &u64)>> = Mutex::new(blobs.iter().rev().collect());
    let tally = Mutex::new(Tally::default());
    let failed = AtomicBool::new(false);
    let first_error: Mutex<Option<Error>> = Mutex::new(None);
    let jobs = if options.jobs == 0 { 4 } else { options.jobs }.min(blobs.len().max(1));
    std::thread::scope(|s| {
        for _ in 0..jobs {
            s.spawn(|| loop {
                if failed.load(Ordering::Relaxed) {
                    return;
                }
                let Some((digest, size)) = queue.lock().expect("queue").pop() else { return };
                let progress = options.progress.clone();
                let open = || -> Result<Box<dyn Read + Send>> {
                    let r = src.open_blob(digest, *size)?;
                    Ok(match &progress {
                        Some(p) => Box::new(Counting { inner: r, progress: p.clone() }),
                        None => r,
                    })
                };
                match sink.put_blob(digest, *size, &open) {
                    Ok(put) => {
                        let mut t = tally.lock().expect("tally");
                        match put {
                            Put::Skipped => t.skipped += 1,
                            Put::Mounted => t.mounted += 1,
                            Put::Uploaded => {
                                t.copied += 1;
                                t.bytes += size;
                            }
                        }
                        if put != Put::Uploaded {
                            if let Some(p) = &options.progress {
                                p(*size);
                            }
                        }
                    }
                    Err(e) => {
                        failed.store(true, Ordering::Relaxed);
                        first_error.lock().expect("error").get_or_insert(e);
                        return;
                    }
                }
            });
        }
    });
    match first_error.into_inner().expect("error") {
        Some(e) => Err(e),
        None => Ok(tally.into_inner().expect("tally")),
    }
}

struct Counting {
    inner: Box<dyn Read + Send>,
    progress: ProgressFn,
}

impl Read for Counting {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        (self.progress)(n as u64);
        Ok(n)
    }
}

type Opener<'a> = dyn Fn() -> Result<Box<dyn Read + Send>> + Sync + 'a;

trait Sink: Sync {
    fn put_blob(&self, digest: &Digest, size: u64, open: &Opener<'_>) -> Result<Put>;
    fn put_manifest(&self, digest: &Digest, bytes: &[u8], media_type: &str) -> Result<()>;
    /// Name the root; returns its digest.
    fn tag(&self, root: &Root, tag: &str) -> Result<Digest>;
}

struct RegistrySink {
    registry: Arc<Registry>,
    repo: String,
    mount_from: Option<String>,
}

impl Sink for RegistrySink {
    fn put_blob(&self, digest: &Digest, size: u64, open: &Opener<'_>) -> Result<Put> {
        self.registry.push_blob(&self.repo, digest, size, self.mount_from.as_deref(), open)
    }
    fn put_manifest(&self, digest: &Digest, bytes: &[u8], media_type: &str) -> Result<()> {
        self.registry.put_manifest(&self.repo, digest.as_str(), bytes, media_type).map(drop)
    }
    fn tag(&self, root: &Root, tag: &str) -> Result<Digest> {
        self.registry.put_manifest(&self.repo, tag, &root.bytes, &root.media_type)
    }
}

struct LayoutSink {
    dir: PathBuf,
    writer: Mutex<LayoutWriter>,
}

impl LayoutSink {
    fn new(dir: &Path) -> Result<Self> {
        Ok(Self { dir: dir.to_owned(), writer: Mutex::new(LayoutWriter::create(dir)?) })
    }
}

impl Sink for LayoutSink {
    fn put_blob(&self, digest: &Digest, _size: u64, open: &Opener<'_>) -> Result<Put> {
        let path = self.dir.join(digest.blob_path());
        if path.is_file() {
            return Ok(Put::Skipped);
        }
        let io = |action, source| Error::Io { action, path: path.clone(), source };
        let mut tmp = tempfile_in(&self.dir.join("blobs/sha256"))
            .map_err(|e| io("creating a temp file beside", e))?;
        // Dropping `tmp` removes it on every error path; the guard covers an interrupt.
        let _guard = archbench_results::cleanup::Guard::new(tmp.path());
        let mut reader = VerifyingReader::new(open()?, digest);
        std::io::copy(&mut reader, tmp.as_file_mut()).map_err(|e| match e.into_inner() {
            Some(inner) => match inner.downcast::<Error>() {
                Ok(err) => *err,
                Err(other) => {
                    let stalled = other
                        .downcast_ref::<reqwest::Error>()
                        .is_some_and(|r| r.is_timeout());
                    let action = if stalled {
                        "the source stopped sending for longer than the idle timeout (--registry-timeout) while copying into"
                    } else {
                        "copying into"
                    };
                    io(action, std::io::Error::other(other))
                }
            },
            None => io("copying into", std::io::Error::other("read failed")),
        })?;
        tmp.as_file_mut().sync_all().map_err(|e| io("syncing", e))?;
        tmp.persist(&path).map_err(|e| io("renaming into", e.error))?;
        Ok(Put::Uploaded)
    }
    fn put_manifest(&self, digest: &Digest, bytes: &[u8], media_type: &str) -> Result<()> {
        let w = self.writer.lock().expect("writer").blob(bytes, media_type)?;
        if w.digest != *digest {
            return Err(Error::Digest { expected: digest.clone(), actual: w.digest });
        }
        Ok(())
    }
    fn tag(&self, root: &Root, tag: &str) -> Result<Digest> {
        let mut w = self.writer.lock().expect("writer");
        let written = w.blob(&root.bytes, &root.media_type)?;
        w.tag(&written, tag)?;
        Ok(written.digest)
    }
}

/// A named temp file in `dir` (so the final rename stays on one filesystem). It is created with
/// mode 0666 less the umask, as `cp` or skopeo would create the blob: tempfile's default 0600
/// would make a layout that other users cannot read.
fn tempfile_in(dir: &Path) -> std::io::Result<tempfile::NamedTempFile> {
    use std::os::unix::fs::PermissionsExt;
    tempfile::Builder::new()
        .prefix(".partial-")
        .permissions(std::fs::Permissions::from_mode(0o666))
        .tempfile_in(dir)
}

/// A `--platform` given for a manifest whose config names another platform would publish an
/// index that lies about its entry; a config without a usable platform may be labelled freely.
fn refuse_contradiction(given: &Platform, declared: &Declared, what: &str) -> Result<()> {
    match declared.platform() {
        Some(d) if d != given => Err(Error::Invalid {
            what: what.to_owned(),
            message: format!(
                "--platform {given} contradicts its config, which says {d}; drop --platform or rebuild the image for {given}"
            ),
        }),
        _ => Ok(()),
    }
}

/// Two entries of one platform make an index whose runtime choice is arbitrary. Attestations
/// (all `unknown/unknown`) are not platforms' images, and one per image is usual.
fn refuse_duplicates(entries: &[Descriptor], origin: &[String]) -> Result<()> {
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for (i, d) in entries.iter().enumerate() {
        if Attestation::classify(d, None).is_some() {
            continue;
        }
        let Some(p) = platform_of(d) else { continue };
        if let Some(first) = seen.insert(p.clone(), i) {
            let name =
                |k: usize| origin.get(k).cloned().unwrap_or_else(|| format!("entry {}", k + 1));
            return Err(Error::Invalid {
                what: "the index".into(),
                message: format!(
                    "two entries for {p} ({} and {}); give each platform once",
                    name(first),
                    name(i)
                ),
            });
        }
    }
    Ok(())
}

/// One source for [`create_index`]: a manifest (or every manifest of an index) and the platform
/// to give it (taken from its config when not given).
pub struct IndexSource {
    /// Where it is.
    pub source: ImageSource,
    /// Platform to record, overriding the config.
    pub platform: Option<Platform>,
}

/// How [`create_index`] treats the destination.
#[derive(Debug, Clone, Copy, Default)]
pub struct IndexMode {
    /// Keep the entries of the index already at the destination, unless a new entry has the
    /// same platform.
    pub append: bool,
    /// Write nothing; return the index.
    pub dry_run: bool,
}

/// Assemble an index from existing manifests: copy each (with its blobs) to `dst`, then put an
/// index that lists them with their platforms ([`IndexMode`] says whether to append and
/// whether to write at all). Three steps: [`index_entries`], [`merge_existing`], [`put_index`].
pub fn create_index(
    sources: &[IndexSource],
    dst: &Destination,
    annotations: &BTreeMap<String, String>,
    mode: IndexMode,
    options: &CopyOptions,
) -> Result<(Root, Vec<CopyReport>)> {
    let mut entries = index_entries(sources)?;
    if mode.append {
        entries = merge_existing(dst, entries)?;
    }
    let bytes = document::to_bytes(&document::index(entries, annotations));
    let root =
        Root { digest: Digest::of(&bytes), media_type: crate::layout::media::INDEX.into(), bytes };
    if mode.dry_run {
        return Ok((root, Vec::new()));
    }
    let reports = put_index(sources, dst, &root, options)?;
    Ok((root, reports))
}

/// The index entries for `sources`: every entry of a source that is an index, or one entry per
/// manifest with its platform (given, or from its config); duplicates and contradictions are
/// refused.
fn index_entries(sources: &[IndexSource]) -> Result<Vec<Descriptor>> {
    let mut entries: Vec<Descriptor> = Vec::new();
    // Which source each entry came from, for messages.
    let mut origin: Vec<String> = Vec::new();
    for s in sources {
        let root = s.source.root()?;
        if root.is_index() {
            if s.platform.is_some() {
                return Err(Error::BadReference(format!(
                    "{} is an index; --platform applies to single manifests",
                    s.source.describe()
                )));
            }
            let index = document::parse_index(&root.bytes, &s.source.describe())?;
            for d in index.manifests().iter().cloned() {
                entries.push(d);
                origin.push(s.source.describe());
            }
            continue;
        }
        let images = s.source.images()?;
        let declared = images.first().map_or_else(Declared::default, |i| i.config_platform.clone());
        let platform = match &s.platform {
            Some(p) => {
                refuse_contradiction(p, &declared, &s.source.describe())?;
                p.clone()
            }
            None => declared.known().cloned().map_err(|_| Error::Invalid {
                what: s.source.describe(),
                message: format!(
                    "its config says {:?}, which is not a platform; pass --platform",
                    declared.text()
                ),
            })?,
        };
        let d = document::descriptor(&root.media_type, &root.digest, root.bytes.len() as u64);
        entries.push(document::with_platform(d, &platform));
        origin.push(s.source.describe());
    }
    refuse_duplicates(&entries, &origin)?;
    Ok(entries)
}

/// `entries` after the entries of the index already at `dst` whose platforms they do not
/// replace (for `--append`); `entries` alone when nothing is there yet.
fn merge_existing(dst: &Destination, entries: Vec<Descriptor>) -> Result<Vec<Descriptor>> {
    let existing = match dst {
        Destination::Registry { registry, reference } => {
            match registry.manifest(&reference.repository, reference.target()) {
                Ok(f) => Some(f.bytes),
                Err(Error::NotFound(_)) => None,
                Err(e) => return Err(e),
            }
        }
        Destination::Layout { dir, tag } => {
            let r = ImageRef::Layout { dir: dir.clone(), tag: Some(tag.clone()) };
            ImageSource::open(&r).and_then(|s| s.root()).ok().map(|r| r.bytes)
        }
    };
    let Some(bytes) = existing else { return Ok(entries) };
    let old = document::parse_index(&bytes, &dst.describe())?;
    let new_platforms: Vec<Option<String>> = entries
        .iter()
        .filter(|d| Attestation::classify(d, None).is_none())
        .map(platform_of)
        .collect();
    let (old_attestations, old_images): (Vec<&Descriptor>, Vec<&Descriptor>) =
        old.manifests().iter().partition(|d| Attestation::classify(d, None).is_some());
    let mut kept: Vec<Descriptor> = old_images
        .into_iter()
        .filter(|d| !new_platforms.contains(&platform_of(d)))
        .cloned()
        .collect();
    // An old attestation stays while the image it describes does.
    let kept_digests: Vec<String> = kept.iter().map(|d| d.digest().to_string()).collect();
    kept.extend(
        old_attestations
            .into_iter()
            .filter(|d| {
                Attestation::classify(d, None)
                    .and_then(|a| a.of)
                    .is_some_and(|of| kept_digests.iter().any(|d| of == d.as_str()))
            })
            .cloned(),
    );
    kept.extend(entries);
    Ok(kept)
}

/// Copy every source to `dst` by digest (blobs, then manifests), then put the index `root`
/// under the destination's tag; the temporary tags of a layout are removed.
fn put_index(
    sources: &[IndexSource],
    dst: &Destination,
    root: &Root,
    options: &CopyOptions,
) -> Result<Vec<CopyReport>> {
    let mut reports = Vec::new();
    for s in sources {
        let by_digest = match dst {
            Destination::Layout { dir, .. } => {
                Destination::Layout { dir: dir.clone(), tag: part_tag(&s.source.root()?.digest) }
            }
            Destination::Registry { registry, reference } => Destination::Registry {
                registry: registry.clone(),
                reference: reference.with_digest(&s.source.root()?.digest),
            },
        };
        reports.push(copy(&s.source, &by_digest, options)?);
    }
    match dst {
        Destination::Registry { registry, reference } => {
            let target = reference.tag.clone().unwrap_or_else(|| root.digest.to_string());
            registry.put_manifest(&reference.repository, &target, &root.bytes, &root.media_type)?;
        }
        Destination::Layout { dir, tag } => {
            let mut w = LayoutWriter::create(dir)?;
            let written = w.blob(&root.bytes, &root.media_type)?;
            w.tag(&written, tag)?;
            for r in &reports {
                w.untag(&part_tag(&r.digest))?;
            }
        }
    }
    Ok(reports)
}

/// The temporary tag a source of an index gets in a layout while the index is assembled.
fn part_tag(digest: &Digest) -> String {
    format!("archbench-part-{}", &digest.hex()[..12])
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The process umask, from /proc (reading it with umask(2) would change it for a moment
    /// under every other thread).
    fn umask() -> u32 {
        let status = std::fs::read_to_string("/proc/self/status").unwrap();
        let line = status.lines().find(|l| l.starts_with("Umask:")).unwrap();
        u32::from_str_radix(line.split_whitespace().nth(1).unwrap(), 8).unwrap()
    }

    #[test]
    fn blobs_are_created_with_the_umask_not_0600() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let f = tempfile_in(dir.path()).unwrap();
        let mode = f.as_file().metadata().unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o666 & !umask(), "{mode:o}");
    }
}
