//! What the binary carries, so it works from any directory: the default matrix (`lanes/`, and
//! its lock), the stdlib modules, the user docs, and the build's identity (the
//! tool's version and the git commit it was built from). build.rs generates the tables.

mod generated {
    include!(concat!(env!("OUT_DIR"), "/embedded.rs"));
}

/// Every `.rhai` file of the default matrix (`lanes/`, recursively): (path relative to
/// `lanes/`, source). The top-level ones are its lanes; the others are modules they import.
pub fn matrix_files() -> &'static [(&'static str, &'static str)] {
    generated::MATRIX_FILES
}

/// The lane files of the default matrix (top level of `lanes/`), sorted by name.
pub fn matrix_lanes() -> impl Iterator<Item = (&'static str, &'static str)> {
    matrix_files()
        .iter()
        .copied()
        .filter(|(name, _)| !name.contains('/'))
}

/// A file of the default matrix by its path relative to `lanes/`.
pub fn matrix_file(relative: &str) -> Option<&'static str> {
    matrix_files()
        .iter()
        .find(|(name, _)| *name == relative)
        .map(|(_, source)| *source)
}

/// `lanes/matrix.lock` as committed when the binary was built, if there was one.
pub fn matrix_lock() -> Option<&'static str> {
    generated::MATRIX_LOCK
}

/// The stdlib modules: (import name, source), sorted by name.
pub fn stdlib_modules() -> impl Iterator<Item = (&'static str, &'static str)> {
    generated::STDLIB_FILES
        .iter()
        .filter_map(|(file, source)| Some((file.strip_suffix(".rhai")?, *source)))
}

/// The user documentation (`docs/*.md`): (file name, text), sorted.
pub fn doc_files() -> &'static [(&'static str, &'static str)] {
    generated::DOC_FILES
}

/// Every file `oa-validate show` can print, by the path it has in the source tree: the
/// matrix (`lanes/...`, its lock), the stdlib (`stdlib/...`) and the docs (`docs/...`).
pub fn shown_files() -> Vec<(String, &'static str)> {
    let mut files: Vec<(String, &'static str)> = matrix_files()
        .iter()
        .map(|(name, text)| (format!("lanes/{name}"), *text))
        .collect();
    if let Some(lock) = matrix_lock() {
        files.push(("lanes/matrix.lock".to_string(), lock));
    }
    files.extend(
        generated::STDLIB_FILES
            .iter()
            .map(|(name, text)| (format!("stdlib/{name}"), *text)),
    );
    files.extend(
        doc_files()
            .iter()
            .map(|(name, text)| (format!("docs/{name}"), *text)),
    );
    files
}

/// The tool's version (Cargo.toml).
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The git commit the binary was built from (`-dirty` when tracked files differed), or
/// `unknown` when it was built outside git without `OA_VALIDATE_COMMIT`.
pub fn commit() -> &'static str {
    generated::COMMIT
}

/// `oa-validate 0.1.0 (commit 1a2b3c4d5e6f)`: how reports name the tool.
pub fn tool_identity() -> String {
    format!("oa-validate {VERSION} (commit {})", commit())
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_binary_carries_the_matrix_and_its_stdlib() {
        let lanes: Vec<&str> = super::matrix_lanes().map(|(name, _)| name).collect();
        assert!(lanes.contains(&"control.rhai"), "{lanes:?}");
        assert!(lanes.contains(&"legacy_backup.rhai"), "{lanes:?}");
        assert!(lanes.windows(2).all(|w| w[0] < w[1]), "sorted: {lanes:?}");
        let modules: Vec<&str> = super::stdlib_modules().map(|(name, _)| name).collect();
        assert!(modules.contains(&"control") && modules.contains(&"htmx"));
        assert!(!super::commit().is_empty());
    }
}
