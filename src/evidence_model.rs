//! The evidence model: what a check leaves behind while it runs — its journal (log lines and
//! HTTP exchanges, in the order they happened), its text artifacts and its files — and where
//! each goes in the evidence folder. The runner fills it; `evidence` renders and writes it.

use crate::net::{Exchange, Recorder};

/// How a check's log starts the line of a passed assertion (report.html lists them).
pub const PASSED_ASSERTION: &str = "ok: ";

/// One entry of a check's journal.
#[derive(Debug, Clone)]
pub enum Entry {
    /// A log line as written (redacted when the log is written).
    Line(String),
    /// An HTTP hop, raw: its log line and HAR entry are rendered when the check ends.
    Exchange(Box<Exchange>),
}

impl Recorder for Vec<Entry> {
    fn exchange(&mut self, exchange: Exchange) {
        self.push(Entry::Exchange(Box::new(exchange)));
    }
    fn note(&mut self, line: String) {
        self.push(Entry::Line(line));
    }
}

/// What a check left behind besides its outcome.
#[derive(Debug, Default, Clone)]
pub struct CheckEvidence {
    pub journal: Vec<Entry>,
    /// (file name, content) saved under `artifacts/<check_id>/`.
    pub artifacts: Vec<(String, String)>,
    /// (file name, bytes) saved unchanged under `artifacts/<check_id>/` (screenshots).
    pub files: Vec<(String, Vec<u8>)>,
}

impl CheckEvidence {
    /// Appends a log line.
    pub fn log(&mut self, line: impl Into<String>) {
        self.journal.push(Entry::Line(line.into()));
    }

    /// Every HTTP exchange, in order.
    pub fn exchanges(&self) -> impl Iterator<Item = &Exchange> {
        self.journal.iter().filter_map(|entry| match entry {
            Entry::Exchange(exchange) => Some(&**exchange),
            Entry::Line(_) => None,
        })
    }
}

/// `logs/<check_id>.log`: every check has one.
pub fn log_path(check_id: &str) -> String {
    format!("logs/{check_id}.log")
}

/// `http/<check_id>.har`: a check with HTTP exchanges, unless `--no-har`.
pub fn har_path(check_id: &str) -> String {
    format!("http/{check_id}.har")
}

/// `artifacts/<check_id>/<name>`: what `evidence()` and screenshots save.
pub fn artifact_path(check_id: &str, name: &str) -> String {
    format!("artifacts/{check_id}/{name}")
}

/// The longest artifact name, in bytes: a file system's limit on one name is 255 bytes
/// (`NAME_MAX`), and the atomic writer's temporary file adds `.` and `.<pid>.<n>.tmp` to it.
pub const MAX_ARTIFACT_NAME: usize = 200;

/// Why `name` cannot be an artifact's file name, or `None`. Refused: empty, a path (`/`, `\`),
/// hidden (`.…`), longer than [`MAX_ARTIFACT_NAME`] bytes, a control character (NUL ends a
/// path for the kernel; the others corrupt SHA256SUMS lines and terminals), and a name that
/// holds a secret in any form (file names are listed in SHA256SUMS and reports). The reason
/// never quotes a name that holds a secret.
pub fn artifact_name_error(name: &str, redactor: &crate::redact::Redactor) -> Option<String> {
    if redactor.contains_secret(name) {
        return Some(
            "evidence name holds a secret: refused (a file name is listed in SHA256SUMS and the reports)"
                .to_string(),
        );
    }
    if name.chars().any(char::is_control) {
        return Some(format!(
            "evidence name {name:?} holds a control character: refused"
        ));
    }
    if name.len() > MAX_ARTIFACT_NAME {
        let start: String = name.chars().take(40).collect();
        return Some(format!(
            "evidence name {start:?}… is too long: {} bytes, at most {MAX_ARTIFACT_NAME}",
            name.len()
        ));
    }
    if name.is_empty() || name.contains(['/', '\\']) || name.starts_with('.') {
        return Some(format!("evidence name {name:?} must be a plain file name"));
    }
    None
}
