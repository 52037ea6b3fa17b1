//! The Redis record codecs of auth-redis: what comes back from Redis is untrusted input
//! (another writer, a corrupted or hostile store).
//!
//! The input is split at NUL bytes into strings, used as an API-key record's `HGETALL` reply,
//! a revocation cut-off, a linked identity's `HMGET` reply, a TOTP credential's fields and a
//! stored time.
//!
//! Properties: never a panic; every decoded record encodes and decodes back to itself;
//! decoded times re-encode to text that decodes to the same time.
#![no_main]

use std::collections::HashMap;

use auth_redis::fuzzing::{
    api_key_fields, api_key_record, identity_link, parse_time, revocation_cutoff, time20,
    totp_credential,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let parts: Vec<String> = text.split('\0').take(64).map(str::to_owned).collect();

    if let Ok(Some(record)) = api_key_record(&parts) {
        let fields = api_key_fields(&record).expect("a decoded record encodes");
        assert_eq!(
            api_key_record(&fields),
            Ok(Some(record)),
            "api-key record round trip"
        );
    }

    for part in &parts {
        if let Some(t) = parse_time(part) {
            assert_eq!(parse_time(&time20(t)), Some(t));
        }
        if let Some((before, until)) = revocation_cutoff(part) {
            let again = format!("{} {}", time20(before), time20(until));
            assert_eq!(revocation_cutoff(&again), Some((before, until)));
        }
    }

    let reply: Vec<Option<String>> = parts
        .iter()
        .take(5)
        .map(|p| (!p.is_empty()).then(|| p.clone()))
        .collect();
    if let Ok(Some(link)) = identity_link(&reply) {
        assert_eq!(Some(link.identity().issuer()), reply[0].as_deref());
        assert_eq!(Some(link.identity().subject()), reply[1].as_deref());
    }

    let fields: HashMap<String, String> = parts
        .chunks(2)
        .filter_map(|kv| match kv {
            [k, v] => Some((k.clone(), v.clone())),
            _ => None,
        })
        .collect();
    let _ = totp_credential(&fields);
});
