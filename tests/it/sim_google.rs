//! The simulated Google APIs answer like the real ones: bearer required, Google error
//! envelopes, v2 resource shapes that the Cloud Run model reads back.

use oa_sim::{Fault, Sim, SimConfig};
use oa_validate::gcp::model;
use reqwest::{Client, StatusCode};
use serde_json::Value;
use std::time::Duration;

async fn sim(faults: &[Fault]) -> Sim {
    Sim::start(SimConfig {
        faults: faults.to_vec(),
        ..SimConfig::default()
    })
    .await
    .expect("sim starts")
}

async fn call(sim: &Sim, path: &str, token: Option<&str>) -> (StatusCode, Value) {
    let client = Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let mut request = client.get(format!("{}{path}", sim.cloud_run_url));
    if let Some(t) = token {
        request = request.bearer_auth(t);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

const LOCATION: &str = "/v2/projects/openagentsgemini/locations/us-central1";

#[tokio::test]
async fn cloud_run_requires_the_token_and_answers_google_errors() {
    let sim = sim(&[]).await;
    let path = format!("{LOCATION}/services/runtime");
    let (status, body) = call(&sim, &path, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["error"]["status"], "UNAUTHENTICATED");
    let (status, body) = call(&sim, &path, Some("ya29.wrong")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    let token = sim.google_token.clone();
    let (status, body) = call(&sim, &format!("{LOCATION}/services/nope"), Some(&token)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["error"]["code"], 404);
    let (status, _) = call(
        &sim,
        "/v2/projects/other/locations/us-central1/services/runtime",
        Some(&token),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let denied = self::sim(&[Fault::Cloudrun403]).await;
    let (status, body) = call(&denied, &path, Some(&denied.google_token.clone())).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(body["error"]["status"], "PERMISSION_DENIED");
}

#[tokio::test]
async fn healthy_resources_read_back_through_the_model() {
    let sim = sim(&[]).await;
    let token = sim.google_token.clone();
    let (status, body) = call(&sim, &format!("{LOCATION}/services/runtime"), Some(&token)).await;
    assert_eq!(status, StatusCode::OK);
    let service = model::parse_service(&body);
    assert_eq!(service.traffic.iter().map(|t| t.percent).sum::<i64>(), 100);
    assert_eq!(service.traffic.len(), 2, "the runtime is mid-canary");
    assert_eq!(
        service.latest_created_revision,
        service.latest_ready_revision
    );
    assert!(service.ready);

    let (_, body) = call(
        &sim,
        &format!("{LOCATION}/services/runtime/revisions"),
        Some(&token),
    )
    .await;
    let revisions: Vec<model::Revision> = body["revisions"]
        .as_array()
        .unwrap()
        .iter()
        .map(model::parse_revision)
        .collect();
    assert_eq!(
        revisions[0].name,
        service.latest_ready_revision.clone().unwrap()
    );
    assert!(revisions.iter().all(|r| r.ready));

    let (_, body) = call(
        &sim,
        &format!("{LOCATION}/jobs/runtime-migrate"),
        Some(&token),
    )
    .await;
    let job = model::parse_job(&body);
    assert_eq!(job.image, service.image);
    let (_, body) = call(
        &sim,
        &format!("{LOCATION}/jobs/runtime-migrate/executions"),
        Some(&token),
    )
    .await;
    let execution = model::parse_execution(&body["executions"][0]);
    assert_eq!(Some(execution.name), job.latest_execution.map(|e| e.name));
    assert!(execution.succeeded);
}

#[tokio::test]
async fn entries_list_validates_requests_like_the_api() {
    let sim = sim(&[Fault::ErrorLogsPresent]).await;
    let client = Client::new();
    let url = format!("{}/v2/entries:list", sim.logging_url);
    let post = |body: Value| {
        client
            .post(&url)
            .bearer_auth(&sim.google_token)
            .json(&body)
            .send()
    };
    let r = post(serde_json::json!({"filter": "severity>=ERROR"}))
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let r =
        post(serde_json::json!({"resourceNames": ["projects/openagentsgemini"], "pageSize": 0}))
            .await
            .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let filter = oa_validate::api::logging::error_filter("runtime");
    let r = post(
        serde_json::json!({"resourceNames": ["projects/openagentsgemini"], "filter": filter,
                                    "orderBy": "timestamp desc", "pageSize": 50}),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let body: Value = r.json().await.unwrap();
    let entries: Vec<model::LogEntry> = body["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(model::parse_log_entry)
        .collect();
    assert_eq!(entries.len(), 2);
    assert!(
        entries
            .iter()
            .all(|e| e.service.as_deref() == Some("runtime") && e.severity == "ERROR")
    );
    // Entries older than the freshness window are not returned.
    let stale = format!("({filter}) AND timestamp>=\"2999-01-01T00:00:00Z\"");
    let r = post(serde_json::json!({"resourceNames": ["projects/openagentsgemini"], "filter": stale, "pageSize": 50}))
        .await
        .unwrap();
    let body: Value = r.json().await.unwrap();
    assert!(body.get("entries").is_none(), "{body}");
}
