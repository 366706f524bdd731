//! The access log's tamper evidence: every row is chained to the one before it.
//!
//! A row's `hash` is an HMAC, under a key derived from the master key (which the database never holds), over the
//! previous row's hash and the row's own fields. Rows are appended one writer at a time (a transaction-scoped
//! advisory lock), so the chain follows the order of the ids. The application's database role may not change or
//! remove a row (migrations/0016_app_role.sql); the chain shows whether anyone else did: an altered row no longer
//! matches its hash, a removed one breaks the link of the next. `portal log verify` walks it. Rows written before
//! the chain existed have no hash and are counted, not checked.

use chrono::{DateTime, Utc};
use deadpool_postgres::Pool;
use uuid::Uuid;

use crate::log::LogError;
use crate::secrets::Secrets;

/// The advisory lock that makes access-log writers take turns.
const CHAIN_LOCK: i64 = 0x706f_7274_616c_0a11;

/// One read to record.
#[derive(Clone, Debug, PartialEq)]
pub struct AccessEntry {
    /// The organization.
    pub organization: Uuid,
    /// When.
    pub at: DateTime<Utc>,
    /// Who read.
    pub actor: Uuid,
    /// Their role (`staff`, `provider`, `auditor`, `proxy`).
    pub actor_role: String,
    /// The patient's account, record or sign-up request.
    pub patient_account: Option<Uuid>,
    /// The patient record.
    pub patient_record: Option<Uuid>,
    /// The sign-up request.
    pub signup_request: Option<Uuid>,
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

impl AccessEntry {
    /// The row's link in the chain.
    fn hash(&self, secrets: &Secrets, previous: &[u8]) -> Vec<u8> {
        let uuid = |id: &Option<Uuid>| id.map(|id| id.as_bytes().to_vec()).unwrap_or_default();
        let text = |value: &Option<String>| value.clone().unwrap_or_default().into_bytes();
        secrets
            .chain_access(
                previous,
                &[
                    self.organization.as_bytes(),
                    &self.at.timestamp_micros().to_be_bytes(),
                    self.actor.as_bytes(),
                    self.actor_role.as_bytes(),
                    &uuid(&self.patient_account),
                    &uuid(&self.patient_record),
                    &uuid(&self.signup_request),
                    self.resource.as_bytes(),
                    self.field.as_bytes(),
                    &text(&self.client_ip),
                    &text(&self.user_agent),
                    &uuid(&self.correlation_id),
                ],
            )
            .to_vec()
    }
}

/// Appends `entries` to the access log, chained, in one transaction.
pub async fn append(
    pool: &Pool,
    secrets: &Secrets,
    entries: &[AccessEntry],
) -> Result<(), LogError> {
    if entries.is_empty() {
        return Ok(());
    }
    let mut client = pool.get().await?;
    let tx = client.transaction().await?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&CHAIN_LOCK])
        .await?;
    let mut previous: Vec<u8> = tx
        .query_opt(
            "SELECT hash FROM access_log WHERE hash IS NOT NULL ORDER BY id DESC LIMIT 1",
            &[],
        )
        .await?
        .map(|row| row.get(0))
        .unwrap_or_default();
    for entry in entries {
        let hash = entry.hash(secrets, &previous);
        tx.execute(
            "INSERT INTO access_log (organization_id, at, actor_id, actor_role, patient_account_id, patient_record_id,
                                     signup_request_id, resource, field, client_ip, user_agent, correlation_id, hash)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
            &[
                &entry.organization,
                &entry.at,
                &entry.actor,
                &entry.actor_role,
                &entry.patient_account,
                &entry.patient_record,
                &entry.signup_request,
                &entry.resource,
                &entry.field,
                &entry.client_ip,
                &entry.user_agent,
                &entry.correlation_id,
                &hash,
            ],
        )
        .await?;
        previous = hash;
    }
    tx.commit().await?;
    Ok(())
}

/// What the walk of the access log found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccessReport {
    /// Rows whose link was checked.
    pub chained: u64,
    /// Rows written before the chain existed (not checked).
    pub unchained: u64,
    /// The first row that does not match its link (altered, or the row before it removed).
    pub broken_at: Option<i64>,
}

/// Walks the access log in id order and recomputes every link.
pub async fn verify(pool: &Pool, secrets: &Secrets) -> Result<AccessReport, LogError> {
    let client = pool.get().await?;
    let rows = client
        .query(
            "SELECT id, organization_id, at, actor_id, actor_role, patient_account_id, patient_record_id,
                    signup_request_id, resource, field, client_ip, user_agent, correlation_id, hash
             FROM access_log ORDER BY id",
            &[],
        )
        .await?;
    let mut report = AccessReport {
        chained: 0,
        unchained: 0,
        broken_at: None,
    };
    let mut previous: Option<Vec<u8>> = None;
    for row in rows {
        let id: i64 = row.get(0);
        let stored: Option<Vec<u8>> = row.get(13);
        let Some(stored) = stored else {
            if previous.is_some() {
                // A row without a link after the chain began: written past the application.
                report.broken_at = Some(id);
                return Ok(report);
            }
            report.unchained += 1;
            continue;
        };
        let entry = AccessEntry {
            organization: row.get(1),
            at: row.get(2),
            actor: row.get(3),
            actor_role: row.get(4),
            patient_account: row.get(5),
            patient_record: row.get(6),
            signup_request: row.get(7),
            resource: row.get(8),
            field: row.get(9),
            client_ip: row.get(10),
            user_agent: row.get(11),
            correlation_id: row.get(12),
        };
        let expected = entry.hash(secrets, previous.as_deref().unwrap_or_default());
        if !crate::secrets::same_bytes(&expected, &stored) {
            report.broken_at = Some(id);
            return Ok(report);
        }
        report.chained += 1;
        previous = Some(stored);
    }
    Ok(report)
}
