//! A sandbox for running the real `oa-validate` binary end to end, in the spirit of the
//! ripgrep and just test helpers: a temp dir, a command builder with a controlled environment
//! and a timeout, and readers for the evidence folder.
//!
//! Every child runs with a cleared environment (PATH, HOME, `CI=true`, `NO_COLOR=1`, and the
//! staging/prod base URLs pointed at a loopback tripwire so nothing can reach a real
//! deployment), and is killed if it outlives its timeout.

#![allow(dead_code)]

pub mod fault_server;
mod secret_forms;
pub mod transport_servers;

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_oa-validate");
/// Default limit for one child process.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

/// The repository root (for the real `lanes/`).
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The ids of the real control lane, in lane/declaration order.
/// (In the default cutover phase, app-surface: the static host and Khala token checks are
/// that phase's.)
pub const CONTROL_CHECKS: [&str; 8] = [
    "control-staging-health",
    "control-staging-smoke",
    "control-staging-static-host",
    "control-staging-khala-sync-token",
    "control-prod-health",
    "control-prod-smoke",
    "control-prod-static-host",
    "control-prod-khala-sync-token",
];

/// The ids of the real HTMX lane (`lanes/htmx.rhai`), in declaration order.
pub const HTMX_CHECKS: [&str; 5] = [
    "control-staging-htmx-perf",
    "control-prod-htmx-perf",
    "control-staging-htmx-browser-smoke",
    "control-prod-htmx-browser-smoke",
    "control-staging-htmx-route-group-canary",
];

/// Every check of the real matrix (`lanes/*.rhai`, sorted by file name), in report order.
pub fn matrix_checks() -> Vec<&'static str> {
    CONTROL_CHECKS
        .iter()
        .chain(HTMX_CHECKS.iter())
        .copied()
        .collect()
}

/// The `XDG_CACHE_HOME` every child of the tests shares (its `oa-validate/` folder is the cache): where
/// `oa-validate setup` installs htmx and writes the sim's fixture workspace. In the target
/// folder, so a second `cargo test` finds it installed.
pub fn test_cache() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("oa-validate-cache")
}

/// Installs Chromium and htmx once per test binary, before any test starts a child, through
/// the binary itself (`oa-validate setup`, the step `--sim` runs when something is missing):
/// the README's `cargo test` is all a fresh machine needs, and concurrent children never race
/// to install. A failed setup fails the tests loudly instead of letting browser checks skip.
pub fn ensure_setup() {
    static SETUP: std::sync::OnceLock<Result<(), String>> = std::sync::OnceLock::new();
    let result = SETUP.get_or_init(|| {
        let mut command = Command::new(BIN);
        command
            .arg("setup")
            .env("XDG_CACHE_HOME", test_cache())
            .stdin(Stdio::null())
            .stdout(Stdio::null());
        let status = command
            .status()
            .map_err(|e| format!("cannot run oa-validate setup: {e}"))?;
        if status.success() {
            Ok(())
        } else {
            Err(format!("oa-validate setup failed: {status}"))
        }
    });
    if let Err(e) = result {
        panic!("{e}");
    }
}

/// The exact upstream results.tsv header.
pub const TSV_HEADER: &str = "check_id\trequired\tstatus\tdescription\tlog_path\tcommand";

// ---------------------------------------------------------------------------------------------
// Sandbox

/// A temp dir plus a tripwire listener the default targets point at.
pub struct Sandbox {
    dir: tempfile::TempDir,
    tripwire: Tripwire,
}

impl Default for Sandbox {
    fn default() -> Self {
        Self::new()
    }
}

impl Sandbox {
    pub fn new() -> Self {
        ensure_setup();
        let dir = tempfile::Builder::new()
            .prefix("oa-validate-it-")
            .tempdir()
            .expect("create temp dir");
        std::fs::create_dir_all(dir.path().join("home")).expect("create fake HOME");
        Sandbox {
            dir,
            tripwire: Tripwire::new(),
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Writes `contents` to `rel` (creating parent folders) and returns the full path.
    pub fn write(&self, rel: &str, contents: &str) -> PathBuf {
        let path = self.path().join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("create fixture folder");
        }
        std::fs::write(&path, contents).expect("write fixture");
        path
    }

    /// Copies a file of the repository (e.g. `lanes/control.rhai`) into the sandbox.
    pub fn copy_from_repo(&self, rel: &str, to: &str) -> PathBuf {
        let text = std::fs::read_to_string(repo_root().join(rel)).expect("read repo file");
        self.write(to, &text)
    }

    /// Copies a folder of the repository (e.g. a fixture evidence folder) into the sandbox.
    pub fn copy_dir_from_repo(&self, rel: &str, to: &str) -> PathBuf {
        fn copy(from: &Path, to: &Path) {
            std::fs::create_dir_all(to).expect("create folder");
            for entry in std::fs::read_dir(from)
                .expect("read fixture folder")
                .flatten()
            {
                let target = to.join(entry.file_name());
                if entry.path().is_dir() {
                    copy(&entry.path(), &target);
                } else {
                    std::fs::copy(entry.path(), &target).expect("copy fixture file");
                }
            }
        }
        let target = self.path().join(to);
        copy(&repo_root().join(rel), &target);
        target
    }

    /// A path inside the sandbox for an evidence folder (not created).
    pub fn out(&self, name: &str) -> PathBuf {
        self.path().join(name)
    }

    /// An `Evidence` reader for `out(name)`.
    pub fn evidence(&self, name: &str) -> Evidence {
        Evidence::new(self.out(name))
    }

    /// The binary, run in the sandbox (fixture lanes written by the test).
    pub fn cmd(&self) -> Cmd {
        Cmd::new(self.path(), &self.path().join("home"), &self.tripwire.url())
    }

    /// The binary, run in the repository root (the real `lanes/`).
    pub fn cmd_in_repo(&self) -> Cmd {
        Cmd::new(
            &repo_root(),
            &self.path().join("home"),
            &self.tripwire.url(),
        )
    }

    /// The binary, run in `dir` (e.g. a fresh copy of the repository, or an empty folder).
    pub fn cmd_in(&self, dir: &Path) -> Cmd {
        Cmd::new(dir, &self.path().join("home"), &self.tripwire.url())
    }

    /// A fresh copy of the repository at `to` (inside the sandbox): what a new user has after
    /// `git clone`: no `target/`, nothing installed, nothing git-ignored.
    pub fn fresh_copy_of_repo(&self, to: &str) -> PathBuf {
        fn copy(from: &Path, to: &Path) {
            std::fs::create_dir_all(to).expect("create folder");
            for entry in std::fs::read_dir(from).expect("read folder").flatten() {
                let name = entry.file_name();
                let name = name.to_string_lossy();
                // Build output and what setup installs are never part of a checkout.
                if matches!(
                    name.as_ref(),
                    "target" | ".git" | "vendor" | "validation-evidence"
                ) {
                    continue;
                }
                let target = to.join(entry.file_name());
                if entry.path().is_dir() {
                    copy(&entry.path(), &target);
                } else {
                    std::fs::copy(entry.path(), &target).expect("copy file");
                }
            }
        }
        let target = self.path().join(to);
        copy(&repo_root(), &target);
        target
    }

    /// Another oa-validate binary (e.g. one `cargo install` put somewhere), run in `dir`.
    pub fn cmd_of(&self, program: &Path, dir: &Path) -> Cmd {
        Cmd::of(
            program,
            dir,
            &self.path().join("home"),
            &self.tripwire.url(),
        )
    }

    /// `oa-validate lock --lanes lanes` in the sandbox (with `env`): locks the sandbox's own
    /// matrix, so a `--gate --lanes lanes` run there is refused only for its own reasons.
    pub fn lock_lanes(&self, env: &[(&str, &str)]) -> Run {
        let mut cmd = self.cmd().args(["lock", "--lanes", "lanes"]);
        for (k, v) in env {
            cmd = cmd.env(k, v);
        }
        cmd.run()
    }

    /// The loopback listener the default staging/prod base URLs point at.
    pub fn tripwire(&self) -> &Tripwire {
        &self.tripwire
    }
}

// ---------------------------------------------------------------------------------------------
// Command builder

pub struct Cmd {
    command: Command,
    timeout: Duration,
    display: Vec<String>,
    stdin: Option<Vec<u8>>,
}

impl Cmd {
    fn new(cwd: &Path, home: &Path, dead_target: &str) -> Self {
        Self::of(Path::new(BIN), cwd, home, dead_target)
    }

    fn of(program: &Path, cwd: &Path, home: &Path, dead_target: &str) -> Self {
        let mut command = Command::new(program);
        command.current_dir(cwd).env_clear();
        if let Some(path) = std::env::var_os("PATH") {
            command.env("PATH", path);
        }
        // The toolchain, for lanes that run `cargo test` on the fixture workspace: rustup's
        // proxies find it through these, not through the (fake) HOME.
        for var in ["CARGO", "CARGO_HOME", "RUSTUP_HOME", "RUSTUP_TOOLCHAIN"] {
            if let Some(value) = std::env::var_os(var) {
                command.env(var, value);
            }
        }
        command
            .env("HOME", home)
            .env("XDG_CACHE_HOME", test_cache())
            .env("CI", "true")
            .env("NO_COLOR", "1")
            // Never a real deployment: without --sim, the targets are a loopback tripwire.
            .env("STAGING_CONTROL_BASE_URL", dead_target)
            .env("PROD_CONTROL_BASE_URL", dead_target)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        Cmd {
            command,
            timeout: DEFAULT_TIMEOUT,
            display: vec!["oa-validate".to_string()],
            stdin: None,
        }
    }

    pub fn arg(mut self, arg: impl AsRef<std::ffi::OsStr>) -> Self {
        self.display
            .push(arg.as_ref().to_string_lossy().into_owned());
        self.command.arg(arg);
        self
    }

    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        for a in args {
            self = self.arg(a);
        }
        self
    }

    /// `--out <path>`.
    pub fn out(self, path: &Path) -> Self {
        self.arg("--out").arg(path)
    }

    pub fn env(mut self, key: &str, value: impl AsRef<std::ffi::OsStr>) -> Self {
        self.command.env(key, value);
        self
    }

    /// Points the staging and prod control targets at a served sim.
    pub fn sim_targets(self, sim: &SimProcess) -> Self {
        self.env("STAGING_CONTROL_BASE_URL", &sim.staging_url)
            .env("PROD_CONTROL_BASE_URL", &sim.prod_url)
    }

    pub fn env_remove(mut self, key: &str) -> Self {
        self.command.env_remove(key);
        self
    }

    /// Feeds `text` on standard input (a pipe, not a terminal), then closes it.
    pub fn stdin(mut self, text: &str) -> Self {
        self.command.stdin(Stdio::piped());
        self.stdin = Some(text.as_bytes().to_vec());
        self
    }

    /// Limits the size of any file the child writes (`RLIMIT_FSIZE`), with `SIGXFSZ`
    /// ignored so an over-limit write fails with EFBIG like a full disk, instead of killing.
    #[cfg(unix)]
    pub fn file_size_limit(mut self, bytes: u64) -> Self {
        use std::os::unix::process::CommandExt;
        // SAFETY: only async-signal-safe calls between fork and exec.
        unsafe {
            self.command.pre_exec(move || {
                let limit = libc::rlimit {
                    rlim_cur: bytes as libc::rlim_t,
                    rlim_max: bytes as libc::rlim_t,
                };
                libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
                if libc::setrlimit(libc::RLIMIT_FSIZE, &limit) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        self
    }

    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Starts the child (for long-running commands such as `sim`); killed when dropped.
    pub fn spawn(mut self) -> ChildGuard {
        let child = self.command.spawn().expect("spawn oa-validate");
        ChildGuard { child: Some(child) }
    }

    /// Runs to completion, killing the child if it runs past the timeout.
    pub fn run(mut self) -> Run {
        let started = Instant::now();
        let mut child = self.command.spawn().expect("spawn oa-validate");
        if let (Some(text), Some(mut pipe)) = (self.stdin.take(), child.stdin.take()) {
            std::thread::spawn(move || {
                let _ = pipe.write_all(&text);
            });
        }
        let stdout = read_in_background(child.stdout.take().expect("stdout piped"));
        let stderr = read_in_background(child.stderr.take().expect("stderr piped"));
        let mut peak_rss_kib = None;
        let mut polled_kib: Option<u64> = None;
        let status = loop {
            if let Some((status, peak)) = try_wait_with_peak_rss(&mut child) {
                peak_rss_kib = own_peak(peak, polled_kib);
                break Some(status);
            }
            if let Some(hwm) = vm_hwm_kib(&format!("/proc/{}/status", child.id())) {
                polled_kib = Some(polled_kib.unwrap_or(0).max(hwm));
            }
            if started.elapsed() > self.timeout {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            std::thread::sleep(Duration::from_millis(10));
        };
        let elapsed = started.elapsed();
        let stdout = stdout.join().expect("stdout reader");
        let stderr = stderr.join().expect("stderr reader");
        let command = self.display.join(" ");
        let Some(status) = status else {
            panic!(
                "`{command}` ran past {:?} and was killed\n--- stdout\n{}\n--- stderr\n{}",
                self.timeout,
                String::from_utf8_lossy(&stdout),
                String::from_utf8_lossy(&stderr)
            );
        };
        Run {
            command,
            code: status.code(),
            stdout: String::from_utf8_lossy(&stdout).into_owned(),
            stderr: String::from_utf8_lossy(&stderr).into_owned(),
            elapsed,
            peak_rss_kib,
        }
    }
}

/// Reaps the child if it exited, with its peak resident set size (KiB) from `wait4`'s
/// rusage: the child's own figure, unlike `getrusage(RUSAGE_CHILDREN)`, which mixes in
/// every other child of the (multi-threaded) test process.
#[cfg(unix)]
fn try_wait_with_peak_rss(child: &mut Child) -> Option<(std::process::ExitStatus, Option<u64>)> {
    use std::os::unix::process::ExitStatusExt;
    let mut status: libc::c_int = 0;
    // SAFETY: rusage is plain data, fully written by wait4 on success.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: the pid is our own unreaped child; the pointers are valid for the call.
    let pid = unsafe {
        libc::wait4(
            child.id() as libc::pid_t,
            &mut status,
            libc::WNOHANG,
            &mut usage,
        )
    };
    if pid <= 0 {
        return None;
    }
    let peak = u64::try_from(usage.ru_maxrss).ok(); // Linux: KiB
    Some((std::process::ExitStatus::from_raw(status), peak))
}

/// `VmHWM` (KiB) of a `/proc/<pid>/status` file: the peak RSS of that process's own memory.
fn vm_hwm_kib(status_file: &str) -> Option<u64> {
    let text = std::fs::read_to_string(status_file).ok()?;
    let line = text.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// The child's own peak RSS. `wait4`'s ru_maxrss is not quite that: `exec` records the
/// spawning process's high-water mark into the child's (Linux `exec_mmap`, also after
/// `vfork`/`posix_spawn`), so in a full `cargo test` the figure was the test process's own
/// peak (~260 MB), not oa-validate's. The wait4 figure counts when it is above this test
/// process's peak (then it can only be the child's); otherwise the `VmHWM` polled while the
/// child ran (a lower bound for a run shorter than the polling interval).
fn own_peak(wait4_kib: Option<u64>, polled_kib: Option<u64>) -> Option<u64> {
    let parent_kib = vm_hwm_kib("/proc/self/status");
    match (wait4_kib, parent_kib) {
        (Some(w), Some(parent)) if w > parent => Some(w),
        (Some(w), None) => Some(w.max(polled_kib.unwrap_or(0))),
        _ => polled_kib,
    }
}

#[cfg(not(unix))]
fn try_wait_with_peak_rss(child: &mut Child) -> Option<(std::process::ExitStatus, Option<u64>)> {
    child
        .try_wait()
        .expect("wait for oa-validate")
        .map(|s| (s, None))
}

fn read_in_background(mut pipe: impl Read + Send + 'static) -> std::thread::JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = pipe.read_to_end(&mut buf);
        buf
    })
}

/// The lines of a child's stdout as they come. The thread keeps draining after the receiver
/// is dropped, so the child never meets a closed pipe.
pub fn lines_in_background(pipe: impl Read + Send + 'static) -> std::sync::mpsc::Receiver<String> {
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    std::thread::spawn(move || {
        use std::io::BufRead;
        for line in std::io::BufReader::new(pipe).lines() {
            let Ok(line) = line else { break };
            let _ = tx.send(line);
        }
    });
    rx
}

/// A child killed (and reaped) when dropped, also when the test panics.
pub struct ChildGuard {
    child: Option<Child>,
}

impl ChildGuard {
    pub fn child(&mut self) -> &mut Child {
        self.child.as_mut().expect("child is running")
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// What a finished command did.
#[derive(Debug)]
pub struct Run {
    pub command: String,
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
    /// Peak resident set size of the child in KiB (Linux `wait4`), when known.
    pub peak_rss_kib: Option<u64>,
}

impl Run {
    /// Asserts the exit code, showing everything the command printed when it differs.
    #[track_caller]
    pub fn expect_code(&self, code: i32) -> &Self {
        assert_eq!(
            self.code,
            Some(code),
            "`{}` exit code\n--- stdout\n{}\n--- stderr\n{}",
            self.command,
            self.stdout,
            self.stderr
        );
        self
    }

    /// The `Verdict: ...` line of stdout.
    #[track_caller]
    pub fn verdict_line(&self) -> &str {
        self.stdout
            .lines()
            .find(|l| l.starts_with("Verdict: "))
            .unwrap_or_else(|| panic!("no `Verdict:` line in stdout:\n{}", self.stdout))
    }

    #[track_caller]
    pub fn stdout_has(&self, needle: &str) -> &Self {
        assert!(
            self.stdout.contains(needle),
            "stdout of `{}` lacks {needle:?}\n--- stdout\n{}\n--- stderr\n{}",
            self.command,
            self.stdout,
            self.stderr
        );
        self
    }

    #[track_caller]
    pub fn stderr_has(&self, needle: &str) -> &Self {
        assert!(
            self.stderr.contains(needle),
            "stderr of `{}` lacks {needle:?}\n--- stdout\n{}\n--- stderr\n{}",
            self.command,
            self.stdout,
            self.stderr
        );
        self
    }
}

// ---------------------------------------------------------------------------------------------
// Evidence folder

/// Readers for an evidence folder.
pub struct Evidence {
    pub dir: PathBuf,
}

impl Evidence {
    pub fn new(dir: PathBuf) -> Self {
        Evidence { dir }
    }

    pub fn exists(&self) -> bool {
        self.dir.exists()
    }

    #[track_caller]
    pub fn read(&self, rel: &str) -> String {
        let path = self.dir.join(rel);
        std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
    }

    /// results.tsv as its raw text.
    pub fn tsv_text(&self) -> String {
        self.read("results.tsv")
    }

    /// results.tsv rows as maps keyed by the header names, in file order.
    #[track_caller]
    pub fn tsv_rows(&self) -> Vec<BTreeMap<String, String>> {
        parse_tsv(&self.tsv_text())
    }

    /// The results.tsv row of check `id`.
    #[track_caller]
    pub fn row(&self, id: &str) -> BTreeMap<String, String> {
        self.tsv_rows()
            .into_iter()
            .find(|r| r["check_id"] == id)
            .unwrap_or_else(|| panic!("no row for {id} in\n{}", self.tsv_text()))
    }

    /// (check id, status) of every results.tsv row.
    pub fn statuses(&self) -> Vec<(String, String)> {
        self.tsv_rows()
            .into_iter()
            .map(|r| (r["check_id"].clone(), r["status"].clone()))
            .collect()
    }

    #[track_caller]
    pub fn summary_json(&self) -> serde_json::Value {
        serde_json::from_str(&self.read("summary.json")).expect("summary.json parses")
    }

    /// `verdict.checks[]` entry of check `id` in summary.json.
    #[track_caller]
    pub fn json_check(&self, id: &str) -> serde_json::Value {
        let summary = self.summary_json();
        summary["verdict"]["checks"]
            .as_array()
            .expect("verdict.checks is an array")
            .iter()
            .find(|c| c["id"] == id)
            .cloned()
            .unwrap_or_else(|| panic!("no check {id} in summary.json verdict.checks"))
    }

    pub fn summary_md(&self) -> String {
        self.read("SUMMARY.md")
    }

    /// Every regular file of the folder, relative paths, sorted.
    pub fn files(&self) -> Vec<String> {
        let mut out = Vec::new();
        walk(&self.dir, &self.dir, &mut out);
        out.sort();
        out
    }
}

fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
    for entry in std::fs::read_dir(dir).expect("read evidence folder") {
        let entry = entry.expect("folder entry");
        let path = entry.path();
        if path.is_dir() {
            walk(root, &path, out);
        } else {
            let rel = path.strip_prefix(root).expect("inside root");
            out.push(rel.to_string_lossy().replace('\\', "/"));
        }
    }
}

/// Header + rows, each row a map header name -> field; every row must have all the fields.
#[track_caller]
pub fn parse_tsv(text: &str) -> Vec<BTreeMap<String, String>> {
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().expect("a header line").split('\t').collect();
    lines
        .map(|line| {
            let fields: Vec<&str> = line.split('\t').collect();
            assert_eq!(
                fields.len(),
                header.len(),
                "row {line:?} does not have the header's {} fields",
                header.len()
            );
            header
                .iter()
                .zip(fields)
                .map(|(h, f)| (h.to_string(), f.to_string()))
                .collect()
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Loopback listeners

/// A nonblocking listener that never answers: it only counts (and reads) what connected.
pub struct Tripwire {
    listener: TcpListener,
    seen: Mutex<Vec<Vec<u8>>>,
}

impl Default for Tripwire {
    fn default() -> Self {
        Self::new()
    }
}

impl Tripwire {
    pub fn new() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind tripwire");
        listener.set_nonblocking(true).expect("nonblocking");
        Tripwire {
            listener,
            seen: Mutex::new(Vec::new()),
        }
    }

    pub fn url(&self) -> String {
        format!(
            "http://{}",
            self.listener.local_addr().expect("tripwire address")
        )
    }

    /// Accepts every pending connection and returns what each one sent (all so far).
    pub fn connections(&self) -> Vec<Vec<u8>> {
        let mut seen = self.seen.lock().expect("tripwire lock");
        loop {
            match self.listener.accept() {
                Ok((mut stream, _)) => {
                    let _ = stream.set_nonblocking(false);
                    let _ = stream.set_read_timeout(Some(Duration::from_millis(200)));
                    let mut buf = Vec::new();
                    let mut chunk = [0u8; 4096];
                    while let Ok(n) = stream.read(&mut chunk) {
                        if n == 0 {
                            break;
                        }
                        buf.extend_from_slice(&chunk[..n]);
                    }
                    seen.push(buf);
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                Err(e) => panic!("tripwire accept: {e}"),
            }
        }
        seen.clone()
    }
}

/// A loopback HTTP server on its own origin that answers every request `200 ok` and
/// records the raw request heads.
pub struct Responder {
    addr: std::net::SocketAddr,
    requests: Arc<Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Default for Responder {
    fn default() -> Self {
        Self::new()
    }
}

impl Responder {
    pub fn new() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind responder");
        listener.set_nonblocking(true).expect("nonblocking");
        let addr = listener.local_addr().expect("responder address");
        let requests = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let requests = Arc::clone(&requests);
            let stop = Arc::clone(&stop);
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    match listener.accept() {
                        Ok((stream, _)) => {
                            if let Some(head) = answer(stream) {
                                requests.lock().expect("responder lock").push(head);
                            }
                        }
                        Err(_) => std::thread::sleep(Duration::from_millis(5)),
                    }
                }
            })
        };
        Responder {
            addr,
            requests,
            stop,
            thread: Some(thread),
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The raw request heads (request line and headers) received so far.
    pub fn requests(&self) -> Vec<String> {
        self.requests.lock().expect("responder lock").clone()
    }
}

fn answer(mut stream: TcpStream) -> Option<String> {
    stream.set_nonblocking(false).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = stream.read(&mut chunk).ok()?;
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let _ = stream.write_all(
        b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok",
    );
    Some(String::from_utf8_lossy(&buf).into_owned())
}

impl Drop for Responder {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// GET `url` with a throwaway runtime; returns (status, body).
pub fn http_get(url: &str) -> (u16, String) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    runtime.block_on(async {
        let client = reqwest::Client::builder()
            .no_proxy()
            .timeout(Duration::from_secs(10))
            .build()
            .expect("http client");
        let response = client.get(url).send().await.expect("GET succeeds");
        let status = response.status().as_u16();
        let body = response.text().await.expect("body");
        (status, body)
    })
}

// ---------------------------------------------------------------------------------------------
// Secrets

pub use secret_forms::secret_forms;

/// Panics naming the place and form if `text` holds `secret` in any form.
#[track_caller]
pub fn assert_no_secret(place: &str, text: &[u8], secret: &str) {
    let text = String::from_utf8_lossy(text);
    for (form, value) in secret_forms(secret) {
        if let Some(at) = text.find(&value) {
            let start = text[..at]
                .char_indices()
                .rev()
                .nth(60)
                .map_or(0, |(i, _)| i);
            let end = (at + value.len() + 60).min(text.len());
            let end = (end..=text.len())
                .find(|i| text.is_char_boundary(*i))
                .unwrap_or(text.len());
            panic!(
                "{place} leaks the secret ({form} form {value:?}): ...{}...",
                &text[start..end]
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Out-of-process sim

/// `oa-validate sim` running as a child, with the URLs its `export` lines announced.
/// The child is killed when this is dropped (also when the test fails).
pub struct SimProcess {
    _child: ChildGuard,
    pub staging_url: String,
    pub prod_url: String,
    pub offsite_url: String,
    /// Everything the sim printed before it was ready.
    pub stdout: String,
}

impl SimProcess {
    /// Starts `oa-validate sim <args>` with `env` and waits (up to 30 s) until both base URLs
    /// and the `# offsite` comment line were printed.
    #[track_caller]
    pub fn start(sb: &Sandbox, args: &[&str], env: &[(&str, &str)]) -> SimProcess {
        let mut cmd = sb.cmd().arg("sim").args(args);
        for (k, v) in env {
            cmd = cmd.env(k, v);
        }
        let mut guard = cmd.spawn();
        let stdout = guard.child().stdout.take().expect("sim stdout piped");
        // Keep stderr drained so a chatty sim can never block on a full pipe.
        let _stderr = read_in_background(guard.child().stderr.take().expect("sim stderr piped"));
        let rx = lines_in_background(stdout);
        let deadline = Instant::now() + Duration::from_secs(30);
        let (mut staging, mut prod, mut offsite) = (None, None, None);
        let mut printed = String::new();
        while staging.is_none() || prod.is_none() || offsite.is_none() {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = rx.recv_timeout(left).unwrap_or_else(|_| {
                panic!("`oa-validate sim` did not print its exports in time:\n{printed}")
            });
            printed.push_str(&line);
            printed.push('\n');
            if let Some(url) = line.strip_prefix("export STAGING_CONTROL_BASE_URL=") {
                staging = Some(url.trim().to_string());
            } else if let Some(url) = line.strip_prefix("export PROD_CONTROL_BASE_URL=") {
                prod = Some(url.trim().to_string());
            } else if line.starts_with("# offsite") {
                let url = line
                    .rsplit(' ')
                    .next()
                    .filter(|u| u.starts_with("http://"))
                    .unwrap_or_else(|| panic!("no URL in offsite line {line:?}"));
                offsite = Some(url.to_string());
            }
        }
        SimProcess {
            _child: guard,
            staging_url: staging.expect("staging url"),
            prod_url: prod.expect("prod url"),
            offsite_url: offsite.expect("offsite url"),
            stdout: printed,
        }
    }
}

/// The `export` lines `oa-validate sim <args>` prints, all of them, and the running sim.
pub fn sim_exports(sb: &Sandbox, args: &[&str]) -> (ChildGuard, BTreeMap<String, String>) {
    let mut guard = sb.cmd().arg("sim").args(args).spawn();
    let stdout = guard.child().stdout.take().expect("sim stdout");
    let rx = lines_in_background(stdout);
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut exports = BTreeMap::new();
    while exports.is_empty() {
        let left = deadline.saturating_duration_since(Instant::now());
        let line = rx
            .recv_timeout(left)
            .unwrap_or_else(|_| panic!("sim exports incomplete: {exports:?}"));
        if let Some((k, v)) = line.strip_prefix("export ").and_then(|l| l.split_once('=')) {
            exports.insert(k.to_string(), v.to_string());
        }
    }
    // The banner is one write: the lines after it (OA_REPO_ROOT, ...) are already there.
    while let Ok(line) = rx.recv_timeout(Duration::from_millis(300)) {
        if let Some((k, v)) = line.strip_prefix("export ").and_then(|l| l.split_once('=')) {
            exports.insert(k.to_string(), v.to_string());
        }
    }
    (guard, exports)
}

/// A loopback URL on which nothing listens (connections are refused at once).
pub fn refused_url() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("address");
    drop(listener);
    format!("http://{addr}")
}
