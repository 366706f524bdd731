//! Erasing a person: one commit appends `PersonalDataErased` to their account, deletes the data keys of the
//! account and of the records tied to it (crypto-shredding), gives up the uniqueness claims their data held (so the
//! address or username can be used again) and blanks the outbox messages addressed to them. The log keeps every
//! event and still verifies; from then on every personal field of those events reads as erased.

use portal_domain::account::{Account, AccountCommand, AccountError, ErasedBy};
use portal_domain::patient::PatientState;
use portal_domain::{AccountId, Decider, PatientId, Personal};

use crate::accounts::{self, email_key, EMAIL_CLAIM};
use crate::handler::{
    append_error, back_off, CommandContext, CommandError, EndsSessions, MAX_ATTEMPTS,
};
use crate::log::{AppendError, Claim, Commit, ExpectedVersion, PgEventLog, StreamWrite};
use crate::organizations::OrganizationSummary;
use crate::patients::{self, CLINIC_NUMBER_CLAIM, USERNAME_CLAIM};
use crate::phones::PHONE_CLAIM;
use crate::store::Store;

/// Erases the person behind an account of the organization. Returns the commit's position, or None when the
/// person was erased before.
pub async fn erase_person(
    store: &Store<PgEventLog>,
    organization: &OrganizationSummary,
    account: AccountId,
    by: ErasedBy,
    ctx: &CommandContext,
) -> Result<Option<i64>, CommandError<AccountError>> {
    let (patient_records, requests) = store
        .log
        .linked_records(organization.id.0, account.0)
        .await?;
    let account_stream = accounts::stream(account);
    for attempt in 0..MAX_ATTEMPTS {
        if attempt > 0 {
            back_off(attempt).await;
        }
        let (state, version) = store.load::<Account>(&account_stream).await?;
        let profile = state
            .profile()
            .filter(|p| p.organization == organization.id)
            .ok_or(CommandError::Rejected(AccountError::NotFound))?;
        let mut subjects = vec![account.0];
        subjects.extend(&patient_records);
        subjects.extend(&requests);
        let events = Account::decide(
            &state,
            AccountCommand::ErasePersonalData {
                by: by.clone(),
                subjects: subjects.clone(),
            },
            ctx.now,
        )
        .map_err(CommandError::Rejected)?;
        if events.is_empty() {
            return Ok(None);
        }

        // What the data about to become unreadable holds: claims to give up, addresses to blank in the outbox.
        let scope = organization.id.0;
        let claim = |kind: &str, key: Vec<u8>, owner: &crate::log::StreamId| Claim {
            scope,
            kind: kind.to_owned(),
            key,
            owner: owner.clone(),
        };
        let mut releases = Vec::new();
        let mut recipients = Vec::new();
        let emails = profile
            .email
            .known()
            .into_iter()
            .chain(profile.pending_email.as_ref().and_then(|p| p.email.known()));
        for email in emails {
            releases.push(claim(EMAIL_CLAIM, email_key(store, email), &account_stream));
            recipients.push(email.as_str().to_owned());
        }
        if let Some(Personal::Known(username)) = &profile.username {
            releases.push(claim(
                USERNAME_CLAIM,
                store.secrets.index_hash(USERNAME_CLAIM, username.as_str()),
                &account_stream,
            ));
        }
        for phone in &profile.phones {
            if let Personal::Known(number) = &phone.number {
                releases.push(claim(
                    PHONE_CLAIM,
                    store.secrets.index_hash(PHONE_CLAIM, number.as_str()),
                    &account_stream,
                ));
                recipients.push(number.as_str().to_owned());
            }
        }
        for record in &patient_records {
            let patient_stream = patients::stream(PatientId(*record));
            let (patient, _) = store
                .load::<portal_domain::patient::Patient>(&patient_stream)
                .await?;
            if let PatientState::Registered(record) = patient {
                if let Personal::Known(number) = &record.clinic_number {
                    releases.push(claim(
                        CLINIC_NUMBER_CLAIM,
                        store
                            .secrets
                            .index_hash(CLINIC_NUMBER_CLAIM, number.as_str()),
                        &patient_stream,
                    ));
                }
                if let Some(Personal::Known(email)) = &record.email {
                    recipients.push(email.as_str().to_owned());
                }
                if let Some(Personal::Known(phone)) = &record.phone {
                    recipients.push(phone.as_str().to_owned());
                }
            }
        }

        let mut writes = vec![StreamWrite {
            stream: account_stream.clone(),
            expected: ExpectedVersion::Exact(version),
            events: store.encode(Some(account.0), &events).await?,
        }];
        writes.extend(
            crate::sessions::end_writes(store, &Account::sessions_to_end(&events), ctx).await?,
        );
        let commit = Commit {
            tenant: organization.id.0,
            writes,
            metadata: ctx.metadata("ErasePersonalData"),
            command: None,
            claims: vec![],
            releases,
            outbox: vec![],
            withdraw: vec![],
            erase: subjects.clone(),
            scrub_recipients: recipients,
        };
        match store.append(commit).await {
            Ok(committed) => {
                for subject in &subjects {
                    store.keys.forget(*subject);
                }
                return Ok(Some(committed.last_position));
            }
            Err(AppendError::WrongExpectedVersion { .. }) => continue,
            Err(error) => return Err(append_error(error)),
        }
    }
    Err(CommandError::Conflict(MAX_ATTEMPTS, account_stream))
}
