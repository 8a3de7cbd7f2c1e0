//! Mach-O, thin and universal (fat): every slice is identified.

use archbench_platform::{Arch, Os, Platform};
use goblin::mach::{cputype, header as mh, Mach, MachO, SingleArch};

use crate::identity::{Endian, Format, Identity, Kind};
use crate::{Error, Result};

fn arch_of(cpu: u32) -> Arch {
    match cpu {
        cputype::CPU_TYPE_X86_64 => Arch::Amd64,
        cputype::CPU_TYPE_X86 => Arch::I386,
        cputype::CPU_TYPE_ARM64 => Arch::Arm64,
        cputype::CPU_TYPE_ARM64_32 => Arch::Unknown("arm64_32".into()),
        cputype::CPU_TYPE_ARM => Arch::Arm,
        cputype::CPU_TYPE_POWERPC64 => Arch::Ppc64,
        cputype::CPU_TYPE_POWERPC => Arch::Unknown("ppc".into()),
        other => Arch::Unknown(format!("mach-cpu-{other:#x}")),
    }
}

fn thin(m: &MachO) -> Identity {
    let kind = match m.header.filetype {
        mh::MH_EXECUTE => Kind::Executable,
        mh::MH_DYLIB | mh::MH_BUNDLE => Kind::SharedLibrary,
        mh::MH_OBJECT => Kind::Relocatable,
        mh::MH_CORE => Kind::Core,
        _ => Kind::Other,
    };
    let mut id = Identity::new(Format::MachO, kind);
    id.bits = Some(if m.is_64 { 64 } else { 32 });
    id.endian = Some(if m.little_endian { Endian::Little } else { Endian::Big });
    id.platform = Some(Platform::new(Os::Darwin, arch_of(m.header.cputype)));
    id
}

/// Identify a Mach-O file (thin or fat).
pub fn identify(bytes: &[u8]) -> Result<Identity> {
    let bad =
        |e: goblin::error::Error| Error::Malformed { format: "Mach-O", message: e.to_string() };
    match Mach::parse(bytes).map_err(bad)? {
        Mach::Binary(m) => Ok(thin(&m)),
        Mach::Fat(fat) => {
            let mut id = Identity::new(Format::MachOFat, Kind::Executable);
            for i in 0..fat.narches {
                match fat.get(i).map_err(bad)? {
                    SingleArch::MachO(m) => id.members.push(thin(&m)),
                    // A slice holding an archive (static universal library): report its CPU.
                    SingleArch::Archive(_) => {
                        if let Some(Ok(a)) = fat.iter_arches().nth(i) {
                            let mut s = Identity::new(Format::Ar, Kind::Archive);
                            s.platform = Some(Platform::new(Os::Darwin, arch_of(a.cputype)));
                            id.kind = Kind::Archive;
                            id.members.push(s);
                        }
                    }
                }
            }
            if let Some(first) = id.members.first() {
                id.kind = if id.kind == Kind::Archive { Kind::Archive } else { first.kind };
            }
            Ok(id)
        }
    }
}
