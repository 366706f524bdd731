//! Retention rules: personal data the organization no longer needs is erased on a schedule, by the same erasure
//! as staff use (`erasePersonalData`), recorded as `PersonalDataErased` with the rule's name.

use portal_commands::erasure;
use portal_commands::handler::CommandContext;
use portal_commands::organizations;
use portal_domain::account::ErasedBy;
use portal_domain::{AccountId, OrganizationId};
use uuid::Uuid;

use crate::app::AppState;

/// The rule that erases registrations nobody activated.
pub const UNACTIVATED_REGISTRATION: &str = "unactivated_registration";

/// Accounts handled per sweep; the next sweep takes the rest.
const BATCH: i64 = 500;

/// Erases the accounts registered more than `days` days ago and never activated; returns how many were erased.
pub async fn erase_unactivated(state: &AppState, days: u32) -> usize {
    let now = state.now();
    let cutoff = now - chrono::Duration::days(i64::from(days));
    let due: Vec<(Uuid, Uuid)> = match state.pool.get().await {
        Ok(client) => match client
            .query(
                "SELECT id, organization_id FROM accounts
                 WHERE status = 'pending' AND erased_at IS NULL AND registered_at < $1
                 ORDER BY registered_at LIMIT $2",
                &[&cutoff, &BATCH],
            )
            .await
        {
            Ok(rows) => rows.iter().map(|r| (r.get(0), r.get(1))).collect(),
            Err(error) => {
                tracing::warn!(%error, "could not look for unactivated registrations");
                return 0;
            }
        },
        Err(error) => {
            tracing::warn!(%error, "could not look for unactivated registrations");
            return 0;
        }
    };
    let mut erased = 0;
    for (account, organization) in due {
        let Ok(Some(summary)) =
            organizations::find_by_id(&state.store, OrganizationId(organization)).await
        else {
            continue;
        };
        let ctx = CommandContext {
            now,
            ..CommandContext::system()
        };
        let by = ErasedBy::Retention {
            rule: UNACTIVATED_REGISTRATION.to_owned(),
        };
        match erasure::erase_person(&state.store, &summary, AccountId(account), by, &ctx).await {
            Ok(Some(_)) => erased += 1,
            Ok(None) => {}
            Err(error) => tracing::warn!(%error, %account, "retention erasure failed"),
        }
    }
    if erased > 0 {
        tracing::info!(
            erased,
            rule = UNACTIVATED_REGISTRATION,
            "erased by retention rule"
        );
    }
    erased
}
