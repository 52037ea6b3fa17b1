//! The login routes mounted in an axum router, against a fake OpenID Provider (issue 14).
#![cfg(feature = "oidc-login")]
// Test helpers outside #[test] fns are not covered by clippy.toml's allow-*-in-tests.
#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use std::sync::{Arc, Mutex};

use auth_axum_extractors::oidc_login::{LoginHooks, LoginRoutes, error_response};
use auth_core::ErrorCode;
use auth_core::jwks::{FetchRequest, HttpClient, HttpError, HttpRequest, HttpResponse};
use auth_core::jwt::BoxFuture;
use auth_core::oidc_login::{CompletedLogin, OidcLogin, ProviderConfig};
use auth_core::seal::SealingKey;
use aws_lc_rs::signature::{Ed25519KeyPair, KeyPair as _};
use axum::Router;
use axum::body::Body;
use axum::response::{IntoResponse, Redirect, Response};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use http::request::Parts;
use http::{Request, StatusCode};
use http_body_util::BodyExt as _;
use serde_json::{Value, json};
use tower::ServiceExt as _;

const ISS: &str = "https://idp.example";
const CLIENT: &str = "rp";

/// Discovery, JWKS and a token endpoint answering with the ID token the test set.
#[derive(Debug)]
struct Idp {
    pair: Ed25519KeyPair,
    id_token: Mutex<String>,
    token_requests: Mutex<usize>,
}

impl Idp {
    fn sign(&self, claims: &Value) -> String {
        let msg = format!(
            "{}.{}",
            B64.encode(json!({"alg": "EdDSA", "kid": "k1"}).to_string()),
            B64.encode(claims.to_string())
        );
        format!(
            "{msg}.{}",
            B64.encode(self.pair.sign(msg.as_bytes()).as_ref())
        )
    }
}

impl HttpClient for Idp {
    fn get(&self, req: FetchRequest) -> BoxFuture<'static, Result<HttpResponse, HttpError>> {
        let body = if req.url.ends_with("/jwks") {
            json!({"keys": [{"kty": "OKP", "crv": "Ed25519", "kid": "k1",
                             "x": B64.encode(self.pair.public_key().as_ref())}]})
        } else {
            json!({"issuer": ISS, "authorization_endpoint": format!("{ISS}/auth"),
                   "token_endpoint": format!("{ISS}/token"), "jwks_uri": format!("{ISS}/jwks"),
                   "id_token_signing_alg_values_supported": ["EdDSA"],
                   "authorization_response_iss_parameter_supported": true})
        };
        Box::pin(async move { Ok(HttpResponse::new(200, body.to_string())) })
    }

    fn send(&self, _req: HttpRequest) -> BoxFuture<'static, Result<HttpResponse, HttpError>> {
        *self.token_requests.lock().unwrap() += 1;
        let body = json!({"access_token": "at", "token_type": "Bearer",
                          "id_token": *self.id_token.lock().unwrap()});
        Box::pin(async move { Ok(HttpResponse::new(200, body.to_string())) })
    }
}

/// Signed in as the `x-test-account` header says; records every completed login; answers
/// 409 for a link to `taken` (as an application with a conflicting identity would).
#[derive(Clone, Default)]
struct Hooks {
    logins: Arc<Mutex<Vec<CompletedLogin>>>,
}

impl LoginHooks for Hooks {
    async fn current_account(&self, parts: &Parts) -> Option<String> {
        parts
            .headers
            .get("x-test-account")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    }

    async fn completed(&self, login: CompletedLogin, _parts: Parts) -> Response {
        let conflict = login.link_to() == Some("taken");
        let to = login.return_to().to_owned();
        self.logins.lock().unwrap().push(login);
        if conflict {
            return error_response(ErrorCode::IdentityAlreadyLinked, None);
        }
        Redirect::to(&to).into_response()
    }
}

struct App {
    router: Router,
    idp: Arc<Idp>,
    hooks: Hooks,
}

fn app() -> App {
    let idp = Arc::new(Idp {
        pair: Ed25519KeyPair::generate().unwrap(),
        id_token: Mutex::new(String::new()),
        token_requests: Mutex::new(0),
    });
    let login = OidcLogin::builder(SealingKey::new(1, &[3; 32]).unwrap())
        .provider(ProviderConfig::new(
            "acme",
            ISS,
            CLIENT,
            "http://127.0.0.1:8080/auth/login/acme/callback",
        ))
        .http_client(idp.clone())
        .build()
        .unwrap();
    let hooks = Hooks::default();
    let router = Router::new().nest_service("/auth/login", LoginRoutes::new(login, hooks.clone()));
    App { router, idp, hooks }
}

async fn get(app: &App, uri: &str, headers: &[(&str, &str)]) -> Response {
    let mut req = Request::get(uri);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    app.router
        .clone()
        .oneshot(req.body(Body::empty()).unwrap())
        .await
        .unwrap()
}

fn header<'a>(res: &'a Response, name: &str) -> &'a str {
    res.headers().get(name).unwrap().to_str().unwrap()
}

async fn json_body(res: Response) -> Value {
    serde_json::from_slice(&res.into_body().collect().await.unwrap().to_bytes()).unwrap()
}

/// Begins a login; returns the browser's cookie pair and the callback query the provider
/// would redirect back with (after the test set a valid ID token for its nonce).
async fn begin(app: &App, query: &str, headers: &[(&str, &str)]) -> (String, String) {
    let res = get(app, &format!("/auth/login/acme{query}"), headers).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let location = header(&res, "location");
    let param = |name: &str| {
        location
            .split(['?', '&'])
            .find_map(|p| p.strip_prefix(&format!("{name}=")))
            .unwrap()
            .to_owned()
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    *app.idp.id_token.lock().unwrap() = app.idp.sign(&json!({
        "iss": ISS, "sub": "user-7", "aud": CLIENT, "iat": now, "exp": now + 300,
        "nonce": param("nonce"),
    }));
    let cookie = header(&res, "set-cookie")
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let callback = format!(
        "code=c&state={}&iss=https%3A%2F%2Fidp.example",
        param("state")
    );
    (cookie, callback)
}

#[tokio::test]
async fn begin_redirects_to_the_provider_with_a_transaction_cookie() {
    let app = app();
    let res = get(&app, "/auth/login/acme?return_to=/orders", &[]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(header(&res, "cache-control"), "no-store");
    let location = header(&res, "location");
    assert!(location.starts_with("https://idp.example/auth?response_type=code&"));
    assert!(location.contains("&code_challenge_method=S256"));
    let cookie = header(&res, "set-cookie");
    // A plain-http loopback redirect URI: no Secure, no __Host- prefix.
    assert!(cookie.starts_with("auth_login_"), "{cookie}");
    assert!(cookie.ends_with("; Path=/; Max-Age=600; HttpOnly; SameSite=Lax"));
}

#[tokio::test]
async fn unknown_providers_and_paths_are_404_and_other_methods_405() {
    let app = app();
    for uri in [
        "/auth/login/nope",
        "/auth/login/nope/callback",
        "/auth/login/acme/x",
    ] {
        assert_eq!(
            get(&app, uri, &[]).await.status(),
            StatusCode::NOT_FOUND,
            "{uri}"
        );
    }
    let res = app
        .router
        .clone()
        .oneshot(
            Request::post("/auth/login/acme")
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::METHOD_NOT_ALLOWED);
}

#[tokio::test]
async fn a_verified_callback_reaches_the_hook_which_answers_and_the_cookie_is_removed() {
    let app = app();
    let (cookie, callback) = begin(&app, "?return_to=/orders/7", &[]).await;
    let res = get(
        &app,
        &format!("/auth/login/acme/callback?{callback}"),
        &[("cookie", &cookie)],
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(header(&res, "location"), "/orders/7");
    let removal = header(&res, "set-cookie");
    assert!(removal.starts_with(&format!("{}=; ", cookie.split('=').next().unwrap())));
    assert!(removal.contains("Max-Age=0"));
    let logins = app.hooks.logins.lock().unwrap();
    assert_eq!(logins[0].identity().subject(), "user-7");
    assert_eq!(logins[0].link_to(), None);
}

#[tokio::test]
async fn a_refused_callback_is_400_json_and_starts_nothing() {
    let app = app();
    let (cookie, callback) = begin(&app, "", &[]).await;
    // No state.
    let res = get(
        &app,
        "/auth/login/acme/callback?code=c",
        &[("cookie", &cookie)],
    )
    .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert_eq!(json_body(res).await["error"]["code"], "LOGIN_STATE_INVALID");
    // The provider's error, once the state matched, with its value.
    let state = callback.split('&').nth(1).unwrap();
    let denied = format!(
        "/auth/login/acme/callback?error=access_denied&{state}&iss=https%3A%2F%2Fidp.example"
    );
    let res = get(&app, &denied, &[("cookie", &cookie)]).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert!(header(&res, "set-cookie").contains("Max-Age=0"));
    assert_eq!(header(&res, "cache-control"), "no-store");
    let body = json_body(res).await;
    assert_eq!(body["error"]["code"], "LOGIN_FAILED");
    assert_eq!(body["error"]["provider_error"], "access_denied");
    // Used up: the real callback now fails too, before the token endpoint.
    let res = get(
        &app,
        &format!("/auth/login/acme/callback?{callback}"),
        &[("cookie", &cookie)],
    )
    .await;
    assert_eq!(json_body(res).await["error"]["code"], "LOGIN_STATE_INVALID");
    assert_eq!(*app.idp.token_requests.lock().unwrap(), 0);
    assert!(app.hooks.logins.lock().unwrap().is_empty());
}

#[tokio::test]
async fn linking_needs_a_signed_in_account_which_travels_to_the_hook() {
    let app = app();
    let res = get(&app, "/auth/login/acme?link=true", &[]).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(json_body(res).await["error"]["code"], "MISSING_CREDENTIALS");

    let (cookie, callback) = begin(&app, "?link=true", &[("x-test-account", "acct-1")]).await;
    let res = get(
        &app,
        &format!("/auth/login/acme/callback?{callback}"),
        &[("cookie", &cookie)],
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        app.hooks.logins.lock().unwrap()[0].link_to(),
        Some("acct-1")
    );

    let (cookie, callback) = begin(&app, "?link=true", &[("x-test-account", "taken")]).await;
    let res = get(
        &app,
        &format!("/auth/login/acme/callback?{callback}"),
        &[("cookie", &cookie)],
    )
    .await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert!(
        header(&res, "set-cookie").contains("Max-Age=0"),
        "cleared on the hook's answer too"
    );
    assert_eq!(
        json_body(res).await["error"]["code"],
        "IDENTITY_ALREADY_LINKED"
    );
}

#[tokio::test]
async fn open_redirects_in_return_to_become_the_root() {
    let app = app();
    for evil in [
        "//evil.example",
        "https://evil.example",
        "/%5Cevil.example",
        "%2F%2Fevil.example",
        "/%252F%252Fevil.example",
    ] {
        let (cookie, callback) = begin(&app, &format!("?return_to={evil}"), &[]).await;
        let res = get(
            &app,
            &format!("/auth/login/acme/callback?{callback}"),
            &[("cookie", &cookie)],
        )
        .await;
        assert_eq!(header(&res, "location"), "/", "{evil}");
    }
}
