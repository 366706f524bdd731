-- Erasure by key, and the access log of reads of patients' data.

-- An erased person's rows keep their ids and times; every personal column reads NULL, the clinic number included
-- (PatientRegistered v2 encrypts it with the patient's key).
ALTER TABLE patients ALTER COLUMN clinic_number DROP NOT NULL;
ALTER TABLE accounts ADD COLUMN erased_at timestamptz;

-- Who read which patient's data, when and from where (HIPAA 45 CFR 164.312(b), audit controls). Rows are only
-- ever inserted, in the request that reads, before the data leaves the server; auditors query them.
CREATE TABLE access_log (
    id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    organization_id    uuid        NOT NULL,
    at                 timestamptz NOT NULL DEFAULT now(),
    -- Who: the account that read, and its role then.
    actor_id           uuid        NOT NULL,
    actor_role         text        NOT NULL,
    -- Whose data: the patient's account and/or patient record, or a sign-up request (a would-be patient).
    patient_account_id uuid,
    patient_record_id  uuid,
    signup_request_id  uuid,
    -- What: the kind of data, and the API field that returned it.
    resource           text        NOT NULL,
    field              text        NOT NULL,
    -- From where.
    client_ip          text,
    user_agent         text,
    correlation_id     uuid,
    CHECK (patient_account_id IS NOT NULL OR patient_record_id IS NOT NULL OR signup_request_id IS NOT NULL)
);

CREATE INDEX access_log_patient_account ON access_log (organization_id, patient_account_id, at);
CREATE INDEX access_log_patient_record ON access_log (organization_id, patient_record_id, at);
CREATE INDEX access_log_signup_request ON access_log (organization_id, signup_request_id, at);
CREATE INDEX access_log_actor ON access_log (organization_id, actor_id, at);

CREATE TRIGGER access_log_no_update_or_delete
    BEFORE UPDATE OR DELETE ON access_log
    FOR EACH ROW EXECUTE FUNCTION events_are_append_only();

CREATE TRIGGER access_log_no_truncate
    BEFORE TRUNCATE ON access_log
    FOR EACH STATEMENT EXECUTE FUNCTION events_are_append_only();

-- Analysts see when accounts were erased, never the access log.
CREATE OR REPLACE FUNCTION portal_grant_analyst() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    GRANT USAGE ON SCHEMA public, analytics TO portal_analyst;
    GRANT SELECT ON ALL TABLES IN SCHEMA analytics TO portal_analyst;
    GRANT SELECT ON organizations, organization_terms, calendar_activities, transcript_activities,
                    transcript_entries, catalogue_entries, slots, appointments, waitlist_entries, account_lockouts,
                    projection_checkpoints
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
END;
$$;

SELECT portal_grant_analyst();
REVOKE ALL ON access_log FROM portal_analyst;
