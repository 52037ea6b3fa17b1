//! The signature algorithms a verifier can be pinned to. `none` does not exist here.

use std::fmt;

/// A JWS signature algorithm (RFC 7518). There is deliberately no `none` variant.
#[allow(clippy::upper_case_acronyms)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Algorithm {
    /// HMAC with SHA-256.
    HS256,
    /// HMAC with SHA-384.
    HS384,
    /// HMAC with SHA-512.
    HS512,
    /// RSASSA-PKCS1-v1_5 with SHA-256.
    RS256,
    /// RSASSA-PKCS1-v1_5 with SHA-384.
    RS384,
    /// RSASSA-PKCS1-v1_5 with SHA-512.
    RS512,
    /// RSASSA-PSS with SHA-256.
    PS256,
    /// RSASSA-PSS with SHA-384.
    PS384,
    /// RSASSA-PSS with SHA-512.
    PS512,
    /// ECDSA on P-256 with SHA-256.
    ES256,
    /// ECDSA on P-384 with SHA-384.
    ES384,
    /// EdDSA (Ed25519).
    EdDSA,
}

/// The key family an algorithm needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Family {
    Hmac,
    Rsa,
    Ec,
    Ed,
}

impl Algorithm {
    /// Every supported algorithm.
    pub const ALL: [Self; 12] = [
        Self::HS256,
        Self::HS384,
        Self::HS512,
        Self::RS256,
        Self::RS384,
        Self::RS512,
        Self::PS256,
        Self::PS384,
        Self::PS512,
        Self::ES256,
        Self::ES384,
        Self::EdDSA,
    ];

    /// The registered name, e.g. `"RS256"`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::HS256 => "HS256",
            Self::HS384 => "HS384",
            Self::HS512 => "HS512",
            Self::RS256 => "RS256",
            Self::RS384 => "RS384",
            Self::RS512 => "RS512",
            Self::PS256 => "PS256",
            Self::PS384 => "PS384",
            Self::PS512 => "PS512",
            Self::ES256 => "ES256",
            Self::ES384 => "ES384",
            Self::EdDSA => "EdDSA",
        }
    }

    /// Parses a registered name. Exact and case-sensitive (RFC 7515 section 4.1.1), so `none`,
    /// `None`, `NONE` and `hs256` are all refused.
    #[must_use]
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.as_str() == name)
    }

    pub(crate) const fn family(self) -> Family {
        match self {
            Self::HS256 | Self::HS384 | Self::HS512 => Family::Hmac,
            Self::RS256 | Self::RS384 | Self::RS512 | Self::PS256 | Self::PS384 | Self::PS512 => {
                Family::Rsa
            }
            Self::ES256 | Self::ES384 => Family::Ec,
            Self::EdDSA => Family::Ed,
        }
    }

    /// Minimum HMAC secret length: the hash output size (RFC 7518 section 3.2).
    pub(crate) const fn min_hmac_secret_len(self) -> usize {
        match self {
            Self::HS384 => 48,
            Self::HS512 => 64,
            _ => 32,
        }
    }

    /// The aws-lc-rs HMAC algorithm, for HMAC algorithms.
    pub(crate) fn hmac_algorithm(self) -> Option<aws_lc_rs::hmac::Algorithm> {
        use aws_lc_rs::hmac;
        match self {
            Self::HS256 => Some(hmac::HMAC_SHA256),
            Self::HS384 => Some(hmac::HMAC_SHA384),
            Self::HS512 => Some(hmac::HMAC_SHA512),
            _ => None,
        }
    }

    /// The aws-lc-rs verification algorithm, for public-key algorithms. The parameters are
    /// the ones jsonwebtoken's aws-lc backend uses (RSA moduli of 2048 to 8192 bits,
    /// fixed-length ECDSA signatures as JWS requires).
    pub(crate) fn public_key_algorithm(
        self,
    ) -> Option<&'static dyn aws_lc_rs::signature::VerificationAlgorithm> {
        use aws_lc_rs::signature as s;
        Some(match self {
            Self::RS256 => &s::RSA_PKCS1_2048_8192_SHA256,
            Self::RS384 => &s::RSA_PKCS1_2048_8192_SHA384,
            Self::RS512 => &s::RSA_PKCS1_2048_8192_SHA512,
            Self::PS256 => &s::RSA_PSS_2048_8192_SHA256,
            Self::PS384 => &s::RSA_PSS_2048_8192_SHA384,
            Self::PS512 => &s::RSA_PSS_2048_8192_SHA512,
            Self::ES256 => &s::ECDSA_P256_SHA256_FIXED,
            Self::ES384 => &s::ECDSA_P384_SHA384_FIXED,
            Self::EdDSA => &s::ED25519,
            Self::HS256 | Self::HS384 | Self::HS512 => return None,
        })
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Algorithm {
    type Err = crate::ConfigError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::from_name(s)
            .ok_or_else(|| crate::ConfigError::Input(format!("unknown algorithm `{s}`")))
    }
}

/// Serialised as its registered name (`"RS256"`).
#[cfg(feature = "settings")]
impl serde::Serialize for Algorithm {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// Read from its registered name, exactly (`"none"` and `"hs256"` are refused).
#[cfg(feature = "settings")]
impl<'de> serde::Deserialize<'de> for Algorithm {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let name = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Self::from_name(&name).ok_or_else(|| {
            let names: Vec<&str> = Self::ALL.iter().map(|a| a.as_str()).collect();
            serde::de::Error::custom(format!(
                "unknown algorithm {:?}; expected one of {}",
                name,
                names.join(", ")
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn none_in_any_spelling_is_not_an_algorithm() {
        for n in ["none", "None", "NONE", "nOnE", "", "hs256", "HS256 ", "RS1"] {
            assert_eq!(Algorithm::from_name(n), None, "{n}");
        }
    }

    #[test]
    fn names_round_trip() {
        for a in Algorithm::ALL {
            assert_eq!(Algorithm::from_name(a.as_str()), Some(a));
        }
    }
}
