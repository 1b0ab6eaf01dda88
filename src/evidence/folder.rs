//! The evidence folder: streamed per-check files as checks end, reports and SHA256SUMS at
//! the end. Every byte written passes through the redactor.

use crate::evidence::exchange::Rendered;
use crate::evidence::{har, sums, write::atomic_write};
use crate::evidence_model::{CheckEvidence, Entry, artifact_path};
use crate::outcome::CheckResult;
use crate::redact::Redactor;
use std::io;
use std::path::{Path, PathBuf};

pub struct EvidenceFolder {
    dir: PathBuf,
    redactor: Redactor,
    /// The first write error; reported at the end instead of aborting the run mid-way.
    first_error: Option<io::Error>,
}

/// What oa-validate writes at the top of an evidence folder (temporary `.<name>.<pid>.<n>.tmp`
/// files aside): `--replace-out` empties a folder holding nothing else.
const OWN_ENTRIES: &[&str] = &[
    "SHA256SUMS",
    "SUMMARY.md",
    "summary.json",
    "results.tsv",
    "junit.xml",
    "report.html",
    "logs",
    "http",
    "artifacts",
    ".oa-validate-write-test",
];

fn is_own_entry(name: &str) -> bool {
    OWN_ENTRIES.contains(&name) || (name.starts_with('.') && name.ends_with(".tmp"))
}

/// Whether a run may write its evidence into `dir`: a missing or empty folder, yes. A folder
/// holding anything is refused (an earlier run's files would be sealed in this run's
/// SHA256SUMS, issue 13 finding 9), unless `replace` asks for it to be emptied first; even
/// then only a folder holding nothing but what oa-validate writes is emptied (never a
/// mistyped `--out ~`). With `empty`, a replaceable folder is emptied here. Errors other than
/// "not found" are left to [`EvidenceFolder::create`], which names them.
pub fn prepare_out(dir: &Path, replace: bool, empty: bool) -> Result<(), String> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(());
    };
    let mut names: Vec<String> = entries
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    if names.is_empty() {
        return Ok(());
    }
    names.sort();
    let shown = dir.display();
    if !replace {
        return Err(format!(
            "the evidence folder {shown} is not empty (it holds {}): a run never mixes its \
             evidence with another's; choose a new folder, or pass --replace-out to empty it first",
            names.iter().take(3).cloned().collect::<Vec<_>>().join(", ")
                + if names.len() > 3 { ", ..." } else { "" }
        ));
    }
    if let Some(foreign) = names.iter().find(|n| !is_own_entry(n)) {
        return Err(format!(
            "--replace-out: {shown} holds {foreign:?}, which oa-validate does not write: not \
             emptied (only an earlier run's evidence folder is replaced)"
        ));
    }
    if empty {
        for name in &names {
            let path = dir.join(name);
            // Never follows a symlink: a link named `logs` is removed, not its target.
            let removed = match std::fs::symlink_metadata(&path) {
                Ok(meta) if meta.is_dir() => std::fs::remove_dir_all(&path),
                Ok(_) => std::fs::remove_file(&path),
                Err(e) => Err(e),
            };
            removed.map_err(|e| format!("--replace-out: cannot remove {}: {e}", path.display()))?;
        }
    }
    Ok(())
}

/// A check's journal as its log shows it: each line, each HTTP exchange as its one-line
/// summary (`rendered`: the check's exchanges, rendered, in order), a line each. `-v` prints
/// the same lines on the terminal.
pub fn journal_text(evidence: &CheckEvidence, rendered: &[Rendered]) -> String {
    let mut exchanges = rendered.iter();
    let mut log = String::new();
    for entry in &evidence.journal {
        match entry {
            // A message's own line breaks start indented lines (no fake column-0 line).
            Entry::Line(line) => log.push_str(&crate::diagnostic::indent_continuations(line)),
            Entry::Exchange(_) => {
                if let Some(exchange) = exchanges.next() {
                    log.push_str(&exchange.log_line());
                }
            }
        }
        log.push('\n');
    }
    log
}

impl EvidenceFolder {
    /// Creates the folder (and its parents); fails when it cannot be created or written, or
    /// holds anything ([`prepare_out`]: emptied first with `replace`).
    pub fn create(dir: &Path, redactor: Redactor, replace: bool) -> io::Result<Self> {
        prepare_out(dir, replace, true).map_err(io::Error::other)?;
        std::fs::create_dir_all(dir)
            .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", dir.display())))?;
        let probe = dir.join(".oa-validate-write-test");
        std::fs::write(&probe, b"").map_err(|e| {
            io::Error::new(e.kind(), format!("{} is not writable: {e}", dir.display()))
        })?;
        let _ = std::fs::remove_file(&probe);
        Ok(Self {
            dir: dir.to_path_buf(),
            redactor,
            first_error: None,
        })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn write(&mut self, relative: &str, text: &str) {
        let redacted = self.redactor.redact(text);
        if let Err(e) = atomic_write(&self.dir.join(relative), redacted.as_bytes())
            && self.first_error.is_none()
        {
            self.first_error = Some(e);
        }
    }

    /// `logs/<id>.log`, `http/<id>.har`, `artifacts/<id>/*` for one finished check. Its HTTP
    /// exchanges are rendered here, once, from the raw records of the transport.
    pub fn write_check(&mut self, result: &CheckResult, evidence: &CheckEvidence) {
        let rendered: Vec<Rendered> = evidence
            .exchanges()
            .map(|e| Rendered::from_raw(e, &self.redactor))
            .collect();
        let mut log = journal_text(evidence, &rendered);
        for f in &result.failures {
            let at = f
                .position
                .as_ref()
                .map(|p| format!("{p}: "))
                .unwrap_or_default();
            let line = format!("failure: {at}{}", f.message);
            log.push_str(&crate::diagnostic::indent_continuations(&line));
            log.push('\n');
        }
        self.write(&result.log_path, &log);
        if let Some(har_path) = &result.har_path {
            let har = har::render(&rendered, env!("CARGO_PKG_VERSION"), &result.id);
            self.write(har_path, &har);
        }
        for ((_, content), path) in evidence.artifacts.iter().zip(&result.artifacts) {
            self.write(path, content);
        }
        // Binary files (screenshots) cannot be redacted as text: their producers keep secrets
        // out of them (and out of their names, which are redacted here like any path).
        for (name, bytes) in &evidence.files {
            let path = artifact_path(&result.id, &self.redactor.redact(name));
            if let Err(e) = atomic_write(&self.dir.join(&path), bytes)
                && self.first_error.is_none()
            {
                self.first_error = Some(e);
            }
        }
    }

    /// A report file at the top of the folder.
    pub fn write_report(&mut self, name: &str, text: &str) {
        self.write(name, text);
    }

    /// Writes SHA256SUMS last and returns its own SHA-256 (`sums::write_sha256sums`); or the
    /// first error of the whole run, if any.
    pub fn seal(mut self) -> io::Result<String> {
        if let Some(e) = self.first_error.take() {
            return Err(e);
        }
        sums::write_sha256sums(&self.dir)
    }
}
