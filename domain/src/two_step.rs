//! Two-step verification: after the password, a code from an authenticator app (TOTP, RFC 6238), or a six-digit
//! code sent by e-mail or text to a verified address or number, or one of the one-time recovery codes. Security
//! questions are not offered: NIST SP 800-63B does not allow knowledge-based authentication.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::account::{AccountError, AccountEvent, Profile};
use crate::organization::SecurityPolicy;
use crate::values::TokenHash;
use crate::{Personal, SessionId};

/// How long the second step may wait after the password (and a code sent by e-mail or text works).
pub const CHALLENGE_TTL: Duration = Duration::minutes(10);
/// How long to wait before another code is sent by e-mail or text.
pub const CODE_INTERVAL: Duration = Duration::seconds(60);
/// How many recovery codes are issued.
pub const RECOVERY_CODES: usize = 10;
/// How many unanswered challenges are remembered.
const MAX_CHALLENGES: usize = 5;

/// An authenticator app's shared secret (20 random bytes, shown to the person once as base32).
///
/// A secret (see `crate::secret`): readers outside the write side see `{"$secret": true}`.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct TotpSecret(pub Vec<u8>);

impl Serialize for TotpSecret {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        crate::secret::serialize_secret(serializer, |s| self.0.serialize(s))
    }
}

impl std::fmt::Debug for TotpSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TotpSecret(…)")
    }
}

/// How the second step is done.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "method")]
pub enum TwoStepMethod {
    /// An authenticator app (its secret came with `TotpEnrollmentStarted`).
    Totp,
    /// A code e-mailed to the sign-in address (verified when the account was activated).
    Email,
    /// A code texted to a verified number.
    Sms {
        /// The number (personal).
        number: Personal<crate::values::PhoneNumber>,
    },
}

impl TwoStepMethod {
    /// The stored name.
    pub fn as_str(&self) -> &'static str {
        match self {
            TwoStepMethod::Totp => "totp",
            TwoStepMethod::Email => "email",
            TwoStepMethod::Sms { .. } => "sms",
        }
    }
}

/// Two-step verification as an account holds it.
#[derive(Clone, Debug, PartialEq)]
pub struct TwoStep {
    /// How.
    pub method: TwoStepMethod,
    /// The app's secret (TOTP only).
    pub secret: Option<Personal<TotpSecret>>,
    /// Keyed hashes of the recovery codes not used yet.
    pub recovery_codes: Vec<TokenHash>,
    /// The last 30-second step whose code was accepted: a code is accepted once.
    pub last_step: u64,
}

/// A password accepted, waiting for the second step.
#[derive(Clone, Debug, PartialEq)]
pub struct Challenge {
    /// Hash of the challenge token.
    pub hash: TokenHash,
    /// Keyed hash of the code sent by e-mail or text, for those methods.
    pub code: Option<TokenHash>,
    /// When it was issued.
    pub issued_at: DateTime<Utc>,
    /// When it stops working.
    pub expires_at: DateTime<Utc>,
}

/// What checking the second step found (the caller computes codes; the decider judges them).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SecondFactorCheck {
    /// The app's code of this 30-second step.
    Totp {
        /// The time step whose code matched.
        step: u64,
    },
    /// An unused recovery code, by its keyed hash.
    RecoveryCode {
        /// The hash.
        hash: TokenHash,
    },
    /// A code sent by e-mail or text, by its keyed hash.
    SentCode {
        /// The hash.
        hash: TokenHash,
    },
    /// Nothing matched.
    Mismatched,
}

/// Commands of two-step verification.
#[derive(Clone, Debug)]
pub enum TwoStepCommand {
    /// Starts setting up an authenticator app with a new secret.
    StartTotp {
        /// The secret.
        secret: TotpSecret,
    },
    /// The first code from the app confirms the set-up; recovery codes are issued.
    ConfirmTotp {
        /// The code's check against the pending secret.
        check: SecondFactorCheck,
        /// Keyed hashes of new recovery codes.
        recovery_codes: Vec<TokenHash>,
    },
    /// Turns on codes by e-mail (to the sign-in address) or by text (to a verified number); recovery codes are issued.
    EnableCodes {
        /// E-mail or text.
        method: TwoStepMethod,
        /// Keyed hashes of new recovery codes.
        recovery_codes: Vec<TokenHash>,
    },
    /// Turns two-step verification off (the current password is required), unless the organization requires it.
    Disable {
        /// The password's check.
        password: crate::account::PasswordCheck,
        /// Whether the organization requires two-step verification of this account's role.
        required: bool,
    },
    /// Completes a sign-in whose password was accepted.
    CompleteSignIn {
        /// Hash of the challenge token.
        challenge: TokenHash,
        /// The second step's check.
        check: SecondFactorCheck,
        /// The session to open.
        session: SessionId,
        /// The organization's rules.
        policy: SecurityPolicy,
        /// The device session to open with it, when the sign-in comes from an app.
        device: Option<crate::device::DeviceRequest>,
    },
}

/// Setting up an authenticator app began (v1).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TotpEnrollmentStarted {
    /// The secret (personal: encrypted with the person's key).
    pub secret: Personal<TotpSecret>,
    /// When.
    pub at: DateTime<Utc>,
}

/// Two-step verification was turned on (v1).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TwoStepEnabled {
    /// How.
    pub method: TwoStepMethod,
    /// Keyed hashes of the recovery codes.
    pub recovery_codes: Vec<TokenHash>,
    /// For an app: the step whose code confirmed it (not accepted again).
    pub step: Option<u64>,
    /// When.
    pub at: DateTime<Utc>,
}

/// Two-step verification was turned off (v1).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TwoStepDisabled {
    /// When.
    pub at: DateTime<Utc>,
}

/// The password was right; the second step is asked for (v1).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SecondFactorRequired {
    /// Hash of the challenge token.
    pub challenge: TokenHash,
    /// Keyed hash of the code sent by e-mail or text (null for an app).
    pub code: Option<TokenHash>,
    /// When the challenge expires.
    pub expires_at: DateTime<Utc>,
    /// When.
    pub at: DateTime<Utc>,
}

/// How the second step was passed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "with")]
pub enum SecondFactorUsed {
    /// The app's code of this step.
    Totp {
        /// The step.
        step: u64,
    },
    /// A recovery code, now spent.
    RecoveryCode {
        /// Its hash.
        hash: TokenHash,
    },
    /// The code sent by e-mail or text.
    SentCode,
}

/// The second step was passed (v1); a `SignInSucceeded` follows.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SecondFactorPassed {
    /// The challenge answered.
    pub challenge: TokenHash,
    /// How.
    pub used: SecondFactorUsed,
    /// When.
    pub at: DateTime<Utc>,
}

/// A wrong second step (v1): it counts towards the lockout like a wrong password.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SecondFactorFailed {
    /// When.
    pub at: DateTime<Utc>,
}

/// Decides a two-step command on an active account.
pub(crate) fn decide(
    profile: &Profile,
    command: TwoStepCommand,
    now: DateTime<Utc>,
) -> Result<Vec<AccountEvent>, AccountError> {
    match command {
        TwoStepCommand::StartTotp { secret } => {
            if profile.two_step.is_some() {
                return Err(AccountError::TwoStepAlreadyEnabled);
            }
            Ok(vec![AccountEvent::TotpEnrollmentStarted(
                TotpEnrollmentStarted {
                    secret: Personal::Known(secret),
                    at: now,
                },
            )])
        }
        TwoStepCommand::ConfirmTotp {
            check,
            recovery_codes,
        } => {
            if profile.two_step.is_some() {
                return Err(AccountError::TwoStepAlreadyEnabled);
            }
            if profile.totp_enrollment.is_none() {
                return Err(AccountError::TwoStepNotStarted);
            }
            let SecondFactorCheck::Totp { step } = check else {
                return Err(AccountError::SecondFactorInvalid);
            };
            Ok(vec![AccountEvent::TwoStepEnabled(TwoStepEnabled {
                method: TwoStepMethod::Totp,
                recovery_codes,
                step: Some(step),
                at: now,
            })])
        }
        TwoStepCommand::EnableCodes {
            method,
            recovery_codes,
        } => {
            if profile.two_step.is_some() {
                return Err(AccountError::TwoStepAlreadyEnabled);
            }
            match &method {
                TwoStepMethod::Totp => return Err(AccountError::TwoStepNotStarted),
                TwoStepMethod::Email => {}
                // Only to a number the person proved they hold.
                TwoStepMethod::Sms { number } => match number.known() {
                    Some(n) if profile.holds_phone(n) => {}
                    _ => return Err(AccountError::PhoneNotFound),
                },
            }
            Ok(vec![AccountEvent::TwoStepEnabled(TwoStepEnabled {
                method,
                recovery_codes,
                step: None,
                at: now,
            })])
        }
        TwoStepCommand::Disable { password, required } => {
            if password == crate::account::PasswordCheck::Mismatched {
                return Err(AccountError::CurrentPasswordInvalid);
            }
            if profile.two_step.is_none() {
                return Ok(vec![]);
            }
            if required {
                return Err(AccountError::TwoStepRequired);
            }
            Ok(vec![AccountEvent::TwoStepDisabled(TwoStepDisabled {
                at: now,
            })])
        }
        TwoStepCommand::CompleteSignIn {
            challenge,
            check,
            session,
            policy,
            device,
        } => complete_sign_in(profile, challenge, check, (session, device), &policy, now),
    }
}

fn complete_sign_in(
    profile: &Profile,
    challenge: TokenHash,
    check: SecondFactorCheck,
    (session, device): (SessionId, Option<crate::device::DeviceRequest>),
    policy: &SecurityPolicy,
    now: DateTime<Utc>,
) -> Result<Vec<AccountEvent>, AccountError> {
    let open = profile
        .challenges
        .iter()
        .find(|c| c.hash.ct_eq(&challenge))
        .filter(|c| now < c.expires_at)
        .ok_or(AccountError::ChallengeInvalid)?;
    if profile.disabled || profile.guard.active_lock(now).is_some() {
        return Err(AccountError::Locked {
            until: profile.guard.active_lock(now).and_then(|lock| lock.until),
        });
    }
    let two_step = profile
        .two_step
        .as_ref()
        .ok_or(AccountError::ChallengeInvalid)?;
    let used = match check {
        SecondFactorCheck::Totp { step } if step > two_step.last_step => {
            Some(SecondFactorUsed::Totp { step })
        }
        SecondFactorCheck::RecoveryCode { hash }
            if two_step.recovery_codes.iter().any(|h| h.ct_eq(&hash)) =>
        {
            Some(SecondFactorUsed::RecoveryCode { hash })
        }
        SecondFactorCheck::SentCode { hash } if open.code.is_some_and(|code| code.ct_eq(&hash)) => {
            Some(SecondFactorUsed::SentCode)
        }
        _ => None,
    };
    let Some(used) = used else {
        let mut events = vec![AccountEvent::SecondFactorFailed(SecondFactorFailed {
            at: now,
        })];
        if let Some(lock) = profile.guard.lock_after_failure(&policy.lockout, now) {
            events.push(AccountEvent::AccountLocked(crate::account::AccountLocked {
                at: now,
                kind: lock.kind,
                until: lock.until,
                failures: profile.guard.consecutive_failures + 1,
            }));
            events.extend(crate::account::revoke(
                profile,
                crate::account::RevocationReason::AccountLocked,
                None,
                now,
            ));
        }
        return Ok(events);
    };
    let mut events = vec![AccountEvent::SecondFactorPassed(SecondFactorPassed {
        challenge: open.hash,
        used,
        at: now,
    })];
    events.extend(crate::account::succeeded(
        profile, session, device, policy, now,
    ));
    Ok(events)
}

/// The challenge a right password gets when two-step verification is on; for codes by e-mail or text, `code` is the
/// keyed hash of the code the caller sends. A code is sent at most once a minute.
pub(crate) fn challenge(
    profile: &Profile,
    challenge: TokenHash,
    code: TokenHash,
    now: DateTime<Utc>,
) -> Result<AccountEvent, AccountError> {
    let sends_code = profile
        .two_step
        .as_ref()
        .is_some_and(|t| t.method != TwoStepMethod::Totp);
    if sends_code
        && profile
            .challenges
            .iter()
            .any(|c| c.code.is_some() && now - c.issued_at < CODE_INTERVAL)
    {
        return Err(AccountError::TwoStepCodeRecentlySent);
    }
    Ok(AccountEvent::SecondFactorRequired(SecondFactorRequired {
        challenge,
        code: sends_code.then_some(code),
        expires_at: now + CHALLENGE_TTL,
        at: now,
    }))
}

/// Applies a two-step event to the profile; other events are ignored.
pub(crate) fn apply(profile: &mut Profile, event: &AccountEvent) {
    match event {
        AccountEvent::TotpEnrollmentStarted(e) => profile.totp_enrollment = Some(e.secret.clone()),
        AccountEvent::TwoStepEnabled(e) => {
            profile.two_step = Some(TwoStep {
                method: e.method.clone(),
                secret: match e.method {
                    TwoStepMethod::Totp => profile.totp_enrollment.take(),
                    _ => None,
                },
                recovery_codes: e.recovery_codes.clone(),
                last_step: e.step.unwrap_or(0),
            });
        }
        AccountEvent::TwoStepDisabled(_) => {
            profile.two_step = None;
            profile.totp_enrollment = None;
        }
        AccountEvent::SecondFactorRequired(e) => {
            profile.challenges.retain(|c| c.expires_at > e.at);
            profile.challenges.push(Challenge {
                hash: e.challenge,
                code: e.code,
                issued_at: e.at,
                expires_at: e.expires_at,
            });
            if profile.challenges.len() > MAX_CHALLENGES {
                profile.challenges.remove(0);
            }
        }
        AccountEvent::SecondFactorPassed(e) => {
            profile.challenges.retain(|c| !c.hash.ct_eq(&e.challenge));
            if let Some(two_step) = profile.two_step.as_mut() {
                match e.used {
                    SecondFactorUsed::Totp { step } => two_step.last_step = step,
                    SecondFactorUsed::RecoveryCode { hash } => {
                        two_step.recovery_codes.retain(|h| !h.ct_eq(&hash));
                    }
                    SecondFactorUsed::SentCode => {}
                }
            }
        }
        // As a wrong password: failures while a lock is in force, or on a disabled account, do not count.
        AccountEvent::SecondFactorFailed(e)
            if profile.guard.active_lock(e.at).is_none() && !profile.disabled =>
        {
            profile.guard.consecutive_failures += 1;
        }
        _ => {}
    }
}
