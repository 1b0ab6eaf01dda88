//! The CLI end to end: a full `--sim` run of the real lanes and its evidence folder, and the
//! `list`, `check`, `--help` and `--version` commands.

use crate::common::{CONTROL_CHECKS, Sandbox, TSV_HEADER};
use std::process::Command;

/// `--sim` on the real control lane: GO, and every artifact of DESIGN §5 is there and well
/// formed. (The whole matrix under `--sim` is GO too: tests/it/matrix.rs.)
#[test]
fn sim_run_of_the_real_lanes_is_go_with_complete_evidence() {
    let sb = Sandbox::new();
    let out = sb.out("evidence");
    let run = sb
        .cmd_in_repo()
        .args(["lanes/control.rhai", "--sim"])
        .out(&out)
        .run();
    run.expect_code(0);

    // Terminal: one line per check, then the verdict.
    for id in CONTROL_CHECKS {
        run.stdout_has(&format!("[passed] {id} (required)\n"));
    }
    assert_eq!(run.verdict_line(), "Verdict: GO");

    let ev = sb.evidence("evidence");

    // results.tsv: the upstream header, then one passed row per check in lane/declaration order.
    let tsv = ev.tsv_text();
    assert_eq!(tsv.lines().next(), Some(TSV_HEADER));
    let rows = ev.tsv_rows();
    let ids: Vec<&str> = rows.iter().map(|r| r["check_id"].as_str()).collect();
    assert_eq!(ids, CONTROL_CHECKS);
    for row in &rows {
        assert_eq!(row["status"], "passed", "{row:?}");
        assert_eq!(row["required"], "required", "{row:?}");
        assert_eq!(row["log_path"], format!("logs/{}.log", row["check_id"]));
        assert!(
            row["command"].contains(&row["check_id"]),
            "the command repeats the check: {row:?}"
        );
    }

    // SUMMARY.md: upstream `Overall` plus the verdict line.
    let md = ev.summary_md();
    assert!(md.contains("\n- Overall: passed\n"), "{md}");
    assert!(md.contains("\n- Verdict: GO\n"), "{md}");
    assert!(md.contains("\n- Mode: normal\n"), "{md}");

    // summary.json
    let json = ev.summary_json();
    assert_eq!(json["verdict"]["decision"], "GO", "{json:#}");
    assert_eq!(json["verdict"]["counts"]["total"], 8);
    assert_eq!(json["verdict"]["counts"]["passed"], 8);

    // junit.xml: one testcase per check, none failed.
    let junit = ev.read("junit.xml");
    let doc = roxmltree::Document::parse(&junit).expect("junit.xml parses");
    let cases: Vec<roxmltree::Node> = doc
        .descendants()
        .filter(|n| n.has_tag_name("testcase"))
        .collect();
    let names: Vec<&str> = cases.iter().filter_map(|c| c.attribute("name")).collect();
    assert_eq!(names, CONTROL_CHECKS);
    for case in &cases {
        assert!(
            !case
                .children()
                .any(|c| c.has_tag_name("failure") || c.has_tag_name("error")),
            "testcase {:?} is not a success",
            case.attribute("name")
        );
    }

    // Per-check log and HAR 1.2 with request ids.
    for id in CONTROL_CHECKS {
        let log = ev.read(&format!("logs/{id}.log"));
        assert!(log.contains(id), "logs/{id}.log names its check:\n{log}");
        let har: serde_json::Value =
            serde_json::from_str(&ev.read(&format!("http/{id}.har"))).expect("HAR parses");
        assert_eq!(har["log"]["version"], "1.2", "http/{id}.har");
        let entries = har["log"]["entries"].as_array().expect("HAR entries");
        assert!(!entries.is_empty(), "http/{id}.har has exchanges");
        for entry in entries {
            let request_id = entry["_requestId"].as_str().unwrap_or_default();
            assert!(
                !request_id.is_empty(),
                "http/{id}.har entry without _requestId: {entry:#}"
            );
        }
    }

    // SHA256SUMS verifies with the real coreutils tool...
    let sha = |dir: &std::path::Path| {
        Command::new("sha256sum")
            .args(["-c", "SHA256SUMS"])
            .current_dir(dir)
            .output()
            .expect("run sha256sum")
    };
    let ok = sha(&ev.dir);
    assert!(
        ok.status.success(),
        "sha256sum -c failed:\n{}{}",
        String::from_utf8_lossy(&ok.stdout),
        String::from_utf8_lossy(&ok.stderr)
    );
    let listed = ev.read("SHA256SUMS");
    for file in ["results.tsv", "SUMMARY.md", "summary.json", "junit.xml"] {
        assert!(
            listed.lines().any(|l| l.ends_with(&format!("  {file}"))),
            "SHA256SUMS lists {file}:\n{listed}"
        );
    }
    // ...and catches a single flipped byte.
    let tsv_path = ev.dir.join("results.tsv");
    let mut bytes = std::fs::read(&tsv_path).expect("read results.tsv");
    bytes[0] ^= 0x01;
    std::fs::write(&tsv_path, bytes).expect("tamper results.tsv");
    let bad = sha(&ev.dir);
    assert!(!bad.status.success(), "sha256sum -c accepts a changed file");
    assert!(
        String::from_utf8_lossy(&bad.stdout).contains("results.tsv: FAILED"),
        "{}",
        String::from_utf8_lossy(&bad.stdout)
    );
}

/// `list`: the matrix with lane, level, target and description, and no network at all.
#[test]
fn list_prints_the_matrix_without_touching_the_network() {
    let sb = Sandbox::new();
    let run = sb.cmd_in_repo().arg("list").run();
    run.expect_code(0);

    // The phase comes first: the matrix differs by cutover phase.
    assert!(
        run.stdout.starts_with("Phase: app-surface (default)\n"),
        "{}",
        run.stdout
    );
    let lines: Vec<Vec<&str>> = run
        .stdout
        .lines()
        .skip(1)
        .map(|l| {
            l.split("  ")
                .map(str::trim)
                .filter(|c| !c.is_empty())
                .collect()
        })
        .collect();
    assert_eq!(
        lines[0],
        ["CHECK", "LANE", "LEVEL", "TARGET", "PHASES", "DESCRIPTION"],
        "{}",
        run.stdout
    );
    let expected = [
        (
            "control-staging-health",
            "staging",
            "all",
            "staging control health/ready endpoints",
        ),
        (
            "control-staging-smoke",
            "staging",
            "all",
            "staging control smoke (control status + auth/session/sync token checks when token provided)",
        ),
        (
            "control-staging-static-host",
            "staging",
            "app-surface",
            "staging control static host policy (manifest, service worker, entry asset cache)",
        ),
        (
            "control-prod-health",
            "prod",
            "all",
            "production control health/ready endpoints",
        ),
        (
            "control-prod-smoke",
            "prod",
            "all",
            "production control smoke (control status + auth/session/sync token checks when token provided)",
        ),
    ];
    for (id, target, phases, description) in expected {
        let row = lines
            .iter()
            .find(|cells| cells.first() == Some(&id))
            .unwrap_or_else(|| panic!("list lacks {id}:\n{}", run.stdout));
        assert_eq!(
            row[1..],
            [
                "lanes/control.rhai",
                "required",
                target,
                phases,
                description
            ],
            "{}",
            run.stdout
        );
    }
    // The default targets point at the sandbox tripwire: nothing connected.
    assert!(
        sb.tripwire().connections().is_empty(),
        "list connected to a target"
    );
}

/// `check` compiles lanes only; a broken lane is exit 3 naming file:line:col.
#[test]
fn check_compiles_lanes_and_rejects_a_broken_one() {
    let sb = Sandbox::new();
    let ok = sb.cmd_in_repo().args(["check", "lanes/control.rhai"]).run();
    ok.expect_code(0)
        .stdout_has("8 checks declared for phase app-surface (default)");

    sb.write(
        "broken.rhai",
        "required(\"x\", || {\n    assert(true, \"fine\")\n    let y = ;\n});\n",
    );
    let run = sb.cmd().args(["check", "broken.rhai"]).run();
    run.expect_code(3).stderr_has("broken.rhai:3:");
    assert!(
        sb.tripwire().connections().is_empty(),
        "check connected to a target"
    );
}

/// Every command's `--help` exits 0 and documents its flags; `--version` exits 0.
#[test]
fn help_of_every_command_and_version() {
    let sb = Sandbox::new();
    let table: &[(&[&str], &[&str])] = &[
        (
            &["--help"],
            &[
                "--sim",
                "--sim-fault",
                "--gate",
                "--baseline",
                "--out",
                "--jobs",
                "--timeout",
                "--check",
                "--allow-prod-mutations",
                "--max-body",
                "--no-progress",
                "Exit codes",
            ],
        ),
        (&["list", "--help"], &["--sim", "[LANE]"]),
        (&["check", "--help"], &["--sim", "[LANE]"]),
        (&["sim", "--help"], &["--fault", "--latency"]),
    ];
    for (args, flags) in table {
        let run = sb.cmd_in_repo().args(*args).run();
        run.expect_code(0);
        for flag in *flags {
            run.stdout_has(flag);
        }
    }
    let version = sb.cmd_in_repo().arg("--version").run();
    version.expect_code(0);
    assert_eq!(
        version.stdout.trim(),
        format!("oa-validate {}", env!("CARGO_PKG_VERSION"))
    );
}

/// `--no-har`: no HTTP archive, everything else as usual (and the sums still verify).
#[test]
fn no_har_leaves_out_the_http_archives_only() {
    let sb = Sandbox::new();
    let out = sb.out("evidence");
    sb.cmd_in_repo()
        .args(["lanes/control.rhai", "--sim", "--no-har"])
        .out(&out)
        .run()
        .expect_code(0);
    let ev = sb.evidence("evidence");
    let files = ev.files();
    assert!(!files.iter().any(|f| f.starts_with("http/")), "{files:?}");
    for id in CONTROL_CHECKS {
        assert!(files.contains(&format!("logs/{id}.log")), "{files:?}");
        assert!(ev.read(&format!("logs/{id}.log")).contains("x-request-id"));
    }
    let summary = ev.summary_json();
    let checks = summary["run"]["checks"].as_array().expect("run.checks");
    assert!(checks.iter().all(|c| c["har"].is_null()), "{checks:?}");
    let sums = ev.read("SHA256SUMS");
    assert!(!sums.contains("http/"), "{sums}");
}
