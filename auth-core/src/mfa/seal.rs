//! Sealing TOTP secrets at rest: AES-256-GCM under a server key, bound to the account and
//! the credential.

use std::fmt;

use data_encoding::BASE64URL_NOPAD;

use super::secret::{CredentialId, TotpSecret};
use crate::ConfigError;
use crate::seal::Keys;
pub use crate::seal::SealingKey;
use crate::store::StoreError;

/// Domain separation of the associated data.
const AAD_DOMAIN: &[u8] = b"auth-core/mfa/totp-secret/v1\0";

/// A TOTP secret as stored: version, key id, a random 96-bit nonce, the AES-256-GCM
/// ciphertext and tag. Its associated data is the account and the credential id, so it opens
/// only for the credential it was sealed for.
///
/// Stores keep it as bytes or as base64url ([`to_base64`](Self::to_base64)). `Debug` shows
/// only the key id and the length.
#[derive(Clone, PartialEq, Eq)]
pub struct SealedSecret(Box<[u8]>);

impl SealedSecret {
    /// A sealed secret from its bytes (read back from a store).
    #[must_use]
    pub fn from_bytes(bytes: impl Into<Box<[u8]>>) -> Self {
        Self(bytes.into())
    }

    /// Parses what [`to_base64`](Self::to_base64) wrote.
    #[must_use]
    pub fn from_base64(s: &str) -> Option<Self> {
        BASE64URL_NOPAD
            .decode(s.as_bytes())
            .ok()
            .map(|b| Self(b.into_boxed_slice()))
    }

    /// The bytes.
    #[must_use]
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// Unpadded base64url of the bytes.
    #[must_use]
    pub fn to_base64(&self) -> String {
        BASE64URL_NOPAD.encode(&self.0)
    }

    /// The id of the key that sealed it.
    #[must_use]
    pub fn key_id(&self) -> Option<u8> {
        self.0.get(1).copied()
    }
}

impl fmt::Debug for SealedSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SealedSecret")
            .field("key_id", &self.key_id())
            .field("len", &self.0.len())
            .finish()
    }
}

/// Seals secrets with the current [`SealingKey`] and opens them with it or with a previous
/// key (by the id written in the sealed form), so keys can be rotated without re-enrolling
/// anyone: add the new key as current and keep the old one as previous until every credential
/// has been re-enrolled (or has been re-sealed by the application).
///
/// ```
/// use auth_core::mfa::{CredentialId, SealingKey, SecretSealer, TotpSecret};
///
/// let old = SecretSealer::new(SealingKey::new(1, &[1; 32])?);
/// let secret = TotpSecret::generate()?;
/// let id = CredentialId::generate()?;
/// let sealed = old.seal("alice", &id, &secret)?;
///
/// let rotated = SecretSealer::new(SealingKey::new(2, &[2; 32])?)
///     .with_previous(SealingKey::new(1, &[1; 32])?)?;
/// assert_eq!(rotated.open("alice", &id, &sealed), Some(secret));
/// // Bound to its account and credential.
/// assert_eq!(rotated.open("mallory", &id, &sealed), None);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug)]
pub struct SecretSealer {
    keys: Keys,
}

impl SecretSealer {
    /// Seals and opens with `current`.
    #[must_use]
    pub fn new(current: SealingKey) -> Self {
        Self {
            keys: Keys::new(current),
        }
    }

    /// Also opens secrets sealed with `key`.
    ///
    /// # Errors
    ///
    /// [`ConfigError::DuplicateKeyId`] when a key with the same id is already configured.
    pub fn with_previous(self, key: SealingKey) -> Result<Self, ConfigError> {
        Ok(Self {
            keys: self.keys.with_previous(key)?,
        })
    }

    /// The key new secrets are sealed with.
    #[must_use]
    pub fn current(&self) -> &SealingKey {
        self.keys.current()
    }

    /// Seals `secret` for credential `id` of `account` under a fresh random nonce.
    ///
    /// # Errors
    ///
    /// [`StoreError`] when the random source or the cipher fails.
    pub fn seal(
        &self,
        account: &str,
        id: &CredentialId,
        secret: &TotpSecret,
    ) -> Result<SealedSecret, StoreError> {
        let sealed = self
            .keys
            .seal(&aad(account, id), secret.as_bytes())
            .map_err(|_| StoreError::new("sealing the totp secret failed"))?;
        Ok(SealedSecret(sealed.into_boxed_slice()))
    }

    /// Opens `sealed` for credential `id` of `account`; `None` when it was sealed for another
    /// credential or account, with an unknown key, or was altered.
    #[must_use]
    pub fn open(
        &self,
        account: &str,
        id: &CredentialId,
        sealed: &SealedSecret,
    ) -> Option<TotpSecret> {
        self.keys
            .open(&aad(account, id), &sealed.0)
            .map(TotpSecret::from_bytes)
    }
}

/// Associated data: domain, account, credential id (length-prefixed, so no two pairs share it).
fn aad(account: &str, id: &CredentialId) -> Vec<u8> {
    let mut v = Vec::with_capacity(AAD_DOMAIN.len() + 16 + account.len() + id.as_str().len());
    v.extend_from_slice(AAD_DOMAIN);
    v.extend_from_slice(
        &u64::try_from(account.len())
            .unwrap_or(u64::MAX)
            .to_be_bytes(),
    );
    v.extend_from_slice(account.as_bytes());
    v.extend_from_slice(id.as_str().as_bytes());
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sealer() -> SecretSealer {
        SecretSealer::new(SealingKey::new(3, &[9; 32]).unwrap())
    }

    #[test]
    fn sealed_secrets_hide_the_secret_and_open_back() {
        let s = sealer();
        let secret = TotpSecret::generate().unwrap();
        let id = CredentialId::generate().unwrap();
        let sealed = s.seal("alice", &id, &secret).unwrap();
        assert_eq!(sealed.as_bytes().len(), 2 + 12 + 20 + 16);
        assert_eq!(sealed.key_id(), Some(3));
        let raw = sealed.as_bytes();
        assert!(!raw.windows(20).any(|w| w == secret.as_bytes()));
        assert_eq!(s.open("alice", &id, &sealed), Some(secret.clone()));
        // Fresh nonce each time.
        assert_ne!(s.seal("alice", &id, &secret).unwrap(), sealed);
        assert_eq!(
            SealedSecret::from_base64(&sealed.to_base64()),
            Some(sealed.clone())
        );
        assert!(!format!("{sealed:?}").contains(&sealed.to_base64()));
    }

    #[test]
    fn a_sealed_secret_opens_only_for_its_account_credential_and_key() {
        let s = sealer();
        let secret = TotpSecret::generate().unwrap();
        let id = CredentialId::generate().unwrap();
        let sealed = s.seal("alice", &id, &secret).unwrap();
        assert_eq!(s.open("bob", &id, &sealed), None);
        assert_eq!(
            s.open("alice", &CredentialId::generate().unwrap(), &sealed),
            None
        );
        let other = SecretSealer::new(SealingKey::new(3, &[8; 32]).unwrap());
        assert_eq!(other.open("alice", &id, &sealed), None);
        let mut tampered = sealed.as_bytes().to_vec();
        *tampered.last_mut().unwrap() ^= 1;
        assert_eq!(
            s.open("alice", &id, &SealedSecret::from_bytes(tampered)),
            None
        );
        assert_eq!(
            s.open("alice", &id, &SealedSecret::from_bytes(vec![1])),
            None
        );
        assert_eq!(
            s.open("alice", &id, &SealedSecret::from_bytes(Vec::new())),
            None
        );
    }

    #[test]
    fn duplicate_key_ids_are_refused() {
        let s = sealer();
        assert!(
            s.clone()
                .with_previous(SealingKey::new(3, &[1; 32]).unwrap())
                .is_err()
        );
        let s = s
            .with_previous(SealingKey::new(4, &[1; 32]).unwrap())
            .unwrap();
        assert!(
            s.with_previous(SealingKey::new(4, &[2; 32]).unwrap())
                .is_err()
        );
    }
}
