//! Read model `organizations`: one row per organization, found by code.

use chrono::{DateTime, Utc};
use deadpool_postgres::Pool;
use portal_commands::log::RecordedEvent;
use portal_domain::organization::{Organization, OrganizationEvent};
use portal_domain::Decider;
use uuid::Uuid;

use crate::{decode_if, params, writes::Writes, Projection, ProjectionError};

/// Its name, for read-your-writes waits.
pub const NAME: &str = "organizations";

/// The organizations projection.
pub struct Organizations;

impl Projection for Organizations {
    fn name(&self) -> &'static str {
        NAME
    }

    fn tables(&self) -> &'static [&'static str] {
        &["organizations", "organization_terms"]
    }

    fn apply(&self, writes: &mut Writes, events: &[RecordedEvent]) -> Result<(), ProjectionError> {
        for recorded in events {
            let Some(event) = decode_if::<OrganizationEvent>(recorded, Organization::CATEGORY)?
            else {
                continue;
            };
            match event {
                OrganizationEvent::OrganizationCreated(e) => {
                    writes.execute(
                        "INSERT INTO organizations (id, code, name, created_at) VALUES ($1, $2, $3, $4)",
                        params![
                            e.organization_id.0,
                            e.code.as_str().to_owned(),
                            e.name.as_str().to_owned(),
                            e.created_at,
                        ],
                    );
                }
                // Settings read from the organization's stream, never from a read model: the processor account's
                // secrets stay in the log, sealed.
                OrganizationEvent::SecurityPolicyChanged(_)
                | OrganizationEvent::PaymentProcessorSet(_) => {}
                OrganizationEvent::TimeZoneSet(e) => {
                    writes.execute(
                        "UPDATE organizations SET time_zone = $2 WHERE id = $1",
                        params![recorded.tenant, e.time_zone.name()],
                    );
                }
                OrganizationEvent::TermsPublished(e) => {
                    let version = i32::try_from(e.terms.version).unwrap_or(i32::MAX);
                    writes.execute(
                        "INSERT INTO organization_terms (organization_id, version, terms_of_use, privacy_practices,
                                                         published_at)
                         VALUES ($1, $2, $3, $4, $5)",
                        params![
                            recorded.tenant,
                            version,
                            e.terms.terms_of_use,
                            e.terms.privacy_practices,
                            e.at,
                        ],
                    );
                    writes.execute(
                        "UPDATE organizations SET terms_version = $2 WHERE id = $1",
                        params![recorded.tenant, version],
                    );
                }
                // Settings read from the organization's stream where they are used (always current).
                OrganizationEvent::PatientPolicyChanged(_)
                | OrganizationEvent::CarePolicyChanged(_)
                | OrganizationEvent::MailSenderSet(_)
                | OrganizationEvent::SmsAccountSet(_)
                | OrganizationEvent::TextingHoursSet(_)
                | OrganizationEvent::MessageTemplateSet(_)
                | OrganizationEvent::DevicePolicyChanged(_) => {}
                OrganizationEvent::TwoStepRequirementSet(e) => {
                    writes.execute(
                        "UPDATE organizations SET two_step_required = $2 WHERE id = $1",
                        params![recorded.tenant, e.required.as_str().to_owned()],
                    );
                }
                OrganizationEvent::CalendarVisibilitySet(e) => {
                    writes.execute(
                        "UPDATE organizations SET calendar_public = $2 WHERE id = $1",
                        params![recorded.tenant, e.public],
                    );
                }
                OrganizationEvent::HelpContactsSet(e) => {
                    let help = &e.help;
                    writes.execute(
                        "UPDATE organizations SET help_display_name = $2, help_phone = $3, help_hours = $4, \
                         help_email = $5, help_web = $6 WHERE id = $1",
                        params![
                            recorded.tenant,
                            help.display_name.clone(),
                            help.phone.clone(),
                            help.hours.clone(),
                            help.email.as_ref().map(|e| e.as_str().to_owned()),
                            help.web.clone()
                        ],
                    );
                }
                OrganizationEvent::SmsChannelConfigured(e) => {
                    writes.execute(
                        "UPDATE organizations SET sms_number = $2 WHERE id = $1",
                        params![recorded.tenant, e.channel.number.as_str().to_owned()],
                    );
                }
            }
        }
        Ok(())
    }
}

/// A row of `organizations`.
#[derive(Clone, Debug, PartialEq)]
pub struct OrganizationRow {
    /// Its id.
    pub id: Uuid,
    /// Its code.
    pub code: String,
    /// Its name.
    pub name: String,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// The zone its calendar is shown in.
    pub time_zone: String,
    /// The number learners text, if set up.
    pub sms_number: Option<String>,
    /// How people reach its help desk.
    pub help: HelpRow,
    /// Who must use two-step verification (`none`, `patients`, `staff`, `both`).
    pub two_step_required: String,
    /// Whether anyone may browse its calendar.
    pub calendar_public: bool,
}

/// An organization's help contacts as the read model holds them (each NULL when not given).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct HelpRow {
    /// The name of its help desk or portal.
    pub display_name: Option<String>,
    /// The number to call.
    pub phone: Option<String>,
    /// When someone answers.
    pub hours: Option<String>,
    /// The support e-mail address.
    pub email: Option<String>,
    /// Its web address.
    pub web: Option<String>,
}

/// The organization with this code.
pub async fn find_by_code(
    pool: &Pool,
    code: &str,
) -> Result<Option<OrganizationRow>, ProjectionError> {
    let client = pool.get().await?;
    let row = client
        .query_opt(
            "SELECT id, code, name, created_at, time_zone, sms_number, help_display_name, help_phone, help_hours, \
             help_email, help_web, two_step_required, calendar_public FROM organizations WHERE code = $1",
            &[&code],
        )
        .await?;
    Ok(row.map(|r| OrganizationRow {
        id: r.get(0),
        code: r.get(1),
        name: r.get(2),
        created_at: r.get(3),
        time_zone: r.get(4),
        sms_number: r.get(5),
        help: HelpRow {
            display_name: r.get(6),
            phone: r.get(7),
            hours: r.get(8),
            email: r.get(9),
            web: r.get(10),
        },
        two_step_required: r.get(11),
        calendar_public: r.get(12),
    }))
}
