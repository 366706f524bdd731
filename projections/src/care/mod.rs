//! Read model `care`: a patient's conversations with the care team, test results, statements and payments,
//! medications and renewal requests, proxies, and who is on each care team. When a patient is erased, the personal
//! columns of their rows are blanked.

pub mod billing;
pub mod conversations;
pub mod medications;
pub mod proxies;
pub mod results;

use portal_commands::log::RecordedEvent;
use portal_domain::account::{Account, AccountEvent};
use portal_domain::care::billing::{
    BillingAccount, BillingAccountEvent, Statement, StatementEvent,
};
use portal_domain::care::care_team::{CareTeam, CareTeamEvent};
use portal_domain::care::conversation::{Conversation, ConversationEvent};
use portal_domain::care::medication::{Medication, MedicationEvent};
use portal_domain::care::proxy::{ProxyAccess, ProxyEvent};
use portal_domain::care::test_result::{TestResult, TestResultEvent};
use portal_domain::Decider;
use uuid::Uuid;

use crate::{decode_if, params, writes::Writes, Projection, ProjectionError};

/// The care projection.
pub struct Care;

/// Its name, for read-your-writes waits.
pub const NAME: &str = "care";

impl Projection for Care {
    fn name(&self) -> &'static str {
        NAME
    }

    fn tables(&self) -> &'static [&'static str] {
        &[
            "care_team_members",
            "conversations",
            "conversation_messages",
            "test_results",
            "statements",
            "payments",
            "refunds",
            "billing_preferences",
            "medications",
            "renewal_requests",
            "proxy_grants",
        ]
    }

    fn apply(&self, writes: &mut Writes, events: &[RecordedEvent]) -> Result<(), ProjectionError> {
        for recorded in events {
            let Some(id) = recorded.stream.id() else {
                continue;
            };
            let category = recorded.stream.category();
            if category == Account::CATEGORY {
                if let Some(AccountEvent::PersonalDataErased(e)) =
                    decode_if::<AccountEvent>(recorded, Account::CATEGORY)?
                        .filter(|_| recorded.event_type == "PersonalDataErased")
                {
                    erase(writes, &e.subjects);
                }
            } else if let Some(event) =
                decode_if::<ConversationEvent>(recorded, Conversation::CATEGORY)?
            {
                conversations::apply(writes, recorded, id, event);
            } else if let Some(event) =
                decode_if::<TestResultEvent>(recorded, TestResult::CATEGORY)?
            {
                results::apply(writes, id, event);
            } else if let Some(event) = decode_if::<StatementEvent>(recorded, Statement::CATEGORY)?
            {
                billing::apply(writes, recorded.tenant, id, event);
            } else if let Some(BillingAccountEvent::PaperlessBillingChosen(e)) =
                decode_if::<BillingAccountEvent>(recorded, BillingAccount::CATEGORY)?
            {
                writes.execute(
                    "INSERT INTO billing_preferences (patient_id, organization_id, paperless, changed_at)
                     VALUES ($1, $2, $3, $4)
                     ON CONFLICT (patient_id) DO UPDATE SET paperless = EXCLUDED.paperless,
                         changed_at = EXCLUDED.changed_at",
                    params![e.patient_id.0, e.organization_id.0, e.paperless, e.at],
                );
            } else if let Some(event) =
                decode_if::<MedicationEvent>(recorded, Medication::CATEGORY)?
            {
                medications::apply(writes, recorded.tenant, id, event);
            } else if let Some(event) = decode_if::<ProxyEvent>(recorded, ProxyAccess::CATEGORY)? {
                proxies::apply(writes, recorded.tenant, id, event);
            } else if let Some(CareTeamEvent::CareTeamMembersSet(e)) =
                decode_if::<CareTeamEvent>(recorded, CareTeam::CATEGORY)?
            {
                writes.execute(
                    "DELETE FROM care_team_members WHERE team_id = $1",
                    params![e.team_id],
                );
                let members: Vec<Uuid> = e.members.iter().map(|m| m.0).collect();
                writes.execute(
                    "INSERT INTO care_team_members (team_id, organization_id, account_id)
                     SELECT $1, $2, m FROM unnest($3::uuid[]) AS m",
                    params![e.team_id, e.organization_id.0, members],
                );
            }
        }
        Ok(())
    }
}

fn erase(writes: &mut Writes, subjects: &[Uuid]) {
    let statements: [&'static str; 7] = [
        "UPDATE conversations SET subject = NULL WHERE patient_id = ANY($1)",
        "UPDATE conversation_messages m SET body = NULL, attachment = NULL
         FROM conversations c WHERE c.id = m.conversation_id AND c.patient_id = ANY($1)",
        "UPDATE test_results SET test_name = NULL, value = NULL, unit = NULL, report = NULL, flag = NULL,
             reference_range = NULL
         WHERE patient_id = ANY($1)",
        "UPDATE statements SET items = NULL WHERE patient_id = ANY($1)",
        "UPDATE medications SET name = NULL, instructions = NULL WHERE patient_id = ANY($1)",
        "UPDATE renewal_requests SET note = NULL, decline_reason = NULL WHERE patient_id = ANY($1)",
        "DELETE FROM proxy_grants WHERE patient_id = ANY($1) OR proxy_id = ANY($1)",
    ];
    for sql in statements {
        writes.execute(sql, params![subjects.to_vec()]);
    }
}

/// Maps rows with `f`.
pub(crate) fn rows<T>(rows: &[tokio_postgres::Row], f: fn(&tokio_postgres::Row) -> T) -> Vec<T> {
    rows.iter().map(f).collect()
}

/// A kind of care record that belongs to one patient.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Record {
    /// A test result.
    TestResult,
    /// A statement.
    Statement,
    /// A medication.
    Medication,
    /// A renewal request.
    Renewal,
}

impl Record {
    fn table(self) -> &'static str {
        match self {
            Record::TestResult => "test_results",
            Record::Statement => "statements",
            Record::Medication => "medications",
            Record::Renewal => "renewal_requests",
        }
    }
}

/// The patient a care record of the organization belongs to, if the read model holds it.
pub async fn patient_of(
    pool: &deadpool_postgres::Pool,
    organization: Uuid,
    record: Record,
    id: Uuid,
) -> Result<Option<Uuid>, ProjectionError> {
    let client = pool.get().await?;
    let row = client
        .query_opt(
            &format!(
                "SELECT patient_id FROM {} WHERE organization_id = $1 AND id = $2",
                record.table()
            ),
            &[&organization, &id],
        )
        .await?;
    Ok(row.map(|r| r.get(0)))
}
