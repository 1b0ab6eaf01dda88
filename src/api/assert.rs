//! Assertions. Each evaluated assertion is counted; a failed one is recorded on the check
//! before the error is thrown, so a script that catches the error still fails the check.

use crate::api::bind;
use crate::api::http::HttpResponse;
use crate::api::json::{dynamic_to_json, json_to_dynamic};
use crate::engine::context;
use crate::evidence_model::Entry;
use crate::outcome::Failure;
use rhai::plugin::*;
use rhai::{Array, Dynamic, EvalAltResult, NativeCallContext};

/// Counts a passed assertion on the running check (also used by self-verifying primitives).
pub fn record_pass(description: &str) {
    context::with_check(|c| {
        c.record.assertions += 1;
        c.record.journal.push(Entry::Line(format!(
            "{}{description}",
            crate::evidence_model::PASSED_ASSERTION
        )));
    });
}

/// Records a failed assertion at the caller's position and returns the error to throw.
/// How much of the text `assert_contains` quotes when the needle is missing.
const EXCERPT_CHARS: usize = 120;

pub fn record_failure(
    ctx: &NativeCallContext,
    message: String,
    expected: Option<String>,
    actual: Option<String>,
) -> Box<EvalAltResult> {
    let position = context::call_site(ctx);
    let in_check = context::with_check(|c| {
        c.record.assertions += 1;
        c.record.failures.push(Failure {
            message: message.clone(),
            expected: expected.clone(),
            actual: actual.clone(),
            position: Some(position.clone()),
        });
    })
    .is_some();
    let mut line = format!("FAILED at {position}: {message}");
    if let (Some(e), Some(a)) = (&expected, &actual) {
        line.push_str(&format!(" (expected {e}, actual {a})"));
    }
    context::log(line);
    let message = if in_check {
        message
    } else {
        format!("{message} (an assertion outside a check: assertions belong inside checks)")
    };
    Box::new(EvalAltResult::ErrorRuntime(
        message.into(),
        ctx.call_position(),
    ))
}

/// Assertions belong inside checks (see [`bind::in_check`]).
fn check_assertion(ctx: &NativeCallContext, verb: &str) -> Result<(), Box<EvalAltResult>> {
    bind::in_check(ctx, verb).map(|_| ())
}

/// JSON-like equality: numbers compare by value (200 == 200.0), everything else structurally.
pub fn values_equal(a: &serde_json::Value, b: &serde_json::Value) -> bool {
    use serde_json::Value;
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| values_equal(p, q))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| values_equal(v, w)))
        }
        _ => a == b,
    }
}

/// How a value reads in a failure message.
pub fn show(value: &Dynamic) -> String {
    if value.is_string() {
        format!("{:?}", value.to_string())
    } else if value.is_unit() {
        "()".to_string()
    } else {
        match dynamic_to_json(value) {
            Ok(json) => json.to_string(),
            Err(_) => value.to_string(),
        }
    }
}

fn statuses_text(codes: &[i64]) -> String {
    match codes {
        [one] => one.to_string(),
        many => {
            let parts: Vec<String> = many.iter().map(i64::to_string).collect();
            format!("one of [{}]", parts.join(", "))
        }
    }
}

fn assert_status_in(
    ctx: &NativeCallContext,
    resp: &HttpResponse,
    codes: &[i64],
) -> Result<(), Box<EvalAltResult>> {
    check_assertion(ctx, "assert_status")?;
    let expected = statuses_text(codes);
    if codes.contains(&i64::from(resp.status)) {
        record_pass(&format!(
            "{} {} answered {}",
            resp.method,
            resp.path(),
            resp.status
        ));
        Ok(())
    } else {
        Err(record_failure(
            ctx,
            format!(
                "{} {} answered {}, expected {expected}",
                resp.method,
                resp.path(),
                resp.status
            ),
            Some(expected),
            Some(resp.status.to_string()),
        ))
    }
}

#[export_module]
pub mod assert_api {
    /// Fails the check with `message` unless `condition` is true.
    #[rhai_fn(name = "assert", return_raw)]
    pub fn assert_true(
        ctx: NativeCallContext,
        condition: bool,
        message: &str,
    ) -> Result<(), Box<EvalAltResult>> {
        check_assertion(&ctx, "assert")?;
        if condition {
            record_pass(message);
            Ok(())
        } else {
            Err(record_failure(&ctx, message.to_string(), None, None))
        }
    }

    /// Fails the check unless `actual` equals `expected` (numbers by value, maps and arrays
    /// structurally); the failure shows both.
    #[rhai_fn(return_raw)]
    pub fn assert_eq(
        ctx: NativeCallContext,
        actual: Dynamic,
        expected: Dynamic,
        message: &str,
    ) -> Result<(), Box<EvalAltResult>> {
        check_assertion(&ctx, "assert_eq")?;
        let equal = match (dynamic_to_json(&actual), dynamic_to_json(&expected)) {
            (Ok(a), Ok(e)) => values_equal(&a, &e),
            _ => {
                actual.to_string() == expected.to_string()
                    && actual.type_name() == expected.type_name()
            }
        };
        if equal {
            record_pass(message);
            Ok(())
        } else {
            Err(record_failure(
                &ctx,
                format!(
                    "{message}: expected {}, actual {}",
                    show(&expected),
                    show(&actual)
                ),
                Some(show(&expected)),
                Some(show(&actual)),
            ))
        }
    }

    /// Fails the check unless the string `text` contains `needle`.
    #[rhai_fn(return_raw)]
    pub fn assert_contains(
        ctx: NativeCallContext,
        text: &str,
        needle: &str,
        message: &str,
    ) -> Result<(), Box<EvalAltResult>> {
        check_assertion(&ctx, "assert_contains")?;
        if text.contains(needle) {
            record_pass(message);
            Ok(())
        } else {
            // Redacted before the cut; a remnant of a secret left at the cut is masked.
            let excerpt = match context::host() {
                Some(host) => host.services.redactor.excerpt(text, EXCERPT_CHARS),
                None => text.chars().take(EXCERPT_CHARS).collect(),
            };
            Err(record_failure(
                &ctx,
                format!("{message}: {needle:?} not found"),
                Some(format!("text containing {needle:?}")),
                Some(format!("{excerpt:?}")),
            ))
        }
    }

    /// Fails the check unless the response status is `code`.
    #[rhai_fn(name = "assert_status", return_raw)]
    pub fn assert_status(
        ctx: NativeCallContext,
        resp: HttpResponse,
        code: i64,
    ) -> Result<(), Box<EvalAltResult>> {
        assert_status_in(&ctx, &resp, &[code])
    }

    /// Fails the check unless the response status is one of `codes`.
    #[rhai_fn(name = "assert_status", return_raw)]
    pub fn assert_status_any(
        ctx: NativeCallContext,
        resp: HttpResponse,
        codes: Array,
    ) -> Result<(), Box<EvalAltResult>> {
        let mut wanted = Vec::with_capacity(codes.len());
        for code in codes {
            wanted.push(code.as_int().map_err(|t| {
                crate::api::script_error(
                    &ctx,
                    format!("assert_status: status codes must be integers, not {t}"),
                )
            })?);
        }
        assert_status_in(&ctx, &resp, &wanted)
    }

    /// Fails the check unless header `name` is present and contains `text` (case-sensitive).
    #[rhai_fn(return_raw)]
    pub fn assert_header_contains(
        ctx: NativeCallContext,
        resp: HttpResponse,
        name: &str,
        text: &str,
    ) -> Result<(), Box<EvalAltResult>> {
        check_assertion(&ctx, "assert_header_contains")?;
        let name = name.to_ascii_lowercase();
        match resp.header_value(&name) {
            Some(value) if value.contains(text) => {
                record_pass(&format!(
                    "{} {}: {name} contains {text:?}",
                    resp.method,
                    resp.path()
                ));
                Ok(())
            }
            found => Err(record_failure(
                &ctx,
                format!(
                    "{} {}: header {name} {}",
                    resp.method,
                    resp.path(),
                    match &found {
                        Some(v) => format!("is {v:?}, expected it to contain {text:?}"),
                        None => format!("is missing, expected it to contain {text:?}"),
                    }
                ),
                Some(format!("{name} containing {text:?}")),
                Some(
                    found
                        .map(|v| format!("{v:?}"))
                        .unwrap_or_else(|| "missing".to_string()),
                ),
            )),
        }
    }

    /// The value at JSON pointer `pointer` (RFC 6901, e.g. "/data/token") in `value` — a
    /// response (its JSON body), a map, an array or a JSON string — or `default` when absent.
    /// A body or string that is not JSON is an error (naming the request), not `default`.
    #[rhai_fn(return_raw)]
    pub fn json_get(
        ctx: NativeCallContext,
        value: Dynamic,
        pointer: &str,
        default: Dynamic,
    ) -> Result<Dynamic, Box<EvalAltResult>> {
        if !pointer.is_empty() && !pointer.starts_with('/') {
            return Err(crate::api::script_error(
                &ctx,
                format!("json_get: {pointer:?} is not a JSON pointer (it must start with '/')"),
            ));
        }
        // A body that is not JSON is a fault to name, not an absent value: answering
        // `default` would turn "the server sent garbage" into "the field is missing".
        let json = if let Some(resp) = value.read_lock::<HttpResponse>() {
            resp.parse_json()
                .map_err(|e| crate::api::script_error(&ctx, format!("json_get: {e}")))?
        } else if value.is_string() {
            serde_json::from_str(&value.to_string()).map_err(|e| {
                crate::api::script_error(&ctx, format!("json_get: the text is not JSON ({e})"))
            })?
        } else {
            dynamic_to_json(&value)
                .map_err(|e| crate::api::script_error(&ctx, format!("json_get: {e}")))?
        };
        match json.pointer(pointer) {
            Some(found) => json_to_dynamic(found).map_err(|e| crate::api::script_error(&ctx, e)),
            None => Ok(default),
        }
    }
}
