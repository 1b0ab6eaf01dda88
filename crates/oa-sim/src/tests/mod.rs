//! End-to-end tests over real loopback sockets, the way oa-validate will talk to the sim.

use super::*;
use crate::SimEra;
use reqwest::header::{CACHE_CONTROL, CONTENT_TYPE, LOCATION};
use reqwest::{Client, StatusCode};
use serde_json::Value;

mod control_routes;
mod sign_in;

async fn sim(faults: &[Fault]) -> Sim {
    Sim::start(SimConfig {
        faults: faults.to_vec(),
        ..SimConfig::default()
    })
    .await
    .expect("sim starts")
}

/// The sim of the post-convergence era (d29e2a788f).
async fn converged_sim(faults: &[Fault]) -> Sim {
    Sim::start(SimConfig {
        faults: faults.to_vec(),
        era: SimEra::SpacetimeConvergence,
        ..SimConfig::default()
    })
    .await
    .expect("sim starts")
}

fn client() -> Client {
    Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

async fn get(url: String) -> reqwest::Response {
    client().get(url).send().await.unwrap()
}

async fn get_auth(url: String, token: &str) -> reqwest::Response {
    client().get(url).bearer_auth(token).send().await.unwrap()
}

fn header(resp: &reqwest::Response, name: impl reqwest::header::AsHeaderName) -> String {
    resp.headers()
        .get(name)
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default()
}

async fn json(resp: reqwest::Response) -> Value {
    resp.json().await.unwrap()
}

fn assert_envelope(body: &Value, code: &str, message: &str) {
    assert_eq!(body["message"], message, "{body}");
    assert_eq!(body["error"]["code"], code, "{body}");
    assert_eq!(body["error"]["message"], message, "{body}");
}

#[tokio::test]
async fn readyz_and_healthz_answer_normally() {
    let sim = sim(&[]).await;
    let resp = get(format!("{}/readyz", sim.staging.control_url)).await;
    assert_eq!(resp.status(), StatusCode::OK);
    // Upstream is ready when its static directory exists, and names it.
    assert_eq!(
        json(resp).await,
        json!({"status": "ready", "static_dir": "/app/static"})
    );

    let resp = get(format!("{}/healthz", sim.prod.control_url)).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let body = json(resp).await;
    assert_eq!(body["status"], "ok");
    assert_eq!(body["service"], "openagents-control-service");
    assert_eq!(body["version"], "sim");
    assert_eq!(body["auth_provider"], "sim");
    assert!(body["uptime_seconds"].is_u64(), "{body}");
}

#[tokio::test]
async fn readyz_503_fault_reports_not_ready_on_both_instances() {
    let sim = sim(&[Fault::Readyz503]).await;
    for target in [&sim.staging, &sim.prod] {
        let resp = get(format!("{}/readyz", target.control_url)).await;
        assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(json(resp).await["status"], "not_ready");
    }
    // Other routes are untouched by this fault.
    let resp = get(format!("{}/healthz", sim.staging.control_url)).await;
    assert_eq!(resp.status(), StatusCode::OK);
}

#[tokio::test]
async fn healthz_404_fault_answers_the_not_found_envelope() {
    let sim = sim(&[Fault::Healthz404]).await;
    let resp = get(format!("{}/healthz", sim.staging.control_url)).await;
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    assert_envelope(&json(resp).await, "not_found", "Not found.");
    let resp = get(format!("{}/readyz", sim.staging.control_url)).await;
    assert_eq!(resp.status(), StatusCode::OK);
}

#[tokio::test]
async fn control_status_needs_that_instances_token() {
    let sim = sim(&[]).await;
    let url = format!("{}/api/v1/control/status", sim.staging.control_url);

    let resp = get(url.clone()).await;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    assert_envelope(&json(resp).await, "unauthorized", "Unauthenticated.");

    // Prod's token is not staging's.
    assert_ne!(sim.staging.token, sim.prod.token);
    let resp = get_auth(url.clone(), &sim.prod.token).await;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);

    let resp = get_auth(url, &sim.staging.token).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let data = json(resp).await["data"].clone();
    assert_eq!(data["service"], "openagents-control-service");
    for field in [
        "authProvider",
        "activeOrgId",
        "memberships",
        "compatibility",
        "routeSplit",
        "runtimeRouting",
    ] {
        assert!(data.get(field).is_some(), "{field}: {data}");
    }

    let resp = get_auth(
        format!("{}/api/v1/control/status", sim.prod.control_url),
        &sim.prod.token,
    )
    .await;
    assert_eq!(resp.status(), StatusCode::OK);
}

#[tokio::test]
async fn control_status_500_fault_fails_even_with_a_valid_token() {
    let sim = sim(&[Fault::ControlStatus500]).await;
    let resp = get_auth(
        format!("{}/api/v1/control/status", sim.staging.control_url),
        &sim.staging.token,
    )
    .await;
    assert_eq!(resp.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(json(resp).await["error"]["code"], "internal_error");
}

#[tokio::test]
async fn redirect_offsite_sends_session_to_the_recorder_origin() {
    let sim = sim(&[Fault::RedirectOffsite]).await;
    let resp = get_auth(
        format!("{}/api/auth/session", sim.staging.control_url),
        &sim.staging.token,
    )
    .await;
    assert_eq!(resp.status(), StatusCode::FOUND);
    let location = header(&resp, LOCATION);
    assert_eq!(location, format!("{}/capture/session", sim.offsite_url));
    let target = url::Url::parse(&location).unwrap();
    let control = url::Url::parse(&sim.staging.control_url).unwrap();
    assert_eq!(target.host_str(), Some("127.0.0.1"));
    assert_ne!(target.port(), control.port(), "must be a different origin");

    // A following client lands on the recorder, which records the hop.
    assert!(sim.offsite_requests().is_empty());
    let following = Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let resp = following
        .get(format!("{}/api/auth/session", sim.staging.control_url))
        .bearer_auth(&sim.staging.token)
        .header("x-probe", "followed")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(json(resp).await, json!({"recorded": true}));

    let recorded = sim.offsite_requests();
    assert_eq!(recorded.len(), 1, "{recorded:?}");
    assert_eq!(recorded[0].method, "GET");
    assert_eq!(recorded[0].path_and_query, "/capture/session");
    assert_eq!(recorded[0].header("x-probe"), Some("followed"));
    // reqwest strips credentials on a cross-origin hop; the recorder is what proves it.
    assert_eq!(recorded[0].header("authorization"), None);

    // The v1 session route is not redirected.
    let resp = get_auth(
        format!("{}/api/v1/auth/session", sim.staging.control_url),
        &sim.staging.token,
    )
    .await;
    assert_eq!(resp.status(), StatusCode::OK);
}

#[tokio::test]
async fn offsite_recorder_records_everything_and_lists_it() {
    let sim = sim(&[]).await;
    let resp = client()
        .post(format!("{}/capture/x?a=1&b=2", sim.offsite_url))
        .bearer_auth("leaked-secret")
        .header("X-Custom", "one")
        .header("x-custom", "two")
        .body("payload")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(json(resp).await, json!({"recorded": true}));
    get(format!("{}/other", sim.offsite_url)).await;

    let recorded = sim.offsite_requests();
    assert_eq!(recorded.len(), 2);
    assert_eq!(recorded[0].method, "POST");
    assert_eq!(recorded[0].path_and_query, "/capture/x?a=1&b=2");
    assert_eq!(
        recorded[0].header("authorization"),
        Some("Bearer leaked-secret")
    );
    let customs: Vec<&str> = recorded[0]
        .headers
        .iter()
        .filter(|(n, _)| n == "x-custom")
        .map(|(_, v)| v.as_str())
        .collect();
    assert_eq!(customs, ["one", "two"]);
    assert_eq!(recorded[1].path_and_query, "/other");

    // Asking twice shows the listing does not record itself.
    for _ in 0..2 {
        let list = json(get(format!("{}/__recorded", sim.offsite_url)).await).await;
        let list = list.as_array().expect("array");
        assert_eq!(list.len(), 2, "{list:?}");
        assert_eq!(list[0]["method"], "POST");
        assert_eq!(list[0]["path"], "/capture/x?a=1&b=2");
        assert_eq!(list[0]["headers"]["authorization"], "Bearer leaked-secret");
        assert_eq!(list[0]["headers"]["x-custom"], "one, two");
        assert_eq!(list[1]["path"], "/other");
    }
    assert_eq!(sim.offsite_requests().len(), 2);
}

#[tokio::test]
async fn x_request_id_is_echoed_or_generated_on_every_response() {
    let sim = sim(&[]).await;
    let base = &sim.staging.control_url;

    let resp = client()
        .get(format!("{base}/readyz"))
        .header("x-request-id", "probe-123")
        .send()
        .await
        .unwrap();
    assert_eq!(header(&resp, "x-request-id"), "probe-123");

    // Generated ids (UUIDs, as upstream's MakeRequestUuid): also on 401s and 404s.
    let mut seen = Vec::new();
    for path in ["/readyz", "/api/v1/control/status", "/api/no/such/route"] {
        let resp = get(format!("{base}{path}")).await;
        let id = header(&resp, "x-request-id");
        assert!(uuid::Uuid::parse_str(&id).is_ok(), "{path}: {id}");
        seen.push(id);
    }
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 3, "generated ids must differ");
}

#[tokio::test]
async fn configured_tokens_are_used() {
    let sim = Sim::start(SimConfig {
        staging_token: Some("staging-secret".into()),
        ..SimConfig::default()
    })
    .await
    .unwrap();
    assert_eq!(sim.staging.name, "staging");
    assert_eq!(sim.prod.name, "prod");
    assert_eq!(sim.staging.token, "staging-secret");
    assert_eq!(sim.prod.token.len(), 32);
    assert!(sim.prod.token.chars().all(|c| c.is_ascii_hexdigit()));
    assert!(sim.staging.control_url.starts_with("http://127.0.0.1:"));
    assert!(!sim.staging.control_url.ends_with('/'));
    assert_ne!(sim.staging.control_url, sim.prod.control_url);

    let resp = get_auth(
        format!("{}/api/v1/control/status", sim.staging.control_url),
        "staging-secret",
    )
    .await;
    assert_eq!(resp.status(), StatusCode::OK);
    // What it exports (the caller's token withheld): config::sim, `exports_withhold_a_configured_token`.
}

#[tokio::test]
async fn latency_delays_responses() {
    let sim = Sim::start(SimConfig {
        latency: Duration::from_millis(200),
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let started = Instant::now();
    let resp = get(format!("{}/readyz", sim.staging.control_url)).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(started.elapsed() >= Duration::from_millis(200));
}

#[tokio::test]
async fn dropping_the_sim_stops_its_servers() {
    let sim = sim(&[]).await;
    let url = format!("{}/readyz", sim.staging.control_url);
    assert_eq!(get(url.clone()).await.status(), StatusCode::OK);
    drop(sim);
    // Shutdown happens on the server tasks, so give them a moment; a fresh client per attempt
    // avoids reusing a pooled connection that predates the shutdown.
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let fresh = Client::builder()
            .timeout(Duration::from_millis(500))
            .build()
            .unwrap();
        if fresh.get(&url).send().await.is_err() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "server still answering after drop"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
