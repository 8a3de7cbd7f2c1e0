//! Helpers shared by the fuzz targets.

use std::path::PathBuf;

/// A scratch directory for this process and `name`, in RAM when /dev/shm exists (the targets
/// that read files write one per input).
pub fn scratch(name: &str) -> PathBuf {
    let base = if std::path::Path::new("/dev/shm").is_dir() {
        PathBuf::from("/dev/shm")
    } else {
        std::env::temp_dir()
    };
    let dir = base.join(format!("archbench-fuzz-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
