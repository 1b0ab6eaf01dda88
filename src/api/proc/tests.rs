//! `proc::run` against real programs: exit codes, timeouts that end the whole process
//! group, background children, cancellation, quoting.

use super::*;
use crate::config::EnvSnapshot;
use std::sync::Arc;

fn test_host(runtime: &tokio::runtime::Runtime, env: EnvSnapshot) -> Arc<Host> {
    Arc::new(Host::with_defaults(
        Vec::new(),
        env,
        runtime.handle().clone(),
    ))
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime")
}

fn path_env() -> EnvSnapshot {
    EnvSnapshot::new([(
        "PATH".to_string(),
        "/usr/local/bin:/usr/bin:/bin".to_string(),
    )])
}

fn spec(program: &str, args: &[&str], timeout: Duration) -> ProcSpec {
    ProcSpec {
        program: program.to_string(),
        args: args.iter().map(|a| a.to_string()).collect(),
        env: Vec::new(),
        cwd: None,
        timeout,
    }
}

/// Live (non-zombie) processes whose process group is `pgid`, from /proc.
fn live_members(pgid: i32) -> Vec<i32> {
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return found;
    };
    for entry in entries.flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        // Fields after the parenthesised command: state ppid pgrp ...
        let Some(rest) = stat.rsplit_once(')').map(|(_, r)| r) else {
            continue;
        };
        let fields: Vec<&str> = rest.split_whitespace().collect();
        if fields.len() > 2 && fields[0] != "Z" && fields[2] == pgid.to_string() {
            found.push(pid);
        }
    }
    found
}

#[test]
fn exit_code_stdout_stderr_and_environment() {
    let rt = runtime();
    let host = test_host(&rt, path_env());
    let mut s = spec(
        "sh",
        &["-c", "echo out $GREETING; echo err >&2; exit 3"],
        Duration::from_secs(10),
    );
    s.env.push(("GREETING".into(), "hello".into()));
    let out = run(&host, &s).expect("runs");
    assert_eq!(out.code, Some(3));
    assert_eq!(out.stdout, "out hello\n");
    assert_eq!(out.stderr, "err\n");
    assert!(!out.success());
}

#[test]
fn a_missing_program_is_not_installed() {
    let rt = runtime();
    let host = test_host(&rt, path_env());
    let err = run(&host, &spec("oa-no-such-tool", &[], Duration::from_secs(5))).unwrap_err();
    assert_eq!(err, ProcError::NotInstalled("oa-no-such-tool".into()));
}

#[test]
#[cfg(target_os = "linux")]
fn a_timeout_ends_the_whole_process_group() {
    let rt = runtime();
    let host = test_host(&rt, path_env());
    // The shell's pid is the group id; print it so we can look for survivors.
    let started = Instant::now();
    let err = run(
        &host,
        &spec(
            "sh",
            &["-c", "echo $$; sleep 30 & sleep 30"],
            Duration::from_millis(300),
        ),
    )
    .unwrap_err();
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "returned promptly"
    );
    let ProcError::TimedOut { stdout, after, .. } = err else {
        panic!("expected a timeout, got {err:?}");
    };
    assert_eq!(after, Duration::from_millis(300));
    let pgid: i32 = stdout.trim().parse().expect("the shell printed its pid");
    // Killed processes are reaped by their parent or init; give that a moment.
    let deadline = Instant::now() + Duration::from_secs(3);
    let mut survivors = live_members(pgid);
    while !survivors.is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
        survivors = live_members(pgid);
    }
    assert!(
        survivors.is_empty(),
        "processes left in group {pgid}: {survivors:?}"
    );
}

#[test]
#[cfg(target_os = "linux")]
fn background_children_do_not_outlive_a_finished_program() {
    let rt = runtime();
    let host = test_host(&rt, path_env());
    let started = Instant::now();
    let out = run(
        &host,
        &spec(
            "sh",
            &["-c", "echo $$; sleep 30 &"],
            Duration::from_secs(10),
        ),
    )
    .expect("runs");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "did not wait for the orphan"
    );
    let pgid: i32 = out.stdout.trim().parse().expect("pid");
    let deadline = Instant::now() + Duration::from_secs(3);
    while !live_members(pgid).is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(live_members(pgid).is_empty());
}

#[test]
fn cancellation_ends_the_program() {
    let rt = runtime();
    let host = test_host(&rt, path_env());
    let cancel = host.services.cancel.clone();
    std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(200));
        cancel.cancel();
    });
    let started = Instant::now();
    let err = run(&host, &spec("sleep", &["30"], Duration::from_secs(30))).unwrap_err();
    assert_eq!(err, ProcError::Cancelled);
    assert!(started.elapsed() < Duration::from_secs(5));
}
