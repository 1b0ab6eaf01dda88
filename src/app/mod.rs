//! The commands, one file each: from the resolved configuration to an exit code. This file
//! only dispatches; a new command is a new file and one line here.

mod check;
mod defs;
mod deploy;
mod diff;
mod host;
mod list;
mod local;
mod lock;
mod pipeline;
mod plan;
mod repl;
mod report;
mod rerun;
mod run;
mod setup;
mod show;
mod signal;
mod sim;

use crate::cli::Cli;
use crate::config::{self, CommandConfig, EnvSnapshot, UsageError};
use crate::exit_code;

/// Runs the parsed command line; returns the process exit code.
pub fn main(cli: Cli) -> i32 {
    let config = match config::resolve(cli, EnvSnapshot::capture(), chrono::Utc::now()) {
        Ok(config) => config,
        Err(e) => return usage_error(&e),
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return exit_code::USAGE;
        }
    };
    // Orphaned descendants (a program's child that called `setsid`, then lost its parent)
    // stay in this process's tree, where they are found and ended (crate::reap).
    crate::reap::become_subreaper();
    let style = config.style;
    let result = match config.command {
        CommandConfig::Run(c) => run::run(&runtime, c, style, None),
        CommandConfig::Plan(c) => plan::plan(&runtime, c),
        CommandConfig::List(c, json) => list::list(&runtime, c, json),
        CommandConfig::Check(c) => check::check(&runtime, c),
        CommandConfig::Sim(c) => sim::serve(&runtime, c),
        CommandConfig::Repl(c) => repl::repl(&runtime, c),
        CommandConfig::Defs(c) => defs::defs(&c),
        CommandConfig::Report(c) => report::report(&c),
        CommandConfig::Diff(c) => diff::diff(&c),
        CommandConfig::Rerun(c) => rerun::rerun(&runtime, c, style),
        CommandConfig::Lock(c) => lock::lock(&runtime, c),
        CommandConfig::Setup(env) => setup::setup(&env),
        CommandConfig::Show(path) => show::show(path.as_deref()),
    };
    result.unwrap_or_else(|e| usage_error(&e))
}

/// Says on stderr which files of an evidence folder were refused (a link, a FIFO, a device...)
/// and so left out of what the command shows.
fn say_refused(dir: &std::path::Path, refused: &[String], redactor: &crate::redact::Redactor) {
    for line in refused {
        eprintln!(
            "warning: {}/{}",
            dir.display(),
            crate::diagnostic::escape_controls(&redactor.redact(line))
        );
    }
}

fn usage_error(e: &UsageError) -> i32 {
    eprintln!(
        "{}",
        crate::diagnostic::for_terminal(&format!("error: {e}"))
    );
    exit_code::USAGE
}
