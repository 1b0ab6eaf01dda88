//! Network faults × HTTP-based primitives: every fault, against every primitive that talks
//! HTTP, ends its check (errored or failed, with a message naming the fault) within the
//! check's timeout plus one second; the next check still runs; the verdict is NO-GO; nothing
//! panics. Adding a primitive is one row of `PRIMITIVES`; adding a fault, one row of `FAULTS`.

use crate::common;

use crate::common::Sandbox;
use crate::common::fault_server::{Behaviour, FaultServer};
use std::time::Duration;

/// An HTTP-based primitive under test.
struct HttpPrimitive {
    name: &'static str,
    /// Rhai statements making one request to `url` through the primitive and reading the
    /// answer as JSON (so faults in the headers, the body and the JSON all surface).
    call: fn(url: &str) -> String,
    /// Environment pointing the primitive at `url`, for clients configured by endpoint
    /// variables rather than by a URL argument (Cloud Run, Logging).
    env: fn(url: &str) -> Vec<(String, String)>,
    /// Faults this primitive reports in its own words: (fault, accepted words). The Google
    /// API clients never follow redirects (a 302 is an API error) and accept plain http only
    /// on loopback, so a `.invalid` host is refused before any lookup.
    own_names: &'static [(&'static str, &'static [&'static str])],
    /// Faults that are not faults for this primitive, each with why.
    not_applicable: &'static [&'static str],
}

fn no_env(_: &str) -> Vec<(String, String)> {
    Vec::new()
}

/// One row per HTTP-based primitive.
const PRIMITIVES: &[HttpPrimitive] = &[
    HttpPrimitive {
        name: "perf::check",
        call: |url| {
            format!(
                r#"perf::check([#{{ name: "status", url: "{url}/status", follow_redirects: true, max_ttfb_ms: 1500 }}], #{{ samples: 2 }});"#
            )
        },
        env: no_env,
        own_names: &[],
        // The sampler measures status, size and timing; it never parses the body, so a body
        // that is not JSON (or not UTF-8) is a sample like any other.
        not_applicable: &["invalid-json", "invalid-utf8"],
    },
    HttpPrimitive {
        name: "http::get",
        call: |url| {
            format!(
                r#"let r = http::get("{url}/status", #{{ follow_redirects: true }});
    assert_status(r, 200);
    let body = r.json();
    assert_eq(body.ok, true, "the service says ok");"#
            )
        },
        env: no_env,
        own_names: &[],
        not_applicable: &[],
    },
    HttpPrimitive {
        name: "http::post",
        call: |url| {
            format!(
                r#"let r = http::post("{url}/status", #{{ json: #{{ probe: 1 }}, follow_redirects: true }});
    assert_eq(json_get(r, "/ok", "missing"), true, "the service says ok");
    r.json();"#
            )
        },
        env: no_env,
        own_names: &[],
        not_applicable: &[],
    },
    HttpPrimitive {
        name: "cloudrun::service",
        call: |_| {
            r#"let s = cloudrun::service("runtime");
    assert(s.image != (), "the service has an image");"#
                .to_string()
        },
        env: google_env("OA_CLOUD_RUN_ENDPOINT"),
        own_names: GOOGLE_OWN_NAMES,
        not_applicable: &[],
    },
    HttpPrimitive {
        name: "logging::entries",
        call: |_| {
            r#"let e = logging::entries(`resource.type="cloud_run_revision"`);
    assert(e.len() >= 0, "the entries were read");"#
                .to_string()
        },
        env: google_env("OA_LOGGING_ENDPOINT"),
        own_names: GOOGLE_OWN_NAMES,
        not_applicable: &[],
    },
];

const GOOGLE_OWN_NAMES: &[(&str, &[&str])] = &[
    ("redirect-loop", &["answered 302"]),
    ("unresolvable-host", &["must be https"]),
];

/// Points a Google API client at the fault server, with a static access token.
const fn google_env(endpoint_var: &'static str) -> fn(&str) -> Vec<(String, String)> {
    match endpoint_var.as_bytes()[3] {
        b'C' => |url| google_vars("OA_CLOUD_RUN_ENDPOINT", url),
        _ => |url| google_vars("OA_LOGGING_ENDPOINT", url),
    }
}

fn google_vars(endpoint_var: &str, url: &str) -> Vec<(String, String)> {
    vec![
        (endpoint_var.to_string(), url.to_string()),
        (
            "OA_GOOGLE_ACCESS_TOKEN".to_string(),
            "fault-matrix-google-token-0123456789".to_string(),
        ),
    ]
}

/// A check's timeout in these lanes: long enough for loopback, short enough to keep the suite quick.
const CHECK_TIMEOUT: Duration = Duration::from_secs(2);

struct NetFault {
    name: &'static str,
    /// The server (None: the URL alone is the fault).
    server: fn() -> Option<FaultServer>,
    url: fn(Option<&FaultServer>) -> String,
    /// The reason must contain one of these (case-insensitive): words naming the fault.
    names: &'static [&'static str],
}

fn served(s: Option<&FaultServer>) -> String {
    s.expect("a server").url()
}

const HUNDRED_MB: u64 = 100 * 1000 * 1000;

const FAULTS: &[NetFault] = &[
    NetFault {
        name: "connection-refused",
        server: || None,
        url: |_| common::refused_url(),
        names: &["connection refused"],
    },
    NetFault {
        name: "silence-after-accept",
        server: || Some(FaultServer::start(Behaviour::Silent)),
        url: served,
        names: &["timed out waiting for the response headers"],
    },
    NetFault {
        name: "body-drips-past-timeout",
        server: || {
            Some(FaultServer::start(Behaviour::Drip {
                every: Duration::from_millis(200),
            }))
        },
        url: served,
        names: &["timed out reading the response body"],
    },
    NetFault {
        name: "reset-mid-body",
        server: || Some(FaultServer::start(Behaviour::ResetMidBody)),
        url: served,
        names: &["error reading the response body", "connection reset"],
    },
    NetFault {
        name: "100mb-body-streamed",
        server: || {
            Some(FaultServer::start(Behaviour::HugeBody {
                bytes: HUNDRED_MB,
                chunked: true,
            }))
        },
        url: served,
        names: &["exceeds the cap of 16777216 bytes (--max-body)"],
    },
    NetFault {
        name: "100mb-body-announced",
        server: || {
            Some(FaultServer::start(Behaviour::HugeBody {
                bytes: HUNDRED_MB,
                chunked: false,
            }))
        },
        url: served,
        names: &["response body of 100000000 bytes exceeds the cap"],
    },
    NetFault {
        name: "invalid-json",
        server: || {
            Some(FaultServer::start(Behaviour::Fixed {
                status: 200,
                content_type: "application/json",
                body: b"{\"ok\": tru".to_vec(),
            }))
        },
        url: served,
        names: &["not json"],
    },
    NetFault {
        name: "invalid-utf8",
        server: || {
            Some(FaultServer::start(Behaviour::Fixed {
                status: 200,
                content_type: "application/json; charset=utf-8",
                body: b"{\"ok\": \"\xff\xfe\xc3\x28\"}".to_vec(),
            }))
        },
        url: served,
        names: &["invalid unicode", "utf-8", "not json"],
    },
    NetFault {
        name: "redirect-loop",
        server: || Some(FaultServer::start(Behaviour::RedirectLoop)),
        url: served,
        names: &["redirect loop"],
    },
    NetFault {
        name: "tls-self-signed",
        server: || Some(FaultServer::start(Behaviour::SelfSignedTls)),
        url: served,
        names: &["certificate"],
    },
    NetFault {
        name: "unresolvable-host",
        server: || None,
        // `.invalid` never resolves (RFC 6761): the lookup fails locally.
        url: |_| "http://oa-validate-fault.invalid".to_string(),
        names: &["dns error", "failed to lookup", "name or service not known"],
    },
];

/// The lane for one (primitive, fault): the faulty check, then a required and an optional
/// check that must still run and pass.
fn lane(primitive: &HttpPrimitive, fault: &NetFault, url: &str) -> String {
    format!(
        r#"required("fault-{fault}", #{{ timeout: "{timeout}s" }}, || {{
    {call}
}});
required("runs-after-the-fault", || {{ assert(true, "the next check still runs"); }});
optional("optional-after-the-fault", || {{ assert(true, "optional checks too"); }});
"#,
        fault = fault.name,
        timeout = CHECK_TIMEOUT.as_secs(),
        call = (primitive.call)(url),
    )
}

struct Finding {
    what: String,
    ok: Result<(), String>,
    peak_rss_kib: Option<u64>,
}

fn run_one(primitive: &HttpPrimitive, fault: &NetFault) -> Finding {
    let what = format!("{} × {}", primitive.name, fault.name);
    let server = (fault.server)();
    let url = (fault.url)(server.as_ref());
    let sb = Sandbox::new();
    sb.write("fault.rhai", &lane(primitive, fault, &url));
    let out = sb.out("evidence");
    let mut cmd = sb
        .cmd()
        .arg("fault.rhai")
        .out(&out)
        .timeout(Duration::from_secs(60));
    for (k, v) in (primitive.env)(&url) {
        cmd = cmd.env(&k, v);
    }
    let run = cmd.run();
    let check = || -> Result<(), String> {
        if run.code != Some(1) {
            return Err(format!("exit {:?}, expected 1 (NO-GO)", run.code));
        }
        if run.verdict_line() != "Verdict: NO-GO" {
            return Err(run.verdict_line().to_string());
        }
        if run.stderr.contains("panicked") || run.stdout.contains("panic") {
            return Err("a panic".to_string());
        }
        let ev = sb.evidence("evidence");
        let id = format!("fault-{}", fault.name);
        let faulty = ev.json_check(&id);
        let status = faulty["status"].as_str().unwrap_or_default();
        if !matches!(status, "errored" | "failed") {
            return Err(format!("status {status}, expected errored or failed"));
        }
        let reason = faulty["reason"].as_str().unwrap_or_default().to_lowercase();
        let own: Vec<&str> = primitive
            .own_names
            .iter()
            .filter(|(f, _)| *f == fault.name)
            .flat_map(|(_, names)| names.iter().copied())
            .collect();
        if !fault
            .names
            .iter()
            .chain(&own)
            .any(|n| reason.contains(&n.to_lowercase()))
        {
            return Err(format!(
                "reason {reason:?} names none of {:?}",
                [fault.names, &own].concat()
            ));
        }
        if !reason.starts_with("fault.rhai:") {
            return Err(format!("reason {reason:?} lacks the file:line:col"));
        }
        let summary = ev.summary_json();
        let took = summary["run"]["checks"]
            .as_array()
            .and_then(|cs| cs.iter().find(|c| c["id"] == id.as_str()))
            .and_then(|c| c["duration_ms"].as_u64())
            .ok_or("no duration")?;
        let limit = (CHECK_TIMEOUT + Duration::from_secs(1)).as_millis() as u64;
        if took > limit {
            return Err(format!(
                "took {took} ms, more than the timeout + 1 s ({limit} ms)"
            ));
        }
        for next in ["runs-after-the-fault", "optional-after-the-fault"] {
            let status = &ev.json_check(next)["status"];
            if status != "passed" {
                return Err(format!("{next} is {status}, expected passed"));
            }
        }
        // The evidence of the faulty check is complete and sealed.
        // (A primitive that refuses before sending anything has no exchange to archive.)
        let har_path = format!("http/{id}.har");
        if ev.files().contains(&har_path) {
            let har = ev.read(&har_path);
            serde_json::from_str::<serde_json::Value>(&har)
                .map_err(|e| format!("the HAR is not JSON: {e}"))?;
        } else if own.is_empty() {
            return Err(format!("no {har_path}"));
        }
        if !ev.sums_verify() {
            return Err("sha256sum -c SHA256SUMS fails".to_string());
        }
        Ok(())
    };
    let ok = check().map_err(|e| {
        format!(
            "{e}\n--- stdout\n{}\n--- stderr\n{}",
            run.stdout, run.stderr
        )
    });
    Finding {
        what,
        ok,
        peak_rss_kib: run.peak_rss_kib,
    }
}

/// A child reading (and dropping) a 100 MB body at the 16 MiB cap stays well under this.
const PEAK_RSS_LIMIT_KIB: u64 = 120 * 1024;

#[test]
fn every_network_fault_ends_its_check_in_time_and_the_run_goes_on() {
    let cases: Vec<(&HttpPrimitive, &NetFault)> = PRIMITIVES
        .iter()
        .flat_map(|p| {
            FAULTS
                .iter()
                .filter(|f| !p.not_applicable.contains(&f.name))
                .map(move |f| (p, f))
        })
        .collect();
    // A few at a time: each case is one child process, mostly waiting on a timeout.
    let findings: Vec<Finding> = cases
        .chunks(6)
        .flat_map(|chunk| {
            std::thread::scope(|s| {
                let handles: Vec<_> = chunk
                    .iter()
                    .map(|(p, f)| s.spawn(move || run_one(p, f)))
                    .collect();
                handles
                    .into_iter()
                    .map(|h| h.join().expect("fault case thread"))
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let mut failures = Vec::new();
    for f in &findings {
        if let Err(e) = &f.ok {
            failures.push(format!("{}: {e}", f.what));
        }
        if f.what.contains("100mb")
            && let Some(peak) = f.peak_rss_kib
        {
            eprintln!("{}: peak RSS {} KiB", f.what, peak);
            if peak > PEAK_RSS_LIMIT_KIB {
                failures.push(format!(
                    "{}: peak RSS {peak} KiB exceeds {PEAK_RSS_LIMIT_KIB} KiB",
                    f.what
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} fault cases broke their guarantee:\n{}",
        failures.len(),
        findings.len(),
        failures.join("\n\n")
    );
}

/// `--max-body` is the cap that holds (not only the default): 1 MiB refuses a 2 MB body.
#[test]
fn a_lower_max_body_is_the_cap() {
    let server = FaultServer::start(Behaviour::HugeBody {
        bytes: 2_000_000,
        chunked: true,
    });
    let sb = Sandbox::new();
    sb.write(
        "cap.rhai",
        &format!(
            "required(\"capped\", || {{ let r = http::get(\"{}/\"); assert_status(r, 200); }});\n",
            server.url()
        ),
    );
    let run = sb
        .cmd()
        .args(["cap.rhai", "--max-body", "1MiB"])
        .out(&sb.out("evidence"))
        .run();
    run.expect_code(1);
    let reason = sb.evidence("evidence").json_check("capped")["reason"].to_string();
    assert!(
        reason.contains("exceeds the cap of 1048576 bytes"),
        "{reason}"
    );
}

/// A body sent with `Content-Encoding` is decoded before the script sees it (gzip as httpbin's
/// `/gzip` sends it, and br, deflate, zstd); `compressed: true` asks for it with
/// `Accept-Encoding`; the HAR records the decoded and the transferred size; a corrupt body
/// errors the request naming the coding.
#[test]
fn compressed_bodies_are_decoded_and_the_har_keeps_both_sizes() {
    use std::io::Write;
    let json = format!(
        "{{\"gzipped\": true, \"padding\": \"{}\"}}",
        "openagents ".repeat(200)
    );
    let mut gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gzip.write_all(json.as_bytes()).expect("gzip");
    let gzip = gzip.finish().expect("gzip");
    let mut br = Vec::new();
    brotli::BrotliCompress(&mut json.as_bytes(), &mut br, &Default::default()).expect("br");
    let zstd = zstd::encode_all(json.as_bytes(), 0).expect("zstd");
    let mut deflate = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    deflate.write_all(json.as_bytes()).expect("deflate");
    let deflate = deflate.finish().expect("deflate");
    let gzip_size = gzip.len();
    let servers: Vec<(&str, FaultServer)> = [
        ("gzip", gzip),
        ("br", br),
        ("zstd", zstd),
        ("deflate", deflate),
    ]
    .into_iter()
    .map(|(coding, body)| {
        (
            coding,
            FaultServer::start(Behaviour::Encoded {
                content_encoding: coding,
                content_type: "application/json",
                body,
            }),
        )
    })
    .collect();
    let corrupt = FaultServer::start(Behaviour::Encoded {
        content_encoding: "gzip",
        content_type: "application/json",
        body: b"this is not gzip".to_vec(),
    });
    let mut lane = String::new();
    for (coding, server) in &servers {
        lane.push_str(&format!(
            "required(\"decoded-{coding}\", || {{\n\
             \x20   let r = http::get(\"{url}/{coding}\", #{{ compressed: true }});\n\
             \x20   assert_status(r, 200);\n\
             \x20   assert_eq(r.json().gzipped, true, \"decoded JSON\");\n\
             \x20   assert_eq(r.size, {len}, \"decoded size\");\n\
             }});\n",
            url = server.url(),
            len = json.len()
        ));
    }
    lane.push_str(&format!(
        "required(\"corrupt-gzip\", || {{ assert_status(http::get(\"{}/bad\"), 200); }});\n",
        corrupt.url()
    ));
    let sb = Sandbox::new();
    sb.write("compressed.rhai", &lane);
    let run = sb.cmd().arg("compressed.rhai").out(&sb.out("ev")).run();
    run.expect_code(1);
    for (coding, _) in &servers {
        run.stdout_has(&format!("[passed] decoded-{coding} (required)"));
    }
    run.stdout_has("[errored] corrupt-gzip (required)")
        .stdout_has("cannot decode the gzip response body");
    for (_, server) in &servers {
        let requests = server.requests();
        assert!(
            requests[0]
                .to_ascii_lowercase()
                .contains("accept-encoding: gzip, deflate, br, zstd"),
            "compressed: true asks for it:\n{}",
            requests[0]
        );
    }
    let ev = sb.evidence("ev");
    let har: serde_json::Value =
        serde_json::from_str(&ev.read("http/decoded-gzip.har")).expect("HAR is JSON");
    let response = &har["log"]["entries"][0]["response"];
    assert_eq!(response["content"]["size"], json.len());
    assert_eq!(response["bodySize"], gzip_size);
    assert_eq!(response["content"]["compression"], json.len() - gzip_size);
    assert!(
        response["content"]["text"]
            .as_str()
            .is_some_and(|t| t.starts_with("{\"gzipped\": true")),
        "the HAR keeps the decoded text"
    );
    assert!(
        ev.read("logs/decoded-gzip.log")
            .contains(&format!("{} bytes ({gzip_size} transferred)", json.len())),
        "the log line gives both sizes"
    );
}
