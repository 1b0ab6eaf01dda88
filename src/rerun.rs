//! `oa-validate rerun DIR`: the failed and errored checks of an earlier evidence folder, run
//! again into a new folder that names the old one. Such a run is never a gate run, and its
//! reports say it is partial.
//!
//! An evidence folder is data from a stranger (issue 20): its summary.json says anything its
//! author wrote. So the folder says only *what* to re-run — the check ids, the lanes, the
//! phase, the sim and its faults, the run's options and its `RUN_*` toggles — and never
//! *where* or *with what*: the targets, the secrets, every other variable (`PATH`,
//! `BASH_ENV`, `LD_PRELOAD`, `OA_CHROMIUM`, endpoints ...) and `--allow-prod-mutations` come
//! from the user's environment and command line. What the folder recorded differently is said
//! on stderr before anything is sent.

use crate::cli::RunArgs;
use crate::config::Mode;
use crate::config::{EnvSnapshot, RerunConfig, UsageError};
use crate::diagnostic::escape_controls;
use crate::evidence::archive::Archive;
use crate::invocation::{Invocation, RerunOf, source_digest};
use crate::outcome::Status;
use std::path::{Path, PathBuf};

/// Whether a re-run takes `name=value` from the folder's record: only settings that choose
/// which checks run or how many samples they take, with values of their documented form.
/// Anything else could change a process the run starts (`BASH_ENV`, `PATH`, `LD_PRELOAD`,
/// `OA_CHROMIUM`, `npm_config_*`), where it sends requests (target URLs, the Google
/// endpoints, `OA_CANARY_DOMAINS`) or which files it reads (`OA_REPO_ROOT`,
/// `LARAVEL_DB_BACKUP_EVIDENCE`).
pub fn applies_from_folder(name: &str, value: &str) -> bool {
    match name {
        "OA_PERF_SAMPLES" => {
            !value.is_empty() && value.len() <= 3 && value.bytes().all(|b| b.is_ascii_digit())
        }
        "OA_LOG_FRESHNESS" => crate::duration::parse(value).is_ok(),
        _ => {
            name.starts_with("RUN_")
                && name[4..]
                    .bytes()
                    .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
                && crate::config::parse_toggle(value).is_some()
        }
    }
}

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
            .filter_map(|c| c.run.map(|r| format!("  {}", escape_controls(&r.command))))
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
        escape_controls(&failed.join(", "))
    );
    let skipped = summary
        .verdict
        .checks
        .iter()
        .filter(|c| matches!(c.status, Status::Skipped | Status::NotChecked))
        .count();
    if skipped > 0 {
        eprintln!(
            "not re-run: {skipped} skipped check(s) (a skip has a cause to fix first; see its reason)"
        );
    }
    refuse_lanes_inside(&args.dir, invocation)?;
    for lane in &invocation.lanes {
        let now = if lane.embedded {
            lane.path
                .strip_prefix("lanes/")
                .and_then(crate::embedded::matrix_file)
                .map(source_digest)
        } else {
            // A path the folder names: read as any file input (regular, bounded, no FIFO).
            crate::file_input::read_to_string(
                Path::new(&lane.path),
                crate::file_input::INPUT_CAP,
                &crate::file_input::never_stop,
            )
            .ok()
            .map(|s| source_digest(&s))
        };
        if now.as_deref() != Some(lane.sha256.as_str()) {
            eprintln!(
                "note: {} changed since {} ran",
                escape_controls(&lane.path),
                args.dir.display()
            );
        }
    }
    for (name, value) in &invocation.environment {
        if applies_from_folder(name, value) {
            env.set(name, value);
        }
    }
    // The recorded mode decides; a FAIL_ON_REQUIRED_FAILURE of today's shell does not.
    env.set("FAIL_ON_REQUIRED_FAILURE", "1");
    for line in differences(&args.dir, invocation, &env, args.allow_prod_mutations) {
        eprintln!("{line}");
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
        baseline: invocation.mode == Mode::Baseline,
        out: Some(out),
        replace_out: false,
        jobs: options.jobs,
        timeout: options.timeout.clone(),
        checks: failed.clone(),
        // Only the user's own flag widens what the re-run may do.
        allow_prod_mutations: args.allow_prod_mutations,
        max_body: options.max_body.to_string(),
        // Not recorded: a private CA is trusted through OA_CA_BUNDLE in the re-run's shell.
        cacert: None,
        no_progress: args.no_progress,
        no_har: !options.http_archive,
        phase: invocation.phase,
        backup_max_age: options.backup_max_age.clone(),
        vars: Vec::new(),
        quiet: false,
        verbose: false,
        fail_fast: false,
        // A re-run is signed when OA_SIGNING_KEY says so (never by the folder).
        sign: None,
    };
    let origin = RerunOf {
        folder: args.dir.display().to_string(),
        timestamp: summary.run.timestamp.clone(),
        decision: summary.verdict.decision.as_str().to_string(),
        checks: failed,
    };
    Ok(Some((run, env, origin)))
}

/// What the folder recorded that this re-run does not take, each said plainly (values the
/// folder wrote are quoted with their control characters escaped): the targets of a run
/// against real targets, recorded variables not applied, the variables its lanes read,
/// `--allow-prod-mutations`, and secrets set then and not now.
fn differences(
    dir: &Path,
    invocation: &Invocation,
    env: &EnvSnapshot,
    allow_prod_mutations: bool,
) -> Vec<String> {
    let dir = dir.display();
    let mut lines = Vec::new();
    if invocation.sim.is_none() {
        let mut used = Vec::new();
        for (name, prefix) in [("staging", "STAGING"), ("prod", "PROD")] {
            let recorded = invocation.targets.iter().find(|t| t.name == name);
            for (kind, recorded_url) in [
                ("CONTROL", recorded.and_then(|t| t.control_url.as_deref())),
                ("RUNTIME", recorded.and_then(|t| t.runtime_url.as_deref())),
            ] {
                let var = format!("{prefix}_{kind}_BASE_URL");
                let now = env.get_nonempty(&var).map(|u| u.trim_end_matches('/'));
                if let Some(url) = now {
                    used.push(format!("{var}={url}"));
                }
                if recorded_url.is_some() && recorded_url != now {
                    lines.push(format!(
                        "warning: {dir} ran {name} against {:?} ({var}); this re-run uses {} from \
                         your environment, and sends your tokens only there",
                        recorded_url.unwrap_or_default(),
                        now.map_or("nothing (unset)".to_string(), |u| format!("{u:?}")),
                    ));
                }
            }
        }
        lines.insert(
            0,
            format!("targets (from your environment): {}", used.join(" ")),
        );
    }
    let not_applied: Vec<String> = invocation
        .environment
        .iter()
        .filter(|(name, value)| !applies_from_folder(name, value))
        .filter(|(name, value)| env.get(name) != Some(value.as_str()))
        .map(|(name, value)| {
            format!(
                "  {}={value:?} ({})",
                escape_controls(name),
                yours(env, name)
            )
        })
        .collect();
    if !not_applied.is_empty() {
        lines.push(format!(
            "note: recorded in {dir} and not applied (only RUN_* toggles, OA_PERF_SAMPLES and \
             OA_LOG_FRESHNESS are; your environment's value is used):"
        ));
        lines.extend(not_applied);
    }
    let lane_reads: Vec<String> = invocation
        .lane_env
        .iter()
        .filter(|(name, value)| env.get(name) != value.as_deref())
        .map(|(name, value)| {
            let then = value
                .as_ref()
                .map_or("unset".to_string(), |v| format!("{v:?}"));
            format!("  {}: {then} ({})", escape_controls(name), yours(env, name))
        })
        .collect();
    if !lane_reads.is_empty() {
        lines.push(format!(
            "note: the lanes of {dir} read these variables, which differ in your environment \
             (yours are used):"
        ));
        lines.extend(lane_reads);
    }
    if invocation.options.allow_prod_mutations && !allow_prod_mutations {
        lines.push(format!(
            "note: {dir} ran with --allow-prod-mutations; this re-run does not mutate \
             production unless you pass `rerun --allow-prod-mutations`"
        ));
    }
    if invocation.sim.is_none() {
        for name in &invocation.secrets_set {
            if env.get_nonempty(name).is_none() {
                lines.push(format!(
                    "warning: {} was set for {dir} and is not now: checks that need it will skip",
                    escape_controls(name)
                ));
            }
        }
    }
    lines
}

/// The user's value of `name` as shown beside a recorded one: never a secret's.
fn yours(env: &EnvSnapshot, name: &str) -> String {
    match env.get(name) {
        None => "yours: unset".to_string(),
        Some(_) if crate::config::is_secret_name(name) => "yours: set".to_string(),
        Some(value) => format!("yours: {value:?}"),
    }
}

/// Refuses a lane file, or `--lanes` folder, that the record places inside the evidence
/// folder itself: a lane is code (`proc::run` starts programs), and the folder is a stranger's.
fn refuse_lanes_inside(dir: &Path, invocation: &Invocation) -> Result<(), UsageError> {
    let Ok(dir) = std::fs::canonicalize(dir) else {
        return Ok(());
    };
    let named = invocation
        .lanes
        .iter()
        .filter(|l| !l.embedded)
        .map(|l| l.path.as_str())
        .chain(invocation.lanes_dir.as_deref());
    for path in named {
        let inside = std::fs::canonicalize(path)
            .map(|p| p.starts_with(&dir))
            .unwrap_or(false);
        if inside {
            return Err(UsageError(format!(
                "{}: the recorded lane {:?} is inside the evidence folder: a re-run never \
                 runs code from the folder it re-runs",
                dir.display(),
                escape_controls(path)
            )));
        }
    }
    Ok(())
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::invocation::{LaneFile, RunOptions, TargetRecord};
    use std::collections::BTreeMap;

    #[test]
    fn only_toggles_and_sample_settings_of_their_documented_form_apply_from_a_folder() {
        for (name, value) in [
            ("RUN_CROSS_SURFACE", "1"),
            ("RUN_HTMX_PERF_CHECKS", "off"),
            ("OA_PERF_SAMPLES", "7"),
            ("OA_LOG_FRESHNESS", "15m"),
        ] {
            assert!(applies_from_folder(name, value), "{name}={value}");
        }
        for (name, value) in [
            ("BASH_ENV", "$(id)"),
            ("PATH", "/tmp/evil"),
            ("LD_PRELOAD", "/tmp/evil.so"),
            ("OA_CHROMIUM", "/tmp/evil"),
            ("OA_REPO_ROOT", "/"),
            ("OA_CLOUD_RUN_ENDPOINT", "http://evil.example"),
            ("OA_CANARY_DOMAINS", "auth_entry"),
            ("npm_config_registry", "http://evil.example"),
            ("XDG_CACHE_HOME", ""),
            ("STAGING_CONTROL_BASE_URL", "http://evil.example"),
            ("GCP_PROJECT", "someone-else"),
            ("LARAVEL_DB_BACKUP_EVIDENCE", "/home/u/.ssh/id_rsa"),
            ("RUN_CROSS_SURFACE", "1; $(id)"),
            ("RUN_x y", "1"),
            ("OA_PERF_SAMPLES", "1e9"),
        ] {
            assert!(!applies_from_folder(name, value), "{name}={value}");
        }
    }

    fn recorded(environment: &[(&str, &str)]) -> Invocation {
        Invocation {
            schema: crate::invocation::SCHEMA.to_string(),
            lanes: vec![LaneFile {
                path: "lanes/x.rhai".to_string(),
                sha256: String::new(),
                embedded: false,
            }],
            full_matrix: false,
            lanes_dir: None,
            checks: Vec::new(),
            mode: Mode::Normal,
            phase: None,
            sim: None,
            targets: vec![TargetRecord {
                name: "staging".to_string(),
                control_url: Some("https://evil.example".to_string()),
                runtime_url: None,
            }],
            options: RunOptions {
                jobs: 4,
                timeout: "1m".to_string(),
                max_body: 1,
                allow_prod_mutations: true,
                http_archive: true,
                backup_max_age: "1day".to_string(),
            },
            environment: environment
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            secrets_set: Vec::new(),
            lane_env: BTreeMap::from([("ACME_URL".to_string(), Some("a".to_string()))]),
            rerun_of: None,
        }
    }

    #[test]
    fn every_difference_is_said_and_a_secret_of_the_user_never_shown() {
        let invocation = recorded(&[
            ("RUN_CROSS_SURFACE", "1"),
            ("STAGING_CONTROL_ACCESS_TOKEN", "x"),
            ("BASH_ENV", "\u{1b}[2J$(id)"),
        ]);
        let env = EnvSnapshot::new([
            (
                "STAGING_CONTROL_ACCESS_TOKEN".to_string(),
                "user-secret-token-1".to_string(),
            ),
            ("ACME_URL".to_string(), "b".to_string()),
        ]);
        let text = differences(Path::new("ev"), &invocation, &env, false).join("\n");
        assert!(!text.contains("user-secret-token-1"), "{text}");
        assert!(
            !text.contains('\u{1b}'),
            "a folder drew on the terminal: {text}"
        );
        for expected in [
            "targets (from your environment): STAGING_CONTROL_BASE_URL=https://staging.openagents.com PROD_CONTROL_BASE_URL=https://openagents.com",
            "warning: ev ran staging against \"https://evil.example\" (STAGING_CONTROL_BASE_URL); this re-run uses \"https://staging.openagents.com\"",
            "  BASH_ENV=\"\\u{1b}[2J$(id)\" (yours: unset)",
            "  STAGING_CONTROL_ACCESS_TOKEN=\"x\" (yours: set)",
            "  ACME_URL: \"a\" (yours: \"b\")",
            "ev ran with --allow-prod-mutations",
        ] {
            assert!(text.contains(expected), "{expected:?} not in\n{text}");
        }
        assert!(!text.contains("RUN_CROSS_SURFACE"), "{text}");
        // The user's own flag: nothing to say about it.
        let text = differences(Path::new("ev"), &invocation, &env, true).join("\n");
        assert!(!text.contains("--allow-prod-mutations"), "{text}");
    }

    #[test]
    fn a_lane_inside_the_folder_is_never_run() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("ev");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("evil.rhai"), "").unwrap();
        std::fs::write(tmp.path().join("mine.rhai"), "").unwrap();
        let mut invocation = recorded(&[]);
        invocation.lanes[0].path = tmp.path().join("mine.rhai").display().to_string();
        assert!(refuse_lanes_inside(&dir, &invocation).is_ok());
        invocation.lanes[0].path = dir.join("evil.rhai").display().to_string();
        let err = refuse_lanes_inside(&dir, &invocation).unwrap_err().0;
        assert!(err.contains("never runs code from the folder"), "{err}");
        invocation.lanes[0].path = tmp.path().join("mine.rhai").display().to_string();
        invocation.lanes_dir = Some(dir.display().to_string());
        assert!(refuse_lanes_inside(&dir, &invocation).is_err());
    }
}
