//! `AccessTokenLayer` over `ReqwestService` against a real HTTP server on 127.0.0.1: the token
//! goes out on the wire, and a 401 for a revoked token is retried once with the renewed token
//! and the same (buffered) body.
#![cfg(all(feature = "reqwest", feature = "axum"))]
// Test helpers outside #[test] fns are not covered by clippy.toml's allow-*-in-tests.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use auth_core::jwks::{FetchRequest, HttpClient, HttpError, HttpRequest, HttpResponse};
use auth_core::jwt::BoxFuture;
use auth_core::oauth_client::{ClientAuth, TokenManager};
use auth_tower::client::{AccessTokenLayer, ReqwestService};
use axum::Router;
use axum::http::{HeaderMap, StatusCode, header};
use axum::routing::post;
use http_body_util::BodyExt as _;
use tower::{Layer as _, ServiceExt as _};

#[derive(Debug, Default)]
struct AuthServer {
    n: AtomicUsize,
}

impl HttpClient for AuthServer {
    fn get(&self, _: FetchRequest) -> BoxFuture<'static, Result<HttpResponse, HttpError>> {
        Box::pin(async { Ok(HttpResponse::new(404, "")) })
    }
    fn send(&self, _: HttpRequest) -> BoxFuture<'static, Result<HttpResponse, HttpError>> {
        let n = self.n.fetch_add(1, Ordering::SeqCst) + 1;
        Box::pin(async move {
            Ok(HttpResponse::new(
                200,
                format!(r#"{{"access_token":"token-{n}","token_type":"Bearer","expires_in":600}}"#),
            ))
        })
    }
}

#[tokio::test]
async fn a_revoked_token_is_renewed_and_the_request_resent_over_reqwest() {
    let seen: Arc<Mutex<Vec<(String, String)>>> = Arc::default();
    let log = Arc::clone(&seen);
    let app = Router::new().route(
        "/echo",
        post(move |headers: HeaderMap, body: String| async move {
            let auth = headers
                .get(header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned();
            log.lock().unwrap().push((auth.clone(), body.clone()));
            if auth == "Bearer token-1" {
                (
                    StatusCode::UNAUTHORIZED,
                    [(header::WWW_AUTHENTICATE, r#"Bearer error="invalid_token""#)],
                    String::new(),
                )
            } else {
                (StatusCode::OK, [(header::CACHE_CONTROL, "no-store")], body)
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let server = Arc::new(AuthServer::default());
    let tokens = TokenManager::builder(ClientAuth::client_secret_basic("svc", "secret").unwrap())
        .token_endpoint("https://auth.example/token")
        .http_client(Arc::clone(&server))
        .build()
        .unwrap();
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let client = AccessTokenLayer::new(tokens).layer(ReqwestService::new(http));

    let req = http::Request::post(format!("http://{addr}/echo"))
        .body(reqwest::Body::from("payload"))
        .unwrap();
    let res = client.oneshot(req).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let body = res.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(&body[..], b"payload");
    assert_eq!(
        *seen.lock().unwrap(),
        [
            ("Bearer token-1".to_owned(), "payload".to_owned()),
            ("Bearer token-2".to_owned(), "payload".to_owned()),
        ]
    );
    assert_eq!(server.n.load(Ordering::SeqCst), 2);
}
