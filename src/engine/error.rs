//! Rhai errors → what a user needs: the message, `file:line:col`, and why the script stopped.

use super::stop::Stop;
use crate::engine::context;
use crate::outcome::SourcePos;
use rhai::{EvalAltResult, ParseError};

/// Why a script evaluation ended with an error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StopKind {
    /// A script or primitive error (catchable or not).
    Error,
    /// The wall-clock deadline passed.
    Deadline,
    /// SIGINT/SIGTERM.
    Cancelled,
    /// `skip(reason)` was called.
    Skip,
}

#[derive(Debug, Clone)]
pub struct ScriptError {
    pub kind: StopKind,
    pub message: String,
    pub position: SourcePos,
}

impl std::fmt::Display for ScriptError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.position, self.message)
    }
}

/// Unwraps the chain of "in function call" wrappers to the error that happened, keeping the
/// innermost named source and position.
pub fn from_eval(err: &EvalAltResult) -> ScriptError {
    let mut source: Option<String> = None;
    let mut current = err;
    loop {
        match current {
            EvalAltResult::ErrorInFunctionCall(_, src, inner, _) => {
                if !src.is_empty() {
                    source = Some(src.clone());
                }
                current = inner;
            }
            // The error happened inside the imported module's own code: point there.
            EvalAltResult::ErrorInModule(name, inner, _) => {
                // A module that was not found: the position is the importing line.
                if !name.is_empty() && !matches!(**inner, EvalAltResult::ErrorModuleNotFound(..)) {
                    source = Some(module_file(name));
                }
                current = inner;
            }
            _ => break,
        }
    }
    let position = context::position_in(source.as_deref(), current.position());
    let (kind, message) = match current {
        EvalAltResult::ErrorTerminated(value, _) => match Stop::carried_by(value) {
            Some(Stop::Deadline) => (StopKind::Deadline, "timed out".to_string()),
            Some(Stop::Interrupted) => (StopKind::Cancelled, "interrupted".to_string()),
            Some(Stop::Skip(reason)) => (StopKind::Skip, reason),
            // `exit()` is refused before it can terminate anything; any other value is a bug.
            None => (StopKind::Error, format!("script terminated: {value}")),
        },
        EvalAltResult::ErrorRuntime(value, _) => (StopKind::Error, describe_thrown(value)),
        other => (StopKind::Error, strip_position(&other.to_string())),
    };
    ScriptError {
        kind,
        message,
        position,
    }
}

/// The file an import path refers to: stdlib modules live under `stdlib/`.
fn module_file(name: &str) -> String {
    if crate::engine::stdlib::modules().any(|(m, _)| m == name) {
        crate::engine::stdlib::display_path(name)
    } else {
        name.to_string()
    }
}

/// A thrown value: a string as is; a map `#{ message, ... }` by its message.
fn describe_thrown(value: &rhai::Dynamic) -> String {
    if let Some(map) = value.read_lock::<rhai::Map>()
        && let Some(message) = map.get("message")
    {
        return message.to_string();
    }
    if value.is_unit() {
        return "runtime error".to_string();
    }
    value.to_string()
}

/// Rhai appends ` (line 3, position 9)` to messages; we print positions separately.
fn strip_position(text: &str) -> String {
    match text.rfind(" (line ") {
        Some(i) if text.ends_with(')') => text[..i].to_string(),
        _ => text.to_string(),
    }
}

pub fn from_parse(file: &str, err: &ParseError) -> ScriptError {
    ScriptError {
        kind: StopKind::Error,
        message: strip_position(&err.err_type().to_string()),
        position: SourcePos {
            file: file.to_string(),
            line: err.position().line().unwrap_or(0),
            column: err.position().position().unwrap_or(0),
        },
    }
}

impl crate::diagnostic::Diagnostic for ScriptError {
    fn message(&self) -> String {
        self.message.clone()
    }
    fn position(&self) -> Option<&SourcePos> {
        Some(&self.position)
    }
}
