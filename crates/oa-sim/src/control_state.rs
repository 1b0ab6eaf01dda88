//! A control instance's state, shared by the surfaces it serves (the control API in
//! [`super::control`], the HTMX pages, `/stats`, the route split, the inbox): each imports it
//! from here, and the control router composes them, so none imports another's router file.

use super::Fault;
use super::SimEra;
use axum::http::{HeaderMap, header};
use std::collections::HashSet;
use std::sync::Arc;
use std::time::Instant;

/// The pinned htmx asset the pages load (web_maud.rs `HTMX_ASSET_PATH`).
pub(crate) const HTMX_ASSET: &str = "/assets/htmx-2_0_8-22283ef6.js";

/// Per-instance state: staging and prod differ only in environment name and token.
pub(crate) struct ControlState {
    pub(crate) token: String,
    pub(crate) faults: Arc<HashSet<Fault>>,
    pub(crate) started: Instant,
    pub(crate) offsite_url: String,
    pub(crate) era: SimEra,
    /// The htmx library served to pages, when installed.
    pub(crate) htmx_library: Option<Arc<str>>,
    /// Who the instance's tokens belong to, its sign-in challenges and throttle.
    pub(crate) accounts: Arc<super::accounts::Accounts>,
}

impl ControlState {
    pub(crate) fn has(&self, fault: Fault) -> bool {
        self.faults.contains(&fault)
    }

    pub(crate) fn authorized(&self, headers: &HeaderMap) -> bool {
        let Some(value) = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
        else {
            return false;
        };
        // The scheme is case-insensitive (RFC 9110 §11.1); the credential is not.
        match value.split_once(' ') {
            Some((scheme, credential)) => {
                scheme.eq_ignore_ascii_case("bearer") && credential.trim() == self.token
            }
            None => false,
        }
    }
}
