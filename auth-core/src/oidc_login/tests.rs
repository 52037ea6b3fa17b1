//! The login flow against a fake OpenID Provider: every negative case of issue 14 that needs
//! no real provider, each asserting what was (not) sent to the token endpoint.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_lc_rs::hmac;
use aws_lc_rs::signature::{Ed25519KeyPair, KeyPair as _};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use serde_json::{Value, json};

use super::*;
use crate::ErrorCode;
use crate::client_auth::JWT_BEARER_ASSERTION_TYPE;
use crate::clock::{Clock, ManualClock, UnixTime};
use crate::form;
use crate::jwks::{FetchRequest, HttpClient, HttpError, HttpRequest, HttpResponse};
use crate::jwt::{Algorithm, BoxFuture, JwtVerifier, SigningKey};
use crate::seal::SealingKey;

const ISS: &str = "https://idp.example";
const CLIENT: &str = "rp-client";
const SECRET: &str = "client-secret-of-at-least-32-bytes!!";
const REDIRECT: &str = "https://rp.example/auth/login/acme/callback";
const T0: u64 = 1_700_000_000;

/// A fake OpenID Provider: discovery, JWKS, token and userinfo endpoints; counts token
/// requests; the ID token it returns is whatever the test put there.
#[derive(Debug)]
struct FakeIdp {
    discovery: Mutex<Value>,
    jwks: Value,
    id_token: Mutex<String>,
    token_answer: Mutex<Option<(u16, Value)>>,
    userinfo: Mutex<Value>,
    token_requests: Mutex<Vec<HttpRequest>>,
    discovery_fetches: AtomicUsize,
}

impl FakeIdp {
    fn new(signer: &Signer) -> Arc<Self> {
        Arc::new(Self {
            discovery: Mutex::new(json!({
                "issuer": ISS,
                "authorization_endpoint": format!("{ISS}/auth"),
                "token_endpoint": format!("{ISS}/token"),
                "userinfo_endpoint": format!("{ISS}/me"),
                "jwks_uri": format!("{ISS}/jwks"),
                "response_types_supported": ["code"],
                "code_challenge_methods_supported": ["S256"],
                "id_token_signing_alg_values_supported": ["EdDSA", "HS256", "none"],
                "authorization_response_iss_parameter_supported": true,
            })),
            jwks: json!({"keys": [signer.jwk()]}),
            id_token: Mutex::new(String::new()),
            token_answer: Mutex::new(None),
            userinfo: Mutex::new(json!({})),
            token_requests: Mutex::new(Vec::new()),
            discovery_fetches: AtomicUsize::new(0),
        })
    }

    fn token_requests(&self) -> usize {
        self.token_requests.lock().unwrap().len()
    }

    fn last_token_form(&self) -> Vec<(String, String)> {
        let reqs = self.token_requests.lock().unwrap();
        form::parse(&reqs.last().unwrap().body)
    }
}

impl HttpClient for FakeIdp {
    fn get(&self, req: FetchRequest) -> BoxFuture<'static, Result<HttpResponse, HttpError>> {
        let answer = if req.url == format!("{ISS}/.well-known/openid-configuration") {
            self.discovery_fetches.fetch_add(1, Ordering::SeqCst);
            HttpResponse::new(200, self.discovery.lock().unwrap().to_string())
        } else if req.url == format!("{ISS}/jwks") {
            HttpResponse::new(200, self.jwks.to_string())
        } else {
            HttpResponse::new(404, "")
        };
        Box::pin(async move { Ok(answer) })
    }

    fn send(&self, req: HttpRequest) -> BoxFuture<'static, Result<HttpResponse, HttpError>> {
        let answer = if req.url == format!("{ISS}/token") {
            self.token_requests.lock().unwrap().push(req.clone());
            let (status, body) = self.token_answer.lock().unwrap().clone().unwrap_or((
                200,
                json!({"access_token": "at-1", "token_type": "Bearer",
                       "id_token": *self.id_token.lock().unwrap()}),
            ));
            HttpResponse::new(status, body.to_string())
        } else if req.url == format!("{ISS}/me")
            && req.header_value("authorization") == Some("Bearer at-1")
        {
            HttpResponse::new(200, self.userinfo.lock().unwrap().to_string())
        } else {
            HttpResponse::new(404, "")
        };
        Box::pin(async move { Ok(answer) })
    }
}

/// An Ed25519 key publishing as kid `k1`.
struct Signer {
    pair: Ed25519KeyPair,
}

impl Signer {
    fn new() -> Self {
        Self {
            pair: Ed25519KeyPair::generate().unwrap(),
        }
    }

    fn jwk(&self) -> Value {
        json!({"kty": "OKP", "crv": "Ed25519", "kid": "k1", "alg": "EdDSA",
               "x": B64.encode(self.pair.public_key().as_ref())})
    }

    fn message(header: &Value, claims: &Value) -> String {
        format!(
            "{}.{}",
            B64.encode(header.to_string()),
            B64.encode(claims.to_string())
        )
    }

    fn sign_with(&self, header: Value, claims: &Value) -> String {
        let msg = Self::message(&header, claims);
        let sig = self.pair.sign(msg.as_bytes());
        format!("{msg}.{}", B64.encode(sig.as_ref()))
    }

    fn sign(&self, claims: &Value) -> String {
        self.sign_with(json!({"alg": "EdDSA", "kid": "k1", "typ": "JWT"}), claims)
    }
}

/// Valid ID-token claims for `nonce` at time `now`.
fn claims(nonce: &str, now: u64) -> Value {
    json!({
        "iss": ISS, "sub": "user-1", "aud": CLIENT, "exp": now + 300, "iat": now,
        "nonce": nonce, "email": "ann@example.com", "email_verified": true,
    })
}

struct Rig {
    idp: Arc<FakeIdp>,
    signer: Signer,
    clock: ManualClock,
    login: OidcLogin,
}

fn rig_with(config: impl FnOnce(ProviderConfig) -> ProviderConfig) -> Rig {
    let signer = Signer::new();
    let idp = FakeIdp::new(&signer);
    let clock = ManualClock::new(UnixTime::from_secs(T0));
    let login = OidcLogin::builder(SealingKey::new(1, &[7; 32]).unwrap())
        .provider(config(ProviderConfig::new("acme", ISS, CLIENT, REDIRECT)))
        .provider(ProviderConfig::new(
            "other",
            ISS,
            CLIENT,
            "https://rp.example/auth/login/other/callback",
        ))
        .http_client(idp.clone())
        .clock(clock.clone())
        .build()
        .unwrap();
    Rig {
        idp,
        signer,
        clock,
        login,
    }
}

fn rig() -> Rig {
    rig_with(|c| c)
}

/// One started login: what the browser holds.
struct Started {
    url: String,
    state: String,
    nonce: String,
    cookie: String,
}

impl Started {
    fn param(&self, name: &str) -> String {
        let query = self.url.split_once('?').unwrap().1;
        match form::Params::parse(query).unwrap().get(name) {
            form::Param::Once(v) => v.to_owned(),
            other => panic!("{name}: {other:?}"),
        }
    }

    /// The provider's redirect back: `code`, `state`, `iss`.
    fn callback(&self) -> String {
        format!(
            "code=the-code&state={}&iss={}",
            self.state,
            form::encode(ISS)
        )
    }
}

impl Rig {
    async fn begin(&self, options: BeginOptions) -> Started {
        let start = self.login.begin("acme", options).await.unwrap();
        let mut s = Started {
            url: start.authorization_url().to_owned(),
            state: String::new(),
            nonce: String::new(),
            cookie: format!("{}={}", start.cookie().name(), start.cookie().value()),
        };
        s.state = s.param("state");
        s.nonce = s.param("nonce");
        s
    }

    /// Begins and makes the provider return a valid ID token for it.
    async fn begin_valid(&self) -> Started {
        let s = self.begin(BeginOptions::new()).await;
        self.id_token(&claims(&s.nonce, self.clock.now().as_secs()));
        s
    }

    fn id_token(&self, claims: &Value) {
        *self.idp.id_token.lock().unwrap() = self.signer.sign(claims);
    }

    fn raw_id_token(&self, token: String) {
        *self.idp.id_token.lock().unwrap() = token;
    }

    async fn complete(&self, query: &str, cookie: &str) -> Callback {
        self.login.complete("acme", query, &[cookie]).await
    }
}

fn code_of(c: &Callback) -> ErrorCode {
    c.outcome().unwrap_err().code()
}

fn problem_of(c: &Callback) -> Option<StateProblem> {
    c.outcome().unwrap_err().state_problem()
}

#[tokio::test]
async fn a_full_login_yields_the_identity_and_removes_the_transaction_cookie() {
    let r = rig();
    let s = r.begin_valid().await;
    let c = r.complete(&s.callback(), &s.cookie).await;
    let login = c.outcome().unwrap();
    assert_eq!(login.identity(), &ExternalIdentity::new(ISS, "user-1"));
    assert_eq!(login.provider(), "acme");
    assert_eq!(login.email(), Some("ann@example.com"));
    assert!(login.email_verified());
    assert_eq!(login.email_for_linking(), None, "not opted in");
    assert_eq!(login.return_to(), "/");
    assert_eq!(login.access_token(), "at-1");
    let clear = c.clear_cookie().unwrap();
    assert!(clear.is_removal());
    assert_eq!(Some(clear.name()), s.cookie.split('=').next());

    // The code went with the PKCE verifier whose S256 is the challenge, the redirect URI and,
    // for a public client, the client id (and no secret).
    let form = r.idp.last_token_form();
    let get = |k: &str| form.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    assert_eq!(get("grant_type").as_deref(), Some("authorization_code"));
    assert_eq!(get("code").as_deref(), Some("the-code"));
    assert_eq!(get("redirect_uri").as_deref(), Some(REDIRECT));
    assert_eq!(get("client_id").as_deref(), Some(CLIENT));
    assert_eq!(get("client_secret"), None);
    let verifier = get("code_verifier").unwrap();
    assert_eq!(verifier.len(), 43, "32 random bytes");
    assert_eq!(transaction::s256(&verifier), s.param("code_challenge"));
}

// Issue 14: the authorization URL always carries S256 (never plain), 128-bit state and nonce.
#[tokio::test]
async fn the_authorization_url_carries_every_parameter_and_s256() {
    let r = rig();
    let s = r.begin(BeginOptions::new()).await;
    assert!(
        s.url
            .starts_with(&format!("{ISS}/auth?response_type=code&"))
    );
    assert_eq!(s.param("code_challenge_method"), "S256");
    assert_eq!(s.param("client_id"), CLIENT);
    assert_eq!(s.param("redirect_uri"), REDIRECT);
    assert_eq!(s.param("scope"), "openid email profile");
    assert_eq!(B64.decode(s.param("state")).unwrap().len(), 16);
    assert_eq!(B64.decode(s.param("nonce")).unwrap().len(), 16);
    assert_eq!(B64.decode(s.param("code_challenge")).unwrap().len(), 32);
    let again = r.begin(BeginOptions::new()).await;
    assert_ne!(again.state, s.state);
    assert_ne!(again.nonce, s.nonce);
    assert_ne!(again.cookie, s.cookie, "one cookie per attempt");
}

#[tokio::test]
async fn a_callback_without_state_is_refused_before_the_exchange() {
    let r = rig();
    let s = r.begin_valid().await;
    let c = r.complete("code=the-code", &s.cookie).await;
    assert_eq!(code_of(&c), ErrorCode::LoginStateInvalid);
    assert_eq!(problem_of(&c), Some(StateProblem::Missing));
    assert_eq!(r.idp.token_requests(), 0);
}

#[tokio::test]
async fn a_duplicated_state_is_refused_before_the_exchange() {
    let r = rig();
    let s = r.begin_valid().await;
    let q = format!("{}&state={}", s.callback(), s.state);
    let c = r.complete(&q, &s.cookie).await;
    assert_eq!(problem_of(&c), Some(StateProblem::Duplicated));
    let q = format!("{}&state=other", s.callback());
    assert_eq!(
        problem_of(&r.complete(&q, &s.cookie).await),
        Some(StateProblem::Duplicated)
    );
    assert_eq!(r.idp.token_requests(), 0);
}

#[tokio::test]
async fn a_state_swapped_for_another_attempts_is_refused_before_the_exchange() {
    let r = rig();
    let mine = r.begin_valid().await;
    let theirs = r.begin_valid().await;
    // The browser holds `mine`'s cookie; the callback names `theirs`' state.
    let c = r.complete(&theirs.callback(), &mine.cookie).await;
    assert_eq!(problem_of(&c), Some(StateProblem::Unknown));
    // A cookie value moved under another state's cookie name does not open.
    let moved = format!(
        "{}={}",
        theirs.cookie.split('=').next().unwrap(),
        mine.cookie.split_once('=').unwrap().1
    );
    let c = r.complete(&theirs.callback(), &moved).await;
    assert_eq!(problem_of(&c), Some(StateProblem::Unknown));
    assert_eq!(r.idp.token_requests(), 0);
}

#[tokio::test]
async fn a_tampered_cookie_is_refused_and_removed() {
    let r = rig();
    let s = r.begin_valid().await;
    let mut tampered = s.cookie.clone();
    let last = tampered.pop().unwrap();
    tampered.push(if last == 'A' { 'B' } else { 'A' });
    let c = r.complete(&s.callback(), &tampered).await;
    assert_eq!(problem_of(&c), Some(StateProblem::Unknown));
    assert!(c.clear_cookie().unwrap().is_removal());
    assert_eq!(r.idp.token_requests(), 0);
}

#[tokio::test]
async fn two_copies_of_the_transaction_cookie_are_refused() {
    let r = rig();
    let s = r.begin_valid().await;
    let c = r
        .login
        .complete("acme", &s.callback(), &[&s.cookie, &s.cookie])
        .await;
    assert_eq!(problem_of(&c), Some(StateProblem::Duplicated));
    assert_eq!(r.idp.token_requests(), 0);
}

// Issue 14: a replayed callback (cookie kept by the client) is refused before the exchange.
#[tokio::test]
async fn a_replayed_callback_is_refused_before_the_exchange() {
    let r = rig();
    let s = r.begin_valid().await;
    assert!(r.complete(&s.callback(), &s.cookie).await.outcome().is_ok());
    assert_eq!(r.idp.token_requests(), 1);
    let c = r.complete(&s.callback(), &s.cookie).await;
    assert_eq!(problem_of(&c), Some(StateProblem::AlreadyUsed));
    assert_eq!(r.idp.token_requests(), 1);
}

#[tokio::test]
async fn an_expired_transaction_is_refused_before_the_exchange() {
    let r = rig();
    let s = r.begin_valid().await;
    r.clock.advance(Duration::from_secs(600));
    let c = r.complete(&s.callback(), &s.cookie).await;
    assert_eq!(problem_of(&c), Some(StateProblem::Expired));
    assert_eq!(r.idp.token_requests(), 0);
}

#[tokio::test]
async fn a_transaction_of_another_provider_is_refused_at_this_ones_callback() {
    let r = rig();
    let s = r.begin_valid().await;
    let c = r.login.complete("other", &s.callback(), &[&s.cookie]).await;
    assert_eq!(problem_of(&c), Some(StateProblem::WrongProvider));
    assert_eq!(r.idp.token_requests(), 0);
    let c = r.login.complete("nope", &s.callback(), &[&s.cookie]).await;
    assert_eq!(c.outcome().unwrap_err(), &LoginError::UnknownProvider);
}

#[tokio::test]
async fn two_logins_started_in_two_tabs_complete_in_reverse_order() {
    let r = rig();
    let first = r.begin(BeginOptions::new().return_to(Some("/first"))).await;
    let second = r
        .begin(BeginOptions::new().return_to(Some("/second")))
        .await;
    let both = [first.cookie.as_str(), second.cookie.as_str()];
    let now = r.clock.now().as_secs();
    r.id_token(&claims(&second.nonce, now));
    let c = r.login.complete("acme", &second.callback(), &both).await;
    assert_eq!(c.outcome().unwrap().return_to(), "/second");
    r.id_token(&claims(&first.nonce, now));
    let c = r.login.complete("acme", &first.callback(), &both).await;
    assert_eq!(c.outcome().unwrap().return_to(), "/first");
}

// Issue 14: RFC 9207; a wrong `iss` never reaches the token endpoint.
#[tokio::test]
async fn a_wrong_or_missing_iss_is_refused_when_the_provider_advertises_it() {
    let r = rig();
    let s = r.begin_valid().await;
    let q = format!("code=c&state={}&iss=https%3A%2F%2Fevil.example", s.state);
    let c = r.complete(&q, &s.cookie).await;
    assert_eq!(c.outcome().unwrap_err(), &LoginError::IssuerMismatch);
    assert_eq!(code_of(&c), ErrorCode::LoginFailed);
    let s = r.begin_valid().await;
    let c = r
        .complete(&format!("code=c&state={}", s.state), &s.cookie)
        .await;
    assert_eq!(c.outcome().unwrap_err(), &LoginError::IssuerMismatch);
    assert_eq!(r.idp.token_requests(), 0);
}

#[tokio::test]
async fn iss_may_be_absent_when_the_provider_does_not_advertise_it() {
    let r = rig();
    r.idp.discovery.lock().unwrap()["authorization_response_iss_parameter_supported"] =
        json!(false);
    let s = r.begin_valid().await;
    let c = r
        .complete(&format!("code=c&state={}", s.state), &s.cookie)
        .await;
    assert!(c.outcome().is_ok(), "{c:?}");
    let s = r.begin_valid().await;
    let q = format!("code=c&state={}&iss=https%3A%2F%2Fevil.example", s.state);
    let c = r.complete(&q, &s.cookie).await;
    assert_eq!(c.outcome().unwrap_err(), &LoginError::IssuerMismatch);
}

#[tokio::test]
async fn the_providers_error_is_reported_only_after_state_matched() {
    let r = rig();
    let s = r.begin_valid().await;
    let denied = format!(
        "error=access_denied&error_description=no&state={}&iss={}",
        s.state,
        form::encode(ISS)
    );
    // Without the browser's cookie, the error is not even looked at.
    let c = r.complete(&denied, "other=1").await;
    assert_eq!(problem_of(&c), Some(StateProblem::Unknown));
    assert_eq!(c.outcome().unwrap_err().provider_error(), None);
    let c = r.complete(&denied, &s.cookie).await;
    assert_eq!(code_of(&c), ErrorCode::LoginFailed);
    assert_eq!(
        c.outcome().unwrap_err().provider_error(),
        Some("access_denied")
    );
    assert!(c.clear_cookie().is_some());
    assert_eq!(r.idp.token_requests(), 0);
}

#[tokio::test]
async fn a_duplicated_code_or_a_missing_code_fails_without_an_exchange() {
    let r = rig();
    let s = r.begin_valid().await;
    let q = format!("{}&code=other", s.callback());
    let c = r.complete(&q, &s.cookie).await;
    assert_eq!(code_of(&c), ErrorCode::LoginFailed);
    let s = r.begin_valid().await;
    let q = format!("state={}&iss={}", s.state, form::encode(ISS));
    assert_eq!(
        code_of(&r.complete(&q, &s.cookie).await),
        ErrorCode::LoginFailed
    );
    assert_eq!(r.idp.token_requests(), 0);
}

#[tokio::test]
async fn a_refused_code_is_login_failed_with_the_token_endpoints_error() {
    let r = rig();
    let s = r.begin_valid().await;
    *r.idp.token_answer.lock().unwrap() = Some((400, json!({"error": "invalid_grant"})));
    let c = r.complete(&s.callback(), &s.cookie).await;
    assert_eq!(code_of(&c), ErrorCode::LoginFailed);
    assert_eq!(
        c.outcome().unwrap_err().provider_error(),
        Some("invalid_grant")
    );
}

/// Runs one login whose ID token is `token` (made with the started login's nonce).
async fn login_with_token(r: &Rig, token: impl FnOnce(&Started) -> String) -> Callback {
    let s = r.begin(BeginOptions::new()).await;
    r.raw_id_token(token(&s));
    r.complete(&s.callback(), &s.cookie).await
}

fn assert_invalid_id_token(c: &Callback, what: &str) {
    assert_eq!(code_of(c), ErrorCode::InvalidIdToken, "{what}: {c:?}");
}

// Issue 14: each crafted ID token is refused as INVALID_ID_TOKEN.
#[tokio::test]
async fn id_tokens_signed_with_none_or_with_the_client_secret_are_refused() {
    let r = rig_with(|c| c.client_secret_basic(SECRET));
    let now = T0;
    let c = login_with_token(&r, |s| {
        format!(
            "{}.",
            Signer::message(&json!({"alg": "none"}), &claims(&s.nonce, now))
        )
    })
    .await;
    assert_invalid_id_token(&c, "alg none, no signature");
    let c = login_with_token(&r, |s| {
        format!(
            "{}.c2ln",
            Signer::message(&json!({"alg": "none"}), &claims(&s.nonce, now))
        )
    })
    .await;
    assert_invalid_id_token(&c, "alg none");
    let c = login_with_token(&r, |s| {
        let msg = Signer::message(
            &json!({"alg": "HS256", "kid": "k1"}),
            &claims(&s.nonce, now),
        );
        let key = hmac::Key::new(hmac::HMAC_SHA256, SECRET.as_bytes());
        let tag = hmac::sign(&key, msg.as_bytes());
        format!("{msg}.{}", B64.encode(tag.as_ref()))
    })
    .await;
    assert_invalid_id_token(&c, "HS256 with the client secret");
}

#[tokio::test]
async fn id_tokens_for_another_audience_or_party_are_refused() {
    let r = rig();
    type Change = fn(&mut Value);
    let cases: [(&str, Change); 4] = [
        ("wrong aud", |c| c["aud"] = json!("someone-else")),
        ("azp not the client", |c| c["azp"] = json!("someone-else")),
        ("several audiences, no azp", |c| {
            c["aud"] = json!([CLIENT, "someone-else"]);
        }),
        ("azp not a string", |c| c["azp"] = json!(7)),
    ];
    for (what, change) in cases {
        let c = login_with_token(&r, |s| {
            let mut cl = claims(&s.nonce, T0);
            change(&mut cl);
            r.signer.sign(&cl)
        })
        .await;
        assert_invalid_id_token(&c, what);
    }
    // Several audiences with azp = the client are fine.
    let c = login_with_token(&r, |s| {
        let mut cl = claims(&s.nonce, T0);
        cl["aud"] = json!([CLIENT, "someone-else"]);
        cl["azp"] = json!(CLIENT);
        r.signer.sign(&cl)
    })
    .await;
    assert!(c.outcome().is_ok(), "{c:?}");
}

#[tokio::test]
async fn id_tokens_with_a_missing_or_wrong_nonce_are_refused() {
    let r = rig();
    let c = login_with_token(&r, |s| {
        let mut cl = claims(&s.nonce, T0);
        cl.as_object_mut().unwrap().remove("nonce");
        r.signer.sign(&cl)
    })
    .await;
    assert_invalid_id_token(&c, "missing nonce");
    let c = login_with_token(&r, |_| r.signer.sign(&claims("another-nonce", T0))).await;
    assert_invalid_id_token(&c, "wrong nonce");
}

#[tokio::test]
async fn id_tokens_issued_in_the_future_expired_or_without_iat_are_refused() {
    let r = rig();
    let c = login_with_token(&r, |s| {
        let mut cl = claims(&s.nonce, T0);
        cl["iat"] = json!(T0 + 3600);
        cl["exp"] = json!(T0 + 7200);
        r.signer.sign(&cl)
    })
    .await;
    assert_invalid_id_token(&c, "iat an hour ahead");
    let c = login_with_token(&r, |s| {
        let mut cl = claims(&s.nonce, T0 - 3600);
        cl["exp"] = json!(T0 - 60);
        r.signer.sign(&cl)
    })
    .await;
    assert_invalid_id_token(&c, "expired");
    let c = login_with_token(&r, |s| {
        let mut cl = claims(&s.nonce, T0);
        cl.as_object_mut().unwrap().remove("iat");
        r.signer.sign(&cl)
    })
    .await;
    assert_invalid_id_token(&c, "no iat");
}

#[tokio::test]
async fn id_tokens_with_an_unknown_kid_or_from_another_issuer_are_refused() {
    let r = rig();
    let c = login_with_token(&r, |s| {
        r.signer.sign_with(
            json!({"alg": "EdDSA", "kid": "unknown"}),
            &claims(&s.nonce, T0),
        )
    })
    .await;
    assert_invalid_id_token(&c, "unknown kid");
    let stranger = Signer::new();
    let c = login_with_token(&r, |s| stranger.sign(&claims(&s.nonce, T0))).await;
    assert_invalid_id_token(&c, "signed by another key with kid k1");
    let c = login_with_token(&r, |s| {
        let mut cl = claims(&s.nonce, T0);
        cl["iss"] = json!("https://evil.example");
        r.signer.sign(&cl)
    })
    .await;
    assert_invalid_id_token(&c, "wrong iss");
}

#[tokio::test]
async fn a_confidential_client_authenticates_with_basic_and_sends_no_secret_in_the_form() {
    let r = rig_with(|c| c.client_secret_basic(SECRET));
    let s = r.begin_valid().await;
    assert!(r.complete(&s.callback(), &s.cookie).await.outcome().is_ok());
    let reqs = r.idp.token_requests.lock().unwrap();
    assert!(
        reqs[0]
            .header_value("authorization")
            .unwrap()
            .starts_with("Basic ")
    );
    let body = String::from_utf8(reqs[0].body.clone()).unwrap();
    assert!(!body.contains("client_secret") && !body.contains("client_id"));
}

// Issues 13 and 14 unified: login clients get private_key_jwt from the shared ClientAuth; the
// RFC 7523 assertion is signed with the client's key for the provider's issuer, at the
// injected clock's time, and no secret or Authorization header is sent.
#[tokio::test]
async fn a_confidential_client_can_authenticate_with_private_key_jwt_for_the_issuer() {
    let key = SigningKey::generate(Algorithm::ES256, "rp-key").unwrap();
    let r = rig_with(|c| c.private_key_jwt(key.clone()));
    r.clock.advance(Duration::from_secs(42));
    let s = r.begin_valid().await;
    assert!(r.complete(&s.callback(), &s.cookie).await.outcome().is_ok());
    let request = r.idp.token_requests.lock().unwrap()[0].clone();
    assert_eq!(request.header_value("authorization"), None);
    let form = r.idp.last_token_form();
    let get = |k: &str| form.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    assert_eq!(get("client_id").as_deref(), Some(CLIENT));
    assert_eq!(get("client_secret"), None);
    assert_eq!(
        get("client_assertion_type").as_deref(),
        Some(JWT_BEARER_ASSERTION_TYPE)
    );
    let verifier = JwtVerifier::builder()
        .key(key.verification_key())
        .issuer(CLIENT)
        .audience(ISS)
        .clock(r.clock.clone())
        .build()
        .unwrap();
    let assertion = verifier
        .verify_sync(&get("client_assertion").unwrap())
        .unwrap();
    assert_eq!(assertion.subject(), CLIENT);
    assert_eq!(assertion.issued_at().map(UnixTime::as_secs), Some(T0 + 42));
}

#[tokio::test]
async fn userinfo_is_fetched_only_when_configured_and_must_name_the_same_subject() {
    let r = rig_with(ProviderConfig::fetch_userinfo);
    *r.idp.userinfo.lock().unwrap() = json!({"sub": "user-1", "name": "Ann"});
    let s = r.begin_valid().await;
    let c = r.complete(&s.callback(), &s.cookie).await;
    assert_eq!(c.outcome().unwrap().userinfo().unwrap()["name"], "Ann");
    *r.idp.userinfo.lock().unwrap() = json!({"sub": "someone-else"});
    let s = r.begin_valid().await;
    let c = r.complete(&s.callback(), &s.cookie).await;
    assert!(matches!(c.outcome(), Err(LoginError::Userinfo(_))));
    // Not configured: not fetched.
    let r = rig();
    let s = r.begin_valid().await;
    let c = r.complete(&s.callback(), &s.cookie).await;
    assert!(c.outcome().unwrap().userinfo().is_none());
}

#[tokio::test]
async fn return_to_and_the_account_to_link_travel_in_the_transaction() {
    let r = rig();
    for (raw, kept) in [
        ("/orders?x=1", "/orders?x=1"),
        ("//evil.example", "/"),
        ("https://evil.example", "/"),
        ("/\\evil.example", "/"),
        ("/%2F%2Fevil.example", "/"),
    ] {
        let s = r
            .begin(BeginOptions::new().return_to(Some(raw)).link_to("acct-9"))
            .await;
        r.id_token(&claims(&s.nonce, T0));
        let c = r.complete(&s.callback(), &s.cookie).await;
        let login = c.outcome().unwrap();
        assert_eq!(login.return_to(), kept, "{raw}");
        assert_eq!(login.link_to(), Some("acct-9"));
    }
}

#[tokio::test]
async fn transactions_sealed_with_a_rotated_out_key_still_complete() {
    let r = rig();
    let s = r.begin_valid().await;
    let rotated = OidcLogin::builder(SealingKey::new(2, &[8; 32]).unwrap())
        .previous_key(SealingKey::new(1, &[7; 32]).unwrap())
        .provider(ProviderConfig::new("acme", ISS, CLIENT, REDIRECT))
        .http_client(r.idp.clone())
        .clock(r.clock.clone())
        .build()
        .unwrap();
    let c = rotated.complete("acme", &s.callback(), &[&s.cookie]).await;
    assert!(c.outcome().is_ok(), "{c:?}");
    let unrelated = OidcLogin::builder(SealingKey::new(1, &[9; 32]).unwrap())
        .provider(ProviderConfig::new("acme", ISS, CLIENT, REDIRECT))
        .http_client(r.idp.clone())
        .build()
        .unwrap();
    let s = r.begin_valid().await;
    let c = unrelated
        .complete("acme", &s.callback(), &[&s.cookie])
        .await;
    assert_eq!(problem_of(&c), Some(StateProblem::Unknown));
}

#[tokio::test]
async fn a_failed_discovery_is_retried_only_after_a_pause() {
    let r = rig();
    r.idp.discovery.lock().unwrap()["issuer"] = json!("https://impostor.example");
    let err = r
        .login
        .begin("acme", BeginOptions::new())
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::AuthBackendUnavailable);
    r.idp.discovery.lock().unwrap()["issuer"] = json!(ISS);
    assert!(r.login.begin("acme", BeginOptions::new()).await.is_err());
    assert_eq!(r.idp.discovery_fetches.load(Ordering::SeqCst), 1);
    r.clock.advance(Duration::from_secs(11));
    assert!(r.login.begin("acme", BeginOptions::new()).await.is_ok());
    assert!(r.login.discover().await.is_ok());
}

#[tokio::test]
async fn first_sign_in_creates_the_link_second_reuses_it_and_linking_elsewhere_conflicts() {
    let r = rig();
    let store = MemoryIdentityStore::new();
    let s = r.begin_valid().await;
    let first = r.complete(&s.callback(), &s.cookie).await;
    let first = first.outcome().unwrap();
    let created = sign_in(&store, first, "acct-new").await.unwrap();
    assert!(matches!(created, SignIn::Created(_)));
    assert_eq!(created.account(), "acct-new");
    let s = r.begin_valid().await;
    let second = r.complete(&s.callback(), &s.cookie).await;
    let second = second.outcome().unwrap();
    let again = sign_in(&store, second, "acct-other").await.unwrap();
    assert_eq!(again, SignIn::Existing(created.link().clone()));
    // Linking the same identity to the same account is idempotent; to another, a conflict.
    assert!(link_identity(&store, second, "acct-new").await.is_ok());
    let err = link_identity(&store, second, "acct-password")
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::IdentityAlreadyLinked);
    assert_eq!(store.list_for_account("acct-password").await.unwrap(), []);
}

#[test]
fn the_builder_refuses_bad_configuration() {
    let key = || SealingKey::new(1, &[7; 32]).unwrap();
    let p = || ProviderConfig::new("acme", ISS, CLIENT, REDIRECT);
    let idp = FakeIdp::new(&Signer::new());
    assert!(
        OidcLogin::builder(key())
            .http_client(idp.clone())
            .build()
            .is_err()
    );
    assert!(
        OidcLogin::builder(key())
            .provider(p())
            .provider(p())
            .http_client(idp.clone())
            .build()
            .is_err()
    );
    assert!(
        OidcLogin::builder(key())
            .provider(p())
            .transaction_lifetime(Duration::from_secs(7200))
            .http_client(idp.clone())
            .build()
            .is_err()
    );
    assert!(
        OidcLogin::builder(key())
            .previous_key(key())
            .provider(p())
            .http_client(idp)
            .build()
            .is_err()
    );
}
