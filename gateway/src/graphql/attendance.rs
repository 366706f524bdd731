//! Attendance on the web and by staff, evaluations, credit claims, and the transcript.

use async_graphql::{ComplexObject, Context, Enum, InputObject, Object, Result, SimpleObject, ID};
use chrono::{DateTime, NaiveDate, Utc};
use portal_commands::activities;
use portal_commands::attendance::{self as attend, AttendanceOutcome, Refused};
use portal_commands::handler::{Actor, CommandError};
use portal_domain::account::Role;
use portal_domain::attendance::{AttendanceChannel, AttendanceError, Evaluation};
use portal_domain::values::{ActivityCode, CreditType as DomainCreditType};
use portal_domain::{AccountId, OrganizationId};
use portal_projections::transcript::{self, TranscriptFilter, TranscriptLine};
use uuid::Uuid;

use super::activities::{activity_id, organization, CreditOffer, CreditType};
use super::errors::ApiError;
use super::query::{account_id, applied, principal, projection_error, staff};
use super::types::LogPosition;
use crate::app::AppState;
use crate::request::RequestContext;
use crate::throttle::Action;

/// Where credit stands.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum CreditStatus {
    /// On the transcript.
    Awarded,
    /// Waiting: see the reasons.
    Pending,
}

/// An attendance as it stands after a mutation.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct AttendancePayload {
    /// The activity.
    pub activity_id: ID,
    /// Its title.
    pub activity_title: String,
    /// The learner.
    pub learner_id: ID,
    /// The credits claimed.
    pub credits: Vec<CreditOffer>,
    /// Awarded or pending.
    pub status: CreditStatus,
    /// Why credit waits: EVALUATION_REQUIRED, PROFILE_INCOMPLETE, ACCOUNT_NOT_ACTIVE.
    pub pending_reasons: Vec<String>,
    /// Required profile fields still missing, when the profile holds the credit.
    pub missing_profile_fields: Vec<String>,
    /// The log position produced; null for a repeat that recorded nothing.
    pub position: Option<LogPosition>,
    /// The organization, learner and activity, to read the transcript entries back.
    #[graphql(skip)]
    keys: (Uuid, Uuid, Uuid),
}

#[ComplexObject]
impl AttendancePayload {
    /// The learner's transcript entries of this activity as they now are, one per credit type (what `transcript`
    /// lists).
    async fn transcript_entries(&self, ctx: &Context<'_>) -> Result<Vec<TranscriptEntry>> {
        let state = ctx.data_unchecked::<AppState>();
        applied(state, transcript::NAME, self.position).await?;
        let (organization, learner, activity) = self.keys;
        let filter = TranscriptFilter {
            learner: Some(learner),
            activity: Some(activity),
            ..TranscriptFilter::default()
        };
        let lines = transcript::lines(&state.pool, organization, &filter)
            .await
            .map_err(projection_error)?;
        Ok(lines.into_iter().filter_map(entry).collect())
    }
}

impl AttendancePayload {
    /// The answer to an attendance command in `organization`.
    fn of(outcome: AttendanceOutcome, organization: OrganizationId) -> Self {
        let record = &outcome.record;
        Self {
            keys: (organization.0, record.learner.0, record.activity.0),
            activity_id: ID(record.activity.0.to_string()),
            activity_title: outcome.activity.details.title.as_str().to_owned(),
            learner_id: ID(record.learner.0.to_string()),
            credits: record
                .credits
                .offers()
                .iter()
                .map(|o| CreditOffer {
                    r#type: o.credit_type.into(),
                    label: o.credit_type.label().to_owned(),
                    amount: o.amount.to_string(),
                })
                .collect(),
            status: if record.awarded {
                CreditStatus::Awarded
            } else {
                CreditStatus::Pending
            },
            pending_reasons: record.holds.iter().map(|h| h.code().to_owned()).collect(),
            missing_profile_fields: record
                .holds
                .iter()
                .find_map(|h| match h {
                    portal_domain::attendance::CreditHold::ProfileIncomplete { missing } => {
                        Some(missing.clone())
                    }
                    _ => None,
                })
                .unwrap_or_default(),
            position: outcome.last_position.map(LogPosition),
        }
    }
}

fn refused(refused: Refused) -> ApiError {
    match refused.error {
        CommandError::Rejected(AttendanceError::OutsideWindow {
            before,
            after,
            miss,
        }) => {
            let title = refused
                .activity
                .map(|a| a.details.title.as_str().to_owned())
                .unwrap_or_default();
            let error = AttendanceError::OutsideWindow {
                before,
                after,
                miss,
            };
            ApiError::new(
                portal_domain::ErrorCode::code(&error),
                portal_commands::attendance::outside_window(&title, before, after),
            )
        }
        other => ApiError::from_command(other),
    }
}

/// Attendance by code, on the web.
#[derive(InputObject)]
pub struct RecordAttendanceInput {
    /// The activity code given at the course.
    pub code: String,
    /// Idempotency key.
    pub command_id: Option<Uuid>,
}

/// Attendance entered by staff from a sign-in sheet.
#[derive(InputObject)]
pub struct RecordAttendanceForInput {
    /// The learner.
    pub learner_id: ID,
    /// The activity.
    pub activity_id: ID,
    /// Idempotency key.
    pub command_id: Option<Uuid>,
}

/// A learner's evaluation of an activity.
#[derive(InputObject)]
pub struct SubmitEvaluationInput {
    /// The activity.
    pub activity_id: ID,
    /// Overall rating, 1 to 5.
    pub rating: i32,
    /// Were the stated objectives met?
    pub objectives_met: bool,
    /// Comments, at most 2,000 characters.
    pub comments: Option<String>,
    /// Idempotency key.
    pub command_id: Option<Uuid>,
}

/// Attendance mutations.
#[derive(Default)]
pub struct AttendanceMutation;

/// The link of your own calendar feed.
#[derive(SimpleObject)]
pub struct CalendarFeedPayload {
    /// The iCalendar address of the activities you attended, for a calendar app to subscribe to. Shown this once:
    /// keep it private (it reads your activities without a sign-in); asking again makes a new one and ends this one.
    pub url: String,
    /// The log position produced.
    pub position: Option<LogPosition>,
}

#[Object]
impl AttendanceMutation {
    /// Issues the link of your own calendar feed: the activities you attended, as iCalendar
    /// (`/o/<code>/my-activities.ics?token=...`). An earlier link stops working.
    async fn issue_calendar_feed(&self, ctx: &Context<'_>) -> Result<CalendarFeedPayload> {
        let principal = principal(ctx).await?;
        let state = ctx.data_unchecked::<AppState>();
        let request = ctx.data_unchecked::<RequestContext>();
        let org = organization(state, principal.organization).await?;
        let command = request.command(Actor::Account(principal.account.0), None);
        let (token, position) =
            portal_commands::accounts::issue_calendar_feed(&state.store, &principal, &command)
                .await
                .map_err(ApiError::from_command)?;
        Ok(CalendarFeedPayload {
            url: format!(
                "{}/o/{}/my-activities.ics?token={token}",
                state.store.public_url.trim_end_matches('/'),
                org.code.as_str()
            ),
            position: position.map(LogPosition),
        })
    }

    /// Records your attendance by the activity's code, in its attendance window (as a text would).
    async fn record_attendance(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The operation's input.")] input: RecordAttendanceInput,
    ) -> Result<AttendancePayload> {
        let principal = principal(ctx).await?;
        let state = ctx.data_unchecked::<AppState>();
        let request = ctx.data_unchecked::<RequestContext>();
        // Before the code is looked up: activity codes can be guessed, and each answer says whether one exists.
        super::mutation::throttle(
            state,
            request,
            Action::RecordAttendance,
            Some(&principal.account.0.to_string()),
        )?;
        let code = ActivityCode::parse(&input.code)
            .map_err(|e| ApiError::new("ACTIVITY_CODE_INVALID", e.rule).on("input.code"))?;
        let not_found = || {
            ApiError::new("ACTIVITY_NOT_FOUND", "that activity code does not exist")
                .on("input.code")
        };
        let activity = activities::find_by_code(&state.store, principal.organization, &code)
            .await
            .map_err(|e| ApiError::from_command::<AttendanceError>(e.into()))?
            .ok_or_else(not_found)?;
        let command = request.command(Actor::Account(principal.account.0), input.command_id);
        let outcome = attend::record(
            &state.store,
            principal.organization,
            activity,
            principal.account,
            AttendanceChannel::Web,
            &command,
        )
        .await
        .map_err(refused)?;
        Ok(AttendancePayload::of(outcome, principal.organization))
    }

    /// Staff record a learner's attendance from a sign-in sheet: from the window's opening on, also after it
    /// closed; the credit rules are the same.
    async fn record_attendance_for(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The operation's input.")] input: RecordAttendanceForInput,
    ) -> Result<AttendancePayload> {
        let principal = staff(ctx).await?;
        let state = ctx.data_unchecked::<AppState>();
        let request = ctx.data_unchecked::<RequestContext>();
        let learner = AccountId(account_id(&input.learner_id, "input.learnerId")?);
        let activity = activity_id(&input.activity_id, "input.activityId")?;
        let command = request.command(Actor::Account(principal.account.0), input.command_id);
        let outcome = attend::record(
            &state.store,
            principal.organization,
            activity,
            learner,
            AttendanceChannel::Staff {
                by: principal.account,
            },
            &command,
        )
        .await
        .map_err(refused)?;
        Ok(AttendancePayload::of(outcome, principal.organization))
    }

    /// Submits your evaluation of an activity you attended; credit that waited only for it is awarded.
    async fn submit_evaluation(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The operation's input.")] input: SubmitEvaluationInput,
    ) -> Result<AttendancePayload> {
        let principal = principal(ctx).await?;
        let state = ctx.data_unchecked::<AppState>();
        let request = ctx.data_unchecked::<RequestContext>();
        let activity = activity_id(&input.activity_id, "input.activityId")?;
        let rating = u8::try_from(input.rating).unwrap_or(0);
        let evaluation = Evaluation::new(rating, input.objectives_met, input.comments.as_deref())
            .map_err(|e| {
            ApiError::new("EVALUATION_INVALID", e.to_string()).on(format!("input.{}", e.field))
        })?;
        let command = request.command(Actor::Account(principal.account.0), input.command_id);
        let outcome = attend::submit_evaluation(
            &state.store,
            principal.organization,
            activity,
            principal.account,
            evaluation,
            &command,
        )
        .await
        .map_err(refused)?;
        Ok(AttendancePayload::of(outcome, principal.organization))
    }

    /// Checks your held credit for an activity again (after completing your profile, say) and awards it when
    /// nothing holds it any more.
    async fn claim_credit(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The activity attended.")] activity_id: ID,
        #[graphql(
            desc = "Idempotency key: a retry with the same id returns the first answer instead of acting twice."
        )]
        command_id: Option<Uuid>,
    ) -> Result<AttendancePayload> {
        let principal = principal(ctx).await?;
        let state = ctx.data_unchecked::<AppState>();
        let request = ctx.data_unchecked::<RequestContext>();
        let activity = super::activities::activity_id(&activity_id, "activityId")?;
        let command = request.command(Actor::Account(principal.account.0), command_id);
        let outcome = attend::claim_credit(
            &state.store,
            principal.organization,
            activity,
            principal.account,
            &command,
        )
        .await
        .map_err(refused)?;
        Ok(AttendancePayload::of(outcome, principal.organization))
    }
}

/// One line of a transcript.
#[derive(SimpleObject)]
pub struct TranscriptEntry {
    /// The entry (of one learner, activity and credit type; an entry of `transcriptAsOf` also of its moment).
    pub id: ID,
    /// The activity.
    pub activity_id: ID,
    /// Its title.
    pub title: String,
    /// Its date, in its own zone.
    pub date: NaiveDate,
    /// Credit type.
    pub credit_type: CreditType,
    /// A readable name of the type.
    pub credit_label: String,
    /// Amount (`1.00`).
    pub amount: String,
    /// Awarded or pending.
    pub status: CreditStatus,
    /// Why it waits.
    pub pending_reasons: Vec<String>,
    /// How attendance was recorded: sms, web or staff.
    pub channel: String,
    /// When attendance was recorded.
    pub recorded_at: DateTime<Utc>,
    /// When the credit was awarded.
    pub awarded_at: Option<DateTime<Utc>>,
    /// The activity asks for an evaluation.
    pub evaluation_required: bool,
    /// When the evaluation was submitted.
    pub evaluated_at: Option<DateTime<Utc>>,
    /// The learner's name on the activity's date, as certificates and board reports give it: a later change of
    /// name does not reach back (null once erased).
    pub learner_name: Option<String>,
}

/// A credit type's totals in one year.
#[derive(SimpleObject)]
pub struct CreditTotal {
    /// The total (of one learner, year and credit type).
    pub id: ID,
    /// The year of the activities' dates.
    pub year: i32,
    /// Credit type.
    pub credit_type: CreditType,
    /// A readable name of the type.
    pub credit_label: String,
    /// Awarded (`12.50`).
    pub awarded: String,
    /// Pending.
    pub pending: String,
}

/// A learner's transcript.
#[derive(SimpleObject)]
pub struct Transcript {
    /// The transcript (of one learner and date range).
    pub id: ID,
    /// The learner.
    pub learner_id: ID,
    /// Each activity and credit type, newest first.
    pub entries: Vec<TranscriptEntry>,
    /// Totals per year and credit type, newest year first.
    pub totals: Vec<CreditTotal>,
}

/// Converts a read-model line for the API; lines of unknown credit types (none today) are dropped.
pub fn entry(line: TranscriptLine) -> Option<TranscriptEntry> {
    let kind = DomainCreditType::from_stored(&line.credit_type)?;
    Some(TranscriptEntry {
        id: super::ids::derived(
            "TranscriptEntry",
            &[&line.learner_id, &line.activity_id, &line.credit_type],
        ),
        activity_id: ID(line.activity_id.to_string()),
        title: line.title,
        date: line.date,
        credit_type: kind.into(),
        credit_label: kind.label().to_owned(),
        amount: line.amount,
        status: if line.status == "awarded" {
            CreditStatus::Awarded
        } else {
            CreditStatus::Pending
        },
        pending_reasons: line.pending_reasons,
        channel: line.channel,
        recorded_at: line.recorded_at,
        awarded_at: line.awarded_at,
        evaluation_required: line.evaluation_required,
        evaluated_at: line.evaluated_at,
        learner_name: line.learner_name,
    })
}

/// The learner whose transcript the caller may read: their own, or, for staff, any learner of their organization.
pub fn transcript_subject(
    principal: &portal_domain::session::Principal,
    learner: Option<&ID>,
) -> Result<Uuid, ApiError> {
    match learner {
        None => Ok(principal.account.0),
        Some(id) => {
            let id = account_id(id, "learnerId")?;
            if id == principal.account.0 || principal.role == Role::Staff {
                Ok(id)
            } else {
                Err(ApiError::forbidden())
            }
        }
    }
}

/// A learner's transcript as the read model holds it, for activities dated from `from` to `to`.
pub async fn read_transcript(
    state: &AppState,
    organization: Uuid,
    learner: Uuid,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
) -> Result<Transcript, portal_projections::ProjectionError> {
    let filter = TranscriptFilter {
        learner: Some(learner),
        from,
        to,
        ..TranscriptFilter::default()
    };
    let lines = transcript::lines(&state.pool, organization, &filter).await?;
    let totals = transcript::totals(&state.pool, organization, learner).await?;
    let range = |d: Option<NaiveDate>| d.map(|d| d.to_string()).unwrap_or_default();
    Ok(Transcript {
        id: super::ids::derived("Transcript", &[&learner, &range(from), &range(to)]),
        learner_id: ID(learner.to_string()),
        entries: lines.into_iter().filter_map(entry).collect(),
        totals: totals
            .into_iter()
            .filter_map(|t| {
                let kind = DomainCreditType::from_stored(&t.credit_type)?;
                Some(CreditTotal {
                    id: super::ids::derived("CreditTotal", &[&learner, &t.year, &t.credit_type]),
                    year: t.year,
                    credit_type: kind.into(),
                    credit_label: kind.label().to_owned(),
                    awarded: t.awarded,
                    pending: t.pending,
                })
            })
            .collect(),
    })
}

/// Transcript queries.
#[derive(Default)]
pub struct TranscriptQuery;

#[Object]
impl TranscriptQuery {
    /// A transcript: yours, or (staff) any learner's of your organization, optionally for activities dated from
    /// `from` to `to`.
    async fn transcript(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The learner (staff); yourself when absent.")] learner_id: Option<ID>,
        #[graphql(desc = "Entries from this date.")] from: Option<NaiveDate>,
        #[graphql(desc = "Entries up to this date.")] to: Option<NaiveDate>,
        #[graphql(
            desc = "Read your writes: wait until the read model has applied this log position (a mutation's `position`)."
        )]
        at_least: Option<LogPosition>,
    ) -> Result<Transcript> {
        let principal = principal(ctx).await?;
        let learner = transcript_subject(&principal, learner_id.as_ref())?;
        let state = ctx.data_unchecked::<AppState>();
        // The organization must still exist; its id scopes every row read.
        let org = organization(state, principal.organization).await?;
        applied(state, transcript::NAME, at_least).await?;
        Ok(read_transcript(state, org.id.0, learner, from, to)
            .await
            .map_err(projection_error)?)
    }
}
