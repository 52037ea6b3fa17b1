//! `CsrfLayer`: accepted and rejected cases for double-submit and `Origin`, safe methods,
//! header-authenticated requests, the 403 `CSRF_REJECTED` answer and readiness.
#![cfg(feature = "csrf")]
// Test helpers outside #[test] fns are not covered by clippy.toml's allow-*-in-tests.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::convert::Infallible;
use std::task::Poll;

use auth_core::{AuthError, CsrfFailure, ErrorCode};
use auth_tower::Rejection;
use auth_tower::csrf::{CsrfLayer, generate_token};
use bytes::Bytes;
use http::{Method, Request, Response, StatusCode, header};
use http_body_util::{BodyExt as _, Full};
use tower::{Layer, ServiceExt, service_fn};
use tower_test::mock;

const ORIGIN: &str = "https://app.example.com";

async fn ok(_req: Request<Full<Bytes>>) -> Result<Response<Full<Bytes>>, Infallible> {
    Ok(Response::new(Full::from("ok")))
}

fn both() -> CsrfLayer {
    CsrfLayer::builder()
        .double_submit("csrf_token")
        .allowed_origin(ORIGIN)
        .session_cookie("access_token")
        .build()
        .unwrap()
}

struct Req {
    method: Method,
    origin: Option<&'static str>,
    cookies: Vec<String>,
    echo: Option<String>,
    extra: Vec<(&'static str, &'static str)>,
}

impl Req {
    fn post() -> Self {
        Self {
            method: Method::POST,
            origin: Some(ORIGIN),
            cookies: vec!["access_token=a.b.c".into()],
            echo: None,
            extra: Vec::new(),
        }
    }

    fn with_token(mut self, token: &str) -> Self {
        self.cookies.push(format!("csrf_token={token}"));
        self.echo = Some(token.to_owned());
        self
    }

    fn build(self) -> Request<Full<Bytes>> {
        let mut b = Request::builder().method(self.method).uri("/api/orders");
        if let Some(o) = self.origin {
            b = b.header(header::ORIGIN, o);
        }
        if !self.cookies.is_empty() {
            b = b.header(header::COOKIE, self.cookies.join("; "));
        }
        if let Some(e) = self.echo {
            b = b.header("x-csrf-token", e);
        }
        for (k, v) in self.extra {
            b = b.header(k, v);
        }
        b.body(Full::default()).unwrap()
    }
}

async fn run(layer: &CsrfLayer, req: Req) -> Response<Full<Bytes>> {
    layer
        .layer(service_fn(ok))
        .oneshot(req.build())
        .await
        .unwrap()
}

fn failure(res: &Response<Full<Bytes>>) -> CsrfFailure {
    match res.extensions().get::<Rejection>().unwrap().error() {
        AuthError::CsrfRejected(f) => *f,
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_matching_token_from_an_allowed_origin_passes() {
    let token = generate_token().unwrap();
    let res = run(&both(), Req::post().with_token(&token)).await;
    assert_eq!(res.status(), StatusCode::OK);
}

#[tokio::test]
async fn every_unsafe_method_is_checked() {
    for method in [Method::POST, Method::PUT, Method::PATCH, Method::DELETE] {
        let mut req = Req::post();
        req.method = method.clone();
        let res = run(&both(), req).await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "{method}");
    }
}

#[tokio::test]
async fn a_missing_header_is_rejected_with_403_csrf_rejected() {
    let token = generate_token().unwrap();
    let mut req = Req::post().with_token(&token);
    req.echo = None;
    let res = run(&both(), req).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(failure(&res), CsrfFailure::MissingHeader);
    assert!(res.headers().get(header::WWW_AUTHENTICATE).is_none());
    assert_eq!(res.headers()[header::CONTENT_TYPE], "application/json");
    let body = res.into_body().collect().await.unwrap().to_bytes();
    let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(json["error"]["code"], "CSRF_REJECTED");
}

#[tokio::test]
async fn a_wrong_or_missing_token_is_rejected() {
    let token = generate_token().unwrap();
    let mut wrong = Req::post().with_token(&token);
    wrong.echo = Some(generate_token().unwrap());
    assert_eq!(
        failure(&run(&both(), wrong).await),
        CsrfFailure::TokenMismatch
    );

    let mut prefix = Req::post().with_token(&token);
    prefix.echo = Some(token[..20].to_owned());
    assert_eq!(
        failure(&run(&both(), prefix).await),
        CsrfFailure::TokenMismatch
    );

    let mut no_cookie = Req::post();
    no_cookie.echo = Some(token.clone());
    assert_eq!(
        failure(&run(&both(), no_cookie).await),
        CsrfFailure::MissingCookie
    );

    // A cookie sent twice (a sibling subdomain tossing its own) counts as missing.
    let mut tossed = Req::post().with_token(&token);
    tossed.cookies.push(format!("csrf_token={token}"));
    assert_eq!(
        failure(&run(&both(), tossed).await),
        CsrfFailure::MissingCookie
    );
}

#[tokio::test]
async fn a_foreign_origin_is_rejected_even_with_a_valid_token() {
    let token = generate_token().unwrap();
    for origin in [
        "https://evil.example",
        "null",
        "https://app.example.com.evil.example",
    ] {
        let mut req = Req::post().with_token(&token);
        req.origin = Some(origin);
        let res = run(&both(), req).await;
        assert_eq!(failure(&res), CsrfFailure::OriginNotAllowed, "{origin}");
    }
}

#[tokio::test]
async fn origin_only_mode_requires_an_allowed_origin() {
    let layer = CsrfLayer::builder().allowed_origin(ORIGIN).build().unwrap();
    assert_eq!(run(&layer, Req::post()).await.status(), StatusCode::OK);
    let mut none = Req::post();
    none.origin = None;
    assert_eq!(
        failure(&run(&layer, none).await),
        CsrfFailure::MissingOrigin
    );
    let mut bad = Req::post();
    bad.origin = Some("https://evil.example");
    assert_eq!(
        failure(&run(&layer, bad).await),
        CsrfFailure::OriginNotAllowed
    );
}

#[tokio::test]
async fn without_origin_the_double_submit_token_decides() {
    let token = generate_token().unwrap();
    let mut req = Req::post().with_token(&token);
    req.origin = None;
    assert_eq!(run(&both(), req).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn safe_methods_pass_without_any_token() {
    for method in [Method::GET, Method::HEAD, Method::OPTIONS, Method::TRACE] {
        let mut req = Req::post();
        req.method = method.clone();
        req.origin = Some("https://evil.example");
        assert_eq!(run(&both(), req).await.status(), StatusCode::OK, "{method}");
    }
}

#[tokio::test]
async fn header_authenticated_requests_are_exempt() {
    for (name, value) in [
        ("authorization", "Bearer eyJ.eyJ.sig"),
        ("x-api-key", "ak_live_123"),
    ] {
        let mut req = Req::post();
        req.origin = Some("https://evil.example");
        req.extra.push((name, value));
        assert_eq!(run(&both(), req).await.status(), StatusCode::OK, "{name}");
    }
    let custom = CsrfLayer::builder()
        .double_submit("csrf_token")
        .exempt_header("x-service-key")
        .build()
        .unwrap();
    let mut req = Req::post();
    req.extra.push(("x-service-key", "k"));
    assert_eq!(run(&custom, req).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn requests_without_the_session_cookie_are_not_cookie_authenticated() {
    let mut req = Req::post();
    req.cookies.clear();
    req.origin = Some("https://evil.example");
    assert_eq!(run(&both(), req).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn grpc_calls_get_permission_denied() {
    let mut req = Req::post();
    req.extra.push(("content-type", "application/grpc"));
    let res = run(&both(), req).await;
    assert_eq!(res.headers()["grpc-status"], "7");
    assert_eq!(
        res.extensions().get::<Rejection>().unwrap().code(),
        ErrorCode::CsrfRejected
    );
}

#[tokio::test]
async fn readiness_is_forwarded_and_rejections_skip_the_inner_service() {
    let (mut svc, mut handle) =
        mock::spawn_layer::<Request<Full<Bytes>>, Response<Full<Bytes>>, _>(both());
    handle.allow(0);
    assert!(svc.poll_ready().is_pending());
    handle.allow(1);
    assert!(matches!(svc.poll_ready(), Poll::Ready(Ok(()))));
    let res = svc.call(Req::post().build()).await.unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert!(matches!(handle.poll_request(), Poll::Pending));
}
