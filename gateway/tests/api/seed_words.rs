//! What the seeds promise, word for word (issue 23, item 3): the answers and messages a learner or patient reads,
//! checked character for character where a seed gives the words.

use serde_json::{json, Value};

use super::scheduling::{booked, clinic, open_slots, patient, CANCEL};
use super::support::{complete_profile, course, TestApp, PASSWORD, SMS_NUMBER};

const UPDATE: &str = "mutation($input: UpdateProfileInput!) { updateProfile(input: $input) { message missingFields position } }";

async fn ce_portal() -> (TestApp, String) {
    let app = TestApp::spawn().await;
    app.create_organization("umncpd").await;
    let staff = app.staff("umncpd", "coordinator@example.org").await;
    (app, staff.token)
}

/// The body of a mail (CRLF lines) or text file (LF lines): what follows its headers.
fn body(file: &str) -> &str {
    file.split_once("\r\n\r\n")
        .or_else(|| file.split_once("\n\n"))
        .map(|(_, b)| b)
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_code_typed_outside_its_window_gets_the_faqs_sentence() {
    let (app, staff) = ce_portal().await;
    let ada = app.learner("umncpd", "ada@example.org").await;
    app.schedule(&staff, course("Early Course", "EARLY1", 180, 240))
        .await;
    let early = app
        .graphql(
            "mutation($input: RecordAttendanceInput!) { recordAttendance(input: $input) { status } }",
            json!({ "input": { "code": "EARLY1" } }),
            Some(&ada.token),
        )
        .await;
    assert_eq!(early.error_code(), "ATTENDANCE_TOO_EARLY");
    assert_eq!(
        early.error_message(),
        "your attendance for Early Course could not be recorded – you can only record 15 minutes prior to, during or 30 minutes after the activity has completed"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_update_that_completes_the_profile_is_congratulated_and_no_other() {
    let (app, _) = ce_portal().await;
    let ada = app.learner("umncpd", "ada@example.org").await;
    let mut partial = complete_profile();
    partial["input"]
        .as_object_mut()
        .unwrap()
        .remove("dateOfBirth");
    let first = app.graphql(UPDATE, partial, Some(&ada.token)).await;
    assert_eq!(
        first.assert_ok()["updateProfile"]["missingFields"],
        json!(["dateOfBirth"])
    );
    assert_eq!(first.assert_ok()["updateProfile"]["message"], Value::Null);

    let completed = app
        .graphql(UPDATE, complete_profile(), Some(&ada.token))
        .await;
    assert_eq!(
        completed.assert_ok()["updateProfile"]["message"],
        "Congratulations! You have completed your professional profile!"
    );

    let mut changed = complete_profile();
    changed["input"]["dateOfBirth"] = json!("1971-05-06");
    let later = app.graphql(UPDATE, changed, Some(&ada.token)).await;
    assert!(later.assert_ok()["updateProfile"]["position"].is_i64());
    assert_eq!(later.assert_ok()["updateProfile"]["message"], Value::Null);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_password_with_a_username_speaks_of_the_username() {
    let c = clinic().await;
    patient(&c.app, &c.staff, 1).await;
    const SIGN_IN: &str = "mutation($input: SignInInput!) { signIn(input: $input) { token } }";
    let by_username = c
        .app
        .graphql(
            SIGN_IN,
            json!({ "input": { "organizationCode": "mayo", "username": "patient1", "password": "not the password" } }),
            None,
        )
        .await;
    assert_eq!(by_username.error_code(), "INVALID_CREDENTIALS");
    assert_eq!(
        by_username.error_message(),
        "the username or password is not correct"
    );
    // An unknown username gets the same words: they never tell which of the two was wrong.
    let unknown = c
        .app
        .graphql(
            SIGN_IN,
            json!({ "input": { "organizationCode": "mayo", "username": "nobody", "password": PASSWORD } }),
            None,
        )
        .await;
    assert_eq!(unknown.error_message(), by_username.error_message());
    let by_email = c
        .app
        .graphql(
            SIGN_IN,
            json!({ "input": { "organizationCode": "mayo", "email": "patient1@example.org", "password": "not the password" } }),
            None,
        )
        .await;
    assert_eq!(
        by_email.error_message(),
        "the e-mail address or password is not correct"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_for_a_code_is_answered_in_one_clean_sentence_pair() {
    let app = TestApp::spawn().await;
    app.create_organization("mayo").await;
    let asked = app
        .graphql(
            "mutation($input: RequestActivationCodeInput!) { requestActivationCode(input: $input) { message } }",
            json!({ "input": { "organizationCode": "mayo", "firstName": "Grace", "lastName": "Hopper",
                               "dateOfBirth": "1956-12-09", "email": "grace@example.org", "phone": "612-555-0142" } }),
            None,
        )
        .await;
    assert_eq!(
        asked.assert_ok()["requestActivationCode"]["message"],
        "Thanks. The clinic will check your details and e-mail you an activation code, or ask you to call. This can take one business day."
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_activation_codes_expiry_is_written_in_the_clinics_time_zone() {
    let app = TestApp::spawn().await;
    app.create_organization("mayo").await;
    let staff = app.staff("mayo", "desk@example.org").await.token;
    app.graphql(
        "mutation { setTimeZone(timeZone: \"America/Chicago\") { position } }",
        json!({}),
        Some(&staff),
    )
    .await
    .assert_ok();
    app.graphql(
        "mutation($input: RegisterPatientInput!) { registerPatient(input: $input) { patientId } }",
        json!({ "input": { "clinicNumber": "MC-1", "firstName": "Grace", "lastName": "Hopper",
                           "dateOfBirth": "1956-12-09", "email": "grace@example.org" } }),
        Some(&staff),
    )
    .await
    .assert_ok();
    let mail = app
        .mail_to(
            "grace@example.org",
            "Your mayo CE patient portal activation code",
        )
        .await;
    let text = body(&mail);
    assert!(text.contains(" America/Chicago."), "{text}");
    assert!(!text.contains("UTC"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cancellation_email_does_not_offer_to_move_or_cancel_again() {
    let c = clinic().await;
    let token = patient(&c.app, &c.staff, 1).await;
    let slots = open_slots(&c, &token).await;
    let id = booked(&c, &token, &slots[0]["id"]).await;
    c.app
        .graphql(CANCEL, json!({ "a": id }), Some(&token))
        .await
        .assert_ok();
    let mail = c
        .app
        .mail_to("patient1@example.org", "Your appointment was cancelled at")
        .await;
    let text = body(&mail);
    assert!(
        text.contains("To book another time, sign in to the patient portal."),
        "{text}"
    );
    assert!(!text.contains("To move or cancel it"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_auditors_invitation_speaks_to_an_auditor() {
    let (app, staff) = ce_portal().await;
    app.graphql(
        "mutation($input: InviteStaffInput!) { inviteStaff(input: $input) { message } }",
        json!({ "input": { "firstName": "Iris", "lastName": "Audit", "email": "iris@example.org", "role": "AUDITOR" } }),
        Some(&staff),
    )
    .await
    .assert_ok();
    let mail = app
        .mail_to("iris@example.org", "You are invited to audit umncpd CE")
        .await;
    let text = body(&mail);
    assert!(text.contains("an auditor's account"), "{text}");
    assert!(!text.contains("coordinate"), "{text}");
    assert!(!text.contains("staff account"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_text_the_organization_sends_comes_from_its_number() {
    let (app, staff) = ce_portal().await;
    app.configure_sms(&staff).await;
    let ada = app.learner("umncpd", "ada@example.org").await;
    app.graphql(
        "mutation { addPhone(input: { number: \"+16125550199\" }) { position } }",
        json!({}),
        Some(&ada.token),
    )
    .await
    .assert_ok();
    let text = app.sms_to("+16125550199").await;
    assert!(text.contains(&format!("\nFrom: {SMS_NUMBER}\n")), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn help_contacts_set_by_staff_show_with_the_organization_and_at_the_foot_of_messages() {
    let (app, staff) = ce_portal().await;
    let ada = app.learner("umncpd", "ada@example.org").await;
    const SET: &str = "mutation($input: SetHelpContactsInput!) { setHelpContacts(input: $input) { position organization { id help { phone } } } }";
    let forbidden = app
        .graphql(
            SET,
            json!({ "input": { "phone": "612-626-7600" } }),
            Some(&ada.token),
        )
        .await;
    assert_eq!(forbidden.error_code(), "FORBIDDEN");
    let invalid = app
        .graphql(
            SET,
            json!({ "input": { "phone": "612-626-7600", "web": "javascript:alert(1)" } }),
            Some(&staff),
        )
        .await;
    assert_eq!(invalid.error_code(), "HELP_CONTACTS_INVALID");
    assert_eq!(
        invalid.body["errors"][0]["extensions"]["field"],
        "input.web"
    );
    app.set_help_contacts(&staff).await;

    // Anyone reads them with the organization, by its code in any case (the app's "UMNCPD").
    app.caught_up("organizations").await;
    let organization = app
        .graphql(
            "{ organization(code: \"UMNCPD\") { code displayName help { displayName phone hours email web } } }",
            json!({}),
            None,
        )
        .await;
    assert_eq!(
        organization.assert_ok()["organization"],
        json!({ "code": "umncpd", "displayName": "UMN Office of CPD", "help": {
            "displayName": "UMN Office of CPD", "phone": "612-626-7600 or 1-800-776-8636",
            "hours": "Monday to Friday, 8:00am to 4:30pm", "email": "cmeinfo@umn.edu", "web": "https://cme.umn.edu" } })
    );

    // Every e-mail and text ends with them.
    app.graphql(
        "mutation { requestPasswordReset(input: { organizationCode: \"umncpd\", email: \"ada@example.org\" }) { message } }",
        json!({}),
        None,
    )
    .await
    .assert_ok();
    let mail = app.mail_to("ada@example.org", "Reset your").await;
    assert!(
        body(&mail).contains(
            "Questions? Contact UMN Office of CPD: call 612-626-7600 or 1-800-776-8636 (Monday to Friday, 8:00am to 4:30pm), write to cmeinfo@umn.edu or visit https://cme.umn.edu."
        ),
        "{mail}"
    );
    assert!(
        mail.contains("visit <a href=\"https://cme.umn.edu\">https://cme.umn.edu</a>.</p>"),
        "{mail}"
    );
    app.configure_sms(&staff).await;
    app.graphql(
        "mutation { addPhone(input: { number: \"+16125550199\" }) { position } }",
        json!({}),
        Some(&ada.token),
    )
    .await
    .assert_ok();
    let text = app.sms_to("+16125550199").await;
    assert!(
        body(&text).trim_end().ends_with(
            "\nHelp: 612-626-7600 or 1-800-776-8636, Monday to Friday, 8:00am to 4:30pm"
        ),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_patient_who_forgot_the_username_gets_it_by_email_and_may_reset_the_password_by_username()
{
    let c = clinic().await;
    patient(&c.app, &c.staff, 1).await;
    const REMIND: &str = "mutation($input: RequestUsernameReminderInput!) { requestUsernameReminder(input: $input) { message } }";
    // Asked by someone not signed in, of the clinic "mayo".
    let ask = |query: &'static str, input: Value| {
        let app = &c.app;
        async move {
            let mut input = input;
            input["organizationCode"] = json!("mayo");
            app.graphql(query, json!({ "input": input }), None).await
        }
    };
    let known = ask(REMIND, json!({ "email": "patient1@example.org" })).await;
    let unknown = ask(REMIND, json!({ "email": "nobody@example.org" })).await;
    // The same answer for any address: it does not tell whether an account uses it.
    assert_eq!(known.assert_ok(), unknown.assert_ok());
    let mail = c
        .app
        .mail_to("patient1@example.org", "Your mayo CE username")
        .await;
    assert!(body(&mail).contains("    patient1\r\n"), "{mail}");
    assert!(!c
        .app
        .mails()
        .iter()
        .any(|m| m.contains("To: nobody@example.org")));

    const RESET: &str = "mutation($input: RequestPasswordResetInput!) { requestPasswordReset(input: $input) { message } }";
    let by_username = ask(RESET, json!({ "username": "patient1" })).await;
    let by_unknown_username = ask(RESET, json!({ "username": "nobody" })).await;
    assert_eq!(by_username.assert_ok(), by_unknown_username.assert_ok());
    let token = c
        .app
        .link_token("patient1@example.org", "Reset your", "/reset-password", &[])
        .await;
    assert!(!token.is_empty());
    let neither = ask(RESET, json!({})).await;
    assert_eq!(neither.error_code(), "LOGIN_REQUIRED");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_read_back_every_setting_they_change() {
    let (app, staff) = ce_portal().await;
    let set = |query: &'static str| {
        let (app, staff) = (&app, staff.clone());
        async move {
            app.graphql(query, json!({}), Some(&staff))
                .await
                .assert_ok()
                .clone()
        }
    };
    set("mutation { setSecurityPolicy(input: { lockoutThreshold: 7, lockoutMode: UNTIL_STAFF_UNLOCK, sessionHours: 9, sessionIdleMinutes: 40 }) { position } }").await;
    set("mutation { setTwoStepRequirement(required: PATIENTS) { position } }").await;
    set("mutation { setPatientPolicy(activationCodeDays: 20, cancellationCutoffHours: 12, offerMinutes: 30) { position } }").await;
    set("mutation { setCarePolicy(conversationIdleDays: 14, releaseDelays: [{ testCode: \"HBA1C\", hours: 24 }]) { position } }").await;
    set("mutation { setDevicePolicy(input: { maxDays: 30, twoStepAgain: false }) { maxDays } }")
        .await;
    set("mutation { setTextingHours(opens: \"08:00\", closes: \"17:30\") { position } }").await;
    set("mutation { setMailSender(input: { name: \"UMN CPD\", address: \"cpd@umn.example\" }) { position } }").await;
    app.configure_sms(&staff).await;
    app.set_help_contacts(&staff).await;
    set("mutation { setCalendarPublic(public: true) { position } }").await;
    app.caught_up("organizations").await;

    let read = app
        .graphql(
            "{ securityPolicy { lockoutThreshold lockoutMode sessionHours sessionIdleMinutes twoStepRequired }
               patientPolicy { activationCodeDays cancellationCutoffHours offerMinutes }
               carePolicy { conversationIdleDays releaseDelays { testCode hours } }
               devicePolicy { maxDays twoStepAgain }
               messagingSettings { senderName senderAddress textingOpens textingCloses }
               organization(code: \"umncpd\") { smsNumber calendarPublic help { phone } } }",
            json!({}),
            Some(&staff),
        )
        .await;
    assert_eq!(
        read.assert_ok(),
        &json!({
            "securityPolicy": { "lockoutThreshold": 7, "lockoutMode": "UNTIL_STAFF_UNLOCK", "sessionHours": 9,
                                "sessionIdleMinutes": 40, "twoStepRequired": "PATIENTS" },
            "patientPolicy": { "activationCodeDays": 20, "cancellationCutoffHours": 12, "offerMinutes": 30 },
            "carePolicy": { "conversationIdleDays": 14, "releaseDelays": [{ "testCode": "HBA1C", "hours": 24 }] },
            "devicePolicy": { "maxDays": 30, "twoStepAgain": false },
            "messagingSettings": { "senderName": "UMN CPD", "senderAddress": "cpd@umn.example",
                                   "textingOpens": "08:00", "textingCloses": "17:30" },
            "organization": { "smsNumber": SMS_NUMBER, "calendarPublic": true,
                              "help": { "phone": "612-626-7600 or 1-800-776-8636" } },
        })
    );
}
