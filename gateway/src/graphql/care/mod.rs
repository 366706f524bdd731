//! The patient portal beyond scheduling (seed 001): conversations with the care team, test results, bills,
//! prescriptions, proxies, and the organization's rules for them.
//!
//! Patient-side fields act for the signed-in patient, or, with the `X-Acting-For: <patient account id>` header, for
//! a patient who granted the signed-in account proxy access: then the grant (narrowed by the organization's age band
//! for the patient) must cover the field's area, every command records the proxy as the actor and the patient as
//! the one acted for, and every read goes to the access log.

pub mod billing;
pub mod conversations;
pub mod medications;
pub mod policy;
pub mod proxies;
pub mod results;

use async_graphql::{Context, SimpleObject, ID};
use portal_commands::handler::Actor;
use portal_commands::organizations::OrganizationSummary;
use portal_domain::account::Role;
use portal_domain::appointment::BookedBy;
use portal_domain::care::{Area, Party, ProxyScope};
use portal_domain::session::Principal;
use portal_domain::AccountId;
use portal_projections::care::NAME;
use portal_projections::runner::wait_for;
use uuid::Uuid;

use super::access_log::audited;
use super::activities::organization;
use super::errors::ApiError;
use super::mutation::context;
use super::query::{principal, projection_error, READ_YOUR_WRITES_TIMEOUT};
use super::types::LogPosition;
use crate::access::{self, Whose};
use crate::app::AppState;

/// Who a patient-side request speaks for.
#[derive(Clone, Debug)]
pub struct Acting {
    /// The account signed in (the patient, or their proxy).
    pub principal: Principal,
    /// The patient acted for.
    pub patient: AccountId,
    /// The proxy, when it is not the patient.
    pub proxy: Option<AccountId>,
    /// The proxy's scope in force (None for the patient).
    pub scope: Option<ProxyScope>,
}

impl Acting {
    /// The actor of the commands it issues.
    pub fn actor(&self) -> Actor {
        match self.proxy {
            Some(proxy) => Actor::Proxy {
                proxy: proxy.0,
                patient: self.patient.0,
            },
            None => Actor::Account(self.patient.0),
        }
    }

    /// The patient's side of a conversation or request.
    pub fn party(&self) -> Party {
        Party::Patient { proxy: self.proxy }
    }

    /// Who books, as an appointment records it.
    pub fn booked_by(&self) -> BookedBy {
        match self.proxy {
            Some(by) => BookedBy::Proxy { by },
            None => BookedBy::Patient,
        }
    }

    /// Records a proxy's read of the patient's data in the access log (a patient's own reads are not recorded).
    pub async fn audited(
        &self,
        ctx: &Context<'_>,
        resource: &str,
        field: &str,
    ) -> Result<(), ApiError> {
        if self.proxy.is_none() {
            return Ok(());
        }
        let (state, request) = context(ctx);
        access::record_proxy(
            &state.pool,
            &state.store.secrets,
            &self.principal,
            request,
            resource,
            field,
            self.patient.0,
        )
        .await
        .map_err(|error| {
            tracing::error!(%error, "could not record a read in the access log");
            ApiError::unavailable()
        })
    }
}

/// The patient a patient-side field acts for: the signed-in patient, or with `X-Acting-For` the patient whose
/// proxy they are, if the grant in force covers `area` (else PROXY_NOT_ALLOWED or OUTSIDE_PROXY_SCOPE).
pub async fn acting(ctx: &Context<'_>, area: Area) -> Result<Acting, ApiError> {
    acting_as(ctx, principal(ctx).await?, area).await
}

/// As [`acting`], for a caller already signed in as `principal`.
pub async fn acting_as(
    ctx: &Context<'_>,
    principal: Principal,
    area: Area,
) -> Result<Acting, ApiError> {
    if principal.role != Role::Patient {
        return Err(ApiError::forbidden());
    }
    let (state, request) = context(ctx);
    let target = match request.acting_for.as_deref() {
        None => None,
        Some(raw) => Some(AccountId(Uuid::parse_str(raw).map_err(|_| {
            ApiError::new("ID_INVALID", "X-Acting-For is not an account id").on("X-Acting-For")
        })?)),
    };
    let Some(patient) = target.filter(|t| *t != principal.account) else {
        return Ok(Acting {
            patient: principal.account,
            principal,
            proxy: None,
            scope: None,
        });
    };
    let org = organization(state, principal.organization).await?;
    let born = birth_date(state, &org, patient).await?;
    let scope = portal_commands::care::proxies::access(
        &state.store,
        &org,
        patient,
        principal.account,
        born,
        request.now,
    )
    .await
    .map_err(ApiError::from_command)?
    .ok_or_else(|| {
        ApiError::new(
            "PROXY_NOT_ALLOWED",
            "you have no access to this patient's portal (not granted, ended, or not allowed at their age)",
        )
        .on("X-Acting-For")
    })?;
    if !scope.covers(area) {
        return Err(ApiError::new(
            "OUTSIDE_PROXY_SCOPE",
            format!(
                "your access to this patient's portal ({}) does not include {}",
                scope.as_str(),
                area_name(area)
            ),
        ));
    }
    Ok(Acting {
        proxy: Some(principal.account),
        principal,
        patient,
        scope: Some(scope),
    })
}

fn area_name(area: Area) -> &'static str {
    match area {
        Area::Scheduling => "appointments",
        Area::Messages => "messages",
        Area::Results => "test results",
        Area::Billing => "bills",
        Area::Prescriptions => "prescriptions",
    }
}

/// The patient's date of birth, from their patient record (None when not known).
pub async fn birth_date(
    state: &AppState,
    org: &OrganizationSummary,
    patient: AccountId,
) -> Result<Option<chrono::NaiveDate>, ApiError> {
    portal_projections::patients::birth_date(&state.pool, org.id.0, patient.0)
        .await
        .map_err(projection_error)
}

/// The signed-in caller, who must be staff or a provider (the care team), or FORBIDDEN.
pub async fn care_team(ctx: &Context<'_>) -> Result<Principal, ApiError> {
    let principal = principal(ctx).await?;
    if matches!(principal.role, Role::Staff | Role::Provider) {
        Ok(principal)
    } else {
        Err(ApiError::forbidden())
    }
}

/// The signed-in caller, who must be a provider, or FORBIDDEN.
pub async fn provider(ctx: &Context<'_>) -> Result<Principal, ApiError> {
    let principal = principal(ctx).await?;
    if principal.role == Role::Provider {
        Ok(principal)
    } else {
        Err(ApiError::forbidden())
    }
}

/// Records a care-team member's read of a patient's data.
pub async fn audited_read(
    ctx: &Context<'_>,
    principal: &Principal,
    resource: &str,
    field: &str,
    patients: impl IntoIterator<Item = Uuid>,
) -> Result<(), ApiError> {
    let whose: Vec<Whose> = patients.into_iter().map(Whose::account).collect();
    audited(ctx, principal, resource, field, &whose).await
}

/// Waits until the care read model has applied `at_least`.
pub async fn caught_up(state: &AppState, at_least: Option<LogPosition>) -> Result<(), ApiError> {
    if let Some(position) = at_least {
        wait_for(&state.pool, NAME, position.0, READ_YOUR_WRITES_TIMEOUT)
            .await
            .map_err(projection_error)?;
    }
    Ok(())
}

/// Parses an id argument.
pub fn uuid(raw: &ID, field: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(raw.as_str())
        .map_err(|_| ApiError::new("ID_INVALID", "this is not an id").on(field))
}

/// What a care mutation did.
#[derive(SimpleObject)]
pub struct CarePayload {
    /// The conversation, message, result, statement, payment, medication or request concerned.
    pub id: Option<ID>,
    /// The log position produced (pass it as `atLeast` to read your write).
    pub position: Option<LogPosition>,
}

impl CarePayload {
    /// A payload for `id` at `position` (zero: nothing new was written).
    pub fn new(id: Option<Uuid>, position: i64) -> Self {
        Self {
            id: id.map(|i| ID(i.to_string())),
            position: (position > 0).then_some(LogPosition(position)),
        }
    }
}

/// Formats cents as a decimal amount (`12.50`).
pub fn amount(cents: i64) -> String {
    portal_domain::values::Money::from_cents(cents).to_string()
}
