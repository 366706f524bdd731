//! Medications and renewal requests.

use chrono::{DateTime, Utc};
use deadpool_postgres::Pool;
use portal_domain::care::medication::MedicationEvent;
use portal_domain::care::Party;
use portal_domain::Personal;
use uuid::Uuid;

use super::rows;
use crate::{params, writes::Writes, ProjectionError};

pub(super) fn apply(writes: &mut Writes, organization: Uuid, id: Uuid, event: MedicationEvent) {
    match event {
        MedicationEvent::MedicationPrescribed(e) => writes.execute(
            "INSERT INTO medications (id, organization_id, patient_id, name, instructions, prescriber_id, active,
                                      prescribed_at)
             VALUES ($1, $2, $3, $4, $5, $6, true, $7)",
            params![
                id,
                e.organization_id.0,
                e.patient_id.0,
                e.name.known().map(|n| n.as_str().to_owned()),
                e.instructions.known().map(|i| i.as_str().to_owned()),
                e.prescriber,
                e.at,
            ],
        ),
        MedicationEvent::MedicationDiscontinued(e) => writes.execute(
            "UPDATE medications SET active = false, discontinued_at = $2 WHERE id = $1",
            params![id, e.at],
        ),
        MedicationEvent::RenewalRequested(e) => {
            let proxy = match e.by {
                Party::Patient { proxy } => proxy.map(|p| p.0),
                Party::CareTeam { .. } => None,
            };
            writes.execute(
                "INSERT INTO renewal_requests (id, medication_id, organization_id, patient_id, note, requested_at,
                                               requested_by_proxy, status)
                 SELECT $1, $2, $3, patient_id, $4, $5, $6, 'pending' FROM medications WHERE id = $2",
                params![
                    e.request_id,
                    id,
                    organization,
                    e.note
                        .as_ref()
                        .and_then(Personal::known)
                        .map(|n| n.as_str().to_owned()),
                    e.at,
                    proxy,
                ],
            );
        }
        MedicationEvent::RenewalApproved(e) => writes.execute(
            "UPDATE renewal_requests SET status = 'approved', decided_by = $2, decided_at = $3 WHERE id = $1",
            params![e.request_id, e.by.0, e.at],
        ),
        MedicationEvent::RenewalDeclined(e) => writes.execute(
            "UPDATE renewal_requests SET status = 'declined', decided_by = $2, decided_at = $3, decline_reason = $4
             WHERE id = $1",
            params![
                e.request_id,
                e.by.0,
                e.at,
                e.reason.known().map(|r| r.as_str().to_owned()),
            ],
        ),
    }
}

/// A renewal request.
#[derive(Clone, Debug)]
pub struct RenewalRow {
    /// The request.
    pub id: Uuid,
    /// The medication.
    pub medication_id: Uuid,
    /// The patient's account.
    pub patient_id: Uuid,
    /// The note to the care team.
    pub note: Option<String>,
    /// When asked.
    pub requested_at: DateTime<Utc>,
    /// `pending`, `approved` or `declined`.
    pub status: String,
    /// When decided.
    pub decided_at: Option<DateTime<Utc>>,
    /// Why declined.
    pub decline_reason: Option<String>,
    /// The medication's name (None once erased).
    pub medication: Option<String>,
    /// The patient's name (None once erased).
    pub patient_name: Option<String>,
}

/// A medication with its renewal requests.
#[derive(Clone, Debug)]
pub struct MedicationRow {
    /// The medication.
    pub id: Uuid,
    /// The patient's account.
    pub patient_id: Uuid,
    /// What (None once erased).
    pub name: Option<String>,
    /// How to take it.
    pub instructions: Option<String>,
    /// The prescriber.
    pub prescriber_id: Uuid,
    /// Its name.
    pub prescriber: String,
    /// Still taken.
    pub active: bool,
    /// Recorded.
    pub prescribed_at: DateTime<Utc>,
    /// Renewal requests, oldest first.
    pub renewals: Vec<RenewalRow>,
}

const RENEWAL: &str =
    "SELECT q.id, q.medication_id, q.patient_id, q.note, q.requested_at, q.status, q.decided_at, q.decline_reason,
        m.name, nullif(concat_ws(' ', pa.first_name, pa.last_name), '')
     FROM renewal_requests q LEFT JOIN medications m ON m.id = q.medication_id
     LEFT JOIN accounts pa ON pa.id = q.patient_id";

fn renewal_row(r: &tokio_postgres::Row) -> RenewalRow {
    RenewalRow {
        id: r.get(0),
        medication_id: r.get(1),
        patient_id: r.get(2),
        note: r.get(3),
        requested_at: r.get(4),
        status: r.get(5),
        decided_at: r.get(6),
        decline_reason: r.get(7),
        medication: r.get(8),
        patient_name: r.get(9),
    }
}

/// A patient's medications, active ones first, each with its renewal requests.
pub async fn of_patient(
    pool: &Pool,
    organization: Uuid,
    patient: Uuid,
) -> Result<Vec<MedicationRow>, ProjectionError> {
    let client = pool.get().await?;
    let found = client
        .query(
            "SELECT m.id, m.patient_id, m.name, m.instructions, m.prescriber_id, coalesce(e.name, ''), m.active,
                    m.prescribed_at
             FROM medications m LEFT JOIN catalogue_entries e ON e.id = m.prescriber_id
             WHERE m.organization_id = $1 AND m.patient_id = $2
             ORDER BY m.active DESC, m.prescribed_at DESC, m.id LIMIT 500",
            &[&organization, &patient],
        )
        .await?;
    let renewals = rows(
        &client
            .query(
                &format!("{RENEWAL} WHERE q.organization_id = $1 AND q.patient_id = $2 ORDER BY q.requested_at, q.id"),
                &[&organization, &patient],
            )
            .await?,
        renewal_row,
    );
    Ok(rows(&found, |r| MedicationRow {
        id: r.get(0),
        patient_id: r.get(1),
        name: r.get(2),
        instructions: r.get(3),
        prescriber_id: r.get(4),
        prescriber: r.get(5),
        active: r.get(6),
        prescribed_at: r.get(7),
        renewals: vec![],
    })
    .into_iter()
    .map(|mut m| {
        m.renewals = renewals
            .iter()
            .filter(|r| r.medication_id == m.id)
            .cloned()
            .collect();
        m
    })
    .collect())
}

/// Renewal requests of the organization waiting for a decision, oldest first.
pub async fn pending(pool: &Pool, organization: Uuid) -> Result<Vec<RenewalRow>, ProjectionError> {
    let client = pool.get().await?;
    let found = client
        .query(
            &format!(
                "{RENEWAL} WHERE q.organization_id = $1 AND q.status = 'pending'
                 ORDER BY q.requested_at, q.id LIMIT 500"
            ),
            &[&organization],
        )
        .await?;
    Ok(rows(&found, renewal_row))
}
