//! `openapi::` — live responses checked against the response schemas of the OpenAPI document
//! the service itself serves (JSON Schema 2020-12, the `jsonschema` crate; only references
//! inside the document are followed, nothing is fetched).

use crate::api::json::{dynamic_to_json, json_to_dynamic};
use crate::api::script_error;
use rhai::plugin::*;
use rhai::{Array, Dynamic, EvalAltResult, Map, NativeCallContext};
use serde_json::Value;

/// Most validation errors reported for one response (the first ones say enough).
const MAX_ERRORS: usize = 20;

/// The value at a local `$ref` (`#/components/...`) of `doc`.
fn resolve_local<'a>(doc: &'a Value, reference: &str) -> Option<&'a Value> {
    doc.pointer(reference.strip_prefix('#')?)
}

/// The JSON schema the document gives for `method path` answering `status`: the exact
/// status, else its class (`2XX`), else `default`; `None` when the document describes no
/// `application/json` body there.
pub fn response_schema(doc: &Value, path: &str, method: &str, status: i64) -> Option<Value> {
    let responses = doc
        .get("paths")?
        .get(path)?
        .get(method.to_ascii_lowercase())?
        .get("responses")?;
    let class = format!("{}XX", status / 100);
    let mut response = [status.to_string(), class, "default".to_string()]
        .iter()
        .find_map(|key| responses.get(key))?;
    // A response may itself be a reference (`#/components/responses/Error`).
    for _ in 0..8 {
        match response.get("$ref").and_then(Value::as_str) {
            Some(reference) => response = resolve_local(doc, reference)?,
            None => break,
        }
    }
    response
        .get("content")?
        .get("application/json")?
        .get("schema")
        .cloned()
}

/// OpenAPI 3.0's `nullable: true` (which documents keep using under 3.1) read as the 3.1
/// spelling, `type: [T, "null"]`: a validator that ignores the keyword would reject nulls the
/// document's authors allow.
fn normalize_nullable(value: &mut Value) {
    match value {
        Value::Object(map) => {
            if map.get("nullable") == Some(&Value::Bool(true)) {
                map.remove("nullable");
                match map.get_mut("type") {
                    Some(Value::String(t)) => {
                        let t = t.clone();
                        map.insert("type".into(), serde_json::json!([t, "null"]));
                    }
                    Some(Value::Array(types)) if !types.contains(&Value::from("null")) => {
                        types.push(Value::from("null"));
                    }
                    _ => {}
                }
            }
            for child in map.values_mut() {
                normalize_nullable(child);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(normalize_nullable),
        _ => {}
    }
}

/// What validation found: the schema's name and the errors (empty: valid).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaReport {
    pub schema: String,
    pub errors: Vec<String>,
}

/// Validates `instance` against the document's schema for `method path status`; `Ok(None)`
/// when the document has none. Errors in the document itself (an unresolvable `$ref`, an
/// invalid schema) are `Err`.
pub fn validate(
    doc: &Value,
    path: &str,
    method: &str,
    status: i64,
    instance: &Value,
) -> Result<Option<SchemaReport>, String> {
    let Some(schema) = response_schema(doc, path, method, status) else {
        return Ok(None);
    };
    let name = schema
        .get("$ref")
        .and_then(Value::as_str)
        .map(|r| r.rsplit('/').next().unwrap_or(r).to_string())
        .unwrap_or_else(|| "inline schema".to_string());
    // The schema is the root and carries the document's components, so its `#/components/...`
    // references resolve inside the document.
    let mut root = match schema {
        Value::Object(map) => Value::Object(map),
        other => serde_json::json!({ "allOf": [other] }),
    };
    if let (Some(map), Some(components)) = (root.as_object_mut(), doc.get("components")) {
        map.entry("components")
            .or_insert_with(|| components.clone());
    }
    normalize_nullable(&mut root);
    let validator = jsonschema::draft202012::options()
        .should_validate_formats(true)
        .build(&root)
        .map_err(|e| format!("the OpenAPI document's schema {name} is unusable: {e}"))?;
    let errors = validator
        .iter_errors(instance)
        .take(MAX_ERRORS)
        .map(|e| {
            let at = e.instance_path().to_string();
            let at = if at.is_empty() {
                "(root)".to_string()
            } else {
                at
            };
            format!("{at}: {e}")
        })
        .collect();
    Ok(Some(SchemaReport {
        schema: name,
        errors,
    }))
}

#[export_module]
pub mod openapi_api {
    /// The JSON schema `doc` (an OpenAPI document, or the response that carried it) gives
    /// for the `application/json` body of `method path` answering `status` (exact code, then
    /// `2XX`, then `default`), or `()` when it gives none. `path` is as the document spells
    /// it (`/credit/agents/{agent_id}/exposure`).
    #[rhai_fn(return_raw)]
    pub fn response_schema(
        ctx: NativeCallContext,
        doc: Dynamic,
        path: &str,
        method: &str,
        status: i64,
    ) -> Result<Dynamic, Box<EvalAltResult>> {
        let doc = dynamic_to_json(&doc).map_err(|e| script_error(&ctx, e))?;
        match super::response_schema(&doc, path, method, status) {
            Some(schema) => json_to_dynamic(&schema).map_err(|e| script_error(&ctx, e)),
            None => Ok(Dynamic::UNIT),
        }
    }

    /// Validates `body` (a response, or a value) against the schema `doc` gives for
    /// `method path` answering `status`. Returns `#{ schema, errors }`: `schema` is the
    /// schema's name, or `()` when the document has no schema there (nothing was checked);
    /// `errors` lists each violation as `"/pointer: message"` (at most 20). Asserts
    /// nothing: see `runtime::assert_schema` in stdlib/runtime.rhai.
    #[rhai_fn(return_raw)]
    pub fn validate(
        ctx: NativeCallContext,
        doc: Dynamic,
        path: &str,
        method: &str,
        status: i64,
        body: Dynamic,
    ) -> Result<Map, Box<EvalAltResult>> {
        let doc = dynamic_to_json(&doc).map_err(|e| script_error(&ctx, e))?;
        let instance = dynamic_to_json(&body).map_err(|e| script_error(&ctx, e))?;
        let report = super::validate(&doc, path, method, status, &instance)
            .map_err(|e| script_error(&ctx, e))?;
        let mut out = Map::new();
        match report {
            Some(report) => {
                out.insert("schema".into(), report.schema.into());
                let errors: Array = report.errors.into_iter().map(Dynamic::from).collect();
                out.insert("errors".into(), Dynamic::from_array(errors));
            }
            None => {
                out.insert("schema".into(), Dynamic::UNIT);
                out.insert("errors".into(), Dynamic::from_array(Array::new()));
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn doc() -> Value {
        json!({
            "openapi": "3.1.0",
            "paths": {
                "/health": {"get": {"responses": {"200": {"content": {"application/json": {
                    "schema": {"$ref": "#/components/schemas/Health"}}}}}}},
                "/stream": {"get": {"responses": {"200": {"content": {"text/event-stream": {
                    "schema": {"type": "string"}}}}}}},
                "/oops": {"get": {"responses": {"default": {"$ref": "#/components/responses/Error"}}}},
            },
            "components": {
                "responses": {"Error": {"content": {"application/json": {"schema": {"type": "object", "required": ["error"]}}}}},
                "schemas": {
                    "Health": {"type": "object", "required": ["status", "at", "inner"], "properties": {
                        "status": {"type": "string", "const": "ok"},
                        "at": {"type": "string", "format": "date-time"},
                        "note": {"type": "string", "nullable": true},
                        "inner": {"$ref": "#/components/schemas/Inner"},
                    }},
                    "Inner": {"type": "object", "required": ["n"], "properties": {"n": {"type": "integer", "minimum": 0}}},
                },
            },
        })
    }

    #[test]
    fn a_valid_body_passes_and_nested_refs_resolve() {
        let body = json!({"status": "ok", "at": "2026-02-24T20:48:00.123Z", "note": null, "inner": {"n": 3}});
        let report = validate(&doc(), "/health", "GET", 200, &body)
            .unwrap()
            .unwrap();
        assert_eq!(report.schema, "Health");
        assert!(report.errors.is_empty(), "{:?}", report.errors);
    }

    #[test]
    fn violations_name_the_pointer() {
        let body = json!({"status": "ko", "at": "yesterday", "inner": {"n": -1}});
        let report = validate(&doc(), "/health", "get", 200, &body)
            .unwrap()
            .unwrap();
        let text = report.errors.join("\n");
        for needle in ["/status", "/at", "/inner/n"] {
            assert!(text.contains(needle), "{needle} in {text}");
        }
        let missing = validate(&doc(), "/health", "get", 200, &json!({}))
            .unwrap()
            .unwrap();
        assert!(
            missing.errors.iter().any(|e| e.contains("\"status\"")),
            "{:?}",
            missing.errors
        );
    }

    #[test]
    fn operations_without_a_json_schema_report_none() {
        assert_eq!(
            validate(&doc(), "/stream", "get", 200, &json!("x")).unwrap(),
            None
        );
        assert_eq!(
            validate(&doc(), "/nowhere", "get", 200, &json!({})).unwrap(),
            None
        );
        assert_eq!(
            validate(&doc(), "/health", "post", 200, &json!({})).unwrap(),
            None
        );
        // A response reference and the default response are followed.
        let report = validate(&doc(), "/oops", "get", 503, &json!({}))
            .unwrap()
            .unwrap();
        assert_eq!(report.errors.len(), 1);
    }

    #[test]
    fn a_remote_reference_is_never_fetched() {
        let doc = json!({"paths": {"/x": {"get": {"responses": {"200": {"content": {"application/json": {
            "schema": {"$ref": "http://127.0.0.1:9/schema.json"}}}}}}}}});
        assert!(validate(&doc, "/x", "get", 200, &json!({})).is_err());
    }
}
