//! What this machine must have for the planned checks, found before the first check runs
//! (issue 21, point 1): `cargo` for `cargo::test`, a Chromium for `browser::`, Google
//! credentials for `cloudrun::`/`logging::`. A run says what is missing up front, and what to
//! install; the checks that need it then end as not checked here, never as failures.

use crate::engine::host::Host;
use crate::outcome::Missing;
use crate::plan::Plan;

/// The lanes (display names) with a planned check whose source, or a stdlib module it
/// imports, calls one of `prefixes` (`cargo::`). By the text: a lane names what it calls.
pub(super) fn lanes_calling<'a>(plan: &'a Plan, prefixes: &[&str]) -> Vec<&'a str> {
    let calls = |source: &str| prefixes.iter().any(|p| source.contains(p));
    plan.lanes
        .iter()
        .filter(|lane| {
            calls(&lane.source)
                || crate::engine::stdlib::modules().any(|(name, module)| {
                    lane.source.contains(&format!("import \"{name}\"")) && calls(module)
                })
        })
        .filter(|lane| {
            plan.checks
                .iter()
                .any(|c| plan.lane_of(c).path == lane.path)
        })
        .map(|lane| lane.display.as_str())
        .collect()
}

/// The primitives whose checks need Google credentials.
pub(super) const GOOGLE_CALLS: [&str; 2] = ["cloudrun::", "logging::"];

/// Each thing this machine lacks that the plan's lanes call for, with those lanes. Runs
/// `cargo --version` when a lane calls `cargo::` (a local process, no request); finds Chromium
/// and Google credentials without starting or asking anything.
pub(super) fn missing_up_front(host: &Host, plan: &Plan) -> Vec<(Missing, Vec<String>)> {
    let mut missing = Vec::new();
    let owned = |lanes: Vec<&str>| lanes.into_iter().map(str::to_string).collect::<Vec<_>>();
    let cargo_lanes = lanes_calling(plan, &["cargo::"]);
    if !cargo_lanes.is_empty()
        && let Some(gap) = crate::api::cargo::missing_here(host)
    {
        missing.push((gap, owned(cargo_lanes)));
    }
    let browser_lanes = lanes_calling(plan, &["browser::"]);
    if !browser_lanes.is_empty()
        && crate::browser::find_chromium(host.env.get("OA_CHROMIUM"), host.env.get("PATH"))
            .is_none()
    {
        missing.push((
            Missing::program_not_installed("chromium"),
            owned(browser_lanes),
        ));
    }
    let google_lanes = lanes_calling(plan, &GOOGLE_CALLS);
    if !google_lanes.is_empty()
        && let Ok(None) =
            crate::gcp::auth::discover(&host.env, crate::gcp::auth::on_google_hardware())
    {
        missing.push((
            Missing::google_credentials(crate::gcp::auth::NO_CREDENTIALS),
            owned(google_lanes),
        ));
    }
    missing
}
