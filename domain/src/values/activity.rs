use chrono::{DateTime, Duration, NaiveDateTime, TimeZone as _, Utc};
use serde::{Deserialize, Serialize};

/// Why an activity's value is refused; `field` names the input field, `rule` says what it must be.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {rule}")]
pub struct FieldError {
    /// The input field (`code`, `title`, `credits`, ...).
    pub field: &'static str,
    /// The rule, for people.
    pub rule: &'static str,
}

fn field_error(field: &'static str, rule: &'static str) -> FieldError {
    FieldError { field, rule }
}

fn short_text(field: &'static str, raw: &str, max: usize) -> Result<String, FieldError> {
    let trimmed = raw.trim();
    let len = trimmed.chars().count();
    if len == 0 {
        return Err(field_error(field, "is required"));
    }
    if len > max || trimmed.chars().any(char::is_control) {
        return Err(field_error(
            field,
            "is too long or has characters that are not allowed",
        ));
    }
    Ok(trimmed.to_owned())
}

macro_rules! text_type {
    ($(#[$doc:meta])* $name:ident, $field:literal, $max:literal) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// Parses the text; surrounding spaces are dropped.
            pub fn parse(raw: &str) -> Result<Self, FieldError> {
                short_text($field, raw, $max).map(Self)
            }

            /// The text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }
    };
}

text_type!(
    /// An activity's title, 1 to 200 characters.
    ActivityTitle, "title", 200
);
text_type!(
    /// Where an activity takes place (a room, a building, "Online"), 1 to 200 characters.
    Location, "location", 200
);
text_type!(
    /// A medical specialty (Cardiology, Pediatrics, ...), 1 to 80 characters.
    Specialty, "specialty", 80
);

/// The code learners text to record attendance: 3 to 16 letters and digits, compared in upper case.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ActivityCode(String);

/// Characters of generated codes: no 0/O or 1/I/L, which people misread on a slide.
const CODE_ALPHABET: &[u8] = b"ABCDEFGHJKMNPQRSTUVWXYZ23456789";

impl ActivityCode {
    /// Parses a code as typed or texted; case and surrounding spaces do not matter.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let code = raw.trim().to_ascii_uppercase();
        if (3..=16).contains(&code.len()) && code.chars().all(|c| c.is_ascii_alphanumeric()) {
            Ok(Self(code))
        } else {
            Err(field_error("code", "has 3 to 16 letters and digits"))
        }
    }

    /// A code of six characters from `random` bytes (the caller supplies the randomness).
    pub fn generate(random: [u8; 6]) -> Self {
        Self(
            random
                .iter()
                .map(|b| CODE_ALPHABET[usize::from(*b) % CODE_ALPHABET.len()] as char)
                .collect(),
        )
    }

    /// The code, upper case.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An IANA time zone (`America/Chicago`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct TimeZone(chrono_tz::Tz);

impl TimeZone {
    /// Coordinated Universal Time, the default of a new organization.
    pub const UTC: TimeZone = TimeZone(chrono_tz::UTC);

    /// Parses an IANA name.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        raw.trim().parse::<chrono_tz::Tz>().map(Self).map_err(|_| {
            field_error(
                "timeZone",
                "is an IANA time zone name such as America/Chicago",
            )
        })
    }

    /// The IANA name.
    pub fn name(&self) -> &'static str {
        self.0.name()
    }

    /// The zone, for conversions.
    pub fn tz(&self) -> chrono_tz::Tz {
        self.0
    }

    /// The instant of a local wall-clock time. In the hour skipped when clocks go forward, the time an hour later is
    /// taken; in the hour repeated when they go back, the first of the two.
    pub fn instant(&self, local: NaiveDateTime) -> DateTime<Utc> {
        match self.0.from_local_datetime(&local).earliest() {
            Some(at) => at.with_timezone(&Utc),
            None => self
                .0
                .from_local_datetime(&(local + Duration::hours(1)))
                .earliest()
                .map_or_else(|| local.and_utc(), |at| at.with_timezone(&Utc)),
        }
    }

    /// The local wall-clock time of an instant.
    pub fn local(&self, at: DateTime<Utc>) -> NaiveDateTime {
        at.with_timezone(&self.0).naive_local()
    }
}

impl TryFrom<String> for TimeZone {
    type Error = FieldError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<TimeZone> for String {
    fn from(value: TimeZone) -> Self {
        value.name().to_owned()
    }
}

/// When an activity takes place: start and end instants and the zone its times are shown in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActivitySchedule {
    /// The start.
    pub starts_at: DateTime<Utc>,
    /// The end, after the start.
    pub ends_at: DateTime<Utc>,
    /// The zone of the venue.
    pub time_zone: TimeZone,
}

/// The longest an activity may last (a multi-day course).
pub const MAX_ACTIVITY_DAYS: i64 = 14;

impl ActivitySchedule {
    /// A schedule from local start and end times in `time_zone`; the end must follow the start, within 14 days.
    pub fn local(
        starts: NaiveDateTime,
        ends: NaiveDateTime,
        time_zone: TimeZone,
    ) -> Result<Self, FieldError> {
        let starts_at = time_zone.instant(starts);
        let ends_at = time_zone.instant(ends);
        if ends_at <= starts_at {
            return Err(field_error("endsAt", "is after startsAt"));
        }
        if ends_at - starts_at > Duration::days(MAX_ACTIVITY_DAYS) {
            return Err(field_error("endsAt", "is at most 14 days after startsAt"));
        }
        Ok(Self {
            starts_at,
            ends_at,
            time_zone,
        })
    }

    /// How long the activity lasts.
    pub fn duration(&self) -> Duration {
        self.ends_at - self.starts_at
    }
}

/// How long before the start and after the end attendance may be recorded, in minutes (0 to 1440 each).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttendanceWindow {
    /// Minutes before the start.
    pub before_minutes: u32,
    /// Minutes after the end.
    pub after_minutes: u32,
}

/// Why an attendance falls outside its window.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WindowMiss {
    /// Before the window opens.
    TooEarly,
    /// After it closes.
    TooLate,
}

impl AttendanceWindow {
    /// The most minutes either side may have: one day.
    pub const MAX_MINUTES: u32 = 1440;

    /// A window; each side is 0 to 1440 minutes.
    pub fn new(before_minutes: u32, after_minutes: u32) -> Result<Self, FieldError> {
        if before_minutes > Self::MAX_MINUTES {
            return Err(field_error("minutesBefore", "is 0 to 1440"));
        }
        if after_minutes > Self::MAX_MINUTES {
            return Err(field_error("minutesAfter", "is 0 to 1440"));
        }
        Ok(Self {
            before_minutes,
            after_minutes,
        })
    }

    /// When recording opens for `schedule`.
    pub fn opens(&self, schedule: &ActivitySchedule) -> DateTime<Utc> {
        schedule.starts_at - Duration::minutes(i64::from(self.before_minutes))
    }

    /// When recording closes for `schedule` (inclusive).
    pub fn closes(&self, schedule: &ActivitySchedule) -> DateTime<Utc> {
        schedule.ends_at + Duration::minutes(i64::from(self.after_minutes))
    }

    /// Whether attendance may be recorded at `at`: from `before` minutes before the start to `after` minutes after
    /// the end, both ends included.
    pub fn check(&self, schedule: &ActivitySchedule, at: DateTime<Utc>) -> Result<(), WindowMiss> {
        if at < self.opens(schedule) {
            Err(WindowMiss::TooEarly)
        } else if at > self.closes(schedule) {
            Err(WindowMiss::TooLate)
        } else {
            Ok(())
        }
    }
}

/// A kind of continuing-education credit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CreditType {
    /// AMA PRA Category 1 Credit™ (physicians).
    AmaPraCategory1,
    /// ANCC contact hours (nurses).
    AnccContactHours,
    /// ACPE contact hours (pharmacists and technicians).
    Acpe,
    /// ABIM Maintenance of Certification points.
    AbimMocPoints,
    /// AAPA Category 1 CME credit (physician assistants).
    AapaCategory1,
    /// A certificate of participation (other professionals).
    Participation,
}

impl CreditType {
    /// Every credit type, in display order.
    pub const ALL: [CreditType; 6] = [
        CreditType::AmaPraCategory1,
        CreditType::AnccContactHours,
        CreditType::Acpe,
        CreditType::AbimMocPoints,
        CreditType::AapaCategory1,
        CreditType::Participation,
    ];

    /// The stored name.
    pub fn as_str(&self) -> &'static str {
        match self {
            CreditType::AmaPraCategory1 => "ama_pra_category_1",
            CreditType::AnccContactHours => "ancc_contact_hours",
            CreditType::Acpe => "acpe",
            CreditType::AbimMocPoints => "abim_moc_points",
            CreditType::AapaCategory1 => "aapa_category_1",
            CreditType::Participation => "participation",
        }
    }

    /// The name people read on a transcript.
    pub fn label(&self) -> &'static str {
        match self {
            CreditType::AmaPraCategory1 => "AMA PRA Category 1 Credit",
            CreditType::AnccContactHours => "ANCC Contact Hours",
            CreditType::Acpe => "ACPE Contact Hours",
            CreditType::AbimMocPoints => "ABIM MOC Points",
            CreditType::AapaCategory1 => "AAPA Category 1 CME Credit",
            CreditType::Participation => "Certificate of Participation",
        }
    }

    /// The type with this stored name.
    pub fn from_stored(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == name)
    }
}

/// An amount of credit in hundredths (1.25 credits is 125): more than 0, at most 100.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct CreditAmount(u32);

impl CreditAmount {
    /// Parses an amount with at most two decimals, such as `1`, `1.5` or `0.25`.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let refused = || {
            field_error(
                "amount",
                "is more than 0 and at most 100, with at most two decimals",
            )
        };
        let raw = raw.trim();
        let (whole, fraction) = raw.split_once('.').unwrap_or((raw, ""));
        if whole.is_empty()
            || whole.len() > 3
            || fraction.len() > 2
            || !whole
                .chars()
                .chain(fraction.chars())
                .all(|c| c.is_ascii_digit())
        {
            return Err(refused());
        }
        let whole: u32 = whole.parse().map_err(|_| refused())?;
        let fraction: u32 = format!("{fraction:0<2}").parse().map_err(|_| refused())?;
        Self::from_hundredths(whole * 100 + fraction).ok_or_else(refused)
    }

    /// An amount from hundredths, if in range.
    pub fn from_hundredths(hundredths: u32) -> Option<Self> {
        (1..=10_000)
            .contains(&hundredths)
            .then_some(Self(hundredths))
    }

    /// The amount in hundredths.
    pub fn hundredths(&self) -> u32 {
        self.0
    }
}

impl std::fmt::Display for CreditAmount {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{:02}", self.0 / 100, self.0 % 100)
    }
}

/// Credit of one type offered by an activity.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct CreditOffer {
    /// The type.
    pub credit_type: CreditType,
    /// The most a learner can claim.
    pub amount: CreditAmount,
}

/// The credits an activity offers: one to six offers, each type at most once, in type order.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Credits(Vec<CreditOffer>);

impl Credits {
    /// Checks the offers: at least one, no type twice.
    pub fn new(mut offers: Vec<CreditOffer>) -> Result<Self, FieldError> {
        if offers.is_empty() {
            return Err(field_error("credits", "offers at least one credit type"));
        }
        offers.sort_by_key(|o| o.credit_type);
        if offers
            .windows(2)
            .any(|w| w[0].credit_type == w[1].credit_type)
        {
            return Err(field_error(
                "credits",
                "offers each credit type at most once",
            ));
        }
        Ok(Self(offers))
    }

    /// The offers.
    pub fn offers(&self) -> &[CreditOffer] {
        &self.0
    }
}

/// The kind of a Regularly Scheduled Series.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SeriesKind {
    /// Grand Rounds.
    GrandRounds,
    /// Morbidity and Mortality conference.
    MorbidityAndMortality,
    /// Journal club.
    JournalClub,
    /// Case conference.
    CaseConference,
    /// Tumor board.
    TumorBoard,
    /// Another regular series.
    Other,
}

impl SeriesKind {
    /// The stored name.
    pub fn as_str(&self) -> &'static str {
        match self {
            SeriesKind::GrandRounds => "grand_rounds",
            SeriesKind::MorbidityAndMortality => "morbidity_and_mortality",
            SeriesKind::JournalClub => "journal_club",
            SeriesKind::CaseConference => "case_conference",
            SeriesKind::TumorBoard => "tumor_board",
            SeriesKind::Other => "other",
        }
    }
}

/// Who may attend.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Audience {
    /// Anyone with an account.
    Open,
    /// People employed by the organization or its affiliates (the care network), as most RSS are.
    Affiliates,
}

impl Audience {
    /// The stored name.
    pub fn as_str(&self) -> &'static str {
        match self {
            Audience::Open => "open",
            Audience::Affiliates => "affiliates",
        }
    }
}

/// How a series repeats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "every")]
pub enum Recurrence {
    /// Every `interval` weeks on the first occurrence's weekday.
    Weekly {
        /// 1 for every week, 2 for every other week, up to 4.
        interval: u8,
    },
    /// Every month on the first occurrence's day of the month (skipping months that lack it).
    MonthlyOnDay,
    /// Every month on the same weekday of the same week (the second Tuesday); a first occurrence in the fifth week
    /// means the last such weekday of each month.
    MonthlyOnWeekday,
}

/// The most occurrences one series may schedule at once.
pub const MAX_OCCURRENCES: u16 = 60;

impl Recurrence {
    /// Checks a weekly interval (1 to 4).
    pub fn weekly(interval: u8) -> Result<Self, FieldError> {
        if (1..=4).contains(&interval) {
            Ok(Recurrence::Weekly { interval })
        } else {
            Err(field_error("interval", "is 1 to 4 weeks"))
        }
    }

    /// The local start times of `count` occurrences from `first` (included), in order.
    pub fn local_starts(&self, first: NaiveDateTime, count: u16) -> Vec<NaiveDateTime> {
        use chrono::Datelike;
        let count = usize::from(count.min(MAX_OCCURRENCES));
        let time = first.time();
        let mut starts = Vec::with_capacity(count);
        match *self {
            Recurrence::Weekly { interval } => {
                for n in 0..count {
                    let weeks = i64::try_from(n).unwrap_or(0) * i64::from(interval);
                    starts.push(first + Duration::weeks(weeks));
                }
            }
            Recurrence::MonthlyOnDay | Recurrence::MonthlyOnWeekday => {
                let date = first.date();
                let week = (date.day0() / 7) + 1;
                let mut month_offset = 0u32;
                // A day that some months lack (the 31st) is skipped in those months; at most 12 in a row can miss.
                while starts.len() < count && month_offset < u32::from(MAX_OCCURRENCES) * 2 {
                    let Some(month_start) = date
                        .with_day(1)
                        .and_then(|d| d.checked_add_months(chrono::Months::new(month_offset)))
                    else {
                        break;
                    };
                    month_offset += 1;
                    let day = match self {
                        Recurrence::MonthlyOnDay => month_start.with_day(date.day()),
                        _ => nth_weekday(month_start, date.weekday(), week),
                    };
                    if let Some(day) = day {
                        starts.push(day.and_time(time));
                    }
                }
            }
        }
        starts
    }
}

/// The `week`-th `weekday` of the month starting at `month_start`; week 5 means the last.
fn nth_weekday(
    month_start: chrono::NaiveDate,
    weekday: chrono::Weekday,
    week: u32,
) -> Option<chrono::NaiveDate> {
    use chrono::Datelike;
    let first = month_start
        + Duration::days(i64::from(
            (7 + weekday.num_days_from_monday() - month_start.weekday().num_days_from_monday()) % 7,
        ));
    let wanted = first + Duration::weeks(i64::from(week.min(5) - 1));
    if wanted.month() == month_start.month() {
        Some(wanted)
    } else if week >= 5 {
        Some(wanted - Duration::weeks(1))
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn local(y: i32, m: u32, d: u32, h: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(y, m, d)
            .unwrap()
            .and_hms_opt(h, 0, 0)
            .unwrap()
    }

    fn schedule() -> ActivitySchedule {
        let chicago = TimeZone::parse("America/Chicago").unwrap();
        ActivitySchedule::local(local(2026, 12, 1, 8), local(2026, 12, 1, 9), chicago).unwrap()
    }

    #[test]
    fn the_window_includes_both_of_its_ends() {
        let window = AttendanceWindow::new(15, 30).unwrap();
        let s = schedule();
        assert_eq!(
            window.check(&s, s.starts_at - Duration::minutes(15)),
            Ok(())
        );
        assert_eq!(window.check(&s, s.ends_at + Duration::minutes(30)), Ok(()));
        assert_eq!(
            window.check(&s, s.starts_at - Duration::minutes(16)),
            Err(WindowMiss::TooEarly)
        );
        assert_eq!(
            window.check(&s, s.ends_at + Duration::minutes(31)),
            Err(WindowMiss::TooLate)
        );
    }

    #[test]
    fn local_times_are_read_in_the_venue_zone() {
        let s = schedule();
        assert_eq!(s.starts_at.to_rfc3339(), "2026-12-01T14:00:00+00:00");
    }

    #[test]
    fn a_time_skipped_by_daylight_saving_moves_an_hour_later() {
        let chicago = TimeZone::parse("America/Chicago").unwrap();
        let at = chicago.instant(local(2027, 3, 14, 2));
        assert_eq!(at.to_rfc3339(), "2027-03-14T08:00:00+00:00");
    }

    #[test]
    fn an_end_before_the_start_is_refused() {
        let utc = TimeZone::UTC;
        assert_eq!(
            ActivitySchedule::local(local(2026, 12, 1, 9), local(2026, 12, 1, 8), utc)
                .unwrap_err()
                .field,
            "endsAt"
        );
    }

    #[test]
    fn codes_are_compared_in_upper_case() {
        assert_eq!(ActivityCode::parse(" gr1201 ").unwrap().as_str(), "GR1201");
        assert!(ActivityCode::parse("ab").is_err());
        assert!(ActivityCode::parse("grand rounds").is_err());
        let generated = ActivityCode::generate([0, 1, 2, 200, 254, 255]);
        assert!(ActivityCode::parse(generated.as_str()).is_ok());
    }

    #[test]
    fn credit_amounts_have_at_most_two_decimals() {
        assert_eq!(CreditAmount::parse("1.5").unwrap().hundredths(), 150);
        assert_eq!(CreditAmount::parse("0.25").unwrap().to_string(), "0.25");
        assert_eq!(CreditAmount::parse("100").unwrap().hundredths(), 10_000);
        for raw in ["0", "0.00", "100.01", "1.255", "-1", "abc", "", ".5", "1e2"] {
            assert!(CreditAmount::parse(raw).is_err(), "{raw}");
        }
    }

    #[test]
    fn credits_offer_each_type_once() {
        let offer = |t, h| CreditOffer {
            credit_type: t,
            amount: CreditAmount::from_hundredths(h).unwrap(),
        };
        assert!(Credits::new(vec![]).is_err());
        assert!(Credits::new(vec![
            offer(CreditType::Acpe, 100),
            offer(CreditType::Acpe, 50)
        ])
        .is_err());
        let credits = Credits::new(vec![
            offer(CreditType::Acpe, 100),
            offer(CreditType::AmaPraCategory1, 100),
        ])
        .unwrap();
        assert_eq!(credits.offers()[0].credit_type, CreditType::AmaPraCategory1);
    }

    #[test]
    fn a_weekly_series_keeps_its_local_time_across_daylight_saving() {
        let starts = Recurrence::weekly(1)
            .unwrap()
            .local_starts(local(2026, 10, 27, 7), 3);
        assert_eq!(
            starts,
            vec![
                local(2026, 10, 27, 7),
                local(2026, 11, 3, 7),
                local(2026, 11, 10, 7)
            ]
        );
        let chicago = TimeZone::parse("America/Chicago").unwrap();
        let utc_hours: Vec<String> = starts
            .iter()
            .map(|s| chicago.instant(*s).format("%H").to_string())
            .collect();
        assert_eq!(utc_hours, vec!["12", "13", "13"]);
    }

    #[test]
    fn a_monthly_series_falls_on_the_same_weekday_of_the_week() {
        // 2026-12-08 is the second Tuesday of December.
        let starts = Recurrence::MonthlyOnWeekday.local_starts(local(2026, 12, 8, 12), 3);
        assert_eq!(
            starts,
            vec![
                local(2026, 12, 8, 12),
                local(2027, 1, 12, 12),
                local(2027, 2, 9, 12)
            ]
        );
    }

    #[test]
    fn a_fifth_weekday_means_the_last_of_each_month() {
        // 2026-12-29 is the fifth (and last) Tuesday of December; January 2027 has a fifth Tuesday (the 26th),
        // February only four (the last is the 23rd).
        let starts = Recurrence::MonthlyOnWeekday.local_starts(local(2026, 12, 29, 12), 3);
        assert_eq!(
            starts,
            vec![
                local(2026, 12, 29, 12),
                local(2027, 1, 26, 12),
                local(2027, 2, 23, 12)
            ]
        );
    }

    #[test]
    fn a_monthly_series_on_the_31st_skips_shorter_months() {
        let starts = Recurrence::MonthlyOnDay.local_starts(local(2027, 1, 31, 8), 3);
        assert_eq!(
            starts,
            vec![
                local(2027, 1, 31, 8),
                local(2027, 3, 31, 8),
                local(2027, 5, 31, 8)
            ]
        );
    }
}
