//! The Rhai API: one file per namespace, each an `#[export_module]`.
//!
//! Doc comments on the exported functions are the reference documentation: they flow into
//! the engine's metadata (`oa-validate defs`, docs/api.md).

pub mod assert;
pub mod backup;
pub mod browser;
pub mod cargo;
pub mod cloudrun;
pub mod core;
pub mod docs;
pub mod html;
pub mod http;
pub mod json;
pub mod logging;
pub mod perf;
pub mod proc;
pub mod re;
pub mod schema;
pub mod urls;

use rhai::{Engine, exported_module};

pub fn register(engine: &mut Engine) {
    engine.register_type_with_name::<http::HttpResponse>("HttpResponse");
    engine.register_global_module(exported_module!(core::core_api).into());
    engine.register_global_module(exported_module!(assert::assert_api).into());
    engine.register_global_module(exported_module!(http::response_api).into());
    engine.register_static_module("http", exported_module!(http::http_api).into());
    engine.register_static_module("json", exported_module!(json::json_api).into());
    engine.register_static_module("re", exported_module!(re::re_api).into());
    engine.register_static_module("proc", exported_module!(proc::proc_api).into());
    engine.register_static_module("cargo", exported_module!(cargo::cargo_api).into());
    engine.register_static_module("html", exported_module!(html::html_api).into());
    engine.register_static_module("backup", exported_module!(backup::backup_api).into());
    engine.register_static_module("cloudrun", exported_module!(cloudrun::cloudrun_api).into());
    engine.register_static_module("logging", exported_module!(logging::logging_api).into());
    engine.register_static_module("perf", exported_module!(perf::perf_api).into());
    engine.register_static_module("url", exported_module!(urls::url_api).into());
    engine.register_static_module("openapi", exported_module!(schema::openapi_api).into());
    browser::register(engine);
}

/// A Rhai runtime error at the caller's position.
pub(crate) fn script_error(
    ctx: &rhai::NativeCallContext,
    message: impl Into<String>,
) -> Box<rhai::EvalAltResult> {
    Box::new(rhai::EvalAltResult::ErrorRuntime(
        message.into().into(),
        ctx.call_position(),
    ))
}

/// The uncatchable stop raised when the run is interrupted during a primitive's wait.
pub(crate) fn interrupted(ctx: &rhai::NativeCallContext) -> Box<rhai::EvalAltResult> {
    Box::new(rhai::EvalAltResult::ErrorTerminated(
        crate::engine::STOP_CANCELLED.into(),
        ctx.call_position(),
    ))
}

/// Ends the running check as skipped with `reason` (e.g. `gcloud not installed`): the same
/// uncatchable stop as the script's `skip(reason)`.
pub(crate) fn skip_check(
    ctx: &rhai::NativeCallContext,
    reason: impl Into<String>,
) -> Box<rhai::EvalAltResult> {
    let reason = reason.into();
    crate::engine::context::with_check(|c| c.record.skip = Some(reason.clone()));
    Box::new(rhai::EvalAltResult::ErrorTerminated(
        format!("{}:{reason}", crate::engine::STOP_SKIP).into(),
        ctx.call_position(),
    ))
}

/// Refuses I/O while a lane is being planned: `verb` names the primitive in the message.
pub(crate) fn refuse_plan_time(
    ctx: &rhai::NativeCallContext,
    verb: &str,
) -> Result<(), Box<rhai::EvalAltResult>> {
    if crate::engine::context::with_check(|_| ()).is_none() {
        return Err(script_error(
            ctx,
            format!(
                "{verb} at plan time: the top level of a lane only declares checks; move the call into a check"
            ),
        ));
    }
    Ok(())
}
