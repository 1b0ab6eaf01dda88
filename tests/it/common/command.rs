//! The command builder: the real binary with a cleared environment and a timeout, its
//! child reaped (peak RSS measured) and its output read; and what a finished command did.

use super::*;
use std::io::{Read, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Cmd {
    command: Command,
    timeout: Duration,
    display: Vec<String>,
    stdin: Option<Vec<u8>>,
}

impl Cmd {
    pub(super) fn new(cwd: &Path, home: &Path, dead_target: &str) -> Self {
        Self::of(Path::new(BIN), cwd, home, dead_target)
    }

    pub(super) fn of(program: &Path, cwd: &Path, home: &Path, dead_target: &str) -> Self {
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

pub(crate) fn read_in_background(
    mut pipe: impl Read + Send + 'static,
) -> std::thread::JoinHandle<Vec<u8>> {
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
