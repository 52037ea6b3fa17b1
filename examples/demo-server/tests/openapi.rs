//! The OpenAPI drift test (issue 17): `GET /openapi.json` against the router itself.
//!
//! Every operation of the document gets an anonymous request: it must answer 401 exactly when
//! the document marks it secured (a non-empty `security` without the empty requirement `{}`).
//! The document's operations must be the router's route table, and that table the route list
//! documented in `src/lib.rs`, so a route added outside the declarations is caught too.

// Test helpers outside #[test] fns are not covered by clippy.toml's allow-*-in-tests.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use std::collections::BTreeSet;

use common::{Auth, Env, env};
use serde_json::Value;

/// A demo with every optional route on: the outbound relay and provider sign-in (pointed at a
/// closed loopback port, never reached by anonymous requests to the protected routes).
fn full_demo() -> Env {
    env(&[
        ("AUTH_OUTBOUND_URL", "http://127.0.0.1:9/api"),
        ("AUTH_OUTBOUND_TOKEN_URL", "http://127.0.0.1:9/token"),
        ("AUTH_OUTBOUND_CLIENT_ID", "drift"),
        ("AUTH_OUTBOUND_CLIENT_SECRET", "drift test client secret"),
        ("AUTH_LOGIN_PROVIDERS", "acme"),
        ("AUTH_LOGIN_ACME_ISSUER", "http://127.0.0.1:9"),
        ("AUTH_LOGIN_ACME_CLIENT_ID", "demo"),
    ])
}

const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// `{anything}` as `{}`: the documented list names parameters differently from the router.
fn shape(path: &str) -> String {
    let mut out = String::new();
    let mut in_param = false;
    for c in path.chars() {
        match c {
            '{' => {
                in_param = true;
                out.push_str("{}");
            }
            '}' => in_param = false,
            c if !in_param => out.push(c),
            _ => {}
        }
    }
    out
}

/// `(METHOD, path)` of every operation in the document.
fn operations(doc: &Value) -> Vec<(String, String, Value)> {
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for m in METHODS {
            if let Some(op) = item.get(m) {
                out.push((m.to_uppercase(), path.clone(), op.clone()));
            }
        }
    }
    out
}

/// Secured: the operation's (or else the document's) `security` is non-empty and does not
/// allow anonymous callers (`{}`).
fn is_secured(doc: &Value, op: &Value) -> bool {
    let security = op.get("security").or_else(|| doc.get("security"));
    match security.and_then(Value::as_array) {
        Some(list) => {
            !list.is_empty()
                && list
                    .iter()
                    .all(|r| r.as_object().is_some_and(|o| !o.is_empty()))
        }
        None => false,
    }
}

#[tokio::test]
async fn every_route_answers_401_anonymously_exactly_when_the_document_says_it_is_secured() {
    let e = full_demo();
    let res = e.call("GET", "/openapi.json", Auth::None, None).await;
    assert_eq!(res.status, 200, "{}", res.body);
    assert_eq!(res.headers["content-type"], "application/json");
    let doc = res.body;
    assert_eq!(doc["openapi"], "3.1.0");
    let schemes = doc["components"]["securitySchemes"].as_object().unwrap();

    let ops = operations(&doc);
    let mut drift = Vec::new();
    let (mut secured, mut public) = (0, 0);
    for (method, path, op) in &ops {
        // Every scheme named is defined.
        for requirement in op["security"].as_array().into_iter().flatten() {
            for name in requirement.as_object().unwrap().keys() {
                assert!(
                    schemes.contains_key(name),
                    "{method} {path}: scheme {name} undefined"
                );
            }
        }
        // Each parameter's value is its name (`/api/orders/id/refund`), the provider `acme`.
        let uri = path.replace("{provider}", "acme").replace(['{', '}'], "");
        let reply = e.call(method, &uri, Auth::None, None).await;
        let documented = is_secured(&doc, op);
        if documented {
            secured += 1;
        } else {
            public += 1;
        }
        if documented != (reply.status == 401) {
            drift.push(format!(
                "{method} {path} (sent {uri}): documented {}, answered {} {}",
                if documented { "secured" } else { "public" },
                reply.status,
                reply.body
            ));
        }
    }
    assert!(
        drift.is_empty(),
        "the document and the router disagree:\n{}",
        drift.join("\n")
    );
    eprintln!("{secured} secured and {public} public operations, all consistent");
    // Not vacuous: both kinds are present in number.
    assert!(secured >= 15, "{secured} secured operations");
    assert!(public >= 10, "{public} public operations");
}

#[tokio::test]
async fn the_document_is_the_route_table_and_the_table_is_the_documented_route_list() {
    let e = full_demo();
    let doc = e.call("GET", "/openapi.json", Auth::None, None).await.body;
    let documented: BTreeSet<(String, String)> = operations(&doc)
        .into_iter()
        .map(|(m, p, _)| (m, p))
        .collect();

    let (_, table) = demo_server::app_and_routes(e.demo.clone()).unwrap();
    let declared: BTreeSet<(String, String)> = table
        .routes()
        .map(|r| (r.method().to_string(), r.openapi_path()))
        .collect();
    assert_eq!(documented, declared);

    // The route list of the crate docs (the public contract), method and path shape.
    let listed: BTreeSet<(String, String)> = include_str!("../src/lib.rs")
        .lines()
        .filter_map(|l| {
            let cell = l.strip_prefix("//! | `")?;
            let (route, _) = cell.split_once('`')?;
            let (method, path) = route.split_once(' ')?;
            Some((method.to_owned(), shape(path)))
        })
        .collect();
    let declared_shapes: BTreeSet<(String, String)> = declared
        .iter()
        .map(|(m, p)| (m.clone(), shape(p)))
        .collect();
    assert_eq!(listed, declared_shapes);
}

#[tokio::test]
async fn protected_routes_name_their_schemes_and_what_they_require() {
    let e = full_demo();
    let doc = e.call("GET", "/openapi.json", Auth::None, None).await.body;
    let security = |path: &str, method: &str| doc["paths"][path][method]["security"].clone();
    assert_eq!(
        security("/api/orders", "get"),
        serde_json::json!([
            {"bearer": ["read:orders"]},
            {"session_cookie": ["read:orders"]},
            {"api_key": ["read:orders"]},
        ])
    );
    assert_eq!(
        security("/api/admin/stats", "get")[0],
        serde_json::json!({"bearer": ["role:admin"]})
    );
    assert_eq!(
        security("/api/orders/{id}/refund", "post")[0],
        serde_json::json!({"bearer": ["orders:refund"]})
    );
    assert_eq!(
        security("/api/me", "get"),
        serde_json::json!([{"bearer": []}, {"session_cookie": []}])
    );
    assert_eq!(
        security("/api/hello", "get"),
        serde_json::json!([{}, {"bearer": []}, {"session_cookie": []}])
    );
    assert_eq!(security("/health", "get"), Value::Null);
    assert_eq!(security("/openapi.json", "get"), Value::Null);
    let bearer = &doc["components"]["securitySchemes"]["bearer"];
    assert_eq!(bearer["scheme"], "bearer");
    assert_eq!(bearer["bearerFormat"], "JWT");
    assert_eq!(
        doc["components"]["securitySchemes"]["api_key"]["name"],
        "X-API-Key"
    );
    assert_eq!(
        doc["paths"]["/api/outbound/{path}"]["get"]["parameters"][0]["name"],
        "path"
    );
}
