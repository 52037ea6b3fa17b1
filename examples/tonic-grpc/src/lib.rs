//! A tonic gRPC service behind [`auth_tower::bearer::BearerLayer`].
//!
//! The layer sits in front of every service of the tonic server: a call without a valid bearer
//! token in its `authorization` metadata never reaches [`WhoAmIService`] and the client sees
//! `Code::Unauthenticated` (the default responder answers gRPC calls with a trailers-only
//! `grpc-status`). A verified call carries the [`Principal`] in its extensions, which tonic
//! exposes through [`Request::extensions`].
//!
//! Run the server with `cargo run -p tonic-grpc`; see the README for how to call it.

use std::time::Duration;

use auth_core::clock::{Clock, UnixTime};
use auth_core::jwt::{Algorithm, JwtVerifier, VerificationKey};
use auth_core::{ConfigError, Principal};
use auth_tower::bearer::BearerLayer;
use tokio::net::TcpListener;
use tonic::transport::Server;
use tonic::transport::server::TcpIncoming;
use tonic::{Request, Response, Status};

/// Code generated from `proto/greeter.proto` (package `demo.v1`).
pub mod proto {
    // tonic's generated code spells out full paths (`tonic::codegen::...`) on purpose. Docs
    // come from the comments in `greeter.proto`: keep every element there commented.
    #![allow(unused_qualifications)]
    tonic::include_proto!("demo.v1");
}

use proto::greeter_server::{Greeter, GreeterServer};
use proto::{WhoAmIReply, WhoAmIRequest};

/// The issuer (`iss`) the demo verifier requires.
pub const ISSUER: &str = "auth-demo";
/// The audience (`aud`) the demo verifier requires.
pub const AUDIENCE: &str = "auth-demo-api";
/// How long the token printed by the demo binary stays valid.
pub const DEMO_TOKEN_LIFETIME: Duration = Duration::from_secs(60 * 60);

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
        // is not installed: a server bug, not the caller's fault.
        let Some(principal) = request.extensions().get::<Principal>() else {
            tracing::error!("no Principal in request extensions: is BearerLayer installed?");
            return Err(Status::internal("authentication layer missing"));
        };
        Ok(Response::new(WhoAmIReply {
            subject: principal.subject().to_owned(),
            scopes: principal.scopes().to_vec(),
            roles: principal.roles().to_vec(),
        }))
    }
}

/// Serves `demo.v1.Greeter` on `listener`, every call authenticated by `verifier`.
///
/// Runs until the server fails; drop or abort the task to stop it.
///
/// # Errors
///
/// The transport error that stopped the server.
pub async fn serve(
    listener: TcpListener,
    verifier: JwtVerifier,
) -> Result<(), tonic::transport::Error> {
    Server::builder()
        .layer(BearerLayer::new(verifier))
        .add_service(GreeterServer::new(WhoAmIService))
        .serve_with_incoming(TcpIncoming::from(listener))
        .await
}
