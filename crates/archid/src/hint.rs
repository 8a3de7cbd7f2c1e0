//! A cheap look at the first bytes, as goblin's `peek` does: decide whether a blob is worth a
//! full parse without reading the rest of it.

/// How many leading bytes [`peek`] needs at most.
pub const PEEK_LEN: usize = 16;

/// What the magic bytes suggest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Hint {
    /// `\x7fELF`.
    Elf,
    /// `MZ` (a PE header may follow).
    Pe,
    /// Mach-O thin, either byte order, 32 or 64-bit.
    MachO,
    /// Mach-O fat (`0xcafebabe` with a small architecture count; Java classes share the magic).
    MachOFat,
    /// `\0asm`.
    Wasm,
    /// `#!`.
    Script,
    /// `!<arch>\n`.
    Ar,
    /// Nothing we parse.
    Unknown,
}

impl Hint {
    /// True when the blob may contain machine code or a module worth identifying.
    pub fn is_candidate(self) -> bool {
        self != Hint::Unknown
    }
}

/// Classify by magic bytes. Needs at most [`PEEK_LEN`] bytes; fewer simply match less.
pub fn peek(bytes: &[u8]) -> Hint {
    let b4 = |i: usize| bytes.get(i..i + 4).map(|s| [s[0], s[1], s[2], s[3]]);
    match bytes {
        [0x7f, b'E', b'L', b'F', ..] => Hint::Elf,
        [b'M', b'Z', ..] => Hint::Pe,
        [b'#', b'!', ..] => Hint::Script,
        [0, b'a', b's', b'm', ..] => Hint::Wasm,
        _ if bytes.starts_with(b"!<arch>\n") => Hint::Ar,
        _ => match b4(0) {
            Some([0xfe, 0xed, 0xfa, 0xce | 0xcf]) | Some([0xce | 0xcf, 0xfa, 0xed, 0xfe]) => {
                Hint::MachO
            }
            Some([0xca, 0xfe, 0xba, 0xbe]) => {
                // Java class files start with the same magic, followed by minor/major version
                // (major >= 45); a fat header has the slice count there, in practice < 32.
                match b4(4).map(u32::from_be_bytes) {
                    Some(n) if (1..32).contains(&n) => Hint::MachOFat,
                    _ => Hint::Unknown,
                }
            }
            _ => Hint::Unknown,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn magic_table() {
        let cases: &[(&[u8], Hint)] = &[
            (b"\x7fELF\x02\x01\x01", Hint::Elf),
            (b"#!/bin/sh\n", Hint::Script),
            (b"\0asm\x01\0\0\0", Hint::Wasm),
            (b"!<arch>\nfoo", Hint::Ar),
            (&[0xcf, 0xfa, 0xed, 0xfe, 7, 0, 0, 1], Hint::MachO),
            (&[0xca, 0xfe, 0xba, 0xbe, 0, 0, 0, 2], Hint::MachOFat),
            // A Java class (major version 52) is not a fat binary.
            (&[0xca, 0xfe, 0xba, 0xbe, 0, 0, 0, 52], Hint::Unknown),
            (b"MZ", Hint::Pe),
            (b"M", Hint::Unknown),
            (b"", Hint::Unknown),
            (b"\x7fEL", Hint::Unknown),
            (b"hello world", Hint::Unknown),
        ];
        for (bytes, want) in cases {
            assert_eq!(peek(bytes), *want, "{bytes:?}");
        }
    }
}
