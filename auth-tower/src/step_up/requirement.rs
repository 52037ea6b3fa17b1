//! [`StepUpRequirement`]: what a route demands of how (and how recently) its user
//! authenticated, checked against a token's `amr`, `acr` and `auth_time` claims.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use auth_core::clock::UnixTime;
use auth_core::{AuthError, ConfigError};
use serde_json::{Map, Value};

/// A route's authentication requirement (RFC 9470): `amr` values that must all be present,
/// `acr` values of which one must be the token's, and a maximum age of `auth_time`. Validated
/// when built; cheap to check (no allocation).
///
/// ```
/// use auth_tower::step_up::StepUpRequirement;
/// use std::time::Duration;
///
/// let r = StepUpRequirement::builder()
///     .amr("otp")
///     .acr("aal2")
///     .max_age(Duration::from_secs(300))
///     .build()?;
/// assert_eq!(r.acr_values(), Some("aal2"));
/// assert_eq!(r.max_age_secs(), Some(300));
///
/// // Values go into a quoted header attribute: quotes, spaces and backslashes are refused.
/// assert!(StepUpRequirement::builder().acr("a\"b").build().is_err());
/// // A requirement must require something.
/// assert!(StepUpRequirement::builder().build().is_err());
/// # Ok::<(), auth_core::ConfigError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StepUpRequirement {
    amr: Vec<String>,
    acr: Vec<String>,
    /// The accepted `acr` values joined by spaces, for the challenge.
    acr_values: Option<Arc<str>>,
    max_age: Option<u64>,
}

/// Why a principal does not meet a [`StepUpRequirement`] (for logs; clients only see
/// `INSUFFICIENT_USER_AUTHENTICATION`).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Unmet {
    /// The credential has no claims (e.g. an API key).
    NoClaims,
    /// A required `amr` value is missing.
    MissingAmr(String),
    /// The `acr` is missing or not an accepted one.
    Acr,
    /// There is no `auth_time` NumericDate.
    NoAuthTime,
    /// `auth_time` is older than the maximum age.
    TooOld {
        /// Seconds since `auth_time`.
        age: u64,
    },
}

impl fmt::Display for Unmet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NoClaims => f.write_str("no token claims"),
            Self::MissingAmr(v) => write!(f, "amr lacks `{}`", v.escape_debug()),
            Self::Acr => f.write_str("acr missing or not accepted"),
            Self::NoAuthTime => f.write_str("no auth_time"),
            Self::TooOld { age } => write!(f, "auth_time is {age}s old"),
        }
    }
}

impl StepUpRequirement {
    /// A builder with no requirement yet.
    pub fn builder() -> StepUpRequirementBuilder {
        StepUpRequirementBuilder::default()
    }

    /// The `amr` values that must all be present.
    #[must_use]
    pub fn amr(&self) -> &[String] {
        &self.amr
    }

    /// The accepted `acr` values, space-separated (the challenge's `acr_values`).
    #[must_use]
    pub fn acr_values(&self) -> Option<&str> {
        self.acr_values.as_deref()
    }

    /// The maximum age of `auth_time`, in seconds (the challenge's `max_age`).
    #[must_use]
    pub fn max_age_secs(&self) -> Option<u64> {
        self.max_age
    }

    /// Checks verified `claims` (e.g. `Principal::claims()`) at `now`.
    ///
    /// # Errors
    ///
    /// The first requirement that is not met.
    pub fn check(&self, claims: Option<&Map<String, Value>>, now: UnixTime) -> Result<(), Unmet> {
        let claims = claims.ok_or(Unmet::NoClaims)?;
        if !self.amr.is_empty() {
            let held = claims.get("amr").and_then(Value::as_array);
            for want in &self.amr {
                let present = held.is_some_and(|a| a.iter().any(|v| v.as_str() == Some(want)));
                if !present {
                    return Err(Unmet::MissingAmr(want.clone()));
                }
            }
        }
        if !self.acr.is_empty() {
            let acr = claims.get("acr").and_then(Value::as_str);
            if !acr.is_some_and(|a| self.acr.iter().any(|w| w == a)) {
                return Err(Unmet::Acr);
            }
        }
        if let Some(max) = self.max_age {
            let auth_time = claims
                .get("auth_time")
                .and_then(Value::as_u64)
                .ok_or(Unmet::NoAuthTime)?;
            // An auth_time ahead of this clock (skew) counts as just now.
            let age = now.as_secs().saturating_sub(auth_time);
            if age > max {
                return Err(Unmet::TooOld { age });
            }
        }
        Ok(())
    }

    /// The rejection for a principal that does not meet this requirement.
    #[must_use]
    pub fn error(&self) -> AuthError {
        AuthError::InsufficientUserAuthentication {
            acr_values: self.acr_values.clone(),
            max_age: self.max_age,
        }
    }
}

impl fmt::Display for StepUpRequirement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts = Vec::with_capacity(3);
        if !self.amr.is_empty() {
            parts.push(format!("amr [{}]", self.amr.join(" ")));
        }
        if let Some(acr) = &self.acr_values {
            parts.push(format!("acr in [{acr}]"));
        }
        if let Some(age) = self.max_age {
            parts.push(format!("auth_time within {age}s"));
        }
        f.write_str(&parts.join(", "))
    }
}

/// Builds a [`StepUpRequirement`]; see [`StepUpRequirement::builder`].
#[derive(Clone, Debug, Default)]
#[must_use]
pub struct StepUpRequirementBuilder {
    amr: Vec<String>,
    acr: Vec<String>,
    max_age: Option<Duration>,
}

impl StepUpRequirementBuilder {
    /// Requires `value` in the token's `amr` (RFC 8176, e.g. `otp`, `mfa`, `hwk`); several
    /// calls require all of them.
    pub fn amr(mut self, value: impl Into<String>) -> Self {
        self.amr.push(value.into());
        self
    }

    /// Accepts `value` as the token's `acr`; several calls accept any of them.
    pub fn acr(mut self, value: impl Into<String>) -> Self {
        self.acr.push(value.into());
        self
    }

    /// Requires `auth_time` within `max_age` of now (whole seconds, rounded down).
    pub fn max_age(mut self, max_age: Duration) -> Self {
        self.max_age = Some(max_age);
        self
    }

    /// Validates the requirement.
    ///
    /// # Errors
    ///
    /// [`ConfigError::MissingSetting`] when nothing is required;
    /// [`ConfigError::InvalidHeaderValue`] for an `amr` or `acr` value that is empty or not
    /// printable ASCII without spaces, quotes and backslashes.
    pub fn build(self) -> Result<StepUpRequirement, ConfigError> {
        if self.amr.is_empty() && self.acr.is_empty() && self.max_age.is_none() {
            return Err(ConfigError::MissingSetting(
                "a step-up requirement (amr, acr or max_age)",
            ));
        }
        for (what, values) in [
            ("step-up amr value", &self.amr),
            ("step-up acr value", &self.acr),
        ] {
            if !values.iter().all(|v| token_safe(v)) {
                return Err(ConfigError::InvalidHeaderValue { what });
            }
        }
        let acr_values = (!self.acr.is_empty()).then(|| Arc::from(self.acr.join(" ")));
        Ok(StepUpRequirement {
            amr: self.amr,
            acr: self.acr,
            acr_values,
            max_age: self.max_age.map(|d| d.as_secs()),
        })
    }
}

/// Printable ASCII without space, `"` or `\`: safe inside a quoted-string, and a single token
/// of a space-separated list.
fn token_safe(v: &str) -> bool {
    !v.is_empty()
        && v.bytes()
            .all(|b| (0x21..0x7f).contains(&b) && b != b'"' && b != b'\\')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(json: &str) -> Map<String, Value> {
        serde_json::from_str(json).unwrap()
    }

    const NOW: u64 = 1_800_000_000;

    #[test]
    fn every_required_amr_must_be_present() {
        let r = StepUpRequirement::builder()
            .amr("otp")
            .amr("pwd")
            .build()
            .unwrap();
        let now = UnixTime::from_secs(NOW);
        assert_eq!(
            r.check(Some(&claims(r#"{"amr":["pwd","otp"]}"#)), now),
            Ok(())
        );
        assert_eq!(
            r.check(Some(&claims(r#"{"amr":["pwd"]}"#)), now),
            Err(Unmet::MissingAmr("otp".into()))
        );
        assert_eq!(
            r.check(Some(&claims(r#"{"amr":"pwd otp"}"#)), now),
            Err(Unmet::MissingAmr("otp".into()))
        );
        assert_eq!(
            r.check(Some(&claims("{}")), now),
            Err(Unmet::MissingAmr("otp".into()))
        );
        assert_eq!(r.check(None, now), Err(Unmet::NoClaims));
    }

    #[test]
    fn acr_must_be_one_of_the_accepted() {
        let r = StepUpRequirement::builder()
            .acr("aal2")
            .acr("aal3")
            .build()
            .unwrap();
        let now = UnixTime::from_secs(NOW);
        assert_eq!(r.acr_values(), Some("aal2 aal3"));
        assert_eq!(r.check(Some(&claims(r#"{"acr":"aal3"}"#)), now), Ok(()));
        assert_eq!(
            r.check(Some(&claims(r#"{"acr":"aal1"}"#)), now),
            Err(Unmet::Acr)
        );
        assert_eq!(
            r.check(Some(&claims(r#"{"acr":["aal2"]}"#)), now),
            Err(Unmet::Acr)
        );
    }

    #[test]
    fn auth_time_must_be_within_max_age() {
        let r = StepUpRequirement::builder()
            .max_age(Duration::from_secs(300))
            .build()
            .unwrap();
        let now = UnixTime::from_secs(NOW);
        let at = |t: u64| claims(&format!(r#"{{"auth_time":{t}}}"#));
        assert_eq!(r.check(Some(&at(NOW - 300)), now), Ok(()));
        assert_eq!(
            r.check(Some(&at(NOW - 301)), now),
            Err(Unmet::TooOld { age: 301 })
        );
        assert_eq!(r.check(Some(&at(NOW + 5)), now), Ok(()));
        assert_eq!(
            r.check(Some(&claims(r#"{"auth_time":"1"}"#)), now),
            Err(Unmet::NoAuthTime)
        );
        assert_eq!(r.to_string(), "auth_time within 300s");
    }

    #[test]
    fn unsafe_or_empty_values_and_empty_requirements_are_refused() {
        for bad in ["", "a b", "q\"", "b\\", "é"] {
            assert!(
                StepUpRequirement::builder().amr(bad).build().is_err(),
                "{bad:?}"
            );
            assert!(
                StepUpRequirement::builder().acr(bad).build().is_err(),
                "{bad:?}"
            );
        }
        assert!(StepUpRequirement::builder().build().is_err());
    }
}
