//! Storage of registered users: [`UserStore`], the contract, shaped around one atomic
//! operation, [`create_if_absent`](UserStore::create_if_absent), so two registrations of the
//! same email at once cannot both succeed (the Redis store in [`crate::redis_users`] uses a
//! script; the in-memory [`MemoryUserStore`] takes one lock). What the routes do with accounts
//! (registration, login, the seeded accounts) is in [`crate::users`].

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
    /// The normalized email (trimmed, lower-case); unique.
    pub email: String,
    /// The Argon2id hash of the password.
    pub password_hash: PasswordHash,
    /// When the user registered.
    pub created_at: UnixTime,
}

/// What [`UserStore::create_if_absent`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CreateOutcome {
    /// The user was stored.
    Created,
    /// A user with that email already exists; nothing was stored.
    EmailTaken,
}

/// Storage for registered users.
///
/// `create_if_absent` must be atomic: of concurrent calls with one email exactly one returns
/// [`CreateOutcome::Created`]. Lookups are by normalized email and by id.
#[async_trait]
pub trait UserStore: fmt::Debug + Send + Sync + 'static {
    /// Stores `user` unless a user with the same email (or id) exists.
    ///
    /// # Errors
    ///
    /// [`StoreError`] when the backend fails.
    async fn create_if_absent(&self, user: UserRecord) -> Result<CreateOutcome, StoreError>;

    /// The user with this normalized email.
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
    by_email: HashMap<String, UserRecord>,
    email_of_id: HashMap<String, String>,
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
            .by_email
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
        if maps.by_email.contains_key(&user.email) || maps.email_of_id.contains_key(&user.id) {
            return Ok(CreateOutcome::EmailTaken);
        }
        maps.email_of_id.insert(user.id.clone(), user.email.clone());
        maps.by_email.insert(user.email.clone(), user);
        Ok(CreateOutcome::Created)
    }

    async fn find_by_email(&self, email: &str) -> Result<Option<UserRecord>, StoreError> {
        let maps = self.maps.read().unwrap_or_else(PoisonError::into_inner);
        Ok(maps.by_email.get(email).cloned())
    }

    async fn find_by_id(&self, id: &str) -> Result<Option<UserRecord>, StoreError> {
        let maps = self.maps.read().unwrap_or_else(PoisonError::into_inner);
        Ok(maps
            .email_of_id
            .get(id)
            .and_then(|email| maps.by_email.get(email))
            .cloned())
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
                        email: "same@example.com".to_owned(),
                        password_hash: PasswordHash::new("h"),
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
}
