//! A stand-in for Twilio's Messages API on loopback: it checks each request's account, basic auth and form, keeps
//! the texts, and answers as Twilio does (201 with a message sid, or an error document).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::{Form, Json, Router};
use base64::Engine as _;
use serde_json::{json, Value};

/// One text as the provider received it.
#[derive(Clone, Debug)]
pub struct Text {
    /// The account in the URL.
    pub account: String,
    /// To, From, Body.
    pub form: HashMap<String, String>,
    /// The Idempotency-Key header.
    pub idempotency_key: Option<String>,
}

#[derive(Clone)]
struct Provider {
    account: String,
    token: String,
    texts: Arc<Mutex<Vec<Text>>>,
}

/// A running stand-in.
pub struct SmsProvider {
    /// Its base URL (`http://127.0.0.1:port`).
    pub url: String,
    texts: Arc<Mutex<Vec<Text>>>,
}

impl SmsProvider {
    /// Accepts texts for `account` authenticated with `token`; numbers ending in 0000 are refused as Twilio refuses
    /// a number that cannot receive texts (400, error 21211).
    pub async fn start(account: &str, token: &str) -> Self {
        let texts = Arc::new(Mutex::new(vec![]));
        let provider = Provider {
            account: account.to_owned(),
            token: token.to_owned(),
            texts: texts.clone(),
        };
        let app = Router::new()
            .route("/2010-04-01/Accounts/{account}/Messages.json", post(create))
            .with_state(provider);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self { url, texts }
    }

    /// The texts received so far.
    pub fn texts(&self) -> Vec<Text> {
        self.texts.lock().unwrap().clone()
    }

    /// Waits until `n` texts arrived.
    pub async fn wait_for(&self, n: usize) -> Vec<Text> {
        for _ in 0..200 {
            let texts = self.texts();
            if texts.len() >= n {
                return texts;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!(
            "the SMS provider received {} of {n} texts",
            self.texts().len()
        );
    }
}

async fn create(
    State(provider): State<Provider>,
    Path(account): Path<String>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> (StatusCode, Json<Value>) {
    let expected = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD
            .encode(format!("{}:{}", provider.account, provider.token))
    );
    let authorized = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v == expected);
    if account != provider.account || !authorized {
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({ "code": 20003, "message": "Authenticate", "status": 401 })),
        );
    }
    if ["To", "From", "Body"]
        .iter()
        .any(|k| !form.contains_key(*k))
    {
        return (
            StatusCode::BAD_REQUEST,
            Json(
                json!({ "code": 21604, "message": "A 'To' phone number is required.", "status": 400 }),
            ),
        );
    }
    if form["To"].ends_with("0000") {
        return (
            StatusCode::BAD_REQUEST,
            Json(
                json!({ "code": 21211, "message": "The 'To' number is not a valid phone number.", "status": 400 }),
            ),
        );
    }
    let mut texts = provider.texts.lock().unwrap();
    texts.push(Text {
        account,
        form: form.clone(),
        idempotency_key: headers
            .get("idempotency-key")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
    });
    (
        StatusCode::CREATED,
        Json(
            json!({ "sid": format!("SM{:032x}", texts.len()), "status": "queued", "to": form["To"] }),
        ),
    )
}
