//! Patient records: the clinic registers a patient, hands out an activation code, and the patient signs up for the
//! portal by proving who they are (clinic number or code, with their date of birth). One record, one account.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::lockout::{Lock, LockKind, LockoutPolicy, SignInGuard};
use crate::personal::mark_personal;
use crate::values::{ClinicNumber, DateOfBirth, EmailAddress, PersonName, PhoneNumber, TokenHash};
use crate::{
    AccountId, Decider, DomainEvent, ErrorCode, OrganizationId, PatientId, Personal, UpcastError,
};

/// The patient-record aggregate.
pub struct Patient;

/// An activation code that was issued.
#[derive(Clone, Debug, PartialEq)]
pub struct IssuedCode {
    /// Keyed hash of the code.
    pub hash: TokenHash,
    /// When it stops working.
    pub expires_at: DateTime<Utc>,
}

/// A patient record as its events left it.
#[derive(Clone, Debug, PartialEq)]
pub struct PatientRecord {
    /// The record.
    pub id: PatientId,
    /// The clinic.
    pub organization: OrganizationId,
    /// The number on appointment letters.
    pub clinic_number: Personal<ClinicNumber>,
    /// Name.
    pub name: Personal<PersonName>,
    /// Date of birth.
    pub date_of_birth: Personal<DateOfBirth>,
    /// E-mail on file.
    pub email: Option<Personal<EmailAddress>>,
    /// Phone on file.
    pub phone: Option<Personal<PhoneNumber>>,
    /// Codes outstanding (the last few).
    pub codes: Vec<IssuedCode>,
    /// Codes used or replaced, to tell them from unknown ones.
    pub spent_codes: Vec<TokenHash>,
    /// Failed sign-up attempts and the lock they imposed.
    pub guard: SignInGuard,
    /// The portal account linked to the record.
    pub account: Option<AccountId>,
}

/// The lifecycle of a patient record.
#[derive(Clone, Debug, Default, PartialEq)]
pub enum PatientState {
    /// Nothing recorded.
    #[default]
    Absent,
    /// Registered by the clinic.
    Registered(Box<PatientRecord>),
}

/// How a patient proves who they are when signing up.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "proof")]
pub enum SignUpProof {
    /// The clinic number (it found the record) with the date of birth.
    ClinicNumber,
    /// An activation code (its hash found the record) with the date of birth.
    ActivationCode {
        /// Keyed hash of the code presented.
        code: TokenHash,
    },
}

/// What staff enter for a new patient.
#[derive(Clone, Debug, PartialEq)]
pub struct NewPatient {
    /// The new record's id.
    pub id: PatientId,
    /// The clinic.
    pub organization: OrganizationId,
    /// The number on appointment letters (unique in the clinic).
    pub clinic_number: ClinicNumber,
    /// Name.
    pub name: PersonName,
    /// Date of birth.
    pub date_of_birth: DateOfBirth,
    /// E-mail, if known.
    pub email: Option<EmailAddress>,
    /// Phone, if known.
    pub phone: Option<PhoneNumber>,
}

/// Commands on a patient record.
#[derive(Clone, Debug)]
pub enum PatientCommand {
    /// Staff register a patient, with a first activation code.
    Register {
        /// The patient.
        patient: Box<NewPatient>,
        /// Keyed hash of the activation code.
        code: TokenHash,
        /// How long the code works (the organization's setting).
        code_ttl: Duration,
        /// The staff member (None: an approved online request, or an operator).
        by: Option<AccountId>,
    },
    /// Issues another activation code (at check-in, or after an online request was approved).
    IssueCode {
        /// Keyed hash of the code.
        code: TokenHash,
        /// How long it works.
        code_ttl: Duration,
        /// The staff member.
        by: Option<AccountId>,
    },
    /// A patient signing up presents a proof and a date of birth; on a match the record is linked to `account`.
    SignUp {
        /// Clinic number or activation code.
        proof: SignUpProof,
        /// The date of birth typed.
        date_of_birth: DateOfBirth,
        /// The account to create and link.
        account: AccountId,
        /// When failures lock the record.
        policy: LockoutPolicy,
    },
}

/// Events of a patient record.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", content = "data")]
pub enum PatientEvent {
    /// The clinic registered the patient.
    PatientRegistered(PatientRegistered),
    /// An activation code was issued.
    PatientActivationCodeIssued(PatientActivationCodeIssued),
    /// A sign-up attempt did not match.
    PatientSignUpFailed(PatientSignUpFailed),
    /// Failed attempts locked sign-up for the record.
    PatientSignUpLocked(PatientSignUpLocked),
    /// The patient signed up: the record is linked to a portal account.
    PatientSignedUp(PatientSignedUp),
}

/// The clinic registered a patient (v1).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PatientRegistered {
    /// The record.
    pub patient_id: PatientId,
    /// The clinic.
    pub organization_id: OrganizationId,
    /// The number on appointment letters (personal since v2; the claim `clinic_number` is a keyed hash).
    pub clinic_number: Personal<ClinicNumber>,
    /// Name (personal).
    pub name: Personal<PersonName>,
    /// Date of birth (personal).
    pub date_of_birth: Personal<DateOfBirth>,
    /// E-mail (personal).
    pub email: Option<Personal<EmailAddress>>,
    /// Phone (personal).
    pub phone: Option<Personal<PhoneNumber>>,
    /// The staff member.
    pub by: Option<AccountId>,
    /// When.
    pub at: DateTime<Utc>,
}

/// An activation code was issued (v1); only its keyed hash is kept.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PatientActivationCodeIssued {
    /// Keyed hash of the code (claim `patient_code`).
    pub code_hash: TokenHash,
    /// When it stops working.
    pub expires_at: DateTime<Utc>,
    /// The staff member.
    pub by: Option<AccountId>,
    /// When.
    pub at: DateTime<Utc>,
}

/// A sign-up attempt did not match the record (v1).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PatientSignUpFailed {
    /// Why, for staff and auditors (the person is told the same thing whatever the reason).
    pub reason: SignUpFailure,
    /// When.
    pub at: DateTime<Utc>,
}

/// Why a sign-up attempt failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SignUpFailure {
    /// The date of birth did not match.
    DateOfBirthMismatch,
    /// The code had expired.
    CodeExpired,
    /// The code was used or replaced before.
    CodeSpent,
    /// Sign-up is locked after failed attempts.
    Locked,
}

/// Failed attempts locked sign-up for the record (v1).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PatientSignUpLocked {
    /// The lock's kind.
    pub kind: LockKind,
    /// When it lifts by itself (None: staff issue a new code).
    pub until: Option<DateTime<Utc>>,
    /// When.
    pub at: DateTime<Utc>,
}

/// The patient signed up (v1): the record is linked to the account, and the code used is spent.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PatientSignedUp {
    /// The portal account.
    pub account_id: AccountId,
    /// How they proved who they are.
    pub proof: SignUpProof,
    /// When.
    pub at: DateTime<Utc>,
}

impl DomainEvent for PatientEvent {
    fn event_type(&self) -> &'static str {
        match self {
            PatientEvent::PatientRegistered(_) => "PatientRegistered",
            PatientEvent::PatientActivationCodeIssued(_) => "PatientActivationCodeIssued",
            PatientEvent::PatientSignUpFailed(_) => "PatientSignUpFailed",
            PatientEvent::PatientSignUpLocked(_) => "PatientSignUpLocked",
            PatientEvent::PatientSignedUp(_) => "PatientSignedUp",
        }
    }

    fn schema_version(&self) -> u16 {
        match self {
            PatientEvent::PatientRegistered(_) => 2,
            _ => 1,
        }
    }

    /// `PatientRegistered` v1 kept the clinic number in clear; v2 marks it personal (encrypted with the patient's
    /// key). A v1 event reads as v2 with the number as known.
    fn upcast(event_type: &str, version: u16, mut data: Value) -> Result<Value, UpcastError> {
        match (event_type, version) {
            ("PatientRegistered", 1) => {
                mark_personal(&mut data, "clinic_number");
                Ok(data)
            }
            ("PatientRegistered", 2) | (_, 1) => Ok(data),
            _ => Err(UpcastError::UnknownVersion {
                event_type: event_type.to_owned(),
                version,
            }),
        }
    }
}

/// Why a patient command is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PatientError {
    /// The record exists.
    #[error("this patient record exists already")]
    AlreadyRegistered,
    /// No such record.
    #[error("no such patient")]
    NotFound,
    /// The record already has a portal account.
    #[error("this patient already has a portal account: sign in, or reset the password")]
    AlreadySignedUp,
}

impl ErrorCode for PatientError {
    fn code(&self) -> &'static str {
        match self {
            PatientError::AlreadyRegistered => "PATIENT_EXISTS",
            PatientError::NotFound => "PATIENT_NOT_FOUND",
            PatientError::AlreadySignedUp => "ALREADY_SIGNED_UP",
        }
    }
}

/// How many outstanding codes a record keeps; issuing more drops the oldest.
pub const MAX_CODES: usize = 3;

impl Decider for Patient {
    type State = PatientState;
    type Command = PatientCommand;
    type Event = PatientEvent;
    type Error = PatientError;
    const CATEGORY: &'static str = "patient";

    fn decide(
        state: &Self::State,
        command: Self::Command,
        now: DateTime<Utc>,
    ) -> Result<Vec<Self::Event>, Self::Error> {
        let issued = |code: TokenHash, ttl: Duration, by: Option<AccountId>| {
            PatientEvent::PatientActivationCodeIssued(PatientActivationCodeIssued {
                code_hash: code,
                expires_at: now + ttl,
                by,
                at: now,
            })
        };
        match (state, command) {
            (
                PatientState::Absent,
                PatientCommand::Register {
                    patient,
                    code,
                    code_ttl,
                    by,
                },
            ) => Ok(vec![
                PatientEvent::PatientRegistered(PatientRegistered {
                    patient_id: patient.id,
                    organization_id: patient.organization,
                    clinic_number: Personal::Known(patient.clinic_number.clone()),
                    name: Personal::Known(patient.name.clone()),
                    date_of_birth: Personal::Known(patient.date_of_birth),
                    email: patient.email.clone().map(Personal::Known),
                    phone: patient.phone.clone().map(Personal::Known),
                    by,
                    at: now,
                }),
                issued(code, code_ttl, by),
            ]),
            (PatientState::Registered(_), PatientCommand::Register { .. }) => {
                Err(PatientError::AlreadyRegistered)
            }
            (PatientState::Absent, _) => Err(PatientError::NotFound),
            (
                PatientState::Registered(record),
                PatientCommand::IssueCode { code, code_ttl, by },
            ) => {
                if record.account.is_some() {
                    return Err(PatientError::AlreadySignedUp);
                }
                Ok(vec![issued(code, code_ttl, by)])
            }
            (
                PatientState::Registered(record),
                PatientCommand::SignUp {
                    proof,
                    date_of_birth,
                    account,
                    policy,
                },
            ) => sign_up(record, proof, &date_of_birth, account, &policy, now),
        }
    }

    fn evolve(state: Self::State, event: &Self::Event) -> Self::State {
        match (state, event) {
            (_, PatientEvent::PatientRegistered(e)) => {
                PatientState::Registered(Box::new(PatientRecord {
                    id: e.patient_id,
                    organization: e.organization_id,
                    clinic_number: e.clinic_number.clone(),
                    name: e.name.clone(),
                    date_of_birth: e.date_of_birth.clone(),
                    email: e.email.clone(),
                    phone: e.phone.clone(),
                    codes: vec![],
                    spent_codes: vec![],
                    guard: SignInGuard::default(),
                    account: None,
                }))
            }
            (PatientState::Registered(mut record), event) => {
                match event {
                    PatientEvent::PatientRegistered(_) => {}
                    PatientEvent::PatientActivationCodeIssued(e) => {
                        record.codes.push(IssuedCode {
                            hash: e.code_hash,
                            expires_at: e.expires_at,
                        });
                        if record.codes.len() > MAX_CODES {
                            let dropped = record.codes.remove(0);
                            record.spent_codes.push(dropped.hash);
                        }
                        // A new code is a fresh start: the clinic vouched for the person again.
                        record.guard = SignInGuard::default();
                    }
                    PatientEvent::PatientSignUpFailed(e) => {
                        if e.reason != SignUpFailure::Locked
                            && record.guard.active_lock(e.at).is_none()
                        {
                            record.guard.consecutive_failures += 1;
                        }
                    }
                    PatientEvent::PatientSignUpLocked(e) => {
                        record.guard.consecutive_failures = 0;
                        if e.kind == LockKind::CoolDown {
                            record.guard.lockouts += 1;
                        }
                        record.guard.lock = Some(Lock {
                            kind: e.kind,
                            since: e.at,
                            until: e.until,
                        });
                    }
                    PatientEvent::PatientSignedUp(e) => {
                        record.account = Some(e.account_id);
                        record.guard = SignInGuard::default();
                        record
                            .spent_codes
                            .extend(record.codes.drain(..).map(|c| c.hash));
                    }
                }
                PatientState::Registered(record)
            }
            (state, _) => state,
        }
    }
}

fn sign_up(
    record: &PatientRecord,
    proof: SignUpProof,
    date_of_birth: &DateOfBirth,
    account: AccountId,
    policy: &LockoutPolicy,
    now: DateTime<Utc>,
) -> Result<Vec<PatientEvent>, PatientError> {
    let failed = |reason| {
        let mut events = vec![PatientEvent::PatientSignUpFailed(PatientSignUpFailed {
            reason,
            at: now,
        })];
        if reason != SignUpFailure::Locked {
            if let Some(lock) = record.guard.lock_after_failure(policy, now) {
                events.push(PatientEvent::PatientSignUpLocked(PatientSignUpLocked {
                    kind: lock.kind,
                    until: lock.until,
                    at: now,
                }));
            }
        }
        Ok(events)
    };
    if record.guard.active_lock(now).is_some() {
        return failed(SignUpFailure::Locked);
    }
    if record.date_of_birth.known() != Some(date_of_birth) {
        return failed(SignUpFailure::DateOfBirthMismatch);
    }
    if let SignUpProof::ActivationCode { code } = proof {
        match record.codes.iter().find(|c| c.hash.ct_eq(&code)) {
            Some(issued) if now >= issued.expires_at => return failed(SignUpFailure::CodeExpired),
            Some(_) => {}
            None => return failed(SignUpFailure::CodeSpent),
        }
    }
    // Who the person is has been proved: only now may they learn that the record already has an account.
    if record.account.is_some() {
        return Err(PatientError::AlreadySignedUp);
    }
    Ok(vec![PatientEvent::PatientSignedUp(PatientSignedUp {
        account_id: account,
        proof,
        at: now,
    })])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decider::testing::given;
    use crate::values::NamePart;
    use chrono::{NaiveDate, TimeZone};
    use uuid::Uuid;

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 1, 9, 0, 0).unwrap()
    }

    fn dob(y: i32, m: u32, d: u32) -> DateOfBirth {
        DateOfBirth::parse(
            &NaiveDate::from_ymd_opt(y, m, d).unwrap().to_string(),
            NaiveDate::from_ymd_opt(2026, 11, 1).unwrap(),
        )
        .unwrap()
    }

    fn registered() -> Vec<PatientEvent> {
        Patient::decide(
            &PatientState::Absent,
            PatientCommand::Register {
                patient: Box::new(NewPatient {
                    id: PatientId(Uuid::from_u128(3)),
                    organization: OrganizationId(Uuid::from_u128(1)),
                    clinic_number: ClinicNumber::parse("MC123456").unwrap(),
                    name: PersonName {
                        title: None,
                        first: NamePart::parse("Grace").unwrap(),
                        middle: None,
                        last: NamePart::parse("Hopper").unwrap(),
                    },
                    date_of_birth: dob(1956, 12, 9),
                    email: None,
                    phone: None,
                }),
                code: TokenHash([1; 32]),
                code_ttl: Duration::days(30),
                by: None,
            },
            t0(),
        )
        .unwrap()
    }

    fn sign_up(proof: SignUpProof, born: DateOfBirth) -> PatientCommand {
        PatientCommand::SignUp {
            proof,
            date_of_birth: born,
            account: AccountId(Uuid::from_u128(9)),
            policy: LockoutPolicy::default(),
        }
    }

    fn signed_up(proof: SignUpProof) -> PatientEvent {
        PatientEvent::PatientSignedUp(PatientSignedUp {
            account_id: AccountId(Uuid::from_u128(9)),
            proof,
            at: t0(),
        })
    }

    #[test]
    fn a_version_1_registration_reads_with_its_clinic_number_as_known_personal_data() {
        let v1 = serde_json::json!({ "clinic_number": "MC123456", "other": 1 });

        let upcast = PatientEvent::upcast("PatientRegistered", 1, v1).unwrap();

        assert_eq!(
            upcast,
            serde_json::json!({ "clinic_number": { "$pii": "MC123456" }, "other": 1 })
        );
    }

    #[test]
    fn registrations_are_written_as_version_2_with_the_clinic_number_personal() {
        let events = registered();
        let PatientEvent::PatientRegistered(registration) = &events[0] else {
            panic!("{events:?}")
        };
        assert_eq!(events[0].schema_version(), 2);
        assert_eq!(
            registration.clinic_number,
            Personal::Known(ClinicNumber::parse("MC123456").unwrap())
        );
    }

    #[test]
    fn the_clinic_number_and_date_of_birth_sign_a_patient_up() {
        given::<Patient>(registered())
            .when(sign_up(SignUpProof::ClinicNumber, dob(1956, 12, 9)), t0())
            .then(vec![signed_up(SignUpProof::ClinicNumber)]);
    }

    #[test]
    fn the_activation_code_and_date_of_birth_sign_a_patient_up() {
        let proof = SignUpProof::ActivationCode {
            code: TokenHash([1; 32]),
        };
        given::<Patient>(registered())
            .when(sign_up(proof, dob(1956, 12, 9)), t0())
            .then(vec![signed_up(proof)]);
    }

    #[test]
    fn a_wrong_date_of_birth_is_recorded_as_a_failure() {
        given::<Patient>(registered())
            .when(sign_up(SignUpProof::ClinicNumber, dob(1956, 12, 10)), t0())
            .then(vec![PatientEvent::PatientSignUpFailed(
                PatientSignUpFailed {
                    reason: SignUpFailure::DateOfBirthMismatch,
                    at: t0(),
                },
            )]);
    }

    #[test]
    fn an_expired_code_is_refused() {
        let proof = SignUpProof::ActivationCode {
            code: TokenHash([1; 32]),
        };
        let later = t0() + Duration::days(31);
        given::<Patient>(registered())
            .when(sign_up(proof, dob(1956, 12, 9)), later)
            .then(vec![PatientEvent::PatientSignUpFailed(
                PatientSignUpFailed {
                    reason: SignUpFailure::CodeExpired,
                    at: later,
                },
            )]);
    }

    #[test]
    fn the_fifth_failure_locks_sign_up_for_the_record() {
        let failure = PatientEvent::PatientSignUpFailed(PatientSignUpFailed {
            reason: SignUpFailure::DateOfBirthMismatch,
            at: t0(),
        });
        let mut events = registered();
        events.extend(std::iter::repeat_n(failure, 4));
        let state = Patient::fold(events.iter());
        let decided = Patient::decide(
            &state,
            sign_up(SignUpProof::ClinicNumber, dob(1900, 1, 1)),
            t0(),
        )
        .unwrap();
        assert!(
            matches!(decided.last(), Some(PatientEvent::PatientSignUpLocked(_))),
            "{decided:?}"
        );
        let locked = Patient::fold(events.iter().chain(decided.iter()));
        let refused = Patient::decide(
            &locked,
            sign_up(SignUpProof::ClinicNumber, dob(1956, 12, 9)),
            t0(),
        )
        .unwrap();
        assert_eq!(
            refused,
            vec![PatientEvent::PatientSignUpFailed(PatientSignUpFailed {
                reason: SignUpFailure::Locked,
                at: t0(),
            })],
            "the right date of birth is refused while locked"
        );
    }

    #[test]
    fn a_record_gets_one_account() {
        let mut events = registered();
        events.push(signed_up(SignUpProof::ClinicNumber));
        given::<Patient>(events)
            .when(sign_up(SignUpProof::ClinicNumber, dob(1956, 12, 9)), t0())
            .then_error(PatientError::AlreadySignedUp);
    }

    #[test]
    fn a_used_code_does_not_work_again() {
        let proof = SignUpProof::ActivationCode {
            code: TokenHash([1; 32]),
        };
        let mut events = registered();
        events.push(signed_up(proof));
        given::<Patient>(events)
            .when(sign_up(proof, dob(1956, 12, 9)), t0())
            .then(vec![PatientEvent::PatientSignUpFailed(
                PatientSignUpFailed {
                    reason: SignUpFailure::CodeSpent,
                    at: t0(),
                },
            )]);
    }
}
