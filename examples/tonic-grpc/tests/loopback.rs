//! A real tonic client against the real server over loopback, with `BearerLayer` in front of
//! the demo services only: health checks and reflection answer without a token, the Orders
//! service holds each method to its scope (issue 18, gRPC).
//!
//! The verifier reads a `ManualClock`, so expiry is tested by moving the clock, never by
//! sleeping; every call is bounded by a timeout.

// `allow-unwrap-in-tests` covers `#[test]` functions only, not this file's helpers; a panic
// here is a failed test, which is what the helpers mean.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use auth_core::clock::{ManualClock, UnixTime};
use tokio::net::TcpListener;
use tonic::metadata::MetadataValue;
use tonic::transport::Channel;
use tonic::{Code, Request, Response, Status};
use tonic_grpc::proto::greeter_client::GreeterClient;
use tonic_grpc::proto::orders_client::OrdersClient;
use tonic_grpc::proto::{
    ListOrdersReply, ListOrdersRequest, RefundOrderReply, RefundOrderRequest, WhoAmIReply,
    WhoAmIRequest,
};

const SECRET: &[u8] = b"loopback test secret, 32 bytes or more";
const OTHER_SECRET: &[u8] = b"another secret the server never saw!!";
const T0: u64 = 1_700_000_000;
const TIMEOUT: Duration = Duration::from_secs(10);

/// A server on an ephemeral loopback port, its clock, and a connected client.
struct Harness {
    clock: ManualClock,
    channel: Channel,
    client: GreeterClient<Channel>,
    server: tokio::task::JoinHandle<Result<(), Box<dyn std::error::Error + Send + Sync>>>,
}

impl Drop for Harness {
    fn drop(&mut self) {
        self.server.abort();
    }
}

async fn bounded<F: Future>(f: F) -> F::Output {
    tokio::time::timeout(TIMEOUT, f)
        .await
        .expect("timed out after 10 s")
}

async fn start() -> Harness {
    let clock = ManualClock::new(UnixTime::from_secs(T0));
    let verifier = tonic_grpc::verifier(SECRET, clock.clone()).unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr: SocketAddr = listener.local_addr().unwrap();
    // The listener is bound before the server task runs, so connecting cannot race it.
    let server = tokio::spawn(tonic_grpc::serve(listener, verifier));
    let channel = bounded(
        Channel::from_shared(format!("http://{addr}"))
            .unwrap()
            .connect(),
    )
    .await
    .unwrap();
    Harness {
        clock,
        client: GreeterClient::new(channel.clone()),
        channel,
        server,
    }
}

fn sign(secret: &[u8], claims: &serde_json::Value) -> String {
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        claims,
        &jsonwebtoken::EncodingKey::from_secret(secret),
    )
    .unwrap()
}

/// Claims the server accepts at `T0`: valid for one more minute.
fn good_claims() -> serde_json::Value {
    serde_json::json!({
        "sub": "alice",
        "iss": tonic_grpc::ISSUER,
        "aud": tonic_grpc::AUDIENCE,
        "iat": T0,
        "exp": T0 + 60,
        "scope": "read:orders write:orders",
        "roles": ["support"],
    })
}

async fn who_am_i(h: &mut Harness, token: Option<&str>) -> Result<Response<WhoAmIReply>, Status> {
    let mut req = Request::new(WhoAmIRequest {});
    if let Some(token) = token {
        let value: MetadataValue<_> = format!("Bearer {token}").parse().unwrap();
        req.metadata_mut().insert("authorization", value);
    }
    bounded(h.client.who_am_i(req)).await
}

fn assert_unauthenticated(result: Result<Response<WhoAmIReply>, Status>) -> Status {
    let status = result.expect_err("the call must be rejected");
    assert_eq!(status.code(), Code::Unauthenticated, "{status:?}");
    status
}

#[tokio::test]
async fn call_without_token_is_unauthenticated_with_a_bearer_challenge() {
    let mut h = start().await;
    let status = assert_unauthenticated(who_am_i(&mut h, None).await);
    let challenge = status
        .metadata()
        .get("www-authenticate")
        .expect("RFC 6750 challenge in the trailers-only response");
    assert!(challenge.to_str().unwrap().starts_with("Bearer "));
}

#[tokio::test]
async fn valid_token_reaches_the_service_with_its_principal() {
    let mut h = start().await;
    let token = sign(SECRET, &good_claims());
    let reply = who_am_i(&mut h, Some(&token)).await.unwrap().into_inner();
    assert_eq!(reply.subject, "alice");
    assert_eq!(reply.scopes, ["read:orders", "write:orders"]);
    assert_eq!(reply.roles, ["support"]);
}

#[tokio::test]
async fn token_is_unauthenticated_once_the_clock_passes_exp_and_leeway() {
    let mut h = start().await;
    let token = sign(SECRET, &good_claims());
    who_am_i(&mut h, Some(&token)).await.unwrap();

    // exp is T0 + 60 and the leeway 30 s: T0 + 91 s is past both.
    h.clock.advance(Duration::from_secs(91));
    assert_unauthenticated(who_am_i(&mut h, Some(&token)).await);
}

#[tokio::test]
async fn token_signed_with_another_key_is_unauthenticated() {
    let mut h = start().await;
    let token = sign(OTHER_SECRET, &good_claims());
    assert_unauthenticated(who_am_i(&mut h, Some(&token)).await);
}

#[tokio::test]
async fn token_for_another_audience_is_unauthenticated() {
    let mut h = start().await;
    let mut claims = good_claims();
    claims["aud"] = "some-other-api".into();
    let token = sign(SECRET, &claims);
    assert_unauthenticated(who_am_i(&mut h, Some(&token)).await);
}

#[tokio::test]
async fn printed_demo_token_is_accepted() {
    let mut h = start().await;
    let token = tonic_grpc::demo_token(SECRET, UnixTime::from_secs(T0)).unwrap();
    let reply = who_am_i(&mut h, Some(&token)).await.unwrap().into_inner();
    assert_eq!(reply.subject, "demo-user");
    assert_eq!(reply.scopes, ["read:orders"]);
    assert!(reply.roles.is_empty());
}

/// `req` with `authorization: Bearer <token>` when a token is given.
fn with_token<T>(req: T, token: Option<&str>) -> Request<T> {
    let mut req = Request::new(req);
    if let Some(token) = token {
        let value: MetadataValue<_> = format!("Bearer {token}").parse().unwrap();
        req.metadata_mut().insert("authorization", value);
    }
    req
}

/// A token for `alice` with exactly `scope`.
fn token_with_scope(scope: &str) -> String {
    let mut claims = good_claims();
    claims["scope"] = scope.into();
    sign(SECRET, &claims)
}

async fn list_orders(h: &Harness, token: Option<&str>) -> Result<ListOrdersReply, Status> {
    let mut client = OrdersClient::new(h.channel.clone());
    bounded(client.list_orders(with_token(ListOrdersRequest {}, token)))
        .await
        .map(Response::into_inner)
}

async fn refund(h: &Harness, token: Option<&str>) -> Result<RefundOrderReply, Status> {
    let mut client = OrdersClient::new(h.channel.clone());
    let req = RefundOrderRequest {
        order_id: "ord-1001".into(),
    };
    bounded(client.refund_order(with_token(req, token)))
        .await
        .map(Response::into_inner)
}

#[tokio::test]
async fn health_checks_answer_without_a_token() {
    use tonic_health::pb::HealthCheckRequest;
    use tonic_health::pb::health_check_response::ServingStatus;
    use tonic_health::pb::health_client::HealthClient;

    let h = start().await;
    let mut health = HealthClient::new(h.channel.clone());
    for service in ["", "demo.v1.Orders", "demo.v1.Greeter"] {
        let req = HealthCheckRequest {
            service: service.into(),
        };
        let reply = bounded(health.check(req)).await.unwrap().into_inner();
        assert_eq!(reply.status(), ServingStatus::Serving, "{service:?}");
    }
}

#[tokio::test]
async fn reflection_lists_the_services_without_a_token() {
    use tonic_reflection::pb::v1::ServerReflectionRequest;
    use tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient;
    use tonic_reflection::pb::v1::server_reflection_request::MessageRequest;
    use tonic_reflection::pb::v1::server_reflection_response::MessageResponse;

    let h = start().await;
    let mut reflection = ServerReflectionClient::new(h.channel.clone());
    let req = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::ListServices(String::new())),
    };
    let mut replies = bounded(reflection.server_reflection_info(tokio_stream_once(req)))
        .await
        .unwrap()
        .into_inner();
    let reply = bounded(replies.message()).await.unwrap().unwrap();
    let Some(MessageResponse::ListServicesResponse(list)) = reply.message_response else {
        panic!("not a service list: {reply:?}");
    };
    let names: Vec<_> = list.service.into_iter().map(|s| s.name).collect();
    for name in ["demo.v1.Greeter", "demo.v1.Orders"] {
        assert!(names.iter().any(|n| n == name), "{names:?}");
    }
}

/// A request stream of one message.
fn tokio_stream_once<T: Send + 'static>(
    item: T,
) -> impl tonic::codegen::tokio_stream::Stream<Item = T> {
    tonic::codegen::tokio_stream::iter([item])
}

#[tokio::test]
async fn the_protected_service_without_a_token_is_unauthenticated() {
    let h = start().await;
    let status = list_orders(&h, None).await.unwrap_err();
    assert_eq!(status.code(), Code::Unauthenticated, "{status:?}");
    assert!(status.metadata().get("www-authenticate").is_some());
}

#[tokio::test]
async fn a_token_without_the_methods_scope_is_permission_denied() {
    let h = start().await;
    let reader = token_with_scope(tonic_grpc::READ_ORDERS);
    let status = refund(&h, Some(&reader)).await.unwrap_err();
    assert_eq!(status.code(), Code::PermissionDenied, "{status:?}");
    // The same token is enough for the method that only needs it.
    assert_eq!(list_orders(&h, Some(&reader)).await.unwrap().owner, "alice");
    // And a refunder cannot list: each method has its own scope.
    let refunder = token_with_scope(tonic_grpc::REFUND_ORDERS);
    let status = list_orders(&h, Some(&refunder)).await.unwrap_err();
    assert_eq!(status.code(), Code::PermissionDenied, "{status:?}");
}

#[tokio::test]
async fn a_token_with_the_methods_scope_reaches_the_handler_with_its_principal() {
    let h = start().await;
    let refunder = token_with_scope(tonic_grpc::REFUND_ORDERS);
    let reply = refund(&h, Some(&refunder)).await.unwrap();
    assert_eq!(reply.order_id, "ord-1001");
    assert_eq!(reply.refunded_by, "alice");
}

#[tokio::test]
async fn the_printed_demo_token_lists_orders_but_cannot_refund() {
    let h = start().await;
    let token = tonic_grpc::demo_token(SECRET, UnixTime::from_secs(T0)).unwrap();
    assert_eq!(
        list_orders(&h, Some(&token)).await.unwrap().owner,
        "demo-user"
    );
    let status = refund(&h, Some(&token)).await.unwrap_err();
    assert_eq!(status.code(), Code::PermissionDenied);
}
