//! The configuration of the commands that read evidence folders back: `report`, `diff` and
//! `rerun` (whose run is resolved like any other once the folder says how it was made).

use super::{EnvSnapshot, UsageError};
use crate::cli::{DiffArgs, DiffFormat, ReportArgs, RerunArgs};
use std::path::PathBuf;

/// `report DIR`: (re)build DIR/report.html.
#[derive(Debug)]
pub struct ReportConfig {
    pub dir: PathBuf,
    /// Today's secret values: the page is redacted with them too, like every output.
    pub secrets: Vec<String>,
}

/// `diff OLD NEW`.
#[derive(Debug)]
pub struct DiffConfig {
    pub old: PathBuf,
    pub new: PathBuf,
    pub format: DiffFormat,
    /// A perf change is flagged past this percent of the OLD value...
    pub perf_threshold_percent: f64,
    /// ...and this many milliseconds.
    pub perf_min_ms: f64,
    /// Today's secret values, masked in the output.
    pub secrets: Vec<String>,
}

/// `rerun DIR`: the folder to re-run and the environment the re-run starts from (the
/// folder's record of its invocation supplies the rest, see [`crate::rerun`]).
#[derive(Debug)]
pub struct RerunConfig {
    pub dir: PathBuf,
    /// `--out`; `None`: `DIR-rerun-<timestamp>` beside DIR.
    pub out: Option<PathBuf>,
    pub no_progress: bool,
    /// `rerun --allow-prod-mutations`: the only way a re-run may mutate production.
    pub allow_prod_mutations: bool,
    /// The user's environment: where and with what the re-run runs (targets, secrets,
    /// variables); the folder only says what to re-run.
    pub env: EnvSnapshot,
    pub started_at: chrono::DateTime<chrono::Utc>,
}

pub fn resolve_report(args: ReportArgs, env: &EnvSnapshot) -> ReportConfig {
    ReportConfig {
        dir: args.dir,
        secrets: env.secret_values(),
    }
}

pub fn resolve_diff(args: DiffArgs, env: &EnvSnapshot) -> Result<DiffConfig, UsageError> {
    if !(args.perf_threshold >= 0.0 && args.perf_min_ms >= 0.0) {
        return Err(UsageError(
            "--perf-threshold and --perf-min-ms must be 0 or more".to_string(),
        ));
    }
    Ok(DiffConfig {
        old: args.old,
        new: args.new,
        format: args.format,
        perf_threshold_percent: args.perf_threshold,
        perf_min_ms: args.perf_min_ms,
        secrets: env.secret_values(),
    })
}

pub fn resolve_rerun(
    args: RerunArgs,
    env: EnvSnapshot,
    now: chrono::DateTime<chrono::Utc>,
) -> RerunConfig {
    RerunConfig {
        dir: args.dir,
        out: args.out,
        no_progress: args.no_progress,
        allow_prod_mutations: args.allow_prod_mutations,
        env,
        started_at: now,
    }
}
