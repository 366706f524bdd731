//! Account commands: register, activate, resend the activation link, sign in.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use portal_domain::account::{
    Account, AccountCommand, AccountError, AccountEvent, AccountState, PasswordCheck,
    PasswordConfirmation, Registration, ResetPurpose, Role, SignInFailure,
};
use portal_domain::session::Principal;
use portal_domain::values::{
    EmailAddress, MessageKind, Password, PasswordHash, PersonName, ProfileDetails,
};
use portal_domain::{AccountId, Decider, OrganizationId, Personal, SessionId};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::credentials::{self, PasswordHasher};
use crate::handler::{
    append_error, back_off, execute, CommandContext, CommandError, EndsSessions, Plan, MAX_ATTEMPTS,
};
use crate::links::{self, PortalPage};
use crate::log::{
    AppendError, Claim, CommandRecord, Commit, EventLog, ExpectedVersion, StreamId, StreamWrite,
};
use crate::messages;
use crate::organizations::OrganizationSummary;
use crate::sessions;
use crate::store::Store;

/// Uniqueness kind of sign-in addresses (scope: the organization).
pub(crate) const EMAIL_CLAIM: &str = "email";

/// The stream of an account.
pub fn stream(id: AccountId) -> StreamId {
    StreamId::new(Account::CATEGORY, id.0)
}

/// A registration as the API receives it, already parsed.
#[derive(Clone, Debug)]
pub struct NewAccount {
    /// The person's name.
    pub name: PersonName,
    /// The sign-in address.
    pub email: EmailAddress,
    /// The chosen password (policy already applied).
    pub password: Password,
    /// The role (the public API only registers learners).
    pub role: Role,
}

/// What registering did. The API answers the same whether or not the address was new.
#[derive(Debug)]
pub struct Registered {
    /// Position of the last event appended.
    pub last_position: Option<i64>,
    /// The activation token, for in-process callers (the demo) only; never returned over the API.
    pub activation_token: Option<String>,
    /// The new account, when one was created now.
    pub account: Option<AccountId>,
}

pub(crate) async fn hash_password(
    passwords: &Arc<PasswordHasher>,
    password: Password,
) -> Result<PasswordHash, CommandError<AccountError>> {
    let passwords = Arc::clone(passwords);
    let slot = passwords.slot().await.map_err(|_| CommandError::Busy)?;
    tokio::task::spawn_blocking(move || {
        let _slot = slot;
        passwords.hash(&password)
    })
    .await
    .map_err(|e| CommandError::Internal(e.to_string()))?
    .map_err(|e| CommandError::Internal(e.to_string()))
}

pub(crate) async fn check_password(
    passwords: &Arc<PasswordHasher>,
    hash: Option<PasswordHash>,
    candidate: &str,
) -> Result<PasswordCheck, CommandError<AccountError>> {
    let passwords = Arc::clone(passwords);
    let candidate = candidate.to_owned();
    let slot = passwords.slot().await.map_err(|_| CommandError::Busy)?;
    let matched = tokio::task::spawn_blocking(move || {
        let _slot = slot;
        match hash {
            Some(hash) => passwords.verify(&hash, &candidate),
            None => passwords.verify_nothing(&candidate),
        }
    })
    .await
    .map_err(|e| CommandError::Internal(e.to_string()))?;
    Ok(if matched {
        PasswordCheck::Matched
    } else {
        PasswordCheck::Mismatched
    })
}

/// A wrong current password: recorded against the account, where it counts towards the lockout like a wrong
/// sign-in (at the organization's threshold the account locks and its sessions end, the one in use included), then
/// refused with CURRENT_PASSWORD_INVALID. The record goes under a command id derived from the request's, so that a
/// retry of the same request is not counted twice and a retry with the right password still runs.
pub(crate) async fn refuse_current_password<L: EventLog>(
    store: &Store<L>,
    principal: &Principal,
    during: PasswordConfirmation,
    ctx: &CommandContext,
) -> CommandError<AccountError> {
    let refused = CommandError::Rejected(AccountError::CurrentPasswordInvalid);
    let policy = match crate::organizations::find_by_id(store, principal.organization).await {
        Ok(Some(organization)) => organization.policy,
        Ok(None) => return refused,
        Err(error) => return error.into(),
    };
    let record = CommandContext {
        command_id: crate::activities::derived_id("RefuseCurrentPassword", ctx.command_id),
        ..ctx.clone()
    };
    let fingerprint = store
        .secrets
        .fingerprint("RefuseCurrentPassword", &[principal.account.0.as_bytes()]);
    match execute::<L, Account>(
        store,
        &stream(principal.account),
        Some(principal.account.0),
        &record,
        "RefuseCurrentPassword",
        fingerprint,
        |state| {
            let profile = state.profile().ok_or(AccountError::NotFound)?;
            Ok(Plan::command(
                profile.organization.0,
                AccountCommand::RefuseCurrentPassword { during, policy },
            ))
        },
    )
    .await
    {
        Ok(_) => refused,
        Err(error) => error,
    }
}

/// The link of a password-reset (or staff invitation) e-mail: the organization's portal's page for a new password.
pub(crate) fn reset_link<L: EventLog>(
    store: &Store<L>,
    organization: &OrganizationSummary,
    token: &str,
) -> String {
    portal_link(store, organization, PortalPage::ResetPassword, token)
}

/// A link with a token to one of the organization's portal's pages.
fn portal_link<L: EventLog>(
    store: &Store<L>,
    organization: &OrganizationSummary,
    page: PortalPage,
    token: &str,
) -> String {
    links::portal_link(&store.public_url, &organization.code, page, Some(token))
}

/// The link of an activation e-mail: the organization's portal's activation page.
pub(crate) fn activation_link<L: EventLog>(
    store: &Store<L>,
    organization: &OrganizationSummary,
    token: &str,
) -> String {
    portal_link(store, organization, PortalPage::Activate, token)
}

pub(crate) fn email_key<L: EventLog>(store: &Store<L>, email: &EmailAddress) -> Vec<u8> {
    store.secrets.index_hash(EMAIL_CLAIM, &email.canonical())
}

/// Sends one message without recording an event (an answer about an address that has no account of its own here).
async fn send_only<L: EventLog>(
    store: &Store<L>,
    tenant: Uuid,
    ctx: &CommandContext,
    command: &str,
    message: crate::log::OutboxMessage,
) -> Result<(), CommandError<AccountError>> {
    let commit = Commit {
        tenant,
        writes: vec![],
        metadata: ctx.metadata(command),
        command: None,
        claims: vec![],
        releases: vec![],
        outbox: vec![message],
        ..Default::default()
    };
    store.append(commit).await.map_err(append_error)?;
    Ok(())
}

/// A message to the person on file, unless their address or name was erased.
fn tell(
    profile: &portal_domain::account::Profile,
    message: impl FnOnce(&EmailAddress, &str) -> crate::log::OutboxMessage,
) -> Vec<crate::log::OutboxMessage> {
    match (&profile.email, &profile.name) {
        (Personal::Known(to), Personal::Known(name)) => vec![message(to, name.salutation())],
        _ => vec![],
    }
}

/// The account that signs in with `email` in the organization, if any.
pub async fn find_by_email<L: EventLog>(
    store: &Store<L>,
    organization: &OrganizationSummary,
    email: &EmailAddress,
) -> Result<Option<AccountId>, CommandError<AccountError>> {
    let owner = store
        .log
        .find_claim(organization.id.0, EMAIL_CLAIM, &email_key(store, email))
        .await?;
    Ok(owner.and_then(|stream| stream.id()).map(AccountId))
}

/// Registers an account and e-mails the activation link. When the address already has an account, nothing is
/// created: the owner is told by e-mail instead, and the caller cannot tell the two apart.
pub async fn register<L: EventLog>(
    store: &Store<L>,
    organization: &OrganizationSummary,
    input: NewAccount,
    ctx: &CommandContext,
) -> Result<Registered, CommandError<AccountError>> {
    no_sooner_than(
        ANSWER_FLOOR,
        register_account(store, organization, input, ctx, true),
    )
    .await
}

/// The least time the answers about an address take (registering, resending an activation link, asking for a
/// reset), whether an account uses the address or not. A known address costs more database work (an event, a
/// second commit for a repeated registration) than an unknown one; the floor, well above that work, hides it from
/// whoever times the answers.
pub const ANSWER_FLOOR: std::time::Duration = std::time::Duration::from_millis(300);

/// Runs `work`, and answers no sooner than `floor` after it started.
pub async fn no_sooner_than<T>(
    floor: std::time::Duration,
    work: impl std::future::Future<Output = T>,
) -> T {
    let started = tokio::time::Instant::now();
    let answer = work.await;
    tokio::time::sleep_until(started + floor).await;
    answer
}

async fn register_account<L: EventLog>(
    store: &Store<L>,
    organization: &OrganizationSummary,
    input: NewAccount,
    ctx: &CommandContext,
    send_activation: bool,
) -> Result<Registered, CommandError<AccountError>> {
    let fingerprint = store.secrets.fingerprint(
        "RegisterAccount",
        &[
            organization.id.0.as_bytes(),
            input.email.canonical().as_bytes(),
            input.password.expose().as_bytes(),
        ],
    );
    // Hashing first, on both paths, keeps the answer's timing the same for new and known addresses.
    let password_hash = hash_password(&store.passwords, input.password.clone()).await?;
    let id = AccountId(Uuid::new_v4());
    let account_stream = stream(id);
    let (token, token_hash) = credentials::new_token(id.0);
    let claim = Claim {
        scope: organization.id.0,
        kind: EMAIL_CLAIM.to_owned(),
        key: email_key(store, &input.email),
        owner: account_stream.clone(),
    };
    let outbox = messages::activation(
        &input.email,
        input.name.salutation(),
        &activation_link(store, organization, &token),
        ctx.now,
    );
    let registration = Registration {
        id,
        organization: organization.id,
        role: input.role,
        name: input.name.clone(),
        email: input.email.clone(),
        password_hash,
        activation: token_hash,
    };
    let result = execute::<L, Account>(
        store,
        &account_stream,
        Some(id.0),
        ctx,
        "RegisterAccount",
        fingerprint.clone(),
        |_| {
            Ok(Plan {
                tenant: organization.id.0,
                command: AccountCommand::Register(registration.clone()),
                claims: vec![claim.clone()],
                releases: vec![],
                // An invited staff member gets the invitation instead, whose link also activates.
                outbox: if send_activation {
                    vec![outbox.clone()]
                } else {
                    vec![]
                },
                follow_up: None,
            })
        },
    )
    .await;
    match result {
        Ok(executed) if executed.replayed.is_some() => Ok(Registered {
            last_position: executed.last_position,
            activation_token: None,
            account: None,
        }),
        Ok(executed) => Ok(Registered {
            last_position: executed.last_position,
            activation_token: Some(token),
            account: Some(id),
        }),
        Err(CommandError::Taken { owner, .. }) => {
            let position = note_repeated_registration(
                store,
                organization,
                &owner,
                &input.email,
                ctx,
                fingerprint,
            )
            .await?;
            Ok(Registered {
                last_position: position,
                activation_token: None,
                account: None,
            })
        }
        Err(other) => Err(other),
    }
}

async fn note_repeated_registration<L: EventLog>(
    store: &Store<L>,
    organization: &OrganizationSummary,
    owner: &StreamId,
    email: &EmailAddress,
    ctx: &CommandContext,
    fingerprint: Vec<u8>,
) -> Result<Option<i64>, CommandError<AccountError>> {
    let subject = owner.id();
    let executed = execute::<L, Account>(
        store,
        owner,
        subject,
        ctx,
        "RegisterAccount",
        fingerprint,
        |state| {
            let profile = state.profile();
            let salutation = match profile.map(|p| &p.name) {
                Some(Personal::Known(name)) => name.salutation().to_owned(),
                _ => "there".to_owned(),
            };
            // The notice goes to the address on file, not to the spelling the caller typed.
            let to = match profile.map(|p| &p.email) {
                Some(Personal::Known(on_file)) => on_file,
                _ => email,
            };
            Ok(Plan::with_outbox(
                organization.id.0,
                AccountCommand::NoteRepeatedRegistration,
                vec![messages::repeated_registration(to, &salutation, ctx.now)],
            ))
        },
    )
    .await?;
    Ok(executed.last_position)
}

/// Activates the account an activation token belongs to.
pub async fn activate<L: EventLog>(
    store: &Store<L>,
    token: &str,
    ctx: &CommandContext,
) -> Result<(AccountId, i64), CommandError<AccountError>> {
    let (id, token_hash) = credentials::parse_token(token)
        .ok_or(CommandError::Rejected(AccountError::ActivationTokenInvalid))?;
    let id = AccountId(id);
    let fingerprint = store
        .secrets
        .fingerprint("ActivateAccount", &[token.as_bytes()]);
    let executed = execute::<L, Account>(
        store,
        &stream(id),
        Some(id.0),
        ctx,
        "ActivateAccount",
        fingerprint,
        |state| {
            let tenant = state
                .profile()
                .map(|p| p.organization.0)
                .ok_or(AccountError::ActivationTokenInvalid)?;
            Ok(Plan::command(
                tenant,
                AccountCommand::Activate { token_hash },
            ))
        },
    )
    .await?;
    Ok((id, executed.last_position.unwrap_or_default()))
}

/// Sends a new activation link if the address has an account waiting for activation; otherwise does nothing.
/// Either way the caller learns nothing.
pub async fn resend_activation<L: EventLog>(
    store: &Store<L>,
    organization: &OrganizationSummary,
    email: &EmailAddress,
    ctx: &CommandContext,
) -> Result<Option<String>, CommandError<AccountError>> {
    no_sooner_than(
        ANSWER_FLOOR,
        resend_activation_now(store, organization, email, ctx),
    )
    .await
}

async fn resend_activation_now<L: EventLog>(
    store: &Store<L>,
    organization: &OrganizationSummary,
    email: &EmailAddress,
    ctx: &CommandContext,
) -> Result<Option<String>, CommandError<AccountError>> {
    let Some(id) = find_by_email(store, organization, email).await? else {
        return Ok(None);
    };
    let (token, token_hash) = credentials::new_token(id.0);
    let fingerprint = store.secrets.fingerprint(
        "ResendActivation",
        &[organization.id.0.as_bytes(), email.canonical().as_bytes()],
    );
    let link = activation_link(store, organization, &token);
    let result = execute::<L, Account>(
        store,
        &stream(id),
        Some(id.0),
        ctx,
        "ResendActivation",
        fingerprint,
        |state| {
            let profile = state.profile().ok_or(AccountError::NotFound)?;
            let (Personal::Known(name), Personal::Known(to)) = (&profile.name, &profile.email)
            else {
                return Err(AccountError::NotFound);
            };
            Ok(Plan::with_outbox(
                organization.id.0,
                AccountCommand::ResendActivation { token_hash },
                vec![messages::activation(to, name.salutation(), &link, ctx.now)],
            ))
        },
    )
    .await;
    match result {
        Ok(executed) if executed.replayed.is_none() => Ok(Some(token)),
        Ok(_)
        | Err(CommandError::Rejected(AccountError::AlreadyActive | AccountError::NotFound)) => {
            Ok(None)
        }
        Err(other) => Err(other),
    }
}

/// A successful sign-in.
#[derive(Clone, Debug, PartialEq)]
pub struct SignedIn {
    /// The bearer token (shown once; only its hash is stored).
    pub token: String,
    /// The session.
    pub session: SessionId,
    /// The account.
    pub account: AccountId,
    /// When the session ends at the latest.
    pub expires_at: DateTime<Utc>,
    /// The device session opened with it, when the sign-in came from an app.
    pub device: Option<crate::devices::IssuedDevice>,
    /// Position of the last event appended.
    pub last_position: i64,
}

pub(crate) fn sealed_outcome<L: EventLog>(store: &Store<L>, signed_in: &SignedIn) -> Value {
    json!({
        "token": store.secrets.seal(signed_in.token.as_bytes()),
        "session": signed_in.session,
        "account": signed_in.account,
        "expires_at": signed_in.expires_at,
        "device": signed_in.device.as_ref().map(|device| device.sealed(store)),
    })
}

pub(crate) fn open_outcome<L: EventLog>(
    store: &Store<L>,
    outcome: &Value,
    last_position: i64,
) -> Option<SignedIn> {
    let token = store.secrets.open(outcome.get("token")?.as_str()?)?;
    Some(SignedIn {
        token: String::from_utf8(token).ok()?,
        session: serde_json::from_value(outcome.get("session")?.clone()).ok()?,
        account: serde_json::from_value(outcome.get("account")?.clone()).ok()?,
        expires_at: serde_json::from_value(outcome.get("expires_at")?.clone()).ok()?,
        device: match outcome.get("device") {
            Some(device) if !device.is_null() => {
                Some(crate::devices::IssuedDevice::open(store, device)?)
            }
            _ => None,
        },
        last_position,
    })
}

/// How a person names their account when signing in.
#[derive(Clone, Debug)]
pub enum Login {
    /// The sign-in address.
    Email(EmailAddress),
    /// The username (patients).
    Username(portal_domain::values::Username),
}

impl Login {
    /// The login as a stable key (for fingerprints and throttling), never shown.
    pub fn key(&self) -> String {
        match self {
            Login::Email(email) => format!("email:{}", email.canonical()),
            Login::Username(username) => format!("username:{}", username.as_str()),
        }
    }
}

/// Signs in with e-mail and password. Every attempt on an existing account is recorded; an unknown address and a
/// wrong password give the same refusal in the same time.
pub async fn sign_in<L: EventLog>(
    store: &Store<L>,
    organization: &OrganizationSummary,
    email: &EmailAddress,
    password: &str,
    ctx: &CommandContext,
) -> Result<SignedIn, CommandError<AccountError>> {
    sign_in_as(
        store,
        organization,
        &Login::Email(email.clone()),
        password,
        ctx,
    )
    .await
}

/// Signs in with an e-mail address or a username, and a password; an account with two-step verification is refused
/// with TWO_STEP_REQUIRED (use [`sign_in_steps`]).
pub async fn sign_in_as<L: EventLog>(
    store: &Store<L>,
    organization: &OrganizationSummary,
    login: &Login,
    password: &str,
    ctx: &CommandContext,
) -> Result<SignedIn, CommandError<AccountError>> {
    match sign_in_steps(store, organization, login, password, None, ctx).await? {
        SignInStep::Session(signed_in) => Ok(signed_in),
        SignInStep::SecondStep(_) => Err(CommandError::Rejected(AccountError::SecondStepRequired)),
    }
}

/// Where a sign-in stands after the password.
#[derive(Debug)]
pub enum SignInStep {
    /// Signed in.
    Session(SignedIn),
    /// The password was right; the second step is asked for.
    SecondStep(SecondStepChallenge),
}

/// A sign-in waiting for its second step.
#[derive(Debug)]
pub struct SecondStepChallenge {
    /// The token to present with the code (only its hash is kept).
    pub token: String,
    /// When it expires.
    pub expires_at: chrono::DateTime<Utc>,
    /// Position of the last event appended.
    pub last_position: i64,
}

/// Signs in with a login and password; with two-step verification on, a right password gets a challenge that
/// [`crate::two_step::complete_sign_in`] answers.
pub async fn sign_in_steps<L: EventLog>(
    store: &Store<L>,
    organization: &OrganizationSummary,
    login: &Login,
    password: &str,
    device: Option<&crate::devices::DeviceSignIn>,
    ctx: &CommandContext,
) -> Result<SignInStep, CommandError<AccountError>> {
    let started = tokio::time::Instant::now();
    let result = attempt_sign_in(store, organization, login, password, device, ctx).await;
    if matches!(
        result,
        Err(CommandError::Rejected(AccountError::InvalidCredentials))
    ) {
        // An unknown address and a wrong password do different database work around the same password hash; a
        // common floor hides the difference (a few milliseconds) from whoever times the answers.
        tokio::time::sleep_until(started + REFUSAL_FLOOR).await;
    }
    result
}

/// The write that starts the session of a successful sign-in, and what the caller is told: `events` are the
/// sign-in's, whose `SignInSucceeded` says until when, and whose `DeviceSessionStarted`, if any, says the session is
/// an app's (short, and idle no longer than it lasts).
pub(crate) async fn start_session<L: EventLog>(
    store: &Store<L>,
    organization: &OrganizationSummary,
    principal: Principal,
    events: &[AccountEvent],
    device: Option<&crate::devices::PendingDevice>,
    ctx: &CommandContext,
) -> Result<Option<(StreamWrite, SignedIn)>, CommandError<AccountError>> {
    let Some(expires_at) = events.iter().find_map(|event| match event {
        AccountEvent::SignInSucceeded(succeeded) => Some(succeeded.session_expires_at),
        _ => None,
    }) else {
        return Ok(None);
    };
    let device = device.and_then(|pending| pending.issued(events));
    let idle_minutes = match device {
        Some(_) => portal_domain::device::ACCESS_MINUTES as u32,
        None => organization.policy.session_idle_minutes,
    };
    let (session, account) = (principal.session, principal.account);
    let (write, token) =
        sessions::opening(store, principal, expires_at, idle_minutes, ctx.now).await?;
    Ok(Some((
        write,
        SignedIn {
            token,
            session,
            account,
            expires_at,
            device,
            last_position: 0,
        },
    )))
}

/// The least time an INVALID_CREDENTIALS answer takes.
pub const REFUSAL_FLOOR: std::time::Duration = std::time::Duration::from_millis(120);

async fn attempt_sign_in<L: EventLog>(
    store: &Store<L>,
    organization: &OrganizationSummary,
    login: &Login,
    password: &str,
    device: Option<&crate::devices::DeviceSignIn>,
    ctx: &CommandContext,
) -> Result<SignInStep, CommandError<AccountError>> {
    // The password is no part of the fingerprint: a retry with another password is a wrong password (checked
    // with argon2id and counted), not a quick "this key was used for something else" that would tell a guesser
    // whether their guess matched the first request's.
    let fingerprint = store.secrets.fingerprint(
        "SignIn",
        &[organization.id.0.as_bytes(), login.key().as_bytes()],
    );
    let found = match login {
        Login::Email(email) => find_by_email(store, organization, email).await?,
        Login::Username(username) => {
            crate::patients::find_by_username(store, organization.id, username).await?
        }
    };
    if let Some(replayed) = store.log.find_command(ctx.command_id).await? {
        if replayed.record.fingerprint != fingerprint {
            return Err(CommandError::IdempotencyKeyReused);
        }
        // A retry hands back the session of the first answer only to someone who knows the password now.
        let state = match found {
            Some(id) => load(store, id).await?,
            None => AccountState::default(),
        };
        let hash = state
            .profile()
            .and_then(|p| p.password_hash.known().cloned());
        let stored = open_outcome(store, &replayed.record.outcome, replayed.last_position);
        if let (PasswordCheck::Matched, Some(signed_in)) = (
            check_password(&store.passwords, hash, password).await?,
            stored,
        ) {
            return Ok(SignInStep::Session(signed_in));
        }
        // Otherwise it is an attempt of its own: recorded, counted, and answered as any other.
        let fresh = CommandContext {
            command_id: Uuid::new_v4(),
            ..ctx.clone()
        };
        return Box::pin(attempt_sign_in(
            store,
            organization,
            login,
            password,
            device,
            &fresh,
        ))
        .await;
    }
    let Some(id) = found else {
        check_password(&store.passwords, None, password).await?;
        return Err(CommandError::Rejected(AccountError::InvalidCredentials));
    };
    let account_stream = stream(id);
    let session = SessionId(Uuid::new_v4());
    let (challenge_token, challenge_hash) = credentials::new_token(id.0);
    let sent_code = crate::two_step::new_sent_code();
    let sent_code_hash = crate::two_step::sent_code_hash(store, id.0, &challenge_hash, &sent_code);
    let pending_device = device.map(|device| crate::devices::PendingDevice::new(device, id));
    let mut checked: Option<PasswordCheck> = None;
    for attempt in 0..MAX_ATTEMPTS {
        if attempt > 0 {
            back_off(attempt).await;
        }
        let (state, version) = store.load::<Account>(&account_stream).await?;
        let Some(profile) = state.profile() else {
            return Err(CommandError::Rejected(AccountError::InvalidCredentials));
        };
        // The password is checked once, even if the append has to be retried.
        let check = match checked {
            Some(check) => check,
            None => {
                let check = check_password(
                    &store.passwords,
                    profile.password_hash.known().cloned(),
                    password,
                )
                .await?;
                checked = Some(check);
                check
            }
        };
        let events = Account::decide(
            &state,
            AccountCommand::SignIn {
                password: check,
                challenge: challenge_hash,
                code: sent_code_hash,
                session,
                policy: organization.policy,
                device: pending_device
                    .as_ref()
                    .map(|pending| pending.request(organization)),
            },
            ctx.now,
        )
        .map_err(CommandError::Rejected)?;
        let mut writes = vec![StreamWrite {
            stream: account_stream.clone(),
            expected: ExpectedVersion::Exact(version),
            events: store.encode(Some(id.0), &events).await?,
        }];
        writes.extend(sessions::end_writes(store, &Account::sessions_to_end(&events), ctx).await?);
        let refusal = events.iter().find_map(|event| match event {
            AccountEvent::SignInFailed(failed) => Some(match failed.reason {
                SignInFailure::WrongPassword => AccountError::InvalidCredentials,
                SignInFailure::AccountLocked => AccountError::Locked {
                    until: profile
                        .guard
                        .active_lock(ctx.now)
                        .and_then(|lock| lock.until),
                },
                SignInFailure::NotActivated => AccountError::NotActivated,
                SignInFailure::AccountDisabled => AccountError::Disabled,
            }),
            _ => None,
        });
        let mut outcome = None;
        let mut command = None;
        let principal = Principal {
            session,
            account: id,
            organization: profile.organization,
            role: profile.role,
        };
        if let Some((session_write, signed_in)) = start_session(
            store,
            organization,
            principal,
            &events,
            pending_device.as_ref(),
            ctx,
        )
        .await?
        {
            writes.push(session_write);
            command = Some(CommandRecord {
                command_id: ctx.command_id,
                fingerprint: fingerprint.clone(),
                outcome: sealed_outcome(store, &signed_in),
            });
            outcome = Some(SignInStep::Session(signed_in));
        }
        let mut outbox = vec![];
        if let Some(AccountEvent::SecondFactorRequired(required)) = events.first() {
            if required.code.is_some() {
                outbox.extend(crate::two_step::code_message(profile, &sent_code, ctx.now));
            }
            outcome = Some(SignInStep::SecondStep(SecondStepChallenge {
                token: challenge_token.clone(),
                expires_at: required.expires_at,
                last_position: 0,
            }));
        }
        let commit = Commit {
            tenant: profile.organization.0,
            writes,
            metadata: ctx.metadata("SignIn"),
            command,
            claims: vec![],
            releases: vec![],
            outbox,
            ..Default::default()
        };
        match store.append(commit).await {
            Ok(committed) if committed.replayed => {
                let recorded = committed.outcome.unwrap_or(Value::Null);
                return open_outcome(store, &recorded, committed.last_position)
                    .map(SignInStep::Session)
                    .ok_or(CommandError::Rejected(AccountError::InvalidCredentials));
            }
            Ok(committed) => {
                return match outcome {
                    Some(SignInStep::Session(signed_in)) => Ok(SignInStep::Session(SignedIn {
                        last_position: committed.last_position,
                        ..signed_in
                    })),
                    Some(SignInStep::SecondStep(challenge)) => {
                        Ok(SignInStep::SecondStep(SecondStepChallenge {
                            last_position: committed.last_position,
                            ..challenge
                        }))
                    }
                    None => Err(CommandError::Rejected(
                        refusal.unwrap_or(AccountError::InvalidCredentials),
                    )),
                }
            }
            Err(AppendError::WrongExpectedVersion { .. }) => continue,
            Err(error) => return Err(append_error(error)),
        }
    }
    Err(CommandError::Conflict(MAX_ATTEMPTS, account_stream))
}

/// Loads an account's current state (for queries that must not wait for a projection).
pub async fn load<L: EventLog>(
    store: &Store<L>,
    id: AccountId,
) -> Result<AccountState, CommandError<AccountError>> {
    Ok(store.load::<Account>(&stream(id)).await?.0)
}

/// Staff lift the lock of an account of their own organization; the person is told by e-mail.
pub async fn unlock<L: EventLog>(
    store: &Store<L>,
    staff: &Principal,
    account: AccountId,
    ctx: &CommandContext,
) -> Result<i64, CommandError<AccountError>> {
    let fingerprint = store
        .secrets
        .fingerprint("UnlockAccount", &[account.0.as_bytes()]);
    let organization = staff.organization;
    let executed = execute::<L, Account>(
        store,
        &stream(account),
        Some(account.0),
        ctx,
        "UnlockAccount",
        fingerprint,
        |state| {
            // Another organization's account is reported as missing, never as someone else's.
            let profile = state
                .profile()
                .filter(|p| p.organization == organization)
                .ok_or(AccountError::NotFound)?;
            let outbox = tell(profile, |to, salutation| {
                messages::unlocked(to, salutation, ctx.now)
            });
            Ok(Plan::with_outbox(
                organization.0,
                AccountCommand::Unlock { by: staff.account },
                outbox,
            ))
        },
    )
    .await?;
    Ok(executed.last_position.unwrap_or_default())
}

/// Answers a password-reset request: a single-use link (valid one hour) to an address with an account, or an
/// e-mail saying no account uses it. The caller learns nothing either way.
pub async fn request_password_reset<L: EventLog>(
    store: &Store<L>,
    organization: &OrganizationSummary,
    login: &Login,
    ctx: &CommandContext,
) -> Result<(), CommandError<AccountError>> {
    no_sooner_than(
        ANSWER_FLOOR,
        request_password_reset_now(store, organization, login, ctx),
    )
    .await
}

async fn request_password_reset_now<L: EventLog>(
    store: &Store<L>,
    organization: &OrganizationSummary,
    login: &Login,
    ctx: &CommandContext,
) -> Result<(), CommandError<AccountError>> {
    let fingerprint = store.secrets.fingerprint(
        "RequestPasswordReset",
        &[organization.id.0.as_bytes(), login.key().as_bytes()],
    );
    let found = match login {
        Login::Email(email) => find_by_email(store, organization, email).await?,
        Login::Username(username) => {
            crate::patients::find_by_username(store, organization.id, username).await?
        }
    };
    let Some(id) = found else {
        // A username nobody has has no address to write to: nothing is sent, and the answer is the same.
        let Login::Email(email) = login else {
            return Ok(());
        };
        let register = links::portal_link(
            &store.public_url,
            &organization.code,
            PortalPage::Register,
            None,
        );
        send_only(
            store,
            organization.id.0,
            ctx,
            "RequestPasswordReset",
            messages::no_account(email, &register, ctx.now),
        )
        .await?;
        return Ok(());
    };
    let (token, token_hash) = credentials::new_token(id.0);
    let link = reset_link(store, organization, &token);
    execute::<L, Account>(
        store,
        &stream(id),
        Some(id.0),
        ctx,
        "RequestPasswordReset",
        fingerprint,
        |state| {
            let profile = state.profile().ok_or(AccountError::NotFound)?;
            let outbox = tell(profile, |to, salutation| {
                messages::password_reset(to, salutation, &link, ctx.now)
            });
            Ok(Plan::with_outbox(
                organization.id.0,
                AccountCommand::RequestPasswordReset {
                    token_hash,
                    purpose: ResetPurpose::Forgotten,
                },
                outbox,
            ))
        },
    )
    .await?;
    Ok(())
}

/// "Forgot your username?" (seed 001): e-mails the username of the account that uses `email` to that address. An
/// address without an account gets nothing; the caller's answer is the same either way, in the same time.
pub async fn remind_username<L: EventLog>(
    store: &Store<L>,
    organization: &OrganizationSummary,
    email: &EmailAddress,
    ctx: &CommandContext,
) -> Result<(), CommandError<AccountError>> {
    no_sooner_than(ANSWER_FLOOR, async {
        let Some(id) = find_by_email(store, organization, email).await? else {
            return Ok(());
        };
        let state = load(store, id).await?;
        let Some(profile) = state.profile() else {
            return Ok(());
        };
        // An account without a username signs in with its address, which the reminder then says.
        let username = match &profile.username {
            Some(Personal::Known(username)) => username.as_str().to_owned(),
            Some(Personal::Erased) => return Ok(()),
            None => email.as_str().to_owned(),
        };
        match tell(profile, |to, salutation| {
            messages::username_reminder(to, salutation, &username, ctx.now)
        })
        .pop()
        {
            Some(message) => {
                send_only(store, organization.id.0, ctx, "RemindUsername", message).await
            }
            None => Ok(()),
        }
    })
    .await
}

/// Sets a new password from a reset link; the account's sessions end in the same commit.
pub async fn reset_password<L: EventLog>(
    store: &Store<L>,
    token: &str,
    password: Password,
    ctx: &CommandContext,
) -> Result<(AccountId, i64), CommandError<AccountError>> {
    let (id, token_hash) = credentials::parse_token(token)
        .ok_or(CommandError::Rejected(AccountError::ResetTokenInvalid))?;
    let id = AccountId(id);
    let fingerprint = store.secrets.fingerprint(
        "ResetPassword",
        &[token.as_bytes(), password.expose().as_bytes()],
    );
    // The link is checked before the new password is hashed: a wrong or stale link costs no argon2id work. (A
    // retry of a reset that succeeded finds its link spent here, so it is let through to the idempotent replay.)
    if store.log.find_command(ctx.command_id).await?.is_none() {
        let state = load(store, id).await?;
        let profile = state
            .profile()
            .ok_or(CommandError::Rejected(AccountError::ResetTokenInvalid))?;
        profile
            .check_reset_link(&token_hash, ctx.now)
            .map_err(CommandError::Rejected)?;
    }
    let password_hash = hash_password(&store.passwords, password).await?;
    let executed = execute::<L, Account>(
        store,
        &stream(id),
        Some(id.0),
        ctx,
        "ResetPassword",
        fingerprint,
        |state| {
            let profile = state.profile().ok_or(AccountError::ResetTokenInvalid)?;
            // The person is told whenever their password changes; a new (pending) account is only setting its first.
            let outbox = match (state, &profile.email, &profile.name) {
                (AccountState::Active(_), Personal::Known(to), Personal::Known(name)) => {
                    vec![messages::password_changed(to, name.salutation(), ctx.now)]
                }
                _ => vec![],
            };
            Ok(Plan::with_outbox(
                profile.organization.0,
                AccountCommand::ResetPassword {
                    token_hash,
                    password_hash: password_hash.clone(),
                },
                outbox,
            ))
        },
    )
    .await?;
    Ok((id, executed.last_position.unwrap_or_default()))
}

/// The signed-in person changes their password: the current one is required, every other session ends, and the
/// address on file is told.
pub async fn change_password<L: EventLog>(
    store: &Store<L>,
    principal: &Principal,
    current: &str,
    new: Password,
    ctx: &CommandContext,
) -> Result<i64, CommandError<AccountError>> {
    let id = principal.account;
    let fingerprint = store.secrets.fingerprint(
        "ChangePassword",
        &[
            principal.session.0.as_bytes(),
            current.as_bytes(),
            new.expose().as_bytes(),
        ],
    );
    let state = load(store, id).await?;
    let stored = state
        .profile()
        .and_then(|p| p.password_hash.known().cloned());
    let check = check_password(&store.passwords, stored, current).await?;
    if check == PasswordCheck::Mismatched {
        return Err(refuse_current_password(
            store,
            principal,
            PasswordConfirmation::ChangePassword,
            ctx,
        )
        .await);
    }
    let password_hash = hash_password(&store.passwords, new).await?;
    let executed = execute::<L, Account>(
        store,
        &stream(id),
        Some(id.0),
        ctx,
        "ChangePassword",
        fingerprint,
        |state| {
            let profile = state.profile().ok_or(AccountError::NotFound)?;
            let outbox = tell(profile, |to, salutation| {
                messages::password_changed(to, salutation, ctx.now)
            });
            Ok(Plan::with_outbox(
                profile.organization.0,
                AccountCommand::ChangePassword {
                    current: check,
                    password_hash: password_hash.clone(),
                    keep: principal.session,
                },
                outbox,
            ))
        },
    )
    .await?;
    Ok(executed.last_position.unwrap_or_default())
}

/// Staff end every open session of an account of their organization; None when none was open.
pub async fn end_sessions<L: EventLog>(
    store: &Store<L>,
    staff: &Principal,
    account: AccountId,
    ctx: &CommandContext,
) -> Result<Option<i64>, CommandError<AccountError>> {
    let fingerprint = store
        .secrets
        .fingerprint("EndSessions", &[account.0.as_bytes()]);
    let organization = staff.organization;
    let executed = execute::<L, Account>(
        store,
        &stream(account),
        Some(account.0),
        ctx,
        "EndSessions",
        fingerprint,
        |state| {
            state
                .profile()
                .filter(|p| p.organization == organization)
                .ok_or(AccountError::NotFound)?;
            Ok(Plan::command(
                organization.0,
                AccountCommand::EndSessions { by: staff.account },
            ))
        },
    )
    .await?;
    Ok(executed.last_position)
}

/// Staff invite a new staff member of their organization: the account is created with a password nobody knows,
/// and the invitation e-mail carries a link (valid 72 hours) to choose one, which also activates the account.
/// An address that already has an account gets nothing new; its owner is told as for a repeated registration.
pub async fn invite_staff<L: EventLog>(
    store: &Store<L>,
    organization: &OrganizationSummary,
    invited_by: &Principal,
    name: PersonName,
    email: EmailAddress,
    role: Role,
    ctx: &CommandContext,
) -> Result<Option<AccountId>, CommandError<AccountError>> {
    if !matches!(role, Role::Staff | Role::Auditor | Role::Provider) {
        return Err(CommandError::Internal(format!(
            "staff invite staff, auditors or providers, not {}",
            role.as_str()
        )));
    }
    // A random passphrase that is never shown: the account cannot be signed in to until the link is followed.
    let (unguessable, _) = credentials::new_token(Uuid::new_v4());
    let password = Password::parse(&unguessable, &crate::credentials::BreachedPasswords)
        .map_err(|e| CommandError::Internal(e.to_string()))?;
    let registered = register_account(
        store,
        organization,
        NewAccount {
            name: name.clone(),
            email: email.clone(),
            password,
            role,
        },
        ctx,
        false,
    )
    .await?;
    let Some(id) = registered.account else {
        return Ok(None);
    };
    let (token, token_hash) = credentials::new_token(id.0);
    let link = reset_link(store, organization, &token);
    let follow_up = CommandContext {
        command_id: Uuid::new_v4(),
        causation_id: Some(ctx.command_id),
        ..ctx.clone()
    };
    let fingerprint = store.secrets.fingerprint("InviteStaff", &[id.0.as_bytes()]);
    execute::<L, Account>(
        store,
        &stream(id),
        Some(id.0),
        &follow_up,
        "InviteStaff",
        fingerprint,
        |_| {
            Ok(Plan::with_outbox(
                organization.id.0,
                AccountCommand::RequestPasswordReset {
                    token_hash,
                    purpose: ResetPurpose::Invitation,
                },
                vec![messages::staff_invitation(
                    // An auditor reads and changes nothing: their invitation says so rather than "coordinate".
                    if role == Role::Auditor {
                        MessageKind::AuditorInvitation
                    } else {
                        MessageKind::StaffInvitation
                    },
                    &email,
                    name.salutation(),
                    &link,
                    ctx.now,
                )],
            ))
        },
    )
    .await?;
    tracing::info!(invited_by = %invited_by.account, account = %id, "staff member invited");
    Ok(Some(id))
}

/// The signed-in person asks to sign in with `new_email`: a link goes to the new address and a notice to the
/// current one. If another account uses the new address, its owner is told instead; the answer is the same.
pub async fn request_email_change<L: EventLog>(
    store: &Store<L>,
    principal: &Principal,
    organization: &OrganizationSummary,
    current: &str,
    new_email: EmailAddress,
    ctx: &CommandContext,
) -> Result<(), CommandError<AccountError>> {
    let id = principal.account;
    let fingerprint = store.secrets.fingerprint(
        "RequestEmailChange",
        &[
            principal.session.0.as_bytes(),
            current.as_bytes(),
            new_email.canonical().as_bytes(),
        ],
    );
    let state = load(store, id).await?;
    let stored = state
        .profile()
        .and_then(|p| p.password_hash.known().cloned());
    let check = check_password(&store.passwords, stored, current).await?;
    if check == PasswordCheck::Mismatched {
        return Err(refuse_current_password(
            store,
            principal,
            PasswordConfirmation::EmailChange,
            ctx,
        )
        .await);
    }
    if let Some(owner) = find_by_email(store, organization, &new_email).await? {
        if owner != id {
            send_only(
                store,
                organization.id.0,
                ctx,
                "RequestEmailChange",
                messages::email_in_use(&new_email, ctx.now),
            )
            .await?;
            return Ok(());
        }
    }
    let (token, token_hash) = credentials::new_token(id.0);
    let link = portal_link(store, organization, PortalPage::ConfirmEmail, &token);
    execute::<L, Account>(
        store,
        &stream(id),
        Some(id.0),
        ctx,
        "RequestEmailChange",
        fingerprint,
        |state| {
            let profile = state.profile().ok_or(AccountError::NotFound)?;
            let salutation = profile
                .name
                .known()
                .map_or("there".to_owned(), |n| n.salutation().to_owned());
            let mut outbox = vec![messages::confirm_email(
                &new_email,
                &salutation,
                &link,
                ctx.now,
            )];
            if let Personal::Known(old) = &profile.email {
                outbox.push(messages::email_change_notice(
                    old,
                    &salutation,
                    false,
                    ctx.now,
                ));
            }
            Ok(Plan::with_outbox(
                profile.organization.0,
                AccountCommand::RequestEmailChange {
                    current: check,
                    email: new_email.clone(),
                    token_hash,
                },
                outbox,
            ))
        },
    )
    .await?;
    Ok(())
}

/// Follows the link sent to a new address: it becomes the sign-in address (the old one is released for others)
/// and the old address is told.
pub async fn confirm_email_change<L: EventLog>(
    store: &Store<L>,
    token: &str,
    ctx: &CommandContext,
) -> Result<(AccountId, i64), CommandError<AccountError>> {
    let (id, token_hash) = credentials::parse_token(token).ok_or(CommandError::Rejected(
        AccountError::EmailChangeTokenInvalid,
    ))?;
    let id = AccountId(id);
    let owner = stream(id);
    let fingerprint = store
        .secrets
        .fingerprint("ConfirmEmailChange", &[token.as_bytes()]);
    let executed = execute::<L, Account>(
        store,
        &owner,
        Some(id.0),
        ctx,
        "ConfirmEmailChange",
        fingerprint,
        |state| {
            let profile = state
                .profile()
                .ok_or(AccountError::EmailChangeTokenInvalid)?;
            let new = profile
                .pending_email
                .as_ref()
                .and_then(|p| p.email.known())
                .ok_or(AccountError::EmailChangeTokenInvalid)?;
            let claim = |email: &EmailAddress| Claim {
                scope: profile.organization.0,
                kind: EMAIL_CLAIM.to_owned(),
                key: email_key(store, email),
                owner: owner.clone(),
            };
            let salutation = profile
                .name
                .known()
                .map_or("there".to_owned(), |n| n.salutation().to_owned());
            let (releases, outbox) = match &profile.email {
                Personal::Known(old) => (
                    vec![claim(old)],
                    vec![messages::email_change_notice(
                        old,
                        &salutation,
                        true,
                        ctx.now,
                    )],
                ),
                Personal::Erased => (vec![], vec![]),
            };
            Ok(Plan {
                tenant: profile.organization.0,
                command: AccountCommand::ConfirmEmailChange { token_hash },
                claims: vec![claim(new)],
                releases,
                outbox,
                follow_up: None,
            })
        },
    )
    .await
    .map_err(|error| match error {
        CommandError::Taken { .. } => CommandError::Rejected(AccountError::EmailTaken),
        other => other,
    })?;
    Ok((id, executed.last_position.unwrap_or_default()))
}

/// The signed-in person completes or updates their professional profile; `change` edits the current profile and
/// `input` is its serialized form (to tell a retry from a reuse of the command id). Returns the position (None when
/// nothing changed) and the required fields still missing.
pub async fn update_profile<L: EventLog>(
    store: &Store<L>,
    principal: &Principal,
    change: impl Fn(&mut ProfileDetails),
    input: &[u8],
    ctx: &CommandContext,
) -> Result<ProfileUpdate, CommandError<AccountError>> {
    let id = principal.account;
    let fingerprint = store
        .secrets
        .fingerprint("UpdateProfile", &[id.0.as_bytes(), input]);
    let mut missing = Vec::new();
    let mut was_complete = false;
    let executed = execute::<L, Account>(
        store,
        &stream(id),
        Some(id.0),
        ctx,
        "UpdateProfile",
        fingerprint,
        |state| {
            let profile = state.profile().ok_or(AccountError::NotFound)?;
            let mut details = profile.details.known().cloned().unwrap_or_default();
            was_complete = details.missing_fields().is_empty();
            change(&mut details);
            missing = details.missing_fields();
            Ok(Plan::command(
                profile.organization.0,
                AccountCommand::UpdateProfile { details },
            ))
        },
    )
    .await?;
    Ok(ProfileUpdate {
        completed: executed.last_position.is_some() && !was_complete && missing.is_empty(),
        position: executed.last_position,
        missing,
    })
}

/// What an update of the professional profile did.
#[derive(Clone, Debug)]
pub struct ProfileUpdate {
    /// Position of the event appended; None when nothing changed.
    pub position: Option<i64>,
    /// Required fields still missing.
    pub missing: Vec<&'static str>,
    /// This update completed a profile that was not complete before.
    pub completed: bool,
}

/// Staff disable (or enable again) an account of their organization; disabling ends its sessions. None when it
/// already was so.
pub async fn set_disabled<L: EventLog>(
    store: &Store<L>,
    staff: &Principal,
    account: AccountId,
    disabled: bool,
    ctx: &CommandContext,
) -> Result<Option<i64>, CommandError<AccountError>> {
    let name = if disabled {
        "DisableAccount"
    } else {
        "EnableAccount"
    };
    let fingerprint = store.secrets.fingerprint(name, &[account.0.as_bytes()]);
    let organization = staff.organization;
    let executed = execute::<L, Account>(
        store,
        &stream(account),
        Some(account.0),
        ctx,
        name,
        fingerprint,
        |state| {
            state
                .profile()
                .filter(|p| p.organization == organization)
                .ok_or(AccountError::NotFound)?;
            let command = if disabled {
                AccountCommand::Disable { by: staff.account }
            } else {
                AccountCommand::Enable { by: staff.account }
            };
            Ok(Plan::command(organization.0, command))
        },
    )
    .await?;
    Ok(executed.last_position)
}

/// Runs a command of the signed-in person on their own account (of their own organization): `input` is what makes
/// a retry with the same command id the same command. None when the command changed nothing.
/// Issues the link of the signed-in person's own calendar feed (the activities they attended): answers the token,
/// shown this once (only its hash is kept), and the position. An earlier link stops working.
pub async fn issue_calendar_feed<L: EventLog>(
    store: &Store<L>,
    principal: &Principal,
    ctx: &CommandContext,
) -> Result<(String, Option<i64>), CommandError<AccountError>> {
    let (token, token_hash) = credentials::new_token(principal.account.0);
    let position = on_own_account(
        store,
        principal,
        "IssueCalendarFeed",
        &token_hash.0,
        || AccountCommand::IssueCalendarFeed { token_hash },
        ctx,
    )
    .await?;
    Ok((token, position))
}

/// The account of the organization whose calendar feed link carries `token`, if the link is its current one and
/// the account is not disabled (the hashes are compared in constant time).
pub async fn calendar_feed_owner<L: EventLog>(
    store: &Store<L>,
    organization: OrganizationId,
    token: &str,
) -> Result<Option<AccountId>, CommandError<AccountError>> {
    let Some((id, hash)) = credentials::parse_token(token) else {
        return Ok(None);
    };
    let state = load(store, AccountId(id)).await?;
    Ok(state
        .profile()
        .filter(|p| p.organization == organization && !p.disabled)
        .and_then(|p| p.calendar_feed)
        .filter(|feed| feed.ct_eq(&hash))
        .map(|_| AccountId(id)))
}

async fn on_own_account<L: EventLog>(
    store: &Store<L>,
    principal: &Principal,
    name: &str,
    input: &[u8],
    command: impl Fn() -> AccountCommand,
    ctx: &CommandContext,
) -> Result<Option<i64>, CommandError<AccountError>> {
    let id = principal.account;
    let fingerprint = store.secrets.fingerprint(name, &[id.0.as_bytes(), input]);
    let organization = principal.organization;
    let executed = execute::<L, Account>(
        store,
        &stream(id),
        Some(id.0),
        ctx,
        name,
        fingerprint,
        |state| {
            state
                .profile()
                .filter(|p| p.organization == organization)
                .ok_or(AccountError::NotFound)?;
            Ok(Plan::command(organization.0, command()))
        },
    )
    .await?;
    Ok(executed.last_position)
}

/// A change of name to record.
#[derive(Clone, Debug)]
pub struct NameChange {
    /// The new name.
    pub name: portal_domain::values::PersonName,
    /// Keep the title the name has (the input gave none).
    pub keep_title: bool,
    /// The day it takes effect.
    pub effective_on: chrono::NaiveDate,
    /// The staff member who records it, or None for the person themselves.
    pub by: Option<AccountId>,
}

/// Records a change of the name of `account` (of `organization`): the person's own or recorded by staff. The same
/// name again records nothing (None).
pub async fn change_name<L: EventLog>(
    store: &Store<L>,
    organization: portal_domain::OrganizationId,
    account: AccountId,
    change: NameChange,
    ctx: &CommandContext,
) -> Result<Option<i64>, CommandError<AccountError>> {
    let input = format!("{change:?}");
    let fingerprint = store
        .secrets
        .fingerprint("ChangeName", &[account.0.as_bytes(), input.as_bytes()]);
    let executed = execute::<L, Account>(
        store,
        &stream(account),
        Some(account.0),
        ctx,
        "ChangeName",
        fingerprint,
        |state| {
            // Another organization's account is reported as missing, never as someone else's.
            let profile = state
                .profile()
                .filter(|p| p.organization == organization)
                .ok_or(AccountError::NotFound)?;
            let mut name = change.name.clone();
            if change.keep_title {
                name.title = profile.name.known().and_then(|n| n.title.clone());
            }
            Ok(Plan::command(
                organization.0,
                AccountCommand::ChangeName {
                    name,
                    effective_on: change.effective_on,
                    by: change.by,
                },
            ))
        },
    )
    .await?;
    Ok(executed.last_position)
}

/// The signed-in learner consents to board reporting with their board id, or (None) withdraws the consent. None
/// when nothing changed.
pub async fn set_board_reporting<L: EventLog>(
    store: &Store<L>,
    principal: &Principal,
    reporting: Option<portal_domain::values::BoardReporting>,
    ctx: &CommandContext,
) -> Result<Option<i64>, CommandError<AccountError>> {
    let input = format!("{reporting:?}");
    on_own_account(
        store,
        principal,
        "SetBoardReporting",
        input.as_bytes(),
        || AccountCommand::SetBoardReporting {
            reporting: reporting.clone(),
        },
        ctx,
    )
    .await
}

/// The signed-in person accepts the organization's terms in force; None when they had accepted them already.
pub async fn accept_terms<L: EventLog>(
    store: &Store<L>,
    principal: &Principal,
    version: u32,
    ctx: &CommandContext,
) -> Result<Option<i64>, CommandError<AccountError>> {
    on_own_account(
        store,
        principal,
        "AcceptTerms",
        &version.to_be_bytes(),
        || AccountCommand::AcceptTerms { version },
        ctx,
    )
    .await
}
