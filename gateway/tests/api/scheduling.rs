//! Booking, rescheduling and cancelling appointments (issue 5, seed 003).

use portal_projections::runner::rebuild_into;
use portal_projections::schedule::Schedule;
use portal_projections::Source;
use serde_json::{json, Value};

use super::support::{TestApp, PASSWORD};

pub async fn patient(app: &TestApp, staff: &str, n: usize) -> String {
    patient_born(app, staff, n, "1970-01-01").await
}

/// Registers patient `n` born on `born`, signs them up and in; returns their token.
pub async fn patient_born(app: &TestApp, staff: &str, n: usize, born: &str) -> String {
    let email = format!("patient{n}@example.org");
    app.graphql(
        "mutation($input: RegisterPatientInput!) { registerPatient(input: $input) { patientId } }",
        json!({ "input": { "clinicNumber": format!("MC{n:06}"), "firstName": "Pat", "lastName": format!("Number{n}"),
                           "dateOfBirth": born } }),
        Some(staff),
    )
    .await
    .assert_ok();
    app.graphql(
        "mutation($input: SignUpPatientInput!) { signUpPatient(input: $input) { position } }",
        json!({ "input": { "organizationCode": "mayo", "clinicNumber": format!("MC{n:06}"), "dateOfBirth": born,
                           "username": format!("patient{n}"), "email": email, "password": PASSWORD } }),
        None,
    )
    .await
    .assert_ok();
    let token = app.activation_token("mayo", &email).await;
    app.activate(&token).await.assert_ok();
    let signed_in = app
        .graphql(
            "mutation($input: SignInInput!) { signIn(input: $input) { token } }",
            json!({ "input": { "organizationCode": "mayo", "username": format!("patient{n}"), "password": PASSWORD } }),
            None,
        )
        .await;
    signed_in.assert_ok()["signIn"]["token"]
        .as_str()
        .unwrap()
        .to_owned()
}

pub struct Clinic {
    pub app: TestApp,
    pub staff: String,
    pub reason: String,
    pub provider: String,
}

pub async fn clinic() -> Clinic {
    clinic_on(TestApp::spawn().await).await
}

/// The clinic on an app started with particular settings.
pub async fn clinic_on(app: TestApp) -> Clinic {
    app.create_organization("mayo").await;
    let staff = app.staff("mayo", "desk@example.org").await.token;
    let id = |answer: super::support::Answer, field: &str| {
        answer.assert_ok()[field]["id"].as_str().unwrap().to_owned()
    };
    let location = id(
        app.graphql("mutation { putLocation(name: \"Gonda Building\", address: \"200 First St SW\") { id } }", json!({}), Some(&staff)).await,
        "putLocation",
    );
    let department = id(
        app.graphql(
            "mutation { putDepartment(name: \"Cardiology\") { id } }",
            json!({}),
            Some(&staff),
        )
        .await,
        "putDepartment",
    );
    let provider = id(
        app.graphql(
            "mutation($d: [ID!]!, $l: [ID!]!) { putProvider(name: \"Dr. Ada Lovelace\", departmentIds: $d, locationIds: $l) { id } }",
            json!({ "d": [department], "l": [location] }),
            Some(&staff),
        )
        .await,
        "putProvider",
    );
    let reason = id(
        app.graphql(
            "mutation($d: [ID!]) { putVisitReason(name: \"Follow-up visit\", minutes: 30, departmentIds: $d) { id } }",
            json!({ "d": [department] }),
            Some(&staff),
        )
        .await,
        "putVisitReason",
    );
    let from = (chrono::Utc::now() + chrono::Duration::days(5)).date_naive();
    let to = from + chrono::Duration::days(6);
    let hours: Vec<Value> = [
        "MONDAY",
        "TUESDAY",
        "WEDNESDAY",
        "THURSDAY",
        "FRIDAY",
        "SATURDAY",
        "SUNDAY",
    ]
    .iter()
    .map(|d| json!({ "weekday": d, "opens": "09:00", "closes": "10:00" }))
    .collect();
    let published = app
        .graphql(
            "mutation($input: PublishSlotsInput!) { publishSlots(input: $input) { created position } }",
            json!({ "input": { "providerId": provider, "locationId": location, "from": from, "to": to, "slotMinutes": 30,
                               "hours": hours } }),
            Some(&staff),
        )
        .await;
    assert_eq!(
        published.assert_ok()["publishSlots"]["created"],
        14,
        "two a day for seven days"
    );
    Clinic {
        app,
        staff,
        reason,
        provider,
    }
}

pub const SLOTS: &str = "query($at: LogPosition, $provider: ID, $reason: ID) { openSlots(providerId: $provider, reasonId: $reason, atLeast: $at) { id startsAt provider location } }";
pub const BOOK: &str =
    "mutation($input: BookAppointmentInput!) { bookAppointment(input: $input) { id position } }";
const RESCHEDULE: &str =
    "mutation($a: ID!, $s: ID!) { rescheduleAppointment(appointmentId: $a, slotId: $s) { position } }";
pub const CANCEL: &str = "mutation($a: ID!) { cancelAppointment(appointmentId: $a) { position } }";

/// Books `slot` for the clinic's visit reason as the patient of `token`; returns the appointment's id.
pub async fn booked(c: &Clinic, token: &str, slot: &Value) -> Value {
    c.app
        .graphql(
            BOOK,
            json!({ "input": { "slotId": slot, "reasonId": c.reason } }),
            Some(token),
        )
        .await
        .assert_ok()["bookAppointment"]["id"]
        .clone()
}

pub async fn open_slots(c: &Clinic, token: &str) -> Vec<Value> {
    let at = c.app.caught_up("schedule").await;
    let slots = c
        .app
        .graphql(
            SLOTS,
            json!({ "at": at, "provider": c.provider, "reason": c.reason }),
            Some(token),
        )
        .await;
    slots.assert_ok()["openSlots"].as_array().unwrap().clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn of_many_patients_booking_one_slot_at_once_exactly_one_gets_it() {
    let c = clinic().await;
    let mut tokens = Vec::new();
    for n in 0..6 {
        tokens.push(patient(&c.app, &c.staff, n).await);
    }
    let slots = open_slots(&c, &tokens[0]).await;
    let target = slots[0]["id"].clone();
    let mut attempts = Vec::new();
    for token in &tokens {
        let client = c.app.client.clone();
        let url = format!("{}/graphql", c.app.base);
        let body = json!({ "query": BOOK, "variables": { "input": { "slotId": target, "reasonId": c.reason,
                           "insurance": { "payer": "Blue Cross", "memberId": "XK-1", "group": "77" } } } });
        let token = token.clone();
        attempts.push(tokio::spawn(async move {
            let answer: Value = client
                .post(url)
                .bearer_auth(token)
                .json(&body)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            answer
        }));
    }
    let mut booked = 0;
    let mut taken = 0;
    for attempt in attempts {
        let answer = attempt.await.unwrap();
        if answer["data"]["bookAppointment"]["id"].is_string() {
            booked += 1;
        } else {
            assert_eq!(
                answer["errors"][0]["extensions"]["code"], "SLOT_TAKEN",
                "{answer}"
            );
            taken += 1;
        }
    }
    assert_eq!(
        (booked, taken),
        (1, 5),
        "exactly one booking of the slot succeeds"
    );
    let left = open_slots(&c, &tokens[0]).await;
    assert!(
        left.iter().all(|s| s["id"] != target),
        "the slot is no longer open"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn patients_change_appointments_at_any_time_unless_the_organization_sets_a_cutoff() {
    let c = clinic().await;
    let token = patient(&c.app, &c.staff, 1).await;
    let slots = open_slots(&c, &token).await;
    let summary = |slot: Value| {
        let (app, token, reason) = (&c.app, token.clone(), c.reason.clone());
        async move {
            app.graphql(
                "query($s: ID!, $r: ID!) { bookingSummary(slotId: $s, reasonId: $r) { cancellationCutoffHours } }",
                json!({ "s": slot, "r": reason }),
                Some(&token),
            )
            .await
            .assert_ok()["bookingSummary"]["cancellationCutoffHours"]
                .clone()
        }
    };
    // Seed 003: "reschedule or cancel at any time". No cut-off until the organization sets one.
    assert_eq!(summary(slots[0]["id"].clone()).await, 0);
    let first = booked(&c, &token, &slots[0]["id"]).await;
    let second = booked(&c, &token, &slots[1]["id"]).await;
    c.app
        .graphql(CANCEL, json!({ "a": first }), Some(&token))
        .await
        .assert_ok();

    // A week's cut-off: the portal says so before the patient tries, and then holds them to it.
    c.app
        .graphql(
            "mutation { setPatientPolicy(activationCodeDays: 30, cancellationCutoffHours: 168) { position } }",
            json!({}),
            Some(&c.staff),
        )
        .await
        .assert_ok();
    assert_eq!(summary(slots[2]["id"].clone()).await, 168);
    let refused = c
        .app
        .graphql(CANCEL, json!({ "a": second }), Some(&token))
        .await;
    assert_eq!(refused.error_code(), "CANCELLATION_CUTOFF_PASSED");
    assert_eq!(
        refused.error_message(),
        "this appointment starts too soon to change online; call the clinic"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_patient_books_moves_and_cancels_and_stale_reminders_are_withdrawn() {
    let c = clinic().await;
    let token = patient(&c.app, &c.staff, 1).await;
    let slots = open_slots(&c, &token).await;
    assert_eq!(slots.len(), 14);
    assert_eq!(slots[0]["provider"], "Dr. Ada Lovelace");
    assert_eq!(slots[0]["location"], "Gonda Building");

    let summary = c
        .app
        .graphql(
            "query($s: ID!, $r: ID!) { bookingSummary(slotId: $s, reasonId: $r) { provider location address reason minutes timeZone cancellationCutoffHours } }",
            json!({ "s": slots[0]["id"], "r": c.reason }),
            Some(&token),
        )
        .await;
    assert_eq!(
        summary.assert_ok()["bookingSummary"],
        json!({ "provider": "Dr. Ada Lovelace", "location": "Gonda Building", "address": "200 First St SW",
                "reason": "Follow-up visit", "minutes": 30, "timeZone": "UTC", "cancellationCutoffHours": 0 })
    );
    let booked = c
        .app
        .graphql(BOOK, json!({ "input": { "slotId": slots[0]["id"], "reasonId": c.reason, "contactPhone": "612-555-0100" } }), Some(&token))
        .await;
    let appointment = booked.assert_ok()["bookAppointment"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let confirmation = c
        .app
        .mail_to(
            "patient1@example.org",
            "Your appointment is booked at mayo CE",
        )
        .await;
    assert!(
        confirmation.contains("With: Dr. Ada Lovelace"),
        "{confirmation}"
    );

    let state = &c.app.running.as_ref().unwrap().state;
    let reminders = |status: &'static str| async move {
        let client = state.pool.get().await.unwrap();
        let count: i64 = client
            .query_one(
                "SELECT count(*) FROM outbox WHERE kind = 'appointment_reminder' AND status = $1",
                &[&status],
            )
            .await
            .unwrap()
            .get(0);
        count
    };
    assert_eq!(reminders("pending").await, 2, "72 and 24 hours before");

    let moved = c
        .app
        .graphql(
            RESCHEDULE,
            json!({ "a": appointment, "s": slots[3]["id"] }),
            Some(&token),
        )
        .await;
    moved.assert_ok();
    assert_eq!(
        reminders("withdrawn").await,
        2,
        "the old slot's reminders are withdrawn"
    );
    assert_eq!(
        reminders("pending").await,
        2,
        "the new slot's reminders are written"
    );
    let mine = c
        .app
        .graphql(
            "query($at: LogPosition) { myAppointments(atLeast: $at) { id slotId status reason providerId } }",
            json!({ "at": moved.assert_ok()["rescheduleAppointment"]["position"] }),
            Some(&token),
        )
        .await;
    assert_eq!(
        mine.assert_ok()["myAppointments"],
        json!([{ "id": appointment, "slotId": slots[3]["id"], "status": "booked", "reason": "Follow-up visit",
            "providerId": c.provider }])
    );
    let open = open_slots(&c, &token).await;
    assert!(
        open.iter().any(|s| s["id"] == slots[0]["id"]),
        "the old slot is open again"
    );
    assert!(
        open.iter().all(|s| s["id"] != slots[3]["id"]),
        "the new one is taken"
    );

    let other = patient(&c.app, &c.staff, 2).await;
    let not_theirs = c
        .app
        .graphql(CANCEL, json!({ "a": appointment }), Some(&other))
        .await;
    assert_eq!(
        not_theirs.error_code(),
        "APPOINTMENT_NOT_FOUND",
        "a patient acts on their own appointments only"
    );
    let taken = c
        .app
        .graphql(
            RESCHEDULE,
            json!({ "a": appointment, "s": slots[3]["id"] }),
            Some(&token),
        )
        .await;
    assert_eq!(taken.error_code(), "SAME_SLOT");

    let cancelled = c
        .app
        .graphql("mutation($a: ID!) { cancelAppointment(appointmentId: $a, reason: \"Feeling better\") { position } }", json!({ "a": appointment }), Some(&token))
        .await;
    cancelled.assert_ok();
    assert_eq!(
        reminders("pending").await,
        0,
        "no reminder is left for a cancelled appointment"
    );
    assert_eq!(reminders("withdrawn").await, 4);

    // The schedule equals a rebuild of it from position 0.
    c.app.caught_up("schedule").await;
    let source = Source {
        log: state.store.log.clone(),
        keys: state.store.keys.clone(),
    };
    // A rebuild is the operator's work: it runs, and what it built is read, with the owner's connections.
    rebuild_into(
        &Schedule,
        &source,
        &c.app.database.pool,
        "schedule_rebuilt",
        13,
    )
    .await
    .unwrap();
    let client = c.app.database.pool.get().await.unwrap();
    for table in ["catalogue_entries", "slots", "appointments"] {
        let differences: i64 = client
            .query_one(
                &format!(
                    "SELECT count(*) FROM ((TABLE public.{table} EXCEPT ALL TABLE schedule_rebuilt.{table})
                      UNION ALL (TABLE schedule_rebuilt.{table} EXCEPT ALL TABLE public.{table})) d"
                ),
                &[],
            )
            .await
            .unwrap()
            .get(0);
        assert_eq!(differences, 0, "{table} differs from its rebuild");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_book_for_a_patient_and_see_the_providers_day() {
    let c = clinic().await;
    let token = patient(&c.app, &c.staff, 3).await;
    // `me` reads the accounts read model: wait until it holds the new account.
    c.app.caught_up("accounts").await;
    let me = c
        .app
        .graphql("{ me { id } }", json!({}), Some(&token))
        .await;
    let patient_id = me.assert_ok()["me"]["id"].clone();
    let slots = open_slots(&c, &c.staff).await;
    let missing = c
        .app
        .graphql(
            BOOK,
            json!({ "input": { "slotId": slots[1]["id"], "reasonId": c.reason } }),
            Some(&c.staff),
        )
        .await;
    assert_eq!(missing.error_code(), "PATIENT_REQUIRED");
    let booked = c
        .app
        .graphql(BOOK, json!({ "input": { "slotId": slots[1]["id"], "reasonId": c.reason, "patientId": patient_id } }), Some(&c.staff))
        .await;
    let position = booked.assert_ok()["bookAppointment"]["position"].clone();
    let date = slots[1]["startsAt"].as_str().unwrap()[..10].to_owned();
    let day = c
        .app
        .graphql(
            "query($p: ID!, $d: NaiveDate!, $at: LogPosition) { providerDay(providerId: $p, date: $d, atLeast: $at) { patientId patientName startsAt } }",
            json!({ "p": c.provider, "d": date, "at": position }),
            Some(&c.staff),
        )
        .await;
    assert_eq!(day.assert_ok()["providerDay"][0]["patientId"], patient_id);
    assert_eq!(
        day.assert_ok()["providerDay"][0]["patientName"],
        "Pat Number3",
        "staff see whose appointment it is"
    );
    let forbidden = c
        .app
        .graphql(
            "query($p: ID!, $d: NaiveDate!) { providerDay(providerId: $p, date: $d) { patientId } }",
            json!({ "p": c.provider, "d": date }),
            Some(&token),
        )
        .await;
    assert_eq!(forbidden.error_code(), "FORBIDDEN");

    // Staff move and cancel for the patient too.
    let appointment = booked.assert_ok()["bookAppointment"]["id"].clone();
    c.app
        .graphql(
            RESCHEDULE,
            json!({ "a": appointment, "s": slots[4]["id"] }),
            Some(&c.staff),
        )
        .await
        .assert_ok();
    let cancelled = c
        .app
        .graphql(CANCEL, json!({ "a": appointment }), Some(&c.staff))
        .await;
    let at = cancelled.assert_ok()["cancelAppointment"]["position"].clone();
    let mine = c
        .app
        .graphql(
            "query($at: LogPosition) { myAppointments(atLeast: $at) { status slotId } }",
            json!({ "at": at }),
            Some(&token),
        )
        .await;
    assert_eq!(
        mine.assert_ok()["myAppointments"],
        json!([{ "status": "cancelled", "slotId": slots[4]["id"] }])
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_freed_slot_goes_to_the_wait_list_in_turn_and_the_first_to_accept_gets_it() {
    let c = clinic().await;
    c.app
        .graphql(
            "mutation { setPatientPolicy(activationCodeDays: 30, offerMinutes: 5) { position } }",
            json!({}),
            Some(&c.staff),
        )
        .await
        .assert_ok();
    let first = patient(&c.app, &c.staff, 1).await;
    let second = patient(&c.app, &c.staff, 2).await;
    let canceller = patient(&c.app, &c.staff, 3).await;
    let slots = open_slots(&c, &first).await;
    let book = |slot: &Value| json!({ "input": { "slotId": slot, "reasonId": c.reason } });
    let later = c
        .app
        .graphql(BOOK, book(&slots[10]["id"]), Some(&first))
        .await;
    let later = later.assert_ok()["bookAppointment"]["id"].clone();
    const JOIN: &str =
        "mutation($input: JoinWaitListInput!) { joinWaitList(input: $input) { id } }";
    let entry_first = c
        .app
        .graphql(JOIN, json!({ "input": { "providerId": c.provider, "reasonId": c.reason, "appointmentId": later } }), Some(&first))
        .await;
    let entry_first = entry_first.assert_ok()["joinWaitList"]["id"].clone();
    let entry_second = c
        .app
        .graphql(
            JOIN,
            json!({ "input": { "providerId": c.provider, "reasonId": c.reason } }),
            Some(&second),
        )
        .await;
    let entry_second = entry_second.assert_ok()["joinWaitList"]["id"].clone();

    // A cancellation frees the earliest slot: the first in line is offered it.
    let early = c
        .app
        .graphql(BOOK, book(&slots[0]["id"]), Some(&canceller))
        .await;
    let early = early.assert_ok()["bookAppointment"]["id"].clone();
    c.app
        .graphql(CANCEL, json!({ "a": early }), Some(&canceller))
        .await
        .assert_ok();
    let offer = c
        .app
        .mail_to(
            "patient1@example.org",
            "An earlier appointment is free at mayo CE",
        )
        .await;
    assert!(
        offer.contains("/o/mayo/appointments/wait-list"),
        "the offer links to the wait list: {offer}"
    );
    const MINE: &str =
        "query($at: LogPosition) { myWaitList(atLeast: $at) { id status offeredSlotId target reason
         offeredStartsAt offeredProvider offeredLocation } }";
    let at = c.app.caught_up("schedule").await;
    let waiting = c.app.graphql(MINE, json!({ "at": at }), Some(&first)).await;
    assert_eq!(
        waiting.assert_ok()["myWaitList"],
        json!([{ "id": entry_first, "status": "offered", "offeredSlotId": slots[0]["id"],
                 "target": slots[0]["provider"], "reason": "Follow-up visit",
                 "offeredStartsAt": slots[0]["startsAt"], "offeredProvider": slots[0]["provider"],
                 "offeredLocation": slots[0]["location"] }])
    );

    // The offer lapses unanswered: the next in line gets it, and takes it.
    let state = &c.app.running.as_ref().unwrap().state;
    state.advance_clock(chrono::Duration::minutes(6));
    c.app.caught_up("schedule").await;
    portal_gateway::app::sweep_offers(state).await;
    c.app
        .mail_to(
            "patient2@example.org",
            "An earlier appointment is free at mayo CE",
        )
        .await;
    let lapsed = c
        .app
        .graphql(
            "mutation($e: ID!) { acceptSlotOffer(entryId: $e) { id } }",
            json!({ "e": entry_first }),
            Some(&first),
        )
        .await;
    assert_eq!(lapsed.error_code(), "OFFER_UNAVAILABLE");
    let accepted = c
        .app
        .graphql(
            "mutation($e: ID!) { acceptSlotOffer(entryId: $e) { id position } }",
            json!({ "e": entry_second }),
            Some(&second),
        )
        .await;
    let position = accepted.assert_ok()["acceptSlotOffer"]["position"].clone();
    let theirs = c
        .app
        .graphql(
            "query($at: LogPosition) { myAppointments(atLeast: $at) { slotId } }",
            json!({ "at": position }),
            Some(&second),
        )
        .await;
    assert_eq!(
        theirs.assert_ok()["myAppointments"],
        json!([{ "slotId": slots[0]["id"] }])
    );

    // Another cancellation: the first in line is back in line and accepting moves their later appointment.
    let again = c
        .app
        .graphql(BOOK, book(&slots[1]["id"]), Some(&canceller))
        .await;
    let again = again.assert_ok()["bookAppointment"]["id"].clone();
    c.app
        .graphql(CANCEL, json!({ "a": again }), Some(&canceller))
        .await
        .assert_ok();
    let moved = c
        .app
        .graphql(
            "mutation($e: ID!) { acceptSlotOffer(entryId: $e) { id position } }",
            json!({ "e": entry_first }),
            Some(&first),
        )
        .await;
    let data = moved.assert_ok()["acceptSlotOffer"].clone();
    assert_eq!(data["id"], later, "the same appointment, moved");
    let mine = c
        .app
        .graphql(
            "query($at: LogPosition) { myAppointments(atLeast: $at) { id slotId } }",
            json!({ "at": data["position"] }),
            Some(&first),
        )
        .await;
    assert_eq!(
        mine.assert_ok()["myAppointments"],
        json!([{ "id": later, "slotId": slots[1]["id"] }])
    );
    let open = open_slots(&c, &first).await;
    assert!(
        open.iter().any(|s| s["id"] == slots[10]["id"]),
        "the later slot is free again"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signed_in_patient_is_told_when_an_appointment_of_theirs_changes() {
    use futures_util::SinkExt;
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    use tokio_tungstenite::tungstenite::Message;

    let c = clinic().await;
    let token = patient(&c.app, &c.staff, 1).await;
    let slots = open_slots(&c, &token).await;
    let mut request = format!("{}/graphql/ws", c.app.base.replace("http://", "ws://"))
        .into_client_request()
        .unwrap();
    request.headers_mut().insert(
        "sec-websocket-protocol",
        "graphql-transport-ws".parse().unwrap(),
    );
    let (mut socket, response) = tokio_tungstenite::connect_async(request).await.unwrap();
    assert_eq!(
        response.headers()["sec-websocket-protocol"],
        "graphql-transport-ws"
    );
    let send = |value: Value| Message::Text(value.to_string().into());
    socket
        .send(send(json!({ "type": "connection_init", "payload": { "Authorization": format!("Bearer {token}") } })))
        .await
        .unwrap();
    assert_eq!(
        receive(&mut socket, "connection_ack").await["type"],
        "connection_ack"
    );
    socket
        .send(send(json!({ "id": "1", "type": "subscribe",
                           "payload": { "query": "subscription { appointmentChanges { id status slotId } }" } })))
        .await
        .unwrap();
    let booked = c
        .app
        .graphql(
            BOOK,
            json!({ "input": { "slotId": slots[2]["id"], "reasonId": c.reason } }),
            Some(&token),
        )
        .await;
    let appointment = booked.assert_ok()["bookAppointment"]["id"].clone();
    let change = receive(&mut socket, "next").await;
    assert_eq!(
        change["payload"]["data"]["appointmentChanges"],
        json!({ "id": appointment, "status": "booked", "slotId": slots[2]["id"] })
    );
    c.app
        .graphql(CANCEL, json!({ "a": appointment }), Some(&token))
        .await
        .assert_ok();
    let change = receive(&mut socket, "next").await;
    assert_eq!(
        change["payload"]["data"]["appointmentChanges"]["status"],
        "cancelled"
    );
}

pub type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// The next message of `kind` on the socket (others, such as pings, are passed over).
pub async fn receive(socket: &mut Socket, kind: &str) -> Value {
    use futures_util::StreamExt;
    loop {
        let message = tokio::time::timeout(std::time::Duration::from_secs(10), socket.next())
            .await
            .expect("a message within 10 s")
            .expect("the socket is open")
            .expect("a message");
        if let tokio_tungstenite::tungstenite::Message::Text(text) = message {
            let value: Value = serde_json::from_str(&text).unwrap();
            assert_ne!(value["type"], "error", "{value}");
            if value["type"] == kind {
                return value;
            }
        }
    }
}
