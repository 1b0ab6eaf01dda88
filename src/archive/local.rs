//! An archive into a folder (a checkout of the backroom repository, say): the archive written
//! to a temporary name and renamed, so a crash never leaves a partial one under its name; the
//! index appended to.

use super::{INDEX_FILE, Outcome, Packed, indexed};
use crate::evidence::write::atomic_write;
use std::io::Write;
use std::path::Path;

pub fn store(packed: &Packed, dest: &Path) -> Result<Outcome, String> {
    std::fs::create_dir_all(dest).map_err(|e| format!("{}: {e}", dest.display()))?;
    let archive = dest.join(&packed.name);
    let existed = archive.is_file();
    if !existed {
        atomic_write(&archive, &packed.bytes).map_err(|e| format!("{}: {e}", archive.display()))?;
    }
    let index_path = dest.join(INDEX_FILE);
    let index = match std::fs::read_to_string(&index_path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(format!("{}: {e}", index_path.display())),
    };
    if indexed(&index, &packed.name) {
        return Ok(if existed {
            Outcome::AlreadyArchived
        } else {
            Outcome::Archived
        });
    }
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&index_path)
        .map_err(|e| format!("{}: {e}", index_path.display()))?;
    // One write of the whole line: appends of concurrent archivers do not interleave.
    let line = if index.is_empty() || index.ends_with('\n') {
        format!("{}\n", packed.index_line)
    } else {
        format!("\n{}\n", packed.index_line)
    };
    file.write_all(line.as_bytes())
        .map_err(|e| format!("{}: {e}", index_path.display()))?;
    Ok(Outcome::Archived)
}
