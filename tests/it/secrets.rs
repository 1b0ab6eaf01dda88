//! Secrets never reach any output, and a target's token only goes to that target's origin.

use crate::common;

use crate::common::{Responder, Sandbox, assert_no_secret};

/// 40 characters shaped like a Laravel Sanctum token with base64 characters: `|`, `+`, `/`
/// and `=` make its percent-encoded and base64 forms differ from the raw one.
const STAGING_TOKEN: &str = "42|oAx7+Qm/9Zk=Lp-Tr_8Vw.Yb~3Nc0dEfGhIjK";
const PROD_TOKEN: &str = "prd_0123456789abcdefghijABCDEFGHIJ-_.~xy";
/// 40 characters with a quote and a backslash: its JSON-escaped form and the form a URL
/// gives it (`"` becomes `%22`) both differ from the raw one.
const ODD_TOKEN: &str = "tok_0123456789+/=~-.ABCDEFGH\"ij\\KLMNOPQR";
const API_KEY: &str = "svc-api-key-value-0123456789";
const SCRIPT_SECRET: &str = "script-marked-staging-0123456789abcdef";

/// Runs the leak lane (tests/fixtures/secrets/leak.rhai) and the real control lane against
/// the sim with `staging_token`; checks the leaking checks really ran.
fn run_leak_lane(sb: &Sandbox, staging_token: &str) -> (common::Run, common::Evidence) {
    sb.write("leak.rhai", include_str!("../fixtures/secrets/leak.rhai"));
    sb.copy_from_repo("lanes/control.rhai", "lanes/control.rhai");
    let out = sb.out("evidence");
    let run = sb
        .cmd()
        .args(["--sim", "leak.rhai", "lanes/control.rhai"])
        .out(&out)
        .env("STAGING_CONTROL_ACCESS_TOKEN", staging_token)
        .env("PROD_CONTROL_ACCESS_TOKEN", PROD_TOKEN)
        .env("SERVICE_API_KEY", API_KEY)
        .run();
    run.expect_code(1);

    // The leaking checks really ran (otherwise the test would prove nothing).
    let ev = sb.evidence("evidence");
    let expected = [
        ("leak-print", "passed"),
        ("leak-warn", "passed"),
        ("leak-evidence", "passed"),
        ("leak-assert", "failed"),
        ("leak-assert-eq", "failed"),
        ("leak-header", "passed"),
        ("leak-query", "passed"),
        ("leak-echoed-body", "passed"),
        ("leak-throw", "failed"),
        ("leak-script-secret", "passed"),
        ("leak-skip", "skipped"),
        ("control-staging-health", "passed"),
        ("control-staging-smoke", "passed"),
        ("control-staging-static-host", "passed"),
        ("control-staging-khala-sync-token", "passed"),
        ("control-prod-health", "passed"),
        ("control-prod-smoke", "passed"),
        ("control-prod-static-host", "passed"),
        ("control-prod-khala-sync-token", "passed"),
    ]
    .map(|(id, status)| (id.to_string(), status.to_string()));
    assert_eq!(ev.statuses(), expected, "{}", run.stdout);
    run.stdout_has("warning: ");
    let har: serde_json::Value =
        serde_json::from_str(&ev.read("http/leak-header.har")).expect("HAR parses");
    let headers = har["log"]["entries"][0]["request"]["headers"].to_string();
    assert!(
        headers.contains("x-echo"),
        "the x-echo header is recorded: {headers}"
    );
    for artifact in [
        "artifacts/leak-evidence/tok",
        "artifacts/leak-evidence/tok.json",
        "artifacts/leak-echoed-body/response.json",
    ] {
        assert!(!ev.read(artifact).is_empty(), "{artifact} was written");
    }
    (run, ev)
}

/// None of `secrets` in stdout, stderr, any evidence file name or any evidence file.
#[track_caller]
fn assert_nothing_leaks(run: &common::Run, ev: &common::Evidence, secrets: &[&str]) {
    for secret in secrets {
        assert_no_secret("stdout", run.stdout.as_bytes(), secret);
        assert_no_secret("stderr", run.stderr.as_bytes(), secret);
        for file in ev.files() {
            assert_no_secret(
                &format!("the evidence file name {file}"),
                file.as_bytes(),
                secret,
            );
            let bytes = std::fs::read(ev.dir.join(&file)).expect("read evidence file");
            assert_no_secret(&format!("evidence file {file}"), &bytes, secret);
        }
    }
}

#[test]
fn no_secret_reaches_the_terminal_or_the_evidence() {
    assert_eq!(STAGING_TOKEN.len(), 40);
    let sb = Sandbox::new();
    let (run, ev) = run_leak_lane(&sb, STAGING_TOKEN);
    assert_nothing_leaks(
        &run,
        &ev,
        &[STAGING_TOKEN, PROD_TOKEN, API_KEY, SCRIPT_SECRET],
    );
}

#[test]
fn a_token_with_a_quote_is_redacted_from_urls_too() {
    assert_eq!(ODD_TOKEN.len(), 40);
    let sb = Sandbox::new();
    let (run, ev) = run_leak_lane(&sb, ODD_TOKEN);
    assert_nothing_leaks(&run, &ev, &[ODD_TOKEN, PROD_TOKEN, API_KEY, SCRIPT_SECRET]);
}

#[test]
fn a_token_in_a_lane_error_is_redacted() {
    let sb = Sandbox::new();
    sb.write(
        "plan.rhai",
        "let t = targets()[0];\nthrow \"plan \" + t.token;\n",
    );
    let run = sb
        .cmd()
        .args(["--sim", "plan.rhai"])
        .env("STAGING_CONTROL_ACCESS_TOKEN", STAGING_TOKEN)
        .run();
    run.expect_code(3).stderr_has("plan.rhai:2:1");
    assert_no_secret("stderr", run.stderr.as_bytes(), STAGING_TOKEN);
    assert_no_secret("stdout", run.stdout.as_bytes(), STAGING_TOKEN);
}

#[test]
fn a_check_id_holding_a_token_is_refused_at_plan_time() {
    // Check ids name evidence files, which redaction cannot rename: an id built from a
    // token is a lane error, and the token appears nowhere.
    let sb = Sandbox::new();
    sb.write(
        "id.rhai",
        r#"let t = targets().filter(|x| x.name == "staging")[0];
required(`probe-${t.token}`, #{ target: t }, || {
    let r = http::get(`${t.control_url}/readyz`);
    assert_status(r, 200);
});
"#,
    );
    let token = "idtok0123456789abcdefghij0123456789ABCD";
    let out = sb.out("evidence");
    let run = sb
        .cmd()
        .args(["--sim", "id.rhai"])
        .out(&out)
        .env("STAGING_CONTROL_ACCESS_TOKEN", token)
        .run();
    run.expect_code(3)
        .stderr_has("id.rhai:2:1")
        .stderr_has("must not contain a secret");
    assert_no_secret("stdout", run.stdout.as_bytes(), token);
    assert_no_secret("stderr", run.stderr.as_bytes(), token);
    assert!(!out.exists(), "nothing runs after a lane error");
}

#[test]
fn a_token_shorter_than_8_characters_is_a_configuration_error() {
    let sb = Sandbox::new();
    let out = sb.out("evidence");
    let run = sb
        .cmd_in_repo()
        .arg("--sim")
        .out(&out)
        .env("STAGING_CONTROL_ACCESS_TOKEN", "short7c")
        .run();
    run.expect_code(2)
        .stderr_has("STAGING_CONTROL_ACCESS_TOKEN")
        .stderr_has("shorter than 8");
    assert!(!out.exists(), "a refused run created its evidence folder");
}

/// A target's token goes only to that target's own origins: never to another loopback
/// origin (as bearer, header, query or body) and never to the other target.
#[test]
fn a_token_is_refused_for_any_origin_but_its_targets() {
    let sb = Sandbox::new();
    let other = Responder::new();
    let url = other.url();
    sb.write(
        "origin.rhai",
        &format!(
            r#"let staging = targets().filter(|x| x.name == "staging")[0];
let prod = targets().filter(|x| x.name == "prod")[0];

required("bearer-elsewhere", || {{
    let r = http::get("{url}/bearer", #{{ bearer: staging.token }});
    assert_status(r, 200);
}});
required("header-elsewhere", || {{
    let r = http::get("{url}/header", #{{ headers: #{{ "x-api-token": staging.token }} }});
    assert_status(r, 200);
}});
required("query-elsewhere", || {{
    let r = http::get(`{url}/query?t=${{staging.token}}`);
    assert_status(r, 200);
}});
required("json-elsewhere", || {{
    let r = http::post("{url}/json", #{{ json: #{{ token: staging.token }} }});
    assert_status(r, 200);
}});
required("form-elsewhere", || {{
    let r = http::post("{url}/form", #{{ form: #{{ token: staging.token }} }});
    assert_status(r, 200);
}});
required("prod-token-to-staging", || {{
    let r = http::get(`${{staging.control_url}}/api/v1/control/status`, #{{ bearer: prod.token }});
    assert_status(r, 200);
}});
required("no-token-elsewhere", || {{
    let r = http::get("{url}/plain");
    assert_status(r, 200);
}});
"#
        ),
    );
    let out = sb.out("evidence");
    let run = sb
        .cmd()
        .args(["--sim", "origin.rhai"])
        .out(&out)
        .env("STAGING_CONTROL_ACCESS_TOKEN", STAGING_TOKEN)
        .env("PROD_CONTROL_ACCESS_TOKEN", PROD_TOKEN)
        .run();
    run.expect_code(1);

    let ev = sb.evidence("evidence");
    for (id, owner) in [
        ("bearer-elsewhere", "staging"),
        ("header-elsewhere", "staging"),
        ("query-elsewhere", "staging"),
        ("json-elsewhere", "staging"),
        ("form-elsewhere", "staging"),
        ("prod-token-to-staging", "prod"),
    ] {
        let check = ev.json_check(id);
        assert_eq!(check["status"], "errored", "{check:#}");
        let reason = check["reason"].as_str().unwrap_or_default();
        assert!(
            reason.contains(&format!("refusing to send the {owner} token")),
            "{id}: {reason}"
        );
        assert!(reason.starts_with("origin.rhai:"), "{id}: {reason}");
    }
    // The listener works: the request without a token arrived, and it is the only one.
    assert_eq!(ev.json_check("no-token-elsewhere")["status"], "passed");
    let requests = other.requests();
    assert_eq!(requests.len(), 1, "{requests:#?}");
    assert!(requests[0].starts_with("GET /plain "), "{requests:#?}");
    for request in &requests {
        assert!(
            !request.to_ascii_lowercase().contains("authorization:"),
            "{request}"
        );
        for token in [STAGING_TOKEN, PROD_TOKEN] {
            assert_no_secret("a request to the other origin", request.as_bytes(), token);
        }
    }
}

#[test]
fn a_token_with_a_quote_is_refused_in_a_query_to_another_origin() {
    let sb = Sandbox::new();
    let other = Responder::new();
    let url = other.url();
    sb.write(
        "origin.rhai",
        &format!(
            r#"let staging = targets().filter(|x| x.name == "staging")[0];
required("query-elsewhere", || {{
    let r = http::get(`{url}/query?t=${{staging.token}}`);
    assert_status(r, 200);
}});
"#
        ),
    );
    let out = sb.out("evidence");
    let run = sb
        .cmd()
        .args(["--sim", "origin.rhai"])
        .out(&out)
        .env("STAGING_CONTROL_ACCESS_TOKEN", ODD_TOKEN)
        .run();
    for request in other.requests() {
        assert_no_secret(
            "a request to the other origin",
            request.as_bytes(),
            ODD_TOKEN,
        );
    }
    let check = sb.evidence("evidence").json_check("query-elsewhere");
    assert_eq!(check["status"], "errored", "{check:#}");
    run.expect_code(1);
}
