//! Recording reads of patients' data in the access log, and the auditors' query over it.

use async_graphql::{Context, Object, Result, SimpleObject, ID};
use chrono::{DateTime, Utc};
use portal_domain::session::Principal;

use super::errors::ApiError;
use super::history::auditor;
use super::mutation::context;
use super::types::PageInfo;
use crate::access::{self, AccessFilter, Whose};

/// Records the read before the data is returned; when the log cannot be written, the read fails.
pub async fn audited(
    ctx: &Context<'_>,
    principal: &Principal,
    resource: &str,
    field: &str,
    whose: &[Whose],
) -> Result<(), ApiError> {
    let (state, request) = context(ctx);
    access::record(
        &state.pool,
        &state.store.secrets,
        principal,
        request,
        resource,
        field,
        whose,
    )
    .await
    .map_err(|error| {
        tracing::error!(%error, "could not record a read in the access log");
        ApiError::unavailable()
    })
}

/// One read of a patient's data.
#[derive(SimpleObject)]
pub struct AccessLogEntry {
    /// The entry.
    pub id: ID,
    /// When.
    pub at: DateTime<Utc>,
    /// Who read: their account.
    pub actor_id: ID,
    /// Their role then (`staff`, `auditor`).
    pub actor_role: String,
    /// The patient's account, when known.
    pub patient_account_id: Option<ID>,
    /// The patient record, when known.
    pub patient_record_id: Option<ID>,
    /// The sign-up request, for a would-be patient.
    pub signup_request_id: Option<ID>,
    /// The kind of data (`patient_record`, `appointment`, `account`, `sign_up_request`, `history`).
    pub resource: String,
    /// The API field that returned it.
    pub field: String,
    /// From where: the client's address.
    pub client_ip: Option<String>,
    /// The client's user agent.
    pub user_agent: Option<String>,
    /// The request (`X-Correlation-Id`).
    pub correlation_id: Option<ID>,
}

/// An edge of the access log.
#[derive(SimpleObject)]
pub struct AccessLogEdge {
    /// Opaque cursor.
    pub cursor: String,
    /// The read.
    pub node: AccessLogEntry,
}

/// A page of the access log, oldest first.
#[derive(SimpleObject)]
pub struct AccessLogConnection {
    /// The reads.
    pub edges: Vec<AccessLogEdge>,
    /// Paging.
    pub page_info: PageInfo,
}

/// The auditors' query of the access log.
#[derive(Default)]
pub struct AccessLogQuery;

fn id(value: Option<uuid::Uuid>) -> Option<ID> {
    value.map(|v| ID(v.to_string()))
}

#[Object]
impl AccessLogQuery {
    /// Who read patients' data in your organization (auditors only), oldest first: all reads, or those of one
    /// patient (`patientId`: their account or record id), of one reader (`actorId`), in `[from, to)`.
    #[allow(clippy::too_many_arguments)]
    async fn access_log(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only reads of this patient's data (their account).")] patient_id: Option<
            ID,
        >,
        #[graphql(desc = "Only reads by this account.")] actor_id: Option<ID>,
        #[graphql(desc = "Reads at or after this time.")] from: Option<DateTime<Utc>>,
        #[graphql(desc = "Reads before this time.")] to: Option<DateTime<Utc>>,
        #[graphql(default = 100, desc = "Page size.")] first: i32,
        #[graphql(desc = "Cursor of the last item of the previous page (`pageInfo.endCursor`).")]
        after: Option<String>,
    ) -> Result<AccessLogConnection> {
        let principal = auditor(ctx).await?;
        if !(1..=500).contains(&first) {
            return Err(ApiError::new("PAGE_SIZE_INVALID", "first is 1 to 500")
                .on("first")
                .into());
        }
        let filter = AccessFilter {
            patient: patient_id
                .as_ref()
                .map(|p| super::query::account_id(p, "patientId"))
                .transpose()?,
            actor: actor_id
                .as_ref()
                .map(|a| super::query::account_id(a, "actorId"))
                .transpose()?,
            from,
            to,
            after: after
                .as_ref()
                .map(|c| {
                    c.parse::<i64>().map_err(|_| {
                        ApiError::new("CURSOR_INVALID", "this is not a cursor of the access log")
                            .on("after")
                    })
                })
                .transpose()?,
        };
        let (state, _) = context(ctx);
        let mut rows = access::read(
            &state.pool,
            principal.organization.0,
            &filter,
            i64::from(first) + 1,
        )
        .await
        .map_err(|e| ApiError::internal(&e))?;
        let has_next_page = rows.len() > first as usize;
        rows.truncate(first as usize);
        let edges: Vec<AccessLogEdge> = rows
            .into_iter()
            .map(|r| AccessLogEdge {
                cursor: r.id.to_string(),
                node: AccessLogEntry {
                    id: super::ids::derived("AccessLogEntry", &[&principal.organization.0, &r.id]),
                    at: r.at,
                    actor_id: ID(r.actor_id.to_string()),
                    actor_role: r.actor_role,
                    patient_account_id: id(r.whose.account),
                    patient_record_id: id(r.whose.record),
                    signup_request_id: id(r.whose.request),
                    resource: r.resource,
                    field: r.field,
                    client_ip: r.client_ip,
                    user_agent: r.user_agent,
                    correlation_id: id(r.correlation_id),
                },
            })
            .collect();
        Ok(AccessLogConnection {
            page_info: PageInfo::of(&edges, |e| &e.cursor, has_next_page, after.is_some()),
            edges,
        })
    }
}
