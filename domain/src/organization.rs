//! Organizations (tenants): the CE provider or clinic whose portal people use.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::care::CarePolicy;
use crate::lockout::LockoutPolicy;
use std::collections::BTreeMap;

use crate::values::{
    MailSender, MessageKind, MessageTemplate, OrganizationCode, OrganizationName, PhoneNumber,
    SmsAccountId, TextingHours, TimeZone,
};
use crate::{Decider, DomainEvent, ErrorCode, OrganizationId};

/// The organization aggregate.
pub struct Organization;

/// The longest a session may be allowed to last, whatever an organization chooses.
pub const MAX_SESSION_HOURS: u32 = 24;

/// An organization's security rules.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecurityPolicy {
    /// When failed sign-ins lock an account, and for how long.
    pub lockout: LockoutPolicy,
    /// How long a session lasts after sign-in, in hours (1 to 24; default 12, ASVS level 2).
    pub session_hours: u32,
    /// How long a session may sit idle, in minutes (5 to 480; default 30, ASVS level 2).
    pub session_idle_minutes: u32,
}

impl Default for SecurityPolicy {
    fn default() -> Self {
        Self {
            lockout: LockoutPolicy::default(),
            session_hours: 12,
            session_idle_minutes: 30,
        }
    }
}

impl SecurityPolicy {
    /// How long a session lasts.
    pub fn session_lifetime(&self) -> chrono::Duration {
        chrono::Duration::hours(i64::from(self.session_hours.clamp(1, MAX_SESSION_HOURS)))
    }
}

/// An organization's state.
// One value per organization, built once per command: the size of the variant costs nothing worth boxing for.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, Default, PartialEq)]
pub enum OrganizationState {
    /// Nothing recorded yet.
    #[default]
    Absent,
    /// Created.
    Active {
        /// Its id.
        id: OrganizationId,
        /// Its code.
        code: OrganizationCode,
        /// Its display name.
        name: OrganizationName,
        /// Its security rules.
        policy: SecurityPolicy,
        /// The zone its calendar is shown in.
        time_zone: TimeZone,
        /// Where learners text their attendance, if set up.
        sms: Option<SmsChannel>,
        /// The terms of use and privacy practices in force, if published.
        terms: Option<Terms>,
        /// Rules of the patient portal.
        patient_policy: PatientPolicy,
        /// How its messages go out.
        messaging: Messaging,
        /// Rules for conversations, results and proxies.
        care_policy: CarePolicy,
        /// Rules for apps' device sessions.
        device_policy: crate::device::DevicePolicy,
        /// Who must sign in with two-step verification.
        two_step: TwoStepRequirement,
        /// How people reach its help desk.
        help: crate::values::HelpContacts,
        /// Whether anyone may browse its calendar without signing in.
        calendar_public: bool,
        /// Its account at a payment processor, if patients may pay online.
        payments: Option<PaymentProcessor>,
    },
}

/// Who must use two-step verification to use the portal: an organization's choice (seed 001's "additional
/// security"). Learners of a CE portal are not covered by either choice.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TwoStepRequirement {
    /// Nobody (each person may still turn it on).
    #[default]
    None,
    /// Patients.
    Patients,
    /// Staff, providers and auditors.
    Staff,
    /// Patients, staff, providers and auditors.
    Both,
}

impl TwoStepRequirement {
    /// Its name in events and read models.
    pub fn as_str(self) -> &'static str {
        match self {
            TwoStepRequirement::None => "none",
            TwoStepRequirement::Patients => "patients",
            TwoStepRequirement::Staff => "staff",
            TwoStepRequirement::Both => "both",
        }
    }

    /// The requirement named `name` (as `as_str` writes it).
    pub fn parse(name: &str) -> Option<Self> {
        [Self::None, Self::Patients, Self::Staff, Self::Both]
            .into_iter()
            .find(|r| r.as_str() == name)
    }

    /// Whether an account with `role` must have two-step verification.
    pub fn applies_to(self, role: crate::account::Role) -> bool {
        use crate::account::Role;
        let staff = matches!(role, Role::Staff | Role::Provider | Role::Auditor);
        match self {
            TwoStepRequirement::None => false,
            TwoStepRequirement::Patients => role == Role::Patient,
            TwoStepRequirement::Staff => staff,
            TwoStepRequirement::Both => staff || role == Role::Patient,
        }
    }
}

/// How an organization's messages go out: who they are from, which SMS account sends its texts, when texts may go
/// out, and its own wording of some kinds.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Messaging {
    /// The sender of its e-mail (None: the server's default sender).
    pub sender: Option<MailSender>,
    /// The SMS provider account that sends its texts (with the channel's auth token), if set up.
    pub sms_account: Option<SmsAccountId>,
    /// When its texts other than one-time codes may go out.
    pub texting_hours: TextingHours,
    /// Its own templates, by kind (the others use the defaults).
    pub templates: BTreeMap<MessageKind, MessageTemplate>,
}

/// A version of the organization's terms of use and privacy practices.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Terms {
    /// 1 for the first, then one more for each new one.
    pub version: u32,
    /// The terms of use.
    pub terms_of_use: String,
    /// The notice of privacy practices.
    pub privacy_practices: String,
}

/// Rules of the patient portal.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PatientPolicy {
    /// How long a patient activation code works, in days (1 to 365; default 30).
    pub activation_code_days: u32,
    /// Patients may cancel or move an appointment until this many hours before it (0 to 168; default 0: at any
    /// time, as seed 003 promises, unless the organization sets a cut-off).
    pub cancellation_cutoff_hours: u32,
    /// Reminders go this many hours before an appointment (up to three, each 1 to 720; default 72 and 24).
    pub reminder_hours: [u32; 3],
    /// How long a wait-list offer stands, in minutes (5 to 1440; default 120).
    pub offer_minutes: u32,
}

impl Default for PatientPolicy {
    fn default() -> Self {
        Self {
            activation_code_days: 30,
            cancellation_cutoff_hours: 0,
            reminder_hours: [72, 24, 0],
            offer_minutes: 120,
        }
    }
}

impl PatientPolicy {
    /// The reminder offsets in force (zeros are unused places).
    pub fn reminders(&self) -> impl Iterator<Item = chrono::Duration> + '_ {
        self.reminder_hours
            .iter()
            .filter(|h| **h > 0)
            .map(|h| chrono::Duration::hours(i64::from(*h)))
    }
}

/// The longest text of terms or privacy practices, in characters.
pub const MAX_TERMS_CHARS: usize = 100_000;

/// The organization's number at the SMS provider, and the provider's secret for signing the requests it sends us.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SmsChannel {
    /// The number learners text.
    pub number: PhoneNumber,
    /// The provider's auth token, sealed with a key derived from the master key (never stored in clear).
    pub sealed_auth_token: crate::secret::SealedSecret,
}

/// The organization's own account at its payment processor (Stripe's API shape): the secret API key that opens
/// checkout sessions and asks for refunds, and the secret the processor signs its webhooks with. The commands layer
/// seals both before they reach the log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentProcessor {
    /// The secret API key, sealed.
    pub sealed_api_key: crate::secret::SealedSecret,
    /// The webhook signing secret, sealed.
    pub sealed_webhook_secret: crate::secret::SealedSecret,
    /// The key's last four characters, so that staff can tell which key is in use.
    pub key_hint: String,
    /// Whether the key takes real money (live mode) rather than test payments.
    pub live: bool,
}

/// Commands on an organization.
#[derive(Clone, Debug)]
pub enum OrganizationCommand {
    /// Replaces the security rules.
    SetSecurityPolicy {
        /// The new rules.
        policy: SecurityPolicy,
        /// The staff member (or None for an operator at the command line).
        by: Option<crate::AccountId>,
    },
    /// Sets who must use two-step verification.
    SetTwoStepRequirement {
        /// Who.
        required: TwoStepRequirement,
        /// The staff member (or None for an operator).
        by: Option<crate::AccountId>,
    },
    /// Opens its calendar to anyone, or keeps it for those signed in.
    SetCalendarPublic {
        /// Whether anyone may browse it.
        public: bool,
        /// The staff member (or None for an operator).
        by: Option<crate::AccountId>,
    },
    /// Sets up online bill pay through the organization's payment processor account, or turns it off (None).
    SetPaymentProcessor {
        /// The account, sealed; None: patients cannot pay online.
        processor: Option<PaymentProcessor>,
        /// The staff member (or None for an operator).
        by: Option<crate::AccountId>,
    },
    /// Replaces the help contacts.
    SetHelpContacts {
        /// The new contacts (all empty: none).
        help: crate::values::HelpContacts,
        /// The staff member (or None for an operator).
        by: Option<crate::AccountId>,
    },
    /// Replaces the rules for apps' device sessions.
    SetDevicePolicy {
        /// The new rules.
        policy: crate::device::DevicePolicy,
        /// The staff member (or None for an operator).
        by: Option<crate::AccountId>,
    },
    /// Shows the calendar in another zone.
    SetTimeZone {
        /// The zone.
        time_zone: TimeZone,
        /// The staff member (or None for an operator).
        by: Option<crate::AccountId>,
    },
    /// Sets up (or replaces) the number learners text, and with it, if given, the account that sends texts.
    ConfigureSms {
        /// The number and sealed secret.
        channel: SmsChannel,
        /// The SMS provider account that sends the organization's texts (None: unchanged).
        account: Option<SmsAccountId>,
        /// The staff member (or None for an operator).
        by: Option<crate::AccountId>,
    },
    /// Publishes a new version of the terms; every account must accept it again.
    PublishTerms {
        /// The terms of use.
        terms_of_use: String,
        /// The notice of privacy practices.
        privacy_practices: String,
        /// The staff member.
        by: Option<crate::AccountId>,
    },
    /// Replaces the rules for conversations, results and proxies.
    SetCarePolicy {
        /// The rules.
        policy: CarePolicy,
        /// The staff member.
        by: Option<crate::AccountId>,
    },
    /// Replaces the patient portal's rules.
    SetPatientPolicy {
        /// The rules.
        policy: PatientPolicy,
        /// The staff member.
        by: Option<crate::AccountId>,
    },
    /// Sets (or, with None, clears) the sender of its e-mail.
    SetMailSender {
        /// The sender.
        sender: Option<MailSender>,
        /// The staff member (or None for an operator).
        by: Option<crate::AccountId>,
    },
    /// Sets the SMS provider account that sends its texts.
    SetSmsAccount {
        /// The account.
        account: SmsAccountId,
        /// The staff member (or None for an operator).
        by: Option<crate::AccountId>,
    },
    /// Sets the hours in which texts other than one-time codes may go out.
    SetTextingHours {
        /// The hours.
        hours: TextingHours,
        /// The staff member (or None for an operator).
        by: Option<crate::AccountId>,
    },
    /// Replaces the wording of one kind of message (None: back to the default).
    SetMessageTemplate {
        /// The kind.
        kind: MessageKind,
        /// The template, checked where it is rendered.
        template: Option<MessageTemplate>,
        /// The staff member.
        by: Option<crate::AccountId>,
    },
    /// Creates the organization.
    Create {
        /// The new id.
        id: OrganizationId,
        /// The code people type in the app.
        code: OrganizationCode,
        /// The display name.
        name: OrganizationName,
    },
}

/// Events of an organization.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", content = "data")]
pub enum OrganizationEvent {
    /// An organization was created.
    OrganizationCreated(OrganizationCreated),
    /// Its security rules changed.
    SecurityPolicyChanged(SecurityPolicyChanged),
    /// Its time zone changed.
    TimeZoneSet(TimeZoneSet),
    /// Its SMS number was set up.
    SmsChannelConfigured(SmsChannelConfigured),
    /// A version of its terms was published.
    TermsPublished(TermsPublished),
    /// Its patient portal's rules changed.
    PatientPolicyChanged(PatientPolicyChanged),
    /// The sender of its e-mail changed.
    MailSenderSet(MailSenderSet),
    /// The SMS account that sends its texts was set.
    SmsAccountSet(SmsAccountSet),
    /// Its texting hours changed.
    TextingHoursSet(TextingHoursSet),
    /// Its wording of one kind of message changed.
    MessageTemplateSet(MessageTemplateSet),
    /// Its rules for conversations, results and proxies changed.
    CarePolicyChanged(CarePolicyChanged),
    /// Its rules for apps' device sessions changed.
    DevicePolicyChanged(DevicePolicyChanged),
    /// Who must use two-step verification changed.
    TwoStepRequirementSet(TwoStepRequirementSet),
    /// Its help contacts changed.
    HelpContactsSet(HelpContactsSet),
    /// Its calendar was opened to anyone, or closed to those signed in.
    CalendarVisibilitySet(CalendarVisibilitySet),
    /// Its payment processor account was set up, replaced or removed.
    PaymentProcessorSet(PaymentProcessorSet),
}

/// Online bill pay was set up with a processor account, or turned off (v1).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PaymentProcessorSet {
    /// The account (its secrets sealed); None: patients cannot pay online.
    pub processor: Option<PaymentProcessor>,
    /// The staff member who set it (None: an operator).
    pub by: Option<crate::AccountId>,
    /// When.
    pub at: DateTime<Utc>,
}

/// The calendar was opened to anyone or closed again (v1).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CalendarVisibilitySet {
    /// Whether anyone may browse it (without signing in), and read its iCalendar feed.
    pub public: bool,
    /// The staff member who set it (None: an operator).
    pub by: Option<crate::AccountId>,
    /// When.
    pub at: DateTime<Utc>,
}

/// The help contacts changed (v1): every part as it now is.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HelpContactsSet {
    /// The contacts.
    pub help: crate::values::HelpContacts,
    /// The staff member who set them (None: an operator).
    pub by: Option<crate::AccountId>,
    /// When.
    pub at: DateTime<Utc>,
}

/// Who must use two-step verification changed (v1).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TwoStepRequirementSet {
    /// Who must use it from now on.
    pub required: TwoStepRequirement,
    /// The staff member who set it (None: an operator).
    pub by: Option<crate::AccountId>,
    /// When.
    pub at: DateTime<Utc>,
}

/// The rules for apps' device sessions changed (v1).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DevicePolicyChanged {
    /// The new rules.
    pub policy: crate::device::DevicePolicy,
    /// The staff member who changed them (None: an operator).
    pub by: Option<crate::AccountId>,
    /// When.
    pub at: DateTime<Utc>,
}

/// The rules for conversations, results and proxies changed (v1).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CarePolicyChanged {
    /// The rules.
    pub policy: CarePolicy,
    /// Who (None: an operator).
    pub by: Option<crate::AccountId>,
    /// When.
    pub at: DateTime<Utc>,
}

/// The sender of the organization's e-mail was set or cleared (v1).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MailSenderSet {
    /// The sender (None: the server's default).
    pub sender: Option<MailSender>,
    /// Who (None: an operator).
    pub by: Option<crate::AccountId>,
    /// When.
    pub at: DateTime<Utc>,
}

/// The SMS provider account that sends the organization's texts was set (v1).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SmsAccountSet {
    /// The account.
    pub account: SmsAccountId,
    /// Who (None: an operator).
    pub by: Option<crate::AccountId>,
    /// When.
    pub at: DateTime<Utc>,
}

/// The organization's texting hours changed (v1).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TextingHoursSet {
    /// The hours.
    pub hours: TextingHours,
    /// Who (None: an operator).
    pub by: Option<crate::AccountId>,
    /// When.
    pub at: DateTime<Utc>,
}

/// The organization's wording of one kind of message was replaced, or reset to the default (v1).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MessageTemplateSet {
    /// The kind.
    pub kind: MessageKind,
    /// The template (None: the default again).
    pub template: Option<MessageTemplate>,
    /// Who.
    pub by: Option<crate::AccountId>,
    /// When.
    pub at: DateTime<Utc>,
}

/// A version of the terms of use and privacy practices was published (v1).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TermsPublished {
    /// The terms, with their version.
    pub terms: Terms,
    /// Who.
    pub by: Option<crate::AccountId>,
    /// When.
    pub at: DateTime<Utc>,
}

/// The patient portal's rules changed (v1).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PatientPolicyChanged {
    /// The rules.
    pub policy: PatientPolicy,
    /// Who.
    pub by: Option<crate::AccountId>,
    /// When.
    pub at: DateTime<Utc>,
}

/// The organization's calendar is shown in another zone (v1).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TimeZoneSet {
    /// The zone.
    pub time_zone: TimeZone,
    /// Who (None: an operator).
    pub by: Option<crate::AccountId>,
    /// When.
    pub at: DateTime<Utc>,
}

/// The organization's SMS number was set up or replaced (v1).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SmsChannelConfigured {
    /// The number and the sealed provider secret.
    pub channel: SmsChannel,
    /// Who (None: an operator).
    pub by: Option<crate::AccountId>,
    /// When.
    pub at: DateTime<Utc>,
}

/// An organization's security rules changed (v1).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SecurityPolicyChanged {
    /// The new rules.
    pub policy: SecurityPolicy,
    /// The staff member who changed them (None: an operator).
    pub by: Option<crate::AccountId>,
    /// When.
    pub at: DateTime<Utc>,
}

/// An organization was created (v1).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OrganizationCreated {
    /// Its id.
    pub organization_id: OrganizationId,
    /// Its code, unique across portal.
    pub code: OrganizationCode,
    /// Its display name.
    pub name: OrganizationName,
    /// When.
    pub created_at: DateTime<Utc>,
}

impl DomainEvent for OrganizationEvent {
    fn event_type(&self) -> &'static str {
        match self {
            OrganizationEvent::OrganizationCreated(_) => "OrganizationCreated",
            OrganizationEvent::SecurityPolicyChanged(_) => "SecurityPolicyChanged",
            OrganizationEvent::TimeZoneSet(_) => "TimeZoneSet",
            OrganizationEvent::SmsChannelConfigured(_) => "SmsChannelConfigured",
            OrganizationEvent::TermsPublished(_) => "TermsPublished",
            OrganizationEvent::PatientPolicyChanged(_) => "PatientPolicyChanged",
            OrganizationEvent::MailSenderSet(_) => "MailSenderSet",
            OrganizationEvent::SmsAccountSet(_) => "SmsAccountSet",
            OrganizationEvent::TextingHoursSet(_) => "TextingHoursSet",
            OrganizationEvent::MessageTemplateSet(_) => "MessageTemplateSet",
            OrganizationEvent::CarePolicyChanged(_) => "CarePolicyChanged",
            OrganizationEvent::DevicePolicyChanged(_) => "DevicePolicyChanged",
            OrganizationEvent::TwoStepRequirementSet(_) => "TwoStepRequirementSet",
            OrganizationEvent::HelpContactsSet(_) => "HelpContactsSet",
            OrganizationEvent::CalendarVisibilitySet(_) => "CalendarVisibilitySet",
            OrganizationEvent::PaymentProcessorSet(_) => "PaymentProcessorSet",
        }
    }
}

/// Why an organization command is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OrganizationError {
    /// The organization exists already.
    #[error("this organization exists already")]
    AlreadyExists,
    /// No such organization.
    #[error("no such organization")]
    NotFound,
    /// A rule is out of range.
    #[error("{0}")]
    InvalidPolicy(&'static str),
    /// Another organization receives texts at this number.
    #[error("another organization uses this SMS number")]
    SmsNumberTaken,
    /// Terms must have text, within bounds.
    #[error("{0}")]
    InvalidTerms(&'static str),
    /// Texts cannot be sent before the organization has an SMS number.
    #[error("set up the organization's SMS number first")]
    SmsNotConfigured,
    /// A message template does not parse or uses a variable its kind does not have.
    #[error("{field}: {detail}")]
    TemplateInvalid {
        /// `subject`, `text` or `html`.
        field: &'static str,
        /// What is wrong.
        detail: String,
    },
}

impl ErrorCode for OrganizationError {
    fn code(&self) -> &'static str {
        match self {
            OrganizationError::AlreadyExists => "ORGANIZATION_EXISTS",
            OrganizationError::NotFound => "ORGANIZATION_NOT_FOUND",
            OrganizationError::InvalidPolicy(_) => "POLICY_INVALID",
            OrganizationError::SmsNumberTaken => "SMS_NUMBER_TAKEN",
            OrganizationError::InvalidTerms(_) => "TERMS_INVALID",
            OrganizationError::SmsNotConfigured => "SMS_NOT_CONFIGURED",
            OrganizationError::TemplateInvalid { .. } => "MESSAGE_TEMPLATE_INVALID",
        }
    }
}

impl Decider for Organization {
    type State = OrganizationState;
    type Command = OrganizationCommand;
    type Event = OrganizationEvent;
    type Error = OrganizationError;
    const CATEGORY: &'static str = "organization";

    fn decide(
        state: &Self::State,
        command: Self::Command,
        now: DateTime<Utc>,
    ) -> Result<Vec<Self::Event>, Self::Error> {
        match (state, command) {
            (OrganizationState::Absent, OrganizationCommand::Create { id, code, name }) => {
                Ok(vec![OrganizationEvent::OrganizationCreated(
                    OrganizationCreated {
                        organization_id: id,
                        code,
                        name,
                        created_at: now,
                    },
                )])
            }
            (OrganizationState::Active { .. }, OrganizationCommand::Create { .. }) => {
                Err(OrganizationError::AlreadyExists)
            }
            (OrganizationState::Absent, _) => Err(OrganizationError::NotFound),
            (
                OrganizationState::Active { .. },
                OrganizationCommand::SetSecurityPolicy { policy, by },
            ) => {
                validate(&policy)?;
                Ok(vec![OrganizationEvent::SecurityPolicyChanged(
                    SecurityPolicyChanged {
                        policy,
                        by,
                        at: now,
                    },
                )])
            }
            (
                OrganizationState::Active { two_step, .. },
                OrganizationCommand::SetTwoStepRequirement { required, by },
            ) => Ok(if *two_step == required {
                vec![]
            } else {
                vec![OrganizationEvent::TwoStepRequirementSet(
                    TwoStepRequirementSet {
                        required,
                        by,
                        at: now,
                    },
                )]
            }),
            (
                OrganizationState::Active {
                    calendar_public, ..
                },
                OrganizationCommand::SetCalendarPublic { public, by },
            ) => Ok(if *calendar_public == public {
                vec![]
            } else {
                vec![OrganizationEvent::CalendarVisibilitySet(
                    CalendarVisibilitySet {
                        public,
                        by,
                        at: now,
                    },
                )]
            }),
            (
                OrganizationState::Active { payments, .. },
                OrganizationCommand::SetPaymentProcessor { processor, by },
            ) => Ok(if payments.is_none() && processor.is_none() {
                vec![]
            } else {
                // A new key is sealed afresh each time, so two set-ups with one key still differ: both are recorded.
                vec![OrganizationEvent::PaymentProcessorSet(
                    PaymentProcessorSet {
                        processor,
                        by,
                        at: now,
                    },
                )]
            }),
            (
                OrganizationState::Active { help: current, .. },
                OrganizationCommand::SetHelpContacts { help, by },
            ) => Ok(if *current == help {
                vec![]
            } else {
                vec![OrganizationEvent::HelpContactsSet(HelpContactsSet {
                    help,
                    by,
                    at: now,
                })]
            }),
            (
                OrganizationState::Active { device_policy, .. },
                OrganizationCommand::SetDevicePolicy { policy, by },
            ) => {
                if let Some(rule) = policy.broken_rule() {
                    return Err(OrganizationError::InvalidPolicy(rule));
                }
                Ok(if *device_policy == policy {
                    vec![]
                } else {
                    vec![OrganizationEvent::DevicePolicyChanged(
                        DevicePolicyChanged {
                            policy,
                            by,
                            at: now,
                        },
                    )]
                })
            }
            (
                OrganizationState::Active { time_zone, .. },
                OrganizationCommand::SetTimeZone { time_zone: new, by },
            ) => Ok(if *time_zone == new {
                vec![]
            } else {
                vec![OrganizationEvent::TimeZoneSet(TimeZoneSet {
                    time_zone: new,
                    by,
                    at: now,
                })]
            }),
            (
                OrganizationState::Active { terms, .. },
                OrganizationCommand::PublishTerms {
                    terms_of_use,
                    privacy_practices,
                    by,
                },
            ) => {
                let (terms_of_use, privacy_practices) = (
                    terms_of_use.trim().to_owned(),
                    privacy_practices.trim().to_owned(),
                );
                for text in [&terms_of_use, &privacy_practices] {
                    if text.is_empty() || text.chars().count() > MAX_TERMS_CHARS {
                        return Err(OrganizationError::InvalidTerms(
                            "terms of use and privacy practices have 1 to 100,000 characters each",
                        ));
                    }
                }
                Ok(vec![OrganizationEvent::TermsPublished(TermsPublished {
                    terms: Terms {
                        version: terms.as_ref().map_or(1, |t| t.version + 1),
                        terms_of_use,
                        privacy_practices,
                    },
                    by,
                    at: now,
                })])
            }
            (
                OrganizationState::Active { .. },
                OrganizationCommand::SetCarePolicy { policy, by },
            ) => {
                policy
                    .validate()
                    .map_err(|e| OrganizationError::InvalidPolicy(e.rule))?;
                Ok(vec![OrganizationEvent::CarePolicyChanged(
                    CarePolicyChanged {
                        policy,
                        by,
                        at: now,
                    },
                )])
            }
            (
                OrganizationState::Active { .. },
                OrganizationCommand::SetPatientPolicy { policy, by },
            ) => {
                if !(1..=365).contains(&policy.activation_code_days) {
                    return Err(OrganizationError::InvalidPolicy(
                        "activation codes work 1 to 365 days",
                    ));
                }
                if policy.cancellation_cutoff_hours > 168 {
                    return Err(OrganizationError::InvalidPolicy(
                        "the cancellation cut-off is 0 to 168 hours",
                    ));
                }
                if !(5..=1440).contains(&policy.offer_minutes) {
                    return Err(OrganizationError::InvalidPolicy(
                        "a wait-list offer stands 5 to 1440 minutes",
                    ));
                }
                if policy.reminder_hours.iter().any(|h| *h > 720) {
                    return Err(OrganizationError::InvalidPolicy(
                        "reminders go at most 720 hours ahead",
                    ));
                }
                Ok(vec![OrganizationEvent::PatientPolicyChanged(
                    PatientPolicyChanged {
                        policy,
                        by,
                        at: now,
                    },
                )])
            }
            (
                OrganizationState::Active { .. },
                OrganizationCommand::ConfigureSms {
                    channel,
                    account,
                    by,
                },
            ) => {
                let mut events = vec![OrganizationEvent::SmsChannelConfigured(
                    SmsChannelConfigured {
                        channel,
                        by,
                        at: now,
                    },
                )];
                if let Some(account) = account {
                    events.push(OrganizationEvent::SmsAccountSet(SmsAccountSet {
                        account,
                        by,
                        at: now,
                    }));
                }
                Ok(events)
            }
            (
                OrganizationState::Active { messaging, .. },
                OrganizationCommand::SetMailSender { sender, by },
            ) => Ok(if messaging.sender == sender {
                vec![]
            } else {
                vec![OrganizationEvent::MailSenderSet(MailSenderSet {
                    sender,
                    by,
                    at: now,
                })]
            }),
            (
                OrganizationState::Active { sms, .. },
                OrganizationCommand::SetSmsAccount { account, by },
            ) => {
                if sms.is_none() {
                    return Err(OrganizationError::SmsNotConfigured);
                }
                Ok(vec![OrganizationEvent::SmsAccountSet(SmsAccountSet {
                    account,
                    by,
                    at: now,
                })])
            }
            (
                OrganizationState::Active { messaging, .. },
                OrganizationCommand::SetTextingHours { hours, by },
            ) => Ok(if messaging.texting_hours == hours {
                vec![]
            } else {
                vec![OrganizationEvent::TextingHoursSet(TextingHoursSet {
                    hours,
                    by,
                    at: now,
                })]
            }),
            (
                OrganizationState::Active { messaging, .. },
                OrganizationCommand::SetMessageTemplate { kind, template, by },
            ) => Ok(if messaging.templates.get(&kind) == template.as_ref() {
                vec![]
            } else {
                vec![OrganizationEvent::MessageTemplateSet(MessageTemplateSet {
                    kind,
                    template,
                    by,
                    at: now,
                })]
            }),
        }
    }

    fn evolve(mut state: Self::State, event: &Self::Event) -> Self::State {
        if let OrganizationEvent::OrganizationCreated(e) = event {
            return OrganizationState::Active {
                id: e.organization_id,
                code: e.code.clone(),
                name: e.name.clone(),
                policy: SecurityPolicy::default(),
                time_zone: TimeZone::UTC,
                sms: None,
                terms: None,
                patient_policy: PatientPolicy::default(),
                messaging: Messaging::default(),
                care_policy: CarePolicy::default(),
                device_policy: crate::device::DevicePolicy::default(),
                two_step: TwoStepRequirement::None,
                help: crate::values::HelpContacts::default(),
                calendar_public: false,
                payments: None,
            };
        }
        if let OrganizationState::Active {
            policy,
            time_zone,
            sms,
            terms,
            patient_policy,
            messaging,
            care_policy,
            device_policy,
            two_step,
            help,
            calendar_public,
            payments,
            ..
        } = &mut state
        {
            match event {
                OrganizationEvent::OrganizationCreated(_) => {}
                OrganizationEvent::SecurityPolicyChanged(e) => *policy = e.policy,
                OrganizationEvent::TimeZoneSet(e) => *time_zone = e.time_zone,
                OrganizationEvent::SmsChannelConfigured(e) => *sms = Some(e.channel.clone()),
                OrganizationEvent::TermsPublished(e) => *terms = Some(e.terms.clone()),
                OrganizationEvent::PatientPolicyChanged(e) => *patient_policy = e.policy,
                OrganizationEvent::CarePolicyChanged(e) => *care_policy = e.policy.clone(),
                OrganizationEvent::DevicePolicyChanged(e) => *device_policy = e.policy,
                OrganizationEvent::TwoStepRequirementSet(e) => *two_step = e.required,
                OrganizationEvent::HelpContactsSet(e) => *help = e.help.clone(),
                OrganizationEvent::CalendarVisibilitySet(e) => *calendar_public = e.public,
                OrganizationEvent::PaymentProcessorSet(e) => *payments = e.processor.clone(),
                OrganizationEvent::MailSenderSet(e) => messaging.sender = e.sender.clone(),
                OrganizationEvent::SmsAccountSet(e) => {
                    messaging.sms_account = Some(e.account.clone());
                }
                OrganizationEvent::TextingHoursSet(e) => messaging.texting_hours = e.hours,
                OrganizationEvent::MessageTemplateSet(e) => match &e.template {
                    Some(template) => {
                        messaging.templates.insert(e.kind, template.clone());
                    }
                    None => {
                        messaging.templates.remove(&e.kind);
                    }
                },
            }
        }
        state
    }
}

fn validate(policy: &SecurityPolicy) -> Result<(), OrganizationError> {
    use crate::lockout::LockoutMode;
    if !(1..=100).contains(&policy.lockout.threshold) {
        return Err(OrganizationError::InvalidPolicy(
            "the lockout threshold is between 1 and 100 failed sign-ins",
        ));
    }
    if let LockoutMode::CoolDown {
        first_minutes,
        max_minutes,
    } = policy.lockout.mode
    {
        if first_minutes == 0 || max_minutes < first_minutes || max_minutes > 7 * 24 * 60 {
            return Err(OrganizationError::InvalidPolicy(
                "a cool-down is at least 1 minute, and its maximum is at least the first and at most 7 days",
            ));
        }
    }
    if !(5..=480).contains(&policy.session_idle_minutes) {
        return Err(OrganizationError::InvalidPolicy(
            "sessions may sit idle between 5 and 480 minutes",
        ));
    }
    if !(1..=MAX_SESSION_HOURS).contains(&policy.session_hours) {
        return Err(OrganizationError::InvalidPolicy(
            "sessions last between 1 and 24 hours",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decider::testing::given;
    use chrono::TimeZone;
    use uuid::Uuid;

    fn create(at: DateTime<Utc>) -> (OrganizationCommand, OrganizationEvent) {
        let id = OrganizationId(Uuid::from_u128(1));
        let code = OrganizationCode::parse("umncpd").unwrap();
        let name = OrganizationName::parse("UMN CPD").unwrap();
        (
            OrganizationCommand::Create {
                id,
                code: code.clone(),
                name: name.clone(),
            },
            OrganizationEvent::OrganizationCreated(OrganizationCreated {
                organization_id: id,
                code,
                name,
                created_at: at,
            }),
        )
    }

    #[test]
    fn an_organization_is_created_once() {
        let t0 = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        let (command, event) = create(t0);
        given::<Organization>([])
            .when(command, t0)
            .then(vec![event]);
    }

    #[test]
    fn a_care_policy_within_its_rules_is_recorded_and_folded_in() {
        let t0 = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        let (_, created) = create(t0);
        let mut policy = CarePolicy {
            conversation_idle_days: 7,
            ..CarePolicy::default()
        };
        policy
            .release_hours
            .insert(crate::values::TestCode::parse("HBA1C").unwrap(), 24);
        let events = Organization::decide(
            &Organization::fold([&created]),
            OrganizationCommand::SetCarePolicy {
                policy: policy.clone(),
                by: None,
            },
            t0,
        )
        .unwrap();
        let OrganizationState::Active { care_policy, .. } =
            Organization::fold(std::iter::once(&created).chain(events.iter()))
        else {
            panic!("absent")
        };
        assert_eq!(care_policy, policy);
    }

    #[test]
    fn a_care_policy_idle_for_zero_days_is_refused() {
        let t0 = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        let (_, created) = create(t0);
        given::<Organization>([created])
            .when(
                OrganizationCommand::SetCarePolicy {
                    policy: CarePolicy {
                        conversation_idle_days: 0,
                        ..CarePolicy::default()
                    },
                    by: None,
                },
                t0,
            )
            .then_error(OrganizationError::InvalidPolicy(
                "a conversation closes after 1 to 365 quiet days",
            ));
    }

    #[test]
    fn requiring_two_step_verification_for_patients_is_recorded_and_folded_in() {
        let t0 = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        let (_, created) = create(t0);
        let set = OrganizationEvent::TwoStepRequirementSet(TwoStepRequirementSet {
            required: TwoStepRequirement::Patients,
            by: None,
            at: t0,
        });
        given::<Organization>([created.clone()])
            .when(
                OrganizationCommand::SetTwoStepRequirement {
                    required: TwoStepRequirement::Patients,
                    by: None,
                },
                t0,
            )
            .then(vec![set.clone()]);
        let OrganizationState::Active { two_step, .. } = Organization::fold([&created, &set])
        else {
            panic!("absent")
        };
        assert_eq!(two_step, TwoStepRequirement::Patients);
    }

    #[test]
    fn turning_off_online_payments_that_were_never_on_records_nothing() {
        let t0 = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        let (_, created) = create(t0);
        given::<Organization>([created])
            .when(
                OrganizationCommand::SetPaymentProcessor {
                    processor: None,
                    by: None,
                },
                t0,
            )
            .then(vec![]);
    }

    #[test]
    fn a_payment_processor_account_is_recorded_and_folded_in() {
        let t0 = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        let (_, created) = create(t0);
        let processor = PaymentProcessor {
            sealed_api_key: crate::secret::SealedSecret::new("sealed-key".to_owned()),
            sealed_webhook_secret: crate::secret::SealedSecret::new("sealed-secret".to_owned()),
            key_hint: "…abcd".to_owned(),
            live: false,
        };
        let set = OrganizationEvent::PaymentProcessorSet(PaymentProcessorSet {
            processor: Some(processor.clone()),
            by: None,
            at: t0,
        });
        given::<Organization>([created.clone()])
            .when(
                OrganizationCommand::SetPaymentProcessor {
                    processor: Some(processor.clone()),
                    by: None,
                },
                t0,
            )
            .then(vec![set.clone()]);
        let OrganizationState::Active { payments, .. } = Organization::fold([&created, &set])
        else {
            panic!("absent")
        };
        assert_eq!(payments, Some(processor));
    }

    #[test]
    fn help_contacts_are_recorded_and_folded_in_and_the_same_again_records_nothing() {
        use crate::values::{HelpContacts, HelpContactsInput};
        let t0 = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        let (_, created) = create(t0);
        let help = HelpContacts::parse(HelpContactsInput {
            phone: Some("612-626-7600"),
            hours: Some("8:00am to 4:30pm"),
            ..Default::default()
        })
        .unwrap();
        let set = OrganizationEvent::HelpContactsSet(HelpContactsSet {
            help: help.clone(),
            by: None,
            at: t0,
        });
        given::<Organization>([created.clone()])
            .when(
                OrganizationCommand::SetHelpContacts {
                    help: help.clone(),
                    by: None,
                },
                t0,
            )
            .then(vec![set.clone()]);
        given::<Organization>([created.clone(), set.clone()])
            .when(
                OrganizationCommand::SetHelpContacts {
                    help: help.clone(),
                    by: None,
                },
                t0,
            )
            .then(vec![]);
        let OrganizationState::Active { help: folded, .. } = Organization::fold([&created, &set])
        else {
            panic!("absent")
        };
        assert_eq!(folded, help);
    }

    #[test]
    fn opening_the_calendar_is_recorded_once_and_folded_in() {
        let t0 = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        let (_, created) = create(t0);
        let opened = OrganizationEvent::CalendarVisibilitySet(CalendarVisibilitySet {
            public: true,
            by: None,
            at: t0,
        });
        let open = || OrganizationCommand::SetCalendarPublic {
            public: true,
            by: None,
        };
        given::<Organization>([created.clone()])
            .when(open(), t0)
            .then(vec![opened.clone()]);
        given::<Organization>([created.clone(), opened.clone()])
            .when(open(), t0)
            .then(vec![]);
        let OrganizationState::Active {
            calendar_public, ..
        } = Organization::fold([&created, &opened])
        else {
            panic!("absent")
        };
        assert!(calendar_public);
    }

    #[test]
    fn requiring_the_two_step_verification_already_required_records_nothing() {
        let t0 = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        let (_, created) = create(t0);
        given::<Organization>([created])
            .when(
                OrganizationCommand::SetTwoStepRequirement {
                    required: TwoStepRequirement::None,
                    by: None,
                },
                t0,
            )
            .then(vec![]);
    }

    #[test]
    fn a_two_step_requirement_covers_the_roles_it_names_and_never_learners() {
        use crate::account::Role;
        let roles = [
            Role::Learner,
            Role::Patient,
            Role::Staff,
            Role::Provider,
            Role::Auditor,
        ];
        let covered = |required: TwoStepRequirement| {
            roles
                .iter()
                .filter(|r| required.applies_to(**r))
                .copied()
                .collect::<Vec<_>>()
        };
        assert_eq!(covered(TwoStepRequirement::None), vec![]);
        assert_eq!(covered(TwoStepRequirement::Patients), vec![Role::Patient]);
        assert_eq!(
            covered(TwoStepRequirement::Staff),
            vec![Role::Staff, Role::Provider, Role::Auditor]
        );
        assert_eq!(
            covered(TwoStepRequirement::Both),
            vec![Role::Patient, Role::Staff, Role::Provider, Role::Auditor]
        );
    }

    #[test]
    fn creating_an_existing_organization_is_refused() {
        let t0 = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        let (command, event) = create(t0);
        given::<Organization>([event])
            .when(command, t0)
            .then_error(OrganizationError::AlreadyExists);
    }

    #[test]
    fn setting_the_zone_it_already_has_records_nothing() {
        let t0 = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        let (_, created) = create(t0);
        given::<Organization>([created])
            .when(
                OrganizationCommand::SetTimeZone {
                    time_zone: crate::values::TimeZone::UTC,
                    by: None,
                },
                t0,
            )
            .then(vec![]);
    }

    #[test]
    fn an_sms_account_needs_an_sms_number_first() {
        let t0 = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        let (_, created) = create(t0);
        given::<Organization>([created])
            .when(
                OrganizationCommand::SetSmsAccount {
                    account: SmsAccountId::parse("AC0123456789abcdef0123456789abcdef").unwrap(),
                    by: None,
                },
                t0,
            )
            .then_error(OrganizationError::SmsNotConfigured);
    }

    #[test]
    fn resetting_a_template_that_was_never_set_records_nothing() {
        let t0 = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        let (_, created) = create(t0);
        given::<Organization>([created])
            .when(
                OrganizationCommand::SetMessageTemplate {
                    kind: MessageKind::Activation,
                    template: None,
                    by: None,
                },
                t0,
            )
            .then(vec![]);
    }

    #[test]
    fn a_template_replaces_the_default_of_its_kind_only() {
        let t0 = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        let (_, created) = create(t0);
        let template =
            MessageTemplate::new(MessageKind::Activation, "Welcome", "{{ link }}", None).unwrap();
        let set = OrganizationEvent::MessageTemplateSet(MessageTemplateSet {
            kind: MessageKind::Activation,
            template: Some(template.clone()),
            by: None,
            at: t0,
        });
        let state = [created, set]
            .iter()
            .fold(OrganizationState::Absent, Organization::evolve);
        let OrganizationState::Active { messaging, .. } = state else {
            panic!("active")
        };
        assert_eq!(
            messaging.templates.get(&MessageKind::Activation),
            Some(&template)
        );
        assert_eq!(messaging.templates.len(), 1);
    }

    #[test]
    fn an_organization_that_does_not_exist_cannot_set_up_sms() {
        let t0 = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        given::<Organization>([])
            .when(
                OrganizationCommand::ConfigureSms {
                    channel: SmsChannel {
                        number: PhoneNumber::parse("+18336161157").unwrap(),
                        sealed_auth_token: crate::secret::SealedSecret::new("sealed".to_owned()),
                    },
                    account: None,
                    by: None,
                },
                t0,
            )
            .then_error(OrganizationError::NotFound);
    }

    #[test]
    fn setting_up_sms_with_an_account_records_both_in_one_decision() {
        let t0 = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        let (_, created) = create(t0);
        let channel = SmsChannel {
            number: PhoneNumber::parse("+18336161157").unwrap(),
            sealed_auth_token: crate::secret::SealedSecret::new("sealed".to_owned()),
        };
        let account = SmsAccountId::parse("AC0123456789abcdef0123456789abcdef").unwrap();
        given::<Organization>([created])
            .when(
                OrganizationCommand::ConfigureSms {
                    channel: channel.clone(),
                    account: Some(account.clone()),
                    by: None,
                },
                t0,
            )
            .then(vec![
                OrganizationEvent::SmsChannelConfigured(SmsChannelConfigured {
                    channel,
                    by: None,
                    at: t0,
                }),
                OrganizationEvent::SmsAccountSet(SmsAccountSet {
                    account,
                    by: None,
                    at: t0,
                }),
            ]);
    }
}
