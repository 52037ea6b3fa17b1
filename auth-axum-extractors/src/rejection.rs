//! Rejections of the extractors.
//!
//! Client errors render exactly as the layers render them (the same JSON document and RFC 6750
//! challenge, from the same [`ErrorCode`] table). A handler asking for a principal on a route
//! no authentication layer protects is a server bug, answered with a 500 whose message says how
//! to fix it, never with a 401 that would hide the misconfiguration.

use std::fmt;

use auth_core::ErrorCode;
use auth_tower::Rejection;
use auth_tower::response::{DefaultRejection, RejectionResponse};
use axum_core::body::Body;
use axum_core::response::{IntoResponse, Response};
use http::header::{CACHE_CONTROL, CONTENT_TYPE};
use http::{HeaderValue, StatusCode};

pub(crate) fn status_of(code: ErrorCode) -> StatusCode {
    StatusCode::from_u16(code.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

pub(crate) fn json_error(status: StatusCode, code: ErrorCode, message: &str) -> Response {
    let doc = serde_json::json!({ "error": { "code": code.as_str(), "message": message } });
    let mut res = Response::new(Body::from(doc.to_string()));
    *res.status_mut() = status;
    res.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    res.headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

/// The request carries no valid credentials (401, or 400/403 as the wrapped rejection says),
/// rendered as the authentication layer renders it.
#[derive(Debug, Clone)]
pub struct Unauthenticated(pub(crate) Rejection);

impl Unauthenticated {
    /// The HTTP status.
    #[must_use]
    pub fn status(&self) -> StatusCode {
        status_of(self.0.code())
    }

    /// The stable error code.
    #[must_use]
    pub fn code(&self) -> ErrorCode {
        self.0.code()
    }

    /// The underlying layer rejection.
    #[must_use]
    pub fn rejection(&self) -> &Rejection {
        &self.0
    }
}

impl fmt::Display for Unauthenticated {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl std::error::Error for Unauthenticated {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.0)
    }
}

impl IntoResponse for Unauthenticated {
    fn into_response(self) -> Response {
        tracing::debug!(
            target: "auth::rejection",
            rejection_type = "Unauthenticated",
            code = self.code().as_str(),
            reason = %self.0.error(),
        );
        let mut res = DefaultRejection.response(&self.0);
        res.extensions_mut().insert(self.0);
        res
    }
}

/// The principal lacks what the handler requires (403 `INSUFFICIENT_SCOPE`), rendered as
/// `ScopeLayer` renders it.
#[derive(Debug, Clone)]
pub struct Forbidden(pub(crate) Rejection);

impl Forbidden {
    /// The HTTP status (403).
    #[must_use]
    pub fn status(&self) -> StatusCode {
        status_of(self.0.code())
    }

    /// The stable error code.
    #[must_use]
    pub fn code(&self) -> ErrorCode {
        self.0.code()
    }

    /// What was required.
    #[must_use]
    pub fn required(&self) -> &[String] {
        self.0.required().unwrap_or(&[])
    }
}

impl fmt::Display for Forbidden {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl std::error::Error for Forbidden {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.0)
    }
}

impl IntoResponse for Forbidden {
    fn into_response(self) -> Response {
        let mut res = DefaultRejection.response(&self.0);
        res.extensions_mut().insert(self.0);
        res
    }
}

define_rejection! {
    #[code = AuthLayerMissing]
    #[body = "no authentication layer ran for this route: add auth_tower::bearer::BearerLayer \
              (or another auth layer) with Router::layer or Router::route_layer in front of this handler"]
    /// No authentication layer ran for this route (a server misconfiguration, 500).
    pub struct MissingAuthLayer;
}

composite_rejection! {
    /// Rejection of the [`Principal`](crate::Principal) extractor.
    pub enum PrincipalRejection {
        Unauthenticated,
        MissingAuthLayer,
    }
}

composite_rejection! {
    /// Rejection of the [`Claims`](crate::Claims) extractor.
    pub enum ClaimsRejection {
        Unauthenticated,
        MissingAuthLayer,
    }
}

composite_rejection! {
    /// Rejection of the [`RequireScope`](crate::RequireScope) extractor.
    pub enum RequireScopeRejection {
        Unauthenticated,
        MissingAuthLayer,
        Forbidden,
    }
}

impl From<PrincipalRejection> for RequireScopeRejection {
    fn from(r: PrincipalRejection) -> Self {
        match r {
            PrincipalRejection::Unauthenticated(u) => Self::Unauthenticated(u),
            PrincipalRejection::MissingAuthLayer(m) => Self::MissingAuthLayer(m),
        }
    }
}

impl From<PrincipalRejection> for ClaimsRejection {
    fn from(r: PrincipalRejection) -> Self {
        match r {
            PrincipalRejection::Unauthenticated(u) => Self::Unauthenticated(u),
            PrincipalRejection::MissingAuthLayer(m) => Self::MissingAuthLayer(m),
        }
    }
}
