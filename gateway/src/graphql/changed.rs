//! What a mutation changed, read back for its answer: mutations answer the changed object beside their position, so
//! that a client's cache (Apollo Client, urql's graphcache, Relay) updates without another query. The object is read
//! only when the client asks for it, from the read model once it has applied the mutation's own position.

use async_graphql::Context;
use portal_domain::session::Principal;
use portal_projections::accounts;
use uuid::Uuid;

use super::errors::ApiError;
use super::mutation::context;
use super::query::{applied, projection_error};
use super::types::{Account, LogPosition};
use crate::access::Whose;

/// An account a mutation changed.
#[derive(Clone, Debug)]
pub struct ChangedAccount {
    /// Who reads it back.
    reader: Principal,
    /// The account.
    account: Uuid,
    /// The position the read model must have applied first (none: nothing was written).
    position: Option<LogPosition>,
}

impl ChangedAccount {
    /// `account`, changed by `reader` up to `position`.
    pub fn new(reader: &Principal, account: Uuid, position: Option<i64>) -> Self {
        Self {
            reader: reader.clone(),
            account,
            position: position.filter(|p| *p > 0).map(LogPosition),
        }
    }

    /// The reader's own account.
    pub fn own(reader: &Principal, position: Option<i64>) -> Self {
        Self::new(reader, reader.account.0, position)
    }

    /// The account as the read model now holds it (what `account(id)` answers).
    pub async fn read(&self, ctx: &Context<'_>) -> Result<Option<Account>, ApiError> {
        read_account(ctx, &self.reader, self.account, self.position).await
    }
}

/// Account `id` of `reader`'s organization once the accounts read model has applied `at_least`; a staff member's
/// read of a patient's account goes to the access log.
pub async fn read_account(
    ctx: &Context<'_>,
    reader: &Principal,
    id: Uuid,
    at_least: Option<LogPosition>,
) -> Result<Option<Account>, ApiError> {
    let row = account_row(ctx, reader.organization.0, id, at_least).await?;
    if id != reader.account.0 && row.as_ref().is_some_and(|r| r.role == "patient") {
        super::access_log::audited(ctx, reader, "account", "account", &[Whose::account(id)])
            .await?;
    }
    Ok(row.map(Account::from))
}

/// Account `id` of `organization` once the accounts read model has applied `at_least`, as the row holds it (the
/// caller decides who may read it).
async fn account_row(
    ctx: &Context<'_>,
    organization: Uuid,
    id: Uuid,
    at_least: Option<LogPosition>,
) -> Result<Option<accounts::AccountRow>, ApiError> {
    let (state, _) = context(ctx);
    applied(state, accounts::NAME, at_least).await?;
    // The organization is part of the key: staff never see another organization's accounts.
    accounts::find(&state.pool, organization, id)
        .await
        .map_err(projection_error)
}

/// The account that just signed in, read back for the sign-in's answer.
pub async fn signed_in_account(
    ctx: &Context<'_>,
    organization: Uuid,
    id: Uuid,
    at_least: Option<LogPosition>,
) -> Result<Option<Account>, ApiError> {
    Ok(account_row(ctx, organization, id, at_least)
        .await?
        .map(Account::from))
}

/// Adds the `account` field, read from the payload's `changed: ChangedAccount`, to a mutation's payload.
macro_rules! answers_account {
    ($payload:ty, $doc:literal) => {
        #[async_graphql::ComplexObject]
        impl $payload {
            #[doc = $doc]
            async fn account(
                &self,
                ctx: &async_graphql::Context<'_>,
            ) -> async_graphql::Result<Option<$crate::graphql::types::Account>> {
                Ok(self.changed.read(ctx).await?)
            }
        }
    };
}
