//! `html::` — read HTML with a real parser (html5ever through `scraper`): CSS selectors,
//! text with entities decoded and whitespace collapsed, attributes, and the OpenAgents
//! `div.oa-kv` label/value rows grouped under their `h3`.
//!
//! Every function takes the document as a response, a string, or an element map returned by
//! `html::select` (its `html`), and parses it on each call: parsed documents are not `Send`,
//! and the pages a check reads are small.

use crate::api::http::HttpResponse;
use crate::api::script_error;
use rhai::plugin::*;
use rhai::{Array, Dynamic, EvalAltResult, Map, NativeCallContext};
use scraper::{ElementRef, Html, Selector};

use crate::api::bind::Res;

/// The markup behind a script value.
fn source_of(ctx: &NativeCallContext, value: &Dynamic) -> Res<String> {
    if let Some(resp) = value.read_lock::<HttpResponse>() {
        return Ok(resp.body_text());
    }
    if value.is_string() {
        return Ok(value.to_string());
    }
    if let Some(map) = value.read_lock::<Map>()
        && let Some(html) = map.get("html")
        && html.is_string()
    {
        return Ok(html.to_string());
    }
    Err(script_error(
        ctx,
        format!(
            "html: expected a response, an HTML string or an element from html::select, not {}",
            value.type_name()
        ),
    ))
}

fn parse_selector(ctx: &NativeCallContext, css: &str) -> Res<Selector> {
    Selector::parse(css)
        .map_err(|e| script_error(ctx, format!("html: invalid CSS selector {css:?}: {e}")))
}

/// An element's text: entities decoded, whitespace runs collapsed to one space, trimmed.
pub fn element_text(element: &ElementRef) -> String {
    element
        .text()
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

fn element_map(element: &ElementRef) -> Map {
    let mut attrs = Map::new();
    for (name, value) in element.value().attrs() {
        attrs.insert(name.into(), value.to_string().into());
    }
    let mut m = Map::new();
    m.insert("tag".into(), element.value().name().to_string().into());
    m.insert("text".into(), element_text(element).into());
    m.insert("html".into(), element.html().into());
    m.insert("attrs".into(), attrs.into());
    m
}

/// One `div.oa-kv` row: the `h3` it is under (or ""), its label (`span`) and value (`strong`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KvRow {
    pub section: String,
    pub label: String,
    pub value: String,
}

/// Every `div.oa-kv` row of a page in document order, with the nearest `h3` before it.
pub fn kv_rows(markup: &str) -> Vec<KvRow> {
    let document = Html::parse_document(markup);
    let (Ok(walk), Ok(span), Ok(strong)) = (
        Selector::parse("h3, div.oa-kv"),
        Selector::parse("span"),
        Selector::parse("strong"),
    ) else {
        return Vec::new();
    };
    let mut section = String::new();
    let mut rows = Vec::new();
    for element in document.select(&walk) {
        if element.value().name() == "h3" {
            section = element_text(&element);
            continue;
        }
        let label = element.select(&span).next().map(|e| element_text(&e));
        let value = element.select(&strong).next().map(|e| element_text(&e));
        rows.push(KvRow {
            section: section.clone(),
            label: label.unwrap_or_default(),
            value: value.unwrap_or_default(),
        });
    }
    rows
}

/// Parses `source`, selects `css` and applies `read` to the first match (None: no match).
fn first_match<T>(
    ctx: &NativeCallContext,
    source: &Dynamic,
    css: &str,
    read: impl FnOnce(scraper::ElementRef) -> T,
) -> Res<Option<T>> {
    let markup = source_of(ctx, source)?;
    let selector = parse_selector(ctx, css)?;
    Ok(Html::parse_document(&markup)
        .select(&selector)
        .next()
        .map(read))
}

#[export_module]
pub mod html_api {
    /// Every element matching the CSS selector `css`, in document order, each a map
    /// `#{ tag, text, html, attrs }` (`text` has entities decoded and whitespace collapsed).
    #[rhai_fn(return_raw)]
    pub fn select(
        ctx: NativeCallContext,
        source: Dynamic,
        css: &str,
    ) -> Result<Array, Box<EvalAltResult>> {
        let markup = source_of(&ctx, &source)?;
        let selector = parse_selector(&ctx, css)?;
        let document = Html::parse_document(&markup);
        Ok(document
            .select(&selector)
            .map(|e| Dynamic::from_map(element_map(&e)))
            .collect())
    }

    /// Whether any element matches `css`.
    #[rhai_fn(return_raw)]
    pub fn exists(
        ctx: NativeCallContext,
        source: Dynamic,
        css: &str,
    ) -> Result<bool, Box<EvalAltResult>> {
        first_match(&ctx, &source, css, |_| ()).map(|found| found.is_some())
    }

    /// The text of the first element matching `css` (entities decoded, whitespace
    /// collapsed), or `()` when nothing matches.
    #[rhai_fn(return_raw)]
    pub fn text(
        ctx: NativeCallContext,
        source: Dynamic,
        css: &str,
    ) -> Result<Dynamic, Box<EvalAltResult>> {
        let found = first_match(&ctx, &source, css, |e| element_text(&e))?;
        Ok(found.map(Dynamic::from).unwrap_or(Dynamic::UNIT))
    }

    /// Attribute `name` of the first element matching `css` (entities decoded), or `()`
    /// when nothing matches or the attribute is absent.
    #[rhai_fn(return_raw)]
    pub fn attr(
        ctx: NativeCallContext,
        source: Dynamic,
        css: &str,
        name: &str,
    ) -> Result<Dynamic, Box<EvalAltResult>> {
        let found = first_match(&ctx, &source, css, |e| {
            e.value().attr(name).map(str::to_string)
        })?;
        Ok(found.flatten().map(Dynamic::from).unwrap_or(Dynamic::UNIT))
    }

    /// The page's `div.oa-kv` rows (`span` label, `strong` value) in document order, each
    /// `#{ section, label, value }` where `section` is the text of the nearest `h3` before it.
    #[rhai_fn(return_raw)]
    pub fn kv_rows(ctx: NativeCallContext, source: Dynamic) -> Result<Array, Box<EvalAltResult>> {
        let markup = source_of(&ctx, &source)?;
        Ok(super::kv_rows(&markup)
            .into_iter()
            .map(|row| {
                let mut m = Map::new();
                m.insert("section".into(), row.section.into());
                m.insert("label".into(), row.label.into());
                m.insert("value".into(), row.value.into());
                Dynamic::from_map(m)
            })
            .collect())
    }

    /// The `div.oa-kv` rows grouped under their `h3`: `#{ "Hydra Routing": #{ label: value } }`.
    /// A label repeated within a section keeps its last value (use `kv_rows` to see all).
    #[rhai_fn(return_raw)]
    pub fn kv_sections(ctx: NativeCallContext, source: Dynamic) -> Result<Map, Box<EvalAltResult>> {
        let markup = source_of(&ctx, &source)?;
        let mut sections = Map::new();
        for row in super::kv_rows(&markup) {
            let entry = sections
                .entry(row.section.as_str().into())
                .or_insert_with(|| Dynamic::from_map(Map::new()));
            if let Some(mut rows) = entry.write_lock::<Map>() {
                rows.insert(row.label.as_str().into(), row.value.into());
            }
        }
        Ok(sections)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PAGE: &str = r#"<!doctype html><html><body>
      <section id="stats-surface">
        <article id="stats-metrics-panel" hx-get="/stats/fragments/metrics" hx-trigger="load, every 60s">
          <h3>Hydra Routing</h3>
          <div class="oa-kv"><span>Hydra confidence &lt;0.40</span><strong> 12 </strong></div>
          <div class="oa-kv"><span>Hydra confidence &gt;=0.90</span><strong>-</strong></div>
          <h3>Hydra FX</h3>
          <div class="oa-kv other"><span>Hydra FX quote-&gt;settle conversion (%)</span>
            <strong>87.5</strong></div>
          <div class="not-kv"><span>ignored</span><strong>1</strong></div>
        </article>
      </section></body></html>"#;

    #[test]
    fn rows_are_grouped_under_their_h3_with_entities_decoded() {
        let rows = kv_rows(PAGE);
        assert_eq!(
            rows,
            vec![
                KvRow {
                    section: "Hydra Routing".into(),
                    label: "Hydra confidence <0.40".into(),
                    value: "12".into()
                },
                KvRow {
                    section: "Hydra Routing".into(),
                    label: "Hydra confidence >=0.90".into(),
                    value: "-".into()
                },
                KvRow {
                    section: "Hydra FX".into(),
                    label: "Hydra FX quote->settle conversion (%)".into(),
                    value: "87.5".into()
                },
            ]
        );
    }

    #[test]
    fn text_collapses_whitespace() {
        let doc = Html::parse_fragment("<p>  a\n  &amp;  <b>b</b> </p>");
        let p = doc.select(&Selector::parse("p").unwrap()).next().unwrap();
        assert_eq!(element_text(&p), "a & b");
    }
}
