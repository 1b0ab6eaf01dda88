//! The evidence model: what a check leaves behind while it runs — its journal (log lines and
//! HTTP exchanges, in the order they happened), its text artifacts and its files — and where
//! each goes in the evidence folder. The runner fills it; `evidence` renders and writes it.

use crate::net::{Exchange, Recorder};

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
