//! Cutover phases: the matrix says which checks apply in which phase; `list`, `check` and
//! every report name the run's phase; `--gate` refuses a phase-ambiguous run; each phase has
//! a GO on the sim of its upstream era, and no era passes the other phase's checks.

use crate::common::{Sandbox, SimProcess};

const PHASES: [&str; 3] = ["app-surface", "spacetime-convergence", "legacy-deletion"];

#[test]
fn gate_refuses_a_phase_ambiguous_run_and_lists_the_phases() {
    let sb = Sandbox::new();
    for sim in [false, true] {
        let out = sb.out(if sim { "sim" } else { "real" });
        let mut cmd = sb.cmd_in_repo().arg("--gate");
        if sim {
            cmd = cmd.arg("--sim");
        }
        let run = cmd.out(&out).run();
        run.expect_code(2);
        run.stderr_has("phase-dependent checks");
        for phase in PHASES {
            run.stderr_has(phase);
        }
        assert!(!run.stdout.contains("Verdict:"), "{}", run.stdout);
        assert!(!out.exists(), "a refused gate wrote evidence");
    }
    assert!(
        sb.tripwire().connections().is_empty(),
        "a refused gate made a request"
    );
}

#[test]
fn a_gate_over_a_matrix_without_phased_checks_needs_no_phase() {
    let sb = Sandbox::new();
    let url = sb.tripwire().url();
    sb.write(
        "lanes/only.rhai",
        &format!("required(\"touches\", || {{ assert_status(http::get(\"{url}/x\", #{{ timeout: \"500ms\" }}), 200); }});\n"),
    );
    sb.lock_lanes(&[]).expect_code(0);
    let run = sb
        .cmd()
        .args(["--gate", "--lanes", "lanes"])
        .out(&sb.out("ev"))
        .run();
    run.expect_code(1);
    assert!(!run.stderr.contains("phase-dependent"), "{}", run.stderr);
    run.stdout_has("Phase: app-surface (default)");
}

#[test]
fn list_and_check_name_the_phase_and_show_only_its_checks() {
    let sb = Sandbox::new();
    let list = |phase: Option<&str>| {
        let mut cmd = sb.cmd_in_repo().arg("list");
        if let Some(p) = phase {
            cmd = cmd.args(["--phase", p]);
        }
        let run = cmd.run();
        run.expect_code(0);
        run.stdout
    };

    let default = list(None);
    assert!(
        default.starts_with("Phase: app-surface (default)\n"),
        "{default}"
    );
    let app = list(Some("app-surface"));
    assert!(app.starts_with("Phase: app-surface\n"), "{app}");
    let converged = list(Some("spacetime-convergence"));
    let deletion = list(Some("legacy-deletion"));

    for id in [
        "control-staging-static-host",
        "control-prod-khala-sync-token",
        "public-stats-staging",
        "control-staging-htmx-browser-smoke",
    ] {
        assert!(app.contains(id) && default.contains(id), "{id}");
        assert!(!converged.contains(id) && !deletion.contains(id), "{id}");
    }
    for id in [
        "control-staging-retired-routes",
        "spacetime-sync-contract-tests",
        "spacetime-retired-route-guards",
    ] {
        assert!(!app.contains(id), "{id}");
        assert!(converged.contains(id) && deletion.contains(id), "{id}");
    }
    assert!(deletion.contains("legacy-db-backup-evidence"));
    assert!(!converged.contains("legacy-db-backup-evidence"));
    // Checks of every phase: in all three.
    for id in [
        "control-staging-smoke",
        "runtime-prod-smoke",
        "gmail-staging-inbox-threads",
        "runtime-hydra-mvp3-vignette",
        "runtime-staging-comms-ingest",
        "control-canary-status",
    ] {
        assert!(
            app.contains(id) && converged.contains(id) && deletion.contains(id),
            "{id}"
        );
    }
    // The PHASES column says where a check applies.
    let row = converged
        .lines()
        .find(|l| l.starts_with("control-prod-retired-routes "))
        .expect("row");
    assert!(
        row.contains("spacetime-convergence,legacy-deletion"),
        "{row}"
    );

    let check = sb
        .cmd_in_repo()
        .args(["check", "--phase", "spacetime-convergence"])
        .run();
    check.expect_code(0);
    check.stdout_has("checks declared for phase spacetime-convergence");
    let check = sb.cmd_in_repo().arg("check").run();
    check.stdout_has("for phase app-surface (default)");
    let bad = sb
        .cmd_in_repo()
        .args(["list", "--phase", "post-cleanup"])
        .run();
    bad.expect_code(2);
    bad.stderr_has("app-surface, spacetime-convergence, legacy-deletion");
}

#[test]
fn every_report_names_the_phase() {
    let sb = Sandbox::new();
    let run = sb
        .cmd_in_repo()
        .args([
            "lanes/control.rhai",
            "--sim",
            "--phase",
            "spacetime-convergence",
        ])
        .out(&sb.out("converged"))
        .run();
    run.expect_code(0);
    run.stdout_has("Phase: spacetime-convergence\n");
    let ev = sb.evidence("converged");
    assert_eq!(
        ev.summary_json()["verdict"]["phase"],
        "spacetime-convergence"
    );
    assert!(ev.summary_md().contains("- Phase: spacetime-convergence\n"));
    let junit = ev.read("junit.xml");
    assert!(
        junit.contains(r#"<property name="phase" value="spacetime-convergence"/>"#),
        "{junit}"
    );

    let run = sb
        .cmd_in_repo()
        .args(["lanes/control.rhai", "--sim"])
        .out(&sb.out("default"))
        .run();
    run.expect_code(0);
    run.stdout_has("Phase: app-surface (default)\n");
    assert_eq!(
        sb.evidence("default").summary_json()["verdict"]["phase"],
        "app-surface"
    );
}

#[test]
fn a_check_of_another_phase_is_refused_by_name() {
    let sb = Sandbox::new();
    let run = sb
        .cmd_in_repo()
        .args([
            "lanes/control.rhai",
            "--sim",
            "--phase",
            "spacetime-convergence",
            "--check",
            "control-staging-static-host",
        ])
        .out(&sb.out("ev"))
        .run();
    run.expect_code(2);
    run.stderr_has("control-staging-static-host do(es) not apply in phase spacetime-convergence");
}

#[test]
fn a_lane_naming_an_unknown_phase_does_not_compile() {
    let sb = Sandbox::new();
    sb.write(
        "typo.rhai",
        "required(\"x\", #{ phases: [\"post-cleanup\"] }, || { assert(true, \"ok\") });\n",
    );
    let run = sb.cmd().args(["check", "typo.rhai"]).run();
    run.expect_code(3);
    run.stderr_has("typo.rhai:1:");
    run.stderr_has("unknown cutover phase `post-cleanup`");
}

/// The later phase's gate is GO on the sim of its era (d29e2a788f), with the Spacetime tests
/// and the retired-route guards, and none of the app-surface checks.
#[test]
fn the_spacetime_convergence_gate_is_go_on_its_era() {
    let sb = Sandbox::new();
    let run = sb
        .cmd_in_repo()
        .args([
            "--gate",
            "--sim",
            "--phase",
            "spacetime-convergence",
            "--allow-prod-mutations",
        ])
        .timeout(std::time::Duration::from_secs(600))
        .out(&sb.out("gate"))
        .run();
    run.expect_code(0);
    assert_eq!(run.verdict_line(), "Verdict: GO (release gate)");
    for id in [
        "control-staging-retired-routes",
        "control-prod-retired-routes",
        "spacetime-sync-contract-tests",
        "spacetime-retired-route-guards",
        "runtime-prod-hydra-mvp3-fx-contract",
    ] {
        run.stdout_has(&format!("[passed] {id} (required)\n"));
    }
    for id in [
        "static-host",
        "public-stats",
        "htmx",
        "khala-sync-token",
        "legacy-db-backup",
    ] {
        assert!(
            !run.stdout.contains(id),
            "{id} ran in spacetime-convergence"
        );
    }
    // The tested tree of the Spacetime cargo checks is recorded.
    let ev = sb.evidence("gate");
    for id in [
        "spacetime-sync-contract-tests",
        "spacetime-retired-route-guards",
    ] {
        let commit = ev.read(&format!("artifacts/{id}/tested-commit.txt"));
        assert!(commit.starts_with("commit: "), "{commit}");
        assert!(commit.contains("apps/runtime/Cargo.toml"), "{commit}");
    }
}

/// No single upstream era passes both phases: the app-surface era fails the retired-route
/// guards; the converged era fails the static host and public stats.
#[test]
fn no_era_passes_the_other_phases_checks() {
    let sb = Sandbox::new();
    let tokens = [
        ("STAGING_CONTROL_ACCESS_TOKEN", "staging-token-0123456789"),
        ("PROD_CONTROL_ACCESS_TOKEN", "prod-token-0123456789ab"),
    ];
    let run_against = |era: &str, phase: &str, lane: &str, out: &str| {
        let sim = SimProcess::start(&sb, &["--phase", era], &tokens);
        let mut cmd = sb
            .cmd_in_repo()
            .args([lane, "--phase", phase])
            .sim_targets(&sim)
            .out(&sb.out(out));
        for (k, v) in tokens {
            cmd = cmd.env(k, v);
        }
        cmd.run()
    };

    let run = run_against(
        "app-surface",
        "spacetime-convergence",
        "lanes/control.rhai",
        "old-era",
    );
    run.expect_code(1);
    let ev = sb.evidence("old-era");
    assert_eq!(ev.row("control-staging-retired-routes")["status"], "failed");
    assert_eq!(ev.row("control-staging-smoke")["status"], "passed");

    let run = run_against(
        "spacetime-convergence",
        "app-surface",
        "lanes/control.rhai",
        "new-era",
    );
    run.expect_code(1);
    let ev = sb.evidence("new-era");
    assert_eq!(ev.row("control-staging-static-host")["status"], "failed");
    assert_eq!(
        ev.row("control-staging-khala-sync-token")["status"],
        "failed"
    );
    // The split keeps the auth checks of the smoke passing on the converged era.
    assert_eq!(ev.row("control-staging-smoke")["status"], "passed");
    assert_eq!(ev.row("control-staging-health")["status"], "passed");

    let run = run_against(
        "spacetime-convergence",
        "app-surface",
        "lanes/public_stats.rhai",
        "stats",
    );
    run.expect_code(1);
    assert!(
        sb.evidence("stats").json_check("public-stats-staging")["reason"]
            .as_str()
            .unwrap_or_default()
            .contains("GET /stats answered 404")
    );
}

/// `list` and `check` take `--phase`: the legacy-deletion phase's backup check is visible
/// before any run, from any directory (the built-in matrix brings its lane along).
#[test]
fn list_and_check_of_the_legacy_deletion_phase_show_the_backup_check() {
    let sb = Sandbox::new();
    let empty = sb.path().join("empty");
    std::fs::create_dir_all(&empty).expect("empty folder");
    let list = sb
        .cmd_in(&empty)
        .args(["list", "--phase", "legacy-deletion"])
        .run();
    list.expect_code(0);
    let row = list
        .stdout
        .lines()
        .find(|l| l.starts_with("legacy-db-backup-evidence "))
        .unwrap_or_else(|| panic!("no backup check:\n{}", list.stdout));
    assert!(
        row.contains("lanes/legacy_backup.rhai") && row.contains("required"),
        "{row}"
    );
    let other = sb
        .cmd_in(&empty)
        .args(["list", "--phase", "app-surface"])
        .run();
    other.expect_code(0);
    assert!(!other.stdout.contains("legacy-db-backup-evidence"));
    sb.cmd_in(&empty)
        .args(["check", "--phase", "legacy-deletion"])
        .run()
        .expect_code(0)
        .stdout_has("for phase legacy-deletion");
}
