//! Issue 20: DPoP proofs made by npm `jose` (pinned in `tests/interop/package.json`) are
//! accepted by `BearerLayer` for tokens bound to jose's own RFC 7638 thumbprint of the key, for
//! every default proof algorithm (ES256, ES384, EdDSA, RS256, PS256), and refused when replayed
//! or sent for another URI. The script runs in two steps: keys first, then proofs for tokens
//! bound to them.
//!
//! Needs Node.js and `npm ci --prefix tests/interop` (or `bash tests/interop/install.sh`);
//! without them the test fails with that instruction.

#![allow(
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use std::convert::Infallible;
use std::io::{BufRead as _, BufReader, Write as _};
use std::process::{Command, Stdio};

use auth_core::ErrorCode;
use auth_core::clock::{Clock as _, ManualClock, SystemClock};
use auth_core::dpop::{DpopVerifier, ExternalOrigin};
use auth_integration_tests::interop::{Signer, interop_dir};
use auth_test::TestAuthority;
use auth_tower::Rejection;
use auth_tower::bearer::{BearerLayer, Dpop, DpopMode};
use axum::body::Body;
use axum::http::{Request, Response, StatusCode, header};
use serde_json::{Value, json};
use tower::{Layer, ServiceExt, service_fn};

const HTU: &str = "https://api.example/orders";

async fn send(layer: &BearerLayer, token: &str, proof: &str, path: &str) -> Response<Body> {
    let svc = layer.layer(service_fn(|_: Request<Body>| async {
        Ok::<_, Infallible>(Response::new(Body::empty()))
    }));
    let req = Request::get(path)
        .header(header::AUTHORIZATION, format!("DPoP {token}"))
        .header("dpop", proof)
        .body(Body::empty())
        .unwrap();
    svc.oneshot(req).await.unwrap()
}

#[tokio::test]
async fn jose_proofs_are_accepted_for_tokens_bound_to_joses_thumbprints() {
    if let Err(e) = Signer::Jose.ensure_installed() {
        panic!("{e}");
    }
    let dir = interop_dir();
    let mut child = Command::new("node")
        .arg(dir.join("dpop_jose.mjs"))
        .current_dir(&dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run node: {e}"));
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    let keys: Value = serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line}"));
    assert_eq!(
        keys["version"].as_str().unwrap(),
        Signer::Jose.pinned_version().unwrap()
    );

    // jose's iat is the system time: the verifiers' clock starts there.
    let clock = ManualClock::new(SystemClock.now());
    let authority = TestAuthority::es256().with_clock(clock.clone());
    let keys = keys["keys"].as_array().unwrap();
    let tokens: Vec<String> = keys
        .iter()
        .map(|k| {
            authority
                .token()
                .claim("cnf", json!({ "jkt": k["jkt"] }))
                .sign()
        })
        .collect();
    let mut stdin = child.stdin.take().unwrap();
    writeln!(
        stdin,
        "{}",
        json!({ "htm": "GET", "htu": HTU, "tokens": tokens })
    )
    .unwrap();
    drop(stdin);
    line.clear();
    stdout.read_line(&mut line).unwrap();
    assert!(child.wait().unwrap().success());
    let proofs: Value = serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line}"));
    let proofs = proofs["proofs"].as_array().unwrap();
    assert_eq!(proofs.len(), 5);

    let layer = BearerLayer::builder(authority.verifier())
        .dpop(
            Dpop::new(
                DpopVerifier::builder()
                    .clock(clock.clone())
                    .build()
                    .unwrap(),
                ExternalOrigin::parse("https://api.example").unwrap(),
            )
            .mode(DpopMode::Required),
        )
        .build()
        .unwrap();
    let code = |res: &Response<Body>| res.extensions().get::<Rejection>().map(Rejection::code);
    for ((key, token), proof) in keys.iter().zip(&tokens).zip(proofs) {
        let alg = key["alg"].as_str().unwrap();
        let proof = proof.as_str().unwrap();
        // Sent for another path, the proof's htu does not match.
        let res = send(&layer, token, proof, "/other").await;
        assert_eq!(code(&res), Some(ErrorCode::InvalidDpopProof), "{alg}");
        let res = send(&layer, token, proof, "/orders").await;
        assert_eq!(res.status(), StatusCode::OK, "{alg}: {:?}", code(&res));
        let res = send(&layer, token, proof, "/orders").await;
        assert_eq!(
            code(&res),
            Some(ErrorCode::InvalidDpopProof),
            "{alg} replay"
        );
        // Another key's token: the thumbprint does not match.
        let other = tokens.iter().find(|t| *t != token).unwrap();
        let res = send(&layer, other, proof, "/orders").await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{alg}");
    }
}
