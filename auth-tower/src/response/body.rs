use bytes::Bytes;
use http_body_util::{Full, combinators::BoxBody, combinators::UnsyncBoxBody};

/// A response body the default responders can write a rejection into.
pub trait RejectionBody: Sized {
    /// A body holding `json` (an `application/json` document).
    fn from_json(json: Bytes) -> Self;
    /// An empty body (gRPC trailers-only responses).
    fn empty() -> Self;
}

impl RejectionBody for Full<Bytes> {
    fn from_json(json: Bytes) -> Self {
        Full::new(json)
    }
    fn empty() -> Self {
        Full::default()
    }
}

impl<E: 'static> RejectionBody for BoxBody<Bytes, E> {
    fn from_json(json: Bytes) -> Self {
        use http_body_util::BodyExt as _;
        Full::new(json).map_err(|never| match never {}).boxed()
    }
    fn empty() -> Self {
        Self::from_json(Bytes::new())
    }
}

impl<E: 'static> RejectionBody for UnsyncBoxBody<Bytes, E> {
    fn from_json(json: Bytes) -> Self {
        use http_body_util::BodyExt as _;
        Full::new(json)
            .map_err(|never| match never {})
            .boxed_unsync()
    }
    fn empty() -> Self {
        Self::from_json(Bytes::new())
    }
}

#[cfg(feature = "axum")]
impl RejectionBody for axum_core::body::Body {
    fn from_json(json: Bytes) -> Self {
        Self::from(json)
    }
    fn empty() -> Self {
        Self::empty()
    }
}

#[cfg(feature = "tonic")]
impl RejectionBody for tonic::body::Body {
    fn from_json(json: Bytes) -> Self {
        Self::new(Full::new(json))
    }
    fn empty() -> Self {
        Self::default()
    }
}
