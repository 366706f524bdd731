//! The outbox as staff see it: its messages, newest first and filtered, and re-sending one as a new message. The
//! text of a message is never read here: it may hold a code or a link meant for one person.

use chrono::{DateTime, Utc};
use deadpool_postgres::Pool;
use portal_domain::values::MessageKind;
use tokio_postgres::Row;
use uuid::Uuid;

use crate::log::LogError;
use crate::outbox::carries_secret;

/// One message and what happened to it.
#[derive(Debug, Clone)]
pub struct DeliveryRow {
    /// Its id (also the e-mail's Message-ID).
    pub id: Uuid,
    /// Its kind as stored (`activation`, ...).
    pub kind: String,
    /// `email` or `sms`.
    pub channel: String,
    /// The address or number (empty once erased).
    pub recipient: String,
    /// The subject it was sent with.
    pub subject: String,
    /// `pending`, `sent`, `dead` or `withdrawn`.
    pub status: String,
    /// A pending text waiting for the texting hours.
    pub held: bool,
    /// Attempts so far.
    pub attempts: i32,
    /// When it was written.
    pub created_at: DateTime<Utc>,
    /// When it is (or was) due.
    pub due_at: DateTime<Utc>,
    /// When it was sent.
    pub sent_at: Option<DateTime<Utc>>,
    /// When it was last tried.
    pub last_attempt_at: Option<DateTime<Utc>>,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
    /// The provider's id of it.
    pub provider_id: Option<String>,
    /// The message this one sends again.
    pub resent_from: Option<Uuid>,
    /// The patient it is about, if any (reading it is a read of their data).
    pub subject_id: Option<Uuid>,
}

impl DeliveryRow {
    /// Why it may not be sent again, if it may not.
    pub fn why_not_resendable(&self) -> Option<&'static str> {
        why_not_resendable(&self.kind, &self.status, &self.recipient)
    }
}

const COLUMNS: &str =
    "id, kind, channel, recipient, subject, status, held, attempts, created_at, due_at,
     sent_at, last_attempt_at, last_error, provider_id, resent_from, subject_id";

fn row(row: &Row) -> DeliveryRow {
    DeliveryRow {
        id: row.get(0),
        kind: row.get(1),
        channel: row.get(2),
        recipient: row.get(3),
        subject: row.get(4),
        status: row.get(5),
        held: row.get(6),
        attempts: row.get(7),
        created_at: row.get(8),
        due_at: row.get(9),
        sent_at: row.get(10),
        last_attempt_at: row.get(11),
        last_error: row.get(12),
        provider_id: row.get(13),
        resent_from: row.get(14),
        subject_id: row.get(15),
    }
}

/// Which messages to list: each `None` is no filter.
#[derive(Debug, Clone, Default)]
pub struct DeliveryFilter {
    /// The stored status.
    pub status: Option<&'static str>,
    /// Held (or not held) for the texting hours.
    pub held: Option<bool>,
    /// Tried at least once (or never).
    pub retrying: Option<bool>,
    /// To this address or number (any case).
    pub recipient: Option<String>,
    /// Written before this time (the next page).
    pub before: Option<DateTime<Utc>>,
}

/// The organization's messages matching `filter`, newest first, at most `first`.
pub async fn list(
    pool: &Pool,
    organization: Uuid,
    filter: &DeliveryFilter,
    first: i64,
) -> Result<Vec<DeliveryRow>, LogError> {
    let client = pool.get().await?;
    let rows = client
        .query(
            &format!(
                "SELECT {COLUMNS} FROM outbox
                 WHERE tenant_id = $1
                   AND ($2::text IS NULL OR status = $2)
                   AND ($3::bool IS NULL OR held = $3)
                   AND ($4::bool IS NULL OR (attempts > 0) = $4)
                   AND ($5::text IS NULL OR lower(recipient) = lower($5))
                   AND ($6::timestamptz IS NULL OR created_at < $6)
                 ORDER BY created_at DESC, id LIMIT $7"
            ),
            &[
                &organization,
                &filter.status,
                &filter.held,
                &filter.retrying,
                &filter.recipient,
                &filter.before,
                &first,
            ],
        )
        .await?;
    Ok(rows.iter().map(row).collect())
}

/// Why a message may not be sent again, if it may not: one-time codes and links, messages still waiting, withdrawn
/// ones and those whose recipient was erased.
pub fn why_not_resendable(kind: &str, status: &str, recipient: &str) -> Option<&'static str> {
    let kind = MessageKind::parse(kind);
    if kind.is_some_and(|k| k.is_one_time_code()) {
        return Some("a one-time code expires within minutes: the person asks for a new one");
    }
    if kind.is_some_and(carries_secret) {
        return Some(
            "its link or code was forgotten once it was sent: the person asks for a new one (or staff \
             register or invite them again)",
        );
    }
    match status {
        "pending" => Some("this message is still waiting to be sent"),
        "withdrawn" => Some("this message was withdrawn"),
        _ if recipient.is_empty() => Some("the recipient's data was erased"),
        _ => None,
    }
}

/// Why a message was not sent again.
#[derive(Debug, thiserror::Error)]
pub enum ResendError {
    /// No message of the organization has that id.
    #[error("no such message")]
    NotFound,
    /// It may not be sent again (the reason).
    #[error("{0}")]
    NotResendable(&'static str),
    /// The database failed.
    #[error(transparent)]
    Store(#[from] LogError),
}

impl From<tokio_postgres::Error> for ResendError {
    fn from(error: tokio_postgres::Error) -> Self {
        ResendError::Store(error.into())
    }
}

/// Writes a copy of message `id` of the organization, due `now`, as a new message with its own id; answers the copy.
pub async fn resend(
    pool: &Pool,
    organization: Uuid,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<DeliveryRow, ResendError> {
    let mut client = pool.get().await.map_err(LogError::from)?;
    let tx = client.transaction().await?;
    let original = tx
        .query_opt(
            &format!("SELECT {COLUMNS} FROM outbox WHERE id = $1 AND tenant_id = $2 FOR UPDATE"),
            &[&id, &organization],
        )
        .await?
        .map(|r| row(&r))
        .ok_or(ResendError::NotFound)?;
    if let Some(why) = original.why_not_resendable() {
        return Err(ResendError::NotResendable(why));
    }
    let copy = tx
        .query_one(
            &format!(
                "INSERT INTO outbox (id, tenant_id, channel, recipient, subject, body, due_at, kind, data, resent_from)
                 SELECT $1, tenant_id, channel, recipient, subject, body, $3, kind, data, id
                 FROM outbox WHERE id = $2
                 RETURNING {COLUMNS}"
            ),
            &[&Uuid::new_v4(), &id, &now],
        )
        .await?;
    tx.commit().await?;
    Ok(row(&copy))
}
