//! Cloud Run and Cloud Logging resources as the lanes see them, read from the APIs' JSON.
//!
//! The Cloud Run Admin API v2 is what oa-validate calls; the parsers also accept the v1
//! (Knative) shape that `gcloud ... --format=json` prints (`spec.template.spec.containers`,
//! `status.conditions[]{type, status: "True"}`), so a resource saved from either source reads
//! the same. Names are short (`runtime-00017-xyz`); the full resource name is kept in
//! `resource`.

use serde::Serialize;
use serde_json::Value;

/// A resource condition, with its state normalised across API versions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Condition {
    /// `Ready`, `Completed`, `RoutesReady`, ...
    #[serde(rename = "type")]
    pub kind: String,
    /// `succeeded`, `failed`, `pending` or `unknown`.
    pub state: String,
    /// The API's own value (`CONDITION_SUCCEEDED`, or v1 `True`/`False`/`Unknown`).
    pub raw_state: String,
    pub reason: Option<String>,
    pub message: Option<String>,
}

impl Condition {
    pub fn succeeded(&self) -> bool {
        self.state == "succeeded"
    }
    pub fn failed(&self) -> bool {
        self.state == "failed"
    }
}

/// One traffic target: a share of requests sent to a revision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TrafficTarget {
    /// Short revision name; for a "latest" target, the latest ready revision it resolves to.
    pub revision: Option<String>,
    pub percent: i64,
    /// True when the target follows the latest ready revision.
    pub latest: bool,
    pub tag: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Service {
    pub name: String,
    pub resource: String,
    /// The first container's image of the service template.
    pub image: Option<String>,
    pub images: Vec<String>,
    pub url: Option<String>,
    /// Where traffic actually goes: `trafficStatuses` (observed), else the `traffic` spec.
    pub traffic: Vec<TrafficTarget>,
    /// The `traffic` spec as written (desired).
    pub traffic_spec: Vec<TrafficTarget>,
    pub latest_ready_revision: Option<String>,
    pub latest_created_revision: Option<String>,
    /// The service's terminal (v1: `Ready`) condition succeeded.
    pub ready: bool,
    pub conditions: Vec<Condition>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Revision {
    pub name: String,
    pub resource: String,
    pub service: Option<String>,
    pub image: Option<String>,
    /// The `Ready` condition succeeded.
    pub ready: bool,
    pub create_time: Option<String>,
    pub conditions: Vec<Condition>,
}

/// A job's pointer to its newest execution.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExecutionReference {
    pub name: String,
    pub create_time: Option<String>,
    pub completion_time: Option<String>,
    /// `EXECUTION_SUCCEEDED`, `EXECUTION_FAILED`, ... (v2 only).
    pub completion_status: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Job {
    pub name: String,
    pub resource: String,
    /// The first container's image of the task template.
    pub image: Option<String>,
    pub latest_execution: Option<ExecutionReference>,
    pub conditions: Vec<Condition>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Execution {
    pub name: String,
    pub resource: String,
    pub job: Option<String>,
    pub image: Option<String>,
    /// `succeeded`, `failed`, `running` or `unknown`.
    pub state: String,
    pub succeeded: bool,
    pub failed: bool,
    pub create_time: Option<String>,
    pub completion_time: Option<String>,
    pub succeeded_count: i64,
    pub failed_count: i64,
    pub conditions: Vec<Condition>,
}

/// A Cloud Logging entry, reduced to what a release engineer reads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LogEntry {
    pub timestamp: Option<String>,
    pub severity: String,
    /// `textPayload`, else `jsonPayload.message`, else the request line or the compact payload.
    pub text: String,
    pub log_name: Option<String>,
    pub insert_id: Option<String>,
    pub service: Option<String>,
    pub revision: Option<String>,
    pub trace: Option<String>,
}

/// The text of a log entry is cut here: the evidence wants the gist, not a 1 MB payload.
const MAX_ENTRY_TEXT: usize = 2000;

fn text(v: &Value, pointer: &str) -> Option<String> {
    v.pointer(pointer)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

fn int(v: &Value, pointer: &str) -> i64 {
    match v.pointer(pointer) {
        Some(Value::Number(n)) => n.as_i64().unwrap_or(0),
        // proto3 JSON writes int64 as strings.
        Some(Value::String(s)) => s.parse().unwrap_or(0),
        _ => 0,
    }
}

/// The last path segment of a resource name (`.../revisions/x` -> `x`).
pub fn short_name(name: &str) -> String {
    name.rsplit('/').next().unwrap_or(name).to_string()
}

fn short(v: &Value, pointer: &str) -> Option<String> {
    text(v, pointer).map(|n| short_name(&n))
}

fn is_v1(v: &Value) -> bool {
    v.get("metadata").is_some() || v.get("spec").is_some() || v.get("apiVersion").is_some()
}

fn parse_condition(c: &Value) -> Condition {
    let kind = text(c, "/type").unwrap_or_default();
    let (raw_state, state) = if let Some(s) = text(c, "/state") {
        let normal = match s.as_str() {
            "CONDITION_SUCCEEDED" => "succeeded",
            "CONDITION_FAILED" => "failed",
            "CONDITION_PENDING" | "CONDITION_RECONCILING" => "pending",
            _ => "unknown",
        };
        (s, normal)
    } else {
        let s = text(c, "/status").unwrap_or_default();
        let normal = match s.as_str() {
            "True" => "succeeded",
            "False" => "failed",
            _ => "unknown",
        };
        (s, normal)
    };
    Condition {
        kind,
        state: state.to_string(),
        raw_state,
        reason: text(c, "/reason").or_else(|| text(c, "/revisionReason")),
        message: text(c, "/message"),
    }
}

fn conditions_at(v: &Value, pointer: &str) -> Vec<Condition> {
    v.pointer(pointer)
        .and_then(Value::as_array)
        .map(|a| a.iter().map(parse_condition).collect())
        .unwrap_or_default()
}

fn images_at(v: &Value, pointer: &str) -> Vec<String> {
    v.pointer(pointer)
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(|c| text(c, "/image")).collect())
        .unwrap_or_default()
}

fn find<'a>(conditions: &'a [Condition], kind: &str) -> Option<&'a Condition> {
    conditions.iter().find(|c| c.kind == kind)
}

fn parse_traffic(list: Option<&Value>, v1: bool, latest_ready: Option<&str>) -> Vec<TrafficTarget> {
    let Some(items) = list.and_then(Value::as_array) else {
        return Vec::new();
    };
    items
        .iter()
        .map(|t| {
            let latest = if v1 {
                t.get("latestRevision").and_then(Value::as_bool) == Some(true)
            } else {
                text(t, "/type").as_deref() == Some("TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST")
            };
            let named = if v1 {
                short(t, "/revisionName")
            } else {
                short(t, "/revision")
            };
            let revision = match (named, latest) {
                (Some(r), _) => Some(r),
                (None, true) => latest_ready.map(str::to_string),
                (None, false) => None,
            };
            TrafficTarget {
                revision,
                percent: int(t, "/percent"),
                latest,
                tag: text(t, "/tag"),
            }
        })
        .collect()
}

/// A Cloud Run service (v2 `Service`, or a v1 Knative service).
pub fn parse_service(v: &Value) -> Service {
    if is_v1(v) {
        let latest_ready = short(v, "/status/latestReadyRevisionName");
        let traffic = parse_traffic(v.pointer("/status/traffic"), true, latest_ready.as_deref());
        let spec = parse_traffic(v.pointer("/spec/traffic"), true, latest_ready.as_deref());
        let conditions = conditions_at(v, "/status/conditions");
        let images = images_at(v, "/spec/template/spec/containers");
        return Service {
            name: text(v, "/metadata/name").unwrap_or_default(),
            resource: text(v, "/metadata/selfLink")
                .or_else(|| text(v, "/metadata/name"))
                .unwrap_or_default(),
            image: images.first().cloned(),
            images,
            url: text(v, "/status/url"),
            traffic: if traffic.is_empty() {
                spec.clone()
            } else {
                traffic
            },
            traffic_spec: spec,
            latest_created_revision: short(v, "/status/latestCreatedRevisionName"),
            latest_ready_revision: latest_ready,
            ready: find(&conditions, "Ready").is_some_and(Condition::succeeded),
            conditions,
        };
    }
    let resource = text(v, "/name").unwrap_or_default();
    let latest_ready = short(v, "/latestReadyRevision");
    let statuses = parse_traffic(v.get("trafficStatuses"), false, latest_ready.as_deref());
    let spec = parse_traffic(v.get("traffic"), false, latest_ready.as_deref());
    let mut conditions = Vec::new();
    if let Some(terminal) = v.get("terminalCondition") {
        conditions.push(parse_condition(terminal));
    }
    conditions.extend(conditions_at(v, "/conditions"));
    let ready = v
        .get("terminalCondition")
        .map(parse_condition)
        .or_else(|| find(&conditions, "Ready").cloned())
        .is_some_and(|c| c.succeeded());
    let images = images_at(v, "/template/containers");
    Service {
        name: short_name(&resource),
        resource,
        image: images.first().cloned(),
        images,
        url: text(v, "/uri").or_else(|| text(v, "/urls/0")),
        traffic: if statuses.is_empty() {
            spec.clone()
        } else {
            statuses
        },
        traffic_spec: spec,
        latest_created_revision: short(v, "/latestCreatedRevision"),
        latest_ready_revision: latest_ready,
        ready,
        conditions,
    }
}

/// A revision (v2 `Revision`, or v1).
pub fn parse_revision(v: &Value) -> Revision {
    if is_v1(v) {
        let conditions = conditions_at(v, "/status/conditions");
        return Revision {
            name: text(v, "/metadata/name").unwrap_or_default(),
            resource: text(v, "/metadata/name").unwrap_or_default(),
            service: text(v, "/metadata/labels/serving.knative.dev~1service"),
            image: images_at(v, "/spec/containers").into_iter().next(),
            ready: find(&conditions, "Ready").is_some_and(Condition::succeeded),
            create_time: text(v, "/metadata/creationTimestamp"),
            conditions,
        };
    }
    let resource = text(v, "/name").unwrap_or_default();
    let conditions = conditions_at(v, "/conditions");
    let ready = match v.get("terminalCondition") {
        Some(terminal) => parse_condition(terminal).succeeded(),
        None => find(&conditions, "Ready").is_some_and(Condition::succeeded),
    };
    Revision {
        name: short_name(&resource),
        resource,
        service: short(v, "/service"),
        image: images_at(v, "/containers").into_iter().next(),
        ready,
        create_time: text(v, "/createTime"),
        conditions,
    }
}

/// A job (v2 `Job`, or v1).
pub fn parse_job(v: &Value) -> Job {
    if is_v1(v) {
        let latest = v
            .pointer("/status/latestCreatedExecution")
            .and_then(|e| text(e, "/name"))
            .map(|name| ExecutionReference {
                name: short_name(&name),
                create_time: text(v, "/status/latestCreatedExecution/creationTimestamp"),
                completion_time: text(v, "/status/latestCreatedExecution/completionTimestamp"),
                completion_status: None,
            });
        return Job {
            name: text(v, "/metadata/name").unwrap_or_default(),
            resource: text(v, "/metadata/name").unwrap_or_default(),
            image: images_at(v, "/spec/template/spec/template/spec/containers")
                .into_iter()
                .next(),
            latest_execution: latest,
            conditions: conditions_at(v, "/status/conditions"),
        };
    }
    let resource = text(v, "/name").unwrap_or_default();
    let latest = text(v, "/latestCreatedExecution/name").map(|name| ExecutionReference {
        name: short_name(&name),
        create_time: text(v, "/latestCreatedExecution/createTime"),
        completion_time: text(v, "/latestCreatedExecution/completionTime"),
        completion_status: text(v, "/latestCreatedExecution/completionStatus"),
    });
    let mut conditions = Vec::new();
    if let Some(terminal) = v.get("terminalCondition") {
        conditions.push(parse_condition(terminal));
    }
    conditions.extend(conditions_at(v, "/conditions"));
    Job {
        name: short_name(&resource),
        resource,
        image: images_at(v, "/template/template/containers")
            .into_iter()
            .next(),
        latest_execution: latest,
        conditions,
    }
}

/// An execution (v2 `Execution`, or v1). Success is read from the `Completed` condition in
/// either shape (`state: CONDITION_SUCCEEDED` or `status: "True"`); without one, from the
/// counts once the execution has completed.
pub fn parse_execution(v: &Value) -> Execution {
    let v1 = is_v1(v);
    let (resource, image, conditions, create_time, completion_time, job) = if v1 {
        (
            text(v, "/metadata/name").unwrap_or_default(),
            images_at(v, "/spec/template/spec/containers")
                .into_iter()
                .next(),
            conditions_at(v, "/status/conditions"),
            text(v, "/metadata/creationTimestamp"),
            text(v, "/status/completionTime"),
            text(v, "/metadata/labels/run.googleapis.com~1job"),
        )
    } else {
        (
            text(v, "/name").unwrap_or_default(),
            images_at(v, "/template/containers").into_iter().next(),
            conditions_at(v, "/conditions"),
            text(v, "/createTime"),
            text(v, "/completionTime"),
            short(v, "/job"),
        )
    };
    let prefix = if v1 { "/status" } else { "" };
    let succeeded_count = int(v, &format!("{prefix}/succeededCount"));
    let failed_count = int(v, &format!("{prefix}/failedCount"));
    let completed = find(&conditions, "Completed");
    let state = match completed {
        Some(c) if c.succeeded() => "succeeded",
        Some(c) if c.failed() => "failed",
        _ if completion_time.is_some() && failed_count > 0 => "failed",
        _ if completion_time.is_some() && succeeded_count > 0 => "succeeded",
        _ if completion_time.is_none() && completed.is_some_and(|c| c.state == "pending") => {
            "running"
        }
        _ => "unknown",
    };
    Execution {
        name: short_name(&resource),
        resource,
        job,
        image,
        state: state.to_string(),
        succeeded: state == "succeeded",
        failed: state == "failed",
        create_time,
        completion_time,
        succeeded_count,
        failed_count,
        conditions,
    }
}

/// Sorts newest first by creation time (RFC 3339 strings compare in time order when they
/// share a format; entries without a time go last).
pub fn newest_first<T>(items: &mut [T], created: impl Fn(&T) -> Option<&str>) {
    items.sort_by(|a, b| match (created(a), created(b)) {
        (Some(x), Some(y)) => y.cmp(x),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => std::cmp::Ordering::Equal,
    });
}

/// Cloud Logging's severity order; unknown names rank as DEFAULT.
pub fn severity_rank(severity: &str) -> u32 {
    match severity.to_ascii_uppercase().as_str() {
        "DEBUG" => 100,
        "INFO" => 200,
        "NOTICE" => 300,
        "WARNING" => 400,
        "ERROR" => 500,
        "CRITICAL" => 600,
        "ALERT" => 700,
        "EMERGENCY" => 800,
        _ => 0,
    }
}

/// A Logging v2 `LogEntry`.
pub fn parse_log_entry(v: &Value) -> LogEntry {
    let text_payload = text(v, "/textPayload")
        .or_else(|| text(v, "/jsonPayload/message"))
        .or_else(|| text(v, "/jsonPayload/msg"))
        .or_else(|| text(v, "/protoPayload/status/message"))
        .or_else(|| {
            v.get("httpRequest").map(|r| {
                format!(
                    "{} {} -> {}",
                    text(r, "/requestMethod").unwrap_or_default(),
                    text(r, "/requestUrl").unwrap_or_default(),
                    int(r, "/status")
                )
            })
        })
        .or_else(|| v.get("jsonPayload").map(Value::to_string))
        .unwrap_or_default();
    let mut text_payload = text_payload;
    if text_payload.len() > MAX_ENTRY_TEXT {
        let mut end = MAX_ENTRY_TEXT;
        while !text_payload.is_char_boundary(end) {
            end -= 1;
        }
        text_payload.truncate(end);
        text_payload.push('…');
    }
    LogEntry {
        timestamp: text(v, "/timestamp"),
        severity: text(v, "/severity").unwrap_or_else(|| "DEFAULT".to_string()),
        text: text_payload,
        log_name: text(v, "/logName"),
        insert_id: text(v, "/insertId"),
        service: text(v, "/resource/labels/service_name"),
        revision: text(v, "/resource/labels/revision_name"),
        trace: text(v, "/trace"),
    }
}

#[cfg(test)]
mod tests;
