//! Conversations with the care team: starting one, replying, reading, picking up from the pool, closing.

use chrono::Duration;
use portal_domain::care::care_team::CareTeam;
use portal_domain::care::conversation::{
    Conversation, ConversationCommand, ConversationError, ConversationInfo, ConversationState,
    Opening,
};
use portal_domain::care::Party;
use portal_domain::catalogue::EntryKind;
use portal_domain::values::{AttachmentRef, ConversationSubject, MessageBody, MessageKind};
use portal_domain::{AccountId, Decider};
use uuid::Uuid;

use super::{care_teams, patient, position, rejected, run, CareError, Result};
use crate::activities::derived_id;
use crate::handler::{CommandContext, Plan};
use crate::log::{EventLog, StreamId};
use crate::organizations::OrganizationSummary;
use crate::store::Store;

/// A conversation's stream.
pub fn stream(id: Uuid) -> StreamId {
    StreamId::new(Conversation::CATEGORY, id)
}

/// Who acts on a conversation, as the API established it.
#[derive(Clone, Copy, Debug)]
pub enum Participant {
    /// The patient (or their proxy, `proxy`) whose conversation it must be.
    Patient {
        /// The patient's account.
        patient: AccountId,
        /// The proxy acting, if any.
        proxy: Option<AccountId>,
    },
    /// A staff member or provider, who must be on the conversation's care team.
    Member(AccountId),
}

impl Participant {
    fn party(self) -> Party {
        match self {
            Participant::Patient { proxy, .. } => Party::Patient { proxy },
            Participant::Member(by) => Party::CareTeam { by },
        }
    }
}

fn idle(organization: &OrganizationSummary) -> Duration {
    Duration::days(i64::from(organization.care_policy.conversation_idle_days))
}

/// A new conversation: the patient writes to `team`; `seen` says whether they had a visit with it that has begun.
#[derive(Clone, Debug)]
pub struct NewConversation {
    /// The patient's account.
    pub patient: AccountId,
    /// The proxy writing for them, if any.
    pub proxy: Option<AccountId>,
    /// The provider or care team.
    pub team: Uuid,
    /// Whether the patient was seen by it.
    pub seen: bool,
    /// The subject.
    pub subject: ConversationSubject,
    /// The text.
    pub body: MessageBody,
    /// A reference to an attached file.
    pub attachment: Option<AttachmentRef>,
}

/// Starts a conversation; returns its id and the position.
pub async fn start<L: EventLog>(
    store: &Store<L>,
    organization: &OrganizationSummary,
    new: NewConversation,
    ctx: &CommandContext,
) -> Result<(Uuid, i64)> {
    patient(store, organization, new.patient).await?;
    let catalogue = crate::scheduling::catalogue(store, organization.id)
        .await
        .map_err(|e| e.map_rejected(|_| CareError::TeamNotFound("teamId")))?;
    if !catalogue.is(new.team, EntryKind::Provider) {
        return Err(rejected(CareError::TeamNotFound("teamId")));
    }
    let id = derived_id("conversation", ctx.command_id);
    let opening = Opening {
        id,
        message_id: derived_id("conversation-message", ctx.command_id),
        organization: organization.id,
        patient: new.patient,
        team: new.team,
        seen: new.seen,
        subject: new.subject.clone(),
        body: new.body.clone(),
        attachment: new.attachment.clone(),
        proxy: new.proxy,
    };
    let executed = run::<L, Conversation>(
        store,
        &stream(id),
        Some(new.patient),
        ctx,
        "StartConversation",
        &[
            new.patient.0.as_bytes(),
            new.team.as_bytes(),
            new.subject.as_str().as_bytes(),
            new.body.as_str().as_bytes(),
        ],
        |_| {
            Ok(Plan::command(
                organization.id.0,
                ConversationCommand::Start(Box::new(opening.clone())),
            ))
        },
    )
    .await?;
    Ok((id, position(&executed)))
}

/// The conversation, if `who` may see it: its patient's side, or a member of its care team.
pub async fn load_for<L: EventLog>(
    store: &Store<L>,
    organization: &OrganizationSummary,
    id: Uuid,
    who: Participant,
) -> Result<ConversationInfo> {
    let (state, _) = store.load::<Conversation>(&stream(id)).await?;
    let ConversationState::Started(info) = state else {
        return Err(rejected(ConversationError::NotFound));
    };
    if info.organization != organization.id {
        return Err(rejected(ConversationError::NotFound));
    }
    match who {
        Participant::Patient { patient, .. } if info.patient == patient => Ok(*info),
        Participant::Patient { .. } => Err(rejected(ConversationError::NotFound)),
        Participant::Member(account) => {
            let team = store
                .load::<CareTeam>(&care_teams::stream(info.team))
                .await?
                .0;
            if team.has(account) {
                Ok(*info)
            } else {
                Err(rejected(CareError::NotOnTeam))
            }
        }
    }
}

/// Writes a message; a reply from the care team tells the patient that one waits, by e-mail and text.
pub async fn reply<L: EventLog>(
    store: &Store<L>,
    organization: &OrganizationSummary,
    id: Uuid,
    body: MessageBody,
    attachment: Option<AttachmentRef>,
    who: Participant,
    ctx: &CommandContext,
) -> Result<(Uuid, i64)> {
    let info = load_for(store, organization, id, who).await?;
    let notices = match who {
        Participant::Member(_) => {
            let profile = patient(store, organization, info.patient).await?;
            super::notice(
                &profile,
                MessageKind::ReplyWaiting,
                Some(MessageKind::ReplyWaitingText),
                serde_json::json!({}),
                ctx.now,
            )
        }
        Participant::Patient { .. } => vec![],
    };
    let message_id = derived_id("conversation-message", ctx.command_id);
    let idle = idle(organization);
    let executed = run::<L, Conversation>(
        store,
        &stream(id),
        Some(info.patient),
        ctx,
        "ReplyToConversation",
        &[id.as_bytes(), body.as_str().as_bytes()],
        |_| {
            Ok(Plan::with_outbox(
                organization.id.0,
                ConversationCommand::Reply {
                    message_id,
                    body: body.clone(),
                    attachment: attachment.clone(),
                    by: who.party(),
                    idle,
                },
                notices.clone(),
            ))
        },
    )
    .await?;
    Ok((message_id, position(&executed)))
}

/// Records that `who`'s side has read every message so far (nothing when nothing was unread).
pub async fn mark_read<L: EventLog>(
    store: &Store<L>,
    organization: &OrganizationSummary,
    id: Uuid,
    who: Participant,
    ctx: &CommandContext,
) -> Result<i64> {
    let info = load_for(store, organization, id, who).await?;
    let executed = run::<L, Conversation>(
        store,
        &stream(id),
        Some(info.patient),
        ctx,
        "MarkConversationRead",
        &[id.as_bytes(), format!("{who:?}").as_bytes()],
        |_| {
            Ok(Plan::command(
                organization.id.0,
                ConversationCommand::MarkRead { by: who.party() },
            ))
        },
    )
    .await?;
    Ok(position(&executed))
}

/// A member of the care team takes the conversation from the pool.
pub async fn pick_up<L: EventLog>(
    store: &Store<L>,
    organization: &OrganizationSummary,
    id: Uuid,
    member: AccountId,
    ctx: &CommandContext,
) -> Result<i64> {
    let info = load_for(store, organization, id, Participant::Member(member)).await?;
    let executed = run::<L, Conversation>(
        store,
        &stream(id),
        Some(info.patient),
        ctx,
        "PickUpConversation",
        &[id.as_bytes(), member.0.as_bytes()],
        |_| {
            Ok(Plan::command(
                organization.id.0,
                ConversationCommand::PickUp { by: member },
            ))
        },
    )
    .await?;
    Ok(position(&executed))
}

/// Closes a conversation: by a member of its care team, or (`member` None: portal's sweeper) once it has been idle
/// for the organization's period.
pub async fn close<L: EventLog>(
    store: &Store<L>,
    organization: &OrganizationSummary,
    id: Uuid,
    member: Option<AccountId>,
    ctx: &CommandContext,
) -> Result<i64> {
    let info = match member {
        Some(account) => load_for(store, organization, id, Participant::Member(account)).await?,
        None => {
            let (state, _) = store.load::<Conversation>(&stream(id)).await?;
            match state {
                ConversationState::Started(info) if info.organization == organization.id => *info,
                _ => return Err(rejected(ConversationError::NotFound)),
            }
        }
    };
    let idle = idle(organization);
    let executed = run::<L, Conversation>(
        store,
        &stream(id),
        Some(info.patient),
        ctx,
        "CloseConversation",
        &[id.as_bytes()],
        |_| {
            Ok(Plan::command(
                organization.id.0,
                ConversationCommand::Close { by: member, idle },
            ))
        },
    )
    .await?;
    Ok(position(&executed))
}
