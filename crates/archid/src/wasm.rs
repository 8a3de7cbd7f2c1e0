//! WebAssembly modules and components: which WASI they import.

use archbench_platform::{Arch, Os, Platform};
use wasmparser::{Parser, Payload};

use crate::identity::{Format, Identity, Kind, WasmDetails};
use crate::{Error, Result};

/// Identify a Wasm binary. Only the import section is read; code is not validated.
pub fn identify(bytes: &[u8]) -> Result<Identity> {
    let component = bytes.get(4..8) != Some(&[1, 0, 0, 0]);
    let mut modules: Vec<String> = Vec::new();
    let mut wasi_p2 = false;
    for payload in Parser::new(0).parse_all(bytes) {
        let payload =
            payload.map_err(|e| Error::Malformed { format: "Wasm", message: e.to_string() })?;
        match payload {
            Payload::ImportSection(reader) if !component => {
                for import in reader.into_imports() {
                    let import = import
                        .map_err(|e| Error::Malformed { format: "Wasm", message: e.to_string() })?;
                    if !modules.iter().any(|m| m == import.module) {
                        modules.push(import.module.to_owned());
                    }
                }
            }
            Payload::ComponentImportSection(reader) => {
                for import in reader {
                    let import = import
                        .map_err(|e| Error::Malformed { format: "Wasm", message: e.to_string() })?;
                    let name = import.name.name.to_owned();
                    wasi_p2 |= name.starts_with("wasi:");
                    if !modules.contains(&name) {
                        modules.push(name);
                    }
                }
            }
            _ => {}
        }
    }
    let wasi = if wasi_p2 {
        Some("preview2")
    } else if modules.iter().any(|m| m == "wasi_snapshot_preview1") {
        Some("preview1")
    } else if modules.iter().any(|m| m == "wasi_unstable") {
        Some("preview0")
    } else {
        None
    };
    let mut id = Identity::new(
        if component { Format::WasmComponent } else { Format::WasmModule },
        Kind::WasmBinary,
    );
    id.bits = Some(32);
    id.platform = Some(Platform::new(
        if wasi.is_some() { Os::Wasi } else { Os::Unknown("unknown".into()) },
        Arch::Wasm,
    ));
    id.wasm = Some(WasmDetails { wasi: wasi.map(str::to_owned), import_modules: modules });
    Ok(id)
}
