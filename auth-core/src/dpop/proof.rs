//! [`DpopVerifier`]: checks a DPoP proof (RFC 9449 section 4.3) against the request it came
//! with.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;
use serde_json::{Map, Value};
use sha2::{Digest as _, Sha256};

use super::htu::normalize;
use super::nonce::DpopNonces;
use super::thumbprint::{access_token_hash, jwk_thumbprint};
use crate::InvalidDpopProof;
use crate::clock::{Clock, SystemClock, UnixTime};
use crate::error::{AuthError, ConfigError};
use crate::jwt::{Algorithm, VerificationKey};

/// The algorithms a [`DpopVerifier`] accepts by default: ES256, ES384, EdDSA, RS256 and PS256.
pub const DEFAULT_DPOP_ALGORITHMS: [Algorithm; 5] = [
    Algorithm::ES256,
    Algorithm::ES384,
    Algorithm::EdDSA,
    Algorithm::RS256,
    Algorithm::PS256,
];
/// How old a proof's `iat` may be by default: 60 s.
pub const DEFAULT_IAT_PAST: Duration = Duration::from_secs(60);
/// How far in the future a proof's `iat` may be by default (clock skew): 5 s.
pub const DEFAULT_IAT_FUTURE: Duration = Duration::from_secs(5);
/// The longest proof accepted by default, checked before anything is decoded: 8 KiB.
pub const DEFAULT_MAX_PROOF_LEN: usize = 8 * 1024;
/// The longest `jti` accepted.
const MAX_JTI_LEN: usize = 256;
/// Members only a private JWK has (RFC 7518 section 6; RFC 8037): a proof's `jwk` carrying one
/// leaked its private key and is refused. The same list as `jwt::PRIVATE_JWK_MEMBERS`.
pub(super) const PRIVATE_MEMBERS: [&str; 9] = ["d", "p", "q", "dp", "dq", "qi", "oth", "k", "priv"];

/// Checks DPoP proofs. Build once with [`DpopVerifier::builder`]; cheap to clone.
///
/// [`verify`](Self::verify) checks, in order: the length; a compact JWS whose header has `typ`
/// `dpop+jwt`, an `alg` from the allow-list (never symmetric), no `crit`, and a public `jwk`
/// of that algorithm's type (any private member refused); the signature with that key; the
/// claims `jti`, `htm`, `htu`, `iat` with their types; `htm` equal to the request method;
/// `htu` equal (after RFC 3986 normalisation, without query and fragment) to the request URI;
/// `iat` within the window (default 60 s back, 5 s ahead, on the injected clock); `ath` equal
/// to the SHA-256 of the access token, when one is given; and, with [`nonces`], a current
/// server nonce. It returns the RFC 7638 thumbprint of the key (to compare with the token's
/// `cnf.jkt`) and the key under which the proof must be recorded as used: replay is checked by
/// the caller through a [`OneTimeUseStore`](super::OneTimeUseStore).
///
/// [`nonces`]: DpopVerifierBuilder::nonces
///
/// ```
/// use auth_core::dpop::{DpopVerifier, ProofRequest};
/// use auth_core::{ErrorCode, InvalidDpopProof, AuthError};
///
/// let verifier = DpopVerifier::builder().build()?;
/// assert_eq!(verifier.algorithms_value(), "ES256 ES384 EdDSA RS256 PS256");
/// let request = ProofRequest::new("GET", "https://api.example/orders");
/// let err = verifier.verify("not.a.proof", &request).unwrap_err();
/// assert_eq!(err.code(), ErrorCode::InvalidDpopProof);
/// assert_eq!(err, AuthError::InvalidDpopProof(InvalidDpopProof::Malformed));
/// # Ok::<(), auth_core::ConfigError>(())
/// ```
#[derive(Clone)]
pub struct DpopVerifier {
    inner: Arc<Inner>,
}

struct Inner {
    algorithms: Vec<Algorithm>,
    algorithms_value: Box<str>,
    past: Duration,
    future: Duration,
    max_len: usize,
    nonces: Option<DpopNonces>,
    clock: Arc<dyn Clock>,
}

impl fmt::Debug for DpopVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let i = &*self.inner;
        f.debug_struct("DpopVerifier")
            .field("algorithms", &i.algorithms)
            .field("iat_past", &i.past)
            .field("iat_future", &i.future)
            .field("max_len", &i.max_len)
            .field("nonces", &i.nonces)
            .field("clock", &i.clock)
            .finish()
    }
}

/// Builds a [`DpopVerifier`]; created by [`DpopVerifier::builder`].
#[must_use]
#[derive(Debug)]
pub struct DpopVerifierBuilder {
    algorithms: Vec<Algorithm>,
    past: Duration,
    future: Duration,
    max_len: usize,
    nonces: Option<DpopNonces>,
    clock: Arc<dyn Clock>,
}

impl DpopVerifierBuilder {
    /// The accepted algorithms (default [`DEFAULT_DPOP_ALGORITHMS`]); HMAC algorithms are
    /// refused at build time (a proof proves possession of a private key).
    pub fn algorithms(mut self, algorithms: impl IntoIterator<Item = Algorithm>) -> Self {
        self.algorithms = algorithms.into_iter().collect();
        self
    }

    /// How old (`past`, default 60 s, at most 300 s) and how far in the future (`future`,
    /// default 5 s, at most 60 s) a proof's `iat` may be.
    pub fn iat_window(mut self, past: Duration, future: Duration) -> Self {
        self.past = past;
        self.future = future;
        self
    }

    /// The longest proof accepted (default 8 KiB).
    pub fn max_proof_len(mut self, len: usize) -> Self {
        self.max_len = len;
        self
    }

    /// Requires proofs to carry a current server nonce (RFC 9449 section 9); a proof without
    /// one is refused with `use_dpop_nonce` and a fresh nonce for the `DPoP-Nonce` header.
    pub fn nonces(mut self, nonces: DpopNonces) -> Self {
        self.nonces = Some(nonces);
        self
    }

    /// The clock `iat` is checked against (default: the system clock).
    pub fn clock(mut self, clock: impl Clock) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// The clock, shared.
    pub fn clock_shared(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Checks the settings.
    ///
    /// # Errors
    ///
    /// [`ConfigError::JwkAlgorithm`] for an empty list or an HMAC algorithm,
    /// [`ConfigError::OutOfRange`] for a window beyond its maximum, [`ConfigError::ZeroMaxTokenLength`]
    /// for a zero length.
    pub fn build(self) -> Result<DpopVerifier, ConfigError> {
        if self.algorithms.is_empty() {
            return Err(ConfigError::JwkAlgorithm(
                "no dpop proof algorithm is allowed".into(),
            ));
        }
        if let Some(alg) = self
            .algorithms
            .iter()
            .find(|a| a.as_str().starts_with("HS"))
        {
            return Err(ConfigError::JwkAlgorithm(format!(
                "{alg} is symmetric; dpop proofs need an asymmetric algorithm"
            )));
        }
        if self.past > Duration::from_secs(300) || self.future > Duration::from_secs(60) {
            return Err(ConfigError::OutOfRange(
                "the dpop iat window is at most 300 s back and 60 s ahead".into(),
            ));
        }
        if self.max_len == 0 {
            return Err(ConfigError::ZeroMaxTokenLength);
        }
        let mut algorithms: Vec<Algorithm> = Vec::with_capacity(self.algorithms.len());
        for a in self.algorithms {
            if !algorithms.contains(&a) {
                algorithms.push(a);
            }
        }
        let algorithms_value = algorithms
            .iter()
            .map(|a| a.as_str())
            .collect::<Vec<_>>()
            .join(" ")
            .into_boxed_str();
        Ok(DpopVerifier {
            inner: Arc::new(Inner {
                algorithms,
                algorithms_value,
                past: self.past,
                future: self.future,
                max_len: self.max_len,
                nonces: self.nonces,
                clock: self.clock,
            }),
        })
    }
}

/// What a proof is checked against: the request's method, its URI as clients address it (see
/// [`ExternalOrigin::htu`](super::ExternalOrigin::htu)) and the access token it accompanies
/// (none at a token endpoint).
#[derive(Clone, Copy, Debug)]
#[non_exhaustive]
pub struct ProofRequest<'a> {
    /// The HTTP method, e.g. `GET`.
    pub method: &'a str,
    /// The request URI the proof must name in `htu`.
    pub htu: &'a str,
    /// The access token the proof must hash in `ath`.
    pub access_token: Option<&'a str>,
}

impl<'a> ProofRequest<'a> {
    /// A request without an access token.
    #[must_use]
    pub fn new(method: &'a str, htu: &'a str) -> Self {
        Self {
            method,
            htu,
            access_token: None,
        }
    }

    /// The access token the proof accompanies (`ath` is then required).
    #[must_use]
    pub fn access_token(mut self, token: &'a str) -> Self {
        self.access_token = Some(token);
        self
    }
}

/// A proof that passed [`DpopVerifier::verify`]. Record it with
/// [`replay_key`](Self::replay_key) until [`replay_until`](Self::replay_until) in a
/// [`OneTimeUseStore`](super::OneTimeUseStore) before accepting it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedProof {
    jkt: String,
    replay_key: String,
    replay_until: UnixTime,
}

impl VerifiedProof {
    /// The RFC 7638 thumbprint of the proof's key (compare with the token's `cnf.jkt`).
    #[must_use]
    pub fn jkt(&self) -> &str {
        &self.jkt
    }

    /// A digest of the key's thumbprint and the proof's `jti`: 64 hex characters.
    #[must_use]
    pub fn replay_key(&self) -> &str {
        &self.replay_key
    }

    /// When the proof can no longer be accepted anyway (`iat` plus the window back).
    #[must_use]
    pub fn replay_until(&self) -> UnixTime {
        self.replay_until
    }
}

#[derive(Deserialize)]
struct Header {
    typ: String,
    alg: String,
    jwk: Map<String, Value>,
    #[serde(default)]
    crit: Option<serde::de::IgnoredAny>,
}

#[derive(Deserialize)]
struct Claims {
    jti: String,
    htm: String,
    htu: String,
    iat: serde_json::Number,
    #[serde(default)]
    ath: Option<String>,
    #[serde(default)]
    nonce: Option<String>,
}

fn fail(why: InvalidDpopProof) -> AuthError {
    AuthError::InvalidDpopProof(why)
}

fn decode_json<'de, T: Deserialize<'de>>(
    segment: &str,
    buf: &'de mut Vec<u8>,
    why: InvalidDpopProof,
) -> Result<T, AuthError> {
    *buf = URL_SAFE_NO_PAD
        .decode(segment)
        .map_err(|_| fail(InvalidDpopProof::Malformed))?;
    let text = std::str::from_utf8(buf).map_err(|_| fail(InvalidDpopProof::Malformed))?;
    serde_json::from_str(text).map_err(|_| fail(why))
}

impl DpopVerifier {
    /// Starts building a verifier with the defaults.
    pub fn builder() -> DpopVerifierBuilder {
        DpopVerifierBuilder {
            algorithms: DEFAULT_DPOP_ALGORITHMS.to_vec(),
            past: DEFAULT_IAT_PAST,
            future: DEFAULT_IAT_FUTURE,
            max_len: DEFAULT_MAX_PROOF_LEN,
            nonces: None,
            clock: Arc::new(SystemClock),
        }
    }

    /// The accepted algorithms.
    #[must_use]
    pub fn algorithms(&self) -> &[Algorithm] {
        &self.inner.algorithms
    }

    /// The accepted algorithms, space-separated: the `algs` of a `DPoP` challenge.
    #[must_use]
    pub fn algorithms_value(&self) -> &str {
        &self.inner.algorithms_value
    }

    /// The server nonces, when proofs must carry one.
    #[must_use]
    pub fn nonces(&self) -> Option<&DpopNonces> {
        self.inner.nonces.as_ref()
    }

    /// The clock.
    #[must_use]
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.inner.clock
    }

    /// Checks `proof` against `request`; see the [type docs](Self).
    ///
    /// # Errors
    ///
    /// [`AuthError::InvalidDpopProof`] with the reason of the first check that failed, or
    /// [`AuthError::UseDpopNonce`] (with a fresh nonce) when a nonce is required and the proof
    /// has none or an old one.
    pub fn verify(
        &self,
        proof: &str,
        request: &ProofRequest<'_>,
    ) -> Result<VerifiedProof, AuthError> {
        let i = &*self.inner;
        if proof.len() > i.max_len {
            return Err(fail(InvalidDpopProof::Malformed));
        }
        let mut parts = proof.splitn(4, '.');
        let (Some(h), Some(p), Some(s), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(fail(InvalidDpopProof::Malformed));
        };
        if h.is_empty() || p.is_empty() || s.is_empty() {
            return Err(fail(InvalidDpopProof::Malformed));
        }
        let mut buf = Vec::new();
        let header: Header = decode_json(h, &mut buf, InvalidDpopProof::Malformed)?;
        if header.crit.is_some() {
            return Err(fail(InvalidDpopProof::Malformed));
        }
        if !header.typ.eq_ignore_ascii_case("dpop+jwt") {
            return Err(fail(InvalidDpopProof::WrongType));
        }
        let alg = Algorithm::from_name(&header.alg)
            .filter(|a| i.algorithms.contains(a))
            .ok_or(fail(InvalidDpopProof::Algorithm))?;
        if PRIVATE_MEMBERS.iter().any(|m| header.jwk.contains_key(*m)) {
            return Err(fail(InvalidDpopProof::Key));
        }
        let jwk_json =
            serde_json::to_string(&header.jwk).map_err(|_| fail(InvalidDpopProof::Key))?;
        let key = VerificationKey::from_jwk_json(&jwk_json, Some(alg))
            .map_err(|_| fail(InvalidDpopProof::Key))?;
        let mut sig = [0u8; 1024];
        let len = URL_SAFE_NO_PAD
            .decode_slice(s, &mut sig)
            .map_err(|_| fail(InvalidDpopProof::Malformed))?;
        let sig = sig.get(..len).ok_or(fail(InvalidDpopProof::Malformed))?;
        let message = proof
            .get(..h.len() + 1 + p.len())
            .ok_or(fail(InvalidDpopProof::Malformed))?;
        if !key.verify_signature(message.as_bytes(), sig) {
            return Err(fail(InvalidDpopProof::Signature));
        }
        let claims: Claims = decode_json(p, &mut buf, InvalidDpopProof::Claims)?;
        if claims.jti.is_empty() || claims.jti.len() > MAX_JTI_LEN {
            return Err(fail(InvalidDpopProof::Claims));
        }
        if claims.htm != request.method {
            return Err(fail(InvalidDpopProof::Method));
        }
        match (normalize(&claims.htu), normalize(request.htu)) {
            (Some(a), Some(b)) if a == b => {}
            _ => return Err(fail(InvalidDpopProof::Uri)),
        }
        let iat = numeric_date(&claims.iat).ok_or(fail(InvalidDpopProof::Claims))?;
        let now = i.clock.now();
        if iat > now.saturating_add(i.future) || iat.saturating_add(i.past) < now {
            return Err(fail(InvalidDpopProof::Time));
        }
        if let Some(token) = request.access_token {
            match &claims.ath {
                Some(ath) if *ath == access_token_hash(token) => {}
                Some(_) => return Err(fail(InvalidDpopProof::AccessTokenHash)),
                None => return Err(fail(InvalidDpopProof::Claims)),
            }
        }
        if let Some(nonces) = &i.nonces
            && !claims
                .nonce
                .as_deref()
                .is_some_and(|n| nonces.is_valid(n, now))
        {
            return Err(AuthError::UseDpopNonce {
                nonce: nonces.issue(now).into(),
            });
        }
        let jkt = jwk_thumbprint(&header.jwk).ok_or(fail(InvalidDpopProof::Key))?;
        let mut h = Sha256::new();
        h.update(b"dpop-jti\0");
        h.update(jkt.as_bytes());
        h.update(b"\0");
        h.update(claims.jti.as_bytes());
        let replay_key = h
            .finalize()
            .iter()
            .fold(String::with_capacity(64), |mut s, b| {
                use fmt::Write as _;
                let _ = write!(s, "{b:02x}");
                s
            });
        Ok(VerifiedProof {
            jkt,
            replay_key,
            replay_until: iat
                .saturating_add(i.past)
                .saturating_add(Duration::from_secs(1)),
        })
    }
}

/// A non-negative JSON number of seconds.
fn numeric_date(n: &serde_json::Number) -> Option<UnixTime> {
    if let Some(s) = n.as_u64() {
        return Some(UnixTime::from_secs(s));
    }
    let f = n.as_f64()?;
    if !f.is_finite() || !(0.0..=1.8e10).contains(&f) {
        return None;
    }
    // In range by the check above; truncation to nanoseconds is intended.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    Some(UnixTime::from_nanos((f * 1e9) as u64))
}
