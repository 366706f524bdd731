//! Scheduling (seed 003): the catalogue, slots from weekly templates, and booking, moving and cancelling
//! appointments, for patients and for staff on their behalf.

use async_graphql::{ComplexObject, Context, Enum, InputObject, Object, Result, SimpleObject, ID};
use chrono::{DateTime, NaiveDate, NaiveTime, Utc, Weekday as ChronoWeekday};
use portal_commands::handler::Actor;
use portal_commands::scheduling::{self, Booking, SlotTemplate};
use portal_domain::account::Role;
use portal_domain::appointment::{BookedBy, Contact, Insurance};
use portal_domain::catalogue::{entry_name, Entry};
use portal_domain::session::Principal;
use portal_domain::AccountId;
use portal_projections::schedule::{self, AppointmentRow, SlotRow, SlotSearch};
use uuid::Uuid;

use crate::access::Whose;

use portal_domain::care::Area;

use super::access_log::audited;
use super::activities::organization;
use super::care;
use super::errors::ApiError;
use super::inputs::Checked;
use super::mutation::context;
use super::query::{applied, principal, projection_error, staff};
use super::types::LogPosition;
use crate::app::AppState;

/// A day of the week.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum Weekday {
    /// Monday.
    Monday,
    /// Tuesday.
    Tuesday,
    /// Wednesday.
    Wednesday,
    /// Thursday.
    Thursday,
    /// Friday.
    Friday,
    /// Saturday.
    Saturday,
    /// Sunday.
    Sunday,
}

impl From<Weekday> for ChronoWeekday {
    fn from(day: Weekday) -> Self {
        match day {
            Weekday::Monday => ChronoWeekday::Mon,
            Weekday::Tuesday => ChronoWeekday::Tue,
            Weekday::Wednesday => ChronoWeekday::Wed,
            Weekday::Thursday => ChronoWeekday::Thu,
            Weekday::Friday => ChronoWeekday::Fri,
            Weekday::Saturday => ChronoWeekday::Sat,
            Weekday::Sunday => ChronoWeekday::Sun,
        }
    }
}

/// Opening hours on one weekday.
#[derive(InputObject)]
pub struct HoursInput {
    /// The weekday.
    pub weekday: Weekday,
    /// Opening, local time (`08:00`).
    pub opens: String,
    /// Closing, local time (`12:00`).
    pub closes: String,
}

/// A weekly template of a provider's bookable hours at a location, over a range of days.
#[derive(InputObject)]
pub struct PublishSlotsInput {
    /// The provider or care team.
    pub provider_id: ID,
    /// The location.
    pub location_id: ID,
    /// The first day.
    pub from: NaiveDate,
    /// The last day (at most 92 days later).
    pub to: NaiveDate,
    /// Minutes per slot (5 to 240).
    pub slot_minutes: i32,
    /// Opening hours by weekday.
    pub hours: Vec<HoursInput>,
    /// Days without slots.
    pub exceptions: Option<Vec<NaiveDate>>,
}

/// Insurance details.
#[derive(InputObject)]
pub struct InsuranceInput {
    /// Payer (insurer or plan).
    pub payer: String,
    /// Member id.
    pub member_id: String,
    /// Group number.
    pub group: Option<String>,
}

/// A booking.
#[derive(InputObject)]
pub struct BookAppointmentInput {
    /// The slot chosen.
    pub slot_id: ID,
    /// The visit reason.
    pub reason_id: ID,
    /// Where confirmations and reminders go (the account's address when left out).
    pub contact_email: Option<String>,
    /// A phone to reach the patient.
    pub contact_phone: Option<String>,
    /// Insurance.
    pub insurance: Option<InsuranceInput>,
    /// Staff only: the patient's account.
    pub patient_id: Option<ID>,
    /// Idempotency key.
    pub command_id: Option<Uuid>,
}

/// A catalogue entry.
#[derive(SimpleObject)]
pub struct CatalogueEntry {
    /// The entry.
    pub id: ID,
    /// Its name.
    pub name: String,
    /// A location's address.
    pub address: Option<String>,
    /// A visit reason's minutes.
    pub minutes: Option<i32>,
    /// Departments served (providers) or offering (visit reasons).
    pub department_ids: Vec<ID>,
    /// Locations served (providers).
    pub location_ids: Vec<ID>,
}

/// The catalogue.
#[derive(SimpleObject)]
pub struct CatalogueView {
    /// The catalogue (one per organization).
    pub id: ID,
    /// Locations.
    pub locations: Vec<CatalogueEntry>,
    /// Departments.
    pub departments: Vec<CatalogueEntry>,
    /// Providers and care teams.
    pub providers: Vec<CatalogueEntry>,
    /// Visit reasons.
    pub visit_reasons: Vec<CatalogueEntry>,
}

/// An open slot.
#[derive(SimpleObject)]
pub struct OpenSlot {
    /// The slot.
    pub id: ID,
    /// The provider.
    pub provider_id: ID,
    /// Its name.
    pub provider: String,
    /// The location.
    pub location_id: ID,
    /// Its name.
    pub location: String,
    /// Start.
    pub starts_at: DateTime<Utc>,
    /// End.
    pub ends_at: DateTime<Utc>,
}

/// An appointment.
#[derive(SimpleObject)]
pub struct AppointmentView {
    /// The appointment.
    pub id: ID,
    /// The patient's account.
    pub patient_id: ID,
    /// The patient's name, for staff (null once the patient's data was erased).
    pub patient_name: Option<String>,
    /// The provider or care team of the catalogue (start a conversation with it: `startConversation`).
    pub provider_id: ID,
    /// The provider.
    pub provider: String,
    /// The location.
    pub location: String,
    /// The visit reason.
    pub reason: String,
    /// The slot.
    pub slot_id: ID,
    /// Start.
    pub starts_at: DateTime<Utc>,
    /// End.
    pub ends_at: DateTime<Utc>,
    /// BOOKED or CANCELLED (lower case).
    pub status: String,
}

/// What a patient reviews before confirming a booking.
#[derive(SimpleObject)]
pub struct BookingSummary {
    /// The summary (of one slot and visit reason).
    pub id: ID,
    /// The slot.
    pub slot_id: ID,
    /// The provider or care team.
    pub provider: String,
    /// The location.
    pub location: String,
    /// Its address.
    pub address: Option<String>,
    /// The visit reason.
    pub reason: String,
    /// Its duration in minutes.
    pub minutes: i32,
    /// The start (an instant).
    pub starts_at: DateTime<Utc>,
    /// The start on the clinic's wall clock.
    pub local_starts_at: String,
    /// The end on the clinic's wall clock.
    pub local_ends_at: String,
    /// The clinic's zone.
    pub time_zone: String,
    /// Until how many hours before the visit it can be moved or cancelled online.
    pub cancellation_cutoff_hours: i32,
}

/// What a scheduling mutation did.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct SchedulingPayload {
    /// The entry, slot count or appointment concerned.
    pub id: Option<ID>,
    /// How many slots were created (publishSlots).
    pub created: Option<i32>,
    /// The log position produced.
    pub position: Option<LogPosition>,
    #[graphql(skip)]
    changed: Option<ScheduleChange>,
}

/// What a scheduling mutation changed, to read back for its answer.
struct ScheduleChange {
    /// Who reads it.
    reader: Principal,
    /// The patient side, when a patient or their proxy acted (their reads go to the access log as proxies').
    acting: Option<care::Acting>,
    /// What changed.
    what: Changed,
    /// Its id.
    id: Uuid,
}

/// The kind of object a scheduling mutation changed.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Changed {
    Appointment,
    WaitListEntry,
    CatalogueEntry,
}

impl SchedulingPayload {
    /// A change of `what` (`id`) at `position` (zero: nothing new was written).
    fn of(
        reader: &Principal,
        acting: Option<&care::Acting>,
        what: Changed,
        id: Uuid,
        position: Option<i64>,
    ) -> Self {
        Self {
            id: Some(ID(id.to_string())),
            created: None,
            position: position.filter(|p| *p > 0).map(LogPosition),
            changed: Some(ScheduleChange {
                reader: reader.clone(),
                acting: acting.cloned(),
                what,
                id,
            }),
        }
    }

    /// The change, when it is of `what`, once the schedule read model has applied the position.
    async fn changed(
        &self,
        ctx: &Context<'_>,
        what: Changed,
    ) -> Result<Option<&ScheduleChange>, ApiError> {
        match &self.changed {
            Some(change) if change.what == what => {
                caught_up(context(ctx).0, self.position).await?;
                Ok(Some(change))
            }
            _ => Ok(None),
        }
    }
}

#[ComplexObject]
impl SchedulingPayload {
    /// The appointment as it now is (book, reschedule, cancel, no-show, accepted offer; null for the others).
    async fn appointment(&self, ctx: &Context<'_>) -> Result<Option<AppointmentView>> {
        let Some(change) = self.changed(ctx, Changed::Appointment).await? else {
            return Ok(None);
        };
        let state = context(ctx).0;
        let Some(row) = schedule::appointment(&state.pool, change.reader.organization.0, change.id)
            .await
            .map_err(projection_error)?
        else {
            return Ok(None);
        };
        match &change.acting {
            Some(acting) => acting.audited(ctx, "appointment", "appointment").await?,
            None if row.patient_id != change.reader.account.0 => {
                audited(
                    ctx,
                    &change.reader,
                    "appointment",
                    "appointment",
                    &[Whose::account(row.patient_id)],
                )
                .await?
            }
            None => {}
        }
        Ok(Some(appointment(row)))
    }

    /// The wait-list entry as it now is (join and leave; null for the others).
    async fn wait_list_entry(&self, ctx: &Context<'_>) -> Result<Option<WaitListEntryView>> {
        let Some(change) = self.changed(ctx, Changed::WaitListEntry).await? else {
            return Ok(None);
        };
        let Some(acting) = &change.acting else {
            return Ok(None);
        };
        let rows = schedule::patient_waitlist(
            &context(ctx).0.pool,
            change.reader.organization.0,
            acting.patient.0,
        )
        .await
        .map_err(projection_error)?;
        acting.audited(ctx, "wait_list", "waitListEntry").await?;
        Ok(rows
            .into_iter()
            .find(|r| r.id == change.id)
            .map(wait_list_entry))
    }

    /// The catalogue entry as it now is (putLocation, putDepartment, putProvider, putVisitReason; null for the
    /// others).
    async fn catalogue_entry(&self, ctx: &Context<'_>) -> Result<Option<CatalogueEntry>> {
        let Some(change) = self.changed(ctx, Changed::CatalogueEntry).await? else {
            return Ok(None);
        };
        let rows = schedule::entries(&context(ctx).0.pool, change.reader.organization.0)
            .await
            .map_err(projection_error)?;
        Ok(rows
            .into_iter()
            .find(|r| r.id == change.id)
            .map(|r| catalogue_entry(r).1))
    }
}

/// A wait-list entry for the API.
fn wait_list_entry(r: schedule::WaitRow) -> WaitListEntryView {
    WaitListEntryView {
        id: ID(r.id.to_string()),
        target_kind: r.target_kind,
        target_id: ID(r.target_id.to_string()),
        target: r.target,
        reason: r.reason,
        status: r.status,
        offered_slot_id: r.offered_slot_id.map(|s| ID(s.to_string())),
        offer_expires_at: r.offer_expires_at,
        offered_starts_at: r.offered.as_ref().map(|o| o.0),
        offered_provider: r.offered.as_ref().map(|o| o.1.clone()),
        offered_location: r.offered.map(|o| o.2),
    }
}

/// A catalogue entry for the API, with its kind (`location`, `department`, `provider`, `reason`).
fn catalogue_entry(row: schedule::EntryRow) -> (String, CatalogueEntry) {
    (
        row.kind,
        CatalogueEntry {
            id: ID(row.id.to_string()),
            name: row.name,
            address: row.address,
            minutes: row.minutes,
            department_ids: row.departments.iter().map(|d| ID(d.to_string())).collect(),
            location_ids: row.locations.iter().map(|l| ID(l.to_string())).collect(),
        },
    )
}

fn uuid(raw: &ID, field: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(raw.as_str())
        .map_err(|_| ApiError::new("ID_INVALID", "this is not an id").on(field))
}

fn uuids(raw: &[ID], field: &str) -> Result<Vec<Uuid>, ApiError> {
    raw.iter().map(|id| uuid(id, field)).collect()
}

fn name(raw: &str) -> Result<String, ApiError> {
    entry_name(raw).map_err(|e| ApiError::new("NAME_INVALID", e.rule).on("name"))
}

fn slot(row: SlotRow) -> OpenSlot {
    OpenSlot {
        id: ID(row.id.to_string()),
        provider_id: ID(row.provider_id.to_string()),
        provider: row.provider,
        location_id: ID(row.location_id.to_string()),
        location: row.location,
        starts_at: row.starts_at,
        ends_at: row.ends_at,
    }
}

/// An appointment for the API.
pub fn appointment(row: AppointmentRow) -> AppointmentView {
    AppointmentView {
        id: ID(row.id.to_string()),
        patient_id: ID(row.patient_id.to_string()),
        patient_name: row.patient_name,
        provider_id: ID(row.provider_id.to_string()),
        provider: row.provider,
        location: row.location,
        reason: row.reason,
        slot_id: ID(row.slot_id.to_string()),
        starts_at: row.starts_at,
        ends_at: row.ends_at,
        status: row.status,
    }
}

/// Who acts on an appointment: the patient themselves (or their proxy, through `X-Acting-For`), or staff.
struct Booker {
    /// The account signed in.
    principal: Principal,
    /// As the appointment records it.
    by: BookedBy,
    /// The patient acted for (for staff, their own account: the patient is given by the input).
    patient: AccountId,
    /// The actor of the commands.
    actor: Actor,
    /// The patient side (None for staff).
    acting: Option<care::Acting>,
}

async fn booker(ctx: &Context<'_>) -> Result<Booker, ApiError> {
    let signed_in = principal(ctx).await?;
    match signed_in.role {
        Role::Patient => {
            let acting = care::acting_as(ctx, signed_in, Area::Scheduling).await?;
            Ok(Booker {
                by: acting.booked_by(),
                patient: acting.patient,
                actor: acting.actor(),
                principal: acting.principal.clone(),
                acting: Some(acting),
            })
        }
        Role::Staff => Ok(Booker {
            by: BookedBy::Staff {
                by: signed_in.account,
            },
            patient: signed_in.account,
            actor: Actor::Account(signed_in.account.0),
            principal: signed_in,
            acting: None,
        }),
        Role::Learner | Role::Auditor | Role::Provider => Err(ApiError::forbidden()),
    }
}

async fn put(ctx: &Context<'_>, entry: Entry, id: Option<ID>) -> Result<SchedulingPayload> {
    let principal = staff(ctx).await?;
    let (state, request) = context(ctx);
    let id = id.as_ref().map(|i| uuid(i, "id")).transpose()?;
    let command = request.command(Actor::Account(principal.account.0), None);
    let (id, position) = scheduling::put_entry(
        &state.store,
        principal.organization,
        id,
        entry,
        Some(principal.account),
        &command,
    )
    .await
    .map_err(ApiError::from_command)?;
    Ok(SchedulingPayload::of(
        &principal,
        None,
        Changed::CatalogueEntry,
        id,
        position,
    ))
}

/// Joining the wait list.
#[derive(InputObject)]
pub struct JoinWaitListInput {
    /// Wait for this provider or care team (or give `departmentId`).
    pub provider_id: Option<ID>,
    /// Wait for any provider of this department (or give `providerId`).
    pub department_id: Option<ID>,
    /// The visit reason to book with.
    pub reason_id: ID,
    /// Your booked appointment to move to an earlier slot, if you have one.
    pub appointment_id: Option<ID>,
    /// Idempotency key.
    pub command_id: Option<Uuid>,
}

/// A wait-list entry.
#[derive(SimpleObject)]
pub struct WaitListEntryView {
    /// The entry.
    pub id: ID,
    /// `provider` or `department`.
    pub target_kind: String,
    /// The provider or department.
    pub target_id: ID,
    /// Its name.
    pub target: String,
    /// The visit reason.
    pub reason: String,
    /// `waiting`, `offered`, `fulfilled`, `left`.
    pub status: String,
    /// The slot offered to you, while an offer stands.
    pub offered_slot_id: Option<ID>,
    /// When the offer lapses.
    pub offer_expires_at: Option<DateTime<Utc>>,
    /// The offered slot's start, while an offer stands.
    pub offered_starts_at: Option<DateTime<Utc>>,
    /// The offered slot's provider, while an offer stands.
    pub offered_provider: Option<String>,
    /// The offered slot's location, while an offer stands.
    pub offered_location: Option<String>,
}

/// Scheduling mutations.
#[derive(Default)]
pub struct SchedulingMutation;

#[Object]
impl SchedulingMutation {
    /// Adds (or, with `id`, changes) a location (staff).
    async fn put_location(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The location to change; none to add one.")] id: Option<ID>,
        #[graphql(desc = "Its name, as patients see it.")] name: String,
        #[graphql(desc = "Its street address.")] address: Option<String>,
    ) -> Result<SchedulingPayload> {
        let address = address
            .map(|a| a.trim().to_owned())
            .filter(|a| !a.is_empty());
        put(
            ctx,
            Entry::Location {
                name: self::name(&name)?,
                address,
            },
            id,
        )
        .await
    }

    /// Adds (or changes) a department (staff).
    async fn put_department(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The department to change; none to add one.")] id: Option<ID>,
        #[graphql(desc = "Its name, as patients see it.")] name: String,
    ) -> Result<SchedulingPayload> {
        put(
            ctx,
            Entry::Department {
                name: self::name(&name)?,
            },
            id,
        )
        .await
    }

    /// Adds (or changes) a provider or care team with the departments and locations it serves (staff).
    async fn put_provider(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The provider to change; none to add one.")] id: Option<ID>,
        #[graphql(desc = "Their name, as patients see it.")] name: String,
        #[graphql(desc = "The departments they belong to.")] department_ids: Vec<ID>,
        #[graphql(desc = "The locations they see patients at.")] location_ids: Vec<ID>,
    ) -> Result<SchedulingPayload> {
        let entry = Entry::Provider {
            name: self::name(&name)?,
            departments: uuids(&department_ids, "departmentIds")?,
            locations: uuids(&location_ids, "locationIds")?,
        };
        put(ctx, entry, id).await
    }

    /// Adds (or changes) a visit reason with its duration, offered by some departments or all (staff).
    async fn put_visit_reason(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The reason to change; none to add one.")] id: Option<ID>,
        #[graphql(desc = "Its name, as patients see it.")] name: String,
        #[graphql(desc = "How long such a visit takes.")] minutes: i32,
        #[graphql(desc = "The departments that offer it.")] department_ids: Option<Vec<ID>>,
    ) -> Result<SchedulingPayload> {
        let entry = Entry::VisitReason {
            name: self::name(&name)?,
            minutes: u32::try_from(minutes).unwrap_or(0),
            departments: uuids(&department_ids.unwrap_or_default(), "departmentIds")?,
        };
        put(ctx, entry, id).await
    }

    /// Publishes a provider's slots from a weekly template over a range of days (staff); slots that exist stay.
    async fn publish_slots(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The operation's input.")] input: PublishSlotsInput,
    ) -> Result<SchedulingPayload> {
        let principal = staff(ctx).await?;
        let (state, request) = context(ctx);
        let mut hours = Vec::with_capacity(input.hours.len());
        for (i, h) in input.hours.iter().enumerate() {
            let parse = |raw: &str, field: &str| {
                NaiveTime::parse_from_str(raw.trim(), "%H:%M").map_err(|_| {
                    ApiError::new("TIME_INVALID", "a time is HH:MM")
                        .on(format!("input.hours[{i}].{field}"))
                })
            };
            let (opens, closes) = (parse(&h.opens, "opens")?, parse(&h.closes, "closes")?);
            if closes <= opens {
                return Err(ApiError::new("TEMPLATE_INVALID", "closes after it opens")
                    .on(format!("input.hours[{i}].closes"))
                    .into());
            }
            hours.push((h.weekday.into(), opens, closes));
        }
        let org = organization(state, principal.organization).await?;
        let command = request.command(Actor::Account(principal.account.0), None);
        let (created, position) = scheduling::publish_slots(
            &state.store,
            &org,
            SlotTemplate {
                provider: uuid(&input.provider_id, "input.providerId")?,
                location: uuid(&input.location_id, "input.locationId")?,
                hours,
                slot_minutes: u32::try_from(input.slot_minutes).unwrap_or(0),
                from: input.from,
                to: input.to,
                exceptions: input.exceptions.unwrap_or_default(),
            },
            &command,
        )
        .await
        .map_err(ApiError::from_command)?;
        Ok(SchedulingPayload {
            id: None,
            created: Some(i32::try_from(created).unwrap_or(i32::MAX)),
            position: (position > 0).then_some(LogPosition(position)),
            changed: None,
        })
    }

    /// Books an open slot (a patient for themselves, or staff with `patientId`); the answer is the appointment's
    /// summary. Of several people who pick one slot at once, one gets it and the others SLOT_TAKEN.
    async fn book_appointment(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The operation's input.")] input: BookAppointmentInput,
    ) -> Result<SchedulingPayload> {
        let Booker {
            principal,
            by,
            patient,
            actor,
            acting,
        } = booker(ctx).await?;
        let (state, request) = context(ctx);
        let patient = match (by, input.patient_id.as_ref()) {
            (BookedBy::Patient | BookedBy::Proxy { .. }, None) => patient,
            (BookedBy::Staff { .. }, Some(id)) => AccountId(uuid(id, "input.patientId")?),
            (BookedBy::Patient | BookedBy::Proxy { .. }, Some(_)) => {
                return Err(ApiError::forbidden().into())
            }
            (BookedBy::Staff { .. }, None) => {
                return Err(ApiError::new(
                    "PATIENT_REQUIRED",
                    "staff book for a patient: give patientId",
                )
                .on("input.patientId")
                .into())
            }
        };
        let mut checked = Checked::default();
        let email = match input
            .contact_email
            .as_deref()
            .map(str::trim)
            .filter(|e| !e.is_empty())
        {
            Some(raw) => checked.email("contactEmail", raw),
            None => None,
        };
        let phone = match input
            .contact_phone
            .as_deref()
            .map(str::trim)
            .filter(|p| !p.is_empty())
        {
            Some(raw) => checked.phone("contactPhone", raw),
            None => None,
        };
        let insurance = input.insurance.as_ref().and_then(|i| {
            checked.value(
                "insurance",
                "INSURANCE_INVALID",
                Insurance::new(&i.payer, &i.member_id, i.group.as_deref()),
            )
        });
        checked.finish()?;
        let org = organization(state, principal.organization).await?;
        let command = request.command(actor, input.command_id);
        let (id, position) = scheduling::book(
            &state.store,
            &org,
            Booking {
                patient,
                slot: uuid(&input.slot_id, "input.slotId")?,
                reason: uuid(&input.reason_id, "input.reasonId")?,
                contact: Contact { email, phone },
                insurance,
                by,
            },
            &command,
        )
        .await
        .map_err(ApiError::from_command)?;
        Ok(SchedulingPayload::of(
            &principal,
            acting.as_ref(),
            Changed::Appointment,
            id,
            Some(position),
        ))
    }

    /// Moves an appointment to another open slot in one step: the old slot is freed only if the new one is taken.
    async fn reschedule_appointment(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The appointment to move.")] appointment_id: ID,
        #[graphql(desc = "The open slot to move it to.")] slot_id: ID,
    ) -> Result<SchedulingPayload> {
        let Booker {
            principal,
            by,
            patient,
            actor,
            acting,
        } = booker(ctx).await?;
        let (state, request) = context(ctx);
        let org = organization(state, principal.organization).await?;
        let command = request.command(actor, None);
        let appointment = uuid(&appointment_id, "appointmentId")?;
        let position = scheduling::reschedule(
            &state.store,
            &org,
            appointment,
            uuid(&slot_id, "slotId")?,
            patient,
            by,
            &command,
        )
        .await
        .map_err(ApiError::from_command)?;
        Ok(SchedulingPayload::of(
            &principal,
            acting.as_ref(),
            Changed::Appointment,
            appointment,
            Some(position),
        ))
    }

    /// Joins the wait list for a provider or department (patients, or their proxy): when a slot frees up it is offered to the first
    /// in line, by e-mail, for the organization's offer time. With `appointmentId`, only earlier slots are offered
    /// and accepting moves that appointment.
    async fn join_wait_list(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The operation's input.")] input: JoinWaitListInput,
    ) -> Result<SchedulingPayload> {
        let acting = care::acting(ctx, Area::Scheduling).await?;
        let principal = &acting.principal;
        let (state, request) = context(ctx);
        let target = match (input.provider_id.as_ref(), input.department_id.as_ref()) {
            (Some(p), None) => portal_domain::waitlist::WaitTarget::Provider {
                id: uuid(p, "input.providerId")?,
            },
            (None, Some(d)) => portal_domain::waitlist::WaitTarget::Department {
                id: uuid(d, "input.departmentId")?,
            },
            _ => {
                return Err(ApiError::new(
                    "TARGET_REQUIRED",
                    "give either providerId or departmentId",
                )
                .on("input.providerId")
                .into())
            }
        };
        let org = organization(state, principal.organization).await?;
        let command = request.command(acting.actor(), input.command_id);
        let (entry, position) = portal_commands::waitlist::join(
            &state.store,
            &org,
            acting.patient,
            target,
            uuid(&input.reason_id, "input.reasonId")?,
            input
                .appointment_id
                .as_ref()
                .map(|a| uuid(a, "input.appointmentId"))
                .transpose()?,
            &command,
        )
        .await
        .map_err(ApiError::from_command)?;
        Ok(SchedulingPayload::of(
            principal,
            Some(&acting),
            Changed::WaitListEntry,
            entry,
            position,
        ))
    }

    /// Leaves the wait list (patients, or their proxy).
    async fn leave_wait_list(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The wait-list entry.")] entry_id: ID,
    ) -> Result<SchedulingPayload> {
        let acting = care::acting(ctx, Area::Scheduling).await?;
        let principal = &acting.principal;
        let (state, request) = context(ctx);
        let org = organization(state, principal.organization).await?;
        let command = request.command(acting.actor(), None);
        let entry = uuid(&entry_id, "entryId")?;
        let position =
            portal_commands::waitlist::leave(&state.store, &org, acting.patient, entry, &command)
                .await
                .map_err(ApiError::from_command)?;
        Ok(SchedulingPayload::of(
            principal,
            Some(&acting),
            Changed::WaitListEntry,
            entry,
            position,
        ))
    }

    /// Accepts the slot offered to a wait-list entry (patients, or their proxy): it is booked, or your appointment moved to it, in
    /// the same step; a lapsed offer answers OFFER_UNAVAILABLE.
    async fn accept_slot_offer(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The wait-list entry the offer was made to.")] entry_id: ID,
    ) -> Result<SchedulingPayload> {
        let acting = care::acting(ctx, Area::Scheduling).await?;
        let principal = &acting.principal;
        let (state, request) = context(ctx);
        let org = organization(state, principal.organization).await?;
        let command = request.command(acting.actor(), None);
        let (appointment, position) = portal_commands::waitlist::accept(
            &state.store,
            &org,
            acting.patient,
            uuid(&entry_id, "entryId")?,
            &command,
        )
        .await
        .map_err(ApiError::from_command)?;
        Ok(SchedulingPayload::of(
            principal,
            Some(&acting),
            Changed::Appointment,
            appointment,
            Some(position),
        ))
    }

    /// Cancels an appointment; patients may do so until the organization's cut-off before it, staff at any time.
    async fn cancel_appointment(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The appointment.")] appointment_id: ID,
        #[graphql(desc = "Why, in the patient's or staff's words.")] reason: Option<String>,
    ) -> Result<SchedulingPayload> {
        let Booker {
            principal,
            by,
            patient,
            actor,
            acting,
        } = booker(ctx).await?;
        let (state, request) = context(ctx);
        let org = organization(state, principal.organization).await?;
        let command = request.command(actor, None);
        let appointment = uuid(&appointment_id, "appointmentId")?;
        let position = scheduling::cancel(
            &state.store,
            &org,
            appointment,
            reason
                .map(|r| r.trim().to_owned())
                .filter(|r| !r.is_empty()),
            patient,
            by,
            &command,
        )
        .await
        .map_err(ApiError::from_command)?;
        Ok(SchedulingPayload::of(
            &principal,
            acting.as_ref(),
            Changed::Appointment,
            appointment,
            position,
        ))
    }

    /// Records that the patient did not come to an appointment that has begun (staff). Recording it again changes
    /// nothing.
    async fn record_no_show(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The appointment the patient missed.")] appointment_id: ID,
    ) -> Result<SchedulingPayload> {
        let principal = staff(ctx).await?;
        let (state, request) = context(ctx);
        let org = organization(state, principal.organization).await?;
        let command = request.command(Actor::Account(principal.account.0), None);
        let appointment = uuid(&appointment_id, "appointmentId")?;
        let position = scheduling::record_no_show(
            &state.store,
            &org,
            appointment,
            principal.account,
            &command,
        )
        .await
        .map_err(ApiError::from_command)?;
        Ok(SchedulingPayload::of(
            &principal,
            None,
            Changed::Appointment,
            appointment,
            position,
        ))
    }
}

/// Scheduling queries.
#[derive(Default)]
pub struct SchedulingQuery;

async fn caught_up(state: &AppState, at_least: Option<LogPosition>) -> Result<(), ApiError> {
    applied(state, schedule::NAME, at_least).await
}

#[Object]
impl SchedulingQuery {
    /// The catalogue of your organization.
    async fn catalogue(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "Read your writes: wait until the read model has applied this log position (a mutation's `position`)."
        )]
        at_least: Option<LogPosition>,
    ) -> Result<CatalogueView> {
        let principal = principal(ctx).await?;
        let state = ctx.data_unchecked::<AppState>();
        caught_up(state, at_least).await?;
        let rows = schedule::entries(&state.pool, principal.organization.0)
            .await
            .map_err(projection_error)?;
        let mut view = CatalogueView {
            id: crate::graphql::ids::derived("Catalogue", &[&principal.organization.0]),
            locations: vec![],
            departments: vec![],
            providers: vec![],
            visit_reasons: vec![],
        };
        for row in rows {
            let (kind, entry) = catalogue_entry(row);
            match kind.as_str() {
                "location" => view.locations.push(entry),
                "department" => view.departments.push(entry),
                "provider" => view.providers.push(entry),
                _ => view.visit_reasons.push(entry),
            }
        }
        Ok(view)
    }

    /// Open slots by location, department, provider, visit reason and dates (in the organization's zone, both
    /// included), soonest first, at most `first` (default 50, up to 200).
    #[allow(clippy::too_many_arguments)]
    async fn open_slots(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only at this location.")] location_id: Option<ID>,
        #[graphql(desc = "Only in this department.")] department_id: Option<ID>,
        #[graphql(desc = "Only with this provider.")] provider_id: Option<ID>,
        #[graphql(desc = "The reason for the visit (it sets the length).")] reason_id: Option<ID>,
        #[graphql(desc = "Slots from this day on (the organization's time zone).")] from: Option<
            NaiveDate,
        >,
        #[graphql(desc = "Slots up to this day, included.")] to: Option<NaiveDate>,
        #[graphql(desc = "Page size.")] first: Option<i32>,
        #[graphql(
            desc = "Read your writes: wait until the read model has applied this log position (a mutation's `position`)."
        )]
        at_least: Option<LogPosition>,
    ) -> Result<Vec<OpenSlot>> {
        let principal = principal(ctx).await?;
        let state = ctx.data_unchecked::<AppState>();
        let first = first.unwrap_or(50);
        if !(1..=200).contains(&first) {
            return Err(ApiError::new("PAGE_SIZE_INVALID", "first is 1 to 200")
                .on("first")
                .into());
        }
        caught_up(state, at_least).await?;
        let org = organization(state, principal.organization).await?;
        let midnight = |d: NaiveDate| org.time_zone.instant(d.and_time(NaiveTime::MIN));
        let search = SlotSearch {
            location: location_id
                .as_ref()
                .map(|i| uuid(i, "locationId"))
                .transpose()?,
            department: department_id
                .as_ref()
                .map(|i| uuid(i, "departmentId"))
                .transpose()?,
            provider: provider_id
                .as_ref()
                .map(|i| uuid(i, "providerId"))
                .transpose()?,
            reason: reason_id
                .as_ref()
                .map(|i| uuid(i, "reasonId"))
                .transpose()?,
            from: from.map(midnight),
            until: to.and_then(|d| d.succ_opt()).map(midnight),
        };
        let rows = schedule::open_slots(&state.pool, org.id.0, &search, i64::from(first))
            .await
            .map_err(projection_error)?;
        Ok(rows.into_iter().map(slot).collect())
    }

    /// Your appointments (patients): upcoming ones soonest first (default), or past ones latest first.
    async fn my_appointments(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "True: only those still to come; false: only past ones.")]
        upcoming: Option<bool>,
        #[graphql(
            desc = "Read your writes: wait until the read model has applied this log position (a mutation's `position`)."
        )]
        at_least: Option<LogPosition>,
    ) -> Result<Vec<AppointmentView>> {
        let acting = care::acting(ctx, Area::Scheduling).await?;
        let state = ctx.data_unchecked::<AppState>();
        caught_up(state, at_least).await?;
        let rows = schedule::patient_appointments(
            &state.pool,
            acting.principal.organization.0,
            acting.patient.0,
            upcoming.unwrap_or(true),
        )
        .await
        .map_err(projection_error)?;
        acting.audited(ctx, "appointment", "myAppointments").await?;
        Ok(rows.into_iter().map(appointment).collect())
    }

    /// The summary a patient reviews before confirming a booking: the slot (still open), its provider, location
    /// and times in the organization's zone, and the visit reason with its duration.
    async fn booking_summary(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The slot chosen.")] slot_id: ID,
        #[graphql(desc = "The reason chosen.")] reason_id: ID,
    ) -> Result<BookingSummary> {
        let principal = principal(ctx).await?;
        let state = ctx.data_unchecked::<AppState>();
        let org = organization(state, principal.organization).await?;
        let slot = uuid(&slot_id, "slotId")?;
        let reason = uuid(&reason_id, "reasonId")?;
        let cat = scheduling::catalogue(&state.store, org.id)
            .await
            .map_err(ApiError::from_command)?;
        let (reason_name, minutes, departments) = match cat.get(reason) {
            Some(Entry::VisitReason {
                name,
                minutes,
                departments,
            }) => (name.clone(), *minutes, departments.clone()),
            _ => {
                return Err(
                    ApiError::new("CATALOGUE_REFERENCE_UNKNOWN", "no such visit reason")
                        .on("reasonId")
                        .into(),
                )
            }
        };
        let slot_state = state
            .store
            .load::<portal_domain::slot::Slot>(&scheduling::slot_stream(slot))
            .await
            .map_err(|e| ApiError::from_command::<scheduling::SchedulingError>(e.into()))?
            .0;
        let info = match slot_state {
            portal_domain::slot::SlotState::Open(info) if info.organization_id == org.id => info,
            portal_domain::slot::SlotState::Taken(info, _) if info.organization_id == org.id => {
                return Err(ApiError::new(
                    "SLOT_TAKEN",
                    "this slot was just booked by someone else; choose another",
                )
                .on("slotId")
                .into())
            }
            _ => {
                return Err(ApiError::new("SLOT_NOT_FOUND", "no such slot")
                    .on("slotId")
                    .into())
            }
        };
        let (provider, provider_departments) = match cat.get(info.provider_id) {
            Some(Entry::Provider {
                name, departments, ..
            }) => (name.clone(), departments.clone()),
            _ => (String::new(), vec![]),
        };
        if !departments.is_empty() && !provider_departments.iter().any(|d| departments.contains(d))
        {
            return Err(ApiError::new(
                "REASON_NOT_OFFERED",
                "the provider does not offer this visit reason",
            )
            .on("reasonId")
            .into());
        }
        let location = match cat.get(info.location_id) {
            Some(Entry::Location { name, address }) => (name.clone(), address.clone()),
            _ => (String::new(), None),
        };
        let local =
            |at: DateTime<Utc>| org.time_zone.local(at).format("%Y-%m-%dT%H:%M").to_string();
        Ok(BookingSummary {
            id: crate::graphql::ids::derived("BookingSummary", &[&slot, &reason]),
            slot_id,
            provider,
            location: location.0,
            address: location.1,
            reason: reason_name,
            minutes: i32::try_from(minutes).unwrap_or(0),
            starts_at: info.starts_at,
            local_starts_at: local(info.starts_at),
            local_ends_at: local(info.ends_at),
            time_zone: org.time_zone.name().to_owned(),
            cancellation_cutoff_hours: i32::try_from(org.patient_policy.cancellation_cutoff_hours)
                .unwrap_or(0),
        })
    }

    /// Your wait-list entries (patients), newest first, with any offer standing.
    async fn my_wait_list(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "Read your writes: wait until the read model has applied this log position (a mutation's `position`)."
        )]
        at_least: Option<LogPosition>,
    ) -> Result<Vec<WaitListEntryView>> {
        let acting = care::acting(ctx, Area::Scheduling).await?;
        let state = ctx.data_unchecked::<AppState>();
        caught_up(state, at_least).await?;
        let rows = schedule::patient_waitlist(
            &state.pool,
            acting.principal.organization.0,
            acting.patient.0,
        )
        .await
        .map_err(projection_error)?;
        acting.audited(ctx, "wait_list", "myWaitList").await?;
        Ok(rows.into_iter().map(wait_list_entry).collect())
    }

    /// A provider's booked appointments on one day of the organization's zone (staff).
    async fn provider_day(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The provider.")] provider_id: ID,
        #[graphql(desc = "The day, in the organization's time zone.")] date: NaiveDate,
        #[graphql(
            desc = "Read your writes: wait until the read model has applied this log position (a mutation's `position`)."
        )]
        at_least: Option<LogPosition>,
    ) -> Result<Vec<AppointmentView>> {
        let principal = staff(ctx).await?;
        let state = ctx.data_unchecked::<AppState>();
        caught_up(state, at_least).await?;
        let org = organization(state, principal.organization).await?;
        let from = org.time_zone.instant(date.and_time(NaiveTime::MIN));
        let until = org
            .time_zone
            .instant(date.succ_opt().unwrap_or(date).and_time(NaiveTime::MIN));
        let rows = schedule::provider_day(
            &state.pool,
            org.id.0,
            uuid(&provider_id, "providerId")?,
            from,
            until,
        )
        .await
        .map_err(projection_error)?;
        let whose: Vec<Whose> = rows.iter().map(|r| Whose::account(r.patient_id)).collect();
        audited(ctx, &principal, "appointment", "providerDay", &whose).await?;
        Ok(rows.into_iter().map(appointment).collect())
    }
}
