//! Creating organizations and finding them by code.

use portal_domain::organization::{
    Organization, OrganizationCommand, OrganizationError, OrganizationState, SecurityPolicy,
};
use portal_domain::values::{OrganizationCode, OrganizationName};
use portal_domain::{Decider, OrganizationId};
use uuid::Uuid;

use crate::handler::{execute, CommandContext, CommandError, Plan};
use crate::log::{Claim, EventLog, StreamId};
use crate::store::{LoadError, Store};

/// Uniqueness kind of organization codes (scope: all of portal).
const CODE_CLAIM: &str = "organization_code";

/// An organization as commands need it.
#[derive(Clone, Debug, PartialEq)]
pub struct OrganizationSummary {
    /// Its id.
    pub id: OrganizationId,
    /// Its code.
    pub code: OrganizationCode,
    /// Its name.
    pub name: OrganizationName,
    /// Its security rules.
    pub policy: SecurityPolicy,
}

/// The stream of an organization.
pub fn stream(id: OrganizationId) -> StreamId {
    StreamId::new(Organization::CATEGORY, id.0)
}

/// Creates an organization; its code must be unused.
pub async fn create<L: EventLog>(
    store: &Store<L>,
    code: OrganizationCode,
    name: OrganizationName,
    ctx: &CommandContext,
) -> Result<(OrganizationId, i64), CommandError<OrganizationError>> {
    let id = OrganizationId(Uuid::new_v4());
    let stream = stream(id);
    let key = store.secrets.index_hash(CODE_CLAIM, code.as_str());
    let fingerprint = store.secrets.fingerprint(
        "CreateOrganization",
        &[code.as_str().as_bytes(), name.as_str().as_bytes()],
    );
    let executed = execute::<L, Organization>(
        store,
        &stream,
        None,
        ctx,
        "CreateOrganization",
        fingerprint,
        |_| {
            Ok(Plan {
                tenant: id.0,
                command: OrganizationCommand::Create {
                    id,
                    code: code.clone(),
                    name: name.clone(),
                },
                claims: vec![Claim {
                    scope: Uuid::nil(),
                    kind: CODE_CLAIM.to_owned(),
                    key: key.clone(),
                    owner: stream.clone(),
                }],
                releases: vec![],
                outbox: vec![],
            })
        },
    )
    .await
    .map_err(|error| match error {
        CommandError::Taken { .. } => CommandError::Rejected(OrganizationError::AlreadyExists),
        other => other,
    })?;
    let id = match &executed.replayed {
        Some(_) => find_by_code(store, &code)
            .await?
            .map(|org| org.id)
            .ok_or_else(|| CommandError::Internal("replayed organization not found".to_owned()))?,
        None => id,
    };
    Ok((id, executed.last_position.unwrap_or_default()))
}

/// The organization with this id, read from the log (always current).
pub async fn find_by_id<L: EventLog>(
    store: &Store<L>,
    id: OrganizationId,
) -> Result<Option<OrganizationSummary>, LoadError> {
    summary(store, &stream(id)).await
}

/// The organization with this code, read from the log (always current).
pub async fn find_by_code<L: EventLog>(
    store: &Store<L>,
    code: &OrganizationCode,
) -> Result<Option<OrganizationSummary>, LoadError> {
    let key = store.secrets.index_hash(CODE_CLAIM, code.as_str());
    match store.log.find_claim(Uuid::nil(), CODE_CLAIM, &key).await? {
        Some(owner) => summary(store, &owner).await,
        None => Ok(None),
    }
}

async fn summary<L: EventLog>(
    store: &Store<L>,
    stream: &StreamId,
) -> Result<Option<OrganizationSummary>, LoadError> {
    let (state, _) = store.load::<Organization>(stream).await?;
    Ok(match state {
        OrganizationState::Active {
            id,
            code,
            name,
            policy,
        } => Some(OrganizationSummary {
            id,
            code,
            name,
            policy,
        }),
        OrganizationState::Absent => None,
    })
}

/// Replaces an organization's security rules (lockout, session lifetime).
pub async fn set_security_policy<L: EventLog>(
    store: &Store<L>,
    organization: OrganizationId,
    policy: SecurityPolicy,
    by: Option<portal_domain::AccountId>,
    ctx: &CommandContext,
) -> Result<i64, CommandError<OrganizationError>> {
    let input = serde_json::to_vec(&policy).unwrap_or_default();
    let fingerprint = store
        .secrets
        .fingerprint("SetSecurityPolicy", &[organization.0.as_bytes(), &input]);
    let executed = execute::<L, Organization>(
        store,
        &stream(organization),
        None,
        ctx,
        "SetSecurityPolicy",
        fingerprint,
        |_| {
            Ok(Plan::command(
                organization.0,
                OrganizationCommand::SetSecurityPolicy { policy, by },
            ))
        },
    )
    .await?;
    Ok(executed.last_position.unwrap_or_default())
}
