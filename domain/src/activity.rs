//! Activities: the courses and series meetings learners attend for credit. Staff schedule, change and cancel them.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::values::{
    ActivityCode, ActivitySchedule, ActivityTitle, AttendanceWindow, Audience, Credits, Location,
    SeriesKind, Specialty,
};
use crate::{AccountId, ActivityId, Decider, DomainEvent, ErrorCode, OrganizationId, SeriesId};

/// The activity aggregate.
pub struct Activity;

/// What kind of activity this is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum ActivityKind {
    /// A course (live, one-off).
    Course,
    /// One meeting of a Regularly Scheduled Series.
    SeriesOccurrence {
        /// The series.
        series: SeriesId,
        /// Its kind (Grand Rounds, M&M, ...).
        series_kind: SeriesKind,
    },
}

impl ActivityKind {
    /// True for a meeting of a Regularly Scheduled Series ("Include RSS" on the calendar).
    pub fn is_series(&self) -> bool {
        matches!(self, ActivityKind::SeriesOccurrence { .. })
    }
}

/// Everything staff say about an activity.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActivityDetails {
    /// The title learners see (and the texts name).
    pub title: ActivityTitle,
    /// Course or series meeting.
    pub kind: ActivityKind,
    /// When, and in which zone.
    pub schedule: ActivitySchedule,
    /// Where.
    pub location: Option<Location>,
    /// The specialty it is for.
    pub specialty: Option<Specialty>,
    /// Who may attend.
    pub audience: Audience,
    /// The code learners text, unique within the organization.
    pub code: ActivityCode,
    /// When attendance may be recorded.
    pub window: AttendanceWindow,
    /// The credits offered.
    pub credits: Credits,
    /// Credit waits for the learner's evaluation.
    pub evaluation_required: bool,
}

/// An activity as its events left it.
#[derive(Clone, Debug, PartialEq)]
pub struct ActivityInfo {
    /// The activity.
    pub id: ActivityId,
    /// Its organization.
    pub organization: OrganizationId,
    /// What it is.
    pub details: ActivityDetails,
}

/// The lifecycle of an activity.
#[derive(Clone, Debug, Default, PartialEq)]
pub enum ActivityState {
    /// Nothing recorded.
    #[default]
    Absent,
    /// Scheduled (and possibly over): attendance can be recorded in its window.
    Scheduled(ActivityInfo),
    /// Cancelled: nothing more can be recorded.
    Cancelled(ActivityInfo),
}

impl ActivityState {
    /// The activity, scheduled or cancelled.
    pub fn info(&self) -> Option<&ActivityInfo> {
        match self {
            ActivityState::Absent => None,
            ActivityState::Scheduled(info) | ActivityState::Cancelled(info) => Some(info),
        }
    }
}

/// Commands on an activity.
#[derive(Clone, Debug)]
pub enum ActivityCommand {
    /// Puts a new activity on the calendar.
    Schedule {
        /// The new id.
        id: ActivityId,
        /// Its organization.
        organization: OrganizationId,
        /// What it is.
        details: ActivityDetails,
        /// The staff member.
        by: Option<AccountId>,
    },
    /// Replaces what staff said about it (its kind stays).
    Change {
        /// The new details.
        details: ActivityDetails,
        /// The staff member.
        by: Option<AccountId>,
    },
    /// Takes it off the calendar.
    Cancel {
        /// Why, for learners.
        reason: Option<String>,
        /// The staff member.
        by: Option<AccountId>,
    },
}

/// Events of an activity.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", content = "data")]
pub enum ActivityEvent {
    /// It was put on the calendar.
    ActivityScheduled(ActivityScheduled),
    /// What staff said about it changed.
    ActivityChanged(ActivityChanged),
    /// It was cancelled.
    ActivityCancelled(ActivityCancelled),
}

/// An activity was put on the calendar (v1).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ActivityScheduled {
    /// The activity.
    pub activity_id: ActivityId,
    /// Its organization.
    pub organization_id: OrganizationId,
    /// What it is.
    pub details: ActivityDetails,
    /// The staff member (None: an operator or a series).
    pub by: Option<AccountId>,
    /// When.
    pub at: DateTime<Utc>,
}

/// What staff said about an activity changed (v1): the whole new description.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ActivityChanged {
    /// The new details.
    pub details: ActivityDetails,
    /// The staff member.
    pub by: Option<AccountId>,
    /// When.
    pub at: DateTime<Utc>,
}

/// An activity was cancelled (v1).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ActivityCancelled {
    /// Why, for learners.
    pub reason: Option<String>,
    /// The staff member.
    pub by: Option<AccountId>,
    /// When.
    pub at: DateTime<Utc>,
}

impl DomainEvent for ActivityEvent {
    fn event_type(&self) -> &'static str {
        match self {
            ActivityEvent::ActivityScheduled(_) => "ActivityScheduled",
            ActivityEvent::ActivityChanged(_) => "ActivityChanged",
            ActivityEvent::ActivityCancelled(_) => "ActivityCancelled",
        }
    }
}

/// Why an activity command is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ActivityError {
    /// The id is taken.
    #[error("this activity exists already")]
    AlreadyExists,
    /// No such activity in the organization.
    #[error("no such activity")]
    NotFound,
    /// It was cancelled.
    #[error("this activity was cancelled")]
    Cancelled,
    /// Another activity of the organization uses the code.
    #[error("another activity of the organization uses this code")]
    CodeTaken,
    /// A course cannot become a series meeting or the reverse.
    #[error("an activity's kind cannot change")]
    KindChanged,
}

impl ErrorCode for ActivityError {
    fn code(&self) -> &'static str {
        match self {
            ActivityError::AlreadyExists => "ACTIVITY_EXISTS",
            ActivityError::NotFound => "ACTIVITY_NOT_FOUND",
            ActivityError::Cancelled => "ACTIVITY_CANCELLED",
            ActivityError::CodeTaken => "ACTIVITY_CODE_TAKEN",
            ActivityError::KindChanged => "ACTIVITY_KIND_FIXED",
        }
    }

    fn field(&self) -> Option<&'static str> {
        match self {
            ActivityError::CodeTaken => Some("code"),
            ActivityError::KindChanged => Some("kind"),
            _ => None,
        }
    }
}

impl Decider for Activity {
    type State = ActivityState;
    type Command = ActivityCommand;
    type Event = ActivityEvent;
    type Error = ActivityError;
    const CATEGORY: &'static str = "activity";

    fn decide(
        state: &Self::State,
        command: Self::Command,
        now: DateTime<Utc>,
    ) -> Result<Vec<Self::Event>, Self::Error> {
        match (state, command) {
            (
                ActivityState::Absent,
                ActivityCommand::Schedule {
                    id,
                    organization,
                    details,
                    by,
                },
            ) => Ok(vec![ActivityEvent::ActivityScheduled(ActivityScheduled {
                activity_id: id,
                organization_id: organization,
                details,
                by,
                at: now,
            })]),
            (_, ActivityCommand::Schedule { .. }) => Err(ActivityError::AlreadyExists),
            (ActivityState::Absent, _) => Err(ActivityError::NotFound),
            (ActivityState::Cancelled(_), ActivityCommand::Change { .. }) => {
                Err(ActivityError::Cancelled)
            }
            // Cancelling twice is the same as once: a retried request must not fail.
            (ActivityState::Cancelled(_), ActivityCommand::Cancel { .. }) => Ok(vec![]),
            (ActivityState::Scheduled(info), ActivityCommand::Change { details, by }) => {
                if details.kind != info.details.kind {
                    return Err(ActivityError::KindChanged);
                }
                if details == info.details {
                    return Ok(vec![]);
                }
                Ok(vec![ActivityEvent::ActivityChanged(ActivityChanged {
                    details,
                    by,
                    at: now,
                })])
            }
            (ActivityState::Scheduled(_), ActivityCommand::Cancel { reason, by }) => {
                Ok(vec![ActivityEvent::ActivityCancelled(ActivityCancelled {
                    reason,
                    by,
                    at: now,
                })])
            }
        }
    }

    fn evolve(state: Self::State, event: &Self::Event) -> Self::State {
        match (state, event) {
            (_, ActivityEvent::ActivityScheduled(e)) => ActivityState::Scheduled(ActivityInfo {
                id: e.activity_id,
                organization: e.organization_id,
                details: e.details.clone(),
            }),
            (ActivityState::Scheduled(mut info), ActivityEvent::ActivityChanged(e)) => {
                info.details = e.details.clone();
                ActivityState::Scheduled(info)
            }
            (ActivityState::Scheduled(info), ActivityEvent::ActivityCancelled(_)) => {
                ActivityState::Cancelled(info)
            }
            (state, _) => state,
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::decider::testing::given;
    use crate::values::{CreditAmount, CreditOffer, CreditType, TimeZone};
    use chrono::{NaiveDate, TimeZone as _};
    use uuid::Uuid;

    pub(crate) fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 1, 12, 0, 0).unwrap()
    }

    /// Grand Rounds on 2026-12-01 08:00-09:00 Chicago time, 15 minutes before and 30 after, 1 AMA credit.
    pub(crate) fn details() -> ActivityDetails {
        let local = |h| {
            NaiveDate::from_ymd_opt(2026, 12, 1)
                .unwrap()
                .and_hms_opt(h, 0, 0)
                .unwrap()
        };
        ActivityDetails {
            title: ActivityTitle::parse("Grand Rounds: Sepsis").unwrap(),
            kind: ActivityKind::Course,
            schedule: ActivitySchedule::local(
                local(8),
                local(9),
                TimeZone::parse("America/Chicago").unwrap(),
            )
            .unwrap(),
            location: None,
            specialty: None,
            audience: Audience::Open,
            code: ActivityCode::parse("SEPSIS").unwrap(),
            window: AttendanceWindow::new(15, 30).unwrap(),
            credits: Credits::new(vec![CreditOffer {
                credit_type: CreditType::AmaPraCategory1,
                amount: CreditAmount::from_hundredths(100).unwrap(),
            }])
            .unwrap(),
            evaluation_required: false,
        }
    }

    pub(crate) fn scheduled() -> ActivityEvent {
        ActivityEvent::ActivityScheduled(ActivityScheduled {
            activity_id: ActivityId(Uuid::from_u128(7)),
            organization_id: OrganizationId(Uuid::from_u128(1)),
            details: details(),
            by: None,
            at: t0(),
        })
    }

    #[test]
    fn staff_schedule_an_activity() {
        given::<Activity>([])
            .when(
                ActivityCommand::Schedule {
                    id: ActivityId(Uuid::from_u128(7)),
                    organization: OrganizationId(Uuid::from_u128(1)),
                    details: details(),
                    by: None,
                },
                t0(),
            )
            .then(vec![scheduled()]);
    }

    #[test]
    fn a_change_that_changes_nothing_records_nothing() {
        given::<Activity>([scheduled()])
            .when(
                ActivityCommand::Change {
                    details: details(),
                    by: None,
                },
                t0(),
            )
            .then(vec![]);
    }

    #[test]
    fn a_course_cannot_become_a_series_meeting() {
        let mut changed = details();
        changed.kind = ActivityKind::SeriesOccurrence {
            series: SeriesId(Uuid::from_u128(9)),
            series_kind: SeriesKind::GrandRounds,
        };
        given::<Activity>([scheduled()])
            .when(
                ActivityCommand::Change {
                    details: changed,
                    by: None,
                },
                t0(),
            )
            .then_error(ActivityError::KindChanged);
    }

    #[test]
    fn a_cancelled_activity_cannot_change() {
        let cancelled = ActivityEvent::ActivityCancelled(ActivityCancelled {
            reason: None,
            by: None,
            at: t0(),
        });
        given::<Activity>([scheduled(), cancelled])
            .when(
                ActivityCommand::Change {
                    details: details(),
                    by: None,
                },
                t0(),
            )
            .then_error(ActivityError::Cancelled);
    }

    #[test]
    fn cancelling_twice_records_one_cancellation() {
        let cancelled = ActivityEvent::ActivityCancelled(ActivityCancelled {
            reason: None,
            by: None,
            at: t0(),
        });
        given::<Activity>([scheduled(), cancelled])
            .when(
                ActivityCommand::Cancel {
                    reason: None,
                    by: None,
                },
                t0(),
            )
            .then(vec![]);
    }

    #[test]
    fn changing_an_unknown_activity_is_refused() {
        given::<Activity>([])
            .when(
                ActivityCommand::Cancel {
                    reason: None,
                    by: None,
                },
                t0(),
            )
            .then_error(ActivityError::NotFound);
    }
}
