//! `perf::` — response-time and size budgets. A probe is sent N times through the same
//! request path as `http::` (credential policy, HAR, timeouts), and its status, body size,
//! time to first byte and total time are summarised as p50 / p95 / max. `perf::check`
//! compares them with budgets, reports a baseline delta that never fails, asserts, and
//! always writes the table (`artifacts/<check_id>/perf.tsv` and the log), even when a
//! probe could not connect.

use crate::api::assert::{record_failure, record_pass};
use crate::api::bind;
use crate::api::http;
use crate::api::script_error;
use crate::engine::context;
use rhai::plugin::*;
use rhai::{Array, Dynamic, EvalAltResult, Map, NativeCallContext};
use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::api::bind::Res;

/// Samples per probe when neither the call nor `OA_PERF_SAMPLES` says otherwise.
pub const DEFAULT_SAMPLES: usize = 5;
/// Bound on samples, so a typo cannot turn a check into a load test.
pub const MAX_SAMPLES: usize = 100;
/// Probe keys that belong to `perf::`; the rest are `http::` options.
const PROBE_KEYS: &[&str] = &[
    "name",
    "url",
    "method",
    "max_bytes",
    "max_ttfb_ms",
    "max_samples",
];
/// Time kept back when waiting out a 429's retry delay, for the retry itself.
const RETRY_MARGIN: std::time::Duration = std::time::Duration::from_secs(5);

/// Nearest-rank percentile of sorted values (`q` in 0..=1).
pub fn percentile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = (q * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// p50 / p95 / max of some values.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Spread {
    pub p50: f64,
    pub p95: f64,
    pub max: f64,
}

impl Spread {
    pub fn of(values: &[f64]) -> Spread {
        let mut sorted = values.to_vec();
        sorted.sort_by(f64::total_cmp);
        Spread {
            p50: percentile(&sorted, 0.50),
            p95: percentile(&sorted, 0.95),
            max: sorted.last().copied().unwrap_or(f64::NAN),
        }
    }

    fn get(&self, stat: &str) -> f64 {
        match stat {
            "p50" => self.p50,
            "max" => self.max,
            _ => self.p95,
        }
    }

    fn to_map(self) -> Map {
        let mut m = Map::new();
        m.insert("p50".into(), round(self.p50).into());
        m.insert("p95".into(), round(self.p95).into());
        m.insert("max".into(), round(self.max).into());
        m
    }
}

fn round(ms: f64) -> f64 {
    (ms * 100.0).round() / 100.0
}

/// One request of a probe.
#[derive(Debug, Clone)]
pub struct Sample {
    pub status: Option<i64>,
    /// For a 429: what the service said (its error message).
    pub throttled: Option<String>,
    pub size: u64,
    pub ttfb_ms: f64,
    pub total_ms: f64,
    pub error: Option<String>,
}

/// A probe's samples and their summary.
#[derive(Debug, Clone)]
pub struct ProbeResult {
    pub name: String,
    pub samples: Vec<Sample>,
    pub ttfb: Spread,
    pub total: Spread,
    pub size: Spread,
    /// The worst status seen (highest), or `None` when no request got an answer.
    pub status: Option<i64>,
    pub errors: Vec<String>,
}

impl ProbeResult {
    fn from_samples(name: String, samples: Vec<Sample>) -> ProbeResult {
        let answered: Vec<&Sample> = samples.iter().filter(|s| s.status.is_some()).collect();
        let ttfb: Vec<f64> = answered.iter().map(|s| s.ttfb_ms).collect();
        let total: Vec<f64> = answered.iter().map(|s| s.total_ms).collect();
        let size: Vec<f64> = answered.iter().map(|s| s.size as f64).collect();
        ProbeResult {
            status: answered.iter().filter_map(|s| s.status).max(),
            errors: samples.iter().filter_map(|s| s.error.clone()).collect(),
            ttfb: Spread::of(&ttfb),
            total: Spread::of(&total),
            size: Spread::of(&size),
            name,
            samples,
        }
    }

    fn to_map(&self) -> Map {
        let mut m = Map::new();
        m.insert("name".into(), self.name.clone().into());
        m.insert("samples".into(), (self.samples.len() as i64).into());
        m.insert(
            "status".into(),
            self.status.map(Dynamic::from).unwrap_or(Dynamic::UNIT),
        );
        m.insert("ttfb_ms".into(), self.ttfb.to_map().into());
        m.insert("total_ms".into(), self.total.to_map().into());
        m.insert("size_bytes".into(), self.size.to_map().into());
        let errors: Array = self.errors.iter().cloned().map(Dynamic::from).collect();
        m.insert("errors".into(), errors.into());
        m
    }
}

/// A probe as a script declared it.
struct Probe {
    name: String,
    method: String,
    url: String,
    max_bytes: Option<f64>,
    max_ttfb_ms: Option<f64>,
    /// At most this many samples, whatever the count asked (a throttled route).
    max_samples: Option<usize>,
    http_options: Map,
}

fn read_probe(ctx: &NativeCallContext, probe: &Map) -> Res<Probe> {
    let text = |key: &str| probe.get(key).map(|v| v.to_string());
    let number = |key: &str| -> Res<Option<f64>> {
        match probe.get(key) {
            None => Ok(None),
            Some(v) => v
                .as_float()
                .or_else(|_| v.as_int().map(|i| i as f64))
                .map(Some)
                .map_err(|_| script_error(ctx, format!("perf probe `{key}` must be a number"))),
        }
    };
    let name = text("name").ok_or_else(|| script_error(ctx, "a perf probe needs a `name`"))?;
    let url =
        text("url").ok_or_else(|| script_error(ctx, format!("perf probe {name} needs a `url`")))?;
    let http_options: Map = probe
        .iter()
        .filter(|(k, _)| !PROBE_KEYS.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let max_samples = match number("max_samples")? {
        None => None,
        Some(n) if n >= 1.0 => Some(n as usize),
        Some(_) => {
            return Err(script_error(
                ctx,
                format!("perf probe {name}: `max_samples` must be at least 1"),
            ));
        }
    };
    Ok(Probe {
        max_samples,
        method: text("method").unwrap_or_else(|| "GET".to_string()),
        max_bytes: number("max_bytes")?,
        max_ttfb_ms: number("max_ttfb_ms")?,
        name,
        url,
        http_options,
    })
}

/// Samples: the call's `samples`, else `OA_PERF_SAMPLES`, else 5.
fn sample_count(ctx: &NativeCallContext, opts: &Map) -> Res<usize> {
    let from_env =
        context::host().and_then(|h| h.env.get_nonempty("OA_PERF_SAMPLES").map(str::to_string));
    let (raw, source) = match (opts.get("samples"), from_env) {
        (Some(v), _) => (v.to_string(), "samples"),
        (None, Some(v)) => (v, "OA_PERF_SAMPLES"),
        (None, None) => return Ok(DEFAULT_SAMPLES),
    };
    match raw.trim().parse::<usize>() {
        Ok(n) if (1..=MAX_SAMPLES).contains(&n) => Ok(n),
        _ => Err(script_error(
            ctx,
            format!("{source}={raw:?}: expected a whole number from 1 to {MAX_SAMPLES}"),
        )),
    }
}

/// Sends a probe `n` times (at most its `max_samples`); a connection error or timeout is a
/// failed sample, not an abort. A 429 is waited out once when its retry delay fits in the
/// check's time left; a second one ends the probe's sampling (no request is sent into a
/// throttle that already refused).
fn sample_probe(ctx: &NativeCallContext, probe: &Probe, n: usize) -> Res<ProbeResult> {
    let host = bind::in_check(ctx, "perf")?;
    let verb = format!("perf {}", probe.name);
    let n = probe.max_samples.map_or(n, |max| n.min(max));
    let mut samples = Vec::with_capacity(n);
    let mut waited = false;
    while samples.len() < n {
        let spec = http::read_options(
            ctx,
            &host,
            &probe.method,
            &probe.url,
            probe.http_options.clone(),
        )?;
        match bind::send(ctx, &host, &verb, spec) {
            Ok(response) => {
                if let Some(delay) = crate::net::retry_delay(&response)
                    && !waited
                    && delay + RETRY_MARGIN < context::remaining()
                {
                    waited = true;
                    context::log(format!(
                        "perf {}: 429 Too Many Requests: waiting {}s as asked, then sampling on",
                        probe.name,
                        delay.as_secs()
                    ));
                    crate::api::core::sleep_for(ctx, &host, delay)?;
                    continue;
                }
                let throttled =
                    (response.status == 429).then(|| crate::net::error_message(&response));
                let stop = throttled.is_some();
                samples.push(Sample {
                    status: Some(i64::from(response.status)),
                    throttled,
                    size: response.body.len() as u64,
                    ttfb_ms: response.ttfb.as_secs_f64() * 1000.0,
                    total_ms: response.total.as_secs_f64() * 1000.0,
                    error: None,
                });
                if stop {
                    break;
                }
            }
            // Interruption and the check's deadline end the check, not just the sample.
            Err(e) if matches!(*e, EvalAltResult::ErrorTerminated(..)) => return Err(e),
            Err(e) => samples.push(Sample {
                status: None,
                throttled: None,
                size: 0,
                ttfb_ms: f64::NAN,
                total_ms: f64::NAN,
                error: Some(error_text(&e)),
            }),
        }
        if context::remaining().is_zero() {
            break;
        }
    }
    Ok(ProbeResult::from_samples(probe.name.clone(), samples))
}

fn error_text(e: &EvalAltResult) -> String {
    match e {
        EvalAltResult::ErrorRuntime(v, _) => v.to_string(),
        other => other.to_string(),
    }
}

/// `probe,size_bytes,ttfb_ms` rows by probe name; a header line and blank lines are skipped.
pub fn parse_baseline(text: &str) -> Result<BTreeMap<String, (f64, f64)>, String> {
    let mut rows = BTreeMap::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || (i == 0 && line.starts_with("probe")) {
            continue;
        }
        let cells: Vec<&str> = line.split(',').map(str::trim).collect();
        let [probe, size, ttfb] = cells.as_slice() else {
            return Err(format!(
                "baseline line {}: expected probe,size_bytes,ttfb_ms",
                i + 1
            ));
        };
        let size: f64 = size.parse().map_err(|_| {
            format!(
                "baseline line {}: size_bytes {size:?} is not a number",
                i + 1
            )
        })?;
        let ttfb: f64 = ttfb
            .parse()
            .map_err(|_| format!("baseline line {}: ttfb_ms {ttfb:?} is not a number", i + 1))?;
        rows.insert(probe.to_string(), (size, ttfb));
    }
    Ok(rows)
}

/// The baseline option: CSV text (has a newline or a comma) or a file path; `()`/"" = none.
fn read_baseline(ctx: &NativeCallContext, opts: &Map) -> Res<BTreeMap<String, (f64, f64)>> {
    let Some(value) = opts.get("baseline").filter(|v| !v.is_unit()) else {
        return Ok(BTreeMap::new());
    };
    let text = value.to_string();
    if text.trim().is_empty() {
        return Ok(BTreeMap::new());
    }
    let csv = if text.contains('\n') || text.contains(',') {
        text
    } else {
        crate::file_input::read_to_string(
            std::path::Path::new(&text),
            crate::file_input::INPUT_CAP,
            &context::io_stop,
        )
        .map_err(|e| {
            bind::file_input_stop(ctx, &e)
                .unwrap_or_else(|| script_error(ctx, format!("perf baseline {text}: {e}")))
        })?
    };
    parse_baseline(&csv).map_err(|e| script_error(ctx, e))
}

fn fmt_ms(v: f64) -> String {
    if v.is_nan() {
        "-".to_string()
    } else {
        format!("{v:.1}")
    }
}

fn fmt_opt(v: Option<f64>) -> String {
    v.map(|v| format!("{v:.0}"))
        .unwrap_or_else(|| "-".to_string())
}

fn fmt_delta(v: Option<f64>) -> String {
    match v {
        Some(d) if !d.is_nan() => format!("{d:+.0}"),
        _ => "-".to_string(),
    }
}

fn tsv_cell(text: &str) -> String {
    text.replace(['\t', '\n', '\r'], " ")
}

pub const PERF_TSV_HEADER: &str = "probe\tsamples\tstatus\tsize_bytes_max\tttfb_ms_p50\tttfb_ms_p95\tttfb_ms_max\ttotal_ms_p50\ttotal_ms_p95\ttotal_ms_max\tbudget_bytes\tbudget_ttfb_ms\tbaseline_bytes\tbaseline_ttfb_ms\tdelta_bytes\tdelta_ttfb_ms\tresult\tdetail";

#[export_module]
pub mod perf_api {
    /// Sends one probe N times and returns its summary without asserting anything:
    /// `#{ name, samples, status, ttfb_ms: #{p50, p95, max}, total_ms, size_bytes, errors }`.
    /// The probe is a map: `name`, `url`, `method` (default GET) and any `http::` option
    /// (`headers`, `form`, `json`, `body`, `bearer`, `timeout`). `samples` in the probe map
    /// or `OA_PERF_SAMPLES` (default 5) sets N.
    #[rhai_fn(return_raw)]
    pub fn measure(ctx: NativeCallContext, probe: Map) -> Res<Map> {
        bind::in_check(&ctx, "perf::measure")?;
        let n = sample_count(&ctx, &probe)?;
        let mut probe_map = probe;
        probe_map.remove("samples");
        let probe = read_probe(&ctx, &probe_map)?;
        let result = sample_probe(&ctx, &probe, n)?;
        Ok(result.to_map())
    }

    /// Checks probes against their budgets (see `check` with options).
    #[rhai_fn(name = "check", return_raw)]
    pub fn check(ctx: NativeCallContext, probes: Array) -> Res<Array> {
        check_with(ctx, probes, Map::new())
    }

    /// Samples every probe (see `measure`), then per probe asserts: every sample answered,
    /// with a status below 400; the largest body is within `max_bytes`; TTFB (`ttfb_stat`,
    /// default "p95") is within `max_ttfb_ms`. Options: `samples`, `ttfb_stat`
    /// ("p50"/"p95"/"max"), `baseline` (CSV text `probe,size_bytes,ttfb_ms` or a file path;
    /// reported as a delta, never fails). Writes `perf.tsv` and `perf-samples.tsv` and logs the
    /// table; throws the first failure after every probe was measured. Returns the summaries.
    #[rhai_fn(name = "check", return_raw)]
    pub fn check_with(ctx: NativeCallContext, probes: Array, opts: Map) -> Res<Array> {
        bind::in_check(&ctx, "perf::check")?;
        let n = sample_count(&ctx, &opts)?;
        let stat = opts
            .get("ttfb_stat")
            .map(|v| v.to_string())
            .unwrap_or_else(|| "p95".to_string());
        if !["p50", "p95", "max"].contains(&stat.as_str()) {
            return Err(script_error(
                &ctx,
                format!("ttfb_stat {stat:?}: expected p50, p95 or max"),
            ));
        }
        let baseline = read_baseline(&ctx, &opts)?;
        let mut declared = Vec::new();
        for p in &probes {
            let map = p
                .read_lock::<Map>()
                .ok_or_else(|| script_error(&ctx, "perf::check expects an array of probe maps"))?;
            declared.push(read_probe(&ctx, &map)?);
        }

        let mut table = String::from(PERF_TSV_HEADER);
        table.push('\n');
        let mut sample_table =
            String::from("probe\tsample\tstatus\tsize_bytes\tttfb_ms\ttotal_ms\terror\n");
        let mut first_error: Option<Box<EvalAltResult>> = None;
        let mut summaries = Array::new();
        for probe in &declared {
            let result = sample_probe(&ctx, probe, n)?;
            let mut problems = Vec::new();
            if !result.errors.is_empty() {
                problems.push(format!(
                    "{} of {} requests failed: {}",
                    result.errors.len(),
                    result.samples.len(),
                    result.errors[0]
                ));
            }
            if let Some(refusal) = result.samples.iter().find_map(|s| s.throttled.as_deref()) {
                problems.push(format!(
                    "status 429 Too Many Requests (the service's throttle: {refusal})"
                ));
            } else if let Some(status) = result.status
                && status >= 400
            {
                problems.push(format!("status {status}"));
            }
            let ttfb = result.ttfb.get(&stat);
            if let Some(max) = probe.max_bytes
                && result.size.max > max
            {
                problems.push(format!(
                    "size {:.0} bytes over budget {max:.0}",
                    result.size.max
                ));
            }
            if let Some(max) = probe.max_ttfb_ms
                && ttfb > max
            {
                problems.push(format!("ttfb {stat} {ttfb:.1} ms over budget {max:.0} ms"));
            }
            let base = baseline.get(&probe.name).copied();
            let delta_bytes = base.map(|(b, _)| result.size.max - b);
            let delta_ttfb = base.map(|(_, t)| ttfb - t);
            let ok = problems.is_empty() && result.status.is_some();
            let detail = if ok {
                "within budget".to_string()
            } else if problems.is_empty() {
                "no answer".to_string()
            } else {
                problems.join("; ")
            };
            let _ = writeln!(
                table,
                "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
                tsv_cell(&probe.name),
                result.samples.len(),
                result
                    .status
                    .map(|s| s.to_string())
                    .unwrap_or_else(|| "-".to_string()),
                fmt_ms(result.size.max).trim_end_matches(".0"),
                fmt_ms(result.ttfb.p50),
                fmt_ms(result.ttfb.p95),
                fmt_ms(result.ttfb.max),
                fmt_ms(result.total.p50),
                fmt_ms(result.total.p95),
                fmt_ms(result.total.max),
                fmt_opt(probe.max_bytes),
                fmt_opt(probe.max_ttfb_ms),
                fmt_opt(base.map(|b| b.0)),
                fmt_opt(base.map(|b| b.1)),
                fmt_delta(delta_bytes),
                fmt_delta(delta_ttfb),
                if ok { "pass" } else { "fail" },
                tsv_cell(&detail),
            );
            for (i, s) in result.samples.iter().enumerate() {
                let _ = writeln!(
                    sample_table,
                    "{}\t{}\t{}\t{}\t{}\t{}\t{}",
                    tsv_cell(&probe.name),
                    i + 1,
                    s.status
                        .map(|v| v.to_string())
                        .unwrap_or_else(|| "-".to_string()),
                    s.size,
                    fmt_ms(s.ttfb_ms),
                    fmt_ms(s.total_ms),
                    tsv_cell(s.error.as_deref().unwrap_or("")),
                );
            }
            context::log(format!(
                "perf {}: {} samples, status {}, size max {:.0} B, ttfb p50/p95/max {}/{}/{} ms, total p50 {} ms, baseline delta {} B / {} ms: {detail}",
                probe.name,
                result.samples.len(),
                result
                    .status
                    .map(|s| s.to_string())
                    .unwrap_or_else(|| "-".to_string()),
                result.size.max,
                fmt_ms(result.ttfb.p50),
                fmt_ms(result.ttfb.p95),
                fmt_ms(result.ttfb.max),
                fmt_ms(result.total.p50),
                fmt_delta(delta_bytes),
                fmt_delta(delta_ttfb),
            ));
            if ok {
                record_pass(&format!("perf {} within budget", probe.name));
            } else {
                let expected = format!(
                    "status < 400, size <= {} B, ttfb {stat} <= {} ms",
                    fmt_opt(probe.max_bytes),
                    fmt_opt(probe.max_ttfb_ms)
                );
                let actual = format!(
                    "status {}, size {:.0} B, ttfb {stat} {} ms",
                    result
                        .status
                        .map(|s| s.to_string())
                        .unwrap_or_else(|| "-".to_string()),
                    if result.size.max.is_nan() {
                        0.0
                    } else {
                        result.size.max
                    },
                    fmt_ms(ttfb)
                );
                let err = record_failure(
                    &ctx,
                    format!("perf {}: {detail}", probe.name),
                    Some(expected),
                    Some(actual),
                );
                first_error.get_or_insert(err);
            }
            summaries.push(result.to_map().into());
        }
        for line in table.lines() {
            context::log(format!("perf.tsv: {line}"));
        }
        context::with_check(|c| {
            c.record.artifacts.push(("perf.tsv".to_string(), table));
            c.record
                .artifacts
                .push(("perf-samples.tsv".to_string(), sample_table));
        });
        match first_error {
            Some(e) => Err(e),
            None => Ok(summaries),
        }
    }

    /// The current wall-clock time, RFC 3339 UTC with milliseconds (for records a lane writes).
    pub fn utc_now() -> String {
        chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let s = Spread::of(&[5.0, 1.0, 3.0, 2.0, 4.0]);
        assert_eq!(
            s,
            Spread {
                p50: 3.0,
                p95: 5.0,
                max: 5.0
            }
        );
        let s = Spread::of(&(1..=100).map(f64::from).collect::<Vec<_>>());
        assert_eq!((s.p50, s.p95, s.max), (50.0, 95.0, 100.0));
        assert!(Spread::of(&[]).p50.is_nan());
    }

    #[test]
    fn baseline_csv_parses_and_names_bad_lines() {
        let rows =
            parse_baseline("probe,size_bytes,ttfb_ms\nlogin_email_hx,2200,180\n\nfeed,52000,260\n")
                .unwrap();
        assert_eq!(rows["login_email_hx"], (2200.0, 180.0));
        assert_eq!(rows["feed"], (52000.0, 260.0));
        let err = parse_baseline("probe,size_bytes,ttfb_ms\nx,1\n").unwrap_err();
        assert!(err.contains("line 2"), "{err}");
        let err = parse_baseline("x,big,1\n").unwrap_err();
        assert!(err.contains("size_bytes"), "{err}");
    }
}
