//! Redaction throughput (it runs over every byte of output): `cargo run --release --example
//! redact [ROUNDS]` prints MB/s per kind of text and number of secrets, median over ROUNDS.
//!
//! Texts, 1 MiB each, none holding a secret (the usual case, and the one that costs): log
//! lines (no escapes at all); a JSON body as a HAR carries it (`\"`, `\n`, `\/`, `\u00e9`);
//! URLs with percent-encoded queries; HTML with entities. Secrets: the two targets' tokens,
//! then 1,002 (the canary suite's count).

use oa_validate::redact::Redactor;
use std::time::Instant;

const SIZE: usize = 1024 * 1024;

fn repeat_to_size(unit: &str) -> String {
    let mut text = String::with_capacity(SIZE + unit.len());
    while text.len() < SIZE {
        text.push_str(unit);
    }
    text
}

fn texts() -> Vec<(&'static str, String)> {
    vec![
        (
            "log lines",
            repeat_to_size(
                "GET http://127.0.0.1:40123/api/v1/control/status -> 200 (1.2 ms, 342 bytes, x-request-id oa-5f3a9c0d1e2b4a67)\n",
            ),
        ),
        (
            "JSON with escapes",
            repeat_to_size(
                r#"{"data":{"path":"\/api\/v1\/runs","message":"line one\nline \"two\"","name":"caf\u00e9","items":[1,2,3]}},"#,
            ),
        ),
        (
            "percent-encoded URLs",
            repeat_to_size(
                "http://127.0.0.1:40123/search?q=a%20b%2Fc&next=%2Fhome%3Fx%3D1&lang=en-US\n",
            ),
        ),
        (
            "HTML with entities",
            repeat_to_size(
                "<a href=\"/runs?page=2&amp;size=50\" title=\"R&amp;D &lt;beta&gt;\">Runs &#8594;</a>\n",
            ),
        ),
    ]
}

fn secret(i: usize) -> String {
    format!("cnTok{i:05}-aB3.dE~f+G/h=Jk{}", i * 7919 % 100_003)
}

fn main() {
    let rounds: usize = std::env::args()
        .nth(1)
        .and_then(|r| r.parse().ok())
        .unwrap_or(7);
    println!("| text | secrets | MB/s (median of {rounds}) |");
    println!("| --- | ---: | ---: |");
    for count in [2usize, 1002] {
        let redactor = Redactor::new();
        let secrets: Vec<String> = (0..count).map(secret).collect();
        redactor.add_all(secrets.iter().map(String::as_str));
        for (name, text) in texts() {
            let mut rates: Vec<f64> = (0..rounds)
                .map(|_| {
                    let started = Instant::now();
                    let out = redactor.redact(&text);
                    let seconds = started.elapsed().as_secs_f64();
                    assert_eq!(out.len(), text.len(), "{name}: nothing here is a secret");
                    text.len() as f64 / 1e6 / seconds
                })
                .collect();
            rates.sort_by(f64::total_cmp);
            println!("| {name} | {count} | {:.0} |", rates[rates.len() / 2]);
        }
        // Many short calls (a log line each): the per-call cost, not the per-byte one.
        let line = "GET http://127.0.0.1:40123/api/v1/control/status?x=1%202 -> 200 (1.2 ms)";
        let calls = 20_000;
        let mut costs: Vec<f64> = (0..rounds)
            .map(|_| {
                let started = Instant::now();
                for _ in 0..calls {
                    std::hint::black_box(redactor.redact(std::hint::black_box(line)));
                }
                started.elapsed().as_secs_f64() * 1e9 / calls as f64
            })
            .collect();
        costs.sort_by(f64::total_cmp);
        println!(
            "| one {}-byte line per call: {:.0} ns/call | {count} | |",
            line.len(),
            costs[costs.len() / 2]
        );
    }
}
