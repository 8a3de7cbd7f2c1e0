//! The media types archbench reads and writes (OCI's, in-toto's, the Wasm artifact's), in one
//! place below every module that names one.

/// Image index.
pub const INDEX: &str = "application/vnd.oci.image.index.v1+json";
/// Image manifest.
pub const MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
/// Image config.
pub const CONFIG: &str = "application/vnd.oci.image.config.v1+json";
/// Uncompressed layer.
pub const LAYER_TAR: &str = "application/vnd.oci.image.layer.v1.tar";
/// gzip layer.
pub const LAYER_TAR_GZIP: &str = "application/vnd.oci.image.layer.v1.tar+gzip";
/// Zstandard layer (what Docker Engine 26's containerd image store may hold).
pub const LAYER_TAR_ZSTD: &str = "application/vnd.oci.image.layer.v1.tar+zstd";
/// An attestation's layer: an in-toto statement (SLSA provenance, an SPDX SBOM), as
/// BuildKit writes them.
pub const IN_TOTO: &str = "application/vnd.in-toto+json";
/// The config of a Wasm OCI artifact (the Bytecode Alliance's layout, the `oci-wasm`
/// crate): `os` is `wasip1` for a module and `wasip2` for a component, `architecture` is
/// `wasm`.
pub const WASM_CONFIG: &str = "application/vnd.wasm.config.v0+json";
/// A Wasm artifact's layer: the module or component itself, not a tar.
pub const WASM_LAYER: &str = "application/wasm";
/// The layer type the older wasm-to-oci tool wrote, read as [`WASM_LAYER`].
pub const WASM_LAYER_LEGACY: &str = "application/vnd.wasm.content.layer.v1+wasm";

/// Whether a layer of this media type is a bare Wasm binary rather than a tar.
pub fn is_wasm_layer(media_type: &str) -> bool {
    media_type == WASM_LAYER || media_type == WASM_LAYER_LEGACY
}
