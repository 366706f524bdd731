//! Activities and the calendar: staff schedule, change and cancel courses and series; everyone signed in browses the
//! calendar of their organization.

use async_graphql::{ComplexObject, Context, Enum, InputObject, Object, Result, SimpleObject, ID};
use base64::Engine as _;
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use portal_commands::activities::{self, SeriesPlan};
use portal_commands::handler::Actor;
use portal_commands::organizations::{self as orgs, OrganizationSummary};
use portal_domain::account::Role;
use portal_domain::activity::{ActivityDetails, ActivityKind as DomainKind};
use portal_domain::session::Principal;
use portal_domain::values::{self as v, TimeZone};
use portal_domain::{ActivityId, OrganizationId};
use portal_projections::calendar::{self, ActivityRow, CalendarFilter};
use uuid::Uuid;

use super::errors::ApiError;
use super::inputs::Checked;
use super::query::{applied, principal, projection_error, staff};
use super::types::{LogPosition, PageInfo};
use crate::app::AppState;
use crate::request::RequestContext;

mirror_enum!(
    /// A kind of continuing-education credit.
    CreditType => v::CreditType {
        /** AMA PRA Category 1 Credit. */ AmaPraCategory1, /** ANCC contact hours. */ AnccContactHours,
        /** ACPE contact hours. */ Acpe, /** ABIM MOC points. */ AbimMocPoints,
        /** AAPA Category 1 CME credit. */ AapaCategory1, /** Certificate of participation. */ Participation
    }
);
mirror_enum!(
    /// The kind of a Regularly Scheduled Series.
    SeriesKind => v::SeriesKind {
        /** Grand Rounds. */ GrandRounds, /** Morbidity and Mortality. */ MorbidityAndMortality,
        /** Journal club. */ JournalClub, /** Case conference. */ CaseConference, /** Tumor board. */ TumorBoard,
        /** Another series. */ Other
    }
);
mirror_enum!(
    /// Who may attend.
    Audience => v::Audience {
        /** Anyone with an account. */ Open,
        /** The organization's people and its affiliates (the care network). */ Affiliates
    }
);

/// Course or series meeting.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum ActivityKind {
    /// A course.
    Course,
    /// A meeting of a Regularly Scheduled Series (RSS).
    SeriesOccurrence,
}

/// How a series repeats.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum Frequency {
    /// Every `interval` weeks on the first meeting's weekday.
    Weekly,
    /// Every month on the first meeting's day of the month.
    MonthlyOnDay,
    /// Every month on the same weekday of the same week (the second Tuesday; a fifth week means the last).
    MonthlyOnWeekday,
}

/// Credit offered.
#[derive(InputObject, Clone, Debug)]
pub struct CreditInput {
    /// The type.
    pub r#type: CreditType,
    /// The amount, more than 0 and at most 100, with at most two decimals (`1.25`).
    pub amount: String,
}

/// What staff say about an activity.
#[derive(InputObject, Clone, Debug)]
pub struct ActivityInput {
    /// Title, 1 to 200 characters.
    pub title: String,
    /// Start: a local time (`2026-12-01T08:00`) in `timeZone`, or an instant with an offset.
    pub starts_at: String,
    /// End, after the start and at most 14 days later (same forms as `startsAt`).
    pub ends_at: String,
    /// IANA zone of the venue; the organization's when left out.
    pub time_zone: Option<String>,
    /// Where.
    pub location: Option<String>,
    /// Specialty.
    pub specialty: Option<String>,
    /// Who may attend (default OPEN).
    pub audience: Option<Audience>,
    /// The code learners text, 3 to 16 letters and digits, unique in the organization.
    pub code: String,
    /// Minutes before the start attendance may be recorded (0 to 1440, default 15).
    pub minutes_before: Option<i32>,
    /// Minutes after the end attendance may be recorded (0 to 1440, default 30).
    pub minutes_after: Option<i32>,
    /// Credits offered (at least one, each type once).
    pub credits: Vec<CreditInput>,
    /// Credit waits until the learner submits an evaluation (default false).
    pub evaluation_required: Option<bool>,
    /// Idempotency key.
    pub command_id: Option<Uuid>,
}

/// A Regularly Scheduled Series: the first meeting, how it repeats, and what every meeting shares.
#[derive(InputObject, Clone, Debug)]
pub struct SeriesInput {
    /// Title of every meeting.
    pub title: String,
    /// Grand Rounds, M&M, journal club, ...
    pub series_kind: SeriesKind,
    /// How it repeats.
    pub frequency: Frequency,
    /// For WEEKLY: every 1 to 4 weeks (default 1).
    pub interval: Option<i32>,
    /// How many meetings to schedule (1 to 60).
    pub count: i32,
    /// The first meeting's start (local time in `timeZone`, or an instant).
    pub first_starts_at: String,
    /// The first meeting's end.
    pub first_ends_at: String,
    /// IANA zone; the organization's when left out.
    pub time_zone: Option<String>,
    /// Where.
    pub location: Option<String>,
    /// Specialty.
    pub specialty: Option<String>,
    /// Who may attend (default AFFILIATES, as most series are).
    pub audience: Option<Audience>,
    /// Minutes before the start (default 15).
    pub minutes_before: Option<i32>,
    /// Minutes after the end (default 30).
    pub minutes_after: Option<i32>,
    /// Credits of every meeting.
    pub credits: Vec<CreditInput>,
    /// Credit waits for an evaluation (default false).
    pub evaluation_required: Option<bool>,
    /// Idempotency key.
    pub command_id: Option<Uuid>,
}

/// Credit an activity offers.
#[derive(SimpleObject, Clone, Debug)]
pub struct CreditOffer {
    /// The type.
    pub r#type: CreditType,
    /// A readable name of the type.
    pub label: String,
    /// The amount, with two decimals (`1.00`).
    pub amount: String,
}

/// An activity on the calendar.
#[derive(SimpleObject, Clone, Debug)]
pub struct Activity {
    /// The activity.
    pub id: ID,
    /// Title.
    pub title: String,
    /// Course or series meeting.
    pub kind: ActivityKind,
    /// The series, for a series meeting.
    pub series_id: Option<ID>,
    /// The series kind, for a series meeting.
    pub series_kind: Option<SeriesKind>,
    /// Start (an instant).
    pub starts_at: DateTime<Utc>,
    /// End (an instant).
    pub ends_at: DateTime<Utc>,
    /// The venue's zone.
    pub time_zone: String,
    /// Start as a wall-clock time in the organization's zone (`2026-12-01T08:00`).
    pub local_starts_at: String,
    /// End as a wall-clock time in the organization's zone.
    pub local_ends_at: String,
    /// Where.
    pub location: Option<String>,
    /// Specialty.
    pub specialty: Option<String>,
    /// Who may attend.
    pub audience: Audience,
    /// The code learners text: shown to staff only, since it is given out at the activity and proves presence.
    pub code: Option<String>,
    /// Minutes before the start attendance may be recorded.
    pub minutes_before: i32,
    /// Minutes after the end.
    pub minutes_after: i32,
    /// Credits offered.
    pub credits: Vec<CreditOffer>,
    /// Credit waits for an evaluation.
    pub evaluation_required: bool,
    /// True when cancelled.
    pub cancelled: bool,
    /// Why, when cancelled.
    pub cancel_reason: Option<String>,
}

fn series_kind(stored: &str) -> Option<SeriesKind> {
    [
        v::SeriesKind::GrandRounds,
        v::SeriesKind::MorbidityAndMortality,
        v::SeriesKind::JournalClub,
        v::SeriesKind::CaseConference,
        v::SeriesKind::TumorBoard,
        v::SeriesKind::Other,
    ]
    .into_iter()
    .find(|k| k.as_str() == stored)
    .map(Into::into)
}

/// Credits as the read models store them, for the API.
pub fn credit_offers(json: &serde_json::Value) -> Vec<CreditOffer> {
    json.as_array()
        .map(|offers| {
            offers
                .iter()
                .filter_map(|o| {
                    let kind = v::CreditType::from_stored(o.get("type")?.as_str()?)?;
                    Some(CreditOffer {
                        r#type: kind.into(),
                        label: kind.label().to_owned(),
                        amount: o.get("amount")?.as_str()?.to_owned(),
                    })
                })
                .collect()
        })
        .unwrap_or_default()
}

fn local(zone: TimeZone, at: DateTime<Utc>) -> String {
    zone.local(at).format("%Y-%m-%dT%H:%M").to_string()
}

impl Activity {
    /// The activity as `viewer` may see it: the code only for staff (None: someone not signed in).
    fn from_row(row: ActivityRow, zone: TimeZone, viewer: Option<&Principal>) -> Self {
        Self {
            id: ID(row.id.to_string()),
            title: row.title,
            kind: if row.kind == "course" {
                ActivityKind::Course
            } else {
                ActivityKind::SeriesOccurrence
            },
            series_id: row.series_id.map(|s| ID(s.to_string())),
            series_kind: row.series_kind.as_deref().and_then(series_kind),
            local_starts_at: local(zone, row.starts_at),
            local_ends_at: local(zone, row.ends_at),
            starts_at: row.starts_at,
            ends_at: row.ends_at,
            time_zone: row.time_zone,
            location: row.location,
            specialty: row.specialty,
            audience: if row.audience == "affiliates" {
                Audience::Affiliates
            } else {
                Audience::Open
            },
            code: viewer
                .is_some_and(|v| v.role == Role::Staff)
                .then_some(row.code),
            minutes_before: row.minutes_before,
            minutes_after: row.minutes_after,
            credits: credit_offers(&row.credits),
            evaluation_required: row.evaluation_required,
            cancelled: row.status == "cancelled",
            cancel_reason: row.cancel_reason,
        }
    }
}

/// An activity with its cursor.
#[derive(SimpleObject, Clone, Debug)]
pub struct ActivityEdge {
    /// Opaque position in the calendar.
    pub cursor: String,
    /// The activity.
    pub node: Activity,
}

/// A page of the calendar (Relay connection).
#[derive(SimpleObject, Clone, Debug)]
pub struct ActivityConnection {
    /// The activities of the page, in start order.
    pub edges: Vec<ActivityEdge>,
    /// Paging.
    pub page_info: PageInfo,
}

fn cursor(row: &ActivityRow) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!(
        "{}|{}",
        row.starts_at.timestamp_micros(),
        row.id
    ))
}

fn parse_cursor(raw: &str) -> Result<(DateTime<Utc>, Uuid), ApiError> {
    let refused = || {
        ApiError::new(
            "CURSOR_INVALID",
            "this cursor was not given by the calendar",
        )
        .on("after")
    };
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(raw)
        .map_err(|_| refused())?;
    let text = String::from_utf8(bytes).map_err(|_| refused())?;
    let (micros, id) = text.split_once('|').ok_or_else(refused)?;
    let at = micros
        .parse::<i64>()
        .ok()
        .and_then(DateTime::from_timestamp_micros)
        .ok_or_else(refused)?;
    Ok((at, Uuid::parse_str(id).map_err(|_| refused())?))
}

/// Reads a time as staff write it: a wall-clock time in `zone` (seconds optional), or an instant with an offset.
fn time(checked: &mut Checked, field: &str, raw: &str, zone: TimeZone) -> Option<NaiveDateTime> {
    let raw = raw.trim();
    if let Ok(at) = DateTime::parse_from_rfc3339(raw) {
        return Some(zone.local(at.with_timezone(&Utc)));
    }
    for format in ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"] {
        if let Ok(local) = NaiveDateTime::parse_from_str(raw, format) {
            return Some(local);
        }
    }
    checked.refuse(
        field,
        "TIME_INVALID",
        "is a local time such as 2026-12-01T08:00, or an instant such as 2026-12-01T14:00:00Z"
            .to_owned(),
    );
    None
}

fn zone(
    checked: &mut Checked,
    raw: Option<&str>,
    organization: &OrganizationSummary,
) -> Option<TimeZone> {
    match raw {
        None => Some(organization.time_zone),
        Some(raw) => checked.value("timeZone", "TIME_ZONE_INVALID", TimeZone::parse(raw)),
    }
}

fn minutes(checked: &mut Checked, field: &str, raw: Option<i32>, default: u32) -> Option<u32> {
    match raw {
        None => Some(default),
        Some(m) => match u32::try_from(m) {
            Ok(m) if m <= v::AttendanceWindow::MAX_MINUTES => Some(m),
            _ => {
                checked.refuse(field, "WINDOW_INVALID", "is 0 to 1440 minutes".to_owned());
                None
            }
        },
    }
}

fn credits(checked: &mut Checked, input: &[CreditInput]) -> Option<v::Credits> {
    let mut offers = Vec::with_capacity(input.len());
    let mut valid = true;
    for (i, credit) in input.iter().enumerate() {
        match v::CreditAmount::parse(&credit.amount) {
            Ok(amount) => offers.push(v::CreditOffer {
                credit_type: credit.r#type.into(),
                amount,
            }),
            Err(e) => {
                checked.refuse(
                    &format!("credits[{i}].amount"),
                    "CREDIT_AMOUNT_INVALID",
                    e.rule.to_owned(),
                );
                valid = false;
            }
        }
    }
    if !valid {
        return None;
    }
    checked.value("credits", "CREDITS_INVALID", v::Credits::new(offers))
}

fn optional<T>(
    checked: &mut Checked,
    raw: Option<&str>,
    code: &'static str,
    parse: impl Fn(&str) -> Result<T, v::FieldError>,
) -> Option<Option<T>> {
    match raw.map(str::trim).filter(|s| !s.is_empty()) {
        None => Some(None),
        Some(text) => match parse(text) {
            Ok(value) => Some(Some(value)),
            Err(e) => {
                checked.refuse(e.field, code, e.rule.to_owned());
                None
            }
        },
    }
}

/// What an activity and every meeting of a series describe alike, parsed.
struct Shared {
    location: Option<v::Location>,
    specialty: Option<v::Specialty>,
    window: v::AttendanceWindow,
    credits: v::Credits,
}

/// The fields an activity and a series share, as typed.
struct SharedInput<'a> {
    location: Option<&'a str>,
    specialty: Option<&'a str>,
    minutes_before: Option<i32>,
    minutes_after: Option<i32>,
    credits: &'a [CreditInput],
}

fn shared(checked: &mut Checked, input: SharedInput<'_>) -> Option<Shared> {
    let location = optional(
        checked,
        input.location,
        "LOCATION_INVALID",
        v::Location::parse,
    );
    let specialty = optional(
        checked,
        input.specialty,
        "SPECIALTY_INVALID",
        v::Specialty::parse,
    );
    let before = minutes(checked, "minutesBefore", input.minutes_before, 15);
    let after = minutes(checked, "minutesAfter", input.minutes_after, 30);
    let credits = credits(checked, input.credits);
    Some(Shared {
        location: location?,
        specialty: specialty?,
        window: v::AttendanceWindow::new(before?, after?).ok()?,
        credits: credits?,
    })
}

fn incomplete() -> ApiError {
    ApiError::new("INPUT_INVALID", "the input is invalid")
}

fn details(
    input: &ActivityInput,
    organization: &OrganizationSummary,
) -> Result<ActivityDetails, ApiError> {
    let mut checked = Checked::default();
    let title = checked.value(
        "title",
        "TITLE_INVALID",
        v::ActivityTitle::parse(&input.title),
    );
    let zone = zone(&mut checked, input.time_zone.as_deref(), organization);
    let schedule = zone.and_then(|zone| {
        let starts = time(&mut checked, "startsAt", &input.starts_at, zone);
        let ends = time(&mut checked, "endsAt", &input.ends_at, zone);
        let (starts, ends) = (starts?, ends?);
        v::ActivitySchedule::local(starts, ends, zone)
            .map_err(|e| checked.refuse(e.field, "SCHEDULE_INVALID", e.rule.to_owned()))
            .ok()
    });
    let code = checked.value(
        "code",
        "ACTIVITY_CODE_INVALID",
        v::ActivityCode::parse(&input.code),
    );
    let shared = shared(
        &mut checked,
        SharedInput {
            location: input.location.as_deref(),
            specialty: input.specialty.as_deref(),
            minutes_before: input.minutes_before,
            minutes_after: input.minutes_after,
            credits: &input.credits,
        },
    );
    checked.finish()?;
    let shared = shared.ok_or_else(incomplete)?;
    Ok(ActivityDetails {
        title: title.ok_or_else(incomplete)?,
        kind: DomainKind::Course,
        schedule: schedule.ok_or_else(incomplete)?,
        location: shared.location,
        specialty: shared.specialty,
        audience: input.audience.unwrap_or(Audience::Open).into(),
        code: code.ok_or_else(incomplete)?,
        window: shared.window,
        credits: shared.credits,
        evaluation_required: input.evaluation_required.unwrap_or(false),
    })
}

fn series_plan(
    input: &SeriesInput,
    organization: &OrganizationSummary,
) -> Result<SeriesPlan, ApiError> {
    let mut checked = Checked::default();
    let title = checked.value(
        "title",
        "TITLE_INVALID",
        v::ActivityTitle::parse(&input.title),
    );
    let recurrence = match input.frequency {
        Frequency::Weekly => {
            let interval = u8::try_from(input.interval.unwrap_or(1)).unwrap_or(0);
            checked.value(
                "interval",
                "RECURRENCE_INVALID",
                v::Recurrence::weekly(interval),
            )
        }
        Frequency::MonthlyOnDay => Some(v::Recurrence::MonthlyOnDay),
        Frequency::MonthlyOnWeekday => Some(v::Recurrence::MonthlyOnWeekday),
    };
    let count = match u16::try_from(input.count) {
        Ok(c) if (1..=v::MAX_OCCURRENCES).contains(&c) => Some(c),
        _ => {
            checked.refuse("count", "COUNT_INVALID", "is 1 to 60 meetings".to_owned());
            None
        }
    };
    let zone = zone(&mut checked, input.time_zone.as_deref(), organization);
    let times = zone.and_then(|zone| {
        let starts = time(&mut checked, "firstStartsAt", &input.first_starts_at, zone);
        let ends = time(&mut checked, "firstEndsAt", &input.first_ends_at, zone);
        let (starts, ends) = (starts?, ends?);
        // A meeting must end after it starts, within a day.
        if ends <= starts || ends - starts > chrono::Duration::hours(24) {
            checked.refuse(
                "firstEndsAt",
                "SCHEDULE_INVALID",
                "is after firstStartsAt, at most 24 hours later".to_owned(),
            );
            return None;
        }
        Some((starts, ends, zone))
    });
    let shared = shared(
        &mut checked,
        SharedInput {
            location: input.location.as_deref(),
            specialty: input.specialty.as_deref(),
            minutes_before: input.minutes_before,
            minutes_after: input.minutes_after,
            credits: &input.credits,
        },
    );
    checked.finish()?;
    let shared = shared.ok_or_else(incomplete)?;
    let (first_starts, first_ends, time_zone) = times.ok_or_else(incomplete)?;
    Ok(SeriesPlan {
        title: title.ok_or_else(incomplete)?,
        series_kind: input.series_kind.into(),
        recurrence: recurrence.ok_or_else(incomplete)?,
        count: count.ok_or_else(incomplete)?,
        first_starts,
        first_ends,
        time_zone,
        location: shared.location,
        specialty: shared.specialty,
        audience: input.audience.unwrap_or(Audience::Affiliates).into(),
        window: shared.window,
        credits: shared.credits,
        evaluation_required: input.evaluation_required.unwrap_or(false),
    })
}

/// The caller's organization, read from the log.
pub async fn organization(
    state: &AppState,
    id: OrganizationId,
) -> Result<OrganizationSummary, ApiError> {
    orgs::find_by_id(&state.store, id)
        .await
        .map_err(|e| {
            ApiError::from_command::<portal_domain::organization::OrganizationError>(e.into())
        })?
        .ok_or_else(|| {
            ApiError::new(
                "ORGANIZATION_NOT_FOUND",
                "your organization no longer exists",
            )
        })
}

/// Whose calendar, seen by whom: the signed-in person's organization, or, for someone not signed in who names it,
/// an organization whose calendar is public (CALENDAR_NOT_PUBLIC otherwise, the same for a code nobody has).
pub async fn calendar_of(
    ctx: &Context<'_>,
    organization_code: Option<&str>,
) -> Result<(OrganizationSummary, Option<Principal>), ApiError> {
    let state = ctx.data_unchecked::<AppState>();
    let signed_in = ctx
        .data_unchecked::<crate::request::RequestContext>()
        .bearer
        .is_some();
    match organization_code {
        Some(code) if !signed_in => {
            let request = ctx.data_unchecked::<crate::request::RequestContext>();
            super::mutation::throttle(
                state,
                request,
                crate::throttle::Action::PublicCalendar,
                None,
            )?;
            let org = public_calendar(state, code).await?;
            Ok((org, None))
        }
        _ => {
            let principal = principal(ctx).await?;
            Ok((
                organization(state, principal.organization).await?,
                Some(principal),
            ))
        }
    }
}

/// The organization with this code (in any case) if its calendar is public; CALENDAR_NOT_PUBLIC otherwise.
pub async fn public_calendar(
    state: &AppState,
    code: &str,
) -> Result<OrganizationSummary, ApiError> {
    let not_public = || {
        ApiError::new(
            "CALENDAR_NOT_PUBLIC",
            "this organization's calendar is for those signed in",
        )
        .on("organizationCode")
    };
    let code = portal_domain::values::OrganizationCode::parse(&code.trim().to_ascii_lowercase())
        .map_err(|_| not_public())?;
    let org = orgs::find_by_code(&state.store, &code)
        .await
        .map_err(|e| ApiError::internal(&e))?
        .filter(|org| org.calendar_public)
        .ok_or_else(not_public)?;
    Ok(org)
}

/// Parses an activity id argument.
pub fn activity_id(raw: &ID, field: &str) -> Result<ActivityId, ApiError> {
    Uuid::parse_str(raw.as_str())
        .map(ActivityId)
        .map_err(|_| ApiError::new("ID_INVALID", "this is not an activity id").on(field))
}

/// What scheduling or changing an activity did.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct ActivityPayload {
    /// The activity.
    pub activity_id: ID,
    /// The log position produced (null when nothing changed).
    pub position: Option<LogPosition>,
    #[graphql(skip)]
    changed: ChangedActivities,
}

#[ComplexObject]
impl ActivityPayload {
    /// The activity as it now is (what `activity(id)` answers).
    async fn activity(&self, ctx: &Context<'_>) -> Result<Option<Activity>> {
        Ok(self.changed.read(ctx).await?.pop())
    }
}

/// What scheduling a series did.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct SeriesPayload {
    /// The series.
    pub series_id: ID,
    /// Its meetings, in order (each an activity with a generated code).
    pub activity_ids: Vec<ID>,
    /// The log position produced.
    pub position: LogPosition,
    #[graphql(skip)]
    changed: ChangedActivities,
}

#[ComplexObject]
impl SeriesPayload {
    /// Its meetings as they now are, in order.
    async fn activities(&self, ctx: &Context<'_>) -> Result<Vec<Activity>> {
        Ok(self.changed.read(ctx).await?)
    }
}

/// Activities a mutation changed, read back for its answer.
struct ChangedActivities {
    reader: Principal,
    activities: Vec<ActivityId>,
    position: Option<LogPosition>,
}

impl ChangedActivities {
    fn new(reader: &Principal, activities: Vec<ActivityId>, position: Option<i64>) -> Self {
        Self {
            reader: reader.clone(),
            activities,
            position: position.filter(|p| *p > 0).map(LogPosition),
        }
    }

    async fn read(&self, ctx: &Context<'_>) -> Result<Vec<Activity>, ApiError> {
        read_activities(ctx, &self.reader, &self.activities, self.position).await
    }
}

/// The activities `ids` of `reader`'s organization that exist, in the order given, once the calendar has applied
/// `at_least`.
async fn read_activities(
    ctx: &Context<'_>,
    reader: &Principal,
    ids: &[ActivityId],
    at_least: Option<LogPosition>,
) -> Result<Vec<Activity>, ApiError> {
    let state = ctx.data_unchecked::<AppState>();
    let org = organization(state, reader.organization).await?;
    applied(state, calendar::NAME, at_least).await?;
    let mut activities = Vec::with_capacity(ids.len());
    for id in ids {
        if let Some(row) = calendar::find(&state.pool, org.id.0, id.0)
            .await
            .map_err(projection_error)?
        {
            activities.push(Activity::from_row(row, org.time_zone, Some(reader)));
        }
    }
    Ok(activities)
}

/// Activity mutations (staff only).
#[derive(Default)]
pub struct ActivityMutation;

async fn staff_and_org(ctx: &Context<'_>) -> Result<(Principal, OrganizationSummary), ApiError> {
    let principal = staff(ctx).await?;
    let org = organization(ctx.data_unchecked::<AppState>(), principal.organization).await?;
    Ok((principal, org))
}

#[Object]
impl ActivityMutation {
    /// Puts a course on the calendar (staff).
    async fn schedule_activity(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The operation's input.")] input: ActivityInput,
    ) -> Result<ActivityPayload> {
        let (principal, org) = staff_and_org(ctx).await?;
        let details = details(&input, &org)?;
        let state = ctx.data_unchecked::<AppState>();
        let request = ctx.data_unchecked::<RequestContext>();
        let command = request.command(Actor::Account(principal.account.0), input.command_id);
        let (id, position) = activities::schedule(
            &state.store,
            org.id,
            details,
            Some(principal.account),
            &command,
        )
        .await
        .map_err(ApiError::from_command)?;
        Ok(ActivityPayload {
            activity_id: ID(id.0.to_string()),
            position: Some(LogPosition(position)),
            changed: ChangedActivities::new(&principal, vec![id], Some(position)),
        })
    }

    /// Replaces what staff said about an activity; a course stays a course and a meeting stays in its series.
    async fn change_activity(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The activity.")] id: ID,
        #[graphql(desc = "The operation's input.")] input: ActivityInput,
    ) -> Result<ActivityPayload> {
        let (principal, org) = staff_and_org(ctx).await?;
        let activity = activity_id(&id, "id")?;
        let details = details(&input, &org)?;
        let state = ctx.data_unchecked::<AppState>();
        let request = ctx.data_unchecked::<RequestContext>();
        let command = request.command(Actor::Account(principal.account.0), input.command_id);
        let position = activities::change(
            &state.store,
            org.id,
            activity,
            details,
            Some(principal.account),
            &command,
        )
        .await
        .map_err(ApiError::from_command)?;
        Ok(ActivityPayload {
            activity_id: id,
            position: position.map(LogPosition),
            changed: ChangedActivities::new(&principal, vec![activity], position),
        })
    }

    /// Cancels an activity; texts of its code are answered that it was cancelled.
    async fn cancel_activity(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The activity.")] id: ID,
        #[graphql(desc = "Why it is cancelled, told to the learners who recorded it.")]
        reason: Option<String>,
        #[graphql(
            desc = "Idempotency key: a retry with the same id returns the first answer instead of acting twice."
        )]
        command_id: Option<Uuid>,
    ) -> Result<ActivityPayload> {
        let (principal, org) = staff_and_org(ctx).await?;
        let activity = activity_id(&id, "id")?;
        let reason = reason
            .map(|r| r.trim().to_owned())
            .filter(|r| !r.is_empty());
        if reason.as_ref().is_some_and(|r| r.chars().count() > 500) {
            return Err(
                ApiError::new("REASON_TOO_LONG", "a reason has at most 500 characters")
                    .on("reason")
                    .into(),
            );
        }
        let state = ctx.data_unchecked::<AppState>();
        let request = ctx.data_unchecked::<RequestContext>();
        let command = request.command(Actor::Account(principal.account.0), command_id);
        let position = activities::cancel(
            &state.store,
            org.id,
            activity,
            reason,
            Some(principal.account),
            &command,
        )
        .await
        .map_err(ApiError::from_command)?;
        Ok(ActivityPayload {
            activity_id: id,
            position: position.map(LogPosition),
            changed: ChangedActivities::new(&principal, vec![activity], position),
        })
    }

    /// Schedules a Regularly Scheduled Series: one activity per meeting, each with its own generated code.
    async fn schedule_series(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The operation's input.")] input: SeriesInput,
    ) -> Result<SeriesPayload> {
        let (principal, org) = staff_and_org(ctx).await?;
        let plan = series_plan(&input, &org)?;
        let state = ctx.data_unchecked::<AppState>();
        let request = ctx.data_unchecked::<RequestContext>();
        let command = request.command(Actor::Account(principal.account.0), input.command_id);
        let scheduled = activities::schedule_series(
            &state.store,
            org.id,
            plan,
            Some(principal.account),
            &command,
        )
        .await
        .map_err(ApiError::from_command)?;
        Ok(SeriesPayload {
            series_id: ID(scheduled.id.0.to_string()),
            activity_ids: scheduled
                .occurrences
                .iter()
                .map(|a| ID(a.0.to_string()))
                .collect(),
            position: LogPosition(scheduled.last_position),
            changed: ChangedActivities::new(
                &principal,
                scheduled.occurrences.clone(),
                Some(scheduled.last_position),
            ),
        })
    }
}

/// Calendar queries.
#[derive(Default)]
pub struct ActivityQuery;

/// The most activities one page holds.
pub const MAX_PAGE: i32 = 100;

#[Object]
impl ActivityQuery {
    /// The calendar of your organization: activities starting from `from` to `to` (dates in the organization's
    /// zone, both included), courses only unless `includeRss`, filtered by specialty and text, in start order,
    /// `first` (1 to 100, default 20) at a time; cancelled ones only with `includeCancelled`.
    #[allow(clippy::too_many_arguments)]
    async fn calendar(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Activities from this day on (the organization's time zone).")]
        from: Option<NaiveDate>,
        #[graphql(desc = "Activities up to this day, included.")] to: Option<NaiveDate>,
        #[graphql(
            name = "includeRss",
            desc = "Also the activities of regularly scheduled series (the FAQ's \"Include RSS\")."
        )]
        include_series: Option<bool>,
        #[graphql(desc = "Only activities of this specialty.")] specialty: Option<String>,
        #[graphql(desc = "Words to find in the title or description.")] text: Option<String>,
        #[graphql(desc = "Also cancelled activities.")] include_cancelled: Option<bool>,
        #[graphql(desc = "Page size.")] first: Option<i32>,
        #[graphql(desc = "Cursor of the last item of the previous page (`pageInfo.endCursor`).")]
        after: Option<String>,
        #[graphql(
            desc = "Read your writes: wait until the read model has applied this log position (a mutation's `position`)."
        )]
        at_least: Option<LogPosition>,
        #[graphql(
            desc = "Without signing in: the organization whose calendar is public (`organization(code) { calendarPublic }`)."
        )]
        organization_code: Option<String>,
    ) -> Result<ActivityConnection> {
        let state = ctx.data_unchecked::<AppState>();
        let (org, principal) = calendar_of(ctx, organization_code.as_deref()).await?;
        let first = first.unwrap_or(20);
        if !(1..=MAX_PAGE).contains(&first) {
            return Err(ApiError::new("PAGE_SIZE_INVALID", "first is 1 to 100")
                .on("first")
                .into());
        }
        if let (Some(from), Some(to)) = (from, to) {
            if to < from {
                return Err(ApiError::new("RANGE_INVALID", "to is on or after from")
                    .on("to")
                    .into());
            }
        }
        let after = after.as_deref().map(parse_cursor).transpose()?;
        applied(state, calendar::NAME, at_least).await?;
        let zone = org.time_zone;
        let midnight = |d: NaiveDate| zone.instant(d.and_hms_opt(0, 0, 0).unwrap_or_default());
        let filter = CalendarFilter {
            from: from.map(midnight),
            until: to.and_then(|d| d.succ_opt()).map(midnight),
            include_series: include_series.unwrap_or(false),
            specialty: specialty
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty()),
            text: text.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()),
            include_cancelled: include_cancelled.unwrap_or(false),
        };
        let mut rows = calendar::page(&state.pool, org.id.0, &filter, after, i64::from(first))
            .await
            .map_err(projection_error)?;
        let has_next_page = rows.len() > usize::try_from(first).unwrap_or(0);
        rows.truncate(usize::try_from(first).unwrap_or(0));
        let edges: Vec<ActivityEdge> = rows
            .into_iter()
            .map(|row| ActivityEdge {
                cursor: cursor(&row),
                node: Activity::from_row(row, zone, principal.as_ref()),
            })
            .collect();
        Ok(ActivityConnection {
            page_info: PageInfo::of(&edges, |e| &e.cursor, has_next_page, after.is_some()),
            edges,
        })
    }

    /// One activity of your organization, or null.
    async fn activity(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The activity.")] id: ID,
        #[graphql(
            desc = "Read your writes: wait until the read model has applied this log position (a mutation's `position`)."
        )]
        at_least: Option<LogPosition>,
    ) -> Result<Option<Activity>> {
        let principal = principal(ctx).await?;
        let id = activity_id(&id, "id")?;
        Ok(read_activities(ctx, &principal, &[id], at_least)
            .await?
            .pop())
    }
}
