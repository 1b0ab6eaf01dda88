//! Typed events of a run. Every report consumes these; none parses printed text.

use crate::evidence_model::CheckEvidence;
use crate::outcome::CheckResult;

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
