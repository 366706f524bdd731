//! Prescriptions: the patient's medications, renewal requests, and providers' decisions on them.

use async_graphql::{Context, InputObject, Object, Result, SimpleObject, ID};
use chrono::{DateTime, Utc};
use portal_commands::care::medications;
use portal_commands::handler::Actor;
use portal_domain::care::medication::NewMedication;
use portal_domain::care::Area;
use portal_domain::values::{Instructions, MedicationName, Reason};
use portal_domain::AccountId;
use portal_projections::care::medications::{self as read, MedicationRow, RenewalRow};
use portal_projections::care::Record;
use uuid::Uuid;

use super::{
    acting, audited_read, care_team, caught_up, provider, uuid, CareObject, CarePayload, CareReader,
};
use crate::graphql::activities::organization;
use crate::graphql::errors::ApiError;
use crate::graphql::inputs::Checked;
use crate::graphql::mutation::context;
use crate::graphql::query::projection_error;
use crate::graphql::types::LogPosition;

/// A medication to record.
#[derive(InputObject)]
pub struct PrescribeMedicationInput {
    /// The patient's account.
    pub patient_id: ID,
    /// The medication as prescribed (`Lisinopril 10 mg tablet`).
    pub medication: String,
    /// How to take it.
    pub instructions: String,
    /// The prescribing provider or care team (from the catalogue).
    pub prescriber_id: ID,
    /// Idempotency key.
    pub command_id: Option<Uuid>,
}

/// A renewal request.
#[derive(SimpleObject)]
pub struct RenewalView {
    /// The request.
    pub id: ID,
    /// The medication.
    pub medication_id: ID,
    /// Its name (null once the patient's data was erased).
    pub medication: Option<String>,
    /// The patient's account.
    pub patient_id: ID,
    /// The patient's name, for the care team (null once the patient's data was erased).
    pub patient_name: Option<String>,
    /// The note to the care team.
    pub note: Option<String>,
    /// Asked.
    pub requested_at: DateTime<Utc>,
    /// `pending`, `approved` or `declined`.
    pub status: String,
    /// Decided.
    pub decided_at: Option<DateTime<Utc>>,
    /// Why it was declined.
    pub decline_reason: Option<String>,
}

/// A medication.
#[derive(SimpleObject)]
pub struct MedicationView {
    /// The medication.
    pub id: ID,
    /// The patient's account.
    pub patient_id: ID,
    /// What (null once the patient's data was erased).
    pub medication: Option<String>,
    /// How to take it.
    pub instructions: Option<String>,
    /// The prescriber.
    pub prescriber_id: ID,
    /// Its name.
    pub prescriber: String,
    /// Still taken.
    pub active: bool,
    /// Recorded.
    pub prescribed_at: DateTime<Utc>,
    /// Renewal requests, oldest first.
    pub renewals: Vec<RenewalView>,
}

fn renewal(row: RenewalRow) -> RenewalView {
    RenewalView {
        id: ID(row.id.to_string()),
        medication_id: ID(row.medication_id.to_string()),
        medication: row.medication,
        patient_id: ID(row.patient_id.to_string()),
        patient_name: row.patient_name,
        note: row.note,
        requested_at: row.requested_at,
        status: row.status,
        decided_at: row.decided_at,
        decline_reason: row.decline_reason,
    }
}

fn view(row: MedicationRow) -> MedicationView {
    MedicationView {
        id: ID(row.id.to_string()),
        patient_id: ID(row.patient_id.to_string()),
        medication: row.name,
        instructions: row.instructions,
        prescriber_id: ID(row.prescriber_id.to_string()),
        prescriber: row.prescriber,
        active: row.active,
        prescribed_at: row.prescribed_at,
        renewals: row.renewals.into_iter().map(renewal).collect(),
    }
}

async fn decide(
    ctx: &Context<'_>,
    medication_id: ID,
    request_id: ID,
    declined: Option<Reason>,
) -> Result<CarePayload> {
    let provider = provider(ctx).await?;
    let (state, request) = context(ctx);
    let medication = uuid(&medication_id, "medicationId")?;
    let request_id = uuid(&request_id, "requestId")?;
    let org = organization(state, provider.organization).await?;
    let command = request.command(Actor::Account(provider.account.0), None);
    let position = medications::decide_renewal(
        &state.store,
        &org,
        medication,
        request_id,
        declined,
        provider.account,
        &command,
    )
    .await
    .map_err(ApiError::from_command)?;
    Ok(CarePayload::changed(
        Some(request_id),
        position,
        provider,
        CareObject::Renewal(request_id),
    ))
}

/// Medication `medication`, or the medication of renewal request `renewal`, as `reader` sees it, with its renewal
/// requests; the read goes to the access log.
pub async fn read_one(
    ctx: &Context<'_>,
    reader: &CareReader,
    medication: Option<Uuid>,
    renewal: Option<Uuid>,
) -> Result<Option<MedicationView>, ApiError> {
    let state = context(ctx).0;
    let organization = reader.organization();
    let (record, id) = match (medication, renewal) {
        (Some(id), _) => (Record::Medication, id),
        (None, Some(id)) => (Record::Renewal, id),
        (None, None) => return Ok(None),
    };
    let Some(patient) = reader.patient_of(ctx, record, id).await? else {
        return Ok(None);
    };
    let rows = read::of_patient(&state.pool, organization, patient)
        .await
        .map_err(projection_error)?;
    let Some(row) = rows.into_iter().find(|m| match record {
        Record::Renewal => m.renewals.iter().any(|r| r.id == id),
        _ => m.id == id,
    }) else {
        return Ok(None);
    };
    reader
        .audited(ctx, "medication", "medication", patient)
        .await?;
    Ok(Some(view(row)))
}

/// Prescription mutations.
#[derive(Default)]
pub struct MedicationMutation;

#[Object]
impl MedicationMutation {
    /// Records a medication the patient takes (staff and providers).
    async fn prescribe_medication(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The operation's input.")] input: PrescribeMedicationInput,
    ) -> Result<CarePayload> {
        let member = care_team(ctx).await?;
        let (state, request) = context(ctx);
        let patient = uuid(&input.patient_id, "input.patientId")?;
        let prescriber = uuid(&input.prescriber_id, "input.prescriberId")?;
        let mut checked = Checked::default();
        let name = checked.value(
            "medication",
            "MEDICATION_INVALID",
            MedicationName::parse(&input.medication),
        );
        let instructions = checked.value(
            "instructions",
            "INSTRUCTIONS_INVALID",
            Instructions::parse(&input.instructions),
        );
        checked.finish()?;
        let (Some(name), Some(instructions)) = (name, instructions) else {
            return Err(ApiError::new("ARGUMENT_INVALID", "the input is invalid").into());
        };
        let org = organization(state, member.organization).await?;
        let command = request.command(Actor::Account(member.account.0), input.command_id);
        let (id, position) = medications::prescribe(
            &state.store,
            &org,
            NewMedication {
                id: Uuid::nil(),
                organization: org.id,
                patient: AccountId(patient),
                name,
                instructions,
                prescriber,
            },
            member.account,
            &command,
        )
        .await
        .map_err(ApiError::from_command)?;
        Ok(CarePayload::changed(
            Some(id),
            position,
            member,
            CareObject::Medication(id),
        ))
    }

    /// Records that the patient no longer takes a medication (staff and providers).
    async fn discontinue_medication(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The medication.")] medication_id: ID,
    ) -> Result<CarePayload> {
        let member = care_team(ctx).await?;
        let (state, request) = context(ctx);
        let id = uuid(&medication_id, "medicationId")?;
        let org = organization(state, member.organization).await?;
        let command = request.command(Actor::Account(member.account.0), None);
        let position = medications::discontinue(&state.store, &org, id, member.account, &command)
            .await
            .map_err(ApiError::from_command)?;
        Ok(CarePayload::changed(
            Some(id),
            position,
            member,
            CareObject::Medication(id),
        ))
    }

    /// Asks the care team to renew one of the patient's medications (patients, or a proxy with full access); one
    /// request at a time per medication.
    async fn request_renewal(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The medication to renew.")] medication_id: ID,
        #[graphql(desc = "A note for the care team.")] note: Option<String>,
        #[graphql(
            desc = "Idempotency key: a retry with the same id returns the first answer instead of acting twice."
        )]
        command_id: Option<Uuid>,
    ) -> Result<CarePayload> {
        let acting = acting(ctx, Area::Prescriptions).await?;
        let (state, request) = context(ctx);
        let id = uuid(&medication_id, "medicationId")?;
        let note = match note.as_deref().map(str::trim).filter(|n| !n.is_empty()) {
            None => None,
            Some(raw) => Some(Reason::parse(raw).map_err(|e| {
                ApiError::new("NOTE_INVALID", format!("note {}", e.rule)).on("note")
            })?),
        };
        let org = organization(state, acting.principal.organization).await?;
        let command = request.command(acting.actor(), command_id);
        let (request_id, position) = medications::request_renewal(
            &state.store,
            &org,
            acting.patient,
            id,
            note,
            acting.party(),
            &command,
        )
        .await
        .map_err(ApiError::from_command)?;
        Ok(CarePayload::changed(
            Some(request_id),
            position,
            acting,
            CareObject::Renewal(request_id),
        ))
    }

    /// Approves a pending renewal request (providers); the patient is told their request was answered.
    async fn approve_renewal(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The medication.")] medication_id: ID,
        #[graphql(desc = "The renewal request.")] request_id: ID,
    ) -> Result<CarePayload> {
        decide(ctx, medication_id, request_id, None).await
    }

    /// Declines a pending renewal request with a reason the patient reads in the portal (providers).
    async fn decline_renewal(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The medication.")] medication_id: ID,
        #[graphql(desc = "The renewal request.")] request_id: ID,
        #[graphql(desc = "Why, shown to the patient.")] reason: String,
    ) -> Result<CarePayload> {
        let reason = Reason::parse(&reason).map_err(|e| {
            ApiError::new("REASON_INVALID", format!("reason {}", e.rule)).on("reason")
        })?;
        decide(ctx, medication_id, request_id, Some(reason)).await
    }
}

/// Prescription queries.
#[derive(Default)]
pub struct MedicationQuery;

#[Object]
impl MedicationQuery {
    /// The patient's medications with their renewal requests, active ones first (patients, or a proxy with full
    /// access).
    async fn medications(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "Read your writes: wait until the read model has applied this log position (a mutation's `position`)."
        )]
        at_least: Option<LogPosition>,
    ) -> Result<Vec<MedicationView>> {
        let acting = acting(ctx, Area::Prescriptions).await?;
        let state = context(ctx).0;
        caught_up(state, at_least).await?;
        let rows = read::of_patient(
            &state.pool,
            acting.principal.organization.0,
            acting.patient.0,
        )
        .await
        .map_err(projection_error)?;
        acting.audited(ctx, "medication", "medications").await?;
        Ok(rows.into_iter().map(view).collect())
    }

    /// A patient's medications with their renewal requests (staff and providers).
    async fn patient_medications(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The patient (their account).")] patient_id: ID,
        #[graphql(
            desc = "Read your writes: wait until the read model has applied this log position (a mutation's `position`)."
        )]
        at_least: Option<LogPosition>,
    ) -> Result<Vec<MedicationView>> {
        let member = care_team(ctx).await?;
        let state = context(ctx).0;
        let patient = uuid(&patient_id, "patientId")?;
        caught_up(state, at_least).await?;
        let rows = read::of_patient(&state.pool, member.organization.0, patient)
            .await
            .map_err(projection_error)?;
        audited_read(ctx, &member, "medication", "patientMedications", [patient]).await?;
        Ok(rows.into_iter().map(view).collect())
    }

    /// Renewal requests of the organization waiting for a decision, oldest first (staff and providers).
    async fn pending_renewals(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "Read your writes: wait until the read model has applied this log position (a mutation's `position`)."
        )]
        at_least: Option<LogPosition>,
    ) -> Result<Vec<RenewalView>> {
        let member = care_team(ctx).await?;
        let state = context(ctx).0;
        caught_up(state, at_least).await?;
        let rows = read::pending(&state.pool, member.organization.0)
            .await
            .map_err(projection_error)?;
        audited_read(
            ctx,
            &member,
            "medication",
            "pendingRenewals",
            rows.iter().map(|r| r.patient_id),
        )
        .await?;
        Ok(rows.into_iter().map(renewal).collect())
    }
}
