//! Attendance commands: record attendance (by text, on the web, or by staff from a sign-in sheet), submit the
//! evaluation, and claim credit that was held.

use portal_domain::account::{Account, AccountState};
use portal_domain::activity::{ActivityInfo, ActivityState};
use portal_domain::attendance::{
    Attendance, AttendanceChannel, AttendanceCommand, AttendanceError, AttendanceRecord,
    AttendanceState, Evaluation, LearnerStanding,
};
use portal_domain::{AccountId, ActivityId, Decider, OrganizationId, Personal};
use uuid::Uuid;

use crate::handler::{execute, CommandContext, CommandError, Plan};
use crate::log::{EventLog, StreamId};
use crate::store::Store;
use crate::{accounts, activities};

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
            ))
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
