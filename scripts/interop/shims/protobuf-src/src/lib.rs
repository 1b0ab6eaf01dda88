//! Stand-in for `protobuf-src`: the system protoc instead of one built from source.
use std::path::PathBuf;

/// The protoc to run: `$PROTOC`, else the first `protoc` on `PATH`, else `/usr/bin/protoc`.
pub fn protoc() -> PathBuf {
    if let Some(p) = std::env::var_os("PROTOC") {
        return PathBuf::from(p);
    }
    if let Some(paths) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&paths) {
            let candidate = dir.join("protoc");
            if candidate.is_file() {
                return candidate;
            }
        }
    }
    PathBuf::from("/usr/bin/protoc")
}

/// The folder holding the well-known types (`google/protobuf/*.proto`).
pub fn include() -> PathBuf {
    std::env::var_os("PROTOC_INCLUDE")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/include"))
}
