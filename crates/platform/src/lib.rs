//! Platform names as `docker buildx`, Debian, rustc, QEMU and binary headers spell them.
//!
//! The one type here is [`Platform`] (`os`, [`Arch`], optional variant). It parses every spelling
//! a user is likely to type — `linux/arm64`, `aarch64`, `armhf`, `ppc64el`, `wasip1/wasm`, a rust
//! target triple — and displays the canonical buildx form (`linux/arm/v7`). Each platform maps to
//! its rust target triples, its Debian architecture, the qemu-user binary that emulates it and
//! the binfmt_misc entry Debian's `qemu-user-static` registers for it. [`Declared`] is a
//! platform as an image declares it: the text as written, parsed once.
//!
//! ```
//! use archbench_platform::Platform;
//!
//! let p: Platform = "armhf".parse().unwrap();
//! assert_eq!(p.to_string(), "linux/arm/v7");
//! assert_eq!(p.debian_arch(), Some("armhf"));
//! assert_eq!(p.qemu_arch(), Some("arm"));
//! assert_eq!(p.rust_targets()[0], "armv7-unknown-linux-gnueabihf");
//! ```
#![deny(missing_docs)]

mod arch;
mod declared;
pub mod oci;
pub mod table;

use std::fmt;
use std::str::FromStr;

pub use arch::{Arch, Os};
pub use declared::Declared;

/// How to build a self-contained program for one platform with cargo.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StaticBuild {
    /// Rust target triple.
    pub triple: &'static str,
    /// The linker when the host's `cc` cannot link for the target, and its Debian package.
    pub linker: Option<(&'static str, &'static str)>,
    /// Whether to force a static C runtime (`-C target-feature=+crt-static`).
    pub crt_static: bool,
}

impl StaticBuild {
    /// Every target archbench builds its programs for, in table order.
    pub fn all() -> impl Iterator<Item = &'static StaticBuild> {
        table::STATIC_BUILDS.iter().map(|(_, _, b)| b)
    }
}

/// What went wrong turning text into a [`Platform`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The text matches no spelling we know.
    #[error("unknown platform {input:?}; accepted spellings include {accepted}")]
    Unknown {
        /// What the user typed.
        input: String,
        /// A comma-separated list of canonical names and aliases.
        accepted: String,
    },
    /// The architecture is known but the variant is not valid for it.
    #[error("platform {input:?}: variant {variant:?} is not valid for {arch}; use one of {valid}")]
    BadVariant {
        /// What the user typed.
        input: String,
        /// The architecture part.
        arch: String,
        /// The variant part.
        variant: String,
        /// The variants accepted for that architecture.
        valid: String,
    },
    /// An empty entry, e.g. in `linux/amd64,,linux/arm64`.
    #[error("empty platform name; write platforms as buildx does, e.g. linux/amd64,linux/arm64")]
    Empty,
}

/// Result alias for this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// An OCI platform: operating system, architecture and optional variant.
///
/// Always normalised: `linux/arm64/v8` is stored as `linux/arm64`, `linux/arm` as `linux/arm/v7`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Platform {
    /// Operating system (`linux`, `wasi`, `windows`, `darwin`).
    pub os: Os,
    /// CPU architecture in OCI/Go spelling.
    pub arch: Arch,
    /// CPU variant (`v7` for 32-bit Arm, `v2`/`v3`/`v4` for amd64 micro-architecture levels).
    pub variant: Option<String>,
}

impl Platform {
    /// A platform with no variant.
    pub fn new(os: Os, arch: Arch) -> Self {
        Self::normalised(os, arch, None)
    }

    /// A platform with an explicit variant, normalised as containerd does.
    pub fn with_variant(os: Os, arch: Arch, variant: Option<&str>) -> Self {
        Self::normalised(os, arch, variant.map(str::to_owned))
    }

    fn normalised(os: Os, arch: Arch, variant: Option<String>) -> Self {
        let variant = match (&arch, variant.as_deref()) {
            // buildx and containerd treat arm64/v8 as plain arm64.
            (Arch::Arm64, Some("v8")) => None,
            (Arch::Amd64, Some("v1")) => None,
            (Arch::Arm, None) => Some("v7".to_owned()),
            _ => variant,
        };
        Self { os, arch, variant }
    }

    /// `linux/amd64`.
    pub fn linux_amd64() -> Self {
        Self::new(Os::Linux, Arch::Amd64)
    }

    /// `linux/arm64`.
    pub fn linux_arm64() -> Self {
        Self::new(Os::Linux, Arch::Arm64)
    }

    /// `linux/arm/v7`.
    pub fn linux_arm_v7() -> Self {
        Self::with_variant(Os::Linux, Arch::Arm, Some("v7"))
    }

    /// `linux/riscv64`.
    pub fn linux_riscv64() -> Self {
        Self::new(Os::Linux, Arch::Riscv64)
    }

    /// `wasi/wasm`, as Docker+Wasm writes it.
    pub fn wasi_wasm() -> Self {
        Self::new(Os::Wasi, Arch::Wasm)
    }

    /// The platform this process runs on, from the compile-time target of this binary.
    ///
    /// A binary built for amd64 reports amd64 even where the kernel could run others; that is the
    /// question callers ask ("what is native for the code I am about to run?").
    pub fn host() -> Self {
        let arch = match std::env::consts::ARCH {
            "x86_64" => Arch::Amd64,
            "aarch64" => Arch::Arm64,
            "arm" => Arch::Arm,
            "x86" => Arch::I386,
            "riscv64" => Arch::Riscv64,
            "powerpc64" if cfg!(target_endian = "little") => Arch::Ppc64le,
            "powerpc64" => Arch::Ppc64,
            "s390x" => Arch::S390x,
            "mips64" if cfg!(target_endian = "little") => Arch::Mips64le,
            "mips64" => Arch::Mips64,
            "loongarch64" => Arch::Loong64,
            "wasm32" => Arch::Wasm,
            other => Arch::Unknown(other.to_owned()),
        };
        let os = if cfg!(target_os = "linux") {
            Os::Linux
        } else if cfg!(target_os = "macos") {
            Os::Darwin
        } else if cfg!(target_os = "windows") {
            Os::Windows
        } else if cfg!(target_os = "wasi") {
            Os::Wasi
        } else {
            Os::Unknown(std::env::consts::OS.to_owned())
        };
        Self::new(os, arch)
    }

    /// Parse a comma-separated list as `--platform` takes it (`linux/amd64,linux/arm64`).
    /// Duplicates after normalisation are dropped, order is kept.
    pub fn parse_list(s: &str) -> Result<Vec<Platform>> {
        let mut out: Vec<Platform> = Vec::new();
        for part in s.split(',') {
            let p: Platform = part.trim().parse()?;
            if !out.contains(&p) {
                out.push(p);
            }
        }
        Ok(out)
    }

    fn row(&self) -> Option<&'static table::Row> {
        let same = |r: &&table::Row| r.os == self.os && r.arch == self.arch;
        let exact = table::ROWS.iter().filter(same).find(|r| r.variant == self.variant.as_deref());
        // amd64/v3 and arm64/v8.2 are ISA levels of the same port: same targets, Debian arch, QEMU.
        exact.or_else(|| {
            (self.arch != Arch::Arm)
                .then(|| table::ROWS.iter().filter(same).find(|r| r.variant.is_none()))
                .flatten()
        })
    }

    /// Rust target triples that produce binaries for this platform, preferred (glibc) first,
    /// then the static musl one where rustup ships it.
    pub fn rust_targets(&self) -> &'static [&'static str] {
        self.row().map(|r| r.rust).unwrap_or(&[])
    }

    /// How archbench builds a self-contained program for this platform, for the platforms it
    /// benches (see [`table::STATIC_BUILDS`]); `None` for the others.
    pub fn static_build(&self) -> Option<&'static StaticBuild> {
        table::STATIC_BUILDS
            .iter()
            .find(|(arch, variant, _)| *arch == self.arch && *variant == self.variant.as_deref())
            .map(|(_, _, b)| b)
    }

    /// Debian's name for this architecture (`arm64`, `armhf`, `ppc64el`), if Debian has a port.
    pub fn debian_arch(&self) -> Option<&'static str> {
        self.row().and_then(|r| r.debian)
    }

    /// QEMU's name for the architecture (`aarch64`, `arm`, `riscv64`): the suffix of the
    /// `qemu-<arch>` user-mode binary. `None` for Wasm.
    pub fn qemu_arch(&self) -> Option<&'static str> {
        self.row().and_then(|r| r.qemu)
    }

    /// Names under which the qemu-user binary may be installed, most specific first
    /// (Debian 12 ships `qemu-aarch64-static`; newer releases ship `qemu-aarch64`).
    pub fn qemu_binaries(&self) -> Vec<String> {
        self.qemu_arch()
            .map(|a| vec![format!("qemu-{a}-static"), format!("qemu-{a}")])
            .unwrap_or_default()
    }

    /// The binfmt_misc entry name (`/proc/sys/fs/binfmt_misc/<name>`) that Debian's
    /// qemu-user-static and tonistiigi/binfmt both register for this platform.
    pub fn binfmt_entry(&self) -> Option<String> {
        self.qemu_arch().map(|a| format!("qemu-{a}"))
    }

    /// True when a process of this platform runs on `host` without emulation
    /// (the same architecture, or i386 on amd64 and arm/v7 on arm64 with compat support).
    pub fn runs_natively_on(&self, host: &Platform) -> bool {
        if self.os != host.os {
            return false;
        }
        if self.arch == host.arch {
            return true;
        }
        // 32-bit compat modes the kernel provides on most 64-bit hosts.
        matches!((&self.arch, &host.arch), (Arch::I386, Arch::Amd64))
    }

    /// Every platform in the table with its canonical spelling first.
    pub fn known() -> impl Iterator<Item = Platform> {
        table::ROWS.iter().map(|r| Platform {
            os: r.os.clone(),
            arch: r.arch.clone(),
            variant: r.variant.map(str::to_owned),
        })
    }

    /// Short human label: `arm64`, `arm/v7`, `wasm`.
    pub fn short(&self) -> String {
        match &self.variant {
            Some(v) => format!("{}/{v}", self.arch),
            None => self.arch.to_string(),
        }
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // `pad`, so that `{:<14}` in a table lines platforms up.
        f.pad(&match &self.variant {
            Some(v) => format!("{}/{}/{v}", self.os, self.arch),
            None => format!("{}/{}", self.os, self.arch),
        })
    }
}

impl FromStr for Platform {
    type Err = Error;

    fn from_str(input: &str) -> Result<Self> {
        table::parse(input)
    }
}

impl serde::Serialize for Platform {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Platform {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests;
