//! The record of `page.step(...)`: named, timed steps with their screenshots, as the upstream
//! browser smoke's `summary.json` (written after every step, so it exists even when one fails).

use super::session::Diagnostics;
use serde_json::{Value, json};

/// One recorded step.
#[derive(Debug, Clone)]
pub struct StepRecord {
    pub name: String,
    pub passed: bool,
    pub duration_ms: u128,
    pub message: Option<String>,
    pub screenshot: Option<String>,
}

/// The steps of one page, and its screenshots' numbering.
#[derive(Debug)]
pub struct Steps {
    started_at: String,
    steps: Vec<StepRecord>,
    screenshots: usize,
}

impl Steps {
    pub fn new() -> Steps {
        Steps {
            started_at: now(),
            steps: Vec::new(),
            screenshots: 0,
        }
    }

    pub fn push(&mut self, step: StepRecord) {
        self.steps.push(step);
    }

    /// The next screenshot's file name: `NN-<label>.png`, numbered, the label sanitised.
    pub fn next_screenshot(&mut self, label: &str) -> String {
        self.screenshots += 1;
        format!("{:02}-{}.png", self.screenshots, sanitize(label))
    }

    /// The steps so far in the upstream `summary.json` shape.
    pub fn summary(&self, base_url: Option<&url::Url>, diagnostics: &Diagnostics) -> Value {
        let steps: Vec<Value> = self
            .steps
            .iter()
            .map(|s| {
                let mut step = json!({
                    "name": s.name,
                    "status": if s.passed { "passed" } else { "failed" },
                    "durationMs": s.duration_ms as u64,
                });
                if let Some(m) = &s.message {
                    step["message"] = m.clone().into();
                }
                if let Some(f) = &s.screenshot {
                    step["screenshot"] = f.clone().into();
                }
                step
            })
            .collect();
        let outcome = if !self.steps.is_empty() && self.steps.iter().all(|s| s.passed) {
            "passed"
        } else {
            "failed"
        };
        json!({
            "startedAt": self.started_at,
            "completedAt": now(),
            "baseUrl": base_url.map(|u| u.as_str().trim_end_matches('/').to_string()),
            "steps": steps,
            "diagnostics": {
                "consoleErrors": *diagnostics.console_errors.lock(),
                "pageErrors": *diagnostics.page_errors.lock(),
            },
            "outcome": outcome,
        })
    }
}

impl Default for Steps {
    fn default() -> Self {
        Steps::new()
    }
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// A label as a file name part: lower-case letters, digits, `-` and `_`, at most 60.
fn sanitize(name: &str) -> String {
    let s: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    let s = s.trim_matches('-').to_string();
    if s.is_empty() {
        "page".to_string()
    } else {
        s.chars().take(60).collect()
    }
}
