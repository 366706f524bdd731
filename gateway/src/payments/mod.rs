//! Online bill pay: each organization's own payment processor account (Stripe's API shape). A patient opens a
//! checkout session for a statement (`payStatement`), pays on the processor's hosted page, and the processor tells
//! us through a signed webhook, `POST /payments/webhook/{code}`, which records the payment once however often it
//! is delivered; its refunds come the same way.

pub mod stripe;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use portal_commands::activities::derived_id;
use portal_commands::care::billing::{self, ProcessorReport};
use portal_commands::care::CareError;
use portal_commands::handler::{Actor, CommandContext, CommandError};
use portal_commands::organizations::{self, OrganizationSummary};
use portal_domain::care::billing::BillingError;
use portal_domain::values::{Money, OrganizationCode, ProcessorReference};
use serde::Deserialize;
use std::net::SocketAddr;
use uuid::Uuid;

use crate::app::AppState;
use crate::throttle::Action;

/// The event envelope Stripe posts.
#[derive(Deserialize)]
struct Event {
    id: String,
    #[serde(rename = "type")]
    kind: String,
    created: i64,
    data: EventData,
}

#[derive(Deserialize)]
struct EventData {
    object: serde_json::Value,
}

/// The fields of a checkout session that a payment needs.
#[derive(Deserialize)]
struct Session {
    id: String,
    client_reference_id: Option<String>,
    amount_total: Option<i64>,
    currency: Option<String>,
    payment_intent: Option<String>,
    payment_status: Option<String>,
}

/// The fields of a refund.
#[derive(Deserialize)]
struct Refund {
    id: String,
    amount: i64,
    payment_intent: Option<String>,
    status: Option<String>,
    created: i64,
    #[serde(default)]
    metadata: std::collections::HashMap<String, String>,
}

fn answer(status: StatusCode, message: &str) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        serde_json::json!({ "received": status.is_success(), "message": message }).to_string(),
    )
        .into_response()
}

/// What became of one event: an answer the processor understands (a 2xx ends its retries, anything else makes it
/// deliver the event again later).
enum Outcome {
    /// Recorded, or recorded before.
    Recorded,
    /// Not an event we act on, or one that cannot be acted on however often it comes (logged).
    Ignored(&'static str),
    /// Failed on our side: deliver it again.
    Retry,
}

/// `POST /payments/webhook/{code}`: one event from the organization's payment processor.
pub async fn webhook(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(code): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let request = state.request_context(&headers, Some(peer));
    if crate::graphql::mutation::throttle(&state, &request, Action::ProcessorWebhook, None).is_err()
    {
        return answer(StatusCode::TOO_MANY_REQUESTS, "too many requests");
    }
    let organization = match OrganizationCode::parse(&code) {
        Ok(code) => organizations::find_by_code(&state.store, &code).await,
        Err(_) => Ok(None),
    };
    let organization = match organization {
        Ok(Some(org)) if org.payments.is_some() => org,
        Ok(_) => {
            return answer(
                StatusCode::NOT_FOUND,
                "no organization takes payments at this address",
            )
        }
        Err(error) => {
            tracing::error!(%error, "could not look up the organization of a payment webhook");
            return answer(StatusCode::SERVICE_UNAVAILABLE, "try again later");
        }
    };
    let Some(keys) = organizations::processor_keys(&state.store, &organization) else {
        tracing::error!(organization = %organization.id, "the payment processor keys cannot be unsealed");
        return answer(StatusCode::SERVICE_UNAVAILABLE, "try again later");
    };
    let presented = headers
        .get("stripe-signature")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if let Err(error) = stripe::verify(&keys.webhook_secret, presented, &body, state.now()) {
        tracing::warn!(organization = %organization.id, %error, "refused a payment webhook");
        return answer(StatusCode::BAD_REQUEST, "the signature does not match");
    }
    let Ok(event) = serde_json::from_slice::<Event>(&body) else {
        return answer(StatusCode::BAD_REQUEST, "not an event");
    };
    let outcome = match event.kind.as_str() {
        "checkout.session.completed" | "checkout.session.async_payment_succeeded" => {
            paid(&state, &organization, &keys.api_key, &event).await
        }
        "refund.created" | "refund.updated" => refunded(&state, &organization, &event).await,
        _ => Outcome::Ignored("not an event portal acts on"),
    };
    match outcome {
        Outcome::Recorded => answer(StatusCode::OK, "recorded"),
        Outcome::Ignored(why) => {
            tracing::info!(organization = %organization.id, kind = %event.kind, why, "a payment event was not recorded");
            answer(StatusCode::OK, why)
        }
        Outcome::Retry => answer(StatusCode::SERVICE_UNAVAILABLE, "try again later"),
    }
}

/// The command context of a processor event: its id makes the event delivered again the same command.
fn context(state: &AppState, organization: &OrganizationSummary, event: &Event) -> CommandContext {
    let id = derived_id(
        &format!("processor-event:{}:{}", organization.id.0, event.id),
        organization.id.0,
    );
    CommandContext {
        command_id: id,
        correlation_id: Uuid::new_v4(),
        causation_id: None,
        actor: Actor::Anonymous,
        client_ip: None,
        user_agent: Some("payment processor".to_owned()),
        now: state.now(),
    }
}

fn reference(raw: &str) -> Option<ProcessorReference> {
    ProcessorReference::parse(raw).ok()
}

async fn paid(
    state: &AppState,
    organization: &OrganizationSummary,
    api_key: &str,
    event: &Event,
) -> Outcome {
    let Ok(session) = serde_json::from_value::<Session>(event.data.object.clone()) else {
        return Outcome::Ignored("not a checkout session");
    };
    if session.payment_status.as_deref() != Some("paid") {
        // A delayed method (a bank debit): its async_payment_succeeded event will follow.
        return Outcome::Ignored("the session is not paid yet");
    }
    let statement = session
        .client_reference_id
        .as_deref()
        .and_then(|s| s.parse::<Uuid>().ok());
    let (
        Some(statement),
        Some(amount),
        Some(payment),
        Some(object),
        Some(processor_event),
        Some(at),
    ) = (
        statement,
        session.amount_total.filter(|a| *a > 0),
        session.payment_intent.as_deref().and_then(reference),
        reference(&session.id),
        reference(&event.id),
        stripe::unix_time(event.created),
    )
    else {
        return Outcome::Ignored("the session names no statement, amount or payment");
    };
    if session.currency.as_deref() != Some(stripe::CURRENCY) {
        return Outcome::Ignored("the session is in another currency");
    }
    let report = ProcessorReport {
        event: processor_event,
        amount: Money::from_cents(amount),
        payment,
        object,
        at,
    };
    let ctx = context(state, organization, event);
    match billing::receive_payment(&state.store, organization, statement, &report, &ctx).await {
        Ok(_) => Outcome::Recorded,
        Err(CommandError::Rejected(CareError::Billing(BillingError::Overpayment(_)))) => {
            // The statement was paid meanwhile (two checkouts at once): the money goes back, so that no balance
            // goes below zero.
            let key = format!("overpayment-{}", event.id);
            if let Err(error) = state
                .processor()
                .refund(api_key, report.payment.as_str(), &key)
                .await
            {
                tracing::error!(%error, "could not refund a payment above the balance");
                return Outcome::Retry;
            }
            match billing::return_payment(&state.store, organization, statement, &report, &ctx)
                .await
            {
                Ok(_) => Outcome::Ignored("more than the balance: given back"),
                Err(error) => {
                    tracing::error!(%error, "could not record a payment given back");
                    Outcome::Retry
                }
            }
        }
        Err(CommandError::Rejected(error)) => {
            tracing::warn!(%error, "a payment the processor reported was refused");
            Outcome::Ignored("refused")
        }
        Err(error) => {
            tracing::error!(%error, "could not record a payment the processor reported");
            Outcome::Retry
        }
    }
}

async fn refunded(state: &AppState, organization: &OrganizationSummary, event: &Event) -> Outcome {
    let Ok(refund) = serde_json::from_value::<Refund>(event.data.object.clone()) else {
        return Outcome::Ignored("not a refund");
    };
    if refund.metadata.get("portal_reason").map(String::as_str) == Some(stripe::OVERPAYMENT) {
        // portal's own refund of a payment it could not record: there is nothing to give back on a statement.
        return Outcome::Ignored("the refund of an overpayment");
    }
    if refund.status.as_deref() != Some("succeeded") {
        // Pending refunds are reported again by refund.updated once they succeed.
        return Outcome::Ignored("the refund has not succeeded");
    }
    let (Some(payment), Some(object), Some(processor_event), Some(at)) = (
        refund.payment_intent.as_deref().and_then(reference),
        reference(&refund.id),
        reference(&event.id),
        stripe::unix_time(refund.created),
    ) else {
        return Outcome::Ignored("the refund names no payment");
    };
    if refund.amount <= 0 {
        return Outcome::Ignored("a refund of nothing");
    }
    let report = ProcessorReport {
        event: processor_event,
        amount: Money::from_cents(refund.amount),
        payment,
        object,
        at,
    };
    let ctx = context(state, organization, event);
    match billing::record_refund(&state.store, organization, &report, &ctx).await {
        Ok(_) => Outcome::Recorded,
        Err(CommandError::Rejected(CareError::Billing(BillingError::PaymentNotFound))) => {
            // Events may come out of order: the payment's own event may still be on its way.
            Outcome::Retry
        }
        Err(CommandError::Rejected(error)) => {
            tracing::warn!(%error, "a refund the processor reported was refused");
            Outcome::Ignored("refused")
        }
        Err(error) => {
            tracing::error!(%error, "could not record a refund the processor reported");
            Outcome::Retry
        }
    }
}
