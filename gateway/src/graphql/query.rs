//! Queries: read models only, each scoped to the caller's organization.

use std::time::Duration;

use async_graphql::{Context, Object, Result};
use chrono::Utc;
use portal_commands::sessions;
use portal_domain::session::Principal;
use portal_projections::runner::wait_for;
use portal_projections::{accounts, organizations, ProjectionError};

use super::errors::ApiError;
use super::types::{Account, LogPosition, Organization};
use crate::app::AppState;
use crate::request::RequestContext;

/// How long a query waits for its read model to reach `atLeast`.
pub const READ_YOUR_WRITES_TIMEOUT: Duration = Duration::from_secs(5);

/// The root of queries.
pub struct Query;

/// The signed-in caller, or UNAUTHENTICATED.
pub async fn principal(ctx: &Context<'_>) -> Result<Principal, ApiError> {
    let state = ctx.data_unchecked::<AppState>();
    let request = ctx.data_unchecked::<RequestContext>();
    let token = request
        .bearer
        .as_deref()
        .ok_or_else(ApiError::unauthenticated)?;
    sessions::authenticate(&state.store, token, Utc::now())
        .await
        .map_err(|error| match error {
            portal_commands::CommandError::Rejected(_) => ApiError::unauthenticated(),
            other => ApiError::from_command(other),
        })
}

pub(crate) fn projection_error(error: ProjectionError) -> ApiError {
    match error {
        ProjectionError::NotCaughtUp(name) => ApiError::new(
            "NOT_CAUGHT_UP",
            format!("the {name} read model has not reached that position yet; retry shortly"),
        )
        .on("atLeast"),
        ProjectionError::UnknownPosition(position) => ApiError::new(
            "UNKNOWN_POSITION",
            format!("position {position} is not in the log"),
        )
        .on("atLeast"),
        ProjectionError::Pool(_) => ApiError::unavailable(),
        other => ApiError::internal(&other),
    }
}

#[Object]
impl Query {
    /// The organization with this code (as typed in the mobile app), or null.
    async fn organization(&self, ctx: &Context<'_>, code: String) -> Result<Option<Organization>> {
        let state = ctx.data_unchecked::<AppState>();
        let code = code.trim().to_ascii_lowercase();
        let row = organizations::find_by_code(&state.pool, &code)
            .await
            .map_err(projection_error)?;
        Ok(row.map(Organization::from))
    }

    /// The signed-in account. With `atLeast`, waits (up to 5 s) until the accounts read model has applied that
    /// log position, so a client reads its own writes.
    async fn me(
        &self,
        ctx: &Context<'_>,
        at_least: Option<LogPosition>,
    ) -> Result<Option<Account>> {
        let principal = principal(ctx).await?;
        let state = ctx.data_unchecked::<AppState>();
        if let Some(position) = at_least {
            wait_for(
                &state.pool,
                accounts::NAME,
                position.0,
                READ_YOUR_WRITES_TIMEOUT,
            )
            .await
            .map_err(projection_error)?;
        }
        let row = accounts::find(&state.pool, principal.organization.0, principal.account.0)
            .await
            .map_err(projection_error)?;
        Ok(row.map(Account::from))
    }
}
