//! Online bill pay: staff set up their organization's own payment processor account; a patient (or a proxy with
//! access to bills) opens the processor's hosted checkout for a statement. The payment itself is recorded when the
//! processor's signed webhook reports it (`crate::payments`).

use async_graphql::{Context, InputObject, Object, Result, SimpleObject, ID};
use chrono::{DateTime, Utc};
use portal_commands::care::billing;
use portal_commands::handler::Actor;
use portal_commands::organizations::{self, OrganizationSummary};
use portal_domain::care::Area;
use portal_domain::values::{Money, ProcessorApiKey, WebhookSigningSecret};
use uuid::Uuid;

use super::{acting, amount, uuid};
use crate::app::AppState;
use crate::graphql::activities::organization;
use crate::graphql::errors::ApiError;
use crate::graphql::ids::derived;
use crate::graphql::inputs::Checked;
use crate::graphql::mutation::{context, throttle};
use crate::graphql::query::staff;
use crate::graphql::types::LogPosition;
use crate::payments::stripe::{CheckoutRequest, ProcessorError};
use crate::throttle::Action;

/// Online bill pay as staff see it: whether it is on and with which key, never the keys themselves.
#[derive(SimpleObject)]
pub struct OnlinePaymentsView {
    /// The setting (one per organization).
    pub id: ID,
    /// Whether patients can pay statements online.
    pub enabled: bool,
    /// The last four characters of the secret API key in use.
    pub key_hint: Option<String>,
    /// Whether the key takes real money (live mode) rather than test payments.
    pub live: bool,
    /// The address to register at the processor as the webhook endpoint (events `checkout.session.completed`,
    /// `checkout.session.async_payment_succeeded`, `refund.created`, `refund.updated`).
    pub webhook_url: String,
}

/// What setting up or turning off online bill pay answers.
#[derive(SimpleObject)]
pub struct OnlinePaymentsPayload {
    /// The log position produced.
    pub position: LogPosition,
    /// The setting as it now is.
    pub online_payments: OnlinePaymentsView,
}

/// The organization's payment processor account.
#[derive(InputObject)]
pub struct SetPaymentProcessorInput {
    /// The secret API key (`sk_test_…`, `sk_live_…`, or a restricted `rk_…` key that may write Checkout
    /// Sessions and refunds).
    pub api_key: String,
    /// The webhook endpoint's signing secret (`whsec_…`).
    pub webhook_secret: String,
    /// Idempotency key.
    pub command_id: Option<Uuid>,
}

/// A statement to pay.
#[derive(InputObject)]
pub struct PayStatementInput {
    /// The statement.
    pub statement_id: ID,
    /// How much to pay now (`40.00`); the whole balance when omitted.
    pub amount: Option<String>,
    /// Idempotency key: a retry with the same id opens no second checkout.
    pub command_id: Option<Uuid>,
}

/// A checkout session opened at the processor: send the patient to `checkoutUrl`.
#[derive(SimpleObject)]
pub struct StatementCheckout {
    /// The processor's id of the session.
    pub id: ID,
    /// The processor's hosted payment page.
    pub checkout_url: String,
    /// The amount to pay there.
    pub amount: String,
    /// When the page stops taking the payment.
    pub expires_at: DateTime<Utc>,
}

fn view(state: &AppState, org: &OrganizationSummary) -> OnlinePaymentsView {
    OnlinePaymentsView {
        id: derived("OnlinePayments", &[&org.id.0]),
        enabled: org.payments.is_some(),
        key_hint: org.payments.as_ref().map(|p| p.key_hint.clone()),
        live: org.payments.as_ref().is_some_and(|p| p.live),
        webhook_url: format!("{}/payments/webhook/{}", state.api_url, org.code.as_str()),
    }
}

async fn set(
    ctx: &Context<'_>,
    keys: Option<(ProcessorApiKey, WebhookSigningSecret)>,
    command_id: Option<Uuid>,
) -> Result<OnlinePaymentsPayload> {
    let staff = staff(ctx).await?;
    let (state, request) = context(ctx);
    let command = request.command(Actor::Account(staff.account.0), command_id);
    let position = organizations::set_payment_processor(
        &state.store,
        staff.organization,
        keys,
        Some(staff.account),
        &command,
    )
    .await
    .map_err(ApiError::from_command)?;
    let org = organization(state, staff.organization).await?;
    Ok(OnlinePaymentsPayload {
        position: LogPosition(position),
        online_payments: view(state, &org),
    })
}

fn processor_error(error: ProcessorError) -> ApiError {
    match error {
        ProcessorError::Unavailable(reason) => {
            tracing::warn!(%reason, "the payment processor is unavailable");
            ApiError::new(
                "PAYMENT_PROCESSOR_UNAVAILABLE",
                "the payment service cannot be reached; try again in a few minutes",
            )
        }
        ProcessorError::Refused(reason) => {
            tracing::error!(%reason, "the payment processor refused a checkout");
            ApiError::new(
                "PAYMENT_PROCESSOR_REFUSED",
                "the payment service did not open a checkout; please call the billing office",
            )
        }
    }
}

/// Online bill pay mutations.
#[derive(Default)]
pub struct PaymentMutation;

#[Object]
impl PaymentMutation {
    /// Sets up online bill pay with your organization's own payment processor account (staff only). The keys are
    /// sealed before they are kept and never shown again; register `onlinePayments.webhookUrl` at the processor.
    async fn set_payment_processor(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The operation's input.")] input: SetPaymentProcessorInput,
    ) -> Result<OnlinePaymentsPayload> {
        let mut checked = Checked::default();
        let key = checked.value(
            "apiKey",
            "API_KEY_INVALID",
            ProcessorApiKey::parse(&input.api_key),
        );
        let secret = checked.value(
            "webhookSecret",
            "WEBHOOK_SECRET_INVALID",
            WebhookSigningSecret::parse(&input.webhook_secret),
        );
        checked.finish()?;
        let (Some(key), Some(secret)) = (key, secret) else {
            return Err(ApiError::new("ARGUMENT_INVALID", "the input is invalid").into());
        };
        set(ctx, Some((key, secret)), input.command_id).await
    }

    /// Turns online bill pay off (staff only): patients can no longer open a checkout; payments and refunds of
    /// checkouts already open are no longer recorded from the processor, so record them with `recordPayment`.
    async fn turn_off_online_payments(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "Idempotency key: a retry with the same id returns the first answer instead of acting twice."
        )]
        command_id: Option<Uuid>,
    ) -> Result<OnlinePaymentsPayload> {
        set(ctx, None, command_id).await
    }

    /// Opens the payment processor's hosted checkout for a statement (patients, or a proxy with access to bills):
    /// the whole balance, or part of it. The payment shows on the statement once the processor confirms it.
    async fn pay_statement(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The operation's input.")] input: PayStatementInput,
    ) -> Result<StatementCheckout> {
        let acting = acting(ctx, Area::Billing).await?;
        let (state, request) = context(ctx);
        throttle(
            state,
            request,
            Action::PayStatement,
            Some(&acting.patient.0.to_string()),
        )?;
        let statement = uuid(&input.statement_id, "input.statementId")?;
        let mut checked = Checked::default();
        let requested = match &input.amount {
            Some(raw) => checked.value("amount", "AMOUNT_INVALID", Money::parse(raw, "amount")),
            None => None,
        };
        checked.finish()?;
        let org = organization(state, acting.principal.organization).await?;
        let Some(keys) = organizations::processor_keys(&state.store, &org) else {
            return Err(ApiError::new(
                "ONLINE_PAYMENTS_OFF",
                "this organization does not take payments online; please call the billing office",
            )
            .into());
        };
        let amount_due = billing::payable(&state.store, &org, statement, acting.patient, requested)
            .await
            .map_err(ApiError::from_command)?;
        let billing_page = format!("{}/o/{}/billing", state.store.public_url, org.code.as_str());
        let success_url = format!("{billing_page}?paid={statement}");
        let description = format!("Statement from {}", org.name.as_str());
        let idempotency_key = format!(
            "portal-checkout-{}",
            input.command_id.unwrap_or_else(Uuid::new_v4)
        );
        let session = state
            .processor()
            .create_checkout_session(
                &keys.api_key,
                &CheckoutRequest {
                    statement,
                    organization: org.code.as_str(),
                    amount_cents: amount_due.cents(),
                    description: &description,
                    success_url: &success_url,
                    cancel_url: &billing_page,
                    now: state.now(),
                },
                &idempotency_key,
            )
            .await
            .map_err(processor_error)?;
        Ok(StatementCheckout {
            id: ID(session.id),
            checkout_url: session.url,
            amount: amount(session.amount_total),
            expires_at: crate::payments::stripe::unix_time(session.expires_at)
                .unwrap_or_else(|| state.now()),
        })
    }
}

/// Online bill pay queries.
#[derive(Default)]
pub struct PaymentQuery;

#[Object]
impl PaymentQuery {
    /// Whether your organization takes payments online, with which key, and its webhook address (staff only).
    async fn online_payments(&self, ctx: &Context<'_>) -> Result<OnlinePaymentsView> {
        let staff = staff(ctx).await?;
        let state = context(ctx).0;
        let org = organization(state, staff.organization).await?;
        Ok(view(state, &org))
    }
}
