//! `portal serve --demo`: a demo organization with an activated staff account, so a newcomer can try everything.

use portal_commands::accounts::{self, NewAccount};
use portal_commands::credentials::BreachedPasswords;
use portal_commands::handler::CommandContext;
use portal_commands::log::PgEventLog;
use portal_commands::Store;
use portal_commands::{activities, organizations};
use portal_domain::account::Role;
use portal_domain::activity::{ActivityDetails, ActivityKind};
use portal_domain::values::{
    ActivityCode, ActivitySchedule, ActivityTitle, AttendanceWindow, Audience, CreditAmount,
    CreditOffer, CreditType, Credits, EmailAddress, HelpContacts, HelpContactsInput, NamePart,
    OrganizationCode, OrganizationName, Password, PersonName, PhoneNumber, Specialty, TimeZone,
    Title,
};

/// The demo organization's code.
pub const DEMO_CODE: &str = "demo";
/// The demo staff account's address.
pub const DEMO_STAFF_EMAIL: &str = "staff@demo.example";
/// The demo staff account's password (a demo, not a secret).
pub const DEMO_STAFF_PASSWORD: &str = "portal demo staff password";
/// The number the demo organization receives texts at (Twilio's test number).
pub const DEMO_SMS_NUMBER: &str = "+15005550006";
/// The auth token that signs the demo's texts (a demo, not a secret).
pub const DEMO_SMS_TOKEN: &str = "portal-demo-sms-auth-token";
/// The code of the demo's activity.
pub const DEMO_ACTIVITY_CODE: &str = "DEMO1";

/// Creates the demo data unless it exists; returns the lines to print.
pub async fn ensure(store: &Store<PgEventLog>) -> Result<Vec<String>, String> {
    let fail = |e: &dyn std::fmt::Display| e.to_string();
    let code = OrganizationCode::parse(DEMO_CODE).map_err(|e| fail(&e))?;
    let organization = match organizations::find_by_code(store, &code)
        .await
        .map_err(|e| fail(&e))?
    {
        Some(organization) => organization,
        None => {
            let name = OrganizationName::parse("Demo CE Portal").map_err(|e| fail(&e))?;
            organizations::create(store, code.clone(), name, &CommandContext::system())
                .await
                .map_err(|e| fail(&e))?;
            organizations::find_by_code(store, &code)
                .await
                .map_err(|e| fail(&e))?
                .ok_or("demo organization missing")?
        }
    };
    let email = EmailAddress::parse(DEMO_STAFF_EMAIL).map_err(|e| fail(&e))?;
    if accounts::find_by_email(store, &organization, &email)
        .await
        .map_err(|e| fail(&e))?
        .is_none()
    {
        let input = NewAccount {
            name: PersonName {
                title: Some(Title::parse("Ms.").map_err(|e| fail(&e))?),
                first: NamePart::parse("Dana").map_err(|e| fail(&e))?,
                middle: None,
                last: NamePart::parse("Coordinator").map_err(|e| fail(&e))?,
            },
            email: email.clone(),
            password: Password::parse(DEMO_STAFF_PASSWORD, &BreachedPasswords)
                .map_err(|e| fail(&e))?,
            role: Role::Staff,
        };
        crate::staff::add_active(store, &organization, input).await?;
    }
    if organization.sms.is_none() {
        let number = PhoneNumber::parse(DEMO_SMS_NUMBER).map_err(|e| fail(&e))?;
        organizations::configure_sms(
            store,
            organization.id,
            number,
            DEMO_SMS_TOKEN,
            None,
            None,
            &CommandContext::system(),
        )
        .await
        .map_err(|e| fail(&e))?;
    }
    if organization.help.is_empty() {
        // Every seed ends with a number to call and its hours: the demo's show at the foot of its messages.
        let help = HelpContacts::parse(HelpContactsInput {
            display_name: Some("Demo Portal Help Desk"),
            phone: Some("612-555-0100"),
            hours: Some("Monday to Friday, 8:00am to 4:30pm"),
            email: Some("help@demo.example"),
            web: None,
        })
        .map_err(|e| e.rule.to_owned())?;
        organizations::set_help_contacts(
            store,
            organization.id,
            help,
            None,
            &CommandContext::system(),
        )
        .await
        .map_err(|e| fail(&e))?;
    }
    let code = ActivityCode::parse(DEMO_ACTIVITY_CODE).map_err(|e| fail(&e))?;
    if activities::find_by_code(store, organization.id, &code)
        .await
        .map_err(|e| fail(&e))?
        .is_none()
    {
        // Open for attendance from a day before to a day after, so the demo can be texted whenever it is tried.
        let now = chrono::Utc::now().naive_utc();
        let details = ActivityDetails {
            title: ActivityTitle::parse("Demo Grand Rounds").map_err(|e| fail(&e))?,
            kind: ActivityKind::Course,
            schedule: ActivitySchedule::local(now, now + chrono::Duration::hours(1), TimeZone::UTC)
                .map_err(|e| fail(&e))?,
            location: None,
            specialty: Some(Specialty::parse("Internal Medicine").map_err(|e| fail(&e))?),
            audience: Audience::Open,
            code,
            window: AttendanceWindow::new(1440, 1440).map_err(|e| fail(&e))?,
            credits: Credits::new(vec![CreditOffer {
                credit_type: CreditType::AmaPraCategory1,
                amount: CreditAmount::from_hundredths(100).ok_or("demo credit")?,
            }])
            .map_err(|e| fail(&e))?,
            evaluation_required: false,
        };
        activities::schedule(
            store,
            organization.id,
            details,
            None,
            &CommandContext::system(),
        )
        .await
        .map_err(|e| fail(&e))?;
    }
    Ok(vec![
        format!("Demo organization: code \"{DEMO_CODE}\" (Demo CE Portal)"),
        format!(
            "Demo texts: POST /sms/inbound with To={DEMO_SMS_NUMBER}, signed with auth token {DEMO_SMS_TOKEN}; \
             activity code {DEMO_ACTIVITY_CODE}"
        ),
        format!("Demo staff account: {DEMO_STAFF_EMAIL} / {DEMO_STAFF_PASSWORD}"),
        "Sign in with: mutation { signIn(input: { organizationCode: \"demo\", email: \"staff@demo.example\", \
         password: \"portal demo staff password\" }) { token expiresAt position } }"
            .to_owned(),
    ])
}
