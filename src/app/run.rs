//! `oa-validate [LANE ...]`: run the matrix — plan, apply the gate's rules, run the checks,
//! write the evidence and the reports, print the verdict (and, under CI, its annotations).

use super::{deploy, host, signal};
use crate::config::{EnvSnapshot, Mode, RunConfig, TerminalStyle, UsageError};
use crate::cutover::CutoverPhase;
use crate::engine::host::Host;
use crate::evidence::folder::EvidenceFolder;
use crate::invocation::{Invocation, RerunOf};
use crate::plan::Plan;
use crate::redact::Redactor;
use crate::report::{self, RunSummary, terminal::Terminal};
use crate::run::{self, Event, RunSettings};
use crate::{exit_code, gate, verdict};
use std::sync::Arc;
use std::time::Instant;

/// Runs the lanes of `config`; `rerun_of` names the folder whose failed checks this re-runs.
pub fn run(
    runtime: &tokio::runtime::Runtime,
    config: RunConfig,
    style: TerminalStyle,
    rerun_of: Option<RerunOf>,
) -> Result<i32, UsageError> {
    if let Some(refusal) = gate::refuse_invocation(&config) {
        return Err(UsageError(refusal.to_string()));
    }
    // Before the sim starts or any request is made: a run never writes into a folder that
    // holds anything (emptied only once the run is about to write, with --replace-out).
    crate::evidence::folder::prepare_out(&config.out_dir, config.replace_out, false)
        .map_err(UsageError)?;
    // The configuration stays whole: the invocation record reads it as it was resolved.
    let (deployment, _sim) = deploy::start(runtime, config.deployment.clone())?;
    let simulated = deployment.simulated;
    let host = host::build(runtime, deployment, config.settings.clone())?;
    let redactor = host.services.redactor.clone();
    let engine = crate::api::build_confined(config.lanes.confinement());
    let mut plan = match host::plan(&engine, &host, &config.lanes.files) {
        Ok(plan) => plan,
        Err(code) => return Ok(code),
    };
    if let Some(refusal) =
        gate::refuse_ambiguous_phase(config.mode, config.phase, plan.is_phase_dependent())
    {
        eprintln!(
            "{}",
            crate::diagnostic::for_terminal(&format!("error: --gate: {refusal}"))
        );
        return Ok(exit_code::USAGE);
    }
    // The matrix's identity, before `--check` narrows the plan: the gate holds it to its lock.
    let matrix = crate::lock::record(&config.lanes, &plan, config.phase.phase)?;
    select_checks(&mut plan, config.phase.phase, &config.check_filter)?;
    if plan.checks.is_empty() {
        eprintln!("error: no checks selected");
        return Ok(exit_code::NO_CHECKS);
    }
    if config.mode == Mode::Gate {
        let mut refusals = gate::refuse_unlocked(&matrix);
        refusals.extend(gate_refusals(
            &host,
            &plan,
            config.phase.phase,
            config.lanes.confinement(),
        ));
        if !refusals.is_empty() {
            for r in &refusals {
                eprintln!(
                    "{}",
                    crate::diagnostic::for_terminal(&format!("error: --gate: {r}"))
                );
            }
            return Ok(exit_code::USAGE);
        }
    }

    if config.mode != Mode::Gate && matrix.status == crate::lock::LockStatus::Differs {
        eprintln!(
            "warning: the matrix differs from {} ({} difference(s)); a gate run would refuse it",
            matrix.lock,
            matrix.differences.len()
        );
    }

    let mut invocation = Invocation::record(
        &config,
        &host.targets,
        plan.lanes
            .iter()
            .map(|l| (l.display.as_str(), l.source.as_str(), l.file.is_embedded())),
    );
    invocation.rerun_of = rerun_of;

    let mut folder = EvidenceFolder::create(&config.out_dir, redactor.clone(), config.replace_out)
        .map_err(|e| UsageError(format!("cannot write evidence: {e}")))?;
    signal::install_interrupt_handler(runtime, host.services.cancel.clone());

    let started = Instant::now();
    let now = config.started_at;
    let started_at = now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    // From here on a server's text reaches the terminal: under GitHub Actions the runner's
    // command processing stays paused until the tool's own annotations.
    let command_pause = crate::ci::CommandPause::start(&host.env);
    let mut terminal = Terminal::new(
        style.color,
        style.progress,
        redactor.clone(),
        plan.sources(),
    );
    terminal.set_quiet(style.quiet);
    terminal.phase(&config.phase.label());
    terminal.targets(&targets_line(&host, &plan));
    if let Some(note) = invocation.partial_note() {
        terminal.set_verdict_note(note);
    }
    let settings = RunSettings {
        jobs: config.jobs,
        default_timeout: config.default_timeout,
        http_archive: config.http_archive,
        fail_fast: config.fail_fast,
    };
    let mut outcome = run::run(&plan, &engine, &host, &settings, |event| {
        terminal.on_event(event);
        if let Event::CheckFinished {
            result, evidence, ..
        } = event
        {
            folder.write_check(result, evidence);
        }
    });
    report::code_frames::fill(&mut outcome.results, &plan.sources());
    invocation.note_lane_env(&config, &host.env_reads());
    // What repeats each check: this run's deployment, phase and options, narrowed to it.
    for result in &mut outcome.results {
        result.command = invocation.check_command(&result.id, &result.lane);
    }
    let verdict = verdict::decide(&outcome.results, outcome.interrupted);
    let production_mutations = gate::production_mutations(
        plan.checks.iter().map(|c| &c.spec).zip(&outcome.results),
        &host.targets,
    );
    let finished_at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let lanes: Vec<String> = plan.lanes.iter().map(|l| l.display.clone()).collect();
    let environment = environment_section(&host.env, &redactor);
    let timestamp = crate::config::timestamp(now);
    let summary = RunSummary {
        timestamp: &timestamp,
        started_at: &started_at,
        finished_at: &finished_at,
        duration_ms: started.elapsed().as_millis() as u64,
        tool_version: crate::embedded::VERSION,
        tool_commit: crate::embedded::commit(),
        matrix: &matrix,
        mode: config.mode,
        interrupted: outcome.interrupted,
        simulated,
        phase: Some(config.phase.phase.name()),
        jobs: config.jobs,
        lanes: &lanes,
        environment: &environment,
        results: &outcome.results,
        verdict: &verdict,
        production_mutations: &production_mutations,
        invocation: &invocation,
    };
    folder.write_report("results.tsv", &report::tsv::render(&summary));
    folder.write_report("SUMMARY.md", &report::markdown::render(&summary, &redactor));
    folder.write_report("summary.json", &report::json::render(&summary));
    folder.write_report("junit.xml", &report::junit::render(&summary));
    report::html::write_into(&mut folder);
    let summary_md = folder.dir().join("SUMMARY.md");
    // Nothing a check started may outlive the run or touch the sealed evidence (a descendant
    // that left its group and cleared its environment is still in this subreaper's tree).
    crate::reap::end_all_descendants();
    let digest = match folder.seal() {
        Ok(digest) => digest,
        Err(e) => {
            // Never a GO without its evidence.
            eprintln!(
                "{}",
                crate::diagnostic::for_terminal(&format!(
                    "error: the evidence folder is incomplete: {e}"
                ))
            );
            return Ok(exit_code::USAGE);
        }
    };
    let out_display = config.out_dir.display().to_string();
    terminal.production_mutations(&production_mutations);
    terminal.set_identity(format!(
        "Matrix: {} · {}",
        matrix.line(),
        crate::embedded::tool_identity()
    ));
    terminal.finish(
        &verdict,
        &outcome.results,
        config.mode == Mode::Gate,
        &out_display,
        &digest,
    );
    drop(command_pause);
    crate::ci::report(&host.env, &redactor, &outcome.results, &plan, &summary_md);
    Ok(gate::exit_code(
        verdict.decision,
        config.mode,
        outcome.interrupted,
    ))
}

/// Narrows the plan to the checks of the run's phase, then to `--check` ids; a `--check` id
/// that exists only in another phase, or nowhere, is a usage error.
pub(super) fn select_checks(
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

/// Everything the gate refuses once the plan is known (the plan of `phase`), hidden toggles
/// included (those lanes are planned again under environment variants).
pub(super) fn gate_refusals(
    host: &Arc<Host>,
    plan: &Plan,
    phase: CutoverPhase,
    confinement: Option<&std::path::Path>,
) -> Vec<gate::Refusal> {
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

/// Where the run goes, for the terminal before the first request: each target the planned
/// checks use, its URLs and the variable that set each (or `default`); lanes that use no
/// target say so (they name their own URLs).
pub(super) fn targets_line(host: &Host, plan: &Plan) -> String {
    let used: Vec<&crate::config::Target> = host
        .targets
        .iter()
        .filter(|t| {
            plan.checks
                .iter()
                .any(|c| c.spec.target.as_deref() == Some(t.name.as_str()))
        })
        .collect();
    if used.is_empty() {
        return "none (the lanes name their own URLs)".to_string();
    }
    // The environment holds the upstream defaults too: a value equal to its default is said
    // to be the default.
    let source = |var: String| {
        let default = crate::config::UPSTREAM_VARIABLES
            .iter()
            .find(|(name, _)| *name == var)
            .and_then(|(_, default)| *default);
        match host.env.get_nonempty(&var) {
            Some(value) if Some(value) != default => var,
            _ => "default".to_string(),
        }
    };
    used.iter()
        .map(|t| {
            let prefix = t.name.to_ascii_uppercase();
            if t.simulated {
                return format!("{} {} (simulated)", t.name, t.control_url);
            }
            let mut text = format!(
                "{} {} ({})",
                t.name,
                t.control_url,
                source(format!("{prefix}_CONTROL_BASE_URL"))
            );
            if let Some(runtime) = &t.runtime_url {
                text.push_str(&format!(", runtime {runtime} ({prefix}_RUNTIME_BASE_URL)"));
            }
            text
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// The upstream variables for SUMMARY.md; secrets shown as `<redacted>`.
fn environment_section(env: &EnvSnapshot, redactor: &Redactor) -> Vec<(String, Option<String>)> {
    crate::config::UPSTREAM_VARIABLES
        .iter()
        .map(|(name, _)| {
            let value = env.get(name).map(|v| {
                if crate::config::is_secret_name(name) {
                    "<redacted>".to_string()
                } else {
                    redactor.redact(v)
                }
            });
            (name.to_string(), value)
        })
        .collect()
}
