//! [`KeySet`]: the keys a verifier may use, and which of them a token selects.

use super::algorithm::Algorithm;
use super::key::VerificationKey;
use crate::error::ConfigError;

/// An immutable set of verification keys.
///
/// # Key selection
///
/// A token's header selects the keys its signature is checked with:
///
/// - a `kid` that names keys in the set selects those keys alone, and only the ones pinned to
///   the token's `alg` (naming a key of another algorithm is an `INVALID_TOKEN`);
/// - a `kid` that names no key selects the keys without a `kid` pinned to the token's `alg`;
/// - a token **without** `kid` is tried against the keys without a `kid` pinned to its `alg`
///   when the set has any; otherwise against the first keys pinned to its `alg`, in the set's
///   order, at most as many as
///   [`JwtVerifierBuilder::keys_tried_without_kid`](super::JwtVerifierBuilder::keys_tried_without_kid)
///   says (2 by default, at most 8). A token without `kid` signed by a later key of a large set
///   is refused rather than costing one signature check per key.
#[derive(Clone, Debug, Default)]
pub struct KeySet {
    keys: Vec<VerificationKey>,
}

/// The result of looking a token's `kid`/`alg` up in a [`KeySet`].
#[derive(Debug)]
pub(crate) enum Candidates<'a> {
    /// The keys to try, in order (non-empty).
    Keys(Chosen<'a>),
    /// A key has the token's `kid` but is pinned to another algorithm.
    AlgorithmMismatch,
    /// Nothing matches.
    None,
}

impl KeySet {
    /// A key set from keys.
    ///
    /// # Errors
    ///
    /// [`ConfigError::NoKeys`] when empty, [`ConfigError::DuplicateKeyId`] when two keys share
    /// a `kid`.
    pub fn new(keys: Vec<VerificationKey>) -> Result<Self, ConfigError> {
        if keys.is_empty() {
            return Err(ConfigError::NoKeys);
        }
        for (i, k) in keys.iter().enumerate() {
            if let Some(kid) = k.kid()
                && keys.iter().skip(i + 1).any(|o| o.kid() == Some(kid))
            {
                return Err(ConfigError::DuplicateKeyId(kid.to_owned()));
            }
        }
        Ok(Self { keys })
    }

    /// A set of one key (cannot fail: one key has no duplicate).
    #[cfg(feature = "issuer")]
    pub(crate) fn from_single(key: VerificationKey) -> Self {
        Self { keys: vec![key] }
    }

    /// The keys.
    #[must_use]
    pub fn keys(&self) -> &[VerificationKey] {
        &self.keys
    }

    /// Whether any key is pinned to `alg`.
    #[must_use]
    pub fn accepts(&self, alg: Algorithm) -> bool {
        self.keys.iter().any(|k| k.algorithm() == alg)
    }

    /// The keys a token with this `kid` and `alg` is checked with (see "Key selection"
    /// above); `without_kid` bounds the keys tried for a token without `kid` when the set has
    /// no key without `kid` for its `alg`.
    pub(crate) fn candidates(
        &self,
        kid: Option<&str>,
        alg: Algorithm,
        without_kid: usize,
    ) -> Candidates<'_> {
        if let Some(kid) = kid {
            // Several keys may share a `kid` when a fetched JWK without `alg` was expanded into
            // one key per allowed algorithm; each is still pinned to exactly one algorithm.
            let mut named = self.keys.iter().filter(|k| k.kid() == Some(kid)).peekable();
            if named.peek().is_some() {
                let keys = Chosen::of(named.filter(|k| k.algorithm() == alg));
                return if keys.is_empty() {
                    Candidates::AlgorithmMismatch
                } else {
                    Candidates::Keys(keys)
                };
            }
        }
        let pinned = || self.keys.iter().filter(|k| k.algorithm() == alg);
        let mut keys = Chosen::of(pinned().filter(|k| k.kid().is_none()));
        if keys.is_empty() && kid.is_none() {
            keys = Chosen::of(pinned().take(without_kid));
        }
        if keys.is_empty() {
            if self.keys.iter().any(|k| k.algorithm() != alg) && !self.accepts(alg) {
                return Candidates::AlgorithmMismatch;
            }
            Candidates::None
        } else {
            Candidates::Keys(keys)
        }
    }

    /// A key set read from a JWK Set: the same `kid` may appear once per algorithm (a JWK
    /// without `alg` expands to one pinned key per allowed algorithm), never twice for one.
    #[cfg(feature = "jwks")]
    pub(crate) fn from_fetched(keys: Vec<VerificationKey>) -> Result<Self, ConfigError> {
        if keys.is_empty() {
            return Err(ConfigError::NoKeys);
        }
        for (i, k) in keys.iter().enumerate() {
            if let Some(kid) = k.kid()
                && keys
                    .iter()
                    .skip(i + 1)
                    .any(|o| o.kid() == Some(kid) && o.algorithm() == k.algorithm())
            {
                return Err(ConfigError::DuplicateKeyId(kid.to_owned()));
            }
        }
        Ok(Self { keys })
    }
}

/// How many chosen keys are held without a heap allocation: a `kid` selects at most one key
/// per algorithm, a token without `kid` at most [`MAX_KEYS_TRIED_WITHOUT_KID`] keys, so only a
/// set with more keys without `kid` for one algorithm than this spills to the heap.
///
/// [`MAX_KEYS_TRIED_WITHOUT_KID`]: super::MAX_KEYS_TRIED_WITHOUT_KID
const INLINE_KEYS: usize = super::MAX_KEYS_TRIED_WITHOUT_KID;

/// The keys chosen for a token, in order: a slice held inline (no allocation per
/// verification) unless there are more than [`INLINE_KEYS`].
#[derive(Debug)]
pub(crate) enum Chosen<'a> {
    /// The first `len` entries are the keys; the rest repeat the first (never read).
    Inline([&'a VerificationKey; INLINE_KEYS], usize),
    /// More keys than fit inline.
    Spilled(Vec<&'a VerificationKey>),
    /// No key.
    Empty,
}

impl<'a> Chosen<'a> {
    fn of(mut keys: impl Iterator<Item = &'a VerificationKey>) -> Self {
        let Some(first) = keys.next() else {
            return Self::Empty;
        };
        let mut inline = [first; INLINE_KEYS];
        let mut len = 1;
        for k in keys.by_ref() {
            match inline.get_mut(len) {
                Some(slot) => {
                    *slot = k;
                    len += 1;
                }
                None => {
                    let mut all = inline.to_vec();
                    all.push(k);
                    all.extend(keys);
                    return Self::Spilled(all);
                }
            }
        }
        Self::Inline(inline, len)
    }
}

impl<'a> std::ops::Deref for Chosen<'a> {
    type Target = [&'a VerificationKey];

    fn deref(&self) -> &Self::Target {
        match self {
            Self::Inline(keys, len) => keys.get(..*len).unwrap_or(&[]),
            Self::Spilled(keys) => keys,
            Self::Empty => &[],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jwt::key::test_counter::signature_checks;

    const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    #[test]
    fn duplicate_kids_are_refused() {
        let k = VerificationKey::hmac(Algorithm::HS256, SECRET).unwrap();
        let err = KeySet::new(vec![k.clone().with_kid("a"), k.with_kid("a")]).unwrap_err();
        assert_eq!(err, ConfigError::DuplicateKeyId("a".into()));
        assert_eq!(KeySet::new(vec![]).unwrap_err(), ConfigError::NoKeys);
    }

    #[test]
    fn kid_pins_key_and_algorithm() {
        let hs = VerificationKey::hmac(Algorithm::HS256, SECRET)
            .unwrap()
            .with_kid("h");
        let set = KeySet::new(vec![hs]).unwrap();
        assert!(matches!(
            set.candidates(Some("h"), Algorithm::HS256, 2),
            Candidates::Keys(ref v) if v.len() == 1
        ));
        assert!(matches!(
            set.candidates(Some("h"), Algorithm::HS512, 2),
            Candidates::AlgorithmMismatch
        ));
        assert!(matches!(
            set.candidates(Some("zz"), Algorithm::HS256, 2),
            Candidates::None
        ));
        assert!(matches!(
            set.candidates(None, Algorithm::HS256, 2),
            Candidates::Keys(_)
        ));
    }

    /// HS256 keys `k0`..`k{n-1}`, each with its own secret.
    fn named_keys(n: u8) -> Vec<VerificationKey> {
        (0..n)
            .map(|i| {
                VerificationKey::hmac(Algorithm::HS256, [i; 32])
                    .unwrap()
                    .with_kid(format!("k{i}"))
            })
            .collect()
    }

    /// A token without `kid`, HS256-signed with the secret `[secret; 32]`.
    fn token_without_kid(secret: u8) -> String {
        use base64::Engine as _;
        let b64 = |b: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b);
        let input = format!(
            "{}.{}",
            b64(br#"{"alg":"HS256"}"#),
            b64(br#"{"sub":"a","aud":"api","exp":4000000000}"#)
        );
        let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, &[secret; 32]);
        let tag = aws_lc_rs::hmac::sign(&key, input.as_bytes());
        format!("{input}.{}", b64(tag.as_ref()))
    }

    /// The outcome of verifying `token` and how many signature checks it took.
    fn checks(
        verifier: &crate::jwt::JwtVerifier,
        token: &str,
    ) -> (Result<(), crate::AuthError>, u64) {
        let before = signature_checks();
        let r = verifier.verify_sync(token).map(|_| ());
        (r, signature_checks() - before)
    }

    fn verifier(keys: Vec<VerificationKey>) -> crate::jwt::JwtVerifierBuilder {
        crate::jwt::JwtVerifier::builder()
            .keys(keys)
            .audience("api")
    }

    // Issue 12, item 15: a token without `kid` was tried against every key pinned to its
    // `alg` (up to 100 with a large JWK Set); by default only the first two are tried now.
    #[test]
    fn a_token_without_kid_is_tried_against_at_most_two_named_keys_by_default() {
        let v = verifier(named_keys(10)).build().unwrap();
        assert_eq!(checks(&v, &token_without_kid(0)), (Ok(()), 1));
        assert_eq!(checks(&v, &token_without_kid(1)), (Ok(()), 2));
        let bad = Err(crate::AuthError::InvalidToken(
            crate::InvalidToken::BadSignature,
        ));
        assert_eq!(checks(&v, &token_without_kid(9)), (bad.clone(), 2));
        assert_eq!(checks(&v, &token_without_kid(200)), (bad, 2));
    }

    #[test]
    fn the_bound_on_keys_tried_without_kid_is_configurable_up_to_eight() {
        let v = verifier(named_keys(10))
            .keys_tried_without_kid(8)
            .build()
            .unwrap();
        assert_eq!(checks(&v, &token_without_kid(7)), (Ok(()), 8));
        assert_eq!(checks(&v, &token_without_kid(8)).1, 8);
        for n in [0, 9, 100] {
            assert!(matches!(
                verifier(named_keys(1)).keys_tried_without_kid(n).build(),
                Err(ConfigError::OutOfRange(_))
            ));
        }
    }

    #[test]
    fn a_token_without_kid_is_tried_only_against_keys_without_kid_when_there_are_some() {
        let mut keys = named_keys(3);
        keys.extend((100..103).map(|i| VerificationKey::hmac(Algorithm::HS256, [i; 32]).unwrap()));
        let v = verifier(keys).build().unwrap();
        assert_eq!(checks(&v, &token_without_kid(102)), (Ok(()), 3));
        // A named key is not tried for a token without kid here, though it comes first.
        assert_eq!(checks(&v, &token_without_kid(0)).1, 3);
        assert!(checks(&v, &token_without_kid(0)).0.is_err());
    }

    #[test]
    fn a_token_with_a_kid_is_checked_with_that_key_alone() {
        let set = KeySet::new(named_keys(10)).unwrap();
        assert!(matches!(
            set.candidates(Some("k9"), Algorithm::HS256, 2),
            Candidates::Keys(ref v) if v.len() == 1 && v[0].kid() == Some("k9")
        ));
        // Keys pinned to another algorithm are never candidates, and don't count.
        let mut mixed = vec![
            VerificationKey::hmac(Algorithm::HS512, [1u8; 64])
                .unwrap()
                .with_kid("big"),
        ];
        mixed.extend(named_keys(3));
        let set = KeySet::new(mixed).unwrap();
        let Candidates::Keys(v) = set.candidates(None, Algorithm::HS256, 2) else {
            panic!("no candidates");
        };
        let kids: Vec<_> = v.iter().map(|k| k.kid().unwrap()).collect();
        assert_eq!(kids, ["k0", "k1"]);
    }
}
