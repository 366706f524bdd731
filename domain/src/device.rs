//! Device sessions: how an app stays signed in. A sign-in from an app opens a device session with a refresh token;
//! each access session it opens is short, and each refresh hands out a new refresh token and retires the one used.
//! A retired refresh token presented again means two holders of one token, one of them a thief: the whole device
//! session ends (reuse detection, RFC 9700 section 4.14.2). Part of the account aggregate, so that every refresh is
//! in the account's history.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::account::{AccountError, AccountEvent, Profile, RevocationReason};
use crate::values::{DeviceName, TokenHash};
use crate::{DeviceSessionId, Personal, SessionId};

/// How long the access session a device session opens lasts (and may sit idle): short, because the device holds a
/// refresh token to get the next one.
pub const ACCESS_MINUTES: i64 = 30;
/// How long after its end of life a device session can still be renewed by a sign-in that presents its last
/// refresh token (the organization decides whether that sign-in skips the second step).
pub const RENEWAL_DAYS: i64 = 30;
/// The longest life an organization may give a device session.
pub const MAX_DEVICE_DAYS: u32 = 365;

/// An organization's rules for device sessions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DevicePolicy {
    /// The longest a device session lasts from its sign-in, in days (1 to 365; default 90).
    pub max_days: u32,
    /// Whether the sign-in that renews a device session at its end of life asks for the second step again.
    pub two_step_again: bool,
}

impl Default for DevicePolicy {
    fn default() -> Self {
        Self {
            max_days: 90,
            two_step_again: true,
        }
    }
}

impl DevicePolicy {
    /// The rule the policy breaks, if any.
    pub fn broken_rule(&self) -> Option<&'static str> {
        (!(1..=MAX_DEVICE_DAYS).contains(&self.max_days))
            .then_some("device sessions last between 1 and 365 days")
    }

    /// How long a device session lasts.
    pub fn lifetime(&self) -> Duration {
        Duration::days(i64::from(self.max_days.clamp(1, MAX_DEVICE_DAYS)))
    }
}

/// A device session of the account, open or at its end of life (kept for renewal).
#[derive(Clone, Debug, PartialEq)]
pub struct DeviceSession {
    /// The device session.
    pub id: DeviceSessionId,
    /// What the person calls the device.
    pub name: Personal<DeviceName>,
    /// Hash of the refresh token that works now.
    pub refresh: TokenHash,
    /// Hashes of the refresh tokens already used: presented again, they end the device session.
    pub retired: Vec<TokenHash>,
    /// The access session opened last.
    pub access: SessionId,
    /// When it was signed in.
    pub started_at: DateTime<Utc>,
    /// When it was refreshed last.
    pub refreshed_at: Option<DateTime<Utc>>,
    /// Its end of life.
    pub expires_at: DateTime<Utc>,
}

/// What a sign-in from an app asks for, besides the session.
#[derive(Clone, Debug)]
pub struct DeviceRequest {
    /// The new device session.
    pub id: DeviceSessionId,
    /// What the person calls the device.
    pub name: DeviceName,
    /// Hash of its first refresh token.
    pub refresh: TokenHash,
    /// The organization's rules.
    pub policy: DevicePolicy,
    /// Hash of the last refresh token of a device session at its end of life, which this sign-in renews.
    pub renewing: Option<TokenHash>,
}

/// Commands on an account's device sessions.
#[derive(Clone, Debug)]
pub enum DeviceCommand {
    /// The app trades its refresh token for a new one and a new access session.
    Refresh {
        /// Hash of the refresh token presented.
        presented: TokenHash,
        /// Hash of the refresh token to hand out.
        refresh: TokenHash,
        /// The access session to open.
        access: SessionId,
    },
    /// The person signs one of their devices out.
    SignOut {
        /// The device session.
        device: DeviceSessionId,
    },
}

/// A device session began with a sign-in from an app (v1).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DeviceSessionStarted {
    /// The device session.
    pub device_id: DeviceSessionId,
    /// What the person calls the device.
    pub name: Personal<DeviceName>,
    /// SHA-256 of the first refresh token.
    pub refresh_token_hash: TokenHash,
    /// The access session the sign-in opened.
    pub session_id: SessionId,
    /// When.
    pub at: DateTime<Utc>,
    /// Its end of life (the organization's longest life at sign-in).
    pub expires_at: DateTime<Utc>,
    /// The device session at its end of life that this one renews, if any.
    pub renews: Option<DeviceSessionId>,
}

/// A refresh token was traded for a new one and a new access session (v1).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DeviceSessionRefreshed {
    /// The device session.
    pub device_id: DeviceSessionId,
    /// SHA-256 of the new refresh token.
    pub refresh_token_hash: TokenHash,
    /// The access session opened.
    pub session_id: SessionId,
    /// When it ends at the latest.
    pub session_expires_at: DateTime<Utc>,
    /// When.
    pub at: DateTime<Utc>,
}

/// A refresh token that had been used already was presented again (v1); the device session ends with it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RefreshTokenReused {
    /// The device session.
    pub device_id: DeviceSessionId,
    /// When.
    pub at: DateTime<Utc>,
}

/// Why device sessions ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeviceEndReason {
    /// The person signed the device out.
    SignedOut,
    /// A used refresh token was presented again.
    RefreshTokenReused,
    /// The account was locked.
    AccountLocked,
    /// Staff disabled the account.
    AccountDisabled,
    /// The password was reset.
    PasswordReset,
    /// The password was changed (from another session).
    PasswordChanged,
    /// Staff ended the account's sessions.
    EndedByStaff,
    /// The person's data was erased.
    PersonalDataErased,
}

impl From<RevocationReason> for DeviceEndReason {
    fn from(reason: RevocationReason) -> Self {
        match reason {
            RevocationReason::AccountLocked => Self::AccountLocked,
            RevocationReason::AccountDisabled => Self::AccountDisabled,
            RevocationReason::PasswordReset => Self::PasswordReset,
            RevocationReason::PasswordChanged => Self::PasswordChanged,
            RevocationReason::EndedByStaff => Self::EndedByStaff,
            RevocationReason::PersonalDataErased => Self::PersonalDataErased,
        }
    }
}

/// Device sessions ended (v1), with the access sessions of theirs still open that no `SessionsRevoked` of the same
/// commit ends; each session stream records its own end in the same commit.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DeviceSessionsEnded {
    /// The device sessions.
    pub device_ids: Vec<DeviceSessionId>,
    /// Access sessions ended with them.
    pub session_ids: Vec<SessionId>,
    /// Why.
    pub reason: DeviceEndReason,
    /// When.
    pub at: DateTime<Utc>,
}

impl Profile {
    /// The device sessions open at `now`, newest first.
    pub fn open_devices(&self, now: DateTime<Utc>) -> Vec<&DeviceSession> {
        let mut open: Vec<&DeviceSession> =
            self.devices.iter().filter(|d| now < d.expires_at).collect();
        open.sort_by_key(|d| std::cmp::Reverse(d.started_at));
        open
    }

    /// The device session whose latest access session is `session`, if any.
    pub fn device_of(&self, session: SessionId) -> Option<&DeviceSession> {
        self.devices.iter().find(|d| d.access == session)
    }
}

/// Decides a device command.
pub(crate) fn decide(
    profile: &Profile,
    command: DeviceCommand,
    now: DateTime<Utc>,
) -> Result<Vec<AccountEvent>, AccountError> {
    match command {
        DeviceCommand::Refresh {
            presented,
            refresh,
            access,
        } => {
            if profile.disabled || profile.erased {
                return Err(AccountError::RefreshTokenInvalid);
            }
            if let Some(device) = profile.devices.iter().find(|d| d.refresh.ct_eq(&presented)) {
                if now >= device.expires_at {
                    return Err(AccountError::DeviceSessionExpired);
                }
                return Ok(vec![AccountEvent::DeviceSessionRefreshed(
                    DeviceSessionRefreshed {
                        device_id: device.id,
                        refresh_token_hash: refresh,
                        session_id: access,
                        session_expires_at: (now + Duration::minutes(ACCESS_MINUTES))
                            .min(device.expires_at),
                        at: now,
                    },
                )]);
            }
            let Some(device) = profile
                .devices
                .iter()
                .find(|d| d.retired.iter().any(|r| r.ct_eq(&presented)))
            else {
                return Err(AccountError::RefreshTokenInvalid);
            };
            Ok(vec![
                AccountEvent::RefreshTokenReused(RefreshTokenReused {
                    device_id: device.id,
                    at: now,
                }),
                ended(profile, &[device], DeviceEndReason::RefreshTokenReused, now),
            ])
        }
        DeviceCommand::SignOut { device } => {
            let Some(device) = profile
                .open_devices(now)
                .into_iter()
                .find(|d| d.id == device)
            else {
                return Err(AccountError::DeviceSessionNotFound);
            };
            Ok(vec![ended(
                profile,
                &[device],
                DeviceEndReason::SignedOut,
                now,
            )])
        }
    }
}

/// The end of `devices`, with their access sessions that may still be open.
fn ended(
    profile: &Profile,
    devices: &[&DeviceSession],
    reason: DeviceEndReason,
    now: DateTime<Utc>,
) -> AccountEvent {
    let open = profile.open_sessions(now);
    AccountEvent::DeviceSessionsEnded(DeviceSessionsEnded {
        device_ids: devices.iter().map(|d| d.id).collect(),
        session_ids: devices
            .iter()
            .map(|d| d.access)
            .filter(|s| open.contains(s))
            .collect(),
        reason,
        at: now,
    })
}

/// The end of every device session of the account, those at their end of life included (so that none can be
/// renewed), but the one whose access session is `keep`; None when there is none. Their access sessions are left
/// to the `SessionsRevoked` that goes with it.
pub(crate) fn end_all(
    profile: &Profile,
    reason: RevocationReason,
    keep: Option<SessionId>,
    now: DateTime<Utc>,
) -> Option<AccountEvent> {
    let device_ids: Vec<DeviceSessionId> = profile
        .devices
        .iter()
        .filter(|d| Some(d.access) != keep)
        .map(|d| d.id)
        .collect();
    (!device_ids.is_empty()).then(|| {
        AccountEvent::DeviceSessionsEnded(DeviceSessionsEnded {
            device_ids,
            session_ids: Vec::new(),
            reason: reason.into(),
            at: now,
        })
    })
}

/// The device session a successful sign-in opens with `session`, if the sign-in came from an app.
pub(crate) fn started(
    profile: &Profile,
    request: Option<DeviceRequest>,
    session: SessionId,
    now: DateTime<Utc>,
) -> Option<AccountEvent> {
    let request = request?;
    Some(AccountEvent::DeviceSessionStarted(DeviceSessionStarted {
        device_id: request.id,
        name: Personal::Known(request.name),
        refresh_token_hash: request.refresh,
        session_id: session,
        at: now,
        expires_at: now + request.policy.lifetime(),
        renews: request
            .renewing
            .and_then(|hash| renewable(profile, &hash, now))
            .map(|d| d.id),
    }))
}

/// Whether a sign-in that carries `request` may skip the second step: it renews a device session at its end of life
/// with that session's last refresh token, and the organization does not ask again.
pub(crate) fn skips_second_step(
    profile: &Profile,
    request: Option<&DeviceRequest>,
    now: DateTime<Utc>,
) -> bool {
    request.is_some_and(|r| {
        !r.policy.two_step_again
            && r.renewing
                .is_some_and(|hash| renewable(profile, &hash, now).is_some())
    })
}

fn renewable<'a>(
    profile: &'a Profile,
    hash: &TokenHash,
    now: DateTime<Utc>,
) -> Option<&'a DeviceSession> {
    profile.devices.iter().find(|d| {
        d.refresh.ct_eq(hash)
            && now >= d.expires_at
            && now < d.expires_at + Duration::days(RENEWAL_DAYS)
    })
}

/// How long a session a sign-in opens lasts: an app's access session is short.
pub(crate) fn access_lifetime(request: Option<&DeviceRequest>, session: Duration) -> Duration {
    match request {
        Some(_) => Duration::minutes(ACCESS_MINUTES),
        None => session,
    }
}

/// Applies a device event to the profile; other events are ignored.
pub(crate) fn apply(profile: &mut Profile, event: &AccountEvent) {
    match event {
        AccountEvent::DeviceSessionStarted(e) => {
            profile.devices.retain(|d| {
                Some(d.id) != e.renews && e.at < d.expires_at + Duration::days(RENEWAL_DAYS)
            });
            profile.devices.push(DeviceSession {
                id: e.device_id,
                name: e.name.clone(),
                refresh: e.refresh_token_hash,
                retired: Vec::new(),
                access: e.session_id,
                started_at: e.at,
                refreshed_at: None,
                expires_at: e.expires_at,
            });
        }
        AccountEvent::DeviceSessionRefreshed(e) => {
            if let Some(device) = profile.devices.iter_mut().find(|d| d.id == e.device_id) {
                device.retired.push(device.refresh);
                device.refresh = e.refresh_token_hash;
                device.access = e.session_id;
                device.refreshed_at = Some(e.at);
            }
            profile.sessions.retain(|s| s.expires_at > e.at);
            profile.sessions.push(crate::account::OpenSession {
                id: e.session_id,
                expires_at: e.session_expires_at,
            });
        }
        AccountEvent::DeviceSessionsEnded(e) => {
            profile.devices.retain(|d| !e.device_ids.contains(&d.id));
            profile.sessions.retain(|s| !e.session_ids.contains(&s.id));
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::account::tests::{activated, t0};
    use crate::account::{Account, AccountCommand, OpenSession, PasswordCheck, SignInSucceeded};
    use crate::decider::testing::given;
    use crate::organization::SecurityPolicy;
    use crate::two_step::{TwoStepEnabled, TwoStepMethod};
    use crate::Decider;
    use uuid::Uuid;

    const DEVICE: DeviceSessionId = DeviceSessionId(Uuid::from_u128(40));

    fn hash(n: u8) -> TokenHash {
        TokenHash([n; 32])
    }

    fn session(n: u128) -> SessionId {
        SessionId(Uuid::from_u128(n))
    }

    fn request(policy: DevicePolicy, renewing: Option<TokenHash>) -> DeviceRequest {
        DeviceRequest {
            id: DEVICE,
            name: DeviceName::parse("Jane's phone").unwrap(),
            refresh: hash(1),
            policy,
            renewing,
        }
    }

    fn sign_in_from_app(policy: DevicePolicy, renewing: Option<TokenHash>) -> AccountCommand {
        AccountCommand::SignIn {
            password: PasswordCheck::Matched,
            challenge: hash(90),
            code: hash(91),
            session: session(1),
            policy: SecurityPolicy::default(),
            device: Some(request(policy, renewing)),
        }
    }

    fn started_at(at: DateTime<Utc>, days: i64) -> Vec<AccountEvent> {
        vec![
            AccountEvent::SignInSucceeded(SignInSucceeded {
                session_id: session(1),
                at,
                session_expires_at: at + Duration::minutes(ACCESS_MINUTES),
            }),
            AccountEvent::DeviceSessionStarted(DeviceSessionStarted {
                device_id: DEVICE,
                name: Personal::Known(DeviceName::parse("Jane's phone").unwrap()),
                refresh_token_hash: hash(1),
                session_id: session(1),
                at,
                expires_at: at + Duration::days(days),
                renews: None,
            }),
        ]
    }

    fn with_device() -> Vec<AccountEvent> {
        let mut events = activated();
        events.extend(started_at(t0(), 90));
        events
    }

    fn refreshed(n: u8, access: u128, at: DateTime<Utc>) -> AccountEvent {
        AccountEvent::DeviceSessionRefreshed(DeviceSessionRefreshed {
            device_id: DEVICE,
            refresh_token_hash: hash(n),
            session_id: session(access),
            session_expires_at: at + Duration::minutes(ACCESS_MINUTES),
            at,
        })
    }

    fn refresh(presented: u8, new: u8, access: u128) -> AccountCommand {
        AccountCommand::Device(DeviceCommand::Refresh {
            presented: hash(presented),
            refresh: hash(new),
            access: session(access),
        })
    }

    #[test]
    fn signing_in_from_an_app_opens_a_short_access_session_and_a_device_session_for_the_policy_life(
    ) {
        given::<Account>(activated())
            .when(sign_in_from_app(DevicePolicy::default(), None), t0())
            .then(started_at(t0(), 90));
    }

    #[test]
    fn a_refresh_hands_out_a_new_refresh_token_and_a_new_access_session() {
        let at = t0() + Duration::minutes(25);
        given::<Account>(with_device())
            .when(refresh(1, 2, 2), at)
            .then(vec![refreshed(2, 2, at)]);
    }

    #[test]
    fn a_refresh_token_used_again_ends_the_device_session_and_its_access_session() {
        let mut events = with_device();
        let at = t0() + Duration::minutes(25);
        events.push(refreshed(2, 2, at));
        given::<Account>(events)
            .when(refresh(1, 3, 3), at + Duration::minutes(1))
            .then(vec![
                AccountEvent::RefreshTokenReused(RefreshTokenReused {
                    device_id: DEVICE,
                    at: at + Duration::minutes(1),
                }),
                AccountEvent::DeviceSessionsEnded(DeviceSessionsEnded {
                    device_ids: vec![DEVICE],
                    session_ids: vec![session(2)],
                    reason: DeviceEndReason::RefreshTokenReused,
                    at: at + Duration::minutes(1),
                }),
            ]);
    }

    #[test]
    fn a_refresh_token_never_handed_out_is_refused() {
        given::<Account>(with_device())
            .when(refresh(7, 2, 2), t0())
            .then_error(AccountError::RefreshTokenInvalid);
    }

    #[test]
    fn a_device_session_at_its_end_of_life_is_not_refreshed() {
        given::<Account>(with_device())
            .when(refresh(1, 2, 2), t0() + Duration::days(90))
            .then_error(AccountError::DeviceSessionExpired);
    }

    #[test]
    fn the_last_access_session_lasts_no_longer_than_its_device_session() {
        let at = t0() + Duration::days(90) - Duration::minutes(5);
        let Ok(events) =
            Account::decide(&Account::fold(with_device().iter()), refresh(1, 2, 2), at)
        else {
            panic!("refused");
        };
        assert!(matches!(
            &events[..],
            [AccountEvent::DeviceSessionRefreshed(e)] if e.session_expires_at == t0() + Duration::days(90)
        ));
    }

    #[test]
    fn the_person_signs_one_device_out_with_its_access_session() {
        given::<Account>(with_device())
            .when(
                AccountCommand::Device(DeviceCommand::SignOut { device: DEVICE }),
                t0() + Duration::minutes(1),
            )
            .then(vec![AccountEvent::DeviceSessionsEnded(
                DeviceSessionsEnded {
                    device_ids: vec![DEVICE],
                    session_ids: vec![session(1)],
                    reason: DeviceEndReason::SignedOut,
                    at: t0() + Duration::minutes(1),
                },
            )]);
    }

    #[test]
    fn signing_out_a_device_that_is_not_signed_in_is_refused() {
        given::<Account>(activated())
            .when(
                AccountCommand::Device(DeviceCommand::SignOut { device: DEVICE }),
                t0(),
            )
            .then_error(AccountError::DeviceSessionNotFound);
    }

    #[test]
    fn staff_ending_the_sessions_end_the_device_sessions_too() {
        let at = t0() + Duration::minutes(1);
        given::<Account>(with_device())
            .when(
                AccountCommand::EndSessions {
                    by: crate::AccountId(Uuid::from_u128(99)),
                },
                at,
            )
            .then(vec![
                AccountEvent::SessionsRevoked(crate::account::SessionsRevoked {
                    at,
                    session_ids: vec![session(1)],
                    reason: RevocationReason::EndedByStaff,
                }),
                AccountEvent::DeviceSessionsEnded(DeviceSessionsEnded {
                    device_ids: vec![DEVICE],
                    session_ids: vec![],
                    reason: DeviceEndReason::EndedByStaff,
                    at,
                }),
            ]);
    }

    #[test]
    fn a_device_session_whose_access_session_expired_still_ends_when_staff_end_sessions() {
        let at = t0() + Duration::days(3);
        given::<Account>(with_device())
            .when(
                AccountCommand::EndSessions {
                    by: crate::AccountId(Uuid::from_u128(99)),
                },
                at,
            )
            .then(vec![AccountEvent::DeviceSessionsEnded(
                DeviceSessionsEnded {
                    device_ids: vec![DEVICE],
                    session_ids: vec![],
                    reason: DeviceEndReason::EndedByStaff,
                    at,
                },
            )]);
    }

    #[test]
    fn the_lock_after_too_many_wrong_passwords_ends_the_device_sessions() {
        let mut events = with_device();
        events.extend((0..4).map(|_| {
            AccountEvent::SignInFailed(crate::account::SignInFailed {
                at: t0(),
                reason: crate::account::SignInFailure::WrongPassword,
            })
        }));
        let Ok(decided) = Account::decide(
            &Account::fold(events.iter()),
            AccountCommand::SignIn {
                password: PasswordCheck::Mismatched,
                challenge: hash(90),
                code: hash(91),
                session: session(2),
                policy: SecurityPolicy::default(),
                device: None,
            },
            t0() + Duration::minutes(1),
        ) else {
            panic!("refused");
        };
        assert!(decided.iter().any(|e| matches!(
            e,
            AccountEvent::DeviceSessionsEnded(ended)
                if ended.device_ids == vec![DEVICE] && ended.reason == DeviceEndReason::AccountLocked
        )));
    }

    #[test]
    fn a_password_change_from_the_app_keeps_its_device_session() {
        let events = Account::decide(
            &Account::fold(with_device().iter()),
            AccountCommand::ChangePassword {
                current: PasswordCheck::Matched,
                password_hash: crate::values::PasswordHash::from_phc("$argon2id$x".to_owned()),
                keep: session(1),
            },
            t0(),
        )
        .unwrap();
        assert!(!events
            .iter()
            .any(|e| matches!(e, AccountEvent::DeviceSessionsEnded(_))));
    }

    #[test]
    fn a_password_change_from_elsewhere_ends_the_device_session() {
        let events = Account::decide(
            &Account::fold(with_device().iter()),
            AccountCommand::ChangePassword {
                current: PasswordCheck::Matched,
                password_hash: crate::values::PasswordHash::from_phc("$argon2id$x".to_owned()),
                keep: session(9),
            },
            t0(),
        )
        .unwrap();
        assert!(events.iter().any(|e| matches!(
            e,
            AccountEvent::DeviceSessionsEnded(ended)
                if ended.device_ids == vec![DEVICE] && ended.reason == DeviceEndReason::PasswordChanged
        )));
    }

    fn with_two_step_and_expired_device() -> Vec<AccountEvent> {
        let mut events = with_device();
        events.push(AccountEvent::TwoStepEnabled(TwoStepEnabled {
            method: TwoStepMethod::Email,
            recovery_codes: vec![],
            step: None,
            at: t0(),
        }));
        events
    }

    #[test]
    fn renewing_a_device_session_at_its_end_of_life_skips_the_second_step_when_the_organization_allows(
    ) {
        let at = t0() + Duration::days(91);
        let policy = DevicePolicy {
            max_days: 90,
            two_step_again: false,
        };
        let state = Account::fold(with_two_step_and_expired_device().iter());
        let Ok(events) = Account::decide(&state, sign_in_from_app(policy, Some(hash(1))), at)
        else {
            panic!("refused");
        };
        assert!(matches!(events[0], AccountEvent::SignInSucceeded(_)));
        assert!(matches!(
            &events[1],
            AccountEvent::DeviceSessionStarted(e) if e.renews == Some(DEVICE)
        ));
    }

    #[test]
    fn renewing_a_device_session_asks_for_the_second_step_again_by_default() {
        let at = t0() + Duration::days(91);
        let state = Account::fold(with_two_step_and_expired_device().iter());
        let Ok(events) = Account::decide(
            &state,
            sign_in_from_app(DevicePolicy::default(), Some(hash(1))),
            at,
        ) else {
            panic!("refused");
        };
        assert!(matches!(
            &events[..],
            [AccountEvent::SecondFactorRequired(_)]
        ));
    }

    #[test]
    fn a_refresh_token_of_a_device_session_still_open_does_not_skip_the_second_step() {
        let policy = DevicePolicy {
            max_days: 90,
            two_step_again: false,
        };
        let state = Account::fold(with_two_step_and_expired_device().iter());
        let Ok(events) = Account::decide(&state, sign_in_from_app(policy, Some(hash(1))), t0())
        else {
            panic!("refused");
        };
        assert!(matches!(
            &events[..],
            [AccountEvent::SecondFactorRequired(_)]
        ));
    }

    #[test]
    fn a_refresh_opens_an_access_session_the_account_can_revoke() {
        let mut events = with_device();
        events.push(refreshed(2, 2, t0()));
        let state = Account::fold(events.iter());
        let profile = state.profile().unwrap();
        assert!(profile.sessions.contains(&OpenSession {
            id: session(2),
            expires_at: t0() + Duration::minutes(ACCESS_MINUTES),
        }));
        assert_eq!(profile.devices[0].retired, vec![hash(1)]);
    }

    #[test]
    fn a_device_policy_lasts_between_1_and_365_days() {
        let at = |max_days| DevicePolicy {
            max_days,
            two_step_again: true,
        };
        assert!(at(0).broken_rule().is_some());
        assert!(at(366).broken_rule().is_some());
        assert!(at(1).broken_rule().is_none());
        assert!(at(365).broken_rule().is_none());
    }
}
