//! The e-mails commands write to the outbox. Wording is kept plain: these are read on phones, in spam folders.

use chrono::{DateTime, Utc};
use portal_domain::values::{EmailAddress, OrganizationName, PhoneNumber};
use uuid::Uuid;

use crate::log::OutboxMessage;

fn email(to: &EmailAddress, subject: String, body: String, now: DateTime<Utc>) -> OutboxMessage {
    OutboxMessage {
        id: Uuid::new_v4(),
        channel: "email".to_owned(),
        recipient: to.as_str().to_owned(),
        subject,
        body,
        due_at: now,
    }
}

/// The activation e-mail, with the link that activates the account.
pub fn activation(
    to: &EmailAddress,
    salutation: &str,
    organization: &OrganizationName,
    link: &str,
    now: DateTime<Utc>,
) -> OutboxMessage {
    email(
        to,
        format!("Activate your {} account", organization.as_str()),
        format!(
            "Hello {salutation},\n\n\
             Thanks for creating your {org} account. To finish setting it up, open this link:\n\n\
             {link}\n\n\
             The link works once and expires in 72 hours. Until you open it, you cannot sign in.\n\n\
             If you did not create this account, ignore this e-mail: nothing happens without the link.\n",
            org = organization.as_str(),
        ),
        now,
    )
}

/// Sent to an address that already has an account when someone registers it again.
pub fn repeated_registration(
    to: &EmailAddress,
    salutation: &str,
    organization: &OrganizationName,
    now: DateTime<Utc>,
) -> OutboxMessage {
    email(
        to,
        format!("You already have a {} account", organization.as_str()),
        format!(
            "Hello {salutation},\n\n\
             Someone, perhaps you, tried to create a {org} account with this e-mail address. \
             You already have one, so nothing was created.\n\n\
             To get in, sign in with this address. If you forgot your password, use \"Forgot your password\".\n\
             If you have not activated your account yet, ask for a new activation e-mail on the sign-in page.\n",
            org = organization.as_str(),
        ),
        now,
    )
}

/// Sent when staff unlock an account (the CE portal FAQ: "we will notify you by email").
pub fn unlocked(to: &EmailAddress, salutation: &str, now: DateTime<Utc>) -> OutboxMessage {
    email(
        to,
        "Your account was unlocked".to_owned(),
        format!(
            "Hello {salutation},\n\n\
             Your account was locked after too many failed sign-ins. A coordinator has now unlocked it: \
             you can sign in again.\n\n\
             If you did not try to sign in, someone else may have tried to guess your password. \
             Choose a new one with \"Forgot your password\" on the sign-in page.\n",
        ),
        now,
    )
}

/// The password-reset link.
pub fn password_reset(
    to: &EmailAddress,
    salutation: &str,
    organization: &OrganizationName,
    link: &str,
    now: DateTime<Utc>,
) -> OutboxMessage {
    email(
        to,
        format!("Reset your {} password", organization.as_str()),
        format!(
            "Hello {salutation},\n\n\
             Someone, perhaps you, asked to reset the password of your {org} account. To choose a new one, open \
             this link:\n\n\
             {link}\n\n\
             The link works once and expires in one hour. Setting a new password signs you out everywhere.\n\n\
             If you did not ask for this, ignore this e-mail: your password stays as it is.\n",
            org = organization.as_str(),
        ),
        now,
    )
}

/// Sent to an address without an account that asked for a password reset (the CE portal's "email not found" help,
/// given by e-mail so that the API itself reveals nothing).
pub fn no_account(
    to: &EmailAddress,
    organization: &OrganizationName,
    register_link: &str,
    now: DateTime<Utc>,
) -> OutboxMessage {
    email(
        to,
        format!("No {} account uses this address", organization.as_str()),
        format!(
            "Hello,\n\n\
             Someone, perhaps you, asked to reset the password of a {org} account for this e-mail address, but no \
             account uses it.\n\n\
             If you have an account, try another e-mail address you may have used. If you do not, create one \
             here:\n\n\
             {register_link}\n\n\
             If you did not ask for this, ignore this e-mail.\n",
            org = organization.as_str(),
        ),
        now,
    )
}

/// Sent when the password of an account was changed (the user is told whenever a password changes).
pub fn password_changed(to: &EmailAddress, salutation: &str, now: DateTime<Utc>) -> OutboxMessage {
    email(
        to,
        "Your password was changed".to_owned(),
        format!(
            "Hello {salutation},\n\n\
             The password of your account was just changed, and every other session was signed out.\n\n\
             If this was not you, reset your password at once with \"Forgot your password\" on the sign-in page, \
             and tell your coordinator.\n",
        ),
        now,
    )
}

/// The invitation of a new staff member, with the link to choose a password.
pub fn staff_invitation(
    to: &EmailAddress,
    salutation: &str,
    organization: &OrganizationName,
    link: &str,
    now: DateTime<Utc>,
) -> OutboxMessage {
    email(
        to,
        format!("You are invited to coordinate {}", organization.as_str()),
        format!(
            "Hello {salutation},\n\n\
             A coordinator of {org} created a staff account for you. To start, choose your password here:\n\n\
             {link}\n\n\
             The link works once and expires in 72 hours. If you did not expect this, ignore this e-mail.\n",
            org = organization.as_str(),
        ),
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
        to,
        "Confirm your new e-mail address".to_owned(),
        format!(
            "Hello {salutation},\n\n\
             You asked to sign in with this address from now on. To confirm it, open this link:\n\n\
             {link}\n\n\
             The link works for 24 hours. Until then you keep signing in with your previous address.\n\n\
             If you did not ask for this, ignore this e-mail.\n",
        ),
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
    let (subject, what) = if done {
        ("Your e-mail address was changed", "The sign-in address of your account was just changed; this address is no longer used for it.")
    } else {
        ("A change of your e-mail address was requested", "Someone signed in to your account asked to change its sign-in address. The change takes effect only once the new address is confirmed.")
    };
    email(
        to,
        subject.to_owned(),
        format!(
            "Hello {salutation},\n\n{what}\n\n\
             If this was not you, reset your password at once with \"Forgot your password\" and tell your \
             coordinator.\n",
        ),
        now,
    )
}

/// Sent to an address someone asked to switch to, when another account already uses it.
pub fn email_in_use(to: &EmailAddress, now: DateTime<Utc>) -> OutboxMessage {
    email(
        to,
        "This address already has an account".to_owned(),
        "Hello,\n\n\
         Someone asked to use this e-mail address for their account, but another account already uses it, so \
         nothing changed.\n\n\
         If you have two accounts and want to keep one, ask your coordinator.\n"
            .to_owned(),
        now,
    )
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
        to,
        "A phone number was added to your account".to_owned(),
        format!(
            "Hello {salutation},\n\n\
             The mobile number ending in {last} is now paired with your account: texts from it record attendance \
             in your name.\n\n\
             If this was not you, remove the number under Profile > Phone numbers and tell your coordinator.\n",
            last = number.last_four(),
        ),
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
        to,
        "A phone number was removed from your account".to_owned(),
        format!(
            "Hello {salutation},\n\n\
             The mobile number ending in {last} was paired with another account, so it no longer records \
             attendance for yours.\n\n\
             If that number is still yours, pair it again by texting your e-mail address to your organization's \
             number.\n",
            last = number.last_four(),
        ),
        now,
    )
}

/// A text of a six-digit code: what it is for, that it expires in 10 minutes, and not to share it.
fn code_text(
    to: &PhoneNumber,
    organization: &OrganizationName,
    code: &str,
    purpose: &str,
    now: DateTime<Utc>,
) -> OutboxMessage {
    OutboxMessage {
        id: Uuid::new_v4(),
        channel: "sms".to_owned(),
        recipient: to.as_str().to_owned(),
        subject: String::new(),
        body: format!(
            "{code} is your {org} {purpose} code. It expires in 10 minutes. Do not share it.",
            org = organization.as_str()
        ),
        due_at: now,
    }
}

/// The text that carries a phone verification code.
pub fn phone_code(
    to: &PhoneNumber,
    organization: &OrganizationName,
    code: &str,
    now: DateTime<Utc>,
) -> OutboxMessage {
    code_text(to, organization, code, "verification", now)
}

/// Sent with a patient activation code: the code, how long it works, and where to sign up.
pub fn patient_code(
    to: &EmailAddress,
    salutation: &str,
    organization: &OrganizationName,
    code: &str,
    link: &str,
    expires_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> OutboxMessage {
    email(
        to,
        format!("Your {} patient portal activation code", organization.as_str()),
        format!(
            "Hello {salutation},\n\n\
             Your activation code for the {org} patient portal is:\n\n    {code}\n\n\
             To create your account, open {link} and enter the code with your date of birth. The code works once, \
             until {expires}.\n\n\
             If you did not ask for a patient portal account, you can ignore this e-mail.\n",
            org = organization.as_str(),
            expires = expires_at.format("%Y-%m-%d %H:%M UTC"),
        ),
        now,
    )
}

/// Sent when staff could not confirm who asked for an activation code online.
pub fn code_request_rejected(
    to: &EmailAddress,
    salutation: &str,
    organization: &OrganizationName,
    now: DateTime<Utc>,
) -> OutboxMessage {
    email(
        to,
        format!("Your {} patient portal request", organization.as_str()),
        format!(
            "Hello {salutation},\n\n\
             We could not confirm your identity from the details you gave, so no activation code was sent. Please \
             call the clinic, or ask for a code at your next visit.\n\n\
             If you did not ask for a patient portal account, you can ignore this e-mail.\n",
        ),
        now,
    )
}

/// The e-mail that carries a sign-in code.
pub fn sign_in_code_email(
    to: &EmailAddress,
    salutation: &str,
    organization: &OrganizationName,
    code: &str,
    now: DateTime<Utc>,
) -> OutboxMessage {
    email(
        to,
        format!("Your {} sign-in code", organization.as_str()),
        format!(
            "Hello {salutation},\n\n\
             Your sign-in code is {code}. It works once, for 10 minutes.\n\n\
             If you did not just sign in, someone knows your password: change it now, and tell the clinic.\n",
        ),
        now,
    )
}

/// The text that carries a sign-in code.
pub fn sign_in_code_text(
    to: &PhoneNumber,
    organization: &OrganizationName,
    code: &str,
    now: DateTime<Utc>,
) -> OutboxMessage {
    code_text(to, organization, code, "sign-in", now)
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

/// Sent when an appointment is booked, moved or cancelled, and as a reminder before it.
pub fn appointment(
    to: &EmailAddress,
    organization: &OrganizationName,
    what: AppointmentNotice,
    visit: &Visit,
    id: Uuid,
    due_at: DateTime<Utc>,
) -> OutboxMessage {
    let (subject, lead) = match what {
        AppointmentNotice::Booked => ("Your appointment is booked", "Your appointment is booked."),
        AppointmentNotice::Moved => (
            "Your appointment was moved",
            "Your appointment was moved to a new time.",
        ),
        AppointmentNotice::Cancelled => (
            "Your appointment was cancelled",
            "Your appointment was cancelled.",
        ),
        AppointmentNotice::Reminder => (
            "Reminder: your appointment",
            "A reminder of your coming appointment.",
        ),
    };
    OutboxMessage {
        id,
        channel: "email".to_owned(),
        recipient: to.as_str().to_owned(),
        subject: format!("{subject} at {}", organization.as_str()),
        body: format!(
            "Hello,\n\n{lead}\n\n    When: {when}\n    With: {provider}\n    Where: {location}\n    Why: {reason}\n\n\
             To move or cancel it, sign in to the patient portal.\n",
            when = visit.when,
            provider = visit.provider,
            location = visit.location,
            reason = visit.reason,
        ),
        due_at,
    }
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
    organization: &OrganizationName,
    when: &str,
    until: &str,
    now: DateTime<Utc>,
) -> OutboxMessage {
    email(
        to,
        format!("An earlier appointment is free at {}", organization.as_str()),
        format!(
            "Hello {salutation},\n\n\
             An appointment you were waiting for opened up: {when}.\n\n\
             It is held for you until {until}. To take it, sign in to the patient portal and accept the offer; after \
             that it goes to the next person waiting.\n",
        ),
        now,
    )
}
