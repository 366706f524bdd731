//! `/healthz` (the process is up) and `/readyz` (it can serve: migrations applied and the database reachable).

use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use crate::app::AppState;

/// Liveness: answers as long as the process runs.
pub async fn healthz() -> Response {
    (StatusCode::OK, Json(json!({ "status": "ok" }))).into_response()
}

/// The answer to every request (but /healthz) while the server prepares its database.
pub fn starting() -> Response {
    unavailable(
        "STARTING",
        "the server is starting: migrations are being applied",
    )
}

/// Readiness: 200 when the database answers within a second, else 503 with a code. (Until migrations are applied,
/// requests never reach this handler: `app::dispatch` answers them with [`starting`].)
pub async fn readyz(State(state): State<AppState>) -> Response {
    if database_answers(&state).await {
        (StatusCode::OK, Json(json!({ "status": "ready" }))).into_response()
    } else {
        unavailable("DATABASE_UNAVAILABLE", "the database does not answer")
    }
}

/// True when the database answers a trivial query within a second.
pub async fn database_answers(state: &AppState) -> bool {
    let check = async {
        let client = state.pool.get().await.ok()?;
        client.query_one("SELECT 1", &[]).await.ok()
    };
    matches!(
        tokio::time::timeout(Duration::from_secs(1), check).await,
        Ok(Some(_))
    )
}

fn unavailable(code: &str, message: &str) -> Response {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        Json(json!({ "status": "unavailable", "code": code, "message": message })),
    )
        .into_response()
}
