//! The key format: `<prefix>_<random><checksum>`, and generating keys and ids.
//!
//! - `prefix`: chosen by the application, `[a-z][a-z0-9_]{1,23}` (e.g. `demo_live`).
//! - `random`: 32 bytes from the operating system's CSPRNG as a 256-bit big-endian number,
//!   written in base62 (`0-9A-Za-z`), left-padded with `0` to exactly 43 characters.
//! - `checksum`: CRC32 (IEEE) of everything before it (`<prefix>_<random>`, as bytes), in
//!   base62, left-padded to exactly 6 characters.
//!
//! So a key is the prefix, `_`, and 49 base62 characters, and matches
//! `^<prefix>_[0-9A-Za-z]{49}$`. Base62 has no `_`, so the prefix is everything before the
//! last `_`. A typo or a random string fails the checksum (all but about one in four billion
//! do) and is rejected without a store lookup; secret scanners can match the pattern and check
//! the CRC to keep false positives low. The checksum is not a secret and protects nothing on
//! its own: the 256 random bits do.

use std::borrow::Cow;
use std::fmt;

use crate::ConfigError;

/// The base62 alphabet, in ASCII order.
const ALPHABET: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// Bytes of entropy in a key.
pub(crate) const RANDOM_BYTES: usize = 32;
/// Base62 digits for 32 bytes: `ceil(256 / log2(62))`.
pub(crate) const RANDOM_CHARS: usize = 43;
/// Base62 digits for a CRC32: `ceil(32 / log2(62))`.
pub(crate) const CHECKSUM_CHARS: usize = 6;
/// Bytes of entropy in a public key id.
const ID_BYTES: usize = 16;
/// Base62 digits for 16 bytes.
const ID_CHARS: usize = 22;
/// Longest prefix accepted.
const MAX_PREFIX: usize = 24;

/// The application's key prefix, validated: `[a-z][a-z0-9_]{1,23}`.
///
/// ```
/// use auth_core::api_key::ApiKeyPrefix;
///
/// assert!(ApiKeyPrefix::new("demo_live").is_ok());
/// assert!(ApiKeyPrefix::new("Demo").is_err());
/// assert!(ApiKeyPrefix::new("x").is_err());
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ApiKeyPrefix(Cow<'static, str>);

impl ApiKeyPrefix {
    /// Validates a prefix known at compile time, in a `const` context if you like, so an
    /// invalid one stops the build instead of failing at run time:
    ///
    /// ```
    /// use auth_core::api_key::ApiKeyPrefix;
    ///
    /// // Evaluated by the compiler: an invalid prefix is a build error, not a run-time panic.
    /// const PREFIX: ApiKeyPrefix = ApiKeyPrefix::from_static("acme_live").expect("valid prefix");
    /// assert_eq!(PREFIX.as_str(), "acme_live");
    /// assert!(ApiKeyPrefix::from_static("Acme").is_none());
    /// ```
    #[must_use]
    pub const fn from_static(prefix: &'static str) -> Option<Self> {
        if is_valid_prefix(prefix) {
            Some(Self(Cow::Borrowed(prefix)))
        } else {
            None
        }
    }

    /// Validates a prefix.
    ///
    /// # Errors
    ///
    /// [`ConfigError::InvalidApiKeyPrefix`] unless `prefix` is a lowercase ASCII letter followed
    /// by 1 to 23 lowercase letters, digits or underscores.
    pub fn new(prefix: &str) -> Result<Self, ConfigError> {
        if is_valid_prefix(prefix) {
            Ok(Self(Cow::Owned(prefix.to_owned())))
        } else {
            Err(ConfigError::InvalidApiKeyPrefix(prefix.to_owned()))
        }
    }

    /// The prefix.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The length of every key with this prefix.
    #[must_use]
    pub fn key_len(&self) -> usize {
        self.0.len() + 1 + RANDOM_CHARS + CHECKSUM_CHARS
    }

    /// Checks a presented key's format and checksum, without any store lookup.
    ///
    /// ```
    /// use auth_core::api_key::{ApiKeyPrefix, KeyFormatError};
    ///
    /// let prefix = ApiKeyPrefix::new("demo_live")?;
    /// let key = prefix.generate()?;
    /// assert!(prefix.check(key.expose_secret()).is_ok());
    ///
    /// // One character changed: the checksum catches it.
    /// let mut typo = key.expose_secret().to_owned();
    /// let last = typo.pop().unwrap();
    /// typo.push(if last == 'a' { 'b' } else { 'a' });
    /// assert_eq!(prefix.check(&typo), Err(KeyFormatError::Checksum));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    ///
    /// The first [`KeyFormatError`] found. None of them depend on a secret, so the checks are
    /// not constant-time (they need not be).
    pub fn check(&self, key: &str) -> Result<(), KeyFormatError> {
        let key = key.as_bytes();
        if key.len() != self.key_len() {
            return Err(KeyFormatError::Length);
        }
        // The length was checked, so these splits succeed; `None` is unreachable.
        let (Some((head, rest)), Some((signed, checksum))) = (
            key.split_at_checked(self.0.len()),
            key.split_at_checked(key.len() - CHECKSUM_CHARS),
        ) else {
            return Err(KeyFormatError::Length);
        };
        // The prefix is everything before the last `_` (base62 has none).
        let Some((b'_', body)) = rest.split_first() else {
            return Err(KeyFormatError::Prefix);
        };
        if head != self.as_str().as_bytes() || body.contains(&b'_') {
            return Err(KeyFormatError::Prefix);
        }
        // Every byte is classified, without an early exit or a data-dependent branch: keys
        // are random, so a branch per character would be mispredicted about half the time.
        if !body
            .iter()
            .fold(true, |ok, &b| ok & (base62_digit(b) != NOT_BASE62))
        {
            return Err(KeyFormatError::Alphabet);
        }
        // Six base62 digits name one number (below 62^6), so comparing numbers is comparing
        // the zero-padded texts, without writing the expected checksum out.
        let presented = checksum
            .iter()
            .fold(0u64, |n, &b| n * BASE62_RADIX + u64::from(base62_digit(b)));
        if presented != u64::from(crc32fast::hash(signed)) {
            return Err(KeyFormatError::Checksum);
        }
        Ok(())
    }

    /// Generates a new key with this prefix from the OS CSPRNG.
    ///
    /// # Errors
    ///
    /// [`RandomError`] when the operating system's random source fails.
    pub fn generate(&self) -> Result<ApiKeySecret, RandomError> {
        let mut random = [0u8; RANDOM_BYTES];
        getrandom::fill(&mut random).map_err(|e| RandomError(e.to_string()))?;
        let mut key = String::with_capacity(self.key_len());
        key.push_str(self.as_str());
        key.push('_');
        key.push_str(&base62_fixed(&random, RANDOM_CHARS));
        let checksum = checksum_of(&key);
        key.push_str(&checksum);
        Ok(ApiKeySecret(key))
    }
}

impl fmt::Display for ApiKeyPrefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Whether `s` matches `[a-z][a-z0-9_]{1,23}`.
const fn is_valid_prefix(s: &str) -> bool {
    if s.len() < 2 || s.len() > MAX_PREFIX {
        return false;
    }
    let [first, tail @ ..] = s.as_bytes() else {
        return false;
    };
    let mut rest = tail;
    if !first.is_ascii_lowercase() {
        return false;
    }
    while let [b, tail @ ..] = rest {
        if !(b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'_') {
            return false;
        }
        rest = tail;
    }
    true
}

/// Why a presented key was rejected by format alone. For logs: clients only ever see
/// `INVALID_API_KEY`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyFormatError {
    /// Not the length every key with this prefix has.
    Length,
    /// Another prefix (or none).
    Prefix,
    /// A character outside base62 after the prefix.
    Alphabet,
    /// The CRC32 checksum does not match: a typo, a truncated paste, or a made-up string.
    Checksum,
}

impl fmt::Display for KeyFormatError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Length => "api key has the wrong length",
            Self::Prefix => "api key has another prefix",
            Self::Alphabet => "api key has a character outside base62",
            Self::Checksum => "api key checksum does not match",
        })
    }
}

impl std::error::Error for KeyFormatError {}

/// The operating system's random source failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RandomError(String);

impl fmt::Display for RandomError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "os random source failed: {}", self.0)
    }
}

impl std::error::Error for RandomError {}

/// A key's plaintext. Returned once, at creation; never stored.
///
/// `Debug` prints `REDACTED`, and there is no `Display`, so it does not end up in logs by
/// accident; [`ApiKeySecret::expose_secret`] says what it does.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKeySecret(String);

impl ApiKeySecret {
    /// The key, to hand to its owner.
    #[must_use]
    pub fn expose_secret(&self) -> &str {
        &self.0
    }

    /// The key as an owned string, to hand to its owner.
    #[must_use]
    pub fn into_exposed_string(self) -> String {
        self.0
    }
}

impl fmt::Debug for ApiKeySecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKeySecret(REDACTED)")
    }
}

/// A fresh public key id: 16 random bytes in base62 (22 characters).
pub(crate) fn new_id() -> Result<String, RandomError> {
    let mut random = [0u8; ID_BYTES];
    getrandom::fill(&mut random).map_err(|e| RandomError(e.to_string()))?;
    Ok(base62_fixed(&random, ID_CHARS))
}

/// `base62_digit`'s answer for a byte outside the alphabet.
const NOT_BASE62: u8 = u8::MAX;
const BASE62_RADIX: u64 = 62;

/// Each byte's value as a base62 digit ([`ALPHABET`] position), or [`NOT_BASE62`].
// Evaluated by the compiler: an index out of range would fail the build, not panic.
#[allow(clippy::indexing_slicing)]
const BASE62_DIGITS: [u8; 256] = {
    let mut table = [NOT_BASE62; 256];
    let mut i = 0;
    while i < ALPHABET.len() {
        table[ALPHABET[i] as usize] = i as u8;
        i += 1;
    }
    table
};

/// The value of `b` as a base62 digit, or [`NOT_BASE62`]. A table load, no branch.
fn base62_digit(b: u8) -> u8 {
    BASE62_DIGITS
        .get(usize::from(b))
        .copied()
        .unwrap_or(NOT_BASE62)
}

/// The base62 CRC32 checksum of `s`.
fn checksum_of(s: &str) -> String {
    base62_fixed(&crc32fast::hash(s.as_bytes()).to_be_bytes(), CHECKSUM_CHARS)
}

/// `bytes` as a big-endian number in base62, left-padded with `0` to `width` digits.
///
/// `width` must be large enough for the number (it is for every caller: 43 digits hold 256
/// bits, 22 hold 128 and 6 hold 32); extra high digits would be dropped, never panic.
fn base62_fixed(bytes: &[u8], width: usize) -> String {
    let mut num = bytes.to_vec();
    let mut digits = vec![b'0'; width];
    // Schoolbook long division by 62, one output digit per pass, least significant first.
    for slot in digits.iter_mut().rev() {
        let mut rem: u32 = 0;
        for b in &mut num {
            let acc = (rem << 8) | u32::from(*b);
            // rem < 62, so acc < 62 * 256 and the quotient fits in a byte.
            *b = u8::try_from(acc / 62).unwrap_or(u8::MAX);
            rem = acc % 62;
        }
        *slot = usize::try_from(rem)
            .ok()
            .and_then(|r| ALPHABET.get(r))
            .copied()
            .unwrap_or(b'0');
    }
    // Every byte comes from the ASCII alphabet.
    String::from_utf8(digits).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prefix() -> ApiKeyPrefix {
        ApiKeyPrefix::new("demo_live").unwrap()
    }

    #[test]
    fn prefixes_follow_the_documented_pattern() {
        for ok in ["ab", "demo_live", "a1", "a_", "abcdefghijklmnopqrstuvwx"] {
            assert!(ApiKeyPrefix::new(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "a",
            "1a",
            "_a",
            "Ab",
            "aB",
            "a-b",
            "a b",
            "abcdefghijklmnopqrstuvwxy",
            "démo",
        ] {
            assert_eq!(
                ApiKeyPrefix::new(bad),
                Err(ConfigError::InvalidApiKeyPrefix(bad.to_owned())),
                "{bad}"
            );
        }
    }

    #[test]
    fn generated_keys_have_the_documented_shape() {
        let p = prefix();
        let k = p.generate().unwrap();
        let s = k.expose_secret();
        assert_eq!(s.len(), "demo_live_".len() + 49);
        assert_eq!(s.len(), p.key_len());
        let body = s.strip_prefix("demo_live_").unwrap();
        assert!(body.bytes().all(|b| b.is_ascii_alphanumeric()));
        assert_eq!(p.check(s), Ok(()));
    }

    #[test]
    fn generated_keys_differ() {
        let p = prefix();
        let a = p.generate().unwrap();
        let b = p.generate().unwrap();
        assert_ne!(a, b);
    }

    #[test]
    fn every_single_character_typo_fails_the_checksum() {
        let p = prefix();
        let key = p.generate().unwrap().into_exposed_string();
        let start = "demo_live_".len();
        for i in start..key.len() {
            for c in ['0', 'z', 'Q'] {
                let mut typo = key.clone().into_bytes();
                if typo[i] == c as u8 {
                    continue;
                }
                typo[i] = c as u8;
                let typo = String::from_utf8(typo).unwrap();
                assert_eq!(p.check(&typo), Err(KeyFormatError::Checksum), "{i} {c}");
            }
        }
    }

    #[test]
    fn swapped_neighbours_fail_the_checksum() {
        let p = prefix();
        let key = p.generate().unwrap().into_exposed_string();
        let mut bytes = key.into_bytes();
        let i = (10..bytes.len() - 1)
            .find(|&i| bytes[i] != bytes[i + 1])
            .unwrap();
        bytes.swap(i, i + 1);
        assert_eq!(
            p.check(&String::from_utf8(bytes).unwrap()),
            Err(KeyFormatError::Checksum)
        );
    }

    #[test]
    fn malformed_keys_name_what_is_wrong() {
        let p = prefix();
        let key = p.generate().unwrap().into_exposed_string();
        assert_eq!(p.check(""), Err(KeyFormatError::Length));
        assert_eq!(p.check(&key[..key.len() - 1]), Err(KeyFormatError::Length));
        assert_eq!(p.check(&format!("{key}x")), Err(KeyFormatError::Length));
        let other = format!("demo_test{}", &key["demo_live".len()..]);
        assert_eq!(p.check(&other), Err(KeyFormatError::Prefix));
        let dashed = key.replacen("demo_live_", "demo_live-", 1);
        assert_eq!(p.check(&dashed), Err(KeyFormatError::Prefix));
        let mut odd = key.clone();
        odd.replace_range(20..21, "-");
        assert_eq!(p.check(&odd), Err(KeyFormatError::Alphabet));
        let mut multibyte = key[..key.len() - 2].to_owned();
        multibyte.push('é');
        assert_eq!(p.check(&multibyte), Err(KeyFormatError::Alphabet));
    }

    #[test]
    fn a_prefix_with_underscores_is_split_at_the_last_one() {
        let p = ApiKeyPrefix::new("acme_prod_v2").unwrap();
        let key = p.generate().unwrap();
        assert_eq!(p.check(key.expose_secret()), Ok(()));
        assert_eq!(
            ApiKeyPrefix::new("acme_prod")
                .unwrap()
                .check(key.expose_secret()),
            Err(KeyFormatError::Length)
        );
    }

    /// The format as the module docs define it, written the plain way (split at the last
    /// `_`, test each character, write the expected checksum out and compare texts).
    fn check_by_definition(p: &ApiKeyPrefix, key: &str) -> Result<(), KeyFormatError> {
        if key.len() != p.key_len() {
            return Err(KeyFormatError::Length);
        }
        let (head, body) = key.rsplit_once('_').ok_or(KeyFormatError::Prefix)?;
        if head != p.as_str() {
            return Err(KeyFormatError::Prefix);
        }
        if !body.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(KeyFormatError::Alphabet);
        }
        let (signed, checksum) = key.split_at(key.len() - CHECKSUM_CHARS);
        if checksum_of(signed) != checksum {
            return Err(KeyFormatError::Checksum);
        }
        Ok(())
    }

    #[test]
    fn check_agrees_with_the_definition_on_every_one_byte_change() {
        let p = prefix();
        for _ in 0..4 {
            let key = p.generate().unwrap();
            let key = key.expose_secret();
            assert_eq!(p.check(key), Ok(()));
            for at in 0..key.len() {
                for b in 0u8..128 {
                    let mut changed = key.as_bytes().to_vec();
                    changed[at] = b;
                    let changed = String::from_utf8(changed).unwrap();
                    assert_eq!(
                        p.check(&changed),
                        check_by_definition(&p, &changed),
                        "{changed}"
                    );
                }
            }
            // Checksums that read as numbers of 2^32 and above never match.
            let mut high = key[..key.len() - CHECKSUM_CHARS].to_owned();
            high.push_str("zzzzzz");
            assert_eq!(p.check(&high), Err(KeyFormatError::Checksum));
        }
    }

    #[test]
    fn base62_matches_known_values() {
        assert_eq!(base62_fixed(&[0], 3), "000");
        assert_eq!(base62_fixed(&[61], 2), "0z");
        assert_eq!(base62_fixed(&[62], 2), "10");
        assert_eq!(base62_fixed(&[0xff, 0xff], 3), "H31"); // 65535 = 17*3844 + 3*62 + 1
        assert_eq!(base62_fixed(&[0xff; 32], 43).len(), 43);
        assert!(!base62_fixed(&[0xff; 32], 43).starts_with('0'));
        assert_eq!(base62_fixed(&u32::MAX.to_be_bytes(), 6), "4gfFC3");
    }

    #[test]
    fn ids_are_22_base62_characters() {
        let id = new_id().unwrap();
        assert_eq!(id.len(), 22);
        assert!(id.bytes().all(|b| b.is_ascii_alphanumeric()));
        assert_ne!(id, new_id().unwrap());
    }

    #[test]
    fn secrets_are_redacted_in_debug() {
        let k = prefix().generate().unwrap();
        assert_eq!(format!("{k:?}"), "ApiKeySecret(REDACTED)");
    }

    proptest::proptest! {
        #[test]
        fn check_never_panics(s in ".{0,80}") {
            let _ = prefix().check(&s);
        }

        #[test]
        fn check_agrees_with_the_definition(s in "demo_live_[0-9A-Za-z_]{49}|.{0,80}") {
            let p = prefix();
            proptest::prop_assert_eq!(p.check(&s), check_by_definition(&p, &s));
        }

        #[test]
        fn random_base62_bodies_almost_never_pass(body in "[0-9A-Za-z]{49}") {
            // 1 in 2^32 would pass; proptest's default 256 cases will not hit that.
            let s = format!("demo_live_{body}");
            proptest::prop_assert_eq!(prefix().check(&s), Err(KeyFormatError::Checksum));
        }
    }
}
