//! Bills: the organization issues statements to a patient (lines, amounts, a due date); payments made through an
//! outside processor are recorded against them by its reference, by staff or from the processor's webhook, and so
//! are the processor's refunds; a balance never goes below zero nor above the total; a patient chooses paperless
//! billing.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::Party;
use crate::values::{LineDescription, Money, ProcessorReference};
use crate::{AccountId, Decider, DomainEvent, ErrorCode, OrganizationId, Personal};

/// The statement aggregate: one stream per statement.
pub struct Statement;

/// The most lines one statement has.
pub const MAX_LINES: usize = 100;

/// A line of a statement.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineItem {
    /// What it is for.
    pub description: LineDescription,
    /// How much.
    pub amount: Money,
}

/// A statement as its events left it.
#[derive(Clone, Debug, PartialEq)]
pub struct StatementInfo {
    /// The statement.
    pub id: Uuid,
    /// The organization.
    pub organization: OrganizationId,
    /// The patient.
    pub patient: AccountId,
    /// The total billed.
    pub total: Money,
    /// What is still owed.
    pub balance: Money,
    /// Payments recorded, oldest first.
    pub payments: Vec<PaymentInfo>,
    /// The processor's references of the refunds recorded, with their amounts.
    pub refunds: Vec<(ProcessorReference, Money)>,
    /// The processor's references of the payments given back as more than the balance.
    pub returned: Vec<ProcessorReference>,
}

/// A payment recorded against a statement.
#[derive(Clone, Debug, PartialEq)]
pub struct PaymentInfo {
    /// The processor's reference.
    pub reference: ProcessorReference,
    /// How much was paid.
    pub amount: Money,
    /// How much of it was refunded since.
    pub refunded: Money,
}

/// How much a patient may pay now of statement `state` through the processor's checkout: `requested`, or the whole
/// balance when None. The statement must be the patient's, with something owed, and the amount above zero and at
/// most the balance.
pub fn payable(
    state: &StatementState,
    patient: AccountId,
    requested: Option<Money>,
) -> Result<Money, BillingError> {
    let info = match state {
        StatementState::Issued(info) if info.patient == patient => info,
        _ => return Err(BillingError::NotFound),
    };
    if info.balance == Money::ZERO {
        return Err(BillingError::AlreadyPaid);
    }
    match requested {
        None => Ok(info.balance),
        Some(amount) if amount == Money::ZERO => Err(BillingError::ZeroPayment),
        Some(amount) if amount.cents() > info.balance.cents() => {
            Err(BillingError::Overpayment(info.balance))
        }
        Some(amount) => Ok(amount),
    }
}

/// The lifecycle of a statement.
#[derive(Clone, Debug, Default, PartialEq)]
pub enum StatementState {
    /// Nothing recorded.
    #[default]
    Absent,
    /// Issued.
    Issued(Box<StatementInfo>),
}

/// Commands on a statement.
#[derive(Clone, Debug)]
pub enum StatementCommand {
    /// Issues a statement (staff or the billing system).
    Issue {
        /// The statement's id.
        id: Uuid,
        /// The organization.
        organization: OrganizationId,
        /// The patient's account.
        patient: AccountId,
        /// Its lines (1 to 100).
        items: Vec<LineItem>,
        /// When payment is due.
        due_on: NaiveDate,
        /// Who issued it.
        by: AccountId,
    },
    /// Records a payment the processor took.
    RecordPayment {
        /// The payment's id.
        payment_id: Uuid,
        /// How much.
        amount: Money,
        /// The processor's reference.
        reference: ProcessorReference,
        /// When the processor took it.
        paid_at: DateTime<Utc>,
        /// Who recorded it.
        by: AccountId,
    },
    /// Records a payment the processor reports through its webhook (a completed checkout session).
    ReceivePayment {
        /// The payment's id.
        payment_id: Uuid,
        /// How much.
        amount: Money,
        /// The processor's reference of the payment (its payment intent).
        reference: ProcessorReference,
        /// The checkout session it was paid through.
        checkout_session: ProcessorReference,
        /// The processor's event that reported it.
        processor_event: ProcessorReference,
        /// When the processor took it.
        paid_at: DateTime<Utc>,
    },
    /// Records that a payment the processor reported was more than the balance and was given back in full.
    ReturnPayment {
        /// How much.
        amount: Money,
        /// The processor's reference of the payment (its payment intent).
        reference: ProcessorReference,
        /// The processor's event that reported it.
        processor_event: ProcessorReference,
    },
    /// Records a refund the processor reports through its webhook.
    RecordRefund {
        /// The refund's id.
        refund_id: Uuid,
        /// The processor's reference of the payment refunded.
        payment: ProcessorReference,
        /// The processor's reference of the refund.
        reference: ProcessorReference,
        /// How much was given back.
        amount: Money,
        /// The processor's event that reported it.
        processor_event: ProcessorReference,
        /// When the processor made it.
        refunded_at: DateTime<Utc>,
    },
}

/// Events of a statement.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", content = "data")]
pub enum StatementEvent {
    /// Issued.
    StatementIssued(StatementIssued),
    /// A payment was recorded.
    PaymentRecorded(PaymentRecorded),
    /// The processor reported a payment.
    PaymentReceived(PaymentReceived),
    /// The processor reported a refund.
    RefundRecorded(RefundRecorded),
    /// A payment above the balance was given back.
    PaymentReturned(PaymentReturned),
}

/// The processor reported a payment above what was still owed (two checkouts paid at once), and portal asked the
/// processor to give it back in full instead of recording it (v1). The balance is unchanged.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PaymentReturned {
    /// How much was paid and given back.
    pub amount: Money,
    /// The processor's reference of the payment (its payment intent).
    pub reference: ProcessorReference,
    /// The processor's event that reported it.
    pub processor_event: ProcessorReference,
    /// When.
    pub at: DateTime<Utc>,
}

/// The processor reported a payment taken through its checkout (v1).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PaymentReceived {
    /// The payment.
    pub payment_id: Uuid,
    /// How much.
    pub amount: Money,
    /// The processor's reference of the payment (its payment intent).
    pub reference: ProcessorReference,
    /// The checkout session it was paid through.
    pub checkout_session: ProcessorReference,
    /// The processor's event that reported it.
    pub processor_event: ProcessorReference,
    /// When the processor took it.
    pub paid_at: DateTime<Utc>,
    /// What is still owed after it.
    pub balance: Money,
    /// When it was recorded.
    pub at: DateTime<Utc>,
}

/// The processor reported a refund of a payment (v1): the amount is owed again.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RefundRecorded {
    /// The refund.
    pub refund_id: Uuid,
    /// The processor's reference of the payment refunded.
    pub payment_reference: ProcessorReference,
    /// The processor's reference of the refund.
    pub reference: ProcessorReference,
    /// How much was given back.
    pub amount: Money,
    /// The processor's event that reported it.
    pub processor_event: ProcessorReference,
    /// When the processor made it.
    pub refunded_at: DateTime<Utc>,
    /// What is owed after it.
    pub balance: Money,
    /// When it was recorded.
    pub at: DateTime<Utc>,
}

/// A statement was issued (v1).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StatementIssued {
    /// The statement.
    pub statement_id: Uuid,
    /// The organization.
    pub organization_id: OrganizationId,
    /// The patient's account.
    pub patient_id: AccountId,
    /// Its lines (personal: they name the care received).
    pub items: Personal<Vec<LineItem>>,
    /// The total.
    pub total: Money,
    /// When payment is due.
    pub due_on: NaiveDate,
    /// Who issued it.
    pub by: AccountId,
    /// When.
    pub at: DateTime<Utc>,
}

/// A payment was recorded against a statement (v1).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PaymentRecorded {
    /// The payment.
    pub payment_id: Uuid,
    /// How much.
    pub amount: Money,
    /// The processor's reference.
    pub reference: ProcessorReference,
    /// When the processor took it.
    pub paid_at: DateTime<Utc>,
    /// What is still owed after it.
    pub balance: Money,
    /// Who recorded it.
    pub by: AccountId,
    /// When.
    pub at: DateTime<Utc>,
}

impl DomainEvent for StatementEvent {
    fn event_type(&self) -> &'static str {
        match self {
            StatementEvent::StatementIssued(_) => "StatementIssued",
            StatementEvent::PaymentRecorded(_) => "PaymentRecorded",
            StatementEvent::PaymentReceived(_) => "PaymentReceived",
            StatementEvent::RefundRecorded(_) => "RefundRecorded",
            StatementEvent::PaymentReturned(_) => "PaymentReturned",
        }
    }
}

/// Why a billing command is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BillingError {
    /// No such statement.
    #[error("no such statement")]
    NotFound,
    /// The id is taken.
    #[error("this statement exists already")]
    Exists,
    /// No lines, too many, or a total of zero.
    #[error("a statement has 1 to 100 lines and a total above zero")]
    Lines,
    /// The payment is more than what is owed.
    #[error("the payment is more than the balance of {0}")]
    Overpayment(Money),
    /// A payment of zero.
    #[error("a payment is above zero")]
    ZeroPayment,
    /// The reference was recorded before with another amount.
    #[error("this processor reference was recorded before with another amount")]
    ReferenceReused,
    /// The processor cannot have taken a payment in the future.
    #[error("a payment is taken before it is recorded")]
    PaidInFuture,
    /// The due date is before the statement is issued.
    #[error("a statement is due on the day it is issued or later")]
    DueBeforeIssue,
    /// Nothing is owed on the statement.
    #[error("this statement is paid")]
    AlreadyPaid,
    /// A refund names a payment that was not recorded on the statement.
    #[error("no payment with this processor reference was recorded on the statement")]
    PaymentNotFound,
    /// A refund is more than what is left of its payment.
    #[error("the refund is more than the {0} left of its payment")]
    RefundTooLarge(Money),
}

impl ErrorCode for BillingError {
    fn code(&self) -> &'static str {
        match self {
            BillingError::NotFound => "STATEMENT_NOT_FOUND",
            BillingError::Exists => "STATEMENT_EXISTS",
            BillingError::Lines => "STATEMENT_LINES_INVALID",
            BillingError::Overpayment(_) => "OVERPAYMENT",
            BillingError::ZeroPayment => "AMOUNT_INVALID",
            BillingError::ReferenceReused => "PROCESSOR_REFERENCE_REUSED",
            BillingError::PaidInFuture => "PAID_IN_FUTURE",
            BillingError::DueBeforeIssue => "DUE_DATE_INVALID",
            BillingError::AlreadyPaid => "STATEMENT_PAID",
            BillingError::PaymentNotFound => "PAYMENT_NOT_FOUND",
            BillingError::RefundTooLarge(_) => "REFUND_TOO_LARGE",
        }
    }

    fn field(&self) -> Option<&'static str> {
        match self {
            BillingError::NotFound | BillingError::AlreadyPaid => Some("statementId"),
            BillingError::PaymentNotFound => Some("paymentReference"),
            BillingError::RefundTooLarge(_) => Some("amount"),
            BillingError::Lines => Some("items"),
            BillingError::Overpayment(_) | BillingError::ZeroPayment => Some("amount"),
            BillingError::ReferenceReused => Some("processorReference"),
            BillingError::PaidInFuture => Some("paidAt"),
            BillingError::DueBeforeIssue => Some("dueOn"),
            BillingError::Exists => None,
        }
    }
}

impl Decider for Statement {
    type State = StatementState;
    type Command = StatementCommand;
    type Event = StatementEvent;
    type Error = BillingError;
    const CATEGORY: &'static str = "statement";

    fn decide(
        state: &Self::State,
        command: Self::Command,
        now: DateTime<Utc>,
    ) -> Result<Vec<Self::Event>, Self::Error> {
        match (state, command) {
            (
                StatementState::Absent,
                StatementCommand::Issue {
                    id,
                    organization,
                    patient,
                    items,
                    due_on,
                    by,
                },
            ) => {
                let total = items
                    .iter()
                    .fold(Money::ZERO, |sum, item| sum.plus(item.amount));
                if items.is_empty() || items.len() > MAX_LINES || total == Money::ZERO {
                    return Err(BillingError::Lines);
                }
                // A day's grace: the organization's date may be a day behind UTC's.
                if due_on < (now - chrono::Duration::days(1)).date_naive() {
                    return Err(BillingError::DueBeforeIssue);
                }
                Ok(vec![StatementEvent::StatementIssued(StatementIssued {
                    statement_id: id,
                    organization_id: organization,
                    patient_id: patient,
                    items: Personal::Known(items),
                    total,
                    due_on,
                    by,
                    at: now,
                })])
            }
            (StatementState::Issued(_), StatementCommand::Issue { .. }) => {
                Err(BillingError::Exists)
            }
            (StatementState::Absent, _) => Err(BillingError::NotFound),
            (
                StatementState::Issued(info),
                StatementCommand::RecordPayment {
                    payment_id,
                    amount,
                    reference,
                    paid_at,
                    by,
                },
            ) => {
                let Some(balance) = pay(info, &reference, amount, paid_at, now)? else {
                    return Ok(vec![]);
                };
                Ok(vec![StatementEvent::PaymentRecorded(PaymentRecorded {
                    payment_id,
                    amount,
                    reference,
                    paid_at,
                    balance,
                    by,
                    at: now,
                })])
            }
            (
                StatementState::Issued(info),
                StatementCommand::ReceivePayment {
                    payment_id,
                    amount,
                    reference,
                    checkout_session,
                    processor_event,
                    paid_at,
                },
            ) => {
                let Some(balance) = pay(info, &reference, amount, paid_at, now)? else {
                    return Ok(vec![]);
                };
                Ok(vec![StatementEvent::PaymentReceived(PaymentReceived {
                    payment_id,
                    amount,
                    reference,
                    checkout_session,
                    processor_event,
                    paid_at,
                    balance,
                    at: now,
                })])
            }
            (
                StatementState::Issued(info),
                StatementCommand::ReturnPayment {
                    amount,
                    reference,
                    processor_event,
                },
            ) => Ok(
                if info.returned.contains(&reference)
                    || info.payments.iter().any(|p| p.reference == reference)
                {
                    vec![]
                } else {
                    vec![StatementEvent::PaymentReturned(PaymentReturned {
                        amount,
                        reference,
                        processor_event,
                        at: now,
                    })]
                },
            ),
            (
                StatementState::Issued(info),
                StatementCommand::RecordRefund {
                    refund_id,
                    payment,
                    reference,
                    amount,
                    processor_event,
                    refunded_at,
                },
            ) => {
                // The processor may report one refund more than once (created, then updated): it is one refund.
                if let Some((_, recorded)) = info.refunds.iter().find(|(r, _)| *r == reference) {
                    return if *recorded == amount {
                        Ok(vec![])
                    } else {
                        Err(BillingError::ReferenceReused)
                    };
                }
                let refunded = info
                    .payments
                    .iter()
                    .find(|p| p.reference == payment)
                    .ok_or(BillingError::PaymentNotFound)?;
                if amount == Money::ZERO {
                    return Err(BillingError::ZeroPayment);
                }
                let left = refunded
                    .amount
                    .minus(refunded.refunded)
                    .unwrap_or(Money::ZERO);
                if amount.cents() > left.cents() {
                    return Err(BillingError::RefundTooLarge(left));
                }
                Ok(vec![StatementEvent::RefundRecorded(RefundRecorded {
                    refund_id,
                    payment_reference: payment,
                    reference,
                    amount,
                    processor_event,
                    refunded_at,
                    balance: info.balance.plus(amount),
                    at: now,
                })])
            }
        }
    }

    fn evolve(state: Self::State, event: &Self::Event) -> Self::State {
        match (state, event) {
            (_, StatementEvent::StatementIssued(e)) => {
                StatementState::Issued(Box::new(StatementInfo {
                    id: e.statement_id,
                    organization: e.organization_id,
                    patient: e.patient_id,
                    total: e.total,
                    balance: e.total,
                    payments: vec![],
                    refunds: vec![],
                    returned: vec![],
                }))
            }
            (
                StatementState::Issued(mut info),
                StatementEvent::PaymentRecorded(PaymentRecorded {
                    reference,
                    amount,
                    balance,
                    ..
                })
                | StatementEvent::PaymentReceived(PaymentReceived {
                    reference,
                    amount,
                    balance,
                    ..
                }),
            ) => {
                info.balance = *balance;
                info.payments.push(PaymentInfo {
                    reference: reference.clone(),
                    amount: *amount,
                    refunded: Money::ZERO,
                });
                StatementState::Issued(info)
            }
            (StatementState::Issued(mut info), StatementEvent::RefundRecorded(e)) => {
                info.balance = e.balance;
                if let Some(payment) = info
                    .payments
                    .iter_mut()
                    .find(|p| p.reference == e.payment_reference)
                {
                    payment.refunded = payment.refunded.plus(e.amount);
                }
                info.refunds.push((e.reference.clone(), e.amount));
                StatementState::Issued(info)
            }
            (StatementState::Issued(mut info), StatementEvent::PaymentReturned(e)) => {
                info.returned.push(e.reference.clone());
                StatementState::Issued(info)
            }
            (state, _) => state,
        }
    }
}

/// The balance after paying `amount` by `reference`, or None when that payment is recorded already: the processor
/// may report one payment twice, and the same reference and amount is that payment.
fn pay(
    info: &StatementInfo,
    reference: &ProcessorReference,
    amount: Money,
    paid_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<Option<Money>, BillingError> {
    if let Some(recorded) = info.payments.iter().find(|p| p.reference == *reference) {
        return if recorded.amount == amount {
            Ok(None)
        } else {
            Err(BillingError::ReferenceReused)
        };
    }
    if amount == Money::ZERO {
        return Err(BillingError::ZeroPayment);
    }
    if paid_at > now + chrono::Duration::minutes(5) {
        return Err(BillingError::PaidInFuture);
    }
    info.balance
        .minus(amount)
        .map(Some)
        .ok_or(BillingError::Overpayment(info.balance))
}

/// A patient's billing preferences: one stream per patient account.
pub struct BillingAccount;

/// A patient's billing preferences as their events left them.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct BillingPreferences {
    /// Statements by e-mail only, no paper.
    pub paperless: bool,
}

/// Chooses paper or paperless statements.
#[derive(Clone, Debug)]
pub struct ChoosePaperless {
    /// The organization.
    pub organization: OrganizationId,
    /// The patient's account.
    pub patient: AccountId,
    /// True for paperless.
    pub paperless: bool,
    /// The patient or their proxy.
    pub by: Party,
}

/// Events of a billing account.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", content = "data")]
pub enum BillingAccountEvent {
    /// Paper or paperless was chosen.
    PaperlessBillingChosen(PaperlessBillingChosen),
}

/// The patient chose paper or paperless statements (v1).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PaperlessBillingChosen {
    /// The organization.
    pub organization_id: OrganizationId,
    /// The patient's account.
    pub patient_id: AccountId,
    /// True for paperless.
    pub paperless: bool,
    /// The patient or their proxy.
    pub by: Party,
    /// When.
    pub at: DateTime<Utc>,
}

impl DomainEvent for BillingAccountEvent {
    fn event_type(&self) -> &'static str {
        "PaperlessBillingChosen"
    }
}

impl Decider for BillingAccount {
    type State = BillingPreferences;
    type Command = ChoosePaperless;
    type Event = BillingAccountEvent;
    type Error = BillingError;
    const CATEGORY: &'static str = "billing";

    fn decide(
        state: &Self::State,
        command: Self::Command,
        now: DateTime<Utc>,
    ) -> Result<Vec<Self::Event>, Self::Error> {
        if state.paperless == command.paperless {
            return Ok(vec![]);
        }
        Ok(vec![BillingAccountEvent::PaperlessBillingChosen(
            PaperlessBillingChosen {
                organization_id: command.organization,
                patient_id: command.patient,
                paperless: command.paperless,
                by: command.by,
                at: now,
            },
        )])
    }

    fn evolve(_state: Self::State, event: &Self::Event) -> Self::State {
        let BillingAccountEvent::PaperlessBillingChosen(e) = event;
        BillingPreferences {
            paperless: e.paperless,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decider::testing::given;
    use chrono::TimeZone;

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 2, 9, 0, 0).unwrap()
    }

    fn money(raw: &str) -> Money {
        Money::parse(raw, "amount").unwrap()
    }

    fn issue(amounts: &[&str]) -> StatementCommand {
        StatementCommand::Issue {
            id: Uuid::from_u128(1),
            organization: OrganizationId(Uuid::from_u128(2)),
            patient: AccountId(Uuid::from_u128(3)),
            items: amounts
                .iter()
                .map(|a| LineItem {
                    description: LineDescription::parse("Office visit").unwrap(),
                    amount: money(a),
                })
                .collect(),
            due_on: NaiveDate::from_ymd_opt(2026, 12, 1).unwrap(),
            by: AccountId(Uuid::from_u128(4)),
        }
    }

    fn pay(amount: &str, reference: &str) -> StatementCommand {
        StatementCommand::RecordPayment {
            payment_id: Uuid::new_v4(),
            amount: money(amount),
            reference: ProcessorReference::parse(reference).unwrap(),
            paid_at: t0(),
            by: AccountId(Uuid::from_u128(4)),
        }
    }

    fn issued() -> Vec<StatementEvent> {
        Statement::decide(&StatementState::Absent, issue(&["100.00", "25.50"]), t0()).unwrap()
    }

    fn balance(events: &[StatementEvent]) -> Money {
        match Statement::fold(events.iter()) {
            StatementState::Issued(info) => info.balance,
            StatementState::Absent => panic!("absent"),
        }
    }

    #[test]
    fn a_statement_totals_its_lines() {
        assert_eq!(balance(&issued()), money("125.50"));
    }

    #[test]
    fn a_payment_dated_in_the_future_is_refused() {
        let StatementCommand::RecordPayment {
            payment_id,
            amount,
            reference,
            by,
            ..
        } = pay("10.00", "ch_1")
        else {
            panic!()
        };
        given::<Statement>(issued())
            .when(
                StatementCommand::RecordPayment {
                    payment_id,
                    amount,
                    reference,
                    paid_at: t0() + chrono::Duration::hours(1),
                    by,
                },
                t0(),
            )
            .then_error(BillingError::PaidInFuture);
    }

    #[test]
    fn a_statement_due_before_it_is_issued_is_refused() {
        let StatementCommand::Issue {
            id,
            organization,
            patient,
            items,
            by,
            ..
        } = issue(&["10.00"])
        else {
            panic!()
        };
        given::<Statement>(vec![])
            .when(
                StatementCommand::Issue {
                    id,
                    organization,
                    patient,
                    items,
                    due_on: NaiveDate::from_ymd_opt(2026, 10, 1).unwrap(),
                    by,
                },
                t0(),
            )
            .then_error(BillingError::DueBeforeIssue);
    }

    #[test]
    fn a_statement_without_lines_is_refused() {
        given::<Statement>(vec![])
            .when(issue(&[]), t0())
            .then_error(BillingError::Lines);
    }

    #[test]
    fn two_payments_settle_a_statement() {
        let mut events = issued();
        for (amount, reference) in [("100.00", "ch_1"), ("25.50", "ch_2")] {
            let state = Statement::fold(events.iter());
            events.extend(Statement::decide(&state, pay(amount, reference), t0()).unwrap());
        }
        assert_eq!(balance(&events), Money::ZERO);
    }

    #[test]
    fn a_payment_above_the_balance_is_refused() {
        given::<Statement>(issued())
            .when(pay("125.51", "ch_1"), t0())
            .then_error(BillingError::Overpayment(money("125.50")));
    }

    #[test]
    fn the_same_processor_reference_twice_is_one_payment() {
        let mut events = issued();
        let state = Statement::fold(events.iter());
        events.extend(Statement::decide(&state, pay("10.00", "ch_1"), t0()).unwrap());
        given::<Statement>(events.clone())
            .when(pay("10.00", "ch_1"), t0())
            .then(vec![]);
        given::<Statement>(events)
            .when(pay("11.00", "ch_1"), t0())
            .then_error(BillingError::ReferenceReused);
    }

    fn receive(amount: &str, reference: &str) -> StatementCommand {
        StatementCommand::ReceivePayment {
            payment_id: Uuid::new_v4(),
            amount: money(amount),
            reference: ProcessorReference::parse(reference).unwrap(),
            checkout_session: ProcessorReference::parse("cs_test_1").unwrap(),
            processor_event: ProcessorReference::parse("evt_1").unwrap(),
            paid_at: t0(),
        }
    }

    fn refund(amount: &str, payment: &str, reference: &str) -> StatementCommand {
        StatementCommand::RecordRefund {
            refund_id: Uuid::new_v4(),
            payment: ProcessorReference::parse(payment).unwrap(),
            reference: ProcessorReference::parse(reference).unwrap(),
            amount: money(amount),
            processor_event: ProcessorReference::parse("evt_2").unwrap(),
            refunded_at: t0(),
        }
    }

    fn after(
        mut events: Vec<StatementEvent>,
        commands: Vec<StatementCommand>,
    ) -> Vec<StatementEvent> {
        for command in commands {
            let state = Statement::fold(events.iter());
            events.extend(Statement::decide(&state, command, t0()).unwrap());
        }
        events
    }

    #[test]
    fn a_payment_the_processor_reports_lowers_the_balance() {
        let events = after(issued(), vec![receive("25.50", "pi_1")]);
        assert_eq!(balance(&events), money("100.00"));
    }

    #[test]
    fn a_payment_the_processor_reports_twice_is_recorded_once() {
        given::<Statement>(after(issued(), vec![receive("25.50", "pi_1")]))
            .when(receive("25.50", "pi_1"), t0())
            .then(vec![]);
    }

    #[test]
    fn a_payment_the_processor_reports_above_the_balance_is_refused() {
        given::<Statement>(after(issued(), vec![receive("100.00", "pi_1")]))
            .when(receive("30.00", "pi_2"), t0())
            .then_error(BillingError::Overpayment(money("25.50")));
    }

    #[test]
    fn a_payment_given_back_is_recorded_once_and_leaves_the_balance() {
        let returned = || StatementCommand::ReturnPayment {
            amount: money("30.00"),
            reference: ProcessorReference::parse("pi_9").unwrap(),
            processor_event: ProcessorReference::parse("evt_9").unwrap(),
        };
        let events = after(issued(), vec![receive("125.50", "pi_1"), returned()]);
        assert_eq!(balance(&events), Money::ZERO);
        assert!(matches!(
            events.last(),
            Some(StatementEvent::PaymentReturned(_))
        ));
        given::<Statement>(events)
            .when(returned(), t0())
            .then(vec![]);
    }

    #[test]
    fn a_refund_makes_its_amount_owed_again() {
        let events = after(
            issued(),
            vec![receive("100.00", "pi_1"), refund("40.00", "pi_1", "re_1")],
        );
        assert_eq!(balance(&events), money("65.50"));
    }

    #[test]
    fn a_refund_the_processor_reports_twice_is_recorded_once() {
        given::<Statement>(after(
            issued(),
            vec![receive("100.00", "pi_1"), refund("40.00", "pi_1", "re_1")],
        ))
        .when(refund("40.00", "pi_1", "re_1"), t0())
        .then(vec![]);
    }

    #[test]
    fn a_refund_above_what_is_left_of_its_payment_is_refused() {
        given::<Statement>(after(
            issued(),
            vec![receive("100.00", "pi_1"), refund("60.00", "pi_1", "re_1")],
        ))
        .when(refund("40.01", "pi_1", "re_2"), t0())
        .then_error(BillingError::RefundTooLarge(money("40.00")));
    }

    #[test]
    fn a_refund_of_a_payment_not_on_the_statement_is_refused() {
        given::<Statement>(issued())
            .when(refund("1.00", "pi_9", "re_1"), t0())
            .then_error(BillingError::PaymentNotFound);
    }

    #[test]
    fn a_checkout_takes_the_whole_balance_unless_told_less() {
        let state = Statement::fold(issued().iter());
        let patient = AccountId(Uuid::from_u128(3));
        assert_eq!(payable(&state, patient, None), Ok(money("125.50")));
        assert_eq!(
            payable(&state, patient, Some(money("20.00"))),
            Ok(money("20.00"))
        );
    }

    #[test]
    fn a_checkout_above_the_balance_is_refused() {
        let state = Statement::fold(issued().iter());
        assert_eq!(
            payable(&state, AccountId(Uuid::from_u128(3)), Some(money("125.51"))),
            Err(BillingError::Overpayment(money("125.50")))
        );
    }

    #[test]
    fn a_checkout_of_a_paid_statement_is_refused() {
        let state = Statement::fold(after(issued(), vec![receive("125.50", "pi_1")]).iter());
        assert_eq!(
            payable(&state, AccountId(Uuid::from_u128(3)), None),
            Err(BillingError::AlreadyPaid)
        );
    }

    #[test]
    fn a_checkout_of_another_patients_statement_finds_nothing() {
        let state = Statement::fold(issued().iter());
        assert_eq!(
            payable(&state, AccountId(Uuid::from_u128(9)), None),
            Err(BillingError::NotFound)
        );
    }

    #[test]
    fn choosing_the_same_billing_preference_again_records_nothing() {
        let choose = |paperless| ChoosePaperless {
            organization: OrganizationId(Uuid::from_u128(2)),
            patient: AccountId(Uuid::from_u128(3)),
            paperless,
            by: Party::PATIENT,
        };
        given::<BillingAccount>(vec![])
            .when(choose(false), t0())
            .then(vec![]);
        let chosen =
            BillingAccount::decide(&BillingPreferences::default(), choose(true), t0()).unwrap();
        given::<BillingAccount>(chosen)
            .when(choose(true), t0())
            .then(vec![]);
    }
}
