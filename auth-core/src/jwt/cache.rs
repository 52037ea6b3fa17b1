//! [`TokenCache`]: verified tokens remembered, so a token seen before skips its signature check.

use std::fmt;
use std::hash::{Hash, Hasher};
use std::num::NonZeroUsize;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use super::verifier::{JwtVerifier, Verify};
use crate::clock::UnixTime;
use crate::principal::Principal;

/// How long an entry may live when [`TokenCache::max_ttl`] is not set.
pub const DEFAULT_TOKEN_CACHE_TTL: Duration = Duration::from_secs(300);

/// A bounded cache from a token to the [`Principal`] its verification produced.
///
/// Clients reuse an access token for its whole lifetime, so most requests carry a token the
/// server has verified before. For those, [`verify`](Self::verify) answers from the cache
/// without decoding the header, checking the signature or parsing the claims again. What is
/// **not** skipped on a hit:
///
/// - the time claims: `exp`, `nbf` and `iat` are checked against the verifier's clock with
///   its leeway on every hit, exactly as for a fresh token, so an expired cached token is
///   refused with `TOKEN_EXPIRED`;
/// - revocation: the cache sits in front of the signature check only, and `BearerLayer`
///   consults its revocation store after every verification, cached or not.
///
/// What is cached, and for how long:
///
/// - only successes: a token that fails verification is never remembered, so a flood of bad
///   tokens costs full verifications but no memory;
/// - a hit needs the byte-identical token: the key is the token itself (compared in full, not
///   by a truncated hash), so a different token can never be served another's principal;
/// - an entry lives at most until the token's `exp` and at most [`max_ttl`](Self::max_ttl)
///   after it was verified; past either, the token is
///   verified again (and then refused, if it has expired);
/// - at most [`capacity`](Self::capacity) entries. Eviction is S3-FIFO (the `quick_cache`
///   crate): tokens seen only once are evicted before tokens in repeated use, so a flood of
///   distinct valid tokens neither grows the cache nor pushes out the tokens of regular
///   clients. Memory is bounded by the capacity times (token length, at most the verifier's
///   maximum token length, plus the principal).
///
/// One cache serves one verifier: a cached principal was accepted under that verifier's keys,
/// issuers and audiences. Key rotation does not invalidate entries (a token signed by a key that
/// was trusted when it was verified stays accepted until `exp` or `max_ttl`); call
/// [`clear`](Self::clear) after removing a compromised key, or keep `max_ttl` short.
///
/// Cheap to clone (one reference count); clones share the entries.
///
/// ```
/// use auth_core::jwt::{Algorithm, JwtVerifier, TokenCache, VerificationKey};
/// use auth_core::clock::{ManualClock, UnixTime};
/// use auth_core::ErrorCode;
/// use std::num::NonZeroUsize;
/// use std::time::Duration;
///
/// let secret = b"an example secret of at least thirty-two bytes";
/// let clock = ManualClock::new(UnixTime::from_secs(1_700_000_000));
/// let verifier = JwtVerifier::builder()
///     .key(VerificationKey::hmac(Algorithm::HS256, secret)?)
///     .audience("api")
///     .clock(clock.clone())
///     .build()?;
/// let cache = TokenCache::new(NonZeroUsize::new(10_000).unwrap(), Duration::from_secs(600));
///
/// let claims = serde_json::json!({"sub": "alice", "aud": "api", "exp": 1_700_000_060u64});
/// let token = jsonwebtoken::encode(
///     &jsonwebtoken::Header::default(),
///     &claims,
///     &jsonwebtoken::EncodingKey::from_secret(secret),
/// )?;
/// let first = cache.verify(&verifier, &token).into_ready().unwrap()?; // verified, cached
/// let again = cache.verify(&verifier, &token).into_ready().unwrap()?; // from the cache
/// assert_eq!(again.subject(), first.subject());
/// assert_eq!((cache.hits(), cache.misses()), (1, 1));
///
/// clock.advance(Duration::from_secs(120)); // past exp + 30 s leeway
/// let expired = cache.verify(&verifier, &token).into_ready().unwrap();
/// assert_eq!(expired.unwrap_err().code(), ErrorCode::TokenExpired);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct TokenCache {
    inner: Arc<Inner>,
}

struct Inner {
    map: quick_cache::sync::Cache<Key, Entry>,
    max_ttl: Duration,
    hits: AtomicU64,
    misses: AtomicU64,
}

/// How many trailing bytes of a token are hashed.
const HASHED_TAIL: usize = 32;

/// Hashes a token by its length and its last [`HASHED_TAIL`] bytes: the end of the signature,
/// which differs between any two valid tokens (the cache only ever holds verified ones). The
/// hasher is keyed per process (foldhash, randomly seeded), and equality always compares the
/// whole token, so this only saves hashing the rest of a token of several hundred bytes on
/// every request; it never lets one token match another.
fn hash_token<H: Hasher>(token: &str, state: &mut H) {
    let bytes = token.as_bytes();
    state.write_usize(bytes.len());
    state.write(
        bytes
            .get(bytes.len().saturating_sub(HASHED_TAIL)..)
            .unwrap_or(bytes),
    );
}

/// A cached token (the whole token: a hit needs the byte-identical token).
#[derive(PartialEq, Eq)]
struct Key(Box<str>);

impl Hash for Key {
    fn hash<H: Hasher>(&self, state: &mut H) {
        hash_token(&self.0, state);
    }
}

/// A token being looked up, borrowed from the request.
struct Probe<'a>(&'a str);

impl Hash for Probe<'_> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        hash_token(self.0, state);
    }
}

impl quick_cache::Equivalent<Key> for Probe<'_> {
    fn equivalent(&self, key: &Key) -> bool {
        *self.0 == *key.0
    }
}

#[derive(Clone)]
struct Entry {
    principal: Principal,
    /// `min(exp, verified at + max_ttl)`: from then on the token is verified afresh.
    until: UnixTime,
}

impl fmt::Debug for TokenCache {
    // Never the keys: they are bearer tokens.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenCache")
            .field("len", &self.len())
            .field("capacity", &self.capacity())
            .field("max_ttl", &self.inner.max_ttl)
            .field("hits", &self.hits())
            .field("misses", &self.misses())
            .finish()
    }
}

impl TokenCache {
    /// A cache holding at most `capacity` verified tokens (see [`capacity`](Self::capacity)
    /// for the exact bound), each for at most `max_ttl` after it was verified (and never past
    /// the token's `exp`). A shorter `max_ttl` bounds how long a token stays accepted after its
    /// key is removed from the verifier; [`DEFAULT_TOKEN_CACHE_TTL`] is a reasonable default.
    /// A zero `max_ttl` caches nothing.
    #[must_use]
    pub fn new(capacity: NonZeroUsize, max_ttl: Duration) -> Self {
        Self {
            inner: Arc::new(Inner {
                map: quick_cache::sync::Cache::new(capacity.get()),
                max_ttl,
                hits: AtomicU64::new(0),
                misses: AtomicU64::new(0),
            }),
        }
    }

    /// The longest an entry lives after its token was verified.
    #[must_use]
    pub fn max_ttl(&self) -> Duration {
        self.inner.max_ttl
    }

    /// Verifies `token` with `verifier`, answering from the cache when this exact token was
    /// verified before and its entry is still fresh; the time claims are checked either way.
    /// On a miss, the verification runs as [`JwtVerifier::verify`] and a success is cached.
    ///
    /// Like [`JwtVerifier::verify`], the returned future is already complete unless a key must
    /// be fetched.
    pub fn verify(&self, verifier: &JwtVerifier, token: &str) -> Verify {
        let i = &*self.inner;
        if let Some(entry) = i.map.get(&Probe(token)) {
            let now = verifier.clock().now();
            if now < entry.until {
                i.hits.fetch_add(1, Ordering::Relaxed);
                crate::metrics::token_cache_lookup(true);
                return Verify::ready(
                    verifier
                        .recheck_times(&entry.principal, now)
                        .map(|()| entry.principal),
                );
            }
            // Past its exp or its max_ttl: verify again (an expired token is refused there).
            i.map.remove(&Probe(token));
        }
        i.misses.fetch_add(1, Ordering::Relaxed);
        crate::metrics::token_cache_lookup(false);
        match verifier.verify(token).into_ready() {
            Ok(result) => {
                if let Ok(principal) = &result {
                    self.insert(Key(token.into()), principal, verifier.clock().now());
                }
                Verify::ready(result)
            }
            // A key is being fetched (JWKS): cache the outcome once it is known.
            Err(pending) => {
                let cache = self.clone();
                let clock = Arc::clone(verifier.clock());
                let key = Key(token.into());
                pending.inspect(move |principal| cache.insert(key, principal, clock.now()))
            }
        }
    }

    fn insert(&self, token: Key, principal: &Principal, now: UnixTime) {
        let i = &*self.inner;
        let Some(exp) = principal.expires_at() else {
            return;
        };
        let until = exp.min(now.saturating_add(i.max_ttl));
        if until > now {
            i.map.insert(
                token,
                Entry {
                    principal: principal.clone(),
                    until,
                },
            );
        }
    }

    /// Forgets every entry (e.g. after removing a key from the verifier).
    pub fn clear(&self) {
        self.inner.map.clear();
    }

    /// The number of cached tokens.
    #[must_use]
    pub fn len(&self) -> usize {
        self.inner.map.len()
    }

    /// Whether nothing is cached.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.inner.map.is_empty()
    }

    /// The most entries the cache ever holds: the requested capacity, rounded up by at most
    /// one entry per internal shard (the cache is sharded by the token's hash).
    #[must_use]
    pub fn capacity(&self) -> u64 {
        self.inner.map.capacity()
    }

    /// How many verifications were answered from the cache.
    #[must_use]
    pub fn hits(&self) -> u64 {
        self.inner.hits.load(Ordering::Relaxed)
    }

    /// How many verifications ran in full (first sight, evicted or stale entries).
    #[must_use]
    pub fn misses(&self) -> u64 {
        self.inner.misses.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorCode;
    use crate::clock::ManualClock;
    use crate::jwt::key::test_counter::signature_checks;
    use crate::jwt::{Algorithm, VerificationKey};

    const SECRET: &[u8] = b"token-cache test secret, 32 bytes+";
    const T0: u64 = 1_700_000_000;

    fn setup() -> (JwtVerifier, ManualClock) {
        let clock = ManualClock::new(UnixTime::from_secs(T0));
        let verifier = JwtVerifier::builder()
            .key(VerificationKey::hmac(Algorithm::HS256, SECRET).unwrap())
            .audience("api")
            .clock(clock.clone())
            .build()
            .unwrap();
        (verifier, clock)
    }

    fn token(sub: &str, exp: u64, nbf: Option<u64>) -> String {
        let mut claims = serde_json::json!({"sub": sub, "aud": "api", "exp": exp, "iat": T0});
        if let Some(nbf) = nbf {
            claims["nbf"] = nbf.into();
        }
        jsonwebtoken::encode(
            &jsonwebtoken::Header::default(),
            &claims,
            &jsonwebtoken::EncodingKey::from_secret(SECRET),
        )
        .unwrap()
    }

    fn cache(capacity: usize, ttl_secs: u64) -> TokenCache {
        TokenCache::new(
            NonZeroUsize::new(capacity).unwrap(),
            Duration::from_secs(ttl_secs),
        )
    }

    fn check(cache: &TokenCache, v: &JwtVerifier, token: &str) -> Result<Principal, ErrorCode> {
        cache
            .verify(v, token)
            .into_ready()
            .unwrap()
            .map_err(|e| e.code())
    }

    #[test]
    fn a_hit_skips_the_signature_check() {
        let (v, _clock) = setup();
        let cache = cache(100, 600);
        let t = token("alice", T0 + 3600, None);
        let before = signature_checks();
        assert_eq!(check(&cache, &v, &t).unwrap().subject(), "alice");
        assert_eq!(signature_checks() - before, 1);
        for _ in 0..10 {
            assert_eq!(check(&cache, &v, &t).unwrap().subject(), "alice");
        }
        assert_eq!(signature_checks() - before, 1, "hits verify no signature");
        assert_eq!((cache.hits(), cache.misses(), cache.len()), (10, 1, 1));
    }

    #[cfg(feature = "metrics")]
    #[test]
    fn lookups_are_counted_as_hits_and_misses() {
        use metrics_util::debugging::{DebugValue, DebuggingRecorder};
        let (v, _clock) = setup();
        let cache = cache(100, 600);
        let t = token("alice", T0 + 3600, None);
        let recorder = DebuggingRecorder::new();
        let snapshotter = recorder.snapshotter();
        ::metrics::with_local_recorder(&recorder, || {
            for _ in 0..4 {
                check(&cache, &v, &t).unwrap();
            }
        });
        let mut counts: Vec<(String, u64)> = snapshotter
            .snapshot()
            .into_vec()
            .into_iter()
            .filter(|(k, ..)| k.key().name() == crate::metrics::name::TOKEN_CACHE_LOOKUPS)
            .map(|(k, _, _, v)| {
                let label = k.key().labels().map(|l| l.value().to_owned()).collect();
                let DebugValue::Counter(n) = v else {
                    panic!("a counter")
                };
                (label, n)
            })
            .collect();
        counts.sort();
        assert_eq!(counts, [("hit".to_owned(), 3), ("miss".to_owned(), 1)]);
    }

    #[test]
    fn an_expired_cached_token_is_refused() {
        let (v, clock) = setup();
        let cache = cache(100, 3600);
        let t = token("alice", T0 + 60, None);
        check(&cache, &v, &t).unwrap();
        // Within the leeway past exp: no longer served from the cache, verified again (and
        // still accepted, as a fresh verification would).
        clock.advance(Duration::from_secs(70));
        let before = signature_checks();
        check(&cache, &v, &t).unwrap();
        assert_eq!(signature_checks() - before, 1);
        clock.advance(Duration::from_secs(30)); // exp + 40 s > 30 s leeway
        assert_eq!(check(&cache, &v, &t).unwrap_err(), ErrorCode::TokenExpired);
        assert!(cache.is_empty(), "an expired token is not cached again");
    }

    #[test]
    fn time_claims_are_rechecked_on_every_hit() {
        let (v, clock) = setup();
        let cache = cache(100, 3600);
        let t = token("alice", T0 + 3600, Some(T0));
        check(&cache, &v, &t).unwrap();
        // The clock goes back before nbf - leeway: the hit must not hide it.
        clock.set(UnixTime::from_secs(T0 - 60));
        let before = signature_checks();
        assert_eq!(
            check(&cache, &v, &t).unwrap_err(),
            ErrorCode::TokenNotYetValid
        );
        assert_eq!(signature_checks(), before, "answered from the entry");
        assert_eq!(cache.hits(), 1);
    }

    #[test]
    fn an_entry_lives_at_most_max_ttl() {
        let (v, clock) = setup();
        let cache = cache(100, 60);
        let t = token("alice", T0 + 3600, None);
        check(&cache, &v, &t).unwrap();
        clock.advance(Duration::from_secs(59));
        let before = signature_checks();
        check(&cache, &v, &t).unwrap();
        assert_eq!(signature_checks(), before);
        clock.advance(Duration::from_secs(1));
        check(&cache, &v, &t).unwrap();
        assert_eq!(
            signature_checks() - before,
            1,
            "stale entry verified afresh"
        );
        assert_eq!(cache.len(), 1, "and cached again");
    }

    #[test]
    fn failures_are_not_cached() {
        let (v, clock) = setup();
        let cache = cache(100, 600);
        let good = token("alice", T0 + 3600, None);
        check(&cache, &v, &good).unwrap();
        // One byte changed in the signature: not a hit for the cached token.
        let mut bad = good.clone();
        let last = if good.ends_with('A') { "B" } else { "A" };
        bad.replace_range(bad.len() - 1.., last);
        let expired = token("bob", T0 - 3600, None);
        let before = signature_checks();
        for _ in 0..3 {
            assert_eq!(
                check(&cache, &v, &bad).unwrap_err(),
                ErrorCode::InvalidToken
            );
            assert_eq!(
                check(&cache, &v, &expired).unwrap_err(),
                ErrorCode::TokenExpired
            );
        }
        assert_eq!(
            signature_checks() - before,
            6,
            "every failure verified in full"
        );
        assert_eq!(cache.len(), 1);
        drop(clock);
    }

    #[test]
    fn the_bound_holds_under_a_flood_of_distinct_valid_tokens() {
        let (v, _clock) = setup();
        let cache = cache(256, 600);
        let hot = token("regular", T0 + 3600, None);
        check(&cache, &v, &hot).unwrap();
        check(&cache, &v, &hot).unwrap();
        for i in 0..5_000 {
            check(&cache, &v, &token(&format!("flood-{i}"), T0 + 3600, None)).unwrap();
            assert!(cache.len() as u64 <= cache.capacity());
            if i % 16 == 0 {
                check(&cache, &v, &hot).unwrap();
            }
        }
        assert!(cache.capacity() < 256 + 64, "{}", cache.capacity());
        // A token in regular use survives the flood of one-off tokens.
        let before = signature_checks();
        check(&cache, &v, &hot).unwrap();
        assert_eq!(signature_checks(), before);
    }
}
