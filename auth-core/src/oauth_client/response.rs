//! Reading a token endpoint's answer (RFC 6749 sections 5.1 and 5.2) and deciding the token's
//! lifetime.

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value};

use super::error::TokenError;
use crate::clock::UnixTime;
use crate::jwks::HttpResponse;

/// Shortest lifetime a token is given, whatever the server says (10 s).
pub const MIN_TOKEN_LIFETIME: Duration = Duration::from_secs(10);
/// Longest lifetime a token is given, whatever the server says (24 h).
pub const MAX_TOKEN_LIFETIME: Duration = Duration::from_secs(24 * 60 * 60);
/// Lifetime of a token whose response gives no usable `expires_in` and that is not a JWT with
/// an `exp` (5 min).
pub const DEFAULT_TOKEN_LIFETIME: Duration = Duration::from_secs(5 * 60);
/// Longest access token accepted (16 KiB).
pub const MAX_TOKEN_LEN: usize = 16 * 1024;

/// Where a token's lifetime came from (for logs).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum LifetimeSource {
    ExpiresIn,
    JwtExp,
    /// Both were present; the shorter one was taken.
    ExpiresInAndJwtExp,
    Default,
}

impl LifetimeSource {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::ExpiresIn => "expires_in",
            Self::JwtExp => "jwt_exp",
            Self::ExpiresInAndJwtExp => "min(expires_in, jwt_exp)",
            Self::Default => "default",
        }
    }
}

/// A token response that passed every check.
#[derive(Debug)]
pub(crate) struct Issued {
    pub(crate) token: String,
    pub(crate) lifetime: Duration,
    pub(crate) source: LifetimeSource,
    pub(crate) scope: Option<String>,
}

/// `expires_in` as a positive number of seconds: a JSON number, or a string holding one.
/// Zero, negative, non-numeric and non-finite values are `None`.
fn expires_in(value: Option<&Value>) -> Option<f64> {
    let secs = match value? {
        Value::Number(n) => n.as_f64()?,
        Value::String(s) => s.trim().parse::<f64>().ok()?,
        _ => return None,
    };
    (secs.is_finite() && secs > 0.0).then_some(secs)
}

/// The `exp` of a JWT access token, if the token is a JWT whose payload has a numeric `exp`.
/// The token is not verified: the result only shortens how long it is cached.
fn jwt_exp(token: &str) -> Option<f64> {
    let mut parts = token.split('.');
    let (_header, payload, _sig) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let bytes = URL_SAFE_NO_PAD.decode(payload).ok()?;
    let Value::Object(claims) = serde_json::from_slice::<Value>(&bytes).ok()? else {
        return None;
    };
    claims.get("exp")?.as_f64().filter(|e| e.is_finite())
}

fn secs_to_duration(secs: f64) -> Duration {
    if secs >= MAX_TOKEN_LIFETIME.as_secs_f64() {
        MAX_TOKEN_LIFETIME
    } else if secs <= 0.0 {
        Duration::ZERO
    } else {
        Duration::from_secs_f64(secs)
    }
}

/// The lifetime: `expires_in` when usable, the JWT's `exp` (counted from `requested_at`) when
/// the token is a JWT, the shorter of the two when both are there, else `default`; clamped to
/// [`MIN_TOKEN_LIFETIME`] ..= [`MAX_TOKEN_LIFETIME`].
pub(crate) fn lifetime(
    expires_in_field: Option<&Value>,
    token: &str,
    requested_at: UnixTime,
    default: Duration,
) -> (Duration, LifetimeSource) {
    let from_field = expires_in(expires_in_field).map(secs_to_duration);
    let from_jwt = jwt_exp(token).map(|exp| secs_to_duration(exp - requested_at.as_secs_f64()));
    let (lifetime, source) = match (from_field, from_jwt) {
        (Some(f), Some(j)) => (f.min(j), LifetimeSource::ExpiresInAndJwtExp),
        (Some(f), None) => (f, LifetimeSource::ExpiresIn),
        (None, Some(j)) => (j, LifetimeSource::JwtExp),
        (None, None) => (default, LifetimeSource::Default),
    };
    (
        lifetime.clamp(MIN_TOKEN_LIFETIME, MAX_TOKEN_LIFETIME),
        source,
    )
}

/// At most 200 characters of server-supplied text, without control characters.
fn sanitize(text: &str) -> String {
    text.chars().filter(|c| !c.is_control()).take(200).collect()
}

fn string_field(doc: &Map<String, Value>, name: &str) -> Option<String> {
    doc.get(name).and_then(Value::as_str).map(sanitize)
}

/// Reads a token endpoint response.
pub(crate) fn parse(
    response: &HttpResponse,
    requested_at: UnixTime,
    default_lifetime: Duration,
) -> Result<Issued, TokenError> {
    let doc = match serde_json::from_slice::<Value>(&response.body) {
        Ok(Value::Object(doc)) => Some(doc),
        _ => None,
    };
    if response.status != 200 {
        return Err(error_response(response.status, doc.as_ref()));
    }
    let doc = doc.ok_or_else(|| TokenError::Malformed("body is not a json object".into()))?;
    let token = doc
        .get("access_token")
        .and_then(Value::as_str)
        .ok_or_else(|| TokenError::Malformed("no access_token string".into()))?;
    if token.is_empty() || token.len() > MAX_TOKEN_LEN {
        return Err(TokenError::Malformed(format!(
            "access_token length {} is outside 1..={MAX_TOKEN_LEN}",
            token.len()
        )));
    }
    // Visible ASCII without spaces: it goes into an Authorization header as is.
    if !token.bytes().all(|b| (0x21..=0x7e).contains(&b)) {
        return Err(TokenError::Malformed(
            "access_token contains characters not allowed in a bearer token".into(),
        ));
    }
    match doc.get("token_type").and_then(Value::as_str) {
        Some(t) if t.eq_ignore_ascii_case("bearer") => {}
        Some(t) => return Err(TokenError::UnsupportedTokenType(Some(sanitize(t)))),
        None => return Err(TokenError::UnsupportedTokenType(None)),
    }
    let (lifetime, source) = lifetime(doc.get("expires_in"), token, requested_at, default_lifetime);
    Ok(Issued {
        token: token.to_owned(),
        lifetime,
        source,
        scope: string_field(&doc, "scope"),
    })
}

/// An error answer: an OAuth error object (RFC 6749 section 5.2) or just a status.
fn error_response(status: u16, doc: Option<&Map<String, Value>>) -> TokenError {
    let error = doc.and_then(|d| d.get("error")).and_then(Value::as_str);
    let Some(error) = error.filter(|_| (400..500).contains(&status)) else {
        return TokenError::Status { status };
    };
    let description = doc.and_then(|d| string_field(d, "error_description"));
    match error {
        "invalid_client" => TokenError::InvalidClient { description },
        "invalid_scope" => TokenError::InvalidScope { description },
        "unauthorized_client" => TokenError::UnauthorizedClient { description },
        other => TokenError::Rejected {
            status,
            error: sanitize(other),
            description,
        },
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const T0: UnixTime = UnixTime::from_secs(1_700_000_000);

    fn ok(body: Value) -> Result<Issued, TokenError> {
        parse(
            &HttpResponse::new(200, body.to_string()),
            T0,
            DEFAULT_TOKEN_LIFETIME,
        )
    }

    fn life(expires_in: Value) -> Duration {
        let mut body = json!({"access_token": "opaque-token", "token_type": "Bearer"});
        if !expires_in.is_null() {
            body["expires_in"] = expires_in;
        }
        ok(body).unwrap().lifetime
    }

    fn jwt(exp: Value) -> String {
        format!(
            "{}.{}.c2ln",
            URL_SAFE_NO_PAD.encode(r#"{"alg":"RS256"}"#),
            URL_SAFE_NO_PAD.encode(json!({"sub": "svc", "exp": exp}).to_string())
        )
    }

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    #[test]
    fn numeric_expires_in_is_used() {
        assert_eq!(life(json!(3600)), secs(3600));
        assert_eq!(life(json!(90.5)), Duration::from_secs_f64(90.5));
    }

    // Issue 13: every `expires_in` oddity is handled.
    #[test]
    fn a_numeric_string_expires_in_is_accepted() {
        assert_eq!(life(json!("1800")), secs(1800));
        assert_eq!(life(json!(" 120 ")), secs(120));
    }

    #[test]
    fn missing_zero_negative_and_non_numeric_expires_in_fall_back_to_five_minutes() {
        for v in [
            Value::Null,
            json!(0),
            json!(-30),
            json!("soon"),
            json!(""),
            json!(true),
            json!([60]),
            json!({"secs": 60}),
        ] {
            assert_eq!(life(v.clone()), DEFAULT_TOKEN_LIFETIME, "{v}");
        }
    }

    #[test]
    fn absurd_expires_in_is_clamped_to_the_bounds() {
        assert_eq!(life(json!(1e300)), MAX_TOKEN_LIFETIME);
        assert_eq!(life(json!(u64::MAX)), MAX_TOKEN_LIFETIME);
        assert_eq!(life(json!("99999999999999999999")), MAX_TOKEN_LIFETIME);
        assert_eq!(life(json!(1)), MIN_TOKEN_LIFETIME);
        assert_eq!(life(json!(0.001)), MIN_TOKEN_LIFETIME);
    }

    #[test]
    fn without_usable_expires_in_a_jwt_exp_decides() {
        let exp = T0.as_secs() + 900;
        let r = ok(json!({"access_token": jwt(json!(exp)), "token_type": "bearer"})).unwrap();
        assert_eq!(r.lifetime, secs(900));
        assert_eq!(r.source, LifetimeSource::JwtExp);
        let r =
            ok(json!({"access_token": jwt(json!(exp)), "token_type": "Bearer", "expires_in": "x"}))
                .unwrap();
        assert_eq!(r.lifetime, secs(900));
    }

    #[test]
    fn expires_in_longer_than_the_jwt_exp_is_cut_to_the_exp() {
        let exp = T0.as_secs() + 300;
        let r = ok(
            json!({"access_token": jwt(json!(exp)), "token_type": "Bearer", "expires_in": 3600}),
        )
        .unwrap();
        assert_eq!(r.lifetime, secs(300));
        assert_eq!(r.source, LifetimeSource::ExpiresInAndJwtExp);
    }

    #[test]
    fn a_jwt_with_a_past_or_odd_exp_gets_the_minimum_or_the_default() {
        let past =
            ok(json!({"access_token": jwt(json!(T0.as_secs() - 10)), "token_type": "Bearer"}))
                .unwrap();
        assert_eq!(past.lifetime, MIN_TOKEN_LIFETIME);
        let stringy =
            ok(json!({"access_token": jwt(json!("later")), "token_type": "Bearer"})).unwrap();
        assert_eq!(stringy.lifetime, DEFAULT_TOKEN_LIFETIME);
    }

    #[test]
    fn token_type_must_be_bearer_in_any_case() {
        for t in ["Bearer", "bearer", "BEARER"] {
            assert!(
                ok(json!({"access_token": "a", "token_type": t})).is_ok(),
                "{t}"
            );
        }
        assert_eq!(
            ok(json!({"access_token": "a", "token_type": "DPoP"})).unwrap_err(),
            TokenError::UnsupportedTokenType(Some("DPoP".into()))
        );
        assert_eq!(
            ok(json!({"access_token": "a"})).unwrap_err(),
            TokenError::UnsupportedTokenType(None)
        );
    }

    #[test]
    fn tokens_that_cannot_go_into_a_header_are_refused() {
        for t in ["", "has space", "line\r\nbreak", "ünicode"] {
            let e = ok(json!({"access_token": t, "token_type": "Bearer"})).unwrap_err();
            assert_eq!(e.class(), "malformed_response", "{t:?}");
        }
        let long = "a".repeat(MAX_TOKEN_LEN + 1);
        assert!(ok(json!({"access_token": long, "token_type": "Bearer"})).is_err());
        assert!(ok(json!({"access_token": 42, "token_type": "Bearer"})).is_err());
        let not_json = parse(
            &HttpResponse::new(200, "<html>"),
            T0,
            DEFAULT_TOKEN_LIFETIME,
        );
        assert_eq!(not_json.unwrap_err().class(), "malformed_response");
    }

    #[test]
    fn oauth_errors_map_to_typed_variants() {
        let err = |status: u16, body: Value| {
            parse(
                &HttpResponse::new(status, body.to_string()),
                T0,
                DEFAULT_TOKEN_LIFETIME,
            )
            .unwrap_err()
        };
        assert_eq!(
            err(
                401,
                json!({"error": "invalid_client", "error_description": "bad\nsecret"})
            ),
            TokenError::InvalidClient {
                description: Some("badsecret".into())
            }
        );
        assert_eq!(
            err(400, json!({"error": "invalid_scope"})),
            TokenError::InvalidScope { description: None }
        );
        assert_eq!(
            err(400, json!({"error": "unauthorized_client"})),
            TokenError::UnauthorizedClient { description: None }
        );
        assert_eq!(
            err(400, json!({"error": "invalid_target"})).class(),
            "token_request_rejected"
        );
        assert_eq!(
            err(503, json!({"error": "temporarily_unavailable"})),
            TokenError::Status { status: 503 }
        );
        assert_eq!(err(404, json!("nope")), TokenError::Status { status: 404 });
    }
}
