//! Reading a file that a script or the command line names (a perf baseline, a log allow-list,
//! backup evidence and the backup it points to, a lane or a module, a credentials file): only
//! a regular file, never more than a cap, in chunks that stop at a deadline or interruption.
//!
//! A plain `read_to_string` of a FIFO blocks until a writer comes, and of `/dev/zero` never
//! ends; neither honours a check's timeout or SIGTERM, so a lane could hang the gate for as
//! long as the process lived (issue 13, finding 3). The type is checked before the file is
//! opened (opening a device can have effects of its own) and again on the open handle, which
//! is opened non-blocking so that even a file swapped for a FIFO in between cannot block.

use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

/// The largest text input read whole: far above any baseline, allow-list, evidence file, lane
/// or module, far below what would hurt the process.
pub const INPUT_CAP: u64 = 8 * 1024 * 1024;

/// Bytes read between two looks at the deadline and the interruption signal.
const CHUNK: usize = 64 * 1024;

/// Why reading stopped before the end of the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    /// The check's deadline passed.
    Deadline,
    /// The run was interrupted (SIGINT/SIGTERM).
    Interrupted,
}

/// Why a file input could not be read.
#[derive(Debug)]
pub enum FileInputError {
    /// Opening or reading failed (not found, permission denied, ...).
    Io(io::Error),
    /// Not a regular file: reading it could block forever or never end.
    NotRegular { kind: &'static str },
    /// A symbolic link where only the folder's own files are read (an evidence folder).
    Link,
    /// A path that would leave the folder it must stay in (absolute, `..`, empty).
    Outside,
    /// Larger than the cap.
    TooLarge { size: u64, cap: u64 },
    /// Stopped by the deadline or an interruption.
    Stopped(Stop),
    /// Read, but its content is not what the caller accepts (the caller's message).
    Invalid(String),
}

impl FileInputError {
    pub fn is_not_found(&self) -> bool {
        matches!(self, FileInputError::Io(e) if e.kind() == io::ErrorKind::NotFound)
    }
}

impl std::error::Error for FileInputError {}

impl std::fmt::Display for FileInputError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FileInputError::Io(e) => write!(f, "{e}"),
            FileInputError::NotRegular { kind } => {
                write!(
                    f,
                    "it is {kind}, not a regular file (refused: it could block or never end)"
                )
            }
            FileInputError::Link => write!(
                f,
                "it is a symbolic link (refused: only the folder's own files are read)"
            ),
            FileInputError::Outside => write!(f, "the path leaves the folder (refused)"),
            FileInputError::TooLarge { size, cap } => {
                write!(
                    f,
                    "it holds {size} bytes, more than the {cap} bytes accepted"
                )
            }
            FileInputError::Stopped(Stop::Deadline) => write!(f, "the check ran out of time"),
            FileInputError::Stopped(Stop::Interrupted) => write!(f, "the run was interrupted"),
            FileInputError::Invalid(message) => write!(f, "{message}"),
        }
    }
}

impl From<io::Error> for FileInputError {
    fn from(e: io::Error) -> Self {
        FileInputError::Io(e)
    }
}

/// What `metadata` says the file is, when it is not a regular file.
pub(crate) fn irregular_kind(meta: &std::fs::Metadata) -> Option<&'static str> {
    let t = meta.file_type();
    if t.is_file() {
        return None;
    }
    if t.is_dir() {
        return Some("a directory");
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if t.is_fifo() {
            return Some("a named pipe (FIFO)");
        }
        if t.is_char_device() {
            return Some("a character device");
        }
        if t.is_block_device() {
            return Some("a block device");
        }
        if t.is_socket() {
            return Some("a socket");
        }
    }
    Some("not a regular file")
}

/// Opens `path` (following symlinks) if it is a regular file; returns it with its size.
pub fn open_regular(path: &Path) -> Result<(File, u64), FileInputError> {
    let meta = std::fs::metadata(path)?;
    if let Some(kind) = irregular_kind(&meta) {
        return Err(FileInputError::NotRegular { kind });
    }
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY);
    }
    let file = options.open(path)?;
    // Checked again on the handle: the path may have been swapped since.
    let meta = file.metadata()?;
    if let Some(kind) = irregular_kind(&meta) {
        return Err(FileInputError::NotRegular { kind });
    }
    Ok((file, meta.len()))
}

/// Feeds `chunk` with the whole file at `path` (a regular file of any size), asking `stop`
/// between chunks whether to give up. Returns the number of bytes read.
pub fn for_each_chunk(
    path: &Path,
    stop: &dyn Fn() -> Option<Stop>,
    chunk: impl FnMut(&[u8]),
) -> Result<u64, FileInputError> {
    let (mut file, _) = open_regular(path)?;
    read_chunks(&mut file, stop, chunk)
}

/// Feeds `chunk` with the rest of an open file, asking `stop` between chunks (see
/// [`for_each_chunk`]).
pub fn read_chunks(
    file: &mut File,
    stop: &dyn Fn() -> Option<Stop>,
    mut chunk: impl FnMut(&[u8]),
) -> Result<u64, FileInputError> {
    let mut buf = vec![0u8; CHUNK];
    let mut total = 0u64;
    loop {
        if let Some(why) = stop() {
            return Err(FileInputError::Stopped(why));
        }
        let n = match file.read(&mut buf) {
            Ok(0) => return Ok(total),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e.into()),
        };
        total += n as u64;
        chunk(&buf[..n]);
    }
}

/// The bytes of the regular file at `path`, refused above `cap` bytes (also when it grows
/// past the cap while being read).
pub fn read(
    path: &Path,
    cap: u64,
    stop: &dyn Fn() -> Option<Stop>,
) -> Result<Vec<u8>, FileInputError> {
    let (file, size) = open_regular(path)?;
    read_open(file, size, cap, stop)
}

/// The bytes of `file`, an open regular file of `size` bytes (see [`read`]).
pub fn read_open(
    mut file: File,
    size: u64,
    cap: u64,
    stop: &dyn Fn() -> Option<Stop>,
) -> Result<Vec<u8>, FileInputError> {
    if size > cap {
        return Err(FileInputError::TooLarge { size, cap });
    }
    let mut bytes = Vec::with_capacity(size as usize);
    let mut over = false;
    let total = read_chunks(&mut file, stop, |chunk| {
        if bytes.len() + chunk.len() > cap as usize {
            over = true;
        } else {
            bytes.extend_from_slice(chunk);
        }
    })?;
    if over {
        return Err(FileInputError::TooLarge { size: total, cap });
    }
    Ok(bytes)
}

/// The UTF-8 text of the regular file at `path` (see [`read`]).
pub fn read_to_string(
    path: &Path,
    cap: u64,
    stop: &dyn Fn() -> Option<Stop>,
) -> Result<String, FileInputError> {
    let bytes = read(path, cap, stop)?;
    String::from_utf8(bytes).map_err(|_| {
        FileInputError::Io(io::Error::new(
            io::ErrorKind::InvalidData,
            "stream did not contain valid UTF-8",
        ))
    })
}

/// The `stop` of an input read outside a check: a regular file under the cap always ends.
pub fn never_stop() -> Option<Stop> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    fn no_stop() -> Option<Stop> {
        None
    }

    #[test]
    fn a_regular_file_is_read_and_a_larger_one_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("baseline.csv");
        std::fs::write(&path, "probe,1,2\n").unwrap();
        assert_eq!(read_to_string(&path, 100, &no_stop).unwrap(), "probe,1,2\n");
        let err = read(&path, 4, &no_stop).unwrap_err();
        assert!(
            matches!(err, FileInputError::TooLarge { size: 10, cap: 4 }),
            "{err:?}"
        );
        assert!(
            read(&dir.path().join("missing"), 4, &no_stop)
                .unwrap_err()
                .is_not_found()
        );
    }

    #[cfg(unix)]
    #[test]
    fn fifos_devices_and_directories_are_refused_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("fifo");
        let c_path = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        // SAFETY: a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c_path.as_ptr(), 0o600) }, 0);
        let started = Instant::now();
        for (path, kind) in [
            (fifo.as_path(), "a named pipe (FIFO)"),
            (Path::new("/dev/zero"), "a character device"),
            (dir.path(), "a directory"),
        ] {
            match read(path, INPUT_CAP, &no_stop) {
                Err(FileInputError::NotRegular { kind: k }) => assert_eq!(k, kind),
                other => panic!("{}: {other:?}", path.display()),
            }
        }
        assert!(started.elapsed() < Duration::from_secs(1));
        // A symlink to a device is the device.
        let link = dir.path().join("zero");
        std::os::unix::fs::symlink("/dev/zero", &link).unwrap();
        assert!(matches!(
            read(&link, INPUT_CAP, &no_stop),
            Err(FileInputError::NotRegular { .. })
        ));
    }

    #[test]
    fn a_long_read_stops_when_asked() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big");
        std::fs::write(&path, vec![0u8; 4 * CHUNK]).unwrap();
        let mut chunks = 0;
        let stop_after_two = std::cell::Cell::new(0);
        let stop = || {
            stop_after_two.set(stop_after_two.get() + 1);
            (stop_after_two.get() > 2).then_some(Stop::Interrupted)
        };
        let err = for_each_chunk(&path, &stop, |_| chunks += 1).unwrap_err();
        assert!(matches!(err, FileInputError::Stopped(Stop::Interrupted)));
        assert_eq!(chunks, 2);
    }
}
