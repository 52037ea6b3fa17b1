//! The demo's router served on loopback for the end-to-end load figures (`bench/e2e.sh`):
//! `GET /health` and `GET /bench/me` (no authentication; the latter answers the same JSON as
//! `/api/me` does for the demo token) and `GET /api/me` (`BearerLayer`, HS256), with the
//! verified-token cache on or off. Prints one HS256 demo token on its first stdout line, then
//! serves until killed.
//!
//! ```text
//! target/release/auth-bench-e2e-server 127.0.0.1:3900 [--cache]
//! ```

// A benchmark stops loudly when its fixtures fail.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write as _;
use std::net::SocketAddr;
use std::num::NonZeroUsize;
use std::time::Duration;

use auth_core::jwt::{Algorithm, JwtVerifier, TokenCache, VerificationKey};
use demo_server::Demo;
use demo_server::config::{DEFAULT_AUDIENCE, DEFAULT_ISSUER};

const SECRET: &[u8] = b"e2e benchmark secret, at least 32 bytes";

fn main() {
    let addr: SocketAddr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:3900".to_owned())
        .parse()
        .unwrap();
    assert!(addr.ip().is_loopback(), "serves on loopback only");
    let cache = std::env::args().any(|a| a == "--cache");
    let verifier = JwtVerifier::builder()
        .key(VerificationKey::hmac(Algorithm::HS256, SECRET).unwrap())
        .issuer(DEFAULT_ISSUER)
        .audience(DEFAULT_AUDIENCE)
        .build()
        .unwrap();
    let mut demo = Demo::new(verifier).unwrap();
    if cache {
        demo = demo.with_token_cache(TokenCache::new(
            NonZeroUsize::new(100_000).unwrap(),
            Duration::from_secs(300),
        ));
    }
    // A bare route answering what `/api/me` answers for the demo token, built the way the
    // demo's `me` handler builds it (a `json!` object per request), without authentication:
    // the difference to `/api/me` is the layer and the principal extractor, nothing else.
    let bare = axum::Router::new().route(
        "/bench/me",
        axum::routing::get(|| async {
            let roles: &[&str] = &["user"];
            let scopes: &[&str] = &["read:orders"];
            axum::Json(serde_json::json!({
                "sub": "demo-user",
                "roles": roles,
                "scopes": scopes,
                "auth_method": "bearer",
            }))
        }),
    );
    let app = demo_server::app_with(demo).unwrap().merge(bare);
    let token = demo_server::demo_token(SECRET, DEFAULT_ISSUER, DEFAULT_AUDIENCE).unwrap();
    println!("{token}");
    std::io::stdout().flush().unwrap();
    // One worker: the load generator gets the other core.
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let listener = tokio::net::TcpListener::bind(addr).await.unwrap();
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
        .unwrap();
    });
}
