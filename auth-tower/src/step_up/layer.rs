use std::fmt;
use std::sync::Arc;

use auth_core::ConfigError;
use auth_core::clock::{Clock, SystemClock};
use tower_layer::Layer;

use super::requirement::StepUpRequirement;
use super::service::StepUp;
use crate::rejection::Realm;
use crate::response::DefaultRejection;

/// The validated configuration shared by every [`StepUp`] service of one layer.
pub(crate) struct StepUpConfig {
    pub(crate) requirement: StepUpRequirement,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) realm: Realm,
}

impl fmt::Debug for StepUpConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StepUpConfig")
            .field("requirement", &self.requirement)
            .field("clock", &self.clock)
            .field("realm", &self.realm)
            .finish()
    }
}

/// Layer that requires a way (and a recency) of authentication; see the [module docs](super).
#[derive(Clone, Debug)]
#[must_use]
pub struct StepUpLayer<R = DefaultRejection> {
    config: Arc<StepUpConfig>,
    responder: R,
}

impl StepUpLayer {
    /// Requires `requirement`, reading the system clock, with realm `api`.
    pub fn new(requirement: StepUpRequirement) -> Self {
        Self {
            config: Arc::new(StepUpConfig {
                requirement,
                clock: Arc::new(SystemClock),
                realm: Realm::default(),
            }),
            responder: DefaultRejection,
        }
    }
}

impl<R> StepUpLayer<R> {
    /// The clock `max_age` is measured with (default: the system clock).
    pub fn clock(self, clock: impl Clock) -> Self {
        let clock: Arc<dyn Clock> = Arc::new(clock);
        self.map_config(|c| c.clock = clock)
    }

    /// The realm named in challenges when no authentication layer left one (default `api`).
    ///
    /// # Errors
    ///
    /// [`ConfigError::InvalidHeaderValue`] when the realm is empty or not header-safe.
    pub fn realm(self, realm: &str) -> Result<Self, ConfigError> {
        let realm = Realm::new(realm)?;
        Ok(self.map_config(|c| c.realm = realm))
    }

    /// Replaces the responder that renders rejections.
    pub fn responder<R2>(self, responder: R2) -> StepUpLayer<R2> {
        StepUpLayer {
            config: self.config,
            responder,
        }
    }

    /// The requirement.
    #[must_use]
    pub fn requirement(&self) -> &StepUpRequirement {
        &self.config.requirement
    }

    fn map_config(mut self, f: impl FnOnce(&mut StepUpConfig)) -> Self {
        let c = &*self.config;
        let mut config = StepUpConfig {
            requirement: c.requirement.clone(),
            clock: Arc::clone(&c.clock),
            realm: c.realm.clone(),
        };
        f(&mut config);
        self.config = Arc::new(config);
        self
    }
}

impl<S, R: Clone> Layer<S> for StepUpLayer<R> {
    type Service = StepUp<S, R>;

    fn layer(&self, inner: S) -> Self::Service {
        StepUp::from_parts(inner, Arc::clone(&self.config), self.responder.clone())
    }
}
