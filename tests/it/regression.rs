//! One test per fixed bug, each named after the bug it guards: what went wrong, in the
//! test's name, and the story in its doc comment. A new fix adds its test here. (The bugs the
//! real upstream services exposed in the sim and the lanes, `bug_*`, live in fidelity.rs beside
//! the sim helpers they share.)

use crate::canaries::{CANARIES, canary};
use crate::cheats::{cheat, try_cheat};
use crate::common;
use crate::common::Sandbox;
use crate::common::fault_server::{Behaviour, FaultServer};
use std::time::Duration;

/// Regression: `fn assert_status(r, s) { assert(true, "") }` in a lane replaced the built-in
/// (Rhai calls script functions first) and a 404 passed the gate: GO.
#[test]
fn regression_a_lane_redefining_an_assertion_reached_go() {
    for file in [
        "override_assert_status.rhai",
        "override_required.rhai",
        "shadow_targets.rhai",
        "override_contains.rhai",
    ] {
        try_cheat(&cheat(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
    }
}

/// Regression: a required check declared only when an environment variable is set was a
/// toggle the gate could not see: without the variable the gate said GO.
#[test]
fn regression_a_required_check_declared_only_when_a_variable_is_set_reached_go() {
    for file in [
        "env_conditional_declaration.rhai",
        "env_or_conditional_declaration.rhai",
    ] {
        try_cheat(&cheat(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
    }
}

/// Regression: `exit()` at the top level ended planning without an error, dropping the
/// checks declared after it; inside a check it was reported as "NOT AN ERROR - exit value".
#[test]
fn regression_exit_dropped_the_checks_declared_after_it() {
    for file in ["exit_at_top_level.rhai", "exit_in_check.rhai"] {
        try_cheat(&cheat(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
    }
}

/// Regression: `secret("Verdict:NO-GO")` or `secret(<a check id>)` masked the verdict or a
/// check's row in every report.
#[test]
fn regression_a_script_secret_could_mask_the_verdict_or_a_check_row() {
    for file in ["secret_masks_verdict.rhai", "secret_masks_check_id.rhai"] {
        try_cheat(&cheat(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
    }
}

/// Regression: each secret was added by rebuilding the redactor's automaton over every
/// secret so far: 1,000 secret-named variables took 90 s to start (debug build).
#[test]
fn regression_a_thousand_secrets_made_start_up_quadratic() {
    let mut rng = rand::thread_rng();
    let sb = Sandbox::new();
    sb.write(
        "one.rhai",
        "required(\"one\", || { assert(true, \"x\"); });\n",
    );
    let mut cmd = sb.cmd().arg("one.rhai").out(&sb.out("evidence"));
    for i in 0..CANARIES {
        cmd = cmd.env(&format!("CANARY_{i}_TOKEN"), canary(&mut rng));
    }
    let run = cmd.run();
    run.expect_code(0);
    assert!(
        run.elapsed < Duration::from_secs(15),
        "took {:?}",
        run.elapsed
    );
}

/// Regression: `json_get` on a response whose body is not JSON answered the default, so the
/// check failed with "expected true, actual \"missing\"" instead of naming the bad body.
#[test]
fn regression_json_get_on_a_body_that_is_not_json_names_the_fault() {
    let server = FaultServer::start(Behaviour::Fixed {
        status: 200,
        content_type: "application/json",
        body: b"<html>maintenance</html>".to_vec(),
    });
    let sb = Sandbox::new();
    sb.write(
        "lenient.rhai",
        &format!(
            "required(\"reads-json\", || {{\n    let r = http::get(\"{}/status\");\n    assert_eq(json_get(r, \"/ok\", \"missing\"), true, \"ok\");\n}});\n",
            server.url()
        ),
    );
    let run = sb.cmd().arg("lenient.rhai").out(&sb.out("evidence")).run();
    run.expect_code(1);
    let check = sb.evidence("evidence").json_check("reads-json");
    assert_eq!(check["status"], "errored", "{check}");
    let reason = check["reason"].as_str().unwrap_or_default();
    assert!(
        reason.starts_with(
            "lenient.rhai:3:15: json_get: GET /status answered a body that is not JSON"
        ),
        "{reason}"
    );
}

/// CI caught this: a reader that takes the export lines it needs and closes the pipe killed
/// the served sim (println! panics on a broken pipe), and every later check was refused.
#[test]
fn regression_a_reader_closing_the_served_sims_stdout_killed_the_sim() {
    use std::io::{BufRead, BufReader};
    let sb = Sandbox::new();
    let mut guard = sb.cmd().arg("sim").spawn();
    let stdout = guard.child().stdout.take().expect("sim stdout");
    let mut first = String::new();
    BufReader::new(stdout)
        .read_line(&mut first)
        .expect("read the banner");
    assert!(
        first.starts_with("# oa-validate simulated deployment"),
        "{first}"
    );
    // The pipe is closed here, before the sim has necessarily written everything.
    std::thread::sleep(std::time::Duration::from_millis(1500));
    let status = guard.child().try_wait().expect("poll the sim");
    assert_eq!(status, None, "the sim exited when its reader went away");
}

/// `--jobs` runs lanes at the same time: four lanes each waiting 1 s on a slow server take
/// about 1 s at `--jobs 4` and 4 s at `--jobs 1`. (A lock held across a whole lane once made
/// every worker take turns, and only the clock could tell.)
#[test]
fn regression_a_lock_held_across_a_lane_made_jobs_run_lanes_serially() {
    use common::fault_server::{Behaviour, FaultServer};
    let server = FaultServer::start(Behaviour::Slow {
        delay: Duration::from_secs(1),
    });
    let sb = Sandbox::new();
    let names: Vec<String> = (0..4).map(|n| format!("slow{n}.rhai")).collect();
    for (n, name) in names.iter().enumerate() {
        sb.write(
            name,
            &format!(
                r#"required("slow-{n}", || {{ assert_status(http::get("{}/slow"), 200); }});"#,
                server.url()
            ),
        );
    }
    let wall = |jobs: &str| {
        let out = sb.out(&format!("jobs-{jobs}"));
        let started = std::time::Instant::now();
        sb.cmd()
            .args(&names)
            .args(["--jobs", jobs])
            .out(&out)
            .run()
            .expect_code(0);
        started.elapsed()
    };
    let parallel = wall("4");
    let serial = wall("1");
    assert!(
        serial >= Duration::from_secs(4),
        "--jobs 1 took {serial:?}: the slow server no longer slows"
    );
    assert!(
        parallel < Duration::from_millis(2500),
        "--jobs 4 took {parallel:?} for four 1 s lanes (--jobs 1: {serial:?}): lanes ran serially"
    );
}

/// Regression: on a fresh machine the README's first command, `cargo run --release -- --sim`,
/// ended NO-GO: setup found its script by the relative path `scripts/setup.sh`, spawned it in
/// that path's grandparent (the empty path), the spawn failed (`No such file or directory`),
/// and the browser checks skipped for want of Chromium. The tests ran the script by an
/// absolute path, so none caught it. Here the built binary runs from the root of a fresh copy
/// of the repository, exactly as `cargo run` starts it, with a fresh HOME (an empty per-user
/// cache), so setup has something to install: the htmx library, through an `npm` stand-in
/// on PATH that records the install (the real npm registry is not the test's business).
#[test]
fn regression_the_readmes_first_command_could_not_run_setup_on_a_fresh_machine() {
    common::ensure_setup();
    let sb = Sandbox::new();
    let checkout = sb.fresh_copy_of_repo("checkout");
    let installed_htmx =
        common::test_cache().join("oa-validate/htmx/node_modules/htmx.org/dist/htmx.min.js");
    assert!(installed_htmx.is_file(), "the tests' setup installed htmx");
    let npm_log = sb.path().join("npm.log");
    sb.write(
        "bin/npm",
        "#!/bin/sh\n\
         # npm stand-in: `npm install --prefix DIR ... htmx.org@V` installs the tests' copy.\n\
         echo \"npm $*\" >> \"$NPM_LOG\"\n\
         prefix=\n\
         while [ $# -gt 0 ]; do [ \"$1\" = --prefix ] && { prefix=$2; shift; }; shift; done\n\
         mkdir -p \"$prefix/node_modules/htmx.org/dist\"\n\
         cp \"$HTMX_SOURCE\" \"$prefix/node_modules/htmx.org/dist/htmx.min.js\"\n",
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let stub = sb.path().join("bin/npm");
        std::fs::set_permissions(&stub, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    }
    let path = format!(
        "{}:{}",
        sb.path().join("bin").display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = sb.out("evidence");
    let run = sb
        .cmd_in(&checkout)
        .env_remove("XDG_CACHE_HOME")
        .env("PATH", path)
        .env("NPM_LOG", &npm_log)
        .env("HTMX_SOURCE", &installed_htmx)
        .arg("--sim")
        .out(&out)
        .timeout(Duration::from_secs(300))
        .run();
    run.expect_code(0);
    assert_eq!(run.verdict_line(), "Verdict: GO");
    assert!(
        run.stderr
            .contains("setup: the htmx library (npm htmx.org) missing: installing"),
        "setup ran:\n{}",
        run.stderr
    );
    assert!(!run.stderr.contains("cannot run"), "{}", run.stderr);
    let log = std::fs::read_to_string(&npm_log).expect("setup called npm");
    assert!(
        log.contains("install --prefix") && log.contains("htmx.org@"),
        "{log}"
    );
    // Installed into the fresh user's cache, and served to the real browser checks.
    assert!(
        sb.path()
            .join("home/.cache/oa-validate/htmx/node_modules/htmx.org/dist/htmx.min.js")
            .is_file()
    );
    let tsv = std::fs::read_to_string(out.join("results.tsv")).expect("results.tsv");
    for check in [
        "control-staging-htmx-browser-smoke",
        "control-prod-htmx-browser-smoke",
    ] {
        assert!(
            tsv.lines()
                .any(|l| l.starts_with(&format!("{check}\trequired\tpassed\t"))),
            "{check} passed:\n{tsv}"
        );
    }
}
