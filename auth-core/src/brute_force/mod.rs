//! Brute-force and credential-stuffing protection for login-like endpoints.
//!
//! A [`BruteForceLimiter`] combines a [`BruteForcePolicy`], an [`AttemptStore`] and a
//! [`Clock`](crate::clock::Clock). A login endpoint calls it twice:
//!
//! 1. [`check`](BruteForceLimiter::check) with the [`ClientKey`] (the caller's address network,
//!    or a name such as an API key id or a tenant) **before** verifying anything. A client that
//!    is locked out or over its rate limit is refused, so an attacker gets no password-hashing
//!    work done.
//! 2. [`record`](BruteForceLimiter::record) with a [`LoginAttempt`] (the account, as the
//!    handler normalises it, and whether the credentials were right) **after**. The answer may
//!    still be [`Verdict::Blocked`]: the account is locked out for this client, and the
//!    handler's response (even a success) must be replaced by the refusal.
//!
//! `auth-tower`'s `BruteForceLayer` does both around any tower service, reading the account
//! from a `LoginAttempt` response extension.
//!
//! # The policy
//!
//! Defaults (all configurable, see [`BruteForcePolicyBuilder`]):
//!
//! - **Rate limit:** at most 5 attempts per client in any 60 seconds.
//! - **Client lockout:** 10 failures from one client (on any accounts) lock the client out.
//! - **Account lockout:** 5 failures on one account (from any clients) lock the account out.
//! - **Ladder:** the first lockout lasts 15 minutes, the next 1 hour, every later one 24 hours.
//! - **Decay:** 24 hours without failures, counted from the end of the last lockout, resets a
//!   client's or account's failures and lockout level.
//! - **Success** resets the account's failures and level (not the client's: a stuffing client
//!   that hits a valid pair now and then must not clean its own record).
//!
//! ## Sliding window, not GCRA
//!
//! The rate limit is a **sliding log**: each client keeps the times of its admitted attempts in
//! the last window, and an attempt passes while fewer than the limit are there. That is exactly
//! the stated policy ("at most 5 attempts in any 60 seconds"), and `Retry-After` is exact: the
//! time until the oldest of them leaves the window. GCRA (a token bucket) with a burst of 5
//! would let 5 through at once and then one every 12 seconds, i.e. 9 in the first minute; making
//! it never exceed 5 per minute needs a one-per-minute refill, which is much harsher on a person
//! who mistyped a few times. A log costs one slot per allowed attempt, so the policy caps the
//! limit at [`MAX_ATTEMPTS_PER_WINDOW`] (16) to keep every key's state fixed-size: 52 bytes,
//! no heap (offsets of 16 bits from the oldest attempt). Refused attempts are not logged: a
//! client hammering while blocked does not push its own `Retry-After` back.
//!
//! Times are kept at one-second resolution and rounded the strict way (a window or lockout can
//! last up to a second longer than configured, never shorter).
//!
//! # Security considerations
//!
//! The three attacks the design is built around, each proven by a test in
//! `auth-tower/tests/brute_force.rs`:
//!
//! - **Credential stuffing** (one client, many accounts): the per-client rate limit and the
//!   client lockout ladder stop it, whatever accounts it tries: 10 failures in two minutes,
//!   then nothing for 15 minutes, then 1 hour, then 24 hours at a time.
//! - **Distributed guessing** (many clients, one account): after 5 failures the account is
//!   locked out. Every client that failed recently (on any account) is refused on that account,
//!   and refused *after* its credentials were checked: a right guess gets the same 429 as a
//!   wrong one, so guesses made during the lockout reveal nothing.
//! - **Locking the real user out** (denial of service): OWASP's Authentication Cheat Sheet
//!   warns that an account lockout anyone can trigger is a way to lock users out. By default
//!   ([`LockoutScope::SuspectClients`]) a locked account still answers a client with a clean
//!   record, so the real user on an address that has not failed recently (a phone network, home
//!   instead of office) logs in normally; a success resets the account. On an address that did
//!   fail recently they wait at most the current step of the ladder (24 hours at worst).
//!
//! **The trade-off**, documented rather than hidden: under the default scope, each address (each
//! IPv6 `/64`) that has not failed in the last decay period gets one answered guess at a locked
//! account (then it is suspect). An attacker with very many addresses can therefore still make
//! slow progress against one account: one guess per fresh address per day, instead of the rate
//! limit's 5 per minute. [`BruteForcePolicyBuilder::dangerous_lock_out_every_client`] closes that
//! gap and reopens the lockout DoS. Neither setting replaces what OWASP ranks higher: MFA,
//! refusing breached passwords, and alerting on lockouts.
//!
//! More points for reviewers:
//!
//! - **Concurrency.** The pre-check is one atomic check-and-record per client, so concurrent
//!   requests can never take more than the limit between them. The record step reads "was this
//!   client suspect" and records its failure in one step, so a fresh client firing concurrent
//!   guesses at a locked account gets at most one answered.
//! - **Enumeration.** Lockouts and refusals are identical for existing and unknown accounts,
//!   provided the handler reports unknown accounts as failures with the same normalised name.
//! - **Keys.** Accounts and client names are stored as the first 128 bits of a domain-separated
//!   SHA-256, so no name can be chosen to share another account's counters, and long names
//!   cost no memory. Addresses are stored as their network (IPv6 by `/64` by default,
//!   [`IpGrouping`]).
//! - **Memory.** Entries expire and are evicted without being touched; the number of keys is
//!   capped, and at the cap the key that expires soonest is evicted (see
//!   [`MemoryAttemptStore`] for why neither failing closed nor failing open is better).
//! - **Store failures.** The limiter reports them; `auth-tower`'s layer fails closed (503) by
//!   default.
//! - **Logs.** Each attempt is one `tracing` event (target `auth::brute_force`) with the client,
//!   the account (escaped, at most 128 characters), the outcome and the lockout level; never a
//!   password or a body.
//!
//! # Example
//!
//! ```
//! use auth_core::brute_force::{
//!     Admission, BlockReason, BruteForceLimiter, BruteForcePolicy, ClientKey, LoginAttempt,
//! };
//! use auth_core::clock::{ManualClock, UnixTime};
//! use std::time::Duration;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let clock = ManualClock::new(UnixTime::from_secs(1_700_000_000));
//! let limiter = BruteForceLimiter::builder(BruteForcePolicy::default())
//!     .clock(clock.clone())
//!     .build()?;
//! let client = ClientKey::from_ip("203.0.113.7".parse()?);
//!
//! for _ in 0..5 {
//!     assert_eq!(limiter.check(&client).await?, Admission::Admitted);
//!     limiter.record(&client, &LoginAttempt::failure("alice@example.com")).await?;
//! }
//! // The sixth attempt within the minute is refused before anything is verified.
//! let Admission::Blocked(blocked) = limiter.check(&client).await? else { unreachable!() };
//! assert_eq!(blocked.reason(), BlockReason::RateLimited);
//! assert_eq!(blocked.retry_after(), Duration::from_secs(60));
//!
//! // The window rolls.
//! clock.advance(Duration::from_secs(60));
//! assert_eq!(limiter.check(&client).await?, Admission::Admitted);
//! # Ok(()) }
//! ```

mod attempt;
mod key;
mod limiter;
#[cfg(feature = "memory-store")]
mod memory;
mod policy;
// The per-key state machine; stores outside this crate (Redis scripts) implement the same rules.
#[cfg(feature = "memory-store")]
mod record;
mod store;

pub use attempt::{
    Admission, AttemptOutcome, BlockReason, Blocked, LoginAttempt, Recorded, Verdict,
};
pub use key::{AttemptKey, ClientKey, IpGrouping};
pub use limiter::{BruteForceLimiter, BruteForceLimiterBuilder};
#[cfg(feature = "memory-store")]
#[cfg_attr(docsrs, doc(cfg(feature = "memory-store")))]
pub use memory::MemoryAttemptStore;
pub use policy::{
    BruteForcePolicy, BruteForcePolicyBuilder, DEFAULT_LADDER, LockoutScope,
    MAX_ATTEMPTS_PER_WINDOW, MAX_LADDER_STEPS, MAX_PERIOD, MAX_WINDOW,
};
pub use store::{AttemptStore, AttemptStoreError, AttemptStoreHousekeeping};
