//! Command-line arguments (clap) and their resolution into one [`RunConfig`].
//! This is the only module that reads the process environment.

use crate::config::{self, EnvSnapshot, Mode, RunConfig, Target};
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;
use std::time::Duration;

/// The directory and pattern of the default lane set.
pub const DEFAULT_LANES: &str = "lanes/*.rhai";

#[derive(Parser, Debug)]
#[command(
    name = "oa-validate",
    version,
    about = "Release gate for the OpenAgents Rust cutover: runs the validation matrix (Rhai lanes) \
             against staging and production and decides GO or NO-GO with archived evidence.",
    after_help = "Exit codes: 0 GO, 1 NO-GO, 2 usage or configuration error, 3 a lane does not \
                  compile, 4 no checks selected, 130 interrupted.\nSee docs/cli.md.",
    args_conflicts_with_subcommands = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub run: RunArgs,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Print the matrix (id, lane, level, target, description) without touching the network.
    List(LaneArgs),
    /// Compile and plan lanes only; errors name file:line:col.
    Check(LaneArgs),
    /// Serve the simulated deployment on loopback and print the environment to use it.
    Sim(SimArgs),
    /// Probe a deployment interactively with the same primitives, targets and redaction.
    Repl(ReplArgs),
    /// Write Rhai definition files (.d.rhai) of the whole API, for editors and the language server.
    Defs(DefsArgs),
    /// (Re)build DIR/report.html from the evidence folder's own files.
    Report(crate::report::rebuild::ReportArgs),
    /// What changed between two evidence folders (exit 1 when a required check regressed).
    Diff(crate::diff::DiffArgs),
    /// Re-run the failed and errored checks of an evidence folder into a new folder.
    Rerun(crate::rerun::RerunArgs),
}

#[derive(Args, Debug, Clone)]
pub struct ReplArgs {
    /// Start the in-process simulated deployment and probe it.
    #[arg(long)]
    pub sim: bool,
    /// The target bound to the variable `target` at start.
    #[arg(long, value_name = "NAME", default_value = "staging", value_parser = ["staging", "prod"])]
    pub target: String,
    /// Do not read or write the history file.
    #[arg(long)]
    pub no_history: bool,
}

#[derive(Args, Debug, Clone)]
pub struct DefsArgs {
    /// Folder to write the .d.rhai files into (created if missing).
    #[arg(value_name = "DIR")]
    pub dir: PathBuf,
    /// Also write the Markdown API reference (docs/api.md) to this file.
    #[arg(long, value_name = "FILE")]
    pub markdown: Option<PathBuf>,
}

#[derive(Args, Debug, Clone, Default)]
pub struct LaneArgs {
    /// Lane files or globs [default: lanes/*.rhai].
    #[arg(value_name = "LANE")]
    pub lanes: Vec<String>,
    /// Plan against the simulated targets instead of staging and prod.
    #[arg(long)]
    pub sim: bool,
}

#[derive(Args, Debug, Clone)]
pub struct SimArgs {
    /// Turn on a named fault (repeatable); `--fault help` lists them.
    #[arg(long = "fault", value_name = "NAME")]
    pub faults: Vec<String>,
    /// Latency added to every response, e.g. "50ms".
    #[arg(long, value_name = "DURATION", default_value = "0ms")]
    pub latency: String,
}

#[derive(Args, Debug, Clone, Default)]
pub struct RunArgs {
    /// Lane files or globs to run [default: lanes/*.rhai].
    #[arg(value_name = "LANE")]
    pub lanes: Vec<String>,
    /// Run against an in-process simulated deployment (staging and prod instances).
    #[arg(long)]
    pub sim: bool,
    /// With --sim: turn on a named sim fault (repeatable).
    #[arg(long = "sim-fault", value_name = "NAME", requires = "sim")]
    pub sim_faults: Vec<String>,
    /// Release gating: the whole matrix must run; refuses filters, lane subsets, toggles that
    /// would skip a required check, and --baseline.
    #[arg(long)]
    pub gate: bool,
    /// Baseline capture: exit 0 even on NO-GO (the verdict is still NO-GO).
    /// Same as FAIL_ON_REQUIRED_FAILURE=0.
    #[arg(long)]
    pub baseline: bool,
    /// Evidence folder [env: OUTPUT_DIR] [default: validation-evidence/<YYYYMMDDTHHMMSSZ>].
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Lanes run concurrently; checks within a lane run in order.
    #[arg(long, short = 'j', value_name = "N", default_value_t = 4)]
    pub jobs: usize,
    /// Default timeout of a check (a check's own `timeout` option wins).
    #[arg(long, value_name = "DURATION", default_value = "60s")]
    pub timeout: String,
    /// Run only these check ids (repeatable). Refused with --gate.
    #[arg(long = "check", value_name = "ID")]
    pub checks: Vec<String>,
    /// Allow checks declared `mutates: true` to run against production.
    #[arg(long)]
    pub allow_prod_mutations: bool,
    /// Largest response body read, in bytes (suffixes KiB, MiB accepted).
    #[arg(long, value_name = "BYTES", default_value = "16MiB")]
    pub max_body: String,
    /// Never show the progress bar (it is shown only on a terminal anyway).
    #[arg(long)]
    pub no_progress: bool,
    /// Do not write HTTP archives (http/<check_id>.har); logs still list every request.
    #[arg(long)]
    pub no_har: bool,
    /// Cutover phase. `legacy-deletion` adds the required check legacy-db-backup-evidence
    /// (policy 4: fresh Laravel DB backup evidence, LARAVEL_DB_BACKUP_EVIDENCE).
    #[arg(long, value_name = "PHASE", value_parser = [PHASE_LEGACY_DELETION])]
    pub phase: Option<String>,
    /// Oldest Laravel DB backup evidence accepted in the legacy-deletion phase.
    #[arg(long, value_name = "DURATION", default_value = "24h")]
    pub backup_max_age: String,
}

/// The phase that needs fresh Laravel DB backup evidence (policy 4).
pub const PHASE_LEGACY_DELETION: &str = "legacy-deletion";
/// The lane holding the policy 4 check, added to any run in that phase.
pub const LEGACY_BACKUP_LANE: &str = "lanes/legacy_backup.rhai";

/// A configuration problem: exit code 2 with this message.
#[derive(Debug)]
pub struct UsageError(pub String);

impl std::fmt::Display for UsageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The process environment, captured once (upstream aliases applied).
pub fn capture_env() -> EnvSnapshot {
    let mut env = EnvSnapshot::new(
        std::env::vars_os()
            .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?))),
    );
    env.apply_aliases();
    env
}

/// Whether stdout is a terminal and colour is allowed (NO_COLOR, https://no-color.org).
pub fn terminal_style(env: &EnvSnapshot) -> (bool, bool) {
    use std::io::IsTerminal;
    let tty = std::io::stdout().is_terminal() && std::io::stderr().is_terminal();
    let no_color = env.get("NO_COLOR").is_some_and(|v| !v.is_empty());
    let ci = env.get("CI").is_some_and(|v| !v.is_empty() && v != "false");
    (tty && !no_color, tty && !ci)
}

pub fn parse_bytes(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let (number, unit) = t
        .find(|c: char| !c.is_ascii_digit())
        .map(|i| t.split_at(i))
        .unwrap_or((t, ""));
    let n: u64 = number
        .parse()
        .map_err(|_| format!("{text:?} is not a size (e.g. 16MiB)"))?;
    let factor = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" | "kib" => 1024,
        "m" | "mb" | "mib" => 1024 * 1024,
        "g" | "gb" | "gib" => 1024 * 1024 * 1024,
        other => return Err(format!("unknown size unit {other:?} in {text:?}")),
    };
    n.checked_mul(factor)
        .ok_or_else(|| format!("{text:?} is too large"))
}

/// Expands lane arguments (files or globs); the default is every `lanes/*.rhai`, sorted.
pub fn resolve_lanes(args: &[String]) -> Result<(Vec<PathBuf>, bool), UsageError> {
    let full_matrix = args.is_empty();
    let patterns: Vec<String> = if full_matrix {
        vec![DEFAULT_LANES.to_string()]
    } else {
        args.to_vec()
    };
    let mut lanes = Vec::new();
    for pattern in &patterns {
        let is_glob = pattern.contains(['*', '?', '[']);
        if !is_glob {
            let path = PathBuf::from(pattern);
            if !path.is_file() {
                return Err(UsageError(format!("lane file not found: {pattern}")));
            }
            lanes.push(path);
            continue;
        }
        let mut matched: Vec<PathBuf> = glob::glob(pattern)
            .map_err(|e| UsageError(format!("invalid lane pattern {pattern:?}: {e}")))?
            .filter_map(Result::ok)
            .filter(|p| p.is_file())
            .collect();
        matched.sort();
        if matched.is_empty() {
            return Err(UsageError(format!(
                "no lane files match {pattern:?} (run from the repository root, or name lane files)"
            )));
        }
        lanes.extend(matched);
    }
    let mut seen = std::collections::HashSet::new();
    lanes.retain(|p| seen.insert(p.clone()));
    Ok((lanes, full_matrix))
}

/// The staging and prod targets from the upstream variables.
pub fn targets_from_env(env: &EnvSnapshot, simulated: bool) -> Result<Vec<Target>, UsageError> {
    let mut targets = Vec::new();
    for (name, label, prefix) in [
        ("staging", "staging", "STAGING"),
        ("prod", "production", "PROD"),
    ] {
        let control_var = format!("{prefix}_CONTROL_BASE_URL");
        let control_url = env
            .get_nonempty(&control_var)
            .ok_or_else(|| UsageError(format!("{control_var} is empty")))?
            .trim_end_matches('/')
            .to_string();
        url::Url::parse(&control_url)
            .map_err(|e| UsageError(format!("{control_var}={control_url:?} is not a URL: {e}")))?;
        let runtime_url = env
            .get_nonempty(&format!("{prefix}_RUNTIME_BASE_URL"))
            .map(|u| u.trim_end_matches('/').to_string());
        let token_var = format!("{prefix}_CONTROL_ACCESS_TOKEN");
        let token = env.get_nonempty(&token_var).map(str::to_string);
        if let Some(t) = &token
            && t.len() < config::MIN_SECRET_LEN
        {
            return Err(UsageError(format!(
                "{token_var} is shorter than {} characters: too short to be a token, and it would \
                 redact ordinary text from every report",
                config::MIN_SECRET_LEN
            )));
        }
        targets.push(Target {
            name: name.to_string(),
            label: label.to_string(),
            control_url,
            runtime_url,
            token,
            token_var,
            simulated,
        });
    }
    Ok(targets)
}

/// Secret values from the environment: tokens and any variable named like a secret.
pub fn secrets_from_env(env: &EnvSnapshot) -> Vec<String> {
    env.iter()
        .filter(|(name, value)| {
            config::is_secret_name(name) && value.len() >= config::MIN_SECRET_LEN
        })
        .map(|(_, value)| value.to_string())
        .collect()
}

/// Resolves run arguments into a configuration (targets are filled in by the caller when
/// running against the sim).
pub fn resolve_run(
    args: &RunArgs,
    env: EnvSnapshot,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<RunConfig, UsageError> {
    let (mut lanes, full_matrix) = resolve_lanes(&args.lanes)?;
    if args.phase.as_deref() == Some(PHASE_LEGACY_DELETION) {
        // Policy 4 holds whatever lanes were named: the phase brings its check along.
        let lane = PathBuf::from(LEGACY_BACKUP_LANE);
        if !lane.is_file() {
            return Err(UsageError(format!(
                "--phase {PHASE_LEGACY_DELETION} needs {LEGACY_BACKUP_LANE} (run from the repository root)"
            )));
        }
        if !lanes.iter().any(|l| l.ends_with("legacy_backup.rhai")) {
            lanes.push(lane);
        }
    }
    let backup_max_age = humantime::parse_duration(&args.backup_max_age)
        .map_err(|e| UsageError(format!("--backup-max-age {:?}: {e}", args.backup_max_age)))?;
    let fail_on_required = env
        .get("FAIL_ON_REQUIRED_FAILURE")
        .unwrap_or("1")
        .to_string();
    let baseline_env = match config::parse_toggle(&fail_on_required) {
        Some(on) => !on,
        None => {
            return Err(UsageError(format!(
                "FAIL_ON_REQUIRED_FAILURE={fail_on_required:?} is not 1/true/yes/on or 0/false/no/off"
            )));
        }
    };
    let mode = if args.gate {
        if args.baseline || baseline_env {
            let why = if args.baseline {
                "--baseline"
            } else {
                "FAIL_ON_REQUIRED_FAILURE=0"
            };
            return Err(UsageError(format!(
                "--gate refuses {why}: a release gate must fail on a required failure"
            )));
        }
        if !full_matrix {
            return Err(UsageError(format!(
                "--gate runs the whole matrix ({DEFAULT_LANES}); it refuses a lane subset: {}",
                args.lanes.join(" ")
            )));
        }
        if !args.checks.is_empty() {
            return Err(UsageError(format!(
                "--gate runs the whole matrix; it refuses --check {}",
                args.checks.join(", ")
            )));
        }
        Mode::Gate
    } else if args.baseline || baseline_env {
        Mode::Baseline
    } else {
        Mode::Normal
    };
    if args.jobs == 0 {
        return Err(UsageError("--jobs must be at least 1".to_string()));
    }
    let default_timeout = humantime::parse_duration(&args.timeout)
        .map_err(|e| UsageError(format!("--timeout {:?}: {e}", args.timeout)))?;
    if default_timeout < Duration::from_millis(1) {
        return Err(UsageError("--timeout must be positive".to_string()));
    }
    let max_body = parse_bytes(&args.max_body).map_err(UsageError)?;
    let out_dir = match (&args.out, env.get_nonempty("OUTPUT_DIR")) {
        (Some(dir), _) => dir.clone(),
        (None, Some(dir)) => PathBuf::from(dir),
        (None, None) => PathBuf::from("validation-evidence").join(timestamp(now)),
    };
    let targets = targets_from_env(&env, false)?;
    let (color, progress) = terminal_style(&env);
    let secrets = secrets_from_env(&env);
    Ok(RunConfig {
        lanes,
        full_matrix,
        check_filter: args.checks.clone(),
        targets,
        env,
        mode,
        jobs: args.jobs,
        out_dir,
        default_timeout,
        allow_prod_mutations: args.allow_prod_mutations,
        phase: args.phase.clone(),
        backup_max_age,
        max_body,
        color,
        progress: progress && !args.no_progress,
        http_archive: !args.no_har,
        secrets,
    })
}

/// The upstream timestamp form, `YYYYMMDDTHHMMSSZ`.
pub fn timestamp(now: chrono::DateTime<chrono::Utc>) -> String {
    now.format("%Y%m%dT%H%M%SZ").to_string()
}
