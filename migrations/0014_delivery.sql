-- Delivering messages for real (issue 8).
--
-- A message is now stored as its kind and the data its template is rendered with; the worker renders it when it
-- sends it, with the organization's template for that kind if it has one (so a corrected template also reaches the
-- reminders already written). Rows written before this migration keep their rendered subject and body (kind
-- 'prerendered').
ALTER TABLE outbox ADD COLUMN kind text NOT NULL DEFAULT 'prerendered';
ALTER TABLE outbox ADD COLUMN data jsonb NOT NULL DEFAULT '{}'::jsonb;
-- Held outside the organization's texting hours: due_at is then the next opening.
ALTER TABLE outbox ADD COLUMN held boolean NOT NULL DEFAULT false;
-- The provider's id of the sent message (Twilio's message SID, the SMTP server's answer).
ALTER TABLE outbox ADD COLUMN provider_id text;
ALTER TABLE outbox ADD COLUMN last_attempt_at timestamptz;
-- Whose personal data the message holds, when the address alone does not say (an appointment's reminders go to the
-- contact given for that appointment): an erasure of that person blanks it too.
ALTER TABLE outbox ADD COLUMN subject_id uuid;
CREATE INDEX outbox_subject ON outbox (subject_id) WHERE subject_id IS NOT NULL;
-- A copy made by staff to send a message again points at the original.
ALTER TABLE outbox ADD COLUMN resent_from uuid REFERENCES outbox (id);

-- 'failed' becomes 'dead': delivery gave up (a permanent refusal, or the last retry failed), with the last error.
ALTER TABLE outbox DROP CONSTRAINT outbox_status_check;
UPDATE outbox SET status = 'dead' WHERE status = 'failed';
ALTER TABLE outbox ADD CONSTRAINT outbox_status_check
    CHECK (status IN ('pending', 'sent', 'dead', 'withdrawn'));

-- Staff list their organization's messages, newest first.
CREATE INDEX outbox_tenant_created ON outbox (tenant_id, created_at DESC, id);

-- portal_append as in 0013, except that outbox messages carry their kind, data and data subject, and an erasure also
-- empties the data of the messages it scrubs and scrubs the messages about the people it erases.
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
    IF jsonb_array_length(coalesce(commit->'releases', '[]'::jsonb)) > 0 THEN
        DELETE FROM unique_claims u
        USING jsonb_array_elements(coalesce(commit->'releases', '[]'::jsonb)) AS r
        WHERE u.scope = (r->>'scope')::uuid AND u.kind = r->>'kind' AND u.key_hash = decode(r->>'key', 'hex')
          AND u.owner_stream = r->>'owner';
    END IF;

    IF jsonb_array_length(coalesce(commit->'claims', '[]'::jsonb)) > 0 THEN
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
    END IF;

    -- Streams in a fixed order, so that two multi-stream commits cannot deadlock on each other.
    FOR write IN
        SELECT value FROM jsonb_array_elements(commit->'writes')
        WHERE jsonb_array_length(value->'events') > 0
        ORDER BY value->>'stream'
    LOOP
        -- The stream's last version and hash in one index probe (the chain needs the hash below).
        SELECT stream_version, hash INTO actual, previous FROM events
        WHERE stream_id = write->>'stream' ORDER BY stream_version DESC LIMIT 1;
        IF (write->'expected'->>'kind' = 'no_stream' AND actual IS NOT NULL)
           OR (write->'expected'->>'kind' = 'exact'
               AND coalesce(actual, 0) <> (write->'expected'->>'version')::bigint) THEN
            RAISE EXCEPTION 'wrong_expected_version' USING ERRCODE = 'PA412',
                DETAIL = jsonb_build_object('stream', write->>'stream', 'actual', actual)::text;
        END IF;
        start := coalesce(actual, 0);
        -- Each event's hash covers the previous event's hash of its stream: the chain breaks at any altered row.
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

    IF jsonb_array_length(coalesce(commit->'outbox', '[]'::jsonb)) > 0 THEN
        INSERT INTO outbox (id, tenant_id, channel, recipient, subject, body, due_at, kind, data, subject_id)
        SELECT (m->>'id')::uuid, tenant, m->>'channel', m->>'recipient', coalesce(m->>'subject', ''),
               coalesce(m->>'body', ''), (m->>'due_at')::timestamptz, coalesce(m->>'kind', 'prerendered'),
               coalesce(m->'data', '{}'::jsonb), (m->>'subject_id')::uuid
        FROM jsonb_array_elements(coalesce(commit->'outbox', '[]'::jsonb)) AS m;
    END IF;

    -- Messages of earlier commits withdrawn by this one (a reminder of an appointment that moved or was cancelled).
    IF jsonb_array_length(coalesce(commit->'withdraw', '[]'::jsonb)) > 0 THEN
        UPDATE outbox SET status = 'withdrawn'
        WHERE status = 'pending'
          AND id IN (SELECT value::uuid FROM jsonb_array_elements_text(coalesce(commit->'withdraw', '[]'::jsonb)));
    END IF;

    -- Erasure: the people's data keys go, so their personal data in the log can never be read again, and the
    -- messages addressed to them lose their address and text.
    IF jsonb_array_length(coalesce(commit->'erase', '[]'::jsonb)) > 0 THEN
        DELETE FROM subject_keys
        WHERE subject_id IN (SELECT value::uuid FROM jsonb_array_elements_text(coalesce(commit->'erase', '[]'::jsonb)));
        UPDATE outbox SET recipient = '', subject = '', body = '', data = '{}'::jsonb,
                          status = CASE WHEN status = 'pending' THEN 'withdrawn' ELSE status END
        WHERE subject_id IN (SELECT value::uuid FROM jsonb_array_elements_text(coalesce(commit->'erase', '[]'::jsonb)));
    END IF;
    IF jsonb_array_length(coalesce(commit->'scrub_recipients', '[]'::jsonb)) > 0 THEN
        UPDATE outbox SET recipient = '', subject = '', body = '', data = '{}'::jsonb,
                          status = CASE WHEN status = 'pending' THEN 'withdrawn' ELSE status END
        WHERE recipient IN (SELECT value FROM jsonb_array_elements_text(coalesce(commit->'scrub_recipients', '[]'::jsonb)));
    END IF;

    RETURN jsonb_build_object('last_position', last_pos, 'versions', versions);
END;
$$;

