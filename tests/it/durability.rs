//! Evidence durability: an unwritable `--out` or a full disk is a clear error and a non-zero
//! exit, never a GO without its evidence; SHA256SUMS detects a change of any byte of any file.
//! (Atomic writes themselves: unit tests in src/evidence/write.rs.)

use crate::common::Sandbox;

const PASSING: &str = "required(\"passes\", || {\n    let s = \"x\";\n    while s.len() < 200000 { s += s; }\n    evidence(\"big.txt\", s);\n    assert(true, \"fine\");\n});\n";

#[test]
fn an_unwritable_out_is_a_clear_error_and_never_go() {
    let sb = Sandbox::new();
    sb.write("pass.rhai", PASSING);
    // A file where a folder must be: no permission trick (the tests may run as root).
    let blocker = sb.write("not-a-folder", "x");
    let run = sb
        .cmd()
        .arg("pass.rhai")
        .out(&blocker.join("evidence"))
        .run();
    run.expect_code(2).stderr_has("cannot write evidence");
    assert!(!run.stdout.contains("Verdict: GO"), "{}", run.stdout);
}

/// A full disk, simulated with a file-size limit on the child (`RLIMIT_FSIZE`; mounting a
/// tiny tmpfs needs privileges a CI container may not have): the 200 kB artifact cannot be
/// written, so a run whose checks all passed still must not say GO.
#[test]
fn a_full_disk_is_a_clear_error_and_never_go() {
    let sb = Sandbox::new();
    sb.write("pass.rhai", PASSING);
    let run = sb
        .cmd()
        .arg("pass.rhai")
        .out(&sb.out("evidence"))
        .file_size_limit(64 * 1024)
        .run();
    run.expect_code(2)
        .stderr_has("the evidence folder is incomplete")
        .stderr_has("big.txt");
    assert!(!run.stdout.contains("Verdict: GO"), "{}", run.stdout);
    // Without the limit the same run is a GO (the limit is what made it fail).
    let run = sb.cmd().arg("pass.rhai").out(&sb.out("evidence-ok")).run();
    run.expect_code(0);
}

#[test]
fn sha256sums_detects_a_change_of_any_byte_in_any_file() {
    let sb = Sandbox::new();
    let out = sb.out("evidence");
    sb.cmd_in_repo().arg("--sim").out(&out).run().expect_code(0);
    let ev = sb.evidence("evidence");
    let verify = || {
        std::process::Command::new("sha256sum")
            .args(["-c", "--quiet", "SHA256SUMS"])
            .current_dir(&ev.dir)
            .output()
            .expect("sha256sum")
            .status
            .success()
    };
    assert!(verify(), "a fresh evidence folder verifies");
    let files: Vec<String> = ev
        .files()
        .into_iter()
        .filter(|f| f != "SHA256SUMS")
        .collect();
    assert!(files.len() >= 8, "{files:?}");
    for file in &files {
        let path = ev.dir.join(file);
        let original = std::fs::read(&path).expect("read");
        for at in [0, original.len() / 2, original.len().saturating_sub(1)] {
            let mut changed = original.clone();
            changed[at] ^= 0x01;
            std::fs::write(&path, &changed).expect("change a byte");
            assert!(!verify(), "changing byte {at} of {file} went unnoticed");
        }
        std::fs::write(&path, &original).expect("restore");
    }
    assert!(verify(), "restored folder verifies again");
}
