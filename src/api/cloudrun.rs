//! `cloudrun::` — read Cloud Run services, revisions, jobs and executions through the Cloud
//! Run Admin API v2 (`OA_CLOUD_RUN_ENDPOINT`, default `https://run.googleapis.com`).
//!
//! Every function takes an optional options map: `project` (default `GCP_PROJECT`), `region`
//! (default `GCP_REGION`), `timeout` (default 30 s, never past the check's deadline), and for
//! lists `limit` (default 100). Without Google credentials the check is not checked here:
//! `no Google credentials (ADC)`; an API error (401/403/404/429/5xx) errors the check with the
//! API's own message.

use crate::api::{google, script_error};
use crate::engine::context;
use crate::gcp::model::{self, newest_first};
use crate::gcp::rest::{self, Api, Call};
use crate::net::Method;
use rhai::plugin::*;
use rhai::{Array, Dynamic, EvalAltResult, Map, NativeCallContext};
use serde_json::Value;
use std::time::Duration;

use crate::api::bind::Res;

/// Pages read at most by a list call (a runaway `nextPageToken` ends here).
const MAX_PAGES: usize = 20;

struct Options {
    project: String,
    region: String,
    timeout: Duration,
    limit: usize,
}

fn options(ctx: &NativeCallContext, opts: Map) -> Res<Options> {
    let host = context::host().ok_or_else(|| script_error(ctx, "no host services"))?;
    let mut o = Options {
        project: host
            .env
            .get_nonempty("GCP_PROJECT")
            .unwrap_or("")
            .to_string(),
        region: host
            .env
            .get_nonempty("GCP_REGION")
            .unwrap_or("")
            .to_string(),
        timeout: rest::CALL_TIMEOUT,
        limit: 100,
    };
    for (key, value) in opts {
        let bad = |what: String| script_error(ctx, format!("cloudrun option `{key}`: {what}"));
        match key.as_str() {
            "project" => o.project = value.to_string(),
            "region" => o.region = value.to_string(),
            "timeout" => {
                o.timeout = crate::api::core::parse_duration(&value).map_err(bad)?;
            }
            "limit" => {
                let n = value
                    .as_int()
                    .map_err(|_| bad("expected an integer".into()))?;
                o.limit = usize::try_from(n)
                    .ok()
                    .filter(|n| *n > 0)
                    .ok_or_else(|| bad(format!("must be positive, not {n}")))?;
            }
            other => {
                return Err(script_error(
                    ctx,
                    format!(
                        "unknown cloudrun option `{other}` (expected project, region, timeout, limit)"
                    ),
                ));
            }
        }
    }
    Ok(o)
}

fn location(ctx: &NativeCallContext, o: &Options) -> Res<String> {
    Ok(format!(
        "/v2/projects/{}/locations/{}",
        google::segment(ctx, "GCP_PROJECT", &o.project)?,
        google::segment(ctx, "GCP_REGION", &o.region)?
    ))
}

fn get(ctx: &NativeCallContext, path: &str, o: &Options) -> Res<Value> {
    google::with_session(ctx, Api::CloudRun, |session, journal| {
        let call = Call {
            api: Api::CloudRun,
            method: Method::GET,
            path,
            query: Vec::new(),
            body: None,
            timeout: o.timeout,
        };
        rest::call(session, journal, &call)
    })
}

/// Every item of a paginated list (`items_field`), up to `o.limit`.
fn list(ctx: &NativeCallContext, path: &str, items_field: &str, o: &Options) -> Res<Vec<Value>> {
    google::with_session(ctx, Api::CloudRun, |session, journal| {
        rest::list(
            session,
            journal,
            items_field,
            o.limit,
            MAX_PAGES,
            |token, _| {
                let mut query = vec![("pageSize", o.limit.min(1000).to_string())];
                if let Some(t) = token {
                    query.push(("pageToken", t.to_string()));
                }
                Call {
                    api: Api::CloudRun,
                    method: Method::GET,
                    path,
                    query,
                    body: None,
                    timeout: o.timeout,
                }
            },
        )
    })
}

fn to_dynamic(ctx: &NativeCallContext, value: &impl serde::Serialize) -> Res<Dynamic> {
    rhai::serde::to_dynamic(value).map_err(|e| script_error(ctx, e.to_string()))
}

fn service_impl(ctx: &NativeCallContext, name: &str, opts: Map) -> Res<Dynamic> {
    let o = options(ctx, opts)?;
    let path = format!(
        "{}/services/{}",
        location(ctx, &o)?,
        google::segment(ctx, "service", name)?
    );
    let service = model::parse_service(&get(ctx, &path, &o)?);
    context::log(format!(
        "service {}: image {}, latest ready {}, latest created {}, traffic {}",
        service.name,
        service.image.as_deref().unwrap_or("-"),
        service.latest_ready_revision.as_deref().unwrap_or("-"),
        service.latest_created_revision.as_deref().unwrap_or("-"),
        service
            .traffic
            .iter()
            .map(|t| format!("{}={}%", t.revision.as_deref().unwrap_or("?"), t.percent))
            .collect::<Vec<_>>()
            .join(", ")
    ));
    to_dynamic(ctx, &service)
}

fn revisions_impl(ctx: &NativeCallContext, service: &str, opts: Map) -> Res<Array> {
    let o = options(ctx, opts)?;
    let path = format!(
        "{}/services/{}/revisions",
        location(ctx, &o)?,
        google::segment(ctx, "service", service)?
    );
    let mut revisions: Vec<model::Revision> = list(ctx, &path, "revisions", &o)?
        .iter()
        .map(model::parse_revision)
        .collect();
    newest_first(&mut revisions, |r| r.create_time.as_deref());
    revisions.truncate(o.limit);
    revisions.iter().map(|r| to_dynamic(ctx, r)).collect()
}

fn job_impl(ctx: &NativeCallContext, name: &str, opts: Map) -> Res<Dynamic> {
    let o = options(ctx, opts)?;
    let path = format!(
        "{}/jobs/{}",
        location(ctx, &o)?,
        google::segment(ctx, "job", name)?
    );
    let job = model::parse_job(&get(ctx, &path, &o)?);
    to_dynamic(ctx, &job)
}

fn executions_impl(ctx: &NativeCallContext, job: &str, opts: Map) -> Res<Array> {
    let o = options(ctx, opts)?;
    let path = format!(
        "{}/jobs/{}/executions",
        location(ctx, &o)?,
        google::segment(ctx, "job", job)?
    );
    let mut executions: Vec<model::Execution> = list(ctx, &path, "executions", &o)?
        .iter()
        .map(model::parse_execution)
        .collect();
    newest_first(&mut executions, |e| e.create_time.as_deref());
    executions.truncate(o.limit);
    executions.iter().map(|e| to_dynamic(ctx, e)).collect()
}

#[export_module]
pub mod cloudrun_api {
    /// The Cloud Run service `name`, a map: `name`, `resource` (full resource name), `image`
    /// (first container of the template), `images`, `url`, `traffic` (where traffic goes, from
    /// `trafficStatuses`: array of `#{revision, percent, latest, tag}`, a "latest" target
    /// resolved to the latest ready revision), `traffic_spec` (the desired `traffic`),
    /// `latest_ready_revision`, `latest_created_revision` (short names), `ready` (terminal
    /// condition succeeded), `conditions` (array of `#{type, state, raw_state, reason,
    /// message}`, `state` one of succeeded/failed/pending/unknown).
    #[rhai_fn(name = "service", return_raw)]
    pub fn service(ctx: NativeCallContext, name: &str) -> Result<Dynamic, Box<EvalAltResult>> {
        service_impl(&ctx, name, Map::new())
    }
    /// `service(name)` with options `project`, `region`, `timeout`.
    #[rhai_fn(name = "service", return_raw)]
    pub fn service_with(
        ctx: NativeCallContext,
        name: &str,
        opts: Map,
    ) -> Result<Dynamic, Box<EvalAltResult>> {
        service_impl(&ctx, name, opts)
    }

    /// The revisions of service `name`, newest first: maps `name`, `resource`, `service`,
    /// `image`, `ready` (the Ready condition succeeded), `create_time`, `conditions`.
    #[rhai_fn(name = "revisions", return_raw)]
    pub fn revisions(ctx: NativeCallContext, service: &str) -> Result<Array, Box<EvalAltResult>> {
        revisions_impl(&ctx, service, Map::new())
    }
    /// `revisions(service)` with options `project`, `region`, `timeout`, `limit`.
    #[rhai_fn(name = "revisions", return_raw)]
    pub fn revisions_with(
        ctx: NativeCallContext,
        service: &str,
        opts: Map,
    ) -> Result<Array, Box<EvalAltResult>> {
        revisions_impl(&ctx, service, opts)
    }

    /// The Cloud Run job `name`: `name`, `resource`, `image` (first container of the task
    /// template), `latest_execution` (`#{name, create_time, completion_time,
    /// completion_status}` or `()`), `conditions`.
    #[rhai_fn(name = "job", return_raw)]
    pub fn job(ctx: NativeCallContext, name: &str) -> Result<Dynamic, Box<EvalAltResult>> {
        job_impl(&ctx, name, Map::new())
    }
    /// `job(name)` with options `project`, `region`, `timeout`.
    #[rhai_fn(name = "job", return_raw)]
    pub fn job_with(
        ctx: NativeCallContext,
        name: &str,
        opts: Map,
    ) -> Result<Dynamic, Box<EvalAltResult>> {
        job_impl(&ctx, name, opts)
    }

    /// The executions of job `name`, newest first: maps `name`, `resource`, `job`, `image`,
    /// `state` (succeeded/failed/running/unknown), `succeeded`, `failed` (bools, from the
    /// `Completed` condition: v2 `state: CONDITION_SUCCEEDED` or v1 `status: "True"`),
    /// `create_time`, `completion_time`, `succeeded_count`, `failed_count`, `conditions`.
    #[rhai_fn(name = "executions", return_raw)]
    pub fn executions(ctx: NativeCallContext, job: &str) -> Result<Array, Box<EvalAltResult>> {
        executions_impl(&ctx, job, Map::new())
    }
    /// `executions(job)` with options `project`, `region`, `timeout`, `limit`.
    #[rhai_fn(name = "executions", return_raw)]
    pub fn executions_with(
        ctx: NativeCallContext,
        job: &str,
        opts: Map,
    ) -> Result<Array, Box<EvalAltResult>> {
        executions_impl(&ctx, job, opts)
    }
}
