//! The host every command's scripts run with, built from the configuration, and planning
//! lanes with it (plan errors printed as code frames).

use super::deploy;
use crate::config::LaneFile;
use crate::config::{Deployment, PlanConfig, PrimitiveSettings, UsageError};
use crate::diagnostic;
use crate::engine::host::Host;
use crate::exit_code;
use crate::plan::{self, Plan};
use crate::redact::Redactor;
use std::sync::Arc;

/// The host of `deployment`, with a redactor that also guards the reports' own text.
pub fn build(
    runtime: &tokio::runtime::Runtime,
    deployment: Deployment,
    settings: PrimitiveSettings,
) -> Result<Arc<Host>, UsageError> {
    let redactor = Redactor::reserving(crate::evidence::vocabulary::report_vocabulary);
    let host = Host::new(deployment, settings, runtime.handle().clone(), redactor);
    Ok(Arc::new(host.map_err(UsageError)?))
}

/// Plans `lanes`; on errors prints them (code frames, redacted) and returns exit code 3.
pub fn plan(engine: &rhai::Engine, host: &Arc<Host>, lanes: &[LaneFile]) -> Result<Plan, i32> {
    plan::plan(engine, host, lanes).map_err(|errors| {
        let text = diagnostic::render_all(&errors, "nothing was run", crate::engine::sources::read);
        eprint!("{}", host.services.redactor.redact(&text));
        exit_code::LANE_ERROR
    })
}

/// What `list` and `check` share: the lanes of `config` planned against its deployment (a sim
/// is started for planning only) and narrowed to the checks of its phase. The plan, or the
/// exit code of its errors.
pub fn plan_only(
    runtime: &tokio::runtime::Runtime,
    config: PlanConfig,
) -> Result<(Arc<Host>, Result<Plan, i32>), UsageError> {
    let (deployment, _sim) = deploy::start(runtime, config.deployment)?;
    let host = build(runtime, deployment, config.settings)?;
    let engine = crate::api::build_confined(config.lanes.confinement());
    let mut plan = plan(&engine, &host, &config.lanes.files);
    if let Ok(plan) = &mut plan {
        plan.retain_phase(config.phase.phase);
    }
    Ok((host, plan))
}
