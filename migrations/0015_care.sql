-- The patient portal beyond scheduling (issue 10): conversations with the care team, test results, statements and
-- payments, medications and renewal requests, proxies, and care teams. All of it is read model, written by the
-- `care` projection; personal columns are blanked when the patient is erased.

CREATE TABLE care_team_members (
    team_id          uuid NOT NULL,
    organization_id  uuid NOT NULL,
    account_id       uuid NOT NULL,
    PRIMARY KEY (team_id, account_id)
);
CREATE INDEX care_team_members_account ON care_team_members (account_id);

CREATE TABLE conversations (
    id               uuid PRIMARY KEY,
    organization_id  uuid        NOT NULL,
    patient_id       uuid        NOT NULL,
    team_id          uuid        NOT NULL,
    -- Personal: NULL once the patient is erased.
    subject          text,
    status           text        NOT NULL CHECK (status IN ('open', 'closed')),
    assignee_id      uuid,
    started_at       timestamptz NOT NULL,
    started_by_proxy uuid,
    last_message_at  timestamptz NOT NULL,
    -- Kept by the projection, so that lists do not count every message of every conversation.
    message_count    integer     NOT NULL DEFAULT 0,
    closed_at        timestamptz,
    -- NULL: closed for inactivity.
    closed_by        uuid
);
CREATE INDEX conversations_patient ON conversations (patient_id, last_message_at DESC);
CREATE INDEX conversations_team ON conversations (team_id, last_message_at DESC);
CREATE INDEX conversations_idle ON conversations (last_message_at) WHERE status = 'open';

CREATE TABLE conversation_messages (
    id               uuid PRIMARY KEY,
    conversation_id  uuid        NOT NULL,
    organization_id  uuid        NOT NULL,
    -- The log position: the order of messages.
    seq              bigint      NOT NULL,
    from_patient     boolean     NOT NULL,
    -- The member who wrote it, or the proxy who wrote for the patient (NULL: the patient).
    author_id        uuid,
    -- Personal: NULL once the patient is erased.
    body             text,
    attachment       text,
    sent_at          timestamptz NOT NULL,
    -- When the other side read it.
    read_at          timestamptz
);
CREATE INDEX conversation_messages_conversation ON conversation_messages (conversation_id, seq);
-- Unread counts look only at the messages not read yet: few, whatever the length of the conversation.
CREATE INDEX conversation_messages_unread ON conversation_messages (conversation_id, from_patient)
    WHERE read_at IS NULL;

CREATE TABLE test_results (
    id                   uuid PRIMARY KEY,
    organization_id      uuid        NOT NULL,
    patient_id           uuid        NOT NULL,
    test_code            text        NOT NULL,
    -- Personal: NULL once the patient is erased.
    test_name            text,
    value                text,
    unit                 text,
    report               text,
    flag                 text,
    reference_range      text,
    ordering_provider_id uuid        NOT NULL,
    observed_at          timestamptz NOT NULL,
    recorded_at          timestamptz NOT NULL,
    recorded_by          uuid        NOT NULL,
    release_due_at       timestamptz,
    released_at          timestamptz,
    -- The provider, or NULL with released_at set: released by itself.
    released_by          uuid
);
CREATE INDEX test_results_patient ON test_results (patient_id, test_code, observed_at DESC);
CREATE INDEX test_results_due ON test_results (release_due_at) WHERE released_at IS NULL;

CREATE TABLE statements (
    id               uuid PRIMARY KEY,
    organization_id  uuid        NOT NULL,
    patient_id       uuid        NOT NULL,
    -- Personal: [{"description", "amount_cents"}], NULL once the patient is erased.
    items            jsonb,
    total_cents      bigint      NOT NULL,
    balance_cents    bigint      NOT NULL,
    due_on           date        NOT NULL,
    issued_at        timestamptz NOT NULL
);
CREATE INDEX statements_patient ON statements (patient_id, issued_at DESC);

CREATE TABLE payments (
    id               uuid PRIMARY KEY,
    statement_id     uuid        NOT NULL,
    organization_id  uuid        NOT NULL,
    patient_id       uuid        NOT NULL,
    amount_cents     bigint      NOT NULL,
    processor_reference text     NOT NULL,
    paid_at          timestamptz NOT NULL,
    recorded_at      timestamptz NOT NULL
);
CREATE INDEX payments_statement ON payments (statement_id, paid_at);

CREATE TABLE billing_preferences (
    patient_id       uuid PRIMARY KEY,
    organization_id  uuid        NOT NULL,
    paperless        boolean     NOT NULL,
    changed_at       timestamptz NOT NULL
);

CREATE TABLE medications (
    id               uuid PRIMARY KEY,
    organization_id  uuid        NOT NULL,
    patient_id       uuid        NOT NULL,
    -- Personal: NULL once the patient is erased.
    name             text,
    instructions     text,
    prescriber_id    uuid        NOT NULL,
    active           boolean     NOT NULL,
    prescribed_at    timestamptz NOT NULL,
    discontinued_at  timestamptz
);
CREATE INDEX medications_patient ON medications (patient_id, prescribed_at DESC);

CREATE TABLE renewal_requests (
    id               uuid PRIMARY KEY,
    medication_id    uuid        NOT NULL,
    organization_id  uuid        NOT NULL,
    patient_id       uuid        NOT NULL,
    -- Personal: NULL once the patient is erased.
    note             text,
    requested_at     timestamptz NOT NULL,
    requested_by_proxy uuid,
    status           text        NOT NULL CHECK (status IN ('pending', 'approved', 'declined')),
    decided_by       uuid,
    decided_at       timestamptz,
    -- Personal.
    decline_reason   text
);
CREATE INDEX renewal_requests_medication ON renewal_requests (medication_id, requested_at);
CREATE INDEX renewal_requests_pending ON renewal_requests (organization_id, requested_at) WHERE status = 'pending';

CREATE TABLE proxy_grants (
    patient_id       uuid        NOT NULL,
    proxy_id         uuid        NOT NULL,
    organization_id  uuid        NOT NULL,
    scope            text        NOT NULL CHECK (scope IN ('scheduling', 'scheduling_and_messages', 'all')),
    ends_on          date        NOT NULL,
    granted_at       timestamptz NOT NULL,
    PRIMARY KEY (patient_id, proxy_id)
);
CREATE INDEX proxy_grants_proxy ON proxy_grants (proxy_id);

-- Analysts see the care tables without their personal columns.
CREATE OR REPLACE FUNCTION portal_grant_analyst() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    GRANT USAGE ON SCHEMA public, analytics TO portal_analyst;
    GRANT SELECT ON ALL TABLES IN SCHEMA analytics TO portal_analyst;
    GRANT SELECT ON organizations, organization_terms, calendar_activities, transcript_activities,
                    transcript_entries, catalogue_entries, slots, appointments, waitlist_entries, account_lockouts,
                    projection_checkpoints, care_team_members, billing_preferences, proxy_grants
        TO portal_analyst;
    GRANT SELECT (id, organization_id, role, status, registered_at, activated_at, last_signed_in_at,
                  missing_profile_fields, disabled, board_consented_at, terms_accepted_version, two_step, erased_at)
        ON accounts TO portal_analyst;
    GRANT SELECT (account_id, organization_id, verified, added_at) ON account_phones TO portal_analyst;
    GRANT SELECT (position, account_id, organization_id, at, outcome) ON sign_in_attempts TO portal_analyst;
    GRANT SELECT (id, organization_id, account_id, registered_at, signed_up_at, failed_sign_ups,
                  sign_up_locked, sign_up_locked_until)
        ON patients TO portal_analyst;
    GRANT SELECT (id, organization_id, status, submitted_at, decided_at, decided_by, patient_id)
        ON signup_requests TO portal_analyst;
    GRANT SELECT (id, organization_id, patient_id, team_id, status, assignee_id, started_at, last_message_at,
                  message_count, closed_at) ON conversations TO portal_analyst;
    GRANT SELECT (id, conversation_id, organization_id, seq, from_patient, sent_at, read_at)
        ON conversation_messages TO portal_analyst;
    GRANT SELECT (id, organization_id, patient_id, test_code, ordering_provider_id, observed_at, recorded_at,
                  release_due_at, released_at) ON test_results TO portal_analyst;
    GRANT SELECT (id, organization_id, patient_id, total_cents, balance_cents, due_on, issued_at)
        ON statements TO portal_analyst;
    GRANT SELECT (id, statement_id, organization_id, patient_id, amount_cents, paid_at, recorded_at)
        ON payments TO portal_analyst;
    GRANT SELECT (id, organization_id, patient_id, prescriber_id, active, prescribed_at, discontinued_at)
        ON medications TO portal_analyst;
    GRANT SELECT (id, medication_id, organization_id, patient_id, requested_at, status, decided_by, decided_at)
        ON renewal_requests TO portal_analyst;
END;
$$;

SELECT portal_grant_analyst();
