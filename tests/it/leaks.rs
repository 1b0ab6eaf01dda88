//! Issue 13, findings 4–8 and 12: secrets in request headers, encoded and cut secrets,
//! screenshots, evidence names and REPL history; bad evidence names.

use crate::common::{Sandbox, assert_no_secret};
use std::collections::BTreeSet;

const STAGING_TOKEN: &str = "stg_Evid3nceNameT0ken-abcdefgh";
const PROD_TOKEN: &str = "prd_Evid3nceNameT0ken-ijklmnop";

/// Every artifact summary.json lists exists, and every file SHA256SUMS lists exists.
#[track_caller]
fn assert_lists_name_real_files(ev: &crate::common::Evidence) {
    let summary = ev.summary_json();
    for check in summary["run"]["checks"].as_array().expect("checks") {
        for artifact in check["artifacts"].as_array().into_iter().flatten() {
            let path = artifact.as_str().expect("artifact path");
            assert!(
                ev.dir.join(path).is_file(),
                "summary.json lists {path}, which does not exist"
            );
        }
    }
    let sums = ev.read("SHA256SUMS");
    for line in sums.lines() {
        let (_, path) = line.split_once("  ").expect("a SHA256SUMS line");
        assert!(
            ev.dir.join(path).is_file(),
            "SHA256SUMS lists {path}, which does not exist"
        );
    }
}

/// Finding 7: a name holding a secret is refused at the `evidence()` call; one that becomes a
/// secret later is not written; the lists name only files that exist.
#[test]
fn an_evidence_name_holding_a_secret_is_refused_and_the_lists_name_only_real_files() {
    let sb = Sandbox::new();
    sb.write(
        "names.rhai",
        r#"required("name-with-token", || {
    let t = targets()[0];
    evidence(`resp-${t.token}.json`, #{ ok: true });
    assert(true, "saved");
});
required("name-secret-later", || {
    let k = "later-marked-secret-0123456789";
    evidence(`a-${k}.txt`, "body");
    secret(k);
    assert(true, "saved");
});
required("name-plain", || {
    evidence("plain.txt", "body");
    assert(true, "saved");
});
"#,
    );
    let out = sb.out("evidence");
    let run = sb
        .cmd()
        .arg("names.rhai")
        .out(&out)
        .env("STAGING_CONTROL_ACCESS_TOKEN", STAGING_TOKEN)
        .env("PROD_CONTROL_ACCESS_TOKEN", PROD_TOKEN)
        .run();
    run.expect_code(1);
    let ev = sb.evidence("evidence");
    let check = ev.json_check("name-with-token");
    assert_eq!(check["status"], "errored", "{}", run.stdout);
    let reason = check["reason"].as_str().unwrap_or_default();
    assert!(reason.contains("holds a secret"), "{reason}");
    assert_eq!(ev.json_check("name-plain")["status"], "passed");
    let later = ev.read("logs/name-secret-later.log");
    assert!(
        later.contains("not written: its name holds a secret"),
        "{later}"
    );
    assert_lists_name_real_files(&ev);
    assert!(ev.dir.join("artifacts/name-plain/plain.txt").is_file());
    for secret in [STAGING_TOKEN, "later-marked-secret-0123456789"] {
        for file in ev.files() {
            assert_no_secret(&format!("file name {file}"), file.as_bytes(), secret);
        }
        assert_no_secret("SHA256SUMS", ev.read("SHA256SUMS").as_bytes(), secret);
    }
}

/// Finding 12: names too long for the file system or holding control characters are refused
/// at the call; the check fails with a clear message; the run ends with a verdict and
/// SHA256SUMS.
#[test]
fn a_bad_evidence_name_fails_its_check_and_the_run_still_ends_with_a_verdict() {
    let sb = Sandbox::new();
    let long = "n".repeat(300);
    sb.write(
        "bad.rhai",
        &format!(
            r#"required("name-too-long", || {{ evidence("{long}", "x"); assert(true, "saved"); }});
required("name-nul", || {{ evidence("a\x00b", "x"); assert(true, "saved"); }});
required("name-newline", || {{ evidence("a\nb", "x"); assert(true, "saved"); }});
required("name-escape", || {{ evidence("a\x1bb", "x"); assert(true, "saved"); }});
required("after", || {{ evidence("fine.txt", "x"); assert(true, "saved"); }});
"#
        ),
    );
    let out = sb.out("evidence");
    let run = sb.cmd().arg("bad.rhai").out(&out).run();
    run.expect_code(1);
    assert_eq!(run.verdict_line(), "Verdict: NO-GO", "{}", run.stderr);
    let ev = sb.evidence("evidence");
    for (id, why) in [
        ("name-too-long", "too long"),
        ("name-nul", "control character"),
        ("name-newline", "control character"),
        ("name-escape", "control character"),
    ] {
        let check = ev.json_check(id);
        assert_eq!(check["status"], "errored", "{id}: {}", run.stdout);
        let reason = check["reason"].as_str().unwrap_or_default();
        assert!(
            reason.contains("evidence name") && reason.contains(why),
            "{id}: {reason}"
        );
    }
    assert_eq!(ev.json_check("after")["status"], "passed");
    assert_lists_name_real_files(&ev);
    let listed: BTreeSet<String> = ev
        .read("SHA256SUMS")
        .lines()
        .filter_map(|l| l.split_once("  ").map(|(_, p)| p.to_string()))
        .collect();
    assert!(listed.contains("artifacts/after/fine.txt"), "{listed:?}");
}
