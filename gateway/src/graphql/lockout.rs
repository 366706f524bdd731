//! Staff's view of lockout: locked accounts, one account's sign-in attempts, unlocking, and the lockout rules.

use async_graphql::{ComplexObject, Context, Enum, InputObject, Object, Result, SimpleObject, ID};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{DateTime, Utc};
use portal_commands::accounts;
use portal_commands::handler::Actor;
use portal_commands::organizations;
use portal_domain::account::Role;
use portal_domain::lockout::{LockoutMode, LockoutPolicy};
use portal_domain::organization::SecurityPolicy;
use portal_domain::session::Principal;
use portal_domain::AccountId;
use portal_projections::lockout;
use uuid::Uuid;

use super::changed::ChangedAccount;
use super::errors::ApiError;
use super::query::{account_id, applied, principal, projection_error, staff};
use super::types::{LogPosition, PageInfo};
use crate::access::Whose;
use crate::app::AppState;
use crate::request::RequestContext;

/// Staff queries about lockout.
#[derive(Default)]
pub struct LockoutQuery;

/// Staff mutations about lockout.
#[derive(Default)]
pub struct LockoutMutation;

/// A locked account.
#[derive(SimpleObject)]
pub struct LockedAccount {
    /// The lock (of one account, from `lockedSince`).
    pub id: ID,
    /// The account.
    pub account_id: ID,
    /// Its sign-in address.
    pub email: Option<String>,
    /// Given name.
    pub first_name: Option<String>,
    /// Family name.
    pub last_name: Option<String>,
    /// Failed sign-ins that led to the lock.
    pub failure_count: i32,
    /// The last failed sign-in.
    pub last_failure_at: Option<DateTime<Utc>>,
    /// When it was locked.
    pub locked_since: DateTime<Utc>,
    /// How it is locked.
    pub lock_kind: LockKind,
    /// When a cool-down lock lifts by itself.
    pub unlock_at: Option<DateTime<Utc>>,
}

/// How an account is locked.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum LockKind {
    /// Until staff unlock it.
    UntilStaffUnlock,
    /// For a cool-down.
    CoolDown,
}

/// An edge of [`LockedAccountConnection`].
#[derive(SimpleObject)]
pub struct LockedAccountEdge {
    /// Where this edge is, for `after`.
    pub cursor: String,
    /// The locked account.
    pub node: LockedAccount,
}

/// Locked accounts, newest lock first.
#[derive(SimpleObject)]
pub struct LockedAccountConnection {
    /// The page.
    pub edges: Vec<LockedAccountEdge>,
    /// Whether there is more.
    pub page_info: PageInfo,
}

/// One sign-in attempt.
#[derive(SimpleObject)]
pub struct SignInAttempt {
    /// The attempt.
    pub id: ID,
    /// When.
    pub at: DateTime<Utc>,
    /// `SUCCEEDED`, `WRONG_PASSWORD`, `ACCOUNT_LOCKED` or `NOT_ACTIVATED`.
    pub outcome: String,
    /// The client's address.
    pub client_ip: Option<String>,
    /// The client's user agent.
    pub user_agent: Option<String>,
}

fn cursor(locked_since: DateTime<Utc>, id: Uuid) -> String {
    URL_SAFE_NO_PAD.encode(format!("{}|{id}", locked_since.to_rfc3339()))
}

fn parse_cursor(text: &str) -> Result<(DateTime<Utc>, Uuid), ApiError> {
    let invalid =
        || ApiError::new("CURSOR_INVALID", "this cursor did not come from this list").on("after");
    let bytes = URL_SAFE_NO_PAD.decode(text).map_err(|_| invalid())?;
    let text = String::from_utf8(bytes).map_err(|_| invalid())?;
    let (time, id) = text.split_once('|').ok_or_else(invalid)?;
    let time = DateTime::parse_from_rfc3339(time)
        .map_err(|_| invalid())?
        .with_timezone(&Utc);
    Ok((time, Uuid::parse_str(id).map_err(|_| invalid())?))
}

fn page_size(first: i32) -> Result<i64, ApiError> {
    if (1..=100).contains(&first) {
        Ok(i64::from(first))
    } else {
        Err(ApiError::new("FIRST_OUT_OF_RANGE", "`first` is between 1 and 100").on("first"))
    }
}

#[Object]
impl LockoutQuery {
    /// Accounts of your organization that are locked now, newest lock first (staff only).
    async fn locked_accounts(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 20, desc = "Page size.")] first: i32,
        #[graphql(desc = "Cursor of the last item of the previous page (`pageInfo.endCursor`).")]
        after: Option<String>,
        #[graphql(
            desc = "Read your writes: wait until the read model has applied this log position (a mutation's `position`)."
        )]
        at_least: Option<LogPosition>,
    ) -> Result<LockedAccountConnection> {
        let staff = staff(ctx).await?;
        let limit = page_size(first)?;
        let after = after.as_deref().map(parse_cursor).transpose()?;
        let state = ctx.data_unchecked::<AppState>();
        applied(state, lockout::NAME, at_least).await?;
        let mut rows = lockout::locked_accounts(
            &state.pool,
            staff.organization.0,
            ctx.data_unchecked::<RequestContext>().now,
            after,
            limit + 1,
        )
        .await
        .map_err(projection_error)?;
        let has_next_page = rows.len() as i64 > limit;
        rows.truncate(limit as usize);
        // Locked patients are patients' data read by staff: in the access log before the page leaves.
        let patients: Vec<Whose> = rows
            .iter()
            .filter(|row| row.role.as_deref() == Some("patient"))
            .map(|row| Whose::account(row.account_id))
            .collect();
        super::access_log::audited(ctx, &staff, "lockout", "lockedAccounts", &patients).await?;
        let edges: Vec<LockedAccountEdge> = rows
            .into_iter()
            .map(|row| LockedAccountEdge {
                cursor: cursor(row.locked_since, row.account_id),
                node: LockedAccount {
                    id: super::ids::derived(
                        "LockedAccount",
                        &[&row.account_id, &row.locked_since.to_rfc3339()],
                    ),
                    account_id: ID(row.account_id.to_string()),
                    email: row.email,
                    first_name: row.first_name,
                    last_name: row.last_name,
                    failure_count: row.failure_count,
                    last_failure_at: row.last_failure_at,
                    locked_since: row.locked_since,
                    lock_kind: if row.lock_kind == "cool_down" {
                        LockKind::CoolDown
                    } else {
                        LockKind::UntilStaffUnlock
                    },
                    unlock_at: row.unlock_at,
                },
            })
            .collect();
        Ok(LockedAccountConnection {
            page_info: PageInfo::of(&edges, |e| &e.cursor, has_next_page, after.is_some()),
            edges,
        })
    }

    /// The most recent sign-in attempts on an account: your own, or, for staff, any of your organization's.
    async fn sign_in_attempts(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The account (yours, or for staff one of your organization).")] account_id: ID,
        #[graphql(default = 20, desc = "Page size.")] first: i32,
        #[graphql(
            desc = "Read your writes: wait until the read model has applied this log position (a mutation's `position`)."
        )]
        at_least: Option<LogPosition>,
    ) -> Result<Vec<SignInAttempt>> {
        let principal = principal(ctx).await?;
        let id = super::query::account_id(&account_id, "accountId")?;
        if id != principal.account.0 && principal.role != Role::Staff {
            return Err(ApiError::forbidden().into());
        }
        let limit = page_size(first)?;
        let state = ctx.data_unchecked::<AppState>();
        applied(state, lockout::NAME, at_least).await?;
        let attempts = lockout::recent_attempts(&state.pool, principal.organization.0, id, limit)
            .await
            .map_err(projection_error)?;
        if id != principal.account.0 {
            let account =
                portal_projections::accounts::find(&state.pool, principal.organization.0, id)
                    .await
                    .map_err(projection_error)?;
            if account.is_some_and(|a| a.role == "patient") {
                super::access_log::audited(
                    ctx,
                    &principal,
                    "sign_in_attempts",
                    "signInAttempts",
                    &[Whose::account(id)],
                )
                .await?;
            }
        }
        Ok(attempts
            .into_iter()
            .map(|a| SignInAttempt {
                id: super::ids::derived("SignInAttempt", &[&id, &a.at.to_rfc3339(), &a.outcome]),
                at: a.at,
                outcome: a.outcome.to_uppercase(),
                client_ip: a.client_ip,
                user_agent: a.user_agent,
            })
            .collect())
    }
}

/// Lifts the lock of an account of your organization.
#[derive(InputObject)]
pub struct UnlockAccountInput {
    /// The account.
    pub account_id: ID,
    /// Idempotency key.
    pub command_id: Option<Uuid>,
}

/// The lock is lifted; the person was told by e-mail.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct UnlockAccountPayload {
    /// The log position produced.
    pub position: LogPosition,
    #[graphql(skip)]
    changed: ChangedAccount,
}

answers_account!(UnlockAccountPayload, "The account as it now is (unlocked).");

/// Ends every session of an account of your organization.
#[derive(InputObject)]
pub struct EndSessionsInput {
    /// The account.
    pub account_id: ID,
    /// Idempotency key.
    pub command_id: Option<Uuid>,
}

/// The sessions ended.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct EndSessionsPayload {
    /// The log position produced; null when no session was open.
    pub position: Option<LogPosition>,
    #[graphql(skip)]
    changed: ChangedAccount,
}

answers_account!(EndSessionsPayload, "The account as it now is.");

/// Invites a new staff member of your organization.
#[derive(InputObject)]
pub struct InviteStaffInput {
    /// Optional courtesy title.
    pub title: Option<String>,
    /// Given name.
    pub first_name: String,
    /// Family name.
    pub last_name: String,
    /// Where the invitation goes; the new staff member signs in with it.
    pub email: String,
    /// What the new member does: STAFF (the default) or AUDITOR (reads history and the access log only).
    pub role: Option<StaffRole>,
    /// Idempotency key.
    pub command_id: Option<Uuid>,
}

/// Whose personal data to erase.
#[derive(InputObject)]
pub struct ErasePersonalDataInput {
    /// The account (a learner, patient or staff member of your organization).
    pub account_id: ID,
    /// Idempotency key.
    pub command_id: Option<Uuid>,
}

/// The erasure's outcome.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct ErasePersonalDataPayload {
    /// The log position produced; null when the person was erased before.
    pub position: Option<LogPosition>,
    #[graphql(skip)]
    changed: ChangedAccount,
}

answers_account!(
    ErasePersonalDataPayload,
    "The account as it now is (its personal data reads as null)."
);

/// The roles staff may invite.
#[derive(async_graphql::Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum StaffRole {
    /// A coordinator of the organization.
    Staff,
    /// An auditor: reads the organization's history and access log, changes nothing.
    Auditor,
    /// A provider: answers patients' messages, releases results, decides prescription renewals.
    Provider,
}

/// The invitation is on its way (the same answer whether or not the address already had an account).
#[derive(SimpleObject)]
pub struct InviteStaffPayload {
    /// What happens next.
    pub message: String,
}

/// Disables or enables an account of your organization.
#[derive(InputObject)]
pub struct SetAccountDisabledInput {
    /// The account.
    pub account_id: ID,
    /// True to disable, false to enable again.
    pub disabled: bool,
    /// Idempotency key.
    pub command_id: Option<Uuid>,
}

/// Done.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct SetAccountDisabledPayload {
    /// The log position produced; null when the account already was so.
    pub position: Option<LogPosition>,
    #[graphql(skip)]
    changed: ChangedAccount,
}

answers_account!(
    SetAccountDisabledPayload,
    "The account as it now is (`disabled`)."
);

/// How failed sign-ins lock accounts.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum LockoutModeInput {
    /// Until staff unlock the account.
    UntilStaffUnlock,
    /// For a cool-down that doubles with each lockout.
    CoolDown,
}

/// Your organization's security rules.
#[derive(InputObject)]
pub struct SetSecurityPolicyInput {
    /// Consecutive failed sign-ins that lock an account (1 to 100).
    pub lockout_threshold: i32,
    /// How long the lock lasts.
    pub lockout_mode: LockoutModeInput,
    /// The first cool-down in minutes (COOL_DOWN only; default 15).
    pub cool_down_minutes: Option<i32>,
    /// The longest cool-down in minutes (COOL_DOWN only; default 1440).
    pub max_cool_down_minutes: Option<i32>,
    /// How long a session lasts, in hours (1 to 24; default 12).
    pub session_hours: Option<i32>,
    /// How long a session may sit idle, in minutes (5 to 480; default 30).
    pub session_idle_minutes: Option<i32>,
    /// Idempotency key.
    pub command_id: Option<Uuid>,
}

/// The rules changed.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct SetSecurityPolicyPayload {
    /// The log position produced.
    pub position: LogPosition,
    #[graphql(skip)]
    organization: portal_domain::OrganizationId,
}

#[ComplexObject]
impl SetSecurityPolicyPayload {
    /// The rules as they now are (what `securityPolicy` answers).
    async fn security_policy(
        &self,
        ctx: &Context<'_>,
    ) -> Result<super::settings::SecurityPolicyView> {
        Ok(super::settings::security_policy_of(ctx, self.organization).await?)
    }
}

fn non_negative(value: i32, field: &str) -> Result<u32, ApiError> {
    u32::try_from(value)
        .map_err(|_| ApiError::new("POLICY_INVALID", "this number cannot be negative").on(field))
}

/// What a staff action on one account needs: the staff member, the account (parsed from `input.accountId`), the
/// application state and the command's context.
struct StaffOnAccount<'a> {
    staff: Principal,
    account: AccountId,
    state: &'a AppState,
    command: portal_commands::CommandContext,
}

async fn staff_on_account<'a>(
    ctx: &'a Context<'_>,
    account: &ID,
    command_id: Option<Uuid>,
) -> Result<StaffOnAccount<'a>, ApiError> {
    let staff = staff(ctx).await?;
    let account = AccountId(account_id(account, "input.accountId")?);
    let request = ctx.data_unchecked::<RequestContext>();
    let command = request.command(Actor::Account(staff.account.0), command_id);
    Ok(StaffOnAccount {
        staff,
        account,
        state: ctx.data_unchecked::<AppState>(),
        command,
    })
}

/// Refusals of a staff action on an account name `input.accountId`.
fn on_account(
    error: portal_commands::CommandError<portal_domain::account::AccountError>,
) -> ApiError {
    ApiError::from_command(error).on("input.accountId")
}

#[Object]
impl LockoutMutation {
    /// Unlocks an account of your organization (staff only); the person gets an e-mail.
    async fn unlock_account(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The operation's input.")] input: UnlockAccountInput,
    ) -> Result<UnlockAccountPayload> {
        let a = staff_on_account(ctx, &input.account_id, input.command_id).await?;
        let position = accounts::unlock(&a.state.store, &a.staff, a.account, &a.command)
            .await
            .map_err(on_account)?;
        Ok(UnlockAccountPayload {
            position: LogPosition(position),
            changed: ChangedAccount::new(&a.staff, a.account.0, Some(position)),
        })
    }

    /// Disables an account of your organization (its sessions end and nobody signs in to it), or enables it again
    /// (staff only).
    async fn set_account_disabled(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The operation's input.")] input: SetAccountDisabledInput,
    ) -> Result<SetAccountDisabledPayload> {
        let a = staff_on_account(ctx, &input.account_id, input.command_id).await?;
        let position = accounts::set_disabled(
            &a.state.store,
            &a.staff,
            a.account,
            input.disabled,
            &a.command,
        )
        .await
        .map_err(on_account)?;
        Ok(SetAccountDisabledPayload {
            position: position.map(LogPosition),
            changed: ChangedAccount::new(&a.staff, a.account.0, position),
        })
    }

    /// Erases a person's personal data (staff only; not your own account): their data keys are deleted, so every
    /// name, address, number and profile in the log reads as erased from now on, in replays, exports and rebuilt
    /// read models alike. The account stays, disabled for good; the erasure itself is an event. Erasing again
    /// changes nothing (position null).
    async fn erase_personal_data(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The operation's input.")] input: ErasePersonalDataInput,
    ) -> Result<ErasePersonalDataPayload> {
        let a = staff_on_account(ctx, &input.account_id, input.command_id).await?;
        if a.account == a.staff.account {
            return Err(ApiError::new(
                "ERASE_OWN_ACCOUNT",
                "another staff member must erase your account",
            )
            .on("input.accountId")
            .into());
        }
        let organization = organizations::find_by_id(&a.state.store, a.staff.organization)
            .await
            .map_err(|e| ApiError::internal(&e))?
            .ok_or_else(|| ApiError::internal(&"the staff member's organization is missing"))?;
        let position = portal_commands::erasure::erase_person(
            &a.state.store,
            &organization,
            a.account,
            portal_domain::account::ErasedBy::Staff {
                by: a.staff.account,
            },
            &a.command,
        )
        .await
        .map_err(on_account)?;
        Ok(ErasePersonalDataPayload {
            position: position.map(LogPosition),
            changed: ChangedAccount::new(&a.staff, a.account.0, position),
        })
    }

    /// Ends every open session of an account of your organization (staff only).
    async fn end_sessions(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The operation's input.")] input: EndSessionsInput,
    ) -> Result<EndSessionsPayload> {
        let a = staff_on_account(ctx, &input.account_id, input.command_id).await?;
        let position = accounts::end_sessions(&a.state.store, &a.staff, a.account, &a.command)
            .await
            .map_err(on_account)?;
        Ok(EndSessionsPayload {
            position: position.map(LogPosition),
            changed: ChangedAccount::new(&a.staff, a.account.0, position),
        })
    }

    /// Invites a new staff member (staff only): they get an e-mail with a link, valid 72 hours, to choose a password,
    /// which also activates their account.
    async fn invite_staff(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The operation's input.")] input: InviteStaffInput,
    ) -> Result<InviteStaffPayload> {
        let staff = staff(ctx).await?;
        let mut checked = super::inputs::Checked::default();
        let name = checked.person_name(
            input.title.as_deref(),
            &input.first_name,
            None,
            &input.last_name,
        );
        let email = checked.email("email", &input.email);
        checked.finish()?;
        let (Some(name), Some(email)) = (name, email) else {
            return Err(ApiError::internal(&"parsed input missing").into());
        };
        let state = ctx.data_unchecked::<AppState>();
        let request = ctx.data_unchecked::<RequestContext>();
        let organization = organizations::find_by_id(&state.store, staff.organization)
            .await
            .map_err(|e| ApiError::internal(&e))?
            .ok_or_else(|| ApiError::internal(&"the staff member's organization is missing"))?;
        let command = request.command(Actor::Account(staff.account.0), input.command_id);
        let role = match input.role.unwrap_or(StaffRole::Staff) {
            StaffRole::Staff => portal_domain::account::Role::Staff,
            StaffRole::Auditor => portal_domain::account::Role::Auditor,
            StaffRole::Provider => portal_domain::account::Role::Provider,
        };
        accounts::invite_staff(
            &state.store,
            &organization,
            &staff,
            name,
            email,
            role,
            &command,
        )
        .await
        .map_err(ApiError::from_command)?;
        Ok(InviteStaffPayload {
            message: "The invitation is on its way.".to_owned(),
        })
    }

    /// Sets your organization's lockout and session rules (staff only).
    async fn set_security_policy(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The operation's input.")] input: SetSecurityPolicyInput,
    ) -> Result<SetSecurityPolicyPayload> {
        let staff = staff(ctx).await?;
        let defaults = SecurityPolicy::default();
        let mode = match input.lockout_mode {
            LockoutModeInput::UntilStaffUnlock => LockoutMode::UntilStaffUnlock,
            LockoutModeInput::CoolDown => LockoutMode::CoolDown {
                first_minutes: non_negative(
                    input.cool_down_minutes.unwrap_or(15),
                    "input.coolDownMinutes",
                )?,
                max_minutes: non_negative(
                    input.max_cool_down_minutes.unwrap_or(24 * 60),
                    "input.maxCoolDownMinutes",
                )?,
            },
        };
        let policy = SecurityPolicy {
            lockout: LockoutPolicy {
                threshold: non_negative(input.lockout_threshold, "input.lockoutThreshold")?,
                mode,
            },
            session_hours: match input.session_hours {
                Some(hours) => non_negative(hours, "input.sessionHours")?,
                None => defaults.session_hours,
            },
            session_idle_minutes: match input.session_idle_minutes {
                Some(minutes) => non_negative(minutes, "input.sessionIdleMinutes")?,
                None => defaults.session_idle_minutes,
            },
        };
        let state = ctx.data_unchecked::<AppState>();
        let request = ctx.data_unchecked::<RequestContext>();
        let command = request.command(Actor::Account(staff.account.0), input.command_id);
        let position = organizations::set_security_policy(
            &state.store,
            staff.organization,
            policy,
            Some(staff.account),
            &command,
        )
        .await
        .map_err(ApiError::from_command)?;
        Ok(SetSecurityPolicyPayload {
            position: LogPosition(position),
            organization: staff.organization,
        })
    }

    /// Sets who in your organization must use two-step verification (staff only): from their next request, those
    /// without it are answered TWO_STEP_SETUP_REQUIRED until they set it up, and nobody covered can turn it off.
    async fn set_two_step_requirement(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Who must use it.")] required: super::settings::TwoStepRequirementChoice,
        #[graphql(
            desc = "Idempotency key: a retry with the same id returns the first answer instead of acting twice."
        )]
        command_id: Option<Uuid>,
    ) -> Result<SetSecurityPolicyPayload> {
        let staff = staff(ctx).await?;
        let state = ctx.data_unchecked::<AppState>();
        let request = ctx.data_unchecked::<RequestContext>();
        let command = request.command(Actor::Account(staff.account.0), command_id);
        let position = organizations::set_two_step_requirement(
            &state.store,
            staff.organization,
            required.into(),
            Some(staff.account),
            &command,
        )
        .await
        .map_err(ApiError::from_command)?;
        Ok(SetSecurityPolicyPayload {
            position: LogPosition(position),
            organization: staff.organization,
        })
    }
}
