use std::sync::Arc;

use auth_core::ConfigError;
use auth_core::brute_force::{BruteForceLimiter, IpGrouping};
use tower_layer::Layer;

use super::key::{ForwardedHeader, KeyExtractor, PeerIp, TrustedProxies};
use super::service::BruteForce;
use crate::response::DefaultRejection;

/// Validated, shared configuration of a [`BruteForceLayer`].
#[derive(Clone, Debug)]
pub(crate) struct BruteForceConfig {
    pub(crate) limiter: BruteForceLimiter,
    pub(crate) fail_open: bool,
}

/// Layer that protects login-like endpoints from brute force and credential stuffing. See the
/// [module docs](super).
///
/// `K` derives the client key (default: [`PeerIp`]); `R` renders refusals (default:
/// [`DefaultRejection`]: JSON 429, or gRPC status 8 for gRPC calls).
#[derive(Clone, Debug)]
#[must_use]
pub struct BruteForceLayer<K = PeerIp, R = DefaultRejection> {
    config: Arc<BruteForceConfig>,
    key: K,
    responder: R,
}

impl BruteForceLayer {
    /// A layer keyed by the connection's peer address (no proxies trusted), failing closed
    /// when the store fails.
    pub fn new(limiter: BruteForceLimiter) -> Self {
        Self {
            config: Arc::new(BruteForceConfig {
                limiter,
                fail_open: false,
            }),
            key: PeerIp::new(),
            responder: DefaultRejection,
        }
    }

    /// A builder for trusted proxies, address grouping and store-failure behaviour.
    pub fn builder(limiter: BruteForceLimiter) -> BruteForceLayerBuilder {
        BruteForceLayerBuilder {
            limiter,
            trusted: TrustedProxies::none(),
            trusted_list: None,
            header: ForwardedHeader::default(),
            grouping: IpGrouping::DEFAULT,
            fail_open: false,
        }
    }
}

impl<K, R> BruteForceLayer<K, R> {
    /// Replaces the key extractor, e.g. with [`key_fn`](super::key_fn) to key on an API key id
    /// or a tenant instead of the address.
    pub fn key_extractor<K2: KeyExtractor>(self, key: K2) -> BruteForceLayer<K2, R> {
        BruteForceLayer {
            config: self.config,
            key,
            responder: self.responder,
        }
    }

    /// Replaces the responder that renders refusals.
    pub fn responder<R2>(self, responder: R2) -> BruteForceLayer<K, R2> {
        BruteForceLayer {
            config: self.config,
            key: self.key,
            responder,
        }
    }

    /// The limiter (for housekeeping, unlocking accounts, or tests).
    #[must_use]
    pub fn limiter(&self) -> &BruteForceLimiter {
        &self.config.limiter
    }
}

impl<S, K: Clone, R: Clone> Layer<S> for BruteForceLayer<K, R> {
    type Service = BruteForce<S, K, R>;

    fn layer(&self, inner: S) -> Self::Service {
        BruteForce::from_parts(
            inner,
            Arc::clone(&self.config),
            self.key.clone(),
            self.responder.clone(),
        )
    }
}

/// Builds a [`BruteForceLayer`]; created by [`BruteForceLayer::builder`].
#[derive(Debug)]
#[must_use]
pub struct BruteForceLayerBuilder {
    limiter: BruteForceLimiter,
    trusted: TrustedProxies,
    trusted_list: Option<String>,
    header: ForwardedHeader,
    grouping: IpGrouping,
    fail_open: bool,
}

impl BruteForceLayerBuilder {
    /// Believes forwarding headers from these proxies (default: nobody).
    pub fn trusted_proxies(mut self, trusted: TrustedProxies) -> Self {
        self.trusted = trusted;
        self.trusted_list = None;
        self
    }

    /// Believes forwarding headers from a comma-separated list of CIDR networks or addresses,
    /// parsed by [`build`](Self::build) (e.g. straight from an environment variable).
    pub fn trusted_proxy_list(mut self, list: impl Into<String>) -> Self {
        self.trusted_list = Some(list.into());
        self
    }

    /// Which header the trusted proxies set (default `X-Forwarded-For`).
    pub fn forwarded_header(mut self, header: ForwardedHeader) -> Self {
        self.header = header;
        self
    }

    /// How addresses are grouped (default: IPv4 `/32`, IPv6 `/64`).
    pub fn ip_grouping(mut self, grouping: IpGrouping) -> Self {
        self.grouping = grouping;
        self
    }

    /// When the store fails, lets requests through unprotected instead of answering 503.
    ///
    /// Login stays available during a store outage, and brute-force protection is **off** for
    /// as long as it lasts (an attacker who can make the store fail, e.g. by overloading it,
    /// gets unlimited guesses). Failures are logged at error level either way.
    pub fn dangerous_fail_open_on_store_error(mut self) -> Self {
        self.fail_open = true;
        self
    }

    /// Validates the settings.
    ///
    /// # Errors
    ///
    /// [`ConfigError::InvalidNetwork`] when the trusted proxy list holds an entry that is not an
    /// address or CIDR network, or a `/0` network.
    pub fn build(self) -> Result<BruteForceLayer, ConfigError> {
        let trusted = match &self.trusted_list {
            Some(list) => TrustedProxies::parse_list(list)?,
            None => self.trusted,
        };
        Ok(BruteForceLayer {
            config: Arc::new(BruteForceConfig {
                limiter: self.limiter,
                fail_open: self.fail_open,
            }),
            key: PeerIp::new()
                .trusted_proxies(trusted)
                .forwarded_header(self.header)
                .ip_grouping(self.grouping),
            responder: DefaultRejection,
        })
    }
}
