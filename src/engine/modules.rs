//! `import "lib/mine" as mine;` in a lane: the module file `lib/mine.rhai` beside the
//! importing file (a lane of the built-in matrix imports from the built-in matrix; a lane on
//! disk from its own folder; the REPL from the working directory). A module that is not found
//! names where it was looked for; a module's positions name its real file, `.rhai` included,
//! so errors inside it get a code frame. Stdlib modules are served before this resolver
//! ([`super::stdlib::StdlibResolver`]).

use super::builtins;
use super::context;
use super::module_cache::ModuleCache;
use super::sources::{self, Origin};
use crate::file_input::{self, INPUT_CAP};
use rhai::{Engine, EvalAltResult, Module, ModuleResolver, Position, Scope, Shared};
use std::path::{Path, PathBuf};

/// Resolves lane-relative imports; each module is evaluated once per engine and shared
/// ([`ModuleCache`] replays the environment reads of its evaluation into later importers).
#[derive(Default)]
pub struct LaneModuleResolver {
    cache: ModuleCache<String>,
    /// A matrix folder (canonical) that imports from lanes on disk must stay inside.
    confinement: Option<PathBuf>,
}

impl LaneModuleResolver {
    /// A resolver that refuses an import from a lane on disk resolving (links followed) to a
    /// file outside `matrix_folder`. The matrix lock hashes only the files inside it; a module
    /// from elsewhere could change after locking and turn a NO-GO into a GO under the same
    /// lock (issue 20, finding 1).
    pub fn confined_to(matrix_folder: Option<&Path>) -> LaneModuleResolver {
        LaneModuleResolver {
            cache: ModuleCache::default(),
            confinement: matrix_folder
                .map(|folder| std::fs::canonicalize(folder).unwrap_or_else(|_| folder.into())),
        }
    }
}

/// `Err` when `candidate` (an existing file) lies outside `folder`, links followed.
fn check_inside(candidate: &Path, name: &str, folder: &Path) -> Result<(), String> {
    let real =
        std::fs::canonicalize(candidate).map_err(|e| format!("cannot resolve {name}: {e}"))?;
    if real.starts_with(folder) {
        return Ok(());
    }
    Err(format!(
        "{name} is outside the matrix folder {}: the matrix lock hashes only the files inside \
         it, so a change to this module would go unseen; move it into the folder (or name lane \
         files instead of --lanes)",
        display(folder)
    ))
}

/// A module file found for an import: its name in positions, where it is, its source.
struct Found {
    name: String,
    origin: Origin,
    source: String,
}

/// `path` with the `.rhai` extension (kept when already there).
fn with_extension(path: &str) -> String {
    if path.ends_with(".rhai") {
        path.to_string()
    } else {
        format!("{path}.rhai")
    }
}

/// Joins `relative` onto the folder `base` (`/`-separated), resolving `.` and `..`.
fn join_relative(base: &str, relative: &str) -> Option<String> {
    let mut parts: Vec<&str> = base.split('/').filter(|p| !p.is_empty()).collect();
    for part in relative.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            other => parts.push(other),
        }
    }
    Some(parts.join("/"))
}

fn display(path: &Path) -> String {
    path.to_string_lossy().replace('\\', "/")
}

/// Where an import of `path` from the file named `importer` is looked for, and the file if
/// it is there (an error when it is there but cannot be read as a module).
fn locate(
    importer: Option<&str>,
    path: &str,
    confinement: Option<&Path>,
) -> (String, Result<Option<Found>, String>) {
    let file = with_extension(path);
    match importer.and_then(sources::origin) {
        Some(Origin::Matrix(_)) if Path::new(&file).is_absolute() => (
            format!("{file} (an absolute path: the built-in matrix imports only from itself)"),
            Ok(None),
        ),
        Some(Origin::Matrix(lane)) => {
            let folder = lane.rsplit_once('/').map_or("", |(folder, _)| folder);
            let Some(relative) = join_relative(folder, &file) else {
                return (
                    format!("lanes/{file} (outside the built-in matrix)"),
                    Ok(None),
                );
            };
            let name = format!("lanes/{relative}");
            let found = crate::embedded::matrix_files()
                .iter()
                .find(|(file, _)| *file == relative)
                .map(|(file, source)| Found {
                    name: name.clone(),
                    origin: Origin::Matrix(file),
                    source: source.to_string(),
                });
            (format!("{name} (in the built-in matrix)"), Ok(found))
        }
        origin => {
            let from_disk_lane = matches!(origin, Some(Origin::Disk(_)));
            let candidate = match origin {
                Some(Origin::Disk(lane)) => lane
                    .parent()
                    .map_or_else(|| PathBuf::from(&file), |folder| folder.join(&file)),
                _ => PathBuf::from(&file),
            };
            let name = display(&candidate);
            if let Some(folder) = confinement.filter(|_| from_disk_lane)
                && candidate.exists()
                && let Err(message) = check_inside(&candidate, &name, folder)
            {
                return (name, Err(message));
            }
            // A regular file under the cap, read so that the check's deadline and an
            // interruption stop it: an import of a FIFO or a device must not hang.
            let found = match file_input::read_to_string(&candidate, INPUT_CAP, &context::io_stop) {
                Ok(source) => Ok(Some(Found {
                    name: name.clone(),
                    origin: Origin::Disk(candidate.clone()),
                    source,
                })),
                Err(e) if e.is_not_found() => Ok(None),
                Err(e) => Err(format!("cannot read {name}: {e}")),
            };
            (name, found)
        }
    }
}

impl ModuleResolver for LaneModuleResolver {
    fn resolve(
        &self,
        engine: &Engine,
        source: Option<&str>,
        path: &str,
        pos: Position,
    ) -> Result<Shared<Module>, Box<EvalAltResult>> {
        let (looked_for, found) = locate(source, path, self.confinement.as_deref());
        let found = found.map_err(|message| {
            Box::new(EvalAltResult::ErrorInModule(
                String::new(),
                Box::new(EvalAltResult::ErrorRuntime(message.into(), pos)),
                pos,
            ))
        })?;
        let Some(found) = found else {
            let stdlib: Vec<&str> = super::stdlib::modules().map(|(name, _)| name).collect();
            // An unnamed module error: the position stays on the importing line.
            return Err(Box::new(EvalAltResult::ErrorInModule(
                String::new(),
                Box::new(EvalAltResult::ErrorRuntime(
                    format!(
                        "module {path:?} not found: looked for {looked_for} (a path resolves from \
                         the importing file's folder) and among the stdlib modules ({})",
                        stdlib.join(", ")
                    )
                    .into(),
                    pos,
                )),
                pos,
            )));
        };
        let name = found.name.clone();
        self.cache.get_or_eval(&name, pos, || {
            sources::register(&found.name, found.origin.clone(), &found.source);
            let in_module = |err: Box<EvalAltResult>| {
                Box::new(EvalAltResult::ErrorInModule(found.name.clone(), err, pos))
            };
            let mut ast = engine
                .compile(&found.source)
                .map_err(|e| in_module(e.into()))?;
            ast.set_source(found.name.clone());
            // Refused before any of its code runs.
            if let Some(name) = builtins::shadowing(engine, &ast) {
                let (line, column) =
                    builtins::definition_position(&found.source, &name).unwrap_or((0, 0));
                let at =
                    Position::new(line.try_into().unwrap_or(0), column.try_into().unwrap_or(0));
                return Err(in_module(Box::new(EvalAltResult::ErrorRuntime(
                    builtins::message(&name).into(),
                    at,
                ))));
            }
            Module::eval_ast_as_new(Scope::new(), &ast, engine).map_err(in_module)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths_join_onto_the_importing_folder() {
        assert_eq!(
            join_relative("", "lib/mine.rhai").as_deref(),
            Some("lib/mine.rhai")
        );
        assert_eq!(
            join_relative("sub", "../lib/x.rhai").as_deref(),
            Some("lib/x.rhai")
        );
        assert_eq!(join_relative("", "../x.rhai"), None);
        assert_eq!(with_extension("lib/mine"), "lib/mine.rhai");
        assert_eq!(with_extension("lib/mine.rhai"), "lib/mine.rhai");
    }
}
