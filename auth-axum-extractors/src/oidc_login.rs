//! Sign-in with OpenID Providers, mounted as two routes: `GET /{provider}` starts a login (303
//! to the provider) and `GET /{provider}/callback` completes it and hands the verified
//! [`CompletedLogin`] to your [`LoginHooks`], which signs the user in (find or create the
//! account, link an identity, start the session) and answers.
//!
//! [`LoginRoutes`] is a tower `Service`, so one line mounts it under a prefix:
//! `Router::new().nest_service("/auth/login", LoginRoutes::new(login, hooks))`. Its
//! [`begin`](LoginRoutes::begin) and [`callback`](LoginRoutes::callback) methods serve the same
//! answers for applications that route themselves.
//!
//! Answers:
//!
//! | request | answer |
//! |---|---|
//! | `GET /{provider}?return_to=/path` | 303 to the provider, with the transaction cookie |
//! | `GET /{provider}?link=true` | the same, if [`LoginHooks::current_account`] names the signed-in account; else 401 `MISSING_CREDENTIALS` |
//! | `GET /{provider}/callback` (verified) | whatever [`LoginHooks::completed`] answers |
//! | `GET /{provider}/callback` (refused) | [`LoginHooks::failed`]: by default 400 `{"error":{"code","message"}}` with `LOGIN_STATE_INVALID`, `LOGIN_FAILED` (plus `provider_error`, e.g. `access_denied`) or `INVALID_ID_TOKEN`; 503 `AUTH_BACKEND_UNAVAILABLE` when the provider or a store is unreachable |
//! | unknown provider or path | 404; another method: 405 |
//!
//! Every answer has `Cache-Control: no-store`, and every callback answer removes the
//! transaction cookie, whatever the outcome (the hook's response gets the `Set-Cookie` too).
//!
//! # Example
//!
//! ```
//! # use auth_core::jwks::{FetchRequest, HttpClient, HttpError, HttpRequest, HttpResponse};
//! # use auth_core::jwt::BoxFuture;
//! # #[derive(Debug)]
//! # struct Reqwest; // stands for auth_core::jwks::ReqwestClient (feature jwks-reqwest)
//! # impl HttpClient for Reqwest {
//! #     fn get(&self, _: FetchRequest) -> BoxFuture<'static, Result<HttpResponse, HttpError>> {
//! #         Box::pin(async { Err(HttpError::Timeout) })
//! #     }
//! #     fn send(&self, _: HttpRequest) -> BoxFuture<'static, Result<HttpResponse, HttpError>> {
//! #         Box::pin(async { Err(HttpError::Timeout) })
//! #     }
//! # }
//! use auth_axum_extractors::oidc_login::{LoginHooks, LoginRoutes};
//! use auth_core::oidc_login::{CompletedLogin, OidcLogin, ProviderConfig};
//! use auth_core::seal::SealingKey;
//! use axum::Router;
//! use axum::response::{IntoResponse, Redirect, Response};
//! use http::request::Parts;
//!
//! #[derive(Clone)]
//! struct Hooks; // your user store and session manager
//!
//! impl LoginHooks for Hooks {
//!     async fn current_account(&self, _parts: &Parts) -> Option<String> {
//!         None // read the session cookie; Some(account id) when signed in
//!     }
//!     async fn completed(&self, login: CompletedLogin, _parts: Parts) -> Response {
//!         // sign_in(&identities, &login, &new_id) or link_identity(..), start the session,
//!         // then go where the user was going:
//!         Redirect::to(login.return_to()).into_response()
//!     }
//! }
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let login = OidcLogin::builder(SealingKey::new(1, &[7; 32])?)
//!     .provider(ProviderConfig::new(
//!         "acme",
//!         "https://login.acme.example",
//!         "my-app",
//!         "https://app.example/auth/login/acme/callback",
//!     ))
//! #   .http_client(Reqwest)
//!     .build()?;
//! let app: Router = Router::new().nest_service("/auth/login", LoginRoutes::new(login, Hooks));
//! # let _ = app;
//! # Ok(()) }
//! ```

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use auth_core::ErrorCode;
use auth_core::oidc_login::{
    BeginOptions, BeginQuery, CompletedLogin, LoginError, OidcLogin, SetCookie,
};
use axum_core::body::Body;
use axum_core::response::Response;
use http::header::{CACHE_CONTROL, CONTENT_TYPE, COOKIE, LOCATION, SET_COOKIE};
use http::request::Parts;
use http::{HeaderValue, Method, Request, StatusCode};

/// What the application does around a login: who is signed in (for linking), what to do
/// with a verified login, how to answer a failed one.
pub trait LoginHooks: Clone + Send + Sync + 'static {
    /// The account signed in on this request (from your session cookie), for
    /// `?link=true`; `None` when nobody is.
    fn current_account(&self, parts: &Parts) -> impl Future<Output = Option<String>> + Send;

    /// A verified login. Find the account by `login.identity()` (or create it on first
    /// sign-in: [`sign_in`](auth_core::oidc_login::sign_in)), or link the identity to
    /// `login.link_to()` ([`link_identity`](auth_core::oidc_login::link_identity)); start a
    /// fresh session; answer (typically 303 to `login.return_to()`).
    fn completed(
        &self,
        login: CompletedLogin,
        parts: Parts,
    ) -> impl Future<Output = Response> + Send;

    /// A refused login; by default [`error_response`] for its code (with the provider's
    /// `error` value for `LOGIN_FAILED`).
    fn failed(&self, error: &LoginError, parts: &Parts) -> Response {
        let _ = parts;
        login_error_response(error)
    }
}

/// The two login routes over an [`OidcLogin`] and your [`LoginHooks`].
#[derive(Clone, Debug)]
pub struct LoginRoutes<H> {
    login: OidcLogin,
    hooks: H,
}

impl<H: LoginHooks> LoginRoutes<H> {
    /// Routes for `login`'s providers, answering through `hooks`.
    #[must_use]
    pub fn new(login: OidcLogin, hooks: H) -> Self {
        Self { login, hooks }
    }

    /// The login configuration.
    #[must_use]
    pub fn login(&self) -> &OidcLogin {
        &self.login
    }

    /// `GET /{provider}`: 303 to the provider's authorization endpoint with the transaction
    /// cookie (`?return_to=` and `?link=true` as in the module docs); 404 for an unknown
    /// provider.
    pub async fn begin(&self, provider: &str, parts: &Parts) -> Response {
        if self.login.provider(provider).is_none() {
            return status_only(StatusCode::NOT_FOUND);
        }
        let query = BeginQuery::parse(parts.uri.query().unwrap_or(""));
        let mut options = BeginOptions::new().return_to(query.return_to());
        if query.link() {
            match self.hooks.current_account(parts).await {
                Some(account) => options = options.link_to(account),
                None => return error_response(ErrorCode::MissingCredentials, None),
            }
        }
        match self.login.begin(provider, options).await {
            Ok(start) => {
                let mut res = status_only(StatusCode::SEE_OTHER);
                match HeaderValue::try_from(start.authorization_url()) {
                    Ok(location) => {
                        res.headers_mut().insert(LOCATION, location);
                    }
                    Err(_) => {
                        return error_response(ErrorCode::AuthBackendUnavailable, None);
                    }
                }
                add_cookie(&mut res, start.cookie());
                res
            }
            Err(e) => no_store(self.hooks.failed(&e, parts)),
        }
    }

    /// `GET /{provider}/callback`: completes the login; the hooks answer. 404 for an unknown
    /// provider.
    pub async fn callback(&self, provider: &str, parts: Parts) -> Response {
        if self.login.provider(provider).is_none() {
            return status_only(StatusCode::NOT_FOUND);
        }
        let cookies: Vec<&str> = parts
            .headers
            .get_all(COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect();
        let query = parts.uri.query().unwrap_or("");
        let (outcome, clear) = self
            .login
            .complete(provider, query, &cookies)
            .await
            .into_parts();
        let mut res = match outcome {
            Ok(login) => self.hooks.completed(login, parts).await,
            Err(e) => self.hooks.failed(&e, &parts),
        };
        if let Some(clear) = &clear {
            add_cookie(&mut res, clear);
        }
        no_store(res)
    }

    async fn route(&self, method: Method, parts: Parts) -> Response {
        let path = parts.uri.path().trim_start_matches('/').to_owned();
        let (provider, callback) = match path.split_once('/') {
            None => (path.as_str(), false),
            Some((p, "callback")) => (p, true),
            Some(_) => return status_only(StatusCode::NOT_FOUND),
        };
        if provider.is_empty() || self.login.provider(provider).is_none() {
            return status_only(StatusCode::NOT_FOUND);
        }
        if method != Method::GET && method != Method::HEAD {
            let mut res = status_only(StatusCode::METHOD_NOT_ALLOWED);
            res.headers_mut()
                .insert(http::header::ALLOW, HeaderValue::from_static("GET, HEAD"));
            return res;
        }
        if callback {
            self.callback(provider, parts).await
        } else {
            self.begin(provider, &parts).await
        }
    }
}

impl<H: LoginHooks, B: Send + 'static> tower_service::Service<Request<B>> for LoginRoutes<H> {
    type Response = Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        let this = self.clone();
        let (parts, _body) = req.into_parts();
        let method = parts.method.clone();
        Box::pin(async move { Ok(this.route(method, parts).await) })
    }
}

fn status_only(status: StatusCode) -> Response {
    let mut res = Response::new(Body::empty());
    *res.status_mut() = status;
    no_store(res)
}

fn no_store(mut res: Response) -> Response {
    res.headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

fn add_cookie(res: &mut Response, cookie: &SetCookie) {
    if let Ok(v) = HeaderValue::try_from(cookie.header_value()) {
        res.headers_mut().append(SET_COOKIE, v);
    }
}

/// `{"error":{"code","message"}}` (plus `"provider_error"` when given) with the code's status
/// and `Cache-Control: no-store`: the body every login answer and the demo's other endpoints
/// share. Use it for `IDENTITY_ALREADY_LINKED` from your [`LoginHooks::completed`].
#[must_use]
pub fn error_response(code: ErrorCode, provider_error: Option<&str>) -> Response {
    let mut error = serde_json::json!({ "code": code.as_str(), "message": code.message() });
    if let (Some(pe), Some(obj)) = (provider_error, error.as_object_mut()) {
        obj.insert("provider_error".to_owned(), pe.into());
    }
    let body = serde_json::json!({ "error": error }).to_string();
    let mut res = Response::new(Body::from(body));
    *res.status_mut() =
        StatusCode::from_u16(code.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    res.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    no_store(res)
}

/// [`error_response`] for a [`LoginError`]: its code and, for `LOGIN_FAILED`, the provider's
/// `error` value.
#[must_use]
pub fn login_error_response(error: &LoginError) -> Response {
    error_response(error.code(), error.provider_error())
}
