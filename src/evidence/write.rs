//! Atomic file writes: a reader (or an interrupted run) sees the old file or the new one,
//! never half of one.

use std::ffi::OsStr;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Write `bytes` to `path`: create the parent folders, write a temporary file next to it,
/// fsync it, rename it over `path`, then fsync the folder. Errors name `path`.
pub fn atomic_write(path: &Path, bytes: &[u8]) -> io::Result<()> {
    write_then_rename(path, bytes)
        .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", path.display())))
}

fn write_then_rename(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let file_name = path
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "not a file path"))?;
    let dir = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    fs::create_dir_all(dir)?;

    let (temp_path, mut file) = create_temp(dir, file_name)?;
    let written = file
        .write_all(bytes)
        .and_then(|()| file.sync_all())
        .and_then(|()| {
            drop(file);
            fs::rename(&temp_path, path)
        });
    if let Err(e) = written {
        // The temporary file is ours; leave nothing behind. The original error matters more.
        let _ = fs::remove_file(&temp_path);
        return Err(e);
    }
    sync_dir(dir);
    Ok(())
}

/// A new, exclusively created `.<name>.<pid>.<n>.tmp` in `dir` (same filesystem as the target,
/// so the rename is atomic). Hidden, so a folder listing in the middle of a run stays clean.
fn create_temp(dir: &Path, file_name: &OsStr) -> io::Result<(PathBuf, File)> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let pid = std::process::id();
    let mut last_error = None;
    for _ in 0..64 {
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let mut name = std::ffi::OsString::from(".");
        name.push(file_name);
        name.push(format!(".{pid}.{n}.tmp"));
        let temp_path = dir.join(name);
        match OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&temp_path)
        {
            Ok(file) => return Ok((temp_path, file)),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => last_error = Some(e),
            Err(e) => return Err(e),
        }
    }
    Err(last_error
        .unwrap_or_else(|| io::Error::new(io::ErrorKind::AlreadyExists, "no free temporary name")))
}

/// Make the rename itself durable. Best effort: some filesystems refuse to fsync a folder,
/// and the file content is already on disk either way.
fn sync_dir(dir: &Path) {
    #[cfg(unix)]
    if let Ok(handle) = File::open(dir) {
        let _ = handle.sync_all();
    }
    #[cfg(not(unix))]
    let _ = dir;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(dir)
            .expect("read_dir")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn creates_parents_and_leaves_no_temp_files() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let path = tmp.path().join("http").join("nested").join("check.har");
        atomic_write(&path, b"first").expect("write");
        assert_eq!(fs::read(&path).expect("read"), b"first");
        atomic_write(&path, b"second, longer").expect("overwrite");
        assert_eq!(fs::read(&path).expect("read"), b"second, longer");
        assert_eq!(entries(path.parent().expect("parent")), ["check.har"]);
        assert_eq!(entries(tmp.path()), ["http"]);
    }

    #[test]
    fn a_relative_bare_file_name_is_written_in_place() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let path = tmp.path().join("SUMMARY.md");
        atomic_write(&path, b"").expect("empty write");
        assert_eq!(fs::read(&path).expect("read"), b"");
        assert_eq!(entries(tmp.path()), ["SUMMARY.md"]);
    }

    #[test]
    fn errors_name_the_path_and_clean_up() {
        let tmp = tempfile::tempdir().expect("tempdir");
        // A folder where the file should go: the rename fails after the temp file exists.
        let target = tmp.path().join("results.tsv");
        fs::create_dir(&target).expect("mkdir");
        fs::write(target.join("inside"), b"x").expect("fill");
        let err = atomic_write(&target, b"rows").expect_err("cannot replace a folder");
        assert!(
            err.to_string()
                .starts_with(&format!("{}: ", target.display())),
            "{err}"
        );
        assert_eq!(entries(tmp.path()), ["results.tsv"]);

        // A file where a parent folder should go.
        let blocker = tmp.path().join("logs");
        fs::write(&blocker, b"not a dir").expect("write blocker");
        let nested = blocker.join("check.log");
        let err = atomic_write(&nested, b"log").expect_err("parent is a file");
        assert!(
            err.to_string().contains(&nested.display().to_string()),
            "{err}"
        );
    }
}
