//! Protect login-like endpoints from brute force and credential stuffing.
//!
//! [`BruteForceLayer`] wraps a login route with an
//! [`auth_core::brute_force::BruteForceLimiter`]:
//!
//! 1. It derives the [`ClientKey`] with a
//!    [`KeyExtractor`] (default [`PeerIp`]: the connection's address network; forwarding
//!    headers only from [`TrustedProxies`]).
//! 2. It asks the store whether the client may try. A client that is locked out or over its
//!    rate limit gets **429** with `Retry-After` (whole seconds, rounded up) and
//!    `{"error":{"code":"TOO_MANY_ATTEMPTS","message":"...","retry_after":N}}` (gRPC calls:
//!    status 8 `RESOURCE_EXHAUSTED`), and **the inner service is not called**: no password
//!    hashing work for the attacker.
//! 3. Otherwise it calls the inner service and records the outcome. A layer cannot read the
//!    request body, so the handler reports the account and the outcome as a
//!    [`LoginAttempt`] **response extension**; without one, the status decides: 2xx success,
//!    401/403 failure (for trailers-only gRPC answers, `grpc-status` 0 success, 16/7 failure),
//!    anything else neutral.
//! 4. If the account is locked out for this client, the handler's response (even a success) is
//!    replaced by the same 429, so guesses during a lockout reveal nothing, and a locked
//!    unknown account answers exactly like a locked existing one.
//!
//! The policy, the algorithm (a sliding window) and the trade-offs are documented in
//! [`auth_core::brute_force`]; every attempt is a `tracing` event with target
//! `auth::brute_force`.
//!
//! # Example
//!
//! ```
//! use auth_core::brute_force::{BruteForceLimiter, BruteForcePolicy, LoginAttempt};
//! # use auth_core::clock::{ManualClock, UnixTime};
//! use auth_tower::brute_force::{BruteForceLayer, ClientAddr};
//! use bytes::Bytes;
//! use http::{Request, Response, StatusCode, header};
//! use http_body_util::Full;
//! use std::convert::Infallible;
//! use tower::{ServiceBuilder, ServiceExt, service_fn};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let clock = ManualClock::new(UnixTime::from_secs(1_700_000_000));
//! let limiter = BruteForceLimiter::builder(BruteForcePolicy::default())
//!     # .clock(clock)
//!     .build()?;
//! let login = ServiceBuilder::new()
//!     .layer(BruteForceLayer::new(limiter))
//!     .service(service_fn(|_req: Request<Full<Bytes>>| async move {
//!         // A real handler parses the body and verifies the password.
//!         let mut res = Response::new(Full::from("wrong email or password"));
//!         *res.status_mut() = StatusCode::UNAUTHORIZED;
//!         res.extensions_mut().insert(LoginAttempt::failure("alice@example.com"));
//!         Ok::<_, Infallible>(res)
//!     }));
//!
//! let attempt = || {
//!     let mut req = Request::post("/auth/login").body(Full::default()).unwrap();
//!     // The server puts the peer address here (axum: `ConnectInfo` with `axum-connect-info`).
//!     req.extensions_mut().insert(ClientAddr("203.0.113.7:51000".parse().unwrap()));
//!     req
//! };
//! for _ in 0..5 {
//!     let res = login.clone().oneshot(attempt()).await?;
//!     assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
//! }
//! // The sixth attempt within a minute never reaches the handler.
//! let res = login.clone().oneshot(attempt()).await?;
//! assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
//! assert_eq!(res.headers()[header::RETRY_AFTER], "60"); // when the first attempt leaves
//! # Ok(())
//! # }
//! ```
//!
//! # Layer order
//!
//! Put it on the login route only, outermost: `BruteForceLayer` must run before anything
//! expensive. On other routes, a plain rate limiter is the right tool.
//!
//! # Security considerations
//!
//! - **Client identity.** By default only the connection's peer address counts.
//!   `X-Forwarded-For` (or, if configured instead, `Forwarded`) is read only when the peer is a
//!   trusted proxy, from the right, stopping at the first untrusted hop; list exactly your
//!   proxies. A `/0` "trust everybody" network is refused at build time. IPv6 clients are
//!   grouped by `/64`.
//! - **No client key** (the server does not provide the peer address): 503 and an error log
//!   saying how to fix it, never an untracked pass.
//! - **Store failures** answer 503 `AUTH_BACKEND_UNAVAILABLE` (fail closed) unless
//!   [`BruteForceLayerBuilder::dangerous_fail_open_on_store_error`] is set.
//! - **Work after a lockout.** The account is only known from the handler's answer, so a
//!   suspect client guessing at a locked account still costs one password check per admitted
//!   attempt (bounded by its rate limit); only the answer is withheld.
//! - **Handlers** must report unknown accounts as failures, with the account normalised the
//!   same way as for existing ones, and run the same password-hashing work for both.

mod future;
mod key;
mod layer;
mod service;

pub use auth_core::brute_force::{
    AttemptOutcome, BruteForceLimiter, BruteForcePolicy, ClientKey, LoginAttempt,
};
pub use future::ResponseFuture;
pub(crate) use key::peer_addr_of;
pub use key::{ClientAddr, ForwardedHeader, KeyExtractor, KeyFn, PeerIp, TrustedProxies, key_fn};
pub use layer::{BruteForceLayer, BruteForceLayerBuilder};
pub use service::BruteForce;
