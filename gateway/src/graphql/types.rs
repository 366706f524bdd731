//! GraphQL object types and scalars.

use async_graphql::{scalar, Enum, SimpleObject, ID};
use chrono::{DateTime, Utc};
use portal_projections::accounts::AccountRow;
use portal_projections::organizations::OrganizationRow;
use serde::{Deserialize, Serialize};

/// A position in the event log. Every mutation returns the position it produced; queries that take `atLeast`
/// wait until their read model has caught up with it (read-your-writes). A JSON number (64-bit).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct LogPosition(pub i64);
scalar!(
    LogPosition,
    "LogPosition",
    "A position in the event log (64-bit integer)."
);

/// An organization (tenant): a CE provider or a clinic.
#[derive(SimpleObject)]
pub struct Organization {
    /// Its id.
    pub id: ID,
    /// The code people type in the mobile app.
    pub code: String,
    /// The display name.
    pub name: String,
    /// The IANA zone its calendar and transcripts are shown in (`America/Chicago`).
    pub time_zone: String,
    /// The number learners text attendance codes to (E.164), when it receives texts.
    pub sms_number: Option<String>,
    /// The name to show: its help desk's or portal's display name when staff set one, else its name.
    pub display_name: String,
    /// How people reach its help desk.
    pub help: super::help::HelpContactsView,
    /// Whether anyone may browse its calendar without signing in (`calendar(organizationCode:)`, and
    /// `/o/<code>/calendar.ics`).
    pub calendar_public: bool,
    /// The ways its portal signs people in: what an app shows on its sign-in screen.
    pub sign_in: SignInWays,
}

/// The ways an organization's portal signs people in.
#[derive(SimpleObject, Clone, Debug)]
pub struct SignInWays {
    /// Learners, staff and providers sign in with their e-mail address and password.
    pub email_address: bool,
    /// Patients sign in with the username they chose and password.
    pub username: bool,
    /// Who must use two-step verification.
    pub two_step_required: super::settings::TwoStepRequirementChoice,
    /// Second steps on offer besides an authenticator app and a code by e-mail: a code by text, once the
    /// organization texts.
    pub text_codes: bool,
}

impl SignInWays {
    fn of(two_step: portal_domain::organization::TwoStepRequirement, texts: bool) -> Self {
        Self {
            email_address: true,
            username: true,
            two_step_required: two_step.into(),
            text_codes: texts,
        }
    }
}

impl From<OrganizationRow> for Organization {
    fn from(row: OrganizationRow) -> Self {
        Self {
            id: ID(row.id.to_string()),
            code: row.code,
            name: row.name.clone(),
            time_zone: row.time_zone,
            sms_number: row.sms_number.clone(),
            display_name: row.help.display_name.clone().unwrap_or(row.name),
            help: row.help.into(),
            calendar_public: row.calendar_public,
            sign_in: SignInWays::of(
                portal_domain::organization::TwoStepRequirement::parse(&row.two_step_required)
                    .unwrap_or_default(),
                row.sms_number.is_some(),
            ),
        }
    }
}

impl From<&portal_commands::organizations::OrganizationSummary> for Organization {
    fn from(org: &portal_commands::organizations::OrganizationSummary) -> Self {
        Self {
            id: ID(org.id.0.to_string()),
            code: org.code.as_str().to_owned(),
            name: org.name.as_str().to_owned(),
            time_zone: org.time_zone.name().to_owned(),
            sms_number: org.sms.as_ref().map(|s| s.number.as_str().to_owned()),
            display_name: org
                .help
                .display_name
                .clone()
                .unwrap_or_else(|| org.name.as_str().to_owned()),
            help: super::help::view(&org.help),
            calendar_public: org.calendar_public,
            sign_in: SignInWays::of(org.two_step, org.sms.is_some()),
        }
    }
}

/// What an account may do.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum Role {
    /// A clinician earning continuing-education credit.
    Learner,
    /// A coordinator of the organization.
    Staff,
    /// A patient of the clinic.
    Patient,
    /// Reads the organization's history and access log; changes nothing.
    Auditor,
    /// A clinician of the clinic: answers messages, releases results, decides renewals.
    Provider,
}

/// Where an account is in its lifecycle.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum AccountStatus {
    /// Registered; the activation link has not been followed yet.
    Pending,
    /// Activated.
    Active,
}

/// An account, as the accounts read model holds it. Erased personal data reads as null.
#[derive(SimpleObject)]
pub struct Account {
    /// The account.
    pub id: ID,
    /// Its organization.
    pub organization_id: ID,
    /// Its role.
    pub role: Role,
    /// Courtesy title ("Dr.").
    pub title: Option<String>,
    /// Given name.
    pub first_name: Option<String>,
    /// Middle name.
    pub middle_name: Option<String>,
    /// Family name.
    pub last_name: Option<String>,
    /// Sign-in address.
    pub email: Option<String>,
    /// Lifecycle status.
    pub status: AccountStatus,
    /// When it was registered.
    pub registered_at: DateTime<Utc>,
    /// When it was activated.
    pub activated_at: Option<DateTime<Utc>>,
    /// The last successful sign-in.
    pub last_signed_in_at: Option<DateTime<Utc>>,
    /// The professional profile.
    pub profile: super::profile::Profile,
    /// Required profile fields still missing (empty: complete).
    pub missing_profile_fields: Vec<String>,
    /// True when the profile is complete; activities that award credit need it.
    pub profile_complete: bool,
    /// Disabled by staff: nobody signs in to it.
    pub disabled: bool,
    /// The consent to report completions to a board, if given.
    pub board_reporting: Option<super::reporting::BoardReportingConsent>,
    /// Two-step verification is on.
    pub two_step_enabled: bool,
    /// The sign-in name (patients).
    pub username: Option<String>,
    /// The version of the organization's terms of use and privacy practices it accepted (patients; null before any):
    /// below `terms.version`, the patient accepts the terms in force before anything else.
    pub terms_accepted_version: Option<i32>,
}

impl From<AccountRow> for Account {
    fn from(row: AccountRow) -> Self {
        Self {
            id: ID(row.id.to_string()),
            organization_id: ID(row.organization_id.to_string()),
            role: match row.role.as_str() {
                "staff" => Role::Staff,
                "patient" => Role::Patient,
                "auditor" => Role::Auditor,
                "provider" => Role::Provider,
                _ => Role::Learner,
            },
            title: row.title,
            first_name: row.first_name,
            middle_name: row.middle_name,
            last_name: row.last_name,
            email: row.email,
            status: if row.status == "active" {
                AccountStatus::Active
            } else {
                AccountStatus::Pending
            },
            registered_at: row.registered_at,
            activated_at: row.activated_at,
            last_signed_in_at: row.last_signed_in_at,
            profile: super::profile::Profile::of(
                row.id,
                row.profile
                    .and_then(|json| {
                        serde_json::from_value::<portal_domain::values::ProfileDetails>(json).ok()
                    })
                    .unwrap_or_default(),
            ),
            profile_complete: row.missing_profile_fields.is_empty(),
            disabled: row.disabled,
            two_step_enabled: row.two_step.is_some(),
            username: row.username,
            terms_accepted_version: row.terms_accepted_version,
            board_reporting: match (row.board, row.board_id, row.board_consented_at) {
                (Some(board), Some(board_id), Some(consented_at)) => {
                    Some(super::reporting::BoardReportingConsent {
                        id: super::ids::derived("BoardReportingConsent", &[&row.id]),
                        board,
                        board_id,
                        consented_at,
                    })
                }
                _ => None,
            },
            missing_profile_fields: row.missing_profile_fields,
        }
    }
}

/// Where a page of a Relay connection stands (paging is forward only).
#[derive(SimpleObject, Clone, Debug)]
pub struct PageInfo {
    /// More edges follow.
    pub has_next_page: bool,
    /// Edges before this page exist (true after a cursor).
    pub has_previous_page: bool,
    /// Cursor of the first edge.
    pub start_cursor: Option<String>,
    /// Cursor of the last edge: pass it as `after` for the next page.
    pub end_cursor: Option<String>,
}

impl PageInfo {
    /// The page information of `edges`, whose cursors `cursor` reads.
    pub fn of<E>(
        edges: &[E],
        cursor: impl Fn(&E) -> &String,
        has_next_page: bool,
        after_cursor: bool,
    ) -> Self {
        Self {
            has_next_page,
            has_previous_page: after_cursor,
            start_cursor: edges.first().map(|e| cursor(e).clone()),
            end_cursor: edges.last().map(|e| cursor(e).clone()),
        }
    }
}
