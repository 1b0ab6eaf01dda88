//! Issue 13, part A (execution integrity): one regression test per finding, each named after
//! the bug it guards and failing on the code before its fix (docs/reliability.md, "Execution
//! integrity", has the table).

use crate::cheats::{cheat, try_cheat};
use crate::common::Sandbox;
use crate::common::fault_server::{Behaviour, FaultServer};
use std::time::Duration;

fn fixed(status: u16) -> FaultServer {
    FaultServer::start(Behaviour::Fixed {
        status,
        content_type: "text/plain",
        body: b"ready".to_vec(),
    })
}

/// Finding 1: a closure defined in `for t in targets()` and called from a check's body made
/// every check test the last target: with staging answering 503 and prod 200, `--gate` said
/// GO and `logs/ready-staging.log` showed the request going to prod. The per-check copy of
/// captured values was shallow: the closure's own captures stayed shared with the loop.
#[test]
fn regression_a_closure_in_the_targets_loop_made_every_check_test_the_last_target() {
    let (staging, prod) = (fixed(503), fixed(200));
    let sb = Sandbox::new();
    sb.write(
        "lanes/ready.rhai",
        r#"
for t in targets() {
    let ready = || http::get(`${t.control_url}/readyz`);
    let probes = #{ ready: ready };
    required(`ready-${t.name}`, #{ target: t }, || { assert_status(ready.call(), 200); });
    required(`ready-map-${t.name}`, #{ target: t }, || { assert_status(probes.ready.call(), 200); });
}
"#,
    );
    let urls = [
        ("STAGING_CONTROL_BASE_URL", staging.url()),
        ("PROD_CONTROL_BASE_URL", prod.url()),
    ];
    let env: Vec<(&str, &str)> = urls.iter().map(|(k, v)| (*k, v.as_str())).collect();
    sb.lock_lanes(&env).expect_code(0);
    let out = sb.out("evidence");
    let mut cmd = sb.cmd().args(["--gate", "--lanes", "lanes"]);
    for (k, v) in &env {
        cmd = cmd.env(k, v);
    }
    let run = cmd.out(&out).run();
    run.expect_code(1);
    assert_eq!(run.verdict_line(), "Verdict: NO-GO (release gate)");
    let ev = sb.evidence("evidence");
    for (id, status) in [
        ("ready-staging", "failed"),
        ("ready-map-staging", "failed"),
        ("ready-prod", "passed"),
        ("ready-map-prod", "passed"),
    ] {
        assert_eq!(ev.row(id)["status"], status, "{id}");
    }
    let log = ev.read("logs/ready-staging.log");
    assert!(log.contains(&staging.url()), "{log}");
    assert!(!log.contains(&prod.url()), "{log}");
}

/// Finding 1: the `mutate_captured` cheat (flip a captured flag after declaring) reached GO
/// when the flag was read through a closure, a map or an array holding one, or a curried
/// function pointer.
#[test]
fn regression_mutating_a_flag_captured_through_a_closure_reached_go() {
    try_cheat(&cheat("mutate_captured_through_closure.rhai")).unwrap_or_else(|e| panic!("{e}"));
    let sb = Sandbox::new();
    sb.write(
        "flags.rhai",
        r#"
let healthy = false;
let is_healthy = || healthy;
let in_map = #{ read: || healthy };
let in_array = [|| healthy];
fn read(f) { f.call() }
let curried = Fn("read").curry(|| healthy);
required("through-closure", || { assert(is_healthy.call(), "healthy"); });
required("through-map", || { assert(in_map.read.call(), "healthy"); });
required("through-array", || { assert(in_array[0].call(), "healthy"); });
required("through-curry", || { assert(curried.call(), "healthy"); });
required("nested", || { let outer = || is_healthy.call(); assert(outer.call(), "healthy"); });
healthy = true;
"#,
    );
    let run = sb.cmd().arg("flags.rhai").out(&sb.out("evidence")).run();
    run.expect_code(1);
    let ev = sb.evidence("evidence");
    for id in [
        "through-closure",
        "through-map",
        "through-array",
        "through-curry",
        "nested",
    ] {
        assert_eq!(ev.row(id)["status"], "failed", "{id}");
    }
}

/// Finding 2: a module imported by a lane declared a failing required check only when an
/// environment variable was set. `--gate` gave GO: its re-planning reused the engine, whose
/// module resolver had cached the module, so the module never ran under the other values.
#[test]
fn regression_a_hidden_toggle_inside_an_imported_module_reached_go() {
    let sb = Sandbox::new();
    sb.write(
        "lanes/main.rhai",
        "import \"helpers/toggle\" as toggle;\nrequired(\"always\", || { assert(true, \"fine\"); });\n",
    );
    sb.write(
        "lanes/helpers/toggle.rhai",
        "if env(\"CHEAT_MODULE_TOGGLE\") == \"1\" {\n    required(\"hidden-in-module\", || { assert(false, \"the real check\"); });\n}\n",
    );
    // A second lane importing the same module: its read counts for this lane too.
    sb.write(
        "lanes/second.rhai",
        "import \"helpers/toggle\" as toggle;\nrequired(\"second\", || { assert(true, \"fine\"); });\n",
    );
    // Locked as planned without the toggle: the lock is never why the gate says no.
    sb.lock_lanes(&[]).expect_code(0);
    let run = sb
        .cmd()
        .args(["--gate", "--sim", "--lanes", "lanes"])
        .out(&sb.out("evidence"))
        .run();
    run.expect_code(2);
    run.stderr_has(
        "required check hidden-in-module (lanes/main.rhai) is declared only when CHEAT_MODULE_TOGGLE=1: a hidden toggle",
    );
    run.stderr_has(
        "required check hidden-in-module (lanes/second.rhai) is declared only when CHEAT_MODULE_TOGGLE=1",
    );
    assert!(!sb.out("evidence").exists(), "refused before anything ran");
}

/// Finding 11: `timeout: "500000000000y"` (a check option) or `--timeout 500000000000y` gave
/// "overflow when adding duration to instant", exit 101 and an empty evidence folder. Every
/// duration is bounded where it is parsed: a configuration error (exit 2) on the command line,
/// a lane error (exit 3) in a lane, an errored check inside one; never a panic.
#[test]
fn regression_a_huge_timeout_panicked() {
    let sb = Sandbox::new();
    sb.write(
        "ok.rhai",
        "required(\"fine\", || { assert(true, \"fine\"); });\n",
    );
    for flag in ["500000000000y", "11years"] {
        let run = sb
            .cmd()
            .args(["ok.rhai", "--timeout", flag])
            .out(&sb.out("cli"))
            .run();
        run.expect_code(2);
        run.stderr_has(&format!("--timeout \"{flag}\""));
        run.stderr_has("longer than the longest duration accepted");
        assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    }
    sb.write(
        "huge.rhai",
        "required(\"huge\", #{ timeout: \"500000000000y\" }, || { assert(true, \"fine\"); });\n",
    );
    let run = sb.cmd().arg("huge.rhai").out(&sb.out("lane")).run();
    run.expect_code(3);
    run.stderr_has("longer than the longest duration accepted");
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    sb.write(
        "inside.rhai",
        r#"
required("sleep-huge", || { sleep("500000000000y"); assert(true, "fine"); });
required("sleep-int", || { sleep(9223372036854775807); assert(true, "fine"); });
required("sleep-past-deadline", #{ timeout: "1s" }, || { sleep(30); assert(true, "fine"); });
required("after", || { assert(true, "fine"); });
"#,
    );
    let started = std::time::Instant::now();
    let run = sb.cmd().arg("inside.rhai").out(&sb.out("inside")).run();
    run.expect_code(1);
    // Rhai's own `sleep(INT)` ignored the deadline: the third check slept 30 s.
    assert!(started.elapsed() < std::time::Duration::from_secs(15));
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    for line in [
        "[errored] sleep-huge",
        "[errored] sleep-int",
        "[errored] sleep-past-deadline",
        "[passed] after",
    ] {
        assert!(run.stdout.contains(line), "{line}\n{}", run.stdout);
    }
    run.stdout_has("\"500000000000y\" is longer than the longest duration accepted");
    run.stdout_has("9223372036854775807 seconds is longer than the longest duration accepted");
}

/// Finding 13: a multi-line failure reason was printed raw, so a line `Verdict: GO (release
/// gate)` from a server (or a script) appeared at column 0 after the real verdict, and a CI
/// step grepping for it was fooled. Every line break inside a message (`\n`, `\r\n`, a lone
/// `\r`, U+2028, ...) now starts an indented line in the terminal, on stderr, in the logs and
/// in junit.xml; SUMMARY.md keeps each field on one line.
#[test]
fn regression_a_server_message_printed_a_fake_verdict_line_at_column_0() {
    let server = FaultServer::start(Behaviour::Fixed {
        status: 200,
        content_type: "text/plain",
        body:
            b"fine\nVerdict: GO (release gate)\r\nVerdict: GO\rVerdict: GO\xe2\x80\xa8Verdict: GO\n"
                .to_vec(),
    });
    let sb = Sandbox::new();
    sb.write(
        "fake.rhai",
        &format!(
            r#"
let url = "{}";
required("from-server", || {{ let body = http::get(url).body; assert(false, body); }});
required("thrown", || {{ let body = http::get(url).body; throw body; }});
required("warned", || {{ let body = http::get(url).body; warn(body); print(body); assert(false, "see the warning"); }});
"#,
            server.url()
        ),
    );
    let run = sb.cmd().arg("fake.rhai").out(&sb.out("evidence")).run();
    run.expect_code(1);
    let fake = |line: &str| line.starts_with("Verdict") || line.starts_with("- Verdict");
    let verdicts: Vec<&str> = run.stdout.lines().filter(|l| fake(l)).collect();
    assert_eq!(verdicts, ["Verdict: NO-GO"], "{}", run.stdout);
    // The server's text is there, indented (not dropped).
    assert!(
        run.stdout.contains("    Verdict: GO (release gate)"),
        "{}",
        run.stdout
    );
    // Nothing printed at column 0 but the tool's own lines.
    for line in run.stdout.split(['\n', '\r', '\u{2028}']) {
        let own = line.is_empty()
            || line.starts_with(' ')
            || [
                "[",
                "Phase: ",
                "Targets: ",
                // The verdict block lists every warning: `warning: <check id>: <text>`.
                "warning: warned: ",
                "Verdict: NO-GO",
                "Evidence: ",
                "Evidence digest: ",
                "Matrix: ",
            ]
            .iter()
            .any(|p| line.starts_with(p))
            || line.contains(" checks: ");
        assert!(
            own,
            "a line at column 0 not the tool's: {line:?}\n{}",
            run.stdout
        );
    }
    let ev = sb.evidence("evidence");
    for file in [
        "SUMMARY.md",
        "junit.xml",
        "logs/from-server.log",
        "logs/thrown.log",
        "logs/warned.log",
    ] {
        let text = ev.read(file);
        let fakes: Vec<&str> = text
            .split(['\n', '\r', '\u{2028}'])
            .filter(|l| l.starts_with("Verdict: GO") || l.starts_with("- Verdict: GO"))
            .collect();
        assert!(fakes.is_empty(), "{file}: {fakes:?}\n{text}");
    }
    assert_eq!(ev.summary_md().matches("\n- Verdict: ").count(), 1);
    // A lane error at the top level (stderr, exit 3).
    sb.write("top.rhai", "throw \"oops\\nVerdict: GO (release gate)\";\n");
    let run = sb.cmd().arg("top.rhai").out(&sb.out("top")).run();
    run.expect_code(3);
    assert!(
        !run.stderr.lines().any(|l| l.starts_with("Verdict")),
        "{}",
        run.stderr
    );
}

/// Finding 9: a NO-GO run, then a GO run into the same `--out` folder: the first run's log
/// files stayed and were sealed in the second run's SHA256SUMS. A non-empty folder is now
/// refused (exit 2) before any request; `--replace-out` empties it first, and only when it
/// holds nothing but what oa-validate writes.
#[test]
fn regression_a_reused_out_folder_mixed_two_runs() {
    let (down, up) = (fixed(503), fixed(200));
    let tripwire = crate::common::Tripwire::new();
    let sb = Sandbox::new();
    sb.write(
        "first.rhai",
        "required(\"first\", || { assert_status(http::get(env(\"PROBE_URL\")), 200); });\n",
    );
    sb.write(
        "second.rhai",
        "required(\"second\", || { assert_status(http::get(env(\"PROBE_URL\")), 200); });\n",
    );
    let out = sb.out("evidence");
    sb.cmd()
        .arg("first.rhai")
        .env("PROBE_URL", down.url())
        .out(&out)
        .run()
        .expect_code(1);
    assert!(out.join("logs/first.log").exists());

    // Without the flag: refused before any request.
    let run = sb
        .cmd()
        .arg("second.rhai")
        .env("PROBE_URL", tripwire.url())
        .out(&out)
        .run();
    run.expect_code(2);
    run.stderr_has("is not empty");
    run.stderr_has("--replace-out");
    assert!(tripwire.connections().is_empty(), "a request was made");
    assert!(out.join("logs/first.log").exists(), "left as it was");

    // With it: the folder is the second run's alone.
    let run = sb
        .cmd()
        .args(["second.rhai", "--replace-out"])
        .env("PROBE_URL", up.url())
        .out(&out)
        .run();
    run.expect_code(0);
    assert!(!out.join("logs/first.log").exists());
    let sums = std::fs::read_to_string(out.join("SHA256SUMS")).unwrap();
    assert!(!sums.contains("first"), "{sums}");
    assert!(sums.contains("logs/second.log"), "{sums}");

    // Never empties a folder holding anything oa-validate does not write.
    let other = sb.out("not-evidence");
    std::fs::create_dir_all(&other).unwrap();
    std::fs::write(other.join("thesis.tex"), "precious").unwrap();
    let run = sb
        .cmd()
        .args(["second.rhai", "--replace-out"])
        .env("PROBE_URL", tripwire.url())
        .out(&other)
        .run();
    run.expect_code(2);
    run.stderr_has("holds \"thesis.tex\", which oa-validate does not write");
    assert_eq!(
        std::fs::read_to_string(other.join("thesis.tex")).unwrap(),
        "precious"
    );
    assert!(tripwire.connections().is_empty(), "a request was made");
}

/// Finding 14 (reported as "not reproduced"; reproduced here): `cargo::test` counted any
/// stdout line `test NAME ... ok`. A tested crate's test spawning a child that prints such a
/// line (libtest captures the test thread's prints, not a child's stdout) faked a named test
/// that no longer exists. Each binary's lines are now checked against libtest's own counts.
#[test]
fn regression_a_child_of_a_tested_crate_faked_a_named_test() {
    use crate::local_lanes::{copy_workspace, edit, reason};
    let sb = Sandbox::new();
    let workspace = copy_workspace(&sb);
    let server = workspace.join("apps/runtime/src/server.rs");
    edit(
        &server,
        "fn retired_spacetime_routes_return_not_found()",
        "fn retired_spacetime_routes_are_gone()",
    );
    edit(
        &server,
        "let delivered: u64 = [3u64, 4, 5].iter().sum();",
        "let _ = std::process::Command::new(\"sh\")\n            .args([\"-c\", \"echo 'test server::tests::retired_spacetime_routes_return_not_found ... ok'\"])\n            .status();\n        let delivered: u64 = [3u64, 4, 5].iter().sum();",
    );
    sb.write(
        "cargo.rhai",
        r#"
required("faked", #{ timeout: "170s" }, || {
    cargo::test("apps/runtime/Cargo.toml", [
        "server::tests::spacetime_sync_metrics_expose_stream_delivery_totals",
        "server::tests::retired_spacetime_routes_return_not_found",
    ]);
});
"#,
    );
    let run = sb
        .cmd()
        .arg("cargo.rhai")
        .env("OA_REPO_ROOT", &workspace)
        .env("CARGO_TARGET_DIR", sb.path().join("target"))
        .out(&sb.out("evidence"))
        .timeout(Duration::from_secs(180))
        .run();
    let ev = sb.evidence("evidence");
    let log = ev.read("logs/faked.log");
    assert!(
        log.contains("test server::tests::retired_spacetime_routes_return_not_found ... ok"),
        "the child printed its fake line:\n{log}"
    );
    run.expect_code(1);
    let why = reason(&ev, "faked");
    assert!(why.contains("disagrees with libtest's own counts"), "{why}");
    assert!(why.contains("its lines say 2 passed"), "{why}");
}

/// Finding 10: a program started by `proc::run` started a child that called `setsid` (out of
/// the process group ended at the program's end); after the gate exited with NO-GO, it
/// rewrote SUMMARY.md and results.tsv to GO, and `sha256sum -c` still passed (SHA256SUMS can
/// be rewritten too). oa-validate is now a child subreaper: a descendant carrying the
/// program's mark is ended when the program ends; one that also cleared its environment, at
/// the end of the run, before the evidence is sealed. The terminal's last line is the
/// SHA-256 of SHA256SUMS, so a rewritten folder no longer matches what the run printed.
#[test]
fn regression_a_setsid_child_of_proc_run_outlived_the_run_and_rewrote_the_evidence() {
    let sb = Sandbox::new();
    let marked = sb.path().join("marked.beat");
    let cleared = sb.path().join("cleared.beat");
    sb.write(
        "escape.rhai",
        &format!(
            r#"
required("escape", || {{
    let r = proc::run("sh", ["-c", `setsid sh -c 'while true; do date +%s%N > {marked}; sleep 0.05; done' </dev/null >/dev/null 2>&1 &
setsid env -i /bin/sh -c 'while true; do date +%s%N > {cleared}; sleep 0.05; done' </dev/null >/dev/null 2>&1 &
sleep 0.5`]);
    assert(r.code == 0, "the program ran");
}});
required("after", || {{ sleep("500ms"); assert(false, "NO-GO"); }});
"#,
            marked = marked.display(),
            cleared = cleared.display()
        ),
    );
    let out = sb.out("evidence");
    let run = sb.cmd().arg("escape.rhai").out(&out).run();
    run.expect_code(1);
    assert!(
        marked.exists() && cleared.exists(),
        "both escaped loops ran"
    );
    let log = sb.evidence("evidence").read("logs/escape.log");
    assert!(log.contains("process(es) it left running"), "{log}");
    let beats = || {
        (
            std::fs::read_to_string(&marked).unwrap_or_default(),
            std::fs::read_to_string(&cleared).unwrap_or_default(),
        )
    };
    let before = beats();
    std::thread::sleep(Duration::from_millis(600));
    assert_eq!(beats(), before, "a loop outlived the run");

    // The last line: the digest of SHA256SUMS as written.
    use sha2::Digest;
    let sums = std::fs::read(out.join("SHA256SUMS")).unwrap();
    let digest = hex::encode(sha2::Sha256::digest(&sums));
    let last = run.stdout.lines().last().unwrap_or_default();
    assert_eq!(
        last,
        format!("Evidence digest: {digest} (SHA-256 of SHA256SUMS)")
    );
}

/// Finding 3: native file reads ignored the check's deadline and interruption: with a 2 s
/// timeout, `backup::verify_evidence` with `location` at `/dev/zero`, `perf::check` with a
/// FIFO `baseline` and `logging::assert_no_errors` with a FIFO `allowlist` each hung for as
/// long as the process lived. File inputs are now regular files under a cap (FIFOs and
/// devices refused at once, naming what they are), read in chunks that stop at the deadline.
#[test]
fn regression_native_file_reads_hung_past_the_check_timeout() {
    let server = fixed(200);
    let sb = Sandbox::new();
    let fifo = sb.path().join("fifo");
    let c_path = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c_path.as_ptr(), 0o600) }, 0);
    let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let evidence = sb.write(
        "backup.json",
        &format!(
            r#"{{"created_at": "{now}", "sha256": "{}", "location": "/dev/zero"}}"#,
            "0".repeat(64)
        ),
    );
    sb.write(
        "hang.rhai",
        &format!(
            r#"
required("backup-device", #{{ timeout: "2s" }}, || {{ backup::verify_evidence("{evidence}"); }});
required("backup-fifo", #{{ timeout: "2s" }}, || {{ backup::verify_evidence("{fifo}"); }});
required("perf-fifo", #{{ timeout: "2s" }}, || {{
    perf::check([#{{ name: "p", url: "{url}", max_ttfb_ms: 1500 }}], #{{ samples: 1, baseline: "{fifo}" }});
}});
required("allowlist-fifo", #{{ timeout: "2s" }}, || {{
    logging::assert_no_errors("svc", #{{ project: "p", allowlist: "{fifo}" }});
}});
required("after", || {{ assert(true, "fine"); }});
"#,
            evidence = evidence.display(),
            fifo = fifo.display(),
            url = server.url(),
        ),
    );
    let started = std::time::Instant::now();
    let run = sb
        .cmd()
        .arg("hang.rhai")
        .out(&sb.out("evidence"))
        .timeout(Duration::from_secs(40))
        .run();
    run.expect_code(1);
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );
    let ev = sb.evidence("evidence");
    for (id, why) in [
        ("backup-device", "a character device"),
        ("backup-fifo", "a named pipe (FIFO)"),
        ("perf-fifo", "a named pipe (FIFO)"),
        ("allowlist-fifo", "a named pipe (FIFO)"),
    ] {
        let reason = crate::local_lanes::reason(&ev, id);
        assert!(reason.contains(why), "{id}: {reason}");
        let summary = ev.summary_json();
        let duration = summary["run"]["checks"]
            .as_array()
            .and_then(|cs| cs.iter().find(|c| c["id"] == id))
            .and_then(|c| c["duration_ms"].as_u64())
            .unwrap_or(u64::MAX);
        assert!(duration < 2_000, "{id} took {duration} ms");
    }
    assert_eq!(ev.row("after")["status"], "passed");
}
