//! A stand-in for Stripe on loopback, following its documented shapes: `POST /v1/checkout/sessions` and
//! `POST /v1/refunds` take a form with a `Bearer` secret key and an `Idempotency-Key`, and answer JSON (or an error
//! document with 401/400); its webhooks are events `{id, object: "event", type, created, data: {object}}` posted
//! with `Stripe-Signature: t=…,v1=…`. The test plays the patient on the hosted page ([`PaymentProcessor::pay`]) and
//! the processor's dashboard ([`PaymentProcessor::refund`]).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::{Form, Json, Router};
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;

#[derive(Default)]
struct Books {
    sessions: Vec<Value>,
    refunds: Vec<Value>,
    answered: HashMap<String, Value>,
    keys_seen: Vec<String>,
    next: u64,
}

#[derive(Clone)]
struct Processor {
    api_key: String,
    base: Arc<Mutex<String>>,
    books: Arc<Mutex<Books>>,
}

/// A running stand-in.
pub struct PaymentProcessor {
    /// Its base URL (`http://127.0.0.1:port`).
    pub url: String,
    webhook_secret: String,
    books: Arc<Mutex<Books>>,
    client: reqwest::Client,
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

fn refused(status: StatusCode, message: &str) -> (StatusCode, Json<Value>) {
    (
        status,
        Json(json!({ "error": { "type": "invalid_request_error", "message": message } })),
    )
}

fn authorized(processor: &Processor, headers: &HeaderMap) -> bool {
    headers.get("authorization").and_then(|v| v.to_str().ok())
        == Some(format!("Bearer {}", processor.api_key).as_str())
}

fn field<'a>(form: &'a [(String, String)], name: &str) -> Option<&'a str> {
    form.iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

/// `metadata[key]=value` pairs as Stripe reads them into a map.
fn metadata(form: &[(String, String)], prefix: &str) -> Value {
    let map: serde_json::Map<String, Value> = form
        .iter()
        .filter_map(|(n, v)| {
            let key = n
                .strip_prefix(prefix)?
                .strip_prefix('[')?
                .strip_suffix(']')?;
            Some((key.to_owned(), Value::String(v.clone())))
        })
        .collect();
    Value::Object(map)
}

/// Answers a request with an idempotency key already seen with the first answer, as Stripe does.
fn idempotent(
    processor: &Processor,
    headers: &HeaderMap,
    make: impl FnOnce(&mut Books) -> Result<Value, (StatusCode, Json<Value>)>,
) -> Result<Json<Value>, (StatusCode, Json<Value>)> {
    let key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let mut books = processor.books.lock().unwrap();
    if let Some(key) = &key {
        books.keys_seen.push(key.clone());
        if let Some(first) = books.answered.get(key) {
            return Ok(Json(first.clone()));
        }
    }
    let answer = make(&mut books)?;
    if let Some(key) = key {
        books.answered.insert(key, answer.clone());
    }
    Ok(Json(answer))
}

async fn create_session(
    State(processor): State<Processor>,
    headers: HeaderMap,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Json<Value>, (StatusCode, Json<Value>)> {
    if !authorized(&processor, &headers) {
        return Err(refused(
            StatusCode::UNAUTHORIZED,
            "Invalid API Key provided",
        ));
    }
    let base = processor.base.lock().unwrap().clone();
    idempotent(&processor, &headers, |books| {
        let required = |name: &str| {
            field(&form, name).ok_or_else(|| {
                refused(
                    StatusCode::BAD_REQUEST,
                    &format!("Missing required param: {name}."),
                )
            })
        };
        if required("mode")? != "payment" || required("line_items[0][quantity]")? != "1" {
            return Err(refused(
                StatusCode::BAD_REQUEST,
                "Invalid mode or quantity.",
            ));
        }
        let amount: i64 = required("line_items[0][price_data][unit_amount]")?
            .parse()
            .map_err(|_| refused(StatusCode::BAD_REQUEST, "Invalid integer: unit_amount"))?;
        let expires_at: i64 = required("expires_at")?
            .parse()
            .map_err(|_| refused(StatusCode::BAD_REQUEST, "Invalid integer: expires_at"))?;
        if !(now() + 1800 - 60..=now() + 86_400).contains(&expires_at) {
            return Err(refused(
                StatusCode::BAD_REQUEST,
                "The `expires_at` timestamp must be between 30 minutes and 24 hours from now.",
            ));
        }
        books.next += 1;
        let id = format!("cs_test_{}", books.next);
        let session = json!({
            "id": id,
            "object": "checkout.session",
            "amount_total": amount,
            "currency": required("line_items[0][price_data][currency]")?,
            "client_reference_id": field(&form, "client_reference_id"),
            "metadata": metadata(&form, "metadata"),
            "payment_intent_metadata": metadata(&form, "payment_intent_data[metadata]"),
            "product_name": required("line_items[0][price_data][product_data][name]")?,
            "success_url": required("success_url")?,
            "cancel_url": required("cancel_url")?,
            "expires_at": expires_at,
            "mode": "payment",
            "payment_intent": null,
            "payment_status": "unpaid",
            "status": "open",
            "url": format!("{base}/c/pay/{id}"),
        });
        books.sessions.push(session.clone());
        Ok(session)
    })
}

async fn create_refund(
    State(processor): State<Processor>,
    headers: HeaderMap,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Json<Value>, (StatusCode, Json<Value>)> {
    if !authorized(&processor, &headers) {
        return Err(refused(
            StatusCode::UNAUTHORIZED,
            "Invalid API Key provided",
        ));
    }
    idempotent(&processor, &headers, |books| {
        let intent = field(&form, "payment_intent").ok_or_else(|| {
            refused(
                StatusCode::BAD_REQUEST,
                "Missing required param: payment_intent.",
            )
        })?;
        let paid = books
            .sessions
            .iter()
            .find(|s| s["payment_intent"] == intent)
            .ok_or_else(|| refused(StatusCode::BAD_REQUEST, "No such payment_intent"))?;
        let amount = match field(&form, "amount") {
            Some(a) => a.parse().unwrap(),
            None => paid["amount_total"].as_i64().unwrap(),
        };
        books.next += 1;
        let refund = json!({
            "id": format!("re_test_{}", books.next),
            "object": "refund",
            "amount": amount,
            "currency": paid["currency"],
            "payment_intent": intent,
            "status": "succeeded",
            "created": now(),
            "metadata": metadata(&form, "metadata"),
        });
        books.refunds.push(refund.clone());
        Ok(refund)
    })
}

impl PaymentProcessor {
    /// Takes requests made with `api_key`, and signs its webhooks with `webhook_secret`.
    pub async fn start(api_key: &str, webhook_secret: &str) -> Self {
        let books = Arc::new(Mutex::new(Books::default()));
        let base = Arc::new(Mutex::new(String::new()));
        let processor = Processor {
            api_key: api_key.to_owned(),
            base: base.clone(),
            books: books.clone(),
        };
        let app = Router::new()
            .route("/v1/checkout/sessions", post(create_session))
            .route("/v1/refunds", post(create_refund))
            .with_state(processor);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        *base.lock().unwrap() = url.clone();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self {
            url,
            webhook_secret: webhook_secret.to_owned(),
            books,
            client: reqwest::Client::new(),
        }
    }

    /// The session `id` as the processor holds it.
    pub fn session(&self, id: &str) -> Value {
        let books = self.books.lock().unwrap();
        books
            .sessions
            .iter()
            .find(|s| s["id"] == id)
            .cloned()
            .unwrap()
    }

    /// The sessions opened so far.
    pub fn session_count(&self) -> usize {
        self.books.lock().unwrap().sessions.len()
    }

    /// The refunds made through the API (not from the dashboard), newest last.
    pub fn refunds(&self) -> Vec<Value> {
        self.books.lock().unwrap().refunds.clone()
    }

    fn event(books: &mut Books, kind: &str, object: Value) -> Value {
        books.next += 1;
        json!({
            "id": format!("evt_test_{}", books.next),
            "object": "event",
            "api_version": "2024-06-20",
            "created": now(),
            "livemode": false,
            "pending_webhooks": 1,
            "type": kind,
            "data": { "object": object },
        })
    }

    /// The patient pays session `id` on the hosted page: the session is complete and paid through a new payment
    /// intent. Returns the `checkout.session.completed` event (not delivered yet).
    pub fn pay(&self, id: &str) -> Value {
        let mut books = self.books.lock().unwrap();
        books.next += 1;
        let intent = format!("pi_test_{}", books.next);
        let session = books.sessions.iter_mut().find(|s| s["id"] == id).unwrap();
        session["payment_intent"] = json!(intent);
        session["payment_status"] = json!("paid");
        session["status"] = json!("complete");
        let session = session.clone();
        Self::event(&mut books, "checkout.session.completed", session)
    }

    /// Staff refund `amount` cents of the payment intent from the processor's dashboard. Returns the
    /// `refund.created` event (not delivered yet).
    pub fn refund(&self, payment_intent: &str, amount: i64) -> Value {
        let mut books = self.books.lock().unwrap();
        books.next += 1;
        let refund = json!({
            "id": format!("re_test_{}", books.next),
            "object": "refund",
            "amount": amount,
            "currency": "usd",
            "payment_intent": payment_intent,
            "status": "succeeded",
            "created": now(),
            "metadata": {},
        });
        Self::event(&mut books, "refund.created", refund)
    }

    /// Delivers `event` to `endpoint`, signed now with the webhook secret; returns the HTTP status.
    pub async fn deliver(&self, endpoint: &str, event: &Value) -> u16 {
        let secret = self.webhook_secret.clone();
        self.deliver_signed(endpoint, event, &secret, now()).await
    }

    /// Delivers `event` signed with `secret` at `timestamp` (a forgery or a replay); returns the HTTP status.
    pub async fn deliver_signed(
        &self,
        endpoint: &str,
        event: &Value,
        secret: &str,
        timestamp: i64,
    ) -> u16 {
        let payload = serde_json::to_vec(event).unwrap();
        // Signed as Stripe documents it, written here apart from portal's own code.
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes()).unwrap();
        mac.update(format!("{timestamp}.").as_bytes());
        mac.update(&payload);
        let hex: String = mac
            .finalize()
            .into_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let header = format!("t={timestamp},v1={hex}");
        let response = self
            .client
            .post(endpoint)
            .header("content-type", "application/json")
            .header("stripe-signature", header)
            .body(payload)
            .send()
            .await
            .unwrap();
        response.status().as_u16()
    }
}
