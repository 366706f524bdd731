//! How the organization's messages go out (staff): sender, texting hours, templates; and what happened to each
//! message (delivery status), with re-sending.

use async_graphql::{Context, Enum, InputObject, Object, Result, SimpleObject, ID};
use chrono::{DateTime, NaiveTime, Utc};
use portal_commands::deliveries::{self, DeliveryFilter, DeliveryRow, ResendError};
use portal_commands::handler::Actor;
use portal_commands::organizations::{self as orgs, OrganizationSummary};
use portal_commands::templates;
use portal_domain::organization::OrganizationError;
use portal_domain::values::{self, EmailAddress, MailSender, MessageTemplate, TextingHours};
use uuid::Uuid;

use super::access_log::audited;
use super::activities::organization;
use super::errors::ApiError;
use super::query::staff;
use super::settings::SettingsPayload;
use crate::access::Whose;
use crate::app::AppState;
use crate::request::RequestContext;

/// Every kind of message portal sends.
#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq)]
#[graphql(remote = "portal_domain::values::MessageKind")]
pub enum MessageKind {
    /// The link that activates a new account.
    Activation,
    /// To an address that already has an account, when someone registers it again.
    RepeatedRegistration,
    /// Staff unlocked the account.
    AccountUnlocked,
    /// The password-reset link.
    PasswordReset,
    /// To an address without an account that asked for a reset.
    NoAccount,
    /// The password was changed.
    PasswordChanged,
    /// A new staff member's invitation.
    StaffInvitation,
    /// The invitation of an auditor, with the link to choose a password.
    AuditorInvitation,
    /// The link that confirms a new sign-in address.
    ConfirmEmail,
    /// To the old address: a change was asked for.
    EmailChangeRequested,
    /// To the old address: the change took effect.
    EmailChanged,
    /// To an address another account already uses.
    EmailInUse,
    /// A mobile number was paired with the account.
    PhoneAdded,
    /// A mobile number moved to another account.
    PhoneMoved,
    /// The code that verifies a mobile number (text).
    PhoneCode,
    /// A patient's activation code.
    PatientActivationCode,
    /// An online request for an activation code was turned down.
    CodeRequestRejected,
    /// A sign-in code by e-mail.
    SignInCodeEmail,
    /// A sign-in code by text.
    SignInCodeText,
    /// An appointment was booked.
    AppointmentBooked,
    /// An appointment was moved.
    AppointmentMoved,
    /// An appointment was cancelled.
    AppointmentCancelled,
    /// A reminder of an appointment by e-mail.
    AppointmentReminder,
    /// A reminder of an appointment by text.
    AppointmentReminderText,
    /// A slot came free for someone on the wait list.
    SlotOffered,
    /// The care team answered a patient's message (e-mail; never the message itself).
    ReplyWaiting,
    /// The care team answered a patient's message (text).
    ReplyWaitingText,
    /// A new test result is available (e-mail; never the result itself).
    ResultAvailable,
    /// A new test result is available (text).
    ResultAvailableText,
    /// A prescription renewal request was answered.
    RenewalAnswered,
    /// A new statement is ready (paperless billing).
    StatementReady,
    /// A proxy was given access to the patient's portal (to the patient).
    ProxyAccessGranted,
    /// Credit that waited (for an evaluation, a complete profile) was awarded.
    CreditAwarded,
    /// "Forgot your username?": the username, to the address on file.
    UsernameReminder,
}

/// Where a message is.
#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq)]
pub enum DeliveryStatus {
    /// Waiting for its time (a reminder) or for the worker.
    Pending,
    /// A text waiting for the organization's texting hours.
    Held,
    /// Failed at least once; will be tried again at `dueAt`.
    Retrying,
    /// Accepted by the mail server or the SMS provider.
    Sent,
    /// Given up: refused for good, or every attempt failed (`lastError` says why).
    Dead,
    /// Not to be sent after all (the appointment it was about moved or was cancelled, or the person was erased).
    Withdrawn,
}

/// One message and what happened to it. Its text is not shown: it may hold a code or a link meant for one person.
#[derive(SimpleObject)]
pub struct Delivery {
    /// Its id; also the id the receiver sees (the e-mail's Message-ID), to drop a second copy.
    pub id: ID,
    /// What it is.
    pub kind: Option<MessageKind>,
    /// `email` or `sms`.
    pub channel: String,
    /// The address or number (empty once the person's data was erased).
    pub recipient: String,
    /// The subject it was sent with (e-mail, once sent).
    pub subject: String,
    /// Where it is.
    pub status: DeliveryStatus,
    /// Attempts so far.
    pub attempts: i32,
    /// When it was written.
    pub created_at: DateTime<Utc>,
    /// When it is (or was) due.
    pub due_at: DateTime<Utc>,
    /// When it was sent.
    pub sent_at: Option<DateTime<Utc>>,
    /// When it was last tried.
    pub last_attempt_at: Option<DateTime<Utc>>,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
    /// The provider's id of it (the SMTP server's answer, the SMS provider's message id).
    pub provider_id: Option<String>,
    /// The message this one sends again, if it is a copy.
    pub resent_from: Option<ID>,
    /// Whether `resendMessage` may send it again (see there what may not).
    pub resendable: bool,
}

impl From<&DeliveryRow> for Delivery {
    fn from(row: &DeliveryRow) -> Self {
        Delivery {
            id: ID(row.id.to_string()),
            kind: values::MessageKind::parse(&row.kind).map(MessageKind::from),
            channel: row.channel.clone(),
            recipient: row.recipient.clone(),
            subject: row.subject.clone(),
            status: match row.status.as_str() {
                "sent" => DeliveryStatus::Sent,
                "dead" => DeliveryStatus::Dead,
                "withdrawn" => DeliveryStatus::Withdrawn,
                _ if row.held => DeliveryStatus::Held,
                _ if row.attempts > 0 => DeliveryStatus::Retrying,
                _ => DeliveryStatus::Pending,
            },
            attempts: row.attempts,
            created_at: row.created_at,
            due_at: row.due_at,
            sent_at: row.sent_at,
            last_attempt_at: row.last_attempt_at,
            last_error: row.last_error.clone(),
            provider_id: row.provider_id.clone(),
            resent_from: row.resent_from.map(|id| ID(id.to_string())),
            resendable: row.why_not_resendable().is_none(),
        }
    }
}

/// An organization's wording of one kind, or the default.
#[derive(SimpleObject)]
pub struct MessageTemplateInfo {
    /// The wording (of one organization and kind).
    pub id: ID,
    /// The kind.
    pub kind: MessageKind,
    /// `email` or `sms`.
    pub channel: String,
    /// True when the organization wrote its own; false for the default.
    pub custom: bool,
    /// The subject (Jinja syntax; empty for texts).
    pub subject: String,
    /// The text body.
    pub text: String,
    /// The HTML body, if the organization wrote one (otherwise it is made from the text).
    pub html: Option<String>,
    /// The variables a template of this kind may use (`{{ organization }}`, `{{ link }}`, ...).
    pub variables: Vec<String>,
}

/// How the organization's messages go out.
#[derive(SimpleObject)]
pub struct MessagingSettings {
    /// The settings (one set per organization).
    pub id: ID,
    /// The sender's name (null: the server's default sender).
    pub sender_name: Option<String>,
    /// The sender's address.
    pub sender_address: Option<String>,
    /// Texts other than one-time codes go out from (local time, `09:00`) ...
    pub texting_opens: String,
    /// ... until (local time, `18:00`).
    pub texting_closes: String,
    /// The zone of those hours (the organization's time zone).
    pub time_zone: String,
    /// The SMS provider account that sends its texts, if set up.
    pub sms_account_sid: Option<String>,
}

/// A sender of e-mail.
#[derive(InputObject)]
pub struct MailSenderInput {
    /// The name shown (`Mayo Clinic Patient Portal`).
    pub name: String,
    /// The address (it must be one the mail server may send from).
    pub address: String,
}

/// An organization's wording of one kind of message, in Jinja syntax (`Hello {{ salutation }}`).
#[derive(InputObject)]
pub struct MessageTemplateInput {
    /// The kind.
    pub kind: MessageKind,
    /// The subject (e-mail only; must be empty for texts).
    #[graphql(default)]
    pub subject: String,
    /// The text body.
    pub text: String,
    /// An HTML body (e-mail only); variables in it are escaped. Without one, it is made from the text.
    pub html: Option<String>,
}

/// A wording not saved yet, to preview (`messagePreview`).
#[derive(InputObject)]
pub struct MessageDraftInput {
    /// The subject (e-mail only; empty for texts).
    #[graphql(default)]
    pub subject: String,
    /// The text body.
    pub text: String,
    /// An HTML body (e-mail only).
    pub html: Option<String>,
}

/// A message as it would read: sample values for the person's data, and the real links of the organization's portal
/// (with a token that is no one's, so a link opens its page, which says the link is not valid).
#[derive(SimpleObject)]
pub struct MessagePreview {
    /// The kind.
    pub kind: MessageKind,
    /// `email` or `sms`.
    pub channel: String,
    /// The subject (empty for texts).
    pub subject: String,
    /// The text body.
    pub text: String,
    /// The HTML body (e-mail only).
    pub html: Option<String>,
    /// Every web address in the text, in order: the pages the message links to.
    pub links: Vec<String>,
}

/// The web addresses in a message's text.
fn links_in(text: &str) -> Vec<String> {
    text.split_whitespace()
        .filter(|word| word.starts_with("https://") || word.starts_with("http://"))
        .map(|word| word.trim_end_matches(['.', ',', ')', ';']).to_owned())
        .collect()
}

/// Messaging queries (staff).
#[derive(Default)]
pub struct MessagingQuery;

#[Object]
impl MessagingQuery {
    /// Messages of your organization, newest first (staff): filter by status or recipient; page with `before`
    /// (the `createdAt` of the last one seen).
    async fn deliveries(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only messages in this state.")] status: Option<DeliveryStatus>,
        #[graphql(desc = "Only messages to this address or number.")] recipient: Option<String>,
        #[graphql(desc = "Messages written before this time (the next page).")] before: Option<
            DateTime<Utc>,
        >,
        #[graphql(default = 50, desc = "Page size.")] first: i32,
    ) -> Result<Vec<Delivery>> {
        let principal = staff(ctx).await?;
        let state = ctx.data_unchecked::<AppState>();
        if !(1..=200).contains(&first) {
            return Err(ApiError::new("PAGE_SIZE_INVALID", "first is 1 to 200")
                .on("first")
                .into());
        }
        let (stored, held, retrying): (Option<&str>, Option<bool>, Option<bool>) = match status {
            None => (None, None, None),
            Some(DeliveryStatus::Pending) => (Some("pending"), Some(false), Some(false)),
            Some(DeliveryStatus::Held) => (Some("pending"), Some(true), None),
            Some(DeliveryStatus::Retrying) => (Some("pending"), Some(false), Some(true)),
            Some(DeliveryStatus::Sent) => (Some("sent"), None, None),
            Some(DeliveryStatus::Dead) => (Some("dead"), None, None),
            Some(DeliveryStatus::Withdrawn) => (Some("withdrawn"), None, None),
        };
        let filter = DeliveryFilter {
            status: stored,
            held,
            retrying,
            recipient: recipient.map(|r| r.trim().to_owned()),
            before,
        };
        let rows = deliveries::list(
            &state.pool,
            principal.organization.0,
            &filter,
            i64::from(first),
        )
        .await
        .map_err(|e| ApiError::internal(&e))?;
        // Messages about a patient (their appointments) show where and when they were told: a read of their data.
        let mut patients: Vec<Uuid> = rows.iter().filter_map(|r| r.subject_id).collect();
        patients.sort_unstable();
        patients.dedup();
        let whose: Vec<Whose> = patients.into_iter().map(Whose::account).collect();
        audited(ctx, &principal, "deliveries", "recipient", &whose).await?;
        Ok(rows.iter().map(Delivery::from).collect())
    }

    /// The wording of every kind of message: your organization's own, or the default (staff).
    async fn message_templates(&self, ctx: &Context<'_>) -> Result<Vec<MessageTemplateInfo>> {
        let principal = staff(ctx).await?;
        let state = ctx.data_unchecked::<AppState>();
        let org = organization(state, principal.organization).await?;
        Ok(values::MessageKind::ALL
            .iter()
            .map(|kind| template_info(&org, *kind))
            .collect())
    }

    /// A message of one kind as your organization's wording (or `draft`, not saved yet) makes it read, with sample
    /// values and the real links of your portal (staff).
    async fn message_preview(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The kind.")] kind: MessageKind,
        #[graphql(desc = "A wording to try instead of the saved one.")] draft: Option<
            MessageDraftInput,
        >,
    ) -> Result<MessagePreview> {
        let principal = staff(ctx).await?;
        let state = ctx.data_unchecked::<AppState>();
        let org = organization(state, principal.organization).await?;
        let kind = values::MessageKind::from(kind);
        let invalid = |field: &str, rule: String| {
            ApiError::new("MESSAGE_TEMPLATE_INVALID", rule).on(format!("draft.{field}"))
        };
        let draft = draft
            .map(|d| MessageTemplate::new(kind, &d.subject, &d.text, d.html.as_deref()))
            .transpose()
            .map_err(|e| invalid(e.field, e.rule.to_string()))?;
        let template = draft
            .as_ref()
            .or_else(|| org.messaging.templates.get(&kind));
        let data = portal_commands::links::preview_data(
            kind,
            &state.store.public_url,
            &org.code,
            org.name.as_str(),
        );
        let rendered = templates::render_bounded(kind, template, &data)
            .await
            .map_err(|e| invalid(e.field, e.detail))?;
        // The portal's own links, before the footer adds the organization's web address (not a page of ours).
        let links = links_in(&rendered.text);
        let footer = templates::footer(kind, org.name.as_str(), &org.help);
        let rendered = templates::with_footer(rendered, footer.as_deref());
        Ok(MessagePreview {
            kind: kind.into(),
            channel: kind.channel().as_str().to_owned(),
            links,
            subject: rendered.subject,
            text: rendered.text,
            html: rendered.html,
        })
    }

    /// How your organization's messages go out (staff).
    async fn messaging_settings(&self, ctx: &Context<'_>) -> Result<MessagingSettings> {
        let principal = staff(ctx).await?;
        let state = ctx.data_unchecked::<AppState>();
        let org = organization(state, principal.organization).await?;
        Ok(messaging_settings(&org))
    }
}

/// The wording of `kind` in `org`: its own, or the default.
pub fn template_info(org: &OrganizationSummary, kind: values::MessageKind) -> MessageTemplateInfo {
    let own = org.messaging.templates.get(&kind);
    let (subject, text) = templates::default_template(kind);
    MessageTemplateInfo {
        id: super::ids::derived("MessageTemplate", &[&org.id.0, &kind.as_str()]),
        kind: kind.into(),
        channel: kind.channel().as_str().to_owned(),
        custom: own.is_some(),
        subject: own.map_or(subject, |t| t.subject.as_str()).to_owned(),
        text: own.map_or(text, |t| t.text.as_str()).to_owned(),
        html: own.and_then(|t| t.html.clone()),
        variables: std::iter::once("organization")
            .chain(kind.variables().iter().copied())
            .map(str::to_owned)
            .collect(),
    }
}

/// How `org`'s messages go out.
pub fn messaging_settings(org: &OrganizationSummary) -> MessagingSettings {
    let messaging = &org.messaging;
    MessagingSettings {
        id: super::ids::derived("MessagingSettings", &[&org.id.0]),
        sender_name: messaging.sender.as_ref().map(|s| s.name.clone()),
        sender_address: messaging
            .sender
            .as_ref()
            .map(|s| s.address.as_str().to_owned()),
        texting_opens: messaging.texting_hours.opens.format("%H:%M").to_string(),
        texting_closes: messaging.texting_hours.closes.format("%H:%M").to_string(),
        time_zone: org.time_zone.name().to_owned(),
        sms_account_sid: messaging
            .sms_account
            .as_ref()
            .map(|a| a.as_str().to_owned()),
    }
}

/// Messaging mutations (staff).
#[derive(Default)]
pub struct MessagingMutation;

fn local_time(raw: &str, field: &str) -> Result<NaiveTime, ApiError> {
    NaiveTime::parse_from_str(raw.trim(), "%H:%M").map_err(|_| {
        ApiError::new(
            "TEXTING_HOURS_INVALID",
            "is a local time of day as HH:MM (09:00)",
        )
        .on(field)
    })
}

#[Object]
impl MessagingMutation {
    /// Sets the sender of your organization's e-mail, or with no input goes back to the server's default (staff).
    async fn set_mail_sender(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The operation's input.")] input: Option<MailSenderInput>,
        #[graphql(
            desc = "Idempotency key: a retry with the same id returns the first answer instead of acting twice."
        )]
        command_id: Option<Uuid>,
    ) -> Result<SettingsPayload> {
        let principal = staff(ctx).await?;
        let state = ctx.data_unchecked::<AppState>();
        let request = ctx.data_unchecked::<RequestContext>();
        let sender = match input {
            None => None,
            Some(input) => {
                let address = EmailAddress::parse(&input.address).map_err(|e| {
                    ApiError::new("EMAIL_INVALID", e.to_string()).on("input.address")
                })?;
                Some(MailSender::new(&input.name, address).map_err(|e| {
                    ApiError::new("SENDER_INVALID", e.rule).on(format!("input.{}", e.field))
                })?)
            }
        };
        let command = request.command(Actor::Account(principal.account.0), command_id);
        let position = orgs::set_mail_sender(
            &state.store,
            principal.organization,
            sender,
            Some(principal.account),
            &command,
        )
        .await
        .map_err(ApiError::from_command::<OrganizationError>)?;
        Ok(SettingsPayload::new(principal.organization, position))
    }

    /// Sets the local hours in which texts other than one-time codes go out (staff); outside them texts wait for
    /// the next opening.
    async fn set_texting_hours(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Local opening time, `HH:MM`.")] opens: String,
        #[graphql(desc = "Local closing time, `HH:MM` (texts go out before it).")] closes: String,
        #[graphql(
            desc = "Idempotency key: a retry with the same id returns the first answer instead of acting twice."
        )]
        command_id: Option<Uuid>,
    ) -> Result<SettingsPayload> {
        let principal = staff(ctx).await?;
        let state = ctx.data_unchecked::<AppState>();
        let request = ctx.data_unchecked::<RequestContext>();
        let hours = TextingHours::new(local_time(&opens, "opens")?, local_time(&closes, "closes")?)
            .map_err(|e| ApiError::new("TEXTING_HOURS_INVALID", e.rule).on(e.field))?;
        let command = request.command(Actor::Account(principal.account.0), command_id);
        let position = orgs::set_texting_hours(
            &state.store,
            principal.organization,
            hours,
            Some(principal.account),
            &command,
        )
        .await
        .map_err(ApiError::from_command::<OrganizationError>)?;
        Ok(SettingsPayload::new(principal.organization, position))
    }

    /// Replaces your organization's wording of one kind of message (staff). It must parse and use only the
    /// variables of its kind (see `messageTemplates`); it applies to messages sent from now on, reminders already
    /// written included.
    async fn set_message_template(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The operation's input.")] input: MessageTemplateInput,
        #[graphql(
            desc = "Idempotency key: a retry with the same id returns the first answer instead of acting twice."
        )]
        command_id: Option<Uuid>,
    ) -> Result<SettingsPayload> {
        let principal = staff(ctx).await?;
        let state = ctx.data_unchecked::<AppState>();
        let request = ctx.data_unchecked::<RequestContext>();
        let kind = values::MessageKind::from(input.kind);
        let template =
            MessageTemplate::new(kind, &input.subject, &input.text, input.html.as_deref())
                .map_err(|e| {
                    ApiError::new("MESSAGE_TEMPLATE_INVALID", e.rule)
                        .on(format!("input.{}", e.field))
                })?;
        let command = request.command(Actor::Account(principal.account.0), command_id);
        let position = orgs::set_message_template(
            &state.store,
            principal.organization,
            kind,
            Some(template),
            Some(principal.account),
            &command,
        )
        .await
        .map_err(|error| {
            let field = match &error {
                portal_commands::CommandError::Rejected(OrganizationError::TemplateInvalid {
                    field,
                    ..
                }) => Some(*field),
                _ => None,
            };
            let api = ApiError::from_command::<OrganizationError>(error);
            match field {
                Some(field) => api.on(format!("input.{field}")),
                None => api,
            }
        })?;
        Ok(SettingsPayload::of_template(
            principal.organization,
            kind,
            position,
        ))
    }

    /// Goes back to the default wording of one kind of message (staff).
    async fn reset_message_template(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The kind of message whose wording goes back to the default.")]
        kind: MessageKind,
        #[graphql(
            desc = "Idempotency key: a retry with the same id returns the first answer instead of acting twice."
        )]
        command_id: Option<Uuid>,
    ) -> Result<SettingsPayload> {
        let principal = staff(ctx).await?;
        let state = ctx.data_unchecked::<AppState>();
        let request = ctx.data_unchecked::<RequestContext>();
        let command = request.command(Actor::Account(principal.account.0), command_id);
        let position = orgs::set_message_template(
            &state.store,
            principal.organization,
            kind.into(),
            None,
            Some(principal.account),
            &command,
        )
        .await
        .map_err(ApiError::from_command::<OrganizationError>)?;
        Ok(SettingsPayload::of_template(
            principal.organization,
            kind.into(),
            position,
        ))
    }

    /// Sends a message of your organization again, as a new message with a new id (staff): one that was sent (the
    /// person says it never came) or dead-lettered (after the cause was fixed). One-time codes, messages still
    /// pending, and withdrawn or erased ones are not sent again.
    async fn resend_message(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The message (a delivery's `id`).")] id: ID,
    ) -> Result<Delivery> {
        let principal = staff(ctx).await?;
        let state = ctx.data_unchecked::<AppState>();
        let request = ctx.data_unchecked::<RequestContext>();
        let not_found = || ApiError::new("MESSAGE_NOT_FOUND", "no such message").on("id");
        let original = Uuid::parse_str(id.as_str()).map_err(|_| not_found())?;
        let copy = deliveries::resend(&state.pool, principal.organization.0, original, request.now)
            .await
            .map_err(|error| match error {
                ResendError::NotFound => not_found(),
                ResendError::NotResendable(why) => {
                    ApiError::new("MESSAGE_NOT_RESENDABLE", why).on("id")
                }
                ResendError::Store(e) => ApiError::internal(&e),
            })?;
        tracing::info!(message_id = %copy.id, resent_from = %original, by = %principal.account.0, "message queued again");
        Ok(Delivery::from(&copy))
    }
}
