//! Rhai errors → what a user needs: the message, `file:line:col`, and why the script stopped.

use super::stop::Stop;
use crate::engine::context;
use crate::outcome::SourcePos;
use rhai::{EvalAltResult, ParseError};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

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
    // Where code outside stdlib (the lane) called into a stdlib function: the first call
    // whose function lives in stdlib while its caller does not.
    let mut lane_call: Option<SourcePos> = None;
    loop {
        match current {
            EvalAltResult::ErrorInFunctionCall(_, src, inner, pos) => {
                let caller_in_stdlib = source.as_deref().is_some_and(is_stdlib);
                if lane_call.is_none() && is_stdlib(src) && !caller_in_stdlib {
                    lane_call = Some(context::position_in(source.as_deref(), *pos));
                }
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
        other => {
            let text = strip_position(&other.to_string());
            (StopKind::Error, with_property_suggestion(text))
        }
    };
    let message = match lane_call.filter(|_| is_stdlib(&position.file)) {
        Some(call) => {
            let site = called_from(call);
            note_call_site(&site);
            format!("{message}{site}")
        }
        None => message,
    };
    ScriptError {
        kind,
        message,
        position,
    }
}

/// Whether a position is in a built-in stdlib module (not the lane a user wrote).
fn is_stdlib(file: &str) -> bool {
    crate::engine::stdlib::modules()
        .any(|(name, _)| name == file || crate::engine::stdlib::display_path(name) == file)
}

/// ` (called from lanes/x.rhai:12:5)`.
fn called_from(site: SourcePos) -> String {
    format!(" (called from {site})")
}

/// A failure recorded inside a stdlib module says where the lane called it (issue 21, point
/// 8): its position is the module's line, which no user wrote. Done here, where the error's
/// chain of calls is known and before the runner reads the failures.
fn note_call_site(site: &str) {
    context::with_check(|c| {
        for failure in &mut c.record.failures {
            let in_stdlib = failure
                .position
                .as_ref()
                .is_some_and(|p| is_stdlib(&p.file));
            if in_stdlib && !failure.message.ends_with(site) {
                failure.message.push_str(site);
            }
        }
    });
}

/// The properties each custom type has (`HttpResponse` → `body`, `status`, ...), from the
/// engine's registered getters: an unknown property's error lists them and the closest.
static PROPERTIES: OnceLock<BTreeMap<String, BTreeSet<String>>> = OnceLock::new();

/// Records the properties of `engine`'s types (once; every engine registers the same API).
pub(crate) fn remember_properties(engine: &rhai::Engine) {
    PROPERTIES.get_or_init(|| {
        let mut properties: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for signature in engine.gen_fn_signatures(false) {
            // `get$status(response: &mut HttpResponse) -> i64`
            let Some(rest) = signature.strip_prefix("get$") else {
                continue;
            };
            let Some((name, params)) = rest.split_once('(') else {
                continue;
            };
            let first = params.split([',', ')']).next().unwrap_or("");
            let ty = first.rsplit(':').next().unwrap_or("").trim();
            let ty = ty.trim_start_matches("&mut ").trim();
            let ty = ty.rsplit("::").next().unwrap_or(ty);
            properties
                .entry(ty.to_string())
                .or_default()
                .insert(name.to_string());
        }
        properties
    });
}

/// Rhai's `Unknown property 'stauts' - a getter is not registered for type 'HttpResponse'`
/// says neither what the type has nor what was meant: both are added (issue 21, point 7).
fn with_property_suggestion(text: String) -> String {
    let parsed = text
        .strip_prefix("Unknown property '")
        .and_then(|rest| rest.split_once("' - a getter is not registered for type '"))
        .and_then(|(name, rest)| Some((name, rest.strip_suffix('\'')?)));
    let Some((name, ty)) = parsed else {
        return text;
    };
    let ty_short = ty.rsplit("::").next().unwrap_or(ty);
    let Some(known) = PROPERTIES.get().and_then(|p| p.get(ty_short)) else {
        return text;
    };
    let suggestion = crate::diagnostic::closest(name, known.iter().map(String::as_str));
    format!(
        "unknown property `{name}` of {ty_short} (it has {}){}",
        known.iter().cloned().collect::<Vec<_>>().join(", "),
        crate::diagnostic::did_you_mean(suggestion.map(str::to_string))
    )
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
