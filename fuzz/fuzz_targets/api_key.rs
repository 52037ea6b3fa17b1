//! API-key format and checksum: `ApiKeyPrefix::check` on anything, and on real keys with one
//! character changed.
//!
//! Properties: never a panic; an accepted key has the prefix, the exact length and only base62
//! after it; any single-character change to a real key (to another base62 character) is
//! caught by the format check or the CRC32 checksum, never accepted.
#![no_main]

use std::sync::LazyLock;

use auth_core::api_key::ApiKeyPrefix;
use libfuzzer_sys::fuzz_target;

static PREFIX: LazyLock<ApiKeyPrefix> =
    LazyLock::new(|| ApiKeyPrefix::new("fuzz_live").expect("valid prefix"));
static KEY: LazyLock<String> = LazyLock::new(|| {
    PREFIX
        .generate()
        .expect("random source")
        .expose_secret()
        .to_owned()
});

const BASE62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data)
        && PREFIX.check(text).is_ok()
    {
        assert_eq!(text.len(), PREFIX.key_len());
        let body = text
            .strip_prefix("fuzz_live_")
            .expect("accepted key has the prefix");
        assert!(body.bytes().all(|b| b.is_ascii_alphanumeric()));
    }
    if let [at_hi, at_lo, with, ..] = data {
        let mut key = KEY.clone().into_bytes();
        let at = usize::from(u16::from_be_bytes([*at_hi, *at_lo])) % key.len();
        let replacement = BASE62[usize::from(*with) % BASE62.len()];
        if key[at] != replacement {
            key[at] = replacement;
            let changed = String::from_utf8(key).expect("ascii");
            assert!(
                PREFIX.check(&changed).is_err(),
                "a one-character change at {at} was accepted"
            );
        }
    }
});
