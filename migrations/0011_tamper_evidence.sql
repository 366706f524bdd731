-- Tamper evidence and erasure.
--
-- Every event carries `hash`, a SHA-256 over a canonical encoding of the event and its metadata that includes the
-- hash of the previous event of its stream (`portal_event_hash`); jsonb's text output is canonical for a jsonb value,
-- so the encoding is the same wherever it is recomputed. `log_checkpoints` chains the event hashes in the global
-- order and is signed (HMAC) with a key derived from the master key, which the database never sees: whoever rewrites
-- a row and its stream's hashes cannot re-sign the checkpoints. `portal log verify` checks both.
ALTER TABLE events ADD COLUMN hash bytea;

-- plpgsql rather than SQL: PostgreSQL plans a SQL function's body again at every call from plpgsql, which cost
-- about a fifth of an append's throughput; plpgsql keeps its plan for the session.
CREATE FUNCTION portal_event_hash(previous bytea, tenant uuid, stream text, version bigint, event_type text,
                                  schema_version smallint, data jsonb, metadata jsonb, recorded_at timestamptz)
RETURNS bytea LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
BEGIN
    RETURN sha256(convert_to(concat_ws(E'\n',
        'portal-event/v1',
        encode(coalesce(previous, ''::bytea), 'hex'),
        tenant::text,
        stream,
        version::text,
        event_type,
        schema_version::text,
        data::text,
        metadata::text,
        (extract(epoch FROM recorded_at) * 1000000)::bigint::text
    ), 'UTF8'));
END;
$$;

-- Events written before this migration get their hashes now, stream by stream in version order. This is the one
-- time rows of the log are updated; the append-only trigger is set aside for it and back in place before commit.
ALTER TABLE events DISABLE TRIGGER events_no_update_or_delete;
DO $$
DECLARE
    row       record;
    previous  bytea;
    stream    text := NULL;
BEGIN
    FOR row IN SELECT * FROM events ORDER BY stream_id, stream_version LOOP
        IF row.stream_id IS DISTINCT FROM stream THEN
            previous := NULL;
            stream := row.stream_id;
        END IF;
        previous := portal_event_hash(previous, row.tenant_id, row.stream_id, row.stream_version, row.event_type,
                                      row.schema_version, row.data, row.metadata, row.recorded_at);
        UPDATE events SET hash = previous WHERE position = row.position;
    END LOOP;
END;
$$;
ALTER TABLE events ENABLE TRIGGER events_no_update_or_delete;
ALTER TABLE events ALTER COLUMN hash SET NOT NULL;

-- Checkpoints over the global order (transaction id, position): each covers the events after the previous one,
-- up to and including the event at `last_position`. chain_hash = SHA-256 over the previous checkpoint's chain_hash
-- and each covered event's position and hash; signature = HMAC-SHA256 of it under the server's checkpoint key.
CREATE TABLE log_checkpoints (
    sequence       bigint PRIMARY KEY CHECK (sequence > 0),
    last_position  bigint      NOT NULL,
    event_count    bigint      NOT NULL CHECK (event_count > 0),
    chain_hash     bytea       NOT NULL,
    signature      bytea       NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now()
);

CREATE TRIGGER log_checkpoints_no_update_or_delete
    BEFORE UPDATE OR DELETE ON log_checkpoints
    FOR EACH ROW EXECUTE FUNCTION events_are_append_only();

CREATE TRIGGER log_checkpoints_no_truncate
    BEFORE TRUNCATE ON log_checkpoints
    FOR EACH STATEMENT EXECUTE FUNCTION events_are_append_only();

-- portal_append as in 0009, but each event gets its chained hash, and a commit may erase people's data keys
-- (`erase`: subject ids) and blank the outbox messages addressed to them (`scrub_recipients`).
CREATE OR REPLACE FUNCTION portal_append(commit jsonb) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
    claim      jsonb;
    write      jsonb;
    owner      text;
    actual     bigint;
    start      bigint;
    written    bigint;
    last_pos   bigint := 0;
    versions   jsonb := '[]'::jsonb;
    tenant     uuid := (commit->>'tenant')::uuid;
    previous   bytea;
    event      jsonb;
    n          bigint;
BEGIN
    -- Releases first, so that a commit may give up one value and claim another of the same kind.
    DELETE FROM unique_claims u
    USING jsonb_array_elements(coalesce(commit->'releases', '[]'::jsonb)) AS r
    WHERE u.scope = (r->>'scope')::uuid AND u.kind = r->>'kind' AND u.key_hash = decode(r->>'key', 'hex')
      AND u.owner_stream = r->>'owner';

    FOR claim IN
        SELECT value FROM jsonb_array_elements(coalesce(commit->'claims', '[]'::jsonb))
        ORDER BY value->>'scope', value->>'kind', value->>'key'
    LOOP
        INSERT INTO unique_claims (scope, kind, key_hash, owner_stream)
        VALUES ((claim->>'scope')::uuid, claim->>'kind', decode(claim->>'key', 'hex'), claim->>'owner')
        ON CONFLICT DO NOTHING;
        IF NOT FOUND THEN
            SELECT owner_stream INTO owner FROM unique_claims
            WHERE scope = (claim->>'scope')::uuid AND kind = claim->>'kind' AND key_hash = decode(claim->>'key', 'hex');
            IF owner IS DISTINCT FROM claim->>'owner' THEN
                RAISE EXCEPTION 'claim_taken' USING ERRCODE = 'PA409',
                    DETAIL = jsonb_build_object('kind', claim->>'kind', 'owner', owner)::text;
            END IF;
        END IF;
    END LOOP;

    -- Streams in a fixed order, so that two multi-stream commits cannot deadlock on each other.
    FOR write IN
        SELECT value FROM jsonb_array_elements(commit->'writes')
        WHERE jsonb_array_length(value->'events') > 0
        ORDER BY value->>'stream'
    LOOP
        SELECT max(stream_version) INTO actual FROM events WHERE stream_id = write->>'stream';
        IF (write->'expected'->>'kind' = 'no_stream' AND actual IS NOT NULL)
           OR (write->'expected'->>'kind' = 'exact'
               AND coalesce(actual, 0) <> (write->'expected'->>'version')::bigint) THEN
            RAISE EXCEPTION 'wrong_expected_version' USING ERRCODE = 'PA412',
                DETAIL = jsonb_build_object('stream', write->>'stream', 'actual', actual)::text;
        END IF;
        start := coalesce(actual, 0);
        -- Each event's hash covers the previous event's hash of its stream: the chain breaks at any altered row.
        SELECT hash INTO previous FROM events WHERE stream_id = write->>'stream' AND stream_version = start;
        FOR event, n IN
            SELECT e.v, e.n FROM jsonb_array_elements(write->'events') WITH ORDINALITY AS e(v, n) ORDER BY e.n
        LOOP
            previous := portal_event_hash(previous, tenant, write->>'stream', start + n, event->>'type',
                                          (event->>'version')::smallint, event->'data', commit->'metadata', now());
            INSERT INTO events (tenant_id, stream_id, stream_version, event_type, schema_version, data, metadata,
                                recorded_at, hash)
            VALUES (tenant, write->>'stream', start + n, event->>'type', (event->>'version')::smallint,
                    event->'data', commit->'metadata', now(), previous)
            RETURNING position INTO written;
        END LOOP;
        last_pos := greatest(last_pos, written);
        versions := versions || jsonb_build_array(
            jsonb_build_array(write->>'stream', start + jsonb_array_length(write->'events')));
    END LOOP;

    IF jsonb_typeof(commit->'command') = 'object' THEN
        INSERT INTO commands (command_id, tenant_id, fingerprint, outcome, last_position)
        VALUES ((commit->'command'->>'id')::uuid, tenant, decode(commit->'command'->>'fingerprint', 'hex'),
                commit->'command'->'outcome', last_pos)
        ON CONFLICT (command_id) DO NOTHING;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'command_exists' USING ERRCODE = 'PA208',
                DETAIL = jsonb_build_object('command_id', commit->'command'->>'id')::text;
        END IF;
    END IF;

    INSERT INTO outbox (id, tenant_id, channel, recipient, subject, body, due_at)
    SELECT (m->>'id')::uuid, tenant, m->>'channel', m->>'recipient', m->>'subject', m->>'body',
           (m->>'due_at')::timestamptz
    FROM jsonb_array_elements(coalesce(commit->'outbox', '[]'::jsonb)) AS m;

    -- Messages of earlier commits withdrawn by this one (a reminder of an appointment that moved or was cancelled).
    UPDATE outbox SET status = 'withdrawn'
    WHERE status = 'pending'
      AND id IN (SELECT value::uuid FROM jsonb_array_elements_text(coalesce(commit->'withdraw', '[]'::jsonb)));

    -- Erasure: the people's data keys go, so their personal data in the log can never be read again, and the
    -- messages addressed to them lose their address and text.
    DELETE FROM subject_keys
    WHERE subject_id IN (SELECT value::uuid FROM jsonb_array_elements_text(coalesce(commit->'erase', '[]'::jsonb)));
    UPDATE outbox SET recipient = '', subject = '', body = '',
                      status = CASE WHEN status = 'pending' THEN 'withdrawn' ELSE status END
    WHERE recipient IN (SELECT value FROM jsonb_array_elements_text(coalesce(commit->'scrub_recipients', '[]'::jsonb)));

    RETURN jsonb_build_object('last_position', last_pos, 'versions', versions);
END;
$$;
