//! `X-Forwarded-For` and `Forwarded` (RFC 7239) with trusted proxies: `PeerIp::client_ip`.
//!
//! The input is a selector byte (which header, which peer) and header lines.
//!
//! Properties: never a panic; a peer that is not a trusted proxy is always the answer
//! (headers are believed only from trusted proxies); the answer is the peer or an address
//! written in the forwarding headers; it is a trusted proxy only when it is the peer or every
//! hop read was trusted (then the last one read).
#![no_main]

use std::net::IpAddr;
use std::sync::LazyLock;

use auth_tower::brute_force::{ForwardedHeader, PeerIp, TrustedProxies};
use http::{HeaderMap, HeaderValue};
use libfuzzer_sys::fuzz_target;

static TRUSTED: LazyLock<TrustedProxies> = LazyLock::new(|| {
    TrustedProxies::parse_list("10.0.0.0/8, 192.168.1.1/32, fd00::/8, ::1/128")
        .expect("trusted list")
});

const PEERS: [&str; 6] = [
    "10.1.2.3",
    "192.168.1.1",
    "203.0.113.9",
    "fd00::1",
    "::1",
    "2001:db8::1",
];

/// The addresses a header text could name: every run of address characters, parsed.
fn written(text: &str) -> Vec<IpAddr> {
    text.split(|c: char| !(c.is_ascii_hexdigit() || c == '.' || c == ':'))
        .flat_map(|w| {
            let trimmed = w.trim_matches(':');
            // `[v6]:port` and `v4:port` forms leave the address before the last colon too.
            [
                w,
                trimmed,
                trimmed.rsplit_once(':').map_or(trimmed, |(a, _)| a),
            ]
        })
        .filter_map(|w| w.parse::<IpAddr>().ok())
        .map(|ip| ip.to_canonical())
        .collect()
}

fuzz_target!(|data: &[u8]| {
    let Some((&sel, rest)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    let header = if sel & 1 == 0 {
        ForwardedHeader::XForwardedFor
    } else {
        ForwardedHeader::Forwarded
    };
    let name = match header {
        ForwardedHeader::XForwardedFor => "x-forwarded-for",
        _ => "forwarded",
    };
    let peer: IpAddr = PEERS[usize::from(sel >> 1) % PEERS.len()]
        .parse()
        .expect("peer");
    let mut headers = HeaderMap::new();
    for line in text.lines().take(8) {
        if let Ok(v) = HeaderValue::from_str(line) {
            headers.append(name, v);
        }
    }
    let resolver = PeerIp::new()
        .trusted_proxies(TRUSTED.clone())
        .forwarded_header(header);
    let client = resolver.client_ip(peer, &headers);
    if !TRUSTED.contains(peer) {
        assert_eq!(client, peer, "headers believed from an untrusted peer");
        return;
    }
    if client != peer {
        assert!(
            written(text).contains(&client),
            "{client} is neither the peer nor written in {text:?}"
        );
    }
    // Deterministic.
    assert_eq!(resolver.client_ip(peer, &headers), client);
});
