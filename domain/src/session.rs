//! Sessions: opened by a successful sign-in, ended by sign-out or expiry. Only the token's hash is kept.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::account::Role;
use crate::values::TokenHash;
use crate::{AccountId, Decider, DomainEvent, ErrorCode, OrganizationId, SessionId};

/// The session aggregate.
pub struct Session;

/// Who a valid session speaks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Principal {
    /// The session.
    pub session: SessionId,
    /// The account signed in.
    pub account: AccountId,
    /// Its organization: every request is scoped to it.
    pub organization: OrganizationId,
    /// Its role.
    pub role: Role,
}

/// A session's state.
#[derive(Clone, Debug, Default, PartialEq)]
pub enum SessionState {
    /// Never started.
    #[default]
    Absent,
    /// Open until `expires_at`.
    Open {
        /// Who it speaks for.
        principal: Principal,
        /// Hash of the bearer token.
        token_hash: TokenHash,
        /// When it started.
        started_at: DateTime<Utc>,
        /// When it ends at the latest.
        expires_at: DateTime<Utc>,
        /// How long it may sit idle, in minutes.
        idle_minutes: u32,
    },
    /// Ended.
    Ended,
}

/// Why a session ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EndReason {
    /// The person signed out.
    SignedOut,
    /// The account revoked it (locked, or its password changed).
    Revoked,
}

/// Commands on a session.
#[derive(Clone, Debug)]
pub enum SessionCommand {
    /// Opens the session.
    Start {
        /// Who it speaks for.
        principal: Principal,
        /// Hash of the bearer token.
        token_hash: TokenHash,
        /// When it ends at the latest.
        expires_at: DateTime<Utc>,
        /// How long it may sit idle, in minutes.
        idle_minutes: u32,
    },
    /// Ends the session.
    End {
        /// Why.
        reason: EndReason,
    },
}

/// Events of a session.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", content = "data")]
pub enum SessionEvent {
    /// See [`SessionStarted`].
    SessionStarted(SessionStarted),
    /// See [`SessionEnded`].
    SessionEnded(SessionEnded),
}

/// A session was opened (v1).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SessionStarted {
    /// The session.
    pub session_id: SessionId,
    /// The account.
    pub account_id: AccountId,
    /// Its organization.
    pub organization_id: OrganizationId,
    /// Its role at sign-in.
    pub role: Role,
    /// SHA-256 of the bearer token.
    pub token_hash: TokenHash,
    /// When.
    pub started_at: DateTime<Utc>,
    /// When it ends at the latest.
    pub expires_at: DateTime<Utc>,
    /// How long it may sit idle before it ends, in minutes (the organization's rule at sign-in).
    pub idle_minutes: u32,
}

/// A session was ended (v1).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SessionEnded {
    /// When.
    pub at: DateTime<Utc>,
    /// Why.
    pub reason: EndReason,
}

impl DomainEvent for SessionEvent {
    fn event_type(&self) -> &'static str {
        match self {
            SessionEvent::SessionStarted(_) => "SessionStarted",
            SessionEvent::SessionEnded(_) => "SessionEnded",
        }
    }
}

/// Why a session command or check is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SessionError {
    /// Start on a session that exists.
    #[error("this session exists already")]
    AlreadyStarted,
    /// The token is unknown, wrong, ended or expired; the four are not told apart.
    #[error("the session is not valid; sign in again")]
    Invalid,
}

impl ErrorCode for SessionError {
    fn code(&self) -> &'static str {
        match self {
            SessionError::AlreadyStarted => "SESSION_EXISTS",
            SessionError::Invalid => "UNAUTHENTICATED",
        }
    }
}

impl SessionState {
    /// Checks a presented token at `now`, given when the session was last used (None: not since it started): the
    /// principal if the session is open, the token matches, and it has neither expired nor sat idle too long.
    pub fn authenticate(
        &self,
        presented: &TokenHash,
        now: DateTime<Utc>,
        last_seen: Option<DateTime<Utc>>,
    ) -> Result<Principal, SessionError> {
        match self {
            SessionState::Open {
                principal,
                token_hash,
                started_at,
                expires_at,
                idle_minutes,
            } if token_hash.ct_eq(presented)
                && now < *expires_at
                && now
                    < last_seen.map_or(*started_at, |seen| seen.max(*started_at))
                        + chrono::Duration::minutes(i64::from(*idle_minutes)) =>
            {
                Ok(principal.clone())
            }
            _ => Err(SessionError::Invalid),
        }
    }
}

impl Decider for Session {
    type State = SessionState;
    type Command = SessionCommand;
    type Event = SessionEvent;
    type Error = SessionError;
    const CATEGORY: &'static str = "session";

    fn decide(
        state: &Self::State,
        command: Self::Command,
        now: DateTime<Utc>,
    ) -> Result<Vec<Self::Event>, Self::Error> {
        match (state, command) {
            (
                SessionState::Absent,
                SessionCommand::Start {
                    principal,
                    token_hash,
                    expires_at,
                    idle_minutes,
                },
            ) => Ok(vec![SessionEvent::SessionStarted(SessionStarted {
                idle_minutes,
                session_id: principal.session,
                account_id: principal.account,
                organization_id: principal.organization,
                role: principal.role,
                token_hash,
                started_at: now,
                expires_at,
            })]),
            (_, SessionCommand::Start { .. }) => Err(SessionError::AlreadyStarted),
            (SessionState::Open { .. }, SessionCommand::End { reason }) => {
                Ok(vec![SessionEvent::SessionEnded(SessionEnded {
                    at: now,
                    reason,
                })])
            }
            // Ending what is not open changes nothing: signing out twice is not an error.
            (SessionState::Absent | SessionState::Ended, SessionCommand::End { .. }) => Ok(vec![]),
        }
    }

    fn evolve(state: Self::State, event: &Self::Event) -> Self::State {
        match event {
            SessionEvent::SessionStarted(e) => SessionState::Open {
                principal: Principal {
                    session: e.session_id,
                    account: e.account_id,
                    organization: e.organization_id,
                    role: e.role,
                },
                token_hash: e.token_hash,
                started_at: e.started_at,
                expires_at: e.expires_at,
                idle_minutes: e.idle_minutes,
            },
            SessionEvent::SessionEnded(_) => match state {
                SessionState::Absent => SessionState::Absent,
                _ => SessionState::Ended,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decider::testing::given;
    use chrono::{Duration, TimeZone};
    use uuid::Uuid;

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 1, 9, 0, 0).unwrap()
    }

    fn principal() -> Principal {
        Principal {
            session: SessionId(Uuid::from_u128(5)),
            account: AccountId(Uuid::from_u128(7)),
            organization: OrganizationId(Uuid::from_u128(1)),
            role: Role::Learner,
        }
    }

    fn started() -> SessionEvent {
        SessionEvent::SessionStarted(SessionStarted {
            session_id: principal().session,
            account_id: principal().account,
            organization_id: principal().organization,
            role: Role::Learner,
            token_hash: TokenHash([3; 32]),
            started_at: t0(),
            expires_at: t0() + Duration::hours(8),
            idle_minutes: 30,
        })
    }

    #[test]
    fn starting_a_session_records_only_the_token_hash() {
        given::<Session>([])
            .when(
                SessionCommand::Start {
                    principal: principal(),
                    token_hash: TokenHash([3; 32]),
                    expires_at: t0() + Duration::hours(8),
                    idle_minutes: 30,
                },
                t0(),
            )
            .then(vec![started()]);
    }

    #[test]
    fn signing_out_ends_the_session() {
        given::<Session>([started()])
            .when(
                SessionCommand::End {
                    reason: EndReason::SignedOut,
                },
                t0(),
            )
            .then(vec![SessionEvent::SessionEnded(SessionEnded {
                at: t0(),
                reason: EndReason::SignedOut,
            })]);
    }

    #[test]
    fn signing_out_twice_changes_nothing() {
        let ended = SessionEvent::SessionEnded(SessionEnded {
            at: t0(),
            reason: EndReason::SignedOut,
        });
        given::<Session>([started(), ended])
            .when(
                SessionCommand::End {
                    reason: EndReason::SignedOut,
                },
                t0(),
            )
            .then(vec![]);
    }

    #[test]
    fn an_open_session_authenticates_its_token_until_it_expires() {
        let state = Session::fold([started()].iter());
        assert_eq!(
            state.authenticate(&TokenHash([3; 32]), t0(), None),
            Ok(principal())
        );
        assert_eq!(
            state.authenticate(&TokenHash([4; 32]), t0(), None),
            Err(SessionError::Invalid)
        );
        assert_eq!(
            state.authenticate(&TokenHash([3; 32]), t0() + Duration::hours(8), None),
            Err(SessionError::Invalid)
        );
    }

    #[test]
    fn a_session_idle_too_long_authenticates_nothing() {
        let state = Session::fold([started()].iter());
        let token = TokenHash([3; 32]);
        assert!(state
            .authenticate(&token, t0() + Duration::minutes(29), None)
            .is_ok());
        assert_eq!(
            state.authenticate(&token, t0() + Duration::minutes(30), None),
            Err(SessionError::Invalid)
        );
        let seen = Some(t0() + Duration::minutes(20));
        assert!(state
            .authenticate(&token, t0() + Duration::minutes(49), seen)
            .is_ok());
        assert_eq!(
            state.authenticate(&token, t0() + Duration::minutes(50), seen),
            Err(SessionError::Invalid)
        );
    }

    #[test]
    fn an_ended_session_authenticates_nothing() {
        let ended = SessionEvent::SessionEnded(SessionEnded {
            at: t0(),
            reason: EndReason::SignedOut,
        });
        let state = Session::fold([started(), ended].iter());
        assert_eq!(
            state.authenticate(&TokenHash([3; 32]), t0(), None),
            Err(SessionError::Invalid)
        );
    }
}
