//! Accounts end to end through the command handlers, against PostgreSQL.

use chrono::{Duration, Utc};
use portal_commands::accounts::{self, NewAccount};
use portal_commands::handler::{CommandContext, CommandError};
use portal_commands::log::{EventLog, PgEventLog};
use portal_commands::organizations::{self, OrganizationSummary};
use portal_commands::testing::{pg_store, TestDatabase};
use portal_commands::{sessions, Store};
use portal_domain::account::{AccountError, AccountState, Role};
use portal_domain::session::SessionError;
use portal_domain::values::{
    EmailAddress, NamePart, OrganizationCode, OrganizationName, Password, PersonName,
};
use portal_domain::Personal;
use uuid::Uuid;

use portal_commands::credentials::BreachedPasswords;

const PASSWORD: &str = "violet tractor sings at noon";

async fn setup() -> (TestDatabase, Store<PgEventLog>, OrganizationSummary) {
    let database = TestDatabase::migrated().await;
    let store = pg_store(&database);
    let code = OrganizationCode::parse("umncpd").unwrap();
    organizations::create(
        &store,
        code.clone(),
        OrganizationName::parse("UMN CPD").unwrap(),
        &CommandContext::system(),
    )
    .await
    .unwrap();
    let org = organizations::find_by_code(&store, &code)
        .await
        .unwrap()
        .unwrap();
    (database, store, org)
}

fn new_account(email: &str) -> NewAccount {
    NewAccount {
        name: PersonName {
            title: None,
            first: NamePart::parse("Ada").unwrap(),
            middle: None,
            last: NamePart::parse("Lovelace").unwrap(),
        },
        email: EmailAddress::parse(email).unwrap(),
        password: Password::parse(PASSWORD, &BreachedPasswords).unwrap(),
        role: Role::Learner,
    }
}

/// Registers an account and follows its activation link; returns the (now used) token.
async fn activated(store: &Store<PgEventLog>, org: &OrganizationSummary, email: &str) -> String {
    let token = accounts::register(store, org, new_account(email), &CommandContext::system())
        .await
        .unwrap()
        .activation_token
        .unwrap();
    accounts::activate(store, &token, &CommandContext::system())
        .await
        .unwrap();
    token
}

/// Each message: recipient, kind, and its text as the default template renders it (its sealed link or code
/// opened, as the delivery worker does).
async fn outbox(
    database: &TestDatabase,
    store: &Store<PgEventLog>,
) -> Vec<(String, String, String)> {
    let client = database.pool.get().await.unwrap();
    client
        .query(
            "SELECT recipient, kind, data FROM outbox ORDER BY created_at, kind",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| {
            let kind: String = r.get(1);
            let mut data: serde_json::Value = r.get(2);
            portal_commands::outbox::open(&store.secrets, &mut data, Utc::now()).unwrap();
            let mut data = data.as_object().unwrap().clone();
            data.insert("organization".into(), "UMN CPD".into());
            let parsed = portal_domain::values::MessageKind::parse(&kind).unwrap();
            let rendered = portal_commands::templates::render(parsed, None, &data.into()).unwrap();
            (r.get(0), kind, rendered.text)
        })
        .collect()
}

#[tokio::test]
async fn registering_writes_the_activation_link_to_the_outbox_and_activating_it_lets_the_person_sign_in(
) {
    let (database, store, org) = setup().await;
    let registered = accounts::register(
        &store,
        &org,
        new_account("ada@example.org"),
        &CommandContext::system(),
    )
    .await
    .unwrap();
    let token = registered.activation_token.unwrap();
    let mail = outbox(&database, &store).await;
    assert_eq!(mail.len(), 1);
    assert_eq!(mail[0].0, "ada@example.org");
    assert!(mail[0].2.contains(&format!(
        "http://portal.test/o/umncpd/activate?token={token}"
    )));

    let email = EmailAddress::parse("ADA@example.org").unwrap();
    let refused =
        accounts::sign_in(&store, &org, &email, PASSWORD, &CommandContext::system()).await;
    assert!(matches!(
        refused,
        Err(CommandError::Rejected(AccountError::NotActivated))
    ));

    accounts::activate(&store, &token, &CommandContext::system())
        .await
        .unwrap();
    let signed_in = accounts::sign_in(&store, &org, &email, PASSWORD, &CommandContext::system())
        .await
        .unwrap();
    let principal = sessions::authenticate(&store, &signed_in.token, Utc::now())
        .await
        .unwrap();
    assert_eq!(principal.account, registered.account.unwrap());
    assert_eq!(principal.organization, org.id);
}

#[tokio::test]
async fn an_activation_link_works_once() {
    let (_database, store, org) = setup().await;
    let token = activated(&store, &org, "ada@example.org").await;
    let again = accounts::activate(&store, &token, &CommandContext::system()).await;
    assert!(matches!(
        again,
        Err(CommandError::Rejected(AccountError::ActivationTokenUsed))
    ));
}

#[tokio::test]
async fn an_activation_link_expires_after_72_hours() {
    let (_database, store, org) = setup().await;
    let token = accounts::register(
        &store,
        &org,
        new_account("ada@example.org"),
        &CommandContext::system(),
    )
    .await
    .unwrap()
    .activation_token
    .unwrap();
    let later = CommandContext {
        now: Utc::now() + Duration::hours(73),
        ..CommandContext::system()
    };
    let result = accounts::activate(&store, &token, &later).await;
    assert!(matches!(
        result,
        Err(CommandError::Rejected(AccountError::ActivationTokenExpired))
    ));
}

#[tokio::test]
async fn an_unknown_activation_token_is_refused() {
    let (_database, store, _org) = setup().await;
    let (forged, _) = portal_commands::credentials::new_token(Uuid::new_v4());
    for token in ["garbage", forged.as_str()] {
        let result = accounts::activate(&store, token, &CommandContext::system()).await;
        assert!(
            matches!(
                result,
                Err(CommandError::Rejected(AccountError::ActivationTokenInvalid))
            ),
            "{token}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_concurrent_registrations_of_one_address_create_exactly_one_account() {
    let (database, store, org) = setup().await;
    let attempts: Vec<_> = (0..12)
        .map(|i| {
            let (store, org) = (store.clone(), org.clone());
            // The same address in different cases: uniqueness ignores case.
            let email = if i % 2 == 0 {
                "ada@example.org"
            } else {
                "ADA@Example.org"
            };
            tokio::spawn(async move {
                accounts::register(&store, &org, new_account(email), &CommandContext::system())
                    .await
            })
        })
        .collect();
    let mut created = 0;
    for attempt in attempts {
        if attempt.await.unwrap().unwrap().account.is_some() {
            created += 1;
        }
    }
    assert_eq!(created, 1);
    let client = database.pool.get().await.unwrap();
    let registered: i64 = client
        .query_one(
            "SELECT count(*) FROM events WHERE event_type = 'AccountRegistered'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(registered, 1);
    let repeated: i64 = client
        .query_one(
            "SELECT count(*) FROM events WHERE event_type = 'RegistrationRepeated'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(
        repeated, 11,
        "every other attempt is noted on the one account"
    );
    let mail = outbox(&database, &store).await;
    assert_eq!(mail.iter().filter(|m| m.1 == "activation").count(), 1);
    assert_eq!(
        mail.iter()
            .filter(|m| m.1 == "repeated_registration")
            .count(),
        11
    );
}

#[tokio::test]
async fn a_retried_registration_with_the_same_command_id_appends_nothing() {
    let (database, store, org) = setup().await;
    let ctx = CommandContext::system();
    let first = accounts::register(&store, &org, new_account("ada@example.org"), &ctx)
        .await
        .unwrap();
    let retry = accounts::register(&store, &org, new_account("ada@example.org"), &ctx)
        .await
        .unwrap();
    assert_eq!(retry.last_position, first.last_position);
    assert!(retry.account.is_none());
    let client = database.pool.get().await.unwrap();
    let events: i64 = client
        .query_one(
            "SELECT count(*) FROM events WHERE stream_id LIKE 'account-%'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(events, 2);
}

#[tokio::test]
async fn a_retried_sign_in_returns_the_same_session() {
    let (_database, store, org) = setup().await;
    activated(&store, &org, "ada@example.org").await;
    let ctx = CommandContext::system();
    let email = EmailAddress::parse("ada@example.org").unwrap();
    let first = accounts::sign_in(&store, &org, &email, PASSWORD, &ctx)
        .await
        .unwrap();
    let retry = accounts::sign_in(&store, &org, &email, PASSWORD, &ctx)
        .await
        .unwrap();
    assert_eq!(first, retry);
    // With another password the retry is an attempt of its own (checked and counted), not the first answer.
    let guessed = accounts::sign_in(&store, &org, &email, "another password entirely", &ctx).await;
    assert!(matches!(
        guessed,
        Err(CommandError::Rejected(AccountError::InvalidCredentials))
    ));
}

#[tokio::test]
async fn an_unknown_address_and_a_wrong_password_are_refused_alike() {
    let (_database, store, org) = setup().await;
    activated(&store, &org, "ada@example.org").await;
    let unknown = EmailAddress::parse("nobody@example.org").unwrap();
    let known = EmailAddress::parse("ada@example.org").unwrap();
    let a = accounts::sign_in(&store, &org, &unknown, PASSWORD, &CommandContext::system())
        .await
        .unwrap_err();
    let b = accounts::sign_in(
        &store,
        &org,
        &known,
        "not the password at all",
        &CommandContext::system(),
    )
    .await
    .unwrap_err();
    assert_eq!(a.code(), "INVALID_CREDENTIALS");
    assert_eq!(b.code(), "INVALID_CREDENTIALS");
    assert_eq!(a.to_string(), b.to_string());
}

#[tokio::test]
async fn signing_out_ends_the_session() {
    let (_database, store, org) = setup().await;
    activated(&store, &org, "ada@example.org").await;
    let email = EmailAddress::parse("ada@example.org").unwrap();
    let signed_in = accounts::sign_in(&store, &org, &email, PASSWORD, &CommandContext::system())
        .await
        .unwrap();
    let principal = sessions::authenticate(&store, &signed_in.token, Utc::now())
        .await
        .unwrap();
    sessions::sign_out(&store, &principal, &CommandContext::system())
        .await
        .unwrap();
    let after = sessions::authenticate(&store, &signed_in.token, Utc::now()).await;
    assert!(matches!(
        after,
        Err(CommandError::Rejected(SessionError::Invalid))
    ));
}

#[tokio::test]
async fn personal_data_never_reaches_the_log_in_clear() {
    let (database, store, org) = setup().await;
    let registered = accounts::register(
        &store,
        &org,
        new_account("ada@example.org"),
        &CommandContext::system(),
    )
    .await
    .unwrap();
    let token = registered.activation_token.unwrap();
    let client = database.pool.get().await.unwrap();
    let log: String = client
        .query_one(
            "SELECT string_agg(data::text || metadata::text, ' ') FROM events",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    for secret in ["ada@example.org", "Lovelace", "argon2id", token.as_str()] {
        assert!(!log.contains(secret), "{secret} is in the log");
    }
    // Read back through the key ring, the data is all there.
    let state = accounts::load(&store, registered.account.unwrap())
        .await
        .unwrap();
    let AccountState::Pending(profile) = state else {
        panic!("pending")
    };
    assert_eq!(
        profile.email,
        Personal::Known(EmailAddress::parse("ada@example.org").unwrap())
    );
}

/// The client address and user agent of an account's first event, as a reader with the keys sees them.
async fn first_client(
    store: &Store<PgEventLog>,
    account: portal_domain::AccountId,
) -> (Option<String>, Option<String>) {
    let stream = portal_commands::accounts::stream(account);
    let mut first = store.log.read_stream(&stream).await.unwrap().remove(0);
    store.decrypt(&mut first).await.unwrap();
    (first.metadata.client_ip, first.metadata.user_agent)
}

#[tokio::test]
async fn where_a_person_acted_from_is_kept_with_their_key_and_goes_with_it() {
    let (database, store, org) = setup().await;
    let ctx = CommandContext {
        client_ip: Some("203.0.113.7".into()),
        user_agent: Some("TestBrowser/1.0".into()),
        actor: portal_commands::handler::Actor::Anonymous,
        ..CommandContext::system()
    };
    let registered = accounts::register(&store, &org, new_account("ada@example.org"), &ctx)
        .await
        .unwrap();
    let account = registered.account.unwrap();
    let client = database.pool.get().await.unwrap();
    let raw: String = client
        .query_one("SELECT string_agg(metadata::text, ' ') FROM events", &[])
        .await
        .unwrap()
        .get(0);
    let before = first_client(&store, account).await;

    portal_commands::erasure::erase_person(
        &store,
        &org,
        account,
        portal_domain::account::ErasedBy::Retention {
            rule: "test".into(),
        },
        &CommandContext::system(),
    )
    .await
    .unwrap();
    let after = first_client(&store, account).await;

    for value in ["203.0.113.7", "TestBrowser"] {
        assert!(!raw.contains(value), "{value} is in the log in clear");
    }
    assert_eq!(
        before,
        (Some("203.0.113.7".into()), Some("TestBrowser/1.0".into()))
    );
    assert_eq!(after, (None, None));
}

#[tokio::test]
async fn resending_activation_issues_a_new_link_only_for_a_pending_account() {
    let (database, store, org) = setup().await;
    let ada = EmailAddress::parse("ada@example.org").unwrap();
    accounts::register(
        &store,
        &org,
        new_account("ada@example.org"),
        &CommandContext::system(),
    )
    .await
    .unwrap();
    let token = accounts::resend_activation(&store, &org, &ada, &CommandContext::system())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(outbox(&database, &store).await.len(), 2);
    accounts::activate(&store, &token, &CommandContext::system())
        .await
        .unwrap();
    assert!(
        accounts::resend_activation(&store, &org, &ada, &CommandContext::system())
            .await
            .unwrap()
            .is_none()
    );
    let nobody = EmailAddress::parse("nobody@example.org").unwrap();
    assert!(
        accounts::resend_activation(&store, &org, &nobody, &CommandContext::system())
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(outbox(&database, &store).await.len(), 2);
}
