//! The same outcomes give the same bytes: results.tsv and the `verdict` object of
//! summary.json do not depend on `--jobs` (run order), timing, ports or tokens.

use crate::common::Sandbox;

/// The `"verdict": {...}` object of summary.json as raw text (it sits between the schema and
/// the run part of the pretty-printed document).
#[track_caller]
fn raw_verdict(summary: &str) -> &str {
    let start = summary
        .find("\n  \"verdict\": ")
        .unwrap_or_else(|| panic!("no verdict key in summary.json:\n{summary}"));
    let end = summary
        .find(",\n  \"run\": ")
        .unwrap_or_else(|| panic!("no run key after the verdict in summary.json:\n{summary}"));
    assert!(start < end, "verdict comes before run");
    &summary[start..end]
}

#[test]
fn jobs_1_and_jobs_8_give_identical_results_and_verdicts() {
    let sb = Sandbox::new();
    sb.copy_from_repo("lanes/control.rhai", "lanes/a_control.rhai");
    sb.write(
        "lanes/b_mixed.rhai",
        include_str!("../fixtures/determinism/b_mixed.rhai"),
    );
    sb.write(
        "lanes/c_errors.rhai",
        include_str!("../fixtures/determinism/c_errors.rhai"),
    );

    for fault in [None, Some("readyz-503")] {
        let mut runs = Vec::new();
        for jobs in ["1", "8"] {
            let name = format!("jobs{jobs}-{}", fault.unwrap_or("nofault"));
            let out = sb.out(&name);
            let mut cmd = sb
                .cmd()
                .args(["--sim", "--lanes", "lanes", "--jobs", jobs])
                .out(&out)
                .env("RUN_MIXED_EXTRA", "off");
            if let Some(fault) = fault {
                cmd = cmd.args(["--sim-fault", fault]);
            }
            cmd.run().expect_code(1);
            runs.push(sb.evidence(&name));
        }
        let (one, eight) = (&runs[0], &runs[1]);
        let label = fault.unwrap_or("no fault");

        // The runs are worth comparing: every outcome kind is there.
        let statuses: Vec<String> = one.summary_json()["verdict"]["checks"]
            .as_array()
            .expect("checks")
            .iter()
            .map(|c| c["status"].as_str().unwrap_or_default().to_string())
            .collect();
        for status in ["passed", "failed", "errored", "skipped"] {
            assert!(
                statuses.iter().any(|s| s == status),
                "{label}: no {status} check in {statuses:?}"
            );
        }
        // 8 control checks in the default phase (app-surface), 7 of the fixture lanes.
        assert_eq!(one.tsv_rows().len(), 15, "{label}");

        assert_eq!(
            one.tsv_text(),
            eight.tsv_text(),
            "{label}: results.tsv differs between --jobs 1 and --jobs 8"
        );
        let (s1, s8) = (one.read("summary.json"), eight.read("summary.json"));
        let (j1, j8): (serde_json::Value, serde_json::Value) = (
            serde_json::from_str(&s1).expect("summary.json parses"),
            serde_json::from_str(&s8).expect("summary.json parses"),
        );
        assert_eq!(
            j1["verdict"], j8["verdict"],
            "{label}: verdict objects differ"
        );
        assert_eq!(
            raw_verdict(&s1),
            raw_verdict(&s8),
            "{label}: verdict bytes differ"
        );
        // ...while the run part does record what differed.
        assert_eq!(j1["run"]["jobs"], 1);
        assert_eq!(j8["run"]["jobs"], 8);
    }
}
