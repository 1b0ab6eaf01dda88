//! In-process fuzzer (stable Rust has no `cargo fuzz`): a seeded mutation loop over a corpus,
//! each input run under `catch_unwind` against an invariant checked by an oracle written
//! independently of the code under test. No coverage feedback; the corpus grows with inputs
//! that reach a new outcome class.
//!
//! `cargo run --release --example fuzz -- TARGET SECONDS [SEED]`, or `fuzz/run.sh SECONDS`
//! for every target. A failing input is written to `fuzz/crashes/TARGET-<hash>` and the
//! process exits 1. Targets: json_pointer, redact, har, plan, html_rows.

#[path = "../tests/it/common/secret_forms.rs"]
mod secret_forms;

use oa_validate::diagnostic::Diagnostic;
use oa_validate::evidence::exchange::{Rendered, RenderedResponse};
use oa_validate::evidence::har;
use oa_validate::redact::{MASK, Redactor};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::collections::HashSet;
use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// What one execution found.
enum Verdict {
    /// Fine; the string classifies the outcome (new classes grow the corpus).
    Ok(String),
    /// An invariant broke.
    Bug(String),
}

trait Target {
    fn seeds(&self) -> Vec<Vec<u8>>;
    fn dictionary(&self) -> Vec<&'static [u8]>;
    fn run(&mut self, input: &[u8]) -> Verdict;
}

// ------------------------------------------------------------------------------------------
// json_get: the Rhai function over arbitrary JSON text and pointers.

struct JsonPointer {
    engine: rhai::Engine,
}

impl Target for JsonPointer {
    fn seeds(&self) -> Vec<Vec<u8>> {
        [
            "/data/user/id\n{\"data\":{\"user\":{\"id\":7}}}",
            "/a~1b/0\n{\"a/b\":[1,2]}",
            "/m~0n\n{\"m~n\":null}",
            "\n[]",
            "/0/1/2\n[[0,[0,0,3]]]",
            "/\n{\"\":1}",
            "/x\nnot json",
        ]
        .iter()
        .map(|s| s.as_bytes().to_vec())
        .collect()
    }
    fn dictionary(&self) -> Vec<&'static [u8]> {
        vec![
            b"/",
            b"~0",
            b"~1",
            b"{\"",
            b"\":",
            b"[",
            b"]",
            b"}",
            b"null",
            b"1e999",
            b"\\u0000",
            b"-0",
            b"99999999999999999999",
        ]
    }
    fn run(&mut self, input: &[u8]) -> Verdict {
        let text = String::from_utf8_lossy(input);
        let (pointer, json) = text.split_once('\n').unwrap_or((&text, ""));
        let mut scope = rhai::Scope::new();
        scope.push("p", pointer.to_string());
        scope.push("j", json.to_string());
        let got = self
            .engine
            .eval_with_scope::<rhai::Dynamic>(&mut scope, "json_get(j, p, \"<absent>\")");
        // Oracle: serde_json's own pointer over the same text.
        let parsed: Result<serde_json::Value, _> = serde_json::from_str(json);
        match (got, parsed) {
            (Ok(value), Ok(doc)) => {
                if !pointer.is_empty() && !pointer.starts_with('/') {
                    return Verdict::Bug(format!("accepted a pointer without '/': {pointer:?}"));
                }
                let expected = doc.pointer(pointer).cloned();
                let got_json: Option<serde_json::Value> = if value.is_string()
                    && value.clone().into_string().ok().as_deref() == Some("<absent>")
                {
                    None
                } else {
                    rhai::serde::from_dynamic(&value).ok()
                };
                // Numbers may change representation (i64 vs f64); compare as text otherwise.
                let same = match (&expected, &got_json) {
                    (None, None) => true,
                    (Some(e), Some(g)) => e == g || numbers_close(e, g),
                    (Some(serde_json::Value::String(s)), None) => s == "<absent>",
                    _ => false,
                };
                if same {
                    Verdict::Ok(format!("found:{}", expected.is_some()))
                } else {
                    Verdict::Bug(format!(
                        "pointer {pointer:?} in {json:?}: expected {expected:?}, got {got_json:?}"
                    ))
                }
            }
            (Ok(_), Err(_)) => Verdict::Bug(format!(
                "json_get answered for text that is not JSON: {json:?}"
            )),
            (Err(e), Ok(doc)) => {
                let message = e.to_string();
                if pointer.is_empty() || pointer.starts_with('/') {
                    // Only a value Rhai cannot hold may fail (e.g. a number out of range).
                    if doc.pointer(pointer).is_some() || message.contains("not JSON") {
                        Verdict::Ok(format!("error:{}", message.split(':').next().unwrap_or("")))
                    } else {
                        Verdict::Bug(format!("pointer {pointer:?} in {json:?}: {message}"))
                    }
                } else {
                    Verdict::Ok("bad-pointer".to_string())
                }
            }
            (Err(e), Err(_)) => {
                let message = e.to_string();
                if message.contains("not JSON") || message.contains("not a JSON pointer") {
                    Verdict::Ok("not-json".to_string())
                } else {
                    Verdict::Bug(format!(
                        "unexpected error for text that is not JSON: {message}"
                    ))
                }
            }
        }
    }
}

/// Equal up to number representation (Rhai holds integers beyond i64 as floats).
fn numbers_close(a: &serde_json::Value, b: &serde_json::Value) -> bool {
    use serde_json::Value;
    match (a, b) {
        (Value::Number(_), Value::Number(_)) => match (a.as_f64(), b.as_f64()) {
            (Some(x), Some(y)) => x == y || (x - y).abs() <= f64::EPSILON * x.abs().max(1.0),
            _ => false,
        },
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| a == b || numbers_close(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, a)| y.get(k).is_some_and(|b| a == b || numbers_close(a, b)))
        }
        _ => false,
    }
}

// ------------------------------------------------------------------------------------------
// Redactor::redact: no form of any secret survives; idempotent.

struct Redact;

impl Target for Redact {
    fn seeds(&self) -> Vec<Vec<u8>> {
        [
            "tok_9f8e7d6c5b4a+/=secret\"x\u{1}Authorization: Bearer tok_9f8e7d6c5b4a+/=secret\"x ?q=tok_9f8e7d6c5b4a%2B%2F%3Dsecret%22x",
            "abcdefgh\u{1}xxabcdefghxx abcdefgh",
            "a-b/c~d.e_f!*'()\u{1}https://h/a-b/c~d.e_f!*'()?t=a-b%2Fc~d.e_f!*'()",
            "ünïcødé-sëcret\u{1}{\"t\":\"ünïcødé-sëcret\"}",
            "s1-12345678\u{2}s2-abcdefgh\u{1}s1-12345678s2-abcdefgh",
            "tok/9f8e+7d6c=5b4a~x\u{1}{\"t\":\"tok\\/9f8e\\u002b7d6c\\u003D5b4a%7ex\"}",
        ]
        .iter()
        .map(|s| s.as_bytes().to_vec())
        .collect()
    }
    fn dictionary(&self) -> Vec<&'static [u8]> {
        vec![
            b"%2F",
            b"%2f",
            b"\\/",
            b"\\u002b",
            b"\\u002B",
            b"\\u00",
            b"+",
            b"/",
            b"=",
            b"\"",
            b"\\",
            b" ",
            b"~",
            b"%",
            b"\n",
            MASK.as_bytes(),
            b"\x01",
            b"\x02",
        ]
    }
    fn run(&mut self, input: &[u8]) -> Verdict {
        // Input: secrets separated by \x02, then \x01, then the text.
        let text = String::from_utf8_lossy(input);
        let (secrets, body) = text.split_once('\u{1}').unwrap_or(("", &text));
        let secrets: Vec<&str> = secrets
            .split('\u{2}')
            .filter(|s| s.len() >= oa_validate::config::MIN_SECRET_LEN)
            .collect();
        if secrets.is_empty() {
            return Verdict::Ok("no-secret".to_string());
        }
        let r = Redactor::new();
        for s in &secrets {
            r.add(s);
        }
        // Plant every form of every secret in the text too.
        let mut planted = body.to_string();
        for s in &secrets {
            for (_, f) in secret_forms::secret_forms(s) {
                planted.push(' ');
                planted.push_str(&f);
            }
        }
        let once = r.redact(&planted);
        // A mask next to text can spell a secret that was never there ("[REDACTED]" + "s2…"
        // for the secret "]s2…"): look for survivors with the masks taken out.
        let masks: Vec<(usize, usize)> = once
            .match_indices(MASK)
            .map(|(i, m)| (i, i + m.len()))
            .collect();
        let survives = |form: &str| {
            once.match_indices(form).any(|(i, m)| {
                let end = i + m.len();
                !masks.iter().any(|&(a, b)| a < end && i < b)
            })
        };
        let mask_chars = |s: &str| s.contains(['[', ']']);
        for s in &secrets {
            // A secret that the mask itself spells cannot be told apart from the mask.
            if MASK.contains(*s) || s.contains(MASK) {
                return Verdict::Ok("mask-like".to_string());
            }
            for (form, f) in secret_forms::secret_forms(s) {
                if survives(&f) {
                    return Verdict::Bug(format!(
                        "{form} form {f:?} of secret {s:?} survives redaction"
                    ));
                }
            }
        }
        let twice = r.redact(&once);
        if twice != once && !secrets.iter().any(|s| mask_chars(s)) {
            return Verdict::Bug(format!("not idempotent for secrets {secrets:?}"));
        }
        // A cut anywhere (issue 13): redacted, then its edge masked, the text ends with no
        // remnant of 8 bytes or more of any secret's raw form.
        let mut cut_at = input.len() * 7919 % planted.len().max(1);
        while !planted.is_char_boundary(cut_at) {
            cut_at -= 1;
        }
        let cut = r.mask_cut(&r.redact(&planted[..cut_at]), false, true);
        for s in &secrets {
            for (n, _) in s.char_indices().filter(|(n, _)| *n >= 8) {
                if cut.ends_with(&s[..n]) && !MASK.contains(&s[..n]) {
                    return Verdict::Bug(format!(
                        "a {n}-byte remnant of {s:?} survives a cut at {cut_at}"
                    ));
                }
            }
        }
        Verdict::Ok(format!("secrets:{}", secrets.len().min(3)))
    }
}

// ------------------------------------------------------------------------------------------
// HAR writer: always valid JSON with the fields it promises.

struct Har;

impl Target for Har {
    fn seeds(&self) -> Vec<Vec<u8>> {
        vec![
            b"GET\x00http://127.0.0.1:1/x?y=\"z\"\x00content-type\x00text/html\x00{\"a\":1}\x00200"
                .to_vec(),
            b"POST\x00\xff\xfe\x00\x00\x00\x00".to_vec(),
            "\u{0}\u{7f}\u{2028}\u{feff}\u{0}\u{1}\u{0}"
                .as_bytes()
                .to_vec(),
        ]
    }
    fn dictionary(&self) -> Vec<&'static [u8]> {
        vec![
            b"\x00",
            b"\"",
            b"\\",
            b"\n",
            b"\x7f",
            b"NaN",
            b"\xed\xa0\x80",
            b"\xf0\x9f\x92\xa9",
        ]
    }
    fn run(&mut self, input: &[u8]) -> Verdict {
        let text = String::from_utf8_lossy(input);
        let parts: Vec<&str> = text.split('\0').collect();
        let part = |i: usize| parts.get(i).copied().unwrap_or_default().to_string();
        let number = |i: usize| -> f64 {
            let b = input.get(i).copied().unwrap_or(0);
            match b % 5 {
                0 => f64::NAN,
                1 => f64::INFINITY,
                2 => -1.0,
                3 => f64::from(b) * 1e300,
                _ => f64::from(b),
            }
        };
        let response = (!input.len().is_multiple_of(3)).then(|| RenderedResponse {
            status: u16::from_le_bytes([
                input.first().copied().unwrap_or(0),
                input.last().copied().unwrap_or(0),
            ]),
            status_text: part(5),
            http_version: part(6),
            headers: vec![(part(2), part(3)), (part(3), part(2))],
            body: part(4),
            body_size: input.len() as u64,
            transferred_size: (input.len() / 2) as u64,
            content_type: Some(part(3)).filter(|s| !s.is_empty()),
            request_id: Some(part(7)),
        });
        let exchange = Rendered {
            started_at: part(8),
            method: part(0),
            url: part(1),
            request_headers: vec![(part(2), part(3))],
            request_body: Some(part(4)).filter(|s| s.len() % 2 == 0),
            request_content_type: Some(part(3)),
            error: response.is_none().then(|| part(5)),
            response,
            request_id: part(7),
            connect_ms: None,
            ttfb_ms: number(1),
            total_ms: number(2),
        };
        let exchanges = vec![exchange.clone(), exchange];
        let check_id = part(9);
        let rendered = match std::panic::catch_unwind(AssertUnwindSafe(|| {
            har::render(&exchanges, "0.0.0", &check_id)
        })) {
            Ok(r) => r,
            Err(_) => return Verdict::Bug("har::render panicked".to_string()),
        };
        match serde_json::from_str::<serde_json::Value>(&rendered) {
            Ok(doc) => {
                let entries = doc["log"]["entries"].as_array().map(Vec::len);
                if doc["log"]["version"] != "1.2" || entries != Some(2) {
                    return Verdict::Bug(format!(
                        "HAR lacks log.version 1.2 or its 2 entries: {rendered}"
                    ));
                }
                Verdict::Ok(format!("ok:{}", !input.len().is_multiple_of(3)))
            }
            Err(e) => Verdict::Bug(format!("HAR is not JSON ({e}): {rendered}")),
        }
    }
}

// ------------------------------------------------------------------------------------------
// Lane planning: arbitrary source never panics and never outlives the plan deadline.

struct PlanTarget {
    engine: rhai::Engine,
    host: std::sync::Arc<oa_validate::engine::host::Host>,
    dir: PathBuf,
    _runtime: tokio::runtime::Runtime,
    slowest: Duration,
}

impl PlanTarget {
    fn new() -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("runtime");
        let targets = vec![oa_validate::config::Target {
            name: "staging".into(),
            label: "staging".into(),
            control_url: "http://127.0.0.1:9".into(),
            runtime_url: None,
            token: Some("fuzz-token-0123456789".into()),
            token_var: "STAGING_CONTROL_ACCESS_TOKEN".into(),
            simulated: true,
        }];
        let mut host = oa_validate::engine::host::Host::with_defaults(
            targets,
            oa_validate::config::EnvSnapshot::new([("RUN_X".to_string(), "1".to_string())]),
            runtime.handle().clone(),
        );
        host.settings.limits.max_body = 1 << 20;
        host.settings.limits.http_timeout = Duration::from_secs(1);
        let host = std::sync::Arc::new(host);
        let dir = std::env::temp_dir().join(format!("oa-validate-fuzz-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("fuzz temp dir");
        PlanTarget {
            engine: oa_validate::api::build(),
            host,
            dir,
            _runtime: runtime,
            slowest: Duration::ZERO,
        }
    }
}

impl Drop for PlanTarget {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl Target for PlanTarget {
    fn seeds(&self) -> Vec<Vec<u8>> {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut seeds = Vec::new();
        for dir in [
            "lanes",
            "stdlib",
            "tests/fixtures/cheats",
            "tests/fixtures/determinism",
            "tests/fixtures/secrets",
        ] {
            if let Ok(entries) = std::fs::read_dir(root.join(dir)) {
                for e in entries.flatten() {
                    if let Ok(bytes) = std::fs::read(e.path()) {
                        seeds.push(bytes);
                    }
                }
            }
        }
        seeds.push(b"required(\"a\", || { assert(true, \"x\") });".to_vec());
        seeds
    }
    fn dictionary(&self) -> Vec<&'static [u8]> {
        vec![
            b"required(\"x\", || { });",
            b"optional(",
            b"for t in targets() {",
            b"}",
            b"{",
            b"(",
            b")",
            b"loop {}",
            b"fn f(x) { f(x) }",
            b"import \"control\" as c;",
            b"throw 1;",
            b"#{ timeout: \"1s\" }",
            b"let s = \"x\"; s += s;",
            b"`${",
            b"\"",
            b"//",
            b"/*",
            b"|| ",
            b"eval(\"1\")",
            b"secret(\"abcdefgh\")",
            b"exit();",
            b"return;",
            b"http::get(\"http://127.0.0.1:9\")",
            b"[1,2,3].map(|x| x)",
        ]
    }
    fn run(&mut self, input: &[u8]) -> Verdict {
        let path = self.dir.join("lane.rhai");
        if std::fs::write(&path, input).is_err() {
            return Verdict::Ok("io".into());
        }
        let started = Instant::now();
        let outcome = std::panic::catch_unwind(AssertUnwindSafe(|| {
            let lane = oa_validate::config::LaneFile::Disk(path.clone());
            oa_validate::plan::plan(&self.engine, &self.host, std::slice::from_ref(&lane))
        }));
        let took = started.elapsed();
        self.slowest = self.slowest.max(took);
        let limit = oa_validate::engine::limits::PLAN_DEADLINE + Duration::from_secs(2);
        if took > limit {
            return Verdict::Bug(format!("planning took {took:?} (limit {limit:?})"));
        }
        match outcome {
            Err(_) => Verdict::Bug("the planner panicked".to_string()),
            Ok(Ok(plan)) => Verdict::Ok(format!("planned:{}", plan.checks.len().min(4))),
            Ok(Err(errors)) => {
                let first = errors.first().map(|e| e.message()).unwrap_or_default();
                let class: String = first
                    .chars()
                    .take_while(|c| !c.is_ascii_digit() && *c != '"' && *c != '\'')
                    .take(40)
                    .collect();
                Verdict::Ok(format!("error:{class}"))
            }
        }
    }
}

// ------------------------------------------------------------------------------------------
// The mutation loop.

fn mutate(rng: &mut StdRng, input: &mut Vec<u8>, corpus: &[Vec<u8>], dict: &[&[u8]]) {
    for _ in 0..rng.gen_range(1..=4) {
        let len = input.len();
        match rng.gen_range(0..8) {
            0 if len > 0 => {
                let i = rng.gen_range(0..len);
                input[i] ^= 1 << rng.gen_range(0..8);
            }
            1 => {
                let i = rng.gen_range(0..=len);
                input.insert(i, rng.r#gen());
            }
            2 if len > 0 => {
                let a = rng.gen_range(0..len);
                let b = (a + rng.gen_range(1..=16)).min(len);
                input.drain(a..b);
            }
            3 if len > 0 => {
                let a = rng.gen_range(0..len);
                let b = (a + rng.gen_range(1..=64)).min(len);
                let piece = input[a..b].to_vec();
                let at = rng.gen_range(0..=input.len());
                input.splice(at..at, piece);
            }
            4 | 5 if !dict.is_empty() => {
                let word = dict[rng.gen_range(0..dict.len())];
                let at = rng.gen_range(0..=len);
                input.splice(at..at, word.iter().copied());
            }
            6 if !corpus.is_empty() => {
                let other = &corpus[rng.gen_range(0..corpus.len())];
                if !other.is_empty() {
                    let a = rng.gen_range(0..other.len());
                    let b = (a + rng.gen_range(1..=128)).min(other.len());
                    let at = rng.gen_range(0..=len);
                    input.splice(at..at, other[a..b].iter().copied());
                }
            }
            _ if len > 0 => {
                let i = rng.gen_range(0..len);
                input[i] = *[b'"', b'{', b'}', b'(', b')', b';', b'\\', b'/', 0, 0xff]
                    .get(rng.gen_range(0..10))
                    .unwrap_or(&b'x');
            }
            _ => input.push(rng.r#gen()),
        }
    }
    input.truncate(64 * 1024);
}

// ------------------------------------------------------------------------------------------
// html::kv_rows: arbitrary markup never panics; rows are deterministic, their cells
// whitespace-collapsed, and there are never more rows than start tags in the input.

struct HtmlRows;

impl Target for HtmlRows {
    fn seeds(&self) -> Vec<Vec<u8>> {
        [
            "<h3>Hydra Routing</h3><div class=\"oa-kv\"><span>Decisions</span><strong>42</strong></div>",
            "<div class=oa-kv><span> a &amp; b </span><strong>\n 1\t2 </strong></div>",
            "<h3>x<div class=\"oa-kv\"><span>unclosed",
            "<table><div class=\"oa-kv\"><strong>in table</strong></div></table><h3></h3>",
            "<div class=\"x oa-kv y\"><span><span>nested</span></span></div>",
            "<template><div class=\"oa-kv\"><span>hidden</span></div></template>",
        ]
        .iter()
        .map(|s| s.as_bytes().to_vec())
        .collect()
    }
    fn dictionary(&self) -> Vec<&'static [u8]> {
        vec![
            b"<h3>",
            b"</h3>",
            b"<div class=\"oa-kv\">",
            b"</div>",
            b"<span>",
            b"</span>",
            b"<strong>",
            b"</strong>",
            b"&amp;",
            b"&#x20;",
            b"&nbsp;",
            b"<!--",
            b"-->",
            b"<script>",
            b"<table>",
            b"<svg>",
            b"\xc2\xa0",
        ]
    }
    fn run(&mut self, input: &[u8]) -> Verdict {
        let markup = String::from_utf8_lossy(input);
        let outcome = std::panic::catch_unwind(|| {
            (
                oa_validate::api::html::kv_rows(&markup),
                oa_validate::api::html::kv_rows(&markup),
            )
        });
        let Ok((rows, again)) = outcome else {
            return Verdict::Bug("kv_rows panicked".into());
        };
        if rows != again {
            return Verdict::Bug("kv_rows is not deterministic".into());
        }
        let start_tags = markup.matches('<').count();
        if rows.len() > start_tags {
            return Verdict::Bug(format!("{} rows from {start_tags} tags", rows.len()));
        }
        for row in &rows {
            for (what, cell) in [
                ("section", &row.section),
                ("label", &row.label),
                ("value", &row.value),
            ] {
                let collapsed = cell.split_whitespace().collect::<Vec<_>>().join(" ");
                if *cell != collapsed {
                    return Verdict::Bug(format!("{what} {cell:?} is not whitespace-collapsed"));
                }
            }
        }
        let class = |row: &oa_validate::api::html::KvRow| {
            format!(
                "{}{}{}",
                u8::from(!row.section.is_empty()),
                u8::from(!row.label.is_empty()),
                u8::from(!row.value.is_empty())
            )
        };
        Verdict::Ok(format!(
            "rows={} {}",
            rows.len().min(4),
            rows.iter()
                .map(class)
                .collect::<std::collections::BTreeSet<_>>()
                .into_iter()
                .collect::<Vec<_>>()
                .join(",")
        ))
    }
}

fn hash(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(&sha2::Sha256::digest(bytes)[..8])
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let name = args.first().map(String::as_str).unwrap_or("help");
    let seconds: u64 = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(10);
    let seed: u64 = args
        .get(2)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(rand::random);
    let mut target: Box<dyn Target> = match name {
        "json_pointer" => Box::new(JsonPointer {
            engine: oa_validate::api::build(),
        }),
        "redact" => Box::new(Redact),
        "har" => Box::new(Har),
        "plan" => Box::new(PlanTarget::new()),
        "html_rows" => Box::new(HtmlRows),
        _ => {
            eprintln!("usage: fuzz json_pointer|redact|har|plan|html_rows SECONDS [SEED]");
            std::process::exit(2);
        }
    };
    // Panics are findings, reported by the loop; keep the default hook's noise out.
    std::panic::set_hook(Box::new(|_| {}));
    let mut rng = StdRng::seed_from_u64(seed);
    let mut corpus = target.seeds();
    let dict = target.dictionary();
    let mut classes: HashSet<String> = HashSet::new();
    let started = Instant::now();
    let deadline = started + Duration::from_secs(seconds);
    let mut executions: u64 = 0;
    let mut findings: Vec<(String, String)> = Vec::new();
    let mut seen_findings: HashSet<String> = HashSet::new();
    let crashes = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/crashes");
    // Seeds first, as they are.
    let mut pending: Vec<Vec<u8>> = corpus.clone();
    while Instant::now() < deadline {
        let input = pending.pop().unwrap_or_else(|| {
            let mut input = corpus[rng.gen_range(0..corpus.len())].clone();
            mutate(&mut rng, &mut input, &corpus, &dict);
            input
        });
        executions += 1;
        let verdict = std::panic::catch_unwind(AssertUnwindSafe(|| target.run(&input)))
            .unwrap_or_else(|_| Verdict::Bug("panic".to_string()));
        match verdict {
            Verdict::Ok(class) => {
                if classes.insert(class) && corpus.len() < 4096 {
                    corpus.push(input);
                }
            }
            Verdict::Bug(message) => {
                // One report per kind of finding (its first words), not per input.
                let key: String = message
                    .split_whitespace()
                    .take(3)
                    .collect::<Vec<_>>()
                    .join(" ");
                if seen_findings.insert(key) {
                    let _ = std::fs::create_dir_all(&crashes);
                    let file = crashes.join(format!("{name}-{}", hash(&input)));
                    let _ = std::fs::write(&file, &input);
                    eprintln!(
                        "FINDING {name}: {message}\n  input saved to {}",
                        file.display()
                    );
                    findings.push((message, file.display().to_string()));
                }
            }
        }
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "{name}: {executions} executions in {secs:.0} s ({:.0}/s), seed {seed}, corpus {}, outcome classes {}, findings {}",
        executions as f64 / secs,
        corpus.len(),
        classes.len(),
        findings.len()
    );
    if !findings.is_empty() {
        std::process::exit(1);
    }
}
