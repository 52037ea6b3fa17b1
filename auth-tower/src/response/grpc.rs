use http::header::CONTENT_TYPE;
use http::{HeaderName, HeaderValue, Response};

use super::RejectionResponse;
use crate::Rejection;

static GRPC_STATUS: HeaderName = HeaderName::from_static("grpc-status");
static GRPC_MESSAGE: HeaderName = HeaderName::from_static("grpc-message");

/// Renders every rejection as a trailers-only gRPC response: HTTP 200,
/// `content-type: application/grpc`, `grpc-status` (16 UNAUTHENTICATED, 7 PERMISSION_DENIED,
/// ...) and `grpc-message`. Needs only `B: Default`, so it fits any body type.
#[derive(Clone, Copy, Debug, Default)]
pub struct GrpcRejection;

pub(crate) fn grpc_response<B>(rejection: &Rejection, body: B) -> Response<B> {
    let code = rejection.code();
    let mut res = Response::new(body);
    let h = res.headers_mut();
    h.insert(CONTENT_TYPE, HeaderValue::from_static("application/grpc"));
    h.insert(GRPC_STATUS.clone(), HeaderValue::from(code.grpc_code()));
    // Messages are plain visible ASCII without '%' (checked where a message is not static),
    // so no percent-encoding is needed; the code's static message is the fallback.
    let message = HeaderValue::from_str(rejection.message())
        .ok()
        .filter(|_| !rejection.message().contains('%'))
        .unwrap_or(HeaderValue::from_static(code.message()));
    h.insert(GRPC_MESSAGE.clone(), message);
    super::insert_common_headers(h, rejection);
    res
}

impl<B: Default> RejectionResponse<B> for GrpcRejection {
    fn response(&mut self, rejection: &Rejection) -> Response<B> {
        grpc_response(rejection, B::default())
    }
}
