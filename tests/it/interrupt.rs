//! Interruption: SIGINT or SIGTERM while an HTTP request is in flight (against a loopback
//! server that answers after 30 s) ends the run within 2 s with exit 130, NO-GO, and partial
//! evidence listed in SHA256SUMS that `sha256sum -c` verifies. A second signal exits at once.
//!
//! Other primitives' children (`cargo test`, Chromium) must hook their process-group cleanup
//! into the same cancellation token (`Host::cancel`); add a row here when they land.

use crate::common::Sandbox;
use crate::common::fault_server::{Behaviour, FaultServer};
use std::io::Read;
use std::time::{Duration, Instant};

/// Checks run as soon as what they wait for has ended: `after` keeps the three in order, so
/// "after" has not started when the signal comes.
fn lane(url: &str) -> String {
    format!(
        r#"required("before", || {{ assert(true, "ran before the interruption"); }});
required("in-flight", #{{ after: "before" }}, || {{
    let r = http::get("{url}/slow", #{{ timeout: "60s" }});
    assert_status(r, 200);
}});
required("after", #{{ after: "in-flight" }}, || {{ assert(true, "never reached"); }});
"#
    )
}

fn interrupt(signals: &[i32]) {
    let server = FaultServer::start(Behaviour::Slow {
        delay: Duration::from_secs(30),
    });
    let sb = Sandbox::new();
    sb.write("slow.rhai", &lane(&server.url()));
    let out = sb.out("evidence");
    let mut guard = sb
        .cmd()
        .args(["slow.rhai", "--timeout", "90s"])
        .out(&out)
        .spawn();
    let mut stdout = guard.child().stdout.take().expect("stdout");
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stdout.read_to_string(&mut text);
        text
    });
    let waited = Instant::now();
    while server.requests().is_empty() {
        assert!(
            waited.elapsed() < Duration::from_secs(30),
            "the request never arrived"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    std::thread::sleep(Duration::from_millis(200));
    let pid = guard.child().id() as libc::pid_t;
    let sent = Instant::now();
    for signal in signals {
        // SAFETY: signalling our own child.
        unsafe { libc::kill(pid, *signal) };
    }
    let status = loop {
        if let Some(status) = guard.child().try_wait().expect("wait") {
            break status;
        }
        assert!(
            sent.elapsed() < Duration::from_secs(10),
            "still running 10 s after the signal"
        );
        std::thread::sleep(Duration::from_millis(10));
    };
    let took = sent.elapsed();
    let stdout = reader.join().expect("stdout reader");
    assert!(
        took < Duration::from_secs(2),
        "exit took {took:?}\n{stdout}"
    );
    assert_eq!(status.code(), Some(130), "{stdout}");
    if signals.len() > 1 {
        return; // the second signal may end the process before the evidence is sealed
    }
    assert!(stdout.contains("Verdict: NO-GO"), "{stdout}");
    let ev = sb.evidence("evidence");
    let summary = ev.summary_json();
    assert_eq!(summary["verdict"]["decision"], "NO-GO");
    assert_eq!(ev.json_check("before")["status"], "passed");
    assert_eq!(ev.json_check("in-flight")["status"], "errored");
    assert_eq!(ev.json_check("after")["status"], "errored");
    // Partial evidence: every file listed, and the list verifies.
    let sums = ev.read("SHA256SUMS");
    for file in ev.files().iter().filter(|f| *f != "SHA256SUMS") {
        assert!(
            sums.contains(&format!("  {file}\n")),
            "{file} is not in SHA256SUMS"
        );
    }
    assert!(ev.sums_verify(), "sha256sum -c SHA256SUMS fails");
}

#[test]
fn sigint_during_an_http_request_ends_the_run_within_2_s_with_sealed_partial_evidence() {
    interrupt(&[libc::SIGINT]);
}

#[test]
fn sigterm_during_an_http_request_ends_the_run_within_2_s_with_sealed_partial_evidence() {
    interrupt(&[libc::SIGTERM]);
}

#[test]
fn a_second_signal_exits_at_once() {
    interrupt(&[libc::SIGINT, libc::SIGINT]);
}
