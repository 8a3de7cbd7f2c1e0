//! PE/COFF: Windows executables and DLLs, UEFI applications and drivers.

use archbench_platform::{Arch, Os, Platform};
use goblin::pe::PE;

use crate::identity::{Endian, Format, Identity, Kind, PeDetails};
use crate::{Error, Result};

fn subsystem_name(v: u16) -> &'static str {
    match v {
        1 => "native",
        2 => "windows-gui",
        3 => "windows-cui",
        9 => "windows-ce",
        10 => "efi-application",
        11 => "efi-boot-service-driver",
        12 => "efi-runtime-driver",
        13 => "efi-rom",
        16 => "windows-boot-application",
        _ => "unknown",
    }
}

/// Identify a PE image.
pub fn identify(bytes: &[u8]) -> Result<Identity> {
    let pe =
        PE::parse(bytes).map_err(|e| Error::Malformed { format: "PE", message: e.to_string() })?;
    let machine = pe.header.coff_header.machine;
    let mut variant = None;
    let arch = match machine {
        0x8664 => Arch::Amd64,
        0x014c => Arch::I386,
        0xaa64 => Arch::Arm64,
        0x01c4 => {
            variant = Some("v7");
            Arch::Arm
        }
        0x5064 => Arch::Riscv64,
        0x6264 => Arch::Loong64,
        0x0ebc => Arch::Unknown("ebc".into()),
        other => Arch::Unknown(format!("pe-machine-{other:#06x}")),
    };
    let (magic, subsystem) = match &pe.header.optional_header {
        Some(oh) => (
            if oh.standard_fields.magic == 0x20b { "PE32+" } else { "PE32" },
            oh.windows_fields.subsystem,
        ),
        None => ("COFF", 0),
    };
    let sub = subsystem_name(subsystem);
    let os = if sub.starts_with("efi") { Os::Unknown("uefi".into()) } else { Os::Windows };
    let mut id =
        Identity::new(Format::Pe, if pe.is_lib { Kind::SharedLibrary } else { Kind::Executable });
    id.bits = Some(if pe.is_64 { 64 } else { 32 });
    id.endian = Some(Endian::Little);
    id.platform = Some(Platform::with_variant(os, arch, variant));
    id.pe = Some(PeDetails {
        machine,
        magic: magic.to_owned(),
        subsystem: sub.to_owned(),
        dll: pe.is_lib,
    });
    Ok(id)
}
