//! The payment processor's API as Stripe documents it: Checkout Sessions (`POST /v1/checkout/sessions`), refunds
//! (`POST /v1/refunds`), and the `Stripe-Signature` header of its webhooks. Any server that speaks this shape
//! will do (the tests run a stand-in on loopback).

use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use hmac::{Hmac, Mac};
use serde::Deserialize;
use sha2::Sha256;

/// How long one request to the processor may take.
const PROCESSOR_TIMEOUT: Duration = Duration::from_secs(30);

/// How far a webhook's signed timestamp may be from our clock: Stripe's libraries' default, which stops a
/// captured delivery from being replayed later.
pub const SIGNATURE_TOLERANCE_SECONDS: i64 = 300;

/// The currency statements are billed in (Stripe's lower-case ISO code).
pub const CURRENCY: &str = "usd";

/// The `portal_reason` metadata of portal's own refunds of payments above a statement's balance.
pub const OVERPAYMENT: &str = "overpayment";

/// How long a checkout session stays open: Stripe accepts 30 minutes to 24 hours.
const SESSION_MINUTES: i64 = 60;

/// The processor's API.
#[derive(Clone)]
pub struct Processor {
    client: reqwest::Client,
    base_url: String,
}

/// Why the processor did not do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum ProcessorError {
    /// It could not be reached, or failed on its side: try again later.
    #[error("the payment processor is unavailable: {0}")]
    Unavailable(String),
    /// It refused the request (a wrong key, say).
    #[error("the payment processor refused the request: {0}")]
    Refused(String),
}

/// A checkout session to open for one statement.
pub struct CheckoutRequest<'a> {
    /// The statement paid (the session's `client_reference_id`).
    pub statement: uuid::Uuid,
    /// The organization's code, in the session's metadata.
    pub organization: &'a str,
    /// The amount, in cents.
    pub amount_cents: i64,
    /// What the patient's card statement and the checkout page say (no personal data).
    pub description: &'a str,
    /// Where the processor sends the patient after paying.
    pub success_url: &'a str,
    /// Where the processor sends the patient who turns back.
    pub cancel_url: &'a str,
    /// The time now (the session expires an hour later).
    pub now: DateTime<Utc>,
}

/// An open checkout session.
#[derive(Debug, Deserialize)]
pub struct CheckoutSession {
    /// The session's id (`cs_…`).
    pub id: String,
    /// The processor's hosted page to send the patient to.
    pub url: String,
    /// The amount, in cents.
    pub amount_total: i64,
    /// When it expires (Unix seconds).
    pub expires_at: i64,
}

#[derive(Deserialize)]
struct ErrorDocument {
    error: ErrorBody,
}

#[derive(Deserialize)]
struct ErrorBody {
    message: Option<String>,
}

impl Processor {
    /// The API at `base_url` (`https://api.stripe.com`).
    pub fn new(base_url: &str) -> Result<Self, String> {
        let client = reqwest::Client::builder()
            .timeout(PROCESSOR_TIMEOUT)
            .build()
            .map_err(|e| format!("cannot make the payment processor's HTTP client: {e}"))?;
        Ok(Self {
            client,
            base_url: base_url.trim_end_matches('/').to_owned(),
        })
    }

    /// Opens a checkout session for a statement. `idempotency_key` makes a retry return the same session.
    pub async fn create_checkout_session(
        &self,
        api_key: &str,
        request: &CheckoutRequest<'_>,
        idempotency_key: &str,
    ) -> Result<CheckoutSession, ProcessorError> {
        let statement = request.statement.to_string();
        let expires_at = (request.now + chrono::Duration::minutes(SESSION_MINUTES))
            .timestamp()
            .to_string();
        let amount = request.amount_cents.to_string();
        let form: Vec<(&str, &str)> = vec![
            ("mode", "payment"),
            ("success_url", request.success_url),
            ("cancel_url", request.cancel_url),
            ("client_reference_id", &statement),
            ("expires_at", &expires_at),
            ("line_items[0][quantity]", "1"),
            ("line_items[0][price_data][currency]", CURRENCY),
            ("line_items[0][price_data][unit_amount]", &amount),
            (
                "line_items[0][price_data][product_data][name]",
                request.description,
            ),
            ("metadata[statement_id]", &statement),
            ("metadata[organization]", request.organization),
            ("payment_intent_data[metadata][statement_id]", &statement),
        ];
        self.post(api_key, "/v1/checkout/sessions", &form, idempotency_key)
            .await
    }

    /// Refunds a whole payment (its payment intent) that a statement could not take, marked as such.
    pub async fn refund(
        &self,
        api_key: &str,
        payment_intent: &str,
        idempotency_key: &str,
    ) -> Result<(), ProcessorError> {
        #[derive(Deserialize)]
        struct Refund {
            #[allow(dead_code)]
            id: String,
        }
        self.post::<Refund>(
            api_key,
            "/v1/refunds",
            &[
                ("payment_intent", payment_intent),
                ("metadata[portal_reason]", OVERPAYMENT),
            ],
            idempotency_key,
        )
        .await
        .map(|_| ())
    }

    async fn post<T: serde::de::DeserializeOwned>(
        &self,
        api_key: &str,
        path: &str,
        form: &[(&str, &str)],
        idempotency_key: &str,
    ) -> Result<T, ProcessorError> {
        let response = self
            .client
            .post(format!("{}{path}", self.base_url))
            .bearer_auth(api_key)
            .header("Idempotency-Key", idempotency_key)
            .form(form)
            .send()
            .await
            .map_err(|e| ProcessorError::Unavailable(e.without_url().to_string()))?;
        let status = response.status();
        let body = response
            .bytes()
            .await
            .map_err(|e| ProcessorError::Unavailable(e.without_url().to_string()))?;
        if status.is_success() {
            return serde_json::from_slice(&body).map_err(|e| {
                ProcessorError::Unavailable(format!("an answer of another shape: {e}"))
            });
        }
        let message = serde_json::from_slice::<ErrorDocument>(&body)
            .ok()
            .and_then(|d| d.error.message)
            .unwrap_or_else(|| format!("status {status}"));
        if status.is_server_error() || status.as_u16() == 429 {
            Err(ProcessorError::Unavailable(message))
        } else {
            Err(ProcessorError::Refused(message))
        }
    }
}

/// The `Stripe-Signature` header for `payload` at `timestamp`: `t=<timestamp>,v1=<hex HMAC-SHA256 of
/// "<timestamp>.<payload>" keyed with the endpoint's signing secret>`.
pub fn signature_header(secret: &str, timestamp: i64, payload: &[u8]) -> String {
    let digest = signed(secret, timestamp, payload).finalize().into_bytes();
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("t={timestamp},v1={hex}")
}

fn signed(secret: &str, timestamp: i64, payload: &[u8]) -> Hmac<Sha256> {
    // HMAC accepts keys of any length; this cannot fail.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(payload);
    mac
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

/// Why a webhook's signature is refused.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// No timestamp or no v1 signature in the header.
    #[error("the Stripe-Signature header has no timestamp or no v1 signature")]
    Malformed,
    /// The timestamp is too far from now: a replay, or a clock far off.
    #[error("the signed timestamp is outside the tolerance")]
    Stale,
    /// No v1 signature matches.
    #[error("no signature matches the payload")]
    Mismatch,
}

/// Checks a webhook as Stripe documents it: the header's timestamp within [`SIGNATURE_TOLERANCE_SECONDS`] of
/// `now`, and one of its `v1` signatures equal, compared in constant time, to the HMAC of the timestamp and the raw
/// payload. Other schemes (`v0`) are ignored.
pub fn verify(
    secret: &str,
    header: &str,
    payload: &[u8],
    now: DateTime<Utc>,
) -> Result<(), SignatureError> {
    let mut timestamp = None;
    let mut signatures = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", value)) => timestamp = value.parse::<i64>().ok(),
            Some(("v1", value)) => signatures.extend(unhex(value)),
            _ => {}
        }
    }
    let Some(timestamp) = timestamp.filter(|_| !signatures.is_empty()) else {
        return Err(SignatureError::Malformed);
    };
    if (now.timestamp() - timestamp).abs() > SIGNATURE_TOLERANCE_SECONDS {
        return Err(SignatureError::Stale);
    }
    let expected = signed(secret, timestamp, payload);
    if signatures
        .iter()
        .any(|s| expected.clone().verify_slice(s).is_ok())
    {
        Ok(())
    } else {
        Err(SignatureError::Mismatch)
    }
}

/// A time the processor gives in Unix seconds.
pub fn unix_time(seconds: i64) -> Option<DateTime<Utc>> {
    Utc.timestamp_opt(seconds, 0).single()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: i64) -> DateTime<Utc> {
        unix_time(seconds).unwrap()
    }

    #[test]
    fn a_signature_made_with_the_secret_verifies() {
        let header = signature_header("whsec_test_secret", 1_700_000_000, b"{\"id\":\"evt_1\"}");
        assert!(header.starts_with("t=1700000000,v1="));
        assert_eq!(
            verify(
                "whsec_test_secret",
                &header,
                b"{\"id\":\"evt_1\"}",
                at(1_700_000_100)
            ),
            Ok(())
        );
    }

    #[test]
    fn the_signature_is_the_hmac_sha256_of_the_timestamp_and_payload() {
        // HMAC-SHA256 keyed "key" over "1.x", computed independently with Python's hmac module.
        assert_eq!(
            signature_header("key", 1, b"x"),
            "t=1,v1=fc4913c41a7bf793267e2a384f3261c9436ec2cd097bd745e7b0d99113f510ec"
        );
    }

    #[test]
    fn a_changed_payload_or_another_secret_is_refused() {
        let header = signature_header("whsec_a", 1_700_000_000, b"{}");
        assert_eq!(
            verify("whsec_a", &header, b"{ }", at(1_700_000_000)),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify("whsec_b", &header, b"{}", at(1_700_000_000)),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn a_delivery_older_than_the_tolerance_is_refused() {
        let header = signature_header("whsec_a", 1_700_000_000, b"{}");
        assert_eq!(
            verify("whsec_a", &header, b"{}", at(1_700_000_301)),
            Err(SignatureError::Stale)
        );
    }

    #[test]
    fn any_of_several_v1_signatures_may_match() {
        // During a secret's rollover Stripe signs with the old and the new one.
        let good = signature_header("whsec_new", 1_700_000_000, b"{}");
        let v1 = good.split_once(",v1=").unwrap().1;
        let header = format!("t=1700000000,v1={},v1={v1},v0=abc", "00".repeat(32));
        assert_eq!(
            verify("whsec_new", &header, b"{}", at(1_700_000_000)),
            Ok(())
        );
    }

    #[test]
    fn a_header_without_a_timestamp_or_signature_is_malformed() {
        assert_eq!(
            verify("whsec_a", "v1=00", b"{}", at(0)),
            Err(SignatureError::Malformed)
        );
        assert_eq!(
            verify("whsec_a", "t=0", b"{}", at(0)),
            Err(SignatureError::Malformed)
        );
    }
}
