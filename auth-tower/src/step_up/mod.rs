//! Step-up authentication (RFC 9470): require a way of authenticating (`amr`, `acr`) and a
//! recent one (`auth_time`) for sensitive routes.
//!
//! [`StepUpLayer`] runs after an authentication layer ([`BearerLayer`](crate::bearer::BearerLayer),
//! or any layer that puts a [`Principal`](auth_core::Principal) into the request extensions)
//! and checks a [`StepUpRequirement`] against the token's verified `amr`, `acr` and
//! `auth_time` claims:
//!
//! - no principal: 401, answered exactly as the authentication layers would;
//! - a principal that does not meet the requirement (a missing `amr` value, another `acr`, an
//!   `auth_time` older than `max_age`, or no token claims at all): 401
//!   `INSUFFICIENT_USER_AUTHENTICATION` with
//!   `WWW-Authenticate: Bearer realm="api", error="insufficient_user_authentication",
//!   error_description="a different or more recent authentication is required"`, plus
//!   `acr_values="…"` when the route requires an `acr` and `max_age=N` when it sets a maximum
//!   age (RFC 9470 section 3), and gRPC status 16 for gRPC calls;
//! - otherwise the inner service is called.
//!
//! The client answers such a challenge by authenticating again (e.g. a login with the second
//! factor) and retrying with the new token. `auth_core::mfa` issues the claims this layer
//! reads.
//!
//! # Example
//!
//! ```
//! use auth_core::clock::{ManualClock, UnixTime};
//! use auth_core::jwt::{Algorithm, JwtVerifier, VerificationKey};
//! use auth_tower::bearer::BearerLayer;
//! use auth_tower::step_up::{StepUpLayer, StepUpRequirement};
//! use bytes::Bytes;
//! use http::{Request, Response, StatusCode, header};
//! use http_body_util::Full;
//! use std::convert::Infallible;
//! use std::time::Duration;
//! use tower::{ServiceBuilder, ServiceExt, service_fn};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let clock = ManualClock::new(UnixTime::from_secs(1_800_000_000));
//! let secret = b"an example secret of at least thirty-two bytes";
//! let verifier = JwtVerifier::builder()
//!     .key(VerificationKey::hmac(Algorithm::HS256, secret)?)
//!     .audience("api")
//!     .clock(clock.clone())
//!     .build()?;
//! // Disabling the second factor needs one, entered in the last five minutes.
//! let requirement = StepUpRequirement::builder()
//!     .amr("otp")
//!     .max_age(Duration::from_secs(300))
//!     .build()?;
//!
//! let svc = ServiceBuilder::new()
//!     .layer(BearerLayer::new(verifier))
//!     .layer(StepUpLayer::new(requirement).clock(clock.clone()))
//!     .service(service_fn(|_req: Request<Full<Bytes>>| async {
//!         Ok::<_, Infallible>(Response::new(Full::from("disabled")))
//!     }));
//!
//! # let sign = |claims: serde_json::Value| jsonwebtoken::encode(&jsonwebtoken::Header::default(),
//! #     &claims, &jsonwebtoken::EncodingKey::from_secret(secret));
//! let now = 1_800_000_000u64;
//! let fresh = sign(serde_json::json!({"sub": "ann", "aud": "api", "exp": now + 900,
//!     "amr": ["pwd", "otp", "mfa"], "auth_time": now - 60}))?;
//! let password_only = sign(serde_json::json!({"sub": "ann", "aud": "api", "exp": now + 900,
//!     "amr": ["pwd"], "auth_time": now - 60}))?;
//! let call = |token: String| {
//!     Request::post("/auth/mfa/totp/disable")
//!         .header(header::AUTHORIZATION, format!("Bearer {token}"))
//!         .body(Full::default())
//! };
//! assert_eq!(svc.clone().oneshot(call(fresh)?).await?.status(), StatusCode::OK);
//!
//! let res = svc.oneshot(call(password_only)?).await?;
//! assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
//! assert_eq!(
//!     res.headers()[header::WWW_AUTHENTICATE],
//!     "Bearer realm=\"api\", error=\"insufficient_user_authentication\", \
//!      error_description=\"a different or more recent authentication is required\", max_age=300"
//! );
//! # Ok(())
//! # }
//! ```
//!
//! # Security considerations
//!
//! - The claims are the verified token's: the layer trusts them exactly as far as it trusts
//!   the issuer. An issuer must stamp `auth_time` when the user authenticates and copy it
//!   unchanged on refresh (`auth_core::mfa::AuthContextStore`), or `max_age` means nothing.
//! - `max_age` is measured with the layer's clock, in whole seconds; an `auth_time` ahead of
//!   that clock (issuer clock skew) counts as "just now".
//! - API-key principals carry no claims, so they never pass a step-up requirement.

mod future;
mod layer;
mod requirement;
mod service;

pub use future::ResponseFuture;
pub use layer::StepUpLayer;
pub use requirement::{StepUpRequirement, StepUpRequirementBuilder, Unmet};
pub use service::StepUp;
