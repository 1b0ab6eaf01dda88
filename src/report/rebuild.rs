//! (Re)building DIR/report.html from the folder's own files, for a folder written by this or
//! an earlier version, and recording it in SHA256SUMS (`oa-validate report DIR`).

use crate::evidence::archive::Archive;
use crate::evidence::sums;
use crate::evidence::write::atomic_write;
use crate::redact::Redactor;
use crate::report::html;
use std::path::{Path, PathBuf};

/// What [`rebuild`] wrote, and the files it refused to read (`path: not read: why`).
pub struct Rebuilt {
    pub path: PathBuf,
    pub refused: Vec<String>,
}

/// Writes `dir/report.html` (redacted) and its line in SHA256SUMS. Refuses a folder whose
/// SHA256SUMS no longer verifies: the page would present altered evidence as the run's. The
/// folder is untrusted input: only its own regular files are read (see [`Archive`]), and a
/// SHA256SUMS that is a link or not a regular file is refused, never skipped.
pub fn rebuild(dir: &Path, redactor: &Redactor) -> Result<Rebuilt, String> {
    let has_sums = match std::fs::symlink_metadata(dir.join(sums::SUMS_FILE)) {
        Ok(_) => true,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => false,
        Err(e) => return Err(format!("{}: {e}", dir.join(sums::SUMS_FILE).display())),
    };
    if has_sums {
        let mut altered = sums::verify_sha256sums(dir).map_err(|e| e.to_string())?;
        altered.retain(|file| file != html::FILE_NAME);
        if !altered.is_empty() {
            return Err(format!(
                "{}: SHA256SUMS does not verify ({}): refusing to present altered evidence",
                dir.display(),
                altered.join(", ")
            ));
        }
    }
    let archive = Archive::load(dir).map_err(|e| e.to_string())?;
    let page = redactor.redact(&html::render(&archive, html::Writer::Rebuild));
    let path = dir.join(html::FILE_NAME);
    atomic_write(&path, page.as_bytes()).map_err(|e| e.to_string())?;
    if has_sums {
        sums::replace_entry(dir, html::FILE_NAME).map_err(|e| e.to_string())?;
    }
    Ok(Rebuilt {
        path,
        refused: archive.refusals(),
    })
}
