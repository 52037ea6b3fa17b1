//! The token endpoint (client credentials, authorization code with PKCE) and the
//! authorization endpoint.

use std::collections::HashMap;
use std::time::Duration;

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::{Value, json};

use super::server::json_response;
use super::{Client, PendingCode, State, lock};

/// An OAuth 2.0 error answer (RFC 6749 section 5.2).
fn oauth_error(status: u16, error: &str, description: &str) -> Response {
    let mut res = json_response(
        status,
        &json!({ "error": error, "error_description": description }),
    );
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

/// An OAuth error not yet turned into a response: status, `error`, `error_description`.
struct Refusal(u16, &'static str, &'static str);

impl Refusal {
    fn response(&self) -> Response {
        oauth_error(self.0, self.1, self.2)
    }
}

/// Form parameters; `None` when one is repeated (RFC 6749 section 3.1: "parameters MUST NOT
/// be included more than once").
fn params(raw: &[u8]) -> Option<HashMap<String, String>> {
    let mut out = HashMap::new();
    for (k, v) in form_urlencoded::parse(raw) {
        if out.insert(k.into_owned(), v.into_owned()).is_some() {
            return None;
        }
    }
    Some(out)
}

/// One form-urlencoded component, decoded (RFC 6749 section 2.3.1 encodes the Basic
/// credentials this way).
fn form_decode(s: &str) -> String {
    form_urlencoded::parse(format!("x={s}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

/// `client_secret_basic` or `client_secret_post`, never both.
fn client_credentials(
    headers: &HeaderMap,
    p: &HashMap<String, String>,
) -> Result<(String, String), Refusal> {
    let basic = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|b| STANDARD.decode(b.trim()).ok())
        .and_then(|raw| String::from_utf8(raw).ok())
        .and_then(|s| {
            s.split_once(':')
                .map(|(id, secret)| (form_decode(id), form_decode(secret)))
        });
    let post = match (p.get("client_id"), p.get("client_secret")) {
        (Some(id), Some(secret)) => Some((id.clone(), secret.clone())),
        _ => None,
    };
    match (basic, post) {
        (Some(b), None) => Ok(b),
        (None, Some(p)) => Ok(p),
        (Some(_), Some(_)) => Err(Refusal(
            400,
            "invalid_request",
            "more than one client authentication method",
        )),
        (None, None) => Err(Refusal(401, "invalid_client", "no client authentication")),
    }
}

fn authenticate(state: &State, id: &str, secret: &str) -> Result<Client, Refusal> {
    let clients = lock(&state.clients);
    match clients.get(id) {
        Some(c)
            if auth_core::constant_time::secrets_equal(c.secret.as_bytes(), secret.as_bytes()) =>
        {
            Ok(c.clone())
        }
        _ => Err(Refusal(
            401,
            "invalid_client",
            "unknown client or wrong secret",
        )),
    }
}

pub(super) fn token(state: &State, headers: &HeaderMap, body: &[u8]) -> Response {
    let Some(p) = params(body) else {
        return oauth_error(400, "invalid_request", "a parameter is repeated");
    };
    let (id, secret) = match client_credentials(headers, &p) {
        Ok(c) => c,
        Err(r) => return r.response(),
    };
    let client = match authenticate(state, &id, &secret) {
        Ok(c) => c,
        Err(r) => return r.response(),
    };
    match p.get("grant_type").map(String::as_str) {
        Some("client_credentials") => client_credentials_grant(state, &id, &client, &p),
        Some("authorization_code") => code_grant(state, &id, &p),
        Some(_) => oauth_error(400, "unsupported_grant_type", "grant type not supported"),
        None => oauth_error(400, "invalid_request", "grant_type is missing"),
    }
}

fn lifetime(state: &State) -> Duration {
    Duration::from_secs(state.expires_in.load(std::sync::atomic::Ordering::SeqCst))
}

fn token_response(mut body: serde_json::Map<String, Value>) -> Response {
    body.insert("token_type".into(), "Bearer".into());
    let mut res = json_response(200, &Value::Object(body));
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

fn client_credentials_grant(
    state: &State,
    id: &str,
    client: &Client,
    p: &HashMap<String, String>,
) -> Response {
    let requested: Vec<String> = p
        .get("scope")
        .map(|s| {
            s.split(' ')
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    if let Some(allowed) = &client.scopes
        && requested.iter().any(|s| !allowed.contains(s))
    {
        return oauth_error(400, "invalid_scope", "a requested scope is not allowed");
    }
    let lifetime = lifetime(state);
    let mut builder = state
        .authority()
        .token()
        .subject(id)
        .claim("client_id", id)
        .typ("at+jwt")
        .expires_in(lifetime);
    if !requested.is_empty() {
        builder = builder.scopes(requested.iter().cloned());
    }
    let mut body = serde_json::Map::new();
    body.insert("access_token".into(), builder.sign().into());
    body.insert("expires_in".into(), lifetime.as_secs().into());
    if !requested.is_empty() {
        body.insert("scope".into(), requested.join(" ").into());
    }
    token_response(body)
}

fn code_grant(state: &State, id: &str, p: &HashMap<String, String>) -> Response {
    let invalid_grant = |why: &str| oauth_error(400, "invalid_grant", why);
    // One use only: the code is gone whatever the outcome.
    let Some(pending) = p
        .get("code")
        .and_then(|c| lock(&state.codes).remove(c.as_str()))
    else {
        return invalid_grant("unknown or used authorization code");
    };
    if pending.client_id != id {
        return invalid_grant("the code was issued to another client");
    }
    if p.get("redirect_uri") != Some(&pending.redirect_uri) {
        return invalid_grant("redirect_uri differs from the authorization request");
    }
    let Some(verifier) = p.get("code_verifier") else {
        return invalid_grant("code_verifier is missing");
    };
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, verifier.as_bytes());
    if URL_SAFE_NO_PAD.encode(digest.as_ref()) != pending.code_challenge {
        return invalid_grant("code_verifier does not match the code_challenge");
    }
    let lifetime = lifetime(state);
    let authority = state.authority();
    let mut id_token = authority
        .token()
        .subject(pending.subject.as_str())
        .audience(id)
        .claim("azp", id)
        .claim("auth_time", state_now(state))
        .expires_in(lifetime);
    if let Some(nonce) = &pending.nonce {
        id_token = id_token.claim("nonce", nonce.as_str());
    }
    for (k, v) in pending.claims {
        id_token = id_token.claim(k, v);
    }
    let access_token = authority
        .token()
        .subject(pending.subject.as_str())
        .claim("client_id", id)
        .typ("at+jwt")
        .expires_in(lifetime)
        .scopes(["openid"]);
    let mut body = serde_json::Map::new();
    body.insert("access_token".into(), access_token.sign().into());
    body.insert("id_token".into(), id_token.sign().into());
    body.insert("expires_in".into(), lifetime.as_secs().into());
    body.insert("scope".into(), "openid".into());
    token_response(body)
}

fn state_now(state: &State) -> u64 {
    use auth_core::clock::Clock as _;
    state.clock.now().as_secs()
}

/// A random authorization code.
fn new_code() -> String {
    let mut raw = [0u8; 24];
    // A failing random source leaves zeros: codes are still unique per request in practice
    // only if it works, so refuse rather than hand out a guessable code.
    if aws_lc_rs::rand::fill(&mut raw).is_err() {
        return String::new();
    }
    URL_SAFE_NO_PAD.encode(raw)
}

pub(super) fn authorize(state: &State, query: &str) -> Response {
    let Some(p) = params(query.as_bytes()) else {
        return oauth_error(400, "invalid_request", "a parameter is repeated");
    };
    let client_id = p.get("client_id").cloned().unwrap_or_default();
    let redirect_uri = p.get("redirect_uri").cloned().unwrap_or_default();
    let registered = lock(&state.clients)
        .get(&client_id)
        .is_some_and(|c| c.redirect_uris.contains(&redirect_uri));
    if !registered {
        // Never redirect to an unregistered URI (RFC 6749 section 4.1.2.1).
        return oauth_error(400, "invalid_request", "unknown client or redirect_uri");
    }
    let state_param = p.get("state").cloned();
    let redirect = |pairs: &[(&str, &str)]| {
        let mut q = form_urlencoded::Serializer::new(String::new());
        for (k, v) in pairs {
            q.append_pair(k, v);
        }
        if let Some(s) = &state_param {
            q.append_pair("state", s);
        }
        q.append_pair("iss", &state.issuer);
        let sep = if redirect_uri.contains('?') { '&' } else { '?' };
        let location = format!("{redirect_uri}{sep}{}", q.finish());
        let mut res = Response::new(axum::body::Body::empty());
        *res.status_mut() = StatusCode::FOUND;
        if let Ok(v) = HeaderValue::from_str(&location) {
            res.headers_mut().insert(header::LOCATION, v);
        }
        res
    };
    if p.get("response_type").map(String::as_str) != Some("code") {
        return redirect(&[("error", "unsupported_response_type")]);
    }
    let challenge = match (
        p.get("code_challenge"),
        p.get("code_challenge_method").map(String::as_str),
    ) {
        (Some(c), Some("S256")) if !c.is_empty() => c.clone(),
        _ => return redirect(&[("error", "invalid_request")]),
    };
    let code = new_code();
    if code.is_empty() {
        return redirect(&[("error", "server_error")]);
    }
    let (subject, claims) = lock(&state.user).clone();
    lock(&state.codes).insert(
        code.clone(),
        PendingCode {
            client_id,
            redirect_uri: redirect_uri.clone(),
            code_challenge: challenge,
            nonce: p.get("nonce").cloned(),
            subject,
            claims,
        },
    );
    redirect(&[("code", &code)])
}
