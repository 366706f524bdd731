//! The patient portal's sign-up (issue 5, seed 001): patient records, the three ways in, lock after failures, terms.

use serde_json::{json, Value};

use super::support::{TestApp, PASSWORD};

const REGISTER: &str = "mutation($input: RegisterPatientInput!) { registerPatient(input: $input) { patientId activationCode position } }";
const SIGN_UP: &str =
    "mutation($input: SignUpPatientInput!) { signUpPatient(input: $input) { message position } }";
const SIGN_IN: &str =
    "mutation($input: SignInInput!) { signIn(input: $input) { token accountId position } }";

fn patient(number: &str, email: &str) -> Value {
    json!({ "input": { "clinicNumber": number, "firstName": "Grace", "lastName": "Hopper",
                       "dateOfBirth": "1956-12-09", "email": email, "phone": "(612) 555-0142" } })
}

fn sign_up(proof: Value, born: &str, username: &str, email: &str) -> Value {
    let mut input = json!({ "organizationCode": "mayo", "dateOfBirth": born, "username": username,
                            "email": email, "password": PASSWORD });
    for (key, value) in proof.as_object().unwrap() {
        input[key] = value.clone();
    }
    json!({ "input": input })
}

async fn clinic() -> (TestApp, String) {
    let app = TestApp::spawn().await;
    app.create_organization("mayo").await;
    let staff = app.staff("mayo", "desk@example.org").await;
    (app, staff.token)
}

/// Signs the patient up, follows the activation link and signs in with the username; returns the session token.
async fn signed_up(app: &TestApp, proof: Value, username: &str, email: &str) -> String {
    app.graphql(SIGN_UP, sign_up(proof, "1956-12-09", username, email), None)
        .await
        .assert_ok();
    let token = app.activation_token("mayo", email).await;
    app.activate(&token).await.assert_ok();
    let signed_in = app
        .graphql(SIGN_IN, json!({ "input": { "organizationCode": "mayo", "username": username, "password": PASSWORD } }), None)
        .await;
    signed_in.assert_ok()["signIn"]["token"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_patient_signs_up_with_the_clinic_number_and_date_of_birth() {
    let (app, staff) = clinic().await;
    app.graphql(
        REGISTER,
        patient("MC-100-200", "grace@example.org"),
        Some(&staff),
    )
    .await
    .assert_ok();
    let token = signed_up(
        &app,
        json!({ "clinicNumber": "mc100200" }),
        "grace.h",
        "grace@example.org",
    )
    .await;
    let me = app
        .graphql("{ me { role email } }", json!({}), Some(&token))
        .await;
    assert_eq!(
        me.assert_ok()["me"],
        json!({ "role": "PATIENT", "email": "grace@example.org" })
    );

    let again = app
        .graphql(
            SIGN_UP,
            sign_up(
                json!({ "clinicNumber": "MC100200" }),
                "1956-12-09",
                "grace2",
                "g2@example.org",
            ),
            None,
        )
        .await;
    assert_eq!(
        again.error_code(),
        "ALREADY_SIGNED_UP",
        "one record, one account"
    );

    let at = app.caught_up("patients").await;
    let records = app
        .graphql("query($at: LogPosition) { patients(search: \"hopper\", atLeast: $at) { clinicNumber accountId } }", json!({ "at": at }), Some(&staff))
        .await;
    let records = records.assert_ok()["patients"].clone();
    assert_eq!(records[0]["clinicNumber"], "MC100200");
    assert!(
        records[0]["accountId"].is_string(),
        "the record is linked: {records}"
    );
    let learner_asks = app
        .graphql("query { patients { id } }", json!({}), Some(&token))
        .await;
    assert_eq!(learner_asks.error_code(), "FORBIDDEN");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_patient_signs_up_with_the_emailed_activation_code() {
    let (app, staff) = clinic().await;
    let registered = app
        .graphql(
            REGISTER,
            patient("MC300400", "grace@example.org"),
            Some(&staff),
        )
        .await;
    let code = registered.assert_ok()["registerPatient"]["activationCode"]
        .as_str()
        .unwrap()
        .to_owned();
    let mail = app
        .mail_to(
            "grace@example.org",
            "Your mayo CE patient portal activation code",
        )
        .await;
    assert!(
        mail.contains(&code),
        "the e-mail carries the code handed out"
    );
    let token = signed_up(
        &app,
        json!({ "activationCode": code.to_lowercase() }),
        "grace",
        "grace@example.org",
    )
    .await;
    let me = app
        .graphql("{ me { role } }", json!({}), Some(&token))
        .await;
    assert_eq!(me.assert_ok()["me"]["role"], "PATIENT");
    let reused = app
        .graphql(
            SIGN_UP,
            sign_up(
                json!({ "activationCode": code }),
                "1956-12-09",
                "other",
                "o@example.org",
            ),
            None,
        )
        .await;
    assert_eq!(reused.error_code(), "SIGN_UP_REFUSED", "a code works once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_mismatch_gets_one_refusal_and_five_lock_the_record() {
    let (app, staff) = clinic().await;
    app.graphql(
        REGISTER,
        patient("MC500600", "grace@example.org"),
        Some(&staff),
    )
    .await
    .assert_ok();
    let unknown = app
        .graphql(
            SIGN_UP,
            sign_up(
                json!({ "clinicNumber": "MC999999" }),
                "1956-12-09",
                "grace",
                "grace@example.org",
            ),
            None,
        )
        .await;
    assert_eq!(unknown.error_code(), "SIGN_UP_REFUSED");
    let bad_code = app
        .graphql(
            SIGN_UP,
            sign_up(
                json!({ "activationCode": "ABCD-EFGH-JKMN" }),
                "1956-12-09",
                "grace",
                "grace@example.org",
            ),
            None,
        )
        .await;
    assert_eq!(bad_code.error_code(), "SIGN_UP_REFUSED");
    for _ in 0..5 {
        let wrong = app
            .graphql(
                SIGN_UP,
                sign_up(
                    json!({ "clinicNumber": "MC500600" }),
                    "1956-12-10",
                    "grace",
                    "grace@example.org",
                ),
                None,
            )
            .await;
        assert_eq!(wrong.error_code(), "SIGN_UP_REFUSED");
        assert_eq!(
            wrong.body["errors"][0]["message"], unknown.body["errors"][0]["message"],
            "the same words"
        );
    }
    let locked = app
        .graphql(
            SIGN_UP,
            sign_up(
                json!({ "clinicNumber": "MC500600" }),
                "1956-12-09",
                "grace",
                "grace@example.org",
            ),
            None,
        )
        .await;
    assert_eq!(
        locked.error_code(),
        "SIGN_UP_REFUSED",
        "the right date of birth is refused while locked"
    );
    let at = app.caught_up("patients").await;
    let listed = app
        .graphql("query($at: LogPosition) { patients(search: \"MC500600\", atLeast: $at) { id signUpLocked failedSignUps accountId } }", json!({ "at": at }), Some(&staff))
        .await;
    let record = listed.assert_ok()["patients"][0].clone();
    assert_eq!(record["signUpLocked"], true);
    assert_eq!(record["accountId"], Value::Null);

    // A new code from the desk lifts the lock, and the patient gets in with it.
    let issued = app
        .graphql(
            "mutation($id: ID!) { issuePatientCode(patientId: $id) { activationCode } }",
            json!({ "id": record["id"] }),
            Some(&staff),
        )
        .await;
    let code = issued.assert_ok()["issuePatientCode"]["activationCode"]
        .as_str()
        .unwrap()
        .to_owned();
    signed_up(
        &app,
        json!({ "activationCode": code }),
        "grace",
        "grace@example.org",
    )
    .await;

    let invalid = app
        .graphql(
            SIGN_UP,
            sign_up(json!({}), "31/12/1956", "x", "not-an-email"),
            None,
        )
        .await;
    let fields: Vec<&str> = invalid.body["errors"][0]["extensions"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap())
        .collect();
    assert_eq!(
        fields,
        vec![
            "PROOF_REQUIRED",
            "DATE_OF_BIRTH_INVALID",
            "USERNAME_INVALID",
            "EMAIL_INVALID"
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_account_accepts_the_terms_in_force_before_using_the_portal() {
    let (app, staff) = clinic().await;
    app.graphql(
        REGISTER,
        patient("MC700800", "grace@example.org"),
        Some(&staff),
    )
    .await
    .assert_ok();
    let token = signed_up(
        &app,
        json!({ "clinicNumber": "MC700800" }),
        "grace",
        "grace@example.org",
    )
    .await;
    const PUBLISH: &str =
        "mutation($input: PublishTermsInput!) { publishTerms(input: $input) { version position } }";
    let published = app
        .graphql(PUBLISH, json!({ "input": { "termsOfUse": "Use it well.", "privacyPractices": "We protect your data." } }), Some(&staff))
        .await;
    let data = published.assert_ok()["publishTerms"].clone();
    assert_eq!(data["version"], 1);
    let terms = app
        .graphql("query($at: LogPosition) { terms(organizationCode: \"mayo\", atLeast: $at) { version termsOfUse } }", json!({ "at": data["position"] }), None)
        .await;
    assert_eq!(
        terms.assert_ok()["terms"],
        json!({ "version": 1, "termsOfUse": "Use it well." })
    );

    const USE: &str = "{ calendar { edges { cursor } } }";
    let refused = app.graphql(USE, json!({}), Some(&token)).await;
    assert_eq!(refused.error_code(), "TERMS_NOT_ACCEPTED");
    let me = app
        .graphql("{ me { role } }", json!({}), Some(&token))
        .await;
    me.assert_ok();
    let stale = app
        .graphql(
            "mutation { acceptTerms(version: 2) { position } }",
            json!({}),
            Some(&token),
        )
        .await;
    assert_eq!(stale.error_code(), "TERMS_VERSION_OUTDATED");
    app.graphql(
        "mutation { acceptTerms(version: 1) { position } }",
        json!({}),
        Some(&token),
    )
    .await
    .assert_ok();
    app.graphql(USE, json!({}), Some(&token)).await.assert_ok();

    let second = app
        .graphql(PUBLISH, json!({ "input": { "termsOfUse": "Use it better.", "privacyPractices": "Still protected." } }), Some(&staff))
        .await;
    assert_eq!(second.assert_ok()["publishTerms"]["version"], 2);
    // The gate reads the version in force from the read model: wait until it holds version 2.
    app.graphql(
        "query($at: LogPosition) { terms(organizationCode: \"mayo\", atLeast: $at) { version } }",
        json!({ "at": second.assert_ok()["publishTerms"]["position"] }),
        None,
    )
    .await
    .assert_ok();
    let again = app.graphql(USE, json!({}), Some(&token)).await;
    assert_eq!(
        again.error_code(),
        "TERMS_NOT_ACCEPTED",
        "a new version asks again"
    );
    app.graphql(
        "mutation { acceptTerms(version: 2) { position } }",
        json!({}),
        Some(&token),
    )
    .await
    .assert_ok();
    app.graphql(USE, json!({}), Some(&token)).await.assert_ok();
}
