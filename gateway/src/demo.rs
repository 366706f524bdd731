//! `portal serve --demo`: a demo organization with an activated staff account, so a newcomer can try everything.

use portal_commands::accounts::{self, NewAccount};
use portal_commands::credentials::BreachedPasswords;
use portal_commands::handler::CommandContext;
use portal_commands::log::PgEventLog;
use portal_commands::organizations;
use portal_commands::Store;
use portal_domain::account::Role;
use portal_domain::values::{
    EmailAddress, NamePart, OrganizationCode, OrganizationName, Password, PersonName, Title,
};

/// The demo organization's code.
pub const DEMO_CODE: &str = "demo";
/// The demo staff account's address.
pub const DEMO_STAFF_EMAIL: &str = "staff@demo.example";
/// The demo staff account's password (a demo, not a secret).
pub const DEMO_STAFF_PASSWORD: &str = "portal demo staff password";

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
    Ok(vec![
        format!("Demo organization: code \"{DEMO_CODE}\" (Demo CE Portal)"),
        format!("Demo staff account: {DEMO_STAFF_EMAIL} / {DEMO_STAFF_PASSWORD}"),
        "Sign in with: mutation { signIn(input: { organizationCode: \"demo\", email: \"staff@demo.example\", \
         password: \"portal demo staff password\" }) { token expiresAt position } }"
            .to_owned(),
    ])
}
