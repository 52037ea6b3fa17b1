//! Metrics through the [`metrics`](https://docs.rs/metrics) facade, shaped after ASP.NET
//! Core's `aspnetcore.authentication.*` and `aspnetcore.authorization.attempts` meters.
//!
//! The functions here record only with the `metrics` feature; without it they do nothing and
//! cost nothing. Which recorder receives them (Prometheus, OpenTelemetry, StatsD, ...) is the
//! application's choice: install one with `metrics::set_global_recorder` (or an exporter's
//! `install`), as for any crate that uses the facade.
//!
//! | name | kind | labels |
//! |---|---|---|
//! | `auth.authentication.duration` | histogram, seconds | `auth.method` (`bearer`, `cookie`, `api_key`), `auth.result` (`success`, `failure`, `none`), `error.type` (the [`ErrorCode`], failures only) |
//! | `auth.authorization.attempts` | counter | `auth.method` (`scope`, `step_up`, `csrf`), `auth.result` (`success`, `failure`), `error.type` (failures only) |
//! | `auth.brute_force.blocks` | counter | none |
//! | `auth.jwks.fetches` | counter | `outcome` (`success`, `failure`) |
//! | `auth.token_cache.lookups` | counter | `result` (`hit`, `miss`) |
//! | `auth.client.token_requests` | counter | `outcome` (`success`, `failure`) |
//! | `auth.client.token_renewals` | counter | `reason` (`expiring`, `rejected`) |
//!
//! Labels are low-cardinality by construction: their values come from closed sets (the enums
//! of [`crate::audit`] and [`ErrorCode`]). Never a subject, token id, key id, client address or
//! path.
//!
//! (Prometheus exporters write the dots as underscores, e.g.
//! `auth_authentication_duration_bucket{auth_method="bearer",...}`.)

use std::time::Duration;

use crate::ErrorCode;
use crate::audit::Method;

/// The metric names, for dashboards and tests.
pub mod name {
    /// Histogram: how long authentication took, in seconds.
    pub const AUTHENTICATION_DURATION: &str = "auth.authentication.duration";
    /// Counter: authorization decisions.
    pub const AUTHORIZATION_ATTEMPTS: &str = "auth.authorization.attempts";
    /// Counter: attempts the brute-force limiter refused.
    pub const BRUTE_FORCE_BLOCKS: &str = "auth.brute_force.blocks";
    /// Counter: JWK Set fetches.
    pub const JWKS_FETCHES: &str = "auth.jwks.fetches";
    /// Counter: token cache lookups.
    pub const TOKEN_CACHE_LOOKUPS: &str = "auth.token_cache.lookups";
    /// Counter: outbound token requests (client credentials).
    pub const CLIENT_TOKEN_REQUESTS: &str = "auth.client.token_requests";
    /// Counter: outbound token renewals.
    pub const CLIENT_TOKEN_RENEWALS: &str = "auth.client.token_renewals";
}

/// The result of an authentication, as ASP.NET Core names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AuthResult {
    /// A principal was established.
    Success,
    /// Credentials were refused (or required and missing).
    Failure(ErrorCode),
    /// No credentials, and none required (an optional layer let the request through).
    None,
}

impl AuthResult {
    /// `"success"`, `"failure"` or `"none"`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Success => "success",
            Self::Failure(_) => "failure",
            Self::None => "none",
        }
    }
}

/// Records an authentication by `method` that took `duration`.
#[inline]
pub fn authentication(method: Method, result: AuthResult, duration: Duration) {
    #[cfg(feature = "metrics")]
    {
        let secs = duration.as_secs_f64();
        match result {
            AuthResult::Failure(code) => ::metrics::histogram!(
                name::AUTHENTICATION_DURATION,
                "auth.method" => method.as_str(),
                "auth.result" => result.as_str(),
                "error.type" => code.as_str(),
            )
            .record(secs),
            _ => ::metrics::histogram!(
                name::AUTHENTICATION_DURATION,
                "auth.method" => method.as_str(),
                "auth.result" => result.as_str(),
            )
            .record(secs),
        }
    }
    #[cfg(not(feature = "metrics"))]
    let _ = (method, result, duration);
}

/// Records an authorization decision by `method`: `Ok(())` allowed, `Err(code)` refused.
#[inline]
pub fn authorization(method: Method, result: Result<(), ErrorCode>) {
    #[cfg(feature = "metrics")]
    match result {
        Ok(()) => ::metrics::counter!(
            name::AUTHORIZATION_ATTEMPTS,
            "auth.method" => method.as_str(),
            "auth.result" => "success",
        )
        .increment(1),
        Err(code) => ::metrics::counter!(
            name::AUTHORIZATION_ATTEMPTS,
            "auth.method" => method.as_str(),
            "auth.result" => "failure",
            "error.type" => code.as_str(),
        )
        .increment(1),
    }
    #[cfg(not(feature = "metrics"))]
    let _ = (method, result);
}

/// Records an attempt the brute-force limiter refused.
#[inline]
pub fn brute_force_block() {
    #[cfg(feature = "metrics")]
    ::metrics::counter!(name::BRUTE_FORCE_BLOCKS).increment(1);
}

/// Records a JWK Set fetch.
#[inline]
pub fn jwks_fetch(success: bool) {
    #[cfg(feature = "metrics")]
    ::metrics::counter!(name::JWKS_FETCHES, "outcome" => outcome(success)).increment(1);
    #[cfg(not(feature = "metrics"))]
    let _ = success;
}

/// Records a token cache lookup.
#[inline]
pub fn token_cache_lookup(hit: bool) {
    #[cfg(feature = "metrics")]
    ::metrics::counter!(
        name::TOKEN_CACHE_LOOKUPS,
        "result" => if hit { "hit" } else { "miss" },
    )
    .increment(1);
    #[cfg(not(feature = "metrics"))]
    let _ = hit;
}

/// Why an outbound token was renewed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Renewal {
    /// The cached token neared its expiry.
    Expiring,
    /// The downstream API refused the token (a 401) and a fresh one was requested.
    Rejected,
}

/// Records an outbound token request (client credentials).
#[inline]
pub fn client_token_request(success: bool) {
    #[cfg(feature = "metrics")]
    ::metrics::counter!(name::CLIENT_TOKEN_REQUESTS, "outcome" => outcome(success)).increment(1);
    #[cfg(not(feature = "metrics"))]
    let _ = success;
}

/// Records an outbound token renewal.
#[inline]
pub fn client_token_renewal(reason: Renewal) {
    #[cfg(feature = "metrics")]
    ::metrics::counter!(
        name::CLIENT_TOKEN_RENEWALS,
        "reason" => match reason {
            Renewal::Expiring => "expiring",
            Renewal::Rejected => "rejected",
        },
    )
    .increment(1);
    #[cfg(not(feature = "metrics"))]
    let _ = reason;
}

#[cfg(feature = "metrics")]
const fn outcome(success: bool) -> &'static str {
    if success { "success" } else { "failure" }
}
