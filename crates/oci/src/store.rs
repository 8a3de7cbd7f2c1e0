//! Where an image's files live: a directory (OCI image layout) or a tarball (`docker save`
//! output, or an OCI layout packed in a tar). Both are read by path, so the layout and
//! docker-archive logic is written once.

use std::collections::HashMap;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Component, Path, PathBuf};

use crate::{Error, Result};

/// Read access to named files of an image.
pub trait Store: Send + Sync {
    /// Open `path` (relative, `/`-separated); returns the reader and the file's size.
    fn open(&self, path: &str) -> Result<(Box<dyn Read + Send>, u64)>;
    /// Whether `path` exists.
    fn exists(&self, path: &str) -> bool;
    /// A description for messages (`oci:/tmp/x`, `docker-archive:/tmp/x.tar`).
    fn describe(&self) -> String;
    /// For reaching the concrete store (the registry one offers more).
    fn as_any(&self) -> &dyn std::any::Any;
}

/// A document of `store` (an index, a manifest, a config, a docker archive's `manifest.json`),
/// read whole and refused past [`crate::limits::MAX_DOCUMENT_BYTES`] before it is read.
pub fn read_document(store: &dyn Store, path: &str) -> Result<Vec<u8>> {
    let (r, size) = store.open(path)?;
    if size > crate::limits::MAX_DOCUMENT_BYTES {
        return Err(Error::TooLarge {
            what: format!("{} {path}", store.describe()),
            size,
            limit: crate::limits::MAX_DOCUMENT_BYTES,
        });
    }
    let mut bytes = Vec::with_capacity(size as usize);
    r.take(crate::limits::MAX_DOCUMENT_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|source| Error::Io { action: "reading", path: PathBuf::from(path), source })?;
    Ok(bytes)
}

/// A directory.
pub struct DirStore {
    root: PathBuf,
}

impl DirStore {
    /// Files under `root`.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    fn resolve(&self, path: &str) -> Result<PathBuf> {
        let rel = Path::new(path);
        if rel.components().any(|c| !matches!(c, Component::Normal(_))) {
            return Err(Error::BadReference(format!("refusing path {path:?} outside the layout")));
        }
        Ok(self.root.join(rel))
    }

    /// A layout's files are regular files inside it. A link that leads out of the layout (to
    /// /dev/zero, to another user's file) or anything but a regular file is refused: reading it
    /// could never end, or would read what the layout does not own.
    fn refuse_escape(&self, p: &Path) -> Result<()> {
        let io = |action, source| Error::Io { action, path: p.to_owned(), source };
        let real = p.canonicalize().map_err(|e| io("resolving", e))?;
        let root = self.root.canonicalize().map_err(|e| io("resolving the layout of", e))?;
        let refuse = |why: String| Error::Invalid { what: p.display().to_string(), message: why };
        if !real.starts_with(&root) {
            return Err(refuse(format!(
                "is a link to {}, outside the layout; refusing to follow it",
                real.display()
            )));
        }
        if !std::fs::metadata(&real).map_err(|e| io("reading metadata of", e))?.is_file() {
            return Err(refuse("is not a regular file; refusing to read it as a blob".into()));
        }
        Ok(())
    }
}

impl Store for DirStore {
    fn open(&self, path: &str) -> Result<(Box<dyn Read + Send>, u64)> {
        let p = self.resolve(path)?;
        self.refuse_escape(&p)?;
        let f = File::open(&p).map_err(|source| Error::Io {
            action: "opening",
            path: p.clone(),
            source,
        })?;
        let size = f
            .metadata()
            .map_err(|source| Error::Io { action: "reading metadata of", path: p, source })?
            .len();
        Ok((Box::new(f), size))
    }
    fn exists(&self, path: &str) -> bool {
        self.resolve(path).map(|p| p.is_file()).unwrap_or(false)
    }
    fn describe(&self) -> String {
        format!("oci:{}", self.root.display())
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

/// A tar file, indexed once so members can be read in any order without extracting.
pub struct TarStore {
    path: PathBuf,
    /// member path → (offset of data, size)
    entries: HashMap<String, (u64, u64)>,
}

fn normalise(p: &str) -> String {
    p.trim_start_matches("./").trim_start_matches('/').to_owned()
}

impl TarStore {
    /// Index the regular files of `path`.
    pub fn open(path: impl Into<PathBuf>) -> Result<Self> {
        let path = path.into();
        let io = |action, source| Error::Io { action, path: path.clone(), source };
        let f = File::open(&path).map_err(|e| io("opening", e))?;
        let mut archive = tar::Archive::new(f);
        let mut entries = HashMap::new();
        for entry in archive.entries_with_seek().map_err(|e| io("reading the tar index of", e))? {
            let entry = entry.map_err(|e| io("reading a tar header in", e))?;
            if !entry.header().entry_type().is_file() {
                continue;
            }
            let name = entry
                .path()
                .map_err(|e| io("reading a member name in", e))?
                .to_string_lossy()
                .into_owned();
            entries.insert(normalise(&name), (entry.raw_file_position(), entry.size()));
        }
        Ok(Self { path, entries })
    }
}

impl Store for TarStore {
    fn open(&self, path: &str) -> Result<(Box<dyn Read + Send>, u64)> {
        let &(offset, size) = self
            .entries
            .get(&normalise(path))
            .ok_or_else(|| Error::NotFound(format!("{} has no member {path}", self.describe())))?;
        let mut f = File::open(&self.path).map_err(|source| Error::Io {
            action: "opening",
            path: self.path.clone(),
            source,
        })?;
        f.seek(SeekFrom::Start(offset)).map_err(|source| Error::Io {
            action: "seeking in",
            path: self.path.clone(),
            source,
        })?;
        Ok((Box::new(f.take(size)), size))
    }
    fn exists(&self, path: &str) -> bool {
        self.entries.contains_key(&normalise(path))
    }
    fn describe(&self) -> String {
        format!("docker-archive:{}", self.path.display())
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}
