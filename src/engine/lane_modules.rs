//! `import "helpers/probe" as probe;` of a module file beside the lanes: resolved against the
//! importing file's folder, read as a file input (a regular file under the cap, so a FIFO or a
//! device cannot hang planning or a check), refused when it defines a built-in's name, and
//! evaluated once per engine ([`ModuleCache`]).

use crate::engine::module_cache::ModuleCache;
use crate::engine::{builtins, context};
use crate::file_input::{self, INPUT_CAP};
use rhai::{Engine, EvalAltResult, Module, ModuleResolver, Position, Scope, Shared};
use std::path::{Path, PathBuf};

#[derive(Default)]
pub struct LaneModuleResolver {
    cache: ModuleCache<String>,
}

/// The file of `import "path"` in the file `source`: relative to its folder, `.rhai` added.
pub fn module_file(source: Option<&str>, path: &str) -> PathBuf {
    let mut file = match source.and_then(|s| Path::new(s).parent()) {
        Some(folder) if Path::new(path).is_relative() => folder.join(path),
        _ => PathBuf::from(path),
    };
    file.set_extension("rhai");
    file
}

fn in_module(path: &str, error: Box<EvalAltResult>, pos: Position) -> Box<EvalAltResult> {
    Box::new(EvalAltResult::ErrorInModule(path.into(), error, pos))
}

fn runtime(message: String, pos: Position) -> Box<EvalAltResult> {
    Box::new(EvalAltResult::ErrorRuntime(message.into(), pos))
}

impl ModuleResolver for LaneModuleResolver {
    fn resolve(
        &self,
        engine: &Engine,
        source: Option<&str>,
        path: &str,
        pos: Position,
    ) -> Result<Shared<Module>, Box<EvalAltResult>> {
        let file = module_file(source, path);
        let display = crate::plan::display_path(&file);
        self.cache.get_or_eval(&display.clone(), pos, || {
            let text =
                file_input::read_to_string(&file, INPUT_CAP, &context::io_stop).map_err(|e| {
                    if e.is_not_found() {
                        Box::new(EvalAltResult::ErrorModuleNotFound(path.into(), pos))
                    } else {
                        in_module(
                            path,
                            runtime(format!("cannot read {display}: {e}"), pos),
                            pos,
                        )
                    }
                })?;
            let mut ast = engine
                .compile(&text)
                .map_err(|e| in_module(path, e.into(), pos))?;
            ast.set_source(display.clone());
            if let Some(name) = builtins::shadowing(engine, &ast) {
                return Err(runtime(
                    format!("module {path:?}: {}", builtins::message(&name)),
                    pos,
                ));
            }
            Module::eval_ast_as_new(Scope::new(), &ast, engine).map_err(|e| in_module(path, e, pos))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_module_path_is_relative_to_the_importing_file() {
        assert_eq!(
            module_file(Some("lanes/main.rhai"), "helpers/probe"),
            PathBuf::from("lanes/helpers/probe.rhai")
        );
        assert_eq!(
            module_file(Some("main.rhai"), "probe"),
            PathBuf::from("probe.rhai")
        );
        assert_eq!(
            module_file(Some("lanes/main.rhai"), "/opt/m"),
            PathBuf::from("/opt/m.rhai")
        );
        assert_eq!(module_file(None, "probe"), PathBuf::from("probe.rhai"));
    }
}
