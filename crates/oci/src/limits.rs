//! Size limits shared by the registry client and the image readers (a module of its own so
//! that neither needs the other for them).

/// Manifests, indexes and configs larger than this are refused: real ones are kilobytes.
pub const MAX_DOCUMENT_BYTES: u64 = 4 << 20;
