//! Who a control instance's access tokens belong to, its sign-in challenges and its request
//! throttle: one [`Accounts`] per instance, shared by the HTMX pages, the sign-in routes and
//! the route-split API (staging and prod never share one).
//!
//! Upstream (`lib.rs` at 6b173e913a): a request's access token is its `Authorization: Bearer`
//! or else the `oa_access_token` cookie (`access_token_from_headers`); admin routes compare the
//! token's user email with `OA_ADMIN_EMAILS` (`admin_email_gate`, `is_admin_email`); the
//! sign-in routes are throttled per client identity (`consume_throttle_token`,
//! `request_identity_key`) with a sliding one-minute window.

use super::error_envelope;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use chrono::Utc;
use parking_lot::Mutex;
use std::collections::{HashMap, VecDeque};

/// The email behind the token the sim exports; the sim's `OA_ADMIN_EMAILS` lists it (unless
/// `canary-token-not-admin`).
pub const SIM_ADMIN_EMAIL: &str = "sim-admin@openagents.com";

/// A throttled route: its bucket prefix, how many requests a window allows, the window.
#[derive(Debug, Clone, Copy)]
pub struct Limit {
    prefix: &'static str,
    pub max: usize,
    window_seconds: i64,
}

/// `POST /login/email`: `THROTTLE_LOGIN_EMAIL_LIMIT` 6 a minute, bucket `auth.web.email:`.
pub const LOGIN_EMAIL: Limit = Limit {
    prefix: "auth.web.email",
    max: 6,
    window_seconds: 60,
};
/// `POST /login/verify`: `THROTTLE_LOGIN_VERIFY_LIMIT` 10 a minute, bucket `auth.web.verify:`.
pub const LOGIN_VERIFY: Limit = Limit {
    prefix: "auth.web.verify",
    max: 10,
    window_seconds: 60,
};
/// `POST /api/auth/email`: `THROTTLE_AUTH_EMAIL_LIMIT` 30 a minute, bucket `auth.email:`.
pub const AUTH_EMAIL: Limit = Limit {
    prefix: "auth.email",
    max: 30,
    window_seconds: 60,
};

/// One control instance's users, challenges and throttle buckets.
pub struct Accounts {
    /// Access token -> the email of its user.
    tokens: Mutex<HashMap<String, String>>,
    /// Challenge id -> the email it was sent to (consumed by a successful verify).
    challenges: Mutex<HashMap<String, String>>,
    /// Emails of admins (upstream `OA_ADMIN_EMAILS`, compared trimmed and lower-cased).
    admin_emails: Vec<String>,
    /// Bucket key -> the epoch seconds of the requests in the current window.
    buckets: Mutex<HashMap<String, VecDeque<i64>>>,
}

impl Accounts {
    /// The accounts of an instance exporting `token` (the admin's, when `admin` holds).
    pub fn new(token: &str, admin: bool) -> Accounts {
        let tokens = HashMap::from([(token.to_string(), SIM_ADMIN_EMAIL.to_string())]);
        Accounts {
            tokens: Mutex::new(tokens),
            challenges: Mutex::new(HashMap::new()),
            admin_emails: if admin {
                vec![SIM_ADMIN_EMAIL.to_string()]
            } else {
                Vec::new()
            },
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// The user email behind the request's access token: the bearer, else the
    /// `oa_access_token` cookie (upstream `access_token_from_headers`).
    pub fn user(&self, headers: &HeaderMap) -> Option<String> {
        let token = bearer_token(headers)
            .or_else(|| cookie_value(headers, ACCESS_COOKIE).map(str::to_string))?;
        self.tokens.lock().get(&token).cloned()
    }

    /// The user email behind the request's bearer only (upstream `current_session`).
    pub fn bearer_user(&self, headers: &HeaderMap) -> Option<String> {
        let token = bearer_token(headers)?;
        self.tokens.lock().get(&token).cloned()
    }

    /// Whether `email` is an admin's (upstream `is_admin_email`).
    pub fn is_admin(&self, email: &str) -> bool {
        let email = email.trim().to_lowercase();
        !email.is_empty() && self.admin_emails.contains(&email)
    }

    /// Starts a challenge for `email`; returns its id (upstream `challenge_<uuid simple>`).
    pub fn start_challenge(&self, email: &str) -> String {
        let id = format!("challenge_{}", uuid::Uuid::new_v4().simple());
        self.challenges.lock().insert(id.clone(), email.to_string());
        id
    }

    /// Consumes the challenge `id` and issues an access token for its email; `None` when
    /// there is no such challenge.
    pub fn verify_challenge(&self, id: &str) -> Option<(String, String)> {
        let email = self.challenges.lock().remove(id)?;
        let token = format!("oa_at_{}", super::random_hex(24));
        self.tokens.lock().insert(token.clone(), email.clone());
        Some((token, email))
    }

    /// Counts a request against `limit` for the request's client identity; `Some` is the
    /// 429 answer (upstream `consume_throttle_token` and the `throttle_*_gate`s).
    pub fn throttle(&self, limit: Limit, headers: &HeaderMap) -> Option<Response> {
        let key = format!("{}:{}", limit.prefix, identity_key(headers));
        let now = Utc::now().timestamp();
        let window_start = now - limit.window_seconds;
        let mut buckets = self.buckets.lock();
        let bucket = buckets.entry(key).or_default();
        while bucket.front().is_some_and(|t| *t < window_start) {
            bucket.pop_front();
        }
        if bucket.len() >= limit.max {
            let retry = bucket
                .front()
                .map(|oldest| (oldest + limit.window_seconds - now).max(1))
                .unwrap_or(1);
            // No Retry-After header: upstream says the delay only in the message.
            return Some(error_envelope(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                &format!("Too many requests. Retry in {retry}s."),
            ));
        }
        bucket.push_back(now);
        None
    }
}

/// The access token cookie set by `POST /login/verify`.
pub const ACCESS_COOKIE: &str = "oa_access_token";
/// The refresh token cookie set beside it.
pub const REFRESH_COOKIE: &str = "oa_refresh_token";
/// The sign-in challenge cookie set by the code requests.
pub const CHALLENGE_COOKIE: &str = "oa_magic_challenge";
/// Upstream's default TTLs (config.rs `DEFAULT_AUTH_*_TTL_SECONDS`), the cookies' Max-Age.
pub const CHALLENGE_TTL_SECONDS: u64 = 600;
pub const ACCESS_TTL_SECONDS: u64 = 3600;
pub const REFRESH_TTL_SECONDS: u64 = 2_592_000;

/// A cookie with upstream's attributes (`challenge_cookie`, `auth_access_cookie`, ...):
/// `Secure`, so a browser on plain http (a local deployment) does not keep it.
pub fn cookie(name: &str, value: &str, max_age: u64) -> String {
    format!("{name}={value}; Path=/; HttpOnly; Secure; SameSite=Lax; Max-Age={max_age}")
}

/// Upstream `clear_cookie`.
pub fn clear_cookie(name: &str) -> String {
    cookie(name, "", 0)
}

/// Upstream `bearer_token`: the `Bearer ` prefix (as written), the rest trimmed, non-empty.
fn bearer_token(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?.trim();
    let token = value.strip_prefix("Bearer ")?.trim();
    (!token.is_empty()).then(|| token.to_string())
}

/// Upstream `extract_cookie_value`: the first `Cookie` header's `name`, non-empty.
pub fn cookie_value<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    let raw = headers.get(header::COOKIE)?.to_str().ok()?;
    raw.split(';')
        .filter_map(|part| part.trim().split_once('='))
        .find(|(key, _)| key.trim() == name)
        .map(|(_, value)| value.trim())
        .filter(|value| !value.is_empty())
}

/// Upstream `request_identity_key`: the bearer token, else the first `X-Forwarded-For`
/// address, else `X-Real-IP`, else one shared `ip:unknown` (loopback clients land there).
pub fn identity_key(headers: &HeaderMap) -> String {
    if let Some(token) = bearer_token(headers) {
        return format!("token:{token}");
    }
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .filter(|v| !v.is_empty())
    };
    if let Some(first) = header("x-forwarded-for")
        .and_then(|v| v.split(',').next())
        .map(str::trim)
        .filter(|v| !v.is_empty())
    {
        return format!("ip:{first}");
    }
    if let Some(ip) = header("x-real-ip") {
        return format!("ip:{ip}");
    }
    "ip:unknown".to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn the_identity_is_the_bearer_then_the_first_forwarded_address_then_unknown() {
        assert_eq!(
            identity_key(&headers(&[
                ("authorization", "Bearer abc"),
                ("x-forwarded-for", "1.2.3.4")
            ])),
            "token:abc"
        );
        assert_eq!(
            identity_key(&headers(&[("x-forwarded-for", " 1.2.3.4, 5.6.7.8")])),
            "ip:1.2.3.4"
        );
        assert_eq!(
            identity_key(&headers(&[("x-real-ip", "9.9.9.9")])),
            "ip:9.9.9.9"
        );
        assert_eq!(identity_key(&HeaderMap::new()), "ip:unknown");
    }

    #[test]
    fn a_limit_allows_its_count_then_answers_429_with_the_delay_per_identity() {
        let accounts = Accounts::new("exported-token-123", true);
        let anon = HeaderMap::new();
        for _ in 0..LOGIN_EMAIL.max {
            assert!(accounts.throttle(LOGIN_EMAIL, &anon).is_none());
        }
        let refused = accounts.throttle(LOGIN_EMAIL, &anon).unwrap();
        assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
        assert!(refused.headers().get("retry-after").is_none());
        // Another client, and another route, have their own buckets.
        let other = headers(&[("x-forwarded-for", "10.0.0.1")]);
        assert!(accounts.throttle(LOGIN_EMAIL, &other).is_none());
        assert!(accounts.throttle(AUTH_EMAIL, &anon).is_none());
    }

    #[test]
    fn tokens_are_read_from_the_bearer_or_the_access_cookie_and_only_the_exported_one_is_admin() {
        let accounts = Accounts::new("exported-token-123", true);
        let admin = accounts
            .user(&headers(&[("authorization", "Bearer exported-token-123")]))
            .unwrap();
        assert!(accounts.is_admin(&admin));
        let challenge = accounts.start_challenge("someone@example.com");
        let (token, email) = accounts.verify_challenge(&challenge).unwrap();
        assert_eq!(email, "someone@example.com");
        assert!(accounts.verify_challenge(&challenge).is_none(), "consumed");
        let cookie = format!("a=b; {ACCESS_COOKIE}={token}");
        let user = accounts.user(&headers(&[("cookie", &cookie)])).unwrap();
        assert!(!accounts.is_admin(&user));
        assert!(
            accounts
                .bearer_user(&headers(&[("cookie", &cookie)]))
                .is_none()
        );
        assert!(
            accounts
                .user(&headers(&[("authorization", "bearer exported-token-123")]))
                .is_none(),
            "upstream's prefix is `Bearer `"
        );
        assert!(!Accounts::new("exported-token-123", false).is_admin(SIM_ADMIN_EMAIL));
    }

    #[test]
    fn cookies_carry_upstreams_attributes() {
        assert_eq!(
            cookie(CHALLENGE_COOKIE, "challenge_1", CHALLENGE_TTL_SECONDS),
            "oa_magic_challenge=challenge_1; Path=/; HttpOnly; Secure; SameSite=Lax; Max-Age=600"
        );
        assert_eq!(
            clear_cookie(ACCESS_COOKIE),
            "oa_access_token=; Path=/; HttpOnly; Secure; SameSite=Lax; Max-Age=0"
        );
    }
}
