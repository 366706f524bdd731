-- Auditors and analysts (issue 6): no-shows, erasure by key, the access log of reads of patients' data, and a
-- read-only database role for analysts over the read models (never the log, the keys, the outbox or the access log)
-- with views for the common questions. Grants to it are made by portal_grant_analyst(), which a projection rebuild
-- calls again for the fresh tables it switches to.

-- No-shows: staff record that a patient did not come (AppointmentMissed).
ALTER TABLE appointments DROP CONSTRAINT appointments_status_check;
ALTER TABLE appointments ADD CONSTRAINT appointments_status_check
    CHECK (status IN ('booked', 'cancelled', 'no_show'));
ALTER TABLE appointments ADD COLUMN missed_at timestamptz;

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

-- Roles belong to the whole server, not to one database: several databases (and concurrent migrations) share it.
DO $$
BEGIN
    CREATE ROLE portal_analyst NOLOGIN;
EXCEPTION WHEN duplicate_object OR unique_violation THEN
    NULL;
END;
$$;

CREATE SCHEMA analytics;

-- The views over the read models, made by a function: a projection rebuild swaps in fresh tables and calls it
-- again, since a view is bound to the tables it was made over.
CREATE FUNCTION portal_analytics_views() RETURNS void LANGUAGE plpgsql AS $fn$
BEGIN
    -- Credits awarded per organization, month (of the award) and credit type.
    CREATE OR REPLACE VIEW analytics.credits_awarded_per_month AS
    SELECT e.organization_id,
           date_trunc('month', e.awarded_at)::date AS month,
           e.credit_type,
           count(DISTINCT e.learner_id)            AS learners,
           count(*)                                AS awards,
           sum(e.amount)                           AS credits
    FROM public.transcript_entries e
    WHERE e.status = 'awarded'
    GROUP BY 1, 2, 3;

    -- Attendance per activity: learners who recorded it, by channel, and how many of them have their credit.
    CREATE OR REPLACE VIEW analytics.attendance_per_activity AS
    SELECT c.organization_id,
           c.id                                                                    AS activity_id,
           c.title,
           c.starts_at,
           c.status                                                                AS activity_status,
           count(DISTINCT t.learner_id)                                            AS attendees,
           count(DISTINCT t.learner_id) FILTER (WHERE t.channel = 'sms')           AS by_text,
           count(DISTINCT t.learner_id) FILTER (WHERE t.channel = 'web')           AS on_the_web,
           count(DISTINCT t.learner_id) FILTER (WHERE t.channel = 'staff')         AS by_staff,
           count(DISTINCT t.learner_id) FILTER (WHERE t.status = 'awarded')        AS awarded,
           count(DISTINCT t.learner_id) FILTER (WHERE t.status = 'pending')        AS pending
    FROM public.calendar_activities c
    LEFT JOIN public.transcript_entries t ON t.activity_id = c.id
    GROUP BY c.organization_id, c.id, c.title, c.starts_at, c.status;

    -- Appointments per department (of the provider seen) and month of the visit: booked (still on the books),
    -- cancelled, no-shows. A provider in two departments counts in both.
    CREATE OR REPLACE VIEW analytics.appointments_per_department AS
    SELECT a.organization_id,
           d.id                                               AS department_id,
           d.name                                             AS department,
           date_trunc('month', a.starts_at)::date             AS month,
           count(*)                                           AS appointments,
           count(*) FILTER (WHERE a.status = 'booked')        AS booked,
           count(*) FILTER (WHERE a.status = 'cancelled')     AS cancelled,
           count(*) FILTER (WHERE a.status = 'no_show')       AS no_shows
    FROM public.appointments a
    JOIN public.catalogue_entries p ON p.id = a.provider_id
    JOIN public.catalogue_entries d ON d.id = ANY (p.departments) AND d.kind = 'department'
    GROUP BY 1, 2, 3, 4;
END;
$fn$;

SELECT portal_analytics_views();

-- What analysts may read. Personal data stays out: where a read model holds it (names, e-mail, phone, date of
-- birth, clinic number, profile, client addresses), only the other columns are granted.
CREATE FUNCTION portal_grant_analyst() RETURNS void LANGUAGE plpgsql AS $$
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

-- Nothing of the write side, whatever a later GRANT ... ON ALL TABLES might do.
REVOKE ALL ON events, commands, unique_claims, subject_keys, outbox, server_settings, log_checkpoints,
              session_activity, schema_migrations, access_log
    FROM portal_analyst;
REVOKE EXECUTE ON FUNCTION portal_append(jsonb) FROM PUBLIC;
