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
    // A variable this machine lacks is grouped apart from a chosen skip, with what to set.
    run.stdout_has("Not checked here (missing on this machine): ");
    run.stdout_has(
        "\n  STAGING_CONTROL_ACCESS_TOKEN unset: control-staging-khala-sync-token (required), ",
    );
    run.stdout_has(
        "; to check here: set STAGING_CONTROL_ACCESS_TOKEN (or pass --var STAGING_CONTROL_ACCESS_TOKEN=VALUE)\n",
    );
    run.stdout_has("\n  OA_REPO_ROOT unset: runtime-hydra-mvp2-vignette (required)");
    run.stdout_has("\n  RUN_CROSS_SURFACE=0: cross-surface-contract-harness\n");
    run.stdout_has("Google credentials: none found: the Cloud Run and Logging checks of lanes/observability.rhai, lanes/runtime.rhai will be not checked here");
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
        // `third-ok` waits for `second-fails` (one serial group): with parallel workers it
        // would otherwise start before the failure, and --fail-fast skips only checks not
        // yet started.
        "required(\"first-ok\", || { assert(true, \"ok\"); });\nrequired(\"second-fails\", #{ serial: \"order\" }, || { assert(false, \"broken\"); });\nrequired(\"third-ok\", #{ serial: \"order\" }, || { assert(true, \"ok\"); });\n",
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

/// Issue 21, point 1: a check that could not run because this machine lacks something is
/// "not checked here", with what to install, in every report: never a failure of the
/// deployment, still a NO-GO when required. Here cargo is missing (`CARGO` names a file that
/// does not exist), next to a check that passes.
#[test]
fn a_missing_cargo_is_not_checked_here_in_every_report_and_a_no_go() {
    let sb = Sandbox::new();
    let manifest = sb.write(
        "ws/Cargo.toml",
        "[package]\nname = \"ws\"\nversion = \"0.1.0\"\n",
    );
    sb.write(
        "vignette.rhai",
        &format!(
            "required(\"fine\", || {{ assert_eq(1, 1, \"one\"); }});\nrequired(\"vignette\", || {{ cargo::test({:?}, [\"t\"]); }});\n",
            manifest.display().to_string()
        ),
    );
    let missing = sb.path().join("no-rust/bin/cargo");
    let run = sb
        .cmd()
        .arg("vignette.rhai")
        .env("CARGO", &missing)
        .out(&sb.out("ev"))
        .run();
    run.expect_code(1);
    let reason = format!("cargo not installed ({} not found)", missing.display());
    let remedy = "install Rust with rustup (https://rustup.rs), or set CARGO to a cargo";
    // Up front, before the first check.
    let up_front = format!(
        "Missing here: {reason}: the checks of vignette.rhai that need it will be not checked here; to check them: {remedy}"
    );
    run.stdout_has(&up_front);
    assert!(run.stdout.find(&up_front) < run.stdout.find("[passed] fine"));
    // The check's own lines, the counts and the verdict block.
    run.stdout_has(&format!(
        "[not checked here] vignette (required)\n    not checked here: {reason}\n    to check it here: {remedy}\n"
    ));
    run.stdout_has("0 required skipped, 0 optional skipped, 1 required not checked here\n");
    run.stdout_has(&format!(
        "Verdict: NO-GO\n  - vignette not checked here: {reason}\n"
    ));
    run.stdout_has(&format!(
        "Not checked here: missing on this machine, not a fault of the deployment:\n  - {reason} (vignette): {remedy}\n"
    ));
    assert!(!run.stdout.contains("[failed]") && !run.stdout.contains("[errored]"));

    let ev = sb.evidence("ev");
    // summary.json: its own status, what was missing, its own counts; no failure.
    let summary = ev.summary_json();
    assert_eq!(summary["schema"], "oa-validate.summary.v4");
    assert_eq!(summary["verdict"]["decision"], "NO-GO");
    let counts = &summary["verdict"]["counts"];
    assert_eq!(counts["required_not_checked"], 1);
    assert_eq!(counts["required_failures"], 0);
    assert_eq!(counts["required_skipped"], 0);
    let check = ev.json_check("vignette");
    assert_eq!(check["status"], "not-checked");
    assert_eq!(check["reason"], reason.as_str());
    assert_eq!(
        check["missing"],
        serde_json::json!({"kind": "program", "name": "cargo", "reason": reason, "remedy": remedy})
    );
    assert_eq!(check["failures"], serde_json::json!([]));
    assert_eq!(ev.json_check("fine")["missing"], serde_json::Value::Null);
    // results.tsv keeps upstream's vocabulary, the reason where the command would be.
    assert_eq!(ev.row("vignette")["status"], "skipped");
    assert_eq!(ev.row("vignette")["command"], reason);
    // SUMMARY.md: its count, its status in the table, its own section; no failure section.
    let md = ev.summary_md();
    assert!(
        md.contains("- Not checked here (missing on this machine): 1 (1 required, 0 optional)\n"),
        "{md}"
    );
    assert!(
        md.contains("| vignette | required | not checked here |"),
        "{md}"
    );
    assert!(
        md.contains(&format!(
            "## Not Checked Here\n\nNot checked here: missing on this machine, not a fault of the deployment:\n\n- {reason} (vignette): {remedy}\n"
        )),
        "{md}"
    );
    assert!(!md.contains("## Failures"), "{md}");
    // report.html: the section, the badge, the remedy.
    let html = scraper::Html::parse_document(&ev.read("report.html"));
    let select = |css: &str| scraper::Selector::parse(css).unwrap();
    let section: String = html
        .select(&select("#not-checked-here"))
        .next()
        .expect("a not-checked-here section")
        .text()
        .collect();
    assert!(
        section.contains(&reason) && section.contains(remedy),
        "{section}"
    );
    let badge: String = html
        .select(&select("#check-vignette .status"))
        .next()
        .expect("the matrix row's status")
        .text()
        .collect();
    assert_eq!(badge, "not checked here");
    assert!(html.select(&select("#failure-vignette")).next().is_none());
}

/// rustup installed without a default toolchain: `cargo` is there but runs nothing. The
/// check is not checked here, saying what to run; not a failure of the tested code.
#[test]
fn rustup_without_a_default_toolchain_is_not_checked_here() {
    let sb = Sandbox::new();
    let manifest = sb.write(
        "ws/Cargo.toml",
        "[package]\nname = \"ws\"\nversion = \"0.1.0\"\n",
    );
    // rustup's own words when no default toolchain is configured (rustup 1.27).
    let fake = sb.write(
        "rustup-bin/cargo",
        "#!/bin/sh\necho \"error: rustup could not choose a version of cargo to run, because one wasn't specified explicitly, and no default is configured.\" >&2\necho \"help: run 'rustup default stable' to download the latest stable release of Rust and set it as your default toolchain.\" >&2\nexit 1\n",
    );
    std::fs::set_permissions(&fake, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    sb.write(
        "vignette.rhai",
        &format!(
            "required(\"vignette\", || {{ cargo::test({:?}, [\"t\"]); }});\n",
            manifest.display().to_string()
        ),
    );
    let run = sb
        .cmd()
        .arg("vignette.rhai")
        .env("CARGO", &fake)
        .out(&sb.out("ev"))
        .run();
    run.expect_code(1);
    let reason = format!(
        "cargo cannot run here: rustup has no default toolchain ({})",
        fake.display()
    );
    run.stdout_has(&format!(
        "Missing here: {reason}: the checks of vignette.rhai that need it will be not checked here; to check them: run `rustup default stable`\n"
    ));
    run.stdout_has(&format!(
        "[not checked here] vignette (required)\n    not checked here: {reason}\n    to check it here: run `rustup default stable`\n"
    ));
    let check = sb.evidence("ev").json_check("vignette");
    assert_eq!(check["status"], "not-checked");
    assert_eq!(check["failures"], serde_json::json!([]));
}

/// The other things a machine can lack go through the same classification: a variable the
/// check needs, a Chromium (`OA_CHROMIUM` naming none), a program for `proc::run`.
#[test]
fn a_missing_variable_chromium_or_program_is_not_checked_here() {
    let sb = Sandbox::new();
    sb.write(
        "local.rhai",
        "required(\"token\", #{ needs: [\"OA_FIRST_HOUR_TOKEN\"] }, || { assert_eq(1, 1, \"one\"); });\n\
         optional(\"page\", || { browser::open(); });\n\
         optional(\"tool\", || { proc::run(\"oa-no-such-tool\", []); });\n",
    );
    let run = sb
        .cmd()
        .arg("local.rhai")
        .env_remove("OA_FIRST_HOUR_TOKEN")
        .env("OA_CHROMIUM", sb.path().join("no-chromium"))
        .out(&sb.out("ev"))
        .run();
    run.expect_code(1);
    run.stdout_has(
        "    not checked here: OA_FIRST_HOUR_TOKEN unset\n    to check it here: set OA_FIRST_HOUR_TOKEN (or pass --var OA_FIRST_HOUR_TOKEN=VALUE)\n",
    );
    run.stdout_has("Missing here: chromium not installed: the checks of local.rhai that need it will be not checked here; to check them: run `oa-validate setup`, or set OA_CHROMIUM to a Chromium\n");
    run.stdout_has(
        "[not checked here] page (optional)\n    not checked here: chromium not installed\n",
    );
    run.stdout_has("[not checked here] tool (optional)\n    not checked here: oa-no-such-tool not installed\n    to check it here: install oa-no-such-tool, or put it on PATH\n");
    run.stdout_has("1 required not checked here, 2 optional not checked here\n");
    let ev = sb.evidence("ev");
    for (id, kind) in [
        ("token", "variable"),
        ("page", "program"),
        ("tool", "program"),
    ] {
        let check = ev.json_check(id);
        assert_eq!(check["status"], "not-checked", "{id}");
        assert_eq!(check["missing"]["kind"], kind, "{id}");
    }
}

/// `--sim` on a machine without cargo says so before its first check, names what to install,
/// and ends NO-GO only for the checks that need it: not a fault of the simulated deployment.
#[test]
fn sim_without_cargo_says_up_front_what_to_install() {
    let sb = Sandbox::new();
    let run = sb
        .cmd()
        .args([
            "--sim",
            "--check",
            "runtime-hydra-mvp2-vignette",
            "--check",
            "control-staging-health",
        ])
        .env("CARGO", sb.path().join("nowhere/cargo"))
        .out(&sb.out("ev"))
        .run();
    run.expect_code(1);
    let first_check = run.stdout.find("[").expect("a check line");
    let up_front = run
        .stdout
        .find("Missing here: cargo not installed")
        .unwrap_or_else(|| panic!("no up-front line:\n{}", run.stdout));
    assert!(up_front < first_check, "{}", run.stdout);
    run.stdout_has(
        "to check them: install Rust with rustup (https://rustup.rs), or set CARGO to a cargo\n",
    );
    run.stdout_has("[passed] control-staging-health (required)");
    run.stdout_has("[not checked here] runtime-hydra-mvp2-vignette (required)");
    run.stdout_has(
        "Verdict: NO-GO\n  - runtime-hydra-mvp2-vignette not checked here: cargo not installed",
    );
}

/// Issue 21, point 6: `-v` prints under each check what it did, as `hurl --verbose` does:
/// each request with its status and timing, each assertion that held and the one that failed.
#[test]
fn verbose_prints_each_request_and_assertion() {
    let sb = Sandbox::new();
    sb.write(
        "v.rhai",
        "for t in targets() {\n    if t.name == \"staging\" {\n        required(\"v-staging\", #{ target: t }, || {\n            let r = http::get(`${t.control_url}/readyz`);\n            assert_eq(r.status, 200, \"readyz answers 200\");\n            assert_eq(1, 3, \"arithmetic\");\n        });\n    }\n}\n",
    );
    let run = sb
        .cmd()
        .args(["--sim", "-v", "v.rhai"])
        .out(&sb.out("ev"))
        .run();
    run.expect_code(1);
    let journal: Vec<&str> = run
        .stdout
        .lines()
        .filter(|l| l.starts_with("    | "))
        .collect();
    let request = journal
        .iter()
        .find(|l| l.contains("| GET http://127.0.0.1:"))
        .unwrap_or_else(|| panic!("no request line:\n{}", run.stdout));
    assert!(
        request.contains("/readyz -> 200 (") && request.contains(" ms, "),
        "{request}"
    );
    run.stdout_has("    | ok: readyz answers 200\n");
    run.stdout_has("    | FAILED at v.rhai:6:13: arithmetic: expected 3, actual 1");
    // In order: the request, the assertion that held, the one that failed.
    let at = |needle: &str| journal.iter().position(|l| l.contains(needle)).unwrap();
    assert!(at("GET http") < at("ok: readyz") && at("ok: readyz") < at("FAILED at"));
    // Without -v none of it.
    let quiet = sb
        .cmd()
        .arg("--sim")
        .arg("v.rhai")
        .out(&sb.out("ev2"))
        .run();
    assert!(
        !quiet.stdout.lines().any(|l| l.starts_with("    | ")),
        "{}",
        quiet.stdout
    );
}

/// Issue 21, point 7: a misspelled property of a response (`r.stauts`) fails where it is
/// written, with a code frame, the properties the value has, and what was meant.
#[test]
fn a_misspelled_property_fails_with_a_code_frame_and_a_suggestion() {
    let sb = Sandbox::new();
    sb.write(
        "typo.rhai",
        "for t in targets() {\n    if t.name == \"staging\" {\n        required(\"typo\", #{ target: t }, || {\n            let r = http::get(`${t.control_url}/readyz`);\n            assert_eq(r.stauts, 200, \"readyz answers 200\");\n        });\n    }\n}\n",
    );
    let run = sb
        .cmd()
        .args(["--sim", "typo.rhai"])
        .out(&sb.out("ev"))
        .run();
    run.expect_code(1);
    run.stdout_has("[errored] typo (required)\n    error: unknown property `stauts` of HttpResponse (it has body, headers, ");
    run.stdout_has("status, ");
    run.stdout_has("): did you mean `status`?\n      --> typo.rhai:5:25\n");
    run.stdout_has("    5 |             assert_eq(r.stauts, 200, \"readyz answers 200\");\n");
    let frames = sb.evidence("ev").summary_json()["run"]["checks"][0]["code_frames"].clone();
    assert!(
        frames[0]
            .as_str()
            .is_some_and(|f| f.contains("did you mean `status`?")),
        "{frames}"
    );
}

/// Issue 21, point 8: a failure inside a stdlib module names where the lane called it: its own
/// position is a line of stdlib/, which the user did not write.
#[test]
fn a_failure_inside_stdlib_names_the_lanes_call_site() {
    let sb = Sandbox::new();
    sb.write(
        "schema.rhai",
        "import \"runtime\" as rt;\nrequired(\"stdlib-fail\", || {\n    let doc = #{ openapi: \"3.0.0\", paths: #{ \"/ping\": #{ get: #{ responses: #{ \"200\": #{\n        content: #{ \"application/json\": #{ schema: #{ type: \"object\", required: [\"ok\"] } } } } } } } } };\n    rt::assert_schema(doc, \"/ping\", \"GET\", #{ status: 200 });\n});\n",
    );
    let run = sb.cmd().arg("schema.rhai").out(&sb.out("ev")).run();
    run.expect_code(1);
    run.stdout_has("(called from schema.rhai:5:9)\n      --> stdlib/runtime.rhai:");
    let check = sb.evidence("ev").json_check("stdlib-fail");
    let message = check["failures"][0]["message"].as_str().unwrap_or_default();
    assert!(
        message.ends_with(" (called from schema.rhai:5:9)"),
        "{check}"
    );
    assert_eq!(
        check["failures"][0]["position"]["file"],
        "stdlib/runtime.rhai"
    );
}
