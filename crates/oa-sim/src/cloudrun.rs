//! The Cloud Run Admin API v2 subset the lanes read — services, revisions, jobs, executions —
//! in the API's JSON shapes, behind a bearer token like the real API. Also the Google error
//! envelope and the token check shared with the Cloud Logging surface.

use super::Fault;
use super::routes::{Routes, SimRoute};
use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{Duration as Age, SecondsFormat, Utc};
use serde_json::{Value, json};
use std::collections::HashSet;
use std::sync::Arc;

/// The Google Cloud names the sim answers for (the upstream defaults unless configured).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GcpNames {
    pub project: String,
    pub region: String,
    pub control_service: String,
    pub runtime_service: String,
    pub migrate_job: String,
}

impl Default for GcpNames {
    fn default() -> Self {
        GcpNames {
            project: "openagentsgemini".to_string(),
            region: "us-central1".to_string(),
            control_service: "openagents-control-service".to_string(),
            runtime_service: "runtime".to_string(),
            migrate_job: "runtime-migrate".to_string(),
        }
    }
}

/// State shared by the simulated Google APIs.
pub(super) struct GoogleState {
    pub(super) names: GcpNames,
    pub(super) token: String,
    pub(super) faults: Arc<HashSet<Fault>>,
}

impl GoogleState {
    pub(super) fn has(&self, fault: Fault) -> bool {
        self.faults.contains(&fault)
    }

    /// The 401 to answer unless the request carries the sim's Google access token.
    pub(super) fn refusal(&self, headers: &HeaderMap) -> Option<Response> {
        let presented = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, token)| token.trim());
        if presented == Some(self.token.as_str()) {
            None
        } else {
            Some(google_error(
                StatusCode::UNAUTHORIZED,
                "UNAUTHENTICATED",
                "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.",
            ))
        }
    }
}

/// Google's error envelope `{"error": {"code", "message", "status"}}`.
pub(super) fn google_error(status: StatusCode, code: &str, message: &str) -> Response {
    (
        status,
        axum::Json(json!({"error": {"code": status.as_u16(), "message": message, "status": code}})),
    )
        .into_response()
}

type Shared = State<Arc<GoogleState>>;

fn routes() -> Routes<Arc<GoogleState>> {
    let base = "/v2/projects/{project}/locations/{region}";
    Routes::new("cloud-run")
        .get(&format!("{base}/services/{{service}}"), service)
        .get(&format!("{base}/services/{{service}}/revisions"), revisions)
        .get(&format!("{base}/jobs/{{job}}"), job)
        .get(&format!("{base}/jobs/{{job}}/executions"), executions)
}

pub(super) fn inventory() -> Vec<SimRoute> {
    routes().into_parts().1
}

pub(super) fn router(state: Arc<GoogleState>) -> Router {
    google_router(routes(), state)
}

/// A simulated Google API's router: its routes, and Google's 404 envelope for any other path.
pub(super) fn google_router<S: Send + Sync + 'static>(
    routes: Routes<Arc<S>>,
    state: Arc<S>,
) -> Router {
    routes
        .into_parts()
        .0
        .fallback(|| async {
            google_error(
                StatusCode::NOT_FOUND,
                "NOT_FOUND",
                "The requested URL was not found.",
            )
        })
        .with_state(state)
}

fn time_ago(minutes: i64) -> String {
    (Utc::now() - Age::minutes(minutes)).to_rfc3339_opts(SecondsFormat::Micros, true)
}

fn image(names: &GcpNames, app: &str, digest: &str) -> String {
    format!(
        "{}-docker.pkg.dev/{}/openagents/{app}@sha256:{digest}",
        names.region, names.project
    )
}

/// The runtime image the service runs and the migrate job should run.
fn runtime_image(names: &GcpNames) -> String {
    image(names, "runtime", &"7".repeat(64))
}

fn location(names: &GcpNames) -> String {
    format!("projects/{}/locations/{}", names.project, names.region)
}

/// One simulated revision of a service.
struct RevisionSpec {
    name: String,
    image: String,
    ready: bool,
    age_minutes: i64,
}

/// A service's revisions (oldest first) and where its traffic goes.
struct ServiceSpec {
    revisions: Vec<RevisionSpec>,
    latest_ready: String,
    latest_created: String,
    /// (revision or None for LATEST, percent, tag)
    traffic: Vec<(Option<String>, i64, Option<&'static str>)>,
    image: String,
}

fn service_spec(st: &GoogleState, name: &str) -> Option<ServiceSpec> {
    let names = &st.names;
    let (app, numbers, split) = if name == names.control_service {
        ("control", [40, 41, 42], false)
    } else if name == names.runtime_service {
        ("runtime", [16, 17, 18], true)
    } else {
        return None;
    };
    let current = if app == "runtime" {
        runtime_image(names)
    } else {
        image(names, app, &"c".repeat(64))
    };
    let older = image(names, app, &"b".repeat(64));
    let rev = |n: i64| format!("{name}-{n:05}-s{}m", n % 10);
    let no_rollback = st.has(Fault::NoRollbackRevision);
    let mut revisions: Vec<RevisionSpec> = numbers
        .iter()
        .enumerate()
        .map(|(i, &n)| RevisionSpec {
            name: rev(n),
            image: if i == 2 {
                current.clone()
            } else {
                older.clone()
            },
            // Without a rollback target every older revision has failed.
            ready: i == 2 || !no_rollback,
            age_minutes: 60 * 24 * (3 - i as i64),
        })
        .collect();
    let latest_ready = rev(numbers[2]);
    let mut latest_created = latest_ready.clone();
    if st.has(Fault::LatestNotReady) {
        let broken = rev(numbers[2] + 1);
        revisions.push(RevisionSpec {
            name: broken.clone(),
            image: image(names, app, &"d".repeat(64)),
            ready: false,
            age_minutes: 5,
        });
        latest_created = broken;
    }
    let mut traffic = if split && !no_rollback {
        vec![
            (Some(rev(numbers[1])), 90, None),
            (None, 10, Some("canary")),
        ]
    } else {
        vec![(None, 100, None)]
    };
    if st.has(Fault::TrafficSplitBroken) {
        // Observed statuses that no longer add up (a half-applied traffic update).
        traffic[0].1 -= 10 + 10 * i64::from(traffic.len() > 1);
    }
    Some(ServiceSpec {
        revisions,
        latest_ready,
        latest_created,
        traffic,
        image: current,
    })
}

fn condition(kind: &str, ok: bool, message: Option<&str>) -> Value {
    let mut c = json!({
        "type": kind,
        "state": if ok { "CONDITION_SUCCEEDED" } else { "CONDITION_FAILED" },
        "lastTransitionTime": time_ago(30),
    });
    if let Some(m) = message {
        c["message"] = json!(m);
        c["reason"] = json!("HEALTH_CHECK_CONTAINER_ERROR");
    }
    c
}

/// The error to answer instead of the resource, if any: no token, the 403 fault, or a
/// project/region the sim does not hold.
fn refusal(st: &GoogleState, headers: &HeaderMap, project: &str, region: &str) -> Option<Response> {
    if let Some(r) = st.refusal(headers) {
        return Some(r);
    }
    if st.has(Fault::Cloudrun403) {
        return Some(google_error(
            StatusCode::FORBIDDEN,
            "PERMISSION_DENIED",
            &format!(
                "Permission 'run.services.get' denied on resource 'projects/{project}/locations/{region}' (or resource may not exist)."
            ),
        ));
    }
    if project != st.names.project || region != st.names.region {
        return Some(not_found("location", &format!("{project}/{region}")));
    }
    None
}

fn not_found(kind: &str, name: &str) -> Response {
    google_error(
        StatusCode::NOT_FOUND,
        "NOT_FOUND",
        &format!(
            "Resource '{name}' of kind '{}' does not exist.",
            kind.to_uppercase()
        ),
    )
}

/// A service as a request for it sees it: (resource name, spec), or the API's refusal
/// (credentials, project, region, an unknown service).
fn sim_service(
    st: &GoogleState,
    headers: &HeaderMap,
    project: &str,
    region: &str,
    name: &str,
) -> Result<(String, ServiceSpec), Box<Response>> {
    if let Some(r) = refusal(st, headers, project, region) {
        return Err(Box::new(r));
    }
    let Some(spec) = service_spec(st, name) else {
        return Err(Box::new(not_found("service", name)));
    };
    Ok((format!("{}/services/{name}", location(&st.names)), spec))
}

async fn service(
    State(st): Shared,
    headers: HeaderMap,
    Path((project, region, name)): Path<(String, String, String)>,
) -> Response {
    let (base, spec) = match sim_service(&st, &headers, &project, &region, &name) {
        Ok(found) => found,
        Err(refused) => return *refused,
    };
    let revision_resource = |r: &str| format!("{base}/revisions/{r}");
    let traffic: Vec<Value> = spec
        .traffic
        .iter()
        .map(|(revision, percent, tag)| {
            let mut t = match revision {
                Some(r) => json!({"type": "TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION", "revision": r, "percent": percent}),
                None => json!({"type": "TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST", "percent": percent}),
            };
            if let Some(tag) = tag {
                t["tag"] = json!(tag);
            }
            t
        })
        .collect();
    let ready = spec.latest_created == spec.latest_ready;
    let terminal = if ready {
        condition("Ready", true, None)
    } else {
        condition(
            "Ready",
            false,
            Some(&format!(
                "Revision '{}' is not ready and cannot serve traffic. The user-provided container failed to start and listen on the port defined provided by the PORT=8080 environment variable.",
                spec.latest_created
            )),
        )
    };
    axum::Json(json!({
        "name": base,
        "uid": "5e0f1c2a-7b3d-4e5f-8a9b-0c1d2e3f4a5b",
        "generation": "18",
        "createTime": time_ago(60 * 24 * 30),
        "updateTime": time_ago(60),
        "ingress": "INGRESS_TRAFFIC_ALL",
        "launchStage": "GA",
        "template": {
            "serviceAccount": format!("{name}@{}.iam.gserviceaccount.com", st.names.project),
            "containers": [{"image": spec.image, "ports": [{"name": "http1", "containerPort": 8080}],
                            "resources": {"limits": {"cpu": "1000m", "memory": "512Mi"}}}],
            "maxInstanceRequestConcurrency": 80,
            "timeout": "300s",
        },
        "traffic": traffic,
        "observedGeneration": "18",
        "terminalCondition": terminal,
        "conditions": [condition("RoutesReady", true, None), condition("ConfigurationsReady", ready, None)],
        "latestReadyRevision": revision_resource(&spec.latest_ready),
        "latestCreatedRevision": revision_resource(&spec.latest_created),
        "trafficStatuses": traffic,
        "uri": format!("https://{name}-sim-uc.a.run.app"),
        "urls": [format!("https://{name}-123456789.{}.run.app", st.names.region)],
        "etag": "\"sim\"",
    }))
    .into_response()
}

async fn revisions(
    State(st): Shared,
    headers: HeaderMap,
    Path((project, region, name)): Path<(String, String, String)>,
) -> Response {
    let (base, spec) = match sim_service(&st, &headers, &project, &region, &name) {
        Ok(found) => found,
        Err(refused) => return *refused,
    };
    // The API lists newest first.
    let list: Vec<Value> = spec
        .revisions
        .iter()
        .rev()
        .map(|r| {
            json!({
                "name": format!("{base}/revisions/{}", r.name),
                "service": base,
                "generation": "1",
                "createTime": time_ago(r.age_minutes),
                "containers": [{"image": r.image}],
                "conditions": [
                    if r.ready { condition("Ready", true, None) }
                    else { condition("Ready", false, Some("The user-provided container failed to start.")) },
                    condition("ContainerHealthy", r.ready, None),
                ],
            })
        })
        .collect();
    axum::Json(json!({"revisions": list})).into_response()
}

/// The migrate job's image and its executions (newest first): (name, age, succeeded, image).
fn job_spec(st: &GoogleState) -> (String, Executions) {
    let names = &st.names;
    let current = runtime_image(names);
    let job_image = if st.has(Fault::JobImageDrift) {
        image(names, "runtime", &"b".repeat(64))
    } else {
        current
    };
    let job = &names.migrate_job;
    let executions = if st.has(Fault::NoExecutions) {
        Vec::new()
    } else {
        vec![
            (
                format!("{job}-7q2kd"),
                65,
                !st.has(Fault::ExecutionFailed),
                job_image.clone(),
            ),
            (
                format!("{job}-5m8tx"),
                60 * 24 * 2,
                true,
                image(names, "runtime", &"b".repeat(64)),
            ),
        ]
    };
    (job_image, executions)
}

type Executions = Vec<(String, i64, bool, String)>;

/// The migrate job as a request for it sees it: (resource name, template image, executions
/// newest first), or the API's refusal (credentials, project, region, an unknown job).
fn migrate_job(
    st: &GoogleState,
    headers: &HeaderMap,
    project: &str,
    region: &str,
    name: &str,
) -> Result<(String, String, Executions), Box<Response>> {
    if let Some(r) = refusal(st, headers, project, region) {
        return Err(Box::new(r));
    }
    if name != st.names.migrate_job {
        return Err(Box::new(not_found("job", name)));
    }
    let (job_image, executions) = job_spec(st);
    Ok((
        format!("{}/jobs/{name}", location(&st.names)),
        job_image,
        executions,
    ))
}

async fn job(
    State(st): Shared,
    headers: HeaderMap,
    Path((project, region, name)): Path<(String, String, String)>,
) -> Response {
    let (base, job_image, executions) = match migrate_job(&st, &headers, &project, &region, &name) {
        Ok(found) => found,
        Err(refused) => return *refused,
    };
    let mut body = json!({
        "name": base,
        "uid": "9a8b7c6d-5e4f-4a3b-2c1d-0e9f8a7b6c5d",
        "generation": "7",
        "createTime": time_ago(60 * 24 * 30),
        "launchStage": "GA",
        "template": {"taskCount": 1, "template": {
            "containers": [{"image": job_image, "command": ["/app/runtime-migrate"]}],
            "maxRetries": 0, "timeout": "600s",
        }},
        "terminalCondition": condition("Ready", true, None),
        "executionCount": executions.len(),
    });
    if let Some((latest, age, ok, _)) = executions.first() {
        body["latestCreatedExecution"] = json!({
            "name": format!("{base}/executions/{latest}"),
            "createTime": time_ago(*age),
            "completionTime": time_ago(*age - 1),
            "completionStatus": if *ok { "EXECUTION_SUCCEEDED" } else { "EXECUTION_FAILED" },
        });
    }
    axum::Json(body).into_response()
}

async fn executions(
    State(st): Shared,
    headers: HeaderMap,
    Path((project, region, name)): Path<(String, String, String)>,
) -> Response {
    let (base, _, executions) = match migrate_job(&st, &headers, &project, &region, &name) {
        Ok(found) => found,
        Err(refused) => return *refused,
    };
    let list: Vec<Value> = executions
        .iter()
        .map(|(execution, age, ok, image)| {
            let mut e = json!({
                "name": format!("{base}/executions/{execution}"),
                "job": name,
                "createTime": time_ago(*age),
                "startTime": time_ago(*age),
                "completionTime": time_ago(*age - 1),
                "taskCount": 1,
                "template": {"containers": [{"image": image}]},
                "conditions": [
                    condition("ResourcesAvailable", true, None),
                    condition("Started", true, None),
                ],
            });
            if *ok {
                e["succeededCount"] = json!(1);
                e["conditions"].as_array_mut().expect("array").push(json!({
                    "type": "Completed", "state": "CONDITION_SUCCEEDED",
                    "message": "Execution completed successfully in 58s.",
                }));
            } else {
                e["failedCount"] = json!(1);
                e["conditions"].as_array_mut().expect("array").push(json!({
                    "type": "Completed", "state": "CONDITION_FAILED",
                    "message": format!("Task {execution}-task0 failed with message: The container exited with an error."),
                }));
            }
            e
        })
        .collect();
    let mut body = json!({});
    if !list.is_empty() {
        body["executions"] = json!(list);
    }
    axum::Json(body).into_response()
}
