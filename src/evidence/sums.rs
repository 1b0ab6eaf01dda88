//! `SHA256SUMS`: one line per evidence file, in the format `sha256sum -c SHA256SUMS` checks
//! when run inside the evidence folder.

use super::untrusted;
use super::write::atomic_write;
use crate::file_input::FileInputError;
use sha2::{Digest, Sha256};
use std::fs::{self, File};
use std::io;
use std::path::{Component, Path};

pub const SUMS_FILE: &str = "SHA256SUMS";

/// Hash every regular file under `dir` (recursively; symlinks and special files are not
/// followed) except `SHA256SUMS` itself, and write `SHA256SUMS` atomically: lines
/// `<64 lowercase hex>  <relative/path>`, sorted by path, `/` as separator. Returns the
/// SHA-256 of SHA256SUMS itself (lowercase hex): the evidence's own digest.
pub fn write_sha256sums(dir: &Path) -> io::Result<String> {
    let mut files = Vec::new();
    collect_files(dir, "", &mut files, &mut Vec::new())?;
    files.retain(|rel| rel != SUMS_FILE);
    files.sort();

    let mut out = String::with_capacity(files.len() * 100);
    for rel in &files {
        let digest = hash_file(&dir.join(rel))?;
        out.push_str(&sums_line(&digest, rel));
    }
    atomic_write(&dir.join(SUMS_FILE), out.as_bytes())?;
    Ok(hex::encode(Sha256::digest(out.as_bytes())))
}

/// Check `dir/SHA256SUMS` against the files: the listed paths that are missing, are not
/// regular files, or whose content changed, in the order they are listed. Empty = verified.
/// Files added after the sums were written are not reported (as with `sha256sum -c`).
///
/// The folder may come from a stranger: SHA256SUMS and every listed file are read as
/// [`untrusted`] input, so a listed path that is a link, or lies behind a linked folder, or is
/// not a regular file, is reported rather than followed or blocked on.
pub fn verify_sha256sums(dir: &Path) -> io::Result<Vec<String>> {
    let sums_path = dir.join(SUMS_FILE);
    let sums = read_sums(dir)?;
    let mut bad = Vec::new();
    for (index, line) in sums.lines().enumerate() {
        if line.is_empty() {
            continue;
        }
        let (expected, rel) = parse_sums_line(line).ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "{}:{}: not a `<sha256>  <path>` line",
                    sums_path.display(),
                    index + 1
                ),
            )
        })?;
        let path = dir.join(&rel);
        match untrusted::open(dir, &rel) {
            Ok((mut file, _)) => {
                let digest = hash_open(&mut file).map_err(|e| with_path(&path, e))?;
                if !digest.eq_ignore_ascii_case(&expected) {
                    bad.push(rel);
                }
            }
            Err(FileInputError::Io(e)) if e.kind() != io::ErrorKind::NotFound => {
                return Err(with_path(&path, e));
            }
            // Missing, a link, or not a regular file: not the file that was summed.
            Err(_) => bad.push(rel),
        }
    }
    Ok(bad)
}

/// Records the current hash of `dir/relative` in an existing `SHA256SUMS`, replacing its line
/// (or adding one) and leaving every other line as it was: a file rebuilt later is covered
/// without re-hashing, and so vouching for, files that may have changed since.
pub fn replace_entry(dir: &Path, relative: &str) -> io::Result<()> {
    let sums_path = dir.join(SUMS_FILE);
    let sums = read_sums(dir)?;
    let mut entries: Vec<(String, String)> = Vec::new();
    for line in sums.lines().filter(|l| !l.is_empty()) {
        let entry = parse_sums_line(line).ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "{}: not a `<sha256>  <path>` line: {line}",
                    sums_path.display()
                ),
            )
        })?;
        if entry.1 != relative {
            entries.push(entry);
        }
    }
    entries.push((hash_file(&dir.join(relative))?, relative.to_string()));
    entries.sort_by(|a, b| a.1.cmp(&b.1));
    let out: String = entries
        .iter()
        .map(|(digest, rel)| sums_line(digest, rel))
        .collect();
    atomic_write(&sums_path, out.as_bytes())
}

/// What lies under `dir` that `SHA256SUMS` does not vouch for, sorted: regular files it does
/// not list (itself aside), and whatever is neither a regular file nor a folder (a link, a
/// FIFO), never followed.
pub fn unlisted(dir: &Path) -> io::Result<Vec<String>> {
    let listed: std::collections::HashSet<String> = read_sums(dir)?
        .lines()
        .filter_map(parse_sums_line)
        .map(|(_, rel)| rel)
        .collect();
    let mut files = Vec::new();
    let mut others = Vec::new();
    collect_files(dir, "", &mut files, &mut others)?;
    files.retain(|rel| rel != SUMS_FILE && !listed.contains(rel));
    files.extend(others);
    files.sort();
    Ok(files)
}

/// Relative paths (with `/`) of the regular files under `dir/prefix` into `out`, of anything
/// else that is not a folder into `others`.
fn collect_files(
    root: &Path,
    prefix: &str,
    out: &mut Vec<String>,
    others: &mut Vec<String>,
) -> io::Result<()> {
    let dir = if prefix.is_empty() {
        root.to_path_buf()
    } else {
        root.join(prefix)
    };
    for entry in fs::read_dir(&dir).map_err(|e| with_path(&dir, e))? {
        let entry = entry.map_err(|e| with_path(&dir, e))?;
        let name = entry.file_name().into_string().map_err(|name| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("{}: file name is not UTF-8", dir.join(name).display()),
            )
        })?;
        let rel = if prefix.is_empty() {
            name
        } else {
            format!("{prefix}/{name}")
        };
        let file_type = entry.file_type().map_err(|e| with_path(&entry.path(), e))?;
        if file_type.is_dir() {
            collect_files(root, &rel, out, others)?;
        } else if file_type.is_file() {
            out.push(rel);
        } else {
            others.push(rel);
        }
    }
    Ok(())
}

/// `dir/SHA256SUMS` as text: a regular file inside `dir`, bounded (see [`untrusted`]).
fn read_sums(dir: &Path) -> io::Result<String> {
    let sums_path = dir.join(SUMS_FILE);
    untrusted::read_to_string(dir, SUMS_FILE, untrusted::FILE_CAP).map_err(|e| match e {
        FileInputError::Io(e) => with_path(&sums_path, e),
        other => io::Error::new(
            io::ErrorKind::InvalidData,
            format!("{}: {other}", sums_path.display()),
        ),
    })
}

/// Lowercase hex SHA-256 of a file, read in chunks.
fn hash_file(path: &Path) -> io::Result<String> {
    File::open(path)
        .and_then(|mut file| hash_open(&mut file))
        .map_err(|e| with_path(path, e))
}

fn hash_open(file: &mut File) -> io::Result<String> {
    let mut hasher = Sha256::new();
    io::copy(file, &mut hasher)?;
    Ok(hex::encode(hasher.finalize()))
}

/// GNU coreutils escapes names holding `\`, newline or carriage return: the line then starts
/// with a `\` and those characters are written `\\`, `\n`, `\r`.
fn sums_line(digest: &str, rel: &str) -> String {
    if rel.contains(['\\', '\n', '\r']) {
        let escaped = rel
            .replace('\\', "\\\\")
            .replace('\n', "\\n")
            .replace('\r', "\\r");
        format!("\\{digest}  {escaped}\n")
    } else {
        format!("{digest}  {rel}\n")
    }
}

/// `(digest, relative path)`; `None` for a malformed line or a path leaving the folder.
fn parse_sums_line(line: &str) -> Option<(String, String)> {
    let (escaped, line) = match line.strip_prefix('\\') {
        Some(rest) => (true, rest),
        None => (false, line),
    };
    let digest = line.get(..64)?;
    if !digest.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    // "  path" (text mode, what we write) or " *path" (binary mode).
    let rel = line
        .get(64..)?
        .strip_prefix("  ")
        .or_else(|| line.get(64..)?.strip_prefix(" *"))?;
    let rel = if escaped {
        unescape(rel)?
    } else {
        rel.to_string()
    };
    let inside = !rel.is_empty()
        && Path::new(&rel)
            .components()
            .all(|c| matches!(c, Component::Normal(_) | Component::CurDir));
    inside.then(|| (digest.to_string(), rel))
}

fn unescape(text: &str) -> Option<String> {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next()? {
                '\\' => out.push('\\'),
                'n' => out.push('\n'),
                'r' => out.push('\r'),
                _ => return None,
            }
        } else {
            out.push(c);
        }
    }
    Some(out)
}

fn with_path(path: &Path, e: io::Error) -> io::Error {
    io::Error::new(e.kind(), format!("{}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::{Command, Output};

    fn sha256sum_check(dir: &Path) -> Output {
        Command::new("sha256sum")
            .args(["-c", SUMS_FILE])
            .current_dir(dir)
            .output()
            .expect("coreutils sha256sum runs")
    }

    fn evidence_folder() -> tempfile::TempDir {
        let tmp = tempfile::tempdir().expect("tempdir");
        let dir = tmp.path();
        fs::write(dir.join("results.tsv"), "check_id\trequired\n").expect("write");
        fs::write(
            dir.join("SUMMARY.md"),
            "# Rust Staging/Prod Validation Matrix\n",
        )
        .expect("w");
        fs::create_dir_all(dir.join("logs")).expect("mkdir");
        fs::write(
            dir.join("logs/control-staging-health.log"),
            "GET /readyz 200\n",
        )
        .expect("w");
        fs::create_dir_all(dir.join("artifacts/control-staging-smoke/shots")).expect("mkdir");
        fs::write(
            dir.join("artifacts/control-staging-smoke/shots/login.png"),
            [0u8, 159, 146, 150, 255],
        )
        .expect("w");
        fs::create_dir_all(dir.join("http/empty")).expect("mkdir");
        tmp
    }

    #[test]
    fn sha256sum_accepts_the_file_and_catches_a_changed_byte() {
        let tmp = evidence_folder();
        let dir = tmp.path();
        write_sha256sums(dir).expect("write sums");

        let sums = fs::read_to_string(dir.join(SUMS_FILE)).expect("read sums");
        let paths: Vec<&str> = sums.lines().map(|l| &l[66..]).collect();
        assert_eq!(
            paths,
            [
                "SUMMARY.md",
                "artifacts/control-staging-smoke/shots/login.png",
                "logs/control-staging-health.log",
                "results.tsv",
            ]
        );
        for line in sums.lines() {
            assert_eq!(&line[64..66], "  ");
            assert!(
                line[..64]
                    .bytes()
                    .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
            );
        }
        // sha256("check_id\trequired\n"), independently of our code.
        let expected_tsv = format!("{:x}  results.tsv", Sha256::digest(b"check_id\trequired\n"));
        assert!(sums.lines().any(|l| l == expected_tsv));

        let ok = sha256sum_check(dir);
        assert!(
            ok.status.success(),
            "{}",
            String::from_utf8_lossy(&ok.stdout)
        );
        assert!(verify_sha256sums(dir).expect("verify").is_empty());

        // Writing again is stable (SHA256SUMS does not hash itself).
        write_sha256sums(dir).expect("rewrite sums");
        assert_eq!(fs::read_to_string(dir.join(SUMS_FILE)).expect("read"), sums);

        let log = dir.join("logs/control-staging-health.log");
        let mut bytes = fs::read(&log).expect("read log");
        bytes[0] ^= 1;
        fs::write(&log, bytes).expect("tamper");
        let failed = sha256sum_check(dir);
        assert!(!failed.status.success());
        assert!(
            String::from_utf8_lossy(&failed.stdout)
                .contains("logs/control-staging-health.log: FAILED")
        );
        assert_eq!(
            verify_sha256sums(dir).expect("verify"),
            ["logs/control-staging-health.log"]
        );

        fs::remove_file(dir.join("results.tsv")).expect("remove");
        assert_eq!(
            verify_sha256sums(dir).expect("verify"),
            ["logs/control-staging-health.log", "results.tsv"]
        );
    }

    #[test]
    fn awkward_file_names_round_trip_through_sha256sum() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let dir = tmp.path();
        for name in ["back\\slash.log", "new\nline.log", "with space.log"] {
            fs::write(dir.join(name), name).expect("write");
        }
        write_sha256sums(dir).expect("write sums");
        let sums = fs::read_to_string(dir.join(SUMS_FILE)).expect("read");
        assert!(sums.contains("  back\\\\slash.log\n"));
        assert!(sums.contains("  new\\nline.log\n"));
        assert!(sums.starts_with('\\'));
        let ok = sha256sum_check(dir);
        assert!(
            ok.status.success(),
            "{}",
            String::from_utf8_lossy(&ok.stdout)
        );
        assert!(verify_sha256sums(dir).expect("verify").is_empty());
    }

    #[test]
    fn malformed_or_escaping_lines_are_refused() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let dir = tmp.path();
        let digest = "0".repeat(64);
        for bad in [
            "not a sums line".to_string(),
            format!("{digest}  ../outside"),
            format!("{digest}  /etc/passwd"),
            format!("{digest} one-space"),
        ] {
            fs::write(dir.join(SUMS_FILE), format!("{bad}\n")).expect("write");
            let err = verify_sha256sums(dir).expect_err(&bad);
            assert_eq!(err.kind(), io::ErrorKind::InvalidData, "{bad}");
            assert!(err.to_string().contains("SHA256SUMS:1:"), "{err}");
        }
        fs::remove_file(dir.join(SUMS_FILE)).expect("remove");
        let err = verify_sha256sums(dir).expect_err("no sums file");
        assert_eq!(err.kind(), io::ErrorKind::NotFound);
        assert!(err.to_string().contains(SUMS_FILE));
    }
}
