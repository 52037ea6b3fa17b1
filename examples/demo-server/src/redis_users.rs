//! The demo's user accounts in Redis, so a user registered through one instance logs in
//! through another.
//!
//! Key layout (under the demo's Redis prefix, `auth-demo:` by default):
//!
//! | key | value | TTL |
//! |---|---|---|
//! | `<prefix>{user}:id:<id>` | JSON `{"id","email","password_hash","created_at"}` (`email` and `password_hash` `null` when absent) | none |
//! | `<prefix>{user}:email:<normalized email>` | the id; only for accounts with a password (their login email) | none |
//!
//! The hash tag `{user}` keeps both keys of an account in one Redis Cluster slot, so the
//! creation script (which writes both) runs in cluster mode too (`REDIS_CLUSTER_URLS`).
//! Accounts created by a provider sign-in have no password and no `{user}:email:` key: their
//! email is for display, not a login name (see [`crate::user_store`]).
//!
//! Accounts are durable data, so unlike the authentication state they carry no TTL (as with
//! API keys that never expire, deleting a live account would lock its owner out). Creation is
//! one Lua script (email uniqueness is checked and both keys are written atomically); every
//! operation is bounded by the same timeout as the `auth-redis` stores and fails with a
//! [`StoreError`] (503 for the caller) rather than hanging.

use std::fmt;
use std::time::Duration;

use async_trait::async_trait;
use auth_core::clock::UnixTime;
use auth_core::store::StoreError;
use auth_redis::{RedisBackend, RedisConnection};
use serde_json::{Value, json};

use crate::users::{CreateOutcome, PasswordHash, UserRecord, UserStore};

/// KEYS[1] the id key, KEYS[2] (accounts with a password only) the login-email key; ARGV[1]
/// the record, ARGV[2] the id.
const CREATE: &str = r"
if redis.call('EXISTS', KEYS[1]) == 1 then
  return 0
end
if #KEYS == 2 and redis.call('EXISTS', KEYS[2]) == 1 then
  return 0
end
redis.call('SET', KEYS[1], ARGV[1])
if #KEYS == 2 then
  redis.call('SET', KEYS[2], ARGV[2])
end
return 1
";

/// [`UserStore`] on Redis.
#[derive(Clone)]
pub struct RedisUserStore {
    conn: RedisConnection,
    prefix: String,
    timeout: Duration,
    create: redis::Script,
}

impl fmt::Debug for RedisUserStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisUserStore")
            .field("prefix", &self.prefix)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl RedisUserStore {
    /// A store on the connection of `redis` (the demo's `REDIS_URL` or
    /// `REDIS_CLUSTER_URLS`, plain or TLS), under `redis`'s prefix. Does not wait for Redis:
    /// while it is down, operations fail within `redis`'s timeout and the connection is
    /// re-established in the background.
    #[must_use]
    pub fn new(redis: &RedisBackend) -> Self {
        Self {
            conn: redis.connection(),
            prefix: redis.prefix().to_owned(),
            timeout: redis.timeout(),
            create: redis::Script::new(CREATE),
        }
    }

    fn email_key(&self, email: &str) -> String {
        format!("{}{{user}}:email:{email}", self.prefix)
    }

    fn id_key(&self, id: &str) -> String {
        format!("{}{{user}}:id:{id}", self.prefix)
    }

    async fn bounded<T>(
        &self,
        operation: &'static str,
        fut: impl Future<Output = redis::RedisResult<T>>,
    ) -> Result<T, StoreError> {
        match tokio::time::timeout(self.timeout, fut).await {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => Err(StoreError::with_source(
                format!("user store: {operation}"),
                e,
            )),
            Err(_) => Err(StoreError::new(format!(
                "user store: {operation} timed out after {:?}",
                self.timeout
            ))),
        }
    }

    async fn get(
        &self,
        operation: &'static str,
        key: String,
    ) -> Result<Option<String>, StoreError> {
        let mut conn = self.conn.clone();
        self.bounded(operation, async move {
            redis::cmd("GET").arg(key).query_async(&mut conn).await
        })
        .await
    }
}

fn encode(user: &UserRecord) -> String {
    json!({
        "id": user.id,
        "email": user.email,
        "password_hash": user.password_hash.as_ref().map(PasswordHash::as_str),
        "created_at": user.created_at.as_nanos(),
    })
    .to_string()
}

fn decode(json: &str) -> Result<UserRecord, StoreError> {
    let bad = || StoreError::new("user store: malformed user record");
    let v: Value = serde_json::from_str(json).map_err(|_| bad())?;
    let text = |k: &str| {
        v.get(k)
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(bad)
    };
    // A string, or null / absent.
    let optional = |k: &str| match v.get(k) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(bad()),
    };
    Ok(UserRecord {
        id: text("id")?,
        email: optional("email")?,
        password_hash: optional("password_hash")?.map(PasswordHash::new),
        created_at: UnixTime::from_nanos(
            v.get("created_at")
                .and_then(Value::as_u64)
                .ok_or_else(bad)?,
        ),
    })
}

#[async_trait]
impl UserStore for RedisUserStore {
    async fn create_if_absent(&self, user: UserRecord) -> Result<CreateOutcome, StoreError> {
        let mut invocation = self.create.prepare_invoke();
        invocation.key(self.id_key(&user.id));
        if let Some(email) = user.login_email() {
            invocation.key(self.email_key(email));
        }
        invocation.arg(encode(&user)).arg(&user.id);
        let mut conn = self.conn.clone();
        let created: i64 = self
            .bounded(
                "create",
                async move { invocation.invoke_async(&mut conn).await },
            )
            .await?;
        Ok(if created == 1 {
            CreateOutcome::Created
        } else {
            CreateOutcome::EmailTaken
        })
    }

    async fn find_by_email(&self, email: &str) -> Result<Option<UserRecord>, StoreError> {
        let Some(id) = self.get("find by email", self.email_key(email)).await? else {
            return Ok(None);
        };
        Ok(self
            .find_by_id(&id)
            .await?
            .filter(|u| u.login_email() == Some(email)))
    }

    async fn find_by_id(&self, id: &str) -> Result<Option<UserRecord>, StoreError> {
        self.get("find by id", self.id_key(id))
            .await?
            .map(|json| decode(&json))
            .transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(id: &str, email: &str) -> UserRecord {
        UserRecord {
            id: id.to_owned(),
            email: Some(email.to_owned()),
            password_hash: Some(PasswordHash::new(
                "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA",
            )),
            created_at: UnixTime::from_secs(1_800_000_000),
        }
    }

    fn external(id: &str, email: Option<&str>) -> UserRecord {
        UserRecord {
            id: id.to_owned(),
            email: email.map(str::to_owned),
            password_hash: None,
            created_at: UnixTime::from_secs(1_800_000_000),
        }
    }

    #[test]
    fn records_round_trip_through_json() {
        let u = user("usr_1", "ann@example.com");
        assert_eq!(decode(&encode(&u)).unwrap(), u);
        for e in [
            external("usr_2", None),
            external("usr_3", Some("a@b.example")),
        ] {
            assert_eq!(decode(&encode(&e)).unwrap(), e);
        }
        assert!(decode("{}").is_err());
        assert!(decode(r#"{"id":"x","email":1,"password_hash":null,"created_at":1}"#).is_err());
    }

    /// Against the shared Redis (`REDIS_URL`); under `CI=true` a missing Redis fails the test.
    #[tokio::test]
    async fn create_is_atomic_and_lookups_find_the_user() {
        let Ok(url) = std::env::var("REDIS_URL") else {
            assert!(
                std::env::var("CI").is_err(),
                "CI=true but REDIS_URL is not set"
            );
            eprintln!("skipped: REDIS_URL is not set");
            return;
        };
        let mut suffix = [0u8; 8];
        getrandom::fill(&mut suffix).unwrap();
        let prefix: String = suffix.iter().map(|b| format!("{b:02x}")).collect();
        let redis = RedisBackend::builder(url)
            .prefix(format!("test-users-{prefix}:"))
            .timeout(Duration::from_secs(2))
            .build()
            .unwrap();
        let store = RedisUserStore::new(&redis);
        let u = user("usr_a", "ann@example.com");
        assert_eq!(
            store.create_if_absent(u.clone()).await.unwrap(),
            CreateOutcome::Created
        );
        assert_eq!(
            store
                .create_if_absent(user("usr_b", "ann@example.com"))
                .await
                .unwrap(),
            CreateOutcome::EmailTaken
        );
        assert_eq!(
            store.find_by_email("ann@example.com").await.unwrap(),
            Some(u.clone())
        );
        assert_eq!(store.find_by_id("usr_a").await.unwrap(), Some(u));
        assert_eq!(store.find_by_id("usr_b").await.unwrap(), None);
        // Issue 14: an account without a password is found by id only, and its email blocks
        // no registration.
        let ext = external("usr_ext", Some("ext@example.com"));
        assert_eq!(
            store.create_if_absent(ext.clone()).await.unwrap(),
            CreateOutcome::Created
        );
        assert_eq!(store.find_by_email("ext@example.com").await.unwrap(), None);
        assert_eq!(store.find_by_id("usr_ext").await.unwrap(), Some(ext));
        assert_eq!(
            store
                .create_if_absent(user("usr_pwd", "ext@example.com"))
                .await
                .unwrap(),
            CreateOutcome::Created
        );
        assert_eq!(
            store
                .create_if_absent(external("usr_ext", None))
                .await
                .unwrap(),
            CreateOutcome::EmailTaken
        );
        // Many concurrent registrations of one email: exactly one wins.
        let mut tasks = Vec::new();
        for i in 0..20 {
            let s = store.clone();
            tasks.push(tokio::spawn(async move {
                s.create_if_absent(user(&format!("usr_c{i}"), "race@example.com"))
                    .await
            }));
        }
        let mut created = 0;
        for t in tasks {
            if t.await.unwrap().unwrap() == CreateOutcome::Created {
                created += 1;
            }
        }
        assert_eq!(created, 1);
    }
}
