//! Prescriptions: recording and discontinuing medications, renewal requests and their decisions.

use portal_domain::care::medication::{
    Medication, MedicationCommand, MedicationError, MedicationInfo, MedicationState, NewMedication,
};
use portal_domain::care::Party;
use portal_domain::catalogue::EntryKind;
use portal_domain::values::{MessageKind, Reason};
use portal_domain::{AccountId, Decider};
use uuid::Uuid;

use super::{notice, patient, position, rejected, run, CareError, Result};
use crate::activities::derived_id;
use crate::handler::{CommandContext, Plan};
use crate::log::{EventLog, StreamId};
use crate::organizations::OrganizationSummary;
use crate::store::Store;

/// A medication's stream.
pub fn stream(id: Uuid) -> StreamId {
    StreamId::new(Medication::CATEGORY, id)
}

async fn load<L: EventLog>(
    store: &Store<L>,
    organization: &OrganizationSummary,
    id: Uuid,
) -> Result<MedicationInfo> {
    match store.load::<Medication>(&stream(id)).await?.0 {
        MedicationState::Prescribed(info) if info.organization == organization.id => Ok(*info),
        _ => Err(rejected(MedicationError::NotFound)),
    }
}

/// Records a medication a patient takes; returns its id and the position.
pub async fn prescribe<L: EventLog>(
    store: &Store<L>,
    organization: &OrganizationSummary,
    mut medication: NewMedication,
    by: AccountId,
    ctx: &CommandContext,
) -> Result<(Uuid, i64)> {
    patient(store, organization, medication.patient).await?;
    let catalogue = crate::scheduling::catalogue(store, organization.id)
        .await
        .map_err(|e| e.map_rejected(|_| CareError::TeamNotFound("prescriberId")))?;
    if !catalogue.is(medication.prescriber, EntryKind::Provider) {
        return Err(rejected(CareError::TeamNotFound("prescriberId")));
    }
    medication.id = derived_id("medication", ctx.command_id);
    medication.organization = organization.id;
    let input = format!("{medication:?}");
    let executed = run::<L, Medication>(
        store,
        &stream(medication.id),
        Some(medication.patient),
        ctx,
        "PrescribeMedication",
        &[input.as_bytes()],
        |_| {
            Ok(Plan::command(
                organization.id.0,
                MedicationCommand::Prescribe {
                    medication: Box::new(medication.clone()),
                    by,
                },
            ))
        },
    )
    .await?;
    Ok((medication.id, position(&executed)))
}

/// Records that the patient no longer takes a medication.
pub async fn discontinue<L: EventLog>(
    store: &Store<L>,
    organization: &OrganizationSummary,
    id: Uuid,
    by: AccountId,
    ctx: &CommandContext,
) -> Result<i64> {
    let info = load(store, organization, id).await?;
    let executed = run::<L, Medication>(
        store,
        &stream(id),
        Some(info.patient),
        ctx,
        "DiscontinueMedication",
        &[id.as_bytes()],
        |_| {
            Ok(Plan::command(
                organization.id.0,
                MedicationCommand::Discontinue { by },
            ))
        },
    )
    .await?;
    Ok(position(&executed))
}

/// The patient's side asks to renew one of the patient's medications; returns the request's id and the position.
pub async fn request_renewal<L: EventLog>(
    store: &Store<L>,
    organization: &OrganizationSummary,
    of: AccountId,
    id: Uuid,
    note: Option<Reason>,
    by: Party,
    ctx: &CommandContext,
) -> Result<(Uuid, i64)> {
    let info = load(store, organization, id).await?;
    if info.patient != of {
        return Err(rejected(MedicationError::NotFound));
    }
    let request_id = derived_id("renewal", ctx.command_id);
    let executed = run::<L, Medication>(
        store,
        &stream(id),
        Some(info.patient),
        ctx,
        "RequestRenewal",
        &[id.as_bytes(), format!("{note:?}").as_bytes()],
        |_| {
            Ok(Plan::command(
                organization.id.0,
                MedicationCommand::RequestRenewal {
                    request_id,
                    note: note.clone(),
                    by,
                },
            ))
        },
    )
    .await?;
    Ok((request_id, position(&executed)))
}

/// A provider approves (`declined` None) or declines a pending renewal; the patient is told it was answered.
pub async fn decide_renewal<L: EventLog>(
    store: &Store<L>,
    organization: &OrganizationSummary,
    id: Uuid,
    request_id: Uuid,
    declined: Option<Reason>,
    by: AccountId,
    ctx: &CommandContext,
) -> Result<i64> {
    let info = load(store, organization, id).await?;
    let profile = patient(store, organization, info.patient).await?;
    let notices = notice(
        &profile,
        MessageKind::RenewalAnswered,
        None,
        serde_json::json!({}),
        ctx.now,
    );
    let executed = run::<L, Medication>(
        store,
        &stream(id),
        Some(info.patient),
        ctx,
        "DecideRenewal",
        &[
            id.as_bytes(),
            request_id.as_bytes(),
            format!("{declined:?}").as_bytes(),
        ],
        |_| {
            Ok(Plan::with_outbox(
                organization.id.0,
                MedicationCommand::DecideRenewal {
                    request_id,
                    declined: declined.clone(),
                    by,
                },
                notices.clone(),
            ))
        },
    )
    .await?;
    Ok(position(&executed))
}
