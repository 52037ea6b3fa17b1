//! The refresh-token secret, its stored digest, and the family (session) id.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::constant_time::sha256;

/// Random bytes in a refresh token: 256 bits.
const TOKEN_BYTES: usize = 32;
/// Length of the base64url form of [`TOKEN_BYTES`].
const TOKEN_LEN: usize = 43;

/// An opaque refresh token: 256 random bits, base64url-encoded (43 characters). Not a JWT.
///
/// It is handed to the client once, when issued, and only its SHA-256 digest
/// ([`TokenHash`]) is ever stored. `Debug` never shows it.
///
/// ```
/// use auth_core::refresh::RefreshToken;
///
/// let token = RefreshToken::generate()?;
/// assert_eq!(token.as_str().len(), 43);
/// assert_eq!(RefreshToken::hash_of(token.as_str()), Some(token.hash()));
/// assert!(!format!("{token:?}").contains(token.as_str()));
/// # Ok::<(), auth_core::store::StoreError>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct RefreshToken {
    encoded: String,
    hash: TokenHash,
}

impl RefreshToken {
    /// A fresh token from the operating system's random source.
    ///
    /// # Errors
    ///
    /// A [`StoreError`](crate::store::StoreError) when the random source fails.
    pub fn generate() -> Result<Self, crate::store::StoreError> {
        let mut raw = [0u8; TOKEN_BYTES];
        getrandom::fill(&mut raw)
            .map_err(|e| crate::store::StoreError::new(format!("random source failed: {e}")))?;
        Ok(Self {
            encoded: URL_SAFE_NO_PAD.encode(raw),
            hash: TokenHash(sha256(&raw)),
        })
    }

    /// The token to hand to the client.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.encoded
    }

    /// The digest that is stored instead of the token.
    #[must_use]
    pub fn hash(&self) -> TokenHash {
        self.hash
    }

    /// The digest of a presented token, or `None` when it is not a well-formed refresh token
    /// (wrong length or alphabet), so malformed input never reaches a store.
    #[must_use]
    pub fn hash_of(presented: &str) -> Option<TokenHash> {
        if presented.len() != TOKEN_LEN {
            return None;
        }
        let mut raw = [0u8; TOKEN_BYTES];
        let n = URL_SAFE_NO_PAD.decode_slice(presented, &mut raw).ok()?;
        (n == TOKEN_BYTES).then(|| TokenHash(sha256(&raw)))
    }
}

impl fmt::Debug for RefreshToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RefreshToken")
            .field("token", &"REDACTED")
            .field("hash", &self.hash)
            .finish()
    }
}

/// The SHA-256 digest of a refresh token: what stores keep and look tokens up by.
///
/// Knowing a digest does not let anyone present the token (SHA-256 is preimage-resistant and
/// the token has 256 bits of entropy), so a leaked store does not leak sessions. `Debug` shows
/// only the first four bytes, enough to correlate log lines.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct TokenHash([u8; 32]);

impl TokenHash {
    /// A digest from its bytes (for store implementations that persist digests).
    ///
    /// ```
    /// use auth_core::refresh::TokenHash;
    ///
    /// let h = TokenHash::from_bytes([9; 32]);
    /// assert_eq!(h.as_bytes(), &[9; 32]);
    /// ```
    #[must_use]
    pub const fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// The digest's bytes.
    #[must_use]
    pub const fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Debug for TokenHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TokenHash(")?;
        for b in self.0.iter().take(4) {
            write!(f, "{b:02x}")?;
        }
        f.write_str("..)")
    }
}

/// The id of a token family: every refresh token that descends from one login (one session).
///
/// ```
/// use auth_core::refresh::FamilyId;
///
/// let a = FamilyId::generate()?;
/// assert_ne!(a, FamilyId::generate()?);
/// assert_eq!(FamilyId::new(a.as_str()), a);
/// # Ok::<(), auth_core::store::StoreError>(())
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct FamilyId(Box<str>);

impl FamilyId {
    /// A fresh random id (128 bits, base64url).
    ///
    /// # Errors
    ///
    /// A [`StoreError`](crate::store::StoreError) when the random source fails.
    pub fn generate() -> Result<Self, crate::store::StoreError> {
        let mut raw = [0u8; 16];
        getrandom::fill(&mut raw)
            .map_err(|e| crate::store::StoreError::new(format!("random source failed: {e}")))?;
        Ok(Self(URL_SAFE_NO_PAD.encode(raw).into_boxed_str()))
    }

    /// An id from its string form (for store implementations that persist ids).
    #[must_use]
    pub fn new(id: impl Into<String>) -> Self {
        Self(id.into().into_boxed_str())
    }

    /// The id's string form (not secret; safe to log).
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for FamilyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "FamilyId({})", self.0)
    }
}

impl fmt::Display for FamilyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_256_random_bits_and_unique() {
        let a = RefreshToken::generate().unwrap();
        let b = RefreshToken::generate().unwrap();
        assert_ne!(a, b);
        assert_eq!(URL_SAFE_NO_PAD.decode(a.as_str()).unwrap().len(), 32);
    }

    #[test]
    fn malformed_presented_tokens_have_no_hash() {
        let good = RefreshToken::generate().unwrap();
        assert!(RefreshToken::hash_of(good.as_str()).is_some());
        assert!(RefreshToken::hash_of("").is_none());
        assert!(RefreshToken::hash_of(&good.as_str()[1..]).is_none());
        let bad_alphabet = format!("{}+", &good.as_str()[1..]);
        assert!(RefreshToken::hash_of(&bad_alphabet).is_none());
        let jwt_like = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhIn0.c2ln";
        assert!(RefreshToken::hash_of(jwt_like).is_none());
    }

    #[test]
    fn hash_debug_is_a_short_prefix() {
        let h = TokenHash::from_bytes([0xab; 32]);
        assert_eq!(format!("{h:?}"), "TokenHash(abababab..)");
    }
}
