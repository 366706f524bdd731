//! The access log: every read of a patient's data by staff, providers or auditors is recorded (who, whose, what,
//! when, from where) before the data leaves the server. If it cannot be recorded, the data is not returned.
//! HIPAA's audit-control standard (45 CFR 164.312(b)) is the reference.

use deadpool_postgres::Pool;
use portal_commands::access_log::AccessEntry;
use portal_commands::secrets::Secrets;
use portal_domain::account::Role;
use portal_domain::session::Principal;
use uuid::Uuid;

use crate::request::RequestContext;

/// Whose data was read.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Whose {
    /// The patient's portal account.
    pub account: Option<Uuid>,
    /// The patient record.
    pub record: Option<Uuid>,
    /// A sign-up request (a would-be patient).
    pub request: Option<Uuid>,
}

impl Whose {
    /// A patient known by their account.
    pub fn account(id: Uuid) -> Self {
        Self {
            account: Some(id),
            ..Self::default()
        }
    }

    fn is_someone(&self) -> bool {
        self.account.is_some() || self.record.is_some() || self.request.is_some()
    }
}

/// Why a read could not be recorded.
#[derive(Debug, thiserror::Error)]
pub enum AccessLogError {
    /// The database refused or failed.
    #[error("database error: {0}")]
    Database(#[from] tokio_postgres::Error),
    /// No connection could be had.
    #[error("connection pool error: {0}")]
    Pool(#[from] deadpool_postgres::PoolError),
    /// The chained append failed.
    #[error(transparent)]
    Log(#[from] portal_commands::log::LogError),
}

/// Records that `principal` read the data of `whose` (one row each) through `field`. Patients reading their own
/// data are not recorded; everyone else is.
pub async fn record(
    pool: &Pool,
    secrets: &Secrets,
    principal: &Principal,
    request: &RequestContext,
    resource: &str,
    field: &str,
    whose: &[Whose],
) -> Result<(), AccessLogError> {
    let whose: Vec<&Whose> = whose
        .iter()
        .filter(|w| w.is_someone())
        .filter(|w| !(principal.role == Role::Patient && w.account == Some(principal.account.0)))
        .collect();
    insert(
        pool,
        secrets,
        principal,
        principal.role.as_str(),
        request,
        (resource, field),
        &whose,
    )
    .await
}

/// Records that a proxy (`principal`, the proxy signed in) read the data of the patient they act for.
pub async fn record_proxy(
    pool: &Pool,
    secrets: &Secrets,
    principal: &Principal,
    request: &RequestContext,
    resource: &str,
    field: &str,
    patient: Uuid,
) -> Result<(), AccessLogError> {
    let whose = Whose::account(patient);
    insert(
        pool,
        secrets,
        principal,
        "proxy",
        request,
        (resource, field),
        &[&whose],
    )
    .await
}

async fn insert(
    pool: &Pool,
    secrets: &Secrets,
    principal: &Principal,
    role: &str,
    request: &RequestContext,
    (resource, field): (&str, &str),
    whose: &[&Whose],
) -> Result<(), AccessLogError> {
    let entries: Vec<AccessEntry> = whose
        .iter()
        .map(|w| AccessEntry {
            organization: principal.organization.0,
            at: request.now,
            actor: principal.account.0,
            actor_role: role.to_owned(),
            patient_account: w.account,
            patient_record: w.record,
            signup_request: w.request,
            resource: resource.to_owned(),
            field: field.to_owned(),
            client_ip: request.client_ip.clone(),
            user_agent: request.user_agent.clone(),
            correlation_id: Some(request.correlation_id),
        })
        .collect();
    portal_commands::access_log::append(pool, secrets, &entries).await?;
    Ok(())
}

/// One recorded read.
#[derive(Clone, Debug, PartialEq)]
pub struct AccessRow {
    /// Its id (ascending in the order recorded).
    pub id: i64,
    /// When.
    pub at: chrono::DateTime<chrono::Utc>,
    /// Who read.
    pub actor_id: Uuid,
    /// Their role.
    pub actor_role: String,
    /// Whose data.
    pub whose: Whose,
    /// The kind of data.
    pub resource: String,
    /// The API field that returned it.
    pub field: String,
    /// From where.
    pub client_ip: Option<String>,
    /// With what.
    pub user_agent: Option<String>,
    /// The request.
    pub correlation_id: Option<Uuid>,
}

/// What part of the access log to read.
#[derive(Clone, Debug, Default)]
pub struct AccessFilter {
    /// Reads of this patient (account or record id; the other id of the same patient counts too).
    pub patient: Option<Uuid>,
    /// Reads by this account.
    pub actor: Option<Uuid>,
    /// From this time on.
    pub from: Option<chrono::DateTime<chrono::Utc>>,
    /// Before this time.
    pub to: Option<chrono::DateTime<chrono::Utc>>,
    /// After this id (paging).
    pub after: Option<i64>,
}

/// An organization's access log, oldest first, at most `limit` rows.
pub async fn read(
    pool: &Pool,
    organization: Uuid,
    filter: &AccessFilter,
    limit: i64,
) -> Result<Vec<AccessRow>, AccessLogError> {
    let client = pool.get().await?;
    let rows = client
        .query(
            "SELECT l.id, l.at, l.actor_id, l.actor_role, l.patient_account_id, l.patient_record_id,
                    l.signup_request_id, l.resource, l.field, l.client_ip, l.user_agent, l.correlation_id
             FROM access_log l
             WHERE l.organization_id = $1
               AND ($2::uuid IS NULL
                    OR l.patient_account_id = $2 OR l.patient_record_id = $2
                    OR l.patient_account_id IN (SELECT account_id FROM patients WHERE id = $2)
                    OR l.patient_record_id IN (SELECT id FROM patients WHERE account_id = $2))
               AND ($3::uuid IS NULL OR l.actor_id = $3)
               AND ($4::timestamptz IS NULL OR l.at >= $4)
               AND ($5::timestamptz IS NULL OR l.at < $5)
               AND ($6::bigint IS NULL OR l.id > $6)
             ORDER BY l.id LIMIT $7",
            &[
                &organization,
                &filter.patient,
                &filter.actor,
                &filter.from,
                &filter.to,
                &filter.after,
                &limit,
            ],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| AccessRow {
            id: r.get(0),
            at: r.get(1),
            actor_id: r.get(2),
            actor_role: r.get(3),
            whose: Whose {
                account: r.get(4),
                record: r.get(5),
                request: r.get(6),
            },
            resource: r.get(7),
            field: r.get(8),
            client_ip: r.get(9),
            user_agent: r.get(10),
            correlation_id: r.get(11),
        })
        .collect())
}
