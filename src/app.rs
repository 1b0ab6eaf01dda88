//! What each command does, from a resolved configuration to an exit code.

use crate::cli::{self, Cli, Command, DefsArgs, LaneArgs, ReplArgs, RunArgs, SimArgs, UsageError};
use crate::config::{EnvSnapshot, Mode, RunConfig, Target};
use crate::engine::{self, error::code_frame, host::Host};
use crate::evidence::folder::EvidenceFolder;
use crate::evidence::redact::Redactor;
use crate::exit_code;
use crate::outcome::Level;
use crate::plan::{self, Plan, PlanError};
use crate::report::{self, RunMode, RunSummary, terminal::Terminal};
use crate::run::{self, Event, RunSettings};
use crate::sim::{Fault, GcpNames, Sim, SimConfig};
use crate::verdict;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

/// Runs the parsed command line; returns the process exit code.
pub fn main(cli: Cli) -> i32 {
    let env = cli::capture_env();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return exit_code::USAGE;
        }
    };
    let result = match cli.command {
        Some(Command::List(args)) => list_or_check(&runtime, &args, env, true),
        Some(Command::Check(args)) => list_or_check(&runtime, &args, env, false),
        Some(Command::Sim(args)) => serve_sim(&runtime, &args, &env),
        Some(Command::Repl(args)) => repl(&runtime, &args, env),
        Some(Command::Defs(args)) => defs(&args),
        Some(Command::Report(args)) => crate::report::rebuild::command(&args, &env),
        Some(Command::Diff(args)) => crate::diff::command(&args, &env),
        Some(Command::Rerun(args)) => match crate::rerun::prepare(&args, env) {
            Ok(Some((run, env, origin))) => run_matrix(&runtime, &run, env, Some(origin)),
            Ok(None) => Ok(exit_code::NO_CHECKS),
            Err(e) => Err(e),
        },
        None => run_matrix(&runtime, &cli.run, env, None),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            exit_code::USAGE
        }
    }
}

fn parse_faults(names: &[String]) -> Result<Vec<Fault>, UsageError> {
    names
        .iter()
        .map(|n| n.parse::<Fault>().map_err(|e| UsageError(e.to_string())))
        .collect()
}

/// Starts the in-process sim and points the targets and environment at it.
fn start_sim(
    runtime: &tokio::runtime::Runtime,
    env: &mut EnvSnapshot,
    faults: Vec<Fault>,
    latency: Duration,
) -> Result<(Sim, Vec<Target>), UsageError> {
    let config = SimConfig {
        faults,
        staging_token: env
            .get_nonempty("STAGING_CONTROL_ACCESS_TOKEN")
            .map(str::to_string),
        prod_token: env
            .get_nonempty("PROD_CONTROL_ACCESS_TOKEN")
            .map(str::to_string),
        latency,
        gcp: sim_gcp_names(env),
    };
    let sim = runtime
        .block_on(Sim::start(config))
        .map_err(|e| UsageError(format!("cannot start the simulated deployment: {e}")))?;
    for t in [&sim.staging, &sim.prod] {
        let prefix = if t.name == "staging" {
            "STAGING"
        } else {
            "PROD"
        };
        env.set(&format!("{prefix}_CONTROL_BASE_URL"), &t.control_url);
        env.set(&format!("{prefix}_CONTROL_ACCESS_TOKEN"), &t.token);
        env.set(&format!("{prefix}_RUNTIME_BASE_URL"), &t.runtime_url);
    }
    // Local lanes (cargo tests, scripts) run against the fixture workspace unless told otherwise.
    if env.get_nonempty(crate::api::cargo::REPO_ROOT_VAR).is_none()
        && let Some(root) = crate::sim::fixture_workspace()
    {
        env.set(
            crate::api::cargo::REPO_ROOT_VAR,
            &root.display().to_string(),
        );
    }
    if env.get_nonempty(crate::sim::GMAIL_ACCOUNT_VAR).is_none() {
        env.set(crate::sim::GMAIL_ACCOUNT_VAR, crate::sim::SIM_GMAIL_ACCOUNT);
    }
    // The sim's Google APIs take the sim's own test token: outside --sim, credentials come
    // from ADC (or OA_GOOGLE_ACCESS_TOKEN) and their absence skips the Cloud Run checks.
    env.set("OA_CLOUD_RUN_ENDPOINT", &sim.cloud_run_url);
    env.set("OA_LOGGING_ENDPOINT", &sim.logging_url);
    env.set("OA_GOOGLE_ACCESS_TOKEN", &sim.google_token);
    env.set("OA_TEST_AGENT_ID", crate::sim::TEST_AGENT_ID);
    let targets = cli::targets_from_env(env, true)?;
    Ok((sim, targets))
}

/// The project, region, service and job names of this run (upstream defaults applied), which
/// the simulated Google APIs answer for.
fn sim_gcp_names(env: &EnvSnapshot) -> GcpNames {
    let defaults = GcpNames::default();
    let name =
        |var: &str, default: String| env.get_nonempty(var).map(str::to_string).unwrap_or(default);
    GcpNames {
        project: name("GCP_PROJECT", defaults.project),
        region: name("GCP_REGION", defaults.region),
        control_service: name("CONTROL_SERVICE", defaults.control_service),
        runtime_service: name("RUNTIME_SERVICE", defaults.runtime_service),
        migrate_job: name("MIGRATE_JOB", defaults.migrate_job),
    }
}

fn build_host(
    runtime: &tokio::runtime::Runtime,
    targets: Vec<Target>,
    env: EnvSnapshot,
    redactor: Redactor,
    max_body: u64,
    allow_prod_mutations: bool,
) -> Result<Host, UsageError> {
    let http = Host::http_client().map_err(|e| UsageError(format!("HTTP client: {e}")))?;
    let env_secrets = cli::secrets_from_env(&env);
    redactor.add_all(
        targets
            .iter()
            .filter_map(|t| t.token.as_deref())
            .chain(env_secrets.iter().map(String::as_str)),
    );
    Ok(Host {
        targets,
        env,
        redactor,
        http,
        runtime: runtime.handle().clone(),
        cancel: CancellationToken::new(),
        max_body,
        default_http_timeout: Duration::from_secs(30),
        allow_prod_mutations,
        phase: None,
        backup_max_age: crate::api::backup::DEFAULT_MAX_AGE,
    })
}

/// Prints plan errors as code frames; returns exit code 3.
fn report_plan_errors(errors: &[PlanError], redactor: &Redactor) -> i32 {
    for e in errors {
        let text = match e.position() {
            Some(pos) => {
                let source = std::fs::read_to_string(&pos.file).ok();
                code_frame(&e.message(), pos, source.as_deref())
            }
            None => format!("error: {}\n", e.message()),
        };
        eprint!("{}", redactor.redact(&text));
    }
    eprintln!(
        "{} lane error{}: nothing was run",
        errors.len(),
        if errors.len() == 1 { "" } else { "s" }
    );
    exit_code::LANE_ERROR
}

fn list_or_check(
    runtime: &tokio::runtime::Runtime,
    args: &LaneArgs,
    mut env: EnvSnapshot,
    list: bool,
) -> Result<i32, UsageError> {
    let (lanes, _) = cli::resolve_lanes(&args.lanes)?;
    let (_sim, targets) = if args.sim {
        let (sim, targets) = start_sim(runtime, &mut env, Vec::new(), Duration::ZERO)?;
        (Some(sim), targets)
    } else {
        (None, cli::targets_from_env(&env, false)?)
    };
    let redactor = Redactor::new();
    let host = Arc::new(build_host(
        runtime,
        targets,
        env,
        redactor.clone(),
        0,
        false,
    )?);
    let engine = engine::build();
    let plan = match plan::plan(&engine, &host, &lanes) {
        Ok(plan) => plan,
        Err(errors) => return Ok(report_plan_errors(&errors, &redactor)),
    };
    if list {
        use std::io::Write;
        let _ = write!(
            std::io::stdout().lock(),
            "{}",
            redactor.redact(&matrix_table(&plan))
        );
    } else {
        println!(
            "{} lane{} compiled, {} checks declared",
            plan.lanes.len(),
            if plan.lanes.len() == 1 { "" } else { "s" },
            plan.checks.len()
        );
    }
    Ok(exit_code::GO)
}

/// `list` output: aligned columns id, lane, level, target, description.
pub fn matrix_table(plan: &Plan) -> String {
    let rows: Vec<[String; 5]> = plan
        .checks
        .iter()
        .map(|c| {
            [
                c.decl.id.clone(),
                plan.lane_of(c).display.clone(),
                c.decl.level.as_str().to_string(),
                c.decl.target.clone().unwrap_or_else(|| "-".to_string()),
                c.decl.description.clone(),
            ]
        })
        .collect();
    let header = ["CHECK", "LANE", "LEVEL", "TARGET", "DESCRIPTION"].map(str::to_string);
    let mut widths = [0usize; 4];
    for row in std::iter::once(&header).chain(&rows) {
        for (w, cell) in widths.iter_mut().zip(row.iter()) {
            *w = (*w).max(cell.len());
        }
    }
    let mut out = String::new();
    for row in std::iter::once(&header).chain(&rows) {
        out.push_str(&format!(
            "{:w0$}  {:w1$}  {:w2$}  {:w3$}  {}\n",
            row[0],
            row[1],
            row[2],
            row[3],
            row[4],
            w0 = widths[0],
            w1 = widths[1],
            w2 = widths[2],
            w3 = widths[3]
        ));
    }
    out
}

fn serve_sim(
    runtime: &tokio::runtime::Runtime,
    args: &SimArgs,
    env: &EnvSnapshot,
) -> Result<i32, UsageError> {
    if args.faults.iter().any(|f| f == "help" || f == "list") {
        for fault in Fault::all() {
            println!("{:24} {}", fault.name(), fault.describe());
        }
        return Ok(exit_code::GO);
    }
    let faults = parse_faults(&args.faults)?;
    if let Err(e) = crate::setup::ensure(env) {
        eprintln!("warning: setup: {e}");
    }
    let latency = humantime::parse_duration(&args.latency)
        .map_err(|e| UsageError(format!("--latency {:?}: {e}", args.latency)))?;
    let mut env = env.clone();
    let (sim, _) = start_sim(runtime, &mut env, faults.clone(), latency)?;
    let mut banner = String::from("# oa-validate simulated deployment (Ctrl-C to stop)\n");
    if !faults.is_empty() {
        let names: Vec<&str> = faults.iter().map(|f| f.name()).collect();
        banner.push_str(&format!("# faults: {}\n", names.join(", ")));
    }
    banner.push_str(&sim.export_lines());
    // What `--sim` sets besides the sim's own endpoints, so a served sim runs the whole matrix.
    for var in [
        crate::api::cargo::REPO_ROOT_VAR,
        crate::sim::GMAIL_ACCOUNT_VAR,
    ] {
        if let Some(value) = env.get_nonempty(var) {
            banner.push_str(&format!(
                "export {var}={}\n",
                crate::invocation::shell_quote(value)
            ));
        }
    }
    // One write, errors ignored: a reader that takes the lines it needs and closes the pipe
    // must not take the sim down with it (println! panics on a broken pipe).
    {
        use std::io::Write;
        let mut stdout = std::io::stdout().lock();
        let _ = stdout.write_all(banner.as_bytes());
        let _ = stdout.flush();
    }
    runtime.block_on(async {
        let _ = wait_for_signal().await;
    });
    drop(sim);
    Ok(exit_code::GO)
}

/// Resolves when SIGINT or SIGTERM arrives.
async fn wait_for_signal() -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut term = signal(SignalKind::terminate())?;
        let mut int = signal(SignalKind::interrupt())?;
        tokio::select! {
            _ = term.recv() => {}
            _ = int.recv() => {}
        }
        Ok(())
    }
    #[cfg(not(unix))]
    {
        tokio::signal::ctrl_c().await
    }
}

/// First signal: cancel (checks stop, partial evidence is written). Second: exit at once.
fn install_interrupt_handler(runtime: &tokio::runtime::Runtime, cancel: CancellationToken) {
    runtime.spawn(async move {
        if wait_for_signal().await.is_err() {
            return;
        }
        cancel.cancel();
        if wait_for_signal().await.is_ok() {
            eprintln!("second interrupt: exiting now");
            std::process::exit(exit_code::INTERRUPTED);
        }
    });
}

/// Gate refusals that need the plan: a toggle or filter that would skip a required check.
fn gate_refusals(plan: &Plan, config: &RunConfig, host: &Host) -> Vec<String> {
    let mut refusals = Vec::new();
    for check in plan
        .checks
        .iter()
        .filter(|c| c.decl.level == Level::Required)
    {
        let decl = &check.decl;
        if let Some(toggle) = &decl.toggle {
            match config.env.toggle(toggle) {
                Ok(true) => {}
                Ok(false) => refusals.push(format!(
                    "required check {} would be skipped by {toggle}={}",
                    decl.id,
                    config.env.get(toggle).unwrap_or_default()
                )),
                Err(message) => refusals.push(format!("required check {}: {message}", decl.id)),
            }
        }
        if decl.mutates && !config.allow_prod_mutations {
            let production = decl
                .target
                .as_deref()
                .and_then(|n| host.targets.iter().find(|t| t.name == n))
                .is_some_and(Target::is_production);
            if production {
                refusals.push(format!(
                    "required check {} mutates production: pass --allow-prod-mutations",
                    decl.id
                ));
            }
        }
    }
    refusals
}

/// Gate refusals for required checks a lane declares only under some value of a variable
/// its top level read: a hidden toggle the gate could not see. Each such lane is planned
/// again with each variable unset and set to the usual toggle values; a required check that
/// appears in a variant but not in the real plan is refused (use `toggle:` instead).
fn env_dependent_declarations(engine: &rhai::Engine, host: &Arc<Host>, plan: &Plan) -> Vec<String> {
    const VARIANTS: [Option<&str>; 5] = [None, Some("1"), Some("0"), Some("true"), Some("false")];
    let declared: std::collections::HashSet<&str> = plan
        .checks
        .iter()
        .filter(|c| c.decl.level == Level::Required)
        .map(|c| c.decl.id.as_str())
        .collect();
    let mut refusals = Vec::new();
    for lane in plan.lanes.iter().filter(|l| !l.env_reads.is_empty()) {
        for var in &lane.env_reads {
            for value in VARIANTS {
                let mut env = host.env.clone();
                match value {
                    Some(v) => env.set(var, v),
                    None => env.remove(var),
                }
                let variant = Arc::new(host.with_env(env));
                let Ok(replanned) = plan::plan(engine, &variant, std::slice::from_ref(&lane.path))
                else {
                    continue;
                };
                for check in replanned
                    .checks
                    .iter()
                    .filter(|c| c.decl.level == Level::Required)
                {
                    if !declared.contains(check.decl.id.as_str()) {
                        let shown =
                            value.map_or(format!("{var} is unset"), |v| format!("{var}={v}"));
                        let refusal = format!(
                            "required check {} ({}) is declared only when {shown}: a hidden toggle; declare it always and use `toggle: \"{var}\"`",
                            check.decl.id, lane.display
                        );
                        if !refusals.contains(&refusal) {
                            refusals.push(refusal);
                        }
                    }
                }
            }
        }
    }
    refusals
}

/// Runs the lanes; `rerun_of` names the folder whose failed checks `args` re-runs.
fn run_matrix(
    runtime: &tokio::runtime::Runtime,
    args: &RunArgs,
    env: EnvSnapshot,
    rerun_of: Option<crate::invocation::RerunOf>,
) -> Result<i32, UsageError> {
    let now = chrono::Utc::now();
    let mut config = cli::resolve_run(args, env, now)?;
    // What the invocation record keeps: the configuration before --sim rewrites its targets.
    let as_invoked = config.clone();
    let faults = parse_faults(&args.sim_faults)?;
    if args.sim {
        // The HTMX lanes need Chromium and the htmx library: install what is missing, or say
        // why not (their checks then skip or fail, naming it).
        if let Err(e) = crate::setup::ensure(&config.env) {
            eprintln!("warning: setup: {e}");
        }
    }
    let _sim = if args.sim {
        let (sim, targets) = start_sim(runtime, &mut config.env, faults, Duration::ZERO)?;
        config.targets = targets;
        Some(sim)
    } else {
        None
    };
    let redactor = Redactor::new();
    redactor.add_all(config.secrets.iter().map(String::as_str));
    let mut host = build_host(
        runtime,
        config.targets.clone(),
        config.env.clone(),
        redactor.clone(),
        config.max_body,
        config.allow_prod_mutations,
    )?;
    host.phase = config.phase.clone();
    host.backup_max_age = config.backup_max_age;
    let host = Arc::new(host);
    let engine = engine::build();
    let mut plan = match plan::plan(&engine, &host, &config.lanes) {
        Ok(plan) => plan,
        Err(errors) => return Ok(report_plan_errors(&errors, &redactor)),
    };
    if !config.check_filter.is_empty() {
        let unknown: Vec<&String> = config
            .check_filter
            .iter()
            .filter(|id| !plan.checks.iter().any(|c| &c.decl.id == *id))
            .collect();
        if !unknown.is_empty() {
            let names: Vec<&str> = unknown.iter().map(|s| s.as_str()).collect();
            return Err(UsageError(format!(
                "--check: no such check: {}",
                names.join(", ")
            )));
        }
        plan.checks
            .retain(|c| config.check_filter.contains(&c.decl.id));
    }
    if plan.checks.is_empty() {
        eprintln!("error: no checks selected");
        return Ok(exit_code::NO_CHECKS);
    }
    if config.mode == Mode::Gate {
        let mut refusals = gate_refusals(&plan, &config, &host);
        refusals.extend(env_dependent_declarations(&engine, &host, &plan));
        if !refusals.is_empty() {
            for r in &refusals {
                eprintln!("error: --gate: {r}");
            }
            return Ok(exit_code::USAGE);
        }
    }

    let mut invocation = crate::invocation::Invocation::record(
        &as_invoked,
        args.sim.then_some(args.sim_faults.as_slice()),
        plan.lanes
            .iter()
            .map(|l| (l.display.as_str(), l.source.as_str())),
    );
    invocation.rerun_of = rerun_of;

    let mut folder = EvidenceFolder::create(&config.out_dir, redactor.clone())
        .map_err(|e| UsageError(format!("cannot write evidence: {e}")))?;
    install_interrupt_handler(runtime, host.cancel.clone());

    let started = Instant::now();
    let started_at = now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let mut terminal = Terminal::new(
        config.color,
        config.progress,
        redactor.clone(),
        plan.sources(),
    );
    if let Some(note) = invocation.partial_note() {
        terminal.set_verdict_note(note);
    }
    let settings = RunSettings {
        jobs: config.jobs,
        default_timeout: config.default_timeout,
        allow_prod_mutations: config.allow_prod_mutations,
        http_archive: config.http_archive,
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
    let verdict = verdict::decide(&outcome.results, outcome.interrupted);
    let production_mutations = production_mutations(&plan, &outcome.results, &host);
    let finished_at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let lanes: Vec<String> = plan.lanes.iter().map(|l| l.display.clone()).collect();
    let environment = environment_section(&config.env, &redactor);
    let timestamp = cli::timestamp(now);
    let summary = RunSummary {
        timestamp: &timestamp,
        started_at: &started_at,
        finished_at: &finished_at,
        duration_ms: started.elapsed().as_millis() as u64,
        tool_version: env!("CARGO_PKG_VERSION"),
        mode: RunMode::from(config.mode),
        interrupted: outcome.interrupted,
        simulated: args.sim,
        phase: config.phase.as_deref(),
        jobs: config.jobs,
        lanes: &lanes,
        environment: &environment,
        results: &outcome.results,
        verdict: &verdict,
        production_mutations: &production_mutations,
        invocation: &invocation,
    };
    folder.write_report("results.tsv", &report::tsv::render(&summary));
    folder.write_report("SUMMARY.md", &report::markdown::render(&summary));
    folder.write_report("summary.json", &report::json::render(&summary));
    folder.write_report("junit.xml", &report::junit::render(&summary));
    report::html::write_into(&mut folder);
    let summary_md = folder.dir().join("SUMMARY.md");
    if let Err(e) = folder.seal() {
        // Never a GO without its evidence.
        eprintln!("error: the evidence folder is incomplete: {e}");
        return Ok(exit_code::USAGE);
    }
    let out_display = config.out_dir.display().to_string();
    terminal.production_mutations(&production_mutations);
    terminal.finish(&verdict, config.mode == Mode::Gate, &out_display);
    crate::ci::report(&config.env, &redactor, &outcome.results, &plan, &summary_md);
    Ok(if outcome.interrupted {
        exit_code::INTERRUPTED
    } else if verdict.decision == verdict::Decision::Go || config.mode == Mode::Baseline {
        exit_code::GO
    } else {
        exit_code::NO_GO
    })
}

/// Ids of `mutates: true` checks that ran (were not skipped) against a production target.
fn production_mutations(
    plan: &Plan,
    results: &[crate::outcome::CheckResult],
    host: &Host,
) -> Vec<String> {
    plan.checks
        .iter()
        .zip(results)
        .filter(|(check, result)| {
            check.decl.mutates
                && result.status != crate::outcome::Status::Skipped
                && result.attempts > 0
                && check
                    .decl
                    .target
                    .as_deref()
                    .and_then(|n| host.targets.iter().find(|t| t.name == n))
                    .is_some_and(Target::is_production)
        })
        .map(|(check, _)| check.decl.id.clone())
        .collect()
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

fn repl(
    runtime: &tokio::runtime::Runtime,
    args: &ReplArgs,
    mut env: EnvSnapshot,
) -> Result<i32, UsageError> {
    let history = if args.no_history {
        None
    } else {
        crate::repl::history_path(&env)
    };
    let (_sim, targets) = if args.sim {
        let (sim, targets) = start_sim(runtime, &mut env, Vec::new(), Duration::ZERO)?;
        (Some(sim), targets)
    } else {
        (None, cli::targets_from_env(&env, false)?)
    };
    let max_body = cli::parse_bytes("16MiB").map_err(UsageError)?;
    let host = Arc::new(build_host(
        runtime,
        targets,
        env,
        Redactor::new(),
        max_body,
        false,
    )?);
    let session =
        crate::repl::Session::new(engine::build(), host, &args.target).map_err(UsageError)?;
    Ok(crate::repl::run(session, history))
}

fn defs(args: &DefsArgs) -> Result<i32, UsageError> {
    let engine = engine::build();
    crate::api::docs::write_definitions(&engine, &args.dir).map_err(|e| {
        UsageError(format!(
            "cannot write definitions to {}: {e}",
            args.dir.display()
        ))
    })?;
    if let Some(path) = &args.markdown {
        crate::evidence::write::atomic_write(
            path,
            crate::api::docs::api_markdown(&engine).as_bytes(),
        )
        .map_err(|e| UsageError(format!("cannot write {}: {e}", path.display())))?;
    }
    Ok(exit_code::GO)
}
