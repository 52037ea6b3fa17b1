//! The MFA login token (`mfa_token`): an opaque, single-use, short-lived handle on a login
//! whose password was right and whose second factor is still to come; and its store.

use std::fmt;

use async_trait::async_trait;
use data_encoding::BASE64URL_NOPAD;

use super::secret::fill_random;
use crate::clock::UnixTime;
use crate::constant_time::sha256;
use crate::store::StoreError;

const TOKEN_BYTES: usize = 32;
const TOKEN_LEN: usize = 43;

/// The longest binding string, in bytes.
pub const MAX_BINDING_LEN: usize = 64;

/// An MFA login token: 256 random bits, base64url (43 characters). Handed to the client once;
/// stores keep only its SHA-256 digest ([`MfaTokenHash`]). `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct MfaToken {
    encoded: String,
    hash: MfaTokenHash,
}

impl MfaToken {
    /// A fresh token.
    ///
    /// # Errors
    ///
    /// [`StoreError`] when the random source fails.
    pub fn generate() -> Result<Self, StoreError> {
        let mut raw = [0u8; TOKEN_BYTES];
        fill_random(&mut raw)?;
        Ok(Self {
            encoded: BASE64URL_NOPAD.encode(&raw),
            hash: MfaTokenHash(sha256(&raw)),
        })
    }

    /// The token, for the client.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.encoded
    }

    /// Its digest.
    #[must_use]
    pub fn hash(&self) -> MfaTokenHash {
        self.hash
    }

    /// The digest of a presented token; `None` when it is not a well-formed MFA token, so
    /// malformed input never reaches a store.
    ///
    /// ```
    /// use auth_core::mfa::MfaToken;
    ///
    /// let t = MfaToken::generate()?;
    /// assert_eq!(MfaToken::hash_of(t.as_str()), Some(t.hash()));
    /// assert_eq!(MfaToken::hash_of("short"), None);
    /// # Ok::<(), auth_core::store::StoreError>(())
    /// ```
    #[must_use]
    pub fn hash_of(presented: &str) -> Option<MfaTokenHash> {
        if presented.len() != TOKEN_LEN {
            return None;
        }
        let raw = BASE64URL_NOPAD.decode(presented.as_bytes()).ok()?;
        (raw.len() == TOKEN_BYTES).then(|| MfaTokenHash(sha256(&raw)))
    }
}

impl fmt::Debug for MfaToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MfaToken")
            .field("token", &"REDACTED")
            .field("hash", &self.hash)
            .finish()
    }
}

/// The SHA-256 digest of an [`MfaToken`]: what stores keep and look tokens up by. `Debug`
/// shows four bytes.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct MfaTokenHash([u8; 32]);

impl MfaTokenHash {
    /// A digest from its bytes.
    #[must_use]
    pub const fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// The bytes.
    #[must_use]
    pub const fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Debug for MfaTokenHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MfaTokenHash(")?;
        for b in self.0.iter().take(4) {
            write!(f, "{b:02x}")?;
        }
        f.write_str("..)")
    }
}

/// A login waiting for its second factor: whose, which kind of login it was (the
/// application's `binding`, e.g. `"api"` or `"session"`: what to answer once it completes),
/// and when the password was checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PendingLogin {
    subject: String,
    binding: String,
    started_at: UnixTime,
}

impl PendingLogin {
    /// A pending login of `subject`, of kind `binding`, started at `started_at`.
    #[must_use]
    pub fn new(
        subject: impl Into<String>,
        binding: impl Into<String>,
        started_at: UnixTime,
    ) -> Self {
        Self {
            subject: subject.into(),
            binding: binding.into(),
            started_at,
        }
    }

    /// The account (stable user id).
    #[must_use]
    pub fn subject(&self) -> &str {
        &self.subject
    }

    /// The kind of login, as the application named it.
    #[must_use]
    pub fn binding(&self) -> &str {
        &self.binding
    }

    /// When the password was checked.
    #[must_use]
    pub fn started_at(&self) -> UnixTime {
        self.started_at
    }
}

/// Storage for pending logins by [`MfaTokenHash`].
///
/// [`take`](Self::take) is one atomic step (read and delete), so a token completes at most one
/// login whatever the concurrency; [`get`](Self::get) lets a wrong code leave the token usable
/// until it expires.
#[async_trait]
pub trait MfaTokenStore: fmt::Debug + Send + Sync + 'static {
    /// Stores `login` under `token` until `expires_at`.
    ///
    /// # Errors
    ///
    /// [`StoreError`] when the backend fails or the digest exists.
    async fn insert(
        &self,
        token: &MfaTokenHash,
        login: &PendingLogin,
        expires_at: UnixTime,
        now: UnixTime,
    ) -> Result<(), StoreError>;

    /// The pending login of `token`; `None` when unknown, used or expired at `now`.
    ///
    /// # Errors
    ///
    /// [`StoreError`] when the backend fails.
    async fn get(
        &self,
        token: &MfaTokenHash,
        now: UnixTime,
    ) -> Result<Option<PendingLogin>, StoreError>;

    /// Atomically removes `token` and returns its pending login; `None` when unknown, used or
    /// expired at `now`.
    ///
    /// # Errors
    ///
    /// [`StoreError`] when the backend fails.
    async fn take(
        &self,
        token: &MfaTokenHash,
        now: UnixTime,
    ) -> Result<Option<PendingLogin>, StoreError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_256_bits_and_malformed_ones_have_no_digest() {
        let t = MfaToken::generate().unwrap();
        assert_eq!(t.as_str().len(), 43);
        assert_ne!(t, MfaToken::generate().unwrap());
        assert!(!format!("{t:?}").contains(t.as_str()));
        assert_eq!(MfaToken::hash_of(&t.as_str()[1..]), None);
        assert_eq!(MfaToken::hash_of(&format!("{}+", &t.as_str()[1..])), None);
        assert_eq!(MfaToken::hash_of(&"é".repeat(21)), None);
    }
}
