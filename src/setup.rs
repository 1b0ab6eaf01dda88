//! What the HTMX lanes need on the machine: a Chromium for `browser::` and the htmx library
//! the simulated deployment serves. Both are installed by `scripts/setup.sh` (Debian's
//! `chromium` through apt-get, the npm package `htmx.org` into `vendor/node_modules`), which
//! `--sim`, `oa-validate sim` and the test suite run when something is missing, so a fresh
//! machine needs only the README's two commands.

use crate::config::EnvSnapshot;
use std::path::PathBuf;
use std::process::{Command, Stdio};

/// The script, relative to the repository root.
pub const SETUP_SCRIPT: &str = "scripts/setup.sh";

/// What is missing, in words (empty when nothing is).
pub fn missing(env: &EnvSnapshot) -> Vec<&'static str> {
    let mut missing = Vec::new();
    if crate::browser::find_chromium(env.get("OA_CHROMIUM"), env.get("PATH")).is_none() {
        missing.push("chromium");
    }
    if !crate::sim::htmx::htmx_candidates()
        .iter()
        .any(|p| p.is_file())
    {
        missing.push("the htmx library (npm htmx.org)");
    }
    missing
}

fn script() -> Option<PathBuf> {
    [
        PathBuf::from(SETUP_SCRIPT),
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(SETUP_SCRIPT),
    ]
    .into_iter()
    .find(|p| p.is_file())
}

/// Runs the setup script when something is missing. Its output goes to stderr (stdout stays
/// the tool's). Returns what is still missing afterwards, with why.
pub fn ensure(env: &EnvSnapshot) -> Result<(), String> {
    let before = missing(env);
    if before.is_empty() {
        return Ok(());
    }
    let Some(script) = script() else {
        return Err(format!(
            "{} missing and {SETUP_SCRIPT} not found (run oa-validate from its repository)",
            before.join(" and ")
        ));
    };
    eprintln!(
        "setup: {} missing: running {}",
        before.join(" and "),
        script.display()
    );
    let status = Command::new("bash")
        .arg(&script)
        .current_dir(
            script
                .parent()
                .and_then(|p| p.parent())
                .unwrap_or(std::path::Path::new(".")),
        )
        .stdin(Stdio::null())
        .stdout(Stdio::from(std::io::stderr()))
        .stderr(Stdio::inherit())
        .status()
        .map_err(|e| format!("cannot run {}: {e}", script.display()))?;
    let after = missing(env);
    match (status.success(), after.is_empty()) {
        (true, true) => Ok(()),
        (_, false) => Err(format!(
            "{} still missing after {} ({status})",
            after.join(" and "),
            script.display()
        )),
        (false, true) => Err(format!("{} failed: {status}", script.display())),
    }
}
