//! Two-step verification with an authenticator app (TOTP, RFC 6238: HMAC-SHA1, 6 digits, 30-second steps, one step
//! of clock drift either way) and one-time recovery codes, and the second step of a sign-in.

use portal_domain::account::{
    Account, AccountCommand, AccountError, AccountEvent, PasswordCheck, PasswordConfirmation,
};
use portal_domain::session::Principal;
use portal_domain::two_step::{
    SecondFactorCheck, TotpSecret, TwoStepCommand, TwoStepMethod, RECOVERY_CODES,
};
use portal_domain::values::TokenHash;
use portal_domain::{Decider, Personal, SessionId};
use totp_rs::{Algorithm, TOTP};
use uuid::Uuid;

use crate::accounts::{self, start_session, SignedIn};
use crate::credentials;
use crate::handler::{
    append_error, back_off, execute, CommandContext, CommandError, Plan, MAX_ATTEMPTS,
};
use crate::log::{AppendError, CommandRecord, Commit, EventLog, ExpectedVersion, StreamWrite};
use crate::organizations::OrganizationSummary;
use crate::store::Store;

/// Characters of recovery codes: no 0/O or 1/I/L.
const RECOVERY_ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";

fn totp(secret: &TotpSecret) -> Result<TOTP, CommandError<AccountError>> {
    TOTP::new(Algorithm::SHA1, 6, 1, 30, secret.0.clone())
        .map_err(|e| CommandError::Internal(format!("TOTP secret: {e:?}")))
}

/// The 30-second step whose code `code` is, within one step of `now` either way.
pub fn matching_step(
    secret: &TotpSecret,
    code: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Option<u64>, CommandError<AccountError>> {
    let totp = totp(secret)?;
    let code = code.trim();
    let current = u64::try_from(now.timestamp()).unwrap_or(0) / 30;
    let mut matched = None;
    // Every candidate is computed and compared in constant time, so the timing says nothing about which matched.
    for step in current.saturating_sub(1)..=current + 1 {
        let expected = totp.generate(step * 30);
        let equal = expected.len() == code.len()
            && expected
                .bytes()
                .zip(code.bytes())
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0;
        if equal && matched.is_none() {
            matched = Some(step);
        }
    }
    Ok(matched)
}

fn recovery_hash<L: EventLog>(store: &Store<L>, account: Uuid, code: &str) -> TokenHash {
    let normalised: String = code
        .trim()
        .to_ascii_lowercase()
        .chars()
        .filter(|c| *c != '-' && *c != ' ')
        .collect();
    let digest = store
        .secrets
        .index_hash("recovery_code", &format!("{account}:{normalised}"));
    let mut bytes = [0u8; 32];
    bytes.copy_from_slice(&digest[..32]);
    TokenHash(bytes)
}

fn new_recovery_code() -> String {
    let random: [u8; 10] = credentials::random_bytes();
    let text: String = random
        .iter()
        .map(|b| RECOVERY_ALPHABET[usize::from(*b) % RECOVERY_ALPHABET.len()] as char)
        .collect();
    format!("{}-{}", &text[..5], &text[5..])
}

/// A six-digit code to send by e-mail or text.
pub fn new_sent_code() -> String {
    let random: [u8; 8] = credentials::random_bytes();
    format!("{:06}", u64::from_le_bytes(random) % 1_000_000)
}

/// The keyed hash of a sent code, bound to its account and challenge: six digits are too few for a plain hash.
pub fn sent_code_hash<L: EventLog>(
    store: &Store<L>,
    account: Uuid,
    challenge: &TokenHash,
    code: &str,
) -> TokenHash {
    let challenge: String = challenge.0.iter().map(|b| format!("{b:02x}")).collect();
    let digest = store.secrets.index_hash(
        "two_step_code",
        &format!("{account}:{challenge}:{}", code.trim()),
    );
    let mut bytes = [0u8; 32];
    bytes.copy_from_slice(&digest[..32]);
    TokenHash(bytes)
}

/// The message that carries a sign-in code, to the account's address or verified number.
pub fn code_message(
    profile: &portal_domain::account::Profile,
    code: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> Option<crate::log::OutboxMessage> {
    match profile.two_step.as_ref().map(|t| &t.method) {
        Some(TwoStepMethod::Email) => match (&profile.email, &profile.name) {
            (Personal::Known(to), Personal::Known(name)) => Some(
                crate::messages::sign_in_code_email(to, name.salutation(), code, now),
            ),
            _ => None,
        },
        Some(TwoStepMethod::Sms {
            number: Personal::Known(number),
        }) => Some(crate::messages::sign_in_code_text(number, code, now)),
        _ => None,
    }
}

/// Turns on codes by e-mail or text (to a verified number); answers the recovery codes, shown once.
pub async fn enable_codes<L: EventLog>(
    store: &Store<L>,
    principal: &Principal,
    method: TwoStepMethod,
    ctx: &CommandContext,
) -> Result<(Vec<String>, Option<i64>), CommandError<AccountError>> {
    let id = principal.account;
    let codes: Vec<String> = (0..RECOVERY_CODES).map(|_| new_recovery_code()).collect();
    let hashes: Vec<TokenHash> = codes
        .iter()
        .map(|c| recovery_hash(store, id.0, c))
        .collect();
    let fingerprint = store.secrets.fingerprint(
        "EnableTwoStepCodes",
        &[id.0.as_bytes(), format!("{method:?}").as_bytes()],
    );
    let executed = execute::<L, Account>(
        store,
        &accounts::stream(id),
        Some(id.0),
        ctx,
        "EnableTwoStepCodes",
        fingerprint,
        |_| {
            Ok(Plan::command(
                principal.organization.0,
                AccountCommand::TwoStep(TwoStepCommand::EnableCodes {
                    method: method.clone(),
                    recovery_codes: hashes.clone(),
                }),
            ))
        },
    )
    .await?;
    if executed.replayed.is_some() {
        return Err(CommandError::IdempotencyKeyReused);
    }
    Ok((codes, executed.last_position))
}

/// Percent-encodes text for an `otpauth://` URI.
fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect()
}

/// An authenticator app's set-up, shown once.
#[derive(Debug)]
pub struct TotpEnrollment {
    /// The secret in base32, for typing into the app.
    pub secret: String,
    /// The `otpauth://totp/...` URI, for a QR code.
    pub uri: String,
    /// Position of the event appended.
    pub last_position: Option<i64>,
}

/// Starts setting up an authenticator app: a new secret, kept encrypted until the first code confirms it.
pub async fn start_totp<L: EventLog>(
    store: &Store<L>,
    organization: &OrganizationSummary,
    principal: &Principal,
    ctx: &CommandContext,
) -> Result<TotpEnrollment, CommandError<AccountError>> {
    let secret = TotpSecret(credentials::random_bytes::<20>().to_vec());
    let base32 = totp(&secret)?.get_secret_base32();
    let id = principal.account;
    let fingerprint = store
        .secrets
        .fingerprint("StartTotp", &[id.0.as_bytes(), ctx.command_id.as_bytes()]);
    let mut label = String::new();
    let executed = execute::<L, Account>(
        store,
        &accounts::stream(id),
        Some(id.0),
        ctx,
        "StartTotp",
        fingerprint,
        |state| {
            let profile = state.profile().ok_or(AccountError::NotFound)?;
            label = match (&profile.username, &profile.email) {
                (Some(Personal::Known(username)), _) => username.as_str().to_owned(),
                (_, Personal::Known(email)) => email.as_str().to_owned(),
                _ => id.0.to_string(),
            };
            Ok(Plan::command(
                principal.organization.0,
                AccountCommand::TwoStep(TwoStepCommand::StartTotp {
                    secret: secret.clone(),
                }),
            ))
        },
    )
    .await?;
    if executed.replayed.is_some() {
        // The secret of the first attempt is not shown twice.
        return Err(CommandError::IdempotencyKeyReused);
    }
    let issuer = organization.name.as_str();
    Ok(TotpEnrollment {
        uri: format!(
            "otpauth://totp/{}:{}?secret={base32}&issuer={}&algorithm=SHA1&digits=6&period=30",
            encode(issuer),
            encode(&label),
            encode(issuer)
        ),
        secret: base32,
        last_position: executed.last_position,
    })
}

/// Confirms the app with its current code and turns two-step verification on; answers the recovery codes, shown
/// once (only their keyed hashes are kept).
pub async fn confirm_totp<L: EventLog>(
    store: &Store<L>,
    principal: &Principal,
    code: &str,
    ctx: &CommandContext,
) -> Result<(Vec<String>, Option<i64>), CommandError<AccountError>> {
    let id = principal.account;
    let codes: Vec<String> = (0..RECOVERY_CODES).map(|_| new_recovery_code()).collect();
    let hashes: Vec<TokenHash> = codes
        .iter()
        .map(|c| recovery_hash(store, id.0, c))
        .collect();
    let (state, _) = store.load::<Account>(&accounts::stream(id)).await?;
    let secret = state
        .profile()
        .and_then(|p| p.totp_enrollment.as_ref())
        .and_then(|s| s.known().cloned())
        .ok_or(CommandError::Rejected(AccountError::TwoStepNotStarted))?;
    let check = match matching_step(&secret, code, ctx.now)? {
        Some(step) => SecondFactorCheck::Totp { step },
        None => SecondFactorCheck::Mismatched,
    };
    let fingerprint = store
        .secrets
        .fingerprint("ConfirmTotp", &[id.0.as_bytes(), code.as_bytes()]);
    let executed = execute::<L, Account>(
        store,
        &accounts::stream(id),
        Some(id.0),
        ctx,
        "ConfirmTotp",
        fingerprint,
        |_| {
            Ok(Plan::command(
                principal.organization.0,
                AccountCommand::TwoStep(TwoStepCommand::ConfirmTotp {
                    check,
                    recovery_codes: hashes.clone(),
                }),
            ))
        },
    )
    .await?;
    if executed.replayed.is_some() {
        return Err(CommandError::IdempotencyKeyReused);
    }
    Ok((codes, executed.last_position))
}

/// Turns two-step verification off; the current password is required.
pub async fn disable<L: EventLog>(
    store: &Store<L>,
    principal: &Principal,
    current_password: &str,
    ctx: &CommandContext,
) -> Result<Option<i64>, CommandError<AccountError>> {
    let id = principal.account;
    let (state, _) = store.load::<Account>(&accounts::stream(id)).await?;
    let hash = state
        .profile()
        .and_then(|p| p.password_hash.known().cloned());
    let password = accounts::check_password(&store.passwords, hash, current_password).await?;
    if password == PasswordCheck::Mismatched {
        return Err(accounts::refuse_current_password(
            store,
            principal,
            PasswordConfirmation::DisableTwoStep,
            ctx,
        )
        .await);
    }
    // The organization's rule decides with the account's: turning it off is refused where it is required.
    let required = crate::organizations::find_by_id(store, principal.organization)
        .await?
        .is_some_and(|org| org.two_step.applies_to(principal.role));
    let fingerprint = store
        .secrets
        .fingerprint("DisableTwoStep", &[id.0.as_bytes()]);
    let executed = execute::<L, Account>(
        store,
        &accounts::stream(id),
        Some(id.0),
        ctx,
        "DisableTwoStep",
        fingerprint,
        |_| {
            Ok(Plan::command(
                principal.organization.0,
                AccountCommand::TwoStep(TwoStepCommand::Disable { password, required }),
            ))
        },
    )
    .await?;
    Ok(executed.last_position)
}

/// Answers a sign-in challenge with the app's current code or a recovery code, and opens the session. A wrong code
/// counts towards the lockout like a wrong password.
pub async fn complete_sign_in<L: EventLog>(
    store: &Store<L>,
    organization: &OrganizationSummary,
    challenge_token: &str,
    code: &str,
    device: Option<&crate::devices::DeviceSignIn>,
    ctx: &CommandContext,
) -> Result<SignedIn, CommandError<AccountError>> {
    let invalid = || CommandError::Rejected(AccountError::ChallengeInvalid);
    let (account_id, challenge) = credentials::parse_token(challenge_token).ok_or_else(invalid)?;
    let account_stream = accounts::stream(portal_domain::AccountId(account_id));
    let session = SessionId(Uuid::new_v4());
    let pending_device = device.map(|device| {
        crate::devices::PendingDevice::new(device, portal_domain::AccountId(account_id))
    });
    for attempt in 0..MAX_ATTEMPTS {
        if attempt > 0 {
            back_off(attempt).await;
        }
        let (state, version) = store.load::<Account>(&account_stream).await?;
        let profile = state
            .profile()
            .filter(|p| p.organization == organization.id)
            .ok_or_else(invalid)?;
        let Some(two_step) = profile.two_step.as_ref() else {
            return Err(invalid());
        };
        let check = if code.trim().len() > 6 {
            SecondFactorCheck::RecoveryCode {
                hash: recovery_hash(store, account_id, code),
            }
        } else {
            match (
                &two_step.method,
                two_step.secret.as_ref().and_then(|s| s.known()),
            ) {
                (TwoStepMethod::Totp, Some(secret)) => {
                    match matching_step(secret, code, ctx.now)? {
                        Some(step) => SecondFactorCheck::Totp { step },
                        None => SecondFactorCheck::Mismatched,
                    }
                }
                (TwoStepMethod::Totp, None) => SecondFactorCheck::Mismatched,
                (TwoStepMethod::Email | TwoStepMethod::Sms { .. }, _) => {
                    SecondFactorCheck::SentCode {
                        hash: sent_code_hash(store, account_id, &challenge, code),
                    }
                }
            }
        };
        let events = Account::decide(
            &state,
            AccountCommand::TwoStep(TwoStepCommand::CompleteSignIn {
                challenge,
                check,
                session,
                policy: organization.policy,
                device: pending_device
                    .as_ref()
                    .map(|pending| pending.request(organization)),
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
            crate::sessions::end_writes(
                store,
                &<Account as crate::handler::EndsSessions>::sessions_to_end(&events),
                ctx,
            )
            .await?,
        );
        let mut signed_in = None;
        let mut command = None;
        let principal = Principal {
            session,
            account: portal_domain::AccountId(account_id),
            organization: profile.organization,
            role: profile.role,
        };
        if let Some((session_write, opened)) = start_session(
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
                fingerprint: store.secrets.fingerprint(
                    "CompleteSignIn",
                    &[challenge_token.as_bytes(), code.as_bytes()],
                ),
                outcome: serde_json::Value::Null,
            });
            signed_in = Some(opened);
        }
        let commit = Commit {
            tenant: organization.id.0,
            writes,
            metadata: ctx.metadata("CompleteSignIn"),
            command,
            ..Default::default()
        };
        match store.append(commit).await {
            Ok(committed) => {
                return match signed_in {
                    Some(opened) => Ok(SignedIn {
                        last_position: committed.last_position,
                        ..opened
                    }),
                    None => match events.iter().find_map(|e| match e {
                        AccountEvent::AccountLocked(locked) => Some(locked.until),
                        _ => None,
                    }) {
                        Some(until) => Err(CommandError::Rejected(AccountError::Locked { until })),
                        None => Err(CommandError::Rejected(AccountError::SecondFactorInvalid)),
                    },
                }
            }
            Err(AppendError::WrongExpectedVersion { .. }) => continue,
            Err(error) => return Err(append_error(error)),
        }
    }
    Err(CommandError::Conflict(MAX_ATTEMPTS, account_stream))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn the_rfc_6238_test_vector_matches_its_step() {
        // RFC 6238, appendix B: the SHA-1 secret "12345678901234567890" gives 94287082 (8 digits) at 59 s; the
        // six-digit code is its last six digits.
        let secret = TotpSecret(b"12345678901234567890".to_vec());
        let at = chrono::Utc.timestamp_opt(59, 0).unwrap();
        assert_eq!(matching_step(&secret, "287082", at).unwrap(), Some(1));
        assert_eq!(matching_step(&secret, "287083", at).unwrap(), None);
        let two_minutes_later = chrono::Utc.timestamp_opt(59 + 120, 0).unwrap();
        assert_eq!(
            matching_step(&secret, "287082", two_minutes_later).unwrap(),
            None,
            "a code expires"
        );
    }

    #[test]
    fn recovery_codes_are_ten_characters_in_two_groups() {
        let code = new_recovery_code();
        assert_eq!(code.len(), 11);
        assert_eq!(&code[5..6], "-");
    }
}
