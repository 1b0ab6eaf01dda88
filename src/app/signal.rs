//! SIGINT and SIGTERM: the first cancels the run (checks stop, partial evidence is written),
//! a second exits at once.

use crate::exit_code;
use tokio_util::sync::CancellationToken;

/// Resolves when SIGINT or SIGTERM arrives.
pub async fn wait_for_signal() -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut term = signal(SignalKind::terminate())?;
        let mut int = signal(SignalKind::interrupt())?;
        tokio::select! {
            _ = term.recv() => {}
            _ = int.recv() => {}
        }
        Ok(())
    }
    #[cfg(not(unix))]
    {
        tokio::signal::ctrl_c().await
    }
}

/// First signal: cancel (checks stop, partial evidence is written). Second: exit at once.
pub fn install_interrupt_handler(runtime: &tokio::runtime::Runtime, cancel: CancellationToken) {
    runtime.spawn(async move {
        if wait_for_signal().await.is_err() {
            return;
        }
        cancel.cancel();
        if wait_for_signal().await.is_ok() {
            eprintln!("second interrupt: exiting now");
            std::process::exit(exit_code::INTERRUPTED);
        }
    });
}
