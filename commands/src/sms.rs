//! The conversation by text message, in the words of the CE portal FAQ: a learner texts their e-mail address to
//! pair their phone, then activity codes to record attendance. Every text gets exactly one reply.

use portal_domain::attendance::{AttendanceChannel, AttendanceError};
use portal_domain::values::{ActivityCode, EmailAddress, PhoneNumber};
use uuid::Uuid;

use crate::activities;
use crate::attendance::{self, Refused};
use crate::handler::{CommandContext, CommandError};
use crate::log::EventLog;
use crate::organizations::OrganizationSummary;
use crate::phones::{self, Paired};
use crate::store::Store;

/// The reply to a number that is not paired, or to an address without an account (the FAQ's words).
pub const USER_NOT_FOUND: &str =
    "User not found in system, text your email to update your cell phone number in the system";
/// The reply to a code no activity has (the FAQ's words).
pub const NO_SUCH_ACTIVITY: &str = "Sorry, that activity ID does not exist";

/// A text received from the provider.
#[derive(Clone, Debug)]
pub struct InboundText {
    /// The sender.
    pub from: PhoneNumber,
    /// What they wrote.
    pub body: String,
    /// The provider's id of the message: a redelivery carries the same id.
    pub message_id: String,
}

/// Why a text could not be answered (storage failed): the provider should deliver it again.
#[derive(Debug, thiserror::Error)]
#[error("the text could not be handled: {0}")]
pub struct SmsError(String);

impl<E: std::fmt::Display> From<CommandError<E>> for SmsError {
    fn from(error: CommandError<E>) -> Self {
        SmsError(error.to_string())
    }
}

impl From<crate::store::LoadError> for SmsError {
    fn from(error: crate::store::LoadError) -> Self {
        SmsError(error.to_string())
    }
}

/// The command id of a text: the same message delivered twice is the same command, so it is not recorded twice.
pub fn command_id(organization: &OrganizationSummary, message_id: &str) -> Uuid {
    activities::derived_id(
        &format!("sms:{}:{message_id}", organization.id.0),
        organization.id.0,
    )
}

/// Handles one text and returns the reply.
pub async fn reply<L: EventLog>(
    store: &Store<L>,
    organization: &OrganizationSummary,
    text: &InboundText,
    ctx: &CommandContext,
) -> Result<String, SmsError> {
    let body = text.body.trim();
    if body.contains('@') {
        let Ok(email) = EmailAddress::parse(body) else {
            return Ok(USER_NOT_FOUND.to_owned());
        };
        return Ok(
            match phones::pair_by_sms(store, organization, &text.from, &email, ctx).await {
                Ok(Paired::Paired { name }) => format!(
                    "Thank you {name}, your phone number has been updated to: {}",
                    text.from
                ),
                Ok(Paired::NoAccount) => USER_NOT_FOUND.to_owned(),
                // An account with as many numbers as it may hold: say so rather than pretend it worked.
                Err(CommandError::Rejected(portal_domain::account::AccountError::PhoneLimitReached)) => {
                    "Sorry, your account already has 3 phone numbers; remove one in your profile, then text your email again".to_owned()
                }
                Err(error) => return Err(error.into()),
            },
        );
    }
    let Some(learner) = phones::find_by_phone(store, organization.id, &text.from).await? else {
        return Ok(USER_NOT_FOUND.to_owned());
    };
    let Ok(code) = ActivityCode::parse(body) else {
        return Ok(NO_SUCH_ACTIVITY.to_owned());
    };
    let Some(activity) = activities::find_by_code(store, organization.id, &code).await? else {
        return Ok(NO_SUCH_ACTIVITY.to_owned());
    };
    match attendance::record(
        store,
        organization.id,
        activity,
        learner,
        AttendanceChannel::Sms,
        ctx,
    )
    .await
    {
        Ok(outcome) => {
            let name = outcome.learner.name.as_deref().unwrap_or("learner");
            let title = outcome.activity.details.title.as_str();
            // The FAQ's reply tells the learner their credits are recorded too: only say it when they are.
            Ok(if outcome.record.awarded {
                format!("Thank you {name}, we have recorded your attendance for {title}")
            } else {
                format!(
                    "Thank you {name}, we have recorded your attendance for {title}. Your credit is pending until {}: \
                     sign in to the CE Portal to finish, and we will e-mail you when it is recorded",
                    attendance::pending_text(&outcome.record.holds)
                )
            })
        }
        Err(refused) => refusal(organization, refused),
    }
}

fn refusal(organization: &OrganizationSummary, refused: Refused) -> Result<String, SmsError> {
    let name = refused
        .learner
        .as_ref()
        .and_then(|l| l.name.clone())
        .unwrap_or_else(|| "learner".to_owned());
    let title = refused
        .activity
        .as_ref()
        .map(|a| a.details.title.as_str().to_owned())
        .unwrap_or_default();
    match refused.error {
        CommandError::Rejected(AttendanceError::OutsideWindow { before, after, .. }) => Ok(format!(
            "Sorry {name}, {}",
            attendance::outside_window(&title, before, after)
        )),
        CommandError::Rejected(AttendanceError::ActivityNotFound) => Ok(NO_SUCH_ACTIVITY.to_owned()),
        CommandError::Rejected(AttendanceError::LearnerNotFound) => Ok(USER_NOT_FOUND.to_owned()),
        CommandError::Rejected(AttendanceError::ActivityCancelled) => Ok(format!(
            "Sorry {name}, {title} was cancelled, so no attendance can be recorded for it"
        )),
        CommandError::Rejected(AttendanceError::NotInAudience) => Ok(format!(
            "Sorry {name}, {title} is limited to {} and its affiliates, so your attendance could not be recorded",
            organization.name.as_str()
        )),
        CommandError::Rejected(
            AttendanceError::NotAttended | AttendanceError::EvaluationAlreadySubmitted,
        ) => Ok(NO_SUCH_ACTIVITY.to_owned()),
        other => Err(other.into()),
    }
}
