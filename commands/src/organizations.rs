//! Creating organizations and finding them by code.

use portal_domain::organization::{
    Organization, OrganizationCommand, OrganizationError, OrganizationEvent, OrganizationState,
    PaymentProcessor, SecurityPolicy, SmsChannel,
};
use portal_domain::secret::SealedSecret;
use portal_domain::values::{
    MailSender, MessageKind, MessageTemplate, OrganizationCode, OrganizationName, PhoneNumber,
    ProcessorApiKey, SmsAccountId, TextingHours, TimeZone, WebhookSigningSecret,
};
use portal_domain::{Decider, OrganizationId};
use uuid::Uuid;

use crate::handler::{execute, CommandContext, CommandError, Plan};
use crate::log::{Claim, EventLog, StreamId};
use crate::store::{LoadError, Store};

/// Uniqueness kind of organization codes (scope: all of portal).
const CODE_CLAIM: &str = "organization_code";
/// Uniqueness kind of the numbers learners text (scope: all of portal): the receiving number selects the organization.
const SMS_NUMBER_CLAIM: &str = "sms_number";

/// An organization as commands need it.
#[derive(Clone, Debug, PartialEq)]
pub struct OrganizationSummary {
    /// Its id.
    pub id: OrganizationId,
    /// Its code.
    pub code: OrganizationCode,
    /// Its name.
    pub name: OrganizationName,
    /// Its security rules.
    pub policy: SecurityPolicy,
    /// The zone its calendar is shown in.
    pub time_zone: TimeZone,
    /// Its SMS number, if set up.
    pub sms: Option<SmsChannel>,
    /// Its terms in force, if published.
    pub terms: Option<portal_domain::organization::Terms>,
    /// Its patient portal's rules.
    pub patient_policy: portal_domain::organization::PatientPolicy,
    /// How its messages go out.
    pub messaging: portal_domain::organization::Messaging,
    /// Its rules for conversations, results and proxies.
    pub care_policy: portal_domain::care::CarePolicy,
    /// Its rules for apps' device sessions.
    pub device_policy: portal_domain::device::DevicePolicy,
    /// Who must use two-step verification.
    pub two_step: portal_domain::organization::TwoStepRequirement,
    /// How people reach its help desk.
    pub help: portal_domain::values::HelpContacts,
    /// Whether anyone may browse its calendar without signing in.
    pub calendar_public: bool,
    /// Its payment processor account (sealed), if patients may pay online.
    pub payments: Option<PaymentProcessor>,
}

impl OrganizationSummary {
    /// What a locked account is told to do under this organization's rules (the CE portal FAQ: "please email or
    /// call ... Once we have unlocked your account, we will notify you by email"): wait for a cool-down, written in
    /// the organization's time, or contact its help desk.
    pub fn locked_answer(&self, until: Option<chrono::DateTime<chrono::Utc>>) -> String {
        let what = "this account is locked after too many failed sign-ins";
        match until {
            Some(until) => format!(
                "{what}; try again after {}, or reset your password",
                crate::messages::local_time(&self.time_zone, until)
            ),
            None => {
                let contact = self
                    .help
                    .contact(self.name.as_str())
                    .unwrap_or_else(|| format!("contact {}", self.name.as_str()));
                format!(
                    "{what}; {contact} with your name and the e-mail address of your account. Once we have \
                     unlocked your account, we will notify you by email"
                )
            }
        }
    }
}

/// The stream of an organization.
pub fn stream(id: OrganizationId) -> StreamId {
    StreamId::new(Organization::CATEGORY, id.0)
}

/// Creates an organization; its code must be unused.
pub async fn create<L: EventLog>(
    store: &Store<L>,
    code: OrganizationCode,
    name: OrganizationName,
    ctx: &CommandContext,
) -> Result<(OrganizationId, i64), CommandError<OrganizationError>> {
    let id = OrganizationId(Uuid::new_v4());
    let stream = stream(id);
    let key = store.secrets.index_hash(CODE_CLAIM, code.as_str());
    let fingerprint = store.secrets.fingerprint(
        "CreateOrganization",
        &[code.as_str().as_bytes(), name.as_str().as_bytes()],
    );
    let executed = execute::<L, Organization>(
        store,
        &stream,
        None,
        ctx,
        "CreateOrganization",
        fingerprint,
        |_| {
            Ok(Plan {
                tenant: id.0,
                command: OrganizationCommand::Create {
                    id,
                    code: code.clone(),
                    name: name.clone(),
                },
                claims: vec![Claim {
                    scope: Uuid::nil(),
                    kind: CODE_CLAIM.to_owned(),
                    key: key.clone(),
                    owner: stream.clone(),
                }],
                releases: vec![],
                outbox: vec![],
                follow_up: None,
            })
        },
    )
    .await
    .map_err(|error| match error {
        CommandError::Taken { .. } => CommandError::Rejected(OrganizationError::AlreadyExists),
        other => other,
    })?;
    let id = match &executed.replayed {
        Some(_) => find_by_code(store, &code)
            .await?
            .map(|org| org.id)
            .ok_or_else(|| CommandError::Internal("replayed organization not found".to_owned()))?,
        None => id,
    };
    Ok((id, executed.last_position.unwrap_or_default()))
}

/// The organization with this id, read from the log (always current).
pub async fn find_by_id<L: EventLog>(
    store: &Store<L>,
    id: OrganizationId,
) -> Result<Option<OrganizationSummary>, LoadError> {
    summary(store, &stream(id)).await
}

/// The organization with this code, read from the log (always current).
pub async fn find_by_code<L: EventLog>(
    store: &Store<L>,
    code: &OrganizationCode,
) -> Result<Option<OrganizationSummary>, LoadError> {
    let key = store.secrets.index_hash(CODE_CLAIM, code.as_str());
    match store.log.find_claim(Uuid::nil(), CODE_CLAIM, &key).await? {
        Some(owner) => summary(store, &owner).await,
        None => Ok(None),
    }
}

async fn summary<L: EventLog>(
    store: &Store<L>,
    stream: &StreamId,
) -> Result<Option<OrganizationSummary>, LoadError> {
    let (state, _) = store.load::<Organization>(stream).await?;
    Ok(match state {
        OrganizationState::Active {
            id,
            code,
            name,
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
        } => Some(OrganizationSummary {
            id,
            code,
            name,
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
        }),
        OrganizationState::Absent => None,
    })
}

/// Runs a command on an organization's stream; `input` is what makes a retry with the same command id the same
/// command.
async fn on_organization<L: EventLog>(
    store: &Store<L>,
    organization: OrganizationId,
    name: &str,
    input: &[u8],
    command: impl Fn() -> OrganizationCommand,
    ctx: &CommandContext,
) -> Result<crate::handler::Executed<OrganizationEvent>, CommandError<OrganizationError>> {
    let fingerprint = store
        .secrets
        .fingerprint(name, &[organization.0.as_bytes(), input]);
    execute::<L, Organization>(
        store,
        &stream(organization),
        None,
        ctx,
        name,
        fingerprint,
        |_| Ok(Plan::command(organization.0, command())),
    )
    .await
}

/// Runs a settings command on an organization's stream; returns the position produced (0 when nothing changed).
async fn change_setting<L: EventLog>(
    store: &Store<L>,
    organization: OrganizationId,
    name: &str,
    input: &[u8],
    command: impl Fn() -> OrganizationCommand,
    ctx: &CommandContext,
) -> Result<i64, CommandError<OrganizationError>> {
    let executed = on_organization(store, organization, name, input, command, ctx).await?;
    Ok(executed.last_position.unwrap_or_default())
}

/// Replaces an organization's security rules (lockout, session lifetime).
pub async fn set_security_policy<L: EventLog>(
    store: &Store<L>,
    organization: OrganizationId,
    policy: SecurityPolicy,
    by: Option<portal_domain::AccountId>,
    ctx: &CommandContext,
) -> Result<i64, CommandError<OrganizationError>> {
    let input = serde_json::to_vec(&policy).unwrap_or_default();
    change_setting(
        store,
        organization,
        "SetSecurityPolicy",
        &input,
        || OrganizationCommand::SetSecurityPolicy { policy, by },
        ctx,
    )
    .await
}

/// Replaces an organization's rules for apps' device sessions (longest life, second step at renewal).
pub async fn set_device_policy<L: EventLog>(
    store: &Store<L>,
    organization: OrganizationId,
    policy: portal_domain::device::DevicePolicy,
    by: Option<portal_domain::AccountId>,
    ctx: &CommandContext,
) -> Result<i64, CommandError<OrganizationError>> {
    let input = serde_json::to_vec(&policy).unwrap_or_default();
    change_setting(
        store,
        organization,
        "SetDevicePolicy",
        &input,
        || OrganizationCommand::SetDevicePolicy { policy, by },
        ctx,
    )
    .await
}

/// Sets who in an organization must use two-step verification.
pub async fn set_two_step_requirement<L: EventLog>(
    store: &Store<L>,
    organization: OrganizationId,
    required: portal_domain::organization::TwoStepRequirement,
    by: Option<portal_domain::AccountId>,
    ctx: &CommandContext,
) -> Result<i64, CommandError<OrganizationError>> {
    let input = serde_json::to_vec(&required).unwrap_or_default();
    change_setting(
        store,
        organization,
        "SetTwoStepRequirement",
        &input,
        || OrganizationCommand::SetTwoStepRequirement { required, by },
        ctx,
    )
    .await
}

/// Replaces how people reach an organization's help desk.
pub async fn set_help_contacts<L: EventLog>(
    store: &Store<L>,
    organization: OrganizationId,
    help: portal_domain::values::HelpContacts,
    by: Option<portal_domain::AccountId>,
    ctx: &CommandContext,
) -> Result<i64, CommandError<OrganizationError>> {
    let input = serde_json::to_vec(&help).unwrap_or_default();
    change_setting(
        store,
        organization,
        "SetHelpContacts",
        &input,
        || OrganizationCommand::SetHelpContacts {
            help: help.clone(),
            by,
        },
        ctx,
    )
    .await
}

/// Opens an organization's calendar to anyone (and its iCalendar feed), or keeps it for those signed in.
pub async fn set_calendar_public<L: EventLog>(
    store: &Store<L>,
    organization: OrganizationId,
    public: bool,
    by: Option<portal_domain::AccountId>,
    ctx: &CommandContext,
) -> Result<i64, CommandError<OrganizationError>> {
    change_setting(
        store,
        organization,
        "SetCalendarPublic",
        &[u8::from(public)],
        || OrganizationCommand::SetCalendarPublic { public, by },
        ctx,
    )
    .await
}

/// Shows an organization's calendar in another zone.
pub async fn set_time_zone<L: EventLog>(
    store: &Store<L>,
    organization: OrganizationId,
    time_zone: TimeZone,
    by: Option<portal_domain::AccountId>,
    ctx: &CommandContext,
) -> Result<i64, CommandError<OrganizationError>> {
    change_setting(
        store,
        organization,
        "SetTimeZone",
        time_zone.name().as_bytes(),
        || OrganizationCommand::SetTimeZone { time_zone, by },
        ctx,
    )
    .await
}

/// Sets up the number learners text and the provider's auth token that signs its requests, and, if given, the
/// provider account that sends the organization's texts (one commit). The number must not belong to another
/// organization; the token is sealed before it reaches the log.
pub async fn configure_sms<L: EventLog>(
    store: &Store<L>,
    organization: OrganizationId,
    number: PhoneNumber,
    auth_token: &str,
    account: Option<SmsAccountId>,
    by: Option<portal_domain::AccountId>,
    ctx: &CommandContext,
) -> Result<i64, CommandError<OrganizationError>> {
    let fingerprint = store.secrets.fingerprint(
        "ConfigureSms",
        &[
            organization.0.as_bytes(),
            number.as_str().as_bytes(),
            auth_token.as_bytes(),
            account.as_ref().map_or(&b""[..], |a| a.as_str().as_bytes()),
        ],
    );
    let org_stream = stream(organization);
    let claim = |n: &PhoneNumber| Claim {
        scope: Uuid::nil(),
        kind: SMS_NUMBER_CLAIM.to_owned(),
        key: store.secrets.index_hash(SMS_NUMBER_CLAIM, n.as_str()),
        owner: org_stream.clone(),
    };
    let sealed_auth_token = SealedSecret::new(store.secrets.seal(auth_token.as_bytes()));
    let executed = execute::<L, Organization>(
        store,
        &org_stream,
        None,
        ctx,
        "ConfigureSms",
        fingerprint,
        |state| {
            let releases = match state {
                OrganizationState::Active { sms: Some(old), .. } if old.number != number => {
                    vec![claim(&old.number)]
                }
                _ => vec![],
            };
            Ok(Plan {
                tenant: organization.0,
                command: OrganizationCommand::ConfigureSms {
                    channel: SmsChannel {
                        number: number.clone(),
                        sealed_auth_token: sealed_auth_token.clone(),
                    },
                    account: account.clone(),
                    by,
                },
                claims: vec![claim(&number)],
                releases,
                outbox: vec![],
                follow_up: None,
            })
        },
    )
    .await
    .map_err(|error| match error {
        CommandError::Taken { .. } => CommandError::Rejected(OrganizationError::SmsNumberTaken),
        other => other,
    })?;
    Ok(executed.last_position.unwrap_or_default())
}

/// Sets (or clears) the sender of the organization's e-mail.
pub async fn set_mail_sender<L: EventLog>(
    store: &Store<L>,
    organization: OrganizationId,
    sender: Option<MailSender>,
    by: Option<portal_domain::AccountId>,
    ctx: &CommandContext,
) -> Result<i64, CommandError<OrganizationError>> {
    let input = serde_json::to_vec(&sender).unwrap_or_default();
    change_setting(
        store,
        organization,
        "SetMailSender",
        &input,
        || OrganizationCommand::SetMailSender {
            sender: sender.clone(),
            by,
        },
        ctx,
    )
    .await
}

/// Changes the SMS provider account that sends the organization's texts (with the auth token of its SMS channel),
/// which must be set up already.
pub async fn set_sms_account<L: EventLog>(
    store: &Store<L>,
    organization: OrganizationId,
    account: SmsAccountId,
    by: Option<portal_domain::AccountId>,
    ctx: &CommandContext,
) -> Result<i64, CommandError<OrganizationError>> {
    change_setting(
        store,
        organization,
        "SetSmsAccount",
        account.as_str().as_bytes(),
        || OrganizationCommand::SetSmsAccount {
            account: account.clone(),
            by,
        },
        ctx,
    )
    .await
}

/// Sets the local hours in which texts other than one-time codes go out.
pub async fn set_texting_hours<L: EventLog>(
    store: &Store<L>,
    organization: OrganizationId,
    hours: TextingHours,
    by: Option<portal_domain::AccountId>,
    ctx: &CommandContext,
) -> Result<i64, CommandError<OrganizationError>> {
    let input = serde_json::to_vec(&hours).unwrap_or_default();
    change_setting(
        store,
        organization,
        "SetTextingHours",
        &input,
        || OrganizationCommand::SetTextingHours { hours, by },
        ctx,
    )
    .await
}

/// Replaces the organization's wording of one kind of message (None: back to the default). The template must
/// parse, use only its kind's variables, and render within bounds.
pub async fn set_message_template<L: EventLog>(
    store: &Store<L>,
    organization: OrganizationId,
    kind: MessageKind,
    template: Option<MessageTemplate>,
    by: Option<portal_domain::AccountId>,
    ctx: &CommandContext,
) -> Result<i64, CommandError<OrganizationError>> {
    if let Some(template) = &template {
        crate::templates::check_bounded(kind, template)
            .await
            .map_err(|error| {
                CommandError::Rejected(OrganizationError::TemplateInvalid {
                    field: error.field,
                    detail: error.detail,
                })
            })?;
    }
    let input = serde_json::to_vec(&(kind, &template)).unwrap_or_default();
    change_setting(
        store,
        organization,
        "SetMessageTemplate",
        &input,
        || OrganizationCommand::SetMessageTemplate {
            kind,
            template: template.clone(),
            by,
        },
        ctx,
    )
    .await
}

/// The organization that receives texts at `number`.
pub async fn find_by_sms_number<L: EventLog>(
    store: &Store<L>,
    number: &PhoneNumber,
) -> Result<Option<OrganizationSummary>, LoadError> {
    let key = store.secrets.index_hash(SMS_NUMBER_CLAIM, number.as_str());
    match store
        .log
        .find_claim(Uuid::nil(), SMS_NUMBER_CLAIM, &key)
        .await?
    {
        Some(owner) => summary(store, &owner).await,
        None => Ok(None),
    }
}

/// Sets up online bill pay with the organization's own payment processor account (its secret API key and webhook
/// signing secret, sealed before they reach the log), or turns it off (None).
pub async fn set_payment_processor<L: EventLog>(
    store: &Store<L>,
    organization: OrganizationId,
    keys: Option<(ProcessorApiKey, WebhookSigningSecret)>,
    by: Option<portal_domain::AccountId>,
    ctx: &CommandContext,
) -> Result<i64, CommandError<OrganizationError>> {
    let processor = keys.as_ref().map(|(key, secret)| PaymentProcessor {
        sealed_api_key: SealedSecret::new(store.secrets.seal(key.expose().as_bytes())),
        sealed_webhook_secret: SealedSecret::new(store.secrets.seal(secret.expose().as_bytes())),
        key_hint: key.hint(),
        live: key.live(),
    });
    // The fingerprint is a keyed hash: the keys themselves are not kept with the command.
    let input = keys.as_ref().map_or(Vec::new(), |(key, secret)| {
        [key.expose().as_bytes(), b"\0", secret.expose().as_bytes()].concat()
    });
    change_setting(
        store,
        organization,
        "SetPaymentProcessor",
        &input,
        || OrganizationCommand::SetPaymentProcessor {
            processor: processor.clone(),
            by,
        },
        ctx,
    )
    .await
}

/// An organization's payment processor keys, unsealed: the secret API key and the webhook signing secret.
pub struct ProcessorKeys {
    /// The secret API key.
    pub api_key: String,
    /// The webhook signing secret.
    pub webhook_secret: String,
}

impl std::fmt::Debug for ProcessorKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ProcessorKeys(<redacted>)")
    }
}

/// The payment processor keys of an organization, unsealed; None when it takes no payments online.
pub fn processor_keys<L: EventLog>(
    store: &Store<L>,
    organization: &OrganizationSummary,
) -> Option<ProcessorKeys> {
    let processor = organization.payments.as_ref()?;
    let open =
        |sealed: &SealedSecret| String::from_utf8(store.secrets.open(sealed.as_sealed())?).ok();
    Some(ProcessorKeys {
        api_key: open(&processor.sealed_api_key)?,
        webhook_secret: open(&processor.sealed_webhook_secret)?,
    })
}

/// The SMS provider's auth token of an organization, unsealed.
pub fn sms_auth_token<L: EventLog>(
    store: &Store<L>,
    organization: &OrganizationSummary,
) -> Option<String> {
    let sealed = &organization.sms.as_ref()?.sealed_auth_token;
    String::from_utf8(store.secrets.open(sealed.as_sealed())?).ok()
}

/// Publishes a new version of the terms of use and privacy practices; returns the version and the position.
pub async fn publish_terms<L: EventLog>(
    store: &Store<L>,
    organization: OrganizationId,
    terms_of_use: &str,
    privacy_practices: &str,
    by: Option<portal_domain::AccountId>,
    ctx: &CommandContext,
) -> Result<(u32, i64), CommandError<OrganizationError>> {
    let input = [terms_of_use.as_bytes(), b"\0", privacy_practices.as_bytes()].concat();
    let executed = on_organization(
        store,
        organization,
        "PublishTerms",
        &input,
        || OrganizationCommand::PublishTerms {
            terms_of_use: terms_of_use.to_owned(),
            privacy_practices: privacy_practices.to_owned(),
            by,
        },
        ctx,
    )
    .await?;
    let published = executed.events.iter().find_map(|e| match e {
        OrganizationEvent::TermsPublished(e) => Some(e.terms.version),
        _ => None,
    });
    // A retry appended nothing: the version in force is the one the first attempt published.
    let version = match published {
        Some(version) => version,
        None => find_by_id(store, organization)
            .await?
            .and_then(|o| o.terms)
            .map_or(0, |t| t.version),
    };
    Ok((version, executed.last_position.unwrap_or_default()))
}

/// Replaces the rules for conversations, results and proxies.
pub async fn set_care_policy<L: EventLog>(
    store: &Store<L>,
    organization: OrganizationId,
    policy: portal_domain::care::CarePolicy,
    by: Option<portal_domain::AccountId>,
    ctx: &CommandContext,
) -> Result<i64, CommandError<OrganizationError>> {
    let input = serde_json::to_vec(&policy).unwrap_or_default();
    change_setting(
        store,
        organization,
        "SetCarePolicy",
        &input,
        || OrganizationCommand::SetCarePolicy {
            policy: policy.clone(),
            by,
        },
        ctx,
    )
    .await
}

/// Replaces the patient portal's rules.
pub async fn set_patient_policy<L: EventLog>(
    store: &Store<L>,
    organization: OrganizationId,
    policy: portal_domain::organization::PatientPolicy,
    by: Option<portal_domain::AccountId>,
    ctx: &CommandContext,
) -> Result<i64, CommandError<OrganizationError>> {
    let input = serde_json::to_vec(&policy).unwrap_or_default();
    change_setting(
        store,
        organization,
        "SetPatientPolicy",
        &input,
        || OrganizationCommand::SetPatientPolicy { policy, by },
        ctx,
    )
    .await
}
