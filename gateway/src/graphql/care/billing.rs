//! Bills: statements issued to patients, payments recorded by the processor's reference, balances, paperless
//! billing.

use async_graphql::{ComplexObject, Context, InputObject, Object, Result, SimpleObject, ID};
use chrono::{DateTime, NaiveDate, Utc};
use portal_commands::care::billing::{self, Payment};
use portal_commands::handler::Actor;
use portal_domain::care::billing::LineItem;
use portal_domain::care::Area;
use portal_domain::values::{LineDescription, Money, ProcessorReference};
use portal_domain::AccountId;
use portal_projections::care::billing::{self as read, StatementRow};
use portal_projections::care::Record;
use uuid::Uuid;

use super::{acting, amount, audited_read, caught_up, uuid, CareObject, CarePayload, CareReader};
use crate::graphql::activities::organization;
use crate::graphql::errors::ApiError;
use crate::graphql::inputs::Checked;
use crate::graphql::mutation::context;
use crate::graphql::query::{projection_error, staff};
use crate::graphql::types::LogPosition;

/// A line of a statement.
#[derive(InputObject)]
pub struct LineItemInput {
    /// What it is for (one line, 1 to 200 characters).
    pub description: String,
    /// The amount (`125.50`).
    pub amount: String,
}

/// A statement to issue.
#[derive(InputObject)]
pub struct IssueStatementInput {
    /// The patient's account.
    pub patient_id: ID,
    /// Its lines (1 to 100).
    pub items: Vec<LineItemInput>,
    /// When payment is due.
    pub due_on: NaiveDate,
    /// Idempotency key.
    pub command_id: Option<Uuid>,
}

/// A payment the processor took.
#[derive(InputObject)]
pub struct RecordPaymentInput {
    /// The statement paid.
    pub statement_id: ID,
    /// The amount (`50.00`), at most the balance.
    pub amount: String,
    /// The processor's reference for the payment: the same reference and amount again is the same payment.
    pub processor_reference: String,
    /// When the processor took it.
    pub paid_at: DateTime<Utc>,
    /// Idempotency key.
    pub command_id: Option<Uuid>,
}

/// A line of a statement.
#[derive(SimpleObject)]
pub struct LineItemView {
    /// The line (its statement's and its place on it).
    pub id: ID,
    /// What for.
    pub description: String,
    /// The amount (`125.50`).
    pub amount: String,
}

/// A payment.
#[derive(SimpleObject)]
pub struct PaymentView {
    /// The payment.
    pub id: ID,
    /// The amount.
    pub amount: String,
    /// The processor's reference.
    pub processor_reference: String,
    /// When taken.
    pub paid_at: DateTime<Utc>,
    /// How much of it the processor refunded (`0.00`): that much is owed again.
    pub refunded: String,
}

/// A statement.
#[derive(SimpleObject)]
pub struct StatementView {
    /// The statement.
    pub id: ID,
    /// The patient's account.
    pub patient_id: ID,
    /// Its lines (empty once the patient's data was erased).
    pub items: Vec<LineItemView>,
    /// The total.
    pub total: String,
    /// What is still owed.
    pub balance: String,
    /// `open` or `paid`.
    pub status: String,
    /// When payment is due.
    pub due_on: NaiveDate,
    /// Issued.
    pub issued_at: DateTime<Utc>,
    /// Payments, oldest first.
    pub payments: Vec<PaymentView>,
}

/// A patient's billing account.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct BillingAccountView {
    /// The billing account (one per patient).
    pub id: ID,
    /// What the patient owes in all.
    pub balance: String,
    /// Statements by e-mail only.
    pub paperless: bool,
    /// Statements, newest first.
    pub statements: Vec<StatementView>,
    #[graphql(skip)]
    organization: Uuid,
}

#[ComplexObject]
impl BillingAccountView {
    /// Whether statements can be paid online (`payStatement`).
    async fn pay_online(&self, ctx: &Context<'_>) -> Result<bool> {
        // Read from the organization's stream only when asked: most reads of a billing account do not ask.
        let org = organization(
            context(ctx).0,
            portal_domain::OrganizationId(self.organization),
        )
        .await?;
        Ok(org.payments.is_some())
    }
}

fn view(row: StatementRow) -> StatementView {
    StatementView {
        id: ID(row.id.to_string()),
        patient_id: ID(row.patient_id.to_string()),
        items: row
            .items
            .into_iter()
            .enumerate()
            .map(|(n, i)| LineItemView {
                id: crate::graphql::ids::derived("LineItem", &[&row.id, &n]),
                description: i.description,
                amount: amount(i.amount_cents),
            })
            .collect(),
        total: amount(row.total_cents),
        balance: amount(row.balance_cents),
        status: if row.balance_cents == 0 {
            "paid"
        } else {
            "open"
        }
        .to_owned(),
        due_on: row.due_on,
        issued_at: row.issued_at,
        payments: row
            .payments
            .into_iter()
            .map(|p| PaymentView {
                id: ID(p.id.to_string()),
                amount: amount(p.amount_cents),
                processor_reference: p.processor_reference,
                paid_at: p.paid_at,
                refunded: amount(p.refunded_cents),
            })
            .collect(),
    }
}

/// Statement `id` as `reader` sees it, with its payments; the read goes to the access log.
pub async fn read_statement(
    ctx: &Context<'_>,
    reader: &CareReader,
    id: Uuid,
) -> Result<Option<StatementView>, ApiError> {
    let state = context(ctx).0;
    let organization = reader.organization();
    let Some(patient) = reader.patient_of(ctx, Record::Statement, id).await? else {
        return Ok(None);
    };
    let rows = read::of_patient(&state.pool, organization, patient)
        .await
        .map_err(projection_error)?;
    let Some(row) = rows.into_iter().find(|r| r.id == id) else {
        return Ok(None);
    };
    reader
        .audited(ctx, "statement", "statement", patient)
        .await?;
    Ok(Some(view(row)))
}

/// The billing account of `patient`, or of the patient of `statement`, as `reader` sees it; the read goes to the
/// access log.
pub async fn read_account(
    ctx: &Context<'_>,
    reader: &CareReader,
    statement: Option<Uuid>,
    patient: Option<AccountId>,
) -> Result<Option<BillingAccountView>, ApiError> {
    let state = context(ctx).0;
    let organization = reader.organization();
    let patient = match (patient, statement) {
        (Some(patient), _) => Some(patient.0),
        (None, Some(statement)) => reader.patient_of(ctx, Record::Statement, statement).await?,
        (None, None) => None,
    };
    let Some(patient) = patient.filter(|p| reader.may_read(*p)) else {
        return Ok(None);
    };
    let view = account(state, organization, patient).await?;
    reader.audited(ctx, "statement", "billing", patient).await?;
    Ok(Some(view))
}

async fn account(
    state: &crate::app::AppState,
    organization: Uuid,
    patient: Uuid,
) -> Result<BillingAccountView, ApiError> {
    let summary = read::summary(&state.pool, organization, patient)
        .await
        .map_err(projection_error)?;
    let statements = read::of_patient(&state.pool, organization, patient)
        .await
        .map_err(projection_error)?;
    Ok(BillingAccountView {
        organization,
        id: crate::graphql::ids::derived("BillingAccount", &[&patient]),
        balance: amount(summary.balance_cents),
        paperless: summary.paperless,
        statements: statements.into_iter().map(view).collect(),
    })
}

/// Billing mutations.
#[derive(Default)]
pub struct BillingMutation;

#[Object]
impl BillingMutation {
    /// Issues a statement to a patient (staff); a patient with paperless billing is told by e-mail that it is ready.
    async fn issue_statement(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The operation's input.")] input: IssueStatementInput,
    ) -> Result<CarePayload> {
        let staff = staff(ctx).await?;
        let (state, request) = context(ctx);
        let patient = uuid(&input.patient_id, "input.patientId")?;
        let mut checked = Checked::default();
        let mut items = Vec::with_capacity(input.items.len());
        for (i, item) in input.items.iter().enumerate() {
            let description = checked.value(
                &format!("items[{i}].description"),
                "DESCRIPTION_INVALID",
                LineDescription::parse(&item.description),
            );
            let amount = checked.value(
                &format!("items[{i}].amount"),
                "AMOUNT_INVALID",
                Money::parse(&item.amount, "amount"),
            );
            if let (Some(description), Some(amount)) = (description, amount) {
                items.push(LineItem {
                    description,
                    amount,
                });
            }
        }
        checked.finish()?;
        let org = organization(state, staff.organization).await?;
        let command = request.command(Actor::Account(staff.account.0), input.command_id);
        let (id, position) = billing::issue(
            &state.store,
            &org,
            AccountId(patient),
            items,
            input.due_on,
            staff.account,
            &command,
        )
        .await
        .map_err(ApiError::from_command)?;
        Ok(CarePayload::changed(
            Some(id),
            position,
            staff,
            CareObject::Statement(id),
        ))
    }

    /// Records a payment an outside processor took against a statement (staff, or the billing system's staff
    /// account); more than the balance answers OVERPAYMENT.
    async fn record_payment(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The operation's input.")] input: RecordPaymentInput,
    ) -> Result<CarePayload> {
        let staff = staff(ctx).await?;
        let (state, request) = context(ctx);
        let statement = uuid(&input.statement_id, "input.statementId")?;
        let mut checked = Checked::default();
        let amount = checked.value(
            "amount",
            "AMOUNT_INVALID",
            Money::parse(&input.amount, "amount"),
        );
        let reference = checked.value(
            "processorReference",
            "PROCESSOR_REFERENCE_INVALID",
            ProcessorReference::parse(&input.processor_reference),
        );
        checked.finish()?;
        let (Some(amount), Some(reference)) = (amount, reference) else {
            return Err(ApiError::new("ARGUMENT_INVALID", "the input is invalid").into());
        };
        let org = organization(state, staff.organization).await?;
        let command = request.command(Actor::Account(staff.account.0), input.command_id);
        let (id, position) = billing::record_payment(
            &state.store,
            &org,
            statement,
            Payment {
                amount,
                reference,
                paid_at: input.paid_at,
            },
            staff.account,
            &command,
        )
        .await
        .map_err(ApiError::from_command)?;
        Ok(CarePayload::changed(
            Some(id),
            position,
            staff,
            CareObject::Statement(statement),
        ))
    }

    /// Chooses paperless billing (statements by e-mail only) or paper (patients, or a proxy with full access).
    async fn set_paperless_billing(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "True: statements by e-mail only.")] paperless: bool,
    ) -> Result<CarePayload> {
        let acting = acting(ctx, Area::Billing).await?;
        let (state, request) = context(ctx);
        let org = organization(state, acting.principal.organization).await?;
        let command = request.command(acting.actor(), None);
        let position = billing::choose_paperless(
            &state.store,
            &org,
            acting.patient,
            paperless,
            acting.party(),
            &command,
        )
        .await
        .map_err(ApiError::from_command)?;
        let patient = acting.patient;
        Ok(CarePayload::changed(
            None,
            position,
            acting,
            CareObject::Billing(patient),
        ))
    }
}

/// Billing queries.
#[derive(Default)]
pub struct BillingQuery;

#[Object]
impl BillingQuery {
    /// The patient's balance, paperless choice and statements (patients, or a proxy with full access).
    async fn billing(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "Read your writes: wait until the read model has applied this log position (a mutation's `position`)."
        )]
        at_least: Option<LogPosition>,
    ) -> Result<BillingAccountView> {
        let acting = acting(ctx, Area::Billing).await?;
        let state = context(ctx).0;
        caught_up(state, at_least).await?;
        let view = account(state, acting.principal.organization.0, acting.patient.0).await?;
        acting.audited(ctx, "statement", "billing").await?;
        Ok(view)
    }

    /// A patient's balance, paperless choice and statements (staff).
    async fn patient_billing(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The patient (their account).")] patient_id: ID,
        #[graphql(
            desc = "Read your writes: wait until the read model has applied this log position (a mutation's `position`)."
        )]
        at_least: Option<LogPosition>,
    ) -> Result<BillingAccountView> {
        let staff = staff(ctx).await?;
        let state = context(ctx).0;
        let patient = uuid(&patient_id, "patientId")?;
        caught_up(state, at_least).await?;
        let view = account(state, staff.organization.0, patient).await?;
        audited_read(ctx, &staff, "statement", "patientBilling", [patient]).await?;
        Ok(view)
    }
}
