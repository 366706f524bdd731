//! Apps' device sessions: a sign-in from an app, the refresh that rotates its token (a reused token ends the device
//! session), the person's list of devices, and signing one out.

use chrono::{DateTime, Utc};
use portal_domain::account::{Account, AccountCommand, AccountError, AccountEvent};
use portal_domain::device::{DeviceCommand, DeviceRequest, ACCESS_MINUTES};
use portal_domain::session::Principal;
use portal_domain::values::{DeviceName, TokenHash};
use portal_domain::{AccountId, Decider, DeviceSessionId, SessionId};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::accounts::{self, SignedIn};
use crate::credentials;
use crate::handler::{
    append_error, back_off, execute, CommandContext, CommandError, Plan, MAX_ATTEMPTS,
};
use crate::log::{AppendError, CommandRecord, Commit, EventLog, ExpectedVersion, StreamWrite};
use crate::organizations::OrganizationSummary;
use crate::sessions;
use crate::store::Store;

/// What an app says when it signs in.
#[derive(Clone, Debug)]
pub struct DeviceSignIn {
    /// What the person calls the device.
    pub name: DeviceName,
    /// The last refresh token of a device session at its end of life, which this sign-in renews.
    pub renewing: Option<String>,
}

/// A device session being opened by a sign-in: its id and first refresh token, made before the decision.
#[derive(Debug)]
pub(crate) struct PendingDevice {
    id: DeviceSessionId,
    name: DeviceName,
    refresh_token: String,
    refresh_hash: TokenHash,
    renewing: Option<TokenHash>,
}

impl PendingDevice {
    /// A new device session for `account`; a renewed token of another account is ignored.
    pub(crate) fn new(sign_in: &DeviceSignIn, account: AccountId) -> Self {
        let (refresh_token, refresh_hash) = credentials::new_token(account.0);
        Self {
            id: DeviceSessionId(Uuid::new_v4()),
            name: sign_in.name.clone(),
            refresh_token,
            refresh_hash,
            renewing: sign_in
                .renewing
                .as_deref()
                .and_then(credentials::parse_token)
                .filter(|(owner, _)| *owner == account.0)
                .map(|(_, hash)| hash),
        }
    }

    /// What the account decider is asked to open.
    pub(crate) fn request(&self, organization: &OrganizationSummary) -> DeviceRequest {
        DeviceRequest {
            id: self.id,
            name: self.name.clone(),
            refresh: self.refresh_hash,
            policy: organization.device_policy,
            renewing: self.renewing,
        }
    }

    /// What the app is handed, if the sign-in's `events` opened the device session.
    pub(crate) fn issued(&self, events: &[AccountEvent]) -> Option<IssuedDevice> {
        events.iter().find_map(|event| match event {
            AccountEvent::DeviceSessionStarted(started) if started.device_id == self.id => {
                Some(IssuedDevice {
                    id: self.id,
                    refresh_token: self.refresh_token.clone(),
                    expires_at: started.expires_at,
                })
            }
            _ => None,
        })
    }
}

/// A device session as its app learns it: shown once, only the refresh token's hash is kept.
#[derive(Clone, Debug, PartialEq)]
pub struct IssuedDevice {
    /// The device session.
    pub id: DeviceSessionId,
    /// The refresh token to present next time (works once).
    pub refresh_token: String,
    /// The device session's end of life.
    pub expires_at: DateTime<Utc>,
}

impl IssuedDevice {
    /// The form kept as a command's outcome, so that a retry gets the same answer: the token sealed.
    pub(crate) fn sealed<L: EventLog>(&self, store: &Store<L>) -> Value {
        json!({
            "id": self.id,
            "refresh_token": store.secrets.seal(self.refresh_token.as_bytes()),
            "expires_at": self.expires_at,
        })
    }

    /// Reads the sealed form back.
    pub(crate) fn open<L: EventLog>(store: &Store<L>, sealed: &Value) -> Option<Self> {
        let token = store.secrets.open(sealed.get("refresh_token")?.as_str()?)?;
        Some(Self {
            id: serde_json::from_value(sealed.get("id")?.clone()).ok()?,
            refresh_token: String::from_utf8(token).ok()?,
            expires_at: serde_json::from_value(sealed.get("expires_at")?.clone()).ok()?,
        })
    }
}

/// Trades a refresh token for a new one and a new access session. A token used already ends its device session
/// (REFRESH_TOKEN_REUSED); a retry with the same command id gets the first answer again, so an app that lost the
/// answer is not taken for a thief.
pub async fn refresh<L: EventLog>(
    store: &Store<L>,
    organization: &OrganizationSummary,
    refresh_token: &str,
    ctx: &CommandContext,
) -> Result<SignedIn, CommandError<AccountError>> {
    let invalid = || CommandError::Rejected(AccountError::RefreshTokenInvalid);
    let (account_id, presented) = credentials::parse_token(refresh_token).ok_or_else(invalid)?;
    let account = AccountId(account_id);
    let fingerprint = store
        .secrets
        .fingerprint("RefreshSession", &[presented.0.as_slice()]);
    if let Some(replayed) = store.log.find_command(ctx.command_id).await? {
        if replayed.record.fingerprint != fingerprint {
            return Err(CommandError::IdempotencyKeyReused);
        }
        return accounts::open_outcome(store, &replayed.record.outcome, replayed.last_position)
            .ok_or_else(invalid);
    }
    let account_stream = accounts::stream(account);
    let session = SessionId(Uuid::new_v4());
    let (next_token, next_hash) = credentials::new_token(account_id);
    for attempt in 0..MAX_ATTEMPTS {
        if attempt > 0 {
            back_off(attempt).await;
        }
        let (state, version) = store.load::<Account>(&account_stream).await?;
        let profile = state
            .profile()
            .filter(|p| p.organization == organization.id)
            .ok_or_else(invalid)?;
        let events = Account::decide(
            &state,
            AccountCommand::Device(DeviceCommand::Refresh {
                presented,
                refresh: next_hash,
                access: session,
            }),
            ctx.now,
        )
        .map_err(CommandError::Rejected)?;
        let mut writes = vec![StreamWrite {
            stream: account_stream.clone(),
            expected: ExpectedVersion::Exact(version),
            events: store.encode(Some(account_id), &events).await?,
        }];
        writes.extend(
            sessions::end_writes(
                store,
                &<Account as crate::handler::EndsSessions>::sessions_to_end(&events),
                ctx,
            )
            .await?,
        );
        let mut answer = None;
        if let Some(AccountEvent::DeviceSessionRefreshed(refreshed)) = events.first() {
            let principal = Principal {
                session,
                account,
                organization: profile.organization,
                role: profile.role,
            };
            let (session_write, token) = sessions::opening(
                store,
                principal,
                refreshed.session_expires_at,
                ACCESS_MINUTES as u32,
                ctx.now,
            )
            .await?;
            writes.push(session_write);
            let expires_at = profile
                .devices
                .iter()
                .find(|d| d.id == refreshed.device_id)
                .map_or(refreshed.session_expires_at, |d| d.expires_at);
            answer = Some(SignedIn {
                token,
                session,
                account,
                expires_at: refreshed.session_expires_at,
                device: Some(IssuedDevice {
                    id: refreshed.device_id,
                    refresh_token: next_token.clone(),
                    expires_at,
                }),
                last_position: 0,
            });
        }
        let commit = Commit {
            tenant: organization.id.0,
            writes,
            metadata: ctx.metadata("RefreshSession"),
            // Only a refresh that worked is answered again to a retry; a reuse is judged anew (and then refused).
            command: answer.as_ref().map(|answer| CommandRecord {
                command_id: ctx.command_id,
                fingerprint: fingerprint.clone(),
                outcome: accounts::sealed_outcome(store, answer),
            }),
            ..Default::default()
        };
        match store.append(commit).await {
            Ok(committed) if committed.replayed => {
                let recorded = committed.outcome.unwrap_or(Value::Null);
                return accounts::open_outcome(store, &recorded, committed.last_position)
                    .ok_or_else(invalid);
            }
            Ok(committed) => {
                return match answer {
                    Some(answer) => Ok(SignedIn {
                        last_position: committed.last_position,
                        ..answer
                    }),
                    None => Err(CommandError::Rejected(AccountError::RefreshTokenReused)),
                }
            }
            Err(AppendError::WrongExpectedVersion { .. }) => continue,
            Err(error) => return Err(append_error(error)),
        }
    }
    Err(CommandError::Conflict(MAX_ATTEMPTS, account_stream))
}

/// The signed-in person signs one of their devices out (its access session ends with it).
pub async fn sign_out<L: EventLog>(
    store: &Store<L>,
    principal: &Principal,
    device: DeviceSessionId,
    ctx: &CommandContext,
) -> Result<i64, CommandError<AccountError>> {
    let fingerprint = store
        .secrets
        .fingerprint("SignOutDevice", &[device.0.as_bytes()]);
    let tenant = principal.organization.0;
    let executed = execute::<L, Account>(
        store,
        &accounts::stream(principal.account),
        Some(principal.account.0),
        ctx,
        "SignOutDevice",
        fingerprint,
        |_| {
            Ok(Plan::command(
                tenant,
                AccountCommand::Device(DeviceCommand::SignOut { device }),
            ))
        },
    )
    .await?;
    Ok(executed.last_position.unwrap_or_default())
}

/// One of the person's signed-in devices, as their device list shows it.
#[derive(Clone, Debug, PartialEq)]
pub struct DeviceView {
    /// The device session.
    pub id: DeviceSessionId,
    /// What the person called the device (None once erased).
    pub name: Option<String>,
    /// When it signed in.
    pub started_at: DateTime<Utc>,
    /// When it refreshed last.
    pub refreshed_at: Option<DateTime<Utc>>,
    /// Its end of life.
    pub expires_at: DateTime<Utc>,
    /// It is the device this request comes from.
    pub current: bool,
}

/// The devices the person is signed in on, newest first, read from the account's own stream (never stale).
pub async fn list<L: EventLog>(
    store: &Store<L>,
    principal: &Principal,
    now: DateTime<Utc>,
) -> Result<Vec<DeviceView>, CommandError<AccountError>> {
    let state = accounts::load(store, principal.account).await?;
    Ok(state
        .profile()
        .map(|profile| {
            profile
                .open_devices(now)
                .into_iter()
                .map(|device| DeviceView {
                    id: device.id,
                    name: device.name.known().map(|n| n.as_str().to_owned()),
                    started_at: device.started_at,
                    refreshed_at: device.refreshed_at,
                    expires_at: device.expires_at,
                    current: device.access == principal.session,
                })
                .collect()
        })
        .unwrap_or_default())
}

/// The open device session whose latest access session is `session`, if any: signing out of that session signs
/// the device out.
pub async fn of_session<L: EventLog>(
    store: &Store<L>,
    principal: &Principal,
    now: DateTime<Utc>,
) -> Result<Option<DeviceSessionId>, CommandError<AccountError>> {
    let state = accounts::load(store, principal.account).await?;
    Ok(state.profile().and_then(|profile| {
        profile
            .device_of(principal.session)
            .filter(|device| now < device.expires_at)
            .map(|device| device.id)
    }))
}
