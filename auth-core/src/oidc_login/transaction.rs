//! The login transaction: what `begin` must hand to `complete` (state, nonce, PKCE verifier,
//! provider, return-to, creation time, the account to link), sealed with AES-256-GCM into a
//! cookie of its own, named after its state, so several attempts (two tabs) coexist.

use std::fmt;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use crate::clock::UnixTime;
use crate::seal::Keys;

/// Domain separation of the associated data and of the cookie-name digest.
const AAD_DOMAIN: &[u8] = b"auth-core/oidc-login/transaction/v1\0";
const NAME_DOMAIN: &[u8] = b"auth-core/oidc-login/cookie-name/v1\0";

/// The cookie-name prefix: `__Host-` (Secure, `Path=/`, no `Domain`: a sibling subdomain
/// cannot plant one) on https, plain on loopback http where `Secure` cookies may not be set.
pub(crate) const SECURE_PREFIX: &str = "__Host-auth_login_";
pub(crate) const PLAIN_PREFIX: &str = "auth_login_";

/// The largest sealed cookie value accepted (the transaction is well under 2 KiB).
const MAX_COOKIE_VALUE: usize = 3 * 1024;

/// `n` random bytes, base64url.
pub(crate) fn random_b64(n: usize) -> Option<String> {
    let mut raw = vec![0u8; n];
    getrandom::fill(&mut raw).ok()?;
    Some(B64.encode(raw))
}

/// The PKCE S256 challenge of `verifier` (RFC 7636 section 4.2).
pub(crate) fn s256(verifier: &str) -> String {
    B64.encode(Sha256::digest(verifier.as_bytes()))
}

/// The state's cookie-name suffix: 128 bits of its SHA-256, base64url.
fn name_suffix(state: &str) -> String {
    let mut h = Sha256::new();
    h.update(NAME_DOMAIN);
    h.update(state.as_bytes());
    let digest = h.finalize();
    B64.encode(digest.get(..16).unwrap_or_default())
}

/// The key a used state is remembered under: the cookie-name suffix (a digest, so the store
/// never holds the state itself).
pub(crate) fn state_id(state: &str) -> String {
    name_suffix(state)
}

/// The transaction cookie's name for `state`.
pub(crate) fn cookie_name(state: &str, secure: bool) -> String {
    let prefix = if secure { SECURE_PREFIX } else { PLAIN_PREFIX };
    format!("{prefix}{}", name_suffix(state))
}

/// What `complete` needs from `begin`. `Debug` hides the secrets.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Transaction {
    #[serde(rename = "s")]
    pub(crate) state: String,
    #[serde(rename = "n")]
    pub(crate) nonce: String,
    #[serde(rename = "v")]
    pub(crate) verifier: String,
    #[serde(rename = "p")]
    pub(crate) provider: String,
    #[serde(rename = "r")]
    pub(crate) return_to: String,
    /// Creation time, seconds since the epoch.
    #[serde(rename = "t")]
    pub(crate) created_at: u64,
    #[serde(rename = "l", default, skip_serializing_if = "Option::is_none")]
    pub(crate) link_to: Option<String>,
}

impl fmt::Debug for Transaction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Transaction")
            .field("provider", &self.provider)
            .field("return_to", &self.return_to)
            .field("created_at", &self.created_at)
            .field("link_to", &self.link_to)
            .finish_non_exhaustive()
    }
}

impl Transaction {
    pub(crate) fn created(&self) -> UnixTime {
        UnixTime::from_secs(self.created_at)
    }

    /// When it stops being accepted.
    pub(crate) fn expires_at(&self, lifetime: Duration) -> UnixTime {
        self.created().saturating_add(lifetime)
    }

    fn aad(cookie_name: &str) -> Vec<u8> {
        let mut aad = AAD_DOMAIN.to_vec();
        aad.extend_from_slice(cookie_name.as_bytes());
        aad
    }

    /// The cookie value: the sealed JSON, base64url. Bound to the cookie's name (and so to the
    /// state) by the associated data.
    pub(crate) fn seal(&self, keys: &Keys, cookie_name: &str) -> Option<String> {
        let json = serde_json::to_vec(self).ok()?;
        let sealed = keys.seal(&Self::aad(cookie_name), &json).ok()?;
        Some(B64.encode(sealed))
    }

    /// Opens a cookie value; `None` when it was not sealed by these keys for this name.
    pub(crate) fn open(keys: &Keys, cookie_name: &str, value: &str) -> Option<Self> {
        if value.len() > MAX_COOKIE_VALUE {
            return None;
        }
        let sealed = B64.decode(value).ok()?;
        let json = keys.open(&Self::aad(cookie_name), &sealed)?;
        serde_json::from_slice(&json).ok()
    }
}

/// How often a cookie appears in the request's `Cookie` headers.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Found<'a> {
    None,
    Once(&'a str),
    Several,
}

/// Looks `name` up in `Cookie` header values (`a=b; c=d`, RFC 6265 section 4.2.1).
pub(crate) fn find_cookie<'a>(headers: &[&'a str], name: &str) -> Found<'a> {
    let mut found = headers
        .iter()
        .flat_map(|h| h.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .filter(|(n, _)| *n == name)
        .map(|(_, v)| v.trim_matches('"'));
    match (found.next(), found.next()) {
        (None, _) => Found::None,
        (Some(v), None) => Found::Once(v),
        (Some(_), Some(_)) => Found::Several,
    }
}

/// A `Set-Cookie` header the application must send: the transaction cookie, or its deletion.
///
/// `Debug` shows the name and attributes only; the value is a sealed transaction.
#[derive(Clone, PartialEq, Eq)]
pub struct SetCookie {
    name: String,
    value: String,
    attributes: String,
}

impl SetCookie {
    pub(crate) fn new(name: String, value: String, max_age: Duration, secure: bool) -> Self {
        let mut attributes = format!(
            "Path=/; Max-Age={}; HttpOnly; SameSite=Lax",
            max_age.as_secs()
        );
        if secure {
            attributes.push_str("; Secure");
        }
        Self {
            name,
            value,
            attributes,
        }
    }

    pub(crate) fn removal(name: String, secure: bool) -> Self {
        Self::new(name, String::new(), Duration::ZERO, secure)
    }

    /// The cookie's name.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The cookie's value (empty for a removal).
    #[must_use]
    pub fn value(&self) -> &str {
        &self.value
    }

    /// Whether this removes the cookie (`Max-Age=0`).
    #[must_use]
    pub fn is_removal(&self) -> bool {
        self.value.is_empty()
    }

    /// The whole `Set-Cookie` header value, e.g.
    /// `__Host-auth_login_x=...; Path=/; Max-Age=600; HttpOnly; SameSite=Lax; Secure`.
    #[must_use]
    pub fn header_value(&self) -> String {
        format!("{}={}; {}", self.name, self.value, self.attributes)
    }
}

impl fmt::Debug for SetCookie {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SetCookie")
            .field("name", &self.name)
            .field("attributes", &self.attributes)
            .field("removal", &self.is_removal())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::seal::SealingKey;

    fn keys(byte: u8) -> Keys {
        Keys::new(SealingKey::new(1, &[byte; 32]).unwrap())
    }

    fn tx() -> Transaction {
        Transaction {
            state: "st".into(),
            nonce: "no".into(),
            verifier: "ve".into(),
            provider: "acme".into(),
            return_to: "/x".into(),
            created_at: 1_700_000_000,
            link_to: Some("account-1".into()),
        }
    }

    #[test]
    fn a_sealed_transaction_opens_only_under_its_cookie_name_and_key() {
        let name = cookie_name("st", true);
        assert!(name.starts_with("__Host-auth_login_"));
        assert_eq!(name.len(), SECURE_PREFIX.len() + 22);
        let value = tx().seal(&keys(1), &name).unwrap();
        let raw = B64.decode(&value).unwrap();
        assert!(!raw.windows(9).any(|w| w == b"account-1"), "encrypted");
        assert_eq!(Transaction::open(&keys(1), &name, &value), Some(tx()));
        let other_name = cookie_name("other", true);
        assert_eq!(Transaction::open(&keys(1), &other_name, &value), None);
        assert_eq!(Transaction::open(&keys(2), &name, &value), None);
        assert_eq!(Transaction::open(&keys(1), &name, "garbage!"), None);
        assert!(!format!("{:?}", tx()).contains("ve\""));
    }

    #[test]
    fn pkce_challenge_is_the_rfc_7636_s256_of_the_verifier() {
        // RFC 7636 appendix B.
        assert_eq!(
            s256("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
        let v = random_b64(32).unwrap();
        assert_eq!(v.len(), 43);
        assert_ne!(v, random_b64(32).unwrap());
    }

    #[test]
    fn cookies_are_found_once_several_times_or_not_at_all() {
        let h = ["a=1; b=2", "c=\"3\""];
        assert_eq!(find_cookie(&h, "b"), Found::Once("2"));
        assert_eq!(find_cookie(&h, "c"), Found::Once("3"));
        assert_eq!(find_cookie(&h, "d"), Found::None);
        assert_eq!(find_cookie(&["a=1", "a=2"], "a"), Found::Several);
    }

    #[test]
    fn set_cookie_headers_carry_the_protective_attributes() {
        let c = SetCookie::new("n".into(), "v".into(), Duration::from_secs(600), true);
        assert_eq!(
            c.header_value(),
            "n=v; Path=/; Max-Age=600; HttpOnly; SameSite=Lax; Secure"
        );
        let r = SetCookie::removal("n".into(), false);
        assert!(r.is_removal());
        assert_eq!(
            r.header_value(),
            "n=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax"
        );
        assert!(!format!("{c:?}").contains("\"v\""));
    }
}
