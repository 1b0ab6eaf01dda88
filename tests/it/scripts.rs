//! Lane semantics, with fixture lanes written into the sandbox: compile errors, timeouts,
//! runtime errors, vacuous and swallowed assertions, plan-time I/O, duplicates, skips, modes
//! and toggles. Positions in the fixtures are asserted exactly, so the fixtures are inline.

use crate::common::Sandbox;
use std::time::Duration;

#[test]
fn a_syntax_error_is_exit_3_with_its_position_and_nothing_runs() {
    let sb = Sandbox::new();
    sb.write(
        "broken.rhai",
        "// a lane with a syntax error\n\
         required(\"never-runs\", || {\n\
         \x20   let x = ;\n\
         });\n",
    );
    let out = sb.out("evidence");
    let run = sb.cmd().arg("broken.rhai").out(&out).run();
    run.expect_code(3)
        .stderr_has("broken.rhai:3:13")
        .stderr_has("nothing was run");
    assert!(!run.stdout.contains("[passed]"), "{}", run.stdout);
    assert!(!out.exists(), "an evidence folder was created");
}

#[test]
fn an_endless_loop_times_out_and_the_next_check_still_runs() {
    let sb = Sandbox::new();
    sb.write(
        "spin.rhai",
        r#"required("spins", #{ timeout: "1s" }, || {
    loop {}
});
required("passes", || { assert(true, "fine"); });
"#,
    );
    let out = sb.out("evidence");
    let run = sb
        .cmd()
        .arg("spin.rhai")
        .out(&out)
        .timeout(Duration::from_secs(30))
        .run();
    run.expect_code(1);
    assert_eq!(run.verdict_line(), "Verdict: NO-GO");
    assert!(
        run.elapsed < Duration::from_secs(10),
        "a 1 s timeout took {:?}",
        run.elapsed
    );
    run.stdout_has("[errored] spins (required)")
        .stdout_has("[passed] passes (required)");

    let ev = sb.evidence("evidence");
    assert_eq!(ev.row("spins")["status"], "failed");
    assert_eq!(ev.row("passes")["status"], "passed");
    let spins = ev.json_check("spins");
    assert_eq!(spins["status"], "errored");
    let reason = spins["reason"].as_str().unwrap_or_default();
    assert!(reason.contains("timed out"), "{reason}");
    assert!(reason.starts_with("spin.rhai:"), "{reason}");
}

#[test]
fn a_runtime_error_is_errored_at_its_position() {
    let sb = Sandbox::new();
    sb.write(
        "errors.rhai",
        r#"required("throws", || {
    assert(true, "reached");
    throw "boom";
});
required("undefined", || {
    assert(true, "reached");
    no_such_function(1);
});
"#,
    );
    let out = sb.out("evidence");
    let run = sb.cmd().arg("errors.rhai").out(&out).run();
    run.expect_code(1)
        .stdout_has("[errored] throws (required)")
        .stdout_has("errors.rhai:3:5: boom")
        .stdout_has("[errored] undefined (required)")
        .stdout_has("errors.rhai:7:5:");

    let ev = sb.evidence("evidence");
    let throws = ev.json_check("throws");
    assert_eq!(throws["status"], "errored");
    assert_eq!(throws["reason"], "errors.rhai:3:5: boom");
    let undefined = ev.json_check("undefined");
    assert_eq!(undefined["status"], "errored");
    let reason = undefined["reason"].as_str().unwrap_or_default();
    assert!(
        reason.starts_with("errors.rhai:7:5: ") && reason.contains("no_such_function"),
        "{reason}"
    );
    assert_eq!(ev.row("throws")["status"], "failed");
    assert_eq!(ev.row("undefined")["status"], "failed");
}

#[test]
fn a_check_without_assertions_fails_as_vacuous() {
    let sb = Sandbox::new();
    sb.write(
        "vacuous.rhai",
        "required(\"asserts-nothing\", || { let x = 1 + 1; });\n",
    );
    let out = sb.out("evidence");
    let run = sb.cmd().arg("vacuous.rhai").out(&out).run();
    run.expect_code(1)
        .stdout_has("[failed] asserts-nothing (required)");
    let ev = sb.evidence("evidence");
    assert_eq!(ev.row("asserts-nothing")["status"], "failed");
    let check = ev.json_check("asserts-nothing");
    assert_eq!(check["status"], "failed");
    assert!(
        check["reason"]
            .as_str()
            .unwrap_or_default()
            .contains("vacuous"),
        "{check:#}"
    );
}

#[test]
fn a_caught_assertion_failure_still_fails_the_check() {
    let sb = Sandbox::new();
    sb.write(
        "swallow.rhai",
        r#"required("swallowed", || {
    try { assert(false, "x"); } catch {}
    assert(true, "y");
});
"#,
    );
    let out = sb.out("evidence");
    let run = sb.cmd().arg("swallow.rhai").out(&out).run();
    run.expect_code(1)
        .stdout_has("[failed] swallowed (required)");
    let ev = sb.evidence("evidence");
    assert_eq!(ev.row("swallowed")["status"], "failed");
    let check = ev.json_check("swallowed");
    assert_eq!(check["status"], "failed");
    assert_eq!(check["reason"], "swallow.rhai:2:11: x");
    assert_eq!(check["failures"][0]["message"], "x");
}

#[test]
fn an_http_request_at_plan_time_is_a_lane_error() {
    let sb = Sandbox::new();
    let url = sb.tripwire().url();
    sb.write(
        "plan.rhai",
        &format!(
            "// the top level only declares checks\n\
             let r = http::get(\"{url}/plan-time\");\n\
             required(\"after\", || {{ assert(true, \"a\"); }});\n"
        ),
    );
    let out = sb.out("evidence");
    let run = sb.cmd().arg("plan.rhai").out(&out).run();
    run.expect_code(3)
        .stderr_has("plan.rhai:2:")
        .stderr_has("plan time");
    assert!(!out.exists(), "an evidence folder was created");
    assert!(
        sb.tripwire().connections().is_empty(),
        "a plan-time request reached the network"
    );
}

#[test]
fn duplicate_ids_across_lanes_name_both_positions() {
    let sb = Sandbox::new();
    sb.write(
        "a.rhai",
        "required(\"same-id\", || { assert(true, \"a\"); });\n",
    );
    sb.write(
        "b.rhai",
        "// another lane\n\n    required(\"same-id\", || { assert(true, \"b\"); });\n",
    );
    let out = sb.out("evidence");
    let run = sb.cmd().args(["a.rhai", "b.rhai"]).out(&out).run();
    run.expect_code(3)
        .stderr_has("same-id")
        .stderr_has("a.rhai:1:1")
        .stderr_has("b.rhai:3:5");
    assert!(!out.exists(), "an evidence folder was created");
}

#[test]
fn declaring_a_check_inside_a_check_is_an_error() {
    let sb = Sandbox::new();
    sb.write(
        "nested.rhai",
        r#"required("outer", || {
    assert(true, "reached");
    required("inner", || { assert(true, "never"); });
});
"#,
    );
    let out = sb.out("evidence");
    let run = sb.cmd().arg("nested.rhai").out(&out).run();
    run.expect_code(1).stdout_has("[errored] outer (required)");
    let ev = sb.evidence("evidence");
    assert_eq!(
        ev.statuses(),
        [("outer".to_string(), "failed".to_string())],
        "only the outer check exists"
    );
    let outer = ev.json_check("outer");
    assert_eq!(outer["status"], "errored");
    let reason = outer["reason"].as_str().unwrap_or_default();
    assert!(
        reason.starts_with("nested.rhai:3:5: ")
            && reason.contains("can only be called at the top level"),
        "{reason}"
    );
}

#[test]
fn skip_reports_its_reason_and_only_a_required_skip_is_no_go() {
    let sb = Sandbox::new();
    sb.write(
        "optional-skip.rhai",
        r#"required("main", || { assert(true, "ok"); });
optional("maybe", || { skip("why"); });
"#,
    );
    sb.write(
        "required-skip.rhai",
        r#"required("must", || { skip("why"); });
"#,
    );

    let out = sb.out("optional");
    let run = sb.cmd().arg("optional-skip.rhai").out(&out).run();
    run.expect_code(0)
        .stdout_has("[skipped] maybe (optional)")
        .stdout_has("skipped: why");
    assert_eq!(run.verdict_line(), "Verdict: GO");
    let ev = sb.evidence("optional");
    let row = ev.row("maybe");
    assert_eq!(row["status"], "skipped");
    assert_eq!(row["required"], "optional");
    assert_eq!(row["command"], "why", "upstream puts the skip reason here");
    let maybe = ev.json_check("maybe");
    assert_eq!(maybe["status"], "skipped");
    assert_eq!(maybe["reason"], "why");
    let junit = ev.read("junit.xml");
    let doc = roxmltree::Document::parse(&junit).expect("junit.xml parses");
    let case = doc
        .descendants()
        .find(|n| n.has_tag_name("testcase") && n.attribute("name") == Some("maybe"))
        .expect("a testcase for maybe");
    let skipped = case
        .children()
        .find(|n| n.has_tag_name("skipped"))
        .expect("<skipped>");
    assert_eq!(skipped.attribute("message"), Some("why"));

    let out = sb.out("required");
    let run = sb.cmd().arg("required-skip.rhai").out(&out).run();
    run.expect_code(1).stdout_has("[skipped] must (required)");
    assert_eq!(run.verdict_line(), "Verdict: NO-GO");
    let ev = sb.evidence("required");
    assert_eq!(ev.row("must")["status"], "skipped");
    assert_eq!(ev.json_check("must")["reason"], "why");
    assert_eq!(ev.summary_json()["verdict"]["decision"], "NO-GO");
}

#[test]
fn baseline_exits_0_on_no_go_but_keeps_the_verdict() {
    let sb = Sandbox::new();
    sb.write(
        "fail.rhai",
        "required(\"must\", || { assert(false, \"nope\"); });\n",
    );

    // The control: a failing required check is exit 1.
    let out = sb.out("normal");
    sb.cmd().arg("fail.rhai").out(&out).run().expect_code(1);

    let flag = sb
        .cmd()
        .arg("fail.rhai")
        .out(&sb.out("flag"))
        .arg("--baseline");
    let env = sb
        .cmd()
        .arg("fail.rhai")
        .out(&sb.out("env"))
        .env("FAIL_ON_REQUIRED_FAILURE", "0");
    for (name, cmd) in [("flag", flag), ("env", env)] {
        let run = cmd.run();
        run.expect_code(0);
        assert_eq!(run.verdict_line(), "Verdict: NO-GO", "{name}");
        let ev = sb.evidence(name);
        let md = ev.summary_md();
        assert!(md.contains("\n- Overall: failed\n"), "{name}: {md}");
        assert!(md.contains("\n- Verdict: NO-GO\n"), "{name}: {md}");
        assert!(md.contains("\n- Mode: baseline\n"), "{name}: {md}");
        assert_eq!(ev.row("must")["status"], "failed");
        assert_eq!(ev.summary_json()["verdict"]["decision"], "NO-GO");
    }
}

#[test]
fn a_lane_declaring_nothing_is_exit_4() {
    let sb = Sandbox::new();
    sb.write("empty.rhai", "// declares nothing\nlet x = 1;\n");
    let out = sb.out("evidence");
    let run = sb.cmd().arg("empty.rhai").out(&out).run();
    run.expect_code(4).stderr_has("no checks selected");
}

#[test]
fn a_toggle_turned_off_skips_a_required_check_with_the_raw_value() {
    let sb = Sandbox::new();
    sb.write(
        "toggled.rhai",
        r#"required("thing", #{ toggle: "RUN_THING" }, || { assert(true, "ran"); });
"#,
    );

    let out = sb.out("off");
    let run = sb
        .cmd()
        .arg("toggled.rhai")
        .out(&out)
        .env("RUN_THING", "off")
        .run();
    run.expect_code(1)
        .stdout_has("[skipped] thing (required)")
        .stdout_has("skipped: RUN_THING=off");
    assert_eq!(run.verdict_line(), "Verdict: NO-GO");
    let ev = sb.evidence("off");
    assert_eq!(ev.row("thing")["status"], "skipped");
    assert_eq!(ev.row("thing")["command"], "RUN_THING=off");
    assert_eq!(ev.json_check("thing")["reason"], "RUN_THING=off");

    // The same check with the toggle on runs and passes.
    let out = sb.out("on");
    let run = sb
        .cmd()
        .arg("toggled.rhai")
        .out(&out)
        .env("RUN_THING", "yes")
        .run();
    run.expect_code(0).stdout_has("[passed] thing (required)");
}

#[test]
fn a_check_that_runs_past_its_timeout_is_errored_even_after_a_sleep() {
    let sb = Sandbox::new();
    sb.write(
        "sleepy.rhai",
        r#"required("waits-too-long", #{ timeout: "1s" }, || {
    sleep("3s");
    assert(true, "after the wait");
});
"#,
    );
    let out = sb.out("evidence");
    let run = sb.cmd().arg("sleepy.rhai").out(&out).run();
    let check = sb.evidence("evidence").json_check("waits-too-long");
    assert_eq!(check["status"], "errored", "{check:#}");
    let reason = check["reason"].as_str().unwrap_or_default();
    assert!(reason.contains("timed out"), "{reason}");
    run.expect_code(1);
}

/// Imports resolve from the importing lane's folder, whatever the working directory (as the
/// lane guide says); an error inside the module names its real file, `.rhai` included, with a
/// code frame of its line; a module that is not found names where it was looked for.
#[test]
fn imports_resolve_from_the_lanes_folder_and_module_errors_have_code_frames() {
    let sb = Sandbox::new();
    sb.write(
        "proj/lanes/mine.rhai",
        "import \"lib/mine\" as mine;\n\
         required(\"uses-module\", || {\n\
         \x20   mine::check_it(1);\n\
         });\n",
    );
    sb.write(
        "proj/lanes/lib/mine.rhai",
        "// a helper module\n\
         fn check_it(x) {\n\
         \x20   let y = x + \"a\" * 2;\n\
         \x20   assert(true, \"ok\");\n\
         }\n",
    );
    sb.write(
        "proj/lanes/missing.rhai",
        "import \"lanes/lib/mine\" as mine;\nrequired(\"never\", || { assert(true, \"x\"); });\n",
    );
    let elsewhere = sb.path().join("elsewhere");
    std::fs::create_dir_all(&elsewhere).expect("a working directory without lanes");

    let run = sb
        .cmd_in(&elsewhere)
        .arg("../proj/lanes/mine.rhai")
        .out(&sb.out("ev"))
        .run();
    run.expect_code(1)
        .stdout_has("[errored] uses-module (required)")
        .stdout_has("../proj/lanes/lib/mine.rhai:3:21: Function not found");
    let frames = sb.evidence("ev").json_check("uses-module");
    let summary = sb.evidence("ev").summary_json();
    let frame = summary["run"]["checks"][0]["code_frames"][0]
        .as_str()
        .unwrap_or_else(|| panic!("no code frame: {summary}"))
        .to_string();
    assert!(
        frame.contains("--> ../proj/lanes/lib/mine.rhai:3:21")
            && frame.contains("3 |     let y = x + \"a\" * 2;"),
        "the frame shows the module's line:\n{frame}\n{frames}"
    );

    let missing = sb
        .cmd_in(&elsewhere)
        .args(["check", "../proj/lanes/missing.rhai"])
        .run();
    missing
        .expect_code(3)
        .stderr_has(
            "module \"lanes/lib/mine\" not found: looked for ../proj/lanes/lanes/lib/mine.rhai",
        )
        .stderr_has("a path resolves from the importing file's folder")
        .stderr_has("--> ../proj/lanes/missing.rhai:1:8");
}

/// `needs` takes variable names only: a token's value (`needs: t.token`) used to be accepted
/// and the check skipped as `[REDACTED] unset`; now it is a lane error naming the option,
/// without the token; a lower-case word or a number is refused too.
#[test]
fn needs_accepts_only_variable_names() {
    let sb = Sandbox::new();
    let token = "stg-needs-token-0123456789abcdef";
    sb.write(
        "token.rhai",
        "for t in targets() {\n\
         \x20   required(`n-${t.name}`, #{ needs: t.token }, || { assert(true, \"x\"); });\n\
         }\n",
    );
    let run = sb
        .cmd()
        .args(["--sim", "token.rhai"])
        .env("STAGING_CONTROL_ACCESS_TOKEN", token)
        .out(&sb.out("token"))
        .run();
    run.expect_code(3)
        .stderr_has("option `needs` of n-staging: expected environment variable names")
        .stderr_has("by its variable's name (t.token_var), not by its value (t.token)")
        .stderr_has("--> token.rhai:2:5");
    assert!(!run.stderr.contains(token) && !run.stdout.contains(token));
    for (value, seen) in [
        ("\"lower_case\"", "got \"lower_case\""),
        ("42", "got a i64"),
    ] {
        sb.write(
            "bad.rhai",
            &format!("required(\"b\", #{{ needs: {value} }}, || {{ assert(true, \"x\"); }});\n"),
        );
        sb.cmd()
            .args(["check", "bad.rhai"])
            .run()
            .expect_code(3)
            .stderr_has(seen);
    }
    sb.write(
        "good.rhai",
        "for t in targets() {\n\
         \x20   required(`g-${t.name}`, #{ needs: [t.token_var, \"OA_X_1\"] }, || { assert(true, \"x\"); });\n\
         }\n",
    );
    sb.cmd().args(["check", "good.rhai"]).run().expect_code(0);
}

/// `check` reports, before any run, what used to fail only when the line ran: an unknown
/// function (by name and argument count, API namespaces included), a known one with the wrong
/// number of arguments, and an unknown request option, each with a "did you mean"; calls to
/// closures, methods and the evaluator's own functions are not flagged.
#[test]
fn check_reports_unknown_functions_and_options_with_did_you_mean() {
    let sb = Sandbox::new();
    sb.write(
        "typo.rhai",
        "for t in targets() {\n\
         \x20   required(`typo-${t.name}`, || {\n\
         \x20       let r = http::gett(`${t.control_url}/readyz`);\n\
         \x20       assert_staus(r, 200);\n\
         \x20       let ok = http::get(t.control_url, #{ timout: \"5s\", headers: #{} });\n\
         \x20       assert_status(ok);\n\
         \x20       let f = |x| x + 1;\n\
         \x20       let y = f.call(1);\n\
         \x20       print(len(r.json().to_string()) + type_of(y).len());\n\
         \x20   });\n\
         }\n",
    );
    let run = sb.cmd().args(["check", "typo.rhai"]).run();
    run.expect_code(3)
        .stderr_has("error: unknown function `http::gett` (1 argument): did you mean `http::get`?\n  --> typo.rhai:3:")
        .stderr_has("error: unknown function `assert_staus` (2 arguments): did you mean `assert_status`?\n  --> typo.rhai:4:9")
        .stderr_has("error: unknown http option `timout` (expected headers, json, form, body, timeout, follow_redirects, bearer, compressed): did you mean `timeout`?\n  --> typo.rhai:5:")
        .stderr_has("error: `assert_status` takes 2 argument(s), not 1\n  --> typo.rhai:6:9")
        .stderr_has("4 lane errors: they would fail at run time");
    assert!(!run.stdout.contains("compiled"), "{}", run.stdout);
    // The real matrix has none.
    sb.cmd_in_repo().arg("check").run().expect_code(0);
}
