//! Caching, renewal ahead of expiry, single flight, cooldown and renewal after a rejection.

use super::*;

// Issue 13: 1,000 concurrent calls on a cold cache cause one token request.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_concurrent_callers_on_a_cold_cache_cause_one_token_request() {
    let (fake, clock) = (FakeAs::new(600), ManualClock::starting_now());
    let tokens = manager(&fake, &clock);
    let gate = fake.hold();
    let joined = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for _ in 0..1000 {
        let (tokens, joined) = (tokens.clone(), Arc::clone(&joined));
        tasks.push(tokio::spawn(async move {
            // The decision (join or start the flight) is taken in this same poll.
            let wait = tokens.access_token();
            joined.fetch_add(1, Ordering::SeqCst);
            wait.await
        }));
    }
    while joined.load(Ordering::SeqCst) < 1000 {
        tokio::task::yield_now().await;
    }
    // Every caller is waiting on the one request, which the server has not answered yet.
    assert_eq!(fake.requests(), 1);
    gate.add_permits(1);
    let mut first: Option<BearerToken> = None;
    for t in tasks {
        let token = t.await.unwrap().unwrap();
        match &first {
            Some(f) => assert!(f.same_token(&token)),
            None => first = Some(token),
        }
    }
    assert_eq!(
        fake.requests(),
        1,
        "token requests for 1,000 concurrent callers"
    );
    eprintln!(
        "cold cache: 1000 concurrent callers, {} token request",
        fake.requests()
    );
}

#[tokio::test]
async fn a_caller_dropped_mid_request_does_not_cancel_it_for_the_others() {
    let (fake, clock) = (FakeAs::new(600), ManualClock::starting_now());
    let tokens = manager(&fake, &clock);
    let gate = fake.hold();
    let dropped = tokio::spawn(tokens.access_token());
    let kept = tokens.access_token();
    tokio::task::yield_now().await;
    dropped.abort();
    assert!(dropped.await.unwrap_err().is_cancelled());
    gate.add_permits(1);
    assert_eq!(kept.await.unwrap().as_str(), "tok-1");
    assert_eq!(fake.requests(), 1);
}

#[tokio::test]
async fn a_request_whose_only_caller_was_dropped_still_fills_the_cache() {
    let (fake, clock) = (FakeAs::new(600), ManualClock::starting_now());
    let tokens = manager(&fake, &clock);
    let gate = fake.hold();
    drop(tokens.access_token());
    gate.add_permits(1);
    tokens.settled().await;
    assert_eq!(tokens.cached_token().unwrap().as_str(), "tok-1");
    assert_eq!(tokens.access_token().await.unwrap().as_str(), "tok-1");
    assert_eq!(fake.requests(), 1);
}

// Issue 13: a 20 s token over 100 s of virtual time with steady traffic is renewed at most once
// per half-lifetime, never once per call; callers never wait and never get an expired token.
#[tokio::test]
async fn a_20_s_token_under_steady_traffic_is_renewed_at_most_once_per_half_lifetime() {
    let (fake, clock) = (FakeAs::new(20), ManualClock::starting_now());
    let tokens = manager(&fake, &clock);
    // Every answer of the server waits for a permit: a caller that had to wait for a token
    // request would not be ready at once below.
    let gate = fake.hold();
    let start = clock.now();
    let first = tokens.access_token();
    gate.add_permits(1);
    let mut current = first.await.unwrap();
    let mut released = 1;
    let mut renewals_at = Vec::new();
    let mut calls = 0;
    // Ten calls per virtual second for 100 s.
    for _ in 0..1000 {
        clock.advance(Duration::from_millis(100));
        let now = clock.now();
        // Never waits: an unexpired token is always cached.
        let token = tokens
            .access_token()
            .now_or_never()
            .expect("a caller waited although a token was cached")
            .unwrap();
        calls += 1;
        assert!(now < token.expires_at(), "an expired token was served");
        if !token.same_token(&current) {
            renewals_at.push(now.saturating_duration_since(start));
            current = token;
        }
        // Let a renewal started by this call send its request (the flight is a task), then
        // answer it and let it land.
        tokio::task::yield_now().await;
        if fake.requests() > released {
            gate.add_permits(1);
            released += 1;
        }
        tokens.settled().await;
    }
    let requests = fake.requests();
    assert_eq!(
        requests,
        renewals_at.len()
            + 1
            + usize::from(
                tokens
                    .cached_token()
                    .is_some_and(|t| !t.same_token(&current))
            )
    );
    // Renewals start 10 s before expiry (half the lifetime) minus up to 1 s of jitter.
    for pair in renewals_at.windows(2) {
        let gap = pair[1].saturating_sub(pair[0]);
        assert!(gap >= secs(9), "renewals {gap:?} apart: {renewals_at:?}");
    }
    assert!(
        (9..=12).contains(&requests),
        "{requests} token requests for {calls} calls over 100 s: {renewals_at:?}"
    );
    eprintln!("steady traffic: {calls} calls over 100 s, {requests} token requests");
}

#[tokio::test]
async fn callers_wait_for_one_request_once_the_token_expired() {
    let (fake, clock) = (FakeAs::new(60), ManualClock::starting_now());
    let tokens = manager(&fake, &clock);
    let first = tokens.access_token().await.unwrap();
    // No traffic during the renewal window: the token simply expires.
    clock.advance(secs(61));
    assert!(tokens.cached_token().is_none());
    let gate = fake.hold();
    let a = tokens.access_token();
    let b = tokens.access_token();
    gate.add_permits(1);
    let (a, b) = (a.await.unwrap(), b.await.unwrap());
    assert!(a.same_token(&b) && !a.same_token(&first));
    assert_eq!(fake.requests(), 2);
}

// Issue 13: every `expires_in` oddity sets the cached token's expiry as specified.
#[tokio::test]
async fn expires_in_oddities_decide_the_cached_tokens_expiry() {
    let jwt = |exp: u64| {
        format!(
            "{}.{}.c2ln",
            URL_SAFE_NO_PAD.encode(r#"{"alg":"RS256"}"#),
            URL_SAFE_NO_PAD.encode(json!({"exp": exp}).to_string())
        )
    };
    let clock = ManualClock::new(UnixTime::from_secs(1_700_000_000));
    let exp_in_900 = jwt(1_700_000_900);
    for (token, expires_in, expected) in [
        ("opaque", Value::Null, 300),
        ("opaque", json!(0), 300),
        ("opaque", json!(-5), 300),
        ("opaque", json!("120"), 120),
        ("opaque", json!("two minutes"), 300),
        ("opaque", json!(1e12), 24 * 3600),
        ("opaque", json!(3), 10),
        (exp_in_900.as_str(), Value::Null, 900),
        (exp_in_900.as_str(), json!("x"), 900),
        (exp_in_900.as_str(), json!(3600), 900),
    ] {
        let fake = FakeAs::new(0);
        let (t, e) = (token.to_owned(), expires_in.clone());
        fake.answer(move |_, _| {
            let mut body = json!({"access_token": t, "token_type": "Bearer"});
            if !e.is_null() {
                body["expires_in"] = e.clone();
            }
            Ok(HttpResponse::new(200, body.to_string()))
        });
        let got = manager(&fake, &clock).access_token().await.unwrap();
        let lifetime = got
            .expires_at()
            .saturating_duration_since(got.requested_at());
        assert_eq!(lifetime, secs(expected), "{token} {expires_in}");
        assert!(got.renew_at() < got.expires_at());
    }
}

// Issue 13: failures are retried inside the one flight, then a cooldown answers at once.
#[tokio::test]
async fn after_failed_retries_callers_get_the_error_at_once_until_the_cooldown_ends() {
    tokio::time::pause();
    let (fake, clock) = (FakeAs::new(600), ManualClock::starting_now());
    fake.fail_with(Ok(HttpResponse::new(503, "")));
    let tokens = manager(&fake, &clock);
    let err = tokens.access_token().await.unwrap_err();
    assert_eq!(err, TokenError::Status { status: 503 });
    assert_eq!(
        fake.requests(),
        3,
        "one flight: the request and two retries"
    );

    // Within the cooldown: the same error at once, no request, however many callers.
    for _ in 0..100 {
        let e = tokens.access_token().now_or_never().unwrap().unwrap_err();
        assert_eq!(e.class(), "server_error");
    }
    clock.advance(secs(29));
    assert!(tokens.access_token().await.is_err());
    assert_eq!(fake.requests(), 3);

    // After it: one new flight, which succeeds.
    fake.issue_tokens(json!(600));
    clock.advance(secs(2));
    assert_eq!(tokens.access_token().await.unwrap().as_str(), "tok-4");
    assert_eq!(fake.requests(), 4);
}

#[tokio::test]
async fn transport_errors_and_timeouts_are_retried_and_then_succeed_within_one_flight() {
    tokio::time::pause();
    let (fake, clock) = (FakeAs::new(600), ManualClock::starting_now());
    fake.answer(|n, _| match n {
        1 => Err(HttpError::Transport("connection refused".into())),
        2 => Err(HttpError::Timeout),
        _ => Ok(issue(n, &json!(600))),
    });
    let tokens = manager(&fake, &clock);
    assert_eq!(tokens.access_token().await.unwrap().as_str(), "tok-3");
    assert_eq!(fake.requests(), 3);
}

#[tokio::test]
async fn an_unexpired_token_is_still_served_while_renewals_fail_and_renewal_waits_for_the_cooldown()
{
    tokio::time::pause();
    let (fake, clock) = (FakeAs::new(300), ManualClock::starting_now());
    let tokens = manager(&fake, &clock);
    let token = tokens.access_token().await.unwrap();
    fake.fail_with(Err(HttpError::Transport("connection refused".into())));
    // Past the renewal point (300 - 60 s minus jitter): the renewal fails in the background.
    clock.advance(secs(241));
    assert!(tokens.access_token().await.unwrap().same_token(&token));
    tokens.settled().await;
    assert_eq!(
        fake.requests(),
        4,
        "the first request, then one flight of three attempts"
    );
    // Within the cooldown: still the same token, no new request.
    clock.advance(secs(20));
    assert!(tokens.access_token().await.unwrap().same_token(&token));
    tokens.settled().await;
    assert_eq!(fake.requests(), 4);
    // After it, the next call starts one more background renewal, which now succeeds.
    fake.issue_tokens(json!(300));
    clock.advance(secs(11));
    assert!(tokens.access_token().await.unwrap().same_token(&token));
    tokens.settled().await;
    assert_eq!(fake.requests(), 5);
    assert_eq!(tokens.cached_token().unwrap().as_str(), "tok-5");
}

#[tokio::test]
async fn refresh_now_ignores_the_cooldown() {
    let (fake, clock) = (FakeAs::new(600), ManualClock::starting_now());
    fake.fail_with(Ok(HttpResponse::new(400, r#"{"error":"invalid_scope"}"#)));
    let tokens = manager(&fake, &clock);
    assert!(tokens.access_token().await.is_err());
    fake.issue_tokens(json!(600));
    assert!(tokens.access_token().await.is_err(), "cooldown");
    assert_eq!(tokens.refresh_now().await.unwrap().as_str(), "tok-2");
    assert_eq!(tokens.access_token().await.unwrap().as_str(), "tok-2");
}

// Issue 13: two configurations that differ only in scope never share a token.
#[tokio::test]
async fn parameter_sets_that_differ_never_share_a_token_and_order_does_not_matter() {
    let (fake, clock) = (FakeAs::new(600), ManualClock::starting_now());
    let base = builder(&fake, &clock).scope("a b").build().unwrap();
    let same = base
        .with_params(TokenParams::new().scopes(["b", "a"]))
        .unwrap();
    let other = base.with_params(TokenParams::new().scope("a")).unwrap();
    let with_resource = base
        .with_params(TokenParams::new().scope("a b").resource("urn:x:api"))
        .unwrap();
    let with_audience = base
        .with_params(TokenParams::new().scope("a b").audience("orders"))
        .unwrap();
    let t0 = base.access_token().await.unwrap();
    assert!(same.access_token().await.unwrap().same_token(&t0));
    let t1 = other.access_token().await.unwrap();
    let t2 = with_resource.access_token().await.unwrap();
    let t3 = with_audience.access_token().await.unwrap();
    for t in [&t1, &t2, &t3] {
        assert!(!t.same_token(&t0));
    }
    assert_eq!(fake.requests(), 4);
    assert!(
        base.with_params(TokenParams::new().scope("bad\"scope"))
            .is_err()
    );
}

#[tokio::test]
async fn renewing_a_rejected_token_happens_once_for_a_hundred_concurrent_rejections() {
    let (fake, clock) = (FakeAs::new(600), ManualClock::starting_now());
    let tokens = manager(&fake, &clock);
    let old = tokens.access_token().await.unwrap();
    let gate = fake.hold();
    let waits: Vec<_> = (0..100).map(|_| tokens.renew_rejected(&old)).collect();
    gate.add_permits(1);
    for w in waits {
        let new = w.await.unwrap();
        assert_eq!(new.as_str(), "tok-2");
    }
    // A late 401 for the old token: the newer token, no request.
    let again = tokens.renew_rejected(&old).await.unwrap();
    assert_eq!(again.as_str(), "tok-2");
    assert_eq!(fake.requests(), 2);
}

#[tokio::test]
async fn a_renewed_token_rejected_again_within_the_cooldown_is_not_renewed_again() {
    let (fake, clock) = (FakeAs::new(600), ManualClock::starting_now());
    let tokens = manager(&fake, &clock);
    let first = tokens.access_token().await.unwrap();
    let second = tokens.renew_rejected(&first).await.unwrap();
    assert!(!second.same_token(&first));
    clock.advance(secs(5));
    let third = tokens.renew_rejected(&second).await.unwrap();
    assert!(
        third.same_token(&second),
        "no second renewal within the cooldown"
    );
    assert_eq!(fake.requests(), 2);
    clock.advance(secs(30));
    let fourth = tokens.renew_rejected(&second).await.unwrap();
    assert!(!fourth.same_token(&second));
    assert_eq!(fake.requests(), 3);
}
