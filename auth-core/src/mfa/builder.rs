//! [`MfaBuilder`]: the keys, stores, parameters and clock of an [`Mfa`].

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use super::context::DEFAULT_MFA_ACR;
use super::credential::TotpStore;
use super::login_token::MfaTokenStore;
use super::otpauth::Issuer;
use super::recovery::RecoveryCodeKey;
use super::recovery_store::RecoveryCodeStore;
use super::seal::SecretSealer;
use super::service::{Inner, Mfa};
use super::throttle::{Throttle, default_mfa_policy};
use super::totp::{TotpParams, TotpWindow};
use crate::ConfigError;
use crate::brute_force::BruteForceLimiter;
use crate::clock::{Clock, SystemClock};

/// How long an unconfirmed enrolment stays confirmable by default: 10 minutes.
pub const DEFAULT_ENROLMENT_LIFETIME: Duration = Duration::from_secs(10 * 60);

/// How long an MFA login token is valid by default: 5 minutes.
pub const DEFAULT_LOGIN_TOKEN_LIFETIME: Duration = Duration::from_secs(5 * 60);

/// Builds an [`Mfa`]; created by [`Mfa::builder`].
#[must_use]
pub struct MfaBuilder {
    sealer: SecretSealer,
    recovery_key: RecoveryCodeKey,
    issuer: Option<String>,
    params: TotpParams,
    window: TotpWindow,
    acr: String,
    enrolment_lifetime: Duration,
    login_token_lifetime: Duration,
    totp: Option<Arc<dyn TotpStore>>,
    recovery: Option<Arc<dyn RecoveryCodeStore>>,
    tokens: Option<Arc<dyn MfaTokenStore>>,
    limiter: Option<BruteForceLimiter>,
    clock: Arc<dyn Clock>,
}

impl fmt::Debug for MfaBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MfaBuilder")
            .field("sealer", &self.sealer)
            .field("recovery_key", &self.recovery_key)
            .field("issuer", &self.issuer)
            .field("params", &self.params)
            .field("window", &self.window)
            .field("acr", &self.acr)
            .finish_non_exhaustive()
    }
}

impl MfaBuilder {
    pub(crate) fn new(sealer: SecretSealer, recovery_key: RecoveryCodeKey) -> Self {
        Self {
            sealer,
            recovery_key,
            issuer: None,
            params: TotpParams::DEFAULT,
            window: TotpWindow::default(),
            acr: DEFAULT_MFA_ACR.to_owned(),
            enrolment_lifetime: DEFAULT_ENROLMENT_LIFETIME,
            login_token_lifetime: DEFAULT_LOGIN_TOKEN_LIFETIME,
            totp: None,
            recovery: None,
            tokens: None,
            limiter: None,
            clock: Arc::new(SystemClock),
        }
    }

    /// The service name authenticator apps show (required; see [`Issuer::new`]).
    pub fn issuer(mut self, issuer: impl Into<String>) -> Self {
        self.issuer = Some(issuer.into());
        self
    }

    /// Algorithm, digits and period of new enrolments (default SHA-1, 6, 30 s). Existing
    /// credentials keep the parameters they were enrolled with.
    pub fn totp_params(mut self, params: TotpParams) -> Self {
        self.params = params;
        self
    }

    /// Steps accepted around the current one (default one back, one ahead).
    pub fn window(mut self, window: TotpWindow) -> Self {
        self.window = window;
        self
    }

    /// The `acr` value of logins that passed the second factor (default
    /// [`DEFAULT_MFA_ACR`], `aal2`): 1 to 64 printable ASCII characters without spaces,
    /// quotes or backslashes (it goes into `WWW-Authenticate` challenges).
    pub fn acr(mut self, acr: impl Into<String>) -> Self {
        self.acr = acr.into();
        self
    }

    /// How long an enrolment can be confirmed (default 10 minutes).
    pub fn enrolment_lifetime(mut self, lifetime: Duration) -> Self {
        self.enrolment_lifetime = lifetime;
        self
    }

    /// How long an MFA login token is valid (default 5 minutes).
    pub fn login_token_lifetime(mut self, lifetime: Duration) -> Self {
        self.login_token_lifetime = lifetime;
        self
    }

    /// The TOTP credential store (default: a new `MemoryTotpStore` with the `memory-store`
    /// feature).
    pub fn totp_store(mut self, store: Arc<dyn TotpStore>) -> Self {
        self.totp = Some(store);
        self
    }

    /// The recovery-code store (default: a new `MemoryRecoveryCodeStore`).
    pub fn recovery_store(mut self, store: Arc<dyn RecoveryCodeStore>) -> Self {
        self.recovery = Some(store);
        self
    }

    /// The MFA login token store (default: a new `MemoryMfaTokenStore`).
    pub fn token_store(mut self, store: Arc<dyn MfaTokenStore>) -> Self {
        self.tokens = Some(store);
        self
    }

    /// The limiter second-factor attempts are counted by (default: a new in-memory limiter
    /// with [`default_mfa_policy`](super::default_mfa_policy) and this builder's clock). Give
    /// it its own policy; it may share a store with the login limiter (the keys are
    /// prefixed `mfa:`). Its clock should be this builder's.
    pub fn limiter(mut self, limiter: BruteForceLimiter) -> Self {
        self.limiter = Some(limiter);
        self
    }

    /// The clock (default: the system clock).
    pub fn clock(mut self, clock: impl Clock) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// Validates the settings.
    ///
    /// # Errors
    ///
    /// [`ConfigError::MissingSetting`] without an issuer, or (without the `memory-store`
    /// feature) without every store and the limiter; [`ConfigError::EmptyValue`] /
    /// [`ConfigError::OutOfRange`] for a bad issuer or `acr`;
    /// [`ConfigError::InvalidDuration`] for zero lifetimes.
    pub fn build(self) -> Result<Mfa, ConfigError> {
        let issuer = Issuer::new(
            self.issuer
                .as_deref()
                .ok_or(ConfigError::MissingSetting("mfa issuer"))?,
        )?;
        let acr_ok = !self.acr.is_empty()
            && self.acr.len() <= 64
            && self
                .acr
                .bytes()
                .all(|b| (0x21..0x7f).contains(&b) && b != b'"' && b != b'\\');
        if !acr_ok {
            return Err(ConfigError::OutOfRange(
                "the mfa acr must be 1 to 64 printable ascii characters without spaces, quotes \
                 or backslashes"
                    .to_owned(),
            ));
        }
        for (what, d) in [
            ("mfa enrolment lifetime", self.enrolment_lifetime),
            ("mfa login token lifetime", self.login_token_lifetime),
        ] {
            if d.is_zero() {
                return Err(ConfigError::InvalidDuration { what });
            }
        }
        let limiter = match self.limiter {
            Some(l) => l,
            None => defaults::limiter(Arc::clone(&self.clock))?,
        };
        Ok(Mfa {
            inner: Arc::new(Inner {
                sealer: self.sealer,
                recovery_key: self.recovery_key,
                issuer,
                params: self.params,
                window: self.window,
                acr: self.acr,
                enrolment_lifetime: self.enrolment_lifetime,
                login_token_lifetime: self.login_token_lifetime,
                totp: self.totp.map_or_else(defaults::totp, Ok)?,
                recovery: self.recovery.map_or_else(defaults::recovery, Ok)?,
                tokens: self.tokens.map_or_else(defaults::tokens, Ok)?,
                throttle: Throttle::new(limiter),
                clock: self.clock,
            }),
        })
    }
}

#[cfg(feature = "memory-store")]
mod defaults {
    use super::*;
    use crate::mfa::memory::{MemoryMfaTokenStore, MemoryRecoveryCodeStore, MemoryTotpStore};

    pub(super) fn totp() -> Result<Arc<dyn TotpStore>, ConfigError> {
        Ok(Arc::new(MemoryTotpStore::new()))
    }

    pub(super) fn recovery() -> Result<Arc<dyn RecoveryCodeStore>, ConfigError> {
        Ok(Arc::new(MemoryRecoveryCodeStore::new()))
    }

    pub(super) fn tokens() -> Result<Arc<dyn MfaTokenStore>, ConfigError> {
        Ok(Arc::new(MemoryMfaTokenStore::new()))
    }

    pub(super) fn limiter(clock: Arc<dyn Clock>) -> Result<BruteForceLimiter, ConfigError> {
        BruteForceLimiter::builder(default_mfa_policy()?)
            .clock(clock)
            .build()
    }
}

#[cfg(not(feature = "memory-store"))]
mod defaults {
    use super::*;

    fn missing(what: &'static str) -> ConfigError {
        ConfigError::MissingSetting(what)
    }

    pub(super) fn totp() -> Result<Arc<dyn TotpStore>, ConfigError> {
        Err(missing("mfa totp store (or the `memory-store` feature)"))
    }

    pub(super) fn recovery() -> Result<Arc<dyn RecoveryCodeStore>, ConfigError> {
        Err(missing(
            "mfa recovery code store (or the `memory-store` feature)",
        ))
    }

    pub(super) fn tokens() -> Result<Arc<dyn MfaTokenStore>, ConfigError> {
        Err(missing("mfa token store (or the `memory-store` feature)"))
    }

    pub(super) fn limiter(_clock: Arc<dyn Clock>) -> Result<BruteForceLimiter, ConfigError> {
        // Keep the default policy's constructor used in this configuration too.
        let _ = default_mfa_policy;
        Err(missing("mfa limiter (or the `memory-store` feature)"))
    }
}
