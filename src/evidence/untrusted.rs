//! Reading an evidence folder that may come from a stranger (`report`, `diff`, `rerun`): only
//! regular files inside the folder, reached without following a symbolic link at any step,
//! under a size cap, opened non-blocking.
//!
//! A folder is data anyone can hand over (a CI artifact, an attachment). Read naively, a
//! "screenshot" linked to `~/.ssh/id_rsa` ends up base64 in report.html (the link is not in
//! SHA256SUMS, so the sums still verify), a FIFO as summary.json blocks for ever and a link to
//! `/dev/zero` grows until memory runs out (issue 20, findings 5 and 6). Each path component
//! below the folder is opened relative to its parent with `O_NOFOLLOW`, so a link anywhere in
//! the path (a linked `artifacts/` as well as a linked file) is refused, and the type of the
//! last one is checked before and after it is opened, as [`crate::file_input`] does.

use crate::file_input::{self, FileInputError};
use std::fs::File;
use std::path::{Component, Path};

/// summary.json: a 3,200-check run writes a few MiB.
pub const SUMMARY_CAP: u64 = 64 * 1024 * 1024;
/// Any other file read whole (SHA256SUMS, a HAR, a perf table, a screenshot).
pub const FILE_CAP: u64 = 64 * 1024 * 1024;

/// The bytes of `dir/relative`, at most `cap` of them (see [`open`]).
pub fn read(dir: &Path, relative: &str, cap: u64) -> Result<Vec<u8>, FileInputError> {
    let (file, size) = open(dir, relative)?;
    file_input::read_open(file, size, cap, &file_input::never_stop)
}

/// The UTF-8 text of `dir/relative` (see [`read`]).
pub fn read_to_string(dir: &Path, relative: &str, cap: u64) -> Result<String, FileInputError> {
    String::from_utf8(read(dir, relative, cap)?)
        .map_err(|_| FileInputError::Invalid("not UTF-8 text".to_string()))
}

/// Opens `dir/relative` when it is a regular file inside `dir`: `relative` is a plain
/// relative path (no `..`, not absolute) and no component below `dir` is a symbolic link.
/// `dir` itself is what the user named, and may be one. Returns the file and its size.
pub fn open(dir: &Path, relative: &str) -> Result<(File, u64), FileInputError> {
    let mut names = Vec::new();
    for component in Path::new(relative).components() {
        match component {
            Component::Normal(name) => names.push(name),
            Component::CurDir => {}
            _ => return Err(FileInputError::Outside),
        }
    }
    let Some((last, parents)) = names.split_last() else {
        return Err(FileInputError::Outside);
    };
    imp::open(dir, parents, last)
}

#[cfg(unix)]
mod imp {
    use super::*;
    use std::ffi::{CString, OsStr};
    use std::io;
    use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
    use std::os::unix::ffi::OsStrExt;

    pub(super) fn open(
        dir: &Path,
        parents: &[&OsStr],
        last: &OsStr,
    ) -> Result<(File, u64), FileInputError> {
        let mut at = open_dir_of_user(dir)?;
        for name in parents {
            refuse_unless(&at, name, Want::Dir)?;
            at = openat(&at, name, libc::O_DIRECTORY)?;
        }
        refuse_unless(&at, last, Want::File)?;
        let file = File::from(openat(&at, last, libc::O_NONBLOCK | libc::O_NOCTTY)?);
        // Checked again on the handle: the entry may have been swapped since.
        let meta = file.metadata()?;
        if let Some(kind) = file_input::irregular_kind(&meta) {
            return Err(FileInputError::NotRegular { kind });
        }
        Ok((file, meta.len()))
    }

    /// The folder as named (following a link the user typed is the user's choice).
    fn open_dir_of_user(dir: &Path) -> Result<OwnedFd, FileInputError> {
        let path = CString::new(dir.as_os_str().as_bytes())
            .map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
        // SAFETY: a valid NUL-terminated path; the descriptor is owned at once.
        let fd = unsafe {
            libc::open(
                path.as_ptr(),
                libc::O_RDONLY | libc::O_DIRECTORY | libc::O_CLOEXEC,
            )
        };
        if fd < 0 {
            return Err(io::Error::last_os_error().into());
        }
        // SAFETY: `fd` is a fresh descriptor nothing else owns.
        Ok(unsafe { OwnedFd::from_raw_fd(fd) })
    }

    /// `name` in `at`, never following a link (`O_NOFOLLOW`: a link is `ELOOP`).
    fn openat(at: &OwnedFd, name: &OsStr, flags: i32) -> Result<OwnedFd, FileInputError> {
        let name = CString::new(name.as_bytes())
            .map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
        // SAFETY: a valid directory descriptor and NUL-terminated name.
        let fd = unsafe {
            libc::openat(
                at.as_raw_fd(),
                name.as_ptr(),
                flags | libc::O_RDONLY | libc::O_NOFOLLOW | libc::O_CLOEXEC,
            )
        };
        if fd < 0 {
            let error = io::Error::last_os_error();
            return Err(match error.raw_os_error() {
                Some(libc::ELOOP) => FileInputError::Link,
                _ => error.into(),
            });
        }
        // SAFETY: `fd` is a fresh descriptor nothing else owns.
        Ok(unsafe { OwnedFd::from_raw_fd(fd) })
    }

    #[derive(Clone, Copy, PartialEq)]
    enum Want {
        Dir,
        File,
    }

    /// Refuses `name` in `at` unless it is what is wanted, looked at without following a link
    /// and before opening it (opening a device can have effects of its own).
    fn refuse_unless(at: &OwnedFd, name: &OsStr, want: Want) -> Result<(), FileInputError> {
        let c_name = CString::new(name.as_bytes())
            .map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
        // SAFETY: `stat` is plain old data, filled by `fstatat` before it is read.
        let mut stat: libc::stat = unsafe { std::mem::zeroed() };
        // SAFETY: a valid directory descriptor, NUL-terminated name and out pointer.
        let rc = unsafe {
            libc::fstatat(
                at.as_raw_fd(),
                c_name.as_ptr(),
                &mut stat,
                libc::AT_SYMLINK_NOFOLLOW,
            )
        };
        if rc != 0 {
            return Err(io::Error::last_os_error().into());
        }
        let kind = match stat.st_mode & libc::S_IFMT {
            libc::S_IFLNK => return Err(FileInputError::Link),
            libc::S_IFREG if want == Want::File => return Ok(()),
            libc::S_IFDIR if want == Want::Dir => return Ok(()),
            libc::S_IFREG => "a regular file where a folder was expected",
            libc::S_IFDIR => "a directory",
            libc::S_IFIFO => "a named pipe (FIFO)",
            libc::S_IFCHR => "a character device",
            libc::S_IFBLK => "a block device",
            libc::S_IFSOCK => "a socket",
            _ => "not a regular file",
        };
        Err(FileInputError::NotRegular { kind })
    }
}

#[cfg(not(unix))]
mod imp {
    use super::*;
    use std::ffi::OsStr;

    /// Without `openat`: each component's type looked at without following it, then opened.
    pub(super) fn open(
        dir: &Path,
        parents: &[&OsStr],
        last: &OsStr,
    ) -> Result<(File, u64), FileInputError> {
        let mut path = dir.to_path_buf();
        for name in parents {
            path.push(name);
            let meta = std::fs::symlink_metadata(&path)?;
            if meta.file_type().is_symlink() {
                return Err(FileInputError::Link);
            }
            if !meta.is_dir() {
                return Err(FileInputError::NotRegular {
                    kind: "not a directory",
                });
            }
        }
        path.push(last);
        if std::fs::symlink_metadata(&path)?.file_type().is_symlink() {
            return Err(FileInputError::Link);
        }
        file_input::open_regular(&path)
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;
    use std::time::{Duration, Instant};

    #[test]
    fn only_regular_files_inside_the_folder_are_read() {
        let tmp = tempfile::tempdir().unwrap();
        let secret = tmp.path().join("id_rsa");
        std::fs::write(&secret, "PRIVATE KEY").unwrap();
        let dir = tmp.path().join("ev");
        std::fs::create_dir_all(dir.join("artifacts/c")).unwrap();
        std::fs::write(dir.join("artifacts/c/shot.png"), "png").unwrap();
        symlink(&secret, dir.join("artifacts/c/linked.png")).unwrap();
        symlink(tmp.path(), dir.join("linked-dir")).unwrap();
        symlink("/dev/zero", dir.join("zero.png")).unwrap();
        let fifo = std::ffi::CString::new(dir.join("summary.json").to_str().unwrap()).unwrap();
        // SAFETY: a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o600) }, 0);

        assert_eq!(read(&dir, "artifacts/c/shot.png", 10).unwrap(), b"png");
        assert_eq!(read(&dir, "./artifacts/c/shot.png", 10).unwrap(), b"png");
        let started = Instant::now();
        for (relative, want) in [
            ("artifacts/c/linked.png", "symbolic link"),
            ("linked-dir/id_rsa", "symbolic link"),
            ("zero.png", "symbolic link"),
            ("summary.json", "named pipe"),
            ("artifacts", "a directory"),
            ("artifacts/c/shot.png/x", "where a folder was expected"),
            ("../id_rsa", "leaves the folder"),
            (secret.to_str().unwrap(), "leaves the folder"),
            ("", "leaves the folder"),
        ] {
            let err = read(&dir, relative, FILE_CAP).unwrap_err().to_string();
            assert!(err.contains(want), "{relative}: {err}");
        }
        assert!(started.elapsed() < Duration::from_secs(1));
        assert!(matches!(
            read(&dir, "artifacts/c/shot.png", 2),
            Err(FileInputError::TooLarge { size: 3, cap: 2 })
        ));
        assert!(read(&dir, "missing", 2).unwrap_err().is_not_found());
        // The folder itself is what the user named: a link to it is followed.
        let named = tmp.path().join("named");
        symlink(&dir, &named).unwrap();
        assert_eq!(read(&named, "artifacts/c/shot.png", 10).unwrap(), b"png");
    }
}
