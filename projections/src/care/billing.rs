//! Statements, payments, each patient's balance and billing preference.

use chrono::{DateTime, NaiveDate, Utc};
use deadpool_postgres::Pool;
use portal_domain::care::billing::{PaymentReceived, PaymentRecorded, StatementEvent};
use serde_json::{json, Value};
use uuid::Uuid;

use super::rows;
use crate::{params, writes::Writes, ProjectionError};

pub(super) fn apply(writes: &mut Writes, organization: Uuid, id: Uuid, event: StatementEvent) {
    match event {
        StatementEvent::StatementIssued(e) => {
            let items: Option<Value> = e.items.known().map(|items| {
                Value::Array(
                    items
                        .iter()
                        .map(|i| json!({ "description": i.description.as_str(), "amount_cents": i.amount.cents() }))
                        .collect(),
                )
            });
            writes.execute(
                "INSERT INTO statements (id, organization_id, patient_id, items, total_cents, balance_cents, due_on,
                                         issued_at)
                 VALUES ($1, $2, $3, $4, $5, $5, $6, $7)",
                params![
                    id,
                    e.organization_id.0,
                    e.patient_id.0,
                    items,
                    e.total.cents(),
                    e.due_on,
                    e.at,
                ],
            );
        }
        // Entered by staff or reported by the processor's webhook: the same row either way.
        StatementEvent::PaymentRecorded(PaymentRecorded {
            payment_id,
            amount,
            reference,
            paid_at,
            balance,
            at,
            ..
        })
        | StatementEvent::PaymentReceived(PaymentReceived {
            payment_id,
            amount,
            reference,
            paid_at,
            balance,
            at,
            ..
        }) => {
            writes.execute(
                "INSERT INTO payments (id, statement_id, organization_id, patient_id, amount_cents,
                                       processor_reference, paid_at, recorded_at)
                 SELECT $1, $2, $3, patient_id, $4, $5, $6, $7 FROM statements WHERE id = $2",
                params![
                    payment_id,
                    id,
                    organization,
                    amount.cents(),
                    reference.as_str().to_owned(),
                    paid_at,
                    at,
                ],
            );
            writes.execute(
                "UPDATE statements SET balance_cents = $2 WHERE id = $1",
                params![id, balance.cents()],
            );
        }
        // Given back at once: neither the balance nor the payments changed.
        StatementEvent::PaymentReturned(_) => {}
        StatementEvent::RefundRecorded(e) => {
            writes.execute(
                "INSERT INTO refunds (id, statement_id, payment_id, organization_id, patient_id, amount_cents,
                                      processor_reference, refunded_at, recorded_at)
                 SELECT $1, $2, p.id, $3, p.patient_id, $4, $5, $6, $7
                 FROM payments p WHERE p.statement_id = $2 AND p.processor_reference = $8",
                params![
                    e.refund_id,
                    id,
                    organization,
                    e.amount.cents(),
                    e.reference.as_str().to_owned(),
                    e.refunded_at,
                    e.at,
                    e.payment_reference.as_str().to_owned(),
                ],
            );
            writes.execute(
                "UPDATE payments SET refunded_cents = refunded_cents + $3
                 WHERE statement_id = $1 AND processor_reference = $2",
                params![
                    id,
                    e.payment_reference.as_str().to_owned(),
                    e.amount.cents()
                ],
            );
            writes.execute(
                "UPDATE statements SET balance_cents = $2 WHERE id = $1",
                params![id, e.balance.cents()],
            );
        }
    }
}

/// A line of a statement.
#[derive(Clone, Debug)]
pub struct LineRow {
    /// What for.
    pub description: String,
    /// Cents.
    pub amount_cents: i64,
}

/// A payment.
#[derive(Clone, Debug)]
pub struct PaymentRow {
    /// The payment.
    pub id: Uuid,
    /// Cents.
    pub amount_cents: i64,
    /// The processor's reference.
    pub processor_reference: String,
    /// When taken.
    pub paid_at: DateTime<Utc>,
    /// How much of it was refunded, in cents.
    pub refunded_cents: i64,
}

/// A statement with its payments.
#[derive(Clone, Debug)]
pub struct StatementRow {
    /// The statement.
    pub id: Uuid,
    /// The patient's account.
    pub patient_id: Uuid,
    /// Its lines (empty once erased).
    pub items: Vec<LineRow>,
    /// Total, in cents.
    pub total_cents: i64,
    /// Still owed, in cents.
    pub balance_cents: i64,
    /// Due.
    pub due_on: NaiveDate,
    /// Issued.
    pub issued_at: DateTime<Utc>,
    /// Payments, oldest first.
    pub payments: Vec<PaymentRow>,
}

/// A patient's statements, newest first, with their payments.
pub async fn of_patient(
    pool: &Pool,
    organization: Uuid,
    patient: Uuid,
) -> Result<Vec<StatementRow>, ProjectionError> {
    let client = pool.get().await?;
    let found = client
        .query(
            "SELECT s.id, s.patient_id, s.items, s.total_cents, s.balance_cents, s.due_on, s.issued_at,
                    coalesce(jsonb_agg(jsonb_build_object('id', p.id, 'amount_cents', p.amount_cents,
                                                          'reference', p.processor_reference, 'paid_at', p.paid_at,
                                                          'refunded_cents', p.refunded_cents)
                                       ORDER BY p.paid_at, p.id) FILTER (WHERE p.id IS NOT NULL), '[]')
             FROM statements s LEFT JOIN payments p ON p.statement_id = s.id
             WHERE s.organization_id = $1 AND s.patient_id = $2
             GROUP BY s.id ORDER BY s.issued_at DESC, s.id LIMIT 200",
            &[&organization, &patient],
        )
        .await?;
    Ok(rows(&found, |r| {
        let items: Option<Value> = r.get(2);
        let payments: Value = r.get(7);
        StatementRow {
            id: r.get(0),
            patient_id: r.get(1),
            items: items
                .as_ref()
                .and_then(Value::as_array)
                .map(|items| {
                    items
                        .iter()
                        .map(|i| LineRow {
                            description: i["description"].as_str().unwrap_or_default().to_owned(),
                            amount_cents: i["amount_cents"].as_i64().unwrap_or_default(),
                        })
                        .collect()
                })
                .unwrap_or_default(),
            total_cents: r.get(3),
            balance_cents: r.get(4),
            due_on: r.get(5),
            issued_at: r.get(6),
            payments: payments
                .as_array()
                .map(|payments| {
                    payments
                        .iter()
                        .filter_map(|p| {
                            Some(PaymentRow {
                                id: p["id"].as_str()?.parse().ok()?,
                                amount_cents: p["amount_cents"].as_i64()?,
                                processor_reference: p["reference"].as_str()?.to_owned(),
                                paid_at: serde_json::from_value(p["paid_at"].clone()).ok()?,
                                refunded_cents: p["refunded_cents"].as_i64().unwrap_or_default(),
                            })
                        })
                        .collect()
                })
                .unwrap_or_default(),
        }
    }))
}

/// A patient's billing account: what they owe in all, and their paperless choice.
#[derive(Clone, Debug)]
pub struct BillingSummary {
    /// The sum of every statement's balance, in cents.
    pub balance_cents: i64,
    /// Statements by e-mail only.
    pub paperless: bool,
}

/// A patient's balance and billing preference.
pub async fn summary(
    pool: &Pool,
    organization: Uuid,
    patient: Uuid,
) -> Result<BillingSummary, ProjectionError> {
    let client = pool.get().await?;
    let row = client
        .query_one(
            "SELECT (SELECT coalesce(sum(balance_cents), 0)::bigint FROM statements
                     WHERE organization_id = $1 AND patient_id = $2),
                    (SELECT coalesce(bool_or(paperless), false) FROM billing_preferences
                     WHERE organization_id = $1 AND patient_id = $2)",
            &[&organization, &patient],
        )
        .await?;
    Ok(BillingSummary {
        balance_cents: row.get(0),
        paperless: row.get(1),
    })
}
