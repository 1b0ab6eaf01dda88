//! `oa-validate sim` running as a child, with the URLs its `export` lines announced.

use super::*;
use std::collections::BTreeMap;
use std::net::TcpListener;
use std::time::{Duration, Instant};

/// `oa-validate sim` running as a child, with the URLs its `export` lines announced.
/// The child is killed when this is dropped (also when the test fails).
pub struct SimProcess {
    _child: ChildGuard,
    pub staging_url: String,
    pub prod_url: String,
    pub offsite_url: String,
    /// Everything the sim printed before it was ready.
    pub stdout: String,
}

impl SimProcess {
    /// Starts `oa-validate sim <args>` with `env` and waits (up to 30 s) until both base URLs
    /// and the `# offsite` comment line were printed.
    #[track_caller]
    pub fn start(sb: &Sandbox, args: &[&str], env: &[(&str, &str)]) -> SimProcess {
        let mut cmd = sb.cmd().arg("sim").args(args);
        for (k, v) in env {
            cmd = cmd.env(k, v);
        }
        let mut guard = cmd.spawn();
        let stdout = guard.child().stdout.take().expect("sim stdout piped");
        // Keep stderr drained so a chatty sim can never block on a full pipe.
        let _stderr = read_in_background(guard.child().stderr.take().expect("sim stderr piped"));
        let rx = lines_in_background(stdout);
        let deadline = Instant::now() + Duration::from_secs(30);
        let (mut staging, mut prod, mut offsite) = (None, None, None);
        let mut printed = String::new();
        while staging.is_none() || prod.is_none() || offsite.is_none() {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = rx.recv_timeout(left).unwrap_or_else(|_| {
                panic!("`oa-validate sim` did not print its exports in time:\n{printed}")
            });
            printed.push_str(&line);
            printed.push('\n');
            if let Some(url) = line.strip_prefix("export STAGING_CONTROL_BASE_URL=") {
                staging = Some(url.trim().to_string());
            } else if let Some(url) = line.strip_prefix("export PROD_CONTROL_BASE_URL=") {
                prod = Some(url.trim().to_string());
            } else if line.starts_with("# offsite") {
                let url = line
                    .rsplit(' ')
                    .next()
                    .filter(|u| u.starts_with("http://"))
                    .unwrap_or_else(|| panic!("no URL in offsite line {line:?}"));
                offsite = Some(url.to_string());
            }
        }
        SimProcess {
            _child: guard,
            staging_url: staging.expect("staging url"),
            prod_url: prod.expect("prod url"),
            offsite_url: offsite.expect("offsite url"),
            stdout: printed,
        }
    }
}

/// The `export` lines `oa-validate sim <args>` prints, all of them, and the running sim.
pub fn sim_exports(sb: &Sandbox, args: &[&str]) -> (ChildGuard, BTreeMap<String, String>) {
    let mut guard = sb.cmd().arg("sim").args(args).spawn();
    let stdout = guard.child().stdout.take().expect("sim stdout");
    let rx = lines_in_background(stdout);
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut exports = BTreeMap::new();
    while exports.is_empty() {
        let left = deadline.saturating_duration_since(Instant::now());
        let line = rx
            .recv_timeout(left)
            .unwrap_or_else(|_| panic!("sim exports incomplete: {exports:?}"));
        if let Some((k, v)) = line.strip_prefix("export ").and_then(|l| l.split_once('=')) {
            exports.insert(k.to_string(), v.to_string());
        }
    }
    // The banner is one write: the lines after it (OA_REPO_ROOT, ...) are already there.
    while let Ok(line) = rx.recv_timeout(Duration::from_millis(300)) {
        if let Some((k, v)) = line.strip_prefix("export ").and_then(|l| l.split_once('=')) {
            exports.insert(k.to_string(), v.to_string());
        }
    }
    (guard, exports)
}

/// A loopback URL on which nothing listens (connections are refused at once).
pub fn refused_url() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("address");
    drop(listener);
    format!("http://{addr}")
}
