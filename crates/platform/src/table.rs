//! One table of platforms and their names elsewhere, and the parser that reads it.
//!
//! Parsing and every mapping read the same rows, so a spelling added here is both accepted and
//! mapped; nothing else in the crate lists architectures.

use crate::{Arch, Error, Os, Platform, Result};

/// One platform and its names elsewhere.
pub(crate) struct Row {
    pub os: Os,
    pub arch: Arch,
    pub variant: Option<&'static str>,
    /// Rust target triples, glibc first, then musl.
    pub rust: &'static [&'static str],
    pub debian: Option<&'static str>,
    pub qemu: Option<&'static str>,
}

macro_rules! rows {
    ($( $os:ident $arch:ident $variant:expr, [$($rust:literal),*], $debian:expr, $qemu:expr; )*) => {
        &[$( Row { os: Os::$os, arch: Arch::$arch, variant: $variant, rust: &[$($rust),*], debian: $debian, qemu: $qemu } ),*]
    };
}

pub(crate) static ROWS: &[Row] = rows! {
    Linux Amd64 None, ["x86_64-unknown-linux-gnu", "x86_64-unknown-linux-musl"], Some("amd64"), Some("x86_64");
    Linux Arm64 None, ["aarch64-unknown-linux-gnu", "aarch64-unknown-linux-musl"], Some("arm64"), Some("aarch64");
    Linux Arm Some("v7"), ["armv7-unknown-linux-gnueabihf", "armv7-unknown-linux-musleabihf"], Some("armhf"), Some("arm");
    // Debian has no v6 port; armel (v5te baseline) is the Debian userland that runs on v6.
    Linux Arm Some("v6"), ["arm-unknown-linux-gnueabihf", "arm-unknown-linux-musleabihf"], Some("armel"), Some("arm");
    Linux Arm Some("v5"), ["armv5te-unknown-linux-gnueabi", "armv5te-unknown-linux-musleabi"], Some("armel"), Some("arm");
    Linux I386 None, ["i686-unknown-linux-gnu", "i686-unknown-linux-musl"], Some("i386"), Some("i386");
    Linux Riscv64 None, ["riscv64gc-unknown-linux-gnu", "riscv64gc-unknown-linux-musl"], Some("riscv64"), Some("riscv64");
    Linux Ppc64le None, ["powerpc64le-unknown-linux-gnu", "powerpc64le-unknown-linux-musl"], Some("ppc64el"), Some("ppc64le");
    Linux Ppc64 None, ["powerpc64-unknown-linux-gnu"], Some("ppc64"), Some("ppc64");
    Linux S390x None, ["s390x-unknown-linux-gnu", "s390x-unknown-linux-musl"], Some("s390x"), Some("s390x");
    Linux Mips64le None, ["mips64el-unknown-linux-gnuabi64", "mips64el-unknown-linux-muslabi64"], Some("mips64el"), Some("mips64el");
    Linux Mips64 None, ["mips64-unknown-linux-gnuabi64", "mips64-unknown-linux-muslabi64"], None, Some("mips64");
    Linux Mipsle None, ["mipsel-unknown-linux-gnu", "mipsel-unknown-linux-musl"], Some("mipsel"), Some("mipsel");
    Linux Mips None, ["mips-unknown-linux-gnu", "mips-unknown-linux-musl"], None, Some("mips");
    Linux Loong64 None, ["loongarch64-unknown-linux-gnu", "loongarch64-unknown-linux-musl"], Some("loong64"), Some("loongarch64");
    Linux Sparc64 None, ["sparc64-unknown-linux-gnu"], Some("sparc64"), Some("sparc64");
    Wasi Wasm None, ["wasm32-wasip1", "wasm32-wasip2"], None, None;
    Windows Amd64 None, ["x86_64-pc-windows-msvc", "x86_64-pc-windows-gnu"], None, None;
    Windows Arm64 None, ["aarch64-pc-windows-msvc"], None, None;
    Windows I386 None, ["i686-pc-windows-msvc"], None, None;
    Darwin Amd64 None, ["x86_64-apple-darwin"], None, None;
    Darwin Arm64 None, ["aarch64-apple-darwin"], None, None;
};

/// How archbench builds its own programs (the bench workloads) for the platforms it benches:
/// the one list of Rust targets that `bench`, `doctor` and scripts/setup use (a test checks
/// that the script agrees). amd64 and arm64 build as static musl binaries; armv7 and riscv64 as
/// glibc binaries with `+crt-static`, since rustup's mirror does not serve their musl std
/// everywhere and Debian ships their static libc as `libc6-dev-*-cross`; Wasm as wasip1.
pub static STATIC_BUILDS: &[(Arch, Option<&str>, crate::StaticBuild)] = &[
    (
        Arch::Amd64,
        None,
        crate::StaticBuild { triple: "x86_64-unknown-linux-musl", linker: None, crt_static: false },
    ),
    (
        Arch::Arm64,
        None,
        crate::StaticBuild {
            triple: "aarch64-unknown-linux-musl",
            linker: Some(("aarch64-linux-gnu-gcc", "gcc-aarch64-linux-gnu")),
            crt_static: false,
        },
    ),
    (
        Arch::Arm,
        Some("v7"),
        crate::StaticBuild {
            triple: "armv7-unknown-linux-gnueabihf",
            linker: Some(("arm-linux-gnueabihf-gcc", "gcc-arm-linux-gnueabihf")),
            crt_static: true,
        },
    ),
    (
        Arch::Riscv64,
        None,
        crate::StaticBuild {
            triple: "riscv64gc-unknown-linux-gnu",
            linker: Some(("riscv64-linux-gnu-gcc", "gcc-riscv64-linux-gnu")),
            crt_static: true,
        },
    ),
    (
        Arch::Wasm,
        None,
        crate::StaticBuild { triple: "wasm32-wasip1", linker: None, crt_static: false },
    ),
];

/// Single-word architecture spellings: (alias, arch, implied variant, implied os).
static ALIASES: &[(&str, Arch, Option<&str>, Option<Os>)] = &[
    ("amd64", Arch::Amd64, None, None),
    ("x86_64", Arch::Amd64, None, None),
    ("x86-64", Arch::Amd64, None, None),
    ("x64", Arch::Amd64, None, None),
    ("arm64", Arch::Arm64, None, None),
    ("aarch64", Arch::Arm64, None, None),
    ("arm", Arch::Arm, None, None),
    ("armhf", Arch::Arm, Some("v7"), None),
    ("armv7", Arch::Arm, Some("v7"), None),
    ("armv7l", Arch::Arm, Some("v7"), None),
    ("armv6", Arch::Arm, Some("v6"), None),
    ("armv6l", Arch::Arm, Some("v6"), None),
    ("armel", Arch::Arm, Some("v5"), None),
    ("armv5", Arch::Arm, Some("v5"), None),
    ("armv5tel", Arch::Arm, Some("v5"), None),
    ("386", Arch::I386, None, None),
    ("i386", Arch::I386, None, None),
    ("i686", Arch::I386, None, None),
    ("x86", Arch::I386, None, None),
    ("riscv64", Arch::Riscv64, None, None),
    ("ppc64le", Arch::Ppc64le, None, None),
    ("ppc64el", Arch::Ppc64le, None, None),
    ("ppc64", Arch::Ppc64, None, None),
    ("s390x", Arch::S390x, None, None),
    ("mips64le", Arch::Mips64le, None, None),
    ("mips64el", Arch::Mips64le, None, None),
    ("mips64", Arch::Mips64, None, None),
    ("mipsle", Arch::Mipsle, None, None),
    ("mipsel", Arch::Mipsle, None, None),
    ("mips", Arch::Mips, None, None),
    ("loong64", Arch::Loong64, None, None),
    ("loongarch64", Arch::Loong64, None, None),
    ("sparc64", Arch::Sparc64, None, None),
    ("wasm", Arch::Wasm, None, Some(Os::Wasi)),
    ("wasm32", Arch::Wasm, None, Some(Os::Wasi)),
];

fn valid_variants(arch: &Arch) -> &'static [&'static str] {
    match arch {
        Arch::Arm => &["v5", "v6", "v7", "v8"],
        Arch::Arm64 => {
            &["v8", "v8.1", "v8.2", "v8.3", "v8.4", "v8.5", "v8.6", "v8.7", "v8.8", "v9"]
        }
        Arch::Amd64 => &["v1", "v2", "v3", "v4"],
        _ => &[],
    }
}

fn accepted() -> String {
    let mut names: Vec<String> = Platform::known().map(|p| p.to_string()).collect();
    names.extend(ALIASES.iter().map(|a| a.0.to_owned()));
    names.push("wasip1/wasm".to_owned());
    names.push("a rust target triple".to_owned());
    names.join(", ")
}

fn unknown(input: &str) -> Error {
    Error::Unknown { input: input.to_owned(), accepted: accepted() }
}

fn alias(s: &str) -> Option<&'static (&'static str, Arch, Option<&'static str>, Option<Os>)> {
    ALIASES.iter().find(|a| a.0 == s)
}

fn known_os(s: &str) -> Option<Os> {
    match Os::from_oci(s) {
        Os::Unknown(_) => None,
        os => Some(os),
    }
}

pub(crate) fn parse(input: &str) -> Result<Platform> {
    let text = input.trim().to_ascii_lowercase();
    if text.is_empty() {
        return Err(Error::Empty);
    }
    if let Some(row) = ROWS.iter().find(|r| r.rust.contains(&text.as_str())) {
        return Ok(Platform::with_variant(row.os.clone(), row.arch.clone(), row.variant));
    }
    let parts: Vec<&str> = text.split('/').collect();
    let (os, arch_word, variant): (Option<Os>, &str, Option<&str>) = match parts.as_slice() {
        [a] => (None, a, None),
        [first, second] => match known_os(first) {
            Some(os) => (Some(os), second, None),
            None => (None, first, Some(*second)),
        },
        [os, arch, variant] => {
            (Some(known_os(os).ok_or_else(|| unknown(input))?), arch, Some(*variant))
        }
        _ => return Err(unknown(input)),
    };
    let (_, arch, implied_variant, implied_os) = alias(arch_word).ok_or_else(|| unknown(input))?;
    let variant = match (variant, implied_variant) {
        (Some(v), Some(implied)) if v != *implied => {
            // `armhf/v6` contradicts itself.
            return Err(Error::BadVariant {
                input: input.to_owned(),
                arch: arch_word.to_owned(),
                variant: v.to_owned(),
                valid: implied.to_string(),
            });
        }
        (Some(v), _) => Some(v),
        (None, implied) => *implied,
    };
    if let Some(v) = variant {
        let valid = valid_variants(arch);
        if !valid.contains(&v) {
            return Err(Error::BadVariant {
                input: input.to_owned(),
                arch: arch.to_string(),
                variant: v.to_owned(),
                valid: if valid.is_empty() { "no variant".to_owned() } else { valid.join(", ") },
            });
        }
    }
    let os = os.or_else(|| implied_os.clone()).unwrap_or(Os::Linux);
    Ok(Platform::with_variant(os, arch.clone(), variant))
}
