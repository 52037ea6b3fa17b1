//! [`CapturedEvents`]: a `tracing` subscriber that keeps every event and span field at every
//! level, to assert on the audit trail (`auth::audit`) or that no secret reaches the logs.
//!
//! ```
//! use auth_test::capture::CapturedEvents;
//!
//! let capture = CapturedEvents::default();
//! tracing::subscriber::with_default(capture.clone(), || {
//!     tracing::trace!(target: "auth::audit", outcome = "success", "hello");
//! });
//! let events = capture.events();
//! assert_eq!(events[0].field("outcome"), Some("success"));
//! assert!(!capture.contains("a-token"));
//! ```

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};

use tracing::field::{Field, Visit};
use tracing::{Event, Metadata, Subscriber, span};

/// One captured event (or span's fields).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Captured {
    /// The target, e.g. `auth::audit` (`span` for span fields).
    pub target: String,
    /// The level.
    pub level: tracing::Level,
    /// Every field, as recorded (strings as they are, other values in their `Debug` form).
    pub fields: BTreeMap<String, String>,
}

impl Captured {
    /// The value of field `name`.
    #[must_use]
    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields.get(name).map(String::as_str)
    }
}

/// A subscriber that keeps everything; clones share the events.
#[derive(Clone, Default)]
pub struct CapturedEvents(Arc<Mutex<Vec<Captured>>>);

impl fmt::Debug for CapturedEvents {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CapturedEvents({} events)", self.events().len())
    }
}

impl CapturedEvents {
    /// Everything captured so far.
    #[must_use]
    pub fn events(&self) -> Vec<Captured> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The events under `auth::audit`.
    #[must_use]
    pub fn audit(&self) -> Vec<Captured> {
        self.events()
            .into_iter()
            .filter(|e| e.target == "auth::audit")
            .collect()
    }

    /// Whether any field of anything captured contains `needle`.
    #[must_use]
    pub fn contains(&self, needle: &str) -> bool {
        self.events()
            .iter()
            .any(|e| e.fields.values().any(|v| v.contains(needle)))
    }

    fn push(&self, target: &str, level: tracing::Level, fields: BTreeMap<String, String>) {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(Captured {
                target: target.to_owned(),
                level,
                fields,
            });
    }
}

struct Fields<'a>(&'a mut BTreeMap<String, String>);

impl Visit for Fields<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_owned(), value.to_owned());
    }
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.0.insert(field.name().to_owned(), format!("{value:?}"));
    }
}

impl Subscriber for CapturedEvents {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, attrs: &span::Attributes<'_>) -> span::Id {
        let mut fields = BTreeMap::new();
        attrs.record(&mut Fields(&mut fields));
        self.push("span", *attrs.metadata().level(), fields);
        span::Id::from_u64(1)
    }
    fn record(&self, _: &span::Id, values: &span::Record<'_>) {
        let mut fields = BTreeMap::new();
        values.record(&mut Fields(&mut fields));
        self.push("span", tracing::Level::TRACE, fields);
    }
    fn record_follows_from(&self, _: &span::Id, _: &span::Id) {}
    fn event(&self, event: &Event<'_>) {
        let mut fields = BTreeMap::new();
        event.record(&mut Fields(&mut fields));
        self.push(event.metadata().target(), *event.metadata().level(), fields);
    }
    fn enter(&self, _: &span::Id) {}
    fn exit(&self, _: &span::Id) {}
}
