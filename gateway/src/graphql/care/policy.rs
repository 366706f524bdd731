//! The organization's rules for conversations, results and proxies, and who is on each care team (staff).

use std::collections::BTreeMap;

use async_graphql::{Context, InputObject, Object, Result, SimpleObject, ID};
use portal_commands::care::care_teams;
use portal_commands::handler::Actor;
use portal_commands::organizations as orgs;
use portal_domain::care::{AgeBand, CarePolicy};
use portal_domain::organization::OrganizationError;
use portal_domain::values::TestCode;
use portal_domain::{AccountId, OrganizationId};
use uuid::Uuid;

use super::proxies::Scope;
use super::{care_team, caught_up, uuid, CareObject, CarePayload};
use crate::graphql::activities::organization;
use crate::graphql::errors::ApiError;
use crate::graphql::mutation::context;
use crate::graphql::query::{projection_error, staff};
use crate::graphql::types::{Account, LogPosition};

/// A test whose results are released by themselves after a delay.
#[derive(InputObject, SimpleObject)]
#[graphql(input_name = "ReleaseDelayInput")]
pub struct ReleaseDelay {
    /// The test's code.
    pub test_code: String,
    /// Hours after recording (0 to 2160).
    pub hours: i32,
}

/// A band of the proxy age rules.
#[derive(InputObject, SimpleObject)]
#[graphql(input_name = "AgeBandInput")]
pub struct AgeBandView {
    /// The first age of the band (the first band starts at 0).
    pub from_age: i32,
    /// The widest scope proxies have in the band (null: no proxy access).
    pub cap: Option<Scope>,
}

/// The rules for conversations, results and proxies.
#[derive(SimpleObject)]
pub struct CarePolicyView {
    /// The rules (one set per organization).
    pub id: ID,
    /// Days without a message after which a conversation is closed.
    pub conversation_idle_days: i32,
    /// Tests released by themselves, with their delays (results of other tests wait for a provider).
    pub release_delays: Vec<ReleaseDelay>,
    /// Proxy access by the patient's age.
    pub age_bands: Vec<AgeBandView>,
}

pub(super) fn view(organization: OrganizationId, policy: &CarePolicy) -> CarePolicyView {
    CarePolicyView {
        id: crate::graphql::ids::derived("CarePolicy", &[&organization.0]),
        conversation_idle_days: i32::try_from(policy.conversation_idle_days).unwrap_or(i32::MAX),
        release_delays: policy
            .release_hours
            .iter()
            .map(|(code, hours)| ReleaseDelay {
                test_code: code.as_str().to_owned(),
                hours: i32::try_from(*hours).unwrap_or(i32::MAX),
            })
            .collect(),
        age_bands: policy
            .age_bands
            .iter()
            .map(|b| AgeBandView {
                from_age: i32::from(b.from_age),
                cap: b.cap.map(Scope::from),
            })
            .collect(),
    }
}

/// Care-policy mutations.
#[derive(Default)]
pub struct CarePolicyMutation;

#[Object]
impl CarePolicyMutation {
    /// Replaces the rules for conversations, results and proxies (staff): the idle days after which a conversation
    /// closes (1 to 365), the tests whose results are released by themselves and after how many hours, and the
    /// proxy age bands (left out: the defaults, full access under 13, scheduling and messages from 13 to 17).
    async fn set_care_policy(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Days without a message after which a conversation closes.")]
        conversation_idle_days: i32,
        #[graphql(
            desc = "Tests whose results are released to the patient by themselves after a delay."
        )]
        release_delays: Option<Vec<ReleaseDelay>>,
        #[graphql(desc = "What a parent's access becomes as the child grows up.")]
        age_bands: Option<Vec<AgeBandView>>,
        #[graphql(
            desc = "Idempotency key: a retry with the same id returns the first answer instead of acting twice."
        )]
        command_id: Option<Uuid>,
    ) -> Result<CarePayload> {
        let principal = staff(ctx).await?;
        let (state, request) = context(ctx);
        let mut release_hours = BTreeMap::new();
        for (i, delay) in release_delays.unwrap_or_default().iter().enumerate() {
            let code = TestCode::parse(&delay.test_code).map_err(|e| {
                ApiError::new("TEST_CODE_INVALID", format!("testCode {}", e.rule))
                    .on(format!("releaseDelays[{i}].testCode"))
            })?;
            release_hours.insert(code, u32::try_from(delay.hours).unwrap_or(u32::MAX));
        }
        let defaults = CarePolicy::default();
        let age_bands = match age_bands {
            None => defaults.age_bands,
            Some(bands) => bands
                .iter()
                .map(|b| AgeBand {
                    from_age: u8::try_from(b.from_age).unwrap_or(u8::MAX),
                    cap: b.cap.map(Into::into),
                })
                .collect(),
        };
        let policy = CarePolicy {
            conversation_idle_days: u32::try_from(conversation_idle_days).unwrap_or(0),
            release_hours,
            age_bands,
        };
        let field = policy.validate().err().map(|e| e.field);
        let command = request.command(Actor::Account(principal.account.0), command_id);
        let position = orgs::set_care_policy(
            &state.store,
            principal.organization,
            policy,
            Some(principal.account),
            &command,
        )
        .await
        .map_err(|e| {
            let error = ApiError::from_command::<OrganizationError>(e);
            match field {
                Some(field) => error.on(field),
                None => error,
            }
        })?;
        Ok(CarePayload::changed(
            None,
            position,
            principal,
            CareObject::CarePolicy,
        ))
    }

    /// Sets who is on a provider's or care team's team (staff): each member is staff or a provider of the
    /// organization, and sees the team's conversations in their pool.
    async fn set_care_team_members(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The care team (a provider or department of the catalogue).")] team_id: ID,
        #[graphql(desc = "The staff and provider accounts on it, all of them.")] member_ids: Vec<
            ID,
        >,
    ) -> Result<CarePayload> {
        let principal = staff(ctx).await?;
        let (state, request) = context(ctx);
        let team = uuid(&team_id, "teamId")?;
        let members = member_ids
            .iter()
            .map(|m| uuid(m, "memberIds").map(AccountId))
            .collect::<Result<Vec<_>, _>>()?;
        let org = organization(state, principal.organization).await?;
        let command = request.command(Actor::Account(principal.account.0), None);
        let position = care_teams::set_members(
            &state.store,
            &org,
            team,
            members,
            principal.account,
            &command,
        )
        .await
        .map_err(ApiError::from_command)?;
        Ok(CarePayload::new(Some(team), position))
    }
}

/// Care-policy queries.
#[derive(Default)]
pub struct CarePolicyQuery;

#[Object]
impl CarePolicyQuery {
    /// Your organization's rules for conversations, results and proxies (staff and providers).
    async fn care_policy(&self, ctx: &Context<'_>) -> Result<CarePolicyView> {
        let member = care_team(ctx).await?;
        let state = context(ctx).0;
        let org = organization(state, member.organization).await?;
        Ok(view(org.id, &org.care_policy))
    }

    /// The staff and provider accounts of your organization (staff), by name: who may be put on a care team.
    async fn care_team_candidates(&self, ctx: &Context<'_>) -> Result<Vec<Account>> {
        let principal = staff(ctx).await?;
        let state = context(ctx).0;
        let rows = portal_projections::accounts::staff_and_providers(
            &state.pool,
            principal.organization.0,
        )
        .await
        .map_err(projection_error)?;
        Ok(rows.into_iter().map(Account::from).collect())
    }

    /// Who is on a provider's or care team's team (staff), by name (`setCareTeamMembers` sets them).
    async fn care_team_members(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The care team (a provider or department of the catalogue).")] team_id: ID,
        #[graphql(
            desc = "Read your writes: wait until the read model has applied this log position (a mutation's `position`)."
        )]
        at_least: Option<LogPosition>,
    ) -> Result<Vec<Account>> {
        let principal = staff(ctx).await?;
        let team = uuid(&team_id, "teamId")?;
        let state = context(ctx).0;
        caught_up(state, at_least).await?;
        let rows = portal_projections::accounts::care_team_members(
            &state.pool,
            principal.organization.0,
            team,
        )
        .await
        .map_err(projection_error)?;
        Ok(rows.into_iter().map(Account::from).collect())
    }
}
