//! Test results: held back until released, the history of each test, and those due for release.

use chrono::{DateTime, Utc};
use deadpool_postgres::Pool;
use portal_domain::care::test_result::{ReleasedBy, ResultValue, TestResultEvent};
use uuid::Uuid;

use super::rows;
use crate::{params, writes::Writes, ProjectionError};

pub(super) fn apply(writes: &mut Writes, id: Uuid, event: TestResultEvent) {
    match event {
        TestResultEvent::TestResultRecorded(e) => {
            let (value, unit, report) = match e.value.known() {
                Some(ResultValue::Measured { value, unit }) => {
                    (Some(value.clone()), unit.clone(), None)
                }
                Some(ResultValue::Report { text }) => (None, None, Some(text.as_str().to_owned())),
                None => (None, None, None),
            };
            writes.execute(
                "INSERT INTO test_results (id, organization_id, patient_id, test_code, test_name, value, unit, report,
                                           flag, reference_range, ordering_provider_id, observed_at, recorded_at,
                                           recorded_by, release_due_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
                params![
                    id,
                    e.organization_id.0,
                    e.patient_id.0,
                    e.test_code.as_str().to_owned(),
                    e.test_name.known().map(|n| n.as_str().to_owned()),
                    value,
                    unit,
                    report,
                    e.flag.known().map(|f| f.as_str().to_owned()),
                    e.reference_range.map(|r| r.as_str().to_owned()),
                    e.ordering_provider,
                    e.observed_at,
                    e.at,
                    e.by.0,
                    e.release_due_at,
                ],
            );
        }
        TestResultEvent::TestResultReleased(e) => {
            let by = match e.by {
                ReleasedBy::Provider { by } => Some(by.0),
                ReleasedBy::Automatic => None,
            };
            writes.execute(
                "UPDATE test_results SET released_at = $2, released_by = $3 WHERE id = $1",
                params![id, e.at, by],
            );
        }
    }
}

/// A result.
#[derive(Clone, Debug)]
pub struct ResultRow {
    /// The result.
    pub id: Uuid,
    /// The patient's account.
    pub patient_id: Uuid,
    /// The test's code.
    pub test_code: String,
    /// Its name.
    pub test_name: Option<String>,
    /// A measured value.
    pub value: Option<String>,
    /// Its unit.
    pub unit: Option<String>,
    /// A report in words.
    pub report: Option<String>,
    /// `normal`, `low`, `high`, `abnormal`, `critical`.
    pub flag: Option<String>,
    /// The reference range.
    pub reference_range: Option<String>,
    /// The ordering provider.
    pub ordering_provider_id: Uuid,
    /// Its name.
    pub ordering_provider: String,
    /// When observed.
    pub observed_at: DateTime<Utc>,
    /// When recorded.
    pub recorded_at: DateTime<Utc>,
    /// When it is released by itself.
    pub release_due_at: Option<DateTime<Utc>>,
    /// When it was released (None: held back).
    pub released_at: Option<DateTime<Utc>>,
    /// The provider who released it (None with `released_at`: released by itself).
    pub released_by: Option<Uuid>,
    /// The patient's name (None once erased).
    pub patient_name: Option<String>,
}

const RESULT: &str = "SELECT r.id, r.patient_id, r.test_code, r.test_name, r.value, r.unit, r.report, r.flag,
        r.reference_range, r.ordering_provider_id, coalesce(e.name, ''), r.observed_at, r.recorded_at,
        r.release_due_at, r.released_at, r.released_by, nullif(concat_ws(' ', pa.first_name, pa.last_name), '')
     FROM test_results r LEFT JOIN catalogue_entries e ON e.id = r.ordering_provider_id
     LEFT JOIN accounts pa ON pa.id = r.patient_id";

fn result_row(r: &tokio_postgres::Row) -> ResultRow {
    ResultRow {
        id: r.get(0),
        patient_id: r.get(1),
        test_code: r.get(2),
        test_name: r.get(3),
        value: r.get(4),
        unit: r.get(5),
        report: r.get(6),
        flag: r.get(7),
        reference_range: r.get(8),
        ordering_provider_id: r.get(9),
        ordering_provider: r.get(10),
        observed_at: r.get(11),
        recorded_at: r.get(12),
        release_due_at: r.get(13),
        released_at: r.get(14),
        released_by: r.get(15),
        patient_name: r.get(16),
    }
}

/// A patient's results, latest observed first, optionally of one test only; `released_only` for the patient's side.
pub async fn of_patient(
    pool: &Pool,
    organization: Uuid,
    patient: Uuid,
    test_code: Option<&str>,
    released_only: bool,
) -> Result<Vec<ResultRow>, ProjectionError> {
    let client = pool.get().await?;
    let found = client
        .query(
            &format!(
                "{RESULT} WHERE r.organization_id = $1 AND r.patient_id = $2
                   AND ($3::text IS NULL OR r.test_code = $3)
                   AND (NOT $4 OR r.released_at IS NOT NULL)
                 ORDER BY r.observed_at DESC, r.id LIMIT 500"
            ),
            &[&organization, &patient, &test_code, &released_only],
        )
        .await?;
    Ok(rows(&found, result_row))
}

/// Results of the organization held back, oldest first (for providers to review).
pub async fn held(pool: &Pool, organization: Uuid) -> Result<Vec<ResultRow>, ProjectionError> {
    let client = pool.get().await?;
    let found = client
        .query(
            &format!(
                "{RESULT} WHERE r.organization_id = $1 AND r.released_at IS NULL
                 ORDER BY r.recorded_at, r.id LIMIT 500"
            ),
            &[&organization],
        )
        .await?;
    Ok(rows(&found, result_row))
}

/// Results due for release by themselves at `now`, with their organization, at most `limit`.
pub async fn due(
    pool: &Pool,
    now: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<(Uuid, Uuid)>, ProjectionError> {
    let client = pool.get().await?;
    let found = client
        .query(
            "SELECT organization_id, id FROM test_results
             WHERE released_at IS NULL AND release_due_at <= $1
             ORDER BY release_due_at LIMIT $2",
            &[&now, &limit],
        )
        .await?;
    Ok(rows(&found, |r| (r.get(0), r.get(1))))
}
