//! DPoP (RFC 9449): sender-constrained access tokens, checked by a resource server.
//!
//! A DPoP client holds a key pair and sends, with every request, a **proof**: a JWT signed by its
//! private key, whose header carries the public key and whose claims name the request (`htm`,
//! `htu`), the moment (`iat`), a unique id (`jti`) and the hash of the access token (`ath`). A
//! token bound to the key carries its RFC 7638 thumbprint in `cnf.jkt`, so a stolen token is
//! useless without the private key.
//!
//! - [`DpopVerifier`] checks a proof against the request (every rule of RFC 9449 section 4.3
//!   but replay) and returns the key's thumbprint.
//! - [`OneTimeUseStore`] accepts each proof once per key within the acceptance window:
//!   [`MemoryOneTimeUseStore`] (bounded, refusing new proofs when full rather than evicting
//!   live ones) or `auth-redis`'s `RedisOneTimeUseStore` (one `SET NX PX`, shared by every
//!   instance).
//! - [`DpopNonces`]: optional server nonces (`DPoP-Nonce`, `use_dpop_nonce`).
//! - [`ExternalOrigin`]: the origin clients address, from which `htu` is rebuilt (never the
//!   `Host` header).
//! - [`jwk_thumbprint`] and [`access_token_hash`]: `cnf.jkt` and `ath`.
//!
//! `auth-tower`'s `BearerLayer` uses all of these (`BearerLayerBuilder::dpop`), per issuer:
//! off, allowed or required.
//!
//! # Example
//!
//! ```
//! use auth_core::clock::{ManualClock, UnixTime};
//! use auth_core::dpop::{DpopVerifier, ExternalOrigin, MemoryOneTimeUseStore, ProofRequest};
//!
//! let clock = ManualClock::new(UnixTime::from_secs(1_562_262_618));
//! let verifier = DpopVerifier::builder().clock(clock).build()?;
//! let origin = ExternalOrigin::parse("https://resource.example.org")?;
//! let htu = origin.htu("/protectedresource");
//! let request = ProofRequest::new("GET", &htu).access_token("Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU");
//! // The proof of RFC 9449 section 7.1 ...
//! # let proof = concat!(
//! #     "eyJ0eXAiOiJkcG9wK2p3dCIsImFsZyI6IkVTMjU2IiwiandrIjp7Imt0eSI6IkVDIiwieCI6Imw4dEZyaHgtMzR0VjNoUklDUkRZOXpDa0RscEJoRjQyVVFVZldWQVdCRnMiLCJ5IjoiOVZFNGpmX09rX282NHpiVFRsY3VOSmFqSG10NnY5VERWclUwQ2R2R1JEQSIsImNydiI6IlAtMjU2In19",
//! #     ".eyJqdGkiOiJlMWozVl9iS2ljOC1MQUVCIiwiaHRtIjoiR0VUIiwiaHR1IjoiaHR0cHM6Ly9yZXNvdXJjZS5leGFtcGxlLm9yZy9wcm90ZWN0ZWRyZXNvdXJjZSIsImlhdCI6MTU2MjI2MjYxOCwiYXRoIjoiZlVIeU8ycjJaM0RaNTNFc05yV0JiMHhXWG9hTnk1OUlpS0NBcWtzbVFFbyJ9",
//! #     ".2oW9RP35yRqzhrtNP86L-Ey71EOptxRimPPToA1plemAgR6pxHF8y6-yqyVnmcw6Fy1dqd-jfxSYoMxhAJpLjA");
//! let proof = verifier.verify(proof, &request)?;
//! // ... is signed by the key whose thumbprint the example token carries in `cnf.jkt`.
//! assert_eq!(proof.jkt(), "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I");
//!
//! // Accepted once: a replay finds its key used.
//! use auth_core::dpop::OneTimeUseStore;
//! let used = MemoryOneTimeUseStore::new();
//! let now = UnixTime::from_secs(1_562_262_618);
//! assert!(used.use_once_now(proof.replay_key(), proof.replay_until(), now).unwrap()?);
//! assert!(!used.use_once_now(proof.replay_key(), proof.replay_until(), now).unwrap()?);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Security considerations
//!
//! - **Keys come from the proof, and only prove possession.** The proof's `jwk` verifies its own
//!   signature; what makes it matter is the comparison of its thumbprint with the token's
//!   `cnf.jkt`. A token without `cnf.jkt` is not sender-constrained, whatever proof comes with it.
//! - **`htu` is rebuilt from configuration**, so a proof made for another host cannot be
//!   replayed here through a forged `Host` header; deployments behind a proxy configure the
//!   origin clients see.
//! - **Replay.** A proof is accepted once per key and `jti` while its `iat` is in the window;
//!   with several instances, the store must be shared, or a proof replayed at another instance
//!   would be accepted there.
//! - **Symmetric algorithms never verify a proof**, and a `jwk` with a private member is refused
//!   (its owner leaked the private key).

mod htu;
mod nonce;
mod proof;
mod replay;
mod thumbprint;

#[cfg(test)]
mod proof_tests;

pub use htu::ExternalOrigin;
pub use nonce::{DEFAULT_NONCE_WINDOW, DpopNonces};
pub use proof::{
    DEFAULT_DPOP_ALGORITHMS, DEFAULT_IAT_FUTURE, DEFAULT_IAT_PAST, DEFAULT_MAX_PROOF_LEN,
    DpopVerifier, DpopVerifierBuilder, ProofRequest, VerifiedProof,
};
pub use replay::{DEFAULT_ONE_TIME_CAPACITY, MemoryOneTimeUseStore, OneTimeUseStore};
pub use thumbprint::{access_token_hash, jwk_thumbprint};
