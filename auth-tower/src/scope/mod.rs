//! Require scopes, roles or permissions of the authenticated principal.
//!
//! [`ScopeLayer`] runs after an authentication layer ([`BearerLayer`](crate::bearer::BearerLayer),
//! or any layer that puts a [`Principal`](auth_core::Principal) into the request extensions).
//! It checks an [`auth_core::scope::Requirement`], built once, without allocating per request:
//!
//! - no principal: 401, answered exactly as the authentication layers would (if an optional
//!   authentication layer ran, with its realm and every scheme it accepts);
//! - a principal without the rights: 403 `INSUFFICIENT_SCOPE` with
//!   `WWW-Authenticate: Bearer error="insufficient_scope", error_description="..",
//!   scope="<required OAuth scopes>"` (RFC 6750 section 3.1), a JSON body listing what is
//!   `required`, and gRPC status 7 (PERMISSION_DENIED) for gRPC calls. Only OAuth scopes go in
//!   `scope` (omitted when the requirement has none): roles and permissions are not scopes a
//!   client could ask its authorization server for, so they are described in words in
//!   `error_description`, which is also the body's `message` and the `grpc-message`
//!   (see [`RequiredAccess`](auth_core::scope::RequiredAccess));
//! - otherwise the inner service is called.
//!
//! Every denial is a `tracing` event (target `auth::decision`) with the subject, path, what was
//! required and what was held.
//!
//! # Example
//!
//! ```
//! use auth_core::jwt::{Algorithm, JwtVerifier, VerificationKey};
//! use auth_core::scope::{Requirement, RolePolicy};
//! use auth_tower::bearer::BearerLayer;
//! use auth_tower::scope::ScopeLayer;
//! use bytes::Bytes;
//! use http::{Request, Response, StatusCode, header};
//! use http_body_util::Full;
//! use std::convert::Infallible;
//! use tower::{ServiceBuilder, ServiceExt, service_fn};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let secret = b"an example secret of at least thirty-two bytes";
//! let verifier = JwtVerifier::builder()
//!     .key(VerificationKey::hmac(Algorithm::HS256, secret)?)
//!     .audience("orders-api")
//!     .build()?;
//! let policy = RolePolicy::builder().grant("orders:refund", ["manager", "admin"]).build();
//!
//! // Outermost first: authenticate, then authorize.
//! let svc = ServiceBuilder::new()
//!     .layer(BearerLayer::new(verifier))
//!     .layer(ScopeLayer::new(Requirement::permission("orders:refund")).policy(policy))
//!     .service(service_fn(|_req: Request<Full<Bytes>>| async {
//!         Ok::<_, Infallible>(Response::new(Full::from("refunded")))
//!     }));
//!
//! # let exp = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_secs() + 60;
//! # let sign = |roles: &[&str]| jsonwebtoken::encode(&jsonwebtoken::Header::default(),
//! #     &serde_json::json!({"sub": "ann", "aud": "orders-api", "exp": exp, "roles": roles}),
//! #     &jsonwebtoken::EncodingKey::from_secret(secret));
//! let manager = sign(&["manager"])?;
//! let clerk = sign(&["clerk"])?;
//! let call = |token: String| {
//!     Request::post("/orders/7/refund")
//!         .header(header::AUTHORIZATION, format!("Bearer {token}"))
//!         .body(Full::default())
//! };
//! assert_eq!(svc.clone().oneshot(call(manager)?).await?.status(), StatusCode::OK);
//!
//! let res = svc.oneshot(call(clerk)?).await?;
//! assert_eq!(res.status(), StatusCode::FORBIDDEN);
//! assert_eq!(
//!     res.headers()[header::WWW_AUTHENTICATE],
//!     "Bearer realm=\"api\", error=\"insufficient_scope\", error_description=\"the credentials \
//!      do not grant access to this resource; it requires permission orders:refund\""
//! );
//! # Ok(())
//! # }
//! ```
//!
//! # gRPC: a requirement per method
//!
//! [`ScopeLayer::per_grpc_method`] takes a [`GrpcMethods`] table keyed by the gRPC path
//! (`/<package>.<Service>/<Method>`): each call is checked against its method's requirement
//! and denied with `grpc-status: 7` when it falls short (methods without a rule are denied
//! too). With tonic, put `BearerLayer` and this layer on the protected services only (tonic's
//! `LayerExt::named_layer`), so `grpc.health.v1.Health` and reflection stay open for probes and
//! tools; `examples/tonic-grpc` does exactly that.
//!
//! # HTTP: a requirement per route
//!
//! [`ScopeLayer::per_route`] takes an [`HttpRoutes`] table (`GET /orders/{id}`, ...), so one
//! layer in front of a router holds every route's requirement, as a configuration file
//! describes it (auth-core's `settings::ScopeSettings`, built by `auth_tower::settings` with the
//! `settings` feature). Requests no route matches are denied unless the table says otherwise.
//!
//! # Accepting a bearer token or an API key
//!
//! Put each authentication layer in optional mode in front of one `ScopeLayer`: whichever
//! method authenticated, the requirement applies, and an anonymous request gets one 401 that
//! challenges every accepted scheme.

mod future;
mod layer;
mod methods;
mod routes;
mod service;

pub use future::ResponseFuture;
pub use layer::ScopeLayer;
pub use methods::GrpcMethods;
pub use routes::HttpRoutes;
pub use service::Scope;
