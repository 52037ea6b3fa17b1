//! Entry points into the record codecs for the fuzz targets in `fuzz/`: what is read back from
//! Redis (hash fields, reply arrays, strings) is untrusted input to these parsers, which must
//! be total (an error, never a panic) and must round-trip what the encoders write.
//!
//! Hidden, behind the `fuzzing` feature; not a public API and free to change.

use auth_core::clock::UnixTime;

/// [`UnixTime`] as the stores write it: 20 decimal digits of nanoseconds.
#[must_use]
pub fn time20(t: UnixTime) -> String {
    crate::codec::time20(t)
}

/// Reads a stored time (decimal nanoseconds).
#[must_use]
pub fn parse_time(s: &str) -> Option<UnixTime> {
    crate::codec::parse_time(s)
}

/// An API-key record from its `HGETALL` reply (`field, value, ...`).
///
/// # Errors
///
/// The decoder's error, as text.
#[cfg(feature = "api-key")]
pub fn api_key_record(flat: &[String]) -> Result<Option<auth_core::api_key::ApiKeyRecord>, String> {
    crate::api_key::from_fields("fuzz", flat).map_err(|e| e.to_string())
}

/// An API-key record as `HSET` fields.
///
/// # Errors
///
/// The encoder's error, as text.
#[cfg(feature = "api-key")]
pub fn api_key_fields(record: &auth_core::api_key::ApiKeyRecord) -> Result<Vec<String>, String> {
    crate::api_key::to_fields(record).map_err(|e| e.to_string())
}

/// A subject cut-off (`<issued_before> <until>`) of the revocation store.
#[cfg(feature = "revocation")]
#[must_use]
pub fn revocation_cutoff(v: &str) -> Option<(UnixTime, UnixTime)> {
    crate::revocation::parse_cutoff(v)
}

/// A linked identity from its `HMGET` reply `[iss, sub, provider, account, linked_at]`.
///
/// # Errors
///
/// The decoder's error, as text.
#[cfg(feature = "identities")]
pub fn identity_link(
    reply: &[Option<String>],
) -> Result<Option<auth_core::oidc_login::LinkedIdentity>, String> {
    crate::identities::link("fuzz", reply).map_err(|e| e.to_string())
}

/// A TOTP credential from its `HGETALL` reply.
///
/// # Errors
///
/// The decoder's error, as text.
#[cfg(feature = "mfa")]
pub fn totp_credential(
    fields: &std::collections::HashMap<String, String>,
) -> Result<auth_core::mfa::TotpCredential, String> {
    crate::mfa::totp::parse("fuzz", fields).map_err(|e| e.to_string())
}
