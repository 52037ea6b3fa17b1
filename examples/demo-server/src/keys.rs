//! API key management: create, list, revoke and rotate your own keys (bearer token required).
//!
//! | route | body | answer |
//! |---|---|---|
//! | `POST /api/keys` | `{"name","scopes":[..],"expires_in":seconds?}` | 201 `{"id","api_key","name","scopes","expires_at"}` |
//! | `GET /api/keys` | | 200 `{"keys":[{"id","name","scopes","status","created_at","expires_at","revoked_at","last_used_at","replaced_by"}]}` |
//! | `DELETE /api/keys/{id}` | | 204 (404 unless it is your key) |
//! | `POST /api/keys/{id}/rotate` | `{"grace_seconds":N}` | 201, same shape as creation |
//!
//! - `api_key` (the plaintext, `demo_live_...`) is in the 201 answers and nowhere else: the store
//!   keeps its SHA-256 digest, listings never show either. Answers carrying it are `no-store`.
//! - A key can carry only scopes its creator's token holds (403 `INSUFFICIENT_SCOPE`
//!   otherwise, listing what is missing in `required`); rotating needs them too. Keys carry no
//!   roles.
//! - Times are Unix seconds; `expires_at` is `null` for keys that never expire.
//! - Another user's key id answers 404, exactly like an unknown one.
//! - Errors: 400 `INVALID_REQUEST` (bad JSON or values; the message names the field at fault and
//!   never quotes the input, which may hold a secret pasted in the wrong place), 404 `NOT_FOUND`, 409
//!   `API_KEY_NOT_ACTIVE` (rotating a revoked, expired or already rotated key), 503
//!   `AUTH_BACKEND_UNAVAILABLE`, all as `{"error":{"code","message"}}`.
//!
//! Keys are then accepted on the orders routes (`X-API-Key` header), see [`crate::orders`].
//!
//! Keys are separate credentials: `POST /auth/logout-all` leaves them working unless its body
//! is `{"revoke_api_keys": true}` (see [`crate::tokens`]).

use std::time::Duration;

use auth_axum_extractors::Authenticated;
use auth_axum_extractors::openapi::{self, Access, SecuredRoutes};
use auth_core::ConfigError;
use auth_core::api_key::{ApiKeyError, ApiKeyId, ApiKeyPrefix, ApiKeyRecord, ApiKeys, NewApiKey};
use auth_core::clock::UnixTime;
use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRef, Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use crate::Demo;
use crate::issuers::AccountKeys;

/// The prefix of the demo's keys, checked when the demo is compiled (a `const`: an invalid
/// prefix is a build error, never a run-time panic).
pub const DEMO_KEY_PREFIX: ApiKeyPrefix =
    ApiKeyPrefix::from_static("demo_live").expect("a valid api key prefix");

/// The longest `expires_in` accepted: ten years.
pub const MAX_EXPIRES_IN: u64 = 10 * 365 * 24 * 3600;
/// The longest rotation grace period accepted: thirty days.
pub const MAX_GRACE: u64 = 30 * 24 * 3600;

/// The management routes, behind a required `BearerLayer` (header or access cookie; revoked
/// tokens refused) and, for cookie-authenticated requests, the CSRF check.
///
/// # Errors
///
/// When a layer's configuration is invalid.
pub fn router(demo: &Demo) -> Result<SecuredRoutes, ConfigError> {
    let access = || Access::authenticated(crate::openapi::BEARER_SCHEMES);
    Ok(SecuredRoutes::with_scope_layer(crate::openapi::scope_layer)
        .route("/api/keys", openapi::post(create).get(list), access())?
        .route("/api/keys/{id}", openapi::delete(revoke), access())?
        .route("/api/keys/{id}/rotate", openapi::post(rotate), access())?
        .route_layer(demo.csrf(&[demo.cookies.access_name()])?)
        .route_layer(demo.bearer()?)
        .with_state(KeysState {
            keys: demo.api_keys.clone(),
            accounts: demo.accounts.clone(),
        }))
}

/// The key routes' state: the keys, and whose keys a caller may see
/// ([`AccountKeys::key`]: a provider's `sub` never owns a local account's keys).
#[derive(Clone, Debug)]
struct KeysState {
    keys: ApiKeys,
    accounts: AccountKeys,
}

impl FromRef<KeysState> for ApiKeys {
    fn from_ref(state: &KeysState) -> Self {
        state.keys.clone()
    }
}

impl FromRef<KeysState> for AccountKeys {
    fn from_ref(state: &KeysState) -> Self {
        state.accounts.clone()
    }
}

const CREATE_SHAPE: &str = r#"{"name":"...","scopes":["..."],"expires_in":seconds}"#;
const ROTATE_SHAPE: &str = r#"{"grace_seconds":N}"#;

/// The body of `POST /api/keys`.
struct CreateBody {
    name: String,
    scopes: Vec<String>,
    expires_in: Option<u64>,
}

impl CreateBody {
    /// The body, or the message of the 400 that refuses it.
    fn read(body: Result<Json<Value>, JsonRejection>) -> Result<Self, String> {
        let mut fields = Fields::of(body, &["name", "scopes", "expires_in"], CREATE_SHAPE)?;
        Ok(Self {
            name: fields.string("name")?,
            scopes: fields.strings("scopes")?,
            expires_in: fields.seconds("expires_in")?,
        })
    }
}

/// A JSON object body read field by field. serde's messages quote the offending input (a value,
/// an unknown field's name), and a secret pasted into the wrong field would come back in the
/// answer; these messages (the `Err` of each method) name the field and never show what was
/// sent.
struct Fields(Map<String, Value>);

impl Fields {
    /// The object in `body`, holding no field outside `allowed`.
    fn of(
        body: Result<Json<Value>, JsonRejection>,
        allowed: &[&str],
        shape: &str,
    ) -> Result<Self, String> {
        let not_an_object =
            || format!("the body must be a JSON object {shape} sent as application/json");
        let map = match body {
            Ok(Json(Value::Object(map))) => map,
            Ok(Json(_)) => return Err(not_an_object()),
            Err(e) => {
                tracing::debug!(target: "demo::keys", status = e.status().as_u16(), "malformed body");
                return Err(not_an_object());
            }
        };
        if map.keys().any(|k| !allowed.contains(&k.as_str())) {
            return Err(format!(
                "the body holds a field it may not; expected {shape}"
            ));
        }
        Ok(Self(map))
    }

    /// A required string.
    fn string(&mut self, name: &str) -> Result<String, String> {
        match self.0.remove(name) {
            Some(Value::String(s)) => Ok(s),
            None | Some(Value::Null) => Err(format!("`{name}` is required")),
            Some(_) => Err(format!("`{name}` must be a string")),
        }
    }

    /// An optional array of strings (empty when absent).
    fn strings(&mut self, name: &str) -> Result<Vec<String>, String> {
        let wrong = || format!("`{name}` must be an array of strings");
        match self.0.remove(name) {
            None | Some(Value::Null) => Ok(Vec::new()),
            Some(Value::Array(items)) => items
                .into_iter()
                .map(|v| match v {
                    Value::String(s) => Ok(s),
                    _ => Err(wrong()),
                })
                .collect(),
            Some(_) => Err(wrong()),
        }
    }

    /// An optional whole number of seconds.
    fn seconds(&mut self, name: &str) -> Result<Option<u64>, String> {
        match self.0.remove(name) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => v
                .as_u64()
                .map(Some)
                .ok_or_else(|| format!("`{name}` must be a whole number of seconds (0 or more)")),
        }
    }

    /// A required whole number of seconds.
    fn required_seconds(&mut self, name: &str) -> Result<u64, String> {
        self.seconds(name)?
            .ok_or_else(|| format!("`{name}` is required"))
    }
}

/// `{"error":{"code","message"}}` with `Cache-Control: no-store`.
fn error(status: StatusCode, code: &str, message: &str) -> Response {
    (
        status,
        [(header::CACHE_CONTROL, "no-store")],
        Json(json!({ "error": { "code": code, "message": message } })),
    )
        .into_response()
}

fn bad_request(message: &str) -> Response {
    error(StatusCode::BAD_REQUEST, "INVALID_REQUEST", message)
}

fn from_api_key_error(e: &ApiKeyError) -> Response {
    match e {
        ApiKeyError::NotFound => error(StatusCode::NOT_FOUND, "NOT_FOUND", "no such api key"),
        ApiKeyError::NotActive => error(
            StatusCode::CONFLICT,
            "API_KEY_NOT_ACTIVE",
            "the api key is revoked, expired or already rotated",
        ),
        // The library's messages for these quote the value; the value came from the body.
        ApiKeyError::InvalidScope(_) => bad_request(
            "`scopes` holds a value that is not a scope (RFC 6749 scope tokens: visible ASCII \
             other than `\"` and `\\`, no spaces)",
        ),
        ApiKeyError::InvalidRole(_) => bad_request("a role of the key is not a valid role"),
        ApiKeyError::Store(_) | ApiKeyError::Random(_) => {
            tracing::error!(target: "auth::api_key", error = %e, "api key management failed");
            error(
                StatusCode::SERVICE_UNAVAILABLE,
                "AUTH_BACKEND_UNAVAILABLE",
                "the authentication backend is unavailable",
            )
        }
        other => bad_request(&other.to_string()),
    }
}

/// The scopes in `wanted` that the caller does not hold.
fn missing_scopes(p: &Authenticated, wanted: &[String]) -> Vec<String> {
    wanted.iter().filter(|s| !p.has_scope(s)).cloned().collect()
}

fn not_held(missing: &[String]) -> Response {
    (
        StatusCode::FORBIDDEN,
        [(header::CACHE_CONTROL, "no-store")],
        Json(json!({ "error": {
            "code": "INSUFFICIENT_SCOPE",
            "message": "a key can only carry scopes its creator holds",
            "required": missing,
        }})),
    )
        .into_response()
}

fn secs(t: UnixTime) -> u64 {
    t.as_secs()
}

/// The 201 body for a new key: the only place its plaintext appears.
fn created(record: &ApiKeyRecord, api_key: &str) -> Response {
    (
        StatusCode::CREATED,
        [(header::CACHE_CONTROL, "no-store")],
        Json(json!({
            "id": record.id,
            "api_key": api_key,
            "name": record.name,
            "scopes": record.scopes,
            "expires_at": record.expires_at.map(secs),
        })),
    )
        .into_response()
}

async fn create(
    State(keys): State<ApiKeys>,
    State(accounts): State<AccountKeys>,
    p: Authenticated,
    body: Result<Json<Value>, JsonRejection>,
) -> Response {
    let body = match CreateBody::read(body) {
        Ok(b) => b,
        Err(message) => return bad_request(&message),
    };
    let mut new = NewApiKey::new(accounts.key(&p), body.name).scopes(body.scopes);
    // Malformed input is a 400 before the scope policy is applied.
    if let Err(e) = new.check() {
        return from_api_key_error(&e);
    }
    let missing = missing_scopes(&p, new.requested_scopes());
    if !missing.is_empty() {
        return not_held(&missing);
    }
    match body.expires_in {
        Some(0) => return bad_request("expires_in must be at least 1 second"),
        Some(s) if s > MAX_EXPIRES_IN => {
            return bad_request(&format!(
                "expires_in must be at most {MAX_EXPIRES_IN} seconds"
            ));
        }
        Some(s) => new = new.expires_in(Duration::from_secs(s)),
        None => {}
    }
    match keys.create(new).await {
        Ok(c) => created(&c.record, c.key.expose_secret()),
        Err(e) => from_api_key_error(&e),
    }
}

async fn list(
    State(keys): State<ApiKeys>,
    State(accounts): State<AccountKeys>,
    p: Authenticated,
) -> Response {
    let records = match keys.list(&accounts.key(&p)).await {
        Ok(r) => r,
        Err(e) => return from_api_key_error(&e),
    };
    let now = keys.now();
    let listed: Vec<Value> = records
        .iter()
        .map(|r| {
            json!({
                "id": r.id,
                "name": r.name,
                "scopes": r.scopes,
                "status": r.status(now).as_str(),
                "created_at": secs(r.created_at),
                "expires_at": r.expires_at.map(secs),
                "revoked_at": r.revoked_at.map(secs),
                "last_used_at": r.last_used_at.map(secs),
                "replaced_by": r.replaced_by,
            })
        })
        .collect();
    (
        [(header::CACHE_CONTROL, "no-store")],
        Json(json!({ "keys": listed })),
    )
        .into_response()
}

async fn revoke(
    State(keys): State<ApiKeys>,
    State(accounts): State<AccountKeys>,
    p: Authenticated,
    Path(id): Path<String>,
) -> Response {
    match keys.revoke(&ApiKeyId::from(id), &accounts.key(&p)).await {
        Ok(_) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => from_api_key_error(&e),
    }
}

async fn rotate(
    State(keys): State<ApiKeys>,
    State(accounts): State<AccountKeys>,
    p: Authenticated,
    Path(id): Path<String>,
    body: Result<Json<Value>, JsonRejection>,
) -> Response {
    let grace_seconds = match Fields::of(body, &["grace_seconds"], ROTATE_SHAPE)
        .and_then(|mut f| f.required_seconds("grace_seconds"))
    {
        Ok(g) => g,
        Err(message) => return bad_request(&message),
    };
    if grace_seconds > MAX_GRACE {
        return bad_request(&format!("grace_seconds must be at most {MAX_GRACE}"));
    }
    let id = ApiKeyId::from(id);
    // The replacement carries the old key's scopes: the caller must still hold them all.
    let owner = accounts.key(&p);
    let old = match keys.list(&owner).await {
        Ok(records) => records.into_iter().find(|r| r.id == id),
        Err(e) => return from_api_key_error(&e),
    };
    let Some(old) = old else {
        return from_api_key_error(&ApiKeyError::NotFound);
    };
    let missing = missing_scopes(&p, &old.scopes);
    if !missing.is_empty() {
        return not_held(&missing);
    }
    let grace = Duration::from_secs(grace_seconds);
    match keys.rotate(&id, &owner, grace).await {
        Ok(c) => created(&c.record, c.key.expose_secret()),
        Err(e) => from_api_key_error(&e),
    }
}
