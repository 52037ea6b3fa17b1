//! OAuth 2.0 client credentials (RFC 6749 section 4.4) for outbound calls: a [`TokenManager`]
//! that gets, caches and renews access tokens for one client, shared by every request.
//!
//! `auth-tower`'s `AccessTokenLayer` (feature `client`) puts its tokens on outgoing requests
//! and renews on a downstream `401`; this module has the protocol and the policy, and no HTTP
//! stack of its own: requests go through the same [`HttpClient`](crate::jwks::HttpClient) seam
//! as the JWKS cache ([`ReqwestClient`](crate::jwks::ReqwestClient) with `jwks-reqwest`).
//!
//! # Client authentication
//!
//! [`ClientAuth`]: `client_secret_basic` (id and secret form-urlencoded, then Basic, as RFC
//! 6749 section 2.3.1 says), `client_secret_post`, or `private_key_jwt` (RFC 7523: a fresh
//! assertion per request with `iss` = `sub` = the client id, `aud` the issuer, or the token
//! endpoint when configured so or when no issuer is known, a 128-bit random `jti` and `exp`
//! 60 s after `iat`, signed with a [`SigningKey`](crate::jwt::SigningKey)). Secrets are
//! redacted in `Debug` and never logged.
//!
//! # Token requests
//!
//! `POST` to the token endpoint (configured, or discovered from the issuer's OpenID Connect or
//! RFC 8414 metadata) with `grant_type=client_credentials` and the [`TokenParams`] (`scope`,
//! RFC 8707 `resource`, `audience`), `Accept: application/json`, no redirects followed, the
//! body capped and each exchange timed out. The answer must carry an `access_token` usable in a
//! header and `token_type` `Bearer` (any case); anything else is a typed [`TokenError`]
//! (`invalid_client`, `invalid_scope`, `unauthorized_client`, other OAuth errors, transport
//! failures, timeouts, malformed responses, unsupported token types).
//!
//! # Caching and renewal
//!
//! Every time decision reads the injected [`Clock`](crate::clock::Clock).
//!
//! - **Per parameters.** Tokens are cached per (client, token endpoint, sorted scopes,
//!   resources, audience): two configurations that differ only in scope never share a token.
//! - **Lifetime.** `expires_in` when it is a positive number or a numeric string; otherwise
//!   the `exp` of the token when it is a JWT; otherwise 5 minutes. When both `expires_in` and
//!   a JWT `exp` are there, the shorter wins. Always clamped to [`MIN_TOKEN_LIFETIME`] ..=
//!   [`MAX_TOKEN_LIFETIME`] (10 s ..= 24 h), and counted from when the request was *sent*.
//! - **Renewal ahead of expiry.** At `expires_at - min(60 s, lifetime / 2)` minus a random
//!   jitter of up to a tenth of that margin, the next caller starts one renewal in the
//!   background (a Tokio task) and is served the current token; nobody waits. Callers wait
//!   only when no unexpired token exists.
//! - **Single flight.** Any number of concurrent callers on a cold or expired cache cause one
//!   token request; it runs as its own task, so a caller dropped mid-request cancels nothing.
//! - **Failures.** Transport errors, timeouts and `5xx` answers are retried inside the one
//!   flight (3 attempts, 250 ms doubling backoff by default). A flight that still fails starts
//!   a cooldown (default 30 s): callers without an unexpired token get its error at once, and
//!   no request is made until it ends. An unexpired token is still served meanwhile.
//! - **Never without credentials.** When no token can be had, the caller gets the
//!   [`TokenError`]; nothing is sent downstream.
//! - **Downstream `401`.** [`TokenManager::renew_rejected`] renews only if the rejected token
//!   is still the current one, so a hundred concurrent `401`s for one token cause one renewal;
//!   and at most one rejection-caused renewal happens per cooldown. [`RenewOn`] decides which
//!   `401`s count.
//!
//! Every token request, renewal, retry and failure is a `tracing` event with target
//! `auth::oauth_client` and fields `client_id`, `outcome`, `reason`; never a secret or a token.
//!
//! # Example
//!
//! ```
//! # use auth_core::jwks::{HttpClient, HttpError, HttpRequest, HttpResponse, FetchRequest};
//! # use auth_core::jwt::BoxFuture;
//! # use std::sync::{Arc, atomic::{AtomicUsize, Ordering}};
//! # #[derive(Debug, Default)]
//! # struct AuthServer { requests: AtomicUsize }
//! # impl HttpClient for AuthServer {
//! #     fn get(&self, _: FetchRequest) -> BoxFuture<'static, Result<HttpResponse, HttpError>> {
//! #         Box::pin(async { Ok(HttpResponse::new(404, "")) })
//! #     }
//! #     fn send(&self, _: HttpRequest) -> BoxFuture<'static, Result<HttpResponse, HttpError>> {
//! #         self.requests.fetch_add(1, Ordering::SeqCst);
//! #         Box::pin(async { Ok(HttpResponse::new(200, r#"{"access_token":"t0k3n","token_type":"Bearer","expires_in":600}"#)) })
//! #     }
//! # }
//! use auth_core::clock::ManualClock;
//! use auth_core::oauth_client::{ClientAuth, TokenManager};
//! use std::time::Duration;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let server = Arc::new(AuthServer::default());
//! let clock = ManualClock::starting_now();
//! let tokens = TokenManager::builder(ClientAuth::client_secret_basic("reports", "s3cr3t")?)
//!     .token_endpoint("https://auth.example/oauth/token")
//!     .scope("orders:read")
//!     .http_client(server.clone()) // or, with `jwks-reqwest`, the default client
//!     .clock(clock.clone())
//!     .build()?;
//!
//! let token = tokens.access_token().await?;
//! assert_eq!(token.authorization(), "Bearer t0k3n");
//! // Cached: no second request.
//! assert!(tokens.access_token().await?.same_token(&token));
//! assert_eq!(server.requests.load(Ordering::SeqCst), 1);
//!
//! // Past the renewal point (600 s - 60 s, minus jitter) the cached token is still served
//! // while one renewal runs in the background.
//! clock.advance(Duration::from_secs(545));
//! assert!(tokens.access_token().await?.same_token(&token));
//! tokens.settled().await;
//! assert_eq!(server.requests.load(Ordering::SeqCst), 2);
//! # Ok(())
//! # }
//! ```
//!
//! # Security considerations
//!
//! - **Transport.** Token endpoints and issuers must be `https` (plain `http` only to loopback
//!   hosts, unless [`dangerous_allow_plain_http`](TokenManagerBuilder::dangerous_allow_plain_http));
//!   [`ReqwestClient`](crate::jwks::ReqwestClient) follows no redirects, so credentials are
//!   only ever sent to the configured (or discovered, issuer-checked) endpoint.
//! - **The token is not verified** (it is not meant for this service); a JWT's `exp` is only
//!   read to avoid caching a token longer than it lives.
//! - **Server text is bounded.** `error_description` and unknown `token_type`s are cut to 200
//!   characters without control characters before they reach logs or errors.

mod builder;
mod challenge;
mod downstream;
mod error;
mod fetch;
mod manager;
mod params;
mod response;
mod token;

#[cfg(test)]
mod tests;

pub use builder::{
    AssertionAudience, DEFAULT_COOLDOWN, DEFAULT_MAX_ATTEMPTS, DEFAULT_RENEW_AHEAD,
    DEFAULT_RETRY_BACKOFF, TokenManagerBuilder,
};
// Client authentication lives in `crate::client_auth`, shared with the OpenID login;
// re-exported here, where the token manager's users look for it.
pub use crate::client_auth::{
    ASSERTION_LIFETIME, ClientAuth, ClientAuthMethod, ClientSecret, JWT_BEARER_ASSERTION_TYPE,
};
pub use challenge::RenewOn;
pub use downstream::check_url;
pub use error::TokenError;
pub use manager::TokenManager;
pub use params::TokenParams;
pub use response::{DEFAULT_TOKEN_LIFETIME, MAX_TOKEN_LEN, MAX_TOKEN_LIFETIME, MIN_TOKEN_LIFETIME};
pub use token::BearerToken;
