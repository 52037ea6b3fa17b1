//! [`InvalidDpopProof`]: why a DPoP proof (RFC 9449) was refused. Always compiled, like the rest
//! of the error table; the proof checks themselves live in `dpop` (feature `dpop`).

use std::fmt;

/// Why a DPoP proof was refused. For logs; clients only see
/// [`ErrorCode::InvalidDpopProof`](crate::ErrorCode::InvalidDpopProof) (`invalid_dpop_proof`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum InvalidDpopProof {
    /// No `DPoP` header was sent with a `DPoP` authorization (or one bound to a key).
    Missing,
    /// More than one `DPoP` header was sent.
    Multiple,
    /// Not a compact JWS, not base64url, not JSON, or longer than the limit.
    Malformed,
    /// The header's `typ` is not `dpop+jwt`.
    WrongType,
    /// The `alg` is not in the allow-list (symmetric algorithms never are).
    Algorithm,
    /// The `jwk` header is missing, not a public key of the `alg`'s type, or carries a private
    /// member.
    Key,
    /// The signature does not verify with the `jwk`.
    Signature,
    /// A required claim (`jti`, `htm`, `htu`, `iat`, `ath`) is missing or has the wrong type.
    Claims,
    /// `htm` is not the request's method.
    Method,
    /// `htu` is not the request's URI (rebuilt from the configured external origin).
    Uri,
    /// `iat` is outside the accepted window.
    Time,
    /// `ath` is not the SHA-256 of the access token.
    AccessTokenHash,
    /// This proof (`jti`, per key) was already used within the window.
    Replayed,
    /// The proof's `nonce` is not one this server issued (or expired).
    Nonce,
    /// The proof's key is not the one the access token is bound to (`cnf.jkt`).
    KeyMismatch,
}

impl fmt::Display for InvalidDpopProof {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Missing => "no dpop proof",
            Self::Multiple => "more than one dpop header",
            Self::Malformed => "dpop proof is not a compact jws",
            Self::WrongType => "dpop proof typ is not dpop+jwt",
            Self::Algorithm => "dpop proof alg is not accepted",
            Self::Key => "dpop proof jwk is not an acceptable public key",
            Self::Signature => "dpop proof signature does not verify",
            Self::Claims => "dpop proof claims are missing or mistyped",
            Self::Method => "dpop proof htm is not the request method",
            Self::Uri => "dpop proof htu is not the request uri",
            Self::Time => "dpop proof iat is outside the accepted window",
            Self::AccessTokenHash => "dpop proof ath does not match the access token",
            Self::Replayed => "dpop proof was already used",
            Self::Nonce => "dpop proof nonce is missing or not current",
            Self::KeyMismatch => "dpop proof key is not the one the token is bound to",
        })
    }
}
