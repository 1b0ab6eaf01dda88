//! Which lane files a command plans: the files or globs named, else a whole matrix — the one
//! built into the binary, or the `*.rhai` files of `--lanes DIR` — wherever the command runs.

use super::UsageError;
use std::path::{Path, PathBuf};

/// How the default lane set is named in messages.
pub const DEFAULT_LANES: &str = "the built-in matrix (lanes/*.rhai)";

/// Where a lane's source comes from.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum LaneFile {
    /// A file on disk, as named (or found in `--lanes DIR`).
    Disk(PathBuf),
    /// A lane of the matrix built into the binary, by its path relative to `lanes/`.
    Embedded(&'static str),
}

impl LaneFile {
    /// The name positions and reports use: the path as given, or `lanes/<name>` for a
    /// built-in lane (the file it was built from).
    pub fn display(&self) -> String {
        match self {
            LaneFile::Disk(path) => path.to_string_lossy().replace('\\', "/"),
            LaneFile::Embedded(name) => format!("lanes/{name}"),
        }
    }

    /// The lane's source.
    pub fn read(&self) -> std::io::Result<String> {
        match self {
            // A regular file under the cap: a lane named on the command line could be a FIFO.
            LaneFile::Disk(path) => crate::file_input::read_to_string(
                path,
                crate::file_input::INPUT_CAP,
                &crate::file_input::never_stop,
            )
            .map_err(std::io::Error::other),
            LaneFile::Embedded(name) => crate::embedded::matrix_file(name)
                .map(str::to_string)
                .ok_or_else(|| std::io::Error::from(std::io::ErrorKind::NotFound)),
        }
    }

    pub fn is_embedded(&self) -> bool {
        matches!(self, LaneFile::Embedded(_))
    }
}

/// A whole matrix: the lanes a gate runs and a lock describes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Matrix {
    /// The matrix built into the binary (the source tree's `lanes/` when it was built).
    BuiltIn,
    /// The `*.rhai` files of `--lanes DIR`.
    Dir(PathBuf),
}

/// The name of a matrix's lock file, in its folder.
pub const LOCK_FILE: &str = "matrix.lock";

impl Matrix {
    /// Its lane files, sorted by name.
    pub fn lanes(&self) -> Result<Vec<LaneFile>, UsageError> {
        match self {
            Matrix::BuiltIn => Ok(crate::embedded::matrix_lanes()
                .map(|(name, _)| LaneFile::Embedded(name))
                .collect()),
            Matrix::Dir(dir) => {
                let entries = std::fs::read_dir(dir)
                    .map_err(|e| UsageError(format!("--lanes {}: {e}", dir.display())))?;
                // Every `*.rhai` that is not a folder is a lane, whatever its type: a FIFO or
                // a device is then refused when it is read, not silently left out.
                let mut lanes: Vec<PathBuf> = entries
                    .flatten()
                    .map(|e| e.path())
                    .filter(|p| !p.is_dir() && p.extension().is_some_and(|e| e == "rhai"))
                    .collect();
                lanes.sort();
                if lanes.is_empty() {
                    return Err(UsageError(format!(
                        "--lanes {}: no *.rhai lane files in it",
                        dir.display()
                    )));
                }
                Ok(lanes.into_iter().map(LaneFile::Disk).collect())
            }
        }
    }

    /// Every `.rhai` file of the matrix (lanes and the modules beside them, recursively):
    /// (path relative to the matrix folder, source), sorted. The lock records their digests.
    pub fn files(&self) -> Result<Vec<(String, String)>, UsageError> {
        match self {
            Matrix::BuiltIn => Ok(crate::embedded::matrix_files()
                .iter()
                .map(|(name, source)| (name.to_string(), source.to_string()))
                .collect()),
            Matrix::Dir(dir) => {
                let mut files = Vec::new();
                collect_rhai(dir, dir, 0, &mut files)
                    .map_err(|e| UsageError(format!("--lanes {}: {e}", dir.display())))?;
                files.sort();
                Ok(files)
            }
        }
    }

    /// The committed lock: its text, or `None` when there is none.
    pub fn lock_text(&self) -> Result<Option<String>, UsageError> {
        match self {
            Matrix::BuiltIn => Ok(crate::embedded::matrix_lock().map(str::to_string)),
            Matrix::Dir(dir) => {
                let path = dir.join(LOCK_FILE);
                match crate::file_input::read_to_string(
                    &path,
                    crate::file_input::INPUT_CAP,
                    &crate::file_input::never_stop,
                ) {
                    Ok(text) => Ok(Some(text)),
                    Err(e) if e.is_not_found() => Ok(None),
                    Err(e) => Err(UsageError(format!("cannot read {}: {e}", path.display()))),
                }
            }
        }
    }

    /// The folder of a `--lanes DIR` matrix (its lanes' imports stay inside it); `None` for
    /// the built-in one.
    pub fn folder(&self) -> Option<&Path> {
        match self {
            Matrix::BuiltIn => None,
            Matrix::Dir(dir) => Some(dir),
        }
    }

    /// How messages name the lock: `lanes/matrix.lock (built in)` or `DIR/matrix.lock`.
    pub fn lock_name(&self) -> String {
        match self {
            Matrix::BuiltIn => format!("lanes/{LOCK_FILE} (built in)"),
            Matrix::Dir(dir) => dir.join(LOCK_FILE).to_string_lossy().into_owned(),
        }
    }
}

/// How deep `collect_rhai` goes below the matrix folder.
const MAX_DEPTH: usize = 16;

/// The `.rhai` files under `dir`, read as bounded file inputs: only regular files (a link to
/// one is read through), under the input cap, so a FIFO or a link to `/dev/zero` is an error
/// instead of a hang or an exhausted memory (issue 20, finding 7). Linked folders are not
/// entered (a link loop cannot recurse; imports resolve by real path, see
/// `engine::modules`, so a module behind a linked folder is refused at import, not unhashed).
fn collect_rhai(
    root: &Path,
    dir: &Path,
    depth: usize,
    out: &mut Vec<(String, String)>,
) -> Result<(), String> {
    let entries = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    for entry in entries.flatten() {
        let path = entry.path();
        let is_real_dir = entry.file_type().is_ok_and(|t| t.is_dir());
        if is_real_dir {
            if depth >= MAX_DEPTH {
                return Err(format!(
                    "{}: more than {MAX_DEPTH} folders deep",
                    path.display()
                ));
            }
            collect_rhai(root, &path, depth + 1, out)?;
        } else if path.extension().is_some_and(|e| e == "rhai") {
            let relative = path
                .strip_prefix(root)
                .unwrap_or(&path)
                .to_string_lossy()
                .replace('\\', "/");
            let source = read_lane_file(&path)?;
            out.push((relative, source));
        }
    }
    Ok(())
}

/// A lane, module or lock file of a matrix folder: a regular file under the input cap.
fn read_lane_file(path: &Path) -> Result<String, String> {
    crate::file_input::read_to_string(
        path,
        crate::file_input::INPUT_CAP,
        &crate::file_input::never_stop,
    )
    .map_err(|e| format!("{}: {e}", path.display()))
}

/// The commands, for a word that is neither a file nor one of them.
const COMMANDS: &[&str] = &[
    "list", "check", "sim", "repl", "defs", "report", "diff", "rerun", "lock", "setup",
];

/// "lane file not found", with the command that word most likely meant (`oa-validate lint`
/// is not a lane file: did you mean `check`?).
fn not_found(pattern: &str) -> String {
    let mut message = format!("lane file not found: {pattern}");
    if !pattern.contains(['/', '.']) {
        // `lint` is one letter from `list`, but a linter is what it asks for.
        let suggestion = (pattern == "lint")
            .then_some("check")
            .or_else(|| crate::diagnostic::closest(pattern, COMMANDS.iter().copied()));
        match suggestion {
            Some(command) => message.push_str(&format!(
                " (nor a command: did you mean `oa-validate {command}`?)"
            )),
            None => message.push_str(&format!(
                " (nor a command; the commands: {})",
                COMMANDS.join(", ")
            )),
        }
    }
    message
}

/// The lane files of a command, in order, without duplicates.
#[derive(Debug, Clone)]
pub struct LaneSelection {
    pub files: Vec<LaneFile>,
    /// True when the lanes are a whole matrix (no lane file was named).
    pub full_matrix: bool,
    /// That matrix: the built-in one, or `--lanes DIR`.
    pub matrix: Option<Matrix>,
    /// The arguments as given (the gate names them when it refuses a subset).
    pub named: Vec<String>,
}

impl LaneSelection {
    /// The folder the lanes' imports must stay inside: a `--lanes DIR` matrix's.
    pub fn confinement(&self) -> Option<&Path> {
        self.matrix.as_ref().and_then(Matrix::folder)
    }
}

/// Resolves lane arguments (files or globs) and `--lanes DIR`; with neither, the built-in
/// matrix.
pub fn resolve_lanes(
    args: &[String],
    lanes_dir: Option<&Path>,
) -> Result<LaneSelection, UsageError> {
    if let Some(dir) = lanes_dir {
        if !args.is_empty() {
            return Err(UsageError(format!(
                "--lanes {} names a whole matrix: name lane files or --lanes, not both",
                dir.display()
            )));
        }
        let matrix = Matrix::Dir(dir.to_path_buf());
        return Ok(LaneSelection {
            files: matrix.lanes()?,
            full_matrix: true,
            matrix: Some(matrix),
            named: Vec::new(),
        });
    }
    if args.is_empty() {
        return Ok(LaneSelection {
            files: Matrix::BuiltIn.lanes()?,
            full_matrix: true,
            matrix: Some(Matrix::BuiltIn),
            named: Vec::new(),
        });
    }
    let mut lanes = Vec::new();
    for pattern in args {
        let is_glob = pattern.contains(['*', '?', '[']);
        if !is_glob {
            let path = PathBuf::from(pattern);
            if path.is_dir() {
                return Err(UsageError(format!(
                    "{pattern} is a folder: run the matrix in it with `--lanes {pattern}`"
                )));
            }
            if !path.exists() {
                return Err(UsageError(not_found(pattern)));
            }
            lanes.push(path);
            continue;
        }
        let mut matched: Vec<PathBuf> = glob::glob(pattern)
            .map_err(|e| UsageError(format!("invalid lane pattern {pattern:?}: {e}")))?
            .filter_map(Result::ok)
            .filter(|p| p.is_file())
            .collect();
        matched.sort();
        if matched.is_empty() {
            return Err(UsageError(format!("no lane files match {pattern:?}")));
        }
        lanes.extend(matched);
    }
    let mut seen = std::collections::HashSet::new();
    lanes.retain(|p| seen.insert(p.clone()));
    Ok(LaneSelection {
        files: lanes.into_iter().map(LaneFile::Disk).collect(),
        full_matrix: false,
        matrix: None,
        named: args.to_vec(),
    })
}
