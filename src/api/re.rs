//! `re::` — regular expressions (Rust `regex` syntax) for matching response text.

use crate::api::script_error;
use rhai::plugin::*;
use rhai::{Array, Dynamic, EvalAltResult, NativeCallContext};

fn compile(ctx: &NativeCallContext, pattern: &str) -> Result<regex::Regex, Box<EvalAltResult>> {
    regex::RegexBuilder::new(pattern)
        .size_limit(1 << 20)
        .build()
        .map_err(|e| script_error(ctx, format!("invalid regular expression {pattern:?}: {e}")))
}

#[export_module]
pub mod re_api {
    /// Whether `pattern` matches anywhere in `text`.
    #[rhai_fn(return_raw)]
    pub fn is_match(
        ctx: NativeCallContext,
        text: &str,
        pattern: &str,
    ) -> Result<bool, Box<EvalAltResult>> {
        Ok(compile(&ctx, pattern)?.is_match(text))
    }

    /// The first match of `pattern` in `text`, or `()` when there is none.
    #[rhai_fn(return_raw)]
    pub fn find(
        ctx: NativeCallContext,
        text: &str,
        pattern: &str,
    ) -> Result<Dynamic, Box<EvalAltResult>> {
        Ok(compile(&ctx, pattern)?
            .find(text)
            .map(|m| Dynamic::from(m.as_str().to_string()))
            .unwrap_or(Dynamic::UNIT))
    }

    /// The capture groups of the first match (index 0 is the whole match; unmatched groups
    /// are `()`), or `()` when `pattern` does not match.
    #[rhai_fn(return_raw)]
    pub fn captures(
        ctx: NativeCallContext,
        text: &str,
        pattern: &str,
    ) -> Result<Dynamic, Box<EvalAltResult>> {
        let re = compile(&ctx, pattern)?;
        Ok(match re.captures(text) {
            Some(caps) => {
                let groups: Array = caps
                    .iter()
                    .map(|g| {
                        g.map(|m| Dynamic::from(m.as_str().to_string()))
                            .unwrap_or(Dynamic::UNIT)
                    })
                    .collect();
                Dynamic::from_array(groups)
            }
            None => Dynamic::UNIT,
        })
    }
}
