use std::sync::Arc;
use std::task::{Context, Poll};

use auth_core::audit::Method;
#[cfg(feature = "revocation")]
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

/// The pending revocation lookup of a verified principal.
#[cfg(feature = "revocation")]
pub(crate) type RevocationFuture = BoxFuture<'static, Result<Principal, AuthError>>;

/// Where a verified principal stands with respect to revocation.
pub(crate) enum Revocation {
    /// Not revoked (or no store configured).
    Clear(Principal),
    /// Revoked, or the store failed.
    #[cfg_attr(not(feature = "revocation"), allow(dead_code))]
    Refused(AuthError),
    /// The store must be awaited.
    #[cfg(feature = "revocation")]
    Pending(RevocationFuture),
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
    let schemes = Schemes::for_error(&error, Schemes::BEARER);
    Rejection::new(error, config.realm.clone(), is_grpc(req.headers())).with_schemes(schemes)
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
        let token = match credentials::bearer_from_header(req.headers()) {
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
                Rejection::merge_missing(
                    req.extensions_mut(),
                    &config.realm,
                    Schemes::BEARER,
                    grpc,
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
                let principal = match check_revocation(config, principal) {
                    Revocation::Clear(p) => p,
                    Revocation::Refused(e) => {
                        let rejection = reject(config, e, &req);
                        return ResponseFuture::rejected(&mut self.responder, rejection);
                    }
                    #[cfg(feature = "revocation")]
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
