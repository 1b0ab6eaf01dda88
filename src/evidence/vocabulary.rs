//! The reports' own fixed text, which no secret a script marks may hold: masking it would
//! hide a report's structure (a key, a header, a status word) in every file.

use crate::evidence::exchange::{Rendered, RenderedResponse};

/// The fixed text of the reports: the summary.json schema (every key and enum value), the
/// results.tsv header, the JUnit element names and the keys of a HAR document.
pub fn report_vocabulary() -> &'static str {
    static VOCABULARY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    VOCABULARY.get_or_init(|| {
        let sample = Rendered {
            started_at: String::new(),
            method: String::new(),
            url: String::new(),
            request_headers: Vec::new(),
            request_body: Some(String::new()),
            request_content_type: None,
            response: Some(RenderedResponse {
                status: 0,
                status_text: String::new(),
                http_version: String::new(),
                headers: Vec::new(),
                body: String::new(),
                body_size: 0,
                transferred_size: 0,
                content_type: None,
                request_id: Some(String::new()),
            }),
            error: Some(String::new()),
            request_id: String::new(),
            connect_ms: None,
            ttfb_ms: 0.0,
            total_ms: 0.0,
        };
        [
            include_str!("../../docs/summary.schema.json"),
            "check_id\trequired\tstatus\tdescription\tlog_path\tcommand",
            "testsuites testsuite testcase failure skipped system-out system-err properties property",
            &crate::evidence::har::render(&[sample], "", ""),
        ]
        .join("\n")
    })
}

#[cfg(test)]
mod tests {
    use super::report_vocabulary;
    use crate::redact::Redactor;

    #[test]
    fn a_script_secret_may_not_mask_the_reports() {
        let r = Redactor::reserving(report_vocabulary);
        r.protect("control-prod-health");
        for refused in [
            "Verdict: NO-GO",
            "NO-GO-NO-GO",
            "\tfailed\t",
            "\"failed\",",
            "decision",
            "startedDateTime",
            "control-prod",
            "testcase",
        ] {
            assert!(
                r.check_script_secret(refused).is_err(),
                "{refused:?} accepted"
            );
        }
        assert!(r.check_script_secret("tok_9f8e7d6c5b4a+/=").is_ok());
    }
}
