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
    // `me` and the other queries read the accounts read model: wait until it holds the new account.
    app.caught_up("accounts").await;
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
        .graphql(
            "{ me { role termsAcceptedVersion } }",
            json!({}),
            Some(&token),
        )
        .await;
    assert_eq!(
        me.assert_ok()["me"]["termsAcceptedVersion"],
        Value::Null,
        "the page knows to show the terms"
    );
    let stale = app
        .graphql(
            "mutation { acceptTerms(version: 2) { position } }",
            json!({}),
            Some(&token),
        )
        .await;
    assert_eq!(stale.error_code(), "TERMS_VERSION_OUTDATED");
    let accepted = app
        .graphql(
            "mutation { acceptTerms(version: 1) { account { termsAcceptedVersion } } }",
            json!({}),
            Some(&token),
        )
        .await;
    assert_eq!(
        accepted.assert_ok()["acceptTerms"]["account"]["termsAcceptedVersion"],
        1
    );
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

/// RFC 6238 (HMAC-SHA1, 6 digits, 30 s) computed here, independently of portal's own implementation.
fn totp(base32_secret: &str, at: i64) -> String {
    use hmac::{Hmac, Mac};
    let mut bits = 0u64;
    let mut count = 0;
    let mut key = Vec::new();
    for c in base32_secret.bytes() {
        let value = match c {
            b'A'..=b'Z' => c - b'A',
            b'2'..=b'7' => c - b'2' + 26,
            _ => continue,
        };
        bits = (bits << 5) | u64::from(value);
        count += 5;
        if count >= 8 {
            key.push((bits >> (count - 8)) as u8);
            count -= 8;
        }
    }
    let mut mac = Hmac::<sha1::Sha1>::new_from_slice(&key).unwrap();
    mac.update(&((at / 30) as u64).to_be_bytes());
    let digest = mac.finalize().into_bytes();
    let offset = (digest[19] & 0x0f) as usize;
    let number = u32::from_be_bytes([
        digest[offset] & 0x7f,
        digest[offset + 1],
        digest[offset + 2],
        digest[offset + 3],
    ]);
    format!("{:06}", number % 1_000_000)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_authenticator_app_becomes_the_second_step_of_every_sign_in() {
    let (app, staff) = clinic().await;
    app.graphql(
        REGISTER,
        patient("MC900100", "grace@example.org"),
        Some(&staff),
    )
    .await
    .assert_ok();
    let token = signed_up(
        &app,
        json!({ "clinicNumber": "MC900100" }),
        "grace",
        "grace@example.org",
    )
    .await;

    let started = app
        .graphql(
            "mutation { startTotpEnrollment { secret otpauthUri } }",
            json!({}),
            Some(&token),
        )
        .await;
    let data = started.assert_ok()["startTotpEnrollment"].clone();
    let secret = data["secret"].as_str().unwrap().to_owned();
    assert!(data["otpauthUri"]
        .as_str()
        .unwrap()
        .starts_with("otpauth://totp/mayo%20CE:grace?secret="));
    let now = chrono::Utc::now().timestamp();
    let wrong = app
        .graphql(
            "mutation($code: String!) { confirmTotpEnrollment(code: $code) { recoveryCodes } }",
            json!({ "code": "000000" }),
            Some(&token),
        )
        .await;
    if totp(&secret, now) != "000000" {
        assert_eq!(wrong.error_code(), "SECOND_FACTOR_INVALID");
    }
    let confirmed = app
        .graphql("mutation($code: String!) { confirmTotpEnrollment(code: $code) { recoveryCodes position } }", json!({ "code": totp(&secret, now) }), Some(&token))
        .await;
    let confirmed = confirmed.assert_ok()["confirmTotpEnrollment"].clone();
    let recovery: Vec<String> = confirmed["recoveryCodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_owned())
        .collect();
    assert_eq!(recovery.len(), 10);
    let me = app
        .graphql(
            "query($at: LogPosition) { me(atLeast: $at) { twoStepEnabled username } }",
            json!({ "at": confirmed["position"] }),
            Some(&token),
        )
        .await;
    assert_eq!(
        me.assert_ok()["me"],
        json!({ "twoStepEnabled": true, "username": "grace" })
    );

    const SIGN_IN_2: &str = "mutation($input: SignInInput!) { signIn(input: $input) { token secondStepRequired challengeToken } }";
    let first = app
        .graphql(SIGN_IN_2, json!({ "input": { "organizationCode": "mayo", "username": "grace", "password": PASSWORD } }), None)
        .await;
    let first = first.assert_ok()["signIn"].clone();
    assert_eq!(first["secondStepRequired"], true);
    assert_eq!(
        first["token"],
        Value::Null,
        "no session before the second step"
    );
    const COMPLETE: &str =
        "mutation($input: CompleteSignInInput!) { completeSignIn(input: $input) { token } }";
    let answer = |challenge: &Value, code: &str| json!({ "input": { "organizationCode": "mayo", "challengeToken": challenge, "code": code } });
    // The code that confirmed the app was used: the next step's code (within the allowed drift) signs in.
    let used = app
        .graphql(
            COMPLETE,
            answer(&first["challengeToken"], &totp(&secret, now)),
            None,
        )
        .await;
    assert_eq!(
        used.error_code(),
        "SECOND_FACTOR_INVALID",
        "a code is accepted once"
    );
    let next = totp(&secret, now + 30);
    let session = app
        .graphql(COMPLETE, answer(&first["challengeToken"], &next), None)
        .await;
    let session_token = session.assert_ok()["completeSignIn"]["token"]
        .as_str()
        .unwrap()
        .to_owned();
    app.graphql("{ me { role } }", json!({}), Some(&session_token))
        .await
        .assert_ok();
    let replayed_challenge = app
        .graphql(COMPLETE, answer(&first["challengeToken"], &next), None)
        .await;
    assert_eq!(
        replayed_challenge.error_code(),
        "CHALLENGE_INVALID",
        "a challenge is answered once"
    );

    let second = app
        .graphql(SIGN_IN_2, json!({ "input": { "organizationCode": "mayo", "username": "grace", "password": PASSWORD } }), None)
        .await;
    let challenge = second.assert_ok()["signIn"]["challengeToken"].clone();
    let same_code = app.graphql(COMPLETE, answer(&challenge, &next), None).await;
    assert_eq!(
        same_code.error_code(),
        "SECOND_FACTOR_INVALID",
        "the same code does not work twice"
    );
    let by_recovery = app
        .graphql(
            COMPLETE,
            answer(&challenge, &recovery[0].to_uppercase()),
            None,
        )
        .await;
    assert!(by_recovery.assert_ok()["completeSignIn"]["token"].is_string());

    let third = app
        .graphql(SIGN_IN_2, json!({ "input": { "organizationCode": "mayo", "username": "grace", "password": PASSWORD } }), None)
        .await;
    let third = third.assert_ok()["signIn"].clone();
    let again = app
        .graphql(
            COMPLETE,
            answer(&third["challengeToken"], &recovery[0]),
            None,
        )
        .await;
    assert_eq!(
        again.error_code(),
        "SECOND_FACTOR_INVALID",
        "a recovery code works once"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_number_or_code_a_patient_asks_online_and_staff_approve_or_reject() {
    let (app, staff) = clinic().await;
    const REQUEST: &str = "mutation($input: RequestActivationCodeInput!) { requestActivationCode(input: $input) { message } }";
    let ask = |first: &str, email: &str| {
        json!({ "input": { "organizationCode": "mayo", "firstName": first, "lastName": "Hopper",
                           "dateOfBirth": "1956-12-09", "email": email, "phone": "612-555-0142" } })
    };
    let asked = app
        .graphql(REQUEST, ask("Grace", "grace@example.org"), None)
        .await;
    assert!(asked.assert_ok()["requestActivationCode"]["message"]
        .as_str()
        .unwrap()
        .contains("check your details"));
    app.graphql(REQUEST, ask("Mallory", "mallory@example.org"), None)
        .await
        .assert_ok();

    let at = app.caught_up("patients").await;
    const QUEUE: &str = "query($at: LogPosition) { signUpRequests(atLeast: $at) { id firstName email phone status } }";
    let queue = app.graphql(QUEUE, json!({ "at": at }), Some(&staff)).await;
    let queue = queue.assert_ok()["signUpRequests"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(queue.len(), 2);
    assert_eq!(queue[0]["firstName"], "Grace");
    assert_eq!(queue[0]["phone"], "+16125550142");

    let approved = app
        .graphql(
            "mutation($input: ApproveSignUpRequestInput!) { approveSignUpRequest(input: $input) { patientId } }",
            json!({ "input": { "requestId": queue[0]["id"], "clinicNumber": "MC424242" } }),
            Some(&staff),
        )
        .await;
    approved.assert_ok();
    let mail = app
        .mail_to(
            "grace@example.org",
            "Your mayo CE patient portal activation code",
        )
        .await;
    let code = mail
        .lines()
        .map(str::trim)
        .find(|l| l.len() == 14 && l.chars().filter(|c| *c == '-').count() == 2)
        .expect("the code in the e-mail")
        .to_owned();
    let grace = signed_up(
        &app,
        json!({ "activationCode": code }),
        "grace",
        "grace@example.org",
    )
    .await;
    let patient_asks = app.graphql(QUEUE, json!({}), Some(&grace)).await;
    assert_eq!(
        patient_asks.error_code(),
        "FORBIDDEN",
        "the queue is for staff"
    );

    let rejected = app
        .graphql(
            "mutation($id: ID!) { rejectSignUpRequest(requestId: $id, reason: \"No record, no answer at the number\") {
               position signUpRequest { id status } account { id } } }",
            json!({ "id": queue[1]["id"] }),
            Some(&staff),
        )
        .await;
    assert_eq!(
        rejected.assert_ok()["rejectSignUpRequest"],
        json!({ "position": rejected.body["data"]["rejectSignUpRequest"]["position"],
                "signUpRequest": { "id": queue[1]["id"], "status": "rejected" }, "account": null }),
        "the answer is the request, rejected"
    );
    app.mail_to("mallory@example.org", "Your mayo CE patient portal request")
        .await;
    let twice = app
        .graphql(
            "mutation($id: ID!) { rejectSignUpRequest(requestId: $id, reason: \"again\") { position } }",
            json!({ "id": queue[1]["id"] }),
            Some(&staff),
        )
        .await;
    assert_eq!(twice.error_code(), "REQUEST_DECIDED");
    let at = app.caught_up("patients").await;
    let pending = app.graphql(QUEUE, json!({ "at": at }), Some(&staff)).await;
    assert_eq!(pending.assert_ok()["signUpRequests"], json!([]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_code_by_email_or_text_can_be_the_second_step() {
    let (app, staff) = clinic().await;
    app.graphql(
        REGISTER,
        patient("MC910200", "grace@example.org"),
        Some(&staff),
    )
    .await
    .assert_ok();
    let token = signed_up(
        &app,
        json!({ "clinicNumber": "MC910200" }),
        "grace",
        "grace@example.org",
    )
    .await;
    const ENABLE: &str = "mutation($channel: CodeChannel!, $phone: String) { enableTwoStepCodes(channel: $channel, phone: $phone) { recoveryCodes } }";
    let unverified = app
        .graphql(
            ENABLE,
            json!({ "channel": "SMS", "phone": "+16125550142" }),
            Some(&token),
        )
        .await;
    assert_eq!(
        unverified.error_code(),
        "PHONE_NOT_FOUND",
        "only to a verified number"
    );
    let enabled = app
        .graphql(ENABLE, json!({ "channel": "EMAIL" }), Some(&token))
        .await;
    assert_eq!(
        enabled.assert_ok()["enableTwoStepCodes"]["recoveryCodes"]
            .as_array()
            .unwrap()
            .len(),
        10
    );

    const SIGN_IN_2: &str = "mutation($input: SignInInput!) { signIn(input: $input) { token secondStepRequired challengeToken } }";
    let input = json!({ "input": { "organizationCode": "mayo", "username": "grace", "password": PASSWORD } });
    let first = app.graphql(SIGN_IN_2, input.clone(), None).await;
    let challenge = first.assert_ok()["signIn"]["challengeToken"].clone();
    let too_soon = app.graphql(SIGN_IN_2, input, None).await;
    assert_eq!(
        too_soon.error_code(),
        "TWO_STEP_CODE_RATE_LIMITED",
        "one code a minute"
    );

    let mail = app
        .mail_to("grace@example.org", "Your mayo CE sign-in code")
        .await;
    let code: String = mail
        .split("Your sign-in code is ")
        .nth(1)
        .unwrap()
        .chars()
        .take(6)
        .collect();
    const COMPLETE: &str =
        "mutation($input: CompleteSignInInput!) { completeSignIn(input: $input) { token } }";
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let refused = app
        .graphql(COMPLETE, json!({ "input": { "organizationCode": "mayo", "challengeToken": challenge, "code": wrong } }), None)
        .await;
    assert_eq!(refused.error_code(), "SECOND_FACTOR_INVALID");
    let session = app
        .graphql(COMPLETE, json!({ "input": { "organizationCode": "mayo", "challengeToken": challenge, "code": code } }), None)
        .await;
    assert!(session.assert_ok()["completeSignIn"]["token"].is_string());
    let again = app
        .graphql(COMPLETE, json!({ "input": { "organizationCode": "mayo", "challengeToken": challenge, "code": code } }), None)
        .await;
    assert_eq!(again.error_code(), "CHALLENGE_INVALID", "a code works once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_organization_requiring_two_step_leads_patients_to_set_it_up_and_keeps_it_on() {
    let (app, staff) = clinic().await;
    let required = app
        .graphql(
            "mutation { setTwoStepRequirement(required: PATIENTS) { securityPolicy { twoStepRequired } } }",
            json!({}),
            Some(&staff),
        )
        .await;
    assert_eq!(
        required.assert_ok()["setTwoStepRequirement"]["securityPolicy"]["twoStepRequired"],
        "PATIENTS"
    );
    app.graphql(
        REGISTER,
        patient("MC910300", "hedy@example.org"),
        Some(&staff),
    )
    .await
    .assert_ok();
    let token = signed_up(
        &app,
        json!({ "clinicNumber": "MC910300" }),
        "hedy",
        "hedy@example.org",
    )
    .await;
    app.caught_up("organizations").await;

    // Signed in with the password alone: only setting two-step up (and the account itself) is open.
    let refused = app
        .graphql("{ myAppointments { id } }", json!({}), Some(&token))
        .await;
    assert_eq!(refused.error_code(), "TWO_STEP_SETUP_REQUIRED");
    for open in ["{ me { twoStepEnabled } }", "{ myPhones { id } }"] {
        app.graphql(open, json!({}), Some(&token)).await.assert_ok();
    }
    // Staff are not covered by a requirement for patients.
    app.graphql("{ patients { id } }", json!({}), Some(&staff))
        .await
        .assert_ok();

    app.graphql(
        "mutation { enableTwoStepCodes(channel: EMAIL) { recoveryCodes } }",
        json!({}),
        Some(&token),
    )
    .await
    .assert_ok();
    app.graphql("{ myAppointments { id } }", json!({}), Some(&token))
        .await
        .assert_ok();
    let off = app
        .graphql(
            "mutation($p: String!) { disableTwoStep(currentPassword: $p) { position } }",
            json!({ "p": PASSWORD }),
            Some(&token),
        )
        .await;
    assert_eq!(off.error_code(), "TWO_STEP_REQUIRED");
}
