//! The build context as a tar, honouring `.dockerignore` as the Docker CLI does.
//!
//! Rules (moby's patternmatcher): each line is trimmed; `#` starts a comment; `!` makes an
//! exception; a leading `/` or `./` and a trailing `/` are dropped. A pattern matches a path
//! when it matches the path or any of its parent directories; `*` and `?` stop at `/`, `**`
//! crosses directories; the last matching line decides. The glob matching is `globset`'s
//! (ripgrep's), with `literal_separator` so that `*` does not cross `/`, which is Go's
//! `filepath.Match`; only the line handling and the parent-directory rule are ours.

use std::path::{Path, PathBuf};

use globset::{GlobBuilder, GlobMatcher};

use crate::{BadRule, Error, Result};

/// One `.dockerignore` line.
struct Rule {
    glob: GlobMatcher,
    exception: bool,
}

/// The rules of a context's `.dockerignore` (none when it has none).
struct Ignore {
    rules: Vec<Rule>,
}

impl Ignore {
    fn load(root: &Path) -> Result<Ignore> {
        let path = root.join(".dockerignore");
        // Only a missing file means no rules: one that cannot be read would otherwise send
        // what it was written to keep out.
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(source) => return Err(Error::Io { action: "reading", path, source }),
        };
        Ignore::parse(&text).map_err(|(line, source)| Error::Dockerignore { path, line, source })
    }

    /// The rules of `text`, or the first line (from 1) that is not one and why.
    fn parse(text: &str) -> std::result::Result<Ignore, (usize, BadRule)> {
        let mut rules = Vec::new();
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (exception, pattern) = match line.strip_prefix('!') {
                Some(p) => (true, p.trim()),
                None => (false, line),
            };
            let pattern =
                pattern.trim_start_matches("./").trim_start_matches('/').trim_end_matches('/');
            if pattern.is_empty() || pattern == "." {
                if exception {
                    return Err((n + 1, BadRule::BareException));
                }
                continue;
            }
            let glob = GlobBuilder::new(pattern)
                .literal_separator(true)
                .backslash_escape(true)
                .build()
                .map_err(|e| (n + 1, BadRule::Glob(e)))?
                .compile_matcher();
            rules.push(Rule { glob, exception });
        }
        Ok(Ignore { rules })
    }

    /// Whether `rel` (relative to the context root, `/`-separated) is left out.
    fn excludes(&self, rel: &str) -> bool {
        let mut out = false;
        for r in &self.rules {
            let mut hit = r.glob.is_match(rel);
            let mut at = rel;
            while !hit {
                let Some((parent, _)) = at.rsplit_once('/') else { break };
                hit = r.glob.is_match(parent);
                at = parent;
            }
            if hit {
                out = !r.exception;
            }
        }
        out
    }

    /// Whether an excluded directory must still be walked: a later exception may bring back
    /// something inside it.
    fn has_exceptions(&self) -> bool {
        self.rules.iter().any(|r| r.exception)
    }
}

/// [`context_tar`] plus one extra file (the rewritten Dockerfile).
pub fn context_with(root: &Path, name: &str, bytes: &[u8]) -> Result<Vec<u8>> {
    let tar = context_tar(root)?;
    let mut b = tar::Builder::new(Vec::new());
    let mut archive = tar::Archive::new(&tar[..]);
    let io = |e| Error::Io {
        action: "packing the build context from",
        path: root.to_owned(),
        source: e,
    };
    for entry in archive.entries().map_err(io)? {
        let mut entry = entry.map_err(io)?;
        let mut header = entry.header().clone();
        let path = entry.path().map_err(io)?.into_owned();
        b.append_data(&mut header, path, &mut entry).map_err(io)?;
    }
    let mut h = tar::Header::new_gnu();
    h.set_size(bytes.len() as u64);
    h.set_mode(0o644);
    h.set_mtime(0);
    b.append_data(&mut h, name, bytes).map_err(io)?;
    b.into_inner().map_err(io)
}

/// Tar `root` (files and symlinks, modes kept, times zeroed so the same tree gives the same tar).
pub fn context_tar(root: &Path) -> Result<Vec<u8>> {
    let ignore = Ignore::load(root)?;
    let mut b = tar::Builder::new(Vec::new());
    b.follow_symlinks(false);
    b.mode(tar::HeaderMode::Deterministic);
    // Plain entries only: the engine's tar reader refuses GNU sparse headers ("unhandled tar
    // header type 83"), and the static binaries aarch64-linux-gnu-gcc writes are sparse. The
    // holes are written out as zeros instead.
    b.sparse(false);
    let mut stack: Vec<PathBuf> = vec![root.to_owned()];
    let io = |path: &Path, e| Error::Io {
        action: "packing the build context from",
        path: path.to_owned(),
        source: e,
    };
    let mut files = Vec::new();
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).map_err(|e| io(&dir, e))? {
            let entry = entry.map_err(|e| io(&dir, e))?;
            let path = entry.path();
            let rel = path.strip_prefix(root).expect("under root").to_string_lossy().into_owned();
            if rel == ".git" {
                continue;
            }
            let excluded = ignore.excludes(&rel);
            let ft = entry.file_type().map_err(|e| io(&path, e))?;
            if ft.is_dir() {
                // An excluded directory is walked only when an exception may bring back
                // something inside it; its entries are then decided one by one.
                if !excluded || ignore.has_exceptions() {
                    stack.push(path);
                }
            } else if !excluded {
                files.push((rel, path));
            }
        }
    }
    files.sort();
    for (rel, path) in files {
        b.append_path_with_name(&path, &rel).map_err(|e| io(&path, e))?;
    }
    b.into_inner().map_err(|e| io(root, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sparse_files_become_plain_entries() {
        use std::io::{Seek, SeekFrom, Write};
        let d = tempfile::tempdir().unwrap();
        let mut f = std::fs::File::create(d.path().join("sparse")).unwrap();
        f.write_all(b"head").unwrap();
        f.seek(SeekFrom::Start(4 << 20)).unwrap();
        f.write_all(b"tail").unwrap();
        drop(f);
        // The file really has a hole (fewer blocks than its length needs), or the test is moot.
        use std::os::unix::fs::MetadataExt;
        let m = std::fs::metadata(d.path().join("sparse")).unwrap();
        assert!(m.blocks() * 512 < m.len(), "the filesystem made no hole");
        let tar = context_tar(d.path()).unwrap();
        let mut a = tar::Archive::new(&tar[..]);
        let mut e = a.entries().unwrap().next().unwrap().unwrap();
        assert_eq!(e.header().entry_type(), tar::EntryType::Regular);
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut e, &mut bytes).unwrap();
        assert_eq!(bytes.len(), (4 << 20) + 4);
        assert!(bytes.starts_with(b"head") && bytes.ends_with(b"tail"));
    }

    /// The entry names of a tar, sorted.
    fn names_in(tar: &[u8]) -> Vec<String> {
        let mut names: Vec<String> = tar::Archive::new(tar)
            .entries()
            .unwrap()
            .map(|e| e.unwrap().path().unwrap().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn dockerignore_simple_forms() {
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(d.path().join("target/x")).unwrap();
        std::fs::create_dir_all(d.path().join("src")).unwrap();
        std::fs::write(d.path().join(".dockerignore"), "target\n*.log\n").unwrap();
        std::fs::write(d.path().join("target/x/big"), "no").unwrap();
        std::fs::write(d.path().join("a.log"), "no").unwrap();
        std::fs::write(d.path().join("src/main.c"), "yes").unwrap();
        std::fs::write(d.path().join("Dockerfile"), "FROM x").unwrap();
        let tar = context_tar(d.path()).unwrap();
        let names = names_in(&tar);
        assert_eq!(names, [".dockerignore", "Dockerfile", "src/main.c"]);
        assert_eq!(tar, context_tar(d.path()).unwrap(), "deterministic");
        std::fs::write(d.path().join(".dockerignore"), "!\n").unwrap();
        let e = context_tar(d.path()).unwrap_err();
        assert!(matches!(e, Error::Dockerignore { line: 1, .. }), "{e:?}");
        let e = archbench_results::error_line(&e);
        assert!(e.contains(".dockerignore: line 1: \"!\" without a pattern"), "{e}");
        // A .dockerignore that exists but cannot be read is an error, not an empty one.
        std::fs::remove_file(d.path().join(".dockerignore")).unwrap();
        std::fs::create_dir(d.path().join(".dockerignore")).unwrap();
        let e = context_tar(d.path()).unwrap_err();
        assert!(matches!(e, Error::Io { .. }), "{e:?}");
    }

    /// Docker's rules beyond the simple forms: `*` stays in one directory, `**` crosses them,
    /// a directory pattern covers what is below it, and the last matching line decides, so a
    /// `!` line brings back a file inside an excluded directory.
    #[test]
    fn dockerignore_follows_dockers_rules() {
        let ig =
            Ignore::parse("# comment\n/build/\n*.log\n**/*.tmp\ndocs\n!docs/keep.md\nsrc/*/gen\n")
                .unwrap();
        for (path, out) in [
            ("build", true),
            ("build/x/y.o", true),
            ("a.log", true),
            ("sub/a.log", false),
            ("x.tmp", true),
            ("deep/er/x.tmp", true),
            ("docs/a.md", true),
            ("docs/keep.md", false),
            ("src/a/gen", true),
            ("src/a/gen/x.c", true),
            ("src/a/b/gen", false),
            ("src/main.c", false),
        ] {
            assert_eq!(ig.excludes(path), out, "{path}");
        }
        assert!(ig.has_exceptions());
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(d.path().join("docs")).unwrap();
        std::fs::write(d.path().join("docs/keep.md"), "y").unwrap();
        std::fs::write(d.path().join("docs/drop.md"), "n").unwrap();
        std::fs::write(d.path().join(".dockerignore"), "docs\n!docs/keep.md\n").unwrap();
        let tar = context_tar(d.path()).unwrap();
        let names = names_in(&tar);
        assert_eq!(names, [".dockerignore", "docs/keep.md"]);
        assert!(Ignore::parse("[z-a]\n").is_err(), "a bad class is refused");
    }
}
