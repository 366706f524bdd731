//! Messages with the care team: patients (or their proxies) write to a provider or care team they see; members of
//! the team answer from their pool; both sides see unread counts and read receipts.

use async_graphql::{Context, InputObject, Object, Result, SimpleObject, ID};
use chrono::{DateTime, Utc};
use portal_commands::care::conversations::{self, NewConversation, Participant};
use portal_commands::handler::Actor;
use portal_domain::account::Role;
use portal_domain::care::Area;
use portal_domain::session::Principal;
use portal_domain::values::{AttachmentRef, ConversationSubject, MessageBody};
use portal_projections::care::conversations::{self as read, ConversationRow, MessageRow};
use uuid::Uuid;

use super::{
    acting, acting_as, audited_read, care_team, caught_up, uuid, Acting, CareObject, CarePayload,
    CareReader,
};
use crate::graphql::activities::organization;
use crate::graphql::errors::ApiError;
use crate::graphql::inputs::Checked;
use crate::graphql::mutation::context;
use crate::graphql::query::{principal, projection_error};
use crate::graphql::types::LogPosition;

/// A new conversation.
#[derive(InputObject)]
pub struct StartConversationInput {
    /// The provider or care team (from the catalogue) you see.
    pub team_id: ID,
    /// One line, 1 to 150 characters.
    pub subject: String,
    /// 1 to 10,000 characters.
    pub body: String,
    /// A reference to a file held elsewhere (1 to 200 letters, digits or `._:/-`).
    pub attachment: Option<String>,
    /// Idempotency key.
    pub command_id: Option<Uuid>,
}

/// A reply.
#[derive(InputObject)]
pub struct ReplyInput {
    /// The conversation.
    pub conversation_id: ID,
    /// 1 to 10,000 characters.
    pub body: String,
    /// A reference to a file held elsewhere.
    pub attachment: Option<String>,
    /// Idempotency key.
    pub command_id: Option<Uuid>,
}

/// A conversation.
#[derive(SimpleObject)]
pub struct ConversationView {
    /// The conversation.
    pub id: ID,
    /// The patient's account.
    pub patient_id: ID,
    /// The patient's name, for the care team (null once the patient's data was erased).
    pub patient_name: Option<String>,
    /// The provider or care team.
    pub team_id: ID,
    /// Its name.
    pub team: String,
    /// The subject (null once the patient's data was erased).
    pub subject: Option<String>,
    /// `open` or `closed`.
    pub status: String,
    /// The member of the care team who picked it up.
    pub assignee_id: Option<ID>,
    /// Started.
    pub started_at: DateTime<Utc>,
    /// The last message.
    pub last_message_at: DateTime<Utc>,
    /// Closed (by the care team, or after the organization's idle period).
    pub closed_at: Option<DateTime<Utc>>,
    /// Messages in all.
    pub message_count: i32,
    /// Messages from the other side you have not read.
    pub unread_count: i32,
    /// The messages, oldest first (only when asked for one conversation).
    pub messages: Option<Vec<MessageView>>,
}

/// A message.
#[derive(SimpleObject)]
pub struct MessageView {
    /// The message.
    pub id: ID,
    /// `patient` or `care_team`.
    pub from: String,
    /// The member who wrote it, or the proxy who wrote for the patient (null: the patient).
    pub author_id: Option<ID>,
    /// The text (null once the patient's data was erased).
    pub body: Option<String>,
    /// The attachment's reference.
    pub attachment: Option<String>,
    /// Sent.
    pub sent_at: DateTime<Utc>,
    /// When the other side read it (the read receipt).
    pub read_at: Option<DateTime<Utc>>,
}

fn view(row: ConversationRow, messages: Option<Vec<MessageRow>>) -> ConversationView {
    ConversationView {
        id: ID(row.id.to_string()),
        patient_id: ID(row.patient_id.to_string()),
        patient_name: row.patient_name,
        team_id: ID(row.team_id.to_string()),
        team: row.team,
        subject: row.subject,
        status: row.status,
        assignee_id: row.assignee_id.map(|a| ID(a.to_string())),
        started_at: row.started_at,
        last_message_at: row.last_message_at,
        closed_at: row.closed_at,
        message_count: i32::try_from(row.messages).unwrap_or(i32::MAX),
        unread_count: i32::try_from(row.unread).unwrap_or(i32::MAX),
        messages: messages.map(|m| {
            m.into_iter()
                .map(|m| MessageView {
                    id: ID(m.id.to_string()),
                    from: if m.from_patient {
                        "patient"
                    } else {
                        "care_team"
                    }
                    .to_owned(),
                    author_id: m.author_id.map(|a| ID(a.to_string())),
                    body: m.body,
                    attachment: m.attachment,
                    sent_at: m.sent_at,
                    read_at: m.read_at,
                })
                .collect()
        }),
    }
}

fn attachment(checked: &mut Checked, raw: Option<&str>) -> Option<Option<AttachmentRef>> {
    match raw.map(str::trim).filter(|a| !a.is_empty()) {
        None => Some(None),
        Some(raw) => checked
            .value(
                "attachment",
                "ATTACHMENT_INVALID",
                AttachmentRef::parse(raw),
            )
            .map(Some),
    }
}

/// Who acts on a conversation: a patient's side (through `acting`, for messages) or a member of the care team.
enum Side {
    Patient(Acting),
    Member(Principal),
}

impl Side {
    async fn of(ctx: &Context<'_>) -> Result<Self, ApiError> {
        let signed_in = principal(ctx).await?;
        match signed_in.role {
            Role::Patient => Ok(Side::Patient(
                acting_as(ctx, signed_in, Area::Messages).await?,
            )),
            Role::Staff | Role::Provider => Ok(Side::Member(signed_in)),
            Role::Learner | Role::Auditor => Err(ApiError::forbidden()),
        }
    }

    fn participant(&self) -> Participant {
        match self {
            Side::Patient(a) => Participant::Patient {
                patient: a.patient,
                proxy: a.proxy,
            },
            Side::Member(p) => Participant::Member(p.account),
        }
    }

    fn principal(&self) -> &Principal {
        match self {
            Side::Patient(a) => &a.principal,
            Side::Member(p) => p,
        }
    }

    fn actor(&self) -> Actor {
        match self {
            Side::Patient(a) => a.actor(),
            Side::Member(p) => Actor::Account(p.account.0),
        }
    }
}

impl From<Side> for CareReader {
    fn from(side: Side) -> Self {
        match side {
            Side::Patient(acting) => CareReader::Patient(acting),
            Side::Member(member) => CareReader::Member(member),
        }
    }
}

/// Conversation `id` with its messages, as `reader` sees it (the read goes to the access log), once the read model
/// holds it.
pub async fn read_one(
    ctx: &Context<'_>,
    reader: &CareReader,
    id: Uuid,
) -> Result<Option<ConversationView>, ApiError> {
    let state = context(ctx).0;
    let Some(row) = read::one(
        &state.pool,
        reader.organization(),
        id,
        reader.patient_side(),
    )
    .await
    .map_err(projection_error)?
    else {
        return Ok(None);
    };
    if !reader.may_read(row.patient_id) {
        return Ok(None);
    }
    let messages = read::messages(&state.pool, id)
        .await
        .map_err(projection_error)?;
    reader
        .audited(ctx, "conversation", "conversation", row.patient_id)
        .await?;
    Ok(Some(view(row, Some(messages))))
}

/// Conversation mutations.
#[derive(Default)]
pub struct ConversationMutation;

#[Object]
impl ConversationMutation {
    /// Starts a conversation with a provider or care team you have an appointment with (patients, or their proxy
    /// with messages in scope). The care team is not told by e-mail; they see it in their pool.
    async fn start_conversation(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The operation's input.")] input: StartConversationInput,
    ) -> Result<CarePayload> {
        let acting = acting(ctx, Area::Messages).await?;
        let (state, request) = context(ctx);
        let team = uuid(&input.team_id, "input.teamId")?;
        let mut checked = Checked::default();
        let subject = checked.value(
            "subject",
            "SUBJECT_INVALID",
            ConversationSubject::parse(&input.subject),
        );
        let body = checked.value("body", "BODY_INVALID", MessageBody::parse(&input.body));
        let attachment = attachment(&mut checked, input.attachment.as_deref());
        checked.finish()?;
        let (Some(subject), Some(body), Some(attachment)) = (subject, body, attachment) else {
            return Err(ApiError::new("ARGUMENT_INVALID", "the input is invalid").into());
        };
        let org = organization(state, acting.principal.organization).await?;
        let seen = read::seen(&state.pool, org.id.0, acting.patient.0, team)
            .await
            .map_err(projection_error)?;
        let command = request.command(acting.actor(), input.command_id);
        let (id, position) = conversations::start(
            &state.store,
            &org,
            NewConversation {
                patient: acting.patient,
                proxy: acting.proxy,
                team,
                seen,
                subject,
                body,
                attachment,
            },
            &command,
        )
        .await
        .map_err(ApiError::from_command)?;
        Ok(CarePayload::changed(
            Some(id),
            position,
            acting,
            CareObject::Conversation(id),
        ))
    }

    /// Writes in a conversation: its patient (or proxy) or a member of its care team. A reply from the care team
    /// picks the conversation up if nobody had, and tells the patient by e-mail and text that a reply waits (never
    /// what it says). A closed or idle conversation answers CONVERSATION_CLOSED.
    async fn reply_to_conversation(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The operation's input.")] input: ReplyInput,
    ) -> Result<CarePayload> {
        let side = Side::of(ctx).await?;
        let (state, request) = context(ctx);
        let id = uuid(&input.conversation_id, "input.conversationId")?;
        let mut checked = Checked::default();
        let body = checked.value("body", "BODY_INVALID", MessageBody::parse(&input.body));
        let attachment = attachment(&mut checked, input.attachment.as_deref());
        checked.finish()?;
        let (Some(body), Some(attachment)) = (body, attachment) else {
            return Err(ApiError::new("ARGUMENT_INVALID", "the input is invalid").into());
        };
        let org = organization(state, side.principal().organization).await?;
        let command = request.command(side.actor(), input.command_id);
        let (message, position) = conversations::reply(
            &state.store,
            &org,
            id,
            body,
            attachment,
            side.participant(),
            &command,
        )
        .await
        .map_err(ApiError::from_command)?;
        Ok(CarePayload::changed(
            Some(message),
            position,
            side,
            CareObject::Conversation(id),
        ))
    }

    /// Marks every message of the other side in a conversation as read (their read receipts).
    async fn mark_conversation_read(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The conversation.")] conversation_id: ID,
    ) -> Result<CarePayload> {
        let side = Side::of(ctx).await?;
        let (state, request) = context(ctx);
        let id = uuid(&conversation_id, "conversationId")?;
        let org = organization(state, side.principal().organization).await?;
        let command = request.command(side.actor(), None);
        let position =
            conversations::mark_read(&state.store, &org, id, side.participant(), &command)
                .await
                .map_err(ApiError::from_command)?;
        Ok(CarePayload::changed(
            Some(id),
            position,
            side,
            CareObject::Conversation(id),
        ))
    }

    /// Takes a conversation from your care team's pool (staff and providers on the team); one picked up by
    /// someone else answers PICKED_UP_BY_ANOTHER.
    async fn pick_up_conversation(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The conversation.")] conversation_id: ID,
    ) -> Result<CarePayload> {
        let member = care_team(ctx).await?;
        let (state, request) = context(ctx);
        let id = uuid(&conversation_id, "conversationId")?;
        let org = organization(state, member.organization).await?;
        let command = request.command(Actor::Account(member.account.0), None);
        let position = conversations::pick_up(&state.store, &org, id, member.account, &command)
            .await
            .map_err(ApiError::from_command)?;
        Ok(CarePayload::changed(
            Some(id),
            position,
            member,
            CareObject::Conversation(id),
        ))
    }

    /// Closes a conversation (a member of its care team); the patient may start a new one.
    async fn close_conversation(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The conversation.")] conversation_id: ID,
    ) -> Result<CarePayload> {
        let member = care_team(ctx).await?;
        let (state, request) = context(ctx);
        let id = uuid(&conversation_id, "conversationId")?;
        let org = organization(state, member.organization).await?;
        let command = request.command(Actor::Account(member.account.0), None);
        let position = conversations::close(&state.store, &org, id, Some(member.account), &command)
            .await
            .map_err(ApiError::from_command)?;
        Ok(CarePayload::changed(
            Some(id),
            position,
            member,
            CareObject::Conversation(id),
        ))
    }
}

/// Conversation queries.
#[derive(Default)]
pub struct ConversationQuery;

#[Object]
impl ConversationQuery {
    /// The patient's conversations (patients, or their proxy with messages in scope), latest first, each with the
    /// number of care-team messages not read yet.
    async fn conversations(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "Read your writes: wait until the read model has applied this log position (a mutation's `position`)."
        )]
        at_least: Option<LogPosition>,
    ) -> Result<Vec<ConversationView>> {
        let acting = acting(ctx, Area::Messages).await?;
        let state = context(ctx).0;
        caught_up(state, at_least).await?;
        let rows = read::of_patient(
            &state.pool,
            acting.principal.organization.0,
            acting.patient.0,
        )
        .await
        .map_err(projection_error)?;
        acting.audited(ctx, "conversation", "conversations").await?;
        Ok(rows.into_iter().map(|r| view(r, None)).collect())
    }

    /// The care team's open conversations (staff and providers): those of your teams nobody picked up and, unless
    /// `poolOnly`, those you picked up; each with the patient's messages the team has not read.
    async fn care_team_inbox(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "True: only conversations nobody has picked up.")] pool_only: Option<bool>,
        #[graphql(
            desc = "Read your writes: wait until the read model has applied this log position (a mutation's `position`)."
        )]
        at_least: Option<LogPosition>,
    ) -> Result<Vec<ConversationView>> {
        let member = care_team(ctx).await?;
        let state = context(ctx).0;
        caught_up(state, at_least).await?;
        let rows = read::of_member(
            &state.pool,
            member.organization.0,
            member.account.0,
            pool_only.unwrap_or(false),
        )
        .await
        .map_err(projection_error)?;
        audited_read(
            ctx,
            &member,
            "conversation",
            "careTeamInbox",
            rows.iter().map(|r| r.patient_id),
        )
        .await?;
        Ok(rows.into_iter().map(|r| view(r, None)).collect())
    }

    /// One conversation with its messages: its patient (or proxy), or a member of its care team.
    async fn conversation(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The conversation.")] id: ID,
        #[graphql(
            desc = "Read your writes: wait until the read model has applied this log position (a mutation's `position`)."
        )]
        at_least: Option<LogPosition>,
    ) -> Result<ConversationView> {
        let side = Side::of(ctx).await?;
        let state = context(ctx).0;
        let id = uuid(&id, "id")?;
        let org = organization(state, side.principal().organization).await?;
        // The write side decides who may see it (the patient's side, or the care team), as it does for a reply.
        conversations::load_for(&state.store, &org, id, side.participant())
            .await
            .map_err(ApiError::from_command)?;
        caught_up(state, at_least).await?;
        read_one(ctx, &side.into(), id).await?.ok_or_else(|| {
            ApiError::new("CONVERSATION_NOT_FOUND", "no such conversation")
                .on("id")
                .into()
        })
    }
}
