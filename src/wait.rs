//! The one cancel-aware wait: until some work completes, a time limit passes, or the run is
//! interrupted. The transport and every binding that blocks on I/O use it.

use std::future::Future;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// How a bounded wait ended.
#[derive(Debug, PartialEq, Eq)]
pub enum Waited<T> {
    Done(T),
    TimedOut,
    Interrupted,
}

/// `work`'s output, or `None` when `cancel` fired first.
pub async fn cancellable<F: Future>(cancel: &CancellationToken, work: F) -> Option<F::Output> {
    tokio::select! {
        output = work => Some(output),
        _ = cancel.cancelled() => None,
    }
}

/// Awaits `work` for at most `limit`, stopping at once when `cancel` fires.
pub async fn bounded<F: Future>(
    limit: Duration,
    cancel: &CancellationToken,
    work: F,
) -> Waited<F::Output> {
    match cancellable(cancel, tokio::time::timeout(limit, work)).await {
        None => Waited::Interrupted,
        Some(Err(_)) => Waited::TimedOut,
        Some(Ok(output)) => Waited::Done(output),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_wait_ends_done_timed_out_or_interrupted() {
        let cancel = CancellationToken::new();
        let quick = bounded(Duration::from_secs(5), &cancel, async { 7 }).await;
        assert_eq!(quick, Waited::Done(7));
        let slow = bounded(
            Duration::from_millis(20),
            &cancel,
            tokio::time::sleep(Duration::from_secs(5)),
        )
        .await;
        assert_eq!(slow, Waited::TimedOut);
        cancel.cancel();
        let stopped = bounded(
            Duration::from_secs(5),
            &cancel,
            tokio::time::sleep(Duration::from_secs(5)),
        )
        .await;
        assert_eq!(stopped, Waited::Interrupted);
    }
}
