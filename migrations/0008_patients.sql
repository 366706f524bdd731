-- Read model `organizations`: the version of the terms in force.
ALTER TABLE organizations ADD COLUMN terms_version integer;

-- Read model `organizations`: the terms' texts, per version.
CREATE TABLE organization_terms (
    organization_id    uuid        NOT NULL,
    version            integer     NOT NULL,
    terms_of_use       text        NOT NULL,
    privacy_practices  text        NOT NULL,
    published_at       timestamptz NOT NULL,
    PRIMARY KEY (organization_id, version)
);

-- Read model `accounts`: patients' sign-in names and the version of the terms accepted.
ALTER TABLE accounts
    ADD COLUMN username                text,
    ADD COLUMN terms_accepted_version  integer,
    -- Two-step verification in use: 'totp', or NULL when off.
    ADD COLUMN two_step                text;

-- Read model `patients`: the clinic's patient records, for staff.
CREATE TABLE patients (
    id               uuid PRIMARY KEY,
    organization_id  uuid        NOT NULL,
    clinic_number    text        NOT NULL,
    first_name       text,
    last_name        text,
    date_of_birth    date,
    email            text,
    phone            text,
    account_id       uuid,
    registered_at    timestamptz NOT NULL,
    signed_up_at     timestamptz,
    failed_sign_ups  integer     NOT NULL DEFAULT 0,
    sign_up_locked_until timestamptz,
    sign_up_locked   boolean     NOT NULL DEFAULT false
);

CREATE INDEX patients_organization ON patients (organization_id, last_name, first_name);

-- Read model `patients`: online requests for an activation code, the staff's verification queue.
CREATE TABLE signup_requests (
    id               uuid PRIMARY KEY,
    organization_id  uuid        NOT NULL,
    first_name       text,
    last_name        text,
    date_of_birth    date,
    email            text,
    phone            text,
    clinic_number    text,
    status           text        NOT NULL CHECK (status IN ('pending', 'approved', 'rejected')),
    submitted_at     timestamptz NOT NULL,
    decided_at       timestamptz,
    decided_by       uuid,
    patient_id       uuid,
    reason           text
);

CREATE INDEX signup_requests_queue ON signup_requests (organization_id, status, submitted_at);
