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
pub mod payments;
pub mod policy;
pub mod proxies;
pub mod results;

use async_graphql::{ComplexObject, Context, Result, SimpleObject, ID};
use portal_commands::handler::Actor;
use portal_commands::organizations::OrganizationSummary;
use portal_domain::account::Role;
use portal_domain::appointment::BookedBy;
use portal_domain::care::{Area, Party, ProxyScope};
use portal_domain::session::Principal;
use portal_domain::{AccountId, OrganizationId};
use portal_projections::care::NAME;
use uuid::Uuid;

use super::access_log::audited;
use super::activities::organization;
use super::errors::ApiError;
use super::mutation::context;
use super::query::{applied, principal, projection_error};
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
    applied(state, NAME, at_least).await
}

/// Parses an id argument.
pub fn uuid(raw: &ID, field: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(raw.as_str())
        .map_err(|_| ApiError::new("ID_INVALID", "this is not an id").on(field))
}

/// What a care mutation did.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct CarePayload {
    /// The conversation, message, result, statement, payment, medication or request concerned.
    pub id: Option<ID>,
    /// The log position produced (pass it as `atLeast` to read your write).
    pub position: Option<LogPosition>,
    #[graphql(skip)]
    changed: Option<(CareReader, CareObject)>,
}

impl CarePayload {
    /// A payload for `id` at `position` (zero: nothing new was written).
    pub fn new(id: Option<Uuid>, position: i64) -> Self {
        Self {
            id: id.map(|i| ID(i.to_string())),
            position: (position > 0).then_some(LogPosition(position)),
            changed: None,
        }
    }

    /// A payload that `reader` can read `object` back from.
    pub fn changed(
        id: Option<Uuid>,
        position: i64,
        reader: impl Into<CareReader>,
        object: CareObject,
    ) -> Self {
        Self {
            changed: Some((reader.into(), object)),
            ..Self::new(id, position)
        }
    }

    /// Waits until the care read model has applied the mutation's position (each field first checks that the object
    /// is its kind, so a field about another kind waits for nothing).
    async fn read_back(&self, ctx: &Context<'_>) -> Result<(), ApiError> {
        caught_up(context(ctx).0, self.position).await
    }
}

/// What a care mutation changed.
#[derive(Clone, Copy, Debug)]
pub enum CareObject {
    /// A conversation (a message was written in it, or it was read, picked up or closed).
    Conversation(Uuid),
    /// A test result.
    TestResult(Uuid),
    /// A statement (and with it the patient's billing account).
    Statement(Uuid),
    /// A patient's billing account.
    Billing(AccountId),
    /// A medication.
    Medication(Uuid),
    /// A renewal request.
    Renewal(Uuid),
    /// A proxy's access to a patient.
    ProxyGrant {
        /// The patient.
        patient: AccountId,
        /// The proxy.
        proxy: AccountId,
    },
    /// The organization's care policy.
    CarePolicy,
}

/// Who reads a care object back: the patient's side, or a member of the care team (staff or provider).
#[derive(Clone, Debug)]
pub enum CareReader {
    /// The patient, or their proxy.
    Patient(Acting),
    /// Staff or a provider.
    Member(Principal),
}

impl From<Acting> for CareReader {
    fn from(acting: Acting) -> Self {
        CareReader::Patient(acting)
    }
}

impl From<Principal> for CareReader {
    fn from(principal: Principal) -> Self {
        CareReader::Member(principal)
    }
}

impl CareReader {
    /// The reader's organization.
    pub fn organization(&self) -> Uuid {
        match self {
            CareReader::Patient(a) => a.principal.organization.0,
            CareReader::Member(p) => p.organization.0,
        }
    }

    /// Whether the patient's side reads (who sees only released results, and their own unread counts).
    pub fn patient_side(&self) -> bool {
        matches!(self, CareReader::Patient(_))
    }

    /// Whether the reader may see `patient`'s data: the patient's side only their own patient's, the care team any.
    pub fn may_read(&self, patient: Uuid) -> bool {
        match self {
            CareReader::Patient(a) => a.patient.0 == patient,
            CareReader::Member(_) => true,
        }
    }

    /// The patient whose `record` `id` is, if the read model holds it and the reader may see their data.
    pub async fn patient_of(
        &self,
        ctx: &Context<'_>,
        record: portal_projections::care::Record,
        id: Uuid,
    ) -> Result<Option<Uuid>, ApiError> {
        let state = context(ctx).0;
        Ok(
            portal_projections::care::patient_of(&state.pool, self.organization(), record, id)
                .await
                .map_err(projection_error)?
                .filter(|p| self.may_read(*p)),
        )
    }

    /// Records the read of `patient`'s data in the access log (a patient's own reads are not recorded).
    pub async fn audited(
        &self,
        ctx: &Context<'_>,
        resource: &str,
        field: &str,
        patient: Uuid,
    ) -> Result<(), ApiError> {
        match self {
            CareReader::Patient(acting) => acting.audited(ctx, resource, field).await,
            CareReader::Member(member) => {
                audited_read(ctx, member, resource, field, [patient]).await
            }
        }
    }
}

#[ComplexObject]
impl CarePayload {
    /// The conversation as it now is, with its messages (conversation mutations; null for the others).
    async fn conversation(
        &self,
        ctx: &Context<'_>,
    ) -> Result<Option<conversations::ConversationView>> {
        let Some((reader, CareObject::Conversation(id))) = &self.changed else {
            return Ok(None);
        };
        self.read_back(ctx).await?;
        Ok(conversations::read_one(ctx, reader, *id).await?)
    }

    /// The test result as it now is (recordTestResult, releaseTestResult; null for the others).
    async fn test_result(&self, ctx: &Context<'_>) -> Result<Option<results::TestResultView>> {
        let Some((reader, CareObject::TestResult(id))) = &self.changed else {
            return Ok(None);
        };
        self.read_back(ctx).await?;
        Ok(results::read_one(ctx, reader, *id).await?)
    }

    /// The statement as it now is, with its payments (issueStatement, recordPayment; null for the others).
    async fn statement(&self, ctx: &Context<'_>) -> Result<Option<billing::StatementView>> {
        let Some((reader, CareObject::Statement(id))) = &self.changed else {
            return Ok(None);
        };
        self.read_back(ctx).await?;
        Ok(billing::read_statement(ctx, reader, *id).await?)
    }

    /// The patient's billing account as it now is: balance, paperless choice, statements (issueStatement,
    /// recordPayment, setPaperlessBilling; null for the others).
    async fn billing(&self, ctx: &Context<'_>) -> Result<Option<billing::BillingAccountView>> {
        let (reader, statement, patient) = match &self.changed {
            Some((reader, CareObject::Statement(id))) => (reader, Some(*id), None),
            Some((reader, CareObject::Billing(patient))) => (reader, None, Some(*patient)),
            _ => return Ok(None),
        };
        self.read_back(ctx).await?;
        Ok(billing::read_account(ctx, reader, statement, patient).await?)
    }

    /// The medication as it now is, with its renewal requests (prescribe, discontinue and renewal mutations; null
    /// for the others).
    async fn medication(&self, ctx: &Context<'_>) -> Result<Option<medications::MedicationView>> {
        let (reader, medication, renewal) = match &self.changed {
            Some((reader, CareObject::Medication(id))) => (reader, Some(*id), None),
            Some((reader, CareObject::Renewal(id))) => (reader, None, Some(*id)),
            _ => return Ok(None),
        };
        self.read_back(ctx).await?;
        Ok(medications::read_one(ctx, reader, medication, renewal).await?)
    }

    /// The renewal request as it now is (requestRenewal, approveRenewal, declineRenewal; null for the others).
    async fn renewal(&self, ctx: &Context<'_>) -> Result<Option<medications::RenewalView>> {
        let Some((reader, CareObject::Renewal(id))) = &self.changed else {
            return Ok(None);
        };
        self.read_back(ctx).await?;
        let wanted = ID(id.to_string());
        Ok(medications::read_one(ctx, reader, None, Some(*id))
            .await?
            .and_then(|m| m.renewals.into_iter().find(|r| r.id == wanted)))
    }

    /// The proxy's access as it now is (grantProxyAccess; null once revoked, and for the others).
    async fn proxy_grant(&self, ctx: &Context<'_>) -> Result<Option<proxies::ProxyGrantView>> {
        let Some((reader, CareObject::ProxyGrant { patient, proxy })) = &self.changed else {
            return Ok(None);
        };
        self.read_back(ctx).await?;
        Ok(proxies::read_one(ctx, reader, *patient, *proxy).await?)
    }

    /// The organization's care policy as it now is (setCarePolicy; null for the others).
    async fn care_policy(&self, ctx: &Context<'_>) -> Result<Option<policy::CarePolicyView>> {
        match &self.changed {
            Some((reader, CareObject::CarePolicy)) => {
                let org =
                    organization(context(ctx).0, OrganizationId(reader.organization())).await?;
                Ok(Some(policy::view(org.id, &org.care_policy)))
            }
            _ => Ok(None),
        }
    }
}

/// Formats cents as a decimal amount (`12.50`).
pub fn amount(cents: i64) -> String {
    portal_domain::values::Money::from_cents(cents).to_string()
}
