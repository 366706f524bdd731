//! Read model `patients`: the clinic's patient records, for staff, with whether and when each signed up.

use chrono::{DateTime, NaiveDate, Utc};
use deadpool_postgres::Pool;
use portal_commands::log::RecordedEvent;
use portal_domain::account::{Account, AccountEvent};
use portal_domain::patient::{Patient, PatientEvent};
use portal_domain::signup_request::{SignUpRequest, SignUpRequestEvent};
use portal_domain::{Decider, Personal};
use uuid::Uuid;

use crate::{decode_if, params, writes::Writes, Projection, ProjectionError};

/// The patients projection.
pub struct Patients;

/// Its name, for read-your-writes waits.
pub const NAME: &str = "patients";

impl Projection for Patients {
    fn name(&self) -> &'static str {
        NAME
    }

    fn tables(&self) -> &'static [&'static str] {
        &["patients", "signup_requests"]
    }

    fn apply(&self, writes: &mut Writes, events: &[RecordedEvent]) -> Result<(), ProjectionError> {
        for recorded in events {
            let Some(id) = recorded.stream.id() else {
                continue;
            };
            if recorded.event_type == "PersonalDataErased" {
                if let Some(AccountEvent::PersonalDataErased(e)) =
                    decode_if::<AccountEvent>(recorded, Account::CATEGORY)?
                {
                    erase(writes, &e.subjects)?;
                }
                continue;
            }
            if let Some(event) = decode_if::<SignUpRequestEvent>(recorded, SignUpRequest::CATEGORY)?
            {
                request(writes, recorded.tenant, id, event)?;
                continue;
            }
            let Some(event) = decode_if::<PatientEvent>(recorded, Patient::CATEGORY)? else {
                continue;
            };
            match event {
                PatientEvent::PatientRegistered(e) => {
                    let name = e.name.known();
                    writes.execute(
                        "INSERT INTO patients (id, organization_id, clinic_number, first_name, last_name, date_of_birth,
                                               email, phone, registered_at)
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                        params![
                            id,
                            e.organization_id.0,
                            e.clinic_number.known().map(|c| c.as_str()).map(str::to_owned),
                            name.map(|n| n.first.as_str()).map(str::to_owned),
                            name.map(|n| n.last.as_str()).map(str::to_owned),
                            e.date_of_birth.known().map(|d| d.date()),
                            e.email.as_ref().and_then(Personal::known).map(|m| m.as_str()).map(str::to_owned),
                            e.phone.as_ref().and_then(Personal::known).map(|p| p.as_str()).map(str::to_owned),
                            e.at,
                        ],
                    );
                }
                PatientEvent::PatientActivationCodeIssued(_) => {
                    writes.execute(
                        "UPDATE patients SET failed_sign_ups = 0, sign_up_locked = false, sign_up_locked_until = NULL
                         WHERE id = $1",
                        params![id],
                    );
                }
                PatientEvent::PatientSignUpFailed(_) => {
                    writes.execute(
                        "UPDATE patients SET failed_sign_ups = failed_sign_ups + 1 WHERE id = $1",
                        params![id],
                    );
                }
                PatientEvent::PatientSignUpLocked(e) => {
                    writes.execute(
                        "UPDATE patients SET sign_up_locked = true, sign_up_locked_until = $2 WHERE id = $1",
                        params![id, e.until],
                    );
                }
                PatientEvent::PatientSignedUp(e) => {
                    writes.execute(
                        "UPDATE patients SET account_id = $2, signed_up_at = $3, failed_sign_ups = 0,
                             sign_up_locked = false, sign_up_locked_until = NULL
                         WHERE id = $1",
                        params![id, e.account_id.0, e.at],
                    );
                }
            }
        }
        Ok(())
    }
}

/// Drops the personal data of erased patient records and of the requests tied to them.
fn erase(writes: &mut Writes, subjects: &[Uuid]) -> Result<(), ProjectionError> {
    writes.execute(
        "UPDATE patients SET clinic_number = NULL, first_name = NULL, last_name = NULL, date_of_birth = NULL,
             email = NULL, phone = NULL
         WHERE id = ANY($1)",
        params![subjects.to_vec()],
    );
    writes.execute(
        "UPDATE signup_requests SET first_name = NULL, last_name = NULL, date_of_birth = NULL, email = NULL,
             phone = NULL, clinic_number = NULL, reason = NULL
         WHERE id = ANY($1) OR patient_id = ANY($1)",
        params![subjects.to_vec()],
    );
    Ok(())
}

fn request(
    writes: &mut Writes,
    organization: Uuid,
    id: Uuid,
    event: SignUpRequestEvent,
) -> Result<(), ProjectionError> {
    match event {
        SignUpRequestEvent::ActivationCodeRequested(e) => {
            let details = e.details.known();
            writes.execute(
                "INSERT INTO signup_requests (id, organization_id, first_name, last_name, date_of_birth, email, phone,
                                              clinic_number, status, submitted_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'pending', $9)",
                params![
                    id,
                    organization,
                    details.map(|d| d.name.first.as_str()).map(str::to_owned),
                    details.map(|d| d.name.last.as_str()).map(str::to_owned),
                    details.map(|d| d.date_of_birth.date()),
                    details.map(|d| d.email.as_str()).map(str::to_owned),
                    details.and_then(|d| d.phone.as_ref()).map(|p| p.as_str()).map(str::to_owned),
                    details.and_then(|d| d.clinic_number.as_ref()).map(|c| c.as_str()).map(str::to_owned),
                    e.at,
                ],
            );
        }
        SignUpRequestEvent::SignUpRequestApproved(e) => {
            writes.execute(
                "UPDATE signup_requests SET status = 'approved', decided_at = $2, decided_by = $3, patient_id = $4
                 WHERE id = $1",
                params![id, e.at, e.by.0, e.patient_id.0],
            );
        }
        SignUpRequestEvent::SignUpRequestRejected(e) => {
            writes.execute(
                "UPDATE signup_requests SET status = 'rejected', decided_at = $2, decided_by = $3, reason = $4
                 WHERE id = $1",
                params![id, e.at, e.by.0, e.reason.known().cloned()],
            );
        }
    }
    Ok(())
}

/// A request for an activation code, as the staff queue shows it.
#[derive(Clone, Debug, PartialEq)]
pub struct SignUpRequestRow {
    /// The request.
    pub id: Uuid,
    /// Given name.
    pub first_name: Option<String>,
    /// Family name.
    pub last_name: Option<String>,
    /// Date of birth.
    pub date_of_birth: Option<NaiveDate>,
    /// Where the code goes.
    pub email: Option<String>,
    /// Phone to call back.
    pub phone: Option<String>,
    /// The clinic number, if given.
    pub clinic_number: Option<String>,
    /// `pending`, `approved` or `rejected`.
    pub status: String,
    /// When submitted.
    pub submitted_at: DateTime<Utc>,
    /// The record it was matched to.
    pub patient_id: Option<Uuid>,
}

/// Requests of an organization with `status`, oldest first (the queue).
pub async fn requests(
    pool: &Pool,
    organization: Uuid,
    status: &str,
    limit: i64,
) -> Result<Vec<SignUpRequestRow>, ProjectionError> {
    let client = pool.get().await?;
    let rows = client
        .query(
            &format!(
                "SELECT {REQUEST_COLUMNS} FROM signup_requests WHERE organization_id = $1 AND status = $2
                 ORDER BY submitted_at, id LIMIT $3"
            ),
            &[&organization, &status, &limit],
        )
        .await?;
    Ok(rows.iter().map(request_row).collect())
}

/// One request for a code of an organization.
pub async fn find_request(
    pool: &Pool,
    organization: Uuid,
    id: Uuid,
) -> Result<Option<SignUpRequestRow>, ProjectionError> {
    let client = pool.get().await?;
    let row = client
        .query_opt(
            &format!(
                "SELECT {REQUEST_COLUMNS} FROM signup_requests WHERE organization_id = $1 AND id = $2"
            ),
            &[&organization, &id],
        )
        .await?;
    Ok(row.as_ref().map(request_row))
}

const REQUEST_COLUMNS: &str =
    "id, first_name, last_name, date_of_birth, email, phone, clinic_number, status, submitted_at, patient_id";

fn request_row(r: &tokio_postgres::Row) -> SignUpRequestRow {
    SignUpRequestRow {
        id: r.get(0),
        first_name: r.get(1),
        last_name: r.get(2),
        date_of_birth: r.get(3),
        email: r.get(4),
        phone: r.get(5),
        clinic_number: r.get(6),
        status: r.get(7),
        submitted_at: r.get(8),
        patient_id: r.get(9),
    }
}

/// A patient record as staff see it.
#[derive(Clone, Debug, PartialEq)]
pub struct PatientRow {
    /// The record.
    pub id: Uuid,
    /// The number on appointment letters.
    pub clinic_number: Option<String>,
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
    let pattern = search.map(crate::contains_pattern);
    let number = search.map(|s| s.replace([' ', '-'], "").to_ascii_uppercase());
    let rows = client
        .query(
            &format!(
                "SELECT {PATIENT_COLUMNS} FROM patients
                 WHERE organization_id = $1
                   AND ($2::text IS NULL OR clinic_number = $3 OR first_name ILIKE $2 OR last_name ILIKE $2)
                 ORDER BY last_name, first_name, id
                 LIMIT $4"
            ),
            &[&organization, &pattern, &number, &limit],
        )
        .await?;
    Ok(rows.iter().map(patient).collect())
}

/// One patient record of an organization.
pub async fn find(
    pool: &Pool,
    organization: Uuid,
    id: Uuid,
) -> Result<Option<PatientRow>, ProjectionError> {
    let client = pool.get().await?;
    let row = client
        .query_opt(
            &format!(
                "SELECT {PATIENT_COLUMNS} FROM patients WHERE organization_id = $1 AND id = $2"
            ),
            &[&organization, &id],
        )
        .await?;
    Ok(row.as_ref().map(patient))
}

const PATIENT_COLUMNS: &str =
    "id, clinic_number, first_name, last_name, date_of_birth, email, phone, account_id, \
    registered_at, signed_up_at, failed_sign_ups, sign_up_locked, sign_up_locked_until";

fn patient(r: &tokio_postgres::Row) -> PatientRow {
    PatientRow {
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
    }
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

/// The date of birth on the record of the patient with this portal account (None: no record, or erased).
pub async fn birth_date(
    pool: &Pool,
    organization: Uuid,
    account: Uuid,
) -> Result<Option<NaiveDate>, ProjectionError> {
    let client = pool.get().await?;
    let row = client
        .query_opt(
            "SELECT date_of_birth FROM patients WHERE organization_id = $1 AND account_id = $2
             ORDER BY signed_up_at DESC NULLS LAST LIMIT 1",
            &[&organization, &account],
        )
        .await?;
    Ok(row.and_then(|r| r.get(0)))
}
