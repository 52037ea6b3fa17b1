//! tonic gRPC services behind [`auth_tower::bearer::BearerLayer`], authenticated per service.
//!
//! The server has four services, and the layers sit in front of two of them only (tonic's
//! [`LayerExt::named_layer`](tonic::service::LayerExt::named_layer) keeps each service's name for routing):
//!
//! - `grpc.health.v1.Health` (`tonic-health`) and `grpc.reflection.v1.ServerReflection`
//!   (`tonic-reflection`): **open**, so load-balancer probes and tools like `grpcurl` work
//!   without a token;
//! - `demo.v1.Greeter` ([`WhoAmIService`]): behind `BearerLayer`, any valid token;
//! - `demo.v1.Orders` ([`OrdersService`]): behind `BearerLayer` and a
//!   [`ScopeLayer::per_grpc_method`] with a scope per method ([`orders_methods`]).
//!
//! A call to a protected service without a valid bearer token in its `authorization` metadata
//! never reaches the handler: the client sees `Code::Unauthenticated` (16); a token without
//! the method's scope gets `Code::PermissionDenied` (7). The default responder answers gRPC
//! calls with a trailers-only `grpc-status`. A verified call carries the [`Principal`] in its
//! extensions; handlers read it with [`PrincipalExt::require_principal`](auth_tower::grpc::PrincipalExt::require_principal).
//!
//! Run the server with `cargo run -p tonic-grpc`; see the README for how to call it.

use std::error::Error;
use std::time::Duration;

use auth_core::clock::{Clock, UnixTime};
use auth_core::jwt::{Algorithm, JwtVerifier, VerificationKey};
use auth_core::scope::Requirement;
use auth_core::{ConfigError, Principal};
use auth_tower::bearer::BearerLayer;
use auth_tower::grpc::PrincipalExt as _;
use auth_tower::scope::{GrpcMethods, ScopeLayer};
use tokio::net::TcpListener;
use tonic::service::LayerExt as _;
use tonic::transport::Server;
use tonic::transport::server::TcpIncoming;
use tonic::{Request, Response, Status};
use tower::ServiceBuilder;

/// Code generated from `proto/greeter.proto` (package `demo.v1`).
pub mod proto {
    // tonic's generated code spells out full paths (`tonic::codegen::...`) on purpose. Docs
    // come from the comments in `greeter.proto`: keep every element there commented.
    #![allow(unused_qualifications)]
    tonic::include_proto!("demo.v1");

    /// The encoded file descriptor set of `greeter.proto`, served by the reflection service.
    pub const FILE_DESCRIPTOR_SET: &[u8] = tonic::include_file_descriptor_set!("demo_descriptor");
}

use proto::greeter_server::{Greeter, GreeterServer};
use proto::orders_server::{Orders, OrdersServer};
use proto::{
    ListOrdersReply, ListOrdersRequest, RefundOrderReply, RefundOrderRequest, WhoAmIReply,
    WhoAmIRequest,
};

/// The issuer (`iss`) the demo verifier requires.
pub const ISSUER: &str = "auth-demo";
/// The audience (`aud`) the demo verifier requires.
pub const AUDIENCE: &str = "auth-demo-api";
/// How long the token printed by the demo binary stays valid.
pub const DEMO_TOKEN_LIFETIME: Duration = Duration::from_secs(60 * 60);
/// The scope `demo.v1.Orders/ListOrders` requires (the demo token has it).
pub const READ_ORDERS: &str = "read:orders";
/// The scope `demo.v1.Orders/RefundOrder` requires (the demo token does not have it).
pub const REFUND_ORDERS: &str = "orders:refund";

/// The demo verifier: HS256 with `secret`, issuer [`ISSUER`], audience [`AUDIENCE`], and
/// `clock` for every expiry check.
///
/// # Errors
///
/// [`ConfigError::WeakHmacSecret`] when `secret` is shorter than 32 bytes.
pub fn verifier(secret: &[u8], clock: impl Clock) -> Result<JwtVerifier, ConfigError> {
    JwtVerifier::builder()
        .key(VerificationKey::hmac(Algorithm::HS256, secret)?)
        .issuer(ISSUER)
        .audience(AUDIENCE)
        .clock(clock)
        .build()
}

/// Signs the token the demo binary prints: subject `demo-user`, scope `read:orders`, issued
/// at `now` and valid for [`DEMO_TOKEN_LIFETIME`].
///
/// # Errors
///
/// The signing error from jsonwebtoken (not expected for an HMAC key).
pub fn demo_token(secret: &[u8], now: UnixTime) -> Result<String, jsonwebtoken::errors::Error> {
    let iat = now.as_secs();
    let claims = serde_json::json!({
        "sub": "demo-user",
        "iss": ISSUER,
        "aud": AUDIENCE,
        "iat": iat,
        "exp": iat.saturating_add(DEMO_TOKEN_LIFETIME.as_secs()),
        "scope": "read:orders",
    });
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(secret),
    )
}

/// The `demo.v1.Greeter` implementation: tells callers who the token says they are.
#[derive(Clone, Copy, Debug, Default)]
pub struct WhoAmIService;

#[tonic::async_trait]
impl Greeter for WhoAmIService {
    async fn who_am_i(
        &self,
        request: Request<WhoAmIRequest>,
    ) -> Result<Response<WhoAmIReply>, Status> {
        // BearerLayer only lets verified calls through, so a missing principal means the layer
        // is not installed: a server bug, answered INTERNAL (and logged) by require_principal.
        let principal: &Principal = request.require_principal()?;
        Ok(Response::new(WhoAmIReply {
            subject: principal.subject().to_owned(),
            scopes: principal.scopes().to_vec(),
            roles: principal.roles().to_vec(),
        }))
    }
}

/// The `demo.v1.Orders` implementation: the caller's orders, and refunds.
#[derive(Clone, Copy, Debug, Default)]
pub struct OrdersService;

#[tonic::async_trait]
impl Orders for OrdersService {
    async fn list_orders(
        &self,
        request: Request<ListOrdersRequest>,
    ) -> Result<Response<ListOrdersReply>, Status> {
        let principal = request.require_principal()?;
        Ok(Response::new(ListOrdersReply {
            owner: principal.subject().to_owned(),
            order_ids: vec!["ord-1001".to_owned(), "ord-1002".to_owned()],
        }))
    }

    async fn refund_order(
        &self,
        request: Request<RefundOrderRequest>,
    ) -> Result<Response<RefundOrderReply>, Status> {
        let principal = request.require_principal()?;
        let order_id = request.get_ref().order_id.clone();
        if order_id.is_empty() {
            return Err(Status::invalid_argument("order_id is required"));
        }
        tracing::info!(subject = principal.subject(), %order_id, "order refunded");
        Ok(Response::new(RefundOrderReply {
            order_id,
            refunded_by: principal.subject().to_owned(),
        }))
    }
}

/// What each method of `demo.v1.Orders` requires: [`READ_ORDERS`] to list, [`REFUND_ORDERS`]
/// to refund. A method added to the service later is denied until it gets a rule here.
pub fn orders_methods() -> GrpcMethods {
    GrpcMethods::new()
        .method(
            "/demo.v1.Orders/ListOrders",
            Requirement::scope(READ_ORDERS),
        )
        .method(
            "/demo.v1.Orders/RefundOrder",
            Requirement::scope(REFUND_ORDERS),
        )
}

/// Serves the demo on `listener`: health and reflection open, `demo.v1.Greeter` and
/// `demo.v1.Orders` authenticated by `verifier`, `demo.v1.Orders` with a scope per method.
///
/// Runs until the server fails; drop or abort the task to stop it.
///
/// # Errors
///
/// The method rules or the reflection service could not be built, or the transport error
/// that stopped the server.
pub async fn serve(
    listener: TcpListener,
    verifier: JwtVerifier,
) -> Result<(), Box<dyn Error + Send + Sync>> {
    let (health_reporter, health) = tonic_health::server::health_reporter();
    health_reporter
        .set_serving::<GreeterServer<WhoAmIService>>()
        .await;
    health_reporter
        .set_serving::<OrdersServer<OrdersService>>()
        .await;
    let reflection = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(proto::FILE_DESCRIPTOR_SET)
        .build_v1()?;

    let bearer = BearerLayer::new(verifier);
    let orders_auth = ServiceBuilder::new()
        .layer(bearer.clone())
        .layer(ScopeLayer::per_grpc_method(orders_methods())?)
        .into_inner();

    Server::builder()
        // Open: probes and tools call these without a token.
        .add_service(health)
        .add_service(reflection)
        // Authenticated, each with its own layers; `named_layer` keeps the service's name.
        .add_service(bearer.named_layer(GreeterServer::new(WhoAmIService)))
        .add_service(orders_auth.named_layer(OrdersServer::new(OrdersService)))
        .serve_with_incoming(TcpIncoming::from(listener))
        .await?;
    Ok(())
}
