//! Password hashing with Argon2id, and verification that does not reveal whether an account
//! exists.
//!
//! [`Passwords`] hashes with Argon2id and the OWASP Password Storage Cheat Sheet's first
//! configuration (19 MiB of memory, 2 iterations, 1 lane), into a PHC string
//! (`$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>`) that records its own parameters. Passwords
//! must be 8 to 128 characters (NIST SP 800-63B: at least 8; a maximum of at least 64; the cap
//! bounds the work an attacker can ask for), counted as Unicode characters.
//!
//! # Example
//!
//! ```
//! use auth_core::password::{PasswordError, Passwords};
//!
//! let passwords = Passwords::owasp();
//! let stored = passwords.hash("correct horse battery staple")?;
//! assert!(stored.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
//!
//! assert!(passwords.verify(Some(&stored), "correct horse battery staple")?);
//! assert!(!passwords.verify(Some(&stored), "wrong password")?);
//!
//! // An unknown account: one verification against a dummy hash still runs, so the answer
//! // takes as long as for a known account with a wrong password.
//! assert!(!passwords.verify(None, "whatever password")?);
//! assert_eq!(passwords.dummy_verifications(), 1);
//!
//! assert_eq!(passwords.hash("short").unwrap_err(), PasswordError::TooShort { min: 8, actual: 5 });
//! # Ok::<(), PasswordError>(())
//! ```
//!
//! # Security considerations
//!
//! - Argon2id is memory-hard and takes tens of milliseconds in release builds: call it from a
//!   blocking-capable context (e.g. `tokio::task::spawn_blocking`) in async servers, and put
//!   login endpoints behind brute-force limiting.
//! - Login answers must not tell "unknown account" from "wrong password": pass `None` for an
//!   unknown account to [`Passwords::verify`], which then verifies against a dummy hash with the
//!   same parameters, and answer both with the same `INVALID_CREDENTIALS`.
//! - The length check runs before any hashing and is the same for known and unknown accounts,
//!   so it reveals nothing about accounts.

use std::fmt;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _};
use argon2::{Algorithm, Argon2, Params, Version};

/// The fewest characters a password may have (NIST SP 800-63B section 3.1.1.2).
pub const MIN_PASSWORD_CHARS: usize = 8;
/// The most characters a password may have.
pub const MAX_PASSWORD_CHARS: usize = 128;

/// OWASP's Argon2id memory cost, in KiB (19 MiB).
pub const OWASP_MEMORY_KIB: u32 = 19 * 1024;
/// OWASP's Argon2id iteration count.
pub const OWASP_ITERATIONS: u32 = 2;
/// OWASP's Argon2id parallelism.
pub const OWASP_LANES: u32 = 1;

/// Hashes and verifies passwords. Cheap to share by reference; clone-free.
pub struct Passwords {
    params: Params,
    dummy: OnceLock<Result<String, PasswordError>>,
    dummy_runs: AtomicU64,
}

impl fmt::Debug for Passwords {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Passwords")
            .field("m_cost_kib", &self.params.m_cost())
            .field("t_cost", &self.params.t_cost())
            .field("p_cost", &self.params.p_cost())
            .field("dummy_verifications", &self.dummy_verifications())
            .finish()
    }
}

impl Default for Passwords {
    fn default() -> Self {
        Self::owasp()
    }
}

impl Passwords {
    /// Argon2id with OWASP's parameters: 19 MiB, 2 iterations, 1 lane.
    #[must_use]
    pub fn owasp() -> Self {
        Self {
            params: Params::DEFAULT,
            dummy: OnceLock::new(),
            dummy_runs: AtomicU64::new(0),
        }
        .with_checked_params(OWASP_MEMORY_KIB, OWASP_ITERATIONS, OWASP_LANES)
    }

    fn with_checked_params(mut self, m: u32, t: u32, p: u32) -> Self {
        // These constants are valid Argon2 parameters; `Params::DEFAULT` (the same values in
        // argon2 0.6) is the fallback should a future version refuse them.
        if let Ok(params) = Params::new(m, t, p, None) {
            self.params = params;
        }
        self
    }

    fn argon2(&self) -> Argon2<'static> {
        Argon2::new(Algorithm::Argon2id, Version::V0x13, self.params.clone())
    }

    /// Hashes `password` with a fresh random salt into a PHC string.
    ///
    /// # Errors
    ///
    /// [`PasswordError::TooShort`] / [`PasswordError::TooLong`] outside 8 to 128 characters,
    /// [`PasswordError::Hashing`] when Argon2 or the random source fails.
    pub fn hash(&self, password: &str) -> Result<String, PasswordError> {
        check_length(password)?;
        self.argon2()
            .hash_password(password.as_bytes())
            .map(|h| h.to_string())
            .map_err(|e| PasswordError::Hashing(e.to_string()))
    }

    /// Whether `password` matches `stored`, a PHC string from [`hash`](Self::hash).
    ///
    /// For an unknown account pass `None`: one verification against a dummy hash (same
    /// parameters, computed once) still runs and the answer is `false`, so the response time
    /// does not tell unknown accounts from wrong passwords. Each such run is counted
    /// ([`dummy_verifications`](Self::dummy_verifications)).
    ///
    /// A password outside 8 to 128 characters is `false` without hashing, for known and
    /// unknown accounts alike.
    ///
    /// # Errors
    ///
    /// [`PasswordError::InvalidHash`] when `stored` is not a valid Argon2 PHC string,
    /// [`PasswordError::Hashing`] when the dummy hash cannot be made.
    pub fn verify(&self, stored: Option<&str>, password: &str) -> Result<bool, PasswordError> {
        if check_length(password).is_err() {
            return Ok(false);
        }
        let (hash, real) = match stored {
            Some(h) => (h, true),
            None => (self.dummy_hash()?, false),
        };
        let outcome = self.argon2().verify_password(password.as_bytes(), hash);
        if !real {
            self.dummy_runs.fetch_add(1, Ordering::Relaxed);
            return Ok(false);
        }
        match outcome {
            Ok(()) => Ok(true),
            Err(argon2::password_hash::Error::PasswordInvalid) => Ok(false),
            Err(e) => Err(PasswordError::InvalidHash(e.to_string())),
        }
    }

    /// How many verifications ran against the dummy hash (unknown accounts). For tests and
    /// metrics: proves that unknown accounts cost one verification, without timing anything.
    #[must_use]
    pub fn dummy_verifications(&self) -> u64 {
        self.dummy_runs.load(Ordering::Relaxed)
    }

    fn dummy_hash(&self) -> Result<&str, PasswordError> {
        self.dummy
            .get_or_init(|| {
                // An unguessable password (the OS random source, as argon2's salts use), so
                // the dummy hash never matches anything.
                let random = argon2::password_hash::try_generate_salt()
                    .map_err(|e| PasswordError::Hashing(e.to_string()))?;
                let filler: String = random.iter().map(|b| format!("{b:02x}")).collect();
                self.hash(&filler)
            })
            .as_deref()
            .map_err(Clone::clone)
    }
}

fn check_length(password: &str) -> Result<(), PasswordError> {
    // Count at most MAX + 1 characters, so a huge input costs no more than that.
    let actual = password.chars().take(MAX_PASSWORD_CHARS + 1).count();
    if actual < MIN_PASSWORD_CHARS {
        return Err(PasswordError::TooShort {
            min: MIN_PASSWORD_CHARS,
            actual,
        });
    }
    if actual > MAX_PASSWORD_CHARS {
        return Err(PasswordError::TooLong {
            max: MAX_PASSWORD_CHARS,
        });
    }
    Ok(())
}

/// Why a password could not be hashed or checked.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum PasswordError {
    /// Fewer characters than the minimum.
    TooShort {
        /// The minimum (8).
        min: usize,
        /// How many were given.
        actual: usize,
    },
    /// More characters than the maximum.
    TooLong {
        /// The maximum (128).
        max: usize,
    },
    /// The stored hash is not a valid Argon2 PHC string.
    InvalidHash(String),
    /// Argon2 or the random source failed.
    Hashing(String),
}

impl fmt::Display for PasswordError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TooShort { min, actual } => write!(
                f,
                "password must be at least {min} characters long (got {actual})"
            ),
            Self::TooLong { max } => {
                write!(f, "password must be at most {max} characters long")
            }
            Self::InvalidHash(m) => write!(f, "stored password hash is invalid: {m}"),
            Self::Hashing(m) => write!(f, "password hashing failed: {m}"),
        }
    }
}

impl std::error::Error for PasswordError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn length_is_counted_in_characters() {
        assert!(check_length("1234567").is_err());
        assert!(check_length("12345678").is_ok());
        // 8 characters, 16 bytes.
        assert!(check_length("éééééééé").is_ok());
        assert!(check_length(&"x".repeat(128)).is_ok());
        assert_eq!(
            check_length(&"x".repeat(129)),
            Err(PasswordError::TooLong { max: 128 })
        );
    }

    #[test]
    fn errors_read_clearly() {
        assert_eq!(
            PasswordError::TooShort { min: 8, actual: 3 }.to_string(),
            "password must be at least 8 characters long (got 3)"
        );
        assert_eq!(
            PasswordError::TooLong { max: 128 }.to_string(),
            "password must be at most 128 characters long"
        );
    }
}
