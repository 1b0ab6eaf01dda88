//! One REPL session: the engine, host and scope that persist between inputs, evaluating an
//! input as if inside a check, and showing its value.

use super::completion::{Completions, is_incomplete};
use crate::api::http::HttpResponse;
use crate::api::json::dynamic_to_json;
use crate::config::Target;
use crate::diagnostic::code_frame;
use crate::engine::context::{self, CheckRecord, CheckScope, Phase, RequestRecord};
use crate::engine::error;
use crate::engine::host::Host;
use crate::redact::Redactor;
use rhai::{AST, Dynamic, Engine, Scope};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long one input may run (its requests have their own, shorter timeouts).
const INPUT_DEADLINE: Duration = Duration::from_secs(300);
/// The name every input runs under, in logs and positions.
const SOURCE: &str = "<repl>";

/// One REPL session: the persistent state between inputs.
pub struct Session {
    pub(super) engine: Engine,
    pub(super) host: Arc<Host>,
    scope: Scope<'static>,
    /// Functions defined so far, kept so later inputs can call them.
    functions: AST,
    /// `import` statements typed so far, replayed before every input.
    imports: Vec<String>,
    /// The index of the target bound to `target`.
    pub(super) current: usize,
    /// Every `http::` call so far, with the target it was made under (for `:save`).
    pub(super) probes: Vec<(String, RequestRecord)>,
    pub(super) history: Vec<String>,
}

/// What became of one input.
pub enum Evaluated {
    /// The input is an unfinished block: read another line.
    Incomplete,
    /// Printable output (may be empty).
    Output(String),
    Error(String),
    Quit,
}

impl Session {
    pub fn new(engine: Engine, host: Arc<Host>, target: &str) -> Result<Self, String> {
        let current = host
            .targets
            .iter()
            .position(|t| t.name == target)
            .ok_or_else(|| format!("no target named {target:?} (staging, prod)"))?;
        let mut session = Self {
            engine,
            host,
            scope: Scope::new(),
            functions: AST::empty(),
            imports: Vec::new(),
            current,
            probes: Vec::new(),
            history: Vec::new(),
        };
        session.bind_target();
        Ok(session)
    }

    pub(super) fn target(&self) -> &Target {
        &self.host.targets[self.current]
    }

    pub(super) fn bind_target(&mut self) {
        let map = crate::api::core::target_map(self.target());
        self.scope.set_value("target", map);
    }

    pub fn redactor(&self) -> &Redactor {
        &self.host.services.redactor
    }

    /// Names for Tab completion: functions, namespaces, getters, variables, commands.
    pub fn completion_words(&self) -> Completions {
        Completions::from_engine(&self.engine, &self.scope)
    }

    /// Whether a line must stay out of the history file: it holds a known secret, or it
    /// looks like it carries one (a `secret(...)` call, a bearer or authorization literal).
    pub fn is_sensitive(&self, line: &str) -> bool {
        let lower = line.to_ascii_lowercase();
        self.host.services.redactor.contains_secret(line)
            || lower.contains("secret(")
            || ((lower.contains("bearer")
                || lower.contains("authorization")
                || lower.contains("token"))
                && (line.contains('"') || line.contains('`')))
    }

    /// Evaluates one complete or partial input.
    pub fn eval(&mut self, input: &str) -> Evaluated {
        let trimmed = input.trim();
        if trimmed.is_empty() {
            return Evaluated::Output(String::new());
        }
        if trimmed.starts_with(':') {
            return self.command(trimmed);
        }
        let is_import = trimmed.starts_with("import ");
        // Earlier imports are replayed above the input: positions are shifted back by them.
        let offset = self.imports.len() + 1;
        let source = format!("{}\n{input}", self.imports.join("\n"));
        let ast = match self.engine.compile_with_scope(&self.scope, &source) {
            Ok(ast) => ast,
            Err(e) if is_incomplete(e.err_type()) => return Evaluated::Incomplete,
            Err(e) => {
                let mut err = error::from_parse(SOURCE, &e);
                err.position.line = err.position.line.saturating_sub(offset).max(1);
                return Evaluated::Error(self.frame(&err.message, &err.position, input));
            }
        };
        self.record_history(input);
        let mut ast = ast;
        ast.set_source(SOURCE);
        let program = self.functions.merge(&ast);
        let deadline = Instant::now() + INPUT_DEADLINE;
        let scope_record = CheckScope {
            id: "repl".to_string(),
            lane: SOURCE.to_string(),
            deadline,
            record: CheckRecord::default(),
            keeps_requests: true,
        };
        let engine = &self.engine;
        let scope = &mut self.scope;
        let (result, phase) = context::with_phase(
            self.host.clone(),
            Phase::Checking(scope_record),
            deadline,
            || {
                engine
                    .eval_ast_with_scope::<Dynamic>(scope, &program)
                    .map_err(|e| error::from_eval(&e))
            },
        );
        if let Phase::Checking(done) = phase {
            let target = self.target().name.clone();
            self.probes.extend(
                done.record
                    .requests
                    .into_iter()
                    .map(|r| (target.clone(), r)),
            );
        }
        // Keep what this input defined for the inputs after it.
        self.functions = self.functions.merge(&ast.clone_functions_only());
        if is_import {
            self.imports.push(trimmed.to_string());
        }
        match result {
            Ok(value) => Evaluated::Output(self.show(&value)),
            Err(e) => {
                let mut pos = e.position.clone();
                pos.line = pos.line.saturating_sub(offset).max(1);
                Evaluated::Error(self.frame(&e.message, &pos, input))
            }
        }
    }

    fn record_history(&mut self, input: &str) {
        self.history.push(input.to_string());
    }

    fn frame(&self, message: &str, pos: &crate::outcome::SourcePos, input: &str) -> String {
        let pos = crate::outcome::SourcePos {
            file: SOURCE.to_string(),
            ..pos.clone()
        };
        self.host
            .services
            .redactor
            .redact(&code_frame(message, &pos, Some(input)))
    }

    /// A value as the REPL prints it.
    pub fn show(&self, value: &Dynamic) -> String {
        let text = if value.is_unit() {
            String::new()
        } else if let Some(resp) = value.read_lock::<HttpResponse>() {
            show_response(&resp, &self.host.services.redactor)
        } else if value.is_string() {
            format!("{:?}", value.to_string())
        } else if value.is_map() || value.is_array() {
            dynamic_to_json(value)
                .ok()
                .and_then(|j| serde_json::to_string_pretty(&j).ok())
                .unwrap_or_else(|| value.to_string())
        } else {
            value.to_string()
        };
        self.host.services.redactor.redact(&text)
    }
}

fn show_response(r: &HttpResponse, redactor: &crate::redact::Redactor) -> String {
    let mut out = format!(
        "{} {}  {} {}  {:.1} ms (ttfb {:.1} ms)  {} bytes",
        r.status,
        http::StatusCode::from_u16(r.status)
            .ok()
            .and_then(|s| s.canonical_reason())
            .unwrap_or(""),
        r.method,
        r.path(),
        r.total_ms(),
        r.ttfb_ms(),
        r.body.len()
    );
    for name in ["content-type", "cache-control", "location", "x-request-id"] {
        if let Some(v) = r.header_value(name) {
            out.push_str(&format!("\n{name}: {v}"));
        }
    }
    let body = match r.parse_json() {
        Ok(json) => serde_json::to_string_pretty(&json).unwrap_or_default(),
        Err(_) => {
            let text = r.body_text();
            if text.chars().count() > 2000 {
                let cut = redactor.excerpt(&text, 2000);
                format!("{cut}\n... ({} bytes in all)", r.body.len())
            } else {
                text
            }
        }
    };
    if !body.is_empty() {
        out.push_str("\n\n");
        out.push_str(&body);
    }
    out
}
