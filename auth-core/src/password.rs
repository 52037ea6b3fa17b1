//! Password hashing with Argon2id, and verification that does not reveal whether an account
//! exists, with bounded memory and concurrency.
//!
//! [`Passwords`] hashes with Argon2id and the OWASP Password Storage Cheat Sheet's first
//! configuration (19 MiB of memory, 2 iterations, 1 lane), into a PHC string
//! (`$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>`) that records its own parameters. Passwords
//! must be 8 to 128 characters (NIST SP 800-63B: at least 8; a maximum of at least 64; the cap
//! bounds the work an attacker can ask for), counted as Unicode characters.
//!
//! # Bounded work and memory
//!
//! At most [`max_concurrent`](Passwords::max_concurrent) hashes and verifications run at once
//! (default: the number of CPUs, [`default_max_concurrent`]). Each runs in one of that many
//! Argon2 memory buffers, allocated on first need and reused, never freed and re-allocated, so
//! password hashing holds at most `max_concurrent` x 19 MiB however many requests arrive. A
//! caller that finds every slot busy waits at most [`max_wait`](Passwords::max_wait) (default
//! [`DEFAULT_MAX_WAIT`], 200 ms) and then gets [`PasswordError::Busy`]: answer it with
//! "try again later" (HTTP 503 and `Retry-After`), never by hashing anyway. The wait is a real
//! wait of the calling thread (a `Condvar`), the one place this module reads real time; it
//! decides nothing about credentials.
//!
//! # Example
//!
//! ```
//! use auth_core::password::{PasswordError, Passwords};
//! use std::num::NonZeroUsize;
//! use std::time::Duration;
//!
//! let passwords = Passwords::owasp()
//!     .with_max_concurrent(NonZeroUsize::new(2).unwrap())
//!     .with_max_wait(Duration::from_millis(250));
//! let stored = passwords.hash("correct horse battery staple")?;
//! assert!(stored.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
//! assert_eq!(passwords.hashes_computed(), 1);
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
//!   login and registration endpoints behind per-client limiting. The concurrency bound keeps
//!   a flood from exhausting memory; it does not keep it from taking every slot (legitimate
//!   users then get `Busy` too), which is what the per-client limit is for.
//! - Login answers must not tell "unknown account" from "wrong password": pass `None` for an
//!   unknown account to [`Passwords::verify`], which then verifies against a dummy hash with the
//!   same parameters, and answer both with the same `INVALID_CREDENTIALS`. `Busy` comes for
//!   both alike.
//! - Where an answer must not reveal whether an account exists by its timing (e.g. a
//!   registration refused because the email is taken), do the same Argon2 work on both paths;
//!   [`Passwords::hashes_computed`] lets a test prove it without timing anything.
//! - The length check runs before any hashing and is the same for known and unknown accounts,
//!   so it reveals nothing about accounts.
//! - Verification recomputes the hash with the stored string's own parameters and salt and
//!   compares the outputs in constant time ([`crate::constant_time::secrets_equal`]). A stored
//!   hash with a larger memory cost than the buffers gets a buffer of its own for that run.
//! - The buffers are zeroed when a run ends, so the memory derived from the last password does
//!   not linger until the next run.

use std::fmt;
use std::num::NonZeroUsize;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use argon2::password_hash::phc::{Output, ParamsString, PasswordHash, Salt};
use argon2::{Algorithm, Argon2, Params, Version};

use crate::constant_time::secrets_equal;

mod pool;

use pool::{AcquireError, MemoryPool};

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

/// How long a hash or verification waits for a free slot by default before it gives up with
/// [`PasswordError::Busy`].
pub const DEFAULT_MAX_WAIT: Duration = Duration::from_millis(200);

/// The length of the hashes [`Passwords::hash`] makes, in bytes (Argon2's default).
const OUTPUT_LEN: usize = Params::DEFAULT_OUTPUT_LEN;

/// The default number of hashes and verifications that may run at once: the number of CPUs
/// the process may use ([`std::thread::available_parallelism`]), or 1 if that is unknown.
#[must_use]
pub fn default_max_concurrent() -> NonZeroUsize {
    std::thread::available_parallelism().unwrap_or(NonZeroUsize::MIN)
}

/// Hashes and verifies passwords, at most [`max_concurrent`](Self::max_concurrent) at once.
/// Share it by reference or `Arc`; it is not `Clone` (the memory buffers are its own).
pub struct Passwords {
    params: Params,
    dummy: OnceLock<String>,
    dummy_runs: AtomicU64,
    hashes: AtomicU64,
    pool: MemoryPool,
}

impl fmt::Debug for Passwords {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Passwords")
            .field("m_cost_kib", &self.params.m_cost())
            .field("t_cost", &self.params.t_cost())
            .field("p_cost", &self.params.p_cost())
            .field("max_concurrent", &self.pool.max())
            .field("max_wait", &self.pool.wait())
            .field("hashes_computed", &self.hashes_computed())
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
    /// Argon2id with OWASP's parameters (19 MiB, 2 iterations, 1 lane), at most
    /// [`default_max_concurrent`] runs at once, each waiting at most [`DEFAULT_MAX_WAIT`] for
    /// its turn.
    #[must_use]
    pub fn owasp() -> Self {
        // These constants are valid Argon2 parameters; `Params::DEFAULT` (the same values in
        // argon2 0.6) is the fallback should a future version refuse them.
        let params = Params::new(OWASP_MEMORY_KIB, OWASP_ITERATIONS, OWASP_LANES, None)
            .unwrap_or(Params::DEFAULT);
        let pool = MemoryPool::new(
            params.block_count(),
            default_max_concurrent().get(),
            DEFAULT_MAX_WAIT,
        );
        Self {
            params,
            dummy: OnceLock::new(),
            dummy_runs: AtomicU64::new(0),
            hashes: AtomicU64::new(0),
            pool,
        }
    }

    /// At most `n` hashes and verifications run at once; each holds one of at most `n` memory
    /// buffers of the Argon2 memory cost (19 MiB at OWASP's parameters), allocated on first
    /// need and reused, so password hashing never holds more than `n` x 19 MiB.
    #[must_use]
    pub fn with_max_concurrent(mut self, n: NonZeroUsize) -> Self {
        self.pool = MemoryPool::new(self.params.block_count(), n.get(), self.pool.wait());
        self
    }

    /// How long a hash or verification waits for its turn before it fails with
    /// [`PasswordError::Busy`] (default [`DEFAULT_MAX_WAIT`]; zero: never wait). The wait blocks
    /// the calling thread, so keep it short: a few times the duration of one hash.
    #[must_use]
    pub fn with_max_wait(mut self, wait: Duration) -> Self {
        self.pool = MemoryPool::new(self.params.block_count(), self.pool.max(), wait);
        self
    }

    /// How many hashes and verifications may run at once.
    #[must_use]
    pub fn max_concurrent(&self) -> usize {
        self.pool.max()
    }

    /// How long a caller waits for its turn.
    #[must_use]
    pub fn max_wait(&self) -> Duration {
        self.pool.wait()
    }

    fn argon2(&self) -> Argon2<'static> {
        Argon2::new(Algorithm::Argon2id, Version::V0x13, self.params.clone())
    }

    /// Hashes `password` with a fresh random salt into a PHC string. Blocking (tens of
    /// milliseconds, plus at most [`max_wait`](Self::max_wait) for a turn).
    ///
    /// # Errors
    ///
    /// [`PasswordError::TooShort`] / [`PasswordError::TooLong`] outside 8 to 128 characters,
    /// [`PasswordError::Busy`] when [`max_concurrent`](Self::max_concurrent) runs stayed busy
    /// for the whole wait, [`PasswordError::Hashing`] when Argon2, the random source or the
    /// allocator fails.
    pub fn hash(&self, password: &str) -> Result<String, PasswordError> {
        check_length(password)?;
        let phc = self.compute_hash(password)?;
        self.hashes.fetch_add(1, Ordering::Relaxed);
        Ok(phc)
    }

    fn compute_hash(&self, password: &str) -> Result<String, PasswordError> {
        let hashing = |e: &dyn fmt::Display| PasswordError::Hashing(e.to_string());
        let salt = argon2::password_hash::try_generate_salt().map_err(|e| hashing(&e))?;
        let mut out = [0u8; OUTPUT_LEN];
        {
            let mut lease = self.pool.acquire().map_err(PasswordError::from)?;
            self.argon2()
                .hash_password_into_with_memory(
                    password.as_bytes(),
                    &salt,
                    &mut out,
                    lease.blocks(),
                )
                .map_err(|e| hashing(&e))?;
        }
        let phc = PasswordHash {
            algorithm: Algorithm::Argon2id.ident(),
            version: Some(Version::V0x13.into()),
            params: ParamsString::try_from(&self.params).map_err(|e| hashing(&e))?,
            salt: Some(Salt::new(&salt).map_err(|e| hashing(&e))?),
            hash: Some(Output::new(&out).map_err(|e| hashing(&e))?),
        };
        Ok(phc.to_string())
    }

    /// Whether `password` matches `stored`, a PHC string from [`hash`](Self::hash) (or any
    /// Argon2 PHC string: its own algorithm, version, parameters and salt are used). Blocking,
    /// like [`hash`](Self::hash). The outputs are compared in constant time
    /// ([`secrets_equal`]).
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
    /// [`PasswordError::Busy`] (known and unknown accounts alike) when no turn came within
    /// the wait, [`PasswordError::Hashing`] when the dummy hash cannot be made or the
    /// allocator fails.
    pub fn verify(&self, stored: Option<&str>, password: &str) -> Result<bool, PasswordError> {
        if check_length(password).is_err() {
            return Ok(false);
        }
        let Some(stored) = stored else {
            let dummy = self.dummy_hash()?;
            return match self.matches(dummy, password) {
                Err(e @ (PasswordError::Busy | PasswordError::Hashing(_))) => Err(e),
                _ => {
                    self.dummy_runs.fetch_add(1, Ordering::Relaxed);
                    Ok(false)
                }
            };
        };
        self.matches(stored, password)
    }

    /// Recomputes `stored`'s hash for `password` in a pooled buffer and compares.
    fn matches(&self, stored: &str, password: &str) -> Result<bool, PasswordError> {
        let invalid = |e: &dyn fmt::Display| PasswordError::InvalidHash(e.to_string());
        let parsed = PasswordHash::new(stored).map_err(|e| invalid(&e))?;
        let algorithm = Algorithm::new(parsed.algorithm.as_str()).map_err(|e| invalid(&e))?;
        let version = match parsed.version {
            Some(v) => Version::try_from(v).map_err(|e| invalid(&e))?,
            None => Version::default(),
        };
        let params = Params::try_from(&parsed).map_err(|e| invalid(&e))?;
        let (Some(salt), Some(expected)) = (&parsed.salt, &parsed.hash) else {
            return Err(invalid(&"no salt or no hash"));
        };
        let mut buffer = [0u8; Output::MAX_LENGTH];
        let out = buffer
            .get_mut(..expected.len())
            .ok_or_else(|| invalid(&"hash too long"))?;
        let argon2 = Argon2::new(algorithm, version, params.clone());
        let mut lease = self.pool.acquire().map_err(PasswordError::from)?;
        let computed = if params.block_count() <= lease.blocks().len() {
            argon2.hash_password_into_with_memory(password.as_bytes(), salt, out, lease.blocks())
        } else {
            // A hash made with more memory than ours (older, stronger parameters): a buffer of
            // its own, still under this run's turn, and freed right after.
            let mut larger = pool::allocate(params.block_count()).ok_or_else(|| {
                PasswordError::Hashing("out of memory for the stored hash's parameters".into())
            })?;
            argon2.hash_password_into_with_memory(password.as_bytes(), salt, out, &mut larger[..])
        };
        drop(lease);
        computed.map_err(|e| invalid(&e))?;
        Ok(secrets_equal(expected.as_bytes(), out))
    }

    /// How many verifications ran against the dummy hash (unknown accounts). For tests and
    /// metrics: proves that unknown accounts cost one verification, without timing anything.
    #[must_use]
    pub fn dummy_verifications(&self) -> u64 {
        self.dummy_runs.load(Ordering::Relaxed)
    }

    /// How many passwords [`hash`](Self::hash) has hashed (not counting the dummy hash). For
    /// tests and metrics: proves that two paths cost the same Argon2 work, without timing
    /// anything.
    #[must_use]
    pub fn hashes_computed(&self) -> u64 {
        self.hashes.load(Ordering::Relaxed)
    }

    /// Takes one hashing slot (and its buffer) until the returned guard is dropped, so tests
    /// can make hashing busy deterministically. For tests only.
    ///
    /// Only available with the `test-util` feature; never enable it in production builds.
    ///
    /// # Errors
    ///
    /// [`PasswordError::Busy`] when every slot stayed taken for the whole wait.
    #[cfg(feature = "test-util")]
    #[cfg_attr(docsrs, doc(cfg(feature = "test-util")))]
    pub fn occupy_slot_for_tests(&self) -> Result<OccupiedSlot<'_>, PasswordError> {
        Ok(OccupiedSlot {
            _lease: self.pool.acquire()?,
        })
    }

    fn dummy_hash(&self) -> Result<&str, PasswordError> {
        if let Some(dummy) = self.dummy.get() {
            return Ok(dummy);
        }
        // An unguessable password (the OS random source, as the salts use), so the dummy hash
        // never matches anything. A failure (e.g. `Busy`) is not remembered: the next call
        // tries again. Two first calls at once may both compute it; one result is kept.
        let random = argon2::password_hash::try_generate_salt()
            .map_err(|e| PasswordError::Hashing(e.to_string()))?;
        let filler: String = random.iter().map(|b| format!("{b:02x}")).collect();
        let hash = self.compute_hash(&filler)?;
        Ok(self.dummy.get_or_init(|| hash))
    }
}

/// A hashing slot held by [`Passwords::occupy_slot_for_tests`]; released when dropped.
#[cfg(feature = "test-util")]
#[cfg_attr(docsrs, doc(cfg(feature = "test-util")))]
#[derive(Debug)]
pub struct OccupiedSlot<'a> {
    _lease: pool::Lease<'a>,
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
    /// Argon2, the random source or the allocator failed.
    Hashing(String),
    /// Every slot for password hashing stayed busy for the whole wait (see
    /// [`Passwords::with_max_concurrent`]): the server is overloaded, try again shortly (HTTP
    /// servers answer 503 with `Retry-After`).
    Busy,
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
            Self::Busy => f.write_str("password hashing is busy; try again shortly"),
        }
    }
}

impl std::error::Error for PasswordError {}

impl From<AcquireError> for PasswordError {
    fn from(e: AcquireError) -> Self {
        match e {
            AcquireError::Busy => Self::Busy,
            AcquireError::OutOfMemory => {
                Self::Hashing("out of memory for the Argon2 buffer".to_owned())
            }
        }
    }
}

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

    fn one_slot_no_wait() -> Passwords {
        Passwords::owasp()
            .with_max_concurrent(NonZeroUsize::MIN)
            .with_max_wait(Duration::ZERO)
    }

    // Issue 12, item 2: hashing used to run for every caller at once (19 MiB each), with no
    // limit; now a caller that finds every slot taken for the whole wait gets `Busy`.
    #[test]
    fn with_every_slot_taken_hashing_and_verifying_are_busy_and_count_nothing() {
        let p = one_slot_no_wait();
        let stored = p.hash("the real password").unwrap();
        let held = p.pool.acquire().unwrap();
        assert_eq!(p.hash("another password"), Err(PasswordError::Busy));
        assert_eq!(
            p.verify(Some(&stored), "the real password"),
            Err(PasswordError::Busy)
        );
        // Unknown accounts are as busy as known ones, and no dummy run is counted.
        assert_eq!(
            p.verify(None, "the real password"),
            Err(PasswordError::Busy)
        );
        assert_eq!((p.hashes_computed(), p.dummy_verifications()), (1, 0));
        drop(held);
        assert!(p.verify(Some(&stored), "the real password").unwrap());
        assert!(!p.verify(None, "the real password").unwrap());
        assert_eq!(p.dummy_verifications(), 1);
    }

    #[test]
    fn a_busy_dummy_hash_is_not_remembered() {
        let p = one_slot_no_wait();
        let held = p.pool.acquire().unwrap();
        assert_eq!(p.verify(None, "some password"), Err(PasswordError::Busy));
        drop(held);
        assert_eq!(p.verify(None, "some password"), Ok(false));
    }

    #[test]
    fn runs_never_hold_more_buffers_than_the_limit() {
        let p = Passwords::owasp()
            .with_max_concurrent(NonZeroUsize::new(2).unwrap())
            .with_max_wait(Duration::from_secs(600));
        std::thread::scope(|s| {
            let runs: Vec<_> = (0..6)
                .map(|_| s.spawn(|| p.hash("a password for a thread")))
                .collect();
            for r in runs {
                assert!(r.join().unwrap().is_ok());
            }
        });
        assert_eq!(p.pool.made(), 2);
        assert_eq!(p.hashes_computed(), 6);
    }

    #[test]
    fn the_default_limit_is_the_number_of_cpus() {
        let p = Passwords::owasp();
        assert_eq!(p.max_concurrent(), default_max_concurrent().get());
        assert_eq!(p.max_wait(), DEFAULT_MAX_WAIT);
        let debug = format!("{p:?}");
        assert!(debug.contains("max_concurrent"), "{debug}");
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
        assert_eq!(
            PasswordError::Busy.to_string(),
            "password hashing is busy; try again shortly"
        );
    }
}
