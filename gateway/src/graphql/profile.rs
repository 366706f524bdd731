//! The professional profile (seed 000, step 6): what the person fills in, and what is still missing.

use async_graphql::{Context, Enum, InputObject, Object, Result, SimpleObject, ID};
use portal_commands::accounts;
use portal_commands::handler::Actor;
use portal_domain::values::{self as v, ProfileDetails};

use super::changed::ChangedAccount;
use super::errors::{ApiError, FieldError};
use super::query::principal;
use super::types::LogPosition;
use crate::app::AppState;
use crate::request::RequestContext;

/// Profile mutations.
#[derive(Default)]
pub struct ProfileMutation;

mirror_enum!(
    /// Courtesy prefix.
    Prefix => v::Prefix { /** Mr. */ Mr, /** Dr. */ Dr, /** Ms. */ Ms, /** Mrs. */ Mrs, /** Miss */ Miss }
);
mirror_enum!(
    /// Home or work address.
    AddressType => v::AddressType { /** Home. */ Home, /** Work. */ Work }
);
mirror_enum!(
    /// A special need.
    SpecialNeed => v::SpecialNeed {
        /** Mobility. */ Mobility, /** Hearing. */ Hearing, /** Vision. */ Vision, /** Diet. */ Dietary,
        /** Something else. */ Other
    }
);
mirror_enum!(
    /// The enrollment type that fits best.
    EnrollmentType => v::EnrollmentType {
        /** Physician. */ Physician, /** Resident or fellow. */ ResidentOrFellow, /** Nurse. */ Nurse,
        /** Pharmacist. */ Pharmacist, /** Physician assistant. */ PhysicianAssistant,
        /** Another health professional. */ OtherHealthProfessional,
        /** Not a health professional. */ NonHealthProfessional
    }
);
mirror_enum!(
    /// The kind of credit the person is eligible for.
    CreditEligibility => v::CreditEligibility {
        /** AMA PRA Category 1 Credit. */ AmaPraCategory1, /** ANCC contact hours. */ AnccContactHours,
        /** ACPE credit. */ Acpe, /** Certificate of participation. */ Participation
    }
);

/// A postal address.
#[derive(InputObject, SimpleObject, serde::Serialize)]
#[graphql(input_name = "AddressInput")]
pub struct Address {
    /// Home or work.
    pub r#type: AddressType,
    /// First line.
    pub line1: String,
    /// Second line.
    pub line2: Option<String>,
    /// City.
    pub city: String,
    /// State, province or region.
    pub state: String,
    /// Postal code.
    pub postal_code: String,
    /// ISO 3166-1 alpha-2 country code.
    pub country: String,
}

/// Special needs: `none: true`, or at least one need.
#[derive(InputObject, SimpleObject, serde::Serialize)]
#[graphql(input_name = "SpecialNeedsInput")]
pub struct SpecialNeeds {
    /// None apply.
    pub none: bool,
    /// The needs that apply.
    pub needs: Vec<SpecialNeed>,
}

/// Whether the person holds a medical license of the named state.
#[derive(InputObject, SimpleObject, serde::Serialize)]
#[graphql(input_name = "StateLicenseInput")]
pub struct StateLicense {
    /// The state (two letters, such as FL).
    pub state: String,
    /// Yes or no.
    pub holds: bool,
    /// The number, with a yes.
    pub number: Option<String>,
}

/// Fields to set; those left out keep their value.
#[derive(InputObject, serde::Serialize)]
pub struct UpdateProfileInput {
    /// Courtesy prefix.
    pub prefix: Option<Prefix>,
    /// Employed by an organization of the clinic's care network.
    pub employed_by_care_network: Option<bool>,
    /// Postal address.
    pub address: Option<Address>,
    /// Date of birth, YYYY-MM-DD (used for MOC and pharmacy credit reporting).
    pub date_of_birth: Option<String>,
    /// Special needs.
    pub special_needs: Option<SpecialNeeds>,
    /// Enrollment type.
    pub enrollment_type: Option<EnrollmentType>,
    /// Medical license of the named state.
    pub state_license: Option<StateLicense>,
    /// Credit eligibility.
    pub credit_eligibility: Option<CreditEligibility>,
    /// Idempotency key.
    pub command_id: Option<uuid::Uuid>,
}

/// The answer to the update that completes a profile (seed 000's words).
pub const PROFILE_COMPLETED: &str =
    "Congratulations! You have completed your professional profile!";

/// The profile after the update.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct UpdateProfilePayload {
    /// The log position produced; null when nothing changed.
    pub position: Option<LogPosition>,
    /// Required fields still missing (empty: the profile is complete).
    pub missing_fields: Vec<String>,
    /// "Congratulations! You have completed your professional profile!" when this update completed it; else null.
    pub message: Option<String>,
    /// Activities whose held credit was awarded because the profile is now complete.
    pub credit_awarded_for: Vec<async_graphql::ID>,
    #[graphql(skip)]
    changed: ChangedAccount,
}

answers_account!(
    UpdateProfilePayload,
    "Your account as it now is, with its `profile` and `missingProfileFields`."
);

/// A change of name (marriage, a court order).
#[derive(InputObject)]
pub struct ChangeNameInput {
    /// Whose name: an account of your organization (staff only); omitted: your own.
    pub account_id: Option<ID>,
    /// "Dr.", "Ms.", ...: omitted keeps the title the name has, an empty string removes it.
    pub title: Option<String>,
    /// Given name.
    pub first_name: String,
    /// Middle name (optional: omitted means none).
    pub middle_name: Option<String>,
    /// Family name.
    pub last_name: String,
    /// The day the new name takes effect, today or earlier (default: today in your organization's zone).
    /// Transcripts and board reports show it for activities from that day; earlier ones keep the old name.
    pub effective_on: Option<chrono::NaiveDate>,
    /// Idempotency key.
    pub command_id: Option<uuid::Uuid>,
}

/// The name changed; null position when it was the same name.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct ChangeNamePayload {
    /// The log position produced; null when nothing changed.
    pub position: Option<LogPosition>,
    #[graphql(skip)]
    changed: ChangedAccount,
}

answers_account!(
    ChangeNamePayload,
    "The account as it now is, under its new name."
);

/// The professional profile as the read model holds it.
#[derive(SimpleObject)]
pub struct Profile {
    /// The profile (one per account).
    pub id: ID,
    /// Courtesy prefix.
    pub prefix: Option<Prefix>,
    /// Employed by an organization of the clinic's care network.
    pub employed_by_care_network: bool,
    /// Postal address.
    pub address: Option<Address>,
    /// Date of birth, YYYY-MM-DD.
    pub date_of_birth: Option<String>,
    /// Special needs.
    pub special_needs: Option<SpecialNeeds>,
    /// Enrollment type.
    pub enrollment_type: Option<EnrollmentType>,
    /// Medical license of the named state.
    pub state_license: Option<StateLicense>,
    /// Credit eligibility.
    pub credit_eligibility: Option<CreditEligibility>,
}

impl Profile {
    /// The profile of `account`.
    pub fn of(account: uuid::Uuid, d: ProfileDetails) -> Self {
        Self {
            id: super::ids::derived("Profile", &[&account]),
            prefix: d.prefix.map(Into::into),
            employed_by_care_network: d.employed_by_care_network,
            address: d.address.map(|a| Address {
                r#type: a.kind.into(),
                line1: a.line1,
                line2: a.line2,
                city: a.city,
                state: a.state,
                postal_code: a.postal_code,
                country: a.country,
            }),
            date_of_birth: d.date_of_birth.map(|dob| dob.date().to_string()),
            special_needs: d.special_needs.map(|n| match n {
                v::SpecialNeeds::None => SpecialNeeds {
                    none: true,
                    needs: vec![],
                },
                v::SpecialNeeds::Some(needs) => SpecialNeeds {
                    none: false,
                    needs: needs.into_iter().map(Into::into).collect(),
                },
            }),
            enrollment_type: d.enrollment_type.map(Into::into),
            state_license: d.state_license.map(|l| match l {
                v::StateLicense::No { state } => StateLicense {
                    state,
                    holds: false,
                    number: None,
                },
                v::StateLicense::Yes { state, number } => StateLicense {
                    state,
                    holds: true,
                    number: Some(number),
                },
            }),
            credit_eligibility: d.credit_eligibility.map(Into::into),
        }
    }
}

fn refuse(errors: &mut Vec<FieldError>, field: String, code: &'static str, message: String) {
    errors.push(FieldError {
        field,
        code,
        message,
    });
}

/// The parsed parts of an update, every broken rule collected.
fn parse(
    input: &UpdateProfileInput,
    today: chrono::NaiveDate,
) -> Result<impl Fn(&mut ProfileDetails), ApiError> {
    let mut errors = Vec::new();
    let address = input.address.as_ref().and_then(|a| {
        v::PostalAddress::parse(
            a.r#type.into(),
            &a.line1,
            a.line2.as_deref(),
            &a.city,
            &a.state,
            &a.postal_code,
            &a.country,
        )
        .map_err(|e| {
            refuse(
                &mut errors,
                format!("input.address.{}", e.field),
                "ADDRESS_INVALID",
                e.to_string(),
            )
        })
        .ok()
    });
    let date_of_birth = input.date_of_birth.as_deref().and_then(|raw| {
        v::DateOfBirth::parse(raw, today)
            .map_err(|e| {
                refuse(
                    &mut errors,
                    "input.dateOfBirth".into(),
                    "DATE_OF_BIRTH_INVALID",
                    e.to_string(),
                )
            })
            .ok()
    });
    let special_needs =
        input
            .special_needs
            .as_ref()
            .and_then(|n| match (n.none, n.needs.is_empty()) {
                (true, true) => Some(v::SpecialNeeds::None),
                (false, false) => Some(v::SpecialNeeds::Some(
                    n.needs.iter().map(|&need| need.into()).collect(),
                )),
                _ => {
                    refuse(
                        &mut errors,
                        "input.specialNeeds".into(),
                        "SPECIAL_NEEDS_INVALID",
                        "answer either none: true, or list at least one need".into(),
                    );
                    None
                }
            });
    let state_license = input.state_license.as_ref().and_then(|l| {
        v::StateLicense::parse(&l.state, l.holds, l.number.as_deref())
            .map_err(|e| {
                refuse(
                    &mut errors,
                    format!("input.stateLicense.{}", e.field),
                    "LICENSE_INVALID",
                    e.to_string(),
                )
            })
            .ok()
    });
    if let Some(refusal) = ApiError::of_fields(errors) {
        return Err(refusal);
    }
    let prefix = input.prefix.map(Into::into);
    let employed = input.employed_by_care_network;
    let enrollment = input.enrollment_type.map(Into::into);
    let credit = input.credit_eligibility.map(Into::into);
    Ok(move |details: &mut ProfileDetails| {
        if prefix.is_some() {
            details.prefix = prefix;
        }
        if let Some(employed) = employed {
            details.employed_by_care_network = employed;
        }
        if address.is_some() {
            details.address = address.clone();
        }
        if date_of_birth.is_some() {
            details.date_of_birth = date_of_birth;
        }
        if special_needs.is_some() {
            details.special_needs = special_needs.clone();
        }
        if enrollment.is_some() {
            details.enrollment_type = enrollment;
        }
        if state_license.is_some() {
            details.state_license = state_license.clone();
        }
        if credit.is_some() {
            details.credit_eligibility = credit;
        }
    })
}

#[Object]
impl ProfileMutation {
    /// Records a change of your name, or (staff) of the name of an account of your organization. What was recorded
    /// before `effectiveOn` keeps the old name on transcripts and board reports; the log keeps both, so auditors
    /// see the old name in the history.
    async fn change_name(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The operation's input.")] input: ChangeNameInput,
    ) -> Result<ChangeNamePayload> {
        let principal = principal(ctx).await?;
        let state = ctx.data_unchecked::<AppState>();
        let request = ctx.data_unchecked::<RequestContext>();
        let (account, by) = match &input.account_id {
            Some(id) if id.as_str() != principal.account.0.to_string() => {
                if principal.role != portal_domain::account::Role::Staff {
                    return Err(ApiError::forbidden().into());
                }
                (
                    portal_domain::AccountId(super::care::uuid(id, "input.accountId")?),
                    Some(principal.account),
                )
            }
            _ => (principal.account, None),
        };
        let mut checked = super::inputs::Checked::default();
        let name = checked.person_name(
            input.title.as_deref(),
            &input.first_name,
            input.middle_name.as_deref(),
            &input.last_name,
        );
        checked.finish()?;
        let Some(name) = name else {
            return Err(ApiError::new("ARGUMENT_INVALID", "the input is invalid").into());
        };
        let effective_on = match input.effective_on {
            Some(day) => day,
            None => {
                let organization =
                    super::activities::organization(state, principal.organization).await?;
                organization.time_zone.local(request.now).date()
            }
        };
        let command = request.command(Actor::Account(principal.account.0), input.command_id);
        let position = accounts::change_name(
            &state.store,
            principal.organization,
            account,
            accounts::NameChange {
                name,
                keep_title: input.title.is_none(),
                effective_on,
                by,
            },
            &command,
        )
        .await
        .map_err(ApiError::from_command)?;
        Ok(ChangeNamePayload {
            position: position.map(LogPosition),
            changed: ChangedAccount::new(&principal, account.0, position),
        })
    }

    /// Completes or updates your professional profile; fields left out keep their value. Answers with what is
    /// still missing: activities that award credit need a complete profile.
    async fn update_profile(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The operation's input.")] input: UpdateProfileInput,
    ) -> Result<UpdateProfilePayload> {
        let principal = principal(ctx).await?;
        let state = ctx.data_unchecked::<AppState>();
        let request = ctx.data_unchecked::<RequestContext>();
        let change = parse(&input, request.now.date_naive())?;
        let serialized = serde_json::to_vec(&input).unwrap_or_default();
        let command = request.command(Actor::Account(principal.account.0), input.command_id);
        let accounts::ProfileUpdate {
            position,
            missing,
            completed,
        } = accounts::update_profile(&state.store, &principal, change, &serialized, &command)
            .await
            .map_err(ApiError::from_command)?;
        let credit_awarded_for = match position {
            Some(position) if missing.is_empty() => {
                release_held_credit(state, request, &principal, position).await?
            }
            _ => vec![],
        };
        Ok(UpdateProfilePayload {
            position: position.map(LogPosition),
            missing_fields: missing.into_iter().map(str::to_owned).collect(),
            // Seed 000's words, when this update is the one that completed the profile.
            message: completed.then(|| PROFILE_COMPLETED.to_owned()),
            credit_awarded_for,
            changed: ChangedAccount::own(&principal, position),
        })
    }
}

/// Claims the credit that an incomplete profile held, now that it is complete: the attendances are found in the
/// transcript once it has applied the profile's update (so every earlier attendance is in it), and each is decided
/// again by its own aggregate. One that fails stays pending; the learner can still claim it with `claimCredit`.
async fn release_held_credit(
    state: &AppState,
    request: &RequestContext,
    principal: &portal_domain::session::Principal,
    position: i64,
) -> Result<Vec<async_graphql::ID>, ApiError> {
    use portal_projections::transcript::{self, TranscriptFilter};
    portal_projections::runner::wait_for(
        &state.pool,
        transcript::NAME,
        position,
        super::query::READ_YOUR_WRITES_TIMEOUT,
    )
    .await
    .map_err(super::query::projection_error)?;
    let filter = TranscriptFilter {
        learner: Some(principal.account.0),
        ..TranscriptFilter::default()
    };
    let lines = transcript::lines(&state.pool, principal.organization.0, &filter)
        .await
        .map_err(super::query::projection_error)?;
    let mut held: Vec<uuid::Uuid> = lines
        .iter()
        .filter(|l| {
            l.status == "pending" && l.pending_reasons.iter().any(|r| r == "PROFILE_INCOMPLETE")
        })
        .map(|l| l.activity_id)
        .collect();
    held.sort();
    held.dedup();
    let mut awarded = Vec::new();
    for activity in held {
        let command = request.command(Actor::Account(principal.account.0), None);
        match portal_commands::attendance::claim_credit(
            &state.store,
            principal.organization,
            portal_domain::ActivityId(activity),
            principal.account,
            &command,
        )
        .await
        {
            Ok(outcome) if outcome.record.awarded => {
                awarded.push(async_graphql::ID(activity.to_string()))
            }
            Ok(_) => {}
            Err(refused) => {
                tracing::warn!(error = %refused.error, "held credit could not be claimed")
            }
        }
    }
    Ok(awarded)
}
