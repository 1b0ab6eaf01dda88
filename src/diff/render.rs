//! The diff as text for a terminal (aligned columns) or Markdown (tables), from one traversal.

use super::Diff;

fn number(value: Option<f64>) -> String {
    value.map_or("-".to_string(), |v| format!("{v:.1}"))
}

fn signed(value: Option<f64>) -> String {
    value.map_or("-".to_string(), |v| format!("{v:+.1}"))
}

/// Plain text for a terminal.
pub fn render_text(diff: &Diff) -> String {
    render(diff, Style::Text)
}

/// Markdown (a pull request comment, a step summary).
pub fn render_markdown(diff: &Diff) -> String {
    render(diff, Style::Markdown)
}

/// The same sections in either format: aligned columns for a terminal, tables in Markdown.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Style {
    Text,
    Markdown,
}

struct Page {
    style: Style,
    out: String,
}

impl Page {
    fn title(&mut self, title: &str) {
        match self.style {
            Style::Text => self.out.push_str(&format!("\n{title}:\n")),
            Style::Markdown => self.out.push_str(&format!("\n## {title}\n\n")),
        }
    }

    fn line(&mut self, text: &str) {
        self.out.push_str(text);
        self.out.push('\n');
    }

    /// Rows of cells: a table with `header` in Markdown, indented aligned columns on a terminal.
    fn rows(&mut self, header: &[&str], rows: &[Vec<String>]) {
        match self.style {
            Style::Markdown => {
                let line = |cells: Vec<String>| format!("| {} |\n", cells.join(" | "));
                self.out
                    .push_str(&line(header.iter().map(|h| h.to_string()).collect()));
                self.out
                    .push_str(&line(vec!["---".to_string(); header.len()]));
                for row in rows {
                    let cells = row.iter().map(|c| cell(c)).collect();
                    self.out.push_str(&line(cells));
                }
            }
            Style::Text => {
                let columns = header.len();
                let widths: Vec<usize> = (0..columns)
                    .map(|i| rows.iter().map(|r| r[i].chars().count()).max().unwrap_or(0))
                    .collect();
                for row in rows {
                    let cells: Vec<String> = row
                        .iter()
                        .zip(&widths)
                        .map(|(c, w)| format!("{c:w$}"))
                        .collect();
                    let text = format!("  {}", cells.join("  "));
                    self.line(text.trim_end());
                }
            }
        }
    }
}

/// A Markdown table cell: one line, and a `|` does not end the cell.
fn cell(text: &str) -> String {
    crate::report::single_line(text).replace('|', "\\|")
}

fn render(diff: &Diff, style: Style) -> String {
    let mut page = Page {
        style,
        out: String::new(),
    };
    let markdown = style == Style::Markdown;
    if markdown {
        page.line("# oa-validate diff\n");
    }
    let sides: Vec<Vec<String>> = [("OLD", &diff.old), ("NEW", &diff.new)]
        .iter()
        .map(|(label, side)| {
            let verdict = if side.interrupted {
                format!("{} (interrupted)", side.decision)
            } else {
                side.decision.clone()
            };
            vec![
                label.to_string(),
                side.folder.clone(),
                verdict,
                side.mode.clone(),
                side.timestamp.clone(),
                format!("oa-validate {}", side.tool_version),
            ]
        })
        .collect();
    page.rows(
        &["", "folder", "verdict", "mode", "timestamp", "tool"],
        &sides,
    );
    if !diff.context.is_empty() {
        page.title("How the runs were made differently");
        let rows: Vec<Vec<String>> = diff
            .context
            .iter()
            .map(|c| vec![c.what.clone(), format!("{} -> {}", c.old, c.new)])
            .collect();
        page.rows(&["", "OLD -> NEW"], &rows);
    }
    page.title(&format!("Status changes ({})", diff.status_changes.len()));
    if diff.status_changes.is_empty() {
        page.line("No check changed status.");
    } else {
        let rows: Vec<Vec<String>> = diff
            .status_changes
            .iter()
            .map(|c| {
                let mark = match (c.regression, markdown) {
                    (false, _) => "",
                    (true, false) => "REGRESSION",
                    (true, true) => "**regression**",
                };
                vec![
                    c.id.clone(),
                    c.level.as_str().to_string(),
                    format!("{} -> {}", c.old.as_str(), c.new.as_str()),
                    mark.to_string(),
                ]
            })
            .collect();
        page.rows(&["check", "level", "status", ""], &rows);
    }
    for (title, list) in [
        ("New checks", &diff.added),
        ("Removed checks", &diff.removed),
    ] {
        if !list.is_empty() {
            page.title(&format!("{title} ({})", list.len()));
            let rows: Vec<Vec<String>> = list
                .iter()
                .map(|c| {
                    vec![
                        c.id.clone(),
                        c.level.as_str().to_string(),
                        c.status.as_str().to_string(),
                    ]
                })
                .collect();
            page.rows(&["check", "level", "status"], &rows);
        }
    }
    if !diff.level_changes.is_empty() {
        page.title(&format!("Level changes ({})", diff.level_changes.len()));
        let rows: Vec<Vec<String>> = diff
            .level_changes
            .iter()
            .map(|c| {
                vec![
                    c.id.clone(),
                    format!("{} -> {}", c.old.as_str(), c.new.as_str()),
                ]
            })
            .collect();
        page.rows(&["check", "level"], &rows);
    }
    if !diff.perf.is_empty() {
        page.title(&format!(
            "Perf, TTFB in ms (flagged past {}% and {} ms)",
            diff.perf_threshold.percent, diff.perf_threshold.min_ms
        ));
        let rows: Vec<Vec<String>> = diff
            .perf
            .iter()
            .map(|p| {
                vec![
                    p.check.clone(),
                    p.probe.clone(),
                    format!(
                        "p50 {} -> {} ({})",
                        number(p.old_p50),
                        number(p.new_p50),
                        signed(p.delta_p50)
                    ),
                    format!(
                        "p95 {} -> {} ({})",
                        number(p.old_p95),
                        number(p.new_p95),
                        signed(p.delta_p95)
                    ),
                    p.flag
                        .map(|f| {
                            if markdown {
                                f.to_string()
                            } else {
                                f.to_uppercase()
                            }
                        })
                        .unwrap_or_default(),
                ]
            })
            .collect();
        page.rows(&["check", "probe", "TTFB p50", "TTFB p95", ""], &rows);
    }
    page.line("");
    if diff.regressions.is_empty() {
        page.line("No required check regressed.");
    } else {
        let strong = if markdown { "**" } else { "" };
        page.line(&format!(
            "{strong}{} required check(s) regressed:{strong} {}",
            diff.regressions.len(),
            diff.regressions.join(", ")
        ));
    }
    page.out
}
