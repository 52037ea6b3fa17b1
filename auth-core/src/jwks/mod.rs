//! Verification keys from identity providers: a JWK Set over HTTP, OpenID Connect discovery,
//! cached and refreshed without making requests wait.
//!
//! [`JwksSource`] is a [`KeyResolver`](crate::jwt::KeyResolver): plug it into
//! [`JwtVerifier::builder`](crate::jwt::JwtVerifier::builder) with
//! [`jwks`](crate::jwt::JwtVerifierBuilder::jwks) (or
//! [`key_resolver`](crate::jwt::JwtVerifierBuilder::key_resolver)), or give each of several
//! issuers its own source with [`TrustedIssuer`](crate::jwt::TrustedIssuer). The HTTP stack is
//! behind the [`HttpClient`] trait; the `jwks-reqwest` feature provides [`ReqwestClient`] as
//! the default.
//!
//! # Caching rules
//!
//! Every time decision reads the injected [`Clock`](crate::clock::Clock), so tests drive the
//! cache with [`ManualClock`](crate::clock::ManualClock) and never sleep.
//!
//! - **Lifetime.** `Cache-Control: max-age` of the JWKS response, bounded to
//!   [`DEFAULT_MIN_TTL`] ..= [`DEFAULT_MAX_TTL`] (1 min ..= 24 h); [`DEFAULT_TTL`] (10 min)
//!   when absent; `no-cache`/`no-store` mean the minimum.
//! - **Refresh ahead.** Once a request finds the keys within [`DEFAULT_REFRESH_AHEAD`] of
//!   expiry (at most half the lifetime), it starts a refresh in the background (on the
//!   current Tokio runtime) and goes on with the cached keys, so in the steady state no
//!   request waits for a fetch.
//! - **Unknown `kid`.** A token naming a key the cache lacks triggers an immediate refetch,
//!   but fetches caused by unknown `kid`s are at least the cooldown ([`DEFAULT_COOLDOWN`],
//!   30 s) apart, whatever the request rate; within the cooldown the token is rejected as
//!   unknown (401). The start-up fetch and scheduled refreshes do not start the cooldown, so
//!   a key the provider rotated in right after them is learned by the first token using it. Concurrent misses share one fetch in flight (single-flight), and the
//!   requests waiting for it resume when it lands. A flood of tokens with random `kid`s thus
//!   causes at most one fetch per cooldown.
//! - **Provider down.** A failed fetch keeps the last good key set, for up to
//!   [`DEFAULT_MAX_STALE`] (1 h) past its expiry, with a warning on `auth::jwks`; retries
//!   happen at most once per cooldown. With no usable keys at all (never fetched, or past the
//!   stale window), requests get 503 `AUTH_BACKEND_UNAVAILABLE`, not 401.
//! - **Unusable keys are skipped one by one** (unknown `kty` or `crv`, `use` other than
//!   `sig`, `key_ops` without `verify`, missing or malformed fields, an `alg` not allowed,
//!   symmetric `oct` keys), each with a warning; the set is refused only when nothing usable
//!   remains.
//! - **Matching.** Keys are matched by `kid` and algorithm. A JWK's `alg`, when present, pins
//!   it; a JWK without `alg` is usable with each allowed algorithm its key type fits (RSA:
//!   `RS*`/`PS*`; EC: the curve's `ES*`; OKP Ed25519: `EdDSA`), each pinned separately.
//!
//! # Example
//!
//! ```
//! # use auth_core::jwks::{FetchRequest, HttpClient, HttpError, HttpResponse};
//! # use auth_core::jwt::BoxFuture;
//! # use std::sync::{Arc, atomic::{AtomicUsize, Ordering}};
//! # #[derive(Debug, Default)]
//! # struct Idp { fetches: AtomicUsize }
//! # impl HttpClient for Idp {
//! #     fn get(&self, _: FetchRequest) -> BoxFuture<'static, Result<HttpResponse, HttpError>> {
//! #         self.fetches.fetch_add(1, Ordering::SeqCst);
//! #         Box::pin(async { Ok(HttpResponse::new(200, r#"{"keys":[{"kty":"OKP","crv":"Ed25519","kid":"k1","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]}"#).with_cache_control("max-age=600")) })
//! #     }
//! # }
//! use auth_core::clock::ManualClock;
//! use auth_core::jwks::JwksSource;
//! use auth_core::jwt::JwtVerifier;
//! use auth_core::ErrorCode;
//! use std::time::Duration;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let idp = Arc::new(Idp::default());
//! let clock = ManualClock::starting_now();
//! let keys = JwksSource::from_jwks_uri("https://idp.example/jwks")
//!     .http_client(idp.clone())
//!     .clock(clock.clone())
//!     .build()?;
//! let verifier = JwtVerifier::builder()
//!     .jwks(keys)
//!     .issuer("https://idp.example")
//!     .audience("orders-api")
//!     .clock(clock.clone())
//!     .build()?;
//!
//! // A token whose kid the provider does not publish. The first request loads the keys (a
//! // fetch like the start-up one, which starts no cooldown), then 401.
//! let forged = "eyJhbGciOiJFZERTQSIsImtpZCI6Im5vcGUifQ.eyJzdWIiOiJ4In0.c2ln";
//! let err = verifier.verify(forged).await.unwrap_err();
//! assert_eq!(err.code(), ErrorCode::InvalidToken);
//! assert_eq!(idp.fetches.load(Ordering::SeqCst), 1);
//! // With keys loaded, an unknown kid causes one refetch (the key may have just been
//! // rotated in), which starts the cooldown ...
//! let err = verifier.verify(forged).await.unwrap_err();
//! assert_eq!(err.code(), ErrorCode::InvalidToken);
//! assert_eq!(idp.fetches.load(Ordering::SeqCst), 2);
//! // ... so within it, unknown kids cause no fetch at all.
//! let err = verifier.verify(forged).await.unwrap_err();
//! assert_eq!(err.code(), ErrorCode::InvalidToken);
//! assert_eq!(idp.fetches.load(Ordering::SeqCst), 2);
//! clock.advance(Duration::from_secs(31));
//! verifier.verify(forged).await.unwrap_err();
//! assert_eq!(idp.fetches.load(Ordering::SeqCst), 3);
//! # Ok(())
//! # }
//! ```
//!
//! # Security considerations
//!
//! - **Keys never come from the token.** Its `jwk`, `jku`, `x5u` and `x5c` headers are
//!   ignored; keys come only from the configured URL (or the `jwks_uri` of the configured
//!   issuer's discovery document, whose `issuer` must match exactly).
//! - **Transport.** URLs must be `https` (plain `http` only to loopback hosts, unless
//!   [`dangerous_allow_plain_http`](JwksSourceBuilder::dangerous_allow_plain_http));
//!   [`ReqwestClient`] follows no redirects. Bodies are capped
//!   ([`DEFAULT_MAX_BODY_BYTES`]), at most 100 keys are read per set.
//! - **Symmetric keys never come from a URL**: `HS*` cannot be allowed on a source and `oct`
//!   JWKs are skipped.
//! - **Unauthenticated input reaches the fetcher** (any token can name an unknown `kid`); the
//!   cooldown and single-flight bound that to one fetch per cooldown, and tokens whose `alg`
//!   the source does not allow never cause a fetch.
//! - **Availability over freshness, within bounds.** Stale keys keep working for the stale
//!   window so an identity-provider outage does not become an API outage; a key the provider
//!   revoked therefore stays trusted until the next successful refresh (at most lifetime plus
//!   stale window). Shorten [`max_stale`](JwksSourceBuilder::max_stale) if that trade-off is
//!   wrong for you.

mod cache_control;
pub(crate) mod discovery;
pub(crate) mod document;
mod error;
pub(crate) mod http;
#[cfg(feature = "jwks-reqwest")]
#[cfg_attr(docsrs, doc(cfg(feature = "jwks-reqwest")))]
mod reqwest;
mod source;
pub(crate) mod url;

pub use discovery::{ProviderMetadata, discover};
pub use error::FetchError;
pub use http::{FetchRequest, HttpClient, HttpError, HttpRequest, HttpResponse, Method};
#[cfg(feature = "jwks-reqwest")]
#[cfg_attr(docsrs, doc(cfg(feature = "jwks-reqwest")))]
pub use reqwest::ReqwestClient;
pub use source::{
    DEFAULT_ALGORITHMS, DEFAULT_COOLDOWN, DEFAULT_MAX_BODY_BYTES, DEFAULT_MAX_STALE,
    DEFAULT_MAX_TTL, DEFAULT_MIN_TTL, DEFAULT_REFRESH_AHEAD, DEFAULT_TIMEOUT, DEFAULT_TTL,
    JwksSource, JwksSourceBuilder,
};
