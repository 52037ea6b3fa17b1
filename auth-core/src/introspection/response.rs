//! Reading an introspection response (RFC 7662 section 2.2) into a [`Principal`] or a refusal,
//! with the claims checked as a JWT's are.

use std::time::Duration;

use serde_json::{Map, Value};

use crate::clock::UnixTime;
use crate::error::{AuthError, InvalidToken};
use crate::jwt::claims::{self, Authz, ClaimNames};
use crate::jwt::verifier::check_times;
use crate::principal::{AuthMethod, Principal, PrincipalParts};

/// What the checks of a response need from the configuration.
#[derive(Debug)]
pub(crate) struct Expectations<'a> {
    /// The authorization server's issuer: a response's `iss`, when present, must equal it.
    pub(crate) issuer: &'a str,
    /// The accepted audiences (`None`: `aud` is not checked).
    pub(crate) audiences: Option<&'a [String]>,
    pub(crate) leeway: Duration,
}

/// Why a response could not be used at all: the server answered something that is no
/// introspection response. Never cached; the layer answers 503.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Unusable(pub(crate) String);

/// Reads `body` (a 200 response's body) at `now`.
///
/// `Ok(Ok(principal))` for an active token that passes every check, `Ok(Err(refusal))` for an
/// inactive or refused one (cacheable), `Err` for a body that is no JSON object.
pub(crate) fn read(
    body: &[u8],
    expect: &Expectations<'_>,
    now: UnixTime,
) -> Result<Result<Principal, AuthError>, Unusable> {
    let text = std::str::from_utf8(body)
        .map_err(|_| Unusable("introspection response is not utf-8".into()))?;
    let doc: Map<String, Value> = serde_json::from_str(text)
        .map_err(|_| Unusable("introspection response is not a json object".into()))?;
    Ok(check(text, &doc, expect, now))
}

fn check(
    text: &str,
    doc: &Map<String, Value>,
    expect: &Expectations<'_>,
    now: UnixTime,
) -> Result<Principal, AuthError> {
    // RFC 7662 section 2.2: `active` is a boolean. A string "true", a number, or no `active`
    // at all is not an active token.
    if doc.get("active") != Some(&Value::Bool(true)) {
        return Err(InvalidToken::Inactive.into());
    }
    // Only access tokens: a refresh token an authorization server reports as active is not a
    // credential for this API.
    if let Some(kind) = doc.get("token_type") {
        let ok = kind
            .as_str()
            .is_some_and(|t| t.eq_ignore_ascii_case("bearer") || t.eq_ignore_ascii_case("dpop"));
        if !ok {
            return Err(InvalidToken::WrongType.into());
        }
    }
    let names = ClaimNames::default();
    let c = claims::parse(text, Authz::Names(&names))?;
    let exp = c.exp.ok_or(InvalidToken::MissingClaim("exp"))?;
    check_times(now, expect.leeway, exp, c.nbf, c.iat)?;
    // `iss` is optional in RFC 7662; the answer comes from the configured server, so a missing
    // one is that server. A present one must be it.
    let issuer = match c.iss.as_deref() {
        None => expect.issuer.to_owned(),
        Some(iss) if iss == expect.issuer => iss.to_owned(),
        Some(_) => return Err(AuthError::InvalidIssuer),
    };
    if let Some(accepted) = expect.audiences
        && !c.aud.iter().any(|a| accepted.iter().any(|x| x == a))
    {
        return Err(AuthError::InvalidAudience);
    }
    // The subject: `sub`, or for a client-credentials token (which has none) the `client_id`.
    let subject = match c.sub.as_deref() {
        Some(sub) => sub.to_owned(),
        None => match doc.get("client_id") {
            Some(Value::String(id)) => id.clone(),
            Some(_) => return Err(InvalidToken::ClaimType("client_id").into()),
            None => return Err(InvalidToken::MissingClaim("sub").into()),
        },
    };
    if subject.is_empty() {
        return Err(InvalidToken::ClaimType("sub").into());
    }
    let parts = PrincipalParts {
        subject,
        roles: c.roles.to_vec(),
        scopes: c.scopes.to_vec(),
        method: AuthMethod::Bearer,
        token_id: c.jti.map(std::borrow::Cow::into_owned),
        issuer: Some(issuer),
        session_id: c.sid.map(std::borrow::Cow::into_owned),
        expires_at: Some(exp),
        issued_at: c.iat,
        not_before: c.nbf,
        claims_json: Some(text.into()),
        confirmation: c.cnf_jkt.map(std::borrow::Cow::into_owned),
    };
    Ok(Principal::from_parts(parts))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorCode;

    const NOW: u64 = 1_700_000_000;

    fn expect() -> Expectations<'static> {
        Expectations {
            issuer: "https://as.example",
            audiences: None,
            leeway: Duration::from_secs(30),
        }
    }

    fn read_json(v: &Value, e: &Expectations<'_>) -> Result<Principal, AuthError> {
        read(v.to_string().as_bytes(), e, UnixTime::from_secs(NOW)).unwrap()
    }

    #[test]
    fn active_as_the_json_boolean_true_gives_the_principal() {
        let p = read_json(
            &serde_json::json!({"active": true, "sub": "alice", "exp": NOW + 60,
                "iss": "https://as.example", "scope": "read write", "client_id": "app"}),
            &expect(),
        )
        .unwrap();
        assert_eq!(p.subject(), "alice");
        assert!(p.has_scope("read") && p.has_scope("write"));
        assert_eq!(p.issuer(), Some("https://as.example"));
        assert_eq!(p.expires_at(), Some(UnixTime::from_secs(NOW + 60)));
    }

    #[test]
    fn active_as_a_string_or_missing_is_inactive() {
        for doc in [
            serde_json::json!({"active": "true", "sub": "alice", "exp": NOW + 60}),
            serde_json::json!({"active": 1, "sub": "alice", "exp": NOW + 60}),
            serde_json::json!({"sub": "alice", "exp": NOW + 60}),
            serde_json::json!({"active": false}),
        ] {
            let err = read_json(&doc, &expect()).unwrap_err();
            assert_eq!(
                err,
                AuthError::InvalidToken(InvalidToken::Inactive),
                "{doc}"
            );
        }
    }

    #[test]
    fn claims_are_checked_like_a_jwts() {
        let aud = ["api".to_owned()];
        let with_aud = Expectations {
            audiences: Some(&aud),
            ..expect()
        };
        let cases = [
            (
                serde_json::json!({"active": true, "sub": "a", "exp": NOW - 60}),
                ErrorCode::TokenExpired,
            ),
            (
                serde_json::json!({"active": true, "sub": "a", "exp": NOW + 60,
                    "iss": "https://evil.example"}),
                ErrorCode::InvalidIssuer,
            ),
            (
                serde_json::json!({"active": true, "sub": "a", "exp": NOW + 60, "aud": "other"}),
                ErrorCode::InvalidAudience,
            ),
            (
                serde_json::json!({"active": true, "sub": "a", "exp": NOW + 60}),
                ErrorCode::InvalidAudience,
            ),
            (
                serde_json::json!({"active": true, "sub": "a", "exp": "soon", "aud": "api"}),
                ErrorCode::InvalidToken,
            ),
            (
                serde_json::json!({"active": true, "sub": "a", "aud": "api"}),
                ErrorCode::InvalidToken,
            ),
            (
                serde_json::json!({"active": true, "exp": NOW + 60, "aud": "api"}),
                ErrorCode::InvalidToken,
            ),
            (
                serde_json::json!({"active": true, "sub": "a", "exp": NOW + 60, "aud": "api",
                    "token_type": "refresh_token"}),
                ErrorCode::InvalidToken,
            ),
        ];
        for (doc, code) in cases {
            let err = read_json(&doc, &with_aud).unwrap_err();
            assert_eq!(err.code(), code, "{doc}");
        }
        let ok = read_json(
            &serde_json::json!({"active": true, "client_id": "svc", "exp": NOW + 60,
                "aud": ["x", "api"], "token_type": "Bearer"}),
            &with_aud,
        )
        .unwrap();
        assert_eq!(ok.subject(), "svc");
    }

    #[test]
    fn a_body_that_is_no_json_object_is_unusable_not_a_refusal() {
        for body in [&b"<html>"[..], b"[]", b"\xff\xfe", b""] {
            assert!(read(body, &expect(), UnixTime::from_secs(NOW)).is_err());
        }
    }
}
