use clap::Parser;

fn main() {
    let cli = oa_validate::cli::Cli::parse();
    std::process::exit(oa_validate::app::main(cli));
}
