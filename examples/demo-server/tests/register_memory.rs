//! Memory under a registration flood: the demo binary on a free loopback port, 200 concurrent
//! registrations from 200 client addresses (client sockets bound to 127.0.0.2 ... 127.0.0.201;
//! all of 127/8 is loopback on Linux), then the server's peak resident set (`VmHWM` in
//! `/proc/<pid>/status`).
//!
//! Each registration hashes with Argon2id (19 MiB). `auth_core::password::Passwords` runs at
//! most N hashes at once, each in one of N reusable memory buffers, and refuses a caller that
//! waited too long with `PasswordError::Busy` (503 `AUTH_BACKEND_UNAVAILABLE` + `Retry-After`),
//! so the peak stays near N x 19 MiB however many arrive. N is pinned to 4 here
//! (`AUTH_PASSWORD_MAX_CONCURRENT`) so the budget holds on machines with many cores.
//!
//! Linux only (`/proc`, 127/8 loopback).

// Test helpers outside #[test] fns are not covered by clippy.toml's allow-*-in-tests.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]
#![cfg(target_os = "linux")]

mod common;

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;

use common::DemoProcess;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpSocket;

const CLIENTS: u8 = 200;
const BUDGET_KIB: u64 = 256 * 1024;

/// One HTTP/1.1 answer: status and headers (lower-case names).
struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// `POST /auth/register` over a connection from `client` (already bound and connected after
/// `ready` is passed).
async fn register(
    server: SocketAddr,
    client: Ipv4Addr,
    n: u8,
    ready: Arc<tokio::sync::Barrier>,
) -> Answer {
    let socket = TcpSocket::new_v4().unwrap();
    socket.bind(SocketAddr::from((client, 0))).unwrap();
    let mut stream = socket.connect(server).await.unwrap();
    let body = format!(r#"{{"email":"flood{n}@example.com","password":"a long enough password"}}"#);
    let request = format!(
        "POST /auth/register HTTP/1.1\r\nHost: {server}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    // Every client is connected before any sends: the registrations arrive together.
    ready.wait().await;
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.unwrap();
    let text = String::from_utf8_lossy(&raw);
    let head = text.split("\r\n\r\n").next().unwrap();
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("not an HTTP answer: {text:?}"));
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    Answer { status, headers }
}

/// A field of `/proc/<pid>/status`, in KiB.
fn proc_status_kib(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or_else(|| panic!("no {field} in {status}"))
}

// Issue 12, item 2: 150 concurrent registrations took the process from 17 MB to 2.7 GB RSS.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_concurrent_registrations_keep_the_peak_rss_under_256_mib() {
    let demo = DemoProcess::start(&[("AUTH_PASSWORD_MAX_CONCURRENT", "4")]);
    let server: SocketAddr = demo
        .origin
        .strip_prefix("http://")
        .unwrap()
        .parse()
        .unwrap();
    let before = proc_status_kib(demo.pid(), "VmHWM:");
    let ready = Arc::new(tokio::sync::Barrier::new(usize::from(CLIENTS)));
    let tasks: Vec<_> = (0..CLIENTS)
        .map(|n| {
            let client = Ipv4Addr::new(127, 0, 0, 2 + n);
            tokio::spawn(register(server, client, n, Arc::clone(&ready)))
        })
        .collect();
    let mut answers = Vec::new();
    for t in tasks {
        answers.push(t.await.unwrap());
    }
    let peak = proc_status_kib(demo.pid(), "VmHWM:");
    let now = proc_status_kib(demo.pid(), "VmRSS:");
    let created = answers.iter().filter(|a| a.status == 201).count();
    let busy: Vec<&Answer> = answers.iter().filter(|a| a.status == 503).collect();
    println!(
        "VmHWM before {before} KiB, after {peak} KiB; VmRSS now {now} KiB; \
         {created} created, {} busy",
        busy.len()
    );
    let other: Vec<u16> = answers
        .iter()
        .map(|a| a.status)
        .filter(|s| *s != 201 && *s != 503)
        .collect();
    assert!(other.is_empty(), "answers other than 201/503: {other:?}");
    for a in &busy {
        assert!(a.header("retry-after").is_some(), "{:?}", a.headers);
    }
    assert!(created > 0, "no registration succeeded");
    assert!(
        peak < BUDGET_KIB,
        "peak RSS {peak} KiB is over the {BUDGET_KIB} KiB budget"
    );
}
