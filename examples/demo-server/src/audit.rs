//! The demo's own decisions in the audit trail (`auth::audit`, see `auth_core::audit`): login,
//! refresh, logout and the second factor, next to the layers' bearer, API-key, scope, step-up,
//! CSRF and brute-force events.
//!
//! [`record`] is an axum middleware put on those routes (inside their brute-force layer, so the
//! client address is the one that layer resolved). It reads the answer, never the body: the
//! `Rejection` every refusal carries (its code is the event's `reason`) and, for logins, the
//! `LoginAttempt` the handler reports to the brute-force layer, whose account name becomes a
//! keyed digest ([`AccountDigester`], key [`HandlerAudit::new`]). Requests that were not a
//! decision (a malformed body, a busy password hasher, a failed store) leave no event.

use std::sync::Arc;

use auth_core::ErrorCode;
use auth_core::audit::{AccountDigester, AuditEvent, Method, Outcome};
use auth_core::brute_force::LoginAttempt;
use auth_tower::Rejection;
use auth_tower::audit::AuditContext;
use axum::extract::{Request, State};
use axum::http::{Extensions, HeaderMap};
use axum::middleware::Next;
use axum::response::Response;

/// What [`record`] needs: which decision the route makes, and the account-name digester.
#[derive(Clone, Debug)]
pub struct HandlerAudit {
    method: Method,
    digester: Arc<AccountDigester>,
}

impl HandlerAudit {
    /// Events of `method` (`Login`, `Refresh`, `Logout` or `Mfa`), account names digested with
    /// `digester`.
    #[must_use]
    pub fn new(method: Method, digester: Arc<AccountDigester>) -> Self {
        Self { method, digester }
    }
}

/// The middleware layer for a route making `method` decisions (wrap the handler with it, inside
/// the route's brute-force layer).
pub(crate) fn layer(demo: &crate::Demo, method: Method) -> AuditLayer {
    axum::middleware::from_fn_with_state(
        HandlerAudit::new(method, Arc::clone(&demo.audit_digester)),
        boxed_record as RecordFn,
    )
}

/// The layer [`layer`] builds.
pub(crate) type AuditLayer =
    axum::middleware::FromFnLayer<RecordFn, HandlerAudit, (State<HandlerAudit>, Request)>;

type RecordFn = fn(State<HandlerAudit>, Request, Next) -> BoxedResponse;

type BoxedResponse = std::pin::Pin<Box<dyn Future<Output = Response> + Send>>;

fn boxed_record(state: State<HandlerAudit>, req: Request, next: Next) -> BoxedResponse {
    Box::pin(record(state, req, next))
}

/// A digester with a random key: digests correlate attempts within one process (set a fixed
/// key with [`AccountDigester::new`] to correlate across restarts and instances).
///
/// # Errors
///
/// When the system's random generator fails.
pub fn random_digester() -> Result<AccountDigester, auth_core::ConfigError> {
    let mut key = [0u8; 32];
    getrandom::fill(&mut key)
        .map_err(|e| auth_core::ConfigError::Input(format!("random audit key: {e}")))?;
    AccountDigester::new(&key)
}

/// The middleware: one `INFO` event per decision of the wrapped handler.
pub async fn record(State(audit): State<HandlerAudit>, req: Request, next: Next) -> Response {
    // Only what the event needs is kept across the handler: route, client, request id.
    let mut headers = HeaderMap::new();
    if let Some(id) = req.headers().get("x-request-id") {
        headers.insert("x-request-id", id.clone());
    }
    let mut extensions = Extensions::new();
    copy::<axum::extract::MatchedPath>(req.extensions(), &mut extensions);
    copy::<auth_core::brute_force::ClientKey>(req.extensions(), &mut extensions);
    copy::<axum::extract::ConnectInfo<std::net::SocketAddr>>(req.extensions(), &mut extensions);
    copy::<auth_tower::brute_force::ClientAddr>(req.extensions(), &mut extensions);
    let res = next.run(req).await;

    let code = res.extensions().get::<Rejection>().map(Rejection::code);
    let outcome = if res.status().is_success() {
        Outcome::Success
    } else if code.is_some_and(is_decision) {
        Outcome::Failure
    } else {
        return res;
    };
    let digest = res
        .extensions()
        .get::<LoginAttempt>()
        .and_then(LoginAttempt::account)
        .map(|account| audit.digester.digest(account));
    let mut event = AuditEvent::new(outcome, audit.method);
    if let (Outcome::Failure, Some(code)) = (outcome, code) {
        event = event.reason(code);
    }
    if let Some(digest) = &digest {
        event = event.account(digest);
    }
    AuditContext::of(&headers, &extensions).emit(event);
    res
}

fn copy<T: Clone + Send + Sync + 'static>(from: &Extensions, to: &mut Extensions) {
    if let Some(v) = from.get::<T>() {
        to.insert(v.clone());
    }
}

/// Whether a refusal with `code` was a decision about the credentials (rather than a malformed
/// request or an unavailable backend, which decide nothing).
fn is_decision(code: ErrorCode) -> bool {
    !matches!(
        code,
        ErrorCode::InvalidRequest | ErrorCode::AuthBackendUnavailable | ErrorCode::AuthLayerMissing
    )
}
