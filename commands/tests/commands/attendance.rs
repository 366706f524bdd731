//! Activities and attendance through the command handlers, against PostgreSQL: concurrency and idempotency.

use chrono::{Duration, Utc};
use portal_commands::activities::{self, SeriesPlan};
use portal_commands::attendance;
use portal_commands::handler::CommandContext;
use portal_commands::log::{EventLog, PgEventLog};
use portal_commands::organizations::{self, OrganizationSummary};
use portal_commands::testing::{pg_store, TestDatabase};
use portal_commands::{accounts, Store};
use portal_domain::account::Role;
use portal_domain::activity::{ActivityDetails, ActivityKind};
use portal_domain::attendance::AttendanceChannel;
use portal_domain::values::{
    ActivityCode, ActivitySchedule, ActivityTitle, AttendanceWindow, Audience, CreditAmount,
    CreditOffer, CreditType, Credits, EmailAddress, NamePart, OrganizationCode, OrganizationName,
    Password, PersonName, Recurrence, SeriesKind, TimeZone,
};
use portal_domain::AccountId;

async fn setup() -> (TestDatabase, Store<PgEventLog>, OrganizationSummary) {
    let database = TestDatabase::migrated().await;
    let store = pg_store(&database);
    let code = OrganizationCode::parse("umncpd").unwrap();
    organizations::create(
        &store,
        code.clone(),
        OrganizationName::parse("UMN CPD").unwrap(),
        &CommandContext::system(),
    )
    .await
    .unwrap();
    let org = organizations::find_by_code(&store, &code)
        .await
        .unwrap()
        .unwrap();
    (database, store, org)
}

fn credits() -> Credits {
    Credits::new(vec![CreditOffer {
        credit_type: CreditType::AmaPraCategory1,
        amount: CreditAmount::from_hundredths(100).unwrap(),
    }])
    .unwrap()
}

fn details(code: &str) -> ActivityDetails {
    let now = Utc::now().naive_utc();
    ActivityDetails {
        title: ActivityTitle::parse("Grand Rounds").unwrap(),
        kind: ActivityKind::Course,
        schedule: ActivitySchedule::local(
            now - Duration::minutes(5),
            now + Duration::minutes(55),
            TimeZone::UTC,
        )
        .unwrap(),
        location: None,
        specialty: None,
        audience: Audience::Open,
        code: ActivityCode::parse(code).unwrap(),
        window: AttendanceWindow::new(15, 30).unwrap(),
        credits: credits(),
        evaluation_required: false,
    }
}

async fn learner(store: &Store<PgEventLog>, org: &OrganizationSummary) -> AccountId {
    let registered = accounts::register(
        store,
        org,
        accounts::NewAccount {
            name: PersonName {
                title: None,
                first: NamePart::parse("Ada").unwrap(),
                middle: None,
                last: NamePart::parse("Lovelace").unwrap(),
            },
            email: EmailAddress::parse("ada@example.org").unwrap(),
            password: Password::parse(
                "violet tractor sings at noon",
                &portal_commands::credentials::BreachedPasswords,
            )
            .unwrap(),
            role: Role::Learner,
        },
        &CommandContext::system(),
    )
    .await
    .unwrap();
    registered.account.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_records_of_one_attendance_record_it_once() {
    let (_db, store, org) = setup().await;
    let (activity, _) = activities::schedule(
        &store,
        org.id,
        details("SEPSIS"),
        None,
        &CommandContext::system(),
    )
    .await
    .unwrap();
    let learner = learner(&store, &org).await;
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let store = store.clone();
        let org_id = org.id;
        tasks.push(tokio::spawn(async move {
            attendance::record(
                &store,
                org_id,
                activity,
                learner,
                AttendanceChannel::Sms,
                &CommandContext::system(),
            )
            .await
            .map(|outcome| outcome.last_position.is_some())
            .map_err(|refused| refused.error.to_string())
        }));
    }
    let mut appended = 0;
    for task in tasks {
        if task.await.unwrap().expect("every attempt answers") {
            appended += 1;
        }
    }
    assert_eq!(
        appended, 1,
        "one of the racing requests records, the others find it"
    );
    let events = store
        .log
        .read_stream(&attendance::stream(activity, learner))
        .await
        .unwrap();
    let types: Vec<&str> = events.iter().map(|e| e.event_type.as_str()).collect();
    // Credit is held (the account is not activated, its profile is empty): no CreditAwarded follows.
    assert_eq!(types, vec!["AttendanceRecorded"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retried_series_schedules_its_meetings_once() {
    let (_db, store, org) = setup().await;
    let first = (Utc::now() + Duration::days(7)).naive_utc();
    let plan = SeriesPlan {
        title: ActivityTitle::parse("Medicine Grand Rounds").unwrap(),
        series_kind: SeriesKind::GrandRounds,
        recurrence: Recurrence::weekly(1).unwrap(),
        count: 4,
        first_starts: first,
        first_ends: first + Duration::hours(1),
        time_zone: TimeZone::UTC,
        location: None,
        specialty: None,
        audience: Audience::Affiliates,
        window: AttendanceWindow::new(15, 30).unwrap(),
        credits: credits(),
        evaluation_required: false,
    };
    let ctx = CommandContext::system();
    let once = activities::schedule_series(&store, org.id, plan.clone(), None, &ctx)
        .await
        .unwrap();
    let again = activities::schedule_series(&store, org.id, plan, None, &ctx)
        .await
        .unwrap();
    assert_eq!(once.occurrences.len(), 4);
    assert_eq!(once.occurrences, again.occurrences);
    assert_eq!(once.id, again.id);
    for (i, occurrence) in once.occurrences.iter().enumerate() {
        let state = activities::load(&store, org.id, *occurrence).await.unwrap();
        let info = state.info().expect("scheduled");
        let expected = first + Duration::weeks(i64::try_from(i).unwrap());
        assert_eq!(info.details.schedule.starts_at.naive_utc(), expected);
        let found = activities::find_by_code(&store, org.id, &info.details.code)
            .await
            .unwrap();
        assert_eq!(
            found,
            Some(*occurrence),
            "each meeting's generated code finds it"
        );
    }
}
