//! OpenID Connect discovery documents: the resource server's (`jwks::discover`, through an
//! `HttpClient` answering with the input) and the login's (issuer, endpoints, PKCE support).
//!
//! Properties: never a panic; an accepted document names exactly the configured issuer and
//! only endpoints over https (or http to a loopback host).
#![no_main]

use std::time::Duration;

use auth_core::jwks::{FetchRequest, HttpClient, HttpError, HttpResponse};
use auth_core::jwt::BoxFuture;
use auth_fuzz::ready;
use libfuzzer_sys::fuzz_target;

const ISSUER: &str = "https://idp.fuzz.invalid";

#[derive(Debug)]
struct Canned(Vec<u8>);

impl HttpClient for Canned {
    fn get(&self, _: FetchRequest) -> BoxFuture<'static, Result<HttpResponse, HttpError>> {
        let body = self.0.clone();
        Box::pin(async move { Ok(HttpResponse::new(200, body)) })
    }
}

fn safe_url(url: &str) -> bool {
    let lower = url.to_ascii_lowercase();
    lower.starts_with("https://")
        || lower.starts_with("http://127.")
        || lower.starts_with("http://localhost")
        || lower.starts_with("http://[::1]")
}

fuzz_target!(|data: &[u8]| {
    let client = Canned(data.to_vec());
    if let Ok(m) = ready(auth_core::jwks::discover(
        &client,
        ISSUER,
        Duration::from_secs(1),
    )) {
        assert_eq!(m.issuer, ISSUER);
        assert!(safe_url(&m.jwks_uri), "accepted jwks_uri {}", m.jwks_uri);
    }
    if let Ok([issuer, authorize, token]) = auth_core::fuzzing::login_metadata(ISSUER, data) {
        assert_eq!(issuer, ISSUER);
        assert!(
            safe_url(&authorize),
            "accepted authorization_endpoint {authorize}"
        );
        assert!(safe_url(&token), "accepted token_endpoint {token}");
    }
});
