//! [`ResourceMetadata`]: serves the RFC 9728 document.

use std::convert::Infallible;
use std::future::{Ready, ready};
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::header::{ALLOW, CACHE_CONTROL, CONTENT_TYPE};
use http::{HeaderValue, Method, Request, Response, StatusCode};
use http_body_util::Full;
use serde_json::{Value, json};
use tower_service::Service;

use super::ProtectedResource;
use crate::response::RejectionBody;

/// A service (answering with `Full<Bytes>` bodies, which axum's `route_service` takes) answering `GET` (and `HEAD`) at the metadata path with the protected resource
/// metadata document (`application/json`, `Cache-Control: public, max-age=300`); any other path
/// is a 404, any other method a 405. Route it at [`path`](Self::path) (or put it in front of
/// the API). Built by [`BearerLayer::resource_metadata`](crate::bearer::BearerLayer::resource_metadata);
/// cheap to clone.
#[derive(Clone, Debug)]
pub struct ResourceMetadata {
    path: Arc<str>,
    url: Arc<str>,
    document: Bytes,
}

/// What the document says about DPoP, from the layer's settings.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct DpopFacts<'a> {
    pub(crate) algorithms: Option<&'a str>,
    pub(crate) required: bool,
}

impl ResourceMetadata {
    pub(crate) fn new(
        resource: &ProtectedResource,
        issuers: &[&str],
        bearer_methods: &[&str],
        dpop: DpopFacts<'_>,
    ) -> Self {
        let mut doc = serde_json::Map::new();
        doc.insert("resource".into(), json!(resource.resource));
        let servers: Vec<&str> = if resource.authorization_servers.is_empty() {
            issuers.to_vec()
        } else {
            resource
                .authorization_servers
                .iter()
                .map(String::as_str)
                .collect()
        };
        if !servers.is_empty() {
            doc.insert("authorization_servers".into(), json!(servers));
        }
        if !resource.scopes.is_empty() {
            doc.insert("scopes_supported".into(), json!(resource.scopes));
        }
        doc.insert("bearer_methods_supported".into(), json!(bearer_methods));
        if let Some(algs) = dpop.algorithms {
            let algs: Vec<&str> = algs.split(' ').collect();
            doc.insert("dpop_signing_alg_values_supported".into(), json!(algs));
            doc.insert(
                "dpop_bound_access_tokens_required".into(),
                Value::Bool(dpop.required),
            );
        }
        if let Some(name) = &resource.name {
            doc.insert("resource_name".into(), json!(name));
        }
        // Serializing strings and arrays cannot fail; an empty object is the harmless fallback.
        let document =
            Bytes::from(serde_json::to_vec(&Value::Object(doc)).unwrap_or_else(|_| b"{}".to_vec()));
        Self {
            path: resource.metadata_path().into(),
            url: resource.metadata_url().into(),
            document,
        }
    }

    /// The path the document is served at, e.g. `/.well-known/oauth-protected-resource/api`.
    #[must_use]
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The document's URL: the `resource_metadata` of the layer's challenges.
    #[must_use]
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The JSON document.
    #[must_use]
    pub fn document(&self) -> &Bytes {
        &self.document
    }

    /// The answer to a `method` request for `path` (for frameworks that route by hand).
    #[must_use]
    pub fn respond<B: RejectionBody>(&self, method: &Method, path: &str) -> Response<B> {
        if path != &*self.path {
            let mut res = Response::new(B::empty());
            *res.status_mut() = StatusCode::NOT_FOUND;
            return res;
        }
        if method != Method::GET && method != Method::HEAD {
            let mut res = Response::new(B::empty());
            *res.status_mut() = StatusCode::METHOD_NOT_ALLOWED;
            res.headers_mut()
                .insert(ALLOW, HeaderValue::from_static("GET, HEAD"));
            return res;
        }
        let body = if method == Method::HEAD {
            B::empty()
        } else {
            B::from_json(self.document.clone())
        };
        let mut res = Response::new(body);
        let h = res.headers_mut();
        h.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        h.insert(
            CACHE_CONTROL,
            HeaderValue::from_static("public, max-age=300"),
        );
        res
    }
}

impl<ReqBody> Service<Request<ReqBody>> for ResourceMetadata {
    type Response = Response<Full<Bytes>>;
    type Error = Infallible;
    type Future = Ready<Result<Response<Full<Bytes>>, Infallible>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request<ReqBody>) -> Self::Future {
        ready(Ok(self.respond(req.method(), req.uri().path())))
    }
}
