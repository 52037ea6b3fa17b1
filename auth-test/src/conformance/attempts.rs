//! Conformance cases of [`AttemptStore`](auth_core::brute_force::AttemptStore): sliding
//! windows, the lockout ladder, decay, clearing and concurrent admissions.

use std::sync::Arc;
use std::time::Duration;

use auth_core::brute_force::{
    Admission, AttemptKey, AttemptOutcome, BlockReason, Blocked, BruteForcePolicy, ClientKey,
    Verdict,
};
use auth_core::clock::UnixTime;

use super::{Stores, T0, at};

fn client(i: u32) -> AttemptKey {
    ClientKey::from_ip(std::net::IpAddr::from(i.to_be_bytes())).attempt_key()
}

fn blocked(a: Admission) -> Blocked {
    match a {
        Admission::Blocked(b) => b,
        Admission::Admitted => panic!("expected a refusal"),
    }
}

fn account_level(v: Verdict) -> u8 {
    match v {
        Verdict::Recorded(r) => r.account_level(),
        Verdict::Blocked(b) => panic!("expected the outcome to be recorded, got {b:?}"),
    }
}

pub async fn attempts_five_pass_and_the_sixth_waits_for_the_oldest(s: &Stores) {
    let (st, p, c) = (s.attempts(), BruteForcePolicy::default(), client(1));
    for i in 0..5 {
        assert_eq!(
            st.admit(&c, &p, at(i * 2)).await.unwrap(),
            Admission::Admitted
        );
    }
    let b = blocked(st.admit(&c, &p, at(10)).await.unwrap());
    assert_eq!(b.reason(), BlockReason::RateLimited);
    assert_eq!(b.retry_after(), Duration::from_secs(50));
    assert_eq!(b.lockout_level(), 0);
    // The oldest leaves at 60: then exactly one more passes; the next waits for the one at 2s.
    assert!(matches!(
        st.admit(&c, &p, at(59)).await.unwrap(),
        Admission::Blocked(_)
    ));
    assert_eq!(st.admit(&c, &p, at(60)).await.unwrap(), Admission::Admitted);
    let b = blocked(st.admit(&c, &p, at(60)).await.unwrap());
    assert_eq!(b.retry_after(), Duration::from_secs(2));
    // Another client is not affected.
    assert_eq!(
        st.admit(&client(2), &p, at(60)).await.unwrap(),
        Admission::Admitted
    );
}

pub async fn attempts_refused_ones_do_not_fill_the_window(s: &Stores) {
    let (st, p, c) = (s.attempts(), BruteForcePolicy::default(), client(1));
    for _ in 0..5 {
        assert_eq!(st.admit(&c, &p, at(0)).await.unwrap(), Admission::Admitted);
    }
    for i in 1..60 {
        assert!(matches!(
            st.admit(&c, &p, at(i)).await.unwrap(),
            Admission::Blocked(_)
        ));
    }
    for _ in 0..5 {
        assert_eq!(st.admit(&c, &p, at(60)).await.unwrap(), Admission::Admitted);
    }
}

pub async fn attempts_sub_second_times_round_the_strict_way(s: &Stores) {
    let (st, p, c) = (s.attempts(), BruteForcePolicy::default(), client(1));
    let t = UnixTime::from_nanos(T0 * 1_000_000_000 + 300_000_000);
    for _ in 0..5 {
        assert_eq!(st.admit(&c, &p, t).await.unwrap(), Admission::Admitted);
    }
    let b = blocked(st.admit(&c, &p, t).await.unwrap());
    assert_eq!(b.retry_after(), Duration::from_millis(60_700));
}

pub async fn attempts_client_ladder_goes_15_minutes_1_hour_24_hours(s: &Stores) {
    let (st, p, c) = (s.attempts(), BruteForcePolicy::default(), client(1));
    let mut now = 0;
    for (level, lockout) in [(1, 900), (2, 3600), (3, 86_400), (3, 86_400)] {
        for i in 0..10 {
            let v = st
                .record(&c, None, AttemptOutcome::Failure, &p, at(now))
                .await
                .unwrap();
            let Verdict::Recorded(r) = v else {
                panic!("a client failure without an account is always recorded")
            };
            assert_eq!(r.lockout_engaged(), i == 9, "failure {i} at level {level}");
        }
        let b = blocked(st.admit(&c, &p, at(now)).await.unwrap());
        assert_eq!(b.reason(), BlockReason::ClientLockedOut);
        assert_eq!(b.retry_after(), Duration::from_secs(lockout));
        assert_eq!(b.lockout_level(), level);
        now += lockout;
    }
}

pub async fn attempts_locked_account_refuses_suspect_clients_and_answers_clean_ones(s: &Stores) {
    let (st, p) = (s.attempts(), BruteForcePolicy::default());
    let (a, fresh) = (client(1), client(2));
    let acct = AttemptKey::account("alice@example.com");
    for i in 0..5 {
        let v = st
            .record(&a, Some(&acct), AttemptOutcome::Failure, &p, at(0))
            .await
            .unwrap();
        let Verdict::Recorded(r) = v else {
            panic!("failures before the lockout are recorded")
        };
        assert_eq!(r.lockout_engaged(), i == 4);
    }
    // Even the right password from the suspect client is refused ...
    let v = st
        .record(&a, Some(&acct), AttemptOutcome::Success, &p, at(10))
        .await
        .unwrap();
    let Verdict::Blocked(b) = v else {
        panic!("a suspect client must be refused")
    };
    assert_eq!(b.reason(), BlockReason::AccountLockedOut);
    assert_eq!(b.retry_after(), Duration::from_secs(890));
    assert_eq!(b.lockout_level(), 1);
    // ... while a client with a clean record is answered, and its success resets the account.
    let v = st
        .record(&fresh, Some(&acct), AttemptOutcome::Success, &p, at(10))
        .await
        .unwrap();
    assert_eq!(account_level(v), 0);
    let v = st
        .record(&a, Some(&acct), AttemptOutcome::Success, &p, at(11))
        .await
        .unwrap();
    assert!(matches!(v, Verdict::Recorded(_)), "{v:?}");
}

pub async fn attempts_every_client_scope_refuses_clean_clients_too(s: &Stores) {
    let st = s.attempts();
    let p = BruteForcePolicy::builder()
        .dangerous_lock_out_every_client()
        .build()
        .unwrap();
    let acct = AttemptKey::account("bob@example.com");
    for _ in 0..5 {
        st.record(&client(1), Some(&acct), AttemptOutcome::Failure, &p, at(0))
            .await
            .unwrap();
    }
    let v = st
        .record(&client(2), Some(&acct), AttemptOutcome::Success, &p, at(10))
        .await
        .unwrap();
    assert!(matches!(v, Verdict::Blocked(_)), "{v:?}");
}

pub async fn attempts_failures_decay_after_a_quiet_period(s: &Stores) {
    let (st, p) = (s.attempts(), BruteForcePolicy::default());
    let acct = AttemptKey::account("carol@example.com");
    for _ in 0..5 {
        st.record(&client(1), Some(&acct), AttemptOutcome::Failure, &p, at(0))
            .await
            .unwrap();
    }
    // Locked until 900; failures and level decay 24 h after that.
    let before = 900 + 86_399;
    let v = st
        .record(
            &client(2),
            Some(&acct),
            AttemptOutcome::Failure,
            &p,
            at(before),
        )
        .await
        .unwrap();
    assert_eq!(account_level(v), 1, "not decayed a second early");
    let after = 900 + 86_400 + 86_400;
    let v = st
        .record(
            &client(3),
            Some(&acct),
            AttemptOutcome::Failure,
            &p,
            at(after),
        )
        .await
        .unwrap();
    assert_eq!(account_level(v), 0, "decayed");
}

pub async fn attempts_clear_unlocks_an_account_and_a_client(s: &Stores) {
    let (st, p) = (s.attempts(), BruteForcePolicy::default());
    let (c, acct) = (client(1), AttemptKey::account("dave@example.com"));
    for _ in 0..10 {
        st.record(&c, Some(&acct), AttemptOutcome::Failure, &p, at(0))
            .await
            .unwrap();
    }
    assert!(matches!(
        st.record(&c, Some(&acct), AttemptOutcome::Success, &p, at(1))
            .await
            .unwrap(),
        Verdict::Blocked(_)
    ));
    assert!(matches!(
        st.admit(&c, &p, at(1)).await.unwrap(),
        Admission::Blocked(_)
    ));
    st.clear(&acct, &p).await.unwrap();
    st.clear(&c, &p).await.unwrap();
    assert_eq!(st.admit(&c, &p, at(1)).await.unwrap(), Admission::Admitted);
    let v = st
        .record(&c, Some(&acct), AttemptOutcome::Success, &p, at(1))
        .await
        .unwrap();
    assert_eq!(account_level(v), 0);
    // Clearing what is not there is fine.
    st.clear(&client(99), &p).await.unwrap();
}

pub async fn attempts_concurrent_admissions_take_exactly_the_limit(s: &Stores) {
    let p = BruteForcePolicy::default();
    let c = client(7);
    let tasks: Vec<_> = (0..40)
        .map(|_| {
            let (st, p) = (Arc::clone(s.attempts()), p.clone());
            tokio::spawn(async move { st.admit(&c, &p, at(0)).await.unwrap() })
        })
        .collect();
    let mut admitted = 0;
    for t in tasks {
        if t.await.unwrap() == Admission::Admitted {
            admitted += 1;
        }
    }
    assert_eq!(admitted, 5);
}

pub async fn attempts_concurrent_guesses_at_a_locked_account_get_one_answer(s: &Stores) {
    let p = BruteForcePolicy::default();
    let acct = AttemptKey::account("erin@example.com");
    for _ in 0..5 {
        s.attempts()
            .record(&client(1), Some(&acct), AttemptOutcome::Failure, &p, at(0))
            .await
            .unwrap();
    }
    // A fresh client fires concurrent guesses: the first makes it suspect, so only one can be
    // answered.
    let fresh = client(2);
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let (st, p) = (Arc::clone(s.attempts()), p.clone());
            tokio::spawn(async move {
                st.record(&fresh, Some(&acct), AttemptOutcome::Failure, &p, at(1))
                    .await
                    .unwrap()
            })
        })
        .collect();
    let mut answered = 0;
    for t in tasks {
        if matches!(t.await.unwrap(), Verdict::Recorded(_)) {
            answered += 1;
        }
    }
    assert_eq!(answered, 1);
}
