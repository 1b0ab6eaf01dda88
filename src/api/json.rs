//! `json::` — parse and print JSON; conversions between Rhai values and JSON.

use rhai::plugin::*;
use rhai::{Dynamic, EvalAltResult, NativeCallContext};

pub fn dynamic_to_json(value: &Dynamic) -> Result<serde_json::Value, String> {
    if let Some(resp) = value.read_lock::<crate::api::http::HttpResponse>() {
        return resp.parse_json();
    }
    rhai::serde::from_dynamic(value).map_err(|e| e.to_string())
}

pub fn json_to_dynamic(value: &serde_json::Value) -> Result<Dynamic, String> {
    rhai::serde::to_dynamic(value).map_err(|e| e.to_string())
}

#[export_module]
pub mod json_api {
    /// Parses JSON text into maps, arrays, strings, numbers, booleans and `()` for null.
    #[rhai_fn(return_raw)]
    pub fn parse(ctx: NativeCallContext, text: &str) -> Result<Dynamic, Box<EvalAltResult>> {
        let value: serde_json::Value = serde_json::from_str(text)
            .map_err(|e| crate::api::script_error(&ctx, format!("invalid JSON: {e}")))?;
        json_to_dynamic(&value).map_err(|e| crate::api::script_error(&ctx, e))
    }

    /// Compact JSON text of a value.
    #[rhai_fn(return_raw)]
    pub fn stringify(ctx: NativeCallContext, value: Dynamic) -> Result<String, Box<EvalAltResult>> {
        let json = dynamic_to_json(&value).map_err(|e| crate::api::script_error(&ctx, e))?;
        Ok(json.to_string())
    }

    /// Indented JSON text of a value.
    #[rhai_fn(return_raw)]
    pub fn pretty(ctx: NativeCallContext, value: Dynamic) -> Result<String, Box<EvalAltResult>> {
        let json = dynamic_to_json(&value).map_err(|e| crate::api::script_error(&ctx, e))?;
        serde_json::to_string_pretty(&json)
            .map_err(|e| crate::api::script_error(&ctx, e.to_string()))
    }
}
