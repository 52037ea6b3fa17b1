use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use auth_core::ConfigError;
use auth_core::api_key::{ApiKeys, UsageWrite};
use http::HeaderName;
use tower_layer::Layer;

use super::service::ApiKey;
use crate::rejection::Realm;
use crate::response::DefaultRejection;

/// The header API keys are read from by default.
pub const DEFAULT_HEADER: HeaderName = HeaderName::from_static("x-api-key");

/// A `last_used_at` write, boxed for a spawner.
pub type UsageFuture = Pin<Box<dyn Future<Output = ()> + Send + 'static>>;

type Spawner = Arc<dyn Fn(UsageFuture) + Send + Sync + 'static>;

/// Validated, shared configuration of an [`ApiKeyLayer`].
pub(crate) struct ApiKeyConfig {
    pub(crate) keys: ApiKeys,
    pub(crate) header: HeaderName,
    pub(crate) realm: Realm,
    pub(crate) optional: bool,
    pub(crate) query_param: Option<Box<str>>,
    spawner: Option<Spawner>,
    warned_no_spawner: AtomicBool,
}

impl ApiKeyConfig {
    /// Runs a coalesced `last_used_at` write off the request path.
    pub(crate) fn spawn_usage(&self, write: UsageWrite) {
        match &self.spawner {
            Some(spawn) => spawn(write.into_future()),
            None => {
                if !self.warned_no_spawner.swap(true, Ordering::Relaxed) {
                    tracing::warn!(
                        target: "auth::api_key",
                        "api key last_used_at is not recorded: no spawner (enable auth-tower's \
                         `tokio` feature or call ApiKeyLayerBuilder::spawner)",
                    );
                }
            }
        }
    }
}

impl fmt::Debug for ApiKeyConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiKeyConfig")
            .field("keys", &self.keys)
            .field("header", &self.header)
            .field("realm", &self.realm)
            .field("optional", &self.optional)
            .field("query_param", &self.query_param)
            .field("spawner", &self.spawner.as_ref().map(|_| ".."))
            .finish()
    }
}

/// Layer that authenticates requests with API keys. See the [module docs](super).
///
/// `R` is the responder that renders rejections (default: [`DefaultRejection`]).
#[derive(Clone, Debug)]
#[must_use]
pub struct ApiKeyLayer<R = DefaultRejection> {
    config: Arc<ApiKeyConfig>,
    responder: R,
}

impl ApiKeyLayer {
    /// A layer with the default settings: header `X-API-Key`, realm `api`, a key required,
    /// keys in the query string refused, and `last_used_at` writes spawned on the current
    /// tokio runtime (with the `tokio` feature).
    pub fn new(keys: ApiKeys) -> Self {
        Self::from_builder(Self::builder(keys), DEFAULT_HEADER, Realm::default())
    }

    /// A builder for the header, realm, optional mode and the usage-write spawner.
    pub fn builder(keys: ApiKeys) -> ApiKeyLayerBuilder {
        ApiKeyLayerBuilder {
            keys,
            header: None,
            realm: None,
            optional: false,
            query_param: None,
            spawner: default_spawner(),
        }
    }

    fn from_builder(b: ApiKeyLayerBuilder, header: HeaderName, realm: Realm) -> Self {
        Self {
            config: Arc::new(ApiKeyConfig {
                keys: b.keys,
                header,
                realm,
                optional: b.optional,
                query_param: b.query_param.map(String::into_boxed_str),
                spawner: b.spawner,
                warned_no_spawner: AtomicBool::new(false),
            }),
            responder: DefaultRejection,
        }
    }
}

impl<R> ApiKeyLayer<R> {
    #[cfg(test)]
    pub(crate) fn config_for_tests(&self) -> Arc<ApiKeyConfig> {
        Arc::clone(&self.config)
    }

    /// Replaces the responder that renders rejections.
    pub fn responder<R2>(self, responder: R2) -> ApiKeyLayer<R2> {
        ApiKeyLayer {
            config: self.config,
            responder,
        }
    }
}

impl<S, R: Clone> Layer<S> for ApiKeyLayer<R> {
    type Service = ApiKey<S, R>;

    fn layer(&self, inner: S) -> Self::Service {
        ApiKey::from_parts(inner, Arc::clone(&self.config), self.responder.clone())
    }
}

#[cfg(feature = "tokio")]
fn default_spawner() -> Option<Spawner> {
    Some(Arc::new(|fut: UsageFuture| {
        match tokio::runtime::Handle::try_current() {
            Ok(handle) => {
                // Fire and forget: the write logs its own failure.
                drop(handle.spawn(fut));
            }
            Err(_) => tracing::debug!(
                target: "auth::api_key",
                "no tokio runtime; api key last_used_at write skipped",
            ),
        }
    }))
}

#[cfg(not(feature = "tokio"))]
fn default_spawner() -> Option<Spawner> {
    None
}

/// Builds an [`ApiKeyLayer`]; created by [`ApiKeyLayer::builder`].
#[must_use]
pub struct ApiKeyLayerBuilder {
    keys: ApiKeys,
    header: Option<String>,
    realm: Option<String>,
    optional: bool,
    query_param: Option<String>,
    spawner: Option<Spawner>,
}

impl fmt::Debug for ApiKeyLayerBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiKeyLayerBuilder")
            .field("keys", &self.keys)
            .field("header", &self.header)
            .field("realm", &self.realm)
            .field("optional", &self.optional)
            .field("query_param", &self.query_param)
            .field("spawner", &self.spawner.as_ref().map(|_| ".."))
            .finish()
    }
}

impl ApiKeyLayerBuilder {
    /// The header the key is read from (default `X-API-Key`).
    pub fn header(mut self, name: impl Into<String>) -> Self {
        self.header = Some(name.into());
        self
    }

    /// The realm named in `WWW-Authenticate` (default `api`).
    pub fn realm(mut self, realm: impl Into<String>) -> Self {
        self.realm = Some(realm.into());
        self
    }

    /// Optional mode: requests without a key pass through without a principal (leaving a
    /// `MISSING_CREDENTIALS` marker, merged with other optional layers', for extractors and
    /// the `ScopeLayer`); a present but invalid key is still rejected.
    pub fn optional(mut self) -> Self {
        self.optional = true;
        self
    }

    /// Runs coalesced `last_used_at` writes with `spawn` instead of the default (the current
    /// tokio runtime with the `tokio` feature; nothing without it, and a warning is logged
    /// once).
    ///
    /// ```
    /// # #[cfg(feature = "tokio")] {
    /// use auth_core::api_key::{ApiKeys, MemoryApiKeyStore};
    /// use auth_tower::api_key::ApiKeyLayer;
    ///
    /// # fn build() -> Result<ApiKeyLayer, auth_core::ConfigError> {
    /// let keys = ApiKeys::builder(MemoryApiKeyStore::new()).prefix("acme_live").build()?;
    /// let layer = ApiKeyLayer::builder(keys)
    ///     .spawner(|write| {
    ///         tokio::spawn(write);
    ///     })
    ///     .build()?;
    /// # Ok(layer) }
    /// # }
    /// ```
    pub fn spawner(mut self, spawn: impl Fn(UsageFuture) + Send + Sync + 'static) -> Self {
        self.spawner = Some(Arc::new(spawn));
        self
    }

    /// Also accepts the key from the query parameter `name` when no header is sent.
    ///
    /// **Dangerous:** URLs end up in access logs, browser history, proxies and `Referer`
    /// headers, so a key sent this way should be considered leaked. Without this switch a
    /// request whose query string carries something that looks like a key (a value in this
    /// key format under any name, or a non-empty parameter named `api_key`, `apikey`,
    /// `api-key` or `x-api-key`, in any case) is refused with `400 INVALID_REQUEST` and the
    /// key is never read.
    pub fn dangerous_allow_query_param(mut self, name: impl Into<String>) -> Self {
        self.query_param = Some(name.into());
        self
    }

    /// Validates the settings.
    ///
    /// # Errors
    ///
    /// [`ConfigError::InvalidHeaderValue`] when the header name is not a valid HTTP header
    /// name, the realm is empty or holds quotes, backslashes or control characters, or the
    /// query parameter name is empty or holds `&`, `=`, `#` or non-visible characters.
    pub fn build(self) -> Result<ApiKeyLayer, ConfigError> {
        let header = match &self.header {
            Some(h) => HeaderName::from_bytes(h.as_bytes()).map_err(|_| {
                ConfigError::InvalidHeaderValue {
                    what: "api key header name",
                }
            })?,
            None => DEFAULT_HEADER,
        };
        let realm = match &self.realm {
            Some(r) => Realm::new(r)?,
            None => Realm::default(),
        };
        if let Some(q) = &self.query_param {
            let ok = !q.is_empty()
                && q.bytes()
                    .all(|b| b.is_ascii_graphic() && !matches!(b, b'&' | b'=' | b'#'));
            if !ok {
                return Err(ConfigError::InvalidHeaderValue {
                    what: "api key query parameter name",
                });
            }
        }
        Ok(ApiKeyLayer::from_builder(self, header, realm))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use auth_core::api_key::MemoryApiKeyStore;

    fn keys() -> ApiKeys {
        ApiKeys::builder(MemoryApiKeyStore::new())
            .prefix("test_live")
            .build()
            .unwrap()
    }

    #[test]
    fn invalid_settings_fail_at_build_time() {
        for (b, what) in [
            (
                ApiKeyLayer::builder(keys()).header("x api key"),
                "api key header name",
            ),
            (
                ApiKeyLayer::builder(keys()).header(""),
                "api key header name",
            ),
            (ApiKeyLayer::builder(keys()).realm("a\"b"), "realm"),
            (
                ApiKeyLayer::builder(keys()).dangerous_allow_query_param("a&b"),
                "api key query parameter name",
            ),
            (
                ApiKeyLayer::builder(keys()).dangerous_allow_query_param(""),
                "api key query parameter name",
            ),
        ] {
            assert_eq!(
                b.build().unwrap_err(),
                ConfigError::InvalidHeaderValue { what }
            );
        }
    }

    #[test]
    fn header_names_are_normalised_to_lowercase() {
        let layer = ApiKeyLayer::builder(keys())
            .header("X-Service-Key")
            .build()
            .unwrap();
        assert_eq!(layer.config.header.as_str(), "x-service-key");
        assert_eq!(ApiKeyLayer::new(keys()).config.header, DEFAULT_HEADER);
    }

    #[test]
    fn debug_never_shows_secrets() {
        let d = format!("{:?}", ApiKeyLayer::new(keys()));
        assert!(d.contains("x-api-key"), "{d}");
        assert!(d.contains("test_live"), "{d}");
    }
}
