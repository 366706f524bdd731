//! What an organization's outgoing messages are made of: their kinds, its sender address, its SMS account, its
//! texting hours and its own wording of a kind.

use chrono::{DateTime, Duration, NaiveTime, Utc};
use serde::{Deserialize, Serialize};

use super::activity::{FieldError, TimeZone};
use super::EmailAddress;

/// How a message travels.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Channel {
    /// E-mail.
    Email,
    /// A text message.
    Sms,
}

impl Channel {
    /// The name stored in the outbox.
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Email => "email",
            Channel::Sms => "sms",
        }
    }
}

macro_rules! kinds {
    ($($variant:ident => $name:literal, $channel:ident, [$($var:literal),*];)*) => {
        /// Every kind of message portal sends; each has a default template, which an organization may replace.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum MessageKind {
            $(
                #[doc = concat!("`", $name, "`.")]
                $variant,
            )*
        }

        impl MessageKind {
            /// Every kind.
            pub const ALL: &'static [MessageKind] = &[$(MessageKind::$variant),*];

            /// The stored name (`activation`, `appointment_reminder`, ...).
            pub fn as_str(self) -> &'static str {
                match self { $(MessageKind::$variant => $name,)* }
            }

            /// How it travels.
            pub fn channel(self) -> Channel {
                match self { $(MessageKind::$variant => Channel::$channel,)* }
            }

            /// The variables its templates may use (besides `organization`, which every kind has).
            pub fn variables(self) -> &'static [&'static str] {
                match self { $(MessageKind::$variant => &[$($var),*],)* }
            }

            /// The kind with this stored name.
            pub fn parse(raw: &str) -> Option<Self> {
                match raw { $($name => Some(MessageKind::$variant),)* _ => None }
            }
        }
    };
}

kinds! {
    Activation => "activation", Email, ["salutation", "link"];
    RepeatedRegistration => "repeated_registration", Email, ["salutation"];
    AccountUnlocked => "account_unlocked", Email, ["salutation"];
    PasswordReset => "password_reset", Email, ["salutation", "link"];
    NoAccount => "no_account", Email, ["register_link"];
    PasswordChanged => "password_changed", Email, ["salutation"];
    StaffInvitation => "staff_invitation", Email, ["salutation", "link"];
    AuditorInvitation => "auditor_invitation", Email, ["salutation", "link"];
    ConfirmEmail => "confirm_email", Email, ["salutation", "link"];
    EmailChangeRequested => "email_change_requested", Email, ["salutation"];
    EmailChanged => "email_changed", Email, ["salutation"];
    EmailInUse => "email_in_use", Email, [];
    PhoneAdded => "phone_added", Email, ["salutation", "last_four"];
    PhoneMoved => "phone_moved", Email, ["salutation", "last_four"];
    PhoneCode => "phone_code", Sms, ["code"];
    PatientActivationCode => "patient_activation_code", Email, ["salutation", "code", "link", "expires"];
    CodeRequestRejected => "code_request_rejected", Email, ["salutation"];
    SignInCodeEmail => "sign_in_code_email", Email, ["salutation", "code"];
    SignInCodeText => "sign_in_code_text", Sms, ["code"];
    AppointmentBooked => "appointment_booked", Email, ["when", "provider", "location", "reason"];
    AppointmentMoved => "appointment_moved", Email, ["when", "provider", "location", "reason"];
    AppointmentCancelled => "appointment_cancelled", Email, ["when", "provider", "location", "reason"];
    AppointmentReminder => "appointment_reminder", Email, ["when", "provider", "location", "reason"];
    AppointmentReminderText => "appointment_reminder_text", Sms, ["when", "provider", "location"];
    SlotOffered => "slot_offered", Email, ["salutation", "when", "until", "link"];
    ReplyWaiting => "reply_waiting", Email, ["salutation"];
    ReplyWaitingText => "reply_waiting_text", Sms, [];
    ResultAvailable => "result_available", Email, ["salutation"];
    ResultAvailableText => "result_available_text", Sms, [];
    RenewalAnswered => "renewal_answered", Email, ["salutation"];
    StatementReady => "statement_ready", Email, ["salutation", "due"];
    ProxyAccessGranted => "proxy_access_granted", Email, ["salutation", "ends"];
    CreditAwarded => "credit_awarded", Email, ["salutation", "activity", "credits"];
    UsernameReminder => "username_reminder", Email, ["salutation", "username"];
}

impl MessageKind {
    /// The variables that carry a secret: a link with a token, or a code, that lets whoever reads it act as the
    /// recipient. Templates may use them in the body only (never the subject, which staff see in the deliveries),
    /// and must: without it the message does nothing. The outbox keeps them sealed until the message is sent.
    pub fn secret_variables(self) -> &'static [&'static str] {
        use MessageKind::*;
        match self {
            Activation | PasswordReset | StaffInvitation | AuditorInvitation | ConfirmEmail => {
                &["link"]
            }
            PatientActivationCode => &["code", "link"],
            PhoneCode | SignInCodeEmail | SignInCodeText => &["code"],
            _ => &[],
        }
    }

    /// How long the secret of a message of this kind can be used at most, from when the message was written: past
    /// it the outbox forgets it, sent or not. The longest a kind's link or code ever lives.
    pub fn secret_lifetime(self) -> Duration {
        use MessageKind::*;
        match self {
            PhoneCode | SignInCodeEmail | SignInCodeText => Duration::minutes(10),
            ConfirmEmail => Duration::hours(24),
            Activation | StaffInvitation | AuditorInvitation | PasswordReset => Duration::hours(72),
            // The organization chooses the period of a patient's activation code, up to a year.
            _ => Duration::days(366),
        }
    }

    /// A one-time code the person is waiting for right now (it expires in minutes): sent at any hour.
    pub fn is_one_time_code(self) -> bool {
        matches!(
            self,
            MessageKind::PhoneCode | MessageKind::SignInCodeText | MessageKind::SignInCodeEmail
        )
    }
}

/// The local hours in which an organization's texts (other than one-time codes) may go out; outside them a text is
/// held until the next opening. Opens before it closes, on the same day.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TextingHours {
    /// Opening, local time.
    pub opens: NaiveTime,
    /// Closing, local time (texts go out before it).
    pub closes: NaiveTime,
}

impl Default for TextingHours {
    fn default() -> Self {
        Self {
            opens: NaiveTime::from_hms_opt(9, 0, 0).unwrap_or(NaiveTime::MIN),
            closes: NaiveTime::from_hms_opt(18, 0, 0).unwrap_or(NaiveTime::MIN),
        }
    }
}

impl TextingHours {
    /// Hours that open before they close.
    pub fn new(opens: NaiveTime, closes: NaiveTime) -> Result<Self, FieldError> {
        if opens >= closes {
            return Err(FieldError {
                field: "opens",
                rule: "is earlier than closes (both local times of the same day)",
            });
        }
        Ok(Self { opens, closes })
    }

    /// None when a text may go out at `now`; otherwise the next opening.
    pub fn next_opening(&self, now: DateTime<Utc>, zone: &TimeZone) -> Option<DateTime<Utc>> {
        let local = zone.local(now);
        let time = local.time();
        if time >= self.opens && time < self.closes {
            return None;
        }
        let day = if time < self.opens {
            local.date()
        } else {
            local.date() + Duration::days(1)
        };
        Some(zone.instant(day.and_time(self.opens)))
    }
}

/// The display name of a sender (`Mayo Clinic Patient Portal`): 1 to 100 characters, no line breaks or quotes that
/// would let it forge a header.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailSender {
    /// The name shown.
    pub name: String,
    /// The address.
    pub address: EmailAddress,
}

impl MailSender {
    /// A sender from a name and an address already parsed.
    pub fn new(name: &str, address: EmailAddress) -> Result<Self, FieldError> {
        let name = name.trim();
        if name.is_empty()
            || name.chars().count() > 100
            || name
                .chars()
                .any(|c| c.is_control() || c == '"' || c == '\\')
        {
            return Err(FieldError {
                field: "name",
                rule: "has 1 to 100 characters, without line breaks, quotes or backslashes",
            });
        }
        Ok(Self {
            name: name.to_owned(),
            address,
        })
    }
}

/// An SMS provider account id (Twilio's Account SID: `AC` and 32 hexadecimal digits).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SmsAccountId(String);

impl SmsAccountId {
    /// Parses an Account SID.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let raw = raw.trim();
        let valid = raw.len() == 34
            && raw.starts_with("AC")
            && raw[2..].chars().all(|c| c.is_ascii_hexdigit());
        if valid {
            Ok(Self(raw.to_owned()))
        } else {
            Err(FieldError {
                field: "accountSid",
                rule: "is the provider's account id: AC followed by 32 hexadecimal digits",
            })
        }
    }

    /// The id.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The longest subject of a template, in characters.
pub const MAX_SUBJECT_CHARS: usize = 200;
/// The longest text or HTML body of a template, in characters.
pub const MAX_TEMPLATE_CHARS: usize = 20_000;

/// An organization's own wording of one kind of message: a subject (e-mail only), a text body, and optionally an
/// HTML body (otherwise made from the text). Its syntax and variables are checked where it is rendered
/// (`portal_commands::messages`); here, only its bounds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageTemplate {
    /// The subject line (empty for texts).
    pub subject: String,
    /// The plain-text body.
    pub text: String,
    /// The HTML body, if the organization wrote one.
    pub html: Option<String>,
}

impl MessageTemplate {
    /// A template within bounds for a message of `kind`.
    pub fn new(
        kind: MessageKind,
        subject: &str,
        text: &str,
        html: Option<&str>,
    ) -> Result<Self, FieldError> {
        let subject = subject.trim();
        match kind.channel() {
            Channel::Email if subject.is_empty() => {
                return Err(FieldError {
                    field: "subject",
                    rule: "is required for an e-mail",
                })
            }
            Channel::Sms if !subject.is_empty() || html.is_some() => {
                return Err(FieldError {
                    field: "subject",
                    rule: "a text message has neither a subject nor an HTML body",
                })
            }
            _ => {}
        }
        if subject.chars().count() > MAX_SUBJECT_CHARS || subject.chars().any(char::is_control) {
            return Err(FieldError {
                field: "subject",
                rule: "has at most 200 characters and no line breaks",
            });
        }
        if text.trim().is_empty() || text.chars().count() > MAX_TEMPLATE_CHARS {
            return Err(FieldError {
                field: "text",
                rule: "has 1 to 20,000 characters",
            });
        }
        if html.is_some_and(|h| h.trim().is_empty() || h.chars().count() > MAX_TEMPLATE_CHARS) {
            return Err(FieldError {
                field: "html",
                rule: "has 1 to 20,000 characters when given",
            });
        }
        Ok(Self {
            subject: subject.to_owned(),
            text: text.to_owned(),
            html: html.map(str::to_owned),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone as _;

    fn chicago() -> TimeZone {
        TimeZone::parse("America/Chicago").unwrap()
    }

    #[test]
    fn a_text_within_the_hours_goes_now() {
        let noon = Utc.with_ymd_and_hms(2026, 12, 1, 18, 0, 0).unwrap(); // 12:00 in Chicago
        assert_eq!(TextingHours::default().next_opening(noon, &chicago()), None);
    }

    #[test]
    fn a_text_in_the_evening_waits_for_the_next_morning() {
        let evening = Utc.with_ymd_and_hms(2026, 12, 2, 1, 30, 0).unwrap(); // 19:30 on Dec 1 in Chicago
        assert_eq!(
            TextingHours::default().next_opening(evening, &chicago()),
            Some(Utc.with_ymd_and_hms(2026, 12, 2, 15, 0, 0).unwrap())
        );
    }

    #[test]
    fn a_text_before_opening_waits_for_the_same_morning() {
        let early = Utc.with_ymd_and_hms(2026, 12, 1, 12, 0, 0).unwrap(); // 06:00 in Chicago
        assert_eq!(
            TextingHours::default().next_opening(early, &chicago()),
            Some(Utc.with_ymd_and_hms(2026, 12, 1, 15, 0, 0).unwrap())
        );
    }

    #[test]
    fn closing_time_itself_is_outside_the_hours() {
        let closing = Utc.with_ymd_and_hms(2026, 12, 2, 0, 0, 0).unwrap(); // 18:00 in Chicago
        assert!(TextingHours::default()
            .next_opening(closing, &chicago())
            .is_some());
    }

    #[test]
    fn hours_that_close_before_they_open_are_refused() {
        let nine = NaiveTime::from_hms_opt(9, 0, 0).unwrap();
        assert_eq!(TextingHours::new(nine, nine).unwrap_err().field, "opens");
    }

    #[test]
    fn only_one_time_codes_ignore_the_hours() {
        assert!(MessageKind::SignInCodeText.is_one_time_code());
        assert!(!MessageKind::AppointmentReminderText.is_one_time_code());
    }

    #[test]
    fn every_kind_reads_back_from_its_name() {
        for kind in MessageKind::ALL {
            assert_eq!(MessageKind::parse(kind.as_str()), Some(*kind));
        }
    }

    #[test]
    fn a_sender_name_cannot_carry_a_line_break() {
        let address = EmailAddress::parse("clinic@example.org").unwrap();
        assert_eq!(
            MailSender::new("Clinic\r\nBcc: x@example.org", address)
                .unwrap_err()
                .field,
            "name"
        );
    }

    #[test]
    fn an_account_id_is_ac_and_32_hex_digits() {
        assert!(SmsAccountId::parse("AC0123456789abcdef0123456789abcdef").is_ok());
        assert!(SmsAccountId::parse("AC0123").is_err());
    }

    #[test]
    fn an_email_template_needs_a_subject_and_a_text_none() {
        assert_eq!(
            MessageTemplate::new(MessageKind::Activation, " ", "Hi", None)
                .unwrap_err()
                .field,
            "subject"
        );
        assert_eq!(
            MessageTemplate::new(MessageKind::SignInCodeText, "Code", "{{ code }}", None)
                .unwrap_err()
                .field,
            "subject"
        );
    }
}
