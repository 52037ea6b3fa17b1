//! The `Authorization` header, the access-token cookie and the CSRF checks, through the real
//! layers (`BearerLayer` reading a cookie too, `CsrfLayer` with an `Origin` allow-list and a
//! double-submit token) around a service that answers 200.
//!
//! The input is a method selector and header lines (`name: value`, one per line); with the
//! `@` placeholder in a value, a valid token is put there, so the accepting paths are reached.
//!
//! Properties: never a panic; the bearer layer lets a request through only with the valid
//! token present in the `Authorization` header or a `Cookie` header; the CSRF layer lets an
//! unsafe request through only when its `Origin` (if any) is the allowed one and its single
//! non-empty `X-CSRF-Token` appears in a `Cookie` header.
#![no_main]

use std::convert::Infallible;
use std::future::{Ready, ready as done};
use std::sync::LazyLock;
use std::task::{Context, Poll};

use auth_fuzz::{ready, valid_token, verifier};
use auth_tower::bearer::BearerLayer;
use auth_tower::csrf::CsrfLayer;
use bytes::Bytes;
use http::{HeaderName, HeaderValue, Method, Request, Response};
use http_body_util::Full;
use libfuzzer_sys::fuzz_target;
use tower_layer::Layer as _;
use tower_service::Service;

const ORIGIN: &str = "https://app.fuzz.invalid";

#[derive(Clone)]
struct Ok200;

impl Service<Request<()>> for Ok200 {
    type Response = Response<Full<Bytes>>;
    type Error = Infallible;
    type Future = Ready<Result<Self::Response, Infallible>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, _: Request<()>) -> Self::Future {
        done(Ok(Response::new(Full::new(Bytes::new()))))
    }
}

static TOKEN: LazyLock<String> = LazyLock::new(valid_token);
static BEARER: LazyLock<BearerLayer> = LazyLock::new(|| {
    BearerLayer::builder(verifier())
        .cookie("access_token")
        .build()
        .expect("bearer layer")
});
static CSRF: LazyLock<CsrfLayer> = LazyLock::new(|| {
    CsrfLayer::builder()
        .allowed_origin(ORIGIN)
        .double_submit("csrf_token")
        .build()
        .expect("csrf layer")
});

fn request(method: Method, text: &str) -> Option<Request<()>> {
    let mut req = Request::builder()
        .method(method)
        .uri("/orders")
        .body(())
        .ok()?;
    for line in text.lines().take(16) {
        let (name, value) = line.split_once(':')?;
        let name = HeaderName::from_bytes(name.trim().as_bytes()).ok()?;
        let value = value.trim_start().replace('@', &TOKEN);
        let value = HeaderValue::from_str(&value).ok()?;
        req.headers_mut().append(name, value);
    }
    Some(req)
}

fn values<'a>(req: &'a Request<()>, name: &str) -> Vec<&'a str> {
    req.headers()
        .get_all(name)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect()
}

fuzz_target!(|data: &[u8]| {
    let Some((&m, rest)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    let method =
        [Method::GET, Method::POST, Method::DELETE, Method::OPTIONS][usize::from(m % 4)].clone();
    let Some(req) = request(method.clone(), text) else {
        return;
    };

    let authorization = values(&req, "authorization").join("\n");
    let cookies = values(&req, "cookie").join("\n");
    let mut bearer = BEARER.layer(Ok200);
    let res = ready(bearer.call(req.clone())).expect("infallible");
    if res.status() == 200 {
        assert!(
            authorization.contains(TOKEN.as_str()) || cookies.contains(TOKEN.as_str()),
            "accepted without the valid token: {authorization:?} / {cookies:?}"
        );
    }

    let origins: Vec<String> = values(&req, "origin")
        .into_iter()
        .map(str::to_owned)
        .collect();
    let echoed: Vec<String> = values(&req, "x-csrf-token")
        .into_iter()
        .map(str::to_owned)
        .collect();
    let mut csrf = CSRF.layer(Ok200);
    let res = ready(csrf.call(req)).expect("infallible");
    let safe = matches!(method, Method::GET | Method::OPTIONS);
    if res.status() == 200 && !safe {
        assert!(
            origins.iter().all(|o| *o == ORIGIN),
            "origin {origins:?} accepted"
        );
        assert!(origins.len() <= 1);
        assert_eq!(echoed.len(), 1, "accepted without exactly one csrf header");
        assert!(!echoed[0].is_empty());
        assert!(
            cookies.contains(echoed[0].as_str()),
            "csrf header not among the cookies"
        );
    }
});
