//! The calendar (issue 4): activities in a date range of the organization's zone, RSS in and out, filters, pages.

use serde_json::{json, Value};

use super::support::TestApp;

const CALENDAR: &str = "query($from: NaiveDate, $to: NaiveDate, $rss: Boolean, $specialty: String, $text: String, $first: Int, $after: String, $at: LogPosition) {
  calendar(from: $from, to: $to, includeRss: $rss, specialty: $specialty, text: $text, first: $first, after: $after, atLeast: $at) {
    edges { cursor node { title kind seriesKind localStartsAt startsAt specialty code credits { type amount } } }
    pageInfo { hasNextPage hasPreviousPage endCursor } } }";

fn titles(answer: &Value) -> Vec<String> {
    answer["calendar"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["title"].as_str().unwrap().to_owned())
        .collect()
}

async fn march_calendar() -> (TestApp, String, i64) {
    let app = TestApp::spawn().await;
    app.create_organization("umncpd").await;
    let staff = app.staff("umncpd", "coordinator@example.org").await;
    app.graphql(
        "mutation { setTimeZone(timeZone: \"America/Chicago\") { position } }",
        json!({}),
        Some(&staff.token),
    )
    .await
    .assert_ok();
    let course = |title: &str, code: &str, start: &str, end: &str, specialty: &str| {
        json!({ "title": title, "code": code, "startsAt": start, "endsAt": end, "specialty": specialty,
                "credits": [{ "type": "AMA_PRA_CATEGORY_1", "amount": "1.5" }] })
    };
    app.schedule(
        &staff.token,
        course(
            "Cardiology Update",
            "CARD27",
            "2027-03-10T08:00",
            "2027-03-10T12:00",
            "Cardiology",
        ),
    )
    .await;
    app.schedule(
        &staff.token,
        course(
            "Pediatric Sepsis",
            "PEDS27",
            "2027-03-11T12:00",
            "2027-03-11T13:00",
            "Pediatrics",
        ),
    )
    .await;
    app.schedule(
        &staff.token,
        course(
            "Spring Symposium",
            "SYMP27",
            "2027-03-20T08:00",
            "2027-03-21T17:00",
            "Internal Medicine",
        ),
    )
    .await;
    let series = app
        .graphql(
            "mutation($input: SeriesInput!) { scheduleSeries(input: $input) { seriesId activityIds position } }",
            json!({ "input": {
                "title": "Medicine Grand Rounds", "seriesKind": "GRAND_ROUNDS", "frequency": "WEEKLY", "count": 3,
                "firstStartsAt": "2027-03-09T07:00", "firstEndsAt": "2027-03-09T08:00", "specialty": "Internal Medicine",
                "credits": [{ "type": "AMA_PRA_CATEGORY_1", "amount": "1" }] } }),
            Some(&staff.token),
        )
        .await;
    let data = series.assert_ok();
    assert_eq!(
        data["scheduleSeries"]["activityIds"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
    let position = data["scheduleSeries"]["position"].as_i64().unwrap();
    (app, staff.token, position)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_calendar_shows_series_only_when_rss_are_included() {
    let (app, token, at) = march_calendar().await;
    let week =
        |rss: bool| json!({ "from": "2027-03-09", "to": "2027-03-16", "rss": rss, "at": at });
    let courses = app.graphql(CALENDAR, week(false), Some(&token)).await;
    assert_eq!(
        titles(courses.assert_ok()),
        vec!["Cardiology Update", "Pediatric Sepsis"]
    );

    let with_rss = app.graphql(CALENDAR, week(true), Some(&token)).await;
    let data = with_rss.assert_ok();
    assert_eq!(
        titles(data),
        vec![
            "Medicine Grand Rounds",
            "Cardiology Update",
            "Pediatric Sepsis",
            "Medicine Grand Rounds"
        ]
    );
    let edges = data["calendar"]["edges"].as_array().unwrap();
    // The series keeps 07:00 local across the change to daylight saving time on 14 March.
    assert_eq!(edges[0]["node"]["localStartsAt"], "2027-03-09T07:00");
    assert_eq!(edges[0]["node"]["startsAt"], "2027-03-09T13:00:00+00:00");
    assert_eq!(edges[3]["node"]["localStartsAt"], "2027-03-16T07:00");
    assert_eq!(edges[3]["node"]["startsAt"], "2027-03-16T12:00:00+00:00");
    assert_eq!(edges[0]["node"]["kind"], "SERIES_OCCURRENCE");
    assert_eq!(edges[0]["node"]["seriesKind"], "GRAND_ROUNDS");
    assert_eq!(
        edges[0]["node"]["code"].as_str().unwrap().len(),
        6,
        "a generated code"
    );
    assert_eq!(
        edges[1]["node"]["credits"],
        json!([{ "type": "AMA_PRA_CATEGORY_1", "amount": "1.50" }])
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_calendar_filters_by_specialty_and_text_and_pages_forward() {
    let (app, token, at) = march_calendar().await;
    let learner = app.learner("umncpd", "ada@example.org").await;
    let cardiology = app
        .graphql(
            CALENDAR,
            json!({ "specialty": "cardiology", "at": at }),
            Some(&learner.token),
        )
        .await;
    assert_eq!(titles(cardiology.assert_ok()), vec!["Cardiology Update"]);
    assert_eq!(
        cardiology.assert_ok()["calendar"]["edges"][0]["node"]["code"],
        Value::Null,
        "learners get the code at the activity, not from the calendar"
    );
    let sepsis = app
        .graphql(
            CALENDAR,
            json!({ "text": "SEPSIS", "rss": true, "at": at }),
            Some(&learner.token),
        )
        .await;
    assert_eq!(titles(sepsis.assert_ok()), vec!["Pediatric Sepsis"]);

    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page = app
            .graphql(
                CALENDAR,
                json!({ "rss": true, "first": 2, "after": after, "at": at }),
                Some(&token),
            )
            .await;
        let data = page.assert_ok().clone();
        seen.extend(titles(&data));
        let info = &data["calendar"]["pageInfo"];
        assert_eq!(info["hasPreviousPage"], after.is_some());
        if info["hasNextPage"] == false {
            break;
        }
        after = info["endCursor"].as_str().map(str::to_owned);
    }
    assert_eq!(
        seen,
        vec![
            "Medicine Grand Rounds",
            "Cardiology Update",
            "Pediatric Sepsis",
            "Medicine Grand Rounds",
            "Spring Symposium",
            "Medicine Grand Rounds",
        ],
        "every activity once, in start order, over three pages"
    );

    let bad = app
        .graphql(CALENDAR, json!({ "after": "not-a-cursor" }), Some(&token))
        .await;
    assert_eq!(bad.error_code(), "CURSOR_INVALID");
    let anonymous = app.graphql(CALENDAR, json!({}), None).await;
    assert_eq!(anonymous.error_code(), "UNAUTHENTICATED");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelled_activities_leave_the_calendar_and_codes_stay_unique() {
    let (app, token, at) = march_calendar().await;
    let duplicate = app
        .graphql(
            "mutation($input: ActivityInput!) { scheduleActivity(input: $input) { activityId } }",
            json!({ "input": { "title": "Again", "code": "card27", "startsAt": "2027-04-01T08:00",
                               "endsAt": "2027-04-01T09:00", "credits": [{ "type": "ACPE", "amount": "1" }] } }),
            Some(&token),
        )
        .await;
    assert_eq!(duplicate.error_code(), "ACTIVITY_CODE_TAKEN");
    assert_eq!(
        duplicate.body["errors"][0]["extensions"]["field"],
        "input.code"
    );

    let listed = app
        .graphql(
            CALENDAR,
            json!({ "specialty": "Pediatrics", "at": at }),
            Some(&token),
        )
        .await;
    let id = listed.assert_ok()["calendar"]["edges"][0]["node"]["code"].clone();
    assert_eq!(id, "PEDS27");
    let find = app
        .graphql(
            "query($at: LogPosition) { calendar(specialty: \"Pediatrics\", atLeast: $at) { edges { node { id } } } }",
            json!({ "at": at }),
            Some(&token),
        )
        .await;
    let id = find.assert_ok()["calendar"]["edges"][0]["node"]["id"].clone();
    let cancelled = app
        .graphql(
            "mutation($id: ID!) { cancelActivity(id: $id, reason: \"Speaker ill\") { position } }",
            json!({ "id": id }),
            Some(&token),
        )
        .await;
    let at = cancelled.assert_ok()["cancelActivity"]["position"].clone();
    let after = app
        .graphql(
            CALENDAR,
            json!({ "specialty": "Pediatrics", "at": at }),
            Some(&token),
        )
        .await;
    assert_eq!(titles(after.assert_ok()), Vec::<String>::new());

    let invalid = app
        .graphql(
            "mutation($input: ActivityInput!) { scheduleActivity(input: $input) { activityId } }",
            json!({ "input": { "title": " ", "code": "x", "startsAt": "tomorrow", "endsAt": "2027-04-01T09:00",
                               "credits": [{ "type": "ACPE", "amount": "0" }] } }),
            Some(&token),
        )
        .await;
    let fields: Vec<String> = invalid.body["errors"][0]["extensions"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            format!(
                "{} {}",
                f["field"].as_str().unwrap(),
                f["code"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(
        fields,
        vec![
            "input.title TITLE_INVALID",
            "input.startsAt TIME_INVALID",
            "input.code ACTIVITY_CODE_INVALID",
            "input.credits[0].amount CREDIT_AMOUNT_INVALID",
        ]
    );
}

const PUBLIC: &str = "query($code: String, $rss: Boolean) {
  calendar(organizationCode: $code, from: \"2027-03-01\", to: \"2027-03-31\", includeRss: $rss) {
    edges { node { title code } } } }";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_organization_may_open_its_calendar_to_anyone_and_as_an_icalendar_feed() {
    let (app, staff, _) = march_calendar().await;
    let anyone = json!({ "code": "umncpd", "rss": false });
    let feed_url = format!("{}/o/umncpd/calendar.ics", app.base);

    // Closed by default: the page needs a sign-in, and there is no feed.
    let closed = app.graphql(PUBLIC, anyone.clone(), None).await;
    assert_eq!(closed.error_code(), "CALENDAR_NOT_PUBLIC");
    let no_feed = app.client.get(&feed_url).send().await.unwrap();
    assert_eq!(no_feed.status(), reqwest::StatusCode::NOT_FOUND);

    let learner = app.learner("umncpd", "ada@example.org").await;
    const OPEN: &str = "mutation($p: Boolean!) { setCalendarPublic(public: $p) { position organization { id calendarPublic } } }";
    assert_eq!(
        app.graphql(OPEN, json!({ "p": true }), Some(&learner.token))
            .await
            .error_code(),
        "FORBIDDEN"
    );
    let opened = app.graphql(OPEN, json!({ "p": true }), Some(&staff)).await;
    assert_eq!(
        opened.assert_ok()["setCalendarPublic"]["organization"]["calendarPublic"],
        true
    );

    // Anyone browses it, by the code in any case; the codes stay hidden, RSS only when asked for.
    let courses = app
        .graphql(PUBLIC, json!({ "code": "UMNCPD", "rss": false }), None)
        .await;
    let courses = courses.assert_ok();
    assert_eq!(
        titles(courses),
        vec!["Cardiology Update", "Pediatric Sepsis", "Spring Symposium"]
    );
    assert!(courses["calendar"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .all(|e| e["node"]["code"].is_null()));
    let with_rss = app
        .graphql(PUBLIC, json!({ "code": "umncpd", "rss": true }), None)
        .await;
    assert_eq!(titles(with_rss.assert_ok()).len(), 6);

    // The same as iCalendar, read back with a real parser (the icalendar crate's, RFC 5545).
    let feed = app.client.get(&feed_url).send().await.unwrap();
    assert_eq!(feed.status(), reqwest::StatusCode::OK);
    assert!(feed.headers()[reqwest::header::CONTENT_TYPE]
        .to_str()
        .unwrap()
        .starts_with("text/calendar"));
    let text = feed.text().await.unwrap();
    assert!(text.contains("\r\n"), "CRLF line ends");
    for code in ["CARD27", "SYMP27"] {
        assert!(!text.contains(code), "no activity code in the feed: {text}");
    }
    let parsed: icalendar::Calendar = text.parse().expect("the feed parses as iCalendar");
    use icalendar::Component;
    let mut summaries: Vec<String> = parsed
        .events()
        .map(|e| e.get_summary().unwrap().to_owned())
        .collect();
    summaries.sort();
    assert_eq!(
        summaries,
        vec!["Cardiology Update", "Pediatric Sepsis", "Spring Symposium"]
    );
    let symposium = parsed
        .events()
        .find(|e| e.get_summary() == Some("Spring Symposium"))
        .unwrap();
    assert!(symposium.get_uid().unwrap().ends_with("@portal"));
    assert!(symposium.get_start().is_some() && symposium.get_end().is_some());
    assert!(symposium.get_url().unwrap().contains("/o/umncpd/calendar/"));
    let rss_feed = app
        .client
        .get(format!("{feed_url}?includeRss=true"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let parsed: icalendar::Calendar = rss_feed.parse().unwrap();
    assert_eq!(parsed.events().count(), 6);

    // The app reads it with the organization.
    app.caught_up("organizations").await;
    let organization = app
        .graphql(
            "{ organization(code: \"UmnCpd\") { calendarPublic signIn { emailAddress username twoStepRequired textCodes } } }",
            json!({}),
            None,
        )
        .await;
    assert_eq!(
        organization.assert_ok()["organization"],
        json!({ "calendarPublic": true, "signIn": { "emailAddress": true, "username": true,
                "twoStepRequired": "NONE", "textCodes": false } })
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_learner_subscribes_to_the_activities_they_attended_with_a_private_link() {
    let app = TestApp::spawn().await;
    app.create_organization("umncpd").await;
    let staff = app.staff("umncpd", "coordinator@example.org").await;
    app.schedule(
        &staff.token,
        super::support::course("Sepsis Update", "SEPSIS1", -5, 55),
    )
    .await;
    app.schedule(
        &staff.token,
        super::support::course("Stroke Update", "STROKE1", -5, 55),
    )
    .await;
    let ada = app.learner("umncpd", "ada@example.org").await;
    app.graphql(
        "mutation { recordAttendance(input: { code: \"SEPSIS1\" }) { status } }",
        json!({}),
        Some(&ada.token),
    )
    .await
    .assert_ok();
    app.caught_up("transcript").await;

    const ISSUE: &str = "mutation { issueCalendarFeed { url position } }";
    let issued = app.graphql(ISSUE, json!({}), Some(&ada.token)).await;
    let url = issued.assert_ok()["issueCalendarFeed"]["url"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = &url[url
        .find("/o/umncpd/my-activities.ics?token=")
        .expect("the feed's path")..];
    let get = |path: String| {
        let (client, base) = (app.client.clone(), app.base.clone());
        async move { client.get(format!("{base}{path}")).send().await.unwrap() }
    };
    let feed = get(path.to_owned()).await;
    assert_eq!(feed.status(), reqwest::StatusCode::OK);
    let parsed: icalendar::Calendar = feed.text().await.unwrap().parse().expect("iCalendar");
    use icalendar::Component;
    let summaries: Vec<&str> = parsed.events().filter_map(|e| e.get_summary()).collect();
    assert_eq!(summaries, vec!["Sepsis Update"]);

    // Without the token, with a wrong one, or after a new link replaced it: nothing.
    assert_eq!(
        get("/o/umncpd/my-activities.ics".to_owned()).await.status(),
        reqwest::StatusCode::NOT_FOUND
    );
    let forged = format!("{}x", &path[..path.len() - 1]);
    assert_eq!(get(forged).await.status(), reqwest::StatusCode::NOT_FOUND);
    app.graphql(ISSUE, json!({}), Some(&ada.token))
        .await
        .assert_ok();
    assert_eq!(
        get(path.to_owned()).await.status(),
        reqwest::StatusCode::NOT_FOUND
    );
}
