//! [`BruteForceLimiter`]: a policy, a store and a clock; the two calls a login endpoint makes.

use std::fmt;
use std::sync::Arc;

use super::attempt::{Admission, AttemptOutcome, LoginAttempt, Verdict};
use super::key::{AttemptKey, ClientKey};
use super::policy::BruteForcePolicy;
use super::store::{AttemptStore, AttemptStoreError};
use crate::ConfigError;
use crate::clock::{Clock, SystemClock};

/// Brute-force protection for login-like endpoints: [`check`](Self::check) before the
/// credentials are verified, [`record`](Self::record) after. Cheap to clone (one reference
/// count).
///
/// Every attempt produces exactly one `tracing` event with target `auth::brute_force`: fields
/// `client`, `account` (when known), `outcome` (`success`, `failure`, `neutral`, `blocked`),
/// `lockout_level`, and for refusals `reason` and `retry_after_secs`. Debug level, info when a
/// lockout starts. Passwords and request bodies never reach the limiter.
///
/// ```
/// use auth_core::brute_force::{
///     Admission, BruteForceLimiter, BruteForcePolicy, ClientKey, LoginAttempt, Verdict,
/// };
/// use auth_core::clock::{ManualClock, UnixTime};
/// use std::time::Duration;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let clock = ManualClock::new(UnixTime::from_secs(1_700_000_000));
/// let limiter = BruteForceLimiter::builder(BruteForcePolicy::default())
///     .clock(clock.clone())
///     .build()?;
/// let client = ClientKey::from_ip("203.0.113.7".parse()?);
///
/// // Five wrong passwords for one account lock it for 15 minutes ...
/// for _ in 0..5 {
///     assert_eq!(limiter.check(&client).await?, Admission::Admitted);
///     limiter.record(&client, &LoginAttempt::failure("alice@example.com")).await?;
///     clock.advance(Duration::from_secs(20));
/// }
/// // ... so even the right password is refused from this (suspect) client.
/// assert_eq!(limiter.check(&client).await?, Admission::Admitted);
/// let verdict = limiter.record(&client, &LoginAttempt::success("alice@example.com")).await?;
/// let Verdict::Blocked(blocked) = verdict else { panic!("still locked") };
/// assert_eq!(blocked.retry_after(), Duration::from_secs(15 * 60 - 20));
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct BruteForceLimiter {
    inner: Arc<Inner>,
}

struct Inner {
    policy: BruteForcePolicy,
    store: Arc<dyn AttemptStore>,
    clock: Arc<dyn Clock>,
}

impl fmt::Debug for BruteForceLimiter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BruteForceLimiter")
            .field("policy", &self.inner.policy)
            .field("store", &self.inner.store)
            .field("clock", &self.inner.clock)
            .finish()
    }
}

impl BruteForceLimiter {
    /// A limiter with an in-memory store ([`MemoryAttemptStore`](super::MemoryAttemptStore),
    /// 1,000,000 keys at most) and the system clock.
    #[cfg(feature = "memory-store")]
    #[cfg_attr(docsrs, doc(cfg(feature = "memory-store")))]
    #[must_use]
    pub fn new(policy: BruteForcePolicy) -> Self {
        Self {
            inner: Arc::new(Inner {
                policy,
                store: Arc::new(super::MemoryAttemptStore::new()),
                clock: Arc::new(SystemClock),
            }),
        }
    }

    /// A builder for the store and the clock.
    pub fn builder(policy: BruteForcePolicy) -> BruteForceLimiterBuilder {
        BruteForceLimiterBuilder {
            policy,
            store: None,
            clock: None,
        }
    }

    /// The policy.
    #[must_use]
    pub fn policy(&self) -> &BruteForcePolicy {
        &self.inner.policy
    }

    /// The store.
    #[must_use]
    pub fn store(&self) -> &Arc<dyn AttemptStore> {
        &self.inner.store
    }

    /// The clock every decision reads.
    #[must_use]
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.inner.clock
    }

    /// The pre-check, before the credentials are verified: [`Admission::Blocked`] while the
    /// client is locked out or over its rate limit (then do **not** verify anything), otherwise
    /// the attempt is counted and admitted.
    ///
    /// # Errors
    ///
    /// [`AttemptStoreError`] when the store fails.
    pub async fn check(&self, client: &ClientKey) -> Result<Admission, AttemptStoreError> {
        let now = self.inner.clock.now();
        let admission = self
            .inner
            .store
            .admit(&client.attempt_key(), &self.inner.policy, now)
            .await?;
        if let Admission::Blocked(b) = admission {
            tracing::debug!(
                target: "auth::brute_force",
                client = %client,
                outcome = "blocked",
                reason = b.reason().as_str(),
                lockout_level = b.lockout_level(),
                retry_after_secs = b.retry_after().as_secs(),
                "login attempt refused before the credentials were checked"
            );
        }
        Ok(admission)
    }

    /// Records how an admitted attempt went. With [`Verdict::Blocked`] the account is locked
    /// out for this client: answer with the refusal instead of the handler's response, **even
    /// when the password was right**.
    ///
    /// # Errors
    ///
    /// [`AttemptStoreError`] when the store fails.
    pub async fn record(
        &self,
        client: &ClientKey,
        attempt: &LoginAttempt,
    ) -> Result<Verdict, AttemptStoreError> {
        self.record_outcome(client, attempt.account(), attempt.outcome())
            .await
    }

    /// [`record`](Self::record) with the parts of a [`LoginAttempt`].
    ///
    /// # Errors
    ///
    /// [`AttemptStoreError`] when the store fails.
    pub async fn record_outcome(
        &self,
        client: &ClientKey,
        account: Option<&str>,
        outcome: AttemptOutcome,
    ) -> Result<Verdict, AttemptStoreError> {
        let now = self.inner.clock.now();
        let account_key = account.map(AttemptKey::account);
        let verdict = self
            .inner
            .store
            .record(
                &client.attempt_key(),
                account_key.as_ref(),
                outcome,
                &self.inner.policy,
                now,
            )
            .await?;
        // The account's store key (a digest), never its name: a login name is often an email,
        // and none may reach the logs (the audit trail has its own keyed digest).
        let account_field = account_key.as_ref().map(tracing::field::debug);
        match verdict {
            Verdict::Blocked(b) => tracing::debug!(
                target: "auth::brute_force",
                client = %client,
                account_key = account_field,
                outcome = "blocked",
                checked = outcome.as_str(),
                reason = b.reason().as_str(),
                lockout_level = b.lockout_level(),
                retry_after_secs = b.retry_after().as_secs(),
                "login attempt refused: the account is locked out"
            ),
            Verdict::Recorded(r) if r.lockout_engaged() => tracing::info!(
                target: "auth::brute_force",
                client = %client,
                account_key = account_field,
                outcome = outcome.as_str(),
                lockout_level = r.lockout_level(),
                client_level = r.client_level(),
                account_level = r.account_level(),
                "login attempt recorded; lockout engaged"
            ),
            Verdict::Recorded(r) => tracing::debug!(
                target: "auth::brute_force",
                client = %client,
                account_key = account_field,
                outcome = outcome.as_str(),
                lockout_level = r.lockout_level(),
                "login attempt recorded"
            ),
        }
        Ok(verdict)
    }

    /// Lifts an account's lockout and forgets its failures (e.g. after a support check).
    ///
    /// # Errors
    ///
    /// [`AttemptStoreError`] when the store fails.
    pub async fn unlock_account(&self, account: &str) -> Result<(), AttemptStoreError> {
        self.inner
            .store
            .clear(&AttemptKey::account(account), &self.inner.policy)
            .await
    }

    /// Lifts a client's lockout and forgets its failures (its rate-limit window stays).
    ///
    /// # Errors
    ///
    /// [`AttemptStoreError`] when the store fails.
    pub async fn unlock_client(&self, client: &ClientKey) -> Result<(), AttemptStoreError> {
        self.inner
            .store
            .clear(&client.attempt_key(), &self.inner.policy)
            .await
    }
}

/// Builds a [`BruteForceLimiter`]; see [`BruteForceLimiter::builder`].
#[must_use]
pub struct BruteForceLimiterBuilder {
    policy: BruteForcePolicy,
    store: Option<Arc<dyn AttemptStore>>,
    clock: Option<Arc<dyn Clock>>,
}

impl fmt::Debug for BruteForceLimiterBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BruteForceLimiterBuilder")
            .field("policy", &self.policy)
            .field("store", &self.store)
            .field("clock", &self.clock)
            .finish()
    }
}

impl BruteForceLimiterBuilder {
    /// The store (default: a new [`MemoryAttemptStore`](super::MemoryAttemptStore) with the
    /// `memory-store` feature). Keep a clone of the `Arc` to call its housekeeping.
    pub fn store<S: AttemptStore>(mut self, store: Arc<S>) -> Self {
        self.store = Some(store);
        self
    }

    /// The clock (default: [`SystemClock`]).
    pub fn clock(mut self, clock: impl Clock) -> Self {
        self.clock = Some(Arc::new(clock));
        self
    }

    /// Builds the limiter.
    ///
    /// # Errors
    ///
    /// [`ConfigError::InvalidPolicy`] when no store was given and the `memory-store` feature
    /// (which provides the default) is off.
    pub fn build(self) -> Result<BruteForceLimiter, ConfigError> {
        let store = match self.store {
            Some(s) => s,
            None => default_store()?,
        };
        Ok(BruteForceLimiter {
            inner: Arc::new(Inner {
                policy: self.policy,
                store,
                clock: self.clock.unwrap_or_else(|| Arc::new(SystemClock)),
            }),
        })
    }
}

#[cfg(feature = "memory-store")]
fn default_store() -> Result<Arc<dyn AttemptStore>, ConfigError> {
    Ok(Arc::new(super::MemoryAttemptStore::new()))
}

#[cfg(not(feature = "memory-store"))]
fn default_store() -> Result<Arc<dyn AttemptStore>, ConfigError> {
    Err(ConfigError::InvalidPolicy {
        setting: "store",
        reason: "no attempt store given, and the `memory-store` feature that provides the \
                 default is off"
            .to_owned(),
    })
}

#[cfg(test)]
#[cfg(feature = "memory-store")]
mod tests {
    use super::*;
    use crate::brute_force::{BlockReason, MemoryAttemptStore};
    use crate::clock::{ManualClock, UnixTime};
    use std::time::Duration;

    fn setup() -> (BruteForceLimiter, ManualClock) {
        let clock = ManualClock::new(UnixTime::from_secs(1_700_000_000));
        let limiter = BruteForceLimiter::builder(BruteForcePolicy::default())
            .store(Arc::new(MemoryAttemptStore::new()))
            .clock(clock.clone())
            .build()
            .unwrap();
        (limiter, clock)
    }

    #[test]
    fn recorded_attempts_log_the_account_key_never_the_name() {
        use std::sync::Mutex;
        use tracing_subscriber::fmt::MakeWriter;

        #[derive(Clone, Default)]
        struct Buf(Arc<Mutex<Vec<u8>>>);
        impl std::io::Write for Buf {
            fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
                self.0.lock().unwrap().extend_from_slice(b);
                Ok(b.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        impl<'a> MakeWriter<'a> for Buf {
            type Writer = Buf;
            fn make_writer(&'a self) -> Buf {
                self.clone()
            }
        }
        let buf = Buf::default();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_writer(buf.clone())
            .with_ansi(false)
            .finish();
        let (limiter, _clock) = setup();
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        tracing::subscriber::with_default(subscriber, || {
            rt.block_on(async {
                let c = ClientKey::named("tenant-1");
                for _ in 0..6 {
                    limiter
                        .record(&c, &LoginAttempt::failure("carol@example.com"))
                        .await
                        .unwrap();
                }
            });
        });
        let logs = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
        assert!(logs.contains("account_key=AttemptKey("), "{logs}");
        assert!(!logs.contains("carol"), "{logs}");
    }

    #[tokio::test]
    async fn unlock_account_lifts_the_lockout() {
        let (limiter, _clock) = setup();
        let c = ClientKey::named("tenant-1");
        for _ in 0..5 {
            limiter
                .record(&c, &LoginAttempt::failure("bob@example.com"))
                .await
                .unwrap();
        }
        let v = limiter
            .record(&c, &LoginAttempt::success("bob@example.com"))
            .await
            .unwrap();
        let Verdict::Blocked(b) = v else {
            panic!("expected the lockout")
        };
        assert_eq!(b.reason(), BlockReason::AccountLockedOut);
        limiter.unlock_account("bob@example.com").await.unwrap();
        let v = limiter
            .record(&c, &LoginAttempt::success("bob@example.com"))
            .await
            .unwrap();
        assert!(matches!(v, Verdict::Recorded(_)));
    }

    #[tokio::test]
    async fn lockout_lifts_after_its_step_without_sleeping() {
        let (limiter, clock) = setup();
        let c = ClientKey::from_ip("198.51.100.1".parse().unwrap());
        for _ in 0..10 {
            limiter
                .record_outcome(&c, None, AttemptOutcome::Failure)
                .await
                .unwrap();
        }
        let Admission::Blocked(b) = limiter.check(&c).await.unwrap() else {
            panic!("expected the client lockout")
        };
        assert_eq!(b.retry_after(), Duration::from_secs(900));
        clock.advance(Duration::from_secs(900));
        assert_eq!(limiter.check(&c).await.unwrap(), Admission::Admitted);
    }
}
