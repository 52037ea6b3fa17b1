//! The two-step login: [`Mfa::begin_login`] after the password, [`Mfa::complete_login`] with
//! the second factor.

use std::fmt;
use std::time::Duration;

use super::context::AuthContext;
use super::login_token::{MAX_BINDING_LEN, MfaToken, PendingLogin};
use super::service::{Mfa, backend};
use crate::AuthError;
use crate::clock::UnixTime;

/// The second factors an MFA login accepts, as named in the `methods` list.
pub const LOGIN_METHODS: [&str; 2] = ["totp", "recovery_code"];

/// What a password login answers for an account with a second factor: the `mfa_token` to send
/// back with the code, how long it is valid, and the accepted methods.
#[derive(Clone)]
pub struct MfaChallenge {
    token: MfaToken,
    expires_in: Duration,
}

impl MfaChallenge {
    /// The `mfa_token`, for the client (once).
    #[must_use]
    pub fn token(&self) -> &str {
        self.token.as_str()
    }

    /// How long the token is valid.
    #[must_use]
    pub fn expires_in(&self) -> Duration {
        self.expires_in
    }

    /// The accepted second factors: `["totp", "recovery_code"]`.
    #[must_use]
    pub fn methods(&self) -> &'static [&'static str] {
        &LOGIN_METHODS
    }
}

impl fmt::Debug for MfaChallenge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MfaChallenge")
            .field("token", &self.token)
            .field("expires_in", &self.expires_in)
            .finish()
    }
}

/// A second factor presented to complete a login.
#[derive(Clone, Copy)]
pub enum SecondFactor<'a> {
    /// A code from the authenticator app.
    Totp(&'a str),
    /// One of the recovery codes.
    RecoveryCode(&'a str),
}

impl fmt::Debug for SecondFactor<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Totp(_) => "Totp(REDACTED)",
            Self::RecoveryCode(_) => "RecoveryCode(REDACTED)",
        })
    }
}

/// A login that passed both factors: whose and which kind ([`PendingLogin`]), and the
/// [`AuthContext`] to stamp into its tokens (`amr` `pwd otp mfa`, the configured `acr`,
/// `auth_time` = now).
#[derive(Clone, Debug)]
pub struct CompletedLogin {
    login: PendingLogin,
    context: AuthContext,
}

impl CompletedLogin {
    /// The login that started it.
    #[must_use]
    pub fn login(&self) -> &PendingLogin {
        &self.login
    }

    /// The account.
    #[must_use]
    pub fn subject(&self) -> &str {
        self.login.subject()
    }

    /// The kind of login (the binding given to [`Mfa::begin_login`]).
    #[must_use]
    pub fn binding(&self) -> &str {
        self.login.binding()
    }

    /// The authentication context for the new session's tokens.
    #[must_use]
    pub fn context(&self) -> &AuthContext {
        &self.context
    }
}

impl Mfa {
    /// After a right password for `subject`: when the account has an active TOTP credential,
    /// stores a pending login and returns the challenge to answer with (`None`: no second
    /// factor, finish the login as usual). `binding` names the kind of login (e.g. `"api"` or
    /// `"session"`, at most 64 bytes) so that [`complete_login`](Self::complete_login) can
    /// answer as that login would have.
    ///
    /// # Errors
    ///
    /// [`AuthError::BackendUnavailable`] when a store or the random source fails, or the
    /// binding is longer than 64 bytes (a programming error).
    pub async fn begin_login(
        &self,
        subject: &str,
        binding: &str,
    ) -> Result<Option<MfaChallenge>, AuthError> {
        if binding.len() > MAX_BINDING_LEN {
            return Err(AuthError::BackendUnavailable(
                "mfa login binding longer than 64 bytes".to_owned(),
            ));
        }
        if !self.is_enabled(subject).await? {
            return Ok(None);
        }
        let i = &*self.inner;
        let now = i.clock.now();
        let token = MfaToken::generate().map_err(backend)?;
        let login = PendingLogin::new(subject, binding, now);
        i.tokens
            .insert(
                &token.hash(),
                &login,
                expiry(now, i.login_token_lifetime),
                now,
            )
            .await
            .map_err(backend)?;
        tracing::debug!(target: "auth::mfa", account = subject, binding, "second factor required");
        Ok(Some(MfaChallenge {
            token,
            expires_in: i.login_token_lifetime,
        }))
    }

    /// Completes a login with its `mfa_token` and a second factor. The token is checked first,
    /// then the factor (throttled per account, see [`verify_totp`](Self::verify_totp) and
    /// [`redeem_recovery_code`](Self::redeem_recovery_code)); a wrong code leaves the token
    /// usable until it expires; a right one uses it up atomically.
    ///
    /// # Errors
    ///
    /// [`AuthError::InvalidMfaToken`] for an unknown, used, expired or malformed token (or one
    /// used up concurrently); [`AuthError::InvalidOtp`] for a wrong, malformed or replayed code;
    /// [`AuthError::TooManyAttempts`] while the account's second factor is locked;
    /// [`AuthError::BackendUnavailable`] when a store fails.
    pub async fn complete_login(
        &self,
        mfa_token: &str,
        factor: SecondFactor<'_>,
    ) -> Result<CompletedLogin, AuthError> {
        let i = &*self.inner;
        let Some(hash) = MfaToken::hash_of(mfa_token) else {
            tracing::debug!(target: "auth::mfa", reason = "malformed", "mfa token refused");
            return Err(AuthError::InvalidMfaToken);
        };
        let Some(login) = i.tokens.get(&hash, i.clock.now()).await.map_err(backend)? else {
            tracing::debug!(target: "auth::mfa", reason = "unknown_used_or_expired", "mfa token refused");
            return Err(AuthError::InvalidMfaToken);
        };
        match factor {
            SecondFactor::Totp(code) => self.verify_totp(login.subject(), code).await?,
            SecondFactor::RecoveryCode(code) => {
                self.redeem_recovery_code(login.subject(), code).await?;
            }
        }
        let now = i.clock.now();
        let Some(login) = i.tokens.take(&hash, now).await.map_err(backend)? else {
            tracing::debug!(target: "auth::mfa", reason = "used_concurrently_or_expired", "mfa token refused");
            return Err(AuthError::InvalidMfaToken);
        };
        let context = AuthContext::password(now).with_second_factor(&i.acr);
        tracing::info!(target: "auth::mfa", account = login.subject(), binding = login.binding(), "mfa login completed");
        Ok(CompletedLogin { login, context })
    }
}

fn expiry(now: UnixTime, lifetime: Duration) -> UnixTime {
    now.saturating_add(lifetime)
}
