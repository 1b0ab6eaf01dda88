//! `logging::` — read Cloud Logging entries (`POST /v2/entries:list`,
//! `OA_LOGGING_ENDPOINT`, default `https://logging.googleapis.com`) and the error-log probe.
//!
//! Options of both functions: `project` (default `GCP_PROJECT`), `freshness` (how far back,
//! default `OA_LOG_FRESHNESS` or `10m`), `limit` (entries read, default 50, at most 1000),
//! `timeout` (default 30 s, never past the check's deadline). Credentials and errors as in
//! `cloudrun::`.

use crate::api::assert::{record_failure, record_pass};
use crate::api::{google, script_error};
use crate::engine::context;
use crate::gcp::model::{self, LogEntry};
use crate::gcp::rest::{self, Api, Call};
use crate::net::Method;
use rhai::plugin::*;
use rhai::{Array, EvalAltResult, Map, NativeCallContext};
use serde_json::{Value, json};
use std::time::Duration;

use crate::api::bind::Res;

/// Entries the probe writes to the check's log, at most.
pub const MAX_LOGGED_ENTRIES: usize = 20;
const MAX_LIMIT: usize = 1000;
const MAX_PAGES: usize = 10;
pub const DEFAULT_FRESHNESS: &str = "10m";

struct Options {
    project: String,
    freshness: Duration,
    freshness_text: String,
    limit: usize,
    timeout: Duration,
    allowlist: Option<String>,
}

fn options(ctx: &NativeCallContext, opts: Map) -> Res<Options> {
    let host = context::host().ok_or_else(|| script_error(ctx, "no host services"))?;
    let freshness_text = host
        .env
        .get_nonempty("OA_LOG_FRESHNESS")
        .unwrap_or(DEFAULT_FRESHNESS)
        .to_string();
    let mut o = Options {
        project: host
            .env
            .get_nonempty("GCP_PROJECT")
            .unwrap_or("")
            .to_string(),
        freshness: crate::duration::parse(&freshness_text)
            .map_err(|e| script_error(ctx, format!("OA_LOG_FRESHNESS={e}")))?,
        freshness_text,
        limit: 50,
        timeout: rest::CALL_TIMEOUT,
        allowlist: host
            .env
            .get_nonempty("OA_LOG_ALLOWLIST")
            .map(str::to_string),
    };
    for (key, value) in opts {
        let bad = |what: String| script_error(ctx, format!("logging option `{key}`: {what}"));
        match key.as_str() {
            "project" => o.project = value.to_string(),
            "freshness" => {
                o.freshness = crate::api::core::parse_duration(&value).map_err(bad)?;
                o.freshness_text = humantime::format_duration(o.freshness).to_string();
            }
            "limit" => {
                let n = value
                    .as_int()
                    .map_err(|_| bad("expected an integer".into()))?;
                o.limit = usize::try_from(n)
                    .ok()
                    .filter(|n| (1..=MAX_LIMIT).contains(n))
                    .ok_or_else(|| bad(format!("must be between 1 and {MAX_LIMIT}, not {n}")))?;
            }
            "timeout" => o.timeout = crate::api::core::parse_duration(&value).map_err(bad)?,
            "allowlist" => o.allowlist = Some(value.to_string()),
            other => {
                return Err(script_error(
                    ctx,
                    format!(
                        "unknown logging option `{other}` (expected project, freshness, limit, timeout, allowlist)"
                    ),
                ));
            }
        }
    }
    Ok(o)
}

/// `filter` restricted to entries newer than `freshness`.
pub fn fresh_filter(
    filter: &str,
    freshness: Duration,
    now: chrono::DateTime<chrono::Utc>,
) -> String {
    let since = chrono::Duration::from_std(freshness)
        .ok()
        .and_then(|d| now.checked_sub_signed(d))
        .unwrap_or(chrono::DateTime::<chrono::Utc>::MIN_UTC);
    let since = since.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    if filter.trim().is_empty() {
        format!("timestamp>=\"{since}\"")
    } else {
        format!("({filter}) AND timestamp>=\"{since}\"")
    }
}

/// The probe's filter: a Cloud Run service's revision logs at severity ERROR or above.
pub fn error_filter(service: &str) -> String {
    format!(
        "resource.type=\"cloud_run_revision\" AND resource.labels.service_name=\"{service}\" AND severity>=ERROR"
    )
}

fn list_entries(
    ctx: &NativeCallContext,
    filter: &str,
    o: &Options,
) -> Res<(String, Vec<LogEntry>)> {
    let project = google::segment(ctx, "GCP_PROJECT", &o.project)?;
    let filter = fresh_filter(filter, o.freshness, chrono::Utc::now());
    let items = google::with_session(ctx, Api::Logging, |session, journal| {
        rest::list(
            session,
            journal,
            "entries",
            o.limit,
            MAX_PAGES,
            |token, wanted| {
                let mut body = json!({
                    "resourceNames": [format!("projects/{project}")],
                    "filter": filter,
                    "orderBy": "timestamp desc",
                    "pageSize": wanted.min(MAX_LIMIT),
                });
                if let Some(t) = token {
                    body["pageToken"] = Value::String(t.to_string());
                }
                Call {
                    api: Api::Logging,
                    method: Method::POST,
                    path: "/v2/entries:list",
                    query: Vec::new(),
                    body: Some(body),
                    timeout: o.timeout,
                }
            },
        )
    })?;
    let mut entries: Vec<LogEntry> = items.iter().map(model::parse_log_entry).collect();
    entries.truncate(o.limit);
    // A text cut by the model ends with '…': mask a remnant of a secret left at the cut.
    if let Some(host) = context::host() {
        for e in &mut entries {
            if let Some(cut) = e.text.strip_suffix('…') {
                e.text = format!("{}…", host.services.redactor.mask_cut(cut, false, true));
            }
        }
    }
    Ok((filter, entries))
}

/// Regexes from an allow-list file: one per line; blank lines and `#` comments ignored.
/// A regular file under the cap, read until the check's deadline or an interruption.
pub fn read_allowlist(path: &str) -> Result<Vec<regex::Regex>, crate::file_input::FileInputError> {
    let text = crate::file_input::read_to_string(
        std::path::Path::new(path),
        crate::file_input::INPUT_CAP,
        &context::io_stop,
    )?;
    parse_allowlist(path, &text).map_err(crate::file_input::FileInputError::Invalid)
}

pub fn parse_allowlist(path: &str, text: &str) -> Result<Vec<regex::Regex>, String> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
        .map(|(i, l)| {
            regex::Regex::new(l.trim()).map_err(|e| format!("{path}:{}: invalid regex: {e}", i + 1))
        })
        .collect()
}

/// Splits entries at or above ERROR into (excused by the allow-list, unexcused).
pub fn classify(entries: &[LogEntry], allow: &[regex::Regex]) -> (Vec<LogEntry>, Vec<LogEntry>) {
    entries
        .iter()
        .filter(|e| model::severity_rank(&e.severity) >= model::severity_rank("ERROR"))
        .cloned()
        .partition(|e| allow.iter().any(|r| r.is_match(&e.text)))
}

fn entry_line(e: &LogEntry) -> String {
    format!(
        "{} {} [{}] {}",
        e.timestamp.as_deref().unwrap_or("-"),
        e.severity,
        e.revision
            .as_deref()
            .or(e.service.as_deref())
            .unwrap_or("-"),
        e.text
    )
}

fn to_array(ctx: &NativeCallContext, entries: &[LogEntry]) -> Res<Array> {
    entries
        .iter()
        .map(|e| rhai::serde::to_dynamic(e).map_err(|err| script_error(ctx, err.to_string())))
        .collect()
}

fn entries_impl(ctx: &NativeCallContext, filter: &str, opts: Map) -> Res<Array> {
    let o = options(ctx, opts)?;
    let (_, entries) = list_entries(ctx, filter, &o)?;
    to_array(ctx, &entries)
}

fn probe_impl(ctx: &NativeCallContext, service: &str, opts: Map) -> Res<Map> {
    let o = options(ctx, opts)?;
    let service = google::segment(ctx, "service", service)?;
    let allow = match &o.allowlist {
        Some(path) => read_allowlist(path).map_err(|e| {
            crate::api::bind::file_input_stop(ctx, &e).unwrap_or_else(|| match e {
                crate::file_input::FileInputError::Invalid(message) => script_error(ctx, message),
                e => script_error(ctx, format!("OA_LOG_ALLOWLIST {path}: cannot read it: {e}")),
            })
        })?,
        None => Vec::new(),
    };
    let (filter, entries) = list_entries(ctx, &error_filter(&service), &o)?;
    let (excused, unexcused) = classify(&entries, &allow);
    context::log(format!(
        "{} entries at ERROR or above for {service} in the last {} ({} excused by the allow-list)",
        excused.len() + unexcused.len(),
        o.freshness_text,
        excused.len()
    ));
    for e in unexcused.iter().take(MAX_LOGGED_ENTRIES) {
        context::log(format!("  {}", entry_line(e)));
    }
    if unexcused.len() > MAX_LOGGED_ENTRIES {
        context::log(format!(
            "  ... and {} more",
            unexcused.len() - MAX_LOGGED_ENTRIES
        ));
    }
    let mut summary = Map::new();
    summary.insert("service".into(), service.clone().into());
    summary.insert("filter".into(), filter.into());
    summary.insert("read".into(), (entries.len() as i64).into());
    summary.insert("excused".into(), to_array(ctx, &excused)?.into());
    summary.insert("unexcused".into(), to_array(ctx, &unexcused)?.into());
    if unexcused.is_empty() {
        record_pass(&format!(
            "no unexcused ERROR entries for {service} in the last {}",
            o.freshness_text
        ));
        Ok(summary)
    } else {
        let first = entry_line(&unexcused[0]);
        Err(record_failure(
            ctx,
            format!(
                "{} ERROR log entr{} for {service} in the last {} not excused by the allow-list{} (first: {first})",
                unexcused.len(),
                if unexcused.len() == 1 { "y" } else { "ies" },
                o.freshness_text,
                if o.allowlist.is_some() {
                    ""
                } else {
                    " (OA_LOG_ALLOWLIST unset)"
                },
            ),
            Some("0 unexcused entries".to_string()),
            Some(format!("{}", unexcused.len())),
        ))
    }
}

#[export_module]
pub mod logging_api {
    /// Log entries matching `filter` (Cloud Logging query language) newer than the freshness
    /// window, newest first: maps `timestamp`, `severity`, `text` (text payload, JSON
    /// `message`, or the request line), `log_name`, `insert_id`, `service`, `revision`, `trace`.
    #[rhai_fn(name = "entries", return_raw)]
    pub fn entries(ctx: NativeCallContext, filter: &str) -> Result<Array, Box<EvalAltResult>> {
        entries_impl(&ctx, filter, Map::new())
    }
    /// `entries(filter)` with options `project`, `freshness`, `limit`, `timeout`.
    #[rhai_fn(name = "entries", return_raw)]
    pub fn entries_with(
        ctx: NativeCallContext,
        filter: &str,
        opts: Map,
    ) -> Result<Array, Box<EvalAltResult>> {
        entries_impl(&ctx, filter, opts)
    }

    /// The error-log probe, an assertion: reads the Cloud Run revision logs of `service` at
    /// severity ERROR or above within the freshness window and fails when any entry is not
    /// excused by the allow-list (`OA_LOG_ALLOWLIST`: a file of regexes, one per line, matched
    /// against the entry text). The unexcused entries (at most 20) go to the check's log,
    /// redacted. Returns `#{service, filter, read, excused, unexcused}`.
    #[rhai_fn(name = "assert_no_errors", return_raw)]
    pub fn assert_no_errors(
        ctx: NativeCallContext,
        service: &str,
    ) -> Result<Map, Box<EvalAltResult>> {
        probe_impl(&ctx, service, Map::new())
    }
    /// `assert_no_errors(service)` with options `project`, `freshness`, `limit`, `timeout`,
    /// `allowlist` (a path; overrides `OA_LOG_ALLOWLIST`).
    #[rhai_fn(name = "assert_no_errors", return_raw)]
    pub fn assert_no_errors_with(
        ctx: NativeCallContext,
        service: &str,
        opts: Map,
    ) -> Result<Map, Box<EvalAltResult>> {
        probe_impl(&ctx, service, opts)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(severity: &str, text: &str) -> LogEntry {
        model::parse_log_entry(&json!({"severity": severity, "textPayload": text}))
    }

    #[test]
    fn allowlist_excuses_matching_entries_only() {
        let allow = parse_allowlist(
            "allow.txt",
            "# known noise\n\n^upstream connect error.*retrying$\nGoogleHC/1\\.0\n",
        )
        .unwrap();
        assert_eq!(allow.len(), 2);
        let entries = [
            entry("ERROR", "upstream connect error, retrying"),
            entry("CRITICAL", "thread 'main' panicked"),
            entry("WARNING", "slow request"),
            entry("ERROR", "GET /healthz GoogleHC/1.0 -> 500"),
        ];
        let (excused, unexcused) = classify(&entries, &allow);
        assert_eq!(excused.len(), 2);
        assert_eq!(unexcused.len(), 1);
        assert!(unexcused[0].text.contains("panicked"));
    }

    #[test]
    fn allowlist_errors_name_the_line() {
        let err = parse_allowlist("allow.txt", "ok\n(unclosed\n").unwrap_err();
        assert!(err.starts_with("allow.txt:2: invalid regex"), "{err}");
    }

    #[test]
    fn filters() {
        let now = chrono::DateTime::parse_from_rfc3339("2026-02-21T19:10:00Z")
            .unwrap()
            .with_timezone(&chrono::Utc);
        let f = fresh_filter(&error_filter("runtime"), Duration::from_secs(600), now);
        assert_eq!(
            f,
            "(resource.type=\"cloud_run_revision\" AND resource.labels.service_name=\"runtime\" AND severity>=ERROR) AND timestamp>=\"2026-02-21T19:00:00Z\""
        );
    }
}
