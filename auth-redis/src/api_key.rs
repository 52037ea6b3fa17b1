//! [`RedisApiKeyStore`]: API-key records shared by every instance.

use std::sync::LazyLock;
use std::time::Duration;

use async_trait::async_trait;
use auth_core::api_key::{
    ApiKeyHash, ApiKeyId, ApiKeyRecord, ApiKeyStore, RotateOutcome, Rotation, StoreError,
};
use auth_core::clock::UnixTime;
use redis::{Script, Value};
use serde_json::{Map, Value as Json};

use crate::backend::{Error, RedisBackend, ToArg};
use crate::codec::{millis, parse_time, time20};

static CREATE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(concat!(
        include_str!("lua/api_key_common.lua"),
        include_str!("lua/api_key_create.lua")
    ))
});
static REVOKE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(concat!(
        include_str!("lua/api_key_common.lua"),
        include_str!("lua/api_key_revoke.lua")
    ))
});
static ROTATE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(concat!(
        include_str!("lua/api_key_common.lua"),
        include_str!("lua/api_key_rotate.lua")
    ))
});
static RECORD_USE: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("lua/api_key_record_use.lua")));
static LIST: LazyLock<Script> = LazyLock::new(|| Script::new(include_str!("lua/api_key_list.lua")));

/// How long [`RedisApiKeyStore`] keeps a key after it stopped working (revoked, expired, or
/// past a rotation's grace period) by default: 30 days, so owners still see it listed.
pub const DEFAULT_API_KEY_RETENTION: Duration = Duration::from_secs(30 * 24 * 3600);

/// Record fields whose values are times (20-digit nanoseconds in Redis).
const TIME_FIELDS: [&str; 4] = ["created_at", "expires_at", "revoked_at", "last_used_at"];
/// Record fields whose values are JSON arrays.
const JSON_FIELDS: [&str; 2] = ["scopes", "roles"];

/// An [`ApiKeyStore`] on Redis: a key created, revoked or rotated at one instance is seen by
/// every other at the next request.
///
/// # Cost
///
/// Verification ([`find_by_hash`](ApiKeyStore::find_by_hash)) is **one `HGETALL`** by digest
/// (one round trip, whatever the number of keys). `last_used_at` writes are coalesced by
/// `ApiKeys` (at most one per key per minute per instance) and run off the request path.
///
/// # Keys
///
/// - `<prefix>apikey:hash:<sha256 hex>`: hash, the record (never the key itself: only its
///   digest);
/// - `<prefix>apikey:id:<id>`: the record's digest;
/// - `<prefix>apikey:owner:<owner>`: set of the owner's key ids.
///
/// Creation, revocation, rotation and usage writes are one Lua script each, so every check
/// ("belongs to this owner", "can be rotated", "id and digest are free") and its change happen
/// in one step. A key that stopped working (revoked, expired, or past its rotation grace) is
/// kept for [`DEFAULT_API_KEY_RETENTION`] (30 days) after that, so its owner still sees it
/// listed, then its keys expire. **A key without an expiry that is not revoked has no TTL**:
/// it is a live credential, and deleting it would lock its owner out. Memory is therefore
/// bounded by the live keys (cap them per owner in the application, and give keys an expiry
/// where you can).
///
/// # Failures
///
/// Every operation fails with [`StoreError::Unavailable`] after the backend's timeout;
/// `ApiKeyLayer` answers 503 `AUTH_BACKEND_UNAVAILABLE` (fail closed).
///
/// ```no_run
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use auth_core::api_key::{ApiKeys, NewApiKey};
/// use auth_redis::{RedisApiKeyStore, RedisBackend};
///
/// let redis = RedisBackend::builder("redis://127.0.0.1:6379").build()?;
/// let keys = ApiKeys::builder(RedisApiKeyStore::new(redis)).prefix("acme_live").build()?;
/// let created = keys.create(NewApiKey::new("alice", "ci")).await?;
/// assert!(keys.verify(created.key.expose_secret()).await.is_ok());
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct RedisApiKeyStore {
    redis: RedisBackend,
    retention: Duration,
}

impl RedisApiKeyStore {
    /// A store on `redis`, keeping keys that stopped working for
    /// [`DEFAULT_API_KEY_RETENTION`].
    #[must_use]
    pub fn new(redis: RedisBackend) -> Self {
        Self {
            redis,
            retention: DEFAULT_API_KEY_RETENTION,
        }
    }

    /// How long a key is kept after it stopped working (default 30 days).
    #[must_use]
    pub fn with_retention(mut self, retention: Duration) -> Self {
        self.retention = retention;
        self
    }

    fn record_key(&self, hash: &ApiKeyHash) -> String {
        self.redis.key(&["{apikey}:hash:", &hash.to_hex()])
    }

    fn id_key(&self, id: &ApiKeyId) -> String {
        self.redis.key(&["{apikey}:id:", id.as_str()])
    }

    fn owner_key(&self, owner: &str) -> String {
        self.redis.key(&["{apikey}:owner:", owner])
    }
}

fn unavailable(e: Error) -> StoreError {
    StoreError::Unavailable(e.to_string())
}

/// A record as `field, value, ...` for `HSET`: times as 20-digit nanoseconds, scopes and roles
/// as JSON, `None` fields left out.
pub(crate) fn to_fields(record: &ApiKeyRecord) -> Result<Vec<String>, Error> {
    const OP: &str = "api_keys.encode";
    let Json::Object(map) =
        serde_json::to_value(record).map_err(|e| Error::unexpected(OP, e.to_string()))?
    else {
        return Err(Error::unexpected(OP, "a record is not a JSON object"));
    };
    let mut out = Vec::with_capacity(map.len() * 2);
    for (field, value) in map {
        let text = match value {
            Json::Null => continue,
            Json::String(s) => s,
            Json::Number(n) if TIME_FIELDS.contains(&field.as_str()) => match n.as_u64() {
                Some(nanos) => time20(UnixTime::from_nanos(nanos)),
                None => return Err(Error::unexpected(OP, format!("{field} is not a time"))),
            },
            other => other.to_string(),
        };
        out.push(field);
        out.push(text);
    }
    Ok(out)
}

/// A record from `field, value, ...` as [`to_fields`] wrote it; `None` when there are none.
pub(crate) fn from_fields(
    operation: &'static str,
    flat: &[String],
) -> Result<Option<ApiKeyRecord>, Error> {
    if flat.is_empty() {
        return Ok(None);
    }
    let mut map = Map::new();
    for pair in flat.chunks(2) {
        let [field, value] = pair else {
            return Err(Error::unexpected(operation, "odd number of record fields"));
        };
        let json = if TIME_FIELDS.contains(&field.as_str()) {
            let t = parse_time(value)
                .ok_or_else(|| Error::unexpected(operation, format!("{field} is not a time")))?;
            Json::from(t.as_nanos())
        } else if JSON_FIELDS.contains(&field.as_str()) {
            serde_json::from_str(value)
                .map_err(|e| Error::unexpected(operation, format!("{field}: {e}")))?
        } else {
            Json::String(value.clone())
        };
        map.insert(field.clone(), json);
    }
    for optional in ["expires_at", "revoked_at", "last_used_at", "replaced_by"] {
        map.entry(optional).or_insert(Json::Null);
    }
    serde_json::from_value(Json::Object(map))
        .map(Some)
        .map_err(|e| Error::unexpected(operation, format!("record: {e}")))
}

fn strings(operation: &'static str, v: Value) -> Result<Vec<String>, Error> {
    redis::from_redis_value(v).map_err(|e| Error::unexpected(operation, e.to_string()))
}

#[async_trait]
impl ApiKeyStore for RedisApiKeyStore {
    async fn create(&self, record: ApiKeyRecord) -> Result<(), StoreError> {
        let fields = to_fields(&record).map_err(unavailable)?;
        let record_key = self.record_key(&record.hash);
        let id_key = self.id_key(&record.id);
        let owner_key = self.owner_key(&record.owner);
        let head: [&dyn ToArg; 3] = [
            &self.redis.key(&["{apikey}:"]),
            &time20(record.created_at),
            &millis(self.retention),
        ];
        let mut args: Vec<&dyn ToArg> = head.to_vec();
        args.extend(fields.iter().map(|f| f as &dyn ToArg));
        let r: i64 = self
            .redis
            .script(
                "api_keys.create",
                &CREATE,
                &[&record_key, &id_key, &owner_key],
                &args,
            )
            .await
            .map_err(unavailable)?;
        if r == 0 {
            Ok(())
        } else {
            Err(StoreError::Duplicate)
        }
    }

    async fn find_by_hash(&self, hash: &ApiKeyHash) -> Result<Option<ApiKeyRecord>, StoreError> {
        const OP: &str = "api_keys.find_by_hash";
        let mut cmd = redis::cmd("HGETALL");
        cmd.arg(self.record_key(hash));
        let flat: Vec<String> = self.redis.command(OP, cmd).await.map_err(unavailable)?;
        from_fields(OP, &flat).map_err(unavailable)
    }

    async fn list_by_owner(&self, owner: &str) -> Result<Vec<ApiKeyRecord>, StoreError> {
        const OP: &str = "api_keys.list_by_owner";
        let key = self.owner_key(owner);
        let args: [&dyn ToArg; 1] = [&self.redis.key(&["{apikey}:"])];
        let rows: Vec<Vec<String>> = self
            .redis
            .script(OP, &LIST, &[&key], &args)
            .await
            .map_err(unavailable)?;
        let mut out = Vec::with_capacity(rows.len());
        for row in &rows {
            if let Some(r) = from_fields(OP, row).map_err(unavailable)? {
                out.push(r);
            }
        }
        out.sort_by(|a, b| a.created_at.cmp(&b.created_at).then(a.id.cmp(&b.id)));
        Ok(out)
    }

    async fn revoke(
        &self,
        id: &ApiKeyId,
        owner: &str,
        at: UnixTime,
    ) -> Result<Option<ApiKeyRecord>, StoreError> {
        const OP: &str = "api_keys.revoke";
        let key = self.id_key(id);
        let args: [&dyn ToArg; 4] = [
            &self.redis.key(&["{apikey}:"]),
            &owner,
            &time20(at),
            &millis(self.retention),
        ];
        let flat: Vec<String> = self
            .redis
            .script(OP, &REVOKE, &[&key], &args)
            .await
            .map_err(unavailable)?;
        from_fields(OP, &flat).map_err(unavailable)
    }

    async fn rotate(
        &self,
        id: &ApiKeyId,
        owner: &str,
        rotation: Rotation,
    ) -> Result<RotateOutcome, StoreError> {
        const OP: &str = "api_keys.rotate";
        let old_id_key = self.id_key(id);
        let new_id_key = self.id_key(&rotation.new_id);
        let new_record_key = self.record_key(&rotation.new_hash);
        let args: [&dyn ToArg; 7] = [
            &self.redis.key(&["{apikey}:"]),
            &owner,
            &time20(rotation.now),
            &rotation.new_id.as_str(),
            &rotation.new_hash.to_hex(),
            &time20(rotation.grace_until),
            &millis(self.retention),
        ];
        let reply: Vec<Value> = self
            .redis
            .script(
                OP,
                &ROTATE,
                &[&old_id_key, &new_id_key, &new_record_key],
                &args,
            )
            .await
            .map_err(unavailable)?;
        let mut parts = reply.into_iter();
        let kind: String = parts
            .next()
            .map(redis::from_redis_value)
            .transpose()
            .map_err(|e| unavailable(Error::unexpected(OP, e.to_string())))?
            .unwrap_or_default();
        match kind.as_str() {
            "not_found" => Ok(RotateOutcome::NotFound),
            "not_active" => Ok(RotateOutcome::NotActive),
            "duplicate" => Err(StoreError::Duplicate),
            "rotated" => {
                let mut record = || -> Result<ApiKeyRecord, Error> {
                    let flat = strings(OP, parts.next().unwrap_or(Value::Nil))?;
                    from_fields(OP, &flat)?
                        .ok_or_else(|| Error::unexpected(OP, "a rotated record is missing"))
                };
                let previous = record().map_err(unavailable)?;
                let replacement = record().map_err(unavailable)?;
                Ok(RotateOutcome::Rotated {
                    previous: Box::new(previous),
                    replacement: Box::new(replacement),
                })
            }
            other => Err(unavailable(Error::unexpected(
                OP,
                format!("reply {other:?}"),
            ))),
        }
    }

    async fn record_use(&self, id: &ApiKeyId, at: UnixTime) -> Result<(), StoreError> {
        let key = self.id_key(id);
        let args: [&dyn ToArg; 2] = [&self.redis.key(&["{apikey}:"]), &time20(at)];
        let _: i64 = self
            .redis
            .script("api_keys.record_use", &RECORD_USE, &[&key], &args)
            .await
            .map_err(unavailable)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record() -> ApiKeyRecord {
        serde_json::from_value(serde_json::json!({
            "id": "k1",
            "hash": "ab".repeat(32),
            "name": "ci: \"nightly\"",
            "owner": "alice@example.com",
            "scopes": ["read:orders"],
            "roles": [],
            "created_at": 1_700_000_000_123_456_789u64,
            "expires_at": 1_800_000_000_000_000_000u64,
            "revoked_at": null,
            "last_used_at": null,
            "replaced_by": null,
        }))
        .unwrap()
    }

    #[test]
    fn records_round_trip_through_hash_fields() {
        let r = record();
        let fields = to_fields(&r).unwrap();
        let pairs: Vec<(&str, &str)> = fields
            .chunks(2)
            .map(|p| (p[0].as_str(), p[1].as_str()))
            .collect();
        assert!(pairs.contains(&("created_at", "01700000000123456789")));
        assert!(pairs.contains(&("scopes", "[\"read:orders\"]")));
        assert!(pairs.contains(&("name", "ci: \"nightly\"")));
        assert!(!pairs.iter().any(|(f, _)| *f == "revoked_at"));
        let back = from_fields("test", &fields).unwrap().unwrap();
        assert_eq!(back, r);
        assert_eq!(from_fields("test", &[]).unwrap(), None);
    }

    #[test]
    fn unreadable_records_are_errors_not_panics() {
        let odd = vec!["id".to_owned()];
        assert!(from_fields("test", &odd).is_err());
        let bad_time = vec!["created_at".to_owned(), "soon".to_owned()];
        assert!(from_fields("test", &bad_time).is_err());
        let missing = vec!["id".to_owned(), "k".to_owned()];
        assert!(from_fields("test", &missing).is_err());
    }
}
