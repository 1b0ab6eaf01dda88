//! Tab completion and multi-line input for the interactive REPL: candidates from the
//! engine's registered metadata and the session's variables; the block structure decides when
//! an input is complete.

use rhai::{Engine, ParseErrorType, Scope};
use std::collections::BTreeSet;

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
pub(super) struct LineHelper {
    pub(super) completions: Completions,
    pub(super) engine_for_validation: Engine,
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

/// Whether a parse error only means the input goes on (an open block, string or call): the
/// prompt then continues the entry instead of failing it.
pub(super) fn is_incomplete(err: &ParseErrorType) -> bool {
    matches!(
        err,
        ParseErrorType::UnexpectedEOF | ParseErrorType::MissingToken(..)
    ) || matches!(err, ParseErrorType::BadInput(e) if e.to_string().contains("Open string"))
}
