//! Staff accounts created by an operator at the command line (`portal staff add`) or by the demo: registered and
//! activated at once, since the operator vouches for them.

use portal_commands::accounts::{self, NewAccount};
use portal_commands::handler::CommandContext;
use portal_commands::log::PgEventLog;
use portal_commands::organizations::OrganizationSummary;
use portal_commands::Store;
use portal_domain::account::Role;
use portal_domain::AccountId;

/// Registers an active staff (or auditor) account; fails when the address already has an account in the organization.
pub async fn add_active(
    store: &Store<PgEventLog>,
    organization: &OrganizationSummary,
    mut input: NewAccount,
) -> Result<AccountId, String> {
    if !matches!(input.role, Role::Staff | Role::Auditor | Role::Provider) {
        input.role = Role::Staff;
    }
    if accounts::find_by_email(store, organization, &input.email)
        .await
        .map_err(|e| e.to_string())?
        .is_some()
    {
        return Err(format!(
            "{} already has an account in {}",
            input.email,
            organization.code.as_str()
        ));
    }
    let ctx = CommandContext::system();
    let registered = accounts::register(store, organization, input, &ctx)
        .await
        .map_err(|e| e.to_string())?;
    let (Some(account), Some(token)) = (registered.account, registered.activation_token) else {
        return Err("the address was registered meanwhile".to_owned());
    };
    accounts::activate(store, &token, &CommandContext::system())
        .await
        .map_err(|e| e.to_string())?;
    Ok(account)
}
