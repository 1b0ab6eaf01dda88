//! Every example in docs/ runs: each ```rhai block (headed `// path.rhai`) is written into a
//! sandbox holding the repository's lanes and must compile; each `oa-validate ...  # exit N`
//! line of a ```bash block runs there and must exit N.

use crate::common::*;
use std::path::Path;
use std::time::Duration;

struct Block {
    file: String,
    lang: String,
    first_line: usize,
    text: String,
}

fn code_blocks(file: &str, markdown: &str) -> Vec<Block> {
    let mut blocks = Vec::new();
    let mut current: Option<Block> = None;
    for (i, line) in markdown.lines().enumerate() {
        if let Some(fence) = line.trim_start().strip_prefix("```") {
            match current.take() {
                Some(block) => blocks.push(block),
                None => {
                    current = Some(Block {
                        file: file.to_string(),
                        lang: fence.trim().to_string(),
                        first_line: i + 2,
                        text: String::new(),
                    })
                }
            }
        } else if let Some(block) = current.as_mut() {
            block.text.push_str(line);
            block.text.push('\n');
        }
    }
    blocks
}

fn docs() -> Vec<(String, String)> {
    let dir = repo_root().join("docs");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("docs/")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "md"))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let name = format!(
                "docs/{}",
                p.file_name().unwrap_or_default().to_string_lossy()
            );
            (name, std::fs::read_to_string(&p).expect("read doc"))
        })
        .collect()
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read dir").flatten() {
        let path = entry.path();
        let target = to.join(entry.file_name());
        if path.is_dir() {
            copy_dir(&path, &target);
        } else {
            std::fs::copy(&path, &target).expect("copy");
        }
    }
}

/// A documented command line: environment, arguments, expected exit code.
struct DocCommand {
    env: Vec<(String, String)>,
    args: Vec<String>,
    code: i32,
}

/// `VAR=value ... oa-validate ARGS   # exit N`.
fn runnable(line: &str) -> Option<DocCommand> {
    let (command, comment) = line.split_once('#')?;
    let code: i32 = comment.trim().strip_prefix("exit")?.trim().parse().ok()?;
    let mut env = Vec::new();
    let mut words = command.split_whitespace();
    let mut args = Vec::new();
    for word in words.by_ref() {
        if word == "oa-validate" {
            break;
        }
        let (k, v) = word.split_once('=')?;
        env.push((k.to_string(), v.to_string()));
    }
    args.extend(words.map(str::to_string));
    assert!(
        args.iter().all(|a| !a.contains(['"', '\''])),
        "doc commands are run without a shell; no quoting: {line}"
    );
    Some(DocCommand { env, args, code })
}

#[test]
fn every_example_in_docs_runs() {
    let sb = Sandbox::new();
    copy_dir(&repo_root().join("lanes"), &sb.path().join("lanes"));
    let mut lanes = 0;
    let mut commands = 0;
    let all: Vec<Block> = docs()
        .iter()
        .flat_map(|(name, text)| code_blocks(name, text))
        .collect();
    for block in all.iter().filter(|b| b.lang == "rhai") {
        let header = block.text.lines().next().unwrap_or_default();
        let path = header
            .strip_prefix("// ")
            .filter(|p| p.ends_with(".rhai"))
            .unwrap_or_else(|| {
                panic!(
                    "{}:{}: a rhai example must start with `// path/to/lane.rhai`",
                    block.file, block.first_line
                )
            });
        sb.write(path, &block.text);
        sb.cmd().args(["check", path]).run().expect_code(0);
        lanes += 1;
    }
    for block in all.iter().filter(|b| b.lang == "bash") {
        for (offset, line) in block.text.lines().enumerate() {
            let Some(DocCommand { env, args, code }) = runnable(line) else {
                continue;
            };
            let mut cmd = sb.cmd().args(&args);
            for (k, v) in env {
                cmd = cmd.env(&k, v);
            }
            let run = cmd.run();
            assert_eq!(
                run.code,
                Some(code),
                "{}:{}: `{}` exited {:?}\n--- stdout\n{}\n--- stderr\n{}",
                block.file,
                block.first_line + offset,
                line.trim(),
                run.code,
                run.stdout,
                run.stderr
            );
            commands += 1;
        }
    }
    assert!(lanes >= 2, "only {lanes} lane examples found");
    assert!(commands >= 6, "only {commands} runnable commands found");
}

#[test]
fn summary_json_matches_its_documented_schema() {
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(repo_root().join("docs/summary.schema.json")).expect("schema"),
    )
    .expect("schema is JSON");
    let validator = jsonschema::validator_for(&schema).expect("a valid JSON Schema");
    let sb = Sandbox::new();
    sb.write(
        "mixed.rhai",
        r#"required("ok", || { assert(true, "fine"); });
optional("warned", || { warn("careful"); assert(true, "fine"); });
required("broken", || { assert_eq(1, 2, "numbers"); });
optional("off", #{ toggle: "RUN_OFF" }, || { assert(true, "x"); });
required("thrown", || { throw "boom"; });
optional("not-here", #{ needs: ["OA_SCHEMA_NOT_HERE"] }, || { assert(true, "x"); });
"#,
    );
    for (name, args, env) in [
        ("go", vec!["--sim", "lanes/control.rhai"], None),
        ("mixed", vec!["--sim", "mixed.rhai"], Some(("RUN_OFF", "0"))),
    ] {
        if name == "go" {
            copy_dir(&repo_root().join("lanes"), &sb.path().join("lanes"));
        }
        let out = sb.out(name);
        let mut cmd = sb.cmd().args(&args).out(&out);
        if let Some((k, v)) = env {
            cmd = cmd.env(k, v);
        }
        cmd.run();
        let summary = sb.evidence(name).summary_json();
        let errors: Vec<String> = validator
            .iter_errors(&summary)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect();
        assert!(
            errors.is_empty(),
            "{name}: summary.json breaks the schema: {errors:#?}"
        );
    }
}

/// The tutorial's "serve a sim and load its environment" block, run verbatim by bash in a
/// sandbox holding the tutorial's first lane (with the binary on PATH, as an install puts it):
/// the lane runs against the served sim without `--sim` and is GO. The tutorial also says how
/// to install (tests/it/install.rs installs and runs the binary).
#[test]
fn the_tutorials_served_sim_block_loads_its_environment() {
    let (_, tutorial) = docs()
        .into_iter()
        .find(|(name, _)| name == "docs/writing-lanes.md")
        .expect("the tutorial");
    assert!(
        tutorial.contains("cargo install --path ."),
        "the tutorial says how to install"
    );
    let blocks = code_blocks("docs/writing-lanes.md", &tutorial);
    let serve = blocks
        .iter()
        .find(|b| b.lang == "bash" && b.text.contains("source sim.env"))
        .expect("a block that loads the served sim's environment");
    let hello = blocks
        .iter()
        .find(|b| b.lang == "rhai" && b.text.starts_with("// lanes/hello.rhai"))
        .expect("the first lane");
    let sb = Sandbox::new();
    sb.write("lanes/hello.rhai", &hello.text);
    sb.write("tutorial.sh", &format!("set -euo pipefail\n{}", serve.text));
    let bin_dir = Path::new(BIN).parent().expect("the binary's folder");
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut bash = std::process::Command::new("bash");
    bash.arg("tutorial.sh")
        .current_dir(sb.path())
        .env_clear()
        .env("PATH", path)
        .env("HOME", sb.path().join("home"))
        .env("XDG_CACHE_HOME", test_cache())
        .env("NO_COLOR", "1")
        .env("CI", "true")
        .env("OUTPUT_DIR", sb.out("evidence"))
        .stdin(std::process::Stdio::null());
    let output = bash.output().expect("run bash");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "{}:{}: the block failed ({})\n--- stdout\n{stdout}\n--- stderr\n{stderr}",
        serve.file,
        serve.first_line,
        output.status
    );
    assert!(
        stdout.contains("[passed] hello-staging-ready (required)"),
        "{stdout}"
    );
    assert!(stdout.contains("Verdict: GO"), "{stdout}");
    let summary =
        std::fs::read_to_string(sb.out("evidence").join("SUMMARY.md")).expect("SUMMARY.md");
    assert!(
        summary.contains("- STAGING_CONTROL_BASE_URL=http://127.0.0.1:"),
        "the run targeted the served sim:\n{summary}"
    );
}

/// Issue 21, point 3: the gate commands the README and docs/release-gate.md give (the run, its
/// `plan`, the CI steps) used to exit 2 as written (required checks mutate production). Each
/// one now runs as written against a served sim of its phase, with the variables the sim
/// exports in place of the real targets' and tokens: exit 0, GO.
#[test]
fn documented_gate_commands_run_as_written() {
    let mut commands: Vec<Vec<String>> = Vec::new();
    for file in ["README.md", "docs/release-gate.md"] {
        let text = std::fs::read_to_string(repo_root().join(file)).expect("read doc");
        let blocks = code_blocks(file, &text);
        for line in blocks.iter().flat_map(|b| b.text.lines()) {
            let Some(start) = line.find("oa-validate ") else {
                continue;
            };
            let command = line[start..].split('#').next().unwrap_or_default();
            let words: Vec<String> = command
                .split_whitespace()
                .skip(1)
                .map(String::from)
                .collect();
            let gate = words.iter().any(|w| w == "--gate");
            if gate && !words.iter().any(|w| w == "--sim") {
                commands.push(words);
            }
        }
    }
    assert!(commands.len() >= 5, "{commands:?}");
    for args in commands {
        let phase = args
            .iter()
            .position(|w| w == "--phase")
            .map(|i| args[i + 1].clone())
            .expect("a gate command names its phase");
        let sb = Sandbox::new();
        eprintln!("running {args:?} against a served sim of {phase}");
        let (_sim, exports) = sim_exports(&sb, &["--phase", &phase]);
        let cmd = exports
            .iter()
            .fold(sb.cmd().args(&args), |cmd, (k, v)| cmd.env(k, v));
        let run = cmd.timeout(Duration::from_secs(300)).run();
        run.expect_code(0);
        if args[0] != "plan" {
            assert_eq!(run.verdict_line(), "Verdict: GO (release gate)", "{args:?}");
        }
    }
}

/// docs/cli.md's fault table is `oa-validate sim --fault help`, row for row (issue 21, point
/// 10: six faults were missing and the check names differed). On a difference the message
/// holds the table to paste.
#[test]
fn the_fault_table_in_cli_md_is_sim_fault_help() {
    let sb = Sandbox::new();
    let run = sb.cmd().args(["sim", "--fault", "help"]).run();
    run.expect_code(0);
    let expected: Vec<String> = run
        .stdout
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|line| {
            let (name, breaks) = line.split_once(char::is_whitespace).expect("name and text");
            format!("| `{name}` | {} |", breaks.trim().replace('|', "\\|"))
        })
        .collect();
    assert!(expected.len() > 40, "{}", run.stdout);
    let cli = std::fs::read_to_string(repo_root().join("docs/cli.md")).expect("docs/cli.md");
    let table: Vec<String> = cli
        .lines()
        .skip_while(|l| *l != "| fault | breaks |")
        .skip(2)
        .take_while(|l| l.starts_with('|'))
        .map(str::to_string)
        .collect();
    assert!(
        table == expected,
        "docs/cli.md's fault table differs from `oa-validate sim --fault help`; the table is:\n\n| fault | breaks |\n| --- | --- |\n{}\n",
        expected.join("\n")
    );
}
