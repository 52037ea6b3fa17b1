//! [`KeyRing`]: one active signing key plus the verification keys that are still (or already)
//! trusted, shared by a [`TokenIssuer`](super::TokenIssuer) and the
//! [`JwtVerifier`](super::JwtVerifier)s that check its tokens.

use std::fmt;
use std::sync::{Arc, PoisonError, RwLock};

use super::jwk_set::PublicJwkSet;
use super::key::VerificationKey;
use super::key_set::KeySet;
use super::resolver::KeyResolver;
use super::signing::SigningKey;
use crate::error::ConfigError;

/// The keys of one issuer: exactly one **active** signing key, and any number of further
/// **verification** keys (the previous keys, kept until every token they signed has expired,
/// and next keys, published before they sign anything so that caches of the key set learn them
/// in time).
///
/// A `KeyRing` is a shared handle (clones see the same keys) and a [`KeyResolver`]: build the
/// verifier with `JwtVerifier::builder().key_resolver(ring.clone())` (or
/// [`TokenIssuer::verifier_builder`](super::TokenIssuer::verifier_builder)) and the issuer and
/// every verifier read one source of truth. Rotation is live: no verifier needs rebuilding.
///
/// # Rotating without logging anyone out
///
/// 1. optionally [`publish`](Self::publish) the next key (verifiers and JWKS caches learn it);
/// 2. [`rotate`](Self::rotate) to it: new tokens are signed with it, and the previous key stays
///    a verification key, so tokens it signed keep working;
/// 3. once the longest token lifetime (plus leeway) has passed, [`retire`](Self::retire) the
///    previous key: tokens it signed are then `INVALID_TOKEN`.
///
/// ```
/// use auth_core::jwt::{Algorithm, KeyRing, SigningKey};
///
/// let ring = KeyRing::new(SigningKey::generate(Algorithm::ES256, "2026-01")?);
/// ring.rotate(SigningKey::generate(Algorithm::ES256, "2026-02")?)?;
/// assert_eq!(ring.active_kid(), "2026-02");
/// assert_eq!(ring.kids(), ["2026-02", "2026-01"]);
///
/// assert!(ring.retire("2026-01"));
/// assert_eq!(ring.kids(), ["2026-02"]);
/// assert!(!ring.retire("2026-02"), "the active key cannot be retired");
/// # Ok::<(), auth_core::ConfigError>(())
/// ```
#[derive(Clone)]
pub struct KeyRing {
    state: Arc<RwLock<Arc<RingState>>>,
}

/// One consistent view of the ring; replaced whole on every change.
pub(crate) struct RingState {
    pub(crate) active: SigningKey,
    /// Verification-only keys, newest first; never the active key's kid.
    others: Vec<TrustedKey>,
    /// The active key and the others, ready for the verifier.
    key_set: Arc<KeySet>,
}

/// A verification-only key, and whether [`KeyRing::public_jwks`] publishes it (keys that came
/// from this ring's signing keys are; keys added with `add_verification_key` are not).
#[derive(Clone)]
struct TrustedKey {
    verification: VerificationKey,
    published: bool,
}

impl TrustedKey {
    fn of(key: &SigningKey) -> Self {
        Self {
            verification: key.verification_key(),
            published: true,
        }
    }

    fn kid(&self) -> Option<&str> {
        self.verification.kid()
    }
}

impl RingState {
    fn new(active: SigningKey, others: Vec<TrustedKey>) -> Result<Self, ConfigError> {
        let mut keys = Vec::with_capacity(others.len() + 1);
        keys.push(active.verification_key());
        keys.extend(others.iter().map(|k| k.verification.clone()));
        let key_set = Arc::new(KeySet::new(keys)?);
        Ok(Self {
            active,
            others,
            key_set,
        })
    }
}

impl KeyRing {
    /// A ring whose only key is `active`.
    #[must_use]
    pub fn new(active: SigningKey) -> Self {
        let key_set = Arc::new(KeySet::from_single(active.verification_key()));
        Self {
            state: Arc::new(RwLock::new(Arc::new(RingState {
                active,
                others: Vec::new(),
                key_set,
            }))),
        }
    }

    pub(crate) fn snapshot(&self) -> Arc<RingState> {
        Arc::clone(&self.state.read().unwrap_or_else(PoisonError::into_inner))
    }

    /// Applies `change` to the current state as one step: readers see the old or the new ring,
    /// never a mix.
    fn update<T>(
        &self,
        change: impl FnOnce(&RingState) -> Result<(RingState, T), ConfigError>,
    ) -> Result<T, ConfigError> {
        let mut guard = self.state.write().unwrap_or_else(PoisonError::into_inner);
        let (next, out) = change(&guard)?;
        *guard = Arc::new(next);
        Ok(out)
    }

    /// Trusts `next`'s public half for verification (and publishes its JWK) without signing
    /// with it yet. A later [`rotate`](Self::rotate) to the same `kid` makes it active.
    ///
    /// # Errors
    ///
    /// [`ConfigError::DuplicateKeyId`] when the ring already has a key with that `kid`.
    pub fn publish(&self, next: &SigningKey) -> Result<(), ConfigError> {
        self.add(TrustedKey::of(next))
    }

    /// Trusts an extra verification key (for example another issuer instance's public key).
    /// It is not published by [`public_jwks`](Self::public_jwks): the ring did not sign with it.
    ///
    /// # Errors
    ///
    /// [`ConfigError::EmptyValue`] when the key has no `kid` (a ring names every key),
    /// [`ConfigError::DuplicateKeyId`] when the ring already has a key with that `kid`.
    pub fn add_verification_key(&self, key: VerificationKey) -> Result<(), ConfigError> {
        if key.kid().is_none() {
            return Err(ConfigError::EmptyValue("kid"));
        }
        self.add(TrustedKey {
            verification: key,
            published: false,
        })
    }

    fn add(&self, key: TrustedKey) -> Result<(), ConfigError> {
        self.update(|s| {
            let mut others = Vec::with_capacity(s.others.len() + 1);
            others.push(key);
            others.extend(s.others.iter().cloned());
            Ok((RingState::new(s.active.clone(), others)?, ()))
        })
    }

    /// Makes `new_active` the signing key. The previous active key stays trusted for
    /// verification (only its public half is kept) until [`retire`](Self::retire)d; a key
    /// published earlier under the same `kid` is replaced by it.
    ///
    /// # Errors
    ///
    /// [`ConfigError::DuplicateKeyId`] when `new_active` has the active key's `kid`.
    pub fn rotate(&self, new_active: SigningKey) -> Result<(), ConfigError> {
        self.update(|s| {
            if s.active.kid() == new_active.kid() {
                return Err(ConfigError::DuplicateKeyId(new_active.kid().to_owned()));
            }
            let mut others = Vec::with_capacity(s.others.len() + 1);
            others.push(TrustedKey::of(&s.active));
            others.extend(
                s.others
                    .iter()
                    .filter(|k| k.kid() != Some(new_active.kid()))
                    .cloned(),
            );
            Ok((RingState::new(new_active, others)?, ()))
        })
    }

    /// Stops trusting the verification key `kid`: tokens it signed are `INVALID_TOKEN` from now
    /// on. Returns whether a key was removed; the active key is never removed.
    pub fn retire(&self, kid: &str) -> bool {
        self.update(|s| {
            if !s.others.iter().any(|k| k.kid() == Some(kid)) {
                return Err(ConfigError::EmptyValue("retired kid"));
            }
            let others = s
                .others
                .iter()
                .filter(|k| k.kid() != Some(kid))
                .cloned()
                .collect();
            Ok((RingState::new(s.active.clone(), others)?, ()))
        })
        .is_ok()
    }

    /// The active key's `kid`.
    #[must_use]
    pub fn active_kid(&self) -> String {
        self.snapshot().active.kid().to_owned()
    }

    /// Every trusted `kid`, the active one first.
    #[must_use]
    pub fn kids(&self) -> Vec<String> {
        let s = self.snapshot();
        s.key_set
            .keys()
            .iter()
            .filter_map(|k| k.kid().map(str::to_owned))
            .collect()
    }

    /// The verification keys (active first), as a verifier uses them.
    #[must_use]
    pub fn verification_keys(&self) -> Arc<KeySet> {
        Arc::clone(&self.snapshot().key_set)
    }

    /// The public JWKs of every trusted asymmetric key, the active one first, ready to serve
    /// as a JWKS document. HMAC keys are never included: their secret is not public.
    ///
    /// ```
    /// use auth_core::jwt::{Algorithm, KeyRing, SigningKey};
    ///
    /// let ring = KeyRing::new(SigningKey::generate(Algorithm::RS256, "rsa-1")?);
    /// ring.publish(&SigningKey::generate(Algorithm::RS256, "rsa-2")?)?;
    /// let doc: serde_json::Value = serde_json::from_str(&ring.public_jwks().to_json()).unwrap();
    /// assert_eq!(doc["keys"][0]["kid"], "rsa-1");
    /// assert_eq!(doc["keys"][1]["kid"], "rsa-2");
    /// assert!(doc["keys"][0].get("d").is_none());
    /// # Ok::<(), auth_core::ConfigError>(())
    /// ```
    #[must_use]
    pub fn public_jwks(&self) -> PublicJwkSet {
        let s = self.snapshot();
        let active = s.active.verification_key();
        let keys = std::iter::once(&active).chain(
            s.others
                .iter()
                .filter(|k| k.published)
                .map(|k| &k.verification),
        );
        // Kids are unique within a ring (checked whenever a key joins), so no duplicate can
        // be refused here; symmetric keys are left out by `PublicJwkSet` itself.
        PublicJwkSet::from_keys(keys).unwrap_or_default()
    }
}

impl KeyResolver for KeyRing {
    fn current(&self) -> Option<Arc<KeySet>> {
        Some(self.verification_keys())
    }
}

impl fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.snapshot();
        f.debug_struct("KeyRing")
            .field("active", &s.active)
            .field(
                "verification_only",
                &s.others.iter().map(TrustedKey::kid).collect::<Vec<_>>(),
            )
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jwt::Algorithm;

    fn hs(kid: &str) -> SigningKey {
        SigningKey::generate(Algorithm::HS256, kid).unwrap()
    }

    #[test]
    fn rotating_keeps_the_previous_key_for_verification() {
        let ring = KeyRing::new(hs("a"));
        ring.rotate(hs("b")).unwrap();
        ring.rotate(hs("c")).unwrap();
        assert_eq!(ring.active_kid(), "c");
        assert_eq!(ring.kids(), ["c", "b", "a"]);
    }

    #[test]
    fn rotating_to_a_published_key_does_not_duplicate_it() {
        let ring = KeyRing::new(hs("a"));
        let next = hs("b");
        ring.publish(&next).unwrap();
        assert_eq!(ring.active_kid(), "a");
        assert_eq!(ring.kids(), ["a", "b"]);
        ring.rotate(next).unwrap();
        assert_eq!(ring.kids(), ["b", "a"]);
    }

    #[test]
    fn duplicate_kids_are_refused() {
        let ring = KeyRing::new(hs("a"));
        assert!(matches!(
            ring.rotate(hs("a")),
            Err(ConfigError::DuplicateKeyId(_))
        ));
        ring.publish(&hs("b")).unwrap();
        assert!(ring.publish(&hs("b")).is_err());
        let anonymous = VerificationKey::hmac(Algorithm::HS256, [3u8; 32]).unwrap();
        assert_eq!(
            ring.add_verification_key(anonymous),
            Err(ConfigError::EmptyValue("kid"))
        );
    }

    #[test]
    fn retiring_unknown_or_active_keys_changes_nothing() {
        let ring = KeyRing::new(hs("a"));
        assert!(!ring.retire("a"));
        assert!(!ring.retire("zz"));
        assert_eq!(ring.kids(), ["a"]);
    }

    #[test]
    fn clones_share_rotations() {
        let ring = KeyRing::new(hs("a"));
        let other = ring.clone();
        ring.rotate(hs("b")).unwrap();
        assert_eq!(other.active_kid(), "b");
        assert_eq!(other.current().unwrap().keys().len(), 2);
    }

    #[test]
    fn hmac_keys_are_never_published() {
        let ring = KeyRing::new(hs("a"));
        assert!(ring.public_jwks().is_empty());
    }
}
