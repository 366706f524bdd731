//! Subscriptions: live updates over a WebSocket (`/graphql/ws`, graphql-transport-ws or graphql-ws protocol).

use std::time::Duration;

use async_graphql::{Context, Result, Subscription as SubscriptionMacro};
use chrono::{DateTime, Utc};
use futures_util::Stream;
use portal_domain::account::Role;
use uuid::Uuid;

use super::attendance::{read_transcript, Transcript};
use super::errors::ApiError;
use super::query::principal;
use super::scheduling::AppointmentView;
use crate::app::AppState;

/// How often a subscription looks for changes in the read models.
const POLL: Duration = Duration::from_millis(500);

/// The root of subscriptions.
#[derive(Default)]
pub struct Subscription;

/// Live updates over a WebSocket (`/graphql/ws`).
#[SubscriptionMacro]
impl Subscription {
    /// How many messages from your care team you have not read (patients): sent at once, then each time it changes
    /// (a reply arrives, you read one); checked twice a second.
    async fn unread_messages(&self, ctx: &Context<'_>) -> Result<impl Stream<Item = i32>> {
        let principal = principal(ctx).await?;
        if principal.role != Role::Patient {
            return Err(ApiError::forbidden().into());
        }
        let state = ctx.data_unchecked::<AppState>().clone();
        let (organization, patient) = (principal.organization.0, principal.account.0);
        Ok(futures_util::stream::unfold(
            (state, None::<i64>),
            move |(state, last)| async move {
                loop {
                    match portal_projections::care::conversations::unread_by_patient(
                        &state.pool,
                        organization,
                        patient,
                    )
                    .await
                    {
                        Ok(count) if Some(count) != last => {
                            let shown = i32::try_from(count).unwrap_or(i32::MAX);
                            return Some((shown, (state, Some(count))));
                        }
                        Ok(_) => {}
                        Err(error) => {
                            tracing::warn!(%error, "a subscription could not read the conversations")
                        }
                    }
                    tokio::time::sleep(POLL).await;
                }
            },
        ))
    }

    /// Your appointments as they change (patients): each booking, move or cancellation from now on (and of the last
    /// five seconds), once the schedule read model has applied it; checked twice a second.
    async fn appointment_changes(
        &self,
        ctx: &Context<'_>,
    ) -> Result<impl Stream<Item = AppointmentView>> {
        let principal = principal(ctx).await?;
        if principal.role != Role::Patient {
            return Err(ApiError::forbidden().into());
        }
        let state = ctx.data_unchecked::<AppState>().clone();
        // Changes decided a moment before the subscription started may commit after it: a few seconds of recent
        // history are sent too, so that none falls between a client's last read and its subscription.
        let start: (DateTime<Utc>, Uuid) =
            (state.now() - chrono::Duration::seconds(5), Uuid::nil());
        let organization = principal.organization.0;
        let patient = principal.account.0;
        Ok(futures_util::stream::unfold(
            (state, start, Vec::<AppointmentView>::new()),
            move |(state, mut cursor, mut pending)| async move {
                loop {
                    if let Some(next) = pending.pop() {
                        return Some((next, (state, cursor, pending)));
                    }
                    tokio::time::sleep(POLL).await;
                    match portal_projections::schedule::patient_changes(
                        &state.pool,
                        organization,
                        patient,
                        cursor,
                    )
                    .await
                    {
                        Ok(rows) => {
                            if let Some(last) = rows.last() {
                                cursor = (last.0, last.1.id);
                            }
                            // Kept in reverse so that `pop` hands them out in order.
                            pending = rows
                                .into_iter()
                                .rev()
                                .map(|(_, row)| super::scheduling::appointment(row))
                                .collect();
                        }
                        Err(error) => {
                            tracing::warn!(%error, "a subscription could not read the schedule")
                        }
                    }
                }
            },
        ))
    }

    /// Your transcript as it changes (learners): sent at once, then each time an entry is added or changes
    /// (attendance recorded by text, on the web or by staff; an evaluation; credit awarded); checked twice a second.
    async fn transcript_updates(
        &self,
        ctx: &Context<'_>,
    ) -> Result<impl Stream<Item = Transcript>> {
        let principal = principal(ctx).await?;
        if principal.role != Role::Learner {
            return Err(ApiError::forbidden().into());
        }
        let state = ctx.data_unchecked::<AppState>().clone();
        let (organization, learner) = (principal.organization.0, principal.account.0);
        Ok(futures_util::stream::unfold(
            (state, None::<String>),
            move |(state, last)| async move {
                loop {
                    let pool = &state.pool;
                    match portal_projections::transcript::fingerprint(pool, organization, learner)
                        .await
                    {
                        Ok(print) if Some(&print) != last.as_ref() => {
                            match read_transcript(&state, organization, learner, None, None).await {
                                Ok(transcript) => return Some((transcript, (state, Some(print)))),
                                Err(error) => {
                                    tracing::warn!(%error, "a subscription could not read the transcript")
                                }
                            }
                        }
                        Ok(_) => {}
                        Err(error) => {
                            tracing::warn!(%error, "a subscription could not read the transcript")
                        }
                    }
                    tokio::time::sleep(POLL).await;
                }
            },
        ))
    }
}
