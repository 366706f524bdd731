-- Online bill pay (issue 23, item 5): payments the processor reports through its webhook land in `payments` as
-- staff-entered ones do; its refunds land in `refunds`, and each payment keeps how much of it was refunded. The
-- organization's processor account is in the log only (PaymentProcessorSet, sealed), never in a read model.
ALTER TABLE payments ADD COLUMN refunded_cents bigint NOT NULL DEFAULT 0;

CREATE TABLE refunds (
    id                  uuid PRIMARY KEY,
    statement_id        uuid        NOT NULL,
    payment_id          uuid        NOT NULL,
    organization_id     uuid        NOT NULL,
    patient_id          uuid        NOT NULL,
    amount_cents        bigint      NOT NULL,
    processor_reference text        NOT NULL,
    refunded_at         timestamptz NOT NULL,
    recorded_at         timestamptz NOT NULL
);
CREATE INDEX refunds_statement ON refunds (statement_id, refunded_at);

-- As in 0015, with the refunds and what was refunded of each payment.
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
    GRANT SELECT (id, statement_id, organization_id, patient_id, amount_cents, paid_at, recorded_at, refunded_cents)
        ON payments TO portal_analyst;
    GRANT SELECT (id, statement_id, payment_id, organization_id, patient_id, amount_cents, refunded_at, recorded_at)
        ON refunds TO portal_analyst;
    GRANT SELECT (id, organization_id, patient_id, prescriber_id, active, prescribed_at, discontinued_at)
        ON medications TO portal_analyst;
    GRANT SELECT (id, medication_id, organization_id, patient_id, requested_at, status, decided_by, decided_at)
        ON renewal_requests TO portal_analyst;
END;
$$;

SELECT portal_grant_analyst();
