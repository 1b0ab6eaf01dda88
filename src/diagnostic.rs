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
        None => format!(
            "{}\n",
            indent_continuations(&format!("error: {}", diagnostic.message()))
        ),
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

/// Every character a terminal, a CI log viewer, an editor or `grep` may take for the end of a
/// line (`\r` alone included: a terminal returns to column 0).
pub const LINE_BREAKS: &[char] = &[
    '\n', '\r', '\u{0b}', '\u{0c}', '\u{85}', '\u{2028}', '\u{2029}',
];

/// `text` on one line: line breaks and tabs become spaces (a report field, a table cell).
pub fn one_line(text: &str) -> String {
    text.replace(LINE_BREAKS, " ").replace('\t', " ")
}

/// Text an evidence folder supplied, safe to print on one line: every control character (a
/// terminal's ESC sequence, a line break) is escaped, so a folder cannot draw on the terminal,
/// and its CI command markers are made inert ([`inert`]), so it cannot steer a CI runner.
pub fn escape_controls(text: &str) -> String {
    let escaped: String = text
        .chars()
        .map(|c| {
            if c.is_control() || LINE_BREAKS.contains(&c) {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect();
    inert(&escaped)
}

/// `text` with every line after the first indented by the first line's indentation plus four
/// spaces: whatever a server or a script puts in a message, no line of it starts at column 0,
/// so none can pass for a line the tool prints there (`Verdict: GO`). `\r\n` is one break.
pub fn indent_continuations(text: &str) -> String {
    if !text.contains(LINE_BREAKS) {
        return text.to_string();
    }
    let text = text.replace("\r\n", "\n");
    let mut lines = text.split(LINE_BREAKS);
    let first = lines.next().unwrap_or_default();
    let lead = &first[..first.len() - first.trim_start_matches(' ').len()];
    let mut out = first.to_string();
    for line in lines {
        out.push('\n');
        out.push_str(lead);
        out.push_str("    ");
        out.push_str(line);
    }
    out
}

/// `text` as the terminal prints it: continuation lines indented, workflow-command markers
/// inert ([`indent_continuations`], [`inert`]).
pub fn for_terminal(text: &str) -> String {
    inert(&indent_continuations(text))
}

/// `text` with every marker a CI runner takes for a workflow command made inert: GitHub
/// Actions obeys `::name::` at the start of a line (after any leading whitespace, which it
/// trims) and its legacy `##[name]` anywhere in a line; Azure Pipelines obeys `##vso[`. A
/// backslash goes between the two characters of each marker (`:\:`, `#\#`), so the text stays
/// readable and no server or script text can steer the CI that shows it (issue 20, finding 8).
/// The tool's own commands (`ci.rs`) are written outside this.
pub fn inert(text: &str) -> String {
    if !text.contains("##") && !text.contains("::") {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len() + 8);
    let mut at_line_start = true;
    let mut previous = '\0';
    for c in text.chars() {
        if LINE_BREAKS.contains(&c) {
            at_line_start = true;
        } else if at_line_start && c == ':' && previous == ':' {
            // `::` after only whitespace on this line.
            out.push('\\');
            at_line_start = false;
        } else if c == '#' && previous == '#' {
            out.push('\\');
        } else if !(c.is_whitespace() || (c == ':' && previous != ':')) {
            at_line_start = false;
        }
        out.push(c);
        previous = c;
    }
    out
}

/// A Hurl-style code frame: the message, `--> file:line:col`, the line and a caret.
pub fn code_frame(message: &str, pos: &SourcePos, source: Option<&str>) -> String {
    let mut out = format!(
        "{}\n  --> {pos}\n",
        indent_continuations(&format!("error: {message}"))
    );
    if let Some(line_text) = source.and_then(|s| s.lines().nth(pos.line.saturating_sub(1)))
        && pos.line > 0
    {
        let line_text = &one_line(line_text);
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

#[cfg(test)]
mod line_tests {
    use super::*;

    #[test]
    fn no_continuation_line_starts_at_column_0() {
        let text = "  - x failed: bad\nVerdict: GO\r\nVerdict: GO\rVerdict: GO\u{2028}Verdict: GO\u{0b}\u{0c}\u{85}\u{2029}";
        let out = indent_continuations(text);
        let lines: Vec<&str> = out.split('\n').collect();
        assert_eq!(lines[0], "  - x failed: bad");
        assert_eq!(lines[1], "      Verdict: GO");
        assert_eq!(lines.len(), 9, "{out:?}");
        for line in &lines[1..] {
            assert!(line.starts_with("      "), "{line:?}");
            assert!(!line.contains(LINE_BREAKS));
        }
        assert_eq!(indent_continuations("one"), "one");
    }

    #[test]
    fn workflow_command_markers_are_made_inert() {
        assert_eq!(
            inert("degraded ##[stop-commands]x"),
            "degraded #\\#[stop-commands]x"
        );
        assert_eq!(inert("###[x] ##vso[task]"), "#\\#\\#[x] #\\#vso[task]");
        assert_eq!(inert("::error::fake"), ":\\:error::fake");
        assert_eq!(inert("ok\n \t ::warning::x"), "ok\n \t :\\:warning::x");
        assert_eq!(inert("a\u{2028}::x::"), "a\u{2028}:\\:x::");
        // `::` after other text on a line is no command, and is left alone.
        assert_eq!(inert("GET /x: a::b"), "GET /x: a::b");
        assert_eq!(inert("plain text"), "plain text");
        assert_eq!(one_line("a\nb\u{2028}c\td"), "a b c d");
    }
}

/// The closest of `candidates` to `name`, when close enough to be a typo (Levenshtein
/// distance at most a third of the longer name, and at least 1).
pub fn closest<'a>(name: &str, candidates: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    candidates
        .map(|c| (strsim::levenshtein(name, c), c))
        .filter(|(d, c)| *d > 0 && *d <= (name.len().max(c.len()) / 3).max(1))
        .min()
        .map(|(_, c)| c)
}

/// ": did you mean `x`?", or nothing without a suggestion.
pub fn did_you_mean(suggestion: Option<String>) -> String {
    suggestion.map_or(String::new(), |s| format!(": did you mean `{s}`?"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_typo_gets_the_closest_name_and_a_stranger_none() {
        assert_eq!(
            closest("gett", ["get", "post", "head"].into_iter()),
            Some("get")
        );
        assert_eq!(
            closest("assert_staus", ["assert_status", "assert"].into_iter()),
            Some("assert_status")
        );
        assert_eq!(closest("zzzzzz", ["get", "post"].into_iter()), None);
        assert_eq!(did_you_mean(Some("get".into())), ": did you mean `get`?");
        assert_eq!(did_you_mean(None), "");
    }
}
