//! `oa-validate report DIR`: (re)build DIR/report.html from the folder's own files.

use crate::config::{ReportConfig, UsageError};
use crate::exit_code;
use crate::redact::Redactor;

pub fn report(config: &ReportConfig) -> Result<i32, UsageError> {
    let redactor = Redactor::new();
    redactor.add_all(config.secrets.iter().map(String::as_str));
    let rebuilt = crate::report::rebuild::rebuild(&config.dir, &redactor).map_err(UsageError)?;
    super::say_refused(&config.dir, &rebuilt.refused, &redactor);
    println!("{}", rebuilt.path.display());
    Ok(exit_code::GO)
}
