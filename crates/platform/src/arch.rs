//! The architecture and operating-system halves of a platform, in OCI (Go) spelling.

use std::fmt;

/// A CPU architecture as the OCI image spec (and `GOARCH`) names it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Arch {
    /// x86-64.
    Amd64,
    /// 64-bit Arm (AArch64).
    Arm64,
    /// 32-bit Arm; the variant says which ISA level.
    Arm,
    /// 32-bit x86.
    I386,
    /// 64-bit RISC-V.
    Riscv64,
    /// 64-bit POWER, little-endian.
    Ppc64le,
    /// 64-bit POWER, big-endian.
    Ppc64,
    /// IBM Z.
    S390x,
    /// 64-bit MIPS, little-endian.
    Mips64le,
    /// 64-bit MIPS, big-endian.
    Mips64,
    /// 32-bit MIPS, little-endian.
    Mipsle,
    /// 32-bit MIPS, big-endian.
    Mips,
    /// 64-bit LoongArch.
    Loong64,
    /// 64-bit SPARC.
    Sparc64,
    /// WebAssembly.
    Wasm,
    /// Anything else, as it was written.
    Unknown(String),
}

impl Arch {
    /// The OCI spelling.
    pub fn as_str(&self) -> &str {
        match self {
            Arch::Amd64 => "amd64",
            Arch::Arm64 => "arm64",
            Arch::Arm => "arm",
            Arch::I386 => "386",
            Arch::Riscv64 => "riscv64",
            Arch::Ppc64le => "ppc64le",
            Arch::Ppc64 => "ppc64",
            Arch::S390x => "s390x",
            Arch::Mips64le => "mips64le",
            Arch::Mips64 => "mips64",
            Arch::Mipsle => "mipsle",
            Arch::Mips => "mips",
            Arch::Loong64 => "loong64",
            Arch::Sparc64 => "sparc64",
            Arch::Wasm => "wasm",
            Arch::Unknown(s) => s,
        }
    }

    /// Parse the OCI spelling only (no aliases); see [`crate::Platform`] for aliases.
    pub fn from_oci(s: &str) -> Arch {
        match s {
            "amd64" => Arch::Amd64,
            "arm64" => Arch::Arm64,
            "arm" => Arch::Arm,
            "386" => Arch::I386,
            "riscv64" => Arch::Riscv64,
            "ppc64le" => Arch::Ppc64le,
            "ppc64" => Arch::Ppc64,
            "s390x" => Arch::S390x,
            "mips64le" => Arch::Mips64le,
            "mips64" => Arch::Mips64,
            "mipsle" => Arch::Mipsle,
            "mips" => Arch::Mips,
            "loong64" => Arch::Loong64,
            "sparc64" => Arch::Sparc64,
            "wasm" => Arch::Wasm,
            other => Arch::Unknown(other.to_owned()),
        }
    }
}

impl fmt::Display for Arch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An operating system as the OCI image spec names it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Os {
    /// Linux.
    Linux,
    /// WASI (WebAssembly System Interface); `wasip1` is read as this.
    Wasi,
    /// Windows.
    Windows,
    /// macOS.
    Darwin,
    /// Anything else, as it was written.
    Unknown(String),
}

impl Os {
    /// The OCI spelling.
    pub fn as_str(&self) -> &str {
        match self {
            Os::Linux => "linux",
            Os::Wasi => "wasi",
            Os::Windows => "windows",
            Os::Darwin => "darwin",
            Os::Unknown(s) => s,
        }
    }

    /// Parse an OS name, accepting `wasip1` and `macos` as aliases.
    pub fn from_oci(s: &str) -> Os {
        match s {
            "linux" => Os::Linux,
            "wasi" | "wasip1" | "wasip2" => Os::Wasi,
            "windows" => Os::Windows,
            "darwin" | "macos" => Os::Darwin,
            other => Os::Unknown(other.to_owned()),
        }
    }
}

impl fmt::Display for Os {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
