use bytes::Bytes;
use http::header::{CACHE_CONTROL, CONTENT_TYPE};
use http::{HeaderValue, Response, StatusCode};
use serde::Serialize;

use super::{RejectionBody, RejectionResponse};
use crate::Rejection;

/// Renders every rejection as JSON: `{"error":{"code":"TOKEN_EXPIRED","message":"..."}}`,
/// with `Content-Type: application/json`, `Cache-Control: no-store` and, for 400/401/403, the
/// RFC 6750 `WWW-Authenticate` challenge.
#[derive(Clone, Copy, Debug, Default)]
pub struct JsonRejection;

#[derive(Serialize)]
struct Envelope<'a> {
    error: ErrorBody<'a>,
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    code: &'a str,
    message: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    required: Option<&'a [String]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    retry_after: Option<u64>,
}

/// The JSON document for a rejection.
pub(crate) fn json_bytes(rejection: &Rejection) -> Bytes {
    let code = rejection.code();
    let doc = Envelope {
        error: ErrorBody {
            code: code.as_str(),
            message: rejection.message(),
            required: rejection.required(),
            retry_after: rejection.retry_after_secs(),
        },
    };
    // Serializing strings and numbers cannot fail; an empty object is the harmless fallback.
    Bytes::from(serde_json::to_vec(&doc).unwrap_or_else(|_| b"{}".to_vec()))
}

/// Builds the HTTP response; shared with the axum extractors' rejections.
pub(crate) fn json_response<B: RejectionBody>(rejection: &Rejection) -> Response<B> {
    let code = rejection.code();
    let mut res = Response::new(B::from_json(json_bytes(rejection)));
    *res.status_mut() =
        StatusCode::from_u16(code.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let h = res.headers_mut();
    h.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    h.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    super::insert_common_headers(h, rejection);
    res
}

impl<B: RejectionBody> RejectionResponse<B> for JsonRejection {
    fn response(&mut self, rejection: &Rejection) -> Response<B> {
        json_response(rejection)
    }
}
