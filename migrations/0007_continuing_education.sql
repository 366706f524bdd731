-- Read model `organizations`: the calendar's zone and the number learners text.
ALTER TABLE organizations
    ADD COLUMN time_zone  text NOT NULL DEFAULT 'UTC',
    ADD COLUMN sms_number text;

-- Read model `accounts`: the learner's consent to report completions to a board (ACCME PARS), with their id there.
ALTER TABLE accounts
    ADD COLUMN board               text,
    ADD COLUMN board_id            text,
    ADD COLUMN board_consented_at  timestamptz;

-- Read model `accounts`: mobile numbers, paired by text or verified by a code.
CREATE TABLE account_phones (
    account_id       uuid    NOT NULL,
    organization_id  uuid    NOT NULL,
    number           text    NOT NULL,
    verified         boolean NOT NULL,
    added_at         timestamptz NOT NULL,
    PRIMARY KEY (account_id, number)
);

-- Read model `calendar`: one row per activity, cancelled ones included (status says which).
CREATE TABLE calendar_activities (
    id                   uuid PRIMARY KEY,
    organization_id      uuid        NOT NULL,
    title                text        NOT NULL,
    kind                 text        NOT NULL CHECK (kind IN ('course', 'series_occurrence')),
    series_id            uuid,
    series_kind          text,
    starts_at            timestamptz NOT NULL,
    ends_at              timestamptz NOT NULL,
    time_zone            text        NOT NULL,
    location             text,
    specialty            text,
    audience             text        NOT NULL,
    code                 text        NOT NULL,
    minutes_before       integer     NOT NULL,
    minutes_after        integer     NOT NULL,
    credits              jsonb       NOT NULL,
    evaluation_required  boolean     NOT NULL,
    status               text        NOT NULL CHECK (status IN ('scheduled', 'cancelled')),
    cancel_reason        text
);

CREATE INDEX calendar_activities_range ON calendar_activities (organization_id, starts_at, id);

-- Read model `transcript`: the activities learners attended, as the transcript names and dates them.
CREATE TABLE transcript_activities (
    id               uuid PRIMARY KEY,
    organization_id  uuid        NOT NULL,
    title            text        NOT NULL,
    starts_at        timestamptz NOT NULL,
    -- The activity's date in its own zone: the date on the transcript and the year its credits count in.
    local_date       date        NOT NULL
);

-- Read model `transcript`: one row per learner, activity and credit type.
CREATE TABLE transcript_entries (
    -- The attendance stream's id, which later events of the attendance carry.
    attendance_id     uuid          NOT NULL,
    organization_id   uuid          NOT NULL,
    learner_id        uuid          NOT NULL,
    activity_id       uuid          NOT NULL,
    credit_type       text          NOT NULL,
    amount            numeric(5, 2) NOT NULL,
    status            text          NOT NULL CHECK (status IN ('awarded', 'pending')),
    -- Why credit waits: EVALUATION_REQUIRED, PROFILE_INCOMPLETE, ACCOUNT_NOT_ACTIVE.
    pending_reasons   text[]        NOT NULL DEFAULT '{}',
    channel           text          NOT NULL,
    recorded_at       timestamptz   NOT NULL,
    awarded_at        timestamptz,
    evaluation_required  boolean    NOT NULL,
    evaluated_at      timestamptz,
    PRIMARY KEY (learner_id, activity_id, credit_type)
);

CREATE INDEX transcript_entries_activity ON transcript_entries (organization_id, activity_id);
CREATE INDEX transcript_entries_attendance ON transcript_entries (attendance_id);
