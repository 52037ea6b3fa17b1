//! Errors: per-request outcomes ([`AuthError`] with its stable [`ErrorCode`]) and
//! build-time configuration errors ([`ConfigError`]).
//!
//! Client-facing output is deliberately coarse: a signature failure, an unknown `kid` and a
//! forbidden algorithm are all [`ErrorCode::InvalidToken`] with the same message, so responses
//! are not an oracle for which check failed. The precise reason is available through
//! [`AuthError`]'s `Display` for logs (it never contains the token).
//!
//! Claims-level codes (`TOKEN_EXPIRED`, `INVALID_ISSUER`, ...) are only produced **after** the
//! signature has been verified, so they reveal nothing an attacker could not read from their own
//! token.

use std::error::Error as StdError;
use std::fmt;

/// The stable, machine-readable code of a rejection, and the one table that maps it to the wire.
///
/// HTTP status, gRPC status and the RFC 6750 `error` attribute are all read from here, by the
/// JSON responder, the gRPC responder and the extractors alike, so the mappings cannot diverge.
///
/// ```
/// use auth_core::ErrorCode;
///
/// assert_eq!(ErrorCode::TokenExpired.as_str(), "TOKEN_EXPIRED");
/// assert_eq!(ErrorCode::TokenExpired.http_status(), 401);
/// assert_eq!(ErrorCode::TokenExpired.grpc_code(), 16);
/// assert_eq!(ErrorCode::TokenExpired.bearer_error(), Some("invalid_token"));
/// assert_eq!(ErrorCode::MissingCredentials.bearer_error(), None);
/// ```
///
/// # Every code
///
#[doc = include_str!("error_codes.md")]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorCode {
    /// No credentials for the expected scheme were sent.
    MissingCredentials,
    /// The credentials were sent in a malformed way (e.g. two `Authorization` headers).
    InvalidRequest,
    /// The token is malformed, badly signed, uses a forbidden algorithm or an unknown key.
    InvalidToken,
    /// The token's `exp` has passed.
    TokenExpired,
    /// The token's `nbf` (or `iat`) lies in the future.
    TokenNotYetValid,
    /// The token's `iss` is not the configured issuer.
    InvalidIssuer,
    /// The token's `aud` does not contain the configured audience.
    InvalidAudience,
    /// The token was revoked.
    TokenRevoked,
    /// The principal lacks a required scope, role or permission.
    InsufficientScope,
    /// An API key is malformed, fails its checksum, or is unknown.
    InvalidApiKey,
    /// An API key is past its expiry (or its rotation grace period).
    ApiKeyExpired,
    /// An API key was revoked.
    ApiKeyRevoked,
    /// Login failed: wrong password and unknown account look the same.
    InvalidCredentials,
    /// Too many attempts; retry after the advertised delay.
    TooManyAttempts,
    /// Keys or stores needed to decide could not be reached.
    AuthBackendUnavailable,
    /// A handler asked for a principal on a route where no authentication layer runs
    /// (a server configuration error, not a client error).
    AuthLayerMissing,
    /// A refresh token that was already exchanged was presented again (possible theft); its
    /// whole family (login session) has been revoked.
    RefreshTokenReused,
    /// The refresh token is past its lifetime.
    RefreshTokenExpired,
    /// The refresh token is malformed, unknown, or belongs to a revoked session.
    InvalidRefreshToken,
    /// A cookie-authenticated unsafe request failed the CSRF checks (token or `Origin`).
    CsrfRejected,
    /// The token is valid but the way (or the time) its user authenticated does not meet the
    /// route's requirement: a missing `amr` value, another `acr`, or an `auth_time` older than
    /// the route's maximum age (RFC 9470 step-up).
    InsufficientUserAuthentication,
    /// The password was right; the account has a second factor, which must be verified next.
    MfaRequired,
    /// A one-time code (TOTP or recovery code) is wrong, malformed or was already used: the
    /// three look the same.
    InvalidOtp,
    /// The MFA login token is unknown, expired or already used.
    InvalidMfaToken,
    /// The account already has an active TOTP credential.
    MfaAlreadyEnabled,
    /// The account has no active TOTP credential.
    MfaNotEnabled,
    /// An OpenID login callback's `state` is missing, duplicated, unknown, expired, already
    /// used or belongs to another provider: no login transaction of this browser matches it.
    LoginStateInvalid,
    /// An OpenID login failed at the provider: it answered with an `error` (e.g.
    /// `access_denied`), the authorization response came from another issuer, or the code
    /// could not be exchanged.
    LoginFailed,
    /// The provider's ID token failed validation (signature, algorithm, `iss`, `aud`, `azp`,
    /// `exp`, `iat`, `nonce`).
    InvalidIdToken,
    /// The provider identity is already linked to another local account.
    IdentityAlreadyLinked,
    /// A DPoP proof (RFC 9449) is missing, malformed, replayed, or does not match the request,
    /// the access token or the key the token is bound to.
    InvalidDpopProof,
    /// The resource server requires a DPoP proof carrying the nonce it sends in the `DPoP-Nonce`
    /// header (RFC 9449 section 9).
    UseDpopNonce,
}

impl ErrorCode {
    /// The stable code string, e.g. `"TOKEN_EXPIRED"`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::MissingCredentials => "MISSING_CREDENTIALS",
            Self::InvalidRequest => "INVALID_REQUEST",
            Self::InvalidToken => "INVALID_TOKEN",
            Self::TokenExpired => "TOKEN_EXPIRED",
            Self::TokenNotYetValid => "TOKEN_NOT_YET_VALID",
            Self::InvalidIssuer => "INVALID_ISSUER",
            Self::InvalidAudience => "INVALID_AUDIENCE",
            Self::TokenRevoked => "TOKEN_REVOKED",
            Self::InsufficientScope => "INSUFFICIENT_SCOPE",
            Self::InvalidApiKey => "INVALID_API_KEY",
            Self::ApiKeyExpired => "API_KEY_EXPIRED",
            Self::ApiKeyRevoked => "API_KEY_REVOKED",
            Self::InvalidCredentials => "INVALID_CREDENTIALS",
            Self::TooManyAttempts => "TOO_MANY_ATTEMPTS",
            Self::AuthBackendUnavailable => "AUTH_BACKEND_UNAVAILABLE",
            Self::AuthLayerMissing => "AUTH_LAYER_MISSING",
            Self::RefreshTokenReused => "REFRESH_TOKEN_REUSED",
            Self::RefreshTokenExpired => "REFRESH_TOKEN_EXPIRED",
            Self::InvalidRefreshToken => "INVALID_REFRESH_TOKEN",
            Self::CsrfRejected => "CSRF_REJECTED",
            Self::InsufficientUserAuthentication => "INSUFFICIENT_USER_AUTHENTICATION",
            Self::MfaRequired => "MFA_REQUIRED",
            Self::InvalidOtp => "INVALID_OTP",
            Self::InvalidMfaToken => "INVALID_MFA_TOKEN",
            Self::MfaAlreadyEnabled => "MFA_ALREADY_ENABLED",
            Self::MfaNotEnabled => "MFA_NOT_ENABLED",
            Self::LoginStateInvalid => "LOGIN_STATE_INVALID",
            Self::LoginFailed => "LOGIN_FAILED",
            Self::InvalidIdToken => "INVALID_ID_TOKEN",
            Self::IdentityAlreadyLinked => "IDENTITY_ALREADY_LINKED",
            Self::InvalidDpopProof => "INVALID_DPOP_PROOF",
            Self::UseDpopNonce => "USE_DPOP_NONCE",
        }
    }

    /// The HTTP status code for this rejection.
    ///
    /// `INVALID_REQUEST` is 400 as RFC 6750 section 3.1 says for `invalid_request`.
    #[must_use]
    pub const fn http_status(self) -> u16 {
        match self {
            Self::InvalidRequest => 400,
            Self::MissingCredentials
            | Self::InvalidToken
            | Self::TokenExpired
            | Self::TokenNotYetValid
            | Self::InvalidIssuer
            | Self::InvalidAudience
            | Self::TokenRevoked
            | Self::InvalidApiKey
            | Self::ApiKeyExpired
            | Self::ApiKeyRevoked
            | Self::InvalidCredentials => 401,
            Self::InsufficientScope => 403,
            Self::TooManyAttempts => 429,
            Self::AuthLayerMissing => 500,
            Self::AuthBackendUnavailable => 503,
            Self::RefreshTokenReused | Self::RefreshTokenExpired | Self::InvalidRefreshToken => 401,
            Self::CsrfRejected => 403,
            Self::InsufficientUserAuthentication
            | Self::MfaRequired
            | Self::InvalidOtp
            | Self::InvalidMfaToken => 401,
            Self::MfaAlreadyEnabled | Self::MfaNotEnabled => 409,
            // A browser's login callback that cannot complete: a client error, not a missing
            // credential (there is no challenge to answer).
            Self::LoginStateInvalid | Self::LoginFailed | Self::InvalidIdToken => 400,
            Self::IdentityAlreadyLinked => 409,
            // RFC 9449 section 7.1: a challenge, like an invalid token.
            Self::InvalidDpopProof | Self::UseDpopNonce => 401,
        }
    }

    /// The gRPC status code (`grpc-status`) for this rejection.
    #[must_use]
    pub const fn grpc_code(self) -> i32 {
        match self {
            // INVALID_ARGUMENT
            Self::InvalidRequest => 3,
            // UNAUTHENTICATED
            Self::MissingCredentials
            | Self::InvalidToken
            | Self::TokenExpired
            | Self::TokenNotYetValid
            | Self::InvalidIssuer
            | Self::InvalidAudience
            | Self::TokenRevoked
            | Self::InvalidApiKey
            | Self::ApiKeyExpired
            | Self::ApiKeyRevoked
            | Self::InvalidCredentials => 16,
            // PERMISSION_DENIED
            Self::InsufficientScope => 7,
            // RESOURCE_EXHAUSTED
            Self::TooManyAttempts => 8,
            // INTERNAL
            Self::AuthLayerMissing => 13,
            // UNAVAILABLE
            Self::AuthBackendUnavailable => 14,
            // UNAUTHENTICATED
            Self::RefreshTokenReused | Self::RefreshTokenExpired | Self::InvalidRefreshToken => 16,
            // PERMISSION_DENIED
            Self::CsrfRejected => 7,
            // UNAUTHENTICATED
            Self::InsufficientUserAuthentication
            | Self::MfaRequired
            | Self::InvalidOtp
            | Self::InvalidMfaToken => 16,
            // ALREADY_EXISTS
            Self::MfaAlreadyEnabled => 6,
            // FAILED_PRECONDITION
            Self::MfaNotEnabled => 9,
            // INVALID_ARGUMENT
            Self::LoginStateInvalid => 3,
            // UNAUTHENTICATED
            Self::LoginFailed | Self::InvalidIdToken => 16,
            // ALREADY_EXISTS
            Self::IdentityAlreadyLinked => 6,
            // UNAUTHENTICATED
            Self::InvalidDpopProof | Self::UseDpopNonce => 16,
        }
    }

    /// The RFC 6750 `error` attribute for the `WWW-Authenticate` challenge, if any.
    ///
    /// `None` when no credentials were sent (RFC 6750 section 3.1: "the resource server SHOULD
    /// NOT include an error code") and for server-side failures.
    #[must_use]
    pub const fn bearer_error(self) -> Option<&'static str> {
        match self {
            Self::MissingCredentials
            | Self::AuthLayerMissing
            | Self::AuthBackendUnavailable
            | Self::TooManyAttempts
            | Self::InvalidCredentials => None,
            Self::InvalidRequest => Some("invalid_request"),
            Self::InvalidToken
            | Self::TokenExpired
            | Self::TokenNotYetValid
            | Self::InvalidIssuer
            | Self::InvalidAudience
            | Self::TokenRevoked
            | Self::InvalidApiKey
            | Self::ApiKeyExpired
            | Self::ApiKeyRevoked => Some("invalid_token"),
            Self::InsufficientScope => Some("insufficient_scope"),
            // Token-endpoint and CSRF answers are not RFC 6750 resource-server challenges.
            Self::RefreshTokenReused
            | Self::RefreshTokenExpired
            | Self::InvalidRefreshToken
            | Self::CsrfRejected => None,
            // RFC 9470 section 3.
            Self::InsufficientUserAuthentication => Some("insufficient_user_authentication"),
            // MFA endpoints answer like a login endpoint: a JSON body, no challenge.
            Self::MfaRequired
            | Self::InvalidOtp
            | Self::InvalidMfaToken
            | Self::MfaAlreadyEnabled
            | Self::MfaNotEnabled => None,
            // OpenID login callbacks answer a browser, not a protected resource.
            Self::LoginStateInvalid
            | Self::LoginFailed
            | Self::InvalidIdToken
            | Self::IdentityAlreadyLinked => None,
            // RFC 9449 sections 7.1 and 9.
            Self::InvalidDpopProof => Some("invalid_dpop_proof"),
            Self::UseDpopNonce => Some("use_dpop_nonce"),
        }
    }

    /// Whether a `WWW-Authenticate` challenge belongs on this response: 401 (RFC 9110 requires
    /// one), 403 `insufficient_scope` and 400 `invalid_request` (RFC 6750 section 3). Login
    /// failures (`INVALID_CREDENTIALS`) are answered by an application endpoint, not a protected
    /// resource, and carry none.
    ///
    /// The refresh-token codes carry none either: they answer a token endpoint (where a client
    /// exchanges a refresh token, RFC 6749 section 5.2 answers with a JSON error body, not a
    /// challenge), and retrying there with a bearer token would be meaningless. `CSRF_REJECTED` is
    /// a 403 about the request's origin, not its credentials, so it has no challenge.
    ///
    /// The MFA login codes (`MFA_REQUIRED`, `INVALID_OTP`, `INVALID_MFA_TOKEN`) answer login
    /// endpoints like `INVALID_CREDENTIALS` and carry none; `INSUFFICIENT_USER_AUTHENTICATION`
    /// is a protected resource's answer and carries the RFC 9470 challenge.
    ///
    /// The OpenID login codes (`LOGIN_STATE_INVALID`, `LOGIN_FAILED`, `INVALID_ID_TOKEN`) answer
    /// a browser's redirect back from a provider; no bearer credential was involved, so none
    /// carries a challenge.
    #[must_use]
    pub const fn has_challenge(self) -> bool {
        matches!(self.http_status(), 400 | 401 | 403)
            && !matches!(
                self,
                Self::InvalidCredentials
                    | Self::RefreshTokenReused
                    | Self::RefreshTokenExpired
                    | Self::InvalidRefreshToken
                    | Self::CsrfRejected
                    | Self::MfaRequired
                    | Self::InvalidOtp
                    | Self::InvalidMfaToken
                    | Self::LoginStateInvalid
                    | Self::LoginFailed
                    | Self::InvalidIdToken
            )
    }

    /// The client-facing message. Coarse on purpose; safe to put in a header.
    #[must_use]
    pub const fn message(self) -> &'static str {
        match self {
            Self::MissingCredentials => "authentication is required",
            Self::InvalidRequest => "the credentials are malformed",
            Self::InvalidToken => "the access token is invalid",
            Self::TokenExpired => "the access token has expired",
            Self::TokenNotYetValid => "the access token is not valid yet",
            Self::InvalidIssuer => "the access token was issued by an untrusted issuer",
            Self::InvalidAudience => "the access token is not meant for this service",
            Self::TokenRevoked => "the access token has been revoked",
            Self::InsufficientScope => "the credentials do not grant access to this resource",
            Self::InvalidApiKey => "the api key is invalid",
            Self::ApiKeyExpired => "the api key has expired",
            Self::ApiKeyRevoked => "the api key has been revoked",
            Self::InvalidCredentials => "the email or password is incorrect",
            Self::TooManyAttempts => "too many attempts; try again later",
            Self::AuthBackendUnavailable => "the authentication backend is unavailable",
            Self::AuthLayerMissing => "authentication is not configured for this route",
            Self::RefreshTokenReused => {
                "the refresh token was already used; the session has been revoked"
            }
            Self::RefreshTokenExpired => "the refresh token has expired",
            Self::InvalidRefreshToken => "the refresh token is invalid",
            Self::CsrfRejected => "the request failed cross-site request forgery checks",
            Self::InsufficientUserAuthentication => {
                "a different or more recent authentication is required"
            }
            Self::MfaRequired => "a second authentication factor is required",
            Self::InvalidOtp => "the one-time code is invalid",
            Self::InvalidMfaToken => "the mfa token is invalid or has expired",
            Self::MfaAlreadyEnabled => "two-factor authentication is already enabled",
            Self::MfaNotEnabled => "two-factor authentication is not enabled",
            Self::LoginStateInvalid => {
                "the sign-in attempt is unknown, expired or already used; start again"
            }
            Self::LoginFailed => "the sign-in with the identity provider failed",
            Self::InvalidIdToken => "the identity provider's id token is invalid",
            Self::IdentityAlreadyLinked => {
                "this identity provider account is already linked to another account"
            }
            Self::InvalidDpopProof => "the dpop proof is invalid",
            Self::UseDpopNonce => "the dpop proof must carry the server's nonce",
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a request's credentials were malformed (RFC 6750 `invalid_request`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum InvalidRequest {
    /// More than one `Authorization` header was sent.
    MultipleAuthorizationHeaders,
    /// The scheme was present but the token after it was empty.
    EmptyToken,
    /// The header value is not visible ASCII, or has stray whitespace.
    MalformedHeader,
    /// Credentials were sent in more than one place (e.g. header and cookie, or two cookies).
    MultipleCredentials,
    /// Credentials were sent in the URL query string, where logs and `Referer` headers leak
    /// them.
    CredentialsInQuery,
    /// Credentials of more than one kind were presented (e.g. a bearer token, in the header or
    /// the cookie, and an API key): which identity should count is ambiguous, so neither does.
    ConflictingCredentials,
}

impl fmt::Display for InvalidRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::MultipleAuthorizationHeaders => "more than one authorization header",
            Self::EmptyToken => "empty bearer token",
            Self::MalformedHeader => "malformed authorization header",
            Self::MultipleCredentials => "credentials sent more than once",
            Self::CredentialsInQuery => "credentials sent in the query string",
            Self::ConflictingCredentials => "credentials of more than one kind presented",
        })
    }
}

/// Why a CSRF check refused a request. For logs; clients only see [`ErrorCode::CsrfRejected`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CsrfFailure {
    /// The CSRF cookie was not sent.
    MissingCookie,
    /// The CSRF header was not sent.
    MissingHeader,
    /// The header does not match the cookie.
    TokenMismatch,
    /// No `Origin` header, and the configuration needs one.
    MissingOrigin,
    /// The `Origin` is not in the allow-list.
    OriginNotAllowed,
}

impl fmt::Display for CsrfFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::MissingCookie => "csrf cookie missing",
            Self::MissingHeader => "csrf header missing",
            Self::TokenMismatch => "csrf header does not match the cookie",
            Self::MissingOrigin => "origin header missing",
            Self::OriginNotAllowed => "origin not in the allow-list",
        })
    }
}

/// Why a token was found invalid. For logs; clients only see [`ErrorCode::InvalidToken`].
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum InvalidToken {
    /// Longer than the configured maximum; nothing was decoded.
    TooLong {
        /// The token's length in bytes.
        len: usize,
        /// The configured maximum.
        max: usize,
    },
    /// Not three dot-separated base64url segments.
    Malformed,
    /// A segment is not valid unpadded base64url.
    BadEncoding,
    /// The header or payload is not the JSON object the JWT specs require.
    BadJson,
    /// The header names an algorithm this verifier does not accept (including `none`).
    UnsupportedAlgorithm,
    /// No configured key matches the token's `kid` and `alg`.
    UnknownKey,
    /// The key selected by `kid` is pinned to another algorithm than the header's `alg`.
    AlgorithmMismatch,
    /// The signature does not verify.
    BadSignature,
    /// The header lists a `crit` extension this verifier does not understand.
    UnsupportedCritical,
    /// The header's `typ` is not the required one.
    WrongType,
    /// A claim has the wrong JSON type (e.g. a string `exp`).
    ClaimType(&'static str),
    /// A required claim is missing.
    MissingClaim(&'static str),
    /// A claim appears twice in the payload.
    DuplicateClaim,
    /// The claims did not fit the application's claims type.
    ClaimsShape,
    /// A custom claim check refused the token.
    Custom(String),
    /// The (not yet verified) `iss` names no issuer this verifier trusts, so no key was even
    /// looked up.
    UnknownIssuer,
    /// The header carries `b64` (RFC 7797 unencoded payload), which is never supported.
    UnencodedPayload,
    /// A value a `jwt::ClaimMapping` reads has the wrong JSON type; the
    /// JSON pointer of the mapped claim.
    MappedClaimType(String),
    /// The token's key binding does not fit how it was presented (RFC 9449 section 7): a
    /// DPoP-bound token (`cnf.jkt`) sent as `Bearer`, a plain token sent as `DPoP`, or a bearer
    /// token where DPoP is required; the message says which.
    DpopBinding(&'static str),
    /// The authorization server's introspection (RFC 7662) answered `active` other than `true`.
    Inactive,
}

impl fmt::Display for InvalidToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TooLong { len, max } => write!(f, "token of {len} bytes exceeds limit of {max}"),
            Self::Malformed => f.write_str("token is not three base64url segments"),
            Self::BadEncoding => f.write_str("token segment is not valid base64url"),
            Self::BadJson => f.write_str("token header or payload is not a json object"),
            Self::UnsupportedAlgorithm => f.write_str("token algorithm is not accepted"),
            Self::UnknownKey => f.write_str("no key matches the token's kid and alg"),
            Self::AlgorithmMismatch => f.write_str("token alg differs from the key's pinned alg"),
            Self::BadSignature => f.write_str("signature does not verify"),
            Self::UnsupportedCritical => f.write_str("token has an unsupported crit header"),
            Self::WrongType => f.write_str("token typ is not the required one"),
            Self::ClaimType(c) => write!(f, "claim `{c}` has the wrong type"),
            Self::MissingClaim(c) => write!(f, "required claim `{c}` is missing"),
            Self::DuplicateClaim => f.write_str("a claim appears more than once"),
            Self::ClaimsShape => f.write_str("claims do not match the application's claims type"),
            Self::Custom(m) => write!(f, "custom claim check failed: {m}"),
            Self::UnknownIssuer => f.write_str("token iss is not a trusted issuer"),
            Self::UnencodedPayload => f.write_str("token header has an unsupported b64 parameter"),
            Self::MappedClaimType(p) => write!(f, "mapped claim `{p}` has the wrong type"),
            Self::DpopBinding(m) => write!(f, "dpop binding: {m}"),
            Self::Inactive => f.write_str("introspection says the token is not active"),
        }
    }
}

/// The outcome of a failed authentication or authorization check.
///
/// Each variant maps to one [`ErrorCode`] through [`AuthError::code`]. `Display` gives the
/// detailed reason for logs; it never includes a token or secret.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum AuthError {
    /// No credentials for the expected scheme.
    MissingCredentials,
    /// Credentials present but malformed at the transport level.
    InvalidRequest(InvalidRequest),
    /// The token is invalid; see the reason.
    InvalidToken(InvalidToken),
    /// `exp` has passed (beyond the leeway).
    TokenExpired,
    /// `nbf` or `iat` lies in the future (beyond the leeway).
    TokenNotYetValid,
    /// `iss` is missing or not the configured issuer.
    InvalidIssuer,
    /// `aud` is missing or does not contain an accepted audience.
    InvalidAudience,
    /// The token was revoked.
    TokenRevoked,
    /// The principal lacks what the route requires.
    InsufficientScope {
        /// What the route requires: the 403 body's `required` list, the OAuth scopes for the
        /// RFC 6750 `scope` attribute, and the client message.
        required: crate::scope::RequiredAccess,
    },
    /// The API key is malformed, fails its checksum or is unknown.
    InvalidApiKey,
    /// The API key expired.
    ApiKeyExpired,
    /// The API key was revoked.
    ApiKeyRevoked,
    /// Login failed (unknown account and wrong password are indistinguishable).
    InvalidCredentials,
    /// Too many attempts.
    TooManyAttempts {
        /// How long until the next attempt may pass.
        retry_after: std::time::Duration,
    },
    /// Keys or a store could not be reached; the detail is for logs.
    BackendUnavailable(String),
    /// An already-used refresh token was presented again; its family was revoked.
    RefreshTokenReused,
    /// The refresh token expired.
    RefreshTokenExpired,
    /// The refresh token is malformed, unknown, or its session was revoked.
    InvalidRefreshToken,
    /// The CSRF check failed; the reason is for logs.
    CsrfRejected(CsrfFailure),
    /// The principal authenticated, but not in the way (or not as recently as) the route
    /// requires (RFC 9470 step-up).
    InsufficientUserAuthentication {
        /// The `acr` values the route accepts, space-separated, for the challenge's
        /// `acr_values` attribute (none when the route requires no `acr`).
        acr_values: Option<std::sync::Arc<str>>,
        /// The route's maximum authentication age in seconds, for the challenge's `max_age`
        /// attribute (none when the route sets none).
        max_age: Option<u64>,
    },
    /// The password was right; a second factor must be verified next.
    MfaRequired,
    /// A wrong, malformed or replayed one-time code (TOTP or recovery code).
    InvalidOtp,
    /// An unknown, expired or used MFA login token.
    InvalidMfaToken,
    /// The account already has an active TOTP credential.
    MfaAlreadyEnabled,
    /// The account has no active TOTP credential.
    MfaNotEnabled,
    /// The DPoP proof was refused; the reason is for logs.
    InvalidDpopProof(crate::InvalidDpopProof),
    /// A DPoP proof must carry this server nonce (sent to the client in `DPoP-Nonce`).
    UseDpopNonce {
        /// The nonce the client must put in its next proof.
        nonce: std::sync::Arc<str>,
    },
}

impl AuthError {
    /// The stable code clients see.
    #[must_use]
    pub const fn code(&self) -> ErrorCode {
        match self {
            Self::MissingCredentials => ErrorCode::MissingCredentials,
            Self::InvalidRequest(_) => ErrorCode::InvalidRequest,
            Self::InvalidToken(_) => ErrorCode::InvalidToken,
            Self::TokenExpired => ErrorCode::TokenExpired,
            Self::TokenNotYetValid => ErrorCode::TokenNotYetValid,
            Self::InvalidIssuer => ErrorCode::InvalidIssuer,
            Self::InvalidAudience => ErrorCode::InvalidAudience,
            Self::TokenRevoked => ErrorCode::TokenRevoked,
            Self::InsufficientScope { .. } => ErrorCode::InsufficientScope,
            Self::InvalidApiKey => ErrorCode::InvalidApiKey,
            Self::ApiKeyExpired => ErrorCode::ApiKeyExpired,
            Self::ApiKeyRevoked => ErrorCode::ApiKeyRevoked,
            Self::InvalidCredentials => ErrorCode::InvalidCredentials,
            Self::TooManyAttempts { .. } => ErrorCode::TooManyAttempts,
            Self::BackendUnavailable(_) => ErrorCode::AuthBackendUnavailable,
            Self::RefreshTokenReused => ErrorCode::RefreshTokenReused,
            Self::RefreshTokenExpired => ErrorCode::RefreshTokenExpired,
            Self::InvalidRefreshToken => ErrorCode::InvalidRefreshToken,
            Self::CsrfRejected(_) => ErrorCode::CsrfRejected,
            Self::InsufficientUserAuthentication { .. } => {
                ErrorCode::InsufficientUserAuthentication
            }
            Self::MfaRequired => ErrorCode::MfaRequired,
            Self::InvalidOtp => ErrorCode::InvalidOtp,
            Self::InvalidMfaToken => ErrorCode::InvalidMfaToken,
            Self::MfaAlreadyEnabled => ErrorCode::MfaAlreadyEnabled,
            Self::MfaNotEnabled => ErrorCode::MfaNotEnabled,
            Self::InvalidDpopProof(_) => ErrorCode::InvalidDpopProof,
            Self::UseDpopNonce { .. } => ErrorCode::UseDpopNonce,
        }
    }

    /// The client-facing message (the JSON body's `message`, the challenge's
    /// `error_description`, the gRPC `grpc-message`): the code's [`ErrorCode::message`], made
    /// more specific only where that tells the client nothing about how its credentials were
    /// checked: for `INSUFFICIENT_SCOPE`, the route's role and permission requirement (see
    /// [`RequiredAccess::message`](crate::scope::RequiredAccess::message)); for
    /// [`InvalidRequest::ConflictingCredentials`], that more than one credential was presented
    /// (every other `INVALID_REQUEST` keeps the code's message). Header-safe.
    ///
    /// ```
    /// use auth_core::{AuthError, InvalidRequest};
    ///
    /// let both = AuthError::InvalidRequest(InvalidRequest::ConflictingCredentials);
    /// assert_eq!(both.message(), "more than one credential was presented");
    /// let twice = AuthError::InvalidRequest(InvalidRequest::MultipleAuthorizationHeaders);
    /// assert_eq!(twice.message(), "the credentials are malformed");
    /// ```
    #[must_use]
    pub fn message(&self) -> &str {
        match self {
            Self::InsufficientScope { required } => required.message(),
            Self::InvalidRequest(InvalidRequest::ConflictingCredentials) => {
                "more than one credential was presented"
            }
            other => other.code().message(),
        }
    }
}

impl From<InvalidToken> for AuthError {
    fn from(r: InvalidToken) -> Self {
        Self::InvalidToken(r)
    }
}

impl From<InvalidRequest> for AuthError {
    fn from(r: InvalidRequest) -> Self {
        Self::InvalidRequest(r)
    }
}

impl fmt::Display for AuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidRequest(r) => write!(f, "invalid request: {r}"),
            Self::InvalidToken(r) => write!(f, "invalid token: {r}"),
            Self::BackendUnavailable(d) => write!(f, "authentication backend unavailable: {d}"),
            Self::InsufficientScope { required } => {
                write!(
                    f,
                    "insufficient scope: requires {}",
                    required.list().join(" ")
                )
            }
            Self::TooManyAttempts { retry_after } => {
                write!(
                    f,
                    "too many attempts: retry after {}s",
                    retry_after.as_secs()
                )
            }
            Self::CsrfRejected(why) => write!(f, "csrf check failed: {why}"),
            Self::InvalidDpopProof(why) => write!(f, "invalid dpop proof: {why}"),
            Self::InsufficientUserAuthentication {
                acr_values,
                max_age,
            } => {
                f.write_str("insufficient user authentication: requires")?;
                if let Some(acr) = acr_values {
                    write!(f, " acr in [{acr}]")?;
                }
                if let Some(age) = max_age {
                    write!(f, " auth_time within {age}s")?;
                }
                if acr_values.is_none() && max_age.is_none() {
                    f.write_str(" another authentication method")?;
                }
                Ok(())
            }
            other => f.write_str(other.code().message()),
        }
    }
}

impl StdError for AuthError {}

/// A configuration mistake, reported when a verifier or layer is built (never per request).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConfigError {
    /// No verification key was configured.
    NoKeys,
    /// An HMAC secret is shorter than the hash output (RFC 7518 section 3.2).
    WeakHmacSecret {
        /// The algorithm the secret is for.
        alg: &'static str,
        /// The minimum length in bytes.
        min: usize,
        /// The length given.
        actual: usize,
    },
    /// An RSA modulus is shorter than the minimum (2048 bits): signatures made with it could
    /// never verify, and such keys are factorable.
    WeakRsaKey {
        /// The algorithm the key was meant for.
        alg: &'static str,
        /// The modulus length in bits.
        bits: usize,
        /// The minimum length in bits.
        min: usize,
    },
    /// An RSA modulus carries the ROCA fingerprint (CVE-2017-15361): it was made by a key
    /// generator whose private keys can be computed from the public key.
    VulnerableRsaKey {
        /// The algorithm the key was meant for.
        alg: &'static str,
    },
    /// Key material could not be parsed for the given algorithm.
    InvalidKey {
        /// The algorithm the key was meant for.
        alg: &'static str,
        /// What went wrong (never contains key material).
        reason: String,
    },
    /// The key type cannot be used with the requested algorithm.
    KeyAlgorithmMismatch {
        /// The algorithm requested.
        alg: &'static str,
    },
    /// A JWK lacks an `alg` and none was given, or names one we do not accept.
    JwkAlgorithm(String),
    /// A JWK is not meant for verifying signatures: its `use` is not `sig`, or its `key_ops`
    /// do not include `verify`. The message says which.
    JwkPurpose(String),
    /// Two keys share a `kid`.
    DuplicateKeyId(String),
    /// The leeway is larger than the allowed maximum.
    LeewayTooLarge {
        /// The requested leeway in seconds.
        secs: u64,
        /// The maximum in seconds.
        max: u64,
    },
    /// An issuer or audience string is empty.
    EmptyValue(&'static str),
    /// The maximum token length is zero.
    ZeroMaxTokenLength,
    /// A value that goes into a header (realm, cookie or header name) is not valid there.
    InvalidHeaderValue {
        /// Which setting.
        what: &'static str,
    },
    /// A claim name is empty or collides with a registered claim.
    InvalidClaimName(String),
    /// No audience was configured (see `dangerous_accept_any_audience`).
    MissingAudience,
    /// An environment or file input could not be read.
    Input(String),
    /// An API key prefix does not match `[a-z][a-z0-9_]{1,23}`.
    InvalidApiKeyPrefix(String),
    /// A brute-force policy (or related) setting is out of range.
    InvalidPolicy {
        /// Which setting.
        setting: &'static str,
        /// Why it was refused.
        reason: String,
    },
    /// A trusted-proxy entry is not an IP address or CIDR network.
    InvalidNetwork(String),
    /// A lifetime or interval is zero (or too large to represent).
    InvalidDuration {
        /// Which setting.
        what: &'static str,
    },
    /// The same issuer was configured twice in a multi-issuer verifier.
    DuplicateIssuer(String),
    /// Per-issuer key sources ([`TrustedIssuer`](crate::jwt::TrustedIssuer)) were mixed with
    /// verifier-wide keys, key resolver or issuer settings.
    MixedIssuerConfig,
    /// A URL (JWKS, OIDC issuer) is not acceptable; the message says why.
    InvalidUrl(String),
    /// A numeric or duration setting is out of its allowed range; the message says which.
    OutOfRange(String),
    /// A required setting was not given.
    MissingSetting(&'static str),
    /// A claim mapping is not valid (a JSON pointer's syntax, a registered claim, an empty
    /// preset argument) or conflicts with other settings; the message says why.
    InvalidClaimMapping(String),
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NoKeys => f.write_str("no verification key configured"),
            Self::WeakHmacSecret { alg, min, actual } => write!(
                f,
                "{alg} secret is {actual} bytes; at least {min} bytes are required"
            ),
            Self::WeakRsaKey { alg, bits, min } => write!(
                f,
                "{alg} key has a {bits}-bit rsa modulus; at least {min} bits are required"
            ),
            Self::VulnerableRsaKey { alg } => write!(
                f,
                "{alg} key has the roca fingerprint (cve-2017-15361); its private key can be \
                 computed from the public key, so generate a new one"
            ),
            Self::InvalidKey { alg, reason } => write!(f, "invalid {alg} key: {reason}"),
            Self::KeyAlgorithmMismatch { alg } => {
                write!(f, "key type cannot be used with algorithm {alg}")
            }
            Self::JwkAlgorithm(m) => write!(f, "jwk algorithm: {m}"),
            Self::JwkPurpose(m) => write!(f, "jwk is not for verifying signatures: {m}"),
            Self::DuplicateKeyId(kid) => write!(f, "duplicate key id `{kid}`"),
            Self::LeewayTooLarge { secs, max } => {
                write!(f, "leeway of {secs}s exceeds the maximum of {max}s")
            }
            Self::EmptyValue(what) => write!(f, "{what} must not be empty"),
            Self::ZeroMaxTokenLength => f.write_str("maximum token length must be positive"),
            Self::InvalidHeaderValue { what } => {
                write!(
                    f,
                    "{what} contains characters not allowed in an http header"
                )
            }
            Self::InvalidClaimName(n) => write!(f, "invalid claim name `{n}`"),
            Self::MissingAudience => f.write_str(
                "no audience configured; tokens minted for other services would be accepted",
            ),
            Self::Input(m) => write!(f, "{m}"),
            Self::InvalidApiKeyPrefix(p) => write!(
                f,
                "api key prefix `{}` does not match [a-z][a-z0-9_]{{1,23}}",
                p.escape_debug()
            ),
            Self::InvalidPolicy { setting, reason } => {
                write!(f, "invalid setting `{setting}`: {reason}")
            }
            Self::InvalidNetwork(n) => write!(
                f,
                "`{}` is not an ip address or cidr network (e.g. 10.0.0.0/8 or 2001:db8::/32)",
                n.escape_debug()
            ),
            Self::InvalidDuration { what } => {
                write!(f, "{what} must be positive and representable")
            }
            Self::DuplicateIssuer(iss) => write!(f, "issuer `{iss}` is configured twice"),
            Self::MixedIssuerConfig => f.write_str(
                "trusted issuers carry their own keys and issuer; do not also set verifier-wide \
                 keys, a key resolver or issuers",
            ),
            Self::InvalidUrl(m) => write!(f, "invalid url: {m}"),
            Self::OutOfRange(m) => write!(f, "setting out of range: {m}"),
            Self::MissingSetting(what) => write!(f, "{what} is required"),
            Self::InvalidClaimMapping(m) => write!(f, "invalid claim mapping: {m}"),
        }
    }
}

impl StdError for ConfigError {}

#[cfg(test)]
mod tests {
    use super::*;

    /// Lists every code once: `ALL` for the tests below, and a `match` without a wildcard, so
    /// a new variant does not compile until it is listed here (and so checked against the
    /// documented table by `the_documented_table_matches_every_code`).
    macro_rules! every_code {
        ($($v:ident),* $(,)?) => {
            const ALL: &[ErrorCode] = &[$(ErrorCode::$v),*];

            #[allow(dead_code)]
            fn listed(c: ErrorCode) {
                match c {
                    $(ErrorCode::$v)|* => {}
                }
            }
        };
    }

    // In declaration order.
    every_code![
        MissingCredentials,
        InvalidRequest,
        InvalidToken,
        TokenExpired,
        TokenNotYetValid,
        InvalidIssuer,
        InvalidAudience,
        TokenRevoked,
        InsufficientScope,
        InvalidApiKey,
        ApiKeyExpired,
        ApiKeyRevoked,
        InvalidCredentials,
        TooManyAttempts,
        AuthBackendUnavailable,
        AuthLayerMissing,
        RefreshTokenReused,
        RefreshTokenExpired,
        InvalidRefreshToken,
        CsrfRejected,
        InsufficientUserAuthentication,
        MfaRequired,
        InvalidOtp,
        InvalidMfaToken,
        MfaAlreadyEnabled,
        MfaNotEnabled,
        LoginStateInvalid,
        LoginFailed,
        InvalidIdToken,
        IdentityAlreadyLinked,
        InvalidDpopProof,
        UseDpopNonce,
    ];

    /// The gRPC status name the table writes next to each number.
    fn grpc_name(code: i32) -> &'static str {
        match code {
            3 => "INVALID_ARGUMENT",
            6 => "ALREADY_EXISTS",
            7 => "PERMISSION_DENIED",
            8 => "RESOURCE_EXHAUSTED",
            9 => "FAILED_PRECONDITION",
            13 => "INTERNAL",
            14 => "UNAVAILABLE",
            16 => "UNAUTHENTICATED",
            other => panic!("grpc code {other} has no name in this test; add it"),
        }
    }

    #[test]
    fn the_documented_table_matches_every_code() {
        let rows: Vec<Vec<&str>> = include_str!("error_codes.md")
            .lines()
            .filter(|l| l.starts_with("| `"))
            .map(|l| l.trim_matches('|').split(" | ").map(str::trim).collect())
            .collect();
        let documented: Vec<&str> = rows.iter().map(|r| r[0].trim_matches('`')).collect();
        let codes: Vec<&str> = ALL.iter().map(|c| c.as_str()).collect();
        assert_eq!(documented, codes, "one row per code, in declaration order");

        for (row, &c) in rows.iter().zip(ALL) {
            assert_eq!(
                row.len(),
                5,
                "{c}: code | HTTP | gRPC | WWW-Authenticate | meaning"
            );
            assert_eq!(row[1], c.http_status().to_string(), "{c}: HTTP status");
            let grpc = format!("{} `{}`", c.grpc_code(), grpc_name(c.grpc_code()));
            assert_eq!(row[2], grpc, "{c}: gRPC status");
            let challenge = match (c.has_challenge(), c.bearer_error()) {
                (false, None) => "none".to_owned(),
                (true, None) => "challenge, no `error`".to_owned(),
                (true, Some(e)) => format!("`error=\"{e}\"`"),
                (false, Some(e)) => panic!("{c}: error={e} without a challenge"),
            };
            assert_eq!(row[3], challenge, "{c}: WWW-Authenticate");
            assert!(!row[4].is_empty(), "{c}: meaning");
        }
    }

    #[test]
    fn every_401_is_grpc_unauthenticated_and_every_403_permission_denied() {
        for &c in ALL {
            match c.http_status() {
                401 => assert_eq!(c.grpc_code(), 16, "{c}"),
                403 => assert_eq!(c.grpc_code(), 7, "{c}"),
                _ => {}
            }
        }
    }

    #[test]
    fn codes_are_upper_snake_case_and_messages_header_safe() {
        for &c in ALL {
            assert!(
                c.as_str()
                    .bytes()
                    .all(|b| b.is_ascii_uppercase() || b == b'_')
            );
            assert!(
                c.message()
                    .bytes()
                    .all(|b| (0x20..0x7f).contains(&b) && b != b'"' && b != b'\\')
            );
        }
    }

    #[test]
    fn display_of_invalid_token_names_the_reason() {
        let e = AuthError::from(InvalidToken::ClaimType("exp"));
        assert_eq!(e.code(), ErrorCode::InvalidToken);
        assert_eq!(
            e.to_string(),
            "invalid token: claim `exp` has the wrong type"
        );
    }

    #[test]
    fn refresh_and_csrf_codes_answer_without_a_bearer_challenge() {
        for c in [
            ErrorCode::RefreshTokenReused,
            ErrorCode::RefreshTokenExpired,
            ErrorCode::InvalidRefreshToken,
        ] {
            assert_eq!(c.http_status(), 401, "{c}");
            assert!(!c.has_challenge(), "{c}");
            assert_eq!(c.bearer_error(), None, "{c}");
        }
        assert_eq!(ErrorCode::CsrfRejected.http_status(), 403);
        assert_eq!(ErrorCode::CsrfRejected.grpc_code(), 7);
        assert!(!ErrorCode::CsrfRejected.has_challenge());
        assert_eq!(
            AuthError::CsrfRejected(CsrfFailure::TokenMismatch).to_string(),
            "csrf check failed: csrf header does not match the cookie"
        );
    }

    // Issue 15: the MFA and step-up codes, and where each answers.
    #[test]
    fn mfa_codes_answer_like_a_login_endpoint_and_step_up_with_the_rfc_9470_challenge() {
        let c = ErrorCode::InsufficientUserAuthentication;
        assert_eq!(c.as_str(), "INSUFFICIENT_USER_AUTHENTICATION");
        assert_eq!(c.http_status(), 401);
        assert_eq!(c.grpc_code(), 16);
        assert_eq!(c.bearer_error(), Some("insufficient_user_authentication"));
        assert!(c.has_challenge());
        for c in [
            ErrorCode::MfaRequired,
            ErrorCode::InvalidOtp,
            ErrorCode::InvalidMfaToken,
        ] {
            assert_eq!(c.http_status(), 401, "{c}");
            assert!(!c.has_challenge(), "{c}");
            assert_eq!(c.bearer_error(), None, "{c}");
        }
        assert_eq!(ErrorCode::MfaAlreadyEnabled.http_status(), 409);
        assert_eq!(ErrorCode::MfaAlreadyEnabled.grpc_code(), 6);
        assert_eq!(ErrorCode::MfaNotEnabled.http_status(), 409);
        assert!(!ErrorCode::MfaAlreadyEnabled.has_challenge());
        let e = AuthError::InsufficientUserAuthentication {
            acr_values: Some("aal2".into()),
            max_age: Some(300),
        };
        assert_eq!(e.code(), c);
        assert_eq!(
            e.to_string(),
            "insufficient user authentication: requires acr in [aal2] auth_time within 300s"
        );
    }

    // Issue 20: RFC 9449 section 7.1 and 9: both DPoP codes are 401 challenges.
    #[test]
    fn dpop_codes_are_challenges_with_the_rfc_9449_errors() {
        for (c, s, e) in [
            (
                ErrorCode::InvalidDpopProof,
                "INVALID_DPOP_PROOF",
                "invalid_dpop_proof",
            ),
            (ErrorCode::UseDpopNonce, "USE_DPOP_NONCE", "use_dpop_nonce"),
        ] {
            assert_eq!(c.as_str(), s);
            assert_eq!(c.http_status(), 401, "{c}");
            assert_eq!(c.grpc_code(), 16, "{c}");
            assert_eq!(c.bearer_error(), Some(e), "{c}");
            assert!(c.has_challenge(), "{c}");
        }
        let e = AuthError::InvalidDpopProof(crate::InvalidDpopProof::Replayed);
        assert_eq!(e.code(), ErrorCode::InvalidDpopProof);
        assert_eq!(
            e.to_string(),
            "invalid dpop proof: dpop proof was already used"
        );
        let e = AuthError::UseDpopNonce { nonce: "n".into() };
        assert_eq!(e.code(), ErrorCode::UseDpopNonce);
    }

    // Issue 14: the OpenID login codes answer the browser's callback with 400 (409 for a
    // conflicting link), never with a bearer challenge.
    #[test]
    fn login_codes_answer_the_callback_without_a_challenge() {
        for (c, s, g) in [
            (ErrorCode::LoginStateInvalid, "LOGIN_STATE_INVALID", 3),
            (ErrorCode::LoginFailed, "LOGIN_FAILED", 16),
            (ErrorCode::InvalidIdToken, "INVALID_ID_TOKEN", 16),
        ] {
            assert_eq!(c.as_str(), s);
            assert_eq!(c.http_status(), 400, "{c}");
            assert_eq!(c.grpc_code(), g, "{c}");
            assert_eq!(c.bearer_error(), None, "{c}");
            assert!(!c.has_challenge(), "{c}");
        }
        let c = ErrorCode::IdentityAlreadyLinked;
        assert_eq!(c.as_str(), "IDENTITY_ALREADY_LINKED");
        assert_eq!(c.http_status(), 409);
        assert_eq!(c.grpc_code(), 6);
        assert!(!c.has_challenge());
    }
}
