use http::Response;

use super::grpc::grpc_response;
use super::json::json_response;
use super::{RejectionBody, RejectionResponse};
use crate::Rejection;

/// The layers' default responder: a gRPC status for gRPC calls (so a tonic client sees a proper
/// `Status`), the [`JsonRejection`](super::JsonRejection) document otherwise.
#[derive(Clone, Copy, Debug, Default)]
pub struct DefaultRejection;

impl<B: RejectionBody> RejectionResponse<B> for DefaultRejection {
    fn response(&mut self, rejection: &Rejection) -> Response<B> {
        if rejection.is_grpc() {
            grpc_response(rejection, B::empty())
        } else {
            json_response(rejection)
        }
    }
}
