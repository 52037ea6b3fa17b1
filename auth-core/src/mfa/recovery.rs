//! Recovery codes: generated once, shown once, stored as keyed digests.

use std::fmt;
use std::hash::{Hash, Hasher};

use aws_lc_rs::hmac;
use subtle::ConstantTimeEq as _;

use super::secret::fill_random;
use crate::ConfigError;
use crate::store::StoreError;

/// How many recovery codes a set has.
pub const RECOVERY_CODE_COUNT: usize = 10;

/// Characters in a recovery code (without the hyphens): 16 base32 characters, 80 bits.
pub const RECOVERY_CODE_CHARS: usize = 16;

/// RFC 4648 base32, lower case: no `0`/`1`/`8`/`9`, so nothing reads like `o`/`l`/`b`/`g`.
const ALPHABET: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";

const DIGEST_DOMAIN: &[u8] = b"auth-core/mfa/recovery-code/v1\0";

/// The server secret recovery codes are digested under (HMAC-SHA256 key), at least 32 bytes.
///
/// Keep it outside the store: a dump of the digests alone does not even let anyone test a
/// guess offline. Changing it invalidates every stored recovery code. `Debug` prints
/// `REDACTED`.
///
/// ```
/// use auth_core::mfa::RecoveryCodeKey;
///
/// assert!(RecoveryCodeKey::new(&[1; 32]).is_ok());
/// assert!(RecoveryCodeKey::new(&[1; 31]).is_err());
/// ```
#[derive(Clone)]
pub struct RecoveryCodeKey(hmac::Key);

impl RecoveryCodeKey {
    /// The minimum length in bytes.
    pub const MIN_LEN: usize = 32;

    /// A key from `bytes`.
    ///
    /// # Errors
    ///
    /// [`ConfigError::WeakHmacSecret`] when shorter than [`RecoveryCodeKey::MIN_LEN`].
    pub fn new(bytes: &[u8]) -> Result<Self, ConfigError> {
        if bytes.len() < Self::MIN_LEN {
            return Err(ConfigError::WeakHmacSecret {
                alg: "HMAC-SHA256 recovery code key",
                min: Self::MIN_LEN,
                actual: bytes.len(),
            });
        }
        Ok(Self(hmac::Key::new(hmac::HMAC_SHA256, bytes)))
    }

    /// The digest of a recovery code of `account`; `None` when `code` is not one in any
    /// spelling (see [`normalize_recovery_code`]), and then no HMAC is computed.
    #[must_use]
    pub fn digest(&self, account: &str, code: &str) -> Option<RecoveryCodeDigest> {
        let normalized = normalize_recovery_code(code)?;
        let mut ctx = hmac::Context::with_key(&self.0);
        ctx.update(DIGEST_DOMAIN);
        ctx.update(
            &u64::try_from(account.len())
                .unwrap_or(u64::MAX)
                .to_be_bytes(),
        );
        ctx.update(account.as_bytes());
        ctx.update(normalized.as_bytes());
        let tag = ctx.sign();
        let mut out = [0u8; 32];
        for (o, b) in out.iter_mut().zip(tag.as_ref()) {
            *o = *b;
        }
        Some(RecoveryCodeDigest(out))
    }
}

impl fmt::Debug for RecoveryCodeKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RecoveryCodeKey(REDACTED)")
    }
}

/// A recovery code in canonical form: spaces and hyphens removed, lower case, exactly 16
/// characters of the base32 alphabet (`a`-`z`, `2`-`7`). `None` for anything else.
///
/// ```
/// use auth_core::mfa::normalize_recovery_code;
///
/// let canonical = Some("abcdefgh23456767".to_owned());
/// assert_eq!(normalize_recovery_code("abcd-efgh-2345-6767"), canonical);
/// assert_eq!(normalize_recovery_code(" ABCD EFGH 2345 6767 "), canonical);
/// assert_eq!(normalize_recovery_code("abcdefgh2345676"), None); // 15 characters
/// assert_eq!(normalize_recovery_code("abcd-efgh-2345-6761"), None); // '1' is not base32
/// ```
#[must_use]
pub fn normalize_recovery_code(code: &str) -> Option<String> {
    // Bound the work on absurd input before looking at it.
    if code.len() > 4 * RECOVERY_CODE_CHARS {
        return None;
    }
    let mut out = String::with_capacity(RECOVERY_CODE_CHARS);
    for b in code.bytes() {
        match b {
            b' ' | b'-' => {}
            b'A'..=b'Z' | b'a'..=b'z' | b'2'..=b'7' => out.push(char::from(b.to_ascii_lowercase())),
            _ => return None,
        }
    }
    (out.len() == RECOVERY_CODE_CHARS).then_some(out)
}

/// The stored form of a recovery code: HMAC-SHA256 under the [`RecoveryCodeKey`], over the
/// account and the canonical code. Equality is constant-time; `Debug` shows four bytes.
#[derive(Clone, Copy)]
pub struct RecoveryCodeDigest([u8; 32]);

impl RecoveryCodeDigest {
    /// A digest from its bytes (read back from a store).
    #[must_use]
    pub const fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// The bytes.
    #[must_use]
    pub const fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl PartialEq for RecoveryCodeDigest {
    fn eq(&self, other: &Self) -> bool {
        self.0.ct_eq(&other.0).into()
    }
}

impl Eq for RecoveryCodeDigest {}

impl Hash for RecoveryCodeDigest {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.0.hash(state);
    }
}

impl fmt::Debug for RecoveryCodeDigest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RecoveryCodeDigest(")?;
        for b in self.0.iter().take(4) {
            write!(f, "{b:02x}")?;
        }
        f.write_str("..)")
    }
}

/// A fresh set of recovery codes, to show the user **once**. Each is 16 random base32
/// characters (80 bits) written in groups of four, e.g. `abcd-efgh-ijkl-mn23`. `Debug` shows
/// only how many there are.
#[derive(Clone, PartialEq, Eq)]
pub struct RecoveryCodes(Vec<String>);

impl RecoveryCodes {
    /// [`RECOVERY_CODE_COUNT`] new codes from the operating system's random source.
    ///
    /// # Errors
    ///
    /// [`StoreError`] when the random source fails.
    pub fn generate() -> Result<Self, StoreError> {
        let mut codes = Vec::with_capacity(RECOVERY_CODE_COUNT);
        while codes.len() < RECOVERY_CODE_COUNT {
            let mut raw = [0u8; RECOVERY_CODE_CHARS];
            fill_random(&mut raw)?;
            let mut code = String::with_capacity(RECOVERY_CODE_CHARS + 3);
            for (i, b) in raw.iter().enumerate() {
                if i > 0 && i % 4 == 0 {
                    code.push('-');
                }
                // 5 bits of each byte: uniform over the 32 characters.
                let c = ALPHABET.get(usize::from(b & 0x1f)).copied().unwrap_or(b'a');
                code.push(char::from(c));
            }
            if !codes.contains(&code) {
                codes.push(code);
            }
        }
        Ok(Self(codes))
    }

    /// The codes, as shown to the user.
    #[must_use]
    pub fn as_slice(&self) -> &[String] {
        &self.0
    }

    /// The codes, by value.
    #[must_use]
    pub fn into_vec(self) -> Vec<String> {
        self.0
    }

    /// Their digests for `account` under `key`, to store.
    #[must_use]
    pub fn digests(&self, key: &RecoveryCodeKey, account: &str) -> Vec<RecoveryCodeDigest> {
        self.0
            .iter()
            .filter_map(|c| key.digest(account, c))
            .collect()
    }
}

impl fmt::Debug for RecoveryCodes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RecoveryCodes({} codes, REDACTED)", self.0.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> RecoveryCodeKey {
        RecoveryCodeKey::new(&[5; 32]).unwrap()
    }

    #[test]
    fn a_set_is_ten_distinct_80_bit_codes() {
        let codes = RecoveryCodes::generate().unwrap();
        assert_eq!(codes.as_slice().len(), 10);
        for c in codes.as_slice() {
            assert_eq!(c.len(), 19, "{c}");
            let n = normalize_recovery_code(c).unwrap();
            assert_eq!(n.len(), 16);
            // 16 characters of a 32-letter alphabet: 80 bits.
            assert!(n.bytes().all(|b| ALPHABET.contains(&b)));
        }
        let mut sorted = codes.as_slice().to_vec();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted.len(), 10);
        assert_ne!(codes, RecoveryCodes::generate().unwrap());
        assert_eq!(format!("{codes:?}"), "RecoveryCodes(10 codes, REDACTED)");
    }

    #[test]
    fn digests_ignore_case_spaces_and_hyphens_and_are_bound_to_the_account() {
        let k = key();
        let d = k.digest("alice", "abcd-efgh-2345-6767").unwrap();
        assert_eq!(k.digest("alice", "ABCDEFGH23456767"), Some(d));
        assert_eq!(k.digest("alice", "abcd efgh 2345 6767"), Some(d));
        assert_eq!(
            k.digest("alice", "a-b-c-d-e-f-g-h-2-3-4-5-6-7-6-7"),
            Some(d)
        );
        assert_ne!(k.digest("bob", "abcd-efgh-2345-6767"), Some(d));
        assert_ne!(
            RecoveryCodeKey::new(&[6; 32])
                .unwrap()
                .digest("alice", "abcdefgh23456767"),
            Some(d)
        );
        for bad in [
            "",
            "abcd-efgh-2345-676",
            "abcd-efgh-2345-67670",
            "abcd_efgh_2345_6767",
            "abcd-efgh-2345-67é7",
            "abcd\tefgh23456767",
        ] {
            assert_eq!(k.digest("alice", bad), None, "{bad:?}");
        }
        assert_eq!(k.digest("alice", &"a".repeat(10_000)), None);
    }

    #[test]
    fn digest_equality_and_debug() {
        let a = RecoveryCodeDigest::from_bytes([0xab; 32]);
        let mut b = [0xab; 32];
        b[31] = 0;
        assert_ne!(a, RecoveryCodeDigest::from_bytes(b));
        assert_eq!(format!("{a:?}"), "RecoveryCodeDigest(abababab..)");
        assert_eq!(format!("{:?}", key()), "RecoveryCodeKey(REDACTED)");
    }
}
