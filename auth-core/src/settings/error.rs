//! [`SettingsError`]: what went wrong, and where in the settings.

use std::error::Error as StdError;
use std::fmt;

use crate::error::ConfigError;

/// A settings mistake, with the path of the field at fault (`bearer.issuers[1].algorithms[0]`).
///
/// Deserialisation errors (a wrong type, an unknown field or algorithm) and semantic errors
/// found when the settings build their layers (no audience, a leeway over the maximum, a
/// secret too short) carry the path alike. `Display` prints `path: message`; the message never
/// contains secret material.
#[derive(Debug)]
pub struct SettingsError {
    path: String,
    kind: SettingsErrorKind,
}

/// What kind of [`SettingsError`] it is.
#[derive(Debug)]
#[non_exhaustive]
pub enum SettingsErrorKind {
    /// The input could not be deserialised (syntax, type, unknown field or value).
    Parse(String),
    /// The value deserialised but is not acceptable; the message says why.
    Invalid(String),
    /// An environment variable named by the settings is not set.
    MissingEnv(String),
    /// A builder refused the value.
    Config(ConfigError),
}

impl SettingsError {
    /// An error at `path` (relative to the settings being built).
    pub(crate) fn new(path: impl Into<String>, kind: SettingsErrorKind) -> Self {
        Self {
            path: path.into(),
            kind,
        }
    }

    /// A semantic error at `path`.
    #[must_use]
    pub fn invalid(path: impl Into<String>, message: impl Into<String>) -> Self {
        Self::new(path, SettingsErrorKind::Invalid(message.into()))
    }

    /// A builder's [`ConfigError`] for the setting at `path`.
    #[must_use]
    pub fn config(path: impl Into<String>, error: ConfigError) -> Self {
        Self::new(path, SettingsErrorKind::Config(error))
    }

    /// The same error seen from the enclosing settings: `segment` goes in front of the path
    /// (`"bearer"` turns `issuers[1].issuer` into `bearer.issuers[1].issuer`; a segment
    /// starting with `[` is joined without a dot).
    #[must_use]
    pub fn within(mut self, segment: &str) -> Self {
        self.path = join(segment, &self.path);
        self
    }

    /// The path of the field at fault (empty for the settings as a whole).
    #[must_use]
    pub fn path(&self) -> &str {
        &self.path
    }

    /// What went wrong.
    #[must_use]
    pub fn kind(&self) -> &SettingsErrorKind {
        &self.kind
    }
}

/// `parent` + `child` as a field path.
pub(crate) fn join(parent: &str, child: &str) -> String {
    if parent.is_empty() {
        child.to_owned()
    } else if child.is_empty() {
        parent.to_owned()
    } else if child.starts_with('[') {
        format!("{parent}{child}")
    } else {
        format!("{parent}.{child}")
    }
}

impl fmt::Display for SettingsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.path.is_empty() {
            write!(f, "{}: ", self.path)?;
        }
        match &self.kind {
            SettingsErrorKind::Parse(m) | SettingsErrorKind::Invalid(m) => f.write_str(m),
            SettingsErrorKind::MissingEnv(var) => {
                write!(f, "environment variable `{var}` is not set")
            }
            SettingsErrorKind::Config(e) => fmt::Display::fmt(e, f),
        }
    }
}

impl StdError for SettingsError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        match &self.kind {
            SettingsErrorKind::Config(e) => Some(e),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_join_with_dots_except_before_indices() {
        let e = SettingsError::invalid("algorithms[0]", "bad")
            .within("[1]")
            .within("issuers")
            .within("bearer");
        assert_eq!(e.path(), "bearer.issuers[1].algorithms[0]");
        assert_eq!(e.to_string(), "bearer.issuers[1].algorithms[0]: bad");
        assert_eq!(SettingsError::invalid("", "bad").to_string(), "bad");
    }
}
