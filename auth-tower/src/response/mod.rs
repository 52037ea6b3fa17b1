//! Turning a [`Rejection`] into a response.
//!
//! A layer's responder is pluggable through [`RejectionResponse`]; closures
//! `FnMut(&Rejection) -> Response<B> + Clone` qualify. Three responders ship:
//!
//! - [`DefaultRejection`] (the layers' default): a gRPC status for gRPC calls, JSON otherwise.
//!   Needs a body type implementing [`RejectionBody`] (axum's and tonic's bodies with the
//!   `axum`/`tonic` features, `http_body_util::Full<Bytes>`, and the boxed bodies).
//! - [`JsonRejection`]: always JSON.
//! - [`GrpcRejection`]: always a trailers-only gRPC status; needs only `B: Default`.
//!
//! All of them read status, gRPC code and RFC 6750 attributes from
//! [`ErrorCode`](auth_core::ErrorCode), the one mapping table.

mod body;
mod default;
mod grpc;
mod json;

pub use body::RejectionBody;
pub use default::DefaultRejection;
pub use grpc::GrpcRejection;
pub use json::JsonRejection;

use http::Response;

use crate::Rejection;

/// Renders rejections as responses with body `B`.
pub trait RejectionResponse<B>: Clone {
    /// Builds the response for `rejection`.
    fn response(&mut self, rejection: &Rejection) -> Response<B>;
}

impl<B, F> RejectionResponse<B> for F
where
    F: FnMut(&Rejection) -> Response<B> + Clone,
{
    fn response(&mut self, rejection: &Rejection) -> Response<B> {
        self(rejection)
    }
}

/// `WWW-Authenticate` (one value per challenged scheme), `Retry-After` and `DPoP-Nonce`,
/// shared by every responder.
pub(crate) fn insert_common_headers(h: &mut http::HeaderMap, rejection: &Rejection) {
    for challenge in rejection.challenges() {
        h.append(http::header::WWW_AUTHENTICATE, challenge);
    }
    if let Some(secs) = rejection.retry_after_secs() {
        h.insert(http::header::RETRY_AFTER, http::HeaderValue::from(secs));
    }
    // RFC 9449 section 9: the nonce the next proof must carry.
    if let Some(nonce) = rejection.dpop_nonce()
        && let Ok(v) = http::HeaderValue::from_str(nonce)
    {
        h.insert(http::HeaderName::from_static("dpop-nonce"), v);
    }
}

/// Builds the rejected response and attaches the `Rejection` to its extensions.
pub(crate) fn render<B, R: RejectionResponse<B>>(
    responder: &mut R,
    rejection: Rejection,
) -> Response<B> {
    let mut res = responder.response(&rejection);
    res.extensions_mut().insert(rejection);
    res
}
