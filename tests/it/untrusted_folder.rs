//! An evidence folder is untrusted input (issue 20, findings 2–6): `report`, `diff` and
//! `rerun` read only regular files inside it, bounded, never following a link out; `rerun`
//! takes from it only what to re-run, never where or with what. Each test is named after the
//! bug it proves fixed; each folder is tampered with as a stranger would (summary.json
//! edited, SHA256SUMS rewritten so that it still verifies).

use crate::common::{Run, Sandbox, sha256sum_verifies};
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::os::unix::fs::symlink;
use std::path::Path;
use std::time::Duration;

/// Edits `dir/summary.json` with `edit`, then rewrites SHA256SUMS over the folder's regular
/// files, as whoever hands the folder over can: links are not listed, so the sums verify.
fn tamper(dir: &Path, edit: impl FnOnce(&mut Value)) {
    let path = dir.join("summary.json");
    let mut summary: Value =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("summary.json")).unwrap();
    edit(&mut summary);
    std::fs::write(&path, serde_json::to_string_pretty(&summary).unwrap()).unwrap();
    reseal(dir);
}

fn reseal(dir: &Path) {
    fn walk(root: &Path, rel: &str, out: &mut Vec<String>) {
        for entry in std::fs::read_dir(root.join(rel)).unwrap() {
            let entry = entry.unwrap();
            let name = entry.file_name().into_string().unwrap();
            let rel = if rel.is_empty() {
                name
            } else {
                format!("{rel}/{name}")
            };
            let kind = entry.file_type().unwrap();
            if kind.is_dir() {
                walk(root, &rel, out);
            } else if kind.is_file() && rel != "SHA256SUMS" {
                out.push(rel);
            }
        }
    }
    let mut files = Vec::new();
    walk(dir, "", &mut files);
    files.sort();
    let sums: String = files
        .iter()
        .map(|rel| {
            let digest = Sha256::digest(std::fs::read(dir.join(rel)).unwrap());
            format!("{}  {rel}\n", hex::encode(digest))
        })
        .collect();
    std::fs::write(dir.join("SHA256SUMS"), sums).unwrap();
}

fn mkfifo(path: &Path) {
    let c_path = std::ffi::CString::new(path.to_str().unwrap()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c_path.as_ptr(), 0o600) }, 0);
}

fn rerun(sb: &Sandbox, from: &str, to: &str) -> crate::common::Cmd {
    sb.cmd().arg("rerun").arg(sb.out(from)).out(&sb.out(to))
}

/// The number of requests whose head starts with `prefix`.
fn count(requests: &[String], prefix: &str) -> usize {
    requests.iter().filter(|r| r.starts_with(prefix)).count()
}

const BASH_LANE: &str = r#"required("bash-runs", || {
    let r = proc::run("bash", ["-c", "exit 3"]);
    assert(r.code == 0, `bash exited ${r.code}`);
});
"#;

#[test]
fn regression_rerun_applied_every_recorded_variable_and_bash_env_ran_a_command() {
    let sb = Sandbox::new();
    sb.write("bash.rhai", BASH_LANE);
    sb.cmd()
        .arg("bash.rhai")
        .out(&sb.out("first"))
        .run()
        .expect_code(1);
    let marker = sb.path().join("pwned");
    tamper(&sb.out("first"), |summary| {
        let env = &mut summary["run"]["invocation"]["environment"];
        env["BASH_ENV"] = format!("$(touch {})", marker.display()).into();
        env["XDG_CACHE_HOME"] = "".into();
        env["OA_CHROMIUM"] = "/tmp/not-a-browser".into();
        env["npm_config_registry"] = "http://registry.invalid".into();
        env["OA_REPO_ROOT"] = "/".into();
        env["RUN_CROSS_SURFACE"] = "1".into();
    });
    let run = rerun(&sb, "first", "second").run();
    run.expect_code(1);
    assert!(
        !marker.exists(),
        "the folder's BASH_ENV ran a command: {}",
        run.stderr
    );
    run.stderr_has("not applied")
        .stderr_has("BASH_ENV=\"$(touch ")
        .stderr_has("npm_config_registry=\"http://registry.invalid\" (yours: unset)");
    // The check did run, in the user's environment: only the RUN_* toggle came from the folder.
    let second = sb.evidence("second");
    assert!(second.read("logs/bash-runs.log").contains("bash exited 3"));
    let env = &second.summary_json()["run"]["invocation"]["environment"];
    assert_eq!(env["RUN_CROSS_SURFACE"], "1", "{env}");
    for name in ["BASH_ENV", "OA_CHROMIUM", "OA_REPO_ROOT", "XDG_CACHE_HOME"] {
        assert!(env.get(name).is_none(), "{name} was applied: {env}");
    }
}

const TOKEN_LANE: &str = r#"for t in targets() {
    if t.name == "staging" {
        required("whoami-staging", #{ target: t }, || {
            assert_status(http::get(`${t.control_url}/api/v1/me`, #{ bearer: t.token }), 201);
        });
    }
}
"#;

#[test]
fn regression_rerun_sent_the_users_token_to_a_url_only_the_folder_named() {
    let sb = Sandbox::new();
    sb.write("token.rhai", TOKEN_LANE);
    let stranger = crate::common::Responder::new();
    let own = crate::common::Responder::new();
    sb.cmd()
        .arg("token.rhai")
        .env("STAGING_CONTROL_BASE_URL", stranger.url())
        .env("STAGING_CONTROL_ACCESS_TOKEN", "stranger-token-0001")
        .out(&sb.out("stranger"))
        .run()
        .expect_code(1);
    let before = stranger.requests().len();
    assert_eq!(before, 1);

    let user_token = "user-token-7f3a9c2e5b";
    let run = rerun(&sb, "stranger", "mine")
        .env("STAGING_CONTROL_BASE_URL", own.url())
        .env("STAGING_CONTROL_ACCESS_TOKEN", user_token)
        .run();
    run.expect_code(1);
    assert_eq!(
        stranger.requests().len(),
        before,
        "the re-run sent a request to the folder's URL: {:?}",
        stranger.requests()
    );
    run.stderr_has(&format!(
            "ran staging against \"{}\" (STAGING_CONTROL_BASE_URL); this re-run uses \"{}\" from your environment",
            stranger.url(),
            own.url()
        ))
        .stderr_has(&format!(
            "targets (from your environment): STAGING_CONTROL_BASE_URL={}",
            own.url()
        ));
    let mine = own.requests();
    assert_eq!(count(&mine, "GET /api/v1/me "), 1, "{mine:?}");
    assert!(
        mine[0].contains(&format!("authorization: Bearer {user_token}"))
            || mine[0].contains(&format!("Authorization: Bearer {user_token}")),
        "{mine:?}"
    );
}

const MUTATING_LANE: &str = r#"for t in targets() {
    if t.name == "prod" {
        required("prod-start-run", #{ target: t, mutates: true }, || {
            assert_status(http::post(`${t.control_url}/internal/v1/runs`, #{ json: #{} }), 201);
        });
    }
}
"#;

#[test]
fn regression_rerun_allowed_production_mutations_because_the_folder_said_so() {
    let sb = Sandbox::new();
    sb.write("mutate.rhai", MUTATING_LANE);
    let prod = crate::common::Responder::new();
    sb.cmd()
        .args(["mutate.rhai", "--allow-prod-mutations"])
        .env("PROD_CONTROL_BASE_URL", prod.url())
        .out(&sb.out("allowed"))
        .run()
        .expect_code(1);
    assert_eq!(count(&prod.requests(), "POST /internal/v1/runs "), 1);

    let run = rerun(&sb, "allowed", "not-allowed")
        .env("PROD_CONTROL_BASE_URL", prod.url())
        .run();
    run.expect_code(1);
    assert_eq!(
        count(&prod.requests(), "POST /internal/v1/runs "),
        1,
        "production received a POST the user never allowed"
    );
    run.stderr_has("ran with --allow-prod-mutations; this re-run does not mutate production");
    assert_eq!(
        sb.evidence("not-allowed").row("prod-start-run")["status"],
        "skipped"
    );

    // The user's own flag allows it.
    rerun(&sb, "allowed", "allowed-again")
        .arg("--allow-prod-mutations")
        .env("PROD_CONTROL_BASE_URL", prod.url())
        .run()
        .expect_code(1);
    assert_eq!(count(&prod.requests(), "POST /internal/v1/runs "), 2);
}

const EVIDENCE_LANE: &str = r#"required("shots", || {
    evidence("note.txt", "hello");
    assert(false, "a failure to look at");
});
"#;

#[test]
fn regression_report_embedded_a_file_outside_the_folder_through_a_symlink() {
    let sb = Sandbox::new();
    sb.write("shots.rhai", EVIDENCE_LANE);
    sb.cmd()
        .arg("shots.rhai")
        .out(&sb.out("ev"))
        .run()
        .expect_code(1);
    let key = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA-the-users-key\n";
    let ssh = sb.path().join("home/.ssh");
    std::fs::create_dir_all(&ssh).unwrap();
    std::fs::write(ssh.join("id_rsa.png"), key).unwrap();
    let dir = sb.out("ev");
    let artifacts = dir.join("artifacts/shots");
    symlink(ssh.join("id_rsa.png"), artifacts.join("shot.png")).unwrap();
    symlink(&ssh, artifacts.join("linked")).unwrap();
    tamper(&dir, |summary| {
        let check = &mut summary["run"]["checks"][0];
        let list = check["artifacts"].as_array_mut().unwrap();
        list.push("artifacts/shots/shot.png".into());
        list.push("artifacts/shots/linked/id_rsa.png".into());
    });
    assert!(
        sha256sum_verifies(&dir),
        "the tampered folder still verifies"
    );

    let run = sb.cmd().arg("report").arg(&dir).run();
    run.expect_code(0);
    let page = std::fs::read_to_string(dir.join("report.html")).unwrap();
    let b64 = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, key);
    assert!(
        !page.contains(&b64[..40]),
        "the key is embedded in report.html"
    );
    crate::common::assert_no_secret("report.html", page.as_bytes(), key.trim());
    run.stderr_has("artifacts/shots/shot.png: not read")
        .stderr_has("symbolic link");
    assert!(page.contains("screenshot (not embedded)"));
    assert!(sha256sum_verifies(&dir));
}

#[test]
fn regression_a_fifo_or_a_device_in_a_folder_hung_report_diff_and_rerun() {
    let sb = Sandbox::new();
    sb.write("shots.rhai", EVIDENCE_LANE);
    sb.cmd()
        .arg("shots.rhai")
        .out(&sb.out("ok"))
        .run()
        .expect_code(1);
    // summary.json a FIFO: nothing writes to it, so a blocking open waits for ever.
    std::fs::create_dir_all(sb.out("fifo")).unwrap();
    mkfifo(&sb.out("fifo").join("summary.json"));
    let quick = Duration::from_secs(20);
    let commands: [(&str, Vec<std::path::PathBuf>); 3] = [
        ("report", vec![sb.out("fifo")]),
        ("diff", vec![sb.out("ok"), sb.out("fifo")]),
        ("rerun", vec![sb.out("fifo")]),
    ];
    for (command, dirs) in commands {
        let run: Run = sb.cmd().arg(command).args(&dirs).timeout(quick).run();
        run.expect_code(2).stderr_has("a named pipe (FIFO)");
        assert!(run.elapsed < Duration::from_secs(10), "{command}: {run:?}");
    }
    // SHA256SUMS a FIFO: refused by report, never waited on.
    let dir = sb.out("ok");
    std::fs::rename(dir.join("SHA256SUMS"), sb.path().join("sums")).unwrap();
    mkfifo(&dir.join("SHA256SUMS"));
    sb.cmd()
        .arg("report")
        .arg(&dir)
        .timeout(quick)
        .run()
        .expect_code(2)
        .stderr_has("SHA256SUMS: it is a named pipe (FIFO)");
    std::fs::remove_file(dir.join("SHA256SUMS")).unwrap();
    std::fs::rename(sb.path().join("sums"), dir.join("SHA256SUMS")).unwrap();

    // A screenshot that is /dev/zero (linked, or a device node where one can be made): the
    // report ends at once with bounded memory, and says what it left out.
    symlink("/dev/zero", dir.join("artifacts/shots/zero.png")).unwrap();
    tamper(&dir, |summary| {
        summary["run"]["checks"][0]["artifacts"]
            .as_array_mut()
            .unwrap()
            .push("artifacts/shots/zero.png".into());
    });
    let run = sb.cmd().arg("report").arg(&dir).timeout(quick).run();
    run.expect_code(0)
        .stderr_has("artifacts/shots/zero.png: not read");
    assert!(run.elapsed < Duration::from_secs(10), "{run:?}");
    if let Some(kib) = run.peak_rss_kib {
        assert!(kib < 200 * 1024, "peak RSS {kib} KiB");
    }
    // diff of the same folder reads its files the same way.
    sb.cmd()
        .arg("diff")
        .arg(sb.out("ok"))
        .arg(sb.out("ok"))
        .timeout(quick)
        .run()
        .expect_code(0);
}

const ENV_LANE: &str = r#"let acme = env("ACME_URL", "http://acme-default.invalid");
required("acme-answers", || {
    let token = env("ACME_API_TOKEN");
    assert(false, `acme at ${acme}`);
});
"#;

#[test]
fn regression_a_lanes_env_reads_were_not_recorded_so_a_rerun_used_their_defaults_silently() {
    let sb = Sandbox::new();
    sb.write("acme.rhai", ENV_LANE);
    let token = "acme-secret-value-93f1";
    sb.cmd()
        .arg("acme.rhai")
        .env("ACME_URL", "http://acme-one.invalid")
        .env("ACME_API_TOKEN", token)
        .out(&sb.out("first"))
        .run()
        .expect_code(1);
    let first = sb.evidence("first");
    let invocation = &first.summary_json()["run"]["invocation"];
    assert_eq!(
        invocation["lane_env"],
        serde_json::json!({"ACME_URL": "http://acme-one.invalid"})
    );
    assert!(
        invocation["secrets_set"]
            .as_array()
            .unwrap()
            .contains(&"ACME_API_TOKEN".into()),
        "{invocation}"
    );
    assert!(!first.read("summary.json").contains(token));

    // The re-run reads them from the user's environment and says how they differ.
    let run = rerun(&sb, "first", "second")
        .env("ACME_URL", "http://acme-two.invalid")
        .run();
    run.expect_code(1)
        .stderr_has("ACME_URL: \"http://acme-one.invalid\" (yours: \"http://acme-two.invalid\")")
        .stderr_has("ACME_API_TOKEN was set for");
    assert!(
        sb.evidence("second")
            .read("logs/acme-answers.log")
            .contains("acme at http://acme-two.invalid")
    );
}
