//! An organization's public face (issue 23, items 1, 2 and 7): staff set how people reach their help desk and
//! whether the calendar is public; anyone reads both with the organization (`organization(code)`), as the mobile app
//! does from the code typed in, and every e-mail and text carries the help contacts at its foot.

use super::types::Organization;
use async_graphql::{Context, InputObject, Object, Result, SimpleObject};
use portal_commands::handler::Actor;
use portal_commands::organizations;
use portal_domain::values::{HelpContacts, HelpContactsInput};
use portal_projections::organizations::HelpRow;
use uuid::Uuid;

use super::errors::ApiError;
use super::query::staff;
use super::types::LogPosition;
use crate::app::AppState;
use crate::request::RequestContext;

/// How people reach an organization's help desk; each part null when not given.
#[derive(SimpleObject, Clone, Debug, Default, PartialEq)]
pub struct HelpContactsView {
    /// The name of its help desk or portal (`UMN Office of CPD`).
    pub display_name: Option<String>,
    /// The number to call, as people dial it.
    pub phone: Option<String>,
    /// When someone answers.
    pub hours: Option<String>,
    /// The support e-mail address.
    pub email: Option<String>,
    /// Its web address.
    pub web: Option<String>,
}

impl From<HelpRow> for HelpContactsView {
    fn from(row: HelpRow) -> Self {
        Self {
            display_name: row.display_name,
            phone: row.phone,
            hours: row.hours,
            email: row.email,
            web: row.web,
        }
    }
}

/// The help contacts to set; a part left out or empty is cleared.
#[derive(InputObject)]
pub struct SetHelpContactsInput {
    /// The name of the help desk or portal, one line of up to 100 characters.
    pub display_name: Option<String>,
    /// The number to call: at least 7 digits, with spaces, +, -, (, ), dots or words such as "or" and "ext".
    pub phone: Option<String>,
    /// When someone answers, one line of up to 100 characters.
    pub hours: Option<String>,
    /// The support e-mail address.
    pub email: Option<String>,
    /// The web address, starting with https://.
    pub web: Option<String>,
    /// Idempotency key: a retry with the same id returns the first answer instead of acting twice.
    pub command_id: Option<Uuid>,
}

/// What changing one of the organization's public settings did.
#[derive(SimpleObject)]
pub struct OrganizationPayload {
    /// The log position produced.
    pub position: LogPosition,
    /// The organization as it now is (what `organization(code)` answers once it is applied).
    pub organization: Organization,
}

/// Setting the help contacts.
#[derive(Default)]
pub struct HelpMutation;

#[Object]
impl HelpMutation {
    /// Sets how people reach your organization's help desk (staff only). They show on the portal, in the answer to
    /// a locked account and at the foot of every e-mail and text from then on.
    async fn set_help_contacts(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The operation's input.")] input: SetHelpContactsInput,
    ) -> Result<OrganizationPayload> {
        let staff = staff(ctx).await?;
        let help = HelpContacts::parse(HelpContactsInput {
            display_name: input.display_name.as_deref(),
            phone: input.phone.as_deref(),
            hours: input.hours.as_deref(),
            email: input.email.as_deref(),
            web: input.web.as_deref(),
        })
        .map_err(|e| {
            ApiError::new("HELP_CONTACTS_INVALID", e.rule).on(format!("input.{}", e.field))
        })?;
        let state = ctx.data_unchecked::<AppState>();
        let request = ctx.data_unchecked::<RequestContext>();
        let command = request.command(Actor::Account(staff.account.0), input.command_id);
        let position = organizations::set_help_contacts(
            &state.store,
            staff.organization,
            help.clone(),
            Some(staff.account),
            &command,
        )
        .await
        .map_err(ApiError::from_command)?;
        // From the organization's stream, which the command just wrote: the read model may not have it yet.
        let organization = super::activities::organization(state, staff.organization).await?;
        Ok(OrganizationPayload {
            position: LogPosition(position),
            organization: Organization::from(&organization),
        })
    }

    /// Opens your organization's calendar to anyone, without signing in (seed 002: "click the Calendar link"), and
    /// as an iCalendar feed at `/o/<code>/calendar.ics`; or keeps it for those signed in (staff only). Activity
    /// codes stay hidden from everyone but staff either way.
    async fn set_calendar_public(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Whether anyone may browse it.")] public: bool,
        #[graphql(
            desc = "Idempotency key: a retry with the same id returns the first answer instead of acting twice."
        )]
        command_id: Option<Uuid>,
    ) -> Result<OrganizationPayload> {
        let staff = staff(ctx).await?;
        let state = ctx.data_unchecked::<AppState>();
        let request = ctx.data_unchecked::<RequestContext>();
        let command = request.command(Actor::Account(staff.account.0), command_id);
        let position = organizations::set_calendar_public(
            &state.store,
            staff.organization,
            public,
            Some(staff.account),
            &command,
        )
        .await
        .map_err(ApiError::from_command)?;
        let organization = super::activities::organization(state, staff.organization).await?;
        Ok(OrganizationPayload {
            position: LogPosition(position),
            organization: Organization::from(&organization),
        })
    }
}

/// The contacts as the API shows them.
pub fn view(help: &portal_domain::values::HelpContacts) -> HelpContactsView {
    HelpContactsView {
        display_name: help.display_name.clone(),
        phone: help.phone.clone(),
        hours: help.hours.clone(),
        email: help.email.as_ref().map(|e| e.as_str().to_owned()),
        web: help.web.clone(),
    }
}
