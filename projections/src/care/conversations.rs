//! Conversations and their messages, with each side's unread count and read receipts.

use chrono::{DateTime, Utc};
use deadpool_postgres::Pool;
use portal_commands::log::RecordedEvent;
use portal_domain::care::conversation::ConversationEvent;
use portal_domain::care::Party;
use portal_domain::Personal;
use uuid::Uuid;

use super::rows;
use crate::{params, writes::Writes, ProjectionError};

fn author(party: &Party) -> Option<Uuid> {
    match party {
        Party::Patient { proxy } => proxy.map(|p| p.0),
        Party::CareTeam { by } => Some(by.0),
    }
}

pub(super) fn apply(
    writes: &mut Writes,
    recorded: &RecordedEvent,
    id: Uuid,
    event: ConversationEvent,
) {
    match event {
        ConversationEvent::ConversationStarted(e) => writes.execute(
            "INSERT INTO conversations (id, organization_id, patient_id, team_id, subject, status, started_at,
                                        started_by_proxy, last_message_at)
             VALUES ($1, $2, $3, $4, $5, 'open', $6, $7, $6)",
            params![
                id,
                e.organization_id.0,
                e.patient_id.0,
                e.team_id,
                e.subject.known().map(|s| s.as_str().to_owned()),
                e.at,
                author(&e.by),
            ],
        ),
        ConversationEvent::ConversationMessagePosted(e) => {
            let from_patient = e.by.is_patient();
            // Writing is reading: the writer's side has seen every message of the other side before theirs.
            writes.execute(
                "UPDATE conversation_messages SET read_at = $3
                 WHERE conversation_id = $1 AND from_patient = $2 AND read_at IS NULL",
                params![id, !from_patient, e.at],
            );
            writes.execute(
                "INSERT INTO conversation_messages (id, conversation_id, organization_id, seq, from_patient, author_id,
                                                    body, attachment, sent_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                params![
                    e.message_id,
                    id,
                    recorded.tenant,
                    recorded.position,
                    from_patient,
                    author(&e.by),
                    e.body.known().map(|b| b.as_str().to_owned()),
                    e.attachment
                        .as_ref()
                        .and_then(Personal::known)
                        .map(|a| a.as_str().to_owned()),
                    e.at,
                ],
            );
            writes.execute(
                "UPDATE conversations SET last_message_at = $2, message_count = message_count + 1 WHERE id = $1",
                params![id, e.at],
            );
        }
        ConversationEvent::ConversationRead(e) => writes.execute(
            "UPDATE conversation_messages SET read_at = $3
             WHERE conversation_id = $1 AND from_patient = $2 AND read_at IS NULL
               AND seq <= (SELECT seq FROM conversation_messages WHERE id = $4)",
            params![id, !e.by.is_patient(), e.at, e.up_to],
        ),
        ConversationEvent::ConversationPickedUp(e) => writes.execute(
            "UPDATE conversations SET assignee_id = $2 WHERE id = $1",
            params![id, e.by.0],
        ),
        ConversationEvent::ConversationClosed(e) => writes.execute(
            "UPDATE conversations SET status = 'closed', closed_at = $2, closed_by = $3 WHERE id = $1",
            params![id, e.at, e.by.map(|b| b.0)],
        ),
    }
}

/// A conversation as a list shows it.
#[derive(Clone, Debug)]
pub struct ConversationRow {
    /// The conversation.
    pub id: Uuid,
    /// The patient's account.
    pub patient_id: Uuid,
    /// The provider or care team.
    pub team_id: Uuid,
    /// Its name in the catalogue.
    pub team: String,
    /// The subject (None once erased).
    pub subject: Option<String>,
    /// `open` or `closed`.
    pub status: String,
    /// The member who picked it up.
    pub assignee_id: Option<Uuid>,
    /// Started.
    pub started_at: DateTime<Utc>,
    /// The last message.
    pub last_message_at: DateTime<Utc>,
    /// Closed.
    pub closed_at: Option<DateTime<Utc>>,
    /// Messages in all.
    pub messages: i64,
    /// Messages of the other side the reader's side has not read.
    pub unread: i64,
    /// The patient's name (None once erased).
    pub patient_name: Option<String>,
}

const CONVERSATION: &str =
    "SELECT c.id, c.patient_id, c.team_id, coalesce(e.name, ''), c.subject, c.status,
        c.assignee_id, c.started_at, c.last_message_at, c.closed_at,
        c.message_count::bigint,
        (SELECT count(*) FROM conversation_messages m
          WHERE m.conversation_id = c.id AND m.from_patient <> $2 AND m.read_at IS NULL),
        nullif(concat_ws(' ', pa.first_name, pa.last_name), '')
     FROM conversations c LEFT JOIN catalogue_entries e ON e.id = c.team_id
     LEFT JOIN accounts pa ON pa.id = c.patient_id";

fn conversation_row(r: &tokio_postgres::Row) -> ConversationRow {
    ConversationRow {
        id: r.get(0),
        patient_id: r.get(1),
        team_id: r.get(2),
        team: r.get(3),
        subject: r.get(4),
        status: r.get(5),
        assignee_id: r.get(6),
        started_at: r.get(7),
        last_message_at: r.get(8),
        closed_at: r.get(9),
        messages: r.get(10),
        unread: r.get(11),
        patient_name: r.get(12),
    }
}

/// A patient's conversations, latest activity first, with what they have not read.
pub async fn of_patient(
    pool: &Pool,
    organization: Uuid,
    patient: Uuid,
) -> Result<Vec<ConversationRow>, ProjectionError> {
    let client = pool.get().await?;
    let found = client
        .query(
            &format!(
                "{CONVERSATION} WHERE c.organization_id = $1 AND c.patient_id = $3
                 ORDER BY c.last_message_at DESC, c.id LIMIT 200"
            ),
            &[&organization, &true, &patient],
        )
        .await?;
    Ok(rows(&found, conversation_row))
}

/// Open conversations of the teams `member` is on: the pool (picked up by nobody) and those they picked up, latest
/// activity first, with what the team has not read.
pub async fn of_member(
    pool: &Pool,
    organization: Uuid,
    member: Uuid,
    pool_only: bool,
) -> Result<Vec<ConversationRow>, ProjectionError> {
    let client = pool.get().await?;
    let found = client
        .query(
            &format!(
                "{CONVERSATION} WHERE c.organization_id = $1 AND c.status = 'open'
                   AND c.team_id IN (SELECT team_id FROM care_team_members WHERE account_id = $3)
                   AND (c.assignee_id IS NULL OR (NOT $4 AND c.assignee_id = $3))
                 ORDER BY c.last_message_at DESC, c.id LIMIT 200"
            ),
            &[&organization, &false, &member, &pool_only],
        )
        .await?;
    Ok(rows(&found, conversation_row))
}

/// One conversation, as `patient_side` (or the team) sees its unread count.
pub async fn one(
    pool: &Pool,
    organization: Uuid,
    id: Uuid,
    patient_side: bool,
) -> Result<Option<ConversationRow>, ProjectionError> {
    let client = pool.get().await?;
    let found = client
        .query_opt(
            &format!("{CONVERSATION} WHERE c.organization_id = $1 AND c.id = $3"),
            &[&organization, &patient_side, &id],
        )
        .await?;
    Ok(found.as_ref().map(conversation_row))
}

/// How many care-team messages a patient has not read, over all their conversations.
pub async fn unread_by_patient(
    pool: &Pool,
    organization: Uuid,
    patient: Uuid,
) -> Result<i64, ProjectionError> {
    let client = pool.get().await?;
    let row = client
        .query_one(
            "SELECT count(*) FROM conversation_messages m JOIN conversations c ON c.id = m.conversation_id
             WHERE c.organization_id = $1 AND c.patient_id = $2 AND NOT m.from_patient AND m.read_at IS NULL",
            &[&organization, &patient],
        )
        .await?;
    Ok(row.get(0))
}

/// A message.
#[derive(Clone, Debug)]
pub struct MessageRow {
    /// The message.
    pub id: Uuid,
    /// Written by the patient's side.
    pub from_patient: bool,
    /// The member, or the proxy for the patient (None: the patient).
    pub author_id: Option<Uuid>,
    /// The text (None once erased).
    pub body: Option<String>,
    /// The attachment's reference.
    pub attachment: Option<String>,
    /// Sent.
    pub sent_at: DateTime<Utc>,
    /// Read by the other side.
    pub read_at: Option<DateTime<Utc>>,
}

/// A conversation's messages, oldest first.
pub async fn messages(pool: &Pool, conversation: Uuid) -> Result<Vec<MessageRow>, ProjectionError> {
    let client = pool.get().await?;
    let found = client
        .query(
            "SELECT id, from_patient, author_id, body, attachment, sent_at, read_at FROM conversation_messages
             WHERE conversation_id = $1 ORDER BY seq",
            &[&conversation],
        )
        .await?;
    Ok(rows(&found, |r| MessageRow {
        id: r.get(0),
        from_patient: r.get(1),
        author_id: r.get(2),
        body: r.get(3),
        attachment: r.get(4),
        sent_at: r.get(5),
        read_at: r.get(6),
    }))
}

/// Organizations with open conversations quiet since before `before`.
pub async fn organizations_with_quiet(
    pool: &Pool,
    before: DateTime<Utc>,
) -> Result<Vec<Uuid>, ProjectionError> {
    let client = pool.get().await?;
    let found = client
        .query(
            "SELECT DISTINCT organization_id FROM conversations WHERE status = 'open' AND last_message_at < $1",
            &[&before],
        )
        .await?;
    Ok(rows(&found, |r| r.get(0)))
}

/// Open conversations of an organization quiet since before `before`, at most `limit`.
pub async fn quiet(
    pool: &Pool,
    organization: Uuid,
    before: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<Uuid>, ProjectionError> {
    let client = pool.get().await?;
    let found = client
        .query(
            "SELECT id FROM conversations
             WHERE organization_id = $1 AND status = 'open' AND last_message_at < $2
             ORDER BY last_message_at LIMIT $3",
            &[&organization, &before, &limit],
        )
        .await?;
    Ok(rows(&found, |r| r.get(0)))
}

/// True when the patient has seen `provider` or will: an appointment with it that was neither cancelled nor
/// missed, past or upcoming (as patient portals let patients write to providers they see).
pub async fn seen(
    pool: &Pool,
    organization: Uuid,
    patient: Uuid,
    provider: Uuid,
) -> Result<bool, ProjectionError> {
    let client = pool.get().await?;
    let row = client
        .query_one(
            "SELECT EXISTS (SELECT 1 FROM appointments
                            WHERE organization_id = $1 AND patient_id = $2 AND provider_id = $3
                              AND status = 'booked')",
            &[&organization, &patient, &provider],
        )
        .await?;
    Ok(row.get(0))
}
