//! `oa-validate setup`: install what the HTMX lanes and the sim need (Chromium, the htmx
//! library) when it is missing, and say where it is.

use crate::config::{EnvSnapshot, UsageError};
use crate::exit_code;

pub fn setup(env: &EnvSnapshot) -> Result<i32, UsageError> {
    if let Err(e) = crate::setup::ensure(env) {
        eprintln!("error: setup: {e}");
        return Ok(exit_code::USAGE);
    }
    let chromium = crate::browser::find_chromium(env.get("OA_CHROMIUM"), env.get("PATH"));
    println!(
        "chromium: {}",
        chromium.map_or("missing".to_string(), |p| p.display().to_string())
    );
    println!(
        "htmx: {}",
        crate::setup::htmx_path(env).map_or("missing".to_string(), |p| p.display().to_string())
    );
    Ok(exit_code::GO)
}
