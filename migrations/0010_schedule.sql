-- Read model `schedule`: the catalogue, the slots and the appointments.
CREATE TABLE catalogue_entries (
    id               uuid PRIMARY KEY,
    organization_id  uuid    NOT NULL,
    kind             text    NOT NULL CHECK (kind IN ('location', 'department', 'provider', 'visit_reason')),
    name             text    NOT NULL,
    address          text,
    minutes          integer,
    departments      uuid[]  NOT NULL DEFAULT '{}',
    locations        uuid[]  NOT NULL DEFAULT '{}'
);

CREATE INDEX catalogue_entries_organization ON catalogue_entries (organization_id, kind, name);

CREATE TABLE slots (
    id               uuid PRIMARY KEY,
    organization_id  uuid        NOT NULL,
    provider_id      uuid        NOT NULL,
    location_id      uuid        NOT NULL,
    starts_at        timestamptz NOT NULL,
    ends_at          timestamptz NOT NULL,
    status           text        NOT NULL CHECK (status IN ('open', 'taken')),
    appointment_id   uuid
);

CREATE INDEX slots_open ON slots (organization_id, starts_at) WHERE status = 'open';
CREATE INDEX slots_provider ON slots (provider_id, starts_at);

CREATE TABLE appointments (
    id               uuid PRIMARY KEY,
    organization_id  uuid        NOT NULL,
    patient_id       uuid        NOT NULL,
    provider_id      uuid        NOT NULL,
    location_id      uuid        NOT NULL,
    reason_id        uuid        NOT NULL,
    slot_id          uuid        NOT NULL,
    starts_at        timestamptz NOT NULL,
    ends_at          timestamptz NOT NULL,
    status           text        NOT NULL CHECK (status IN ('booked', 'cancelled')),
    booked_at        timestamptz NOT NULL,
    changed_at       timestamptz,
    cancelled_at     timestamptz,
    -- 'patient' or 'staff'.
    booked_by        text        NOT NULL
);

CREATE INDEX appointments_patient ON appointments (patient_id, starts_at);
CREATE INDEX appointments_provider ON appointments (provider_id, starts_at);

CREATE TABLE waitlist_entries (
    id                uuid PRIMARY KEY,
    organization_id   uuid        NOT NULL,
    patient_id        uuid        NOT NULL,
    target_kind       text        NOT NULL CHECK (target_kind IN ('provider', 'department')),
    target_id         uuid        NOT NULL,
    reason_id         uuid        NOT NULL,
    appointment_id    uuid,
    status            text        NOT NULL CHECK (status IN ('waiting', 'offered', 'fulfilled', 'left')),
    offered_slot_id   uuid,
    offer_expires_at  timestamptz,
    joined_at         timestamptz NOT NULL
);

CREATE INDEX waitlist_entries_offers ON waitlist_entries (offer_expires_at) WHERE status = 'offered';
CREATE INDEX waitlist_entries_patient ON waitlist_entries (patient_id, joined_at);
