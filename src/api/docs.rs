//! Documentation generated from the engine's own metadata: `.d.rhai` definitions for editors
//! (`oa-validate defs DIR`) and the Markdown API reference (docs/api.md). Doc comments on
//! the `#[export_module]` functions are the single source.

use rhai::Engine;
use serde_json::Value;
use std::path::Path;

/// Writes one `.d.rhai` file per namespace (plus the global and operator files) into `dir`.
pub fn write_definitions(engine: &Engine, dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    engine
        .definitions()
        .with_headers(true)
        .include_standard_packages(false)
        .write_to_dir(dir)
}

/// One documented function as the reference shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionDoc {
    /// `http` for `http::get`; empty for global functions.
    pub namespace: String,
    /// `get`, or `status` for a property getter.
    pub name: String,
    /// `http::get(url: string, opts: map) -> HttpResponse`
    pub signature: String,
    pub doc: String,
    /// A property or method of a value (`r.status`, `r.json()`), not a free function.
    pub is_property: bool,
}

/// Rust types as Rhai users know them.
fn rhai_type(rust: &str) -> String {
    let t = rust
        .trim()
        .trim_start_matches("&mut ")
        .trim_start_matches('&')
        .trim();
    let t = t
        .strip_prefix("Result<")
        .and_then(|r| r.strip_suffix(", Box<EvalAltResult>>"))
        // Modules that alias `type Res<T> = Result<T, Box<EvalAltResult>>`.
        .or_else(|| t.strip_prefix("Res<").and_then(|r| r.strip_suffix('>')))
        .unwrap_or(t)
        .trim();
    match t {
        "str" | "String" | "ImmutableString" => "string",
        "i64" | "INT" => "int",
        "f64" | "FLOAT" => "float",
        "bool" => "bool",
        "Map" | "rhai::Map" => "map",
        "Array" | "rhai::Array" => "array",
        "Dynamic" | "rhai::Dynamic" => "any",
        "FnPtr" | "rhai::FnPtr" => "Fn",
        "()" | "" => "()",
        other => other,
    }
    .to_string()
}

fn function_doc(namespace: &str, f: &Value) -> Option<FunctionDoc> {
    let raw_name = f["name"].as_str()?;
    let doc = f["docComments"]
        .as_array()
        .map(|lines| {
            lines
                .iter()
                .filter_map(Value::as_str)
                .flat_map(|block| block.lines())
                .map(|l| l.trim().trim_start_matches("///").trim_start_matches("//!"))
                .map(|l| l.strip_prefix(' ').unwrap_or(l))
                .collect::<Vec<_>>()
                .join("\n")
        })
        .unwrap_or_default();
    let params: Vec<String> = f["params"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|p| p["type"].as_str() != Some("NativeCallContext"))
        .map(|p| {
            let name = p["name"].as_str().unwrap_or("_");
            format!("{name}: {}", rhai_type(p["type"].as_str().unwrap_or("")))
        })
        .collect();
    let ret = rhai_type(f["returnType"].as_str().unwrap_or("()"));
    let ret = if ret == "()" {
        String::new()
    } else {
        format!(" -> {ret}")
    };
    if let Some(property) = raw_name.strip_prefix("get$") {
        let owner = params
            .first()
            .and_then(|p| p.split(": ").nth(1))
            .unwrap_or("value")
            .to_string();
        return Some(FunctionDoc {
            namespace: String::new(),
            name: property.to_string(),
            signature: format!("{owner}.{property}{ret}"),
            doc,
            is_property: true,
        });
    }
    if raw_name.contains('$') {
        return None;
    }
    // A global function whose first parameter is `&mut T` is called as a method: `r.json()`.
    let receiver = f["params"][0]["type"]
        .as_str()
        .filter(|t| namespace.is_empty() && t.starts_with("&mut"));
    if let Some(receiver) = receiver {
        return Some(FunctionDoc {
            namespace: String::new(),
            name: raw_name.to_string(),
            signature: format!(
                "{}.{raw_name}({}){ret}",
                rhai_type(receiver),
                params[1..].join(", ")
            ),
            doc,
            is_property: true,
        });
    }
    let qualified = if namespace.is_empty() {
        raw_name.to_string()
    } else {
        format!("{namespace}::{raw_name}")
    };
    Some(FunctionDoc {
        namespace: namespace.to_string(),
        name: raw_name.to_string(),
        signature: format!("{qualified}({}){ret}", params.join(", ")),
        doc,
        is_property: false,
    })
}

/// Every function oa-validate registers (standard Rhai packages excluded), sorted.
pub fn registered_functions(engine: &Engine) -> Vec<FunctionDoc> {
    let Ok(json) = engine.gen_fn_metadata_to_json(false) else {
        return Vec::new();
    };
    let Ok(meta) = serde_json::from_str::<Value>(&json) else {
        return Vec::new();
    };
    let mut docs: Vec<FunctionDoc> = meta["functions"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|f| function_doc("", f))
        .collect();
    for (module, content) in meta["modules"].as_object().into_iter().flatten() {
        docs.extend(
            content["functions"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|f| function_doc(module, f)),
        );
    }
    docs.sort_by(|a, b| {
        (a.is_property, &a.namespace, &a.name, &a.signature).cmp(&(
            b.is_property,
            &b.namespace,
            &b.name,
            &b.signature,
        ))
    });
    docs.dedup();
    docs
}

/// docs/api.md: the reference, generated (`oa-validate defs DIR --markdown docs/api.md`).
pub fn api_markdown(engine: &Engine) -> String {
    let docs = registered_functions(engine);
    let mut out = String::from(
        "# Rhai API reference\n\n\
         Generated from the engine's metadata by `oa-validate defs DIR --markdown docs/api.md`;\n\
         a test fails when this file is out of date. The guide is [writing-lanes.md](writing-lanes.md).\n",
    );
    let mut section = None;
    for d in &docs {
        let title = if d.is_property {
            "Properties and methods of values".to_string()
        } else if d.namespace.is_empty() {
            "Global functions".to_string()
        } else {
            format!("`{}::`", d.namespace)
        };
        if section.as_ref() != Some(&title) {
            out.push_str(&format!("\n## {title}\n"));
            section = Some(title);
        }
        out.push_str(&format!("\n### `{}`\n", d.signature));
        if !d.doc.is_empty() {
            out.push('\n');
            out.push_str(&d.doc);
            out.push('\n');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_registered_function_has_a_doc_comment() {
        let engine = crate::api::build();
        let docs = registered_functions(&engine);
        assert!(docs.len() > 30, "only {} functions found", docs.len());
        let undocumented: Vec<&str> = docs
            .iter()
            .filter(|d| d.doc.trim().is_empty())
            .map(|d| d.signature.as_str())
            .collect();
        assert!(undocumented.is_empty(), "no doc comment: {undocumented:?}");
    }

    #[test]
    fn signatures_show_rhai_types_not_rust_ones() {
        let engine = crate::api::build();
        let docs = registered_functions(&engine);
        let get = docs
            .iter()
            .find(|d| d.signature.starts_with("http::get(url: string, opts: map)"))
            .expect("http::get with options");
        assert_eq!(
            get.signature,
            "http::get(url: string, opts: map) -> HttpResponse"
        );
        for d in &docs {
            for rust in [
                "Result<",
                "Res<",
                "EvalAltResult",
                "&str",
                "NativeCallContext",
            ] {
                assert!(!d.signature.contains(rust), "{}", d.signature);
            }
        }
        assert!(
            docs.iter()
                .any(|d| d.signature == "HttpResponse.status -> int")
        );
    }

    #[test]
    fn docs_api_md_matches_the_engine() {
        let engine = crate::api::build();
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/api.md");
        let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            on_disk == api_markdown(&engine),
            "docs/api.md is out of date: run `cargo run -- defs target/defs --markdown docs/api.md`"
        );
    }

    #[test]
    fn definitions_cover_every_namespace() {
        let engine = crate::api::build();
        let dir = tempfile::tempdir().expect("tempdir");
        write_definitions(&engine, dir.path()).expect("write");
        let all: String = std::fs::read_dir(dir.path())
            .expect("read dir")
            .filter_map(|e| std::fs::read_to_string(e.ok()?.path()).ok())
            .collect();
        let meta: Value =
            serde_json::from_str(&engine.gen_fn_metadata_to_json(false).expect("json"))
                .expect("parse");
        for module in meta["modules"].as_object().expect("modules").keys() {
            assert!(
                all.contains(&format!("module {module};")),
                "no definitions for {module}"
            );
        }
        assert!(all.contains("fn assert_status("));
    }
}
