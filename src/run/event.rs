//! Typed events of a run. Every report consumes these; none parses printed text.

use crate::evidence::exchange::Exchange;
use crate::outcome::CheckResult;

/// What a check left behind besides its outcome: its log, HTTP exchanges and artifacts.
#[derive(Debug, Default, Clone)]
pub struct CheckEvidence {
    pub log: Vec<String>,
    pub exchanges: Vec<Exchange>,
    /// (file name, content) saved under `artifacts/<check_id>/`.
    pub artifacts: Vec<(String, String)>,
    /// (file name, bytes) saved unchanged under `artifacts/<check_id>/` (screenshots).
    pub files: Vec<(String, Vec<u8>)>,
}

#[derive(Debug, Clone)]
pub enum Event {
    /// The plan is fixed: this many checks will each produce exactly one `CheckFinished`.
    RunStarted {
        total: usize,
    },
    CheckStarted {
        index: usize,
        id: String,
    },
    /// `index` is the check's position in report order.
    CheckFinished {
        index: usize,
        result: Box<CheckResult>,
        evidence: Box<CheckEvidence>,
    },
    /// SIGINT/SIGTERM arrived; remaining checks end as errored.
    Interrupted,
}
