//! Ready-made access tokens for trying the demo and for tests: HS256, one hour
//! ([`DEMO_TOKEN_TTL`]), issued by a [`TokenIssuer`] (`typ: at+jwt`, `kid`
//! [`DEFAULT_KEY_ID`]). Re-exported at the crate root.

use auth_core::ConfigError;
use auth_core::jwt::{AccessGrant, KeyRing, TokenIssuer};

use crate::DEMO_TOKEN_TTL;
use crate::config::DEFAULT_KEY_ID;

/// Signs a one-hour HS256 demo token for `demo-user` with role `user` and scope `read:orders`
/// (issued by a [`TokenIssuer`]: `typ: at+jwt`, `kid` [`DEFAULT_KEY_ID`]).
///
/// # Errors
///
/// When the secret is too short, or signing or the OS random source fails.
pub fn demo_token(secret: &[u8], issuer: &str, audience: &str) -> Result<String, ConfigError> {
    demo_token_for(
        secret,
        issuer,
        audience,
        "demo-user",
        &["user"],
        "read:orders",
    )
}

/// Signs a one-hour HS256 demo token for `demo-admin` with role `admin` and scopes
/// `read:orders write:orders`.
///
/// # Errors
///
/// When the secret is too short, or signing or the OS random source fails.
pub fn demo_admin_token(
    secret: &[u8],
    issuer: &str,
    audience: &str,
) -> Result<String, ConfigError> {
    demo_token_for(
        secret,
        issuer,
        audience,
        "demo-admin",
        &["admin"],
        "read:orders write:orders",
    )
}

/// Signs a one-hour HS256 token with the given subject, roles and space-delimited scopes.
///
/// # Errors
///
/// When the secret is too short, or signing or the OS random source fails.
pub fn demo_token_for(
    secret: &[u8],
    issuer: &str,
    audience: &str,
    subject: &str,
    roles: &[&str],
    scope: &str,
) -> Result<String, ConfigError> {
    let key =
        auth_core::jwt::SigningKey::hmac(auth_core::jwt::Algorithm::HS256, secret, DEFAULT_KEY_ID)?;
    let issuer = TokenIssuer::builder(KeyRing::new(key))
        .issuer(issuer)
        .audience(audience)
        .lifetime(DEMO_TOKEN_TTL)
        .build()?;
    let grant = AccessGrant::new(subject)
        .roles(roles.iter().copied())
        .scopes(scope.split_whitespace());
    issuer
        .issue(&grant)
        .map(auth_core::jwt::AccessToken::into_string)
        .map_err(|e| ConfigError::Input(format!("signing the demo token failed: {e}")))
}
