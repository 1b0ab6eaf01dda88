//! `oa-validate repl`: piped sessions, `:save`, and line editing under a pseudo-terminal.

use crate::common::*;
use portable_pty::{CommandBuilder, PtySize, native_pty_system};
use std::io::{Read, Write};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[test]
fn a_piped_session_keeps_variables_and_saves_a_lane_that_passes() {
    let sb = Sandbox::new();
    let saved = sb.path().join("probes.rhai");
    let session = format!(
        "let base = target.control_url;\n\
         let r = http::get(base + \"/readyz\");\n\
         r.status\n\
         fn session(t) {{\n\
             http::get(t.control_url + \"/api/auth/session\", #{{ bearer: t.token }})\n\
         }}\n\
         session(target).status\n\
         json_get(r, \"/status\", ())\n\
         :save {}\n",
        saved.display()
    );
    let run = sb
        .cmd()
        .args(["repl", "--sim", "--no-history"])
        .stdin(&session)
        .run();
    run.expect_code(0)
        .stdout_has("200\n")
        .stdout_has("\"ready\"")
        .stdout_has("saved 2 probe(s)");
    let lane = std::fs::read_to_string(&saved).expect("saved lane");
    assert!(lane.contains("assert_status(r, 200);"), "{lane}");
    assert!(lane.contains("bearer: t.token"), "{lane}");
    assert!(
        !lane.contains("127.0.0.1"),
        "URLs are relative to the target: {lane}"
    );

    sb.cmd().args(["check", "probes.rhai"]).run().expect_code(0);
    let out = sb.out("ev");
    sb.cmd()
        .args(["--sim", "probes.rhai"])
        .out(&out)
        .run()
        .expect_code(0)
        .stdout_has("Verdict: GO");
    let ev = sb.evidence("ev");
    assert_eq!(
        ev.statuses(),
        vec![
            ("probes-staging-1".to_string(), "passed".to_string()),
            ("probes-staging-2".to_string(), "passed".to_string()),
        ]
    );
}

/// `:save` names checks after the file (two saved lanes never collide), restricts each to the
/// target it was probed on, and gives a token probe `needs: [t.token_var]`, so where no token
/// is set it skips, naming the variable, instead of failing.
#[test]
fn saved_lanes_have_unique_ids_and_token_probes_need_their_token() {
    let sb = Sandbox::new();
    for (file, path) in [
        ("first.rhai", "/readyz"),
        ("second.rhai", "/api/auth/session"),
    ] {
        let bearer = if path == "/readyz" {
            ""
        } else {
            ", #{ bearer: target.token }"
        };
        sb.cmd()
            .args(["repl", "--sim", "--no-history"])
            .stdin(&format!(
                "http::get(target.control_url + \"{path}\"{bearer}).status\n:save {}\n",
                sb.path().join(file).display()
            ))
            .run()
            .expect_code(0)
            .stdout_has("saved 1 probe(s)");
    }
    let second = std::fs::read_to_string(sb.path().join("second.rhai")).expect("saved");
    assert!(second.contains("required(`second-${t.name}-1`"), "{second}");
    assert!(second.contains("needs: [t.token_var],"), "{second}");
    assert!(
        second.contains("if t.name != \"staging\" { continue; }"),
        "{second}"
    );
    let first = std::fs::read_to_string(sb.path().join("first.rhai")).expect("saved");
    assert!(!first.contains("needs:"), "no token, no needs:\n{first}");

    // Both lanes in one run: distinct ids. Against a served sim without the token exported,
    // the token probe skips with the variable's name.
    let sim = SimProcess::start(&sb, &[], &[]);
    let run = sb
        .cmd()
        .sim_targets(&sim)
        .args(["first.rhai", "second.rhai"])
        .out(&sb.out("ev"))
        .run();
    run.expect_code(1)
        .stdout_has("[passed] first-staging-1 (required)")
        .stdout_has("[not checked here] second-staging-1 (required)")
        .stdout_has("not checked here: STAGING_CONTROL_ACCESS_TOKEN unset");
}

#[test]
fn piped_errors_show_their_position_and_fail_the_session() {
    let sb = Sandbox::new();
    let run = sb
        .cmd()
        .args(["repl", "--sim", "--no-history"])
        .stdin("let x = 1;\nx +\n  nope\n")
        .run();
    run.expect_code(1).stderr_has("<repl>:2:");
}

#[test]
fn the_saved_lane_fails_when_the_deployment_changes() {
    let sb = Sandbox::new();
    let saved = sb.path().join("ready.rhai");
    sb.cmd()
        .args(["repl", "--sim", "--no-history"])
        .stdin(&format!(
            "http::get(target.control_url + \"/readyz\").status\n:save {}\n",
            saved.display()
        ))
        .run()
        .expect_code(0);
    let out = sb.out("ev");
    sb.cmd()
        .args(["--sim", "--sim-fault", "readyz-503", "ready.rhai"])
        .out(&out)
        .run()
        .expect_code(1);
    assert_eq!(sb.evidence("ev").row("ready-staging-1")["status"], "failed");
}

/// A REPL on a pseudo-terminal, read in the background.
struct Terminal {
    writer: Box<dyn Write + Send>,
    screen: Arc<Mutex<String>>,
    child: Box<dyn portable_pty::Child + Send + Sync>,
}

impl Terminal {
    fn start(state_dir: &std::path::Path, token: &str) -> Terminal {
        let pty = native_pty_system()
            .openpty(PtySize {
                rows: 40,
                cols: 160,
                pixel_width: 0,
                pixel_height: 0,
            })
            .expect("open a pty");
        let mut cmd = CommandBuilder::new(BIN);
        cmd.args(["repl", "--sim"]);
        cmd.env_clear();
        cmd.env("PATH", std::env::var("PATH").unwrap_or_default());
        cmd.env("HOME", state_dir);
        cmd.env("XDG_STATE_HOME", state_dir);
        cmd.env("TERM", "xterm");
        cmd.env("NO_COLOR", "1");
        cmd.env("STAGING_CONTROL_ACCESS_TOKEN", token);
        let child = pty.slave.spawn_command(cmd).expect("spawn repl");
        drop(pty.slave);
        let mut reader = pty.master.try_clone_reader().expect("reader");
        let writer = pty.master.take_writer().expect("writer");
        let screen = Arc::new(Mutex::new(String::new()));
        let sink = screen.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock()
                    .expect("screen")
                    .push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        });
        // Keep the master alive as long as the writer (dropping it hangs up the child).
        std::mem::forget(pty.master);
        let mut t = Terminal {
            writer,
            screen,
            child,
        };
        t.wait_for("staging> ");
        t
    }

    fn send(&mut self, bytes: &str) {
        self.writer.write_all(bytes.as_bytes()).expect("write");
        self.writer.flush().expect("flush");
    }

    /// Waits until the screen (since the last clear) contains `text`.
    fn wait_for(&mut self, text: &str) -> String {
        let start = Instant::now();
        loop {
            let screen = self.screen.lock().expect("screen").clone();
            if screen.contains(text) {
                return screen;
            }
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "waited 20 s for {text:?}; screen:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn clear(&self) {
        self.screen.lock().expect("screen").clear();
    }

    /// Waits for `text`, then for the next prompt after it: only then does the REPL read
    /// the terminal in raw mode again (keys typed earlier reach it in cooked mode, where
    /// Enter arrives as a newline that does not submit the line).
    fn wait_for_then_prompt(&mut self, text: &str) {
        let screen = self.wait_for(text);
        let start = Instant::now();
        let mut screen = screen;
        loop {
            let after = &screen[screen.find(text).map_or(0, |i| i + text.len())..];
            if after.contains("staging> ") {
                return;
            }
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "waited 20 s for the prompt after {text:?}; screen:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(20));
            screen = self.screen.lock().expect("screen").clone();
        }
    }
}

impl Drop for Terminal {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn tab_completes_and_up_arrow_recalls_and_tokens_stay_out_of_history() {
    let state = tempfile::tempdir().expect("state dir");
    let token = "tok-repl-history-0123456789abcdef";
    let mut term = Terminal::start(state.path(), token);

    // Tab completion from the engine's metadata.
    term.clear();
    term.send("http::g\t");
    term.wait_for("http::get");
    term.send("(target.control_url + \"/readyz\").status\r");
    term.wait_for_then_prompt("200");

    // Up arrow recalls the previous line; Enter runs it again.
    term.clear();
    term.send("\x1b[A");
    term.wait_for("http::get(target.control_url");
    term.send("\r");
    term.wait_for_then_prompt("200");

    // A line holding the token is evaluated but never written to the history file.
    term.clear();
    term.send(&format!("\"{token}\".len()\r"));
    term.wait_for_then_prompt(&token.len().to_string());
    term.send(":quit\r");
    let _ = term.child.wait();

    let history = std::fs::read_to_string(state.path().join("oa-validate/history"))
        .expect("history file written");
    assert!(
        history.contains("http::get(target.control_url"),
        "{history}"
    );
    assert_no_secret("the REPL history file", history.as_bytes(), token);
}

/// Issue 13, finding 8: a value typed on one line and marked secret on a later one. The
/// history file receives nothing before the session ends, and then no line holding it.
#[test]
fn a_value_marked_secret_later_is_purged_from_the_history_before_it_is_written() {
    let state = tempfile::tempdir().expect("state dir");
    let mut term = Terminal::start(state.path(), "tok-repl-history-0123456789abcdef");
    let key = "sk_live_4eC39HqLyjWDarjtT1zdp7dc";
    let history_file = state.path().join("oa-validate/history");

    term.clear();
    term.send(&format!("let k = \"{key}\"; 700 + 1\r"));
    term.wait_for_then_prompt("701");
    let early = std::fs::read_to_string(&history_file).unwrap_or_default();
    assert_no_secret("the history file before secret()", early.as_bytes(), key);

    term.clear();
    term.send("let note = 800 + 2; note\r");
    term.wait_for_then_prompt("802");
    term.clear();
    term.send("secret(k).len() + 900\r");
    term.wait_for_then_prompt("932");
    term.send(":quit\r");
    let _ = term.child.wait();

    let history = std::fs::read_to_string(&history_file).expect("history file written");
    assert!(history.contains("800 + 2"), "{history}");
    assert_no_secret("the REPL history file", history.as_bytes(), key);
}

#[test]
fn help_lists_every_registered_namespace_and_documents_functions() {
    let sb = Sandbox::new();
    let run = sb
        .cmd()
        .args(["repl", "--sim", "--no-history"])
        .stdin(":help\n:help cloudrun\n:help assert_status\n")
        .run();
    let run = run.expect_code(0);
    // Every namespace the engine registers, taken from its metadata.
    for ns in [
        "backup::",
        "browser::",
        "cargo::",
        "cloudrun::",
        "html::",
        "http::",
        "json::",
        "logging::",
        "perf::",
        "proc::",
        "re::",
    ] {
        run.stdout_has(ns);
    }
    run.stdout_has("cloudrun::service(")
        .stdout_has("assert_status(");
}
