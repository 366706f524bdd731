//! Commands of the patient portal's care features: conversations, test results, bills, medications, proxies and care
//! teams. Every stream of a patient's care is encrypted with the patient's key, so erasing the patient erases it.

pub mod billing;
pub mod care_teams;
pub mod conversations;
pub mod medications;
pub mod proxies;
pub mod results;

use chrono::{DateTime, Utc};
use portal_domain::account::{Account, Profile, Role};
use portal_domain::care::billing::BillingError;
use portal_domain::care::care_team::CareTeamError;
use portal_domain::care::conversation::ConversationError;
use portal_domain::care::medication::MedicationError;
use portal_domain::care::proxy::ProxyError;
use portal_domain::care::test_result::TestResultError;
use portal_domain::values::{MessageKind, PhoneNumber};
use portal_domain::{AccountId, ErrorCode};
use serde_json::json;
use uuid::Uuid;

use crate::handler::{execute, CommandContext, CommandError, EndsSessions, Executed, Plan};
use crate::log::{EventLog, OutboxMessage, StreamId};
use crate::organizations::OrganizationSummary;
use crate::store::Store;

/// Why a care command is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CareError {
    /// The conversation refused.
    #[error(transparent)]
    Conversation(#[from] ConversationError),
    /// The result refused.
    #[error(transparent)]
    Result(#[from] TestResultError),
    /// The statement refused.
    #[error(transparent)]
    Billing(#[from] BillingError),
    /// The medication refused.
    #[error(transparent)]
    Medication(#[from] MedicationError),
    /// The proxy grants refused.
    #[error(transparent)]
    Proxy(#[from] ProxyError),
    /// The care team refused.
    #[error(transparent)]
    CareTeam(#[from] CareTeamError),
    /// The account is not a patient of the organization.
    #[error("no such patient")]
    PatientNotFound,
    /// The provider or care team is not in the catalogue.
    #[error("no such provider or care team")]
    TeamNotFound(&'static str),
    /// The account is not a member of the care team.
    #[error("you are not on this conversation's care team")]
    NotOnTeam,
    /// The account cannot have this part.
    #[error("{1}")]
    AccountUnfit(&'static str, &'static str),
}

impl ErrorCode for CareError {
    fn code(&self) -> &'static str {
        match self {
            CareError::Conversation(e) => e.code(),
            CareError::Result(e) => e.code(),
            CareError::Billing(e) => e.code(),
            CareError::Medication(e) => e.code(),
            CareError::Proxy(e) => e.code(),
            CareError::CareTeam(e) => e.code(),
            CareError::PatientNotFound => "PATIENT_NOT_FOUND",
            CareError::TeamNotFound(_) => "PROVIDER_NOT_FOUND",
            CareError::NotOnTeam => "NOT_ON_CARE_TEAM",
            CareError::AccountUnfit(..) => "ACCOUNT_UNFIT",
        }
    }

    fn field(&self) -> Option<&'static str> {
        match self {
            CareError::Conversation(e) => e.field(),
            CareError::Result(e) => e.field(),
            CareError::Billing(e) => e.field(),
            CareError::Medication(e) => e.field(),
            CareError::Proxy(e) => e.field(),
            CareError::CareTeam(e) => e.field(),
            CareError::PatientNotFound => Some("patientId"),
            CareError::TeamNotFound(field) | CareError::AccountUnfit(field, _) => Some(field),
            CareError::NotOnTeam => None,
        }
    }
}

/// A care command's result.
pub type Result<T> = std::result::Result<T, CommandError<CareError>>;

pub(crate) fn rejected(error: impl Into<CareError>) -> CommandError<CareError> {
    CommandError::Rejected(error.into())
}

/// The profile of a patient account of the organization, or PATIENT_NOT_FOUND.
pub async fn patient<L: EventLog>(
    store: &Store<L>,
    organization: &OrganizationSummary,
    account: AccountId,
) -> Result<Profile> {
    let (state, _) = store
        .load::<Account>(&crate::accounts::stream(account))
        .await?;
    state
        .profile()
        .filter(|p| p.organization == organization.id && p.role == Role::Patient)
        .cloned()
        .ok_or_else(|| rejected(CareError::PatientNotFound))
}

/// Tells a patient that something waits for them in the portal: by e-mail to their address and by text to each of
/// their verified numbers. The messages say what kind of thing waits, never what it says.
pub(crate) fn notice(
    patient: &Profile,
    email: MessageKind,
    text: Option<MessageKind>,
    extra: serde_json::Value,
    now: DateTime<Utc>,
) -> Vec<OutboxMessage> {
    let mut messages = vec![];
    if let Some(to) = patient.email.known() {
        let salutation = patient
            .name
            .known()
            .map(|n| n.salutation().to_owned())
            .unwrap_or_default();
        let mut data = json!({ "salutation": salutation });
        if let (Some(data), Some(extra)) = (data.as_object_mut(), extra.as_object()) {
            data.extend(extra.clone());
        }
        messages.push(OutboxMessage {
            id: Uuid::new_v4(),
            kind: email,
            recipient: to.as_str().to_owned(),
            data,
            due_at: now,
            about: None,
        });
    }
    if let Some(kind) = text {
        let numbers = patient
            .phones
            .iter()
            .filter(|p| p.verified)
            .filter_map(|p| p.number.known())
            .map(PhoneNumber::as_str);
        for number in numbers {
            messages.push(OutboxMessage {
                id: Uuid::new_v4(),
                kind,
                recipient: number.to_owned(),
                data: json!({}),
                due_at: now,
                about: None,
            });
        }
    }
    messages
        .into_iter()
        .map(|m| m.about(patient.id.0))
        .collect()
}

/// Runs one command on one stream of a patient's care, encrypted with the patient's key.
pub(crate) async fn run<L, D>(
    store: &Store<L>,
    stream: &StreamId,
    patient: Option<AccountId>,
    ctx: &CommandContext,
    name: &str,
    input: &[&[u8]],
    plan: impl FnMut(&D::State) -> std::result::Result<Plan<D::Command, D::Event>, D::Error>,
) -> Result<Executed<D::Event>>
where
    L: EventLog,
    D: EndsSessions,
    CareError: From<D::Error>,
{
    let fingerprint = store.secrets.fingerprint(name, input);
    execute::<L, D>(
        store,
        stream,
        patient.map(|p| p.0),
        ctx,
        name,
        fingerprint,
        plan,
    )
    .await
    .map_err(|e| e.map_rejected(CareError::from))
}

/// The position a command reached: its last event's, or for a retry or a command that changed nothing, the
/// position of the first attempt or zero.
pub(crate) fn position<E>(executed: &Executed<E>) -> i64 {
    executed.last_position.unwrap_or_default()
}
