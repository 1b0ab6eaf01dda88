//! Declaring checks and the check's own verbs: `required`, `optional`, `targets`, `env`,
//! `skip`, `warn`, `evidence`, `secret`, `sleep`.

use crate::api::{bind, script_error};
use crate::engine::context::{self, CheckBody, DeclaredCheck};
use crate::outcome::{CheckSpec, Level};
use crate::wait::Waited;
use rhai::plugin::*;
use rhai::{Array, Dynamic, EvalAltResult, FnPtr, Map, NativeCallContext};
use std::time::Duration;

const OPTION_KEYS: &[&str] = &[
    "description",
    "timeout",
    "needs",
    "toggle",
    "mutates",
    "retries",
    "target",
    "phases",
    "after",
    "serial",
];

const EXIT_REFUSED: &str = "exit() is not available in lanes: a check ends by returning, and a lane declares all its checks";

/// A secret-named variable with a value too short to redact safely: never handed to a script
/// (it would reach outputs unredacted). Empty counts as unset.
fn refuse_short_secret(
    ctx: &NativeCallContext,
    name: &str,
    value: Option<&str>,
) -> Result<(), Box<EvalAltResult>> {
    match value {
        Some(v)
            if !v.is_empty()
                && v.len() < crate::config::MIN_SECRET_LEN
                && crate::config::is_secret_name(name) =>
        {
            Err(script_error(
                ctx,
                format!(
                    "{name} is named like a secret but shorter than {} characters: it cannot be \
                     redacted without masking ordinary text (a configuration error)",
                    crate::config::MIN_SECRET_LEN
                ),
            ))
        }
        _ => Ok(()),
    }
}

/// One entry of `needs`: an environment variable's *name* (`STAGING_CONTROL_ACCESS_TOKEN`),
/// never a value such as `t.token` (which would be skipped as an unset variable named by the
/// token, and whose text must not be echoed).
pub fn need_name(value: Dynamic) -> Result<String, String> {
    let hint = "expected environment variable names (upper-case letters, digits and `_`, not \
                starting with a digit), e.g. needs: \"STAGING_CONTROL_ACCESS_TOKEN\"; a \
                target's token is needed by its variable's name (t.token_var), not by its \
                value (t.token)";
    if !value.is_string() {
        return Err(format!("{hint}; got a {}", value.type_name()));
    }
    let name = value.to_string();
    let secret = context::host().is_some_and(|h| h.services.redactor.contains_secret(&name));
    let valid = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_uppercase() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_');
    if valid && !secret {
        return Ok(name);
    }
    if secret || name.len() > 64 {
        Err(format!("{hint}; got a value that is not a name"))
    } else {
        Err(format!("{hint}; got {name:?}"))
    }
}

/// Retries are bounded so a flapping check cannot stretch a gate run indefinitely.
pub const MAX_RETRIES: i64 = 5;

/// Parses `"10s"`, `"500ms"`, `"2m"` (or a number of seconds) into a duration.
pub fn parse_duration(value: &Dynamic) -> Result<Duration, String> {
    if let Ok(secs) = value.as_int() {
        return crate::duration::from_secs(secs);
    }
    if let Ok(secs) = value.as_float() {
        return crate::duration::from_secs_f64(secs);
    }
    let text = value
        .clone()
        .into_string()
        .map_err(|t| format!("a duration must be a string like \"10s\", not {t}"))?;
    crate::duration::parse(&text)
}

fn declare(
    ctx: &NativeCallContext,
    level: Level,
    id: &str,
    opts: Map,
    body: FnPtr,
) -> Result<(), Box<EvalAltResult>> {
    let position = context::call_site(ctx);
    // Closures capture variables by reference: every check declared in a `for t in targets()`
    // loop would see the last `t`. The check gets its own copy of everything it can reach.
    let body = crate::engine::capture::own_copy(&body)
        .map_err(|e| script_error(ctx, format!("{id}: {e}")))?;
    let mut check = CheckSpec::new(id, level, position);
    let body = CheckBody {
        function: body,
        declared_in: std::sync::Arc::new(store_context(ctx)),
    };
    // Ids name files in the evidence folder: a safe character set, and never a secret.
    let safe = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.');
    if id.is_empty() || id.starts_with('.') || !id.chars().all(safe) {
        return Err(script_error(
            ctx,
            format!("check id {id:?} may only use letters, digits, '-', '_' and '.'"),
        ));
    }
    if context::host().is_some_and(|h| h.services.redactor.contains_secret(id)) {
        return Err(script_error(ctx, "a check id must not contain a secret"));
    }
    for (key, value) in opts {
        let key = key.as_str();
        let bad = |what: &str| script_error(ctx, format!("option `{key}` of {id}: {what}"));
        match key {
            "description" => check.description = value.to_string(),
            "timeout" => check.timeout = Some(parse_duration(&value).map_err(|e| bad(&e))?),
            "needs" => {
                let values = if value.is_array() {
                    value.into_array().map_err(&bad)?
                } else {
                    vec![value]
                };
                check.needs = Vec::new();
                for need in values {
                    check.needs.push(need_name(need).map_err(|e| bad(&e))?);
                }
            }
            "toggle" => check.toggle = Some(value.to_string()),
            "mutates" => {
                check.mutates = value.as_bool().map_err(|_| bad("expected true or false"))?
            }
            "retries" => {
                let n = value.as_int().map_err(|_| bad("expected an integer"))?;
                if !(0..=MAX_RETRIES).contains(&n) {
                    return Err(bad(&format!("must be between 0 and {MAX_RETRIES}")));
                }
                check.retries = n as u32;
            }
            "target" => {
                check.target = Some(match value.read_lock::<Map>() {
                    Some(map) => map.get("name").map(|n| n.to_string()).unwrap_or_default(),
                    None => value.to_string(),
                })
            }
            "phases" => {
                let names: Vec<Dynamic> = if value.is_array() {
                    value.into_array().map_err(&bad)?
                } else {
                    vec![value]
                };
                for name in names {
                    let phase = name
                        .to_string()
                        .parse::<crate::cutover::CutoverPhase>()
                        .map_err(|e| bad(&e.to_string()))?;
                    if !check.phases.contains(&phase) {
                        check.phases.push(phase);
                    }
                }
                if check.phases.is_empty() {
                    return Err(bad(
                        "an empty list would never run: leave `phases` out to run in every phase",
                    ));
                }
            }
            "after" => {
                let values = if value.is_array() {
                    value.into_array().map_err(&bad)?
                } else {
                    vec![value]
                };
                for value in values {
                    let other = after_id(&value, id).map_err(|e| bad(&e))?;
                    if !check.after.contains(&other) {
                        check.after.push(other);
                    }
                }
            }
            "serial" => {
                let name = value
                    .into_string()
                    .map_err(|t| bad(&format!("expected a group name, got a {t}")))?;
                if name.is_empty() || !name.chars().all(safe) {
                    return Err(bad(
                        "a group name may only use letters, digits, '-', '_' and '.'",
                    ));
                }
                check.serial = Some(name);
            }
            _ => {
                return Err(script_error(
                    ctx,
                    format!(
                        "unknown option `{key}` of {id}{} (expected one of: {})",
                        crate::diagnostic::did_you_mean(
                            crate::diagnostic::closest(key, OPTION_KEYS.iter().copied())
                                .map(str::to_string)
                        ),
                        OPTION_KEYS.join(", ")
                    ),
                ));
            }
        }
    }
    if check.mutates && check.target.is_none() {
        // Without a target the production-mutation guard could not tell where it runs.
        return Err(script_error(
            ctx,
            format!("{id} declares `mutates: true` without `target`: say which target it changes"),
        ));
    }
    if let Some(host) = context::host() {
        host.services.redactor.protect(id);
    }
    let declared = context::with_plan(|_, checks| {
        // `after` names checks declared above in the same lane: the order then cannot loop,
        // and a lane planned alone (`oa-validate lanes/x.rhai`) has everything it waits for.
        let unknown = check
            .after
            .iter()
            .find(|other| !checks.iter().any(|c| &c.spec.id == *other))
            .cloned();
        match unknown {
            Some(other) => Err(after_unknown(&other, id, checks)),
            None => {
                checks.push(DeclaredCheck { spec: check, body });
                Ok(())
            }
        }
    });
    let declared = match declared {
        Some(Err(message)) => return Err(script_error(ctx, message)),
        Some(Ok(())) => Some(()),
        None => None,
    };
    match declared {
        Some(()) => Ok(()),
        None => Err(script_error(
            ctx,
            format!(
                "{}({id:?}) can only be called at the top level of a lane, not inside a check",
                level.as_str()
            ),
        )),
    }
}

/// One entry of `after`: a check id (a string), never the check's own.
fn after_id(value: &Dynamic, id: &str) -> Result<String, String> {
    let other = value
        .clone()
        .into_string()
        .map_err(|t| format!("expected check ids, got a {t}"))?;
    if other == id {
        return Err("a check cannot wait for itself".to_string());
    }
    Ok(other)
}

/// Why `after: other` of check `id` names nothing declared above it in its lane.
fn after_unknown(other: &str, id: &str, declared: &[DeclaredCheck]) -> String {
    let suggestion = crate::diagnostic::closest(other, declared.iter().map(|c| c.spec.id.as_str()))
        .map(str::to_string);
    format!(
        "option `after` of {id}: no check {other:?} declared above it in this lane{}",
        crate::diagnostic::did_you_mean(suggestion)
    )
}

#[allow(deprecated)]
fn store_context(ctx: &NativeCallContext) -> context::StoredContext {
    ctx.store_data()
}

/// A target as scripts see it (`targets()`, the REPL's `target`).
/// Waits `wanted`, never past the check's deadline (reached: the check stops as out of
/// time) and stopping at once on interruption.
pub(crate) fn sleep_for(
    ctx: &NativeCallContext,
    host: &crate::engine::host::Host,
    wanted: std::time::Duration,
) -> Result<(), Box<EvalAltResult>> {
    let wait = wanted.min(context::remaining());
    // The sleep is made inside the runtime (a timer needs one), hence the async block.
    let slept = bind::wait(host, wait, async { tokio::time::sleep(wait).await });
    if slept == Waited::Interrupted {
        return Err(bind::interrupted(ctx));
    }
    // Waking at the deadline means the check is out of time: stop here rather than let
    // the script run on until the next operation-count check.
    if wait < wanted {
        return Err(bind::out_of_time(ctx));
    }
    Ok(())
}

pub fn target_map(t: &crate::config::Target) -> Map {
    let or_unit = |v: &Option<String>| v.clone().map(Dynamic::from).unwrap_or(Dynamic::UNIT);
    let mut m = Map::new();
    m.insert("name".into(), t.name.clone().into());
    m.insert("label".into(), t.label.clone().into());
    m.insert("control_url".into(), t.control_url.clone().into());
    m.insert("runtime_url".into(), or_unit(&t.runtime_url));
    m.insert("token".into(), or_unit(&t.token));
    m.insert("token_var".into(), t.token_var.clone().into());
    m.insert("simulated".into(), t.simulated.into());
    m
}

#[export_module]
pub mod core_api {
    /// Declares a required check: it must pass for the verdict to be GO.
    /// `body` is a closure run later, when the check runs.
    #[rhai_fn(name = "required", return_raw)]
    pub fn required(
        ctx: NativeCallContext,
        id: &str,
        body: FnPtr,
    ) -> Result<(), Box<EvalAltResult>> {
        declare(&ctx, Level::Required, id, Map::new(), body)
    }

    /// Declares a required check with options: `description`, `timeout` ("10s"), `needs`
    /// (env vars that must be set, else not checked here), `toggle` (env var; off → skipped),
    /// `mutates` (bool; never against production without --allow-prod-mutations),
    /// `retries` (0..5, every attempt kept in the evidence), `target` (a target or its name),
    /// `phases` (cutover phases the check applies to, e.g. `["app-surface"]`; default: all).
    #[rhai_fn(name = "required", return_raw)]
    pub fn required_with(
        ctx: NativeCallContext,
        id: &str,
        opts: Map,
        body: FnPtr,
    ) -> Result<(), Box<EvalAltResult>> {
        declare(&ctx, Level::Required, id, opts, body)
    }

    /// Declares an optional check: reported, but never changes the verdict.
    #[rhai_fn(name = "optional", return_raw)]
    pub fn optional(
        ctx: NativeCallContext,
        id: &str,
        body: FnPtr,
    ) -> Result<(), Box<EvalAltResult>> {
        declare(&ctx, Level::Optional, id, Map::new(), body)
    }

    /// Declares an optional check with options (see `required`).
    #[rhai_fn(name = "optional", return_raw)]
    pub fn optional_with(
        ctx: NativeCallContext,
        id: &str,
        opts: Map,
        body: FnPtr,
    ) -> Result<(), Box<EvalAltResult>> {
        declare(&ctx, Level::Optional, id, opts, body)
    }

    /// The targets of this run (staging and prod, or the simulated pair), each a map with
    /// `name`, `label`, `control_url`, `runtime_url` (or `()`), `token` (or `()`), `token_var`,
    /// `simulated`.
    pub fn targets() -> Array {
        let Some(host) = context::host() else {
            return Array::new();
        };
        host.targets
            .iter()
            .map(|t| Dynamic::from_map(target_map(t)))
            .collect()
    }

    /// The value of an environment variable (upstream defaults applied), or `()` when unset.
    /// A secret-named variable (`*TOKEN*`, `*SECRET*`, `*KEY*`, ...) shorter than 8
    /// characters is an error: it cannot be redacted without masking ordinary text.
    #[rhai_fn(name = "env", return_raw)]
    pub fn env(ctx: NativeCallContext, name: &str) -> Result<Dynamic, Box<EvalAltResult>> {
        context::note_env_read(name);
        let host = context::host();
        if let Some(host) = &host {
            host.note_env_read(name);
        }
        let value = host.and_then(|h| h.env.get(name).map(str::to_string));
        refuse_short_secret(&ctx, name, value.as_deref())?;
        Ok(value.map(Dynamic::from).unwrap_or(Dynamic::UNIT))
    }

    /// The value of an environment variable, or `default` when unset or empty (a short
    /// secret-named variable is an error, as with `env(name)`).
    #[rhai_fn(name = "env", return_raw)]
    pub fn env_or(
        ctx: NativeCallContext,
        name: &str,
        default: &str,
    ) -> Result<String, Box<EvalAltResult>> {
        context::note_env_read(name);
        let host = context::host();
        if let Some(host) = &host {
            host.note_env_read(name);
        }
        let value = host.and_then(|h| h.env.get_nonempty(name).map(str::to_string));
        refuse_short_secret(&ctx, name, value.as_deref())?;
        Ok(value.unwrap_or_else(|| default.to_string()))
    }

    /// Ends the check as skipped with `reason`. A skipped required check is a NO-GO.
    #[rhai_fn(return_raw)]
    pub fn skip(ctx: NativeCallContext, reason: &str) -> Result<(), Box<EvalAltResult>> {
        bind::in_check(&ctx, "skip()")?;
        Err(bind::skip(&ctx, reason))
    }

    /// Records a warning: shown in the reports, never changes the outcome.
    #[rhai_fn(return_raw)]
    pub fn warn(ctx: NativeCallContext, message: &str) -> Result<(), Box<EvalAltResult>> {
        bind::in_check(&ctx, "warn()")?;
        let at = context::call_site(&ctx);
        context::log(format!("warning at {at}: {message}"));
        context::with_check(|c| c.record.warnings.push(message.to_string()));
        Ok(())
    }

    /// Saves `value` as `artifacts/<check_id>/<name>` (maps and arrays as JSON).
    #[rhai_fn(return_raw)]
    pub fn evidence(
        ctx: NativeCallContext,
        name: &str,
        value: Dynamic,
    ) -> Result<(), Box<EvalAltResult>> {
        let host = bind::in_check(&ctx, "evidence()")?;
        crate::evidence_model::artifact_name_error(name, &host.services.redactor)
            .map_or(Ok(()), |why| Err(script_error(&ctx, why)))?;
        let text = if value.is_string() {
            value.to_string()
        } else {
            let json: serde_json::Value = rhai::serde::from_dynamic(&value)
                .map_err(|e| script_error(&ctx, format!("evidence {name}: {e}")))?;
            serde_json::to_string_pretty(&json).unwrap_or_default()
        };
        context::with_check(|c| c.record.artifacts.push((name.to_string(), text)));
        Ok(())
    }

    /// Marks `value` as a secret: it is redacted from every output from now on. Returns it.
    #[rhai_fn(return_raw)]
    pub fn secret(ctx: NativeCallContext, value: &str) -> Result<String, Box<EvalAltResult>> {
        if value.len() < crate::config::MIN_SECRET_LEN {
            return Err(script_error(
                &ctx,
                format!(
                    "a secret shorter than {} characters would redact ordinary text",
                    crate::config::MIN_SECRET_LEN
                ),
            ));
        }
        if let Some(host) = context::host() {
            host.services
                .redactor
                .check_script_secret(value)
                .map_err(|why| script_error(&ctx, format!("secret() refused: {why}")))?;
            host.services.redactor.add(value);
        }
        Ok(value.to_string())
    }

    /// Milliseconds left before the running check's deadline (e.g. to decide whether a
    /// server's retry delay can still be waited out).
    #[rhai_fn(return_raw)]
    pub fn time_left(ctx: NativeCallContext) -> Result<rhai::INT, Box<EvalAltResult>> {
        bind::in_check(&ctx, "time_left()")?;
        Ok(context::remaining().as_millis() as rhai::INT)
    }

    /// Waits for `duration` ("250ms", "2s"), but never past the check's deadline.
    #[rhai_fn(return_raw)]
    pub fn sleep(ctx: NativeCallContext, duration: Dynamic) -> Result<(), Box<EvalAltResult>> {
        let host = bind::in_check(&ctx, "sleep()")?;
        let wanted = parse_duration(&duration).map_err(|e| script_error(&ctx, e))?;
        super::sleep_for(&ctx, &host, wanted)
    }

    /// Waits `seconds`, never past the check's deadline (as `sleep("2s")`).
    // Replaces Rhai's own `sleep(INT)`, a `thread::sleep` deaf to the check's deadline and
    // to interruption (`sleep(9223372036854775807)` hung the run).
    #[rhai_fn(name = "sleep", return_raw)]
    pub fn sleep_int(ctx: NativeCallContext, seconds: rhai::INT) -> Result<(), Box<EvalAltResult>> {
        sleep(ctx, Dynamic::from_int(seconds))
    }

    /// Waits `seconds` (`sleep(0.5)`), never past the check's deadline.
    // Replaces Rhai's own `sleep(FLOAT)` (see `sleep(INT)`).
    #[rhai_fn(name = "sleep", return_raw)]
    pub fn sleep_float(
        ctx: NativeCallContext,
        seconds: rhai::FLOAT,
    ) -> Result<(), Box<EvalAltResult>> {
        sleep(ctx, Dynamic::from_float(seconds))
    }

    /// Not available in lanes (it replaces Rhai's `exit`): at the top level it would end
    /// planning without an error and silently drop every check declared after it. A check
    /// ends by returning.
    #[rhai_fn(name = "exit", return_raw)]
    pub fn exit(ctx: NativeCallContext) -> Result<(), Box<EvalAltResult>> {
        Err(script_error(&ctx, EXIT_REFUSED))
    }

    /// Not available in lanes (see `exit()`).
    #[rhai_fn(name = "exit", return_raw)]
    pub fn exit_with(ctx: NativeCallContext, value: Dynamic) -> Result<(), Box<EvalAltResult>> {
        let _ = value;
        Err(script_error(&ctx, EXIT_REFUSED))
    }

    /// The lane file being evaluated (for messages).
    pub fn lane_file() -> String {
        context::current_lane()
    }

    /// The cutover phase of this run (`--phase`, or the default `"app-surface"`), or `()`
    /// outside a run.
    pub fn phase() -> Dynamic {
        context::host()
            .and_then(|h| {
                h.settings
                    .phase
                    .map(|p| Dynamic::from(p.name().to_string()))
            })
            .unwrap_or(Dynamic::UNIT)
    }

    /// A fresh identifier `<prefix>-<16 hex digits>` (idempotency keys, event ids).
    pub fn unique_id(prefix: &str) -> String {
        use rand::Rng;
        format!("{prefix}-{:016x}", rand::thread_rng().r#gen::<u64>())
    }
}
