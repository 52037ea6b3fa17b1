//! Conformance cases of `auth_core::oidc_login`'s stores: provider identities linked to local
//! accounts, and used login transactions.

use auth_core::clock::UnixTime;
use auth_core::oidc_login::{
    ExternalIdentity, LinkOutcome, LinkedIdentity, MAX_IDENTITY_FIELD_LEN,
};

use super::IdentityStores;

/// The start of every case's timeline.
pub const T0: u64 = 1_700_000_000;

/// `secs` after [`T0`].
#[must_use]
pub fn at(secs: u64) -> UnixTime {
    UnixTime::from_secs(T0 + secs)
}

const ISS: &str = "https://idp.example";

fn link(iss: &str, sub: &str, account: &str, secs: u64) -> LinkedIdentity {
    LinkedIdentity::new(ExternalIdentity::new(iss, sub), "acme", account, at(secs))
}

pub async fn identities_an_identity_links_once_and_the_existing_link_is_reported(
    s: &IdentityStores,
) {
    let st = &s.identities;
    let first = link(ISS, "u1", "alice", 1);
    assert_eq!(st.find(first.identity()).await.unwrap(), None);
    assert_eq!(
        st.link_if_absent(&first).await.unwrap(),
        LinkOutcome::Linked
    );
    assert_eq!(
        st.find(first.identity()).await.unwrap(),
        Some(first.clone())
    );
    // Linking again, to the same or another account, changes nothing.
    for again in [link(ISS, "u1", "alice", 2), link(ISS, "u1", "mallory", 3)] {
        assert_eq!(
            st.link_if_absent(&again).await.unwrap(),
            LinkOutcome::Existing(first.clone())
        );
    }
    // The same subject at another issuer is another identity.
    let other_iss = link("https://other.example", "u1", "bob", 4);
    assert_eq!(
        st.link_if_absent(&other_iss).await.unwrap(),
        LinkOutcome::Linked
    );
    assert!(st.list_for_account("mallory").await.unwrap().is_empty());
}

pub async fn identities_concurrent_first_links_of_one_identity_have_one_winner(s: &IdentityStores) {
    let tasks: Vec<_> = (0..32)
        .map(|i| {
            let st = s.identities.clone();
            tokio::spawn(async move {
                st.link_if_absent(&link(ISS, "race", &format!("acct-{i}"), 1))
                    .await
                    .unwrap()
            })
        })
        .collect();
    let mut winners = 0;
    let mut accounts = std::collections::HashSet::new();
    for t in tasks {
        match t.await.unwrap() {
            LinkOutcome::Linked => winners += 1,
            LinkOutcome::Existing(l) => {
                accounts.insert(l.account().to_owned());
            }
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(winners, 1);
    assert_eq!(accounts.len(), 1, "every loser sees the one winner");
    let linked = s
        .identities
        .find(&ExternalIdentity::new(ISS, "race"))
        .await
        .unwrap()
        .unwrap();
    assert!(accounts.contains(linked.account()));
}

pub async fn identities_are_listed_per_account_oldest_first(s: &IdentityStores) {
    let st = &s.identities;
    st.link_if_absent(&link(ISS, "b", "alice", 20))
        .await
        .unwrap();
    st.link_if_absent(&link("https://other.example", "a", "alice", 10))
        .await
        .unwrap();
    st.link_if_absent(&link(ISS, "c", "bob", 5)).await.unwrap();
    let listed = st.list_for_account("alice").await.unwrap();
    assert_eq!(
        listed,
        [
            link("https://other.example", "a", "alice", 10),
            link(ISS, "b", "alice", 20)
        ]
    );
    assert_eq!(st.list_for_account("bob").await.unwrap().len(), 1);
    assert!(st.list_for_account("nobody").await.unwrap().is_empty());
}

pub async fn identities_unlink_removes_only_the_accounts_own_link(s: &IdentityStores) {
    let st = &s.identities;
    let l = link(ISS, "u1", "alice", 1);
    st.link_if_absent(&l).await.unwrap();
    assert!(!st.unlink(l.identity(), "mallory").await.unwrap());
    assert_eq!(st.find(l.identity()).await.unwrap(), Some(l.clone()));
    assert!(st.unlink(l.identity(), "alice").await.unwrap());
    assert!(!st.unlink(l.identity(), "alice").await.unwrap());
    assert_eq!(st.find(l.identity()).await.unwrap(), None);
    assert!(st.list_for_account("alice").await.unwrap().is_empty());
    // Once unlinked, the identity can be linked to another account.
    let moved = link(ISS, "u1", "bob", 2);
    assert_eq!(
        st.link_if_absent(&moved).await.unwrap(),
        LinkOutcome::Linked
    );
    assert_eq!(st.list_for_account("bob").await.unwrap(), [moved]);
}

pub async fn identities_every_field_round_trips_exactly(s: &IdentityStores) {
    let st = &s.identities;
    let odd = LinkedIdentity::new(
        ExternalIdentity::new("https://idp.example/tenant:1/", "sub.with:sep*ara\"tors é"),
        "acme-2",
        "account:with.dots",
        UnixTime::from_nanos(1_700_000_000_123_456_789),
    );
    st.link_if_absent(&odd).await.unwrap();
    assert_eq!(st.find(odd.identity()).await.unwrap(), Some(odd.clone()));
    assert_eq!(
        st.list_for_account("account:with.dots").await.unwrap(),
        [odd]
    );
    // A subject that is another's prefix is another identity.
    assert_eq!(
        st.find(&ExternalIdentity::new(
            "https://idp.example/tenant:1/",
            "sub.with"
        ))
        .await
        .unwrap(),
        None
    );
}

pub async fn identities_empty_or_oversized_fields_are_refused(s: &IdentityStores) {
    let st = &s.identities;
    let long = "x".repeat(MAX_IDENTITY_FIELD_LEN + 1);
    for bad in [
        link(ISS, "", "alice", 1),
        link(ISS, &long, "alice", 1),
        link(ISS, "u", "", 1),
        link("", "u", "alice", 1),
    ] {
        assert!(st.link_if_absent(&bad).await.is_err(), "{bad:?}");
    }
}

pub async fn used_states_a_state_is_used_once(s: &IdentityStores) {
    let u = &s.used;
    assert!(u.mark_used("state-a", at(600), at(0)).await.unwrap());
    assert!(!u.mark_used("state-a", at(600), at(1)).await.unwrap());
    assert!(u.mark_used("state-b", at(600), at(1)).await.unwrap());
    // An already expired transaction is never accepted.
    assert!(!u.mark_used("state-c", at(600), at(600)).await.unwrap());
}

pub async fn used_states_concurrent_uses_of_one_state_have_one_winner(s: &IdentityStores) {
    let tasks: Vec<_> = (0..32)
        .map(|_| {
            let u = s.used.clone();
            tokio::spawn(async move { u.mark_used("contested", at(600), at(0)).await.unwrap() })
        })
        .collect();
    let mut winners = 0;
    for t in tasks {
        if t.await.unwrap() {
            winners += 1;
        }
    }
    assert_eq!(winners, 1);
}
