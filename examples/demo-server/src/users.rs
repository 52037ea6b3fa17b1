//! Accounts: who can log in, with which password hash.
//!
//! - [`UserStore`] (in [`crate::user_store`], re-exported here) is the storage contract for
//!   registered users, with [`MemoryUserStore`] and, in [`crate::redis_users`], a Redis one.
//! - [`Users`] puts a store, the Argon2id [`Passwords`] and the seeded accounts together and
//!   does the work the routes need: [`register`](Users::register) and
//!   [`authenticate`](Users::authenticate), both hashing off the async runtime.
//!
//! The seeded accounts (see [`crate::seeded`]) are part of the configuration, not of the
//! store, so every instance sharing a store (Redis) has the same ones: `demo@example.com`
//! (subject `demo-user`, password from `AUTH_DEMO_PASSWORD`) and, with `AUTH_DEMO_ADMIN_EMAIL`
//! and `AUTH_DEMO_ADMIN_PASSWORD`, the admin account (subject [`ADMIN_SUBJECT`]). A seeded
//! address can never be registered, and `AUTH_DEMO_ADMIN_EMAIL` stays reserved even without a
//! password (then no admin account exists at all).
//!
//! Emails are trimmed and lower-cased before anything else, for registration and login alike,
//! and must look like `local@domain` (at most 254 characters, no spaces or control characters).

use std::fmt;
use std::sync::Arc;

use auth_core::clock::Clock;
use auth_core::password::{PasswordError, Passwords};
use auth_core::store::StoreError;

use crate::seeded::Seed;
pub use crate::user_store::{CreateOutcome, MemoryUserStore, PasswordHash, UserRecord, UserStore};

/// The seeded account's email.
pub const DEMO_EMAIL: &str = "demo@example.com";
/// The seeded account's subject (`sub` of its tokens).
pub const DEMO_SUBJECT: &str = "demo-user";
/// The seeded admin account's subject (with `AUTH_DEMO_ADMIN_EMAIL` and
/// `AUTH_DEMO_ADMIN_PASSWORD`). Roles follow this subject, never an email: registered accounts
/// get `usr_...` subjects and can never be it.
pub const ADMIN_SUBJECT: &str = "demo-admin";
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

    /// The password, to hash it.
    pub(crate) fn expose_secret(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for DemoPassword {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DemoPassword(REDACTED)")
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

/// Someone who logged in or registered: the subject of their tokens (which decides their role,
/// see [`crate::roles`]) and their email.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Account {
    /// The subject.
    pub subject: String,
    /// The normalized email; `None` for an account a provider sign-in created without one.
    pub email: Option<String>,
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
    /// Password hashing stayed busy for the whole wait (503 with `Retry-After`).
    Busy,
    /// The store, the hash or the random source failed (503); the detail is for logs.
    Backend(String),
}

impl fmt::Display for RegisterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidEmail => f.write_str("email must look like name@example.com"),
            Self::InvalidPassword(e) => write!(f, "{e}"),
            Self::EmailTaken => f.write_str("an account with this email already exists"),
            Self::Busy => f.write_str("password hashing is busy"),
            Self::Backend(m) => write!(f, "account backend failed: {m}"),
        }
    }
}

impl std::error::Error for RegisterError {}

/// Why a password check could not be made (the answer is 503 either way).
#[derive(Debug)]
#[non_exhaustive]
pub enum AuthenticateError {
    /// Password hashing stayed busy for the whole wait: try again shortly (`Retry-After`).
    Busy,
    /// The store, the hash or the task failed; the detail is for logs.
    Backend(String),
}

impl fmt::Display for AuthenticateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Busy => f.write_str("password hashing is busy"),
            Self::Backend(m) => write!(f, "password check failed: {m}"),
        }
    }
}

impl std::error::Error for AuthenticateError {}

impl From<PasswordError> for AuthenticateError {
    fn from(e: PasswordError) -> Self {
        match e {
            PasswordError::Busy => Self::Busy,
            other => Self::Backend(other.to_string()),
        }
    }
}

/// The accounts the demo knows: a [`UserStore`] for registered users plus the seeded accounts
/// (`demo@example.com`, and the admin with [`with_admin`](Users::with_admin)), and the
/// [`Passwords`] that hash and verify. Cheap to clone (shared).
#[derive(Clone)]
pub struct Users {
    store: Arc<dyn UserStore>,
    passwords: Arc<Passwords>,
    seeds: Arc<[Arc<Seed>]>,
    clock: Arc<dyn Clock>,
}

impl fmt::Debug for Users {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Users")
            .field("store", &self.store)
            .field("passwords", &self.passwords)
            .field(
                "seeded",
                &self
                    .seeds
                    .iter()
                    .map(|s| (s.email.as_str(), s.has_account))
                    .collect::<Vec<_>>(),
            )
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
            seeds: Arc::new([Arc::new(Seed::new(
                DEMO_EMAIL.to_owned(),
                DEMO_SUBJECT,
                Some(seed),
            ))]),
            clock,
        }
    }

    /// The same accounts plus the admin account `email` (normalized here), subject
    /// [`ADMIN_SUBJECT`], with `password`. Without a password no admin account exists, but
    /// `email` is still reserved: registering it is refused like any taken email.
    #[must_use]
    pub fn with_admin(self, email: &str, password: Option<DemoPassword>) -> Self {
        let email = normalize_email(email);
        let mut seeds: Vec<Arc<Seed>> = self
            .seeds
            .iter()
            .filter(|s| s.subject != ADMIN_SUBJECT && s.email != email)
            .cloned()
            .collect();
        seeds.push(Arc::new(Seed::new(email, ADMIN_SUBJECT, password)));
        Self {
            seeds: seeds.into(),
            ..self
        }
    }

    /// The same accounts with another password hasher (e.g. with the configured concurrency
    /// limit, see [`crate::limits::Limits::passwords`]).
    #[must_use]
    pub fn with_passwords(self, passwords: Arc<Passwords>) -> Self {
        Self { passwords, ..self }
    }

    /// The seed with this normalized email, if any (with or without an account).
    fn seed_by_email(&self, email: &str) -> Option<&Arc<Seed>> {
        self.seeds.iter().find(|s| s.email == email)
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
        if let Some(seed) = self.seeds.iter().find(|s| s.subject == subject) {
            return Ok(seed.has_account.then(|| seed.account()));
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
    /// [`AuthenticateError::Busy`] when password hashing stayed busy for the whole wait,
    /// [`AuthenticateError::Backend`] (a message for logs) when the store or the hash fails.
    pub async fn authenticate(
        &self,
        email: &str,
        password: String,
    ) -> Result<Option<Account>, AuthenticateError> {
        let email = normalize_email(email);
        let stored = match self.seed_by_email(&email) {
            Some(seed) if seed.has_account => Stored::Seed(Arc::clone(seed)),
            // A reserved address without an account: as unknown as any other.
            Some(_) => Stored::Unknown,
            None => match self.store.find_by_email(&email).await {
                Ok(Some(u)) => Stored::User(u),
                Ok(None) => Stored::Unknown,
                Err(e) => return Err(AuthenticateError::Backend(e.to_string())),
            },
        };
        let passwords = Arc::clone(&self.passwords);
        tokio::task::spawn_blocking(move || {
            let hash = match &stored {
                Stored::Seed(seed) => Some(seed.hash(&passwords)?.as_str()),
                // An account without a password (a provider sign-in made it) is never found
                // by email; were it, it would still cost the dummy verification and fail.
                Stored::User(u) => u.password_hash.as_ref().map(PasswordHash::as_str),
                Stored::Unknown => None,
            };
            if !passwords.verify(hash, &password)? {
                return Ok(None);
            }
            Ok(match stored {
                Stored::Seed(seed) => Some(seed.account()),
                Stored::User(u) => Some(Account {
                    subject: u.id,
                    email: u.email,
                }),
                Stored::Unknown => None,
            })
        })
        .await
        .map_err(|e| AuthenticateError::Backend(format!("password check task failed: {e}")))?
    }

    /// Registers `email` with `password`: validates both, hashes the password (off the async
    /// runtime) and stores the user atomically. A taken email (registered, or a seeded
    /// account's) is refused only after the hash, so it costs the same Argon2 work as a new
    /// one ([`Passwords::hashes_computed`] counts it).
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
        // The hash comes first, whatever the email: a taken email costs the same Argon2 work
        // as a new one, so the answer's timing does not tell them apart. (The 409 itself still
        // says the email is taken; the per-client registration limit bounds how often anyone
        // can ask. See the demo README's security section for the trade-off.)
        let passwords = Arc::clone(&self.passwords);
        let hash = tokio::task::spawn_blocking(move || passwords.hash(&password))
            .await
            .map_err(|e| RegisterError::Backend(format!("hashing task failed: {e}")))?
            .map_err(|e| match e {
                PasswordError::TooShort { .. } | PasswordError::TooLong { .. } => {
                    RegisterError::InvalidPassword(e)
                }
                PasswordError::Busy => RegisterError::Busy,
                other => RegisterError::Backend(other.to_string()),
            })?;
        if self.seed_by_email(&email).is_some() {
            // One store round trip, as a registration through the store costs.
            self.store
                .find_by_email(&email)
                .await
                .map_err(|e| RegisterError::Backend(e.to_string()))?;
            return Err(RegisterError::EmailTaken);
        }
        let user = UserRecord {
            id: new_user_id().map_err(RegisterError::Backend)?,
            email: Some(email),
            password_hash: Some(PasswordHash::new(hash)),
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

impl Users {
    /// Creates the account `id` without a password, for a first sign-in with an OpenID Provider
    /// ([`crate::provider_login`]): `email` (the provider's, normalized here; dropped unless it
    /// looks like an address) is kept for display only. It is not a login name: a password
    /// login with it never reaches this account, and it stops nobody from registering it.
    /// If `id` exists already (a concurrent creation of the same account), that account is
    /// returned.
    ///
    /// # Errors
    ///
    /// [`StoreError`] when the store fails.
    pub async fn create_without_password(
        &self,
        id: &str,
        email: Option<&str>,
    ) -> Result<Account, StoreError> {
        let email = email.map(normalize_email).filter(|e| is_valid_email(e));
        let user = UserRecord {
            id: id.to_owned(),
            email: email.clone(),
            password_hash: None,
            created_at: self.clock.now(),
        };
        match self.store.create_if_absent(user).await? {
            CreateOutcome::Created => Ok(Account {
                subject: id.to_owned(),
                email,
            }),
            _ => self
                .by_subject(id)
                .await?
                .ok_or_else(|| StoreError::new("account id taken but not found")),
        }
    }
}

enum Stored {
    Seed(Arc<Seed>),
    User(UserRecord),
    Unknown,
}

/// `usr_` + 128 random bits in hex.
pub(crate) fn new_user_id() -> Result<String, String> {
    let mut raw = [0u8; 16];
    getrandom::fill(&mut raw).map_err(|e| format!("random source failed: {e}"))?;
    let hex: String = raw.iter().map(|b| format!("{b:02x}")).collect();
    Ok(format!("usr_{hex}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use auth_core::clock::{ManualClock, UnixTime};

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
    async fn registered_users_authenticate_and_unknown_ones_cost_a_dummy_verification() {
        let users = users();
        let a = users
            .register(" New@Example.com", "a long password".into())
            .await
            .unwrap();
        assert!(a.subject.starts_with("usr_"));
        assert_eq!(a.email.as_deref(), Some("new@example.com"));
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

    // Issue 14: a password login to an account a provider sign-in created fails exactly like
    // a wrong password (the same dummy Argon2 verification), and its email is not taken.
    #[tokio::test]
    async fn an_account_without_a_password_cannot_log_in_and_holds_no_email() {
        let users = users();
        let ext = users
            .create_without_password("usr_ext", Some(" Ext@Example.com"))
            .await
            .unwrap();
        assert_eq!(ext.email.as_deref(), Some("ext@example.com"));
        assert_eq!(
            users.by_subject("usr_ext").await.unwrap(),
            Some(ext.clone())
        );
        for password in ["a long password", "another password"] {
            let before = users.passwords().dummy_verifications();
            let found = users
                .authenticate("ext@example.com", password.into())
                .await
                .unwrap();
            assert_eq!(found, None);
            assert_eq!(users.passwords().dummy_verifications(), before + 1);
        }
        let registered = users
            .register("ext@example.com", "a long password".into())
            .await
            .unwrap();
        assert_ne!(registered.subject, ext.subject);
        // Creating the same id again returns the existing account.
        assert_eq!(
            users
                .create_without_password("usr_ext", None)
                .await
                .unwrap(),
            ext
        );
        let bad = users
            .create_without_password("usr_bad", Some("not an email"))
            .await
            .unwrap();
        assert_eq!(bad.email, None);
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
