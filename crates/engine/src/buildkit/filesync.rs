//! The build context and the Dockerfile sent through the session's file sync, as buildx sends
//! them: BuildKit asks for a directory by name (`context`, `dockerfile`) with include, exclude
//! and follow patterns, and the client answers with fsutil's packet protocol.
//!
//! The protocol (tonistiigi/fsutil `send.go`, read for this; no code taken): the sender sends a
//! `STAT` packet per entry in walk order, then an empty `STAT`; every entry takes the next ID,
//! whatever its kind, and the receiver asks for a regular file's bytes with `REQ id`, answered
//! by `DATA id` chunks and an empty `DATA id`; `FIN` from the receiver is answered with `FIN`.
//! The receiver checks the order (fsutil's `Validator`): a directory comes before its entries,
//! and the entries of one directory come in byte order of their names, depth first.
//!
//! Decisions:
//! - The tree is the context tar archbench already makes (`.dockerignore` applied, times
//!   zeroed, sparse files made plain, the rewritten Dockerfile added): one source of truth for
//!   both build endpoints. Directories the tar leaves implicit are added (0755, root).
//! - `exclude-patterns` are the frontend's reading of the same `.dockerignore`, already applied
//!   to the tar, so they are not applied a second time; include and follow patterns are, because
//!   the frontend asks for a subset (the Dockerfile alone, the `.dockerignore` alone).
//! - Hard links in the tar are sent as copies of their target's bytes.

use std::collections::BTreeMap;
use std::io::Read;
use std::pin::Pin;
use std::sync::Arc;

use bollard::fsutil::types::{packet::PacketType, Packet, Stat};
use globset::{GlobBuilder, GlobMatcher};
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tokio_stream::{Stream, StreamExt};
use tonic::{Request, Response, Status, Streaming};

/// Go's `os.FileMode` type bits, which fsutil sends in `Stat.mode` beside the permission bits.
const GO_MODE_DIR: u32 = 1 << 31;
const GO_MODE_SYMLINK: u32 = 1 << 27;
const GO_MODE_SETUID: u32 = 1 << 23;
const GO_MODE_SETGID: u32 = 1 << 22;
const GO_MODE_STICKY: u32 = 1 << 20;

/// The size of one `DATA` packet (fsutil's own buffer size).
const CHUNK: usize = 32 * 1024;

/// One entry of the tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Unix permission bits and set-id/sticky bits (`0o755`).
    pub mode: u32,
    /// Owner.
    pub uid: u32,
    /// Group.
    pub gid: u32,
    /// Modification time, seconds since the epoch.
    pub mtime: i64,
    /// What it is.
    pub kind: Kind,
}

/// The kinds of entry a context holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    /// A directory.
    Dir,
    /// A regular file and its bytes.
    File(Arc<Vec<u8>>),
    /// A symbolic link and its target.
    Symlink(String),
}

/// A directory tree held in memory, keyed by slash-separated relative path.
#[derive(Debug, Clone, Default)]
pub struct Tree {
    entries: BTreeMap<String, Entry>,
}

impl Tree {
    /// Read a context tar (as `archbench-builder` makes it).
    pub fn from_tar(tar: &[u8]) -> Result<Tree, super::Error> {
        let context = |what: String| move |source| super::Error::Context { what, source };
        let mut tree = Tree::default();
        let mut archive = tar::Archive::new(tar);
        let entries = archive.entries().map_err(context("reading the context tar".into()))?;
        for entry in entries {
            let mut entry = entry.map_err(context("reading the context tar".into()))?;
            let path = entry.path().map_err(context("reading a path in the context tar".into()))?;
            let Some(path) = clean(&path.to_string_lossy()) else { continue };
            let h = entry.header();
            let (mode, uid, gid, mtime) = (
                h.mode().unwrap_or(0o644) & 0o7777,
                h.uid().unwrap_or(0) as u32,
                h.gid().unwrap_or(0) as u32,
                h.mtime().unwrap_or(0) as i64,
            );
            let kind = match h.entry_type() {
                tar::EntryType::Directory => Kind::Dir,
                tar::EntryType::Symlink => Kind::Symlink(
                    entry
                        .link_name()
                        .ok()
                        .flatten()
                        .map(|l| l.to_string_lossy().into_owned())
                        .unwrap_or_default(),
                ),
                tar::EntryType::Link => {
                    let target = entry
                        .link_name()
                        .ok()
                        .flatten()
                        .and_then(|l| clean(&l.to_string_lossy()))
                        .and_then(|l| tree.entries.get(&l).map(|e| e.kind.clone()));
                    match target {
                        Some(k @ Kind::File(_)) => k,
                        _ => continue,
                    }
                }
                t if t.is_file() => {
                    let mut bytes = Vec::with_capacity(h.size().unwrap_or(0) as usize);
                    entry
                        .read_to_end(&mut bytes)
                        .map_err(context(format!("reading {path} from the context tar")))?;
                    Kind::File(Arc::new(bytes))
                }
                _ => continue,
            };
            tree.insert(path, Entry { mode, uid, gid, mtime, kind });
        }
        Ok(tree)
    }

    /// Add an entry and any parent directory not yet present.
    pub fn insert(&mut self, path: String, entry: Entry) {
        let mut parent = path.as_str();
        while let Some((p, _)) = parent.rsplit_once('/') {
            self.entries.entry(p.to_owned()).or_insert(Entry {
                mode: 0o755,
                uid: 0,
                gid: 0,
                mtime: 0,
                kind: Kind::Dir,
            });
            parent = p;
        }
        self.entries.insert(path, entry);
    }

    /// The entries to send for `includes` (empty: all), in the walk order fsutil's receiver
    /// checks: a directory before its entries, names in byte order, depth first. Directories
    /// that hold nothing included are left out, as fsutil's walker leaves them.
    pub fn walk(&self, includes: &[String]) -> Vec<(&str, &Entry)> {
        let matchers: Vec<GlobMatcher> = includes
            .iter()
            .filter_map(|p| clean(p))
            .filter_map(|p| {
                GlobBuilder::new(&p)
                    .literal_separator(true)
                    .build()
                    .ok()
                    .map(|g| g.compile_matcher())
            })
            .collect();
        let included = |path: &str| {
            matchers.is_empty() || ancestors(path).any(|a| matchers.iter().any(|m| m.is_match(a)))
        };
        let mut keep: std::collections::BTreeSet<&str> = std::collections::BTreeSet::new();
        for path in self.entries.keys() {
            if included(path) {
                keep.insert(path);
                for a in ancestors(path).skip(1) {
                    keep.insert(a);
                }
            }
        }
        let mut out: Vec<(&str, &Entry)> =
            keep.into_iter().map(|p| (p, &self.entries[p])).collect();
        // Component-wise byte order: "a/b" sorts before "a.b" because '/' ends a name.
        out.sort_by(|(a, _), (b, _)| a.split('/').cmp(b.split('/')));
        out
    }
}

/// The path and each of its parents, the path first (`a/b/c`, `a/b`, `a`).
fn ancestors(path: &str) -> impl Iterator<Item = &str> {
    std::iter::successors(Some(path), |p| p.rsplit_once('/').map(|(a, _)| a))
}

/// A tar or pattern path made relative and clean (`./a//b/` → `a/b`); `None` for the root or a
/// path that climbs out.
fn clean(path: &str) -> Option<String> {
    let mut parts = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => return None,
            p => parts.push(p),
        }
    }
    (!parts.is_empty()).then(|| parts.join("/"))
}

/// `entry` as fsutil's `Stat`, its mode in Go's `os.FileMode` bits.
fn stat(path: &str, entry: &Entry) -> Stat {
    let mut mode = entry.mode & 0o777;
    for (unix, go) in [(0o4000, GO_MODE_SETUID), (0o2000, GO_MODE_SETGID), (0o1000, GO_MODE_STICKY)]
    {
        if entry.mode & unix != 0 {
            mode |= go;
        }
    }
    let (size, linkname) = match &entry.kind {
        Kind::Dir => {
            mode |= GO_MODE_DIR;
            (0, String::new())
        }
        Kind::File(bytes) => (bytes.len() as i64, String::new()),
        Kind::Symlink(target) => {
            mode |= GO_MODE_SYMLINK;
            (target.len() as i64, target.clone())
        }
    };
    Stat {
        path: path.to_owned(),
        mode,
        uid: entry.uid,
        gid: entry.gid,
        size,
        mod_time: entry.mtime.saturating_mul(1_000_000_000),
        linkname,
        devmajor: 0,
        devminor: 0,
        xattrs: Default::default(),
    }
}

fn packet(kind: PacketType, id: u32, stat: Option<Stat>, data: Vec<u8>) -> Packet {
    Packet { r#type: kind as i32, stat, id, data }
}

/// The packets a sender opens with: one `STAT` per entry, then the empty `STAT`; and the
/// regular files by ID, for the `REQ`s that follow.
pub fn stats(entries: &[(&str, &Entry)]) -> (Vec<Packet>, BTreeMap<u32, Arc<Vec<u8>>>) {
    let mut packets = Vec::with_capacity(entries.len() + 1);
    let mut files = BTreeMap::new();
    for (id, (path, entry)) in entries.iter().enumerate() {
        let id = id as u32;
        if let Kind::File(bytes) = &entry.kind {
            files.insert(id, bytes.clone());
        }
        packets.push(packet(PacketType::PacketStat, 0, Some(stat(path, entry)), Vec::new()));
    }
    packets.push(packet(PacketType::PacketStat, 0, None, Vec::new()));
    (packets, files)
}

/// The session's `moby.filesync.v1.FileSync` service over named trees (`context`,
/// `dockerfile`).
pub struct FileSync {
    /// The trees by the name BuildKit asks for (`dir-name`).
    pub dirs: BTreeMap<String, Arc<Tree>>,
}

type PacketStream = Pin<Box<dyn Stream<Item = Result<Packet, Status>> + Send>>;

#[tonic::async_trait]
impl bollard::moby::filesync::packet::file_sync_server::FileSync for FileSync {
    type DiffCopyStream = PacketStream;
    type TarStreamStream = PacketStream;

    async fn diff_copy(
        &self,
        request: Request<Streaming<Packet>>,
    ) -> Result<Response<PacketStream>, Status> {
        let md = request.metadata();
        let values = |key: &str| -> Vec<String> {
            md.get_all(key).iter().filter_map(|v| v.to_str().ok().map(str::to_owned)).collect()
        };
        let name = values("dir-name").into_iter().next().unwrap_or_default();
        let tree = self.dirs.get(&name).cloned().ok_or_else(|| {
            Status::not_found(format!("archbench offers no directory {name:?} to this build"))
        })?;
        let mut includes = values("include-patterns");
        includes.extend(values("followpaths"));
        let (opening, files) = stats(&tree.walk(&includes));
        let mut incoming = request.into_inner();
        let (tx, rx) = mpsc::channel::<Result<Packet, Status>>(64);
        tokio::spawn(async move {
            for p in opening {
                if tx.send(Ok(p)).await.is_err() {
                    return;
                }
            }
            while let Some(msg) = incoming.next().await {
                let Ok(p) = msg else { return };
                match PacketType::try_from(p.r#type) {
                    Ok(PacketType::PacketReq) => {
                        let Some(bytes) = files.get(&p.id) else {
                            let why = format!("no file with id {}", p.id).into_bytes();
                            let _ = tx.send(Ok(packet(PacketType::PacketErr, 0, None, why))).await;
                            return;
                        };
                        for chunk in bytes.chunks(CHUNK) {
                            let data = packet(PacketType::PacketData, p.id, None, chunk.to_vec());
                            if tx.send(Ok(data)).await.is_err() {
                                return;
                            }
                        }
                        let end = packet(PacketType::PacketData, p.id, None, Vec::new());
                        if tx.send(Ok(end)).await.is_err() {
                            return;
                        }
                    }
                    Ok(PacketType::PacketFin) => {
                        let _ =
                            tx.send(Ok(packet(PacketType::PacketFin, 0, None, Vec::new()))).await;
                        return;
                    }
                    Ok(PacketType::PacketErr) => return,
                    _ => {}
                }
            }
        });
        Ok(Response::new(Box::pin(ReceiverStream::new(rx))))
    }

    async fn tar_stream(
        &self,
        _request: Request<Streaming<Packet>>,
    ) -> Result<Response<PacketStream>, Status> {
        Err(Status::unimplemented("archbench sends directories with DiffCopy only"))
    }
}

/// The session's `moby.filesync.v1.FileSend` service: where an exporter that streams its
/// result to the client (`oci`, `docker`, `tar`) writes it, as one file.
pub struct FileSend {
    /// The file to write; `None` refuses (no exporter of this solve streams to the client).
    pub path: Option<std::path::PathBuf>,
}

type BytesStream =
    Pin<Box<dyn Stream<Item = Result<bollard::moby::filesync::v1::BytesMessage, Status>> + Send>>;

#[tonic::async_trait]
impl bollard::moby::filesync::v1::file_send_server::FileSend for FileSend {
    type DiffCopyStream = BytesStream;

    async fn diff_copy(
        &self,
        request: Request<Streaming<bollard::moby::filesync::v1::BytesMessage>>,
    ) -> Result<Response<BytesStream>, Status> {
        let Some(path) = self.path.clone() else {
            return Err(Status::failed_precondition(
                "this archbench build takes no exporter output",
            ));
        };
        let mut file = tokio::fs::File::create(&path)
            .await
            .map_err(|e| Status::internal(format!("creating {}: {e}", path.display())))?;
        let mut incoming = request.into_inner();
        while let Some(msg) = incoming.next().await {
            let msg = msg?;
            tokio::io::AsyncWriteExt::write_all(&mut file, &msg.data)
                .await
                .map_err(|e| Status::internal(format!("writing {}: {e}", path.display())))?;
        }
        tokio::io::AsyncWriteExt::flush(&mut file)
            .await
            .map_err(|e| Status::internal(format!("writing {}: {e}", path.display())))?;
        Ok(Response::new(Box::pin(tokio_stream::empty())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(mode: u32, bytes: &[u8]) -> Entry {
        Entry { mode, uid: 0, gid: 0, mtime: 0, kind: Kind::File(Arc::new(bytes.to_vec())) }
    }

    fn tree(paths: &[&str]) -> Tree {
        let mut t = Tree::default();
        for p in paths {
            t.insert((*p).to_owned(), file(0o644, p.as_bytes()));
        }
        t
    }

    fn names(t: &Tree, includes: &[&str]) -> Vec<String> {
        let inc: Vec<String> = includes.iter().map(|s| (*s).to_owned()).collect();
        t.walk(&inc).into_iter().map(|(p, _)| p.to_owned()).collect()
    }

    #[test]
    fn walk_order_is_the_validators() {
        // '/' ends a name, so the directory a and its entries come before "a.b" and "a0".
        let t = tree(&["a0", "a.b", "a/z", "a/b/c", "B", "Dockerfile"]);
        assert_eq!(names(&t, &[]), ["B", "Dockerfile", "a", "a/b", "a/b/c", "a/z", "a.b", "a0"]);
    }

    #[test]
    fn includes_keep_parents_and_whole_directories() {
        let t = tree(&["Dockerfile", "src/main.rs", "src/lib/x.rs", "docs/a.md", ".dockerignore"]);
        assert_eq!(names(&t, &["Dockerfile"]), ["Dockerfile"]);
        assert_eq!(names(&t, &[".dockerignore", "Dockerfile.dockerignore"]), [".dockerignore"]);
        assert_eq!(names(&t, &["src/lib"]), ["src", "src/lib", "src/lib/x.rs"]);
        assert_eq!(names(&t, &["src/*.rs"]), ["src", "src/main.rs"]);
        assert_eq!(names(&t, &["./docs/"]), ["docs", "docs/a.md"]);
    }

    #[test]
    fn ids_count_every_entry_and_files_are_requestable_by_theirs() {
        let mut t = tree(&["d/f", "g"]);
        t.insert(
            "l".into(),
            Entry { mode: 0o777, uid: 0, gid: 0, mtime: 0, kind: Kind::Symlink("g".into()) },
        );
        let walked = t.walk(&[]);
        let (packets, files) = stats(&walked);
        let paths: Vec<_> =
            packets.iter().map(|p| p.stat.as_ref().map(|s| s.path.clone())).collect();
        assert_eq!(
            paths,
            [Some("d".into()), Some("d/f".into()), Some("g".into()), Some("l".into()), None]
        );
        assert_eq!(files.keys().copied().collect::<Vec<_>>(), [1, 2]);
        assert_eq!(files[&2].as_slice(), b"g");
        let modes: Vec<u32> =
            packets.iter().filter_map(|p| p.stat.as_ref().map(|s| s.mode)).collect();
        assert_eq!(modes, [GO_MODE_DIR | 0o755, 0o644, 0o644, GO_MODE_SYMLINK | 0o777]);
        assert_eq!(packets[3].stat.as_ref().unwrap().linkname, "g");
    }

    #[test]
    fn a_context_tar_becomes_a_tree() {
        let mut b = tar::Builder::new(Vec::new());
        let mut h = tar::Header::new_gnu();
        h.set_size(3);
        h.set_mode(0o4755);
        b.append_data(&mut h, "./bin/tool", &b"abc"[..]).unwrap();
        let mut l = tar::Header::new_gnu();
        l.set_entry_type(tar::EntryType::Link);
        l.set_size(0);
        b.append_link(&mut l, "bin/again", "bin/tool").unwrap();
        let t = Tree::from_tar(&b.into_inner().unwrap()).unwrap();
        let walked = t.walk(&[]);
        let (packets, files) = stats(&walked);
        assert_eq!(
            walked.iter().map(|(p, _)| *p).collect::<Vec<_>>(),
            ["bin", "bin/again", "bin/tool"]
        );
        assert_eq!(packets[2].stat.as_ref().unwrap().mode, GO_MODE_SETUID | 0o755);
        assert_eq!(files[&1].as_slice(), b"abc", "a hard link is sent as a copy");
    }

    #[test]
    fn paths_that_climb_out_are_dropped() {
        assert_eq!(clean("../etc/passwd"), None);
        assert_eq!(clean("./"), None);
        assert_eq!(clean(".//a//b/"), Some("a/b".into()));
    }
}
