//! [`LoginAttempt`]: what a login handler reports about an attempt (which account, how it
//! went), and the decisions the limiter answers with.

use std::fmt;
use std::time::Duration;

/// How a login attempt went.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AttemptOutcome {
    /// The credentials were right.
    Success,
    /// The credentials were wrong (or the account is unknown: the two must look the same).
    Failure,
    /// No credential check happened (a malformed request, a server error); counts towards the
    /// rate limit only.
    Neutral,
}

impl AttemptOutcome {
    /// `"success"`, `"failure"` or `"neutral"`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Success => "success",
            Self::Failure => "failure",
            Self::Neutral => "neutral",
        }
    }
}

impl fmt::Display for AttemptOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a login handler tells the brute-force layer about one attempt.
///
/// A layer cannot read request bodies, so the handler puts this value in its **response**
/// extensions (with axum: return `Extension(LoginAttempt::failure(email))` as a response part).
/// The account is the login name **as the handler normalises it** (e.g. trimmed and
/// lower-cased), and must be reported the same way whether or not the account exists.
///
/// ```
/// use auth_core::brute_force::{AttemptOutcome, LoginAttempt};
///
/// let a = LoginAttempt::failure("alice@example.com");
/// assert_eq!(a.account(), Some("alice@example.com"));
/// assert_eq!(a.outcome(), AttemptOutcome::Failure);
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct LoginAttempt {
    account: Option<Box<str>>,
    outcome: AttemptOutcome,
}

impl LoginAttempt {
    /// The credentials for `account` were right.
    #[must_use]
    pub fn success(account: impl Into<String>) -> Self {
        Self::new(Some(account.into()), AttemptOutcome::Success)
    }

    /// The credentials for `account` were wrong, or `account` does not exist.
    #[must_use]
    pub fn failure(account: impl Into<String>) -> Self {
        Self::new(Some(account.into()), AttemptOutcome::Failure)
    }

    /// Any combination, e.g. a failure whose account could not be read.
    #[must_use]
    pub fn new(account: Option<String>, outcome: AttemptOutcome) -> Self {
        Self {
            account: account.map(String::into_boxed_str),
            outcome,
        }
    }

    /// The account, when known.
    #[must_use]
    pub fn account(&self) -> Option<&str> {
        self.account.as_deref()
    }

    /// How the attempt went.
    #[must_use]
    pub const fn outcome(&self) -> AttemptOutcome {
        self.outcome
    }
}

/// Why an attempt was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum BlockReason {
    /// The client used up its attempts for the current window.
    RateLimited,
    /// The client is locked out after too many failures.
    ClientLockedOut,
    /// The account is locked out after too many failures.
    AccountLockedOut,
}

impl BlockReason {
    /// `"rate_limited"`, `"client_locked_out"` or `"account_locked_out"`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::RateLimited => "rate_limited",
            Self::ClientLockedOut => "client_locked_out",
            Self::AccountLockedOut => "account_locked_out",
        }
    }
}

impl fmt::Display for BlockReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A refused attempt: why, for how long, at which lockout level.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Blocked {
    retry_after: Duration,
    reason: BlockReason,
    lockout_level: u8,
}

impl Blocked {
    /// A refusal (for store implementations).
    #[must_use]
    pub const fn new(retry_after: Duration, reason: BlockReason, lockout_level: u8) -> Self {
        Self {
            retry_after,
            reason,
            lockout_level,
        }
    }

    /// How long until an attempt can pass.
    #[must_use]
    pub const fn retry_after(&self) -> Duration {
        self.retry_after
    }

    /// Why.
    #[must_use]
    pub const fn reason(&self) -> BlockReason {
        self.reason
    }

    /// The lockout level of whatever is locked (0 when only rate-limited).
    #[must_use]
    pub const fn lockout_level(&self) -> u8 {
        self.lockout_level
    }
}

/// The answer to the pre-check, before the handler runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Admission {
    /// The attempt may proceed; it has been counted in the client's window.
    Admitted,
    /// The attempt is refused; the handler must not run.
    Blocked(Blocked),
}

/// What recording an outcome changed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Recorded {
    client_level: u8,
    account_level: u8,
    lockout_engaged: bool,
}

impl Recorded {
    /// A report (for store implementations).
    #[must_use]
    pub const fn new(client_level: u8, account_level: u8, lockout_engaged: bool) -> Self {
        Self {
            client_level,
            account_level,
            lockout_engaged,
        }
    }

    /// The client's lockout level after this attempt.
    #[must_use]
    pub const fn client_level(&self) -> u8 {
        self.client_level
    }

    /// The account's lockout level after this attempt (0 without an account).
    #[must_use]
    pub const fn account_level(&self) -> u8 {
        self.account_level
    }

    /// The higher of the two levels.
    #[must_use]
    pub const fn lockout_level(&self) -> u8 {
        if self.client_level > self.account_level {
            self.client_level
        } else {
            self.account_level
        }
    }

    /// Whether this attempt started (or lengthened) a lockout.
    #[must_use]
    pub const fn lockout_engaged(&self) -> bool {
        self.lockout_engaged
    }
}

/// The answer to recording an outcome, after the handler ran.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Verdict {
    /// The outcome was counted; the handler's answer stands.
    Recorded(Recorded),
    /// The account is locked out for this client: the handler's answer must be replaced by a
    /// refusal (even a right password), and the outcome was not counted for the account.
    Blocked(Blocked),
}
