//! Secret canaries: 1,000 random tokens planted through the environment (as `*_TOKEN`,
//! `*_SECRET` and `*_KEY` variables, and as the two targets' access tokens), sent to a
//! loopback echo server that reflects them in bodies, headers, redirects and (through
//! failed assertions, warnings, prints, evidence and throws) error messages, also as PHP,
//! Gson and .NET encode JSON and in lower-case percent-encoding, and cut by an excerpt or the
//! HAR's 1 MiB body limit. None may appear, raw, URL-encoded, base64 or JSON-escaped (in any
//! of these ways), nor a remnant of one at a cut, in the terminal output, any evidence file,
//! or the REPL's output and history.

use crate::common;

use crate::common::Sandbox;
use crate::common::fault_server::{Behaviour, FaultServer};
use aho_corasick::AhoCorasick;
use rand::Rng;
use std::time::Duration;

pub(crate) const CANARIES: usize = 1000;
const PER_CHECK: usize = 100;
const KINDS: [&str; 3] = ["TOKEN", "SECRET", "KEY"];

/// A random token: URL-safe letters and digits with a few characters that encode
/// differently in each form (`-._~+/=`).
pub(crate) fn canary(rng: &mut impl Rng) -> String {
    const PLAIN: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    const SPECIAL: &[u8] = b"-._~+/=";
    let mut token: Vec<u8> = (0..20)
        .map(|_| PLAIN[rng.gen_range(0..PLAIN.len())])
        .collect();
    for _ in 0..3 {
        let at = rng.gen_range(1..token.len());
        token.insert(at, SPECIAL[rng.gen_range(0..SPECIAL.len())]);
    }
    format!("cn{}", String::from_utf8(token).expect("ascii"))
}

/// Every form of every canary, one automaton.
struct Detector {
    matcher: AhoCorasick,
    labels: Vec<String>,
}

impl Detector {
    fn new(secrets: &[String]) -> Self {
        let mut patterns = Vec::new();
        let mut labels = Vec::new();
        for s in secrets {
            for (form, value) in common::secret_forms(s) {
                patterns.push(value);
                labels.push(format!("{form} form of {s:?}"));
            }
            // A remnant left at a cut: a prefix or suffix of 8 characters or more holds the
            // 8-character one (canaries are ASCII). Two patterns, not one per length: this
            // process's size is inherited by the children other tests measure (ru_maxrss).
            patterns.push(s[..8].to_string());
            labels.push(format!("an 8-character prefix of {s:?}"));
            patterns.push(s[s.len() - 8..].to_string());
            labels.push(format!("an 8-character suffix of {s:?}"));
        }
        Detector {
            matcher: AhoCorasick::new(&patterns).expect("automaton"),
            labels,
        }
    }

    fn leaks(&self, place: &str, text: &[u8]) -> Vec<String> {
        self.matcher
            .find_iter(text)
            .take(3)
            .map(|m| {
                let around = &text[m.start().saturating_sub(40)..(m.end() + 40).min(text.len())];
                format!(
                    "{place}: {} in {:?}",
                    self.labels[m.pattern().as_usize()],
                    String::from_utf8_lossy(around)
                )
            })
            .collect()
    }
}

fn lane(echo: &str) -> String {
    format!(
        r#"let kinds = ["TOKEN", "SECRET", "KEY"];
for chunk in 0..{checks} {{
    required(`canary-${{chunk}}`, #{{ timeout: "60s" }}, || {{
        let last = ();
        for i in (chunk * {per})..((chunk + 1) * {per}) {{
            let s = env(`CANARY_${{i}}_${{kinds[i % 3]}}`);
            // Reflected in the body and in x-echo-* response headers.
            let r = http::post(`{echo}/echo?q=${{s}}`, #{{ headers: #{{ "x-canary": s }}, json: #{{ s: s }} }});
            // Reflected through a redirect's location.
            let r2 = http::get(`{echo}/redirect?to=/landing%3Fc%3D${{s}}`, #{{ follow_redirects: true }});
            if i % 10 == 0 {{ print(`canary ${{s}}`); warn(`saw ${{s}}`); evidence(`c${{i}}`, r.body); }}
            last = r;
            assert_status(r2, 200);
        }}
        // A failed assertion whose expected and actual values hold canaries.
        assert_eq(last.body, env(`CANARY_${{chunk}}_${{kinds[chunk % 3]}}`), "the echo is the canary");
    }});
}}
// Cuts (issue 13): the HAR keeps 1 MiB of a body, assert_contains quotes 120 characters; a
// canary straddles each cut.
required("canary-cuts", #{{ timeout: "60s" }}, || {{
    let s = env("CANARY_0_TOKEN");
    let pad = "p";
    while pad.len() < 1048576 {{ pad += pad; }}
    let body = pad.sub_string(0, 1048576 - 12) + s + pad.sub_string(0, 100);
    let r = http::post(`{echo}/echo`, #{{ body: body }});
    assert_status(r, 200);
    assert_contains(pad.sub_string(0, 100) + s, "never-there", "the excerpt is cut mid-canary");
}});
for t in targets() {{
    required(`canary-target-${{t.name}}`, || {{
        let r = http::get(`${{t.control_url}}/echo`, #{{ bearer: t.token }});
        assert_status(r, 200);
        throw `target token ${{t.token}} in a thrown error`;
    }});
}}
"#,
        checks = CANARIES / PER_CHECK,
        per = PER_CHECK,
    )
}

#[test]
fn a_thousand_canaries_never_reach_any_output_in_any_form() {
    let mut rng = rand::thread_rng();
    let secrets: Vec<String> = (0..CANARIES + 2).map(|_| canary(&mut rng)).collect();
    let echo = FaultServer::start(Behaviour::Echo);
    let sb = Sandbox::new();
    sb.write("canaries.rhai", &lane(&echo.url()));
    let out = sb.out("evidence");
    let mut cmd = sb
        .cmd()
        .arg("canaries.rhai")
        .out(&out)
        .timeout(Duration::from_secs(300))
        .env("STAGING_CONTROL_BASE_URL", echo.url())
        .env("PROD_CONTROL_BASE_URL", echo.url())
        .env("STAGING_CONTROL_ACCESS_TOKEN", &secrets[CANARIES])
        .env("PROD_CONTROL_ACCESS_TOKEN", &secrets[CANARIES + 1]);
    for (i, s) in secrets.iter().take(CANARIES).enumerate() {
        cmd = cmd.env(&format!("CANARY_{i}_{}", KINDS[i % 3]), s);
    }
    let run = cmd.run();
    run.expect_code(1);

    // The canaries really went out and came back (otherwise the test proves nothing).
    let requests = echo.requests();
    assert!(
        requests.len() >= 2 * CANARIES,
        "only {} requests",
        requests.len()
    );
    let reflected = secrets
        .iter()
        .take(CANARIES)
        .filter(|s| {
            let encoded = common::secret_forms(s)[1].1.clone();
            requests
                .iter()
                .any(|r| r.contains(s.as_str()) || r.contains(encoded.as_str()))
        })
        .count();
    assert!(
        reflected >= CANARIES * 9 / 10,
        "only {reflected} canaries reached the echo server"
    );
    let ev = sb.evidence("evidence");
    let log0 = ev.read("logs/canary-0.log");
    assert!(log0.contains("[REDACTED]"), "nothing was redacted:\n{log0}");

    let detector = Detector::new(&secrets);
    let mut leaks = detector.leaks("stdout", run.stdout.as_bytes());
    leaks.extend(detector.leaks("stderr", run.stderr.as_bytes()));
    let files = ev.files();
    for file in &files {
        let bytes = std::fs::read(ev.dir.join(file)).expect("read evidence file");
        leaks.extend(detector.leaks(file, &bytes));
    }
    eprintln!(
        "{} canaries planted, {} requests reflected them, {} evidence files scanned, run took {:?}",
        secrets.len(),
        requests.len(),
        files.len(),
        run.elapsed
    );
    assert!(
        leaks.is_empty(),
        "{} leaks:\n{}",
        leaks.len(),
        leaks.join("\n")
    );
}

/// The REPL: a piped session reading canaries and sending them to the echo server; neither
/// its output nor the history file holds one.
#[test]
fn repl_output_and_history_hold_no_canary() {
    let mut rng = rand::thread_rng();
    let secrets: Vec<String> = (0..20).map(|_| canary(&mut rng)).collect();
    let echo = FaultServer::start(Behaviour::Echo);
    let sb = Sandbox::new();
    let state = sb.path().join("state");
    let mut input = String::new();
    for i in 0..secrets.len() {
        let var = format!("CANARY_{i}_{}", KINDS[i % 3]);
        input.push_str(&format!("let s{i} = env(\"{var}\");\ns{i}\n"));
        input.push_str(&format!(
            "http::get(`{}/echo?q=${{s{i}}}`, #{{ headers: #{{ \"x-c\": s{i} }} }}).body\n",
            echo.url()
        ));
    }
    let mut cmd = sb
        .cmd()
        .arg("repl")
        .env("XDG_STATE_HOME", &state)
        .stdin(&input);
    for (i, s) in secrets.iter().enumerate() {
        cmd = cmd.env(&format!("CANARY_{i}_{}", KINDS[i % 3]), s);
    }
    let run = cmd.run();
    assert!(
        !echo.requests().is_empty(),
        "no request reached the echo server"
    );
    let detector = Detector::new(&secrets);
    let mut leaks = detector.leaks("repl stdout", run.stdout.as_bytes());
    leaks.extend(detector.leaks("repl stderr", run.stderr.as_bytes()));
    if let Ok(history) = std::fs::read(state.join("oa-validate/history")) {
        leaks.extend(detector.leaks("repl history", &history));
    }
    assert!(run.stdout.contains("[REDACTED]"), "{}", run.stdout);
    assert!(leaks.is_empty(), "{}", leaks.join("\n"));
}

/// Decision: a secret-named variable (`*_TOKEN`, `*_SECRET`, `*_KEY`, ...) shorter than 8
/// characters is a configuration error where a lane reads it (not for every variable of the
/// environment: a machine's unrelated `*KEY*` variables must not stop a release). Target
/// tokens are checked at start-up (exit 2, tests/it/secrets.rs).
#[test]
fn a_short_secret_named_variable_is_a_configuration_error_where_it_is_read() {
    let sb = Sandbox::new();
    sb.write(
        "short.rhai",
        "required(\"reads-short\", || { let k = env(\"SHORT_API_KEY\"); print(k); assert(true, \"x\"); });\n",
    );
    let run = sb
        .cmd()
        .arg("short.rhai")
        .out(&sb.out("evidence"))
        .env("SHORT_API_KEY", "abc12")
        .run();
    run.expect_code(1)
        .stdout_has("SHORT_API_KEY is named like a secret but shorter than 8 characters");
    assert!(
        !sb.evidence("evidence")
            .read("logs/reads-short.log")
            .contains("abc12")
    );
}
