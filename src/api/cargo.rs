//! `cargo::` — run named tests of a Cargo manifest and verify every one of them ran and passed.
//!
//! `cargo test NAME` is a substring filter: a renamed or removed test matches nothing, zero
//! tests run, and cargo exits 0. The upstream harness passed in that case. Here every name is
//! matched exactly (`-- --exact`) and a name that did not run fails the check, saying which.

use crate::api::assert::{record_failure, record_pass};
use crate::api::bind;
use crate::api::proc::{ProcError, ProcSpec, proc_error, run, run_logged};
use crate::api::script_error;
use crate::engine::context;
use crate::engine::host::Host;
use crate::outcome::Missing;
use rhai::plugin::*;
use rhai::{Array, Dynamic, EvalAltResult, Map, NativeCallContext};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::api::bind::Res;

/// Default timeout of `cargo::test`: the first run compiles the crate and its dependencies.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(20 * 60);
/// The variable naming the checkout whose tests run (relative manifests resolve against it).
pub use crate::config::REPO_ROOT_VAR;
/// The artifact recording which tree was tested.
pub const COMMIT_EVIDENCE: &str = "tested-commit.txt";

/// The outcome of one test as libtest reported it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TestOutcome {
    Passed,
    Failed,
    Ignored,
}

impl TestOutcome {
    fn as_str(self) -> &'static str {
        match self {
            TestOutcome::Passed => "ok",
            TestOutcome::Failed => "FAILED",
            TestOutcome::Ignored => "ignored",
        }
    }
}

/// What libtest printed, summed over every test binary cargo ran.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct LibtestReport {
    /// Per test name; a name reported by two binaries keeps its worst outcome.
    pub tests: BTreeMap<String, TestOutcome>,
    pub passed: u64,
    pub failed: u64,
    pub ignored: u64,
    pub filtered_out: u64,
    /// Number of `running N tests` headers seen (test binaries that started).
    pub binaries: u64,
    /// Where the `test NAME ... ok` lines disagree with libtest's own counts (`running N
    /// tests`, `test result: ... P passed; F failed; I ignored; M measured`), or appear outside
    /// a binary's output. A tested process that writes to the real stdout (a spawned child's
    /// output is not captured by libtest) could otherwise fake a test that no longer exists
    /// (issue 13, finding 14). Any entry fails the check.
    pub disagreements: Vec<String>,
}

/// One test binary's output, from `running N tests` to `test result:`.
#[derive(Default)]
struct Block {
    announced: u64,
    passed: u64,
    failed: u64,
    ignored: u64,
    /// Inside the `failures:` / `successes:` sections: captured output, not results.
    in_sections: bool,
}

/// The counts of a `test result:` line: (passed, failed, ignored, measured, filtered out).
fn summary_counts(summary: &str) -> [u64; 5] {
    let mut counts = [0u64; 5];
    for part in summary.split(';') {
        let words: Vec<&str> = part.split_whitespace().collect();
        // "ok. 1 passed" / "FAILED. 1 passed" / "0 failed" / "3 filtered out"
        let Some(pos) = words.iter().position(|w| w.parse::<u64>().is_ok()) else {
            continue;
        };
        let n: u64 = words[pos].parse().unwrap_or(0);
        let slot = match words.get(pos + 1).copied() {
            Some("passed") => 0,
            Some("failed") => 1,
            Some("ignored") => 2,
            Some("measured") => 3,
            Some("filtered") => 4,
            _ => continue,
        };
        counts[slot] += n;
    }
    counts
}

/// `running N tests` (or `running 1 test`): N.
fn announced(line: &str) -> Option<u64> {
    let n = line.strip_prefix("running ")?;
    let n = n
        .strip_suffix(" tests")
        .or_else(|| n.strip_suffix(" test"))?;
    n.parse().ok()
}

/// Parses libtest's human output (`test NAME ... ok`, `test result: ...`), checking each
/// binary's lines against its own counts.
pub fn parse_libtest(output: &str) -> LibtestReport {
    let mut report = LibtestReport::default();
    let mut block: Option<Block> = None;
    for line in output.lines() {
        let line = line.trim_end();
        if let Some(n) = announced(line) {
            if block.is_some() {
                report.disagreements.push(format!(
                    "a `{line}` header inside test binary {}'s output, before its `test result`",
                    report.binaries
                ));
            }
            report.binaries += 1;
            block = Some(Block {
                announced: n,
                ..Block::default()
            });
        } else if let Some(summary) = line.strip_prefix("test result: ") {
            let [passed, failed, ignored, measured, filtered] = summary_counts(summary);
            report.passed += passed;
            report.failed += failed;
            report.ignored += ignored;
            report.filtered_out += filtered;
            let Some(b) = block.take() else {
                report.disagreements.push(format!(
                    "a `test result` line outside any test binary's output: {line}"
                ));
                continue;
            };
            let n = report.binaries;
            if (b.passed, b.failed, b.ignored) != (passed, failed, ignored) {
                report.disagreements.push(format!(
                    "test binary {n}: its lines say {} passed, {} failed, {} ignored; its `test result` says {passed}, {failed}, {ignored}",
                    b.passed, b.failed, b.ignored
                ));
            }
            if b.announced != passed + failed + ignored + measured {
                report.disagreements.push(format!(
                    "test binary {n}: `running {} tests`, but its `test result` counts {}",
                    b.announced,
                    passed + failed + ignored + measured
                ));
            }
        } else if line == "failures:" || line == "successes:" {
            if let Some(b) = block.as_mut() {
                b.in_sections = true;
            }
        } else if let Some(rest) = line.strip_prefix("test ")
            && let Some((name, result)) = rest.rsplit_once(" ... ")
        {
            let outcome = if result.starts_with("ok") {
                TestOutcome::Passed
            } else if result.starts_with("FAILED") {
                TestOutcome::Failed
            } else if result.starts_with("ignored") {
                TestOutcome::Ignored
            } else {
                continue;
            };
            let Some(b) = block.as_mut() else {
                report.disagreements.push(format!(
                    "`{line}` outside any test binary's output (not libtest's)"
                ));
                continue;
            };
            if b.in_sections {
                continue;
            }
            match outcome {
                TestOutcome::Passed => b.passed += 1,
                TestOutcome::Failed => b.failed += 1,
                TestOutcome::Ignored => b.ignored += 1,
            }
            let entry = report.tests.entry(name.to_string()).or_insert(outcome);
            if outcome == TestOutcome::Failed || *entry == TestOutcome::Ignored {
                *entry = outcome;
            }
        }
    }
    if block.is_some() {
        report.disagreements.push(format!(
            "test binary {} printed no `test result` line",
            report.binaries
        ));
    }
    report
}

/// The repository root from `OA_REPO_ROOT`.
fn repo_root(host: &Host) -> Option<PathBuf> {
    host.env.get_nonempty(REPO_ROOT_VAR).map(PathBuf::from)
}

/// `git rev-parse HEAD` of the tree holding `dir` (plus `-dirty` when any tracked file of the
/// repository has local changes),
/// or `unknown` when it is not a git checkout or git is missing.
pub fn tested_commit(host: &Host, dir: &Path) -> String {
    let git = |args: &[&str]| {
        run(
            host,
            &ProcSpec {
                program: "git".to_string(),
                args: args.iter().map(|a| a.to_string()).collect(),
                env: Vec::new(),
                cwd: Some(dir.to_path_buf()),
                timeout: Duration::from_secs(10).min(context::remaining()),
            },
        )
        .ok()
        .filter(|out| out.success())
        .map(|out| out.stdout.trim().to_string())
    };
    match git(&["rev-parse", "HEAD"]) {
        Some(sha) if !sha.is_empty() => {
            // The whole repository, not only `dir`: the tests compile against the workspace's
            // root Cargo.toml, its lock and other crates (a trimmed workspace once passed as
            // clean; docs/interop.md). `:/` is git's pathspec for the top of the tree.
            let dirty = git(&["status", "--porcelain", "--untracked-files=no", ":/"])
                .is_some_and(|s| !s.is_empty());
            if dirty { format!("{sha}-dirty") } else { sha }
        }
        _ => "unknown".to_string(),
    }
}

fn record_commit_evidence(root: Option<&Path>, manifest: &Path, commit: &str) {
    let text = format!(
        "commit: {commit}\nrepository: {}\nmanifest: {}\n",
        root.map(|r| r.display().to_string())
            .unwrap_or_else(|| "-".to_string()),
        manifest.display()
    );
    context::log(format!("tested tree: {commit} ({})", manifest.display()));
    context::with_check(|c| {
        match c
            .record
            .artifacts
            .iter_mut()
            .find(|(name, _)| name == COMMIT_EVIDENCE)
        {
            // Several cargo::test calls in one check: one file listing each tested manifest.
            Some((_, existing)) if !existing.contains(&text) => existing.push_str(&text),
            Some(_) => {}
            None => c.record.artifacts.push((COMMIT_EVIDENCE.to_string(), text)),
        }
    });
}

/// The cargo `cargo::test` runs: `$CARGO`, else `cargo` on PATH.
fn cargo_program(host: &Host) -> String {
    host.env
        .get_nonempty("CARGO")
        .unwrap_or("cargo")
        .to_string()
}

/// How long `cargo --version` may take before a run starts (rustup may sync a toolchain
/// manifest, but must not hold up the run).
const PROBE_TIMEOUT: Duration = Duration::from_secs(30);

/// What keeps `cargo::test` from running on this machine, if anything: `cargo --version`, run
/// before the first check so that a run says it up front rather than as a failed check.
pub fn missing_here(host: &Host) -> Option<Missing> {
    let program = cargo_program(host);
    let spec = ProcSpec {
        program: program.clone(),
        args: vec!["--version".to_string()],
        // Asks, never installs: a rust-toolchain file nearby must not start a download.
        env: vec![("RUSTUP_AUTO_INSTALL".to_string(), "0".to_string())],
        cwd: None,
        timeout: PROBE_TIMEOUT,
    };
    match run(host, &spec) {
        Err(ProcError::NotInstalled(_)) => Some(Missing::program_not_installed(&program)),
        Ok(out) if !out.success() => Some(rustup_gap(&program, &out.stderr).unwrap_or_else(|| {
            let why = first_error_line(&out.stderr)
                .map(str::to_string)
                .unwrap_or_else(|| format!("`{program} --version` failed"));
            Missing::program_unusable(&program, &why, "repair the Rust installation (rustup.rs)")
        })),
        // A probe that timed out or was interrupted proves nothing: the check will say.
        _ => None,
    }
}

/// rustup's proxy for a toolchain that is not there: `cargo` exists but cannot run a build on
/// this machine (rustup installed without a default toolchain, or a pinned toolchain missing).
fn rustup_gap(program: &str, stderr: &str) -> Option<Missing> {
    if stderr.contains("no default is configured") || stderr.contains("no default toolchain") {
        return Some(Missing::program_unusable(
            program,
            "rustup has no default toolchain",
            "run `rustup default stable`",
        ));
    }
    let line = stderr
        .lines()
        .find(|l| l.contains("toolchain '") && l.contains("is not installed"))?;
    let toolchain = line.split('\'').nth(1)?;
    Some(Missing::program_unusable(
        program,
        &format!("rustup toolchain {toolchain} is not installed"),
        &format!("run `rustup toolchain install {toolchain}`"),
    ))
}

/// The first `error...` line of cargo's stderr (a compile error), for a one-line message.
fn first_error_line(stderr: &str) -> Option<&str> {
    stderr
        .lines()
        .map(str::trim)
        .find(|l| l.starts_with("error"))
}

struct TestOptions {
    timeout: Duration,
    args: Vec<String>,
    env: Vec<(String, String)>,
}

fn read_options(ctx: &NativeCallContext, opts: Map) -> Res<TestOptions> {
    let mut options = TestOptions {
        timeout: DEFAULT_TIMEOUT,
        args: Vec::new(),
        env: Vec::new(),
    };
    for (key, value) in opts {
        let bad = |what: String| script_error(ctx, format!("cargo::test option `{key}`: {what}"));
        match key.as_str() {
            "timeout" => options.timeout = crate::api::core::parse_duration(&value).map_err(bad)?,
            "args" => {
                let items = value
                    .try_cast::<Array>()
                    .ok_or_else(|| bad("expected an array of strings".into()))?;
                options.args = items.into_iter().map(|v| v.to_string()).collect();
            }
            "env" => {
                let map = value
                    .try_cast::<Map>()
                    .ok_or_else(|| bad("expected a map of variable names to values".into()))?;
                options.env = map
                    .into_iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect();
            }
            other => {
                return Err(script_error(
                    ctx,
                    format!("unknown cargo::test option `{other}` (expected timeout, args, env)"),
                ));
            }
        }
    }
    Ok(options)
}

fn run_tests(ctx: &NativeCallContext, manifest: &str, names: Array, opts: Map) -> Res<Map> {
    let host = bind::in_check(ctx, "cargo::test")?;
    let options = read_options(ctx, opts)?;
    let names: Vec<String> = names.into_iter().map(|n| n.to_string()).collect();
    if names.is_empty() || names.iter().any(|n| n.trim().is_empty()) {
        return Err(script_error(
            ctx,
            "cargo::test needs at least one test name, and no empty name (an empty filter runs every test)",
        ));
    }
    let root = repo_root(&host);
    let manifest_path = PathBuf::from(manifest);
    let manifest_path = if manifest_path.is_absolute() {
        manifest_path
    } else {
        match &root {
            Some(root) => root.join(manifest_path),
            None => {
                return Err(script_error(
                    ctx,
                    format!(
                        "cargo::test: {REPO_ROOT_VAR} is unset: set it to the checkout whose {manifest} to test"
                    ),
                ));
            }
        }
    };
    if !manifest_path.is_file() {
        return Err(script_error(
            ctx,
            format!(
                "cargo::test: manifest {} not found",
                manifest_path.display()
            ),
        ));
    }
    let tree = manifest_path
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."));
    let commit = tested_commit(&host, &tree);
    record_commit_evidence(root.as_deref(), &manifest_path, &commit);

    let program = cargo_program(&host);
    let mut args = vec![
        "test".to_string(),
        "--manifest-path".to_string(),
        manifest_path.display().to_string(),
        "--color".to_string(),
        "never".to_string(),
        "--no-fail-fast".to_string(),
    ];
    args.extend(options.args);
    args.push("--".to_string());
    args.push("--exact".to_string());
    args.extend(names.iter().cloned());
    let spec = ProcSpec {
        program: program.clone(),
        args,
        env: options.env,
        cwd: Some(tree),
        timeout: options.timeout.min(context::remaining()),
    };
    let out = run_logged(&host, &spec).map_err(|e| proc_error(ctx, "cargo::test", e))?;
    let report = parse_libtest(&out.stdout);
    if !out.success()
        && report.binaries == 0
        && let Some(missing) = rustup_gap(&program, &out.stderr)
    {
        // Not the tested code's fault, nor the deployment's: this machine's Rust setup.
        return Err(bind::missing_here(ctx, missing));
    }
    if !out.success() && report.binaries == 0 {
        // Nothing ran (a compile error, a broken toolchain): that is the failure to report,
        // not each name in turn.
        let code = out
            .code
            .map(|c| format!("exit code {c}"))
            .unwrap_or_else(|| "a signal".to_string());
        let detail = first_error_line(&out.stderr)
            .map(|l| format!(": {l}"))
            .unwrap_or_default();
        return Err(record_failure(
            ctx,
            format!(
                "cargo test ended with {code} before running any test ({} named test{} not run){detail}",
                names.len(),
                if names.len() == 1 { "" } else { "s" }
            ),
            Some("exit code 0".to_string()),
            Some(code),
        ));
    }

    let mut first_error = None;
    let mut keep = |e: Box<EvalAltResult>| {
        first_error.get_or_insert(e);
    };
    if !report.disagreements.is_empty() {
        // Not libtest's word alone: something else wrote test lines to the same stdout.
        return Err(record_failure(
            ctx,
            format!(
                "cargo test output disagrees with libtest's own counts, so no test result is trusted: {}",
                report.disagreements.join("; ")
            ),
            Some("test lines matching libtest's counts".to_string()),
            Some(format!("{} disagreement(s)", report.disagreements.len())),
        ));
    }
    let mut results = Map::new();
    for name in &names {
        match report.tests.get(name) {
            Some(TestOutcome::Passed) => {
                record_pass(&format!("test {name} ran and passed"));
            }
            Some(outcome) => keep(record_failure(
                ctx,
                format!(
                    "test {name} {}",
                    match outcome {
                        TestOutcome::Failed => "failed",
                        _ => "was ignored: it did not run",
                    }
                ),
                Some("ok".to_string()),
                Some(outcome.as_str().to_string()),
            )),
            None => keep(record_failure(
                ctx,
                format!(
                    "named test did not run: {name} (no test has this exact name: renamed, removed or filtered out)"
                ),
                Some(format!("{name} ran")),
                Some("not run".to_string()),
            )),
        }
        let outcome = report
            .tests
            .get(name)
            .map(|o| o.as_str())
            .unwrap_or("not run");
        results.insert(name.as_str().into(), outcome.into());
    }
    let named_failures = names
        .iter()
        .any(|n| report.tests.get(n) != Some(&TestOutcome::Passed));
    if !out.success() && !named_failures {
        let detail = first_error_line(&out.stderr)
            .map(|l| format!(": {l}"))
            .unwrap_or_default();
        let code = out
            .code
            .map(|c| c.to_string())
            .unwrap_or_else(|| "a signal".to_string());
        keep(record_failure(
            ctx,
            format!("cargo test exited with {code}{detail}"),
            Some("exit code 0".to_string()),
            Some(code),
        ));
    }
    if let Some(e) = first_error {
        return Err(e);
    }

    let mut m = Map::new();
    m.insert("results".into(), results.into());
    m.insert("commit".into(), commit.into());
    m.insert("passed".into(), (report.passed as i64).into());
    m.insert("failed".into(), (report.failed as i64).into());
    m.insert("ignored".into(), (report.ignored as i64).into());
    m.insert("filtered_out".into(), (report.filtered_out as i64).into());
    m.insert(
        "exit_code".into(),
        out.code
            .map(|c| Dynamic::from(i64::from(c)))
            .unwrap_or(Dynamic::UNIT),
    );
    m.insert(
        "duration_ms".into(),
        (out.duration.as_millis() as i64).into(),
    );
    Ok(m)
}

#[export_module]
pub mod cargo_api {
    /// Runs `cargo test --manifest-path MANIFEST -- --exact NAME...` and verifies it: every
    /// named test must have run and passed (each counts as an assertion), and cargo must exit 0.
    /// A name that ran zero tests fails the check, naming the test. A relative `manifest` is
    /// resolved against `OA_REPO_ROOT`; the tested tree's git commit is saved as the
    /// `tested-commit.txt` artifact (`unknown` outside a git checkout). Output goes to the
    /// check's log. Default timeout 20 minutes (the first run compiles), never past the
    /// check's deadline. Returns `#{ results: #{name: "ok"}, commit, passed, failed, ignored,
    /// filtered_out, exit_code, duration_ms }`.
    #[rhai_fn(name = "test", return_raw)]
    pub fn test(
        ctx: NativeCallContext,
        manifest: &str,
        names: Array,
    ) -> Result<Map, Box<EvalAltResult>> {
        run_tests(&ctx, manifest, names, Map::new())
    }

    /// `cargo::test` with options: `timeout` ("30m"), `args` (extra cargo arguments before
    /// `--`, e.g. `["--features", "x"]`), `env` (extra variables).
    #[rhai_fn(name = "test", return_raw)]
    pub fn test_with(
        ctx: NativeCallContext,
        manifest: &str,
        names: Array,
        opts: Map,
    ) -> Result<Map, Box<EvalAltResult>> {
        run_tests(&ctx, manifest, names, opts)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OUTPUT: &str = "
running 3 tests
test server::tests::alpha ... ok
test server::tests::beta ... FAILED
test server::tests::gamma ... ignored, needs a database

failures:

---- server::tests::beta stdout ----
thread 'server::tests::beta' panicked at src/server.rs:10:9:
assertion failed

failures:
    server::tests::beta

test result: FAILED. 1 passed; 1 failed; 1 ignored; 0 measured; 7 filtered out; finished in 0.00s

running 1 test
test fx::service::tests::delta ... ok

test result: ok. 1 passed; 0 failed; 0 ignored; 0 measured; 2 filtered out; finished in 0.01s

running 0 tests

test result: ok. 0 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.00s
";

    #[test]
    fn parses_libtest_lines_and_sums_the_results() {
        let r = parse_libtest(OUTPUT);
        assert_eq!(
            r.tests.get("server::tests::alpha"),
            Some(&TestOutcome::Passed)
        );
        assert_eq!(
            r.tests.get("server::tests::beta"),
            Some(&TestOutcome::Failed)
        );
        assert_eq!(
            r.tests.get("server::tests::gamma"),
            Some(&TestOutcome::Ignored)
        );
        assert_eq!(
            r.tests.get("fx::service::tests::delta"),
            Some(&TestOutcome::Passed)
        );
        assert_eq!(r.tests.len(), 4);
        assert_eq!(
            (r.passed, r.failed, r.ignored, r.filtered_out),
            (2, 1, 1, 9)
        );
        assert_eq!(r.binaries, 3);
    }

    #[test]
    fn a_failure_in_any_binary_wins() {
        let r = parse_libtest(
            "running 2 tests\ntest a ... ok\ntest b ... ignored\ntest result: ok. 1 passed; 0 failed; 1 ignored; 0 measured\n\
             running 2 tests\ntest a ... FAILED\ntest b ... ok\ntest result: FAILED. 1 passed; 1 failed; 0 ignored; 0 measured\n",
        );
        assert_eq!(r.tests["a"], TestOutcome::Failed);
        assert_eq!(r.tests["b"], TestOutcome::Passed);
        assert!(r.disagreements.is_empty(), "{:?}", r.disagreements);
    }

    #[test]
    fn the_real_output_agrees_with_its_counts() {
        assert!(parse_libtest(OUTPUT).disagreements.is_empty());
    }

    /// Finding 14: a tested process's child writing `test NAME ... ok` to the real stdout
    /// (libtest captures only the test thread's own prints) faked a test that did not exist.
    #[test]
    fn a_test_line_libtest_did_not_count_is_a_disagreement() {
        let inside = OUTPUT.replacen(
            "test server::tests::alpha ... ok",
            "test server::tests::alpha ... ok\ntest server::tests::removed ... ok",
            1,
        );
        let r = parse_libtest(&inside);
        assert_eq!(r.disagreements.len(), 1, "{:?}", r.disagreements);
        assert!(
            r.disagreements[0].contains("its lines say 2 passed"),
            "{:?}",
            r.disagreements
        );

        let outside = format!("{OUTPUT}test server::tests::removed ... ok\n");
        let r = parse_libtest(&outside);
        assert!(!r.tests.contains_key("server::tests::removed"));
        assert!(
            r.disagreements[0].contains("outside any test binary"),
            "{:?}",
            r.disagreements
        );

        // A whole fake binary nested in a real one's output.
        let nested = OUTPUT.replacen(
            "test server::tests::alpha ... ok",
            "running 1 test\ntest server::tests::removed ... ok\ntest result: ok. 1 passed; 0 failed; 0 ignored; 0 measured",
            1,
        );
        assert!(!parse_libtest(&nested).disagreements.is_empty());

        // Captured output of a failing test (the `failures:` section) is not a result.
        let captured = OUTPUT.replacen(
            "assertion failed",
            "assertion failed\ntest server::tests::removed ... ok",
            1,
        );
        assert!(parse_libtest(&captured).disagreements.is_empty());

        // A binary cut off before its `test result`.
        let cut = "running 1 test\ntest a ... ok\n";
        assert!(parse_libtest(cut).disagreements[0].contains("no `test result`"));
    }

    #[test]
    fn rustup_without_a_toolchain_is_missing_here() {
        let stderr = "error: rustup could not choose a version of cargo to run, because one wasn't specified explicitly, and no default is configured.\nhelp: run 'rustup default stable' to download the latest stable release of Rust and set it as your default toolchain.\n";
        let missing = rustup_gap("cargo", stderr).expect("a gap");
        assert_eq!(
            missing.reason,
            "cargo cannot run here: rustup has no default toolchain"
        );
        assert_eq!(missing.remedy, "run `rustup default stable`");
        let pinned = "error: toolchain '1.80.0-x86_64-unknown-linux-gnu' is not installed\n";
        assert_eq!(
            rustup_gap("cargo", pinned).map(|m| m.reason),
            Some(
                "cargo cannot run here: rustup toolchain 1.80.0-x86_64-unknown-linux-gnu is not installed"
                    .to_string()
            )
        );
        assert_eq!(rustup_gap("cargo", "error[E0425]: cannot find value"), None);
    }

    #[test]
    fn first_error_line_finds_the_compile_error() {
        let stderr =
            "   Compiling x v0.1.0\nerror[E0425]: cannot find value `y`\n  --> src/lib.rs:1:1\n";
        assert_eq!(
            first_error_line(stderr),
            Some("error[E0425]: cannot find value `y`")
        );
    }
}
