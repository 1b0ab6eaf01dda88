//! (Re)building DIR/report.html from the folder's own files, for a folder written by this or
//! an earlier version, and recording it in SHA256SUMS (`oa-validate report DIR`).

use crate::evidence::archive::Archive;
use crate::evidence::sums;
use crate::evidence::write::atomic_write;
use crate::redact::Redactor;
use crate::report::html;
use std::path::{Path, PathBuf};

/// Writes `dir/report.html` (redacted) and its line in SHA256SUMS. Refuses a folder whose
/// SHA256SUMS no longer verifies: the page would present altered evidence as the run's.
pub fn rebuild(dir: &Path, redactor: &Redactor) -> Result<PathBuf, String> {
    let has_sums = dir.join(sums::SUMS_FILE).is_file();
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
    let page = redactor.redact(&html::render(&archive));
    let path = dir.join(html::FILE_NAME);
    atomic_write(&path, page.as_bytes()).map_err(|e| e.to_string())?;
    if has_sums {
        sums::replace_entry(dir, html::FILE_NAME).map_err(|e| e.to_string())?;
    }
    Ok(path)
}
