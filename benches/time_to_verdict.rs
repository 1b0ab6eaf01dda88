//! Time to verdict: the full `--sim` matrix's wall clock over its critical path (the longest
//! chain of checks that had to run one after another: `after:` and serial groups, from the
//! run's own summary.json), over several runs, as medians.
//!
//! `cargo run --release --example time_to_verdict -- [--runs N] [--jobs N] [--bin PATH]
//! [--baseline PATH]` prints a Markdown section for benches/RESULTS.md. `--baseline` runs
//! another oa-validate binary (say, main's) in the same rounds, interleaved; its ratio uses
//! the constraints this binary's run recorded (an older binary records none). `--from DIR`
//! (repeatable) measures nothing: it reads evidence folders written elsewhere (an interop run
//! against the real services, say) and prints their span over their critical path.
//!
//! The figure of merit is the checks' span (first start to last end, as the runner recorded
//! them) over the critical path: what scheduling leaves on the table. The process's wall clock
//! (sim start-up, planning, evidence) is reported beside it.

use oa_validate::report::critical_path::{Node, critical_path};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// One check as summary.json's run part records it.
struct Ran {
    id: String,
    started_ms: u64,
    duration_ms: u64,
    waited_for: Vec<String>,
}

/// What one run of the matrix measured.
struct Measured {
    verdict: String,
    wall: Duration,
    span_ms: u64,
    critical_ms: u64,
    chain: Vec<String>,
    checks: Vec<Ran>,
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".to_string())
}

/// The verdict and the checks of the run in `out`, through the tool's own summary.json reader.
fn read_run(out: &Path) -> (String, Vec<Ran>) {
    let text = std::fs::read_to_string(out.join("summary.json")).expect("summary.json");
    let summary = oa_validate::summary::legacy::read(&text).expect("summary.json reads");
    let checks = summary
        .run
        .checks
        .into_iter()
        .filter_map(|c| {
            Some(Ran {
                started_ms: c.started_ms?,
                id: c.id,
                duration_ms: c.duration_ms,
                waited_for: c.waited_for,
            })
        })
        .collect();
    (summary.verdict.decision.as_str().to_string(), checks)
}

/// Runs the matrix once with `bin`; `constraints` (by id) replace what the run recorded.
fn measure(
    bin: &Path,
    jobs: &str,
    out: &Path,
    constraints: Option<&HashMap<String, Vec<String>>>,
) -> Measured {
    let _ = std::fs::remove_dir_all(out);
    let started = Instant::now();
    let status = Command::new(bin)
        .args(["--sim", "--jobs", jobs, "--quiet", "--out"])
        .arg(out)
        .stdout(std::process::Stdio::null())
        .status()
        .expect("oa-validate runs");
    let wall = started.elapsed();
    if !status.success() {
        eprintln!("{}: exit {status}", bin.display());
    }
    analyse(out, wall, constraints)
}

/// The span and critical path of the run recorded in `out`.
fn analyse(
    out: &Path,
    wall: Duration,
    constraints: Option<&HashMap<String, Vec<String>>>,
) -> Measured {
    let (verdict, mut checks) = read_run(out);
    if let Some(constraints) = constraints {
        for c in &mut checks {
            c.waited_for = constraints.get(&c.id).cloned().unwrap_or_default();
        }
    }
    let first = checks.iter().map(|c| c.started_ms).min().unwrap_or(0);
    let last = checks
        .iter()
        .map(|c| c.started_ms + c.duration_ms)
        .max()
        .unwrap_or(0);
    let nodes: Vec<Node> = checks
        .iter()
        .map(|c| Node {
            id: &c.id,
            duration_ms: c.duration_ms,
            waited_for: &c.waited_for,
        })
        .collect();
    let (chain, critical_ms) = critical_path(&nodes);
    let chain = chain.iter().map(|&i| checks[i].id.clone()).collect();
    Measured {
        verdict,
        wall,
        span_ms: last - first,
        critical_ms,
        chain,
        checks,
    }
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    if n == 0 {
        return f64::NAN;
    }
    if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    }
}

fn ratio(m: &Measured) -> f64 {
    m.span_ms as f64 / m.critical_ms.max(1) as f64
}

fn main() {
    let mut runs = 5usize;
    let mut jobs = "4".to_string();
    let mut bin = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/release/oa-validate");
    let mut baseline: Option<PathBuf> = None;
    let mut from: Vec<PathBuf> = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().unwrap_or_else(|| panic!("{arg} needs a value"));
        match arg.as_str() {
            "--runs" => runs = value().parse().expect("--runs N"),
            "--jobs" => jobs = value(),
            "--bin" => bin = PathBuf::from(value()),
            "--baseline" => baseline = Some(PathBuf::from(value())),
            "--from" => from.push(PathBuf::from(value())),
            other => panic!("unknown argument {other}"),
        }
    }
    if !from.is_empty() {
        return recorded(&from);
    }
    let tmp = tempfile::tempdir().expect("a temp dir");
    let load_before = load_average();
    let mut rounds: Vec<(Measured, Option<Measured>)> = Vec::new();
    for round in 1..=runs {
        let this = measure(&bin, &jobs, &tmp.path().join("this"), None);
        let constraints: HashMap<String, Vec<String>> = this
            .checks
            .iter()
            .map(|c| (c.id.clone(), c.waited_for.clone()))
            .collect();
        let base = baseline
            .as_deref()
            .map(|b| measure(b, &jobs, &tmp.path().join("base"), Some(&constraints)));
        eprintln!(
            "round {round}: span {} ms, critical path {} ms, {:.2}x{}",
            this.span_ms,
            this.critical_ms,
            ratio(&this),
            base.as_ref()
                .map(|b| format!("; baseline {:.2}x", ratio(b)))
                .unwrap_or_default()
        );
        rounds.push((this, base));
    }
    let load_after = load_average();

    println!("## Time to verdict: the full `--sim` matrix over its critical path\n");
    println!(
        "`benches/time_to_verdict.rs`, {runs} runs of `oa-validate --sim --jobs {jobs}` ({}), \
         {}. Load average before: {load_before}; after: {load_after} (2 cores, shared).\n",
        bin.display(),
        match &baseline {
            Some(b) => format!("interleaved with the baseline {}", b.display()),
            None => "no baseline".to_string(),
        }
    );
    println!(
        "Critical path: the longest chain of checks that waited for each other (`after:`, \
         serial groups), by their recorded durations; span: first check start to last check \
         end; wall: the whole process (sim start-up, planning, evidence).\n"
    );
    println!(
        "| run | verdict | checks | span ms | critical path ms | span / critical path | wall ms | baseline span ms | baseline / critical path |"
    );
    println!("| --- | --- | --- | --- | --- | --- | --- | --- | --- |");
    for (i, (this, base)) in rounds.iter().enumerate() {
        let (bspan, bratio) = base
            .as_ref()
            .map_or(("-".to_string(), "-".to_string()), |b| {
                (b.span_ms.to_string(), format!("{:.2}x", ratio(b)))
            });
        println!(
            "| {} | {} | {} | {} | {} | {:.2}x | {} | {bspan} | {bratio} |",
            i + 1,
            this.verdict,
            this.checks.len(),
            this.span_ms,
            this.critical_ms,
            ratio(this),
            this.wall.as_millis(),
        );
    }
    let ratios: Vec<f64> = rounds.iter().map(|(t, _)| ratio(t)).collect();
    println!(
        "\n- span / critical path, median: **{:.2}x** (runs: {}) (target <= 1.2x)",
        median(ratios.clone()),
        ratios
            .iter()
            .map(|r| format!("{r:.2}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    println!(
        "- span median {:.0} ms, critical path median {:.0} ms, wall median {:.0} ms",
        median(rounds.iter().map(|(t, _)| t.span_ms as f64).collect()),
        median(rounds.iter().map(|(t, _)| t.critical_ms as f64).collect()),
        median(
            rounds
                .iter()
                .map(|(t, _)| t.wall.as_secs_f64() * 1000.0)
                .collect()
        ),
    );
    if baseline.is_some() {
        let base: Vec<f64> = rounds
            .iter()
            .filter_map(|(_, b)| b.as_ref().map(ratio))
            .collect();
        println!(
            "- baseline span / the same critical path, median: **{:.2}x**; baseline span median {:.0} ms",
            median(base),
            median(
                rounds
                    .iter()
                    .filter_map(|(_, b)| b.as_ref().map(|b| b.span_ms as f64))
                    .collect()
            )
        );
    }
    if let Some((last, _)) = rounds.last() {
        println!(
            "- the critical path of the last run: {}",
            last.chain.join(" → ")
        );
    }
}

/// `--from`: the figure for evidence folders measured elsewhere (no process wall clock).
fn recorded(folders: &[PathBuf]) {
    println!(
        "| evidence folder | verdict | checks | span ms | critical path ms | span / critical path | critical path |"
    );
    println!("| --- | --- | --- | --- | --- | --- | --- |");
    for folder in folders {
        let m = analyse(folder, Duration::ZERO, None);
        println!(
            "| {} | {} | {} | {} | {} | {:.2}x | {} |",
            folder.display(),
            m.verdict,
            m.checks.len(),
            m.span_ms,
            m.critical_ms,
            ratio(&m),
            m.chain.join(" → ")
        );
    }
}
