//! An organization's rules and settings as objects: what `securityPolicy` and `patientPolicy` answer, and what every
//! settings mutation answers beside its position, so a client's cache holds the settings as they now are.

use async_graphql::{ComplexObject, Context, Enum, Object, Result, SimpleObject, ID};
use portal_commands::organizations::OrganizationSummary;
use portal_domain::lockout::LockoutMode;
use portal_domain::organization::TwoStepRequirement;
use portal_domain::values::MessageKind;
use portal_domain::OrganizationId;

use super::activities::organization;
use super::errors::ApiError;
use super::ids::derived;
use super::lockout::LockoutModeInput;
use super::messaging::{messaging_settings, template_info, MessageTemplateInfo, MessagingSettings};
use super::mutation::context;
use super::query::{principal, staff};
use super::types::LogPosition;

/// When failed sign-ins lock an account, and how long sessions last.
#[derive(SimpleObject)]
pub struct SecurityPolicyView {
    /// The rules (one set per organization).
    pub id: ID,
    /// Consecutive failed sign-ins that lock an account.
    pub lockout_threshold: i32,
    /// How long the lock lasts.
    pub lockout_mode: LockoutModeInput,
    /// The first cool-down in minutes (COOL_DOWN only).
    pub cool_down_minutes: Option<i32>,
    /// The longest cool-down in minutes (COOL_DOWN only).
    pub max_cool_down_minutes: Option<i32>,
    /// How long a session lasts, in hours.
    pub session_hours: i32,
    /// How long a session may sit idle, in minutes.
    pub session_idle_minutes: i32,
    /// Who must use two-step verification (`setTwoStepRequirement`).
    pub two_step_required: TwoStepRequirementChoice,
}

/// Who must use two-step verification: those without it are led to set it up before anything else
/// (TWO_STEP_SETUP_REQUIRED), and cannot turn it off. Learners are not covered.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(name = "TwoStepRequirement")]
pub enum TwoStepRequirementChoice {
    /// Nobody (each person may still turn it on).
    None,
    /// Patients.
    Patients,
    /// Staff, providers and auditors.
    Staff,
    /// Patients, staff, providers and auditors.
    Both,
}

impl From<TwoStepRequirementChoice> for TwoStepRequirement {
    fn from(choice: TwoStepRequirementChoice) -> Self {
        match choice {
            TwoStepRequirementChoice::None => TwoStepRequirement::None,
            TwoStepRequirementChoice::Patients => TwoStepRequirement::Patients,
            TwoStepRequirementChoice::Staff => TwoStepRequirement::Staff,
            TwoStepRequirementChoice::Both => TwoStepRequirement::Both,
        }
    }
}

impl From<TwoStepRequirement> for TwoStepRequirementChoice {
    fn from(required: TwoStepRequirement) -> Self {
        match required {
            TwoStepRequirement::None => TwoStepRequirementChoice::None,
            TwoStepRequirement::Patients => TwoStepRequirementChoice::Patients,
            TwoStepRequirement::Staff => TwoStepRequirementChoice::Staff,
            TwoStepRequirement::Both => TwoStepRequirementChoice::Both,
        }
    }
}

/// The patient portal's rules: activation codes, the cut-off for moving or cancelling, reminders, wait-list offers.
#[derive(SimpleObject)]
pub struct PatientPolicyView {
    /// The rules (one set per organization).
    pub id: ID,
    /// Days an activation code stays valid.
    pub activation_code_days: i32,
    /// Patients may move or cancel an appointment until this many hours before it (0: at any time).
    pub cancellation_cutoff_hours: i32,
    /// Hours before a visit at which reminders go out.
    pub reminder_hours: Vec<i32>,
    /// Minutes a wait-list offer is held before it goes to the next in line.
    pub offer_minutes: i32,
}

fn int(value: u32) -> i32 {
    i32::try_from(value).unwrap_or(i32::MAX)
}

/// `org`'s security rules.
pub fn security_policy(org: &OrganizationSummary) -> SecurityPolicyView {
    let policy = &org.policy;
    let (mode, first, max) = match policy.lockout.mode {
        LockoutMode::UntilStaffUnlock => (LockoutModeInput::UntilStaffUnlock, None, None),
        LockoutMode::CoolDown {
            first_minutes,
            max_minutes,
        } => (
            LockoutModeInput::CoolDown,
            Some(int(first_minutes)),
            Some(int(max_minutes)),
        ),
    };
    SecurityPolicyView {
        id: derived("SecurityPolicy", &[&org.id.0]),
        lockout_threshold: int(policy.lockout.threshold),
        lockout_mode: mode,
        cool_down_minutes: first,
        max_cool_down_minutes: max,
        session_hours: int(policy.session_hours),
        session_idle_minutes: int(policy.session_idle_minutes),
        two_step_required: org.two_step.into(),
    }
}

/// `org`'s patient-portal rules.
pub fn patient_policy(org: &OrganizationSummary) -> PatientPolicyView {
    let policy = &org.patient_policy;
    PatientPolicyView {
        id: derived("PatientPolicy", &[&org.id.0]),
        activation_code_days: int(policy.activation_code_days),
        cancellation_cutoff_hours: int(policy.cancellation_cutoff_hours),
        reminder_hours: policy
            .reminder_hours
            .iter()
            .filter(|h| **h > 0)
            .map(|h| int(*h))
            .collect(),
        offer_minutes: int(policy.offer_minutes),
    }
}

/// What a settings mutation did.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct SettingsPayload {
    /// The log position produced, if any.
    pub position: Option<LogPosition>,
    #[graphql(skip)]
    organization: OrganizationId,
    #[graphql(skip)]
    template: Option<MessageKind>,
}

impl SettingsPayload {
    /// A change of `organization`'s settings at `position` (zero: nothing new was written).
    pub fn new(organization: OrganizationId, position: i64) -> Self {
        Self {
            position: (position > 0).then_some(LogPosition(position)),
            organization,
            template: None,
        }
    }

    /// A change of the wording of `kind`.
    pub fn of_template(organization: OrganizationId, kind: MessageKind, position: i64) -> Self {
        Self {
            template: Some(kind),
            ..Self::new(organization, position)
        }
    }
}

#[ComplexObject]
impl SettingsPayload {
    /// How the organization's messages now go out (sender, texting hours, time zone, SMS account).
    async fn messaging_settings(&self, ctx: &Context<'_>) -> Result<MessagingSettings> {
        let org = organization(context(ctx).0, self.organization).await?;
        Ok(messaging_settings(&org))
    }

    /// The wording changed, as it now reads (`setMessageTemplate`, `resetMessageTemplate`; null for the others).
    async fn message_template(&self, ctx: &Context<'_>) -> Result<Option<MessageTemplateInfo>> {
        let Some(kind) = self.template else {
            return Ok(None);
        };
        let org = organization(context(ctx).0, self.organization).await?;
        Ok(Some(template_info(&org, kind)))
    }

    /// The patient portal's rules as they now are.
    async fn patient_policy(&self, ctx: &Context<'_>) -> Result<PatientPolicyView> {
        let org = organization(context(ctx).0, self.organization).await?;
        Ok(patient_policy(&org))
    }
}

/// Queries of an organization's rules.
#[derive(Default)]
pub struct SettingsQuery;

#[Object]
impl SettingsQuery {
    /// Your organization's lockout and session rules (staff only).
    async fn security_policy(&self, ctx: &Context<'_>) -> Result<SecurityPolicyView> {
        let staff = staff(ctx).await?;
        let org = organization(context(ctx).0, staff.organization).await?;
        Ok(security_policy(&org))
    }

    /// Your organization's patient-portal rules: anyone signed in may read them, since patients see the cut-off
    /// for moving or cancelling before they try.
    async fn patient_policy(&self, ctx: &Context<'_>) -> Result<PatientPolicyView> {
        let principal = principal(ctx).await?;
        let org = organization(context(ctx).0, principal.organization).await?;
        Ok(patient_policy(&org))
    }
}

/// Reads `organization`'s security rules for a payload.
pub async fn security_policy_of(
    ctx: &Context<'_>,
    organization_id: OrganizationId,
) -> Result<SecurityPolicyView, ApiError> {
    let org = organization(context(ctx).0, organization_id).await?;
    Ok(security_policy(&org))
}
