//! When checks run: a check starts as soon as what it waits for has ended (`after:`, serial
//! groups), not lane by lane; `--jobs` bounds how many run at once; an `after` that did not
//! pass skips its check, naming it; unknown `after` ids are lane errors. Reports keep plan
//! order whatever order the checks ended in.

use crate::common::{Evidence, Sandbox};

/// (start, end) in ms of check `id` from summary.json's run part, and what it waited for.
#[track_caller]
fn span(ev: &Evidence, id: &str) -> (u64, u64, Vec<String>) {
    let summary = ev.summary_json();
    let check = summary["run"]["checks"]
        .as_array()
        .expect("run.checks")
        .iter()
        .find(|c| c["id"] == id)
        .cloned()
        .unwrap_or_else(|| panic!("no run entry for {id}"));
    let start = check["started_ms"].as_u64().expect("started_ms");
    let end = start + check["duration_ms"].as_u64().expect("duration_ms");
    let waited = check["waited_for"]
        .as_array()
        .expect("waited_for")
        .iter()
        .map(|v| v.as_str().expect("an id").to_string())
        .collect();
    (start, end, waited)
}

#[test]
fn checks_of_one_lane_overlap_unless_a_serial_group_orders_them() {
    let sb = Sandbox::new();
    sb.write(
        "lanes/ordered.rhai",
        r#"
for t in targets() {
    required(`free-${t.name}`, #{ target: t }, || { sleep("1500ms"); assert(true, "slept"); });
}
for n in 1..=3 {
    required(`one-at-a-time-${n}`, #{ serial: "shared-account" }, || { sleep("400ms"); assert(true, "slept"); });
}
"#,
    );
    let out = sb.out("ordered");
    sb.cmd()
        .args(["--sim", "lanes/ordered.rhai", "--jobs", "4"])
        .out(&out)
        .run()
        .expect_code(0);
    let ev = sb.evidence("ordered");

    // One lane, two targets: both sleeps run at once (today's lane-by-lane runner would
    // have run them one after the other).
    let (a_start, a_end, _) = span(&ev, "free-staging");
    let (b_start, b_end, _) = span(&ev, "free-prod");
    assert!(
        b_start < a_end && a_start < b_end,
        "free-staging {a_start}..{a_end} and free-prod {b_start}..{b_end} overlap"
    );

    // The serial group: never two at once, in plan order, each waiting for the one before.
    let spans: Vec<(u64, u64, Vec<String>)> = (1..=3)
        .map(|n| span(&ev, &format!("one-at-a-time-{n}")))
        .collect();
    for pair in spans.windows(2) {
        assert!(pair[0].1 <= pair[1].0, "serial checks overlap: {spans:?}");
    }
    assert!(spans[0].2.is_empty(), "{spans:?}");
    assert_eq!(spans[1].2, ["one-at-a-time-1"]);
    assert_eq!(spans[2].2, ["one-at-a-time-2"]);

    // Reports keep plan order whatever order the checks ended in.
    let ids: Vec<String> = ev
        .tsv_rows()
        .iter()
        .map(|r| r["check_id"].clone())
        .collect();
    assert_eq!(
        ids,
        [
            "free-staging",
            "free-prod",
            "one-at-a-time-1",
            "one-at-a-time-2",
            "one-at-a-time-3"
        ]
    );
}

#[test]
fn jobs_1_runs_one_check_at_a_time() {
    let sb = Sandbox::new();
    sb.write(
        "lanes/two.rhai",
        r#"
required("first", || { sleep("300ms"); assert(true, "slept"); });
required("second", || { sleep("300ms"); assert(true, "slept"); });
"#,
    );
    let out = sb.out("one");
    sb.cmd()
        .args(["--sim", "lanes/two.rhai", "--jobs", "1"])
        .out(&out)
        .run()
        .expect_code(0);
    let ev = sb.evidence("one");
    let (_, first_end, _) = span(&ev, "first");
    let (second_start, _, _) = span(&ev, "second");
    assert!(first_end <= second_start, "--jobs 1 overlapped two checks");
}

#[test]
fn a_check_after_one_that_did_not_pass_is_skipped_naming_it_and_the_verdict_is_no_go() {
    let sb = Sandbox::new();
    sb.write(
        "lanes/after.rhai",
        r#"
required("writes", || { assert(false, "the write failed"); });
required("reads-back", #{ after: "writes" }, || { assert(true, "never runs"); });
optional("toggled", #{ toggle: "RUN_TOGGLED" }, || { assert(true, "off"); });
optional("needs-toggled", #{ after: ["toggled"] }, || { assert(true, "never runs"); });
required("fine", || { assert(true, "fine"); });
required("after-fine", #{ after: "fine" }, || { assert(true, "runs"); });
"#,
    );
    let out = sb.out("after");
    sb.cmd()
        .args(["--sim", "lanes/after.rhai"])
        .out(&out)
        .env("RUN_TOGGLED", "0")
        .run()
        .expect_code(1);
    let ev = sb.evidence("after");
    let row = ev.row("reads-back");
    assert_eq!(row["status"], "skipped", "{row:?}");
    let verdict = ev.summary_json()["verdict"].clone();
    assert_eq!(verdict["decision"], "NO-GO");
    let reasons = verdict["no_go_reasons"].to_string();
    assert!(
        reasons.contains("reads-back skipped: not run: after writes failed"),
        "{reasons}"
    );
    assert_eq!(
        ev.json_check("needs-toggled")["reason"],
        "not run: after toggled skipped"
    );
    assert_eq!(ev.json_check("after-fine")["status"], "passed");
    let (_, fine_end, _) = span(&ev, "fine");
    let (after_start, _, waited) = span(&ev, "after-fine");
    assert!(
        fine_end <= after_start,
        "after-fine started before fine ended"
    );
    assert_eq!(waited, ["fine"]);
}

#[test]
fn fail_fast_still_skips_what_has_not_started() {
    let sb = Sandbox::new();
    sb.write(
        "lanes/fast.rhai",
        r#"
required("breaks", #{ serial: "g" }, || { assert(false, "broken"); });
required("later", #{ serial: "g" }, || { assert(true, "never runs"); });
"#,
    );
    let out = sb.out("fast");
    sb.cmd()
        .args(["--sim", "lanes/fast.rhai", "--fail-fast"])
        .out(&out)
        .run()
        .expect_code(1);
    let ev = sb.evidence("fast");
    assert_eq!(
        ev.json_check("later")["reason"],
        "not run: --fail-fast after breaks failed"
    );
}

#[test]
fn an_after_id_not_declared_above_in_the_lane_is_a_lane_error_with_a_suggestion() {
    let sb = Sandbox::new();
    sb.write(
        "typo.rhai",
        r#"
required("write-profile", || assert(true, "x"));
required("read-profile", #{ after: "write-profle" }, || assert(true, "x"));
"#,
    );
    sb.cmd()
        .args(["check", "typo.rhai"])
        .run()
        .expect_code(3)
        .stderr_has("option `after` of read-profile: no check \"write-profle\" declared above it in this lane: did you mean `write-profile`?");

    // Declared below: the order could loop, so it is refused the same way.
    sb.write(
        "below.rhai",
        r#"
required("first", #{ after: "second" }, || assert(true, "x"));
required("second", || assert(true, "x"));
"#,
    );
    sb.cmd()
        .args(["check", "below.rhai"])
        .run()
        .expect_code(3)
        .stderr_has("no check \"second\" declared above it in this lane");

    sb.write(
        "group.rhai",
        r#"required("x", #{ serial: "a group" }, || assert(true, "x"));"#,
    );
    sb.cmd()
        .args(["check", "group.rhai"])
        .run()
        .expect_code(3)
        .stderr_has("option `serial` of x: a group name may only use");
}
