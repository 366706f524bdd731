-- A commit may withdraw outbox messages of earlier commits that are still pending (the reminders of an appointment
-- that was moved or cancelled): they are marked 'withdrawn' and never sent. portal_append is the same as in 0003
-- but for that step.
ALTER TABLE outbox DROP CONSTRAINT outbox_status_check;
ALTER TABLE outbox ADD CONSTRAINT outbox_status_check CHECK (status IN ('pending', 'sent', 'failed', 'withdrawn'));

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
        WITH inserted AS (
            INSERT INTO events (tenant_id, stream_id, stream_version, event_type, schema_version, data, metadata)
            SELECT tenant, write->>'stream', start + e.n, e.v->>'type', (e.v->>'version')::smallint, e.v->'data',
                   commit->'metadata'
            FROM jsonb_array_elements(write->'events') WITH ORDINALITY AS e(v, n)
            ORDER BY e.n
            RETURNING position
        )
        SELECT max(position) INTO written FROM inserted;
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

    RETURN jsonb_build_object('last_position', last_pos, 'versions', versions);
END;
$$;
