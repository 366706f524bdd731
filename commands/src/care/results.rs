//! Test results: recording one (held back from the patient), and releasing it (by a provider, or by portal once the
//! organization's delay for the test has passed), which tells the patient a result is available.

use portal_domain::care::test_result::{
    NewResult, ReleasedBy, TestResult, TestResultCommand, TestResultError, TestResultState,
};
use portal_domain::catalogue::EntryKind;
use portal_domain::values::MessageKind;
use portal_domain::{AccountId, Decider};
use uuid::Uuid;

use super::{notice, patient, position, rejected, run, CareError, Result};
use crate::activities::derived_id;
use crate::handler::{CommandContext, Plan};
use crate::log::{EventLog, StreamId};
use crate::organizations::OrganizationSummary;
use crate::store::Store;

/// A result's stream.
pub fn stream(id: Uuid) -> StreamId {
    StreamId::new(TestResult::CATEGORY, id)
}

/// Records a result for a patient (its `id` is derived from the command id); returns the id and the position.
pub async fn record<L: EventLog>(
    store: &Store<L>,
    organization: &OrganizationSummary,
    mut result: NewResult,
    by: AccountId,
    ctx: &CommandContext,
) -> Result<(Uuid, i64)> {
    patient(store, organization, result.patient).await?;
    let catalogue = crate::scheduling::catalogue(store, organization.id)
        .await
        .map_err(|e| e.map_rejected(|_| CareError::TeamNotFound("orderingProviderId")))?;
    if !catalogue.is(result.ordering_provider, EntryKind::Provider) {
        return Err(rejected(CareError::TeamNotFound("orderingProviderId")));
    }
    result.id = derived_id("test-result", ctx.command_id);
    result.organization = organization.id;
    let release_after = organization.care_policy.release_delay(&result.test_code);
    let input = format!("{result:?}");
    let executed = run::<L, TestResult>(
        store,
        &stream(result.id),
        Some(result.patient),
        ctx,
        "RecordTestResult",
        &[input.as_bytes()],
        |_| {
            Ok(Plan::command(
                organization.id.0,
                TestResultCommand::Record {
                    result: Box::new(result.clone()),
                    by,
                    release_after,
                },
            ))
        },
    )
    .await?;
    Ok((result.id, position(&executed)))
}

/// Releases a result to its patient and tells them one is available (a second release changes nothing).
pub async fn release<L: EventLog>(
    store: &Store<L>,
    organization: &OrganizationSummary,
    id: Uuid,
    by: ReleasedBy,
    ctx: &CommandContext,
) -> Result<i64> {
    let (state, _) = store.load::<TestResult>(&stream(id)).await?;
    let info = match state {
        TestResultState::Recorded(info) if info.organization == organization.id => info,
        _ => return Err(rejected(TestResultError::NotFound)),
    };
    let profile = patient(store, organization, info.patient).await?;
    let notices = notice(
        &profile,
        MessageKind::ResultAvailable,
        Some(MessageKind::ResultAvailableText),
        serde_json::json!({}),
        ctx.now,
    );
    let executed = run::<L, TestResult>(
        store,
        &stream(id),
        Some(info.patient),
        ctx,
        "ReleaseTestResult",
        &[id.as_bytes(), format!("{by:?}").as_bytes()],
        |_| {
            Ok(Plan::with_outbox(
                organization.id.0,
                TestResultCommand::Release { by },
                notices.clone(),
            ))
        },
    )
    .await?;
    Ok(position(&executed))
}
