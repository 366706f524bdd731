//! Activity commands: staff schedule, change and cancel activities, and schedule Regularly Scheduled Series.

use chrono::NaiveDateTime;
use portal_domain::activity::{
    Activity, ActivityCommand, ActivityDetails, ActivityError, ActivityEvent, ActivityKind,
    ActivityScheduled, ActivityState,
};
use portal_domain::series::{Series, SeriesCommand, SeriesEvent, SeriesScheduled};
use portal_domain::values::{
    ActivityCode, ActivitySchedule, ActivityTitle, AttendanceWindow, Audience, Credits, Location,
    Recurrence, SeriesKind, Specialty, TimeZone,
};
use portal_domain::{AccountId, ActivityId, Decider, OrganizationId, SeriesId};
use uuid::Uuid;

use crate::handler::{append_error, execute, CommandContext, CommandError, Plan};
use crate::log::{
    AppendError, Claim, CommandRecord, Commit, EventLog, ExpectedVersion, StreamId, StreamWrite,
};
use crate::store::{LoadError, Store};

/// Uniqueness kind of activity codes (scope: the organization).
const CODE_CLAIM: &str = "activity_code";

/// The stream of an activity.
pub fn stream(id: ActivityId) -> StreamId {
    StreamId::new(Activity::CATEGORY, id.0)
}

/// The stream of a series.
pub fn series_stream(id: SeriesId) -> StreamId {
    StreamId::new(Series::CATEGORY, id.0)
}

fn code_claim<L: EventLog>(
    store: &Store<L>,
    organization: OrganizationId,
    code: &ActivityCode,
    owner: StreamId,
) -> Claim {
    Claim {
        scope: organization.0,
        kind: CODE_CLAIM.to_owned(),
        key: store.secrets.index_hash(CODE_CLAIM, code.as_str()),
        owner,
    }
}

fn fingerprint_of<L: EventLog, T: std::fmt::Debug>(
    store: &Store<L>,
    command: &str,
    parts: &[&[u8]],
    input: &T,
) -> Vec<u8> {
    let debug = format!("{input:?}");
    let mut all: Vec<&[u8]> = parts.to_vec();
    all.push(debug.as_bytes());
    store.secrets.fingerprint(command, &all)
}

fn taken(error: CommandError<ActivityError>) -> CommandError<ActivityError> {
    match error {
        CommandError::Taken { .. } => CommandError::Rejected(ActivityError::CodeTaken),
        other => other,
    }
}

/// The activity whose code this is, in the organization.
pub async fn find_by_code<L: EventLog>(
    store: &Store<L>,
    organization: OrganizationId,
    code: &ActivityCode,
) -> Result<Option<ActivityId>, LoadError> {
    let key = store.secrets.index_hash(CODE_CLAIM, code.as_str());
    let owner = store
        .log
        .find_claim(organization.0, CODE_CLAIM, &key)
        .await?;
    Ok(owner.and_then(|s| s.id()).map(ActivityId))
}

/// An activity's current state, read from the log; an activity of another organization reads as absent.
pub async fn load<L: EventLog>(
    store: &Store<L>,
    organization: OrganizationId,
    id: ActivityId,
) -> Result<ActivityState, LoadError> {
    let (state, _) = store.load::<Activity>(&stream(id)).await?;
    Ok(match state.info() {
        Some(info) if info.organization != organization => ActivityState::Absent,
        _ => state,
    })
}

/// Puts a course on the calendar; its code must be unused in the organization.
pub async fn schedule<L: EventLog>(
    store: &Store<L>,
    organization: OrganizationId,
    details: ActivityDetails,
    by: Option<AccountId>,
    ctx: &CommandContext,
) -> Result<(ActivityId, i64), CommandError<ActivityError>> {
    // The id comes from the command id, so that a retried request finds the activity it created.
    let id = ActivityId(derived_id("activity", ctx.command_id));
    let activity_stream = stream(id);
    let fingerprint = fingerprint_of(
        store,
        "ScheduleActivity",
        &[organization.0.as_bytes()],
        &details,
    );
    let claim = code_claim(store, organization, &details.code, activity_stream.clone());
    let executed = execute::<L, Activity>(
        store,
        &activity_stream,
        None,
        ctx,
        "ScheduleActivity",
        fingerprint,
        |_| {
            let mut plan = Plan::command(
                organization.0,
                ActivityCommand::Schedule {
                    id,
                    organization,
                    details: details.clone(),
                    by,
                },
            );
            plan.claims = vec![claim.clone()];
            Ok(plan)
        },
    )
    .await
    .map_err(taken)?;
    Ok((id, executed.last_position.unwrap_or_default()))
}

/// Replaces what staff said about an activity (its kind stays); a new code must be unused.
pub async fn change<L: EventLog>(
    store: &Store<L>,
    organization: OrganizationId,
    id: ActivityId,
    mut details: ActivityDetails,
    by: Option<AccountId>,
    ctx: &CommandContext,
) -> Result<Option<i64>, CommandError<ActivityError>> {
    let activity_stream = stream(id);
    let fingerprint = fingerprint_of(
        store,
        "ChangeActivity",
        &[organization.0.as_bytes(), id.0.as_bytes()],
        &details,
    );
    let executed = execute::<L, Activity>(
        store,
        &activity_stream,
        None,
        ctx,
        "ChangeActivity",
        fingerprint,
        |state| {
            let info = state
                .info()
                .filter(|i| i.organization == organization)
                .ok_or(ActivityError::NotFound)?;
            details.kind = info.details.kind;
            let mut plan = Plan::command(
                organization.0,
                ActivityCommand::Change {
                    details: details.clone(),
                    by,
                },
            );
            if info.details.code != details.code {
                plan.releases = vec![code_claim(
                    store,
                    organization,
                    &info.details.code,
                    activity_stream.clone(),
                )];
                plan.claims = vec![code_claim(
                    store,
                    organization,
                    &details.code,
                    activity_stream.clone(),
                )];
            }
            Ok(plan)
        },
    )
    .await
    .map_err(taken)?;
    Ok(executed.last_position)
}

/// Cancels an activity. Its code stays reserved, so that a late text gets "cancelled" rather than another meeting.
pub async fn cancel<L: EventLog>(
    store: &Store<L>,
    organization: OrganizationId,
    id: ActivityId,
    reason: Option<String>,
    by: Option<AccountId>,
    ctx: &CommandContext,
) -> Result<Option<i64>, CommandError<ActivityError>> {
    let fingerprint = fingerprint_of(
        store,
        "CancelActivity",
        &[organization.0.as_bytes(), id.0.as_bytes()],
        &reason,
    );
    let executed = execute::<L, Activity>(
        store,
        &stream(id),
        None,
        ctx,
        "CancelActivity",
        fingerprint,
        |state| {
            state
                .info()
                .filter(|i| i.organization == organization)
                .ok_or(ActivityError::NotFound)?;
            Ok(Plan::command(
                organization.0,
                ActivityCommand::Cancel {
                    reason: reason.clone(),
                    by,
                },
            ))
        },
    )
    .await?;
    Ok(executed.last_position)
}

/// A Regularly Scheduled Series to schedule: the first meeting, how it repeats, and what every meeting shares.
#[derive(Clone, Debug)]
pub struct SeriesPlan {
    /// The title of every meeting.
    pub title: ActivityTitle,
    /// Grand Rounds, M&M, ...
    pub series_kind: SeriesKind,
    /// How it repeats.
    pub recurrence: Recurrence,
    /// How many meetings (1 to 60).
    pub count: u16,
    /// The first meeting's local start.
    pub first_starts: NaiveDateTime,
    /// The first meeting's local end.
    pub first_ends: NaiveDateTime,
    /// The venue's zone.
    pub time_zone: TimeZone,
    /// Where.
    pub location: Option<Location>,
    /// The specialty.
    pub specialty: Option<Specialty>,
    /// Who may attend (series are usually for affiliates).
    pub audience: Audience,
    /// The attendance window of every meeting.
    pub window: AttendanceWindow,
    /// The credits of every meeting.
    pub credits: Credits,
    /// Credit waits for an evaluation.
    pub evaluation_required: bool,
}

/// A series scheduled: its id and its meetings, in order.
#[derive(Clone, Debug)]
pub struct ScheduledSeries {
    /// The series.
    pub id: SeriesId,
    /// The meetings.
    pub occurrences: Vec<ActivityId>,
    /// Position of the last event.
    pub last_position: i64,
}

/// Schedules a series: one activity per meeting, each with a generated code, all in one commit.
pub async fn schedule_series<L: EventLog>(
    store: &Store<L>,
    organization: OrganizationId,
    plan: SeriesPlan,
    by: Option<AccountId>,
    ctx: &CommandContext,
) -> Result<ScheduledSeries, CommandError<ActivityError>> {
    let fingerprint = fingerprint_of(store, "ScheduleSeries", &[organization.0.as_bytes()], &plan);
    let id = SeriesId(derived_id("series", ctx.command_id));
    if let Some(found) = store.log.find_command(ctx.command_id).await? {
        if found.record.fingerprint != fingerprint {
            return Err(CommandError::IdempotencyKeyReused);
        }
        return replayed_series(store, id, found.last_position).await;
    }
    let duration = plan.first_ends - plan.first_starts;
    let starts = plan.recurrence.local_starts(plan.first_starts, plan.count);
    let mut schedules = Vec::with_capacity(starts.len());
    for start in &starts {
        let schedule = ActivitySchedule::local(*start, *start + duration, plan.time_zone)
            .map_err(|e| CommandError::Internal(format!("a meeting of the series: {e}")))?;
        schedules.push(schedule);
    }
    let occurrences: Vec<ActivityId> = (0..schedules.len())
        .map(|_| ActivityId(Uuid::new_v4()))
        .collect();
    let kind = ActivityKind::SeriesOccurrence {
        series: id,
        series_kind: plan.series_kind,
    };
    let series_events = Series::decide(
        &Default::default(),
        SeriesCommand::Schedule(SeriesScheduled {
            series_id: id,
            organization_id: organization,
            title: plan.title.clone(),
            series_kind: plan.series_kind,
            recurrence: plan.recurrence,
            occurrences: occurrences.clone(),
            by,
            at: ctx.now,
        }),
        ctx.now,
    )
    .map_err(|e| CommandError::Internal(format!("the series: {e}")))?;
    // Generated codes may collide with codes in use: draw again a few times.
    for _ in 0..5 {
        let mut writes = vec![StreamWrite {
            stream: series_stream(id),
            expected: ExpectedVersion::NoStream,
            events: store.encode::<SeriesEvent>(None, &series_events).await?,
        }];
        let mut claims = Vec::with_capacity(occurrences.len());
        for (activity, schedule) in occurrences.iter().zip(&schedules) {
            let random = Uuid::new_v4();
            let mut bytes = [0u8; 6];
            bytes.copy_from_slice(&random.as_bytes()[..6]);
            let details = ActivityDetails {
                title: plan.title.clone(),
                kind,
                schedule: *schedule,
                location: plan.location.clone(),
                specialty: plan.specialty.clone(),
                audience: plan.audience,
                code: ActivityCode::generate(bytes),
                window: plan.window,
                credits: plan.credits.clone(),
                evaluation_required: plan.evaluation_required,
            };
            claims.push(code_claim(
                store,
                organization,
                &details.code,
                stream(*activity),
            ));
            let event = ActivityEvent::ActivityScheduled(ActivityScheduled {
                activity_id: *activity,
                organization_id: organization,
                details,
                by,
                at: ctx.now,
            });
            writes.push(StreamWrite {
                stream: stream(*activity),
                expected: ExpectedVersion::NoStream,
                events: store.encode(None, &[event]).await?,
            });
        }
        let commit = Commit {
            tenant: organization.0,
            writes,
            metadata: ctx.metadata("ScheduleSeries"),
            command: Some(CommandRecord {
                command_id: ctx.command_id,
                fingerprint: fingerprint.clone(),
                outcome: serde_json::Value::Null,
            }),
            claims,
            ..Default::default()
        };
        match store.append(commit).await {
            Ok(committed) if committed.replayed => {
                return replayed_series(store, id, committed.last_position).await
            }
            Ok(committed) => {
                return Ok(ScheduledSeries {
                    id,
                    occurrences,
                    last_position: committed.last_position,
                })
            }
            Err(AppendError::ClaimTaken { .. }) => continue,
            Err(error) => return Err(append_error(error)),
        }
    }
    Err(CommandError::Rejected(ActivityError::CodeTaken))
}

async fn replayed_series<L: EventLog>(
    store: &Store<L>,
    id: SeriesId,
    last_position: i64,
) -> Result<ScheduledSeries, CommandError<ActivityError>> {
    let (state, _) = store.load::<Series>(&series_stream(id)).await?;
    match state {
        portal_domain::series::SeriesState::Scheduled { occurrences } => Ok(ScheduledSeries {
            id,
            occurrences,
            last_position,
        }),
        portal_domain::series::SeriesState::Absent => Err(CommandError::Internal(
            "replayed series not found".to_owned(),
        )),
    }
}

/// A UUID derived from another (a command id), so that a retry derives the same one.
pub fn derived_id(kind: &str, from: Uuid) -> Uuid {
    use sha2::{Digest, Sha256};
    let digest = Sha256::new()
        .chain_update(kind.as_bytes())
        .chain_update(from.as_bytes())
        .finalize();
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid::Builder::from_custom_bytes(bytes).into_uuid()
}
