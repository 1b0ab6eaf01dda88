//! Issue 13, findings 4–8 and 12: secrets in request headers, encoded and cut secrets,
//! screenshots, evidence names and REPL history; bad evidence names.

use crate::common::{Sandbox, assert_no_secret};
use std::collections::BTreeSet;

const STAGING_TOKEN: &str = "stg_Evid3nceNameT0ken-abcdefgh";
const PROD_TOKEN: &str = "prd_Evid3nceNameT0ken-ijklmnop";

/// Every artifact summary.json lists exists, and every file SHA256SUMS lists exists.
#[track_caller]
fn assert_lists_name_real_files(ev: &crate::common::Evidence) {
    let summary = ev.summary_json();
    for check in summary["run"]["checks"].as_array().expect("checks") {
        for artifact in check["artifacts"].as_array().into_iter().flatten() {
            let path = artifact.as_str().expect("artifact path");
            assert!(
                ev.dir.join(path).is_file(),
                "summary.json lists {path}, which does not exist"
            );
        }
    }
    let sums = ev.read("SHA256SUMS");
    for line in sums.lines() {
        let (_, path) = line.split_once("  ").expect("a SHA256SUMS line");
        assert!(
            ev.dir.join(path).is_file(),
            "SHA256SUMS lists {path}, which does not exist"
        );
    }
}

/// Finding 7: a name holding a secret is refused at the `evidence()` call; one that becomes a
/// secret later is not written; the lists name only files that exist.
#[test]
fn an_evidence_name_holding_a_secret_is_refused_and_the_lists_name_only_real_files() {
    let sb = Sandbox::new();
    sb.write(
        "names.rhai",
        r#"required("name-with-token", || {
    let t = targets()[0];
    evidence(`resp-${t.token}.json`, #{ ok: true });
    assert(true, "saved");
});
required("name-secret-later", || {
    let k = "later-marked-secret-0123456789";
    evidence(`a-${k}.txt`, "body");
    secret(k);
    assert(true, "saved");
});
required("name-plain", || {
    evidence("plain.txt", "body");
    assert(true, "saved");
});
"#,
    );
    let out = sb.out("evidence");
    let run = sb
        .cmd()
        .arg("names.rhai")
        .out(&out)
        .env("STAGING_CONTROL_ACCESS_TOKEN", STAGING_TOKEN)
        .env("PROD_CONTROL_ACCESS_TOKEN", PROD_TOKEN)
        .run();
    run.expect_code(1);
    let ev = sb.evidence("evidence");
    let check = ev.json_check("name-with-token");
    assert_eq!(check["status"], "errored", "{}", run.stdout);
    let reason = check["reason"].as_str().unwrap_or_default();
    assert!(reason.contains("holds a secret"), "{reason}");
    assert_eq!(ev.json_check("name-plain")["status"], "passed");
    let later = ev.read("logs/name-secret-later.log");
    assert!(
        later.contains("not written: its name holds a secret"),
        "{later}"
    );
    assert_lists_name_real_files(&ev);
    assert!(ev.dir.join("artifacts/name-plain/plain.txt").is_file());
    for secret in [STAGING_TOKEN, "later-marked-secret-0123456789"] {
        for file in ev.files() {
            assert_no_secret(&format!("file name {file}"), file.as_bytes(), secret);
        }
        assert_no_secret("SHA256SUMS", ev.read("SHA256SUMS").as_bytes(), secret);
    }
}

/// Finding 12: names too long for the file system or holding control characters are refused
/// at the call; the check fails with a clear message; the run ends with a verdict and
/// SHA256SUMS.
#[test]
fn a_bad_evidence_name_fails_its_check_and_the_run_still_ends_with_a_verdict() {
    let sb = Sandbox::new();
    let long = "n".repeat(300);
    sb.write(
        "bad.rhai",
        &format!(
            r#"required("name-too-long", || {{ evidence("{long}", "x"); assert(true, "saved"); }});
required("name-nul", || {{ evidence("a\x00b", "x"); assert(true, "saved"); }});
required("name-newline", || {{ evidence("a\nb", "x"); assert(true, "saved"); }});
required("name-escape", || {{ evidence("a\x1bb", "x"); assert(true, "saved"); }});
required("after", || {{ evidence("fine.txt", "x"); assert(true, "saved"); }});
"#
        ),
    );
    let out = sb.out("evidence");
    let run = sb.cmd().arg("bad.rhai").out(&out).run();
    run.expect_code(1);
    assert_eq!(run.verdict_line(), "Verdict: NO-GO", "{}", run.stderr);
    let ev = sb.evidence("evidence");
    for (id, why) in [
        ("name-too-long", "too long"),
        ("name-nul", "control character"),
        ("name-newline", "control character"),
        ("name-escape", "control character"),
    ] {
        let check = ev.json_check(id);
        assert_eq!(check["status"], "errored", "{id}: {}", run.stdout);
        let reason = check["reason"].as_str().unwrap_or_default();
        assert!(
            reason.contains("evidence name") && reason.contains(why),
            "{id}: {reason}"
        );
    }
    assert_eq!(ev.json_check("after")["status"], "passed");
    assert_lists_name_real_files(&ev);
    let listed: BTreeSet<String> = ev
        .read("SHA256SUMS")
        .lines()
        .filter_map(|l| l.split_once("  ").map(|(_, p)| p.to_string()))
        .collect();
    assert!(listed.contains("artifacts/after/fine.txt"), "{listed:?}");
}

/// Finding 4: a known secret in any request header (a target-named variable, another
/// secret-named variable, a `secret()` value) never follows a redirect to another origin; a
/// target-named variable is refused outside its target's origins.
#[test]
fn a_secret_in_any_header_is_bound_to_its_origins_and_dropped_on_a_cross_origin_redirect() {
    use crate::common::fault_server::{Behaviour, FaultServer};
    const RUNTIME_TOKEN: &str = "stg-runtime-access-0123456789abcdef";
    const SERVICE_KEY: &str = "svc-unbound-api-key-0123456789";
    const SCRIPT_SECRET: &str = "script-marked-header-0123456789";
    let target = FaultServer::start(Behaviour::Echo);
    let other = FaultServer::start(Behaviour::Echo);
    let sb = Sandbox::new();
    sb.write(
        "headers.rhai",
        &format!(
            r#"let hop = `/redirect?to={other}/landing`;
required("redirect-target-variable", || {{
    let r = http::get(`${{targets()[0].control_url}}${{hop}}`, #{{ follow_redirects: true, headers: #{{ "x-api-key": env("STAGING_RUNTIME_ACCESS_TOKEN") }} }});
    assert_status(r, 200);
}});
required("redirect-other-variable", || {{
    let r = http::get(`${{targets()[0].control_url}}${{hop}}`, #{{ follow_redirects: true, headers: #{{ "x-service": `Key ${{env("SERVICE_API_KEY")}}` }} }});
    assert_status(r, 200);
}});
required("redirect-script-secret", || {{
    let s = secret("{SCRIPT_SECRET}");
    let r = http::get(`${{targets()[0].control_url}}${{hop}}`, #{{ follow_redirects: true, headers: #{{ "x-session": s }} }});
    assert_status(r, 200);
}});
required("target-variable-elsewhere", || {{
    let r = http::get(`{other}/direct`, #{{ headers: #{{ "x-api-key": env("STAGING_RUNTIME_ACCESS_TOKEN") }} }});
    assert_status(r, 200);
}});
"#,
            other = other.url()
        ),
    );
    let out = sb.out("evidence");
    let run = sb
        .cmd()
        .arg("headers.rhai")
        .out(&out)
        .env("STAGING_CONTROL_BASE_URL", target.url())
        .env("PROD_CONTROL_BASE_URL", target.url())
        .env("STAGING_CONTROL_ACCESS_TOKEN", STAGING_TOKEN)
        .env("PROD_CONTROL_ACCESS_TOKEN", PROD_TOKEN)
        .env("STAGING_RUNTIME_ACCESS_TOKEN", RUNTIME_TOKEN)
        .env("SERVICE_API_KEY", SERVICE_KEY)
        .run();
    run.expect_code(1);
    let ev = sb.evidence("evidence");
    for id in [
        "redirect-target-variable",
        "redirect-other-variable",
        "redirect-script-secret",
    ] {
        assert_eq!(
            ev.json_check(id)["status"],
            "passed",
            "{id}: {}",
            run.stdout
        );
        let log = ev.read(&format!("logs/{id}.log"));
        assert!(log.contains("credentials dropped ("), "{id}: {log}");
    }
    let refused = ev.json_check("target-variable-elsewhere");
    assert_eq!(refused["status"], "errored", "{}", run.stdout);
    let reason = refused["reason"].as_str().unwrap_or_default();
    assert!(
        reason.contains("refusing to send STAGING_RUNTIME_ACCESS_TOKEN")
            && reason.contains("staging target's own origins"),
        "{reason}"
    );
    // The secrets reached the target (the test proves something), never the other origin.
    let sent = target.requests().join("\n");
    let elsewhere = other.requests().join("\n");
    assert_eq!(other.requests().len(), 3, "{elsewhere}");
    for secret in [RUNTIME_TOKEN, SERVICE_KEY, SCRIPT_SECRET] {
        assert!(sent.contains(secret), "{secret} was not sent to the target");
        assert_no_secret("the other origin's requests", elsewhere.as_bytes(), secret);
    }
}

/// Finding 5: a server reflecting the token as PHP, Gson and .NET encode JSON, and in
/// lower-case percent-encoding; the token straddling the `assert_contains` excerpt (120
/// characters) and the HAR's 1 MiB body cut. No form and no remnant reaches any output.
#[test]
fn encoded_and_cut_secrets_never_reach_any_output() {
    use crate::common::fault_server::{Behaviour, FaultServer};
    let echo = FaultServer::start(Behaviour::Echo);
    let sb = Sandbox::new();
    sb.write(
        "encoded.rhai",
        &format!(
            r#"required("reflected", || {{
    let t = targets()[0];
    let r = http::get(`{echo}/echo?q=${{t.token}}`, #{{ headers: #{{ "x-t": t.token }} }});
    assert_status(r, 200);
    evidence("reflected.json", r.body);
    print(r.body);
}});
required("cut-excerpt", || {{
    let t = targets()[0];
    let pad = "0123456789";
    pad = pad + pad + pad + pad + pad + pad + pad + pad + pad + pad;
    assert_contains(pad + t.token + " and after", "never-there", "cut mid-token");
}});
required("cut-har", #{{ timeout: "60s" }}, || {{
    let t = targets()[0];
    let pad = "p";
    while pad.len() < 1048576 {{ pad += pad; }}
    let r = http::post(`{echo}/echo`, #{{ body: pad.sub_string(0, 1048576 - 12) + t.token + "tail" }});
    assert_status(r, 200);
}});
"#,
            echo = echo.url()
        ),
    );
    // `/`, `+`, `=` and `~`: characters each encoder writes in its own way.
    let token = "stg/Enc0ded+T0ken=abc~defghij";
    let out = sb.out("evidence");
    let run = sb
        .cmd()
        .arg("encoded.rhai")
        .out(&out)
        .env("STAGING_CONTROL_BASE_URL", echo.url())
        .env("PROD_CONTROL_BASE_URL", echo.url())
        .env("STAGING_CONTROL_ACCESS_TOKEN", token)
        .env("PROD_CONTROL_ACCESS_TOKEN", PROD_TOKEN)
        .run();
    run.expect_code(1);
    let ev = sb.evidence("evidence");
    assert_eq!(
        ev.json_check("reflected")["status"],
        "passed",
        "{}",
        run.stdout
    );
    assert_eq!(ev.json_check("cut-excerpt")["status"], "failed");
    assert_eq!(ev.json_check("cut-har")["status"], "passed");
    // The echo really sent the encoded forms back (the test proves something).
    let har = ev.read("http/reflected.har");
    for field in [
        "\\\"php\\\"",
        "\\\"gson\\\"",
        "\\\"dotnet\\\"",
        "\\\"percent\\\"",
    ] {
        assert!(har.contains(field), "{field} missing from the echo");
    }
    let mut places: Vec<(String, Vec<u8>)> = vec![
        ("stdout".to_string(), run.stdout.clone().into_bytes()),
        ("stderr".to_string(), run.stderr.clone().into_bytes()),
    ];
    for file in ev.files() {
        let bytes = std::fs::read(ev.dir.join(&file)).expect("read evidence file");
        places.push((file, bytes));
    }
    for (place, bytes) in &places {
        assert_no_secret(place, bytes, token);
        let text = String::from_utf8_lossy(bytes);
        // A remnant at a cut: a prefix or a suffix of 8 characters or more.
        for n in 8..token.len() {
            for piece in [&token[..n], &token[token.len() - n..]] {
                assert!(
                    !text.contains(piece),
                    "{place} holds a {n}-character piece of the token"
                );
            }
        }
    }
}

/// Finding 6, in headless Chromium: a page showing the token (text and a form value) is
/// screenshotted with those elements blanked: the PNG is byte-identical to a reference page
/// whose elements are hidden by its own CSS, and the page is restored after. A page showing
/// the token split across elements gets no screenshot. The log says which.
#[test]
fn a_page_showing_a_secret_is_screenshotted_blanked_or_not_at_all() {
    use crate::common::fault_server::{Behaviour, FaultServer};
    const TOKEN: &str = "stg_Scr33nshotT0ken-abcdefghij";
    let page = |tok: &str, field: &str, style: &str| {
        format!(
            "<!doctype html><html><body style=\"margin:20px;font:16px sans-serif\">\
             <h1>Debug</h1><p id=\"tok\"{style}>{tok}</p>\
             <input id=\"f\" value=\"{field}\"{style} size=\"40\">\
             <p>Nothing secret here, shown as usual.</p></body></html>"
        )
    };
    let html = |body: String| Behaviour::Fixed {
        status: 200,
        content_type: "text/html; charset=utf-8",
        body: body.into_bytes(),
    };
    let shows = FaultServer::start(html(page(TOKEN, TOKEN, "")));
    // Same layout; the same places hidden by the page itself, holding no secret.
    let hidden = " style=\"visibility:hidden\"";
    let reference = FaultServer::start(html(page(
        "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
        "yyyyyyyyyyyyyyyyyyyyyyyyyyyyyy",
        hidden,
    )));
    let split = FaultServer::start(html(format!(
        "<!doctype html><html><body><p><b>{}</b><i>{}</i></p></body></html>",
        &TOKEN[..15],
        &TOKEN[15..]
    )));
    let sb = Sandbox::new();
    sb.write(
        "shots.rhai",
        &format!(
            r##"required("shot-blanked", || {{
    let page = browser::open(#{{ base_url: "{shows}" }});
    page.navigate("/");
    assert(page.screenshot("page") != "", "a screenshot was taken");
    assert(page.text("#tok") == targets()[0].token, "the page is restored after it");
}});
required("shot-reference", || {{
    let page = browser::open(#{{ base_url: "{reference}" }});
    page.navigate("/");
    assert(page.screenshot("page") != "", "a screenshot was taken");
}});
required("shot-split", || {{
    let page = browser::open(#{{ base_url: "{split}" }});
    page.navigate("/");
    page.step("split", |p| {{ assert(true, "the step runs"); }});
}});
"##,
            shows = shows.url(),
            reference = reference.url(),
            split = split.url()
        ),
    );
    let out = sb.out("evidence");
    let run = sb
        .cmd()
        .arg("shots.rhai")
        .out(&out)
        .env("OA_CHROMIUM", "/usr/bin/chromium")
        .env("STAGING_CONTROL_ACCESS_TOKEN", TOKEN)
        .env("PROD_CONTROL_ACCESS_TOKEN", PROD_TOKEN)
        .timeout(std::time::Duration::from_secs(120))
        .run();
    run.expect_code(0);
    let ev = sb.evidence("evidence");
    let blanked = ev.read("logs/shot-blanked.log");
    assert!(
        blanked.contains("2 element(s) showing a secret blanked"),
        "{blanked}"
    );
    let shot = std::fs::read(ev.dir.join("artifacts/shot-blanked/01-page.png")).expect("png");
    let expected =
        std::fs::read(ev.dir.join("artifacts/shot-reference/01-page.png")).expect("reference");
    assert!(
        shot == expected,
        "the screenshot differs from the page with those elements hidden"
    );
    let split_log = ev.read("logs/shot-split.log");
    assert!(
        split_log.contains("not taken, the page shows a secret"),
        "{split_log}"
    );
    assert!(
        !ev.files()
            .iter()
            .any(|f| f.starts_with("artifacts/shot-split/") && f.ends_with(".png")),
        "{:?}",
        ev.files()
    );
}
