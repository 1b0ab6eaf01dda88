use clap::Parser;

fn main() {
    // Internal diagnostics (`OA_LOG=debug`), on stderr; user-facing output does not use this.
    // chromiumoxide warns on every CDP event newer than its generated types: not our news.
    let filter = tracing_subscriber::EnvFilter::try_from_env("OA_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn,chromiumoxide=error"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .init();
    if std::env::args_os().len() == 1 && !targets_named() {
        // Bare `oa-validate` with no target named anywhere would run the whole matrix against
        // the real https://openagents.com: show how to name what to run instead.
        let _ = <oa_validate::cli::Cli as clap::CommandFactory>::command().print_help();
        eprintln!(
            "\nerror: nothing named: give lane files, --lanes DIR or --sim, or set \
             STAGING_CONTROL_BASE_URL / PROD_CONTROL_BASE_URL (the real targets run with \
             `oa-validate --gate --phase app-surface`)"
        );
        std::process::exit(oa_validate::exit_code::USAGE);
    }
    let cli = oa_validate::cli::Cli::parse();
    std::process::exit(oa_validate::app::main(cli));
}

/// Whether the environment names a target (any of the upstream base URL variables).
fn targets_named() -> bool {
    [
        "STAGING_CONTROL_BASE_URL",
        "PROD_CONTROL_BASE_URL",
        "STAGING_RUNTIME_BASE_URL",
        "PROD_RUNTIME_BASE_URL",
    ]
    .iter()
    .any(|name| std::env::var_os(name).is_some_and(|v| !v.is_empty()))
}
