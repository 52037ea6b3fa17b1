//! `GET /api/outbound/{*path}`: the demo calling another API with OAuth 2.0 client credentials.
//!
//! | variable | meaning | default |
//! |---|---|---|
//! | `AUTH_OUTBOUND_URL` | base URL of the downstream API; without it the route answers 404 | (off) |
//! | `AUTH_OUTBOUND_TOKEN_URL` | the authorization server's token endpoint | |
//! | `AUTH_OUTBOUND_ISSUER` | the authorization server's issuer: its `token_endpoint` is discovered (OpenID, then RFC 8414 metadata) when `AUTH_OUTBOUND_TOKEN_URL` is not set; the `aud` of `private_key_jwt` assertions | |
//! | `AUTH_OUTBOUND_CLIENT_ID` | the demo's client id there | (required) |
//! | `AUTH_OUTBOUND_CLIENT_SECRET` | its secret (`client_secret_basic`, `client_secret_post`) | |
//! | `AUTH_OUTBOUND_AUTH` | `client_secret_basic`, `client_secret_post` or `private_key_jwt` | `client_secret_basic` |
//! | `AUTH_OUTBOUND_PRIVATE_KEY_FILE` + `AUTH_OUTBOUND_KEY_ID` | PEM private key (PKCS#8) and its `kid`, for `private_key_jwt` | |
//! | `AUTH_OUTBOUND_SCOPE` | space-separated scopes to ask for | (none) |
//! | `AUTH_OUTBOUND_AUDIENCE` | the `audience` parameter of token requests | (none) |
//!
//! Plain `http://` URLs are accepted only for loopback hosts, as for JWKS.
//!
//! Any authenticated caller (bearer token or session cookie) may call
//! `GET /api/outbound/{path}?{query}`: the demo sends `GET {AUTH_OUTBOUND_URL}/{path}?{query}`
//! through `auth_tower::client::AccessTokenLayer` (the path and query exactly as received, `.`
//! and `..` segments refused with 400) and answers with the downstream's status, `Content-Type`
//! and body (at most [`MAX_BODY_BYTES`]; more is 502). The token comes from a
//! `TokenManager`: cached, renewed ahead of expiry in the background, renewed once (and the
//! request retried once) when the downstream answers 401 `invalid_token`. When no token can be
//! had the answer is 503 `OUTBOUND_TOKEN_UNAVAILABLE` naming the reason class (never the
//! secret), and the downstream receives nothing.

use std::sync::Arc;

use auth_axum_extractors::openapi::{self, Access, SecuredRoutes};
use auth_core::ConfigError;
use auth_core::clock::Clock;
use auth_core::oauth_client::{ClientAuth, ClientAuthMethod, TokenError, TokenManager, check_url};
use auth_tower::client::{AccessToken, AccessTokenLayer, OutboundError, ReqwestService};
use axum::extract::State;
use axum::http::{HeaderValue, Request, Response as HttpResponse, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use tower::{Layer as _, ServiceExt as _};

use crate::Demo;
use crate::tokens::error;

/// The largest downstream body the route relays.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// The prefix of the route; the rest of the path goes to the downstream API.
const PREFIX: &str = "/api/outbound/";

/// `AUTH_OUTBOUND_*`, checked at start-up.
#[derive(Debug)]
pub struct OutboundConfig {
    base: String,
    auth: ClientAuth,
    token_url: Option<String>,
    issuer: Option<String>,
    scope: Option<String>,
    audience: Option<String>,
}

impl OutboundConfig {
    /// Reads `AUTH_OUTBOUND_*`; `None` without `AUTH_OUTBOUND_URL` (and no other of them).
    ///
    /// # Errors
    ///
    /// A message naming the variable at fault: a variable set without `AUTH_OUTBOUND_URL`, a
    /// URL that is not `https` (or `http` to loopback), no token endpoint or issuer, a missing
    /// client id, secret or key, an unknown method, or a key file that cannot be read.
    pub fn from_env(get: &impl Fn(&str) -> Option<String>) -> Result<Option<Self>, ConfigError> {
        let input = |m: String| ConfigError::Input(m);
        let var = |name: &str| get(name).filter(|v| !v.trim().is_empty());
        let Some(base) = var("AUTH_OUTBOUND_URL") else {
            for name in [
                "AUTH_OUTBOUND_TOKEN_URL",
                "AUTH_OUTBOUND_ISSUER",
                "AUTH_OUTBOUND_CLIENT_ID",
                "AUTH_OUTBOUND_CLIENT_SECRET",
                "AUTH_OUTBOUND_AUTH",
            ] {
                if var(name).is_some() {
                    return Err(input(format!("{name} needs AUTH_OUTBOUND_URL")));
                }
            }
            return Ok(None);
        };
        let base = base.trim_end_matches('/').to_owned();
        check_url(&base).map_err(|e| input(format!("AUTH_OUTBOUND_URL: {e}")))?;
        let token_url = var("AUTH_OUTBOUND_TOKEN_URL");
        let issuer = var("AUTH_OUTBOUND_ISSUER");
        for (name, url) in [
            ("AUTH_OUTBOUND_TOKEN_URL", &token_url),
            ("AUTH_OUTBOUND_ISSUER", &issuer),
        ] {
            if let Some(url) = url {
                check_url(url).map_err(|e| input(format!("{name}: {e}")))?;
            }
        }
        if token_url.is_none() && issuer.is_none() {
            return Err(input(
                "AUTH_OUTBOUND_URL needs AUTH_OUTBOUND_TOKEN_URL or AUTH_OUTBOUND_ISSUER".into(),
            ));
        }
        let id = var("AUTH_OUTBOUND_CLIENT_ID")
            .ok_or_else(|| input("AUTH_OUTBOUND_URL needs AUTH_OUTBOUND_CLIENT_ID".into()))?;
        let method: ClientAuthMethod = var("AUTH_OUTBOUND_AUTH")
            .as_deref()
            .unwrap_or("client_secret_basic")
            .parse()
            .map_err(|e| input(format!("AUTH_OUTBOUND_AUTH: {e}")))?;
        let secret = || {
            var("AUTH_OUTBOUND_CLIENT_SECRET").ok_or_else(|| {
                input(format!(
                    "AUTH_OUTBOUND_AUTH={method} needs AUTH_OUTBOUND_CLIENT_SECRET"
                ))
            })
        };
        let named = |e: ConfigError| input(format!("AUTH_OUTBOUND_CLIENT_ID / _SECRET: {e}"));
        let auth = match method {
            ClientAuthMethod::ClientSecretBasic => {
                ClientAuth::client_secret_basic(id, secret()?).map_err(named)?
            }
            ClientAuthMethod::ClientSecretPost => {
                ClientAuth::client_secret_post(id, secret()?).map_err(named)?
            }
            ClientAuthMethod::PrivateKeyJwt => {
                let (Some(file), Some(kid)) = (
                    var("AUTH_OUTBOUND_PRIVATE_KEY_FILE"),
                    var("AUTH_OUTBOUND_KEY_ID"),
                ) else {
                    return Err(input(
                        "AUTH_OUTBOUND_AUTH=private_key_jwt needs AUTH_OUTBOUND_PRIVATE_KEY_FILE \
                         and AUTH_OUTBOUND_KEY_ID"
                            .into(),
                    ));
                };
                let pem = std::fs::read(&file).map_err(|e| {
                    input(format!(
                        "AUTH_OUTBOUND_PRIVATE_KEY_FILE `{file}` cannot be read: {e}"
                    ))
                })?;
                ClientAuth::private_key_jwt_pem(id, pem, kid).map_err(|e| {
                    input(format!(
                        "AUTH_OUTBOUND_PRIVATE_KEY_FILE is not a usable private key: {e}"
                    ))
                })?
            }
            _ => {
                return Err(input(format!(
                    "AUTH_OUTBOUND_AUTH={method} is not supported"
                )));
            }
        };
        Ok(Some(Self {
            base,
            auth,
            token_url,
            issuer,
            scope: var("AUTH_OUTBOUND_SCOPE"),
            audience: var("AUTH_OUTBOUND_AUDIENCE"),
        }))
    }

    /// The client: a token manager on `clock` and reqwest (no redirects, 10 s timeout)
    /// wrapped in `AccessTokenLayer`.
    ///
    /// # Errors
    ///
    /// When the token manager or the HTTP client cannot be built.
    pub fn build(&self, clock: Arc<dyn Clock>) -> Result<Outbound, ConfigError> {
        let mut b = TokenManager::builder(self.auth.clone()).clock(clock);
        if let Some(url) = &self.token_url {
            b = b.token_endpoint(url.clone());
        }
        if let Some(issuer) = &self.issuer {
            b = b.issuer(issuer.clone());
        }
        if let Some(scope) = &self.scope {
            b = b.scope(scope);
        }
        if let Some(audience) = &self.audience {
            b = b.audience(audience.clone());
        }
        let tokens = b.build()?;
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(std::time::Duration::from_secs(10))
            .build()
            .map_err(|e| ConfigError::Input(format!("the outbound http client: {e}")))?;
        Ok(Outbound {
            client: AccessTokenLayer::new(tokens).layer(ReqwestService::new(http)),
            base: Arc::from(self.base.as_str()),
        })
    }
}

/// The downstream API and the client that reaches it with a token. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Outbound {
    client: AccessToken<ReqwestService>,
    base: Arc<str>,
}

/// `GET /api/outbound/{*path}` when the demo has a downstream API, behind the demo's bearer
/// layer (header or session cookie); no route (404) otherwise.
///
/// # Errors
///
/// When the bearer layer's configuration is invalid.
pub fn router(demo: &Demo) -> Result<SecuredRoutes, ConfigError> {
    let Some(outbound) = demo.outbound.clone() else {
        return Ok(SecuredRoutes::new());
    };
    Ok(SecuredRoutes::with_scope_layer(crate::openapi::scope_layer)
        .route(
            "/api/outbound/{*path}",
            openapi::get(relay),
            Access::authenticated(crate::openapi::BEARER_SCHEMES),
        )?
        .route_layer(demo.bearer()?)
        .with_state(outbound))
}

/// The downstream URL for the request's raw path and query, or `None` for a path with a `.` or
/// `..` segment (plain or percent-encoded), which could leave the base path.
fn downstream_url(base: &str, uri: &Uri) -> Option<String> {
    let rest = uri.path().strip_prefix(PREFIX)?;
    let dot_segment = rest.split('/').any(|s| {
        let s = s.to_ascii_lowercase().replace("%2e", ".");
        s == "." || s == ".."
    });
    if rest.is_empty() || dot_segment {
        return None;
    }
    Some(match uri.query() {
        Some(q) => format!("{base}/{rest}?{q}"),
        None => format!("{base}/{rest}"),
    })
}

async fn relay(State(out): State<Outbound>, uri: Uri) -> Response {
    let Some(url) = downstream_url(&out.base, &uri) else {
        return error(
            StatusCode::BAD_REQUEST,
            "INVALID_REQUEST",
            "the path must name a resource below the downstream api (no `.` or `..` segments)",
        );
    };
    let request = match Request::get(url.as_str()).body(reqwest::Body::from("")) {
        Ok(r) => r,
        Err(_) => {
            return error(
                StatusCode::BAD_REQUEST,
                "INVALID_REQUEST",
                "the path does not form a valid downstream url",
            );
        }
    };
    match out.client.oneshot(request).await {
        Ok(res) => relay_response(res).await,
        Err(OutboundError::Token(e)) => token_unavailable(&e),
        Err(e) => {
            tracing::warn!(target: "demo::outbound", error = %e, "the downstream api could not be reached");
            error(
                StatusCode::BAD_GATEWAY,
                "BAD_GATEWAY",
                "the downstream api could not be reached",
            )
        }
    }
}

/// The downstream's status, `Content-Type` and body (capped).
async fn relay_response(res: HttpResponse<reqwest::Body>) -> Response {
    let status = res.status();
    let content_type = res.headers().get(header::CONTENT_TYPE).cloned();
    let mut res = reqwest::Response::from(res);
    let mut body = Vec::new();
    loop {
        match res.chunk().await {
            Ok(Some(chunk)) if body.len() + chunk.len() <= MAX_BODY_BYTES => {
                body.extend_from_slice(&chunk);
            }
            Ok(Some(_)) => {
                return error(
                    StatusCode::BAD_GATEWAY,
                    "BAD_GATEWAY",
                    "the downstream answer is too large",
                );
            }
            Ok(None) => break,
            Err(e) => {
                tracing::warn!(target: "demo::outbound", error = %e, "reading the downstream answer failed");
                return error(
                    StatusCode::BAD_GATEWAY,
                    "BAD_GATEWAY",
                    "the downstream answer could not be read",
                );
            }
        }
    }
    let mut out = (status, body).into_response();
    if let Some(ct) = content_type {
        out.headers_mut().insert(header::CONTENT_TYPE, ct);
    } else {
        out.headers_mut().remove(header::CONTENT_TYPE);
    }
    out.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    out
}

/// 503 `OUTBOUND_TOKEN_UNAVAILABLE`, naming the reason class (never the secret).
fn token_unavailable(e: &TokenError) -> Response {
    tracing::warn!(target: "demo::outbound", class = e.class(), "no access token for the downstream api");
    let status =
        StatusCode::from_u16(TokenError::HTTP_STATUS).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
    error(
        status,
        TokenError::CODE,
        &format!("no access token for the downstream api ({})", e.class()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn uri(s: &str) -> Uri {
        s.parse().unwrap()
    }

    #[test]
    fn the_path_and_query_go_below_the_base_as_received() {
        let base = "https://api.example/v1";
        assert_eq!(
            downstream_url(base, &uri("/api/outbound/orders/7?x=1&y=%20")).as_deref(),
            Some("https://api.example/v1/orders/7?x=1&y=%20")
        );
        assert_eq!(
            downstream_url(base, &uri("/api/outbound/a%2Fb")).as_deref(),
            Some("https://api.example/v1/a%2Fb")
        );
    }

    #[test]
    fn dot_segments_and_an_empty_path_are_refused() {
        let base = "https://api.example/v1";
        for bad in [
            "/api/outbound/../admin",
            "/api/outbound/a/./b",
            "/api/outbound/%2e%2e/admin",
            "/api/outbound/%2E%2e",
            "/api/outbound/.%2e/x",
            "/api/outbound/",
        ] {
            assert_eq!(downstream_url(base, &uri(bad)), None, "{bad}");
        }
    }
}
