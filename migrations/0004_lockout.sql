-- Read model: lockout state per account.
CREATE TABLE account_lockouts (
    account_id       uuid PRIMARY KEY,
    organization_id  uuid        NOT NULL,
    failure_count    integer     NOT NULL DEFAULT 0,
    last_failure_at  timestamptz,
    locked_since     timestamptz,
    lock_kind        text CHECK (lock_kind IN ('until_staff_unlock', 'cool_down')),
    unlock_at        timestamptz,
    -- Disabled by staff: wrong passwords then do not count, as in the decider.
    disabled         boolean     NOT NULL DEFAULT false
);

CREATE INDEX account_lockouts_locked
    ON account_lockouts (organization_id, locked_since DESC, account_id)
    WHERE locked_since IS NOT NULL;

-- Read model: every sign-in attempt on an existing account, with where it came from.
CREATE TABLE sign_in_attempts (
    position         bigint PRIMARY KEY,
    account_id       uuid        NOT NULL,
    organization_id  uuid        NOT NULL,
    at               timestamptz NOT NULL,
    outcome          text        NOT NULL,
    client_ip        text,
    user_agent       text
);

CREATE INDEX sign_in_attempts_account ON sign_in_attempts (account_id, at DESC, position DESC);
