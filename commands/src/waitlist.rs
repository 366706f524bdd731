//! The wait list: joining and leaving it, offering freed slots in turn, lapsing offers, and accepting one, which
//! books (or moves the patient's appointment to) the slot in the same commit.

use chrono::Duration;
use portal_domain::account::{Account, Role};
use portal_domain::appointment::{BookedBy, Contact};
use portal_domain::catalogue::Entry;
use portal_domain::slot::{Slot, SlotState};
use portal_domain::waitlist::{
    EntryStatus, FreedSlot, WaitList, WaitListCommand, WaitListError, WaitListEvent, WaitTarget,
};
use portal_domain::{AccountId, Decider, Personal};
use uuid::Uuid;

use crate::activities::derived_id;
use crate::handler::{append_error, back_off, CommandContext, CommandError, MAX_ATTEMPTS};
use crate::log::{
    AppendError, Commit, EventLog, ExpectedVersion, OutboxMessage, StreamId, StreamWrite,
};
use crate::organizations::OrganizationSummary;
use crate::scheduling::{
    appointment_stream, catalogue, commit_planned, plan_booking, plan_reschedule, slot_stream,
    Booking, SchedulingError,
};
use crate::store::Store;

/// The wait list's stream: one per organization.
pub fn stream(organization: portal_domain::OrganizationId) -> StreamId {
    StreamId::new(WaitList::CATEGORY, organization.0)
}

type Result<T> = std::result::Result<T, CommandError<SchedulingError>>;

fn refused(error: WaitListError) -> CommandError<SchedulingError> {
    CommandError::Rejected(SchedulingError::WaitList(error))
}

/// Decides a wait-list command and appends it, with the messages `outbox` builds from the events.
async fn run<L: EventLog>(
    store: &Store<L>,
    organization: &OrganizationSummary,
    name: &str,
    ctx: &CommandContext,
    command: impl Fn() -> WaitListCommand,
    outbox: impl Fn(&[WaitListEvent]) -> Vec<OutboxMessage>,
) -> Result<(Vec<WaitListEvent>, Option<i64>)> {
    let list = stream(organization.id);
    for attempt in 0..MAX_ATTEMPTS {
        if attempt > 0 {
            back_off(attempt).await;
        }
        let (state, version) = store.load::<WaitList>(&list).await?;
        let events =
            WaitList::decide(&state, (organization.id, command()), ctx.now).map_err(refused)?;
        if events.is_empty() {
            return Ok((events, None));
        }
        let commit = Commit {
            tenant: organization.id.0,
            writes: vec![StreamWrite {
                stream: list.clone(),
                expected: if version == 0 {
                    ExpectedVersion::NoStream
                } else {
                    ExpectedVersion::Exact(version)
                },
                events: store.encode(None, &events).await?,
            }],
            metadata: ctx.metadata(name),
            command: None,
            claims: vec![],
            releases: vec![],
            outbox: outbox(&events),
            ..Default::default()
        };
        match store.append(commit).await {
            Ok(committed) => return Ok((events, Some(committed.last_position))),
            Err(AppendError::WrongExpectedVersion { .. }) => continue,
            Err(error) => return Err(append_error(error)),
        }
    }
    Err(CommandError::Conflict(MAX_ATTEMPTS, list))
}

/// A patient joins the wait list for a provider or department, with the visit reason to book; with their current
/// appointment, only earlier slots are offered and accepting one moves it.
pub async fn join<L: EventLog>(
    store: &Store<L>,
    organization: &OrganizationSummary,
    patient: AccountId,
    target: WaitTarget,
    reason: Uuid,
    appointment: Option<Uuid>,
    ctx: &CommandContext,
) -> Result<(Uuid, Option<i64>)> {
    let cat = catalogue(store, organization.id).await?;
    let target_ok = match target {
        WaitTarget::Provider { id } => matches!(cat.get(id), Some(Entry::Provider { .. })),
        WaitTarget::Department { id } => matches!(cat.get(id), Some(Entry::Department { .. })),
    };
    if !target_ok {
        return Err(CommandError::Rejected(SchedulingError::Catalogue(
            portal_domain::catalogue::CatalogueError::UnknownReference("providerId"),
        )));
    }
    if !matches!(cat.get(reason), Some(Entry::VisitReason { .. })) {
        return Err(CommandError::Rejected(SchedulingError::Catalogue(
            portal_domain::catalogue::CatalogueError::UnknownReference("reasonId"),
        )));
    }
    let current = match appointment {
        Some(id) => {
            let (state, _) = store
                .load::<portal_domain::appointment::Appointment>(&appointment_stream(id))
                .await?;
            match state {
                portal_domain::appointment::AppointmentState::Booked(info)
                    if info.patient == patient && info.organization == organization.id =>
                {
                    Some((id, info.placement.starts_at))
                }
                _ => {
                    return Err(CommandError::Rejected(SchedulingError::Appointment(
                        portal_domain::appointment::AppointmentError::NotFound,
                    )))
                }
            }
        }
        None => None,
    };
    let entry = derived_id("waitlist", ctx.command_id);
    let (_, position) = run(
        store,
        organization,
        "JoinWaitList",
        ctx,
        || WaitListCommand::Join {
            entry,
            patient,
            target,
            reason,
            appointment: current,
        },
        |_| vec![],
    )
    .await?;
    Ok((entry, position))
}

/// A patient leaves the wait list.
pub async fn leave<L: EventLog>(
    store: &Store<L>,
    organization: &OrganizationSummary,
    patient: AccountId,
    entry: Uuid,
    ctx: &CommandContext,
) -> Result<Option<i64>> {
    let (_, position) = run(
        store,
        organization,
        "LeaveWaitList",
        ctx,
        || WaitListCommand::Leave { entry, patient },
        |_| vec![],
    )
    .await?;
    Ok(position)
}

fn ttl(organization: &OrganizationSummary) -> Duration {
    Duration::minutes(i64::from(organization.patient_policy.offer_minutes))
}

/// The e-mails that tell patients of the offers among `events`.
async fn offer_messages<L: EventLog>(
    store: &Store<L>,
    organization: &OrganizationSummary,
    state: &portal_domain::waitlist::WaitListState,
    events: &[WaitListEvent],
    now: chrono::DateTime<chrono::Utc>,
) -> Vec<OutboxMessage> {
    let mut messages = Vec::new();
    let zone = organization.time_zone;
    for event in events {
        let WaitListEvent::SlotOffered(offer) = event else {
            continue;
        };
        let Some(entry) = state.entries.iter().find(|e| e.id == offer.entry_id) else {
            continue;
        };
        let Ok((account, _)) = store
            .load::<Account>(&crate::accounts::stream(entry.patient))
            .await
        else {
            continue;
        };
        if let Some(profile) = account.profile() {
            if let (Personal::Known(to), Personal::Known(name)) = (&profile.email, &profile.name) {
                let when = crate::messages::local_time(&zone, offer.starts_at);
                let until = crate::messages::local_time(&zone, offer.expires_at);
                let link = crate::links::portal_link(
                    &store.public_url,
                    &organization.code,
                    crate::links::PortalPage::WaitList,
                    None,
                );
                messages.push(crate::messages::slot_offered(
                    to,
                    name.salutation(),
                    &when,
                    &until,
                    &link,
                    now,
                ));
            }
        }
    }
    messages
}

async fn freed_slot<L: EventLog>(
    store: &Store<L>,
    organization: &OrganizationSummary,
    cat: &portal_domain::catalogue::CatalogueState,
    slot: Uuid,
) -> Option<FreedSlot> {
    let (state, _) = store.load::<Slot>(&slot_stream(slot)).await.ok()?;
    let SlotState::Open(info) = state else {
        return None;
    };
    if info.organization_id != organization.id {
        return None;
    }
    let departments = match cat.get(info.provider_id) {
        Some(Entry::Provider { departments, .. }) => departments.clone(),
        _ => vec![],
    };
    Some(FreedSlot {
        slot_id: info.slot_id,
        provider_id: info.provider_id,
        departments,
        starts_at: info.starts_at,
    })
}

/// Offers a slot that just freed up to the first in line who wants it. Best effort: the cancellation or move that
/// freed it is already durable, so a failure here is logged, and the sweep of lapsed offers does not depend on it.
pub async fn offer_freed<L: EventLog>(
    store: &Store<L>,
    organization: &OrganizationSummary,
    slot: Uuid,
    ctx: &CommandContext,
) {
    let Ok(cat) = catalogue(store, organization.id).await else {
        return;
    };
    let Some(freed) = freed_slot(store, organization, &cat, slot).await else {
        return;
    };
    let Ok((state, _)) = store.load::<WaitList>(&stream(organization.id)).await else {
        return;
    };
    let offered = WaitList::decide(
        &state,
        (
            organization.id,
            WaitListCommand::Offer {
                slot: freed.clone(),
                ttl: ttl(organization),
            },
        ),
        ctx.now,
    )
    .unwrap_or_default();
    let messages = offer_messages(store, organization, &state, &offered, ctx.now).await;
    let offer_ctx = CommandContext {
        command_id: Uuid::new_v4(),
        ..ctx.clone()
    };
    let result = run(
        store,
        organization,
        "OfferSlot",
        &offer_ctx,
        || WaitListCommand::Offer {
            slot: freed.clone(),
            ttl: ttl(organization),
        },
        |_| messages.clone(),
    )
    .await;
    if let Err(error) = result {
        tracing::warn!(%error, "a freed slot could not be offered to the wait list");
    }
}

/// Lapses the offers whose time is up and offers each slot, if still open, to the next in line. Returns how many
/// offers lapsed.
pub async fn sweep<L: EventLog>(
    store: &Store<L>,
    organization: &OrganizationSummary,
    ctx: &CommandContext,
) -> Result<usize> {
    let (state, _) = store.load::<WaitList>(&stream(organization.id)).await?;
    let lapsed: Vec<Uuid> = state
        .entries
        .iter()
        .filter_map(|e| match e.status {
            EntryStatus::Offered { slot, expires_at } if expires_at <= ctx.now => Some(slot),
            _ => None,
        })
        .collect();
    if lapsed.is_empty() {
        return Ok(0);
    }
    let cat = catalogue(store, organization.id).await?;
    let mut open = Vec::new();
    for slot in &lapsed {
        if let Some(freed) = freed_slot(store, organization, &cat, *slot).await {
            open.push(freed);
        }
    }
    let planned = WaitList::decide(
        &state,
        (
            organization.id,
            WaitListCommand::Expire {
                open_slots: open.clone(),
                ttl: ttl(organization),
            },
        ),
        ctx.now,
    )
    .map_err(refused)?;
    let messages = offer_messages(store, organization, &state, &planned, ctx.now).await;
    run(
        store,
        organization,
        "LapseOffers",
        ctx,
        || WaitListCommand::Expire {
            open_slots: open.clone(),
            ttl: ttl(organization),
        },
        |_| messages.clone(),
    )
    .await?;
    Ok(lapsed.len())
}

/// Accepts the offer of an entry: in one commit the offer is marked accepted and the slot booked, or the patient's
/// appointment moved to it. Returns the appointment and the position.
pub async fn accept<L: EventLog>(
    store: &Store<L>,
    organization: &OrganizationSummary,
    patient: AccountId,
    entry: Uuid,
    ctx: &CommandContext,
) -> Result<(Uuid, i64)> {
    let (account, _) = store
        .load::<Account>(&crate::accounts::stream(patient))
        .await?;
    if !account
        .profile()
        .is_some_and(|p| p.role == Role::Patient && p.organization == organization.id)
    {
        return Err(CommandError::Rejected(SchedulingError::PatientNotFound));
    }
    let cat = catalogue(store, organization.id).await?;
    let list = stream(organization.id);
    for attempt in 0..MAX_ATTEMPTS {
        if attempt > 0 {
            back_off(attempt).await;
        }
        let (state, version) = store.load::<WaitList>(&list).await?;
        let events = WaitList::decide(
            &state,
            (organization.id, WaitListCommand::Accept { entry, patient }),
            ctx.now,
        )
        .map_err(refused)?;
        let Some(WaitListEvent::SlotOfferAccepted(accepted)) = events.first() else {
            return Err(refused(WaitListError::NoOffer));
        };
        let Some(waiting) = state.entries.iter().find(|e| e.id == entry) else {
            return Err(refused(WaitListError::NotFound));
        };
        let (mut planned, appointment) = match waiting.appointment {
            Some(appointment) => {
                let (planned, _) = plan_reschedule(
                    store,
                    organization,
                    &cat,
                    appointment,
                    accepted.slot_id,
                    patient,
                    BookedBy::Patient,
                    ctx,
                )
                .await?;
                (planned, appointment)
            }
            None => {
                let appointment = derived_id("appointment", ctx.command_id);
                let booking = Booking {
                    patient,
                    slot: accepted.slot_id,
                    reason: waiting.reason,
                    contact: Contact {
                        email: None,
                        phone: None,
                    },
                    insurance: None,
                    by: BookedBy::Patient,
                };
                (
                    plan_booking(store, organization, &cat, &booking, appointment, ctx).await?,
                    appointment,
                )
            }
        };
        planned.writes.push(StreamWrite {
            stream: list.clone(),
            expected: ExpectedVersion::Exact(version),
            events: store.encode(None, &events).await?,
        });
        match commit_planned(store, organization, planned, "AcceptSlotOffer", None, ctx).await {
            Ok(position) => return Ok((appointment, position)),
            Err(AppendError::WrongExpectedVersion { .. }) => continue,
            Err(error) => return Err(append_error(error)),
        }
    }
    Err(CommandError::Conflict(MAX_ATTEMPTS, list))
}
