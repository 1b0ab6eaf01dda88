//! `url::` — joining URLs the way a browser resolves a link (RFC 3986, the `url` crate), so a
//! relative path a service publishes (a manifest's `assets/app.js`) is requested where the
//! service means it.

use crate::api::script_error;
use rhai::plugin::*;
use rhai::{EvalAltResult, NativeCallContext};

/// `reference` resolved against `base`.
pub fn join(base: &str, reference: &str) -> Result<String, String> {
    let base = url::Url::parse(base).map_err(|e| format!("base URL {base:?}: {e}"))?;
    base.join(reference)
        .map(|u| u.to_string())
        .map_err(|e| format!("cannot resolve {reference:?} against {base}: {e}"))
}

#[export_module]
pub mod url_api {
    /// `reference` resolved against `base` as a browser resolves a link (RFC 3986):
    /// `url::join("http://h/manifest.json", "assets/app.js")` is `"http://h/assets/app.js"`,
    /// an absolute path replaces the base's path, an absolute URL replaces it all.
    #[rhai_fn(name = "join", return_raw)]
    pub fn join(
        ctx: NativeCallContext,
        base: &str,
        reference: &str,
    ) -> Result<String, Box<EvalAltResult>> {
        super::join(base, reference).map_err(|e| script_error(&ctx, e))
    }
}

#[cfg(test)]
mod tests {
    use super::join;

    #[test]
    fn relative_paths_resolve_against_the_document_they_came_from() {
        let manifest = "http://127.0.0.1:8787/manifest.json";
        assert_eq!(
            join(manifest, "assets/openagents_web_shell.js").unwrap(),
            "http://127.0.0.1:8787/assets/openagents_web_shell.js"
        );
        assert_eq!(
            join(manifest, "/assets/a.js").unwrap(),
            "http://127.0.0.1:8787/assets/a.js"
        );
        assert_eq!(
            join("https://h/app/manifest.json", "./assets/a.js").unwrap(),
            "https://h/app/assets/a.js"
        );
        assert_eq!(
            join(manifest, "https://cdn/x.js").unwrap(),
            "https://cdn/x.js"
        );
        assert!(join("not a url", "a.js").is_err());
    }
}
