//! Tiny static probe executables, one per architecture, that exit with [`PROBE_EXIT_CODE`].
//!
//! `archbench doctor` runs them to prove a foreign platform *executes*, not merely that a binfmt
//! entry exists. Each is a minimal ELF: file header, one `PT_LOAD` program header covering the
//! whole file, and three or four instructions that call `exit(42)`.
//!
//! Why hand-built: the `object` crate writes relocatable objects and would need a linker per
//! architecture to become executables; cross linkers are exactly what a fresh machine may lack.
//! The machine code below was assembled by hand from each ISA manual and is checked by running it
//! under QEMU in the tests (and by `archid`, which must identify each one as its platform).

use archbench_platform::{Arch, Platform};

/// The exit status every probe returns.
pub const PROBE_EXIT_CODE: i32 = 42;

#[derive(Clone, Copy)]
enum Endian {
    Little,
    Big,
}

struct Spec {
    is_64: bool,
    endian: Endian,
    e_machine: u16,
    e_flags: u32,
    code: &'static [u8],
}

// Each sequence is: load 42 into the first argument register, load the `exit` syscall number,
// trap into the kernel.
const X86_64: &[u8] = &[
    0xbf, 0x2a, 0x00, 0x00, 0x00, // mov edi, 42
    0xb8, 0x3c, 0x00, 0x00, 0x00, // mov eax, 60 (exit)
    0x0f, 0x05, // syscall
];
const I386: &[u8] = &[
    0xbb, 0x2a, 0x00, 0x00, 0x00, // mov ebx, 42
    0xb8, 0x01, 0x00, 0x00, 0x00, // mov eax, 1 (exit)
    0xcd, 0x80, // int 0x80
];
const AARCH64: &[u8] = &[
    0x40, 0x05, 0x80, 0xd2, // movz x0, #42
    0xa8, 0x0b, 0x80, 0xd2, // movz x8, #93 (exit)
    0x01, 0x00, 0x00, 0xd4, // svc #0
];
const ARM: &[u8] = &[
    0x2a, 0x00, 0xa0, 0xe3, // mov r0, #42
    0x01, 0x70, 0xa0, 0xe3, // mov r7, #1 (exit)
    0x00, 0x00, 0x00, 0xef, // svc #0
];
const RISCV64: &[u8] = &[
    0x13, 0x05, 0xa0, 0x02, // addi a0, zero, 42
    0x93, 0x08, 0xd0, 0x05, // addi a7, zero, 93 (exit)
    0x73, 0x00, 0x00, 0x00, // ecall
];
const PPC64LE: &[u8] = &[
    0x2a, 0x00, 0x60, 0x38, // li r3, 42
    0x01, 0x00, 0x00, 0x38, // li r0, 1 (exit)
    0x02, 0x00, 0x00, 0x44, // sc
];
const S390X: &[u8] = &[
    0xa7, 0x29, 0x00, 0x2a, // lghi %r2, 42
    0x0a, 0x01, // svc 1 (exit)
];

fn spec(platform: &Platform) -> Option<Spec> {
    let s = |is_64, endian, e_machine, e_flags, code| {
        Some(Spec { is_64, endian, e_machine, e_flags, code })
    };
    match platform.arch {
        Arch::Amd64 => s(true, Endian::Little, 62, 0, X86_64),
        Arch::I386 => s(false, Endian::Little, 3, 0, I386),
        Arch::Arm64 => s(true, Endian::Little, 183, 0, AARCH64),
        // EF_ARM_EABI_VER5 | EF_ARM_ABI_FLOAT_HARD: what a current armhf toolchain writes.
        Arch::Arm => s(false, Endian::Little, 40, 0x0500_0400, ARM),
        // EF_RISCV_FLOAT_ABI_DOUBLE | EF_RISCV_RVC: the riscv64gc lp64d ABI.
        Arch::Riscv64 => s(true, Endian::Little, 243, 0x0005, RISCV64),
        // ELFv2 ABI: the entry point is code, not a function descriptor.
        Arch::Ppc64le => s(true, Endian::Little, 21, 2, PPC64LE),
        Arch::S390x => s(true, Endian::Big, 22, 0, S390X),
        _ => None,
    }
}

/// Platforms for which a probe exists.
pub fn probe_platforms() -> Vec<Platform> {
    [
        "linux/amd64",
        "linux/386",
        "linux/arm64",
        "linux/arm/v7",
        "linux/riscv64",
        "linux/ppc64le",
        "linux/s390x",
    ]
    .iter()
    .map(|s| s.parse().expect("table spelling"))
    .collect()
}

struct Out {
    buf: Vec<u8>,
    endian: Endian,
}

impl Out {
    fn u8(&mut self, v: u8) {
        self.buf.push(v);
    }
    fn u16(&mut self, v: u16) {
        match self.endian {
            Endian::Little => self.buf.extend_from_slice(&v.to_le_bytes()),
            Endian::Big => self.buf.extend_from_slice(&v.to_be_bytes()),
        }
    }
    fn u32(&mut self, v: u32) {
        match self.endian {
            Endian::Little => self.buf.extend_from_slice(&v.to_le_bytes()),
            Endian::Big => self.buf.extend_from_slice(&v.to_be_bytes()),
        }
    }
    fn u64(&mut self, v: u64) {
        match self.endian {
            Endian::Little => self.buf.extend_from_slice(&v.to_le_bytes()),
            Endian::Big => self.buf.extend_from_slice(&v.to_be_bytes()),
        }
    }
    /// A word of the ELF class: 8 bytes for ELF64, 4 for ELF32.
    fn word(&mut self, is_64: bool, v: u64) {
        if is_64 {
            self.u64(v)
        } else {
            self.u32(v as u32)
        }
    }
}

/// The probe executable for `platform`, or `None` when we have no machine code for it.
pub fn probe_elf(platform: &Platform) -> Option<Vec<u8>> {
    let spec = spec(platform)?;
    let (ehsize, phentsize): (u16, u16) = if spec.is_64 { (64, 56) } else { (52, 32) };
    let code_offset = u64::from(ehsize) + u64::from(phentsize);
    // 64 KiB-aligned base: valid for every target page size QEMU uses (ppc64 runs 64 KiB pages).
    let base: u64 = if spec.is_64 { 0x40_0000 } else { 0x1_0000 };
    let file_size = code_offset + spec.code.len() as u64;

    let mut o = Out { buf: Vec::with_capacity(file_size as usize), endian: spec.endian };
    // e_ident
    o.buf.extend_from_slice(b"\x7fELF");
    o.u8(if spec.is_64 { 2 } else { 1 });
    o.u8(match spec.endian {
        Endian::Little => 1,
        Endian::Big => 2,
    });
    o.u8(1); // EV_CURRENT
    o.u8(0); // ELFOSABI_SYSV
    o.buf.extend_from_slice(&[0; 8]);
    o.u16(2); // ET_EXEC
    o.u16(spec.e_machine);
    o.u32(1);
    o.word(spec.is_64, base + code_offset); // e_entry
    o.word(spec.is_64, u64::from(ehsize)); // e_phoff
    o.word(spec.is_64, 0); // e_shoff: no sections
    o.u32(spec.e_flags);
    o.u16(ehsize);
    o.u16(phentsize);
    o.u16(1); // e_phnum
    o.u16(0); // e_shentsize
    o.u16(0); // e_shnum
    o.u16(0); // e_shstrndx

    const PT_LOAD: u32 = 1;
    const PF_R_X: u32 = 0x4 | 0x1;
    if spec.is_64 {
        o.u32(PT_LOAD);
        o.u32(PF_R_X);
        o.u64(0); // p_offset
        o.u64(base); // p_vaddr
        o.u64(base); // p_paddr
        o.u64(file_size); // p_filesz
        o.u64(file_size); // p_memsz
        o.u64(0x1_0000); // p_align
    } else {
        o.u32(PT_LOAD);
        o.u32(0); // p_offset
        o.u32(base as u32);
        o.u32(base as u32);
        o.u32(file_size as u32);
        o.u32(file_size as u32);
        o.u32(PF_R_X);
        o.u32(0x1_0000);
    }
    debug_assert_eq!(o.buf.len() as u64, code_offset);
    o.buf.extend_from_slice(spec.code);
    Some(o.buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_probe_platform_has_a_well_formed_elf() {
        for p in probe_platforms() {
            let elf = probe_elf(&p).unwrap_or_else(|| panic!("{p}"));
            assert_eq!(&elf[..4], b"\x7fELF", "{p}");
            assert!(elf.len() < 200, "{p}: {} bytes", elf.len());
        }
        assert!(probe_elf(&Platform::wasi_wasm()).is_none());
    }
}
