//! `oa-validate [LANE ...]`: run the matrix through the stages of [`super::pipeline`] —
//! resolve, plan, the gate's refusals — then execute the checks, decide the verdict, write
//! the evidence and the reports, print the verdict (and, under CI, its annotations) and give
//! the exit code.

use super::pipeline::{self, Planned, Resolved, Stop};
use super::signal;
use crate::config::{EnvSnapshot, Mode, RunConfig, TerminalStyle, UsageError};
use crate::engine::host::Host;
use crate::evidence::folder::EvidenceFolder;
use crate::invocation::{Invocation, RerunOf};
use crate::plan::Plan;
use crate::redact::Redactor;
use crate::report::{self, RunSummary, terminal::Terminal};
use crate::run::{self, Event, RunOutcome, RunSettings};
use crate::{gate, verdict};
use std::time::Instant;

/// Runs the lanes of `config`; `rerun_of` names the folder whose failed checks this re-runs.
pub fn run(
    runtime: &tokio::runtime::Runtime,
    config: RunConfig,
    style: TerminalStyle,
    rerun_of: Option<RerunOf>,
) -> Result<i32, UsageError> {
    // Before the sim starts or any request is made: a run never writes into a folder that
    // holds anything (emptied only once the run is about to write, with --replace-out).
    crate::evidence::folder::prepare_out(&config.out_dir, config.replace_out, false)
        .map_err(UsageError)?;
    let (resolved, planned) = match pipeline::prepare(runtime, &config) {
        Ok(prepared) => prepared,
        Err(stop) => return Ok(stop.report()),
    };
    let Planned { plan, matrix, .. } = &planned;
    let host = &resolved.host;
    let redactor = host.services.redactor.clone();
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

    // Stage 4: execute. From here on a server's text reaches the terminal: under GitHub
    // Actions the runner's command processing stays paused until the tool's own annotations.
    let started = Instant::now();
    let started_at = config
        .started_at
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let command_pause = crate::ci::CommandPause::start(&host.env);
    let mut terminal = Terminal::new(
        style.color,
        style.progress,
        redactor.clone(),
        plan.sources(),
    );
    terminal.set_quiet(style.quiet);
    terminal.set_verbose(style.verbose);
    terminal.phase(&config.phase.label());
    terminal.targets(&targets_line(host, plan));
    for (missing, lanes) in super::local::missing_up_front(host, plan) {
        terminal.note(&super::plan::missing_here_line(&missing, &lanes));
    }
    if let Some(note) = invocation.partial_note() {
        terminal.set_verdict_note(note);
    }
    let mut outcome = execute(&config, &resolved, plan, &mut terminal, &mut folder);
    invocation.note_lane_env(&config, &host.env_reads());
    // What repeats each check: this run's deployment, phase and options, narrowed to it.
    for result in &mut outcome.results {
        result.command = invocation.check_command(&result.id, &result.lane);
    }

    // Stage 5: the verdict, from the outcomes alone.
    let verdict = verdict::decide(&outcome.results, outcome.interrupted);
    let production_mutations = gate::production_mutations(
        plan.checks.iter().map(|c| &c.spec).zip(&outcome.results),
        &host.targets,
    );

    // Stage 6: the reports, into the evidence folder, which is then sealed.
    let finished_at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let lanes: Vec<String> = plan.lanes.iter().map(|l| l.display.clone()).collect();
    let environment = environment_section(&host.env, &redactor);
    let timestamp = crate::config::timestamp(config.started_at);
    let summary = RunSummary {
        timestamp: &timestamp,
        started_at: &started_at,
        finished_at: &finished_at,
        duration_ms: started.elapsed().as_millis() as u64,
        tool_version: crate::embedded::VERSION,
        tool_commit: crate::embedded::commit(),
        matrix,
        mode: config.mode,
        interrupted: outcome.interrupted,
        simulated: resolved.simulated,
        phase: Some(config.phase.phase.name()),
        jobs: config.jobs,
        lanes: &lanes,
        environment: &environment,
        results: &outcome.results,
        verdict: &verdict,
        production_mutations: &production_mutations,
        invocation: &invocation,
    };
    let summary_md = folder.dir().join("SUMMARY.md");
    let digest = match write_reports(folder, &summary, &redactor) {
        Ok(digest) => digest,
        Err(stop) => return Ok(stop.report()),
    };

    // Stage 7: the verdict on the terminal and to CI, and the exit code.
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
        &config.out_dir.display().to_string(),
        &digest,
    );
    drop(command_pause);
    crate::ci::report(&host.env, &redactor, &outcome.results, plan, &summary_md);
    Ok(gate::exit_code(
        verdict.decision,
        config.mode,
        outcome.interrupted,
    ))
}

/// Runs every planned check, showing each on the terminal and writing its evidence as it
/// finishes; the failures get their code frames.
fn execute(
    config: &RunConfig,
    resolved: &Resolved,
    plan: &Plan,
    terminal: &mut Terminal,
    folder: &mut EvidenceFolder,
) -> RunOutcome {
    let settings = RunSettings {
        jobs: config.jobs,
        default_timeout: config.default_timeout,
        http_archive: config.http_archive,
        fail_fast: config.fail_fast,
    };
    let mut outcome = run::run(plan, &resolved.engine, &resolved.host, &settings, |event| {
        terminal.on_event(event);
        if let Event::CheckFinished {
            result, evidence, ..
        } = event
        {
            folder.write_check(result, evidence);
        }
    });
    report::code_frames::fill(&mut outcome.results, &plan.sources());
    outcome
}

/// Writes every report of `summary` into the folder and seals it: the evidence digest, or
/// why the folder is incomplete.
fn write_reports(
    mut folder: EvidenceFolder,
    summary: &RunSummary,
    redactor: &Redactor,
) -> Result<String, Stop> {
    folder.write_report("results.tsv", &report::tsv::render(summary));
    folder.write_report("SUMMARY.md", &report::markdown::render(summary, redactor));
    folder.write_report("summary.json", &report::json::render(summary));
    folder.write_report("junit.xml", &report::junit::render(summary));
    report::html::write_into(&mut folder);
    // Nothing a check started may outlive the run or touch the sealed evidence (a descendant
    // that left its group and cleared its environment is still in this subreaper's tree).
    crate::reap::end_all_descendants();
    folder
        .seal()
        .map_err(|e| Stop::EvidenceIncomplete(e.to_string()))
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
