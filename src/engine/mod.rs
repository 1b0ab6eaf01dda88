//! Building the Rhai engine: explicit limits, the module resolver for `stdlib/`, the
//! registered primitives, and turning Rhai errors into positioned failures.

pub mod builtins;
pub mod capture;
pub mod context;
pub mod error;
pub mod host;
pub mod lint;
pub mod module_cache;
pub mod modules;
pub mod sources;
pub mod stdlib;
pub mod stop;

use rhai::module_resolvers::ModuleResolversCollection;
use rhai::{Dynamic, Engine};
use std::time::Instant;
use stop::Stop;

/// Script limits. The same in debug and release builds (Rhai's defaults differ between them).
pub mod limits {
    /// Operations per evaluation (one check attempt, or planning one lane).
    pub const MAX_OPERATIONS: u64 = 500_000_000;
    pub const MAX_CALL_LEVELS: usize = 48;
    pub const MAX_EXPR_DEPTH: usize = 64;
    pub const MAX_FN_EXPR_DEPTH: usize = 48;
    /// 16 MiB: the default `--max-body`, so any body a check can read fits in a string.
    pub const MAX_STRING_SIZE: usize = 16 * 1024 * 1024;
    pub const MAX_ARRAY_SIZE: usize = 100_000;
    pub const MAX_MAP_SIZE: usize = 100_000;
    pub const MAX_MODULES: usize = 64;
    /// Wall-clock limit for planning one lane (top-level code must only declare checks).
    pub const PLAN_DEADLINE: std::time::Duration = std::time::Duration::from_secs(10);
}

/// The engine without primitives: limits, the deadline and cancellation hooks, and the module
/// resolvers (stdlib, then lanes on disk; with `matrix_folder`, a `--lanes DIR` matrix's lanes
/// import only files inside it: the files its lock hashes, so no module can change behind the
/// lock). [`crate::api::build_confined`] adds the primitives; resolvers compile modules
/// lazily, so they see the primitives registered afterwards.
pub fn without_primitives(matrix_folder: Option<&std::path::Path>) -> Engine {
    let mut engine = Engine::new();
    engine
        .set_max_operations(limits::MAX_OPERATIONS)
        .set_max_call_levels(limits::MAX_CALL_LEVELS)
        .set_max_expr_depths(limits::MAX_EXPR_DEPTH, limits::MAX_FN_EXPR_DEPTH)
        .set_max_string_size(limits::MAX_STRING_SIZE)
        .set_max_array_size(limits::MAX_ARRAY_SIZE)
        .set_max_map_size(limits::MAX_MAP_SIZE)
        .set_max_modules(limits::MAX_MODULES)
        .set_strict_variables(true)
        .set_fail_on_invalid_map_property(true);
    engine.disable_symbol("eval");

    // The deadline and cancellation reach scripts through the operation counter; checking
    // the clock every 256 operations keeps the cost negligible.
    engine.on_progress(|ops| {
        if ops % 256 != 0 {
            return None;
        }
        if context::host().is_some_and(|h| h.services.cancel.is_cancelled()) {
            return Some(Dynamic::from(Stop::Interrupted));
        }
        match context::deadline() {
            Some(deadline) if Instant::now() >= deadline => Some(Dynamic::from(Stop::Deadline)),
            _ => None,
        }
    });
    engine.on_print(|text| context::log(format!("print: {text}")));
    engine.on_debug(|text, source, pos| {
        let at = context::position_in(source, pos);
        context::log(format!("debug {at}: {text}"));
    });

    let mut resolvers = ModuleResolversCollection::new();
    resolvers.push(stdlib::StdlibResolver::default());
    resolvers.push(modules::LaneModuleResolver::confined_to(matrix_folder));
    engine.set_module_resolver(resolvers);
    engine
}
