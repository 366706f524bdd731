-- The application's own database role: the server's connections act as portal_app, which may read and append to
-- the audit trail (events, log_checkpoints, access_log) but never change or remove a row of it, create nothing,
-- and only read the server's settings. Migrations, rebuilds and the operator's commands run as the owner (the
-- login of DATABASE_URL).

DO $$
BEGIN
    CREATE ROLE portal_app NOLOGIN;
EXCEPTION WHEN duplicate_object OR unique_violation THEN
    NULL;
END;
$$;

-- The owner switches its server connections to portal_app (`-c role=portal_app`), so it must be a member.
DO $$
BEGIN
    EXECUTE format('GRANT portal_app TO %I', current_user);
EXCEPTION WHEN OTHERS THEN
    -- Already a member, or another database's migration granted it at the same moment.
    NULL;
END;
$$;

-- Nobody but the owner creates objects in the schema.
REVOKE CREATE ON SCHEMA public FROM PUBLIC;

-- Each access-log row is chained to the one before: an HMAC, under a key derived from the master key (which the
-- database never holds), over the previous row's hash and the row's fields. Rows written before this migration
-- have none; `portal log verify` checks the chain from the first row that has one.
ALTER TABLE access_log ADD COLUMN hash bytea;

-- What portal_app may do, made by a function: a projection rebuild swaps in fresh tables and calls it again, as it
-- does portal_grant_analyst.
CREATE FUNCTION portal_grant_app() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    GRANT USAGE ON SCHEMA public TO portal_app;
    GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO portal_app;
    GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO portal_app;
    GRANT EXECUTE ON FUNCTION portal_append(jsonb), portal_append_group(jsonb) TO portal_app;
    -- The audit trail: read and append only.
    REVOKE UPDATE, DELETE, TRUNCATE ON events, log_checkpoints, access_log FROM portal_app;
    -- The installation's settings and the migrations: the owner's.
    REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON server_settings, schema_migrations FROM portal_app;
END;
$$;

SELECT portal_grant_app();
