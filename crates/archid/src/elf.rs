//! ELF: machine, class, byte order, OS/ABI, linkage, interpreter, stripping, and the
//! per-architecture details that decide whether a binary runs (Arm ISA level and float ABI,
//! RISC-V float ABI, x86-64 ISA level).

use archbench_platform::{Arch, Os, Platform};
use goblin::elf::{header, program_header, Elf};
use object::elf::FileHeader32;
use object::read::elf::AttributesSection;
use object::Endianness;

use crate::identity::{ElfDetails, Endian, Format, Identity, Kind, Linkage};
use crate::{Error, Result};

const EM_SPARCV9: u16 = 43;
const EM_LOONGARCH: u16 = 258;

fn machine_name(m: u16) -> String {
    match m {
        header::EM_386 => "i386".into(),
        header::EM_X86_64 => "x86-64".into(),
        header::EM_AARCH64 => "aarch64".into(),
        header::EM_ARM => "arm".into(),
        header::EM_RISCV => "risc-v".into(),
        header::EM_PPC => "powerpc".into(),
        header::EM_PPC64 => "powerpc64".into(),
        header::EM_S390 => "s390".into(),
        header::EM_MIPS => "mips".into(),
        EM_LOONGARCH => "loongarch".into(),
        EM_SPARCV9 => "sparcv9".into(),
        header::EM_SPARC => "sparc".into(),
        header::EM_IA_64 => "ia-64".into(),
        41 => "alpha".into(),
        header::EM_68K => "m68k".into(),
        header::EM_SH => "sh".into(),
        header::EM_PARISC => "parisc".into(),
        header::EM_BPF => "bpf".into(),
        other => format!("e_machine {other}"),
    }
}

fn os_abi_name(v: u8) -> (&'static str, Option<Os>) {
    match v {
        0 => ("sysv", Some(Os::Linux)),
        3 => ("gnu", Some(Os::Linux)),
        9 => ("freebsd", Some(Os::Unknown("freebsd".into()))),
        2 => ("netbsd", Some(Os::Unknown("netbsd".into()))),
        12 => ("openbsd", Some(Os::Unknown("openbsd".into()))),
        6 => ("solaris", Some(Os::Unknown("solaris".into()))),
        97 => ("arm", Some(Os::Linux)),
        255 => ("standalone", Some(Os::Unknown("none".into()))),
        _ => ("other", None),
    }
}

/// `Tag_CPU_arch` values from the Arm ABI addenda, with the OCI variant each runs as.
fn arm_cpu_arch(v: u64) -> (&'static str, &'static str) {
    match v {
        0 => ("pre-v4", "v5"),
        1 => ("v4", "v5"),
        2 => ("v4T", "v5"),
        3 => ("v5T", "v5"),
        4 => ("v5TE", "v5"),
        5 => ("v5TEJ", "v5"),
        6 => ("v6", "v6"),
        7 => ("v6KZ", "v6"),
        8 => ("v6T2", "v6"),
        9 => ("v6K", "v6"),
        10 => ("v7", "v7"),
        11 => ("v6-M", "v6"),
        12 => ("v6S-M", "v6"),
        13 => ("v7E-M", "v7"),
        14 => ("v8-A", "v8"),
        15 => ("v8-R", "v8"),
        16 => ("v8-M.baseline", "v8"),
        17 => ("v8-M.mainline", "v8"),
        _ => ("v8.1-or-later", "v8"),
    }
}

/// Read `Tag_CPU_arch` (6) and `Tag_ABI_VFP_args` (28) from an `aeabi` attributes section.
/// Returns (cpu_arch, vfp_args) where found. Unknown tags follow the ABI's parity rule
/// (even tags above 32 are integers, odd ones strings), so new tags do not derail the reader.
fn arm_attributes(data: &[u8], little: bool) -> (Option<u64>, Option<u64>) {
    let endian = if little { Endianness::Little } else { Endianness::Big };
    let Ok(section) = AttributesSection::<FileHeader32<Endianness>>::new(endian, data) else {
        return (None, None);
    };
    let (mut cpu, mut vfp) = (None, None);
    let Ok(mut subs) = section.subsections() else { return (None, None) };
    while let Ok(Some(sub)) = subs.next() {
        if sub.vendor() != b"aeabi" {
            continue;
        }
        let mut subsubs = sub.subsubsections();
        while let Ok(Some(ss)) = subsubs.next() {
            if ss.tag() != object::elf::Tag_File {
                continue;
            }
            let mut r = ss.attributes();
            while let Ok(Some(tag)) = r.read_tag() {
                let is_string = matches!(tag, 4 | 5 | 67) || (tag > 32 && tag % 2 == 1);
                if tag == 32 {
                    // Tag_compatibility: an integer then a string.
                    if r.read_integer().is_err() || r.read_string().is_err() {
                        break;
                    }
                    continue;
                }
                if is_string {
                    if r.read_string().is_err() {
                        break;
                    }
                    continue;
                }
                let Ok(v) = r.read_integer() else { break };
                match tag {
                    6 => cpu = Some(v),
                    28 => vfp = Some(v),
                    _ => {}
                }
            }
        }
    }
    (cpu, vfp)
}

const NT_GNU_PROPERTY_TYPE_0: u32 = 5;
const GNU_PROPERTY_X86_ISA_1_NEEDED: u32 = 0xc000_8002;

/// The highest x86-64 ISA level a GNU property note says the binary needs.
///
/// The property array layout (type u32, size u32, data, padded to the class word size) is short
/// and neither goblin nor object decodes this property, so it is read here.
fn x86_isa_needed(elf: &Elf, bytes: &[u8]) -> Option<String> {
    let mut best: Option<u32> = None;
    let notes = elf.iter_note_headers(bytes)?;
    let align = if elf.is_64 { 8 } else { 4 };
    for note in notes {
        let Ok(note) = note else { break };
        if note.n_type != NT_GNU_PROPERTY_TYPE_0 || note.name != "GNU" {
            continue;
        }
        let d = note.desc;
        let mut i = 0usize;
        while i + 8 <= d.len() {
            let rd = |o: usize| -> u32 {
                let b = [d[o], d[o + 1], d[o + 2], d[o + 3]];
                if elf.little_endian {
                    u32::from_le_bytes(b)
                } else {
                    u32::from_be_bytes(b)
                }
            };
            let (pr_type, size) = (rd(i), rd(i + 4) as usize);
            let data = i + 8;
            if data.checked_add(size).is_none_or(|end| end > d.len()) {
                break;
            }
            if pr_type == GNU_PROPERTY_X86_ISA_1_NEEDED && size >= 4 {
                let mask = rd(data);
                if mask != 0 {
                    let level = 31 - mask.leading_zeros();
                    best = Some(best.map_or(level, |b| b.max(level)));
                }
            }
            i = (data + size).div_ceil(align) * align;
        }
    }
    best.map(|l| if l == 0 { "x86-64-baseline".to_owned() } else { format!("x86-64-v{}", l + 1) })
}

fn riscv_float_abi(flags: u32) -> &'static str {
    match flags & 0x6 {
        0 => "soft",
        2 => "single",
        4 => "double",
        _ => "quad",
    }
}

/// What the kernel's loader reads of an ELF file: the header and the program headers. A file
/// whose section headers are corrupt still runs (neither the kernel nor QEMU reads them), so a
/// full parse that fails must not make such a binary invisible.
struct LoaderView {
    header: header::Header,
    program_headers: Vec<program_header::ProgramHeader>,
    is_64: bool,
    little: bool,
}

fn loader_view(bytes: &[u8]) -> Result<LoaderView> {
    let malformed =
        |e: goblin::error::Error| Error::Malformed { format: "ELF", message: e.to_string() };
    let h = Elf::parse_header(bytes).map_err(malformed)?;
    let container = h.container().map_err(malformed)?;
    let endian = h.endianness().map_err(malformed)?;
    let ctx = goblin::container::Ctx::new(container, endian);
    let offset = usize::try_from(h.e_phoff).map_err(|_| Error::Malformed {
        format: "ELF",
        message: "program header offset out of range".into(),
    })?;
    let program_headers =
        program_header::ProgramHeader::parse(bytes, offset, usize::from(h.e_phnum), ctx)
            .map_err(malformed)?;
    Ok(LoaderView {
        header: h,
        program_headers,
        is_64: container.is_big(),
        little: endian == goblin::container::Endian::Little,
    })
}

/// The `PT_INTERP` path, read from the segment as the loader does.
fn interp_of(bytes: &[u8], phs: &[program_header::ProgramHeader]) -> Option<String> {
    let p = phs.iter().find(|p| p.p_type == program_header::PT_INTERP)?;
    let start = usize::try_from(p.p_offset).ok()?;
    let end = start.checked_add(usize::try_from(p.p_filesz).ok()?)?;
    let raw = bytes.get(start..end)?;
    let raw = raw.split(|&b| b == 0).next().unwrap_or(raw);
    Some(String::from_utf8_lossy(raw).into_owned())
}

/// What kind of object the header says, refined by the dynamic section when it was readable.
fn kind_of(h: &header::Header, has_interp: bool, elf: Option<&Elf>) -> Kind {
    match h.e_type {
        header::ET_EXEC => Kind::Executable,
        header::ET_DYN if has_interp => Kind::Executable,
        header::ET_DYN => match elf {
            // A static PIE has no interpreter but an entry point and no DT_SONAME.
            Some(elf)
                if elf.soname.is_none()
                    && h.e_entry != 0
                    && elf.dynamic.is_some()
                    && elf.libraries.is_empty() =>
            {
                Kind::Executable
            }
            // Without the dynamic section, a PIE and a library look alike; either is a binary.
            _ => Kind::SharedLibrary,
        },
        header::ET_REL => Kind::Relocatable,
        header::ET_CORE => Kind::Core,
        _ => Kind::Other,
    }
}

/// Static, static-PIE or dynamic, from the program headers (executables and libraries only).
fn linkage_of(kind: Kind, has_interp: bool, has_dynamic: bool) -> Option<Linkage> {
    match kind {
        Kind::Executable | Kind::SharedLibrary => Some(match (has_interp, has_dynamic) {
            (true, _) => Linkage::Dynamic,
            (false, true) if kind == Kind::Executable => Linkage::StaticPie,
            (false, true) => Linkage::Dynamic,
            (false, false) => Linkage::Static,
        }),
        _ => None,
    }
}

/// The architecture and OCI variant, filling the per-architecture details on the way (Arm ISA
/// level and float ABI from `arm_attrs` = (Tag_CPU_arch, Tag_ABI_VFP_args), RISC-V float ABI).
fn arch_of(
    h: &header::Header,
    is_64: bool,
    little: bool,
    arm_attrs: Option<(Option<u64>, Option<u64>)>,
    details: &mut ElfDetails,
) -> (Arch, Option<String>) {
    let mut variant: Option<String> = None;
    let arch = match h.e_machine {
        header::EM_X86_64 => Arch::Amd64,
        header::EM_386 => Arch::I386,
        header::EM_AARCH64 => Arch::Arm64,
        header::EM_ARM => {
            const EF_ARM_ABI_FLOAT_HARD: u32 = 0x400;
            let (cpu, vfp) = arm_attrs.unwrap_or((None, None));
            let hard = vfp.map(|v| v == 1).unwrap_or(h.e_flags & EF_ARM_ABI_FLOAT_HARD != 0);
            details.arm_hard_float = Some(hard);
            match cpu {
                Some(v) => {
                    let (name, var) = arm_cpu_arch(v);
                    details.arm_arch = Some(name.to_owned());
                    variant = Some(var.to_owned());
                }
                // No attributes (stripped sections): hard-float needs VFPv3, which Debian and
                // Docker only pair with v7; soft-float is the armel (v5) userland.
                None => variant = Some(if hard { "v7" } else { "v5" }.to_owned()),
            }
            Arch::Arm
        }
        header::EM_RISCV => {
            details.riscv_float_abi = Some(riscv_float_abi(h.e_flags).to_owned());
            details.riscv_rvc = Some(h.e_flags & 1 != 0);
            if is_64 {
                Arch::Riscv64
            } else {
                Arch::Unknown("riscv32".into())
            }
        }
        header::EM_PPC64 if little => Arch::Ppc64le,
        header::EM_PPC64 => Arch::Ppc64,
        header::EM_PPC => Arch::Unknown("ppc".into()),
        header::EM_S390 if is_64 => Arch::S390x,
        header::EM_S390 => Arch::Unknown("s390".into()),
        header::EM_MIPS => match (is_64, little) {
            (true, true) => Arch::Mips64le,
            (true, false) => Arch::Mips64,
            (false, true) => Arch::Mipsle,
            (false, false) => Arch::Mips,
        },
        EM_LOONGARCH => Arch::Loong64,
        EM_SPARCV9 => Arch::Sparc64,
        other => Arch::Unknown(machine_name(other)),
    };
    (arch, variant)
}

/// Identify an ELF file: fully when goblin parses it, else from the loader's view (header and
/// program headers), noting why the rest could not be read. Only a file whose header or
/// program headers are unreadable is an error.
pub fn identify(bytes: &[u8]) -> Result<Identity> {
    let (elf, full_error) = match Elf::parse(bytes) {
        Ok(elf) => (Some(elf), None),
        Err(e) => (None, Some(e.to_string())),
    };
    let view = match &elf {
        Some(elf) => LoaderView {
            header: elf.header,
            program_headers: elf.program_headers.clone(),
            is_64: elf.is_64,
            little: elf.little_endian,
        },
        None => loader_view(bytes).map_err(|e| match e {
            Error::Malformed { format, message } => Error::Malformed {
                format,
                message: format!(
                    "{message} (and the full parse failed: {})",
                    full_error.as_deref().unwrap_or_default()
                ),
            },
            other => other,
        })?,
    };
    let h = &view.header;
    let little = view.little;
    let interpreter = match &elf {
        Some(elf) => elf.interpreter.map(str::to_owned),
        None => interp_of(bytes, &view.program_headers),
    };
    let kind = kind_of(h, interpreter.is_some(), elf.as_ref());
    let has_dynamic = view.program_headers.iter().any(|p| p.p_type == program_header::PT_DYNAMIC);
    let linkage = linkage_of(kind, interpreter.is_some(), has_dynamic);
    let section_named = |name: &str| {
        elf.as_ref().and_then(|elf| {
            elf.section_headers.iter().find(|s| elf.shdr_strtab.get_at(s.sh_name) == Some(name))
        })
    };
    let stripped = elf.as_ref().is_none_or(|elf| {
        !elf.section_headers.iter().any(|s| s.sh_type == goblin::elf::section_header::SHT_SYMTAB)
    });
    let (os_abi, os) = os_abi_name(h.e_ident[header::EI_OSABI]);

    let mut details = ElfDetails {
        e_machine: h.e_machine,
        machine: machine_name(h.e_machine),
        os_abi: os_abi.to_owned(),
        e_flags: h.e_flags,
        linkage,
        interpreter,
        stripped,
        sections_unreadable: full_error,
        ..Default::default()
    };

    let is_64 = view.is_64;
    let arm_attrs = section_named(".ARM.attributes")
        .and_then(|s| {
            let start = usize::try_from(s.sh_offset).ok()?;
            let end = start.checked_add(usize::try_from(s.sh_size).ok()?)?;
            bytes.get(start..end)
        })
        .map(|data| arm_attributes(data, little));
    let (arch, variant) = arch_of(h, is_64, little, arm_attrs, &mut details);
    if let (true, Some(elf)) = (matches!(arch, Arch::Amd64 | Arch::I386), &elf) {
        details.x86_isa_needed = x86_isa_needed(elf, bytes);
    }
    let mut id = Identity::new(Format::Elf, kind);
    id.bits = Some(if is_64 { 64 } else { 32 });
    id.endian = Some(if little { Endian::Little } else { Endian::Big });
    id.platform = Some(Platform::with_variant(os.unwrap_or(Os::Linux), arch, variant.as_deref()));
    id.elf = Some(details);
    Ok(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arm_attributes_read_cpu_arch_and_vfp_args() {
        // 'A', subsection len 0x1c, "aeabi\0", Tag_File(1) len 0x12,
        // Tag_CPU_name(5) "7-A\0", Tag_CPU_arch(6)=10, Tag_ABI_VFP_args(28)=1, Tag_compat(32)=0 ""
        let mut sub = Vec::new();
        sub.extend_from_slice(b"aeabi\0");
        let attrs: &[u8] = &[5, b'7', b'-', b'A', 0, 6, 10, 28, 1, 32, 0, 0];
        sub.push(1);
        sub.extend_from_slice(&((attrs.len() + 5) as u32).to_le_bytes());
        sub.extend_from_slice(attrs);
        let mut data = vec![b'A'];
        data.extend_from_slice(&((sub.len() + 4) as u32).to_le_bytes());
        data.extend_from_slice(&sub);
        assert_eq!(arm_attributes(&data, true), (Some(10), Some(1)));
        // Truncated input gives up quietly instead of reading out of bounds.
        assert_eq!(arm_attributes(&data[..9], true), (None, None));
    }

    /// A real executable whose section header fields are wrecked still runs (the loader reads
    /// only the ELF and program headers), so it must still be identified, and say how.
    #[test]
    fn corrupt_section_headers_fall_back_to_the_loader_view() {
        let mut bytes = std::fs::read("/bin/ls").expect("/bin/ls");
        assert!(identify(&bytes).unwrap().elf.unwrap().sections_unreadable.is_none());
        // e_shoff (0x28, 8 bytes) far past the end, e_shnum (0x3c) at its maximum.
        bytes[0x28..0x30].copy_from_slice(&(u64::MAX / 2).to_le_bytes());
        bytes[0x3c..0x3e].copy_from_slice(&0xffffu16.to_le_bytes());
        assert!(Elf::parse(&bytes).is_err(), "the corruption must defeat the full parse");
        let id = identify(&bytes).unwrap();
        assert_eq!(id.platform.unwrap().to_string(), "linux/amd64");
        let elf = id.elf.unwrap();
        assert!(elf.sections_unreadable.is_some());
        assert_eq!(elf.interpreter.as_deref(), Some("/lib64/ld-linux-x86-64.so.2"));
        // Wreck the program headers too: now nothing can say what it is, and that is an error.
        bytes[0x20..0x28].copy_from_slice(&(u64::MAX / 2).to_le_bytes());
        assert!(identify(&bytes).is_err());
    }

    #[test]
    fn riscv_abi_names() {
        assert_eq!(riscv_float_abi(0x5), "double");
        assert_eq!(riscv_float_abi(0x0), "soft");
    }
}
