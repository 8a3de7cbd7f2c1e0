//! Identify the architecture of binaries: one blob, a directory, a tar layer, a whole image.
//!
//! Identification follows goblin's shape: [`peek`] looks at magic bytes and returns a [`Hint`];
//! [`identify`] then parses fully and returns an [`Identity`]: format, kind, [`Platform`],
//! bitness, byte order and per-format details (ELF OS/ABI, linkage, interpreter, stripping, Arm
//! ISA level and float ABI, RISC-V float ABI, the x86-64 ISA level a binary needs; PE subsystem;
//! every slice of a universal Mach-O; the WASI version a Wasm module imports).
//!
//! [`walk`] feeds it files from directories and tar streams (plain, gzip, zstd) without
//! extracting anything to disk; [`image`] reads OCI image layouts and `docker save` archives
//! layer by layer, honouring whiteouts, and [`verify`](image::verify) reports every binary whose
//! architecture disagrees with the platform its image declares.
//!
//! ```
//! use archbench_archid::{identify, peek, Hint};
//!
//! let script = b"#!/usr/bin/env python3\nprint('hi')\n";
//! assert_eq!(peek(script), Hint::Script);
//! let id = identify(script).unwrap();
//! assert!(id.arch_neutral());
//! assert_eq!(id.interpreter.as_deref(), Some("/usr/bin/env python3"));
//! ```
#![deny(missing_docs)]

mod elf;
mod error;
mod hint;
mod identity;
pub mod image;
mod macho;
mod pe;
pub mod summary;
pub mod walk;
mod wasm;

pub use archbench_platform::Platform;
pub use error::{Error, Result};
pub use hint::{peek, Hint, PEEK_LEN};
pub use identity::{ElfDetails, Endian, Format, Identity, Kind, Linkage, PeDetails, WasmDetails};

/// Run a parser, turning a panic on hostile input into an error for that one blob.
///
/// goblin and wasmparser are fuzzed upstream and by our own target, so this is a last line of
/// defence: a scan of a hundred thousand files must report the one bad file, not abort.
fn guarded(format: &'static str, f: impl FnOnce() -> Result<Identity>) -> Result<Identity> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).unwrap_or_else(|payload| {
        let message = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "panic".to_owned());
        Err(Error::ParserPanic { format, message })
    })
}

/// Identify one blob fully. Returns `Ok(None)` when the magic matches nothing we parse.
pub fn identify_opt(bytes: &[u8]) -> Result<Option<Identity>> {
    let id = match peek(bytes) {
        Hint::Elf => guarded("ELF", || elf::identify(bytes))?,
        Hint::Pe => match guarded("PE", || pe::identify(bytes)) {
            Ok(id) => id,
            // Plenty of data files start with "MZ"; without a PE header it is not a binary.
            Err(Error::Malformed { .. }) if !has_pe_signature(bytes) => return Ok(None),
            Err(e) => return Err(e),
        },
        Hint::MachO | Hint::MachOFat => guarded("Mach-O", || macho::identify(bytes))?,
        Hint::Wasm => guarded("Wasm", || wasm::identify(bytes))?,
        Hint::Script => script(bytes),
        Hint::Ar => guarded("ar", || ar(bytes))?,
        _ => return Ok(None),
    };
    Ok(Some(id))
}

/// Identify one blob fully; an error when it is not a format we know.
pub fn identify(bytes: &[u8]) -> Result<Identity> {
    identify_opt(bytes)?
        .ok_or_else(|| Error::Malformed { format: "any", message: "no known magic bytes".into() })
}

fn has_pe_signature(bytes: &[u8]) -> bool {
    let Some(off) =
        bytes.get(0x3c..0x40).map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize)
    else {
        return false;
    };
    off.checked_add(4).and_then(|end| bytes.get(off..end)) == Some(b"PE\0\0")
}

fn script(bytes: &[u8]) -> Identity {
    let line_end = bytes.iter().take(256).position(|&b| b == b'\n').unwrap_or(bytes.len().min(256));
    let line = String::from_utf8_lossy(&bytes[2..line_end]).trim().to_owned();
    let mut id = Identity::new(Format::Script, Kind::Script);
    id.interpreter = Some(line);
    id
}

/// An ar archive: identify each member that is an object file (static libraries); a `.deb`
/// holds tarballs, which are not descended into here.
fn ar(bytes: &[u8]) -> Result<Identity> {
    let archive = goblin::archive::Archive::parse(bytes)
        .map_err(|e| Error::Malformed { format: "ar", message: e.to_string() })?;
    let mut id = Identity::new(Format::Ar, Kind::Archive);
    for name in archive.members() {
        let Ok(data) = archive.extract(name, bytes) else { continue };
        if peek(data) == Hint::Elf || matches!(peek(data), Hint::MachO) {
            if let Ok(Some(m)) = identify_opt(data) {
                if !id.members.iter().any(|x| x.platform == m.platform) {
                    id.members.push(m);
                }
            }
        }
    }
    if let [only] = id.members.as_slice() {
        id.platform = only.platform.clone();
        id.bits = only.bits;
        id.endian = only.endian;
    }
    Ok(id)
}

#[cfg(test)]
mod tests;
