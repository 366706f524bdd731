//! Attendance commands: record attendance (by text, on the web, or by staff from a sign-in sheet), submit the
//! evaluation, and claim credit that was held.

use chrono::{DateTime, Utc};
use portal_domain::account::{Account, AccountState};
use portal_domain::activity::{ActivityInfo, ActivityState};
use portal_domain::attendance::{
    Attendance, AttendanceChannel, AttendanceCommand, AttendanceError, AttendanceEvent,
    AttendanceRecord, AttendanceState, CreditHold, Evaluation, LearnerStanding,
};
use portal_domain::values::{Credits, EmailAddress};
use portal_domain::{AccountId, ActivityId, Decider, OrganizationId, Personal};
use uuid::Uuid;

use crate::handler::{execute, CommandContext, CommandError, FollowUp, Plan};
use crate::log::{EventLog, StreamId};
use crate::store::Store;
use crate::{accounts, activities, messages};

/// The stream of one learner's attendance at one activity: its id is derived from both, so that every channel
/// finds the same stream and a second record is a repeat.
pub fn stream(activity: ActivityId, learner: AccountId) -> StreamId {
    let mut bytes = [0u8; 32];
    bytes[..16].copy_from_slice(activity.0.as_bytes());
    bytes[16..].copy_from_slice(learner.0.as_bytes());
    let id = activities::derived_id("attendance", Uuid::from_bytes(hash16(&bytes)));
    StreamId::new(Attendance::CATEGORY, id)
}

fn hash16(bytes: &[u8]) -> [u8; 16] {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(bytes);
    let mut out = [0u8; 16];
    out.copy_from_slice(&digest[..16]);
    out
}

/// A learner as attendance needs them: what credit depends on, and how to address them.
#[derive(Clone, Debug)]
pub struct Learner {
    /// What credit depends on.
    pub standing: LearnerStanding,
    /// First name, unless erased.
    pub name: Option<String>,
    /// Where to tell them that held credit was awarded, unless erased.
    pub email: Option<EmailAddress>,
}

/// Reads a learner of the organization from their account stream.
pub async fn learner<L: EventLog>(
    store: &Store<L>,
    organization: OrganizationId,
    id: AccountId,
) -> Result<Option<Learner>, CommandError<AttendanceError>> {
    let (state, _) = store.load::<Account>(&accounts::stream(id)).await?;
    let Some(profile) = state.profile().filter(|p| p.organization == organization) else {
        return Ok(None);
    };
    let details = profile.details.known().cloned().unwrap_or_default();
    Ok(Some(Learner {
        standing: LearnerStanding {
            account: id,
            organization,
            active: matches!(state, AccountState::Active(_)) && !profile.disabled,
            affiliate: details.employed_by_care_network,
            missing_profile_fields: details
                .missing_fields()
                .into_iter()
                .map(str::to_owned)
                .collect(),
        },
        name: match &profile.name {
            Personal::Known(name) => Some(name.salutation().to_owned()),
            Personal::Erased => None,
        },
        email: profile.email.known().cloned(),
    }))
}

/// What an attendance command left.
#[derive(Clone, Debug)]
pub struct AttendanceOutcome {
    /// The activity, as it stood.
    pub activity: ActivityInfo,
    /// The learner.
    pub learner: Learner,
    /// The attendance after the command.
    pub record: AttendanceRecord,
    /// Position of the last event appended (None for a repeat).
    pub last_position: Option<i64>,
}

/// Why an attendance command failed, with what the caller needs to word the answer.
#[derive(Debug)]
pub struct Refused {
    /// The failure.
    pub error: CommandError<AttendanceError>,
    /// The activity, when it was found.
    pub activity: Option<ActivityInfo>,
    /// The learner, when found.
    pub learner: Option<Learner>,
}

impl From<CommandError<AttendanceError>> for Refused {
    fn from(error: CommandError<AttendanceError>) -> Self {
        Self {
            error,
            activity: None,
            learner: None,
        }
    }
}

/// Whose attendance at what.
#[derive(Clone, Copy)]
struct Subject {
    organization: OrganizationId,
    activity: ActivityId,
    learner: AccountId,
}

async fn run<L: EventLog>(
    store: &Store<L>,
    subject: Subject,
    name: &str,
    ctx: &CommandContext,
    command: impl Fn(&ActivityState, &LearnerStanding) -> AttendanceCommand,
    input: &[u8],
) -> Result<AttendanceOutcome, Refused> {
    let Subject {
        organization,
        activity,
        learner: learner_id,
    } = subject;
    let activity_state = activities::load(store, organization, activity)
        .await
        .map_err(|e| Refused::from(CommandError::from(e)))?;
    let info = activity_state.info().cloned();
    let Some(learner) = learner(store, organization, learner_id).await? else {
        return Err(Refused {
            error: CommandError::Rejected(AttendanceError::LearnerNotFound),
            activity: info,
            learner: None,
        });
    };
    let Some(info) = info else {
        return Err(Refused {
            error: CommandError::Rejected(AttendanceError::ActivityNotFound),
            activity: None,
            learner: Some(learner),
        });
    };
    let attendance = stream(activity, learner_id);
    let fingerprint = store.secrets.fingerprint(
        name,
        &[activity.0.as_bytes(), learner_id.0.as_bytes(), input],
    );
    let executed =
        // The learner is the data subject: an evaluation's answers are theirs.
        execute::<L, Attendance>(store, &attendance, Some(learner_id.0), ctx, name, fingerprint, |_| {
            Ok(Plan::command(
                organization.0,
                command(&activity_state, &learner.standing),
            )
            .following_up(credit_notice(&learner, &info, ctx.now)))
        })
        .await;
    let executed = match executed {
        Ok(executed) => executed,
        Err(error) => {
            return Err(Refused {
                error,
                activity: Some(info),
                learner: Some(learner),
            })
        }
    };
    let (state, _) = store
        .load::<Attendance>(&attendance)
        .await
        .map_err(|e| Refused::from(CommandError::from(e)))?;
    match state {
        AttendanceState::Recorded(record) => Ok(AttendanceOutcome {
            activity: info,
            learner,
            record,
            last_position: executed.last_position,
        }),
        AttendanceState::Absent => Err(Refused {
            error: CommandError::Internal("attendance not found after recording".to_owned()),
            activity: Some(info),
            learner: Some(learner),
        }),
    }
}

/// The e-mail that tells a learner their held credit was awarded: only when the credit waited, that is when it is
/// awarded by a later command than the one that recorded the attendance (whose own answer says so at once).
fn credit_notice(
    learner: &Learner,
    activity: &ActivityInfo,
    now: DateTime<Utc>,
) -> FollowUp<AttendanceEvent> {
    let (email, salutation) = (learner.email.clone(), learner.name.clone());
    let title = activity.details.title.as_str().to_owned();
    Box::new(move |events: &[AttendanceEvent]| {
        let recorded_now = events
            .iter()
            .any(|e| matches!(e, AttendanceEvent::AttendanceRecorded(_)));
        let awarded = events.iter().find_map(|e| match e {
            AttendanceEvent::CreditAwarded(awarded) => Some(awarded),
            _ => None,
        });
        match (awarded, &email, recorded_now) {
            (Some(awarded), Some(email), false) => vec![messages::credit_awarded(
                email,
                salutation.as_deref().unwrap_or("learner"),
                &title,
                &credits_text(&awarded.credits),
                now,
            )],
            _ => vec![],
        }
    })
}

/// Credits as people read them: "1.50 AMA PRA Category 1 Credit and 1.50 ANCC Contact Hours".
pub fn credits_text(credits: &Credits) -> String {
    credits
        .offers()
        .iter()
        .map(|offer| format!("{} {}", offer.amount, offer.credit_type.label()))
        .collect::<Vec<_>>()
        .join(" and ")
}

/// The FAQ's answer to a code texted or typed outside the activity's window, without the greeting.
pub fn outside_window(title: &str, before: u32, after: u32) -> String {
    format!(
        "your attendance for {title} could not be recorded – you can only record {before} minutes prior to, \
         during or {after} minutes after the activity has completed"
    )
}

/// What still holds a learner's credit, as the reply to their text says it: "you complete the evaluation and your
/// professional profile".
pub fn pending_text(holds: &[CreditHold]) -> String {
    let evaluation = holds.contains(&CreditHold::EvaluationRequired);
    let profile = holds
        .iter()
        .any(|h| matches!(h, CreditHold::ProfileIncomplete { .. }));
    let mut parts = Vec::new();
    match (evaluation, profile) {
        (true, true) => parts.push("you complete the evaluation and your professional profile"),
        (true, false) => parts.push("you complete the evaluation"),
        (false, true) => parts.push("you complete your professional profile"),
        (false, false) => {}
    }
    if holds.contains(&CreditHold::AccountNotActive) {
        parts.push("your account is active");
    }
    parts.join(" and ")
}

/// Records that a learner attended an activity; a repeat records nothing and answers the same.
pub async fn record<L: EventLog>(
    store: &Store<L>,
    organization: OrganizationId,
    activity: ActivityId,
    learner: AccountId,
    channel: AttendanceChannel,
    ctx: &CommandContext,
) -> Result<AttendanceOutcome, Refused> {
    let input = format!("{channel:?}");
    run(
        store,
        Subject {
            organization,
            activity,
            learner,
        },
        "RecordAttendance",
        ctx,
        |activity, learner| AttendanceCommand::Record {
            activity: Box::new(activity.clone()),
            learner: learner.clone(),
            channel,
        },
        input.as_bytes(),
    )
    .await
}

/// The learner submits their evaluation; credit that waited only for it is awarded.
pub async fn submit_evaluation<L: EventLog>(
    store: &Store<L>,
    organization: OrganizationId,
    activity: ActivityId,
    learner: AccountId,
    evaluation: Evaluation,
    ctx: &CommandContext,
) -> Result<AttendanceOutcome, Refused> {
    let input = format!("{evaluation:?}");
    run(
        store,
        Subject {
            organization,
            activity,
            learner,
        },
        "SubmitEvaluation",
        ctx,
        |_, learner| AttendanceCommand::SubmitEvaluation {
            evaluation: evaluation.clone(),
            learner: learner.clone(),
        },
        input.as_bytes(),
    )
    .await
}

/// Checks held credit again (after the profile was completed, say) and awards it when nothing holds it any more.
pub async fn claim_credit<L: EventLog>(
    store: &Store<L>,
    organization: OrganizationId,
    activity: ActivityId,
    learner: AccountId,
    ctx: &CommandContext,
) -> Result<AttendanceOutcome, Refused> {
    run(
        store,
        Subject {
            organization,
            activity,
            learner,
        },
        "ClaimCredit",
        ctx,
        |_, learner| AttendanceCommand::ClaimCredit {
            learner: learner.clone(),
        },
        &[],
    )
    .await
}
