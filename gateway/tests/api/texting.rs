//! Attendance by text message, as the CE portal FAQ describes it (issue 4): the webhook, its signature, and the
//! exact replies.

use portal_projections::runner::rebuild_into;
use portal_projections::transcript::Transcript;
use portal_projections::Source;
use reqwest::StatusCode;
use serde_json::json;

use super::support::{course, TestApp};

const USER_NOT_FOUND: &str =
    "User not found in system, text your email to update your cell phone number in the system";
const ADA_PHONE: &str = "+16125550101";

async fn texting_app() -> (TestApp, super::support::Learner) {
    let app = TestApp::spawn().await;
    app.create_organization("umncpd").await;
    let staff = app.staff("umncpd", "coordinator@example.org").await;
    app.configure_sms(&staff.token).await;
    (app, staff)
}

const TRANSCRIPT: &str = "query($at: LogPosition) { transcript(atLeast: $at) { entries { title creditType amount status pendingReasons channel } totals { year creditType awarded pending } } }";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn texting_pairs_a_phone_and_records_attendance_in_the_faqs_words() {
    let (app, staff) = texting_app().await;
    let ada = app.learner("umncpd", "ada@example.org").await;
    app.complete_profile(&ada.token).await;
    app.schedule(
        &staff.token,
        course("Grand Rounds: Sepsis", "SEPSIS", -10, 50),
    )
    .await;
    app.schedule(&staff.token, course("Early Course", "EARLY1", 180, 240))
        .await;
    app.schedule(&staff.token, course("M&M Review", "LATE1", -300, -240))
        .await;

    // Step 2: pair the phone by texting the account's address.
    let paired = app.text(ADA_PHONE, " Ada@Example.org ", "SM001").await;
    assert_eq!(
        paired.message(),
        "Thank you Ada, your phone number has been updated to: +16125550101"
    );
    assert!(paired.body.starts_with("<?xml"), "TwiML: {}", paired.body);
    let notice = app
        .mail_to(
            "ada@example.org",
            "A phone number was added to your account",
        )
        .await;
    assert!(notice.contains("ending in 0101"), "{notice}");

    // An address with no account.
    let unknown = app
        .text("+16125550102", "nobody@example.org", "SM002")
        .await;
    assert_eq!(unknown.message(), USER_NOT_FOUND);

    // Steps 3 and 4: text the activity code, in the window.
    let recorded = app.text(ADA_PHONE, "sepsis", "SM003").await;
    assert_eq!(
        recorded.message(),
        "Thank you Ada, we have recorded your attendance for Grand Rounds: Sepsis"
    );

    // Too early and too late, with each activity's own minutes.
    let early = app.text(ADA_PHONE, "EARLY1", "SM004").await;
    assert_eq!(
        early.message(),
        "Sorry Ada, your attendance for Early Course could not be recorded – you can only record 15 minutes prior to, during or 30 minutes after the activity has completed"
    );
    let late = app.text(ADA_PHONE, "LATE1", "SM005").await;
    assert_eq!(
        late.message(),
        "Sorry Ada, your attendance for M&amp;M Review could not be recorded – you can only record 15 minutes prior to, during or 30 minutes after the activity has completed"
    );

    // A code no activity has, and a number nobody paired.
    let wrong_code = app.text(ADA_PHONE, "NOPE99", "SM006").await;
    assert_eq!(
        wrong_code.message(),
        "Sorry, that activity ID does not exist"
    );
    let unpaired = app.text("+16125550103", "SEPSIS", "SM007").await;
    assert_eq!(unpaired.message(), USER_NOT_FOUND);

    // A repeat, and the provider delivering the same message again: the same reply, one attendance.
    let repeat = app.text(ADA_PHONE, "SEPSIS", "SM008").await;
    assert_eq!(repeat.message(), recorded.message());
    let redelivered = app.text(ADA_PHONE, "sepsis", "SM003").await;
    assert_eq!(redelivered.message(), recorded.message());

    // A bad signature is refused, and records nothing.
    let forged = app
        .text_signed(ADA_PHONE, "EARLY1", "SM009", "not-the-organizations-token")
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    let unsigned = app
        .client
        .post(format!("{}/sms/inbound", app.base))
        .form(&[
            ("From", ADA_PHONE),
            ("To", "+18336161157"),
            ("Body", "SEPSIS"),
            ("MessageSid", "SM010"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(unsigned.status(), StatusCode::FORBIDDEN);

    // The transcript holds exactly the credit awarded.
    let at = app.caught_up("transcript").await;
    let transcript = app
        .graphql(TRANSCRIPT, json!({ "at": at }), Some(&ada.token))
        .await;
    let data = transcript.assert_ok();
    assert_eq!(
        data["transcript"]["entries"],
        json!([{ "title": "Grand Rounds: Sepsis", "creditType": "AMA_PRA_CATEGORY_1", "amount": "1.00",
                 "status": "AWARDED", "pendingReasons": [], "channel": "sms" }])
    );
    let year = chrono::Utc::now()
        .format("%Y")
        .to_string()
        .parse::<i64>()
        .unwrap();
    assert_eq!(
        data["transcript"]["totals"],
        json!([{ "year": year, "creditType": "AMA_PRA_CATEGORY_1", "awarded": "1.00", "pending": "0.00" }])
    );

    // The projection equals a rebuild of it from position 0.
    let state = &app.running.as_ref().unwrap().state;
    let source = Source {
        log: state.store.log.clone(),
        keys: state.store.keys.clone(),
    };
    // A rebuild is the operator's work: it runs, and what it built is read, with the owner's connections.
    rebuild_into(
        &Transcript,
        &source,
        &app.database.pool,
        "transcript_rebuilt",
        7,
    )
    .await
    .unwrap();
    let client = app.database.pool.get().await.unwrap();
    for table in ["transcript_entries", "transcript_activities"] {
        let differences: i64 = client
            .query_one(
                &format!(
                    "SELECT count(*) FROM ((TABLE public.{table} EXCEPT ALL TABLE transcript_rebuilt.{table})
                      UNION ALL (TABLE transcript_rebuilt.{table} EXCEPT ALL TABLE public.{table})) d"
                ),
                &[],
            )
            .await
            .unwrap()
            .get(0);
        assert_eq!(differences, 0, "{table} differs from its rebuild");
    }
    let entries: i64 = client
        .query_one(
            "SELECT count(*) FROM transcript_rebuilt.transcript_entries",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(entries, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_text_for_held_credit_says_what_is_pending_and_an_email_follows_the_award() {
    let (app, staff) = texting_app().await;
    let ada = app.learner("umncpd", "ada@example.org").await;
    app.complete_profile(&ada.token).await;
    let mut input = course("Journal Club", "JCLUB1", -5, 55);
    input["evaluationRequired"] = json!(true);
    let (activity, _) = app.schedule(&staff.token, input).await;
    app.text(ADA_PHONE, "ada@example.org", "SM101").await;

    // The FAQ's reply says the credits are recorded too; here they wait, so the reply says for what.
    let held = app.text(ADA_PHONE, "JCLUB1", "SM102").await;
    assert_eq!(
        held.message(),
        "Thank you Ada, we have recorded your attendance for Journal Club. Your credit is pending until you complete the evaluation: sign in to the CE Portal to finish, and we will e-mail you when it is recorded"
    );
    app.graphql(
        "mutation($input: SubmitEvaluationInput!) { submitEvaluation(input: $input) { status } }",
        json!({ "input": { "activityId": activity, "rating": 5, "objectivesMet": true } }),
        Some(&ada.token),
    )
    .await
    .assert_ok();
    let mail = app
        .mail_to(
            "ada@example.org",
            "Your credit for Journal Club is recorded",
        )
        .await;
    assert!(mail.contains("1.00 AMA PRA Category 1 Credit"), "{mail}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_text_to_a_number_no_organization_uses_is_refused() {
    let (app, _) = texting_app().await;
    let response = app
        .client
        .post(format!("{}/sms/inbound", app.base))
        .form(&[
            ("From", ADA_PHONE),
            ("To", "+18005550000"),
            ("Body", "HELLO"),
            ("MessageSid", "SM1"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_number_paired_by_another_account_moves_to_it() {
    let (app, _) = texting_app().await;
    app.learner("umncpd", "ada@example.org").await;
    app.learner("umncpd", "grace@example.org").await;
    app.text(ADA_PHONE, "ada@example.org", "SM1").await;
    let moved = app.text(ADA_PHONE, "grace@example.org", "SM2").await;
    assert_eq!(
        moved.message(),
        "Thank you Ada, your phone number has been updated to: +16125550101",
        "both test learners are called Ada"
    );
    app.mail_to(
        "ada@example.org",
        "A phone number was removed from your account",
    )
    .await;
    app.caught_up("accounts").await;
    let client = app
        .running
        .as_ref()
        .unwrap()
        .state
        .pool
        .get()
        .await
        .unwrap();
    let holders: Vec<String> = client
        .query(
            "SELECT a.email FROM account_phones p JOIN accounts a ON a.id = p.account_id WHERE p.number = $1",
            &[&ADA_PHONE],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(holders, vec!["grace@example.org".to_owned()]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_number_that_texts_too_often_gets_no_reply() {
    let (app, _) = texting_app().await;
    for n in 0..portal_gateway::app::SMS_PER_MINUTE {
        let reply = app.text("+16125550104", "GUESS1", &format!("SM{n}")).await;
        assert_eq!(reply.message(), USER_NOT_FOUND);
    }
    let over = app.text("+16125550104", "GUESS2", "SM-over").await;
    assert_eq!(over.status, StatusCode::OK);
    assert!(
        over.body.ends_with("<Response></Response>"),
        "{}",
        over.body
    );
    let other = app.text("+16125550105", "GUESS3", "SM-other").await;
    assert_eq!(
        other.message(),
        USER_NOT_FOUND,
        "other numbers are not held back"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_learners_transcript_updates_live_when_attendance_is_recorded_by_text() {
    use super::scheduling::receive;
    let (app, staff) = texting_app().await;
    let ada = app.learner("umncpd", "ada@example.org").await;
    app.schedule(
        &staff.token,
        course("Grand Rounds: Sepsis", "SEPSIS", -10, 50),
    )
    .await;
    // The portal shows the number to text, and times in the organization's zone, to anyone.
    app.caught_up("organizations").await;
    let organization = app
        .graphql(
            "{ organization(code: \"umncpd\") { smsNumber timeZone } }",
            json!({}),
            None,
        )
        .await;
    assert_eq!(
        organization.assert_ok()["organization"],
        json!({ "smsNumber": super::support::SMS_NUMBER, "timeZone": "UTC" })
    );
    app.text(ADA_PHONE, "ada@example.org", "SM1").await;
    let query = "subscription { transcriptUpdates { id entries { title channel status } totals { year pending } } }";
    let mut socket = app.subscribe(&ada.token, query).await;
    let first = receive(&mut socket, "next").await;
    let transcript = &first["payload"]["data"]["transcriptUpdates"];
    assert_eq!(transcript["entries"], json!([]), "sent at once: {first}");

    let recorded = app.text(ADA_PHONE, "SEPSIS", "SM2").await;
    assert!(recorded.message().starts_with("Thank you Ada"));
    let next = receive(&mut socket, "next").await;
    let updated = &next["payload"]["data"]["transcriptUpdates"];
    assert_eq!(
        updated["entries"],
        json!([{ "title": "Grand Rounds: Sepsis", "channel": "sms", "status": "PENDING" }])
    );
    assert_eq!(updated["totals"][0]["pending"], "1.00");
    // The same object as the query's, so that a client's cache updates the page that shows it.
    let read = app
        .graphql("{ transcript { id } }", json!({}), Some(&ada.token))
        .await;
    assert_eq!(read.assert_ok()["transcript"]["id"], updated["id"]);

    // Staff follow no transcript this way.
    let mut staffs = app
        .subscribe(&staff.token, "subscription { transcriptUpdates { id } }")
        .await;
    let refused = receive(&mut staffs, "next").await;
    assert_eq!(
        refused["payload"]["errors"][0]["extensions"]["code"], "FORBIDDEN",
        "{refused}"
    );
}
