//! Who is attempting: [`ClientKey`] (an address network or an application-chosen name) and the
//! fixed-size [`AttemptKey`] a store indexes by.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::Arc;

use sha2::{Digest, Sha256};

use crate::ConfigError;

/// How client addresses are grouped into one key.
///
/// The default keeps IPv4 addresses whole (`/32`) and groups IPv6 addresses by `/64`: a single
/// subscriber is usually handed a whole `/64` (or more), so keying on the full 128 bits would
/// give an attacker 2^64 fresh keys for free.
///
/// ```
/// use auth_core::brute_force::{ClientKey, IpGrouping};
///
/// let a = ClientKey::from_ip("2001:db8:1:2::10".parse().unwrap());
/// let b = ClientKey::from_ip("2001:db8:1:2:ffff::1".parse().unwrap());
/// assert_eq!(a, b);
/// assert_eq!(a.to_string(), "2001:db8:1:2::/64");
///
/// let by_48 = IpGrouping::new(32, 48)?;
/// let c = ClientKey::from_ip_grouped("2001:db8:1:3::1".parse().unwrap(), by_48);
/// assert_eq!(c.to_string(), "2001:db8:1::/48");
/// # Ok::<(), auth_core::ConfigError>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct IpGrouping {
    v4_prefix: u8,
    v6_prefix: u8,
}

impl Default for IpGrouping {
    fn default() -> Self {
        Self::DEFAULT
    }
}

impl IpGrouping {
    /// IPv4 by `/32` (one address), IPv6 by `/64`.
    pub const DEFAULT: Self = Self {
        v4_prefix: 32,
        v6_prefix: 64,
    };

    /// Groups IPv4 addresses by `v4_prefix` bits and IPv6 addresses by `v6_prefix` bits.
    ///
    /// # Errors
    ///
    /// [`ConfigError::InvalidPolicy`] when `v4_prefix` exceeds 32 or `v6_prefix` exceeds 128.
    pub fn new(v4_prefix: u8, v6_prefix: u8) -> Result<Self, ConfigError> {
        if v4_prefix > 32 || v6_prefix > 128 {
            return Err(ConfigError::InvalidPolicy {
                setting: "ip_grouping",
                reason: format!(
                    "prefixes /{v4_prefix} (IPv4) and /{v6_prefix} (IPv6) must be at most /32 and /128"
                ),
            });
        }
        Ok(Self {
            v4_prefix,
            v6_prefix,
        })
    }

    /// The IPv4 prefix length.
    #[must_use]
    pub const fn v4_prefix(&self) -> u8 {
        self.v4_prefix
    }

    /// The IPv6 prefix length.
    #[must_use]
    pub const fn v6_prefix(&self) -> u8 {
        self.v6_prefix
    }

    /// The network `ip` belongs to and its prefix length. IPv4-mapped IPv6 addresses
    /// (`::ffff:a.b.c.d`) count as IPv4.
    #[must_use]
    pub fn group(&self, ip: IpAddr) -> (IpAddr, u8) {
        match ip.to_canonical() {
            IpAddr::V4(v4) => {
                let bits = u32::from(v4) & mask_u32(self.v4_prefix);
                (IpAddr::V4(Ipv4Addr::from(bits)), self.v4_prefix)
            }
            IpAddr::V6(v6) => {
                let bits = u128::from(v6) & mask_u128(self.v6_prefix);
                (IpAddr::V6(Ipv6Addr::from(bits)), self.v6_prefix)
            }
        }
    }
}

fn mask_u32(prefix: u8) -> u32 {
    u32::MAX
        .checked_shl(32 - u32::from(prefix.min(32)))
        .unwrap_or(0)
}

fn mask_u128(prefix: u8) -> u128 {
    u128::MAX
        .checked_shl(128 - u32::from(prefix.min(128)))
        .unwrap_or(0)
}

/// The client an attempt is attributed to: an address network (the default, see
/// [`IpGrouping`]) or an application-chosen name such as an API key id or a tenant.
///
/// Its `Display` form is what the `tracing` events show, so a named key must never be a secret.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct ClientKey {
    repr: Repr,
}

#[derive(Clone, PartialEq, Eq, Hash)]
enum Repr {
    Ip { network: IpAddr, prefix: u8 },
    Named(Arc<str>),
}

impl ClientKey {
    /// The key of `ip` with the default grouping (IPv6 by `/64`).
    #[must_use]
    pub fn from_ip(ip: IpAddr) -> Self {
        Self::from_ip_grouped(ip, IpGrouping::DEFAULT)
    }

    /// The key of `ip` grouped by `grouping`.
    #[must_use]
    pub fn from_ip_grouped(ip: IpAddr, grouping: IpGrouping) -> Self {
        let (network, prefix) = grouping.group(ip);
        Self {
            repr: Repr::Ip { network, prefix },
        }
    }

    /// A key chosen by the application (an API key id, a tenant, ...). Names never collide
    /// with addresses.
    #[must_use]
    pub fn named(name: impl Into<Arc<str>>) -> Self {
        Self {
            repr: Repr::Named(name.into()),
        }
    }

    /// The network address, for address keys.
    #[must_use]
    pub fn ip(&self) -> Option<IpAddr> {
        match &self.repr {
            Repr::Ip { network, .. } => Some(*network),
            Repr::Named(_) => None,
        }
    }

    /// The fixed-size key a store indexes this client by.
    #[must_use]
    pub fn attempt_key(&self) -> AttemptKey {
        match &self.repr {
            // Addresses are stored as they are (IPv4 in its IPv4-mapped form): no hashing on
            // the hot path, and a digest of a name cannot be steered onto them (preimage).
            Repr::Ip {
                network: IpAddr::V4(v4),
                ..
            } => AttemptKey(v4.to_ipv6_mapped().octets()),
            Repr::Ip {
                network: IpAddr::V6(v6),
                ..
            } => AttemptKey(v6.octets()),
            Repr::Named(name) => AttemptKey::digest(b"auth-core/brute-force/client\0", name),
        }
    }
}

impl fmt::Display for ClientKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.repr {
            Repr::Ip {
                network: IpAddr::V4(v4),
                prefix: 32,
            } => write!(f, "{v4}"),
            Repr::Ip {
                network: IpAddr::V6(v6),
                prefix: 128,
            } => write!(f, "{v6}"),
            Repr::Ip { network, prefix } => write!(f, "{network}/{prefix}"),
            Repr::Named(name) => f.write_str(name),
        }
    }
}

impl fmt::Debug for ClientKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ClientKey({self})")
    }
}

/// The 16-byte key a store indexes a client or an account by.
///
/// Addresses are kept as their 16 network bytes; names and accounts are the first 16 bytes of
/// a SHA-256 digest with a domain prefix, so a key has a fixed size whatever the input length,
/// a client name and an account never share a key, and nobody can pick an account name that
/// shares another account's counters (that would need a SHA-256 collision on 128 bits).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AttemptKey([u8; 16]);

impl AttemptKey {
    /// The key of an account (a login name as the application normalises it, e.g. a
    /// lower-cased email address).
    #[must_use]
    pub fn account(account: &str) -> Self {
        Self::digest(b"auth-core/brute-force/account\0", account)
    }

    /// The raw bytes (for stores that serialise keys, e.g. as hex in Redis).
    #[must_use]
    pub const fn as_bytes(&self) -> &[u8; 16] {
        &self.0
    }

    fn digest(domain: &[u8], input: &str) -> Self {
        let mut h = Sha256::new();
        h.update(domain);
        h.update(input.as_bytes());
        let full = h.finalize();
        let mut out = [0u8; 16];
        for (o, b) in out.iter_mut().zip(full.iter()) {
            *o = *b;
        }
        Self(out)
    }
}

impl fmt::Debug for AttemptKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AttemptKey(")?;
        for b in self.0 {
            write!(f, "{b:02x}")?;
        }
        f.write_str(")")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn ipv6_clients_in_one_64_share_a_key_and_neighbours_do_not() {
        let a = ClientKey::from_ip(ip("2001:db8:aa:bb:1:2:3:4"));
        let b = ClientKey::from_ip(ip("2001:db8:aa:bb:ffff:ffff:ffff:ffff"));
        let c = ClientKey::from_ip(ip("2001:db8:aa:bc::1"));
        assert_eq!(a.attempt_key(), b.attempt_key());
        assert_ne!(a.attempt_key(), c.attempt_key());
        assert_eq!(a.to_string(), "2001:db8:aa:bb::/64");
    }

    #[test]
    fn ipv4_addresses_are_kept_whole_and_mapped_ipv6_counts_as_ipv4() {
        let a = ClientKey::from_ip(ip("203.0.113.7"));
        let b = ClientKey::from_ip(ip("203.0.113.8"));
        let mapped = ClientKey::from_ip(ip("::ffff:203.0.113.7"));
        assert_ne!(a.attempt_key(), b.attempt_key());
        assert_eq!(a, mapped);
        assert_eq!(a.to_string(), "203.0.113.7");
        assert_eq!(a.ip(), Some(ip("203.0.113.7")));
    }

    #[test]
    fn custom_grouping_masks_both_families() {
        let g = IpGrouping::new(24, 48).unwrap();
        let a = ClientKey::from_ip_grouped(ip("198.51.100.77"), g);
        assert_eq!(a.to_string(), "198.51.100.0/24");
        let b = ClientKey::from_ip_grouped(ip("2001:db8:1:2:3::1"), g);
        assert_eq!(b.to_string(), "2001:db8:1::/48");
        let whole = IpGrouping::new(0, 0).unwrap();
        assert_eq!(
            ClientKey::from_ip_grouped(ip("198.51.100.77"), whole).to_string(),
            "0.0.0.0/0"
        );
        assert!(IpGrouping::new(33, 64).is_err());
        assert!(IpGrouping::new(32, 129).is_err());
    }

    #[test]
    fn names_and_accounts_never_share_a_key() {
        let name = ClientKey::named("alice").attempt_key();
        let account = AttemptKey::account("alice");
        assert_ne!(name, account);
        assert_eq!(account, AttemptKey::account("alice"));
        assert_ne!(account, AttemptKey::account("alice "));
    }
}
