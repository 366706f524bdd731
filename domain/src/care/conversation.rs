//! Conversations with the care team: a patient (or their proxy) writes to a provider or care team they have seen;
//! members of the team pick the conversation up from their pool and answer; either side replies until the
//! conversation is closed, by the team or after the organization's idle period. Each side's reading is recorded, so
//! both see unread counts and read receipts.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::Party;
use crate::values::{AttachmentRef, ConversationSubject, MessageBody};
use crate::{AccountId, Decider, DomainEvent, ErrorCode, OrganizationId, Personal};

/// The conversation aggregate.
pub struct Conversation;

/// A message as the aggregate keeps it (its text lives in the events only).
#[derive(Clone, Debug, PartialEq)]
pub struct MessageMeta {
    /// The message.
    pub id: Uuid,
    /// True when the patient's side wrote it.
    pub from_patient: bool,
}

/// A conversation as its events left it.
#[derive(Clone, Debug, PartialEq)]
pub struct ConversationInfo {
    /// The conversation.
    pub id: Uuid,
    /// The organization.
    pub organization: OrganizationId,
    /// The patient's account.
    pub patient: AccountId,
    /// The provider or care team of the catalogue it is addressed to.
    pub team: Uuid,
    /// The messages, oldest first.
    pub messages: Vec<MessageMeta>,
    /// How many messages the patient's side has read (messages before this index).
    pub patient_read: usize,
    /// How many messages the care team has read.
    pub team_read: usize,
    /// The member who picked it up.
    pub assignee: Option<AccountId>,
    /// The time of the last message.
    pub last_message_at: DateTime<Utc>,
    /// Closed (who closed it is in the event; no rule depends on it).
    pub closed: bool,
}

impl ConversationInfo {
    /// Messages from the care team the patient has not read.
    pub fn unread_by_patient(&self) -> usize {
        self.messages[self.patient_read.min(self.messages.len())..]
            .iter()
            .filter(|m| !m.from_patient)
            .count()
    }

    /// Messages from the patient the care team has not read.
    pub fn unread_by_team(&self) -> usize {
        self.messages[self.team_read.min(self.messages.len())..]
            .iter()
            .filter(|m| m.from_patient)
            .count()
    }

    fn idle_since(&self, now: DateTime<Utc>, idle: Duration) -> bool {
        now - self.last_message_at >= idle
    }
}

/// The lifecycle of a conversation.
#[derive(Clone, Debug, Default, PartialEq)]
pub enum ConversationState {
    /// Nothing recorded.
    #[default]
    Absent,
    /// Started (open or closed: see `closed`).
    Started(Box<ConversationInfo>),
}

/// The first message of a conversation.
#[derive(Clone, Debug)]
pub struct Opening {
    /// The conversation's id.
    pub id: Uuid,
    /// Its first message's id.
    pub message_id: Uuid,
    /// The organization.
    pub organization: OrganizationId,
    /// The patient's account.
    pub patient: AccountId,
    /// The provider or care team written to.
    pub team: Uuid,
    /// True when the patient has an appointment with it, past or upcoming, neither cancelled nor missed (the caller
    /// looks it up).
    pub seen: bool,
    /// The subject.
    pub subject: ConversationSubject,
    /// The text.
    pub body: MessageBody,
    /// A reference to an attached file.
    pub attachment: Option<AttachmentRef>,
    /// The patient or their proxy.
    pub proxy: Option<AccountId>,
}

/// Commands on a conversation.
#[derive(Clone, Debug)]
pub enum ConversationCommand {
    /// The patient's side starts it.
    Start(Box<Opening>),
    /// Either side writes.
    Reply {
        /// The message's id.
        message_id: Uuid,
        /// The text.
        body: MessageBody,
        /// A reference to an attached file.
        attachment: Option<AttachmentRef>,
        /// Who writes.
        by: Party,
        /// The organization's idle period: a conversation quiet for this long takes no more messages.
        idle: Duration,
    },
    /// One side has read everything so far.
    MarkRead {
        /// Which side.
        by: Party,
    },
    /// A team member takes the conversation from the pool.
    PickUp {
        /// The member.
        by: AccountId,
    },
    /// The conversation is closed: by a team member, or (`by` None) because it has been idle for `idle`.
    Close {
        /// The member, or None for inactivity.
        by: Option<AccountId>,
        /// The organization's idle period.
        idle: Duration,
    },
}

/// Events of a conversation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", content = "data")]
pub enum ConversationEvent {
    /// Started.
    ConversationStarted(ConversationStarted),
    /// A message was written.
    ConversationMessagePosted(ConversationMessagePosted),
    /// One side read up to a message.
    ConversationRead(ConversationRead),
    /// A team member picked it up.
    ConversationPickedUp(ConversationPickedUp),
    /// Closed.
    ConversationClosed(ConversationClosed),
}

/// A conversation was started (v1); its first message follows in the same commit.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ConversationStarted {
    /// The conversation.
    pub conversation_id: Uuid,
    /// The organization.
    pub organization_id: OrganizationId,
    /// The patient's account.
    pub patient_id: AccountId,
    /// The provider or care team.
    pub team_id: Uuid,
    /// The subject (personal).
    pub subject: Personal<ConversationSubject>,
    /// The patient or their proxy.
    pub by: Party,
    /// When.
    pub at: DateTime<Utc>,
}

/// A message was written (v1).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ConversationMessagePosted {
    /// The message.
    pub message_id: Uuid,
    /// The text (personal).
    pub body: Personal<MessageBody>,
    /// A reference to an attached file (personal).
    pub attachment: Option<Personal<AttachmentRef>>,
    /// Who wrote it.
    pub by: Party,
    /// When.
    pub at: DateTime<Utc>,
}

/// One side read every message up to `up_to` (v1).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ConversationRead {
    /// Who read.
    pub by: Party,
    /// The last message read.
    pub up_to: Uuid,
    /// When.
    pub at: DateTime<Utc>,
}

/// A team member picked the conversation up from the pool (v1).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ConversationPickedUp {
    /// The member.
    pub by: AccountId,
    /// When.
    pub at: DateTime<Utc>,
}

/// A conversation was closed (v1).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ConversationClosed {
    /// The member who closed it; None when it was closed for inactivity.
    pub by: Option<AccountId>,
    /// When.
    pub at: DateTime<Utc>,
}

impl DomainEvent for ConversationEvent {
    fn event_type(&self) -> &'static str {
        match self {
            ConversationEvent::ConversationStarted(_) => "ConversationStarted",
            ConversationEvent::ConversationMessagePosted(_) => "ConversationMessagePosted",
            ConversationEvent::ConversationRead(_) => "ConversationRead",
            ConversationEvent::ConversationPickedUp(_) => "ConversationPickedUp",
            ConversationEvent::ConversationClosed(_) => "ConversationClosed",
        }
    }
}

/// Why a conversation command is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConversationError {
    /// No such conversation (or not the caller's).
    #[error("no such conversation")]
    NotFound,
    /// The id is taken.
    #[error("this conversation exists already")]
    Exists,
    /// The patient has not been seen by the provider or care team.
    #[error("you can write to a provider or care team you see: this one has no visit of yours")]
    NotSeen,
    /// Closed conversations take no messages.
    #[error("this conversation is closed: start a new one")]
    Closed,
    /// Someone else picked it up.
    #[error("another member of the care team has picked this conversation up")]
    PickedUpByAnother,
    /// It has not been idle long enough to close for inactivity.
    #[error("this conversation is not idle")]
    NotIdle,
}

impl ErrorCode for ConversationError {
    fn code(&self) -> &'static str {
        match self {
            ConversationError::NotFound => "CONVERSATION_NOT_FOUND",
            ConversationError::Exists => "CONVERSATION_EXISTS",
            ConversationError::NotSeen => "PROVIDER_NOT_SEEN",
            ConversationError::Closed => "CONVERSATION_CLOSED",
            ConversationError::PickedUpByAnother => "PICKED_UP_BY_ANOTHER",
            ConversationError::NotIdle => "CONVERSATION_NOT_IDLE",
        }
    }

    fn field(&self) -> Option<&'static str> {
        match self {
            ConversationError::NotSeen => Some("teamId"),
            ConversationError::NotFound => Some("conversationId"),
            _ => None,
        }
    }
}

impl Decider for Conversation {
    type State = ConversationState;
    type Command = ConversationCommand;
    type Event = ConversationEvent;
    type Error = ConversationError;
    const CATEGORY: &'static str = "conversation";

    fn decide(
        state: &Self::State,
        command: Self::Command,
        now: DateTime<Utc>,
    ) -> Result<Vec<Self::Event>, Self::Error> {
        let info = match (state, command) {
            (ConversationState::Absent, ConversationCommand::Start(opening)) => {
                return start(*opening, now)
            }
            (ConversationState::Started(_), ConversationCommand::Start(_)) => {
                return Err(ConversationError::Exists)
            }
            (ConversationState::Absent, _) => return Err(ConversationError::NotFound),
            (ConversationState::Started(info), command) => (info, command),
        };
        match info {
            (
                info,
                ConversationCommand::Reply {
                    message_id,
                    body,
                    attachment,
                    by,
                    idle,
                },
            ) => {
                if info.closed || info.idle_since(now, idle) {
                    return Err(ConversationError::Closed);
                }
                let mut events = vec![];
                if let Party::CareTeam { by: member } = by {
                    if info.assignee.is_none() {
                        // Answering from the pool takes the conversation.
                        events.push(ConversationEvent::ConversationPickedUp(
                            ConversationPickedUp {
                                by: member,
                                at: now,
                            },
                        ));
                    }
                }
                events.push(ConversationEvent::ConversationMessagePosted(
                    ConversationMessagePosted {
                        message_id,
                        body: Personal::Known(body),
                        attachment: attachment.map(Personal::Known),
                        by,
                        at: now,
                    },
                ));
                Ok(events)
            }
            (info, ConversationCommand::MarkRead { by }) => {
                let (read, unread) = if by.is_patient() {
                    (info.patient_read, info.unread_by_patient())
                } else {
                    (info.team_read, info.unread_by_team())
                };
                match info.messages.last() {
                    Some(last) if read < info.messages.len() && unread > 0 => {
                        Ok(vec![ConversationEvent::ConversationRead(
                            ConversationRead {
                                by,
                                up_to: last.id,
                                at: now,
                            },
                        )])
                    }
                    _ => Ok(vec![]),
                }
            }
            (info, ConversationCommand::PickUp { by }) => {
                if info.closed {
                    return Err(ConversationError::Closed);
                }
                match info.assignee {
                    Some(current) if current == by => Ok(vec![]),
                    Some(_) => Err(ConversationError::PickedUpByAnother),
                    None => Ok(vec![ConversationEvent::ConversationPickedUp(
                        ConversationPickedUp { by, at: now },
                    )]),
                }
            }
            (info, ConversationCommand::Close { by, idle }) => {
                if info.closed {
                    return Ok(vec![]);
                }
                if by.is_none() && !info.idle_since(now, idle) {
                    return Err(ConversationError::NotIdle);
                }
                Ok(vec![ConversationEvent::ConversationClosed(
                    ConversationClosed { by, at: now },
                )])
            }
            (_, ConversationCommand::Start(_)) => Err(ConversationError::Exists),
        }
    }

    fn evolve(state: Self::State, event: &Self::Event) -> Self::State {
        match (state, event) {
            (_, ConversationEvent::ConversationStarted(e)) => {
                ConversationState::Started(Box::new(ConversationInfo {
                    id: e.conversation_id,
                    organization: e.organization_id,
                    patient: e.patient_id,
                    team: e.team_id,
                    messages: vec![],
                    patient_read: 0,
                    team_read: 0,
                    assignee: None,
                    last_message_at: e.at,
                    closed: false,
                }))
            }
            (ConversationState::Started(mut info), event) => {
                match event {
                    ConversationEvent::ConversationStarted(_) => {}
                    ConversationEvent::ConversationMessagePosted(e) => {
                        info.messages.push(MessageMeta {
                            id: e.message_id,
                            from_patient: e.by.is_patient(),
                        });
                        // Writing is reading: the writer has seen everything before their message.
                        if e.by.is_patient() {
                            info.patient_read = info.messages.len();
                        } else {
                            info.team_read = info.messages.len();
                        }
                        info.last_message_at = e.at;
                    }
                    ConversationEvent::ConversationRead(e) => {
                        if let Some(index) = info.messages.iter().position(|m| m.id == e.up_to) {
                            let read = if e.by.is_patient() {
                                &mut info.patient_read
                            } else {
                                &mut info.team_read
                            };
                            *read = (*read).max(index + 1);
                        }
                    }
                    ConversationEvent::ConversationPickedUp(e) => info.assignee = Some(e.by),
                    ConversationEvent::ConversationClosed(_) => info.closed = true,
                }
                ConversationState::Started(info)
            }
            (state, _) => state,
        }
    }
}

fn start(
    opening: Opening,
    now: DateTime<Utc>,
) -> Result<Vec<ConversationEvent>, ConversationError> {
    if !opening.seen {
        return Err(ConversationError::NotSeen);
    }
    let by = Party::Patient {
        proxy: opening.proxy,
    };
    Ok(vec![
        ConversationEvent::ConversationStarted(ConversationStarted {
            conversation_id: opening.id,
            organization_id: opening.organization,
            patient_id: opening.patient,
            team_id: opening.team,
            subject: Personal::Known(opening.subject),
            by,
            at: now,
        }),
        ConversationEvent::ConversationMessagePosted(ConversationMessagePosted {
            message_id: opening.message_id,
            body: Personal::Known(opening.body),
            attachment: opening.attachment.map(Personal::Known),
            by,
            at: now,
        }),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decider::testing::given;
    use chrono::TimeZone;

    const IDLE: Duration = Duration::days(14);

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 2, 9, 0, 0).unwrap()
    }

    fn member(n: u128) -> AccountId {
        AccountId(Uuid::from_u128(100 + n))
    }

    fn opening(seen: bool) -> ConversationCommand {
        ConversationCommand::Start(Box::new(Opening {
            id: Uuid::from_u128(1),
            message_id: Uuid::from_u128(10),
            organization: OrganizationId(Uuid::from_u128(2)),
            patient: AccountId(Uuid::from_u128(3)),
            team: Uuid::from_u128(4),
            seen,
            subject: ConversationSubject::parse("My dose").unwrap(),
            body: MessageBody::parse("Should I take it with food?").unwrap(),
            attachment: None,
            proxy: None,
        }))
    }

    fn started() -> Vec<ConversationEvent> {
        Conversation::decide(&ConversationState::Absent, opening(true), t0()).unwrap()
    }

    fn reply(n: u128, by: Party, at: DateTime<Utc>) -> Vec<ConversationEvent> {
        let state = Conversation::fold(started().iter());
        Conversation::decide(
            &state,
            ConversationCommand::Reply {
                message_id: Uuid::from_u128(10 + n),
                body: MessageBody::parse("Yes, with breakfast.").unwrap(),
                attachment: None,
                by,
                idle: IDLE,
            },
            at,
        )
        .unwrap()
    }

    #[test]
    fn a_patient_writes_to_a_team_that_has_seen_them() {
        let events = started();
        assert_eq!(events.len(), 2);
        assert!(matches!(
            &events[1],
            ConversationEvent::ConversationMessagePosted(m) if m.by == Party::PATIENT
        ));
    }

    #[test]
    fn a_patient_cannot_write_to_a_team_they_have_not_seen() {
        given::<Conversation>(vec![])
            .when(opening(false), t0())
            .then_error(ConversationError::NotSeen);
    }

    #[test]
    fn answering_from_the_pool_picks_the_conversation_up() {
        let events = reply(1, Party::CareTeam { by: member(1) }, t0());
        assert_eq!(
            events[0],
            ConversationEvent::ConversationPickedUp(ConversationPickedUp {
                by: member(1),
                at: t0()
            })
        );
        assert_eq!(events.len(), 2);
    }

    #[test]
    fn a_reply_counts_as_unread_for_the_other_side_until_they_read_it() {
        let mut events = started();
        events.extend(reply(1, Party::CareTeam { by: member(1) }, t0()));
        let ConversationState::Started(info) = Conversation::fold(events.iter()) else {
            panic!()
        };
        assert_eq!((info.unread_by_patient(), info.unread_by_team()), (1, 0));
        given::<Conversation>(events)
            .when(ConversationCommand::MarkRead { by: Party::PATIENT }, t0())
            .then(vec![ConversationEvent::ConversationRead(
                ConversationRead {
                    by: Party::PATIENT,
                    up_to: Uuid::from_u128(11),
                    at: t0(),
                },
            )]);
    }

    #[test]
    fn reading_with_nothing_unread_records_nothing() {
        given::<Conversation>(started())
            .when(ConversationCommand::MarkRead { by: Party::PATIENT }, t0())
            .then(vec![]);
    }

    #[test]
    fn a_conversation_picked_up_by_one_member_cannot_be_taken_by_another() {
        let mut events = started();
        events.push(ConversationEvent::ConversationPickedUp(
            ConversationPickedUp {
                by: member(1),
                at: t0(),
            },
        ));
        given::<Conversation>(events)
            .when(ConversationCommand::PickUp { by: member(2) }, t0())
            .then_error(ConversationError::PickedUpByAnother);
    }

    #[test]
    fn an_idle_conversation_takes_no_more_messages() {
        let state = Conversation::fold(started().iter());
        let refused = Conversation::decide(
            &state,
            ConversationCommand::Reply {
                message_id: Uuid::from_u128(11),
                body: MessageBody::parse("Hello?").unwrap(),
                attachment: None,
                by: Party::PATIENT,
                idle: IDLE,
            },
            t0() + IDLE,
        );
        assert_eq!(refused, Err(ConversationError::Closed));
    }

    #[test]
    fn a_conversation_is_closed_for_inactivity_only_once_idle() {
        given::<Conversation>(started())
            .when(
                ConversationCommand::Close {
                    by: None,
                    idle: IDLE,
                },
                t0() + Duration::days(13),
            )
            .then_error(ConversationError::NotIdle);
        given::<Conversation>(started())
            .when(
                ConversationCommand::Close {
                    by: None,
                    idle: IDLE,
                },
                t0() + IDLE,
            )
            .then(vec![ConversationEvent::ConversationClosed(
                ConversationClosed {
                    by: None,
                    at: t0() + IDLE,
                },
            )]);
    }

    #[test]
    fn a_closed_conversation_takes_no_replies() {
        let mut events = started();
        events.push(ConversationEvent::ConversationClosed(ConversationClosed {
            by: Some(member(1)),
            at: t0(),
        }));
        let state = Conversation::fold(events.iter());
        let refused = Conversation::decide(
            &state,
            ConversationCommand::Reply {
                message_id: Uuid::from_u128(11),
                body: MessageBody::parse("One more thing").unwrap(),
                attachment: None,
                by: Party::PATIENT,
                idle: IDLE,
            },
            t0(),
        );
        assert_eq!(refused, Err(ConversationError::Closed));
    }
}
