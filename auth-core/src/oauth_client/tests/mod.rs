//! The token manager against a fake authorization server, on the manual clock: caching,
//! renewal, single flight and cooldown in `cache.rs`; the token request itself (parameters,
//! client authentication, discovery, errors, configuration) in `request.rs`.
//!
//! Tokio's clock is paused only in tests where retry backoff (a Tokio timer) runs.

mod cache;
mod request;

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use futures_util::FutureExt as _;
use serde_json::{Value, json};

use super::*;
use crate::ConfigError;
use crate::clock::{Clock as _, ManualClock, UnixTime};
use crate::form;
use crate::jwks::{FetchRequest, HttpClient, HttpError, HttpRequest, HttpResponse};
use crate::jwt::{Algorithm, BoxFuture, SigningKey};

pub(super) const TOKEN_URL: &str = "https://as.example/oauth/token";
pub(super) const ISSUER: &str = "https://as.example";

pub(super) type Responder =
    dyn Fn(usize, &HttpRequest) -> Result<HttpResponse, HttpError> + Send + Sync;

/// A fake authorization server: counts token requests, keeps them, answers through a
/// replaceable function, serves metadata documents by URL, and can hold answers until the
/// test releases them.
pub(super) struct FakeAs {
    requests: AtomicUsize,
    seen: Mutex<Vec<HttpRequest>>,
    respond: Mutex<Arc<Responder>>,
    metadata: Mutex<HashMap<String, HttpResponse>>,
    gate: Mutex<Option<Arc<tokio::sync::Semaphore>>>,
}

impl fmt::Debug for FakeAs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FakeAs").finish_non_exhaustive()
    }
}

/// `{"access_token": "tok-<n>", "token_type": "Bearer", "expires_in": <expires_in>}`.
pub(super) fn issue(n: usize, expires_in: &Value) -> HttpResponse {
    let mut body = json!({"access_token": format!("tok-{n}"), "token_type": "Bearer"});
    if !expires_in.is_null() {
        body["expires_in"] = expires_in.clone();
    }
    HttpResponse::new(200, body.to_string())
}

impl FakeAs {
    /// Issues `tok-<n>` tokens living `expires_in` seconds.
    pub(super) fn new(expires_in: u64) -> Arc<Self> {
        let fake = Arc::new(Self {
            requests: AtomicUsize::new(0),
            seen: Mutex::new(Vec::new()),
            respond: Mutex::new(Arc::new(|_, _| Ok(HttpResponse::new(500, "")))),
            metadata: Mutex::new(HashMap::new()),
            gate: Mutex::new(None),
        });
        fake.issue_tokens(json!(expires_in));
        fake
    }
    pub(super) fn answer(
        &self,
        f: impl Fn(usize, &HttpRequest) -> Result<HttpResponse, HttpError> + Send + Sync + 'static,
    ) {
        *self.respond.lock().unwrap() = Arc::new(f);
    }
    pub(super) fn issue_tokens(&self, expires_in: Value) {
        self.answer(move |n, _| Ok(issue(n, &expires_in)));
    }
    pub(super) fn fail_with(&self, r: Result<HttpResponse, HttpError>) {
        self.answer(move |_, _| r.clone());
    }
    pub(super) fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }
    pub(super) fn last(&self) -> HttpRequest {
        self.seen.lock().unwrap().last().cloned().unwrap()
    }
    pub(super) fn hold(&self) -> Arc<tokio::sync::Semaphore> {
        let gate = Arc::new(tokio::sync::Semaphore::new(0));
        *self.gate.lock().unwrap() = Some(Arc::clone(&gate));
        gate
    }
    pub(super) fn serve_metadata(&self, url: &str, doc: Value) {
        self.metadata
            .lock()
            .unwrap()
            .insert(url.to_owned(), HttpResponse::new(200, doc.to_string()));
    }
}

impl HttpClient for FakeAs {
    fn get(&self, req: FetchRequest) -> BoxFuture<'static, Result<HttpResponse, HttpError>> {
        let doc = self.metadata.lock().unwrap().get(&req.url).cloned();
        Box::pin(async move { Ok(doc.unwrap_or_else(|| HttpResponse::new(404, ""))) })
    }

    fn send(&self, req: HttpRequest) -> BoxFuture<'static, Result<HttpResponse, HttpError>> {
        let n = self.requests.fetch_add(1, Ordering::SeqCst) + 1;
        let answer = (self.respond.lock().unwrap())(n, &req);
        self.seen.lock().unwrap().push(req);
        let gate = self.gate.lock().unwrap().clone();
        Box::pin(async move {
            if let Some(gate) = gate {
                gate.acquire().await.unwrap().forget();
            }
            answer
        })
    }
}

pub(super) fn basic() -> ClientAuth {
    ClientAuth::client_secret_basic("reports", "s3cr3t").unwrap()
}

pub(super) fn manager(fake: &Arc<FakeAs>, clock: &ManualClock) -> TokenManager {
    builder(fake, clock).build().unwrap()
}

pub(super) fn builder(fake: &Arc<FakeAs>, clock: &ManualClock) -> TokenManagerBuilder {
    TokenManager::builder(basic())
        .token_endpoint(TOKEN_URL)
        .http_client(Arc::clone(fake))
        .clock(clock.clone())
}

pub(super) fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

pub(super) fn form(req: &HttpRequest) -> Vec<(String, String)> {
    form::parse(&req.body)
}

pub(super) fn field(req: &HttpRequest, name: &str) -> Option<String> {
    form(req)
        .into_iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
}
