//! The release gate's rules, in one place: what `--gate` refuses before anything runs, whether
//! a declared check may run at all, and how a verdict becomes an exit code. docs/release-gate.md
//! has them as a table; each rule has a unit test below.
//!
//! The rules read declarations ([`CheckSpec`]), never check bodies, so they need no engine: the
//! one rule that must plan lanes again (hidden toggles) is handed the planner.

use crate::config::{DEFAULT_LANES, EnvSnapshot, Mode, PhaseChoice, RunConfig, Target};
use crate::cutover::CutoverPhase;
use crate::exit_code;
use crate::outcome::{CheckResult, CheckSpec, Level, Missing, Status};
use crate::verdict::Decision;
use std::collections::HashSet;
use std::path::Path;

/// Why `--gate` refuses to run; the text is what the user reads after `error:`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// `--baseline` or `FAIL_ON_REQUIRED_FAILURE=0`: a gate must fail on a required failure.
    Baseline { requested_by: &'static str },
    /// Lane files or globs were named: the gate runs the whole matrix.
    LaneSubset { lanes: Vec<String> },
    /// `--check` filters.
    CheckFilter { ids: Vec<String> },
    /// A toggle would skip a required check.
    ToggledOff {
        check: String,
        variable: String,
        raw: String,
    },
    /// A required check's toggle holds a value that is not a toggle.
    BadToggle { check: String, message: String },
    /// A required check would mutate production without `--allow-prod-mutations`.
    MutatesProduction { check: String },
    /// The matrix has phase-dependent checks and `--phase` was not given: a gate decides one
    /// cutover phase, never the default.
    PhaseAmbiguous,
    /// The matrix has no lock: a gate must know which matrix it runs.
    NoLock { lock: String },
    /// The planned matrix differs from its lock (one refusal per difference).
    Unlocked { lock: String, difference: String },
    /// A required check is declared only under some value of a variable its lane read.
    HiddenToggle {
        check: String,
        lane: String,
        /// `VAR=value` or `VAR is unset`.
        when: String,
        variable: String,
    },
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refusal::Baseline { requested_by } => write!(
                f,
                "refuses {requested_by}: a release gate must fail on a required failure"
            ),
            Refusal::LaneSubset { lanes } => write!(
                f,
                "runs the whole matrix ({DEFAULT_LANES}); it refuses a lane subset: {}",
                lanes.join(" ")
            ),
            Refusal::CheckFilter { ids } => write!(
                f,
                "runs the whole matrix; it refuses --check {}",
                ids.join(", ")
            ),
            Refusal::ToggledOff {
                check,
                variable,
                raw,
            } => write!(
                f,
                "required check {check} would be skipped by {variable}={raw}"
            ),
            Refusal::BadToggle { check, message } => write!(f, "required check {check}: {message}"),
            Refusal::MutatesProduction { check } => write!(
                f,
                "required check {check} mutates production: pass --allow-prod-mutations"
            ),
            Refusal::PhaseAmbiguous => {
                write!(
                    f,
                    "the matrix has phase-dependent checks; name the cutover phase with --phase:"
                )?;
                for p in CutoverPhase::all() {
                    write!(f, "\n  {:22} {}", p.name(), p.describe())?;
                }
                Ok(())
            }
            Refusal::NoLock { lock } => write!(
                f,
                "the matrix has no lock ({lock}): write one with `oa-validate lock`, review and commit it"
            ),
            Refusal::Unlocked { lock, difference } => write!(
                f,
                "the matrix differs from {lock}: {difference} (`oa-validate lock` re-locks it once reviewed)"
            ),
            Refusal::HiddenToggle {
                check,
                lane,
                when,
                variable,
            } => write!(
                f,
                "required check {check} ({lane}) is declared only when {when}: a hidden toggle; declare it always and use `toggle: \"{variable}\"`"
            ),
        }
    }
}

/// What `--gate` refuses from the invocation alone, before any lane is planned (the first
/// refusal; the user fixes one thing at a time).
pub fn refuse_invocation(config: &RunConfig) -> Option<Refusal> {
    if config.mode != Mode::Gate {
        return None;
    }
    if let Some(requested_by) = config.baseline_requested {
        return Some(Refusal::Baseline { requested_by });
    }
    if !config.lanes.full_matrix {
        return Some(Refusal::LaneSubset {
            lanes: config.lanes.named.clone(),
        });
    }
    if !config.check_filter.is_empty() {
        return Some(Refusal::CheckFilter {
            ids: config.check_filter.clone(),
        });
    }
    None
}

/// What `--gate` refuses as soon as the lanes are planned, before the plan is narrowed to the
/// phase: a matrix whose checks differ by phase (`phase_dependent`) gated without `--phase`.
pub fn refuse_ambiguous_phase(
    mode: Mode,
    phase: PhaseChoice,
    phase_dependent: bool,
) -> Option<Refusal> {
    (mode == Mode::Gate && !phase.explicit && phase_dependent).then_some(Refusal::PhaseAmbiguous)
}

/// What `--gate` refuses when the planned matrix is not the locked one: no lock, or each
/// difference from it (a check missing, a level lowered, a lane changed without re-locking).
/// Decided before any request.
pub fn refuse_unlocked(matrix: &crate::lock::MatrixRecord) -> Vec<Refusal> {
    use crate::lock::LockStatus;
    match matrix.status {
        LockStatus::Matches | LockStatus::NotCompared => Vec::new(),
        LockStatus::Missing => vec![Refusal::NoLock {
            lock: matrix.lock.clone(),
        }],
        LockStatus::Differs => matrix
            .differences
            .iter()
            .map(|difference| Refusal::Unlocked {
                lock: matrix.lock.clone(),
                difference: difference.clone(),
            })
            .collect(),
    }
}

/// What `--gate` refuses once the plan is known: a toggle that would skip a required check,
/// and a required check that would mutate production without `--allow-prod-mutations`.
pub fn refuse_plan<'a>(
    checks: impl IntoIterator<Item = &'a CheckSpec>,
    env: &EnvSnapshot,
    targets: &[Target],
    allow_prod_mutations: bool,
) -> Vec<Refusal> {
    let mut refusals = Vec::new();
    for check in checks.into_iter().filter(|c| c.level == Level::Required) {
        if let Some(toggle) = &check.toggle {
            match env.toggle(toggle) {
                Ok(true) => {}
                Ok(false) => refusals.push(Refusal::ToggledOff {
                    check: check.id.clone(),
                    variable: toggle.clone(),
                    raw: env.get(toggle).unwrap_or_default().to_string(),
                }),
                Err(message) => refusals.push(Refusal::BadToggle {
                    check: check.id.clone(),
                    message,
                }),
            }
        }
        if mutates_production(check, targets, allow_prod_mutations) {
            refusals.push(Refusal::MutatesProduction {
                check: check.id.clone(),
            });
        }
    }
    refusals
}

/// A lane whose top level read environment variables while it was planned.
pub struct LaneReads<'a> {
    pub path: &'a Path,
    /// As shown to users.
    pub display: &'a str,
    pub env_reads: &'a [String],
}

/// The values each variable a lane read is tried with.
const VARIANTS: [Option<&str>; 5] = [None, Some("1"), Some("0"), Some("true"), Some("false")];

/// Hidden toggles: required checks a lane declares only under some value of a variable its
/// top level read, which the gate could not see. Each such lane is planned again (`replan`)
/// with each variable unset and set to the usual toggle values; a required check of `phase`
/// that appears in a variant but not among `declared` is refused (the lane should use
/// `toggle:` instead). A check of another phase is not hidden: it is out of this run.
pub fn hidden_toggles<'a>(
    declared: impl IntoIterator<Item = &'a CheckSpec>,
    lanes: &[LaneReads],
    env: &EnvSnapshot,
    phase: CutoverPhase,
    mut replan: impl FnMut(&Path, EnvSnapshot) -> Option<Vec<CheckSpec>>,
) -> Vec<Refusal> {
    let declared: HashSet<&str> = declared
        .into_iter()
        .filter(|c| c.level == Level::Required)
        .map(|c| c.id.as_str())
        .collect();
    let mut refusals = Vec::new();
    for lane in lanes {
        for var in lane.env_reads {
            for value in VARIANTS {
                let mut variant = env.clone();
                match value {
                    Some(v) => variant.set(var, v),
                    None => variant.remove(var),
                }
                let Some(checks) = replan(lane.path, variant) else {
                    continue;
                };
                let of_this_run =
                    |c: &&CheckSpec| c.level == Level::Required && phase.includes(&c.phases);
                for check in checks.iter().filter(of_this_run) {
                    if declared.contains(check.id.as_str()) {
                        continue;
                    }
                    let refusal = Refusal::HiddenToggle {
                        check: check.id.clone(),
                        lane: lane.display.to_string(),
                        when: value.map_or(format!("{var} is unset"), |v| format!("{var}={v}")),
                        variable: var.clone(),
                    };
                    if !refusals.contains(&refusal) {
                        refusals.push(refusal);
                    }
                }
            }
        }
    }
    refusals
}

/// Why a check will not run at all: chosen (its toggle, the production rule) or impossible on
/// this machine (a variable it needs is unset).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotRun {
    Skipped(String),
    NotHere(Missing),
}

impl NotRun {
    pub fn status(&self) -> Status {
        match self {
            NotRun::Skipped(_) => Status::Skipped,
            NotRun::NotHere(_) => Status::NotChecked,
        }
    }

    pub fn reason(&self) -> &str {
        match self {
            NotRun::Skipped(reason) => reason,
            NotRun::NotHere(missing) => &missing.reason,
        }
    }

    /// Marks `result` as not run, for this reason.
    pub fn apply(self, result: &mut CheckResult) {
        result.status = self.status();
        result.reason = Some(self.reason().to_string());
        if let NotRun::NotHere(missing) = self {
            result.missing = Some(missing);
        }
    }
}

/// Why a check will not run at all, decided before any of its code runs: its toggle is off,
/// a variable it needs is unset, or it would mutate production without permission.
pub fn skip_reason(
    check: &CheckSpec,
    env: &EnvSnapshot,
    targets: &[Target],
    allow_prod_mutations: bool,
) -> Option<NotRun> {
    if let Some(toggle) = &check.toggle {
        match env.toggle(toggle) {
            Ok(true) => {}
            Ok(false) => {
                let raw = env.get(toggle).unwrap_or_default();
                return Some(NotRun::Skipped(format!("{toggle}={raw}")));
            }
            Err(message) => return Some(NotRun::Skipped(message)),
        }
    }
    for var in &check.needs {
        if env.get_nonempty(var).is_none() {
            return Some(NotRun::NotHere(Missing::variable(var)));
        }
    }
    if mutates_production(check, targets, allow_prod_mutations) {
        return Some(NotRun::Skipped(
            "mutates state: not run against production without --allow-prod-mutations".to_string(),
        ));
    }
    None
}

/// Whether `check` changes state on a production target and that is not allowed.
fn mutates_production(check: &CheckSpec, targets: &[Target], allow_prod_mutations: bool) -> bool {
    check.mutates && !allow_prod_mutations && runs_against_production(check, targets)
}

fn runs_against_production(check: &CheckSpec, targets: &[Target]) -> bool {
    check
        .target
        .as_deref()
        .and_then(|name| targets.iter().find(|t| t.name == name))
        .is_some_and(Target::is_production)
}

/// Ids of `mutates: true` checks that ran (were not skipped) against a production target:
/// the reports name them.
pub fn production_mutations<'a>(
    checks: impl IntoIterator<Item = (&'a CheckSpec, &'a CheckResult)>,
    targets: &[Target],
) -> Vec<String> {
    checks
        .into_iter()
        .filter(|(check, result)| {
            check.mutates
                && result.status != Status::Skipped
                && result.attempts > 0
                && runs_against_production(check, targets)
        })
        .map(|(check, _)| check.id.clone())
        .collect()
}

/// The exit code of a finished run: interrupted 130; GO 0; NO-GO 1, or 0 in baseline mode.
pub fn exit_code(decision: Decision, mode: Mode, interrupted: bool) -> i32 {
    if interrupted {
        exit_code::INTERRUPTED
    } else if decision == Decision::Go || mode == Mode::Baseline {
        exit_code::GO
    } else {
        exit_code::NO_GO
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Deployment, DeploymentConfig, LaneSelection, PrimitiveSettings};
    use crate::outcome::SourcePos;
    use std::path::PathBuf;
    use std::time::Duration;

    fn spec(id: &str, level: Level) -> CheckSpec {
        CheckSpec::new(id, level, SourcePos::default())
    }

    fn env(vars: &[(&str, &str)]) -> EnvSnapshot {
        EnvSnapshot::new(vars.iter().map(|(k, v)| (k.to_string(), v.to_string())))
    }

    fn targets(simulated: bool) -> Vec<Target> {
        ["staging", "prod"]
            .into_iter()
            .map(|name| Target {
                name: name.to_string(),
                label: name.to_string(),
                control_url: "https://example.com".to_string(),
                runtime_url: None,
                token: None,
                token_var: String::new(),
                simulated,
            })
            .collect()
    }

    fn run_config(mode: Mode, baseline: Option<&'static str>, lanes: &[&str]) -> RunConfig {
        RunConfig {
            lanes: LaneSelection {
                files: Vec::new(),
                full_matrix: lanes.is_empty(),
                matrix: None,
                named: lanes.iter().map(|l| l.to_string()).collect(),
            },
            phase: PhaseChoice::resolve(None),
            check_filter: Vec::new(),
            deployment: DeploymentConfig::Real(Deployment {
                targets: targets(false),
                env: EnvSnapshot::default(),
                secrets: Vec::new(),
                simulated: false,
            }),
            settings: PrimitiveSettings::default(),
            mode,
            baseline_requested: baseline,
            jobs: 1,
            out_dir: PathBuf::new(),
            replace_out: false,
            default_timeout: Duration::from_secs(1),
            http_archive: true,
            fail_fast: false,
            sign: None,
            started_at: chrono::Utc::now(),
        }
    }

    #[test]
    fn the_gate_refuses_a_baseline_a_lane_subset_and_check_filters() {
        let baseline = run_config(Mode::Gate, Some("FAIL_ON_REQUIRED_FAILURE=0"), &[]);
        assert_eq!(
            refuse_invocation(&baseline)
                .map(|r| r.to_string())
                .as_deref(),
            Some(
                "refuses FAIL_ON_REQUIRED_FAILURE=0: a release gate must fail on a required failure"
            )
        );
        let subset = run_config(Mode::Gate, None, &["lanes/control.rhai"]);
        assert!(
            refuse_invocation(&subset)
                .unwrap()
                .to_string()
                .contains("it refuses a lane subset: lanes/control.rhai")
        );
        let mut filtered = run_config(Mode::Gate, None, &[]);
        filtered.check_filter = vec!["a".into(), "b".into()];
        assert_eq!(
            refuse_invocation(&filtered).unwrap().to_string(),
            "runs the whole matrix; it refuses --check a, b"
        );
        assert_eq!(refuse_invocation(&run_config(Mode::Gate, None, &[])), None);
        // Outside the gate nothing is refused.
        assert_eq!(
            refuse_invocation(&run_config(Mode::Baseline, Some("--baseline"), &["x"])),
            None
        );
    }

    #[test]
    fn a_gate_of_a_phase_dependent_matrix_must_name_its_phase() {
        let default = PhaseChoice::resolve(None);
        let named = PhaseChoice::resolve(Some(CutoverPhase::SpacetimeConvergence));
        let refusal = refuse_ambiguous_phase(Mode::Gate, default, true).expect("refused");
        let text = refusal.to_string();
        assert!(
            text.starts_with(
                "the matrix has phase-dependent checks; name the cutover phase with --phase:\n  app-surface "
            ),
            "{text}"
        );
        for phase in CutoverPhase::all() {
            assert!(text.contains(phase.describe()), "{text}");
        }
        // A named phase, a matrix without phased checks, or a run that is no gate: no refusal.
        assert_eq!(refuse_ambiguous_phase(Mode::Gate, named, true), None);
        assert_eq!(refuse_ambiguous_phase(Mode::Gate, default, false), None);
        assert_eq!(refuse_ambiguous_phase(Mode::Normal, default, true), None);
        assert_eq!(refuse_ambiguous_phase(Mode::Baseline, default, true), None);
    }

    #[test]
    fn a_toggle_or_a_production_mutation_that_would_skip_a_required_check_is_refused() {
        let mut toggled = spec("a-toggled", Level::Required);
        toggled.toggle = Some("RUN_A_THING".into());
        let mut bad = spec("b-bad-toggle", Level::Required);
        bad.toggle = Some("RUN_B".into());
        let mut optional = spec("c-optional", Level::Optional);
        optional.toggle = Some("RUN_A_THING".into());
        let mut mutating = spec("d-mutates", Level::Required);
        mutating.mutates = true;
        mutating.target = Some("prod".into());
        let checks = [toggled, bad, optional, mutating];
        let env = env(&[("RUN_A_THING", "0"), ("RUN_B", "ture")]);
        let refusals: Vec<String> = refuse_plan(&checks, &env, &targets(false), false)
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            refusals,
            [
                "required check a-toggled would be skipped by RUN_A_THING=0",
                "required check b-bad-toggle: RUN_B=\"ture\" is not a toggle value (1/true/yes/on or 0/false/no/off)",
                "required check d-mutates mutates production: pass --allow-prod-mutations",
            ]
        );
        // Allowed mutations, or the sim's prod (never production), are not refused.
        assert_eq!(refuse_plan(&checks[3..], &env, &targets(false), true), []);
        assert_eq!(refuse_plan(&checks[3..], &env, &targets(true), false), []);
    }

    #[test]
    fn a_required_check_declared_under_one_value_only_is_a_hidden_toggle() {
        let always = spec("always", Level::Required);
        let lane = PathBuf::from("lanes/x.rhai");
        let reads = ["DECLARE_IT".to_string()];
        let lanes = [LaneReads {
            path: &lane,
            display: "lanes/x.rhai",
            env_reads: &reads,
        }];
        let phase = CutoverPhase::AppSurface;
        let env = EnvSnapshot::default();
        let refusals = hidden_toggles([&always], &lanes, &env, phase, |_, env| {
            let mut checks = vec![spec("always", Level::Required)];
            if env.get("DECLARE_IT") == Some("1") {
                checks.push(spec("hidden", Level::Required));
                checks.push(spec("hidden-optional", Level::Optional));
                // Another phase's check is out of this run, not hidden.
                let mut later = spec("later-phase", Level::Required);
                later.phases = vec![CutoverPhase::SpacetimeConvergence];
                checks.push(later);
            }
            Some(checks)
        });
        let refusals: Vec<String> = refusals.iter().map(ToString::to_string).collect();
        assert_eq!(
            refusals,
            [
                "required check hidden (lanes/x.rhai) is declared only when DECLARE_IT=1: a hidden toggle; declare it always and use `toggle: \"DECLARE_IT\"`"
            ]
        );
    }

    #[test]
    fn a_check_is_skipped_for_its_toggle_its_needs_or_production() {
        let mut check = spec("x", Level::Required);
        check.toggle = Some("RUN_X".into());
        check.needs = vec!["NEEDED".into()];
        let on = env(&[("RUN_X", "yes"), ("NEEDED", "v")]);
        assert_eq!(skip_reason(&check, &on, &targets(false), false), None);
        let off = env(&[("RUN_X", "off"), ("NEEDED", "v")]);
        assert_eq!(
            skip_reason(&check, &off, &targets(false), false),
            Some(NotRun::Skipped("RUN_X=off".into()))
        );
        let unset = env(&[("RUN_X", "1")]);
        assert_eq!(
            skip_reason(&check, &unset, &targets(false), false),
            Some(NotRun::NotHere(Missing::variable("NEEDED")))
        );
        check.mutates = true;
        check.target = Some("prod".into());
        assert_eq!(
            skip_reason(&check, &on, &targets(false), false)
                .as_ref()
                .map(NotRun::reason),
            Some("mutates state: not run against production without --allow-prod-mutations")
        );
        assert_eq!(skip_reason(&check, &on, &targets(false), true), None);
        assert_eq!(skip_reason(&check, &on, &targets(true), false), None);
    }

    #[test]
    fn production_mutations_are_the_mutating_checks_that_ran_against_production() {
        let mut ran = spec("ran", Level::Required);
        ran.mutates = true;
        ran.target = Some("prod".into());
        let mut on_staging = ran.clone();
        on_staging.id = "on-staging".into();
        on_staging.target = Some("staging".into());
        let result = |status, attempts| CheckResult {
            id: String::new(),
            lane: String::new(),
            level: Level::Required,
            target: None,
            description: String::new(),
            status,
            reason: None,
            reason_at: None,
            missing: None,
            failures: Vec::new(),
            warnings: Vec::new(),
            assertions: 1,
            attempts,
            duration: Duration::ZERO,
            command: String::new(),
            log_path: String::new(),
            har_path: None,
            artifacts: Vec::new(),
            inline_evidence: Vec::new(),
            schedule: None,
            waited_for: Vec::new(),
            code_frames: Vec::new(),
        };
        let passed = result(Status::Passed, 1);
        let skipped = result(Status::Skipped, 0);
        let rows = [(&ran, &passed), (&on_staging, &passed), (&ran, &skipped)];
        assert_eq!(production_mutations(rows, &targets(false)), ["ran"]);
        assert!(production_mutations(rows, &targets(true)).is_empty());
    }

    #[test]
    fn a_matrix_without_its_lock_or_differing_from_it_is_refused() {
        use crate::lock::{LockStatus, MatrixRecord};
        let record = |status, differences: &[&str]| MatrixRecord {
            lock: "lanes/matrix.lock (built in)".to_string(),
            lock_sha256: None,
            status,
            differences: differences.iter().map(|d| d.to_string()).collect(),
        };
        assert_eq!(refuse_unlocked(&record(LockStatus::Matches, &[])), []);
        assert_eq!(
            refuse_unlocked(&record(LockStatus::Missing, &[]))[0].to_string(),
            "the matrix has no lock (lanes/matrix.lock (built in)): write one with `oa-validate lock`, review and commit it"
        );
        let refusals: Vec<String> = refuse_unlocked(&record(
            LockStatus::Differs,
            &[
                "check a is locked required but declared optional (a level lowered)",
                "x",
            ],
        ))
        .iter()
        .map(ToString::to_string)
        .collect();
        assert_eq!(
            refusals[0],
            "the matrix differs from lanes/matrix.lock (built in): check a is locked required but declared optional (a level lowered) (`oa-validate lock` re-locks it once reviewed)"
        );
        assert_eq!(refusals.len(), 2);
    }

    #[test]
    fn exit_codes() {
        assert_eq!(exit_code(Decision::Go, Mode::Normal, false), exit_code::GO);
        assert_eq!(
            exit_code(Decision::NoGo, Mode::Normal, false),
            exit_code::NO_GO
        );
        assert_eq!(
            exit_code(Decision::NoGo, Mode::Gate, false),
            exit_code::NO_GO
        );
        assert_eq!(
            exit_code(Decision::NoGo, Mode::Baseline, false),
            exit_code::GO
        );
        assert_eq!(
            exit_code(Decision::Go, Mode::Baseline, true),
            exit_code::INTERRUPTED
        );
    }
}
