//! The file opener's rules (issue 25) on any bytes and any kind of file: the first byte picks
//! what is at the path (a regular file, a link to it, a FIFO, a directory, a link to
//! `/dev/zero`) and whether the user named it; the rest is the file's content. A regular file
//! reads back exactly; a link is followed only where the user named it; a FIFO, a directory and
//! a device are refused without blocking; nothing panics.
#![no_main]

use archbench_input::{read, Error, Kind, Named};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&pick, content)) = data.split_first() else { return };
    let dir = archbench_fuzz::scratch("input");
    let file = dir.join("file");
    let path = dir.join("path");
    let _ = std::fs::remove_file(&path);
    let _ = std::fs::remove_dir(&path);
    std::fs::write(&file, content).unwrap();
    let named = if pick & 0x80 == 0 { Named::ByUser } else { Named::Inside };
    let kind = [Kind::Results, Kind::Catalog, Kind::LayoutIndex, Kind::Program, Kind::Stdin]
        [usize::from(pick >> 4 & 0x7) % 5];
    match pick & 0x0f {
        0..=4 => {
            std::fs::copy(&file, &path).unwrap();
            assert_eq!(read(&path, kind, named).expect("a small regular file reads"), content);
        }
        5..=7 => {
            std::os::unix::fs::symlink(&file, &path).unwrap();
            match (read(&path, kind, named), named) {
                (Ok(bytes), Named::ByUser) => assert_eq!(bytes, content),
                (Err(Error::Link { .. }), Named::Inside) => {}
                (other, _) => panic!("a link, {named:?}: {other:?}"),
            }
        }
        8..=9 => {
            let c = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).unwrap();
            // SAFETY: a valid NUL-terminated path; mkfifo has no other preconditions.
            assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
            assert!(matches!(read(&path, kind, named), Err(Error::NotAFile { .. })));
        }
        10..=11 => {
            std::fs::create_dir(&path).unwrap();
            assert!(matches!(read(&path, kind, named), Err(Error::NotAFile { .. })));
        }
        _ => {
            std::os::unix::fs::symlink("/dev/zero", &path).unwrap();
            let r = read(&path, kind, named);
            match named {
                Named::ByUser => assert!(matches!(r, Err(Error::NotAFile { .. })), "{r:?}"),
                Named::Inside => assert!(matches!(r, Err(Error::Link { .. })), "{r:?}"),
            }
        }
    }
});
