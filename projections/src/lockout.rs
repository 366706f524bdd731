//! Read models `account_lockouts` (failure count and lock per account) and `sign_in_attempts` (every attempt, with
//! the client address and user agent from the event's metadata).

use chrono::{DateTime, Utc};
use deadpool_postgres::Pool;
use portal_commands::log::RecordedEvent;
use portal_domain::account::{Account, AccountEvent, SignInFailure};
use portal_domain::Decider;
use uuid::Uuid;

use crate::{decode_if, params, writes::Writes, Projection, ProjectionError};

/// The lockout projection.
pub struct Lockout;

/// Its name.
pub const NAME: &str = "lockout";

fn attempt(
    writes: &mut Writes,
    recorded: &RecordedEvent,
    account: Uuid,
    at: DateTime<Utc>,
    outcome: &str,
) -> Result<(), ProjectionError> {
    writes.execute(
        "INSERT INTO sign_in_attempts (position, account_id, organization_id, at, outcome, client_ip, user_agent)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
        params![
            recorded.position,
            account,
            recorded.tenant,
            at,
            outcome.to_owned(),
            recorded.metadata.client_ip.clone(),
            recorded.metadata.user_agent.clone(),
        ],
    );
    Ok(())
}

impl Projection for Lockout {
    fn name(&self) -> &'static str {
        NAME
    }

    fn tables(&self) -> &'static [&'static str] {
        &["account_lockouts", "sign_in_attempts"]
    }

    fn apply(&self, writes: &mut Writes, events: &[RecordedEvent]) -> Result<(), ProjectionError> {
        for recorded in events {
            let Some(event) = decode_if::<AccountEvent>(recorded, Account::CATEGORY)? else {
                continue;
            };
            let Some(id) = recorded.stream.id() else {
                continue;
            };
            match event {
                AccountEvent::AccountRegistered(e) => {
                    writes.execute(
                        "INSERT INTO account_lockouts (account_id, organization_id) VALUES ($1, $2)",
                        params![id, e.organization_id.0],
                    );
                }
                AccountEvent::SecondFactorFailed(e) => {
                    attempt(writes, recorded, id, e.at, "wrong_second_factor")?;
                    count_failure(writes, id, e.at)?;
                }
                AccountEvent::CurrentPasswordRefused(e) => {
                    attempt(writes, recorded, id, e.at, "wrong_current_password")?;
                    count_failure(writes, id, e.at)?;
                }
                AccountEvent::SignInFailed(e) => {
                    attempt(writes, recorded, id, e.at, e.reason.as_str())?;
                    if e.reason == SignInFailure::WrongPassword {
                        count_failure(writes, id, e.at)?;
                    }
                }
                AccountEvent::AccountLocked(e) => {
                    writes.execute(
                        "UPDATE account_lockouts SET failure_count = $2, locked_since = $3, lock_kind = $4, unlock_at = $5
                         WHERE account_id = $1",
                        params![id, e.failures as i32, e.at, e.kind.as_str().to_owned(), e.until],
                    );
                }
                AccountEvent::AccountUnlocked(_) | AccountEvent::SignInSucceeded(_) => {
                    if let AccountEvent::SignInSucceeded(e) = &event {
                        attempt(writes, recorded, id, e.at, "succeeded")?;
                    }
                    writes.execute(
                        "UPDATE account_lockouts SET failure_count = 0, locked_since = NULL, lock_kind = NULL,
                                                     unlock_at = NULL
                         WHERE account_id = $1",
                        params![id],
                    );
                }
                AccountEvent::PasswordReset(_) => {
                    // As in the decider: a reset clears the count and a cool-down lock, not a staff lock.
                    writes.execute(
                        "UPDATE account_lockouts SET failure_count = 0,
                             locked_since = CASE WHEN lock_kind = 'cool_down' THEN NULL ELSE locked_since END,
                             unlock_at = CASE WHEN lock_kind = 'cool_down' THEN NULL ELSE unlock_at END,
                             lock_kind = CASE WHEN lock_kind = 'cool_down' THEN NULL ELSE lock_kind END
                         WHERE account_id = $1",
                        params![id],
                    );
                }
                AccountEvent::PersonalDataErased(_) => {
                    // The client addresses come from the events' metadata; the read model keeps none of an erased
                    // person's.
                    writes.execute(
                        "UPDATE sign_in_attempts SET client_ip = NULL, user_agent = NULL WHERE account_id = $1",
                        params![id],
                    );
                    writes.execute(
                        "UPDATE account_lockouts SET disabled = true WHERE account_id = $1",
                        params![id],
                    );
                }
                AccountEvent::AccountDisabled(_) | AccountEvent::AccountEnabled(_) => {
                    let disabled = matches!(event, AccountEvent::AccountDisabled(_));
                    writes.execute(
                        "UPDATE account_lockouts SET disabled = $2 WHERE account_id = $1",
                        params![id, disabled],
                    );
                }
                AccountEvent::PasswordChanged(_) => {
                    writes.execute(
                        "UPDATE account_lockouts SET failure_count = 0 WHERE account_id = $1",
                        params![id],
                    );
                }
                AccountEvent::ActivationIssued(_)
                | AccountEvent::EmailChangeRequested(_)
                | AccountEvent::EmailChanged(_)
                | AccountEvent::ProfileUpdated(_)
                | AccountEvent::NameChanged(_)
                | AccountEvent::PasswordResetRequested(_)
                | AccountEvent::AccountActivated(_)
                | AccountEvent::RegistrationRepeated(_)
                | AccountEvent::SessionsRevoked(_)
                | AccountEvent::PhonePaired(_)
                | AccountEvent::PhoneVerificationSent(_)
                | AccountEvent::PhoneVerificationFailed(_)
                | AccountEvent::PhoneVerified(_)
                | AccountEvent::PhoneRemoved(_)
                | AccountEvent::BoardReportingConsented(_)
                | AccountEvent::BoardReportingWithdrawn(_)
                | AccountEvent::UsernameChosen(_)
                | AccountEvent::CalendarFeedIssued(_)
                | AccountEvent::TermsAccepted(_)
                | AccountEvent::TotpEnrollmentStarted(_)
                | AccountEvent::TwoStepEnabled(_)
                | AccountEvent::TwoStepDisabled(_)
                | AccountEvent::SecondFactorRequired(_)
                | AccountEvent::DeviceSessionStarted(_)
                | AccountEvent::DeviceSessionRefreshed(_)
                | AccountEvent::RefreshTokenReused(_)
                | AccountEvent::DeviceSessionsEnded(_)
                | AccountEvent::SecondFactorPassed(_) => {}
            }
        }
        Ok(())
    }
}

/// A locked account, as staff see it.
#[derive(Clone, Debug, PartialEq)]
pub struct LockedAccount {
    /// The account.
    pub account_id: Uuid,
    /// Sign-in address (NULL once erased or before the accounts read model has it).
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
    /// The account's role (`patient`, `learner`, ...; NULL before the accounts read model has it), so that reads
    /// of patients go to the access log.
    pub role: Option<String>,
    /// `until_staff_unlock` or `cool_down`.
    pub lock_kind: String,
    /// When a cool-down lock lifts.
    pub unlock_at: Option<DateTime<Utc>>,
}

/// Accounts of `organization` locked at `now`, newest lock first, after the (locked_since, id) cursor.
pub async fn locked_accounts(
    pool: &Pool,
    organization: Uuid,
    now: DateTime<Utc>,
    after: Option<(DateTime<Utc>, Uuid)>,
    limit: i64,
) -> Result<Vec<LockedAccount>, ProjectionError> {
    let client = pool.get().await?;
    let (after_time, after_id) = match after {
        Some((time, id)) => (Some(time), Some(id)),
        None => (None, None),
    };
    let rows = client
        .query(
            "SELECT l.account_id, a.email, a.first_name, a.last_name, l.failure_count, l.last_failure_at,
                    l.locked_since, l.lock_kind, l.unlock_at, a.role
             FROM account_lockouts l LEFT JOIN accounts a ON a.id = l.account_id
             WHERE l.organization_id = $1 AND l.locked_since IS NOT NULL
               AND (l.unlock_at IS NULL OR l.unlock_at > $2)
               AND ($3::timestamptz IS NULL OR (l.locked_since, l.account_id) < ($3, $4::uuid))
             ORDER BY l.locked_since DESC, l.account_id DESC
             LIMIT $5",
            &[&organization, &now, &after_time, &after_id, &limit],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| LockedAccount {
            account_id: r.get(0),
            email: r.get(1),
            first_name: r.get(2),
            last_name: r.get(3),
            failure_count: r.get(4),
            last_failure_at: r.get(5),
            locked_since: r.get(6),
            lock_kind: r.get(7),
            unlock_at: r.get(8),
            role: r.get(9),
        })
        .collect())
}

/// One sign-in attempt.
#[derive(Clone, Debug, PartialEq)]
pub struct Attempt {
    /// When.
    pub at: DateTime<Utc>,
    /// `succeeded`, `wrong_password`, `account_locked`, `not_activated`.
    pub outcome: String,
    /// The client's address.
    pub client_ip: Option<String>,
    /// The client's user agent.
    pub user_agent: Option<String>,
}

/// The most recent attempts on one account of one organization, newest first.
pub async fn recent_attempts(
    pool: &Pool,
    organization: Uuid,
    account: Uuid,
    limit: i64,
) -> Result<Vec<Attempt>, ProjectionError> {
    let client = pool.get().await?;
    let rows = client
        .query(
            "SELECT at, outcome, client_ip, user_agent FROM sign_in_attempts
             WHERE organization_id = $1 AND account_id = $2 ORDER BY at DESC, position DESC LIMIT $3",
            &[&organization, &account, &limit],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| Attempt {
            at: r.get(0),
            outcome: r.get(1),
            client_ip: r.get(2),
            user_agent: r.get(3),
        })
        .collect())
}

/// Counts a wrong password or second step, as the decider does: not while a lock is in force, not when disabled.
fn count_failure(writes: &mut Writes, id: Uuid, at: DateTime<Utc>) -> Result<(), ProjectionError> {
    writes.execute(
        "UPDATE account_lockouts SET last_failure_at = $2,
             failure_count = failure_count + CASE
                 WHEN disabled THEN 0
                 WHEN locked_since IS NOT NULL AND (unlock_at IS NULL OR unlock_at > $2) THEN 0
                 ELSE 1 END
         WHERE account_id = $1",
        params![id, at],
    );
    Ok(())
}
