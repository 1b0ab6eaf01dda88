//! Every source a position can point into — lanes, the modules they import, the stdlib — by
//! the name positions use (`lanes/control.rhai`, `stdlib/htmx.rhai`), with where it came from.
//! Code frames read sources here rather than from disk: an embedded lane named
//! `lanes/control.rhai` must never be framed with a file of that name in the working directory.

use parking_lot::Mutex;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::OnceLock;

/// Where a source came from: how an import inside it resolves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// A file on disk at this path.
    Disk(PathBuf),
    /// A file of the matrix built into the binary, by its path relative to `lanes/`.
    Matrix(&'static str),
    /// A stdlib module, built in.
    Stdlib,
}

#[derive(Debug, Clone)]
struct Entry {
    origin: Origin,
    source: String,
}

fn registry() -> &'static Mutex<HashMap<String, Entry>> {
    static SOURCES: OnceLock<Mutex<HashMap<String, Entry>>> = OnceLock::new();
    SOURCES.get_or_init(Default::default)
}

/// Records `source` under the name positions use for it.
pub fn register(name: &str, origin: Origin, source: &str) {
    registry().lock().insert(
        name.to_string(),
        Entry {
            origin,
            source: source.to_string(),
        },
    );
}

/// The source recorded under `name`.
pub fn get(name: &str) -> Option<String> {
    registry().lock().get(name).map(|e| e.source.clone())
}

/// Where the source recorded under `name` came from.
pub fn origin(name: &str) -> Option<Origin> {
    registry().lock().get(name).map(|e| e.origin.clone())
}

/// The source of `name` for a code frame: recorded, else the built-in stdlib, else the file on
/// disk (a lane that failed to compile was never recorded; its file is the one named).
pub fn read(name: &str) -> Option<String> {
    if let Some(source) = get(name) {
        return Some(source);
    }
    if let Some(module) = name
        .strip_prefix("stdlib/")
        .and_then(|m| m.strip_suffix(".rhai"))
        && let Some((_, source)) = crate::engine::stdlib::modules().find(|(n, _)| *n == module)
    {
        return Some(source.to_string());
    }
    std::fs::read_to_string(name).ok()
}

/// Every recorded source by name, plus the stdlib (what the reports' code frames read).
pub fn snapshot() -> HashMap<String, String> {
    let mut map: HashMap<String, String> = crate::engine::stdlib::modules()
        .map(|(name, source)| {
            (
                crate::engine::stdlib::display_path(name),
                source.to_string(),
            )
        })
        .collect();
    for (name, entry) in registry().lock().iter() {
        map.insert(name.clone(), entry.source.clone());
    }
    map
}
