//! Named faults: each one breaks exactly the behaviour a check relies on, so every check can be
//! shown to fail against the sim.

use std::fmt;
use std::str::FromStr;

/// A deliberate misbehaviour of the simulated deployment, selected by its kebab-case name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Fault {
    /// `readyz-503`
    Readyz503,
    /// `healthz-404`
    Healthz404,
    /// `control-status-500`
    ControlStatus500,
    /// `manifest-version-wrong`
    ManifestVersionWrong,
    /// `sw-cache-wrong`
    SwCacheWrong,
    /// `manifest-cache-wrong`
    ManifestCacheWrong,
    /// `asset-not-immutable`
    AssetNotImmutable,
    /// `manifest-entry-missing`
    ManifestEntryMissing,
    /// `session-401`
    Session401,
    /// `sync-token-500`
    SyncToken500,
    /// `v1-sync-token-unrouted`
    V1SyncTokenUnrouted,
    /// `retired-route-alive`
    RetiredRouteAlive,
    /// `redirect-offsite`
    RedirectOffsite,
    /// `stats-runtime-unavailable`
    StatsRuntimeUnavailable,
    /// `stats-outage-rows`
    StatsOutageRows,
    /// `fragment-hx-request-ignored`
    FragmentHxRequestIgnored,
    /// `stats-row-missing`
    StatsRowMissing,
    /// `stats-cache-wrong`
    StatsCacheWrong,
    /// `inbox-500`
    Inbox500,
    /// `reply-send-no-message-id`
    ReplySendNoMessageId,
    /// `comms-replay-not-idempotent`
    CommsReplayNotIdempotent,
    /// `oauth-redirect-wrong`
    OauthRedirectWrong,
    /// `runtime-readyz-503`
    RuntimeReadyz503,
    /// `run-create-500`
    RunCreate500,
    /// `openapi-missing-credit`
    OpenapiMissingCredit,
    /// `credit-health-schema-wrong`
    CreditHealthSchemaWrong,
    /// `credit-policy-incomplete`
    CreditPolicyIncomplete,
    /// `openapi-missing-hydra`
    OpenapiMissingHydra,
    /// `observability-missing-fx`
    ObservabilityMissingFx,
    /// `route-without-handler`
    RouteWithoutHandler,
    /// `job-image-drift`
    JobImageDrift,
    /// `execution-failed`
    ExecutionFailed,
    /// `no-executions`
    NoExecutions,
    /// `error-logs-present`
    ErrorLogsPresent,
    /// `traffic-split-broken`
    TrafficSplitBroken,
    /// `latest-not-ready`
    LatestNotReady,
    /// `no-rollback-revision`
    NoRollbackRevision,
    /// `cloudrun-403`
    Cloudrun403,
    /// `feed-fragment-slow`
    FeedFragmentSlow,
    /// `login-too-large`
    LoginTooLarge,
    /// `chat-send-500`
    ChatSend500,
    /// `canary-override-ignored`
    CanaryOverrideIgnored,
    /// `rollback-matrix-missing`
    RollbackMatrixMissing,
    /// `canary-token-not-admin`
    CanaryTokenNotAdmin,
    /// `chat-history-broken`
    ChatHistoryBroken,
    /// `settings-not-saved`
    SettingsNotSaved,
    /// `htmx-missing`
    HtmxMissing,
}

/// `sim --fault help`: one line per fault, its name then what it does, the descriptions
/// aligned in one column after the longest name.
pub fn help() -> String {
    let width = Fault::all()
        .iter()
        .map(|f| f.name().len())
        .max()
        .unwrap_or(0);
    Fault::all()
        .iter()
        .map(|f| format!("{:width$}  {}\n", f.name(), f.describe()))
        .collect()
}

// `FromStr` walks this list comparing `name()`, so a new variant only needs adding here and
// to the two exhaustive matches below (which the compiler enforces).
const ALL: &[Fault] = &[
    Fault::Readyz503,
    Fault::Healthz404,
    Fault::ControlStatus500,
    Fault::ManifestVersionWrong,
    Fault::SwCacheWrong,
    Fault::ManifestCacheWrong,
    Fault::AssetNotImmutable,
    Fault::ManifestEntryMissing,
    Fault::Session401,
    Fault::SyncToken500,
    Fault::V1SyncTokenUnrouted,
    Fault::RetiredRouteAlive,
    Fault::RedirectOffsite,
    Fault::StatsRuntimeUnavailable,
    Fault::StatsOutageRows,
    Fault::FragmentHxRequestIgnored,
    Fault::StatsRowMissing,
    Fault::StatsCacheWrong,
    Fault::Inbox500,
    Fault::ReplySendNoMessageId,
    Fault::CommsReplayNotIdempotent,
    Fault::OauthRedirectWrong,
    Fault::RuntimeReadyz503,
    Fault::RunCreate500,
    Fault::OpenapiMissingCredit,
    Fault::CreditHealthSchemaWrong,
    Fault::CreditPolicyIncomplete,
    Fault::OpenapiMissingHydra,
    Fault::ObservabilityMissingFx,
    Fault::RouteWithoutHandler,
    Fault::JobImageDrift,
    Fault::ExecutionFailed,
    Fault::NoExecutions,
    Fault::ErrorLogsPresent,
    Fault::TrafficSplitBroken,
    Fault::LatestNotReady,
    Fault::NoRollbackRevision,
    Fault::Cloudrun403,
    Fault::FeedFragmentSlow,
    Fault::LoginTooLarge,
    Fault::ChatSend500,
    Fault::CanaryOverrideIgnored,
    Fault::RollbackMatrixMissing,
    Fault::CanaryTokenNotAdmin,
    Fault::ChatHistoryBroken,
    Fault::SettingsNotSaved,
    Fault::HtmxMissing,
];

impl Fault {
    /// Every fault, in documentation order.
    pub fn all() -> &'static [Fault] {
        ALL
    }

    /// The kebab-case name accepted by `FromStr`.
    pub fn name(self) -> &'static str {
        match self {
            Fault::Readyz503 => "readyz-503",
            Fault::Healthz404 => "healthz-404",
            Fault::ControlStatus500 => "control-status-500",
            Fault::ManifestVersionWrong => "manifest-version-wrong",
            Fault::SwCacheWrong => "sw-cache-wrong",
            Fault::ManifestCacheWrong => "manifest-cache-wrong",
            Fault::AssetNotImmutable => "asset-not-immutable",
            Fault::ManifestEntryMissing => "manifest-entry-missing",
            Fault::Session401 => "session-401",
            Fault::SyncToken500 => "sync-token-500",
            Fault::V1SyncTokenUnrouted => "v1-sync-token-unrouted",
            Fault::RetiredRouteAlive => "retired-route-alive",
            Fault::RedirectOffsite => "redirect-offsite",
            Fault::StatsRuntimeUnavailable => "stats-runtime-unavailable",
            Fault::StatsOutageRows => "stats-outage-rows",
            Fault::FragmentHxRequestIgnored => "fragment-hx-request-ignored",
            Fault::StatsRowMissing => "stats-row-missing",
            Fault::StatsCacheWrong => "stats-cache-wrong",
            Fault::Inbox500 => "inbox-500",
            Fault::ReplySendNoMessageId => "reply-send-no-message-id",
            Fault::CommsReplayNotIdempotent => "comms-replay-not-idempotent",
            Fault::OauthRedirectWrong => "oauth-redirect-wrong",
            Fault::RuntimeReadyz503 => "runtime-readyz-503",
            Fault::RunCreate500 => "run-create-500",
            Fault::OpenapiMissingCredit => "openapi-missing-credit",
            Fault::CreditHealthSchemaWrong => "credit-health-schema-wrong",
            Fault::CreditPolicyIncomplete => "credit-policy-incomplete",
            Fault::OpenapiMissingHydra => "openapi-missing-hydra",
            Fault::ObservabilityMissingFx => "observability-missing-fx",
            Fault::RouteWithoutHandler => "route-without-handler",
            Fault::JobImageDrift => "job-image-drift",
            Fault::ExecutionFailed => "execution-failed",
            Fault::NoExecutions => "no-executions",
            Fault::ErrorLogsPresent => "error-logs-present",
            Fault::TrafficSplitBroken => "traffic-split-broken",
            Fault::LatestNotReady => "latest-not-ready",
            Fault::NoRollbackRevision => "no-rollback-revision",
            Fault::Cloudrun403 => "cloudrun-403",
            Fault::FeedFragmentSlow => "feed-fragment-slow",
            Fault::LoginTooLarge => "login-too-large",
            Fault::ChatSend500 => "chat-send-500",
            Fault::CanaryOverrideIgnored => "canary-override-ignored",
            Fault::RollbackMatrixMissing => "rollback-matrix-missing",
            Fault::CanaryTokenNotAdmin => "canary-token-not-admin",
            Fault::ChatHistoryBroken => "chat-history-broken",
            Fault::SettingsNotSaved => "settings-not-saved",
            Fault::HtmxMissing => "htmx-missing",
        }
    }

    /// One line naming what the fault does and which check it breaks.
    ///
    /// (The help, [`help`], lists every fault with this line.)
    pub fn describe(self) -> &'static str {
        match self {
            Fault::Readyz503 => "/readyz answers 503 not_ready: breaks the control readiness check",
            Fault::Healthz404 => {
                "/healthz answers 404: breaks no check; control-*-health and -smoke only warn (/readyz is canonical)"
            }
            Fault::ControlStatus500 => {
                "/api/v1/control/status answers 500 even with a valid token: breaks the authenticated status check"
            }
            Fault::ManifestVersionWrong => {
                "/manifest.json declares openagents.webshell.v1: breaks control-*-static-host (app-surface)"
            }
            Fault::SwCacheWrong => {
                "/sw.js is served public, max-age=3600: breaks control-*-static-host (app-surface)"
            }
            Fault::ManifestCacheWrong => {
                "/manifest.json is served public, max-age=3600: breaks control-*-static-host (app-surface)"
            }
            Fault::AssetNotImmutable => {
                "manifest.json names a hashed entry (assets/openagents_web_shell-3f9a2b7c.js) served public, max-age=60: breaks control-*-static-host (app-surface)"
            }
            Fault::ManifestEntryMissing => {
                "manifest.json's relative entry.js names a file the server does not serve (404): breaks control-*-static-host (app-surface)"
            }
            Fault::Session401 => {
                "both session routes answer 401 even with a valid token: breaks the session checks"
            }
            Fault::SyncToken500 => "POST /api/sync/token answers 500: breaks the sync token check",
            Fault::V1SyncTokenUnrouted => {
                "POST /api/v1/sync/token is not routed (405 from the GET catch-all) before its retirement: breaks control-*-smoke (app-surface)"
            }
            Fault::RetiredRouteAlive => {
                "POST /api/v1/sync/token is still routed and answers 200 with a token: breaks control-*-retired-routes (spacetime-convergence, legacy-deletion)"
            }
            Fault::RedirectOffsite => {
                "GET /api/auth/session redirects to another origin: breaks the session check and exposes redirect-following credential leaks"
            }
            Fault::StatsRuntimeUnavailable => {
                "/stats renders the real runtime-outage markup (div#stats-status \"Runtime unavailable.\", data available no, every value -): breaks public-stats-*"
            }
            Fault::StatsOutageRows => {
                "/stats renders a runtime outage without any status notice (as upstream does when no pools are configured): data available no, every value -: breaks public-stats-*"
            }
            Fault::FragmentHxRequestIgnored => {
                "/stats/fragments/metrics answers 307 to /stats even with HX-Request: true (as it answers requests without it): breaks public-stats-*"
            }
            Fault::StatsRowMissing => {
                "/stats leaves out the `Hydra FX treasury provider breadth` row: breaks the public stats checks"
            }
            Fault::StatsCacheWrong => {
                "/stats is served no-store instead of public, max-age=60: breaks the public stats cache check"
            }
            Fault::Inbox500 => {
                "GET /api/inbox/threads answers 500: breaks the Gmail inbox thread and action checks"
            }
            Fault::ReplySendNoMessageId => {
                "POST /api/inbox/threads/{id}/reply/send answers without a message_id: breaks the Gmail inbox actions check"
            }
            Fault::CommsReplayNotIdempotent => {
                "POST /internal/v1/comms/delivery-events accepts a replayed event again (202, idempotentReplay false): breaks the runtime comms ingest check"
            }
            Fault::OauthRedirectWrong => {
                "/settings/integrations/google/redirect sends a redirect_uri ending in /oauth/callback: breaks the Gmail connect flow check"
            }
            Fault::RuntimeReadyz503 => {
                "the runtime's /readyz answers 503 not_ready: breaks runtime-*-smoke"
            }
            Fault::RunCreate500 => {
                "POST /internal/v1/runs answers 500: breaks the authority API smoke (runtime-*-smoke)"
            }
            Fault::OpenapiMissingCredit => {
                "the runtime's openapi.json lacks the /credit/* operations: breaks runtime-*-cep-contract"
            }
            Fault::CreditHealthSchemaWrong => {
                "credit/health answers schema openagents.credit.health_response.v0 without breakers: breaks runtime-*-cep-contract"
            }
            Fault::CreditPolicyIncomplete => {
                "credit/health's policy lacks max_offer_ttl_seconds (a field no field list names, only the served schema requires): breaks runtime-*-cep-contract"
            }
            Fault::OpenapiMissingHydra => {
                "the runtime's openapi.json lacks /hydra/routing/score, /hydra/risk/health and /hydra/observability: breaks runtime-*-hydra-mvp2-contract"
            }
            Fault::ObservabilityMissingFx => {
                "hydra/observability has no fx section: breaks runtime-*-hydra-mvp3-fx-contract and, through the served schema, runtime-*-hydra-mvp2-contract"
            }
            Fault::RouteWithoutHandler => {
                "POST /internal/v1/hydra/fx/settle is still matched by the router but no handler answers: a plain-text 422 to every body: breaks runtime-*-hydra-mvp3-fx-contract"
            }
            Fault::JobImageDrift => {
                "the migrate job's template image differs from the runtime service image: breaks runtime-migration-drift"
            }
            Fault::ExecutionFailed => {
                "the migrate job's latest execution failed: breaks runtime-migration-drift"
            }
            Fault::NoExecutions => {
                "the migrate job has no executions: breaks runtime-migration-drift"
            }
            Fault::ErrorLogsPresent => {
                "Cloud Logging holds fresh ERROR entries for both services: breaks control-error-log-probe and runtime-error-log-probe"
            }
            Fault::TrafficSplitBroken => {
                "both services' traffic percents sum to 90: breaks control-canary-status and runtime-canary-status"
            }
            Fault::LatestNotReady => {
                "both services' latest created revision failed and is not ready: breaks control-canary-status and runtime-canary-status"
            }
            Fault::NoRollbackRevision => {
                "no ready revision besides the serving one: breaks control-rollback-ready and runtime-rollback-ready"
            }
            Fault::Cloudrun403 => {
                "the Cloud Run Admin API answers 403 PERMISSION_DENIED: errors runtime-migration-drift and the canary and rollback checks"
            }
            Fault::FeedFragmentSlow => {
                "/feed/fragments/main answers after 800 ms (budget 700 ms TTFB): breaks the HTMX perf checks"
            }
            Fault::LoginTooLarge => {
                "POST /login/email answers a 16 KB fragment (budget 12000 bytes): breaks the HTMX perf checks"
            }
            Fault::ChatSend500 => {
                "POST /chat/<thread>/send answers 500: breaks the HTMX perf checks and the browser smoke"
            }
            Fault::CanaryOverrideIgnored => {
                "route-split override ignores htmx_full_page and pins the domain to its rollback route: breaks the route-group canary (which must still clear every domain)"
            }
            Fault::CanaryTokenNotAdmin => {
                "OA_ADMIN_EMAILS does not list the exported tokens' user: the route-split override answers 403: breaks the route-group canary"
            }
            Fault::RollbackMatrixMissing => {
                "route-split status has no htmx_rollback_matrix entry for chat_pilot: breaks the route-group canary"
            }
            Fault::ChatHistoryBroken => {
                "history restore of /chat/<thread> renders the newest thread instead: breaks the browser smoke's back/forward step"
            }
            Fault::SettingsNotSaved => {
                "POST /settings/profile/update says saved but stores nothing: breaks the browser smoke's settings step"
            }
            Fault::HtmxMissing => {
                "pages load no htmx library (/assets/htmx-2_0_8-22283ef6.js answers 404): breaks the browser smoke"
            }
        }
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A fault name that is not one of [`Fault::all`]; its message lists the valid names so a typo
/// on the command line is self-correcting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseFaultError {
    /// The name that was given.
    pub given: String,
}

impl fmt::Display for ParseFaultError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = ALL.iter().map(|fault| fault.name()).collect();
        write!(
            f,
            "unknown fault `{}`; valid faults: {}",
            self.given,
            names.join(", ")
        )
    }
}

impl std::error::Error for ParseFaultError {}

impl FromStr for Fault {
    type Err = ParseFaultError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ALL.iter()
            .copied()
            .find(|fault| fault.name() == s)
            .ok_or_else(|| ParseFaultError {
                given: s.to_owned(),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_is_in_documented_order_and_names_are_unique() {
        let names: Vec<&str> = Fault::all().iter().map(|fault| fault.name()).collect();
        assert_eq!(
            names,
            [
                "readyz-503",
                "healthz-404",
                "control-status-500",
                "manifest-version-wrong",
                "sw-cache-wrong",
                "manifest-cache-wrong",
                "asset-not-immutable",
                "manifest-entry-missing",
                "session-401",
                "sync-token-500",
                "v1-sync-token-unrouted",
                "retired-route-alive",
                "redirect-offsite",
                "stats-runtime-unavailable",
                "stats-outage-rows",
                "fragment-hx-request-ignored",
                "stats-row-missing",
                "stats-cache-wrong",
                "inbox-500",
                "reply-send-no-message-id",
                "comms-replay-not-idempotent",
                "oauth-redirect-wrong",
                "runtime-readyz-503",
                "run-create-500",
                "openapi-missing-credit",
                "credit-health-schema-wrong",
                "credit-policy-incomplete",
                "openapi-missing-hydra",
                "observability-missing-fx",
                "route-without-handler",
                "job-image-drift",
                "execution-failed",
                "no-executions",
                "error-logs-present",
                "traffic-split-broken",
                "latest-not-ready",
                "no-rollback-revision",
                "cloudrun-403",
                "feed-fragment-slow",
                "login-too-large",
                "chat-send-500",
                "canary-override-ignored",
                "rollback-matrix-missing",
                "canary-token-not-admin",
                "chat-history-broken",
                "settings-not-saved",
                "htmx-missing",
            ]
        );
    }

    #[test]
    fn names_round_trip_through_from_str_and_display() {
        for &fault in Fault::all() {
            let parsed: Fault = fault.name().parse().unwrap();
            assert_eq!(parsed, fault);
            assert_eq!(fault.to_string(), fault.name());
        }
        assert_eq!("readyz-503".parse::<Fault>().unwrap(), Fault::Readyz503);
        assert_eq!(
            "redirect-offsite".parse::<Fault>().unwrap(),
            Fault::RedirectOffsite
        );
    }

    #[test]
    fn names_are_exact_and_case_sensitive() {
        assert!("Readyz-503".parse::<Fault>().is_err());
        assert!("readyz_503".parse::<Fault>().is_err());
        assert!(" readyz-503".parse::<Fault>().is_err());
    }

    #[test]
    fn unknown_name_error_lists_every_valid_name() {
        let err = "readyz-500".parse::<Fault>().unwrap_err();
        assert_eq!(err.given, "readyz-500");
        let message = err.to_string();
        assert!(message.contains("`readyz-500`"), "{message}");
        for &fault in Fault::all() {
            assert!(message.contains(fault.name()), "{message} lacks {fault}");
        }
    }

    #[test]
    fn the_help_is_aligned_whatever_the_longest_name() {
        let help = help();
        let lines: Vec<&str> = help.lines().collect();
        assert_eq!(lines.len(), Fault::all().len());
        let column = |line: &str, name: &str| {
            line[name.len()..].len() - line[name.len()..].trim_start().len() + name.len()
        };
        let first = column(lines[0], Fault::all()[0].name());
        for (line, fault) in lines.iter().zip(Fault::all()) {
            assert!(line.starts_with(fault.name()), "{line}");
            assert_eq!(column(line, fault.name()), first, "{line}");
            assert!(line.ends_with(fault.describe()), "{line}");
        }
    }

    #[test]
    fn descriptions_are_single_non_empty_lines() {
        for &fault in Fault::all() {
            let text = fault.describe();
            assert!(!text.is_empty());
            assert!(!text.contains('\n'));
        }
    }
}
