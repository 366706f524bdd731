-- The event log: the system of record. Rows are only ever inserted.
CREATE TABLE events (
    position        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- The writing transaction; readers of the whole log order by (transaction_id, position) and read only below
    -- the oldest running transaction, so an event that commits late is never skipped.
    transaction_id  xid8        NOT NULL DEFAULT pg_current_xact_id(),
    tenant_id       uuid        NOT NULL,
    stream_id       text        NOT NULL,
    stream_version  bigint      NOT NULL CHECK (stream_version > 0),
    event_type      text        NOT NULL,
    schema_version  smallint    NOT NULL CHECK (schema_version > 0),
    data            jsonb       NOT NULL,
    metadata        jsonb       NOT NULL,
    recorded_at     timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT events_stream_version_unique UNIQUE (stream_id, stream_version)
);

CREATE INDEX events_global_order ON events (transaction_id, position);
CREATE INDEX events_tenant ON events (tenant_id, position);

-- Append-only, enforced by the database itself: no UPDATE, DELETE or TRUNCATE, whoever asks.
CREATE FUNCTION events_are_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the event log is append-only: % is not allowed on events', TG_OP
        USING ERRCODE = 'restrict_violation';
END;
$$;

CREATE TRIGGER events_no_update_or_delete
    BEFORE UPDATE OR DELETE ON events
    FOR EACH ROW EXECUTE FUNCTION events_are_append_only();

CREATE TRIGGER events_no_truncate
    BEFORE TRUNCATE ON events
    FOR EACH STATEMENT EXECUTE FUNCTION events_are_append_only();

-- Idempotency: the first result of every command that carried an id.
CREATE TABLE commands (
    command_id     uuid PRIMARY KEY,
    tenant_id      uuid        NOT NULL,
    fingerprint    bytea       NOT NULL,
    outcome        jsonb       NOT NULL,
    last_position  bigint      NOT NULL,
    recorded_at    timestamptz NOT NULL DEFAULT now()
);

-- Uniqueness claims (e-mail within an organization, organization codes), written in the append transaction.
-- key_hash is an HMAC of the value under a server key: no readable personal data here.
CREATE TABLE unique_claims (
    scope         uuid        NOT NULL,
    kind          text        NOT NULL,
    key_hash      bytea       NOT NULL,
    owner_stream  text        NOT NULL,
    claimed_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (scope, kind, key_hash)
);

-- One data key per person (crypto-shredding): deleting the row makes their personal data in the log unreadable.
-- Keys are stored wrapped (encrypted) under the server's master key.
CREATE TABLE subject_keys (
    subject_id   uuid PRIMARY KEY,
    wrapped_key  text        NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now()
);

-- Messages to send, written in the same transaction as the events that caused them.
CREATE TABLE outbox (
    id          uuid PRIMARY KEY,
    tenant_id   uuid        NOT NULL,
    channel     text        NOT NULL,
    recipient   text        NOT NULL,
    subject     text        NOT NULL,
    body        text        NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    due_at      timestamptz NOT NULL,
    status      text        NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed')),
    attempts    integer     NOT NULL DEFAULT 0,
    sent_at     timestamptz,
    last_error  text
);

CREATE INDEX outbox_due ON outbox (due_at) WHERE status = 'pending';

-- Settings of this installation, such as a check value of the master key in use.
CREATE TABLE server_settings (
    name   text PRIMARY KEY,
    value  text NOT NULL
);
