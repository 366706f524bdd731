//! Mutations: each parses its input into domain types, runs one command, and returns the log position it produced.

use async_graphql::{ComplexObject, Context, InputObject, Object, Result, SimpleObject, ID};
use chrono::{DateTime, Utc};
use portal_commands::accounts::{self, NewAccount};
use portal_commands::handler::{Actor, CommandError};
use portal_commands::organizations::{self as org_commands, OrganizationSummary};
use portal_commands::sessions;
use portal_domain::account::{AccountError, Role};
use portal_domain::values::OrganizationCode;
use portal_domain::OrganizationId;
use uuid::Uuid;

use super::changed::ChangedAccount;
use super::errors::ApiError;
use super::inputs::Checked;
use super::query::{principal, signed_in};
use super::types::{Account, LogPosition};
use crate::app::AppState;
use crate::request::RequestContext;
use crate::throttle::Action;

/// Mutations of accounts and sessions.
#[derive(Default)]
pub struct AccountMutation;

/// Creates a professional account (seed: "Create Your Account").
#[derive(InputObject)]
pub struct RegisterAccountInput {
    /// The organization's code.
    pub organization_code: String,
    /// Optional courtesy title ("Dr.").
    pub title: Option<String>,
    /// Given name.
    pub first_name: String,
    /// Optional middle name.
    pub middle_name: Option<String>,
    /// Family name.
    pub last_name: String,
    /// Sign-in address; the activation link is sent there.
    pub email: String,
    /// 12 to 128 characters of any kind; not one of the common breached passwords.
    pub password: String,
    /// Idempotency key: repeat the request with the same id and it is applied once.
    pub command_id: Option<Uuid>,
}

/// The answer to a registration. It reads the same whether or not the address already had an account, so that
/// the API does not reveal who has one; the address's owner learns the rest by e-mail.
#[derive(SimpleObject)]
pub struct RegisterAccountPayload {
    /// What happens next, for people.
    pub message: String,
    /// The log position produced.
    pub position: LogPosition,
}

/// Follows the link in the activation e-mail.
#[derive(InputObject)]
pub struct ActivateAccountInput {
    /// The token from the link.
    pub token: String,
    /// Idempotency key.
    pub command_id: Option<Uuid>,
}

/// The activated account.
#[derive(SimpleObject)]
pub struct ActivateAccountPayload {
    /// The account.
    pub account_id: ID,
    /// The log position produced.
    pub position: LogPosition,
}

/// Asks for a new activation e-mail.
#[derive(InputObject)]
pub struct ResendActivationInput {
    /// The organization's code.
    pub organization_code: String,
    /// The address the account was registered with.
    pub email: String,
    /// Idempotency key.
    pub command_id: Option<Uuid>,
}

/// Always the same answer. It carries no log position: whether anything was written would tell whether the
/// address has an account waiting for activation.
#[derive(SimpleObject)]
pub struct ResendActivationPayload {
    /// What happens next, for people.
    pub message: String,
}

/// Signs in with e-mail and password.
#[derive(InputObject)]
pub struct SignInInput {
    /// The organization's code.
    pub organization_code: String,
    /// The sign-in address (or give `username`).
    pub email: Option<String>,
    /// The username (patients; or give `email`).
    pub username: Option<String>,
    /// The password.
    pub password: String,
    /// Browsers: keep the session in an HttpOnly cookie (`token` is then null, so no script can read it).
    #[graphql(default)]
    pub set_cookie: bool,
    /// Apps: open a device session, which stays signed in with `refreshSession` (not with `setCookie`).
    pub device: Option<super::devices::DeviceInput>,
    /// Idempotency key: a retry returns the same session.
    pub command_id: Option<Uuid>,
}

/// A new session.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct SignInPayload {
    /// Bearer token for `Authorization: Bearer <token>`. Shown once; portal keeps only its hash. Null while the
    /// second step is required, and when the session went into the cookie (`setCookie`).
    pub token: Option<String>,
    /// When the session ends at the latest.
    pub expires_at: Option<DateTime<Utc>>,
    /// The account signed in (null while the second step is required).
    pub account_id: Option<ID>,
    /// True when the password was right and the account uses two-step verification: answer `completeSignIn`.
    pub second_step_required: bool,
    /// The challenge to answer with the code (valid 5 minutes).
    pub challenge_token: Option<String>,
    /// When the challenge expires.
    pub challenge_expires_at: Option<DateTime<Utc>>,
    /// Apps (`device`): the refresh token that gets the next access token from `refreshSession`. It works once;
    /// keep it in the platform's secure storage. Shown once; portal keeps only its hash.
    pub refresh_token: Option<String>,
    /// Apps: the device session, as listed by `devices`.
    pub device_id: Option<ID>,
    /// Apps: when the device session ends and the person signs in again.
    pub device_expires_at: Option<DateTime<Utc>>,
    /// The log position produced.
    pub position: LogPosition,
    /// The organization and account signed in, to read the account back.
    #[graphql(skip)]
    signed_in: Option<(OrganizationId, Uuid)>,
}

#[ComplexObject]
impl SignInPayload {
    /// The account signed in, as `me` answers it (null while the second step is required).
    async fn account(&self, ctx: &Context<'_>) -> Result<Option<Account>> {
        let Some((organization, id)) = self.signed_in else {
            return Ok(None);
        };
        Ok(super::changed::signed_in_account(ctx, organization.0, id, Some(self.position)).await?)
    }
}

/// The payload of a new session: the token in the answer, or (`set_cookie`) only in the HttpOnly session cookie.
pub fn session_payload(
    ctx: &Context<'_>,
    organization: OrganizationId,
    signed_in: accounts::SignedIn,
    set_cookie: bool,
) -> SignInPayload {
    let who = Some((organization, signed_in.account.0));
    if !set_cookie {
        return SignInPayload {
            signed_in: who,
            ..signed_in.into()
        };
    }
    let (state, request) = context(ctx);
    let lifetime = (signed_in.expires_at - request.now).num_seconds();
    if let Some(cookie) = state.session_cookie().set(&signed_in.token, lifetime) {
        ctx.append_http_header(axum::http::header::SET_COOKIE, cookie);
    }
    SignInPayload {
        token: None,
        signed_in: who,
        ..signed_in.into()
    }
}

impl From<accounts::SignedIn> for SignInPayload {
    fn from(signed_in: accounts::SignedIn) -> Self {
        Self {
            token: Some(signed_in.token),
            expires_at: Some(signed_in.expires_at),
            account_id: Some(ID(signed_in.account.to_string())),
            second_step_required: false,
            challenge_token: None,
            challenge_expires_at: None,
            refresh_token: signed_in.device.as_ref().map(|d| d.refresh_token.clone()),
            device_id: signed_in.device.as_ref().map(|d| ID(d.id.to_string())),
            device_expires_at: signed_in.device.as_ref().map(|d| d.expires_at),
            position: LogPosition(signed_in.last_position),
            signed_in: None,
        }
    }
}

/// Asks for a password-reset link.
#[derive(InputObject)]
pub struct RequestPasswordResetInput {
    /// The organization's code.
    pub organization_code: String,
    /// The address the account signs in with (or give `username`).
    pub email: Option<String>,
    /// The username a patient signs in with (or give `email`); the link goes to the account's address.
    pub username: Option<String>,
    /// Idempotency key.
    pub command_id: Option<Uuid>,
}

/// "Forgot your username?": the address the account uses.
#[derive(InputObject)]
pub struct RequestUsernameReminderInput {
    /// The organization's code.
    pub organization_code: String,
    /// The address on file.
    pub email: String,
    /// Idempotency key.
    pub command_id: Option<Uuid>,
}

/// Always the same answer, with no log position, whether or not the address has an account.
#[derive(SimpleObject)]
pub struct RequestPasswordResetPayload {
    /// What happens next, for people.
    pub message: String,
}

/// Sets a new password from a reset link.
#[derive(InputObject)]
pub struct ResetPasswordInput {
    /// The token from the link.
    pub token: String,
    /// The new password (same policy as at registration).
    pub new_password: String,
    /// Idempotency key.
    pub command_id: Option<Uuid>,
}

/// The password is set; every session of the account has ended.
#[derive(SimpleObject)]
pub struct ResetPasswordPayload {
    /// The account.
    pub account_id: ID,
    /// The log position produced.
    pub position: LogPosition,
}

/// Changes the signed-in person's password.
#[derive(InputObject)]
pub struct ChangePasswordInput {
    /// The current password.
    pub current_password: String,
    /// The new password (same policy as at registration).
    pub new_password: String,
    /// Idempotency key.
    pub command_id: Option<Uuid>,
}

/// The password changed; every other session ended and the person was told by e-mail.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct ChangePasswordPayload {
    /// The log position produced.
    pub position: LogPosition,
    #[graphql(skip)]
    changed: ChangedAccount,
}

answers_account!(ChangePasswordPayload, "Your account as it now is.");

/// Asks to sign in with another address.
#[derive(InputObject)]
pub struct RequestEmailChangeInput {
    /// The current password.
    pub current_password: String,
    /// The new address; it takes effect once confirmed from the link sent to it.
    pub new_email: String,
    /// Idempotency key.
    pub command_id: Option<Uuid>,
}

/// Always the same answer, with no position (it would tell whether the new address has an account).
#[derive(SimpleObject)]
pub struct RequestEmailChangePayload {
    /// What happens next.
    pub message: String,
}

/// Confirms a new address from the link sent to it.
#[derive(InputObject)]
pub struct ConfirmEmailChangeInput {
    /// The token from the link.
    pub token: String,
    /// Idempotency key.
    pub command_id: Option<Uuid>,
}

/// The new address is the sign-in address.
#[derive(SimpleObject)]
pub struct ConfirmEmailChangePayload {
    /// The account.
    pub account_id: ID,
    /// The log position produced.
    pub position: LogPosition,
}

/// Ends the current session.
#[derive(InputObject, Default)]
pub struct SignOutInput {
    /// Idempotency key.
    pub command_id: Option<Uuid>,
}

/// The session is over.
#[derive(SimpleObject)]
pub struct SignOutPayload {
    /// The log position produced; null when the session had already ended.
    pub position: Option<LogPosition>,
}

/// The answer to a registration: the same whether or not the address was new.
pub const CHECK_YOUR_EMAIL: &str =
    "Thanks! Now check your e-mail: we sent a link to finish setting up your account. Check spam or junk folders too.";

/// The organization with this code, or ORGANIZATION_NOT_FOUND on `input.organizationCode`.
pub async fn organization(
    state: &AppState,
    code: OrganizationCode,
) -> Result<OrganizationSummary, ApiError> {
    org_commands::find_by_code(&state.store, &code)
        .await
        .map_err(|error| ApiError::internal(&error))?
        .ok_or_else(|| {
            ApiError::new("ORGANIZATION_NOT_FOUND", "no organization has this code")
                .on("input.organizationCode")
        })
}

/// The organization and the address of a request anyone may make about an address (a new activation link, a
/// username reminder): both parsed, each refusal at its field, and the request counted against `action`'s budgets
/// for the caller's network and for the address (under `scope`, so that kinds of request count apart).
async fn about_an_address(
    ctx: &Context<'_>,
    organization_code: &str,
    email: &str,
    action: Action,
    scope: &str,
) -> Result<(OrganizationSummary, portal_domain::values::EmailAddress), ApiError> {
    let (state, request) = context(ctx);
    let mut checked = Checked::default();
    let code = checked.organization_code("organizationCode", organization_code);
    let email = checked.email("email", email);
    checked.finish()?;
    let (Some(code), Some(email)) = (code, email) else {
        return Err(ApiError::internal(&"parsed input missing"));
    };
    throttle(
        state,
        request,
        action,
        Some(&format!("{scope}{}", email.canonical())),
    )?;
    Ok((organization(state, code).await?, email))
}

/// A refused sign-in (the password or the second step) as the person reads it: a lock says what to do under the
/// organization's policy, with its help desk and its time, rather than the domain's general words.
pub fn sign_in_refusal(
    organization: &OrganizationSummary,
    error: CommandError<AccountError>,
) -> ApiError {
    match error {
        CommandError::Rejected(AccountError::Locked { until }) => ApiError {
            message: organization.locked_answer(until),
            ..ApiError::from_command(CommandError::Rejected(AccountError::Locked { until }))
        },
        error => ApiError::from_command(error),
    }
}

/// The login of a sign-in or reset: an e-mail address or a username, exactly one of them.
fn login(
    checked: &mut Checked,
    email: Option<&str>,
    username: Option<&str>,
) -> Option<accounts::Login> {
    match (email, username) {
        (Some(email), None) => checked.email("email", email).map(accounts::Login::Email),
        (None, Some(username)) => checked
            .value(
                "username",
                "USERNAME_INVALID",
                portal_domain::values::Username::parse(username),
            )
            .map(accounts::Login::Username),
        _ => {
            checked.refuse(
                "email",
                "LOGIN_REQUIRED",
                "give either email or username".to_owned(),
            );
            None
        }
    }
}

/// Counts an attempt of the caller's address against the per-address limit shared by signing in, signing up and
/// asking for codes (aliases in one request count one each); RATE_LIMITED past it.
pub fn limit_attempts(state: &AppState, request: &RequestContext) -> Result<(), ApiError> {
    let address = crate::throttle::client_key(
        request
            .client_address()
            .unwrap_or(std::net::IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED)),
    );
    if state.sign_in_limiter().check_key(&address).is_err() {
        return Err(ApiError::rate_limited());
    }
    Ok(())
}

/// Counts a costly or guessable request against its budgets (per client network, and per target when it names
/// one); RATE_LIMITED once either is spent.
pub fn throttle(
    state: &AppState,
    request: &RequestContext,
    action: crate::throttle::Action,
    target: Option<&str>,
) -> Result<(), ApiError> {
    state
        .throttle()
        .check(action, request.client_address(), target)
        .map_err(|spent| ApiError::new("RATE_LIMITED", spent.message()))
}

/// Counts a check of the signed-in person's current password against its budgets (their account, their network).
pub fn current_password_budget(
    state: &AppState,
    request: &RequestContext,
    principal: &portal_domain::session::Principal,
) -> Result<(), ApiError> {
    throttle(
        state,
        request,
        Action::CurrentPassword,
        Some(&principal.account.0.to_string()),
    )
}

/// The application state and the request behind a resolver.
pub fn context<'a>(ctx: &'a Context<'_>) -> (&'a AppState, &'a RequestContext) {
    (
        ctx.data_unchecked::<AppState>(),
        ctx.data_unchecked::<RequestContext>(),
    )
}

#[Object]
impl AccountMutation {
    /// Creates an account and e-mails an activation link (valid 72 hours).
    async fn register_account(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The operation's input.")] input: RegisterAccountInput,
    ) -> Result<RegisterAccountPayload> {
        let (state, request) = context(ctx);
        let mut checked = Checked::default();
        let code = checked.organization_code("organizationCode", &input.organization_code);
        let name = checked.person_name(
            input.title.as_deref(),
            &input.first_name,
            input.middle_name.as_deref(),
            &input.last_name,
        );
        let email = checked.email("email", &input.email);
        let password = checked.new_password("password", &input.password);
        checked.finish()?;
        let (Some(code), Some(name), Some(email), Some(password)) = (code, name, email, password)
        else {
            return Err(ApiError::internal(&"parsed input missing").into());
        };
        throttle(state, request, Action::Register, Some(&email.canonical()))?;
        let organization = organization(state, code).await?;
        let command = request.command(Actor::Anonymous, input.command_id);
        let registered = accounts::register(
            &state.store,
            &organization,
            NewAccount {
                name,
                email,
                password,
                role: Role::Learner,
            },
            &command,
        )
        .await
        .map_err(ApiError::from_command)?;
        Ok(RegisterAccountPayload {
            message: CHECK_YOUR_EMAIL.to_owned(),
            position: LogPosition(registered.last_position.unwrap_or_default()),
        })
    }

    /// Activates the account the token belongs to. Unknown, expired and used tokens are refused with
    /// ACTIVATION_TOKEN_INVALID, ACTIVATION_TOKEN_EXPIRED and ACTIVATION_TOKEN_USED.
    async fn activate_account(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The operation's input.")] input: ActivateAccountInput,
    ) -> Result<ActivateAccountPayload> {
        let (state, request) = context(ctx);
        let command = request.command(Actor::Anonymous, input.command_id);
        let (account, position) = accounts::activate(&state.store, &input.token, &command)
            .await
            .map_err(ApiError::from_command)?;
        Ok(ActivateAccountPayload {
            account_id: ID(account.to_string()),
            position: LogPosition(position),
        })
    }

    /// Sends a new activation link when the address has an account waiting for activation.
    async fn resend_activation(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The operation's input.")] input: ResendActivationInput,
    ) -> Result<ResendActivationPayload> {
        let (state, request) = context(ctx);
        let (organization, email) = about_an_address(
            ctx,
            &input.organization_code,
            &input.email,
            Action::ResendActivation,
            "",
        )
        .await?;
        let command = request.command(Actor::Anonymous, input.command_id);
        accounts::resend_activation(&state.store, &organization, &email, &command)
            .await
            .map_err(ApiError::from_command)?;
        Ok(ResendActivationPayload {
            message:
                "If an account with this address is waiting for activation, we sent a new link."
                    .to_owned(),
        })
    }

    /// Signs in. A wrong password and an unknown address are both INVALID_CREDENTIALS; an account not yet
    /// activated is ACCOUNT_NOT_ACTIVATED (only with the right password).
    async fn sign_in(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The operation's input.")] input: SignInInput,
    ) -> Result<SignInPayload> {
        let (state, request) = context(ctx);
        // Per client address, before any work: each signIn in a request (aliases included) counts.
        limit_attempts(state, request)?;
        let mut checked = Checked::default();
        let code = checked.organization_code("organizationCode", &input.organization_code);
        let login = login(
            &mut checked,
            input.email.as_deref(),
            input.username.as_deref(),
        );
        let password = checked.presented_password("password", &input.password);
        let device =
            super::devices::device_sign_in(&mut checked, input.device.as_ref(), input.set_cookie);
        checked.finish()?;
        let (Some(code), Some(login), Some(password)) = (code, login, password) else {
            return Err(ApiError::internal(&"parsed input missing").into());
        };
        let organization = organization(state, code).await?;
        let command = request.command(Actor::Anonymous, input.command_id);
        let step = accounts::sign_in_steps(
            &state.store,
            &organization,
            &login,
            password,
            device.as_ref(),
            &command,
        )
        .await
        .map_err(|error| match (error, &login) {
            // The person signed in with a username, so the answer speaks of one; it still never says which of
            // the two was wrong.
            (
                CommandError::Rejected(AccountError::InvalidCredentials),
                accounts::Login::Username(_),
            ) => ApiError::new(
                "INVALID_CREDENTIALS",
                "the username or password is not correct",
            ),
            (error, _) => sign_in_refusal(&organization, error),
        })?;
        Ok(match step {
            accounts::SignInStep::Session(signed_in) => {
                session_payload(ctx, organization.id, signed_in, input.set_cookie)
            }
            accounts::SignInStep::SecondStep(challenge) => SignInPayload {
                token: None,
                expires_at: None,
                account_id: None,
                second_step_required: true,
                challenge_token: Some(challenge.token),
                challenge_expires_at: Some(challenge.expires_at),
                refresh_token: None,
                device_id: None,
                device_expires_at: None,
                position: LogPosition(challenge.last_position),
                signed_in: None,
            },
        })
    }

    /// Sends a password-reset link (valid one hour) to an address with an account, or an e-mail saying that no
    /// account uses it. The answer is the same either way.
    async fn request_password_reset(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The operation's input.")] input: RequestPasswordResetInput,
    ) -> Result<RequestPasswordResetPayload> {
        let (state, request) = context(ctx);
        let mut checked = Checked::default();
        let code = checked.organization_code("organizationCode", &input.organization_code);
        let login = login(
            &mut checked,
            input.email.as_deref(),
            input.username.as_deref(),
        );
        checked.finish()?;
        let (Some(code), Some(login)) = (code, login) else {
            return Err(ApiError::internal(&"parsed input missing").into());
        };
        throttle(
            state,
            request,
            Action::RequestPasswordReset,
            Some(&login.key()),
        )?;
        let organization = organization(state, code).await?;
        let command = request.command(Actor::Anonymous, input.command_id);
        accounts::request_password_reset(&state.store, &organization, &login, &command)
            .await
            .map_err(ApiError::from_command)?;
        Ok(RequestPasswordResetPayload {
            message: match login {
                accounts::Login::Email(_) => {
                    "We sent an e-mail to this address with what to do next. Check spam or junk folders too."
                }
                accounts::Login::Username(_) => {
                    "If an account uses this username, we sent an e-mail to its address with what to do next. \
                     Check spam or junk folders too."
                }
            }
            .to_owned(),
        })
    }

    /// "Forgot your username?" (seed 001): e-mails the username of the account that uses this address to it. The
    /// answer is the same whether or not an account uses it.
    async fn request_username_reminder(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The operation's input.")] input: RequestUsernameReminderInput,
    ) -> Result<RequestPasswordResetPayload> {
        let (state, request) = context(ctx);
        // The same budgets as a password reset: both write to whatever address is typed.
        let (organization, email) = about_an_address(
            ctx,
            &input.organization_code,
            &input.email,
            Action::RequestPasswordReset,
            "username-reminder:",
        )
        .await?;
        let command = request.command(Actor::Anonymous, input.command_id);
        accounts::remind_username(&state.store, &organization, &email, &command)
            .await
            .map_err(ApiError::from_command)?;
        Ok(RequestPasswordResetPayload {
            message: "If an account uses this address, we sent its username to it. Check spam or junk folders too."
                .to_owned(),
        })
    }

    /// Sets a new password from a reset link: failures and a cool-down lock are cleared and every session ends.
    /// Unknown, expired and used links are RESET_TOKEN_INVALID, RESET_TOKEN_EXPIRED and RESET_TOKEN_USED.
    async fn reset_password(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The operation's input.")] input: ResetPasswordInput,
    ) -> Result<ResetPasswordPayload> {
        let (state, request) = context(ctx);
        let account =
            portal_commands::credentials::parse_token(&input.token).map(|(id, _)| id.to_string());
        throttle(state, request, Action::ResetPassword, account.as_deref())?;
        let mut checked = Checked::default();
        let password = checked.new_password("newPassword", &input.new_password);
        checked.finish()?;
        let Some(password) = password else {
            return Err(ApiError::internal(&"parsed input missing").into());
        };
        let command = request.command(Actor::Anonymous, input.command_id);
        let (account, position) =
            accounts::reset_password(&state.store, &input.token, password, &command)
                .await
                .map_err(ApiError::from_command)?;
        Ok(ResetPasswordPayload {
            account_id: ID(account.to_string()),
            position: LogPosition(position),
        })
    }

    /// Changes your password: the current one is required; your other sessions end and you are told by e-mail.
    async fn change_password(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The operation's input.")] input: ChangePasswordInput,
    ) -> Result<ChangePasswordPayload> {
        let principal = signed_in(ctx).await?;
        let (state, request) = context(ctx);
        current_password_budget(state, request, &principal)?;
        let mut checked = Checked::default();
        let current = checked.presented_password("currentPassword", &input.current_password);
        let new = checked.new_password("newPassword", &input.new_password);
        checked.finish()?;
        let (Some(current), Some(new)) = (current, new) else {
            return Err(ApiError::internal(&"parsed input missing").into());
        };
        let command = request.command(Actor::Account(principal.account.0), input.command_id);
        let position = accounts::change_password(&state.store, &principal, current, new, &command)
            .await
            .map_err(ApiError::from_command)?;
        Ok(ChangePasswordPayload {
            position: LogPosition(position),
            changed: ChangedAccount::own(&principal, Some(position)),
        })
    }

    /// Asks to sign in with another address (the current password is required): a link goes to the new address
    /// (valid 24 hours) and a notice to the current one.
    async fn request_email_change(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The operation's input.")] input: RequestEmailChangeInput,
    ) -> Result<RequestEmailChangePayload> {
        let principal = principal(ctx).await?;
        let (state, request) = context(ctx);
        current_password_budget(state, request, &principal)?;
        let mut checked = Checked::default();
        let current = checked.presented_password("currentPassword", &input.current_password);
        let email = checked.email("newEmail", &input.new_email);
        checked.finish()?;
        let (Some(current), Some(email)) = (current, email) else {
            return Err(ApiError::internal(&"parsed input missing").into());
        };
        let organization = org_commands::find_by_id(&state.store, principal.organization)
            .await
            .map_err(|e| ApiError::internal(&e))?
            .ok_or_else(|| ApiError::internal(&"the account's organization is missing"))?;
        let command = request.command(Actor::Account(principal.account.0), input.command_id);
        accounts::request_email_change(
            &state.store,
            &principal,
            &organization,
            current,
            email,
            &command,
        )
        .await
        .map_err(|e| match ApiError::from_command(e) {
            error if error.code == "EMAIL_UNCHANGED" => error.on("input.newEmail"),
            error => error,
        })?;
        Ok(RequestEmailChangePayload {
            message: "Check the new address: we sent it a link to confirm the change.".to_owned(),
        })
    }

    /// Confirms a new address from its link. Unknown and expired links are EMAIL_CHANGE_TOKEN_INVALID and
    /// EMAIL_CHANGE_TOKEN_EXPIRED; EMAIL_TAKEN when another account took the address meanwhile.
    async fn confirm_email_change(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The operation's input.")] input: ConfirmEmailChangeInput,
    ) -> Result<ConfirmEmailChangePayload> {
        let (state, request) = context(ctx);
        let command = request.command(Actor::Anonymous, input.command_id);
        let (account, position) =
            accounts::confirm_email_change(&state.store, &input.token, &command)
                .await
                .map_err(ApiError::from_command)?;
        Ok(ConfirmEmailChangePayload {
            account_id: ID(account.to_string()),
            position: LogPosition(position),
        })
    }

    /// Ends the session of the bearer token; afterwards the token is refused with UNAUTHENTICATED.
    async fn sign_out(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The operation's input.")] input: Option<SignOutInput>,
    ) -> Result<SignOutPayload> {
        let principal = signed_in(ctx).await?;
        let (state, request) = context(ctx);
        let input = input.unwrap_or_default();
        let command = request.command(Actor::Account(principal.account.0), input.command_id);
        let position = sessions::sign_out(&state.store, &principal, &command)
            .await
            .map_err(ApiError::from_command)?;
        if request.cookie_session {
            ctx.append_http_header(
                axum::http::header::SET_COOKIE,
                state.session_cookie().clear(),
            );
        }
        Ok(SignOutPayload {
            position: position.map(LogPosition),
        })
    }
}
