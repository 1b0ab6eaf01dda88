//! The Rhai modules under `stdlib/`, compiled into the binary so lanes can
//! `import "control" as control;` wherever oa-validate is installed.

use rhai::module_resolvers::StaticModuleResolver;
use rhai::{Engine, Module, Scope};

/// (import path, source) of every stdlib module.
pub const MODULES: &[(&str, &str)] = &[("control", include_str!("../../stdlib/control.rhai"))];

/// A resolver serving the embedded modules. A module that fails to compile is a bug caught
/// by the tests, so it is left out here rather than failing every run.
pub fn resolver(engine: &Engine) -> StaticModuleResolver {
    let mut resolver = StaticModuleResolver::new();
    for (name, source) in MODULES {
        let Ok(mut ast) = engine.compile(source) else {
            continue;
        };
        ast.set_source(format!("stdlib/{name}.rhai"));
        if let Ok(module) = Module::eval_ast_as_new(Scope::new(), &ast, engine) {
            resolver.insert(*name, module);
        }
    }
    resolver
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_stdlib_module_compiles() {
        let engine = rhai::Engine::new();
        for (name, source) in super::MODULES {
            engine
                .compile(source)
                .unwrap_or_else(|e| panic!("stdlib/{name}.rhai: {e}"));
        }
    }
}
