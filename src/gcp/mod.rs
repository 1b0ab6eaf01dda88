//! Google Cloud APIs oa-validate reads: the Cloud Run Admin API v2 and Cloud Logging v2,
//! over REST (JSON) through the same HTTP path as `http::`, so every call is in the check's
//! HAR with the bearer token masked. Credentials are Application Default Credentials
//! ([`auth`]); endpoints are overridable so the sim (or a test server) can stand in.

pub mod auth;
pub mod model;
pub mod rest;
