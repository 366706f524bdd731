//! Regularly Scheduled Series (Grand Rounds, M&M, journal clubs): a recurrence that schedules one activity per meeting.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::values::{ActivityTitle, Recurrence, SeriesKind};
use crate::{AccountId, ActivityId, Decider, DomainEvent, ErrorCode, OrganizationId, SeriesId};

/// The series aggregate: it records how its meetings were scheduled; each meeting is an activity of its own.
pub struct Series;

/// A series as its events left it.
#[derive(Clone, Debug, Default, PartialEq)]
pub enum SeriesState {
    /// Nothing recorded.
    #[default]
    Absent,
    /// Scheduled, with its meetings.
    Scheduled {
        /// The meetings, in order.
        occurrences: Vec<ActivityId>,
    },
}

/// Commands on a series.
#[derive(Clone, Debug)]
pub enum SeriesCommand {
    /// Records a new series and the meetings scheduled for it.
    Schedule(SeriesScheduled),
}

/// Events of a series.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", content = "data")]
pub enum SeriesEvent {
    /// The series was scheduled.
    SeriesScheduled(SeriesScheduled),
}

/// A series was scheduled (v1), with one activity per meeting (each has its own `ActivityScheduled`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SeriesScheduled {
    /// The series.
    pub series_id: SeriesId,
    /// Its organization.
    pub organization_id: OrganizationId,
    /// Its title (each meeting's title starts the same).
    pub title: ActivityTitle,
    /// Its kind.
    pub series_kind: SeriesKind,
    /// How it repeats.
    pub recurrence: Recurrence,
    /// The meetings scheduled, in order.
    pub occurrences: Vec<ActivityId>,
    /// The staff member.
    pub by: Option<AccountId>,
    /// When.
    pub at: DateTime<Utc>,
}

impl DomainEvent for SeriesEvent {
    fn event_type(&self) -> &'static str {
        match self {
            SeriesEvent::SeriesScheduled(_) => "SeriesScheduled",
        }
    }
}

/// Why a series command is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SeriesError {
    /// The id is taken.
    #[error("this series exists already")]
    AlreadyExists,
    /// A series needs at least one meeting.
    #[error("a series schedules 1 to 60 meetings")]
    NoOccurrences,
}

impl ErrorCode for SeriesError {
    fn code(&self) -> &'static str {
        match self {
            SeriesError::AlreadyExists => "SERIES_EXISTS",
            SeriesError::NoOccurrences => "SERIES_EMPTY",
        }
    }

    fn field(&self) -> Option<&'static str> {
        match self {
            SeriesError::NoOccurrences => Some("count"),
            SeriesError::AlreadyExists => None,
        }
    }
}

impl Decider for Series {
    type State = SeriesState;
    type Command = SeriesCommand;
    type Event = SeriesEvent;
    type Error = SeriesError;
    const CATEGORY: &'static str = "series";

    fn decide(
        state: &Self::State,
        command: Self::Command,
        _now: DateTime<Utc>,
    ) -> Result<Vec<Self::Event>, Self::Error> {
        match (state, command) {
            (SeriesState::Absent, SeriesCommand::Schedule(scheduled)) => {
                if scheduled.occurrences.is_empty() {
                    return Err(SeriesError::NoOccurrences);
                }
                Ok(vec![SeriesEvent::SeriesScheduled(scheduled)])
            }
            (SeriesState::Scheduled { .. }, SeriesCommand::Schedule(_)) => {
                Err(SeriesError::AlreadyExists)
            }
        }
    }

    fn evolve(_state: Self::State, event: &Self::Event) -> Self::State {
        match event {
            SeriesEvent::SeriesScheduled(e) => SeriesState::Scheduled {
                occurrences: e.occurrences.clone(),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decider::testing::given;
    use chrono::TimeZone;
    use uuid::Uuid;

    fn scheduled(occurrences: Vec<ActivityId>) -> SeriesScheduled {
        SeriesScheduled {
            series_id: SeriesId(Uuid::from_u128(3)),
            organization_id: OrganizationId(Uuid::from_u128(1)),
            title: ActivityTitle::parse("Medicine Grand Rounds").unwrap(),
            series_kind: SeriesKind::GrandRounds,
            recurrence: Recurrence::weekly(1).unwrap(),
            occurrences,
            by: None,
            at: Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).unwrap(),
        }
    }

    #[test]
    fn a_series_without_meetings_is_refused() {
        given::<Series>([])
            .when(SeriesCommand::Schedule(scheduled(vec![])), Utc::now())
            .then_error(SeriesError::NoOccurrences);
    }

    #[test]
    fn a_series_is_scheduled_once() {
        let event = scheduled(vec![ActivityId(Uuid::from_u128(10))]);
        given::<Series>([SeriesEvent::SeriesScheduled(event.clone())])
            .when(SeriesCommand::Schedule(event), Utc::now())
            .then_error(SeriesError::AlreadyExists);
    }
}
