//! `oa-validate defs`: the Rhai definition files (.d.rhai) of the whole API, and optionally
//! the Markdown reference.

use crate::config::{DefsConfig, UsageError};
use crate::exit_code;

pub fn defs(config: &DefsConfig) -> Result<i32, UsageError> {
    let engine = crate::api::build();
    crate::api::docs::write_definitions(&engine, &config.dir).map_err(|e| {
        UsageError(format!(
            "cannot write definitions to {}: {e}",
            config.dir.display()
        ))
    })?;
    if let Some(path) = &config.markdown {
        crate::evidence::write::atomic_write(
            path,
            crate::api::docs::api_markdown(&engine).as_bytes(),
        )
        .map_err(|e| UsageError(format!("cannot write {}: {e}", path.display())))?;
    }
    Ok(exit_code::GO)
}
