//! Patient records and sign-up: staff register patients (each gets an activation code); a patient signs up with the
//! clinic number or the code, plus their date of birth, and chooses a username and password. A mismatch of any kind
//! gets one refusal; failures count against the record and lock it like sign-ins.

use portal_domain::account::{Account, AccountCommand, AccountError, Registration, Role};
use portal_domain::patient::{
    NewPatient, Patient, PatientCommand, PatientError, PatientEvent, PatientState, SignUpProof,
};
use portal_domain::values::{
    ActivationCode, ClinicNumber, DateOfBirth, EmailAddress, Password, TokenHash, Username,
};
use portal_domain::{AccountId, Decider, OrganizationId, PatientId};
use uuid::Uuid;

use crate::accounts::{self, activation_link, email_key, hash_password, EMAIL_CLAIM};
use crate::credentials;
use crate::handler::{
    append_error, back_off, execute, CommandContext, CommandError, Plan, MAX_ATTEMPTS,
};
use crate::links;
use crate::log::{
    AppendError, Claim, CommandRecord, Commit, EventLog, ExpectedVersion, StreamId, StreamWrite,
};
use crate::messages;
use crate::organizations::OrganizationSummary;
use crate::store::Store;

/// Uniqueness kind of clinic numbers (scope: the organization).
pub(crate) const CLINIC_NUMBER_CLAIM: &str = "clinic_number";
/// Index of activation codes (scope: the organization): a code finds its record.
const CODE_CLAIM: &str = "patient_code";
/// Uniqueness kind of usernames (scope: the organization).
pub(crate) const USERNAME_CLAIM: &str = "username";

/// The stream of a patient record.
pub fn stream(id: PatientId) -> StreamId {
    StreamId::new(Patient::CATEGORY, id.0)
}

fn claim<L: EventLog>(
    store: &Store<L>,
    organization: OrganizationId,
    kind: &str,
    value: &str,
    owner: StreamId,
) -> Claim {
    Claim {
        scope: organization.0,
        kind: kind.to_owned(),
        key: store.secrets.index_hash(kind, value),
        owner,
    }
}

fn code_hash<L: EventLog>(store: &Store<L>, code: &ActivationCode) -> TokenHash {
    let digest = store.secrets.index_hash(CODE_CLAIM, code.as_str());
    let mut bytes = [0u8; 32];
    bytes.copy_from_slice(&digest[..32]);
    TokenHash(bytes)
}

fn new_code() -> ActivationCode {
    let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
    let mut random = [0u8; 12];
    random[..8].copy_from_slice(&a.as_bytes()[..8]);
    random[8..].copy_from_slice(&b.as_bytes()[..4]);
    ActivationCode::generate(random)
}

/// What registering a patient did.
#[derive(Debug)]
pub struct RegisteredPatient {
    /// The record.
    pub id: PatientId,
    /// The activation code, for staff to hand out (also e-mailed when the record has an address).
    pub code: ActivationCode,
    /// Position of the last event appended.
    pub last_position: i64,
}

/// Why a patient command failed.
pub type PatientCommandError = CommandError<PatientError>;

/// Staff register a patient record; it gets an activation code, e-mailed when the record has an address.
pub async fn register<L: EventLog>(
    store: &Store<L>,
    organization: &OrganizationSummary,
    patient: NewPatientInput,
    by: Option<AccountId>,
    ctx: &CommandContext,
) -> Result<RegisteredPatient, PatientCommandError> {
    register_to(store, organization, patient, by, None, ctx).await
}

/// Registers a patient record and sends its code to `send_to` (address and salutation) instead of the record's
/// address, when given.
pub async fn register_to<L: EventLog>(
    store: &Store<L>,
    organization: &OrganizationSummary,
    patient: NewPatientInput,
    by: Option<AccountId>,
    send_to: Option<(EmailAddress, String)>,
    ctx: &CommandContext,
) -> Result<RegisteredPatient, PatientCommandError> {
    let id = PatientId(crate::activities::derived_id("patient", ctx.command_id));
    let patient_stream = stream(id);
    let fingerprint = store.secrets.fingerprint(
        "RegisterPatient",
        &[
            organization.id.0.as_bytes(),
            format!("{patient:?}").as_bytes(),
        ],
    );
    let code = new_code();
    let hash = code_hash(store, &code);
    let ttl = chrono::Duration::days(i64::from(organization.patient_policy.activation_code_days));
    let recipient = send_to.or_else(|| {
        patient
            .email
            .clone()
            .map(|to| (to, patient.name.salutation().to_owned()))
    });
    let outbox = recipient
        .as_ref()
        .map(|(to, salutation)| {
            messages::patient_code(
                to,
                salutation,
                &code.display(),
                &links::sign_up_link(&store.public_url, &organization.code, &code.display()),
                &messages::local_time(&organization.time_zone, ctx.now + ttl),
                ctx.now,
            )
        })
        .into_iter()
        .collect::<Vec<_>>();
    let claims = vec![
        claim(
            store,
            organization.id,
            CLINIC_NUMBER_CLAIM,
            patient.clinic_number.as_str(),
            patient_stream.clone(),
        ),
        claim(
            store,
            organization.id,
            CODE_CLAIM,
            code.as_str(),
            patient_stream.clone(),
        ),
    ];
    let executed = execute::<L, Patient>(
        store,
        &patient_stream,
        Some(id.0),
        ctx,
        "RegisterPatient",
        fingerprint,
        |_| {
            Ok(Plan {
                tenant: organization.id.0,
                command: PatientCommand::Register {
                    patient: Box::new(NewPatient {
                        id,
                        organization: organization.id,
                        clinic_number: patient.clinic_number.clone(),
                        name: patient.name.clone(),
                        date_of_birth: patient.date_of_birth,
                        email: patient.email.clone(),
                        phone: patient.phone.clone(),
                    }),
                    code: hash,
                    code_ttl: ttl,
                    by,
                },
                claims: claims.clone(),
                releases: vec![],
                outbox: outbox.clone(),
                follow_up: None,
            })
        },
    )
    .await
    .map_err(|e| match e {
        CommandError::Taken { .. } => CommandError::Rejected(PatientError::AlreadyRegistered),
        other => other,
    })?;
    if executed.replayed.is_some() {
        // The code of the first attempt is not kept anywhere readable: a retry issues no new one.
        return Err(CommandError::IdempotencyKeyReused);
    }
    Ok(RegisteredPatient {
        id,
        code,
        last_position: executed.last_position.unwrap_or_default(),
    })
}

/// A patient record as staff type it, parsed.
#[derive(Clone, Debug)]
pub struct NewPatientInput {
    /// The number on appointment letters.
    pub clinic_number: ClinicNumber,
    /// Name.
    pub name: portal_domain::values::PersonName,
    /// Date of birth.
    pub date_of_birth: DateOfBirth,
    /// E-mail, if known.
    pub email: Option<EmailAddress>,
    /// Phone, if known.
    pub phone: Option<portal_domain::values::PhoneNumber>,
}

/// Issues another activation code for a record without an account (at check-in, or on request); e-mailed when the
/// record has an address.
pub async fn issue_code<L: EventLog>(
    store: &Store<L>,
    organization: &OrganizationSummary,
    patient: PatientId,
    by: Option<AccountId>,
    ctx: &CommandContext,
) -> Result<(ActivationCode, i64), PatientCommandError> {
    issue_code_to(store, organization, patient, by, None, ctx).await
}

/// Issues a code and sends it to `send_to` (address and salutation) instead of the record's address, when given.
pub async fn issue_code_to<L: EventLog>(
    store: &Store<L>,
    organization: &OrganizationSummary,
    patient: PatientId,
    by: Option<AccountId>,
    send_to: Option<(EmailAddress, String)>,
    ctx: &CommandContext,
) -> Result<(ActivationCode, i64), PatientCommandError> {
    let code = new_code();
    let hash = code_hash(store, &code);
    let ttl = chrono::Duration::days(i64::from(organization.patient_policy.activation_code_days));
    let patient_stream = stream(patient);
    let fingerprint = store.secrets.fingerprint(
        "IssuePatientCode",
        &[patient.0.as_bytes(), ctx.command_id.as_bytes()],
    );
    let code_claim = claim(
        store,
        organization.id,
        CODE_CLAIM,
        code.as_str(),
        patient_stream.clone(),
    );
    let executed = execute::<L, Patient>(
        store,
        &patient_stream,
        Some(patient.0),
        ctx,
        "IssuePatientCode",
        fingerprint,
        |state| {
            let PatientState::Registered(record) = state else {
                return Err(PatientError::NotFound);
            };
            if record.organization != organization.id {
                return Err(PatientError::NotFound);
            }
            let recipient = send_to
                .clone()
                .or_else(|| match (&record.email, &record.name) {
                    (
                        Some(portal_domain::Personal::Known(to)),
                        portal_domain::Personal::Known(name),
                    ) => Some((to.clone(), name.salutation().to_owned())),
                    _ => None,
                });
            let outbox = match recipient {
                Some((to, salutation)) => vec![messages::patient_code(
                    &to,
                    &salutation,
                    &code.display(),
                    &links::sign_up_link(&store.public_url, &organization.code, &code.display()),
                    &messages::local_time(&organization.time_zone, ctx.now + ttl),
                    ctx.now,
                )],
                None => vec![],
            };
            Ok(Plan {
                tenant: organization.id.0,
                command: PatientCommand::IssueCode {
                    code: hash,
                    code_ttl: ttl,
                    by,
                },
                claims: vec![code_claim.clone()],
                releases: vec![],
                outbox,
                follow_up: None,
            })
        },
    )
    .await?;
    if executed.replayed.is_some() {
        return Err(CommandError::IdempotencyKeyReused);
    }
    Ok((code, executed.last_position.unwrap_or_default()))
}

/// How a patient proves who they are, as typed.
#[derive(Clone, Debug)]
pub enum Proof {
    /// The clinic number.
    ClinicNumber(ClinicNumber),
    /// The activation code.
    ActivationCode(ActivationCode),
}

/// A sign-up, parsed.
#[derive(Clone, Debug)]
pub struct SignUp {
    /// Clinic number or code.
    pub proof: Proof,
    /// Date of birth.
    pub date_of_birth: DateOfBirth,
    /// The username chosen.
    pub username: Username,
    /// The sign-in address (confirmed by the activation link, like every account's).
    pub email: EmailAddress,
    /// The password chosen (policy already applied).
    pub password: Password,
}

/// Why a sign-up was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignUpError {
    /// The one answer to every mismatch: unknown number or code, wrong date of birth, spent or expired code, lock.
    #[error("we could not match these details to a patient record; check them, or ask the clinic for a new activation code")]
    Refused,
    /// The record has an account already (said only once the date of birth matched).
    #[error("this patient already has a portal account: sign in, or reset the password")]
    AlreadySignedUp,
    /// Another account uses the username.
    #[error("this username is taken; choose another")]
    UsernameTaken,
    /// Another account uses the e-mail address.
    #[error("another account uses this e-mail address; sign in with it, or use another address")]
    EmailTaken,
}

impl portal_domain::ErrorCode for SignUpError {
    fn code(&self) -> &'static str {
        match self {
            SignUpError::Refused => "SIGN_UP_REFUSED",
            SignUpError::AlreadySignedUp => "ALREADY_SIGNED_UP",
            SignUpError::UsernameTaken => "USERNAME_TAKEN",
            SignUpError::EmailTaken => "EMAIL_TAKEN",
        }
    }

    fn field(&self) -> Option<&'static str> {
        match self {
            SignUpError::UsernameTaken => Some("username"),
            SignUpError::EmailTaken => Some("email"),
            _ => None,
        }
    }
}

/// What a sign-up did.
#[derive(Debug)]
pub struct SignedUp {
    /// The new account (pending until the activation link is followed).
    pub account: AccountId,
    /// The activation token, for in-process callers only.
    pub activation_token: String,
    /// Position of the last event appended.
    pub last_position: i64,
}

/// Signs a patient up: matches the record, creates a patient account (pending until the e-mailed link is
/// followed), links it, all in one commit; or records the failed attempt against the record.
pub async fn sign_up<L: EventLog>(
    store: &Store<L>,
    organization: &OrganizationSummary,
    input: SignUp,
    ctx: &CommandContext,
) -> Result<SignedUp, CommandError<SignUpError>> {
    let refused = || CommandError::Rejected(SignUpError::Refused);
    // The password is hashed before the lookup, so that known and unknown records take the same time.
    let password_hash = hash_password(&store.passwords, input.password.clone())
        .await
        .map_err(|e| e.map_rejected(|_| SignUpError::Refused))?;
    let (kind, value, proof_code) = match &input.proof {
        Proof::ClinicNumber(number) => (CLINIC_NUMBER_CLAIM, number.as_str().to_owned(), None),
        Proof::ActivationCode(code) => (
            CODE_CLAIM,
            code.as_str().to_owned(),
            Some(code_hash(store, code)),
        ),
    };
    let key = store.secrets.index_hash(kind, &value);
    let Some(patient) = store
        .log
        .find_claim(organization.id.0, kind, &key)
        .await?
        .and_then(|owner| owner.id())
        .map(PatientId)
    else {
        return Err(refused());
    };
    let proof = match proof_code {
        Some(code) => SignUpProof::ActivationCode { code },
        None => SignUpProof::ClinicNumber,
    };
    let fingerprint = store.secrets.fingerprint(
        "SignUpPatient",
        &[
            patient.0.as_bytes(),
            input.username.as_str().as_bytes(),
            input.email.canonical().as_bytes(),
        ],
    );
    if let Some(found) = store.log.find_command(ctx.command_id).await? {
        if found.record.fingerprint != fingerprint {
            return Err(CommandError::IdempotencyKeyReused);
        }
        let account = found
            .record
            .outcome
            .get("account")
            .and_then(|a| serde_json::from_value(a.clone()).ok())
            .ok_or_else(refused)?;
        return Ok(SignedUp {
            account,
            activation_token: String::new(),
            last_position: found.last_position,
        });
    }
    let account = AccountId(Uuid::new_v4());
    let account_stream = accounts::stream(account);
    let patient_stream = stream(patient);
    let (token, token_hash) = credentials::new_token(account.0);
    for attempt in 0..MAX_ATTEMPTS {
        if attempt > 0 {
            back_off(attempt).await;
        }
        let (state, version) = store.load::<Patient>(&patient_stream).await?;
        let PatientState::Registered(record) = &state else {
            return Err(refused());
        };
        let patient_events = Patient::decide(
            &state,
            PatientCommand::SignUp {
                proof,
                date_of_birth: input.date_of_birth,
                account,
                policy: organization.policy.lockout,
            },
            ctx.now,
        )
        .map_err(|e| match e {
            PatientError::AlreadySignedUp => CommandError::Rejected(SignUpError::AlreadySignedUp),
            _ => refused(),
        })?;
        let linked = patient_events
            .iter()
            .any(|e| matches!(e, PatientEvent::PatientSignedUp(_)));
        let mut writes = vec![StreamWrite {
            stream: patient_stream.clone(),
            expected: ExpectedVersion::Exact(version),
            events: store.encode(Some(patient.0), &patient_events).await?,
        }];
        let mut claims = vec![];
        let mut outbox = vec![];
        let mut command = None;
        if linked {
            let name = record.name.known().cloned().ok_or_else(refused)?;
            let registration = Registration {
                id: account,
                organization: organization.id,
                role: Role::Patient,
                name: name.clone(),
                email: input.email.clone(),
                password_hash: password_hash.clone(),
                activation: token_hash,
            };
            let mut account_events = Account::decide(
                &Default::default(),
                AccountCommand::Register(registration),
                ctx.now,
            )
            .map_err(|_| refused())?;
            let registered = Account::fold(account_events.iter());
            account_events.extend(
                Account::decide(
                    &registered,
                    AccountCommand::ChooseUsername {
                        username: input.username.clone(),
                    },
                    ctx.now,
                )
                .map_err(|_: AccountError| refused())?,
            );
            writes.push(StreamWrite {
                stream: account_stream.clone(),
                expected: ExpectedVersion::NoStream,
                events: store.encode(Some(account.0), &account_events).await?,
            });
            claims.push(Claim {
                scope: organization.id.0,
                kind: EMAIL_CLAIM.to_owned(),
                key: email_key(store, &input.email),
                owner: account_stream.clone(),
            });
            claims.push(claim(
                store,
                organization.id,
                USERNAME_CLAIM,
                input.username.as_str(),
                account_stream.clone(),
            ));
            outbox.push(messages::activation(
                &input.email,
                name.salutation(),
                &activation_link(store, organization, &token),
                ctx.now,
            ));
            command = Some(CommandRecord {
                command_id: ctx.command_id,
                fingerprint: fingerprint.clone(),
                outcome: serde_json::json!({ "account": account }),
            });
        }
        let commit = Commit {
            tenant: organization.id.0,
            writes,
            metadata: ctx.metadata("SignUpPatient"),
            command,
            claims,
            releases: vec![],
            outbox,
            ..Default::default()
        };
        match store.append(commit).await {
            Ok(committed) if linked => {
                return Ok(SignedUp {
                    account,
                    activation_token: token,
                    last_position: committed.last_position,
                })
            }
            Ok(_) => return Err(refused()),
            Err(AppendError::WrongExpectedVersion { .. }) => continue,
            Err(AppendError::ClaimTaken { kind, .. }) if kind == USERNAME_CLAIM => {
                return Err(CommandError::Rejected(SignUpError::UsernameTaken))
            }
            Err(AppendError::ClaimTaken { kind, .. }) if kind == EMAIL_CLAIM => {
                return Err(CommandError::Rejected(SignUpError::EmailTaken))
            }
            Err(error) => return Err(append_error(error)),
        }
    }
    Err(CommandError::Conflict(MAX_ATTEMPTS, patient_stream))
}

/// The account that signs in with `username` in the organization.
pub async fn find_by_username<L: EventLog>(
    store: &Store<L>,
    organization: OrganizationId,
    username: &Username,
) -> Result<Option<AccountId>, crate::log::LogError> {
    let key = store.secrets.index_hash(USERNAME_CLAIM, username.as_str());
    Ok(store
        .log
        .find_claim(organization.0, USERNAME_CLAIM, &key)
        .await?
        .and_then(|owner| owner.id())
        .map(AccountId))
}
