//! Answers a client's cache can use (issue 20, item 7): every object has a stable global `id`, and every mutation
//! answers the object it changed beside its position, the same as the query that reads it.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{json, Value};

use super::scheduling::{clinic, open_slots, patient};
use super::support::{complete_profile, course, TestApp, PASSWORD};

/// Object types without an `id`: parts of the object that holds them (caches keep them inside it), the roots, and
/// Relay's paging wrappers. docs/api.md lists the same.
const VALUE_OBJECTS: &[&str] = &[
    "Address",
    "AgeBandView",
    "HelpContactsView",
    "SignInWays",
    "CreditOffer",
    "ReleaseDelay",
    "MessagePreview",
    "SpecialNeeds",
    "StateLicense",
    "PageInfo",
    "Query",
    "Mutation",
    "Subscription",
];

/// Mutations that answer no object, each for its reason in docs/api.md: nobody is signed in (or the answer must not
/// tell whether an account exists), or nothing a client shows changed.
const ANSWER_NO_OBJECT: &[&str] = &[
    "registerAccount",
    "activateAccount",
    "resendActivation",
    "requestPasswordReset",
    "requestUsernameReminder",
    "issueCalendarFeed",
    "resetPassword",
    "requestEmailChange",
    "confirmEmailChange",
    "signOut",
    "inviteStaff",
    "signUpPatient",
    "requestActivationCode",
];

/// The object types of an SDL document: each type's fields and the named type of each field.
fn object_types(sdl: &str) -> BTreeMap<String, BTreeMap<String, String>> {
    let mut types = BTreeMap::new();
    let mut current: Option<(String, BTreeMap<String, String>)> = None;
    let mut in_description = false;
    let mut field_with_arguments: Option<String> = None;
    let named = |raw: &str| {
        raw.trim()
            .trim_matches(|c| c == '[' || c == ']' || c == '!')
            .to_owned()
    };
    for line in sdl.lines() {
        if let Some(rest) = line.strip_prefix("type ") {
            let name = rest.split([' ', '{']).next().unwrap().to_owned();
            current = Some((name, BTreeMap::new()));
            continue;
        }
        let Some((_, fields)) = current.as_mut() else {
            continue;
        };
        if line == "}" {
            let (name, fields) = current.take().unwrap();
            types.insert(name, fields);
            continue;
        }
        if line.trim() == "\"\"\"" {
            in_description = !in_description;
            continue;
        }
        if in_description || line.starts_with("\t\t") {
            continue;
        }
        let Some(field) = line.strip_prefix('\t') else {
            continue;
        };
        if let Some(ty) = field.strip_prefix("): ") {
            let name = field_with_arguments.take().unwrap();
            fields.insert(name, named(ty.split(' ').next().unwrap()));
        } else if let Some((name, _)) = field.split_once('(') {
            field_with_arguments = Some(name.to_owned());
        } else if let Some((name, ty)) = field.split_once(": ") {
            fields.insert(name.to_owned(), named(ty.split(' ').next().unwrap()));
        }
    }
    types
}

fn is_wrapper(name: &str) -> bool {
    name.ends_with("Connection") || name.ends_with("Edge") || name.ends_with("Payload")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_object_has_an_id_and_every_mutation_answers_what_it_changed() {
    let app = TestApp::spawn().await;
    let types = object_types(&app.state().schema().sdl());
    assert!(types.len() > 50, "the SDL parses: {types:?}");
    let with_id: BTreeSet<&String> = types
        .iter()
        .filter(|(_, fields)| fields.get("id").is_some_and(|t| t == "ID"))
        .map(|(name, _)| name)
        .collect();
    let without: Vec<&String> = types
        .keys()
        .filter(|name| {
            !with_id.contains(name) && !is_wrapper(name) && !VALUE_OBJECTS.contains(&name.as_str())
        })
        .collect();
    assert!(
        without.is_empty(),
        "object types without an id: {without:?}"
    );

    // A mutation answers an object with an id, or a payload with a field that is one (or a list of them).
    let answers_object = |ty: &String| {
        with_id.contains(ty)
            || types[ty]
                .iter()
                .any(|(field, t)| field != "id" && with_id.contains(t))
    };
    let silent: Vec<&String> = types["Mutation"]
        .iter()
        .filter(|(name, ty)| !answers_object(ty) && !ANSWER_NO_OBJECT.contains(&name.as_str()))
        .map(|(name, _)| name)
        .collect();
    assert!(
        silent.is_empty(),
        "mutations that answer no changed object: {silent:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_learners_and_staffs_mutations_answer_the_objects_as_their_queries_read_them() {
    let app = TestApp::spawn().await;
    app.create_organization("umncpd").await;
    let staff = app.staff("umncpd", "coordinator@example.org").await;
    let ada = app.learner("umncpd", "ada@example.org").await;

    // The profile: the answer is `me` as it now reads, with the same ids.
    let updated = app
        .graphql(
            "mutation($input: UpdateProfileInput!) { updateProfile(input: $input) { position
               account { id profileComplete missingProfileFields profile { id enrollmentType } } } }",
            complete_profile(),
            Some(&ada.token),
        )
        .await;
    let account = updated.assert_ok()["updateProfile"]["account"].clone();
    assert_eq!(account["id"], ada.account_id);
    assert_eq!(account["profileComplete"], true);
    assert_eq!(account["profile"]["enrollmentType"], "PHYSICIAN");
    let me = app
        .graphql(
            "{ me { id profileComplete missingProfileFields profile { id enrollmentType } } }",
            json!({}),
            Some(&ada.token),
        )
        .await;
    assert_eq!(me.assert_ok()["me"], account);
    assert_ne!(account["profile"]["id"], account["id"], "ids are global");

    // Phones: the list as `myPhones` reads it, without the one removed.
    let added = app
        .graphql(
            "mutation { addPhone(input: { number: \"+16125550123\" }) { phones { id number verified } } }",
            json!({}),
            Some(&ada.token),
        )
        .await;
    let phones = added.assert_ok()["addPhone"]["phones"].clone();
    assert_eq!(phones[0]["number"], "+16125550123");
    assert_eq!(phones[0]["verified"], false);
    let listed = app
        .graphql(
            "{ myPhones { id number verified } }",
            json!({}),
            Some(&ada.token),
        )
        .await;
    assert_eq!(listed.assert_ok()["myPhones"], phones);
    let removed = app
        .graphql(
            "mutation { removePhone(input: { number: \"+16125550123\" }) { phones { id } } }",
            json!({}),
            Some(&ada.token),
        )
        .await;
    assert_eq!(removed.assert_ok()["removePhone"]["phones"], json!([]));

    // Signing in answers the account too.
    let signed_in = app
        .graphql(
            "mutation($input: SignInInput!) { signIn(input: $input) { account { id email lastSignedInAt } } }",
            json!({ "input": { "organizationCode": "umncpd", "email": "ada@example.org", "password": PASSWORD } }),
            None,
        )
        .await;
    let account = signed_in.assert_ok()["signIn"]["account"].clone();
    assert_eq!(account["id"], ada.account_id);
    assert!(account["lastSignedInAt"].is_string(), "{account}");

    // An activity: scheduling, changing and cancelling answer it as `activity(id)` reads it.
    let fields = "id title code cancelled cancelReason credits { type amount }";
    let scheduled = app
        .graphql(
            &format!("mutation($input: ActivityInput!) {{ scheduleActivity(input: $input) {{ activityId activity {{ {fields} }} }} }}"),
            json!({ "input": course("Grand Rounds", "GR1", -60, -10) }),
            Some(&staff.token),
        )
        .await;
    let activity = scheduled.assert_ok()["scheduleActivity"]["activity"].clone();
    let activity_id = activity["id"].as_str().unwrap().to_owned();
    assert_eq!(
        scheduled.assert_ok()["scheduleActivity"]["activityId"],
        activity_id
    );
    assert_eq!(activity["code"], "GR1");
    let read = app
        .graphql(
            &format!("query($id: ID!) {{ activity(id: $id) {{ {fields} }} }}"),
            json!({ "id": activity_id }),
            Some(&staff.token),
        )
        .await;
    assert_eq!(read.assert_ok()["activity"], activity);

    // Attendance from a sign-in sheet answers the learner's transcript entries, with the transcript's ids.
    let recorded = app
        .graphql(
            "mutation($input: RecordAttendanceForInput!) { recordAttendanceFor(input: $input) {
               status transcriptEntries { id activityId status amount } } }",
            json!({ "input": { "learnerId": ada.account_id, "activityId": activity_id } }),
            Some(&staff.token),
        )
        .await;
    let entries = recorded.assert_ok()["recordAttendanceFor"]["transcriptEntries"].clone();
    assert_eq!(entries.as_array().unwrap().len(), 1, "{entries}");
    assert_eq!(entries[0]["activityId"], activity_id);
    assert_eq!(entries[0]["status"], "AWARDED");
    let transcript = app
        .graphql(
            "query($l: ID) { transcript(learnerId: $l) { id entries { id activityId status amount } } }",
            json!({ "l": ada.account_id }),
            Some(&staff.token),
        )
        .await;
    assert_eq!(transcript.assert_ok()["transcript"]["entries"], entries);

    let cancelled = app
        .graphql(
            "mutation($id: ID!) { cancelActivity(id: $id, reason: \"Snow\") { activity { id cancelled cancelReason } } }",
            json!({ "id": activity_id }),
            Some(&staff.token),
        )
        .await;
    assert_eq!(
        cancelled.assert_ok()["cancelActivity"]["activity"],
        json!({ "id": activity_id, "cancelled": true, "cancelReason": "Snow" })
    );
    let series = app
        .graphql(
            "mutation($input: SeriesInput!) { scheduleSeries(input: $input) { activityIds activities { id } } }",
            json!({ "input": { "title": "Tumor board", "seriesKind": "TUMOR_BOARD", "frequency": "WEEKLY", "count": 3,
                               "firstStartsAt": "2027-01-05T08:00", "firstEndsAt": "2027-01-05T09:00",
                               "credits": [{ "type": "AMA_PRA_CATEGORY_1", "amount": "1.00" }] } }),
            Some(&staff.token),
        )
        .await;
    let series = series.assert_ok()["scheduleSeries"].clone();
    let ids: Vec<Value> = series["activities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].clone())
        .collect();
    assert_eq!(json!(ids), series["activityIds"]);

    // Settings answer the settings, with the id their query gives.
    let policy = app
        .graphql(
            "mutation { setSecurityPolicy(input: { lockoutThreshold: 7, lockoutMode: UNTIL_STAFF_UNLOCK }) {
               securityPolicy { id lockoutThreshold lockoutMode coolDownMinutes sessionHours } } }",
            json!({}),
            Some(&staff.token),
        )
        .await;
    let policy = policy.assert_ok()["setSecurityPolicy"]["securityPolicy"].clone();
    assert_eq!(policy["lockoutThreshold"], 7);
    assert_eq!(policy["lockoutMode"], "UNTIL_STAFF_UNLOCK");
    let read = app
        .graphql(
            "{ securityPolicy { id lockoutThreshold lockoutMode coolDownMinutes sessionHours } }",
            json!({}),
            Some(&staff.token),
        )
        .await;
    assert_eq!(read.assert_ok()["securityPolicy"], policy);
    let zone = app
        .graphql(
            "mutation { setTimeZone(timeZone: \"America/Denver\") { messagingSettings { id timeZone } } }",
            json!({}),
            Some(&staff.token),
        )
        .await;
    let settings = zone.assert_ok()["setTimeZone"]["messagingSettings"].clone();
    assert_eq!(settings["timeZone"], "America/Denver");
    let read = app
        .graphql(
            "{ messagingSettings { id timeZone } }",
            json!({}),
            Some(&staff.token),
        )
        .await;
    assert_eq!(read.assert_ok()["messagingSettings"], settings);

    // Staff actions on an account answer the account.
    let ended = app
        .graphql(
            "mutation($id: ID!) { endSessions(input: { accountId: $id }) { account { id email } } }",
            json!({ "id": ada.account_id }),
            Some(&staff.token),
        )
        .await;
    assert_eq!(
        ended.assert_ok()["endSessions"]["account"],
        json!({ "id": ada.account_id, "email": "ada@example.org" })
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_patients_and_the_clinics_mutations_answer_the_appointment_bill_and_conversation() {
    let c = clinic().await;
    let app = &c.app;
    let token = patient(app, &c.staff, 1).await;
    // The account's row may trail its sign-in by a moment.
    app.caught_up("accounts").await;
    let me = app.graphql("{ me { id } }", json!({}), Some(&token)).await;
    let patient_id = me.assert_ok()["me"]["id"].as_str().unwrap().to_owned();

    // Booking answers the appointment as `myAppointments` lists it; cancelling (below) answers it cancelled.
    let slots = open_slots(&c, &token).await;
    let booked = app
        .graphql(
            "mutation($input: BookAppointmentInput!) { bookAppointment(input: $input) {
               id appointment { id status slotId provider } waitListEntry { id } } }",
            json!({ "input": { "slotId": slots[0]["id"], "reasonId": c.reason } }),
            Some(&token),
        )
        .await;
    let booked = booked.assert_ok()["bookAppointment"].clone();
    let appointment = booked["appointment"].clone();
    assert_eq!(appointment["id"], booked["id"]);
    assert_eq!(appointment["status"], "booked");
    assert_eq!(appointment["slotId"], slots[0]["id"]);
    assert_eq!(
        booked["waitListEntry"],
        Value::Null,
        "not a wait-list change"
    );
    let listed = app
        .graphql(
            "{ myAppointments { id status slotId provider } }",
            json!({}),
            Some(&token),
        )
        .await;
    assert_eq!(listed.assert_ok()["myAppointments"][0], appointment);
    // A conversation with the provider seen: starting one answers it with its first message.
    let started = app
        .graphql(
            "mutation($input: StartConversationInput!) { startConversation(input: $input) {
               id conversation { id subject messages { body } } } }",
            json!({ "input": { "teamId": c.provider, "subject": "My visit", "body": "Can I bring my daughter?" } }),
            Some(&token),
        )
        .await;
    let started = started.assert_ok()["startConversation"].clone();
    assert_eq!(started["conversation"]["id"], started["id"]);
    assert_eq!(
        started["conversation"]["messages"],
        json!([{ "body": "Can I bring my daughter?" }])
    );

    let cancelled = app
        .graphql(
            "mutation($a: ID!) { cancelAppointment(appointmentId: $a) { appointment { id status } } }",
            json!({ "a": appointment["id"] }),
            Some(&token),
        )
        .await;
    assert_eq!(
        cancelled.assert_ok()["cancelAppointment"]["appointment"],
        json!({ "id": appointment["id"], "status": "cancelled" })
    );

    // A bill: issuing answers the statement and the billing account; a payment answers them paid down.
    let due = (chrono::Utc::now() + chrono::Duration::days(30)).date_naive();
    let issued = app
        .graphql(
            "mutation($input: IssueStatementInput!) { issueStatement(input: $input) {
               id statement { id balance items { id amount } } billing { id balance } } }",
            json!({ "input": { "patientId": patient_id, "dueOn": due,
                               "items": [{ "description": "Office visit", "amount": "80.00" }] } }),
            Some(&c.staff),
        )
        .await;
    let issued = issued.assert_ok()["issueStatement"].clone();
    assert_eq!(issued["statement"]["id"], issued["id"]);
    assert_eq!(issued["statement"]["balance"], "80.00");
    assert_eq!(issued["billing"]["balance"], "80.00");
    let paid = app
        .graphql(
            "mutation($input: RecordPaymentInput!) { recordPayment(input: $input) {
               statement { id balance payments { amount } } billing { id balance } } }",
            json!({ "input": { "statementId": issued["id"], "amount": "30.00", "processorReference": "ch_1",
                               "paidAt": chrono::Utc::now() } }),
            Some(&c.staff),
        )
        .await;
    let paid = paid.assert_ok()["recordPayment"].clone();
    assert_eq!(paid["statement"]["balance"], "50.00");
    assert_eq!(paid["statement"]["payments"][0]["amount"], "30.00");
    assert_eq!(paid["billing"]["id"], issued["billing"]["id"]);
    let billing = app
        .graphql(
            "{ billing { id balance statements { id balance items { id amount } } } }",
            json!({}),
            Some(&token),
        )
        .await;
    let billing = billing.assert_ok()["billing"].clone();
    assert_eq!(billing["id"], issued["billing"]["id"]);
    assert_eq!(billing["balance"], "50.00");
    assert_eq!(
        billing["statements"][0]["items"],
        issued["statement"]["items"]
    );

    // Staff registering a patient get the record back (and the read is in the access log).
    let registered = app
        .graphql(
            "mutation($input: RegisterPatientInput!) { registerPatient(input: $input) {
               patientId patient { id clinicNumber lastName } } }",
            json!({ "input": { "clinicNumber": "MC999999", "firstName": "Grace", "lastName": "Hopper",
                               "dateOfBirth": "1960-12-09" } }),
            Some(&c.staff),
        )
        .await;
    let registered = registered.assert_ok()["registerPatient"].clone();
    assert_eq!(
        registered["patient"],
        json!({ "id": registered["patientId"], "clinicNumber": "MC999999", "lastName": "Hopper" })
    );

    // The staff's reads in those answers are in the access log, as a query's would be; the patient's own are not.
    let auditor = app.auditor("mayo", "auditor@example.org").await;
    let log = app
        .graphql(
            "{ accessLog(first: 50) { edges { node { actorRole patientAccountId patientRecordId resource field } } } }",
            json!({}),
            Some(&auditor.token),
        )
        .await;
    let fields: BTreeSet<(String, String)> = log.assert_ok()["accessLog"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            assert_eq!(e["node"]["actorRole"], "staff", "{e}");
            (
                e["node"]["resource"].as_str().unwrap().to_owned(),
                e["node"]["field"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    for read in [
        ("statement", "statement"),
        ("statement", "billing"),
        ("patient_record", "patient"),
    ] {
        assert!(
            fields.contains(&(read.0.to_owned(), read.1.to_owned())),
            "{read:?} missing from {fields:?}"
        );
    }
    assert!(
        !fields.iter().any(|(_, field)| field == "appointment"),
        "the patient's own reads are not recorded: {fields:?}"
    );
}
