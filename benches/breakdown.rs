//! Where a checked request's time goes, measured in one process against one loopback URL:
//! `cargo run --release --example breakdown -- URL [REQUESTS] [ROUNDS]` (benches/bench.py runs
//! it and puts the table in RESULTS.md).
//!
//! Each layer is timed on its own for REQUESTS sequential keep-alive GETs, ROUNDS times (the
//! layers in turn within each round), and reported per request — wall time (median and range
//! over the rounds) and this process's CPU time (median) — from the bare HTTP client up to
//! a Rhai check asserting on every response: hyper's connection alone; hyper-util's pooled
//! client (what `net` drove until issue 23); reqwest (what `net` drives); `net::Transport::send` with its
//! credential policy and recorder; rendering one recorded exchange for the evidence (done once
//! the check has ended); and the whole checked GET of a lane (`http::get`, `assert_status`,
//! `json_get`, `assert_eq`) run by the runner.

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use oa_validate::config::{EnvSnapshot, Target};
use oa_validate::engine::host::Host;
use oa_validate::evidence::exchange::Rendered;
use oa_validate::evidence_model::Entry;
use oa_validate::net::{Method, Request};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A layer's name and one round of it.
type Layer = (&'static str, Box<dyn FnMut()>);

/// CPU time of this process so far (user and system, every thread), in microseconds: less
/// disturbed by the machine's other tenants than wall time.
fn cpu_us() -> f64 {
    // SAFETY: getrusage only writes the struct it is given.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) };
    let us = |t: libc::timeval| t.tv_sec as f64 * 1e6 + t.tv_usec as f64;
    us(usage.ru_utime) + us(usage.ru_stime)
}

fn main() {
    let mut args = std::env::args().skip(1);
    let url = args
        .next()
        .expect("usage: breakdown URL [REQUESTS] [ROUNDS]");
    let requests: usize = args.next().map_or(1000, |n| n.parse().expect("REQUESTS"));
    let rounds: usize = args.next().map_or(7, |n| n.parse().expect("ROUNDS"));
    let parsed = url::Url::parse(&url).expect("a URL");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");

    // Every layer is run once per round, in turn, so a shared machine's slow spells fall on
    // all of them alike rather than on whichever layer happened to run then.
    let mut layers: Vec<Layer> = Vec::new();
    let mut time = |name: &'static str, round: Box<dyn FnMut()>| layers.push((name, round));

    // hyper's HTTP/1.1 connection, no pool: the floor of a Rust client on tokio.
    let (sender, authority) = rt.block_on(async {
        let authority = format!(
            "{}:{}",
            parsed.host_str().expect("host"),
            parsed.port_or_known_default().expect("port")
        );
        let stream = tokio::net::TcpStream::connect(&authority)
            .await
            .expect("connect");
        stream.set_nodelay(true).expect("nodelay");
        let (sender, conn) =
            hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
                .await
                .expect("handshake");
        tokio::spawn(conn);
        (sender, authority)
    });
    let path: hyper::Uri = parsed.path().parse().expect("path");
    let rt = Arc::new(rt);
    {
        let rt = rt.clone();
        let (path, authority) = (path.clone(), authority.clone());
        let mut sender = sender;
        time(
            "hyper connection (no pool)",
            Box::new(move || {
                for _ in 0..requests {
                    rt.block_on(async {
                        sender.ready().await.expect("ready");
                        let request = hyper::Request::get(path.clone())
                            .header("host", authority.as_str())
                            .body(Empty::<Bytes>::new())
                            .expect("request");
                        let response = sender.send_request(request).await.expect("send");
                        response.into_body().collect().await.expect("body");
                    });
                }
            }),
        );
    }

    // hyper-util's pooled client: what `net` drove until issue 23.
    let pooled: hyper_util::client::legacy::Client<_, Empty<Bytes>> =
        hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
            .build_http();
    let uri: hyper::Uri = url.parse().expect("uri");
    {
        let rt = rt.clone();
        time(
            "hyper-util pooled client",
            Box::new(move || {
                for _ in 0..requests {
                    rt.block_on(async {
                        let request = hyper::Request::get(uri.clone())
                            .body(Empty::<Bytes>::new())
                            .expect("request");
                        let response = pooled.request(request).await.expect("send");
                        response.into_body().collect().await.expect("body");
                    });
                }
            }),
        );
    }

    // reqwest: what `net` drives (net's own client adds its TLS configuration, the proxy
    // table and the connect timer, none of which a keep-alive loopback GET exercises).
    let client = reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .tcp_nodelay(true)
        .build()
        .expect("reqwest");
    {
        let (rt, url) = (rt.clone(), url.clone());
        time(
            "reqwest client",
            Box::new(move || {
                for _ in 0..requests {
                    rt.block_on(async {
                        let response = client.get(&url).send().await.expect("send");
                        response.bytes().await.expect("body");
                    });
                }
            }),
        );
    }

    // The transport: request ids, the credential policy (two targets' tokens), the
    // recorder keeping every raw exchange.
    let shared = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    let targets: Vec<Target> = ["staging", "prod"]
        .into_iter()
        .map(|name| Target {
            name: name.to_string(),
            label: name.to_string(),
            control_url: format!("https://{name}.example"),
            runtime_url: None,
            token: Some(format!("{name}-token-0123456789abcdef")),
            token_var: String::new(),
            simulated: false,
        })
        .collect();
    let host = Arc::new(Host::with_defaults(
        targets,
        EnvSnapshot::default(),
        shared.handle().clone(),
    ));
    let recorded = std::rc::Rc::new(std::cell::RefCell::new(Vec::<Entry>::new()));
    {
        let (host, parsed, recorded) = (host.clone(), parsed.clone(), recorded.clone());
        time(
            "net::Transport::send (policy, recorder)",
            Box::new(move || {
                let mut journal = Vec::with_capacity(requests);
                for _ in 0..requests {
                    let request =
                        Request::new(Method::GET, parsed.clone(), Duration::from_secs(10));
                    host.services
                        .transport
                        .send(
                            request,
                            Instant::now() + Duration::from_secs(10),
                            &host.services.cancel,
                            &mut journal,
                        )
                        .expect("send");
                }
                *recorded.borrow_mut() = journal;
            }),
        );
    }

    // Rendering what was recorded, as the evidence writer does when a check ends.
    {
        let (host, recorded) = (host.clone(), recorded.clone());
        time(
            "rendering one exchange (log line + HAR), at check end",
            Box::new(move || {
                let journal = recorded.borrow();
                let rendered: Vec<Rendered> = journal
                    .iter()
                    .filter_map(|e| match e {
                        Entry::Exchange(x) => Some(Rendered::from_raw(x, &host.services.redactor)),
                        Entry::Line(_) => None,
                    })
                    .collect();
                let lines: usize = rendered.iter().map(|r| r.log_line().len()).sum();
                let har = oa_validate::evidence::har::render(&rendered, "0", "bench");
                std::hint::black_box((lines, host.services.redactor.redact(&har)));
            }),
        );
    }

    // The whole checked GET of a lane, through the engine and the runner.
    let lane = std::env::temp_dir().join(format!("oa-breakdown-{}.rhai", std::process::id()));
    std::fs::write(
        &lane,
        format!(
            r#"required("checked-gets", #{{ timeout: "600s" }}, || {{
    for i in 0..{requests} {{
        let r = http::get("{url}");
        assert_status(r, 200);
        assert_eq(json_get(r, "/ok", ()), true, "ok");
    }}
}});
"#
        ),
    )
    .expect("lane");
    let engine = oa_validate::api::build();
    let lane_file = oa_validate::config::LaneFile::Disk(lane.clone());
    let plan = oa_validate::plan::plan(&engine, &host, std::slice::from_ref(&lane_file))
        .unwrap_or_else(|_| panic!("the lane plans"));
    let _ = std::fs::remove_file(&lane); // planned: compiled, read no more
    let settings = oa_validate::run::RunSettings {
        fail_fast: false,
        jobs: 1,
        default_timeout: Duration::from_secs(600),
        http_archive: true,
    };
    time(
        "checked GET in a lane (http::get, assert_status, json_get, assert_eq)",
        Box::new(move || {
            let outcome = oa_validate::run::run(&plan, &engine, &host, &settings, |_| {});
            assert_eq!(
                outcome.results[0].status,
                oa_validate::outcome::Status::Passed,
                "{:?}",
                outcome.results[0].reason
            );
        }),
    );

    let mut wall: Vec<Vec<f64>> = vec![Vec::new(); layers.len()];
    let mut cpu: Vec<Vec<f64>> = vec![Vec::new(); layers.len()];
    for (_, round) in layers.iter_mut() {
        round(); // warm-up: connections, caches
    }
    for _ in 0..rounds {
        for (i, (_, round)) in layers.iter_mut().enumerate() {
            let (started, cpu_before) = (Instant::now(), cpu_us());
            round();
            wall[i].push(started.elapsed().as_secs_f64() * 1e6 / requests as f64);
            cpu[i].push((cpu_us() - cpu_before) / requests as f64);
        }
    }

    let median = |values: &mut Vec<f64>| {
        values.sort_by(f64::total_cmp);
        values[values.len() / 2]
    };
    println!("| layer | us per request, median | min | max | CPU us per request, median |");
    println!("| --- | --- | --- | --- | --- |");
    for (i, (name, _)) in layers.iter().enumerate() {
        let cpu = median(&mut cpu[i]);
        let values = &mut wall[i];
        println!(
            "| {name} | {:.1} | {:.1} | {:.1} | {cpu:.1} |",
            median(values),
            values[0],
            values[values.len() - 1]
        );
    }
}
