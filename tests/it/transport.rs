//! The transport as users reach their services: through a forward proxy named by the
//! environment (https by CONNECT, `NO_PROXY`, loopback direct, a credential never shown to a
//! proxy in clear), trusting a private CA given with `--cacert` or `OA_CA_BUNDLE`, and
//! speaking HTTP/2 when the server offers it by ALPN, recorded as such in the HAR. Every
//! server and the proxy are on 127.0.0.1 (`common::transport_servers`).

use crate::common::Sandbox;
use crate::common::transport_servers::{ConnectProxy, TestCa, TestServer, UNRESOLVABLE_HOST};
use serde_json::Value;

/// A bearer value a check sends in `authorization`: it must never reach a proxy.
const BEARER: &str = "Bearer proxy-canary-7f3a9c1e5b2d";

/// A lane of one `http::get` per (check id, URL), each asserting a 200.
fn lane(checks: &[(&str, String)], with_credential: bool) -> String {
    let options = if with_credential {
        format!(r#", #{{ headers: #{{ authorization: "{BEARER}" }} }}"#)
    } else {
        String::new()
    };
    checks
        .iter()
        .map(|(id, url)| {
            format!(
                "required(\"{id}\", || {{ let r = http::get(\"{url}\"{options}); assert_status(r, 200); }});\n"
            )
        })
        .collect()
}

/// The first response's `httpVersion` in check `id`'s HAR.
fn har_version(sb: &Sandbox, evidence: &str, id: &str) -> String {
    let har: Value = serde_json::from_str(&sb.evidence(evidence).read(&format!("http/{id}.har")))
        .expect("HAR is JSON");
    har["log"]["entries"][0]["response"]["httpVersion"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

fn reason(sb: &Sandbox, evidence: &str, id: &str) -> String {
    let check = sb.evidence(evidence).json_check(id);
    check["reason"].as_str().unwrap_or_default().to_string()
}

#[test]
fn https_goes_through_the_proxy_by_connect_and_loopback_goes_direct() {
    let ca = TestCa::new();
    let server = TestServer::https(&ca, true);
    let proxy = ConnectProxy::start(server.addr);
    let sb = Sandbox::new();
    ca.write_ca(&sb.path().join("ca.pem"));
    sb.write(
        "proxied.rhai",
        &lane(
            &[
                (
                    "via-proxy",
                    format!("{}/tunnel", server.url_for(UNRESOLVABLE_HOST)),
                ),
                ("loopback-direct", format!("{}/direct", server.url())),
            ],
            true,
        ),
    );
    let run = sb
        .cmd()
        .arg("proxied.rhai")
        .arg("--cacert")
        .arg("ca.pem")
        .env("HTTPS_PROXY", proxy.url())
        .out(&sb.out("ev"))
        .run();
    run.expect_code(0);
    let seen = proxy.seen();
    let expected = format!(
        "CONNECT {UNRESOLVABLE_HOST}:{} HTTP/1.1",
        server.addr.port()
    );
    assert_eq!(seen.len(), 1, "one tunnel, nothing for loopback: {seen:?}");
    assert!(seen[0].starts_with(&expected), "{seen:?}");
    // The credential went inside the tunnel, encrypted: the proxy never read it.
    assert!(
        !seen[0].to_lowercase().contains("authorization") && !seen[0].contains("canary"),
        "{seen:?}"
    );
    // HTTP/2 through the tunnel too, as the HAR says.
    assert_eq!(har_version(&sb, "ev", "via-proxy"), "HTTP/2.0");
}

#[test]
fn no_proxy_sends_its_hosts_direct_and_the_rest_through_the_proxy() {
    let ca = TestCa::new();
    let server = TestServer::https(&ca, false);
    let proxy = ConnectProxy::start(server.addr);
    let sb = Sandbox::new();
    ca.write_ca(&sb.path().join("ca.pem"));
    let port = server.addr.port();
    sb.write(
        "no-proxy.rhai",
        &lane(
            &[
                ("proxied", format!("https://{UNRESOLVABLE_HOST}:{port}/a")),
                // Under a NO_PROXY domain: looked up directly, which fails (it resolves nowhere).
                (
                    "bypassed",
                    format!("https://x.api.oa-test.invalid:{port}/b"),
                ),
            ],
            false,
        ),
    );
    let run = sb
        .cmd()
        .arg("no-proxy.rhai")
        .env("OA_CA_BUNDLE", sb.path().join("ca.pem"))
        .env("https_proxy", proxy.url())
        .env("no_proxy", "localhost, .api.oa-test.invalid")
        .out(&sb.out("ev"))
        .run();
    run.expect_code(1);
    let seen = proxy.seen();
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert!(seen[0].starts_with(&format!("CONNECT {UNRESOLVABLE_HOST}:{port} ")));
    let ev = sb.evidence("ev");
    assert_eq!(ev.json_check("proxied")["status"], "passed");
    assert_eq!(ev.json_check("bypassed")["status"], "errored");
    let why = reason(&sb, "ev", "bypassed").to_lowercase();
    assert!(
        why.contains("dns error") || why.contains("failed to lookup"),
        "looked up directly, not sent to the proxy: {why}"
    );
}

#[test]
fn a_credential_never_goes_in_clear_through_a_proxy() {
    let server = TestServer::http();
    let proxy = ConnectProxy::start(server.addr);
    let url = format!("{}/plain", server.url_for(UNRESOLVABLE_HOST));
    let sb = Sandbox::new();
    sb.write(
        "secret.rhai",
        &lane(&[("secret-via-proxy", url.clone())], true),
    );
    sb.write(
        "plain.rhai",
        &lane(&[("plain-via-proxy", url.clone())], false),
    );

    // With a credential: refused before anything is sent, naming the variable.
    let run = sb
        .cmd()
        .arg("secret.rhai")
        .env("http_proxy", proxy.url())
        .out(&sb.out("secret"))
        .run();
    run.expect_code(1);
    let why = reason(&sb, "secret", "secret-via-proxy");
    assert!(
        why.contains("in clear") && why.contains("http_proxy"),
        "names the fault and the variable: {why}"
    );
    assert!(proxy.seen().is_empty(), "{:?}", proxy.seen());

    // Without one: the proxy forwards the plain request (the setting does work).
    let run = sb
        .cmd()
        .arg("plain.rhai")
        .env("http_proxy", proxy.url())
        .out(&sb.out("plain"))
        .run();
    run.expect_code(0);
    let seen = proxy.seen();
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert!(
        seen[0].starts_with(&format!("GET {url} HTTP/1.1")),
        "{seen:?}"
    );

    // Upper-case HTTP_PROXY is ignored, as curl ignores it (httpoxy): the lookup is direct.
    let run = sb
        .cmd()
        .arg("plain.rhai")
        .env("HTTP_PROXY", proxy.url())
        .out(&sb.out("upper"))
        .run();
    run.expect_code(1);
    assert_eq!(
        proxy.seen().len(),
        1,
        "HTTP_PROXY was used: {:?}",
        proxy.seen()
    );
}

#[test]
fn a_private_ca_is_trusted_with_cacert_and_http2_is_negotiated() {
    let ca = TestCa::new();
    let h2 = TestServer::https(&ca, true);
    let h1 = TestServer::https(&ca, false);
    let sb = Sandbox::new();
    ca.write_ca(&sb.path().join("ca.pem"));
    sb.write(
        "tls.rhai",
        &lane(
            &[
                ("h2-server", format!("{}/", h2.url())),
                ("h1-server", format!("{}/", h1.url())),
            ],
            false,
        ),
    );

    // Without the CA: refused, and the reason says how to trust it.
    let run = sb.cmd().arg("tls.rhai").out(&sb.out("untrusted")).run();
    run.expect_code(1);
    let why = reason(&sb, "untrusted", "h2-server");
    assert!(
        why.contains("certificate") && why.contains("--cacert"),
        "{why}"
    );

    let run = sb
        .cmd()
        .arg("tls.rhai")
        .arg("--cacert")
        .arg("ca.pem")
        .out(&sb.out("trusted"))
        .run();
    run.expect_code(0);
    assert_eq!(har_version(&sb, "trusted", "h2-server"), "HTTP/2.0");
    assert_eq!(har_version(&sb, "trusted", "h1-server"), "HTTP/1.1");
    // A new connection's opening (TCP and the TLS handshake) is timed apart from the wait.
    let har: Value =
        serde_json::from_str(&sb.evidence("trusted").read("http/h1-server.har")).expect("HAR");
    let connect = har["log"]["entries"][0]["timings"]["connect"].as_f64();
    assert!(
        connect.is_some_and(|ms| ms > 0.0),
        "timings.connect {connect:?}"
    );

    // A file without a certificate is refused up front, naming it.
    sb.write("not-a-ca.pem", "hello\n");
    let run = sb
        .cmd()
        .arg("tls.rhai")
        .arg("--cacert")
        .arg("not-a-ca.pem")
        .out(&sb.out("bad-ca"))
        .run();
    assert_ne!(run.code, Some(0), "{}", run.stderr);
    run.stderr_has("not-a-ca.pem: no PEM certificate");
}
