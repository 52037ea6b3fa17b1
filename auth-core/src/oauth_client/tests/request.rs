//! The token request: parameters, client authentication, discovery, typed errors and
//! configuration.

use super::*;

#[tokio::test]
async fn oauth_errors_are_not_retried_and_are_typed() {
    let (fake, clock) = (FakeAs::new(600), ManualClock::starting_now());
    fake.fail_with(Ok(HttpResponse::new(
        401,
        r#"{"error":"invalid_client","error_description":"client authentication failed"}"#,
    )));
    let tokens = manager(&fake, &clock);
    let err = tokens.access_token().await.unwrap_err();
    assert_eq!(
        err,
        TokenError::InvalidClient {
            description: Some("client authentication failed".into())
        }
    );
    assert!(!err.to_string().contains("s3cr3t"));
    assert_eq!(fake.requests(), 1);
    fake.fail_with(Ok(HttpResponse::new(400, r#"{"error":"invalid_scope"}"#)));
    clock.advance(secs(31));
    assert_eq!(
        tokens.access_token().await.unwrap_err().class(),
        "invalid_scope"
    );
    fake.fail_with(Ok(HttpResponse::new(
        400,
        r#"{"error":"unauthorized_client"}"#,
    )));
    clock.advance(secs(31));
    assert_eq!(
        tokens.access_token().await.unwrap_err().class(),
        "unauthorized_client"
    );
    assert_eq!(fake.requests(), 3);
}

#[tokio::test]
async fn the_token_request_is_a_form_post_with_the_parameters_and_basic_credentials() {
    let (fake, clock) = (FakeAs::new(600), ManualClock::starting_now());
    let tokens =
        TokenManager::builder(ClientAuth::client_secret_basic("svc:1", "p+q:r%s t/é").unwrap())
            .token_endpoint(TOKEN_URL)
            .scope("orders:write orders:read")
            .resource("https://orders.example/")
            .audience("orders-api")
            .http_client(Arc::clone(&fake))
            .clock(clock)
            .build()
            .unwrap();
    tokens.access_token().await.unwrap();
    let req = fake.last();
    assert_eq!(req.method, crate::jwks::Method::Post);
    assert_eq!(req.url, TOKEN_URL);
    assert_eq!(req.header_value("accept"), Some("application/json"));
    assert_eq!(
        req.header_value("content-type"),
        Some("application/x-www-form-urlencoded")
    );
    assert_eq!(
        String::from_utf8(req.body.clone()).unwrap(),
        "grant_type=client_credentials&scope=orders%3Aread+orders%3Awrite\
         &resource=https%3A%2F%2Forders.example%2F&audience=orders-api"
    );
    // RFC 6749 section 2.3.1: form-urlencode each part, then Basic.
    let basic = req.header_value("authorization").unwrap();
    let raw = STANDARD
        .decode(basic.strip_prefix("Basic ").unwrap())
        .unwrap();
    assert_eq!(
        String::from_utf8(raw).unwrap(),
        "svc%3A1:p%2Bq%3Ar%25s+t%2F%C3%A9"
    );
    assert!(
        !format!("{req:?}").contains("cCtx"),
        "Debug shows no credentials"
    );
}

#[tokio::test]
async fn client_secret_post_sends_the_credentials_in_the_body_only() {
    let (fake, clock) = (FakeAs::new(600), ManualClock::starting_now());
    let tokens = TokenManager::builder(ClientAuth::client_secret_post("svc", "a b+c").unwrap())
        .token_endpoint(TOKEN_URL)
        .http_client(Arc::clone(&fake))
        .clock(clock)
        .build()
        .unwrap();
    tokens.access_token().await.unwrap();
    let req = fake.last();
    assert_eq!(req.header_value("authorization"), None);
    assert_eq!(field(&req, "client_id").as_deref(), Some("svc"));
    assert_eq!(field(&req, "client_secret").as_deref(), Some("a b+c"));
    assert_eq!(field(&req, "scope"), None);
}

fn assertion_aud(req: &HttpRequest) -> Value {
    let jwt = field(req, "client_assertion").unwrap();
    let payload = jwt.split('.').nth(1).unwrap();
    let claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
    claims["aud"].clone()
}

#[tokio::test]
async fn private_key_jwt_audience_is_the_issuer_by_default_or_the_token_endpoint() {
    let key = SigningKey::generate(Algorithm::ES256, "k1").unwrap();
    let auth = ClientAuth::private_key_jwt("svc", key).unwrap();
    let (fake, clock) = (FakeAs::new(600), ManualClock::starting_now());
    let build = |b: TokenManagerBuilder| {
        b.http_client(Arc::clone(&fake))
            .clock(clock.clone())
            .build()
            .unwrap()
    };

    let with_issuer = build(
        TokenManager::builder(auth.clone())
            .token_endpoint(TOKEN_URL)
            .issuer(ISSUER),
    );
    with_issuer.access_token().await.unwrap();
    assert_eq!(assertion_aud(&fake.last()), ISSUER);
    assert_eq!(
        field(&fake.last(), "client_assertion_type").as_deref(),
        Some(JWT_BEARER_ASSERTION_TYPE)
    );

    let configured = build(
        TokenManager::builder(auth.clone())
            .token_endpoint(TOKEN_URL)
            .issuer(ISSUER)
            .assertion_audience(AssertionAudience::TokenEndpoint),
    );
    configured.access_token().await.unwrap();
    assert_eq!(assertion_aud(&fake.last()), TOKEN_URL);

    let endpoint_only = build(TokenManager::builder(auth).token_endpoint(TOKEN_URL));
    endpoint_only.access_token().await.unwrap();
    assert_eq!(assertion_aud(&fake.last()), TOKEN_URL);
}

#[tokio::test]
async fn the_token_endpoint_is_discovered_from_the_issuer() {
    let (fake, clock) = (FakeAs::new(600), ManualClock::starting_now());
    fake.serve_metadata(
        "https://as.example/.well-known/openid-configuration",
        json!({"issuer": ISSUER, "token_endpoint": TOKEN_URL, "jwks_uri": "https://as.example/jwks"}),
    );
    let tokens = TokenManager::builder(basic())
        .issuer(ISSUER)
        .http_client(Arc::clone(&fake))
        .clock(clock)
        .build()
        .unwrap();
    tokens.access_token().await.unwrap();
    assert_eq!(fake.last().url, TOKEN_URL);
}

#[tokio::test]
async fn rfc_8414_metadata_is_read_when_there_is_no_openid_configuration() {
    let (fake, clock) = (FakeAs::new(600), ManualClock::starting_now());
    fake.serve_metadata(
        "https://as.example/.well-known/oauth-authorization-server/tenant",
        json!({"issuer": "https://as.example/tenant", "token_endpoint": "https://as.example/tenant/token"}),
    );
    let tokens = TokenManager::builder(basic())
        .issuer("https://as.example/tenant")
        .http_client(Arc::clone(&fake))
        .clock(clock)
        .build()
        .unwrap();
    tokens.access_token().await.unwrap();
    assert_eq!(fake.last().url, "https://as.example/tenant/token");
}

#[tokio::test]
async fn metadata_naming_another_issuer_or_a_plain_http_endpoint_is_refused() {
    for doc in [
        json!({"issuer": "https://evil.example", "token_endpoint": TOKEN_URL}),
        json!({"issuer": ISSUER, "token_endpoint": "http://as.example/token"}),
        json!({"issuer": ISSUER}),
    ] {
        let (fake, clock) = (FakeAs::new(600), ManualClock::starting_now());
        fake.serve_metadata(
            "https://as.example/.well-known/openid-configuration",
            doc.clone(),
        );
        let tokens = TokenManager::builder(basic())
            .issuer(ISSUER)
            .http_client(Arc::clone(&fake))
            .clock(clock)
            .build()
            .unwrap();
        let err = tokens.access_token().await.unwrap_err();
        assert_eq!(err.class(), "discovery", "{doc}");
        assert_eq!(fake.requests(), 0, "no credentials sent: {doc}");
    }
}

#[test]
fn builder_refuses_missing_or_insecure_endpoints_and_bad_settings() {
    let fake = FakeAs::new(600);
    let b = || TokenManager::builder(basic()).http_client(Arc::clone(&fake));
    assert!(matches!(b().build(), Err(ConfigError::MissingSetting(_))));
    assert!(matches!(
        b().token_endpoint("http://as.example/token").build(),
        Err(ConfigError::InvalidUrl(_))
    ));
    assert!(
        b().token_endpoint("http://127.0.0.1:9/token")
            .build()
            .is_ok()
    );
    assert!(
        b().token_endpoint("http://as.example/token")
            .dangerous_allow_plain_http()
            .build()
            .is_ok()
    );
    assert!(
        b().token_endpoint(TOKEN_URL)
            .cooldown(Duration::ZERO)
            .build()
            .is_err()
    );
    assert!(
        b().token_endpoint(TOKEN_URL)
            .timeout(Duration::ZERO)
            .build()
            .is_err()
    );
    assert!(b().token_endpoint(TOKEN_URL).scope("a\\b").build().is_err());
    assert!(
        b().token_endpoint(TOKEN_URL)
            .default_lifetime(secs(5))
            .build()
            .is_err()
    );
}

#[test]
fn the_manager_and_its_tokens_are_send_sync_and_clone() {
    fn shared<T: Send + Sync + Clone + 'static>() {}
    shared::<TokenManager>();
    shared::<BearerToken>();
    shared::<TokenError>();
    fn send<T: Send + 'static>(_: &T) {}
    let fake = FakeAs::new(600);
    let tokens = manager(&fake, &ManualClock::starting_now());
    send(&tokens.access_token());
    send(&tokens.renew_rejected(&BearerToken::new(
        "t",
        UnixTime::EPOCH,
        UnixTime::EPOCH,
        UnixTime::EPOCH,
        None,
    )));
}

#[test]
fn debug_shows_no_secret() {
    let fake = FakeAs::new(600);
    let tokens =
        TokenManager::builder(ClientAuth::client_secret_post("svc", "hunter2hunter2").unwrap())
            .token_endpoint(TOKEN_URL)
            .http_client(Arc::clone(&fake))
            .build()
            .unwrap();
    let shown = format!("{tokens:?}");
    assert!(
        !shown.contains("hunter2") && shown.contains("svc"),
        "{shown}"
    );
}

#[tokio::test]
async fn a_get_only_http_client_is_refused_with_a_clear_error_and_no_request() {
    #[derive(Debug)]
    struct GetOnly;
    impl HttpClient for GetOnly {
        fn get(&self, _: FetchRequest) -> BoxFuture<'static, Result<HttpResponse, HttpError>> {
            Box::pin(async { Ok(HttpResponse::new(200, "{}")) })
        }
    }
    tokio::time::pause();
    let tokens = TokenManager::builder(basic())
        .token_endpoint(TOKEN_URL)
        .http_client(GetOnly)
        .build()
        .unwrap();
    let err = tokens.access_token().await.unwrap_err();
    assert!(
        err.to_string().contains("implement HttpClient::send"),
        "{err}"
    );
}
