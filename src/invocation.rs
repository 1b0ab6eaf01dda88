//! How a run was made (lanes, targets, simulation and faults, phase, mode, filters, options),
//! recorded in summary.json as `run.invocation`: the one source for reproducing a run.
//!
//! `oa-validate rerun` reads it back, as a stranger's data: it takes only what to re-run from it
//! (see [`crate::rerun`]); [`Invocation::command_line`] renders it as the command that repeats
//! the run. Secrets are never part of it: secret variables are listed by name.

use crate::config::Mode;
use crate::config::{self, DeploymentConfig, EnvSnapshot, RunConfig, Target};
use crate::cutover::CutoverPhase;
use crate::shell::quote as shell_quote;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

pub const SCHEMA: &str = "oa-validate.invocation.v1";

/// Variables outside the upstream list that shape what a run does (documented in docs/cli.md).
const EXTRA_VARIABLES: &[&str] = &["EXPECTED_IMAGE", "LARAVEL_DB_BACKUP_EVIDENCE"];

/// Upstream variables recorded elsewhere in the invocation (targets, mode) or not part of
/// reproducing a run (the evidence folder).
const NOT_RECORDED: &[&str] = &[
    "STAGING_CONTROL_BASE_URL",
    "PROD_CONTROL_BASE_URL",
    "STAGING_RUNTIME_BASE_URL",
    "PROD_RUNTIME_BASE_URL",
    "FAIL_ON_REQUIRED_FAILURE",
    "OUTPUT_DIR",
];

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Invocation {
    pub schema: String,
    /// Lane files in run order, as given (relative to the working directory of the run).
    pub lanes: Vec<LaneFile>,
    /// True when no lane was named: a whole matrix (the built-in one, or `lanes_dir`).
    pub full_matrix: bool,
    /// `--lanes DIR` as given; `null`: the built-in matrix or named lane files.
    #[serde(default)]
    pub lanes_dir: Option<String>,
    /// `--check` filters; empty when every check of the lanes ran.
    pub checks: Vec<String>,
    pub mode: Mode,
    /// `--phase` as given (`null`: the default phase; the sim era follows the phase).
    pub phase: Option<CutoverPhase>,
    /// `--sim`: the in-process simulated deployment; `null` against real targets.
    pub sim: Option<SimRecord>,
    /// The targets as resolved; simulated targets have no URLs (their ports change every run).
    pub targets: Vec<TargetRecord>,
    pub options: RunOptions,
    /// Non-secret variables that were set and shape the run (`RUN_*` toggles, `OA_*`, GCP
    /// names, `EXPECTED_IMAGE`, ...), by name.
    pub environment: BTreeMap<String, String>,
    /// Names of the secret variables that were set; their values are never recorded.
    pub secrets_set: Vec<String>,
    /// The other variables the lanes read with `env()`, and their values (`null`: unset), for
    /// a re-run to show and read again from its own environment. Secret-named ones are only
    /// named, in `secrets_set` when set. Absent in folders written before it (issue 20).
    #[serde(default)]
    pub lane_env: BTreeMap<String, Option<String>>,
    /// Set when this run re-ran the failed checks of an earlier evidence folder.
    pub rerun_of: Option<RerunOf>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct LaneFile {
    pub path: String,
    /// SHA-256 of the lane's source as it ran (lowercase hex).
    pub sha256: String,
    /// The lane came from the matrix built into the binary (its `path` is where it was built
    /// from), not from a file.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub embedded: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct SimRecord {
    /// `--sim-fault` names, in the order given.
    pub faults: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct TargetRecord {
    pub name: String,
    pub control_url: Option<String>,
    pub runtime_url: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct RunOptions {
    pub jobs: usize,
    /// `--timeout`, e.g. `60s`.
    pub timeout: String,
    /// `--max-body` in bytes.
    pub max_body: u64,
    pub allow_prod_mutations: bool,
    /// False with `--no-har`.
    pub http_archive: bool,
    /// `--backup-max-age`, e.g. `1day`.
    pub backup_max_age: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct RerunOf {
    /// The earlier evidence folder, as named on the command line.
    pub folder: String,
    /// Its `run.timestamp`.
    pub timestamp: String,
    /// Its verdict decision (`GO` / `NO-GO`).
    pub decision: String,
    /// The failed and errored checks of that folder: the ones re-run.
    pub checks: Vec<String>,
}

/// Lowercase hex SHA-256 of a lane's source.
pub fn source_digest(source: &str) -> String {
    hex::encode(Sha256::digest(source.as_bytes()))
}

impl Invocation {
    /// The record of a run about to start. `config` is the configuration as resolved from the
    /// command line and environment (for `--sim`, the environment before the sim's exports were
    /// applied); `targets` are the run's targets; `lanes` are (display path, source, built in)
    /// of the planned lanes.
    pub fn record<'a>(
        config: &RunConfig,
        targets: &[Target],
        lanes: impl IntoIterator<Item = (&'a str, &'a str, bool)>,
    ) -> Invocation {
        let env = given_env(config);
        let sim_faults = match &config.deployment {
            DeploymentConfig::Real(_) => None,
            DeploymentConfig::Sim(settings, _) => Some(&settings.faults),
        };
        let simulated = sim_faults.is_some();
        let (environment, secrets_set) = recorded_environment(env);
        Invocation {
            schema: SCHEMA.to_string(),
            lanes: lanes
                .into_iter()
                .map(|(path, source, embedded)| LaneFile {
                    path: path.to_string(),
                    sha256: source_digest(source),
                    embedded,
                })
                .collect(),
            full_matrix: config.lanes.full_matrix,
            lanes_dir: match &config.lanes.matrix {
                Some(config::Matrix::Dir(dir)) => Some(dir.display().to_string()),
                _ => None,
            },
            checks: config.check_filter.clone(),
            mode: config.mode,
            phase: config.phase.given(),
            sim: sim_faults.map(|faults| SimRecord {
                faults: faults.iter().map(|f| f.name().to_string()).collect(),
            }),
            targets: targets
                .iter()
                .map(|t| TargetRecord {
                    name: t.name.clone(),
                    control_url: (!simulated).then(|| t.control_url.clone()),
                    runtime_url: if simulated {
                        None
                    } else {
                        t.runtime_url.clone()
                    },
                })
                .collect(),
            options: RunOptions {
                jobs: config.jobs,
                timeout: humantime::format_duration(config.default_timeout).to_string(),
                max_body: config.settings.limits.max_body,
                allow_prod_mutations: config.settings.allow_prod_mutations,
                http_archive: config.http_archive,
                backup_max_age: humantime::format_duration(config.settings.backup_max_age)
                    .to_string(),
            },
            environment,
            secrets_set,
            lane_env: BTreeMap::new(),
            rerun_of: None,
        }
    }

    /// Records the variables the lanes read (`reads`, from [`crate::engine::host::Host`]) with
    /// their values in the environment the run was given (`config`'s: before `--sim` set its
    /// own). Names recorded elsewhere (targets, `environment`) are left out; secret names
    /// join `secrets_set` when set, never with a value.
    pub fn note_lane_env(&mut self, config: &RunConfig, reads: &[String]) {
        let env = given_env(config);
        for name in reads {
            if self.environment.contains_key(name) || NOT_RECORDED.contains(&name.as_str()) {
                continue;
            }
            if config::is_secret_name(name) {
                if env.get_nonempty(name).is_some() && !self.secrets_set.contains(name) {
                    self.secrets_set.push(name.clone());
                }
            } else {
                self.lane_env
                    .insert(name.clone(), env.get(name).map(str::to_string));
            }
        }
    }

    /// The variables of the shell command that repeats this run ([`Invocation::command_line`]):
    /// the recorded environment, and the target URLs of a run against real targets. Secrets
    /// come from the caller's environment. (`rerun` applies far fewer: see [`crate::rerun`].)
    pub fn variables(&self) -> Vec<(String, String)> {
        let mut vars: Vec<(String, String)> = self
            .environment
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        if self.sim.is_none() {
            for target in &self.targets {
                let prefix = target.name.to_ascii_uppercase();
                if let Some(url) = &target.control_url {
                    vars.push((format!("{prefix}_CONTROL_BASE_URL"), url.clone()));
                }
                if let Some(url) = &target.runtime_url {
                    vars.push((format!("{prefix}_RUNTIME_BASE_URL"), url.clone()));
                }
            }
        }
        vars
    }

    /// The command (with its variables in front) that repeats this run, for a POSIX shell.
    /// Secrets are not in it: the variables named in `secrets_set` must be exported as before.
    pub fn command_line(&self) -> String {
        self.words(self.mode, &self.checks, None).join(" ")
    }

    /// The command that repeats one check of this run, `lane` being its lane as displayed:
    /// the same deployment (`--sim` and its faults, or the recorded targets), phase, options
    /// and variables, with `--check ID` (a gate run's check repeats as a normal run: the gate
    /// refuses filters). The check's lane is named when the run named lanes.
    pub fn check_command(&self, id: &str, lane: &str) -> String {
        let mode = match self.mode {
            Mode::Gate => Mode::Normal,
            other => other,
        };
        self.words(mode, &[id.to_string()], Some(lane)).join(" ")
    }

    fn words(&self, mode: Mode, checks: &[String], only_lane: Option<&str>) -> Vec<String> {
        let defaults = EnvSnapshot::default();
        let mut words: Vec<String> = self
            .variables()
            .into_iter()
            .filter(|(name, value)| defaults.get(name) != Some(value.as_str()))
            .map(|(name, value)| format!("{name}={}", shell_quote(&value)))
            .collect();
        words.push("oa-validate".to_string());
        if let Some(sim) = &self.sim {
            words.push("--sim".to_string());
            for fault in &sim.faults {
                words.push(format!("--sim-fault {}", shell_quote(fault)));
            }
        }
        match mode {
            Mode::Gate => words.push("--gate".to_string()),
            Mode::Baseline => words.push("--baseline".to_string()),
            Mode::Normal => {}
        }
        if let Some(phase) = self.phase {
            words.push(format!("--phase {}", shell_quote(phase.name())));
        }
        let options = &self.options;
        // One check runs on one worker: its command leaves `--jobs` out (and so stays the
        // same whatever the run's `--jobs`: results.tsv does not depend on it).
        if options.jobs != 4 && only_lane.is_none() {
            words.push(format!("--jobs {}", options.jobs));
        }
        if options.timeout != "1m" {
            words.push(format!("--timeout {}", options.timeout));
        }
        if options.max_body != 16 * 1024 * 1024 {
            words.push(format!("--max-body {}", options.max_body));
        }
        if options.allow_prod_mutations {
            words.push("--allow-prod-mutations".to_string());
        }
        if !options.http_archive {
            words.push("--no-har".to_string());
        }
        if self.phase.is_some() && options.backup_max_age != "1day" {
            words.push(format!("--backup-max-age {}", options.backup_max_age));
        }
        for id in checks {
            words.push(format!("--check {}", shell_quote(id)));
        }
        if let Some(dir) = &self.lanes_dir {
            words.push(format!("--lanes {}", shell_quote(dir)));
        } else if !self.full_matrix {
            // A built-in lane (the phase's backup lane) comes along by itself.
            words.extend(
                self.lanes
                    .iter()
                    .filter(|lane| !lane.embedded)
                    .filter(|lane| only_lane.is_none_or(|only| only == lane.path))
                    .map(|lane| shell_quote(&lane.path)),
            );
        }
        words
    }

    /// What the verdict line of a re-run says after the verdict word.
    pub fn partial_note(&self) -> Option<String> {
        self.rerun_of.as_ref().map(|origin| {
            format!(
                "partial re-run of {}: not a release decision",
                origin.folder
            )
        })
    }

    /// One digest of the lanes that ran (their paths and contents): equal digests, same lanes.
    pub fn lanes_digest(&self) -> String {
        let mut hasher = Sha256::new();
        for lane in &self.lanes {
            hasher.update(lane.path.as_bytes());
            hasher.update(b"\0");
            hasher.update(lane.sha256.as_bytes());
            hasher.update(b"\n");
        }
        hex::encode(hasher.finalize())
    }
}

/// The environment the run was given (for `--sim`, before the sim's exports were applied).
fn given_env(config: &RunConfig) -> &EnvSnapshot {
    match &config.deployment {
        DeploymentConfig::Real(deployment) => &deployment.env,
        DeploymentConfig::Sim(_, env) => env,
    }
}

/// (non-secret variables worth recording, names of secret variables that were set).
fn recorded_environment(env: &EnvSnapshot) -> (BTreeMap<String, String>, Vec<String>) {
    let mut recorded = BTreeMap::new();
    let mut secrets = Vec::new();
    for (name, value) in env.iter() {
        let shapes_the_run = config::UPSTREAM_VARIABLES.iter().any(|(n, _)| *n == name)
            || name.starts_with("RUN_")
            || name.starts_with("OA_")
            || EXTRA_VARIABLES.contains(&name);
        if !shapes_the_run || NOT_RECORDED.contains(&name) {
            continue;
        }
        if config::is_secret_name(name) {
            if !value.is_empty() {
                secrets.push(name.to_string());
            }
        } else {
            recorded.insert(name.to_string(), value.to_string());
        }
    }
    (recorded, secrets)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{
        Deployment, LaneSelection, Mode, PhaseChoice, PrimitiveSettings, SimSettings,
    };
    use std::path::PathBuf;
    use std::time::Duration;

    fn staging() -> Vec<Target> {
        vec![Target {
            name: "staging".to_string(),
            label: "staging".to_string(),
            control_url: "https://staging.example.com".to_string(),
            runtime_url: None,
            token: Some("stg-token-123456789".to_string()),
            token_var: "STAGING_CONTROL_ACCESS_TOKEN".to_string(),
            simulated: false,
        }]
    }

    fn config_with(env: &[(&str, &str)]) -> RunConfig {
        let env = EnvSnapshot::new(env.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        RunConfig {
            lanes: LaneSelection {
                files: vec![crate::config::LaneFile::Disk(PathBuf::from(
                    "lanes/control.rhai",
                ))],
                full_matrix: false,
                matrix: None,
                named: vec!["lanes/control.rhai".to_string()],
            },
            phase: PhaseChoice::resolve(None),
            check_filter: vec!["control-staging-health".to_string()],
            deployment: DeploymentConfig::Real(Deployment {
                targets: staging(),
                env,
                secrets: Vec::new(),
                simulated: false,
            }),
            settings: PrimitiveSettings {
                backup_max_age: Duration::from_secs(86_400),
                ..PrimitiveSettings::default()
            },
            mode: Mode::Baseline,
            baseline_requested: Some("--baseline"),
            jobs: 2,
            out_dir: PathBuf::from("out"),
            replace_out: false,
            default_timeout: Duration::from_secs(60),
            http_archive: true,
            fail_fast: false,
            started_at: chrono::Utc::now(),
        }
    }

    #[test]
    fn secrets_are_named_never_valued_and_unrelated_variables_are_left_out() {
        let config = config_with(&[
            ("STAGING_CONTROL_ACCESS_TOKEN", "stg-token-123456789"),
            ("RUN_CROSS_SURFACE", "1"),
            ("OA_PERF_SAMPLES", "3"),
            ("GCP_PROJECT", "other"),
            ("HOME", "/root"),
            ("OUTPUT_DIR", "x"),
            ("STAGING_CONTROL_BASE_URL", "https://staging.example.com"),
        ]);
        let record = Invocation::record(
            &config,
            &staging(),
            [("lanes/control.rhai", "required(\"a\", || {});", false)],
        );
        let text = serde_json::to_string(&record).expect("serializes");
        assert!(!text.contains("stg-token-123456789"), "{text}");
        assert_eq!(record.secrets_set, ["STAGING_CONTROL_ACCESS_TOKEN"]);
        assert_eq!(
            record.environment.keys().collect::<Vec<_>>(),
            ["GCP_PROJECT", "OA_PERF_SAMPLES", "RUN_CROSS_SURFACE"]
        );
        assert_eq!(record.mode, Mode::Baseline);
        assert_eq!(record.lanes[0].sha256.len(), 64);
        let back: Invocation = serde_json::from_str(&text).expect("reads back");
        assert_eq!(back, record);
    }

    #[test]
    fn the_command_line_repeats_the_run() {
        let mut config = config_with(&[("RUN_CROSS_SURFACE", "1")]);
        config.phase = PhaseChoice::resolve(Some(CutoverPhase::LegacyDeletion));
        let record = Invocation::record(&config, &staging(), [("lanes/control.rhai", "", false)]);
        assert_eq!(
            record.command_line(),
            "RUN_CROSS_SURFACE=1 STAGING_CONTROL_BASE_URL=https://staging.example.com \
             oa-validate --baseline --phase legacy-deletion --jobs 2 \
             --check control-staging-health lanes/control.rhai"
        );
        let mut config = config_with(&[]);
        config.deployment = DeploymentConfig::Sim(
            SimSettings {
                faults: vec![oa_sim::Fault::Readyz503],
                era: oa_sim::SimEra::default(),
                latency: Duration::ZERO,
                setup: false,
            },
            EnvSnapshot::default(),
        );
        config.lanes.full_matrix = true;
        config.check_filter.clear();
        config.mode = Mode::Gate;
        config.jobs = 4;
        let record = Invocation::record(&config, &staging(), [("lanes/control.rhai", "", false)]);
        assert_eq!(record.targets[0].control_url, None);
        assert_eq!(
            record.command_line(),
            "oa-validate --sim --sim-fault readyz-503 --gate"
        );
    }

    /// The phase is recorded as the cutover phase it was given as, and read back as one: a
    /// re-run passes it to `--phase` (and so gets that phase's sim era). The default is not
    /// recorded, so a re-run gets the default too.
    #[test]
    fn the_phase_is_recorded_by_name_and_reads_back() {
        let mut config = config_with(&[]);
        config.phase = PhaseChoice::resolve(Some(CutoverPhase::SpacetimeConvergence));
        let record = Invocation::record(&config, &staging(), [("lanes/control.rhai", "", false)]);
        let json = serde_json::to_value(&record).expect("serializes");
        assert_eq!(json["phase"], "spacetime-convergence");
        let back: Invocation = serde_json::from_value(json).expect("reads back");
        assert_eq!(back.phase, Some(CutoverPhase::SpacetimeConvergence));
        let default = Invocation::record(&config_with(&[]), &staging(), []);
        assert_eq!(
            serde_json::to_value(&default).unwrap()["phase"],
            serde_json::Value::Null
        );
        let mut unknown = serde_json::to_value(&record).unwrap();
        unknown["phase"] = serde_json::Value::from("no-such-phase");
        assert!(serde_json::from_value::<Invocation>(unknown).is_err());
    }
}
