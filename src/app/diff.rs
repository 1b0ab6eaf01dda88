//! `oa-validate diff OLD NEW`: what changed between two evidence folders, as text, Markdown or
//! JSON; exit 1 when a required check regressed.

use crate::cli::DiffFormat;
use crate::config::{DiffConfig, UsageError};
use crate::diff::{self, Threshold};
use crate::evidence::archive::Archive;
use crate::exit_code;
use crate::redact::Redactor;
use std::path::Path;

pub fn diff(config: &DiffConfig) -> Result<i32, UsageError> {
    let load = |dir: &Path| Archive::load(dir).map_err(|e| UsageError(e.to_string()));
    let (old, new) = (load(&config.old)?, load(&config.new)?);
    let threshold = Threshold {
        percent: config.perf_threshold_percent,
        min_ms: config.perf_min_ms,
    };
    let diff = diff::compare(&old, &new, threshold);
    let text = match config.format {
        DiffFormat::Text => diff::render_text(&diff),
        DiffFormat::Md => diff::render_markdown(&diff),
        DiffFormat::Json => {
            let mut json = serde_json::to_string_pretty(&diff).expect("the diff serializes");
            json.push('\n');
            json
        }
    };
    // Both folders were redacted when written; today's secrets are masked too, as in any output.
    let redactor = Redactor::new();
    redactor.add_all(config.secrets.iter().map(String::as_str));
    super::say_refused(&config.old, &old.refusals(), &redactor);
    super::say_refused(&config.new, &new.refusals(), &redactor);
    print!("{}", redactor.redact(&text));
    Ok(if diff.regressions.is_empty() {
        exit_code::GO
    } else {
        exit_code::NO_GO
    })
}
