//! Multi-factor authentication: TOTP (RFC 6238) enrolment and verification with replay
//! prevention and throttling, recovery codes, two-step logins, and the `amr`/`acr`/`auth_time`
//! claims step-up checks read.
//!
//! [`Mfa`] ties it together over three stores ([`TotpStore`], [`RecoveryCodeStore`],
//! [`MfaTokenStore`]; in memory with `memory-store`, in Redis with `auth-redis`), a
//! [`SecretSealer`], a [`RecoveryCodeKey`] and a brute-force limiter:
//!
//! | step | call | answer |
//! |---|---|---|
//! | enrol | [`Mfa::enroll`] | secret (base32), `otpauth://` URI, QR code (SVG); the credential is pending |
//! | confirm | [`Mfa::confirm`] | 10 recovery codes, shown once; the credential is active |
//! | log in, password right | [`Mfa::begin_login`] | `Some(challenge)`: answer `MFA_REQUIRED` with its `mfa_token` |
//! | log in, second factor | [`Mfa::complete_login`] | the subject, the login kind and the [`AuthContext`] for the tokens |
//! | new recovery codes | [`Mfa::regenerate_recovery_codes`] | a new set; the old one is void |
//! | turn off | [`Mfa::disable`] | credential and recovery codes removed |
//!
//! The session's [`AuthContext`] goes into its access tokens (`amr` `["pwd","otp","mfa"]`,
//! `acr`, `auth_time`) and into an [`AuthContextStore`] by session id, so that a refresh copies
//! it instead of stamping a new `auth_time`. `auth-tower`'s `StepUpLayer` reads those claims.
//!
//! # Example
//!
//! ```
//! use auth_core::clock::{ManualClock, UnixTime};
//! use auth_core::mfa::{Mfa, RecoveryCodeKey, SealingKey, SecondFactor, SecretSealer, TotpSecret};
//! use auth_core::ErrorCode;
//! use std::time::Duration;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let clock = ManualClock::new(UnixTime::from_secs(1_700_000_000));
//! let mfa = Mfa::builder(
//!     SecretSealer::new(SealingKey::new(1, &[7; 32])?), // from your secret store
//!     RecoveryCodeKey::new(&[9; 32])?,                   // likewise
//! )
//! .issuer("Acme")
//! .clock(clock.clone())
//! .build()?;
//!
//! // Enrolment: show the QR code; the user's app computes codes from the secret.
//! let enrolment = mfa.enroll("user-42", "ann@example.com").await?;
//! let secret = TotpSecret::from_base32(&enrolment.secret_base32()).unwrap();
//! let code_now = |c: &ManualClock| {
//!     let p = mfa.totp_params();
//!     p.format(p.code_at(secret.as_bytes(), p.step_at(auth_core::clock::Clock::now(c))))
//! };
//! let recovery = mfa.confirm("user-42", &code_now(&clock)).await?;
//! assert_eq!(recovery.as_slice().len(), 10);
//!
//! // Login: the password was right, so ask for the second factor.
//! let challenge = mfa.begin_login("user-42", "api").await?.expect("totp is on");
//! // The confirmation code is used up: it cannot also log in.
//! let err = mfa.complete_login(challenge.token(), SecondFactor::Totp(&code_now(&clock))).await;
//! assert_eq!(err.unwrap_err().code(), ErrorCode::InvalidOtp);
//!
//! clock.advance(Duration::from_secs(30));
//! let done = mfa.complete_login(challenge.token(), SecondFactor::Totp(&code_now(&clock))).await?;
//! assert_eq!(done.subject(), "user-42");
//! assert_eq!(done.context().amr(), ["pwd", "otp", "mfa"]);
//! // The token is single-use.
//! let again = mfa.complete_login(challenge.token(), SecondFactor::Totp("000000")).await;
//! assert_eq!(again.unwrap_err().code(), ErrorCode::InvalidMfaToken);
//! # Ok(()) }
//! ```
//!
//! # Security considerations
//!
//! - **Window.** The current step and one either side (±30 s by default), not ASP.NET Core
//!   Identity's ±2; each extra step multiplies an online guesser's odds. Codes are exactly the
//!   configured number of ASCII digits (anything else is refused before any HMAC) and every
//!   step of the window is computed and compared in constant time.
//! - **Replay.** Each credential keeps the last accepted step; a code is accepted only for a
//!   later step, by one atomic compare-and-set in the store ([`TotpStore::consume_step`]; a
//!   dashmap entry lock, one Redis script). The same code submitted twice, even concurrently to
//!   two instances, succeeds once; an older code never succeeds after a newer one. A replay
//!   gets the same answer as a wrong code (`INVALID_OTP`) and counts the same. The code that
//!   confirms an enrolment is consumed too.
//! - **Throttling.** Attempts count per account through the brute-force limiter
//!   ([`default_mfa_policy`]: 5 failures lock the second factor for 15 minutes, then 1 hour,
//!   then 24 hours). Each attempt is counted before its code is checked, so a burst of
//!   concurrent guesses gets at most 5 checked; while locked even a right code gets
//!   `TOO_MANY_ATTEMPTS` with `Retry-After`. A verified code clears the count.
//! - **Secrets at rest** are sealed with AES-256-GCM under a [`SealingKey`] kept outside the
//!   store, with a random 96-bit nonce, bound to the account and credential id (associated
//!   data). A store dump reveals no secret; a sealed secret moved to another account does not
//!   open.
//! - **Recovery codes** are 10 codes of 80 random bits, shown once, stored as HMAC-SHA256
//!   digests under a [`RecoveryCodeKey`] (never in clear), compared ignoring case, spaces and
//!   hyphens, redeemed by an atomic remove; regenerating replaces the whole set.
//! - **MFA login tokens** are 256 random bits, stored as SHA-256 digests, valid 5 minutes,
//!   used up atomically by the login they complete ([`MfaTokenStore::take`]); a wrong code
//!   leaves the token usable, so the throttle, not the token, bounds guessing.
//! - **Logs** (target `auth::mfa`) name the account, the method and the outcome; never a
//!   secret, a code or a token.

mod builder;
mod context;
mod context_store;
mod credential;
mod login;
mod login_token;
#[cfg(feature = "memory-store")]
mod memory;
mod otpauth;
mod recovery;
mod recovery_store;
mod seal;
mod secret;
mod service;
mod throttle;
mod totp;

pub use builder::{DEFAULT_ENROLMENT_LIFETIME, DEFAULT_LOGIN_TOKEN_LIFETIME, MfaBuilder};
pub use context::{AuthContext, DEFAULT_MFA_ACR, amr};
pub use context_store::AuthContextStore;
pub use credential::{CredentialState, TotpCredential, TotpStore};
pub use login::{CompletedLogin, LOGIN_METHODS, MfaChallenge, SecondFactor};
pub use login_token::{MAX_BINDING_LEN, MfaToken, MfaTokenHash, MfaTokenStore, PendingLogin};
#[cfg(feature = "memory-store")]
#[cfg_attr(docsrs, doc(cfg(feature = "memory-store")))]
pub use memory::{
    MemoryAuthContextStore, MemoryMfaTokenStore, MemoryRecoveryCodeStore, MemoryTotpStore,
};
pub use otpauth::{Issuer, MAX_ISSUER_LEN, MAX_LABEL_LEN, otpauth_uri, qr_svg};
pub use recovery::{
    RECOVERY_CODE_CHARS, RECOVERY_CODE_COUNT, RecoveryCodeDigest, RecoveryCodeKey, RecoveryCodes,
    normalize_recovery_code,
};
pub use recovery_store::RecoveryCodeStore;
pub use seal::{SealedSecret, SealingKey, SecretSealer};
pub use secret::{CredentialId, TOTP_SECRET_LEN, TotpSecret};
pub use service::{Mfa, MfaStatus, TotpEnrollment};
pub use throttle::default_mfa_policy;
pub use totp::{TotpAlgorithm, TotpParams, TotpWindow};

/// How often the in-memory stores purge expired entries.
#[cfg(feature = "memory-store")]
pub(crate) const fn memory_purge_interval() -> std::time::Duration {
    std::time::Duration::from_secs(60)
}
