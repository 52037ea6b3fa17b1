//! Storage of registered users: [`UserStore`], the contract, shaped around one atomic
//! operation, [`create_if_absent`](UserStore::create_if_absent), so two registrations of the
//! same email at once cannot both succeed (the Redis store in [`crate::redis_users`] uses a
//! script; the in-memory [`MemoryUserStore`] takes one lock). What the routes do with accounts
//! (registration, login, the seeded accounts) is in [`crate::users`].
//!
//! Accounts created by a sign-in with an OpenID Provider ([`crate::provider_login`]) are the
//! same records without a password: they are found by id only. Their email (the provider's, if
//! it sent one) is for display: it is not a login name, so it is neither unique nor indexed.

use std::collections::HashMap;
use std::fmt;
use std::sync::{PoisonError, RwLock};

use async_trait::async_trait;
use auth_core::clock::UnixTime;
use auth_core::store::StoreError;

/// An Argon2id PHC string. Not a secret in the cryptographic sense, but it never belongs in a
/// log or a response: `Debug` hides it.
#[derive(Clone, PartialEq, Eq)]
pub struct PasswordHash(String);

impl PasswordHash {
    /// Wraps a PHC string (as [`Passwords::hash`](auth_core::password::Passwords::hash) makes, or as a store read it back).
    #[must_use]
    pub fn new(phc: impl Into<String>) -> Self {
        Self(phc.into())
    }

    /// The PHC string, for a store to persist.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PasswordHash(REDACTED)")
    }
}

/// A registered user as a store keeps it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserRecord {
    /// The subject of the user's tokens (`usr_` + 128 random bits in hex); never the email, so
    /// logs that name subjects hold no personal data.
    pub id: String,
    /// The normalized email (trimmed, lower-case). With a password it is the login name, unique
    /// among accounts with a password; without one (an account a provider sign-in created) it is
    /// the address the provider asserted, for display only, or `None`.
    pub email: Option<String>,
    /// The Argon2id hash of the password; `None` for an account created by a provider sign-in,
    /// which cannot log in with a password.
    pub password_hash: Option<PasswordHash>,
    /// When the user registered.
    pub created_at: UnixTime,
}

impl UserRecord {
    /// The email this account logs in with: its email when it has a password, else `None`.
    /// Stores index accounts by it (and only by it).
    #[must_use]
    pub fn login_email(&self) -> Option<&str> {
        self.password_hash.as_ref().and(self.email.as_deref())
    }
}

/// What [`UserStore::create_if_absent`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CreateOutcome {
    /// The user was stored.
    Created,
    /// A user with that login email (or that id) already exists; nothing was stored.
    EmailTaken,
}

/// Storage for registered users.
///
/// `create_if_absent` must be atomic: of concurrent calls with one login email exactly one
/// returns [`CreateOutcome::Created`]. Lookups are by login email
/// ([`UserRecord::login_email`]) and by id.
#[async_trait]
pub trait UserStore: fmt::Debug + Send + Sync + 'static {
    /// Stores `user` unless a user with the same id, or the same login email, exists.
    ///
    /// # Errors
    ///
    /// [`StoreError`] when the backend fails.
    async fn create_if_absent(&self, user: UserRecord) -> Result<CreateOutcome, StoreError>;

    /// The user whose login email ([`UserRecord::login_email`]) is this normalized email.
    ///
    /// # Errors
    ///
    /// [`StoreError`] when the backend fails.
    async fn find_by_email(&self, email: &str) -> Result<Option<UserRecord>, StoreError>;

    /// The user with this id (subject).
    ///
    /// # Errors
    ///
    /// [`StoreError`] when the backend fails.
    async fn find_by_id(&self, id: &str) -> Result<Option<UserRecord>, StoreError>;
}

#[derive(Debug, Default)]
struct Maps {
    by_id: HashMap<String, UserRecord>,
    id_of_login: HashMap<String, String>,
}

/// The in-memory [`UserStore`]: two maps behind one lock (the lock is never held across an
/// `await`). Users are lost when the process exits.
#[derive(Debug, Default)]
pub struct MemoryUserStore {
    maps: RwLock<Maps>,
}

impl MemoryUserStore {
    /// An empty store.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// How many users are stored.
    #[must_use]
    pub fn len(&self) -> usize {
        self.maps
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .by_id
            .len()
    }

    /// Whether no user is stored.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[async_trait]
impl UserStore for MemoryUserStore {
    async fn create_if_absent(&self, user: UserRecord) -> Result<CreateOutcome, StoreError> {
        // A poisoned lock only means another thread panicked mid-operation; every write below
        // leaves both maps consistent before it can panic, so the data is still usable.
        let mut maps = self.maps.write().unwrap_or_else(PoisonError::into_inner);
        let login = user.login_email().map(str::to_owned);
        if maps.by_id.contains_key(&user.id)
            || login
                .as_ref()
                .is_some_and(|e| maps.id_of_login.contains_key(e))
        {
            return Ok(CreateOutcome::EmailTaken);
        }
        if let Some(email) = login {
            maps.id_of_login.insert(email, user.id.clone());
        }
        maps.by_id.insert(user.id.clone(), user);
        Ok(CreateOutcome::Created)
    }

    async fn find_by_email(&self, email: &str) -> Result<Option<UserRecord>, StoreError> {
        let maps = self.maps.read().unwrap_or_else(PoisonError::into_inner);
        Ok(maps
            .id_of_login
            .get(email)
            .and_then(|id| maps.by_id.get(id))
            .cloned())
    }

    async fn find_by_id(&self, id: &str) -> Result<Option<UserRecord>, StoreError> {
        let maps = self.maps.read().unwrap_or_else(PoisonError::into_inner);
        Ok(maps.by_id.get(id).cloned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn hashes_are_redacted_in_debug() {
        assert_eq!(
            format!("{:?}", PasswordHash::new("$argon2id$x")),
            "PasswordHash(REDACTED)"
        );
    }

    #[tokio::test]
    async fn create_if_absent_is_atomic_across_concurrent_calls() {
        let store = Arc::new(MemoryUserStore::new());
        let mut tasks = Vec::new();
        for i in 0..50 {
            let store = Arc::clone(&store);
            tasks.push(tokio::spawn(async move {
                store
                    .create_if_absent(UserRecord {
                        id: format!("usr_{i}"),
                        email: Some("same@example.com".to_owned()),
                        password_hash: Some(PasswordHash::new("h")),
                        created_at: UnixTime::from_secs(1),
                    })
                    .await
                    .unwrap()
            }));
        }
        let mut created = 0;
        for t in tasks {
            if t.await.unwrap() == CreateOutcome::Created {
                created += 1;
            }
        }
        assert_eq!(created, 1);
        assert_eq!(store.len(), 1);
    }

    // Issue 14: an account a provider sign-in created has no password; its email is not a
    // login name, so it neither blocks a registration nor is found by email.
    #[tokio::test]
    async fn accounts_without_a_password_are_found_by_id_only() {
        let store = MemoryUserStore::new();
        let record = |id: &str, hash: Option<&str>| UserRecord {
            id: id.to_owned(),
            email: Some("ann@example.com".to_owned()),
            password_hash: hash.map(PasswordHash::new),
            created_at: UnixTime::from_secs(1),
        };
        let external = record("usr_ext", None);
        assert_eq!(
            store.create_if_absent(external.clone()).await.unwrap(),
            CreateOutcome::Created
        );
        assert_eq!(store.find_by_email("ann@example.com").await.unwrap(), None);
        assert_eq!(store.find_by_id("usr_ext").await.unwrap(), Some(external));
        let password = record("usr_pwd", Some("h"));
        assert_eq!(
            store.create_if_absent(password.clone()).await.unwrap(),
            CreateOutcome::Created
        );
        assert_eq!(
            store.find_by_email("ann@example.com").await.unwrap(),
            Some(password)
        );
        assert_eq!(
            store
                .create_if_absent(record("usr_ext", None))
                .await
                .unwrap(),
            CreateOutcome::EmailTaken,
            "an id is stored once"
        );
    }
}
