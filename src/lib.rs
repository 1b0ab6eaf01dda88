//! oa-validate: the release gate for the OpenAgents Rust cutover.
//!
//! Data flows one way: [`cli`] resolves a [`config::RunConfig`]; [`plan`] compiles lanes and
//! collects declared checks (no I/O); [`run`] executes them and emits [`run::Event`]s;
//! [`verdict`] decides GO / NO-GO from outcomes; [`report`] and [`evidence`] consume events.

pub mod api;
pub mod app;
pub mod ci;
pub mod cli;
pub mod config;
pub mod diff;
pub mod engine;
pub mod evidence;
pub mod exit_code;
pub mod gcp;
pub mod invocation;
pub mod outcome;
pub mod plan;
pub mod repl;
pub mod report;
pub mod rerun;
pub mod run;
pub mod setup;
pub mod sim;
pub mod verdict;
