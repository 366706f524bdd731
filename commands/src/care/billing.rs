//! Bills: issuing statements, recording payments taken by an outside processor, and the paperless preference.

use chrono::{DateTime, NaiveDate, Utc};
use portal_domain::care::billing::{
    BillingAccount, BillingError, ChoosePaperless, LineItem, Statement, StatementCommand,
    StatementState,
};
use portal_domain::care::Party;
use portal_domain::values::{MessageKind, Money, ProcessorReference};
use portal_domain::{AccountId, Decider};
use uuid::Uuid;

use super::{notice, patient, position, rejected, run, Result};
use crate::activities::derived_id;
use crate::handler::{CommandContext, Plan};
use crate::log::{EventLog, StreamId};
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
    let (state, _) = store.load::<Statement>(&stream(statement)).await?;
    let patient = match state {
        StatementState::Issued(info) if info.organization == organization.id => info.patient,
        _ => return Err(rejected(BillingError::NotFound)),
    };
    let payment_id = derived_id("payment", ctx.command_id);
    let executed = run::<L, Statement>(
        store,
        &stream(statement),
        Some(patient),
        ctx,
        "RecordPayment",
        &[
            statement.as_bytes(),
            payment.reference.as_str().as_bytes(),
            &payment.amount.cents().to_le_bytes(),
        ],
        |_| {
            Ok(Plan::command(
                organization.id.0,
                StatementCommand::RecordPayment {
                    payment_id,
                    amount: payment.amount,
                    reference: payment.reference.clone(),
                    paid_at: payment.paid_at,
                    by,
                },
            ))
        },
    )
    .await?;
    Ok((payment_id, position(&executed)))
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
