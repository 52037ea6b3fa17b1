//! JWT verification with pinned algorithms and an injected clock; with the `issuer` feature,
//! issuance too ([`TokenIssuer`] signing with a rotating [`KeyRing`]).
//!
//! Build a [`JwtVerifier`] once with [`JwtVerifier::builder`]; every mistake in the
//! configuration (weak HMAC secret, no audience, PEM given for an HMAC algorithm, duplicate
//! `kid`, oversized leeway) is a [`ConfigError`](crate::ConfigError) there, never a per-request
//! surprise.
//!
//! Roles and scopes come from the top-level `roles`, `scope` and `scp` claims by default; a
//! [`ClaimMapping`] reads them where an identity provider puts them instead (presets for
//! Keycloak, Auth0, Microsoft Entra ID, Okta and Google), verifier-wide or per
//! [`TrustedIssuer`].
//!
//! # Security considerations
//!
//! - **Algorithms are pinned per key.** The header's `alg` only selects among keys already
//!   pinned to that algorithm; `none` does not exist in [`Algorithm`], and a PEM/JWK can never
//!   become an HMAC secret, so the classic RS256-to-HS256 confusion cannot be configured.
//! - **Weak keys are refused when built.** RSA moduli shorter than 2048 bits or with the ROCA
//!   fingerprint (CVE-2017-15361); JWKs whose `use`/`key_ops` are not for verifying, or whose
//!   `crv` is not the pinned algorithm's curve.
//! - **Keys never come from the token.** `jwk`, `jku`, `x5u` and `x5c` headers are ignored.
//! - **Types are strict.** Header and payload must be UTF-8 (RFC 7515 section 5.2), even in
//!   members we ignore; `exp`/`nbf`/`iat` must be JSON numbers, `aud` a string or array of
//!   strings; duplicate registered claims, any `crit` header and any `b64` header (RFC 7797
//!   unencoded payloads are never supported) are refused.
//! - **Time is injected.** jsonwebtoken's own `exp`/`nbf` validation (which reads the system
//!   clock) is not used; all time checks read the configured [`Clock`](crate::clock::Clock).
//! - **Bounded work.** Tokens longer than the maximum (8 KiB by default) are refused before any
//!   base64 or JSON decoding; a token without `kid` is tried against a bounded number of keys
//!   (see [`KeySet`]'s "Key selection"); claims-level errors (expired, wrong issuer) are only
//!   reported after the signature verified.
//! - **Crypto backend.** jsonwebtoken is built with `aws_lc_rs` only: RS256 verification is
//!   several times faster than `rust_crypto` here, and `rust_crypto` pulls in the `rsa` crate
//!   with an open timing advisory (RUSTSEC-2023-0071). jsonwebtoken parses PEM and JWK key
//!   material; each key is then prepared once with aws-lc-rs (an HMAC key schedule or a parsed
//!   public key), so malformed keys fail at build time and verification parses nothing per
//!   request. HMAC tags are compared in constant time by aws-lc-rs.

mod algorithm;
#[cfg(feature = "token-cache")]
mod cache;
mod claim_lists;
pub(crate) mod claims;
mod config;
mod header;
#[cfg(feature = "issuer")]
mod issuer;
mod jwk_set;
mod key;
pub(crate) mod key_checks;
mod key_set;
#[cfg(feature = "issuer")]
mod keyring;
mod mapping;
mod pointer;
mod presets;
mod resolver;
#[cfg(feature = "issuer")]
mod signing;
mod trusted_issuer;
pub(crate) mod verifier;

pub use algorithm::Algorithm;
#[cfg(feature = "token-cache")]
#[cfg_attr(docsrs, doc(cfg(feature = "token-cache")))]
pub use cache::{DEFAULT_TOKEN_CACHE_TTL, TokenCache};
pub use config::{
    DEFAULT_KEYS_TRIED_WITHOUT_KID, DEFAULT_LEEWAY, DEFAULT_MAX_TOKEN_LEN, JwtVerifierBuilder,
    MAX_KEYS_TRIED_WITHOUT_KID, MAX_LEEWAY,
};
pub use jwk_set::{JWKS_CONTENT_TYPE, JwksDocument, PublicJwkSet};
pub use key::VerificationKey;
pub use key_set::KeySet;
pub use mapping::{ClaimMapping, ClaimPath, Grants};
pub use resolver::{BoxFuture, KeyResolver, StaticKeys};
pub use trusted_issuer::TrustedIssuer;
pub use verifier::{JwtVerifier, Verify};

#[cfg(feature = "issuer")]
#[cfg_attr(docsrs, doc(cfg(feature = "issuer")))]
pub use issuer::{
    ACCESS_TOKEN_TYPE, AccessGrant, AccessToken, DEFAULT_ACCESS_TOKEN_LIFETIME, IssueError,
    TokenIssuer, TokenIssuerBuilder,
};
#[cfg(feature = "issuer")]
#[cfg_attr(docsrs, doc(cfg(feature = "issuer")))]
pub use keyring::KeyRing;
#[cfg(feature = "issuer")]
#[cfg_attr(docsrs, doc(cfg(feature = "issuer")))]
pub use signing::{PRIVATE_JWK_MEMBERS, PublicJwk, SigningKey};
