//! Online bill pay (issue 23, item 5) end to end against a stand-in of the payment processor on loopback: staff
//! set up the organization's own account, a patient opens a checkout, the processor's signed webhook records the
//! payment once however often it comes, a refund makes its amount owed again, and no balance goes below zero.

use serde_json::{json, Value};

use super::payment_processor::PaymentProcessor;
use super::scheduling::{clinic_on, patient, Clinic};
use super::support::TestApp;

const API_KEY: &str = "sk_test_51PortalStandIn0000abcd";
const WEBHOOK_SECRET: &str = "whsec_portalStandInSecret0001";

const SET_UP: &str =
    "mutation($input: SetPaymentProcessorInput!) { setPaymentProcessor(input: $input) {
    position onlinePayments { id enabled keyHint live webhookUrl } } }";
const PAY: &str = "mutation($input: PayStatementInput!) { payStatement(input: $input) {
    id checkoutUrl amount expiresAt } }";
const BILLING: &str = "query { billing { balance payOnline statements { id balance status
    payments { amount processorReference refunded } } } }";

/// A clinic whose app talks to `processor`, with online bill pay set up; returns the webhook address too.
async fn clinic_paying_through(processor: &PaymentProcessor) -> (Clinic, String) {
    let url = processor.url.clone();
    let c = clinic_on(TestApp::spawn_with(|args| args.payments_api_url = url).await).await;
    let set_up = c
        .app
        .graphql(
            SET_UP,
            json!({ "input": { "apiKey": API_KEY, "webhookSecret": WEBHOOK_SECRET } }),
            Some(&c.staff),
        )
        .await;
    let webhook = set_up.assert_ok()["setPaymentProcessor"]["onlinePayments"]["webhookUrl"]
        .as_str()
        .unwrap()
        .to_owned();
    (c, webhook)
}

/// Registers patient 1 and issues them a statement of 100.00 + 25.50; returns their token and the statement.
async fn billed_patient(c: &Clinic) -> (String, String) {
    let token = patient(&c.app, &c.staff, 1).await;
    c.app.caught_up("accounts").await;
    let me = c
        .app
        .graphql("query { me { id } }", json!({}), Some(&token))
        .await;
    let due = (chrono::Utc::now() + chrono::Duration::days(30)).date_naive();
    let issued = c
        .app
        .graphql(
            "mutation($input: IssueStatementInput!) { issueStatement(input: $input) { id } }",
            json!({ "input": { "patientId": me.assert_ok()["me"]["id"], "dueOn": due, "items": [
                { "description": "Office visit", "amount": "100.00" },
                { "description": "Lab work", "amount": "25.50" } ] } }),
            Some(&c.staff),
        )
        .await;
    let statement = issued.assert_ok()["issueStatement"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    (token, statement)
}

async fn billing(c: &Clinic, token: &str) -> Value {
    c.app.caught_up("care").await;
    c.app
        .graphql(BILLING, json!({}), Some(token))
        .await
        .assert_ok()["billing"]
        .clone()
}

/// The types of the statement's events, in the order they were written.
async fn event_types(c: &Clinic, statement: &str) -> Vec<String> {
    c.app
        .state()
        .pool
        .get()
        .await
        .unwrap()
        .query(
            "SELECT event_type FROM events WHERE stream_id = $1 ORDER BY position",
            &[&format!("statement-{statement}")],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect()
}

async fn checkout(c: &Clinic, token: &str, statement: &str, amount: Option<&str>) -> Value {
    c.app
        .graphql(
            PAY,
            json!({ "input": { "statementId": statement, "amount": amount } }),
            Some(token),
        )
        .await
        .assert_ok()["payStatement"]
        .clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_set_up_the_organizations_own_processor_account_and_its_keys_stay_sealed() {
    let processor = PaymentProcessor::start(API_KEY, WEBHOOK_SECRET).await;
    let url = processor.url.clone();
    let c = clinic_on(TestApp::spawn_with(|args| args.payments_api_url = url).await).await;
    let (token, statement) = billed_patient(&c).await;
    assert_eq!(billing(&c, &token).await["payOnline"], false);
    let off = c
        .app
        .graphql(
            PAY,
            json!({ "input": { "statementId": statement } }),
            Some(&token),
        )
        .await;
    assert_eq!(off.error_code(), "ONLINE_PAYMENTS_OFF");

    let publishable = c
        .app
        .graphql(
            SET_UP,
            json!({ "input": { "apiKey": "pk_test_51PortalStandIn0000abcd", "webhookSecret": "secret" } }),
            Some(&c.staff),
        )
        .await;
    let fields: Vec<(&str, &str)> = publishable.body["errors"][0]["extensions"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["field"].as_str().unwrap(), e["code"].as_str().unwrap()))
        .collect();
    assert_eq!(
        fields,
        [
            ("input.apiKey", "API_KEY_INVALID"),
            ("input.webhookSecret", "WEBHOOK_SECRET_INVALID")
        ],
        "{}",
        publishable.body
    );
    let by_patient = c
        .app
        .graphql(
            SET_UP,
            json!({ "input": { "apiKey": API_KEY, "webhookSecret": WEBHOOK_SECRET } }),
            Some(&token),
        )
        .await;
    assert_eq!(by_patient.error_code(), "FORBIDDEN");

    let set_up = c
        .app
        .graphql(
            SET_UP,
            json!({ "input": { "apiKey": API_KEY, "webhookSecret": WEBHOOK_SECRET } }),
            Some(&c.staff),
        )
        .await;
    let shown = set_up.assert_ok()["setPaymentProcessor"]["onlinePayments"].clone();
    assert_eq!(shown["enabled"], true);
    assert_eq!(shown["keyHint"], "…abcd");
    assert_eq!(shown["live"], false);
    assert_eq!(
        shown["webhookUrl"],
        format!("{}/payments/webhook/mayo", c.app.base)
    );
    let read_back = c
        .app
        .graphql(
            "query { onlinePayments { enabled keyHint webhookUrl } }",
            json!({}),
            Some(&c.staff),
        )
        .await;
    assert_eq!(read_back.assert_ok()["onlinePayments"]["keyHint"], "…abcd");
    let stored: i64 = c
        .app
        .state()
        .pool
        .get()
        .await
        .unwrap()
        .query_one(
            "SELECT count(*) FROM events WHERE data::text LIKE '%' || $1 || '%' OR data::text LIKE '%' || $2 || '%'",
            &[&API_KEY, &WEBHOOK_SECRET],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(stored, 0, "the keys reach the log sealed");
    assert_eq!(billing(&c, &token).await["payOnline"], true);

    let turned_off = c
        .app
        .graphql(
            "mutation { turnOffOnlinePayments { onlinePayments { enabled keyHint } } }",
            json!({}),
            Some(&c.staff),
        )
        .await;
    assert_eq!(
        turned_off.assert_ok()["turnOffOnlinePayments"]["onlinePayments"],
        json!({ "enabled": false, "keyHint": null })
    );
    let webhook = processor
        .deliver(&format!("{}/payments/webhook/mayo", c.app.base), &json!({}))
        .await;
    assert_eq!(
        webhook, 404,
        "no payments are taken at the address any more"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_statement_is_paid_online_once_however_often_the_processor_reports_it_and_a_refund_is_owed_again(
) {
    let processor = PaymentProcessor::start(API_KEY, WEBHOOK_SECRET).await;
    let (c, webhook) = clinic_paying_through(&processor).await;
    let (token, statement) = billed_patient(&c).await;

    let too_much = c
        .app
        .graphql(
            PAY,
            json!({ "input": { "statementId": statement, "amount": "125.51" } }),
            Some(&token),
        )
        .await;
    assert_eq!(too_much.error_code(), "OVERPAYMENT");
    assert_eq!(processor.session_count(), 0);

    // Part of the balance first; the same commandId again opens no second session.
    let command = uuid::Uuid::new_v4();
    let input =
        json!({ "input": { "statementId": statement, "amount": "40", "commandId": command } });
    let first = c.app.graphql(PAY, input.clone(), Some(&token)).await;
    let first = first.assert_ok()["payStatement"].clone();
    let again = c.app.graphql(PAY, input, Some(&token)).await;
    assert_eq!(again.assert_ok()["payStatement"]["id"], first["id"]);
    assert_eq!(processor.session_count(), 1);
    assert_eq!(first["amount"], "40.00");
    let session_id = first["id"].as_str().unwrap();
    assert_eq!(
        first["checkoutUrl"],
        format!("{}/c/pay/{session_id}", processor.url)
    );
    let session = processor.session(session_id);
    assert_eq!(session["amount_total"], 4000);
    assert_eq!(session["currency"], "usd");
    assert_eq!(session["client_reference_id"], statement.as_str());
    assert_eq!(session["metadata"]["statement_id"], statement.as_str());
    assert_eq!(
        session["success_url"],
        format!("{}/o/mayo/billing?paid={statement}", c.app.base)
    );
    assert_eq!(session["product_name"], "Statement from mayo CE");

    // The patient pays; the processor reports it, then reports it again, and once more by another event.
    let paid = processor.pay(session_id);
    assert_eq!(processor.deliver(&webhook, &paid).await, 200);
    assert_eq!(processor.deliver(&webhook, &paid).await, 200);
    let mut other_event = paid.clone();
    other_event["id"] = json!("evt_test_async");
    other_event["type"] = json!("checkout.session.async_payment_succeeded");
    assert_eq!(processor.deliver(&webhook, &other_event).await, 200);
    let intent = paid["data"]["object"]["payment_intent"]
        .as_str()
        .unwrap()
        .to_owned();
    let account = billing(&c, &token).await;
    assert_eq!(account["balance"], "85.50");
    assert_eq!(
        account["statements"][0]["payments"],
        json!([{ "amount": "40.00", "processorReference": intent, "refunded": "0.00" }]),
        "one payment, however often it was reported"
    );

    // Forged or replayed deliveries change nothing.
    let mut forged = processor.pay(session_id);
    forged["id"] = json!("evt_test_forged");
    forged["data"]["object"]["payment_intent"] = json!("pi_forged");
    let now = chrono::Utc::now().timestamp();
    assert_eq!(
        processor
            .deliver_signed(&webhook, &forged, "whsec_notTheRealSecret00", now)
            .await,
        400
    );
    assert_eq!(
        processor
            .deliver_signed(&webhook, &forged, WEBHOOK_SECRET, now - 301)
            .await,
        400,
        "a delivery signed more than five minutes ago is refused"
    );
    assert_eq!(billing(&c, &token).await["balance"], "85.50");

    // The rest of the balance: the whole balance is the default.
    let rest = checkout(&c, &token, &statement, None).await;
    assert_eq!(rest["amount"], "85.50");
    let paid_rest = processor.pay(rest["id"].as_str().unwrap());
    assert_eq!(processor.deliver(&webhook, &paid_rest).await, 200);
    let account = billing(&c, &token).await;
    assert_eq!(account["balance"], "0.00");
    assert_eq!(account["statements"][0]["status"], "paid");
    let settled = c
        .app
        .graphql(
            PAY,
            json!({ "input": { "statementId": statement } }),
            Some(&token),
        )
        .await;
    assert_eq!(settled.error_code(), "STATEMENT_PAID");

    // Billing staff refund 10.00 of the first payment from the processor's dashboard: it is owed again.
    let refund = processor.refund(&intent, 1000);
    assert_eq!(processor.deliver(&webhook, &refund).await, 200);
    assert_eq!(processor.deliver(&webhook, &refund).await, 200);
    let account = billing(&c, &token).await;
    assert_eq!(account["balance"], "10.00");
    assert_eq!(account["statements"][0]["status"], "open");
    let refunded: Vec<&Value> = account["statements"][0]["payments"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["refunded"] != "0.00")
        .collect();
    assert_eq!(
        refunded,
        [&json!({ "amount": "40.00", "processorReference": intent, "refunded": "10.00" })]
    );
    let too_large = processor.refund(&intent, 3001);
    assert_eq!(
        processor.deliver(&webhook, &too_large).await,
        200,
        "a refund above what is left of the payment cannot be recorded however often it comes"
    );
    assert_eq!(billing(&c, &token).await["balance"], "10.00");
    let unknown = processor.refund("pi_not_yet_reported", 500);
    assert_eq!(
        processor.deliver(&webhook, &unknown).await,
        503,
        "a refund of a payment not reported yet is asked for again later"
    );

    // An auditor replaying the statement sees each fact once.
    let kinds = event_types(&c, &statement).await;
    assert_eq!(
        kinds,
        [
            "StatementIssued",
            "PaymentReceived",
            "PaymentReceived",
            "RefundRecorded"
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_payment_above_the_balance_is_given_back_so_no_balance_goes_below_zero() {
    let processor = PaymentProcessor::start(API_KEY, WEBHOOK_SECRET).await;
    let (c, webhook) = clinic_paying_through(&processor).await;
    let (token, statement) = billed_patient(&c).await;
    // Two tabs, two checkouts of the whole balance, both paid.
    let one = checkout(&c, &token, &statement, None).await;
    let two = checkout(&c, &token, &statement, None).await;
    let paid_one = processor.pay(one["id"].as_str().unwrap());
    let paid_two = processor.pay(two["id"].as_str().unwrap());
    assert_eq!(processor.deliver(&webhook, &paid_one).await, 200);
    assert_eq!(processor.deliver(&webhook, &paid_two).await, 200);
    assert_eq!(processor.deliver(&webhook, &paid_two).await, 200);
    let refunds = processor.refunds();
    assert_eq!(refunds.len(), 1, "the second payment is refunded once");
    assert_eq!(
        refunds[0]["payment_intent"],
        paid_two["data"]["object"]["payment_intent"]
    );
    assert_eq!(refunds[0]["amount"], 12550);
    assert_eq!(refunds[0]["metadata"]["portal_reason"], "overpayment");
    // The processor then reports portal's own refund: it is not a refund of a recorded payment.
    let mut reported = refunds[0].clone();
    reported["created"] = json!(chrono::Utc::now().timestamp());
    let event = json!({ "id": "evt_test_refund_of_overpayment", "object": "event", "type": "refund.created",
                        "created": chrono::Utc::now().timestamp(), "data": { "object": reported } });
    assert_eq!(processor.deliver(&webhook, &event).await, 200);
    let account = billing(&c, &token).await;
    assert_eq!(account["balance"], "0.00");
    assert_eq!(
        account["statements"][0]["payments"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    // The log says what became of the money, once.
    let kinds = event_types(&c, &statement).await;
    assert_eq!(
        kinds,
        ["StatementIssued", "PaymentReceived", "PaymentReturned"]
    );
}
