//! Scheduling: the catalogue, publishing providers' slots from weekly templates, and booking, moving and cancelling
//! appointments. Booking takes the slot and records the appointment in one commit, checked against the slot's
//! version, so that of many patients who pick one slot at once exactly one gets it.

use chrono::{Datelike, Duration, NaiveDate, NaiveTime, Weekday};
use portal_domain::account::{Account, Role};
use portal_domain::appointment::{
    Appointment, AppointmentCommand, AppointmentError, AppointmentState, BookedBy, Contact,
    Insurance, Placement,
};
use portal_domain::catalogue::{
    Catalogue, CatalogueCommand, CatalogueError, CatalogueState, Entry,
};
use portal_domain::slot::{Slot, SlotCommand, SlotError, SlotInfo, SlotState};
use portal_domain::{AccountId, Decider, ErrorCode, OrganizationId, Personal};
use uuid::Uuid;

use crate::activities::derived_id;
use crate::handler::{
    append_error, back_off, execute, CommandContext, CommandError, Plan, MAX_ATTEMPTS,
};
use crate::log::{
    AppendError, CommandRecord, Commit, EventLog, ExpectedVersion, OutboxMessage, StreamId,
    StreamWrite,
};
use crate::messages::{self, AppointmentNotice, Visit};
use crate::organizations::OrganizationSummary;
use crate::store::Store;

/// Why a scheduling command is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SchedulingError {
    /// The catalogue refused.
    #[error(transparent)]
    Catalogue(#[from] CatalogueError),
    /// The slot refused.
    #[error(transparent)]
    Slot(#[from] SlotError),
    /// The appointment refused.
    #[error(transparent)]
    Appointment(#[from] AppointmentError),
    /// A template or range breaks a rule.
    #[error("{1}")]
    Template(&'static str, &'static str),
    /// The visit reason is not offered by the slot's provider.
    #[error("the provider does not offer this visit reason")]
    ReasonNotOffered,
    /// The account is not a patient of the organization.
    #[error("no such patient")]
    PatientNotFound,
    /// The wait list refused.
    #[error(transparent)]
    WaitList(#[from] portal_domain::waitlist::WaitListError),
}

impl ErrorCode for SchedulingError {
    fn code(&self) -> &'static str {
        match self {
            SchedulingError::Catalogue(e) => e.code(),
            SchedulingError::Slot(e) => e.code(),
            SchedulingError::Appointment(e) => e.code(),
            SchedulingError::Template(..) => "TEMPLATE_INVALID",
            SchedulingError::ReasonNotOffered => "REASON_NOT_OFFERED",
            SchedulingError::PatientNotFound => "PATIENT_NOT_FOUND",
            SchedulingError::WaitList(e) => e.code(),
        }
    }

    fn field(&self) -> Option<&'static str> {
        match self {
            SchedulingError::Catalogue(e) => e.field(),
            SchedulingError::Slot(e) => e.field(),
            SchedulingError::Appointment(e) => e.field(),
            SchedulingError::Template(field, _) => Some(field),
            SchedulingError::ReasonNotOffered => Some("reasonId"),
            SchedulingError::PatientNotFound => Some("patientId"),
            SchedulingError::WaitList(e) => e.field(),
        }
    }
}

type Result<T> = std::result::Result<T, CommandError<SchedulingError>>;

fn rejected(error: impl Into<SchedulingError>) -> CommandError<SchedulingError> {
    CommandError::Rejected(error.into())
}

/// The catalogue's stream: one per organization.
pub fn catalogue_stream(organization: OrganizationId) -> StreamId {
    StreamId::new(Catalogue::CATEGORY, organization.0)
}

/// A slot's stream.
pub fn slot_stream(id: Uuid) -> StreamId {
    StreamId::new(Slot::CATEGORY, id)
}

/// An appointment's stream.
pub fn appointment_stream(id: Uuid) -> StreamId {
    StreamId::new(Appointment::CATEGORY, id)
}

/// The catalogue as it stands.
pub async fn catalogue<L: EventLog>(
    store: &Store<L>,
    organization: OrganizationId,
) -> Result<CatalogueState> {
    Ok(store
        .load::<Catalogue>(&catalogue_stream(organization))
        .await?
        .0)
}

/// Adds an entry (a new id) or replaces one (staff).
pub async fn put_entry<L: EventLog>(
    store: &Store<L>,
    organization: OrganizationId,
    id: Option<Uuid>,
    entry: Entry,
    by: Option<AccountId>,
    ctx: &CommandContext,
) -> std::result::Result<(Uuid, Option<i64>), CommandError<CatalogueError>> {
    let id = id.unwrap_or_else(|| derived_id("catalogue", ctx.command_id));
    let fingerprint = store.secrets.fingerprint(
        "PutCatalogueEntry",
        &[
            organization.0.as_bytes(),
            id.as_bytes(),
            format!("{entry:?}").as_bytes(),
        ],
    );
    let executed = execute::<L, Catalogue>(
        store,
        &catalogue_stream(organization),
        None,
        ctx,
        "PutCatalogueEntry",
        fingerprint,
        |_| {
            Ok(Plan::command(
                organization.0,
                (
                    organization,
                    CatalogueCommand::Put {
                        id,
                        entry: entry.clone(),
                        by,
                    },
                ),
            ))
        },
    )
    .await?;
    Ok((id, executed.last_position))
}

/// A weekly template of a provider's bookable hours at one location.
#[derive(Clone, Debug)]
pub struct SlotTemplate {
    /// The provider or care team.
    pub provider: Uuid,
    /// The location.
    pub location: Uuid,
    /// Opening hours by weekday (local time in the organization's zone).
    pub hours: Vec<(Weekday, NaiveTime, NaiveTime)>,
    /// How long each slot is, in minutes (5 to 240).
    pub slot_minutes: u32,
    /// The first day (inclusive).
    pub from: NaiveDate,
    /// The last day (inclusive); at most 92 days after `from`.
    pub to: NaiveDate,
    /// Days without slots (holidays, leave).
    pub exceptions: Vec<NaiveDate>,
}

/// The most slots one publication makes.
pub const MAX_SLOTS_PER_PUBLICATION: usize = 500;

/// Publishes the slots a template gives; slots that exist already (same provider and start) are kept as they are.
/// Returns how many were new and the position.
pub async fn publish_slots<L: EventLog>(
    store: &Store<L>,
    organization: &OrganizationSummary,
    template: SlotTemplate,
    ctx: &CommandContext,
) -> Result<(usize, i64)> {
    if !(5..=240).contains(&template.slot_minutes) {
        return Err(rejected(SchedulingError::Template(
            "slotMinutes",
            "a slot lasts 5 to 240 minutes",
        )));
    }
    if template.to < template.from || template.to - template.from > Duration::days(92) {
        return Err(rejected(SchedulingError::Template(
            "to",
            "the range is 1 to 93 days",
        )));
    }
    let cat = catalogue(store, organization.id).await?;
    match cat.get(template.provider) {
        Some(Entry::Provider { locations, .. }) => {
            if !locations.contains(&template.location) {
                return Err(rejected(CatalogueError::UnknownReference("locationId")));
            }
        }
        _ => return Err(rejected(CatalogueError::UnknownReference("providerId"))),
    }
    let zone = organization.time_zone;
    let step = Duration::minutes(i64::from(template.slot_minutes));
    let mut slots = Vec::new();
    let mut day = template.from;
    while day <= template.to {
        if !template.exceptions.contains(&day) {
            for (_, open, close) in template
                .hours
                .iter()
                .filter(|(w, _, _)| *w == day.weekday())
            {
                let mut start = day.and_time(*open);
                let end = day.and_time(*close);
                while start + step <= end {
                    let starts_at = zone.instant(start);
                    let id = derived_id(
                        &format!("slot:{}:{}", template.provider, starts_at.timestamp()),
                        organization.id.0,
                    );
                    slots.push(SlotInfo {
                        slot_id: id,
                        organization_id: organization.id,
                        provider_id: template.provider,
                        location_id: template.location,
                        starts_at,
                        ends_at: zone.instant(start + step),
                    });
                    start += step;
                }
            }
        }
        day = day.succ_opt().unwrap_or(day + Duration::days(1));
    }
    if slots.len() > MAX_SLOTS_PER_PUBLICATION {
        return Err(rejected(SchedulingError::Template(
            "to",
            "a publication makes at most 500 slots",
        )));
    }
    let mut writes = Vec::new();
    for info in slots {
        let stream = slot_stream(info.slot_id);
        if !store.log.read_stream(&stream).await?.is_empty() {
            continue;
        }
        let events = Slot::decide(
            &SlotState::Absent,
            SlotCommand::Publish(info.clone()),
            ctx.now,
        )
        .map_err(rejected)?;
        writes.push(StreamWrite {
            stream,
            expected: ExpectedVersion::NoStream,
            events: store.encode(None, &events).await?,
        });
    }
    let count = writes.len();
    if count == 0 {
        return Ok((0, 0));
    }
    let commit = Commit {
        tenant: organization.id.0,
        writes,
        metadata: ctx.metadata("PublishSlots"),
        ..Default::default()
    };
    let committed = store.append(commit).await.map_err(append_error)?;
    Ok((count, committed.last_position))
}

/// The words of an appointment's messages.
fn visit(
    cat: &CatalogueState,
    organization: &OrganizationSummary,
    reason: Uuid,
    placement: &Placement,
) -> Visit {
    let name = |id: Uuid| match cat.get(id) {
        Some(
            Entry::Provider { name, .. }
            | Entry::Location { name, .. }
            | Entry::VisitReason { name, .. },
        ) => name.clone(),
        Some(Entry::Department { name }) => name.clone(),
        None => String::new(),
    };
    let zone = organization.time_zone;
    Visit {
        provider: name(placement.provider_id),
        location: name(placement.location_id),
        reason: name(reason),
        when: crate::messages::local_time(&zone, placement.starts_at),
    }
}

/// The confirmation (or change notice) and the reminders of an appointment at `placement`. Reminder ids are
/// derived from the appointment, the slot and the offset, so that a later commit can withdraw them.
/// Reminders also go by text to the phone given for the appointment, if any. Every message is noted as about the
/// patient, whose erasure blanks it even when it went to an address given only for this appointment.
fn notices(
    organization: &OrganizationSummary,
    (patient, contact): (AccountId, Option<&Contact>),
    appointment: Uuid,
    notice: AppointmentNotice,
    visit: &Visit,
    placement: &Placement,
    now: chrono::DateTime<chrono::Utc>,
) -> Vec<OutboxMessage> {
    let Some(contact) = contact else {
        return vec![];
    };
    let mut messages = vec![];
    if let Some(to) = &contact.email {
        messages.push(messages::appointment(
            to,
            notice,
            visit,
            uuid::Uuid::new_v4(),
            now,
        ));
    }
    for offset in organization.patient_policy.reminders() {
        let due = placement.starts_at - offset;
        if due <= now {
            continue;
        }
        if let Some(to) = &contact.email {
            messages.push(messages::appointment(
                to,
                AppointmentNotice::Reminder,
                visit,
                reminder_id(appointment, placement.slot_id, offset),
                due,
            ));
        }
        if let Some(to) = &contact.phone {
            messages.push(messages::appointment_reminder_text(
                to,
                visit,
                text_reminder_id(appointment, placement.slot_id, offset),
                due,
            ));
        }
    }
    messages.into_iter().map(|m| m.about(patient.0)).collect()
}

/// The id of a reminder: the same appointment, slot and offset give the same id.
pub fn reminder_id(appointment: Uuid, slot: Uuid, offset: Duration) -> Uuid {
    derived_id(
        &format!("reminder:{slot}:{}", offset.num_minutes()),
        appointment,
    )
}

/// The id of a reminder by text, derived as [`reminder_id`] is.
pub fn text_reminder_id(appointment: Uuid, slot: Uuid, offset: Duration) -> Uuid {
    derived_id(
        &format!("reminder-text:{slot}:{}", offset.num_minutes()),
        appointment,
    )
}

fn reminder_ids(organization: &OrganizationSummary, appointment: Uuid, slot: Uuid) -> Vec<Uuid> {
    organization
        .patient_policy
        .reminders()
        .flat_map(|offset| {
            [
                reminder_id(appointment, slot, offset),
                text_reminder_id(appointment, slot, offset),
            ]
        })
        .collect()
}

/// A booking, parsed.
#[derive(Clone, Debug)]
pub struct Booking {
    /// The patient's account.
    pub patient: AccountId,
    /// The slot.
    pub slot: Uuid,
    /// The visit reason.
    pub reason: Uuid,
    /// Contact details.
    pub contact: Contact,
    /// Insurance, if any.
    pub insurance: Option<Insurance>,
    /// Who books.
    pub by: BookedBy,
}

/// What one attempt of a booking or a move writes.
pub(crate) struct Planned {
    /// Events per stream.
    pub writes: Vec<StreamWrite>,
    /// Messages.
    pub outbox: Vec<OutboxMessage>,
    /// Messages withdrawn.
    pub withdraw: Vec<Uuid>,
}

/// One attempt of a booking: takes the slot (checked against its version) and records appointment `id`.
pub(crate) async fn plan_booking<L: EventLog>(
    store: &Store<L>,
    organization: &OrganizationSummary,
    cat: &CatalogueState,
    booking: &Booking,
    id: Uuid,
    ctx: &CommandContext,
) -> Result<Planned> {
    let (account, _) = store
        .load::<Account>(&crate::accounts::stream(booking.patient))
        .await?;
    let patient = account
        .profile()
        .filter(|p| p.organization == organization.id && p.role == Role::Patient)
        .ok_or_else(|| rejected(SchedulingError::PatientNotFound))?;
    // Messages go to the address given for this appointment, or else the account's; it is kept with the
    // appointment, so that later changes and reminders reach the same place.
    let email = booking
        .contact
        .email
        .clone()
        .or_else(|| patient.email.known().cloned());
    let contact = Contact {
        email: email.clone(),
        phone: booking.contact.phone.clone(),
    };
    let reason_departments = match cat.get(booking.reason) {
        Some(Entry::VisitReason { departments, .. }) => departments.clone(),
        _ => return Err(rejected(CatalogueError::UnknownReference("reasonId"))),
    };
    let slot = slot_stream(booking.slot);
    let (slot_state, slot_version) = store.load::<Slot>(&slot).await?;
    let info = slot_state
        .info()
        .filter(|i| i.organization_id == organization.id)
        .cloned()
        .ok_or_else(|| rejected(SlotError::NotFound))?;
    if !reason_departments.is_empty() {
        let serves = matches!(
            cat.get(info.provider_id),
            Some(Entry::Provider { departments, .. }) if departments.iter().any(|d| reason_departments.contains(d))
        );
        if !serves {
            return Err(rejected(SchedulingError::ReasonNotOffered));
        }
    }
    let slot_events = Slot::decide(&slot_state, SlotCommand::Take { appointment: id }, ctx.now)
        .map_err(rejected)?;
    let placement = Placement {
        slot_id: info.slot_id,
        provider_id: info.provider_id,
        location_id: info.location_id,
        starts_at: info.starts_at,
        ends_at: info.ends_at,
    };
    let appointment_events = Appointment::decide(
        &AppointmentState::Absent,
        AppointmentCommand::Book {
            id,
            organization: organization.id,
            patient: booking.patient,
            reason_id: booking.reason,
            placement: placement.clone(),
            contact: contact.clone(),
            insurance: booking.insurance.clone(),
            by: booking.by,
        },
        ctx.now,
    )
    .map_err(rejected)?;
    let words = visit(cat, organization, booking.reason, &placement);
    Ok(Planned {
        writes: vec![
            StreamWrite {
                stream: appointment_stream(id),
                expected: ExpectedVersion::NoStream,
                events: store
                    .encode(Some(booking.patient.0), &appointment_events)
                    .await?,
            },
            StreamWrite {
                stream: slot,
                expected: ExpectedVersion::Exact(slot_version),
                events: store.encode(None, &slot_events).await?,
            },
        ],
        outbox: notices(
            organization,
            (booking.patient, Some(&contact)),
            id,
            AppointmentNotice::Booked,
            &words,
            &placement,
            ctx.now,
        ),
        withdraw: vec![],
    })
}

/// Appends a planned change; a lost race is reported as a conflict for the caller to decide again.
pub(crate) async fn commit_planned<L: EventLog>(
    store: &Store<L>,
    organization: &OrganizationSummary,
    planned: Planned,
    name: &str,
    command: Option<CommandRecord>,
    ctx: &CommandContext,
) -> std::result::Result<i64, AppendError> {
    let commit = Commit {
        tenant: organization.id.0,
        writes: planned.writes,
        metadata: ctx.metadata(name),
        command,
        claims: vec![],
        releases: vec![],
        outbox: planned.outbox,
        withdraw: planned.withdraw,
        ..Default::default()
    };
    store.append(commit).await.map(|c| c.last_position)
}

/// Books a slot for a patient: the slot is taken and the appointment recorded in one commit; the confirmation and
/// reminders go to the outbox. Of concurrent bookings of one slot, one wins and the others get SLOT_TAKEN.
pub async fn book<L: EventLog>(
    store: &Store<L>,
    organization: &OrganizationSummary,
    booking: Booking,
    ctx: &CommandContext,
) -> Result<(Uuid, i64)> {
    let id = derived_id("appointment", ctx.command_id);
    let fingerprint = store.secrets.fingerprint(
        "BookAppointment",
        &[
            booking.slot.as_bytes(),
            booking.patient.0.as_bytes(),
            booking.reason.as_bytes(),
        ],
    );
    if let Some(found) = store.log.find_command(ctx.command_id).await? {
        if found.record.fingerprint != fingerprint {
            return Err(CommandError::IdempotencyKeyReused);
        }
        return Ok((id, found.last_position));
    }
    let cat = catalogue(store, organization.id).await?;
    for attempt in 0..MAX_ATTEMPTS {
        if attempt > 0 {
            back_off(attempt).await;
        }
        let planned = plan_booking(store, organization, &cat, &booking, id, ctx).await?;
        let record = CommandRecord {
            command_id: ctx.command_id,
            fingerprint: fingerprint.clone(),
            outcome: serde_json::Value::Null,
        };
        match commit_planned(
            store,
            organization,
            planned,
            "BookAppointment",
            Some(record),
            ctx,
        )
        .await
        {
            Ok(position) => return Ok((id, position)),
            // Someone else changed the slot: decide again, which says SLOT_TAKEN if they took it.
            Err(AppendError::WrongExpectedVersion { .. }) => continue,
            Err(error) => return Err(append_error(error)),
        }
    }
    Err(CommandError::Conflict(
        MAX_ATTEMPTS,
        slot_stream(booking.slot),
    ))
}

/// Records that the patient did not come to an appointment that has begun (staff). Recording it again records
/// nothing and answers None.
pub async fn record_no_show<L: EventLog>(
    store: &Store<L>,
    organization: &OrganizationSummary,
    appointment: Uuid,
    staff: AccountId,
    ctx: &CommandContext,
) -> Result<Option<i64>> {
    let fingerprint = store
        .secrets
        .fingerprint("RecordNoShow", &[appointment.as_bytes()]);
    let executed = execute::<L, Appointment>(
        store,
        &appointment_stream(appointment),
        None,
        ctx,
        "RecordNoShow",
        fingerprint,
        |state| {
            let of_organization = match state {
                AppointmentState::Booked(info)
                | AppointmentState::Cancelled(info)
                | AppointmentState::Missed(info) => info.organization == organization.id,
                AppointmentState::Absent => false,
            };
            if !of_organization {
                return Err(AppointmentError::NotFound);
            }
            Ok(Plan::command(
                organization.id.0,
                AppointmentCommand::RecordNoShow { by: staff },
            ))
        },
    )
    .await
    .map_err(|e| e.map_rejected(SchedulingError::from))?;
    Ok(executed.last_position)
}

/// Loads an appointment of the organization; a patient may act only on their own.
async fn own_appointment<L: EventLog>(
    store: &Store<L>,
    organization: &OrganizationSummary,
    appointment: Uuid,
    actor: AccountId,
    by: BookedBy,
) -> Result<(
    AppointmentState,
    u64,
    portal_domain::appointment::AppointmentInfo,
)> {
    let (state, version) = store
        .load::<Appointment>(&appointment_stream(appointment))
        .await?;
    let info = match &state {
        AppointmentState::Booked(info)
        | AppointmentState::Cancelled(info)
        | AppointmentState::Missed(info) => (**info).clone(),
        AppointmentState::Absent => return Err(rejected(AppointmentError::NotFound)),
    };
    let patient_side = matches!(by, BookedBy::Patient | BookedBy::Proxy { .. });
    if info.organization != organization.id || (patient_side && info.patient != actor) {
        return Err(rejected(AppointmentError::NotFound));
    }
    Ok((state, version, info))
}

fn contact(info: &portal_domain::appointment::AppointmentInfo) -> Option<&Contact> {
    match &info.contact {
        Personal::Known(contact) => Some(contact),
        Personal::Erased => None,
    }
}

/// One attempt of a move: the new slot taken, the old one freed, the old reminders withdrawn and new ones written.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn plan_reschedule<L: EventLog>(
    store: &Store<L>,
    organization: &OrganizationSummary,
    cat: &CatalogueState,
    appointment: Uuid,
    new_slot: Uuid,
    actor: AccountId,
    by: BookedBy,
    ctx: &CommandContext,
) -> Result<(Planned, Uuid)> {
    let cutoff = Duration::hours(i64::from(
        organization.patient_policy.cancellation_cutoff_hours,
    ));
    let (state, version, info) =
        own_appointment(store, organization, appointment, actor, by).await?;
    let (new_state, new_version) = store.load::<Slot>(&slot_stream(new_slot)).await?;
    let new_info = new_state
        .info()
        .filter(|i| i.organization_id == organization.id)
        .cloned()
        .ok_or_else(|| rejected(SlotError::NotFound))?;
    let placement = Placement {
        slot_id: new_info.slot_id,
        provider_id: new_info.provider_id,
        location_id: new_info.location_id,
        starts_at: new_info.starts_at,
        ends_at: new_info.ends_at,
    };
    let events = Appointment::decide(
        &state,
        AppointmentCommand::Reschedule {
            placement: placement.clone(),
            by,
            cutoff,
        },
        ctx.now,
    )
    .map_err(rejected)?;
    let take =
        Slot::decide(&new_state, SlotCommand::Take { appointment }, ctx.now).map_err(rejected)?;
    let old_slot = slot_stream(info.placement.slot_id);
    let (old_state, old_version) = store.load::<Slot>(&old_slot).await?;
    let release = Slot::decide(&old_state, SlotCommand::Release { appointment }, ctx.now)
        .map_err(rejected)?;
    let words = visit(cat, organization, info.reason_id, &placement);
    Ok((
        Planned {
            writes: vec![
                StreamWrite {
                    stream: appointment_stream(appointment),
                    expected: ExpectedVersion::Exact(version),
                    events: store.encode(Some(info.patient.0), &events).await?,
                },
                StreamWrite {
                    stream: slot_stream(new_slot),
                    expected: ExpectedVersion::Exact(new_version),
                    events: store.encode(None, &take).await?,
                },
                StreamWrite {
                    stream: old_slot,
                    expected: ExpectedVersion::Exact(old_version),
                    events: store.encode(None, &release).await?,
                },
            ],
            outbox: notices(
                organization,
                (info.patient, contact(&info)),
                appointment,
                AppointmentNotice::Moved,
                &words,
                &placement,
                ctx.now,
            ),
            withdraw: reminder_ids(organization, appointment, info.placement.slot_id),
        },
        info.placement.slot_id,
    ))
}

/// Moves an appointment to another slot in one commit: the new slot is taken, the old one freed, the old reminders
/// withdrawn and new ones written; the freed slot is then offered to the wait list. If the new slot is taken
/// meanwhile, nothing changes.
pub async fn reschedule<L: EventLog>(
    store: &Store<L>,
    organization: &OrganizationSummary,
    appointment: Uuid,
    new_slot: Uuid,
    actor: AccountId,
    by: BookedBy,
    ctx: &CommandContext,
) -> Result<i64> {
    let cat = catalogue(store, organization.id).await?;
    for attempt in 0..MAX_ATTEMPTS {
        if attempt > 0 {
            back_off(attempt).await;
        }
        let (planned, freed) = plan_reschedule(
            store,
            organization,
            &cat,
            appointment,
            new_slot,
            actor,
            by,
            ctx,
        )
        .await?;
        match commit_planned(
            store,
            organization,
            planned,
            "RescheduleAppointment",
            None,
            ctx,
        )
        .await
        {
            Ok(position) => {
                crate::waitlist::offer_freed(store, organization, freed, ctx).await;
                return Ok(position);
            }
            Err(AppendError::WrongExpectedVersion { .. }) => continue,
            Err(error) => return Err(append_error(error)),
        }
    }
    Err(CommandError::Conflict(
        MAX_ATTEMPTS,
        appointment_stream(appointment),
    ))
}

/// Cancels an appointment: the slot is freed and the reminders withdrawn in the same commit; the freed slot is then
/// offered to the wait list.
pub async fn cancel<L: EventLog>(
    store: &Store<L>,
    organization: &OrganizationSummary,
    appointment: Uuid,
    reason: Option<String>,
    actor: AccountId,
    by: BookedBy,
    ctx: &CommandContext,
) -> Result<Option<i64>> {
    let cutoff = Duration::hours(i64::from(
        organization.patient_policy.cancellation_cutoff_hours,
    ));
    let cat = catalogue(store, organization.id).await?;
    for attempt in 0..MAX_ATTEMPTS {
        if attempt > 0 {
            back_off(attempt).await;
        }
        let (state, version, info) =
            own_appointment(store, organization, appointment, actor, by).await?;
        let events = Appointment::decide(
            &state,
            AppointmentCommand::Cancel {
                reason: reason.clone(),
                by,
                cutoff,
            },
            ctx.now,
        )
        .map_err(rejected)?;
        if events.is_empty() {
            return Ok(None);
        }
        let slot = slot_stream(info.placement.slot_id);
        let (slot_state, slot_version) = store.load::<Slot>(&slot).await?;
        let release = Slot::decide(&slot_state, SlotCommand::Release { appointment }, ctx.now)
            .map_err(rejected)?;
        let words = visit(&cat, organization, info.reason_id, &info.placement);
        let commit = Commit {
            tenant: organization.id.0,
            writes: vec![
                StreamWrite {
                    stream: appointment_stream(appointment),
                    expected: ExpectedVersion::Exact(version),
                    events: store.encode(Some(info.patient.0), &events).await?,
                },
                StreamWrite {
                    stream: slot,
                    expected: ExpectedVersion::Exact(slot_version),
                    events: store.encode(None, &release).await?,
                },
            ],
            metadata: ctx.metadata("CancelAppointment"),
            command: None,
            claims: vec![],
            releases: vec![],
            outbox: contact(&info)
                .and_then(|c| c.email.as_ref())
                .map(|to| {
                    messages::appointment(
                        to,
                        AppointmentNotice::Cancelled,
                        &words,
                        Uuid::new_v4(),
                        ctx.now,
                    )
                    .about(info.patient.0)
                })
                .into_iter()
                .collect(),
            withdraw: reminder_ids(organization, appointment, info.placement.slot_id),
            ..Default::default()
        };
        match store.append(commit).await {
            Ok(committed) => {
                crate::waitlist::offer_freed(store, organization, info.placement.slot_id, ctx)
                    .await;
                return Ok(Some(committed.last_position));
            }
            Err(AppendError::WrongExpectedVersion { .. }) => continue,
            Err(error) => return Err(append_error(error)),
        }
    }
    Err(CommandError::Conflict(
        MAX_ATTEMPTS,
        appointment_stream(appointment),
    ))
}
