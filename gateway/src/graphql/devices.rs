//! Apps that stay signed in: device sessions, their refresh, the person's device list, and the organization's rules.

use async_graphql::{ComplexObject, Context, InputObject, Object, Result, SimpleObject, ID};
use chrono::{DateTime, Utc};
use portal_commands::devices::{self, DeviceSignIn};
use portal_commands::handler::Actor;
use portal_commands::organizations;
use portal_domain::device::DevicePolicy;
use portal_domain::session::Principal;
use portal_domain::values::DeviceName;
use portal_domain::{DeviceSessionId, OrganizationId};
use uuid::Uuid;

use super::activities::organization as organization_by_id;
use super::errors::ApiError;
use super::inputs::Checked;
use super::mutation::{context, organization, session_payload, throttle, SignInPayload};
use super::query::{signed_in, staff};
use super::types::LogPosition;
use crate::throttle::Action;

/// An app signing in: it gets a refresh token beside a short-lived access token.
#[derive(InputObject, Clone)]
pub struct DeviceInput {
    /// What the person calls the device ("Jane's iPhone"), shown in their device list: 1 to 60 characters.
    pub name: String,
    /// The last refresh token of this device's session that reached its end of life: the organization may then
    /// skip the second step (see `devicePolicy`).
    pub renew_refresh_token: Option<String>,
}

/// Parses the device of a sign-in; a device session never goes into a browser cookie.
pub fn device_sign_in(
    checked: &mut Checked,
    device: Option<&DeviceInput>,
    set_cookie: bool,
) -> Option<DeviceSignIn> {
    let device = device?;
    if set_cookie {
        checked.refuse(
            "device",
            "DEVICE_WITH_COOKIE",
            "a browser session in a cookie cannot also be an app's device session; give one or the other"
                .to_owned(),
        );
        return None;
    }
    let name = checked.value(
        "device.name",
        "DEVICE_NAME_INVALID",
        DeviceName::parse(&device.name),
    )?;
    Some(DeviceSignIn {
        name,
        renewing: device.renew_refresh_token.clone(),
    })
}

/// Trades a refresh token for new tokens.
#[derive(InputObject)]
pub struct RefreshSessionInput {
    /// The organization's code.
    pub organization_code: String,
    /// The refresh token from the last `signIn`, `completeSignIn` or `refreshSession`.
    pub refresh_token: String,
    /// Idempotency key: a retry with the same id (after a lost answer) gets the same new tokens; a retry with a new
    /// id presents a used token and ends the device session.
    pub command_id: Option<Uuid>,
}

/// Signs one of your devices out.
#[derive(InputObject)]
pub struct SignOutDeviceInput {
    /// The device session, from `devices`.
    pub device_id: ID,
    /// Idempotency key.
    pub command_id: Option<Uuid>,
}

/// A device signed out.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct SignOutDevicePayload {
    /// The log position produced.
    pub position: LogPosition,
    #[graphql(skip)]
    principal: Principal,
}

#[ComplexObject]
impl SignOutDevicePayload {
    /// The devices still signed in, as `devices` lists them (the one signed out is gone).
    async fn devices(&self, ctx: &Context<'_>) -> Result<Vec<DeviceSession>> {
        Ok(device_list(ctx, &self.principal).await?)
    }
}

/// The devices `principal` is signed in on, newest first.
async fn device_list(
    ctx: &Context<'_>,
    principal: &Principal,
) -> Result<Vec<DeviceSession>, ApiError> {
    let (state, request) = context(ctx);
    let list = devices::list(&state.store, principal, request.now)
        .await
        .map_err(ApiError::from_command)?;
    Ok(list
        .into_iter()
        .map(|device| DeviceSession {
            id: ID(device.id.to_string()),
            name: device.name,
            started_at: device.started_at,
            last_refreshed_at: device.refreshed_at,
            expires_at: device.expires_at,
            current: device.current,
        })
        .collect())
}

/// Sets the organization's rules for device sessions.
#[derive(InputObject)]
pub struct SetDevicePolicyInput {
    /// The longest a device session lasts from its sign-in, in days (1 to 365).
    pub max_days: i32,
    /// Whether the sign-in that renews a device session at its end of life asks for the second step again.
    pub two_step_again: bool,
    /// Idempotency key.
    pub command_id: Option<Uuid>,
}

/// The organization's rules for device sessions.
#[derive(SimpleObject)]
pub struct DevicePolicyView {
    /// The rules (one set per organization).
    pub id: ID,
    /// The longest a device session lasts from its sign-in, in days.
    pub max_days: i32,
    /// Whether renewing a device session at its end of life asks for the second step again.
    pub two_step_again: bool,
    /// The log position produced (null when read, or when nothing changed).
    pub position: Option<LogPosition>,
}

impl DevicePolicyView {
    fn of(organization: OrganizationId, policy: DevicePolicy, position: Option<i64>) -> Self {
        Self {
            id: super::ids::derived("DevicePolicy", &[&organization.0]),
            max_days: i32::try_from(policy.max_days).unwrap_or(i32::MAX),
            two_step_again: policy.two_step_again,
            position: position.filter(|p| *p > 0).map(LogPosition),
        }
    }
}

/// A device you are signed in on with an app.
#[derive(SimpleObject)]
pub struct DeviceSession {
    /// The device session.
    pub id: ID,
    /// What you called the device (null once your data was erased).
    pub name: Option<String>,
    /// When it signed in.
    pub started_at: DateTime<Utc>,
    /// When its app last refreshed its tokens.
    pub last_refreshed_at: Option<DateTime<Utc>>,
    /// When it has to sign in again at the latest.
    pub expires_at: DateTime<Utc>,
    /// This request comes from it.
    pub current: bool,
}

/// Queries about device sessions.
#[derive(Default)]
pub struct DeviceQuery;

#[Object]
impl DeviceQuery {
    /// The devices you are signed in on with an app, newest first.
    async fn devices(&self, ctx: &Context<'_>) -> Result<Vec<DeviceSession>> {
        let principal = signed_in(ctx).await?;
        Ok(device_list(ctx, &principal).await?)
    }

    /// Your organization's rules for device sessions (staff only).
    async fn device_policy(&self, ctx: &Context<'_>) -> Result<DevicePolicyView> {
        let staff = staff(ctx).await?;
        let (state, _) = context(ctx);
        let organization = organization_by_id(state, staff.organization).await?;
        Ok(DevicePolicyView::of(
            staff.organization,
            organization.device_policy,
            None,
        ))
    }
}

/// Mutations of device sessions.
#[derive(Default)]
pub struct DeviceMutation;

#[Object]
impl DeviceMutation {
    /// Trades an app's refresh token for a new access token and a new refresh token; the old refresh token stops
    /// working. A refresh token presented a second time ends its device session (REFRESH_TOKEN_REUSED): someone
    /// else has a copy. REFRESH_TOKEN_INVALID for an unknown or ended one, DEVICE_SESSION_EXPIRED at its end of
    /// life (sign in again, with `device.renewRefreshToken`).
    async fn refresh_session(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The operation's input.")] input: RefreshSessionInput,
    ) -> Result<SignInPayload> {
        let (state, request) = context(ctx);
        let account = portal_commands::credentials::parse_token(&input.refresh_token)
            .map(|(id, _)| id.to_string());
        throttle(state, request, Action::RefreshSession, account.as_deref())?;
        let mut checked = Checked::default();
        let code = checked.organization_code("organizationCode", &input.organization_code);
        checked.finish()?;
        let Some(code) = code else {
            return Err(ApiError::internal(&"parsed input missing").into());
        };
        let organization = organization(state, code).await?;
        let command = request.command(Actor::Anonymous, input.command_id);
        let refreshed =
            devices::refresh(&state.store, &organization, &input.refresh_token, &command)
                .await
                .map_err(ApiError::from_command)?;
        Ok(session_payload(ctx, organization.id, refreshed, false))
    }

    /// Signs one of your devices out: its access and refresh tokens stop working.
    async fn sign_out_device(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The operation's input.")] input: SignOutDeviceInput,
    ) -> Result<SignOutDevicePayload> {
        let principal = signed_in(ctx).await?;
        let (state, request) = context(ctx);
        let mut checked = Checked::default();
        let device = checked.value(
            "deviceId",
            "DEVICE_SESSION_NOT_FOUND",
            Uuid::parse_str(input.device_id.as_str()).map_err(|_| "is not a device id"),
        );
        checked.finish()?;
        let Some(device) = device else {
            return Err(ApiError::internal(&"parsed input missing").into());
        };
        let command = request.command(Actor::Account(principal.account.0), input.command_id);
        let position =
            devices::sign_out(&state.store, &principal, DeviceSessionId(device), &command)
                .await
                .map_err(ApiError::from_command)?;
        Ok(SignOutDevicePayload {
            position: LogPosition(position),
            principal,
        })
    }

    /// Sets your organization's rules for device sessions (staff only): their longest life, and whether renewing
    /// one asks for the second step again.
    async fn set_device_policy(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The operation's input.")] input: SetDevicePolicyInput,
    ) -> Result<DevicePolicyView> {
        let staff = staff(ctx).await?;
        let (state, request) = context(ctx);
        let policy = DevicePolicy {
            max_days: u32::try_from(input.max_days).unwrap_or(0),
            two_step_again: input.two_step_again,
        };
        let command = request.command(Actor::Account(staff.account.0), input.command_id);
        let position = organizations::set_device_policy(
            &state.store,
            staff.organization,
            policy,
            Some(staff.account),
            &command,
        )
        .await
        .map_err(ApiError::from_command)?;
        Ok(DevicePolicyView::of(
            staff.organization,
            policy,
            Some(position),
        ))
    }
}
