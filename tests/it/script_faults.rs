//! Script faults: each ends its check with its own clear outcome at `file:line:col`, the
//! other checks still run, the evidence folder is complete and verifies; faults at the top
//! level of a lane stop the run before anything runs (exit 3) with their position.

use crate::common::Sandbox;
use std::time::Duration;

/// (check id, body lines, reason must start with, reason must contain).
const IN_CHECK: &[(&str, &str, &str, &str)] = &[
    (
        "infinite-loop",
        "loop { }",
        "faults.rhai:",
        "timed out after 2s",
    ),
    (
        "deep-recursion",
        "recurse(0);",
        "faults.rhai:",
        "Stack overflow",
    ),
    (
        "string-growth",
        "let s = \"x\";\n    loop { s += s; }",
        "faults.rhai:",
        "Length of string too large",
    ),
    (
        "array-of-strings-growth",
        "let s = \"x\"; while s.len() < 1000000 { s += s; }\n    let a = [];\n    for i in 0..1000 { a.push(s + i); }",
        "faults.rhai:",
        "too large",
    ),
    (
        "blob-growth",
        "let b = blob(50000000);",
        "faults.rhai:",
        "Size of array/BLOB too large",
    ),
    // Pushing in place is checked once per statement; the timeout bounds it (and memory stays low).
    (
        "array-growth",
        "let a = [];\n    loop { a.push(a.len()); }",
        "faults.rhai:",
        "",
    ),
    ("throw-in-check", "throw \"boom\";", "faults.rhai:", "boom"),
    (
        "throw-map",
        "throw #{ message: \"structured boom\" };",
        "faults.rhai:",
        "structured boom",
    ),
    (
        "undefined-function",
        "no_such_function(1);",
        "faults.rhai:",
        "Function not found: no_such_function (i64)",
    ),
    (
        "wrong-argument-types",
        "assert_status(\"200\", \"ok\");",
        "faults.rhai:",
        "Function not found: assert_status",
    ),
    (
        "required-inside-a-check",
        "required(\"inner\", || { });",
        "faults.rhai:",
        "can only be called at the top level of a lane",
    ),
    (
        "import-missing-in-check",
        "import \"no_such_module\" as m;",
        "faults.rhai:",
        "module \"no_such_module\" not found: looked for no_such_module.rhai",
    ),
    (
        "exit-in-check",
        "exit();",
        "faults.rhai:",
        "exit() is not available in lanes",
    ),
];

fn in_check_lane() -> String {
    let mut lane = String::from("fn recurse(n) { recurse(n + 1) }\n");
    for (id, body, _, _) in IN_CHECK {
        lane.push_str(&format!(
            "required(\"{id}\", #{{ timeout: \"2s\" }}, || {{\n    {body}\n}});\n"
        ));
    }
    lane.push_str("required(\"still-runs\", || { assert(true, \"after every fault\"); });\n");
    lane
}

#[test]
fn every_script_fault_in_a_check_has_its_own_outcome_and_the_run_completes() {
    let sb = Sandbox::new();
    let lane = in_check_lane();
    sb.write("faults.rhai", &lane);
    let out = sb.out("evidence");
    let run = sb
        .cmd()
        .arg("faults.rhai")
        .out(&out)
        .timeout(Duration::from_secs(120))
        .run();
    run.expect_code(1);
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    let ev = sb.evidence("evidence");
    let mut problems = Vec::new();
    let mut reasons = std::collections::HashSet::new();
    for (id, _, prefix, contains) in IN_CHECK {
        let check = ev.json_check(id);
        let reason = check["reason"].as_str().unwrap_or_default().to_string();
        // file:line:col with a real line.
        let position_ok = reason.starts_with(prefix)
            && reason[prefix.len()..]
                .split(':')
                .take(2)
                .all(|n| n.parse::<u32>().is_ok_and(|n| n > 0));
        if check["status"] != "errored" || !position_ok || !reason.contains(contains) {
            problems.push(format!("{id}: {} {reason:?}", check["status"]));
        }
        if !ev
            .read(&format!("logs/{id}.log"))
            .contains("outcome: errored")
        {
            problems.push(format!("{id}: its log lacks the outcome"));
        }
        reasons.insert(reason);
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert_eq!(
        reasons.len(),
        IN_CHECK.len(),
        "two faults gave the same reason"
    );
    assert_eq!(ev.json_check("still-runs")["status"], "passed");
    // The whole run fits the 2 s timeouts, and memory stayed bounded through the growth faults.
    assert!(run.elapsed < Duration::from_secs(60), "{:?}", run.elapsed);
    if let Some(peak) = run.peak_rss_kib {
        eprintln!("peak RSS through the script faults: {peak} KiB");
        assert!(peak < 200 * 1024, "peak RSS {peak} KiB");
    }
    assert!(ev.sums_verify(), "SHA256SUMS does not verify");
}

/// (lane source, position, message): faults at the top level of a lane.
const AT_PLAN_TIME: &[(&str, &str, &str)] = &[
    (
        "required(\"a\", || { assert(true, \"x\"); });\nthrow \"top-level boom\";\n",
        "plan.rhai:2:1",
        "top-level boom",
    ),
    (
        "let x = undefined_variable;\n",
        "plan.rhai:1:9",
        "Undefined variable: undefined_variable",
    ),
    (
        "required(\"a\", || { assert(true, \"x\"); });\nnot_a_function();\n",
        "plan.rhai:2:1",
        "Function not found: not_a_function",
    ),
    (
        "required(\"dup\", || { assert(true, \"x\"); });\nrequired(\"dup\", || { assert(true, \"x\"); });\n",
        "plan.rhai:2:1",
        "duplicate check id \"dup\" (first declared at plan.rhai:1:1)",
    ),
    (
        "import \"no_such_module\" as m;\nrequired(\"a\", || { assert(true, \"x\"); });\n",
        "plan.rhai:1:8",
        "module \"no_such_module\" not found: looked for no_such_module.rhai",
    ),
    ("loop { }\n", "plan.rhai:1:", "timed out"),
    (
        "fn f(n) { f(n + 1) }\nf(0);\n",
        "plan.rhai:",
        "Stack overflow",
    ),
    (
        "required(42, || { });\n",
        "plan.rhai:1:1",
        "Function not found: required (i64",
    ),
];

#[test]
fn every_script_fault_at_the_top_level_is_a_lane_error_with_its_position() {
    let sb = Sandbox::new();
    for (i, (source, position, message)) in AT_PLAN_TIME.iter().enumerate() {
        sb.write("plan.rhai", source);
        let out = sb.out(&format!("evidence-{i}"));
        let run = sb
            .cmd()
            .arg("plan.rhai")
            .out(&out)
            .timeout(Duration::from_secs(60))
            .run();
        run.expect_code(3).stderr_has(position).stderr_has(message);
        assert!(
            !out.exists(),
            "case {i}: nothing ran, yet an evidence folder exists"
        );
    }
}
