-- Changes of name (issue 23, item 6): every name an account has had, with the day each took effect (NameChanged),
-- so that transcripts and board reports show the name in force on each activity's date. The registered name takes
-- effect from the beginning ('-infinity'). Personal data: blanked when the person is erased; not granted to analysts.
CREATE TABLE account_names (
    account_id      uuid        NOT NULL,
    organization_id uuid        NOT NULL,
    effective_on    date        NOT NULL,
    -- A later record for the same day wins.
    recorded_at     timestamptz NOT NULL,
    title           text,
    first_name      text,
    middle_name     text,
    last_name       text,
    PRIMARY KEY (account_id, effective_on, recorded_at)
);

-- Accounts registered before this migration: their name as it stands, from the beginning.
INSERT INTO account_names (account_id, organization_id, effective_on, recorded_at, title, first_name, middle_name,
                           last_name)
SELECT id, organization_id, '-infinity', registered_at, title, first_name, middle_name, last_name FROM accounts;
