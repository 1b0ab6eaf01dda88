//! What can be done to a page, as async operations that answer in words: navigate, fill,
//! click, submit, read, evaluate JavaScript, wait for a condition, take a screenshot.

use super::error::PageError;
use chromiumoxide::Page;
use chromiumoxide::cdp::browser_protocol::network::CookieParam;
use chromiumoxide::cdp::browser_protocol::page::CaptureScreenshotFormat;
use chromiumoxide::cdp::js_protocol::runtime::EvaluateParams;
use chromiumoxide::page::ScreenshotParams;
use std::time::Duration;

const POLL_INTERVAL: Duration = Duration::from_millis(50);

/// `text` as a JavaScript string literal.
pub fn js_string(text: &str) -> String {
    serde_json::to_string(text).unwrap_or_else(|_| "\"\"".to_string())
}

/// Evaluates `js` (awaiting a promise) and returns its JSON value (`null` for undefined).
///
/// An evaluation sent while a navigation replaces the page's execution context is refused
/// with "Cannot find context with specified id" before any of it runs; it is sent again (a
/// few times, briefly apart), so a navigation racing a step is not a failure of the page.
pub async fn evaluate(page: &Page, js: &str) -> Result<serde_json::Value, PageError> {
    let mut attempts_left = 3;
    loop {
        let params = EvaluateParams::builder()
            .expression(js)
            .await_promise(true)
            .return_by_value(true)
            .build()
            .map_err(PageError::Protocol)?;
        match page
            .evaluate_expression(params)
            .await
            .map_err(PageError::from)
        {
            Ok(result) => return Ok(result.value().cloned().unwrap_or(serde_json::Value::Null)),
            Err(PageError::ContextGone(_)) if attempts_left > 0 => {
                attempts_left -= 1;
                tokio::time::sleep(POLL_INTERVAL).await;
            }
            Err(e) => return Err(e),
        }
    }
}

/// Polls `js` until it is truthy; evaluation errors (e.g. mid-navigation) are retried.
pub async fn poll_truthy(page: &Page, js: &str) {
    let wrapped =
        format!("(() => {{ try {{ return !!({js}); }} catch (e) {{ return false; }} }})()");
    loop {
        if let Ok(serde_json::Value::Bool(true)) = evaluate(page, &wrapped).await {
            return;
        }
        tokio::time::sleep(POLL_INTERVAL).await;
    }
}

/// The JavaScript condition "an element matches `selector`".
pub fn selector_matches(selector: &str) -> String {
    format!("document.querySelector({}) !== null", js_string(selector))
}

/// Navigates to `url` and waits for the load.
pub async fn navigate(page: &Page, url: String) -> Result<(), PageError> {
    page.goto(url).await.map_err(PageError::from)?;
    Ok(())
}

/// Sets the value of the field `selector` and fires `input` and `change`.
pub async fn fill(page: &Page, selector: &str, value: &str) -> Result<(), PageError> {
    let js = format!(
        "(() => {{ const el = document.querySelector({sel}); if (!el) throw new Error('no element matches ' + {sel}); \
el.focus(); el.value = {val}; el.dispatchEvent(new Event('input', {{bubbles: true}})); \
el.dispatchEvent(new Event('change', {{bubbles: true}})); return true; }})()",
        sel = js_string(selector),
        val = js_string(value)
    );
    evaluate(page, &js).await.map(|_| ())
}

/// Clicks the element `selector` with the mouse (scrolled into view first).
pub async fn click(page: &Page, selector: String) -> Result<(), PageError> {
    let element = page.find_element(selector).await.map_err(PageError::from)?;
    element.click().await.map_err(PageError::from)?;
    Ok(())
}

/// Submits the form `selector` as a user would (`requestSubmit`: validation and submit
/// handlers such as htmx's run).
pub async fn submit(page: &Page, selector: &str) -> Result<(), PageError> {
    let js = format!(
        "(() => {{ const f = document.querySelector({sel}); if (!f) throw new Error('no form matches ' + {sel}); \
f.requestSubmit(); return true; }})()",
        sel = js_string(selector)
    );
    evaluate(page, &js).await.map(|_| ())
}

/// The value of a JavaScript expression that yields a string (`location.href`), or "".
pub async fn string(page: &Page, js: &str) -> Result<String, PageError> {
    let v = evaluate(page, js).await?;
    Ok(v.as_str().unwrap_or_default().to_string())
}

/// The text content of the first element matching `selector`, or `None` when none does.
pub async fn text(page: &Page, selector: &str) -> Result<Option<String>, PageError> {
    let js = format!(
        "(() => {{ const el = document.querySelector({}); return el ? el.textContent : null; }})()",
        js_string(selector)
    );
    Ok(match evaluate(page, &js).await? {
        serde_json::Value::String(s) => Some(s),
        _ => None,
    })
}

/// Reloads the page and waits for the load.
pub async fn reload(page: &Page) -> Result<(), PageError> {
    page.reload().await.map_err(PageError::from)?;
    Ok(())
}

/// Sets a cookie for `url`'s origin.
pub async fn set_cookie(
    page: &Page,
    name: &str,
    value: &str,
    url: String,
) -> Result<(), PageError> {
    let cookie = CookieParam::builder()
        .name(name)
        .value(value)
        .url(url)
        .path("/")
        .build()
        .map_err(PageError::Protocol)?;
    page.set_cookie(cookie).await.map_err(PageError::from)?;
    Ok(())
}

/// A full-page PNG.
pub async fn screenshot(page: &Page) -> Result<Vec<u8>, PageError> {
    page.screenshot(
        ScreenshotParams::builder()
            .format(CaptureScreenshotFormat::Png)
            .full_page(true)
            .build(),
    )
    .await
    .map_err(PageError::from)
}

/// A screenshot taken with the page's secrets blanked, or not taken.
pub enum GuardedShot {
    /// Taken; `blanked` elements showed a secret and were hidden for it.
    Taken { png: Vec<u8>, blanked: usize },
    /// Not taken: the page still showed a secret with those elements hidden (one split
    /// across elements, say).
    Withheld,
}

/// The page's candidates for holding a secret: the parent element of every text node (of 8
/// characters or more) and every form field, kept on `window` by index; returns their texts.
const COLLECT: &str = r#"(() => {
  const root = document.body || document.documentElement;
  const els = [], texts = [];
  if (root) {
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    let n;
    while ((n = walker.nextNode())) {
      if (n.parentElement && n.nodeValue && n.nodeValue.trim().length >= 8) {
        els.push(n.parentElement); texts.push(n.nodeValue);
      }
    }
  }
  for (const f of document.querySelectorAll('input, textarea, select')) {
    els.push(f); texts.push(String(f.value || ''));
  }
  window.__oaValidateCandidates = els;
  return texts;
})()"#;

/// What the page shows: its rendered text and the values of its visible form fields.
const SHOWN: &str = r#"(() => {
  const root = document.body || document.documentElement;
  const shown = [root ? root.innerText : ''];
  for (const f of document.querySelectorAll('input, textarea, select')) {
    if (getComputedStyle(f).visibility !== 'hidden') shown.push(String(f.value || ''));
  }
  return shown;
})()"#;

/// Restores what [`screenshot_without_secrets`] hid.
const RESTORE: &str = r#"(() => {
  for (const [el, value, priority] of (window.__oaValidateHidden || [])) {
    el.style.setProperty('visibility', value, priority);
  }
  delete window.__oaValidateHidden;
  delete window.__oaValidateCandidates;
  return true;
})()"#;

fn strings(value: serde_json::Value) -> Vec<String> {
    match value {
        serde_json::Value::Array(items) => items
            .into_iter()
            .map(|v| v.as_str().unwrap_or_default().to_string())
            .collect(),
        _ => Vec::new(),
    }
}

/// A full-page PNG that shows no secret: before it is taken, the page's text nodes and form
/// values are checked with `is_secret`; the elements holding one are hidden for the
/// screenshot (restored after it). If the page still shows a secret, no screenshot is taken.
pub async fn screenshot_without_secrets(
    page: &Page,
    is_secret: impl Fn(&str) -> bool,
) -> Result<GuardedShot, PageError> {
    let candidates = strings(evaluate(page, COLLECT).await?);
    let flagged: Vec<usize> = candidates
        .iter()
        .enumerate()
        .filter(|(_, text)| is_secret(text))
        .map(|(i, _)| i)
        .collect();
    let hide = format!(
        r#"(() => {{
  const els = window.__oaValidateCandidates || [];
  const hidden = [];
  for (const i of {indices:?}) {{
    const el = els[i];
    if (!el || hidden.some(h => h[0] === el)) continue;
    hidden.push([el, el.style.getPropertyValue('visibility'), el.style.getPropertyPriority('visibility')]);
    el.style.setProperty('visibility', 'hidden', 'important');
  }}
  window.__oaValidateHidden = hidden;
  return hidden.length;
}})()"#,
        indices = flagged
    );
    let outcome: Result<GuardedShot, PageError> = async {
        let blanked = evaluate(page, &hide).await?.as_u64().unwrap_or(0) as usize;
        let shown = strings(evaluate(page, SHOWN).await?);
        if shown.iter().any(|text| is_secret(text)) {
            return Ok(GuardedShot::Withheld);
        }
        let png = screenshot(page).await?;
        Ok(GuardedShot::Taken { png, blanked })
    }
    .await;
    // Always restore the page: the lane goes on with it.
    let restored = evaluate(page, RESTORE).await;
    let shot = outcome?;
    restored?;
    Ok(shot)
}
