//! The build context as a tar, honouring the simple forms of `.dockerignore`.

use std::path::{Path, PathBuf};

use crate::{Error, Result};

/// Patterns from `.dockerignore`: exact paths, directory prefixes and `*.ext` / `name*` globs
/// on the last component. Negations (`!`) are not supported and are reported.
fn ignore_patterns(root: &Path) -> Result<Vec<String>> {
    let path = root.join(".dockerignore");
    let Ok(text) = std::fs::read_to_string(&path) else { return Ok(Vec::new()) };
    let mut out = Vec::new();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')) {
        if line.starts_with('!') {
            return Err(Error::Unsupported(format!(
                "{}: negated patterns ({line}) are not supported by archbench's context packer",
                path.display()
            )));
        }
        out.push(line.trim_start_matches("./").trim_end_matches('/').to_owned());
    }
    Ok(out)
}

fn glob_match(pattern: &str, name: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == name,
        Some((pre, post)) => {
            name.len() >= pre.len() + post.len() && name.starts_with(pre) && name.ends_with(post)
        }
    }
}

fn ignored(rel: &str, patterns: &[String]) -> bool {
    let name = rel.rsplit('/').next().unwrap_or(rel);
    patterns.iter().any(|p| {
        rel == p
            || rel.starts_with(&format!("{p}/"))
            || (p.contains('*') && !p.contains('/') && glob_match(p, name))
    })
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
    let patterns = ignore_patterns(root)?;
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
            if rel == ".git" || ignored(&rel, &patterns) {
                continue;
            }
            let ft = entry.file_type().map_err(|e| io(&path, e))?;
            if ft.is_dir() {
                stack.push(path);
            } else {
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
        let mut names: Vec<String> = tar::Archive::new(&tar[..])
            .entries()
            .unwrap()
            .map(|e| e.unwrap().path().unwrap().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(names, [".dockerignore", "Dockerfile", "src/main.c"]);
        assert_eq!(tar, context_tar(d.path()).unwrap(), "deterministic");
        std::fs::write(d.path().join(".dockerignore"), "!keep\n").unwrap();
        assert!(context_tar(d.path()).unwrap_err().to_string().contains("negated"));
    }
}
