//! Reading summary.json as written by this or an earlier version: the one place that knows
//! how the versions differ. v1 lacks `run.invocation` and, per check, `started_ms`, `worker`
//! and `code_frames`; v2 adds them; v3 adds `run.tool_commit` and `run.matrix`; v4 the status
//! `not-checked`, per check `missing` and its two counts. Fields added
//! since v1 are optional in [`Summary`], so every version reads into it as is.

use super::{SCHEMA, Summary};

/// The schema before `run.invocation`.
pub const SCHEMA_V1: &str = "oa-validate.summary.v1";
/// The schema before `run.tool_commit` and `run.matrix`.
pub const SCHEMA_V2: &str = "oa-validate.summary.v2";

/// The schema before the status `not-checked` and `missing`.
pub const SCHEMA_V3: &str = "oa-validate.summary.v3";

/// Every schema this version reads, oldest first.
pub const READABLE: [&str; 4] = [SCHEMA_V1, SCHEMA_V2, SCHEMA_V3, SCHEMA];

/// Why a summary.json cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("schema {found:?} (this version reads {})", READABLE.join(", "))]
    UnknownSchema { found: String },
    #[error("{0}")]
    Malformed(#[from] serde_json::Error),
}

/// Parses `text`, a summary.json of any readable version.
pub fn read(text: &str) -> Result<Summary, ReadError> {
    // The version first: a newer document's other fields are not this version's business.
    #[derive(serde::Deserialize)]
    struct Version {
        schema: String,
    }
    let Version { schema } = serde_json::from_str(text)?;
    if !READABLE.contains(&schema.as_str()) {
        return Err(ReadError::UnknownSchema { found: schema });
    }
    Ok(serde_json::from_str(text)?)
}
