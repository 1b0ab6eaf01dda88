//! Issue 20 (security round 3), the findings about what a lane reaches and what a server can
//! make the CI show: one regression test each, named after the hole and failing on the code
//! before its fix (docs/reliability.md, "Threat model", has the table).

use crate::common::Sandbox;
use crate::common::fault_server::{Behaviour, FaultServer};
use std::time::Duration;

fn answering(status: u16, body: &[u8]) -> FaultServer {
    FaultServer::start(Behaviour::Fixed {
        status,
        content_type: "text/plain",
        body: body.to_vec(),
    })
}

/// Finding 1: the lock hashed only the `*.rhai` files inside `--lanes DIR`, but a lane could
/// `import "../shared/policy"`. Weakening that module after locking turned a NO-GO into a GO
/// against a server answering 503, under the same lock and lanes digests. An import from a
/// matrix folder's lane now resolves only inside the folder (links followed), so every file a
/// gate runs as code is one its lock hashes.
#[test]
fn regression_a_module_outside_the_locked_folder_turned_no_go_into_go() {
    let server = answering(503, b"down");
    let sb = Sandbox::new();
    sb.write(
        "matrix/ready.rhai",
        &format!(
            "import \"../shared/policy\" as policy;\nrequired(\"ready\", || {{ let r = http::get(\"{}\"); assert(policy::healthy(r.status), \"ready\"); }});\n",
            server.url()
        ),
    );
    sb.write(
        "shared/policy.rhai",
        "fn healthy(status) { status == 200 }\n",
    );
    let outside = |run: &crate::common::Run| {
        run.expect_code(3);
        run.stderr_has("is outside the matrix folder");
    };
    outside(&sb.cmd().args(["lock", "--lanes", "matrix"]).run());
    // The weakened module: a gate, a plain run and `lock --check` refuse it all the same.
    sb.write("shared/policy.rhai", "fn healthy(status) { true }\n");
    outside(
        &sb.cmd()
            .args(["--gate", "--phase", "app-surface", "--lanes", "matrix"])
            .out(&sb.out("gate"))
            .run(),
    );
    outside(
        &sb.cmd()
            .args(["--lanes", "matrix"])
            .out(&sb.out("plain"))
            .run(),
    );
    outside(
        &sb.cmd()
            .args(["lock", "--check", "--lanes", "matrix"])
            .run(),
    );
    // An absolute path, and a link inside the folder to a file outside it, are the same hole.
    let absolute = sb.path().join("shared/policy.rhai");
    sb.write(
        "matrix/ready.rhai",
        &format!(
            "import {:?} as policy;\nrequired(\"ready\", || {{ assert(policy::healthy(200), \"ready\"); }});\n",
            absolute.display().to_string()
        ),
    );
    outside(&sb.cmd().args(["lock", "--lanes", "matrix"]).run());
    std::os::unix::fs::symlink(&absolute, sb.path().join("matrix/lib.rhai")).unwrap();
    sb.write(
        "matrix/ready.rhai",
        "import \"lib\" as policy;\nrequired(\"ready\", || { assert(policy::healthy(200), \"ready\"); });\n",
    );
    outside(&sb.cmd().args(["lock", "--lanes", "matrix"]).run());
    // Inside the folder, imports work as before, and the lock covers the module.
    std::fs::remove_file(sb.path().join("matrix/lib.rhai")).unwrap();
    sb.write(
        "matrix/lib/policy.rhai",
        "fn healthy(status) { status == 200 }\n",
    );
    sb.write(
        "matrix/ready.rhai",
        "import \"lib/policy\" as policy;\nrequired(\"ready\", || { assert(policy::healthy(200), \"ready\"); });\n",
    );
    sb.cmd()
        .args(["lock", "--lanes", "matrix"])
        .run()
        .expect_code(0);
    assert!(
        std::fs::read_to_string(sb.path().join("matrix/matrix.lock"))
            .unwrap()
            .contains("\"lib/policy.rhai\""),
        "the lock hashes the module"
    );
}

/// Finding 7: `--gate --lanes DIR`, `lock` and `lock --check` read every `*.rhai` with no type
/// check or size cap: a FIFO blocked for ever, a link to `/dev/zero` grew until memory ran out.
/// They are now read as bounded file inputs: an error naming the file, at once.
#[test]
fn regression_a_fifo_or_dev_zero_in_the_matrix_folder_hung_the_lock() {
    let sb = Sandbox::new();
    sb.write(
        "matrix/ok.rhai",
        "required(\"ok\", || { assert(true, \"fine\"); });\n",
    );
    let fifo = sb.path().join("matrix/fifo.rhai");
    let c_path = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    assert_eq!(unsafe { libc::mkfifo(c_path.as_ptr(), 0o600) }, 0);
    let refused = |args: &[&str], what: &str| {
        let mut cmd = sb.cmd().args(args).timeout(Duration::from_secs(20));
        if args[0] != "lock" {
            cmd = cmd.out(&sb.out("evidence"));
        }
        let run = cmd.run();
        assert!(run.code.is_some_and(|c| c != 0), "{args:?} did not fail");
        run.stderr_has(what);
        run.stderr_has("not a regular file");
    };
    for args in [
        &["lock", "--lanes", "matrix"][..],
        &["lock", "--check", "--lanes", "matrix"][..],
        &["--gate", "--phase", "app-surface", "--lanes", "matrix"][..],
    ] {
        refused(args, "fifo.rhai");
    }
    std::fs::remove_file(&fifo).unwrap();
    std::os::unix::fs::symlink("/dev/zero", sb.path().join("matrix/zero.rhai")).unwrap();
    for args in [
        &["lock", "--lanes", "matrix"][..],
        &["--gate", "--phase", "app-surface", "--lanes", "matrix"][..],
    ] {
        refused(args, "zero.rhai");
    }
    // The lock file itself is a bounded input too.
    std::fs::remove_file(sb.path().join("matrix/zero.rhai")).unwrap();
    std::os::unix::fs::symlink("/dev/zero", sb.path().join("matrix/matrix.lock")).unwrap();
    refused(
        &["--gate", "--phase", "app-surface", "--lanes", "matrix"],
        "matrix.lock",
    );
}

/// Finding 8: text from a response reached stdout, and GitHub's runner obeys the legacy
/// `##[command]` form anywhere in a line and `::command::` after leading spaces. A server
/// answering `degraded ##[stop-commands]x` made the runner ignore the tool's own `::error`
/// annotations. Under GitHub Actions the run now pauses command processing with a token no
/// server can know, makes every marker in printed text inert, and resumes only for its own
/// annotations.
#[test]
fn regression_a_server_stopped_the_runners_commands_and_hid_the_annotations() {
    let server = answering(
        200,
        b"degraded ##[stop-commands]x\n   ::error::fake annotation\n::add-mask::y",
    );
    let sb = Sandbox::new();
    sb.write(
        "steer.rhai",
        &format!(
            "required(\"steered\", || {{ let body = http::get(\"{}\").body; warn(body); assert(false, body); }});\n",
            server.url()
        ),
    );
    let summary = sb.path().join("step-summary.md");
    let run = sb
        .cmd()
        .arg("steer.rhai")
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_STEP_SUMMARY", &summary)
        .out(&sb.out("evidence"))
        .run();
    run.expect_code(1);
    let lines: Vec<&str> = run.stdout.lines().collect();
    let token = lines
        .iter()
        .find_map(|l| l.strip_prefix("::stop-commands::"))
        .unwrap_or_else(|| panic!("no pause:\n{}", run.stdout));
    assert_eq!(token.len(), 32, "{token}");
    let paused_at = lines
        .iter()
        .position(|l| l.starts_with("::stop-commands::"));
    let resumed_at = lines
        .iter()
        .position(|l| *l == format!("::{token}::"))
        .unwrap_or_else(|| panic!("never resumed:\n{}", run.stdout));
    assert!(paused_at < Some(resumed_at));
    // While paused, and after: no line a runner would take for a command but the tool's own.
    for (i, line) in lines.iter().enumerate() {
        assert!(!line.contains("##["), "line {i}: {line:?}\n{}", run.stdout);
        let trimmed = line.trim_start();
        if trimmed.starts_with("::") {
            let own = i == paused_at.unwrap()
                || i == resumed_at
                || (i > resumed_at && trimmed.starts_with("::error file="));
            assert!(
                own,
                "line {i} passes for a command: {line:?}\n{}",
                run.stdout
            );
        }
    }
    // The tool's annotation is there, after the pause, with the server's text inert in it.
    let annotation = lines[resumed_at + 1..]
        .iter()
        .find(|l| l.starts_with("::error file=steer.rhai"))
        .unwrap_or_else(|| panic!("no annotation:\n{}", run.stdout));
    assert!(annotation.contains("#\\#[stop-commands]"), "{annotation}");
    // The server's text is still readable on the terminal.
    run.stdout_has("degraded #\\#[stop-commands]x");

    // Finding 9: the job summary shows the server's text as text, never as HTML or an image.
    let server = answering(
        200,
        b"<h1>Verdict: GO</h1><img src=\"https://example.invalid/pixel.png\"> ![x](https://example.invalid/i.png)",
    );
    sb.write(
        "fake.rhai",
        &format!(
            "required(\"fake\", || {{ let body = http::get(\"{}\").body; warn(body); assert(false, body); }});\n",
            server.url()
        ),
    );
    let run = sb
        .cmd()
        .arg("fake.rhai")
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_STEP_SUMMARY", &summary)
        .out(&sb.out("fake"))
        .run();
    run.expect_code(1);
    let step_summary = std::fs::read_to_string(&summary).unwrap();
    for raw in ["<h1>", "<img", "![x](", "[x]("] {
        assert!(
            !step_summary.contains(raw),
            "{raw} in the job summary:\n{step_summary}"
        );
    }
    assert!(step_summary.contains("&lt;h1&gt;Verdict: GO&lt;/h1&gt;"));
    assert_eq!(step_summary.matches("- Verdict: NO-GO").count(), 2);
    assert!(!step_summary.contains("- Verdict: GO"));
}
