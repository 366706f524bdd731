//! The messages commands write to the outbox: a kind, the address, and the data its template is rendered with when
//! it is sent (`crate::templates` holds the wording).

use chrono::{DateTime, Utc};
use portal_domain::values::{EmailAddress, MessageKind, PhoneNumber, TimeZone};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::log::OutboxMessage;

// The organization's name is not stored with a message: the worker adds the name in force when it renders it.
fn message(
    kind: MessageKind,
    recipient: &str,
    data: Value,
    id: Uuid,
    due_at: DateTime<Utc>,
) -> OutboxMessage {
    OutboxMessage {
        id,
        kind,
        recipient: recipient.to_owned(),
        data,
        due_at,
        about: None,
    }
}

fn email(kind: MessageKind, to: &EmailAddress, data: Value, now: DateTime<Utc>) -> OutboxMessage {
    message(kind, to.as_str(), data, Uuid::new_v4(), now)
}

/// The activation e-mail, with the link that activates the account.
pub fn activation(
    to: &EmailAddress,
    salutation: &str,
    link: &str,
    now: DateTime<Utc>,
) -> OutboxMessage {
    email(
        MessageKind::Activation,
        to,
        json!({ "salutation": salutation, "link": link }),
        now,
    )
}

/// Sent to an address that already has an account when someone registers it again.
pub fn repeated_registration(
    to: &EmailAddress,
    salutation: &str,
    now: DateTime<Utc>,
) -> OutboxMessage {
    email(
        MessageKind::RepeatedRegistration,
        to,
        json!({ "salutation": salutation }),
        now,
    )
}

/// Sent when staff unlock an account (the CE portal FAQ: "we will notify you by email").
pub fn unlocked(to: &EmailAddress, salutation: &str, now: DateTime<Utc>) -> OutboxMessage {
    email(
        MessageKind::AccountUnlocked,
        to,
        json!({ "salutation": salutation }),
        now,
    )
}

/// The password-reset link.
pub fn password_reset(
    to: &EmailAddress,
    salutation: &str,
    link: &str,
    now: DateTime<Utc>,
) -> OutboxMessage {
    email(
        MessageKind::PasswordReset,
        to,
        json!({ "salutation": salutation, "link": link }),
        now,
    )
}

/// Sent to an address without an account that asked for a password reset (the CE portal's "email not found" help,
/// given by e-mail so that the API itself reveals nothing).
pub fn no_account(to: &EmailAddress, register_link: &str, now: DateTime<Utc>) -> OutboxMessage {
    email(
        MessageKind::NoAccount,
        to,
        json!({ "register_link": register_link }),
        now,
    )
}

/// "Forgot your username?": the username of the account on file, to its own address.
pub fn username_reminder(
    to: &EmailAddress,
    salutation: &str,
    username: &str,
    now: DateTime<Utc>,
) -> OutboxMessage {
    email(
        MessageKind::UsernameReminder,
        to,
        json!({ "salutation": salutation, "username": username }),
        now,
    )
}

/// Sent when credit that waited (for the evaluation, a complete profile) is awarded.
pub fn credit_awarded(
    to: &EmailAddress,
    salutation: &str,
    activity: &str,
    credits: &str,
    now: DateTime<Utc>,
) -> OutboxMessage {
    email(
        MessageKind::CreditAwarded,
        to,
        json!({ "salutation": salutation, "activity": activity, "credits": credits }),
        now,
    )
}

/// Sent when the password of an account was changed (the user is told whenever a password changes).
pub fn password_changed(to: &EmailAddress, salutation: &str, now: DateTime<Utc>) -> OutboxMessage {
    email(
        MessageKind::PasswordChanged,
        to,
        json!({ "salutation": salutation }),
        now,
    )
}

/// The invitation of a new staff member, provider or auditor (`kind` says which), with the link to choose a
/// password.
pub fn staff_invitation(
    kind: MessageKind,
    to: &EmailAddress,
    salutation: &str,
    link: &str,
    now: DateTime<Utc>,
) -> OutboxMessage {
    email(
        kind,
        to,
        json!({ "salutation": salutation, "link": link }),
        now,
    )
}

/// Sent to a new address to confirm it before it becomes the sign-in address.
pub fn confirm_email(
    to: &EmailAddress,
    salutation: &str,
    link: &str,
    now: DateTime<Utc>,
) -> OutboxMessage {
    email(
        MessageKind::ConfirmEmail,
        to,
        json!({ "salutation": salutation, "link": link }),
        now,
    )
}

/// Sent to the current address when a change of address is asked for, and again when it takes effect.
pub fn email_change_notice(
    to: &EmailAddress,
    salutation: &str,
    done: bool,
    now: DateTime<Utc>,
) -> OutboxMessage {
    let kind = if done {
        MessageKind::EmailChanged
    } else {
        MessageKind::EmailChangeRequested
    };
    email(kind, to, json!({ "salutation": salutation }), now)
}

/// Sent to an address someone asked to switch to, when another account already uses it.
pub fn email_in_use(to: &EmailAddress, now: DateTime<Utc>) -> OutboxMessage {
    email(MessageKind::EmailInUse, to, json!({}), now)
}

/// Sent when a mobile number is paired with or verified on the account, so that a pairing by someone else who
/// knows the address does not go unnoticed.
pub fn phone_added(
    to: &EmailAddress,
    salutation: &str,
    number: &PhoneNumber,
    now: DateTime<Utc>,
) -> OutboxMessage {
    email(
        MessageKind::PhoneAdded,
        to,
        json!({ "salutation": salutation, "last_four": number.last_four() }),
        now,
    )
}

/// Sent when a number leaves the account because it was paired with another account.
pub fn phone_moved(
    to: &EmailAddress,
    salutation: &str,
    number: &PhoneNumber,
    now: DateTime<Utc>,
) -> OutboxMessage {
    email(
        MessageKind::PhoneMoved,
        to,
        json!({ "salutation": salutation, "last_four": number.last_four() }),
        now,
    )
}

/// The text that carries a phone verification code.
pub fn phone_code(to: &PhoneNumber, code: &str, now: DateTime<Utc>) -> OutboxMessage {
    message(
        MessageKind::PhoneCode,
        to.as_str(),
        json!({ "code": code }),
        Uuid::new_v4(),
        now,
    )
}

/// A time as the organization's wall clock shows it, with the zone's name: `2026-12-01 08:00 America/Chicago`.
/// Every time a message names is written so, since the reader is where the clinic is, not in UTC.
pub fn local_time(zone: &TimeZone, at: DateTime<Utc>) -> String {
    format!(
        "{} {}",
        zone.local(at).format("%Y-%m-%d %H:%M"),
        zone.name()
    )
}

/// Sent with a patient activation code: the code, how long it works (in the organization's time), and where to
/// sign up.
pub fn patient_code(
    to: &EmailAddress,
    salutation: &str,
    code: &str,
    link: &str,
    expires: &str,
    now: DateTime<Utc>,
) -> OutboxMessage {
    email(
        MessageKind::PatientActivationCode,
        to,
        json!({ "salutation": salutation, "code": code, "link": link, "expires": expires }),
        now,
    )
}

/// Sent when staff could not confirm who asked for an activation code online.
pub fn code_request_rejected(
    to: &EmailAddress,
    salutation: &str,
    now: DateTime<Utc>,
) -> OutboxMessage {
    email(
        MessageKind::CodeRequestRejected,
        to,
        json!({ "salutation": salutation }),
        now,
    )
}

/// The e-mail that carries a sign-in code.
pub fn sign_in_code_email(
    to: &EmailAddress,
    salutation: &str,
    code: &str,
    now: DateTime<Utc>,
) -> OutboxMessage {
    email(
        MessageKind::SignInCodeEmail,
        to,
        json!({ "salutation": salutation, "code": code }),
        now,
    )
}

/// The text that carries a sign-in code.
pub fn sign_in_code_text(to: &PhoneNumber, code: &str, now: DateTime<Utc>) -> OutboxMessage {
    message(
        MessageKind::SignInCodeText,
        to.as_str(),
        json!({ "code": code }),
        Uuid::new_v4(),
        now,
    )
}

/// What an appointment message says about the visit.
#[derive(Clone, Debug)]
pub struct Visit {
    /// The provider or care team.
    pub provider: String,
    /// The location.
    pub location: String,
    /// The visit reason.
    pub reason: String,
    /// The start, as the clinic's wall clock shows it (`2026-12-01 08:00 America/Chicago`).
    pub when: String,
}

impl Visit {
    fn data(&self) -> Value {
        json!({
            "when": self.when, "provider": self.provider, "location": self.location, "reason": self.reason,
        })
    }
}

/// Sent when an appointment is booked, moved or cancelled, and as a reminder before it.
pub fn appointment(
    to: &EmailAddress,
    what: AppointmentNotice,
    visit: &Visit,
    id: Uuid,
    due_at: DateTime<Utc>,
) -> OutboxMessage {
    let kind = match what {
        AppointmentNotice::Booked => MessageKind::AppointmentBooked,
        AppointmentNotice::Moved => MessageKind::AppointmentMoved,
        AppointmentNotice::Cancelled => MessageKind::AppointmentCancelled,
        AppointmentNotice::Reminder => MessageKind::AppointmentReminder,
    };
    message(kind, to.as_str(), visit.data(), id, due_at)
}

/// A reminder by text, to the patient's verified mobile number; held outside the organization's texting hours.
pub fn appointment_reminder_text(
    to: &PhoneNumber,
    visit: &Visit,
    id: Uuid,
    due_at: DateTime<Utc>,
) -> OutboxMessage {
    message(
        MessageKind::AppointmentReminderText,
        to.as_str(),
        visit.data(),
        id,
        due_at,
    )
}

/// Which appointment message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AppointmentNotice {
    /// Booked.
    Booked,
    /// Moved.
    Moved,
    /// Cancelled.
    Cancelled,
    /// A reminder.
    Reminder,
}

/// Sent to the first in line on the wait list when a slot frees up.
pub fn slot_offered(
    to: &EmailAddress,
    salutation: &str,
    when: &str,
    until: &str,
    link: &str,
    now: DateTime<Utc>,
) -> OutboxMessage {
    email(
        MessageKind::SlotOffered,
        to,
        json!({ "salutation": salutation, "when": when, "until": until, "link": link }),
        now,
    )
}
