use std::sync::Arc;
use std::task::{Context, Poll};

use auth_core::audit::Method;
#[cfg(any(feature = "revocation", feature = "dpop"))]
use auth_core::jwt::BoxFuture;
#[cfg(feature = "revocation")]
use auth_core::revocation::TokenRef;
#[cfg(feature = "revocation")]
use auth_core::store::StoreError;
use auth_core::{AuthError, InvalidRequest, Principal};
use http::{Request, Response};
use tower_service::Service;

use super::future::ResponseFuture;
use super::layer::BearerConfig;
use crate::CredentialSource;
use crate::credentials;
use crate::rejection::{Rejection, Schemes, is_grpc};
use crate::response::RejectionResponse;

/// Middleware that authenticates requests with JWT bearer tokens; see
/// [`BearerLayer`](super::BearerLayer).
#[derive(Clone, Debug)]
pub struct Bearer<S, R> {
    inner: S,
    config: Arc<BearerConfig>,
    responder: R,
}

impl<S, R> Bearer<S, R> {
    pub(crate) fn from_parts(inner: S, config: Arc<BearerConfig>, responder: R) -> Self {
        Self {
            inner,
            config,
            responder,
        }
    }

    define_inner_service_accessors!();
}

/// Finishes a successful verification: extensions and the decision event.
///
/// Refuses (`ConflictingCredentials`) when an earlier layer already put a principal into the
/// request: this layer never replaces one. [`Bearer::call`] refuses such requests before
/// verifying; this check covers every path, the pending ones included.
pub(crate) fn accept<B>(
    config: &BearerConfig,
    principal: Principal,
    source: CredentialSource,
    req: &mut Request<B>,
) -> Result<(), AuthError> {
    if req.extensions().get::<Principal>().is_some() {
        return Err(InvalidRequest::ConflictingCredentials.into());
    }
    if let Some(insert) = config.insert_claims {
        insert(&principal, req.extensions_mut())?;
    }
    tracing::debug!(
        target: "auth::decision",
        outcome = "accept",
        method = "bearer",
        subject = principal.subject(),
        source = ?source,
        path = req.uri().path(),
    );
    let method = match source {
        CredentialSource::Cookie => Method::Cookie,
        _ => Method::Bearer,
    };
    crate::audit::authenticated(req, method, &principal);
    let ext = req.extensions_mut();
    ext.insert(principal);
    // For the CsrfLayer: only a header credential exempts a request from its check.
    ext.insert(source);
    Ok(())
}

/// The pending checks of a verified principal: the DPoP replay check and/or the revocation
/// lookup.
#[cfg(any(feature = "revocation", feature = "dpop"))]
pub(crate) type RevocationFuture = BoxFuture<'static, Result<Principal, AuthError>>;

/// Where a verified principal stands with respect to revocation.
pub(crate) enum Revocation {
    /// Not revoked (or no store configured).
    Clear(Principal),
    /// Revoked, refused by the DPoP checks, or a store failed.
    Refused(AuthError),
    /// A store must be awaited.
    #[cfg(any(feature = "revocation", feature = "dpop"))]
    Pending(RevocationFuture),
}

/// Everything that follows a successful verification: the token's key binding and DPoP proof
/// (replay included), then revocation. Synchronous when the stores answer so.
#[inline]
pub(crate) fn after_verify<B>(
    config: &BearerConfig,
    principal: Principal,
    req: &Request<B>,
) -> Revocation {
    #[cfg(feature = "dpop")]
    match super::dpop::check(config.dpop.as_ref(), &principal, req) {
        Err(e) => return Revocation::Refused(e),
        Ok(None) => {}
        Ok(Some(proof)) => {
            if let Some(dpop) = config.dpop.as_ref() {
                let now = dpop.verifier.clock().now();
                match super::dpop::replay_now(dpop, &proof, now) {
                    Some(Ok(())) => {}
                    Some(Err(e)) => return Revocation::Refused(e),
                    None => {
                        let store = Arc::clone(&dpop.store);
                        let revocation = revocation_check(config);
                        return Revocation::Pending(Box::pin(async move {
                            super::dpop::replay_async(store, proof, now).await?;
                            match revocation {
                                Some(check) => check(principal).await,
                                None => Ok(principal),
                            }
                        }));
                    }
                }
            }
        }
    }
    #[cfg(not(feature = "dpop"))]
    {
        let _ = req;
        if principal.confirmation_jkt().is_some() {
            // Issue 20: a token bound to a key is never accepted as a plain bearer token.
            return Revocation::Refused(AuthError::InvalidToken(
                auth_core::InvalidToken::DpopBinding(
                    "a dpop-bound token was presented as a bearer token",
                ),
            ));
        }
    }
    check_revocation(config, principal)
}

/// The asynchronous revocation lookup, if a store is configured (for a pending DPoP replay
/// check to run after).
#[cfg(feature = "dpop")]
#[allow(clippy::type_complexity)]
fn revocation_check(
    config: &BearerConfig,
) -> Option<Box<dyn FnOnce(Principal) -> RevocationFuture + Send>> {
    #[cfg(feature = "revocation")]
    if let Some(store) = &config.revocation {
        let store = Arc::clone(store);
        let now = config.verifier.clock().now();
        return Some(Box::new(move |principal| {
            Box::pin(async move {
                let answer = store.is_revoked(TokenRef::of(&principal), now).await;
                revocation_answer(answer).map(|()| principal)
            })
        }));
    }
    #[cfg(not(feature = "revocation"))]
    let _ = config;
    None
}

#[cfg(feature = "revocation")]
fn revocation_answer(answer: Result<bool, StoreError>) -> Result<(), AuthError> {
    match answer {
        Ok(false) => Ok(()),
        Ok(true) => Err(AuthError::TokenRevoked),
        Err(e) => {
            tracing::error!(target: "auth::decision", error = %e, "revocation store failed");
            Err(AuthError::from(e))
        }
    }
}

/// Consults the revocation store, if one is configured: synchronously when it can answer so,
/// otherwise as a future. Without a store this is one `Option` check.
#[inline]
pub(crate) fn check_revocation(config: &BearerConfig, principal: Principal) -> Revocation {
    #[cfg(feature = "revocation")]
    if let Some(store) = &config.revocation {
        let now = config.verifier.clock().now();
        return match store.is_revoked_now(TokenRef::of(&principal), now) {
            Some(answer) => match revocation_answer(answer) {
                Ok(()) => Revocation::Clear(principal),
                Err(e) => Revocation::Refused(e),
            },
            None => {
                let store = Arc::clone(store);
                Revocation::Pending(Box::pin(async move {
                    let answer = store.is_revoked(TokenRef::of(&principal), now).await;
                    revocation_answer(answer).map(|()| principal)
                }))
            }
        };
    }
    #[cfg(not(feature = "revocation"))]
    let _ = config;
    Revocation::Clear(principal)
}

/// Builds the rejection and emits the decision event (reason, never the token).
pub(crate) fn reject<B>(config: &BearerConfig, error: AuthError, req: &Request<B>) -> Rejection {
    tracing::debug!(
        target: "auth::decision",
        outcome = "reject",
        method = "bearer",
        code = error.code().as_str(),
        reason = %error,
        path = req.uri().path(),
    );
    // Without an Authorization header, a configured cookie was the credential (or none was).
    let method =
        if config.cookie.is_some() && !req.headers().contains_key(http::header::AUTHORIZATION) {
            Method::Cookie
        } else {
            Method::Bearer
        };
    crate::audit::unauthenticated(req, method, error.code());
    let schemes = Schemes::for_error(&error, config.schemes);
    Rejection::new(error, config.realm.clone(), is_grpc(req.headers()))
        .with_schemes(schemes)
        .with_extras(config.extras.clone())
}

impl<S, R, ReqBody, ResBody> Service<Request<ReqBody>> for Bearer<S, R>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>> + Clone,
    R: RejectionResponse<ResBody>,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = ResponseFuture<S, ReqBody, ResBody, R>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request<ReqBody>) -> Self::Future {
        credentials::mark_sensitive(req.headers_mut());
        crate::audit::start(&mut req);
        let config = &*self.config;
        // An earlier layer (e.g. an ApiKeyLayer) authenticated this request already.
        let authenticated = req.extensions().get::<Principal>().is_some();
        let token = match credentials::token_from_header(req.headers(), config.accepts_dpop())
            .map(|t| t.map(|(token, _)| token))
        {
            Ok(None) => match config.cookie.as_deref() {
                Some(name) => credentials::cookie(req.headers(), name)
                    .map(|t| t.map(|t| (t, CredentialSource::Cookie))),
                None => Ok(None),
            },
            other => other.map(|t| t.map(|t| (t, CredentialSource::Header))),
        };
        let (verify, source) = match token {
            Ok(Some(_)) if authenticated => {
                // A second credential: which identity counts would be ambiguous, so neither.
                let rejection = reject(config, InvalidRequest::ConflictingCredentials.into(), &req);
                return ResponseFuture::rejected(&mut self.responder, rejection);
            }
            Ok(Some((token, source))) => (config.verify(token), source),
            Ok(None) if authenticated => return ResponseFuture::future(self.inner.call(req)),
            Ok(None) if config.optional => {
                tracing::debug!(
                    target: "auth::decision",
                    outcome = "anonymous",
                    method = "bearer",
                    path = req.uri().path(),
                );
                crate::audit::anonymous(&req, Method::Bearer);
                // Lets extractors answer "credentials required" with this layer's challenge
                // (merged with the marker of another optional layer, e.g. an ApiKeyLayer).
                let grpc = is_grpc(req.headers());
                Rejection::merge_missing_with(
                    req.extensions_mut(),
                    &config.realm,
                    config.schemes,
                    grpc,
                    &config.extras,
                );
                return ResponseFuture::future(self.inner.call(req));
            }
            Ok(None) => {
                let rejection = reject(config, AuthError::MissingCredentials, &req);
                return ResponseFuture::rejected(&mut self.responder, rejection);
            }
            Err(e) => {
                let rejection = reject(config, e, &req);
                return ResponseFuture::rejected(&mut self.responder, rejection);
            }
        };
        match verify.into_ready() {
            Ok(Ok(principal)) => {
                let principal = match after_verify(config, principal, &req) {
                    Revocation::Clear(p) => p,
                    Revocation::Refused(e) => {
                        let rejection = reject(config, e, &req);
                        return ResponseFuture::rejected(&mut self.responder, rejection);
                    }
                    #[cfg(any(feature = "revocation", feature = "dpop"))]
                    Revocation::Pending(check) => {
                        // The store must answer first: the ready inner service goes into the
                        // future, this service keeps a clone to be polled ready again.
                        let clone = self.inner.clone();
                        let inner = std::mem::replace(&mut self.inner, clone);
                        return ResponseFuture::authorizing(
                            check,
                            inner,
                            req,
                            source,
                            Arc::clone(&self.config),
                            self.responder.clone(),
                        );
                    }
                };
                match accept(config, principal, source, &mut req) {
                    Ok(()) => ResponseFuture::future(self.inner.call(req)),
                    Err(e) => {
                        let rejection = reject(config, e, &req);
                        ResponseFuture::rejected(&mut self.responder, rejection)
                    }
                }
            }
            Ok(Err(e)) => {
                let rejection = reject(config, e, &req);
                ResponseFuture::rejected(&mut self.responder, rejection)
            }
            Err(pending) => {
                // The key must be fetched first. The ready inner service goes into the future;
                // this service keeps a fresh clone that must be polled ready again.
                let clone = self.inner.clone();
                let inner = std::mem::replace(&mut self.inner, clone);
                ResponseFuture::verifying(
                    pending,
                    inner,
                    req,
                    source,
                    Arc::clone(&self.config),
                    self.responder.clone(),
                )
            }
        }
    }
}
