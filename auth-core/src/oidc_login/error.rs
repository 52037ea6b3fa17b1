//! [`LoginError`]: why a login did not complete, mapped to the three client-facing codes.

use std::fmt;

use crate::ErrorCode;

/// What is wrong with a callback's `state` (all answered `LOGIN_STATE_INVALID`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum StateProblem {
    /// The callback has no `state`.
    Missing,
    /// The callback has `state` more than once (or its transaction cookie is there twice).
    Duplicated,
    /// No transaction of this browser has this `state` (no cookie, or one that does not open
    /// under the server's keys).
    Unknown,
    /// The transaction is older than its lifetime (10 minutes by default).
    Expired,
    /// The transaction already completed once (a replayed callback).
    AlreadyUsed,
    /// The transaction was started for another provider (a mix-up).
    WrongProvider,
}

impl fmt::Display for StateProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Missing => "state is missing",
            Self::Duplicated => "state is duplicated",
            Self::Unknown => "state matches no login transaction of this browser",
            Self::Expired => "the login transaction expired",
            Self::AlreadyUsed => "the login transaction was already used",
            Self::WrongProvider => "the login transaction belongs to another provider",
        })
    }
}

/// Why a login did not complete. [`code`](Self::code) is what the client sees; `Display` is
/// for logs (it never contains a code, token, verifier or secret).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum LoginError {
    /// No provider is configured under this name.
    UnknownProvider,
    /// The callback's `state` did not match a live transaction; nothing was sent to the
    /// provider.
    State(StateProblem),
    /// The provider answered the authorization request with an `error` (only reported once
    /// `state` matched).
    Provider {
        /// The `error` value (e.g. `access_denied`), restricted to RFC 6749's character set.
        error: String,
    },
    /// The authorization response's `iss` (RFC 9207) is not the provider's issuer, or it is
    /// missing although the provider advertises `authorization_response_iss_parameter_supported`:
    /// the response may come from another provider (a mix-up attack).
    IssuerMismatch,
    /// The callback is malformed once `state` matched: no `code`, a duplicated parameter, an
    /// undecodable query.
    InvalidResponse(&'static str),
    /// The token endpoint refused the code or answered something unusable.
    Exchange {
        /// The token endpoint's `error` value, if it sent one (e.g. `invalid_grant`).
        error: Option<String>,
        /// What went wrong, for logs.
        detail: String,
    },
    /// The ID token failed validation; the reason is for logs.
    IdToken(String),
    /// The userinfo request failed or its `sub` is not the ID token's.
    Userinfo(String),
    /// Discovery, the provider's keys or a store could not be reached (503).
    Backend(String),
}

impl LoginError {
    /// The stable code for the client: `LOGIN_STATE_INVALID`, `LOGIN_FAILED`,
    /// `INVALID_ID_TOKEN`, or `AUTH_BACKEND_UNAVAILABLE`.
    #[must_use]
    pub const fn code(&self) -> ErrorCode {
        match self {
            Self::State(_) => ErrorCode::LoginStateInvalid,
            Self::UnknownProvider
            | Self::Provider { .. }
            | Self::IssuerMismatch
            | Self::InvalidResponse(_)
            | Self::Exchange { .. }
            | Self::Userinfo(_) => ErrorCode::LoginFailed,
            Self::IdToken(_) => ErrorCode::InvalidIdToken,
            Self::Backend(_) => ErrorCode::AuthBackendUnavailable,
        }
    }

    /// The provider's `error` value to show the client, if any: the authorization response's
    /// `error` or the token endpoint's.
    #[must_use]
    pub fn provider_error(&self) -> Option<&str> {
        match self {
            Self::Provider { error } => Some(error),
            Self::Exchange { error, .. } => error.as_deref(),
            _ => None,
        }
    }

    /// The state problem, if this is one.
    #[must_use]
    pub const fn state_problem(&self) -> Option<StateProblem> {
        match self {
            Self::State(p) => Some(*p),
            _ => None,
        }
    }
}

impl fmt::Display for LoginError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::UnknownProvider => f.write_str("no login provider with this name"),
            Self::State(p) => write!(f, "login state invalid: {p}"),
            Self::Provider { error } => write!(f, "the provider answered error={error}"),
            Self::IssuerMismatch => f.write_str(
                "the authorization response's iss is not the provider's issuer (rfc 9207)",
            ),
            Self::InvalidResponse(why) => write!(f, "invalid authorization response: {why}"),
            Self::Exchange { error, detail } => match error {
                Some(e) => write!(f, "code exchange failed: error={e}: {detail}"),
                None => write!(f, "code exchange failed: {detail}"),
            },
            Self::IdToken(why) => write!(f, "invalid id token: {why}"),
            Self::Userinfo(why) => write!(f, "userinfo failed: {why}"),
            Self::Backend(why) => write!(f, "login backend unavailable: {why}"),
        }
    }
}

impl std::error::Error for LoginError {}

/// An OAuth `error` value as RFC 6749 section 4.1.2.1 allows it (`%x20-21 / %x23-5B /
/// %x5D-7E`, so no quote or backslash), at most 64 characters; anything else becomes
/// `invalid_error_value` so a provider (or an attacker crafting a callback) cannot put
/// arbitrary text into responses or logs.
pub(crate) fn clean_error_value(raw: &str) -> String {
    let ok = !raw.is_empty()
        && raw.len() <= 64
        && raw
            .bytes()
            .all(|b| matches!(b, 0x20..=0x21 | 0x23..=0x5b | 0x5d..=0x7e));
    if ok {
        raw.to_owned()
    } else {
        "invalid_error_value".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_error_maps_to_one_of_the_login_codes() {
        assert_eq!(
            LoginError::State(StateProblem::AlreadyUsed).code(),
            ErrorCode::LoginStateInvalid
        );
        let denied = LoginError::Provider {
            error: "access_denied".into(),
        };
        assert_eq!(denied.code(), ErrorCode::LoginFailed);
        assert_eq!(denied.provider_error(), Some("access_denied"));
        assert_eq!(LoginError::IssuerMismatch.code(), ErrorCode::LoginFailed);
        assert_eq!(
            LoginError::IdToken("x".into()).code(),
            ErrorCode::InvalidIdToken
        );
        assert_eq!(
            LoginError::Backend("x".into()).code(),
            ErrorCode::AuthBackendUnavailable
        );
    }

    #[test]
    fn error_values_outside_the_rfc_6749_set_are_replaced() {
        assert_eq!(clean_error_value("access_denied"), "access_denied");
        for bad in ["", "a\"b", "a\\b", "line\nbreak", "é", &"x".repeat(65)] {
            assert_eq!(clean_error_value(bad), "invalid_error_value", "{bad:?}");
        }
    }
}
