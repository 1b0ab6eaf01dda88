//! What every binding needs, written once: the plan-time guard, the cancel-aware bounded wait,
//! typed stops (skip, interruption, deadline), and sending a request through the transport
//! into the running check's journal.

use crate::engine::context;
use crate::engine::host::Host;
use crate::engine::stop::Stop;
use crate::net;
use crate::wait::{self, Waited};
use rhai::{EvalAltResult, NativeCallContext};
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

pub(crate) type Res<T> = Result<T, Box<EvalAltResult>>;

/// A Rhai runtime error at the caller's position.
pub(crate) fn script_error(
    ctx: &NativeCallContext,
    message: impl Into<String>,
) -> Box<EvalAltResult> {
    Box::new(EvalAltResult::ErrorRuntime(
        message.into().into(),
        ctx.call_position(),
    ))
}

/// The host of the running check; refuses `verb` while a lane is being planned (the top level
/// of a lane only declares checks: no I/O, no assertions).
pub(crate) fn in_check(ctx: &NativeCallContext, verb: &str) -> Res<Arc<Host>> {
    if context::with_check(|_| ()).is_none() {
        return Err(script_error(
            ctx,
            format!(
                "{verb} at plan time: the top level of a lane only declares checks; move it into a check"
            ),
        ));
    }
    context::host().ok_or_else(|| script_error(ctx, "no host services"))
}

/// Ends the running check as skipped with `reason` (e.g. `gcloud not installed`): the same
/// uncatchable stop as the script's `skip(reason)`.
pub(crate) fn skip(ctx: &NativeCallContext, reason: impl Into<String>) -> Box<EvalAltResult> {
    let reason = reason.into();
    context::with_check(|c| c.record.skip = Some(reason.clone()));
    Stop::Skip(reason).raise(ctx.call_position())
}

/// Ends the running check as not checked here: `missing` is something this machine lacks (a
/// program, credentials), not a fault of the deployment.
pub(crate) fn missing_here(
    ctx: &NativeCallContext,
    missing: crate::outcome::Missing,
) -> Box<EvalAltResult> {
    let reason = missing.reason.clone();
    context::with_check(|c| c.record.missing = Some(missing));
    skip(ctx, reason)
}

/// The uncatchable stop raised when the run is interrupted during a primitive's wait.
pub(crate) fn interrupted(ctx: &NativeCallContext) -> Box<EvalAltResult> {
    Stop::Interrupted.raise(ctx.call_position())
}

/// The uncatchable stop raised when a primitive's wait ran into the check's deadline.
pub(crate) fn out_of_time(ctx: &NativeCallContext) -> Box<EvalAltResult> {
    Stop::Deadline.raise(ctx.call_position())
}

/// The stop a script sees when reading a file input was cut short (the check's deadline, an
/// interruption): uncatchable, like every other wait's. `None` for other errors.
pub(crate) fn file_input_stop(
    ctx: &NativeCallContext,
    error: &crate::file_input::FileInputError,
) -> Option<Box<EvalAltResult>> {
    use crate::file_input::{FileInputError, Stop as InputStop};
    match error {
        FileInputError::Stopped(InputStop::Deadline) => Some(out_of_time(ctx)),
        FileInputError::Stopped(InputStop::Interrupted) => Some(interrupted(ctx)),
        _ => None,
    }
}

/// Runs `work` on the host's runtime for at most `limit` (never past the check's deadline),
/// stopping at once on interruption. Blocks the calling (check) thread.
pub(crate) fn wait<F: Future>(host: &Host, limit: Duration, work: F) -> Waited<F::Output> {
    let limit = limit.min(context::remaining());
    host.services
        .runtime
        .block_on(wait::bounded(limit, &host.services.cancel, work))
}

/// Sends `request` through the run's transport, never past the check's deadline, and records
/// every hop in the running check's journal. `verb` names the primitive in errors.
pub(crate) fn send(
    ctx: &NativeCallContext,
    host: &Host,
    verb: &str,
    request: net::Request,
) -> Res<net::Response> {
    let not_after = crate::duration::deadline_after(Instant::now(), context::remaining());
    let mut journal = Vec::new();
    let sent =
        host.services
            .transport
            .send(request, not_after, &host.services.cancel, &mut journal);
    context::with_check(|c| c.record.journal.append(&mut journal));
    sent.map_err(|e| match e {
        net::NetError::Interrupted => interrupted(ctx),
        e => script_error(ctx, host.services.redactor.redact(&e.describe(verb))),
    })
}
