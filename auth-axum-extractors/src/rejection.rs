//! Rejections of the extractors.
//!
//! Client errors render exactly as the layers render them (the same JSON document and RFC 6750
//! challenge, from the same [`ErrorCode`] table). A handler asking for a principal on a route
//! no authentication layer protects is a server bug, answered with a 500 whose message says how
//! to fix it, never with a 401 that would hide the misconfiguration.

use auth_core::ErrorCode;
use axum_core::body::Body;
use axum_core::response::Response;
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

layer_rejection! {
    /// The request carries no valid credentials (401, or 400 as the wrapped rejection says),
    /// rendered as the authentication layer renders it.
    pub struct Unauthenticated;
}

layer_rejection! {
    /// The principal lacks what the handler requires (403 `INSUFFICIENT_SCOPE`), rendered as
    /// `ScopeLayer` renders it.
    pub struct Forbidden;
}

impl Forbidden {
    /// What was required.
    #[must_use]
    pub fn required(&self) -> &[String] {
        self.0.required().unwrap_or(&[])
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
    /// Rejection of the [`Authenticated`](crate::Authenticated) extractor.
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
