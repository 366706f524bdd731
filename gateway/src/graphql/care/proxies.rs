//! Proxy access: patients (or staff, for a child) grant another account access to a patient's portal; proxies list
//! the people they may act for and switch between them with `X-Acting-For`.

use async_graphql::{Context, Enum, InputObject, Object, Result, SimpleObject, ID};
use chrono::{DateTime, NaiveDate, Utc};
use portal_commands::care::proxies::{self, NewGrant};
use portal_commands::handler::Actor;
use portal_domain::account::Role;
use portal_domain::care::proxy::Grantor;
use portal_domain::care::ProxyScope;
use portal_domain::{AccountId, OrganizationId};
use portal_projections::care::proxies::{self as read, GrantRow};
use uuid::Uuid;

use super::{birth_date, caught_up, uuid, CareObject, CarePayload, CareReader};
use crate::graphql::activities::organization;
use crate::graphql::errors::ApiError;
use crate::graphql::mutation::context;
use crate::graphql::query::{principal, projection_error};
use crate::graphql::types::LogPosition;

/// What a proxy may use.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum Scope {
    /// Appointments only.
    Scheduling,
    /// Appointments and messages with the care team.
    SchedulingAndMessages,
    /// Everything the patient sees.
    All,
}

impl From<Scope> for ProxyScope {
    fn from(scope: Scope) -> Self {
        match scope {
            Scope::Scheduling => ProxyScope::Scheduling,
            Scope::SchedulingAndMessages => ProxyScope::SchedulingAndMessages,
            Scope::All => ProxyScope::All,
        }
    }
}

impl From<ProxyScope> for Scope {
    fn from(scope: ProxyScope) -> Self {
        match scope {
            ProxyScope::Scheduling => Scope::Scheduling,
            ProxyScope::SchedulingAndMessages => Scope::SchedulingAndMessages,
            ProxyScope::All => Scope::All,
        }
    }
}

fn scope_named(raw: &str) -> Scope {
    match raw {
        "all" => Scope::All,
        "scheduling_and_messages" => Scope::SchedulingAndMessages,
        _ => Scope::Scheduling,
    }
}

/// A grant of proxy access.
#[derive(InputObject)]
pub struct GrantProxyAccessInput {
    /// The proxy's account id (they find it as `me { id }`); a patient-portal account of the organization.
    pub proxy_id: ID,
    /// What they may use.
    pub scope: Scope,
    /// The last day of access.
    pub ends_on: NaiveDate,
    /// Staff only: the patient's account (a patient grants access to their own portal).
    pub patient_id: Option<ID>,
    /// Idempotency key.
    pub command_id: Option<Uuid>,
}

/// A grant as either side sees it.
#[derive(SimpleObject)]
pub struct ProxyGrantView {
    /// The grant (of one patient to one proxy).
    pub id: ID,
    /// The patient's account (pass it as `X-Acting-For` to act for them).
    pub patient_id: ID,
    /// The patient's name.
    pub patient_name: String,
    /// The proxy's account.
    pub proxy_id: ID,
    /// The proxy's name.
    pub proxy_name: String,
    /// The scope granted.
    pub granted_scope: Scope,
    /// The scope in force today, after the organization's age rules (null: none at the patient's age).
    pub scope: Option<Scope>,
    /// The last day.
    pub ends_on: NaiveDate,
    /// When granted.
    pub granted_at: DateTime<Utc>,
}

fn view(row: GrantRow, scope: Option<ProxyScope>) -> ProxyGrantView {
    ProxyGrantView {
        id: crate::graphql::ids::derived("ProxyGrant", &[&row.patient_id, &row.proxy_id]),
        patient_id: ID(row.patient_id.to_string()),
        patient_name: row.patient_name,
        proxy_id: ID(row.proxy_id.to_string()),
        proxy_name: row.proxy_name,
        granted_scope: scope_named(&row.scope),
        scope: scope.map(Scope::from),
        ends_on: row.ends_on,
        granted_at: row.granted_at,
    }
}

/// The grant of `patient` to `proxy` as it now is, with the scope in force (null once revoked). The caller granted
/// it; a staff member's read goes to the access log.
pub async fn read_one(
    ctx: &Context<'_>,
    reader: &CareReader,
    patient: AccountId,
    proxy: AccountId,
) -> Result<Option<ProxyGrantView>, ApiError> {
    let (state, request) = context(ctx);
    let org = organization(state, OrganizationId(reader.organization())).await?;
    let rows = read::of_patient(&state.pool, org.id.0, patient.0)
        .await
        .map_err(projection_error)?;
    let Some(row) = rows.into_iter().find(|r| r.proxy_id == proxy.0) else {
        return Ok(None);
    };
    if let CareReader::Member(member) = reader {
        if member.role == Role::Staff {
            super::audited_read(ctx, member, "proxy_grant", "proxyGrant", [patient.0]).await?;
        }
    }
    let born = birth_date(state, &org, patient).await?;
    let scope = proxies::access(&state.store, &org, patient, proxy, born, request.now)
        .await
        .map_err(ApiError::from_command)?;
    Ok(Some(view(row, scope)))
}

/// Proxy mutations.
#[derive(Default)]
pub struct ProxyMutation;

#[Object]
impl ProxyMutation {
    /// Grants another account access to a patient's portal, for a scope and until an end date: a patient for
    /// themselves, or staff for a patient (`patientId`), for example a parent for a child. A new grant to the same
    /// proxy replaces theirs.
    async fn grant_proxy_access(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The operation's input.")] input: GrantProxyAccessInput,
    ) -> Result<CarePayload> {
        let principal = principal(ctx).await?;
        let (state, request) = context(ctx);
        let (patient, by) = match (principal.role, input.patient_id.as_ref()) {
            (Role::Patient, None) => (principal.account, Grantor::Patient),
            (Role::Staff, Some(id)) => (
                AccountId(uuid(id, "input.patientId")?),
                Grantor::Staff {
                    by: principal.account,
                },
            ),
            (Role::Staff, None) => {
                return Err(ApiError::new(
                    "PATIENT_REQUIRED",
                    "staff grant for a patient: give patientId",
                )
                .on("input.patientId")
                .into())
            }
            _ => return Err(ApiError::forbidden().into()),
        };
        let proxy = AccountId(uuid(&input.proxy_id, "input.proxyId")?);
        let org = organization(state, principal.organization).await?;
        let command = request.command(Actor::Account(principal.account.0), input.command_id);
        let position = proxies::grant(
            &state.store,
            &org,
            NewGrant {
                patient,
                proxy,
                scope: input.scope.into(),
                ends_on: input.ends_on,
            },
            by,
            &command,
        )
        .await
        .map_err(ApiError::from_command)?;
        Ok(CarePayload::changed(
            Some(proxy.0),
            position,
            principal,
            CareObject::ProxyGrant { patient, proxy },
        ))
    }

    /// Ends a proxy's access: the patient (`proxyId`), staff (`patientId` and `proxyId`), or the proxy giving up
    /// their access (`patientId`).
    async fn revoke_proxy_access(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The patient whose record the proxy may open.")] patient_id: Option<ID>,
        #[graphql(desc = "The proxy's account.")] proxy_id: Option<ID>,
    ) -> Result<CarePayload> {
        let principal = principal(ctx).await?;
        let (state, request) = context(ctx);
        let parse = |id: Option<&ID>, field: &str| -> Result<Option<AccountId>, ApiError> {
            id.map(|i| uuid(i, field).map(AccountId)).transpose()
        };
        let patient = parse(patient_id.as_ref(), "patientId")?;
        let proxy = parse(proxy_id.as_ref(), "proxyId")?;
        let (patient, proxy, by) = match (principal.role, patient, proxy) {
            (Role::Patient, None, Some(proxy)) => (principal.account, proxy, Grantor::Patient),
            (Role::Patient, Some(patient), None) => (patient, principal.account, Grantor::Proxy),
            (Role::Staff, Some(patient), Some(proxy)) => (
                patient,
                proxy,
                Grantor::Staff {
                    by: principal.account,
                },
            ),
            (Role::Patient | Role::Staff, ..) => {
                return Err(ApiError::new(
                    "ARGUMENT_INVALID",
                    "a patient gives proxyId, a proxy patientId, staff both",
                )
                .on("proxyId")
                .into())
            }
            _ => return Err(ApiError::forbidden().into()),
        };
        let org = organization(state, principal.organization).await?;
        let command = request.command(Actor::Account(principal.account.0), None);
        let position = proxies::revoke(&state.store, &org, patient, proxy, by, &command)
            .await
            .map_err(ApiError::from_command)?;
        Ok(CarePayload::changed(
            Some(proxy.0),
            position,
            principal,
            CareObject::ProxyGrant { patient, proxy },
        ))
    }
}

/// Proxy queries.
#[derive(Default)]
pub struct ProxyQuery;

#[Object]
impl ProxyQuery {
    /// The people you may act for as a proxy today, with the scope in force for each (patients): switch between
    /// them by sending `X-Acting-For: <patientId>`.
    async fn proxy_patients(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "Read your writes: wait until the read model has applied this log position (a mutation's `position`)."
        )]
        at_least: Option<LogPosition>,
    ) -> Result<Vec<ProxyGrantView>> {
        let principal = principal(ctx).await?;
        if principal.role != Role::Patient {
            return Err(ApiError::forbidden().into());
        }
        let (state, request) = context(ctx);
        caught_up(state, at_least).await?;
        let org = organization(state, principal.organization).await?;
        let today = org.time_zone.local(request.now).date();
        let rows = read::for_proxy(&state.pool, org.id.0, principal.account.0, today)
            .await
            .map_err(projection_error)?;
        let mut views = Vec::with_capacity(rows.len());
        for row in rows {
            let patient = AccountId(row.patient_id);
            let born = birth_date(state, &org, patient).await?;
            let scope = proxies::access(
                &state.store,
                &org,
                patient,
                principal.account,
                born,
                request.now,
            )
            .await
            .map_err(ApiError::from_command)?;
            views.push(view(row, scope));
        }
        Ok(views)
    }

    /// Who may act for you (patients), or for `patientId` (staff).
    async fn proxies(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The patient (their account); yourself when absent.")] patient_id: Option<
            ID,
        >,
        #[graphql(
            desc = "Read your writes: wait until the read model has applied this log position (a mutation's `position`)."
        )]
        at_least: Option<LogPosition>,
    ) -> Result<Vec<ProxyGrantView>> {
        let principal = principal(ctx).await?;
        let (state, request) = context(ctx);
        let patient = match (principal.role, patient_id.as_ref()) {
            (Role::Patient, None) => principal.account,
            (Role::Staff, Some(id)) => AccountId(uuid(id, "patientId")?),
            _ => return Err(ApiError::forbidden().into()),
        };
        caught_up(state, at_least).await?;
        let org = organization(state, principal.organization).await?;
        let born = birth_date(state, &org, patient).await?;
        let rows = read::of_patient(&state.pool, org.id.0, patient.0)
            .await
            .map_err(projection_error)?;
        if principal.role == Role::Staff {
            super::audited_read(ctx, &principal, "proxy_grant", "proxies", [patient.0]).await?;
        }
        let mut views = Vec::with_capacity(rows.len());
        for row in rows {
            let scope = proxies::access(
                &state.store,
                &org,
                patient,
                AccountId(row.proxy_id),
                born,
                request.now,
            )
            .await
            .map_err(ApiError::from_command)?;
            views.push(view(row, scope));
        }
        Ok(views)
    }
}
