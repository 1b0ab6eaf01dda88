//! `oa-validate show [PATH]`: the files an installed binary carries — the built-in matrix, its
//! lock, the stdlib modules and the docs — printed by their source-tree path, so a failure
//! inside `stdlib/htmx.rhai` can be read without the source tree (`show` alone lists them).

use crate::config::UsageError;
use crate::exit_code;

pub fn show(path: Option<&str>) -> Result<i32, UsageError> {
    let files = crate::embedded::shown_files();
    let Some(path) = path else {
        for (name, text) in &files {
            println!("{name}  ({} lines)", text.lines().count());
        }
        return Ok(exit_code::GO);
    };
    let wanted = path.trim_start_matches("./");
    match files.iter().find(|(name, _)| name == wanted) {
        Some((_, text)) => {
            print!("{text}");
            Ok(exit_code::GO)
        }
        None => {
            let names: Vec<&str> = files.iter().map(|(name, _)| name.as_str()).collect();
            Err(UsageError(format!(
                "{path}: not a file the binary carries{} (`oa-validate show` lists them)",
                crate::diagnostic::did_you_mean(
                    crate::diagnostic::closest(wanted, names.iter().copied()).map(str::to_string)
                )
            )))
        }
    }
}
