//! Accounts: who can log in, with which password hash.
//!
//! - [`UserStore`] is the storage contract for registered users, shaped around one atomic
//!   operation, [`create_if_absent`](UserStore::create_if_absent), so two registrations of the
//!   same email at once cannot both succeed (a Redis store would use `SET NX` / a script; the
//!   in-memory [`MemoryUserStore`] takes one lock).
//! - [`Users`] puts a store, the Argon2id [`Passwords`] and the seeded account together and
//!   does the work the routes need: [`register`](Users::register) and
//!   [`authenticate`](Users::authenticate), both hashing off the async runtime.
//!
//! The seeded account `demo@example.com` (subject `demo-user`) is part of the configuration,
//! not of the store: its password comes from `AUTH_DEMO_PASSWORD` and is hashed on first use.
//!
//! Emails are trimmed and lower-cased before anything else, for registration and login alike,
//! and must look like `local@domain` (at most 254 characters, no spaces or control characters).

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, OnceLock, PoisonError, RwLock};

use async_trait::async_trait;
use auth_core::clock::{Clock, UnixTime};
use auth_core::password::{PasswordError, Passwords};
use auth_core::store::StoreError;

/// The seeded account's email.
pub const DEMO_EMAIL: &str = "demo@example.com";
/// The seeded account's subject (`sub` of its tokens).
pub const DEMO_SUBJECT: &str = "demo-user";
/// The seeded account's password when `AUTH_DEMO_PASSWORD` is not set. Public: change it
/// anywhere but on your own machine.
pub const DEFAULT_DEMO_PASSWORD: &str = "demo-password";
/// The longest email accepted (RFC 5321's path limit).
pub const MAX_EMAIL_CHARS: usize = 254;

/// A password held only until it is hashed; never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct DemoPassword(String);

impl DemoPassword {
    /// Wraps a password.
    #[must_use]
    pub fn new(password: impl Into<String>) -> Self {
        Self(password.into())
    }
}

impl fmt::Debug for DemoPassword {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DemoPassword(REDACTED)")
    }
}

/// An Argon2id PHC string. Not a secret in the cryptographic sense, but it never belongs in a
/// log or a response: `Debug` hides it.
#[derive(Clone, PartialEq, Eq)]
pub struct PasswordHash(String);

impl PasswordHash {
    /// Wraps a PHC string (as [`Passwords::hash`] makes, or as a store read it back).
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

/// Trims and lower-cases an email, as every route does before using it.
#[must_use]
pub fn normalize_email(email: &str) -> String {
    email.trim().to_lowercase()
}

/// Whether a normalized email is acceptable: `local@domain`, one `@`, both parts non-empty,
/// a dot-free or dotted domain without leading/trailing dots, no whitespace or control
/// characters, at most [`MAX_EMAIL_CHARS`] characters. Deliberately loose: the only real check
/// of an email is sending mail to it.
#[must_use]
pub fn is_valid_email(email: &str) -> bool {
    let Some((local, domain)) = email.split_once('@') else {
        return false;
    };
    email.chars().count() <= MAX_EMAIL_CHARS
        && !local.is_empty()
        && !domain.is_empty()
        && !domain.contains('@')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !email.chars().any(|c| c.is_whitespace() || c.is_control())
}

/// Someone who logged in or registered: the subject of their tokens and their email (which
/// decides their role, see [`crate::roles`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Account {
    /// The subject.
    pub subject: String,
    /// The normalized email.
    pub email: String,
}

/// Why a registration was refused.
#[derive(Debug)]
#[non_exhaustive]
pub enum RegisterError {
    /// The email is not acceptable (422).
    InvalidEmail,
    /// The password is too short or too long (422); the message says which.
    InvalidPassword(PasswordError),
    /// An account with this email exists (409).
    EmailTaken,
    /// The store, the hash or the random source failed (503); the detail is for logs.
    Backend(String),
}

impl fmt::Display for RegisterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidEmail => f.write_str("email must look like name@example.com"),
            Self::InvalidPassword(e) => write!(f, "{e}"),
            Self::EmailTaken => f.write_str("an account with this email already exists"),
            Self::Backend(m) => write!(f, "account backend failed: {m}"),
        }
    }
}

impl std::error::Error for RegisterError {}

/// The seeded account: its password until first use, then its hash.
struct Seed {
    password: Mutex<Option<DemoPassword>>,
    hash: OnceLock<Result<PasswordHash, String>>,
}

impl Seed {
    /// The seed's hash, computed on first call. Blocking: call it off the async runtime.
    fn hash(&self, passwords: &Passwords) -> Result<&PasswordHash, String> {
        self.hash
            .get_or_init(|| {
                let password = self
                    .password
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .take()
                    .ok_or_else(|| "the seeded password was already taken".to_owned())?;
                passwords
                    .hash(&password.0)
                    .map(PasswordHash)
                    .map_err(|e| e.to_string())
            })
            .as_ref()
            .map_err(Clone::clone)
    }
}

/// The accounts the demo knows: a [`UserStore`] for registered users plus the seeded
/// `demo@example.com`, and the [`Passwords`] that hash and verify. Cheap to clone (shared).
#[derive(Clone)]
pub struct Users {
    store: Arc<dyn UserStore>,
    passwords: Arc<Passwords>,
    seed: Arc<Seed>,
    clock: Arc<dyn Clock>,
}

impl fmt::Debug for Users {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Users")
            .field("store", &self.store)
            .field("passwords", &self.passwords)
            .field("seeded", &DEMO_EMAIL)
            .finish_non_exhaustive()
    }
}

impl Users {
    /// Accounts over `store`, with the seeded account's password and Argon2id at OWASP's
    /// parameters; registration times read `clock`.
    #[must_use]
    pub fn new(store: Arc<dyn UserStore>, seed: DemoPassword, clock: Arc<dyn Clock>) -> Self {
        Self {
            store,
            passwords: Arc::new(Passwords::owasp()),
            seed: Arc::new(Seed {
                password: Mutex::new(Some(seed)),
                hash: OnceLock::new(),
            }),
            clock,
        }
    }

    /// The same accounts (seeded account, password hashing, clock) over another store.
    #[must_use]
    pub fn with_store(&self, store: Arc<dyn UserStore>) -> Self {
        Self {
            store,
            ..self.clone()
        }
    }

    /// Accounts over a fresh [`MemoryUserStore`].
    #[must_use]
    pub fn in_memory(seed: DemoPassword, clock: Arc<dyn Clock>) -> Self {
        Self::new(Arc::new(MemoryUserStore::new()), seed, clock)
    }

    /// The store of registered users.
    #[must_use]
    pub fn store(&self) -> &Arc<dyn UserStore> {
        &self.store
    }

    /// The password hasher (its [`Passwords::dummy_verifications`] counts unknown-email logins).
    #[must_use]
    pub fn passwords(&self) -> &Arc<Passwords> {
        &self.passwords
    }

    /// The account with this subject, if it exists.
    ///
    /// # Errors
    ///
    /// [`StoreError`] when the store fails.
    pub async fn by_subject(&self, subject: &str) -> Result<Option<Account>, StoreError> {
        if subject == DEMO_SUBJECT {
            return Ok(Some(seed_account()));
        }
        Ok(self.store.find_by_id(subject).await?.map(|u| Account {
            subject: u.id,
            email: u.email,
        }))
    }

    /// Checks `password` for `email` (normalized here). Returns the account when they match,
    /// `None` for a wrong password **and** for an unknown email; an unknown email still costs
    /// one Argon2 verification (against a dummy hash), so the two take the same time.
    ///
    /// # Errors
    ///
    /// A message for logs when the store or the hash fails.
    pub async fn authenticate(
        &self,
        email: &str,
        password: String,
    ) -> Result<Option<Account>, String> {
        let email = normalize_email(email);
        let stored = if email == DEMO_EMAIL {
            Stored::Seed
        } else {
            match self.store.find_by_email(&email).await {
                Ok(Some(u)) => Stored::User(u),
                Ok(None) => Stored::Unknown,
                Err(e) => return Err(e.to_string()),
            }
        };
        let (passwords, seed) = (Arc::clone(&self.passwords), Arc::clone(&self.seed));
        tokio::task::spawn_blocking(move || {
            let hash = match &stored {
                Stored::Seed => Some(seed.hash(&passwords)?.as_str()),
                Stored::User(u) => Some(u.password_hash.as_str()),
                Stored::Unknown => None,
            };
            let ok = passwords
                .verify(hash, &password)
                .map_err(|e| e.to_string())?;
            if !ok {
                return Ok(None);
            }
            Ok(match stored {
                Stored::Seed => Some(seed_account()),
                Stored::User(u) => Some(Account {
                    subject: u.id,
                    email: u.email,
                }),
                Stored::Unknown => None,
            })
        })
        .await
        .map_err(|e| format!("password check task failed: {e}"))?
    }

    /// Registers `email` with `password`: validates both, hashes the password (off the async
    /// runtime) and stores the user atomically.
    ///
    /// # Errors
    ///
    /// See [`RegisterError`].
    pub async fn register(&self, email: &str, password: String) -> Result<Account, RegisterError> {
        let email = normalize_email(email);
        if !is_valid_email(&email) {
            return Err(RegisterError::InvalidEmail);
        }
        // The length rule first: it needs no hashing and its message is the useful one.
        let chars = password
            .chars()
            .take(auth_core::password::MAX_PASSWORD_CHARS + 1)
            .count();
        if chars < auth_core::password::MIN_PASSWORD_CHARS {
            return Err(RegisterError::InvalidPassword(PasswordError::TooShort {
                min: auth_core::password::MIN_PASSWORD_CHARS,
                actual: chars,
            }));
        }
        if chars > auth_core::password::MAX_PASSWORD_CHARS {
            return Err(RegisterError::InvalidPassword(PasswordError::TooLong {
                max: auth_core::password::MAX_PASSWORD_CHARS,
            }));
        }
        // Registration reveals whether an email is taken (that is what 409 says), so checking
        // first costs nothing in secrecy and saves an Argon2 hash.
        if email == DEMO_EMAIL
            || self
                .store
                .find_by_email(&email)
                .await
                .map_err(|e| RegisterError::Backend(e.to_string()))?
                .is_some()
        {
            return Err(RegisterError::EmailTaken);
        }
        let passwords = Arc::clone(&self.passwords);
        let hash = tokio::task::spawn_blocking(move || passwords.hash(&password))
            .await
            .map_err(|e| RegisterError::Backend(format!("hashing task failed: {e}")))?
            .map_err(|e| match e {
                PasswordError::TooShort { .. } | PasswordError::TooLong { .. } => {
                    RegisterError::InvalidPassword(e)
                }
                other => RegisterError::Backend(other.to_string()),
            })?;
        let user = UserRecord {
            id: new_user_id().map_err(RegisterError::Backend)?,
            email,
            password_hash: PasswordHash(hash),
            created_at: self.clock.now(),
        };
        let account = Account {
            subject: user.id.clone(),
            email: user.email.clone(),
        };
        match self.store.create_if_absent(user).await {
            Ok(CreateOutcome::Created) => Ok(account),
            Ok(CreateOutcome::EmailTaken) => Err(RegisterError::EmailTaken),
            Err(e) => Err(RegisterError::Backend(e.to_string())),
        }
    }
}

enum Stored {
    Seed,
    User(UserRecord),
    Unknown,
}

fn seed_account() -> Account {
    Account {
        subject: DEMO_SUBJECT.to_owned(),
        email: DEMO_EMAIL.to_owned(),
    }
}

/// `usr_` + 128 random bits in hex.
fn new_user_id() -> Result<String, String> {
    let mut raw = [0u8; 16];
    getrandom::fill(&mut raw).map_err(|e| format!("random source failed: {e}"))?;
    let hex: String = raw.iter().map(|b| format!("{b:02x}")).collect();
    Ok(format!("usr_{hex}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use auth_core::clock::ManualClock;

    fn users() -> Users {
        Users::in_memory(
            DemoPassword::new("seeded password"),
            Arc::new(ManualClock::new(UnixTime::from_secs(1_000))),
        )
    }

    #[test]
    fn secrets_are_redacted_in_debug() {
        assert_eq!(
            format!("{:?}", DemoPassword::new("hunter2")),
            "DemoPassword(REDACTED)"
        );
        assert_eq!(
            format!("{:?}", PasswordHash::new("$argon2id$x")),
            "PasswordHash(REDACTED)"
        );
        assert!(!format!("{:?}", users()).contains("seeded password"));
    }

    #[test]
    fn emails_are_normalized_and_loosely_checked() {
        assert_eq!(normalize_email("  Ann@Example.COM "), "ann@example.com");
        for ok in ["a@b", "first.last+tag@sub.example.org"] {
            assert!(is_valid_email(ok), "{ok}");
        }
        for bad in [
            "",
            "plain",
            "@example.com",
            "a@",
            "a@b@c",
            "a b@c",
            "a@.c",
            "a@c.",
        ] {
            assert!(!is_valid_email(bad), "{bad}");
        }
        assert!(!is_valid_email(&format!("{}@x", "a".repeat(253))));
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

    #[tokio::test]
    async fn registered_users_authenticate_and_unknown_ones_cost_a_dummy_verification() {
        let users = users();
        let a = users
            .register(" New@Example.com", "a long password".into())
            .await
            .unwrap();
        assert!(a.subject.starts_with("usr_"));
        assert_eq!(a.email, "new@example.com");
        let found = users
            .authenticate("new@example.com", "a long password".into())
            .await
            .unwrap();
        assert_eq!(found, Some(a.clone()));
        assert_eq!(users.by_subject(&a.subject).await.unwrap(), Some(a));
        assert_eq!(users.passwords().dummy_verifications(), 0);
        assert!(
            users
                .authenticate("nobody@example.com", "a long password".into())
                .await
                .unwrap()
                .is_none()
        );
        assert_eq!(users.passwords().dummy_verifications(), 1);
        let seed = users
            .authenticate(DEMO_EMAIL, "seeded password".into())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(seed.subject, DEMO_SUBJECT);
    }

    #[tokio::test]
    async fn registration_refuses_bad_input_and_taken_emails() {
        let users = users();
        assert!(matches!(
            users.register("nope", "a long password".into()).await,
            Err(RegisterError::InvalidEmail)
        ));
        assert!(matches!(
            users.register("a@b.c", "short".into()).await,
            Err(RegisterError::InvalidPassword(PasswordError::TooShort {
                actual: 5,
                ..
            }))
        ));
        assert!(matches!(
            users.register("a@b.c", "x".repeat(129)).await,
            Err(RegisterError::InvalidPassword(
                PasswordError::TooLong { .. }
            ))
        ));
        assert!(matches!(
            users.register(DEMO_EMAIL, "a long password".into()).await,
            Err(RegisterError::EmailTaken)
        ));
        users
            .register("a@b.c", "a long password".into())
            .await
            .unwrap();
        assert!(matches!(
            users.register("A@B.C", "another password".into()).await,
            Err(RegisterError::EmailTaken)
        ));
    }
}
