//! An installed binary: `cargo install --path .` gives an `oa-validate` that works from any
//! directory: it carries its matrix (lanes, lock, stdlib) and the sim's fixture workspace, and
//! finds htmx in the per-user cache `oa-validate setup` installs into.

use crate::common::{self, Sandbox, repo_root};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// `cargo install --path . --root ROOT` (release, with the lock file, offline), building in
/// the suite's own target folder: its release build is the one `cargo run --release -- --sim`
/// (the README's first command, which .ci/run runs first) left there, so the install only
/// copies it out. The test is ignored by `cargo test`: a second full build while the suite's
/// timed tests run would starve them on a 2-core machine; .ci/run runs it alone afterwards
/// (`cargo test --test it install -- --ignored`).
fn cargo_install(root: &std::path::Path) -> Duration {
    let target = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("target/tmp is inside the target folder")
        .to_path_buf();
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let started = Instant::now();
    let mut command = Command::new(cargo);
    // A user's environment, not the test run's: cargo test sets variables (CARGO_PKG_*,
    // CARGO_MANIFEST_DIR, ...) that build scripts read, and inheriting them would make cargo
    // rebuild dependencies on every run.
    command.env_clear();
    for var in [
        "PATH",
        "HOME",
        "CARGO_HOME",
        "RUSTUP_HOME",
        "RUSTUP_TOOLCHAIN",
        "RUSTFLAGS",
        "TMPDIR",
    ] {
        if let Some(value) = std::env::var_os(var) {
            command.env(var, value);
        }
    }
    let mut child = command
        .args(["install", "--path"])
        .arg(repo_root())
        .arg("--root")
        .arg(root)
        .args(["--locked", "--offline", "--quiet", "--force"])
        .env("CARGO_TARGET_DIR", &target)
        .current_dir(root.parent().expect("a parent"))
        .stdin(Stdio::null())
        .spawn()
        .expect("run cargo install");
    loop {
        if let Some(status) = child.try_wait().expect("wait for cargo install") {
            assert!(status.success(), "cargo install failed: {status}");
            return started.elapsed();
        }
        if started.elapsed() > Duration::from_secs(1500) {
            let _ = child.kill();
            panic!("cargo install took over 25 minutes");
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
#[ignore = "a second build of the binary: .ci/run runs it alone, after the suite"]
fn an_installed_binary_runs_the_sim_to_go_from_an_empty_folder() {
    common::ensure_setup();
    let sb = Sandbox::new();
    let root = sb.path().join("install-root");
    std::fs::create_dir_all(&root).expect("install root");
    let took = cargo_install(&root);
    eprintln!("cargo install took {took:?}");
    let installed = root.join("bin/oa-validate");
    assert!(
        installed.is_file(),
        "cargo install put the binary in ROOT/bin"
    );

    let empty = sb.path().join("empty");
    std::fs::create_dir_all(&empty).expect("empty folder");
    let out = sb.out("evidence");
    let run = sb
        .cmd_of(&installed, &empty)
        .arg("--sim")
        .out(&out)
        .timeout(Duration::from_secs(300))
        .run();
    run.expect_code(0);
    assert_eq!(run.verdict_line(), "Verdict: GO");
    run.stdout_has("Matrix: lanes/matrix.lock (built in) sha256:")
        .stdout_has("(matches)");
    // The whole built-in matrix ran, the local lanes on the fixture workspace from the cache.
    let tsv = std::fs::read_to_string(out.join("results.tsv")).expect("results.tsv");
    for check in [
        "control-staging-health",
        "control-prod-htmx-browser-smoke",
        "runtime-migration-drift",
    ] {
        assert!(
            tsv.lines()
                .any(|l| l.starts_with(&format!("{check}\trequired\tpassed\t"))),
            "{check} passed:\n{tsv}"
        );
    }
    assert_eq!(
        std::fs::read_dir(&empty).expect("read").count(),
        0,
        "nothing written to the working directory"
    );
    // `list` and the gate's lock work from there too.
    sb.cmd_of(&installed, &empty)
        .arg("list")
        .run()
        .expect_code(0)
        .stdout_has("control-staging-health");
}
