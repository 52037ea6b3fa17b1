//! Refresh tokens: rotation, expiry after 30 days, reuse detection (family and user-wide), and
//! exactly one winner among 100 concurrent refreshes of one token. Manual clock, no sleeping.
#![cfg(feature = "refresh")]
// Test helpers outside #[test] fns are not covered by clippy.toml's allow-*-in-tests.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::time::Duration;

use auth_core::clock::{ManualClock, UnixTime};
use auth_core::refresh::{
    DEFAULT_REFRESH_TOKEN_LIFETIME, MemoryRefreshStore, RefreshToken, RefreshTokens, ReusePolicy,
};
use auth_core::store::Housekeeping;
use auth_core::{AuthError, ErrorCode};
use base64::Engine as _;
use sha2::Digest as _;

const T0: u64 = 1_750_000_000;

fn clock() -> ManualClock {
    ManualClock::new(UnixTime::from_secs(T0))
}

fn manager(clock: &ManualClock, policy: ReusePolicy) -> RefreshTokens {
    RefreshTokens::in_memory()
        .clock(clock.clone())
        .reuse_policy(policy)
        .build()
        .unwrap()
}

fn code(r: Result<impl std::fmt::Debug, AuthError>) -> ErrorCode {
    r.unwrap_err().code()
}

#[tokio::test]
async fn rotation_returns_a_new_token_of_the_same_family_and_uses_up_the_old_one() {
    let clock = clock();
    let refresh = manager(&clock, ReusePolicy::RevokeFamily);
    let first = refresh.issue("alice").await.unwrap();
    assert_eq!(first.lifetime(), DEFAULT_REFRESH_TOKEN_LIFETIME);
    assert_eq!(first.expires_at(), UnixTime::from_secs(T0 + 30 * 24 * 3600));

    clock.advance(Duration::from_secs(60));
    let second = refresh.rotate(first.token().as_str()).await.unwrap();
    assert_ne!(second.token().as_str(), first.token().as_str());
    assert_eq!(second.family(), first.family());
    assert_eq!(second.subject(), "alice");
    // Each rotation starts a fresh lifetime.
    assert_eq!(
        second.expires_at(),
        UnixTime::from_secs(T0 + 60 + 30 * 24 * 3600)
    );
    let third = refresh.rotate(second.token().as_str()).await.unwrap();
    assert_eq!(third.family(), first.family());
}

#[tokio::test]
async fn refresh_tokens_expire_after_thirty_days() {
    let clock = clock();
    let refresh = manager(&clock, ReusePolicy::RevokeFamily);
    let a = refresh.issue("alice").await.unwrap();
    let b = refresh.issue("alice").await.unwrap();

    clock.advance(Duration::from_secs(30 * 24 * 3600 - 1));
    assert!(refresh.rotate(a.token().as_str()).await.is_ok());

    clock.advance(Duration::from_secs(1));
    assert_eq!(
        code(refresh.rotate(b.token().as_str()).await),
        ErrorCode::RefreshTokenExpired
    );
}

#[tokio::test]
async fn reuse_revokes_the_family_but_not_other_sessions() {
    let clock = clock();
    let refresh = manager(&clock, ReusePolicy::RevokeFamily);
    let laptop = refresh.issue("alice").await.unwrap();
    let phone = refresh.issue("alice").await.unwrap();
    let laptop2 = refresh.rotate(laptop.token().as_str()).await.unwrap();

    // An attacker replays the stolen first token.
    assert_eq!(
        code(refresh.rotate(laptop.token().as_str()).await),
        ErrorCode::RefreshTokenReused
    );
    // The legitimate client's current token died with its family...
    assert_eq!(
        code(refresh.rotate(laptop2.token().as_str()).await),
        ErrorCode::InvalidRefreshToken
    );
    // ...and presenting the used token again still says reuse.
    assert_eq!(
        code(refresh.rotate(laptop.token().as_str()).await),
        ErrorCode::RefreshTokenReused
    );
    // The other session is untouched.
    assert!(refresh.rotate(phone.token().as_str()).await.is_ok());
}

#[tokio::test]
async fn reuse_can_revoke_every_session_of_the_user() {
    let clock = clock();
    let refresh = manager(&clock, ReusePolicy::RevokeAllSessions);
    let laptop = refresh.issue("alice").await.unwrap();
    let phone = refresh.issue("alice").await.unwrap();
    let bob = refresh.issue("bob").await.unwrap();
    refresh.rotate(laptop.token().as_str()).await.unwrap();

    assert_eq!(
        code(refresh.rotate(laptop.token().as_str()).await),
        ErrorCode::RefreshTokenReused
    );
    assert_eq!(
        code(refresh.rotate(phone.token().as_str()).await),
        ErrorCode::InvalidRefreshToken
    );
    assert!(refresh.rotate(bob.token().as_str()).await.is_ok());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn exactly_one_of_a_hundred_concurrent_refreshes_wins() {
    let clock = clock();
    let refresh = manager(&clock, ReusePolicy::RevokeFamily);
    let first = refresh.issue("alice").await.unwrap();
    let presented: Arc<str> = first.token().as_str().into();
    let barrier = Arc::new(tokio::sync::Barrier::new(100));

    let tasks: Vec<_> = (0..100)
        .map(|_| {
            let refresh = refresh.clone();
            let presented = Arc::clone(&presented);
            let barrier = Arc::clone(&barrier);
            tokio::spawn(async move {
                barrier.wait().await;
                refresh.rotate(&presented).await
            })
        })
        .collect();
    let mut winners = Vec::new();
    let mut losers = Vec::new();
    for t in tasks {
        match t.await.unwrap() {
            Ok(issued) => winners.push(issued),
            Err(e) => losers.push(e.code()),
        }
    }
    assert_eq!(winners.len(), 1, "losers: {losers:?}");
    assert_eq!(losers.len(), 99);
    assert!(
        losers.iter().all(|c| *c == ErrorCode::RefreshTokenReused),
        "{losers:?}"
    );
    // The concurrent presentations count as reuse, so the winner's session is revoked too.
    assert_eq!(
        code(refresh.rotate(winners[0].token().as_str()).await),
        ErrorCode::InvalidRefreshToken
    );
}

#[tokio::test]
async fn unknown_and_malformed_tokens_are_invalid() {
    let clock = clock();
    let refresh = manager(&clock, ReusePolicy::RevokeFamily);
    let never_issued = RefreshToken::generate().unwrap();
    for presented in [
        never_issued.as_str(),
        "",
        "short",
        "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhIn0.c2lnbmF0dXJl",
    ] {
        assert_eq!(
            code(refresh.rotate(presented).await),
            ErrorCode::InvalidRefreshToken,
            "{presented}"
        );
    }
}

#[tokio::test]
async fn logout_and_log_out_everywhere_revoke_sessions() {
    let clock = clock();
    let refresh = manager(&clock, ReusePolicy::RevokeFamily);
    let a = refresh.issue("alice").await.unwrap();
    let b = refresh.issue("alice").await.unwrap();
    let c = refresh.issue("alice").await.unwrap();

    assert_eq!(
        refresh.revoke(a.token().as_str()).await.unwrap(),
        Some(a.family().clone())
    );
    assert_eq!(
        code(refresh.rotate(a.token().as_str()).await),
        ErrorCode::InvalidRefreshToken
    );
    assert_eq!(refresh.revoke("garbage").await.unwrap(), None);

    assert_eq!(refresh.revoke_subject("alice").await.unwrap(), 2);
    for s in [&b, &c] {
        assert_eq!(
            code(refresh.rotate(s.token().as_str()).await),
            ErrorCode::InvalidRefreshToken
        );
    }
    assert!(!refresh.revoke_family(b.family()).await.unwrap());
}

#[tokio::test]
async fn only_a_sha256_digest_of_the_token_is_kept() {
    let token = RefreshToken::generate().unwrap();
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token.as_str())
        .unwrap();
    assert_eq!(raw.len(), 32, "256 random bits");
    let digest: [u8; 32] = sha2::Sha256::digest(&raw).into();
    assert_eq!(token.hash().as_bytes(), &digest);
    assert!(!format!("{token:?}").contains(token.as_str()));
}

#[tokio::test]
async fn used_and_expired_tokens_are_purged_after_their_lifetime() {
    let clock = clock();
    let store = Arc::new(MemoryRefreshStore::new().with_expired_retention(Duration::from_secs(60)));
    let refresh = RefreshTokens::builder_shared(store.clone())
        .clock(clock.clone())
        .lifetime(Duration::from_secs(3600))
        .build()
        .unwrap();
    let first = refresh.issue("alice").await.unwrap();
    refresh.rotate(first.token().as_str()).await.unwrap();
    assert_eq!(store.len(), 2);
    // Expired, but still remembered: the answer says so.
    clock.advance(Duration::from_secs(3600));
    assert_eq!(
        code(refresh.rotate(first.token().as_str()).await),
        ErrorCode::RefreshTokenReused
    );
    // After the retention, the next operation sweeps expired entries by itself.
    clock.advance(Duration::from_secs(60));
    let _ = refresh.issue("bob").await.unwrap();
    assert_eq!(store.len(), 1);
}

#[tokio::test]
async fn an_expired_token_answers_expired_even_after_a_purge() {
    let clock = clock();
    let refresh = manager(&clock, ReusePolicy::RevokeFamily);
    let a = refresh.issue("alice").await.unwrap();
    clock.advance(Duration::from_secs(31 * 24 * 3600));
    let _ = refresh.issue("bob").await.unwrap(); // triggers the lazy purge
    assert_eq!(
        code(refresh.rotate(a.token().as_str()).await),
        ErrorCode::RefreshTokenExpired
    );
}
