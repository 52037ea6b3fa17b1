//! Fixtures shared by the fuzz targets: a fixed key and verifier, a signer for it, and a way
//! to run a tower service whose answer is ready at once.

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use auth_core::clock::{ManualClock, UnixTime};
use auth_core::jwt::{Algorithm, JwtVerifier, VerificationKey};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// The fixed HS256 secret of every target.
pub const SECRET: &[u8] = b"the fuzz targets' fixed secret, 32+ bytes";
/// The issuer the verifier pins.
pub const ISSUER: &str = "https://issuer.fuzz.invalid";
/// The audience the verifier pins.
pub const AUDIENCE: &str = "fuzz-api";
/// The verifier's clock.
pub const NOW: u64 = 1_800_000_000;

/// The verifier for [`SECRET`], [`ISSUER`] and [`AUDIENCE`] at [`NOW`].
pub fn verifier() -> JwtVerifier {
    JwtVerifier::builder()
        .key(VerificationKey::hmac(Algorithm::HS256, SECRET).expect("fixed key"))
        .issuer(ISSUER)
        .audience(AUDIENCE)
        .clock(ManualClock::new(UnixTime::from_secs(NOW)))
        .build()
        .expect("fixed verifier")
}

/// base64url without padding.
pub fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The HS256 tag of `message` under [`SECRET`].
pub fn hs256(message: &[u8]) -> Vec<u8> {
    let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, SECRET);
    aws_lc_rs::hmac::sign(&key, message).as_ref().to_vec()
}

/// A compact JWS over exactly these header and payload bytes, signed with [`SECRET`].
pub fn sign(header: &[u8], payload: &[u8]) -> String {
    let input = format!("{}.{}", b64(header), b64(payload));
    let tag = hs256(input.as_bytes());
    format!("{input}.{}", b64(&tag))
}

/// A valid token: `sub` = `alice`, for [`ISSUER`] and [`AUDIENCE`], valid at [`NOW`].
pub fn valid_token() -> String {
    let claims = serde_json::json!({
        "iss": ISSUER, "aud": AUDIENCE, "sub": "alice",
        "iat": NOW - 10, "exp": NOW + 600,
    });
    sign(
        br#"{"alg":"HS256","typ":"JWT"}"#,
        claims.to_string().as_bytes(),
    )
}

/// Polls `f` once: the targets only drive futures that must be ready at once (static keys,
/// in-memory answers), so `Pending` is a failure.
pub fn ready<F: Future>(f: F) -> F::Output {
    let mut cx = Context::from_waker(Waker::noop());
    match pin!(f).poll(&mut cx) {
        Poll::Ready(out) => out,
        Poll::Pending => panic!("a future that should be ready at once is pending"),
    }
}
