//! Conformance cases of [`RevocationStore`](auth_core::revocation::RevocationStore): entries by
//! `jti`, session and subject, per issuer, that only ever extend.

use auth_core::revocation::TokenRef;

use super::{Stores, at};

pub async fn revocation_a_jti_is_revoked_until_its_entry_ends(s: &Stores) {
    let st = &s.revocations;
    let tok = TokenRef::new(Some("jti-1"), "alice", Some(at(0)));
    assert!(!st.is_revoked(tok, at(0)).await.unwrap());
    assert!(st.revoke_token(None, "jti-1", at(1000)).await.unwrap());
    assert!(!st.revoke_token(None, "jti-1", at(1000)).await.unwrap());
    assert!(st.is_revoked(tok, at(0)).await.unwrap());
    assert!(st.is_revoked(tok, at(999)).await.unwrap());
    assert!(!st.is_revoked(tok, at(1000)).await.unwrap());
    let other = TokenRef::new(Some("jti-2"), "alice", Some(at(0)));
    assert!(!st.is_revoked(other, at(0)).await.unwrap());
}

pub async fn revocation_entries_only_ever_extend(s: &Stores) {
    let st = &s.revocations;
    assert!(st.revoke_token(None, "j", at(100)).await.unwrap());
    assert!(!st.revoke_token(None, "j", at(50)).await.unwrap());
    let tok = TokenRef::new(Some("j"), "a", Some(at(1)));
    assert!(st.is_revoked(tok, at(99)).await.unwrap());
    assert!(!st.revoke_token(None, "j", at(200)).await.unwrap());
    assert!(st.is_revoked(tok, at(199)).await.unwrap());
    st.revoke_subject(None, "a", at(10), at(100)).await.unwrap();
    st.revoke_subject(None, "a", at(5), at(50)).await.unwrap();
    let late = TokenRef::new(None, "a", Some(at(10)));
    assert!(st.is_revoked(late, at(99)).await.unwrap());
    // A later cutoff moves issued_before forward and keeps the longer life.
    st.revoke_subject(None, "a", at(20), at(60)).await.unwrap();
    let later = TokenRef::new(None, "a", Some(at(20)));
    assert!(st.is_revoked(later, at(99)).await.unwrap());
    assert!(!st.is_revoked(later, at(100)).await.unwrap());
}

pub async fn revocation_subject_cutoff_covers_tokens_issued_at_or_before_it(s: &Stores) {
    let st = &s.revocations;
    st.revoke_subject(None, "alice", at(100), at(1000))
        .await
        .unwrap();
    let issued = |iat: Option<u64>| TokenRef::new(Some("x"), "alice", iat.map(at));
    assert!(st.is_revoked(issued(Some(90)), at(200)).await.unwrap());
    assert!(st.is_revoked(issued(Some(100)), at(200)).await.unwrap());
    assert!(!st.is_revoked(issued(Some(101)), at(200)).await.unwrap());
    // Without iat a token cannot prove it is newer.
    assert!(st.is_revoked(issued(None), at(200)).await.unwrap());
    assert!(!st.is_revoked(issued(Some(90)), at(1000)).await.unwrap());
    let bob = TokenRef::new(None, "bob", None);
    assert!(!st.is_revoked(bob, at(200)).await.unwrap());
    // Without a jti, only the subject is consulted.
    let no_jti = TokenRef::new(None, "alice", Some(at(50)));
    assert!(st.is_revoked(no_jti, at(200)).await.unwrap());
}

pub async fn revocation_a_session_is_revoked_until_its_entry_ends(s: &Stores) {
    // Issue 12, item 6: every token of a revoked session is refused at once, on every
    // instance sharing the store.
    let st = &s.revocations;
    let iss = Some("https://auth.example");
    let tok = |jti: &'static str, sid: Option<&'static str>| {
        TokenRef::new(Some(jti), "alice", Some(at(0)))
            .with_issuer(iss)
            .with_session(sid)
    };
    assert!(!st.is_revoked(tok("a", Some("fam-1")), at(0)).await.unwrap());
    assert!(st.revoke_session(iss, "fam-1", at(1000)).await.unwrap());
    assert!(!st.revoke_session(iss, "fam-1", at(500)).await.unwrap());
    for jti in ["a", "b"] {
        assert!(
            st.is_revoked(tok(jti, Some("fam-1")), at(999))
                .await
                .unwrap()
        );
        assert!(
            !st.is_revoked(tok(jti, Some("fam-1")), at(1000))
                .await
                .unwrap()
        );
    }
    // Without a jti the session still counts.
    let no_jti = TokenRef::new(None, "alice", Some(at(0)))
        .with_issuer(iss)
        .with_session(Some("fam-1"));
    assert!(st.is_revoked(no_jti, at(1)).await.unwrap());
    assert!(!st.is_revoked(tok("a", Some("fam-2")), at(1)).await.unwrap());
    assert!(!st.is_revoked(tok("a", None), at(1)).await.unwrap());
    // Only ever extended.
    assert!(!st.revoke_session(iss, "fam-1", at(2000)).await.unwrap());
    assert!(
        st.is_revoked(tok("a", Some("fam-1")), at(1999))
            .await
            .unwrap()
    );
}

pub async fn revocation_any_listed_jti_session_or_subject_revokes_a_token(s: &Stores) {
    let st = &s.revocations;
    let iss = Some("https://auth.example");
    let tok = TokenRef::new(Some("j"), "alice", Some(at(50)))
        .with_issuer(iss)
        .with_session(Some("f"));
    // An ended jti entry does not hide a live session entry, nor that a live subject cutoff.
    st.revoke_token(iss, "j", at(10)).await.unwrap();
    st.revoke_session(iss, "f", at(20)).await.unwrap();
    st.revoke_subject(iss, "alice", at(50), at(30))
        .await
        .unwrap();
    assert!(st.is_revoked(tok, at(5)).await.unwrap());
    assert!(st.is_revoked(tok, at(15)).await.unwrap());
    assert!(st.is_revoked(tok, at(25)).await.unwrap());
    assert!(!st.is_revoked(tok, at(30)).await.unwrap());
}

/// The same identifiers under different issuers, including look-alikes and "no issuer".
const ISSUERS: [Option<&str>; 6] = [
    None,
    Some(""),
    Some("-"),
    Some("https://auth.example"),
    Some("https://idp.example"),
    Some("https://idp.example:"),
];

pub async fn revocation_entries_are_separate_per_issuer(s: &Stores) {
    // Issue 12, item 7: the same `jti`, `sid` or `sub` under two issuers (or under none) names
    // different tokens; revoking one never touches the others.
    let st = &s.revocations;
    // A token of `iss` carrying "same" as its jti (kind 0), its sid (1) or its sub (2).
    let probe = |kind: usize, iss: Option<&'static str>| {
        let (jti, sid, sub) = match kind {
            0 => (Some("same"), None, "x"),
            1 => (None, Some("same"), "x"),
            _ => (None, None, "same"),
        };
        TokenRef::new(jti, sub, Some(at(0)))
            .with_issuer(iss)
            .with_session(sid)
    };
    for kind in 0..3 {
        for (i, revoked) in ISSUERS.iter().enumerate() {
            match kind {
                0 => assert!(st.revoke_token(*revoked, "same", at(100)).await.unwrap()),
                1 => assert!(st.revoke_session(*revoked, "same", at(100)).await.unwrap()),
                _ => st
                    .revoke_subject(*revoked, "same", at(0), at(100))
                    .await
                    .unwrap(),
            }
            // Revoked so far: this kind under the issuers up to and including `revoked`.
            for (j, other) in ISSUERS.iter().enumerate() {
                assert_eq!(
                    st.is_revoked(probe(kind, *other), at(1)).await.unwrap(),
                    j <= i,
                    "kind {kind} revoked up to {revoked:?}, checked under {other:?}",
                );
            }
        }
    }
}

pub async fn revocation_subject_cutoffs_are_kept_per_issuer(s: &Stores) {
    // Issue 12, item 7: "log out everywhere" of one issuer's alice leaves the other's alone,
    // and each issuer's cutoff moves on its own.
    let st = &s.revocations;
    let (local, provider) = (Some("https://auth.example"), Some("https://idp.example"));
    st.revoke_subject(local, "alice", at(100), at(1000))
        .await
        .unwrap();
    st.revoke_subject(provider, "alice", at(200), at(1000))
        .await
        .unwrap();
    let alice = |iss, iat| TokenRef::new(Some("j"), "alice", Some(at(iat))).with_issuer(iss);
    assert!(st.is_revoked(alice(local, 100), at(300)).await.unwrap());
    assert!(!st.is_revoked(alice(local, 150), at(300)).await.unwrap());
    assert!(st.is_revoked(alice(provider, 150), at(300)).await.unwrap());
    assert!(!st.is_revoked(alice(provider, 201), at(300)).await.unwrap());
    assert!(!st.is_revoked(alice(None, 50), at(300)).await.unwrap());
    // Moving the local cutoff forward does not move the provider's.
    st.revoke_subject(local, "alice", at(300), at(1000))
        .await
        .unwrap();
    assert!(st.is_revoked(alice(local, 250), at(300)).await.unwrap());
    assert!(!st.is_revoked(alice(provider, 250), at(300)).await.unwrap());
}
