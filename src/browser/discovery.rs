//! Finding the browser: `OA_CHROMIUM`, else the first known Chromium on `PATH`. The system's
//! Chromium is used, never a download.

use std::path::{Path, PathBuf};

/// Executables tried, in order, when `OA_CHROMIUM` is unset.
pub const CHROMIUM_NAMES: &[&str] = &["chromium", "chromium-browser", "google-chrome"];

/// Finds the browser: `OA_CHROMIUM` (a path or a name on PATH), else the first known name on
/// PATH. `None` when there is none.
pub fn find_chromium(oa_chromium: Option<&str>, path_var: Option<&str>) -> Option<PathBuf> {
    let on_path = |name: &str| -> Option<PathBuf> {
        if name.contains('/') {
            let p = PathBuf::from(name);
            return is_executable(&p).then_some(p);
        }
        std::env::split_paths(path_var.unwrap_or("/usr/local/bin:/usr/bin:/bin"))
            .map(|dir| dir.join(name))
            .find(|p| is_executable(p))
    };
    match oa_chromium.filter(|s| !s.is_empty()) {
        Some(name) => on_path(name),
        None => CHROMIUM_NAMES.iter().find_map(|n| on_path(n)),
    }
}

fn is_executable(path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        path.metadata()
            .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    }
    #[cfg(not(unix))]
    {
        path.is_file()
    }
}
