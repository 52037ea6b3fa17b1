//! The stores over TLS (`rediss://`, rustls): private `redis-server` processes with a TLS port
//! and certificates this test generates (a private CA, a server certificate for `localhost`, a
//! client certificate). The conformance suite runs over TLS; a server certificate from another
//! CA, or for another host name, is refused; a server that demands client certificates
//! (`tls-auth-clients yes`) accepts the configured one and refuses a client without one.
//!
//! Skipped with a printed reason without `redis-server`, except under `CI=true`, where that
//! fails. (The `redis-server` must be built with TLS, as the distributions' packages are.)

// Test helpers outside #[test] fns are not covered by clippy.toml's allow-*-in-tests.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use auth_core::clock::ManualClock;
use auth_redis::test_util::unique_prefix;
use auth_redis::{
    ErrorKind, RedisApiKeyStore, RedisAttemptStore, RedisBackend, RedisRefreshStore,
    RedisRevocationStore,
};
use auth_test::conformance::Stores;
use common::pki::{pki, tls_server};

mod common;

fn builder(url: String, ca: &Path) -> auth_redis::RedisBackendBuilder {
    RedisBackend::builder(url)
        .prefix(unique_prefix("tls"))
        .timeout(Duration::from_secs(5))
        .tls_ca_file(ca)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_store_conformance_suite_passes_over_tls() {
    let pki = pki();
    let Some((_server, port)) = tls_server(&pki, false) else {
        return;
    };
    let url = format!("rediss://localhost:{port}");
    let make = |clock: ManualClock| {
        let redis = builder(url.clone(), &pki.path("ca.pem")).build().unwrap();
        Stores {
            attempts: Some(Arc::new(RedisAttemptStore::new(redis.clone()))),
            revocations: Arc::new(
                RedisRevocationStore::new(redis.clone()).with_clock(clock.clone()),
            ),
            refresh: Arc::new(RedisRefreshStore::new(redis.clone())),
            api_keys: Arc::new(RedisApiKeyStore::new(redis)),
            clock,
            // The private server goes away with the test.
            cleanup: None,
        }
    };
    // The stores really speak TLS: the plain-text parse of the first answer would fail.
    builder(url.clone(), &pki.path("ca.pem"))
        .build()
        .unwrap()
        .ping()
        .await
        .expect("a ping over tls");
    common::run_store_cases(make).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_certificate_from_another_ca_or_for_another_host_is_refused() {
    let pki = pki();
    let Some((_server, port)) = tls_server(&pki, false) else {
        return;
    };
    // Another CA: the server's certificate does not chain to it.
    let wrong_ca = builder(
        format!("rediss://localhost:{port}"),
        &pki.path("other-ca.pem"),
    )
    .timeout(Duration::from_secs(2))
    .build()
    .unwrap();
    let err = wrong_ca.ping().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Tls, "{err}");
    assert!(err.to_string().contains("certificate"), "{err}");
    eprintln!("wrong ca: {err}");

    // The right CA, but the certificate names `localhost`, not `127.0.0.1`.
    let wrong_host = builder(format!("rediss://127.0.0.1:{port}"), &pki.path("ca.pem"))
        .timeout(Duration::from_secs(2))
        .build()
        .unwrap();
    let err = wrong_host.ping().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Tls, "{err}");
    eprintln!("wrong host: {err}");

    // The system's roots (no CA configured) do not know the private CA either.
    let system_roots = RedisBackend::builder(format!("rediss://localhost:{port}"))
        .timeout(Duration::from_secs(2))
        .build()
        .unwrap();
    let err = system_roots.ping().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Tls, "{err}");

    // The control: the right CA and host name work.
    builder(format!("rediss://localhost:{port}"), &pki.path("ca.pem"))
        .build()
        .unwrap()
        .ping()
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mutual_tls_presents_the_client_certificate_and_fails_without_one() {
    let pki = pki();
    let Some((_server, port)) = tls_server(&pki, true) else {
        return;
    };
    let url = format!("rediss://localhost:{port}");
    let with_cert = builder(url.clone(), &pki.path("ca.pem"))
        .tls_client_cert_files(pki.path("client.pem"), pki.path("client.key"))
        .build()
        .unwrap();
    with_cert.ping().await.expect("mutual tls");
    let refresh = RedisRefreshStore::new(with_cert);
    let unknown = auth_core::refresh::RefreshToken::generate().unwrap().hash();
    let replacement = auth_core::refresh::NewToken::new(
        auth_core::refresh::RefreshToken::generate().unwrap().hash(),
        auth_test::conformance::at(0),
        auth_test::conformance::at(10),
    );
    use auth_core::refresh::RefreshTokenStore;
    assert_eq!(
        refresh
            .rotate(&unknown, replacement, auth_test::conformance::at(0))
            .await
            .unwrap(),
        auth_core::refresh::RotateOutcome::Unknown
    );

    let without_cert = builder(url, &pki.path("ca.pem"))
        .timeout(Duration::from_secs(2))
        .build()
        .unwrap();
    let err = without_cert.ping().await.unwrap_err();
    eprintln!("no client certificate: {err}");
    assert!(
        matches!(err.kind(), ErrorKind::Tls | ErrorKind::Unavailable),
        "{err}"
    );
}

#[tokio::test]
async fn tls_settings_need_a_rediss_url_and_readable_files() {
    let err = RedisBackend::builder("redis://localhost:6379")
        .tls_ca_pem("-----BEGIN CERTIFICATE-----")
        .build()
        .unwrap_err();
    assert!(matches!(err, auth_redis::ConfigError::Tls { .. }), "{err}");
    let err = RedisBackend::builder("rediss://localhost:6379")
        .tls_ca_file("/nonexistent/ca.pem")
        .build()
        .unwrap_err();
    assert!(
        matches!(err, auth_redis::ConfigError::TlsFile { .. }),
        "{err}"
    );
}
