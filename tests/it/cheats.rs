//! The cheat-proof gate: every lane under `tests/fixtures/cheats/` tries to reach GO without
//! its required checks having run and passed. Each runs alone as the whole matrix
//! (`lanes/` of a sandbox) under `--gate --sim`; none may yield GO, and each must fail for
//! the reason its header names (`// expect-exit:` and `// expect-why:`). docs/reliability.md
//! has the table.

use crate::common;

use crate::common::Sandbox;
use std::path::PathBuf;
use std::time::Duration;

pub(crate) struct Cheat {
    file: String,
    source: String,
    exit: i32,
    why: String,
    env: Vec<(String, String)>,
}

fn header<'a>(source: &'a str, key: &str) -> Vec<&'a str> {
    source
        .lines()
        .filter_map(|l| l.strip_prefix(&format!("// {key}:")))
        .map(str::trim)
        .collect()
}

fn cheats() -> Vec<Cheat> {
    let dir = common::repo_root().join("tests/fixtures/cheats");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("read the cheats folder")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "rhai"))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|path| {
            let source = std::fs::read_to_string(&path).expect("read cheat");
            let file = path.file_name().unwrap().to_string_lossy().into_owned();
            let exit = header(&source, "expect-exit")
                .first()
                .and_then(|c| c.parse().ok())
                .unwrap_or_else(|| panic!("{file}: no `// expect-exit:` line"));
            let why = header(&source, "expect-why")
                .first()
                .unwrap_or_else(|| panic!("{file}: no `// expect-why:` line"))
                .to_string();
            let env = header(&source, "env")
                .iter()
                .filter_map(|kv| kv.split_once('='))
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
            Cheat {
                file,
                source,
                exit,
                why,
                env,
            }
        })
        .collect()
}

pub(crate) fn try_cheat(cheat: &Cheat) -> Result<(), String> {
    let sb = Sandbox::new();
    sb.write(&format!("lanes/{}", cheat.file), &cheat.source);
    // The cheat is locked (a lane that does not plan cannot be: the gate then stops at it):
    // the lock is never why the gate says no.
    let env: Vec<(&str, &str)> = cheat
        .env
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    sb.lock_lanes(&env);
    let out = sb.out("evidence");
    let mut cmd = sb
        .cmd()
        .args(["--gate", "--sim", "--lanes", "lanes"])
        .out(&out)
        .timeout(Duration::from_secs(60));
    for (k, v) in &cheat.env {
        cmd = cmd.env(k, v);
    }
    let run = cmd.run();
    let all = format!("{}\n{}", run.stdout, run.stderr);
    let shown = || format!("--- stdout\n{}\n--- stderr\n{}", run.stdout, run.stderr);
    if run.code == Some(0) || all.lines().any(|l| l.starts_with("Verdict: GO")) {
        return Err(format!("THE CHEAT WORKS: exit {:?}\n{}", run.code, shown()));
    }
    if run.code != Some(cheat.exit) {
        return Err(format!(
            "exit {:?}, expected {}\n{}",
            run.code,
            cheat.exit,
            shown()
        ));
    }
    if !all.contains(&cheat.why) {
        return Err(format!(
            "the output does not say why ({:?})\n{}",
            cheat.why,
            shown()
        ));
    }
    if run.code == Some(1) {
        // A run happened: NO-GO in the verdict line and in summary.json, evidence sealed.
        let ev = sb.evidence("evidence");
        let summary = ev.summary_json();
        if summary["verdict"]["decision"] != "NO-GO" {
            return Err(format!("summary.json verdict {}", summary["verdict"]));
        }
        if !ev.sums_verify() {
            return Err("SHA256SUMS does not verify".to_string());
        }
    } else if out.exists() {
        return Err("a refused or unplanned run left an evidence folder".to_string());
    }
    Ok(())
}

#[test]
fn no_cheat_reaches_go_and_each_names_why() {
    let cheats = cheats();
    assert!(cheats.len() >= 20, "only {} cheats", cheats.len());
    let results: Vec<(String, Result<(), String>)> = cheats
        .chunks(8)
        .flat_map(|chunk| {
            std::thread::scope(|s| {
                let handles: Vec<_> = chunk
                    .iter()
                    .map(|c| (c.file.clone(), s.spawn(move || try_cheat(c))))
                    .collect();
                handles
                    .into_iter()
                    .map(|(f, h)| (f, h.join().expect("cheat thread")))
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let broken: Vec<String> = results
        .iter()
        .filter_map(|(f, r)| r.as_ref().err().map(|e| format!("{f}: {e}")))
        .collect();
    assert!(
        broken.is_empty(),
        "{} of {} cheats:\n{}",
        broken.len(),
        results.len(),
        broken.join("\n\n")
    );
}

/// The plan compiles every lane once, before anything runs: deleting or emptying a lane file
/// during the run changes nothing — its checks run as planned and still fail.
#[test]
fn a_lane_deleted_during_the_run_still_runs_as_planned() {
    let sb = Sandbox::new();
    let lane = sb.write(
        "lanes/vanishing.rhai",
        r#"required("slow-first", || { sleep("1500ms"); assert(true, "slept"); });
required("fails-after", || { assert(false, "this lane's failure must still count"); });
"#,
    );
    sb.lock_lanes(&[]).expect_code(0);
    let out = sb.out("evidence");
    let child = {
        let cmd = sb
            .cmd()
            .args(["--gate", "--sim", "--lanes", "lanes"])
            .out(&out);
        std::thread::spawn(move || cmd.run())
    };
    // The evidence folder is created once the plan is fixed, just before the checks run.
    let waited = std::time::Instant::now();
    while !out.exists() && waited.elapsed() < Duration::from_secs(30) {
        std::thread::sleep(Duration::from_millis(10));
    }
    std::fs::write(&lane, "// emptied\n").expect("empty the lane");
    std::fs::remove_file(&lane).expect("delete the lane");
    let run = child.join().expect("run thread");
    run.expect_code(1)
        .stdout_has("[failed] fails-after (required)")
        .stdout_has("this lane's failure must still count");
    // The code frame comes from the planned source, not the (deleted) file.
    run.stdout_has("assert(false, \"this lane's failure must still count\")");
}

pub(crate) fn cheat(file: &str) -> Cheat {
    cheats()
        .into_iter()
        .find(|c| c.file == file)
        .unwrap_or_else(|| panic!("no cheat {file}"))
}
