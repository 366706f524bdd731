//! Read model `calendar`: the organization's activities, for the calendar page and its filters.

use chrono::{DateTime, Utc};
use deadpool_postgres::Pool;
use portal_commands::log::RecordedEvent;
use portal_domain::activity::{Activity, ActivityDetails, ActivityEvent, ActivityKind};
use portal_domain::values::Credits;
use portal_domain::Decider;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::{decode_if, params, writes::Writes, Projection, ProjectionError};

/// The calendar projection.
pub struct Calendar;

/// Its name, for read-your-writes waits.
pub const NAME: &str = "calendar";

/// Credits as the read models store them: `[{"type": "ama_pra_category_1", "amount": "1.00"}]`.
pub fn credits_json(credits: &Credits) -> Value {
    Value::Array(
        credits
            .offers()
            .iter()
            .map(|o| json!({ "type": o.credit_type.as_str(), "amount": o.amount.to_string() }))
            .collect(),
    )
}

impl Projection for Calendar {
    fn name(&self) -> &'static str {
        NAME
    }

    fn tables(&self) -> &'static [&'static str] {
        &["calendar_activities"]
    }

    fn apply(&self, writes: &mut Writes, events: &[RecordedEvent]) -> Result<(), ProjectionError> {
        for recorded in events {
            let Some(event) = decode_if::<ActivityEvent>(recorded, Activity::CATEGORY)? else {
                continue;
            };
            let Some(id) = recorded.stream.id() else {
                continue;
            };
            match event {
                ActivityEvent::ActivityScheduled(e) => {
                    write(writes, id, e.organization_id.0, &e.details, true)?;
                }
                ActivityEvent::ActivityChanged(e) => {
                    write(writes, id, recorded.tenant, &e.details, false)?;
                }
                ActivityEvent::ActivityCancelled(e) => {
                    writes.execute(
                        "UPDATE calendar_activities SET status = 'cancelled', cancel_reason = $2 WHERE id = $1",
                        params![id, e.reason],
                    );
                }
            }
        }
        Ok(())
    }
}

fn write(
    writes: &mut Writes,
    id: Uuid,
    organization: Uuid,
    d: &ActivityDetails,
    insert: bool,
) -> Result<(), ProjectionError> {
    let (kind, series, series_kind) = match d.kind {
        ActivityKind::Course => ("course", None, None),
        ActivityKind::SeriesOccurrence {
            series,
            series_kind,
        } => (
            "series_occurrence",
            Some(series.0),
            Some(series_kind.as_str()),
        ),
    };
    let minutes_before = i32::try_from(d.window.before_minutes).unwrap_or(i32::MAX);
    let minutes_after = i32::try_from(d.window.after_minutes).unwrap_or(i32::MAX);
    let sql = if insert {
        "INSERT INTO calendar_activities (id, organization_id, title, kind, series_id, series_kind, starts_at,
             ends_at, time_zone, location, specialty, audience, code, minutes_before, minutes_after, credits,
             evaluation_required, status)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, 'scheduled')"
    } else {
        "UPDATE calendar_activities SET title = $3, kind = $4, series_id = $5, series_kind = $6, starts_at = $7,
             ends_at = $8, time_zone = $9, location = $10, specialty = $11, audience = $12, code = $13,
             minutes_before = $14, minutes_after = $15, credits = $16, evaluation_required = $17
         WHERE id = $1 AND organization_id = $2"
    };
    writes.execute(
        sql,
        params![
            id,
            organization,
            d.title.as_str().to_owned(),
            kind,
            series,
            series_kind,
            d.schedule.starts_at,
            d.schedule.ends_at,
            d.schedule.time_zone.name(),
            d.location.as_ref().map(|l| l.as_str()).map(str::to_owned),
            d.specialty.as_ref().map(|s| s.as_str()).map(str::to_owned),
            d.audience.as_str().to_owned(),
            d.code.as_str().to_owned(),
            minutes_before,
            minutes_after,
            credits_json(&d.credits),
            d.evaluation_required,
        ],
    );
    Ok(())
}

/// A row of the calendar.
#[derive(Clone, Debug, PartialEq)]
pub struct ActivityRow {
    /// The activity.
    pub id: Uuid,
    /// Title.
    pub title: String,
    /// `course` or `series_occurrence`.
    pub kind: String,
    /// The series, for a series meeting.
    pub series_id: Option<Uuid>,
    /// The series kind (`grand_rounds`, ...).
    pub series_kind: Option<String>,
    /// Start.
    pub starts_at: DateTime<Utc>,
    /// End.
    pub ends_at: DateTime<Utc>,
    /// The venue's zone.
    pub time_zone: String,
    /// Where.
    pub location: Option<String>,
    /// Specialty.
    pub specialty: Option<String>,
    /// `open` or `affiliates`.
    pub audience: String,
    /// The code learners text.
    pub code: String,
    /// Minutes before the start attendance opens.
    pub minutes_before: i32,
    /// Minutes after the end it closes.
    pub minutes_after: i32,
    /// Credits offered (see [`credits_json`]).
    pub credits: Value,
    /// Credit waits for an evaluation.
    pub evaluation_required: bool,
    /// `scheduled` or `cancelled`.
    pub status: String,
    /// Why it was cancelled.
    pub cancel_reason: Option<String>,
}

const COLUMNS: &str = "id, title, kind, series_id, series_kind, starts_at, ends_at, time_zone, location, specialty,
    audience, code, minutes_before, minutes_after, credits, evaluation_required, status, cancel_reason";

fn row(r: &tokio_postgres::Row) -> ActivityRow {
    ActivityRow {
        id: r.get(0),
        title: r.get(1),
        kind: r.get(2),
        series_id: r.get(3),
        series_kind: r.get(4),
        starts_at: r.get(5),
        ends_at: r.get(6),
        time_zone: r.get(7),
        location: r.get(8),
        specialty: r.get(9),
        audience: r.get(10),
        code: r.get(11),
        minutes_before: r.get(12),
        minutes_after: r.get(13),
        credits: r.get(14),
        evaluation_required: r.get(15),
        status: r.get(16),
        cancel_reason: r.get(17),
    }
}

/// What the calendar shows: a range of start times and filters.
#[derive(Clone, Debug, Default)]
pub struct CalendarFilter {
    /// Starts at or after this instant.
    pub from: Option<DateTime<Utc>>,
    /// Starts before this instant.
    pub until: Option<DateTime<Utc>>,
    /// Include meetings of Regularly Scheduled Series ("Include RSS").
    pub include_series: bool,
    /// Only this specialty (case-insensitive).
    pub specialty: Option<String>,
    /// Words in the title, location or specialty (case-insensitive).
    pub text: Option<String>,
    /// Include cancelled activities.
    pub include_cancelled: bool,
}

/// One page of the calendar, in start order, after `after` (the last row of the previous page: start and id).
/// Fetches `limit + 1` rows so that the caller knows whether another page follows.
pub async fn page(
    pool: &Pool,
    organization: Uuid,
    filter: &CalendarFilter,
    after: Option<(DateTime<Utc>, Uuid)>,
    limit: i64,
) -> Result<Vec<ActivityRow>, ProjectionError> {
    let client = pool.get().await?;
    let text = filter.text.as_ref().map(|t| crate::contains_pattern(t));
    let rows = client
        .query(
            &format!(
                "SELECT {COLUMNS} FROM calendar_activities
                 WHERE organization_id = $1
                   AND ($2::timestamptz IS NULL OR starts_at >= $2)
                   AND ($3::timestamptz IS NULL OR starts_at < $3)
                   AND ($4 OR kind = 'course')
                   AND ($5::text IS NULL OR lower(specialty) = lower($5))
                   AND ($6::text IS NULL OR title ILIKE $6 OR location ILIKE $6 OR specialty ILIKE $6)
                   AND ($7 OR status = 'scheduled')
                   AND ($8::timestamptz IS NULL OR (starts_at, id) > ($8, $9::uuid))
                 ORDER BY starts_at, id
                 LIMIT $10"
            ),
            &[
                &organization,
                &filter.from,
                &filter.until,
                &filter.include_series,
                &filter.specialty,
                &text,
                &filter.include_cancelled,
                &after.map(|a| a.0),
                &after.map(|a| a.1),
                &(limit + 1),
            ],
        )
        .await?;
    Ok(rows.iter().map(row).collect())
}

/// One activity of an organization.
pub async fn find(
    pool: &Pool,
    organization: Uuid,
    id: Uuid,
) -> Result<Option<ActivityRow>, ProjectionError> {
    let client = pool.get().await?;
    let found = client
        .query_opt(
            &format!(
                "SELECT {COLUMNS} FROM calendar_activities WHERE organization_id = $1 AND id = $2"
            ),
            &[&organization, &id],
        )
        .await?;
    Ok(found.as_ref().map(row))
}

/// The activities of an organization with these ids, in start order (at most the ids given).
pub async fn find_many(
    pool: &Pool,
    organization: Uuid,
    ids: &[Uuid],
) -> Result<Vec<ActivityRow>, ProjectionError> {
    let client = pool.get().await?;
    let rows = client
        .query(
            &format!(
                "SELECT {COLUMNS} FROM calendar_activities WHERE organization_id = $1 AND id = ANY($2)
                 ORDER BY starts_at, id"
            ),
            &[&organization, &ids],
        )
        .await?;
    Ok(rows.iter().map(row).collect())
}
