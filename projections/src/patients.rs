//! Read model `patients`: the clinic's patient records, for staff, with whether and when each signed up.

use chrono::{DateTime, NaiveDate, Utc};
use deadpool_postgres::{Pool, Transaction};
use portal_commands::log::RecordedEvent;
use portal_domain::patient::{Patient, PatientEvent};
use portal_domain::{Decider, Personal};
use uuid::Uuid;

use crate::{decode_if, Projection, ProjectionError};

/// The patients projection.
pub struct Patients;

/// Its name, for read-your-writes waits.
pub const NAME: &str = "patients";

impl Projection for Patients {
    fn name(&self) -> &'static str {
        NAME
    }

    fn tables(&self) -> &'static [&'static str] {
        &["patients"]
    }

    async fn apply<'a>(
        &'a self,
        tx: &'a Transaction<'a>,
        events: &'a [RecordedEvent],
    ) -> Result<(), ProjectionError> {
        for recorded in events {
            let Some(event) = decode_if::<PatientEvent>(recorded, Patient::CATEGORY)? else {
                continue;
            };
            let Some(id) = recorded.stream.id() else {
                continue;
            };
            match event {
                PatientEvent::PatientRegistered(e) => {
                    let name = e.name.known();
                    tx.execute(
                        "INSERT INTO patients (id, organization_id, clinic_number, first_name, last_name, date_of_birth,
                                               email, phone, registered_at)
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                        &[
                            &id,
                            &e.organization_id.0,
                            &e.clinic_number.as_str(),
                            &name.map(|n| n.first.as_str()),
                            &name.map(|n| n.last.as_str()),
                            &e.date_of_birth.known().map(|d| d.date()),
                            &e.email.as_ref().and_then(Personal::known).map(|m| m.as_str()),
                            &e.phone.as_ref().and_then(Personal::known).map(|p| p.as_str()),
                            &e.at,
                        ],
                    )
                    .await?;
                }
                PatientEvent::PatientActivationCodeIssued(_) => {
                    tx.execute(
                        "UPDATE patients SET failed_sign_ups = 0, sign_up_locked = false, sign_up_locked_until = NULL
                         WHERE id = $1",
                        &[&id],
                    )
                    .await?;
                }
                PatientEvent::PatientSignUpFailed(_) => {
                    tx.execute(
                        "UPDATE patients SET failed_sign_ups = failed_sign_ups + 1 WHERE id = $1",
                        &[&id],
                    )
                    .await?;
                }
                PatientEvent::PatientSignUpLocked(e) => {
                    tx.execute(
                        "UPDATE patients SET sign_up_locked = true, sign_up_locked_until = $2 WHERE id = $1",
                        &[&id, &e.until],
                    )
                    .await?;
                }
                PatientEvent::PatientSignedUp(e) => {
                    tx.execute(
                        "UPDATE patients SET account_id = $2, signed_up_at = $3, failed_sign_ups = 0,
                             sign_up_locked = false, sign_up_locked_until = NULL
                         WHERE id = $1",
                        &[&id, &e.account_id.0, &e.at],
                    )
                    .await?;
                }
            }
        }
        Ok(())
    }
}

/// A patient record as staff see it.
#[derive(Clone, Debug, PartialEq)]
pub struct PatientRow {
    /// The record.
    pub id: Uuid,
    /// The number on appointment letters.
    pub clinic_number: String,
    /// Given name (None once erased).
    pub first_name: Option<String>,
    /// Family name.
    pub last_name: Option<String>,
    /// Date of birth.
    pub date_of_birth: Option<NaiveDate>,
    /// E-mail on file.
    pub email: Option<String>,
    /// Phone on file.
    pub phone: Option<String>,
    /// The portal account, once signed up.
    pub account_id: Option<Uuid>,
    /// When registered.
    pub registered_at: DateTime<Utc>,
    /// When signed up.
    pub signed_up_at: Option<DateTime<Utc>>,
    /// Failed sign-up attempts since the last code or success.
    pub failed_sign_ups: i32,
    /// Sign-up is locked (until `sign_up_locked_until`, or until a new code when that is None).
    pub sign_up_locked: bool,
    /// When a cool-down lock lifts.
    pub sign_up_locked_until: Option<DateTime<Utc>>,
}

/// Patient records of an organization, by name; `search` matches a clinic number exactly or a name in part.
pub async fn list(
    pool: &Pool,
    organization: Uuid,
    search: Option<&str>,
    limit: i64,
) -> Result<Vec<PatientRow>, ProjectionError> {
    let client = pool.get().await?;
    let pattern = search.map(|s| {
        format!(
            "%{}%",
            s.replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_")
        )
    });
    let number = search.map(|s| s.replace([' ', '-'], "").to_ascii_uppercase());
    let rows = client
        .query(
            "SELECT id, clinic_number, first_name, last_name, date_of_birth, email, phone, account_id, registered_at,
                    signed_up_at, failed_sign_ups, sign_up_locked, sign_up_locked_until
             FROM patients
             WHERE organization_id = $1
               AND ($2::text IS NULL OR clinic_number = $3 OR first_name ILIKE $2 OR last_name ILIKE $2)
             ORDER BY last_name, first_name, id
             LIMIT $4",
            &[&organization, &pattern, &number, &limit],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| PatientRow {
            id: r.get(0),
            clinic_number: r.get(1),
            first_name: r.get(2),
            last_name: r.get(3),
            date_of_birth: r.get(4),
            email: r.get(5),
            phone: r.get(6),
            account_id: r.get(7),
            registered_at: r.get(8),
            signed_up_at: r.get(9),
            failed_sign_ups: r.get(10),
            sign_up_locked: r.get(11),
            sign_up_locked_until: r.get(12),
        })
        .collect())
}

/// The terms in force of an organization: version and texts.
pub async fn current_terms(
    pool: &Pool,
    organization: Uuid,
) -> Result<Option<(i32, String, String, DateTime<Utc>)>, ProjectionError> {
    let client = pool.get().await?;
    let row = client
        .query_opt(
            "SELECT version, terms_of_use, privacy_practices, published_at FROM organization_terms
             WHERE organization_id = $1 ORDER BY version DESC LIMIT 1",
            &[&organization],
        )
        .await?;
    Ok(row.map(|r| (r.get(0), r.get(1), r.get(2), r.get(3))))
}
