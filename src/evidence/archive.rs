//! A finished evidence folder read back from disk: summary.json (any version
//! [`crate::summary::legacy`] reads) and, on demand, the files it names (perf tables, HAR request lists, screenshots). `report`,
//! `diff` and `rerun` see a folder only through this, and so only as untrusted input: every
//! file is read through [`crate::evidence::untrusted`] (regular files inside the folder, no
//! link followed, bounded), and what was refused is kept to be said.

use crate::evidence::untrusted;
use crate::file_input::FileInputError;
use crate::summary::legacy;
use crate::summary::{RunCheck, Summary, VerdictCheck};
use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// Why a folder cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: FileInputError,
    },
    #[error("{}: not a summary.json oa-validate can read: {message}", path.display())]
    Summary { path: PathBuf, message: String },
}

/// One check: its verdict entry and, when the folder has it, its run entry.
#[derive(Debug, Clone, Copy)]
pub struct CheckView<'a> {
    pub verdict: &'a VerdictCheck,
    pub run: Option<&'a RunCheck>,
}

impl CheckView<'_> {
    pub fn id(&self) -> &str {
        &self.verdict.id
    }

    /// The check's files that exist in the folder's listing, by kind.
    pub fn artifacts(&self) -> &[String] {
        self.run.map_or(&[], |r| r.artifacts.as_slice())
    }

    pub fn screenshots(&self) -> impl Iterator<Item = &String> {
        self.artifacts()
            .iter()
            .filter(|a| a.to_ascii_lowercase().ends_with(".png"))
    }
}

/// One row of a check's `perf.tsv` (`-` cells are `None`).
#[derive(Debug, Clone, PartialEq)]
pub struct PerfRow {
    pub probe: String,
    pub samples: Option<f64>,
    pub status: Option<f64>,
    pub size_bytes_max: Option<f64>,
    pub ttfb_p50: Option<f64>,
    pub ttfb_p95: Option<f64>,
    pub budget_bytes: Option<f64>,
    pub budget_ttfb_ms: Option<f64>,
    pub baseline_ttfb_ms: Option<f64>,
    pub delta_ttfb_ms: Option<f64>,
    pub passed: bool,
    pub detail: String,
}

/// The perf table of one check (one target).
#[derive(Debug, Clone)]
pub struct PerfTable {
    pub check_id: String,
    pub target: Option<String>,
    pub rows: Vec<PerfRow>,
}

/// One HTTP exchange of a check's HAR, compactly.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    pub method: String,
    pub url: String,
    /// 0 when no response arrived.
    pub status: u16,
    pub time_ms: f64,
    pub error: Option<String>,
}

pub struct Archive {
    pub dir: PathBuf,
    pub summary: Summary,
    /// Files the summary names that were refused (`path: not read: why`), in the order first
    /// asked for.
    refused: Mutex<Vec<String>>,
}

impl Archive {
    /// Reads `dir/summary.json` (a regular file inside `dir`, at most
    /// [`untrusted::SUMMARY_CAP`]); refuses schemas it does not know.
    pub fn load(dir: &Path) -> Result<Archive, ArchiveError> {
        let path = dir.join("summary.json");
        let text = untrusted::read_to_string(dir, "summary.json", untrusted::SUMMARY_CAP).map_err(
            |source| ArchiveError::Io {
                path: path.clone(),
                source,
            },
        )?;
        let summary = legacy::read(&text).map_err(|e| ArchiveError::Summary {
            path: path.clone(),
            message: e.to_string(),
        })?;
        Ok(Archive::new(dir.to_path_buf(), summary))
    }

    pub fn new(dir: PathBuf, summary: Summary) -> Archive {
        Archive {
            dir,
            summary,
            refused: Mutex::new(Vec::new()),
        }
    }

    /// Every check in report order.
    pub fn checks(&self) -> impl Iterator<Item = CheckView<'_>> {
        self.summary.verdict.checks.iter().map(|verdict| CheckView {
            verdict,
            run: self.summary.run.checks.iter().find(|r| r.id == verdict.id),
        })
    }

    pub fn check(&self, id: &str) -> Option<CheckView<'_>> {
        self.checks().find(|c| c.id() == id)
    }

    /// A file the summary names (see [`Archive::read_capped`]), at most
    /// [`untrusted::FILE_CAP`] bytes.
    pub fn read(&self, relative: &str) -> Option<Vec<u8>> {
        self.read_capped(relative, untrusted::FILE_CAP)
    }

    /// A file the summary names, read only when it is a regular file inside the folder reached
    /// without a link and at most `cap` bytes. A refusal other than a missing file or the cap
    /// is kept for [`Archive::refusals`].
    pub fn read_capped(&self, relative: &str, cap: u64) -> Option<Vec<u8>> {
        match untrusted::read(&self.dir, relative, cap) {
            Ok(bytes) => Some(bytes),
            Err(e) if e.is_not_found() || matches!(e, FileInputError::TooLarge { .. }) => None,
            Err(e) => {
                let line = format!("{relative}: not read: {e}");
                let mut refused = self.refused.lock().unwrap_or_else(|p| p.into_inner());
                if !refused.contains(&line) {
                    refused.push(line);
                }
                None
            }
        }
    }

    /// The files refused so far (`path: not read: why`): a report or a diff says so on stderr.
    pub fn refusals(&self) -> Vec<String> {
        self.refused
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// What a check asserted and saw hold, in order: its log's `ok: ` lines (empty without a
    /// log). The runner writes one such line per passed assertion (`api::assert::record_pass`);
    /// only the tool's own lines start at column 0 (a message's line breaks are indented), so
    /// a server's text cannot add an assertion here.
    pub fn assertions(&self, check: &CheckView) -> Vec<String> {
        check
            .run
            .and_then(|r| self.read(&r.log))
            .map(|bytes| {
                String::from_utf8_lossy(&bytes)
                    .lines()
                    .filter_map(|l| l.strip_prefix(crate::evidence_model::PASSED_ASSERTION))
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The perf tables (`artifacts/<id>/perf.tsv`) in report order.
    pub fn perf_tables(&self) -> Vec<PerfTable> {
        self.checks()
            .filter_map(|check| {
                let file = check
                    .artifacts()
                    .iter()
                    .find(|a| a.ends_with("/perf.tsv"))?;
                let text = String::from_utf8(self.read(file)?).ok()?;
                Some(PerfTable {
                    check_id: check.id().to_string(),
                    target: check.verdict.target.clone(),
                    rows: parse_perf_tsv(&text),
                })
            })
            .collect()
    }

    /// The requests of a check's HAR, in order (empty without a HAR).
    pub fn requests(&self, check: &CheckView) -> Vec<Request> {
        check
            .run
            .and_then(|r| r.har.as_deref())
            .and_then(|har| self.read(har))
            .map(|bytes| parse_har(&bytes))
            .unwrap_or_default()
    }
}

/// Rows of a `perf.tsv` (header names as written by `perf::check`).
pub fn parse_perf_tsv(text: &str) -> Vec<PerfRow> {
    let mut lines = text.lines();
    let Some(header) = lines.next() else {
        return Vec::new();
    };
    let columns: Vec<&str> = header.split('\t').collect();
    lines
        .filter(|line| !line.trim().is_empty())
        .map(|line| {
            let cells: Vec<&str> = line.split('\t').collect();
            let cell = |name: &str| -> &str {
                columns
                    .iter()
                    .position(|c| *c == name)
                    .and_then(|i| cells.get(i).copied())
                    .unwrap_or("-")
            };
            let number = |name: &str| cell(name).trim().parse::<f64>().ok();
            PerfRow {
                probe: cell("probe").to_string(),
                samples: number("samples"),
                status: number("status"),
                size_bytes_max: number("size_bytes_max"),
                ttfb_p50: number("ttfb_ms_p50"),
                ttfb_p95: number("ttfb_ms_p95"),
                budget_bytes: number("budget_bytes"),
                budget_ttfb_ms: number("budget_ttfb_ms"),
                baseline_ttfb_ms: number("baseline_ttfb_ms"),
                delta_ttfb_ms: number("delta_ttfb_ms"),
                passed: cell("result") == "pass",
                detail: cell("detail").to_string(),
            }
        })
        .collect()
}

#[derive(Deserialize)]
struct Har {
    log: HarLog,
}

#[derive(Deserialize)]
struct HarLog {
    #[serde(default)]
    entries: Vec<HarEntry>,
}

#[derive(Deserialize)]
struct HarEntry {
    #[serde(default)]
    time: f64,
    request: HarRequest,
    response: HarResponse,
}

#[derive(Deserialize)]
struct HarRequest {
    method: String,
    url: String,
}

#[derive(Deserialize)]
struct HarResponse {
    #[serde(default)]
    status: u16,
    #[serde(rename = "_error", default)]
    error: Option<String>,
}

/// The exchanges of a HAR document; an unreadable one has none.
pub fn parse_har(bytes: &[u8]) -> Vec<Request> {
    let Ok(har) = serde_json::from_slice::<Har>(bytes) else {
        return Vec::new();
    };
    har.log
        .entries
        .into_iter()
        .map(|e| Request {
            method: e.request.method,
            url: e.request.url,
            status: e.response.status,
            time_ms: e.time,
            error: e.response.error,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn perf_rows_read_by_header_name_and_dashes_are_unknown() {
        let text = format!(
            "{}\nfeed\t5\t200\t52000\t1.5\t2.5\t3.0\t2.0\t3.0\t4.0\t60000\t700\t-\t260\t-\t-257.5\tpass\twithin budget\n",
            crate::api::perf::PERF_TSV_HEADER
        );
        let rows = parse_perf_tsv(&text);
        assert_eq!(rows.len(), 1);
        let row = &rows[0];
        assert_eq!(row.probe, "feed");
        assert_eq!(row.ttfb_p50, Some(1.5));
        assert_eq!(row.ttfb_p95, Some(2.5));
        assert_eq!(row.budget_ttfb_ms, Some(700.0));
        assert_eq!(row.baseline_ttfb_ms, Some(260.0));
        assert_eq!(row.delta_ttfb_ms, Some(-257.5));
        assert!(row.passed);
    }

    #[test]
    fn har_entries_become_compact_requests() {
        let exchange = crate::evidence::exchange::Rendered {
            started_at: "2026-01-01T00:00:00Z".to_string(),
            method: "POST".to_string(),
            url: "http://127.0.0.1:1/login".to_string(),
            request_headers: Vec::new(),
            request_body: None,
            request_content_type: None,
            response: None,
            error: Some("connection refused".to_string()),
            request_id: "oa-1".to_string(),
            connect_ms: None,
            ttfb_ms: 0.0,
            total_ms: 3.5,
        };
        let har = crate::evidence::har::render(&[exchange], "0", "c");
        assert_eq!(
            parse_har(har.as_bytes()),
            [Request {
                method: "POST".to_string(),
                url: "http://127.0.0.1:1/login".to_string(),
                status: 0,
                time_ms: 3.5,
                error: Some("connection refused".to_string()),
            }]
        );
        assert!(parse_har(b"not json").is_empty());
    }

    #[test]
    fn paths_outside_the_folder_are_never_read() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("inside.txt"), b"ok").expect("write");
        let archive = Archive::new(
            dir.path().join("."),
            serde_json::from_value(serde_json::json!({
                "schema": legacy::SCHEMA_V1,
                "verdict": {"decision": "GO", "overall": "passed", "mode": "normal", "phase": null,
                    "interrupted": false, "counts": {"total": 0, "passed": 0, "required_failures": 0,
                    "optional_failures": 0, "required_skipped": 0, "optional_skipped": 0, "errored": 0},
                    "no_go_reasons": [], "warnings": [], "checks": []},
                "run": {"timestamp": "t", "started_at": "s", "finished_at": "f", "duration_ms": 0,
                    "tool_version": "0", "jobs": 1, "simulated": false, "lanes": [],
                    "environment": {}, "checks": []}
            }))
            .expect("a v1 summary"),
        );
        assert_eq!(archive.read("inside.txt").as_deref(), Some(&b"ok"[..]));
        assert_eq!(archive.read("../inside.txt"), None);
        assert_eq!(archive.read("/etc/hostname"), None);
        assert_eq!(archive.read(""), None);
    }
}
