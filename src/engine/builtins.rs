//! Lanes may not redefine a built-in function.
//!
//! Rhai calls a script-defined function before a registered one of the same name, so a lane
//! with `fn assert_status(r, s) { assert(true, "") }` turned every status check below it into
//! a pass: a release gate that a lane can switch off by shadowing its assertions is no gate.
//! The same goes for `required` (downgraded to `optional`), `targets`, `skip`, and every
//! standard function an assertion's argument is computed with (`contains`, `len`, ...).

use rhai::Engine;
use std::collections::HashSet;
use std::sync::Arc;

/// The names of every function registered in the engine's global namespace (the host's
/// primitives and Rhai's standard library). Every engine [`crate::api::build`] makes
/// registers the same functions, so the set is computed once per process, and only when a
/// lane or module defines a function at all (generating the signatures costs ~2 ms).
pub fn names(engine: &Engine) -> Arc<HashSet<String>> {
    static NAMES: std::sync::OnceLock<Arc<HashSet<String>>> = std::sync::OnceLock::new();
    NAMES
        .get_or_init(|| Arc::new(compute_names(engine)))
        .clone()
}

/// Rhai compiles every closure (`|| { ... }`) into an anonymous script function; those can
/// shadow nothing.
pub fn is_closure(name: &str) -> bool {
    name.starts_with("anon$")
}

fn compute_names(engine: &Engine) -> HashSet<String> {
    engine
        .gen_fn_signatures(true)
        .iter()
        .filter_map(|sig| sig.split('(').next())
        .map(|name| name.trim().to_string())
        .filter(|name| !name.is_empty() && !name.contains("::"))
        .collect()
}

/// The message for a script function named like a built-in.
pub fn message(name: &str) -> String {
    format!(
        "a lane may not define `fn {name}`: it would replace the built-in `{name}` for every call \
         in this lane (rename the function)"
    )
}

/// The 1-based (line, column) of `fn name` in `source`, when it can be found.
pub fn definition_position(source: &str, name: &str) -> Option<(usize, usize)> {
    for (index, line) in source.lines().enumerate() {
        let mut from = 0;
        while let Some(at) = line[from..].find("fn ") {
            let start = from + at;
            let rest = line[start + 3..].trim_start();
            let before_ok = start == 0
                || !line[..start]
                    .chars()
                    .next_back()
                    .is_some_and(|c| c.is_alphanumeric() || c == '_');
            let after = rest.strip_prefix(name);
            if before_ok && after.is_some_and(|a| a.trim_start().starts_with('(')) {
                return Some((index + 1, line[..start].chars().count() + 1));
            }
            from = start + 3;
        }
    }
    None
}

/// The first function `ast` defines under a built-in's name, if any (a module doing so
/// would shadow the built-in inside itself the same way a lane would).
pub fn shadowing(engine: &Engine, ast: &rhai::AST) -> Option<String> {
    let mut defined = ast
        .iter_functions()
        .filter(|f| !is_closure(f.name))
        .peekable();
    defined.peek()?;
    let builtins = names(engine);
    defined
        .map(|f| f.name)
        .find(|name| builtins.contains(*name))
        .map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_assertions_and_declarations_are_built_ins() {
        let names = names(&crate::api::build());
        for name in [
            "assert",
            "assert_eq",
            "assert_status",
            "required",
            "optional",
            "skip",
            "targets",
            "secret",
            "contains",
            "len",
        ] {
            assert!(names.contains(name), "{name} is not seen as a built-in");
        }
        assert!(!names.contains("readiness"));
    }

    #[test]
    fn finds_the_definition() {
        let src = "// fn assert\nlet x = 1;\n  fn assert_status(r, s) { }\n";
        assert_eq!(definition_position(src, "assert_status"), Some((3, 3)));
        assert_eq!(definition_position(src, "assert"), None);
    }
}
