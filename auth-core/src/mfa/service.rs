//! [`Mfa`]: enrolment, confirmation, verification, recovery codes and disabling, over the
//! stores, the sealer and the throttle.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use super::builder::MfaBuilder;
use super::credential::{CredentialState, TotpCredential, TotpStore};
use super::login_token::MfaTokenStore;
use super::otpauth::{Issuer, otpauth_uri, qr_svg};
use super::recovery::{RecoveryCodeKey, RecoveryCodes};
use super::recovery_store::RecoveryCodeStore;
use super::seal::SecretSealer;
use super::secret::{CredentialId, TotpSecret};
use super::throttle::Throttle;
use super::totp::{TotpParams, TotpWindow};
use crate::AuthError;
use crate::brute_force::BruteForceLimiter;
use crate::clock::{Clock, UnixTime};
use crate::store::StoreError;

/// TOTP second factors with replay prevention, throttling and recovery codes. Cheap to clone.
///
/// See the [module docs](super) for the flows and an example. Every method reads the injected
/// clock; every outcome is a `tracing` event with target `auth::mfa` (never a secret or a
/// code).
#[derive(Clone)]
pub struct Mfa {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) sealer: SecretSealer,
    pub(crate) recovery_key: RecoveryCodeKey,
    pub(crate) issuer: Issuer,
    pub(crate) params: TotpParams,
    pub(crate) window: TotpWindow,
    pub(crate) acr: String,
    pub(crate) enrolment_lifetime: Duration,
    pub(crate) login_token_lifetime: Duration,
    pub(crate) totp: Arc<dyn TotpStore>,
    pub(crate) recovery: Arc<dyn RecoveryCodeStore>,
    pub(crate) tokens: Arc<dyn MfaTokenStore>,
    pub(crate) throttle: Throttle,
    pub(crate) clock: Arc<dyn Clock>,
}

impl fmt::Debug for Mfa {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let i = &*self.inner;
        f.debug_struct("Mfa")
            .field("issuer", &i.issuer)
            .field("params", &i.params)
            .field("window", &i.window)
            .field("acr", &i.acr)
            .field("totp", &i.totp)
            .field("recovery", &i.recovery)
            .field("tokens", &i.tokens)
            .field("throttle", &i.throttle)
            .finish_non_exhaustive()
    }
}

/// What an enrolment hands the user, once: the secret (base32, for typing in), the
/// `otpauth://` URI and its QR code. `Debug` hides all three (each contains the secret).
#[derive(Clone)]
pub struct TotpEnrollment {
    secret: TotpSecret,
    uri: String,
    qr_svg: String,
    expires_at: UnixTime,
}

impl TotpEnrollment {
    /// The secret in base32, for authenticator apps that take it typed in.
    #[must_use]
    pub fn secret_base32(&self) -> String {
        self.secret.to_base32()
    }

    /// The secret.
    #[must_use]
    pub fn secret(&self) -> &TotpSecret {
        &self.secret
    }

    /// The `otpauth://totp/...` key URI.
    #[must_use]
    pub fn otpauth_uri(&self) -> &str {
        &self.uri
    }

    /// The URI's QR code, an SVG document.
    #[must_use]
    pub fn qr_svg(&self) -> &str {
        &self.qr_svg
    }

    /// When the enrolment lapses unless confirmed.
    #[must_use]
    pub fn expires_at(&self) -> UnixTime {
        self.expires_at
    }
}

impl fmt::Debug for TotpEnrollment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TotpEnrollment")
            .field("secret", &"REDACTED")
            .field("otpauth_uri", &"REDACTED")
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

/// An account's second factors.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MfaStatus {
    totp: bool,
    recovery_codes_left: usize,
}

impl MfaStatus {
    /// Whether the account has an active TOTP credential.
    #[must_use]
    pub fn totp(&self) -> bool {
        self.totp
    }

    /// How many unused recovery codes it has.
    #[must_use]
    pub fn recovery_codes_left(&self) -> usize {
        self.recovery_codes_left
    }
}

pub(crate) fn backend(e: StoreError) -> AuthError {
    tracing::error!(target: "auth::mfa", error = %e, "mfa store failed");
    AuthError::from(e)
}

impl Mfa {
    /// A builder over the key that seals TOTP secrets and the key recovery codes are digested
    /// under. An issuer name is required.
    ///
    /// Without a limiter, the builder makes an in-memory one with
    /// [`default_mfa_policy`](super::default_mfa_policy) (feature `memory-store`).
    pub fn builder(sealer: SecretSealer, recovery_key: RecoveryCodeKey) -> MfaBuilder {
        MfaBuilder::new(sealer, recovery_key)
    }

    /// The parameters of new enrolments.
    #[must_use]
    pub fn totp_params(&self) -> &TotpParams {
        &self.inner.params
    }

    /// The `acr` value of logins that passed the second factor.
    #[must_use]
    pub fn acr(&self) -> &str {
        &self.inner.acr
    }

    /// The limiter second-factor attempts are counted by (e.g. to unlock an account).
    #[must_use]
    pub fn limiter(&self) -> &BruteForceLimiter {
        self.inner.throttle.limiter()
    }

    /// The clock.
    #[must_use]
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.inner.clock
    }

    /// The account's second factors.
    ///
    /// # Errors
    ///
    /// [`AuthError::BackendUnavailable`] when a store fails.
    pub async fn status(&self, account: &str) -> Result<MfaStatus, AuthError> {
        let now = self.inner.clock.now();
        let totp = self
            .inner
            .totp
            .get(account, now)
            .await
            .map_err(backend)?
            .is_some_and(|c| c.is_active());
        let recovery_codes_left = self
            .inner
            .recovery
            .remaining(account)
            .await
            .map_err(backend)?;
        Ok(MfaStatus {
            totp,
            recovery_codes_left,
        })
    }

    /// Whether the account has an active TOTP credential (a login must then ask for it).
    ///
    /// # Errors
    ///
    /// [`AuthError::BackendUnavailable`] when the store fails.
    pub async fn is_enabled(&self, account: &str) -> Result<bool, AuthError> {
        let now = self.inner.clock.now();
        Ok(self
            .inner
            .totp
            .get(account, now)
            .await
            .map_err(backend)?
            .is_some_and(|c| c.is_active()))
    }

    /// Starts (or restarts) a TOTP enrolment for `account`: a new 20-byte secret, sealed and
    /// stored as the account's pending credential (replacing a pending one), and what to show
    /// the user. `label` is the account name the authenticator app shows (e.g. the email).
    /// Nothing changes for logins until [`confirm`](Self::confirm) succeeds.
    ///
    /// # Errors
    ///
    /// [`AuthError::MfaAlreadyEnabled`] when the account has an active credential;
    /// [`AuthError::BackendUnavailable`] when a store or the random source fails.
    pub async fn enroll(&self, account: &str, label: &str) -> Result<TotpEnrollment, AuthError> {
        let i = &*self.inner;
        let now = i.clock.now();
        let secret = TotpSecret::generate().map_err(backend)?;
        let id = CredentialId::generate().map_err(backend)?;
        let sealed = i.sealer.seal(account, &id, &secret).map_err(backend)?;
        let expires_at = now.saturating_add(i.enrolment_lifetime);
        let credential = TotpCredential::new(
            id,
            sealed,
            i.params,
            CredentialState::Pending { expires_at },
            now,
        );
        if !i
            .totp
            .put_pending(account, &credential, now)
            .await
            .map_err(backend)?
        {
            tracing::debug!(target: "auth::mfa", account, outcome = "refused", "totp enrolment refused: already enabled");
            return Err(AuthError::MfaAlreadyEnabled);
        }
        let uri = otpauth_uri(&i.issuer, label, &secret, &i.params);
        let qr_svg = qr_svg(&uri)
            .ok_or_else(|| backend(StoreError::new("the otpauth uri does not fit in a qr code")))?;
        tracing::info!(target: "auth::mfa", account, credential = %credential.id(), "totp enrolment started");
        Ok(TotpEnrollment {
            secret,
            uri,
            qr_svg,
            expires_at,
        })
    }

    /// Confirms the pending enrolment of `account` with a code from the app: the credential
    /// becomes active (the code's step is consumed, so it cannot also log in) and a new set of
    /// recovery codes replaces any old one. Returns the recovery codes, to show **once**.
    ///
    /// # Errors
    ///
    /// [`AuthError::InvalidOtp`] for a wrong or malformed code, or without a pending enrolment
    /// (none, lapsed, or replaced meanwhile); [`AuthError::MfaAlreadyEnabled`] when the account
    /// already has an active credential; [`AuthError::TooManyAttempts`] while its second
    /// factor is locked; [`AuthError::BackendUnavailable`] when a store fails.
    pub async fn confirm(&self, account: &str, code: &str) -> Result<RecoveryCodes, AuthError> {
        let i = &*self.inner;
        let now = i.clock.now();
        let credential = i.totp.get(account, now).await.map_err(backend)?;
        if credential.as_ref().is_some_and(TotpCredential::is_active) {
            return Err(AuthError::MfaAlreadyEnabled);
        }
        i.throttle.begin(account).await?;
        let Some(credential) = credential else {
            return Err(rejected(account, "confirm", "no pending enrolment"));
        };
        let Some(step) = self.matching_step(account, &credential, code, now)? else {
            return Err(rejected(account, "confirm", "wrong code"));
        };
        if !i
            .totp
            .activate(account, credential.id(), step, now)
            .await
            .map_err(backend)?
        {
            return Err(rejected(account, "confirm", "enrolment replaced or lapsed"));
        }
        i.throttle.succeeded(account).await?;
        let codes = self.store_new_recovery_codes(account).await?;
        tracing::info!(target: "auth::mfa", account, credential = %credential.id(), "totp enabled");
        Ok(codes)
    }

    /// Verifies a TOTP code of `account`'s active credential: it must match a step in the
    /// window that is later than every step accepted before (consumed atomically). A wrong,
    /// malformed and replayed code get the same answer and all count towards the lockout.
    ///
    /// Login flows use [`complete_login`](Self::complete_login), which calls this.
    ///
    /// # Errors
    ///
    /// [`AuthError::InvalidOtp`] (also when the account has no active credential);
    /// [`AuthError::TooManyAttempts`] while its second factor is locked, even for a right
    /// code; [`AuthError::BackendUnavailable`] when a store fails.
    pub async fn verify_totp(&self, account: &str, code: &str) -> Result<(), AuthError> {
        let i = &*self.inner;
        i.throttle.begin(account).await?;
        let now = i.clock.now();
        let credential = i.totp.get(account, now).await.map_err(backend)?;
        let Some(credential) = credential.filter(TotpCredential::is_active) else {
            return Err(rejected(account, "totp", "no active credential"));
        };
        let Some(step) = self.matching_step(account, &credential, code, now)? else {
            return Err(rejected(account, "totp", "wrong code"));
        };
        if !i
            .totp
            .consume_step(account, credential.id(), step)
            .await
            .map_err(backend)?
        {
            // Indistinguishable from a wrong code on the wire.
            return Err(rejected(account, "totp", "replayed or older step"));
        }
        i.throttle.succeeded(account).await?;
        tracing::info!(target: "auth::mfa", account, method = "totp", outcome = "success", "second factor verified");
        Ok(())
    }

    /// Redeems one of `account`'s recovery codes (case, spaces and hyphens ignored): it is
    /// removed atomically, so it works once. Returns how many are left.
    ///
    /// # Errors
    ///
    /// [`AuthError::InvalidOtp`] for an unknown, used or malformed code;
    /// [`AuthError::TooManyAttempts`] while the second factor is locked;
    /// [`AuthError::BackendUnavailable`] when a store fails.
    pub async fn redeem_recovery_code(
        &self,
        account: &str,
        code: &str,
    ) -> Result<usize, AuthError> {
        let i = &*self.inner;
        i.throttle.begin(account).await?;
        let Some(digest) = i.recovery_key.digest(account, code) else {
            return Err(rejected(account, "recovery_code", "malformed code"));
        };
        if !i.recovery.redeem(account, &digest).await.map_err(backend)? {
            return Err(rejected(account, "recovery_code", "unknown or used code"));
        }
        i.throttle.succeeded(account).await?;
        let left = i.recovery.remaining(account).await.map_err(backend)?;
        tracing::info!(target: "auth::mfa", account, method = "recovery_code", outcome = "success", codes_left = left, "second factor verified");
        Ok(left)
    }

    /// Replaces `account`'s recovery codes with a new set (every old code stops working) and
    /// returns it, to show **once**.
    ///
    /// # Errors
    ///
    /// [`AuthError::MfaNotEnabled`] without an active TOTP credential;
    /// [`AuthError::BackendUnavailable`] when a store fails.
    pub async fn regenerate_recovery_codes(
        &self,
        account: &str,
    ) -> Result<RecoveryCodes, AuthError> {
        if !self.is_enabled(account).await? {
            return Err(AuthError::MfaNotEnabled);
        }
        let codes = self.store_new_recovery_codes(account).await?;
        tracing::info!(target: "auth::mfa", account, "recovery codes regenerated");
        Ok(codes)
    }

    /// Removes `account`'s TOTP credential (active or pending) and recovery codes. Returns
    /// whether an active credential was removed.
    ///
    /// # Errors
    ///
    /// [`AuthError::BackendUnavailable`] when a store fails.
    pub async fn disable(&self, account: &str) -> Result<bool, AuthError> {
        let i = &*self.inner;
        let was_active = i.totp.remove(account).await.map_err(backend)?;
        i.recovery.replace(account, &[]).await.map_err(backend)?;
        tracing::info!(target: "auth::mfa", account, was_active, "totp disabled");
        Ok(was_active)
    }

    /// Parses `code`, opens the secret and finds the latest matching step.
    fn matching_step(
        &self,
        account: &str,
        credential: &TotpCredential,
        code: &str,
        now: UnixTime,
    ) -> Result<Option<u64>, AuthError> {
        let i = &*self.inner;
        let params = credential.params();
        let Some(code) = params.parse_code(code) else {
            return Ok(None);
        };
        let Some(secret) = i
            .sealer
            .open(account, credential.id(), credential.sealed_secret())
        else {
            return Err(backend(StoreError::new(
                "a stored totp secret does not open (sealing key missing, or the record was \
                 altered)",
            )));
        };
        Ok(params.matching_step(secret.as_bytes(), code, now, i.window))
    }

    async fn store_new_recovery_codes(&self, account: &str) -> Result<RecoveryCodes, AuthError> {
        let i = &*self.inner;
        let codes = RecoveryCodes::generate().map_err(backend)?;
        let digests = codes.digests(&i.recovery_key, account);
        i.recovery
            .replace(account, &digests)
            .await
            .map_err(backend)?;
        Ok(codes)
    }
}

/// Logs a refused code (the reason is for logs only) and returns the one answer clients see.
fn rejected(account: &str, method: &'static str, reason: &'static str) -> AuthError {
    tracing::debug!(target: "auth::mfa", account, method, outcome = "failure", reason, "second factor refused");
    AuthError::InvalidOtp
}
