//! The Rhai modules under `stdlib/`, compiled into the binary so lanes can
//! `import "control" as control;` wherever oa-validate is installed.

use rhai::module_resolvers::StaticModuleResolver;
use rhai::{Engine, Module, Scope};

/// (import path, source) of every stdlib module.
pub const MODULES: &[(&str, &str)] = &[
    ("control", include_str!("../../stdlib/control.rhai")),
    ("htmx", include_str!("../../stdlib/htmx.rhai")),
    ("gmail", include_str!("../../stdlib/gmail.rhai")),
    ("stats", include_str!("../../stdlib/stats.rhai")),
    ("runtime", include_str!("../../stdlib/runtime.rhai")),
    ("canary", include_str!("../../stdlib/canary.rhai")),
];

/// Compiles one embedded module with `engine` (which must already have the primitives).
pub fn compile(engine: &Engine, name: &str, source: &str) -> Result<Module, String> {
    let file = format!("stdlib/{name}.rhai");
    let mut ast = engine.compile(source).map_err(|e| format!("{file}: {e}"))?;
    ast.set_source(file.clone());
    Module::eval_ast_as_new(Scope::new(), &ast, engine).map_err(|e| format!("{file}: {e}"))
}

/// A resolver serving the embedded modules. A module that fails to compile is a bug caught
/// by `every_stdlib_module_compiles`, so here it is left out (its import then fails, naming
/// the module) rather than failing every run.
pub fn resolver(engine: &Engine) -> StaticModuleResolver {
    let mut resolver = StaticModuleResolver::new();
    for (name, source) in MODULES {
        if let Ok(module) = compile(engine, name, source) {
            resolver.insert(*name, module);
        }
    }
    resolver
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_stdlib_module_compiles() {
        let engine = crate::engine::build();
        for (name, source) in super::MODULES {
            if let Err(e) = super::compile(&engine, name, source) {
                panic!("{e}");
            }
        }
    }
}
