//! Delivering the outbox (issue 8): e-mail to a real SMTP server on loopback, texts to a stand-in of the SMS
//! provider's API, reminders on time, retries and dead letters, quiet hours, templates, and a worker killed
//! mid-delivery.

use std::collections::HashSet;
use std::time::Duration;

use chrono::{DateTime, Utc};
use portal_commands::log::{Commit, EventLog};
use portal_commands::secrets::MasterKey;
use portal_commands::testing::TestDatabase;
use portal_domain::values::EmailAddress;
use serde_json::{json, Value};
use uuid::Uuid;

use super::scheduling::{clinic_on, open_slots, patient, BOOK, CANCEL};
use super::sms_provider::SmsProvider;
use super::smtp_server::{ca_file, Behaviour, SmtpServer};
use super::support::{TestApp, PASSWORD};

const DELIVERIES: &str = "query($status: DeliveryStatus) { deliveries(status: $status) { id kind channel recipient subject status attempts lastError providerId resentFrom resendable } }";

/// An outbox row as the tests look at it.
#[derive(Debug, Clone)]
struct Row {
    id: Uuid,
    kind: String,
    recipient: String,
    status: String,
    held: bool,
    attempts: i32,
    due_at: DateTime<Utc>,
    created_at: DateTime<Utc>,
    last_attempt_at: Option<DateTime<Utc>>,
    last_error: Option<String>,
    provider_id: Option<String>,
}

async fn rows(app: &TestApp) -> Vec<Row> {
    let client = app.state().pool.get().await.unwrap();
    client
        .query(
            "SELECT id, kind, status, held, attempts, due_at, created_at, last_attempt_at, last_error, provider_id,
                    recipient
             FROM outbox ORDER BY created_at, id",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| Row {
            id: r.get(0),
            kind: r.get(1),
            status: r.get(2),
            held: r.get(3),
            attempts: r.get(4),
            due_at: r.get(5),
            created_at: r.get(6),
            last_attempt_at: r.get(7),
            last_error: r.get(8),
            provider_id: r.get(9),
            recipient: r.get(10),
        })
        .collect()
}

/// Waits until a message of `kind` satisfies `done`.
async fn wait_row(app: &TestApp, kind: &str, done: impl Fn(&Row) -> bool) -> Row {
    for _ in 0..400 {
        if let Some(row) = rows(app)
            .await
            .into_iter()
            .find(|r| r.kind == kind && done(r))
        {
            return row;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("no {kind} message got there: {:?}", rows(app).await);
}

/// The token of the activation link in a raw message.
fn activation_link(raw: &str) -> String {
    raw.lines()
        .find(|l| l.contains("/activate?token=") && !l.contains("href"))
        .unwrap_or_else(|| panic!("no link in {raw}"))
        .trim()
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_activation_email_arrives_over_starttls_with_authentication_and_its_link_activates_the_account(
) {
    let server = SmtpServer::start(Behaviour {
        require_tls: true,
        credentials: Some(("portal".into(), "s3cret".into())),
        ..Behaviour::default()
    })
    .await;
    let port = server.port;
    let app = TestApp::spawn_with(|args| {
        args.delivery.smtp_url = Some(format!(
            "smtp://portal:s3cret@localhost:{port}?tls=required"
        ));
        args.delivery.smtp_ca_file = Some(ca_file());
    })
    .await;
    app.create_organization("umncpd").await;
    let staff = app.staff("umncpd", "desk@example.org").await;
    app.graphql(
        "mutation { setMailSender(input: { name: \"UMN CPD\", address: \"cpd@umn.example\" }) { position } }",
        json!({}),
        Some(&staff.token),
    )
    .await
    .assert_ok();

    app.register("umncpd", "ada@example.org").await.assert_ok();
    let sent = wait_row(&app, "activation", |r| {
        r.recipient == "ada@example.org" && r.status == "sent"
    })
    .await;
    let mail = server.wait_to("ada@example.org").await;
    assert!(mail.tls, "the conversation was upgraded with STARTTLS");
    assert_eq!(mail.user.as_deref(), Some("portal"), "it authenticated");
    assert_eq!(
        mail.header("From").unwrap(),
        "\"UMN CPD\" <cpd@umn.example>"
    );
    assert_eq!(mail.header("To").unwrap(), "ada@example.org");
    assert_eq!(
        mail.header("Subject").unwrap(),
        "Activate your umncpd CE account"
    );
    assert_eq!(
        mail.header("Message-ID").unwrap(),
        format!("<{}@umn.example>", sent.id),
        "the outbox id is the message's id"
    );
    assert!(mail.data.contains("multipart/alternative"), "{}", mail.data);
    assert!(
        mail.data.contains("Content-Type: text/plain"),
        "{}",
        mail.data
    );
    assert!(
        mail.data.contains("Content-Type: text/html"),
        "{}",
        mail.data
    );
    assert!(mail.data.contains("Hello Ada,"), "{}", mail.data);
    let link = activation_link(&mail.data);
    assert!(
        mail.data.contains(&format!("<a href=\"{link}\">")),
        "the HTML part links the same address"
    );
    assert!(sent.provider_id.unwrap().contains("queued as TEST"));

    // The link works: activating with its token lets Ada sign in.
    let token = link.split("token=").nth(1).unwrap();
    app.activate(token).await.assert_ok();
    app.sign_in("umncpd", "ada@example.org", PASSWORD)
        .await
        .assert_ok();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn e_mail_goes_over_tls_from_the_first_byte_to_an_smtps_server() {
    let server = SmtpServer::start(Behaviour {
        implicit_tls: true,
        credentials: Some(("portal".into(), "s3cret".into())),
        ..Behaviour::default()
    })
    .await;
    let port = server.port;
    let app = TestApp::spawn_with(|args| {
        args.delivery.smtp_url = Some(format!("smtps://portal:s3cret@localhost:{port}"));
        args.delivery.smtp_ca_file = Some(ca_file());
    })
    .await;
    app.create_organization("umncpd").await;
    app.register("umncpd", "ada@example.org").await.assert_ok();
    let mail = server.wait_to("ada@example.org").await;
    assert!(mail.tls);
    assert_eq!(mail.user.as_deref(), Some("portal"));
    assert_eq!(
        mail.header("From").unwrap(),
        "portal <no-reply@portal.localhost>",
        "without a sender of its own, the server's default"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_to_a_busy_server_is_retried_with_backoff_then_dead_lettered_and_staff_can_resend_it(
) {
    let server = SmtpServer::start(Behaviour {
        always_busy: true,
        ..Behaviour::default()
    })
    .await;
    let port = server.port;
    let app = TestApp::spawn_with(|args| {
        args.delivery.smtp_url = Some(format!("smtp://127.0.0.1:{port}"));
        args.delivery.delivery_backoff_ms = 100;
        args.delivery.delivery_max_backoff_ms = 400;
        args.delivery.delivery_max_attempts = 3;
    })
    .await;
    app.create_organization("umncpd").await;
    let staff = app.staff("umncpd", "desk@example.org").await;
    app.register("umncpd", "ada@example.org").await.assert_ok();

    let dead = wait_row(&app, "activation", |r| {
        r.recipient == "ada@example.org" && r.status == "dead"
    })
    .await;
    assert_eq!(dead.attempts, 3);
    assert_eq!(
        server.rcpts_to("ada@example.org"),
        3,
        "three attempts reached the server"
    );
    assert!(
        dead.last_error.as_deref().unwrap().contains("451"),
        "{dead:?}"
    );
    // Waits of at least half of 100 ms and half of 200 ms separate the three attempts.
    let spread = dead.last_attempt_at.unwrap() - dead.created_at;
    assert!(spread >= chrono::Duration::milliseconds(150), "{spread}");

    let listed = app
        .graphql(DELIVERIES, json!({ "status": "DEAD" }), Some(&staff.token))
        .await;
    let listed: Vec<Value> = listed.assert_ok()["deliveries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["recipient"] == "ada@example.org")
        .cloned()
        .collect();
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!(listed[0]["id"], dead.id.to_string());
    assert_eq!(listed[0]["kind"], "ACTIVATION");
    assert_eq!(listed[0]["recipient"], "ada@example.org");
    assert_eq!(listed[0]["attempts"], 3);
    assert!(listed[0]["lastError"].as_str().unwrap().contains("451"));
    assert_eq!(listed[0]["resendable"], false, "its link is forgotten");

    const RESEND: &str =
        "mutation($id: ID!) { resendMessage(id: $id) { id status resentFrom kind resendable } }";
    // The activation link was forgotten when the message died: it is not sent again (the person asks anew).
    let refused = app
        .graphql(
            RESEND,
            json!({ "id": dead.id.to_string() }),
            Some(&staff.token),
        )
        .await;
    assert_eq!(refused.error_code(), "MESSAGE_NOT_RESENDABLE");
    // A message without a secret is.
    app.register("umncpd", "ada@example.org").await.assert_ok();
    let dead = wait_row(&app, "repeated_registration", |r| {
        r.recipient == "ada@example.org" && r.status == "dead"
    })
    .await;
    let listed = app
        .graphql(DELIVERIES, json!({ "status": "DEAD" }), Some(&staff.token))
        .await;
    let listed = listed.assert_ok()["deliveries"].clone();
    let row = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["id"] == dead.id.to_string())
        .unwrap();
    assert_eq!(row["resendable"], true, "{row}");
    let resent = app
        .graphql(
            RESEND,
            json!({ "id": dead.id.to_string() }),
            Some(&staff.token),
        )
        .await;
    let copy = resent.assert_ok()["resendMessage"].clone();
    assert_eq!(copy["resentFrom"], dead.id.to_string());
    assert_eq!(copy["status"], "PENDING");
    assert_eq!(
        copy["resendable"], false,
        "a copy still waiting is not sent again"
    );
    assert_ne!(copy["id"], dead.id.to_string(), "a copy has its own id");
    let copy_id = Uuid::parse_str(copy["id"].as_str().unwrap()).unwrap();
    let retried = wait_row(&app, "repeated_registration", |r| {
        r.id == copy_id && r.attempts > 0
    })
    .await;
    assert_eq!(retried.kind, "repeated_registration");

    // Only staff read deliveries, and only their organization's.
    let auditor = app.auditor("umncpd", "audit@example.org").await;
    let refused = app
        .graphql(DELIVERIES, json!({}), Some(&auditor.token))
        .await;
    assert_eq!(refused.error_code(), "FORBIDDEN");
    app.create_organization("other").await;
    let other = app.staff("other", "desk@other.example").await;
    let theirs = app.graphql(DELIVERIES, json!({}), Some(&other.token)).await;
    assert!(theirs.assert_ok()["deliveries"]
        .as_array()
        .unwrap()
        .iter()
        .all(|d| d["recipient"] == "desk@other.example"));
    let foreign = app
        .graphql(
            "mutation($id: ID!) { resendMessage(id: $id) { id } }",
            json!({ "id": dead.id.to_string() }),
            Some(&other.token),
        )
        .await;
    assert_eq!(foreign.error_code(), "MESSAGE_NOT_FOUND");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_address_the_server_refuses_is_dead_lettered_at_the_first_attempt() {
    let server = SmtpServer::start(Behaviour {
        unknown: HashSet::from(["ada@example.org".to_owned()]),
        ..Behaviour::default()
    })
    .await;
    let port = server.port;
    let app = TestApp::spawn_with(|args| {
        args.delivery.smtp_url = Some(format!("smtp://127.0.0.1:{port}"));
        args.delivery.delivery_backoff_ms = 50;
    })
    .await;
    app.create_organization("umncpd").await;
    app.register("umncpd", "ada@example.org").await.assert_ok();
    let dead = wait_row(&app, "activation", |r| r.status == "dead").await;
    assert_eq!(dead.attempts, 1, "a permanent refusal is not retried");
    assert!(dead.last_error.unwrap().contains("550"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reminder_goes_out_when_it_falls_due_and_a_cancelled_appointments_reminder_never_does() {
    let c = clinic_on(TestApp::spawn().await).await;
    let token = patient(&c.app, &c.staff, 1).await;
    let slots = open_slots(&c, &token).await;
    let book = |slot: &Value| json!({ "input": { "slotId": slot["id"], "reasonId": c.reason } });
    c.app
        .graphql(BOOK, book(&slots[0]), Some(&token))
        .await
        .assert_ok();
    let cancelled = c.app.graphql(BOOK, book(&slots[4]), Some(&token)).await;
    let cancelled = cancelled.assert_ok()["bookAppointment"]["id"].clone();
    c.app
        .graphql(CANCEL, json!({ "a": cancelled }), Some(&token))
        .await
        .assert_ok();

    let reminders = |rows: Vec<Row>| -> Vec<Row> {
        rows.into_iter()
            .filter(|r| r.kind == "appointment_reminder")
            .collect()
    };
    let written = reminders(rows(&c.app).await);
    assert_eq!(written.len(), 4, "72 and 24 hours before each appointment");
    assert_eq!(
        written.iter().filter(|r| r.status == "withdrawn").count(),
        2
    );
    let reminder_mails = |app: &TestApp| {
        app.mails()
            .into_iter()
            .filter(|m| m.contains("Subject: Reminder: your appointment at mayo CE"))
            .collect::<Vec<_>>()
    };
    assert!(
        reminder_mails(&c.app).is_empty(),
        "nothing is sent before it is due"
    );

    let starts: DateTime<Utc> = slots[0]["startsAt"].as_str().unwrap().parse().unwrap();
    let state = c.app.state();
    state.advance_clock(
        starts - chrono::Duration::hours(72) + chrono::Duration::minutes(1) - state.now(),
    );
    let first = wait_row(&c.app, "appointment_reminder", |r| r.status == "sent").await;
    assert!(first.due_at <= state.now());
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        reminder_mails(&c.app).len(),
        1,
        "the 24-hour reminder is not due yet"
    );

    state.advance_clock(
        starts - chrono::Duration::hours(24) + chrono::Duration::minutes(1) - state.now(),
    );
    for _ in 0..200 {
        if reminder_mails(&c.app).len() == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(reminder_mails(&c.app).len(), 2);
    let cancelled_start: DateTime<Utc> = slots[4]["startsAt"].as_str().unwrap().parse().unwrap();
    state.advance_clock(cancelled_start + chrono::Duration::hours(1) - state.now());
    tokio::time::sleep(Duration::from_millis(500)).await;
    let after = reminders(rows(&c.app).await);
    assert_eq!(after.iter().filter(|r| r.status == "sent").count(), 2);
    assert_eq!(
        after.iter().filter(|r| r.status == "withdrawn").count(),
        2,
        "the cancelled appointment's reminders were never sent"
    );
    assert_eq!(reminder_mails(&c.app).len(), 2);
}

const SMS_ACCOUNT: &str = "AC0123456789abcdef0123456789abcdef";
const SMS_TOKEN: &str = "provider-auth-token-0123456789";

/// Texting hours (UTC, the clinic's zone) that include neither the present hour and the next (when the code is
/// sent) nor 09:00 to 10:00 (when the clinic's slots start, and so when reminders fall due).
fn closed_now() -> (&'static str, &'static str) {
    use chrono::Timelike;
    let hour = Utc::now().hour();
    [("00:00", "01:00"), ("12:00", "13:00"), ("20:00", "21:00")]
        .into_iter()
        .find(|(opens, _)| {
            let opens: u32 = opens[..2].parse().unwrap();
            opens != hour && opens != (hour + 1) % 24
        })
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn texts_go_through_the_providers_api_and_reminders_wait_for_the_texting_hours_but_codes_do_not(
) {
    let provider = SmsProvider::start(SMS_ACCOUNT, SMS_TOKEN).await;
    let url = provider.url.clone();
    let c =
        clinic_on(TestApp::spawn_with(|args| args.delivery.sms_api_url = Some(url)).await).await;
    c.app
        .graphql(
            "mutation($input: ConfigureSmsInput!) { configureSms(input: $input) { position } }",
            json!({ "input": { "number": "+15075550100", "authToken": SMS_TOKEN, "accountSid": SMS_ACCOUNT } }),
            Some(&c.staff),
        )
        .await
        .assert_ok();
    let (opens, closes) = closed_now();
    c.app
        .graphql(
            "mutation($o: String!, $c: String!) { setTextingHours(opens: $o, closes: $c) { position } }",
            json!({ "o": opens, "c": closes }),
            Some(&c.staff),
        )
        .await
        .assert_ok();
    let bad = c
        .app
        .graphql(
            "mutation { setTextingHours(opens: \"18:00\", closes: \"09:00\") { position } }",
            json!({}),
            Some(&c.staff),
        )
        .await;
    assert_eq!(bad.error_code(), "TEXTING_HOURS_INVALID");

    // A verification code goes out at once, whatever the hour.
    let learner = c.app.learner("mayo", "ada@example.org").await;
    c.app
        .graphql(
            "mutation { addPhone(input: { number: \"+16125550199\" }) { number } }",
            json!({}),
            Some(&learner.token),
        )
        .await
        .assert_ok();
    let texts = provider.wait_for(1).await;
    assert_eq!(texts[0].account, SMS_ACCOUNT);
    assert_eq!(texts[0].form["To"], "+16125550199");
    assert_eq!(texts[0].form["From"], "+15075550100");
    assert!(texts[0].form["Body"].contains("is your mayo CE verification code"));
    let code_row = wait_row(&c.app, "phone_code", |r| r.status == "sent").await;
    assert_eq!(
        texts[0].idempotency_key.as_deref(),
        Some(code_row.id.to_string().as_str())
    );
    assert_eq!(
        code_row.provider_id.as_deref(),
        Some("SM00000000000000000000000000000001")
    );

    // A reminder by text falls due outside the hours: held until they open, then sent.
    let token = patient(&c.app, &c.staff, 1).await;
    let slots = open_slots(&c, &token).await;
    c.app
        .graphql(
            BOOK,
            json!({ "input": { "slotId": slots[0]["id"], "reasonId": c.reason, "contactPhone": "612-555-0100" } }),
            Some(&token),
        )
        .await
        .assert_ok();
    let starts: DateTime<Utc> = slots[0]["startsAt"].as_str().unwrap().parse().unwrap();
    let state = c.app.state();
    state.advance_clock(
        starts - chrono::Duration::hours(72) + chrono::Duration::minutes(1) - state.now(),
    );
    let held = wait_row(&c.app, "appointment_reminder_text", |r| r.held).await;
    assert!(held.due_at > state.now(), "due again at the next opening");
    assert_eq!(held.attempts, 0, "holding is not an attempt");
    // Days later by the server's clock: the first staff session has expired.
    let staff = c.app.staff("mayo", "evening@example.org").await.token;
    let listed = c
        .app
        .graphql(DELIVERIES, json!({ "status": "HELD" }), Some(&staff))
        .await;
    assert_eq!(
        listed.assert_ok()["deliveries"][0]["kind"],
        "APPOINTMENT_REMINDER_TEXT"
    );
    // Listing a patient's appointment messages is a read of their data: it is in the access log.
    let logged: i64 = state
        .pool
        .get()
        .await
        .unwrap()
        .query_one(
            "SELECT count(*) FROM access_log WHERE resource = 'deliveries' AND patient_account_id IS NOT NULL",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(logged, 1);
    assert_eq!(provider.texts().len(), 1, "nothing more went out");

    state.advance_clock(held.due_at + chrono::Duration::minutes(1) - state.now());
    let texts = provider.wait_for(2).await;
    assert_eq!(texts[1].form["To"], "+16125550100");
    assert!(
        texts[1].form["Body"]
            .starts_with("Reminder from mayo CE: your appointment with Dr. Ada Lovelace"),
        "{}",
        texts[1].form["Body"]
    );
    wait_row(&c.app, "appointment_reminder_text", |r| {
        r.id == held.id && r.status == "sent"
    })
    .await;

    // A number the provider refuses is dead-lettered at once.
    let signed_in = c.app.sign_in("mayo", "ada@example.org", PASSWORD).await;
    let learner_token = signed_in.assert_ok()["signIn"]["token"]
        .as_str()
        .unwrap()
        .to_owned();
    c.app
        .graphql(
            "mutation { addPhone(input: { number: \"+16125550000\" }) { number } }",
            json!({}),
            Some(&learner_token),
        )
        .await
        .assert_ok();
    let refused = wait_row(&c.app, "phone_code", |r| r.status == "dead").await;
    assert_eq!(refused.attempts, 1);
    assert!(refused.last_error.unwrap().contains("error 21211"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_organizations_own_template_words_its_messages_and_bad_templates_are_refused() {
    let app = TestApp::spawn().await;
    app.create_organization("umncpd").await;
    let staff = app.staff("umncpd", "desk@example.org").await;
    const SET: &str = "mutation($input: MessageTemplateInput!) { setMessageTemplate(input: $input) { position } }";
    let unknown = app
        .graphql(
            SET,
            json!({ "input": { "kind": "ACTIVATION", "subject": "Hi", "text": "Your password: {{ password }}" } }),
            Some(&staff.token),
        )
        .await;
    assert_eq!(unknown.error_code(), "MESSAGE_TEMPLATE_INVALID");
    assert_eq!(
        unknown.body["errors"][0]["extensions"]["field"],
        "input.text"
    );
    let broken = app
        .graphql(
            SET,
            json!({ "input": { "kind": "ACTIVATION", "subject": "Hi", "text": "{{ link }}", "html": "<p>{% if %}</p>" } }),
            Some(&staff.token),
        )
        .await;
    assert_eq!(
        broken.body["errors"][0]["extensions"]["field"],
        "input.html"
    );
    let text_with_subject = app
        .graphql(
            SET,
            json!({ "input": { "kind": "SIGN_IN_CODE_TEXT", "subject": "Code", "text": "{{ code }}" } }),
            Some(&staff.token),
        )
        .await;
    assert_eq!(text_with_subject.error_code(), "MESSAGE_TEMPLATE_INVALID");

    app.graphql(
        SET,
        json!({ "input": { "kind": "ACTIVATION", "subject": "Welcome to {{ organization }}",
                           "text": "Hi {{ salutation }}, start here:\n{{ link }}\n",
                           "html": "<p>Hi {{ salutation }}</p><p><a href=\"{{ link }}\">Start</a></p>" } }),
        Some(&staff.token),
    )
    .await
    .assert_ok();
    let listed = app
        .graphql(
            "{ messageTemplates { kind custom subject variables } }",
            json!({}),
            Some(&staff.token),
        )
        .await;
    let templates = listed.assert_ok()["messageTemplates"]
        .as_array()
        .unwrap()
        .clone();
    let activation = templates
        .iter()
        .find(|t| t["kind"] == "ACTIVATION")
        .unwrap();
    assert_eq!(activation["custom"], true);
    assert_eq!(
        activation["variables"],
        json!(["organization", "salutation", "link"])
    );
    assert!(templates
        .iter()
        .filter(|t| t["kind"] != "ACTIVATION")
        .all(|t| t["custom"] == false));

    app.register("umncpd", "ada@example.org").await.assert_ok();
    let mail = app.mail_to("ada@example.org", "Welcome to umncpd CE").await;
    assert!(mail.contains("Hi Ada, start here:"), "{mail}");
    let link = activation_link(&mail);
    // The preview reads as the message will, with the same link but a token that is no one's.
    const PREVIEW: &str = "query($kind: MessageKind!, $draft: MessageDraftInput) { messagePreview(kind: $kind, draft: $draft) { channel subject text links } }";
    let preview = app
        .graphql(PREVIEW, json!({ "kind": "ACTIVATION" }), Some(&staff.token))
        .await;
    let preview = preview.assert_ok()["messagePreview"].clone();
    assert_eq!(preview["subject"], "Welcome to umncpd CE");
    assert!(
        preview["text"]
            .as_str()
            .unwrap()
            .starts_with("Hi [salutation], start here:"),
        "{preview}"
    );
    let page = link.split("?token=").next().unwrap();
    assert_eq!(preview["links"], json!([format!("{page}?token=preview")]));
    let draft = app
        .graphql(
            PREVIEW,
            json!({ "kind": "ACTIVATION", "draft": { "subject": "Hi", "text": "{{ nope }}" } }),
            Some(&staff.token),
        )
        .await;
    assert_eq!(draft.error_code(), "MESSAGE_TEMPLATE_INVALID");
    assert_eq!(draft.body["errors"][0]["extensions"]["field"], "draft.text");
    // Every kind renders; every link opens a page of the organization's portal.
    for template in &templates {
        let preview = app
            .graphql(
                PREVIEW,
                json!({ "kind": template["kind"] }),
                Some(&staff.token),
            )
            .await;
        let preview = preview.assert_ok()["messagePreview"].clone();
        for link in preview["links"].as_array().unwrap() {
            let base = page.split("/o/").next().unwrap();
            assert!(
                link.as_str()
                    .unwrap()
                    .starts_with(&format!("{base}/o/umncpd/")),
                "{link}"
            );
        }
    }
    let auditor = app.auditor("umncpd", "audit@example.org").await;
    let refused = app
        .graphql(
            PREVIEW,
            json!({ "kind": "ACTIVATION" }),
            Some(&auditor.token),
        )
        .await;
    assert_eq!(refused.error_code(), "FORBIDDEN");
    let token = link.split("token=").nth(1).unwrap();
    // The HTML part escapes what it inserts (slashes too, which browsers read back as slashes).
    assert!(
        mail.contains("<a href=\"http:&#x2f;&#x2f;")
            && mail.contains(&format!("token={token}\">Start</a>")),
        "{mail}"
    );
    app.activate(token).await.assert_ok();

    app.graphql(
        "mutation { resetMessageTemplate(kind: ACTIVATION) { position } }",
        json!({}),
        Some(&staff.token),
    )
    .await
    .assert_ok();
    app.register("umncpd", "grace@example.org")
        .await
        .assert_ok();
    app.mail_to("grace@example.org", "Activate your umncpd CE account")
        .await;
}

/// Writes `n` messages to the outbox of the organization with `code`, as commits of their own.
async fn write_messages(app: &TestApp, code: &str, n: usize) -> Vec<Uuid> {
    let store = &app.state().store;
    let organization = portal_commands::organizations::find_by_code(
        store,
        &portal_domain::values::OrganizationCode::parse(code).unwrap(),
    )
    .await
    .unwrap()
    .unwrap();
    let mut ids = vec![];
    for i in 0..n {
        let to = EmailAddress::parse(&format!("person{i}@example.org")).unwrap();
        let message = portal_commands::messages::password_changed(&to, "Ada", Utc::now());
        ids.push(message.id);
        store
            .log
            .append(Commit {
                tenant: organization.id.0,
                outbox: vec![message],
                ..Commit::default()
            })
            .await
            .unwrap();
    }
    ids
}

fn message_ids(server: &SmtpServer) -> Vec<String> {
    server
        .messages()
        .iter()
        .map(|m| m.header("Message-ID").unwrap())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_workers_sharing_the_outbox_never_send_one_message_twice() {
    let server = SmtpServer::start(Behaviour {
        data_delay: Duration::from_millis(20),
        ..Behaviour::default()
    })
    .await;
    let port = server.port;
    let app = TestApp::spawn_with(|args| args.no_delivery = true).await;
    app.create_organization("umncpd").await;
    let ids = write_messages(&app, "umncpd", 40).await;

    let settings = portal_gateway::cli::DeliveryArgs {
        smtp_url: Some(format!("smtp://127.0.0.1:{port}")),
        ..Default::default()
    };
    let (stop, stop_rx) = tokio::sync::watch::channel(false);
    let mut workers = vec![];
    for _ in 0..2 {
        let state = app.state();
        let clock = state.clone();
        let worker = portal_gateway::app::delivery(
            &app.database.config,
            &state.store,
            &settings,
            std::sync::Arc::new(move || clock.now()),
        )
        .unwrap();
        workers.push(tokio::spawn(worker.run(
            std::sync::Arc::new(tokio::sync::Notify::new()),
            stop_rx.clone(),
        )));
    }
    server.wait_for(40).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let _ = stop.send(true);
    for worker in workers {
        worker.await.unwrap();
    }
    let received = message_ids(&server);
    let distinct: HashSet<&String> = received.iter().collect();
    assert_eq!(received.len(), 40, "each message once");
    assert_eq!(distinct.len(), 40);
    for id in ids {
        assert!(distinct.contains(&format!("<{id}@portal.localhost>")));
    }
    assert!(rows(&app).await.iter().all(|r| r.status == "sent"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delivery_process_killed_mid_delivery_loses_nothing() {
    let server = SmtpServer::start(Behaviour {
        data_delay: Duration::from_millis(150),
        ..Behaviour::default()
    })
    .await;
    let key = MasterKey::generate();
    let app = TestApp::spawn_on(TestDatabase::empty().await, key.clone(), |args| {
        args.no_delivery = true
    })
    .await;
    app.create_organization("umncpd").await;
    let ids = write_messages(&app, "umncpd", 30).await;
    let mail_dir = app.mail_dir.clone();
    let deliver = || {
        std::process::Command::new(env!("CARGO_BIN_EXE_portal"))
            .arg("deliver")
            .env("DATABASE_URL", &app.database.url)
            .env("PORTAL_MASTER_KEY", key.to_base64())
            .env(
                "PORTAL_SMTP_URL",
                format!("smtp://127.0.0.1:{}", server.port),
            )
            .env("PORTAL_DELIVERY_LANES", "4")
            .env("PORTAL_MAIL_DIR", &mail_dir)
            .env("RUST_LOG", "warn")
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("portal deliver starts")
    };

    let mut first = deliver();
    server.wait_for(5).await;
    first.kill().unwrap();
    first.wait().unwrap();
    let at_kill = rows(&app).await;
    let pending = at_kill.iter().filter(|r| r.status == "pending").count();
    assert!(
        pending > 0,
        "the process was killed with messages left to send"
    );

    let mut second = deliver();
    for _ in 0..600 {
        if rows(&app).await.iter().all(|r| r.status == "sent") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    second.kill().unwrap();
    second.wait().unwrap();
    assert!(
        rows(&app).await.iter().all(|r| r.status == "sent"),
        "every message is sent in the end"
    );
    let received = message_ids(&server);
    let distinct: HashSet<&String> = received.iter().collect();
    for id in &ids {
        assert!(
            distinct.contains(&format!("<{id}@portal.localhost>")),
            "{id} was received"
        );
    }
    // At most the messages in flight when the process died (one per lane) arrive twice, with the same id.
    assert!(
        received.len() - distinct.len() <= 4,
        "{} copies",
        received.len() - distinct.len()
    );
}
