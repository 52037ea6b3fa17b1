//! [`assert_rejected`]: a rejection checked the way a client sees it: status,
//! `WWW-Authenticate` and the JSON code, together.

use auth_core::ErrorCode;
use http::header::WWW_AUTHENTICATE;
use http::{HeaderMap, Response};
use http_body::Body;
use http_body_util::BodyExt as _;
use serde_json::Value;

/// Asserts that `response` is the layer's rejection with `code`, and returns its JSON body for
/// further checks:
///
/// - the status is [`ErrorCode::http_status`];
/// - for codes with a challenge ([`ErrorCode::has_challenge`]), a `WWW-Authenticate` header is
///   present and names the RFC 6750 `error` ([`ErrorCode::bearer_error`]) when the code has
///   one, and none otherwise (e.g. `MISSING_CREDENTIALS`); for codes without, no challenge;
/// - the body is JSON whose `error.code` is [`ErrorCode::as_str`].
///
/// Works with any body type (axum's `Body`, `Full<Bytes>`, ...).
///
/// # Panics
///
/// When any of the above does not hold (it is an assertion), or the body cannot be read.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// use auth_core::ErrorCode;
/// use auth_test::assert_rejected;
///
/// let response = http::Response::builder()
///     .status(401)
///     .header("www-authenticate", r#"Bearer realm="api", error="invalid_token", error_description="the access token has expired""#)
///     .body(http_body_util::Full::new(bytes::Bytes::from_static(
///         br#"{"error":{"code":"TOKEN_EXPIRED","message":"the access token has expired"}}"#,
///     )))
///     .unwrap();
/// let body = assert_rejected(response, ErrorCode::TokenExpired).await;
/// assert_eq!(body["error"]["message"], "the access token has expired");
/// # }
/// ```
#[allow(clippy::panic)] // An assertion helper: panicking is how it reports a failure.
pub async fn assert_rejected<B>(response: Response<B>, code: ErrorCode) -> Value
where
    B: Body,
    B::Error: std::fmt::Debug,
{
    let (parts, body) = response.into_parts();
    let bytes = body
        .collect()
        .await
        .unwrap_or_else(|e| panic!("the response body could not be read: {e:?}"))
        .to_bytes();
    assert_rejected_parts(parts.status.as_u16(), &parts.headers, &bytes, code)
}

/// [`assert_rejected`] on a response already taken apart: status, headers and body bytes.
///
/// # Panics
///
/// When the response is not the rejection with `code`.
#[allow(clippy::panic)] // An assertion helper: panicking is how it reports a failure.
pub fn assert_rejected_parts(
    status: u16,
    headers: &HeaderMap,
    body: &[u8],
    code: ErrorCode,
) -> Value {
    let json: Value = serde_json::from_slice(body).unwrap_or_else(|_| {
        panic!(
            "expected a JSON rejection with code {code}, got status {status} and body {:?}",
            String::from_utf8_lossy(body)
        )
    });
    let got = json
        .get("error")
        .and_then(|e| e.get("code"))
        .and_then(Value::as_str);
    assert_eq!(
        got,
        Some(code.as_str()),
        "wrong error code (status {status}, body {json})"
    );
    assert_eq!(
        status,
        code.http_status(),
        "wrong status for {code} (body {json})"
    );
    let challenges: Vec<&str> = headers
        .get_all(WWW_AUTHENTICATE)
        .iter()
        .map(|v| {
            v.to_str()
                .unwrap_or_else(|_| panic!("WWW-Authenticate is not text: {v:?}"))
        })
        .collect();
    if code.has_challenge() {
        assert!(
            !challenges.is_empty(),
            "{code} must come with a WWW-Authenticate challenge"
        );
        for challenge in &challenges {
            match code.bearer_error() {
                Some(error) => assert!(
                    challenge.contains(&format!("error=\"{error}\"")),
                    "the challenge for {code} must name error=\"{error}\": {challenge}"
                ),
                None => assert!(
                    !challenge.contains("error="),
                    "the challenge for {code} must name no error: {challenge}"
                ),
            }
        }
    } else {
        assert!(
            challenges.is_empty(),
            "{code} carries no challenge, got {challenges:?}"
        );
    }
    json
}
