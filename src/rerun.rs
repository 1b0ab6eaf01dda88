//! `oa-validate rerun DIR`: the failed and errored checks of an earlier evidence folder, run
//! again exactly as that run was made (its `run.invocation`: lanes, targets, sim and faults,
//! phase, mode, options, variables) into a new folder that names the old one. Such a run is
//! never a gate run, and its reports say it is partial.

use crate::cli::RunArgs;
use crate::config::{EnvSnapshot, RerunConfig, UsageError};
use crate::evidence::archive::Archive;
use crate::invocation::{RerunOf, source_digest};
use crate::outcome::Status;
use crate::report::RunMode;
use std::path::{Path, PathBuf};

/// What to run: arguments and environment as the old run had them (to be resolved like any
/// run's, [`crate::config::resolve_run`]), and where they came from. `None` when the folder has
/// no failed or errored check (said on stderr).
pub fn prepare(args: &RerunConfig) -> Result<Option<(RunArgs, EnvSnapshot, RerunOf)>, UsageError> {
    let mut env = args.env.clone();
    let archive = Archive::load(&args.dir).map_err(|e| UsageError(e.to_string()))?;
    let summary = &archive.summary;
    let Some(invocation) = &summary.run.invocation else {
        let commands: Vec<String> = archive
            .checks()
            .filter(|c| matches!(c.verdict.status, Status::Failed | Status::Errored))
            .filter_map(|c| c.run.map(|r| format!("  {}", r.command)))
            .collect();
        return Err(UsageError(format!(
            "{} was written before runs recorded their invocation (summary.json {}): \
             re-run its failed checks by hand:\n{}",
            args.dir.display(),
            summary.schema,
            commands.join("\n")
        )));
    };
    let failed: Vec<String> = archive
        .checks()
        .filter(|c| matches!(c.verdict.status, Status::Failed | Status::Errored))
        .map(|c| c.id().to_string())
        .collect();
    if failed.is_empty() {
        eprintln!(
            "nothing to re-run: {} has no failed or errored check",
            args.dir.display()
        );
        return Ok(None);
    }
    let out = match &args.out {
        Some(out) => out.clone(),
        None => default_out(&args.dir, args.started_at)?,
    };
    if same_folder(&out, &args.dir) {
        return Err(UsageError(format!(
            "--out {}: a re-run never writes into the folder it re-runs",
            out.display()
        )));
    }

    eprintln!(
        "re-running {} failed or errored check(s) of {}: {}",
        failed.len(),
        args.dir.display(),
        failed.join(", ")
    );
    let skipped = summary
        .verdict
        .checks
        .iter()
        .filter(|c| c.status == Status::Skipped)
        .count();
    if skipped > 0 {
        eprintln!(
            "not re-run: {skipped} skipped check(s) (a skip has a cause to fix first; see its reason)"
        );
    }
    for lane in &invocation.lanes {
        let now = if lane.embedded {
            lane.path
                .strip_prefix("lanes/")
                .and_then(crate::embedded::matrix_file)
                .map(source_digest)
        } else {
            std::fs::read_to_string(&lane.path)
                .ok()
                .map(|s| source_digest(&s))
        };
        if now.as_deref() != Some(lane.sha256.as_str()) {
            eprintln!(
                "note: {} changed since {} ran",
                lane.path,
                args.dir.display()
            );
        }
    }
    for (name, value) in invocation.variables() {
        env.set(&name, &value);
    }
    // The recorded mode decides; a FAIL_ON_REQUIRED_FAILURE of today's shell does not.
    env.set("FAIL_ON_REQUIRED_FAILURE", "1");
    if invocation.sim.is_none() {
        for name in &invocation.secrets_set {
            if env.get_nonempty(name).is_none() {
                eprintln!(
                    "warning: {name} was set for {} and is not now: checks that need it will skip",
                    args.dir.display()
                );
            }
        }
    }
    let options = &invocation.options;
    // A whole matrix is named as it was (the built-in one, or --lanes DIR); named lane files
    // as they were, less the built-in lane the phase brings along by itself.
    let lanes = if invocation.full_matrix {
        Vec::new()
    } else {
        invocation
            .lanes
            .iter()
            .filter(|l| !l.embedded)
            .map(|l| l.path.clone())
            .collect()
    };
    let run = RunArgs {
        lanes,
        lanes_dir: invocation.lanes_dir.as_ref().map(PathBuf::from),
        sim: invocation.sim.is_some(),
        sim_faults: invocation
            .sim
            .as_ref()
            .map(|s| s.faults.clone())
            .unwrap_or_default(),
        // A gate run refuses filters: the re-run of a gate folder is a normal run.
        gate: false,
        baseline: invocation.mode == RunMode::Baseline,
        out: Some(out),
        replace_out: false,
        jobs: options.jobs,
        timeout: options.timeout.clone(),
        checks: failed.clone(),
        allow_prod_mutations: options.allow_prod_mutations,
        max_body: options.max_body.to_string(),
        no_progress: args.no_progress,
        no_har: !options.http_archive,
        phase: invocation.phase,
        backup_max_age: options.backup_max_age.clone(),
        vars: Vec::new(),
    };
    let origin = RerunOf {
        folder: args.dir.display().to_string(),
        timestamp: summary.run.timestamp.clone(),
        decision: summary.verdict.decision.as_str().to_string(),
        checks: failed,
    };
    Ok(Some((run, env, origin)))
}

/// `DIR-rerun-<timestamp>` beside DIR.
fn default_out(dir: &Path, now: chrono::DateTime<chrono::Utc>) -> Result<PathBuf, UsageError> {
    let name = dir
        .file_name()
        .ok_or_else(|| UsageError(format!("{}: name the new folder with --out", dir.display())))?;
    let stamp = crate::config::timestamp(now);
    Ok(dir.with_file_name(format!("{}-rerun-{stamp}", name.to_string_lossy())))
}

fn same_folder(a: &Path, b: &Path) -> bool {
    match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}
