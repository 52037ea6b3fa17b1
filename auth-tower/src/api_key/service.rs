use std::sync::Arc;
use std::task::{Context, Poll};

use auth_core::api_key::Verified;
use auth_core::audit::Method;
use auth_core::{AuthError, AuthMethod, ErrorCode, InvalidRequest, Principal};
use http::{HeaderMap, Request, Response};
use tower_service::Service;

use super::future::ResponseFuture;
use super::layer::ApiKeyConfig;
use crate::CredentialSource;
use crate::rejection::{Rejection, Schemes, is_grpc};
use crate::response::RejectionResponse;

/// Middleware that authenticates requests with API keys; see
/// [`ApiKeyLayer`](super::ApiKeyLayer).
#[derive(Clone, Debug)]
pub struct ApiKey<S, R> {
    inner: S,
    config: Arc<ApiKeyConfig>,
    responder: R,
}

impl<S, R> ApiKey<S, R> {
    pub(crate) fn from_parts(inner: S, config: Arc<ApiKeyConfig>, responder: R) -> Self {
        Self {
            inner,
            config,
            responder,
        }
    }

    define_inner_service_accessors!();
}

/// Query parameter names clients commonly put keys in; refused unless explicitly allowed.
const KEYISH_PARAMS: [&str; 4] = ["api_key", "apikey", "api-key", "x-api-key"];

/// Marks every value of the key header sensitive, so `Debug` output and HPACK skip them.
fn mark_sensitive(headers: &mut HeaderMap, name: &http::HeaderName) {
    if let http::header::Entry::Occupied(mut e) = headers.entry(name) {
        for v in e.iter_mut() {
            v.set_sensitive(true);
        }
    }
}

/// The presented key, if any.
///
/// - `Err(InvalidRequest::MultipleCredentials)`: the header twice, or header and query both.
/// - `Err(InvalidRequest::MalformedHeader)`: a header value that is not visible ASCII.
/// - `Err(InvalidRequest::CredentialsInQuery)`: something key-like in the query string while
///   query keys are not allowed.
/// - `Ok(Some(""))` for an empty header: rejected by format as `INVALID_API_KEY`.
pub(crate) fn extract<'r, B>(
    config: &ApiKeyConfig,
    req: &'r Request<B>,
) -> Result<Option<&'r str>, AuthError> {
    let mut values = req.headers().get_all(&config.header).iter();
    let header = match values.next() {
        None => None,
        Some(_) if values.next().is_some() => {
            return Err(InvalidRequest::MultipleCredentials.into());
        }
        Some(v) => Some(
            v.to_str()
                .map_err(|_| InvalidRequest::MalformedHeader)?
                .trim_matches([' ', '\t']),
        ),
    };
    let mut from_query = None;
    for (name, value) in req.uri().query().into_iter().flat_map(query_pairs) {
        if config.query_param.as_deref() == Some(name) {
            if from_query.is_some() {
                return Err(InvalidRequest::MultipleCredentials.into());
            }
            from_query = Some(value);
        } else if !value.is_empty()
            && (KEYISH_PARAMS.iter().any(|p| p.eq_ignore_ascii_case(name))
                || config.keys.check_format(value).is_ok())
        {
            return Err(InvalidRequest::CredentialsInQuery.into());
        }
    }
    match (header, from_query) {
        (Some(_), Some(_)) => Err(InvalidRequest::MultipleCredentials.into()),
        (Some(k), None) | (None, Some(k)) => Ok(Some(k)),
        (None, None) => Ok(None),
    }
}

/// `name=value` pairs of a raw query string (not percent-decoded: keys are base62 and `_`).
fn query_pairs(query: &str) -> impl Iterator<Item = (&str, &str)> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| p.split_once('=').unwrap_or((p, "")))
}

/// Finishes a successful verification: usage write, extensions and the decision event.
///
/// Refuses (`ConflictingCredentials`) when an earlier layer already put a principal into the
/// request: this layer never replaces one. [`ApiKey::call`] refuses such requests before
/// verifying; this check covers every path, the pending store lookup included.
pub(crate) fn accept<B>(
    config: &ApiKeyConfig,
    verified: Verified,
    req: &mut Request<B>,
) -> Result<(), AuthError> {
    if req.extensions().get::<Principal>().is_some() {
        return Err(InvalidRequest::ConflictingCredentials.into());
    }
    // `extract` refused a key in both places, so the header's presence says where it was.
    let source = if req.headers().contains_key(&config.header) {
        CredentialSource::Header
    } else {
        CredentialSource::Query
    };
    let (principal, usage) = verified.into_parts();
    if let Some(write) = usage {
        config.spawn_usage(write);
    }
    let key_id = match principal.auth_method() {
        AuthMethod::ApiKey { key_id } => key_id.as_str(),
        _ => "",
    };
    tracing::debug!(
        target: "auth::decision",
        outcome = "accept",
        method = "api_key",
        subject = principal.subject(),
        key_id,
        source = ?source,
        path = req.uri().path(),
    );
    crate::audit::authenticated(req, Method::ApiKey, &principal);
    let ext = req.extensions_mut();
    // An earlier optional layer's "no credentials" marker no longer holds.
    if ext
        .get::<Rejection>()
        .is_some_and(|r| r.code() == ErrorCode::MissingCredentials)
    {
        ext.remove::<Rejection>();
    }
    ext.insert(principal);
    // For the CsrfLayer: only a header credential exempts a request from its check.
    ext.insert(source);
    Ok(())
}

/// Builds the rejection and emits the decision event (code and reason, never the key).
pub(crate) fn reject<B>(
    config: &ApiKeyConfig,
    error: AuthError,
    req: &Request<B>,
    schemes: Schemes,
) -> Rejection {
    tracing::debug!(
        target: "auth::decision",
        outcome = "reject",
        method = "api_key",
        code = error.code().as_str(),
        reason = %error,
        path = req.uri().path(),
    );
    crate::audit::unauthenticated(req, Method::ApiKey, error.code());
    Rejection::new(error, config.realm.clone(), is_grpc(req.headers())).with_schemes(schemes)
}

impl<S, R, ReqBody, ResBody> Service<Request<ReqBody>> for ApiKey<S, R>
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
        let config = &*self.config;
        mark_sensitive(req.headers_mut(), &config.header);
        crate::audit::start(&mut req);
        let authenticated = req.extensions().get::<Principal>().is_some();
        let verify = match extract(config, &req) {
            Ok(Some(_)) if authenticated => {
                // Another layer (e.g. BearerLayer) authenticated this request already: which
                // identity counts would be ambiguous, so neither.
                let rejection = reject(
                    config,
                    InvalidRequest::ConflictingCredentials.into(),
                    &req,
                    Schemes::BOTH,
                );
                return ResponseFuture::rejected(&mut self.responder, rejection);
            }
            Ok(Some(key)) => config.keys.verify(key),
            Ok(None) if authenticated => return ResponseFuture::future(self.inner.call(req)),
            Ok(None) if config.optional => {
                tracing::debug!(
                    target: "auth::decision",
                    outcome = "anonymous",
                    method = "api_key",
                    path = req.uri().path(),
                );
                crate::audit::anonymous(&req, Method::ApiKey);
                let grpc = is_grpc(req.headers());
                Rejection::merge_missing(
                    req.extensions_mut(),
                    &config.realm,
                    Schemes::API_KEY,
                    grpc,
                );
                return ResponseFuture::future(self.inner.call(req));
            }
            Ok(None) => {
                // Challenge every scheme the route accepts (an optional BearerLayer before
                // this one left its marker).
                let grpc = is_grpc(req.headers());
                let missing =
                    Rejection::missing(req.extensions(), &config.realm, Schemes::API_KEY, grpc);
                let rejection = reject(
                    config,
                    AuthError::MissingCredentials,
                    &req,
                    missing.schemes(),
                );
                return ResponseFuture::rejected(&mut self.responder, rejection);
            }
            Err(e) => {
                let rejection = reject(config, e, &req, Schemes::API_KEY);
                return ResponseFuture::rejected(&mut self.responder, rejection);
            }
        };
        match verify.into_ready() {
            Ok(Ok(verified)) => match accept(config, verified, &mut req) {
                Ok(()) => ResponseFuture::future(self.inner.call(req)),
                Err(e) => {
                    let schemes = Schemes::for_error(&e, Schemes::API_KEY);
                    let rejection = reject(config, e, &req, schemes);
                    ResponseFuture::rejected(&mut self.responder, rejection)
                }
            },
            Ok(Err(e)) => {
                let rejection = reject(config, e, &req, Schemes::API_KEY);
                ResponseFuture::rejected(&mut self.responder, rejection)
            }
            Err(pending) => {
                // The store must be asked first. The ready inner service goes into the future;
                // this service keeps a fresh clone that must be polled ready again.
                let clone = self.inner.clone();
                let inner = std::mem::replace(&mut self.inner, clone);
                ResponseFuture::authorize(
                    pending,
                    inner,
                    req,
                    Arc::clone(&self.config),
                    self.responder.clone(),
                )
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api_key::ApiKeyLayer;
    use auth_core::api_key::{ApiKeys, MemoryApiKeyStore};

    fn config(query: Option<&str>) -> Arc<ApiKeyConfig> {
        let keys = ApiKeys::builder(MemoryApiKeyStore::new())
            .prefix("test_live")
            .build()
            .unwrap();
        let mut b = ApiKeyLayer::builder(keys);
        if let Some(q) = query {
            b = b.dangerous_allow_query_param(q);
        }
        b.build().unwrap().config_for_tests()
    }

    fn req(uri: &str, headers: &[&str]) -> Request<()> {
        let mut r = Request::get(uri);
        for h in headers {
            r = r.header("x-api-key", *h);
        }
        r.body(()).unwrap()
    }

    fn key(c: &ApiKeyConfig) -> String {
        c.keys.prefix().generate().unwrap().into_exposed_string()
    }

    #[test]
    fn the_header_is_read_and_trimmed() {
        let c = config(None);
        let k = key(&c);
        let r = req("/", &[&format!(" {k} ")]);
        assert_eq!(extract(&c, &r).unwrap(), Some(k.as_str()));
        assert_eq!(extract(&c, &req("/", &[])).unwrap(), None);
        assert_eq!(extract(&c, &req("/", &[""])).unwrap(), Some(""));
    }

    #[test]
    fn two_headers_are_an_invalid_request() {
        let c = config(None);
        assert_eq!(
            extract(&c, &req("/", &["a", "b"])).unwrap_err(),
            AuthError::InvalidRequest(InvalidRequest::MultipleCredentials)
        );
    }

    #[test]
    fn non_ascii_headers_are_malformed() {
        let c = config(None);
        let r = Request::get("/")
            .header("x-api-key", http::HeaderValue::from_bytes(b"\xff").unwrap())
            .body(())
            .unwrap();
        assert_eq!(
            extract(&c, &r).unwrap_err(),
            AuthError::InvalidRequest(InvalidRequest::MalformedHeader)
        );
    }

    #[test]
    fn keys_in_the_query_string_are_refused_by_default() {
        let c = config(None);
        let k = key(&c);
        for uri in [
            format!("/?api_key={k}"),
            format!("/?page=2&token={k}"),
            "/?apikey=whatever".to_owned(),
            "/?X-API-KEY=whatever".to_owned(),
        ] {
            assert_eq!(
                extract(&c, &req(&uri, &[])).unwrap_err(),
                AuthError::InvalidRequest(InvalidRequest::CredentialsInQuery),
                "{uri}"
            );
        }
        // Ordinary query strings are fine.
        for uri in [
            "/?page=2&sort=asc",
            "/?key=abc",
            "/?api_key=",
            "/?&&",
            "/?flag",
        ] {
            assert_eq!(extract(&c, &req(uri, &[])).unwrap(), None, "{uri}");
        }
    }

    #[test]
    fn an_allowed_query_parameter_is_read_once() {
        let c = config(Some("api_key"));
        let k = key(&c);
        let uri = format!("/?api_key={k}");
        assert_eq!(extract(&c, &req(&uri, &[])).unwrap(), Some(k.as_str()));
        assert_eq!(
            extract(&c, &req(&format!("{uri}&api_key={k}"), &[])).unwrap_err(),
            AuthError::InvalidRequest(InvalidRequest::MultipleCredentials)
        );
        assert_eq!(
            extract(&c, &req(&uri, &[&k])).unwrap_err(),
            AuthError::InvalidRequest(InvalidRequest::MultipleCredentials)
        );
    }

    #[test]
    fn header_values_are_marked_sensitive() {
        let mut h = HeaderMap::new();
        h.append("x-api-key", http::HeaderValue::from_static("a"));
        h.append("x-api-key", http::HeaderValue::from_static("b"));
        mark_sensitive(&mut h, &http::HeaderName::from_static("x-api-key"));
        assert!(
            h.get_all("x-api-key")
                .iter()
                .all(http::HeaderValue::is_sensitive)
        );
    }
}
