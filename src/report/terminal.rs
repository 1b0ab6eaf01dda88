//! The terminal: one line per finished check (`[passed] id (required)`), a progress bar on a
//! TTY, plain lines otherwise, and the verdict at the end. Colour only on a TTY without NO_COLOR.

use crate::diagnostic::code_frame;
use crate::outcome::{CheckResult, Status};
use crate::redact::Redactor;
use crate::run::Event;
use crate::verdict::{Decision, Verdict};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::collections::HashMap;
use std::io::Write;

pub struct Terminal {
    color: bool,
    progress: Option<ProgressBar>,
    redactor: Redactor,
    /// Lane and stdlib sources by display path, for code frames under failures.
    sources: HashMap<String, String>,
    /// Said after the verdict word, e.g. that a re-run is no release decision.
    verdict_note: Option<String>,
    /// Which matrix and which tool made the verdict (its lock's digest, version, commit).
    identity: Option<String>,
    /// `-q`: lines only for checks that failed, errored or were skipped while required.
    quiet: bool,
    /// `-v`: each check's journal (requests, assertions) under its line.
    verbose: bool,
}

fn paint(color: bool, code: &str, text: &str) -> String {
    if color {
        format!("\x1b[{code}m{text}\x1b[0m")
    } else {
        text.to_string()
    }
}

fn status_color(status: Status) -> &'static str {
    match status {
        Status::Passed => "32",
        Status::Failed | Status::Errored => "31",
        Status::Skipped => "33",
        Status::NotChecked => "35",
    }
}

/// `, 1 required not checked here` when any check could not run on this machine (nothing
/// otherwise: the counts line of a run that lacked nothing stays as it was).
pub(crate) fn not_checked_counts(c: &crate::verdict::Counts) -> String {
    let mut text = String::new();
    for (n, level) in [
        (c.required_not_checked, "required"),
        (c.optional_not_checked, "optional"),
    ] {
        if n > 0 {
            text.push_str(&format!(", {n} {level} not checked here"));
        }
    }
    text
}

impl Terminal {
    pub fn new(
        color: bool,
        progress: bool,
        redactor: Redactor,
        sources: HashMap<String, String>,
    ) -> Self {
        let progress = progress.then(|| {
            let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr());
            bar.set_style(
                ProgressStyle::with_template("{spinner} [{bar:30}] {pos}/{len} {wide_msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_bar())
                    .progress_chars("=> "),
            );
            bar
        });
        Self {
            color,
            progress,
            redactor,
            sources,
            verdict_note: None,
            identity: None,
            quiet: false,
            verbose: false,
        }
    }

    /// `-q`: print only the checks that did not pass (a skipped optional check is not shown).
    pub fn set_quiet(&mut self, quiet: bool) {
        self.quiet = quiet;
    }

    /// `-v`: print each check's requests and assertions, as its log has them.
    pub fn set_verbose(&mut self, verbose: bool) {
        self.verbose = verbose;
    }

    /// The verdict block's line naming the matrix's lock and the tool.
    pub fn set_identity(&mut self, line: String) {
        self.identity = Some(line);
    }

    /// Qualifies the verdict line: `Verdict: GO (<note>)`.
    pub fn set_verdict_note(&mut self, note: String) {
        self.verdict_note = Some(note);
    }

    /// Prints `text`; a line break inside it (from a message) starts an indented line, so only
    /// the tool's own lines start at column 0, and no text in it can pass for a CI runner's
    /// workflow command.
    fn emit(&self, text: &str) {
        let text = crate::diagnostic::for_terminal(&self.redactor.redact(text));
        match &self.progress {
            Some(bar) => bar.println(text),
            // A closed stdout (`| head`) must not abort the run: the evidence still gets written.
            None => {
                let _ = writeln!(std::io::stdout().lock(), "{text}");
            }
        }
    }

    /// The lines printed when a check ends.
    pub fn check_lines(&self, r: &CheckResult) -> Vec<String> {
        let word = paint(
            self.color,
            status_color(r.status),
            &format!("[{}]", r.status.label()),
        );
        let mut lines = vec![format!("{word} {} ({})", r.id, r.level.as_str())];
        match r.status {
            Status::Passed => {}
            Status::Skipped => {
                lines.push(format!(
                    "    skipped: {}",
                    r.reason.as_deref().unwrap_or("")
                ));
            }
            Status::NotChecked => {
                lines.push(format!(
                    "    not checked here: {}",
                    r.reason.as_deref().unwrap_or("")
                ));
                if let Some(missing) = &r.missing {
                    lines.push(format!("    to check it here: {}", missing.remedy));
                }
            }
            Status::Failed | Status::Errored => {
                if r.failures.is_empty() {
                    // An error at a known place gets its code frame too, as a failure does.
                    let reason = r.reason.as_deref().unwrap_or("");
                    match &r.reason_at {
                        Some(pos) if self.sources.contains_key(&pos.file) => {
                            let source = self.sources.get(&pos.file).map(String::as_str);
                            let message = super::code_frames::reason_message(reason, pos);
                            let frame = code_frame(message, pos, source);
                            lines.extend(frame.lines().map(|l| format!("    {l}")));
                        }
                        _ => lines.push(format!("    {reason}")),
                    }
                }
                for (i, f) in r.failures.iter().enumerate() {
                    match (&f.position, i) {
                        // The first failure gets a code frame: the line and a caret.
                        (Some(pos), 0) => {
                            let source = self.sources.get(&pos.file).map(String::as_str);
                            let frame = code_frame(&f.message, pos, source);
                            lines.extend(frame.lines().map(|l| format!("    {l}")));
                        }
                        (Some(pos), _) => lines.push(format!("    {pos}: {}", f.message)),
                        (None, _) => lines.push(format!("    {}", f.message)),
                    }
                }
                lines.push(format!("    log: {}", r.log_path));
            }
        }
        for w in &r.warnings {
            lines.push(format!("    {} {w}", paint(self.color, "33", "warning:")));
        }
        lines
    }

    /// A check's journal for `-v`: every line of its log (requests with status and timing,
    /// `ok:` for each assertion that held, `FAILED at` for one that did not), indented under
    /// the check's line with `| `.
    fn journal(&self, evidence: &crate::evidence_model::CheckEvidence) -> Vec<String> {
        let rendered: Vec<crate::evidence::exchange::Rendered> = evidence
            .exchanges()
            .map(|e| crate::evidence::exchange::Rendered::from_raw(e, &self.redactor))
            .collect();
        crate::evidence::folder::journal_text(evidence, &rendered)
            .lines()
            .map(|line| format!("    | {line}"))
            .collect()
    }

    pub fn on_event(&mut self, event: &Event) {
        match event {
            Event::RunStarted { total } => {
                if let Some(bar) = &self.progress {
                    bar.set_length(*total as u64);
                }
            }
            Event::CheckStarted { id, .. } => {
                if let Some(bar) = &self.progress {
                    bar.set_message(id.clone());
                }
            }
            Event::CheckFinished {
                result, evidence, ..
            } => {
                let shown = !self.quiet
                    || matches!(result.status, Status::Failed | Status::Errored)
                    || (matches!(result.status, Status::Skipped | Status::NotChecked)
                        && result.level == crate::outcome::Level::Required);
                if shown {
                    for line in self.check_lines(result) {
                        self.emit(&line);
                    }
                }
                if self.verbose {
                    for line in self.journal(evidence) {
                        self.emit(&line);
                    }
                }
                if let Some(bar) = &self.progress {
                    bar.inc(1);
                }
            }
            Event::Interrupted => {
                self.emit("interrupted: ending running checks, writing partial evidence");
            }
        }
    }

    /// Names the mutating checks that ran against production (printed before the verdict).
    pub fn production_mutations(&mut self, ids: &[String]) {
        if ids.is_empty() {
            return;
        }
        self.emit(&format!(
            "{} mutated production (--allow-prod-mutations): {}",
            paint(self.color, "33", "warning:"),
            ids.join(", ")
        ));
    }

    /// The cutover phase the run is for, printed before the first check.
    pub fn phase(&mut self, phase: &str) {
        self.emit(&format!("Phase: {phase}"));
    }

    /// A line of the run's preamble (before the first check), e.g. what this machine lacks.
    pub fn note(&mut self, line: &str) {
        self.emit(line);
    }

    /// Where the run's requests go, said before the first one.
    pub fn targets(&mut self, targets: &str) {
        self.emit(&format!("Targets: {targets}"));
    }

    /// The verdict block; `out_dir` is where the evidence went, `digest` the SHA-256 of its
    /// SHA256SUMS (a copy of the folder is checked against this line, not against itself).
    pub fn finish(
        &mut self,
        verdict: &Verdict,
        results: &[CheckResult],
        gate: bool,
        out_dir: &str,
        digest: &str,
    ) {
        if let Some(bar) = self.progress.take() {
            bar.finish_and_clear();
        }
        let c = &verdict.counts;
        self.emit("");
        self.emit(&format!(
            "{} check{}: {} passed, {} required failures, {} optional failures, {} required skipped, {} optional skipped{}",
            c.total, if c.total == 1 { "" } else { "s" }, c.passed, c.required_failures, c.optional_failures, c.required_skipped, c.optional_skipped, not_checked_counts(c)
        ));
        // The same list as SUMMARY.md's and report.html's: optional checks that did not
        // pass, then each check's warn() messages.
        let warnings = super::all_warnings(
            &verdict.warnings,
            results
                .iter()
                .map(|r| (r.id.as_str(), r.warnings.as_slice())),
        );
        for w in &warnings {
            self.emit(&format!("{} {w}", paint(self.color, "33", "warning:")));
        }
        let (word, code) = match verdict.decision {
            Decision::Go => ("GO", "1;32"),
            Decision::NoGo => ("NO-GO", "1;31"),
        };
        let mode = match (&self.verdict_note, gate) {
            (Some(note), _) => format!(" ({note})"),
            (None, true) => " (release gate)".to_string(),
            (None, false) => String::new(),
        };
        self.emit(&format!("Verdict: {}{mode}", paint(self.color, code, word)));
        for reason in &verdict.no_go_reasons {
            self.emit(&format!("  - {reason}"));
        }
        let missing =
            super::missing_here(results.iter().map(|r| (r.id.as_str(), r.missing.as_ref())));
        if !missing.is_empty() {
            self.emit(&format!("{}:", super::MISSING_HERE_HEADING));
            for (what, ids) in &missing {
                self.emit(&format!("  - {}", super::missing_here_line(what, ids)));
            }
        }
        if let Some(identity) = &self.identity {
            self.emit(identity);
        }
        self.emit(&format!("Evidence: {out_dir}"));
        self.emit(&format!(
            "Evidence digest: {digest} (SHA-256 of SHA256SUMS)"
        ));
    }
}
