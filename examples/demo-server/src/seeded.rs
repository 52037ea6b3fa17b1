//! The seeded accounts: part of the configuration, not of the user store, so every instance
//! sharing a store (Redis) has the same ones.
//!
//! | account | subject | from | role |
//! |---|---|---|---|
//! | `demo@example.com` | `demo-user` | `AUTH_DEMO_PASSWORD` (default `demo-password`) | `user` |
//! | `AUTH_DEMO_ADMIN_EMAIL` | [`ADMIN_SUBJECT`] | `AUTH_DEMO_ADMIN_PASSWORD` | `admin` |
//!
//! Passwords are 8 to 128 characters and hashed on first use. A seeded address can never be
//! registered (409 `EMAIL_TAKEN`); `AUTH_DEMO_ADMIN_EMAIL` without `AUTH_DEMO_ADMIN_PASSWORD`
//! reserves the address but no admin account exists, and [`admin_notice`] says so at start-up.

use std::sync::{Mutex, OnceLock, PoisonError};

use auth_core::ConfigError;
use auth_core::password::{MAX_PASSWORD_CHARS, MIN_PASSWORD_CHARS, PasswordError, Passwords};

use crate::users::{
    ADMIN_SUBJECT, Account, DEFAULT_DEMO_PASSWORD, DEMO_EMAIL, DemoPassword, PasswordHash,
    is_valid_email, normalize_email,
};

/// The seeded accounts' settings (`AUTH_DEMO_PASSWORD`, `AUTH_DEMO_ADMIN_EMAIL`,
/// `AUTH_DEMO_ADMIN_PASSWORD`). `Debug` never shows a password.
#[derive(Debug)]
pub struct SeededAccounts {
    /// The password of `demo@example.com`.
    pub demo_password: DemoPassword,
    /// The admin account's normalized email; reserved even without a password.
    pub admin_email: Option<String>,
    /// The admin account's password; without it there is no admin account.
    pub admin_password: Option<DemoPassword>,
}

impl SeededAccounts {
    /// Reads the settings through `get`.
    ///
    /// # Errors
    ///
    /// [`ConfigError::Input`] naming the variable: a password outside 8 to 128 characters, an
    /// admin email that is not one or is `demo@example.com`, an admin password without an
    /// admin email.
    pub fn from_env(get: &impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let input = |m: String| ConfigError::Input(m);
        let demo_password = seeded_password(
            "AUTH_DEMO_PASSWORD",
            get("AUTH_DEMO_PASSWORD").unwrap_or_else(|| DEFAULT_DEMO_PASSWORD.to_owned()),
        )?;
        let admin_email = match get("AUTH_DEMO_ADMIN_EMAIL") {
            Some(e) => {
                let e = normalize_email(&e);
                if !is_valid_email(&e) {
                    return Err(input(format!(
                        "AUTH_DEMO_ADMIN_EMAIL `{e}` is not an email address"
                    )));
                }
                if e == DEMO_EMAIL {
                    return Err(input(format!(
                        "AUTH_DEMO_ADMIN_EMAIL must differ from the seeded {DEMO_EMAIL}"
                    )));
                }
                Some(e)
            }
            None => None,
        };
        let admin_password = get("AUTH_DEMO_ADMIN_PASSWORD")
            .map(|p| seeded_password("AUTH_DEMO_ADMIN_PASSWORD", p))
            .transpose()?;
        if admin_password.is_some() && admin_email.is_none() {
            return Err(input(
                "AUTH_DEMO_ADMIN_PASSWORD needs AUTH_DEMO_ADMIN_EMAIL (the admin account's email)"
                    .into(),
            ));
        }
        Ok(Self {
            demo_password,
            admin_email,
            admin_password,
        })
    }
}

/// What the server says at start-up about the admin account `email` (if configured): that it
/// is seeded, or, without a password, that none exists.
#[must_use]
pub fn admin_notice(email: Option<&str>, has_password: bool) -> Option<String> {
    let email = email?;
    Some(if has_password {
        format!(
            "Admin account {email} (subject {ADMIN_SUBJECT}, role admin) seeded from \
             AUTH_DEMO_ADMIN_EMAIL and AUTH_DEMO_ADMIN_PASSWORD."
        )
    } else {
        format!(
            "No admin account: AUTH_DEMO_ADMIN_EMAIL is {email} but AUTH_DEMO_ADMIN_PASSWORD is \
             not set, so nobody has role admin (registering {email} is refused; set \
             AUTH_DEMO_ADMIN_PASSWORD to seed the account)."
        )
    })
}

/// A seeded account's password from variable `var`: 8 to 128 characters.
fn seeded_password(var: &str, password: String) -> Result<DemoPassword, ConfigError> {
    let chars = password.chars().count();
    if !(MIN_PASSWORD_CHARS..=MAX_PASSWORD_CHARS).contains(&chars) {
        return Err(ConfigError::Input(format!(
            "{var} is {chars} characters; it must have 8 to 128"
        )));
    }
    Ok(DemoPassword::new(password))
}

/// A seeded account (from configuration): its password until first use, then its hash. A seed
/// without a password only reserves its email: there is no account to log in to.
pub(crate) struct Seed {
    pub(crate) email: String,
    pub(crate) subject: &'static str,
    password: Mutex<Option<DemoPassword>>,
    hash: OnceLock<PasswordHash>,
    pub(crate) has_account: bool,
}

impl Seed {
    pub(crate) fn new(
        email: String,
        subject: &'static str,
        password: Option<DemoPassword>,
    ) -> Self {
        Self {
            email,
            subject,
            has_account: password.is_some(),
            password: Mutex::new(password),
            hash: OnceLock::new(),
        }
    }

    pub(crate) fn account(&self) -> Account {
        Account {
            subject: self.subject.to_owned(),
            email: Some(self.email.clone()),
        }
    }

    /// The seed's hash, computed on first call. Blocking: call it off the async runtime. A
    /// failure (e.g. [`PasswordError::Busy`]) is not remembered: the next call tries again.
    pub(crate) fn hash(&self, passwords: &Passwords) -> Result<&PasswordHash, PasswordError> {
        if let Some(hash) = self.hash.get() {
            return Ok(hash);
        }
        let mut password = self.password.lock().unwrap_or_else(PoisonError::into_inner);
        // Another caller may have finished while this one waited for the lock.
        if let Some(hash) = self.hash.get() {
            return Ok(hash);
        }
        let hashed = match password.as_ref() {
            Some(p) => passwords.hash(p.expose_secret())?,
            None => {
                return Err(PasswordError::Hashing(
                    "the seeded account has no password".to_owned(),
                ));
            }
        };
        let hash = self.hash.get_or_init(|| PasswordHash::new(hashed));
        // The plaintext is no longer needed.
        *password = None;
        Ok(hash)
    }
}

#[cfg(test)]
mod tests {
    use crate::config::Config;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let m: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        move |k| m.get(k).cloned()
    }

    #[test]
    fn admin_email_is_normalized_and_must_be_an_email() {
        let c = Config::from_env(env(&[("AUTH_DEMO_ADMIN_EMAIL", " Boss@Example.COM")])).unwrap();
        assert_eq!(c.admin_email.as_deref(), Some("boss@example.com"));
        assert!(Config::from_env(env(&[("AUTH_DEMO_ADMIN_EMAIL", "boss")])).is_err());
        assert!(Config::from_env(env(&[("AUTH_DEMO_ADMIN_EMAIL", "Demo@Example.com")])).is_err());
        assert_eq!(Config::from_env(env(&[])).unwrap().admin_email, None);
    }

    // Issue 12, item 1: the admin account comes from configuration (email + password), never
    // from a registration.
    #[test]
    fn the_admin_password_is_checked_needs_the_email_and_is_never_printed() {
        let c = Config::from_env(env(&[
            ("AUTH_DEMO_ADMIN_EMAIL", "boss@example.com"),
            ("AUTH_DEMO_ADMIN_PASSWORD", "the boss password"),
        ]))
        .unwrap();
        assert!(c.admin_password.is_some());
        assert!(!format!("{c:?}").contains("the boss password"));
        let notice = c.admin_notice().unwrap();
        assert!(notice.contains("seeded"), "{notice}");

        let err = Config::from_env(env(&[
            ("AUTH_DEMO_ADMIN_EMAIL", "boss@example.com"),
            ("AUTH_DEMO_ADMIN_PASSWORD", "short"),
        ]))
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("AUTH_DEMO_ADMIN_PASSWORD is 5 characters"),
            "{err}"
        );
        let err = Config::from_env(env(&[("AUTH_DEMO_ADMIN_PASSWORD", "long enough")]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("needs AUTH_DEMO_ADMIN_EMAIL"), "{err}");

        let c = Config::from_env(env(&[("AUTH_DEMO_ADMIN_EMAIL", "boss@example.com")])).unwrap();
        let notice = c.admin_notice().unwrap();
        assert!(notice.starts_with("No admin account"), "{notice}");
        assert!(notice.contains("AUTH_DEMO_ADMIN_PASSWORD"), "{notice}");
        assert_eq!(Config::from_env(env(&[])).unwrap().admin_notice(), None);
    }
}
