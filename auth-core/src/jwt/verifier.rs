//! [`JwtVerifier`]: the verification pipeline.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use base64::Engine as _;

use super::claim_lists::NameInterner;
use super::claims::{self, Authz, ClaimNames};
use super::config::JwtVerifierBuilder;
use super::header::{self, TokenHeader};
use super::key_set::{Candidates, KeySet};
use super::mapping::CompiledMapping;
use super::resolver::{BoxFuture, KeyResolver};
use crate::clock::{Clock, UnixTime};
use crate::error::{AuthError, InvalidToken};
use crate::principal::{Principal, Text, TokenParts};

pub(crate) type ClaimCheck = Arc<dyn Fn(&Principal) -> Result<(), String> + Send + Sync>;

/// Verifies JWS-signed JWTs and turns them into [`Principal`]s.
///
/// The pipeline, in order (each step only runs if the previous one passed):
///
/// 1. the token length is at most the configured maximum (nothing decoded before that);
/// 2. three base64url segments; the header is a UTF-8 JSON object with a known `alg` (no
///    `none`), no `crit` and no `b64`; with trusted issuers, the (not yet verified) `iss`
///    names one of them (an unknown `iss` is refused here, before any key lookup or fetch);
///    the header has the `typ` required for that issuer (or verifier-wide), if any;
/// 3. a key is selected by `kid` and must be pinned to the header's `alg` (a token without
///    `kid` is tried against a bounded number of keys: see [`KeySet`]'s "Key selection");
/// 4. the signature verifies (aws-lc-rs, with the key prepared once at build time);
/// 5. registered claims have their RFC 7519 types; `exp` and `sub` are present;
/// 6. `exp`, `nbf` and `iat` against the injected clock with the leeway; `iss`; `aud`;
/// 7. custom checks.
///
/// Cheap to clone (one reference count); build it once and share it.
///
/// ```
/// use auth_core::jwt::{Algorithm, JwtVerifier, VerificationKey};
/// use auth_core::clock::{ManualClock, UnixTime};
/// use auth_core::ErrorCode;
/// use std::time::Duration;
///
/// let secret = b"an example secret of at least thirty-two bytes";
/// let clock = ManualClock::new(UnixTime::from_secs(1_700_000_000));
/// let verifier = JwtVerifier::builder()
///     .key(VerificationKey::hmac(Algorithm::HS256, secret)?)
///     .audience("api")
///     .clock(clock.clone())
///     .build()?;
///
/// let claims = serde_json::json!({"sub": "alice", "aud": "api", "exp": 1_700_000_060u64});
/// let token = jsonwebtoken::encode(
///     &jsonwebtoken::Header::default(),
///     &claims,
///     &jsonwebtoken::EncodingKey::from_secret(secret),
/// )?;
/// assert_eq!(verifier.verify_sync(&token)?.subject(), "alice");
///
/// clock.advance(Duration::from_secs(120)); // past exp + 30 s leeway
/// assert_eq!(verifier.verify_sync(&token).unwrap_err().code(), ErrorCode::TokenExpired);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct JwtVerifier {
    inner: Arc<VerifierInner>,
}

/// One key source with the issuers and audiences its tokens must carry.
pub(crate) struct Tenant {
    pub(crate) resolver: Arc<dyn KeyResolver>,
    /// Accepted `iss` values; empty means `iss` is not checked (single-source mode only).
    pub(crate) issuers: Vec<String>,
    /// Accepted `aud` values; `None` accepts any audience.
    pub(crate) audiences: Option<Vec<String>>,
    /// The header `typ` its tokens must carry, if any.
    pub(crate) required_typ: Option<String>,
    /// Where its tokens carry roles and scopes.
    pub(crate) claims: ClaimRules,
}

/// Where a tenant's tokens carry roles and scopes.
#[derive(Clone, Debug)]
pub(crate) enum ClaimRules {
    /// Top-level claims of these names, read in the parser's single pass.
    Names(ClaimNames),
    /// A [`ClaimMapping`](super::ClaimMapping).
    Mapping(CompiledMapping),
}

impl ClaimRules {
    fn authz(&self) -> Authz<'_> {
        match self {
            Self::Names(n) => Authz::Names(n),
            Self::Mapping(m) => Authz::Keep(m.claims()),
        }
    }
}

impl fmt::Debug for Tenant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tenant")
            .field("resolver", &self.resolver)
            .field("issuers", &self.issuers)
            .field("audiences", &self.audiences)
            .field("required_typ", &self.required_typ)
            .field("claims", &self.claims)
            .finish()
    }
}

pub(crate) struct VerifierInner {
    /// One tenant, or (when `by_issuer`) one per trusted issuer.
    pub(crate) tenants: Vec<Tenant>,
    /// Select the tenant by the token's (unverified) `iss` before looking up keys.
    pub(crate) by_issuer: bool,
    pub(crate) leeway: Duration,
    pub(crate) max_token_len: usize,
    /// How many keys a token without `kid` may be tried against (see [`KeySet`]).
    pub(crate) keys_tried_without_kid: usize,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) checks: Vec<ClaimCheck>,
    /// Role and scope lists shared between the principals that carry the same ones.
    pub(crate) names: NameInterner,
}

impl fmt::Debug for JwtVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let i = &self.inner;
        f.debug_struct("JwtVerifier")
            .field("tenants", &i.tenants)
            .field("by_issuer", &i.by_issuer)
            .field("leeway", &i.leeway)
            .field("max_token_len", &i.max_token_len)
            .field("keys_tried_without_kid", &i.keys_tried_without_kid)
            .field("clock", &i.clock)
            .field("custom_checks", &i.checks.len())
            .finish()
    }
}

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// The three segments of a compact JWS, borrowed from the token.
struct Segments<'a> {
    header: &'a str,
    payload: &'a str,
    signature: &'a str,
    /// `header.payload`, the signing input.
    message: &'a str,
}

fn split(token: &str) -> Result<Segments<'_>, InvalidToken> {
    let mut it = token.splitn(4, '.');
    let (Some(header), Some(payload), Some(signature), None) =
        (it.next(), it.next(), it.next(), it.next())
    else {
        return Err(InvalidToken::Malformed);
    };
    if header.is_empty() || payload.is_empty() || signature.is_empty() {
        return Err(InvalidToken::Malformed);
    }
    let message = token
        .get(..header.len() + 1 + payload.len())
        .ok_or(InvalidToken::Malformed)?;
    Ok(Segments {
        header,
        payload,
        signature,
        message,
    })
}

/// The longest header decoded on the stack; a longer one (unusual: a header is an `alg`, a
/// `kid` and a `typ`) is decoded on the heap.
const HEADER_ON_STACK: usize = 512;

/// Where a token's header is decoded: on the stack unless it is long.
pub(super) struct HeaderBuf {
    stack: [u8; HEADER_ON_STACK],
    heap: Vec<u8>,
}

impl Default for HeaderBuf {
    fn default() -> Self {
        Self {
            stack: [0; HEADER_ON_STACK],
            heap: Vec::new(),
        }
    }
}

impl HeaderBuf {
    /// The decoded bytes of the base64url segment `b64`.
    fn decode(&mut self, b64: &str) -> Result<&[u8], InvalidToken> {
        let len = decoded_len(b64)?;
        let out = match self.stack.get_mut(..len) {
            Some(out) => out,
            None => {
                self.heap = vec![0; len];
                &mut self.heap
            }
        };
        let n = B64
            .decode_slice(b64, out)
            .map_err(|_| InvalidToken::BadEncoding)?;
        out.get(..n).ok_or(InvalidToken::BadEncoding)
    }
}

/// The exact length of the bytes unpadded base64url `b64` decodes to (a last group of one
/// character decodes to nothing and is malformed).
fn decoded_len(b64: &str) -> Result<usize, InvalidToken> {
    let n = b64.len();
    let tail = match n % 4 {
        0 => 0,
        2 => 1,
        3 => 2,
        _ => return Err(InvalidToken::BadEncoding),
    };
    Ok(n / 4 * 3 + tail)
}

/// Decodes base64url into a vector of exactly the decoded length (one allocation, which can
/// become a boxed string without reallocating).
fn decode_exact(b64: &str) -> Result<Vec<u8>, InvalidToken> {
    let mut out = vec![0; decoded_len(b64)?];
    let n = B64
        .decode_slice(b64, &mut out)
        .map_err(|_| InvalidToken::BadEncoding)?;
    out.truncate(n);
    Ok(out)
}

/// The time claims against `now`, with `leeway` for clock skew: expired at `exp + leeway`,
/// not yet valid while `nbf` or `iat` is later than `now + leeway`. One function for fresh
/// verifications and cached principals alike.
#[inline]
pub(crate) fn check_times(
    now: UnixTime,
    leeway: Duration,
    exp: UnixTime,
    nbf: Option<UnixTime>,
    iat: Option<UnixTime>,
) -> Result<(), AuthError> {
    if now >= exp.saturating_add(leeway) {
        return Err(AuthError::TokenExpired);
    }
    let latest = now.saturating_add(leeway);
    if nbf.is_some_and(|nbf| nbf > latest) || iat.is_some_and(|iat| iat > latest) {
        return Err(AuthError::TokenNotYetValid);
    }
    Ok(())
}

impl JwtVerifier {
    /// Re-checks the time claims of a principal this verifier created earlier (a cached one)
    /// against `now`, exactly as a fresh verification would.
    #[cfg(feature = "token-cache")]
    pub(crate) fn recheck_times(&self, p: &Principal, now: UnixTime) -> Result<(), AuthError> {
        let exp = p.expires_at().ok_or(InvalidToken::MissingClaim("exp"))?;
        check_times(now, self.inner.leeway, exp, p.not_before(), p.issued_at())
    }

    /// Starts building a verifier.
    pub fn builder() -> JwtVerifierBuilder {
        JwtVerifierBuilder::default()
    }

    pub(crate) fn from_inner(inner: VerifierInner) -> Self {
        Self {
            inner: Arc::new(inner),
        }
    }

    /// The issuers whose tokens this verifier accepts: each trusted issuer, or the configured
    /// `iss` values (empty when `iss` is not checked). For RFC 9728 `authorization_servers`.
    #[must_use]
    pub fn trusted_issuers(&self) -> Vec<&str> {
        self.inner
            .tenants
            .iter()
            .flat_map(|t| t.issuers.iter().map(String::as_str))
            .collect()
    }

    /// The clock this verifier reads.
    #[must_use]
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.inner.clock
    }

    /// Verifies `token` with the keys available now, never waiting.
    ///
    /// With a static key set this is the whole verification. With a resolver that learns keys
    /// (JWKS), a token signed by a not-yet-known key fails with `INVALID_TOKEN`; use
    /// [`verify`](Self::verify) to let the resolver fetch it.
    ///
    /// # Errors
    ///
    /// The [`AuthError`] of the first check that failed.
    pub fn verify_sync(&self, token: &str) -> Result<Principal, AuthError> {
        let mut buf = HeaderBuf::default();
        let (seg, header, tenant) = self.preflight(token, &mut buf)?;
        let keys = tenant.resolver.current().ok_or_else(|| {
            AuthError::BackendUnavailable("no verification keys are loaded".into())
        })?;
        self.verify_parsed(&seg, &header, tenant, &keys)
    }

    /// Verifies `token`, letting the key resolver fetch an unknown key if it can.
    ///
    /// The returned [`Verify`] future is already complete in the common case (see
    /// [`Verify::into_ready`]), so middleware can take a synchronous fast path.
    pub fn verify(&self, token: &str) -> Verify {
        let mut buf = HeaderBuf::default();
        let (seg, header, tenant) = match self.preflight(token, &mut buf) {
            Ok(parts) => parts,
            Err(e) => return Verify::ready(Err(e)),
        };
        let keys = tenant.resolver.current();
        if let Some(keys) = &keys
            && !matches!(
                keys.candidates(
                    header.kid.as_deref(),
                    header.alg,
                    self.inner.keys_tried_without_kid
                ),
                Candidates::None
            )
        {
            return Verify::ready(self.verify_parsed(&seg, &header, tenant, keys));
        }
        match tenant.resolver.refresh(header.kid.as_deref(), header.alg) {
            Some(fetch) => {
                let this = self.clone();
                let token = token.to_owned();
                Verify {
                    state: VerifyState::Pending(Box::pin(async move {
                        let keys = fetch.await?;
                        let mut buf = HeaderBuf::default();
                        let (seg, header, tenant) = this.preflight(&token, &mut buf)?;
                        this.verify_parsed(&seg, &header, tenant, &keys)
                    })),
                }
            }
            None if keys.is_none() => Verify::ready(Err(AuthError::BackendUnavailable(
                "no verification keys are loaded".into(),
            ))),
            None => Verify::ready(Err(InvalidToken::UnknownKey.into())),
        }
    }

    /// Length, structure, header and tenant checks: everything before key selection. The
    /// tenant is chosen (by `iss`, with trusted issuers) before its `typ` rule is applied, and
    /// an unknown `iss` is refused here, before any key lookup or fetch.
    fn preflight<'t, 'b>(
        &self,
        token: &'t str,
        buf: &'b mut HeaderBuf,
    ) -> Result<(Segments<'t>, TokenHeader<'b>, &Tenant), AuthError> {
        let max = self.inner.max_token_len;
        if token.len() > max {
            return Err(InvalidToken::TooLong {
                len: token.len(),
                max,
            }
            .into());
        }
        let seg = split(token)?;
        let h = header::parse(buf.decode(seg.header)?)?;
        let tenant = self.route(&seg)?;
        if let Some(required) = &tenant.required_typ {
            match &h.typ {
                Some(t) if header::typ_matches(t, required) => {}
                _ => return Err(InvalidToken::WrongType.into()),
            }
        }
        let header = TokenHeader {
            alg: h.alg,
            kid: h.kid,
            typ: None,
        };
        Ok((seg, header, tenant))
    }

    /// The tenant whose keys and rules apply: the only one, or the one named by the token's
    /// `iss`, read here before verification only to choose (the verified claims are checked
    /// against the tenant's issuer again). An unknown `iss` is refused before any key lookup,
    /// so it can never cause a fetch.
    fn route(&self, seg: &Segments<'_>) -> Result<&Tenant, AuthError> {
        let tenants = &self.inner.tenants;
        if !self.inner.by_issuer {
            return tenants
                .first()
                .ok_or_else(|| AuthError::BackendUnavailable("no key source".into()));
        }
        #[derive(serde::Deserialize)]
        struct IssOnly<'a> {
            #[serde(borrow, default)]
            iss: Option<claims::Str<'a>>,
        }
        let payload = B64
            .decode(seg.payload)
            .map_err(|_| InvalidToken::BadEncoding)?;
        let claims: IssOnly<'_> =
            serde_json::from_str(header::utf8(&payload)?).map_err(|_| InvalidToken::BadJson)?;
        let iss = claims.iss.ok_or(InvalidToken::UnknownIssuer)?.0;
        tenants
            .iter()
            .find(|t| t.issuers.iter().any(|i| *i == iss))
            .ok_or_else(|| InvalidToken::UnknownIssuer.into())
    }

    fn verify_parsed(
        &self,
        seg: &Segments<'_>,
        header: &TokenHeader<'_>,
        tenant: &Tenant,
        keys: &KeySet,
    ) -> Result<Principal, AuthError> {
        let candidates = match keys.candidates(
            header.kid.as_deref(),
            header.alg,
            self.inner.keys_tried_without_kid,
        ) {
            Candidates::Keys(k) => k,
            Candidates::AlgorithmMismatch => return Err(InvalidToken::AlgorithmMismatch.into()),
            Candidates::None => return Err(InvalidToken::UnknownKey.into()),
        };
        // Large enough for RSA-8192 signatures; decoding into the stack avoids an allocation.
        let mut sig = [0u8; 1024];
        let sig_len = B64
            .decode_slice(seg.signature, &mut sig)
            .map_err(|_| InvalidToken::BadEncoding)?;
        let sig = sig.get(..sig_len).ok_or(InvalidToken::BadEncoding)?;
        let verified = candidates
            .iter()
            .any(|k| k.verify_signature(seg.message.as_bytes(), sig));
        if !verified {
            return Err(InvalidToken::BadSignature.into());
        }
        let payload = decode_exact(seg.payload)?;
        let payload = String::from_utf8(payload).map_err(|_| InvalidToken::BadJson)?;
        self.principal_from_payload(payload, tenant)
    }

    fn principal_from_payload(
        &self,
        payload: String,
        tenant: &Tenant,
    ) -> Result<Principal, AuthError> {
        let i = &*self.inner;
        let c = claims::parse(&payload, tenant.claims.authz())?;
        let exp = c.exp.ok_or(InvalidToken::MissingClaim("exp"))?;
        check_times(i.clock.now(), i.leeway, exp, c.nbf, c.iat)?;
        if !tenant.issuers.is_empty() {
            match &c.iss {
                Some(iss) if tenant.issuers.iter().any(|x| x == iss) => {}
                _ => return Err(AuthError::InvalidIssuer),
            }
        }
        if let Some(accepted) = &tenant.audiences
            && !c.aud.iter().any(|a| accepted.iter().any(|x| x == a))
        {
            return Err(AuthError::InvalidAudience);
        }
        let subject = c.sub.ok_or(InvalidToken::MissingClaim("sub"))?;
        if subject.is_empty() {
            return Err(InvalidToken::ClaimType("sub").into());
        }
        let (roles, scopes, parsed) = match &tenant.claims {
            ClaimRules::Names(_) => (i.names.list(c.roles), i.names.list(c.scopes), None),
            ClaimRules::Mapping(m) => {
                let (grants, parsed) = m.grants(&c.kept, &payload)?;
                let (roles, scopes) = grants.into_parts();
                let shared = |v: Vec<String>| (!v.is_empty()).then(|| v.into());
                (shared(roles), shared(scopes), parsed)
            }
        };
        // The strings are ranges of the payload, which then moves into the principal.
        let at = |s| Text::within(s, &payload);
        let parts = TokenParts {
            subject: at(subject),
            roles,
            scopes,
            token_id: c.jti.map(at),
            issuer: c.iss.map(at),
            session_id: c.sid.map(at),
            expires_at: Some(exp),
            issued_at: c.iat,
            not_before: c.nbf,
            confirmation: c.cnf_jkt.map(at),
            claims: parsed,
            claims_json: payload.into_boxed_str(),
        };
        let principal = Principal::from_token(parts);
        for check in &i.checks {
            check(&principal).map_err(InvalidToken::Custom)?;
        }
        Ok(principal)
    }
}

/// The future returned by [`JwtVerifier::verify`].
#[must_use = "futures do nothing unless polled"]
pub struct Verify {
    state: VerifyState,
}

enum VerifyState {
    Ready(Option<Result<Principal, AuthError>>),
    Pending(BoxFuture<'static, Result<Principal, AuthError>>),
}

impl Verify {
    pub(crate) fn ready(r: Result<Principal, AuthError>) -> Self {
        Self {
            state: VerifyState::Ready(Some(r)),
        }
    }

    /// A verification that must be awaited (an introspection request, for example).
    #[cfg(feature = "introspection")]
    pub(crate) fn pending(future: BoxFuture<'static, Result<Principal, AuthError>>) -> Self {
        Self {
            state: VerifyState::Pending(future),
        }
    }

    /// Runs `f` on a successful outcome of a pending verification once it is known (one more
    /// box, on the rare key-fetching path only).
    #[cfg(feature = "token-cache")]
    pub(crate) fn inspect(self, f: impl FnOnce(&Principal) + Send + 'static) -> Self {
        match self.state {
            VerifyState::Pending(fut) => Self {
                state: VerifyState::Pending(Box::pin(async move {
                    let r = fut.await;
                    if let Ok(p) = &r {
                        f(p);
                    }
                    r
                })),
            },
            state @ VerifyState::Ready(_) => Self { state },
        }
    }

    /// The result, if it is already known without waiting; otherwise the future back.
    ///
    /// # Errors
    ///
    /// Returns `Err(self)` when a key fetch is needed and the future must be awaited.
    pub fn into_ready(self) -> Result<Result<Principal, AuthError>, Self> {
        match self.state {
            VerifyState::Ready(Some(r)) => Ok(r),
            state => Err(Self { state }),
        }
    }
}

impl fmt::Debug for Verify {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = match self.state {
            VerifyState::Ready(_) => "Ready",
            VerifyState::Pending(_) => "Pending",
        };
        f.debug_struct("Verify").field("state", &s).finish()
    }
}

impl Future for Verify {
    type Output = Result<Principal, AuthError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match &mut self.state {
            VerifyState::Ready(r) => Poll::Ready(r.take().unwrap_or_else(|| {
                Err(AuthError::BackendUnavailable(
                    "verification polled after completion".into(),
                ))
            })),
            VerifyState::Pending(f) => f.as_mut().poll(cx),
        }
    }
}
