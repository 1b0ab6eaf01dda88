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
    let cli = oa_validate::cli::Cli::parse();
    std::process::exit(oa_validate::app::main(cli));
}
