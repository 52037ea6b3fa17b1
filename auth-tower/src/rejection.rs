//! [`Rejection`]: what a layer hands its responder, and what it leaves in the response's
//! extensions.

use std::fmt;
use std::sync::Arc;

use auth_core::{AuthError, ErrorCode};
use http::{HeaderMap, HeaderValue};

/// A failed authentication or authorization check, with what is needed to render it.
///
/// Every rejected response carries a clone of its `Rejection` in its extensions (also when a
/// custom responder built the response), so tracing, metrics and tests can inspect the outcome
/// without parsing bodies.
#[derive(Clone, Debug)]
pub struct Rejection {
    error: AuthError,
    realm: Realm,
    grpc: bool,
    schemes: Schemes,
    extras: ChallengeExtras,
}

/// What a challenge says besides realm and error: the `algs` of a `DPoP` challenge (RFC 9449
/// section 7.1) and the RFC 9728 `resource_metadata` URL, each when the layer has one.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct ChallengeExtras {
    pub(crate) dpop_algs: Option<Arc<str>>,
    pub(crate) resource_metadata: Option<Arc<str>>,
}

impl ChallengeExtras {
    /// These extras, completed by `other`'s where these have none.
    fn or(&self, other: &Self) -> Self {
        Self {
            dpop_algs: self.dpop_algs.clone().or_else(|| other.dpop_algs.clone()),
            resource_metadata: self
                .resource_metadata
                .clone()
                .or_else(|| other.resource_metadata.clone()),
        }
    }
}

/// Which authentication schemes a rejection challenges.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Schemes {
    pub(crate) bearer: bool,
    pub(crate) api_key: bool,
    /// RFC 9449 `DPoP`.
    pub(crate) dpop: bool,
}

impl Schemes {
    pub(crate) const BEARER: Self = Self {
        bearer: true,
        api_key: false,
        dpop: false,
    };

    #[cfg_attr(not(feature = "api-key"), allow(dead_code))]
    pub(crate) const API_KEY: Self = Self {
        bearer: false,
        api_key: true,
        dpop: false,
    };

    /// Both schemes.
    #[cfg_attr(not(any(feature = "bearer", feature = "api-key")), allow(dead_code))]
    pub(crate) const BOTH: Self = Self {
        bearer: true,
        api_key: true,
        dpop: false,
    };

    /// The schemes a layer whose own scheme is `own` challenges for `error`: both for
    /// conflicting credentials (the client must drop one of them, either), `own` otherwise.
    #[cfg_attr(not(any(feature = "bearer", feature = "api-key")), allow(dead_code))]
    pub(crate) fn for_error(error: &AuthError, own: Self) -> Self {
        match error {
            AuthError::InvalidRequest(auth_core::InvalidRequest::ConflictingCredentials) => Self {
                dpop: own.dpop,
                ..Self::BOTH
            },
            _ => own,
        }
    }

    /// Every scheme challenged by either.
    #[cfg_attr(not(any(feature = "bearer", feature = "api-key")), allow(dead_code))]
    pub(crate) const fn union(self, other: Self) -> Self {
        Self {
            bearer: self.bearer || other.bearer,
            api_key: self.api_key || other.api_key,
            dpop: self.dpop || other.dpop,
        }
    }
}

impl Rejection {
    pub(crate) fn new(error: AuthError, realm: Realm, grpc: bool) -> Self {
        Self {
            error,
            realm,
            grpc,
            schemes: Schemes::BEARER,
            extras: ChallengeExtras::default(),
        }
    }

    /// Sets the challenges' `algs` (DPoP) and `resource_metadata` attributes.
    #[cfg_attr(not(feature = "bearer"), allow(dead_code))]
    pub(crate) fn with_extras(mut self, extras: ChallengeExtras) -> Self {
        self.extras = extras;
        self
    }

    /// Sets the schemes challenged in `WWW-Authenticate` (one header value per scheme).
    #[cfg_attr(not(feature = "scope"), allow(dead_code))]
    pub(crate) fn with_schemes(mut self, schemes: Schemes) -> Self {
        self.schemes = schemes;
        self
    }

    /// `MISSING_CREDENTIALS` challenging `schemes`, merged with the marker an earlier
    /// optional-mode layer left in the request's `extensions`: its schemes are added and its
    /// realm is kept, so a route behind several optional layers challenges every scheme it
    /// accepts.
    #[cfg_attr(not(feature = "api-key"), allow(dead_code))]
    pub(crate) fn missing(
        extensions: &http::Extensions,
        realm: &Realm,
        schemes: Schemes,
        grpc: bool,
    ) -> Self {
        Self::missing_with(
            extensions,
            realm,
            schemes,
            grpc,
            &ChallengeExtras::default(),
        )
    }

    /// [`Rejection::missing`] with the layer's challenge extras (kept from the marker when it
    /// has its own).
    pub(crate) fn missing_with(
        extensions: &http::Extensions,
        realm: &Realm,
        schemes: Schemes,
        grpc: bool,
        extras: &ChallengeExtras,
    ) -> Self {
        match extensions.get::<Self>() {
            Some(marker) if marker.code() == ErrorCode::MissingCredentials => Self {
                schemes: marker.schemes.union(schemes),
                grpc,
                extras: marker.extras.or(extras),
                ..marker.clone()
            },
            _ => Self::new(AuthError::MissingCredentials, realm.clone(), grpc)
                .with_schemes(schemes)
                .with_extras(extras.clone()),
        }
    }

    /// The optional-mode marker: inserts a `MISSING_CREDENTIALS` rejection into the request's
    /// `extensions`, or widens the one an earlier optional layer inserted (see
    /// [`Rejection::missing`]). Extractors and the `ScopeLayer` answer with it when a principal
    /// is needed after all.
    #[cfg_attr(not(feature = "api-key"), allow(dead_code))]
    pub(crate) fn merge_missing(
        extensions: &mut http::Extensions,
        realm: &Realm,
        schemes: Schemes,
        grpc: bool,
    ) {
        Self::merge_missing_with(
            extensions,
            realm,
            schemes,
            grpc,
            &ChallengeExtras::default(),
        );
    }

    /// [`Rejection::merge_missing`] with the layer's challenge extras.
    #[cfg_attr(not(any(feature = "bearer", feature = "api-key")), allow(dead_code))]
    pub(crate) fn merge_missing_with(
        extensions: &mut http::Extensions,
        realm: &Realm,
        schemes: Schemes,
        grpc: bool,
        extras: &ChallengeExtras,
    ) {
        let merged = Self::missing_with(extensions, realm, schemes, grpc, extras);
        extensions.insert(merged);
    }

    /// The RFC 9728 metadata URL the challenges point at, if the layer has one.
    #[must_use]
    pub fn resource_metadata(&self) -> Option<&str> {
        self.extras.resource_metadata.as_deref()
    }

    /// The server nonce a client must put in its next DPoP proof (`USE_DPOP_NONCE`
    /// rejections): the `DPoP-Nonce` header value.
    #[must_use]
    pub fn dpop_nonce(&self) -> Option<&str> {
        match &self.error {
            AuthError::UseDpopNonce { nonce } => Some(nonce),
            _ => None,
        }
    }

    /// The schemes this rejection challenges.
    #[cfg_attr(not(feature = "api-key"), allow(dead_code))]
    pub(crate) fn schemes(&self) -> Schemes {
        self.schemes
    }

    /// A rejection for `error` with the default realm (`api`), for an HTTP (non-gRPC) caller.
    #[must_use]
    pub fn from_error(error: AuthError) -> Self {
        Self::new(error, Realm::default(), false)
    }

    /// The detailed error (its `Display` is for logs, not clients).
    #[must_use]
    pub fn error(&self) -> &AuthError {
        &self.error
    }

    /// The stable code.
    #[must_use]
    pub fn code(&self) -> ErrorCode {
        self.error.code()
    }

    /// Whether the request was a gRPC call (`content-type: application/grpc*`).
    #[must_use]
    pub fn is_grpc(&self) -> bool {
        self.grpc
    }

    /// The realm of the challenge.
    #[must_use]
    pub fn realm(&self) -> &str {
        self.realm.as_str()
    }

    /// What the route required, for `INSUFFICIENT_SCOPE` rejections: the JSON body's
    /// `required` list (scopes and permissions as themselves, roles as `role:<name>`).
    #[must_use]
    pub fn required(&self) -> Option<&[String]> {
        match &self.error {
            AuthError::InsufficientScope { required } => Some(required.list()),
            _ => None,
        }
    }

    /// The OAuth scopes the route required, for `INSUFFICIENT_SCOPE` rejections: what the
    /// challenge's `scope` attribute lists (roles and permissions are not OAuth scopes).
    #[must_use]
    pub fn required_scopes(&self) -> Option<&[String]> {
        match &self.error {
            AuthError::InsufficientScope { required } => Some(required.scopes()),
            _ => None,
        }
    }

    /// The client-facing message: the JSON body's `message`, the challenge's
    /// `error_description` and the gRPC `grpc-message` (see [`AuthError::message`]).
    /// Header-safe.
    #[must_use]
    pub fn message(&self) -> &str {
        self.error.message()
    }

    /// How long the client should wait, for `TOO_MANY_ATTEMPTS` rejections, in whole seconds
    /// rounded up (the `Retry-After` value).
    #[must_use]
    pub fn retry_after_secs(&self) -> Option<u64> {
        match &self.error {
            AuthError::TooManyAttempts { retry_after } => {
                let s = retry_after.as_secs();
                Some(
                    if retry_after.subsec_nanos() > 0 {
                        s + 1
                    } else {
                        s
                    }
                    .max(1),
                )
            }
            _ => None,
        }
    }

    /// The first `WWW-Authenticate` value; see [`Rejection::challenges`].
    #[must_use]
    pub fn www_authenticate(&self) -> Option<HeaderValue> {
        self.challenges().into_iter().next()
    }

    /// The RFC 6750 `WWW-Authenticate` values for this rejection, one per challenged scheme;
    /// empty for codes that carry no challenge (429, 5xx).
    ///
    /// `Bearer realm="api"` when no credentials were sent; otherwise with `error` and
    /// `error_description` (the [`message`](Self::message)), e.g.
    /// `Bearer realm="api", error="invalid_token", error_description="the access token has expired"`,
    /// and for `INSUFFICIENT_SCOPE` also `scope="<required OAuth scopes>"` (RFC 6750 section 3)
    /// when the route requires any; roles and permissions are described in `error_description`
    /// instead, never listed as scopes.
    #[must_use]
    pub fn challenges(&self) -> Vec<HeaderValue> {
        let code = self.code();
        if !code.has_challenge() {
            return Vec::new();
        }
        let mut out = Vec::with_capacity(2);
        // A proof failure concerns the DPoP scheme only (RFC 9449 section 7.1).
        let dpop_error = matches!(code, ErrorCode::InvalidDpopProof | ErrorCode::UseDpopNonce)
            || matches!(
                self.error,
                AuthError::InvalidToken(auth_core::InvalidToken::DpopBinding(_))
            );
        for (on, scheme) in [
            (
                self.schemes.bearer && !(dpop_error && self.schemes.dpop),
                "Bearer",
            ),
            (self.schemes.api_key && !dpop_error, "ApiKey"),
            (self.schemes.dpop, "DPoP"),
        ] {
            if !on {
                continue;
            }
            let mut v = String::with_capacity(128);
            v.push_str(scheme);
            v.push_str(" realm=\"");
            v.push_str(self.realm.as_str());
            v.push('"');
            if scheme == "DPoP"
                && let Some(algs) = self.extras.dpop_algs.as_deref()
                && is_quotable(algs)
            {
                v.push_str(", algs=\"");
                v.push_str(algs);
                v.push('"');
            }
            if let Some(err) = code.bearer_error() {
                v.push_str(", error=\"");
                v.push_str(err);
                v.push_str("\", error_description=\"");
                v.push_str(self.message());
                v.push('"');
            }
            if let Some(required) = self.required_scopes() {
                // RFC 6750 scope-token: %x21 / %x23-5B / %x5D-7E.
                let safe = required.iter().all(|s| {
                    s.bytes()
                        .all(|b| (0x21..0x7f).contains(&b) && b != b'"' && b != b'\\')
                });
                if safe && !required.is_empty() {
                    v.push_str(", scope=\"");
                    v.push_str(&required.join(" "));
                    v.push('"');
                }
            }
            push_step_up_attributes(&mut v, &self.error);
            if let Some(url) = self.extras.resource_metadata.as_deref()
                && is_quotable(url)
            {
                v.push_str(", resource_metadata=\"");
                v.push_str(url);
                v.push('"');
            }
            // Realm, messages and scopes are checked header-safe, so this cannot fail; fall
            // back to the bare scheme rather than panic if it ever did.
            out.push(HeaderValue::from_str(&v).unwrap_or(HeaderValue::from_static("Bearer")));
        }
        out
    }
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code(), self.error)
    }
}

impl std::error::Error for Rejection {}

/// RFC 9470 section 3: `acr_values="…"` and `max_age=N` of an
/// `INSUFFICIENT_USER_AUTHENTICATION` challenge (each only when the route set it; values
/// that are not header-safe are left out).
fn push_step_up_attributes(v: &mut String, error: &AuthError) {
    let AuthError::InsufficientUserAuthentication {
        acr_values,
        max_age,
    } = error
    else {
        return;
    };
    if let Some(acr) = acr_values.as_deref() {
        let safe = !acr.is_empty()
            && acr
                .bytes()
                .all(|b| (0x20..0x7f).contains(&b) && b != b'"' && b != b'\\');
        if safe {
            v.push_str(", acr_values=\"");
            v.push_str(acr);
            v.push('"');
        }
    }
    if let Some(age) = max_age {
        v.push_str(", max_age=");
        v.push_str(&age.to_string());
    }
}

/// Whether `s` can go inside a quoted-string as it is (visible ASCII and space, no `"` or `\`).
fn is_quotable(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| (0x20..0x7f).contains(&b) && b != b'"' && b != b'\\')
}

/// A realm string validated for use inside a quoted-string.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Realm(Arc<str>);

impl Realm {
    pub(crate) fn new(s: &str) -> Result<Self, auth_core::ConfigError> {
        let ok = !s.is_empty()
            && s.bytes()
                .all(|b| (0x20..0x7f).contains(&b) && b != b'"' && b != b'\\');
        if ok {
            Ok(Self(Arc::from(s)))
        } else {
            Err(auth_core::ConfigError::InvalidHeaderValue { what: "realm" })
        }
    }

    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }
}

impl Default for Realm {
    fn default() -> Self {
        Self(Arc::from("api"))
    }
}

/// Whether a request is a gRPC call.
pub(crate) fn is_grpc(headers: &HeaderMap) -> bool {
    headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| {
            ct.get(..16)
                .is_some_and(|p| p.eq_ignore_ascii_case("application/grpc"))
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use auth_core::InvalidToken;
    use auth_core::scope::Requirement;

    #[test]
    fn challenge_has_no_error_attribute_without_credentials() {
        let r = Rejection::new(AuthError::MissingCredentials, Realm::default(), false);
        assert_eq!(r.www_authenticate().unwrap(), "Bearer realm=\"api\"");
    }

    #[test]
    fn challenge_names_the_rfc6750_error() {
        let r = Rejection::new(AuthError::TokenExpired, Realm::new("demo").unwrap(), false);
        assert_eq!(
            r.www_authenticate().unwrap(),
            "Bearer realm=\"demo\", error=\"invalid_token\", error_description=\"the access token has expired\""
        );
        let r = Rejection::new(InvalidToken::BadSignature.into(), Realm::default(), false);
        assert!(
            r.www_authenticate()
                .unwrap()
                .to_str()
                .unwrap()
                .contains("error=\"invalid_token\"")
        );
    }

    #[test]
    fn insufficient_scope_names_the_required_scopes() {
        let required = Requirement::all_scopes(["read:orders", "write:orders"]).required_access();
        let r = Rejection::new(
            AuthError::InsufficientScope { required },
            Realm::default(),
            false,
        );
        assert_eq!(
            r.www_authenticate().unwrap(),
            "Bearer realm=\"api\", error=\"insufficient_scope\", error_description=\"the credentials do not grant access to this resource\", scope=\"read:orders write:orders\""
        );
    }

    #[test]
    fn too_many_attempts_rounds_retry_after_up_and_has_no_challenge() {
        let r = Rejection::new(
            AuthError::TooManyAttempts {
                retry_after: std::time::Duration::from_millis(1500),
            },
            Realm::default(),
            false,
        );
        assert_eq!(r.retry_after_secs(), Some(2));
        assert!(r.challenges().is_empty());
    }

    #[test]
    fn both_schemes_are_challenged_separately() {
        let r = Rejection::new(AuthError::MissingCredentials, Realm::default(), false)
            .with_schemes(Schemes {
                bearer: true,
                api_key: true,
                dpop: false,
            });
        let c = r.challenges();
        assert_eq!(c.len(), 2);
        assert_eq!(c[0], "Bearer realm=\"api\"");
        assert_eq!(c[1], "ApiKey realm=\"api\"");
    }

    #[test]
    fn missing_credentials_markers_merge_their_schemes() {
        let mut ext = http::Extensions::new();
        let demo = Realm::new("demo").unwrap();
        Rejection::merge_missing(&mut ext, &demo, Schemes::BEARER, false);
        Rejection::merge_missing(&mut ext, &Realm::default(), Schemes::API_KEY, false);
        let marker = ext.get::<Rejection>().unwrap();
        assert_eq!(marker.code(), ErrorCode::MissingCredentials);
        assert_eq!(
            marker.challenges(),
            ["Bearer realm=\"demo\"", "ApiKey realm=\"demo\""]
        );
        // Another code in the extensions is not a marker and is replaced.
        let mut ext = http::Extensions::new();
        ext.insert(Rejection::from_error(AuthError::TokenExpired));
        let r = Rejection::missing(&ext, &demo, Schemes::API_KEY, true);
        assert_eq!(r.code(), ErrorCode::MissingCredentials);
        assert!(r.is_grpc());
        assert_eq!(r.challenges(), ["ApiKey realm=\"demo\""]);
    }

    #[test]
    fn realm_rejects_quotes_and_controls() {
        assert!(Realm::new("a\"b").is_err());
        assert!(Realm::new("a\\b").is_err());
        assert!(Realm::new("a\nb").is_err());
        assert!(Realm::new("").is_err());
        assert!(Realm::new("my api").is_ok());
    }

    #[test]
    fn grpc_detection_covers_subtypes() {
        let mut h = HeaderMap::new();
        assert!(!is_grpc(&h));
        h.insert(
            http::header::CONTENT_TYPE,
            HeaderValue::from_static("application/grpc+proto"),
        );
        assert!(is_grpc(&h));
        h.insert(
            http::header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        assert!(!is_grpc(&h));
    }
}
