//! `CsrfLayer`: accepted and rejected cases for double-submit and `Origin`, safe methods,
//! header-authenticated requests, the 403 `CSRF_REJECTED` answer and readiness, and the layer
//! behind `BearerLayer` and `ApiKeyLayer`.
#![cfg(feature = "csrf")]
// Test helpers outside #[test] fns are not covered by clippy.toml's allow-*-in-tests.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::convert::Infallible;
use std::sync::Arc;
use std::task::Poll;

use auth_core::{AuthError, CsrfFailure, ErrorCode};
use auth_tower::csrf::{CsrfLayer, generate_token};
use auth_tower::{CredentialSource, Rejection};
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

/// Runs `req` through `layer` behind a stand-in authentication layer that recorded `source`.
async fn run_authenticated(
    layer: &CsrfLayer,
    source: CredentialSource,
    req: Req,
) -> Response<Full<Bytes>> {
    let mut req = req.build();
    req.extensions_mut().insert(source);
    layer.layer(service_fn(ok)).oneshot(req).await.unwrap()
}

#[tokio::test]
async fn requests_a_header_credential_authenticated_are_exempt() {
    let mut req = Req::post();
    req.origin = Some("https://evil.example");
    let res = run_authenticated(&both(), CredentialSource::Header, req).await;
    assert_eq!(res.status(), StatusCode::OK);
}

#[tokio::test]
async fn requests_a_cookie_or_the_query_authenticated_are_checked() {
    for source in [CredentialSource::Cookie, CredentialSource::Query] {
        // Checked even without the configured session cookie: the record decides.
        let mut req = Req::post();
        req.cookies.clear();
        let res = run_authenticated(&both(), source, req).await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "{source:?}");
        let token = generate_token().unwrap();
        let res = run_authenticated(&both(), source, Req::post().with_token(&token)).await;
        assert_eq!(res.status(), StatusCode::OK, "{source:?}");
    }
}

// Issue 12, item 5: the presence of a credential header used to exempt the request, whatever
// had authenticated it. Without a record, a request carrying the session cookie is checked.
#[tokio::test]
async fn credential_headers_alone_do_not_exempt_a_request_with_the_session_cookie() {
    for (name, value) in [
        ("authorization", "Bearer eyJ.eyJ.sig"),
        ("authorization", "Basic dXNlcjpwYXNz"),
        ("x-api-key", "ak_live_123"),
    ] {
        let mut req = Req::post();
        req.extra.push((name, value));
        let res = run(&both(), req).await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "{name}: {value}");
        assert_eq!(failure(&res), CsrfFailure::MissingCookie, "{name}: {value}");
    }
}

#[tokio::test]
async fn any_of_several_session_cookies_makes_a_request_checked() {
    let layer = CsrfLayer::builder()
        .double_submit("csrf_token")
        .session_cookie("access_token")
        .session_cookie("refresh_token")
        .build()
        .unwrap();
    for cookie in [
        "access_token=a.b.c",
        "refresh_token=r",
        "refresh_token=r; refresh_token=s",
    ] {
        let mut req = Req::post();
        req.cookies = vec![cookie.to_owned()];
        let res = run(&layer, req).await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "{cookie}");
    }
    let mut req = Req::post();
    req.cookies = vec!["theme=dark".to_owned()];
    assert_eq!(run(&layer, req).await.status(), StatusCode::OK);
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

#[cfg(feature = "bearer")]
mod behind_authentication_layers {
    #[cfg(feature = "revocation")]
    use super::common::AwaitedRevocations;
    use super::*;
    use auth_core::clock::{ManualClock, UnixTime};
    use auth_core::jwt::{Algorithm, JwtVerifier, VerificationKey};
    use auth_tower::bearer::BearerLayer;
    use tower::ServiceBuilder;
    use tower::util::BoxCloneService;

    const NOW: u64 = 1_800_000_000;
    const SECRET: &[u8] = b"auth-tower csrf tests secret, 32 bytes or more";

    type Svc = BoxCloneService<Request<Full<Bytes>>, Response<Full<Bytes>>, Infallible>;

    fn verifier() -> JwtVerifier {
        JwtVerifier::builder()
            .key(VerificationKey::hmac(Algorithm::HS256, SECRET).unwrap())
            .audience("api")
            .clock(ManualClock::new(UnixTime::from_secs(NOW)))
            .build()
            .unwrap()
    }

    fn token() -> String {
        let claims = serde_json::json!({"sub": "alice", "aud": "api", "exp": NOW + 60, "iat": NOW});
        jsonwebtoken::encode(
            &jsonwebtoken::Header::default(),
            &claims,
            &jsonwebtoken::EncodingKey::from_secret(SECRET),
        )
        .unwrap()
    }

    /// `BearerLayer` reading the `access_token` cookie (with an awaited revocation store when
    /// `pending`) and `both()`, the CSRF layer inside it (`csrf_inside`) or outside.
    fn stack(csrf_inside: bool, pending: bool) -> Svc {
        let mut bearer = BearerLayer::builder(verifier()).cookie("access_token");
        #[cfg(feature = "revocation")]
        if pending {
            bearer = bearer.revocation(Arc::new(AwaitedRevocations::default()));
        }
        #[cfg(not(feature = "revocation"))]
        let _ = pending;
        let bearer = bearer.build().unwrap();
        if csrf_inside {
            BoxCloneService::new(
                ServiceBuilder::new()
                    .layer(bearer)
                    .layer(both())
                    .service(service_fn(ok)),
            )
        } else {
            BoxCloneService::new(
                ServiceBuilder::new()
                    .layer(both())
                    .layer(bearer)
                    .service(service_fn(ok)),
            )
        }
    }

    fn cookie_session(authorization: Option<String>) -> Request<Full<Bytes>> {
        let mut b = Request::post("/api/orders")
            .header(header::ORIGIN, ORIGIN)
            .header(
                header::COOKIE,
                format!("theme=dark; access_token={}", token()),
            );
        if let Some(a) = authorization {
            b = b.header(header::AUTHORIZATION, a);
        }
        b.body(Full::default()).unwrap()
    }

    // Issue 12, item 5: `Authorization: Basic ..` used to exempt the request, although the
    // BearerLayer authenticated it from the session cookie. Either layer order now checks it.
    #[tokio::test]
    async fn a_cookie_session_with_a_basic_authorization_header_is_checked() {
        for csrf_inside in [true, false] {
            for pending in [false, true] {
                let case = format!("csrf_inside={csrf_inside} pending={pending}");
                let req = cookie_session(Some("Basic dXNlcjpwYXNz".to_owned()));
                let res = stack(csrf_inside, pending).oneshot(req).await.unwrap();
                assert_eq!(res.status(), StatusCode::FORBIDDEN, "{case}");
                assert_eq!(
                    res.extensions().get::<Rejection>().unwrap().code(),
                    ErrorCode::CsrfRejected,
                    "{case}"
                );
                let body = res.into_body().collect().await.unwrap().to_bytes();
                let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
                assert_eq!(json["error"]["code"], "CSRF_REJECTED", "{case}");
            }
        }
    }

    #[tokio::test]
    async fn a_cookie_session_passes_with_the_csrf_token() {
        for pending in [false, true] {
            let csrf = generate_token().unwrap();
            let req = Request::post("/api/orders")
                .header(header::ORIGIN, ORIGIN)
                .header(
                    header::COOKIE,
                    format!("access_token={}; csrf_token={csrf}", token()),
                )
                .header("x-csrf-token", csrf)
                .body(Full::default())
                .unwrap();
            let res = stack(true, pending).oneshot(req).await.unwrap();
            assert_eq!(res.status(), StatusCode::OK, "pending={pending}");
        }
    }

    #[tokio::test]
    async fn a_bearer_header_exempts_the_request_when_the_csrf_layer_runs_inside() {
        for pending in [false, true] {
            // The session cookie rides along, but the header's token authenticated the request.
            let req = cookie_session(Some(format!("Bearer {}", token())));
            let res = stack(true, pending).oneshot(req).await.unwrap();
            assert_eq!(res.status(), StatusCode::OK, "pending={pending}");
        }
        // Outside the BearerLayer the CSRF layer sees no record and, failing safe, checks it.
        let req = cookie_session(Some(format!("Bearer {}", token())));
        let res = stack(false, false).oneshot(req).await.unwrap();
        assert_eq!(res.status(), StatusCode::FORBIDDEN);
    }

    #[cfg(feature = "api-key")]
    #[tokio::test]
    async fn an_api_key_header_exempts_the_request_and_an_anonymous_cookie_does_not() {
        use auth_core::api_key::{ApiKeys, MemoryApiKeyStore, NewApiKey};
        use auth_tower::api_key::ApiKeyLayer;

        let keys = ApiKeys::builder(MemoryApiKeyStore::new())
            .prefix("test_live")
            .build()
            .unwrap();
        let key = keys.create(NewApiKey::new("bob", "ci")).await.unwrap().key;
        let svc = ServiceBuilder::new()
            .layer(ApiKeyLayer::builder(keys).optional().build().unwrap())
            .layer(both())
            .service(service_fn(ok));
        let mut req = cookie_session(None);
        req.headers_mut()
            .insert("x-api-key", key.expose_secret().parse().unwrap());
        assert_eq!(
            svc.clone().oneshot(req).await.unwrap().status(),
            StatusCode::OK
        );
        // No key: anonymous, and the session cookie makes it subject to the check.
        let res = svc.oneshot(cookie_session(None)).await.unwrap();
        assert_eq!(res.status(), StatusCode::FORBIDDEN);
    }
}
