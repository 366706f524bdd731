//! Lockout, unlock, roles across the API (issue 3).

use serde_json::json;

use super::support::{TestApp, PASSWORD};

const LOCKED: &str = "query($at: LogPosition) { lockedAccounts(first: 10, atLeast: $at) { edges { cursor node { accountId email failureCount lockKind unlockAt } } pageInfo { hasNextPage endCursor } } }";
const UNLOCK: &str = "mutation($id: ID!) { unlockAccount(input: { accountId: $id }) { position } }";
const POLICY: &str =
    "mutation($input: SetSecurityPolicyInput!) { setSecurityPolicy(input: $input) { position } }";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_wrong_passwords_lock_the_account_until_staff_unlock_it_and_the_person_is_told() {
    let app = TestApp::spawn().await;
    app.create_organization("umncpd").await;
    let staff = app.staff("umncpd", "coordinator@example.org").await;
    app.graphql(
        POLICY,
        json!({ "input": { "lockoutThreshold": 5, "lockoutMode": "UNTIL_STAFF_UNLOCK" } }),
        Some(&staff.token),
    )
    .await
    .assert_ok();
    app.set_help_contacts(&staff.token).await;
    let learner = app.learner("umncpd", "ada@example.org").await;

    for _ in 0..5 {
        assert_eq!(
            app.sign_in("umncpd", "ada@example.org", "not my password at all")
                .await
                .error_code(),
            "INVALID_CREDENTIALS"
        );
    }
    let locked = app.sign_in("umncpd", "ada@example.org", PASSWORD).await;
    assert_eq!(locked.error_code(), "ACCOUNT_LOCKED");
    // The right password learns what to do under this organization's policy: ask its help desk, as the FAQ says.
    let error = &locked.body["errors"][0];
    assert_eq!(error["extensions"]["lock"], "UNTIL_STAFF_UNLOCK");
    assert!(error["extensions"].get("lockedUntil").is_none());
    assert_eq!(
        error["message"],
        "this account is locked after too many failed sign-ins; contact UMN Office of CPD at 612-626-7600 or \
         1-800-776-8636 (Monday to Friday, 8:00am to 4:30pm) or cmeinfo@umn.edu with your name and the e-mail \
         address of your account. Once we have unlocked your account, we will notify you by email"
    );
    // The lock also ended the session the learner had.
    assert_eq!(
        app.graphql("{ me { id } }", json!({}), Some(&learner.token))
            .await
            .error_code(),
        "UNAUTHENTICATED"
    );

    let mut listed = json!(null);
    for _ in 0..100 {
        listed = app
            .graphql(LOCKED, json!({}), Some(&staff.token))
            .await
            .assert_ok()
            .clone();
        if !listed["lockedAccounts"]["edges"]
            .as_array()
            .unwrap()
            .is_empty()
        {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let node = &listed["lockedAccounts"]["edges"][0]["node"];
    assert_eq!(node["accountId"], learner.account_id);
    assert_eq!(node["email"], "ada@example.org");
    assert_eq!(node["failureCount"], 5);
    assert_eq!(node["lockKind"], "UNTIL_STAFF_UNLOCK");
    assert_eq!(node["unlockAt"], serde_json::Value::Null);

    app.graphql(
        UNLOCK,
        json!({ "id": learner.account_id }),
        Some(&staff.token),
    )
    .await
    .assert_ok();
    let notice = app
        .mail_to("ada@example.org", "Your account was unlocked")
        .await;
    assert!(notice.contains("unlocked it"));
    app.sign_in("umncpd", "ada@example.org", PASSWORD)
        .await
        .assert_ok();
    let again = app
        .graphql(
            UNLOCK,
            json!({ "id": learner.account_id }),
            Some(&staff.token),
        )
        .await;
    assert_eq!(again.error_code(), "ACCOUNT_NOT_LOCKED");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn by_default_a_lock_is_a_cool_down_and_a_locked_wrong_password_looks_like_any_other() {
    let app = TestApp::spawn().await;
    app.create_organization("umncpd").await;
    let staff = app.staff("umncpd", "coordinator@example.org").await;
    app.learner("umncpd", "ada@example.org").await;
    let mut last = json!(null);
    for _ in 0..5 {
        last = app
            .sign_in("umncpd", "ada@example.org", "not my password at all")
            .await
            .body;
    }
    let locked_wrong = app
        .sign_in("umncpd", "ada@example.org", "not my password at all")
        .await;
    let unknown = app
        .sign_in("umncpd", "nobody@example.org", "not my password at all")
        .await;
    assert_eq!(locked_wrong.body, last);
    assert_eq!(locked_wrong.body, unknown.body);
    let locked = app.sign_in("umncpd", "ada@example.org", PASSWORD).await;
    assert_eq!(locked.error_code(), "ACCOUNT_LOCKED");
    // The right password learns when the cool-down ends.
    let error = &locked.body["errors"][0];
    assert_eq!(error["extensions"]["lock"], "COOL_DOWN");
    let until = error["extensions"]["lockedUntil"].as_str().unwrap();
    let until = chrono::DateTime::parse_from_rfc3339(until).unwrap();
    assert!(until > chrono::Utc::now(), "{error}");
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("try again after"),
        "{error}"
    );

    let mut node = json!(null);
    for _ in 0..100 {
        let listed = app
            .graphql(LOCKED, json!({}), Some(&staff.token))
            .await
            .assert_ok()
            .clone();
        node = listed["lockedAccounts"]["edges"][0]["node"].clone();
        if !node.is_null() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(node["lockKind"], "COOL_DOWN");
    assert!(node["unlockAt"].is_string());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_see_every_attempt_with_where_it_came_from() {
    let app = TestApp::spawn().await;
    app.create_organization("umncpd").await;
    let staff = app.staff("umncpd", "coordinator@example.org").await;
    let learner = app.learner("umncpd", "ada@example.org").await;
    let wrong = app
        .sign_in("umncpd", "ada@example.org", "not my password at all")
        .await;
    assert_eq!(wrong.error_code(), "INVALID_CREDENTIALS");
    let right = app.sign_in("umncpd", "ada@example.org", PASSWORD).await;
    let position = right.assert_ok()["signIn"]["position"].clone();
    let attempts = app
        .graphql(
            "query($id: ID!, $at: LogPosition) { signInAttempts(accountId: $id, atLeast: $at) { outcome clientIp userAgent } }",
            json!({ "id": learner.account_id, "at": position }),
            Some(&staff.token),
        )
        .await;
    let list = attempts.assert_ok()["signInAttempts"]
        .as_array()
        .unwrap()
        .clone();
    let outcomes: Vec<&str> = list
        .iter()
        .map(|a| a["outcome"].as_str().unwrap())
        .collect();
    assert_eq!(outcomes, vec!["SUCCEEDED", "WRONG_PASSWORD", "SUCCEEDED"]);
    assert!(list.iter().all(|a| a["clientIp"] == "127.0.0.1"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_learner_is_refused_staff_queries_and_other_peoples_data() {
    let app = TestApp::spawn().await;
    app.create_organization("umncpd").await;
    app.create_organization("other").await;
    let ada = app.learner("umncpd", "ada@example.org").await;
    let grace = app.learner("umncpd", "grace@example.org").await;
    let other_staff = app.staff("other", "coordinator@example.org").await;

    assert_eq!(
        app.graphql(LOCKED, json!({}), Some(&ada.token))
            .await
            .error_code(),
        "FORBIDDEN"
    );
    assert_eq!(
        app.graphql(UNLOCK, json!({ "id": grace.account_id }), Some(&ada.token))
            .await
            .error_code(),
        "FORBIDDEN"
    );
    let account = "query($id: ID!) { account(id: $id) { id email } }";
    assert_eq!(
        app.graphql(account, json!({ "id": grace.account_id }), Some(&ada.token))
            .await
            .error_code(),
        "FORBIDDEN"
    );
    let own = app
        .graphql(
            "query($id: ID!, $at: LogPosition) { account(id: $id, atLeast: $at) { email } }",
            json!({ "id": ada.account_id, "at": ada.position }),
            Some(&ada.token),
        )
        .await;
    assert_eq!(own.assert_ok()["account"]["email"], "ada@example.org");
    let attempts = "query($id: ID!) { signInAttempts(accountId: $id) { outcome } }";
    assert_eq!(
        app.graphql(
            attempts,
            json!({ "id": grace.account_id }),
            Some(&ada.token)
        )
        .await
        .error_code(),
        "FORBIDDEN"
    );

    // Staff of another organization see nothing of this one, and cannot act on it.
    let across = app
        .graphql(
            account,
            json!({ "id": ada.account_id }),
            Some(&other_staff.token),
        )
        .await;
    assert_eq!(across.assert_ok()["account"], serde_json::Value::Null);
    let across = app
        .graphql(
            attempts,
            json!({ "id": ada.account_id }),
            Some(&other_staff.token),
        )
        .await;
    assert_eq!(across.assert_ok()["signInAttempts"], json!([]));
    let unlock = app
        .graphql(
            UNLOCK,
            json!({ "id": ada.account_id }),
            Some(&other_staff.token),
        )
        .await;
    assert_eq!(unlock.error_code(), "ACCOUNT_NOT_FOUND");
    assert_eq!(
        app.graphql(
            POLICY,
            json!({ "input": { "lockoutThreshold": 3, "lockoutMode": "COOL_DOWN" } }),
            Some(&ada.token)
        )
        .await
        .error_code(),
        "FORBIDDEN"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_is_rate_limited_per_address_and_each_alias_counts() {
    let app = TestApp::spawn_with(|args| args.sign_in_per_minute = 3).await;
    app.create_organization("umncpd").await;
    let aliased = "mutation { a: signIn(input: { organizationCode: \"umncpd\", email: \"x@example.org\", password: \"whatever it is\" }) { token }
                              b: signIn(input: { organizationCode: \"umncpd\", email: \"x@example.org\", password: \"whatever it is\" }) { token }
                              c: signIn(input: { organizationCode: \"umncpd\", email: \"x@example.org\", password: \"whatever it is\" }) { token }
                              d: signIn(input: { organizationCode: \"umncpd\", email: \"x@example.org\", password: \"whatever it is\" }) { token } }";
    let answer = app.graphql(aliased, json!({}), None).await;
    let codes: Vec<&str> = answer.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["extensions"]["code"].as_str().unwrap())
        .collect();
    assert_eq!(
        codes
            .iter()
            .filter(|c| **c == "INVALID_CREDENTIALS")
            .count(),
        3,
        "{codes:?}"
    );
    assert_eq!(
        codes.iter().filter(|c| **c == "RATE_LIMITED").count(),
        1,
        "{codes:?}"
    );
    assert_eq!(
        app.sign_in("umncpd", "x@example.org", "whatever it is")
            .await
            .error_code(),
        "RATE_LIMITED"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_policy_out_of_range_is_refused() {
    let app = TestApp::spawn().await;
    app.create_organization("umncpd").await;
    let staff = app.staff("umncpd", "coordinator@example.org").await;
    let answer = app
        .graphql(
            POLICY,
            json!({ "input": { "lockoutThreshold": 0, "lockoutMode": "COOL_DOWN" } }),
            Some(&staff.token),
        )
        .await;
    assert_eq!(answer.error_code(), "POLICY_INVALID");
    let answer = app
        .graphql(
            POLICY,
            json!({ "input": { "lockoutThreshold": -1, "lockoutMode": "COOL_DOWN" } }),
            Some(&staff.token),
        )
        .await;
    assert_eq!(answer.error_code(), "POLICY_INVALID");
    assert_eq!(
        answer.body["errors"][0]["extensions"]["field"],
        "input.lockoutThreshold"
    );
}

const INVITE: &str =
    "mutation($input: InviteStaffInput!) { inviteStaff(input: $input) { message } }";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_invite_staff_who_choose_a_password_from_the_link_and_act_as_staff() {
    let app = TestApp::spawn().await;
    app.create_organization("umncpd").await;
    let staff = app.staff("umncpd", "coordinator@example.org").await;
    let learner = app.learner("umncpd", "ada@example.org").await;
    let input = json!({ "input": { "firstName": "Grace", "lastName": "Hopper", "email": "grace@example.org" } });
    assert_eq!(
        app.graphql(INVITE, input.clone(), Some(&learner.token))
            .await
            .error_code(),
        "FORBIDDEN"
    );
    app.graphql(INVITE, input, Some(&staff.token))
        .await
        .assert_ok();

    let token = app
        .link_token(
            "grace@example.org",
            "You are invited",
            "/reset-password",
            &[],
        )
        .await;
    assert!(!app
        .mails()
        .iter()
        .any(|m| m.contains("To: grace@example.org") && m.contains("Subject: Activate")));
    app.running
        .as_ref()
        .unwrap()
        .state
        .advance_clock(chrono::Duration::hours(71));
    app.graphql(
        "mutation($t: String!) { resetPassword(input: { token: $t, newPassword: \"grace's own passphrase\" }) { position } }",
        json!({ "t": token }),
        None,
    )
    .await
    .assert_ok();
    let signed_in = app
        .sign_in("umncpd", "grace@example.org", "grace's own passphrase")
        .await;
    let grace = signed_in.assert_ok()["signIn"]["token"]
        .as_str()
        .unwrap()
        .to_owned();
    app.graphql(LOCKED, json!({}), Some(&grace))
        .await
        .assert_ok();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_disabled_account_cannot_sign_in_and_its_sessions_end_until_staff_enable_it() {
    let app = TestApp::spawn().await;
    app.create_organization("umncpd").await;
    let staff = app.staff("umncpd", "coordinator@example.org").await;
    let learner = app.learner("umncpd", "ada@example.org").await;
    let set = "mutation($id: ID!, $d: Boolean!) { setAccountDisabled(input: { accountId: $id, disabled: $d }) { position } }";
    assert_eq!(
        app.graphql(
            set,
            json!({ "id": learner.account_id, "d": true }),
            Some(&learner.token)
        )
        .await
        .error_code(),
        "FORBIDDEN"
    );
    app.graphql(
        set,
        json!({ "id": learner.account_id, "d": true }),
        Some(&staff.token),
    )
    .await
    .assert_ok();
    assert_eq!(
        app.graphql("{ me { id } }", json!({}), Some(&learner.token))
            .await
            .error_code(),
        "UNAUTHENTICATED"
    );
    assert_eq!(
        app.sign_in("umncpd", "ada@example.org", PASSWORD)
            .await
            .error_code(),
        "ACCOUNT_DISABLED"
    );
    let wrong = app
        .sign_in("umncpd", "ada@example.org", "not my password at all")
        .await;
    let unknown = app
        .sign_in("umncpd", "nobody@example.org", "not my password at all")
        .await;
    assert_eq!(wrong.body, unknown.body);
    let again = app
        .graphql(
            set,
            json!({ "id": learner.account_id, "d": true }),
            Some(&staff.token),
        )
        .await;
    assert_eq!(
        again.assert_ok()["setAccountDisabled"]["position"],
        serde_json::Value::Null
    );
    app.graphql(
        set,
        json!({ "id": learner.account_id, "d": false }),
        Some(&staff.token),
    )
    .await
    .assert_ok();
    app.sign_in("umncpd", "ada@example.org", PASSWORD)
        .await
        .assert_ok();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_second_step_codes_lock_the_account_and_the_right_one_then_reads_the_same_locked_answer(
) {
    let app = TestApp::spawn().await;
    app.create_organization("umncpd").await;
    let staff = app.staff("umncpd", "coordinator@example.org").await;
    app.graphql(
        POLICY,
        json!({ "input": { "lockoutThreshold": 3, "lockoutMode": "UNTIL_STAFF_UNLOCK" } }),
        Some(&staff.token),
    )
    .await
    .assert_ok();
    app.set_help_contacts(&staff.token).await;
    let learner = app.learner("umncpd", "ada@example.org").await;
    app.graphql(
        "mutation { enableTwoStepCodes(channel: EMAIL) { recoveryCodes } }",
        json!({}),
        Some(&learner.token),
    )
    .await
    .assert_ok();

    let signed_in = app
        .graphql(
            "mutation($input: SignInInput!) { signIn(input: $input) { challengeToken } }",
            json!({ "input": { "organizationCode": "umncpd", "email": "ada@example.org", "password": PASSWORD } }),
            None,
        )
        .await;
    let challenge = signed_in.assert_ok()["signIn"]["challengeToken"].clone();
    assert!(challenge.is_string(), "{}", signed_in.body);
    let mail = app
        .mail_to("ada@example.org", "Your umncpd CE sign-in code")
        .await;
    let code: String = mail
        .split("Your sign-in code is ")
        .nth(1)
        .expect("a code in the e-mail")
        .chars()
        .take(6)
        .collect();
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let complete = |code: &str| {
        app.graphql(
            "mutation($input: CompleteSignInInput!) { completeSignIn(input: $input) { token } }",
            json!({ "input": { "organizationCode": "umncpd", "challengeToken": challenge, "code": code } }),
            None,
        )
    };
    for _ in 0..2 {
        assert_eq!(complete(wrong).await.error_code(), "SECOND_FACTOR_INVALID");
    }
    let locking = complete(wrong).await;
    assert_eq!(
        locking.error_code(),
        "ACCOUNT_LOCKED",
        "the failure that locks says so"
    );
    let locked = complete(&code).await;
    assert_eq!(
        locked.body["errors"][0]["message"],
        locking.body["errors"][0]["message"]
    );
    assert_eq!(locked.error_code(), "ACCOUNT_LOCKED");
    let error = &locked.body["errors"][0];
    assert_eq!(error["extensions"]["lock"], "UNTIL_STAFF_UNLOCK");
    assert_eq!(
        error["message"],
        "this account is locked after too many failed sign-ins; contact UMN Office of CPD at 612-626-7600 or \
         1-800-776-8636 (Monday to Friday, 8:00am to 4:30pm) or cmeinfo@umn.edu with your name and the e-mail \
         address of your account. Once we have unlocked your account, we will notify you by email",
        "the second step answers a lock as the first step does"
    );
    assert_eq!(
        app.sign_in("umncpd", "ada@example.org", PASSWORD)
            .await
            .body["errors"][0]["message"],
        error["message"]
    );
}
