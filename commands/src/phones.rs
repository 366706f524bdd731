//! Learners' mobile numbers: pairing by text, adding and verifying by a texted code, removing. A verified number is
//! claimed in the organization, so that a text from it finds exactly one learner; pairing a number that another
//! account holds moves it, in one commit with both accounts' events.

use portal_domain::account::{Account, AccountCommand, AccountError, AccountEvent, AccountState};
use portal_domain::phones::PhoneCommand;
use portal_domain::values::{EmailAddress, PhoneNumber, TokenHash};
use portal_domain::{AccountId, Decider, OrganizationId, Personal};
use uuid::Uuid;

use crate::accounts::{self, stream};
use crate::handler::{
    append_error, back_off, execute, CommandContext, CommandError, Plan, MAX_ATTEMPTS,
};
use crate::log::{
    AppendError, Claim, CommandRecord, Commit, EventLog, ExpectedVersion, OutboxMessage, StreamId,
    StreamWrite,
};
use crate::messages;
use crate::organizations::OrganizationSummary;
use crate::store::Store;

/// Uniqueness kind of verified numbers (scope: the organization).
pub(crate) const PHONE_CLAIM: &str = "phone";

fn claim<L: EventLog>(
    store: &Store<L>,
    organization: OrganizationId,
    number: &PhoneNumber,
    owner: StreamId,
) -> Claim {
    Claim {
        scope: organization.0,
        kind: PHONE_CLAIM.to_owned(),
        key: store.secrets.index_hash(PHONE_CLAIM, number.as_str()),
        owner,
    }
}

/// The learner whose verified number this is, in the organization.
pub async fn find_by_phone<L: EventLog>(
    store: &Store<L>,
    organization: OrganizationId,
    number: &PhoneNumber,
) -> Result<Option<AccountId>, CommandError<AccountError>> {
    let key = store.secrets.index_hash(PHONE_CLAIM, number.as_str());
    let owner = store
        .log
        .find_claim(organization.0, PHONE_CLAIM, &key)
        .await?;
    Ok(owner.and_then(|s| s.id()).map(AccountId))
}

/// A verification code's keyed hash: six digits are too few to store under a plain hash.
fn code_hash<L: EventLog>(
    store: &Store<L>,
    account: AccountId,
    number: &PhoneNumber,
    code: &str,
) -> TokenHash {
    let digest = store.secrets.index_hash(
        "phone_code",
        &format!("{}:{}:{}", account.0, number.as_str(), code.trim()),
    );
    let mut bytes = [0u8; 32];
    bytes.copy_from_slice(&digest[..32]);
    TokenHash(bytes)
}

/// What pairing by text did.
#[derive(Debug, PartialEq, Eq)]
pub enum Paired {
    /// The number now records attendance for the account; `name` is how to address its holder.
    Paired {
        /// The holder's first name.
        name: String,
    },
    /// No account (or a disabled one) signs in with that address.
    NoAccount,
}

/// A text from `from` named `email`: pairs the number with that account.
pub async fn pair_by_sms<L: EventLog>(
    store: &Store<L>,
    organization: &OrganizationSummary,
    from: &PhoneNumber,
    email: &EmailAddress,
    ctx: &CommandContext,
) -> Result<Paired, CommandError<AccountError>> {
    let Some(account) = accounts::find_by_email(store, organization, email).await? else {
        return Ok(Paired::NoAccount);
    };
    let command = PhoneCommand::Pair {
        number: from.clone(),
    };
    match take(
        store,
        organization,
        account,
        from,
        command,
        "PairPhone",
        ctx,
    )
    .await
    {
        Ok((state, _)) => Ok(match state.profile().map(|p| &p.name) {
            Some(Personal::Known(name)) => Paired::Paired {
                name: name.salutation().to_owned(),
            },
            _ => Paired::NoAccount,
        }),
        Err(CommandError::Rejected(AccountError::Disabled)) => Ok(Paired::NoAccount),
        Err(other) => Err(other),
    }
}

/// The signed-in learner adds a number: a six-digit code is texted to it (valid 10 minutes).
pub async fn add_phone<L: EventLog>(
    store: &Store<L>,
    organization: &OrganizationSummary,
    account: AccountId,
    number: &PhoneNumber,
    ctx: &CommandContext,
) -> Result<Option<i64>, CommandError<AccountError>> {
    let random = Uuid::new_v4();
    let value = u64::from_le_bytes(random.as_bytes()[..8].try_into().unwrap_or([0; 8]));
    let code = format!("{:06}", value % 1_000_000);
    let hash = code_hash(store, account, number, &code);
    let fingerprint = store.secrets.fingerprint(
        "AddPhone",
        &[account.0.as_bytes(), number.as_str().as_bytes()],
    );
    let org = organization.id;
    let executed = execute::<L, Account>(
        store,
        &stream(account),
        Some(account.0),
        ctx,
        "AddPhone",
        fingerprint,
        |state| {
            state
                .profile()
                .filter(|p| p.organization == org)
                .ok_or(AccountError::NotFound)?;
            Ok(Plan::with_outbox(
                org.0,
                AccountCommand::Phone(PhoneCommand::Add {
                    number: number.clone(),
                    code_hash: hash,
                }),
                vec![messages::phone_code(number, &code, ctx.now)],
            ))
        },
    )
    .await?;
    Ok(executed.last_position)
}

/// The learner enters the code texted to `number`; a wrong code counts against the five allowed.
pub async fn verify_phone<L: EventLog>(
    store: &Store<L>,
    organization: &OrganizationSummary,
    account: AccountId,
    number: &PhoneNumber,
    code: &str,
    ctx: &CommandContext,
) -> Result<Option<i64>, CommandError<AccountError>> {
    let command = PhoneCommand::Verify {
        number: number.clone(),
        code_hash: code_hash(store, account, number, code),
    };
    let (state, position) = take(
        store,
        organization,
        account,
        number,
        command,
        "VerifyPhone",
        ctx,
    )
    .await?;
    match state.profile() {
        Some(profile) if profile.holds_phone(number) => Ok(position),
        _ => Err(CommandError::Rejected(AccountError::PhoneCodeInvalid)),
    }
}

/// The learner removes a number; texts from it no longer find them.
pub async fn remove_phone<L: EventLog>(
    store: &Store<L>,
    organization: &OrganizationSummary,
    account: AccountId,
    number: &PhoneNumber,
    ctx: &CommandContext,
) -> Result<Option<i64>, CommandError<AccountError>> {
    let fingerprint = store.secrets.fingerprint(
        "RemovePhone",
        &[account.0.as_bytes(), number.as_str().as_bytes()],
    );
    let org = organization.id;
    let own = claim(store, org, number, stream(account));
    let executed = execute::<L, Account>(
        store,
        &stream(account),
        Some(account.0),
        ctx,
        "RemovePhone",
        fingerprint,
        |state| {
            state
                .profile()
                .filter(|p| p.organization == org)
                .ok_or(AccountError::NotFound)?;
            let mut plan = Plan::command(
                org.0,
                AccountCommand::Phone(PhoneCommand::Remove {
                    number: number.clone(),
                }),
            );
            plan.releases = vec![own.clone()];
            Ok(plan)
        },
    )
    .await?;
    Ok(executed.last_position)
}

/// Runs a phone command that may verify `number` on `account`; when it does, the number is claimed for the
/// account, taken from any other account of the organization that held it, and both holders are told by e-mail.
/// Returns the account's state after the command.
async fn take<L: EventLog>(
    store: &Store<L>,
    organization: &OrganizationSummary,
    account: AccountId,
    number: &PhoneNumber,
    command: PhoneCommand,
    name: &str,
    ctx: &CommandContext,
) -> Result<(AccountState, Option<i64>), CommandError<AccountError>> {
    let org = organization.id;
    let account_stream = stream(account);
    let fingerprint = store.secrets.fingerprint(
        name,
        &[
            account.0.as_bytes(),
            number.as_str().as_bytes(),
            format!("{command:?}").as_bytes(),
        ],
    );
    if let Some(found) = store.log.find_command(ctx.command_id).await? {
        if found.record.fingerprint != fingerprint {
            return Err(CommandError::IdempotencyKeyReused);
        }
        return Ok((store.load::<Account>(&account_stream).await?.0, None));
    }
    for attempt in 0..MAX_ATTEMPTS {
        if attempt > 0 {
            back_off(attempt).await;
        }
        let (state, version) = store.load::<Account>(&account_stream).await?;
        let profile = state
            .profile()
            .filter(|p| p.organization == org)
            .ok_or(CommandError::Rejected(AccountError::NotFound))?;
        let events = Account::decide(&state, AccountCommand::Phone(command.clone()), ctx.now)
            .map_err(CommandError::Rejected)?;
        if events.is_empty() {
            return Ok((state, None));
        }
        let verifies = events.iter().any(|e| {
            matches!(
                e,
                AccountEvent::PhonePaired(_) | AccountEvent::PhoneVerified(_)
            )
        });
        let mut writes = vec![StreamWrite {
            stream: account_stream.clone(),
            expected: ExpectedVersion::Exact(version),
            events: store.encode(Some(account.0), &events).await?,
        }];
        let mut claims = vec![];
        let mut releases = vec![];
        let mut outbox: Vec<OutboxMessage> = vec![];
        if verifies {
            claims.push(claim(store, org, number, account_stream.clone()));
            if let (Personal::Known(to), Personal::Known(name)) = (&profile.email, &profile.name) {
                outbox.push(messages::phone_added(
                    to,
                    name.salutation(),
                    number,
                    ctx.now,
                ));
            }
            let holder = find_by_phone(store, org, number).await?;
            if let Some(other) = holder.filter(|other| *other != account) {
                let other_stream = stream(other);
                let (other_state, other_version) = store.load::<Account>(&other_stream).await?;
                let released = Account::decide(
                    &other_state,
                    AccountCommand::Phone(PhoneCommand::Release {
                        number: number.clone(),
                    }),
                    ctx.now,
                )
                .unwrap_or_default();
                releases.push(claim(store, org, number, other_stream.clone()));
                if !released.is_empty() {
                    if let Some(p) = other_state.profile() {
                        if let (Personal::Known(to), Personal::Known(name)) = (&p.email, &p.name) {
                            outbox.push(messages::phone_moved(
                                to,
                                name.salutation(),
                                number,
                                ctx.now,
                            ));
                        }
                    }
                    writes.push(StreamWrite {
                        stream: other_stream,
                        expected: ExpectedVersion::Exact(other_version),
                        events: store.encode(Some(other.0), &released).await?,
                    });
                }
            }
        }
        let commit = Commit {
            tenant: org.0,
            writes,
            metadata: ctx.metadata(name),
            command: Some(CommandRecord {
                command_id: ctx.command_id,
                fingerprint: fingerprint.clone(),
                outcome: serde_json::Value::Null,
            }),
            claims,
            releases,
            outbox,
            ..Default::default()
        };
        match store.append(commit).await {
            Ok(committed) => {
                return Ok((
                    events.iter().fold(state, Account::evolve),
                    Some(committed.last_position),
                ));
            }
            // Lost a race for either account, or for the claim: decide again on fresh state.
            Err(AppendError::WrongExpectedVersion { .. } | AppendError::ClaimTaken { .. }) => {
                continue
            }
            Err(error) => return Err(append_error(error)),
        }
    }
    Err(CommandError::Conflict(MAX_ATTEMPTS, account_stream))
}
