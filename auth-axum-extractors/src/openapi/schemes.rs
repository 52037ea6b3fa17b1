//! The security schemes a document names, and the `Modify` that adds them.

use std::borrow::Cow;
use std::fmt;

use utoipa::Modify;
use utoipa::openapi::OpenApi;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};

/// The name of a security scheme in a document's `components.securitySchemes`, as operations'
/// `security` entries refer to it.
///
/// The three constants name the schemes [`SecuritySchemes`] defines; [`Scheme::named`] names
/// one of your own (add its definition with [`SecuritySchemes::custom`]).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Scheme(Cow<'static, str>);

impl Scheme {
    /// `bearer`: `Authorization: Bearer <JWT>` (`BearerLayer`).
    pub const BEARER: Self = Self(Cow::Borrowed("bearer"));
    /// `api_key`: an API key in a request header (`ApiKeyLayer`).
    pub const API_KEY: Self = Self(Cow::Borrowed("api_key"));
    /// `session_cookie`: the access token in a cookie (`BearerLayerBuilder::cookie`).
    pub const SESSION_COOKIE: Self = Self(Cow::Borrowed("session_cookie"));

    /// A scheme of your own, by its name in `components.securitySchemes`.
    #[must_use]
    pub fn named(name: impl Into<String>) -> Self {
        Self(Cow::Owned(name.into()))
    }

    /// The scheme's name in the document.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Scheme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Adds the definitions of the schemes that `auth-tower` layers accept to a document's
/// `components.securitySchemes`, as a [`Modify`] (for `#[openapi(modifiers(..))]`) or directly
/// with [`apply`](Self::apply).
///
/// | name | definition |
/// |---|---|
/// | [`Scheme::BEARER`] | `{"type":"http","scheme":"bearer","bearerFormat":"JWT"}` |
/// | [`Scheme::API_KEY`] | `{"type":"apiKey","in":"header","name":<header>}` |
/// | [`Scheme::SESSION_COOKIE`] | `{"type":"apiKey","in":"cookie","name":<cookie>}` |
///
/// ```
/// use auth_axum_extractors::openapi::SecuritySchemes;
/// use utoipa::openapi::{Info, OpenApi, Paths};
///
/// let mut doc = OpenApi::new(Info::new("orders", "1.0.0"), Paths::new());
/// SecuritySchemes::new()
///     .bearer_jwt()
///     .api_key_header("X-API-Key")
///     .session_cookie("access_token")
///     .apply(&mut doc);
/// let json = serde_json::to_value(&doc).unwrap();
/// let schemes = &json["components"]["securitySchemes"];
/// assert_eq!(schemes["bearer"]["bearerFormat"], "JWT");
/// assert_eq!(schemes["api_key"]["name"], "X-API-Key");
/// assert_eq!(schemes["session_cookie"]["in"], "cookie");
/// ```
#[derive(Clone, Default)]
#[must_use]
pub struct SecuritySchemes {
    schemes: Vec<(Scheme, SecurityScheme)>,
}

impl SecuritySchemes {
    /// No schemes yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// [`Scheme::BEARER`]: HTTP bearer authentication with JWTs.
    pub fn bearer_jwt(self) -> Self {
        let http = HttpBuilder::new()
            .scheme(HttpAuthScheme::Bearer)
            .bearer_format("JWT")
            .build();
        self.custom(Scheme::BEARER, SecurityScheme::Http(http))
    }

    /// [`Scheme::API_KEY`]: an API key in the request header `header`.
    pub fn api_key_header(self, header: impl Into<String>) -> Self {
        let key = ApiKey::Header(ApiKeyValue::new(header.into()));
        self.custom(Scheme::API_KEY, SecurityScheme::ApiKey(key))
    }

    /// [`Scheme::SESSION_COOKIE`]: the access token in the cookie `cookie`.
    pub fn session_cookie(self, cookie: impl Into<String>) -> Self {
        let key = ApiKey::Cookie(ApiKeyValue::new(cookie.into()));
        self.custom(Scheme::SESSION_COOKIE, SecurityScheme::ApiKey(key))
    }

    /// Any other scheme under `name` (replacing an earlier definition of the same name).
    pub fn custom(mut self, name: Scheme, scheme: SecurityScheme) -> Self {
        self.schemes.retain(|(n, _)| *n != name);
        self.schemes.push((name, scheme));
        self
    }

    /// The names defined, in the order given.
    pub fn names(&self) -> impl Iterator<Item = &Scheme> {
        self.schemes.iter().map(|(n, _)| n)
    }

    /// Adds the definitions to `doc` (creating `components` when absent), replacing
    /// definitions of the same names.
    pub fn apply(&self, doc: &mut OpenApi) {
        let components = doc.components.get_or_insert_with(Default::default);
        for (name, scheme) in &self.schemes {
            components
                .security_schemes
                .insert(name.name().to_owned(), scheme.clone());
        }
    }
}

impl fmt::Debug for SecuritySchemes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // utoipa's types implement Debug only with its `debug` feature.
        f.debug_struct("SecuritySchemes")
            .field("names", &self.names().collect::<Vec<_>>())
            .finish()
    }
}

impl Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut OpenApi) {
        self.apply(openapi);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use utoipa::openapi::{Info, Paths};

    fn doc() -> OpenApi {
        OpenApi::new(Info::new("t", "1"), Paths::new())
    }

    #[test]
    fn bearer_scheme_is_http_bearer_with_jwt_format() {
        let mut d = doc();
        SecuritySchemes::new().bearer_jwt().modify(&mut d);
        let json = serde_json::to_value(&d).unwrap();
        assert_eq!(
            json["components"]["securitySchemes"]["bearer"],
            serde_json::json!({"type": "http", "scheme": "bearer", "bearerFormat": "JWT"})
        );
    }

    #[test]
    fn api_key_and_cookie_schemes_name_their_header_and_cookie() {
        let mut d = doc();
        SecuritySchemes::new()
            .api_key_header("X-API-Key")
            .session_cookie("access_token")
            .apply(&mut d);
        let json = serde_json::to_value(&d).unwrap();
        let s = &json["components"]["securitySchemes"];
        assert_eq!(
            s["api_key"],
            serde_json::json!({"type": "apiKey", "in": "header", "name": "X-API-Key"})
        );
        assert_eq!(
            s["session_cookie"],
            serde_json::json!({"type": "apiKey", "in": "cookie", "name": "access_token"})
        );
    }

    #[test]
    fn a_later_definition_of_the_same_name_replaces_the_earlier() {
        let schemes = SecuritySchemes::new()
            .api_key_header("X-One")
            .api_key_header("X-Two");
        assert_eq!(schemes.names().count(), 1);
        let mut d = doc();
        schemes.apply(&mut d);
        let json = serde_json::to_value(&d).unwrap();
        assert_eq!(
            json["components"]["securitySchemes"]["api_key"]["name"],
            "X-Two"
        );
    }
}
