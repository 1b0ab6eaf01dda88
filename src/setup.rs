//! What the HTMX lanes and the sim need on the machine, and where it goes: a Chromium for
//! `browser::` (Debian's `chromium`, through apt-get) and the htmx library the sim serves (the
//! npm package `htmx.org`, into the per-user cache `$XDG_CACHE_HOME/oa-validate`, else
//! `~/.cache/oa-validate`). The binary carries the install script (scripts/setup.sh) and runs
//! it itself: `oa-validate setup`, and `--sim`/`sim` when something is missing, from any
//! directory.

use crate::config::EnvSnapshot;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;

/// The install script, built into the binary (so it never has to be found on disk).
const SCRIPT: &str = include_str!("../scripts/setup.sh");

/// The per-user cache folder: `$XDG_CACHE_HOME/oa-validate`, else `$HOME/.cache/oa-validate`;
/// `None` without either.
pub fn cache_dir(env: &EnvSnapshot) -> Option<PathBuf> {
    let base = env
        .get_nonempty("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| {
            env.get_nonempty("HOME")
                .map(|h| Path::new(h).join(".cache"))
        })?;
    Some(base.join("oa-validate"))
}

/// Where `npm install --prefix` puts htmx under `cache`.
fn htmx_prefix(cache: &Path) -> PathBuf {
    cache.join("htmx")
}

/// The installed htmx library file, when the cache has it.
pub fn htmx_path(env: &EnvSnapshot) -> Option<PathBuf> {
    let path = htmx_prefix(&cache_dir(env)?).join("node_modules/htmx.org/dist/htmx.min.js");
    path.is_file().then_some(path)
}

/// The installed htmx library's text (what the sim serves), when installed.
pub fn htmx_library(env: &EnvSnapshot) -> Option<Arc<str>> {
    std::fs::read_to_string(htmx_path(env)?).ok().map(Arc::from)
}

/// The sim's fixture workspace, written out to the cache when it is not there yet.
pub fn fixture_workspace(env: &EnvSnapshot) -> Result<PathBuf, String> {
    let cache = cache_dir(env).ok_or("neither XDG_CACHE_HOME nor HOME is set")?;
    oa_sim::fixture_workspace(&cache).map_err(|e| format!("{}: {e}", cache.display()))
}

/// What is missing, in words (empty when nothing is).
pub fn missing(env: &EnvSnapshot) -> Vec<&'static str> {
    let mut missing = Vec::new();
    if crate::browser::find_chromium(env.get("OA_CHROMIUM"), env.get("PATH")).is_none() {
        missing.push("chromium");
    }
    if htmx_path(env).is_none() {
        missing.push("the htmx library (npm htmx.org)");
    }
    missing
}

/// Installs what is missing (nothing when nothing is). The script's output goes to stderr
/// (stdout stays the tool's). Returns what is still missing afterwards, with why.
pub fn ensure(env: &EnvSnapshot) -> Result<(), String> {
    let before = missing(env);
    if before.is_empty() {
        return Ok(());
    }
    let cache = cache_dir(env).ok_or_else(|| {
        format!(
            "{} missing, and no cache folder to install into (set XDG_CACHE_HOME or HOME)",
            before.join(" and ")
        )
    })?;
    std::fs::create_dir_all(&cache).map_err(|e| format!("{}: {e}", cache.display()))?;
    eprintln!(
        "setup: {} missing: installing (cache {})",
        before.join(" and "),
        cache.display()
    );
    let status = Command::new("bash")
        .arg("-c")
        .arg(SCRIPT)
        .arg("oa-validate-setup")
        .env_clear()
        .envs(env.iter())
        .env("OA_SETUP_HTMX_PREFIX", htmx_prefix(&cache))
        // A folder that exists: the script never depends on where oa-validate was started.
        .current_dir(&cache)
        .stdin(Stdio::null())
        .stdout(Stdio::from(std::io::stderr()))
        .stderr(Stdio::inherit())
        .status()
        .map_err(|e| format!("cannot run the setup script (bash): {e}"))?;
    let after = missing(env);
    match (status.success(), after.is_empty()) {
        (true, true) => Ok(()),
        (_, false) => Err(format!(
            "{} still missing after setup ({status})",
            after.join(" and ")
        )),
        (false, true) => Err(format!("setup failed: {status}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(vars: &[(&str, &str)]) -> EnvSnapshot {
        EnvSnapshot::new(vars.iter().map(|(k, v)| (k.to_string(), v.to_string())))
    }

    #[test]
    fn the_cache_is_per_user() {
        assert_eq!(
            cache_dir(&env(&[("XDG_CACHE_HOME", "/c"), ("HOME", "/h")])),
            Some(PathBuf::from("/c/oa-validate"))
        );
        assert_eq!(
            cache_dir(&env(&[("HOME", "/h")])),
            Some(PathBuf::from("/h/.cache/oa-validate"))
        );
        assert_eq!(cache_dir(&env(&[])), None);
    }
}
