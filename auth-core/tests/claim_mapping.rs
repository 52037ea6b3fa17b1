//! Roles and scopes from real providers' tokens (issue 18, "Claims from real providers"): each
//! preset of `ClaimMapping` against a token shaped like that provider's (payloads written
//! after the providers' public documentation, signed RS256 with a `kid` as they are), through
//! the real verifier; per-issuer mappings in a multi-issuer verifier; wrong types.
#![cfg(feature = "jwt")]
// Test helpers outside #[test] fns are not covered by clippy.toml's allow-*-in-tests.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::sync::OnceLock;

use auth_core::clock::{ManualClock, UnixTime};
use auth_core::jwt::{
    Algorithm, ClaimMapping, ClaimPath, JwtVerifier, JwtVerifierBuilder, TrustedIssuer,
    VerificationKey,
};
use auth_core::{AuthError, ConfigError, ErrorCode, InvalidToken, Principal};
use aws_lc_rs::encoding::{AsDer, PublicKeyX509Der};
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::{KeyPair, KeySize};
use aws_lc_rs::signature::{KeyPair as _, RSA_PKCS1_SHA256};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

const NOW: u64 = 1_750_000_000;
const KID: &str = "provider-key-2025";

fn rsa() -> &'static KeyPair {
    static KEY: OnceLock<KeyPair> = OnceLock::new();
    KEY.get_or_init(|| KeyPair::generate(KeySize::Rsa2048).unwrap())
}

fn public_key() -> VerificationKey {
    let der: PublicKeyX509Der<'static> = rsa().public_key().as_der().unwrap();
    VerificationKey::from_der(Algorithm::RS256, der.as_ref())
        .unwrap()
        .with_kid(KID)
}

/// An RS256 token with the provider's header members and `payload`.
fn sign(header_extra: &Value, payload: &Value) -> String {
    let mut header = json!({"alg": "RS256", "kid": KID});
    for (k, v) in header_extra.as_object().unwrap() {
        header[k] = v.clone();
    }
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(payload.to_string())
    );
    let mut sig = vec![0; rsa().public_modulus_len()];
    rsa()
        .sign(
            &RSA_PKCS1_SHA256,
            &SystemRandom::new(),
            input.as_bytes(),
            &mut sig,
        )
        .unwrap();
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig))
}

fn builder(issuer: &str, audience: &str) -> JwtVerifierBuilder {
    JwtVerifier::builder()
        .key(public_key())
        .issuer(issuer)
        .audience(audience)
        .clock(ManualClock::new(UnixTime::from_secs(NOW)))
}

fn verify(verifier: &JwtVerifier, header: &Value, payload: &Value) -> Result<Principal, AuthError> {
    verifier.verify_sync(&sign(header, payload))
}

const KEYCLOAK: &str = "https://sso.acme.example/realms/acme";

/// A Keycloak 2x access token for the `orders-api` client, requested by the `web-app` client.
fn keycloak_token() -> Value {
    json!({
        "exp": NOW + 300, "iat": NOW - 10, "auth_time": NOW - 20,
        "jti": "onrtac:4c1d6d0e-9b5f-4f0a-8f7e-2b1d9f3c5a77",
        "iss": KEYCLOAK,
        "aud": ["orders-api", "account"],
        "sub": "5d1e8a4b-0f2c-4c55-9c1a-7f2e3b4d6a81",
        "typ": "Bearer", "azp": "web-app", "sid": "0b9f1c2e-7d4a-4e3b-a1f5-6c8d9e0a1b2c",
        "acr": "1", "allowed-origins": ["https://app.acme.example"],
        "realm_access": {"roles": ["default-roles-acme", "offline_access", "uma_authorization", "orders-admin"]},
        "resource_access": {
            "orders-api": {"roles": ["refund", "export"]},
            "account": {"roles": ["manage-account", "manage-account-links", "view-profile"]}
        },
        "scope": "openid email profile",
        "email_verified": true, "name": "Ann Smith", "preferred_username": "ann",
        "given_name": "Ann", "family_name": "Smith", "email": "ann@acme.example"
    })
}

#[test]
fn keycloak_tokens_grant_realm_roles_the_clients_roles_and_scopes() {
    let v = builder(KEYCLOAK, "orders-api")
        .claim_mapping(ClaimMapping::keycloak("orders-api").unwrap())
        .build()
        .unwrap();
    let p = verify(&v, &json!({"typ": "JWT"}), &keycloak_token()).unwrap();
    assert_eq!(
        p.roles(),
        [
            "default-roles-acme",
            "offline_access",
            "uma_authorization",
            "orders-admin",
            "refund",
            "export"
        ]
    );
    assert!(
        !p.has_role("view-profile"),
        "another client's roles are not this API's"
    );
    assert_eq!(p.scopes(), ["openid", "email", "profile"]);
    assert_eq!(p.subject(), "5d1e8a4b-0f2c-4c55-9c1a-7f2e3b4d6a81");
}

#[test]
fn a_keycloak_token_without_the_mapped_roles_grants_none_but_its_scopes() {
    let v = builder(KEYCLOAK, "orders-api")
        .claim_mapping(ClaimMapping::keycloak("billing-api").unwrap())
        .build()
        .unwrap();
    let mut token = keycloak_token();
    token.as_object_mut().unwrap().remove("realm_access");
    let p = verify(&v, &json!({}), &token).unwrap();
    assert!(p.roles().is_empty());
    assert_eq!(p.scopes(), ["openid", "email", "profile"]);
}

#[test]
fn without_a_mapping_keycloaks_nested_roles_are_not_read() {
    // What the mapping is for: the default top-level `roles` claim is absent from Keycloak
    // tokens, so they granted no roles at all.
    let v = builder(KEYCLOAK, "orders-api").build().unwrap();
    let p = verify(&v, &json!({}), &keycloak_token()).unwrap();
    assert!(p.roles().is_empty());
    assert_eq!(p.scopes(), ["openid", "email", "profile"]);
}

const AUTH0: &str = "https://acme.eu.auth0.com/";

/// An Auth0 access token for the API `https://orders.acme.example`, with RBAC permissions in
/// the token and roles added by an Action under the namespace `https://acme.example`.
fn auth0_token() -> Value {
    json!({
        "https://acme.example/roles": ["Order Manager", "Viewer"],
        "https://acme.example/email": "ann@acme.example",
        "iss": AUTH0,
        "sub": "auth0|64f0c3a2b1d4e5f60718293a",
        "aud": ["https://orders.acme.example", "https://acme.eu.auth0.com/userinfo"],
        "iat": NOW - 5, "exp": NOW + 86_400,
        "scope": "openid profile email read:orders",
        "azp": "pL3kQ9rT2sV8wX1yZ4aB6cD0eF7gH5jK",
        "permissions": ["read:orders", "refund:orders"]
    })
}

#[test]
fn auth0_tokens_grant_namespaced_roles_and_permissions_as_scopes() {
    let v = builder(AUTH0, "https://orders.acme.example")
        .claim_mapping(ClaimMapping::auth0("https://acme.example/").unwrap())
        .build()
        .unwrap();
    let p = verify(&v, &json!({"typ": "JWT"}), &auth0_token()).unwrap();
    assert_eq!(p.roles(), ["Order Manager", "Viewer"]);
    assert_eq!(
        p.scopes(),
        ["openid", "profile", "email", "read:orders", "refund:orders"]
    );
    let rule = auth_core::scope::Requirement::permission("refund:orders");
    assert!(rule.is_satisfied_by(&p, &auth_core::scope::RolePolicy::default()));
}

#[test]
fn an_auth0_namespaced_claim_can_be_named_by_an_escaped_pointer() {
    let v = builder(AUTH0, "https://orders.acme.example")
        .claim_mapping(
            ClaimMapping::new().roles(ClaimPath::array("/https:~1~1acme.example~1roles").unwrap()),
        )
        .build()
        .unwrap();
    let p = verify(&v, &json!({}), &auth0_token()).unwrap();
    assert_eq!(p.roles(), ["Order Manager", "Viewer"]);
    assert!(
        p.scopes().is_empty(),
        "a mapping replaces the default scope claims"
    );
}

const TENANT: &str = "9188040d-6c67-4c5b-b112-36a304b66dad";

fn entra_issuer() -> String {
    format!("https://login.microsoftonline.com/{TENANT}/v2.0")
}

/// A Microsoft Entra ID v2.0 access token for the API `api://orders`, delegated (user) flow.
fn entra_user_token() -> Value {
    json!({
        "aud": "api://orders", "iss": entra_issuer(),
        "iat": NOW - 60, "nbf": NOW - 60, "exp": NOW + 3_600,
        "aio": "AXQAi/8UAAAAr4kNd1s0Yr2nVxC1pB3yFq7t",
        "azp": "6e74172b-be56-4843-9ff4-e66a39bb12e3", "azpacr": "0",
        "name": "Ann Smith", "oid": "690222be-ff1a-4d56-abd1-7e4f7d38e474",
        "preferred_username": "ann@acme.example", "rh": "0.AAAA.",
        "roles": ["Orders.Refund"],
        "scp": "Orders.Read Orders.Write",
        "groups": ["6f0ac1f6-2b4f-4f4b-9d6e-0d1c3b6a9e21"],
        "sub": "AAAAAAAAAAAAAAAAAAAAAIkzqFVrSaSaFHy782bbtaQ",
        "tid": TENANT, "uti": "fqiBqXLPj0eQa82S-IYFAA", "ver": "2.0"
    })
}

/// The same API called by a daemon with client credentials: app roles, no `scp`.
fn entra_app_token() -> Value {
    json!({
        "aud": "api://orders", "iss": entra_issuer(),
        "iat": NOW - 60, "nbf": NOW - 60, "exp": NOW + 3_600,
        "azp": "2c1b3f9e-8d7a-4e6b-9c5d-1a0f2e3d4c5b", "azpacr": "1", "idtyp": "app",
        "oid": "d2b3c4e5-f6a7-4b8c-9d0e-1f2a3b4c5d6e",
        "roles": ["Orders.Read.All"],
        "sub": "d2b3c4e5-f6a7-4b8c-9d0e-1f2a3b4c5d6e",
        "tid": TENANT, "uti": "kP3xQ7vR9sT1uW5yZ2aB4c", "ver": "2.0"
    })
}

#[test]
fn entra_tokens_grant_app_roles_and_delegated_scopes() {
    let v = builder(&entra_issuer(), "api://orders")
        .claim_mapping(ClaimMapping::entra())
        .build()
        .unwrap();
    let header = json!({"typ": "JWT", "x5t": "CNv0OI3RwqlHFEVnaoMAshCH2XE"});
    let p = verify(&v, &header, &entra_user_token()).unwrap();
    assert_eq!(p.roles(), ["Orders.Refund"]);
    assert_eq!(p.scopes(), ["Orders.Read", "Orders.Write"]);
    assert!(
        !p.has_role("6f0ac1f6-2b4f-4f4b-9d6e-0d1c3b6a9e21"),
        "groups are not roles"
    );

    let app = verify(&v, &header, &entra_app_token()).unwrap();
    assert_eq!(app.roles(), ["Orders.Read.All"]);
    assert!(app.scopes().is_empty());
}

#[test]
fn a_custom_closure_adds_grants_and_keeps_the_parsed_claims() {
    let v = builder(&entra_issuer(), "api://orders")
        .claim_mapping(ClaimMapping::entra().custom(|claims, grants| {
            let groups = claims.get("groups").and_then(Value::as_array);
            if groups.is_some_and(|g| {
                g.iter()
                    .any(|id| id == "6f0ac1f6-2b4f-4f4b-9d6e-0d1c3b6a9e21")
            }) {
                grants.add_role("support");
            }
            match claims.get("tid").and_then(Value::as_str) {
                Some(TENANT) => Ok(()),
                _ => Err("token from another tenant".into()),
            }
        }))
        .build()
        .unwrap();
    let p = verify(&v, &json!({}), &entra_user_token()).unwrap();
    assert_eq!(p.roles(), ["Orders.Refund", "support"]);
    assert_eq!(
        p.claims().unwrap()["oid"],
        "690222be-ff1a-4d56-abd1-7e4f7d38e474"
    );

    let mut other = entra_user_token();
    other["tid"] = json!("72f988bf-86f1-41af-91ab-2d7cd011db47");
    assert_eq!(
        verify(&v, &json!({}), &other).unwrap_err(),
        AuthError::InvalidToken(InvalidToken::Custom("token from another tenant".into()))
    );
}

const OKTA: &str = "https://acme.okta.com/oauth2/default";

/// An Okta access token of a custom authorization server with a `groups` claim configured.
fn okta_token() -> Value {
    json!({
        "ver": 1, "jti": "AT.9tXk2-4cV0l1uWvBqPz3yQ8rS7d6fG5hJ",
        "iss": OKTA, "aud": "api://default",
        "iat": NOW - 30, "exp": NOW + 3_600,
        "cid": "0oa1b2c3d4e5f6g7h8i9", "uid": "00u1a2b3c4d5e6f7g8h9",
        "scp": ["openid", "profile", "orders:read"],
        "auth_time": NOW - 40,
        "sub": "ann@acme.example",
        "groups": ["Everyone", "Orders Admins"]
    })
}

#[test]
fn okta_tokens_grant_groups_as_roles_and_the_scp_array() {
    let v = builder(OKTA, "api://default")
        .claim_mapping(ClaimMapping::okta())
        .build()
        .unwrap();
    let p = verify(&v, &json!({}), &okta_token()).unwrap();
    assert_eq!(p.roles(), ["Everyone", "Orders Admins"]);
    assert_eq!(p.scopes(), ["openid", "profile", "orders:read"]);
}

const GOOGLE: &str = "https://accounts.google.com";

/// A Google ID token (the example of Google's OpenID Connect documentation, at our time).
fn google_token() -> Value {
    json!({
        "iss": GOOGLE,
        "azp": "1234987819200.apps.googleusercontent.com",
        "aud": "1234987819200.apps.googleusercontent.com",
        "sub": "10769150350006150715113082367",
        "at_hash": "HK6E_P6Dh8Y93mRNtsDB1Q",
        "hd": "example.com", "email": "jsmith@example.com", "email_verified": true,
        "iat": NOW - 1, "exp": NOW + 3_599,
        "nonce": "0394852-3190485-2490358"
    })
}

#[test]
fn google_tokens_grant_no_roles_and_scopes_only_when_present() {
    let v = builder(GOOGLE, "1234987819200.apps.googleusercontent.com")
        .claim_mapping(ClaimMapping::google())
        .build()
        .unwrap();
    let p = verify(&v, &json!({"typ": "JWT"}), &google_token()).unwrap();
    assert!(p.roles().is_empty() && p.scopes().is_empty());
    assert_eq!(p.subject(), "10769150350006150715113082367");

    let mut scoped = google_token();
    scoped["scope"] = json!("https://www.googleapis.com/auth/cloud-platform");
    scoped["roles"] = json!(["admin"]);
    let p = verify(&v, &json!({}), &scoped).unwrap();
    assert_eq!(
        p.scopes(),
        ["https://www.googleapis.com/auth/cloud-platform"]
    );
    assert!(
        p.roles().is_empty(),
        "a `roles` claim is not Google's and is not read"
    );
}

#[test]
fn each_trusted_issuer_reads_its_own_providers_shape() {
    let key = || public_key();
    let v = JwtVerifier::builder()
        .trusted_issuer(
            TrustedIssuer::with_keys(KEYCLOAK, [key()])
                .unwrap()
                .audience("orders-api")
                .claim_mapping(ClaimMapping::keycloak("orders-api").unwrap()),
        )
        .trusted_issuer(
            TrustedIssuer::with_keys(entra_issuer(), [key()])
                .unwrap()
                .audience("api://orders"),
        )
        .trusted_issuer(
            TrustedIssuer::with_keys(OKTA, [key()])
                .unwrap()
                .audience("api://default")
                .claim_mapping(ClaimMapping::okta()),
        )
        .trusted_issuer(
            TrustedIssuer::with_keys("https://auth.acme.example", [key()])
                .unwrap()
                .audience("orders-api")
                .claim_mapping(ClaimMapping::new()),
        )
        // The verifier-wide mapping: for the issuers that set none (Entra here).
        .claim_mapping(ClaimMapping::entra())
        .clock(ManualClock::new(UnixTime::from_secs(NOW)))
        .build()
        .unwrap();

    let kc = verify(&v, &json!({}), &keycloak_token()).unwrap();
    assert!(kc.has_role("orders-admin") && kc.has_role("refund"));
    let entra = verify(&v, &json!({}), &entra_user_token()).unwrap();
    assert_eq!(entra.roles(), ["Orders.Refund"]);
    assert_eq!(entra.scopes(), ["Orders.Read", "Orders.Write"]);
    let okta = verify(&v, &json!({}), &okta_token()).unwrap();
    assert_eq!(okta.roles(), ["Everyone", "Orders Admins"]);

    // An issuer with an empty mapping grants nothing, even for claims named like the defaults.
    let ours = json!({"iss": "https://auth.acme.example", "sub": "svc", "aud": "orders-api",
        "exp": NOW + 60, "roles": ["admin"], "scope": "write:orders"});
    let p = verify(&v, &json!({}), &ours).unwrap();
    assert!(p.roles().is_empty() && p.scopes().is_empty());
}

#[test]
fn a_mapped_value_of_the_wrong_type_is_an_invalid_token() {
    let cases: [(ClaimMapping, &str, Value, Value, &str); 5] = [
        (
            ClaimMapping::keycloak("orders-api").unwrap(),
            KEYCLOAK,
            keycloak_token(),
            json!({"realm_access": {"roles": "orders-admin"}}),
            "/realm_access/roles",
        ),
        (
            ClaimMapping::keycloak("orders-api").unwrap(),
            KEYCLOAK,
            keycloak_token(),
            json!({"resource_access": ["orders-api"]}),
            "/resource_access/orders-api/roles",
        ),
        (
            ClaimMapping::entra(),
            &entra_issuer(),
            entra_user_token(),
            json!({"scp": ["Orders.Read"]}),
            "/scp",
        ),
        (
            ClaimMapping::okta(),
            OKTA,
            okta_token(),
            json!({"groups": ["Everyone", 7]}),
            "/groups",
        ),
        (
            ClaimMapping::auth0("https://acme.example").unwrap(),
            AUTH0,
            auth0_token(),
            json!({"permissions": null}),
            "/permissions",
        ),
    ];
    for (mapping, iss, mut token, patch, pointer) in cases {
        let aud = token["aud"]
            .as_array()
            .map_or(token["aud"].clone(), |a| a[0].clone());
        let v = builder(iss, aud.as_str().unwrap())
            .claim_mapping(mapping)
            .build()
            .unwrap();
        for (k, val) in patch.as_object().unwrap() {
            token[k] = val.clone();
        }
        let err = verify(&v, &json!({}), &token).unwrap_err();
        assert_eq!(err.code(), ErrorCode::InvalidToken, "{pointer}");
        assert_eq!(
            err,
            AuthError::InvalidToken(InvalidToken::MappedClaimType(pointer.into()))
        );
    }
}

#[test]
fn a_mapped_claim_given_twice_is_an_invalid_token() {
    let v = builder(KEYCLOAK, "orders-api")
        .claim_mapping(ClaimMapping::keycloak("orders-api").unwrap())
        .build()
        .unwrap();
    // serde_json's `json!` cannot repeat a member, so splice the duplicate into the text.
    let payload = keycloak_token().to_string();
    let dup = payload.replacen('{', r#"{"realm_access":{"roles":["nobody"]},"#, 1);
    let header = URL_SAFE_NO_PAD.encode(json!({"alg": "RS256", "kid": KID}).to_string());
    let input = format!("{header}.{}", URL_SAFE_NO_PAD.encode(dup));
    let mut sig = vec![0; rsa().public_modulus_len()];
    rsa()
        .sign(
            &RSA_PKCS1_SHA256,
            &SystemRandom::new(),
            input.as_bytes(),
            &mut sig,
        )
        .unwrap();
    let token = format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig));
    assert_eq!(
        v.verify_sync(&token).unwrap_err(),
        AuthError::InvalidToken(InvalidToken::DuplicateClaim)
    );
}

#[test]
fn a_mapping_cannot_be_combined_with_claim_names() {
    let err = builder(OKTA, "api://default")
        .roles_claim("groups")
        .claim_mapping(ClaimMapping::okta())
        .build()
        .unwrap_err();
    assert!(matches!(err, ConfigError::InvalidClaimMapping(_)), "{err}");
}
