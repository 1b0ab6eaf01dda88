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
