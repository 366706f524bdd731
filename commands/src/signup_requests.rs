//! Online requests for an activation code, and the staff queue that approves or rejects them.

use portal_domain::patient::{Patient, PatientError, PatientState};
use portal_domain::signup_request::{
    IdentityDetails, SignUpRequest, SignUpRequestCommand, SignUpRequestError, SignUpRequestState,
};
use portal_domain::{AccountId, PatientId, Personal};
use uuid::Uuid;

use crate::handler::{execute, CommandContext, CommandError, Plan};
use crate::log::{EventLog, StreamId};
use crate::messages;
use crate::organizations::OrganizationSummary;
use crate::patients::{self, NewPatientInput};
use crate::store::Store;
use portal_domain::Decider;

/// The stream of a request.
pub fn stream(id: Uuid) -> StreamId {
    StreamId::new(SignUpRequest::CATEGORY, id)
}

/// Records a request for an activation code; staff see it in their queue. Returns the position.
pub async fn submit<L: EventLog>(
    store: &Store<L>,
    organization: &OrganizationSummary,
    details: IdentityDetails,
    ctx: &CommandContext,
) -> Result<i64, CommandError<SignUpRequestError>> {
    let id = crate::activities::derived_id("signuprequest", ctx.command_id);
    let fingerprint = store.secrets.fingerprint(
        "RequestActivationCode",
        &[
            organization.id.0.as_bytes(),
            format!("{details:?}").as_bytes(),
        ],
    );
    let executed = execute::<L, SignUpRequest>(
        store,
        &stream(id),
        Some(id),
        ctx,
        "RequestActivationCode",
        fingerprint,
        |_| {
            Ok(Plan::command(
                organization.id.0,
                SignUpRequestCommand::Submit {
                    details: details.clone(),
                },
            ))
        },
    )
    .await?;
    Ok(executed.last_position.unwrap_or_default())
}

/// How staff resolve a request they approve.
#[derive(Clone, Debug)]
pub enum Match {
    /// The person is this existing record.
    Existing(PatientId),
    /// The person is new to the clinic: register them with this clinic number.
    New(portal_domain::values::ClinicNumber),
}

/// Why an approval failed.
#[derive(Debug, thiserror::Error)]
pub enum ApprovalError {
    /// The request.
    #[error(transparent)]
    Request(CommandError<SignUpRequestError>),
    /// The patient record.
    #[error(transparent)]
    Patient(CommandError<PatientError>),
}

/// Staff approve a request: the matched (or newly registered) record gets an activation code, sent to the address
/// the person gave; then the request is marked approved. A crash between the two leaves the request pending, and
/// approving it again sends another code. Answers the record and the position of the approval.
pub async fn approve<L: EventLog>(
    store: &Store<L>,
    organization: &OrganizationSummary,
    request: Uuid,
    matched: Match,
    by: AccountId,
    ctx: &CommandContext,
) -> Result<(PatientId, Option<i64>), ApprovalError> {
    let (state, _) = store
        .load::<SignUpRequest>(&stream(request))
        .await
        .map_err(|e| ApprovalError::Request(e.into()))?;
    let details = match state {
        SignUpRequestState::Pending(Personal::Known(details)) => details,
        SignUpRequestState::Absent => {
            return Err(ApprovalError::Request(CommandError::Rejected(
                SignUpRequestError::NotFound,
            )))
        }
        _ => {
            return Err(ApprovalError::Request(CommandError::Rejected(
                SignUpRequestError::AlreadyDecided,
            )))
        }
    };
    let send_to = Some((details.email.clone(), details.name.salutation().to_owned()));
    let patient = match matched {
        Match::Existing(patient) => {
            let (record, _) = store
                .load::<Patient>(&patients::stream(patient))
                .await
                .map_err(|e| ApprovalError::Patient(e.into()))?;
            match record {
                PatientState::Registered(r) if r.organization == organization.id => {}
                _ => {
                    return Err(ApprovalError::Patient(CommandError::Rejected(
                        PatientError::NotFound,
                    )))
                }
            }
            patients::issue_code_to(store, organization, patient, Some(by), send_to, ctx)
                .await
                .map_err(ApprovalError::Patient)?;
            patient
        }
        Match::New(clinic_number) => {
            let registered = patients::register_to(
                store,
                organization,
                NewPatientInput {
                    clinic_number,
                    name: details.name.clone(),
                    date_of_birth: details.date_of_birth,
                    email: Some(details.email.clone()),
                    phone: details.phone.clone(),
                },
                Some(by),
                send_to,
                ctx,
            )
            .await
            .map_err(ApprovalError::Patient)?;
            registered.id
        }
    };
    let fingerprint = store.secrets.fingerprint(
        "ApproveSignUpRequest",
        &[request.as_bytes(), patient.0.as_bytes()],
    );
    let approval_ctx = CommandContext {
        command_id: crate::activities::derived_id("approve", ctx.command_id),
        ..ctx.clone()
    };
    let approved = execute::<L, SignUpRequest>(
        store,
        &stream(request),
        Some(request),
        &approval_ctx,
        "ApproveSignUpRequest",
        fingerprint,
        |_| {
            Ok(Plan::command(
                organization.id.0,
                SignUpRequestCommand::Approve { patient, by },
            ))
        },
    )
    .await
    .map_err(ApprovalError::Request)?;
    Ok((patient, approved.last_position))
}

/// Staff reject a request; the person is asked by e-mail to call the clinic.
pub async fn reject<L: EventLog>(
    store: &Store<L>,
    organization: &OrganizationSummary,
    request: Uuid,
    reason: &str,
    by: AccountId,
    ctx: &CommandContext,
) -> Result<i64, CommandError<SignUpRequestError>> {
    let fingerprint = store.secrets.fingerprint(
        "RejectSignUpRequest",
        &[request.as_bytes(), reason.as_bytes()],
    );
    let executed = execute::<L, SignUpRequest>(
        store,
        &stream(request),
        Some(request),
        ctx,
        "RejectSignUpRequest",
        fingerprint,
        |state| {
            let outbox = match state {
                SignUpRequestState::Pending(Personal::Known(details)) => {
                    vec![messages::code_request_rejected(
                        &details.email,
                        details.name.salutation(),
                        ctx.now,
                    )]
                }
                _ => vec![],
            };
            Ok(Plan::with_outbox(
                organization.id.0,
                SignUpRequestCommand::Reject {
                    reason: reason.to_owned(),
                    by,
                },
                outbox,
            ))
        },
    )
    .await?;
    Ok(executed.last_position.unwrap_or_default())
}
