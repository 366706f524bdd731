//! Bills: issuing statements, recording payments taken by an outside processor (entered by staff, or reported by
//! the processor's webhook), the processor's refunds, and the paperless preference.
//!
//! Each payment's processor reference is claimed for its statement, so that a refund, which names only the
//! payment, finds its statement, and so that one payment cannot be recorded on two statements.

use chrono::{DateTime, NaiveDate, Utc};
use portal_domain::care::billing::{
    self as domain, BillingAccount, BillingError, ChoosePaperless, LineItem, Statement,
    StatementCommand, StatementState,
};
use portal_domain::care::Party;
use portal_domain::values::{MessageKind, Money, ProcessorReference};
use portal_domain::{AccountId, Decider};
use uuid::Uuid;

use super::{notice, patient, position, rejected, run, Result};
use crate::activities::derived_id;
use crate::handler::CommandError;
use crate::handler::{CommandContext, Plan};
use crate::log::{Claim, EventLog, StreamId};
use crate::organizations::OrganizationSummary;
use crate::store::Store;

/// A statement's stream.
pub fn stream(id: Uuid) -> StreamId {
    StreamId::new(Statement::CATEGORY, id)
}

/// A patient's billing preferences' stream.
pub fn account_stream(patient: AccountId) -> StreamId {
    StreamId::new(BillingAccount::CATEGORY, patient.0)
}

/// Issues a statement to a patient; a patient who chose paperless billing is told by e-mail that it is ready.
/// Returns the statement's id and the position.
pub async fn issue<L: EventLog>(
    store: &Store<L>,
    organization: &OrganizationSummary,
    to: AccountId,
    items: Vec<LineItem>,
    due_on: NaiveDate,
    by: AccountId,
    ctx: &CommandContext,
) -> Result<(Uuid, i64)> {
    let profile = patient(store, organization, to).await?;
    let paperless = store
        .load::<BillingAccount>(&account_stream(to))
        .await?
        .0
        .paperless;
    let notices = if paperless {
        notice(
            &profile,
            MessageKind::StatementReady,
            None,
            serde_json::json!({ "due": due_on.to_string() }),
            ctx.now,
        )
    } else {
        vec![]
    };
    let id = derived_id("statement", ctx.command_id);
    let input = format!("{to:?}{items:?}{due_on}");
    let executed = run::<L, Statement>(
        store,
        &stream(id),
        Some(to),
        ctx,
        "IssueStatement",
        &[input.as_bytes()],
        |_| {
            Ok(Plan::with_outbox(
                organization.id.0,
                StatementCommand::Issue {
                    id,
                    organization: organization.id,
                    patient: to,
                    items: items.clone(),
                    due_on,
                    by,
                },
                notices.clone(),
            ))
        },
    )
    .await?;
    Ok((id, position(&executed)))
}

/// Uniqueness kind of payments' processor references (scope: the organization): the statement that owns each.
const PAYMENT_CLAIM: &str = "processor_payment";

fn payment_claim<L: EventLog>(
    store: &Store<L>,
    organization: &OrganizationSummary,
    statement: Uuid,
    reference: &ProcessorReference,
) -> Claim {
    Claim {
        scope: organization.id.0,
        kind: PAYMENT_CLAIM.to_owned(),
        key: store.secrets.index_hash(PAYMENT_CLAIM, reference.as_str()),
        owner: stream(statement),
    }
}

/// A payment recorded on another statement of the organization is refused as a reuse of its reference.
fn reused<E>(error: CommandError<E>) -> CommandError<E>
where
    E: From<BillingError>,
{
    match error {
        CommandError::Taken { .. } => CommandError::Rejected(BillingError::ReferenceReused.into()),
        other => other,
    }
}

/// How much patient `patient` may pay of `statement` now through the processor's checkout (`requested`, or the
/// whole balance).
pub async fn payable<L: EventLog>(
    store: &Store<L>,
    organization: &OrganizationSummary,
    statement: Uuid,
    patient: AccountId,
    requested: Option<Money>,
) -> Result<Money> {
    let (state, _) = store.load::<Statement>(&stream(statement)).await?;
    if matches!(&state, StatementState::Issued(info) if info.organization != organization.id) {
        return Err(rejected(BillingError::NotFound));
    }
    domain::payable(&state, patient, requested).map_err(rejected)
}

/// The patient of the organization's `statement`, or STATEMENT_NOT_FOUND.
async fn patient_of<L: EventLog>(
    store: &Store<L>,
    organization: &OrganizationSummary,
    statement: Uuid,
) -> Result<AccountId> {
    match store.load::<Statement>(&stream(statement)).await?.0 {
        StatementState::Issued(info) if info.organization == organization.id => Ok(info.patient),
        _ => Err(rejected(BillingError::NotFound)),
    }
}

/// A payment the processor took.
#[derive(Clone, Debug)]
pub struct Payment {
    /// How much.
    pub amount: Money,
    /// The processor's reference.
    pub reference: ProcessorReference,
    /// When it was taken.
    pub paid_at: DateTime<Utc>,
}

/// Records a payment against a statement; the same processor reference and amount again is the same payment.
/// Returns the payment's id and the position.
pub async fn record_payment<L: EventLog>(
    store: &Store<L>,
    organization: &OrganizationSummary,
    statement: Uuid,
    payment: Payment,
    by: AccountId,
    ctx: &CommandContext,
) -> Result<(Uuid, i64)> {
    pay(
        store,
        organization,
        statement,
        "RecordPayment",
        (&payment.reference, payment.amount),
        |payment_id| StatementCommand::RecordPayment {
            payment_id,
            amount: payment.amount,
            reference: payment.reference.clone(),
            paid_at: payment.paid_at,
            by,
        },
        ctx,
    )
    .await
}

/// Runs payment command `name` on the organization's `statement`, claiming the payment's processor reference for
/// it; `command` gets the payment's id. Returns the payment's id and the position.
async fn pay<L: EventLog>(
    store: &Store<L>,
    organization: &OrganizationSummary,
    statement: Uuid,
    name: &str,
    (reference, amount): (&ProcessorReference, Money),
    command: impl Fn(Uuid) -> StatementCommand,
    ctx: &CommandContext,
) -> Result<(Uuid, i64)> {
    let patient = patient_of(store, organization, statement).await?;
    let payment_id = derived_id("payment", ctx.command_id);
    let executed = run::<L, Statement>(
        store,
        &stream(statement),
        Some(patient),
        ctx,
        name,
        &[
            statement.as_bytes(),
            reference.as_str().as_bytes(),
            &amount.cents().to_le_bytes(),
        ],
        |_| {
            Ok(Plan {
                claims: vec![payment_claim(store, organization, statement, reference)],
                ..Plan::command(organization.id.0, command(payment_id))
            })
        },
    )
    .await
    .map_err(reused)?;
    Ok((payment_id, position(&executed)))
}

/// A payment or refund the processor reported through its webhook.
#[derive(Clone, Debug)]
pub struct ProcessorReport {
    /// The processor's event.
    pub event: ProcessorReference,
    /// How much.
    pub amount: Money,
    /// The processor's reference of the payment (its payment intent).
    pub payment: ProcessorReference,
    /// The checkout session (payments) or the refund (refunds).
    pub object: ProcessorReference,
    /// When the processor took or gave back the money.
    pub at: DateTime<Utc>,
}

/// Records a payment the processor reports for `statement` (a completed checkout session). The command id is the
/// processor event's, so the event delivered again is the same command; the payment reported by another event is
/// still one payment.
pub async fn receive_payment<L: EventLog>(
    store: &Store<L>,
    organization: &OrganizationSummary,
    statement: Uuid,
    report: &ProcessorReport,
    ctx: &CommandContext,
) -> Result<i64> {
    let (_, position) = pay(
        store,
        organization,
        statement,
        "ReceivePayment",
        (&report.payment, report.amount),
        |payment_id| StatementCommand::ReceivePayment {
            payment_id,
            amount: report.amount,
            reference: report.payment.clone(),
            checkout_session: report.object.clone(),
            processor_event: report.event.clone(),
            paid_at: report.at,
        },
        ctx,
    )
    .await?;
    Ok(position)
}

/// Records that a payment the processor reported for `statement` was above the balance and was given back in full
/// (the caller asked the processor for the refund first). Its command id is derived from `ctx`'s, which the refused
/// payment used.
pub async fn return_payment<L: EventLog>(
    store: &Store<L>,
    organization: &OrganizationSummary,
    statement: Uuid,
    report: &ProcessorReport,
    ctx: &CommandContext,
) -> Result<i64> {
    let patient = patient_of(store, organization, statement).await?;
    let ctx = CommandContext {
        command_id: derived_id("return", ctx.command_id),
        ..ctx.clone()
    };
    let executed = run::<L, Statement>(
        store,
        &stream(statement),
        Some(patient),
        &ctx,
        "ReturnPayment",
        &[statement.as_bytes(), report.payment.as_str().as_bytes()],
        |_| {
            Ok(Plan::command(
                organization.id.0,
                StatementCommand::ReturnPayment {
                    amount: report.amount,
                    reference: report.payment.clone(),
                    processor_event: report.event.clone(),
                },
            ))
        },
    )
    .await?;
    Ok(position(&executed))
}

/// Records a refund the processor reports; the statement is the one its payment was recorded on.
pub async fn record_refund<L: EventLog>(
    store: &Store<L>,
    organization: &OrganizationSummary,
    report: &ProcessorReport,
    ctx: &CommandContext,
) -> Result<i64> {
    let key = store
        .secrets
        .index_hash(PAYMENT_CLAIM, report.payment.as_str());
    let statement = store
        .log
        .find_claim(organization.id.0, PAYMENT_CLAIM, &key)
        .await
        .map_err(CommandError::Log)?
        .and_then(|owner| owner.id())
        .ok_or_else(|| rejected(BillingError::PaymentNotFound))?;
    let (state, _) = store.load::<Statement>(&stream(statement)).await?;
    let StatementState::Issued(info) = state else {
        return Err(rejected(BillingError::PaymentNotFound));
    };
    let refund_id = derived_id("refund", ctx.command_id);
    let executed = run::<L, Statement>(
        store,
        &stream(statement),
        Some(info.patient),
        ctx,
        "RecordRefund",
        &[
            report.payment.as_str().as_bytes(),
            report.object.as_str().as_bytes(),
            &report.amount.cents().to_le_bytes(),
        ],
        |_| {
            Ok(Plan::command(
                organization.id.0,
                StatementCommand::RecordRefund {
                    refund_id,
                    payment: report.payment.clone(),
                    reference: report.object.clone(),
                    amount: report.amount,
                    processor_event: report.event.clone(),
                    refunded_at: report.at,
                },
            ))
        },
    )
    .await?;
    Ok(position(&executed))
}

/// Chooses paper or paperless statements for a patient.
pub async fn choose_paperless<L: EventLog>(
    store: &Store<L>,
    organization: &OrganizationSummary,
    of: AccountId,
    paperless: bool,
    by: Party,
    ctx: &CommandContext,
) -> Result<i64> {
    patient(store, organization, of).await?;
    let executed = run::<L, BillingAccount>(
        store,
        &account_stream(of),
        Some(of),
        ctx,
        "ChoosePaperlessBilling",
        &[of.0.as_bytes(), &[u8::from(paperless)]],
        |_| {
            Ok(Plan::command(
                organization.id.0,
                ChoosePaperless {
                    organization: organization.id,
                    patient: of,
                    paperless,
                    by,
                },
            ))
        },
    )
    .await?;
    Ok(position(&executed))
}
