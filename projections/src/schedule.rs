//! Read model `schedule`: the catalogue, providers' slots (open ones for search) and appointments (a patient's,
//! a provider's day).

use chrono::{DateTime, Utc};
use deadpool_postgres::Pool;
use portal_commands::log::RecordedEvent;
use portal_domain::appointment::{Appointment, AppointmentEvent, BookedBy};
use portal_domain::catalogue::{Catalogue, CatalogueEvent, Entry};
use portal_domain::slot::{Slot, SlotEvent};
use portal_domain::waitlist::{WaitList, WaitListEvent, WaitTarget};
use portal_domain::Decider;
use uuid::Uuid;

use crate::{decode_if, params, writes::Writes, Projection, ProjectionError};

/// The schedule projection.
pub struct Schedule;

/// Its name, for read-your-writes waits.
pub const NAME: &str = "schedule";

impl Projection for Schedule {
    fn name(&self) -> &'static str {
        NAME
    }

    fn tables(&self) -> &'static [&'static str] {
        &[
            "catalogue_entries",
            "slots",
            "appointments",
            "waitlist_entries",
        ]
    }

    fn apply(&self, writes: &mut Writes, events: &[RecordedEvent]) -> Result<(), ProjectionError> {
        for recorded in events {
            let Some(id) = recorded.stream.id() else {
                continue;
            };
            if let Some(CatalogueEvent::CatalogueEntryPut(e)) =
                decode_if::<CatalogueEvent>(recorded, Catalogue::CATEGORY)?
            {
                let (kind, name, address, minutes, departments, locations) = match &e.entry {
                    Entry::Location { name, address } => {
                        ("location", name, address.clone(), None, vec![], vec![])
                    }
                    Entry::Department { name } => ("department", name, None, None, vec![], vec![]),
                    Entry::Provider {
                        name,
                        departments,
                        locations,
                    } => (
                        "provider",
                        name,
                        None,
                        None,
                        departments.clone(),
                        locations.clone(),
                    ),
                    Entry::VisitReason {
                        name,
                        minutes,
                        departments,
                    } => (
                        "visit_reason",
                        name,
                        None,
                        i32::try_from(*minutes).ok(),
                        departments.clone(),
                        vec![],
                    ),
                };
                writes.execute(
                    "INSERT INTO catalogue_entries (id, organization_id, kind, name, address, minutes, departments, locations)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
                     ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, address = EXCLUDED.address,
                         minutes = EXCLUDED.minutes, departments = EXCLUDED.departments, locations = EXCLUDED.locations",
                    params![
                        e.id,
                        e.organization_id.0,
                        kind,
                        name.to_owned(),
                        address,
                        minutes,
                        departments,
                        locations,
                    ],
                );
                continue;
            }
            if let Some(event) = decode_if::<SlotEvent>(recorded, Slot::CATEGORY)? {
                match event {
                    SlotEvent::SlotPublished(info) => {
                        writes.execute(
                            "INSERT INTO slots (id, organization_id, provider_id, location_id, starts_at, ends_at, status)
                             VALUES ($1, $2, $3, $4, $5, $6, 'open')",
                            params![
                                id,
                                info.organization_id.0,
                                info.provider_id,
                                info.location_id,
                                info.starts_at,
                                info.ends_at,
                            ],
                        );
                    }
                    SlotEvent::SlotTaken(e) => {
                        writes.execute(
                            "UPDATE slots SET status = 'taken', appointment_id = $2 WHERE id = $1",
                            params![id, e.appointment_id],
                        );
                    }
                    SlotEvent::SlotReleased(_) => {
                        writes.execute(
                            "UPDATE slots SET status = 'open', appointment_id = NULL WHERE id = $1",
                            params![id],
                        );
                    }
                }
                continue;
            }
            if let Some(event) = decode_if::<WaitListEvent>(recorded, WaitList::CATEGORY)? {
                waitlist(writes, event)?;
                continue;
            }
            let Some(event) = decode_if::<AppointmentEvent>(recorded, Appointment::CATEGORY)?
            else {
                continue;
            };
            match event {
                AppointmentEvent::AppointmentBooked(e) => {
                    let by = match e.by {
                        BookedBy::Patient => "patient",
                        BookedBy::Staff { .. } => "staff",
                        BookedBy::Proxy { .. } => "proxy",
                    };
                    let p = &e.placement;
                    writes.execute(
                        "INSERT INTO appointments (id, organization_id, patient_id, provider_id, location_id, reason_id,
                                                   slot_id, starts_at, ends_at, status, booked_at, booked_by)
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'booked', $10, $11)",
                        params![
                            id,
                            e.organization_id.0,
                            e.patient_id.0,
                            p.provider_id,
                            p.location_id,
                            e.reason_id,
                            p.slot_id,
                            p.starts_at,
                            p.ends_at,
                            e.at,
                            by,
                        ],
                    );
                }
                AppointmentEvent::AppointmentRescheduled(e) => {
                    let p = &e.to;
                    writes.execute(
                        "UPDATE appointments SET provider_id = $2, location_id = $3, slot_id = $4, starts_at = $5,
                             ends_at = $6, changed_at = $7
                         WHERE id = $1",
                        params![id, p.provider_id, p.location_id, p.slot_id, p.starts_at, p.ends_at, e.at],
                    );
                }
                AppointmentEvent::AppointmentCancelled(e) => {
                    writes.execute(
                        "UPDATE appointments SET status = 'cancelled', cancelled_at = $2 WHERE id = $1",
                        params![id, e.at],
                    );
                }
                AppointmentEvent::AppointmentMissed(e) => {
                    writes.execute(
                        "UPDATE appointments SET status = 'no_show', missed_at = $2 WHERE id = $1",
                        params![id, e.at],
                    );
                }
            }
        }
        Ok(())
    }
}

fn waitlist(writes: &mut Writes, event: WaitListEvent) -> Result<(), ProjectionError> {
    match event {
        WaitListEvent::WaitListJoined(e) => {
            let (kind, target) = match e.target {
                WaitTarget::Provider { id } => ("provider", id),
                WaitTarget::Department { id } => ("department", id),
            };
            writes.execute(
                "INSERT INTO waitlist_entries (id, organization_id, patient_id, target_kind, target_id, reason_id,
                                               appointment_id, status, joined_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, 'waiting', $8)",
                params![
                    e.entry_id,
                    e.organization_id.0,
                    e.patient_id.0,
                    kind,
                    target,
                    e.reason_id,
                    e.appointment_id,
                    e.at,
                ],
            );
        }
        WaitListEvent::WaitListLeft(e) => {
            writes.execute(
                "UPDATE waitlist_entries SET status = 'left', offered_slot_id = NULL, offer_expires_at = NULL
                 WHERE id = $1",
                params![e.entry_id],
            );
        }
        WaitListEvent::SlotOffered(e) => {
            writes.execute(
                "UPDATE waitlist_entries SET status = 'offered', offered_slot_id = $2, offer_expires_at = $3 WHERE id = $1",
                params![e.entry_id, e.slot_id, e.expires_at],
            );
        }
        WaitListEvent::SlotOfferLapsed(e) => {
            writes.execute(
                "UPDATE waitlist_entries SET status = 'waiting', offered_slot_id = NULL, offer_expires_at = NULL
                 WHERE id = $1",
                params![e.entry_id],
            );
        }
        WaitListEvent::SlotOfferAccepted(e) => {
            writes.execute(
                "UPDATE waitlist_entries SET status = 'fulfilled', offer_expires_at = NULL WHERE id = $1",
                params![e.entry_id],
            );
        }
    }
    Ok(())
}

/// A wait-list entry as its patient sees it.
#[derive(Clone, Debug, PartialEq)]
pub struct WaitRow {
    /// The entry.
    pub id: Uuid,
    /// `provider` or `department`.
    pub target_kind: String,
    /// The provider or department.
    pub target_id: Uuid,
    /// Its name.
    pub target: String,
    /// The visit reason's name.
    pub reason: String,
    /// `waiting`, `offered`, `fulfilled`, `left`.
    pub status: String,
    /// The slot offered.
    pub offered_slot_id: Option<Uuid>,
    /// When the offer lapses.
    pub offer_expires_at: Option<DateTime<Utc>>,
    /// The offered slot's start, provider and location, while an offer stands.
    pub offered: Option<(DateTime<Utc>, String, String)>,
}

/// A patient's wait-list entries, newest first.
pub async fn patient_waitlist(
    pool: &Pool,
    organization: Uuid,
    patient: Uuid,
) -> Result<Vec<WaitRow>, ProjectionError> {
    let client = pool.get().await?;
    let rows = client
        .query(
            "SELECT w.id, w.target_kind, w.target_id, coalesce(t.name, ''), coalesce(r.name, ''), w.status,
                    w.offered_slot_id, w.offer_expires_at, s.starts_at, coalesce(p.name, ''), coalesce(l.name, '')
             FROM waitlist_entries w
             LEFT JOIN catalogue_entries t ON t.id = w.target_id
             LEFT JOIN catalogue_entries r ON r.id = w.reason_id
             LEFT JOIN slots s ON s.id = w.offered_slot_id
             LEFT JOIN catalogue_entries p ON p.id = s.provider_id
             LEFT JOIN catalogue_entries l ON l.id = s.location_id
             WHERE w.organization_id = $1 AND w.patient_id = $2 ORDER BY w.joined_at DESC, w.id",
            &[&organization, &patient],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| WaitRow {
            id: r.get(0),
            target_kind: r.get(1),
            target_id: r.get(2),
            target: r.get(3),
            reason: r.get(4),
            status: r.get(5),
            offered_slot_id: r.get(6),
            offer_expires_at: r.get(7),
            offered: r
                .get::<_, Option<DateTime<Utc>>>(8)
                .map(|starts_at| (starts_at, r.get(9), r.get(10))),
        })
        .collect())
}

/// Organizations with offers whose time is up at `now`.
pub async fn lapsed_offer_organizations(
    pool: &Pool,
    now: DateTime<Utc>,
) -> Result<Vec<Uuid>, ProjectionError> {
    let client = pool.get().await?;
    let rows = client
        .query(
            "SELECT DISTINCT organization_id FROM waitlist_entries WHERE status = 'offered' AND offer_expires_at <= $1",
            &[&now],
        )
        .await?;
    Ok(rows.iter().map(|r| r.get(0)).collect())
}

/// A catalogue entry.
#[derive(Clone, Debug, PartialEq)]
pub struct EntryRow {
    /// The entry.
    pub id: Uuid,
    /// `location`, `department`, `provider`, `visit_reason`.
    pub kind: String,
    /// Its name.
    pub name: String,
    /// A location's address.
    pub address: Option<String>,
    /// A visit reason's minutes.
    pub minutes: Option<i32>,
    /// Departments served or offering.
    pub departments: Vec<Uuid>,
    /// Locations served.
    pub locations: Vec<Uuid>,
}

/// The catalogue of an organization, by kind and name.
pub async fn entries(pool: &Pool, organization: Uuid) -> Result<Vec<EntryRow>, ProjectionError> {
    let client = pool.get().await?;
    let rows = client
        .query(
            "SELECT id, kind, name, address, minutes, departments, locations FROM catalogue_entries
             WHERE organization_id = $1 ORDER BY kind, name, id",
            &[&organization],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| EntryRow {
            id: r.get(0),
            kind: r.get(1),
            name: r.get(2),
            address: r.get(3),
            minutes: r.get(4),
            departments: r.get(5),
            locations: r.get(6),
        })
        .collect())
}

/// A slot, with the names a patient reads.
#[derive(Clone, Debug, PartialEq)]
pub struct SlotRow {
    /// The slot.
    pub id: Uuid,
    /// The provider.
    pub provider_id: Uuid,
    /// Its name.
    pub provider: String,
    /// The location.
    pub location_id: Uuid,
    /// Its name.
    pub location: String,
    /// Start.
    pub starts_at: DateTime<Utc>,
    /// End.
    pub ends_at: DateTime<Utc>,
    /// `open` or `taken`.
    pub status: String,
}

/// What a patient searches open slots by.
#[derive(Clone, Debug, Default)]
pub struct SlotSearch {
    /// At this location.
    pub location: Option<Uuid>,
    /// With a provider of this department.
    pub department: Option<Uuid>,
    /// With this provider.
    pub provider: Option<Uuid>,
    /// Offering this visit reason (its departments, when it names any).
    pub reason: Option<Uuid>,
    /// Starting at or after.
    pub from: Option<DateTime<Utc>>,
    /// Starting before.
    pub until: Option<DateTime<Utc>>,
}

/// Open slots matching the search, in start order.
pub async fn open_slots(
    pool: &Pool,
    organization: Uuid,
    search: &SlotSearch,
    limit: i64,
) -> Result<Vec<SlotRow>, ProjectionError> {
    let client = pool.get().await?;
    let rows = client
        .query(
            "SELECT s.id, s.provider_id, p.name, s.location_id, l.name, s.starts_at, s.ends_at, s.status
             FROM slots s
             JOIN catalogue_entries p ON p.id = s.provider_id
             JOIN catalogue_entries l ON l.id = s.location_id
             LEFT JOIN catalogue_entries r ON r.id = $6
             WHERE s.organization_id = $1 AND s.status = 'open' AND s.starts_at > now()
               AND ($2::uuid IS NULL OR s.location_id = $2)
               AND ($3::uuid IS NULL OR $3 = ANY(p.departments))
               AND ($4::uuid IS NULL OR s.provider_id = $4)
               AND ($5::timestamptz IS NULL OR s.starts_at >= $5)
               AND ($6::uuid IS NULL OR (r.id IS NOT NULL AND (cardinality(r.departments) = 0 OR r.departments && p.departments)))
               AND ($7::timestamptz IS NULL OR s.starts_at < $7)
             ORDER BY s.starts_at, s.id
             LIMIT $8",
            &[
                &organization,
                &search.location,
                &search.department,
                &search.provider,
                &search.from,
                &search.reason,
                &search.until,
                &limit,
            ],
        )
        .await?;
    Ok(rows.iter().map(slot_row).collect())
}

fn slot_row(r: &tokio_postgres::Row) -> SlotRow {
    SlotRow {
        id: r.get(0),
        provider_id: r.get(1),
        provider: r.get(2),
        location_id: r.get(3),
        location: r.get(4),
        starts_at: r.get(5),
        ends_at: r.get(6),
        status: r.get(7),
    }
}

/// An appointment, with the names a patient reads.
#[derive(Clone, Debug, PartialEq)]
pub struct AppointmentRow {
    /// The appointment.
    pub id: Uuid,
    /// The patient's account.
    pub patient_id: Uuid,
    /// The provider.
    pub provider_id: Uuid,
    /// Its name.
    pub provider: String,
    /// The location's name.
    pub location: String,
    /// The visit reason's name.
    pub reason: String,
    /// The slot.
    pub slot_id: Uuid,
    /// Start.
    pub starts_at: DateTime<Utc>,
    /// End.
    pub ends_at: DateTime<Utc>,
    /// `booked` or `cancelled`.
    pub status: String,
    /// The patient's name (None once erased).
    pub patient_name: Option<String>,
}

const APPOINTMENT: &str =
    "SELECT a.id, a.patient_id, a.provider_id, p.name, l.name, r.name, a.slot_id, a.starts_at,
        a.ends_at, a.status, nullif(concat_ws(' ', pa.first_name, pa.last_name), '')
     FROM appointments a
     JOIN catalogue_entries p ON p.id = a.provider_id
     JOIN catalogue_entries l ON l.id = a.location_id
     JOIN catalogue_entries r ON r.id = a.reason_id
     LEFT JOIN accounts pa ON pa.id = a.patient_id";

fn appointment_row(r: &tokio_postgres::Row) -> AppointmentRow {
    AppointmentRow {
        id: r.get(0),
        patient_id: r.get(1),
        provider_id: r.get(2),
        provider: r.get(3),
        location: r.get(4),
        reason: r.get(5),
        slot_id: r.get(6),
        starts_at: r.get(7),
        ends_at: r.get(8),
        status: r.get(9),
        patient_name: r.get(10),
    }
}

/// One appointment of an organization.
pub async fn appointment(
    pool: &Pool,
    organization: Uuid,
    id: Uuid,
) -> Result<Option<AppointmentRow>, ProjectionError> {
    let client = pool.get().await?;
    let row = client
        .query_opt(
            &format!("{APPOINTMENT} WHERE a.organization_id = $1 AND a.id = $2"),
            &[&organization, &id],
        )
        .await?;
    Ok(row.as_ref().map(appointment_row))
}

/// A patient's appointments: upcoming ones soonest first, or past ones latest first.
pub async fn patient_appointments(
    pool: &Pool,
    organization: Uuid,
    patient: Uuid,
    upcoming: bool,
) -> Result<Vec<AppointmentRow>, ProjectionError> {
    let client = pool.get().await?;
    let order = if upcoming { "ASC" } else { "DESC" };
    let rows = client
        .query(
            &format!(
                "{APPOINTMENT} WHERE a.organization_id = $1 AND a.patient_id = $2
                   AND (CASE WHEN $3 THEN a.ends_at >= now() ELSE a.ends_at < now() END)
                 ORDER BY a.starts_at {order}, a.id"
            ),
            &[&organization, &patient, &upcoming],
        )
        .await?;
    Ok(rows.iter().map(appointment_row).collect())
}

/// A provider's booked appointments between two instants (a day), in order.
pub async fn provider_day(
    pool: &Pool,
    organization: Uuid,
    provider: Uuid,
    from: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Result<Vec<AppointmentRow>, ProjectionError> {
    let client = pool.get().await?;
    let rows = client
        .query(
            &format!(
                "{APPOINTMENT} WHERE a.organization_id = $1 AND a.provider_id = $2 AND a.status = 'booked'
                   AND a.starts_at >= $3 AND a.starts_at < $4
                 ORDER BY a.starts_at, a.id"
            ),
            &[&organization, &provider, &from, &until],
        )
        .await?;
    Ok(rows.iter().map(appointment_row).collect())
}

/// A patient's appointments that changed after `after` (the time of the change, then the id), in order of change:
/// what a subscription sends.
pub async fn patient_changes(
    pool: &Pool,
    organization: Uuid,
    patient: Uuid,
    after: (DateTime<Utc>, Uuid),
) -> Result<Vec<(DateTime<Utc>, AppointmentRow)>, ProjectionError> {
    let client = pool.get().await?;
    let rows = client
        .query(
            "SELECT a.id, a.patient_id, a.provider_id, p.name, l.name, r.name, a.slot_id, a.starts_at, a.ends_at,
                    a.status, nullif(concat_ws(' ', pa.first_name, pa.last_name), ''),
                    greatest(a.booked_at, a.changed_at, a.cancelled_at, a.missed_at) AS changed
             FROM appointments a
             JOIN catalogue_entries p ON p.id = a.provider_id
             JOIN catalogue_entries l ON l.id = a.location_id
             JOIN catalogue_entries r ON r.id = a.reason_id
             LEFT JOIN accounts pa ON pa.id = a.patient_id
             WHERE a.organization_id = $1 AND a.patient_id = $2
               AND (greatest(a.booked_at, a.changed_at, a.cancelled_at, a.missed_at), a.id) > ($3, $4)
             ORDER BY changed, a.id
             LIMIT 100",
            &[&organization, &patient, &after.0, &after.1],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| (r.get(11), appointment_row(r)))
        .collect())
}
