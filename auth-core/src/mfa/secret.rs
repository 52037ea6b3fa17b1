//! [`TotpSecret`]: the shared key of a TOTP credential, and [`CredentialId`].

use std::fmt;

use data_encoding::{BASE32_NOPAD, BASE64URL_NOPAD};

use crate::store::StoreError;

/// The length of a generated TOTP secret: 20 bytes (160 bits), the HMAC-SHA1 output size
/// RFC 4226 section 4 recommends.
pub const TOTP_SECRET_LEN: usize = 20;

/// The shared secret of a TOTP credential. `Debug` never shows it.
///
/// It leaves the server exactly once, at enrolment (as base32 and inside the `otpauth://`
/// URI); at rest it is only ever kept sealed ([`SecretSealer`](super::SecretSealer)).
///
/// ```
/// use auth_core::mfa::TotpSecret;
///
/// let s = TotpSecret::generate()?;
/// assert_eq!(s.as_bytes().len(), 20);
/// assert_eq!(s.to_base32().len(), 32);
/// assert_eq!(format!("{s:?}"), "TotpSecret(REDACTED)");
/// assert_eq!(TotpSecret::from_base32(&s.to_base32()).as_ref(), Some(&s));
/// # Ok::<(), auth_core::store::StoreError>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct TotpSecret(Box<[u8]>);

impl TotpSecret {
    /// 20 random bytes from the operating system.
    ///
    /// # Errors
    ///
    /// [`StoreError`] when the random source fails.
    pub fn generate() -> Result<Self, StoreError> {
        let mut raw = [0u8; TOTP_SECRET_LEN];
        fill_random(&mut raw)?;
        Ok(Self(Box::new(raw)))
    }

    /// A secret from its bytes (e.g. just opened from its sealed form).
    #[must_use]
    pub fn from_bytes(bytes: impl Into<Box<[u8]>>) -> Self {
        Self(bytes.into())
    }

    /// Parses RFC 4648 base32 (upper case, no padding), as written by
    /// [`to_base32`](Self::to_base32).
    #[must_use]
    pub fn from_base32(s: &str) -> Option<Self> {
        BASE32_NOPAD
            .decode(s.as_bytes())
            .ok()
            .filter(|b| !b.is_empty())
            .map(|b| Self(b.into_boxed_slice()))
    }

    /// The raw key.
    #[must_use]
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// RFC 4648 base32 without padding: what authenticator apps take (and the `secret`
    /// parameter of an `otpauth://` URI).
    #[must_use]
    pub fn to_base32(&self) -> String {
        BASE32_NOPAD.encode(&self.0)
    }
}

impl fmt::Debug for TotpSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TotpSecret(REDACTED)")
    }
}

/// The id of one TOTP credential (one enrolment): 128 random bits, base64url.
///
/// Not secret. A new enrolment gets a new id, and the sealed secret is bound to it (it is the
/// AEAD's associated data), so a sealed secret copied onto another credential or account does
/// not open.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct CredentialId(Box<str>);

impl CredentialId {
    /// A fresh random id.
    ///
    /// # Errors
    ///
    /// [`StoreError`] when the random source fails.
    pub fn generate() -> Result<Self, StoreError> {
        let mut raw = [0u8; 16];
        fill_random(&mut raw)?;
        Ok(Self(BASE64URL_NOPAD.encode(&raw).into_boxed_str()))
    }

    /// An id from its string form (for stores).
    #[must_use]
    pub fn new(id: impl Into<String>) -> Self {
        Self(id.into().into_boxed_str())
    }

    /// The string form.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for CredentialId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CredentialId({})", self.0)
    }
}

impl fmt::Display for CredentialId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

pub(crate) fn fill_random(buf: &mut [u8]) -> Result<(), StoreError> {
    getrandom::fill(buf).map_err(|e| StoreError::new(format!("random source failed: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_random_and_base32_round_trips() {
        let a = TotpSecret::generate().unwrap();
        let b = TotpSecret::generate().unwrap();
        assert_ne!(a, b);
        let rfc = TotpSecret::from_bytes(b"12345678901234567890".to_vec());
        assert_eq!(rfc.to_base32(), "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
        assert_eq!(TotpSecret::from_base32("not base32!"), None);
        assert_eq!(TotpSecret::from_base32(""), None);
    }

    #[test]
    fn credential_ids_are_128_bits() {
        let id = CredentialId::generate().unwrap();
        assert_eq!(
            BASE64URL_NOPAD
                .decode(id.as_str().as_bytes())
                .unwrap()
                .len(),
            16
        );
        assert_ne!(id, CredentialId::generate().unwrap());
    }
}
