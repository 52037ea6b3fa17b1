//! [`AuthContext`]: how and when a user authenticated (`amr`, `acr`, `auth_time`), the
//! claims a login stamps into its access tokens and a refresh copies unchanged.

use serde_json::{Map, Value};

use crate::clock::UnixTime;

/// RFC 8176 `amr` values this crate uses.
pub mod amr {
    /// Password-based authentication.
    pub const PWD: &str = "pwd";
    /// A one-time password (a TOTP code, or a single-use recovery code).
    pub const OTP: &str = "otp";
    /// Multiple-factor authentication.
    pub const MFA: &str = "mfa";
}

/// The `acr` value a login that passed the second factor carries by default: `aal2`, NIST SP
/// 800-63B authentication assurance level 2 (a password plus a replay-resistant OTP).
pub const DEFAULT_MFA_ACR: &str = "aal2";

/// How a login authenticated: the RFC 8176 `amr` values, an `acr` value (OpenID Connect Core
/// section 2) and `auth_time`, the moment authentication completed.
///
/// A login stamps it into the access token ([`claims`](Self::claims), or `apply` with the
/// `issuer` feature) and keeps it with the session ([`AuthContextStore`](super::AuthContextStore));
/// a refresh copies the kept one into the new token, so `auth_time` keeps meaning "when the
/// user last proved who they are", never "when the token was refreshed".
///
/// ```
/// use auth_core::clock::UnixTime;
/// use auth_core::mfa::AuthContext;
///
/// let t = UnixTime::from_secs(1_700_000_000);
/// let ctx = AuthContext::password(t).with_second_factor("aal2");
/// assert_eq!(ctx.amr(), ["pwd", "otp", "mfa"]);
/// assert_eq!(ctx.acr(), Some("aal2"));
///
/// let claims = ctx.claims();
/// assert_eq!(claims["auth_time"], 1_700_000_000);
/// assert_eq!(AuthContext::from_claims(&claims), Some(ctx));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuthContext {
    amr: Vec<String>,
    acr: Option<String>,
    auth_time: UnixTime,
}

impl AuthContext {
    /// A context from its parts (`auth_time` is kept in whole seconds, rounded down).
    #[must_use]
    pub fn new<I, S>(amr: I, acr: Option<String>, auth_time: UnixTime) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let mut values: Vec<String> = Vec::new();
        for v in amr {
            let v = v.into();
            if !values.contains(&v) {
                values.push(v);
            }
        }
        Self {
            amr: values,
            acr,
            auth_time: UnixTime::from_secs(auth_time.as_secs()),
        }
    }

    /// A password login completed at `auth_time`: `amr` `["pwd"]`, no `acr`.
    #[must_use]
    pub fn password(auth_time: UnixTime) -> Self {
        Self::new([amr::PWD], None, auth_time)
    }

    /// This context after a second factor (a TOTP or recovery code): `otp` and `mfa` added
    /// to `amr`, `acr` set. `auth_time` is unchanged; [`Mfa`](super::Mfa) builds its contexts
    /// at the moment the second factor is verified.
    #[must_use]
    pub fn with_second_factor(mut self, acr: &str) -> Self {
        for v in [amr::OTP, amr::MFA] {
            if !self.has_amr(v) {
                self.amr.push(v.to_owned());
            }
        }
        self.acr = Some(acr.to_owned());
        self
    }

    /// The `amr` values.
    #[must_use]
    pub fn amr(&self) -> &[String] {
        &self.amr
    }

    /// Whether `amr` contains `value`.
    #[must_use]
    pub fn has_amr(&self, value: &str) -> bool {
        self.amr.iter().any(|v| v == value)
    }

    /// The `acr` value.
    #[must_use]
    pub fn acr(&self) -> Option<&str> {
        self.acr.as_deref()
    }

    /// `auth_time` (whole seconds).
    #[must_use]
    pub fn auth_time(&self) -> UnixTime {
        self.auth_time
    }

    /// The claims: `amr` (array of strings), `acr` (when set) and `auth_time` (NumericDate).
    #[must_use]
    pub fn claims(&self) -> Map<String, Value> {
        let mut m = Map::with_capacity(3);
        m.insert(
            "amr".to_owned(),
            self.amr.iter().cloned().map(Value::String).collect(),
        );
        if let Some(acr) = &self.acr {
            m.insert("acr".to_owned(), Value::String(acr.clone()));
        }
        m.insert(
            "auth_time".to_owned(),
            Value::from(self.auth_time.as_secs()),
        );
        m
    }

    /// Reads a context back from verified claims (e.g. `Principal::claims()`): `None` without
    /// an `auth_time` NumericDate; non-string `amr` entries are ignored.
    #[must_use]
    pub fn from_claims(claims: &Map<String, Value>) -> Option<Self> {
        let auth_time = claims.get("auth_time")?.as_u64()?;
        let amr = claims
            .get("amr")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default();
        let acr = claims.get("acr").and_then(Value::as_str).map(str::to_owned);
        Some(Self::new(amr, acr, UnixTime::from_secs(auth_time)))
    }

    /// `grant` with this context's claims added.
    ///
    /// ```
    /// use auth_core::clock::UnixTime;
    /// use auth_core::jwt::AccessGrant;
    /// use auth_core::mfa::AuthContext;
    ///
    /// let ctx = AuthContext::password(UnixTime::from_secs(10)).with_second_factor("aal2");
    /// let grant = ctx.apply(AccessGrant::new("alice").scope("read"));
    /// # let _ = grant;
    /// ```
    #[cfg(feature = "issuer")]
    #[cfg_attr(docsrs, doc(cfg(feature = "issuer")))]
    pub fn apply(&self, grant: crate::jwt::AccessGrant) -> crate::jwt::AccessGrant {
        self.claims()
            .into_iter()
            .fold(grant, |g, (name, value)| g.claim(name, value))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_factor_adds_otp_and_mfa_once_and_keeps_auth_time() {
        let t = UnixTime::from_nanos(1_700_000_000_999_000_000);
        let ctx = AuthContext::password(t);
        assert_eq!(ctx.auth_time(), UnixTime::from_secs(1_700_000_000));
        let mfa = ctx
            .clone()
            .with_second_factor("aal2")
            .with_second_factor("x");
        assert_eq!(mfa.amr(), ["pwd", "otp", "mfa"]);
        assert_eq!(mfa.acr(), Some("x"));
        assert_eq!(mfa.auth_time(), ctx.auth_time());
    }

    #[test]
    fn claims_round_trip_and_junk_is_ignored() {
        let ctx = AuthContext::password(UnixTime::from_secs(5));
        let claims = ctx.claims();
        assert!(!claims.contains_key("acr"));
        assert_eq!(AuthContext::from_claims(&claims), Some(ctx));
        let odd: Map<String, Value> =
            serde_json::from_str(r#"{"amr":["pwd",7,null],"auth_time":9,"acr":1}"#).unwrap();
        let back = AuthContext::from_claims(&odd).unwrap();
        assert_eq!(back.amr(), ["pwd"]);
        assert_eq!(back.acr(), None);
        let none: Map<String, Value> = serde_json::from_str(r#"{"auth_time":"9"}"#).unwrap();
        assert_eq!(AuthContext::from_claims(&none), None);
    }
}
