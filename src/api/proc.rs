//! `proc::` — run a local program with a timeout, in its own process group.
//!
//! The child starts in a new process group (`setpgid(0, 0)`), so a timeout, an interruption
//! or the end of the program ends everything it started: the whole group gets `SIGKILL`, and
//! so does every descendant that left the group (`setsid`): see [`crate::reap`].
//! Its environment is the run's environment snapshot (the one scripts read with `env()`)
//! plus the script's `env` option; argv and those extra variables are recorded in the
//! check's log, secret-named values masked (the log is redacted again when written).

use crate::api::{bind, script_error};
use crate::engine::context;
use crate::engine::host::Host;
use crate::wait::{self, Waited};
use rhai::plugin::*;
use rhai::{Array, Dynamic, EvalAltResult, Map, NativeCallContext};
use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncReadExt};

use crate::api::bind::Res;

/// Bytes of each output stream kept; the rest is read and dropped so the child never blocks.
pub const OUTPUT_CAP: usize = 8 * 1024 * 1024;
/// Bytes of each stream copied into the check's log.
const LOG_CAP: usize = 1024 * 1024;
/// How long to wait for the output pipes after the process group was ended: a descendant
/// that escaped the group (`setsid`) could hold them open forever.
const PIPE_GRACE: Duration = Duration::from_secs(2);

/// What to run.
#[derive(Debug, Clone)]
pub struct ProcSpec {
    pub program: String,
    pub args: Vec<String>,
    /// Added to (and overriding) the run's environment snapshot.
    pub env: Vec<(String, String)>,
    pub cwd: Option<PathBuf>,
    pub timeout: Duration,
}

/// How a finished program ended.
#[derive(Debug, Clone)]
pub struct ProcOutput {
    /// The exit code; `None` when a signal ended it.
    pub code: Option<i32>,
    pub signal: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    pub duration: Duration,
}

impl ProcOutput {
    pub fn success(&self) -> bool {
        self.code == Some(0)
    }
}

/// Why a program did not finish on its own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProcError {
    /// The program could not be found (the check is not checked here: `<program> not installed`).
    NotInstalled(String),
    /// It outlived its timeout; its process group was ended. Output so far is attached.
    TimedOut {
        after: Duration,
        stdout: String,
        stderr: String,
    },
    /// The run was interrupted; the process group was ended.
    Cancelled,
    /// Anything else (bad working directory, permission denied, ...).
    Failed(String),
}

/// Logs what is about to run: argv, working directory, extra variables (secret-named masked).
fn log_invocation(spec: &ProcSpec) {
    context::log(format!(
        "$ {}",
        crate::shell::line(&spec.program, &spec.args)
    ));
    if let Some(cwd) = &spec.cwd {
        context::log(format!("  cwd: {}", cwd.display()));
    }
    for (name, value) in &spec.env {
        let shown = if crate::config::is_secret_name(name) {
            crate::redact::MASK
        } else {
            value.as_str()
        };
        context::log(format!("  env: {name}={shown}"));
    }
}

fn log_stream(name: &str, text: &str) {
    if text.is_empty() {
        return;
    }
    let mut end = text.len().min(LOG_CAP);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    context::log(format!("--- {name} ---"));
    // A remnant of a secret at the cut is masked (the lines are redacted when written).
    let shown = match context::host() {
        Some(host) if end < text.len() => {
            host.services.redactor.mask_cut(&text[..end], false, true)
        }
        _ => text[..end].to_string(),
    };
    for line in shown.lines() {
        context::log(line.to_string());
    }
    if end < text.len() {
        context::log(format!(
            "--- {name}: {} more bytes not shown ---",
            text.len() - end
        ));
    }
}

/// Runs `spec` to completion, its timeout, or the run's interruption; records the invocation
/// and its output in the check's log. Blocks the calling (check) thread.
pub fn run_logged(host: &Host, spec: &ProcSpec) -> Result<ProcOutput, ProcError> {
    log_invocation(spec);
    let result = run(host, spec);
    match &result {
        Ok(out) => {
            let ended = match (out.code, out.signal) {
                (Some(code), _) => format!("exit code {code}"),
                (None, Some(signal)) => format!("ended by signal {signal}"),
                (None, None) => "ended".to_string(),
            };
            context::log(format!(
                "{} -> {ended} after {} ms",
                spec.program,
                out.duration.as_millis()
            ));
            log_stream("stdout", &out.stdout);
            log_stream("stderr", &out.stderr);
        }
        Err(ProcError::TimedOut {
            after,
            stdout,
            stderr,
        }) => {
            context::log(format!(
                "{} -> timed out after {}: process group ended",
                spec.program,
                humantime::format_duration(*after)
            ));
            log_stream("stdout", stdout);
            log_stream("stderr", stderr);
        }
        Err(ProcError::Cancelled) => context::log(format!(
            "{} -> interrupted: process group ended",
            spec.program
        )),
        Err(ProcError::NotInstalled(program)) => context::log(format!("{program} not installed")),
        Err(ProcError::Failed(message)) => context::log(format!("{} -> {message}", spec.program)),
    }
    result
}

/// Runs `spec` without logging (see [`run_logged`]).
pub fn run(host: &Host, spec: &ProcSpec) -> Result<ProcOutput, ProcError> {
    if let Some(cwd) = &spec.cwd
        && !cwd.is_dir()
    {
        return Err(ProcError::Failed(format!(
            "working directory {} does not exist",
            cwd.display()
        )));
    }
    let mut command = tokio::process::Command::new(&spec.program);
    command
        .args(&spec.args)
        .env_clear()
        .envs(host.env.iter())
        .envs(spec.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    #[cfg(unix)]
    command.process_group(0);
    if let Some(cwd) = &spec.cwd {
        command.current_dir(cwd);
    }
    // Inherited by every descendant, through `setsid` and `exec`: how they are found and
    // ended when the program ends (crate::reap). Set last, so no variable overrides it.
    let mark = crate::reap::new_mark();
    command.env(crate::reap::MARK_VAR, &mark);
    let cancel = host.services.cancel.clone();
    let timeout = spec.timeout;
    host.services.runtime.block_on(async move {
        let started = Instant::now();
        let mut child = command.spawn().map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => ProcError::NotInstalled(spec.program.clone()),
            _ => ProcError::Failed(format!("cannot start {}: {e}", spec.program)),
        })?;
        let group = child.id();
        let stdout = tokio::spawn(read_capped(child.stdout.take()));
        let stderr = tokio::spawn(read_capped(child.stderr.take()));
        let end = wait::bounded(timeout, &cancel, child.wait()).await;
        // Whatever happened, nothing the program started outlives it.
        if let Some(group) = group {
            kill_group(group);
        }
        if !matches!(end, Waited::Done(_)) {
            let _ = child.wait().await;
        }
        // ...not even a descendant that left the group (`setsid`): ended before the pipes
        // are read (it could hold them open) and before the check goes on.
        let escaped = crate::reap::end_marked(&mark);
        if escaped > 0 {
            context::log(format!(
                "{}: ended {escaped} process(es) it left running",
                spec.program
            ));
        }
        let stdout = collect(stdout).await;
        let stderr = collect(stderr).await;
        match end {
            Waited::Done(Ok(status)) => Ok(ProcOutput {
                code: status.code(),
                signal: exit_signal(&status),
                stdout,
                stderr,
                duration: started.elapsed(),
            }),
            Waited::Done(Err(e)) => Err(ProcError::Failed(format!(
                "waiting for {}: {e}",
                spec.program
            ))),
            Waited::Interrupted => Err(ProcError::Cancelled),
            Waited::TimedOut => Err(ProcError::TimedOut {
                after: timeout,
                stdout,
                stderr,
            }),
        }
    })
}

#[cfg(unix)]
fn exit_signal(status: &std::process::ExitStatus) -> Option<i32> {
    use std::os::unix::process::ExitStatusExt;
    status.signal()
}

#[cfg(not(unix))]
fn exit_signal(_: &std::process::ExitStatus) -> Option<i32> {
    None
}

/// SIGKILL to every process of the group `group` (the child's pid: it leads its own group).
#[cfg(unix)]
fn kill_group(group: u32) {
    if let Ok(pgid) = libc::pid_t::try_from(group) {
        // SAFETY: killpg only sends a signal; an empty group gives ESRCH, which is fine.
        unsafe {
            libc::killpg(pgid, libc::SIGKILL);
        }
    }
}

#[cfg(not(unix))]
fn kill_group(_: u32) {}

async fn read_capped(stream: Option<impl AsyncRead + Unpin>) -> Vec<u8> {
    let Some(mut stream) = stream else {
        return Vec::new();
    };
    let mut kept = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                let room = OUTPUT_CAP.saturating_sub(kept.len());
                kept.extend_from_slice(&buf[..n.min(room)]);
            }
        }
    }
    kept
}

async fn collect(task: tokio::task::JoinHandle<Vec<u8>>) -> String {
    let abort = task.abort_handle();
    match tokio::time::timeout(PIPE_GRACE, task).await {
        Ok(Ok(bytes)) => String::from_utf8_lossy(&bytes).into_owned(),
        Ok(Err(_)) => String::new(),
        Err(_) => {
            abort.abort();
            String::new()
        }
    }
}

/// Turns a [`ProcError`] into what a script sees: a skip, an interruption or an error.
pub(crate) fn proc_error(
    ctx: &NativeCallContext,
    verb: &str,
    error: ProcError,
) -> Box<EvalAltResult> {
    match error {
        ProcError::NotInstalled(program) => bind::missing_here(
            ctx,
            crate::outcome::Missing::program_not_installed(&program),
        ),
        ProcError::Cancelled => bind::interrupted(ctx),
        ProcError::TimedOut { after, .. } => script_error(
            ctx,
            format!(
                "{verb}: timed out after {}; its process group was ended",
                humantime::format_duration(after)
            ),
        ),
        ProcError::Failed(message) => script_error(ctx, format!("{verb}: {message}")),
    }
}

fn strings(ctx: &NativeCallContext, what: &str, values: Array) -> Res<Vec<String>> {
    values
        .into_iter()
        .map(|v| {
            if v.is_string() || v.is_int() || v.is_float() || v.is_bool() || v.is_char() {
                Ok(v.to_string())
            } else {
                Err(script_error(
                    ctx,
                    format!("{what} must be strings, not {}", v.type_name()),
                ))
            }
        })
        .collect()
}

fn read_spec(ctx: &NativeCallContext, program: &str, args: Array, opts: Map) -> Res<ProcSpec> {
    if program.is_empty() {
        return Err(script_error(ctx, "proc::run: empty program name"));
    }
    let mut spec = ProcSpec {
        program: program.to_string(),
        args: strings(ctx, "proc::run arguments", args)?,
        env: Vec::new(),
        cwd: None,
        timeout: context::remaining(),
    };
    for (key, value) in opts {
        let bad = |what: String| script_error(ctx, format!("proc::run option `{key}`: {what}"));
        match key.as_str() {
            "env" => {
                let map = value
                    .try_cast::<Map>()
                    .ok_or_else(|| bad("expected a map of variable names to values".into()))?;
                for (name, v) in map {
                    spec.env.push((name.to_string(), v.to_string()));
                }
            }
            "cwd" => spec.cwd = Some(PathBuf::from(value.to_string())),
            "timeout" => {
                let own = crate::api::core::parse_duration(&value).map_err(bad)?;
                spec.timeout = own.min(context::remaining());
            }
            other => {
                return Err(script_error(
                    ctx,
                    format!("unknown proc::run option `{other}` (expected env, cwd, timeout)"),
                ));
            }
        }
    }
    Ok(spec)
}

fn output_map(spec: &ProcSpec, out: ProcOutput) -> Map {
    let mut m = Map::new();
    m.insert(
        "code".into(),
        out.code
            .map(|c| Dynamic::from(i64::from(c)))
            .unwrap_or(Dynamic::UNIT),
    );
    m.insert(
        "signal".into(),
        out.signal
            .map(|s| Dynamic::from(i64::from(s)))
            .unwrap_or(Dynamic::UNIT),
    );
    m.insert("success".into(), out.success().into());
    m.insert(
        "duration_ms".into(),
        (out.duration.as_millis() as i64).into(),
    );
    m.insert(
        "command".into(),
        crate::shell::line(&spec.program, &spec.args).into(),
    );
    m.insert("stdout".into(), out.stdout.into());
    m.insert("stderr".into(), out.stderr.into());
    m
}

#[export_module]
pub mod proc_api {
    /// Runs `program` with `args` (an array of strings) and returns
    /// `#{ code, signal, success, stdout, stderr, duration_ms, command }` (`code` is `()` when
    /// a signal ended it). A non-zero exit is not an error: assert on `code` or `success`.
    /// A program that is not installed ends the check as not checked here (`<program> not installed`).
    #[rhai_fn(name = "run", return_raw)]
    pub fn run_args(
        ctx: NativeCallContext,
        program: &str,
        args: Array,
    ) -> Result<Map, Box<EvalAltResult>> {
        run_with(ctx, program, args, Map::new())
    }

    /// `proc::run` with options: `env` (map of extra variables), `cwd` (working directory),
    /// `timeout` ("30s"; never past the check's deadline, which is also the default). On
    /// timeout or interruption the program's whole process group is ended and the check errors.
    #[rhai_fn(name = "run", return_raw)]
    pub fn run_with(
        ctx: NativeCallContext,
        program: &str,
        args: Array,
        opts: Map,
    ) -> Result<Map, Box<EvalAltResult>> {
        let host = bind::in_check(&ctx, "proc::run")?;
        let spec = read_spec(&ctx, program, args, opts)?;
        match run_logged(&host, &spec) {
            Ok(out) => Ok(output_map(&spec, out)),
            Err(e) => Err(proc_error(&ctx, "proc::run", e)),
        }
    }
}

#[cfg(test)]
mod tests;
