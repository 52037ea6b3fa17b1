//! Sign-in with OpenID Providers ("Login with ..."): the relying party's side of the OAuth 2.0
//! authorization code flow with PKCE (RFC 6749, RFC 7636, OpenID Connect Core 1.0), and the
//! identity store that links a provider's users to local accounts.
//!
//! | step | call | what happens |
//! |---|---|---|
//! | begin | [`OidcLogin::begin`] | fresh `state`, `nonce`, PKCE verifier; the [`LoginStart`] has the authorization URL (303 to it) and the transaction cookie |
//! | callback | [`OidcLogin::complete`] | `state`, `iss` and the provider's `error` checked, the code exchanged, the ID token validated: a [`CompletedLogin`] or a [`LoginError`]; the transaction cookie is removed either way |
//! | account | [`sign_in`] / [`link_identity`] | the local account of `(iss, sub)`, created on first sign-in, or the identity linked to the signed-in account |
//!
//! `auth-axum-extractors` (feature `oidc-login`) mounts both steps as routes and hands the
//! [`CompletedLogin`] to the application, which starts its own session.
//!
//! # The login transaction: a sealed cookie per attempt
//!
//! What the callback needs from `begin` (state, nonce, PKCE verifier, provider, return-to,
//! creation time, the account to link) is sealed with AES-256-GCM ([`SealingKey`](crate::seal::SealingKey)
//! from your configuration) into a cookie of its own, named after a digest of its `state`
//! (`__Host-auth_login_<digest>`: `Secure`, `Path=/`, `HttpOnly`, `SameSite=Lax`, 10 minutes;
//! without `Secure` and the prefix only when the redirect URI is plain-http loopback). Why a
//! cookie rather than a server-side store keyed by state:
//!
//! - **Bound to the browser.** The callback must present the cookie set in the browser that
//!   started the flow, so an attacker cannot complete their own login in a victim's browser
//!   (login CSRF) by sending a crafted callback link: a state alone, stored server-side, would
//!   not prove that. `__Host-` keeps a sibling subdomain from planting one.
//! - **Nothing stored before the callback.** Anyone can hit the begin route; a server-side
//!   store would hold one entry per anonymous request. Here `begin` stores nothing.
//! - **Two tabs, several instances.** Each attempt has its own cookie, so two logins started
//!   in two tabs complete in either order; any instance with the key can complete them.
//!
//! The one thing a cookie cannot do is forget: a client that kept it could replay a callback.
//! So `complete` also records each used state (a digest, until the transaction would have
//! expired) in a [`UsedStateStore`] (in memory by default; `auth-redis`'s
//! `RedisUsedStateStore` across instances), atomically, before the code is sent anywhere.
//!
//! # What `complete` checks, in order
//!
//! 1. `state` is present exactly once; this browser's cookie for it is present once, opens
//!    under the server's keys (current or previous), holds that very state (compared in
//!    constant time), belongs to this provider, and is not expired. Otherwise
//!    `LOGIN_STATE_INVALID`, and nothing reaches the token endpoint.
//! 2. The transaction is marked used (a replay is `LOGIN_STATE_INVALID` here).
//! 3. No parameter is duplicated; `iss` equals the issuer when present and is required when
//!    the provider advertises `authorization_response_iss_parameter_supported` (RFC 9207,
//!    mix-up defence); only then is the provider's `error` reported (`LOGIN_FAILED` with its
//!    value, e.g. `access_denied`).
//! 4. The code is exchanged with the PKCE verifier and the client's authentication (public
//!    client, or a [`ClientAuth`](crate::client_auth::ClientAuth): `client_secret_basic`,
//!    `client_secret_post` or `private_key_jwt` with the issuer as audience); a refusal is
//!    `LOGIN_FAILED` with the token endpoint's `error`.
//! 5. The ID token ([`JwtVerifier`](crate::jwt::JwtVerifier) on the provider's JWK Set):
//!    signature with the asymmetric algorithms the provider advertises (or those configured;
//!    never `none`, never `HS*`, whose key would be the client secret), `iss`, `aud` containing
//!    the client id, `azp` equal to the client id when present and required with several
//!    audiences, `exp`, `iat` present and not in the future beyond the leeway, and `nonce`
//!    equal to the transaction's. Any failure is `INVALID_ID_TOKEN`.
//! 6. The userinfo, only if configured; its `sub` must be the ID token's.
//!
//! # Accounts and linking
//!
//! Local accounts are found by `(iss, sub)` only ([`IdentityStore`], keyed by
//! [`ExternalIdentity`]), never by email: linking by email lets anyone who can make a provider
//! assert your address take over your account. [`sign_in`] finds the linked account or links
//! the identity to a new account id (atomically, so concurrent first sign-ins agree).
//! [`link_identity`] links to the signed-in account that started the flow (the account is
//! sealed into the transaction by [`BeginOptions::link_to`]); an identity linked elsewhere is
//! `IDENTITY_ALREADY_LINKED`. Email-based linking exists only as an explicit opt-in per
//! provider ([`ProviderConfig::dangerous_link_by_verified_email`]), and then only for emails
//! the provider marks `email_verified`.
//!
//! # Example
//!
//! ```
//! # use auth_core::jwks::{FetchRequest, HttpClient, HttpError, HttpRequest, HttpResponse};
//! # use auth_core::jwt::BoxFuture;
//! # #[derive(Debug)]
//! # struct Idp;
//! # impl HttpClient for Idp {
//! #     fn get(&self, req: FetchRequest) -> BoxFuture<'static, Result<HttpResponse, HttpError>> {
//! #         let body = if req.url.ends_with("/jwks") {
//! #             r#"{"keys":[{"kty":"OKP","crv":"Ed25519","kid":"k1","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]}"#
//! #         } else {
//! #             r#"{"issuer":"https://idp.example",
//! #             "authorization_endpoint":"https://idp.example/auth","token_endpoint":"https://idp.example/token",
//! #             "jwks_uri":"https://idp.example/jwks","id_token_signing_alg_values_supported":["EdDSA"],
//! #             "authorization_response_iss_parameter_supported":true}"#
//! #         };
//! #         Box::pin(async move { Ok(HttpResponse::new(200, body)) })
//! #     }
//! #     fn send(&self, _: HttpRequest) -> BoxFuture<'static, Result<HttpResponse, HttpError>> {
//! #         Box::pin(async { Err(HttpError::Timeout) })
//! #     }
//! # }
//! use auth_core::oidc_login::{BeginOptions, OidcLogin, ProviderConfig};
//! use auth_core::seal::SealingKey;
//! use auth_core::ErrorCode;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let login = OidcLogin::builder(SealingKey::new(1, &[7; 32])?) // 32 bytes from your secrets
//!     .provider(ProviderConfig::new(
//!         "acme",
//!         "https://idp.example",
//!         "my-app",
//!         "https://app.example/auth/login/acme/callback",
//!     ))
//!     .http_client(Idp) // with `jwks-reqwest`, reqwest by default
//!     .build()?;
//!
//! // GET /auth/login/acme?return_to=//evil.example
//! let start = login
//!     .begin("acme", BeginOptions::new().return_to(Some("//evil.example")))
//!     .await?;
//! assert!(start.authorization_url().starts_with("https://idp.example/auth?response_type=code&"));
//! assert!(start.authorization_url().contains("&code_challenge_method=S256"));
//! assert!(start.cookie().header_value().ends_with("; HttpOnly; SameSite=Lax; Secure"));
//!
//! // The callback, from a browser without the transaction cookie: refused before any request
//! // to the provider.
//! let callback = login.complete("acme", "code=c&state=forged", &[]).await;
//! assert_eq!(callback.outcome().unwrap_err().code(), ErrorCode::LoginStateInvalid);
//! # Ok(()) }
//! ```

mod completed;
mod error;
mod exchange;
mod id_token;
mod identity;
mod link;
mod login;
mod memory;
pub(crate) mod metadata;
mod provider;
mod return_to;
pub(crate) mod transaction;

#[cfg(test)]
mod tests;

pub use completed::CompletedLogin;
pub use error::{LoginError, StateProblem};
pub use identity::{
    ExternalIdentity, IdentityStore, LinkOutcome, LinkedIdentity, MAX_IDENTITY_FIELD_LEN,
    UsedStateStore,
};
pub use link::{LinkError, SignIn, link_identity, sign_in};
pub use login::{
    BeginOptions, BeginQuery, Callback, DEFAULT_PROVIDER_TIMEOUT, DEFAULT_TRANSACTION_LIFETIME,
    LoginStart, MAX_TRANSACTION_LIFETIME, OidcLogin, OidcLoginBuilder,
};
pub use memory::{MemoryIdentityStore, MemoryUsedStateStore};
pub use provider::{DEFAULT_SCOPES, MAX_PROVIDER_NAME_LEN, ProviderConfig};
pub use return_to::{MAX_RETURN_TO_LEN, sanitize_return_to};
pub use transaction::SetCookie;
