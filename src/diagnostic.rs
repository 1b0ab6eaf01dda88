//! Diagnostics: every error a user reads about a lane renders the same way, Hurl-style — the
//! message, `--> file:line:col`, the line and a caret under the culprit. Errors that point at a
//! place in a lane implement [`Diagnostic`]; the terminal, the REPL and plan errors render
//! through here.

use crate::outcome::SourcePos;

/// An error with a message and, when known, the place in a lane it is about.
pub trait Diagnostic {
    fn message(&self) -> String;
    fn position(&self) -> Option<&SourcePos>;
}

/// `diagnostic` as a code frame, reading the source with `read` (a plain `error:` line when
/// it has no position).
pub fn render(diagnostic: &dyn Diagnostic, read: impl Fn(&str) -> Option<String>) -> String {
    match diagnostic.position() {
        Some(pos) => code_frame(&diagnostic.message(), pos, read(&pos.file).as_deref()),
        None => format!("error: {}\n", diagnostic.message()),
    }
}

/// Every diagnostic as a code frame (sources read with `read`), then a count line naming what
/// happened because of them: `2 lane errors: nothing was run`.
pub fn render_all(
    diagnostics: &[impl Diagnostic],
    consequence: &str,
    read: impl Fn(&str) -> Option<String>,
) -> String {
    let mut out: String = diagnostics.iter().map(|d| render(d, &read)).collect();
    out.push_str(&format!(
        "{} lane error{}: {consequence}\n",
        diagnostics.len(),
        if diagnostics.len() == 1 { "" } else { "s" }
    ));
    out
}

/// A Hurl-style code frame: the message, `--> file:line:col`, the line and a caret.
pub fn code_frame(message: &str, pos: &SourcePos, source: Option<&str>) -> String {
    let mut out = format!("error: {message}\n  --> {pos}\n");
    if let Some(line_text) = source.and_then(|s| s.lines().nth(pos.line.saturating_sub(1)))
        && pos.line > 0
    {
        let gutter = pos.line.to_string().len();
        let pad = " ".repeat(gutter);
        out.push_str(&format!("{pad} |\n{} | {line_text}\n", pos.line));
        let caret_col = pos.column.max(1) - 1;
        let indent: String = line_text
            .chars()
            .take(caret_col)
            .map(|c| if c == '\t' { '\t' } else { ' ' })
            .collect();
        out.push_str(&format!("{pad} | {indent}^\n"));
    }
    out
}
