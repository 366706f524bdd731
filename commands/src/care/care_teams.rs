//! Care teams: who of the staff and providers answers for a provider or care team of the catalogue.

use portal_domain::account::{Account, Role};
use portal_domain::care::care_team::{CareTeam, CareTeamState, SetMembers};
use portal_domain::catalogue::EntryKind;
use portal_domain::{AccountId, Decider};
use uuid::Uuid;

use super::{position, rejected, run, CareError, Result};
use crate::handler::{CommandContext, Plan};
use crate::log::{EventLog, StreamId};
use crate::organizations::OrganizationSummary;
use crate::store::Store;

/// A care team's stream.
pub fn stream(team: Uuid) -> StreamId {
    StreamId::new(CareTeam::CATEGORY, team)
}

/// Sets the members of a provider or care team of the catalogue: each must be staff or a provider of the
/// organization.
pub async fn set_members<L: EventLog>(
    store: &Store<L>,
    organization: &OrganizationSummary,
    team: Uuid,
    members: Vec<AccountId>,
    by: AccountId,
    ctx: &CommandContext,
) -> Result<i64> {
    let catalogue = crate::scheduling::catalogue(store, organization.id)
        .await
        .map_err(|e| e.map_rejected(|_| CareError::TeamNotFound("teamId")))?;
    if !catalogue.is(team, EntryKind::Provider) {
        return Err(rejected(CareError::TeamNotFound("teamId")));
    }
    for member in &members {
        let (account, _) = store
            .load::<Account>(&crate::accounts::stream(*member))
            .await?;
        let fits = account.profile().is_some_and(|p| {
            p.organization == organization.id && matches!(p.role, Role::Staff | Role::Provider)
        });
        if !fits {
            return Err(rejected(CareError::AccountUnfit(
                "memberIds",
                "every member is staff or a provider of the organization",
            )));
        }
    }
    let input: Vec<u8> = members.iter().flat_map(|m| *m.0.as_bytes()).collect();
    let executed = run::<L, CareTeam>(
        store,
        &stream(team),
        None,
        ctx,
        "SetCareTeamMembers",
        &[team.as_bytes(), &input],
        |_| {
            Ok(Plan::command(
                organization.id.0,
                SetMembers {
                    organization: organization.id,
                    team,
                    members: members.clone(),
                    by,
                },
            ))
        },
    )
    .await?;
    Ok(position(&executed))
}

/// The team's members as they stand.
pub async fn members<L: EventLog>(store: &Store<L>, team: Uuid) -> Result<CareTeamState> {
    Ok(store.load::<CareTeam>(&stream(team)).await?.0)
}
