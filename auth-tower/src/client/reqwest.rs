//! [`ReqwestService`]: a `reqwest::Client` as a tower service, so [`AccessTokenLayer`] can wrap
//! it (no second HTTP stack).
//!
//! [`AccessTokenLayer`]: super::AccessTokenLayer

use std::task::{Context, Poll};

use auth_core::jwt::BoxFuture;
use tower_service::Service;

/// A `reqwest::Client` as a `Service<http::Request<reqwest::Body>>` answering
/// `http::Response<reqwest::Body>`, for tower middleware such as
/// [`AccessTokenLayer`](super::AccessTokenLayer).
///
/// Buffered request bodies (`reqwest::Body::from` bytes or a string, or no body) can be
/// replayed for the layer's one retry after a `401`; streamed ones cannot.
///
/// ```
/// # use auth_core::jwks::{FetchRequest, HttpClient, HttpError, HttpRequest, HttpResponse};
/// # use auth_core::jwt::BoxFuture;
/// # #[derive(Debug)]
/// # struct AuthServer;
/// # impl HttpClient for AuthServer {
/// #     fn get(&self, _: FetchRequest) -> BoxFuture<'static, Result<HttpResponse, HttpError>> {
/// #         Box::pin(async { Ok(HttpResponse::new(404, "")) })
/// #     }
/// # }
/// use auth_core::oauth_client::{ClientAuth, TokenManager};
/// use auth_tower::client::{AccessTokenLayer, ReqwestService};
/// use tower::ServiceBuilder;
///
/// # fn build() -> Result<(), Box<dyn std::error::Error>> {
/// let tokens = TokenManager::builder(ClientAuth::client_secret_basic("reports", "s3cr3t")?)
///     .token_endpoint("https://auth.example/oauth/token")
/// #   .http_client(AuthServer)
///     .build()?;
/// let http = reqwest::Client::builder()
///     .redirect(reqwest::redirect::Policy::none()) // never carry the token elsewhere
///     .build()?;
/// let client = ServiceBuilder::new()
///     .layer(AccessTokenLayer::new(tokens))
///     .service(ReqwestService::new(http));
/// // let response = client.oneshot(http::Request::get(url).body(reqwest::Body::from(""))?).await?;
/// # let _ = client; Ok(()) }
/// # build().unwrap();
/// ```
#[derive(Clone, Debug)]
pub struct ReqwestService {
    client: reqwest::Client,
}

impl ReqwestService {
    /// Wraps `client`. Configure it not to follow redirects to other origins if the token must
    /// not travel there (`reqwest::redirect::Policy::none()`); reqwest drops `Authorization`
    /// on cross-origin redirects itself.
    #[must_use]
    pub fn new(client: reqwest::Client) -> Self {
        Self { client }
    }

    /// The wrapped client.
    #[must_use]
    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }
}

impl Service<http::Request<reqwest::Body>> for ReqwestService {
    type Response = http::Response<reqwest::Body>;
    type Error = reqwest::Error;
    type Future = BoxFuture<'static, Result<Self::Response, Self::Error>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: http::Request<reqwest::Body>) -> Self::Future {
        let client = self.client.clone();
        Box::pin(async move {
            let request = reqwest::Request::try_from(req)?;
            let response = client.execute(request).await?;
            Ok(http::Response::from(response))
        })
    }
}
