//! Constant-time comparison of secrets, in one place.
//!
//! Everything in this workspace that compares a secret a client sent (a CSRF token, a token
//! digest) goes through [`secrets_equal`] or [`digests_equal`], both backed by the
//! [`subtle`](https://docs.rs/subtle) crate's `ConstantTimeEq`.
//!
//! # What is and is not constant-time
//!
//! - [`digests_equal`] compares two 32-byte digests; its running time does not depend on their
//!   contents (subtle folds every byte difference into one flag and hides it from the
//!   optimizer).
//! - [`secrets_equal`] first hashes both inputs with SHA-256, then compares the digests with
//!   [`digests_equal`]. The comparison therefore neither stops at the first differing byte nor
//!   at a length difference. SHA-256's own running time grows with the input length in 64-byte
//!   blocks, so the *length* of the inputs (to within a block) can still be observed; the content
//!   cannot. Use it for secrets whose length is public (all of ours have a fixed length).
//! - Hash-map lookups keyed by a digest (refresh tokens, API keys) are not constant-time, and do
//!   not need to be: the key is the SHA-256 of a 256-bit random secret, so learning which bucket
//!   it falls in tells an attacker nothing usable about any stored token.
//!
//! # Example
//!
//! ```
//! use auth_core::constant_time::secrets_equal;
//!
//! assert!(secrets_equal(b"csrf-token-value", b"csrf-token-value"));
//! assert!(!secrets_equal(b"csrf-token-value", b"csrf-token-valuX"));
//! assert!(!secrets_equal(b"short", b"a much longer value"));
//! ```

use sha2::{Digest as _, Sha256};
use subtle::ConstantTimeEq as _;

/// Whether two 32-byte digests are equal, in time independent of their contents.
///
/// ```
/// use auth_core::constant_time::digests_equal;
///
/// assert!(digests_equal(&[7; 32], &[7; 32]));
/// assert!(!digests_equal(&[7; 32], &[8; 32]));
/// ```
#[must_use]
pub fn digests_equal(a: &[u8; 32], b: &[u8; 32]) -> bool {
    bool::from(a.ct_eq(b))
}

/// Whether two secrets are equal: both are hashed with SHA-256 and the digests compared with
/// [`digests_equal`], so neither a differing byte nor a differing length ends the comparison
/// early. See the [module docs](self) for what remains observable.
///
/// ```
/// use auth_core::constant_time::secrets_equal;
///
/// assert!(secrets_equal(b"same", b"same"));
/// assert!(!secrets_equal(b"same", b"other"));
/// ```
#[must_use]
pub fn secrets_equal(a: &[u8], b: &[u8]) -> bool {
    digests_equal(&sha256(a), &sha256(b))
}

/// SHA-256 of `data`.
pub(crate) fn sha256(data: &[u8]) -> [u8; 32] {
    Sha256::digest(data).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_and_unequal_inputs_of_every_shape() {
        assert!(secrets_equal(b"", b""));
        assert!(!secrets_equal(b"", b"a"));
        assert!(!secrets_equal(b"abc", b"abd"));
        assert!(!secrets_equal(b"abc", b"abcd"));
        let long = [0x5a_u8; 200];
        assert!(secrets_equal(&long, &long));
    }

    #[test]
    fn sha256_matches_the_fips_180_4_test_vector() {
        assert_eq!(
            sha256(b"abc"),
            [
                0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea, 0x41, 0x41, 0x40, 0xde, 0x5d, 0xae,
                0x22, 0x23, 0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17, 0x7a, 0x9c, 0xb4, 0x10, 0xff, 0x61,
                0xf2, 0x00, 0x15, 0xad
            ]
        );
    }
}
