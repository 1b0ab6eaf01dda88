//! Parsing real-shaped Cloud Run Admin API v2, v1 (gcloud) and Logging v2 JSON.

use super::*;
use serde_json::json;

/// A v2 service mid-canary, as `GET /v2/projects/p/locations/r/services/runtime` answers.
fn split_service() -> Value {
    json!({
        "name": "projects/openagentsgemini/locations/us-central1/services/runtime",
        "uid": "0b2f7c55-3c5e-4a43-9bb6-1f0f7e1d2a10",
        "generation": "18",
        "createTime": "2026-01-05T10:00:00.000000Z",
        "updateTime": "2026-02-21T19:00:00.000000Z",
        "creator": "deploy@openagentsgemini.iam.gserviceaccount.com",
        "ingress": "INGRESS_TRAFFIC_ALL",
        "launchStage": "GA",
        "template": {
            "serviceAccount": "runtime@openagentsgemini.iam.gserviceaccount.com",
            "containers": [{
                "image": "us-central1-docker.pkg.dev/openagentsgemini/runtime/runtime@sha256:aaa",
                "ports": [{"name": "http1", "containerPort": 8080}],
                "resources": {"limits": {"cpu": "1000m", "memory": "512Mi"}}
            }],
            "maxInstanceRequestConcurrency": 80,
            "timeout": "300s"
        },
        "traffic": [
            {"type": "TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION", "revision": "runtime-00017-xyz", "percent": 90},
            {"type": "TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST", "percent": 10, "tag": "canary"}
        ],
        "observedGeneration": "18",
        "terminalCondition": {
            "type": "Ready", "state": "CONDITION_SUCCEEDED",
            "lastTransitionTime": "2026-02-21T19:00:10.000000Z"
        },
        "conditions": [
            {"type": "RoutesReady", "state": "CONDITION_SUCCEEDED"},
            {"type": "ConfigurationsReady", "state": "CONDITION_SUCCEEDED"}
        ],
        "latestReadyRevision": "projects/openagentsgemini/locations/us-central1/services/runtime/revisions/runtime-00018-def",
        "latestCreatedRevision": "projects/openagentsgemini/locations/us-central1/services/runtime/revisions/runtime-00018-def",
        "trafficStatuses": [
            {"type": "TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION", "revision": "runtime-00017-xyz", "percent": 90},
            {"type": "TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST", "percent": 10, "tag": "canary",
             "uri": "https://canary---runtime-abc123-uc.a.run.app"}
        ],
        "uri": "https://runtime-abc123-uc.a.run.app",
        "urls": ["https://runtime-123456789.us-central1.run.app"],
        "etag": "\"CJ2w\""
    })
}

#[test]
fn v2_service_with_split_traffic() {
    let s = parse_service(&split_service());
    assert_eq!(s.name, "runtime");
    assert_eq!(
        s.image.as_deref(),
        Some("us-central1-docker.pkg.dev/openagentsgemini/runtime/runtime@sha256:aaa")
    );
    assert_eq!(
        s.latest_ready_revision.as_deref(),
        Some("runtime-00018-def")
    );
    assert_eq!(
        s.latest_created_revision.as_deref(),
        Some("runtime-00018-def")
    );
    assert!(s.ready);
    assert_eq!(
        s.url.as_deref(),
        Some("https://runtime-abc123-uc.a.run.app")
    );
    let served: Vec<(Option<&str>, i64, bool)> = s
        .traffic
        .iter()
        .map(|t| (t.revision.as_deref(), t.percent, t.latest))
        .collect();
    // The LATEST target resolves to the latest ready revision.
    assert_eq!(
        served,
        [
            (Some("runtime-00017-xyz"), 90, false),
            (Some("runtime-00018-def"), 10, true)
        ]
    );
    assert_eq!(s.traffic[1].tag.as_deref(), Some("canary"));
    assert_eq!(s.traffic_spec.len(), 2);
}

#[test]
fn v2_service_not_ready_when_terminal_condition_failed() {
    let mut v = split_service();
    v["terminalCondition"] = json!({"type": "Ready", "state": "CONDITION_FAILED",
        "message": "Revision 'runtime-00019-bad' is not ready and cannot serve traffic."});
    v["latestCreatedRevision"] =
        json!("projects/p/locations/r/services/runtime/revisions/runtime-00019-bad");
    let s = parse_service(&v);
    assert!(!s.ready);
    assert_eq!(
        s.latest_created_revision.as_deref(),
        Some("runtime-00019-bad")
    );
    assert_eq!(s.conditions[0].state, "failed");
    assert!(
        s.conditions[0]
            .message
            .as_deref()
            .unwrap()
            .contains("not ready")
    );
}

#[test]
fn traffic_falls_back_to_the_spec_without_statuses() {
    let mut v = split_service();
    v.as_object_mut().unwrap().remove("trafficStatuses");
    let s = parse_service(&v);
    assert_eq!(s.traffic.iter().map(|t| t.percent).sum::<i64>(), 100);
}

#[test]
fn v2_revisions() {
    let ready = json!({
        "name": "projects/openagentsgemini/locations/us-central1/services/runtime/revisions/runtime-00017-xyz",
        "service": "projects/openagentsgemini/locations/us-central1/services/runtime",
        "createTime": "2026-02-20T09:00:00.000000Z",
        "containers": [{"image": "us-central1-docker.pkg.dev/openagentsgemini/runtime/runtime@sha256:old"}],
        "conditions": [
            {"type": "Ready", "state": "CONDITION_SUCCEEDED"},
            {"type": "ContainerHealthy", "state": "CONDITION_SUCCEEDED"}
        ]
    });
    let failed = json!({
        "name": "projects/p/locations/r/services/runtime/revisions/runtime-00019-bad",
        "createTime": "2026-02-22T09:00:00.000000Z",
        "containers": [{"image": "img@sha256:bad"}],
        "conditions": [{"type": "Ready", "state": "CONDITION_FAILED", "reason": "HEALTH_CHECK_CONTAINER_ERROR",
                        "message": "The user-provided container failed to start"}]
    });
    let r = parse_revision(&ready);
    assert_eq!(r.name, "runtime-00017-xyz");
    assert_eq!(r.service.as_deref(), Some("runtime"));
    assert!(r.ready);
    assert_eq!(
        r.create_time.as_deref(),
        Some("2026-02-20T09:00:00.000000Z")
    );
    let f = parse_revision(&failed);
    assert!(!f.ready);
    assert_eq!(
        f.conditions[0].reason.as_deref(),
        Some("HEALTH_CHECK_CONTAINER_ERROR")
    );
    let mut both = vec![r, f];
    newest_first(&mut both, |r| r.create_time.as_deref());
    assert_eq!(both[0].name, "runtime-00019-bad");
}

#[test]
fn v2_job_and_executions() {
    let job = json!({
        "name": "projects/openagentsgemini/locations/us-central1/jobs/runtime-migrate",
        "template": {"taskCount": 1, "template": {
            "containers": [{"image": "us-central1-docker.pkg.dev/openagentsgemini/runtime/runtime@sha256:aaa",
                            "command": ["/app/runtime-migrate"]}],
            "maxRetries": 0, "timeout": "600s"}},
        "terminalCondition": {"type": "Ready", "state": "CONDITION_SUCCEEDED"},
        "latestCreatedExecution": {
            "name": "projects/openagentsgemini/locations/us-central1/jobs/runtime-migrate/executions/runtime-migrate-7q2kd",
            "createTime": "2026-02-21T18:55:00.000000Z",
            "completionTime": "2026-02-21T18:56:02.000000Z",
            "completionStatus": "EXECUTION_SUCCEEDED"
        },
        "executionCount": 12
    });
    let j = parse_job(&job);
    assert_eq!(j.name, "runtime-migrate");
    assert_eq!(
        j.image.as_deref(),
        Some("us-central1-docker.pkg.dev/openagentsgemini/runtime/runtime@sha256:aaa")
    );
    let latest = j.latest_execution.unwrap();
    assert_eq!(latest.name, "runtime-migrate-7q2kd");
    assert_eq!(
        latest.completion_status.as_deref(),
        Some("EXECUTION_SUCCEEDED")
    );

    let succeeded = json!({
        "name": "projects/openagentsgemini/locations/us-central1/jobs/runtime-migrate/executions/runtime-migrate-7q2kd",
        "job": "runtime-migrate",
        "createTime": "2026-02-21T18:55:00.000000Z",
        "completionTime": "2026-02-21T18:56:02.000000Z",
        "taskCount": 1, "succeededCount": 1,
        "template": {"containers": [{"image": "us-central1-docker.pkg.dev/openagentsgemini/runtime/runtime@sha256:aaa"}]},
        "conditions": [
            {"type": "ResourcesAvailable", "state": "CONDITION_SUCCEEDED"},
            {"type": "Started", "state": "CONDITION_SUCCEEDED"},
            {"type": "Completed", "state": "CONDITION_SUCCEEDED", "message": "Execution completed successfully in 1m2s."}
        ]
    });
    let failed = json!({
        "name": "projects/p/locations/r/jobs/runtime-migrate/executions/runtime-migrate-9zz1x",
        "createTime": "2026-02-22T08:00:00.000000Z",
        "completionTime": "2026-02-22T08:00:40.000000Z",
        "failedCount": 1,
        "template": {"containers": [{"image": "img@sha256:aaa"}]},
        "conditions": [{"type": "Completed", "state": "CONDITION_FAILED",
                        "message": "Task runtime-migrate-9zz1x-task0 failed with exit code 1."}]
    });
    let s = parse_execution(&succeeded);
    assert_eq!(s.name, "runtime-migrate-7q2kd");
    assert_eq!(s.job.as_deref(), Some("runtime-migrate"));
    assert!(s.succeeded && !s.failed);
    assert_eq!(s.state, "succeeded");
    assert_eq!(s.succeeded_count, 1);
    let f = parse_execution(&failed);
    assert!(f.failed && !f.succeeded);
    assert_eq!(f.failed_count, 1);
    let mut list = vec![s, f];
    newest_first(&mut list, |e| e.create_time.as_deref());
    assert_eq!(list[0].name, "runtime-migrate-9zz1x");
}

#[test]
fn running_execution_is_neither_succeeded_nor_failed() {
    let running = json!({
        "name": "projects/p/locations/r/jobs/j/executions/j-abc",
        "createTime": "2026-02-22T08:00:00Z",
        "runningCount": 1,
        "conditions": [{"type": "Completed", "state": "CONDITION_PENDING"}]
    });
    let e = parse_execution(&running);
    assert_eq!(e.state, "running");
    assert!(!e.succeeded && !e.failed);
}

#[test]
fn v1_knative_execution_shape_is_accepted() {
    let v1 = json!({
        "apiVersion": "run.googleapis.com/v1",
        "kind": "Execution",
        "metadata": {
            "name": "runtime-migrate-7q2kd",
            "namespace": "123456789",
            "creationTimestamp": "2026-02-21T18:55:00.000000Z",
            "labels": {"run.googleapis.com/job": "runtime-migrate"}
        },
        "spec": {"taskCount": 1, "template": {"spec": {"containers": [{"image": "img@sha256:aaa"}]}}},
        "status": {
            "observedGeneration": 1,
            "conditions": [
                {"type": "Completed", "status": "True", "message": "Execution completed successfully."},
                {"type": "ResourcesAvailable", "status": "True"}
            ],
            "startTime": "2026-02-21T18:55:03.000000Z",
            "completionTime": "2026-02-21T18:56:02.000000Z",
            "succeededCount": 1
        }
    });
    let e = parse_execution(&v1);
    assert_eq!(e.name, "runtime-migrate-7q2kd");
    assert_eq!(e.job.as_deref(), Some("runtime-migrate"));
    assert_eq!(e.image.as_deref(), Some("img@sha256:aaa"));
    assert!(e.succeeded);
    assert_eq!(e.conditions[0].raw_state, "True");

    let mut failed = v1.clone();
    failed["status"]["conditions"][0]["status"] = json!("False");
    assert!(parse_execution(&failed).failed);
}

#[test]
fn v1_service_and_job_shapes_are_accepted() {
    let service = json!({
        "apiVersion": "serving.knative.dev/v1",
        "kind": "Service",
        "metadata": {"name": "runtime"},
        "spec": {"template": {"spec": {"containers": [{"image": "img@sha256:aaa"}]}},
                 "traffic": [{"latestRevision": true, "percent": 100}]},
        "status": {
            "conditions": [{"type": "Ready", "status": "True"}],
            "latestReadyRevisionName": "runtime-00018-def",
            "latestCreatedRevisionName": "runtime-00018-def",
            "traffic": [{"revisionName": "runtime-00018-def", "latestRevision": true, "percent": 100}],
            "url": "https://runtime-abc123-uc.a.run.app"
        }
    });
    let s = parse_service(&service);
    assert_eq!(s.image.as_deref(), Some("img@sha256:aaa"));
    assert!(s.ready);
    assert_eq!(s.traffic[0].revision.as_deref(), Some("runtime-00018-def"));
    assert!(s.traffic[0].latest);

    let job = json!({
        "apiVersion": "run.googleapis.com/v1", "kind": "Job",
        "metadata": {"name": "runtime-migrate"},
        "spec": {"template": {"spec": {"template": {"spec": {"containers": [{"image": "img@sha256:bbb"}]}}}}},
        "status": {"latestCreatedExecution": {"name": "runtime-migrate-7q2kd",
            "creationTimestamp": "2026-02-21T18:55:00Z", "completionTimestamp": "2026-02-21T18:56:02Z"}}
    });
    let j = parse_job(&job);
    assert_eq!(j.image.as_deref(), Some("img@sha256:bbb"));
    assert_eq!(j.latest_execution.unwrap().name, "runtime-migrate-7q2kd");
}

#[test]
fn log_entries() {
    let text_entry = json!({
        "textPayload": "thread 'tokio-runtime-worker' panicked at src/server.rs:812:9",
        "insertId": "65d6a1f2000a1b2c3d4e5f6a",
        "resource": {"type": "cloud_run_revision", "labels": {
            "service_name": "runtime", "revision_name": "runtime-00018-def",
            "location": "us-central1", "project_id": "openagentsgemini",
            "configuration_name": "runtime"}},
        "timestamp": "2026-02-21T19:02:11.123456Z",
        "severity": "ERROR",
        "labels": {"instanceId": "00c6f0..."},
        "logName": "projects/openagentsgemini/logs/run.googleapis.com%2Fstderr",
        "receiveTimestamp": "2026-02-21T19:02:11.300000Z"
    });
    let json_entry = json!({
        "jsonPayload": {"message": "db pool exhausted", "target": "runtime::db"},
        "resource": {"type": "cloud_run_revision", "labels": {"service_name": "runtime"}},
        "timestamp": "2026-02-21T19:03:00Z",
        "severity": "CRITICAL",
        "trace": "projects/openagentsgemini/traces/4bf92f3577b34da6a3ce929d0e0e4736"
    });
    let request_entry = json!({
        "httpRequest": {"requestMethod": "GET", "requestUrl": "https://runtime/internal/v1/runs/x",
                        "status": 503, "latency": "0.1s"},
        "resource": {"type": "cloud_run_revision", "labels": {"service_name": "runtime"}},
        "severity": "ERROR",
        "logName": "projects/openagentsgemini/logs/run.googleapis.com%2Frequests"
    });
    let t = parse_log_entry(&text_entry);
    assert_eq!(t.severity, "ERROR");
    assert!(t.text.contains("panicked"));
    assert_eq!(t.revision.as_deref(), Some("runtime-00018-def"));
    assert_eq!(t.service.as_deref(), Some("runtime"));
    let j = parse_log_entry(&json_entry);
    assert_eq!(j.text, "db pool exhausted");
    assert!(severity_rank(&j.severity) >= severity_rank("ERROR"));
    let r = parse_log_entry(&request_entry);
    assert_eq!(r.text, "GET https://runtime/internal/v1/runs/x -> 503");
    assert!(severity_rank("WARNING") < severity_rank("ERROR"));
    assert_eq!(severity_rank("nonsense"), 0);
}

#[test]
fn long_log_text_is_cut_on_a_char_boundary() {
    let long = "é".repeat(3000);
    let e = parse_log_entry(&json!({"textPayload": long, "severity": "ERROR"}));
    assert!(e.text.len() <= MAX_ENTRY_TEXT + '…'.len_utf8());
    assert!(e.text.ends_with('…'));
}
