//! Two-step verification (seed 001, step 3): an authenticator app with recovery codes, and the second step of a
//! sign-in.

use async_graphql::{Context, InputObject, Object, Result, SimpleObject};
use portal_commands::handler::Actor;
use portal_commands::two_step;
use portal_domain::two_step::TwoStepMethod;
use uuid::Uuid;

use super::activities::organization as organization_by_id;
use super::changed::ChangedAccount;
use super::errors::ApiError;
use super::inputs::Checked;
use super::mutation::{context, organization, SignInPayload};
use super::query::signed_in;
use super::types::LogPosition;

/// The second step of a sign-in.
#[derive(InputObject)]
pub struct CompleteSignInInput {
    /// The organization's code.
    pub organization_code: String,
    /// The challenge from `signIn`.
    pub challenge_token: String,
    /// The app's current six-digit code, or a recovery code.
    pub code: String,
    /// Browsers: keep the session in an HttpOnly cookie (`token` is then null).
    #[graphql(default)]
    pub set_cookie: bool,
    /// Apps: open a device session (give it again here when `signIn` gave one).
    pub device: Option<super::devices::DeviceInput>,
    /// Idempotency key.
    pub command_id: Option<Uuid>,
}

/// An authenticator app to set up.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct TotpEnrollmentPayload {
    /// The secret in base32, to type into the app (shown once).
    pub secret: String,
    /// The `otpauth://` URI, to show as a QR code.
    pub otpauth_uri: String,
    /// The log position produced.
    pub position: Option<LogPosition>,
    #[graphql(skip)]
    changed: ChangedAccount,
}

answers_account!(
    TotpEnrollmentPayload,
    "Your account as it now is (two-step verification is on only once confirmed)."
);

/// Two-step verification turned on.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct ConfirmTotpPayload {
    /// Ten one-time recovery codes, shown once: each signs in once when the phone is lost.
    pub recovery_codes: Vec<String>,
    /// The log position produced.
    pub position: Option<LogPosition>,
    #[graphql(skip)]
    changed: ChangedAccount,
}

answers_account!(
    ConfirmTotpPayload,
    "Your account as it now is (`twoStepEnabled`)."
);

/// Where sign-in codes go.
#[derive(async_graphql::Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum CodeChannel {
    /// E-mailed to the sign-in address.
    Email,
    /// Texted to a verified number of yours (give `phone`).
    Sms,
}

/// Two-step verification turned off.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct DisableTwoStepPayload {
    /// The log position produced (null when it was off).
    pub position: Option<LogPosition>,
    #[graphql(skip)]
    changed: ChangedAccount,
}

answers_account!(
    DisableTwoStepPayload,
    "Your account as it now is (`twoStepEnabled`)."
);

/// Two-step mutations.
#[derive(Default)]
pub struct TwoStepMutation;

#[Object]
impl TwoStepMutation {
    /// Answers the challenge of `signIn` with the app's current code or a recovery code, and opens the session. A
    /// wrong code counts towards the lockout like a wrong password.
    async fn complete_sign_in(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The operation's input.")] input: CompleteSignInInput,
    ) -> Result<SignInPayload> {
        let (state, request) = context(ctx);
        super::mutation::limit_attempts(state, request)?;
        let mut checked = Checked::default();
        let code = checked.organization_code("organizationCode", &input.organization_code);
        let answer = input.code.trim();
        if answer.is_empty() || answer.len() > 32 {
            checked.refuse(
                "code",
                "SECOND_FACTOR_INVALID",
                "is a six-digit code or a recovery code".to_owned(),
            );
        }
        let device =
            super::devices::device_sign_in(&mut checked, input.device.as_ref(), input.set_cookie);
        checked.finish()?;
        let Some(code) = code else {
            return Err(ApiError::internal(&"parsed input missing").into());
        };
        let org = organization(state, code).await?;
        let command = request.command(Actor::Anonymous, input.command_id);
        let signed_in = two_step::complete_sign_in(
            &state.store,
            &org,
            &input.challenge_token,
            answer,
            device.as_ref(),
            &command,
        )
        .await
        .map_err(|error| super::mutation::sign_in_refusal(&org, error))?;
        Ok(super::mutation::session_payload(
            ctx,
            org.id,
            signed_in,
            input.set_cookie,
        ))
    }

    /// Starts setting up an authenticator app: answers the secret and its `otpauth://` URI. Confirm with the app's
    /// first code.
    async fn start_totp_enrollment(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "Idempotency key: a retry with the same id returns the first answer instead of acting twice."
        )]
        command_id: Option<Uuid>,
    ) -> Result<TotpEnrollmentPayload> {
        let principal = signed_in(ctx).await?;
        let (state, request) = context(ctx);
        let org = organization_by_id(state, principal.organization).await?;
        let command = request.command(Actor::Account(principal.account.0), command_id);
        let enrollment = two_step::start_totp(&state.store, &org, &principal, &command)
            .await
            .map_err(ApiError::from_command)?;
        Ok(TotpEnrollmentPayload {
            secret: enrollment.secret,
            otpauth_uri: enrollment.uri,
            position: enrollment.last_position.map(LogPosition),
            changed: ChangedAccount::own(&principal, enrollment.last_position),
        })
    }

    /// Confirms the app with its current code: two-step verification is on from now, and the answer holds ten
    /// one-time recovery codes (shown once).
    async fn confirm_totp_enrollment(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The six-digit code the authenticator app shows now.")] code: String,
        #[graphql(
            desc = "Idempotency key: a retry with the same id returns the first answer instead of acting twice."
        )]
        command_id: Option<Uuid>,
    ) -> Result<ConfirmTotpPayload> {
        let principal = signed_in(ctx).await?;
        let (state, request) = context(ctx);
        let command = request.command(Actor::Account(principal.account.0), command_id);
        let (recovery_codes, position) =
            two_step::confirm_totp(&state.store, &principal, &code, &command)
                .await
                .map_err(ApiError::from_command)?;
        Ok(ConfirmTotpPayload {
            recovery_codes,
            position: position.map(LogPosition),
            changed: ChangedAccount::own(&principal, position),
        })
    }

    /// Turns on two-step verification by a six-digit code e-mailed to your address or texted to a verified number
    /// (valid 10 minutes, once, one a minute); the answer holds ten one-time recovery codes (shown once).
    async fn enable_two_step_codes(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Where the codes go: e-mail or text.")] channel: CodeChannel,
        #[graphql(desc = "For texts: a number verified on the account.")] phone: Option<String>,
        #[graphql(
            desc = "Idempotency key: a retry with the same id returns the first answer instead of acting twice."
        )]
        command_id: Option<Uuid>,
    ) -> Result<ConfirmTotpPayload> {
        let principal = signed_in(ctx).await?;
        let (state, request) = context(ctx);
        let method = match channel {
            CodeChannel::Email => TwoStepMethod::Email,
            CodeChannel::Sms => {
                let mut checked = Checked::default();
                let number = match phone.as_deref() {
                    Some(raw) => checked.phone("phone", raw),
                    None => {
                        checked.refuse(
                            "phone",
                            "PHONE_NUMBER_REQUIRED",
                            "texts need a verified number".to_owned(),
                        );
                        None
                    }
                };
                checked.finish()?;
                let Some(number) = number else {
                    return Err(ApiError::internal(&"parsed input missing").into());
                };
                TwoStepMethod::Sms {
                    number: portal_domain::Personal::Known(number),
                }
            }
        };
        let command = request.command(Actor::Account(principal.account.0), command_id);
        let (recovery_codes, position) =
            two_step::enable_codes(&state.store, &principal, method, &command)
                .await
                .map_err(ApiError::from_command)?;
        Ok(ConfirmTotpPayload {
            recovery_codes,
            position: position.map(LogPosition),
            changed: ChangedAccount::own(&principal, position),
        })
    }

    /// Turns two-step verification off; the current password is required.
    async fn disable_two_step(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The account's current password.")] current_password: String,
        #[graphql(
            desc = "Idempotency key: a retry with the same id returns the first answer instead of acting twice."
        )]
        command_id: Option<Uuid>,
    ) -> Result<DisableTwoStepPayload> {
        let principal = signed_in(ctx).await?;
        let (state, request) = context(ctx);
        super::mutation::current_password_budget(state, request, &principal)?;
        let mut checked = Checked::default();
        let current = checked.presented_password("currentPassword", &current_password);
        checked.finish()?;
        let Some(current) = current else {
            return Err(ApiError::internal(&"parsed input missing").into());
        };
        let command = request.command(Actor::Account(principal.account.0), command_id);
        let position = two_step::disable(&state.store, &principal, current, &command)
            .await
            .map_err(ApiError::from_command)?;
        Ok(DisableTwoStepPayload {
            position: position.map(LogPosition),
            changed: ChangedAccount::own(&principal, position),
        })
    }
}
