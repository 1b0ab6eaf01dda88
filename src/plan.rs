//! Lane files → declared checks. Planning evaluates each lane's top level, which may only
//! declare checks: every I/O primitive refuses to run here.

use crate::engine::context::{self, CheckBody, Phase};
use crate::engine::error::{self, ScriptError};
use crate::engine::host::Host;
use crate::engine::limits;
use crate::outcome::{CheckSpec, SourcePos};
use rhai::{AST, Engine};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

/// A compiled lane file.
pub struct Lane {
    pub path: PathBuf,
    /// The path as shown to users and in positions (as given on the command line).
    pub display: String,
    pub source: String,
    pub ast: Arc<AST>,
    /// Environment variables the lane's top level read (`env()`) while it was planned.
    pub env_reads: Vec<String>,
}

/// One declared check and the lane it belongs to.
pub struct PlannedCheck {
    pub lane: usize,
    pub spec: CheckSpec,
    pub body: CheckBody,
}

/// The whole matrix: lanes in the order given, checks in lane then declaration order.
pub struct Plan {
    pub lanes: Vec<Lane>,
    pub checks: Vec<PlannedCheck>,
}

impl Plan {
    pub fn lane_of(&self, check: &PlannedCheck) -> &Lane {
        &self.lanes[check.lane]
    }

    /// Whether some check applies to only some cutover phases: then a gate run must say
    /// which phase it is for.
    pub fn is_phase_dependent(&self) -> bool {
        self.checks.iter().any(|c| !c.spec.phases.is_empty())
    }

    /// Keeps only the checks that apply in `phase`.
    pub fn retain_phase(&mut self, phase: crate::cutover::CutoverPhase) {
        self.checks.retain(|c| phase.includes(&c.spec.phases));
    }

    /// Every source a position can point into: the lanes and the stdlib modules.
    pub fn sources(&self) -> std::collections::HashMap<String, String> {
        let mut map: std::collections::HashMap<String, String> = crate::engine::stdlib::MODULES
            .iter()
            .map(|(name, src)| (format!("stdlib/{name}.rhai"), src.to_string()))
            .collect();
        for lane in &self.lanes {
            map.insert(lane.display.clone(), lane.source.clone());
        }
        map
    }
}

/// Why a lane could not be planned.
#[derive(Debug)]
pub enum PlanError {
    Read {
        path: String,
        message: String,
    },
    Script(ScriptError),
    DuplicateId {
        id: String,
        first: SourcePos,
        second: SourcePos,
    },
}

impl crate::diagnostic::Diagnostic for PlanError {
    fn position(&self) -> Option<&SourcePos> {
        match self {
            PlanError::Read { .. } => None,
            PlanError::Script(e) => Some(&e.position),
            PlanError::DuplicateId { second, .. } => Some(second),
        }
    }

    fn message(&self) -> String {
        match self {
            PlanError::Read { path, message } => format!("cannot read lane {path}: {message}"),
            PlanError::Script(e) => e.message.clone(),
            PlanError::DuplicateId { id, first, .. } => {
                format!("duplicate check id {id:?} (first declared at {first})")
            }
        }
    }
}

pub fn display_path(path: &Path) -> String {
    path.to_string_lossy().replace('\\', "/")
}

/// Compiles and plans every lane. All errors are collected, so one run reports them all.
pub fn plan(engine: &Engine, host: &Arc<Host>, paths: &[PathBuf]) -> Result<Plan, Vec<PlanError>> {
    let mut lanes = Vec::new();
    let mut checks: Vec<PlannedCheck> = Vec::new();
    let mut errors = Vec::new();
    for path in paths {
        let display = display_path(path);
        // A regular file under the cap (a lane named on the command line could be a FIFO).
        let source = match crate::file_input::read_to_string(
            path,
            crate::file_input::INPUT_CAP,
            &crate::file_input::never_stop,
        ) {
            Ok(s) => s,
            Err(e) => {
                errors.push(PlanError::Read {
                    path: display,
                    message: e.to_string(),
                });
                continue;
            }
        };
        let mut ast = match engine.compile(&source) {
            Ok(ast) => ast,
            Err(e) => {
                errors.push(PlanError::Script(error::from_parse(&display, &e)));
                continue;
            }
        };
        ast.set_source(display.clone());
        let defines_functions = ast
            .iter_functions()
            .any(|f| !crate::engine::builtins::is_closure(f.name));
        if let Some(name) = defines_functions.then_some(()).and_then(|_| {
            let builtins = crate::engine::builtins::names(engine);
            ast.iter_functions()
                .map(|f| f.name)
                .find(|name| builtins.contains(*name))
        }) {
            let (line, column) =
                crate::engine::builtins::definition_position(&source, name).unwrap_or((0, 0));
            errors.push(PlanError::Script(ScriptError {
                kind: error::StopKind::Error,
                message: crate::engine::builtins::message(name),
                position: SourcePos {
                    file: display.clone(),
                    line,
                    column,
                },
            }));
            continue;
        }
        let phase = Phase::Planning {
            lane: display.clone(),
            checks: Vec::new(),
        };
        let deadline = Instant::now() + limits::PLAN_DEADLINE;
        context::take_env_reads();
        let (result, phase) =
            context::with_phase(host.clone(), phase, deadline, || engine.run_ast(&ast));
        let env_reads = context::take_env_reads();
        if let Err(e) = result {
            errors.push(PlanError::Script(
                context::with_phase(
                    host.clone(),
                    Phase::Planning {
                        lane: display.clone(),
                        checks: Vec::new(),
                    },
                    deadline,
                    || error::from_eval(&e),
                )
                .0,
            ));
            continue;
        }
        let Phase::Planning {
            checks: declared, ..
        } = phase
        else {
            continue;
        };
        let lane_index = lanes.len();
        for decl in declared {
            if let Some(first) = checks.iter().find(|c| c.spec.id == decl.spec.id) {
                errors.push(PlanError::DuplicateId {
                    id: decl.spec.id.clone(),
                    first: first.spec.position.clone(),
                    second: decl.spec.position.clone(),
                });
                continue;
            }
            checks.push(PlannedCheck {
                lane: lane_index,
                spec: decl.spec,
                body: decl.body,
            });
        }
        lanes.push(Lane {
            path: path.clone(),
            display,
            source,
            ast: Arc::new(ast),
            env_reads,
        });
    }
    if errors.is_empty() {
        Ok(Plan { lanes, checks })
    } else {
        Err(errors)
    }
}
