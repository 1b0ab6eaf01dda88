//! The resolved configuration: arguments and environment, resolved once into what each command
//! needs — lanes, the deployment (targets and secrets, or the sim to start), phase, limits,
//! mode and output. Nothing below reads the arguments or the process environment again.

pub mod env;
pub mod folders;
pub mod lanes;
pub mod phase;
pub mod sim;
pub mod target;

pub use env::{
    EnvSnapshot, MIN_SECRET_LEN, REPO_ROOT_VAR, UPSTREAM_VARIABLES, VARIABLE_ALIASES,
    is_secret_name, parse_toggle,
};
pub use folders::{DiffConfig, ReportConfig, RerunConfig};
pub use lanes::{DEFAULT_LANES, LaneFile, LaneSelection, Matrix};
pub use phase::PhaseChoice;
pub use sim::SimSettings;
pub use target::Target;

use crate::cli::{Cli, Command, DefsArgs, LaneArgs, LockArgs, ReplArgs, RunArgs, SimArgs};
use crate::cutover::CutoverPhase;
use oa_sim::SimEra;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// A configuration problem: exit code 2 with this message.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

/// Largest response body read unless `--max-body` says otherwise.
pub const DEFAULT_MAX_BODY: u64 = 16 * 1024 * 1024;
/// Timeout of one HTTP request unless the request says otherwise.
pub const DEFAULT_HTTP_TIMEOUT: Duration = Duration::from_secs(30);

/// The whole resolved configuration of one invocation.
#[derive(Debug)]
pub struct Config {
    pub command: CommandConfig,
    pub style: TerminalStyle,
}

/// What one command needs, and nothing else.
#[derive(Debug)]
pub enum CommandConfig {
    Run(RunConfig),
    /// `plan`: a run's configuration, to be planned and described only.
    Plan(RunConfig),
    /// `list`; `true`: as JSON.
    List(PlanConfig, bool),
    Check(PlanConfig),
    Sim(SimCommandConfig),
    Repl(ReplConfig),
    Defs(DefsConfig),
    Report(ReportConfig),
    Diff(DiffConfig),
    Verify(VerifyConfig),
    Archive(ArchiveConfig),
    Rerun(RerunConfig),
    Lock(LockConfig),
    Setup(EnvSnapshot),
    /// `show [PATH]`: print a built-in file, or list them.
    Show(Option<String>),
}

/// Colour and progress bar: only on a terminal, and not under `NO_COLOR` / `CI`.
#[derive(Debug, Clone, Copy)]
pub struct TerminalStyle {
    pub color: bool,
    pub progress: bool,
    /// `-q`: only the checks that did not pass, and the verdict.
    pub quiet: bool,
    /// `-v`: each check's requests and assertions under its line.
    pub verbose: bool,
}

/// The limits every primitive works within.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Largest response body read (`--max-body`); larger ones error.
    pub max_body: u64,
    /// Timeout of one HTTP request unless the script sets one.
    pub http_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_body: DEFAULT_MAX_BODY,
            http_timeout: DEFAULT_HTTP_TIMEOUT,
        }
    }
}

/// What the primitives read besides the deployment: limits and the run's policies.
#[derive(Debug, Clone)]
pub struct PrimitiveSettings {
    pub limits: Limits,
    /// Checks declared `mutates: true` may run against production.
    pub allow_prod_mutations: bool,
    /// The cutover phase the lanes are planned for (`--phase` or the default); lanes read it
    /// with `phase()`. `None` outside a run, `list` or `check` (the REPL).
    pub phase: Option<CutoverPhase>,
    /// Oldest Laravel DB backup evidence accepted (`--backup-max-age`, policy 4).
    pub backup_max_age: Duration,
    /// `--cacert`: CA certificates trusted besides the system's (else `OA_CA_BUNDLE`).
    pub ca_bundle: Option<PathBuf>,
}

impl Default for PrimitiveSettings {
    fn default() -> Self {
        PrimitiveSettings {
            limits: Limits::default(),
            allow_prod_mutations: false,
            phase: None,
            backup_max_age: phase::DEFAULT_BACKUP_MAX_AGE,
            ca_bundle: None,
        }
    }
}

/// The deployment the lanes run against: its targets, its environment and the secret values
/// to redact from every output.
#[derive(Debug, Clone)]
pub struct Deployment {
    pub targets: Vec<Target>,
    pub env: EnvSnapshot,
    /// Tokens and values of secret-named variables.
    pub secrets: Vec<String>,
    /// Whether this is the in-process sim (whose targets are never production).
    pub simulated: bool,
}

impl Deployment {
    /// Staging and prod from the upstream variables.
    pub fn real(env: EnvSnapshot) -> Result<Deployment, UsageError> {
        let targets = target::targets_from_env(&env, false)?;
        Ok(Deployment {
            secrets: secrets(&targets, &[&env]),
            targets,
            env,
            simulated: false,
        })
    }

    /// The sim's targets: `simulated` is `env` with what the running sim exports applied.
    pub fn simulated(env: &EnvSnapshot, simulated: EnvSnapshot) -> Result<Deployment, UsageError> {
        let targets = target::targets_from_env(&simulated, true)?;
        Ok(Deployment {
            // The caller's own values stay secret even where the sim's replaced them.
            secrets: secrets(&targets, &[env, &simulated]),
            targets,
            env: simulated,
            simulated: true,
        })
    }
}

/// Every value to redact: the targets' tokens and the secret-named variables of `envs`.
fn secrets(targets: &[Target], envs: &[&EnvSnapshot]) -> Vec<String> {
    let mut secrets: Vec<String> = targets.iter().filter_map(|t| t.token.clone()).collect();
    for env in envs {
        secrets.extend(env.secret_values());
    }
    secrets.sort();
    secrets.dedup();
    secrets
}

/// Where the targets come from: known now, or once the sim has started.
#[derive(Debug, Clone)]
pub enum DeploymentConfig {
    Real(Deployment),
    /// The in-process sim, over this environment.
    Sim(SimSettings, EnvSnapshot),
}

impl DeploymentConfig {
    fn resolve(sim: Option<SimSettings>, env: EnvSnapshot) -> Result<Self, UsageError> {
        match sim {
            Some(settings) => Ok(DeploymentConfig::Sim(settings, env)),
            None => Ok(DeploymentConfig::Real(Deployment::real(env)?)),
        }
    }
}

/// How the verdict turns into an exit code and what is refused up front.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// NO-GO exits 1.
    Normal,
    /// Release gating: the whole matrix, no skipped required check, no baseline.
    Gate,
    /// Exit 0 even on NO-GO (`--baseline` or `FAIL_ON_REQUIRED_FAILURE=0`).
    Baseline,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Normal => "normal",
            Mode::Gate => "gate",
            Mode::Baseline => "baseline",
        }
    }
}

/// `oa-validate [LANE ...]`: run the matrix.
#[derive(Debug)]
pub struct RunConfig {
    pub lanes: LaneSelection,
    /// The cutover phase: only its checks run.
    pub phase: PhaseChoice,
    /// `--check` ids (empty: every check).
    pub check_filter: Vec<String>,
    pub deployment: DeploymentConfig,
    pub settings: PrimitiveSettings,
    pub mode: Mode,
    /// What asked for a baseline (`--baseline` or `FAIL_ON_REQUIRED_FAILURE=0`), if anything
    /// did: the gate refuses it.
    pub baseline_requested: Option<&'static str>,
    pub jobs: usize,
    pub out_dir: PathBuf,
    /// `--replace-out`: empty `out_dir` first when it holds an earlier run's evidence.
    pub replace_out: bool,
    /// Timeout of a check without its own `timeout` option.
    pub default_timeout: Duration,
    /// Write `http/<check_id>.har` (off with `--no-har`).
    pub http_archive: bool,
    /// `--fail-fast`: the first required failure skips the checks not yet started.
    pub fail_fast: bool,
    /// `--sign` / `OA_SIGNING_KEY`: sign the verdict with this key.
    pub sign: Option<KeyRef>,
    pub started_at: chrono::DateTime<chrono::Utc>,
}

/// A key named on the command line: a PEM file, or a Cloud KMS key version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyRef {
    File(PathBuf),
    /// `projects/P/locations/L/keyRings/R/cryptoKeys/K/cryptoKeyVersions/N`.
    Kms(String),
}

impl KeyRef {
    /// A KMS key version's resource name (a `gcpkms://` prefix, as cosign writes it, is
    /// accepted), else a file path.
    pub fn parse(text: &str) -> KeyRef {
        let name = text.strip_prefix("gcpkms://").unwrap_or(text);
        let parts: Vec<&str> = name.split('/').collect();
        let kms = parts.len() == 10
            && [
                "projects",
                "locations",
                "keyRings",
                "cryptoKeys",
                "cryptoKeyVersions",
            ]
            .iter()
            .enumerate()
            .all(|(i, word)| parts[2 * i] == *word && !parts[2 * i + 1].is_empty());
        if kms {
            KeyRef::Kms(name.to_string())
        } else {
            KeyRef::File(PathBuf::from(text))
        }
    }
}

/// `archive DIR --to DEST`.
#[derive(Debug)]
pub struct ArchiveConfig {
    pub dir: PathBuf,
    /// A folder, or `gs://bucket/prefix`.
    pub to: String,
    pub env: EnvSnapshot,
}

/// `verify DIR --key PUBKEY`.
#[derive(Debug)]
pub struct VerifyConfig {
    pub dir: PathBuf,
    pub key: KeyRef,
    pub env: EnvSnapshot,
}

/// `list`, `check` and `lock`: plan lanes, run nothing.
#[derive(Debug)]
pub struct PlanConfig {
    pub lanes: LaneSelection,
    /// The cutover phase whose checks are shown.
    pub phase: PhaseChoice,
    pub deployment: DeploymentConfig,
    pub settings: PrimitiveSettings,
}

/// `sim`: serve the simulated deployment.
#[derive(Debug)]
pub struct SimCommandConfig {
    pub sim: SimSettings,
    pub env: EnvSnapshot,
    /// `--fault help`: list the faults and exit.
    pub list_faults: bool,
}

/// `repl`: probe by hand.
#[derive(Debug)]
pub struct ReplConfig {
    pub deployment: DeploymentConfig,
    pub settings: PrimitiveSettings,
    /// The target bound to `target` at start.
    pub target: String,
    /// The history file (`None` with `--no-history` or without a home).
    pub history: Option<PathBuf>,
}

/// `lock`: write (or compare) the lock of a matrix folder.
#[derive(Debug)]
pub struct LockConfig {
    pub matrix: Matrix,
    /// Compare only (`--check`): write nothing.
    pub check_only: bool,
    pub env: EnvSnapshot,
}

/// `defs`: write the editor definitions.
#[derive(Debug)]
pub struct DefsConfig {
    pub dir: PathBuf,
    pub markdown: Option<PathBuf>,
}

/// Resolves the command line and the environment into the configuration of the command.
pub fn resolve(
    cli: Cli,
    env: EnvSnapshot,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Config, UsageError> {
    let style = terminal_style(&env);
    let command = match cli.command {
        None => CommandConfig::Run(resolve_run(&cli.run, env, now)?),
        Some(Command::Plan(args)) => CommandConfig::Plan(resolve_run(&args, env, now)?),
        Some(Command::List(args)) => {
            CommandConfig::List(resolve_plan(&args.lanes, env)?, args.json)
        }
        Some(Command::Check(args)) => CommandConfig::Check(resolve_plan(&args, env)?),
        Some(Command::Sim(args)) => CommandConfig::Sim(resolve_sim(&args, env)?),
        Some(Command::Repl(args)) => CommandConfig::Repl(resolve_repl(&args, env)?),
        Some(Command::Defs(DefsArgs { dir, markdown })) => {
            CommandConfig::Defs(DefsConfig { dir, markdown })
        }
        Some(Command::Report(args)) => CommandConfig::Report(folders::resolve_report(args, &env)),
        Some(Command::Diff(args)) => CommandConfig::Diff(folders::resolve_diff(args, &env)?),
        Some(Command::Archive(args)) => CommandConfig::Archive(ArchiveConfig {
            dir: args.dir,
            to: args.to,
            env,
        }),
        Some(Command::Verify(args)) => {
            let key = args
                .key
                .or_else(|| env.get_nonempty("OA_VERIFY_KEY").map(str::to_string))
                .ok_or_else(|| {
                    UsageError("verify: --key PUBKEY (or OA_VERIFY_KEY) is required".to_string())
                })?;
            CommandConfig::Verify(VerifyConfig {
                dir: args.dir,
                key: KeyRef::parse(&key),
                env,
            })
        }
        Some(Command::Rerun(args)) => CommandConfig::Rerun(folders::resolve_rerun(args, env, now)),
        Some(Command::Lock(LockArgs { lanes_dir, check })) => {
            // The matrix a run would use: `--lanes DIR`, else the built-in one; writing a
            // lock needs a folder, the source tree's `lanes/` when there is one.
            let matrix = match lanes_dir {
                Some(dir) => Matrix::Dir(dir),
                None if !check && std::path::Path::new("lanes").is_dir() => {
                    Matrix::Dir(PathBuf::from("lanes"))
                }
                None => Matrix::BuiltIn,
            };
            CommandConfig::Lock(LockConfig {
                matrix,
                check_only: check,
                env,
            })
        }
        Some(Command::Setup) => CommandConfig::Setup(env),
        Some(Command::Show(args)) => CommandConfig::Show(args.path),
    };
    let progress = match &command {
        CommandConfig::Run(_) => style.progress && !cli.run.no_progress,
        CommandConfig::Rerun(rerun) => style.progress && !rerun.no_progress,
        _ => style.progress,
    };
    let quiet = matches!(&command, CommandConfig::Run(_)) && cli.run.quiet;
    let verbose = matches!(&command, CommandConfig::Run(_)) && cli.run.verbose;
    Ok(Config {
        command,
        style: TerminalStyle {
            progress,
            quiet,
            verbose,
            ..style
        },
    })
}

/// Whether stdout is a terminal and colour is allowed (NO_COLOR, https://no-color.org).
fn terminal_style(env: &EnvSnapshot) -> TerminalStyle {
    use std::io::IsTerminal;
    let tty = std::io::stdout().is_terminal() && std::io::stderr().is_terminal();
    let no_color = env.get("NO_COLOR").is_some_and(|v| !v.is_empty());
    let ci = env.get("CI").is_some_and(|v| !v.is_empty() && v != "false");
    TerminalStyle {
        color: tty && !no_color,
        progress: tty && !ci,
        quiet: false,
        verbose: false,
    }
}

fn resolve_plan(args: &LaneArgs, env: EnvSnapshot) -> Result<PlanConfig, UsageError> {
    let mut lanes = lanes::resolve_lanes(&args.lanes, args.lanes_dir.as_deref())?;
    phase::add_phase_lanes(args.phase, &mut lanes);
    let phase = PhaseChoice::resolve(args.phase);
    let sim = args.sim.then(|| SimSettings {
        faults: Vec::new(),
        era: phase.sim_era(),
        latency: Duration::ZERO,
        setup: false,
    });
    Ok(PlanConfig {
        lanes,
        phase,
        deployment: DeploymentConfig::resolve(sim, env)?,
        settings: PrimitiveSettings {
            phase: Some(phase.phase),
            ..PrimitiveSettings::default()
        },
    })
}

fn resolve_sim(args: &SimArgs, env: EnvSnapshot) -> Result<SimCommandConfig, UsageError> {
    let list_faults = args.faults.iter().any(|f| f == "help" || f == "list");
    let faults = if list_faults {
        Vec::new()
    } else {
        sim::parse_faults(&args.faults)?
    };
    let latency =
        crate::duration::parse(&args.latency).map_err(|e| UsageError(format!("--latency {e}")))?;
    Ok(SimCommandConfig {
        sim: SimSettings {
            faults,
            era: PhaseChoice::resolve(args.phase).sim_era(),
            latency,
            setup: true,
        },
        env,
        list_faults,
    })
}

fn resolve_repl(args: &ReplArgs, env: EnvSnapshot) -> Result<ReplConfig, UsageError> {
    let history = if args.no_history {
        None
    } else {
        history_path(&env)
    };
    let sim = args.sim.then(|| SimSettings {
        faults: Vec::new(),
        era: SimEra::default(),
        latency: Duration::ZERO,
        setup: false,
    });
    Ok(ReplConfig {
        deployment: DeploymentConfig::resolve(sim, env)?,
        settings: PrimitiveSettings::default(),
        target: args.target.clone(),
        history,
    })
}

/// Where the REPL history lives: `$XDG_STATE_HOME/oa-validate/history`, else
/// `~/.local/state/oa-validate/history`.
pub fn history_path(env: &EnvSnapshot) -> Option<PathBuf> {
    let base = env
        .get_nonempty("XDG_STATE_HOME")
        .map(PathBuf::from)
        .or_else(|| {
            env.get_nonempty("HOME")
                .map(|h| std::path::Path::new(h).join(".local/state"))
        })?;
    Some(base.join("oa-validate").join("history"))
}

/// The configuration of a run: `oa-validate [LANE ...]`, or the run `rerun` reconstructs from
/// an evidence folder's record of its invocation.
pub fn resolve_run(
    args: &RunArgs,
    mut env: EnvSnapshot,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<RunConfig, UsageError> {
    // `--var KEY=VALUE` (Hurl's `--variable`): as if exported, for the lanes and the targets.
    for var in &args.vars {
        let (name, value) = var
            .split_once('=')
            .filter(|(name, _)| is_variable_name(name))
            .ok_or_else(|| {
                UsageError(format!(
                    "--var {var:?}: expected NAME=VALUE, NAME of letters, digits and _"
                ))
            })?;
        env.set(name, value);
    }
    let mut lanes = lanes::resolve_lanes(&args.lanes, args.lanes_dir.as_deref())?;
    phase::add_phase_lanes(args.phase, &mut lanes);
    let phase = PhaseChoice::resolve(args.phase);
    let backup_max_age = crate::duration::parse(&args.backup_max_age)
        .map_err(|e| UsageError(format!("--backup-max-age {e}")))?;
    let fail_on_required = env
        .get("FAIL_ON_REQUIRED_FAILURE")
        .unwrap_or("1")
        .to_string();
    let baseline_env = match parse_toggle(&fail_on_required) {
        Some(on) => !on,
        None => {
            return Err(UsageError(format!(
                "FAIL_ON_REQUIRED_FAILURE={fail_on_required:?} is not 1/true/yes/on or 0/false/no/off"
            )));
        }
    };
    let baseline_requested = if args.baseline {
        Some("--baseline")
    } else if baseline_env {
        Some("FAIL_ON_REQUIRED_FAILURE=0")
    } else {
        None
    };
    let mode = match (args.gate, baseline_requested) {
        (true, _) => Mode::Gate,
        (false, Some(_)) => Mode::Baseline,
        (false, None) => Mode::Normal,
    };
    if args.jobs == 0 {
        return Err(UsageError("--jobs must be at least 1".to_string()));
    }
    let default_timeout =
        crate::duration::parse(&args.timeout).map_err(|e| UsageError(format!("--timeout {e}")))?;
    if default_timeout < Duration::from_millis(1) {
        return Err(UsageError("--timeout must be positive".to_string()));
    }
    let max_body = parse_bytes(&args.max_body).map_err(UsageError)?;
    let out_dir = match (&args.out, env.get_nonempty("OUTPUT_DIR")) {
        (Some(dir), _) => dir.clone(),
        (None, Some(dir)) => PathBuf::from(dir),
        (None, None) => default_out_dir(Path::new("validation-evidence"), now),
    };
    let env_sign = env.get_nonempty("OA_SIGNING_KEY").map(str::to_string);
    let sim = if args.sim {
        Some(SimSettings {
            faults: sim::parse_faults(&args.sim_faults)?,
            era: phase.sim_era(),
            latency: Duration::ZERO,
            // The HTMX lanes need Chromium and the htmx library.
            setup: true,
        })
    } else {
        None
    };
    Ok(RunConfig {
        lanes,
        phase,
        check_filter: args.checks.clone(),
        deployment: DeploymentConfig::resolve(sim, env)?,
        settings: PrimitiveSettings {
            limits: Limits {
                max_body,
                http_timeout: DEFAULT_HTTP_TIMEOUT,
            },
            allow_prod_mutations: args.allow_prod_mutations,
            phase: Some(phase.phase),
            backup_max_age,
            ca_bundle: args.cacert.clone(),
        },
        mode,
        baseline_requested,
        jobs: args.jobs,
        out_dir,
        replace_out: args.replace_out,
        default_timeout,
        http_archive: !args.no_har,
        fail_fast: args.fail_fast,
        sign: args
            .sign
            .as_deref()
            .or(env_sign.as_deref())
            .map(KeyRef::parse),
        started_at: now,
    })
}

/// A size such as `16MiB`, `512k` or `1024`, in bytes.
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

/// The upstream timestamp form, `YYYYMMDDTHHMMSSZ`.
/// `<base>/<timestamp>`, or `<timestamp>-2`, `-3`, ... when it exists: a run never writes
/// into an earlier run's folder, and two runs started in the same second get their own.
pub fn default_out_dir(base: &Path, now: chrono::DateTime<chrono::Utc>) -> PathBuf {
    let stamp = timestamp(now);
    (1..1000)
        .map(|n| match n {
            1 => base.join(&stamp),
            n => base.join(format!("{stamp}-{n}")),
        })
        .find(|dir| std::fs::symlink_metadata(dir).is_err())
        .unwrap_or_else(|| base.join(stamp))
}

pub fn timestamp(now: chrono::DateTime<chrono::Utc>) -> String {
    now.format("%Y%m%dT%H%M%SZ").to_string()
}

/// An environment variable name as `--var` accepts it: `[A-Za-z_][A-Za-z0-9_]*`.
fn is_variable_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

#[cfg(test)]
mod out_dir_tests {
    use super::*;

    #[test]
    fn two_runs_in_the_same_second_get_their_own_default_folder() {
        let base = tempfile::tempdir().unwrap();
        let now = chrono::Utc::now();
        let first = default_out_dir(base.path(), now);
        assert_eq!(first, base.path().join(timestamp(now)));
        std::fs::create_dir_all(&first).unwrap();
        let second = default_out_dir(base.path(), now);
        assert_eq!(second, base.path().join(format!("{}-2", timestamp(now))));
    }
}

#[cfg(test)]
mod key_ref_tests {
    use super::KeyRef;
    use std::path::PathBuf;

    #[test]
    fn a_kms_key_version_name_is_told_from_a_key_file() {
        let name = "projects/p/locations/global/keyRings/r/cryptoKeys/k/cryptoKeyVersions/3";
        assert_eq!(KeyRef::parse(name), KeyRef::Kms(name.to_string()));
        assert_eq!(
            KeyRef::parse(&format!("gcpkms://{name}")),
            KeyRef::Kms(name.to_string())
        );
        for file in [
            "release.pem",
            "projects/p/keys/release.pem",
            "projects/p/locations/global/keyRings/r/cryptoKeys/k",
            "projects//locations/global/keyRings/r/cryptoKeys/k/cryptoKeyVersions/3",
        ] {
            assert_eq!(
                KeyRef::parse(file),
                KeyRef::File(PathBuf::from(file)),
                "{file}"
            );
        }
    }
}
