//! What identification says about one blob.

use archbench_platform::Platform;
use serde::{Deserialize, Serialize};

/// The container format of a blob.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Format {
    /// ELF.
    Elf,
    /// PE/COFF (Windows, UEFI).
    Pe,
    /// Mach-O, one architecture.
    MachO,
    /// Mach-O universal (fat) binary.
    MachOFat,
    /// WebAssembly core module.
    WasmModule,
    /// WebAssembly component.
    WasmComponent,
    /// A `#!` script.
    Script,
    /// A Unix `ar` archive (static library, .deb).
    Ar,
}

/// Byte order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Endian {
    /// Least significant byte first.
    Little,
    /// Most significant byte first.
    Big,
}

/// What role the blob plays.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Kind {
    /// Runs on its own (ET_EXEC, PIE with an interpreter, PE image, MH_EXECUTE).
    Executable,
    /// Loaded by others (.so, .dll, .dylib).
    SharedLibrary,
    /// Object file for a linker (ET_REL, MH_OBJECT).
    Relocatable,
    /// Core dump.
    Core,
    /// Archive of other files.
    Archive,
    /// Interpreted text.
    Script,
    /// Wasm module or component.
    WasmBinary,
    /// Anything else the format allows (kernel modules count as relocatable).
    Other,
}

/// How an ELF executable gets its libraries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Linkage {
    /// No interpreter, no dynamic section.
    Static,
    /// No interpreter but a dynamic section: a static position-independent executable.
    StaticPie,
    /// Uses a dynamic loader.
    Dynamic,
}

/// ELF-specific facts.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ElfDetails {
    /// `e_machine` value.
    pub e_machine: u16,
    /// Name of the machine (`aarch64`, `x86-64`).
    pub machine: String,
    /// `EI_OSABI` name (`sysv`, `gnu`, `freebsd`).
    pub os_abi: String,
    /// `e_flags`.
    pub e_flags: u32,
    /// Static or dynamic, for executables and shared objects.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub linkage: Option<Linkage>,
    /// The `PT_INTERP` path.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub interpreter: Option<String>,
    /// No `.symtab`: symbol names were stripped.
    pub stripped: bool,
    /// 32-bit Arm architecture from `.ARM.attributes` `Tag_CPU_arch` (`v7`, `v6KZ`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub arm_arch: Option<String>,
    /// 32-bit Arm: hard-float (VFP registers for arguments), from e_flags or attributes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub arm_hard_float: Option<bool>,
    /// RISC-V float ABI from e_flags (`soft`, `single`, `double`, `quad`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub riscv_float_abi: Option<String>,
    /// RISC-V compressed instructions (RVC) used.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub riscv_rvc: Option<bool>,
    /// x86 ISA level needed from the GNU property note (`x86-64-v3`): a CPU below it gets SIGILL.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub x86_isa_needed: Option<String>,
    /// Why the full parse failed, when the file was identified from its ELF and program headers
    /// alone (as the loader reads it): section-based details are then missing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sections_unreadable: Option<String>,
}

/// PE-specific facts.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PeDetails {
    /// COFF machine value.
    pub machine: u16,
    /// `PE32` or `PE32+`.
    pub magic: String,
    /// Subsystem name (`windows-cui`, `efi-application`).
    pub subsystem: String,
    /// A DLL rather than an executable.
    pub dll: bool,
}

/// Wasm-specific facts.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct WasmDetails {
    /// `preview1`, `preview2`, `preview0` (wasi_unstable) or absent when nothing WASI is imported.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wasi: Option<String>,
    /// Distinct import module names.
    pub import_modules: Vec<String>,
}

/// The full answer for one blob.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Identity {
    /// Container format.
    pub format: Format,
    /// What it is for.
    pub kind: Kind,
    /// The platform it runs on; `None` for arch-neutral content (scripts) and fat binaries.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub platform: Option<Platform>,
    /// 32 or 64, where the format says.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bits: Option<u8>,
    /// Byte order, where the format says.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub endian: Option<Endian>,
    /// ELF facts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub elf: Option<ElfDetails>,
    /// PE facts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pe: Option<PeDetails>,
    /// Wasm facts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wasm: Option<WasmDetails>,
    /// Script interpreter line (`/usr/bin/env python3`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub interpreter: Option<String>,
    /// Slices of a fat Mach-O or the members of an ar archive that identified.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub members: Vec<Identity>,
}

impl Identity {
    pub(crate) fn new(format: Format, kind: Kind) -> Self {
        Self {
            format,
            kind,
            platform: None,
            bits: None,
            endian: None,
            elf: None,
            pe: None,
            wasm: None,
            interpreter: None,
            members: Vec::new(),
        }
    }

    /// True when the content runs on any CPU (scripts, Wasm): never a platform mismatch.
    pub fn arch_neutral(&self) -> bool {
        matches!(self.format, Format::Script | Format::WasmModule | Format::WasmComponent)
    }

    /// A short label for grouping: the platform, `universal(darwin/amd64,darwin/arm64)` for fat
    /// binaries, `script`, or the format name.
    pub fn label(&self) -> String {
        if let Some(p) = &self.platform {
            return p.to_string();
        }
        match self.format {
            Format::MachOFat | Format::Ar if !self.members.is_empty() => {
                let mut ps: Vec<String> = self.members.iter().map(|m| m.label()).collect();
                ps.sort();
                ps.dedup();
                let word = if self.format == Format::Ar { "mixed" } else { "universal" };
                format!("{word}({})", ps.join(","))
            }
            Format::Script => "script".to_owned(),
            f => serde_json::to_value(f)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default(),
        }
    }

    /// Platforms this blob contains code for (one, several for fat binaries, none for scripts).
    pub fn platforms(&self) -> Vec<Platform> {
        let mut out: Vec<Platform> = match &self.platform {
            Some(p) => vec![p.clone()],
            None => self.members.iter().flat_map(|m| m.platforms()).collect(),
        };
        out.sort();
        out.dedup();
        out
    }
}
