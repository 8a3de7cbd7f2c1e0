//! Feeding files to [`identify`](crate::identify): directory trees and tar streams.
//!
//! Only blobs whose magic bytes make them candidates are read in full; everything else costs a
//! 16-byte read (directories) or is skipped in the stream (tars). Nothing is extracted to disk.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use archbench_results::error_line;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::{identify_opt, peek, Error, Identity, Result, PEEK_LEN};

/// Limits that keep hostile input from exhausting memory or time.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// The largest single candidate read into memory from a stream, bytes.
    pub max_entry_bytes: u64,
    /// The most decompressed bytes read from one stream before it is abandoned (gzip bombs).
    pub max_stream_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self { max_entry_bytes: 1 << 30, max_stream_bytes: 64 << 30 }
    }
}

/// One candidate file and what it turned out to be.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Found {
    /// Path (relative to the tar root for streams).
    pub path: String,
    /// Size in bytes.
    pub size: u64,
    /// The identification, when it succeeded.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub identity: Option<Identity>,
    /// Why identification failed (truncated, corrupt, too large, unreadable).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The file (or directory) could not be read at all: the scan is incomplete, which is
    /// different from a file that was read and found malformed.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub unreadable: bool,
}

impl Found {
    fn from_result(path: String, size: u64, r: Result<Option<Identity>>) -> Option<Found> {
        match r {
            Ok(Some(id)) => {
                Some(Found { path, size, identity: Some(id), error: None, unreadable: false })
            }
            Ok(None) => None,
            Err(e) => Some(Found {
                path,
                size,
                identity: None,
                error: Some(error_line(&e)),
                unreadable: false,
            }),
        }
    }
}

/// Totals of a walk.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize)]
pub struct Scanned {
    /// Regular files looked at.
    pub files: u64,
    /// Their total size.
    pub bytes: u64,
}

fn identify_file(path: &Path) -> Result<Option<(u64, Result<Option<Identity>>)>> {
    let io = |source| Error::Io { path: path.to_owned(), source };
    let mut f = File::open(path).map_err(io)?;
    let size = f.metadata().map_err(io)?.len();
    let mut head = [0u8; PEEK_LEN];
    let mut n = 0;
    while n < head.len() {
        match f.read(&mut head[n..]).map_err(io)? {
            0 => break,
            k => n += k,
        }
    }
    if !peek(&head[..n]).is_candidate() {
        return Ok(None);
    }
    if size == 0 {
        return Ok(Some((0, identify_opt(&head[..n]))));
    }
    Ok(Some((size, identify_open(&f).map_err(io).and_then(|r| r))))
}

/// Identify an open file by mapping it, so only the pages the parsers touch are read: a 2 GiB
/// file (sparse or not) costs what its headers cost, not 2 GiB of memory. The outer error is
/// the map failing; the inner one is [`identify_opt`]'s. The caller checks that `file` is a
/// regular file (a map of a FIFO fails; of a device, it would be that device's memory).
pub fn identify_open(file: &File) -> std::io::Result<Result<Option<Identity>>> {
    if file.metadata()?.len() == 0 {
        return Ok(identify_opt(&[]));
    }
    // SAFETY: the map is read-only and private; a file truncated underneath us by another process
    // could fault, which is the accepted trade for not copying gigabyte libraries (file(1) and
    // ripgrep make the same one).
    let map = unsafe { memmap2::Mmap::map(file) }?;
    Ok(identify_opt(&map))
}

/// Identify every candidate under `root` (a directory or one file), in parallel, without
/// following symbolic links. Results are sorted by path.
pub fn walk_dir(root: &Path) -> Result<(Vec<Found>, Scanned)> {
    // The root is what the user named: follow it if it is a link (links inside are not
    // followed, so a tree is never left).
    let meta =
        std::fs::metadata(root).map_err(|source| Error::Io { path: root.to_owned(), source })?;
    // A FIFO, a device or a socket named as the root is neither a file to identify nor a tree
    // to walk: an error, not "0 files" and success.
    if !meta.is_file() && !meta.is_dir() {
        return Err(Error::Io {
            path: root.to_owned(),
            source: std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "not a regular file or a directory (a FIFO, a device or a socket): identify reads files and directory trees",
            ),
        });
    }
    let mut unreadable: Vec<Found> = Vec::new();
    let files: Vec<(std::path::PathBuf, u64)> = if meta.is_file() {
        vec![(root.to_owned(), meta.len())]
    } else {
        let mut files = Vec::new();
        for entry in walkdir::WalkDir::new(root).follow_links(false).follow_root_links(true) {
            match entry {
                Ok(e) if e.file_type().is_file() => {
                    let len = e.metadata().map(|m| m.len()).unwrap_or(0);
                    files.push((e.into_path(), len));
                }
                Ok(_) => {}
                // An unreadable directory is a finding, never a silent gap in the count.
                Err(e) => {
                    let path = e.path().unwrap_or(root);
                    let shown =
                        path.strip_prefix(root).unwrap_or(path).to_string_lossy().into_owned();
                    let why = e.io_error().map_or_else(|| e.to_string(), |io| io.to_string());
                    unreadable.push(Found {
                        path: shown,
                        size: 0,
                        identity: None,
                        error: Some(format!("cannot be read: {why}")),
                        unreadable: true,
                    });
                }
            }
        }
        files
    };
    let scanned = Scanned { files: files.len() as u64, bytes: files.iter().map(|f| f.1).sum() };
    let mut found: Vec<Found> = files
        .par_iter()
        .filter_map(|(p, _)| {
            let shown = p
                .strip_prefix(root)
                .ok()
                .filter(|r| !r.as_os_str().is_empty())
                .unwrap_or(p)
                .to_string_lossy()
                .into_owned();
            match identify_file(p) {
                Ok(None) => None,
                Ok(Some((size, r))) => Found::from_result(shown, size, r),
                // identify_file fails only on I/O: the file could not be read.
                Err(e) => Some(Found {
                    path: shown,
                    size: 0,
                    identity: None,
                    error: Some(error_line(&e)),
                    unreadable: true,
                }),
            }
        })
        .collect();
    found.extend(unreadable);
    found.sort_by(|a, b| a.path.cmp(&b.path));
    Ok((found, scanned))
}

/// An event from a layer stream, in archive order.
// One event exists at a time while a layer streams past, so the large `File` variant costs a
// few hundred bytes of stack; boxing it would cost an allocation per file.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone)]
pub enum TarEvent {
    /// A regular file that is a candidate, identified (or failed).
    File(Found),
    /// A regular file that is not a candidate (data); its path matters for overlay semantics.
    Data(String),
    /// `.wh.NAME`: NAME is deleted from lower layers.
    Whiteout(String),
    /// `.wh..wh..opq` in DIR: everything under DIR from lower layers is hidden.
    Opaque(String),
    /// A hard link at the first path to the second: the same file under another name, which
    /// keeps it alive when its first name is whited out.
    HardLink(String, String),
    /// A directory at this path: a file that was there is replaced, what is under it stays.
    Dir(String),
    /// A symlink or device at this path: whatever was there, file or directory tree, is gone.
    Other(String),
}

/// Counts decompressed bytes and fails past the limit.
struct Limited<R> {
    inner: R,
    read: u64,
    limit: u64,
}

impl<R: Read> Read for Limited<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read += n as u64;
        if self.read > self.limit {
            return Err(std::io::Error::other(format!(
                "stream exceeds the limit of {} decompressed bytes",
                self.limit
            )));
        }
        Ok(n)
    }
}

pub use archbench_oci::Compression;

/// Open a possibly compressed stream as a decompressed one, sniffing the compression.
pub fn decompress<'a, R: Read + 'a>(reader: R) -> Result<(Box<dyn Read + 'a>, Compression)> {
    archbench_oci::compression::decompress(reader)
        .map_err(|source| Error::Io { path: "<stream>".into(), source })
}

/// A member path as the runtime resolves it inside the root: `.` and empty components dropped,
/// `..` going up but never above the root (`./usr//bin/../bin/x` is `usr/bin/x`).
pub fn clean(path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for c in path.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            c => parts.push(c),
        }
    }
    parts.join("/")
}

/// Walk a tar stream (plain, gzip or zstd, detected by magic), calling `on_event` per entry.
/// Returns the scan totals; a stream error (corrupt archive, limit exceeded, digest mismatch
/// from a verifying reader underneath) ends the walk with an error after the events so far.
pub fn walk_tar<R: Read>(
    reader: R,
    limits: Limits,
    mut on_event: impl FnMut(TarEvent),
) -> Result<Scanned> {
    let (r, outer) = decompress(reader)?;
    let mut limited = BufReader::new(Limited { inner: r, read: 0, limit: limits.max_stream_bytes });
    // A layer compressed twice (an exporter that compressed what was compressed already) is
    // no tar once undone: say so, rather than leave a tar header error to explain it.
    let inner = Compression::peek(
        limited.fill_buf().map_err(|source| Error::Io { path: "<tar stream>".into(), source })?,
    );
    if outer != Compression::None && inner != Compression::None {
        return Err(Error::Image(format!(
            "the layer is compressed twice: once its {} is undone it is {}, not a tar \
             (whatever wrote it compressed an already compressed layer)",
            outer.name(),
            inner.name()
        )));
    }
    let mut archive = tar::Archive::new(limited);
    let mut scanned = Scanned::default();
    let stream_err = |source: std::io::Error| {
        // A digest failure from a verifying reader is the real story; keep its message.
        Error::Io { path: "<tar stream>".into(), source }
    };
    for entry in archive.entries().map_err(stream_err)? {
        let mut entry = entry.map_err(stream_err)?;
        let raw = entry.path().map_err(stream_err)?.to_string_lossy().into_owned();
        let path = clean(&raw);
        let (dir, name) = match path.rsplit_once('/') {
            Some((d, n)) => (d.to_owned(), n.to_owned()),
            None => (String::new(), path.clone()),
        };
        if name == ".wh..wh..opq" {
            on_event(TarEvent::Opaque(dir));
            continue;
        }
        if let Some(target) = name.strip_prefix(".wh.") {
            on_event(TarEvent::Whiteout(if dir.is_empty() {
                target.to_owned()
            } else {
                format!("{dir}/{target}")
            }));
            continue;
        }
        let kind = entry.header().entry_type();
        if kind.is_hard_link() {
            if let Ok(Some(target)) = entry.link_name() {
                on_event(TarEvent::HardLink(path, clean(&target.to_string_lossy())));
            }
            continue;
        }
        if !kind.is_file() {
            // PAX and GNU long-name headers are folded into the entry by the tar reader; what
            // reaches here is a real member that replaces whatever its path held.
            if !path.is_empty() {
                on_event(if kind.is_dir() { TarEvent::Dir(path) } else { TarEvent::Other(path) });
            }
            continue;
        }
        let size = entry.size();
        scanned.files += 1;
        scanned.bytes += size;
        let mut head = Vec::with_capacity(PEEK_LEN);
        (&mut entry).take(PEEK_LEN as u64).read_to_end(&mut head).map_err(stream_err)?;
        if !peek(&head).is_candidate() {
            on_event(TarEvent::Data(path));
            continue;
        }
        if size > limits.max_entry_bytes {
            let e = Error::TooLarge { what: path.clone(), limit: limits.max_entry_bytes };
            on_event(TarEvent::File(Found {
                path,
                size,
                identity: None,
                error: Some(error_line(&e)),
                unreadable: false,
            }));
            continue;
        }
        let mut bytes = head;
        bytes.reserve(size.saturating_sub(PEEK_LEN as u64) as usize);
        entry.read_to_end(&mut bytes).map_err(stream_err)?;
        if let Some(f) = Found::from_result(path, size, identify_opt(&bytes)) {
            on_event(TarEvent::File(f));
        }
    }
    // The tar ends at its first zero block; what follows must still decompress (a gzip's
    // checksum and length come last), or the layer was not read completely.
    std::io::copy(&mut archive.into_inner(), &mut std::io::sink()).map_err(stream_err)?;
    Ok(scanned)
}

/// Identify every candidate in a tar file (plain, `.gz`, `.zst`).
pub fn walk_tar_file(path: &Path, limits: Limits) -> Result<(Vec<Found>, Scanned)> {
    let f = File::open(path).map_err(|source| Error::Io { path: path.to_owned(), source })?;
    let mut found = Vec::new();
    let scanned = walk_tar(f, limits, |e| {
        if let TarEvent::File(f) = e {
            found.push(f);
        }
    })
    .map_err(|e| match e {
        Error::Io { source, .. } => Error::Io { path: path.to_owned(), source },
        e => e,
    })?;
    Ok((found, scanned))
}

/// True when `path` looks like a tar stream (by content: ustar magic, or gzip/zstd).
pub fn is_tar_like(path: &Path) -> bool {
    let mut head = [0u8; 512];
    let Ok(mut f) = File::open(path) else { return false };
    let n = f.read(&mut head).unwrap_or(0);
    Compression::peek(&head[..n]) != Compression::None || (n >= 262 && &head[257..262] == b"ustar")
}
