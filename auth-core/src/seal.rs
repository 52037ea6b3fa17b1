//! Authenticated encryption under a server key: AES-256-GCM with a random 96-bit nonce, a
//! one-byte key id so keys can be rotated, and associated data that binds each sealed value to
//! what it belongs to (an account and credential, a login transaction's cookie name).
//!
//! [`SealingKey`] is the key (32 bytes from your secret store). The MFA module seals TOTP
//! secrets with it and the OpenID login module seals its login transactions; both write the
//! same format: `version (1) || key id (1) || nonce (12) || ciphertext || tag (16)`.

use std::fmt;
use std::sync::Arc;

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};

use crate::ConfigError;

/// Format version of a sealed value.
const VERSION: u8 = 1;

/// An AES-256-GCM key, with a one-byte id so keys can be rotated.
///
/// Keep it outside the stores it protects (environment, secret manager): a dump of the store
/// (or a cookie) then reveals nothing. `Debug` shows only the id.
///
/// ```
/// use auth_core::seal::SealingKey;
///
/// let key = SealingKey::new(1, &[7u8; 32])?;
/// assert_eq!(key.id(), 1);
/// assert_eq!(format!("{key:?}"), "SealingKey { id: 1, key: \"REDACTED\" }");
/// assert!(SealingKey::new(1, &[7u8; 16]).is_err());
/// # Ok::<(), auth_core::ConfigError>(())
/// ```
#[derive(Clone)]
pub struct SealingKey {
    id: u8,
    key: Arc<LessSafeKey>,
}

impl SealingKey {
    /// The key length: 32 bytes.
    pub const LEN: usize = 32;

    /// A key with id `id` from 32 bytes of key material (e.g. 32 random bytes, base64 in the
    /// environment).
    ///
    /// # Errors
    ///
    /// [`ConfigError::InvalidKey`] when `bytes` is not 32 bytes long.
    pub fn new(id: u8, bytes: &[u8]) -> Result<Self, ConfigError> {
        if bytes.len() != Self::LEN {
            return Err(ConfigError::InvalidKey {
                alg: "AES-256-GCM",
                reason: format!("a sealing key is 32 bytes, not {}", bytes.len()),
            });
        }
        let unbound =
            UnboundKey::new(&AES_256_GCM, bytes).map_err(|_| ConfigError::InvalidKey {
                alg: "AES-256-GCM",
                reason: "rejected by the aead implementation".to_owned(),
            })?;
        Ok(Self {
            id,
            key: Arc::new(LessSafeKey::new(unbound)),
        })
    }

    /// The key's id, written into every value it seals.
    #[must_use]
    pub const fn id(&self) -> u8 {
        self.id
    }
}

impl fmt::Debug for SealingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SealingKey")
            .field("id", &self.id)
            .field("key", &"REDACTED")
            .finish()
    }
}

/// Sealing failed (the random source or the cipher refused); never the caller's input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct SealFailed;

/// The current key (which seals) and previous keys (which still open), by id.
#[derive(Clone, Debug)]
pub(crate) struct Keys {
    current: SealingKey,
    previous: Vec<SealingKey>,
}

impl Keys {
    pub(crate) fn new(current: SealingKey) -> Self {
        Self {
            current,
            previous: Vec::new(),
        }
    }

    /// Also opens values sealed with `key`.
    pub(crate) fn with_previous(mut self, key: SealingKey) -> Result<Self, ConfigError> {
        if key.id == self.current.id || self.previous.iter().any(|k| k.id == key.id) {
            return Err(ConfigError::DuplicateKeyId(format!(
                "sealing key {}",
                key.id
            )));
        }
        self.previous.push(key);
        Ok(self)
    }

    #[cfg_attr(not(feature = "mfa"), allow(dead_code))]
    pub(crate) fn current(&self) -> &SealingKey {
        &self.current
    }

    /// Seals `plaintext` with the current key under a fresh random nonce, bound to `aad`.
    pub(crate) fn seal(&self, aad: &[u8], plaintext: &[u8]) -> Result<Vec<u8>, SealFailed> {
        let mut nonce = [0u8; NONCE_LEN];
        getrandom::fill(&mut nonce).map_err(|_| SealFailed)?;
        let mut in_out = plaintext.to_vec();
        self.current
            .key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(aad),
                &mut in_out,
            )
            .map_err(|_| SealFailed)?;
        let mut out = Vec::with_capacity(2 + NONCE_LEN + in_out.len());
        out.push(VERSION);
        out.push(self.current.id);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&in_out);
        Ok(out)
    }

    /// Opens what [`seal`](Self::seal) wrote with the same `aad`; `None` when it was sealed for
    /// other associated data, with an unknown key, or was altered or truncated.
    pub(crate) fn open(&self, aad: &[u8], sealed: &[u8]) -> Option<Vec<u8>> {
        let (&version, rest) = sealed.split_first()?;
        let (&key_id, rest) = rest.split_first()?;
        if version != VERSION || rest.len() < NONCE_LEN {
            return None;
        }
        let (nonce, ciphertext) = rest.split_at(NONCE_LEN);
        let key = std::iter::once(&self.current)
            .chain(&self.previous)
            .find(|k| k.id == key_id)?;
        let nonce = Nonce::try_assume_unique_for_key(nonce).ok()?;
        let mut in_out = ciphertext.to_vec();
        let plain = key
            .key
            .open_in_place(nonce, Aad::from(aad), &mut in_out)
            .ok()?;
        Some(plain.to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> Keys {
        Keys::new(SealingKey::new(5, &[4; 32]).unwrap())
    }

    #[test]
    fn a_sealed_value_opens_only_with_its_associated_data_and_a_known_key() {
        let k = keys();
        let sealed = k.seal(b"aad-1", b"hello").unwrap();
        assert_eq!(sealed.len(), 2 + 12 + 5 + 16);
        assert_eq!(sealed[1], 5);
        assert_eq!(k.open(b"aad-1", &sealed).as_deref(), Some(&b"hello"[..]));
        assert_eq!(k.open(b"aad-2", &sealed), None);
        let other = Keys::new(SealingKey::new(5, &[3; 32]).unwrap());
        assert_eq!(other.open(b"aad-1", &sealed), None);
        let mut tampered = sealed.clone();
        *tampered.last_mut().unwrap() ^= 1;
        assert_eq!(k.open(b"aad-1", &tampered), None);
        assert_eq!(k.open(b"aad-1", &sealed[..10]), None);
        assert_eq!(k.open(b"aad-1", &[]), None);
        assert_ne!(k.seal(b"aad-1", b"hello").unwrap(), sealed, "fresh nonce");
    }

    #[test]
    fn previous_keys_open_and_duplicate_ids_are_refused() {
        let old = keys();
        let sealed = old.seal(b"a", b"v").unwrap();
        let rotated = Keys::new(SealingKey::new(6, &[1; 32]).unwrap())
            .with_previous(SealingKey::new(5, &[4; 32]).unwrap())
            .unwrap();
        assert_eq!(rotated.open(b"a", &sealed).as_deref(), Some(&b"v"[..]));
        assert_eq!(rotated.current().id(), 6);
        assert!(
            rotated
                .with_previous(SealingKey::new(5, &[9; 32]).unwrap())
                .is_err()
        );
    }
}
