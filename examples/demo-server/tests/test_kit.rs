//! The demo as configured from its environment, tested with the `auth-test` kit: tokens the
//! kit signs with the demo's secret go through the demo's own verifier and layers, and every
//! negative preset gets the status, challenge and code the kit maps it to.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use auth_test::{TestAuthority, TestKey, TokenBuilder, assert_rejected_parts};
use common::{SECRET, env};

/// The demo's own key id, issuer and audience (its defaults), on the test's clock.
fn authority(clock: &auth_test::clock::ManualClock) -> TestAuthority {
    TestAuthority::with_key(TestKey::hs256(SECRET, "auth-demo-1").unwrap())
        .with_issuer("auth-demo")
        .with_audience("auth-demo-api")
        .with_clock(clock.clone())
}

/// The demo requires RFC 9068 access tokens (`typ: at+jwt`).
fn access_token(a: &TestAuthority) -> TokenBuilder {
    a.token().typ("at+jwt")
}

#[tokio::test]
async fn a_kit_token_reaches_api_me_with_its_claims() {
    let e = env(&[]);
    let a = authority(&e.clock);
    let token = access_token(&a)
        .subject("kit-user")
        .roles(["user"])
        .scopes(["read:orders"])
        .sign();
    let me = e.me(&token).await;
    assert_eq!(me.status, 200, "{}", me.body);
    assert_eq!(me.body["sub"], "kit-user");
    assert_eq!(me.body["scopes"], serde_json::json!(["read:orders"]));
}

#[tokio::test]
async fn every_negative_preset_is_refused_with_its_code() {
    let e = env(&[]);
    let a = authority(&e.clock);
    let presets = [
        access_token(&a).expired(),
        access_token(&a).not_yet_valid(),
        access_token(&a).wrong_audience(),
        access_token(&a).wrong_issuer(),
        access_token(&a).alg_none(),
        access_token(&a).wrong_key(),
        access_token(&a).tampered(),
        access_token(&a).missing_claim("sub"),
        access_token(&a).missing_claim("exp"),
    ];
    for bad in presets {
        let me = e.me(bad.token()).await;
        assert_eq!(
            me.code(),
            bad.code().as_str(),
            "{}: {}",
            bad.name(),
            me.body
        );
        assert_rejected_parts(
            me.status,
            &me.headers,
            &serde_json::to_vec(&me.body).unwrap(),
            bad.code(),
        );
    }
    // Without at+jwt the demo refuses an otherwise valid token.
    let untyped = a.token().sign();
    assert_eq!(e.me(&untyped).await.code(), "INVALID_TOKEN");
}
