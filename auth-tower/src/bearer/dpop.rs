//! DPoP (RFC 9449) on the bearer layer: [`Dpop`] settings, per-issuer [`DpopMode`]s, and the
//! checks run after a token verified.

use std::fmt;
use std::sync::Arc;

use auth_core::clock::UnixTime;
use auth_core::dpop::{
    DpopVerifier, ExternalOrigin, MemoryOneTimeUseStore, OneTimeUseStore, ProofRequest,
    VerifiedProof,
};
use auth_core::{AuthError, InvalidDpopProof, InvalidToken, Principal};
use http::Request;

use crate::credentials;

/// Whether an issuer's tokens may, must or must not come with DPoP proofs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DpopMode {
    /// `Authorization: Bearer` only; a `DPoP` authorization is refused.
    Off,
    /// Both: plain tokens as `Bearer`, DPoP-bound tokens (`cnf.jkt`) as `DPoP` with a proof.
    #[default]
    Allowed,
    /// `DPoP` with a proof only; a bearer token is refused.
    Required,
}

impl std::str::FromStr for DpopMode {
    type Err = auth_core::ConfigError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "off" => Ok(Self::Off),
            "allowed" => Ok(Self::Allowed),
            "required" => Ok(Self::Required),
            _ => Err(auth_core::ConfigError::Input(format!(
                "dpop mode `{}` is not off, allowed or required",
                s.escape_debug()
            ))),
        }
    }
}

/// The DPoP settings of a [`BearerLayer`](super::BearerLayer), given to
/// [`BearerLayerBuilder::dpop`](super::BearerLayerBuilder::dpop).
///
/// - the [`DpopVerifier`] (algorithms, `iat` window, nonces, clock);
/// - the [`ExternalOrigin`] clients address (each proof's `htu` must be this origin plus the
///   request's path; the `Host` header is never read);
/// - the [`OneTimeUseStore`] that accepts each proof once (default: a bounded
///   [`MemoryOneTimeUseStore`]; with several instances, a shared one such as `auth-redis`'s
///   `RedisOneTimeUseStore`, or a proof replayed at another instance is accepted there);
/// - the mode: [`DpopMode::Allowed`] by default, per issuer with
///   [`issuer_mode`](Self::issuer_mode).
///
/// Whatever the mode, a token bound to a key (`cnf.jkt`) is refused without a proof of that
/// key (no downgrade to `Bearer`).
#[derive(Clone)]
#[must_use]
pub struct Dpop {
    pub(crate) verifier: DpopVerifier,
    pub(crate) origin: ExternalOrigin,
    pub(crate) store: Arc<dyn OneTimeUseStore>,
    pub(crate) mode: DpopMode,
    pub(crate) issuers: Vec<(String, DpopMode)>,
}

impl fmt::Debug for Dpop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Dpop")
            .field("verifier", &self.verifier)
            .field("origin", &self.origin)
            .field("store", &self.store)
            .field("mode", &self.mode)
            .field("issuers", &self.issuers)
            .finish()
    }
}

impl Dpop {
    /// DPoP allowed for every issuer, proofs checked by `verifier` against `origin`, replays
    /// refused by an in-memory store.
    pub fn new(verifier: DpopVerifier, origin: ExternalOrigin) -> Self {
        Self {
            verifier,
            origin,
            store: Arc::new(MemoryOneTimeUseStore::new()),
            mode: DpopMode::Allowed,
            issuers: Vec::new(),
        }
    }

    /// The mode of issuers without their own (default [`DpopMode::Allowed`]).
    pub fn mode(mut self, mode: DpopMode) -> Self {
        self.mode = mode;
        self
    }

    /// The mode of tokens whose `iss` is `issuer`.
    pub fn issuer_mode(mut self, issuer: impl Into<String>, mode: DpopMode) -> Self {
        let issuer = issuer.into();
        self.issuers.retain(|(i, _)| *i != issuer);
        self.issuers.push((issuer, mode));
        self
    }

    /// Where used proofs are remembered.
    pub fn store(mut self, store: Arc<dyn OneTimeUseStore>) -> Self {
        self.store = store;
        self
    }

    pub(crate) fn mode_for(&self, issuer: Option<&str>) -> DpopMode {
        issuer
            .and_then(|iss| self.issuers.iter().find(|(i, _)| i == iss))
            .map_or(self.mode, |(_, m)| *m)
    }

    /// Whether any issuer's tokens may come as `DPoP`.
    pub(crate) fn any_dpop(&self) -> bool {
        self.mode != DpopMode::Off || self.issuers.iter().any(|(_, m)| *m != DpopMode::Off)
    }

    /// Whether DPoP is required of every issuer (no `Bearer` challenge then).
    pub(crate) fn required_everywhere(&self) -> bool {
        self.mode == DpopMode::Required
            && self.issuers.iter().all(|(_, m)| *m == DpopMode::Required)
    }
}

fn binding(why: &'static str) -> AuthError {
    AuthError::InvalidToken(InvalidToken::DpopBinding(why))
}

/// The DPoP checks of a verified `principal`: how its token was presented, against its issuer's
/// mode and its key binding, and the proof (all but replay). `Some(proof)` must still be
/// recorded as used.
pub(crate) fn check<B>(
    dpop: Option<&Dpop>,
    principal: &Principal,
    req: &Request<B>,
) -> Result<Option<VerifiedProof>, AuthError> {
    let bound = principal.confirmation_jkt();
    let accept_dpop = dpop.is_some_and(Dpop::any_dpop);
    // The token as sent: from the header (a cookie token is never DPoP).
    let presented = credentials::token_from_header(req.headers(), accept_dpop)?;
    let (token, as_dpop) = match presented {
        Some((token, as_dpop)) => (Some(token), as_dpop),
        None => (None, false),
    };
    let Some(dpop) = dpop else {
        return match bound {
            Some(_) => Err(binding(
                "a dpop-bound token was presented as a bearer token",
            )),
            None => Ok(None),
        };
    };
    let mode = dpop.mode_for(principal.issuer());
    if !as_dpop {
        if bound.is_some() {
            return Err(binding(
                "a dpop-bound token was presented as a bearer token",
            ));
        }
        if mode == DpopMode::Required {
            return Err(binding("dpop is required for this issuer's tokens"));
        }
        return Ok(None);
    }
    if mode == DpopMode::Off {
        return Err(binding("dpop is not accepted for this issuer's tokens"));
    }
    let mut proofs = req.headers().get_all("dpop").iter();
    let proof = match (proofs.next(), proofs.next()) {
        (None, _) => return Err(AuthError::InvalidDpopProof(InvalidDpopProof::Missing)),
        (Some(_), Some(_)) => return Err(AuthError::InvalidDpopProof(InvalidDpopProof::Multiple)),
        (Some(v), None) => v
            .to_str()
            .map_err(|_| AuthError::InvalidDpopProof(InvalidDpopProof::Malformed))?,
    };
    let htu = dpop.origin.htu(req.uri().path());
    let mut request = ProofRequest::new(req.method().as_str(), &htu);
    if let Some(token) = token {
        request = request.access_token(token);
    }
    let proof = dpop.verifier.verify(proof, &request)?;
    match bound {
        Some(jkt)
            if auth_core::constant_time::secrets_equal(jkt.as_bytes(), proof.jkt().as_bytes()) =>
        {
            Ok(Some(proof))
        }
        Some(_) => Err(AuthError::InvalidDpopProof(InvalidDpopProof::KeyMismatch)),
        None => Err(binding("a token without cnf.jkt was presented with dpop")),
    }
}

/// The replay check's answer when the store gives it without waiting; `None` when it must be
/// awaited (see [`replay_async`]).
pub(crate) fn replay_now(
    dpop: &Dpop,
    proof: &VerifiedProof,
    now: UnixTime,
) -> Option<Result<(), AuthError>> {
    dpop.store
        .use_once_now(proof.replay_key(), proof.replay_until(), now)
        .map(replay_answer)
}

/// The replay check through the store's asynchronous operation.
#[cfg_attr(not(feature = "dpop"), allow(dead_code))]
pub(crate) async fn replay_async(
    store: Arc<dyn OneTimeUseStore>,
    proof: VerifiedProof,
    now: UnixTime,
) -> Result<(), AuthError> {
    replay_answer(
        store
            .use_once(proof.replay_key(), proof.replay_until(), now)
            .await,
    )
}

fn replay_answer(answer: Result<bool, auth_core::store::StoreError>) -> Result<(), AuthError> {
    match answer {
        Ok(true) => Ok(()),
        Ok(false) => Err(AuthError::InvalidDpopProof(InvalidDpopProof::Replayed)),
        Err(e) => {
            tracing::error!(target: "auth::decision", error = %e, "dpop one-time-use store failed");
            Err(AuthError::from(e))
        }
    }
}
