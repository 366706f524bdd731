//! Read model `transcript`: per learner, each activity attended with its date, credit type, amount and status, and
//! totals per credit type per year.

use chrono::{DateTime, NaiveDate, Utc};
use deadpool_postgres::Pool;
use portal_commands::history::{replay, Cutoff};
use portal_commands::log::{PgEventLog, RecordedEvent, StreamId};
use portal_commands::store::Store;
use portal_domain::account::{Account, AccountEvent};
use portal_domain::activity::{Activity, ActivityDetails, ActivityEvent};
use portal_domain::attendance::{Attendance, AttendanceEvent, CreditHold};
use portal_domain::values::PersonName;
use portal_domain::{Decider, Personal};
use uuid::Uuid;

use crate::{decode_if, params, writes::Writes, Projection, ProjectionError};

/// The transcript projection.
pub struct Transcript;

/// Its name, for read-your-writes waits.
pub const NAME: &str = "transcript";

fn reason_codes(holds: &[CreditHold]) -> Vec<String> {
    holds.iter().map(|h| h.code().to_owned()).collect()
}

impl Projection for Transcript {
    fn name(&self) -> &'static str {
        NAME
    }

    fn tables(&self) -> &'static [&'static str] {
        &["transcript_activities", "transcript_entries"]
    }

    fn apply(&self, writes: &mut Writes, events: &[RecordedEvent]) -> Result<(), ProjectionError> {
        for recorded in events {
            let Some(id) = recorded.stream.id() else {
                continue;
            };
            if let Some(event) = decode_if::<ActivityEvent>(recorded, Activity::CATEGORY)? {
                match event {
                    ActivityEvent::ActivityScheduled(e) => {
                        activity(writes, id, e.organization_id.0, &e.details)?;
                    }
                    ActivityEvent::ActivityChanged(e) => {
                        activity(writes, id, recorded.tenant, &e.details)?;
                    }
                    ActivityEvent::ActivityCancelled(_) => {}
                }
                continue;
            }
            let Some(event) = decode_if::<AttendanceEvent>(recorded, Attendance::CATEGORY)? else {
                continue;
            };
            match event {
                AttendanceEvent::AttendanceRecorded(e) => {
                    let reasons = reason_codes(&e.holds);
                    for offer in e.credits.offers() {
                        let hundredths = i32::try_from(offer.amount.hundredths()).unwrap_or(0);
                        writes.execute(
                            "INSERT INTO transcript_entries (attendance_id, organization_id, learner_id, activity_id,
                                 credit_type, amount, status, pending_reasons, channel, recorded_at,
                                 evaluation_required)
                             VALUES ($1, $2, $3, $4, $5, $6::int4::numeric / 100, 'pending', $7, $8, $9, $10)",
                            params![
                                id,
                                e.organization_id.0,
                                e.learner_id.0,
                                e.activity_id.0,
                                offer.credit_type.as_str().to_owned(),
                                hundredths,
                                reasons.clone(),
                                e.channel.as_str().to_owned(),
                                e.at,
                                e.evaluation_required,
                            ],
                        );
                    }
                }
                AttendanceEvent::EvaluationSubmitted(e) => {
                    writes.execute(
                        "UPDATE transcript_entries
                         SET evaluated_at = $2, pending_reasons = array_remove(pending_reasons, 'EVALUATION_REQUIRED')
                         WHERE attendance_id = $1",
                        params![id, e.at],
                    );
                }
                AttendanceEvent::CreditHeld(e) => {
                    writes.execute(
                        "UPDATE transcript_entries SET pending_reasons = $2 WHERE attendance_id = $1",
                        params![id, reason_codes(&e.holds)],
                    );
                }
                AttendanceEvent::CreditAwarded(e) => {
                    writes.execute(
                        "UPDATE transcript_entries SET status = 'awarded', awarded_at = $2, pending_reasons = '{}'
                         WHERE attendance_id = $1",
                        params![id, e.at],
                    );
                }
            }
        }
        Ok(())
    }
}

fn activity(
    writes: &mut Writes,
    id: Uuid,
    organization: Uuid,
    d: &ActivityDetails,
) -> Result<(), ProjectionError> {
    let local_date = d.schedule.time_zone.local(d.schedule.starts_at).date();
    writes.execute(
        "INSERT INTO transcript_activities (id, organization_id, title, starts_at, local_date)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (id) DO UPDATE SET title = EXCLUDED.title, starts_at = EXCLUDED.starts_at,
             local_date = EXCLUDED.local_date",
        params![
            id,
            organization,
            d.title.as_str().to_owned(),
            d.schedule.starts_at,
            local_date,
        ],
    );
    Ok(())
}

/// One line of a transcript.
#[derive(Clone, Debug, PartialEq)]
pub struct TranscriptLine {
    /// The learner.
    pub learner_id: Uuid,
    /// The activity.
    pub activity_id: Uuid,
    /// Its title.
    pub title: String,
    /// Its date in its own zone.
    pub date: NaiveDate,
    /// The credit type's stored name.
    pub credit_type: String,
    /// The amount, as a decimal with two places (`1.50`).
    pub amount: String,
    /// `awarded` or `pending`.
    pub status: String,
    /// Why it waits.
    pub pending_reasons: Vec<String>,
    /// `sms`, `web` or `staff`.
    pub channel: String,
    /// When attendance was recorded.
    pub recorded_at: DateTime<Utc>,
    /// When the credit was awarded.
    pub awarded_at: Option<DateTime<Utc>>,
    /// The activity asks for an evaluation.
    pub evaluation_required: bool,
    /// When the evaluation was submitted.
    pub evaluated_at: Option<DateTime<Utc>>,
    /// The learner's name in force on the activity's date (None once erased).
    pub learner_name: Option<String>,
}

/// The totals of one credit type in one year.
#[derive(Clone, Debug, PartialEq)]
pub struct YearTotal {
    /// The calendar year of the activities' dates.
    pub year: i32,
    /// The credit type's stored name.
    pub credit_type: String,
    /// Awarded, as a decimal (`12.50`).
    pub awarded: String,
    /// Pending, as a decimal.
    pub pending: String,
}

/// What part of a transcript to read.
#[derive(Clone, Debug, Default)]
pub struct TranscriptFilter {
    /// Only this learner.
    pub learner: Option<Uuid>,
    /// Only this activity.
    pub activity: Option<Uuid>,
    /// Activities dated on or after.
    pub from: Option<NaiveDate>,
    /// Activities dated on or before.
    pub to: Option<NaiveDate>,
    /// Only awarded credit.
    pub awarded_only: bool,
}

/// Transcript lines of an organization, newest activity first.
pub async fn lines(
    pool: &Pool,
    organization: Uuid,
    filter: &TranscriptFilter,
) -> Result<Vec<TranscriptLine>, ProjectionError> {
    let client = pool.get().await?;
    let rows = client
        .query(
            "SELECT e.learner_id, e.activity_id, a.title, a.local_date, e.credit_type, e.amount::text, e.status,
                    e.pending_reasons, e.channel, e.recorded_at, e.awarded_at, e.evaluation_required, e.evaluated_at,
                    n.name
             FROM transcript_entries e
             JOIN transcript_activities a ON a.id = e.activity_id
             LEFT JOIN LATERAL (
                 SELECT nullif(concat_ws(' ', first_name, middle_name, last_name), '') AS name FROM account_names
                 WHERE account_id = e.learner_id AND effective_on <= a.local_date
                 ORDER BY effective_on DESC, recorded_at DESC LIMIT 1
             ) n ON true
             WHERE e.organization_id = $1
               AND ($2::uuid IS NULL OR e.learner_id = $2)
               AND ($3::uuid IS NULL OR e.activity_id = $3)
               AND ($4::date IS NULL OR a.local_date >= $4)
               AND ($5::date IS NULL OR a.local_date <= $5)
               AND (NOT $6 OR e.status = 'awarded')
             ORDER BY a.local_date DESC, a.starts_at DESC, e.activity_id, e.learner_id, e.credit_type",
            &[
                &organization,
                &filter.learner,
                &filter.activity,
                &filter.from,
                &filter.to,
                &filter.awarded_only,
            ],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| TranscriptLine {
            learner_id: r.get(0),
            activity_id: r.get(1),
            title: r.get(2),
            date: r.get(3),
            credit_type: r.get(4),
            amount: r.get(5),
            status: r.get(6),
            pending_reasons: r.get(7),
            channel: r.get(8),
            recorded_at: r.get(9),
            awarded_at: r.get(10),
            evaluation_required: r.get(11),
            evaluated_at: r.get(12),
            learner_name: r.get(13),
        })
        .collect())
}

/// A learner's totals per year and credit type, newest year first.
pub async fn totals(
    pool: &Pool,
    organization: Uuid,
    learner: Uuid,
) -> Result<Vec<YearTotal>, ProjectionError> {
    let client = pool.get().await?;
    let rows = client
        .query(
            "SELECT extract(year FROM a.local_date)::int4, e.credit_type,
                    coalesce(sum(e.amount) FILTER (WHERE e.status = 'awarded'), 0)::numeric(7, 2)::text,
                    coalesce(sum(e.amount) FILTER (WHERE e.status = 'pending'), 0)::numeric(7, 2)::text
             FROM transcript_entries e
             JOIN transcript_activities a ON a.id = e.activity_id
             WHERE e.organization_id = $1 AND e.learner_id = $2
             GROUP BY 1, 2
             ORDER BY 1 DESC, 2",
            &[&organization, &learner],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| YearTotal {
            year: r.get(0),
            credit_type: r.get(1),
            awarded: r.get(2),
            pending: r.get(3),
        })
        .collect())
}

/// A digest of a learner's entries that changes whenever one is added or changes (status, reasons, evaluation,
/// amount), so that a live view re-reads the transcript only then.
pub async fn fingerprint(
    pool: &Pool,
    organization: Uuid,
    learner: Uuid,
) -> Result<String, ProjectionError> {
    let client = pool.get().await?;
    let row = client
        .query_one(
            "SELECT coalesce(md5(string_agg(
                        concat_ws('|', activity_id, credit_type, amount, status, pending_reasons::text,
                                  awarded_at, evaluated_at, recorded_at),
                        ',' ORDER BY activity_id, credit_type)), '')
             FROM transcript_entries
             WHERE organization_id = $1 AND learner_id = $2",
            &[&organization, &learner],
        )
        .await?;
    Ok(row.get(0))
}

/// "First Middle Last", as the transcript shows a learner (None once erased).
fn full_name(name: &Personal<PersonName>) -> Option<String> {
    name.known().map(|n| {
        [
            Some(n.first.as_str()),
            n.middle.as_ref().map(|m| m.as_str()),
            Some(n.last.as_str()),
        ]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ")
    })
}

/// The name in force on `date`: the last one recorded that took effect on that day or before.
fn name_on(names: &[(Option<NaiveDate>, Option<String>)], date: NaiveDate) -> Option<String> {
    names
        .iter()
        .filter(|(from, _)| from.is_none_or(|from| from <= date))
        .max_by_key(|(from, _)| *from)
        .and_then(|(_, name)| name.clone())
}

/// A learner's transcript as it stood at the cutoff, replayed from the log (the activities' and the attendance
/// streams' events up to then) with the same rules as this projection, in the same order as [`lines`].
pub async fn as_of(
    store: &Store<PgEventLog>,
    organization: Uuid,
    learner: Uuid,
    cutoff: Cutoff,
) -> Result<Vec<TranscriptLine>, ProjectionError> {
    let load = |e: portal_commands::store::LoadError| ProjectionError::Decode(e.to_string());
    // The learner's names as the log held them then, each with the day it took effect (None: from the start).
    let mut names: Vec<(Option<NaiveDate>, Option<String>)> = Vec::new();
    for recorded in replay(
        store,
        organization,
        &StreamId::new(Account::CATEGORY, learner),
        cutoff,
    )
    .await
    .map_err(load)?
    {
        match decode_if::<AccountEvent>(&recorded, Account::CATEGORY)? {
            Some(AccountEvent::AccountRegistered(e)) => names.push((None, full_name(&e.name))),
            Some(AccountEvent::NameChanged(e)) => {
                names.push((Some(e.effective_on), full_name(&e.name)));
            }
            _ => {}
        }
    }
    let mut lines: Vec<(DateTime<Utc>, TranscriptLine)> = Vec::new();
    for stream in store.log.attendance_streams(organization, learner).await? {
        let events = replay(store, organization, &stream, cutoff)
            .await
            .map_err(load)?;
        let mut entries: Vec<TranscriptLine> = Vec::new();
        let mut activity_id = None;
        for recorded in &events {
            let Some(event) = decode_if::<AttendanceEvent>(recorded, Attendance::CATEGORY)? else {
                continue;
            };
            match event {
                AttendanceEvent::AttendanceRecorded(e) => {
                    activity_id = Some(e.activity_id.0);
                    entries = e
                        .credits
                        .offers()
                        .iter()
                        .map(|offer| {
                            let hundredths = offer.amount.hundredths();
                            TranscriptLine {
                                learner_id: e.learner_id.0,
                                activity_id: e.activity_id.0,
                                title: String::new(),
                                date: NaiveDate::default(),
                                credit_type: offer.credit_type.as_str().to_owned(),
                                amount: format!("{}.{:02}", hundredths / 100, hundredths % 100),
                                status: "pending".to_owned(),
                                pending_reasons: reason_codes(&e.holds),
                                channel: e.channel.as_str().to_owned(),
                                recorded_at: e.at,
                                awarded_at: None,
                                evaluation_required: e.evaluation_required,
                                evaluated_at: None,
                                learner_name: None,
                            }
                        })
                        .collect();
                }
                AttendanceEvent::EvaluationSubmitted(e) => {
                    for line in &mut entries {
                        line.evaluated_at = Some(e.at);
                        line.pending_reasons.retain(|r| r != "EVALUATION_REQUIRED");
                    }
                }
                AttendanceEvent::CreditHeld(e) => {
                    for line in &mut entries {
                        line.pending_reasons = reason_codes(&e.holds);
                    }
                }
                AttendanceEvent::CreditAwarded(e) => {
                    for line in &mut entries {
                        line.status = "awarded".to_owned();
                        line.awarded_at = Some(e.at);
                        line.pending_reasons.clear();
                    }
                }
            }
        }
        let Some(activity_id) = activity_id else {
            continue;
        };
        // The activity as it stood then: its title and date may have changed since.
        let mut details = None;
        for recorded in replay(
            store,
            organization,
            &StreamId::new(Activity::CATEGORY, activity_id),
            cutoff,
        )
        .await
        .map_err(load)?
        {
            match decode_if::<ActivityEvent>(&recorded, Activity::CATEGORY)? {
                Some(ActivityEvent::ActivityScheduled(e)) => details = Some(e.details),
                Some(ActivityEvent::ActivityChanged(e)) => details = Some(e.details),
                _ => {}
            }
        }
        // The projection joins entries to their activity: without one, no line.
        let Some(details) = details else { continue };
        let date = details
            .schedule
            .time_zone
            .local(details.schedule.starts_at)
            .date();
        for mut line in entries {
            line.title = details.title.as_str().to_owned();
            line.date = date;
            line.learner_name = name_on(&names, date);
            lines.push((details.schedule.starts_at, line));
        }
    }
    lines.sort_by(|(a_start, a), (b_start, b)| {
        b.date
            .cmp(&a.date)
            .then(b_start.cmp(a_start))
            .then(a.activity_id.cmp(&b.activity_id))
            .then(a.learner_id.cmp(&b.learner_id))
            .then(a.credit_type.cmp(&b.credit_type))
    });
    Ok(lines.into_iter().map(|(_, line)| line).collect())
}
