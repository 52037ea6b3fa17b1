//! `BearerLayer` with a revocation store: `TOKEN_REVOKED` for a revoked `jti`, for a revoked
//! session (`sid`) and for a subject revoked "before an instant", each within its issuer, the
//! synchronous and the awaited store paths (with readiness kept on the ready inner service),
//! failing stores, and tokens from `TokenIssuer` end to end.
#![cfg(feature = "revocation")]
// Test helpers outside #[test] fns are not covered by clippy.toml's allow-*-in-tests.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::Poll;
use std::time::Duration;

use auth_core::clock::{ManualClock, UnixTime};
use auth_core::jwt::{
    AccessGrant, Algorithm, JwtVerifier, KeyRing, SigningKey, TokenIssuer, TrustedIssuer,
};
use auth_core::revocation::{MemoryRevocationStore, RevocationStore, Revoker, TokenRef};
use auth_core::store::{StoreError, async_trait};
use auth_core::{ErrorCode, Principal};
use auth_tower::Rejection;
use auth_tower::bearer::BearerLayer;
use bytes::Bytes;
use http::{Request, Response, StatusCode, header};
use http_body_util::Full;
use tower::{Layer, ServiceBuilder, ServiceExt, service_fn};
use tower_test::mock;

const T0: u64 = 1_750_000_000;
const ISSUER: Option<&str> = Some("https://auth.example.test");

struct Fixture {
    clock: ManualClock,
    issuer: TokenIssuer,
    store: Arc<MemoryRevocationStore>,
    revoker: Revoker,
}

fn fixture() -> Fixture {
    let clock = ManualClock::new(UnixTime::from_secs(T0));
    let ring = KeyRing::new(SigningKey::generate(Algorithm::ES256, "k1").unwrap());
    let issuer = TokenIssuer::builder(ring)
        .issuer("https://auth.example.test")
        .audience("api")
        .clock(clock.clone())
        .build()
        .unwrap();
    let store = Arc::new(MemoryRevocationStore::new().with_clock(clock.clone()));
    let revoker = Revoker::builder(store.clone())
        .clock(clock.clone())
        .max_token_lifetime(issuer.lifetime())
        .build()
        .unwrap();
    Fixture {
        clock,
        issuer,
        store,
        revoker,
    }
}

impl Fixture {
    fn layer(&self, store: Option<Arc<dyn RevocationStore>>) -> BearerLayer {
        let verifier = self.issuer.verifier_builder().build().unwrap();
        let mut b = BearerLayer::builder(verifier);
        if let Some(store) = store {
            b = b.revocation(store);
        }
        b.build().unwrap()
    }

    fn token(&self, sub: &str) -> String {
        self.issuer
            .issue(&AccessGrant::new(sub))
            .unwrap()
            .into_string()
    }

    /// A token of `sub` in session `sid` (the claim RFC 9068 and OpenID Connect name).
    fn session_token(&self, sub: &str, sid: &str) -> String {
        self.issuer
            .issue(&AccessGrant::new(sub).claim("sid", sid))
            .unwrap()
            .into_string()
    }
}

fn req(token: &str) -> Request<Full<Bytes>> {
    Request::get("/me")
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .body(Full::default())
        .unwrap()
}

async fn echo(req: Request<Full<Bytes>>) -> Result<Response<Full<Bytes>>, Infallible> {
    let sub = req
        .extensions()
        .get::<Principal>()
        .map_or_else(String::new, |p| p.subject().to_owned());
    Ok(Response::new(Full::from(sub)))
}

async fn send(layer: &BearerLayer, token: &str) -> Response<Full<Bytes>> {
    layer
        .layer(service_fn(echo))
        .oneshot(req(token))
        .await
        .unwrap()
}

fn code(res: &Response<Full<Bytes>>) -> ErrorCode {
    res.extensions().get::<Rejection>().unwrap().code()
}

#[tokio::test]
async fn a_token_revoked_by_jti_is_refused_with_token_revoked() {
    let f = fixture();
    let layer = f.layer(Some(f.store.clone()));
    let token = f.token("alice");
    let other = f.token("alice");
    assert_eq!(send(&layer, &token).await.status(), StatusCode::OK);

    let principal = f
        .issuer
        .verifier_builder()
        .build()
        .unwrap()
        .verify_sync(&token)
        .unwrap();
    f.revoker.revoke_token(&principal).await.unwrap();

    let res = send(&layer, &token).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(code(&res), ErrorCode::TokenRevoked);
    assert_eq!(
        res.headers()[header::WWW_AUTHENTICATE],
        "Bearer realm=\"api\", error=\"invalid_token\", error_description=\"the access token has been revoked\""
    );
    // The same user's other token is unaffected.
    assert_eq!(send(&layer, &other).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn tokens_of_a_subject_revoked_before_an_instant_are_refused() {
    let f = fixture();
    let layer = f.layer(Some(f.store.clone()));
    let alice_old = f.token("alice");
    let bob = f.token("bob");
    f.clock.advance(Duration::from_secs(60));
    let alice_recent = f.token("alice");

    f.revoker.revoke_subject(ISSUER, "alice").await.unwrap();
    assert_eq!(
        code(&send(&layer, &alice_old).await),
        ErrorCode::TokenRevoked
    );
    assert_eq!(
        code(&send(&layer, &alice_recent).await),
        ErrorCode::TokenRevoked
    );
    assert_eq!(send(&layer, &bob).await.status(), StatusCode::OK);

    // Logging in again (a second later) yields a token that works.
    f.clock.advance(Duration::from_secs(1));
    assert_eq!(
        send(&layer, &f.token("alice")).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn without_a_store_revocations_are_not_consulted() {
    let f = fixture();
    let token = f.token("alice");
    f.revoker.revoke_subject(ISSUER, "alice").await.unwrap();
    assert_eq!(send(&f.layer(None), &token).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn revocation_entries_expire_with_the_token() {
    let f = fixture();
    let layer = f.layer(Some(f.store.clone()));
    let token = f.token("alice");
    let p = f
        .issuer
        .verifier_builder()
        .build()
        .unwrap()
        .verify_sync(&token)
        .unwrap();
    f.revoker.revoke_token(&p).await.unwrap();
    // Once the token has expired, it is TOKEN_EXPIRED (checked first), and the entry is gone.
    f.clock.advance(Duration::from_secs(15 * 60 + 301));
    assert_eq!(code(&send(&layer, &token).await), ErrorCode::TokenExpired);
    assert!(
        !f.store
            .is_revoked(TokenRef::of(&p), UnixTime::from_secs(T0 + 15 * 60 + 301))
            .await
            .unwrap()
    );
}

/// A store that must be awaited (like a network store), counting lookups.
#[derive(Debug, Default)]
struct RemoteStore {
    revoked_jti: std::sync::Mutex<Option<String>>,
    lookups: AtomicUsize,
    fail: bool,
}

#[async_trait]
impl RevocationStore for RemoteStore {
    async fn revoke_token(
        &self,
        _: Option<&str>,
        jti: &str,
        _until: UnixTime,
    ) -> Result<bool, StoreError> {
        *self.revoked_jti.lock().unwrap() = Some(jti.to_owned());
        Ok(true)
    }

    async fn revoke_subject(
        &self,
        _: Option<&str>,
        _: &str,
        _: UnixTime,
        _: UnixTime,
    ) -> Result<(), StoreError> {
        Ok(())
    }

    async fn revoke_session(
        &self,
        _: Option<&str>,
        _: &str,
        _: UnixTime,
    ) -> Result<bool, StoreError> {
        Ok(true)
    }

    async fn is_revoked(&self, token: TokenRef<'_>, _now: UnixTime) -> Result<bool, StoreError> {
        self.lookups.fetch_add(1, Ordering::SeqCst);
        tokio::task::yield_now().await;
        if self.fail {
            return Err(StoreError::new("connection refused"));
        }
        Ok(self.revoked_jti.lock().unwrap().as_deref() == token.jti())
    }
}

#[tokio::test]
async fn an_awaited_store_is_consulted_through_the_ready_inner_service() {
    let f = fixture();
    let store = Arc::new(RemoteStore::default());
    let (mut svc, mut handle) = mock::spawn_layer::<Request<Full<Bytes>>, Response<Full<Bytes>>, _>(
        f.layer(Some(store.clone())),
    );
    handle.allow(0);
    assert!(svc.poll_ready().is_pending());
    handle.allow(1);
    assert!(matches!(svc.poll_ready(), Poll::Ready(Ok(()))));
    let fut = tokio::spawn(svc.call(req(&f.token("carol"))));
    let (request, send) = handle.next_request().await.unwrap();
    assert_eq!(
        request.extensions().get::<Principal>().unwrap().subject(),
        "carol"
    );
    send.send_response(Response::new(Full::default()));
    assert_eq!(fut.await.unwrap().unwrap().status(), StatusCode::OK);
    assert_eq!(store.lookups.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn an_awaited_store_refuses_revoked_tokens_without_calling_the_inner_service() {
    let f = fixture();
    let store = Arc::new(RemoteStore::default());
    let token = f.token("carol");
    let p = f
        .issuer
        .verifier_builder()
        .build()
        .unwrap()
        .verify_sync(&token)
        .unwrap();
    store
        .revoke_token(p.issuer(), p.token_id().unwrap(), UnixTime::EPOCH)
        .await
        .unwrap();
    let (mut svc, mut handle) = mock::spawn_layer::<Request<Full<Bytes>>, Response<Full<Bytes>>, _>(
        f.layer(Some(store.clone())),
    );
    handle.allow(1);
    assert!(matches!(svc.poll_ready(), Poll::Ready(Ok(()))));
    let res = svc.call(req(&token)).await.unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(code(&res), ErrorCode::TokenRevoked);
    assert!(matches!(handle.poll_request(), Poll::Pending));
}

#[tokio::test]
async fn a_failing_store_fails_closed_with_503() {
    let f = fixture();
    let store = Arc::new(RemoteStore {
        fail: true,
        ..RemoteStore::default()
    });
    let svc = ServiceBuilder::new()
        .layer(f.layer(Some(store)))
        .service(service_fn(echo));
    let res = svc.oneshot(req(&f.token("dave"))).await.unwrap();
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(code(&res), ErrorCode::AuthBackendUnavailable);
}

#[tokio::test]
async fn the_in_memory_store_answers_without_a_pending_state() {
    use std::future::Future;
    use std::task::Context;
    // A synchronous store's answer is known inside `call`: the first poll is the inner
    // service's (here immediately ready), never a pending store lookup.
    let f = fixture();
    let mut svc = f.layer(Some(f.store.clone())).layer(service_fn(echo));
    let fut = tower::Service::call(&mut svc, req(&f.token("erin")));
    assert!(format!("{fut:?}").contains("\"Future\""), "{fut:?}");
    let mut fut = std::pin::pin!(fut);
    let mut cx = Context::from_waker(std::task::Waker::noop());
    assert!(fut.as_mut().poll(&mut cx).is_ready());
}

#[tokio::test]
async fn every_token_of_a_revoked_session_is_refused_with_token_revoked() {
    // Issue 12, item 6: after refresh-token reuse or logout, the session's access tokens
    // answer 401 TOKEN_REVOKED at once instead of working until they expire.
    let f = fixture();
    let layer = f.layer(Some(f.store.clone()));
    let first = f.session_token("alice", "fam-1");
    f.clock.advance(Duration::from_secs(60));
    let refreshed = f.session_token("alice", "fam-1");
    let other_session = f.session_token("alice", "fam-2");
    let no_session = f.token("alice");
    assert_eq!(send(&layer, &first).await.status(), StatusCode::OK);

    f.revoker.revoke_session(ISSUER, "fam-1").await.unwrap();
    for token in [&first, &refreshed] {
        let res = send(&layer, token).await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(code(&res), ErrorCode::TokenRevoked);
    }
    assert_eq!(send(&layer, &other_session).await.status(), StatusCode::OK);
    assert_eq!(send(&layer, &no_session).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn an_awaited_store_is_asked_about_the_session_and_issuer_of_the_token() {
    // The layer hands the store the token's issuer and `sid`, not only its jti and subject.
    #[derive(Debug, Default)]
    struct Asked(std::sync::Mutex<Vec<(Option<String>, Option<String>)>>);
    #[async_trait]
    impl RevocationStore for Asked {
        async fn revoke_token(
            &self,
            _: Option<&str>,
            _: &str,
            _: UnixTime,
        ) -> Result<bool, StoreError> {
            Ok(true)
        }
        async fn revoke_subject(
            &self,
            _: Option<&str>,
            _: &str,
            _: UnixTime,
            _: UnixTime,
        ) -> Result<(), StoreError> {
            Ok(())
        }
        async fn revoke_session(
            &self,
            _: Option<&str>,
            _: &str,
            _: UnixTime,
        ) -> Result<bool, StoreError> {
            Ok(true)
        }
        async fn is_revoked(&self, token: TokenRef<'_>, _: UnixTime) -> Result<bool, StoreError> {
            let asked = (
                token.issuer().map(Into::into),
                token.session().map(Into::into),
            );
            self.0.lock().unwrap().push(asked);
            Ok(false)
        }
    }
    let f = fixture();
    let store = Arc::new(Asked::default());
    let layer = f.layer(Some(store.clone()));
    assert_eq!(
        send(&layer, &f.session_token("alice", "fam-9"))
            .await
            .status(),
        StatusCode::OK
    );
    assert_eq!(
        *store.0.lock().unwrap(),
        [(ISSUER.map(Into::into), Some("fam-9".to_owned()))]
    );
}

const PROVIDER: &str = "https://idp.example.test";

/// Two trusted issuers, both of which may name a user `demo-user` (as a demo with
/// `AUTH_OIDC_ISSUER` does), and a layer whose verifier accepts both.
struct TwoIssuers {
    local: TokenIssuer,
    provider: TokenIssuer,
    verifier: JwtVerifier,
    layer: BearerLayer,
}

fn two_issuers(f: &Fixture) -> TwoIssuers {
    let issuer = |iss: &str, kid: &str| {
        let ring = KeyRing::new(SigningKey::generate(Algorithm::ES256, kid).unwrap());
        let issuer = TokenIssuer::builder(ring.clone())
            .issuer(iss)
            .audience("api")
            .clock(f.clock.clone())
            .build()
            .unwrap();
        (issuer, TrustedIssuer::new(iss, ring).audience("api"))
    };
    let (local, local_trust) = issuer(ISSUER.unwrap(), "local");
    let (provider, provider_trust) = issuer(PROVIDER, "provider");
    let verifier = JwtVerifier::builder()
        .trusted_issuer(local_trust)
        .trusted_issuer(provider_trust)
        .clock(f.clock.clone())
        .build()
        .unwrap();
    let layer = BearerLayer::builder(verifier.clone())
        .revocation(f.store.clone())
        .build()
        .unwrap();
    TwoIssuers {
        local,
        provider,
        verifier,
        layer,
    }
}

fn issue(issuer: &TokenIssuer, grant: &AccessGrant) -> String {
    issuer.issue(grant).unwrap().into_string()
}

#[tokio::test]
async fn a_subject_revocation_of_one_issuer_leaves_the_same_sub_of_another_issuer_alone() {
    // Issue 12, item 7: a provider token whose `sub` equals a local subject must not log the
    // local user out everywhere, nor the other way round.
    let f = fixture();
    let t = two_issuers(&f);
    let local = issue(&t.local, &AccessGrant::new("demo-user"));
    let provider = issue(&t.provider, &AccessGrant::new("demo-user"));
    let provider_principal = t.verifier.verify_sync(&provider).unwrap();
    assert_eq!(provider_principal.issuer(), Some(PROVIDER));

    // The provider's demo-user logs out everywhere.
    f.revoker
        .revoke_subject_of(&provider_principal)
        .await
        .unwrap();
    assert_eq!(
        code(&send(&t.layer, &provider).await),
        ErrorCode::TokenRevoked
    );
    assert_eq!(send(&t.layer, &local).await.status(), StatusCode::OK);

    // And the local one, later, only reaches local tokens.
    f.clock.advance(Duration::from_secs(1));
    let provider_later = issue(&t.provider, &AccessGrant::new("demo-user"));
    f.revoker.revoke_subject(ISSUER, "demo-user").await.unwrap();
    assert_eq!(code(&send(&t.layer, &local).await), ErrorCode::TokenRevoked);
    assert_eq!(
        send(&t.layer, &provider_later).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_session_or_jti_revocation_of_one_issuer_leaves_another_issuers_alone() {
    // Issue 12, items 6 and 7: `sid` and `jti` values are unique per issuer only.
    let f = fixture();
    let t = two_issuers(&f);
    let grant = AccessGrant::new("demo-user").claim("sid", "s-1");
    let local = issue(&t.local, &grant);
    let provider = issue(&t.provider, &grant);
    f.revoker
        .revoke_session(Some(PROVIDER), "s-1")
        .await
        .unwrap();
    assert_eq!(
        code(&send(&t.layer, &provider).await),
        ErrorCode::TokenRevoked
    );
    assert_eq!(send(&t.layer, &local).await.status(), StatusCode::OK);

    // A jti revoked under the provider does not reach a local token, whatever its jti.
    let local_principal = t.verifier.verify_sync(&local).unwrap();
    f.revoker
        .revoke_jti(
            Some(PROVIDER),
            local_principal.token_id().unwrap(),
            UnixTime::from_secs(T0 + 900),
        )
        .await
        .unwrap();
    assert_eq!(send(&t.layer, &local).await.status(), StatusCode::OK);
}
