//! Lanes that run local programs: named `cargo test`s of the fixture workspace (a test that
//! did not run fails, naming it), `proc::run` (timeouts end the whole process group, a missing
//! program skips), the optional surface parity script, and the policy 4 backup evidence gate.

use crate::common;

use crate::common::{Cmd, Run, Sandbox, repo_root};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Copies the fixture workspace (without build output) to `<sandbox>/workspace`.
pub(crate) fn copy_workspace(sb: &Sandbox) -> PathBuf {
    fn copy_dir(from: &Path, to: &Path) {
        std::fs::create_dir_all(to).expect("create folder");
        for entry in std::fs::read_dir(from).expect("read fixture folder") {
            let entry = entry.expect("entry");
            let path = entry.path();
            if path.file_name().is_some_and(|n| n == "target") {
                continue;
            }
            let dest = to.join(entry.file_name());
            if path.is_dir() {
                copy_dir(&path, &dest);
            } else {
                std::fs::copy(&path, &dest).expect("copy fixture file");
            }
        }
    }
    let to = sb.path().join("workspace");
    copy_dir(&repo_root().join("crates/oa-sim/fixture/workspace"), &to);
    to
}

pub(crate) fn edit(path: &Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(path).expect("read");
    assert!(text.contains(from), "{} lacks {from:?}", path.display());
    std::fs::write(path, text.replace(from, to)).expect("write");
}

pub(crate) fn reason(ev: &common::Evidence, id: &str) -> String {
    ev.json_check(id)["reason"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// The Spacetime lane in its phase against the sim, `--check` narrowing it when given; with a
/// workspace, its named tests run there, built in the sandbox's own target folder.
fn spacetime_lane(sb: &Sandbox, workspace: Option<&Path>, check: Option<&str>) -> Cmd {
    let mut cmd = sb.cmd_in_repo().args([
        "lanes/spacetime_sync.rhai",
        "--sim",
        "--phase",
        "spacetime-convergence",
    ]);
    if let Some(id) = check {
        cmd = cmd.args(["--check", id]);
    }
    if let Some(workspace) = workspace {
        cmd = cmd
            .env("OA_REPO_ROOT", workspace)
            .env("CARGO_TARGET_DIR", sb.path().join("target"));
    }
    cmd
}

#[test]
fn a_named_test_that_did_not_run_fails_its_check_naming_the_test() {
    let sb = Sandbox::new();
    let workspace = copy_workspace(&sb);
    let server = workspace.join("apps/runtime/src/server.rs");
    // Renamed: `cargo test NAME` would run zero tests and pass.
    edit(
        &server,
        "fn retired_spacetime_routes_return_not_found()",
        "fn retired_spacetime_routes_are_gone()",
    );
    // Broken: the test runs and fails.
    edit(
        &server,
        "assert_eq!(delivered, 12);",
        "assert_eq!(delivered, 13);",
    );
    let run = spacetime_lane(&sb, Some(&workspace), None)
        .out(&sb.out("evidence"))
        .timeout(Duration::from_secs(180))
        .run();
    run.expect_code(1);
    assert_eq!(run.verdict_line(), "Verdict: NO-GO");
    let ev = sb.evidence("evidence");
    assert_eq!(
        ev.statuses(),
        [
            ("spacetime-sync-contract-tests".into(), "failed".into()),
            ("spacetime-retired-route-guards".into(), "failed".into()),
        ]
    );
    let guards = reason(&ev, "spacetime-retired-route-guards");
    assert!(
        guards.contains(
            "named test did not run: server::tests::retired_spacetime_routes_return_not_found"
        ),
        "{guards}"
    );
    let sync = reason(&ev, "spacetime-sync-contract-tests");
    assert!(
        sync.contains(
            "test server::tests::spacetime_sync_metrics_expose_stream_delivery_totals failed"
        ),
        "{sync}"
    );
    // The sandbox copy is no git checkout: the tested commit is unknown, and says so.
    let commit = ev.read("artifacts/spacetime-retired-route-guards/tested-commit.txt");
    assert!(commit.starts_with("commit: unknown\n"), "{commit}");
    let log = ev.read("logs/spacetime-sync-contract-tests.log");
    assert!(
        log.contains("panicked"),
        "libtest's failure output is in the log:\n{log}"
    );
}

#[test]
fn a_workspace_that_does_not_compile_fails_with_the_compiler_error() {
    let sb = Sandbox::new();
    let workspace = copy_workspace(&sb);
    edit(
        &workspace.join("apps/runtime/src/lib.rs"),
        "pub mod server;",
        "pub mod server;\npub fn broken() -> u32 { missing_value }",
    );
    let run = spacetime_lane(
        &sb,
        Some(&workspace),
        Some("spacetime-retired-route-guards"),
    )
    .out(&sb.out("evidence"))
    .timeout(Duration::from_secs(180))
    .run();
    run.expect_code(1);
    let ev = sb.evidence("evidence");
    let why = reason(&ev, "spacetime-retired-route-guards");
    assert!(why.contains("before running any test"), "{why}");
    assert!(why.contains("missing_value"), "{why}");
}

#[test]
fn the_spacetime_toggle_and_its_alias_skip_both_checks() {
    let sb = Sandbox::new();
    for (var, value) in [
        ("RUN_SPACETIME_SYNC_CONTRACT_TESTS", "0"),
        ("RUN_SPACETIME_CONTRACT_TESTS", "off"),
    ] {
        let run = spacetime_lane(&sb, None, None)
            .env(var, value)
            .out(&sb.out(var))
            .run();
        run.expect_code(1);
        let ev = sb.evidence(var);
        for id in [
            "spacetime-sync-contract-tests",
            "spacetime-retired-route-guards",
        ] {
            assert_eq!(ev.row(id)["status"], "skipped", "{var}");
            assert_eq!(
                ev.row(id)["command"],
                format!("RUN_SPACETIME_SYNC_CONTRACT_TESTS={value}"),
                "{var}"
            );
        }
    }
}

#[test]
fn surface_parity_runs_the_repository_script_only_when_asked() {
    let sb = Sandbox::new();
    let workspace = copy_workspace(&sb);
    // With a required lane beside it, so the verdict shows the optional check cannot change it.
    let lane = [
        "lanes/surface_parity.rhai",
        "lanes/public_stats.rhai",
        "--sim",
    ];
    let run_on = |name: &str| {
        sb.cmd_in_repo()
            .args(lane)
            .env("OA_REPO_ROOT", &workspace)
            .env("RUN_CROSS_SURFACE", "1")
            .out(&sb.out(name))
            .run()
    };

    let run = run_on("on");
    run.expect_code(0);
    let ev = sb.evidence("on");
    assert_eq!(ev.row("cross-surface-contract-harness")["status"], "passed");
    let log = ev.read("logs/cross-surface-contract-harness.log");
    assert!(log.contains("contracts agree"), "{log}");

    // A failing harness is a warning: the lane is optional.
    sb.write(
        "workspace/scripts/run-cross-surface-contract-harness.sh",
        "#!/bin/sh\necho drift >&2\nexit 3\n",
    );
    let run = run_on("failing");
    let ev = sb.evidence("failing");
    assert_eq!(ev.row("cross-surface-contract-harness")["status"], "failed");
    assert!(reason(&ev, "cross-surface-contract-harness").contains("exit code"));
    run.expect_code(0);
    assert_eq!(run.verdict_line(), "Verdict: GO");
    run.stdout_has("warning: cross-surface-contract-harness failed");

    let out = sb.out("off");
    sb.cmd_in_repo().args(lane).out(&out).run();
    let ev = sb.evidence("off");
    assert_eq!(
        ev.row("cross-surface-contract-harness")["command"],
        "RUN_CROSS_SURFACE=0"
    );
}

/// Live (non-zombie) processes whose process group is `pgid`.
fn live_group_members(pgid: i32) -> Vec<i32> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").expect("/proc").flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        let Some((_, rest)) = stat.rsplit_once(')') else {
            continue;
        };
        let fields: Vec<&str> = rest.split_whitespace().collect();
        if fields.len() > 2 && fields[0] != "Z" && fields[2] == pgid.to_string() {
            found.push(pid);
        }
    }
    found
}

#[test]
#[cfg(target_os = "linux")]
fn proc_run_timeouts_skips_and_redacted_invocations() {
    let sb = Sandbox::new();
    let dir = sb.path().display().to_string();
    let secret = "proc-secret-value-0123456789";
    sb.write(
        "proc.rhai",
        &format!(
            r#"
required("proc-timeout", #{{ timeout: "20s" }}, || {{
    proc::run("sh", ["-c", "echo $$ > pgid.txt; sleep 30 & sleep 30"], #{{ timeout: "300ms", cwd: "{dir}" }});
}});
required("proc-missing", || {{
    proc::run("oa-no-such-tool", ["--version"]);
}});
required("proc-exit-code", || {{
    let r = proc::run("sh", ["-c", "echo hi; echo oops >&2; exit 3"], #{{ env: #{{ API_TOKEN: "{secret}", MODE: "plain" }} }});
    assert_eq(r.code, 3, "exit code");
    assert_eq(r.stdout, "hi\n", "stdout");
    assert_eq(r.stderr, "oops\n", "stderr");
    assert_eq(r.success, false, "success");
}});
"#
        ),
    );
    let out = sb.out("evidence");
    let started = std::time::Instant::now();
    let run: Run = sb.cmd().arg("proc.rhai").out(&out).run();
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "the timed-out program was not waited for: {:?}",
        started.elapsed()
    );
    run.expect_code(1);
    let ev = sb.evidence("evidence");
    assert_eq!(ev.row("proc-timeout")["status"], "failed");
    let why = reason(&ev, "proc-timeout");
    assert!(
        why.contains("timed out after 300ms; its process group was ended"),
        "{why}"
    );
    let pgid: i32 = std::fs::read_to_string(sb.path().join("pgid.txt"))
        .expect("the shell wrote its pid")
        .trim()
        .parse()
        .expect("a pid");
    let deadline = std::time::Instant::now() + Duration::from_secs(3);
    let mut left = live_group_members(pgid);
    while !left.is_empty() && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
        left = live_group_members(pgid);
    }
    assert!(
        left.is_empty(),
        "processes of group {pgid} survived: {left:?}"
    );

    assert_eq!(ev.row("proc-missing")["status"], "skipped");
    assert_eq!(
        ev.row("proc-missing")["command"],
        "oa-no-such-tool not installed"
    );

    assert_eq!(ev.row("proc-exit-code")["status"], "passed");
    let log = ev.read("logs/proc-exit-code.log");
    assert!(
        log.contains("$ sh -c 'echo hi; echo oops >&2; exit 3'"),
        "{log}"
    );
    assert!(log.contains("env: MODE=plain"), "{log}");
    assert!(log.contains("env: API_TOKEN=[REDACTED]"), "{log}");
    for file in ev.files() {
        let text = std::fs::read(ev.dir.join(&file)).expect("read");
        common::assert_no_secret(&file, &text, secret);
    }
}

#[test]
fn proc_run_refuses_to_run_at_plan_time() {
    let sb = Sandbox::new();
    sb.write(
        "plan.rhai",
        "proc::run(\"true\", []);\nrequired(\"x\", || assert(true, \"x\"));\n",
    );
    let run = sb.cmd().args(["check", "plan.rhai"]).run();
    run.expect_code(3).stderr_has("proc::run at plan time");
}

// ---------------------------------------------------------------------------------------------
// Policy 4: --phase legacy-deletion

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

/// Writes a backup file and its evidence `age` old; returns the evidence path.
fn write_backup(sb: &Sandbox, name: &str, age: chrono::Duration, sha: Option<&str>) -> PathBuf {
    let backup = b"-- laravel dump\nCREATE TABLE users (id int);\n";
    sb.write(
        &format!("{name}/backup.sql"),
        std::str::from_utf8(backup).unwrap(),
    );
    let created = (chrono::Utc::now() - age).to_rfc3339();
    let digest = sha
        .map(str::to_string)
        .unwrap_or_else(|| sha256_hex(backup));
    sb.write(
        &format!("{name}/evidence.json"),
        &format!(
            r#"{{"created_at": "{created}", "sha256": "{digest}", "location": "backup.sql"}}"#
        ),
    )
}

fn legacy_run(
    sb: &Sandbox,
    out: &str,
    evidence: Option<&Path>,
    extra: &[&str],
) -> (Run, common::Evidence) {
    let mut cmd = sb
        .cmd_in_repo()
        .args([
            "lanes/public_stats.rhai",
            "--sim",
            "--phase",
            "legacy-deletion",
        ])
        .args(extra)
        .out(&sb.out(out));
    if let Some(path) = evidence {
        cmd = cmd.env("LARAVEL_DB_BACKUP_EVIDENCE", path);
    }
    (cmd.run(), sb.evidence(out))
}

#[test]
fn legacy_deletion_needs_fresh_matching_backup_evidence() {
    let sb = Sandbox::new();
    let id = "legacy-db-backup-evidence";

    // Without the phase, the check is not part of the matrix.
    let list = sb.cmd_in_repo().arg("list").run();
    list.expect_code(0);
    assert!(!list.stdout.contains(id), "{}", list.stdout);

    // The phase brings the lane along even when other lanes are named; no evidence: NO-GO
    // naming the variable.
    let (run, ev) = legacy_run(&sb, "none", None, &[]);
    run.expect_code(1);
    assert_eq!(ev.row(id)["status"], "skipped");
    run.stdout_has("LARAVEL_DB_BACKUP_EVIDENCE unset");
    assert_eq!(ev.summary_json()["verdict"]["phase"], "legacy-deletion");

    let fresh = write_backup(&sb, "fresh", chrono::Duration::minutes(5), None);
    let (run, ev) = legacy_run(&sb, "fresh-out", Some(&fresh), &[]);
    run.expect_code(0);
    assert_eq!(ev.row(id)["status"], "passed");
    assert!(
        ev.read(&format!("artifacts/{id}/backup-evidence.json"))
            .contains("sha256")
    );

    let stale = write_backup(&sb, "stale", chrono::Duration::hours(30), None);
    let (run, ev) = legacy_run(&sb, "stale-out", Some(&stale), &[]);
    run.expect_code(1);
    let why = reason(&ev, id);
    assert!(why.contains("backup evidence is 1day 6h old"), "{why}");
    assert!(
        why.contains("older than the limit of 1day (--backup-max-age)"),
        "{why}"
    );

    // A wider limit accepts it.
    let (run, ev) = legacy_run(&sb, "stale-48h", Some(&stale), &["--backup-max-age", "48h"]);
    run.expect_code(0);
    assert_eq!(ev.row(id)["status"], "passed");

    let wrong = write_backup(
        &sb,
        "wrong",
        chrono::Duration::minutes(5),
        Some(&"ab".repeat(32)),
    );
    let (run, ev) = legacy_run(&sb, "wrong-out", Some(&wrong), &[]);
    run.expect_code(1);
    let why = reason(&ev, id);
    assert!(why.contains("has SHA-256"), "{why}");
    assert!(why.contains(&"ab".repeat(32)), "{why}");

    let missing = sb.path().join("nowhere/evidence.json");
    let (run, ev) = legacy_run(&sb, "missing-out", Some(&missing), &[]);
    run.expect_code(1);
    assert!(
        reason(&ev, id).contains("cannot be read"),
        "{}",
        reason(&ev, id)
    );
}

/// The tested commit hid a modified workspace: `-dirty` looked only below the tested crate's
/// folder, so a trimmed workspace root (members, Cargo.lock) was recorded as a clean commit
/// (found by the interop run against upstream, docs/interop.md). Any tracked change in the
/// repository now marks it.
#[test]
fn a_change_outside_the_tested_crate_marks_the_tested_commit_dirty() {
    let sb = Sandbox::new();
    let workspace = copy_workspace(&sb);
    let git = |args: &[&str]| {
        let status = std::process::Command::new("git")
            .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
            .args(args)
            .current_dir(&workspace)
            .stdout(std::process::Stdio::null())
            .status()
            .expect("git");
        assert!(status.success(), "git {args:?}");
    };
    git(&["init", "-q"]);
    git(&["add", "-A"]);
    git(&["commit", "-q", "-m", "fixture"]);
    // A change outside the tested crate only: its folder (apps/runtime) is untouched.
    let script = workspace.join("scripts/run-cross-surface-contract-harness.sh");
    let text = std::fs::read_to_string(&script).unwrap();
    std::fs::write(&script, format!("{text}\n# changed\n")).unwrap();
    let run = spacetime_lane(
        &sb,
        Some(&workspace),
        Some("spacetime-retired-route-guards"),
    )
    .out(&sb.out("evidence"))
    .timeout(Duration::from_secs(600))
    .run();
    run.expect_code(0);
    let commit = sb
        .evidence("evidence")
        .read("artifacts/spacetime-retired-route-guards/tested-commit.txt");
    let first = commit.lines().next().unwrap_or_default();
    assert!(
        first.starts_with("commit: ") && first.ends_with("-dirty"),
        "{commit}"
    );
}
