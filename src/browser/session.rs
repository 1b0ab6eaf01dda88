//! A running headless Chromium shared by the checks that use it at the same time, each with a
//! page in its own browser context: launching it in its own profile folder, collecting each
//! page's console and page errors, disposing of a check's context when its session is closed
//! or dropped, and ending the browser — with every process it started — when the last session
//! using it ends (on failure, timeout and interruption too).

use chromiumoxide::Page;
use chromiumoxide::browser::{Browser, BrowserConfig};
use chromiumoxide::cdp::browser_protocol::browser::BrowserContextId;
use chromiumoxide::cdp::browser_protocol::log::EventEntryAdded;
use chromiumoxide::cdp::browser_protocol::target::{
    CreateBrowserContextParams, CreateTargetParams,
};
use chromiumoxide::cdp::js_protocol::runtime::{
    ConsoleApiCalledType, EventConsoleApiCalled, EventExceptionThrown,
};
use futures_util::StreamExt;
use parking_lot::Mutex;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinHandle;

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
/// How long starting the browser may take (never past the check's deadline). A cold start
/// took over 20 s on a loaded 2-core machine while several browsers started at once, which
/// is not a fault of the deployment under test.
pub const LAUNCH_TIMEOUT: Duration = Duration::from_secs(60);
/// How long closing may take before the process group is killed.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(5);
/// Bound on collected console/page errors, so a noisy page cannot grow the evidence forever.
const MAX_DIAGNOSTICS: usize = 200;

/// Console errors (console.error calls and failed resource loads) and uncaught exceptions,
/// collected while the session runs.
#[derive(Clone, Default)]
pub struct Diagnostics {
    pub console_errors: Arc<Mutex<Vec<String>>>,
    pub page_errors: Arc<Mutex<Vec<String>>>,
}

fn push_bounded(list: &Mutex<Vec<String>>, text: String) {
    let mut list = list.lock();
    if list.len() < MAX_DIAGNOSTICS {
        list.push(text);
    }
}

/// How to start the browser.
pub struct LaunchOptions {
    pub executable: PathBuf,
    /// Each CDP command's own timeout.
    pub op_timeout: Duration,
    /// How long the launch itself may take (never past the check's deadline).
    pub launch_timeout: Duration,
    /// Host names resolved to fixed addresses (Chromium's `--host-resolver-rules`), e.g. a
    /// deployment reached by its real name at another address.
    pub hosts: Vec<(String, std::net::IpAddr)>,
}

/// `--host-resolver-rules` for `hosts`, or `None` when there are none.
pub fn host_rules(hosts: &[(String, std::net::IpAddr)]) -> Option<String> {
    (!hosts.is_empty()).then(|| {
        let rules: Vec<String> = hosts
            .iter()
            .map(|(name, ip)| match ip {
                std::net::IpAddr::V6(v6) => format!("MAP {name} [{v6}]"),
                std::net::IpAddr::V4(v4) => format!("MAP {name} {v4}"),
            })
            .collect();
        format!("--host-resolver-rules={}", rules.join(", "))
    })
}

/// Whether `name` is a plain host name (letters, digits, `-`, `.`): nothing else reaches a
/// Chromium flag.
pub fn is_host_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 253
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
}

/// A fresh, unique profile folder for one session; only this session's processes name it.
pub fn new_profile() -> std::io::Result<PathBuf> {
    let dir = std::env::temp_dir().join(format!(
        "oa-validate-browser-{}-{:016x}",
        std::process::id(),
        rand::random::<u64>()
    ));
    std::fs::create_dir_all(&dir).map(|()| dir)
}

/// What makes two launches interchangeable: the same browser, flags and CDP timeout.
#[derive(Clone, PartialEq, Eq)]
struct LaunchKey {
    executable: PathBuf,
    op_timeout: Duration,
    hosts: Vec<(String, std::net::IpAddr)>,
}

impl LaunchKey {
    fn of(options: &LaunchOptions) -> LaunchKey {
        LaunchKey {
            executable: options.executable.clone(),
            op_timeout: options.op_timeout,
            hosts: options.hosts.clone(),
        }
    }
}

/// One Chromium serving every check that uses it at the same time, each in its own browser
/// context (`Target.createBrowserContext`: cookies, storage and cache of its own, like a fresh
/// profile). It ends, with every process it started, when the last session using it ends.
pub struct SharedBrowser {
    browser: Option<Browser>,
    /// Serves the CDP connection; must outlive every command, `Browser.close` included.
    handler: JoinHandle<()>,
    profile: PathBuf,
    key: LaunchKey,
    runtime: tokio::runtime::Handle,
}

impl SharedBrowser {
    fn browser(&self) -> Result<&Browser, String> {
        self.browser
            .as_ref()
            .ok_or_else(|| "the browser has ended".to_string())
    }
}

impl Drop for SharedBrowser {
    fn drop(&mut self) {
        if let Some(browser) = self.browser.take() {
            let cleanup = shutdown(browser);
            // Check threads are not runtime threads, so blocking here is allowed; inside the
            // runtime (should not happen) the cleanup runs as a task instead.
            if tokio::runtime::Handle::try_current().is_err() {
                self.runtime.block_on(cleanup);
            } else {
                self.runtime.spawn(cleanup);
            }
        }
        self.handler.abort();
        discard_profile(&self.profile);
    }
}

/// The browsers running now, by how they were launched. Weak: a browser no session uses ends
/// at once instead of waiting here for the end of the run. An async lock, so a check waiting
/// while another launches stays bounded by its own deadline and by interruption.
static RUNNING: std::sync::LazyLock<tokio::sync::Mutex<Vec<std::sync::Weak<SharedBrowser>>>> =
    std::sync::LazyLock::new(|| tokio::sync::Mutex::new(Vec::new()));

/// The running browser launched like `options`, or a new one in `profile` (then it owns the
/// folder). Says whether it launched. On failure nothing started here is left running, except
/// processes the caller ends with [`discard_profile`].
pub async fn shared(
    options: &LaunchOptions,
    profile: &Path,
    runtime: tokio::runtime::Handle,
) -> Result<(std::sync::Arc<SharedBrowser>, bool), String> {
    let key = LaunchKey::of(options);
    let mut running = RUNNING.lock().await;
    running.retain(|b| b.strong_count() > 0);
    if let Some(browser) = running
        .iter()
        .filter_map(std::sync::Weak::upgrade)
        .find(|b| b.key == key && b.browser.is_some())
    {
        return Ok((browser, false));
    }
    let config = BrowserConfig::builder()
        .chrome_executable(&options.executable)
        .no_sandbox()
        .user_data_dir(profile)
        .window_size(1280, 900)
        .launch_timeout(options.launch_timeout)
        .request_timeout(options.op_timeout)
        .args(CHROMIUM_FLAGS.iter().copied())
        .args(host_rules(&options.hosts))
        .build()?;
    let (browser, mut handler) = Browser::launch(config).await.map_err(|e| e.to_string())?;
    let handler = tokio::spawn(async move {
        // A malformed message ends nothing: the next command reports real trouble.
        while handler.next().await.is_some() {}
    });
    let shared = std::sync::Arc::new(SharedBrowser {
        browser: Some(browser),
        handler,
        profile: profile.to_path_buf(),
        key,
        runtime,
    });
    running.push(std::sync::Arc::downgrade(&shared));
    Ok((shared, true))
}

/// What opening a page leaves running: its browser context, the page and the tasks
/// collecting its diagnostics.
pub struct Opened {
    context: BrowserContextId,
    page: Page,
    tasks: Vec<JoinHandle<()>>,
}

/// A blank page in a new browser context of `shared`, collecting its diagnostics. On failure
/// the context is disposed of again.
pub async fn open_page(
    shared: &SharedBrowser,
    diagnostics: &Diagnostics,
) -> Result<Opened, String> {
    let browser = shared.browser()?;
    let context = browser
        .create_browser_context(CreateBrowserContextParams::default())
        .await
        .map_err(|e| e.to_string())?;
    let opened = async {
        let target = CreateTargetParams::builder()
            .url("about:blank")
            .browser_context_id(context.clone())
            .build()?;
        let page = browser.new_page(target).await.map_err(|e| e.to_string())?;
        let tasks = listen(&page, diagnostics)
            .await
            .map_err(|e| e.to_string())?;
        Ok::<_, String>((page, tasks))
    }
    .await;
    match opened {
        Ok((page, tasks)) => Ok(Opened {
            context,
            page,
            tasks: tasks.into(),
        }),
        Err(e) => {
            let _ =
                tokio::time::timeout(CLOSE_TIMEOUT, browser.dispose_browser_context(context)).await;
            Err(e)
        }
    }
}

/// Tasks that copy console errors, error log entries and uncaught exceptions into
/// `diagnostics`.
async fn listen(
    page: &Page,
    diagnostics: &Diagnostics,
) -> Result<[JoinHandle<()>; 3], chromiumoxide::error::CdpError> {
    let mut console = page.event_listener::<EventConsoleApiCalled>().await?;
    let mut log_entries = page.event_listener::<EventEntryAdded>().await?;
    let mut exceptions = page.event_listener::<EventExceptionThrown>().await?;
    page.enable_log().await?;
    let (console_sink, log_sink, exception_sink) = (
        diagnostics.console_errors.clone(),
        diagnostics.console_errors.clone(),
        diagnostics.page_errors.clone(),
    );
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
                push_bounded(&log_sink, format!("{} {at}", entry.text).trim().to_string());
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
    Ok([console_task, log_task, exception_task])
}

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

/// A page in its own browser context of a shared browser. Dropping it disposes of the
/// context (its pages with it) and, when no other session uses the browser, ends the browser.
pub struct Session {
    shared: Option<std::sync::Arc<SharedBrowser>>,
    context: Option<BrowserContextId>,
    page: Page,
    tasks: Vec<JoinHandle<()>>,
    runtime: tokio::runtime::Handle,
}

impl Session {
    /// The session of a page opened in `shared`; `runtime` is where it is closed.
    pub fn new(
        shared: std::sync::Arc<SharedBrowser>,
        opened: Opened,
        runtime: tokio::runtime::Handle,
    ) -> Session {
        Session {
            shared: Some(shared),
            context: Some(opened.context),
            page: opened.page,
            tasks: opened.tasks,
            runtime,
        }
    }

    pub fn page(&self) -> &Page {
        &self.page
    }

    /// Keeps `task` (serving this page) until the session ends.
    pub fn add_task(&mut self, task: JoinHandle<()>) {
        self.tasks.push(task);
    }

    fn close(&mut self) {
        // The browser's CDP handler must still run while the context is disposed of: the
        // browser (and so its handler) is let go only after.
        if let (Some(shared), Some(context)) = (&self.shared, self.context.take())
            && let Ok(browser) = shared.browser()
        {
            let dispose = async {
                let _ =
                    tokio::time::timeout(CLOSE_TIMEOUT, browser.dispose_browser_context(context))
                        .await;
            };
            if tokio::runtime::Handle::try_current().is_err() {
                self.runtime.block_on(dispose);
            }
        }
        for task in self.tasks.drain(..) {
            task.abort();
        }
        self.shared = None;
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        self.close();
    }
}

/// Ends every process still using `profile` and removes the folder. Renderers and helpers
/// outlive a killed parent, so closing the browser alone is not enough.
pub fn discard_profile(profile: &Path) {
    kill_profile_processes(profile);
    let _ = std::fs::remove_dir_all(profile);
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
