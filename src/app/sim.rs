//! `oa-validate sim`: serve the simulated deployment on loopback and print the environment
//! that points oa-validate at it, until SIGINT or SIGTERM.

use super::signal::wait_for_signal;
use crate::config::{SimCommandConfig, UsageError};
use crate::exit_code;

pub fn serve(
    runtime: &tokio::runtime::Runtime,
    config: SimCommandConfig,
) -> Result<i32, UsageError> {
    if config.list_faults {
        print!("{}", oa_sim::fault_help());
        return Ok(exit_code::GO);
    }
    if config.sim.setup
        && let Err(e) = crate::setup::ensure(&config.env)
    {
        eprintln!("warning: setup: {e}");
    }
    let (sim, exports) = super::deploy::start_sim(runtime, &config.sim, &config.env)?;
    let mut banner = String::from("# oa-validate simulated deployment (Ctrl-C to stop)\n");
    banner.push_str(&format!(
        "# upstream era: {} ({})\n",
        config.sim.era.commit(),
        config.sim.era.describe()
    ));
    if !config.sim.faults.is_empty() {
        let names: Vec<&str> = config.sim.faults.iter().map(|f| f.name()).collect();
        banner.push_str(&format!("# faults: {}\n", names.join(", ")));
    }
    // The same list `--sim` applies to a run's environment, so a served sim runs the whole matrix.
    banner.push_str(&super::deploy::export_lines(&exports));
    // One write, errors ignored: a reader that takes the lines it needs and closes the pipe
    // must not take the sim down with it (println! panics on a broken pipe).
    {
        use std::io::Write;
        let mut stdout = std::io::stdout().lock();
        let _ = stdout.write_all(banner.as_bytes());
        let _ = stdout.flush();
    }
    runtime.block_on(async {
        let _ = wait_for_signal().await;
    });
    drop(sim);
    Ok(exit_code::GO)
}
