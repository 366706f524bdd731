//! The care features' timers: conversations quiet for the organization's idle period are closed, and results whose
//! release delay has passed are released to their patients (who are told). Both run every 30 seconds with the
//! wait-list sweep; the commands themselves check the time, so a sweep that runs twice changes nothing.

use chrono::Duration;
use portal_commands::care::{conversations, results};
use portal_commands::handler::CommandContext;
use portal_commands::organizations;
use portal_domain::care::test_result::ReleasedBy;
use portal_domain::OrganizationId;
use portal_projections::care::{conversations as quiet, results as due};

use crate::app::AppState;

/// Items handled per sweep; the next sweep takes the rest.
const BATCH: i64 = 500;

/// What one sweep did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Swept {
    /// Conversations closed for inactivity.
    pub closed: usize,
    /// Results released by themselves.
    pub released: usize,
}

/// Closes quiet conversations and releases due results, as of the server's clock.
pub async fn sweep(state: &AppState) -> Swept {
    let now = state.now();
    let ctx = || CommandContext {
        now,
        ..CommandContext::system()
    };
    let mut swept = Swept::default();
    // No organization's idle period is shorter than a day: older conversations are the only candidates.
    match quiet::organizations_with_quiet(&state.pool, now - Duration::days(1)).await {
        Ok(organizations) => {
            for organization in organizations {
                let Ok(Some(org)) =
                    organizations::find_by_id(&state.store, OrganizationId(organization)).await
                else {
                    continue;
                };
                let idle = Duration::days(i64::from(org.care_policy.conversation_idle_days));
                let ids = match quiet::quiet(&state.pool, organization, now - idle, BATCH).await {
                    Ok(ids) => ids,
                    Err(error) => {
                        tracing::warn!(%error, "could not look for quiet conversations");
                        continue;
                    }
                };
                for id in ids {
                    match conversations::close(&state.store, &org, id, None, &ctx()).await {
                        Ok(_) => swept.closed += 1,
                        Err(error) => {
                            tracing::warn!(%error, %id, "could not close a quiet conversation")
                        }
                    }
                }
            }
        }
        Err(error) => tracing::warn!(%error, "could not look for quiet conversations"),
    }
    match due::due(&state.pool, now, BATCH).await {
        Ok(results) => {
            for (organization, id) in results {
                let Ok(Some(org)) =
                    organizations::find_by_id(&state.store, OrganizationId(organization)).await
                else {
                    continue;
                };
                match results::release(&state.store, &org, id, ReleasedBy::Automatic, &ctx()).await
                {
                    Ok(_) => swept.released += 1,
                    Err(error) => tracing::warn!(%error, %id, "could not release a result"),
                }
            }
        }
        Err(error) => tracing::warn!(%error, "could not look for results due for release"),
    }
    if swept != Swept::default() {
        tracing::info!(
            closed = swept.closed,
            released = swept.released,
            "care timers"
        );
    }
    swept
}
