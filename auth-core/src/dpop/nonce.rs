//! [`DpopNonces`]: server-provided nonces (RFC 9449 section 9), stateless: an HMAC of the time
//! window, so every instance sharing the key issues and accepts the same nonces.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use aws_lc_rs::hmac;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::clock::UnixTime;
use crate::error::ConfigError;

/// The default lifetime of a nonce's window: 5 minutes (a nonce is accepted during its window
/// and the next one).
pub const DEFAULT_NONCE_WINDOW: Duration = Duration::from_secs(300);

const MAC_LEN: usize = 16;

/// Issues and checks DPoP nonces: `base64url(window || HMAC-SHA256(key, window)[..16])`, where
/// `window` is the current time divided by the window length. A nonce is accepted in its own
/// window and the next, so it lives between one and two windows; nothing is stored.
///
/// ```
/// use auth_core::clock::UnixTime;
/// use auth_core::dpop::DpopNonces;
/// use std::time::Duration;
///
/// let nonces = DpopNonces::new([7u8; 32], Duration::from_secs(300))?;
/// let t = UnixTime::from_secs(1_700_000_000);
/// let n = nonces.issue(t);
/// assert!(nonces.is_valid(&n, t));
/// assert!(nonces.is_valid(&n, UnixTime::from_secs(1_700_000_000 + 300)));
/// assert!(!nonces.is_valid(&n, UnixTime::from_secs(1_700_000_000 + 900)));
/// assert!(!nonces.is_valid("forged", t));
/// # Ok::<(), auth_core::ConfigError>(())
/// ```
#[derive(Clone)]
pub struct DpopNonces {
    key: Arc<hmac::Key>,
    window: u64,
}

impl fmt::Debug for DpopNonces {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DpopNonces")
            .field("key", &"REDACTED")
            .field("window_secs", &self.window)
            .finish()
    }
}

impl DpopNonces {
    /// Nonces under `key` (at least 32 bytes; share it between instances) whose windows last
    /// `window` (whole seconds, at least one).
    ///
    /// # Errors
    ///
    /// [`ConfigError::WeakHmacSecret`] for a key under 32 bytes, [`ConfigError::InvalidDuration`]
    /// for a window under one second.
    pub fn new(key: impl AsRef<[u8]>, window: Duration) -> Result<Self, ConfigError> {
        let key = key.as_ref();
        if key.len() < 32 {
            return Err(ConfigError::WeakHmacSecret {
                alg: "dpop nonce",
                min: 32,
                actual: key.len(),
            });
        }
        if window.as_secs() == 0 {
            return Err(ConfigError::InvalidDuration {
                what: "dpop nonce window",
            });
        }
        Ok(Self {
            key: Arc::new(hmac::Key::new(hmac::HMAC_SHA256, key)),
            window: window.as_secs(),
        })
    }

    fn mac(&self, window: u64) -> [u8; 8 + MAC_LEN] {
        let idx = window.to_be_bytes();
        let tag = hmac::sign(&self.key, &idx);
        let mut out = [0u8; 8 + MAC_LEN];
        for (o, b) in out.iter_mut().zip(idx.iter().chain(tag.as_ref().iter())) {
            *o = *b;
        }
        out
    }

    /// The nonce to hand out at `now`.
    #[must_use]
    pub fn issue(&self, now: UnixTime) -> String {
        URL_SAFE_NO_PAD.encode(self.mac(now.as_secs() / self.window))
    }

    /// Whether `nonce` was issued in the window of `now` or the one before (compared in
    /// constant time).
    #[must_use]
    pub fn is_valid(&self, nonce: &str, now: UnixTime) -> bool {
        let mut raw = [0u8; 8 + MAC_LEN];
        if nonce.len() != 32 || URL_SAFE_NO_PAD.decode_slice(nonce, &mut raw) != Ok(8 + MAC_LEN) {
            return false;
        }
        let current = now.as_secs() / self.window;
        let mut idx = [0u8; 8];
        for (o, b) in idx.iter_mut().zip(raw.iter()) {
            *o = *b;
        }
        let window = u64::from_be_bytes(idx);
        if window != current && Some(window) != current.checked_sub(1) {
            return false;
        }
        crate::constant_time::secrets_equal(&self.mac(window), &raw)
    }
}
