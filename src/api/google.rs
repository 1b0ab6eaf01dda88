//! The bindings' side of a Google call: refuse plan time, give the REST client a session over
//! the host and the running check, keep what it recorded, and turn its errors into what a
//! script sees (a skip without credentials, an interruption, an error).

use crate::api::bind::{self, Res};
use crate::engine::context;
use crate::evidence_model::Entry;
use crate::gcp::{self, Session};
use rhai::NativeCallContext;
use std::time::Instant;

/// Runs `call` with a session of the running check; `api` names the API at plan time.
pub(crate) fn with_session<T>(
    ctx: &NativeCallContext,
    api: gcp::rest::Api,
    call: impl FnOnce(&Session, &mut Vec<Entry>) -> Result<T, gcp::Error>,
) -> Res<T> {
    let host = bind::in_check(ctx, api.label())?;
    let session = Session {
        env: &host.env,
        transport: &host.services.transport,
        redactor: &host.services.redactor,
        cancel: &host.services.cancel,
        not_after: crate::duration::deadline_after(Instant::now(), context::remaining()),
    };
    let mut journal = Vec::new();
    let result = call(&session, &mut journal);
    context::with_check(|c| c.record.journal.append(&mut journal));
    result.map_err(|e| match e {
        gcp::Error::NoCredentials => bind::missing_here(
            ctx,
            crate::outcome::Missing::google_credentials(gcp::auth::NO_CREDENTIALS),
        ),
        gcp::Error::Interrupted => bind::interrupted(ctx),
        gcp::Error::Failed(message) => bind::script_error(ctx, message),
    })
}

/// A path segment from a script (see [`gcp::rest::segment`]), as a script error.
pub(crate) fn segment(ctx: &NativeCallContext, what: &str, value: &str) -> Res<String> {
    gcp::rest::segment(what, value).map_err(|e| bind::script_error(ctx, e))
}
