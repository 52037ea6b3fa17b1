//! Which client a request comes from: [`KeyExtractor`], the default [`PeerIp`] (connection
//! address, forwarding headers only from [`TrustedProxies`]) and [`KeyFn`] for anything else.

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;
use std::sync::Arc;

use auth_core::ConfigError;
use auth_core::brute_force::{ClientKey, IpGrouping};
use http::{HeaderMap, Request};
use ipnet::IpNet;

/// The peer address of a request's connection, as a request extension.
///
/// `PeerIp` reads it first. A plain hyper (or tonic) server inserts it per connection, e.g.
/// with `tower_http::add_extension::AddExtensionLayer::new(ClientAddr(remote))` or
/// `req.extensions_mut().insert(ClientAddr(remote))` in the `service_fn` that accepted the
/// connection. With the `axum-connect-info` feature, axum's `ConnectInfo<SocketAddr>` is read
/// too (serve with `into_make_service_with_connect_info::<SocketAddr>()`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ClientAddr(pub SocketAddr);

/// Derives the [`ClientKey`] an attempt is attributed to.
///
/// Returning `None` means "cannot tell who this is": the layer then refuses the request with
/// 503 and logs why (a misconfigured server, not a client error), rather than lumping unknown
/// callers together or letting them through untracked.
pub trait KeyExtractor: Clone {
    /// The key for `request`, from its headers and extensions only (never the body).
    fn extract<B>(&self, request: &Request<B>) -> Option<ClientKey>;
}

/// Which forwarding header the trusted proxies set.
///
/// Only the one configured is read. Reading both would let a client behind a proxy that only
/// maintains one of them smuggle in the other, which the proxy passes through untouched.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ForwardedHeader {
    /// `X-Forwarded-For: client, proxy1, proxy2` (nginx, HAProxy, most load balancers).
    #[default]
    XForwardedFor,
    /// RFC 7239 `Forwarded: for=client;proto=https, for=proxy1`.
    Forwarded,
}

/// Networks whose forwarding headers are believed.
///
/// ```
/// use auth_tower::brute_force::TrustedProxies;
///
/// let trusted: TrustedProxies = "10.0.0.0/8, 192.168.1.10, fd00::/8".parse()?;
/// assert!(trusted.contains("10.1.2.3".parse().unwrap()));
/// assert!(trusted.contains("192.168.1.10".parse().unwrap()));
/// assert!(!trusted.contains("192.168.1.11".parse().unwrap()));
///
/// // Trusting everybody would make the headers spoofable by anybody: refused.
/// assert!("0.0.0.0/0".parse::<TrustedProxies>().is_err());
/// assert!("10.0.0.0/33".parse::<TrustedProxies>().is_err());
/// // An empty list trusts nobody.
/// assert!("".parse::<TrustedProxies>()?.is_empty());
/// # Ok::<(), auth_core::ConfigError>(())
/// ```
#[derive(Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Arc<[IpNet]>);

impl TrustedProxies {
    /// Trusts nobody (the default): forwarding headers are ignored.
    #[must_use]
    pub fn none() -> Self {
        Self::default()
    }

    /// Trusts `networks`.
    ///
    /// # Errors
    ///
    /// [`ConfigError::InvalidNetwork`] for a `/0` network (it would trust every address).
    pub fn new(networks: impl IntoIterator<Item = IpNet>) -> Result<Self, ConfigError> {
        let nets: Vec<IpNet> = networks.into_iter().map(|n| n.trunc()).collect();
        if let Some(all) = nets.iter().find(|n| n.prefix_len() == 0) {
            return Err(ConfigError::InvalidNetwork(format!(
                "{all} (trusting every address makes forwarding headers spoofable)"
            )));
        }
        Ok(Self(nets.into()))
    }

    /// Parses a comma-separated list of CIDR networks or single addresses (as in the
    /// `AUTH_DEMO_TRUSTED_PROXIES` variable); blanks around entries and empty entries are
    /// ignored.
    ///
    /// # Errors
    ///
    /// [`ConfigError::InvalidNetwork`] naming the first entry that is neither, or a `/0`.
    pub fn parse_list(list: &str) -> Result<Self, ConfigError> {
        let mut nets = Vec::new();
        for entry in list.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let net = match entry.parse::<IpNet>() {
                Ok(n) => n,
                Err(_) => match entry.parse::<IpAddr>() {
                    Ok(ip) => IpNet::from(ip),
                    Err(_) => return Err(ConfigError::InvalidNetwork(entry.to_owned())),
                },
            };
            nets.push(net);
        }
        Self::new(nets)
    }

    /// Whether `ip` is in one of the networks (IPv4-mapped IPv6 addresses count as IPv4).
    #[must_use]
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.0.iter().any(|n| n.contains(&ip))
    }

    /// Whether nobody is trusted.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The networks.
    #[must_use]
    pub fn networks(&self) -> &[IpNet] {
        &self.0
    }
}

impl FromStr for TrustedProxies {
    type Err = ConfigError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse_list(s)
    }
}

impl fmt::Debug for TrustedProxies {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.0.iter().map(ToString::to_string))
            .finish()
    }
}

/// At most this many forwarding hops are examined per request.
const MAX_HOPS: usize = 32;

/// The default key: the client's address network.
///
/// The address is the connection's peer ([`ClientAddr`], or axum's `ConnectInfo` with the
/// `axum-connect-info` feature). Only when that peer is a [`TrustedProxies`] member is the
/// configured [`ForwardedHeader`] read, **from the right**: each hop a trusted proxy added is
/// skipped, and the first address that is not a trusted proxy is the client. Entries further
/// left were written by the client itself and are never read, so spoofed headers from anyone
/// else change nothing. An unparsable hop (`unknown`, an obfuscated identifier) stops the walk
/// at the last trusted proxy, which then stands for all its clients (stricter, never laxer).
/// Addresses are grouped with [`IpGrouping`] (IPv6 by `/64` by default).
///
/// ```
/// use auth_tower::brute_force::{ClientAddr, KeyExtractor, PeerIp};
/// use http::Request;
///
/// let key = PeerIp::new().trusted_proxies("10.0.0.0/8".parse()?);
///
/// // Behind the proxy: the client is the rightmost untrusted hop.
/// let mut req = Request::get("/login")
///     .header("x-forwarded-for", "198.51.100.1, 203.0.113.9, 10.0.0.7")
///     .body(())?;
/// req.extensions_mut().insert(ClientAddr("10.0.0.2:50000".parse()?));
/// assert_eq!(key.extract(&req).unwrap().to_string(), "203.0.113.9");
///
/// // Straight from the internet: the header is the client's own words, ignored.
/// req.extensions_mut().insert(ClientAddr("192.0.2.66:50000".parse()?));
/// assert_eq!(key.extract(&req).unwrap().to_string(), "192.0.2.66");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, Default)]
pub struct PeerIp {
    trusted: TrustedProxies,
    header: ForwardedHeader,
    grouping: IpGrouping,
}

impl PeerIp {
    /// The connection's peer address, no proxies trusted, IPv6 grouped by `/64`.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Believes forwarding headers from these proxies.
    #[must_use]
    pub fn trusted_proxies(mut self, trusted: TrustedProxies) -> Self {
        self.trusted = trusted;
        self
    }

    /// Which header the trusted proxies set (default `X-Forwarded-For`).
    #[must_use]
    pub fn forwarded_header(mut self, header: ForwardedHeader) -> Self {
        self.header = header;
        self
    }

    /// How addresses are grouped (default: IPv4 `/32`, IPv6 `/64`).
    #[must_use]
    pub fn ip_grouping(mut self, grouping: IpGrouping) -> Self {
        self.grouping = grouping;
        self
    }

    /// The client address for a connection from `peer` carrying `headers`.
    #[must_use]
    pub fn client_ip(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        let peer = peer.to_canonical();
        if !self.trusted.contains(peer) {
            return peer;
        }
        let (name, parse): (_, fn(&str) -> Option<IpAddr>) = match self.header {
            ForwardedHeader::XForwardedFor => ("x-forwarded-for", parse_xff_hop),
            ForwardedHeader::Forwarded => ("forwarded", parse_forwarded_hop),
        };
        let mut client = peer;
        let hops = headers
            .get_all(name)
            .iter()
            .rev()
            .flat_map(|v| v.to_str().unwrap_or("\u{0}").rsplit(','))
            .take(MAX_HOPS);
        for hop in hops {
            match parse(hop) {
                Some(ip) => {
                    client = ip.to_canonical();
                    if !self.trusted.contains(client) {
                        return client;
                    }
                }
                None => return client,
            }
        }
        client
    }
}

/// The peer address from the request's extensions.
fn peer_addr<B>(request: &Request<B>) -> Option<SocketAddr> {
    peer_addr_of(request.extensions())
}

/// The peer address from request extensions (also read by the audit trail).
pub(crate) fn peer_addr_of(extensions: &http::Extensions) -> Option<SocketAddr> {
    if let Some(ClientAddr(addr)) = extensions.get::<ClientAddr>() {
        return Some(*addr);
    }
    #[cfg(feature = "axum-connect-info")]
    if let Some(axum::extract::ConnectInfo(addr)) =
        extensions.get::<axum::extract::ConnectInfo<SocketAddr>>()
    {
        return Some(*addr);
    }
    None
}

impl KeyExtractor for PeerIp {
    fn extract<B>(&self, request: &Request<B>) -> Option<ClientKey> {
        let peer = peer_addr(request)?;
        let ip = self.client_ip(peer.ip(), request.headers());
        Some(ClientKey::from_ip_grouped(ip, self.grouping))
    }
}

/// An address as proxies write it: `203.0.113.9`, `203.0.113.9:4711`, `2001:db8::1`,
/// `[2001:db8::1]`, `[2001:db8::1]:4711`.
fn parse_addr(s: &str) -> Option<IpAddr> {
    let s = s.trim();
    if let Ok(ip) = s.parse::<IpAddr>() {
        return Some(ip);
    }
    if let Ok(sa) = s.parse::<SocketAddr>() {
        return Some(sa.ip());
    }
    s.strip_prefix('[')
        .and_then(|r| r.strip_suffix(']'))
        .and_then(|r| r.parse::<IpAddr>().ok())
}

fn parse_xff_hop(hop: &str) -> Option<IpAddr> {
    parse_addr(hop)
}

/// The `for=` address of one RFC 7239 element (`for=...;proto=...;by=...`).
fn parse_forwarded_hop(element: &str) -> Option<IpAddr> {
    element.split(';').find_map(|pair| {
        let (name, value) = pair.split_once('=')?;
        if !name.trim().eq_ignore_ascii_case("for") {
            return None;
        }
        let value = value.trim();
        let value = value
            .strip_prefix('"')
            .and_then(|v| v.strip_suffix('"'))
            .unwrap_or(value);
        parse_addr(value)
    })
}

/// A [`KeyExtractor`] from a closure over the request's headers and extensions, for keys such
/// as an API key id or a tenant. Created by [`key_fn`].
#[derive(Clone)]
pub struct KeyFn<F>(F);

impl<F> fmt::Debug for KeyFn<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("KeyFn(..)")
    }
}

/// Keys attempts by whatever `f` returns. Return a key for every request (fall back to the
/// address with [`PeerIp`] if needed): `None` is answered with 503.
///
/// ```
/// use auth_core::brute_force::ClientKey;
/// use auth_tower::brute_force::{KeyExtractor, key_fn};
///
/// let by_tenant = key_fn(|headers, _extensions| {
///     let tenant = headers.get("x-tenant")?.to_str().ok()?;
///     Some(ClientKey::named(format!("tenant:{tenant}")))
/// });
/// let req = http::Request::get("/login").header("x-tenant", "acme").body(()).unwrap();
/// assert_eq!(by_tenant.extract(&req).unwrap().to_string(), "tenant:acme");
/// ```
pub fn key_fn<F>(f: F) -> KeyFn<F>
where
    F: Fn(&HeaderMap, &http::Extensions) -> Option<ClientKey> + Clone,
{
    KeyFn(f)
}

impl<F> KeyExtractor for KeyFn<F>
where
    F: Fn(&HeaderMap, &http::Extensions) -> Option<ClientKey> + Clone,
{
    fn extract<B>(&self, request: &Request<B>) -> Option<ClientKey> {
        (self.0)(request.headers(), request.extensions())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn headers(name: &str, values: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append(
                http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                v.parse().unwrap(),
            );
        }
        h
    }

    fn behind(trusted: &str) -> PeerIp {
        PeerIp::new().trusted_proxies(trusted.parse().unwrap())
    }

    #[test]
    fn untrusted_peer_headers_are_ignored() {
        let k = behind("10.0.0.0/8");
        let h = headers("x-forwarded-for", &["1.2.3.4"]);
        assert_eq!(k.client_ip(ip("203.0.113.5"), &h), ip("203.0.113.5"));
        let none = PeerIp::new();
        assert_eq!(none.client_ip(ip("10.0.0.1"), &h), ip("10.0.0.1"));
    }

    #[test]
    fn chain_is_walked_from_the_right_past_trusted_hops() {
        let k = behind("10.0.0.0/8, 172.16.0.0/12");
        let h = headers(
            "x-forwarded-for",
            &["6.6.6.6, 203.0.113.9, 172.16.0.4", "10.1.1.1"],
        );
        assert_eq!(k.client_ip(ip("10.0.0.2"), &h), ip("203.0.113.9"));
    }

    #[test]
    fn all_trusted_chain_yields_the_leftmost() {
        let k = behind("10.0.0.0/8");
        let h = headers("x-forwarded-for", &["10.9.9.9, 10.1.1.1"]);
        assert_eq!(k.client_ip(ip("10.0.0.2"), &h), ip("10.9.9.9"));
        let empty = HeaderMap::new();
        assert_eq!(k.client_ip(ip("10.0.0.2"), &empty), ip("10.0.0.2"));
    }

    #[test]
    fn garbage_hop_stops_at_the_last_trusted_proxy() {
        let k = behind("10.0.0.0/8");
        let h = headers("x-forwarded-for", &["203.0.113.9, unknown, 10.1.1.1"]);
        assert_eq!(k.client_ip(ip("10.0.0.2"), &h), ip("10.1.1.1"));
    }

    #[test]
    fn ports_and_brackets_are_accepted() {
        let k = behind("10.0.0.0/8");
        let h = headers("x-forwarded-for", &["203.0.113.9:4711"]);
        assert_eq!(k.client_ip(ip("10.0.0.2"), &h), ip("203.0.113.9"));
        let h = headers("x-forwarded-for", &["[2001:db8::7]:443"]);
        assert_eq!(k.client_ip(ip("10.0.0.2"), &h), ip("2001:db8::7"));
    }

    #[test]
    fn forwarded_header_for_values_are_parsed() {
        let k = behind("10.0.0.0/8").forwarded_header(ForwardedHeader::Forwarded);
        let h = headers(
            "forwarded",
            &[
                "for=198.51.100.1;proto=http, for=\"[2001:db8:cafe::17]:4711\";by=10.0.0.1",
                "For=10.2.2.2",
            ],
        );
        assert_eq!(k.client_ip(ip("10.0.0.3"), &h), ip("2001:db8:cafe::17"));
    }

    #[test]
    fn only_the_configured_header_is_read() {
        let xff = behind("10.0.0.0/8");
        let h = headers("forwarded", &["for=1.2.3.4"]);
        assert_eq!(xff.client_ip(ip("10.0.0.2"), &h), ip("10.0.0.2"));
        let fwd = behind("10.0.0.0/8").forwarded_header(ForwardedHeader::Forwarded);
        let h = headers("x-forwarded-for", &["1.2.3.4"]);
        assert_eq!(fwd.client_ip(ip("10.0.0.2"), &h), ip("10.0.0.2"));
    }

    #[test]
    fn mapped_ipv4_peers_match_ipv4_networks() {
        let k = behind("10.0.0.0/8");
        let h = headers("x-forwarded-for", &["203.0.113.9"]);
        assert_eq!(k.client_ip(ip("::ffff:10.0.0.2"), &h), ip("203.0.113.9"));
    }

    #[test]
    fn trusted_list_parsing_names_the_bad_entry() {
        let err = TrustedProxies::parse_list("10.0.0.0/8, nope").unwrap_err();
        assert!(err.to_string().contains("`nope`"), "{err}");
        assert!(TrustedProxies::parse_list("::/0").is_err());
        let t = TrustedProxies::parse_list(" 10.0.0.1/8 ,, 2001:db8::/32 ").unwrap();
        assert_eq!(format!("{t:?}"), "[\"10.0.0.0/8\", \"2001:db8::/32\"]");
    }

    #[test]
    fn missing_peer_address_gives_no_key() {
        let req = Request::get("/").body(()).unwrap();
        assert!(PeerIp::new().extract(&req).is_none());
    }
}
