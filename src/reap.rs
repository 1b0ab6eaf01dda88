//! Nothing a check starts outlives it (issue 13, finding 10).
//!
//! `proc::run` (and `cargo::test` on it) starts its program in a new process group and ends
//! the group when the program ends. A descendant that called `setsid` (or `setpgid`) left the
//! group, survived, and could rewrite the evidence after the verdict. Three parts close that:
//!
//! - oa-validate is a *child subreaper* ([`become_subreaper`]): an orphaned descendant is
//!   re-parented to it, not to init, so it stays in oa-validate's process tree;
//! - every program `proc::run` starts carries a mark in its environment ([`MARK_VAR`]), which
//!   its descendants inherit through `setsid`, double forks and `exec`. When the program ends,
//!   [`end_marked`] ends every process carrying its mark and every descendant of one (walking
//!   `/proc`), before the check goes on;
//! - at the end of a run, before the evidence is sealed, [`end_all_descendants`] ends whatever
//!   is left in oa-validate's tree (a descendant that also cleared its environment).
//!
//! Ended processes adopted by oa-validate are reaped (`waitpid` on their pid only: the
//! children tokio and std wait for are never touched while they run).

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// The environment variable marking a program started by `proc::run` and its descendants.
pub const MARK_VAR: &str = "OA_VALIDATE_PROC";

/// How long ending a tree may take (killing is immediate; this bounds a fork bomb).
pub const END_LIMIT: Duration = Duration::from_secs(2);

/// Makes this process the reaper of its orphaned descendants (Linux `PR_SET_CHILD_SUBREAPER`).
/// Returns whether it is one.
pub fn become_subreaper() -> bool {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: prctl with PR_SET_CHILD_SUBREAPER only sets a flag on this process.
        unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0 }
    }
    #[cfg(not(target_os = "linux"))]
    false
}

/// A new mark for one program: unique within the run (this process's id and a counter).
pub fn new_mark() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    format!(
        "{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

#[derive(Debug, Clone, Copy)]
struct Proc {
    pid: i32,
    ppid: i32,
    zombie: bool,
}

/// Every process of `/proc` (pid, parent, whether it is a zombie).
fn scan() -> Vec<Proc> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(Result::ok)
        .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
        .filter_map(|pid| {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
            // `pid (comm) S ppid ...`: comm may hold spaces and parentheses.
            let rest = &stat[stat.rfind(')')? + 1..];
            let mut fields = rest.split_whitespace();
            let state = fields.next()?;
            let ppid = fields.next()?.parse().ok()?;
            Some(Proc {
                pid,
                ppid,
                zombie: state == "Z" || state == "X",
            })
        })
        .collect()
}

fn has_mark(pid: i32, entry: &[u8]) -> bool {
    std::fs::read(format!("/proc/{pid}/environ"))
        .is_ok_and(|env| env.split(|b| *b == 0).any(|var| var == entry))
}

/// `roots` and every live descendant of one of them in `procs`.
fn with_descendants(procs: &[Proc], roots: impl IntoIterator<Item = i32>) -> HashSet<i32> {
    let mut children: HashMap<i32, Vec<i32>> = HashMap::new();
    for p in procs.iter().filter(|p| !p.zombie) {
        children.entry(p.ppid).or_default().push(p.pid);
    }
    let mut found: HashSet<i32> = HashSet::new();
    let mut stack: Vec<i32> = roots.into_iter().collect();
    while let Some(pid) = stack.pop() {
        if found.insert(pid) {
            stack.extend(children.get(&pid).into_iter().flatten().copied());
        }
    }
    found
}

/// SIGKILLs `targets` (never this process) round after round, as long as `select` finds
/// any, reaping the ended ones this process adopted; at most `limit`. Returns how many
/// processes were ended.
fn end_while(limit: Duration, mut select: impl FnMut(&[Proc]) -> HashSet<i32>) -> usize {
    let me = std::process::id() as i32;
    let deadline = Instant::now() + limit;
    let mut ended: HashSet<i32> = HashSet::new();
    loop {
        let procs = scan();
        reap_adopted(&procs, me, &ended);
        let mut targets = select(&procs);
        targets.remove(&me);
        if targets.is_empty() || Instant::now() >= deadline {
            break;
        }
        for pid in targets {
            // SAFETY: kill only sends a signal; a pid gone meanwhile gives ESRCH.
            unsafe {
                libc::kill(pid, libc::SIGKILL);
            }
            ended.insert(pid);
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    reap_adopted(&scan(), me, &ended);
    ended.len()
}

/// `waitpid` on each zombie child of this process that it ended.
fn reap_adopted(procs: &[Proc], me: i32, ended: &HashSet<i32>) {
    for p in procs {
        if p.zombie && p.ppid == me && ended.contains(&p.pid) {
            let mut status = 0;
            // SAFETY: waits for one specific, already dead child; WNOHANG never blocks.
            unsafe {
                libc::waitpid(p.pid, &mut status, libc::WNOHANG);
            }
        }
    }
}

/// Ends every process whose environment carries `MARK_VAR=mark`, and every descendant of one
/// (whatever its session or group). Returns how many were ended.
pub fn end_marked(mark: &str) -> usize {
    if !cfg!(target_os = "linux") {
        return 0;
    }
    let entry = format!("{MARK_VAR}={mark}").into_bytes();
    end_while(END_LIMIT, |procs| {
        let marked = procs
            .iter()
            .filter(|p| !p.zombie && has_mark(p.pid, &entry))
            .map(|p| p.pid);
        with_descendants(procs, marked)
    })
}

/// Ends every descendant of this process (the end of a run: nothing it started may outlive
/// it, and nothing may touch the evidence once it is sealed). Returns how many were ended.
pub fn end_all_descendants() -> usize {
    if !cfg!(target_os = "linux") {
        return 0;
    }
    let me = std::process::id() as i32;
    end_while(END_LIMIT, |procs| {
        let children = procs
            .iter()
            .filter(|p| !p.zombie && p.ppid == me)
            .map(|p| p.pid);
        let mut all = with_descendants(procs, children.collect::<Vec<_>>());
        all.remove(&me);
        all
    })
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    #[test]
    fn a_process_with_parentheses_in_its_name_is_parsed() {
        let me = std::process::id() as i32;
        let procs = scan();
        let mine = procs
            .iter()
            .find(|p| p.pid == me)
            .expect("this process in /proc");
        assert!(mine.ppid > 0 && !mine.zombie);
    }

    #[test]
    fn a_marked_process_that_left_its_session_is_ended() {
        let mark = new_mark();
        // The shell starts a `setsid` sleeper and exits at once: the sleeper is in another
        // session and process group, its parent gone.
        let status = std::process::Command::new("sh")
            .args(["-c", "setsid sleep 300 >/dev/null 2>&1 < /dev/null &"])
            .env(MARK_VAR, &mark)
            .status()
            .expect("sh");
        assert!(status.success());
        let entry = format!("{MARK_VAR}={mark}").into_bytes();
        let started = Instant::now();
        let alive = || scan().iter().any(|p| !p.zombie && has_mark(p.pid, &entry));
        while !alive() && started.elapsed() < Duration::from_secs(5) {
            std::thread::sleep(Duration::from_millis(10));
        }
        assert!(alive(), "the sleeper started");
        assert!(end_marked(&mark) >= 1);
        assert!(!alive(), "the sleeper was ended");
    }
}
