//! Reuse detection is logged: a `tracing` warning with the subject and family, never the
//! token. Its own test binary, so no parallel test can race the subscriber's callsite cache.
#![cfg(feature = "refresh")]
// Test helpers outside #[test] fns are not covered by clippy.toml's allow-*-in-tests.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;
use std::sync::{Arc, Mutex};

use auth_core::clock::{ManualClock, UnixTime};
use auth_core::refresh::{RefreshTokens, ReusePolicy};

#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn reuse_emits_a_tracing_warning_without_the_token() {
    let capture = Capture::default();
    let writer = capture.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_max_level(tracing::Level::WARN)
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    tracing::callsite::rebuild_interest_cache();
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let refresh = RefreshTokens::in_memory()
        .clock(ManualClock::new(UnixTime::from_secs(1_750_000_000)))
        .reuse_policy(ReusePolicy::RevokeFamily)
        .build()
        .unwrap();
    let token = rt.block_on(async {
        let first = refresh.issue("alice").await.unwrap();
        refresh.rotate(first.token().as_str()).await.unwrap();
        let _ = refresh.rotate(first.token().as_str()).await;
        first
    });
    let logs = String::from_utf8(capture.0.lock().unwrap().clone()).unwrap();
    assert!(logs.contains("WARN"), "{logs}");
    assert!(logs.contains("reuse detected"), "{logs}");
    assert!(logs.contains("subject=\"alice\""), "{logs}");
    assert!(logs.contains(token.family().as_str()), "{logs}");
    assert!(!logs.contains(token.token().as_str()), "{logs}");
}
