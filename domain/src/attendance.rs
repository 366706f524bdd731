//! Attendance: a learner was at an activity, and the credit it earns them. One stream per learner and activity, so
//! that a room full of learners texting at once do not queue behind each other, and a repeat finds the first record.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::activity::ActivityState;
use crate::personal::mark_personal;
use crate::values::{Audience, Credits, WindowMiss};
use crate::{
    AccountId, ActivityId, Decider, DomainEvent, ErrorCode, OrganizationId, Personal, UpcastError,
};

/// The attendance aggregate.
pub struct Attendance;

/// How attendance reached us.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "via")]
pub enum AttendanceChannel {
    /// The learner texted the activity code from a paired phone.
    Sms,
    /// The learner entered the code in the portal.
    Web,
    /// Staff recorded it from a sign-in sheet.
    Staff {
        /// The staff member.
        by: AccountId,
    },
}

impl AttendanceChannel {
    /// The stored name.
    pub fn as_str(&self) -> &'static str {
        match self {
            AttendanceChannel::Sms => "sms",
            AttendanceChannel::Web => "web",
            AttendanceChannel::Staff { .. } => "staff",
        }
    }
}

/// What credit depends on about the learner, read from their account when the command is issued.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LearnerStanding {
    /// The learner.
    pub account: AccountId,
    /// Their organization.
    pub organization: OrganizationId,
    /// Activated and not disabled.
    pub active: bool,
    /// Employed in the organization's care network (its affiliates).
    pub affiliate: bool,
    /// Required profile fields still unanswered (API names).
    pub missing_profile_fields: Vec<String>,
}

/// Why credit is not awarded yet.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "hold")]
pub enum CreditHold {
    /// The activity asks for an evaluation first.
    EvaluationRequired,
    /// The learner's profile misses required fields.
    ProfileIncomplete {
        /// The fields, by their API names.
        missing: Vec<String>,
    },
    /// The account is not activated, or is disabled.
    AccountNotActive,
}

impl CreditHold {
    /// The stable code of the reason.
    pub fn code(&self) -> &'static str {
        match self {
            CreditHold::EvaluationRequired => "EVALUATION_REQUIRED",
            CreditHold::ProfileIncomplete { .. } => "PROFILE_INCOMPLETE",
            CreditHold::AccountNotActive => "ACCOUNT_NOT_ACTIVE",
        }
    }
}

/// A learner's evaluation of an activity.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Evaluation {
    /// Overall rating, 1 (poor) to 5 (excellent).
    pub rating: u8,
    /// Whether the stated objectives were met.
    pub objectives_met: bool,
    /// Free comments, at most 2,000 characters.
    pub comments: Option<String>,
}

/// Why an evaluation is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {rule}")]
pub struct EvaluationError {
    /// The field.
    pub field: &'static str,
    /// The rule.
    pub rule: &'static str,
}

impl Evaluation {
    /// Checks a rating of 1 to 5 and comments of at most 2,000 characters (blank comments are none).
    pub fn new(
        rating: u8,
        objectives_met: bool,
        comments: Option<&str>,
    ) -> Result<Self, EvaluationError> {
        if !(1..=5).contains(&rating) {
            return Err(EvaluationError {
                field: "rating",
                rule: "is 1 to 5",
            });
        }
        let comments = comments.map(str::trim).filter(|c| !c.is_empty());
        if comments.is_some_and(|c| c.chars().count() > 2000) {
            return Err(EvaluationError {
                field: "comments",
                rule: "has at most 2000 characters",
            });
        }
        Ok(Self {
            rating,
            objectives_met,
            comments: comments.map(str::to_owned),
        })
    }
}

/// A recorded attendance.
#[derive(Clone, Debug, PartialEq)]
pub struct AttendanceRecord {
    /// The activity.
    pub activity: ActivityId,
    /// The learner.
    pub learner: AccountId,
    /// The credits claimed.
    pub credits: Credits,
    /// The activity asked for an evaluation.
    pub evaluation_required: bool,
    /// The evaluation was submitted.
    pub evaluated: bool,
    /// Why credit waits (empty once awarded).
    pub holds: Vec<CreditHold>,
    /// The credit was awarded.
    pub awarded: bool,
}

/// The lifecycle of one learner's attendance at one activity.
#[derive(Clone, Debug, Default, PartialEq)]
pub enum AttendanceState {
    /// Not recorded.
    #[default]
    Absent,
    /// Recorded.
    Recorded(AttendanceRecord),
}

/// Commands on an attendance.
#[derive(Clone, Debug)]
pub enum AttendanceCommand {
    /// Records that the learner attended: a repeat records nothing.
    Record {
        /// The activity as it stands.
        activity: Box<ActivityState>,
        /// The learner as they stand.
        learner: LearnerStanding,
        /// How it reached us.
        channel: AttendanceChannel,
    },
    /// The learner submits their evaluation.
    SubmitEvaluation {
        /// The answers.
        evaluation: Evaluation,
        /// The learner as they stand.
        learner: LearnerStanding,
    },
    /// Checks again whether held credit can be awarded (after the profile was completed, say).
    ClaimCredit {
        /// The learner as they stand.
        learner: LearnerStanding,
    },
}

/// Events of an attendance.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", content = "data")]
pub enum AttendanceEvent {
    /// The learner attended.
    AttendanceRecorded(AttendanceRecorded),
    /// The learner evaluated the activity.
    EvaluationSubmitted(EvaluationSubmitted),
    /// Credit waits, for other reasons than before.
    CreditHeld(CreditHeld),
    /// The credit was awarded.
    CreditAwarded(CreditAwarded),
}

/// A learner attended an activity (v1) and claimed its credits; `holds` say why credit waits, if it does.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AttendanceRecorded {
    /// The activity.
    pub activity_id: ActivityId,
    /// Its organization.
    pub organization_id: OrganizationId,
    /// The learner.
    pub learner_id: AccountId,
    /// How it reached us.
    pub channel: AttendanceChannel,
    /// The credits claimed (the activity's offer at the time).
    pub credits: Credits,
    /// The activity asked for an evaluation.
    pub evaluation_required: bool,
    /// Why credit waits (empty: a `CreditAwarded` follows).
    pub holds: Vec<CreditHold>,
    /// When.
    pub at: DateTime<Utc>,
}

/// The learner evaluated the activity (v2: the answers are personal, encrypted with the learner's key; v1 stored
/// them in clear).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EvaluationSubmitted {
    /// The answers (personal: the comments are the learner's own words).
    pub evaluation: Personal<Evaluation>,
    /// When.
    pub at: DateTime<Utc>,
}

/// Credit still waits, now for these reasons (v1).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CreditHeld {
    /// The reasons.
    pub holds: Vec<CreditHold>,
    /// When.
    pub at: DateTime<Utc>,
}

/// The credits were awarded (v1).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CreditAwarded {
    /// The credits.
    pub credits: Credits,
    /// When.
    pub at: DateTime<Utc>,
}

impl DomainEvent for AttendanceEvent {
    fn event_type(&self) -> &'static str {
        match self {
            AttendanceEvent::AttendanceRecorded(_) => "AttendanceRecorded",
            AttendanceEvent::EvaluationSubmitted(_) => "EvaluationSubmitted",
            AttendanceEvent::CreditHeld(_) => "CreditHeld",
            AttendanceEvent::CreditAwarded(_) => "CreditAwarded",
        }
    }

    fn schema_version(&self) -> u16 {
        match self {
            AttendanceEvent::EvaluationSubmitted(_) => 2,
            _ => 1,
        }
    }

    fn upcast(event_type: &str, version: u16, mut data: Value) -> Result<Value, UpcastError> {
        match (event_type, version) {
            ("EvaluationSubmitted", 1) => {
                mark_personal(&mut data, "evaluation");
                Ok(data)
            }
            ("EvaluationSubmitted", 2) | (_, 1) => Ok(data),
            _ => Err(UpcastError::UnknownVersion {
                event_type: event_type.to_owned(),
                version,
            }),
        }
    }
}

/// Why an attendance command is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AttendanceError {
    /// No such activity in the learner's organization.
    #[error("no activity has this code or id")]
    ActivityNotFound,
    /// The activity was cancelled.
    #[error("this activity was cancelled")]
    ActivityCancelled,
    /// Outside the attendance window.
    #[error("attendance can only be recorded from {before} minutes before the start to {after} minutes after the end")]
    OutsideWindow {
        /// Too early or too late.
        miss: WindowMiss,
        /// Minutes before the start.
        before: u32,
        /// Minutes after the end.
        after: u32,
    },
    /// The activity is for the organization's affiliates only.
    #[error("this activity is limited to the organization and its affiliates")]
    NotInAudience,
    /// No attendance to evaluate or claim.
    #[error("no attendance is recorded for this activity")]
    NotAttended,
    /// The evaluation was submitted before.
    #[error("the evaluation was submitted already")]
    EvaluationAlreadySubmitted,
    /// No such learner in the organization.
    #[error("no such learner")]
    LearnerNotFound,
}

impl ErrorCode for AttendanceError {
    fn code(&self) -> &'static str {
        match self {
            AttendanceError::ActivityNotFound => "ACTIVITY_NOT_FOUND",
            AttendanceError::ActivityCancelled => "ACTIVITY_CANCELLED",
            AttendanceError::OutsideWindow {
                miss: WindowMiss::TooEarly,
                ..
            } => "ATTENDANCE_TOO_EARLY",
            AttendanceError::OutsideWindow {
                miss: WindowMiss::TooLate,
                ..
            } => "ATTENDANCE_TOO_LATE",
            AttendanceError::NotInAudience => "NOT_IN_AUDIENCE",
            AttendanceError::NotAttended => "NOT_ATTENDED",
            AttendanceError::EvaluationAlreadySubmitted => "EVALUATION_ALREADY_SUBMITTED",
            AttendanceError::LearnerNotFound => "LEARNER_NOT_FOUND",
        }
    }

    fn field(&self) -> Option<&'static str> {
        match self {
            AttendanceError::ActivityNotFound => Some("code"),
            AttendanceError::LearnerNotFound => Some("learnerId"),
            _ => None,
        }
    }
}

/// Why credit would wait for this learner now, given whether the evaluation is still owed.
pub fn credit_holds(learner: &LearnerStanding, evaluation_owed: bool) -> Vec<CreditHold> {
    let mut holds = Vec::new();
    if evaluation_owed {
        holds.push(CreditHold::EvaluationRequired);
    }
    if !learner.missing_profile_fields.is_empty() {
        holds.push(CreditHold::ProfileIncomplete {
            missing: learner.missing_profile_fields.clone(),
        });
    }
    if !learner.active {
        holds.push(CreditHold::AccountNotActive);
    }
    holds
}

/// Award the credit, or record new reasons to hold it, after something changed.
fn settle(
    record: &AttendanceRecord,
    holds: Vec<CreditHold>,
    now: DateTime<Utc>,
) -> Vec<AttendanceEvent> {
    if record.awarded {
        vec![]
    } else if holds.is_empty() {
        vec![AttendanceEvent::CreditAwarded(CreditAwarded {
            credits: record.credits.clone(),
            at: now,
        })]
    } else if holds != record.holds {
        vec![AttendanceEvent::CreditHeld(CreditHeld { holds, at: now })]
    } else {
        vec![]
    }
}

impl Decider for Attendance {
    type State = AttendanceState;
    type Command = AttendanceCommand;
    type Event = AttendanceEvent;
    type Error = AttendanceError;
    const CATEGORY: &'static str = "attendance";

    fn decide(
        state: &Self::State,
        command: Self::Command,
        now: DateTime<Utc>,
    ) -> Result<Vec<Self::Event>, Self::Error> {
        match (state, command) {
            // A repeat (a second text, a retried request) is harmless: one attendance, the same answer.
            (AttendanceState::Recorded(_), AttendanceCommand::Record { .. }) => Ok(vec![]),
            (
                AttendanceState::Absent,
                AttendanceCommand::Record {
                    activity,
                    learner,
                    channel,
                },
            ) => {
                let info = match activity.as_ref() {
                    ActivityState::Scheduled(info) => info,
                    ActivityState::Cancelled(info) if info.organization == learner.organization => {
                        return Err(AttendanceError::ActivityCancelled)
                    }
                    _ => return Err(AttendanceError::ActivityNotFound),
                };
                if info.organization != learner.organization {
                    return Err(AttendanceError::ActivityNotFound);
                }
                let details = &info.details;
                if details.audience == Audience::Affiliates && !learner.affiliate {
                    return Err(AttendanceError::NotInAudience);
                }
                let window = details.window;
                let checked = match channel {
                    // A sign-in sheet is entered after the event: only a record before the window opens is refused.
                    AttendanceChannel::Staff { .. } => match window.check(&details.schedule, now) {
                        Err(WindowMiss::TooLate) => Ok(()),
                        other => other,
                    },
                    AttendanceChannel::Sms | AttendanceChannel::Web => {
                        window.check(&details.schedule, now)
                    }
                };
                if let Err(miss) = checked {
                    return Err(AttendanceError::OutsideWindow {
                        miss,
                        before: window.before_minutes,
                        after: window.after_minutes,
                    });
                }
                let holds = credit_holds(&learner, details.evaluation_required);
                let mut events = vec![AttendanceEvent::AttendanceRecorded(AttendanceRecorded {
                    activity_id: info.id,
                    organization_id: info.organization,
                    learner_id: learner.account,
                    channel,
                    credits: details.credits.clone(),
                    evaluation_required: details.evaluation_required,
                    holds: holds.clone(),
                    at: now,
                })];
                if holds.is_empty() {
                    events.push(AttendanceEvent::CreditAwarded(CreditAwarded {
                        credits: details.credits.clone(),
                        at: now,
                    }));
                }
                Ok(events)
            }
            (AttendanceState::Absent, _) => Err(AttendanceError::NotAttended),
            (
                AttendanceState::Recorded(record),
                AttendanceCommand::SubmitEvaluation {
                    evaluation,
                    learner,
                },
            ) => {
                if record.evaluated {
                    return Err(AttendanceError::EvaluationAlreadySubmitted);
                }
                let mut events = vec![AttendanceEvent::EvaluationSubmitted(EvaluationSubmitted {
                    evaluation: Personal::Known(evaluation),
                    at: now,
                })];
                events.extend(settle(record, credit_holds(&learner, false), now));
                Ok(events)
            }
            (AttendanceState::Recorded(record), AttendanceCommand::ClaimCredit { learner }) => {
                let owed = record.evaluation_required && !record.evaluated;
                Ok(settle(record, credit_holds(&learner, owed), now))
            }
        }
    }

    fn evolve(state: Self::State, event: &Self::Event) -> Self::State {
        match (state, event) {
            (_, AttendanceEvent::AttendanceRecorded(e)) => {
                AttendanceState::Recorded(AttendanceRecord {
                    activity: e.activity_id,
                    learner: e.learner_id,
                    credits: e.credits.clone(),
                    evaluation_required: e.evaluation_required,
                    evaluated: false,
                    holds: e.holds.clone(),
                    awarded: false,
                })
            }
            (AttendanceState::Recorded(mut record), AttendanceEvent::EvaluationSubmitted(_)) => {
                record.evaluated = true;
                record
                    .holds
                    .retain(|h| *h != CreditHold::EvaluationRequired);
                AttendanceState::Recorded(record)
            }
            (AttendanceState::Recorded(mut record), AttendanceEvent::CreditHeld(e)) => {
                record.holds = e.holds.clone();
                AttendanceState::Recorded(record)
            }
            (AttendanceState::Recorded(mut record), AttendanceEvent::CreditAwarded(_)) => {
                record.holds.clear();
                record.awarded = true;
                AttendanceState::Recorded(record)
            }
            (state, _) => state,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::activity::tests::{details, scheduled, t0};
    use crate::activity::{ActivityEvent, ActivityInfo};
    use crate::decider::testing::given;
    use chrono::Duration;
    use uuid::Uuid;

    fn activity() -> ActivityState {
        crate::activity::Activity::fold([scheduled()].iter())
    }

    fn activity_with(change: impl FnOnce(&mut crate::activity::ActivityDetails)) -> ActivityState {
        let mut d = details();
        change(&mut d);
        ActivityState::Scheduled(ActivityInfo {
            id: ActivityId(Uuid::from_u128(7)),
            organization: OrganizationId(Uuid::from_u128(1)),
            details: d,
        })
    }

    fn learner() -> LearnerStanding {
        LearnerStanding {
            account: AccountId(Uuid::from_u128(42)),
            organization: OrganizationId(Uuid::from_u128(1)),
            active: true,
            affiliate: false,
            missing_profile_fields: vec![],
        }
    }

    fn record(activity: ActivityState, learner: LearnerStanding) -> AttendanceCommand {
        AttendanceCommand::Record {
            activity: Box::new(activity),
            learner,
            channel: AttendanceChannel::Sms,
        }
    }

    /// 08:30 Chicago time on the activity's day, in the middle of it.
    fn during() -> DateTime<Utc> {
        details().schedule.starts_at + Duration::minutes(30)
    }

    fn recorded(holds: Vec<CreditHold>, evaluation_required: bool) -> AttendanceEvent {
        AttendanceEvent::AttendanceRecorded(AttendanceRecorded {
            activity_id: ActivityId(Uuid::from_u128(7)),
            organization_id: OrganizationId(Uuid::from_u128(1)),
            learner_id: AccountId(Uuid::from_u128(42)),
            channel: AttendanceChannel::Sms,
            credits: details().credits,
            evaluation_required,
            holds,
            at: during(),
        })
    }

    fn awarded(at: DateTime<Utc>) -> AttendanceEvent {
        AttendanceEvent::CreditAwarded(CreditAwarded {
            credits: details().credits,
            at,
        })
    }

    #[test]
    fn attendance_in_the_window_claims_the_credit() {
        given::<Attendance>([])
            .when(record(activity(), learner()), during())
            .then(vec![recorded(vec![], false), awarded(during())]);
    }

    #[test]
    fn a_second_record_records_nothing() {
        given::<Attendance>([recorded(vec![], false), awarded(during())])
            .when(record(activity(), learner()), during() + Duration::days(30))
            .then(vec![]);
    }

    #[test]
    fn a_text_before_the_window_opens_is_too_early() {
        let at = details().schedule.starts_at - Duration::minutes(16);
        given::<Attendance>([])
            .when(record(activity(), learner()), at)
            .then_error(AttendanceError::OutsideWindow {
                miss: WindowMiss::TooEarly,
                before: 15,
                after: 30,
            });
    }

    #[test]
    fn a_text_after_the_window_closes_is_too_late() {
        let at = details().schedule.ends_at + Duration::minutes(31);
        given::<Attendance>([])
            .when(record(activity(), learner()), at)
            .then_error(AttendanceError::OutsideWindow {
                miss: WindowMiss::TooLate,
                before: 15,
                after: 30,
            });
    }

    #[test]
    fn staff_may_enter_a_sign_in_sheet_after_the_window() {
        let at = details().schedule.ends_at + Duration::days(3);
        let staff = AccountId(Uuid::from_u128(5));
        let events = Attendance::decide(
            &AttendanceState::Absent,
            AttendanceCommand::Record {
                activity: Box::new(activity()),
                learner: learner(),
                channel: AttendanceChannel::Staff { by: staff },
            },
            at,
        )
        .unwrap();
        assert_eq!(events.len(), 2);
    }

    #[test]
    fn staff_may_not_record_before_the_window_opens() {
        let at = details().schedule.starts_at - Duration::days(1);
        let error = Attendance::decide(
            &AttendanceState::Absent,
            AttendanceCommand::Record {
                activity: Box::new(activity()),
                learner: learner(),
                channel: AttendanceChannel::Staff {
                    by: AccountId(Uuid::from_u128(5)),
                },
            },
            at,
        )
        .unwrap_err();
        assert_eq!(error.code(), "ATTENDANCE_TOO_EARLY");
    }

    #[test]
    fn a_cancelled_activity_records_no_attendance() {
        let cancelled = crate::activity::Activity::fold(
            [
                scheduled(),
                ActivityEvent::ActivityCancelled(crate::activity::ActivityCancelled {
                    reason: None,
                    by: None,
                    at: t0(),
                }),
            ]
            .iter(),
        );
        given::<Attendance>([])
            .when(record(cancelled, learner()), during())
            .then_error(AttendanceError::ActivityCancelled);
    }

    #[test]
    fn an_activity_of_another_organization_is_not_found() {
        let mut stranger = learner();
        stranger.organization = OrganizationId(Uuid::from_u128(2));
        given::<Attendance>([])
            .when(record(activity(), stranger), during())
            .then_error(AttendanceError::ActivityNotFound);
    }

    #[test]
    fn an_affiliates_only_activity_refuses_others() {
        let limited = activity_with(|d| d.audience = Audience::Affiliates);
        given::<Attendance>([])
            .when(record(limited, learner()), during())
            .then_error(AttendanceError::NotInAudience);
    }

    #[test]
    fn credit_waits_for_a_required_evaluation() {
        let evaluated = activity_with(|d| d.evaluation_required = true);
        given::<Attendance>([])
            .when(record(evaluated, learner()), during())
            .then(vec![recorded(vec![CreditHold::EvaluationRequired], true)]);
    }

    #[test]
    fn the_evaluation_releases_the_credit() {
        let evaluation = Evaluation::new(5, true, Some("Useful")).unwrap();
        let later = during() + Duration::hours(2);
        given::<Attendance>([recorded(vec![CreditHold::EvaluationRequired], true)])
            .when(
                AttendanceCommand::SubmitEvaluation {
                    evaluation: evaluation.clone(),
                    learner: learner(),
                },
                later,
            )
            .then(vec![
                AttendanceEvent::EvaluationSubmitted(EvaluationSubmitted {
                    evaluation: Personal::Known(evaluation),
                    at: later,
                }),
                awarded(later),
            ]);
    }

    #[test]
    fn a_version_1_evaluation_reads_as_known_personal_data() {
        let v1 = serde_json::json!({ "evaluation": { "rating": 5 }, "at": "2026-03-01T09:00:00Z" });

        let upcast = AttendanceEvent::upcast("EvaluationSubmitted", 1, v1).unwrap();

        assert_eq!(
            upcast["evaluation"],
            serde_json::json!({ "$pii": { "rating": 5 } })
        );
    }

    #[test]
    fn an_evaluation_is_submitted_once() {
        let evaluation = Evaluation::new(4, true, None).unwrap();
        given::<Attendance>([
            recorded(vec![CreditHold::EvaluationRequired], true),
            AttendanceEvent::EvaluationSubmitted(EvaluationSubmitted {
                evaluation: Personal::Known(evaluation.clone()),
                at: during(),
            }),
        ])
        .when(
            AttendanceCommand::SubmitEvaluation {
                evaluation,
                learner: learner(),
            },
            during(),
        )
        .then_error(AttendanceError::EvaluationAlreadySubmitted);
    }

    #[test]
    fn an_incomplete_profile_holds_the_credit_with_the_missing_fields() {
        let mut incomplete = learner();
        incomplete.missing_profile_fields = vec!["dateOfBirth".to_owned()];
        given::<Attendance>([])
            .when(record(activity(), incomplete), during())
            .then(vec![recorded(
                vec![CreditHold::ProfileIncomplete {
                    missing: vec!["dateOfBirth".to_owned()],
                }],
                false,
            )]);
    }

    #[test]
    fn completing_the_profile_lets_the_held_credit_be_claimed() {
        let held = recorded(
            vec![CreditHold::ProfileIncomplete {
                missing: vec!["dateOfBirth".to_owned()],
            }],
            false,
        );
        let later = during() + Duration::days(1);
        given::<Attendance>([held])
            .when(AttendanceCommand::ClaimCredit { learner: learner() }, later)
            .then(vec![awarded(later)]);
    }

    #[test]
    fn claiming_with_the_same_holds_records_nothing() {
        let mut incomplete = learner();
        incomplete.missing_profile_fields = vec!["dateOfBirth".to_owned()];
        let held = recorded(
            vec![CreditHold::ProfileIncomplete {
                missing: vec!["dateOfBirth".to_owned()],
            }],
            false,
        );
        given::<Attendance>([held])
            .when(
                AttendanceCommand::ClaimCredit {
                    learner: incomplete,
                },
                during(),
            )
            .then(vec![]);
    }

    #[test]
    fn an_evaluation_without_attendance_is_refused() {
        given::<Attendance>([])
            .when(
                AttendanceCommand::SubmitEvaluation {
                    evaluation: Evaluation::new(3, false, None).unwrap(),
                    learner: learner(),
                },
                during(),
            )
            .then_error(AttendanceError::NotAttended);
    }

    #[test]
    fn ratings_are_one_to_five() {
        assert_eq!(Evaluation::new(0, true, None).unwrap_err().field, "rating");
        assert_eq!(Evaluation::new(6, true, None).unwrap_err().field, "rating");
        assert_eq!(Evaluation::new(5, true, Some("  ")).unwrap().comments, None);
    }
}
