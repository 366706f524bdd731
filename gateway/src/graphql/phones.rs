//! Mobile numbers of the signed-in learner, and the organization's SMS and time-zone settings (staff).

use async_graphql::{ComplexObject, Context, InputObject, Object, Result, SimpleObject, ID};
use chrono::{DateTime, Utc};
use portal_commands::handler::Actor;
use portal_commands::{organizations as orgs, phones};
use portal_domain::account::AccountError;
use portal_domain::organization::OrganizationError;
use portal_domain::session::Principal;
use portal_domain::values::{PhoneNumber, SmsAccountId, TimeZone};
use portal_projections::accounts;
use uuid::Uuid;

use super::activities::organization;
use super::errors::ApiError;
use super::inputs::Checked;
use super::query::{applied, principal_setting_up_two_step, projection_error, staff};
use super::settings::SettingsPayload;
use super::types::LogPosition;
use crate::app::AppState;
use crate::request::RequestContext;

/// A mobile number on your account.
#[derive(SimpleObject)]
pub struct Phone {
    /// The number on this account (of one account and number).
    pub id: ID,
    /// E.164 (`+16125551234`).
    pub number: String,
    /// Paired by a text from it, or verified with the code sent to it: texts from it record your attendance.
    pub verified: bool,
    /// When it was added.
    pub added_at: DateTime<Utc>,
}

/// A number, with an idempotency key.
#[derive(InputObject)]
pub struct PhoneInput {
    /// The number, with its country code, or a North American number (`(612) 555-1234`).
    pub number: String,
    /// Idempotency key.
    pub command_id: Option<Uuid>,
}

/// A number and the code texted to it.
#[derive(InputObject)]
pub struct VerifyPhoneInput {
    /// The number.
    pub number: String,
    /// The six-digit code.
    pub code: String,
    /// Idempotency key.
    pub command_id: Option<Uuid>,
}

/// The organization's SMS number and the provider's auth token.
#[derive(InputObject)]
pub struct ConfigureSmsInput {
    /// The number learners text (E.164).
    pub number: String,
    /// The provider's auth token, which signs the requests it sends (kept sealed).
    pub auth_token: String,
    /// The provider account (Twilio's Account SID, `AC...`) that sends the organization's texts; without it, texts
    /// are received but not sent through the provider.
    pub account_sid: Option<String>,
    /// Idempotency key.
    pub command_id: Option<Uuid>,
}

/// What a phone mutation did.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct PhonePayload {
    /// The number, normalised to E.164.
    pub number: String,
    /// The log position produced, if any.
    pub position: Option<LogPosition>,
    #[graphql(skip)]
    reader: Principal,
}

#[ComplexObject]
impl PhonePayload {
    /// Your numbers as they now are (what `myPhones` answers): the one added or verified is among them, the one
    /// removed is not.
    async fn phones(&self, ctx: &Context<'_>) -> Result<Vec<Phone>> {
        Ok(read_phones(ctx, &self.reader, self.position).await?)
    }
}

/// `reader`'s numbers once the accounts read model has applied `at_least`.
async fn read_phones(
    ctx: &Context<'_>,
    reader: &Principal,
    at_least: Option<LogPosition>,
) -> Result<Vec<Phone>, ApiError> {
    let state = ctx.data_unchecked::<AppState>();
    applied(state, accounts::NAME, at_least).await?;
    let rows = accounts::phones(&state.pool, reader.organization.0, reader.account.0)
        .await
        .map_err(projection_error)?;
    Ok(rows
        .into_iter()
        .map(|r| Phone {
            id: super::ids::derived("Phone", &[&reader.account.0, &r.number]),
            number: r.number,
            verified: r.verified,
            added_at: r.added_at,
        })
        .collect())
}

fn number(raw: &str) -> Result<PhoneNumber, ApiError> {
    let mut checked = Checked::default();
    let number = checked.phone("number", raw);
    checked.finish()?;
    number.ok_or_else(|| {
        ApiError::new("PHONE_NUMBER_INVALID", "not a phone number").on("input.number")
    })
}

/// Phone and settings mutations.
#[derive(Default)]
pub struct PhoneMutation;

#[Object]
impl PhoneMutation {
    /// Adds a mobile number to your account and texts it a six-digit code (valid 10 minutes, one a minute).
    async fn add_phone(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The operation's input.")] input: PhoneInput,
    ) -> Result<PhonePayload> {
        let principal = principal_setting_up_two_step(ctx).await?;
        let state = ctx.data_unchecked::<AppState>();
        let request = ctx.data_unchecked::<RequestContext>();
        let number = number(&input.number)?;
        let org = organization(state, principal.organization).await?;
        let command = request.command(Actor::Account(principal.account.0), input.command_id);
        let position = phones::add_phone(&state.store, &org, principal.account, &number, &command)
            .await
            .map_err(ApiError::from_command)?;
        Ok(PhonePayload {
            number: number.as_str().to_owned(),
            position: position.map(LogPosition),
            reader: principal,
        })
    }

    /// Verifies a number with the code texted to it; five wrong codes void the code.
    async fn verify_phone(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The operation's input.")] input: VerifyPhoneInput,
    ) -> Result<PhonePayload> {
        let principal = principal_setting_up_two_step(ctx).await?;
        let state = ctx.data_unchecked::<AppState>();
        let request = ctx.data_unchecked::<RequestContext>();
        let number = number(&input.number)?;
        let code = input.code.trim();
        if code.len() != 6 || !code.chars().all(|c| c.is_ascii_digit()) {
            return Err(
                ApiError::new("PHONE_CODE_INVALID", "the code has six digits")
                    .on("input.code")
                    .into(),
            );
        }
        let org = organization(state, principal.organization).await?;
        let command = request.command(Actor::Account(principal.account.0), input.command_id);
        let position = phones::verify_phone(
            &state.store,
            &org,
            principal.account,
            &number,
            code,
            &command,
        )
        .await
        .map_err(ApiError::from_command::<AccountError>)?;
        Ok(PhonePayload {
            number: number.as_str().to_owned(),
            position: position.map(LogPosition),
            reader: principal,
        })
    }

    /// Removes a number from your account; texts from it no longer record your attendance.
    async fn remove_phone(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The operation's input.")] input: PhoneInput,
    ) -> Result<PhonePayload> {
        let principal = principal_setting_up_two_step(ctx).await?;
        let state = ctx.data_unchecked::<AppState>();
        let request = ctx.data_unchecked::<RequestContext>();
        let number = number(&input.number)?;
        let org = organization(state, principal.organization).await?;
        let command = request.command(Actor::Account(principal.account.0), input.command_id);
        let position =
            phones::remove_phone(&state.store, &org, principal.account, &number, &command)
                .await
                .map_err(ApiError::from_command)?;
        Ok(PhonePayload {
            number: number.as_str().to_owned(),
            position: position.map(LogPosition),
            reader: principal,
        })
    }

    /// Sets up the number learners text and the provider's auth token (staff).
    async fn configure_sms(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The operation's input.")] input: ConfigureSmsInput,
    ) -> Result<SettingsPayload> {
        let principal = staff(ctx).await?;
        let state = ctx.data_unchecked::<AppState>();
        let request = ctx.data_unchecked::<RequestContext>();
        let number = number(&input.number)?;
        let token = input.auth_token.trim();
        if token.len() < 16 || token.len() > 256 {
            return Err(ApiError::new(
                "AUTH_TOKEN_INVALID",
                "an auth token has 16 to 256 characters",
            )
            .on("input.authToken")
            .into());
        }
        let account = input
            .account_sid
            .as_deref()
            .map(SmsAccountId::parse)
            .transpose()
            .map_err(|e| ApiError::new("ACCOUNT_SID_INVALID", e.rule).on("input.accountSid"))?;
        let command = request.command(Actor::Account(principal.account.0), input.command_id);
        let position = orgs::configure_sms(
            &state.store,
            principal.organization,
            number,
            token,
            account,
            Some(principal.account),
            &command,
        )
        .await
        .map_err(ApiError::from_command::<OrganizationError>)?;
        Ok(SettingsPayload::new(principal.organization, position))
    }

    /// Shows the organization's calendar in another IANA time zone (staff).
    async fn set_time_zone(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "An IANA time zone name, such as `America/Chicago`.")] time_zone: String,
        #[graphql(
            desc = "Idempotency key: a retry with the same id returns the first answer instead of acting twice."
        )]
        command_id: Option<Uuid>,
    ) -> Result<SettingsPayload> {
        let principal = staff(ctx).await?;
        let state = ctx.data_unchecked::<AppState>();
        let request = ctx.data_unchecked::<RequestContext>();
        let zone = TimeZone::parse(&time_zone)
            .map_err(|e| ApiError::new("TIME_ZONE_INVALID", e.rule).on("timeZone"))?;
        let command = request.command(Actor::Account(principal.account.0), command_id);
        let position = orgs::set_time_zone(
            &state.store,
            principal.organization,
            zone,
            Some(principal.account),
            &command,
        )
        .await
        .map_err(ApiError::from_command::<OrganizationError>)?;
        Ok(SettingsPayload::new(principal.organization, position))
    }
}

/// Phone queries.
#[derive(Default)]
pub struct PhoneQuery;

#[Object]
impl PhoneQuery {
    /// Your mobile numbers.
    async fn my_phones(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "Read your writes: wait until the read model has applied this log position (a mutation's `position`)."
        )]
        at_least: Option<LogPosition>,
    ) -> Result<Vec<Phone>> {
        let principal = principal_setting_up_two_step(ctx).await?;
        Ok(read_phones(ctx, &principal, at_least).await?)
    }
}
