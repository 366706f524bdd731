//! Proxy grants: whom a proxy may act for, and who may act for a patient.

use chrono::{DateTime, NaiveDate, Utc};
use deadpool_postgres::Pool;
use portal_domain::care::proxy::ProxyEvent;
use uuid::Uuid;

use super::rows;
use crate::{params, writes::Writes, ProjectionError};

pub(super) fn apply(writes: &mut Writes, organization: Uuid, patient: Uuid, event: ProxyEvent) {
    match event {
        ProxyEvent::ProxyAccessGranted(e) => writes.execute(
            "INSERT INTO proxy_grants (patient_id, proxy_id, organization_id, scope, ends_on, granted_at)
             VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (patient_id, proxy_id) DO UPDATE SET scope = EXCLUDED.scope, ends_on = EXCLUDED.ends_on,
                 granted_at = EXCLUDED.granted_at",
            params![
                patient,
                e.proxy_id.0,
                organization,
                e.scope.as_str(),
                e.ends_on,
                e.at,
            ],
        ),
        ProxyEvent::ProxyAccessRevoked(e) => writes.execute(
            "DELETE FROM proxy_grants WHERE patient_id = $1 AND proxy_id = $2",
            params![patient, e.proxy_id.0],
        ),
    }
}

/// A grant, with the names of both sides (empty once erased).
#[derive(Clone, Debug)]
pub struct GrantRow {
    /// The patient's account.
    pub patient_id: Uuid,
    /// The patient's name.
    pub patient_name: String,
    /// The proxy's account.
    pub proxy_id: Uuid,
    /// The proxy's name.
    pub proxy_name: String,
    /// `scheduling`, `scheduling_and_messages`, `all` (as granted; the age band may narrow it).
    pub scope: String,
    /// The last day.
    pub ends_on: NaiveDate,
    /// When granted.
    pub granted_at: DateTime<Utc>,
}

const GRANT: &str =
    "SELECT g.patient_id, coalesce(pa.first_name || ' ' || pa.last_name, ''), g.proxy_id,
        coalesce(pr.first_name || ' ' || pr.last_name, ''), g.scope, g.ends_on, g.granted_at
     FROM proxy_grants g
     LEFT JOIN accounts pa ON pa.id = g.patient_id
     LEFT JOIN accounts pr ON pr.id = g.proxy_id";

fn grant_row(r: &tokio_postgres::Row) -> GrantRow {
    GrantRow {
        patient_id: r.get(0),
        patient_name: r.get(1),
        proxy_id: r.get(2),
        proxy_name: r.get(3),
        scope: r.get(4),
        ends_on: r.get(5),
        granted_at: r.get(6),
    }
}

/// The patients `proxy` may act for on `today` (grants not yet ended).
pub async fn for_proxy(
    pool: &Pool,
    organization: Uuid,
    proxy: Uuid,
    today: NaiveDate,
) -> Result<Vec<GrantRow>, ProjectionError> {
    let client = pool.get().await?;
    let found = client
        .query(
            &format!(
                "{GRANT} WHERE g.organization_id = $1 AND g.proxy_id = $2 AND g.ends_on >= $3
                 ORDER BY g.granted_at, g.patient_id"
            ),
            &[&organization, &proxy, &today],
        )
        .await?;
    Ok(rows(&found, grant_row))
}

/// The proxies of a patient, ended ones included until revoked.
pub async fn of_patient(
    pool: &Pool,
    organization: Uuid,
    patient: Uuid,
) -> Result<Vec<GrantRow>, ProjectionError> {
    let client = pool.get().await?;
    let found = client
        .query(
            &format!(
                "{GRANT} WHERE g.organization_id = $1 AND g.patient_id = $2 ORDER BY g.granted_at, g.proxy_id"
            ),
            &[&organization, &patient],
        )
        .await?;
    Ok(rows(&found, grant_row))
}
