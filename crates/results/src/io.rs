use std::fs;
use std::io::Write;
use std::path::Path;

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::check::Checked;
use crate::{Envelope, Error, Kind, Result, SCHEMA_VERSION};

/// Write `bytes` to `path` atomically: a temporary sibling file, fsync, rename.
///
/// Readers see either the old file or the new one, never a torn write; a crash or Ctrl-C before
/// the rename leaves the old file as it was.
pub fn write_bytes_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    fs::create_dir_all(dir).map_err(|source| Error::Io {
        action: "creating the directory of",
        path: path.to_owned(),
        source,
    })?;
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    let io = |action, source| Error::Io { action, path: tmp.clone(), source };
    let _guard = crate::cleanup::Guard::new(&tmp);
    let mut f = fs::File::create(&tmp).map_err(|e| io("creating", e))?;
    let written = f.write_all(bytes).and_then(|_| f.sync_all());
    if let Err(e) = written {
        let _ = fs::remove_file(&tmp);
        return Err(io("writing", e));
    }
    drop(f);
    fs::rename(&tmp, path).map_err(|source| {
        let _ = fs::remove_file(&tmp);
        Error::Io { action: "renaming into place", path: path.to_owned(), source }
    })
}

/// Serialise `value` as pretty JSON and write it atomically.
pub fn write_atomic<T: Serialize>(path: &Path, value: &T) -> Result<()> {
    let mut bytes = serde_json::to_vec_pretty(value).map_err(Error::Serialize)?;
    bytes.push(b'\n');
    write_bytes_atomic(path, &bytes)
}

/// Read an envelope of `kind` from a file the user named, checking the schema version before
/// the payload. A file of an older version is brought up to date by [`crate::migrate::upgrade`];
/// a newer one is refused. The file is read by `archbench_input`'s rules (a regular file, at most
/// 256 MiB; a symbolic link is followed, as the user named it).
pub fn read<T: DeserializeOwned + Checked>(path: &Path, kind: Kind) -> Result<Envelope<T>> {
    let bytes = archbench_input::read(
        path,
        archbench_input::Kind::Results,
        archbench_input::Named::ByUser,
    )?;
    parse(path, &bytes, kind)
}

/// [`read`] of bytes already read from `path`; the payload's numbers are checked
/// ([`Checked`]) before it is given out.
pub(crate) fn parse<T: DeserializeOwned + Checked>(
    path: &Path,
    bytes: &[u8],
    kind: Kind,
) -> Result<Envelope<T>> {
    let envelope = parse_unchecked::<T>(path, bytes, kind)?;
    envelope.payload.check().map_err(|why| Error::Range { path: path.to_owned(), why })?;
    Ok(envelope)
}

fn parse_unchecked<T: DeserializeOwned>(
    path: &Path,
    bytes: &[u8],
    kind: Kind,
) -> Result<Envelope<T>> {
    #[derive(serde::Deserialize)]
    struct Head {
        schema_version: u32,
        kind: Kind,
    }
    let head: Head = serde_json::from_slice(bytes)
        .map_err(|source| Error::Parse { path: path.to_owned(), source })?;
    if head.schema_version == 0 || head.schema_version > SCHEMA_VERSION || head.kind != kind {
        return Err(Error::Schema {
            path: path.to_owned(),
            found_kind: head.kind.to_string(),
            found_version: head.schema_version,
            expected_kind: kind.to_string(),
            expected_version: SCHEMA_VERSION,
        });
    }
    let parse = |source| Error::Parse { path: path.to_owned(), source };
    if head.schema_version == SCHEMA_VERSION {
        return serde_json::from_slice(bytes).map_err(parse);
    }
    let old: serde_json::Value = serde_json::from_slice(bytes).map_err(parse)?;
    let new = crate::migrate::upgrade(&kind, head.schema_version, old)
        .map_err(|why| Error::Migrate { path: path.to_owned(), from: head.schema_version, why })?;
    serde_json::from_value(new).map_err(parse)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::HostFacts;

    #[test]
    fn round_trip_and_kind_check() {
        let _serial = crate::cleanup::test_lock();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/r.json");
        let env = Envelope::begin(
            Kind::Bench,
            HostFacts { cores: Some(2), ..Default::default() },
            vec![1.5f64],
        )
        .finish();
        write_atomic(&path, &env).unwrap();
        let back: Envelope<Vec<f64>> = read(&path, Kind::Bench).unwrap();
        assert_eq!(back, env);
        let err = read::<Vec<f64>>(&path, Kind::Plan).unwrap_err();
        assert!(err.to_string().contains("expected plan schema 2"), "{err}");
    }

    #[test]
    fn failed_write_keeps_the_old_file_and_no_temp() {
        let _serial = crate::cleanup::test_lock();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.json");
        write_bytes_atomic(&path, b"old").unwrap();
        // A value serde cannot encode as JSON fails before anything touches the disk.
        let mut bad = std::collections::HashMap::new();
        bad.insert(vec![1u8], 1u8);
        assert!(write_atomic(&path, &bad).is_err());
        assert_eq!(fs::read(&path).unwrap(), b"old");
        let names: Vec<_> =
            fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names.len(), 1, "{names:?}");
    }

    #[test]
    fn garbage_is_a_parse_error_naming_the_file() {
        let _serial = crate::cleanup::test_lock();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bad.json");
        fs::write(&path, b"{\"schema_version\": 1, \"kind\": \"bench\"").unwrap();
        let err = read::<()>(&path, Kind::Bench).unwrap_err();
        assert!(err.to_string().contains("bad.json"), "{err}");
    }
}
