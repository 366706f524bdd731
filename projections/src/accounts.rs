//! Read model `accounts`: one row per account with its names, e-mail and status. Erased personal data is NULL.

use chrono::{DateTime, NaiveDate, Utc};
use deadpool_postgres::Pool;
use portal_commands::log::RecordedEvent;
use portal_domain::account::{Account, AccountEvent};
use portal_domain::values::{PersonName, ProfileDetails};
use portal_domain::{Decider, Personal};
use uuid::Uuid;

use crate::{decode_if, params, writes::Writes, Projection, ProjectionError};

/// The accounts projection.
pub struct Accounts;

/// Its name, for read-your-writes waits.
pub const NAME: &str = "accounts";

/// A name's title, first, middle and last parts as the read models keep them (all None once erased).
fn name_parts(name: Option<&PersonName>) -> [Option<String>; 4] {
    [
        name.and_then(|n| n.title.as_ref())
            .map(|t| t.as_str().to_owned()),
        name.map(|n| n.first.as_str().to_owned()),
        name.and_then(|n| n.middle.as_ref())
            .map(|m| m.as_str().to_owned()),
        name.map(|n| n.last.as_str().to_owned()),
    ]
}

/// Adds a name to the account's history of names, in force from `effective_on` (None: from the beginning).
fn record_name(
    writes: &mut Writes,
    account: Uuid,
    organization: Uuid,
    effective_on: Option<NaiveDate>,
    at: DateTime<Utc>,
    name: Option<&PersonName>,
) {
    let [title, first, middle, last] = name_parts(name);
    writes.execute(
        "INSERT INTO account_names (account_id, organization_id, effective_on, recorded_at, title, first_name,
                                    middle_name, last_name)
         VALUES ($1, $2, coalesce($3::date, '-infinity'), $4, $5, $6, $7, $8)",
        params![account, organization, effective_on, at, title, first, middle, last],
    );
}

impl Projection for Accounts {
    fn name(&self) -> &'static str {
        NAME
    }

    fn tables(&self) -> &'static [&'static str] {
        &["accounts", "account_phones", "account_names"]
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
                    let name = e.name.known();
                    let [title, first, middle, last] = name_parts(name);
                    let email = match &e.email {
                        Personal::Known(email) => Some(email.as_str().to_owned()),
                        Personal::Erased => None,
                    };
                    let missing: Vec<String> = ProfileDetails::default()
                        .missing_fields()
                        .into_iter()
                        .map(str::to_owned)
                        .collect();
                    writes.execute(
                        "INSERT INTO accounts (id, organization_id, role, title, first_name, middle_name, last_name,
                                               email, status, registered_at, missing_profile_fields)
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'pending', $9, $10)",
                        params![
                            id,
                            e.organization_id.0,
                            e.role.as_str().to_owned(),
                            title,
                            first,
                            middle,
                            last,
                            email,
                            e.registered_at,
                            missing,
                        ],
                    );
                    record_name(writes, id, e.organization_id.0, None, e.registered_at, name);
                }
                AccountEvent::NameChanged(e) => {
                    let name = e.name.known();
                    let [title, first, middle, last] = name_parts(name);
                    writes.execute(
                        "UPDATE accounts SET title = $2, first_name = $3, middle_name = $4, last_name = $5
                         WHERE id = $1",
                        params![id, title, first, middle, last],
                    );
                    record_name(
                        writes,
                        id,
                        recorded.tenant,
                        Some(e.effective_on),
                        e.at,
                        name,
                    );
                }
                AccountEvent::AccountActivated(e) => {
                    writes.execute(
                        "UPDATE accounts SET status = 'active', activated_at = $2 WHERE id = $1",
                        params![id, e.activated_at],
                    );
                }
                AccountEvent::PersonalDataErased(e) => {
                    writes.execute(
                        "UPDATE accounts SET title = NULL, first_name = NULL, middle_name = NULL, last_name = NULL,
                             email = NULL, profile = NULL, board = NULL, board_id = NULL, board_consented_at = NULL,
                             username = NULL, two_step = NULL, disabled = true, erased_at = $2
                         WHERE id = $1",
                        params![id, e.at],
                    );
                    writes.execute(
                        "DELETE FROM account_phones WHERE account_id = $1",
                        params![id],
                    );
                    writes.execute(
                        "UPDATE account_names SET title = NULL, first_name = NULL, middle_name = NULL,
                             last_name = NULL
                         WHERE account_id = $1",
                        params![id],
                    );
                }
                AccountEvent::AccountDisabled(_) | AccountEvent::AccountEnabled(_) => {
                    let disabled = matches!(event, AccountEvent::AccountDisabled(_));
                    writes.execute(
                        "UPDATE accounts SET disabled = $2 WHERE id = $1",
                        params![id, disabled],
                    );
                }
                AccountEvent::ProfileUpdated(e) => {
                    let (profile, missing) = match &e.details {
                        Personal::Known(details) => (
                            serde_json::to_value(details).ok(),
                            details
                                .missing_fields()
                                .into_iter()
                                .map(str::to_owned)
                                .collect::<Vec<_>>(),
                        ),
                        Personal::Erased => (
                            None,
                            ProfileDetails::default()
                                .missing_fields()
                                .into_iter()
                                .map(str::to_owned)
                                .collect(),
                        ),
                    };
                    writes.execute(
                        "UPDATE accounts SET profile = $2, missing_profile_fields = $3 WHERE id = $1",
                        params![id, profile, missing],
                    );
                }
                AccountEvent::EmailChanged(e) => {
                    let email = match &e.email {
                        Personal::Known(email) => Some(email.as_str().to_owned()),
                        Personal::Erased => None,
                    };
                    writes.execute(
                        "UPDATE accounts SET email = $2 WHERE id = $1",
                        params![id, email],
                    );
                }
                AccountEvent::SignInSucceeded(e) => {
                    writes.execute(
                        "UPDATE accounts SET last_signed_in_at = $2 WHERE id = $1",
                        params![id, e.at],
                    );
                }
                AccountEvent::ActivationIssued(_)
                | AccountEvent::RegistrationRepeated(_)
                | AccountEvent::SignInFailed(_)
                | AccountEvent::AccountLocked(_)
                | AccountEvent::AccountUnlocked(_)
                | AccountEvent::SessionsRevoked(_)
                | AccountEvent::PasswordResetRequested(_)
                | AccountEvent::PasswordReset(_)
                | AccountEvent::PasswordChanged(_)
                | AccountEvent::EmailChangeRequested(_)
                | AccountEvent::DeviceSessionStarted(_)
                | AccountEvent::DeviceSessionRefreshed(_)
                | AccountEvent::RefreshTokenReused(_)
                | AccountEvent::DeviceSessionsEnded(_)
                | AccountEvent::PhoneVerificationFailed(_) => {}
                AccountEvent::BoardReportingConsented(e) => {
                    let reporting = e.reporting.known();
                    writes.execute(
                        "UPDATE accounts SET board = $2, board_id = $3, board_consented_at = $4 WHERE id = $1",
                        params![
                            id,
                            reporting.map(|r| r.board.abbreviation()),
                            reporting.map(|r| r.board_id.as_str()).map(str::to_owned),
                            e.at,
                        ],
                    );
                }
                AccountEvent::UsernameChosen(e) => {
                    writes.execute(
                        "UPDATE accounts SET username = $2 WHERE id = $1",
                        params![
                            id,
                            e.username.known().map(|u| u.as_str()).map(str::to_owned),
                        ],
                    );
                }
                AccountEvent::TwoStepEnabled(e) => {
                    writes.execute(
                        "UPDATE accounts SET two_step = $2 WHERE id = $1",
                        params![id, e.method.as_str().to_owned()],
                    );
                }
                AccountEvent::TwoStepDisabled(_) => {
                    writes.execute(
                        "UPDATE accounts SET two_step = NULL WHERE id = $1",
                        params![id],
                    );
                }
                AccountEvent::TotpEnrollmentStarted(_)
                | AccountEvent::SecondFactorRequired(_)
                | AccountEvent::SecondFactorPassed(_)
                | AccountEvent::SecondFactorFailed(_)
                | AccountEvent::CurrentPasswordRefused(_)
                | AccountEvent::CalendarFeedIssued(_) => {}
                AccountEvent::TermsAccepted(e) => {
                    writes.execute(
                        "UPDATE accounts SET terms_accepted_version = $2 WHERE id = $1",
                        params![id, i32::try_from(e.version).unwrap_or(i32::MAX)],
                    );
                }
                AccountEvent::BoardReportingWithdrawn(_) => {
                    writes.execute(
                        "UPDATE accounts SET board = NULL, board_id = NULL, board_consented_at = NULL WHERE id = $1",
                        params![id],
                    );
                }
                AccountEvent::PhonePaired(e) => {
                    upsert_phone(writes, id, recorded.tenant, e.number.known(), true, e.at)?;
                }
                AccountEvent::PhoneVerificationSent(e) => {
                    upsert_phone(writes, id, recorded.tenant, e.number.known(), false, e.at)?;
                }
                AccountEvent::PhoneVerified(e) => {
                    upsert_phone(writes, id, recorded.tenant, e.number.known(), true, e.at)?;
                }
                AccountEvent::PhoneRemoved(e) => {
                    if let Some(number) = e.number.known() {
                        writes.execute(
                            "DELETE FROM account_phones WHERE account_id = $1 AND number = $2",
                            params![id, number.as_str().to_owned()],
                        );
                    }
                }
            }
        }
        Ok(())
    }
}

/// Adds a number or marks it verified; an erased number leaves no row.
fn upsert_phone(
    writes: &mut Writes,
    account: Uuid,
    organization: Uuid,
    number: Option<&portal_domain::values::PhoneNumber>,
    verified: bool,
    at: DateTime<Utc>,
) -> Result<(), ProjectionError> {
    let Some(number) = number else {
        return Ok(());
    };
    writes.execute(
        "INSERT INTO account_phones (account_id, organization_id, number, verified, added_at)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (account_id, number) DO UPDATE SET verified = account_phones.verified OR EXCLUDED.verified",
        params![account, organization, number.as_str().to_owned(), verified, at],
    );
    Ok(())
}

/// A learner's number as the portal shows it.
#[derive(Clone, Debug, PartialEq)]
pub struct PhoneRow {
    /// E.164.
    pub number: String,
    /// Paired by text or verified by code.
    pub verified: bool,
    /// When added.
    pub added_at: DateTime<Utc>,
}

/// The numbers of an account.
pub async fn phones(
    pool: &Pool,
    organization: Uuid,
    account: Uuid,
) -> Result<Vec<PhoneRow>, ProjectionError> {
    let client = pool.get().await?;
    let rows = client
        .query(
            "SELECT number, verified, added_at FROM account_phones
             WHERE organization_id = $1 AND account_id = $2 ORDER BY added_at, number",
            &[&organization, &account],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| PhoneRow {
            number: r.get(0),
            verified: r.get(1),
            added_at: r.get(2),
        })
        .collect())
}

/// A row of `accounts`.
#[derive(Clone, Debug, PartialEq)]
pub struct AccountRow {
    /// The account.
    pub id: Uuid,
    /// Its organization.
    pub organization_id: Uuid,
    /// `learner` or `staff`.
    pub role: String,
    /// Courtesy title.
    pub title: Option<String>,
    /// Given name.
    pub first_name: Option<String>,
    /// Middle name.
    pub middle_name: Option<String>,
    /// Family name.
    pub last_name: Option<String>,
    /// Sign-in address.
    pub email: Option<String>,
    /// `pending` or `active`.
    pub status: String,
    /// When registered.
    pub registered_at: DateTime<Utc>,
    /// When activated.
    pub activated_at: Option<DateTime<Utc>>,
    /// Last successful sign-in.
    pub last_signed_in_at: Option<DateTime<Utc>>,
    /// The professional profile (JSON of `ProfileDetails`), once filled in.
    pub profile: Option<serde_json::Value>,
    /// Required profile fields still unanswered.
    pub missing_profile_fields: Vec<String>,
    /// Disabled by staff.
    pub disabled: bool,
    /// The board completions are reported to, with consent (`ABIM`, `STATE`, ...).
    pub board: Option<String>,
    /// The learner's id there.
    pub board_id: Option<String>,
    /// When they consented.
    pub board_consented_at: Option<DateTime<Utc>>,
    /// Two-step verification in use (`totp`), if any.
    pub two_step: Option<String>,
    /// The sign-in name (patients).
    pub username: Option<String>,
    /// The version of the organization's terms accepted (patients).
    pub terms_accepted_version: Option<i32>,
}

const ACCOUNT_COLUMNS: &str = "id, organization_id, role, title, first_name, middle_name, last_name, email, status,
    registered_at, activated_at, last_signed_in_at, profile, missing_profile_fields, disabled, board, board_id,
    board_consented_at, two_step, username, terms_accepted_version";

fn account_row(r: &tokio_postgres::Row) -> AccountRow {
    AccountRow {
        id: r.get(0),
        organization_id: r.get(1),
        role: r.get(2),
        title: r.get(3),
        first_name: r.get(4),
        middle_name: r.get(5),
        last_name: r.get(6),
        email: r.get(7),
        status: r.get(8),
        registered_at: r.get(9),
        activated_at: r.get(10),
        last_signed_in_at: r.get(11),
        profile: r.get(12),
        missing_profile_fields: r.get(13),
        disabled: r.get(14),
        board: r.get(15),
        board_id: r.get(16),
        board_consented_at: r.get(17),
        two_step: r.get(18),
        username: r.get(19),
        terms_accepted_version: r.get(20),
    }
}

/// Learners of an organization whose name or e-mail address contains `search` (case-insensitive), by last and
/// first name; at most `limit`.
pub async fn search_learners(
    pool: &Pool,
    organization: Uuid,
    search: &str,
    limit: i64,
) -> Result<Vec<AccountRow>, ProjectionError> {
    let pattern = crate::contains_pattern(search);
    by_name(
        pool,
        "role = 'learner' AND (email ILIKE $2 OR concat_ws(' ', first_name, middle_name, last_name) ILIKE $2)",
        limit,
        &[&organization, &pattern],
    )
    .await
}

/// The staff and provider accounts of an organization (who may be on a care team), by last and first name.
pub async fn staff_and_providers(
    pool: &Pool,
    organization: Uuid,
) -> Result<Vec<AccountRow>, ProjectionError> {
    by_name(pool, "role IN ('staff', 'provider')", 500, &[&organization]).await
}

/// The accounts on the care team of `team` (a provider or department of the catalogue), by last and first name.
pub async fn care_team_members(
    pool: &Pool,
    organization: Uuid,
    team: Uuid,
) -> Result<Vec<AccountRow>, ProjectionError> {
    by_name(
        pool,
        "id IN (SELECT account_id FROM care_team_members WHERE organization_id = $1 AND team_id = $2)",
        500,
        &[&organization, &team],
    )
    .await
}

/// At most `limit` accounts of the organization (`$1`) that meet `condition`, in last-name order.
async fn by_name(
    pool: &Pool,
    condition: &str,
    limit: i64,
    params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
) -> Result<Vec<AccountRow>, ProjectionError> {
    let client = pool.get().await?;
    let rows = client
        .query(
            &format!(
                "SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE organization_id = $1 AND ({condition})
                 ORDER BY lower(last_name), lower(first_name), id LIMIT {limit}"
            ),
            params,
        )
        .await?;
    Ok(rows.iter().map(account_row).collect())
}

/// One account of one organization (the organization is part of the key: tenants never see each other).
pub async fn find(
    pool: &Pool,
    organization: Uuid,
    id: Uuid,
) -> Result<Option<AccountRow>, ProjectionError> {
    let client = pool.get().await?;
    let row = client
        .query_opt(
            &format!(
                "SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE organization_id = $1 AND id = $2"
            ),
            &[&organization, &id],
        )
        .await?;
    Ok(row.as_ref().map(account_row))
}
