//! The code frames of a finished check (`--> file:line:col`, the line, a caret), kept in
//! summary.json so reports show them without the lane sources at hand.

use crate::diagnostic::code_frame;
use crate::outcome::{CheckResult, SourcePos, Status};
use std::collections::HashMap;

/// Fills in `code_frames` of every result from the lane and stdlib sources.
pub fn fill(results: &mut [CheckResult], sources: &HashMap<String, String>) {
    for result in results {
        result.code_frames = code_frames(result, sources);
    }
}

/// One frame per failure with a position, or, for a check that errored without a recorded
/// failure, the frame of the error (its reason starts with the position).
pub fn code_frames(result: &CheckResult, sources: &HashMap<String, String>) -> Vec<String> {
    let frame = |message: &str, pos: &SourcePos| {
        code_frame(message, pos, sources.get(&pos.file).map(String::as_str))
    };
    if !matches!(result.status, Status::Failed | Status::Errored) {
        return Vec::new();
    }
    let from_failures: Vec<String> = result
        .failures
        .iter()
        .filter_map(|f| f.position.as_ref().map(|pos| frame(&f.message, pos)))
        .collect();
    if !from_failures.is_empty() {
        return from_failures;
    }
    match (&result.reason_at, result.reason.as_deref()) {
        (Some(pos), Some(reason)) => vec![frame(reason_message(reason, pos), pos)],
        _ => Vec::new(),
    }
}

/// The reason's message without the position it starts with (`file:line:col: message`).
pub fn reason_message<'r>(reason: &'r str, at: &SourcePos) -> &'r str {
    reason.strip_prefix(&format!("{at}: ")).unwrap_or(reason)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::fixture::fixture;

    #[test]
    fn failures_and_errors_get_frames_with_the_source_line() {
        let fixture = fixture();
        let sources: HashMap<String, String> = [(
            "lanes/control.rhai".to_string(),
            (1..=20).map(|i| format!("line {i}\n")).collect(),
        )]
        .into();
        let frames = code_frames(&fixture.results[1], &sources);
        assert_eq!(frames.len(), 1);
        assert!(
            frames[0].contains("--> lanes/control.rhai:12:9"),
            "{}",
            frames[0]
        );
        assert!(frames[0].contains("12 | line 12"), "{}", frames[0]);
        assert!(
            code_frames(&fixture.results[0], &sources).is_empty(),
            "passed"
        );

        let mut errored = fixture.results[2].clone();
        errored.failures.clear();
        errored.reason = Some("lanes/control.rhai:3:5: function not found: gett".to_string());
        errored.reason_at = Some(SourcePos {
            file: "lanes/control.rhai".to_string(),
            line: 3,
            column: 5,
        });
        let frames = code_frames(&errored, &sources);
        assert!(
            frames[0].starts_with("error: function not found: gett\n"),
            "{frames:?}"
        );
        assert!(frames[0].contains("3 | line 3"), "{frames:?}");
        errored.reason = Some("timed out".to_string());
        errored.reason_at = None;
        assert!(code_frames(&errored, &sources).is_empty());
    }

    #[test]
    fn a_reason_loses_only_the_position_it_starts_with() {
        let at = SourcePos {
            file: "stdlib/htmx.rhai".to_string(),
            line: 198,
            column: 14,
        };
        assert_eq!(
            reason_message("stdlib/htmx.rhai:198:14: browser: not true", &at),
            "browser: not true"
        );
        assert_eq!(reason_message("RUN_X=0", &at), "RUN_X=0");
    }
}
