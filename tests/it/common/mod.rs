//! A sandbox for running the real `oa-validate` binary end to end, in the spirit of the
//! ripgrep and just test helpers: a temp dir, a command builder with a controlled environment
//! and a timeout, and readers for the evidence folder.
//!
//! Every child runs with a cleared environment (PATH, HOME, `CI=true`, `NO_COLOR=1`, and the
//! staging/prod base URLs pointed at a loopback tripwire so nothing can reach a real
//! deployment), and is killed if it outlives its timeout.

#![allow(dead_code)]

pub mod fault_server;
pub mod faults;
mod secret_forms;
pub mod transport_servers;

mod command;
mod evidence;
mod listeners;
mod sandbox;
mod secrets;
mod sim_process;

pub use command::*;
pub use evidence::*;
pub use listeners::*;
pub use sandbox::*;
pub use secrets::*;
pub use sim_process::*;

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

/// The binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_oa-validate");
/// Default limit for one child process.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

/// The repository root (for the real `lanes/`).
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The ids of the real control lane, in lane/declaration order.
/// (In the default cutover phase, app-surface: the static host and Khala token checks are
/// that phase's.)
pub const CONTROL_CHECKS: [&str; 8] = [
    "control-staging-health",
    "control-staging-smoke",
    "control-staging-static-host",
    "control-staging-khala-sync-token",
    "control-prod-health",
    "control-prod-smoke",
    "control-prod-static-host",
    "control-prod-khala-sync-token",
];

/// The ids of the real HTMX lane (`lanes/htmx.rhai`), in declaration order.
pub const HTMX_CHECKS: [&str; 5] = [
    "control-staging-htmx-perf",
    "control-prod-htmx-perf",
    "control-staging-htmx-browser-smoke",
    "control-prod-htmx-browser-smoke",
    "control-staging-htmx-route-group-canary",
];

/// Every check of the real matrix (`lanes/*.rhai`, sorted by file name), in report order.
pub fn matrix_checks() -> Vec<&'static str> {
    CONTROL_CHECKS
        .iter()
        .chain(HTMX_CHECKS.iter())
        .copied()
        .collect()
}

/// The `XDG_CACHE_HOME` every child of the tests shares (its `oa-validate/` folder is the cache): where
/// `oa-validate setup` installs htmx and writes the sim's fixture workspace. In the target
/// folder, so a second `cargo test` finds it installed.
pub fn test_cache() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("oa-validate-cache")
}

/// Installs Chromium and htmx once per test binary, before any test starts a child, through
/// the binary itself (`oa-validate setup`, the step `--sim` runs when something is missing):
/// the README's `cargo test` is all a fresh machine needs, and concurrent children never race
/// to install. A failed setup fails the tests loudly instead of letting browser checks skip.
pub fn ensure_setup() {
    static SETUP: std::sync::OnceLock<Result<(), String>> = std::sync::OnceLock::new();
    let result = SETUP.get_or_init(|| {
        let mut command = Command::new(BIN);
        command
            .arg("setup")
            .env("XDG_CACHE_HOME", test_cache())
            .stdin(Stdio::null())
            .stdout(Stdio::null());
        let status = command
            .status()
            .map_err(|e| format!("cannot run oa-validate setup: {e}"))?;
        if status.success() {
            Ok(())
        } else {
            Err(format!("oa-validate setup failed: {status}"))
        }
    });
    if let Err(e) = result {
        panic!("{e}");
    }
}

/// The exact upstream results.tsv header.
pub const TSV_HEADER: &str = "check_id\trequired\tstatus\tdescription\tlog_path\tcommand";
