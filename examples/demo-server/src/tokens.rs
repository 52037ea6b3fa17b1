//! Token pairs: issuing at login, rotating at refresh, revoking at logout.
//!
//! | route | body | answer |
//! |---|---|---|
//! | `POST /auth/refresh` | `{"refresh_token"}` | 200 a new pair (below); 401 `REFRESH_TOKEN_REUSED` (the session is revoked), `REFRESH_TOKEN_EXPIRED`, `INVALID_REFRESH_TOKEN`; 400 `INVALID_REQUEST`; 503 without a signing key |
//! | `POST /auth/logout` | `{"refresh_token"}` (optional) | bearer required; 204: the access token is revoked, and so is its refresh family |
//! | `POST /auth/logout-all` | `{"revoke_api_keys":true}` (optional) | bearer required; 204: every token of the user issued so far and every refresh family are revoked, and with `revoke_api_keys`, every API key of the user too; 400/415/422 `INVALID_REQUEST` for a malformed body |
//!
//! A pair is the OAuth 2.0 token response (RFC 6749 section 5.1), sent with
//! `Cache-Control: no-store`:
//!
//! ```json
//! {"access_token":"eyJ...","token_type":"Bearer","expires_in":900,
//!  "refresh_token":"...","refresh_expires_in":2592000,"scope":"read:orders"}
//! ```
//!
//! The access token is a JWT (`typ: at+jwt`, the key's `kid`; claims `sub`, `iat`, `exp`,
//! `jti`, `iss`, `aud`, `roles`, `scope` and `sid`, the refresh family it belongs to, so a
//! logout can end the session with the access token alone; and how the session's login
//! authenticated: `amr` (`["pwd"]`, or `["pwd","otp","mfa"]` after a second factor), `acr`
//! (`aal2` after a second factor) and `auth_time`, see [`crate::mfa`]). A refresh copies
//! `amr`, `acr` and `auth_time` from the session's login, unchanged. The refresh token is opaque (256
//! random bits; the server keeps a SHA-256 digest), lives 30 days (`AUTH_REFRESH_TOKEN_TTL`;
//! access tokens: `AUTH_ACCESS_TOKEN_TTL`, 900 s) and is replaced at every
//! refresh; presenting a replaced one again is reuse: the whole session is revoked.
//!
//! After `/auth/logout` or `/auth/logout-all` the revoked access tokens answer 401
//! `TOKEN_REVOKED` on every protected route (the `BearerLayer`s consult the revocation store).
//!
//! **API keys are separate credentials**: they outlive `/auth/logout-all` unless the body says
//! `{"revoke_api_keys": true}`, which also revokes every key of the user that still works
//! (active, or rotated and in its grace period); they then answer 401 `API_KEY_REVOKED`. The
//! keys are listed, then revoked one by one: a key created by a request running at the same
//! moment can survive, and a failure midway answers 503 (the tokens and sessions are revoked by
//! then; call it again).

use std::fmt;
use std::sync::Arc;

use auth_axum_extractors::Authenticated;
use auth_axum_extractors::openapi::{self, Access, SecuredRoutes};
use auth_core::clock::Clock;
use auth_core::jwt::{AccessGrant, AccessToken, TokenIssuer};
use auth_core::mfa::{AuthContext, AuthContextStore, Mfa};
use auth_core::refresh::{FamilyId, IssuedRefreshToken, RefreshTokens};
use auth_core::revocation::Revoker;
use auth_core::{AuthError, ConfigError};
use auth_tower::Rejection;
use auth_tower::response::{JsonRejection as JsonResponder, RejectionResponse};
use axum::Json;
use axum::extract::State;
use axum::extract::rejection::JsonRejection;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::Demo;
use crate::roles::{Role, Roles};
use crate::users::{Account, Users};

/// The claim that carries the refresh family (session) id in access tokens.
pub const SESSION_CLAIM: &str = "sid";

/// What the token routes share. Cheap to clone.
#[derive(Clone)]
pub(crate) struct Tokens {
    pub(crate) issuer: Option<TokenIssuer>,
    pub(crate) refresh: RefreshTokens,
    pub(crate) revoker: Revoker,
    pub(crate) users: Users,
    pub(crate) roles: Roles,
    pub(crate) cookies: auth_tower::cookies::SessionCookies,
    pub(crate) verifier: auth_core::jwt::JwtVerifier,
    pub(crate) api_keys: auth_core::api_key::ApiKeys,
    pub(crate) accounts: crate::issuers::AccountKeys,
    pub(crate) mfa: Mfa,
    pub(crate) auth_contexts: Arc<dyn AuthContextStore>,
    pub(crate) clock: Arc<dyn Clock>,
    /// DPoP settings: whether a login's proof binds its token.
    pub(crate) resource: crate::resource::ResourceServer,
}

impl fmt::Debug for Tokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tokens")
            .field("issues", &self.issuer.is_some())
            .finish_non_exhaustive()
    }
}

impl Tokens {
    pub(crate) fn of(demo: &Demo) -> Self {
        Self {
            issuer: demo.issuer.clone(),
            refresh: demo.refresh.clone(),
            revoker: demo.revoker.clone(),
            users: demo.users.clone(),
            roles: demo.roles.clone(),
            cookies: demo.cookies.clone(),
            verifier: demo.verifier.clone(),
            api_keys: demo.api_keys.clone(),
            accounts: demo.accounts.clone(),
            mfa: demo.mfa.clone(),
            auth_contexts: Arc::clone(&demo.auth_contexts),
            clock: Arc::clone(&demo.clock),
            resource: demo.resource.clone(),
        }
    }

    /// The issuer, or the 503 a verify-only demo answers on its issuing routes.
    pub(crate) fn issuer(&self) -> Result<&TokenIssuer, Box<Response>> {
        self.issuer.as_ref().ok_or_else(|| {
            tracing::error!(
                target: "demo::tokens",
                "cannot issue tokens: the demo verifies with a public key only"
            );
            error(
                StatusCode::SERVICE_UNAVAILABLE,
                "AUTH_BACKEND_UNAVAILABLE",
                "this server has only a public key (AUTH_JWT_PUBLIC_KEY_FILE): it verifies \
                 tokens but cannot issue them; set AUTH_JWT_SECRET or AUTH_JWT_ALG with \
                 AUTH_JWT_PRIVATE_KEY_FILE to enable login, refresh and sessions",
            )
            .into()
        })
    }

    /// Starts a session for `account`, authenticated as `context` says: a refresh family, the
    /// context kept for it, and an access token naming the family and carrying the context.
    pub(crate) async fn start(
        &self,
        issuer: &TokenIssuer,
        account: &Account,
        context: &AuthContext,
    ) -> Result<TokenPair, AuthError> {
        self.start_bound(issuer, account, context, None).await
    }

    /// [`start`](Self::start), with the access token bound to the DPoP key whose RFC 7638
    /// thumbprint is `jkt` (`cnf.jkt`, `token_type` `DPoP`) when there is one.
    pub(crate) async fn start_bound(
        &self,
        issuer: &TokenIssuer,
        account: &Account,
        context: &AuthContext,
        jkt: Option<String>,
    ) -> Result<TokenPair, AuthError> {
        let refresh = self.refresh.issue(&account.subject).await?;
        self.keep_context(&refresh, context).await?;
        let mut pair = self.pair(issuer, account, refresh, Some(context), jkt.as_deref())?;
        pair.dpop_bound = jkt.is_some();
        Ok(pair)
    }

    /// Exchanges a refresh token for a new pair.
    pub(crate) async fn rotate(
        &self,
        issuer: &TokenIssuer,
        presented: &str,
    ) -> Result<TokenPair, AuthError> {
        let refresh = self.refresh.rotate(presented).await?;
        let account = match self.users.by_subject(refresh.subject()).await {
            Ok(Some(a)) => a,
            Ok(None) => {
                // The account is gone: end its session.
                self.refresh.revoke_family(refresh.family()).await?;
                return Err(AuthError::InvalidRefreshToken);
            }
            Err(e) => return Err(backend("user store", &e)),
        };
        // The session's login context, unchanged: a refresh is not an authentication.
        let context = self.refreshed_context(&refresh).await;
        self.pair(issuer, &account, refresh, context.as_ref(), None)
    }

    fn pair(
        &self,
        issuer: &TokenIssuer,
        account: &Account,
        refresh: IssuedRefreshToken,
        context: Option<&AuthContext>,
        jkt: Option<&str>,
    ) -> Result<TokenPair, AuthError> {
        let role = self.roles.role_of(&account.subject);
        let grant = AccessGrant::new(account.subject.clone())
            .role(role.as_str())
            .scopes(role.default_scopes().iter().copied())
            .claim(SESSION_CLAIM, refresh.family().as_str());
        let grant = match context {
            Some(ctx) => ctx.apply(grant),
            None => grant,
        };
        let grant = match jkt {
            Some(jkt) => grant.claim("cnf", json!({ "jkt": jkt })),
            None => grant,
        };
        let access = issuer
            .issue(&grant)
            .map_err(|e| backend("token issuer", &e))?;
        Ok(TokenPair {
            subject: account.subject.clone(),
            access,
            refresh,
            role,
            dpop_bound: false,
        })
    }

    /// Ends the session of `principal`'s token: the token itself (by `jti`), its refresh
    /// family (the `sid` claim), and the family of `refresh_token` if one was presented.
    pub(crate) async fn end_session(
        &self,
        principal: &auth_core::Principal,
        refresh_token: Option<&str>,
    ) -> Result<(), AuthError> {
        self.revoker.revoke_token(principal).await?;
        // Only the demo's own tokens name one of its sessions; with the refresh tokens wired
        // to the revoker (`Demo::refresh_tokens`), revoking the family also revokes every
        // access token of the session.
        if let Some(sid) = session_id(principal).filter(|_| self.accounts.is_local(principal)) {
            self.refresh.revoke_family(&sid).await?;
            self.forget_context(&sid).await?;
        }
        if let Some(token) = refresh_token
            && let Some(family) = self.refresh.revoke(token).await?
        {
            self.forget_context(&family).await?;
        }
        tracing::info!(target: "demo::tokens", subject = principal.subject(), "logged out");
        Ok(())
    }
}

/// The refresh family named by the token's `sid` claim.
pub(crate) fn session_id(principal: &auth_core::Principal) -> Option<FamilyId> {
    principal
        .claims()?
        .get(SESSION_CLAIM)?
        .as_str()
        .filter(|s| !s.is_empty())
        .map(FamilyId::new)
}

pub(crate) fn backend(what: &str, e: &dyn fmt::Display) -> AuthError {
    tracing::error!(target: "demo::tokens", error = %e, "{what} failed");
    AuthError::BackendUnavailable(format!("{what} failed"))
}

/// A freshly issued access token and refresh token. `Debug` hides both.
pub(crate) struct TokenPair {
    pub(crate) subject: String,
    pub(crate) access: AccessToken,
    pub(crate) refresh: IssuedRefreshToken,
    pub(crate) role: Role,
    /// Whether the access token is bound to a DPoP key (`token_type` `DPoP`).
    pub(crate) dpop_bound: bool,
}

impl fmt::Debug for TokenPair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenPair")
            .field("subject", &self.subject)
            .field("access", &self.access)
            .field("refresh", &self.refresh)
            .finish()
    }
}

impl TokenPair {
    pub(crate) fn scope(&self) -> String {
        self.role.default_scopes().join(" ")
    }

    /// The RFC 6749 token response.
    pub(crate) fn response(&self) -> Response {
        let body = json!({
            "access_token": self.access.as_str(),
            "token_type": if self.dpop_bound { "DPoP" } else { "Bearer" },
            "expires_in": self.access.expires_in().as_secs(),
            "refresh_token": self.refresh.token().as_str(),
            "refresh_expires_in": self.refresh.lifetime().as_secs(),
            "scope": self.scope(),
        });
        no_store(Json(body).into_response())
    }
}

/// Adds `Cache-Control: no-store` (RFC 6749 section 5.1: token responses must not be cached).
pub(crate) fn no_store(mut res: Response) -> Response {
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

/// `{"error":{"code","message"}}` with `Cache-Control: no-store`.
pub(crate) fn error(status: StatusCode, code: &str, message: &str) -> Response {
    no_store(
        (
            status,
            Json(json!({"error": {"code": code, "message": message}})),
        )
            .into_response(),
    )
}

/// A library rejection rendered as the layers render it, with the `Rejection` in the
/// response extensions.
pub(crate) fn rejection(error: AuthError) -> Response {
    let rejection = Rejection::from_error(error);
    let mut res: Response = JsonResponder.response(&rejection);
    res.extensions_mut().insert(rejection);
    res
}

/// The body of a JSON route, or the answer to a body that is not one: axum's statuses (415
/// without `Content-Type: application/json`, 400 for malformed JSON, 422 for missing or
/// mistyped fields) with code `INVALID_REQUEST` and a message naming the expected `shape`.
/// axum's own message is not used: serde's messages may quote the input, and the input may
/// hold a password or a token.
pub(crate) fn json_body<T>(
    body: Result<Json<T>, JsonRejection>,
    shape: &str,
) -> Result<T, Box<Response>> {
    body.map(|Json(b)| b)
        .map_err(|e| Box::new(bad_body(&e, shape)))
}

/// The answer to a body that is not the JSON object `shape`; see [`json_body`].
pub(crate) fn bad_body(e: &JsonRejection, shape: &str) -> Response {
    tracing::debug!(target: "demo::tokens", status = e.status().as_u16(), "malformed body");
    error(
        e.status(),
        "INVALID_REQUEST",
        &format!("the body must be a JSON object {shape} sent as application/json"),
    )
}

/// `POST /auth/refresh`, `/auth/logout` and `/auth/logout-all`.
///
/// # Errors
///
/// When a layer's configuration is invalid.
pub fn router(demo: &Demo) -> Result<SecuredRoutes, ConfigError> {
    let bearer = demo.bearer()?;
    let csrf = demo.csrf(&[demo.cookies.access_name()])?;
    let access = || Access::authenticated(crate::openapi::BEARER_SCHEMES);
    let protected = SecuredRoutes::with_scope_layer(crate::openapi::scope_layer)
        .route("/auth/logout", openapi::post(logout), access())?
        .route("/auth/logout-all", openapi::post(logout_all), access())?
        .route_layer(crate::audit::layer(demo, auth_core::audit::Method::Logout))
        .route_layer(csrf)
        .route_layer(bearer);
    // The refresh token travels in the body, which OpenAPI security schemes cannot describe.
    Ok(SecuredRoutes::new()
        .route(
            "/auth/refresh",
            openapi::post(refresh)
                .route_layer(crate::audit::layer(demo, auth_core::audit::Method::Refresh)),
            Access::public(),
        )?
        .merge(protected)?
        .with_state(Arc::new(Tokens::of(demo))))
}

#[derive(Deserialize)]
struct RefreshBody {
    refresh_token: String,
}

#[derive(Default, Deserialize)]
struct LogoutAllBody {
    #[serde(default)]
    revoke_api_keys: bool,
}

#[derive(Deserialize)]
struct LogoutBody {
    #[serde(default)]
    refresh_token: Option<String>,
}

async fn refresh(
    State(tokens): State<Arc<Tokens>>,
    body: Result<Json<RefreshBody>, JsonRejection>,
) -> Response {
    let body = match json_body(body, r#"{"refresh_token":"..."}"#) {
        Ok(b) => b,
        Err(res) => return *res,
    };
    let issuer = match tokens.issuer() {
        Ok(i) => i,
        Err(res) => return *res,
    };
    match tokens.rotate(issuer, &body.refresh_token).await {
        Ok(pair) => pair.response(),
        Err(e) => rejection(e),
    }
}

async fn logout(
    State(tokens): State<Arc<Tokens>>,
    p: Authenticated,
    body: Result<Option<Json<LogoutBody>>, JsonRejection>,
) -> Response {
    // The body is optional: without one (no Content-Type), the session is found by the access
    // token's `sid` claim.
    let body = match body {
        Ok(Some(Json(b))) => b,
        Ok(None) => LogoutBody {
            refresh_token: None,
        },
        Err(e) => return bad_body(&e, r#"{"refresh_token":"..."}"#),
    };
    match tokens.end_session(&p, body.refresh_token.as_deref()).await {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => rejection(e),
    }
}

async fn logout_all(
    State(tokens): State<Arc<Tokens>>,
    p: Authenticated,
    body: Result<Option<Json<LogoutAllBody>>, JsonRejection>,
) -> Response {
    // The body is optional: without one (no Content-Type), API keys are kept.
    let body = match body {
        Ok(Some(Json(b))) => b,
        Ok(None) => LogoutAllBody::default(),
        Err(e) => return bad_body(&e, r#"{"revoke_api_keys":true}"#),
    };
    // Every record is keyed by the account: a provider token whose `sub` equals a local
    // subject reaches none of that account's sessions or keys.
    let account = tokens.accounts.key(&p);
    let subject = &*account;
    let revoked = async {
        tokens.revoker.revoke_subject_of(&p.0).await?;
        tokens.refresh.revoke_subject(subject).await
    };
    let sessions = match revoked.await {
        Ok(sessions) => sessions,
        Err(e) => return rejection(e),
    };
    let keys = if body.revoke_api_keys {
        match revoke_api_keys(&tokens.api_keys, subject).await {
            Ok(n) => n,
            Err(e) => {
                tracing::error!(target: "demo::tokens", error = %e, subject, "revoking api keys failed");
                return rejection(AuthError::BackendUnavailable("api key store".into()));
            }
        }
    } else {
        0
    };
    tracing::info!(
        target: "demo::tokens",
        subject,
        sessions,
        api_keys_revoked = keys,
        "logged out everywhere"
    );
    StatusCode::NO_CONTENT.into_response()
}

/// Revokes every key of `owner` that still works (active, or rotated and in its grace period);
/// returns how many.
async fn revoke_api_keys(
    keys: &auth_core::api_key::ApiKeys,
    owner: &str,
) -> Result<usize, auth_core::api_key::ApiKeyError> {
    let now = keys.now();
    let mut revoked = 0;
    for record in keys.list(owner).await? {
        if record.status(now) == auth_core::api_key::ApiKeyStatus::Active {
            keys.revoke(&record.id, owner).await?;
            revoked += 1;
        }
    }
    Ok(revoked)
}

/// The JSON of a [`TokenPair`]'s access part only, for the cookie session's answers.
pub(crate) fn session_body(pair: &TokenPair) -> Value {
    json!({
        "sub": pair.subject,
        "expires_in": pair.access.expires_in().as_secs(),
        "refresh_expires_in": pair.refresh.lifetime().as_secs(),
        "scope": pair.scope(),
    })
}
