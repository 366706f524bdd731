//! Spawning the app and talking to it.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use portal_commands::secrets::MasterKey;
use portal_commands::testing::TestDatabase;
use portal_gateway::app::{self, Running};
use portal_gateway::cli::ServeArgs;
use reqwest::StatusCode;
use serde_json::{json, Value};
use uuid::Uuid;

pub const PASSWORD: &str = "violet tractor sings at noon";

pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    pub mail_dir: PathBuf,
    pub running: Option<Running>,
    pub database: TestDatabase,
}

pub struct Answer {
    pub status: StatusCode,
    pub content_type: String,
    pub body: Value,
}

impl Answer {
    /// The `code` of the first error; panics when there is none.
    pub fn error_code(&self) -> &str {
        self.body["errors"][0]["extensions"]["code"]
            .as_str()
            .unwrap_or_else(|| panic!("no error in {}", self.body))
    }

    /// The `message` of the first error; panics when there is none.
    pub fn error_message(&self) -> &str {
        self.body["errors"][0]["message"]
            .as_str()
            .unwrap_or_else(|| panic!("no error in {}", self.body))
    }

    pub fn assert_ok(&self) -> &Value {
        assert!(
            self.body.get("errors").is_none(),
            "unexpected errors: {}",
            self.body
        );
        &self.body["data"]
    }
}

pub struct Learner {
    pub account_id: String,
    pub token: String,
    pub position: i64,
}

impl TestApp {
    pub async fn spawn() -> Self {
        Self::spawn_with(|_| {}).await
    }

    pub async fn spawn_with(configure: impl FnOnce(&mut ServeArgs)) -> Self {
        Self::spawn_on(
            TestDatabase::empty().await,
            MasterKey::generate(),
            configure,
        )
        .await
    }

    /// The app on a given database with a given master key (a second process, or a restored copy).
    pub async fn spawn_on(
        database: TestDatabase,
        key: MasterKey,
        configure: impl FnOnce(&mut ServeArgs),
    ) -> Self {
        let mail_dir =
            std::env::temp_dir().join(format!("portal-test-mail-{}", Uuid::new_v4().simple()));
        let mut args = ServeArgs {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            ..ServeArgs::default()
        };
        args.delivery.mail_dir = mail_dir.clone();
        configure(&mut args);
        let running = app::start(database.config.clone(), 8, key, &args)
            .await
            .expect("app starts");
        let base = format!("http://{}", running.addr);
        Self {
            base,
            client: reqwest::Client::new(),
            mail_dir,
            running: Some(running),
            database,
        }
    }

    /// The running app's shared state (its pool, store and clock).
    pub fn state(&self) -> &portal_gateway::app::AppState {
        &self.running.as_ref().expect("the app is running").state
    }

    /// Runs `sql` as the analysts' database role; the SQLSTATE when it is refused.
    pub async fn as_analyst(&self, sql: &str) -> Result<Vec<String>, String> {
        let mut client = self.state().pool.get().await.unwrap();
        let tx = client.transaction().await.unwrap();
        tx.batch_execute("SET LOCAL ROLE portal_analyst")
            .await
            .unwrap();
        let result = tx
            .query(&format!("SELECT t::text FROM ({sql}) t"), &[])
            .await
            .map(|rows| rows.iter().map(|r| r.get(0)).collect())
            .map_err(|e| {
                e.as_db_error()
                    .map(|d| d.code().code().to_owned())
                    .unwrap_or_default()
            });
        tx.rollback().await.unwrap();
        result
    }

    pub async fn post_raw(
        &self,
        content_type: Option<&str>,
        accept: Option<&str>,
        body: &str,
    ) -> Answer {
        let mut request = self
            .client
            .post(format!("{}/graphql", self.base))
            .body(body.to_owned());
        if let Some(content_type) = content_type {
            request = request.header("content-type", content_type);
        }
        if let Some(accept) = accept {
            request = request.header("accept", accept);
        }
        answer(request.send().await.unwrap()).await
    }

    pub async fn get_query(
        &self,
        params: &[(&str, &str)],
        accept: Option<&str>,
    ) -> (Answer, Option<String>) {
        let mut request = self
            .client
            .get(format!("{}/graphql", self.base))
            .query(params);
        if let Some(accept) = accept {
            request = request.header("accept", accept);
        }
        let response = request.send().await.unwrap();
        let allow = response
            .headers()
            .get("allow")
            .map(|v| v.to_str().unwrap().to_owned());
        (answer(response).await, allow)
    }

    pub async fn graphql(&self, query: &str, variables: Value, token: Option<&str>) -> Answer {
        let mut request = self
            .client
            .post(format!("{}/graphql", self.base))
            .header("accept", "application/graphql-response+json")
            .json(&json!({ "query": query, "variables": variables }));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        answer(request.send().await.unwrap()).await
    }

    /// A GraphQL request with `X-Acting-For`: a proxy acting for the patient `acting_for`.
    /// A GraphQL call that says, through a proxy, it comes from `client` (`X-Forwarded-For`).
    pub async fn graphql_from(
        &self,
        client: &str,
        query: &str,
        variables: Value,
        token: Option<&str>,
    ) -> Answer {
        let mut request = self
            .client
            .post(format!("{}/graphql", self.base))
            .header("accept", "application/graphql-response+json")
            .header("x-forwarded-for", client)
            .json(&json!({ "query": query, "variables": variables }));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        answer(request.send().await.unwrap()).await
    }

    pub async fn graphql_for(
        &self,
        query: &str,
        variables: Value,
        token: &str,
        acting_for: &str,
    ) -> Answer {
        let request = self
            .client
            .post(format!("{}/graphql", self.base))
            .header("accept", "application/graphql-response+json")
            .header("x-acting-for", acting_for)
            .bearer_auth(token)
            .json(&json!({ "query": query, "variables": variables }));
        answer(request.send().await.unwrap()).await
    }

    pub async fn create_organization(&self, code: &str) {
        let store = &self.running.as_ref().unwrap().state.store;
        portal_commands::organizations::create(
            store,
            portal_domain::values::OrganizationCode::parse(code).unwrap(),
            portal_domain::values::OrganizationName::parse(&format!("{code} CE")).unwrap(),
            &portal_commands::handler::CommandContext::system(),
        )
        .await
        .unwrap();
    }

    pub async fn register(&self, organization: &str, email: &str) -> Answer {
        self.graphql(
            "mutation($input: RegisterAccountInput!) { registerAccount(input: $input) { message position } }",
            json!({ "input": {
                "organizationCode": organization, "title": "Dr.", "firstName": "Ada", "lastName": "Lovelace",
                "email": email, "password": PASSWORD,
            }}),
            None,
        )
        .await
    }

    pub async fn sign_in(&self, organization: &str, email: &str, password: &str) -> Answer {
        self.graphql(
            "mutation($input: SignInInput!) { signIn(input: $input) { token expiresAt accountId position } }",
            json!({ "input": { "organizationCode": organization, "email": email, "password": password } }),
            None,
        )
        .await
    }

    pub async fn activate(&self, token: &str) -> Answer {
        self.graphql(
            "mutation($token: String!) { activateAccount(input: { token: $token }) { accountId position } }",
            json!({ "token": token }),
            None,
        )
        .await
    }

    /// The e-mails written so far, as text.
    pub fn mails(&self) -> Vec<String> {
        let Ok(entries) = std::fs::read_dir(&self.mail_dir) else {
            return vec![];
        };
        entries
            .filter_map(|e| e.ok())
            .filter(|e| e.path().extension().is_some_and(|x| x == "eml"))
            .filter_map(|e| std::fs::read_to_string(e.path()).ok())
            .collect()
    }

    /// Waits for an e-mail to `to` whose subject starts with `subject`.
    pub async fn mail_to(&self, to: &str, subject: &str) -> String {
        for _ in 0..200 {
            if let Some(mail) = self.mails().into_iter().find(|m| {
                m.contains(&format!("To: {to}")) && m.contains(&format!("Subject: {subject}"))
            }) {
                return mail;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("no e-mail '{subject}' to {to}; mails: {:?}", self.mails());
    }

    /// The token of a link to `path` in an e-mail to `to` whose subject starts with `subject`, other than the
    /// tokens in `seen` (earlier links), waiting for the e-mail to be written.
    pub async fn link_token(&self, to: &str, subject: &str, path: &str, seen: &[&str]) -> String {
        for _ in 0..200 {
            let found = self
                .mails()
                .into_iter()
                .filter(|m| {
                    m.contains(&format!("To: {to}")) && m.contains(&format!("Subject: {subject}"))
                })
                .filter_map(|m| {
                    let link = m
                        .lines()
                        .find(|l| l.contains(&format!("{path}?token=")))?
                        .to_owned();
                    Some(link.split("token=").nth(1)?.trim().to_owned())
                })
                .find(|token| !seen.contains(&token.as_str()));
            if let Some(token) = found {
                return token;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("no new e-mail '{subject}' to {to}");
    }

    /// The activation link's token in the e-mail to `to` from the organization with `code`.
    pub async fn activation_token(&self, code: &str, to: &str) -> String {
        let mail = self.mail_to(to, &format!("Activate your {code} CE")).await;
        let link = mail
            .lines()
            .find(|l| l.contains("/activate?token="))
            .expect("a link");
        assert!(
            link.starts_with(&self.base),
            "the link points at this server: {link}"
        );
        link.split("token=").nth(1).unwrap().trim().to_owned()
    }

    /// Adds an active staff member (as `portal staff add` does) and signs them in.
    pub async fn staff(&self, organization: &str, email: &str) -> Learner {
        self.staff_as(organization, email, portal_domain::account::Role::Staff)
            .await
    }

    /// Adds an active provider (as `portal staff add --role provider` does) and signs them in.
    pub async fn provider(&self, organization: &str, email: &str) -> Learner {
        self.staff_as(organization, email, portal_domain::account::Role::Provider)
            .await
    }

    /// Adds an active auditor (as `portal staff add --role auditor` does) and signs them in.
    pub async fn auditor(&self, organization: &str, email: &str) -> Learner {
        self.staff_as(organization, email, portal_domain::account::Role::Auditor)
            .await
    }

    async fn staff_as(
        &self,
        organization: &str,
        email: &str,
        role: portal_domain::account::Role,
    ) -> Learner {
        let store = &self.running.as_ref().unwrap().state.store;
        let code = portal_domain::values::OrganizationCode::parse(organization).unwrap();
        let summary = portal_commands::organizations::find_by_code(store, &code)
            .await
            .unwrap()
            .unwrap();
        let input = portal_commands::accounts::NewAccount {
            name: portal_domain::values::PersonName {
                title: None,
                first: portal_domain::values::NamePart::parse("Dana").unwrap(),
                middle: None,
                last: portal_domain::values::NamePart::parse("Coordinator").unwrap(),
            },
            email: portal_domain::values::EmailAddress::parse(email).unwrap(),
            password: portal_domain::values::Password::parse(
                PASSWORD,
                &portal_commands::credentials::BreachedPasswords,
            )
            .unwrap(),
            role,
        };
        portal_gateway::staff::add_active(store, &summary, input)
            .await
            .unwrap();
        let answer = self.sign_in(organization, email, PASSWORD).await;
        let data = answer.assert_ok();
        Learner {
            account_id: data["signIn"]["accountId"].as_str().unwrap().to_owned(),
            token: data["signIn"]["token"].as_str().unwrap().to_owned(),
            position: data["signIn"]["position"].as_i64().unwrap(),
        }
    }

    /// Registers, activates from the e-mailed link, and signs in.
    pub async fn learner(&self, organization: &str, email: &str) -> Learner {
        self.register(organization, email).await.assert_ok();
        let token = self.activation_token(organization, email).await;
        self.activate(&token).await.assert_ok();
        let answer = self.sign_in(organization, email, PASSWORD).await;
        let data = answer.assert_ok();
        Learner {
            account_id: data["signIn"]["accountId"].as_str().unwrap().to_owned(),
            token: data["signIn"]["token"].as_str().unwrap().to_owned(),
            position: data["signIn"]["position"].as_i64().unwrap(),
        }
    }
}

async fn answer(response: reqwest::Response) -> Answer {
    let status = response.status();
    let content_type = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let text = response.text().await.unwrap();
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    Answer {
        status,
        content_type,
        body,
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.mail_dir);
    }
}

/// The organization's number in the texting tests, and the provider's auth token.
pub const SMS_NUMBER: &str = "+18336161157";
pub const SMS_TOKEN: &str = "test-auth-token-0123456789abcdef";

/// Everything the profile requires, so that credit is not held for it.
pub fn complete_profile() -> Value {
    json!({ "input": {
        "prefix": "DR", "dateOfBirth": "1980-02-29", "specialNeeds": { "none": true, "needs": [] },
        "address": { "type": "WORK", "line1": "200 First St SW", "city": "Rochester", "state": "MN",
                     "postalCode": "55905", "country": "us" },
        "enrollmentType": "PHYSICIAN",
        "stateLicense": { "state": "MN", "holds": true, "number": "MN-12345" },
        "creditEligibility": "AMA_PRA_CATEGORY_1" } })
}

/// A reply to a text: the HTTP status and the body as text.
pub struct Reply {
    pub status: StatusCode,
    pub body: String,
}

impl Reply {
    /// The message inside the TwiML answer.
    pub fn message(&self) -> &str {
        assert_eq!(self.status, StatusCode::OK, "reply: {}", self.body);
        let start = self.body.find("<Message>").expect("a Message element") + "<Message>".len();
        let end = self.body.find("</Message>").expect("a closing Message");
        &self.body[start..end]
    }
}

impl TestApp {
    /// Completes a learner's profile.
    pub async fn complete_profile(&self, token: &str) -> i64 {
        let answer = self
            .graphql(
                "mutation($input: UpdateProfileInput!) { updateProfile(input: $input) { position missingFields } }",
                complete_profile(),
                Some(token),
            )
            .await;
        answer.assert_ok()["updateProfile"]["position"]
            .as_i64()
            .unwrap_or_default()
    }

    /// Sets the CE portal FAQ's help desk as the organization's help contacts (staff).
    pub async fn set_help_contacts(&self, staff_token: &str) {
        self.graphql(
            "mutation($input: SetHelpContactsInput!) { setHelpContacts(input: $input) { position } }",
            json!({ "input": { "displayName": "UMN Office of CPD", "phone": "612-626-7600 or 1-800-776-8636",
                               "hours": "Monday to Friday, 8:00am to 4:30pm", "email": "cmeinfo@umn.edu",
                               "web": "https://cme.umn.edu" } }),
            Some(staff_token),
        )
        .await
        .assert_ok();
    }

    /// Sets up the organization's SMS number (staff).
    pub async fn configure_sms(&self, staff_token: &str) {
        self.graphql(
            "mutation($input: ConfigureSmsInput!) { configureSms(input: $input) { position } }",
            json!({ "input": { "number": SMS_NUMBER, "authToken": SMS_TOKEN } }),
            Some(staff_token),
        )
        .await
        .assert_ok();
    }

    /// Schedules a course (staff) and returns its id and the position produced.
    pub async fn schedule(&self, staff_token: &str, input: Value) -> (String, i64) {
        let answer = self
            .graphql(
                "mutation($input: ActivityInput!) { scheduleActivity(input: $input) { activityId position } }",
                json!({ "input": input }),
                Some(staff_token),
            )
            .await;
        let data = answer.assert_ok();
        (
            data["scheduleActivity"]["activityId"]
                .as_str()
                .unwrap()
                .to_owned(),
            data["scheduleActivity"]["position"].as_i64().unwrap(),
        )
    }

    /// Sends a text as the provider would, signed with `token`.
    pub async fn text_signed(&self, from: &str, body: &str, sid: &str, token: &str) -> Reply {
        let params: Vec<(String, String)> = [
            ("AccountSid", "AC00000000000000000000000000000000"),
            ("MessageSid", sid),
            ("From", from),
            ("To", SMS_NUMBER),
            ("Body", body),
            ("NumMedia", "0"),
        ]
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
        let url = format!("{}/sms/inbound", self.base);
        let signature = portal_gateway::sms::signature(token, &url, &params);
        let response = self
            .client
            .post(&url)
            .header("x-twilio-signature", signature)
            .form(&params)
            .send()
            .await
            .unwrap();
        Reply {
            status: response.status(),
            body: response.text().await.unwrap(),
        }
    }

    /// Sends a text signed with the organization's token.
    pub async fn text(&self, from: &str, body: &str, sid: &str) -> Reply {
        self.text_signed(from, body, sid, SMS_TOKEN).await
    }
}

/// An instant `minutes` from now, as RFC 3339.
pub fn in_minutes(minutes: i64) -> String {
    (chrono::Utc::now() + chrono::Duration::minutes(minutes))
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

/// A course input: title, code, start and end in minutes from now, one AMA credit.
pub fn course(title: &str, code: &str, start: i64, end: i64) -> Value {
    json!({
        "title": title, "code": code, "startsAt": in_minutes(start), "endsAt": in_minutes(end),
        "minutesBefore": 15, "minutesAfter": 30,
        "credits": [{ "type": "AMA_PRA_CATEGORY_1", "amount": "1.00" }],
    })
}

impl TestApp {
    /// Waits until projection `name` has applied everything in the log so far.
    pub async fn caught_up(&self, name: &'static str) -> i64 {
        let state = &self.running.as_ref().unwrap().state;
        let head: i64 = state
            .pool
            .get()
            .await
            .unwrap()
            .query_one("SELECT coalesce(max(position), 0) FROM events", &[])
            .await
            .unwrap()
            .get(0);
        portal_projections::runner::wait_for(&state.pool, name, head, Duration::from_secs(10))
            .await
            .unwrap();
        head
    }
}

impl TestApp {
    /// Waits for a text message to `to` and returns its body.
    pub async fn sms_to(&self, to: &str) -> String {
        for _ in 0..200 {
            if let Ok(entries) = std::fs::read_dir(&self.mail_dir) {
                let found = entries
                    .filter_map(|e| e.ok())
                    .filter(|e| e.path().extension().is_some_and(|x| x == "sms"))
                    .filter_map(|e| std::fs::read_to_string(e.path()).ok())
                    .find(|m| m.starts_with(&format!("To: {to}\n")));
                if let Some(text) = found {
                    return text;
                }
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("no text message to {to}");
    }
}

/// Starts a `portal` process with its standard output piped; its lines arrive on the receiver as it prints them.
pub fn spawn_printing(
    command: &mut std::process::Command,
) -> (std::process::Child, std::sync::mpsc::Receiver<String>) {
    use std::io::BufRead;
    let mut child = command
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("portal starts");
    let stdout = child.stdout.take().expect("stdout is piped");
    let (lines_tx, lines_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
        {
            let _ = lines_tx.send(line);
        }
    });
    (child, lines_rx)
}

impl TestApp {
    /// A graphql-transport-ws socket signed in with `token`, acknowledged, with `query` subscribed as id `1`.
    pub async fn subscribe(&self, token: &str, query: &str) -> super::scheduling::Socket {
        use futures_util::SinkExt;
        use tokio_tungstenite::tungstenite::Message;
        let mut socket = self.ws_connect().await;
        let init = json!({ "type": "connection_init", "payload": { "Authorization": format!("Bearer {token}") } });
        socket
            .send(Message::Text(init.to_string().into()))
            .await
            .unwrap();
        super::scheduling::receive(&mut socket, "connection_ack").await;
        let subscribe = json!({ "id": "1", "type": "subscribe", "payload": { "query": query } });
        socket
            .send(Message::Text(subscribe.to_string().into()))
            .await
            .unwrap();
        socket
    }

    /// A WebSocket to `/graphql/ws` speaking graphql-transport-ws, before `connection_init`.
    pub async fn ws_connect(&self) -> super::scheduling::Socket {
        use tokio_tungstenite::tungstenite::client::IntoClientRequest;
        let mut request = format!("{}/graphql/ws", self.base.replace("http://", "ws://"))
            .into_client_request()
            .unwrap();
        request.headers_mut().insert(
            "sec-websocket-protocol",
            "graphql-transport-ws".parse().unwrap(),
        );
        tokio_tungstenite::connect_async(request).await.unwrap().0
    }
}
