//! Configuration as data (issue 17): settings round-trip through TOML and JSON, build verifiers
//! that accept a good token and refuse bad ones, and name the field at fault in every error.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use auth_core::ErrorCode;
use auth_core::api_key::MemoryApiKeyStore;
use auth_core::settings::{
    self, ApiKeySettings, AuthSettings, BuildContext, SettingsError, SettingsErrorKind,
};
use jsonwebtoken::{EncodingKey, Header, encode};

const SECRET: &str = "an example secret of at least thirty-two bytes";
const OTHER_SECRET: &str = "another secret, also at least thirty-two bytes";

/// Every section and nearly every field, as an operator would write them.
const FULL_TOML: &str = r#"
[bearer]
audiences = ["orders-api"]
leeway = "45s"
typ = "at+jwt"
max_token_len = 4096
realm = "orders"
cookie = "access_token"

[[bearer.issuers]]
issuer = "https://ours.example"
algorithms = ["HS256"]
keys = [{ alg = "HS256", kid = "k1", secret_env = "ORDERS_JWT_SECRET" }]

[[bearer.issuers]]
issuer = "https://partner.example"
audiences = ["partner-api"]
keys = [{ alg = "HS384", secret_base64 = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4v" }]

[api_keys]
prefix = "acme_live"
pepper_env = "API_KEY_PEPPER"
usage_interval = "5m"
header = "x-acme-key"
optional = true

[brute_force]
attempts = 3
window = 90
client_failures = 8
account_failures = 4
lockout_ladder = ["5m", "1h", "1d"]
decay = "12h"
trusted_proxies = ["10.0.0.0/8", "192.168.1.10"]
forwarded_header = "forwarded"

[scopes]
realm = "orders"
permissions = { "orders:refund" = ["admin", "manager"] }
routes = [
  { route = "GET /orders", require = { scopes = ["read:orders"] } },
  { route = "POST /orders/{id}/refund", require = { permissions = ["orders:refund"], any_roles = ["admin"] } },
  { route = "/health/{*rest}", require = { authenticated = true } },
]
otherwise = { any_scopes = ["admin:all", "ops"] }
"#;

fn toml_settings<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, SettingsError> {
    let de = toml::de::Deserializer::parse(text)
        .map_err(|e| SettingsError::invalid("", format!("not TOML: {e}")))?;
    settings::deserialize(de)
}

fn env(var: &str) -> Option<String> {
    match var {
        "ORDERS_JWT_SECRET" => Some(SECRET.to_owned()),
        "SHORT_SECRET" => Some("too short".to_owned()),
        "API_KEY_PEPPER" => Some("base64:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=".to_owned()),
        _ => None,
    }
}

fn ctx() -> BuildContext {
    BuildContext::new().env(env)
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn sign(
    secret: &[u8],
    alg: jsonwebtoken::Algorithm,
    kid: Option<&str>,
    claims: serde_json::Value,
) -> String {
    let mut header = Header::new(alg);
    header.typ = Some("at+jwt".into());
    header.kid = kid.map(str::to_owned);
    encode(&header, &claims, &EncodingKey::from_secret(secret)).unwrap()
}

fn ours(claims: serde_json::Value) -> String {
    sign(
        SECRET.as_bytes(),
        jsonwebtoken::Algorithm::HS256,
        Some("k1"),
        claims,
    )
}

#[test]
fn settings_survive_a_round_trip_through_toml_and_json() {
    let parsed: AuthSettings = toml_settings(FULL_TOML).unwrap();
    let json = serde_json::to_string_pretty(&parsed).unwrap();
    let from_json: AuthSettings = settings::from_json_str(&json).unwrap();
    assert_eq!(from_json, parsed);
    let toml_text = toml::to_string(&parsed).unwrap();
    let from_toml: AuthSettings = toml_settings(&toml_text).unwrap();
    assert_eq!(from_toml, parsed);

    // The values were read as written, not just carried along.
    let bearer = parsed.bearer.as_ref().unwrap();
    assert_eq!(bearer.leeway, Some(Duration::from_secs(45)));
    assert_eq!(bearer.issuers[1].audiences, ["partner-api"]);
    let bf = parsed.brute_force.as_ref().unwrap();
    assert_eq!(bf.window, Some(Duration::from_secs(90)));
    assert_eq!(bf.lockout_ladder[2], Duration::from_secs(86_400));
    // Durations serialise as text in their largest whole unit.
    assert!(json.contains(r#""decay": "12h""#), "{json}");
    // An inline secret never shows in Debug.
    let shown = format!("{parsed:?}");
    assert!(!shown.contains("AAECAwQF"), "{shown}");
    assert!(shown.contains("REDACTED"), "{shown}");
}

#[test]
fn every_section_of_the_full_settings_builds() {
    let parsed: AuthSettings = toml_settings(FULL_TOML).unwrap();
    parsed.verifier(&ctx()).unwrap();
    let policy = parsed.brute_force_policy().unwrap();
    assert_eq!(policy.max_attempts().get(), 3);
    assert_eq!(policy.window(), Duration::from_secs(90));
    assert_eq!(policy.lockout_for_level(1), Duration::from_secs(300));
    let keys = parsed
        .api_keys
        .as_ref()
        .unwrap()
        .builder(MemoryApiKeyStore::new(), &ctx())
        .unwrap()
        .build()
        .unwrap();
    assert_eq!(keys.prefix().as_str(), "acme_live");
    let scopes = parsed.scopes.as_ref().unwrap();
    assert_eq!(
        scopes.role_policy().unwrap().roles_for("orders:refund"),
        ["admin", "manager"]
    );
    for route in &scopes.routes {
        route.require.requirement().unwrap();
    }
}

#[test]
fn a_verifier_from_toml_accepts_a_good_token_and_refuses_bad_ones() {
    let parsed: AuthSettings = toml_settings(FULL_TOML).unwrap();
    let verifier = parsed.verifier(&ctx()).unwrap();
    let exp = now() + 300;

    let good = ours(
        serde_json::json!({"sub": "ann", "iss": "https://ours.example", "aud": "orders-api", "exp": exp}),
    );
    assert_eq!(verifier.verify_sync(&good).unwrap().subject(), "ann");

    // The second issuer, with its own audience and an inline base64 HS384 key.
    let partner_secret: Vec<u8> = (0u8..48).collect();
    let partner = sign(
        &partner_secret,
        jsonwebtoken::Algorithm::HS384,
        None,
        serde_json::json!({"sub": "bob", "iss": "https://partner.example", "aud": "partner-api", "exp": exp}),
    );
    assert_eq!(verifier.verify_sync(&partner).unwrap().subject(), "bob");

    let refusals = [
        // Our audience is not the partner's.
        (
            ours(
                serde_json::json!({"sub": "ann", "iss": "https://ours.example", "aud": "partner-api", "exp": exp}),
            ),
            ErrorCode::InvalidAudience,
        ),
        // Expired beyond the 45 s leeway.
        (
            ours(
                serde_json::json!({"sub": "ann", "iss": "https://ours.example", "aud": "orders-api", "exp": now() - 60}),
            ),
            ErrorCode::TokenExpired,
        ),
        // Signed with another secret.
        (
            sign(
                OTHER_SECRET.as_bytes(),
                jsonwebtoken::Algorithm::HS256,
                Some("k1"),
                serde_json::json!({"sub": "ann", "iss": "https://ours.example", "aud": "orders-api", "exp": exp}),
            ),
            ErrorCode::InvalidToken,
        ),
        // An issuer nobody trusts.
        (
            ours(
                serde_json::json!({"sub": "ann", "iss": "https://evil.example", "aud": "orders-api", "exp": exp}),
            ),
            ErrorCode::InvalidToken,
        ),
    ];
    for (token, code) in refusals {
        assert_eq!(verifier.verify_sync(&token).unwrap_err().code(), code);
    }
    // Within the leeway: still accepted.
    let recent = ours(
        serde_json::json!({"sub": "ann", "iss": "https://ours.example", "aud": "orders-api", "exp": now() - 20}),
    );
    assert!(verifier.verify_sync(&recent).is_ok());
}

#[test]
fn a_single_issuer_from_json_requires_its_typ_and_audience() {
    let parsed: AuthSettings = settings::from_json_str(
        r#"{"bearer": {"issuers": [{"issuer": "https://ours.example", "audiences": ["orders-api"],
            "typ": "at+jwt", "keys": [{"alg": "HS256", "secret_env": "ORDERS_JWT_SECRET"}]}]}}"#,
    )
    .unwrap();
    let verifier = parsed.verifier(&ctx()).unwrap();
    let claims = serde_json::json!({"sub": "ann", "iss": "https://ours.example", "aud": "orders-api", "exp": now() + 60});
    assert!(verifier.verify_sync(&ours(claims.clone())).is_ok());
    let plain_jwt = encode(
        &Header::default(),
        &claims,
        &EncodingKey::from_secret(SECRET.as_bytes()),
    )
    .unwrap();
    assert_eq!(
        verifier.verify_sync(&plain_jwt).unwrap_err().code(),
        ErrorCode::InvalidToken
    );
}

/// `(settings JSON, expected path, a fragment of the message)`.
fn assert_refused(json: &str, path: &str, fragment: &str) {
    let err = settings::from_json_str::<AuthSettings>(json)
        .and_then(|s| {
            s.verifier(&ctx())?;
            Ok(())
        })
        .unwrap_err();
    assert_eq!(err.path(), path, "{json}: {err}");
    let text = err.to_string();
    assert!(text.starts_with(&format!("{path}: ")), "{text}");
    assert!(text.contains(fragment), "{json}: {text}");
}

#[test]
fn deserialisation_errors_name_the_field_path() {
    assert_refused(
        r#"{"bearer": {"issuers": [{"issuer": "a", "audiences": ["x"], "keys": []},
            {"issuer": "b", "algorithms": ["none"]}]}}"#,
        "bearer.issuers[1].algorithms[0]",
        "unknown algorithm \"none\"",
    );
    assert_refused(
        r#"{"bearer": {"issuers": [{"issuer": "a", "algorithms": ["hs256"]}]}}"#,
        "bearer.issuers[0].algorithms[0]",
        "unknown algorithm \"hs256\"",
    );
    assert_refused(
        r#"{"bearer": {"issuers": [{"issuer": "a", "audience": "x"}]}}"#,
        "bearer.issuers[0].audience",
        "unknown field `audience`",
    );
    assert_refused(
        r#"{"bearer": {"issuers": [], "leeway": "30 seconds"}}"#,
        "bearer.leeway",
        "is not a duration",
    );
    assert_refused(
        r#"{"bearer": {"leeway": -1}}"#,
        "bearer.leeway",
        "cannot be negative",
    );
    assert_refused(
        r#"{"brute_force": {"attempts": 0}}"#,
        "brute_force.attempts",
        "",
    );
    assert_refused(
        r#"{"brute_force": {"window": "1 fortnight"}}"#,
        "brute_force.window",
        "is not a duration",
    );
    assert_refused(r#"{"bearers": {}}"#, "bearers", "unknown field `bearers`");

    let toml_err = toml_settings::<AuthSettings>(
        "[[bearer.issuers]]\nissuer = \"a\"\nkeys = [{ alg = \"none\", secret_env = \"X\" }]\n",
    )
    .unwrap_err();
    assert_eq!(
        toml_err.path(),
        "bearer.issuers[0].keys[0].alg",
        "{toml_err}"
    );
}

#[test]
fn semantic_errors_name_the_field_path() {
    let key = r#"{"alg": "HS256", "secret_env": "ORDERS_JWT_SECRET"}"#;
    assert_refused(
        r#"{"bearer": {"issuers": []}}"#,
        "bearer.issuers",
        "at least one",
    );
    assert_refused(
        &format!(r#"{{"bearer": {{"issuers": [{{"issuer": "a", "keys": [{key}]}}]}}}}"#),
        "bearer.issuers[0].audiences",
        "no audience",
    );
    assert_refused(
        &format!(
            r#"{{"bearer": {{"audiences": ["x"], "leeway": "10m", "issuers": [{{"issuer": "a", "keys": [{key}]}}]}}}}"#
        ),
        "bearer.leeway",
        "at most 300 s",
    );
    assert_refused(
        r#"{"bearer": {"audiences": ["x"], "issuers": [{"issuer": "a", "keys": [{"alg": "HS256", "secret_env": "SHORT_SECRET"}]}]}}"#,
        "bearer.issuers[0].keys[0].secret_env",
        "at least 32",
    );
    assert_refused(
        r#"{"bearer": {"audiences": ["x"], "issuers": [{"issuer": "a", "keys": [{"alg": "HS256", "secret_env": "NOT_SET"}]}]}}"#,
        "bearer.issuers[0].keys[0].secret_env",
        "`NOT_SET` is not set",
    );
    assert_refused(
        r#"{"bearer": {"audiences": ["x"], "issuers": [{"issuer": "a", "keys": [{"alg": "RS256", "secret_base64": "AAAA"}]}]}}"#,
        "bearer.issuers[0].keys[0].alg",
        "RS256",
    );
    assert_refused(
        r#"{"bearer": {"audiences": ["x"], "issuers": [{"issuer": "a", "keys": [{"alg": "HS256", "secret_base64": "not base64!"}]}]}}"#,
        "bearer.issuers[0].keys[0].secret_base64",
        "base64",
    );
    assert_refused(
        &format!(
            r#"{{"bearer": {{"audiences": ["x"], "issuers": [{{"issuer": "a", "algorithms": ["HS512"], "keys": [{key}]}}]}}}}"#
        ),
        "bearer.issuers[0].keys[0]",
        "not among this issuer's `algorithms`",
    );
    assert_refused(
        &format!(
            r#"{{"bearer": {{"audiences": ["x"], "issuers": [{{"issuer": "a", "keys": [{key}]}}, {{"issuer": "a", "keys": [{key}]}}]}}}}"#
        ),
        "bearer.issuers[1].issuer",
        "listed twice",
    );
    assert_refused(
        r#"{"bearer": {"audiences": ["x"], "issuers": [{"issuer": "a"}]}}"#,
        "bearer.issuers[0]",
        "no key source",
    );
    assert_refused(
        &format!(
            r#"{{"bearer": {{"audiences": ["x"], "typ": "at jwt", "issuers": [{{"issuer": "a", "keys": [{key}]}}]}}}}"#
        ),
        "bearer.typ",
        "media type",
    );
    assert_refused(
        r#"{"bearer": {"audiences": ["x"], "issuers": [{"issuer": "a", "keys": [{"alg": "ES256", "pem": "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"}]}]}}"#,
        "bearer.issuers[0].keys[0].pem",
        "ES256",
    );

    let api: ApiKeySettings =
        settings::from_json_str(r#"{"prefix": "acme_live", "pepper_base64": "AAAA"}"#).unwrap();
    let err = api.builder(MemoryApiKeyStore::new(), &ctx()).unwrap_err();
    assert_eq!(err.path(), "pepper_base64", "{err}");
    assert!(
        matches!(err.kind(), SettingsErrorKind::Config(_)),
        "{err:?}"
    );

    let scopes: AuthSettings =
        settings::from_json_str(r#"{"scopes": {"routes": [{"route": "/a", "require": {}}]}}"#)
            .unwrap();
    let err = scopes.scopes.unwrap().routes[0]
        .require
        .requirement()
        .unwrap_err();
    assert!(err.to_string().contains("requires nothing"), "{err}");

    let err = AuthSettings::default().brute_force_policy().unwrap_err();
    assert_eq!(err.path(), "brute_force");
    let err = settings::from_json_str::<AuthSettings>(
        r#"{"brute_force": {"lockout_ladder": ["1h", "5m"]}}"#,
    )
    .unwrap()
    .brute_force_policy()
    .unwrap_err();
    assert_eq!(err.path(), "brute_force.lockout_ladder", "{err}");
}
