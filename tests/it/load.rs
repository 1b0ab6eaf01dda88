//! Load: 64 lanes of 50 checks (3,200 checks, each one request) against the sim at
//! `--jobs 32`: completes, the child's peak RSS stays under 200 MB, and the report order and
//! outcomes are identical to `--jobs 1`.

use crate::common;

use crate::common::Sandbox;
use std::time::Duration;

const LANES: usize = 64;
const CHECKS: usize = 50;
const PEAK_RSS_LIMIT_KIB: u64 = 200 * 1024;

fn lane(n: usize) -> String {
    format!(
        r#"let t = targets()[{target}];
for i in 0..{CHECKS} {{
    let id = `load-{n:02}-${{i}}`;
    if i % 17 == 16 {{
        optional(id, || {{ assert_status(http::get(`${{t.control_url}}/api/no-such-route`), 200); }});
    }} else {{
        required(id, || {{ assert_status(http::get(`${{t.control_url}}/readyz`), 200); }});
    }}
}}
"#,
        target = n % 2
    )
}

/// Evidence on tmpfs when there is one: 6,400 per-check files are each fsynced (durable
/// evidence), which on a busy shared disk is what a load test would end up measuring.
fn shm(name: &str) -> std::path::PathBuf {
    let base = std::path::Path::new("/dev/shm");
    let base = if base.is_dir() {
        base.to_path_buf()
    } else {
        std::env::temp_dir()
    };
    base.join(format!("oa-validate-load-{}-{name}", std::process::id()))
}

#[test]
fn sixty_four_lanes_of_fifty_checks_at_jobs_32_stay_bounded_and_ordered() {
    let sb = Sandbox::new();
    for n in 0..LANES {
        sb.write(&format!("lanes/load_{n:02}.rhai"), &lane(n));
    }
    let run_with = |jobs: &str, out: &str| {
        let run = sb
            .cmd()
            .args(["--sim", "--lanes", "lanes", "--jobs", jobs])
            .out(&shm(out))
            .timeout(Duration::from_secs(240))
            .run();
        run.expect_code(0);
        run
    };
    let wide = run_with("32", "jobs32");
    let narrow = run_with("1", "jobs1");
    let peak = wide.peak_rss_kib.unwrap_or(0);
    eprintln!(
        "{} checks: --jobs 32 took {:?} (peak RSS {} KiB), --jobs 1 took {:?} (peak RSS {} KiB)",
        LANES * CHECKS,
        wide.elapsed,
        peak,
        narrow.elapsed,
        narrow.peak_rss_kib.unwrap_or(0)
    );
    assert!(
        peak < PEAK_RSS_LIMIT_KIB,
        "peak RSS {peak} KiB at --jobs 32"
    );

    let a = common::Evidence::new(shm("jobs32"));
    let b = common::Evidence::new(shm("jobs1"));
    let rows = a.statuses();
    assert_eq!(rows.len(), LANES * CHECKS);
    assert_eq!(
        rows,
        b.statuses(),
        "report order or outcomes differ between --jobs 32 and 1"
    );
    assert_eq!(a.tsv_text(), b.tsv_text());
    assert_eq!(
        a.summary_json()["verdict"],
        b.summary_json()["verdict"],
        "the verdict section differs"
    );
    // Lane order then declaration order.
    assert_eq!(rows[0].0, "load-00-0");
    assert_eq!(rows[CHECKS].0, "load-01-0");
    assert_eq!(rows.last().map(|r| r.0.as_str()), Some("load-63-49"));
    let _ = std::fs::remove_dir_all(shm("jobs32"));
    let _ = std::fs::remove_dir_all(shm("jobs1"));
}
