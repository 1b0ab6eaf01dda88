//! oa-validate: the release gate for the OpenAgents Rust cutover.
//!
//! Data flows one way: [`cli`] parses arguments and [`config`] resolves them, with the
//! environment, once; [`plan`] compiles lanes and collects declared checks (no I/O); [`gate`]
//! refuses what a release gate must not run; [`run`] executes the checks and emits
//! [`run::Event`]s; [`verdict`] decides GO / NO-GO from outcomes; [`report`] and [`evidence`]
//! consume events. [`app`] holds one file per command on top.
//!
//! Layers, lowest first (a layer uses only those below it): [`cutover`], [`config`],
//! [`redact`], [`outcome`], [`diagnostic`], [`shell`], [`wait`], [`duration`], [`file_input`],
//! [`reap`]; the Rhai-free transport [`net`], the Google client [`gcp`] on it, the browser
//! driver [`browser`] and the [`evidence_model`]; the [`engine`], then its bindings [`api`]
//! (`api::build` makes the engine with them); [`plan`], [`run`], [`gate`], [`verdict`];
//! [`summary`], [`report`], [`evidence`], [`invocation`] and [`ci`]; [`diff`], [`rerun`],
//! [`attest`] and [`archive`], which read evidence folders back; [`app`], one file per
//! command. The simulated deployment is its own crate, `oa_sim` (crates/oa-sim), which knows
//! nothing of the host.

pub mod api;
pub mod app;
pub mod archive;
pub mod attest;
pub mod browser;
pub mod ci;
pub mod cli;
pub mod config;
pub mod cutover;
pub mod diagnostic;
pub mod diff;
pub mod duration;
pub mod embedded;
pub mod engine;
pub mod evidence;
pub mod evidence_model;
pub mod exit_code;
pub mod file_input;
pub mod gate;
pub mod gcp;
pub mod invocation;
pub mod lock;
pub mod net;
pub mod outcome;
pub mod plan;
pub mod reap;
pub mod redact;
pub mod repl;
pub mod report;
pub mod rerun;
pub mod run;
pub mod setup;
pub mod shell;
pub mod summary;
pub mod verdict;
pub mod wait;
