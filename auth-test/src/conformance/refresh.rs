//! Conformance cases of [`RefreshTokenStore`](auth_core::refresh::RefreshTokenStore): atomic
//! rotation, reuse detection, family and subject revocation.

use std::sync::Arc;

use auth_core::clock::UnixTime;
use auth_core::refresh::{
    FamilyId, NewFamily, NewToken, RefreshToken, RefreshTokenStore, RevokedFamilies, RotateOutcome,
};

use super::{Stores, at};

fn token(issued: u64, expires: u64) -> NewToken {
    NewToken::new(
        RefreshToken::generate().unwrap().hash(),
        at(issued),
        at(expires),
    )
}

async fn family(st: &dyn RefreshTokenStore, subject: &str, first: NewToken) -> FamilyId {
    let id = FamilyId::generate().unwrap();
    st.insert_family(NewFamily::new(first, id.clone(), subject))
        .await
        .unwrap();
    id
}

pub async fn refresh_rotation_uses_up_the_token_and_reuse_revokes_the_family(s: &Stores) {
    let st = &*s.refresh;
    let first = token(0, 1000);
    let fam = family(st, "alice", first).await;
    let second = token(1, 1001);
    assert_eq!(
        st.rotate(&first.hash(), second, at(1)).await.unwrap(),
        RotateOutcome::Rotated {
            family: fam.clone(),
            subject: "alice".into()
        }
    );
    let third = token(2, 1002);
    assert_eq!(
        st.rotate(&second.hash(), third, at(2)).await.unwrap(),
        RotateOutcome::Rotated {
            family: fam.clone(),
            subject: "alice".into()
        }
    );
    // The first token again, two rotations later: reuse; the family dies.
    assert_eq!(
        st.rotate(&first.hash(), token(3, 1003), at(3))
            .await
            .unwrap(),
        RotateOutcome::Reused {
            family: fam.clone(),
            subject: "alice".into()
        }
    );
    assert_eq!(
        st.rotate(&third.hash(), token(4, 1004), at(4))
            .await
            .unwrap(),
        RotateOutcome::Revoked
    );
    // Reuse of a used token keeps answering reuse.
    assert!(matches!(
        st.rotate(&second.hash(), token(5, 1005), at(5))
            .await
            .unwrap(),
        RotateOutcome::Reused { .. }
    ));
}

pub async fn refresh_expired_tokens_answer_expired(s: &Stores) {
    let st = &*s.refresh;
    let a = token(0, 100);
    family(st, "alice", a).await;
    assert_eq!(
        st.rotate(&a.hash(), token(100, 200), at(100))
            .await
            .unwrap(),
        RotateOutcome::Expired
    );
    let b = token(0, 100);
    family(st, "alice", b).await;
    let just_before = UnixTime::from_nanos(at(100).as_nanos() - 1);
    assert!(matches!(
        st.rotate(&b.hash(), token(99, 200), just_before)
            .await
            .unwrap(),
        RotateOutcome::Rotated { .. }
    ));
}

pub async fn refresh_unknown_tokens_answer_unknown(s: &Stores) {
    let st = &*s.refresh;
    let never = RefreshToken::generate().unwrap().hash();
    assert_eq!(
        st.rotate(&never, token(0, 100), at(0)).await.unwrap(),
        RotateOutcome::Unknown
    );
    assert_eq!(st.revoke_family_of(&never).await.unwrap(), None);
    let nobody = FamilyId::generate().unwrap();
    assert!(!st.revoke_family(&nobody).await.unwrap());
    assert_eq!(
        st.revoke_subject("nobody").await.unwrap(),
        RevokedFamilies::default()
    );
}

pub async fn refresh_revoking_a_family_stops_its_rotation(s: &Stores) {
    let st = &*s.refresh;
    let first = token(0, 1000);
    let fam = family(st, "alice", first).await;
    assert!(st.revoke_family(&fam).await.unwrap());
    assert!(!st.revoke_family(&fam).await.unwrap());
    assert_eq!(
        st.rotate(&first.hash(), token(1, 1001), at(1))
            .await
            .unwrap(),
        RotateOutcome::Revoked
    );
}

pub async fn refresh_revoke_family_of_finds_the_family(s: &Stores) {
    let st = &*s.refresh;
    let first = token(0, 1000);
    let fam = family(st, "alice", first).await;
    let second = token(1, 1001);
    st.rotate(&first.hash(), second, at(1)).await.unwrap();
    assert_eq!(
        st.revoke_family_of(&second.hash()).await.unwrap(),
        Some(fam.clone())
    );
    // A used token still names its family.
    assert_eq!(st.revoke_family_of(&first.hash()).await.unwrap(), Some(fam));
    assert_eq!(
        st.rotate(&second.hash(), token(2, 1002), at(2))
            .await
            .unwrap(),
        RotateOutcome::Revoked
    );
}

pub async fn refresh_revoke_subject_counts_newly_revoked_families(s: &Stores) {
    let st = &*s.refresh;
    let (a1, a2, a3, b1) = (
        token(0, 1000),
        token(0, 1000),
        token(0, 1000),
        token(0, 1000),
    );
    let mut alice = vec![
        family(st, "alice", a1).await,
        family(st, "alice", a2).await,
        family(st, "alice", a3).await,
    ];
    alice.sort_by(|x, y| x.as_str().cmp(y.as_str()));
    family(st, "bob", b1).await;
    let sorted = |r: RevokedFamilies| {
        let mut f = r.families().to_vec();
        f.sort_by(|x, y| x.as_str().cmp(y.as_str()));
        (f, r.newly_revoked())
    };
    // One family revoked before: every family is listed, two are newly revoked.
    assert!(st.revoke_family(&alice[0]).await.unwrap());
    assert_eq!(
        sorted(st.revoke_subject("alice").await.unwrap()),
        (alice.clone(), 2)
    );
    // Issue 12, item 6: called again, the families are still listed (so a caller that failed
    // to revoke their access tokens can retry), none newly revoked.
    assert_eq!(
        sorted(st.revoke_subject("alice").await.unwrap()),
        (alice.clone(), 0)
    );
    assert_eq!(
        st.rotate(&a2.hash(), token(1, 1001), at(1)).await.unwrap(),
        RotateOutcome::Revoked
    );
    assert!(matches!(
        st.rotate(&b1.hash(), token(1, 1001), at(1)).await.unwrap(),
        RotateOutcome::Rotated { .. }
    ));
}

pub async fn refresh_duplicate_family_or_digest_is_an_error(s: &Stores) {
    let st = &*s.refresh;
    let a = token(0, 10);
    let fam = family(st, "s", a).await;
    let b = token(0, 10);
    assert!(st.insert_family(NewFamily::new(b, fam, "s")).await.is_err());
    let again = NewFamily::new(a, FamilyId::generate().unwrap(), "s");
    assert!(st.insert_family(again).await.is_err());
    // The failed inserts changed nothing: `a` still rotates, `b` is unknown.
    assert!(matches!(
        st.rotate(&a.hash(), token(1, 11), at(1)).await.unwrap(),
        RotateOutcome::Rotated { .. }
    ));
    assert_eq!(
        st.rotate(&b.hash(), token(1, 11), at(1)).await.unwrap(),
        RotateOutcome::Unknown
    );
}

pub async fn refresh_concurrent_rotations_have_exactly_one_winner(s: &Stores) {
    let first = token(0, 1000);
    family(&*s.refresh, "alice", first).await;
    let tasks: Vec<_> = (0..50)
        .map(|_| {
            let st = Arc::clone(&s.refresh);
            tokio::spawn(async move {
                st.rotate(&first.hash(), token(1, 1001), at(1))
                    .await
                    .unwrap()
            })
        })
        .collect();
    let (mut rotated, mut reused) = (0, 0);
    for t in tasks {
        match t.await.unwrap() {
            RotateOutcome::Rotated { .. } => rotated += 1,
            RotateOutcome::Reused { .. } => reused += 1,
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!((rotated, reused), (1, 49));
}

/// Issue 19: a hundred clients (or instances) presenting one refresh token at once. Exactly one
/// rotation wins; the 99 others see a used token, so the family is revoked and even the winner's
/// replacement no longer rotates.
pub async fn refresh_a_hundred_concurrent_rotations_of_one_token_have_one_winner(s: &Stores) {
    let first = token(0, 1000);
    family(&*s.refresh, "alice", first).await;
    let replacements: Vec<NewToken> = (0..100).map(|_| token(1, 1001)).collect();
    let tasks: Vec<_> = replacements
        .iter()
        .map(|&replacement| {
            let st = Arc::clone(&s.refresh);
            tokio::spawn(async move { st.rotate(&first.hash(), replacement, at(1)).await })
        })
        .collect();
    let mut winners = Vec::new();
    let mut reused = 0;
    for (i, t) in tasks.into_iter().enumerate() {
        match t.await.unwrap().unwrap() {
            RotateOutcome::Rotated { subject, .. } => {
                assert_eq!(subject, "alice");
                winners.push(i);
            }
            RotateOutcome::Reused { subject, .. } => {
                assert_eq!(subject, "alice");
                reused += 1;
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!((winners.len(), reused), (1, 99));
    // Only the winner's replacement was stored, and the reuse revoked its family.
    for (i, r) in replacements.iter().enumerate() {
        let out = s
            .refresh
            .rotate(&r.hash(), token(2, 1002), at(2))
            .await
            .unwrap();
        if winners.contains(&i) {
            assert_eq!(out, RotateOutcome::Revoked);
        } else {
            assert_eq!(out, RotateOutcome::Unknown);
        }
    }
}
