//! Release gating (`--gate`): the whole matrix or nothing. Every refusal is exit 2, before any
//! request is made and before an evidence folder exists.

use crate::common;

use crate::common::{CONTROL_CHECKS, Sandbox};

/// A lane whose only check would hit the sandbox tripwire if it ever ran.
fn tripwire_lane(sb: &Sandbox, rel: &str) {
    let url = sb.tripwire().url();
    sb.write(
        rel,
        &format!(
            "required(\"touches-network\", || {{\n    let r = http::get(\"{url}/gate\", #{{ timeout: \"500ms\" }});\n    assert_status(r, 200);\n}});\n"
        ),
    );
}

#[track_caller]
fn assert_refused_before_running(sb: &Sandbox, run: &common::Run, out: &std::path::Path) {
    run.expect_code(2);
    assert!(
        !run.stdout.contains("Verdict:"),
        "a refused gate printed a verdict:\n{}",
        run.stdout
    );
    assert!(!out.exists(), "a refused gate created {}", out.display());
    assert!(
        sb.tripwire().connections().is_empty(),
        "a refused gate made a request"
    );
}

#[test]
fn gate_refuses_a_lane_subset_without_making_a_request() {
    let sb = Sandbox::new();
    tripwire_lane(&sb, "lanes/only.rhai");
    let out = sb.out("evidence");
    let run = sb.cmd().args(["--gate", "lanes/only.rhai"]).out(&out).run();
    assert_refused_before_running(&sb, &run, &out);
    run.stderr_has("lane subset");

    // The control: the same lane without --gate does reach the tripwire.
    let out = sb.out("control");
    let control = sb.cmd().arg("lanes/only.rhai").out(&out).run();
    control.expect_code(1);
    assert_eq!(
        sb.tripwire().connections().len(),
        1,
        "the lane's request reaches the tripwire when it runs"
    );
}

#[test]
fn gate_refuses_baseline_in_both_spellings_and_check_filters() {
    let sb = Sandbox::new();
    struct Case {
        name: &'static str,
        args: &'static [&'static str],
        env: &'static [(&'static str, &'static str)],
        mentioned: &'static str,
    }
    let cases = [
        Case {
            name: "baseline",
            args: &["--gate", "--baseline"],
            env: &[],
            mentioned: "--baseline",
        },
        Case {
            name: "fail-on-required",
            args: &["--gate"],
            env: &[("FAIL_ON_REQUIRED_FAILURE", "0")],
            mentioned: "FAIL_ON_REQUIRED_FAILURE=0",
        },
        Case {
            name: "check-filter",
            args: &["--gate", "--check", "control-staging-health"],
            env: &[],
            mentioned: "--check",
        },
    ];
    for case in cases {
        let out = sb.out(case.name);
        let mut cmd = sb.cmd_in_repo().args(case.args).out(&out);
        for (k, v) in case.env {
            cmd = cmd.env(k, v);
        }
        let run = cmd.run();
        assert_refused_before_running(&sb, &run, &out);
        run.stderr_has(case.mentioned);
    }
}

#[test]
fn gate_refuses_a_toggle_that_would_skip_a_required_check() {
    let sb = Sandbox::new();
    let url = sb.tripwire().url();
    sb.write(
        "lanes/a.rhai",
        &format!(
            r#"required("a-untoggled", || {{
    let r = http::get("{url}/a", #{{ timeout: "500ms" }});
    assert_status(r, 200);
}});
required("a-toggled", #{{ toggle: "RUN_A_THING" }}, || {{ assert(true, "ran"); }});
"#
        ),
    );
    sb.lock_lanes(&[]).expect_code(0);
    for value in ["off", "maybe"] {
        let out = sb.out(&format!("evidence-{value}"));
        let run = sb
            .cmd()
            .args(["--gate", "--lanes", "lanes"])
            .out(&out)
            .env("RUN_A_THING", value)
            .run();
        assert_refused_before_running(&sb, &run, &out);
        run.stderr_has("a-toggled").stderr_has("RUN_A_THING");
        assert!(
            !run.stderr.contains("a-untoggled"),
            "only the skipped check is named:\n{}",
            run.stderr
        );
    }
}

#[test]
fn gate_run_of_the_real_lanes_against_the_sim_is_go_and_says_so() {
    let sb = Sandbox::new();
    let out = sb.out("evidence");
    // The real matrix has phase-dependent checks: a gate names its phase
    // (tests/phases.rs: the refusal without one).
    let run = sb
        .cmd_in_repo()
        .args(["--gate", "--sim", "--phase", "app-surface"])
        .out(&out)
        .run();
    run.expect_code(0);
    assert!(
        run.verdict_line().starts_with("Verdict: GO"),
        "{}",
        run.stdout
    );
    for id in CONTROL_CHECKS {
        run.stdout_has(&format!("[passed] {id} (required)"));
    }
    let ev = sb.evidence("evidence");
    let md = ev.summary_md();
    assert!(md.contains("\n- Mode: gate\n"), "{md}");
    assert!(md.contains("\n- Phase: app-surface\n"), "{md}");
    assert!(md.contains("\n- Verdict: GO\n"), "{md}");
    let json = ev.summary_json();
    assert_eq!(json["verdict"]["decision"], "GO");
    assert_eq!(json["verdict"]["mode"], "gate");
}

/// The matrix's identity: a gate holds the matrix to its committed lock. A copy of the real
/// matrix with one required check lowered to optional and one lane deleted is refused (exit 2,
/// before any request), naming each difference; re-locked, it runs, and every report names the
/// lock's digest and the tool's version and commit.
#[test]
fn gate_refuses_a_matrix_that_differs_from_its_lock_and_reports_name_the_lock() {
    let sb = Sandbox::new();
    sb.copy_dir_from_repo("lanes", "lanes");
    // The committed lock matches the committed lanes.
    sb.cmd()
        .args(["lock", "--lanes", "lanes", "--check"])
        .run()
        .expect_code(0)
        .stdout_has("lanes/matrix.lock matches the matrix");

    let control = sb.path().join("lanes/control.rhai");
    let text = std::fs::read_to_string(&control).expect("control lane");
    let lowered = text.replacen(
        "required(`control-${t.name}-health`",
        "optional(`control-${t.name}-health`",
        1,
    );
    assert_ne!(lowered, text, "the health check is declared as expected");
    std::fs::write(&control, lowered).expect("lower a level");
    std::fs::remove_file(sb.path().join("lanes/public_stats.rhai")).expect("delete a lane");

    let out = sb.out("refused");
    let run = sb
        .cmd()
        .args(["--gate", "--phase", "app-surface", "--lanes", "lanes"])
        .out(&out)
        .run();
    assert_refused_before_running(&sb, &run, &out);
    for difference in [
        "the matrix differs from lanes/matrix.lock: check control-staging-health is locked required but declared optional (a level lowered)",
        "check control-prod-health is locked required but declared optional (a level lowered)",
        "check public-stats-staging (required) is in the lock but not declared",
        "lane file control.rhai changed since the lock",
        "lane file public_stats.rhai is in the lock but gone",
    ] {
        run.stderr_has(difference);
    }
    sb.cmd()
        .args(["lock", "--lanes", "lanes", "--check"])
        .run()
        .expect_code(1)
        .stderr_has("differs: check control-staging-health is locked required");

    // Reviewed and re-locked: the gate runs it, and each report names the new lock.
    sb.cmd()
        .args(["lock", "--lanes", "lanes"])
        .run()
        .expect_code(0)
        .stdout_has("wrote lanes/matrix.lock");
    let lock = std::fs::read_to_string(sb.path().join("lanes/matrix.lock")).expect("lock");
    assert!(
        lock.contains(r#"{"id":"control-staging-health","level":"optional","target":"staging""#),
        "one check per line, its level visible in review:\n{lock}"
    );
    let digest = {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(lock.as_bytes()))
    };
    let out = sb.out("relocked");
    let run = sb
        .cmd()
        .args([
            "--sim",
            "--gate",
            "--phase",
            "app-surface",
            "--lanes",
            "lanes",
        ])
        .out(&out)
        .timeout(std::time::Duration::from_secs(180))
        .run();
    run.expect_code(0);
    let line = format!(
        "Matrix: lanes/matrix.lock sha256:{} (matches)",
        &digest[..12]
    );
    let verdict_block = run
        .stdout
        .split_once("Verdict: GO")
        .map(|(_, after)| after)
        .unwrap_or_else(|| panic!("no verdict:\n{}", run.stdout));
    assert!(
        verdict_block.contains(&line) && verdict_block.contains("oa-validate 0.1.0 (commit "),
        "the verdict block names the lock and the tool:\n{}",
        run.stdout
    );
    let ev = sb.evidence("relocked");
    let summary_md = ev.read("SUMMARY.md");
    assert!(
        summary_md.contains(&format!("- Matrix: {}", &line["Matrix: ".len()..])),
        "{summary_md}"
    );
    assert!(summary_md.contains("- Tool: oa-validate 0.1.0 (commit "));
    let summary = ev.summary_json();
    assert_eq!(summary["run"]["matrix"]["lock_sha256"], digest.as_str());
    assert_eq!(summary["run"]["matrix"]["status"], "matches");
    assert!(
        summary["run"]["tool_commit"]
            .as_str()
            .is_some_and(|c| c.len() >= 7)
    );
    let html = ev.read("report.html");
    assert!(
        html.contains(&digest[..16]),
        "report.html names the lock digest"
    );
    assert!(!html.contains("(no digest recorded)"));
    let junit = ev.read("junit.xml");
    assert!(junit.contains(&digest), "junit.xml names the lock digest");
}

/// The committed lock is the committed matrix's: a lane changed without re-locking fails here
/// (and would make every gate refuse), so the diff of lanes/matrix.lock lands with the change.
#[test]
fn the_committed_lock_matches_the_committed_lanes() {
    let sb = Sandbox::new();
    let run = sb.cmd_in_repo().args(["lock", "--check"]).run();
    assert_eq!(
        run.code,
        Some(0),
        "lanes/ changed without `oa-validate lock` (review, re-lock, commit lanes/matrix.lock):\n{}",
        run.stderr
    );
}
