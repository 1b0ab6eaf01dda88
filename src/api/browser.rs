//! `browser::` — a real headless Chromium driven over the Chrome DevTools Protocol
//! (`chromiumoxide`, without its browser fetcher: the system's Chromium is used, never a
//! download). The browser is `OA_CHROMIUM`, or the first of `chromium`, `chromium-browser`,
//! `google-chrome` on `PATH`; without one the check is skipped with `chromium not installed`.
//!
//! Every operation is timed (logged) and bounded by its own timeout and the check's
//! deadline, and stops at once on interruption. Console errors and page errors are collected.
//! `page.step(name, || ...)` records a timed step with a screenshot (PNG), and keeps
//! `summary.json` (the upstream browser-smoke shape) up to date after every step, so it is
//! written even when a step fails. The Chromium process (and every process it started) is
//! ended when the page is closed or dropped: on failure, timeout and interruption too.

use crate::api::script_error;
use crate::engine::context;
use crate::engine::host::Host;
use chromiumoxide::Page;
use chromiumoxide::browser::{Browser, BrowserConfig};
use chromiumoxide::cdp::browser_protocol::log::EventEntryAdded;
use chromiumoxide::cdp::browser_protocol::network::CookieParam;
use chromiumoxide::cdp::browser_protocol::page::CaptureScreenshotFormat;
use chromiumoxide::cdp::js_protocol::runtime::{
    ConsoleApiCalledType, EvaluateParams, EventConsoleApiCalled, EventExceptionThrown,
};
use chromiumoxide::page::ScreenshotParams;
use futures_util::StreamExt;
use parking_lot::Mutex;
use rhai::plugin::*;
use rhai::{Array, Dynamic, EvalAltResult, FnPtr, Map, NativeCallContext};
use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::task::JoinHandle;

type Res<T> = Result<T, Box<EvalAltResult>>;

/// Executables tried, in order, when `OA_CHROMIUM` is unset.
pub const CHROMIUM_NAMES: &[&str] = &["chromium", "chromium-browser", "google-chrome"];
/// Flags that keep Chromium quiet and local: no sandbox (root in CI), no GPU, no QUIC, and no
/// background connections (which this machine's closed network refuses).
const CHROMIUM_FLAGS: &[&str] = &[
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-default-browser-check",
];
/// Default timeout of one browser operation (`timeout` option of `browser::open`).
const DEFAULT_OP_TIMEOUT: Duration = Duration::from_secs(10);
const LAUNCH_TIMEOUT: Duration = Duration::from_secs(20);
/// How long closing may take before the process group is killed.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(5);
const POLL_INTERVAL: Duration = Duration::from_millis(50);
/// Bound on collected console/page errors, so a noisy page cannot grow the evidence forever.
const MAX_DIAGNOSTICS: usize = 200;

/// Finds the browser: `OA_CHROMIUM` (a path or a name on PATH), else the first known name on
/// PATH. `None` when there is none.
pub fn find_chromium(oa_chromium: Option<&str>, path_var: Option<&str>) -> Option<PathBuf> {
    let on_path = |name: &str| -> Option<PathBuf> {
        if name.contains('/') {
            let p = PathBuf::from(name);
            return is_executable(&p).then_some(p);
        }
        std::env::split_paths(path_var.unwrap_or("/usr/local/bin:/usr/bin:/bin"))
            .map(|dir| dir.join(name))
            .find(|p| is_executable(p))
    };
    match oa_chromium.filter(|s| !s.is_empty()) {
        Some(name) => on_path(name),
        None => CHROMIUM_NAMES.iter().find_map(|n| on_path(n)),
    }
}

fn is_executable(path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        path.metadata()
            .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    }
    #[cfg(not(unix))]
    {
        path.is_file()
    }
}

/// One recorded step of `page.step`.
#[derive(Debug, Clone)]
struct StepRecord {
    name: String,
    passed: bool,
    duration_ms: u128,
    message: Option<String>,
    screenshot: Option<String>,
}

/// A running browser with one page. Dropping it ends the browser.
struct Session {
    browser: Option<Browser>,
    page: Page,
    tasks: Vec<JoinHandle<()>>,
    user_data_dir: PathBuf,
    runtime: tokio::runtime::Handle,
}

impl Session {
    async fn shutdown(mut browser: Browser) {
        let _ = tokio::time::timeout(CLOSE_TIMEOUT, browser.close()).await;
        if tokio::time::timeout(CLOSE_TIMEOUT, browser.wait())
            .await
            .is_err()
        {
            let _ = browser.kill().await;
            let _ = browser.wait().await;
        }
    }

    fn close(&mut self) {
        // The CDP handler task must still run while closing: `Browser.close` is a CDP command
        // that waits for its answer. Aborting it first cost every session CLOSE_TIMEOUT.
        if let Some(browser) = self.browser.take() {
            let cleanup = Session::shutdown(browser);
            // Check threads are not runtime threads, so blocking here is allowed; inside the
            // runtime (should not happen) the cleanup runs as a task instead.
            if tokio::runtime::Handle::try_current().is_err() {
                self.runtime.block_on(cleanup);
            } else {
                self.runtime.spawn(cleanup);
            }
        }
        for task in self.tasks.drain(..) {
            task.abort();
        }
        // Renderers and helpers outlive a killed parent: end every process still using our
        // profile folder (unique to this session), then remove the folder.
        kill_profile_processes(&self.user_data_dir);
        let _ = std::fs::remove_dir_all(&self.user_data_dir);
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        self.close();
    }
}

/// SIGKILLs processes whose command line names `profile` (ours alone: a fresh random folder).
fn kill_profile_processes(profile: &Path) {
    #[cfg(target_os = "linux")]
    {
        let needle = format!("--user-data-dir={}", profile.display());
        let Ok(entries) = std::fs::read_dir("/proc") else {
            return;
        };
        let me = std::process::id().to_string();
        let pids: Vec<String> = entries
            .filter_map(Result::ok)
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|pid| pid.chars().all(|c| c.is_ascii_digit()) && *pid != me)
            .filter(|pid| {
                std::fs::read(format!("/proc/{pid}/cmdline"))
                    .map(|raw| String::from_utf8_lossy(&raw).replace('\0', " "))
                    .is_ok_and(|cmd| cmd.contains(&needle))
            })
            .collect();
        if !pids.is_empty() {
            let _ = std::process::Command::new("kill")
                .arg("-KILL")
                .args(&pids)
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .status();
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = profile;
}

struct PageState {
    session: Option<Session>,
    base_url: Option<url::Url>,
    op_timeout: Duration,
    started_at: String,
    steps: Vec<StepRecord>,
    screenshots: usize,
    console_errors: Arc<Mutex<Vec<String>>>,
    page_errors: Arc<Mutex<Vec<String>>>,
}

/// A browser page as scripts see it (cheap to clone: one shared browser).
#[derive(Clone)]
pub struct BrowserPage {
    state: Arc<Mutex<PageState>>,
}

fn in_check(ctx: &NativeCallContext, verb: &str) -> Res<Arc<Host>> {
    if context::with_check(|_| ()).is_none() {
        return Err(script_error(
            ctx,
            format!(
                "{verb} at plan time: the top level of a lane only declares checks; move it into a check"
            ),
        ));
    }
    context::host().ok_or_else(|| script_error(ctx, "no host services"))
}

/// Runs `fut` on the host runtime, bounded by `timeout` and the check's deadline, stopping
/// on interruption.
fn run_bounded<T>(
    ctx: &NativeCallContext,
    host: &Host,
    what: &str,
    timeout: Duration,
    fut: impl Future<Output = Result<T, String>>,
) -> Res<T> {
    let limit = timeout.min(context::remaining());
    let cancel = host.services.cancel.clone();
    let started = Instant::now();
    let outcome = host.services.runtime.block_on(async {
        tokio::select! {
            r = tokio::time::timeout(limit, fut) => Some(r),
            _ = cancel.cancelled() => None,
        }
    });
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    match outcome {
        None => Err(crate::api::interrupted(ctx)),
        Some(Err(_)) => {
            context::log(format!("browser: {what} -> timed out after {ms:.0} ms"));
            Err(script_error(
                ctx,
                format!(
                    "browser {what}: timed out after {}",
                    humantime::format_duration(Duration::from_millis(limit.as_millis() as u64))
                ),
            ))
        }
        Some(Ok(Err(e))) => {
            context::log(format!("browser: {what} -> error after {ms:.0} ms: {e}"));
            Err(script_error(ctx, format!("browser {what}: {e}")))
        }
        Some(Ok(Ok(v))) => {
            context::log(format!("browser: {what} ({ms:.0} ms)"));
            Ok(v)
        }
    }
}

fn js_string(text: &str) -> String {
    serde_json::to_string(text).unwrap_or_else(|_| "\"\"".to_string())
}

/// Evaluates `js` (awaiting a promise) and returns its JSON value (`null` for undefined).
async fn evaluate(page: &Page, js: &str) -> Result<serde_json::Value, String> {
    let params = EvaluateParams::builder()
        .expression(js)
        .await_promise(true)
        .return_by_value(true)
        .build()
        .map_err(|e| e.to_string())?;
    let result = page
        .evaluate_expression(params)
        .await
        .map_err(describe_cdp_error)?;
    Ok(result.value().cloned().unwrap_or(serde_json::Value::Null))
}

fn describe_cdp_error(e: chromiumoxide::error::CdpError) -> String {
    match e {
        chromiumoxide::error::CdpError::JavascriptException(details) => {
            let description = details
                .exception
                .as_ref()
                .and_then(|x| x.description.clone())
                .unwrap_or_default();
            format!("JavaScript exception: {} {description}", details.text)
        }
        other => other.to_string(),
    }
}

/// Polls `js` until it is truthy; evaluation errors (e.g. mid-navigation) are retried.
async fn poll_truthy(page: &Page, js: &str) -> Result<(), String> {
    let wrapped =
        format!("(() => {{ try {{ return !!({js}); }} catch (e) {{ return false; }} }})()");
    loop {
        if let Ok(serde_json::Value::Bool(true)) = evaluate(page, &wrapped).await {
            return Ok(());
        }
        tokio::time::sleep(POLL_INTERVAL).await;
    }
}

fn sanitize(name: &str) -> String {
    let s: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    let s = s.trim_matches('-').to_string();
    if s.is_empty() {
        "page".to_string()
    } else {
        s.chars().take(60).collect()
    }
}

fn push_bounded(list: &Mutex<Vec<String>>, text: String) {
    let mut list = list.lock();
    if list.len() < MAX_DIAGNOSTICS {
        list.push(text);
    }
}

impl BrowserPage {
    fn with_page<R>(
        &self,
        ctx: &NativeCallContext,
        f: impl FnOnce(&Page, Duration) -> R,
    ) -> Res<R> {
        let state = self.state.lock();
        match &state.session {
            Some(session) => Ok(f(&session.page, state.op_timeout)),
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

    fn op<T>(
        &self,
        ctx: &NativeCallContext,
        what: &str,
        timeout: Option<Duration>,
        make: impl FnOnce(Page) -> std::pin::Pin<Box<dyn Future<Output = Result<T, String>> + Send>>,
    ) -> Res<T> {
        let host = in_check(ctx, "browser")?;
        let (page, default_timeout) = self.with_page(ctx, |p, t| (p.clone(), t))?;
        run_bounded(
            ctx,
            &host,
            what,
            timeout.unwrap_or(default_timeout),
            make(page),
        )
    }

    /// Polls `condition` until it holds. Not holding in time is a failed assertion (the
    /// page did not reach the state the lane expects), not a script error.
    fn wait(&self, ctx: &NativeCallContext, condition: &str, timeout: Option<Duration>) -> Res<()> {
        let host = in_check(ctx, "browser")?;
        let (page, default_timeout) = self.with_page(ctx, |p, t| (p.clone(), t))?;
        let limit = timeout.unwrap_or(default_timeout).min(context::remaining());
        let js = condition.to_string();
        let cancel = host.services.cancel.clone();
        let started = Instant::now();
        let outcome = host.services.runtime.block_on(async {
            tokio::select! {
                r = tokio::time::timeout(limit, poll_truthy(&page, &js)) => Some(r.is_ok()),
                _ = cancel.cancelled() => None,
            }
        });
        let ms = started.elapsed().as_secs_f64() * 1000.0;
        match outcome {
            None => Err(crate::api::interrupted(ctx)),
            Some(true) => {
                crate::api::assert::record_pass(&format!("browser: {condition} ({ms:.0} ms)"));
                Ok(())
            }
            Some(false) => {
                let at = host
                    .services
                    .runtime
                    .block_on(async {
                        tokio::time::timeout(
                            Duration::from_secs(2),
                            evaluate(&page, "location.pathname + location.search"),
                        )
                        .await
                    })
                    .ok()
                    .and_then(Result::ok)
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_else(|| "?".to_string());
                let within =
                    humantime::format_duration(Duration::from_millis(limit.as_millis() as u64));
                Err(crate::api::assert::record_failure(
                    ctx,
                    format!("browser: not true within {within}: {condition}"),
                    Some(format!("true within {within}")),
                    Some(format!("still false at {at}")),
                ))
            }
        }
    }

    fn screenshot_bytes(&self, ctx: &NativeCallContext) -> Res<Vec<u8>> {
        self.op(ctx, "screenshot", None, |page| {
            Box::pin(async move {
                page.screenshot(
                    ScreenshotParams::builder()
                        .format(CaptureScreenshotFormat::Png)
                        .full_page(true)
                        .build(),
                )
                .await
                .map_err(describe_cdp_error)
            })
        })
    }

    /// Saves a PNG as evidence under a numbered, sanitised name; returns the file name.
    fn save_screenshot(&self, ctx: &NativeCallContext, label: &str) -> Res<String> {
        let bytes = self.screenshot_bytes(ctx)?;
        let name = {
            let mut state = self.state.lock();
            state.screenshots += 1;
            format!("{:02}-{}.png", state.screenshots, sanitize(label))
        };
        context::with_check(|c| c.record.files.push((name.clone(), bytes)));
        Ok(name)
    }

    fn summary(&self) -> serde_json::Value {
        let state = self.state.lock();
        let steps: Vec<serde_json::Value> = state
            .steps
            .iter()
            .map(|s| {
                let mut step = serde_json::json!({
                    "name": s.name,
                    "status": if s.passed { "passed" } else { "failed" },
                    "durationMs": s.duration_ms as u64,
                });
                if let Some(m) = &s.message {
                    step["message"] = m.clone().into();
                }
                if let Some(f) = &s.screenshot {
                    step["screenshot"] = f.clone().into();
                }
                step
            })
            .collect();
        let outcome = if !state.steps.is_empty() && state.steps.iter().all(|s| s.passed) {
            "passed"
        } else {
            "failed"
        };
        serde_json::json!({
            "startedAt": state.started_at,
            "completedAt": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            "baseUrl": state.base_url.as_ref().map(|u| u.as_str().trim_end_matches('/').to_string()),
            "steps": steps,
            "diagnostics": {
                "consoleErrors": *state.console_errors.lock(),
                "pageErrors": *state.page_errors.lock(),
            },
            "outcome": outcome,
        })
    }

    /// Replaces `summary.json` in the check's evidence with the current summary.
    fn write_summary(&self) {
        let text = serde_json::to_string_pretty(&self.summary()).unwrap_or_default();
        context::with_check(|c| {
            c.record.evidence.retain(|(name, _)| name != "summary.json");
            c.record.evidence.push(("summary.json".to_string(), text));
        });
    }
}

fn launch(ctx: &NativeCallContext, host: &Host, opts: &Map) -> Res<BrowserPage> {
    let executable = find_chromium(host.env.get("OA_CHROMIUM"), host.env.get("PATH"));
    let Some(executable) = executable else {
        return Err(crate::api::skip_check(ctx, "chromium not installed"));
    };
    let mut op_timeout = DEFAULT_OP_TIMEOUT;
    let mut base_url = None;
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
            other => {
                return Err(script_error(
                    ctx,
                    format!("unknown browser::open option `{other}` (expected base_url, timeout)"),
                ));
            }
        }
    }
    let user_data_dir = std::env::temp_dir().join(format!(
        "oa-validate-browser-{}-{:016x}",
        std::process::id(),
        rand::random::<u64>()
    ));
    std::fs::create_dir_all(&user_data_dir).map_err(|e| {
        script_error(
            ctx,
            format!("browser::open: {}: {e}", user_data_dir.display()),
        )
    })?;
    let config = BrowserConfig::builder()
        .chrome_executable(&executable)
        .no_sandbox()
        .user_data_dir(&user_data_dir)
        .window_size(1280, 900)
        .launch_timeout(LAUNCH_TIMEOUT.min(context::remaining()))
        .request_timeout(op_timeout)
        .args(CHROMIUM_FLAGS.iter().copied())
        .build()
        .map_err(|e| script_error(ctx, format!("browser::open: {e}")))?;
    let console_errors: Arc<Mutex<Vec<String>>> = Arc::new(Mutex::new(Vec::new()));
    let page_errors: Arc<Mutex<Vec<String>>> = Arc::new(Mutex::new(Vec::new()));
    let (console_sink, log_sink, exception_sink) = (
        console_errors.clone(),
        console_errors.clone(),
        page_errors.clone(),
    );
    let launched = run_bounded(
        ctx,
        host,
        &format!("launch {}", executable.display()),
        LAUNCH_TIMEOUT,
        async move {
            let (browser, mut handler) =
                Browser::launch(config).await.map_err(|e| e.to_string())?;
            let mut tasks = vec![tokio::spawn(async move {
                // A malformed message ends nothing: the next command reports real trouble.
                while handler.next().await.is_some() {}
            })];
            let page = match browser.new_page("about:blank").await {
                Ok(page) => page,
                Err(e) => {
                    for t in &tasks {
                        t.abort();
                    }
                    Session::shutdown(browser).await;
                    return Err(e.to_string());
                }
            };
            let listeners = async {
                let mut console = page.event_listener::<EventConsoleApiCalled>().await?;
                let mut log_entries = page.event_listener::<EventEntryAdded>().await?;
                let mut exceptions = page.event_listener::<EventExceptionThrown>().await?;
                page.enable_log().await?;
                let console_task = tokio::spawn(async move {
                    while let Some(event) = console.next().await {
                        if event.r#type == ConsoleApiCalledType::Error {
                            let text: Vec<String> = event
                                .args
                                .iter()
                                .map(|a| {
                                    a.value
                                        .as_ref()
                                        .map(|v| {
                                            v.as_str()
                                                .map(str::to_string)
                                                .unwrap_or_else(|| v.to_string())
                                        })
                                        .or_else(|| a.description.clone())
                                        .unwrap_or_default()
                                })
                                .collect();
                            push_bounded(&console_sink, text.join(" "));
                        }
                    }
                });
                let log_task = tokio::spawn(async move {
                    while let Some(event) = log_entries.next().await {
                        let entry = &event.entry;
                        if format!("{:?}", entry.level).eq_ignore_ascii_case("error") {
                            let at = entry.url.as_deref().unwrap_or("");
                            push_bounded(
                                &log_sink,
                                format!("{} {at}", entry.text).trim().to_string(),
                            );
                        }
                    }
                });
                let exception_task = tokio::spawn(async move {
                    while let Some(event) = exceptions.next().await {
                        let details = &event.exception_details;
                        let description = details
                            .exception
                            .as_ref()
                            .and_then(|x| x.description.clone())
                            .unwrap_or_else(|| details.text.clone());
                        push_bounded(&exception_sink, description);
                    }
                });
                Ok::<_, chromiumoxide::error::CdpError>([console_task, log_task, exception_task])
            }
            .await;
            match listeners {
                Ok(more) => tasks.extend(more),
                Err(e) => {
                    for t in &tasks {
                        t.abort();
                    }
                    Session::shutdown(browser).await;
                    return Err(e.to_string());
                }
            }
            Ok((browser, page, tasks))
        },
    );
    let (browser, page, tasks) = match launched {
        Ok(parts) => parts,
        Err(e) => {
            kill_profile_processes(&user_data_dir);
            let _ = std::fs::remove_dir_all(&user_data_dir);
            return Err(e);
        }
    };
    let session = Session {
        browser: Some(browser),
        page,
        tasks,
        user_data_dir,
        runtime: host.services.runtime.clone(),
    };
    context::log(format!("browser: {} (headless)", executable.display()));
    Ok(BrowserPage {
        state: Arc::new(Mutex::new(PageState {
            session: Some(session),
            base_url,
            op_timeout,
            started_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            steps: Vec::new(),
            screenshots: 0,
            console_errors,
            page_errors,
        })),
    })
}

pub fn register(engine: &mut rhai::Engine) {
    engine.register_type_with_name::<BrowserPage>("BrowserPage");
    engine.register_static_module("browser", rhai::exported_module!(browser_api).into());
    engine.register_global_module(rhai::exported_module!(page_api).into());
}

#[export_module]
pub mod browser_api {
    /// Starts a headless Chromium with one blank page (see `open` with options).
    #[rhai_fn(name = "open", return_raw)]
    pub fn open(ctx: NativeCallContext) -> Res<BrowserPage> {
        open_with(ctx, Map::new())
    }

    /// Starts a headless Chromium with one blank page. Options: `base_url` (relative URLs of
    /// `navigate` resolve against it), `timeout` (default per operation, "10s"). Skips the check
    /// with `chromium not installed` when there is no browser (`OA_CHROMIUM`, PATH).
    #[rhai_fn(name = "open", return_raw)]
    pub fn open_with(ctx: NativeCallContext, opts: Map) -> Res<BrowserPage> {
        let host = in_check(&ctx, "browser::open")?;
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
        page.op(&ctx, &format!("navigate {shown}"), None, move |p| {
            Box::pin(async move {
                p.goto(target).await.map_err(describe_cdp_error)?;
                Ok(())
            })
        })
    }

    /// Waits until `selector` matches an element (default timeout of the page).
    #[rhai_fn(global, name = "wait_for", return_raw)]
    pub fn wait_for(ctx: NativeCallContext, page: BrowserPage, selector: &str) -> Res<()> {
        wait_until_with(
            ctx,
            page,
            &format!("document.querySelector({}) !== null", js_string(selector)),
            Dynamic::UNIT,
        )
    }

    /// Waits until `selector` matches an element, at most `timeout` ("5s").
    #[rhai_fn(global, name = "wait_for", return_raw)]
    pub fn wait_for_with(
        ctx: NativeCallContext,
        page: BrowserPage,
        selector: &str,
        timeout: Dynamic,
    ) -> Res<()> {
        wait_until_with(
            ctx,
            page,
            &format!("document.querySelector({}) !== null", js_string(selector)),
            timeout,
        )
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
        let js = format!(
            "(() => {{ const el = document.querySelector({sel}); if (!el) throw new Error('no element matches ' + {sel}); \
el.focus(); el.value = {val}; el.dispatchEvent(new Event('input', {{bubbles: true}})); \
el.dispatchEvent(new Event('change', {{bubbles: true}})); return true; }})()",
            sel = js_string(selector),
            val = js_string(&value.to_string())
        );
        page.op(&ctx, &format!("fill {selector}"), None, move |p| {
            Box::pin(async move { evaluate(&p, &js).await.map(|_| ()) })
        })
    }

    /// Clicks the element `selector` with the mouse (scrolled into view first).
    #[rhai_fn(global, name = "click", return_raw)]
    pub fn click(ctx: NativeCallContext, page: BrowserPage, selector: &str) -> Res<()> {
        let sel = selector.to_string();
        page.op(&ctx, &format!("click {selector}"), None, move |p| {
            Box::pin(async move {
                let element = p.find_element(sel).await.map_err(describe_cdp_error)?;
                element.click().await.map_err(describe_cdp_error)?;
                Ok(())
            })
        })
    }

    /// Submits the form `selector` as a user would (`requestSubmit`: validation and
    /// submit handlers such as htmx's run).
    #[rhai_fn(global, name = "submit", return_raw)]
    pub fn submit(ctx: NativeCallContext, page: BrowserPage, selector: &str) -> Res<()> {
        let js = format!(
            "(() => {{ const f = document.querySelector({sel}); if (!f) throw new Error('no form matches ' + {sel}); \
f.requestSubmit(); return true; }})()",
            sel = js_string(selector)
        );
        page.op(&ctx, &format!("submit {selector}"), None, move |p| {
            Box::pin(async move { evaluate(&p, &js).await.map(|_| ()) })
        })
    }

    /// The page's current URL.
    #[rhai_fn(global, name = "url", return_raw)]
    pub fn url(ctx: NativeCallContext, page: BrowserPage) -> Res<String> {
        page.op(&ctx, "url", None, |p| {
            Box::pin(async move {
                let v = evaluate(&p, "location.href").await?;
                Ok(v.as_str().unwrap_or_default().to_string())
            })
        })
    }

    /// The page's current path and query (`/chat/thread_1?x=y`).
    #[rhai_fn(global, name = "path", return_raw)]
    pub fn path(ctx: NativeCallContext, page: BrowserPage) -> Res<String> {
        page.op(&ctx, "path", None, |p| {
            Box::pin(async move {
                let v = evaluate(&p, "location.pathname + location.search").await?;
                Ok(v.as_str().unwrap_or_default().to_string())
            })
        })
    }

    /// The text content of the first element matching `selector`, or `()` when none does.
    #[rhai_fn(global, name = "text", return_raw)]
    pub fn text(ctx: NativeCallContext, page: BrowserPage, selector: &str) -> Res<Dynamic> {
        let js = format!(
            "(() => {{ const el = document.querySelector({}); return el ? el.textContent : null; }})()",
            js_string(selector)
        );
        page.op(&ctx, &format!("text {selector}"), None, move |p| {
            Box::pin(async move {
                Ok(match evaluate(&p, &js).await? {
                    serde_json::Value::String(s) => Dynamic::from(s),
                    _ => Dynamic::UNIT,
                })
            })
        })
    }

    /// Evaluates JavaScript in the page (a promise is awaited) and returns its value as
    /// Rhai data (JSON-like); `()` for undefined/null. A thrown exception is an error.
    #[rhai_fn(global, name = "evaluate", return_raw)]
    pub fn eval(ctx: NativeCallContext, page: BrowserPage, js: &str) -> Res<Dynamic> {
        let code = js.to_string();
        let value = page.op(&ctx, "eval", None, move |p| {
            Box::pin(async move { evaluate(&p, &code).await })
        })?;
        crate::api::json::json_to_dynamic(&value).map_err(|e| script_error(&ctx, e))
    }

    /// Goes back one entry in the session history.
    #[rhai_fn(global, name = "back", return_raw)]
    pub fn back(ctx: NativeCallContext, page: BrowserPage) -> Res<()> {
        page.op(&ctx, "back", None, |p| {
            Box::pin(async move { evaluate(&p, "history.back(), true").await.map(|_| ()) })
        })
    }

    /// Goes forward one entry in the session history.
    #[rhai_fn(global, name = "forward", return_raw)]
    pub fn forward(ctx: NativeCallContext, page: BrowserPage) -> Res<()> {
        page.op(&ctx, "forward", None, |p| {
            Box::pin(async move { evaluate(&p, "history.forward(), true").await.map(|_| ()) })
        })
    }

    /// Reloads the page and waits for the load.
    #[rhai_fn(global, name = "reload", return_raw)]
    pub fn reload(ctx: NativeCallContext, page: BrowserPage) -> Res<()> {
        page.op(&ctx, "reload", None, |p| {
            Box::pin(async move {
                p.reload().await.map_err(describe_cdp_error)?;
                Ok(())
            })
        })
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
        let cookie = CookieParam::builder()
            .name(name)
            .value(value)
            .url(base)
            .path("/")
            .build()
            .map_err(|e| script_error(&ctx, format!("set_cookie: {e}")))?;
        page.op(&ctx, &format!("set cookie {name}"), None, move |p| {
            Box::pin(async move {
                p.set_cookie(cookie).await.map_err(describe_cdp_error)?;
                Ok(())
            })
        })
    }

    /// Saves a full-page PNG as `artifacts/<check_id>/NN-<label>.png`; returns the file name.
    #[rhai_fn(global, name = "screenshot", return_raw)]
    pub fn screenshot(ctx: NativeCallContext, page: BrowserPage, label: &str) -> Res<String> {
        in_check(&ctx, "screenshot")?;
        page.save_screenshot(&ctx, label)
    }

    /// Console errors seen so far (console.error calls and failed resource loads).
    #[rhai_fn(global, name = "console_errors")]
    pub fn console_errors(page: BrowserPage) -> Array {
        let list = page.state.lock().console_errors.lock().clone();
        list.into_iter().map(Dynamic::from).collect()
    }

    /// Uncaught exceptions in the page so far.
    #[rhai_fn(global, name = "page_errors")]
    pub fn page_errors(page: BrowserPage) -> Array {
        let list = page.state.lock().page_errors.lock().clone();
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
        in_check(&ctx, "step")?;
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
                Ok(file) => Some(file),
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
    #[rhai_fn(global, name = "close")]
    pub fn close(page: BrowserPage) {
        let session = page.state.lock().session.take();
        drop(session);
    }
}
