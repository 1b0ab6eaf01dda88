//! The stages of a run, in order: resolve (the deployment, the host, the engine) → plan (the
//! lanes, the matrix's identity, the phase and `--check` selection) → gate refusals (every
//! rule `--gate` holds a run to, at this one stage) → execute → verdict → evidence → reports →
//! exit code. `oa-validate [LANE ...]` ([`super::run`]) goes through all of them; `oa-validate
//! plan` stops after the refusals and says what it found. [`Stop`] is why a run ends before
//! its verdict.

use super::{deploy, host};
use crate::config::{Mode, RunConfig, UsageError};
use crate::cutover::CutoverPhase;
use crate::engine::host::Host;
use crate::exit_code;
use crate::gate::{self, Refusal};
use crate::lock::MatrixRecord;
use crate::plan::Plan;
use std::sync::Arc;

/// Why a run ends before its verdict.
#[derive(Debug, thiserror::Error)]
pub enum Stop {
    /// Bad arguments or configuration.
    #[error(transparent)]
    Usage(#[from] UsageError),
    /// The lanes do not plan; their errors are already printed, with this exit code.
    #[error("the lanes did not plan")]
    Unplanned(i32),
    /// `--gate` refuses the run, for each of these reasons.
    #[error("--gate refuses the run")]
    Refused(Vec<Refusal>),
    /// The selection left no check.
    #[error("no checks selected")]
    NoChecks,
    /// The evidence folder could not be sealed: never a verdict without its evidence.
    #[error("the evidence folder is incomplete: {0}")]
    EvidenceIncomplete(String),
}

impl Stop {
    /// Says why on stderr and gives the exit code.
    pub fn report(self) -> i32 {
        let say = |line: String| eprintln!("{}", crate::diagnostic::for_terminal(&line));
        match self {
            Stop::Usage(e) => {
                say(format!("error: {e}"));
                exit_code::USAGE
            }
            Stop::Unplanned(code) => code,
            Stop::Refused(refusals) => {
                for refusal in &refusals {
                    say(format!("error: --gate: {refusal}"));
                }
                exit_code::USAGE
            }
            Stop::NoChecks => {
                say("error: no checks selected".to_string());
                exit_code::NO_CHECKS
            }
            Stop::EvidenceIncomplete(_) => {
                say(format!("error: {self}"));
                exit_code::USAGE
            }
        }
    }
}

/// Stage 1: the deployment brought up (the sim started, when asked), the host and the engine.
pub struct Resolved {
    pub host: Arc<Host>,
    pub engine: rhai::Engine,
    pub simulated: bool,
    /// The running sim, if any: dropping it stops it, so it lives as long as the run.
    _sim: Option<oa_sim::Sim>,
}

pub fn resolve(runtime: &tokio::runtime::Runtime, config: &RunConfig) -> Result<Resolved, Stop> {
    // The configuration stays whole: the invocation record reads it as it was resolved.
    let (deployment, sim) = deploy::start(runtime, config.deployment.clone())?;
    let simulated = deployment.simulated;
    let host = host::build(runtime, deployment, config.settings.clone())?;
    Ok(Resolved {
        host,
        engine: crate::api::build_confined(config.lanes.confinement()),
        simulated,
        _sim: sim,
    })
}

/// Stage 2: the lanes planned, the matrix's identity, and the checks of the phase and
/// `--check` selection.
pub struct Planned {
    pub plan: Plan,
    /// Taken before `--check` narrows the plan: the gate holds the whole matrix to its lock.
    pub matrix: MatrixRecord,
    /// Whether the lanes declare checks that differ by phase (before narrowing to one).
    pub phase_dependent: bool,
}

pub fn plan(resolved: &Resolved, config: &RunConfig) -> Result<Planned, Stop> {
    let mut plan = host::plan(&resolved.engine, &resolved.host, &config.lanes.files)
        .map_err(Stop::Unplanned)?;
    let phase_dependent = plan.is_phase_dependent();
    let matrix = crate::lock::record(&config.lanes, &plan, config.phase.phase)?;
    select_checks(&mut plan, config.phase.phase, &config.check_filter)?;
    Ok(Planned {
        plan,
        matrix,
        phase_dependent,
    })
}

/// Stage 3: everything `--gate` refuses (nothing outside a gate), before any check runs.
pub fn gate_refusals(config: &RunConfig, resolved: &Resolved, planned: &Planned) -> Vec<Refusal> {
    if config.mode != Mode::Gate {
        return Vec::new();
    }
    let mut refusals: Vec<Refusal> = gate::refuse_invocation(config).into_iter().collect();
    refusals.extend(gate::refuse_ambiguous_phase(
        config.mode,
        config.phase,
        planned.phase_dependent,
    ));
    refusals.extend(gate::refuse_unlocked(&planned.matrix));
    refusals.extend(plan_refusals(
        &resolved.host,
        &planned.plan,
        config.phase.phase,
        config.lanes.confinement(),
    ));
    refusals
}

/// Stages 1 to 3 for a run: its resolved deployment and plan, or why it stops. A run with no
/// check selected stops here too.
pub fn prepare(
    runtime: &tokio::runtime::Runtime,
    config: &RunConfig,
) -> Result<(Resolved, Planned), Stop> {
    let resolved = resolve(runtime, config)?;
    let planned = plan(&resolved, config)?;
    let refusals = gate_refusals(config, &resolved, &planned);
    if !refusals.is_empty() {
        return Err(Stop::Refused(refusals));
    }
    if planned.plan.checks.is_empty() {
        return Err(Stop::NoChecks);
    }
    Ok((resolved, planned))
}

/// Narrows the plan to the checks of the run's phase, then to `--check` ids; a `--check` id
/// that exists only in another phase, or nowhere, is a usage error.
fn select_checks(
    plan: &mut Plan,
    phase: CutoverPhase,
    check_filter: &[String],
) -> Result<(), UsageError> {
    let declared_ids: Vec<String> = plan.checks.iter().map(|c| c.spec.id.clone()).collect();
    plan.retain_phase(phase);
    if check_filter.is_empty() {
        return Ok(());
    }
    let filters = check_filter
        .iter()
        .map(|f| CheckFilter::parse(f))
        .collect::<Result<Vec<_>, _>>()?;
    let selected = |filter: &CheckFilter| plan.checks.iter().any(|c| filter.matches(&c.spec.id));
    let other_phase: Vec<&str> = filters
        .iter()
        .filter(|f| declared_ids.iter().any(|id| f.matches(id)) && !selected(f))
        .map(|f| f.text.as_str())
        .collect();
    if !other_phase.is_empty() {
        return Err(UsageError(format!(
            "--check: {} do(es) not apply in phase {phase} (see `oa-validate list --phase ...`)",
            other_phase.join(", ")
        )));
    }
    let unknown: Vec<&str> = filters
        .iter()
        .filter(|f| !selected(f))
        .map(|f| f.text.as_str())
        .collect();
    if !unknown.is_empty() {
        return Err(UsageError(format!(
            "--check: no such check: {}",
            unknown.join(", ")
        )));
    }
    plan.checks
        .retain(|c| filters.iter().any(|f| f.matches(&c.spec.id)));
    Ok(())
}

/// One `--check` value: a check id, or a glob over ids (`*`, `?`, `[...]`, as pytest's `-k`
/// narrows by name: `--check 'control-*-health'`).
struct CheckFilter {
    text: String,
    glob: Option<glob::Pattern>,
}

impl CheckFilter {
    fn parse(text: &str) -> Result<CheckFilter, UsageError> {
        let glob = if text.contains(['*', '?', '[']) {
            Some(
                glob::Pattern::new(text)
                    .map_err(|e| UsageError(format!("--check {text}: not a valid pattern: {e}")))?,
            )
        } else {
            None
        };
        Ok(CheckFilter {
            text: text.to_string(),
            glob,
        })
    }

    fn matches(&self, id: &str) -> bool {
        match &self.glob {
            Some(pattern) => pattern.matches(id),
            None => self.text == id,
        }
    }
}

/// What the gate refuses once the plan is known (the plan of `phase`), hidden toggles
/// included (those lanes are planned again under environment variants).
fn plan_refusals(
    host: &Arc<Host>,
    plan: &Plan,
    phase: CutoverPhase,
    confinement: Option<&std::path::Path>,
) -> Vec<Refusal> {
    let specs = || plan.checks.iter().map(|c| &c.spec);
    let mut refusals = gate::refuse_plan(
        specs(),
        &host.env,
        &host.targets,
        host.settings.allow_prod_mutations,
    );
    let reads: Vec<gate::LaneReads> = plan
        .lanes
        .iter()
        .filter(|l| !l.env_reads.is_empty())
        .map(|l| gate::LaneReads {
            path: &l.path,
            display: &l.display,
            env_reads: &l.env_reads,
        })
        .collect();
    refusals.extend(gate::hidden_toggles(
        specs(),
        &reads,
        &host.env,
        phase,
        |lane, env| {
            // From scratch: a new engine, so no module evaluated under another variant (or
            // the run's own environment) is served from its resolvers' caches.
            let engine = crate::api::build_confined(confinement);
            let variant = Arc::new(host.with_env(env));
            let file = plan.lanes.iter().find(|l| l.path == lane)?.file.clone();
            crate::plan::plan(&engine, &variant, &[file])
                .ok()
                .map(|p| p.checks.into_iter().map(|c| c.spec).collect())
        },
    ));
    refusals
}
