//! The request side of the audit trail ([`auth_core::audit`]): every layer of this crate writes
//! one `INFO` event under `auth::audit` per decision, with the facts of the request that
//! [`AuditContext`] collects.
//!
//! - **route**: axum's `MatchedPath` (feature `axum-matched-path`; the layer must be added with
//!   `Router::layer`/`route_layer`, inside the router, for axum to have matched a route). Never
//!   the raw path, which may carry identifiers.
//! - **client**: the client key a `BruteForceLayer` earlier in the stack resolved (trusted
//!   proxies honoured); otherwise the connection's peer address (`ClientAddr`, or axum's
//!   `ConnectInfo` with `axum-connect-info`). Forwarding headers are never read here.
//! - **request id**: the `x-request-id` header, when it is plain (see
//!   [`auth_core::audit::is_plain_request_id`]).
//!
//! Handlers that make decisions of their own (a login, a logout) write events with the same
//! facts through [`AuditContext::of`]:
//!
//! ```
//! use auth_core::ErrorCode;
//! use auth_core::audit::{AuditEvent, Method};
//! use auth_tower::audit::AuditContext;
//! use http::Request;
//!
//! let req = Request::post("/auth/login").header("x-request-id", "r-42").body(())?;
//! AuditContext::of(req.headers(), req.extensions())
//!     .emit(AuditEvent::failure(Method::Login, ErrorCode::InvalidCredentials));
//! # Ok::<(), http::Error>(())
//! ```

// The decision helpers at the end exist only with the layers that call them (authentication:
// `bearer`, `api-key`; authorization: `scope`, `step-up`, `csrf`), and so do uses of some
// imports.
#![cfg_attr(
    not(all(
        any(feature = "bearer", feature = "api-key"),
        any(feature = "scope", feature = "step-up", feature = "csrf")
    )),
    allow(unused_imports)
)]

use std::fmt;
use std::net::IpAddr;

use std::time::Duration;

use auth_core::audit::{AuditEvent, Method, Outcome};
use auth_core::metrics::{self, AuthResult};
use auth_core::{ErrorCode, Principal};
use http::{Extensions, HeaderMap, Request};

/// The request facts of an audit event, borrowed from a request.
#[derive(Clone, Copy, Debug, Default)]
pub struct AuditContext<'a> {
    route: Option<&'a str>,
    client: Option<Client<'a>>,
    request_id: Option<&'a str>,
}

/// The client address: the key a brute-force layer resolved, or the connection's peer.
#[derive(Clone, Copy)]
#[cfg_attr(not(feature = "brute-force"), allow(dead_code))]
enum Client<'a> {
    Resolved(&'a dyn fmt::Display),
    Peer(IpAddr),
}

impl fmt::Display for Client<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Resolved(k) => k.fmt(f),
            Self::Peer(ip) => ip.fmt(f),
        }
    }
}

impl fmt::Debug for Client<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Client({self})")
    }
}

impl<'a> AuditContext<'a> {
    /// Collects route, client and request id from a request's (or its parts') headers and
    /// extensions.
    #[must_use]
    pub fn of(headers: &'a HeaderMap, extensions: &'a Extensions) -> Self {
        #[cfg(feature = "axum-matched-path")]
        let route = extensions
            .get::<axum::extract::MatchedPath>()
            .map(axum::extract::MatchedPath::as_str);
        #[cfg(not(feature = "axum-matched-path"))]
        let route = None;
        let request_id = headers
            .get("x-request-id")
            .and_then(|v| v.to_str().ok())
            .filter(|id| auth_core::audit::is_plain_request_id(id));
        Self {
            route,
            client: client_of(extensions),
            request_id,
        }
    }

    /// The route template, when axum matched one.
    #[must_use]
    pub fn route(&self) -> Option<&'a str> {
        self.route
    }

    /// The request id, when it is set and plain.
    #[must_use]
    pub fn request_id(&self) -> Option<&'a str> {
        self.request_id
    }

    /// Writes `event` with these facts added.
    pub fn emit(&self, event: AuditEvent<'_>) {
        let mut event = event;
        if let Some(route) = self.route {
            event = event.route(route);
        }
        if let Some(client) = &self.client {
            event = event.client(client);
        }
        if let Some(id) = self.request_id {
            event = event.request_id(id);
        }
        event.emit();
    }
}

#[cfg(feature = "brute-force")]
fn client_of(extensions: &Extensions) -> Option<Client<'_>> {
    if let Some(key) = extensions.get::<auth_core::brute_force::ClientKey>() {
        return Some(Client::Resolved(key));
    }
    crate::brute_force::peer_addr_of(extensions).map(|a| Client::Peer(a.ip().to_canonical()))
}

#[cfg(not(feature = "brute-force"))]
fn client_of(_: &Extensions) -> Option<Client<'_>> {
    None
}

/// Writes `event` with the facts of `req`.
pub(crate) fn emit<B>(req: &Request<B>, event: AuditEvent<'_>) {
    AuditContext::of(req.headers(), req.extensions()).emit(event);
}

/// When an authentication layer started on a request (for the duration histogram; only
/// inserted with the `metrics` feature).
#[cfg(any(feature = "bearer", feature = "api-key"))]
#[derive(Clone, Copy, Debug)]
struct Started(std::time::Instant);

/// Notes when authentication of `req` started (with the `metrics` feature).
#[cfg(any(feature = "bearer", feature = "api-key"))]
#[inline]
pub(crate) fn start<B>(req: &mut Request<B>) {
    #[cfg(feature = "metrics")]
    req.extensions_mut()
        .insert(Started(std::time::Instant::now()));
    #[cfg(not(feature = "metrics"))]
    let _ = req;
}

#[cfg(any(feature = "bearer", feature = "api-key"))]
fn elapsed<B>(req: &Request<B>) -> Duration {
    req.extensions()
        .get::<Started>()
        .map_or(Duration::ZERO, |s| s.0.elapsed())
}

/// An authentication layer established `principal`.
#[cfg(any(feature = "bearer", feature = "api-key"))]
pub(crate) fn authenticated<B>(req: &Request<B>, method: Method, principal: &Principal) {
    emit(
        req,
        AuditEvent::new(Outcome::Success, method).principal(principal),
    );
    metrics::authentication(method, AuthResult::Success, elapsed(req));
}

/// An authentication layer refused `req` with `code`.
#[cfg(any(feature = "bearer", feature = "api-key"))]
pub(crate) fn unauthenticated<B>(req: &Request<B>, method: Method, code: ErrorCode) {
    emit(req, AuditEvent::failure(method, code));
    metrics::authentication(method, AuthResult::Failure(code), elapsed(req));
}

/// An optional authentication layer let `req` through without credentials (a metric only:
/// no decision was made, so no audit event).
#[cfg(any(feature = "bearer", feature = "api-key"))]
pub(crate) fn anonymous<B>(req: &Request<B>, method: Method) {
    metrics::authentication(method, AuthResult::None, elapsed(req));
}

/// An authorization layer decided on `req`: `Ok` allowed, `Err(code)` refused.
#[cfg(any(feature = "scope", feature = "step-up", feature = "csrf"))]
pub(crate) fn authorization<B>(
    req: &Request<B>,
    method: Method,
    principal: Option<&Principal>,
    result: Result<(), ErrorCode>,
) {
    let mut event = match result {
        Ok(()) => AuditEvent::new(Outcome::Success, method),
        Err(code) => AuditEvent::failure(method, code),
    };
    if let Some(p) = principal {
        event = event.principal(p);
    }
    emit(req, event);
    metrics::authorization(method, result);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids_that_are_not_plain_are_dropped() {
        let req = Request::get("/")
            .header("x-request-id", "has space")
            .body(())
            .unwrap();
        let ctx = AuditContext::of(req.headers(), req.extensions());
        assert!(ctx.request_id.is_none());
        ctx.emit(AuditEvent::new(Outcome::Success, Method::Bearer));
    }

    #[cfg(feature = "brute-force")]
    #[test]
    fn the_client_key_a_brute_force_layer_resolved_wins_over_the_peer() {
        use crate::brute_force::ClientAddr;
        use auth_core::brute_force::ClientKey;
        let mut req = Request::get("/").body(()).unwrap();
        req.extensions_mut()
            .insert(ClientAddr("10.0.0.2:4000".parse().unwrap()));
        let ctx = AuditContext::of(req.headers(), req.extensions());
        assert_eq!(ctx.client.unwrap().to_string(), "10.0.0.2");
        req.extensions_mut()
            .insert(ClientKey::from_ip("203.0.113.9".parse().unwrap()));
        let ctx = AuditContext::of(req.headers(), req.extensions());
        assert_eq!(ctx.client.unwrap().to_string(), "203.0.113.9");
    }
}
