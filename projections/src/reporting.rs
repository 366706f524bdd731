//! Board reporting: awarded credit of learners who consented, in the shape ACCME's PARS takes for reporting
//! completions to certifying and licensing boards. A query over the `transcript` and `accounts` read models.

use chrono::NaiveDate;
use deadpool_postgres::Pool;
use uuid::Uuid;

use crate::ProjectionError;

/// One completion to report.
#[derive(Clone, Debug, PartialEq)]
pub struct Completion {
    /// The board's abbreviation (`ABIM`, `STATE`, ...).
    pub board: String,
    /// The learner's id at the board.
    pub board_id: String,
    /// The learner.
    pub learner_id: Uuid,
    /// Given name on the completion date: a later change of name does not reach back (None once erased).
    pub first_name: Option<String>,
    /// Family name.
    pub last_name: Option<String>,
    /// Birth month, 1 to 12 (None when the profile has no date of birth).
    pub birth_month: Option<u32>,
    /// Birth day of the month.
    pub birth_day: Option<u32>,
    /// The activity.
    pub activity_id: Uuid,
    /// Its title.
    pub activity_title: String,
    /// The completion date: the activity's date in its zone.
    pub completion_date: NaiveDate,
    /// The credit type's stored name.
    pub credit_type: String,
    /// The amount (`1.00`).
    pub amount: String,
}

/// Completions of an organization's learners who consented, for activities dated from `from` to `to`, optionally one
/// activity, in date, activity and name order.
pub async fn completions(
    pool: &Pool,
    organization: Uuid,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    activity: Option<Uuid>,
) -> Result<Vec<Completion>, ProjectionError> {
    let client = pool.get().await?;
    let rows = client
        .query(
            "SELECT a.board, a.board_id, a.id, coalesce(n.first_name, a.first_name),
                    coalesce(n.last_name, a.last_name), a.profile->>'date_of_birth',
                    t.id, t.title, t.local_date, e.credit_type, e.amount::text
             FROM transcript_entries e
             JOIN transcript_activities t ON t.id = e.activity_id
             JOIN accounts a ON a.id = e.learner_id AND a.organization_id = e.organization_id
             LEFT JOIN LATERAL (
                 SELECT first_name, last_name FROM account_names
                 WHERE account_id = a.id AND effective_on <= t.local_date
                 ORDER BY effective_on DESC, recorded_at DESC LIMIT 1
             ) n ON true
             WHERE e.organization_id = $1 AND e.status = 'awarded'
               AND a.board_consented_at IS NOT NULL AND a.board_id IS NOT NULL
               AND ($2::date IS NULL OR t.local_date >= $2)
               AND ($3::date IS NULL OR t.local_date <= $3)
               AND ($4::uuid IS NULL OR e.activity_id = $4)
             ORDER BY t.local_date, t.id, 5, 4, a.id, e.credit_type",
            &[&organization, &from, &to, &activity],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| {
            let birth = r
                .get::<_, Option<String>>(5)
                .and_then(|d| NaiveDate::parse_from_str(&d, "%Y-%m-%d").ok());
            Completion {
                board: r.get(0),
                board_id: r.get(1),
                learner_id: r.get(2),
                first_name: r.get(3),
                last_name: r.get(4),
                birth_month: birth.map(|d| chrono::Datelike::month(&d)),
                birth_day: birth.map(|d| chrono::Datelike::day(&d)),
                activity_id: r.get(6),
                activity_title: r.get(7),
                completion_date: r.get(8),
                credit_type: r.get(9),
                amount: r.get(10),
            }
        })
        .collect())
}
