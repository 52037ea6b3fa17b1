//! Logs and metrics of the demo: `AUTH_DEMO_LOG_FORMAT` (`text`, the default, or `json`) and
//! `AUTH_DEMO_METRICS=true` (`GET /metrics` in the Prometheus text format).

use axum::Router;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

/// How log lines are written.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable lines (the default).
    #[default]
    Text,
    /// One JSON object per event (`tracing-subscriber`'s JSON format); audit events carry
    /// their fields under `fields`.
    Json,
}

impl LogFormat {
    /// Reads `AUTH_DEMO_LOG_FORMAT`: unset, `text` or `json`.
    ///
    /// # Errors
    ///
    /// Any other value.
    pub fn from_env(value: Option<&str>) -> Result<Self, auth_core::ConfigError> {
        match value.map(str::trim) {
            None | Some("" | "text") => Ok(Self::Text),
            Some("json") => Ok(Self::Json),
            Some(other) => Err(auth_core::ConfigError::Input(format!(
                "AUTH_DEMO_LOG_FORMAT must be `text` or `json`, not `{other}`"
            ))),
        }
    }
}

/// Reads `AUTH_DEMO_METRICS`: unset or `false` (off), `true` (on).
///
/// # Errors
///
/// Any other value.
pub fn metrics_enabled(value: Option<&str>) -> Result<bool, auth_core::ConfigError> {
    match value.map(str::trim) {
        None | Some("" | "false") => Ok(false),
        Some("true") => Ok(true),
        Some(other) => Err(auth_core::ConfigError::Input(format!(
            "AUTH_DEMO_METRICS must be `true` or `false`, not `{other}`"
        ))),
    }
}

/// Installs the Prometheus recorder as the process's `metrics` recorder.
///
/// # Errors
///
/// When a recorder is installed already.
pub fn install_prometheus() -> Result<PrometheusHandle, Box<dyn std::error::Error>> {
    Ok(PrometheusBuilder::new().install_recorder()?)
}

/// `GET /metrics`: what `handle`'s recorder holds, in the Prometheus text format.
pub fn metrics_router(handle: PrometheusHandle) -> Router {
    Router::new().route(
        "/metrics",
        get(move || {
            let handle = handle.clone();
            async move {
                handle.run_upkeep();
                (
                    [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
                    handle.render(),
                )
                    .into_response()
            }
        }),
    )
}
