//! OpenAPI documents (feature `utoipa`): the security schemes of the `auth-tower` layers, and
//! each route's requirement declared once for both the router and the document.
//!
//! - [`SecuritySchemes`] adds `bearer` (HTTP bearer, JWT), `api_key` (a header) and
//!   `session_cookie` (a cookie) to `components.securitySchemes`, as a `utoipa::Modify`.
//! - [`SecuredRoutes`] builds an axum `Router` in which every route is declared with an
//!   [`Access`]: `Access::require(Requirement::scope("read:orders"), [Scheme::BEARER])` puts the
//!   `ScopeLayer` of that requirement on the route *and* records it in a [`RouteTable`].
//! - [`RouteTable`] writes each route's `security` (with the required scopes) into a document,
//!   adding the operations it lacks, so `#[utoipa::path]` annotations stay optional: a route
//!   cannot be missing from the document, nor documented with a protection it does not have.
//!
//! `aide` is not supported.
//!
//! # Keeping the document honest
//!
//! The table is the router's declaration, so every route of the builder is in the document, and
//! every route documented as secured has a `ScopeLayer`, which answers 401 to anonymous
//! requests. Two declarations are taken on trust: the schemes listed (which credentials the
//! authentication layers on the group accept) and [`Access::checked_by_handler`]. A test that
//! sends an anonymous request to every route of the table and compares the 401s with the
//! document catches both; the demo server has one (`examples/demo-server/tests/openapi.rs`).
//!
//! # Example
//!
//! ```
//! use auth_axum_extractors::openapi::{self, Access, Scheme, SecuredRoutes, SecuritySchemes};
//! use auth_core::jwt::{Algorithm, JwtVerifier, VerificationKey};
//! use auth_core::scope::Requirement;
//! use auth_tower::bearer::BearerLayer;
//! use axum::body::Body;
//! use http::{Request, StatusCode};
//! use tower::ServiceExt;
//! use utoipa::openapi::{Info, OpenApi, Paths};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let verifier = JwtVerifier::builder()
//!     .key(VerificationKey::hmac(Algorithm::HS256, b"an example secret of at least thirty-two bytes")?)
//!     .audience("orders-api")
//!     .build()?;
//!
//! let (router, table) = SecuredRoutes::new()
//!     .route("/orders", openapi::get(|| async { "[]" }),
//!         Access::require(Requirement::scope("read:orders"), [Scheme::BEARER]))?
//!     .route("/hello", openapi::get(|| async { "hello" }), Access::optional([Scheme::BEARER]))?
//!     // Optional mode: the ScopeLayer answers 401 where a principal is required.
//!     .route_layer(BearerLayer::builder(verifier).optional().build()?)
//!     .into_parts();
//!
//! let mut doc = OpenApi::new(Info::new("orders", "1.0.0"), Paths::new());
//! SecuritySchemes::new().bearer_jwt().apply(&mut doc);
//! table.apply(&mut doc);
//!
//! let res = router.clone().oneshot(Request::get("/orders").body(Body::empty())?).await?;
//! assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
//! let res = router.oneshot(Request::get("/hello").body(Body::empty())?).await?;
//! assert_eq!(res.status(), StatusCode::OK);
//! let json = serde_json::to_value(&doc)?;
//! assert_eq!(json["paths"]["/orders"]["get"]["security"][0]["bearer"][0], "read:orders");
//! assert_eq!(json["paths"]["/hello"]["get"]["security"], serde_json::json!([{}, {"bearer": []}]));
//! # Ok(())
//! # }
//! ```

mod access;
mod routes;
mod schemes;
mod table;

pub use access::Access;
pub use routes::{
    Endpoint, RouteError, SecuredRoutes, delete, delete_service, get, get_service, patch,
    patch_service, post, post_service, put, put_service,
};
pub use schemes::{Scheme, SecuritySchemes};
pub use table::{RouteEntry, RouteTable};
