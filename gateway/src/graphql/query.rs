//! Queries: read models only, each scoped to the caller's organization.

use std::time::Duration;

use async_graphql::{Context, Object, Result, ID};
use portal_commands::sessions;
use portal_domain::account::Role;
use portal_domain::organization::TwoStepRequirement;
use portal_domain::session::Principal;
use portal_projections::{organizations, ProjectionError};
use uuid::Uuid;

use super::errors::ApiError;
use super::types::{Account, LogPosition, Organization};
use crate::app::AppState;
use crate::request::RequestContext;

/// How long a query waits for its read model to reach `atLeast`.
pub const READ_YOUR_WRITES_TIMEOUT: Duration = Duration::from_secs(5);

/// Queries about accounts and organizations.
#[derive(Default)]
pub struct AccountQuery;

/// The signed-in caller, who must have accepted the organization's terms in force (else TERMS_NOT_ACCEPTED) and, where
/// the organization requires it of their role, have two-step verification on (else TWO_STEP_SETUP_REQUIRED), or
/// UNAUTHENTICATED. Only signing out, changing the password, reading one's own account and the terms, accepting them
/// and setting up two-step verification do without. Staff, who publish the terms, are not asked to accept them.
pub async fn principal(ctx: &Context<'_>) -> Result<Principal, ApiError> {
    let principal = signed_in(ctx).await?;
    // Auditors read; they change nothing (signing out and their own password go through `signed_in`).
    if principal.role == Role::Auditor
        && ctx.query_env.operation.node.ty == async_graphql::parser::types::OperationType::Mutation
    {
        return Err(ApiError::forbidden());
    }
    let state = ctx.data_unchecked::<AppState>();
    gates(state, &principal, true).await?;
    Ok(principal)
}

/// As [`principal`], without the organization's two-step requirement: for what setting two-step verification up
/// needs (the phones a code is texted to).
pub async fn principal_setting_up_two_step(ctx: &Context<'_>) -> Result<Principal, ApiError> {
    let principal = signed_in(ctx).await?;
    let state = ctx.data_unchecked::<AppState>();
    gates(state, &principal, false).await?;
    Ok(principal)
}

/// Refuses a caller who has not accepted the organization's terms in force, or who has no two-step verification
/// where the organization requires it. The read models answer the common case in one query; when they say no, the
/// account's own stream decides, so an acceptance or a set-up the projection has not applied yet is not refused.
async fn gates(state: &AppState, principal: &Principal, two_step: bool) -> Result<(), ApiError> {
    let client = state
        .pool
        .get()
        .await
        .map_err(|_| ApiError::unavailable())?;
    let row = client
        .query_opt(
            "SELECT o.terms_version, a.terms_accepted_version, o.two_step_required, a.two_step IS NOT NULL
             FROM organizations o LEFT JOIN accounts a ON a.id = $2 AND a.organization_id = o.id
             WHERE o.id = $1",
            &[&principal.organization.0, &principal.account.0],
        )
        .await
        .map_err(|e| ApiError::internal(&e))?;
    let Some(row) = row else {
        return Ok(());
    };
    // Staff publish the terms for the organization: they are not asked to accept them.
    let terms_due = row
        .get::<_, Option<i32>>(0)
        .filter(|_| !matches!(principal.role, Role::Staff | Role::Auditor | Role::Provider))
        .filter(|current| {
            row.get::<_, Option<i32>>(1)
                .is_none_or(|accepted| accepted < *current)
        });
    let two_step_due = two_step
        && TwoStepRequirement::parse(row.get::<_, &str>(2))
            .is_some_and(|required| required.applies_to(principal.role))
        && !row.get::<_, Option<bool>>(3).unwrap_or(false);
    if terms_due.is_none() && !two_step_due {
        return Ok(());
    }
    let account = portal_commands::accounts::load(&state.store, principal.account)
        .await
        .map_err(ApiError::from_command)?;
    let profile = account.profile();
    if let Some(current) = terms_due {
        let accepted = profile
            .and_then(|p| p.terms_accepted)
            .and_then(|v| i32::try_from(v).ok());
        if accepted.is_none_or(|a| a < current) {
            return Err(ApiError::new(
                "TERMS_NOT_ACCEPTED",
                format!("accept the terms of use and privacy practices (version {current}) first: see `terms` and `acceptTerms`"),
            ));
        }
    }
    if two_step_due && profile.is_none_or(|p| p.two_step.is_none()) {
        return Err(ApiError::new(
            "TWO_STEP_SETUP_REQUIRED",
            "your organization requires two-step verification: set it up first (`startTotpEnrollment` or \
             `enableTwoStepCodes`)",
        ));
    }
    Ok(())
}

/// The signed-in caller, whether or not they accepted the terms, or UNAUTHENTICATED.
pub async fn signed_in(ctx: &Context<'_>) -> Result<Principal, ApiError> {
    let state = ctx.data_unchecked::<AppState>();
    let request = ctx.data_unchecked::<RequestContext>();
    let token = request
        .bearer
        .as_deref()
        .ok_or_else(ApiError::unauthenticated)?;
    // A socket's subscriptions come long after it opened: they are judged at the time they arrive.
    let now = if request.long_lived {
        state.now()
    } else {
        request.now
    };
    sessions::authenticate(&state.store, token, now)
        .await
        .map_err(|error| match error {
            portal_commands::CommandError::Rejected(_) => ApiError::unauthenticated(),
            other => ApiError::from_command(other),
        })
}

/// The signed-in caller, who must be staff of their organization, or FORBIDDEN.
pub async fn staff(ctx: &Context<'_>) -> Result<Principal, ApiError> {
    let principal = principal(ctx).await?;
    if principal.role == Role::Staff {
        Ok(principal)
    } else {
        Err(ApiError::forbidden())
    }
}

/// Parses an account id argument.
pub fn account_id(raw: &ID, field: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(raw.as_str())
        .map_err(|_| ApiError::new("ID_INVALID", "this is not an account id").on(field))
}

/// Waits until read model `name` has applied `at_least` (a mutation's position), so that an answer shows that write.
pub async fn applied(
    state: &AppState,
    name: &'static str,
    at_least: Option<LogPosition>,
) -> Result<(), ApiError> {
    if let Some(position) = at_least {
        portal_projections::runner::wait_for(
            &state.pool,
            name,
            position.0,
            READ_YOUR_WRITES_TIMEOUT,
        )
        .await
        .map_err(projection_error)?;
    }
    Ok(())
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
impl AccountQuery {
    /// The organization with this code (as typed in the mobile app), or null.
    async fn organization(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The organization's code, as its portal and app ask for it.")]
        code: String,
    ) -> Result<Option<Organization>> {
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
        #[graphql(
            desc = "Read your writes: wait until the read model has applied this log position (a mutation's `position`)."
        )]
        at_least: Option<LogPosition>,
    ) -> Result<Option<Account>> {
        let principal = signed_in(ctx).await?;
        Ok(super::changed::read_account(ctx, &principal, principal.account.0, at_least).await?)
    }

    /// One account: your own, or, for staff, any account of your organization (null when there is none).
    async fn account(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The account (yours, or for staff one of your organization).")] id: ID,
        #[graphql(
            desc = "Read your writes: wait until the read model has applied this log position (a mutation's `position`)."
        )]
        at_least: Option<LogPosition>,
    ) -> Result<Option<Account>> {
        let principal = principal(ctx).await?;
        let id = account_id(&id, "id")?;
        if id != principal.account.0 && principal.role != Role::Staff {
            return Err(ApiError::forbidden().into());
        }
        Ok(super::changed::read_account(ctx, &principal, id, at_least).await?)
    }

    /// Learners of your organization whose name or e-mail address contains `search` (staff only): to find the
    /// people of a sign-in sheet. In last-name order, at most `first` (1 to 50).
    async fn learners(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Part of a name or an e-mail address (at least 2 characters).")]
        search: String,
        #[graphql(desc = "Page size.", default = 20)] first: i32,
    ) -> Result<Vec<Account>> {
        let principal = staff(ctx).await?;
        let search = search.trim();
        if search.chars().count() < 2 {
            return Err(ApiError::new(
                "SEARCH_TOO_SHORT",
                "type at least 2 characters of a name or an e-mail address",
            )
            .on("search")
            .into());
        }
        if !(1..=50).contains(&first) {
            return Err(ApiError::new("PAGE_SIZE_INVALID", "first is 1 to 50")
                .on("first")
                .into());
        }
        let state = ctx.data_unchecked::<AppState>();
        let rows = portal_projections::accounts::search_learners(
            &state.pool,
            principal.organization.0,
            search,
            i64::from(first),
        )
        .await
        .map_err(projection_error)?;
        Ok(rows.into_iter().map(Account::from).collect())
    }
}
