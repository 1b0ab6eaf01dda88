//! `browser::` — the Rhai face of [`crate::browser`]: a real headless Chromium (the system's
//! `OA_CHROMIUM`, else `chromium`, `chromium-browser` or `google-chrome` on `PATH`; without
//! one the check is not checked here: `chromium not installed`).
//!
//! Every operation is timed (logged) and bounded by its own timeout and the check's deadline,
//! and stops at once on interruption. Console errors and page errors are collected.
//! `page.step(name, || ...)` records a timed step with a screenshot (PNG), and keeps
//! `summary.json` (the upstream browser-smoke shape) up to date after every step, so it is
//! written even when a step fails. Checks that use a browser at the same time share one
//! Chromium, each page in a browser context of its own (cookies, storage and cache apart, as
//! in a fresh profile); a page's context is disposed of when the page is closed or dropped,
//! and the Chromium process (with every process it started) ends when the last page using it
//! does: on failure, timeout and interruption too.

use crate::api::bind::{self, Res};
use crate::api::script_error;
use crate::browser::bearer::{self, Bearer};
use crate::browser::error::PageError;
use crate::browser::network::{self, NetworkLog};
use crate::browser::page as ops;
use crate::browser::session::{self, Diagnostics, LaunchOptions, Session};
use crate::browser::steps::{StepRecord, Steps};
use crate::engine::context;
use crate::engine::host::Host;
use crate::wait::Waited;
use chromiumoxide::Page;
use parking_lot::Mutex;
use rhai::plugin::*;
use rhai::{Array, Dynamic, EvalAltResult, FnPtr, Map, NativeCallContext};
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The page's requests as a HAR, among the check's artifacts.
const BROWSER_HAR: &str = "browser.har";
/// Default timeout of one browser operation (`timeout` option of `browser::open`).
const DEFAULT_OP_TIMEOUT: Duration = Duration::from_secs(10);

struct PageState {
    session: Option<Session>,
    base_url: Option<url::Url>,
    op_timeout: Duration,
    steps: Steps,
    diagnostics: Diagnostics,
    /// The bearer for `base_url`'s origin; requests are intercepted once one is set.
    bearer: Bearer,
    intercepting: bool,
    /// Every request the page made, written as `browser.har` beside `summary.json`.
    network: NetworkLog,
}

/// A browser page as scripts see it (cheap to clone: one shared browser).
#[derive(Clone)]
pub struct BrowserPage {
    state: Arc<Mutex<PageState>>,
}

fn whole_millis(d: Duration) -> String {
    humantime::format_duration(Duration::from_millis(d.as_millis() as u64)).to_string()
}

/// Runs `work` bounded by `timeout` and the check's deadline (see [`bind::wait`]), logging
/// how long it took; a timeout or a browser error is a script error naming `what`.
fn bounded<T, E: std::fmt::Display>(
    ctx: &NativeCallContext,
    host: &Host,
    what: &str,
    timeout: Duration,
    work: impl Future<Output = Result<T, E>>,
) -> Res<T> {
    let limit = timeout.min(context::remaining());
    let started = Instant::now();
    let outcome = bind::wait(host, limit, work);
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    match outcome {
        Waited::Interrupted => Err(bind::interrupted(ctx)),
        Waited::TimedOut => {
            context::log(format!("browser: {what} -> timed out after {ms:.0} ms"));
            Err(script_error(
                ctx,
                format!("browser {what}: timed out after {}", whole_millis(limit)),
            ))
        }
        Waited::Done(Err(e)) => {
            context::log(format!("browser: {what} -> error after {ms:.0} ms: {e}"));
            Err(script_error(ctx, format!("browser {what}: {e}")))
        }
        Waited::Done(Ok(v)) => {
            context::log(format!("browser: {what} ({ms:.0} ms)"));
            Ok(v)
        }
    }
}

impl BrowserPage {
    /// The page (a cheap handle) and the default timeout of an operation on it.
    fn page(&self, ctx: &NativeCallContext) -> Res<(Page, Duration)> {
        let state = self.state.lock();
        match &state.session {
            Some(session) => Ok((session.page().clone(), state.op_timeout)),
            None => Err(script_error(ctx, "the browser page is closed")),
        }
    }

    /// Resolves a path against the page's `base_url`.
    fn resolve(&self, ctx: &NativeCallContext, target: &str) -> Res<String> {
        if target.starts_with("http://")
            || target.starts_with("https://")
            || target.starts_with("about:")
        {
            return Ok(target.to_string());
        }
        let state = self.state.lock();
        let base = state.base_url.as_ref().ok_or_else(|| {
            script_error(
                ctx,
                format!(
                    "browser navigate {target:?}: a relative URL needs `base_url` in browser::open"
                ),
            )
        })?;
        base.join(target)
            .map(|u| u.to_string())
            .map_err(|e| script_error(ctx, format!("browser navigate {target:?}: {e}")))
    }

    /// One operation on the page, bounded by the page's operation timeout.
    fn op<T, F>(&self, ctx: &NativeCallContext, what: &str, work: impl FnOnce(Page) -> F) -> Res<T>
    where
        F: Future<Output = Result<T, PageError>>,
    {
        let host = bind::in_check(ctx, "browser")?;
        let (page, timeout) = self.page(ctx)?;
        bounded(ctx, &host, what, timeout, work(page))
    }

    /// Polls `condition` until it holds. Not holding in time is a failed assertion (the
    /// page did not reach the state the lane expects), not a script error.
    fn wait(&self, ctx: &NativeCallContext, condition: &str, timeout: Option<Duration>) -> Res<()> {
        let host = bind::in_check(ctx, "browser")?;
        let (page, default_timeout) = self.page(ctx)?;
        let limit = timeout.unwrap_or(default_timeout).min(context::remaining());
        let started = Instant::now();
        let outcome = bind::wait(&host, limit, ops::poll_truthy(&page, condition));
        let ms = started.elapsed().as_secs_f64() * 1000.0;
        match outcome {
            Waited::Interrupted => Err(bind::interrupted(ctx)),
            Waited::Done(()) => {
                crate::api::assert::record_pass(&format!("browser: {condition} ({ms:.0} ms)"));
                Ok(())
            }
            Waited::TimedOut => {
                let at = host
                    .services
                    .runtime
                    .block_on(async {
                        tokio::time::timeout(
                            Duration::from_secs(2),
                            ops::string(&page, "location.pathname + location.search"),
                        )
                        .await
                    })
                    .ok()
                    .and_then(Result::ok)
                    .unwrap_or_else(|| "?".to_string());
                let within = whole_millis(limit);
                Err(crate::api::assert::record_failure(
                    ctx,
                    format!("browser: not true within {within}: {condition}"),
                    Some(format!("true within {within}")),
                    Some(format!("still false at {at}")),
                ))
            }
        }
    }

    /// Saves a PNG as evidence under a numbered, sanitised name; returns the file name, or
    /// `None` when the page shows a secret that blanking its elements did not hide (the
    /// check's log says which: blanked, or no screenshot). A PNG cannot be redacted after.
    fn save_screenshot(&self, ctx: &NativeCallContext, label: &str) -> Res<Option<String>> {
        let redactor = bind::in_check(ctx, "browser")?.services.redactor.clone();
        let shot = self.op(ctx, "screenshot", |page| async move {
            ops::screenshot_without_secrets(&page, |text| redactor.contains_secret(text)).await
        })?;
        let name = self.state.lock().steps.next_screenshot(label);
        match shot {
            ops::GuardedShot::Taken { png, blanked } => {
                if blanked > 0 {
                    context::log(format!(
                        "screenshot {name}: {blanked} element(s) showing a secret blanked"
                    ));
                }
                context::with_check(|c| c.record.files.push((name.clone(), png)));
                Ok(Some(name))
            }
            ops::GuardedShot::Withheld => {
                context::log(format!(
                    "screenshot {name}: not taken, the page shows a secret"
                ));
                Ok(None)
            }
        }
    }

    /// Puts `token` on every later request to `base_url`'s origin, and on no other: the
    /// credential policy must allow it there; the token is redacted from every output.
    fn set_bearer(&self, ctx: &NativeCallContext, token: &str) -> Res<()> {
        let host = bind::in_check(ctx, "browser")?;
        if token.len() < crate::config::MIN_SECRET_LEN {
            return Err(script_error(
                ctx,
                format!(
                    "a bearer shorter than {} characters would redact ordinary text",
                    crate::config::MIN_SECRET_LEN
                ),
            ));
        }
        host.services.redactor.add(token);
        let base = self.state.lock().base_url.clone().ok_or_else(|| {
            script_error(ctx, "a browser bearer needs `base_url` in browser::open")
        })?;
        let header = [("authorization".to_string(), format!("Bearer {token}"))];
        host.services
            .transport
            .policy()
            .check_hop(&base, &header, None)
            .map_err(|why| script_error(ctx, format!("browser bearer: {why}")))?;
        let origin = base.origin();
        let shown = origin.ascii_serialization();
        let bearer = {
            let state = self.state.lock();
            state.bearer.set(origin, token);
            (!state.intercepting).then(|| state.bearer.clone())
        };
        if let Some(bearer) = bearer {
            let task = self.op(ctx, "intercept requests", |p| async move {
                bearer::intercept(&p, bearer).await.map_err(PageError::from)
            })?;
            let mut state = self.state.lock();
            state.intercepting = true;
            match state.session.as_mut() {
                Some(session) => session.add_task(task),
                None => task.abort(),
            }
        }
        context::log(format!("browser: bearer on requests to {shown} only"));
        Ok(())
    }

    fn summary(&self) -> serde_json::Value {
        let state = self.state.lock();
        state
            .steps
            .summary(state.base_url.as_ref(), &state.diagnostics)
    }

    /// Replaces `summary.json` and `browser.har` (the page's requests so far) in the
    /// check's evidence.
    fn write_summary(&self) {
        let text = serde_json::to_string_pretty(&self.summary()).unwrap_or_default();
        context::with_check(|c| {
            c.record
                .artifacts
                .retain(|(name, _)| name != "summary.json");
            c.record.artifacts.push(("summary.json".to_string(), text));
        });
        self.write_har();
    }

    /// Replaces `browser.har` in the check's evidence with the page's requests so far.
    fn write_har(&self) {
        let har = self.state.lock().network.har("browser");
        context::with_check(|c| {
            c.record.artifacts.retain(|(name, _)| name != BROWSER_HAR);
            c.record.artifacts.push((BROWSER_HAR.to_string(), har));
        });
    }
}

/// `browser::open`: reads the options, launches the browser in a fresh profile (ended and
/// removed again if the launch fails), and wraps the session.
fn launch(ctx: &NativeCallContext, host: &Host, opts: &Map) -> Res<BrowserPage> {
    let executable =
        crate::browser::find_chromium(host.env.get("OA_CHROMIUM"), host.env.get("PATH"));
    let Some(executable) = executable else {
        return Err(bind::missing_here(
            ctx,
            crate::outcome::Missing::program_not_installed("chromium"),
        ));
    };
    let mut op_timeout = DEFAULT_OP_TIMEOUT;
    let mut base_url = None;
    let mut bearer = None;
    let mut hosts = Vec::new();
    for (key, value) in opts {
        match key.as_str() {
            "timeout" => {
                op_timeout = crate::api::core::parse_duration(value).map_err(|e| {
                    script_error(ctx, format!("browser::open option `timeout`: {e}"))
                })?
            }
            "base_url" => {
                let text = value.to_string();
                let mut url = url::Url::parse(&text).map_err(|e| {
                    script_error(ctx, format!("browser::open base_url {text:?}: {e}"))
                })?;
                if !url.path().ends_with('/') {
                    url.set_path(&format!("{}/", url.path()));
                }
                base_url = Some(url);
            }
            "hosts" => {
                let map = value.read_lock::<Map>().ok_or_else(|| {
                    script_error(
                        ctx,
                        "browser::open option `hosts`: a map of host name to IP address",
                    )
                })?;
                for (name, ip) in map.iter() {
                    let ip: std::net::IpAddr = ip.to_string().parse().map_err(|_| {
                        script_error(
                            ctx,
                            format!("browser::open hosts: {ip} is not an IP address"),
                        )
                    })?;
                    if !session::is_host_name(name) {
                        return Err(script_error(
                            ctx,
                            format!("browser::open hosts: {name:?} is not a host name"),
                        ));
                    }
                    hosts.push((name.to_string(), ip));
                }
            }
            // `()` (a target without a token) is no bearer.
            "bearer" if value.is_unit() => {}
            "bearer" => bearer = Some(value.to_string()),
            other => {
                return Err(script_error(
                    ctx,
                    format!(
                        "unknown browser::open option `{other}` (expected base_url, bearer, hosts, timeout)"
                    ),
                ));
            }
        }
    }
    let profile = session::new_profile()
        .map_err(|e| script_error(ctx, format!("browser::open: a profile folder: {e}")))?;
    let options = LaunchOptions {
        executable,
        op_timeout,
        launch_timeout: session::LAUNCH_TIMEOUT.min(context::remaining()),
        hosts,
    };
    let diagnostics = Diagnostics::default();
    // One Chromium serves every check that uses it at the same time: a launch costs seconds
    // of CPU on a loaded machine, a browser context milliseconds.
    let what = format!(
        "launch {} (or share the running one)",
        options.executable.display()
    );
    let shared = bounded(
        ctx,
        host,
        &what,
        session::LAUNCH_TIMEOUT,
        session::shared(&options, &profile, host.services.runtime.clone()),
    );
    let shared = match shared {
        Ok((shared, launched)) => {
            if !launched {
                // Another check's browser serves this one: the fresh folder is not needed.
                session::discard_profile(&profile);
                context::log("browser: shares the Chromium another check launched");
            }
            shared
        }
        Err(e) => {
            session::discard_profile(&profile);
            return Err(e);
        }
    };
    let opened = bounded(
        ctx,
        host,
        "open a page in a browser context of its own",
        op_timeout,
        session::open_page(&shared, &diagnostics),
    )?;
    let mut session = Session::new(shared, opened, host.services.runtime.clone());
    let (log, bearer_scope) = (NetworkLog::default(), Bearer::default());
    let recording = bounded(ctx, host, "record requests", op_timeout, async {
        network::record(session.page(), log.clone(), bearer_scope.clone())
            .await
            .map_err(PageError::from)
    });
    match recording {
        Ok(tasks) => tasks.into_iter().for_each(|t| session.add_task(t)),
        Err(e) => return Err(e),
    }
    context::log(format!(
        "browser: {} (headless)",
        options.executable.display()
    ));
    let page = BrowserPage {
        state: Arc::new(Mutex::new(PageState {
            session: Some(session),
            base_url,
            op_timeout,
            steps: Steps::new(),
            diagnostics,
            bearer: bearer_scope,
            intercepting: false,
            network: log,
        })),
    };
    // Before the first navigation: no request to the target leaves without it.
    if let Some(token) = bearer {
        page.set_bearer(ctx, &token)?;
    }
    Ok(page)
}

pub fn register(engine: &mut rhai::Engine) {
    engine.register_type_with_name::<BrowserPage>("BrowserPage");
    engine.register_static_module("browser", rhai::exported_module!(browser_api).into());
    engine.register_global_module(rhai::exported_module!(page_api).into());
}

#[export_module]
pub mod browser_api {
    /// Opens a blank page in a headless Chromium, in a browser context of its own (see `open`
    /// with options).
    #[rhai_fn(name = "open", return_raw)]
    pub fn open(ctx: NativeCallContext) -> Res<BrowserPage> {
        open_with(ctx, Map::new())
    }

    /// Opens a blank page in a headless Chromium, in a browser context of its own: checks
    /// that use a browser at the same time share one Chromium, never cookies or storage.
    /// Options: `base_url` (relative URLs of
    /// `navigate` resolve against it), `bearer` (a token sent as `Authorization: Bearer` on
    /// every request to `base_url`'s origin and to no other origin; `()` is none), `hosts` (a
    /// map of host name to IP address the browser resolves them to: a deployment reached by
    /// its real name at another address), `timeout` (default per operation, "10s"). Ends the check as not checked here (`chromium not installed`) when
    /// there is no browser (`OA_CHROMIUM`, PATH).
    #[rhai_fn(name = "open", return_raw)]
    pub fn open_with(ctx: NativeCallContext, opts: Map) -> Res<BrowserPage> {
        let host = bind::in_check(&ctx, "browser::open")?;
        launch(&ctx, &host, &opts)
    }
}

#[export_module]
pub mod page_api {
    /// Navigates to `url` (absolute, or relative to `base_url`) and waits for the load.
    #[rhai_fn(global, name = "navigate", return_raw)]
    pub fn navigate(ctx: NativeCallContext, page: BrowserPage, url: &str) -> Res<()> {
        let target = page.resolve(&ctx, url)?;
        let shown = context::host()
            .map(|h| h.services.redactor.redact(&target))
            .unwrap_or_default();
        page.op(&ctx, &format!("navigate {shown}"), |p| async move {
            ops::navigate(&p, target).await
        })
    }

    /// Waits until `selector` matches an element (default timeout of the page).
    #[rhai_fn(global, name = "wait_for", return_raw)]
    pub fn wait_for(ctx: NativeCallContext, page: BrowserPage, selector: &str) -> Res<()> {
        wait_until_with(ctx, page, &ops::selector_matches(selector), Dynamic::UNIT)
    }

    /// Waits until `selector` matches an element, at most `timeout` ("5s").
    #[rhai_fn(global, name = "wait_for", return_raw)]
    pub fn wait_for_with(
        ctx: NativeCallContext,
        page: BrowserPage,
        selector: &str,
        timeout: Dynamic,
    ) -> Res<()> {
        wait_until_with(ctx, page, &ops::selector_matches(selector), timeout)
    }

    /// Waits until the JavaScript expression `condition` is truthy.
    #[rhai_fn(global, name = "wait_until", return_raw)]
    pub fn wait_until(ctx: NativeCallContext, page: BrowserPage, condition: &str) -> Res<()> {
        wait_until_with(ctx, page, condition, Dynamic::UNIT)
    }

    /// Waits until the JavaScript expression `condition` is truthy, at most `timeout`.
    #[rhai_fn(global, name = "wait_until", return_raw)]
    pub fn wait_until_with(
        ctx: NativeCallContext,
        page: BrowserPage,
        condition: &str,
        timeout: Dynamic,
    ) -> Res<()> {
        let timeout = if timeout.is_unit() {
            None
        } else {
            Some(crate::api::core::parse_duration(&timeout).map_err(|e| script_error(&ctx, e))?)
        };
        page.wait(&ctx, condition, timeout)
    }

    /// Sets the value of the field `selector` and fires `input` and `change`.
    #[rhai_fn(global, name = "fill", return_raw)]
    pub fn fill(
        ctx: NativeCallContext,
        page: BrowserPage,
        selector: &str,
        value: Dynamic,
    ) -> Res<()> {
        let (selector_owned, value) = (selector.to_string(), value.to_string());
        page.op(&ctx, &format!("fill {selector}"), |p| async move {
            ops::fill(&p, &selector_owned, &value).await
        })
    }

    /// Clicks the element `selector` with the mouse (scrolled into view first).
    #[rhai_fn(global, name = "click", return_raw)]
    pub fn click(ctx: NativeCallContext, page: BrowserPage, selector: &str) -> Res<()> {
        let sel = selector.to_string();
        page.op(&ctx, &format!("click {selector}"), |p| async move {
            ops::click(&p, sel).await
        })
    }

    /// Submits the form `selector` as a user would (`requestSubmit`: validation and
    /// submit handlers such as htmx's run).
    #[rhai_fn(global, name = "submit", return_raw)]
    pub fn submit(ctx: NativeCallContext, page: BrowserPage, selector: &str) -> Res<()> {
        let sel = selector.to_string();
        page.op(&ctx, &format!("submit {selector}"), |p| async move {
            ops::submit(&p, &sel).await
        })
    }

    /// The page's current URL.
    #[rhai_fn(global, name = "url", return_raw)]
    pub fn url(ctx: NativeCallContext, page: BrowserPage) -> Res<String> {
        page.op(&ctx, "url", |p| async move {
            ops::string(&p, "location.href").await
        })
    }

    /// The page's current path and query (`/chat/thread_1?x=y`).
    #[rhai_fn(global, name = "path", return_raw)]
    pub fn path(ctx: NativeCallContext, page: BrowserPage) -> Res<String> {
        page.op(&ctx, "path", |p| async move {
            ops::string(&p, "location.pathname + location.search").await
        })
    }

    /// The text content of the first element matching `selector`, or `()` when none does.
    #[rhai_fn(global, name = "text", return_raw)]
    pub fn text(ctx: NativeCallContext, page: BrowserPage, selector: &str) -> Res<Dynamic> {
        let sel = selector.to_string();
        let text = page.op(&ctx, &format!("text {selector}"), |p| async move {
            ops::text(&p, &sel).await
        })?;
        Ok(text.map(Dynamic::from).unwrap_or(Dynamic::UNIT))
    }

    /// Evaluates JavaScript in the page (a promise is awaited) and returns its value as
    /// Rhai data (JSON-like); `()` for undefined/null. A thrown exception is an error.
    #[rhai_fn(global, name = "evaluate", return_raw)]
    pub fn eval(ctx: NativeCallContext, page: BrowserPage, js: &str) -> Res<Dynamic> {
        let code = js.to_string();
        let value = page.op(
            &ctx,
            "eval",
            |p| async move { ops::evaluate(&p, &code).await },
        )?;
        crate::api::json::json_to_dynamic(&value).map_err(|e| script_error(&ctx, e))
    }

    /// Goes back one entry in the session history.
    #[rhai_fn(global, name = "back", return_raw)]
    pub fn back(ctx: NativeCallContext, page: BrowserPage) -> Res<()> {
        page.op(&ctx, "back", |p| async move {
            ops::evaluate(&p, "history.back(), true").await.map(|_| ())
        })
    }

    /// Goes forward one entry in the session history.
    #[rhai_fn(global, name = "forward", return_raw)]
    pub fn forward(ctx: NativeCallContext, page: BrowserPage) -> Res<()> {
        page.op(&ctx, "forward", |p| async move {
            ops::evaluate(&p, "history.forward(), true")
                .await
                .map(|_| ())
        })
    }

    /// Reloads the page and waits for the load.
    #[rhai_fn(global, name = "reload", return_raw)]
    pub fn reload(ctx: NativeCallContext, page: BrowserPage) -> Res<()> {
        page.op(&ctx, "reload", |p| async move { ops::reload(&p).await })
    }

    /// Sets a cookie for the page's `base_url` origin (e.g. a session bootstrapped with a
    /// token). Mark the value `secret()` first: it is a credential.
    #[rhai_fn(global, name = "set_cookie", return_raw)]
    pub fn set_cookie(
        ctx: NativeCallContext,
        page: BrowserPage,
        name: &str,
        value: &str,
    ) -> Res<()> {
        let base = page
            .state
            .lock()
            .base_url
            .as_ref()
            .map(|u| u.to_string())
            .ok_or_else(|| script_error(&ctx, "set_cookie needs `base_url` in browser::open"))?;
        let (cookie, value) = (name.to_string(), value.to_string());
        page.op(&ctx, &format!("set cookie {name}"), |p| async move {
            ops::set_cookie(&p, &cookie, &value, base).await
        })
    }

    /// From now on, every request the page makes to `base_url`'s origin (scheme, host and
    /// port) carries `Authorization: Bearer <token>`; requests to any other origin never do.
    /// The token becomes a secret (redacted everywhere) and must be allowed there by the
    /// credential policy (a target's token goes only to its own origins).
    #[rhai_fn(global, name = "set_bearer", return_raw)]
    pub fn set_bearer(ctx: NativeCallContext, page: BrowserPage, token: &str) -> Res<()> {
        page.set_bearer(&ctx, token)
    }

    /// Saves a full-page PNG as `artifacts/<check_id>/NN-<label>.png`; returns the file name.
    /// Elements showing a known secret are blanked for it; when the page still shows one,
    /// no screenshot is taken and the name is `""` (the check's log says which).
    #[rhai_fn(global, name = "screenshot", return_raw)]
    pub fn screenshot(ctx: NativeCallContext, page: BrowserPage, label: &str) -> Res<String> {
        bind::in_check(&ctx, "screenshot")?;
        Ok(page.save_screenshot(&ctx, label)?.unwrap_or_default())
    }

    /// Console errors seen so far (console.error calls and failed resource loads).
    #[rhai_fn(global, name = "console_errors")]
    pub fn console_errors(page: BrowserPage) -> Array {
        let list = page.state.lock().diagnostics.console_errors.lock().clone();
        list.into_iter().map(Dynamic::from).collect()
    }

    /// Uncaught exceptions in the page so far.
    #[rhai_fn(global, name = "page_errors")]
    pub fn page_errors(page: BrowserPage) -> Array {
        let list = page.state.lock().diagnostics.page_errors.lock().clone();
        list.into_iter().map(Dynamic::from).collect()
    }

    /// Runs `body` (a closure called with the page: `|page| ...`) as a named, timed step: a
    /// screenshot is taken after it (passed or failed),
    /// the step is recorded, and `summary.json` (upstream browser-smoke shape) is rewritten.
    /// A failing step's error is re-thrown after it was recorded.
    #[rhai_fn(global, name = "step", return_raw)]
    pub fn step(
        ctx: NativeCallContext,
        page: BrowserPage,
        name: &str,
        body: FnPtr,
    ) -> Res<Dynamic> {
        bind::in_check(&ctx, "step")?;
        context::log(format!("browser step {name}: start"));
        let started = Instant::now();
        let result: Res<Dynamic> = body.call_within_context(&ctx, (page.clone(),));
        let duration_ms = started.elapsed().as_millis();
        let message = match &result {
            Ok(_) => None,
            Err(e) => Some(match &**e {
                EvalAltResult::ErrorRuntime(v, _) => v.to_string(),
                EvalAltResult::ErrorTerminated(..) => {
                    "stopped (timeout or interruption)".to_string()
                }
                other => other.to_string(),
            }),
        };
        let interrupted = matches!(
            result.as_ref().map_err(|e| &**e),
            Err(EvalAltResult::ErrorTerminated(..))
        );
        // After a deadline or interruption there is no time left to take a screenshot.
        let screenshot = if interrupted {
            None
        } else {
            let label = if result.is_ok() {
                name.to_string()
            } else {
                format!("{name}-failed")
            };
            match page.save_screenshot(&ctx, &label) {
                Ok(file) => file,
                Err(e) => {
                    context::log(format!("browser step {name}: no screenshot: {e}"));
                    None
                }
            }
        };
        page.state.lock().steps.push(StepRecord {
            name: name.to_string(),
            passed: result.is_ok(),
            duration_ms,
            message: message.clone(),
            screenshot,
        });
        context::log(format!(
            "browser step {name}: {} in {duration_ms} ms{}",
            if result.is_ok() { "passed" } else { "failed" },
            message.map(|m| format!(": {m}")).unwrap_or_default()
        ));
        page.write_summary();
        result
    }

    /// The steps so far in the upstream `summary.json` shape.
    #[rhai_fn(global, name = "summary", return_raw)]
    pub fn summary(ctx: NativeCallContext, page: BrowserPage) -> Res<Dynamic> {
        crate::api::json::json_to_dynamic(&page.summary()).map_err(|e| script_error(&ctx, e))
    }

    /// Closes the browser (also happens when the page is dropped, on failure or timeout).
    /// `browser.har` (every request the page made) is written then, and after every step.
    #[rhai_fn(global, name = "close")]
    pub fn close(page: BrowserPage) {
        let session = page.state.lock().session.take();
        drop(session);
        page.write_har();
    }
}
