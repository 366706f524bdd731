//! The patient portal's front door: staff register patients and hand out activation codes; patients sign up with
//! their clinic number or code and date of birth; organizations publish terms that every account accepts.

use async_graphql::{ComplexObject, Context, InputObject, Object, Result, SimpleObject, ID};
use chrono::{DateTime, NaiveDate, Utc};
use portal_commands::handler::Actor;
use portal_commands::patients::{self, NewPatientInput, Proof, SignUp};
use portal_commands::signup_requests::{self, ApprovalError, Match};
use portal_commands::{accounts, organizations as orgs};
use portal_domain::organization::{OrganizationError, PatientPolicy};
use portal_domain::session::Principal;
use portal_domain::signup_request::IdentityDetails;
use portal_domain::values::{self as v, DateOfBirth};
use portal_domain::PatientId;
use portal_projections::patients as patient_rows;
use uuid::Uuid;

use super::access_log::audited;
use super::activities::organization as organization_by_id;
use super::changed::ChangedAccount;
use super::errors::ApiError;
use super::inputs::Checked;
use super::mutation::{context, organization, CHECK_YOUR_EMAIL};
use super::query::{applied, projection_error, signed_in, staff};
use super::types::{Account, LogPosition};
use crate::access::Whose;
use crate::app::AppState;

/// A patient record, as staff enter it.
#[derive(InputObject)]
pub struct RegisterPatientInput {
    /// The number on appointment letters (3 to 20 letters and digits), unique in the clinic.
    pub clinic_number: String,
    /// Courtesy title.
    pub title: Option<String>,
    /// Given name.
    pub first_name: String,
    /// Middle name.
    pub middle_name: Option<String>,
    /// Family name.
    pub last_name: String,
    /// Date of birth, YYYY-MM-DD.
    pub date_of_birth: String,
    /// E-mail: the activation code is sent to it.
    pub email: Option<String>,
    /// Mobile phone.
    pub phone: Option<String>,
    /// Idempotency key.
    pub command_id: Option<Uuid>,
}

/// A new patient record and its activation code.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct RegisterPatientPayload {
    /// The record.
    pub patient_id: ID,
    /// The activation code to hand out (shown once; e-mailed too when the record has an address).
    pub activation_code: String,
    /// The log position produced.
    pub position: LogPosition,
    #[graphql(skip)]
    changed: ChangedPatient,
}

/// A new activation code.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct IssuePatientCodePayload {
    /// The code to hand out (shown once).
    pub activation_code: String,
    /// The log position produced.
    pub position: LogPosition,
    #[graphql(skip)]
    changed: ChangedPatient,
}

/// Signing up for the patient portal (seed 001, steps 2 and 3).
#[derive(InputObject)]
pub struct SignUpPatientInput {
    /// The clinic's organization code.
    pub organization_code: String,
    /// The number on appointment letters (or give `activationCode`).
    pub clinic_number: Option<String>,
    /// The activation code from the clinic (or give `clinicNumber`).
    pub activation_code: Option<String>,
    /// Date of birth, YYYY-MM-DD.
    pub date_of_birth: String,
    /// The username to sign in with.
    pub username: String,
    /// The e-mail address (a link to it activates the account).
    pub email: String,
    /// The password (12 to 128 characters, not a breached one).
    pub password: String,
    /// Idempotency key.
    pub command_id: Option<Uuid>,
}

/// The answer to a sign-up.
#[derive(SimpleObject)]
pub struct SignUpPatientPayload {
    /// What to do next.
    pub message: String,
    /// The log position produced.
    pub position: LogPosition,
}

/// New terms.
#[derive(InputObject)]
pub struct PublishTermsInput {
    /// The terms of use.
    pub terms_of_use: String,
    /// The notice of privacy practices.
    pub privacy_practices: String,
    /// Idempotency key.
    pub command_id: Option<Uuid>,
}

/// The terms published.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct PublishTermsPayload {
    /// The new version.
    pub version: i32,
    /// The log position produced.
    pub position: LogPosition,
    #[graphql(skip)]
    organization: Uuid,
}

/// The terms in force.
#[derive(SimpleObject)]
pub struct Terms {
    /// These terms (of one organization and version).
    pub id: ID,
    /// The version.
    pub version: i32,
    /// The terms of use.
    pub terms_of_use: String,
    /// The notice of privacy practices.
    pub privacy_practices: String,
    /// When published.
    pub published_at: DateTime<Utc>,
}

/// What accepting did.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct AcceptTermsPayload {
    /// The log position produced (null when accepted before).
    pub position: Option<LogPosition>,
    #[graphql(skip)]
    changed: TermsOrRequest,
}

/// What the two mutations that answer `AcceptTermsPayload` changed.
enum TermsOrRequest {
    /// `acceptTerms`: the account.
    Accepted(ChangedAccount),
    /// `rejectSignUpRequest`: the request, read by the staff member who rejected it.
    Rejected(Principal, Uuid),
}

#[ComplexObject]
impl AcceptTermsPayload {
    /// The request as it now is, rejected (`rejectSignUpRequest`, which answers this payload too; null for
    /// `acceptTerms`). The read goes to the access log.
    async fn sign_up_request(&self, ctx: &Context<'_>) -> Result<Option<SignUpRequestItem>> {
        let TermsOrRequest::Rejected(reader, id) = &self.changed else {
            return Ok(None);
        };
        let state = ctx.data_unchecked::<AppState>();
        applied(state, patient_rows::NAME, self.position).await?;
        let Some(row) = patient_rows::find_request(&state.pool, reader.organization.0, *id)
            .await
            .map_err(projection_error)?
        else {
            return Ok(None);
        };
        let whose = Whose {
            request: Some(row.id),
            record: row.patient_id,
            account: None,
        };
        audited(ctx, reader, "sign_up_request", "signUpRequest", &[whose]).await?;
        Ok(Some(sign_up_request(row)))
    }

    /// Your account as it now is, with the version accepted (`acceptTerms`; null for `rejectSignUpRequest`, which
    /// answers this payload too).
    async fn account(&self, ctx: &Context<'_>) -> Result<Option<Account>> {
        match &self.changed {
            TermsOrRequest::Accepted(changed) => Ok(changed.read(ctx).await?),
            TermsOrRequest::Rejected(..) => Ok(None),
        }
    }
}

/// A patient record, as staff see it.
#[derive(SimpleObject)]
pub struct PatientRecord {
    /// The record.
    pub id: ID,
    /// The number on appointment letters (null once erased).
    pub clinic_number: Option<String>,
    /// Given name.
    pub first_name: Option<String>,
    /// Family name.
    pub last_name: Option<String>,
    /// Date of birth.
    pub date_of_birth: Option<NaiveDate>,
    /// E-mail on file.
    pub email: Option<String>,
    /// Phone on file.
    pub phone: Option<String>,
    /// The portal account, once signed up.
    pub account_id: Option<ID>,
    /// When registered.
    pub registered_at: DateTime<Utc>,
    /// When signed up.
    pub signed_up_at: Option<DateTime<Utc>>,
    /// Failed sign-up attempts since the last code.
    pub failed_sign_ups: i32,
    /// Sign-up is locked after failed attempts (a new code lifts it).
    pub sign_up_locked: bool,
    /// When a cool-down lock lifts by itself.
    pub sign_up_locked_until: Option<DateTime<Utc>>,
}

fn date_of_birth(checked: &mut Checked, raw: &str, today: NaiveDate) -> Option<DateOfBirth> {
    checked.value(
        "dateOfBirth",
        "DATE_OF_BIRTH_INVALID",
        DateOfBirth::parse(raw, today),
    )
}

/// A request for an activation code, by someone without a clinic number or code.
#[derive(InputObject)]
pub struct RequestActivationCodeInput {
    /// The clinic's organization code.
    pub organization_code: String,
    /// Given name.
    pub first_name: String,
    /// Family name.
    pub last_name: String,
    /// Date of birth, YYYY-MM-DD.
    pub date_of_birth: String,
    /// Where to send the code.
    pub email: String,
    /// A phone number the clinic may call to confirm.
    pub phone: Option<String>,
    /// The clinic number, if known.
    pub clinic_number: Option<String>,
    /// Idempotency key.
    pub command_id: Option<Uuid>,
}

/// The answer to a request (the same whatever staff will decide).
#[derive(SimpleObject)]
pub struct RequestActivationCodePayload {
    /// What happens next.
    pub message: String,
}

/// A request in the staff's verification queue.
#[derive(SimpleObject)]
pub struct SignUpRequestItem {
    /// The request.
    pub id: ID,
    /// Given name.
    pub first_name: Option<String>,
    /// Family name.
    pub last_name: Option<String>,
    /// Date of birth.
    pub date_of_birth: Option<NaiveDate>,
    /// Where the code goes.
    pub email: Option<String>,
    /// Phone to call back.
    pub phone: Option<String>,
    /// The clinic number given.
    pub clinic_number: Option<String>,
    /// PENDING, APPROVED or REJECTED (lower case).
    pub status: String,
    /// When submitted.
    pub submitted_at: DateTime<Utc>,
    /// The record it was matched to.
    pub patient_id: Option<ID>,
}

/// Staff approve a request: match an existing record, or register a new one with a clinic number.
#[derive(InputObject)]
pub struct ApproveSignUpRequestInput {
    /// The request.
    pub request_id: ID,
    /// The existing record the person is (or give `clinicNumber`).
    pub patient_id: Option<ID>,
    /// A clinic number for a new record (or give `patientId`).
    pub clinic_number: Option<String>,
    /// Idempotency key.
    pub command_id: Option<Uuid>,
}

/// The record the request was matched to; a code was sent to the address in the request.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct ApproveSignUpRequestPayload {
    /// The record.
    pub patient_id: ID,
    /// The log position produced (null for a retry that wrote nothing new).
    pub position: Option<LogPosition>,
    #[graphql(skip)]
    changed: ChangedPatient,
}

const REQUEST_RECEIVED: &str = "Thanks. The clinic will check your details and e-mail you an activation code, or ask you to call. This can take one business day.";

fn request_id(raw: &ID) -> Result<Uuid, ApiError> {
    Uuid::parse_str(raw.as_str())
        .map_err(|_| ApiError::new("ID_INVALID", "this is not a request id").on("requestId"))
}

/// Patient-portal mutations.
#[derive(Default)]
pub struct PatientMutation;

#[Object]
impl PatientMutation {
    /// Registers a patient record (staff); answers with an activation code to hand out at check-in, also e-mailed
    /// when an address is given.
    async fn register_patient(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The operation's input.")] input: RegisterPatientInput,
    ) -> Result<RegisterPatientPayload> {
        let principal = staff(ctx).await?;
        let (state, request) = context(ctx);
        let mut checked = Checked::default();
        let number = checked.value(
            "clinicNumber",
            "CLINIC_NUMBER_INVALID",
            v::ClinicNumber::parse(&input.clinic_number),
        );
        let name = checked.person_name(
            input.title.as_deref(),
            &input.first_name,
            input.middle_name.as_deref(),
            &input.last_name,
        );
        let born = date_of_birth(&mut checked, &input.date_of_birth, request.now.date_naive());
        let email = match input
            .email
            .as_deref()
            .map(str::trim)
            .filter(|e| !e.is_empty())
        {
            Some(raw) => checked.email("email", raw).map(Some),
            None => Some(None),
        };
        let phone = match input
            .phone
            .as_deref()
            .map(str::trim)
            .filter(|p| !p.is_empty())
        {
            Some(raw) => checked.phone("phone", raw).map(Some),
            None => Some(None),
        };
        checked.finish()?;
        let (Some(clinic_number), Some(name), Some(date_of_birth), Some(email), Some(phone)) =
            (number, name, born, email, phone)
        else {
            return Err(ApiError::internal(&"parsed input missing").into());
        };
        let org = organization_by_id(state, principal.organization).await?;
        let command = request.command(Actor::Account(principal.account.0), input.command_id);
        let registered = patients::register(
            &state.store,
            &org,
            NewPatientInput {
                clinic_number,
                name,
                date_of_birth,
                email,
                phone,
            },
            Some(principal.account),
            &command,
        )
        .await
        .map_err(|e| match e {
            portal_commands::CommandError::Rejected(
                portal_domain::patient::PatientError::AlreadyRegistered,
            ) => ApiError::new(
                "CLINIC_NUMBER_TAKEN",
                "another patient record has this clinic number",
            )
            .on("input.clinicNumber"),
            other => ApiError::from_command(other),
        })?;
        Ok(RegisterPatientPayload {
            patient_id: ID(registered.id.0.to_string()),
            activation_code: registered.code.display(),
            position: LogPosition(registered.last_position),
            changed: ChangedPatient {
                reader: principal,
                patient: registered.id.0,
                position: Some(registered.last_position),
            },
        })
    }

    /// Issues a new activation code for a patient record without an account (staff); it replaces the oldest of
    /// three and lifts a sign-up lock.
    async fn issue_patient_code(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The patient record.")] patient_id: ID,
        #[graphql(
            desc = "Idempotency key: a retry with the same id returns the first answer instead of acting twice."
        )]
        command_id: Option<Uuid>,
    ) -> Result<IssuePatientCodePayload> {
        let principal = staff(ctx).await?;
        let (state, request) = context(ctx);
        let patient = Uuid::parse_str(patient_id.as_str())
            .map(PatientId)
            .map_err(|_| ApiError::new("ID_INVALID", "this is not a patient id").on("patientId"))?;
        let org = organization_by_id(state, principal.organization).await?;
        let command = request.command(Actor::Account(principal.account.0), command_id);
        let (code, position) = patients::issue_code(
            &state.store,
            &org,
            patient,
            Some(principal.account),
            &command,
        )
        .await
        .map_err(ApiError::from_command)?;
        Ok(IssuePatientCodePayload {
            activation_code: code.display(),
            position: LogPosition(position),
            changed: ChangedPatient {
                reader: principal,
                patient: patient.0,
                position: Some(position),
            },
        })
    }

    /// Signs up for the patient portal with the clinic number or an activation code, and the date of birth; the
    /// account is activated from the link e-mailed to `email`. Every mismatch gets SIGN_UP_REFUSED; repeated ones
    /// lock sign-up for the record.
    async fn sign_up_patient(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The operation's input.")] input: SignUpPatientInput,
    ) -> Result<SignUpPatientPayload> {
        let (state, request) = context(ctx);
        super::mutation::limit_attempts(state, request)?;
        let mut checked = Checked::default();
        let code = checked.organization_code("organizationCode", &input.organization_code);
        let proof = match (
            input.clinic_number.as_deref(),
            input.activation_code.as_deref(),
        ) {
            (Some(number), None) => checked
                .value(
                    "clinicNumber",
                    "CLINIC_NUMBER_INVALID",
                    v::ClinicNumber::parse(number),
                )
                .map(Proof::ClinicNumber),
            (None, Some(raw)) => checked
                .value(
                    "activationCode",
                    "ACTIVATION_CODE_INVALID",
                    v::ActivationCode::parse(raw),
                )
                .map(Proof::ActivationCode),
            _ => {
                checked.refuse(
                    "clinicNumber",
                    "PROOF_REQUIRED",
                    "give either clinicNumber or activationCode".to_owned(),
                );
                None
            }
        };
        let born = date_of_birth(&mut checked, &input.date_of_birth, request.now.date_naive());
        let username = checked.value(
            "username",
            "USERNAME_INVALID",
            v::Username::parse(&input.username),
        );
        let email = checked.email("email", &input.email);
        let password = checked.new_password("password", &input.password);
        checked.finish()?;
        let (
            Some(code),
            Some(proof),
            Some(date_of_birth),
            Some(username),
            Some(email),
            Some(password),
        ) = (code, proof, born, username, email, password)
        else {
            return Err(ApiError::internal(&"parsed input missing").into());
        };
        let org = organization(state, code).await?;
        let command = request.command(Actor::Anonymous, input.command_id);
        let signed_up = patients::sign_up(
            &state.store,
            &org,
            SignUp {
                proof,
                date_of_birth,
                username,
                email,
                password,
            },
            &command,
        )
        .await
        .map_err(ApiError::from_command)?;
        Ok(SignUpPatientPayload {
            message: CHECK_YOUR_EMAIL.to_owned(),
            position: LogPosition(signed_up.last_position),
        })
    }

    /// Asks for an activation code online (seed 001, step 2, third way): staff check the details and send a code,
    /// or ask the person to call. The answer is the same either way.
    async fn request_activation_code(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The operation's input.")] input: RequestActivationCodeInput,
    ) -> Result<RequestActivationCodePayload> {
        let (state, request) = context(ctx);
        super::mutation::limit_attempts(state, request)?;
        let mut checked = Checked::default();
        let code = checked.organization_code("organizationCode", &input.organization_code);
        let name = checked.person_name(None, &input.first_name, None, &input.last_name);
        let born = date_of_birth(&mut checked, &input.date_of_birth, request.now.date_naive());
        let email = checked.email("email", &input.email);
        let phone = match input
            .phone
            .as_deref()
            .map(str::trim)
            .filter(|p| !p.is_empty())
        {
            Some(raw) => checked.phone("phone", raw).map(Some),
            None => Some(None),
        };
        let number = match input
            .clinic_number
            .as_deref()
            .map(str::trim)
            .filter(|n| !n.is_empty())
        {
            Some(raw) => checked
                .value(
                    "clinicNumber",
                    "CLINIC_NUMBER_INVALID",
                    v::ClinicNumber::parse(raw),
                )
                .map(Some),
            None => Some(None),
        };
        checked.finish()?;
        let (
            Some(code),
            Some(name),
            Some(date_of_birth),
            Some(email),
            Some(phone),
            Some(clinic_number),
        ) = (code, name, born, email, phone, number)
        else {
            return Err(ApiError::internal(&"parsed input missing").into());
        };
        let org = organization(state, code).await?;
        let command = request.command(Actor::Anonymous, input.command_id);
        signup_requests::submit(
            &state.store,
            &org,
            IdentityDetails {
                name,
                date_of_birth,
                email,
                phone,
                clinic_number,
            },
            &command,
        )
        .await
        .map_err(ApiError::from_command)?;
        Ok(RequestActivationCodePayload {
            message: REQUEST_RECEIVED.to_owned(),
        })
    }

    /// Approves a request for a code (staff): the matched record, or a new one with `clinicNumber`, gets a code
    /// sent to the address in the request.
    async fn approve_sign_up_request(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The operation's input.")] input: ApproveSignUpRequestInput,
    ) -> Result<ApproveSignUpRequestPayload> {
        let principal = staff(ctx).await?;
        let (state, request) = context(ctx);
        let id = request_id(&input.request_id)?;
        let matched = match (input.patient_id.as_ref(), input.clinic_number.as_deref()) {
            (Some(patient), None) => Uuid::parse_str(patient.as_str())
                .map(|p| Match::Existing(PatientId(p)))
                .map_err(|_| {
                    ApiError::new("ID_INVALID", "this is not a patient id").on("input.patientId")
                })?,
            (None, Some(number)) => {
                v::ClinicNumber::parse(number)
                    .map(Match::New)
                    .map_err(|e| {
                        ApiError::new("CLINIC_NUMBER_INVALID", e.rule).on("input.clinicNumber")
                    })?
            }
            _ => {
                return Err(ApiError::new(
                    "MATCH_REQUIRED",
                    "give either patientId or clinicNumber",
                )
                .on("input.patientId")
                .into())
            }
        };
        let org = organization_by_id(state, principal.organization).await?;
        let command = request.command(Actor::Account(principal.account.0), input.command_id);
        let (patient, position) =
            signup_requests::approve(&state.store, &org, id, matched, principal.account, &command)
                .await
                .map_err(|e| match e {
                    ApprovalError::Request(e) => ApiError::from_command(e),
                    ApprovalError::Patient(portal_commands::CommandError::Rejected(
                        portal_domain::patient::PatientError::AlreadyRegistered,
                    )) => ApiError::new(
                        "CLINIC_NUMBER_TAKEN",
                        "another patient record has this clinic number",
                    )
                    .on("input.clinicNumber"),
                    ApprovalError::Patient(e) => ApiError::from_command(e),
                })?;
        Ok(ApproveSignUpRequestPayload {
            patient_id: ID(patient.0.to_string()),
            position: position.map(LogPosition),
            changed: ChangedPatient {
                reader: principal,
                patient: patient.0,
                position,
            },
        })
    }

    /// Rejects a request for a code (staff), with the reason kept for auditors; the person is asked to call.
    async fn reject_sign_up_request(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The sign-up request.")] request_id: ID,
        #[graphql(desc = "Why, told to the person by e-mail.")] reason: String,
        #[graphql(
            desc = "Idempotency key: a retry with the same id returns the first answer instead of acting twice."
        )]
        command_id: Option<Uuid>,
    ) -> Result<AcceptTermsPayload> {
        let principal = staff(ctx).await?;
        let (state, request) = context(ctx);
        let id = self::request_id(&request_id)?;
        let org = organization_by_id(state, principal.organization).await?;
        let command = request.command(Actor::Account(principal.account.0), command_id);
        let position =
            signup_requests::reject(&state.store, &org, id, &reason, principal.account, &command)
                .await
                .map_err(ApiError::from_command)?;
        Ok(AcceptTermsPayload {
            position: Some(LogPosition(position)),
            changed: TermsOrRequest::Rejected(principal, id),
        })
    }

    /// Publishes a new version of the terms of use and privacy practices (staff); every account must accept it.
    async fn publish_terms(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The operation's input.")] input: PublishTermsInput,
    ) -> Result<PublishTermsPayload> {
        let principal = staff(ctx).await?;
        let (state, request) = context(ctx);
        let command = request.command(Actor::Account(principal.account.0), input.command_id);
        let (version, position) = orgs::publish_terms(
            &state.store,
            principal.organization,
            &input.terms_of_use,
            &input.privacy_practices,
            Some(principal.account),
            &command,
        )
        .await
        .map_err(ApiError::from_command::<OrganizationError>)?;
        Ok(PublishTermsPayload {
            version: i32::try_from(version).unwrap_or(i32::MAX),
            position: LogPosition(position),
            organization: principal.organization.0,
        })
    }

    /// Accepts the terms in force, by their version (a stale version is refused with TERMS_VERSION_OUTDATED).
    async fn accept_terms(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The version of the terms shown to the person (the one in force).")]
        version: i32,
        #[graphql(
            desc = "Idempotency key: a retry with the same id returns the first answer instead of acting twice."
        )]
        command_id: Option<Uuid>,
    ) -> Result<AcceptTermsPayload> {
        let principal = signed_in(ctx).await?;
        let (state, request) = context(ctx);
        let org = organization_by_id(state, principal.organization).await?;
        let current = org.terms.as_ref().map(|t| t.version);
        let version = u32::try_from(version)
            .ok()
            .filter(|v| Some(*v) == current)
            .ok_or_else(|| {
                ApiError::new(
                    "TERMS_VERSION_OUTDATED",
                    format!("the terms in force are version {}", current.unwrap_or(0)),
                )
                .on("version")
            })?;
        let command = request.command(Actor::Account(principal.account.0), command_id);
        let position = accounts::accept_terms(&state.store, &principal, version, &command)
            .await
            .map_err(ApiError::from_command)?;
        Ok(AcceptTermsPayload {
            position: position.map(LogPosition),
            changed: TermsOrRequest::Accepted(ChangedAccount::own(&principal, position)),
        })
    }

    /// Replaces the patient portal's rules (staff): how many days an activation code works (1 to 365), until how
    /// many hours before an appointment patients may cancel or move it (0 to 168), when reminders go (hours before,
    /// up to three), and how long a wait-list offer stands (5 to 1440 minutes).
    async fn set_patient_policy(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Days an activation code stays valid (1 to 365).")]
        activation_code_days: i32,
        #[graphql(
            desc = "Hours before a visit after which patients can no longer move or cancel it."
        )]
        cancellation_cutoff_hours: Option<i32>,
        #[graphql(desc = "Hours before a visit at which reminders go out.")] reminder_hours: Option<
            Vec<i32>,
        >,
        #[graphql(desc = "Minutes a wait-list offer is held before it goes to the next in line.")]
        offer_minutes: Option<i32>,
        #[graphql(
            desc = "Idempotency key: a retry with the same id returns the first answer instead of acting twice."
        )]
        command_id: Option<Uuid>,
    ) -> Result<super::settings::SettingsPayload> {
        let principal = staff(ctx).await?;
        let (state, request) = context(ctx);
        let defaults = PatientPolicy::default();
        let hours = reminder_hours
            .map(|h| {
                h.into_iter()
                    .map(|x| u32::try_from(x).unwrap_or(u32::MAX))
                    .collect::<Vec<_>>()
            })
            .unwrap_or_else(|| defaults.reminder_hours.to_vec());
        if hours.len() > 3 {
            return Err(ApiError::new("POLICY_INVALID", "at most three reminders")
                .on("reminderHours")
                .into());
        }
        let mut reminder = [0u32; 3];
        reminder[..hours.len()].copy_from_slice(&hours);
        let policy = PatientPolicy {
            activation_code_days: u32::try_from(activation_code_days).unwrap_or(0),
            cancellation_cutoff_hours: cancellation_cutoff_hours
                .map_or(defaults.cancellation_cutoff_hours, |h| {
                    u32::try_from(h).unwrap_or(u32::MAX)
                }),
            reminder_hours: reminder,
            offer_minutes: offer_minutes
                .map_or(defaults.offer_minutes, |m| u32::try_from(m).unwrap_or(0)),
        };
        let command = request.command(Actor::Account(principal.account.0), command_id);
        let position = orgs::set_patient_policy(
            &state.store,
            principal.organization,
            policy,
            Some(principal.account),
            &command,
        )
        .await
        .map_err(|e| ApiError::from_command::<OrganizationError>(e).on("activationCodeDays"))?;
        Ok(super::settings::SettingsPayload::new(
            principal.organization,
            position,
        ))
    }
}

/// The terms in force in `organization` once the read model has applied `at_least`.
async fn read_terms(
    state: &AppState,
    organization: Uuid,
    at_least: Option<LogPosition>,
) -> Result<Option<Terms>, ApiError> {
    applied(state, portal_projections::organizations::NAME, at_least).await?;
    let terms = patient_rows::current_terms(&state.pool, organization)
        .await
        .map_err(projection_error)?;
    Ok(terms.map(
        |(version, terms_of_use, privacy_practices, published_at)| Terms {
            id: super::ids::derived("Terms", &[&organization, &version]),
            version,
            terms_of_use,
            privacy_practices,
            published_at,
        },
    ))
}

#[ComplexObject]
impl PublishTermsPayload {
    /// The terms now in force, the ones just published (what `terms` answers).
    async fn terms(&self, ctx: &Context<'_>) -> Result<Option<Terms>> {
        let state = ctx.data_unchecked::<AppState>();
        Ok(read_terms(state, self.organization, Some(self.position)).await?)
    }
}

/// A request for a code for the API.
fn sign_up_request(r: patient_rows::SignUpRequestRow) -> SignUpRequestItem {
    SignUpRequestItem {
        id: ID(r.id.to_string()),
        first_name: r.first_name,
        last_name: r.last_name,
        date_of_birth: r.date_of_birth,
        email: r.email,
        phone: r.phone,
        clinic_number: r.clinic_number,
        status: r.status,
        submitted_at: r.submitted_at,
        patient_id: r.patient_id.map(|p| ID(p.to_string())),
    }
}

/// A patient record for the API.
fn record(r: patient_rows::PatientRow) -> PatientRecord {
    PatientRecord {
        id: ID(r.id.to_string()),
        clinic_number: r.clinic_number,
        first_name: r.first_name,
        last_name: r.last_name,
        date_of_birth: r.date_of_birth,
        email: r.email,
        phone: r.phone,
        account_id: r.account_id.map(|a| ID(a.to_string())),
        registered_at: r.registered_at,
        signed_up_at: r.signed_up_at,
        failed_sign_ups: r.failed_sign_ups,
        sign_up_locked: r.sign_up_locked,
        sign_up_locked_until: r.sign_up_locked_until,
    }
}

/// A patient record a staff mutation changed, read back for its answer (the read goes to the access log).
struct ChangedPatient {
    reader: Principal,
    patient: Uuid,
    position: Option<i64>,
}

impl ChangedPatient {
    async fn read(&self, ctx: &Context<'_>) -> Result<Option<PatientRecord>, ApiError> {
        let state = ctx.data_unchecked::<AppState>();
        let position = self.position.filter(|p| *p > 0).map(LogPosition);
        applied(state, patient_rows::NAME, position).await?;
        let row = patient_rows::find(&state.pool, self.reader.organization.0, self.patient)
            .await
            .map_err(projection_error)?;
        if let Some(row) = &row {
            let whose = Whose {
                account: row.account_id,
                record: Some(row.id),
                request: None,
            };
            audited(ctx, &self.reader, "patient_record", "patient", &[whose]).await?;
        }
        Ok(row.map(record))
    }
}

macro_rules! answers_patient {
    ($payload:ty) => {
        #[ComplexObject]
        impl $payload {
            /// The patient record as it now is (what `patients` lists).
            async fn patient(&self, ctx: &Context<'_>) -> Result<Option<PatientRecord>> {
                Ok(self.changed.read(ctx).await?)
            }
        }
    };
}
answers_patient!(RegisterPatientPayload);
answers_patient!(IssuePatientCodePayload);
answers_patient!(ApproveSignUpRequestPayload);

/// Patient-portal queries.
#[derive(Default)]
pub struct PatientQuery;

#[Object]
impl PatientQuery {
    /// The terms in force of the organization with this code (null before any are published); no sign-in needed.
    async fn terms(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The organization's code.")] organization_code: String,
        #[graphql(
            desc = "Read your writes: wait until the read model has applied this log position (a mutation's `position`)."
        )]
        at_least: Option<LogPosition>,
    ) -> Result<Option<Terms>> {
        let state = ctx.data_unchecked::<AppState>();
        applied(state, portal_projections::organizations::NAME, at_least).await?;
        let code = organization_code.trim().to_ascii_lowercase();
        let Some(org) = portal_projections::organizations::find_by_code(&state.pool, &code)
            .await
            .map_err(projection_error)?
        else {
            return Ok(None);
        };
        Ok(read_terms(state, org.id, None).await?)
    }

    /// The verification queue (staff): requests for an activation code with `status` (default `pending`), oldest
    /// first.
    async fn sign_up_requests(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only requests in this state.")] status: Option<String>,
        #[graphql(
            desc = "Read your writes: wait until the read model has applied this log position (a mutation's `position`)."
        )]
        at_least: Option<LogPosition>,
    ) -> Result<Vec<SignUpRequestItem>> {
        let principal = staff(ctx).await?;
        let state = ctx.data_unchecked::<AppState>();
        let status = status
            .unwrap_or_else(|| "pending".to_owned())
            .to_ascii_lowercase();
        if !["pending", "approved", "rejected"].contains(&status.as_str()) {
            return Err(
                ApiError::new("STATUS_INVALID", "status is pending, approved or rejected")
                    .on("status")
                    .into(),
            );
        }
        applied(state, patient_rows::NAME, at_least).await?;
        let rows = patient_rows::requests(&state.pool, principal.organization.0, &status, 200)
            .await
            .map_err(projection_error)?;
        let whose: Vec<Whose> = rows
            .iter()
            .map(|r| Whose {
                request: Some(r.id),
                record: r.patient_id,
                account: None,
            })
            .collect();
        audited(ctx, &principal, "sign_up_request", "signUpRequests", &whose).await?;
        Ok(rows.into_iter().map(sign_up_request).collect())
    }

    /// Patient records of your organization (staff), by name; `search` is a clinic number or part of a name.
    async fn patients(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Name, clinic number or e-mail address to look for.")] search: Option<
            String,
        >,
        #[graphql(desc = "Page size.")] first: Option<i32>,
        #[graphql(
            desc = "Read your writes: wait until the read model has applied this log position (a mutation's `position`)."
        )]
        at_least: Option<LogPosition>,
    ) -> Result<Vec<PatientRecord>> {
        let principal = staff(ctx).await?;
        let state = ctx.data_unchecked::<AppState>();
        let first = first.unwrap_or(50);
        if !(1..=200).contains(&first) {
            return Err(ApiError::new("PAGE_SIZE_INVALID", "first is 1 to 200")
                .on("first")
                .into());
        }
        applied(state, patient_rows::NAME, at_least).await?;
        let search = search
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty());
        let rows = patient_rows::list(
            &state.pool,
            principal.organization.0,
            search.as_deref(),
            i64::from(first),
        )
        .await
        .map_err(projection_error)?;
        let whose: Vec<Whose> = rows
            .iter()
            .map(|r| Whose {
                account: r.account_id,
                record: Some(r.id),
                request: None,
            })
            .collect();
        audited(ctx, &principal, "patient_record", "patients", &whose).await?;
        Ok(rows.into_iter().map(record).collect())
    }
}
