//! The Rhai API: one file per namespace, each an `#[export_module]`.
//!
//! Doc comments on the exported functions are the reference documentation: they flow into
//! the engine's metadata (`oa-validate defs`, docs/api.md).

pub mod assert;
pub mod backup;
pub(crate) mod bind;
pub mod browser;
pub mod cargo;
pub mod cloudrun;
pub mod core;
pub mod docs;
mod google;
pub mod html;
pub mod http;
pub mod json;
pub mod logging;
pub mod perf;
pub mod proc;
pub mod re;
pub mod schema;
pub mod urls;

pub(crate) use bind::script_error;

use rhai::{Engine, exported_module};

/// The one engine: built once, shared by the planner and all check threads. Imports from
/// lanes on disk may reach any file; see [`build_confined`].
pub fn build() -> Engine {
    build_confined(None)
}

/// The engine with every primitive registered, whose lanes on disk import only files inside
/// `matrix_folder` when one is given (see [`crate::engine::without_primitives`]).
pub fn build_confined(matrix_folder: Option<&std::path::Path>) -> Engine {
    let mut engine = crate::engine::without_primitives(matrix_folder);
    register(&mut engine);
    // Unknown-property errors name the properties a type has: its getters, now registered.
    crate::engine::error::remember_properties(&engine);
    engine
}

/// Registers every primitive namespace on `engine`.
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
