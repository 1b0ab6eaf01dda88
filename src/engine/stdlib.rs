//! The Rhai modules under `stdlib/`, compiled into the binary (see [`crate::embedded`]) so
//! lanes can `import "control" as control;` wherever oa-validate is installed.

use crate::engine::module_cache::ModuleCache;
use rhai::{Engine, EvalAltResult, Module, ModuleResolver, Position, Scope, Shared};

/// (import path, source) of every stdlib module: every `stdlib/*.rhai` of the source tree.
pub fn modules() -> impl Iterator<Item = (&'static str, &'static str)> {
    crate::embedded::stdlib_modules()
}

/// The file a stdlib module is shown as in positions: `stdlib/<name>.rhai`.
pub fn display_path(name: &str) -> String {
    format!("stdlib/{name}.rhai")
}

/// Compiles one embedded module with `engine` (which must already have the primitives).
pub fn compile(engine: &Engine, name: &str, source: &str) -> Result<Module, String> {
    let file = display_path(name);
    let mut ast = engine.compile(source).map_err(|e| format!("{file}: {e}"))?;
    ast.set_source(file.clone());
    Module::eval_ast_as_new(Scope::new(), &ast, engine).map_err(|e| format!("{file}: {e}"))
}

/// A resolver serving the embedded modules, each compiled on its first import and then
/// shared (compiling all of them up front cost every run, even `check` of a lane importing
/// none, ~2 ms). A module that fails to compile is a bug caught by
/// `every_stdlib_module_compiles`; here its import fails, naming the module.
#[derive(Default)]
pub struct StdlibResolver {
    compiled: ModuleCache<&'static str>,
}

impl ModuleResolver for StdlibResolver {
    fn resolve(
        &self,
        engine: &Engine,
        _source: Option<&str>,
        path: &str,
        pos: Position,
    ) -> Result<Shared<Module>, Box<EvalAltResult>> {
        let Some((name, source)) = modules().find(|(name, _)| *name == path) else {
            // Not ours: the next resolver (lane files) is asked.
            return Err(Box::new(EvalAltResult::ErrorModuleNotFound(
                path.into(),
                pos,
            )));
        };
        self.compiled.get_or_eval(&name, pos, || {
            compile(engine, name, source).map_err(|e| {
                Box::new(EvalAltResult::ErrorInModule(
                    path.into(),
                    Box::new(EvalAltResult::ErrorRuntime(e.into(), pos)),
                    pos,
                ))
            })
        })
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_stdlib_module_compiles() {
        let engine = crate::api::build();
        for (name, source) in super::modules() {
            if let Err(e) = super::compile(&engine, name, source) {
                panic!("{e}");
            }
        }
    }
}
