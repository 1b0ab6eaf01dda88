//! Issue 21 (a new user's first hour): a run says where it goes before it goes there, a bare
//! `oa-validate` never probes production, and a connection error names the host and port.

use crate::common::Sandbox;

/// Bare `oa-validate`, with no target variable set, used to run the whole matrix against
/// https://openagents.com. It now prints its usage and exits 2, before any request.
#[test]
fn bare_oa_validate_without_targets_shows_usage_instead_of_probing_production() {
    let sb = Sandbox::new();
    let run = sb
        .cmd()
        .env_remove("STAGING_CONTROL_BASE_URL")
        .env_remove("PROD_CONTROL_BASE_URL")
        .run();
    run.expect_code(2);
    run.stdout_has("Usage: oa-validate");
    run.stderr_has("nothing named: give lane files, --lanes DIR or --sim");
    assert!(
        !sb.path().join("validation-evidence").exists(),
        "nothing ran"
    );
}

/// The terminal names the targets (and the variable that set each, or `default`) before the
/// first request; lanes that use no target say so; a refused connection names host and port.
#[test]
fn a_run_names_its_targets_first_and_a_failed_connection_names_host_and_port() {
    let sb = Sandbox::new();
    sb.write(
        "targets.rhai",
        "for t in targets() {\n    if t.name == \"staging\" {\n        required(`up-${t.name}`, #{ target: t }, || { http::get(`${t.control_url}/readyz`); });\n    }\n}\n",
    );
    // A port nothing listens on: bound, then closed.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let url = format!("http://127.0.0.1:{port}");
    let run = sb
        .cmd()
        .arg("targets.rhai")
        .env("STAGING_CONTROL_BASE_URL", &url)
        .out(&sb.out("evidence"))
        .run();
    run.expect_code(1);
    let targets = run
        .stdout
        .lines()
        .find(|l| l.starts_with("Targets: "))
        .unwrap_or_else(|| panic!("no Targets line:\n{}", run.stdout));
    // Only the targets the planned checks use.
    assert_eq!(
        targets,
        format!("Targets: staging {url} (STAGING_CONTROL_BASE_URL)")
    );
    let first_check = run.stdout.find("[errored]").expect("a check line");
    assert!(run.stdout.find("Targets: ").unwrap() < first_check);
    run.stdout_has(&format!("connection to 127.0.0.1:{port} failed"));

    sb.write(
        "own.rhai",
        "required(\"own\", || { assert(true, \"no target\"); });\n",
    );
    let run = sb.cmd().arg("own.rhai").out(&sb.out("own")).run();
    run.expect_code(0);
    run.stdout_has("Targets: none (the lanes name their own URLs)\n");
}

/// Issue 21, point 7: a word that is neither a lane file nor a command says which command it
/// likely meant; a folder points at `--lanes`; a misspelled check option suggests the right
/// one; one check is "1 check".
#[test]
fn lane_arguments_and_options_that_are_wrong_say_what_was_meant() {
    let sb = Sandbox::new();
    let run = sb.cmd().arg("lint").run();
    run.expect_code(2);
    run.stderr_has("lane file not found: lint (nor a command: did you mean `oa-validate check`?)");
    let run = sb.cmd().arg("rerum").run();
    run.expect_code(2);
    run.stderr_has("did you mean `oa-validate rerun`?");
    sb.write(
        "matrix/a.rhai",
        "required(\"a\", || { assert(true, \"a\"); });\n",
    );
    let run = sb.cmd().arg("matrix").run();
    run.expect_code(2);
    run.stderr_has("matrix is a folder: run the matrix in it with `--lanes matrix`");
    sb.write(
        "typo.rhai",
        "required(\"typo\", #{ descripton: \"x\" }, || { assert(true, \"a\"); });\n",
    );
    let run = sb.cmd().args(["check", "typo.rhai"]).run();
    run.expect_code(3);
    run.stderr_has("unknown option `descripton` of typo: did you mean `description`?");
    let run = sb.cmd().args(["check", "matrix/a.rhai"]).run();
    run.expect_code(0);
    run.stdout_has("1 lane compiled, 1 check declared for phase");
}

/// Issue 21, point 3: `plan` says what a run would do with no request: the targets, each skip
/// grouped by why, Google credentials, and what the gate would refuse (exit 2, as the run).
#[test]
fn plan_names_every_skip_and_refusal_without_a_request() {
    let sb = Sandbox::new();
    let run = sb
        .cmd()
        .args(["plan", "--gate", "--phase", "app-surface"])
        .env_remove("OA_GOOGLE_ACCESS_TOKEN")
        .run();
    run.expect_code(2);
    let tripwire = sb.tripwire().url();
    run.stdout_has(&format!(
        "Targets: staging {tripwire} (STAGING_CONTROL_BASE_URL); prod {tripwire} (PROD_CONTROL_BASE_URL)\n"
    ));
    run.stdout_has("Would skip: ");
    run.stdout_has(
        "\n  STAGING_CONTROL_ACCESS_TOKEN unset: control-staging-khala-sync-token (required)",
    );
    run.stdout_has("\n  OA_REPO_ROOT unset: runtime-hydra-mvp2-vignette (required)");
    run.stdout_has("\n  RUN_CROSS_SURFACE=0: cross-surface-contract-harness\n");
    run.stdout_has("Google credentials: none found: the Cloud Run and Logging checks of lanes/observability.rhai, lanes/runtime.rhai will skip");
    run.stdout_has("--gate would refuse this run:\n  required check ");
    run.stdout_has("mutates production: pass --allow-prod-mutations");
    assert!(
        sb.tripwire().connections().is_empty(),
        "plan sent a request"
    );
    assert!(!sb.path().join("validation-evidence").exists());
    // Without the gate, the same plan is exit 0 (a run would start and say NO-GO).
    sb.cmd()
        .args(["plan", "--phase", "app-surface"])
        .run()
        .expect_code(0);
}

/// Issue 21, point 6: the habits of pytest and Hurl: `--check` takes globs, `--var NAME=VALUE`
/// sets a variable for the run, `list --json` shows what each check needs.
#[test]
fn check_globs_vars_and_list_json() {
    let sb = Sandbox::new();
    sb.write(
        "acme.rhai",
        "let base = env(\"ACME_URL\");\nrequired(\"acme-health\", || { assert_eq(base, \"http://127.0.0.1:1\", \"ACME_URL from --var\"); });\nrequired(\"acme-ready\", #{ needs: [\"ACME_TOKEN\"], toggle: \"RUN_ACME\" }, || { assert(true, \"ok\"); });\nrequired(\"other\", || { assert(true, \"ok\"); });\n",
    );
    let run = sb
        .cmd()
        .args([
            "acme.rhai",
            "--check",
            "acme-*",
            "--var",
            "ACME_URL=http://127.0.0.1:1",
        ])
        .args(["--var", "ACME_TOKEN=x"])
        .out(&sb.out("evidence"))
        .run();
    run.expect_code(0);
    let ev = sb.evidence("evidence");
    let ids: Vec<String> = ev.statuses().into_iter().map(|(id, _)| id).collect();
    assert_eq!(ids, ["acme-health", "acme-ready"]);
    let run = sb.cmd().args(["acme.rhai", "--check", "nope-*"]).run();
    run.expect_code(2);
    run.stderr_has("--check: no such check: nope-*");
    let run = sb.cmd().args(["acme.rhai", "--var", "not a name=1"]).run();
    run.expect_code(2);
    run.stderr_has("expected NAME=VALUE");

    let run = sb.cmd().args(["list", "--json", "acme.rhai"]).run();
    run.expect_code(0);
    let doc: serde_json::Value = serde_json::from_str(&run.stdout).expect("JSON");
    assert_eq!(doc["phase"], "app-surface");
    let ready = &doc["checks"][1];
    assert_eq!(ready["id"], "acme-ready");
    assert_eq!(ready["needs"], serde_json::json!(["ACME_TOKEN"]));
    assert_eq!(ready["toggle"], "RUN_ACME");
    assert_eq!(ready["mutates"], false);
    assert_eq!(ready["lane"], "acme.rhai");
    assert_eq!(doc["checks"].as_array().unwrap().len(), 3);
}

/// Issue 21, point 5: from an empty folder `lock --check` said `--lanes lanes: No such file or
/// directory`. Without `--lanes` it now compares the matrix a run uses (the built-in one) with
/// its lock, and writing a lock without a folder says how to name one.
#[test]
fn lock_acts_on_the_matrix_a_run_uses() {
    let sb = Sandbox::new();
    let run = sb.cmd().args(["lock", "--check"]).run();
    run.expect_code(0);
    run.stdout_has("lanes/matrix.lock (built in) matches the matrix");
    let run = sb.cmd().arg("lock").run();
    run.expect_code(2);
    run.stderr_has("no ./lanes folder here");
    run.stderr_has("oa-validate lock --lanes DIR");
}

/// Issue 21, points 6 and 8: an installed binary shows its built-in lanes, stdlib and docs
/// (`show`), and `--help` lists the environment variables and where the docs are.
#[test]
fn show_prints_what_the_binary_carries_and_help_names_the_variables() {
    let sb = Sandbox::new();
    let run = sb.cmd().arg("show").run();
    run.expect_code(0);
    for name in [
        "lanes/control.rhai",
        "lanes/matrix.lock",
        "stdlib/htmx.rhai",
        "docs/cli.md",
    ] {
        run.stdout_has(&format!("{name}  ("));
    }
    let run = sb.cmd().args(["show", "stdlib/htmx.rhai"]).run();
    run.expect_code(0);
    assert_eq!(
        run.stdout,
        std::fs::read_to_string(crate::common::repo_root().join("stdlib/htmx.rhai")).unwrap()
    );
    let run = sb.cmd().args(["show", "docs/cli.mdx"]).run();
    run.expect_code(2);
    run.stderr_has("did you mean `docs/cli.md`?");
    let run = sb.cmd().arg("--help").run();
    run.expect_code(0);
    run.stdout_has("STAGING_CONTROL_ACCESS_TOKEN");
    run.stdout_has("`oa-validate show docs/cli.md`");
}

/// Issue 21, point 6: `-q` prints only what did not pass; `--fail-fast` skips what was not yet
/// started once a required check fails (a NO-GO sooner).
#[test]
fn quiet_and_fail_fast() {
    let sb = Sandbox::new();
    sb.write(
        "three.rhai",
        "required(\"first-ok\", || { assert(true, \"ok\"); });\nrequired(\"second-fails\", || { assert(false, \"broken\"); });\nrequired(\"third-ok\", || { assert(true, \"ok\"); });\n",
    );
    let run = sb
        .cmd()
        .args(["three.rhai", "-q"])
        .out(&sb.out("quiet"))
        .run();
    run.expect_code(1);
    assert!(!run.stdout.contains("[passed]"), "{}", run.stdout);
    run.stdout_has("[failed] second-fails (required)");
    run.stdout_has("Verdict: NO-GO");
    let run = sb
        .cmd()
        .args(["three.rhai", "--fail-fast"])
        .out(&sb.out("fast"))
        .run();
    run.expect_code(1);
    let ev = sb.evidence("fast");
    assert_eq!(
        ev.statuses(),
        [
            ("first-ok".to_string(), "passed".to_string()),
            ("second-fails".to_string(), "failed".to_string()),
            ("third-ok".to_string(), "skipped".to_string()),
        ]
    );
    assert_eq!(
        ev.json_check("third-ok")["reason"],
        "not run: --fail-fast after second-fails failed"
    );
}

/// Issue 21, point 8: the terminal said 1 warning, report.html 1 and SUMMARY.md 5. All three
/// now list the same warnings: optional checks that did not pass, then every `warn()`.
#[test]
fn the_terminal_summary_and_report_count_the_same_warnings() {
    let sb = Sandbox::new();
    sb.write(
        "warns.rhai",
        "required(\"noisy\", || { warn(\"first\"); warn(\"second\"); assert(true, \"ok\"); });\noptional(\"flaky\", || { assert(false, \"flaky\"); });\n",
    );
    let run = sb.cmd().arg("warns.rhai").out(&sb.out("ev")).run();
    run.expect_code(0);
    let verdict_block = &run.stdout[run.stdout.find(" checks: ").expect("counts")..];
    assert_eq!(
        verdict_block.matches("warning: ").count(),
        3,
        "{}",
        run.stdout
    );
    assert!(verdict_block.contains("warning: noisy: first\n"));
    let ev = sb.evidence("ev");
    let md = ev.summary_md();
    let section = &md[md.find("## Warnings").expect("warnings section")..];
    assert_eq!(
        section.lines().filter(|l| l.starts_with("- ")).count(),
        3,
        "{md}"
    );
    assert!(ev.read("report.html").contains("3 warning(s)"));
}

/// Issue 21, point 4: a lane of one's own (its own URL, no target) was stamped as a run of
/// the OpenAgents matrix: that title, staging/prod openagents.com, "Phase: app-surface". Its
/// SUMMARY.md and report.html now say what ran and what it read.
#[test]
fn a_lane_of_ones_own_is_not_stamped_as_the_openagents_matrix() {
    let sb = Sandbox::new();
    sb.write(
        "acme.rhai",
        "let base = env(\"ACME_URL\");\nrequired(\"acme\", || { assert_eq(base, \"http://127.0.0.1:1\", \"ACME_URL\"); });\n",
    );
    let run = sb
        .cmd()
        .args(["acme.rhai", "--var", "ACME_URL=http://127.0.0.1:1"])
        .out(&sb.out("ev"))
        .run();
    run.expect_code(0);
    let ev = sb.evidence("ev");
    let md = ev.summary_md();
    assert!(md.starts_with("# Validation: acme.rhai\n"), "{md}");
    assert!(
        md.contains("## Environment\n\n- ACME_URL=http://127.0.0.1:1\n"),
        "{md}"
    );
    assert!(!md.contains("openagents.com"), "{md}");
    assert!(!md.contains("- Phase:"), "{md}");
    let html = ev.read("report.html");
    assert!(
        html.contains("none (the lanes name their own URLs)"),
        "targets"
    );
    assert!(html.contains("ACME_URL=http://127.0.0.1:1"));
}
