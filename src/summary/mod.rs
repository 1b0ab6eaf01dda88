//! `summary.json` as one typed document, used both to write it ([`crate::report::json`] fills
//! it from a finished run) and to read it back ([`crate::evidence::archive`]), and from which
//! docs/summary.schema.json is generated ([`json_schema`]; a test keeps the committed file
//! equal to it).
//!
//! `verdict` depends on the outcomes only — no clock, no durations, no evidence paths — so the
//! same outcomes give the same bytes ([`render_verdict`]). Everything that changes from run to
//! run lives under `run`. Key order is fixed (field order). Folders written by earlier
//! versions are read through [`legacy`], the one place that knows how they differ.

pub mod legacy;

use crate::config::Mode;
use crate::invocation::Invocation;
use crate::lock::MatrixRecord;
use crate::outcome::{Failure, Level, Missing, Status};
use crate::verdict::{Counts, Decision};
use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The schema this version writes.
pub const SCHEMA: &str = "oa-validate.summary.v4";

/// The machine-readable report of one run. `verdict` is a deterministic function of the
/// outcomes (no timestamps, durations, ports or paths); `run` carries everything that varies
/// between runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "oa-validate summary.json (oa-validate.summary.v4)")]
pub struct Summary {
    /// `oa-validate.summary.v4` (v1 to v3 folders are still read).
    pub schema: String,
    pub verdict: VerdictDoc,
    pub run: RunDoc,
}

/// What was decided, and why: the same bytes for the same outcomes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct VerdictDoc {
    pub decision: Decision,
    /// Upstream's Overall word: `passed` iff GO.
    pub overall: Overall,
    pub mode: Mode,
    /// The cutover phase the run validated (`app-surface (default)` when not given).
    pub phase: Option<String>,
    pub interrupted: bool,
    pub counts: Counts,
    pub no_go_reasons: Vec<String>,
    pub warnings: Vec<String>,
    /// Every declared check, in report order.
    pub checks: Vec<VerdictCheck>,
}

/// Upstream's SUMMARY.md word for the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Overall {
    Passed,
    Failed,
}

impl From<Decision> for Overall {
    fn from(decision: Decision) -> Self {
        match decision {
            Decision::Go => Overall::Passed,
            Decision::NoGo => Overall::Failed,
        }
    }
}

/// One check's outcome.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct VerdictCheck {
    pub id: String,
    pub lane: String,
    pub level: Level,
    pub target: Option<String>,
    pub description: String,
    /// The real status (`errored` stays `errored`, unlike results.tsv).
    pub status: Status,
    pub reason: Option<String>,
    /// What this machine lacked, for a check `not-checked`; else null. Since v4.
    #[serde(default)]
    pub missing: Option<Missing>,
    pub assertions: u64,
    pub attempts: u32,
    pub failures: Vec<Failure>,
    pub warnings: Vec<String>,
}

/// How the run went: times, tool, matrix, environment, per-check files.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RunDoc {
    /// `YYYYMMDDTHHMMSSZ`: the evidence folder's name.
    pub timestamp: String,
    /// RFC 3339.
    pub started_at: String,
    /// RFC 3339.
    pub finished_at: String,
    pub duration_ms: u64,
    pub tool_version: String,
    /// The git commit the tool was built from (`unknown` outside git). Since v3.
    #[serde(default)]
    pub tool_commit: Option<String>,
    pub jobs: usize,
    pub simulated: bool,
    /// Lane files, as displayed.
    pub lanes: Vec<String>,
    /// The matrix's lock and whether the run matched it. Since v3.
    #[serde(default)]
    pub matrix: Option<MatrixRecord>,
    /// The variables the run reports, in the runner's order: value already redacted for
    /// display, `null` when unset.
    pub environment: IndexMap<String, Option<String>>,
    /// How the run was made (what `rerun` repeats). Since v2.
    #[serde(default)]
    pub invocation: Option<Invocation>,
    pub checks: Vec<RunCheck>,
}

/// One check's run facts and files.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RunCheck {
    pub id: String,
    /// From the start of the run; null for a check no worker reached. Since v2.
    #[serde(default)]
    pub started_ms: Option<u64>,
    pub duration_ms: u64,
    /// The worker (1..=jobs) that ran it; null for a check no worker reached. Since v2.
    #[serde(default)]
    pub worker: Option<usize>,
    /// The check's log, relative to the folder.
    pub log: String,
    /// The check's HTTP archive, relative to the folder; null when it made no request.
    pub har: Option<String>,
    /// Every file the check saved, relative to the folder.
    pub artifacts: Vec<String>,
    /// Small artifacts inline, by name: JSON artifacts as JSON, others as text.
    #[serde(default)]
    pub evidence: serde_json::Map<String, serde_json::Value>,
    /// What repeats this check; may name local ports (simulated runs), hence not in `verdict`.
    pub command: String,
    /// Source excerpts around each failure's position. Since v2.
    #[serde(default)]
    pub code_frames: Vec<String>,
    /// The checks it waited for (`after:`, its serial group), by id. Absent in folders
    /// written before checks ran as soon as what they wait for ended.
    #[serde(default)]
    pub waited_for: Vec<String>,
}

/// The whole document, pretty-printed, with a trailing newline.
pub fn render(summary: &Summary) -> String {
    pretty(summary)
}

/// Only the `verdict` object, pretty-printed as a document of its own, with a trailing newline.
/// Identical bytes for identical outcomes, whatever the timestamps, durations and paths.
pub fn render_verdict(verdict: &VerdictDoc) -> String {
    pretty(verdict)
}

fn pretty(value: &impl Serialize) -> String {
    // Plain data with string keys: serde_json cannot fail here.
    let mut text = serde_json::to_string_pretty(value).expect("summary.json is serializable");
    text.push('\n');
    text
}

/// The JSON Schema of [`Summary`] as docs/summary.schema.json holds it.
pub fn json_schema() -> String {
    let mut schema =
        serde_json::to_value(schemars::schema_for!(Summary)).expect("a schema is plain JSON");
    if let Some(object) = schema.as_object_mut() {
        // The version it describes: `$id` beside `$schema`, and `schema` as a constant.
        let mut ordered = serde_json::Map::new();
        if let Some(dialect) = object.shift_remove("$schema") {
            ordered.insert("$schema".to_string(), dialect);
        }
        ordered.insert(
            "$id".to_string(),
            format!("https://openagents.com/schemas/{SCHEMA}.json").into(),
        );
        ordered.append(object);
        if let Some(field) = ordered
            .get_mut("properties")
            .and_then(|p| p.get_mut("schema"))
            .and_then(|s| s.as_object_mut())
        {
            field.shift_remove("type");
            field.insert("const".to_string(), SCHEMA.into());
        }
        *object = ordered;
    }
    pretty(&schema)
}

#[cfg(test)]
mod tests {
    /// docs/summary.schema.json is generated: `OA_WRITE_SCHEMA=1 cargo test --lib
    /// summary::tests` rewrites it after a change to these types.
    #[test]
    fn the_committed_schema_is_the_generated_one() {
        let path =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/summary.schema.json");
        let generated = super::json_schema();
        if std::env::var_os("OA_WRITE_SCHEMA").is_some() {
            std::fs::write(&path, &generated).unwrap();
        }
        let committed = std::fs::read_to_string(&path).unwrap();
        assert!(
            committed == generated,
            "docs/summary.schema.json differs from the types in src/summary: run \
             `OA_WRITE_SCHEMA=1 cargo test --lib summary::tests` and commit it"
        );
    }
}
