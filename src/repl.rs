//! `oa-validate repl`: interactive probing with the engine, primitives, targets and redaction
//! of a run. Each input is evaluated as if inside a check (so `http::` and assertions work);
//! variables, functions and imports persist between inputs.

use crate::api::http::HttpResponse;
use crate::api::json::dynamic_to_json;
use crate::config::Target;
use crate::diagnostic::code_frame;
use crate::engine::context::{self, CheckRecord, CheckScope, Phase, RequestRecord};
use crate::engine::error;
use crate::engine::host::Host;
use crate::redact::Redactor;
use rhai::{AST, Dynamic, Engine, ParseErrorType, Scope};
use std::borrow::Cow;
use std::collections::BTreeSet;
use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long one input may run (its requests have their own, shorter timeouts).
const INPUT_DEADLINE: Duration = Duration::from_secs(300);
/// The name every input runs under, in logs and positions.
const SOURCE: &str = "<repl>";

const HELP: &str = "\
Type Rhai: `http::get(target.control_url + \"/readyz\")`. Variables, functions and imports
persist; an unfinished block continues on the next line.

  :help             this text
  :help <name>      the functions of a namespace (`:help http`), or one function
  :targets          the targets (the current one is marked *)
  :use <target>     switch `target` to another target (staging, prod)
  :env              the upstream variables (secrets redacted)
  :history          what you typed this session
  :save FILE        write this session's HTTP probes as a lane of required checks
  :quit             leave (also Ctrl-D)

Tab completes functions, namespaces, variables and response fields.";

/// One REPL session: the persistent state between inputs.
pub struct Session {
    engine: Engine,
    host: Arc<Host>,
    scope: Scope<'static>,
    /// Functions defined so far, kept so later inputs can call them.
    functions: AST,
    /// `import` statements typed so far, replayed before every input.
    imports: Vec<String>,
    current: usize,
    probes: Vec<(String, RequestRecord)>,
    history: Vec<String>,
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

    fn target(&self) -> &Target {
        &self.host.targets[self.current]
    }

    fn bind_target(&mut self) {
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
            show_response(&resp)
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

    fn command(&mut self, line: &str) -> Evaluated {
        let mut parts = line.splitn(2, char::is_whitespace);
        let name = parts.next().unwrap_or_default();
        let arg = parts.next().map(str::trim).unwrap_or_default();
        let out = match name {
            ":help" | ":h" if arg.is_empty() => {
                format!("{HELP}\n\n{}", namespaces_line(&self.engine))
            }
            ":help" | ":h" => help_on(&self.engine, arg),
            ":quit" | ":q" | ":exit" => return Evaluated::Quit,
            ":targets" => self
                .host
                .targets
                .iter()
                .enumerate()
                .map(|(i, t)| {
                    format!(
                        "{} {:8} control {}  runtime {}  token {}",
                        if i == self.current { "*" } else { " " },
                        t.name,
                        t.control_url,
                        t.runtime_url.as_deref().unwrap_or("-"),
                        if t.token.is_some() { "set" } else { "unset" }
                    )
                })
                .collect::<Vec<_>>()
                .join("\n"),
            ":use" => match self.host.targets.iter().position(|t| t.name == arg) {
                Some(i) => {
                    self.current = i;
                    self.bind_target();
                    format!("target is now {}", self.target().name)
                }
                None => return Evaluated::Error(format!("no target named {arg:?}")),
            },
            ":env" => crate::config::UPSTREAM_VARIABLES
                .iter()
                .map(|(name, _)| {
                    let value = match self.host.env.get(name) {
                        None => "<unset>".to_string(),
                        Some(_) if crate::config::is_secret_name(name) => "<redacted>".to_string(),
                        Some(v) => v.to_string(),
                    };
                    format!("{name}={value}")
                })
                .collect::<Vec<_>>()
                .join("\n"),
            ":history" => self.history.join("\n"),
            ":save" => {
                if arg.is_empty() {
                    return Evaluated::Error(":save needs a file name".to_string());
                }
                match self.save(Path::new(arg)) {
                    Ok(n) => format!("saved {n} probe(s) as required checks in {arg}"),
                    Err(e) => return Evaluated::Error(format!(":save {arg}: {e}")),
                }
            }
            other => return Evaluated::Error(format!("unknown command {other} (try :help)")),
        };
        Evaluated::Output(self.host.services.redactor.redact(&out))
    }

    /// Writes the session's probes as a lane; returns how many checks it holds.
    pub fn save(&self, path: &Path) -> std::io::Result<usize> {
        let lane = saved_lane(
            &self.host.targets,
            &self.probes,
            &self.host.services.redactor,
        );
        crate::evidence::write::atomic_write(path, lane.text.as_bytes())?;
        Ok(lane.checks)
    }
}

fn is_incomplete(err: &ParseErrorType) -> bool {
    matches!(
        err,
        ParseErrorType::UnexpectedEOF | ParseErrorType::MissingToken(..)
    ) || matches!(err, ParseErrorType::BadInput(e) if e.to_string().contains("Open string"))
}

fn show_response(r: &HttpResponse) -> String {
    let mut out = format!(
        "{} {}  {} {}  {:.1} ms (ttfb {:.1} ms)  {} bytes",
        r.status,
        reqwest::StatusCode::from_u16(r.status as u16)
            .ok()
            .and_then(|s| s.canonical_reason())
            .unwrap_or(""),
        r.method,
        r.path(),
        r.total_ms,
        r.ttfb_ms,
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
                let cut: String = text.chars().take(2000).collect();
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

/// A lane written by `:save`.
pub struct SavedLane {
    pub text: String,
    pub checks: usize,
}

/// Rhai template-string text for a literal piece (escapes what templates interpret).
fn template_literal(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('`', "\\`")
        .replace("${", "\\${")
}

/// The session's probes as required checks that assert the statuses seen. URLs under a
/// target's own origins are written relative to `t.control_url`/`t.runtime_url`, tokens as
/// `t.token`, so the lane runs again against the same target (or a new sim) and holds no secret.
pub fn saved_lane(
    targets: &[Target],
    probes: &[(String, RequestRecord)],
    redactor: &Redactor,
) -> SavedLane {
    let mut text = String::from(
        "// Saved by `oa-validate repl` (:save): one required check per HTTP probe,\n\
         // asserting the status seen. Edit descriptions and add assertions as you see fit.\n",
    );
    let mut count = 0;
    let names: BTreeSet<&str> = probes.iter().map(|(t, _)| t.as_str()).collect();
    for name in names {
        let Some(target) = targets.iter().find(|t| t.name == name) else {
            continue;
        };
        text.push_str(&format!(
            "\nfor t in targets() {{\n    if t.name != {name:?} {{ continue; }}\n"
        ));
        for (i, (_, p)) in probes.iter().filter(|(t, _)| t == name).enumerate() {
            count += 1;
            let url = relative_url(target, &p.url);
            let mut opts = vec!["timeout: \"10s\"".to_string()];
            if p.with_bearer {
                opts.push("bearer: t.token".to_string());
            }
            if p.follow_redirects {
                opts.push("follow_redirects: true".to_string());
            }
            if let Some(json) = &p.json_body
                && !redactor.contains_secret(json)
            {
                opts.push(format!("json: json::parse({json:?})"));
            }
            let path = url::Url::parse(&p.url)
                .map(|u| u.path().to_string())
                .unwrap_or_default();
            let verb = p.method.to_ascii_lowercase();
            let call = match verb.as_str() {
                "get" | "head" | "post" | "put" | "patch" | "delete" => {
                    format!("http::{verb}({url}, #{{ {} }})", opts.join(", "))
                }
                _ => format!(
                    "http::request({:?}, {url}, #{{ {} }})",
                    p.method,
                    opts.join(", ")
                ),
            };
            text.push_str(&format!(
                "    required(`repl-${{t.name}}-{n}`, #{{\n        description: `${{t.label}} {method} {path} answers {status}`,\n        target: t,\n    }}, || {{\n        let r = {call};\n        assert_status(r, {status});\n    }});\n",
                n = i + 1,
                method = p.method,
                path = template_literal(&redactor.redact(&path)),
                status = p.status,
            ));
        }
        text.push_str("}\n");
    }
    SavedLane {
        text: redactor.redact(&text),
        checks: count,
    }
}

/// `` `${t.control_url}/path` `` when the URL is under the target's control or runtime URL.
fn relative_url(target: &Target, url: &str) -> String {
    let bases = [
        (Some(target.control_url.as_str()), "t.control_url"),
        (target.runtime_url.as_deref(), "t.runtime_url"),
    ];
    for (base, expr) in bases {
        if let Some(base) = base
            && let Some(rest) = url.strip_prefix(base)
            && (rest.is_empty() || rest.starts_with('/') || rest.starts_with('?'))
        {
            return format!("`${{{expr}}}{}`", template_literal(rest));
        }
    }
    format!("{url:?}")
}

/// The namespaces the engine registers, from its metadata (never a hand-kept list).
fn namespaces_line(engine: &Engine) -> String {
    let namespaces: BTreeSet<String> = crate::api::docs::registered_functions(engine)
        .into_iter()
        .filter(|d| !d.namespace.is_empty())
        .map(|d| format!("{}::", d.namespace))
        .collect();
    let namespaces: Vec<String> = namespaces.into_iter().collect();
    format!(
        "Namespaces: {}\nGlobal functions: :help global. Values' fields and methods: :help fields.",
        namespaces.join(" ")
    )
}

/// `:help http` (a namespace), `:help global`, `:help fields`, or `:help http::get`: the
/// signatures with the first line of their doc comments.
fn help_on(engine: &Engine, topic: &str) -> String {
    let topic = topic.trim_end_matches("::");
    let docs = crate::api::docs::registered_functions(engine);
    let chosen: Vec<_> = docs
        .iter()
        .filter(|d| match topic {
            "global" => d.namespace.is_empty() && !d.is_property,
            "fields" => d.is_property,
            _ => {
                d.namespace == topic
                    || (d.namespace.is_empty() && !d.is_property && d.name == topic)
                    || format!("{}::{}", d.namespace, d.name) == topic
            }
        })
        .collect();
    if chosen.is_empty() {
        return format!("nothing named {topic:?}\n{}", namespaces_line(engine));
    }
    let whole_doc = chosen.iter().all(|d| d.name == chosen[0].name);
    let mut out = Vec::new();
    for d in chosen {
        out.push(d.signature.clone());
        let doc = if whole_doc {
            d.doc.trim().to_string()
        } else {
            d.doc.lines().next().unwrap_or_default().trim().to_string()
        };
        if !doc.is_empty() {
            out.push(
                doc.lines()
                    .map(|l| format!("    {l}"))
                    .collect::<Vec<_>>()
                    .join("\n"),
            );
        }
    }
    out.join("\n")
}

/// Tab-completion candidates from the engine's registered metadata and the session scope.
#[derive(Default, Clone)]
pub struct Completions {
    /// `http::get`, `assert_status`, `http::` ...
    pub words: Vec<String>,
    /// Property and method names offered after a `.`.
    pub fields: Vec<String>,
}

impl Completions {
    pub fn from_engine(engine: &Engine, scope: &Scope) -> Self {
        let mut words = BTreeSet::new();
        let mut fields = BTreeSet::new();
        if let Ok(json) = engine.gen_fn_metadata_to_json(false)
            && let Ok(meta) = serde_json::from_str::<serde_json::Value>(&json)
        {
            let functions = meta["functions"].as_array().cloned().unwrap_or_default();
            for f in &functions {
                let Some(name) = f["name"].as_str() else {
                    continue;
                };
                if let Some(field) = name.strip_prefix("get$") {
                    fields.insert(field.to_string());
                } else if !name.contains('$') {
                    words.insert(name.to_string());
                    // Methods on values (first parameter `&mut` or a custom type).
                    if f["params"][0]["type"]
                        .as_str()
                        .is_some_and(|t| t.starts_with("&mut"))
                    {
                        fields.insert(name.to_string());
                    }
                }
            }
            if let Some(modules) = meta["modules"].as_object() {
                for (module, content) in modules {
                    words.insert(format!("{module}::"));
                    for f in content["functions"].as_array().into_iter().flatten() {
                        if let Some(name) = f["name"].as_str() {
                            words.insert(format!("{module}::{name}"));
                        }
                    }
                }
            }
        }
        for (name, _, _) in scope.iter_raw() {
            words.insert(name.to_string());
        }
        for keyword in [
            "let", "const", "fn", "if", "else", "for", "while", "loop", "return", "import", "true",
            "false",
        ] {
            words.insert(keyword.to_string());
        }
        for command in [
            ":help", ":targets", ":use", ":env", ":history", ":save", ":quit",
        ] {
            words.insert(command.to_string());
        }
        Completions {
            words: words.into_iter().collect(),
            fields: fields.into_iter().collect(),
        }
    }

    /// Candidates for the word ending at `pos` in `line`: (start of the word, candidates).
    pub fn complete(&self, line: &str, pos: usize) -> (usize, Vec<String>) {
        let before = &line[..pos];
        let start = before
            .rfind(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
            .map(|i| i + 1)
            .unwrap_or(0);
        let word = &before[start..];
        let after_dot = before[..start].ends_with('.');
        let pool = if after_dot { &self.fields } else { &self.words };
        let found = pool
            .iter()
            .filter(|w| w.starts_with(word) && (!word.is_empty() || after_dot))
            .cloned()
            .collect();
        (start, found)
    }
}

/// rustyline glue: completion from [`Completions`], multi-line input through the validator.
#[derive(rustyline::Helper, rustyline::Hinter, rustyline::Highlighter)]
struct LineHelper {
    completions: Completions,
    engine_for_validation: Engine,
}

impl rustyline::completion::Completer for LineHelper {
    type Candidate = String;

    fn complete(
        &self,
        line: &str,
        pos: usize,
        _ctx: &rustyline::Context<'_>,
    ) -> rustyline::Result<(usize, Vec<String>)> {
        Ok(self.completions.complete(line, pos))
    }
}

impl rustyline::validate::Validator for LineHelper {
    fn validate(
        &self,
        ctx: &mut rustyline::validate::ValidationContext,
    ) -> rustyline::Result<rustyline::validate::ValidationResult> {
        use rustyline::validate::ValidationResult;
        let input = ctx.input();
        if input.trim_start().starts_with(':') {
            return Ok(ValidationResult::Valid(None));
        }
        // Variables are not known here: only the block structure matters.
        match self.engine_for_validation.compile(input) {
            Err(e) if is_incomplete(e.err_type()) => Ok(ValidationResult::Incomplete),
            _ => Ok(ValidationResult::Valid(None)),
        }
    }
}

/// Runs the REPL on a terminal (line editing) or over piped input (line by line).
pub fn run(session: Session, history: Option<PathBuf>) -> i32 {
    if std::io::stdin().is_terminal() {
        interactive(session, history)
    } else {
        piped(session)
    }
}

fn print_result(out: &Evaluated) {
    match out {
        Evaluated::Output(text) if !text.is_empty() => {
            let _ = writeln!(std::io::stdout().lock(), "{text}");
        }
        Evaluated::Error(text) => {
            let _ = writeln!(std::io::stderr().lock(), "{text}");
        }
        _ => {}
    }
}

/// Piped input: statements are evaluated as soon as they are complete; results on stdout,
/// errors on stderr. Exit 1 if any input failed, so scripted sessions can be checked.
fn piped(mut session: Session) -> i32 {
    let mut pending = String::new();
    let mut failed = false;
    for line in std::io::stdin().lock().lines() {
        let Ok(line) = line else { break };
        if !pending.is_empty() {
            pending.push('\n');
        }
        pending.push_str(&line);
        let out = session.eval(&pending);
        match out {
            Evaluated::Incomplete => continue,
            Evaluated::Quit => return i32::from(failed),
            Evaluated::Error(_) => failed = true,
            Evaluated::Output(_) => {}
        }
        print_result(&out);
        pending.clear();
    }
    if !pending.trim().is_empty() {
        let _ = writeln!(std::io::stderr(), "error: unfinished input at end of file");
        failed = true;
    }
    i32::from(failed)
}

fn interactive(mut session: Session, history: Option<PathBuf>) -> i32 {
    let config = rustyline::Config::builder()
        .auto_add_history(false)
        .completion_type(rustyline::CompletionType::List)
        .build();
    let mut editor =
        match rustyline::Editor::<LineHelper, rustyline::history::FileHistory>::with_config(config)
        {
            Ok(e) => e,
            Err(e) => {
                eprintln!("error: cannot start line editing: {e}");
                return crate::exit_code::USAGE;
            }
        };
    let mut validation = Engine::new_raw();
    validation.set_max_expr_depths(64, 48);
    editor.set_helper(Some(LineHelper {
        completions: session.completion_words(),
        engine_for_validation: validation,
    }));
    if let Some(path) = &history {
        let _ = editor.load_history(path);
    }
    println!(
        "oa-validate repl: target {} ({}). :help for commands, Ctrl-D to leave.",
        session.target().name,
        session.target().control_url
    );
    loop {
        let prompt: Cow<str> = format!("{}> ", session.target().name).into();
        match editor.readline(&prompt) {
            Ok(input) => {
                if !input.trim().is_empty() && !session.is_sensitive(&input) {
                    let _ = editor.add_history_entry(input.as_str());
                    if let Some(path) = &history {
                        if let Some(dir) = path.parent() {
                            let _ = std::fs::create_dir_all(dir);
                        }
                        let _ = editor.append_history(path);
                    }
                }
                let out = session.eval(&input);
                if matches!(out, Evaluated::Quit) {
                    break;
                }
                print_result(&out);
                if let Some(helper) = editor.helper_mut() {
                    helper.completions = session.completion_words();
                }
            }
            Err(rustyline::error::ReadlineError::Interrupted) => continue,
            Err(_) => break,
        }
    }
    0
}
