//! Authenticate requests with API keys.
//!
//! [`ApiKeyLayer`] reads the key from the `X-API-Key` header (the name is configurable),
//! verifies it with [`auth_core::api_key::ApiKeys`] and, on success, puts a
//! [`Principal`](auth_core::Principal) into the request's extensions (method
//! [`AuthMethod::ApiKey`](auth_core::AuthMethod) with the key's public id, the key's owner as
//! subject, its scopes and roles) before calling the inner service. Otherwise the inner service
//! is not called and the response is a 401 with a stable code (`MISSING_CREDENTIALS`,
//! `INVALID_API_KEY`, `API_KEY_EXPIRED`, `API_KEY_REVOKED`) and an
//! `ApiKey realm="..."` challenge, or a gRPC status 16 (UNAUTHENTICATED) for gRPC calls;
//! 400 `INVALID_REQUEST` when the key is sent twice or in the query string, 503 when the
//! store cannot be reached.
//!
//! Malformed keys and typos fail the checksum and are answered without a store lookup; valid
//! ones cost one lookup by digest, whatever the number of stored keys. `last_used_at` writes
//! are coalesced (at most one per key per interval) and spawned, never awaited by the request:
//! on the current tokio runtime with the `tokio` feature, or by your
//! [spawner](ApiKeyLayerBuilder::spawner).
//!
//! The layer never changes the inner service's error type: rejections are responses.
//!
//! # Example
//!
//! ```
//! use auth_core::api_key::{ApiKeys, MemoryApiKeyStore, NewApiKey};
//! use auth_core::Principal;
//! use auth_tower::api_key::ApiKeyLayer;
//! use bytes::Bytes;
//! use http::{Request, Response, StatusCode, header};
//! use http_body_util::Full;
//! use std::convert::Infallible;
//! use tower::{ServiceBuilder, ServiceExt, service_fn};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let keys = ApiKeys::builder(MemoryApiKeyStore::new()).prefix("acme_live").build()?;
//! let created = keys.create(NewApiKey::new("alice", "ci").scopes(["read:orders"])).await?;
//!
//! let svc = ServiceBuilder::new()
//!     .layer(ApiKeyLayer::new(keys))
//!     .service(service_fn(|req: Request<Full<Bytes>>| async move {
//!         let who = req.extensions().get::<Principal>().map(|p| p.subject().to_owned());
//!         Ok::<_, Infallible>(Response::new(Full::from(who.unwrap_or_default())))
//!     }));
//!
//! // With the key the handler runs and sees the owner.
//! let req = Request::get("/")
//!     .header("x-api-key", created.key.expose_secret())
//!     .body(Full::default())?;
//! assert_eq!(svc.clone().oneshot(req).await?.status(), StatusCode::OK);
//!
//! // Without one: 401 with an ApiKey challenge.
//! let res = svc.clone().oneshot(Request::get("/").body(Full::default())?).await?;
//! assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
//! assert_eq!(res.headers()[header::WWW_AUTHENTICATE], "ApiKey realm=\"api\"");
//!
//! // A typo fails the checksum: INVALID_API_KEY, and the store is never asked.
//! let mut typo = created.key.expose_secret().to_owned();
//! typo.replace_range(12..13, if &typo[12..13] == "A" { "B" } else { "A" });
//! let req = Request::get("/").header("x-api-key", typo).body(Full::default())?;
//! let res = svc.oneshot(req).await?;
//! assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
//! assert!(res.headers()[header::WWW_AUTHENTICATE].to_str()?.contains("invalid_token"));
//! # Ok(())
//! # }
//! ```
//!
//! # Accepting a bearer token or an API key
//!
//! Put the `BearerLayer` first and the `ApiKeyLayer` after it, both in optional mode, then a
//! `ScopeLayer` (or an extractor that needs a principal). Each layer lets a request that the
//! other already authenticated pass untouched and never replaces the principal it found; a
//! request presenting both credentials (a bearer token, in the header or the cookie, and an
//! API key) is refused with 400 `INVALID_REQUEST`, "more than one credential was presented",
//! challenging both schemes, whichever layer comes first: which identity would count is
//! ambiguous. The `ApiKeyLayer` also widens the optional layers' `MISSING_CREDENTIALS` marker,
//! so an anonymous request gets one 401 with two challenges, `Bearer realm=".."` and
//! `ApiKey realm=".."`. With the `ApiKeyLayer` in required mode behind an optional
//! `BearerLayer`, the route needs one of the two and answers that same 401 itself.
//!
//! The order still decides one thing: when the *first* layer's credential is invalid, that
//! layer answers (401 for its credential) before the second sees the request. Either way a
//! request carrying two credentials never reaches the handler.
//!
//! ```
//! # #[cfg(all(feature = "bearer", feature = "scope"))] {
//! use auth_core::api_key::{ApiKeys, MemoryApiKeyStore};
//! use auth_core::jwt::{Algorithm, JwtVerifier, VerificationKey};
//! use auth_core::scope::Requirement;
//! use auth_tower::api_key::ApiKeyLayer;
//! use auth_tower::bearer::BearerLayer;
//! use auth_tower::scope::ScopeLayer;
//! use tower::ServiceBuilder;
//!
//! # fn build() -> Result<(), Box<dyn std::error::Error>> {
//! # let verifier = JwtVerifier::builder()
//! #     .key(VerificationKey::hmac(Algorithm::HS256, b"an example secret of at least thirty-two bytes")?)
//! #     .audience("orders-api")
//! #     .build()?;
//! let keys = ApiKeys::builder(MemoryApiKeyStore::new()).prefix("acme_live").build()?;
//! let stack = ServiceBuilder::new()
//!     .layer(BearerLayer::builder(verifier).optional().build()?)
//!     .layer(ApiKeyLayer::builder(keys).optional().build()?)
//!     .layer(ScopeLayer::new(Requirement::scope("read:orders")));
//! # let _ = stack;
//! # Ok(()) }
//! # build().unwrap();
//! # }
//! ```
//!
//! # Security considerations
//!
//! - The key is never echoed, logged or put in an error message; the header is marked
//!   sensitive. Decision events (target `auth::decision`) carry the code, the reason and, once
//!   known, the key's public id and owner.
//! - Keys are not read from the query string unless
//!   [`dangerous_allow_query_param`](ApiKeyLayerBuilder::dangerous_allow_query_param) says so;
//!   without it, a key-looking query parameter is a 400, so the client learns its key leaked
//!   into URLs instead of silently getting a 401.
//! - Two key headers, or a key plus a principal another layer set, are a 400 rather than a
//!   guess; a principal set earlier is never replaced.
//! - Malformed, mistyped and unknown keys all answer `INVALID_API_KEY`; expiry and revocation
//!   codes are only given for keys that matched a stored digest.
//! - Without the `tokio` feature and without a spawner, `last_used_at` is not updated (a
//!   warning is logged once); authentication is unaffected.

mod future;
mod layer;
mod service;

pub use future::ResponseFuture;
pub use layer::{ApiKeyLayer, ApiKeyLayerBuilder, DEFAULT_HEADER, UsageFuture};
pub use service::ApiKey;
